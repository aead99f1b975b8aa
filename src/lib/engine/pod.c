/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared namespaces (container:NAME) and pods; see pod.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine/pod.h"
#include "engine/volumes.h"
#include "image/db-internal.h" /* the pods live in the image database */
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define POD_NAME_MAX 128

static const char *const ns_types[] = { "network", "ipc", "uts", "pid" };
static const char *const ns_files[] = { "net", "ipc", "uts", "pid" };

/* ---- the table ---------------------------------------------------------- */

/* Created on first use; looked up first so that a read-only caller (rm of
 * a container) does not take the write lock for it. */
static int
ensure_table (struct arca_engine *e, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *none[] = { NULL };

  if (arca_db_prepare (e->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pods'",
                       &st, err)
      < 0)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    return 0;
  return arca_db_exec (e->db,
                       "CREATE TABLE IF NOT EXISTS pods ("
                       "  id TEXT PRIMARY KEY,"
                       "  name TEXT NOT NULL UNIQUE,"
                       "  infra_id TEXT NOT NULL,"
                       "  created INTEGER NOT NULL,"
                       "  options TEXT NOT NULL)",
                       none, err);
}

static int
tx_end (struct arca_engine *e, int r, arca_error **err)
{
  const char *none[] = { NULL };

  if (r >= 0 && arca_db_exec (e->db, "COMMIT", none, err) == 0)
    return 0;
  arca_db_exec (e->db, "ROLLBACK", none, NULL);
  return -1;
}

/* ---- rows --------------------------------------------------------------- */

void
arca_pod_free (struct arca_pod *p)
{
  if (p == NULL)
    return;
  free (p->name);
  free (p->infra_id);
  free (p->hostname);
  json_decref (p->options);
  arca_engine_containers_free (p->containers);
  free (p);
}

void
arca_pod_freep (struct arca_pod **p)
{
  arca_pod_free (*p);
  *p = NULL;
}

void
arca_pods_free (struct arca_pod **v)
{
  for (size_t i = 0; v && v[i]; i++)
    arca_pod_free (v[i]);
  free (v);
}

const char *
arca_pod_status_name (enum arca_pod_status s)
{
  switch (s)
    {
    case ARCA_POD_CREATED: return "Created";
    case ARCA_POD_RUNNING: return "Running";
    case ARCA_POD_DEGRADED: return "Degraded";
    case ARCA_POD_EXITED: return "Exited";
    }
  return "Unknown";
}

static bool
is_running (const struct arca_engine_container *c)
{
  return c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED;
}

/* The pod's containers, infra first, then by creation; and its status. */
static int
fill_containers (struct arca_engine *e, struct arca_pod *p, arca_error **err)
{
  cleanup_strv char **ids = NULL;
  const char *v[] = { p->id, p->infra_id, NULL };
  bool all_created = true;

  if (arca_db_strings (e->db,
                       "SELECT id FROM containers WHERE json_extract(options, '$.pod') = ?1 "
                       "ORDER BY id = ?2 DESC, created, id",
                       v, &ids, err)
      < 0)
    return -1;
  size_t n = 0;
  while (ids[n])
    n++;
  p->containers = calloc (n + 1, sizeof *p->containers);
  if (p->containers == NULL)
    return arca_error_set (err, ENOMEM, "pod");
  for (size_t i = 0; i < n; i++)
    {
      cleanup_error arca_error *gone = NULL;
      struct arca_engine_container *c = NULL;
      /* Removed between the two queries (a --rm member exiting). */
      if (arca_engine_get (e, ids[i], &c, &gone) < 0)
        continue;
      p->containers[p->n_containers++] = c;
      if (is_running (c))
        p->n_running++;
      if (c->status != ARCA_ENGINE_CREATED)
        all_created = false;
    }
  if (p->n_containers && p->n_running == p->n_containers)
    p->status = ARCA_POD_RUNNING;
  else if (p->n_running)
    p->status = ARCA_POD_DEGRADED;
  else
    p->status = all_created ? ARCA_POD_CREATED : ARCA_POD_EXITED;
  return 0;
}

