/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink requests checked against what the kernel reports (/sys/class/net,
 * SIOCGIFADDR-free: the files and the routes in /proc/net/route).  Runs in
 * network namespaces of its own; skipped without CAP_NET_ADMIN. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/bridge.h"
#include "net/netlink.h"
#include "util/cleanup.h"
#include "util/fs.h"

static bool
has_link (const char *name)
{
  char path[128];
  snprintf (path, sizeof path, "/sys/class/net/%s", name);
  return access (path, F_OK) == 0;
}

static int
setup (void **state)
{
  (void) state;
  /* A fresh namespace per test; /sys must be remounted to show it. */
  if (unshare (CLONE_NEWNET | CLONE_NEWNS) < 0)
    return -1;
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("sysfs", "/sys", "sysfs", 0, NULL) < 0)
    return -1;
  return 0;
}

static void
test_bridge_veth_into_namespace (void **state)
{
  (void) state;
  cleanup_nl struct arca_nl *nl = NULL;
  unsigned br = 0, host = 0, missing = 7;
  struct arca_subnet s;

  assert_int_equal (arca_nl_open (&nl, NULL), 0);
  assert_int_equal (arca_nl_link_index (nl, "nosuch0", &missing, NULL), 0);
  assert_int_equal (missing, 0);
  assert_int_equal (arca_subnet_parse ("10.123.0.0/24", &s, NULL), 0);
  assert_int_equal (arca_bridge_ensure (nl, "tbr0", &s, arca_subnet_host (&s, 1), 0, &br, NULL), 0);
  /* Twice is fine (a second container, a second engine). */
  assert_int_equal (arca_bridge_ensure (nl, "tbr0", &s, arca_subnet_host (&s, 1), 0, &br, NULL), 0);
  assert_true (br > 0);
  assert_true (has_link ("tbr0/bridge"));

  /* The peer goes straight into another namespace under its final name. */
  cleanup_close int self = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  assert_true (self >= 0);
  static const unsigned char mac[6] = { 0x02, 0x42, 10, 123, 0, 9 };
  assert_int_equal (unshare (CLONE_NEWNET), 0);
  cleanup_close int other = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  assert_int_equal (setns (self, CLONE_NEWNET), 0);
  assert_int_equal (arca_nl_veth_add (nl, "tveth0", "eth0", other, mac, 1400, NULL), 0);
  assert_true (has_link ("tveth0"));
  assert_false (has_link ("eth0"));
  assert_int_equal (arca_nl_link_index (nl, "tveth0", &host, NULL), 0);
  struct arca_nl_link_change c = { .master = br, .netns_fd = -1, .up = true };
  assert_int_equal (arca_nl_link_set (nl, host, &c, NULL), 0);
  assert_int_equal (arca_nl_bridge_port_hairpin (nl, host, NULL), 0);
  assert_true (has_link ("tbr0/brif/tveth0"));
  cleanup_free char *hairpin = NULL, *mtu = NULL;
  assert_int_equal (arca_read_file_at (AT_FDCWD, "/sys/class/net/tveth0/brport/hairpin_mode", 64,
                                       &hairpin, NULL, NULL), 0);
  assert_string_equal (hairpin, "1\n");
  assert_int_equal (arca_read_file_at (AT_FDCWD, "/sys/class/net/tveth0/mtu", 64, &mtu, NULL, NULL), 0);
  assert_string_equal (mtu, "1400\n");

  /* Inside: address, up, default route via the gateway. */
  cleanup_nl struct arca_nl *in = NULL;
  unsigned eth0 = 0;
  struct in_addr addr;
  inet_pton (AF_INET, "10.123.0.9", &addr);
  assert_int_equal (arca_nl_open_in (other, &in, NULL), 0);
  assert_int_equal (arca_nl_link_index (in, "eth0", &eth0, NULL), 0);
  assert_true (eth0 > 0);
  struct arca_nl_link_change up = { .netns_fd = -1, .up = true };
  assert_int_equal (arca_nl_addr_add (in, eth0, addr, 24, NULL), 0);
  assert_int_equal (arca_nl_addr_add (in, eth0, addr, 24, NULL), 0); /* EEXIST is fine */
  assert_int_equal (arca_nl_link_set (in, eth0, &up, NULL), 0);
  assert_int_equal (arca_nl_route_default (in, arca_subnet_host (&s, 1), NULL), 0);
  cleanup_error arca_error *dup = NULL;
  assert_int_equal (arca_nl_route_default (in, arca_subnet_host (&s, 1), &dup), -1);
  assert_int_equal (dup->errnum, EEXIST);

  /* Deleting the host end removes the pair; deleting again is fine. */
  assert_int_equal (arca_nl_link_del (nl, "tveth0", NULL), 0);
  assert_false (has_link ("tveth0"));
  assert_int_equal (arca_nl_link_del (nl, "tveth0", NULL), 0);
  assert_int_equal (arca_nl_link_index (in, "eth0", &eth0, NULL), 0);
  assert_int_equal (eth0, 0);
}

static void
test_veth_name_taken (void **state)
{
  (void) state;
  cleanup_nl struct arca_nl *nl = NULL;
  cleanup_error arca_error *e = NULL;

  assert_int_equal (arca_nl_open (&nl, NULL), 0);
  assert_int_equal (arca_nl_veth_add (nl, "tveth1", "tpeer1", -1, NULL, 0, NULL), 0);
  assert_int_equal (arca_nl_veth_add (nl, "tveth1", "tpeer2", -1, NULL, 0, &e), -1);
  assert_int_equal (e->errnum, EEXIST);
  assert_false (has_link ("tpeer2"));
}

int
main (void)
{
  if (geteuid () != 0)
    return 77; /* skipped */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_bridge_veth_into_namespace, setup),
    cmocka_unit_test_setup (test_veth_name_taken, setup),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
