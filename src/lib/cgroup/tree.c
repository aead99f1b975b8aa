/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup's life on the host: creating the directories (and removing
 * them again when that fails half way), moving processes in, listing,
 * signalling and finally destroying it. */
#include <dirent.h>
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/cgroup-internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* ---- create / destroy --------------------------------------------------- */

/* A fake tree mimics the kernel filling a new cgroup directory: empty files
 * named like those in the hierarchy root, and (v2) cgroup.controllers =
 * the parent's cgroup.subtree_control. */
static int
fake_populate (const struct arca_cgroup *cg, const struct arca_cgroup_hier *h, const char *parent,
               const char *dir, arca_error **err)
{
  cleanup_dir DIR *d = opendir (h->mount);
  struct dirent *de;

  if (d == NULL)
    return arca_error_errno (err, "open `%s`", h->mount);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *p = NULL;
      cleanup_close int fd = -1;
      if (de->d_type != DT_REG || de->d_name[0] == '.')
        continue;
      if (asprintf (&p, "%s/%s", dir, de->d_name) < 0)
        return arca_error_errno (err, "populate `%s`", dir);
      fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        return arca_error_errno (err, "create `%s`", p);
    }
  if (h->v2)
    {
      cleanup_free char *sub = NULL;
      if (arca_cgroup_read (parent, "cgroup.subtree_control", &sub, NULL) == 0)
        {
          cleanup_free char *p = NULL;
          cleanup_close int fd = -1;
          if (asprintf (&p, "%s/cgroup.controllers", dir) < 0)
            return arca_error_errno (err, "populate `%s`", dir);
          fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          if (fd < 0 || write (fd, sub, strlen (sub)) < 0)
            return arca_error_errno (err, "write `%s`", p);
        }
    }
  return 0;
}

/* rmdir that waits out EBUSY (the last tasks may still be exiting) until
 * deadline; a fake tree first loses its plain files. */
static int
remove_dir (const struct arca_cgroup *cg, const char *dir, int64_t deadline, arca_error **err)
{
  if (cg->fake)
    {
      cleanup_dir DIR *d = opendir (dir);
      struct dirent *de;
      while (d != NULL && (de = readdir (d)) != NULL)
        if (de->d_type == DT_REG)
          (void) unlinkat (dirfd (d), de->d_name, 0);
    }
  /* The wait is usually a few hundred microseconds (the exited task leaves
   * its css_set after an RCU grace period): back off from 250 us, not a
   * flat 10 ms a container's every run would pay. */
  long pause_us = 250;
  for (;;)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY || arca_cgroup_now_ms () >= deadline)
        return arca_error_errno (err, "rmdir `%s`", dir);
      struct timespec ts = { .tv_sec = 0, .tv_nsec = pause_us * 1000 };
      nanosleep (&ts, NULL);
      if (pause_us < 10000)
        pause_us *= 2;
    }
}

/* Removes dir and the cgroups below it, deepest first. */
static int
remove_tree (const struct arca_cgroup *cg, const char *dir, int64_t deadline, int depth,
             arca_error **err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (depth > 64)
    return arca_error_set (err, ELOOP, "rmdir `%s`: cgroup tree too deep", dir);
  d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : arca_error_errno (err, "open `%s`", dir);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *sub = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (asprintf (&sub, "%s/%s", dir, de->d_name) < 0)
        return arca_error_errno (err, "rmdir `%s`", dir);
      if (remove_tree (cg, sub, deadline, depth + 1, err) < 0)
        return -1;
    }
  return remove_dir (cg, dir, deadline, err);
}

struct created {
  char **dirs;
  size_t n;
};

static void
undo_created (const struct arca_cgroup *cg, struct created *c)
{
  cleanup_error arca_error *ignored = NULL;
  int64_t deadline = arca_cgroup_now_ms () + 1000;

  for (size_t i = c->n; i-- > 0;)
    {
      (void) remove_dir (cg, c->dirs[i], deadline, &ignored);
      arca_error_free (ignored);
      ignored = NULL;
      free (c->dirs[i]);
    }
  free (c->dirs);
  c->dirs = NULL;
  c->n = 0;
}

