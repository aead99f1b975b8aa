/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef ARCA_CLI_NETATTACH_H
#define ARCA_CLI_NETATTACH_H

#include <sys/types.h>

#include "util/error.h"
#include "util/log.h"

/* Opens just the engine's database under root (NULL: the default store),
 * looks up the network mode of container id and runs its driver's attach
 * with the container's waiting init init_pid. */
int arca_netattach_run (const char *root, const char *run_root, const struct arca_log *log,
                        const char *id, pid_t init_pid, arca_error **err);

#endif
