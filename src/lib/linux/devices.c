/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "linux/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux/rootfs.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* runtime-spec "Default Devices" (config-linux.md); /dev/console and
 * /dev/ptmx are set up by the terminal code and the symlinks below. */
static const struct
{
  const char *path;
  unsigned major, minor;
} default_devices[] = {
  { "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

/* Opens the parent directory of path inside the root (creating it) and
 * returns the last component in *ret_name. */
static int
open_parent (int root_fd, const char *path, char **ret_name, arca_error **err)
{
  const char *slash = strrchr (path, '/');
  const char *name = slash ? slash + 1 : path;
  cleanup_free char *dir = NULL;
  cleanup_free char *dup = NULL;
  int fd;

  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return arca_error_set (err, EINVAL, "device `%s`: the path does not name a file", path);
  dir = slash ? strndup (path, (size_t) (slash - path)) : strdup ("/");
  dup = strdup (name);
  if (dir == NULL || dup == NULL)
    return arca_error_errno (err, "device `%s`", path);
  fd = arca_mkpath_in_root (root_fd, *dir ? dir : "/", 1, 0755, err);
  if (fd < 0)
    return fd;
  *ret_name = move_ptr (dup);
  return fd;
}

static mode_t
node_type (char type)
{
  switch (type)
    {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default: /* 'c' and 'u' (unbuffered character device) */
      return S_IFCHR;
    }
}

/* Returns 1 (not an error) when mknod is not permitted, so the caller can
 * fall back to a bind mount of the host node. */
static int
make_node (int root_fd, const char *path, char type, unsigned major, unsigned minor,
           mode_t perm, uid_t uid, gid_t gid, arca_error **err)
{
  cleanup_free char *name = NULL;
  cleanup_close int dirfd = -1;

  dirfd = open_parent (root_fd, path, &name, err);
  if (dirfd < 0)
    return -1;
  /* An image may ship its own /dev/null (even as a plain file): replace it. */
  if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
    return arca_error_errno (err, "device `%s`: remove the existing entry", path);
  if (mknodat (dirfd, name, node_type (type) | perm, makedev (major, minor)) < 0)
    {
      if (errno == EPERM && type != 'p')
        return 1;
      return arca_error_errno (err, "mknod `%s`", path);
    }
  /* mknod applied the umask. */
  if (fchmodat (dirfd, name, perm, 0) < 0)
    return arca_error_errno (err, "chmod `%s`", path);
  if ((uid != (uid_t) -1 || gid != (gid_t) -1)
      && fchownat (dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "chown `%s`", path);
  return 0;
}

/* mknod is not allowed in a user namespace: bind the host node of the same
 * path onto an empty file created inside the root. */
static int
bind_node (int root_fd, const char *path, arca_error **err)
{
  cleanup_close int target = -1;

  target = arca_mkpath_in_root (root_fd, path, 0, 0666, err);
  if (target < 0)
    return -1;
  return arca_rootfs_bind_onto (path, target, false, 0, err);
}

static int
create_one (int root_fd, const char *path, char type, unsigned major, unsigned minor,
            mode_t perm, uid_t uid, gid_t gid, bool in_user_ns, arca_error **err)
{
  int r;

  if (in_user_ns && type != 'p')
    return bind_node (root_fd, path, err);
  r = make_node (root_fd, path, type, major, minor, perm, uid, gid, err);
  if (r == 1)
    return bind_node (root_fd, path, err);
  return r;
}

static bool
config_has_device (const struct arca_oci_config *config, const char *path)
{
  for (size_t i = 0; i < config->linux_.n_devices; i++)
    if (config->linux_.devices[i].path && strcmp (config->linux_.devices[i].path, path) == 0)
      return true;
  return false;
}

int
arca_devices_create (int root_fd, const struct arca_oci_config *config, bool in_user_ns,
                     arca_error **err)
{
  for (size_t i = 0; i < ARRAY_SIZE (default_devices); i++)
    {
      /* linux.devices may redefine a default device (other mode or owner). */
      if (config_has_device (config, default_devices[i].path))
        continue;
      if (create_one (root_fd, default_devices[i].path, 'c', default_devices[i].major,
                      default_devices[i].minor, 0666, (uid_t) -1, (gid_t) -1, in_user_ns, err)
          < 0)
        return -1;
    }

  for (size_t i = 0; i < config->linux_.n_devices; i++)
    {
      const struct arca_oci_device *d = &config->linux_.devices[i];
      mode_t perm = d->has_file_mode ? (d->file_mode & 07777) : 0666;

      if (d->path == NULL || d->path[0] != '/')
        return arca_error_set (err, EINVAL, "linux.devices[%zu].path: not an absolute path", i);
      if (d->type != 'p' && (d->major < 0 || d->minor < 0))
        return arca_error_set (err, EINVAL, "linux.devices[%zu] (%s): major and minor required",
                               i, d->path);
      if (create_one (root_fd, d->path, d->type, (unsigned) (d->major < 0 ? 0 : d->major),
                      (unsigned) (d->minor < 0 ? 0 : d->minor), perm,
                      d->has_uid ? d->uid : (uid_t) -1, d->has_gid ? d->gid : (gid_t) -1,
                      in_user_ns, err)
          < 0)
        return arca_error_wrap (err, "linux.devices[%zu]", i);
    }
  return 0;
}

int
arca_devices_symlinks (int root_fd, bool ptmx_symlink, arca_error **err)
{
  static const struct
  {
    const char *target, *name;
  } links[] = {
    { "/proc/self/fd", "fd" },
    { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" },
  };
  cleanup_close int dev = -1;

  dev = arca_mkpath_in_root (root_fd, "/dev", 1, 0755, err);
  if (dev < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE (links); i++)
    if (symlinkat (links[i].target, dev, links[i].name) < 0 && errno != EEXIST)
      return arca_error_errno (err, "symlink `/dev/%s` -> `%s`", links[i].name, links[i].target);

  if (ptmx_symlink)
    {
      /* The container's devpts instance has its own ptmx; a /dev/ptmx node
       * would open the host's instance. */
      if (unlinkat (dev, "ptmx", 0) < 0 && errno != ENOENT)
        return arca_error_errno (err, "remove `/dev/ptmx`");
      if (symlinkat ("pts/ptmx", dev, "ptmx") < 0)
        return arca_error_errno (err, "symlink `/dev/ptmx` -> `pts/ptmx`");
    }

  if (access ("/proc/kcore", F_OK) == 0 && symlinkat ("/proc/kcore", dev, "core") < 0
      && errno != EEXIST)
    return arca_error_errno (err, "symlink `/dev/core` -> `/proc/kcore`");
  return 0;
}