static int
create_in (const struct arca_cgroup *cg, const struct arca_cgroup_hier *h, struct created *c,
           arca_error **err)
{
  cleanup_free char *cur = strdup (h->dir);
  size_t mlen = strlen (h->mount);
  bool cpuset = !h->v2 && arca_cgroup_list_has (h->options, "cpuset");

  if (cur == NULL)
    return arca_error_errno (err, "create `%s`", h->dir);
  /* Walk the components below the mount point, cutting cur at each '/'. */
  for (char *slash = cur + mlen; slash != NULL;)
    {
      char *next = strchr (slash + 1, '/');
      cleanup_free char *parent = NULL;

      if (next)
        *next = '\0';
      *slash = '\0';
      parent = strdup (cur);
      *slash = '/';
      if (parent == NULL)
        return arca_error_errno (err, "create `%s`", h->dir);
      if (h->v2 && arca_cgroup_v2_enable (cg, *parent ? parent : "/", err) < 0)
        return -1;
      if (mkdir (cur, 0755) == 0)
        {
          char **nd = realloc (c->dirs, (c->n + 1) * sizeof (*nd));
          if (nd == NULL)
            {
              (void) rmdir (cur);
              return arca_error_errno (err, "create `%s`", cur);
            }
          c->dirs = nd;
          if ((c->dirs[c->n] = strdup (cur)) == NULL)
            {
              (void) rmdir (cur);
              return arca_error_errno (err, "create `%s`", cur);
            }
          c->n++;
          if (cg->fake && fake_populate (cg, h, parent, cur, err) < 0)
            return -1;
        }
      else if (errno != EEXIST)
        return arca_error_errno (err, "mkdir `%s`", cur);
      else
        {
          /* An existing cgroup is fine, a knob of that name is not. */
          struct stat st;
          if (stat (cur, &st) < 0)
            return arca_error_errno (err, "stat `%s`", cur);
          if (!S_ISDIR (st.st_mode))
            return arca_error_set (err, ENOTDIR, "mkdir `%s`: exists and is no directory", cur);
        }
      if (cpuset && arca_cgroup_v1_cpuset_init (cg, cur, err) < 0)
        return -1;
      if (next)
        *next = '/';
      slash = next;
    }
  return 0;
}

int
arca_cgroup_create (struct arca_cgroup *cg, arca_error **err)
{
  struct created c = { 0 };

  for (size_t i = 0; i < cg->n_hiers; i++)
    if (create_in (cg, &cg->hiers[i], &c, err) < 0)
      {
        undo_created (cg, &c);
        return arca_error_wrap (err, "create cgroup `%s`", cg->path);
      }
  for (size_t i = 0; i < c.n; i++)
    free (c.dirs[i]);
  free (c.dirs);
  return 0;
}
int
arca_cgroup_enter (struct arca_cgroup *cg, pid_t pid, arca_error **err)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (arca_cgroup_writef (cg, cg->hiers[i].dir, "cgroup.procs", err, "%d", (int) pid) < 0)
      return arca_error_wrap (err, "move pid %d into cgroup", (int) pid);
  return 0;
}

int
arca_cgroup_dirfd (struct arca_cgroup *cg, arca_error **err)
{
  const struct arca_cgroup_hier *h = arca_cgroup_unified (cg);
  int fd;

  if (cg->mode != ARCA_CGROUP_V2 || h == NULL)
    return -1;
  fd = open (h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", h->dir);
  return fd;
}
struct pidv {
  pid_t *v;
  size_t n, cap;
};

static int
collect_pids (const char *dir, struct pidv *pv, int depth, arca_error **err)
{
  cleanup_free char *data = NULL, *procs = NULL;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  char *p, *end;

  if (depth > 64)
    return arca_error_set (err, ELOOP, "read `%s`: cgroup tree too deep", dir);
  if (asprintf (&procs, "%s/cgroup.procs", dir) < 0)
    return arca_error_errno (err, "read `%s/cgroup.procs`", dir);
  if (arca_read_file_at (AT_FDCWD, procs, ARCA_CGROUP_PROCS_MAX, &data, NULL, err) < 0)
    return -1;
  for (p = data; *p; p = end)
    {
      long v;
      errno = 0;
      v = strtol (p, &end, 10);
      if (end == p)
        break;
      if (errno != 0 || v <= 0 || v > INT32_MAX)
        return arca_error_set (err, EINVAL, "`%s`: bad pid", procs);
      if (pv->n == pv->cap)
        {
          size_t ncap = pv->cap ? pv->cap * 2 : 16;
          pid_t *nv = realloc (pv->v, ncap * sizeof (*nv));
          if (nv == NULL)
            return arca_error_errno (err, "read `%s`", procs);
          pv->v = nv;
          pv->cap = ncap;
        }
      pv->v[pv->n++] = (pid_t) v;
    }
  d = opendir (dir);
  if (d == NULL)
    return arca_error_errno (err, "open `%s`", dir);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *sub = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (asprintf (&sub, "%s/%s", dir, de->d_name) < 0)
        return arca_error_errno (err, "read `%s`", dir);
      if (collect_pids (sub, pv, depth + 1, err) < 0)
        return -1;
    }
  return 0;
}

