/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* system check, system prune, image prune, container prune. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/build.h"
#include "engine/network-user.h"
#include "engine/pod.h"
#include "engine/system.h"
#include "engine/volumes.h"
#include "image/check.h"
#include "image/db-internal.h" /* the engine's rows live in the image database */
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

void
arca_system_report_free (struct arca_system_report *r)
{
  if (r == NULL)
    return;
  arca_strv_free (r->problems);
  arca_strv_free (r->garbage);
  free (r);
}

void
arca_system_report_freep (struct arca_system_report **r)
{
  arca_system_report_free (*r);
  *r = NULL;
}

static bool
in (char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

/* Names in a directory (no dot files); an empty vector when it is missing. */
static int
list_dir (const char *path, char ***ret, arca_error **err)
{
  cleanup_strv char **v = calloc (1, sizeof (char *));
  cleanup_dir DIR *d = opendir (path);
  struct dirent *de;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "list `%s`", path);
  if (d == NULL && errno != ENOENT)
    return arca_error_errno (err, "list `%s`", path);
  while (d && (de = readdir (d)))
    if (de->d_name[0] != '.' && arca_strv_append (&v, NULL, de->d_name) < 0)
      return arca_error_set (err, ENOMEM, "list `%s`", path);
  *ret = move_ptr (v);
  return 0;
}

/* Ids of the containers whose processes may run (created ones too: their
 * root is mounted from create on). */
static int
live_ids (struct arca_engine *e, char ***ret_all, char ***ret_live, arca_error **err)
{
  struct arca_engine_container **list = NULL;
  cleanup_strv char **all = calloc (1, sizeof (char *)), **live = calloc (1, sizeof (char *));

  if (all == NULL || live == NULL)
    return arca_error_set (err, ENOMEM, "check");
  if (arca_engine_list (e, &list, err) < 0)
    return -1;
  for (size_t i = 0; list[i]; i++)
    if (arca_strv_append (&all, NULL, list[i]->id) < 0
        || (list[i]->status != ARCA_ENGINE_EXITED
            && arca_strv_append (&live, NULL, list[i]->id) < 0))
      {
        arca_engine_containers_free (list);
        return arca_error_set (err, ENOMEM, "check");
      }
  arca_engine_containers_free (list);
  *ret_all = move_ptr (all);
  *ret_live = move_ptr (live);
  return 0;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static void
unescape (char *s)
{
  char *o = s;
  for (; *s; s++)
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
        && s[3] <= '7')
      {
        *o++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
        s += 3;
      }
    else
      *o++ = *s;
  *o = '\0';
}

/* Mount points below dir, deepest (last mounted) first. */
static int
mounts_below (const char *dir, char ***ret, arca_error **err)
{
  cleanup_free char *text = NULL;
  cleanup_strv char **v = calloc (1, sizeof (char *));
  size_t dlen = strlen (dir), n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "mounts");
  if (arca_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &text, NULL, err) < 0)
    return -1;
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char point[4096];
      if (sscanf (line, "%*d %*d %*s %*s %4095s", point) != 1)
        continue;
      unescape (point);
      if (strncmp (point, dir, dlen) != 0 || point[dlen] != '/')
        continue;
      char **grown = realloc (v, (n + 2) * sizeof *grown);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "mounts");
      v = grown;
      memmove (v + 1, v, (n + 1) * sizeof *v);
      if ((v[0] = strdup (point)) == NULL)
        return arca_error_set (err, ENOMEM, "mounts");
      n++;
    }
  *ret = move_ptr (v);
  return 0;
}

#define NOTE(list, ...)                                                                    \
  do                                                                                       \
    if (arca_strv_appendf (&r->list, NULL, __VA_ARGS__) < 0)                               \
      return arca_error_set (err, ENOMEM, "check");                                        \
  while (0)

