/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's root filesystem.
 *
 * Every mount is built detached (fsopen/fsmount, or open_tree for binds),
 * gets its flags with mount_setattr while nobody can see it, and is attached
 * with move_mount onto an O_PATH fd that arca_mkpath_in_root resolved inside
 * the rootfs.  No destination path is looked up again after it was checked,
 * so a symlink in the image cannot send a mount to the host.  When the kernel
 * refuses the new mount API (ENOSYS: old kernel or a seccomp profile), the
 * same steps are done with mount(2) on /proc/self/fd/N of the verified fd. */
#include "linux/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/devices.h"
#include "util/cleanup.h"
#include "util/fs.h"

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000 /* glibc < 2.37 lacks it; the kernel's value */
#endif

/* Per-mount (not superblock) flags and their mount_setattr bits. */
static const struct
{
  unsigned long ms;
  uint64_t attr;
} mnt_flag_table[] = {
  { MS_RDONLY, MOUNT_ATTR_RDONLY },         { MS_NOSUID, MOUNT_ATTR_NOSUID },
  { MS_NODEV, MOUNT_ATTR_NODEV },           { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
  { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
};

#define MNT_FLAGS_MASK                                                                             \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | MS_NOSYMFOLLOW | MS_NOATIME      \
   | MS_RELATIME | MS_STRICTATIME)

static void
attr_from_flags (unsigned long set, unsigned long clear, struct mount_attr *attr)
{
  memset (attr, 0, sizeof (*attr));
  for (size_t i = 0; i < ARRAY_SIZE (mnt_flag_table); i++)
    {
      if (set & mnt_flag_table[i].ms)
        attr->attr_set |= mnt_flag_table[i].attr;
      else if (clear & mnt_flag_table[i].ms)
        attr->attr_clr |= mnt_flag_table[i].attr;
    }
  /* The atime mode is one field: changing it means clearing the field. */
  if (set & MS_NOATIME)
    attr->attr_set |= MOUNT_ATTR_NOATIME;
  else if (set & MS_STRICTATIME)
    attr->attr_set |= MOUNT_ATTR_STRICTATIME;
  else if (set & MS_RELATIME || clear & (MS_NOATIME | MS_STRICTATIME))
    attr->attr_set |= MOUNT_ATTR_RELATIME;
  else
    return;
  attr->attr_clr |= MOUNT_ATTR__ATIME;
}

static void
proc_fd_path (char *buf, size_t size, int fd)
{
  snprintf (buf, size, "/proc/self/fd/%d", fd);
}

/* mount(2) remount of the mount whose root mnt_fd is: the current flags
 * (statvfs) are kept unless cleared, so flags the kernel locked in a user
 * namespace (nosuid, nodev, ro of a host mount) are passed again, as it
 * requires. */
static int
remount_legacy (int mnt_fd, unsigned long set, unsigned long clear, arca_error **err)
{
  static const struct
  {
    unsigned long st, ms;
  } st_table[] = {
    { ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },
    { ST_NODEV, MS_NODEV },       { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME },   { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME }, { ST_NOSYMFOLLOW, MS_NOSYMFOLLOW },
  };
  const unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
  struct statvfs sv;
  unsigned long cur = 0, flags;
  char path[64];

  if (fstatvfs (mnt_fd, &sv) < 0)
    return arca_error_errno (err, "statvfs");
  for (size_t i = 0; i < ARRAY_SIZE (st_table); i++)
    if (sv.f_flag & st_table[i].st)
      cur |= st_table[i].ms;
  /* statvfs has no bit for strictatime: no atime bit at all means it. */
  if (!(cur & (MS_NOATIME | MS_RELATIME)))
    cur |= MS_STRICTATIME;
  flags = (((set & atime) ? cur & ~atime : cur) & ~clear) | set;
  proc_fd_path (path, sizeof (path), mnt_fd);
  if (mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | (flags & MNT_FLAGS_MASK), NULL) == 0)
    return 0;
  /* A user namespace locks the atime mode of the mounts it inherited: keep
   * it rather than fail, as runc does. */
  if (errno == EPERM && (set & atime))
    {
      flags = ((cur & ~clear) | (set & ~atime));
      if (mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | (flags & MNT_FLAGS_MASK), NULL) == 0)
        return 0;
    }
  return arca_error_errno (err, "remount with flags 0x%lx", flags & MNT_FLAGS_MASK);
}

