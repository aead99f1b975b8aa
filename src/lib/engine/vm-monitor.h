/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor of a detached `arca run --vm -d`: the VM variant of the
 * container monitor (engine/monitor.h).  A process that is not a child of
 * the `arca` command owns arca-vmm, reads the guest agent's frames from
 * its serial (engine/vm-relay.h), writes the command's output to the
 * run's log (engine/logfile.h, the json-file format containers use),
 * delivers `arca kill`/`arca stop` signals to the command as 'k' frames,
 * powers the VM off when asked, writes exit.json and finally runs the
 * engine's cleanup command, so `arca` returns at once and nothing needs a
 * daemon.
 *
 * Its files are the container's (containers/<id>/): ctr.log, exit.json,
 * monitor.pid ("PID START_TIME" of the monitor) and vmm.pid (arca-vmm's).
 * Requests reach it as signals: SIGUSR1 with the signal number as the
 * sigqueue() value ("send it to the command"), SIGTERM ("power off"). */
#ifndef ARCA_ENGINE_VM_MONITOR_H
#define ARCA_ENGINE_VM_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct arca_vm_monitor_options {
  const char *dir;        /* containers/<id>: the log, exit.json, pid files */
  const char *run_dir;    /* vm/runs/<id>: initrd (removed once the guest runs),
                           * console.log, exit-code */
  const char *log_path;
  uint64_t log_max_size;
  unsigned log_max_files;
  char **exit_command;    /* run once the VM is gone (`arca container-cleanup ID`) */
  /* Starts arca-vmm with vmm_in as its serial input; *ret_out reads its
   * serial output.  Runs in the monitor. */
  int (*spawn) (void *opaque, int vmm_in, int *ret_out, pid_t *ret_pid, arca_error **err);
  void *opaque;
};

/* Starts the monitor and returns once arca-vmm runs, or with the error
 * that kept it from starting (then the monitor is gone too). */
int arca_vm_monitor_start (const struct arca_vm_monitor_options *o, pid_t *ret_monitor_pid,
                           arca_error **err);

/* Asks the monitor of dir to send sig to the guest's command.  ESRCH when
 * it does not run. */
int arca_vm_monitor_kill (const char *dir, int sig, arca_error **err);
/* Asks it to power the VM off (arca-vmm is stopped, SIGKILL after 2 s);
 * the exit code is then 137 unless the command's came first. */
int arca_vm_monitor_poweroff (const char *dir, arca_error **err);
/* arca-vmm's pid while it runs, else 0. */
pid_t arca_vm_monitor_vmm_pid (const char *dir);

#endif