/* The hierarchy that lists the container's processes. */
static const struct arca_cgroup_hier *
procs_hier (const struct arca_cgroup *cg)
{
  const struct arca_cgroup_hier *h;

  if (cg->mode == ARCA_CGROUP_V2)
    return arca_cgroup_unified (cg);
  if ((h = arca_cgroup_find_v1 (cg, "pids")) || (h = arca_cgroup_find_v1 (cg, "freezer")))
    return h;
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (!cg->hiers[i].v2)
      return &cg->hiers[i];
  return &cg->hiers[0];
}

int
arca_cgroup_pids (struct arca_cgroup *cg, pid_t **ret_pids, size_t *ret_count, arca_error **err)
{
  struct pidv pv = { 0 };

  if (collect_pids (procs_hier (cg)->dir, &pv, 0, err) < 0)
    {
      free (pv.v);
      return -1;
    }
  *ret_pids = pv.v;
  *ret_count = pv.n;
  return 0;
}

static int
signal_pids (struct arca_cgroup *cg, int sig, arca_error **err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;

  if (arca_cgroup_pids (cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return arca_error_errno (err, "kill pid %d", (int) pids[i]);
  return 0;
}

int
arca_cgroup_kill (struct arca_cgroup *cg, int sig, arca_error **err)
{
  const struct arca_cgroup_hier *h;

  if (cg->mode == ARCA_CGROUP_V2 && sig == SIGKILL && (h = arca_cgroup_unified (cg)) != NULL
      && arca_cgroup_file_exists (h->dir, "cgroup.kill"))
    return arca_cgroup_write (cg, h->dir, "cgroup.kill", "1", err);

  /* v1 has no atomic kill: freeze first so nothing forks between reading
   * the list and signalling it, then thaw so SIGKILL is delivered. */
  if (cg->mode != ARCA_CGROUP_V2 && sig == SIGKILL && arca_cgroup_find_v1 (cg, "freezer"))
    {
      cleanup_error arca_error *thaw_err = NULL;
      int r;

      if (arca_cgroup_freeze (cg, true, err) < 0)
        return -1;
      r = signal_pids (cg, sig, err);
      if (arca_cgroup_freeze (cg, false, &thaw_err) < 0 && r == 0)
        {
          arca_cgroup_pass_error (err, &thaw_err);
          return -1;
        }
      return r;
    }
  return signal_pids (cg, sig, err);
}

int
arca_cgroup_destroy (struct arca_cgroup *cg, arca_error **err)
{
  const struct arca_cgroup_hier *ph = procs_hier (cg);
  int64_t deadline;
  int r = 0;

  if (access (ph->dir, F_OK) == 0)
    {
      if (arca_cgroup_kill (cg, SIGKILL, err) < 0)
        return arca_error_wrap (err, "destroy cgroup `%s`", cg->path);
      /* Give the killed tasks a moment to leave; rmdir retries below. */
      deadline = arca_cgroup_now_ms () + 1000;
      for (;;)
        {
          cleanup_free pid_t *pids = NULL;
          cleanup_error arca_error *ignored = NULL;
          size_t n = 0;
          if (arca_cgroup_pids (cg, &pids, &n, &ignored) < 0 || n == 0 || arca_cgroup_now_ms () >= deadline)
            break;
          arca_cgroup_sleep_ms (10);
        }
    }
  deadline = arca_cgroup_now_ms () + 1000;
  /* One hierarchy that cannot be removed does not keep the others: remove
   * what can be, report the first failure. */
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (remove_tree (cg, cg->hiers[i].dir, deadline, 0, err) < 0)
      r = -1;
  if (r < 0)
    return arca_error_wrap (err, "destroy cgroup `%s`", cg->path);
  return 0;
}
