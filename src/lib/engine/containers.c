/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Engine containers: create (overlay root + config.json + a row), start (a
 * monitor), stop/kill/wait/rm, status, logs. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container/state.h"
#include "engine/attach.h"
#include "engine/create-journal.h"
#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/logfile.h"
#include "engine/network.h"
#include "engine/network-bridge.h"
#include "engine/network-user.h"
#include "engine/overlay.h"
#include "engine/pod.h"
#include "engine/vm-monitor.h"
#include "engine/vm-record.h"
#include "engine/volumes.h"
#include "image/db-internal.h" /* the engine's rows live in the image database */
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/signals.h"

#define LOG_MAX_SIZE (10 * 1024 * 1024)
#define LOG_MAX_FILES 3
#define CONFIG_BLOB_MAX (4 * 1024 * 1024)

int arca_engine_db_exec (struct arca_engine *e, const char *sql, const char *const *values,
                         arca_error **err);

int
arca_engine_db_exec (struct arca_engine *e, const char *sql, const char *const *values,
                     arca_error **err)
{
  if (values == NULL)
    {
      char *msg = NULL;
      if (sqlite3_exec (e->db->h, sql, NULL, NULL, &msg) != SQLITE_OK)
        {
          arca_error_set (err, EIO, "database: %s", msg ? msg : "error");
          sqlite3_free (msg);
          return -1;
        }
      return 0;
    }
  return arca_db_exec (e->db, sql, values, err);
}

int
arca_engine_container_dir (struct arca_engine *e, const char *id, const char *file, char **ret,
                           arca_error **err)
{
  int r = file ? asprintf (ret, "%s/containers/%s/%s", e->root, id, file)
               : asprintf (ret, "%s/containers/%s", e->root, id);
  return r < 0 ? arca_error_set (err, ENOMEM, "path") : 0;
}

/* ---- rows --------------------------------------------------------------- */

void
arca_engine_container_free (struct arca_engine_container *c)
{
  if (c == NULL)
    return;
  free (c->name);
  free (c->image_id);
  free (c->image);
  free (c->command);
  free (c->stop_signal);
  free (c->pod);
  free (c);
}

void
arca_engine_container_freep (struct arca_engine_container **c)
{
  arca_engine_container_free (*c);
  *c = NULL;
}

void
arca_engine_containers_free (struct arca_engine_container **v)
{
  for (size_t i = 0; v && v[i]; i++)
    arca_engine_container_free (v[i]);
  free (v);
}

static char *
column_dup (sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text (st, col);
  return strdup (t ? (const char *) t : "");
}

/* Whether the container's arca-monitor still runs (monitor.pid: pid and
 * start time, so a recycled pid does not count). */
static bool
monitor_is_alive (struct arca_engine *e, const char *id)
{
  cleanup_free char *monitor_file = NULL, *monitor_text = NULL;
  cleanup_error arca_error *ignored = NULL;
  unsigned long long start = 0;
  int mpid = 0;

  if (arca_engine_container_dir (e, id, "monitor.pid", &monitor_file, &ignored) < 0
      || arca_read_file_at (AT_FDCWD, monitor_file, 64, &monitor_text, NULL, &ignored) < 0)
    return false;
  return sscanf (monitor_text, "%d %llu", &mpid, &start) == 2 && arca_pid_is (mpid, start);
}

/* Fills the status from the runtime's state and the monitor's exit.json. */
static void
fill_status (struct arca_engine *e, struct arca_engine_container *c)
{
  cleanup_close int dirfd = -1;
  cleanup_error arca_error *ignored = NULL;
  _cleanup_ (arca_record_freep) struct arca_container_record *rec = NULL;
  enum arca_container_status st;

  c->status = ARCA_ENGINE_CREATED;
  bool monitor_alive = monitor_is_alive (e, c->id);
  if (arca_state_dir_open (e->rt.state_root, c->id, false, &dirfd, &ignored) == 0
      && arca_record_load (dirfd, &rec, &ignored) == 0 && rec
      && arca_container_status (e->rt.cgroup_root, dirfd, rec, &st, &ignored) == 0
      && st != ARCA_STATUS_STOPPED)
    {
      c->status = st == ARCA_STATUS_PAUSED ? ARCA_ENGINE_PAUSED : ARCA_ENGINE_RUNNING;
      c->pid = rec->pid;
      return;
    }
  cleanup_free char *dir = NULL;
  struct arca_exit_info info;
  bool done = false;
  if (arca_engine_container_dir (e, c->id, NULL, &dir, &ignored) == 0
      && arca_monitor_exit_info (dir, &done, &info, &ignored) == 0 && done)
    {
      c->status = ARCA_ENGINE_EXITED;
      c->exit_code = info.exit_code;
      c->finished_ns = info.finished_ns;
    }
  else if (monitor_alive)
    {
      c->status = ARCA_ENGINE_RUNNING; /* exiting or restarting: the monitor decides */
      if (c->vm && dir)
        c->pid = arca_vm_monitor_vmm_pid (dir);
    }
  else if (c->vm)
    {
      c->status = ARCA_ENGINE_EXITED; /* its monitor died (killed): code unknown */
      c->exit_code = -1;
    }
  else if (rec)
    {
      c->status = ARCA_ENGINE_EXITED; /* it stopped and its monitor died: code unknown */
      c->exit_code = -1;
    }
}

