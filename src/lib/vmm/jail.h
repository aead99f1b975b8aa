/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-vmm --jail (jail.c): cgroup, mount + pid namespaces, an empty root,
 * no capabilities. */
#ifndef ARCA_VMM_JAIL_H
#define ARCA_VMM_JAIL_H

#include <stdint.h>

#include "util/error.h"

struct arca_vmm_jail {
  const char *cgroup;     /* cgroup path (arca_cgroup_open); NULL: arca-vmm-<pid> */
  uint64_t memory_mib;    /* memory limit, 0: none */
  uint64_t pids;          /* pids limit, 0: none */
  const char *dir;        /* --jail-dir: the jail's writable root; NULL: an empty read-only tmpfs */
};

/* Creates the cgroup, unshares a pid namespace and forks.  Returns
   0 in the child (pid 1 of the new namespace, inside the cgroup, in a mount
   namespace of its own; -1 if it could not get one), 1 in the
   parent once the child has exited (its status in *ret_status; the cgroup
   is gone), -1 on an error (nothing left behind). */
int arca_vmm_jail_fork (const struct arca_vmm_jail *j, int *ret_status, arca_error **err);

/* In the child, single-threaded, every file open: pivots into j->dir (or
   an empty read-only root), drops every capability, sets no_new_privs. */
int arca_vmm_jail_lock (const struct arca_vmm_jail *j, arca_error **err);

#endif
