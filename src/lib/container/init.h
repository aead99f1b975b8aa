/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's first process, from clone() to execve().  Internal to the
 * container concern: create.c fills the arguments and clones. */
#ifndef ARCA_CONTAINER_INIT_H
#define ARCA_CONTAINER_INIT_H

#include <signal.h>
#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "container/container.h"
#include "oci/config.h"

struct arca_init_args {
  const struct arca_runtime *rt;
  const struct arca_create_options *opts;
  const struct arca_oci_config *config;
  const char *rootfs;        /* absolute host path */
  const char *bundle;        /* absolute */
  struct arca_cgroup *cgroup;
  int sync_fd;               /* the child's end of the socketpair */
  int start_fd;              /* listening start socket; -1 for run (exec at once) */
  int close_fds[3];          /* the runtime's fds the child must not keep (-1 = unused) */
  bool new_user_ns;
  const struct arca_seccomp_program *seccomp;  /* compiled linux.seccomp, or NULL */
  sigset_t sigmask;          /* the runtime's own, restored after clone */
};

/* Never returns: execs the container's program or _exit()s after reporting
 * the error over sync_fd (or, once started, over the start connection). */
_Noreturn void arca_container_init (const struct arca_init_args *args);

/* The state JSON hooks get on stdin. */
int arca_container_hook_state (const struct arca_oci_config *config, const char *id,
                               const char *bundle, const char *status, pid_t pid,
                               char **ret_json, arca_error **err);

#endif
