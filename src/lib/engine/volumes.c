/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volumes: create, list, remove, prune, and the mounts of a new container. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/cp.h"
#include "engine/volumes.h"
#include "image/db-internal.h" /* the engine's rows live in the image database */
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define VOLUMES_SCHEMA                                                                     \
  "CREATE TABLE IF NOT EXISTS volumes ("                                                   \
  "  name TEXT PRIMARY KEY,"                                                               \
  "  created INTEGER NOT NULL,"                                                            \
  "  anonymous INTEGER NOT NULL DEFAULT 0);"                                               \
  "CREATE TABLE IF NOT EXISTS volume_users ("                                              \
  "  volume TEXT NOT NULL REFERENCES volumes(name) ON DELETE CASCADE,"                     \
  "  container_id TEXT NOT NULL,"                                                          \
  "  PRIMARY KEY (volume, container_id));"

/* Users that exist: a use row of a container that is gone does not count. */
#define LIVE_USERS                                                                         \
  "SELECT u.container_id FROM volume_users u JOIN containers c ON c.id = u.container_id "  \
  "WHERE u.volume = ?1 ORDER BY u.container_id"

void
arca_volume_free (struct arca_volume *v)
{
  if (v == NULL)
    return;
  free (v->name);
  free (v->mountpoint);
  arca_strv_free (v->users);
  free (v);
}

void
arca_volume_freep (struct arca_volume **v)
{
  arca_volume_free (*v);
  *v = NULL;
}

void
arca_volumes_free (struct arca_volume **v)
{
  for (size_t i = 0; v && v[i]; i++)
    arca_volume_free (v[i]);
  free (v);
}

int
arca_volume_schema (struct arca_engine *e, arca_error **err)
{
  char *msg = NULL;

  if (sqlite3_exec (e->db->h, VOLUMES_SCHEMA, NULL, NULL, &msg) != SQLITE_OK)
    {
      arca_error_set (err, EIO, "database: volumes table: %s", msg ? msg : "error");
      sqlite3_free (msg);
      return -1;
    }
  return 0;
}

static int
valid_name (const char *name, arca_error **err)
{
  size_t len = strlen (name);

  if (len == 0 || len > 255
      || strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len
      || name[0] == '.' || name[0] == '-' || name[0] == '_')
    return arca_error_set (err, EINVAL,
                           "invalid volume name `%s`: use [a-zA-Z0-9][a-zA-Z0-9_.-]*", name);
  return 0;
}

static int
volume_dir (struct arca_engine *e, const char *name, const char *sub, char **ret, arca_error **err)
{
  int r = sub ? asprintf (ret, "%s/volumes/%s/%s", e->root, name, sub)
              : asprintf (ret, "%s/volumes/%s", e->root, name);
  return r < 0 ? arca_error_set (err, ENOMEM, "volume path") : 0;
}

static int
random_name (char *out, arca_error **err)
{
  unsigned char bytes[32];

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    return arca_error_errno (err, "getrandom");
  for (size_t i = 0; i < sizeof bytes; i++)
    sprintf (out + 2 * i, "%02x", bytes[i]);
  return 0;
}