/* Applies flags to the mount tree_fd is the root of (and below it when
 * recursive).  *ret_later is set when mount_setattr is missing: the caller
 * remounts once the tree is attached (mount(2) cannot reach detached trees). */
static int
set_flags (int tree_fd, unsigned long set, unsigned long clear, bool recursive, bool *ret_later,
           arca_error **err)
{
  struct mount_attr attr;

  *ret_later = false;
  attr_from_flags (set, clear, &attr);
  if (attr.attr_set == 0 && attr.attr_clr == 0)
    return 0;
  if (mount_setattr (tree_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                     sizeof (attr))
      == 0)
    return 0;
  if (errno == ENOSYS)
    {
      *ret_later = true;
      return 0;
    }
  /* A user namespace locks the atime mode of the mounts it inherited: keep
   * it rather than fail, as runc does. */
  if (errno == EPERM && (attr.attr_clr & MOUNT_ATTR__ATIME))
    {
      attr.attr_clr &= ~MOUNT_ATTR__ATIME;
      attr.attr_set &= ~MOUNT_ATTR__ATIME;
      if ((attr.attr_set == 0 && attr.attr_clr == 0)
          || mount_setattr (tree_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                            sizeof (attr))
                 == 0)
        return 0;
    }
  return arca_error_errno (err, "set mount flags 0x%lx (clear 0x%lx)", set, clear);
}

static int
set_propagation (int mnt_fd, unsigned long propagation, arca_error **err)
{
  struct mount_attr attr = { .propagation = propagation & ~MS_REC };
  char path[64];

  if (attr.propagation == 0)
    return 0;
  if (mount_setattr (mnt_fd, "", AT_EMPTY_PATH | (propagation & MS_REC ? AT_RECURSIVE : 0), &attr,
                     sizeof (attr))
      == 0)
    return 0;
  if (errno != ENOSYS)
    return arca_error_errno (err, "set mount propagation 0x%lx", propagation);
  proc_fd_path (path, sizeof (path), mnt_fd);
  if (mount (NULL, path, NULL, propagation, NULL) < 0)
    return arca_error_errno (err, "set mount propagation 0x%lx", propagation);
  return 0;
}

/* Attaches the detached tree onto the verified target, then finishes what
 * could not be done before (flags without mount_setattr, propagation, which
 * only means something once attached). */
static int
attach (int tree_fd, int target_fd, unsigned long set, unsigned long clear, bool recursive,
        unsigned long propagation, arca_error **err)
{
  bool later = false;

  if (set_flags (tree_fd, set, clear, recursive, &later, err) < 0)
    return -1;
  if (move_mount (tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
      < 0)
    return arca_error_errno (err, "move_mount");
  if (later && remount_legacy (tree_fd, set, clear, err) < 0)
    return -1;
  return set_propagation (tree_fd, propagation, err);
}

/* Clone of the tree at dirfd/path (a host path when dirfd is AT_FDCWD).
 * Returns 1 (nothing done) when open_tree is missing, so the caller can use
 * mount(2). */
static int
clone_tree (int dirfd, const char *path, bool recursive, int *ret_fd, arca_error **err)
{
  int fd = open_tree (dirfd, path,
                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0)
                          | (*path == '\0' ? AT_EMPTY_PATH : 0));
  if (fd < 0)
    {
      if (errno == ENOSYS)
        return 1;
      return arca_error_errno (err, "clone mount tree of `%s`", *path ? path : "(fd)");
    }
  *ret_fd = fd;
  return 0;
}

/* The fallback for kernels without open_tree: mount(2) onto the magic link
 * of the verified target.  A magic link does not cross the mount just made,
 * so flags are applied through a fresh fd that reopen() returns. */
typedef int (*reopen_fn) (const void *data, arca_error **err);