static int
check_mounts (struct arca_engine *e, char **live, bool repair, struct arca_system_report *r,
              arca_error **err)
{
  cleanup_strv char **points = NULL;

  if (mounts_below (e->root, &points, err) < 0)
    return -1;
  for (char **p = points; *p; p++)
    {
      const char *rel = *p + strlen (e->root) + 1;
      char id[ARCA_ENGINE_ID_LEN + 1];
      /* The root of a container that is created or runs is meant to be there. */
      if (sscanf (rel, "containers/%64[0-9a-f]/merged", id) == 1
          && strlen (rel) == strlen ("containers//merged") + strlen (id) && in (live, id))
        continue;
      NOTE (garbage, "stale mount `%s`", *p);
      if (repair && umount2 (*p, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return arca_error_errno (err, "unmount `%s`", *p);
    }
  return 0;
}

static int
check_containers (struct arca_engine *e, char **all, bool repair, struct arca_system_report *r,
                  arca_error **err)
{
  cleanup_strv char **dirs = NULL;
  cleanup_free char *parent = NULL;

  if (asprintf (&parent, "%s/containers", e->root) < 0)
    return arca_error_set (err, ENOMEM, "check");
  if (list_dir (parent, &dirs, err) < 0)
    return -1;
  for (char **p = all; *p; p++)
    {
      struct stat st;
      cleanup_free char *config = NULL;
      r->containers_checked++;
      if (arca_engine_container_dir (e, *p, "config.json", &config, err) < 0)
        return -1;
      if (stat (config, &st) == 0)
        continue;
      /* Unusable: nothing can start it again.  The row goes. */
      NOTE (garbage, "container %.12s has no directory or config.json", *p);
      const char *v[] = { *p, NULL };
      if (repair && arca_engine_remove (e, *p, true, err) < 0)
        {
          arca_error_freep (err);
          if (arca_db_exec (e->db, "DELETE FROM containers WHERE id = ?1", v, err) < 0)
            return -1;
        }
    }
  for (char **p = dirs; *p; p++)
    {
      if (in (all, *p))
        continue;
      cleanup_free char *dir = NULL, *merged = NULL;
      NOTE (garbage, "container directory `containers/%s` has no database row", *p);
      if (!repair)
        continue;
      if (arca_engine_container_dir (e, *p, NULL, &dir, err) < 0
          || arca_engine_container_dir (e, *p, "merged", &merged, err) < 0)
        return -1;
      umount2 (merged, MNT_DETACH);
      if (arca_rm_rf_at (AT_FDCWD, dir, err) < 0)
        return -1;
    }
  return 0;
}

/* Removes a leftover cgroup directory of one hierarchy, children first;
 * what still runs in it is killed (nothing of a container that is gone
 * should). */
static int
remove_cgroup_dir (const char *path, int depth, arca_error **err)
{
  cleanup_strv char **children = NULL;

  if (depth > 32)
    return arca_error_set (err, ELOOP, "cgroup `%s`: nested too deeply", path);
  if (list_dir (path, &children, err) < 0)
    return -1;
  for (char **c = children; *c; c++)
    {
      cleanup_free char *child = NULL;
      struct stat st;
      if (asprintf (&child, "%s/%s", path, *c) < 0)
        return arca_error_set (err, ENOMEM, "check");
      if (stat (child, &st) == 0 && S_ISDIR (st.st_mode) && remove_cgroup_dir (child, depth + 1, err) < 0)
        return -1;
    }
  for (int attempt = 0; rmdir (path) < 0; attempt++)
    {
      if (errno == ENOENT)
        return 0;
      if (errno != EBUSY || attempt == 100)
        return arca_error_errno (err, "remove cgroup `%s`", path);
      cleanup_free char *procs_file = NULL, *procs = NULL;
      cleanup_error arca_error *ignored = NULL;
      if (asprintf (&procs_file, "%s/cgroup.procs", path) < 0)
        return arca_error_set (err, ENOMEM, "check");
      if (arca_read_file_at (AT_FDCWD, procs_file, 1 << 20, &procs, NULL, &ignored) == 0)
        for (char *save = NULL, *line = strtok_r (procs, "\n", &save); line;
             line = strtok_r (NULL, "\n", &save))
          kill ((pid_t) atoi (line), SIGKILL);
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return 0;
}

/* Runtime state and cgroups of ids this store knows that do not run. */
static int
check_leftovers (struct arca_engine *e, char **all, char **live, bool repair,
                 struct arca_system_report *r, arca_error **err)
{
  cleanup_strv char **states = NULL, **dirs = NULL, **hierarchies = NULL;
  cleanup_free char *containers = NULL;

  if (asprintf (&containers, "%s/containers", e->root) < 0)
    return arca_error_set (err, ENOMEM, "check");
  if (list_dir (e->runtime_root, &states, err) < 0 || list_dir (containers, &dirs, err) < 0
      || list_dir (e->rt.cgroup_root, &hierarchies, err) < 0)
    return -1;
  for (char **p = states; *p; p++)
    {
      if (in (live, *p))
        continue;
      NOTE (garbage, "runtime state of container %.12s that does not run", *p);
      if (repair)
        {
          cleanup_error arca_error *ignored = NULL;
          if (arca_container_delete (&e->rt, *p, true, &ignored) < 0)
            {
              cleanup_free char *dir = NULL;
              if (asprintf (&dir, "%s/%s", e->runtime_root, *p) < 0)
                return arca_error_set (err, ENOMEM, "check");
              if (arca_rm_rf_at (AT_FDCWD, dir, err) < 0)
                return -1;
            }
        }
    }
  for (char **h = hierarchies; *h; h++)
    {
      cleanup_strv char **ids = NULL;
      cleanup_free char *arca_dir = NULL;
      if (asprintf (&arca_dir, "%s/%s/arca", e->rt.cgroup_root, *h) < 0)
        return arca_error_set (err, ENOMEM, "check");
      if (list_dir (arca_dir, &ids, err) < 0)
        {
          arca_error_freep (err); /* not a directory: a plain file or a v2 knob */
          continue;
        }
      for (char **p = ids; *p; p++)
        {
          bool ours = in (all, *p) || in (states, *p) || in (dirs, *p);
          struct stat st;
          cleanup_free char *path = NULL;
          if (!ours || in (live, *p))
            continue;
          if (asprintf (&path, "%s/%s", arca_dir, *p) < 0)
            return arca_error_set (err, ENOMEM, "check");
          if (stat (path, &st) < 0 || !S_ISDIR (st.st_mode))
            continue;
          NOTE (garbage, "cgroup `%s` of container %.12s that does not run", path, *p);
          if (repair && remove_cgroup_dir (path, 0, err) < 0)
            return -1;
        }
    }
  return 0;
}

/* 1 when the table exists: a check or a listing creates none, so that it
 * works on a full (or read-only) store. */
static int
table_exists (struct arca_engine *e, const char *name, arca_error **err)
{
  cleanup_strv char **v = NULL;
  const char *args[] = { name, NULL };
  if (arca_db_strings (e->db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
                       args, &v, err) < 0)
    return -1;
  return v[0] != NULL;
}

static int
check_volumes (struct arca_engine *e, bool repair, struct arca_system_report *r, arca_error **err)
{
  cleanup_strv char **rows = NULL, **dirs = NULL, **stale = NULL;
  cleanup_free char *parent = NULL;
  int exists;

  if (asprintf (&parent, "%s/volumes", e->root) < 0)
    return arca_error_set (err, ENOMEM, "check");
  if ((exists = table_exists (e, "volumes", err)) < 0)
    return -1;
  if (exists == 0)
    {
      /* No volume was ever made: a directory there is an orphan all the same. */
      if (list_dir (parent, &dirs, err) < 0)
        return -1;
      for (char **p = dirs; *p; p++)
        {
          cleanup_free char *dir = NULL;
          NOTE (garbage, "volume directory `volumes/%s` has no database row", *p);
          if (repair && (asprintf (&dir, "%s/%s", parent, *p) < 0 || arca_rm_rf_at (AT_FDCWD, dir, err) < 0))
            return err && *err ? -1 : arca_error_set (err, ENOMEM, "check");
        }
      return 0;
    }
  if (arca_db_strings (e->db, "SELECT name FROM volumes ORDER BY name", NULL, &rows, err) < 0
      || arca_db_strings (e->db,
                          "SELECT DISTINCT container_id FROM volume_users WHERE container_id "
                          "NOT IN (SELECT id FROM containers)",
                          NULL, &stale, err) < 0
      || list_dir (parent, &dirs, err) < 0)
    return -1;
  for (char **p = rows; *p; p++)
    {
      cleanup_free char *data = NULL;
      struct stat st;
      r->volumes_checked++;
      if (asprintf (&data, "%s/%s/_data", parent, *p) < 0)
        return arca_error_set (err, ENOMEM, "check");
      if (stat (data, &st) == 0 && S_ISDIR (st.st_mode))
        continue;
      NOTE (problems, "volume %s has lost its directory `%s`%s", *p, data,
            repair ? " (recreated empty)" : "");
      if (repair && arca_mkdir_p (data, 0755, err) < 0)
        return -1;
    }
  for (char **p = dirs; *p; p++)
    {
      cleanup_free char *dir = NULL;
      if (in (rows, *p))
        continue;
      NOTE (garbage, "volume directory `volumes/%s` has no database row", *p);
      if (repair && (asprintf (&dir, "%s/%s", parent, *p) < 0 || arca_rm_rf_at (AT_FDCWD, dir, err) < 0))
        return err && *err ? -1 : arca_error_set (err, ENOMEM, "check");
    }
  for (char **p = stale; *p; p++)
    NOTE (garbage, "volume uses of container %.12s that is gone", *p);
  if (repair && stale[0]
      && arca_db_exec (e->db,
                       "DELETE FROM volume_users WHERE container_id NOT IN (SELECT id FROM containers)",
                       NULL, err) < 0)
    return -1;
  return 0;
}

static int check_network (struct arca_engine *e, bool repair, struct arca_system_report *r,
                          arca_error **err);

int
arca_engine_system_check (struct arca_engine *e, bool repair, struct arca_system_report **ret,
                          arca_error **err)
{
  cleanup_system_report struct arca_system_report *r = calloc (1, sizeof *r);
  cleanup_check_report struct arca_check_report *img = NULL;
  cleanup_strv char **all = NULL, **live = NULL;

  if (r == NULL || (r->problems = calloc (1, sizeof (char *))) == NULL
      || (r->garbage = calloc (1, sizeof (char *))) == NULL)
    return arca_error_set (err, ENOMEM, "check");
  /* Host state first (a stale mount keeps a directory busy), the store's
   * garbage collection last. */
  /* The network first: it tells a crashed container from one that is
     starting by its runtime state, which check_leftovers removes. */
  if (check_network (e, repair, r, err) < 0 || live_ids (e, &all, &live, err) < 0
      || check_mounts (e, live, repair, r, err) < 0
      || check_leftovers (e, all, live, repair, r, err) < 0
      || check_containers (e, all, repair, r, err) < 0 || check_volumes (e, repair, r, err) < 0
      || arca_image_check (e->store, e->db, repair, &img, err) < 0)
    return arca_error_wrap (err, "system check");
  for (char **p = img->problems; p && *p; p++)
    NOTE (problems, "%s", *p);
  for (char **p = img->garbage; p && *p; p++)
    NOTE (garbage, "%s", *p);
  r->blobs_checked = img->blobs_checked;
  r->layers_checked = img->layers_checked;
  r->repaired = repair;
  *ret = move_ptr (r);
  return 0;
}

/* Network state of containers that are gone or stopped after a crash
 * (endpoint rows and addresses, veths, published ports): garbage, removed
 * on repair like any other orphan. */
struct net_findings {
  struct arca_system_report *r;
  bool failed;
};

static void
note_network (void *userdata, const char *kind, const char *what)
{
  struct net_findings *f = userdata;
  if (arca_strv_appendf (&f->r->garbage, NULL, "network %s %s", kind, what) < 0)
    f->failed = true;
}

static int
check_network (struct arca_engine *e, bool repair, struct arca_system_report *r, arca_error **err)
{
  struct net_findings f = { .r = r };
  if (arca_network_reclaim (e, repair, note_network, &f, err) < 0)
    return arca_error_wrap (err, "network state");
  return f.failed ? arca_error_set (err, ENOMEM, "check") : 0;
}

/* ---- prune -------------------------------------------------------------- */

int
arca_engine_container_prune (struct arca_engine *e, char ***ret_removed, arca_error **err)
{
  struct arca_engine_container **list = NULL;
  cleanup_strv char **removed = calloc (1, sizeof (char *));

  if (removed == NULL)
    return arca_error_set (err, ENOMEM, "prune");
  if (arca_engine_list (e, &list, err) < 0)
    return -1;
  for (size_t i = 0; list[i]; i++)
    {
      /* A running build's COPY container is "created" too; it is not ours. */
      if ((list[i]->status != ARCA_ENGINE_EXITED && list[i]->status != ARCA_ENGINE_CREATED)
          || arca_build_container_busy (e, list[i]))
        continue;
      /* A stopped pod's infra container goes with its pod (pod rm/prune),
         not on its own: skipped, as Docker skips what it may not remove. */
      cleanup_error arca_error *in_pod = NULL;
      if (arca_pod_check_remove (e, list[i]->id, &in_pod) < 0)
        continue;
      if (arca_engine_remove (e, list[i]->id, false, err) < 0
          || arca_volume_release (e, list[i]->id, false, err) < 0
          || arca_strv_append (&removed, NULL, list[i]->id) < 0)
        {
          arca_engine_containers_free (list);
          return err && *err ? -1 : arca_error_set (err, ENOMEM, "prune");
        }
    }
  arca_engine_containers_free (list);
  if (ret_removed)
    *ret_removed = move_ptr (removed);
  return 0;
}

/* ---- image parents ------------------------------------------------------ */

/* Only ids of images that exist count: a row of a removed image (or one a
 * crash left) changes nothing. */
#define PARENTS_WITH_CHILDREN                                                            \
  "SELECT DISTINCT p.parent_id FROM image_parents p JOIN images c ON c.id = p.image_id " \
  "JOIN images i ON i.id = p.parent_id"

static int
parents_schema (struct arca_engine *e, arca_error **err)
{
  /* arca_db_exec runs one statement. */
  if (arca_db_exec (e->db,
                    "CREATE TABLE IF NOT EXISTS image_parents (image_id TEXT PRIMARY KEY, "
                    "parent_id TEXT NOT NULL)",
                    NULL, err) < 0
      || arca_db_exec (e->db,
                       "CREATE INDEX IF NOT EXISTS image_parents_parent ON image_parents(parent_id)",
                       NULL, err) < 0)
    return arca_error_wrap (err, "image parents");
  return 0;
}

int
arca_engine_image_parent_add (struct arca_engine *e, const char *image_id, const char *parent_id,
                              arca_error **err)
{
  const char *v[] = { image_id, parent_id, NULL };
  if (parents_schema (e, err) < 0
      || arca_db_exec (e->db,
                       "INSERT OR REPLACE INTO image_parents (image_id, parent_id) VALUES (?1, ?2)",
                       v, err) < 0)
    return arca_error_wrap (err, "record the parent of image %s", image_id);
  return 0;
}

int
arca_engine_image_intermediates (struct arca_engine *e, char ***ret, arca_error **err)
{
  int exists = table_exists (e, "image_parents", err);
  if (exists <= 0)
    {
      /* Nothing was built here yet. */
      if (exists == 0 && (*ret = calloc (1, sizeof (char *))) == NULL)
        return arca_error_set (err, ENOMEM, "images");
      return exists;
    }
  return arca_db_strings (e->db,
                          PARENTS_WITH_CHILDREN " WHERE p.parent_id NOT IN (SELECT image_id FROM tags)",
                          NULL, ret, err);
}

/* Removes one image's rows (its parent row goes in remove_parents, which
 * follows it); the garbage goes later. */
static int
remove_one (struct arca_engine *e, const char *id, char ***removed, arca_error **err)
{
  if (arca_db_remove_image (e->db, id, err) < 0)
    return -1;
  if (removed && arca_strv_append (removed, NULL, id) < 0)
    return arca_error_set (err, ENOMEM, "remove image");
  return 0;
}

/* After id went: its parent, and that one's, while each is untagged, no
 * container uses it and nothing else was made from it. */
static int
remove_parents (struct arca_engine *e, const char *id, char **used, char ***removed,
                arca_error **err)
{
  cleanup_free char *child = strdup (id);
  int exists = table_exists (e, "image_parents", err);

  if (exists <= 0)
    return exists; /* nothing was built here: no parents */
  if (child == NULL)
    return arca_error_set (err, ENOMEM, "remove image");
  for (int depth = 0; depth < 4096; depth++)
    {
      cleanup_strv char **parent = NULL, **tags = NULL, **children = NULL;
      const char *v[] = { child, NULL };
      if (arca_db_strings (e->db,
                           "SELECT p.parent_id FROM image_parents p JOIN images i ON i.id = "
                           "p.parent_id WHERE p.image_id = ?1",
                           v, &parent, err) < 0)
        return -1;
      /* The child's own row goes now that it was followed. */
      if (arca_db_exec (e->db, "DELETE FROM image_parents WHERE image_id = ?1", v, err) < 0)
        return -1;
      if (parent[0] == NULL || in (used, parent[0]))
        return 0;
      const char *pv[] = { parent[0], NULL };
      if (arca_db_strings (e->db, "SELECT name FROM tags WHERE image_id = ?1", pv, &tags, err) < 0
          || arca_db_strings (e->db,
                              "SELECT p.image_id FROM image_parents p JOIN images i ON i.id = "
                              "p.image_id WHERE p.parent_id = ?1",
                              pv, &children, err) < 0)
        return -1;
      if (tags[0] || children[0])
        return 0;
      if (remove_one (e, parent[0], removed, err) < 0)
        return -1;
      free (child);
      if ((child = strdup (parent[0])) == NULL)
        return arca_error_set (err, ENOMEM, "remove image");
    }
  return 0;
}

static int
used_images (struct arca_engine *e, char ***ret, arca_error **err)
{
  return arca_db_strings (e->db, "SELECT DISTINCT image_id FROM containers", NULL, ret, err);
}

int
arca_engine_image_remove (struct arca_engine *e, const char *image_id, char ***ret_removed,
                          struct arca_gc_stats *ret_gc, arca_error **err)
{
  cleanup_strv char **removed = calloc (1, sizeof (char *)), **used = NULL;

  if (removed == NULL)
    return arca_error_set (err, ENOMEM, "remove image");
  if (used_images (e, &used, err) < 0 || remove_one (e, image_id, &removed, err) < 0
      || remove_parents (e, image_id, used, &removed, err) < 0
      || arca_image_gc (e->store, e->db, ret_gc, err) < 0)
    return -1;
  if (ret_removed)
    *ret_removed = move_ptr (removed);
  return 0;
}

int
arca_engine_image_prune (struct arca_engine *e, bool all, char ***ret_removed,
                         struct arca_gc_stats *ret_gc, arca_error **err)
{
  _cleanup_ (arca_image_records_freep) struct arca_image_record **images = NULL;
  cleanup_strv char **used = NULL, **parents = NULL;
  cleanup_strv char **removed = calloc (1, sizeof (char *));

  if (removed == NULL)
    return arca_error_set (err, ENOMEM, "prune");
  /* Like Docker: only heads (images nothing was built from) are candidates,
   * dangling ones or, with all, every unused one; the untagged parents of
   * what goes follow it. */
  int exists = table_exists (e, "image_parents", err);
  if (exists < 0 || arca_db_list_images (e->db, &images, err) < 0
      || used_images (e, &used, err) < 0
      || (exists && arca_db_strings (e->db, PARENTS_WITH_CHILDREN, NULL, &parents, err) < 0))
    return -1;
  for (size_t i = 0; images[i]; i++)
    {
      bool tagged = images[i]->tags && images[i]->tags[0];
      if (in (used, images[i]->id) || in (parents, images[i]->id) || (tagged && !all)
          || in (removed, images[i]->id))
        continue;
      if (remove_one (e, images[i]->id, &removed, err) < 0
          || remove_parents (e, images[i]->id, used, &removed, err) < 0)
        return -1;
    }
  if (arca_image_gc (e->store, e->db, ret_gc, err) < 0)
    return -1;
  if (ret_removed)
    *ret_removed = move_ptr (removed);
  return 0;
}

static size_t
count (char **v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

int
arca_engine_system_prune (struct arca_engine *e, struct arca_system_prune *p, arca_error **err)
{
  cleanup_strv char **containers = NULL, **images = NULL, **volumes = NULL;

  if (arca_engine_container_prune (e, &containers, err) < 0)
    return -1;
  p->containers = count (containers);
  if (p->volumes)
    {
      if (arca_volume_prune (e, false, &volumes, err) < 0)
        return -1;
      p->volumes_removed = count (volumes);
    }
  if (arca_engine_image_prune (e, p->all, &images, &p->gc, err) < 0)
    return -1;
  p->images = count (images);
  return 0;
}