static int
row_to_pod (struct arca_engine *e, sqlite3_stmt *st, struct arca_pod **ret, arca_error **err)
{
  _cleanup_ (arca_pod_freep) struct arca_pod *p = calloc (1, sizeof *p);
  const unsigned char *t;

  if (p == NULL)
    return arca_error_set (err, ENOMEM, "pod");
  snprintf (p->id, sizeof p->id, "%s", (const char *) sqlite3_column_text (st, 0));
  t = sqlite3_column_text (st, 1);
  p->name = strdup (t ? (const char *) t : "");
  t = sqlite3_column_text (st, 2);
  p->infra_id = strdup (t ? (const char *) t : "");
  p->created = sqlite3_column_int64 (st, 3);
  t = sqlite3_column_text (st, 4);
  p->options = json_loads (t ? (const char *) t : "{}", 0, NULL);
  if (p->name == NULL || p->infra_id == NULL)
    return arca_error_set (err, ENOMEM, "pod");
  if (!json_is_object (p->options))
    return arca_error_set (err, EINVAL, "pod %s: corrupt options", p->id);
  p->hostname = strdup (json_string_value (json_object_get (p->options, "hostname")) ?: p->name);
  if (p->hostname == NULL)
    return arca_error_set (err, ENOMEM, "pod");
  if (fill_containers (e, p, err) < 0)
    return -1;
  *ret = move_ptr (p);
  return 0;
}

#define SELECT_POD "SELECT id, name, infra_id, created, options FROM pods "

int
arca_pod_get (struct arca_engine *e, const char *name_or_id, struct arca_pod **ret,
              arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  cleanup_free char *prefix = NULL;
  const char *v[] = { name_or_id, NULL };

  if (ensure_table (e, err) < 0)
    return -1;
  if (arca_db_prepare (e->db, SELECT_POD "WHERE id = ?1 OR name = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    return row_to_pod (e, st, ret, err);
  sqlite3_finalize (st);
  st = NULL;
  size_t len = strlen (name_or_id);
  if (len >= 3 && strspn (name_or_id, "0123456789abcdef") == len)
    {
      if (asprintf (&prefix, "%s%%", name_or_id) < 0)
        return arca_error_set (err, ENOMEM, "pod");
      const char *pv[] = { prefix, NULL };
      if (arca_db_prepare (e->db, SELECT_POD "WHERE id LIKE ?1 LIMIT 2", &st, err) < 0
          || arca_db_bind_texts (e->db, st, pv, err) < 0)
        return -1;
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          _cleanup_ (arca_pod_freep) struct arca_pod *p = NULL;
          if (row_to_pod (e, st, &p, err) < 0)
            return -1;
          if (sqlite3_step (st) == SQLITE_ROW)
            return arca_error_set (err, EINVAL, "pod id prefix `%s` is ambiguous", name_or_id);
          *ret = move_ptr (p);
          return 0;
        }
    }
  return arca_error_set (err, ENOENT, "no such pod: %s", name_or_id);
}

int
arca_pod_list (struct arca_engine *e, struct arca_pod ***ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  struct arca_pod **v = calloc (1, sizeof *v);
  size_t n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "pods");
  if (ensure_table (e, err) < 0
      || arca_db_prepare (e->db, SELECT_POD "ORDER BY created DESC, id", &st, err) < 0)
    {
      free (v);
      return -1;
    }
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct arca_pod **grown = realloc (v, (n + 2) * sizeof *v);
      if (grown == NULL)
        {
          arca_pods_free (v);
          return arca_error_set (err, ENOMEM, "pods");
        }
      v = grown;
      v[n + 1] = NULL;
      if (row_to_pod (e, st, &v[n], err) < 0)
        {
          v[n] = NULL;
          arca_pods_free (v);
          return -1;
        }
      n++;
    }
  *ret = v;
  return 0;
}

/* ---- joining namespaces ------------------------------------------------- */

void
arca_ns_joins_clear (struct arca_ns_joins *j)
{
  free (j->pod_id);
  for (size_t i = 0; i < ARRAY_SIZE (j->owner); i++)
    {
      free (j->owner[i]);
      free (j->path[i]);
    }
  free (j->etc_dir);
  free (j->hostname);
  memset (j, 0, sizeof *j);
}

