/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine record of a detached `arca run --vm -d`: a row of the
 * containers table whose options say "vm": true, so ps, logs, inspect,
 * wait, rm and name conflicts work as for containers.  Its files:
 *
 *   containers/<id>/   config.json (what the guest runs, for inspect and
 *                      system check), ctr.log, exit.json, monitor.pid,
 *                      vmm.pid (engine/vm-monitor.h)
 *   vm/runs/<id>/      the run's directory (engine/vm.h) and net, the
 *                      network's names for the detach at exit or rm
 *
 * kill, stop and remove reach the VM through its monitor. */
#ifndef ARCA_ENGINE_VM_RECORD_H
#define ARCA_ENGINE_VM_RECORD_H

#include <jansson.h>
#include <stddef.h>

#include "engine/engine.h"
#include "engine/vm-net.h"

/* The record's config.json from the agent's configuration (len bytes of
 * NUL-terminated records, engine/vm-proto.h): process.args/env/cwd,
 * hostname, and the VM (vmm, kernel, memoryMiB, cpus, network). */
json_t *arca_vm_record_config (const char *agent, size_t len, const char *vmm, const char *kernel,
                               unsigned memory_mib, unsigned cpus, const char *network);
/* Its process.args joined by spaces, for ps. */
char *arca_vm_record_command (json_t *config);

/* Inserts the row; a name taken meanwhile is EEXIST like a container's. */
int arca_vm_record_insert (struct arca_engine *e, const char *id, const char *name,
                           const char *image_id, const char *image, const char *options,
                           arca_error **err);

/* Deletes the row (a start that failed). */
int arca_vm_record_delete (struct arca_engine *e, const char *id, arca_error **err);

/* Writes <run dir>/net for arca_vm_record_release (nothing without a NIC). */
int arca_vm_record_save_net (const char *run_dir, const struct arca_vm_net *n, arca_error **err);

/* The published ports, tap, endpoint row and address of the run, as
 * saved; idempotent (the file goes once they are gone). */
void arca_vm_record_release (struct arca_engine *e, const char *id);

/* The run's directory (vm/runs/<id>). */
int arca_vm_record_remove_files (struct arca_engine *e, const char *id, arca_error **err);

#endif
