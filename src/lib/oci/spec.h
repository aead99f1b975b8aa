/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config.json that `arca-runtime spec` writes: runc's default. */
#ifndef ARCA_OCI_SPEC_H
#define ARCA_OCI_SPEC_H

#include <stdbool.h>

#include "util/error.h"

/* A pretty-printed config.json like `runc spec`: args ["sh"], a terminal,
 * runc's default capabilities, the usual /proc, /dev, /dev/pts, /dev/shm,
 * /dev/mqueue, /sys and /sys/fs/cgroup mounts, runc's masked and read-only
 * paths, new pid, network, ipc, uts and mount namespaces.
 *
 * rootless (like `runc spec --rootless`): a user namespace mapping root to
 * the caller's uid and gid, no network namespace (an unprivileged user
 * cannot set one up), /sys bind-mounted from the host (sysfs cannot be
 * mounted in a user namespace without a network namespace), no cgroup
 * mount and no resources, no uid=/gid= mount options.
 *
 * The result parses with arca_oci_config_parse().  Free with free(). */
int arca_oci_spec_default (bool rootless, char **ret_json, arca_error **err);

#endif