static struct arca_engine_container *
row_to_container (struct arca_engine *e, sqlite3_stmt *st)
{
  struct arca_engine_container *c = calloc (1, sizeof *c);

  if (c == NULL)
    return NULL;
  snprintf (c->id, sizeof c->id, "%s", (const char *) sqlite3_column_text (st, 0));
  c->name = column_dup (st, 1);
  c->image_id = column_dup (st, 2);
  c->image = column_dup (st, 3);
  c->created = sqlite3_column_int64 (st, 4);
  json_t *opts = json_loads ((const char *) sqlite3_column_text (st, 5), 0, NULL);
  c->remove = json_is_true (json_object_get (opts, "remove"));
  c->command = strdup (json_string_value (json_object_get (opts, "command")) ?: "");
  c->stop_signal = strdup (json_string_value (json_object_get (opts, "stopSignal")) ?: "SIGTERM");
  c->stop_timeout = (int) json_integer_value (json_object_get (opts, "stopTimeout"));
  c->vm = json_is_true (json_object_get (opts, "vm"));
  const char *pod = json_string_value (json_object_get (opts, "pod"));
  c->pod = pod ? strdup (pod) : NULL;
  json_decref (opts);
  if (c->name == NULL || c->image_id == NULL || c->image == NULL || c->command == NULL
      || c->stop_signal == NULL || (pod && c->pod == NULL))
    {
      arca_engine_container_free (c);
      return NULL;
    }
  fill_status (e, c);
  return c;
}

#define SELECT_CONTAINER "SELECT id, name, image_id, image, created, options FROM containers "

int
arca_engine_get (struct arca_engine *e, const char *name_or_id,
                 struct arca_engine_container **ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  cleanup_free char *prefix = NULL;

  if (asprintf (&prefix, "%s%%", name_or_id) < 0)
    return arca_error_set (err, ENOMEM, "container lookup");
  /* Exact id or name first, then a unique id prefix (at least 3 chars). */
  const char *values[] = { name_or_id, name_or_id, NULL };
  if (arca_db_prepare (e->db, SELECT_CONTAINER "WHERE id = ?1 OR name = ?2", &st, err) < 0
      || arca_db_bind_texts (e->db, st, values, err) < 0)
    return -1;
  int r = sqlite3_step (st);
  if (r == SQLITE_ROW)
    {
      *ret = row_to_container (e, st);
      return *ret ? 0 : arca_error_set (err, ENOMEM, "container");
    }
  sqlite3_finalize (st);
  st = NULL;
  if (strlen (name_or_id) >= 3 && strspn (name_or_id, "0123456789abcdef") == strlen (name_or_id))
    {
      const char *pv[] = { prefix, NULL };
      if (arca_db_prepare (e->db, SELECT_CONTAINER "WHERE id LIKE ?1 LIMIT 2", &st, err) < 0
          || arca_db_bind_texts (e->db, st, pv, err) < 0)
        return -1;
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c
              = row_to_container (e, st);
          if (sqlite3_step (st) == SQLITE_ROW)
            return arca_error_set (err, EINVAL, "container id prefix `%s` is ambiguous",
                                   name_or_id);
          *ret = move_ptr (c);
          return *ret ? 0 : arca_error_set (err, ENOMEM, "container");
        }
    }
  return arca_error_set (err, ENOENT, "no such container: %s", name_or_id);
}

int
arca_engine_list (struct arca_engine *e, struct arca_engine_container ***ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  struct arca_engine_container **v = calloc (1, sizeof *v);
  size_t n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "list");
  if (arca_db_prepare (e->db, SELECT_CONTAINER "ORDER BY created DESC, id", &st, err) < 0)
    {
      free (v);
      return -1;
    }
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct arca_engine_container **grown = realloc (v, (n + 2) * sizeof *v);
      if (grown == NULL || (grown[n] = row_to_container (e, st)) == NULL)
        {
          arca_engine_containers_free (grown ? grown : v);
          return arca_error_set (err, ENOMEM, "list");
        }
      v = grown;
      v[++n] = NULL;
    }
  *ret = v;
  return 0;
}

/* ---- create ------------------------------------------------------------- */

static int
new_id (char *out, arca_error **err)
{
  unsigned char bytes[32];

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    return arca_error_errno (err, "getrandom");
  for (size_t i = 0; i < sizeof bytes; i++)
    sprintf (out + 2 * i, "%02x", bytes[i]);
  return 0;
}

static int
valid_name (const char *name, arca_error **err)
{
  size_t len = strlen (name);

  if (len == 0 || len > 128 || strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789_.-")
                                    != len
      || name[0] == '.' || name[0] == '-' || name[0] == '_')
    return arca_error_set (err, EINVAL,
                           "invalid container name `%s`: use [a-zA-Z0-9][a-zA-Z0-9_.-]*", name);
  return 0;
}