/* 1 when a row exists, 0 when not. */
static int
exists (struct arca_engine *e, const char *name, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { name, NULL };

  if (arca_db_prepare (e->db, "SELECT 1 FROM volumes WHERE name = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  int r = sqlite3_step (st);
  if (r == SQLITE_ROW)
    return 1;
  return r == SQLITE_DONE ? 0 : arca_db_fail (e->db, err, "look up a volume");
}

int
arca_volume_create (struct arca_engine *e, const char *name, bool anonymous, char **ret_name,
                    arca_error **err)
{
  char generated[65];
  cleanup_free char *data = NULL;

  if (arca_volume_schema (e, err) < 0)
    return -1;
  if (name == NULL)
    {
      if (random_name (generated, err) < 0)
        return -1;
      name = generated;
      anonymous = true;
    }
  else if (valid_name (name, err) < 0)
    return -1;
  int r = exists (e, name, err);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      /* The directory first: a crash leaves a directory without a row,
       * which `system check` finds, never a row without its directory. */
      char created[32], anon[2] = { anonymous ? '1' : '0', '\0' };
      const char *v[] = { name, created, anon, NULL };
      snprintf (created, sizeof created, "%lld", (long long) time (NULL));
      if (volume_dir (e, name, "_data", &data, err) < 0 || arca_mkdir_p (data, 0755, err) < 0)
        return arca_error_wrap (err, "create volume `%s`", name);
      if (arca_db_exec (e->db,
                        "INSERT OR IGNORE INTO volumes (name, created, anonymous) "
                        "VALUES (?1, CAST(?2 AS INTEGER), CAST(?3 AS INTEGER))",
                        v, err)
          < 0)
        return arca_error_wrap (err, "create volume `%s`", name);
    }
  if (ret_name && (*ret_name = strdup (name)) == NULL)
    return arca_error_set (err, ENOMEM, "volume");
  return 0;
}

static int
fill (struct arca_engine *e, sqlite3_stmt *st, struct arca_volume **ret, arca_error **err)
{
  cleanup_volume struct arca_volume *v = calloc (1, sizeof *v);
  const char *name = (const char *) sqlite3_column_text (st, 0);

  if (v == NULL || name == NULL || (v->name = strdup (name)) == NULL)
    return arca_error_set (err, ENOMEM, "volume");
  v->created = sqlite3_column_int64 (st, 1);
  v->anonymous = sqlite3_column_int (st, 2) != 0;
  const char *values[] = { v->name, NULL };
  if (volume_dir (e, v->name, "_data", &v->mountpoint, err) < 0
      || arca_db_strings (e->db, LIVE_USERS, values, &v->users, err) < 0)
    return -1;
  *ret = move_ptr (v);
  return 0;
}

int
arca_volume_get (struct arca_engine *e, const char *name, struct arca_volume **ret,
                 arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { name, NULL };

  if (arca_volume_schema (e, err) < 0
      || arca_db_prepare (e->db, "SELECT name, created, anonymous FROM volumes WHERE name = ?1",
                          &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return arca_error_set (err, ENOENT, "no such volume: %s", name);
  return fill (e, st, ret, err);
}

int
arca_volume_list (struct arca_engine *e, struct arca_volume ***ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  struct arca_volume **v = calloc (1, sizeof *v);
  size_t n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "volumes");
  if (arca_volume_schema (e, err) < 0
      || arca_db_prepare (e->db, "SELECT name, created, anonymous FROM volumes ORDER BY name",
                          &st, err) < 0)
    {
      free (v);
      return -1;
    }
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct arca_volume **grown = realloc (v, (n + 2) * sizeof *v);
      if (grown == NULL)
        {
          arca_volumes_free (v);
          return arca_error_set (err, ENOMEM, "volumes");
        }
      v = grown;
      v[n + 1] = NULL;
      if (fill (e, st, &v[n], err) < 0)
        {
          v[n] = NULL;
          arca_volumes_free (v);
          return -1;
        }
      n++;
    }
  *ret = v;
  return 0;
}

/* Deletes the row (and its use rows) unless a container uses the volume,
 * in one transaction, then the directory. */
static int
remove_unused (struct arca_engine *e, const char *name, arca_error **err)
{
  cleanup_free char *dir = NULL;
  const char *v[] = { name, NULL };

  if (arca_db_exec (e->db, "BEGIN IMMEDIATE", NULL, err) < 0)
    return -1;
  cleanup_strv char **users = NULL;
  if (arca_db_strings (e->db, LIVE_USERS, v, &users, err) < 0
      || (users[0] == NULL
          && arca_db_exec (e->db, "DELETE FROM volumes WHERE name = ?1", v, err) < 0))
    {
      arca_db_exec (e->db, "ROLLBACK", NULL, NULL);
      return -1;
    }
  if (users[0] != NULL)
    {
      arca_db_exec (e->db, "ROLLBACK", NULL, NULL);
      return arca_error_set (err, EBUSY, "volume %s is in use by container %.12s", name,
                             users[0]);
    }
  if (arca_db_exec (e->db, "COMMIT", NULL, err) < 0)
    {
      arca_db_exec (e->db, "ROLLBACK", NULL, NULL);
      return -1;
    }
  if (volume_dir (e, name, NULL, &dir, err) < 0 || arca_rm_rf_at (AT_FDCWD, dir, err) < 0)
    return arca_error_wrap (err, "remove volume `%s`", name);
  return 0;
}

int
arca_volume_remove (struct arca_engine *e, const char *name, bool force, arca_error **err)
{
  cleanup_volume struct arca_volume *v = NULL;

  if (arca_volume_get (e, name, &v, err) < 0)
    return -1;
  if (force)
    for (char **u = v->users; u && *u; u++)
      if (arca_engine_remove (e, *u, true, err) < 0 || arca_volume_release (e, *u, false, err) < 0)
        return arca_error_wrap (err, "remove volume `%s`: its container", name);
  return remove_unused (e, name, err);
}

int
arca_volume_prune (struct arca_engine *e, bool all, char ***ret_removed, arca_error **err)
{
  cleanup_strv char **names = NULL;
  cleanup_strv char **removed = calloc (1, sizeof (char *));
  size_t n = 0;

  if (removed == NULL)
    return arca_error_set (err, ENOMEM, "prune");
  if (arca_volume_schema (e, err) < 0)
    return -1;
  /* Use rows of containers that are gone first, so they hold nothing. */
  if (arca_db_exec (e->db,
                    "DELETE FROM volume_users WHERE container_id NOT IN (SELECT id FROM containers)",
                    NULL, err) < 0
      || arca_db_strings (e->db,
                          all ? "SELECT name FROM volumes WHERE name NOT IN "
                                "(SELECT volume FROM volume_users) ORDER BY name"
                              : "SELECT name FROM volumes WHERE anonymous = 1 AND name NOT IN "
                                "(SELECT volume FROM volume_users) ORDER BY name",
                          NULL, &names, err) < 0)
    return -1;
  for (char **p = names; *p; p++)
    {
      cleanup_error arca_error *busy = NULL;
      if (remove_unused (e, *p, &busy) < 0)
        {
          if (busy->errnum == EBUSY)
            continue; /* a container took it meanwhile */
          *err = move_ptr (busy);
          return -1;
        }
      if (arca_strv_append (&removed, &n, *p) < 0)
        return arca_error_errno (err, "prune");
    }
  if (ret_removed)
    *ret_removed = move_ptr (removed);
  return 0;
}

int
arca_volume_release (struct arca_engine *e, const char *container_id, bool remove_anonymous,
                     arca_error **err)
{
  cleanup_strv char **anonymous = NULL;
  const char *v[] = { container_id, NULL };

  if (arca_volume_schema (e, err) < 0)
    return -1;
  if (remove_anonymous
      && arca_db_strings (e->db,
                          "SELECT u.volume FROM volume_users u JOIN volumes v ON v.name = u.volume "
                          "WHERE u.container_id = ?1 AND v.anonymous = 1",
                          v, &anonymous, err) < 0)
    return -1;
  if (arca_db_exec (e->db, "DELETE FROM volume_users WHERE container_id = ?1", v, err) < 0)
    return -1;
  for (char **p = anonymous; p && *p; p++)
    {
      cleanup_error arca_error *busy = NULL;
      if (remove_unused (e, *p, &busy) < 0 && busy->errnum != EBUSY)
        {
          *err = move_ptr (busy);
          return -1;
        }
    }
  return 0;
}

/* ---- the mounts of a new container -------------------------------------- */

void
arca_volume_plan_free (struct arca_volume_plan *plan)
{
  if (plan == NULL)
    return;
  if (!plan->keep)
    for (char **p = plan->created; p && *p; p++)
      {
        cleanup_error arca_error *ignored = NULL;
        remove_unused (plan->e, *p, &ignored);
      }
  for (size_t i = 0; i < plan->n_mounts; i++)
    {
      free (plan->mounts[i].source);
      free (plan->mounts[i].destination);
      free (plan->mounts[i].options);
    }
  free (plan->mounts);
  arca_strv_free (plan->names);
  arca_strv_free (plan->created);
  free (plan);
}

void
arca_volume_plan_freep (struct arca_volume_plan **plan)
{
  arca_volume_plan_free (*plan);
  *plan = NULL;
}

static int
strv_add (char ***v, const char *s, arca_error **err)
{
  return arca_strv_append (v, NULL, s) < 0 ? arca_error_errno (err, "volumes") : 0;
}

static int
add_mount (struct arca_volume_plan *plan, const char *source, const char *dest,
           const char *options, bool tmpfs, arca_error **err)
{
  struct arca_run_mount *grown = realloc (plan->mounts, (plan->n_mounts + 1) * sizeof *grown);
  if (grown == NULL)
    return arca_error_set (err, ENOMEM, "volumes");
  plan->mounts = grown;
  struct arca_run_mount *m = &grown[plan->n_mounts];
  *m = (struct arca_run_mount){
    .source = source ? strdup (source) : NULL,
    .destination = strdup (dest),
    .options = options ? strdup (options) : NULL,
    .tmpfs = tmpfs,
  };
  plan->n_mounts++;
  if ((source && m->source == NULL) || m->destination == NULL || (options && m->options == NULL))
    return arca_error_set (err, ENOMEM, "volumes");
  return 0;
}

static bool
is_empty_dir (const char *path)
{
  cleanup_dir DIR *d = opendir (path);
  struct dirent *de;

  if (d == NULL)
    return false;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      return false;
  return true;
}

/* Docker's rule: an empty volume mounted over a directory of the image
 * starts as a copy of it (content, owner and mode of the directory). */
static int
populate (const char *data, int root_fd, const char *dest, arca_error **err)
{
  struct stat st;
  const struct arca_cp_options keep = { .archive = true };

  if (!is_empty_dir (data))
    return 0;
  cleanup_close int from = arca_open_in_root (root_fd, dest, O_RDONLY | O_DIRECTORY, 0, NULL);
  if (from < 0)
    return 0; /* nothing there in the image */
  cleanup_close int to = open (data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (to < 0)
    return arca_error_errno (err, "open `%s`", data);
  if (arca_copy_contents_at (from, to, &keep, err) < 0)
    return arca_error_wrap (err, "fill the volume from the image's `%s`", dest);
  if (fstat (from, &st) == 0 && (fchown (to, st.st_uid, st.st_gid) < 0
                                 || fchmod (to, st.st_mode & 07777) < 0))
    return arca_error_errno (err, "set the owner of `%s`", data);
  return 0;
}

/* Mounts volume name (created when missing) at dest. */
static int
plan_volume (struct arca_volume_plan *plan, int root_fd, const char *name, const char *dest,
             const char *options, arca_error **err)
{
  cleanup_free char *created = NULL, *data = NULL;
  int r = name ? exists (plan->e, name, err) : 0;

  if (r < 0)
    return -1;
  if (r == 0)
    {
      if (arca_volume_create (plan->e, name, name == NULL, &created, err) < 0
          || strv_add (&plan->created, created, err) < 0)
        return -1;
      name = created;
    }
  if (volume_dir (plan->e, name, "_data", &data, err) < 0
      || populate (data, root_fd, dest, err) < 0
      || strv_add (&plan->names, name, err) < 0)
    return arca_error_wrap (err, "volume `%s` at `%s`", name, dest);
  return add_mount (plan, data, dest, options, false, err);
}

static bool
same_path (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (lb > 1 && b[lb - 1] == '/')
    lb--;
  return la == lb && strncmp (a, b, la) == 0;
}

int
arca_volume_plan_build (struct arca_engine *e, const char *merged,
                        const struct arca_run_mount *mounts, size_t n_mounts,
                        char *const *image_volumes, struct arca_volume_plan **ret,
                        arca_error **err)
{
  _cleanup_ (arca_volume_plan_freep) struct arca_volume_plan *plan = calloc (1, sizeof *plan);

  if (plan == NULL)
    return arca_error_set (err, ENOMEM, "volumes");
  plan->e = e;
  if (arca_volume_schema (e, err) < 0)
    return -1;
  cleanup_close int root_fd = open (merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return arca_error_errno (err, "open `%s`", merged);
  for (size_t i = 0; i < n_mounts; i++)
    {
      const struct arca_run_mount *m = &mounts[i];
      int r;
      if (m->tmpfs || (m->source && m->source[0] == '/'))
        r = add_mount (plan, m->source, m->destination, m->options, m->tmpfs, err);
      else if (m->source && valid_name (m->source, err) < 0)
        r = -1;
      else
        r = plan_volume (plan, root_fd, m->source, m->destination, m->options, err);
      if (r < 0)
        return -1;
    }
  for (size_t i = 0; image_volumes && image_volumes[i]; i++)
    {
      bool covered = false;
      for (size_t j = 0; j < n_mounts && !covered; j++)
        covered = same_path (mounts[j].destination, image_volumes[i]);
      if (!covered && plan_volume (plan, root_fd, NULL, image_volumes[i], NULL, err) < 0)
        return -1;
    }
  *ret = move_ptr (plan);
  return 0;
}

int
arca_volume_plan_commit (struct arca_engine *e, const struct arca_volume_plan *plan,
                         const char *container_id, arca_error **err)
{
  for (char **p = plan->names; p && *p; p++)
    {
      const char *v[] = { *p, container_id, NULL };
      if (arca_db_exec (e->db,
                        "INSERT OR IGNORE INTO volume_users (volume, container_id) VALUES (?1, ?2)",
                        v, err) < 0)
        return arca_error_wrap (err, "volume `%s`", *p);
    }
  return 0;
}
