/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The conversation between the runtime and the process it creates inside a
 * container (init for create/run, the exec'd process for exec), over a
 * SOCK_SEQPACKET socketpair: one message per packet, an fd may ride along.
 * The child's end is O_CLOEXEC, so a successful execve is seen by the
 * runtime as end-of-file. */
#ifndef ARCA_CONTAINER_SYNC_H
#define ARCA_CONTAINER_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum arca_sync_type {
  ARCA_SYNC_EOF = 0,       /* the peer closed its end (exec'd or died) */
  ARCA_SYNC_GO,            /* runtime -> child: id maps and cgroup are set; value = host pid */
  ARCA_SYNC_HOOKS,         /* child -> runtime: mounts done, run prestart/createRuntime */
  ARCA_SYNC_HOOKS_DONE,    /* runtime -> child */
  ARCA_SYNC_PTY,           /* child -> runtime: the pty master (fd attached) */
  ARCA_SYNC_SECCOMP,       /* child -> runtime: the seccomp notify fd (fd attached) */
  ARCA_SYNC_ACK,           /* runtime -> child: the fd was handed on */
  ARCA_SYNC_READY,         /* child -> runtime: set up, about to wait for start / exec */
  ARCA_SYNC_ERROR,         /* child -> runtime: data = one-line message, value = errno */
};

#define ARCA_SYNC_DATA_MAX 4096

struct arca_sync_msg {
  uint32_t type;
  int32_t value;
  char data[ARCA_SYNC_DATA_MAX];  /* NUL-terminated */
};

/* Sends a message; fd >= 0 is passed along with SCM_RIGHTS. */
int arca_sync_send (int sock, enum arca_sync_type type, int32_t value, const char *data,
                    int fd, arca_error **err);

/* Receives one message; *ret_fd (when not NULL) gets the attached fd or -1.
 * End-of-file gives type ARCA_SYNC_EOF. */
int arca_sync_recv (int sock, struct arca_sync_msg *msg, int *ret_fd, arca_error **err);

/* Receives and requires the given type; an ARCA_SYNC_ERROR from the peer
 * becomes *err with the peer's message. */
int arca_sync_expect (int sock, enum arca_sync_type type, struct arca_sync_msg *msg,
                      int *ret_fd, arca_error **err);

/* Child side: reports err to the runtime (best effort). */
void arca_sync_report_error (int sock, const arca_error *err);

#endif