int
arca_engine_check_name (struct arca_engine *e, const char *name, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { name, NULL };

  if (valid_name (name, err) < 0)
    return -1;
  if (arca_db_prepare (e->db, "SELECT 1 FROM containers WHERE name = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    return arca_error_set (err, EEXIST, "the container name `%s` is already in use", name);
  return 0;
}

static int
write_text (const char *dir, const char *file, const char *text, arca_error **err)
{
  cleanup_free char *path = NULL;

  if (asprintf (&path, "%s/%s", dir, file) < 0)
    return arca_error_set (err, ENOMEM, "write");
  return arca_write_file_replace_at (AT_FDCWD, path, text, strlen (text), 0644, err);
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf for the container. */
static int
write_etc (const char *dir, const char *hostname, enum arca_network_mode net, arca_error **err)
{
  cleanup_free char *etc = NULL, *hosts = NULL, *host_resolv = NULL, *hn = NULL;

  if (asprintf (&etc, "%s/etc", dir) < 0 || asprintf (&hn, "%s\n", hostname) < 0
      || asprintf (&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                           "127.0.1.1\t%s\n", hostname) < 0)
    return arca_error_set (err, ENOMEM, "etc");
  if (arca_mkdir_p (etc, 0755, err) < 0 || write_text (etc, "hostname", hn, err) < 0
      || write_text (etc, "hosts", hosts, err) < 0)
    return -1;
  if (net == ARCA_NET_HOST
      && arca_read_file_at (AT_FDCWD, "/etc/resolv.conf", 65536, &host_resolv, NULL, NULL) == 0)
    return write_text (etc, "resolv.conf", host_resolv, err);
  return write_text (etc, "resolv.conf", "", err);
}

static int
layer_dirs (struct arca_engine *e, const struct arca_image_record *img, char ***ret,
            arca_error **err)
{
  char **v = calloc (img->n_layers + 1, sizeof *v);

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "layers");
  /* overlayfs wants the top layer first. */
  for (size_t i = 0; i < img->n_layers; i++)
    if (asprintf (&v[img->n_layers - 1 - i], "%s/layers/%s", e->root, img->layers[i].dir) < 0)
      {
        arca_strv_free (v);
        return arca_error_set (err, ENOMEM, "layers");
      }
  *ret = v;
  return 0;
}

static int
mount_root (struct arca_engine *e, const char *id, const char *image_id, arca_error **err)
{
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  cleanup_strv char **lowers = NULL;
  cleanup_free char *upper = NULL, *work = NULL, *merged = NULL;
  struct stat a, b;

  if (arca_engine_container_dir (e, id, "upper", &upper, err) < 0
      || arca_engine_container_dir (e, id, "work", &work, err) < 0
      || arca_engine_container_dir (e, id, "merged", &merged, err) < 0)
    return -1;
  cleanup_free char *parent = strdup (merged);
  if (parent == NULL)
    return arca_error_set (err, ENOMEM, "mount");
  *strrchr (parent, '/') = '\0';
  if (stat (merged, &a) == 0 && stat (parent, &b) == 0 && a.st_dev != b.st_dev)
    return 0; /* already mounted */
  if (arca_db_get_image (e->db, image_id, &img, err) < 0 || layer_dirs (e, img, &lowers, err) < 0)
    return -1;
  return arca_overlay_mount ((const char *const *) lowers, img->n_layers, upper, work, merged,
                             err);
}

static char *
join_args (const char *config_json)
{
  json_t *doc = json_loads (config_json, 0, NULL);
  json_t *args = json_object_get (json_object_get (doc, "process"), "args");
  size_t i, len = 0;
  json_t *v;
  char *out = NULL;

  json_array_foreach (args, i, v)
    len += json_string_length (v) + 1;
  out = calloc (1, len + 1);
  json_array_foreach (args, i, v)
    if (out)
      {
        if (i)
          strcat (out, " ");
        strcat (out, json_string_value (v));
      }
  json_decref (doc);
  return out;
}

struct create_undo {
  struct arca_engine *e;
  char *dir;
  char *merged;
  bool done;
  const char *id;
  int journal_fd;             /* the create-journal marker's lock, -1: none */
};

static void
create_undo (struct create_undo *u)
{
  if (!u->done && u->merged)
    arca_overlay_unmount (u->merged, NULL);
  if (!u->done && u->dir)
    arca_rm_rf_at (AT_FDCWD, u->dir, NULL);
  /* Last: until here a kill leaves the marker for the next command. */
  arca_create_journal_end (u->e, u->id, u->journal_fd);
  free (u->dir);
  free (u->merged);
}

int
arca_engine_create (struct arca_engine *e, const struct arca_create_request *req, char *ret_id,
                    arca_error **err)
{
  char id[ARCA_ENGINE_ID_LEN + 1], image_id[ARCA_DIGEST_LEN + 1];
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  _cleanup_ (arca_image_runconfig_freep) struct arca_image_runconfig *runcfg = NULL;
  cleanup_free char *config_blob = NULL, *name = NULL, *config = NULL, *etc = NULL;
  size_t config_len = 0;
  _cleanup_ (create_undo) struct create_undo undo = { .e = e, .id = id, .journal_fd = -1 };
  _cleanup_ (arca_volume_plan_freep) struct arca_volume_plan *vols = NULL;
  _cleanup_ (arca_ns_joins_clear) struct arca_ns_joins joins = { 0 };

  if (arca_engine_ensure_busybox (e, req->image, err) < 0)
    return -1;
  if (arca_db_resolve (e->db, req->image, image_id, err) < 0)
    return -1;
  if (arca_db_get_image (e->db, image_id, &img, err) < 0
      || arca_blob_read (e->store, image_id, CONFIG_BLOB_MAX, &config_blob, &config_len, err) < 0
      || arca_image_runconfig_parse (config_blob, config_len, &runcfg, err) < 0)
    return arca_error_wrap (err, "image `%s`", req->image);
  if (new_id (id, err) < 0)
    return -1;
  /* --pod, container:NAME: checked (and a pod's infra started) before
   * anything is made. */
  if (arca_ns_joins_resolve (e, req, &joins, err) < 0)
    return -1;
  if (req->name)
    {
      if (valid_name (req->name, err) < 0)
        return -1;
      name = strdup (req->name);
    }
  else if (asprintf (&name, "arca-%.12s", id) < 0)
    name = NULL;
  if (name == NULL)
    return arca_error_set (err, ENOMEM, "create");
  /* The name is claimed first: a conflict leaves nothing behind. */
  {
    cleanup_stmt sqlite3_stmt *st = NULL;
    const char *v[] = { name, NULL };
    if (arca_db_prepare (e->db, "SELECT 1 FROM containers WHERE name = ?1", &st, err) < 0
        || arca_db_bind_texts (e->db, st, v, err) < 0)
      return -1;
    if (sqlite3_step (st) == SQLITE_ROW)
      return arca_error_set (err, EEXIST, "the container name `%s` is already in use", name);
  }
  if (arca_engine_container_dir (e, id, NULL, &undo.dir, err) < 0
      || arca_engine_container_dir (e, id, "merged", &undo.merged, err) < 0
      || arca_engine_container_dir (e, id, "etc", &etc, err) < 0)
    return -1;
  /* The upper directory's own mode becomes that of the container's "/". */
  static const struct
  {
    const char *name;
    mode_t mode;
  } subdirs[] = { { "upper", 0755 }, { "work", 0700 }, { "merged", 0755 } };
  if (arca_create_journal_begin (e, id, &undo.journal_fd, err) < 0
      || arca_mkdir_p (undo.dir, 0700, err) < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE (subdirs); i++)
    {
      cleanup_free char *p = NULL;
      if (arca_engine_container_dir (e, id, subdirs[i].name, &p, err) < 0)
        return -1;
      if (mkdir (p, subdirs[i].mode) < 0 || chmod (p, subdirs[i].mode) < 0)
        return arca_error_errno (err, "create `%s`", p);
    }
  char hostname[13];
  snprintf (hostname, sizeof hostname, "%.12s", id);
  struct arca_run_spec spec = req->spec;
  if (spec.hostname == NULL)
    spec.hostname = hostname;
  spec.etc_dir = etc;
  cleanup_free char *cgroup_path = NULL;
  if (asprintf (&cgroup_path, "/arca/%s", id) < 0)
    return arca_error_set (err, ENOMEM, "create");
  spec.cgroup_path = cgroup_path;
  spec.annotations = req->labels;
  arca_ns_joins_apply (&joins, &spec);
  if (write_etc (undo.dir, spec.hostname, spec.network, err) < 0
      || mount_root (e, id, image_id, err) < 0
      || arca_volume_plan_build (e, undo.merged, spec.mounts, spec.n_mounts, runcfg->volumes,
                                 &vols, err) < 0)
    return -1;
  spec.mounts = vols->mounts;
  spec.n_mounts = vols->n_mounts;
  if (arca_engine_spec_build (runcfg, &spec, undo.merged, &config, err) < 0
      || write_text (undo.dir, "config.json", config, err) < 0)
    return -1;

  cleanup_free char *command = join_args (config);
  const char *stop_signal = req->stop_signal ? req->stop_signal
                            : runcfg->stop_signal ? runcfg->stop_signal : "SIGTERM";
  if (arca_signal_parse (stop_signal) < 0)
    return arca_error_set (err, EINVAL, "invalid stop signal `%s`", stop_signal);
  _cleanup_ (json_decrefp) json_t *opts = json_pack (
      "{s:b, s:i, s:i, s:s, s:i, s:s, s:s, s:o*}", "remove", req->remove, "restart", (int) req->restart,
      "maxRestarts", (int) req->max_restarts, "stopSignal", stop_signal, "stopTimeout",
      req->stop_timeout >= 0 ? req->stop_timeout : 10, "command", command ? command : "",
      "network", spec.network == ARCA_NET_HOST ? "host" : spec.network == ARCA_NET_BRIDGE ? (spec.network_name ? "user" : "bridge")
                 : spec.network == ARCA_NET_CONTAINER ? "container" : "none",
      "bridge", spec.network == ARCA_NET_BRIDGE ? arca_bridge_options_json (&spec, runcfg->exposed_ports) : NULL);
  if (opts && arca_ns_joins_to_options (&joins, opts, err) < 0)
    return -1;
  /* -t/-i: the monitor owns the terminal or the stdin pipe (attach). */
  if (opts
      && (json_object_set_new (opts, "tty", json_boolean (spec.tty)) < 0
          || json_object_set_new (opts, "interactive", json_boolean (req->interactive)) < 0))
    return arca_error_set (err, ENOMEM, "create");
  cleanup_free char *opts_text = opts ? json_dumps (opts, JSON_COMPACT) : NULL;
  char created[32];
  snprintf (created, sizeof created, "%lld", (long long) time (NULL));
  const char *values[] = { id, name, image_id, req->image, created, opts_text, NULL };
  if (opts_text == NULL)
    return arca_error_set (err, ENOMEM, "create");
  if (arca_volume_plan_commit (e, vols, id, err) < 0)
    return -1;
  /* --network NAME: the membership (checked: the network exists). */
  if (spec.network == ARCA_NET_BRIDGE && spec.network_name
      && arca_network_member_add (e, id, spec.network_name, spec.network_aliases, spec.ip,
                                  spec.mac_address, err) < 0)
    return -1;
  if (arca_db_exec (e->db,
                    "INSERT INTO containers (id, name, image_id, image, created, options) "
                    "VALUES (?1, ?2, ?3, ?4, CAST(?5 AS INTEGER), ?6)",
                    values, err)
      < 0)
    {
      cleanup_error arca_error *ignored = NULL;
      arca_network_forget (e, id, &ignored);
      if ((*err)->msg && strstr ((*err)->msg, "UNIQUE"))
        {
          arca_error_freep (err);
          return arca_error_set (err, EEXIST, "the container name `%s` is already in use", name);
        }
      return -1;
    }
  undo.done = vols->keep = true;
  memcpy (ret_id, id, sizeof id);
  return 0;
}

/* ---- start, stop, wait, remove ---------------------------------------- */

static int
options_of (struct arca_engine *e, const char *id, json_t **ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { id, NULL };

  if (arca_db_prepare (e->db, "SELECT options FROM containers WHERE id = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return arca_error_set (err, ENOENT, "no such container: %s", id);
  *ret = json_loads ((const char *) sqlite3_column_text (st, 0), 0, NULL);
  return *ret ? 0 : arca_error_set (err, EINVAL, "container %s: corrupt options", id);
}

static const struct arca_network_driver *
network_of (struct arca_engine *e, const char *id, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *opts = NULL;

  if (options_of (e, id, &opts, err) < 0)
    return NULL;
  const char *name = json_string_value (json_object_get (opts, "network"));
  const struct arca_network_driver *mode = arca_network_driver_find (name ? name : "none");
  if (mode == NULL)
    arca_error_set (err, ENOTSUP, "container %s: unknown network mode `%s`", id, name);
  return mode;
}

/* The monitor's hook between create and start. */
static int
network_attach (void *userdata, const char *id, pid_t init_pid, arca_error **err)
{
  struct arca_engine *e = userdata;
  const struct arca_network_driver *mode = network_of (e, id, err);

  if (mode == NULL)
    return -1;
  return mode->attach ? mode->attach (e, id, init_pid, err) : 0;
}

int
arca_engine_network_attach (struct arca_engine *e, const char *id, pid_t init_pid,
                            arca_error **err)
{
  return network_attach (e, id, init_pid, err);
}

static void
network_detach (struct arca_engine *e, const char *id)
{
  cleanup_error arca_error *ignored = NULL;
  const struct arca_network_driver *mode = network_of (e, id, &ignored);

  if (mode && mode->detach)
    mode->detach (e, id, &ignored);
}

/* arca-netattach, installed beside arca-monitor (libexec/arca) or in its
 * own folder of the build tree: the attach without loading all of arca's
 * libraries.  NULL when there is none: then `arca container-network-attach`. */
static char *
netattach_path (const char *monitor_path)
{
  static const char *const relative[] = { "arca-netattach", "../netattach/arca-netattach" };
  const char *slash = monitor_path ? strrchr (monitor_path, '/') : NULL;

  for (size_t i = 0; slash && i < ARRAY_SIZE (relative); i++)
    {
      char *candidate = NULL;
      if (asprintf (&candidate, "%.*s/%s", (int) (slash - monitor_path), monitor_path, relative[i]) < 0)
        return NULL;
      if (access (candidate, X_OK) == 0)
        return candidate;
      free (candidate);
    }
  return NULL;
}

static void wait_monitor_gone (struct arca_engine *e, const char *id);
static bool monitor_is_alive (struct arca_engine *e, const char *id);

static int start_monitor (struct arca_engine *e, const char *name_or_id, bool wait_attach,
                          char *ret_id, pid_t *ret_pid, arca_error **err);

int
arca_engine_start (struct arca_engine *e, const char *name_or_id, pid_t *ret_pid,
                   arca_error **err)
{
  char id[ARCA_ENGINE_ID_LEN + 1];

  return start_monitor (e, name_or_id, false, id, ret_pid, err);
}

/* The container's monitor relays for us (engine/attach.h).  An end
 * without an exit code (the monitor was killed) asks the runtime. */
static int
attach_to (struct arca_engine *e, const char *id, const struct arca_attach_options *o,
           int *ret_exit_code, bool *ret_detached, arca_error **err)
{
  cleanup_free char *dir = NULL;
  bool exited = false, detached = false;
  int code = 0;

  if (arca_engine_container_dir (e, id, NULL, &dir, err) < 0)
    return -1;
  cleanup_close int sock = arca_attach_connect (dir, err);
  if (sock < 0 || arca_attach_relay (sock, o, &exited, &code, &detached, err) < 0)
    return -1;
  if (!exited && !detached)
    {
      cleanup_error arca_error *gone = NULL;
      if (arca_engine_wait (e, id, &code, &gone) < 0)
        code = 0; /* removed (--rm): the code went with it */
    }
  *ret_exit_code = code;
  *ret_detached = detached;
  return 0;
}

/* --rm: the monitor's exit command removes the container just after it
 * told us the exit code; `run` returns once it is gone. */
static void
wait_removed (struct arca_engine *e, const char *id)
{
  unsigned pause_ms = 1;

  for (int64_t start = arca_engine_now_ms (); arca_engine_now_ms () - start < 10000;)
    {
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
      cleanup_error arca_error *gone = NULL;
      if (arca_engine_get (e, id, &c, &gone) < 0 || !c->remove)
        return;
      arca_engine_backoff_sleep (&pause_ms);
    }
}

int
arca_engine_attach (struct arca_engine *e, const char *name_or_id,
                    const struct arca_attach_options *o, int *ret_exit_code, bool *ret_detached,
                    arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED)
    return arca_error_set (err, EINVAL, "container %s is not running: cannot attach to it",
                           c->name);
  if (attach_to (e, c->id, o, ret_exit_code, ret_detached, err) < 0)
    return arca_error_wrap (err, "attach to %s", c->name);
  if (!*ret_detached)
    wait_removed (e, c->id);
  return 0;
}

int
arca_engine_start_attach (struct arca_engine *e, const char *name_or_id,
                          const struct arca_attach_options *o, int *ret_exit_code,
                          bool *ret_detached, arca_error **err)
{
  char id[ARCA_ENGINE_ID_LEN + 1];

  if (start_monitor (e, name_or_id, true, id, NULL, err) < 0)
    return -1;
  if (attach_to (e, id, o, ret_exit_code, ret_detached, err) < 0)
    {
      /* Nobody will start it: the monitor's client is gone. */
      cleanup_error arca_error *ignored = NULL;
      arca_engine_stop (e, id, 0, &ignored);
      return -1;
    }
  if (!*ret_detached)
    wait_removed (e, id);
  return 0;
}

static int
start_monitor (struct arca_engine *e, const char *name_or_id, bool wait_attach, char *ret_id,
               pid_t *ret_pid, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  _cleanup_ (json_decrefp) json_t *opts = NULL;
  cleanup_free char *dir = NULL, *log = NULL, *exit_file = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
    return arca_error_set (err, EBUSY, "container %s is already running", c->name);
  if (c->vm)
    return arca_error_set (err, ENOTSUP, "%s is a `run --vm` record: it cannot be started again",
                           c->name);
  wait_monitor_gone (e, c->id);
  if (options_of (e, c->id, &opts, err) < 0
      || arca_engine_container_dir (e, c->id, NULL, &dir, err) < 0
      || arca_engine_container_dir (e, c->id, "ctr.log", &log, err) < 0
      || arca_engine_container_dir (e, c->id, "exit.json", &exit_file, err) < 0)
    return -1;
  unlink (exit_file);
  /* Left over from an earlier run that was not cleaned up (crash). */
  arca_container_delete (&e->rt, c->id, true, NULL);
  if (arca_ns_joins_refresh (e, c->id, true, err) < 0)
    return -1;
  if (e->self_exe == NULL)
    return arca_error_set (err, ENOENT, "cannot find the arca binary for the monitor");
  if (mount_root (e, c->id, c->image_id, err) < 0)
    return -1;
  char *exit_command[] = { e->self_exe, "--root", e->root, "--run-root", e->run_root,
                           "container-cleanup", c->id, NULL };
  struct arca_monitor_options mo = {
    .rt = &e->rt,
    .id = c->id,
    .bundle = dir,
    .dir = dir,
    .log_path = log,
    .log_max_size = LOG_MAX_SIZE,
    .log_max_files = LOG_MAX_FILES,
    .restart = (enum arca_restart_policy) json_integer_value (json_object_get (opts, "restart")),
    .max_restarts = (unsigned) json_integer_value (json_object_get (opts, "maxRestarts")),
    .exit_command = exit_command,
    .monitor_path = e->monitor_path,
    .terminal = json_is_true (json_object_get (opts, "tty")),
    .stdin_open = json_is_true (json_object_get (opts, "interactive")),
    .wait_attach = wait_attach,
    /* --pid container:NAME: NAME's processes can see the monitor's. */
    .sealed = json_object_get (json_object_get (opts, "joins"), "pid") != NULL,
  };
  /* The driver's attach runs as `arca-netattach ID PID` (or `arca
   * container-network-attach ID PID`) from the monitor, which is a small
   * program of its own. */
  cleanup_free char *netattach = netattach_path (e->monitor_path);
  char *attach_command[] = { netattach ? netattach : e->self_exe, "--root", e->root, "--run-root",
                             e->run_root, netattach ? c->id : "container-network-attach",
                             netattach ? NULL : c->id, NULL };
  const struct arca_network_driver *driver = network_of (e, c->id, err);
  if (driver == NULL)
    return -1;
  if (driver->attach)
    mo.before_start_command = attach_command;
  if (mo.monitor_path == NULL)
    {
      /* No arca-monitor next to us (unit tests): an in-process monitor. */
      mo.before_start = network_attach;
      mo.before_start_command = NULL;
      mo.userdata = e;
    }
  pid_t monitor = 0, pid = 0;
  if (arca_monitor_start (&mo, &monitor, &pid, err) < 0)
    {
      cleanup_error arca_error *ignored = NULL;
      arca_engine_cleanup (e, c->id, &ignored);
      return -1;
    }
  uint64_t monitor_start = 0;
  char text[64];
  cleanup_free char *monitor_file = NULL;
  if (arca_pid_start_time (monitor, &monitor_start, err) == 0
      && arca_engine_container_dir (e, c->id, "monitor.pid", &monitor_file, err) == 0)
    {
      int n = snprintf (text, sizeof text, "%d %llu", (int) monitor, (unsigned long long) monitor_start);
      arca_write_file_replace_at (AT_FDCWD, monitor_file, text, (size_t) n, 0644, err);
    }
  /* Without the file the status falls back to the runtime's and exit.json:
   * not worth failing a started container for. */
  arca_error_freep (err);
  if (ret_pid)
    *ret_pid = pid;
  memcpy (ret_id, c->id, sizeof c->id);
  return 0;
}

static int
write_exit_json (const char *dir, int code, arca_error **err)
{
  struct timespec ts;
  char text[128];

  clock_gettime (CLOCK_REALTIME, &ts);
  int n = snprintf (text, sizeof text, "{\"exitCode\":%d,\"finishedNs\":%lld,\"restarts\":0}",
                    code, (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec);
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/exit.json", dir) < 0)
    return arca_error_set (err, ENOMEM, "exit.json");
  return arca_write_file_atomic_at (AT_FDCWD, path, text, (size_t) n, 0644, err);
}

int
arca_engine_run_attached (struct arca_engine *e, const char *name_or_id, int *ret_exit_code,
                          arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free char *dir = NULL, *exit_file = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
    return arca_error_set (err, EBUSY, "container %s is already running", c->name);
  if (c->vm)
    return arca_error_set (err, ENOTSUP, "%s is a `run --vm` record: it cannot be started again",
                           c->name);
  if (arca_engine_container_dir (e, c->id, NULL, &dir, err) < 0
      || arca_engine_container_dir (e, c->id, "exit.json", &exit_file, err) < 0)
    return -1;
  unlink (exit_file);
  arca_container_delete (&e->rt, c->id, true, NULL);
  if (arca_ns_joins_refresh (e, c->id, false, err) < 0
      || mount_root (e, c->id, c->image_id, err) < 0)
    return -1;
  struct arca_create_options co = { .id = c->id, .bundle = dir };
  int status = 0;
  int r = arca_container_run (&e->rt, &co, false, &status, err);
  if (r == 0)
    {
      *ret_exit_code = status;
      write_exit_json (dir, status, &ignored);
    }
  arca_engine_cleanup (e, c->id, &ignored);
  return r;
}

/* Polls start fast (a short container is done in a few ms) and slow down
 * to 50 ms, so neither latency nor an idle `logs -f` costs much. */
void
arca_engine_backoff_sleep (unsigned *ms)
{
  struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) *ms * 1000000L };

  nanosleep (&ts, NULL);
  if (*ms < 50)
    *ms = *ms * 2 > 50 ? 50 : *ms * 2;
}

int64_t
arca_engine_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
wait_exited (struct arca_engine *e, const char *id, bool vm, int timeout_ms)
{
  cleanup_free char *dir = NULL;
  cleanup_error arca_error *ignored = NULL;
  struct arca_exit_info info;

  if (arca_engine_container_dir (e, id, NULL, &dir, &ignored) < 0)
    return false;
  unsigned pause_ms = 1;
  int64_t start = arca_engine_now_ms ();
  if (vm)
    {
      /* No runtime state: exit.json, or a monitor that died without one. */
      while (timeout_ms < 0 || arca_engine_now_ms () - start <= timeout_ms)
        {
          bool done = false;
          if ((arca_monitor_exit_info (dir, &done, &info, &ignored) == 0 && done)
              || !monitor_is_alive (e, id))
            return true;
          arca_error_freep (&ignored);
          arca_engine_backoff_sleep (&pause_ms);
        }
      return false;
    }
  while (timeout_ms < 0 || arca_engine_now_ms () - start <= timeout_ms)
    {
      bool done = false;
      if (arca_monitor_exit_info (dir, &done, &info, &ignored) == 0 && done)
        return true;
      /* Nobody will write exit.json (its monitor, or the `arca` that ran
       * it attached, was killed): the runtime's "stopped" is the answer. */
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
      if (arca_engine_get (e, id, &c, &ignored) == 0 && c->status == ARCA_ENGINE_EXITED)
        return true;
      arca_error_freep (&ignored);
      cleanup_close int fd = -1;
      if (arca_state_dir_open (e->rt.state_root, id, false, &fd, &ignored) < 0)
        {
          arca_error_freep (&ignored);
          struct timespec ts = { 0, 20 * 1000 * 1000 };
          nanosleep (&ts, NULL);
          if (arca_monitor_exit_info (dir, &done, &info, &ignored) == 0 && done)
            return true;
          return false;
        }
      arca_engine_backoff_sleep (&pause_ms);
    }
  return false;
}

int
arca_engine_kill (struct arca_engine *e, const char *name_or_id, int sig, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED)
    return arca_error_set (err, EINVAL, "container %s is not running", c->name);
  if (c->vm)
    {
      /* To the guest's command, through the monitor and the agent. */
      cleanup_free char *dir = NULL;
      if (arca_engine_container_dir (e, c->id, NULL, &dir, err) < 0)
        return -1;
      return arca_vm_monitor_kill (dir, sig, err);
    }
  return arca_container_kill (&e->rt, c->id, sig, false, err);
}

/* A `run --vm -d`: the stop signal to the command, then the VM powered
 * off (exit code 137). */
static int
stop_vm (struct arca_engine *e, const struct arca_engine_container *c, int timeout,
         arca_error **err)
{
  cleanup_free char *dir = NULL;
  cleanup_error arca_error *ignored = NULL;
  int sig = arca_signal_parse (c->stop_signal);

  if (arca_engine_container_dir (e, c->id, NULL, &dir, err) < 0)
    return -1;
  if (timeout > 0 && arca_vm_monitor_kill (dir, sig > 0 ? sig : SIGTERM, &ignored) == 0
      && wait_exited (e, c->id, true, timeout * 1000))
    return 0;
  arca_error_freep (&ignored);
  arca_vm_monitor_poweroff (dir, &ignored);
  if (!wait_exited (e, c->id, true, 10000))
    return arca_error_set (err, ETIMEDOUT, "container %s did not stop", c->name);
  return 0;
}

int
arca_engine_stop (struct arca_engine *e, const char *name_or_id, int timeout, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED)
    return 0; /* Docker: stopping a stopped container is fine */
  if (timeout < 0)
    timeout = c->stop_timeout;
  if (c->vm)
    return stop_vm (e, c, timeout, err);
  int sig = arca_signal_parse (c->stop_signal);
  if (c->status == ARCA_ENGINE_PAUSED)
    arca_container_pause (&e->rt, c->id, false, &ignored);
  arca_error_freep (&ignored);
  if (timeout > 0 && arca_container_kill (&e->rt, c->id, sig > 0 ? sig : SIGTERM, false, &ignored) == 0
      && wait_exited (e, c->id, false, timeout * 1000))
    return 0;
  arca_error_freep (&ignored);
  if (arca_container_kill (&e->rt, c->id, SIGKILL, true, &ignored) < 0)
    arca_error_freep (&ignored);
  if (!wait_exited (e, c->id, false, 10000))
    return arca_error_set (err, ETIMEDOUT, "container %s did not stop", c->name);
  return 0;
}

