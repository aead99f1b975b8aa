/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* top, stats, pause/unpause, update, rename. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/network-user.h"
#include "engine/stats.h"
#include "image/db-internal.h" /* the engine's rows live in the image database */
#include "util/cleanup.h"
#include "util/fs.h"

#define CONFIG_MAX (4 * 1024 * 1024)

static int
running (struct arca_engine *e, const char *name_or_id, struct arca_engine_container **ret,
         arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED)
    return arca_error_set (err, ENOTCONN, "container %s is not running", c->name);
  *ret = move_ptr (c);
  return 0;
}

int
arca_engine_stats (struct arca_engine *e, const char *name_or_id, struct arca_cgroup_stats *ret,
                   arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  cleanup_free char *path = NULL;

  if (running (e, name_or_id, &c, err) < 0)
    return -1;
  /* The path arca_engine_create gave the container (linux.cgroupsPath). */
  if (asprintf (&path, "/arca/%s", c->id) < 0)
    return arca_error_set (err, ENOMEM, "stats");
  if (arca_cgroup_open (e->rt.cgroup_root, path, &cg, err) < 0
      || arca_cgroup_stats (cg, ret, err) < 0)
    return arca_error_wrap (err, "stats of %s", c->name);
  return 0;
}

/* ---- top ---------------------------------------------------------------- */

void
arca_top_rows_free (struct arca_top_row *rows, size_t count)
{
  for (size_t i = 0; rows && i < count; i++)
    free (rows[i].cmd);
  free (rows);
}

static int64_t
boot_time (void)
{
  cleanup_free char *text = NULL;
  cleanup_error arca_error *ignored = NULL;
  long long btime = 0;

  if (arca_read_file_at (AT_FDCWD, "/proc/stat", 1 << 20, &text, NULL, &ignored) < 0)
    return 0;
  const char *p = strstr (text, "\nbtime ");
  if (p)
    sscanf (p, "\nbtime %lld", &btime);
  return btime;
}

