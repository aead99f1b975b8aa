/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parser of the host's frames on the serial input (see input.h). */
#include <string.h>

#include "input.h"

enum { S_IDLE, S_TYPE, S_LEN_HI, S_LEN_LO, S_PAYLOAD, S_END };

void
agent_input_init (struct agent_input *in)
{
  memset (in, 0, sizeof *in);
}

static bool
valid_length (unsigned char type, size_t len)
{
  switch (type)
    {
    case ARCA_VM_FRAME_STDIN:
      return len >= 1 && len <= ARCA_VM_FRAME_MAX;
    case ARCA_VM_FRAME_STDIN_EOF:
      return len == 0;
    case ARCA_VM_FRAME_WINSIZE:
    case ARCA_VM_FRAME_SIGNAL:
      return len == (type == ARCA_VM_FRAME_WINSIZE ? 4 : 1);
    default:
      return false;
    }
}

/* A malformed frame: dropped; a start byte that broke it begins the next. */
static void
drop (struct agent_input *in, unsigned char c)
{
  in->bad++;
  in->state = c == ARCA_VM_FRAME_START ? S_TYPE : S_IDLE;
}

int
agent_input_byte (struct agent_input *in, unsigned char c, struct agent_input_event *ev)
{
  switch (in->state)
    {
    case S_IDLE:
      if (c == ARCA_VM_FRAME_START)
        in->state = S_TYPE;
      else
        in->bad++; /* nothing but frames comes from the host */
      return 0;
    case S_TYPE:
      in->type = c;
      in->state = S_LEN_HI;
      return 0;
    case S_LEN_HI:
      in->len = (size_t) c << 8;
      in->state = S_LEN_LO;
      return 0;
    case S_LEN_LO:
      in->len |= c;
      in->got = 0;
      if (!valid_length (in->type, in->len))
        drop (in, c);
      else
        in->state = in->len ? S_PAYLOAD : S_END;
      return 0;
    case S_PAYLOAD:
      in->payload[in->got++] = c;
      if (in->got == in->len)
        in->state = S_END;
      return 0;
    default: /* S_END */
      if (c != ARCA_VM_FRAME_END)
        {
          drop (in, c);
          return 0;
        }
      in->state = S_IDLE;
      memset (ev, 0, sizeof *ev);
      switch (in->type)
        {
        case ARCA_VM_FRAME_STDIN:
          ev->kind = AGENT_INPUT_STDIN;
          ev->data = in->payload;
          ev->len = in->len;
          break;
        case ARCA_VM_FRAME_STDIN_EOF:
          ev->kind = AGENT_INPUT_EOF;
          break;
        case ARCA_VM_FRAME_SIGNAL:
          if (in->payload[0] < 1 || in->payload[0] > ARCA_VM_SIGNAL_MAX)
            {
              in->bad++;
              return 0;
            }
          ev->kind = AGENT_INPUT_SIGNAL;
          ev->signal = in->payload[0];
          break;
        default:
          ev->kind = AGENT_INPUT_WINSIZE;
          ev->rows = ((unsigned) in->payload[0] << 8) | in->payload[1];
          ev->cols = ((unsigned) in->payload[2] << 8) | in->payload[3];
          break;
        }
      return 1;
    }
}
