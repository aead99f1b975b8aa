/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca run --vm IMAGE [CMD]`: the image run in its own guest kernel under
 * arca-vmm instead of a container.
 *
 *   <root>/vm/rootfs-<image id>.cpio   the image's flattened root, cached
 *                                      (newc cpio, entries under rootfs/)
 *   <root>/vm/base-<key>.cpio          the guest agent as /init (cached per
 *                                      agent build and kernel release)
 *   <root>/vm/runs/<id>/               one run: agent.conf, vmm.log,
 *                                      console.log, exit-code; removed by --rm
 *                                      (-d: by rm, or at exit with --rm)
 *
 * The initramfs of a run is base + rootfs + a per-run archive holding the
 * agent's configuration (the kernel unpacks concatenated archives).  The
 * guest agent (src/cli/guest-agent) runs the command and sends its output
 * and exit status back as frames on the serial port (engine/vm-proto.h). */
#ifndef ARCA_ENGINE_VM_H
#define ARCA_ENGINE_VM_H

#include <stdbool.h>

#include "engine/engine.h"
#include "engine/spec.h"

struct arca_vm_run_request {
  const char *image;
  /* command, entrypoint, env, workdir, user, hostname, memory, cpus are
   * used; container-only flags (mounts, network, caps) are refused. */
  const struct arca_run_spec *spec;
  bool remove;                /* --rm: no run directory stays */
  /* -i: in_fd is relayed to the command's stdin (its EOF closes it).  With
   * spec->tty (-t) the command runs on a pty in the guest; in_fd's
   * terminal (or else out_fd's) gives the window size, and with -i too it
   * is put in raw mode until the run ends. */
  bool interactive;
  int in_fd;
  /* -d: the run becomes a record of the containers table (ps, logs, stop,
   * kill, wait, rm, inspect; engine/vm-record.h) owned by a monitor
   * process (engine/vm-monitor.h), and the call returns once arca-vmm
   * runs, with the record's id in ret_id (ARCA_ENGINE_ID_LEN + 1 bytes).
   * -i/-t are refused with it.  With remove, the record goes at exit. */
  bool detach;
  const char *name;           /* -d: NULL = generated */
  const char *stop_signal;    /* -d: NULL = the image's, else SIGTERM */
  int stop_timeout;           /* -d: seconds, -1 = 10 */
  char *ret_id;
};

/* Boots the image, relays the command's stdout/stderr to out_fd/err_fd and
 * returns its exit status in *ret_exit_code (with req->detach: returns
 * once the VM runs, *ret_exit_code 0).
 * Environment: ARCA_VM_KERNEL (guest kernel, default the newest
 * /boot/vmlinuz-*), ARCA_VMM_PATH, ARCA_GUEST_AGENT_PATH (else beside arca,
 * as arca-monitor is found), ARCA_VM_CMDLINE_EXTRA (appended to the guest
 * kernel's command line). */
int arca_engine_run_vm (struct arca_engine *e, const struct arca_vm_run_request *req, int out_fd,
                        int err_fd, int *ret_exit_code, arca_error **err);

#endif
