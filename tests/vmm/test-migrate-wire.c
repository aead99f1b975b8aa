/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of live migration's transport: address forms (unix:, tcp:,
 * a bare path), refusals of malformed addresses, a record through a real
 * socket pair, and a peer that goes away mid-stream. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "vmm/migrate.h"

static char dir[64];

static int
make_dir (void **state)
{
  snprintf (dir, sizeof (dir), "/tmp/arca-mig-wire.XXXXXX");
  (void) state;
  return mkdtemp (dir) != NULL ? 0 : -1;
}

static int
remove_dir (void **state)
{
  (void) state;
  return rmdir (dir);
}

/* Listens on addr, connects to it, sends one record each way. */
static void
round_trip (const char *addr)
{
  cleanup_error arca_error *err = NULL;
  cleanup_close int lfd = mig__listen (addr, &err);
  cleanup_close int cfd = -1;
  cleanup_close int sfd = -1;
  struct mig_record rec;
  char payload[6] = "";

  assert_true (lfd >= 0);
  cfd = mig__connect (addr, 1000, &err);
  assert_true (cfd >= 0);
  sfd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  assert_true (sfd >= 0);
  assert_int_equal (mig__send (cfd, MIG_STATE, 5, 42, "hello", 5, &err), 0);
  assert_int_equal (mig__read_all (sfd, &rec, sizeof (rec), &err), 0);
  assert_true (rec.magic == MIG_MAGIC);
  assert_int_equal (rec.type, MIG_STATE);
  assert_int_equal (rec.count, 5);
  assert_int_equal (rec.arg, 42);
  assert_int_equal (mig__read_all (sfd, payload, 5, &err), 0);
  assert_string_equal (payload, "hello");
  assert_int_equal (mig__write_all (sfd, &(char){ MIG_ACK }, 1, &err), 0);
  assert_int_equal (mig__read_all (cfd, payload, 1, &err), 0);
  assert_int_equal (payload[0], MIG_ACK);
  mig__unlink (addr);
}

static void
unix_forms (void **state)
{
  char addr[128];

  snprintf (addr, sizeof (addr), "unix:%s/a.sock", dir);
  round_trip (addr);
  assert_int_equal (access (addr + 5, F_OK), -1);   /* mig__unlink removed it */
  snprintf (addr, sizeof (addr), "%s/b.sock", dir);
  round_trip (addr);
  (void) state;
}

static void
tcp_loopback (void **state)
{
  char addr[64];

  snprintf (addr, sizeof (addr), "tcp:127.0.0.1:%d", 30000 + getpid () % 20000);
  round_trip (addr);
  (void) state;
}

static void
bad_addresses (void **state)
{
  static const struct {
    const char *addr, *why;
  } cases[] = {
    { "tcp:127.0.0.1", "no port" },
    { "tcp:127.0.0.1:0", "bad port" },
    { "tcp:127.0.0.1:70000", "bad port" },
    { "tcp:127.0.0.1:80x", "bad port" },
    { "tcp:localhost:80", "not an IPv4 address" },
    { "unix:", "bad socket path" },
    { "hostname", "is not unix:PATH or tcp:HOST:PORT" },
  };

  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      cleanup_error arca_error *err = NULL;
      assert_int_equal (mig__connect (cases[i].addr, 100, &err), -1);
      assert_non_null (err);
      if (strstr (err->msg, cases[i].why) == NULL)
        fail_msg ("`%s`: got \"%s\", want \"%s\"", cases[i].addr, err->msg, cases[i].why);
    }
  (void) state;
}

static void
nobody_listening (void **state)
{
  cleanup_error arca_error *err = NULL;
  char addr[128];

  snprintf (addr, sizeof (addr), "unix:%s/none.sock", dir);
  assert_int_equal (mig__connect (addr, 100, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  (void) state;
}

static void
peer_gone (void **state)
{
  cleanup_error arca_error *err = NULL;
  int sv[2];
  char buf[8], big[1 << 16] = { 0 };
  int r = 0;

  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal (write (sv[1], "abc", 3), 3);
  close (sv[1]);
  /* A stream that ends early is an error, not a short read. */
  assert_int_equal (mig__read_all (sv[0], buf, sizeof (buf), &err), -1);
  assert_int_equal (err->errnum, ECONNRESET);
  arca_error_free (err);
  err = NULL;
  /* Writing to a peer that left fails with EPIPE, without a SIGPIPE
     killing the process (the test would die here). */
  for (int i = 0; i < 64 && r == 0; i++)
    r = mig__write_all (sv[0], big, sizeof (big), &err);
  assert_int_equal (r, -1);
  assert_int_equal (err->errnum, EPIPE);
  close (sv[0]);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (unix_forms),
    cmocka_unit_test (tcp_loopback),
    cmocka_unit_test (bad_addresses),
    cmocka_unit_test (nobody_listening),
    cmocka_unit_test (peer_gone),
  };
  return cmocka_run_group_tests (tests, make_dir, remove_dir);
}
