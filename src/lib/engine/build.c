/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build executor (see build.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/build-config.h"
#include "engine/build.h"
#include "engine/commit.h"
#include "engine/containerfile.h"
#include "engine/system.h"
#include "image/db-internal.h" /* the build cache lives in the image database */
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define BUILD_CACHE_SCHEMA                                                            \
  "CREATE TABLE IF NOT EXISTS build_cache ("                                          \
  "  key TEXT PRIMARY KEY,"                                                           \
  "  image_id TEXT NOT NULL)"

struct stage
{
  char *name;                          /* AS name, or NULL */
  char image_id[ARCA_DIGEST_LEN + 1];  /* "" while a scratch stage has no image */
  json_t *config;                      /* the "config" object */
  char **args;                         /* ARGs declared in the stage: NAME=VALUE or NAME */
  size_t n_args;
  bool cmd_set;
};

struct builder
{
  struct arca_engine *e;
  const struct arca_build_options *o;
  struct arca_containerfile *cf;
  int context_fd;
  struct arca_ignore ignore;
  char **global_args;                  /* before the first FROM */
  size_t n_global_args;
  struct stage *stages;
  size_t n_stages;
  size_t step, total;
};

/* ---- args and variables ------------------------------------------------------ */

/* The --build-arg value of name, or NULL. */
static const char *
build_arg (struct builder *b, const char *name, size_t len)
{
  for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++)
    {
      const char *a = b->o->build_args[i];
      if (strncmp (a, name, len) == 0 && (a[len] == '=' || a[len] == '\0'))
        return a[len] == '=' ? a + len + 1 : getenv (a);
    }
  return NULL;
}

static const char *
args_lookup (char **args, size_t n, const char *name, size_t len)
{
  /* The last declaration wins. */
  for (size_t i = n; i-- > 0;)
    if (strncmp (args[i], name, len) == 0 && (args[i][len] == '=' || args[i][len] == '\0'))
      return args[i][len] == '=' ? args[i] + len + 1 : NULL;
  return NULL;
}

struct lookup_ctx
{
  struct builder *b;
  struct stage *s; /* NULL: only the global args (FROM) */
};

static const char *
lookup (const char *name, size_t len, void *userdata)
{
  struct lookup_ctx *l = userdata;

  if (l->s)
    {
      const char *v = arca_build_config_env (l->s->config, name, len);
      if (v)
        return v;
      return args_lookup (l->s->args, l->s->n_args, name, len);
    }
  return args_lookup (l->b->global_args, l->b->n_global_args, name, len);
}

static int
push_arg (char ***v, size_t *n, const char *s, arca_error **err)
{
  return arca_strv_append (v, n, s) < 0 ? arca_error_errno (err, "build") : 0;
}

/* ARG NAME[=DEFAULT]: the --build-arg wins, then the default, then (in a
 * stage) the global ARG of the same name. */
static int
declare_arg (struct builder *b, struct stage *s, const struct arca_cf_instruction *ins,
             arca_error **err)
{
  const char *word = ins->args[0];
  size_t nlen = strcspn (word, "=");
  cleanup_free char *name = strndup (word, nlen), *def = NULL, *kv = NULL;
  struct lookup_ctx l = { b, s };

  if (name == NULL)
    return arca_error_set (err, ENOMEM, "build");
  if (word[nlen] == '=' && arca_cf_expand (word + nlen + 1, b->cf->escape, lookup, &l, &def, err) < 0)
    return arca_error_wrap (err, "%s:%u", b->cf->name, ins->line);
  const char *value = build_arg (b, name, nlen);
  if (value == NULL)
    value = def;
  if (value == NULL && s)
    value = args_lookup (b->global_args, b->n_global_args, name, nlen);
  if ((value ? asprintf (&kv, "%s=%s", name, value) : asprintf (&kv, "%s", name)) < 0)
    return arca_error_set (err, ENOMEM, "build");
  return s ? push_arg (&s->args, &s->n_args, kv, err)
           : push_arg (&b->global_args, &b->n_global_args, kv, err);
}

/* ---- cache --------------------------------------------------------------------- */

