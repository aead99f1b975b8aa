/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parser of the guest agent's serial frames (see vm-relay.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "engine/vm-relay.h"

enum { S_IDLE, S_TYPE, S_LEN_HI, S_LEN_LO, S_PAYLOAD, S_END };

void
arca_vm_relay_init (struct arca_vm_relay *r, int out_fd, int err_fd)
{
  memset (r, 0, sizeof *r);
  r->out_fd = out_fd;
  r->err_fd = err_fd;
  r->exit_code = -1;
}

static void
console_byte (struct arca_vm_relay *r, unsigned char c)
{
  /* Keeps the last half at least, without a move per byte. */
  if (r->n_console == sizeof r->console)
    {
      memmove (r->console, r->console + sizeof r->console / 2, sizeof r->console / 2);
      r->n_console = sizeof r->console / 2;
    }
  r->console[r->n_console++] = (char) c;
}

static void
write_all (int fd, const unsigned char *p, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; /* a closed stdout does not stop the guest */
      p += n;
      len -= (size_t) n;
    }
}

/* Not a frame after all: what we took for one is console text. */
static void
resync (struct arca_vm_relay *r)
{
  for (size_t i = 0; i < r->n_raw; i++)
    console_byte (r, r->raw[i]);
  r->n_raw = 0;
  r->state = S_IDLE;
}

static void
complete (struct arca_vm_relay *r)
{
  r->frames++;
  switch (r->type)
    {
    case ARCA_VM_FRAME_STDOUT:
    case ARCA_VM_FRAME_STDERR:
      if (r->sink)
        r->sink (r->sink_opaque, r->type == ARCA_VM_FRAME_STDOUT ? 1 : 2, r->payload, r->len);
      else
        write_all (r->type == ARCA_VM_FRAME_STDOUT ? r->out_fd : r->err_fd, r->payload, r->len);
      break;
    case ARCA_VM_FRAME_ERROR:
      memcpy (r->error, r->payload, r->len);
      r->error[r->len] = '\0';
      break;
    case ARCA_VM_FRAME_EXIT:
      r->exit_code = r->payload[0];
      break;
    case ARCA_VM_FRAME_READY:
      r->ready = true;
      break;
    case ARCA_VM_FRAME_ACK:
      r->acked += ((uint32_t) r->payload[0] << 24) | ((uint32_t) r->payload[1] << 16)
                  | ((uint32_t) r->payload[2] << 8) | r->payload[3];
      break;
    }
  r->n_raw = 0;
  r->state = S_IDLE;
}

static bool
known_type (unsigned char t, size_t len)
{
  switch (t)
    {
    case ARCA_VM_FRAME_STDOUT:
    case ARCA_VM_FRAME_STDERR:
    case ARCA_VM_FRAME_ERROR:
      return true;
    case ARCA_VM_FRAME_EXIT:
      return len == 1;
    case ARCA_VM_FRAME_READY:
      return len == 0;
    case ARCA_VM_FRAME_ACK:
      return len == 4;
    default:
      return false;
    }
}

void
arca_vm_relay_feed (struct arca_vm_relay *r, const void *data, size_t len)
{
  const unsigned char *p = data;

  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = p[i];

      if (r->state == S_IDLE)
        {
          if (c == ARCA_VM_FRAME_START)
            {
              r->raw[0] = c;
              r->n_raw = 1;
              r->state = S_TYPE;
            }
          else
            console_byte (r, c);
          continue;
        }
      r->raw[r->n_raw++] = c;
      switch (r->state)
        {
        case S_TYPE:
          r->type = c;
          r->state = S_LEN_HI;
          break;
        case S_LEN_HI:
          r->len = (size_t) c << 8;
          r->state = S_LEN_LO;
          break;
        case S_LEN_LO:
          r->len |= c;
          r->got = 0;
          if (r->len > ARCA_VM_FRAME_MAX || !known_type (r->type, r->len))
            resync (r);
          else
            r->state = r->len ? S_PAYLOAD : S_END;
          break;
        case S_PAYLOAD:
          r->payload[r->got++] = c;
          if (r->got == r->len)
            r->state = S_END;
          break;
        case S_END:
          if (c == ARCA_VM_FRAME_END)
            complete (r);
          else
            resync (r);
          break;
        }
    }
}

size_t
arca_vm_frame_encode (unsigned char *buf, unsigned char type, const void *data, size_t len)
{
  if (len > ARCA_VM_FRAME_MAX)
    len = ARCA_VM_FRAME_MAX;
  buf[0] = ARCA_VM_FRAME_START;
  buf[1] = type;
  buf[2] = (unsigned char) (len >> 8);
  buf[3] = (unsigned char) len;
  if (len)
    memcpy (buf + 4, data, len);
  buf[4 + len] = ARCA_VM_FRAME_END;
  return len + 5;
}

void
arca_vm_relay_console (const struct arca_vm_relay *r, char *buf, size_t size)
{
  size_t n = 0;

  if (size == 0)
    return;
  for (size_t i = 0; i < r->n_console && n + 1 < size; i++)
    {
      unsigned char c = (unsigned char) r->console[i];
      buf[n++] = (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) ? (char) c : (c == '\r' ? ' ' : '?');
    }
  buf[n] = '\0';
}