int
arca_engine_wait (struct arca_engine *e, const char *name_or_id, int *ret_exit_code,
                  arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  char id[ARCA_ENGINE_ID_LEN + 1];
  memcpy (id, c->id, sizeof id);
  for (;;)
    {
      if (c->status == ARCA_ENGINE_EXITED)
        {
          *ret_exit_code = c->exit_code;
          return 0;
        }
      if (c->status == ARCA_ENGINE_CREATED)
        return arca_error_set (err, EINVAL, "container %s is not running", c->name);
      wait_exited (e, id, c->vm, 1000);
      arca_engine_container_freep (&c);
      cleanup_error arca_error *gone = NULL;
      if (arca_engine_get (e, id, &c, &gone) < 0)
        {
          /* --rm removed it: the exit code went with it. */
          *ret_exit_code = 0;
          return arca_error_set (err, ENOENT, "container %s was removed", id);
        }
    }
}

/* A monitor that just wrote exit.json still runs its exit command
 * (container-cleanup: unmount, network detach) on the container's files:
 * rm and a new start wait for it rather than race it (bounded: a stuck
 * monitor does not keep them waiting). */
static void
wait_monitor_gone (struct arca_engine *e, const char *id)
{
  unsigned pause_ms = 1;

  for (int64_t start = arca_engine_now_ms (); monitor_is_alive (e, id) && arca_engine_now_ms () - start < 5000;)
    arca_engine_backoff_sleep (&pause_ms);
}

