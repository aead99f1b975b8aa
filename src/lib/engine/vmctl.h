/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca vm`: microVMs managed the daemonless way.  Each VM is one
 * arca-vmm process (its own monitor, like a container's) with its control
 * socket, console log and pid under <run-root>/vms/<name>/; every command
 * talks to the VMM over that socket (docs/vmm-api.md) and then exits. */
#ifndef ARCA_ENGINE_VMCTL_H
#define ARCA_ENGINE_VMCTL_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/engine.h"

#define ARCA_VM_NAME_MAX 64

struct arca_vm_options {
  const char *name;          /* [a-zA-Z0-9][a-zA-Z0-9_.-]*, unique */
  /* Boot a kernel ... */
  const char *kernel, *initrd, *cmdline;
  unsigned memory_mib, cpus; /* 0: the VMM's defaults */
  char **drives;             /* PATH[,ro] each */
  const char *net, *vsock;   /* TAP[,mac=MAC]; CID,PATH */
  unsigned balloon_mib;
  bool balloon, rng;
  /* ... or restore a snapshot directory (state + mem) ... */
  const char *restore_dir;
  /* ... or wait for a live migration on unix:PATH / tcp:HOST:PORT. */
  const char *incoming;
  bool paused;               /* restore/incoming: stay paused */
};

/* Starts the VMM detached and returns once its API answers.  When the VMM
 * fails to start, its own error is the error and nothing is left. */
int arca_vm_start (struct arca_engine *e, const struct arca_vm_options *o, pid_t *ret_pid,
                   arca_error **err);

/* One API request; ret_body (may be NULL) gets the response body. */
int arca_vm_request (struct arca_engine *e, const char *name, const char *method,
                     const char *path, const char *body, long *ret_status, char **ret_body,
                     arca_error **err);

/* "Running", "Paused", "Not started" (from the VMM) or "Stopped" (its
 * process is gone); ret_pid 0 when stopped. ENOENT for an unknown VM. */
int arca_vm_state (struct arca_engine *e, const char *name, char **ret_state, pid_t *ret_pid,
                   arca_error **err);

/* Names of every VM, sorted. */
int arca_vm_list (struct arca_engine *e, char ***ret_names, arca_error **err);

/* Ctrl-Alt-Del, up to timeout seconds for the guest to go, then SIGKILL. */
int arca_vm_stop (struct arca_engine *e, const char *name, int timeout, arca_error **err);

/* Forgets a stopped VM (force: stops it first). */
int arca_vm_remove (struct arca_engine *e, const char *name, bool force, arca_error **err);

/* Pauses, writes <dir>/state and <dir>/mem, resumes unless leave_paused. */
int arca_vm_snapshot (struct arca_engine *e, const char *name, const char *dir, bool leave_paused,
                      arca_error **err);

/* A file of the VM's directory (console.log, vmm.log). */
int arca_vm_path (struct arca_engine *e, const char *name, const char *file, char **ret,
                  arca_error **err);

#endif
