/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host side of `arca run --vm`'s serial frames: payloads reach the
 * right fd whatever the read boundaries, console text around and between
 * frames is kept apart, malformed frames are console text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/vm-relay.h"

struct sink {
  int out[2], err[2];
};

static void
sink_open (struct sink *s)
{
  assert_int_equal (pipe2 (s->out, O_NONBLOCK), 0);
  assert_int_equal (pipe2 (s->err, O_NONBLOCK), 0);
}

static size_t
drain (int fd, char *buf, size_t size)
{
  ssize_t n = read (fd, buf, size - 1);
  if (n < 0)
    n = 0;
  buf[n] = '\0';
  return (size_t) n;
}

static void
sink_close (struct sink *s)
{
  close (s->out[0]);
  close (s->out[1]);
  close (s->err[0]);
  close (s->err[1]);
}

static size_t
frame (unsigned char *p, char type, const void *data, size_t len)
{
  p[0] = ARCA_VM_FRAME_START;
  p[1] = (unsigned char) type;
  p[2] = (unsigned char) (len >> 8);
  p[3] = (unsigned char) len;
  memcpy (p + 4, data, len);
  p[4 + len] = ARCA_VM_FRAME_END;
  return len + 5;
}

/* A stream of console text, stdout, stderr and exit frames, fed in every
 * split size from 1 byte to all at once. */
static void
test_streams_any_split (void **state)
{
  unsigned char stream[512];
  size_t n = 0;
  const char *console1 = "[    0.1] kernel says hi\r\n";
  memcpy (stream, console1, strlen (console1));
  n += strlen (console1);
  n += frame (stream + n, 'o', "hello\n", 6);
  n += frame (stream + n, 'e', "oops\n", 5);
  memcpy (stream + n, "mid", 3);
  n += 3;
  n += frame (stream + n, 'o', "bin\0\xf5\xfa", 6);
  unsigned char code = 7;
  n += frame (stream + n, 'x', &code, 1);

  for (size_t split = 1; split <= n; split++)
    {
      struct sink s;
      struct arca_vm_relay *r = malloc (sizeof *r);
      char out[256], err[256], console[256];
      sink_open (&s);
      arca_vm_relay_init (r, s.out[1], s.err[1]);
      for (size_t off = 0; off < n; off += split)
        arca_vm_relay_feed (r, stream + off, off + split > n ? n - off : split);
      size_t olen = drain (s.out[0], out, sizeof out);
      drain (s.err[0], err, sizeof err);
      arca_vm_relay_console (r, console, sizeof console);
      assert_int_equal (olen, 12);
      assert_memory_equal (out, "hello\nbin\0\xf5\xfa", 12);
      assert_string_equal (err, "oops\n");
      assert_string_equal (console, "[    0.1] kernel says hi \nmid");
      assert_int_equal (r->exit_code, 7);
      assert_int_equal (r->frames, 4);
      assert_string_equal (r->error, "");
      sink_close (&s);
      free (r);
    }
}

/* Bad length, unknown type, wrong trailer, an exit frame of two bytes:
 * none is a frame; what follows still parses. */
static void
test_malformed (void **state)
{
  struct sink s;
  struct arca_vm_relay *r = malloc (sizeof *r);
  unsigned char buf[64];
  char out[64];
  size_t n;

  sink_open (&s);
  arca_vm_relay_init (r, s.out[1], s.err[1]);
  const unsigned char too_long[] = { 0xF5, 'o', 0x10, 0x00 };
  arca_vm_relay_feed (r, too_long, sizeof too_long);
  const unsigned char unknown[] = { 0xF5, 'q', 0x00, 0x01, 'a', 0xFA };
  arca_vm_relay_feed (r, unknown, sizeof unknown);
  n = frame (buf, 'o', "zz", 2);
  buf[n - 1] = 'X';
  arca_vm_relay_feed (r, buf, n);
  n = frame (buf, 'x', "\x01\x02", 2);
  arca_vm_relay_feed (r, buf, n);
  assert_int_equal (r->frames, 0);
  assert_int_equal (r->exit_code, -1);
  assert_int_equal (drain (s.out[0], out, sizeof out), 0);
  n = frame (buf, 'E', "no such file", 12);
  arca_vm_relay_feed (r, buf, n);
  n = frame (buf, 'o', "ok", 2);
  arca_vm_relay_feed (r, buf, n);
  assert_int_equal (drain (s.out[0], out, sizeof out), 2);
  assert_string_equal (out, "ok");
  assert_string_equal (r->error, "no such file");
  sink_close (&s);
  free (r);
}

/* Console text beyond the kept size: the last part stays, bounded. */
static void
test_console_bounded (void **state)
{
  struct arca_vm_relay *r = malloc (sizeof *r);
  char line[100], console[ARCA_VM_CONSOLE_KEEP + 1];

  arca_vm_relay_init (r, -1, -1);
  for (int i = 0; i < 1000; i++)
    {
      int len = snprintf (line, sizeof line, "line %04d\n", i);
      arca_vm_relay_feed (r, line, (size_t) len);
    }
  assert_true (r->n_console <= ARCA_VM_CONSOLE_KEEP);
  arca_vm_relay_console (r, console, sizeof console);
  assert_non_null (strstr (console, "line 0999\n"));
  assert_null (strstr (console, "line 0000\n"));
  free (r);
}