/* The running owner of a namespace; a pod's infra is started if needed. */
static int
running_owner (struct arca_engine *e, const char *name_or_id, bool start, const char *flag,
               struct arca_engine_container **ret, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return arca_error_wrap (err, "%s", flag);
  if (!is_running (c) && start)
    {
      char id[ARCA_ENGINE_ID_LEN + 1];
      memcpy (id, c->id, sizeof id);
      arca_engine_container_freep (&c);
      if (arca_engine_start (e, id, NULL, err) < 0 || arca_engine_get (e, id, &c, err) < 0)
        return arca_error_wrap (err, "%s: start the pod's infra container", flag);
    }
  if (!is_running (c) || c->pid <= 0)
    return arca_error_set (err, EINVAL, "%s: container %s is not running", flag, c->name);
  *ret = move_ptr (c);
  return 0;
}

static int
set_owner (struct arca_ns_joins *j, int type, const struct arca_engine_container *c,
           arca_error **err)
{
  free (j->owner[type]);
  free (j->path[type]);
  j->owner[type] = strdup (c->id);
  if (j->owner[type] == NULL
      || asprintf (&j->path[type], "/proc/%d/ns/%s", (int) c->pid, ns_files[type]) < 0)
    {
      j->path[type] = NULL;
      return arca_error_set (err, ENOMEM, "namespaces");
    }
  return 0;
}

/* Options that the joined network namespace decides, Docker's wording. */
static int
check_conflicts (const struct arca_create_request *req, const char *mode, bool uts,
                 arca_error **err)
{
  const struct arca_run_spec *s = &req->spec;
  const char *what = NULL;

  if (s->publish || s->publish_all)
    what = "port publishing (-p, -P)";
  else if (s->ip)
    what = "--ip";
  else if (s->dns)
    what = "--dns";
  else if (s->add_hosts)
    what = "--add-host";
  else if (s->mac_address)
    what = "--mac-address";
  else if (s->hostname && uts)
    what = "--hostname";
  if (what)
    return arca_error_set (err, EINVAL, "conflicting options: %s and %s", what, mode);
  return 0;
}

static int
read_hostname (struct arca_engine *e, const char *id, char **ret, arca_error **err)
{
  cleanup_free char *path = NULL;

  if (arca_engine_container_dir (e, id, "etc/hostname", &path, err) < 0
      || arca_read_file_at (AT_FDCWD, path, 4096, ret, NULL, err) < 0)
    return -1;
  (*ret)[strcspn (*ret, "\n")] = '\0';
  return 0;
}

int
arca_ns_joins_resolve (struct arca_engine *e, const struct arca_create_request *req,
                       struct arca_ns_joins *ret, arca_error **err)
{
  _cleanup_ (arca_ns_joins_clear) struct arca_ns_joins j = { 0 };
  cleanup_free char *mode = NULL;

