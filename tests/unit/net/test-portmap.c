/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/portmap.h"
#include "util/cleanup.h"

static void
test_parse (void **state)
{
  (void) state;
  struct arca_port_spec s;
  char buf[INET_ADDRSTRLEN];

  assert_int_equal (arca_port_spec_parse ("80", &s, NULL), 0);
  assert_string_equal (s.proto, "tcp");
  assert_int_equal (s.container_port, 80);
  assert_int_equal (s.host_port, 0);
  assert_int_equal (s.host_ip.s_addr, 0);

  assert_int_equal (arca_port_spec_parse ("8080:80/udp", &s, NULL), 0);
  assert_string_equal (s.proto, "udp");
  assert_int_equal (s.host_port, 8080);
  assert_int_equal (s.container_port, 80);

  assert_int_equal (arca_port_spec_parse ("127.0.0.1:8081:81", &s, NULL), 0);
  assert_string_equal (inet_ntop (AF_INET, &s.host_ip, buf, sizeof buf), "127.0.0.1");
  assert_int_equal (s.host_port, 8081);
  assert_int_equal (s.container_port, 81);

  assert_int_equal (arca_port_spec_parse ("127.0.0.1::53/udp", &s, NULL), 0);
  assert_int_equal (s.host_port, 0);
  assert_int_equal (s.container_port, 53);

  static const char *const bad[] = { "", "0", "65536", "80/sctp", "a:80", "1.2.3:80:80",
                                     "8080:", ":80x", "-1", "1:2:3:4", "999999:80" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      cleanup_error arca_error *e = NULL;
      assert_int_equal (arca_port_spec_parse (bad[i], &s, &e), -1);
      assert_int_equal (e->errnum, EINVAL);
    }
}

static sqlite3 *
open_db (void)
{
  sqlite3 *db = NULL;
  assert_int_equal (sqlite3_open (":memory:", &db), SQLITE_OK);
  assert_int_equal (arca_portmap_init (db, NULL), 0);
  return db;
}

static void
test_reserve_conflict_all_or_none (void **state)
{
  (void) state;
  sqlite3 *db = open_db ();
  struct arca_port_spec a[1], b[2];
  struct arca_nft_port out[2];
  struct in_addr cip;
  cleanup_error arca_error *e = NULL;

  inet_pton (AF_INET, "10.99.0.2", &cip);
  /* High ports nobody listens on in the test environment. */
  assert_int_equal (arca_port_spec_parse ("127.0.0.1:47311:80", &a[0], NULL), 0);
  assert_int_equal (arca_portmap_reserve (db, "c1", a, 1, cip, out, NULL), 0);
  assert_int_equal (out[0].host_port, 47311);
  assert_int_equal (out[0].container_port, 80);
  assert_string_equal (out[0].proto, "tcp");

  /* c2 asks for a free port and the taken one: it gets neither. */
  assert_int_equal (arca_port_spec_parse ("47312:80", &b[0], NULL), 0);
  assert_int_equal (arca_port_spec_parse ("47311:81", &b[1], NULL), 0);
  assert_int_equal (arca_portmap_reserve (db, "c2", b, 2, cip, out, &e), -1);
  assert_int_equal (e->errnum, EADDRINUSE);
  cleanup_free struct arca_nft_port *list = NULL;
  size_t n = 9;
  assert_int_equal (arca_portmap_list (db, "c2", &list, &n, NULL), 0);
  assert_int_equal (n, 0);

  /* The same port number over udp is another port. */
  assert_int_equal (arca_port_spec_parse ("127.0.0.1:47311:80/udp", &a[0], NULL), 0);
  assert_int_equal (arca_portmap_reserve (db, "c2", a, 1, cip, out, NULL), 0);

  /* Released ports can be published again. */
  assert_int_equal (arca_portmap_release (db, "c1", NULL), 0);
  assert_int_equal (arca_port_spec_parse ("47311:80", &a[0], NULL), 0);
  assert_int_equal (arca_portmap_reserve (db, "c3", a, 1, cip, out, NULL), 0);
  sqlite3_close (db);
}

static void
test_random_port_and_list (void **state)
{
  (void) state;
  sqlite3 *db = open_db ();
  struct arca_port_spec s[2];
  struct arca_nft_port out[2];
  struct in_addr cip;

  inet_pton (AF_INET, "10.99.0.7", &cip);
  assert_int_equal (arca_port_spec_parse ("80", &s[0], NULL), 0);
  assert_int_equal (arca_port_spec_parse ("53/udp", &s[1], NULL), 0);
  assert_int_equal (arca_portmap_reserve (db, "c1", s, 2, cip, out, NULL), 0);
  assert_true (out[0].host_port > 0);
  assert_true (out[1].host_port > 0);

  cleanup_free struct arca_nft_port *list = NULL;
  size_t n = 0;
  assert_int_equal (arca_portmap_list (db, "c1", &list, &n, NULL), 0);
  assert_int_equal (n, 2);
  for (size_t i = 0; i < n; i++)
    {
      assert_int_equal (list[i].container_ip.s_addr, cip.s_addr);
      if (strcmp (list[i].proto, "udp") == 0)
        assert_int_equal (list[i].host_port, out[1].host_port);
      else
        assert_int_equal (list[i].host_port, out[0].host_port);
    }
  assert_int_equal (arca_portmap_release (db, "c1", NULL), 0);
  free (list);
  list = NULL;
  assert_int_equal (arca_portmap_list (db, "c1", &list, &n, NULL), 0);
  assert_int_equal (n, 0);
  sqlite3_close (db);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_reserve_conflict_all_or_none),
    cmocka_unit_test (test_random_port_and_list),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
