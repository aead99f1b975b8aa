/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-vmm --jail (jail.c): cgroup, mount + pid namespaces, an empty root,
 * no capabilities. */
#ifndef ARCA_VMM_JAIL_H
#define ARCA_VMM_JAIL_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct arca_vmm_jail {
  const char *cgroup;     /* cgroup path (arca_cgroup_open); NULL: arca-vmm-<pid> */
  uint64_t memory_mib;    /* memory limit, 0: none */
  uint64_t pids;          /* pids limit, 0: none */
  const char *dir;        /* --jail-dir: the jail's writable root (absolute);
                             NULL: an empty read-only tmpfs */
  int *handover[4];       /* descriptors only the child uses (the API socket,
                             --incoming's listener), NULL-terminated: the
                             parent closes its copies once it forked and sets
                             them to -1 */
};

/* Creates the cgroup, unshares a pid namespace and forks.  Returns
   0 in the child (pid 1 of the new namespace, inside the cgroup, in a mount
   namespace of its own; -1 if it could not get one), 1 in the
   parent once the child has exited (its status in *ret_status; the cgroup
   is gone), -1 on an error (nothing left behind). */
int arca_vmm_jail_fork (const struct arca_vmm_jail *j, int *ret_status, arca_error **err);

/* In the child, single-threaded, every file open: keeps /dev/kvm open
   (arca_vmm_jail_kvm_fd), pivots into j->dir (or an empty read-only root),
   drops every capability, sets no_new_privs. */
int arca_vmm_jail_lock (const struct arca_vmm_jail *j, arca_error **err);

/* The /dev/kvm descriptor arca_vmm_jail_lock kept, -1 outside a jail: a
   machine built inside it (InstanceStart, snapshot load, an incoming
   migration) duplicates it instead of opening the device by path. */
int arca_vmm_jail_kvm_fd (void);

/* A path a jailed VMM is given for a file inside its --jail-dir (API
   requests, --vsock, --restore): absolute from the jail's root or relative
   to it, the jail's root being root_fd.  Checked with openat2
   RESOLVE_BENEATH: `..` above the root or a symlink out of it fails with
   EPERM ("outside the jail directory"); the file's directory must exist.
   Writes the path relative to the root ("snaps/state") to ret_rel. */
int arca_vmm_jail_resolve (int root_fd, const char *path, char *ret_rel, size_t size,
                           arca_error **err);

/* --jail --incoming ADDR: the listening socket, bound before the jail
   closes (the jailed VMM gets it as "fd:N"); the unix socket's file is
   removed by arca_vmm_jail_unlink once the child is gone. */
int arca_vmm_jail_listen (const char *address, int *ret_fd, arca_error **err);
void arca_vmm_jail_unlink (const char *address);

#endif