static int
bind_legacy (const char *source, int target_fd, bool recursive, unsigned long set,
             unsigned long clear, unsigned long propagation, reopen_fn reopen,
             const void *reopen_data, arca_error **err)
{
  cleanup_close int top = -1;
  char path[64];
  struct mount_attr attr;

  proc_fd_path (path, sizeof (path), target_fd);
  if (mount (source, path, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
    return arca_error_errno (err, "bind mount `%s`", source);
  attr_from_flags (set, clear, &attr);
  if (attr.attr_set == 0 && attr.attr_clr == 0 && (propagation & ~MS_REC) == 0)
    return 0;
  if (reopen == NULL)
    return arca_error_set (err, EOPNOTSUPP, "bind mount `%s`: flags need mount_setattr", source);
  top = reopen (reopen_data, err);
  if (top < 0)
    return -1;
  if (attr.attr_set != 0 || attr.attr_clr != 0)
    if (remount_legacy (top, set, clear, err) < 0)
      return -1;
  return set_propagation (top, propagation, err);
}

static int
bind_onto (const char *source, int target_fd, bool recursive, unsigned long set,
           unsigned long clear, unsigned long propagation, reopen_fn reopen,
           const void *reopen_data, arca_error **err)
{
  cleanup_close int tree = -1;
  int r;

  r = clone_tree (AT_FDCWD, source, recursive, &tree, err);
  if (r < 0)
    return r;
  if (r == 1)
    return bind_legacy (source, target_fd, recursive, set, clear, propagation, reopen, reopen_data,
                        err);
  return attach (tree, target_fd, set, clear, recursive, propagation, err);
}

int
arca_rootfs_bind_onto (const char *source, int target_fd, bool recursive, unsigned long flags,
                       arca_error **err)
{
  return bind_onto (source, target_fd, recursive, flags, 0, 0, NULL, NULL, err);
}

/* ---- new filesystem instances ------------------------------------------ */

/* The kernel explains a refused fs configuration in the context's log
 * ("e tmpfs: Bad value for 'size'"): worth more than EINVAL alone. */
static int
fs_error (int fsfd, const char *what, arca_error **err)
{
  int saved = errno;
  char msg[256];
  ssize_t n;

  for (;;)
    {
      n = read (fsfd, msg, sizeof (msg) - 1);
      if (n <= 0)
        break;
      msg[n] = '\0';
      if (n > 2 && msg[0] == 'e' && msg[1] == ' ')
        return arca_error_set (err, saved, "%s (%s)", what, msg + 2);
    }
  return arca_error_set (err, saved, "%s", what);
}

static int
fs_set_options (int fsfd, const char *type, const char *data, arca_error **err)
{
  cleanup_free char *copy = NULL;
  char *save = NULL;

  if (data == NULL || *data == '\0')
    return 0;
  copy = strdup (data);
  if (copy == NULL)
    return arca_error_errno (err, "mount %s", type);
  for (char *opt = strtok_r (copy, ",", &save); opt != NULL; opt = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (opt, '=');
      char what[320];
      int r;

      if (eq != NULL)
        {
          *eq = '\0';
          r = fsconfig (fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
        }
      else
        r = fsconfig (fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
      if (r < 0)
        {
          snprintf (what, sizeof (what), "%s: option \"%s%s%s\"", type, opt, eq ? "=" : "",
                    eq ? eq + 1 : "");
          return fs_error (fsfd, what, err);
        }
    }
  return 0;
}

/* A new detached instance of filesystem `type`; returns its fd.  When
 * fsopen is missing it returns -1 with *ret_legacy set and *err untouched:
 * the caller falls back to mount(2). */
static int
new_fs (const char *type, const char *source, const char *data, unsigned long flags,
        bool *ret_legacy, arca_error **err)
{
  cleanup_close int fsfd = -1;
  struct mount_attr attr;
  char what[128];
  int fd;

  *ret_legacy = false;
  fsfd = fsopen (type, FSOPEN_CLOEXEC);
  if (fsfd < 0)
    {
      if (errno == ENOSYS)
        {
          *ret_legacy = true;
          return -1;
        }
      if (errno == ENODEV)
        return arca_error_errno (err, "unknown filesystem type \"%s\"", type);
      return arca_error_errno (err, "fsopen %s", type);
    }
  snprintf (what, sizeof (what), "%s: source \"%s\"", type, source ? source : "");
  if (source != NULL && fsconfig (fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    return fs_error (fsfd, what, err);
  /* Superblock flags have no per-mount bit. */
  if ((flags & MS_SYNCHRONOUS) && fsconfig (fsfd, FSCONFIG_SET_FLAG, "sync", NULL, 0) < 0)
    return fs_error (fsfd, "sync", err);
  if ((flags & MS_DIRSYNC) && fsconfig (fsfd, FSCONFIG_SET_FLAG, "dirsync", NULL, 0) < 0)
    return fs_error (fsfd, "dirsync", err);
  if (fs_set_options (fsfd, type, data, err) < 0)
    return -1;
  snprintf (what, sizeof (what), "create %s", type);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return fs_error (fsfd, what, err);
  attr_from_flags (flags, 0, &attr);
  fd = fsmount (fsfd, FSMOUNT_CLOEXEC, (unsigned int)attr.attr_set);
  if (fd < 0)
    return arca_error_errno (err, "fsmount %s with flags 0x%lx", type, flags);
  return fd;
}

/* ---- config.mounts ----------------------------------------------------- */

struct ctx
{
  const struct arca_rootfs_options *opts;
  int root_fd;
};

struct reopen_req
{
  int root_fd;
  const char *path;
};

static int
reopen_in_root (const void *data, arca_error **err)
{
  const struct reopen_req *req = data;
  return arca_open_in_root (req->root_fd, req->path, O_PATH, 0, err);
}

/* data without the key=value option `key` (NULL on ENOMEM). */
static char *
without_option (const char *data, const char *key)
{
  size_t klen = strlen (key);
  char *out = calloc (1, strlen (data) + 1);
  const char *p = data;

  if (out == NULL)
    return NULL;
  while (*p)
    {
      const char *end = strchrnul (p, ',');
      if (!(strncmp (p, key, klen) == 0 && p[klen] == '='))
        {
          if (*out)
            strcat (out, ",");
          strncat (out, p, (size_t)(end - p));
        }
      p = *end ? end + 1 : end;
    }
  return out;
}

/* mount(2) fallback for a new filesystem instance. */
static int
new_fs_legacy (const struct arca_oci_mount *m, const char *type, const char *data, int root_fd,
               int target_fd, arca_error **err)
{
  struct reopen_req req = { root_fd, m->destination };
  cleanup_close int top = -1;
  char path[64];

  proc_fd_path (path, sizeof (path), target_fd);
  if (mount (m->source ? m->source : type, path, type,
             m->flags & (MNT_FLAGS_MASK | MS_SYNCHRONOUS | MS_DIRSYNC), data)
      < 0)
    return arca_error_errno (err, "mount %s", type);
  if ((m->propagation & ~MS_REC) == 0)
    return 0;
  top = reopen_in_root (&req, err);
  if (top < 0)
    return -1;
  return set_propagation (top, m->propagation, err);
}

/* Mounts a new instance of `type` for m onto target_fd.  Returns 1 (not an
 * error, nothing done) when the kernel refused it with EPERM and fallback_ok:
 * the caller binds the host's instance instead, as runc does for sysfs
 * without a network namespace. */
static int
mount_new_fs (struct ctx *c, const struct arca_oci_mount *m, const char *type, int target_fd,
              bool fallback_ok, arca_error **err)
{
  cleanup_close int tree = -1;
  cleanup_error arca_error *first = NULL;
  cleanup_free char *no_gid = NULL;
  /* In a user namespace gid=5 (tty) of devpts may be unmapped (EINVAL):
   * retried without it, the pts then belong to the container's root group. */
  bool gid_retry = strcmp (type, "devpts") == 0 && m->data != NULL
                   && (no_gid = without_option (m->data, "gid")) != NULL
                   && strcmp (no_gid, m->data) != 0;
  bool legacy = false;

  tree = new_fs (type, m->source, m->data, m->flags, &legacy, &first);
  if (tree < 0 && !legacy && first->errnum == EINVAL && gid_retry)
    {
      cleanup_error arca_error *second = NULL;
      tree = new_fs (type, m->source, no_gid, m->flags, &legacy, &second);
    }
  if (legacy)
    {
      int r = new_fs_legacy (m, type, m->data, c->root_fd, target_fd, &first);
      if (r < 0 && first->errnum == EINVAL && gid_retry)
        {
          arca_error_free (first);
          first = NULL;
          r = new_fs_legacy (m, type, no_gid, c->root_fd, target_fd, &first);
        }
      if (r == 0)
        return 0;
    }
  if (tree < 0)
    {
      if (fallback_ok && first->errnum == EPERM)
        return 1;
      *err = move_ptr (first);
      return -1;
    }
  return attach (tree, target_fd, 0, 0, false, m->propagation, err);
}

static int
mount_bind (struct ctx *c, const struct arca_oci_mount *m, const char *source, int target_fd,
            bool recursive, arca_error **err)
{
  struct reopen_req req = { c->root_fd, m->destination };

  /* Only flags that restrict are applied: "rw", "suid", "dev", "exec" do
   * not lift what the source mount has (as with runc, a bind never gives
   * more than its source), and lifting a flag the kernel locked in a user
   * namespace would fail anyway. */
  return bind_onto (source, target_fd, recursive, m->flags & MNT_FLAGS_MASK, 0, m->propagation,
                    reopen_in_root, &req, err);
}

/* v1/hybrid: a tmpfs with one bind per hierarchy of the container's own
 * cgroup, read-only unless the mount says rw (runc's layout). */
static int
mount_cgroup_v1 (struct ctx *c, const struct arca_oci_mount *m,
                 const struct arca_cgroup_hierarchy *h, size_t n, int target_fd, arca_error **err)
{
  unsigned long ro = (m->clear_flags & MS_RDONLY) ? 0 : MS_RDONLY;
  unsigned long sub_flags = (m->flags & MNT_FLAGS_MASK & ~MS_RDONLY) | ro;
  unsigned long tmpfs_flags = (m->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  struct reopen_req req = { c->root_fd, m->destination };
  cleanup_close int tree = -1;
  bool legacy = false, later = false;

  /* Read-only comes last: the directories are made first. */
  tree = new_fs ("tmpfs", "tmpfs", "mode=755", tmpfs_flags, &legacy, err);
  if (legacy)
    {
      char path[64];
      proc_fd_path (path, sizeof (path), target_fd);
      if (mount ("tmpfs", path, "tmpfs", tmpfs_flags & MNT_FLAGS_MASK, "mode=755") < 0)
        return arca_error_errno (err, "mount tmpfs");
      tree = reopen_in_root (&req, err);
      if (tree < 0 || set_propagation (tree, m->propagation, err) < 0)
        return -1;
    }
  else if (tree < 0 || attach (tree, target_fd, 0, 0, false, m->propagation, err) < 0)
    return -1;

  for (size_t i = 0; i < n; i++)
    {
      cleanup_close int sub = -1;
      cleanup_free char *dup = NULL;
      cleanup_free char *sub_path = NULL;
      struct reopen_req sub_req = { c->root_fd, NULL };

      if (strchr (h[i].name, '/') != NULL || h[i].name[0] == '.' || h[i].name[0] == '\0')
        return arca_error_set (err, EINVAL, "cgroup hierarchy name `%s`", h[i].name);
      if (mkdirat (tree, h[i].name, 0755) < 0 && errno != EEXIST)
        return arca_error_errno (err, "mkdir cgroup `%s`", h[i].name);
      sub = openat (tree, h[i].name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return arca_error_errno (err, "open cgroup `%s`", h[i].name);
      if (asprintf (&sub_path, "%s/%s", m->destination, h[i].name) < 0)
        {
          sub_path = NULL;
          return arca_error_errno (err, "cgroup `%s`", h[i].name);
        }
      sub_req.path = sub_path;
      if (bind_onto (h[i].host_dir, sub, false, sub_flags, 0, 0, reopen_in_root, &sub_req, err) < 0)
        return arca_error_wrap (err, "cgroup `%s`", h[i].name);
      /* "cpu,cpuacct" is also reachable as cpu and cpuacct. */
      if (strchr (h[i].name, ',') == NULL)
        continue;
      dup = strdup (h[i].name);
      if (dup == NULL)
        return arca_error_errno (err, "cgroup `%s`", h[i].name);
      for (char *save = NULL, *p = strtok_r (dup, ",", &save); p; p = strtok_r (NULL, ",", &save))
        if (symlinkat (h[i].name, tree, p) < 0 && errno != EEXIST)
          return arca_error_errno (err, "symlink cgroup `%s` -> `%s`", p, h[i].name);
    }
  if (!(m->flags & MS_RDONLY))
    return 0;
  if (set_flags (tree, MS_RDONLY, 0, false, &later, err) < 0)
    return -1;
  return later ? remount_legacy (tree, MS_RDONLY, 0, err) : 0;
}

static int
mount_cgroup (struct ctx *c, const struct arca_oci_mount *m, int target_fd, arca_error **err)
{
  const struct arca_cgroup_hierarchy *h = NULL;
  size_t n;

  /* Without a cgroup there is no own directory to show: the host tree. */
  if (c->opts->cgroup == NULL)
    return mount_bind (c, m, "/sys/fs/cgroup", target_fd, true, err);
  n = arca_cgroup_hierarchies (c->opts->cgroup, &h);
  if (arca_cgroup_mode (c->opts->cgroup) != ARCA_CGROUP_V2)
    return mount_cgroup_v1 (c, m, h, n, target_fd, err);
  if (n == 0)
    return arca_error_set (err, ENOENT, "no cgroup2 hierarchy");
  if (c->opts->new_cgroup_ns)
    {
      struct arca_oci_mount copy = *m;
      copy.source = (char *)"cgroup";
      return mount_new_fs (c, &copy, "cgroup2", target_fd, false, err);
    }
  return mount_bind (c, m, h[0].host_dir, target_fd, false, err);
}

static int
mount_one (struct ctx *c, const struct arca_oci_mount *m, arca_error **err)
{
  cleanup_close int target = -1;
  const char *type = m->type;
  bool is_sysfs, is_mqueue;
  struct stat st;
  int r;

  if (m->destination == NULL || m->destination[0] != '/')
    return arca_error_set (err, EINVAL, "destination is not an absolute path");
  if (m->bind)
    {
      if (m->source == NULL)
        return arca_error_set (err, EINVAL, "bind mount without a source");
      if (stat (m->source, &st) < 0)
        return arca_error_errno (err, "bind source `%s`", m->source);
      /* A file is bound onto a file: create the destination as one. */
      target = arca_mkpath_in_root (c->root_fd, m->destination, S_ISDIR (st.st_mode),
                                    S_ISDIR (st.st_mode) ? 0755 : 0644, err);
      if (target < 0)
        return -1;
      return mount_bind (c, m, m->source, target, m->recursive, err);
    }
  if (type == NULL || *type == '\0')
    return arca_error_set (err, EINVAL, "no mount type");
  target = arca_mkpath_in_root (c->root_fd, m->destination, 1, 0755, err);
  if (target < 0)
    return -1;
  if (strcmp (type, "cgroup") == 0)
    return mount_cgroup (c, m, target, err);
  /* EPERM: sysfs needs a network namespace the user namespace owns, mqueue
   * an ipc one; show the host's instance then, as runc does. */
  is_sysfs = strcmp (type, "sysfs") == 0;
  is_mqueue = strcmp (type, "mqueue") == 0;
  r = mount_new_fs (c, m, type, target, is_sysfs || is_mqueue, err);
  if (r != 1)
    return r;
  if (mount_bind (c, m, is_sysfs ? "/sys" : "/dev/mqueue", target, is_sysfs, err) < 0)
    return arca_error_wrap (err, "%s refused a new instance (EPERM), binding the host's", type);
  return 0;
}

static unsigned long
propagation_flag (enum arca_oci_propagation p)
{
  switch (p)
    {
    case ARCA_PROPAGATION_PRIVATE:
      return MS_PRIVATE;
    case ARCA_PROPAGATION_SHARED:
      return MS_SHARED;
    case ARCA_PROPAGATION_UNBINDABLE:
      return MS_UNBINDABLE;
    case ARCA_PROPAGATION_SLAVE:
    case ARCA_PROPAGATION_NONE:
    default:
      return MS_SLAVE;
    }
}

static bool
has_devpts (const struct arca_oci_config *config)
{
  for (size_t i = 0; i < config->n_mounts; i++)
    if (config->mounts[i].destination && strcmp (config->mounts[i].destination, "/dev/pts") == 0
        && config->mounts[i].type && strcmp (config->mounts[i].type, "devpts") == 0)
      return true;
  return false;
}

int
arca_rootfs_prepare (const struct arca_oci_config *config, const struct arca_rootfs_options *opts,
                     arca_error **err)
{
  cleanup_close int root_fd = -1;
  struct ctx c = { opts, -1 };
  unsigned long prop;

  if (opts->rootfs == NULL || opts->rootfs[0] != '/')
    return arca_error_set (err, EINVAL, "rootfs `%s`: not an absolute path",
                           opts->rootfs ? opts->rootfs : "");
  /* Nothing mounted from here on may propagate back to the host, so "/" is
   * a slave (or private) before the first mount.  shared and unbindable are
   * applied to the container's "/" after the pivot (finalize): shared here
   * would send every mount below to the host, unbindable would forbid the
   * bind of the rootfs. */
  prop = config->linux_.rootfs_propagation == ARCA_PROPAGATION_PRIVATE ? MS_PRIVATE : MS_SLAVE;
  if (mount (NULL, "/", NULL, MS_REC | prop, NULL) < 0)
    return arca_error_errno (err, "make `/` %s", prop == MS_PRIVATE ? "rprivate" : "rslave");
  /* pivot_root needs the rootfs to be a mount point. */
  if (mount (opts->rootfs, opts->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return arca_error_errno (err, "bind mount rootfs `%s` onto itself", opts->rootfs);
  root_fd = open (opts->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return arca_error_errno (err, "open rootfs `%s`", opts->rootfs);
  c.root_fd = root_fd;

  for (size_t i = 0; i < config->n_mounts; i++)
    if (mount_one (&c, &config->mounts[i], err) < 0)
      return arca_error_wrap (err, "mounts[%zu] `%s`", i,
                              config->mounts[i].destination ? config->mounts[i].destination : "");

  if (arca_devices_create (root_fd, config, opts->in_user_ns, err) < 0)
    return -1;
  return arca_devices_symlinks (root_fd, has_devpts (config), err);
}

/* ---- pivot ------------------------------------------------------------- */

int
arca_rootfs_pivot (const struct arca_oci_config *config, const struct arca_rootfs_options *opts,
                   arca_error **err)
{
  cleanup_close int old_root = -1;
  cleanup_close int new_root = -1;

  if (opts->no_pivot)
    {
      /* For ramfs roots, where pivot_root is refused. */
      if (chdir (opts->rootfs) < 0)
        return arca_error_errno (err, "chdir `%s`", opts->rootfs);
      if (mount (opts->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return arca_error_errno (err, "move rootfs `%s` to `/`", opts->rootfs);
      if (chroot (".") < 0)
        return arca_error_errno (err, "chroot `%s`", opts->rootfs);
      if (chdir ("/") < 0)
        return arca_error_errno (err, "chdir `/`");
      return 0;
    }

  old_root = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (old_root < 0)
    return arca_error_errno (err, "open `/`");
  new_root = open (opts->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (new_root < 0)
    return arca_error_errno (err, "open rootfs `%s`", opts->rootfs);
  if (fchdir (new_root) < 0)
    return arca_error_errno (err, "chdir `%s`", opts->rootfs);
  /* pivot_root(".", "."): the old root ends up stacked on the new one, no
   * put_old directory is needed inside the image. */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return arca_error_errno (err, "pivot_root into `%s`", opts->rootfs);
  /* "." is the new root's mount; the old root is on top of it, reachable
   * through the fd opened before. */
  if (fchdir (old_root) < 0)
    return arca_error_errno (err, "chdir to the old root");
  /* The detach must not propagate anywhere. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return arca_error_errno (err, "make the old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return arca_error_errno (err, "detach the old root");
  if (chdir ("/") < 0)
    return arca_error_errno (err, "chdir `/`");
  return 0;
}

/* ---- finalize ---------------------------------------------------------- */

/* Opens path inside the new root; 0 with *ret_fd = -1 when it does not
 * exist (masked and read-only paths name things that may be absent). */
static int
open_optional (int root_fd, const char *path, int *ret_fd, arca_error **err)
{
  cleanup_error arca_error *local = NULL;
  int fd;

  fd = arca_open_in_root (root_fd, path, O_PATH, 0, &local);
  if (fd < 0)
    {
      if (local->errnum == ENOENT)
        {
          *ret_fd = -1;
          return 0;
        }
      *err = move_ptr (local);
      return -1;
    }
  *ret_fd = fd;
  return 0;
}

static int
mask_path (int root_fd, const char *path, arca_error **err)
{
  struct reopen_req req = { root_fd, path };
  cleanup_close int target = -1;
  cleanup_close int tree = -1;
  struct stat st;
  bool legacy = false;

  if (open_optional (root_fd, path, &target, err) < 0)
    return -1;
  if (target < 0)
    return 0;
  if (fstat (target, &st) < 0)
    return arca_error_errno (err, "stat");
  if (!S_ISDIR (st.st_mode))
    return bind_onto ("/dev/null", target, false, 0, 0, 0, reopen_in_root, &req, err);
  tree = new_fs ("tmpfs", "tmpfs", NULL, MS_RDONLY, &legacy, err);
  if (legacy)
    {
      char p[64];
      proc_fd_path (p, sizeof (p), target);
      if (mount ("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0)
        return arca_error_errno (err, "mount tmpfs");
      return 0;
    }
  if (tree < 0)
    return -1;
  return attach (tree, target, 0, 0, false, 0, err);
}

static int
readonly_path (int root_fd, const char *path, arca_error **err)
{
  struct reopen_req req = { root_fd, path };
  cleanup_close int target = -1;
  cleanup_close int tree = -1;
  char p[64];
  int r;

  if (open_optional (root_fd, path, &target, err) < 0)
    return -1;
  if (target < 0)
    return 0;
  r = clone_tree (target, "", true, &tree, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return attach (tree, target, MS_RDONLY, 0, true, 0, err);
  proc_fd_path (p, sizeof (p), target);
  return bind_legacy (p, target, true, MS_RDONLY, 0, 0, reopen_in_root, &req, err);
}

int
arca_rootfs_finalize (const struct arca_oci_config *config, const struct arca_rootfs_options *opts,
                      arca_error **err)
{
  cleanup_close int root_fd = -1;
  enum arca_oci_propagation prop = config->linux_.rootfs_propagation;

  root_fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return arca_error_errno (err, "open `/`");

  for (size_t i = 0; config->linux_.masked_paths && config->linux_.masked_paths[i]; i++)
    if (mask_path (root_fd, config->linux_.masked_paths[i], err) < 0)
      return arca_error_wrap (err, "linux.maskedPaths[%zu] `%s`", i,
                              config->linux_.masked_paths[i]);

  for (size_t i = 0; config->linux_.readonly_paths && config->linux_.readonly_paths[i]; i++)
    if (readonly_path (root_fd, config->linux_.readonly_paths[i], err) < 0)
      return arca_error_wrap (err, "linux.readonlyPaths[%zu] `%s`", i,
                              config->linux_.readonly_paths[i]);

  if (config->root.readonly)
    {
      bool later = false;
      /* Only the root mount: the mounts below keep their own flags. */
      if (set_flags (root_fd, MS_RDONLY, 0, false, &later, err) < 0
          || (later && remount_legacy (root_fd, MS_RDONLY, 0, err) < 0))
        return arca_error_wrap (err, "root.readonly: remount `/` read-only");
    }

  /* Slave (the default) and private were set before the first mount. */
  if (prop == ARCA_PROPAGATION_SHARED || prop == ARCA_PROPAGATION_UNBINDABLE)
    if (mount (NULL, "/", NULL, MS_REC | propagation_flag (prop), NULL) < 0)
      return arca_error_errno (err, "linux.rootfsPropagation: set on `/`");
  return 0;
}