  memset (ret, 0, sizeof *ret);
  if (req->pod && (req->network_container || req->ipc_container))
    return arca_error_set (err, EINVAL, "conflicting options: --pod and %s container:",
                           req->network_container ? "--network" : "--ipc");
  if (req->pod)
    {
      _cleanup_ (arca_pod_freep) struct arca_pod *pod = NULL;
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *infra = NULL;
      if (arca_pod_get (e, req->pod, &pod, err) < 0)
        return -1;
      if (asprintf (&mode, "--pod %s", pod->name) < 0)
        return arca_error_set (err, ENOMEM, "pod");
      const char *net = json_string_value (json_object_get (pod->options, "network"));
      j.host_network = net && strcmp (net, "host") == 0;
      if (check_conflicts (req, mode, true, err) < 0
          || running_owner (e, pod->infra_id, true, mode, &infra, err) < 0)
        return -1;
      if ((!j.host_network && set_owner (&j, ARCA_JOIN_NET, infra, err) < 0)
          || set_owner (&j, ARCA_JOIN_IPC, infra, err) < 0
          || set_owner (&j, ARCA_JOIN_UTS, infra, err) < 0)
        return -1;
      if ((j.pod_id = strdup (pod->id)) == NULL)
        return arca_error_set (err, ENOMEM, "pod");
      if (arca_engine_container_dir (e, infra->id, "etc", &j.etc_dir, err) < 0)
        return -1;
    }
  if (req->network_container)
    {
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
      if (asprintf (&mode, "--network container:%s", req->network_container) < 0)
        return arca_error_set (err, ENOMEM, "network");
      if (check_conflicts (req, mode, false, err) < 0)
        return -1;
      if (req->spec.hostname)
        return arca_error_set (err, EINVAL, "conflicting options: --hostname and %s", mode);
      if (running_owner (e, req->network_container, false, mode, &c, err) < 0
          || set_owner (&j, ARCA_JOIN_NET, c, err) < 0
          || arca_engine_container_dir (e, c->id, "etc", &j.etc_dir, err) < 0)
        return -1;
    }
  static const int others[] = { ARCA_JOIN_IPC, ARCA_JOIN_PID };
  const char *names[] = { req->ipc_container, req->pid_container };
  for (size_t i = 0; i < ARRAY_SIZE (others); i++)
    if (names[i])
      {
        _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
        char flag[32];
        snprintf (flag, sizeof flag, "--%s container:", others[i] == ARCA_JOIN_IPC ? "ipc" : "pid");
        if (running_owner (e, names[i], false, flag, &c, err) < 0
            || set_owner (&j, others[i], c, err) < 0)
          return -1;
      }
  /* The hostname of the network's owner: Docker gives a container:NAME
   * container its owner's; pod members share the pod's uts namespace. */
  const char *owner = j.owner[ARCA_JOIN_UTS] ? j.owner[ARCA_JOIN_UTS] : j.owner[ARCA_JOIN_NET];
  if (owner && read_hostname (e, owner, &j.hostname, err) < 0)
    return -1;
  *ret = j;
  memset (&j, 0, sizeof j);
  return 0;
}

void
arca_ns_joins_apply (const struct arca_ns_joins *j, struct arca_run_spec *spec)
{
  spec->join_net = j->path[ARCA_JOIN_NET];
  spec->join_ipc = j->path[ARCA_JOIN_IPC];
  spec->join_uts = j->path[ARCA_JOIN_UTS];
  spec->join_pid = j->path[ARCA_JOIN_PID];
  if (j->path[ARCA_JOIN_NET])
    spec->network = ARCA_NET_CONTAINER;
  else if (j->host_network)
    spec->network = ARCA_NET_HOST;
  if (j->etc_dir)
    spec->etc_dir = j->etc_dir;
  if (j->hostname)
    spec->hostname = j->hostname;
}

int
arca_ns_joins_to_options (const struct arca_ns_joins *j, json_t *opts, arca_error **err)
{
  json_t *joins = json_object ();

  if (joins == NULL)
    return arca_error_set (err, ENOMEM, "options");
  for (size_t i = 0; i < ARRAY_SIZE (j->owner); i++)
    if (j->owner[i])
      json_object_set_new (joins, ns_types[i], json_string (j->owner[i]));
  if (json_object_size (joins))
    json_object_set_new (opts, "joins", joins);
  else
    json_decref (joins);
  if (j->pod_id)
    json_object_set_new (opts, "pod", json_string (j->pod_id));
  return 0;
}

