/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the guest agent's parser of the host's serial
 * frames (src/cli/guest-agent/input.c, -i/-t).  Besides crashes and
 * sanitizer reports, every event must keep the frame format's promises
 * (checked below), and the payload bytes out never exceed the bytes in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int cond)
{
  if (!cond)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct agent_input in;
  size_t out = 0;

  agent_input_init (&in);
  for (size_t i = 0; i < size; i++)
    {
      struct agent_input_event ev;
      if (!agent_input_byte (&in, data[i], &ev))
        continue;
      /* The frame's end byte was this one. */
      check (data[i] == ARCA_VM_FRAME_END);
      switch (ev.kind)
        {
        case AGENT_INPUT_STDIN:
          check (ev.len >= 1 && ev.len <= ARCA_VM_FRAME_MAX && ev.len + 5 <= i + 1);
          check (memcmp (ev.data, data + i - ev.len, ev.len) == 0);
          out += ev.len;
          break;
        case AGENT_INPUT_EOF:
          check (ev.len == 0);
          break;
        case AGENT_INPUT_WINSIZE:
          check (ev.rows <= 0xffff && ev.cols <= 0xffff);
          break;
        case AGENT_INPUT_SIGNAL:
          check (ev.signal >= 1 && ev.signal <= ARCA_VM_SIGNAL_MAX && i >= 5
                 && data[i - 1] == ev.signal);
          break;
        default:
          check (0);
        }
    }
  check (out <= size);
  return 0;
}
