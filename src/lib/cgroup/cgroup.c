/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layout detection, path resolution, directory life cycle and the helpers
 * the v1/v2 writers share.  What differs between v1 and v2 lives in v1.c and
 * v2.c; this file only dispatches. */
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cgroup/cgroup-internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define FAKE_MODE_FILE ".arca-fake-mode"
#define FAKE_SELF_FILE ".arca-fake-self-cgroup"
#define FAKE_WRITES_FILE ".arca-fake-writes"

/* ---- small helpers ------------------------------------------------------ */

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
arca_cgroup_backoff (int64_t *start_ms, long *delay_us, int64_t timeout_ms)
{
  struct timespec ts;

  if (*start_ms == 0)
    *start_ms = now_ms ();
  if (now_ms () - *start_ms >= timeout_ms)
    return false;
  *delay_us = *delay_us <= 0 ? 100 : *delay_us < 50000 ? *delay_us * 2 : 50000;
  ts = (struct timespec){ .tv_sec = 0, .tv_nsec = *delay_us * 1000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
  return true;
}

bool
arca_cgroup_list_has (const char *list, const char *word)
{
  size_t len = strlen (word);
  const char *p = list;

  while (p != NULL && *p != '\0')
    {
      p += strspn (p, " \t\n,");
      if (strncmp (p, word, len) == 0 && (p[len] == '\0' || strchr (" \t\n,", p[len]) != NULL))
        return true;
      p += strcspn (p, " \t\n,");
    }
  return false;
}

bool
arca_cgroup_file_exists (const char *dir, const char *file)
{
  cleanup_free char *p = NULL;
  if (asprintf (&p, "%s/%s", dir, file) < 0)
    return false;
  return access (p, F_OK) == 0;
}

/* Hands a locally caught error to the caller's err (first error wins). */
static void
pass_error (arca_error **err, arca_error **local)
{
  if (err != NULL && *err == NULL)
    *err = move_ptr (*local);
}

/* Path of dir below fs_root for the fake write log. */
static const char *
below_root (const struct arca_cgroup *cg, const char *dir)
{
  size_t n = strlen (cg->fs_root);
  if (strncmp (dir, cg->fs_root, n) == 0 && (dir[n] == '/' || dir[n] == '\0'))
    return dir[n] == '/' ? dir + n + 1 : ".";
  return dir;
}

/* The kernel folds "+memory -pids" written to cgroup.subtree_control into
 * the list of enabled controllers; a fake tree does the same so that reads
 * (and children's cgroup.controllers) look like the real thing. */
static int
fake_subtree_control (const char *dir, const char *value, char **ret, arca_error **err)
{
  cleanup_free char *cur = NULL, *copy = strdup (value);
  cleanup_free char *out = NULL;
  char *save = NULL;
  size_t len = 0, cap;

  if (copy == NULL)
    return arca_error_errno (err, "write `%s/cgroup.subtree_control`", dir);
  if (arca_cgroup_read (dir, "cgroup.subtree_control", &cur, err) < 0)
    return -1;
  cap = strlen (cur) + strlen (value) + 2;
  if ((out = calloc (1, cap)) == NULL)
    return arca_error_errno (err, "write `%s/cgroup.subtree_control`", dir);
  /* Keep what is enabled and not removed now. */
  for (char *t = strtok_r (cur, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    {
      char minus[128];
      snprintf (minus, sizeof (minus), "-%s", t);
      if (!arca_cgroup_list_has (value, minus))
        len += (size_t) snprintf (out + len, cap - len, "%s%s", len ? " " : "", t);
    }
  save = NULL;
  for (char *t = strtok_r (copy, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    {
      if (*t != '+' && *t != '-')
        return arca_error_set (err, EINVAL, "write `%s` to `%s/cgroup.subtree_control`", value,
                               dir);
      if (*t == '+' && !arca_cgroup_list_has (out, t + 1))
        len += (size_t) snprintf (out + len, cap - len, "%s%s", len ? " " : "", t + 1);
    }
  if (len > 0)
    out[len++] = '\n';
  *ret = move_ptr (out);
  return 0;
}

int
arca_cgroup_write (const struct arca_cgroup *cg, const char *dir, const char *file,
                   const char *value, arca_error **err)
{
  cleanup_free char *p = NULL, *merged = NULL;
  cleanup_close int fd = -1;
  const char *logged = value;
  size_t len;
  ssize_t n;

  if (asprintf (&p, "%s/%s", dir, file) < 0)
    return arca_error_errno (err, "write `%s/%s`", dir, file);
  if (cg->fake && strcmp (file, "cgroup.subtree_control") == 0)
    {
      if (fake_subtree_control (dir, value, &merged, err) < 0)
        return -1;
      value = merged;
    }
  len = strlen (value);
  fd = open (p, O_WRONLY | O_CLOEXEC | O_NOCTTY | (cg->fake ? O_TRUNC : 0));
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", p);
  do
    n = write (fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return arca_error_errno (err, "write `%s` to `%s`", value, p);
  if ((size_t) n != len)
    return arca_error_set (err, EIO, "write `%s` to `%s`: short write", value, p);

  if (cg->fake)
    {
      cleanup_free char *log = NULL;
      cleanup_close int lfd = -1;
      cleanup_free char *line = NULL;
      int l;

      if (asprintf (&log, "%s/" FAKE_WRITES_FILE, cg->fs_root) < 0)
        return arca_error_errno (err, "write `%s`", p);
      lfd = open (log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (lfd < 0)
        return arca_error_errno (err, "open `%s`", log);
      l = asprintf (&line, "%s/%s %s\n", below_root (cg, dir), file, logged);
      if (l < 0)
        return arca_error_errno (err, "write `%s`", log);
      if (write (lfd, line, (size_t) l) != l)
        return arca_error_errno (err, "write `%s`", log);
    }
  return 0;
}

int
arca_cgroup_writef (const struct arca_cgroup *cg, const char *dir, const char *file,
                    arca_error **err, const char *fmt, ...)
{
  cleanup_free char *value = NULL;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&value, fmt, ap);
  va_end (ap);
  if (r < 0)
    return arca_error_errno (err, "write `%s/%s`", dir, file);
  return arca_cgroup_write (cg, dir, file, value, err);
}

int
arca_cgroup_set (const struct arca_cgroup *cg, const char *dir, const char *file,
                 const char *field, arca_error **err, const char *fmt, ...)
{
  cleanup_free char *value = NULL;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&value, fmt, ap);
  va_end (ap);
  if (r < 0)
    return arca_error_errno (err, "%s: write `%s/%s`", field, dir, file);
  if (arca_cgroup_write (cg, dir, file, value, err) < 0)
    return arca_error_wrap (err, "%s", field);
  return 0;
}

int
arca_cgroup_write_knobs (const struct arca_cgroup *cg, const char *dir,
                         const struct arca_cgroup_knob *knobs, size_t n, arca_error **err)
{
  bool retry[8] = { false };
  bool any = false;

  if (n > ARRAY_SIZE (retry))
    return arca_error_set (err, E2BIG, "write `%s`: too many knobs", dir);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_error arca_error *first = NULL;
      if (knobs[i].file == NULL)
        continue;
      if (arca_cgroup_write (cg, dir, knobs[i].file, knobs[i].value, &first) == 0)
        continue;
      if (first == NULL || first->errnum != EINVAL)
        {
          pass_error (err, &first);
          return arca_error_wrap (err, "%s", knobs[i].field);
        }
      retry[i] = any = true;
    }
  for (size_t i = 0; any && i < n; i++)
    if (retry[i] && arca_cgroup_set (cg, dir, knobs[i].file, knobs[i].field, err, "%s",
                                     knobs[i].value) < 0)
      return -1;
  return 0;
}

int
arca_cgroup_read (const char *dir, const char *file, char **ret_data, arca_error **err)
{
  cleanup_free char *p = NULL;

  if (asprintf (&p, "%s/%s", dir, file) < 0)
    return arca_error_errno (err, "read `%s/%s`", dir, file);
  return arca_read_file_at (AT_FDCWD, p, ARCA_CGROUP_KNOB_MAX, ret_data, NULL, err);
}

int
arca_cgroup_read_u64 (const char *dir, const char *file, bool missing_ok, uint64_t *ret_value,
                      arca_error **err)
{
  cleanup_free char *data = NULL;
  char *end;
  unsigned long long v;

  if (missing_ok && !arca_cgroup_file_exists (dir, file))
    {
      *ret_value = 0;
      return 0;
    }
  if (arca_cgroup_read (dir, file, &data, err) < 0)
    return -1;
  if (strncmp (data, "max", 3) == 0)
    {
      *ret_value = UINT64_MAX;
      return 0;
    }
  errno = 0;
  v = strtoull (data, &end, 10);
  if (errno != 0 || end == data || (*end != '\0' && *end != '\n'))
    return arca_error_set (err, EINVAL, "read `%s/%s`: not a number: \"%.32s\"", dir, file,
                           data);
  *ret_value = v;
  return 0;
}

int
arca_cgroup_hugetlb_size (const char *page_size, size_t index, const char **ret,
                          arca_error **err)
{
  const char *p = page_size;

  /* Kernel file names use the same spelling ("2MB", "1GB", "64KB"), so the
   * check only keeps '/' and other surprises out of the file name. */
  if (p == NULL || *p < '1' || *p > '9')
    goto bad;
  while (*p >= '0' && *p <= '9')
    p++;
  if ((*p != 'K' && *p != 'M' && *p != 'G') || strcmp (p + 1, "B") != 0)
    goto bad;
  *ret = page_size;
  return 0;
bad:
  return arca_error_set (err, EINVAL,
                         "linux.resources.hugepageLimits[%zu].pageSize: invalid page size \"%s\"",
                         index, page_size ? page_size : "");
}

/* ---- hierarchies -------------------------------------------------------- */

const struct arca_cgroup_hier *
arca_cgroup_find_v1 (const struct arca_cgroup *cg, const char *controller)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (!cg->hiers[i].v2 && arca_cgroup_list_has (cg->hiers[i].options, controller))
      return &cg->hiers[i];
  return NULL;
}

const struct arca_cgroup_hier *
arca_cgroup_unified (const struct arca_cgroup *cg)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (cg->hiers[i].v2)
      return &cg->hiers[i];
  return NULL;
}

const struct arca_cgroup_hier *
arca_cgroup_find (const struct arca_cgroup *cg, const char *controller)
{
  const struct arca_cgroup_hier *h = arca_cgroup_find_v1 (cg, controller);
  cleanup_free char *avail = NULL;

  if (h != NULL)
    return h;
  h = arca_cgroup_unified (cg);
  if (h == NULL || arca_cgroup_read (h->mount, "cgroup.controllers", &avail, NULL) < 0)
    return NULL;
  return arca_cgroup_list_has (avail, controller) ? h : NULL;
}

static int
statfs_magic (const char *path, unsigned long *ret_magic)
{
  struct statfs st;
  if (statfs (path, &st) < 0)
    return -1;
  *ret_magic = (unsigned long) st.f_type;
  return 0;
}

/* The marker of a fake tree: "v1", "hybrid" or "v2".  0 = none. */
static int
fake_mode (const char *fs_root, enum arca_cgroup_mode *ret_mode, arca_error **err)
{
  cleanup_free char *p = NULL, *data = NULL;

  if (asprintf (&p, "%s/" FAKE_MODE_FILE, fs_root) < 0)
    return arca_error_errno (err, "detect cgroup layout of `%s`", fs_root);
  if (access (p, F_OK) < 0)
    return 0;
  if (arca_read_file_at (AT_FDCWD, p, 64, &data, NULL, err) < 0)
    return -1;
  data[strcspn (data, " \n")] = '\0';
  if (strcmp (data, "v1") == 0)
    *ret_mode = ARCA_CGROUP_V1;
  else if (strcmp (data, "hybrid") == 0)
    *ret_mode = ARCA_CGROUP_HYBRID;
  else if (strcmp (data, "v2") == 0)
    *ret_mode = ARCA_CGROUP_V2;
  else
    return arca_error_set (err, EINVAL, "`%s`: unknown mode \"%s\"", p, data);
  return 1;
}

static int
detect (const char *fs_root, enum arca_cgroup_mode *ret_mode, bool *ret_fake, arca_error **err)
{
  cleanup_free char *unified = NULL;
  unsigned long magic, umagic;
  int r;

  if (statfs_magic (fs_root, &magic) < 0)
    return arca_error_errno (err, "statfs `%s`", fs_root);
  if (magic == CGROUP2_SUPER_MAGIC)
    {
      *ret_mode = ARCA_CGROUP_V2;
      *ret_fake = false;
      return 0;
    }
  if (magic != CGROUP_SUPER_MAGIC)
    {
      /* Only a directory that is no cgroup file system may pretend to be
       * one, so a stray marker can never change how a real host is driven. */
      r = fake_mode (fs_root, ret_mode, err);
      if (r < 0)
        return r;
      if (r > 0)
        {
          *ret_fake = true;
          return 0;
        }
    }
  if (magic != TMPFS_MAGIC && magic != CGROUP_SUPER_MAGIC)
    return arca_error_set (err, ENOTSUP, "`%s` is not a cgroup file system", fs_root);
  *ret_fake = false;
  if (asprintf (&unified, "%s/unified", fs_root) < 0)
    return arca_error_errno (err, "detect cgroup layout of `%s`", fs_root);
  if (magic == TMPFS_MAGIC && statfs_magic (unified, &umagic) == 0
      && umagic == CGROUP2_SUPER_MAGIC)
    *ret_mode = ARCA_CGROUP_HYBRID;
  else
    *ret_mode = ARCA_CGROUP_V1;
  return 0;
}

int
arca_cgroup_detect (const char *fs_root, enum arca_cgroup_mode *ret_mode, arca_error **err)
{
  bool fake;
  return detect (fs_root, ret_mode, &fake, err);
}

static void
hier_clear (struct arca_cgroup_hier *h)
{
  free (h->name);
  free (h->options);
  free (h->mount);
  free (h->dir);
}

static int
add_hier (struct arca_cgroup *cg, const char *name, const char *options, bool v2,
          arca_error **err)
{
  struct arca_cgroup_hier *n;
  struct arca_cgroup_hier h = { .v2 = v2 };

  /* A later mount on the same point hides the earlier one. */
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (strcmp (cg->hiers[i].name, name) == 0)
      {
        char *o = strdup (options);
        if (o == NULL)
          return arca_error_errno (err, "open cgroup");
        free (cg->hiers[i].options);
        cg->hiers[i].options = o;
        cg->hiers[i].v2 = v2;
        return 0;
      }
  h.name = strdup (name);
  h.options = strdup (options);
  if (h.name == NULL || h.options == NULL
      || asprintf (&h.mount, "%s%s%s", cg->fs_root, *name ? "/" : "", name) < 0)
    {
      h.mount = NULL;
      hier_clear (&h);
      return arca_error_errno (err, "open cgroup");
    }
  n = realloc (cg->hiers, (cg->n_hiers + 1) * sizeof (*n));
  if (n == NULL)
    {
      hier_clear (&h);
      return arca_error_errno (err, "open cgroup");
    }
  cg->hiers = n;
  cg->hiers[cg->n_hiers++] = h;
  return 0;
}

/* Mount options of a v1 hierarchy minus the ones that are no controller. */
static int
v1_controllers (const char *super_opts, char **ret, arca_error **err)
{
  static const char *const not_controllers[]
      = { "rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods" };
  cleanup_free char *copy = strdup (super_opts);
  cleanup_free char *out = NULL;
  size_t len = 0;
  char *save = NULL;

  if (copy == NULL || (out = calloc (1, strlen (super_opts) + 1)) == NULL)
    return arca_error_errno (err, "parse mount options \"%s\"", super_opts);
  for (char *t = strtok_r (copy, ",", &save); t != NULL; t = strtok_r (NULL, ",", &save))
    {
      bool skip = false;
      for (size_t i = 0; i < ARRAY_SIZE (not_controllers); i++)
        if (strcmp (t, not_controllers[i]) == 0)
          skip = true;
      if (strchr (t, '=') != NULL && strncmp (t, "name=", 5) != 0)
        skip = true;
      if (skip)
        continue;
      len += (size_t) sprintf (out + len, "%s%s", len ? "," : "", t);
    }
  *ret = move_ptr (out);
  return 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

static int
hiers_from_mountinfo (struct arca_cgroup *cg, arca_error **err)
{
  cleanup_free char *data = NULL;
  size_t root_len = strlen (cg->fs_root);
  char *save = NULL;

  if (arca_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 16 * 1024 * 1024, &data, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *fields[6] = { 0 }, *sep, *fstype, *opts, *lsave = NULL;
      const char *name;
      size_t i = 0;

      sep = strstr (line, " - ");
      if (sep == NULL)
        continue;
      *sep = '\0';
      fstype = strtok_r (sep + 3, " ", &lsave);
      (void) strtok_r (NULL, " ", &lsave);
      opts = strtok_r (NULL, " ", &lsave);
      if (fstype == NULL || opts == NULL)
        continue;
      if (strcmp (fstype, "cgroup") != 0 && strcmp (fstype, "cgroup2") != 0)
        continue;
      lsave = NULL;
      for (char *f = strtok_r (line, " ", &lsave); f && i < 6; f = strtok_r (NULL, " ", &lsave))
        fields[i++] = f;
      if (i < 5)
        continue;
      unescape (fields[4]);
      if (strncmp (fields[4], cg->fs_root, root_len) != 0)
        continue;
      name = fields[4] + root_len;
      if (*name == '\0')
        {
          if (cg->mode == ARCA_CGROUP_V2 && strcmp (fstype, "cgroup2") == 0
              && add_hier (cg, "", "", true, err) < 0)
            return -1;
          continue;
        }
      if (*name++ != '/' || strchr (name, '/') != NULL)
        continue;
      if (cg->mode == ARCA_CGROUP_V2)
        continue;
      if (strcmp (fstype, "cgroup2") == 0)
        {
          if (cg->mode == ARCA_CGROUP_HYBRID && strcmp (name, "unified") == 0
              && add_hier (cg, name, "", true, err) < 0)
            return -1;
        }
      else
        {
          cleanup_free char *ctrl = NULL;
          if (v1_controllers (opts, &ctrl, err) < 0)
            return -1;
          if (*ctrl != '\0' && add_hier (cg, name, ctrl, false, err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
name_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Fake trees: every directory below the root is a hierarchy named like its
 * controllers ("cpu,cpuacct"); "unified" is the cgroup2 one in hybrid mode. */
static int
hiers_from_fake_tree (struct arca_cgroup *cg, arca_error **err)
{
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **names = NULL;
  size_t n = 0;
  struct dirent *de;

  if (cg->mode == ARCA_CGROUP_V2)
    return add_hier (cg, "", "", true, err);
  d = opendir (cg->fs_root);
  if (d == NULL)
    return arca_error_errno (err, "open `%s`", cg->fs_root);
  while ((de = readdir (d)) != NULL)
    {
      char **nn;
      if (de->d_name[0] == '.' || de->d_type != DT_DIR)
        continue;
      nn = realloc (names, (n + 2) * sizeof (*nn));
      if (nn == NULL)
        return arca_error_errno (err, "open `%s`", cg->fs_root);
      names = nn;
      names[n] = strdup (de->d_name);
      names[n + 1] = NULL;
      if (names[n++] == NULL)
        return arca_error_errno (err, "open `%s`", cg->fs_root);
    }
  if (n == 0)
    return 0;
  qsort (names, n, sizeof (*names), name_cmp);
  for (size_t i = 0; i < n; i++)
    {
      bool v2 = cg->mode == ARCA_CGROUP_HYBRID && strcmp (names[i], "unified") == 0;
      if (add_hier (cg, names[i], v2 ? "" : names[i], v2, err) < 0)
        return -1;
    }
  return 0;
}

/* Normalises a cgroupsPath: no empty or "." components, no "..".  The
 * result has no leading or trailing '/'. */
static int
normalize_path (const char *path, char **ret, arca_error **err)
{
  cleanup_free char *copy = strdup (path);
  cleanup_free char *out = NULL;
  size_t len = 0;
  char *save = NULL;

  if (copy == NULL || (out = calloc (1, strlen (path) + 1)) == NULL)
    return arca_error_errno (err, "cgroupsPath `%s`", path);
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, ".") == 0)
        continue;
      if (strcmp (c, "..") == 0)
        return arca_error_set (err, EINVAL, "cgroupsPath `%s`: \"..\" is not allowed", path);
      len += (size_t) sprintf (out + len, "%s%s", len ? "/" : "", c);
    }
  if (len == 0)
    return arca_error_set (err, EINVAL, "cgroupsPath `%s`: names the root cgroup", path);
  *ret = move_ptr (out);
  return 0;
}

/* Our own cgroup in hierarchy h, from /proc/self/cgroup (or the fake tree's
 * FAKE_SELF_FILE; "/" when a fake tree has none). */
static int
self_cgroup (const struct arca_cgroup *cg, const struct arca_cgroup_hier *h, char **ret,
             arca_error **err)
{
  cleanup_free char *data = NULL, *fake_file = NULL;
  const char *file = "/proc/self/cgroup";
  char *save = NULL;

  if (cg->fake)
    {
      if (asprintf (&fake_file, "%s/" FAKE_SELF_FILE, cg->fs_root) < 0)
        return arca_error_errno (err, "read own cgroup");
      if (access (fake_file, F_OK) < 0)
        {
          *ret = strdup ("/");
          return *ret ? 0 : arca_error_errno (err, "read own cgroup");
        }
      file = fake_file;
    }
  if (arca_read_file_at (AT_FDCWD, file, 1024 * 1024, &data, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':'), *c2, *ctrls;
      bool match = false;

      if (c1 == NULL || (c2 = strchr (c1 + 1, ':')) == NULL)
        continue;
      *c2 = '\0';
      ctrls = c1 + 1;
      if (h->v2)
        match = *ctrls == '\0';
      else
        {
          char *csave = NULL;
          for (char *t = strtok_r (ctrls, ",", &csave); t && !match;
               t = strtok_r (NULL, ",", &csave))
            match = arca_cgroup_list_has (h->options, t);
        }
      if (match)
        {
          *ret = strdup (c2 + 1);
          return *ret ? 0 : arca_error_errno (err, "read own cgroup");
        }
    }
  return arca_error_set (err, ENOENT, "`%s`: no entry for the %s hierarchy", file,
                         h->v2 ? "cgroup2" : h->options);
}

int
arca_cgroup_open (const char *fs_root, const char *path, struct arca_cgroup **ret_cgroup,
                  arca_error **err)
{
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  cleanup_free char *rel = NULL;
  size_t root_len;

  if (path == NULL || *path == '\0')
    return arca_error_set (err, EINVAL, "cgroupsPath is empty");
  if (*path != '/' && strchr (path, ':') != NULL)
    return arca_error_set (err, ENOTSUP,
                           "cgroupsPath `%s`: systemd cgroup paths need --systemd-cgroup, which "
                           "is not supported on this host",
                           path);
  if (normalize_path (path, &rel, err) < 0)
    return -1;

  cg = calloc (1, sizeof (*cg));
  if (cg == NULL || (cg->fs_root = strdup (fs_root)) == NULL)
    return arca_error_errno (err, "open cgroup `%s`", path);
  root_len = strlen (cg->fs_root);
  while (root_len > 1 && cg->fs_root[root_len - 1] == '/')
    cg->fs_root[--root_len] = '\0';
  if (detect (cg->fs_root, &cg->mode, &cg->fake, err) < 0)
    return -1;
  if ((cg->fake ? hiers_from_fake_tree (cg, err) : hiers_from_mountinfo (cg, err)) < 0)
    return -1;
  if (cg->n_hiers == 0)
    return arca_error_set (err, ENOENT, "no cgroup hierarchy mounted below `%s`", cg->fs_root);

  /* A relative path is resolved once, below our own cgroup in the main
   * hierarchy (the cgroup2 one, else the first v1 one), and used in every
   * hierarchy: our v1 cgroups may differ per controller, and one path is
   * what the caller records and opens again later (from another process,
   * perhaps in another cgroup). */
  if (*path != '/')
    {
      const struct arca_cgroup_hier *main_h = arca_cgroup_unified (cg);
      cleanup_free char *self = NULL;
      const char *s;
      size_t len;

      if (self_cgroup (cg, main_h ? main_h : &cg->hiers[0], &self, err) < 0)
        return arca_error_wrap (err, "resolve cgroupsPath `%s`", path);
      len = strlen (self);
      while (len > 0 && self[len - 1] == '/')
        self[--len] = '\0';
      s = self + strspn (self, "/");
      if (asprintf (&cg->path, "/%s%s%s", s, *s ? "/" : "", rel) < 0)
        {
          cg->path = NULL;
          return arca_error_errno (err, "open cgroup `%s`", path);
        }
    }
  else if (asprintf (&cg->path, "/%s", rel) < 0)
    {
      cg->path = NULL;
      return arca_error_errno (err, "open cgroup `%s`", path);
    }

  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      struct arca_cgroup_hier *h = &cg->hiers[i];
      if (asprintf (&h->dir, "%s%s", h->mount, cg->path) < 0)
        {
          h->dir = NULL;
          return arca_error_errno (err, "open cgroup `%s`", path);
        }
    }

  cg->pub = calloc (cg->n_hiers, sizeof (*cg->pub));
  if (cg->pub == NULL)
    return arca_error_errno (err, "open cgroup `%s`", path);
  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      struct arca_cgroup_hier *h = &cg->hiers[i];
      cg->pub[i] = (struct arca_cgroup_hierarchy){
        .name = *h->name ? h->name : "unified",
        .fs_type = h->v2 ? "cgroup2" : "cgroup",
        .options = h->options,
        .host_dir = h->dir,
      };
    }
  *ret_cgroup = move_ptr (cg);
  return 0;
}

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
  for (;;)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY || now_ms () >= deadline)
        return arca_error_errno (err, "rmdir `%s`", dir);
      sleep_ms (10);
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
  int64_t deadline = now_ms () + 1000;

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
arca_cgroup_apply (struct arca_cgroup *cg, const struct arca_oci_resources *resources,
                   arca_error **err)
{
  /* A shallow copy: only has_* flags change, the arrays stay the caller's. */
  struct arca_oci_resources r = *resources;

  /* runc and crun read 0 in these fields as "not set", and clients written
   * against them send zeros; writing them would mean "no memory at all"
   * or be refused by the kernel. */
  r.has_memory_limit &= r.memory_limit != 0;
  r.has_memory_reservation &= r.memory_reservation != 0;
  r.has_memory_swap &= r.memory_swap != 0;
  r.has_cpu_shares &= r.cpu_shares != 0;
  r.has_cpu_quota &= r.cpu_quota != 0;
  r.has_cpu_period &= r.cpu_period != 0;
  r.has_cpu_realtime_runtime &= r.cpu_realtime_runtime != 0;
  r.has_cpu_realtime_period &= r.cpu_realtime_period != 0;
  r.has_blkio_weight &= r.blkio_weight != 0;
  r.has_blkio_leaf_weight &= r.blkio_leaf_weight != 0;

  if (cg->mode == ARCA_CGROUP_V2)
    return arca_cgroup_v2_apply (cg, &r, err);
  if (r.n_unified > 0)
    return arca_error_set (err, ENOTSUP, "linux.resources.unified: needs cgroup v2");
  return arca_cgroup_v1_apply (cg, &r, err);
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

int
arca_cgroup_freeze (struct arca_cgroup *cg, bool frozen, arca_error **err)
{
  if (cg->mode == ARCA_CGROUP_V2)
    return arca_cgroup_v2_freeze (cg, frozen, err);
  return arca_cgroup_v1_freeze (cg, frozen, err);
}

int
arca_cgroup_is_frozen (struct arca_cgroup *cg, bool *ret_frozen, arca_error **err)
{
  if (cg->mode == ARCA_CGROUP_V2)
    return arca_cgroup_v2_is_frozen (cg, ret_frozen, err);
  return arca_cgroup_v1_is_frozen (cg, ret_frozen, err);
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
          pass_error (err, &thaw_err);
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
      deadline = now_ms () + 1000;
      for (;;)
        {
          cleanup_free pid_t *pids = NULL;
          cleanup_error arca_error *ignored = NULL;
          size_t n = 0;
          if (arca_cgroup_pids (cg, &pids, &n, &ignored) < 0 || n == 0 || now_ms () >= deadline)
            break;
          sleep_ms (10);
        }
    }
  deadline = now_ms () + 1000;
  /* One hierarchy that cannot be removed does not keep the others: remove
   * what can be, report the first failure. */
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (remove_tree (cg, cg->hiers[i].dir, deadline, 0, err) < 0)
      r = -1;
  if (r < 0)
    return arca_error_wrap (err, "destroy cgroup `%s`", cg->path);
  return 0;
}

int
arca_cgroup_stats (struct arca_cgroup *cg, struct arca_cgroup_stats *ret_stats, arca_error **err)
{
  struct arca_cgroup_stats st = { 0 };
  int r;

  if (cg->mode == ARCA_CGROUP_V2)
    r = arca_cgroup_v2_stats (cg, &st, err);
  else
    r = arca_cgroup_v1_stats (cg, &st, err);
  if (r < 0)
    return r;
  *ret_stats = st;
  return 0;
}

enum arca_cgroup_mode
arca_cgroup_mode (const struct arca_cgroup *cg)
{
  return cg->mode;
}

const char *
arca_cgroup_path (const struct arca_cgroup *cg)
{
  return cg->path;
}

size_t
arca_cgroup_hierarchies (const struct arca_cgroup *cg, const struct arca_cgroup_hierarchy **ret)
{
  *ret = cg->pub;
  return cg->n_hiers;
}

void
arca_cgroup_free (struct arca_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_hiers; i++)
    hier_clear (&cg->hiers[i]);
  free (cg->hiers);
  free (cg->pub);
  free (cg->path);
  free (cg->fs_root);
  free (cg);
}

void
arca_cgroup_freep (struct arca_cgroup **cg)
{
  arca_cgroup_free (*cg);
}
