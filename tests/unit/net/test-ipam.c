/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/ipam.h"
#include "util/cleanup.h"

static sqlite3 *
open_db (void)
{
  sqlite3 *db = NULL;
  arca_error *err = NULL;
  assert_int_equal (sqlite3_open (":memory:", &db), SQLITE_OK);
  assert_int_equal (arca_ipam_init (db, &err), 0);
  return db;
}

static const char *
ntoa (struct in_addr a, char buf[INET_ADDRSTRLEN])
{
  return inet_ntop (AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void
test_subnet_parse (void **state)
{
  (void) state;
  struct arca_subnet s;
  char buf[INET_ADDRSTRLEN];

  cleanup_error arca_error *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
  assert_int_equal (arca_subnet_parse ("172.31.0.0/16", &s, NULL), 0);
  assert_int_equal (s.prefix, 16);
  assert_string_equal (ntoa (arca_subnet_host (&s, 1), buf), "172.31.0.1");
  assert_true (arca_subnet_contains (&s, arca_subnet_host (&s, 65534)));
  assert_false (arca_subnet_contains (&s, arca_subnet_host (&s, 65536)));
  assert_int_equal (arca_subnet_parse ("172.31.0.1/16", &s, &e1), -1); /* host bits */
  assert_int_equal (e1->errnum, EINVAL);
  assert_int_equal (arca_subnet_parse ("172.31.0.0", &s, &e2), -1);
  assert_int_equal (arca_subnet_parse ("172.31.0.0/31", &s, &e3), -1);
  assert_int_equal (arca_subnet_parse ("300.1.0.0/16", &s, &e4), -1);
}

static void
test_allocate_lowest_free_never_twice (void **state)
{
  (void) state;
  sqlite3 *db = open_db ();
  struct arca_subnet s;
  struct in_addr a, b, c, none = { 0 };
  char buf[INET_ADDRSTRLEN];

  assert_int_equal (arca_subnet_parse ("10.99.0.0/24", &s, NULL), 0);
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c1", none, &a, NULL), 0);
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c2", none, &b, NULL), 0);
  assert_string_equal (ntoa (a, buf), "10.99.0.2"); /* .1 is the gateway */
  assert_string_equal (ntoa (b, buf), "10.99.0.3");
  /* Released addresses are reused, the lowest first. */
  assert_int_equal (arca_ipam_release (db, "c1", NULL), 0);
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c3", none, &c, NULL), 0);
  assert_string_equal (ntoa (c, buf), "10.99.0.2");
  struct in_addr got;
  assert_int_equal (arca_ipam_lookup (db, "n", "c3", &got, NULL), 0);
  assert_int_equal (got.s_addr, c.s_addr);
  assert_int_equal (arca_ipam_lookup (db, "n", "c1", &got, NULL), 0);
  assert_int_equal (got.s_addr, 0);
  sqlite3_close (db);
}

static void
test_requested_address (void **state)
{
  (void) state;
  sqlite3 *db = open_db ();
  struct arca_subnet s;
  struct in_addr want, got, none = { 0 };
  char buf[INET_ADDRSTRLEN];
  cleanup_error arca_error *taken = NULL, *gw = NULL, *outside = NULL;

  assert_int_equal (arca_subnet_parse ("10.99.0.0/24", &s, NULL), 0);
  inet_pton (AF_INET, "10.99.0.50", &want);
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c1", want, &got, NULL), 0);
  assert_string_equal (ntoa (got, buf), "10.99.0.50");
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c2", want, &got, &taken), -1);
  assert_int_equal (taken->errnum, EEXIST);
  inet_pton (AF_INET, "10.99.0.1", &want);
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c2", want, &got, &gw), -1);
  inet_pton (AF_INET, "10.98.0.5", &want);
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c2", want, &got, &outside), -1);
  /* The failures left no rows: c2 still gets the lowest free address. */
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c2", none, &got, NULL), 0);
  assert_string_equal (ntoa (got, buf), "10.99.0.2");
  sqlite3_close (db);
}

static void
test_full_subnet (void **state)
{
  (void) state;
  sqlite3 *db = open_db ();
  struct arca_subnet s;
  struct in_addr got, none = { 0 };
  cleanup_error arca_error *full = NULL;

  /* A /29 has .2 to .6 for containers (.0 net, .1 gateway, .7 broadcast). */
  assert_int_equal (arca_subnet_parse ("10.99.0.0/29", &s, NULL), 0);
  for (int i = 0; i < 5; i++)
    {
      char id[8];
      snprintf (id, sizeof id, "c%d", i);
      assert_int_equal (arca_ipam_allocate (db, "n", &s, id, none, &got, NULL), 0);
    }
  assert_int_equal (arca_ipam_allocate (db, "n", &s, "c9", none, &got, &full), -1);
  assert_int_equal (full->errnum, ENOSPC);
  sqlite3_close (db);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_subnet_parse),
    cmocka_unit_test (test_allocate_lowest_free_never_twice),
    cmocka_unit_test (test_requested_address),
    cmocka_unit_test (test_full_subnet),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