static int
cache_key (struct stage *s, const struct arca_cf_instruction *ins, const char *extra,
           char *ret_key, arca_error **err)
{
  _cleanup_ (arca_digester_freep) arca_digester *d = NULL;

  if (arca_digester_new (&d, err) < 0)
    return -1;
  arca_digester_update (d, s->image_id, strlen (s->image_id) + 1);
  arca_digester_update (d, ins->text, strlen (ins->text) + 1);
  for (size_t i = 0; i < s->n_args; i++)
    arca_digester_update (d, s->args[i], strlen (s->args[i]) + 1);
  /* A scratch stage's pending config is part of what a step builds on. */
  if (s->image_id[0] == '\0')
    {
      cleanup_free char *c = json_dumps (s->config, JSON_COMPACT | JSON_SORT_KEYS);
      if (c)
        arca_digester_update (d, c, strlen (c) + 1);
    }
  if (extra)
    arca_digester_update (d, extra, strlen (extra) + 1);
  return arca_digester_final (d, ret_key, err);
}

/* 1 and the image id when the step is cached, 0 when not. */
static int
cache_get (struct builder *b, const char *key, char *ret_id, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { key, NULL };

  if (b->o->no_cache)
    return 0;
  if (arca_db_prepare (b->e->db, "SELECT image_id FROM build_cache WHERE key = ?1", &st, err) < 0
      || arca_db_bind_texts (b->e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return 0;
  const char *id = (const char *) sqlite3_column_text (st, 0);
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  cleanup_error arca_error *gone = NULL;
  /* The image may have been removed since (rmi, prune). */
  if (id == NULL || arca_db_get_image (b->e->db, id, &img, &gone) < 0)
    return 0;
  snprintf (ret_id, ARCA_DIGEST_LEN + 1, "%s", id);
  return 1;
}

static int
cache_put (struct builder *b, const char *key, const char *id, arca_error **err)
{
  const char *v[] = { key, id, NULL };
  return arca_db_exec (b->e->db, "INSERT OR REPLACE INTO build_cache (key, image_id) VALUES (?1, ?2)",
                       v, err);
}

/* ---- work containers -------------------------------------------------------------- */

#define BUILD_CONTAINER_PREFIX "arca-build-"
#define BUILD_LOCK "build.lock"

struct work
{
  struct arca_engine *e;
  char id[ARCA_ENGINE_ID_LEN + 1]; /* a container, or "" */
  char *tmp;                       /* a scratch root, or NULL */
  int lock_fd;                     /* held while the container is ours */
};

/* Always removed, whatever happened: no mounts, cgroups or rows stay. */
static void
work_release (struct work *w)
{
  cleanup_error arca_error *ignored = NULL;
  if (w->id[0])
    arca_engine_remove (w->e, w->id, true, &ignored);
  w->id[0] = '\0';
  if (w->lock_fd >= 0)
    close (w->lock_fd);
  w->lock_fd = -1;
  if (w->tmp)
    arca_rm_rf_at (AT_FDCWD, w->tmp, NULL);
  free (w->tmp);
  w->tmp = NULL;
}

/* A container of image_id (not started) whose merged root is written, or
 * for scratch a plain directory. */
static int
work_open (struct builder *b, const char *image_id, char **command, char **env, bool as_root,
           struct work *w, char **ret_root, char **ret_upper, arca_error **err)
{
  w->e = b->e;
  if (image_id == NULL || image_id[0] == '\0')
    {
      /* Named like the store's temps so prune and check collect the
       * root of a build that was killed. */
      if (asprintf (&w->tmp, "%s/tmp/.tmp-%d-build-XXXXXX", b->e->root, (int) getpid ()) < 0)
        return arca_error_set (err, ENOMEM, "build");
      if (mkdtemp (w->tmp) == NULL)
        {
          free (w->tmp);
          w->tmp = NULL;
          return arca_error_errno (err, "create a scratch root");
        }
      chmod (w->tmp, 0755);
      if ((*ret_root = strdup (w->tmp)) == NULL || (*ret_upper = strdup (w->tmp)) == NULL)
        return arca_error_set (err, ENOMEM, "build");
      return 0;
    }
  char *const dummy[] = { "true", NULL };
  char name[64], rnd[9];
  unsigned char bytes[4];
  if (getentropy (bytes, sizeof bytes) < 0)
    return arca_error_errno (err, "getentropy");
  snprintf (rnd, sizeof rnd, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
  snprintf (name, sizeof name, BUILD_CONTAINER_PREFIX "%d-%s", (int) getpid (), rnd);
  struct arca_create_request req = {
    .image = image_id,
    .name = name,
    .spec = {
      .command = command ? command : (char **) dummy,
      .set_entrypoint = true,
      .env = env,
      .user = as_root ? "0:0" : NULL,
      .network = ARCA_NET_HOST,
    },
    .stop_timeout = -1,
  };
  if (arca_engine_create (b->e, &req, w->id, err) < 0)
    return -1;
  /* A build killed with -9 leaves its container; the lock tells the next
   * build (sweep_stale) that nobody owns it any more. */
  cleanup_free char *lock = NULL;
  if (arca_engine_container_dir (b->e, w->id, BUILD_LOCK, &lock, err) < 0)
    return -1;
  w->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (w->lock_fd < 0 || flock (w->lock_fd, LOCK_EX) < 0)
    return arca_error_errno (err, "lock `%s`", lock);
  if (arca_engine_container_dir (b->e, w->id, "merged", ret_root, err) < 0
      || arca_engine_container_dir (b->e, w->id, "upper", ret_upper, err) < 0)
    return -1;
  return 0;
}

/* The upper dir as a layer on top of the stage's image; the stage moves
 * to the new image. */
static int
commit_step (struct builder *b, struct stage *s, const char *upper, const char *created_by,
             char *ret_id, arca_error **err)
{
  char diff_id[ARCA_DIGEST_LEN + 1];
  int64_t size = 0;
  cleanup_close int fd = memfd_create ("layer", MFD_CLOEXEC);

  if (fd < 0)
    return arca_error_errno (err, "memfd_create");
  if (arca_commit_layer_tar (upper, arca_commit_runtime_paths, fd, diff_id, &size, err) < 0)
    return -1;
  struct arca_commit_image_request req = {
    .parent = s->image_id[0] ? s->image_id : NULL,
    .layer_fd = fd,
    .diff_id = diff_id,
    .layer_size = size,
    .config = s->config,
    .created_by = created_by,
  };
  return arca_engine_commit_image (b->e, &req, ret_id, err);
}

/* Extra environment for RUN: the stage's ARGs with values that ENV does
 * not override. */
static int
run_env (struct stage *s, char ***ret, arca_error **err)
{
  cleanup_strv char **v = calloc (1, sizeof *v);
  size_t n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "build");
  for (size_t i = 0; i < s->n_args; i++)
    {
      const char *eq = strchr (s->args[i], '=');
      if (eq == NULL || arca_build_config_env (s->config, s->args[i], (size_t) (eq - s->args[i])))
        continue;
      if (push_arg (&v, &n, s->args[i], err) < 0)
        return -1;
    }
  *ret = move_ptr (v);
  return 0;
}

static int
ensure_workdir (json_t *config, const char *root, arca_error **err)
{
  const char *wd = json_string_value (json_object_get (config, "WorkingDir"));
  if (wd == NULL || *wd == '\0' || strcmp (wd, "/") == 0)
    return 0;
  cleanup_close int rfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return arca_error_errno (err, "open `%s`", root);
  cleanup_close int d = arca_mkpath_in_root (rfd, wd, 1, 0755, err);
  return d < 0 ? arca_error_wrap (err, "WORKDIR `%s`", wd) : 0;
}

/* Removes the containers of builds that died (kill -9): build containers
 * whose lock nobody holds.  One created a moment ago may not be locked
 * yet, so those are left to a later build. */
static void
containers_freep (struct arca_engine_container ***v)
{
  arca_engine_containers_free (*v);
}

bool
arca_build_container_busy (struct arca_engine *e, const struct arca_engine_container *c)
{
  cleanup_error arca_error *ignored = NULL;
  cleanup_free char *lock = NULL;

  if (strncmp (c->name, BUILD_CONTAINER_PREFIX, strlen (BUILD_CONTAINER_PREFIX)) != 0)
    return false;
  if (c->created > time (NULL) - 2
      || arca_engine_container_dir (e, c->id, BUILD_LOCK, &lock, &ignored) < 0)
    return true;
  cleanup_close int fd = open (lock, O_RDWR | O_CLOEXEC);
  return fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) < 0;
}

static void
sweep_stale (struct arca_engine *e)
{
  _cleanup_ (containers_freep) struct arca_engine_container **list = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (arca_engine_list (e, &list, &ignored) < 0)
    return;
  for (size_t i = 0; list[i]; i++)
    {
      if (strncmp (list[i]->name, BUILD_CONTAINER_PREFIX, strlen (BUILD_CONTAINER_PREFIX)) != 0
          || arca_build_container_busy (e, list[i]))
        continue; /* not a build's, or a running build's */
      /* Its RUN may still be running, attached to the dead build: no
       * monitor writes its exit, so kill it and wait for the runtime to
       * see it stopped before removing. */
      if (list[i]->status == ARCA_ENGINE_RUNNING || list[i]->status == ARCA_ENGINE_PAUSED)
        {
          arca_engine_kill (e, list[i]->id, SIGKILL, &ignored);
          arca_error_freep (&ignored);
          for (int tries = 0; tries < 250; tries++)
            {
              _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
              if (arca_engine_get (e, list[i]->id, &c, &ignored) < 0
                  || (c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED))
                break;
              struct timespec ts = { 0, 20 * 1000 * 1000 };
              nanosleep (&ts, NULL);
            }
          arca_error_freep (&ignored);
        }
      arca_engine_remove (e, list[i]->id, true, &ignored);
      arca_error_freep (&ignored);
    }
}

/* ---- steps --------------------------------------------------------------------------- */

/* "--> Using cache 0123456789ab", "--> 0123456789ab", "COMMIT name". */
static void
progress (struct builder *b, const char *label, const char *value, int max)
{
  if (b->o->progress)
    {
      fprintf (b->o->progress, "%s%.*s\n", label, max, value);
      fflush (b->o->progress);
    }
}

static int
step_run (struct builder *b, struct stage *s, const struct arca_cf_instruction *ins,
          arca_error **err)
{
  char key[ARCA_DIGEST_LEN + 1], id[ARCA_DIGEST_LEN + 1];
  cleanup_strv char **cmd = NULL, **env = NULL;
  cleanup_free char *root = NULL, *upper = NULL, *created_by = NULL;
  _cleanup_ (work_release) struct work w = { .lock_fd = -1 };
  int r, code = 0;

  if (s->image_id[0] == '\0')
    return arca_error_set (err, EINVAL, "RUN in a stage without an image (FROM scratch)");
  if (cache_key (s, ins, NULL, key, err) < 0 || (r = cache_get (b, key, id, err)) < 0)
    return -1;
  if (r == 1)
    {
      progress (b, "--> Using cache ", arca_digest_hex (id), 12);
      memcpy (s->image_id, id, sizeof id);
      return 0;
    }
  if (arca_build_command (s->config, ins, &cmd, err) < 0 || run_env (s, &env, err) < 0)
    return -1;
  if (work_open (b, s->image_id, cmd, env, false, &w, &root, &upper, err) < 0
      || ensure_workdir (s->config, root, err) < 0)
    return -1;
  if (b->o->progress)
    fflush (b->o->progress);
  if (arca_build_run_container (b->e, w.id, b->o->ret_signal, &code, err) < 0)
    return -1;
  if (code != 0)
    return arca_error_set (err, 0, "the command exited with code %d", code);
  if (asprintf (&created_by, "RUN %s", ins->args[0] && !ins->json ? ins->args[0] : ins->text + 4) < 0)
    return arca_error_set (err, ENOMEM, "build");
  if (commit_step (b, s, upper, created_by, id, err) < 0 || cache_put (b, key, id, err) < 0)
    return -1;
  memcpy (s->image_id, id, sizeof id);
  progress (b, "--> ", arca_digest_hex (id), 12);
  return 0;
}

static struct stage *
find_stage (struct builder *b, const char *name)
{
  char *end;
  unsigned long idx = strtoul (name, &end, 10);
  if (*name && *end == '\0' && idx < b->n_stages)
    return &b->stages[idx];
  for (size_t i = 0; i < b->n_stages; i++)
    if (b->stages[i].name && strcasecmp (b->stages[i].name, name) == 0)
      return &b->stages[i];
  return NULL;
}

/* --chown=USER[:GROUP], resolved in the destination root. */
static int
parse_chown (const char *spec, const char *root, uint32_t *uid, uint32_t *gid, arca_error **err)
{
  cleanup_free uint32_t *groups = NULL;
  size_t n = 0;
  if (arca_engine_resolve_user (root, spec, uid, gid, &groups, &n, err) < 0)
    return arca_error_wrap (err, "--chown=%s", spec);
  return 0;
}

static int
step_copy (struct builder *b, struct stage *s, const struct arca_cf_instruction *ins,
           arca_error **err)
{
  char key[ARCA_DIGEST_LEN + 1], id[ARCA_DIGEST_LEN + 1], digest[ARCA_DIGEST_LEN + 1];
  struct lookup_ctx l = { b, s };
  cleanup_strv char **words = NULL;
  cleanup_free char *root = NULL, *upper = NULL, *src_root = NULL, *src_upper = NULL;
  cleanup_free char *what = NULL, *extra = NULL, *chown_spec = NULL;
  _cleanup_ (work_release) struct work w = { .lock_fd = -1 };
  _cleanup_ (work_release) struct work from = { .lock_fd = -1 };
  bool is_add = ins->kind == ARCA_CF_ADD;
  size_t n = 0;
  int r;

  for (; ins->args[n]; n++)
    ;
  words = calloc (n + 1, sizeof *words);
  if (words == NULL)
    return arca_error_set (err, ENOMEM, "build");
  for (size_t i = 0; i < n; i++)
    if (arca_cf_expand (ins->args[i], b->cf->escape, lookup, &l, &words[i], err) < 0)
      return -1;
  /* The last word is the destination, the others the sources. */
  cleanup_free char *dest = words[n - 1];
  words[n - 1] = NULL;
  const char *from_name = arca_cf_flag (ins, "from");
  const char *chown = arca_cf_flag (ins, "chown");
  if (chown && arca_cf_expand (chown, b->cf->escape, lookup, &l, &chown_spec, err) < 0)
    return -1;
  const char *chmod_flag = arca_cf_flag (ins, "chmod");
  char *chmod_end = NULL;
  unsigned long chmod_mode = chmod_flag ? strtoul (chmod_flag, &chmod_end, 8) : 0;
  if (chmod_flag && (*chmod_flag == '\0' || *chmod_end != '\0' || chmod_mode > 07777))
    return arca_error_set (err, EINVAL, "--chmod=%s: an octal mode expected", chmod_flag);

  cleanup_free char *tmp_dir = NULL;
  if (asprintf (&tmp_dir, "%s/tmp", b->e->root) < 0)
    return arca_error_set (err, ENOMEM, "build");
  struct arca_copy_request req = {
    .sources = words,
    .dest = dest,
    .workdir = json_string_value (json_object_get (s->config, "WorkingDir")),
    .extract = is_add && from_name == NULL,
    .tmp_dir = tmp_dir,
    .chmod = chmod_flag != NULL,
    .mode = (uint32_t) chmod_mode,
    .interrupted = b->o->ret_signal,
  };
  struct arca_copy_source src = { .root_fd = b->context_fd, .ignore = &b->ignore,
                                  .what = "build context" };
  cleanup_close int src_fd = -1;
  if (from_name)
    {
      struct stage *fs = find_stage (b, from_name);
      char from_id[ARCA_DIGEST_LEN + 1] = "";
      if (fs && fs >= s)
        return arca_error_set (err, EINVAL, "--from=%s: a stage can only copy from an earlier one",
                               from_name);
      if (fs)
        memcpy (from_id, fs->image_id, sizeof from_id);
      else if (arca_engine_ensure_busybox (b->e, from_name, err) < 0
               || arca_db_resolve (b->e->db, from_name, from_id, err) < 0)
        return arca_error_wrap (err, "--from=%s", from_name);
      if (from_id[0] == '\0')
        return arca_error_set (err, EINVAL, "--from=%s: the stage has no files", from_name);
      if (asprintf (&extra, "from %s", from_id) < 0 || asprintf (&what, "stage `%s`", from_name) < 0)
        return arca_error_set (err, ENOMEM, "build");
      if (cache_key (s, ins, extra, key, err) < 0)
        return -1;
      if ((r = cache_get (b, key, id, err)) < 0)
        return -1;
      if (r == 1)
        goto cached;
      if (work_open (b, from_id, NULL, NULL, true, &from, &src_root, &src_upper, err) < 0)
        return arca_error_wrap (err, "--from=%s", from_name);
      src_fd = open (src_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (src_fd < 0)
        return arca_error_errno (err, "open `%s`", src_root);
      src = (struct arca_copy_source){ .root_fd = src_fd, .what = what, .in_root = true };
    }
  else
    {
      if (arca_copy_digest (&src, &req, digest, err) < 0)
        return -1;
      if (cache_key (s, ins, digest, key, err) < 0 || (r = cache_get (b, key, id, err)) < 0)
        return -1;
      if (r == 1)
        goto cached;
    }
  if (work_open (b, s->image_id, NULL, NULL, true, &w, &root, &upper, err) < 0)
    return -1;
  if (chown_spec)
    {
      if (parse_chown (chown_spec, root, &req.uid, &req.gid, err) < 0)
        return -1;
      req.chown = true;
    }
  {
    cleanup_close int dest_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dest_fd < 0)
      return arca_error_errno (err, "open `%s`", root);
    if (arca_copy_run (&src, &req, dest_fd, err) < 0)
      return -1;
  }
  if (commit_step (b, s, upper, ins->text, id, err) < 0 || cache_put (b, key, id, err) < 0)
    return -1;
  memcpy (s->image_id, id, sizeof id);
  progress (b, "--> ", arca_digest_hex (id), 12);
  return 0;

cached:
  progress (b, "--> Using cache ", arca_digest_hex (id), 12);
  memcpy (s->image_id, id, sizeof id);
  return 0;
}

/* Config-only instructions; WORKDIR also creates its directory. */
static int
step_config (struct builder *b, struct stage *s, const struct arca_cf_instruction *ins,
             arca_error **err)
{
  char key[ARCA_DIGEST_LEN + 1], id[ARCA_DIGEST_LEN + 1];
  struct lookup_ctx l = { b, s };
  int r;

  if (cache_key (s, ins, NULL, key, err) < 0)
    return -1;
  if (arca_build_config_apply (s->config, ins, b->cf->escape, lookup, &l, &s->cmd_set, err) < 0)
    return -1;
  if ((r = cache_get (b, key, id, err)) < 0)
    return -1;
  if (r == 1)
    {
      progress (b, "--> Using cache ", arca_digest_hex (id), 12);
      memcpy (s->image_id, id, sizeof id);
      return 0;
    }
  if (ins->kind == ARCA_CF_WORKDIR)
    {
      _cleanup_ (work_release) struct work w = { .lock_fd = -1 };
      cleanup_free char *root = NULL, *upper = NULL;
      if (work_open (b, s->image_id, NULL, NULL, true, &w, &root, &upper, err) < 0
          || ensure_workdir (s->config, root, err) < 0)
        return -1;
      if ((r = arca_commit_upper_is_empty (upper, arca_commit_runtime_paths, err)) < 0)
        return -1;
      if (r == 0)
        {
          if (commit_step (b, s, upper, ins->text, id, err) < 0 || cache_put (b, key, id, err) < 0)
            return -1;
          memcpy (s->image_id, id, sizeof id);
          progress (b, "--> ", arca_digest_hex (id), 12);
          return 0;
        }
    }
  if (s->image_id[0] == '\0')
    return 0; /* scratch: the config waits for the first layer */
  struct arca_commit_image_request req = {
    .parent = s->image_id,
    .layer_fd = -1,
    .config = s->config,
    .created_by = ins->text,
  };
  if (arca_engine_commit_image (b->e, &req, id, err) < 0 || cache_put (b, key, id, err) < 0)
    return -1;
  memcpy (s->image_id, id, sizeof id);
  progress (b, "--> ", arca_digest_hex (id), 12);
  return 0;
}

static int
step_from (struct builder *b, struct stage *s, const struct arca_cf_instruction *ins,
           arca_error **err)
{
  struct lookup_ctx l = { b, NULL };
  cleanup_free char *image = NULL;

  if (arca_cf_expand (ins->args[0], b->cf->escape, lookup, &l, &image, err) < 0)
    return -1;
  if (ins->args[1] && (s->name = strdup (ins->args[2])) == NULL)
    return arca_error_set (err, ENOMEM, "build");
  if (strcasecmp (image, "scratch") == 0)
    {
      s->config = json_object ();
      return s->config ? 0 : arca_error_set (err, ENOMEM, "build");
    }
  struct stage *prev = find_stage (b, image);
  if (prev && prev < s && strspn (image, "0123456789") != strlen (image))
    {
      memcpy (s->image_id, prev->image_id, sizeof s->image_id);
      s->config = json_deep_copy (prev->config);
      return s->config ? 0 : arca_error_set (err, ENOMEM, "build");
    }
  if (arca_engine_ensure_busybox (b->e, image, err) < 0
      || arca_db_resolve (b->e->db, image, s->image_id, err) < 0)
    return arca_error_wrap (err, "FROM %s (pull or load the image first)", image);
  return arca_engine_image_config (b->e, s->image_id, &s->config, err);
}

/* ---- the build ------------------------------------------------------------------------- */

static void
builder_free (struct builder *b)
{
  for (size_t i = 0; i < b->n_stages; i++)
    {
      free (b->stages[i].name);
      json_decref (b->stages[i].config);
      arca_strv_free (b->stages[i].args);
    }
  free (b->stages);
  arca_strv_free (b->global_args);
  arca_ignore_free (&b->ignore);
  arca_containerfile_free (b->cf);
  if (b->context_fd >= 0)
    close (b->context_fd);
}

static int
read_containerfile (struct builder *b, arca_error **err)
{
  cleanup_free char *text = NULL, *path = NULL;
  const char *name = b->o->file;
  size_t len = 0;

  if (name == NULL)
    {
      if (faccessat (b->context_fd, "Containerfile", F_OK, 0) == 0)
        name = "Containerfile";
      else
        name = "Dockerfile";
      if (asprintf (&path, "%s/%s", b->o->context, name) < 0)
        return arca_error_set (err, ENOMEM, "build");
    }
  else if ((path = strdup (name)) == NULL)
    return arca_error_set (err, ENOMEM, "build");
  if (arca_read_file_at (AT_FDCWD, path, ARCA_CF_MAX_SIZE, &text, &len, err) < 0)
    return arca_error_wrap (err, "build");
  return arca_containerfile_parse (name, text, len, &b->cf, err);
}

struct signals
{
  bool blocked;
  sigset_t old;
};

static void
signals_restore (struct signals *s)
{
  if (s->blocked)
    arca_build_signals_restore (&s->old);
}

int
arca_engine_build (struct arca_engine *e, const struct arca_build_options *o, char *ret_image_id,
                   arca_error **err)
{
  _cleanup_ (signals_restore) struct signals sigs = { .blocked = false };
  _cleanup_ (builder_free) struct builder b = { .e = e, .o = o, .context_fd = -1 };
  size_t first = 0, last_stage = 0, n_from = 0;
  cleanup_strv char **full_tags = NULL;
  size_t n_tags = 0;

  for (size_t i = 0; o->tags && o->tags[i]; i++)
    {
      _cleanup_ (arca_reference_freep) struct arca_reference *ref = NULL;
      cleanup_free char *full = NULL;
      if (arca_reference_parse (o->tags[i], ARCA_REFERENCE_LOCAL, &ref, err) < 0)
        return -1;
      if ((full = arca_reference_string (ref)) == NULL || push_arg (&full_tags, &n_tags, full, err) < 0)
        return arca_error_set (err, ENOMEM, "build");
    }
  if (o->ret_signal)
    {
      if (arca_build_signals_block (&sigs.old) < 0)
        return arca_error_errno (err, "block SIGINT and SIGTERM");
      sigs.blocked = true;
    }
  b.context_fd = open (o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (b.context_fd < 0)
    return arca_error_errno (err, "build context `%s`", o->context);
  if (read_containerfile (&b, err) < 0 || arca_ignore_load (b.context_fd, &b.ignore, err) < 0)
    return -1;
  if (arca_db_exec (e->db, BUILD_CACHE_SCHEMA, NULL, err) < 0)
    return -1;
  sweep_stale (e);

  /* Stages and the target. */
  for (size_t i = 0; i < b.cf->n_instructions; i++)
    if (b.cf->instructions[i].kind == ARCA_CF_FROM)
      n_from++;
  b.stages = calloc (n_from, sizeof *b.stages);
  if (b.stages == NULL)
    return arca_error_set (err, ENOMEM, "build");
  size_t target = n_from - 1;
  if (o->target)
    {
      bool found = false;
      size_t k = 0;
      for (size_t i = 0; i < b.cf->n_instructions; i++)
        {
          const struct arca_cf_instruction *ins = &b.cf->instructions[i];
          if (ins->kind != ARCA_CF_FROM)
            continue;
          if (ins->args[1] && strcasecmp (ins->args[2], o->target) == 0)
            {
              target = k;
              found = true;
            }
          k++;
        }
      if (!found)
        return arca_error_set (err, ENOENT, "--target: no stage named `%s`", o->target);
    }
  /* Steps to run: everything up to the end of the target stage. */
  size_t end = b.cf->n_instructions;
  for (size_t i = 0, k = 0; i < b.cf->n_instructions; i++)
    if (b.cf->instructions[i].kind == ARCA_CF_FROM && k++ == target + 1)
      {
        end = i;
        break;
      }
  while (first < end && b.cf->instructions[first].kind != ARCA_CF_FROM)
    first++;
  b.total = end;

  for (size_t i = 0; i < end; i++)
    {
      const struct arca_cf_instruction *ins = &b.cf->instructions[i];
      struct stage *s = b.n_stages ? &b.stages[b.n_stages - 1] : NULL;
      char parent[ARCA_DIGEST_LEN + 1] = "";
      int r;

      if (arca_build_interrupted (o->ret_signal, err) < 0)
        return -1;
      if (s)
        memcpy (parent, s->image_id, sizeof parent);

      b.step = i + 1;
      if (o->progress)
        {
          fprintf (o->progress, "STEP %zu/%zu: %s\n", b.step, b.total, ins->text);
          fflush (o->progress);
        }
      if (ins->kind == ARCA_CF_FROM)
        {
          s = &b.stages[b.n_stages++];
          last_stage = b.n_stages - 1;
          r = step_from (&b, s, ins, err);
        }
      else if (ins->kind == ARCA_CF_ARG)
        r = declare_arg (&b, s, ins, err);
      else if (ins->kind == ARCA_CF_RUN)
        r = step_run (&b, s, ins, err);
      else if (ins->kind == ARCA_CF_COPY || ins->kind == ARCA_CF_ADD)
        r = step_copy (&b, s, ins, err);
      else
        r = step_config (&b, s, ins, err);
      /* A step's image is an intermediate one until something tags it. */
      if (r == 0 && ins->kind != ARCA_CF_FROM && parent[0] && strcmp (parent, s->image_id) != 0)
        r = arca_engine_image_parent_add (e, s->image_id, parent, err);
      if (r < 0)
        return arca_error_wrap (err, "STEP %zu/%zu `%s` (%s:%u)", b.step, b.total, ins->text,
                                b.cf->name, ins->line);
    }

  if (arca_build_interrupted (o->ret_signal, err) < 0)
    return -1;
  struct stage *result = &b.stages[last_stage];
  if (result->image_id[0] == '\0')
    {
      /* A scratch stage without files: an image of the config alone. */
      struct arca_commit_image_request req = { .layer_fd = -1, .config = result->config,
                                               .created_by = "FROM scratch" };
      if (arca_engine_commit_image (e, &req, result->image_id, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < n_tags; i++)
    {
      if (arca_db_tag (e->db, result->image_id, full_tags[i], err) < 0)
        return arca_error_wrap (err, "tag `%s`", full_tags[i]);
      progress (&b, "COMMIT ", full_tags[i], 1024);
    }
  snprintf (ret_image_id, ARCA_DIGEST_LEN + 1, "%s", result->image_id);
  return 0;
}