int
arca_ns_joins_refresh (struct arca_engine *e, const char *id, bool monitored, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { id, NULL };

  if (arca_db_prepare (e->db, "SELECT options FROM containers WHERE id = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return arca_error_set (err, ENOENT, "no such container: %s", id);
  _cleanup_ (json_decrefp) json_t *opts
      = json_loads ((const char *) sqlite3_column_text (st, 0), 0, NULL);
  json_t *joins = json_object_get (opts, "joins");
  if (!json_is_object (joins) || json_object_size (joins) == 0)
    return 0;
  const char *pod_id = json_string_value (json_object_get (opts, "pod"));
  if (monitored && e->monitor_path == NULL && json_object_get (joins, "pid"))
    return arca_error_set (err, ENOTSUP, "--pid container: needs arca-monitor (not found beside "
                                         "arca): the in-process monitor cannot run sealed");

  cleanup_free char *config_path = NULL, *text = NULL;
  size_t len = 0;
  if (arca_engine_container_dir (e, id, "config.json", &config_path, err) < 0
      || arca_read_file_at (AT_FDCWD, config_path, 4 << 20, &text, &len, err) < 0)
    return -1;
  _cleanup_ (json_decrefp) json_t *config = json_loadb (text, len, 0, NULL);
  json_t *namespaces = json_object_get (json_object_get (config, "linux"), "namespaces");
  if (!json_is_array (namespaces))
    return arca_error_set (err, EINVAL, "`%s`: no linux.namespaces", config_path);
  for (size_t t = 0; t < ARRAY_SIZE (ns_types); t++)
    {
      const char *owner_id = json_string_value (json_object_get (joins, ns_types[t]));
      if (owner_id == NULL)
        continue;
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *owner = NULL;
      char flag[48];
      /* A pod's infra comes up with its first member. */
      bool start = pod_id != NULL;
      if (start)
        {
          _cleanup_ (arca_pod_freep) struct arca_pod *pod = NULL;
          cleanup_error arca_error *ignored = NULL;
          start = arca_pod_get (e, pod_id, &pod, &ignored) == 0
                  && strcmp (pod->infra_id, owner_id) == 0;
        }
      snprintf (flag, sizeof flag, "%s namespace", ns_types[t]);
      if (running_owner (e, owner_id, start, flag, &owner, err) < 0)
        return -1;
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) owner->pid, ns_files[t]);
      size_t i;
      json_t *ns;
      json_array_foreach (namespaces, i, ns)
        if (strcmp (json_string_value (json_object_get (ns, "type")) ?: "", ns_types[t]) == 0)
          json_object_set_new (ns, "path", json_string (path));
    }
  cleanup_free char *out = json_dumps (config, JSON_INDENT (2));
  if (out == NULL)
    return arca_error_set (err, ENOMEM, "config.json");
  return arca_write_file_replace_at (AT_FDCWD, config_path, out, strlen (out), 0644, err);
}