/* 'r' and 'a' frames: ready set, acknowledgements summed (above 2^32 in
 * total too); with the wrong length they are console text. */
static void
test_ready_and_ack (void **state)
{
  struct arca_vm_relay *r = malloc (sizeof *r);
  unsigned char buf[64];
  size_t n;

  arca_vm_relay_init (r, -1, -1);
  assert_false (r->ready);
  const unsigned char bad_ready[] = { 0xF5, 'r', 0x00, 0x01, 'x', 0xFA };
  arca_vm_relay_feed (r, bad_ready, sizeof bad_ready);
  n = frame (buf, 'a', "\x00\x01", 2);
  arca_vm_relay_feed (r, buf, n);
  n = frame (buf, 'a', "\x00\x00\x00\x05\x00", 5);
  arca_vm_relay_feed (r, buf, n);
  assert_false (r->ready);
  assert_int_equal (r->acked, 0);
  assert_int_equal (r->frames, 0);
  n = frame (buf, 'r', "", 0);
  arca_vm_relay_feed (r, buf, n);
  assert_true (r->ready);
  n = frame (buf, 'a', "\x00\x00\x40\x00", 4);
  arca_vm_relay_feed (r, buf, n);
  n = frame (buf, 'a', "\xff\xff\xff\xff", 4);
  for (size_t i = 0; i < n; i++) /* split anywhere */
    arca_vm_relay_feed (r, buf + i, 1);
  arca_vm_relay_feed (r, buf, n);
  assert_int_equal (r->acked, 0x4000ull + 2 * 0xffffffffull);
  assert_int_equal (r->frames, 4);
  free (r);
}

/* With a sink (run --vm -d: the log), stdout and stderr payloads go to it
 * with their stream, in order, and not to the fds. */
struct collected {
  char text[256];
  size_t len;
};

static void
collect (void *opaque, int stream, const void *data, size_t len)
{
  struct collected *c = opaque;

  assert_true (c->len + len + 2 < sizeof c->text);
  c->text[c->len++] = stream == 1 ? 'O' : 'E';
  memcpy (c->text + c->len, data, len);
  c->len += len;
  c->text[c->len] = '\0';
}

static void
test_sink (void **state)
{
  struct arca_vm_relay *r = malloc (sizeof *r);
  struct collected c = { .len = 0 };
  struct sink s;
  unsigned char buf[64];
  size_t n;

  sink_open (&s);
  arca_vm_relay_init (r, s.out[1], s.err[1]);
  r->sink = collect;
  r->sink_opaque = &c;
  n = frame (buf, 'o', "up\n", 3);
  arca_vm_relay_feed (r, buf, n);
  arca_vm_relay_feed (r, "console", 7);
  n = frame (buf, 'e', "warn", 4);
  for (size_t i = 0; i < n; i++)
    arca_vm_relay_feed (r, buf + i, 1);
  n = frame (buf, 'x', "\x8f", 1);
  arca_vm_relay_feed (r, buf, n);
  assert_string_equal (c.text, "Oup\nEwarn");
  assert_int_equal (r->exit_code, 143);
  char none[8];
  assert_true (read (s.out[0], none, sizeof none) < 0);
  assert_true (read (s.err[0], none, sizeof none) < 0);
  close (s.out[0]);
  close (s.out[1]);
  close (s.err[0]);
  close (s.err[1]);
  free (r);
}

/* The encoder's frames are what the parsers read; payloads longer than a
 * frame are cut to ARCA_VM_FRAME_MAX. */
static void
test_encode (void **state)
{
  unsigned char buf[ARCA_VM_FRAME_WIRE_MAX], want[16];
  unsigned char big[ARCA_VM_FRAME_MAX + 10];

  assert_int_equal (arca_vm_frame_encode (buf, 'i', "hi", 2), 7);
  assert_int_equal (frame (want, 'i', "hi", 2), 7);
  assert_memory_equal (buf, want, 7);
  assert_int_equal (arca_vm_frame_encode (buf, 'c', NULL, 0), 5);
  assert_memory_equal (buf, "\xF5" "c\x00\x00\xFA", 5);
  memset (big, 'b', sizeof big);
  assert_int_equal (arca_vm_frame_encode (buf, 'i', big, sizeof big), ARCA_VM_FRAME_WIRE_MAX);
  assert_int_equal (buf[2] << 8 | buf[3], ARCA_VM_FRAME_MAX);
  assert_int_equal (buf[ARCA_VM_FRAME_WIRE_MAX - 1], ARCA_VM_FRAME_END);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_streams_any_split),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_console_bounded),
    cmocka_unit_test (test_ready_and_ack),
    cmocka_unit_test (test_encode),
    cmocka_unit_test (test_sink),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
