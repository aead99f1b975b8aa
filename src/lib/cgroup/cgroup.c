/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layout detection, path resolution and dispatch.  What differs between v1
 * and v2 lives in v1.c and v2.c, the knob helpers in knobs.c, the directory
 * life cycle in tree.c. */
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
#include "util/strv.h"

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

  if (asprintf (&p, "%s/" ARCA_CGROUP_FAKE_MODE_FILE, fs_root) < 0)
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
      if (de->d_name[0] == '.' || de->d_type != DT_DIR)
        continue;
      if (arca_strv_append (&names, &n, de->d_name) < 0)
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
 * ARCA_CGROUP_FAKE_SELF_FILE; "/" when a fake tree has none). */
static int
self_cgroup (const struct arca_cgroup *cg, const struct arca_cgroup_hier *h, char **ret,
             arca_error **err)
{
  cleanup_free char *data = NULL, *fake_file = NULL;
  const char *file = "/proc/self/cgroup";
  char *save = NULL;

  if (cg->fake)
    {
      if (asprintf (&fake_file, "%s/" ARCA_CGROUP_FAKE_SELF_FILE, cg->fs_root) < 0)
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