int
arca_pod_check_remove (struct arca_engine *e, const char *id, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { id, NULL };

  if (ensure_table (e, err) < 0
      || arca_db_prepare (e->db, "SELECT name FROM pods WHERE infra_id = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    return arca_error_set (err, EBUSY,
                           "container %.12s is the infra container of pod %s: remove the pod "
                           "(arca pod rm)",
                           id, (const char *) sqlite3_column_text (st, 0));
  return 0;
}

/* ---- create ------------------------------------------------------------- */

static int
valid_pod_name (const char *name, arca_error **err)
{
  size_t len = strlen (name);

  if (len == 0 || len > POD_NAME_MAX
      || strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len
      || name[0] == '.' || name[0] == '-' || name[0] == '_')
    return arca_error_set (err, EINVAL, "invalid pod name `%s`: use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                           name);
  return 0;
}

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

static json_t *
strv_json (char **v)
{
  json_t *a = json_array ();
  for (size_t i = 0; a && v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* The infra's row and the pod's row in one transaction: a crash leaves
 * either both or neither (the infra's directory, without a row, is what
 * `system check` finds of any interrupted create). */
static int
create_rows (struct arca_engine *e, const struct arca_create_request *infra_req, const char *id,
             const char *name, const char *opts_text, char *ret_infra_id, arca_error **err)
{
  const char *none[] = { NULL };
  char created[32];

  if (arca_db_exec (e->db, "BEGIN IMMEDIATE", none, err) < 0)
    return -1;
  int r = 0;
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *nv[] = { name, NULL };
  if (arca_db_prepare (e->db, "SELECT 1 FROM pods WHERE name = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, nv, err) < 0)
    r = -1;
  else if (sqlite3_step (st) == SQLITE_ROW)
    r = arca_error_set (err, EEXIST, "the pod name `%s` is already in use", name);
  if (r < 0)
    return tx_end (e, r, err);
  if (arca_engine_create (e, infra_req, ret_infra_id, err) < 0)
    return tx_end (e, -1, err);
  snprintf (created, sizeof created, "%lld", (long long) time (NULL));
  const char *pv[] = { id, name, ret_infra_id, created, opts_text, NULL };
  const char *cv[] = { id, ret_infra_id, NULL };
  r = arca_db_exec (e->db,
                    "INSERT INTO pods (id, name, infra_id, created, options) "
                    "VALUES (?1, ?2, ?3, CAST(?4 AS INTEGER), ?5)",
                    pv, err);
  if (r == 0)
    r = arca_db_exec (e->db,
                      "UPDATE containers SET options = json_set(options, '$.pod', ?1, "
                      "'$.infra', json('true')) WHERE id = ?2",
                      cv, err);
  if (r == 0 && tx_end (e, 0, err) == 0)
    return 0;
  /* The infra's files go too; its row goes with the rollback. */
  cleanup_error arca_error *ignored = NULL;
  arca_engine_remove (e, ret_infra_id, true, &ignored);
  return tx_end (e, -1, err);
}

int
arca_pod_create (struct arca_engine *e, const struct arca_pod_create_request *req, char *ret_id,
                 arca_error **err)
{
  char id[ARCA_ENGINE_ID_LEN + 1], infra_id[ARCA_ENGINE_ID_LEN + 1];
  cleanup_free char *name = NULL, *infra_name = NULL;

  if (req->init_path == NULL)
    return arca_error_set (err, ENOENT, "pod create: arca-init not found (set ARCA_INIT_PATH)");
  if (req->network == ARCA_NET_CONTAINER)
    return arca_error_set (err, EINVAL, "pod create: --network container: is not supported");
  if (req->publish && req->network != ARCA_NET_BRIDGE)
    return arca_error_set (err, EINVAL, "pod create: -p needs --network bridge");
  if (req->name && valid_pod_name (req->name, err) < 0)
    return -1;
  if (new_id (id, err) < 0 || ensure_table (e, err) < 0)
    return -1;
  if ((name = req->name ? strdup (req->name) : NULL) == NULL
      && asprintf (&name, "pod-%.12s", id) < 0)
    return arca_error_set (err, ENOMEM, "pod");
  if (asprintf (&infra_name, "%.12s-infra", id) < 0)
    return arca_error_set (err, ENOMEM, "pod");
  const char *hostname = req->hostname ? req->hostname : name;
  _cleanup_ (json_decrefp) json_t *opts
      = json_pack ("{s:s, s:s, s:o, s:o}", "hostname", hostname, "network",
                   req->network == ARCA_NET_HOST   ? "host"
                   : req->network == ARCA_NET_NONE ? "none"
                                                   : "bridge",
                   "publish", strv_json (req->publish), "labels", strv_json (req->labels));
  cleanup_free char *opts_text = opts ? json_dumps (opts, JSON_COMPACT) : NULL;
  if (opts_text == NULL)
    return arca_error_set (err, ENOMEM, "pod");
  /* Outside the transaction: building the image takes its own. */
  if (arca_engine_ensure_busybox (e, "busybox", err) < 0)
    return -1;
  struct arca_create_request infra = {
    .image = "busybox",
    .name = infra_name,
    .stop_timeout = 10,
    .labels = req->labels,
    .spec = {
      .network = req->network,
      .publish = req->publish,
      .hostname = (char *) hostname,
      .init_path = (char *) req->init_path,
      .pause = true,
    },
  };
  if (create_rows (e, &infra, id, name, opts_text, infra_id, err) < 0)
    return arca_error_wrap (err, "create pod `%s`", name);
  /* The pod exists from here; a failing start takes it away again. */
  if (arca_engine_start (e, infra_id, NULL, err) < 0)
    {
      cleanup_error arca_error *ignored = NULL;
      arca_pod_remove (e, id, true, &ignored);
      return arca_error_wrap (err, "start the infra container of pod `%s`", name);
    }
  memcpy (ret_id, id, sizeof id);
  return 0;
}

/* ---- the whole pod ------------------------------------------------------ */

/* Runs fn on each container of the pod: members then infra (reverse), or
 * infra then members.  Every container is tried; the first error is kept. */
static int
each (struct arca_engine *e, struct arca_pod *p, bool infra_last,
      int (*fn) (struct arca_engine *, struct arca_engine_container *, int, arca_error **),
      int arg, arca_error **err)
{
  int r = 0;
  size_t n = p->n_containers;

  for (size_t k = 0; k < n; k++)
    {
      size_t i = infra_last ? (k + 1) % n : k; /* infra is containers[0] */
      cleanup_error arca_error *one = NULL;
      if (fn (e, p->containers[i], arg, &one) < 0 && r == 0)
        {
          *err = move_ptr (one);
          r = arca_error_wrap (err, "pod %s", p->name);
        }
    }
  return r;
}

static int
start_one (struct arca_engine *e, struct arca_engine_container *c, int unused, arca_error **err)
{
  (void) unused;
  if (is_running (c))
    return 0;
  int r = arca_engine_start (e, c->id, NULL, err);
  if (r == 0)
    c->status = ARCA_ENGINE_RUNNING;
  return r;
}

static int
stop_one (struct arca_engine *e, struct arca_engine_container *c, int timeout, arca_error **err)
{
  return is_running (c) ? arca_engine_stop (e, c->id, timeout, err) : 0;
}

static int
kill_one (struct arca_engine *e, struct arca_engine_container *c, int sig, arca_error **err)
{
  return is_running (c) ? arca_engine_kill (e, c->id, sig, err) : 0;
}

int
arca_pod_start (struct arca_engine *e, const char *name_or_id, arca_error **err)
{
  _cleanup_ (arca_pod_freep) struct arca_pod *p = NULL;

  if (arca_pod_get (e, name_or_id, &p, err) < 0)
    return -1;
  return each (e, p, false, start_one, 0, err);
}

int
arca_pod_stop (struct arca_engine *e, const char *name_or_id, int timeout, arca_error **err)
{
  _cleanup_ (arca_pod_freep) struct arca_pod *p = NULL;

  if (arca_pod_get (e, name_or_id, &p, err) < 0)
    return -1;
  return each (e, p, true, stop_one, timeout, err);
}

int
arca_pod_kill (struct arca_engine *e, const char *name_or_id, int sig, arca_error **err)
{
  _cleanup_ (arca_pod_freep) struct arca_pod *p = NULL;

  if (arca_pod_get (e, name_or_id, &p, err) < 0)
    return -1;
  if (p->n_running == 0)
    return arca_error_set (err, EINVAL, "pod %s is not running", p->name);
  return each (e, p, true, kill_one, sig, err);
}

static int
remove_one (struct arca_engine *e, const char *id, arca_error **err)
{
  if (arca_engine_remove (e, id, true, err) < 0)
    return -1;
  return arca_volume_release (e, id, true, err);
}

int
arca_pod_remove (struct arca_engine *e, const char *name_or_id, bool force, arca_error **err)
{
  _cleanup_ (arca_pod_freep) struct arca_pod *p = NULL;
  const char *v[] = { NULL, NULL };

  if (arca_pod_get (e, name_or_id, &p, err) < 0)
    return -1;
  v[0] = p->id;
  if (p->n_running && !force)
    return arca_error_set (err, EBUSY,
                           "pod %s has running containers: stop it first or use pod rm -f",
                           p->name);
  /* Members first (they hold the infra's namespaces), then the pod's row,
   * then the infra: a crash in between leaves a plain container `rm` takes. */
  for (size_t i = 1; i < p->n_containers; i++)
    if (remove_one (e, p->containers[i]->id, err) < 0)
      return arca_error_wrap (err, "remove pod %s", p->name);
  if (arca_db_exec (e->db, "DELETE FROM pods WHERE id = ?1", v, err) < 0)
    return -1;
  cleanup_error arca_error *gone = NULL;
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *infra = NULL;
  if (arca_engine_get (e, p->infra_id, &infra, &gone) < 0)
    return 0; /* already gone (an earlier, interrupted rm) */
  if (remove_one (e, p->infra_id, err) < 0)
    return arca_error_wrap (err, "remove pod %s", p->name);
  return 0;
}

int
arca_pod_prune (struct arca_engine *e, char ***ret_removed, arca_error **err)
{
  struct arca_pod **pods = NULL;
  cleanup_strv char **removed = calloc (1, sizeof *removed);
  size_t n = 0;

  if (removed == NULL)
    return arca_error_set (err, ENOMEM, "prune");
  if (arca_pod_list (e, &pods, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; pods[i] && r == 0; i++)
    {
      if (pods[i]->n_running)
        continue;
      if (arca_pod_remove (e, pods[i]->id, false, err) < 0)
        {
          r = -1;
          break;
        }
      if (arca_strv_append (&removed, &n, pods[i]->id) < 0)
        {
          r = arca_error_errno (err, "prune");
          break;
        }
    }
  arca_pods_free (pods);
  if (r < 0)
    return -1;
  *ret_removed = move_ptr (removed);
  return 0;
}
