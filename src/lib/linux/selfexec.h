/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Protection against a container overwriting the runtime binary through
 * /proc/<pid>/exe (the CVE-2019-5736 class): the process that enters a
 * container runs from a sealed, anonymous copy of the binary. */
#ifndef ARCA_LINUX_SELFEXEC_H
#define ARCA_LINUX_SELFEXEC_H

#include <stdbool.h>

#include "util/error.h"

/* True when /proc/self/exe is a sealed memfd. */
bool arca_selfexec_is_sealed (void);

/* If the running binary is not a sealed memfd, copies it into one, seals it
 * (no write, grow, shrink or further seals) and re-executes it with the same
 * argv/envp.  Returns only on failure, or 0 when already sealed. */
int arca_selfexec_ensure_sealed (char **argv, char **envp, arca_error **err);

/* Executes the program at path from a sealed memfd copy of it, the same
 * way (arca-monitor, when the containers it creates can see it).  Returns
 * only on failure. */
int arca_selfexec_exec_sealed (const char *path, char **argv, char **envp, arca_error **err);

#endif