/* from_monitor: called by the monitor's own exit command, which must not
 * wait for the monitor that waits for it. */
static int
remove_everything (struct arca_engine *e, const char *id, bool vm, bool from_monitor,
                   arca_error **err)
{
  if (!from_monitor)
    wait_monitor_gone (e, id);
  cleanup_free char *dir = NULL, *merged = NULL;
  const char *v[] = { id, NULL };
  /* Killed or failed from here on, the next command finishes the removal
   * (create-journal.h): no row of a half-removed container stays. */
  cleanup_close int journal = -1;

  if (arca_remove_journal_begin (e, id, &journal, err) < 0)
    return -1;
  if (vm)
    {
      /* Its network (if the exit's cleanup did not get to it) and the
       * run's directory, then the record's as a container's. */
      arca_vm_record_release (e, id);
      if (arca_vm_record_remove_files (e, id, err) < 0)
        return -1;
    }
  arca_container_delete (&e->rt, id, true, NULL);
  network_detach (e, id);
  {
    cleanup_error arca_error *ignored = NULL;
    arca_network_forget (e, id, &ignored);
  }
  if (arca_engine_container_dir (e, id, NULL, &dir, err) < 0
      || arca_engine_container_dir (e, id, "merged", &merged, err) < 0)
    return -1;
  if (arca_overlay_unmount (merged, err) < 0)
    return -1;
  /* The row goes last: until then `rm` can be retried. */
  if (arca_rm_rf_at (AT_FDCWD, dir, err) < 0
      || arca_db_exec (e->db, "DELETE FROM containers WHERE id = ?1", v, err) < 0)
    return -1;
  arca_remove_journal_end (e, id, move_fd (journal));
  return 0;
}

