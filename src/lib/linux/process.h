/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last steps before a container process runs its program: the ones
 * shared by a container's init and by `exec`.  Each step names the config
 * field it applies in its errors. */
#ifndef ARCA_LINUX_PROCESS_H
#define ARCA_LINUX_PROCESS_H

#include <stdbool.h>

#include "oci/config.h"
#include "util/error.h"

/* Default dispositions and an empty mask: whatever the runtime's caller
 * ignored or blocked (a shim ignoring SIGPIPE, a monitor blocking SIGCHLD)
 * must not reach the container's program through execve. */
void arca_process_reset_signals (void);

/* process.rlimits.  A hard limit above the runtime's own, without
 * CAP_SYS_RESOURCE, is refused with a message saying so (the kernel's EPERM
 * alone says nothing). */
int arca_process_set_rlimits (const struct arca_oci_process *process, arca_error **err);

/* process.oomScoreAdj (through /proc/self, so call it before pivot). */
int arca_process_set_oom_score_adj (const struct arca_oci_process *process, arca_error **err);

/* Makes fds 3 .. 3+preserve_fds-1 survive execve and every higher fd close
 * on it (the CVE-2024-21626 class: no runtime fd may reach the container). */
int arca_process_prepare_fds (unsigned preserve_fds, arca_error **err);

/* Finds the program: args[0] as is when it contains '/', else searched in
 * the PATH of process.env (default PATH when unset), inside the current
 * root.  A missing program is an error naming it. */
int arca_process_find_program (const struct arca_oci_process *process, char **ret_path,
                               arca_error **err);

/* Identity, capabilities, no_new_privs and seccomp, in the order that
 * works: bounding drop (needs CAP_SETPCAP), groups/gid/uid with KEEPCAPS,
 * capability sets and ambient, umask, cwd; seccomp either before the uid
 * switch (without noNewPrivileges it needs CAP_SYS_ADMIN) or last.
 * *ret_listener_fd gets a seccomp notify fd or -1. */
int arca_process_finish (const struct arca_oci_process *process,
                         const struct arca_oci_seccomp *seccomp, int *ret_listener_fd,
                         arca_error **err);

/* The same with a filter compiled beforehand (arca_seccomp_compile), so the
 * container's process only makes the seccomp(2) call.  program may be NULL. */
struct arca_seccomp_program;
int arca_process_finish_compiled (const struct arca_oci_process *process,
                                  const struct arca_seccomp_program *program,
                                  int *ret_listener_fd, arca_error **err);

/* The label fields: accepted and ignored with a debug log when the LSM is
 * absent; applied for exec when it is there.  Returns 1 when a label was
 * ignored (so the caller can log it). */
int arca_process_apply_labels (const struct arca_oci_process *process, arca_error **err);

#endif
