/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.seccomp via libseccomp. */
#ifndef ARCA_LINUX_SECCOMP_H
#define ARCA_LINUX_SECCOMP_H

#include "oci/config.h"
#include "util/error.h"

/* Builds the filter and loads it into the calling thread/process.  Must be
 * the last privileged step before execve (the filter may forbid what
 * follows).  When the config has listenerPath (SCMP_ACT_NOTIFY rules), the
 * notify fd is returned in *ret_listener_fd (else -1) for
 * arca_seccomp_send_listener(). Unknown syscall names are skipped (like
 * runc/crun: profiles list syscalls of newer kernels); an unknown
 * architecture or action is an error naming the field. */
int arca_seccomp_load (const struct arca_oci_seccomp *seccomp,
                       int *ret_listener_fd, arca_error **err);

/* Connects to listenerPath and sends the notify fd with SCM_RIGHTS along with
 * the container state JSON (runtime-spec "containerProcessState"). */
int arca_seccomp_send_listener (const struct arca_oci_seccomp *seccomp,
                                int listener_fd, const char *state_json,
                                arca_error **err);

#endif
