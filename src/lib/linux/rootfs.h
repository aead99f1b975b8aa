/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building the container's root filesystem.  Runs in the container init
 * process, after it entered its new mount namespace (and user namespace, if
 * any), in three steps so the caller can run createContainer hooks between
 * prepare and pivot, as the runtime spec requires. */
#ifndef ARCA_LINUX_ROOTFS_H
#define ARCA_LINUX_ROOTFS_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "oci/config.h"
#include "util/error.h"

struct arca_rootfs_options {
  const char *rootfs;          /* absolute host path of root.path */
  bool no_pivot;               /* --no-pivot: MS_MOVE + chroot instead */
  bool in_user_ns;             /* running in a new user namespace: device
                                  nodes cannot be created, bind them */
  bool new_cgroup_ns;
  struct arca_cgroup *cgroup;  /* for "cgroup" mounts; may be NULL */
};

/* Makes "/" rslave (rprivate when rootfsPropagation says private; shared
 * and unbindable are applied by finalize, after the pivot, so that no mount
 * made here can propagate to the host), bind-mounts the rootfs onto itself,
 * mounts every config.mounts entry with its destination resolved inside the
 * rootfs (a symlink cannot send it to the host), creates the default devices
 * plus linux.devices, the /dev symlinks (fd, stdin, stdout, stderr, ptmx ->
 * pts/ptmx, core when /proc/kcore exists).  Does not pivot yet.
 *
 * Bind mounts get the restricting flags of their options (ro, nosuid, nodev,
 * noexec, atime...; recursively for rbind) but never lose a flag of their
 * source ("rw" on a bind of a read-only mount stays read-only, as in runc).
 * Errors name the entry: "mounts[3] `/dst`: ...".  The caller must already
 * be in its own mount namespace: everything is undone by leaving it. */
int arca_rootfs_prepare (const struct arca_oci_config *config,
                         const struct arca_rootfs_options *opts, arca_error **err);

/* pivot_root into the rootfs and detach the old root (or MS_MOVE + chroot
 * with no_pivot); cwd is "/" afterwards. */
int arca_rootfs_pivot (const struct arca_oci_config *config,
                       const struct arca_rootfs_options *opts, arca_error **err);

/* After pivot: maskedPaths (bind /dev/null over files, read-only empty tmpfs
 * over directories), readonlyPaths (read-only bind remount), root.readonly
 * (remount / read-only), and the final propagation of "/". */
int arca_rootfs_finalize (const struct arca_oci_config *config,
                          const struct arca_rootfs_options *opts, arca_error **err);

/* Bind-mounts the host path `source` onto target_fd, an O_PATH fd obtained
 * inside the rootfs: the clone is attached with move_mount() onto that very
 * inode, so no path is resolved again after the target was checked.  flags
 * are MS_RDONLY/MS_NOSUID/... applied to the new mount before it becomes
 * visible.  Used by the device setup in a user namespace. */
int arca_rootfs_bind_onto (const char *source, int target_fd, bool recursive,
                           unsigned long flags, arca_error **err);

#endif
