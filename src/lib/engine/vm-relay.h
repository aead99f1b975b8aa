/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host side of the guest agent's serial frames (engine/vm-proto.h):
 * a byte-at-a-time parser, so frames split across reads and the guest
 * kernel's console text between them are both fine.  The guest is
 * untrusted: malformed frames are console text, never a crash. */
#ifndef ARCA_ENGINE_VM_RELAY_H
#define ARCA_ENGINE_VM_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/vm-proto.h"

#define ARCA_VM_CONSOLE_KEEP 4096

/* Where stdout (stream 1) and stderr (2) frame payloads go instead of
 * out_fd/err_fd, when set: a detached run's log (engine/vm-monitor.h). */
typedef void (*arca_vm_relay_sink) (void *opaque, int stream, const void *data, size_t len);

struct arca_vm_relay {
  int out_fd, err_fd;          /* where stdout / stderr frames go */
  arca_vm_relay_sink sink;     /* NULL: the fds */
  void *sink_opaque;
  /* parser */
  int state;
  unsigned char type;
  size_t len, got;
  unsigned char payload[ARCA_VM_FRAME_MAX];
  unsigned char raw[ARCA_VM_FRAME_MAX + 5]; /* bytes of the frame so far */
  size_t n_raw;
  /* results */
  int exit_code;               /* -1 until an exit frame */
  bool ready;                  /* the agent sent 'r': frames may go to it */
  uint64_t acked;              /* sum of the agent's stdin acknowledgements */
  char error[ARCA_VM_FRAME_MAX + 1]; /* the agent's error, "" if none */
  char console[ARCA_VM_CONSOLE_KEEP]; /* the last console bytes */
  size_t n_console;
  uint64_t frames;
};

void arca_vm_relay_init (struct arca_vm_relay *r, int out_fd, int err_fd);
/* Writes stdout/stderr frame payloads to their fds as they complete. */
void arca_vm_relay_feed (struct arca_vm_relay *r, const void *data, size_t len);
/* Writes one frame of type with len (<= ARCA_VM_FRAME_MAX) payload bytes
 * to buf (ARCA_VM_FRAME_WIRE_MAX bytes); returns its length. */
size_t arca_vm_frame_encode (unsigned char *buf, unsigned char type, const void *data, size_t len);
/* The console text kept, NUL-terminated (non-printable bytes as '?'). */
void arca_vm_relay_console (const struct arca_vm_relay *r, char *buf, size_t size);

#endif
