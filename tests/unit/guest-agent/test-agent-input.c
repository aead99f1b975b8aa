/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest agent's parser of the host's frames (-i / -t): well-formed
 * frames come out whatever the read boundaries; malformed ones (garbage,
 * unknown type, wrong length for the type, bad trailer) are dropped and
 * counted, and the next frame still parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vm-relay.h"
#include "input.h"

struct seen {
  char data[64 * 1024];
  size_t len;
  int eofs, sizes, signals, signal;
  unsigned rows, cols;
};

static void
feed (struct agent_input *in, const unsigned char *p, size_t len, struct seen *s)
{
  for (size_t i = 0; i < len; i++)
    {
      struct agent_input_event ev;
      if (!agent_input_byte (in, p[i], &ev))
        continue;
      switch (ev.kind)
        {
        case AGENT_INPUT_STDIN:
          assert_true (s->len + ev.len <= sizeof s->data);
          memcpy (s->data + s->len, ev.data, ev.len);
          s->len += ev.len;
          break;
        case AGENT_INPUT_EOF:
          s->eofs++;
          break;
        case AGENT_INPUT_SIGNAL:
          s->signals++;
          s->signal = ev.signal;
          break;
        case AGENT_INPUT_WINSIZE:
          s->sizes++;
          s->rows = ev.rows;
          s->cols = ev.cols;
          break;
        }
    }
}

static size_t
frame (unsigned char *p, unsigned char type, const void *data, size_t len)
{
  p[0] = ARCA_VM_FRAME_START;
  p[1] = type;
  p[2] = (unsigned char) (len >> 8);
  p[3] = (unsigned char) len;
  if (len)
    memcpy (p + 4, data, len);
  p[4 + len] = ARCA_VM_FRAME_END;
  return len + 5;
}

/* A stream of stdin, size and EOF frames, cut at every chunk size. */
static void
test_any_split (void **state)
{
  unsigned char stream[8192];
  size_t n = 0;
  unsigned char big[ARCA_VM_FRAME_MAX];

  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (unsigned char) i; /* start and end bytes inside the payload */
  n += frame (stream + n, 'i', "hello ", 6);
  n += frame (stream + n, 'w', "\x00\x21\x01\x02", 4);
  n += frame (stream + n, 'i', big, sizeof big);
  n += frame (stream + n, 'i', "\xF5\xFA", 2);
  n += frame (stream + n, 'c', NULL, 0);
  for (size_t chunk = 1; chunk <= n; chunk = chunk < 16 ? chunk + 1 : chunk * 3)
    {
      struct agent_input in;
      struct seen *s = calloc (1, sizeof *s);
      agent_input_init (&in);
      for (size_t off = 0; off < n; off += chunk)
        feed (&in, stream + off, off + chunk > n ? n - off : chunk, s);
      assert_int_equal (s->len, 6 + sizeof big + 2);
      assert_memory_equal (s->data, "hello ", 6);
      assert_memory_equal (s->data + 6, big, sizeof big);
      assert_memory_equal (s->data + 6 + sizeof big, "\xF5\xFA", 2);
      assert_int_equal (s->sizes, 1);
      assert_int_equal (s->rows, 33);
      assert_int_equal (s->cols, 258);
      assert_int_equal (s->eofs, 1);
      assert_int_equal (in.bad, 0);
      free (s);
    }
}

/* The engine's encoder and this parser agree. */
static void
test_engine_encoder (void **state)
{
  unsigned char buf[ARCA_VM_FRAME_WIRE_MAX];
  struct agent_input in;
  struct seen *s = calloc (1, sizeof *s);

  agent_input_init (&in);
  feed (&in, buf, arca_vm_frame_encode (buf, ARCA_VM_FRAME_STDIN, "abc", 3), s);
  feed (&in, buf, arca_vm_frame_encode (buf, ARCA_VM_FRAME_WINSIZE, "\x00\x18\x00\x50", 4), s);
  feed (&in, buf, arca_vm_frame_encode (buf, ARCA_VM_FRAME_STDIN_EOF, NULL, 0), s);
  feed (&in, buf, arca_vm_frame_encode (buf, ARCA_VM_FRAME_SIGNAL, "\x0f", 1), s);
  assert_int_equal (s->signals, 1);
  assert_int_equal (s->signal, 15);
  assert_int_equal (s->len, 3);
  assert_int_equal (s->rows, 24);
  assert_int_equal (s->cols, 80);
  assert_int_equal (s->eofs, 1);
  free (s);
}

static void
test_malformed (void **state)
{
  static const struct { const char *what; unsigned char bytes[16]; size_t len; } bad[] = {
    { "garbage", { 'x', 'y', 0xFA }, 3 },
    { "unknown type", { 0xF5, 'o', 0x00, 0x01, 'a', 0xFA }, 6 },
    { "empty stdin", { 0xF5, 'i', 0x00, 0x00, 0xFA }, 5 },
    { "stdin too long", { 0xF5, 'i', 0x04, 0x01 }, 4 },
    { "stdin 0xffff", { 0xF5, 'i', 0xFF, 0xFF }, 4 },
    { "eof with payload", { 0xF5, 'c', 0x00, 0x01, 'x', 0xFA }, 6 },
    { "short winsize", { 0xF5, 'w', 0x00, 0x02, 0x00, 0x18, 0xFA }, 7 },
    { "long winsize", { 0xF5, 'w', 0x00, 0x05, 0, 24, 0, 80, 0, 0xFA }, 10 },
    { "bad trailer", { 0xF5, 'i', 0x00, 0x01, 'z', 'X' }, 6 },
    { "no trailer", { 0xF5, 'c', 0x00, 0x00, 0x00 }, 5 },
    { "signal 0", { 0xF5, 'k', 0x00, 0x01, 0x00, 0xFA }, 6 },
    { "signal 65", { 0xF5, 'k', 0x00, 0x01, 65, 0xFA }, 6 },
    { "empty signal", { 0xF5, 'k', 0x00, 0x00, 0xFA }, 5 },
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct agent_input in;
      struct seen *s = calloc (1, sizeof *s);
      unsigned char ok[16];
      agent_input_init (&in);
      feed (&in, bad[i].bytes, bad[i].len, s);
      if (s->len || s->eofs || s->sizes || s->signals || in.bad == 0)
        fail_msg ("%s: accepted (len %zu, eofs %d, sizes %d, bad %llu)", bad[i].what, s->len,
                  s->eofs, s->sizes, (unsigned long long) in.bad);
      /* The parser is back in step for the next frame. */
      feed (&in, ok, frame (ok, 'i', "ok", 2), s);
      if (s->len != 2 || memcmp (s->data, "ok", 2) != 0)
        fail_msg ("%s: the next frame was lost", bad[i].what);
      free (s);
    }
}

/* A start byte that breaks a frame starts the next one. */
static void
test_restart_on_start_byte (void **state)
{
  const unsigned char bytes[] = { 0xF5, 'i', 0x00, 0x03, 'a', 'b', 'c', 0xF5, 'i', 0x00, 0x01, 'd', 0xFA };
  struct agent_input in;
  struct seen *s = calloc (1, sizeof *s);

  agent_input_init (&in);
  feed (&in, bytes, sizeof bytes, s);
  assert_int_equal (in.bad, 1);
  assert_int_equal (s->len, 1);
  assert_int_equal (s->data[0], 'd');
  free (s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_any_split),
    cmocka_unit_test (test_engine_encoder),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_restart_on_start_byte),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