int
arca_engine_finish_removal (struct arca_engine *e, const char *id, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_error arca_error *gone = NULL;
  cleanup_free char *dir = NULL;

  if (arca_engine_get (e, id, &c, &gone) == 0)
    {
      /* Started again since (not by arca: its files were going): leave it. */
      if (c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
        return 0;
      return remove_everything (e, c->id, c->vm, true, err);
    }
  /* Killed after the row went: at most its directory is left. */
  if (arca_engine_container_dir (e, id, NULL, &dir, err) < 0)
    return -1;
  if (arca_rm_rf_at (AT_FDCWD, dir, err) < 0 && (*err)->errnum != ENOENT)
    return -1;
  arca_error_freep (err);
  return 0;
}

int
arca_engine_remove (struct arca_engine *e, const char *name_or_id, bool force, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0 || arca_pod_check_remove (e, c->id, err) < 0)
    return -1;
  if (c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
    {
      if (!force)
        return arca_error_set (err, EBUSY,
                               "container %s is running: stop it first or use rm -f", c->name);
      if (arca_engine_stop (e, c->id, 0, err) < 0)
        return -1;
    }
  return remove_everything (e, c->id, c->vm, false, err);
}

int
arca_engine_cleanup (struct arca_engine *e, const char *id, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free char *merged = NULL;

  if (arca_engine_get (e, id, &c, err) < 0)
    return -1;
  if (c->remove)
    return remove_everything (e, c->id, c->vm, true, err) < 0 ? -1 : arca_volume_release (e, c->id, true, err);
  if (c->vm)
    {
      /* The VM is gone: its tap, address and ports go with it. */
      arca_vm_record_release (e, c->id);
      return 0;
    }
  arca_container_delete (&e->rt, c->id, true, NULL);
  network_detach (e, c->id);
  if (arca_engine_container_dir (e, c->id, "merged", &merged, err) < 0)
    return -1;
  return arca_overlay_unmount (merged, err);
}