/* Fills row from /proc/<pid>; false when the process is gone. */
static bool
read_proc (pid_t pid, int64_t btime, struct arca_top_row *row)
{
  char path[64];
  cleanup_free char *stat = NULL, *status = NULL, *cmdline = NULL;
  cleanup_error arca_error *ignored = NULL;
  size_t len = 0;
  long tick = sysconf (_SC_CLK_TCK);

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (arca_read_file_at (AT_FDCWD, path, 4096, &stat, NULL, &ignored) < 0)
    return false;
  /* comm may hold spaces and ')': the fields start after the last ')'. */
  char *open_paren = strchr (stat, '('), *close_paren = strrchr (stat, ')');
  if (open_paren == NULL || close_paren == NULL)
    return false;
  unsigned long long utime = 0, stime = 0, start = 0;
  int ppid = 0;
  if (sscanf (close_paren + 2,
              "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
              &ppid, &utime, &stime, &start) != 4)
    return false;
  row->pid = pid;
  row->ppid = ppid;
  row->cpu_ns = (utime + stime) * (1000000000ULL / (unsigned long long) (tick > 0 ? tick : 100));
  row->start = btime + (int64_t) (start / (unsigned long long) (tick > 0 ? tick : 100));
  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  if (arca_read_file_at (AT_FDCWD, path, 65536, &status, NULL, &ignored) == 0)
    {
      const char *u = strstr (status, "\nUid:");
      unsigned uid = 0;
      if (u && sscanf (u, "\nUid:\t%u", &uid) == 1)
        row->uid = uid;
    }
  arca_error_freep (&ignored);
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  if (arca_read_file_at (AT_FDCWD, path, 65536, &cmdline, &len, &ignored) == 0 && len > 0)
    {
      for (size_t i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      row->cmd = move_ptr (cmdline);
    }
  else if (asprintf (&row->cmd, "[%.*s]", (int) (close_paren - open_paren - 1), open_paren + 1) < 0)
    row->cmd = NULL;
  return row->cmd != NULL;
}

int
arca_engine_top (struct arca_engine *e, const char *name_or_id, struct arca_top_row **ret,
                 size_t *ret_count, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0, count = 0;

  if (running (e, name_or_id, &c, err) < 0
      || arca_container_pids (&e->rt, c->id, &pids, &n, err) < 0)
    return -1;
  struct arca_top_row *rows = calloc (n + 1, sizeof *rows);
  if (rows == NULL)
    return arca_error_set (err, ENOMEM, "top");
  int64_t btime = boot_time ();
  for (size_t i = 0; i < n; i++)
    if (read_proc (pids[i], btime, &rows[count]))
      count++;
  *ret = rows;
  *ret_count = count;
  return 0;
}

/* ---- pause, update, rename ---------------------------------------------- */

int
arca_engine_pause (struct arca_engine *e, const char *name_or_id, bool pause, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (running (e, name_or_id, &c, err) < 0)
    return -1;
  if (pause && c->status == ARCA_ENGINE_PAUSED)
    return arca_error_set (err, EINVAL, "container %s is already paused", c->name);
  if (!pause && c->status != ARCA_ENGINE_PAUSED)
    return arca_error_set (err, EINVAL, "container %s is not paused", c->name);
  return arca_container_pause (&e->rt, c->id, pause, err);
}

static void
json_putp (json_t **j)
{
  if (*j)
    json_decref (*j);
}

static json_t *
object_at (json_t *parent, const char *key)
{
  json_t *o = json_object_get (parent, key);
  if (!json_is_object (o))
    {
      o = json_object ();
      json_object_set_new (parent, key, o);
    }
  return o;
}

/* The new limits in config.json, for the next start. */
static int
save_resources (struct arca_engine *e, const char *id, const struct arca_oci_resources *r,
                arca_error **err)
{
  cleanup_free char *path = NULL, *text = NULL, *out = NULL;
  _cleanup_ (json_putp) json_t *doc = NULL;

  if (arca_engine_container_dir (e, id, "config.json", &path, err) < 0
      || arca_read_file_at (AT_FDCWD, path, CONFIG_MAX, &text, NULL, err) < 0)
    return -1;
  doc = json_loads (text, 0, NULL);
  if (!json_is_object (doc))
    return arca_error_set (err, EINVAL, "`%s`: not a JSON object", path);
  json_t *res = object_at (object_at (doc, "linux"), "resources");
  if (r->has_memory_limit)
    json_object_set_new (object_at (res, "memory"), "limit", json_integer (r->memory_limit));
  if (r->has_memory_swap)
    json_object_set_new (object_at (res, "memory"), "swap", json_integer (r->memory_swap));
  if (r->has_cpu_shares)
    json_object_set_new (object_at (res, "cpu"), "shares", json_integer ((json_int_t) r->cpu_shares));
  if (r->has_cpu_quota)
    json_object_set_new (object_at (res, "cpu"), "quota", json_integer (r->cpu_quota));
  if (r->has_cpu_period)
    json_object_set_new (object_at (res, "cpu"), "period", json_integer ((json_int_t) r->cpu_period));
  if (r->cpu_cpus)
    json_object_set_new (object_at (res, "cpu"), "cpus", json_string (r->cpu_cpus));
  if (r->has_pids_limit)
    json_object_set_new (object_at (res, "pids"), "limit", json_integer (r->pids_limit));
  out = json_dumps (doc, JSON_INDENT (2));
  if (out == NULL)
    return arca_error_set (err, ENOMEM, "config.json");
  return arca_write_file_atomic_at (AT_FDCWD, path, out, strlen (out), 0644, err);
}

int
arca_engine_update (struct arca_engine *e, const char *name_or_id,
                    const struct arca_update_request *req, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *cpus = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  if (req->memory)
    r.has_memory_limit = true, r.memory_limit = req->memory;
  if (req->memory_swap)
    r.has_memory_swap = true, r.memory_swap = req->memory_swap;
  if (req->cpus > 0)
    {
      r.has_cpu_period = r.has_cpu_quota = true;
      r.cpu_period = 100000;
      r.cpu_quota = (int64_t) (req->cpus * 100000.0);
    }
  if (req->cpu_shares)
    r.has_cpu_shares = true, r.cpu_shares = req->cpu_shares;
  if (req->pids_limit)
    r.has_pids_limit = true, r.pids_limit = req->pids_limit;
  if (req->cpuset_cpus && (r.cpu_cpus = cpus = strdup (req->cpuset_cpus)) == NULL)
    return arca_error_set (err, ENOMEM, "update");
  if ((c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
      && arca_container_update (&e->rt, c->id, &r, err) < 0)
    return arca_error_wrap (err, "update %s", c->name);
  if (save_resources (e, c->id, &r, err) < 0)
    return arca_error_wrap (err, "update %s", c->name);
  return 0;
}

int
arca_engine_rename (struct arca_engine *e, const char *name_or_id, const char *new_name,
                    arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  size_t len = strlen (new_name);

  if (len == 0 || len > 128
      || strspn (new_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len
      || new_name[0] == '.' || new_name[0] == '-' || new_name[0] == '_')
    return arca_error_set (err, EINVAL,
                           "invalid container name `%s`: use [a-zA-Z0-9][a-zA-Z0-9_.-]*", new_name);
  if (arca_engine_get (e, name_or_id, &c, err) < 0)
    return -1;
  const char *v[] = { new_name, c->id, NULL };
  if (arca_db_exec (e->db, "UPDATE containers SET name = ?1 WHERE id = ?2", v, err) < 0)
    {
      if ((*err)->msg && strstr ((*err)->msg, "UNIQUE"))
        {
          arca_error_freep (err);
          return arca_error_set (err, EEXIST, "the container name `%s` is already in use",
                                 new_name);
        }
      return -1;
    }
  /* Peers on its user networks find it by name through /etc/hosts lines. */
  if (arca_network_refresh_names (e, c->id, err) < 0)
    return arca_error_wrap (err, "rename %s: refresh the names of its networks", c->name);
  return 0;
}
