/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Subnet choice for user networks (net/pool.h) and the host-wide endpoint
 * table (net/hostdb.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/hostdb.h"
#include "net/ipam.h"
#include "net/pool.h"
#include "util/cleanup.h"

static struct arca_subnet
subnet (const char *text)
{
  struct arca_subnet s;
  assert_int_equal (arca_subnet_parse (text, &s, NULL), 0);
  return s;
}

static const char *
text (struct arca_subnet s, char buf[32])
{
  char a[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &s.base, a, sizeof a);
  snprintf (buf, 32, "%s/%u", a, s.prefix);
  return buf;
}

static void
test_overlap (void **state)
{
  (void) state;
  struct arca_subnet a = subnet ("10.90.0.0/16"), b = subnet ("10.90.3.0/24"),
                     c = subnet ("10.91.0.0/24"), d = subnet ("10.0.0.0/8");
  assert_true (arca_subnet_overlap (&a, &b));
  assert_true (arca_subnet_overlap (&b, &a));
  assert_false (arca_subnet_overlap (&a, &c));
  assert_true (arca_subnet_overlap (&d, &c));
  assert_false (arca_subnet_overlap (&b, &c));
}

/* /proc/net/route as the kernel prints it (little-endian words). */
static const char routes[]
    = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "br0\t00005A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "tun0\t00005B0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";

static void
test_routes (void **state)
{
  (void) state;
  cleanup_free struct arca_subnet *v = NULL;
  size_t n = 0;
  char buf[32];

  assert_int_equal (arca_net_host_routes (routes, &v, &n, NULL), 0);
  /* The default route takes no subnet. */
  assert_int_equal (n, 3);
  assert_string_equal (text (v[0], buf), "192.168.0.0/24");
  assert_string_equal (text (v[1], buf), "10.90.0.0/24");
  assert_string_equal (text (v[2], buf), "10.91.0.0/16");
}

static void
test_pick (void **state)
{
  (void) state;
  cleanup_free struct arca_subnet *v = NULL;
  size_t n = 0;
  struct arca_subnet pool = subnet ("10.90.0.0/15"), got;
  char buf[32];

  assert_int_equal (arca_net_host_routes (routes, &v, &n, NULL), 0);
  assert_int_equal (arca_net_pool_pick (&pool, 24, v, n, &got, NULL), 0);
  assert_string_equal (text (got, buf), "10.90.1.0/24");
  /* A taken /23 skips two /24s. */
  struct arca_subnet taken[] = { subnet ("10.90.0.0/23"), subnet ("10.90.2.0/24") };
  assert_int_equal (arca_net_pool_pick (&pool, 24, taken, 2, &got, NULL), 0);
  assert_string_equal (text (got, buf), "10.90.3.0/24");
  /* A pool covered whole: ENOSPC, naming the pool. */
  struct arca_subnet all = subnet ("10.0.0.0/8");
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_net_pool_pick (&pool, 24, &all, 1, &got, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  assert_non_null (strstr (err->msg, "10.90.0.0/15"));
}

static void
test_endpoints (void **state)
{
  (void) state;
  char dir[] = "/tmp/arca-hostdb-XXXXXX";
  assert_non_null (mkdtemp (dir));
  setenv ("ARCA_NET_STATE_DIR", dir, 1);
  cleanup_hostdb sqlite3 *db = NULL;
  assert_int_equal (arca_net_hostdb_open (&db, NULL), 0);

  struct arca_subnet s = subnet ("172.30.99.0/24");
  struct in_addr a1, a2;
  /* Two roots on one bridge share its addresses. */
  struct arca_endpoint ep1 = { .container = "c1", .network = "n", .root = "/r1", .bridge = "br",
                               .veth = "v1", .ifname = "eth0", .mac = "" };
  struct arca_endpoint ep2 = { .container = "c2", .network = "n", .root = "/r2", .bridge = "br",
                               .veth = "v2", .ifname = "eth0", .mac = "" };
  struct in_addr any = { 0 };
  assert_int_equal (arca_endpoint_put (db, &ep1, NULL), 0);
  assert_int_equal (arca_ipam_allocate (db, "br", &s, "c1", any, &a1, NULL), 0);
  assert_int_equal (arca_endpoint_put (db, &ep2, NULL), 0);
  assert_int_equal (arca_ipam_allocate (db, "br", &s, "c2", any, &a2, NULL), 0);
  assert_int_not_equal (a1.s_addr, a2.s_addr);

  struct arca_endpoint *v = NULL;
  size_t n = 0;
  assert_int_equal (arca_endpoint_list (db, "/r1", NULL, NULL, &v, &n, NULL), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].container, "c1");
  arca_endpoints_free (v, n);
  assert_int_equal (arca_endpoint_list (db, NULL, NULL, "n", &v, &n, NULL), 0);
  assert_int_equal (n, 2);
  arca_endpoints_free (v, n);

  /* Forgetting releases the address: the next allocation gets it again. */
  struct in_addr again;
  assert_int_equal (arca_endpoint_forget (db, "c1", "n", "br", NULL), 0);
  assert_int_equal (arca_endpoint_list (db, NULL, "c1", NULL, &v, &n, NULL), 0);
  assert_int_equal (n, 0);
  arca_endpoints_free (v, n);
  assert_int_equal (arca_ipam_allocate (db, "br", &s, "c3", any, &again, NULL), 0);
  assert_int_equal (again.s_addr, a1.s_addr);

  char path[64];
  snprintf (path, sizeof path, "%s/net.db", dir);
  unlink (path);
  snprintf (path, sizeof path, "%s/net.db-wal", dir);
  unlink (path);
  snprintf (path, sizeof path, "%s/net.db-shm", dir);
  unlink (path);
  rmdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_overlap),
    cmocka_unit_test (test_routes),
    cmocka_unit_test (test_pick),
    cmocka_unit_test (test_endpoints),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
