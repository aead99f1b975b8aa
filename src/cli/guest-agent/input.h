/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's frames on the guest agent's serial input (-i / -t, format in
 * engine/vm-proto.h): a byte-at-a-time parser that checks every frame and
 * drops malformed ones, since the serial line is input. */
#ifndef ARCA_GUEST_AGENT_INPUT_H
#define ARCA_GUEST_AGENT_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vm-proto.h"

enum agent_input_kind {
  AGENT_INPUT_STDIN = 1, /* data, len: bytes for the command's stdin */
  AGENT_INPUT_EOF,       /* the host's stdin is closed */
  AGENT_INPUT_WINSIZE,   /* rows, cols */
  AGENT_INPUT_SIGNAL,    /* signal: for the command (run --vm -d: kill, stop) */
};

struct agent_input_event {
  enum agent_input_kind kind;
  const unsigned char *data; /* points into the parser: valid until the next byte */
  size_t len;
  unsigned rows, cols;
  int signal;
};

struct agent_input {
  int state;
  unsigned char type;
  size_t len, got;
  unsigned char payload[ARCA_VM_FRAME_MAX];
  uint64_t bad; /* malformed frames dropped */
};

void agent_input_init (struct agent_input *in);
/* Takes one byte; returns 1 with *ev filled when it completes a well-formed
 * frame, else 0. */
int agent_input_byte (struct agent_input *in, unsigned char c, struct agent_input_event *ev);

#endif
