/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.seccomp via libseccomp. */
#ifndef ARCA_LINUX_SECCOMP_FILTER_H
#define ARCA_LINUX_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <seccomp.h>

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

/* A filter compiled ahead of time: the runtime compiles it before it
 * clones the container's process (libseccomp needs ~100 ms for a Docker-
 * sized profile), and caches it under cache_dir (NULL: no cache) keyed by
 * the profile, the libseccomp version and the kernel release.  The child
 * then only makes one seccomp(2) call. */
struct arca_seccomp_program {
  struct sock_filter *insns;
  unsigned short len;
  unsigned flags;               /* SECCOMP_FILTER_FLAG_*, incl. NEW_LISTENER */
};
int arca_seccomp_compile (const struct arca_oci_seccomp *seccomp, const char *cache_dir,
                          struct arca_seccomp_program *ret, arca_error **err);
/* Loads it into the calling thread; *ret_listener_fd as arca_seccomp_load. */
int arca_seccomp_load_program (const struct arca_seccomp_program *p, int *ret_listener_fd,
                               arca_error **err);
void arca_seccomp_program_clear (struct arca_seccomp_program *p);

/* Connects to listenerPath and sends the notify fd with SCM_RIGHTS along with
 * the runtime-spec "containerProcessState" (ociVersion, fds ["seccompFd"],
 * pid, metadata = listenerMetadata, state) built around state_json, the
 * container state document (its pid and ociVersion are used). */
int arca_seccomp_send_listener (const struct arca_oci_seccomp *seccomp,
                                int listener_fd, const char *state_json,
                                arca_error **err);

/* A Docker-like default profile for the engine: default action
 * SCMP_ACT_ERRNO(EPERM) and an allow list of the syscalls ordinary programs
 * (busybox, glibc, python) need.  Kernel-wide or escape-prone syscalls
 * (module loading, kexec, bpf, perf, keyrings, ptrace, mount, namespace
 * changes, swap, reboot, clock setting) are left out; clone is allowed only
 * without CLONE_NEW* flags and clone3 fails with ENOSYS so libc falls back to
 * clone.  Architectures: the native one plus its compat ABIs.  Free with
 * arca_seccomp_profile_free(). */
int arca_seccomp_default_profile (struct arca_oci_seccomp **ret,
                                  arca_error **err);

/* Frees a profile built by arca_seccomp_default_profile() (or by hand with
 * malloc'ed members).  NULL is fine. */
void arca_seccomp_profile_free (struct arca_oci_seccomp *s);
void arca_seccomp_profile_freep (struct arca_oci_seccomp **s);
#define cleanup_seccomp_profile                                               \
  __attribute__ ((cleanup (arca_seccomp_profile_freep)))

#endif
