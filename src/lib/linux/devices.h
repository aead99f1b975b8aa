/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device nodes inside the container rootfs: the runtime-spec default devices,
 * linux.devices, and the /dev symlinks.  Every path is resolved inside the
 * root (a symlink in the image cannot send a node to the host). */
#ifndef ARCA_LINUX_DEVICES_H
#define ARCA_LINUX_DEVICES_H

#include <stdbool.h>

#include "oci/config.h"
#include "util/error.h"

/* Creates /dev/{null,zero,full,random,urandom,tty} (0666, root-owned) and
 * then every linux.devices entry (which may replace a default one).  With
 * in_user_ns, or when mknod is refused, the host node of the same path is
 * bind-mounted onto an empty file instead. */
int arca_devices_create (int root_fd, const struct arca_oci_config *config,
                         bool in_user_ns, arca_error **err);

/* /dev/fd, /dev/std{in,out,err}, /dev/ptmx -> pts/ptmx (when ptmx_symlink:
 * /dev/pts is a devpts mount) and /dev/core -> /proc/kcore (when the host
 * has /proc/kcore).  Existing entries other than ptmx are left alone. */
int arca_devices_symlinks (int root_fd, bool ptmx_symlink, arca_error **err);

#endif
