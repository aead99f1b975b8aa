/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest agent's configuration parser: what the engine writes parses
 * back, defaults apply, and every malformed record is refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Records given as one string with '|' for NUL (the last one too). */
static int
parse (const char *spec, struct agent_config *c, char *msg, size_t size)
{
  size_t len = strlen (spec);
  char *buf = malloc (len + 1);
  memcpy (buf, spec, len + 1);
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '|')
      buf[i] = '\0';
  int r = agent_config_parse (buf, len, c, msg, size);
  free (buf);
  return r;
}

static void
test_full (void **state)
{
  struct agent_config c;
  char msg[256] = "";

  assert_int_equal (parse ("version=1|arg=sh|arg=-c|arg=echo a=b; exit 7|env=PATH=/bin|env=X=|"
                           "cwd=/tmp|hostname=vm-1.local|uid=1000|gid=100|group=10|group=20|"
                           "root=/dev/vda|rootfstype=ext4|module=virtio_blk|module=ext4|",
                           &c, msg, sizeof msg), 0);
  assert_string_equal (c.argv[0], "sh");
  assert_string_equal (c.argv[2], "echo a=b; exit 7");
  assert_null (c.argv[3]);
  assert_string_equal (c.env[0], "PATH=/bin");
  assert_string_equal (c.env[1], "X=");
  assert_null (c.env[2]);
  assert_string_equal (c.cwd, "/tmp");
  assert_string_equal (c.hostname, "vm-1.local");
  assert_int_equal (c.uid, 1000);
  assert_int_equal (c.gid, 100);
  assert_int_equal (c.n_groups, 2);
  assert_int_equal (c.groups[1], 20);
  assert_string_equal (c.root, "/dev/vda");
  assert_string_equal (c.modules[1], "ext4");
  assert_null (c.modules[2]);
  agent_config_free (&c);
}

static void
test_network (void **state)
{
  struct agent_config c;
  char msg[256] = "";

  assert_int_equal (parse ("version=1|arg=sh|hostname=vm1|address=172.30.71.5/24|"
                           "mac=02:42:AC:1e:47:05|gateway=172.30.71.1|dns=10.0.0.2|dns=10.0.0.3|"
                           "search=example.com|host=172.30.71.9 web web.local|host=172.30.71.10 my_db|",
                           &c, msg, sizeof msg), 0);
  assert_true (c.has_net);
  assert_int_equal (ntohl (c.address.s_addr), 0xac1e4705);
  assert_int_equal (c.prefix, 24);
  assert_int_equal (ntohl (c.gateway.s_addr), 0xac1e4701);
  const uint8_t mac[6] = { 0x02, 0x42, 0xac, 0x1e, 0x47, 0x05 };
  assert_memory_equal (c.mac, mac, 6);
  assert_string_equal (c.dns[1], "10.0.0.3");
  assert_null (c.dns[2]);
  assert_string_equal (c.search[0], "example.com");
  assert_null (c.search[1]);
  assert_string_equal (c.hosts[0], "172.30.71.9 web web.local");
  assert_string_equal (c.hosts[1], "172.30.71.10 my_db");
  assert_null (c.hosts[2]);
  agent_config_free (&c);

  /* No gateway (an internal network), a /32: fine. */
  assert_int_equal (parse ("version=1|arg=sh|address=10.1.2.3/32|mac=02:00:00:00:00:01|", &c, msg,
                           sizeof msg), 0);
  assert_int_equal (c.gateway.s_addr, 0);
  assert_null (c.dns[0]);
  agent_config_free (&c);
}

static void
test_defaults (void **state)
{
  struct agent_config c;
  char msg[256] = "";

  assert_int_equal (parse ("version=1|arg=/bin/true|", &c, msg, sizeof msg), 0);
  assert_string_equal (c.cwd, "/");
  assert_null (c.hostname);
  assert_int_equal (c.uid, 0);
  assert_int_equal (c.gid, 0);
  assert_string_equal (c.root, "initramfs");
  assert_null (c.env[0]);
  assert_null (c.modules[0]);
  assert_false (c.has_net);
  assert_null (c.dns[0]);
  assert_null (c.search[0]);
  assert_null (c.hosts[0]);
  agent_config_free (&c);
}

/* -i and -t: stdin from the host, a pty of the given size. */
static void
test_terminal (void **state)
{
  struct agent_config c;
  char msg[256] = "";

  assert_int_equal (parse ("version=1|arg=sh|stdin=1|tty=33x101|", &c, msg, sizeof msg), 0);
  assert_true (c.stdin_frames);
  assert_true (c.tty);
  assert_int_equal (c.rows, 33);
  assert_int_equal (c.cols, 101);
  agent_config_free (&c);
  assert_int_equal (parse ("version=1|arg=sh|tty=0x65535|", &c, msg, sizeof msg), 0);
  assert_false (c.stdin_frames);
  assert_true (c.tty);
  assert_int_equal (c.rows, 0);
  assert_int_equal (c.cols, 65535);
  agent_config_free (&c);
  assert_int_equal (parse ("version=1|arg=sh|", &c, msg, sizeof msg), 0);
  assert_false (c.stdin_frames);
  assert_false (c.tty);
  agent_config_free (&c);
}

static void
test_refused (void **state)
{
  static const struct { const char *spec, *msg; } bad[] = {
    { "", "empty" },
    { "version=1|arg=x", "not NUL-terminated" },
    { "arg=x|version=1|", "expected version=1" },
    { "version=2|arg=x|", "expected version=1" },
    { "version=1|", "no arg record" },
    { "version=1|arg=|", "arg 0 is empty" },
    { "version=1|arg=x|noequals|", "record 2: no `=`" },
    { "version=1|arg=x|colour=blue|", "unknown key `colour`" },
    { "version=1|arg=x|version=1|", "version repeated" },
    { "version=1|arg=x|env=NOVALUE|", "env: `NOVALUE` is not KEY=VALUE" },
    { "version=1|arg=x|env==v|", "is not KEY=VALUE" },
    { "version=1|arg=x|cwd=relative|", "cwd: `relative` is not an absolute path" },
    { "version=1|arg=x|cwd=/a|cwd=/b|", "cwd repeated" },
    { "version=1|arg=x|hostname=bad_name|", "hostname: `bad_name`" },
    { "version=1|arg=x|hostname=-x|", "hostname" },
    { "version=1|arg=x|hostname=|", "hostname" },
    { "version=1|arg=x|uid=-1|", "uid: `-1` is not an id" },
    { "version=1|arg=x|uid=4294967295|", "uid: `4294967295`" },
    { "version=1|arg=x|uid=99999999999|", "uid" },
    { "version=1|arg=x|gid=1|gid=2|", "gid repeated" },
    { "version=1|arg=x|group=abc|", "group: `abc`" },
    { "version=1|arg=x|root=/dev/sda|", "root: `/dev/sda`" },
    { "version=1|arg=x|root=/dev/vda1|", "root" },
    { "version=1|arg=x|rootfstype=xfs|", "rootfstype: `xfs`" },
    { "version=1|arg=x|module=../../etc/x|", "module: `../../etc/x`" },
#define NIC "mac=02:42:ac:1e:47:05|"
    { "version=1|arg=x|address=10.0.0.2|" NIC, "address: `10.0.0.2` is not a host address" },
    { "version=1|arg=x|address=10.0.0.0/24|" NIC, "address: `10.0.0.0/24`" },
    { "version=1|arg=x|address=10.0.0.255/24|" NIC, "address: `10.0.0.255/24`" },
    { "version=1|arg=x|address=10.0.0.2/33|" NIC, "address" },
    { "version=1|arg=x|address=10.0.0.2/0|" NIC, "address" },
    { "version=1|arg=x|address=10.0.0.2/024|" NIC, "address" },
    { "version=1|arg=x|address=010.0.0.2/24|" NIC, "address" },
    { "version=1|arg=x|address=host/24|" NIC, "address" },
    { "version=1|arg=x|address=10.0.0.2/24|address=10.0.0.3/24|" NIC, "address repeated" },
    { "version=1|arg=x|address=10.0.0.2/24|", "address without mac" },
    { "version=1|arg=x|" NIC, "without address" },
    { "version=1|arg=x|gateway=10.0.0.1|", "without address" },
    { "version=1|arg=x|dns=10.0.0.1|", "without address" },
    { "version=1|arg=x|address=10.0.0.2/24|mac=01:42:ac:1e:47:05|", "mac: `01:42:ac:1e:47:05`" },
    { "version=1|arg=x|address=10.0.0.2/24|mac=00:00:00:00:00:00|", "mac" },
    { "version=1|arg=x|address=10.0.0.2/24|mac=02:42:ac:1e:47|", "mac" },
    { "version=1|arg=x|address=10.0.0.2/24|mac=02-42-ac-1e-47-05|", "mac" },
    { "version=1|arg=x|address=10.0.0.2/24|mac=02:42:ac:1e:47:0g|", "mac" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC NIC, "mac repeated" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "gateway=10.0.1.1|", "gateway is not another address" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "gateway=10.0.0.2|", "gateway is not another address" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "gateway=0.0.0.0|", "gateway: `0.0.0.0`" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "gateway=10.0.0.1|gateway=10.0.0.1|", "gateway repeated" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "dns=::1|", "dns: `::1`" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "search=a b|", "search: `a b`" },
    { "version=1|arg=x|host=10.0.0.9|", "host: `10.0.0.9`" },
    { "version=1|arg=x|host=10.0.0.9 |", "host" },
    { "version=1|arg=x|host=10.0.0.9  web|", "host" },
    { "version=1|arg=x|host=10.0.0.9 web\tx|", "host" },
    { "version=1|arg=x|host=web 10.0.0.9|", "host" },
    { "version=1|arg=x|host=10.0.0.9 a b c d e f g h i|", "host" },
    { "version=1|arg=x|host=10.0.0.9 -web|", "host" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "dns=1.1.1.1|dns=1.1.1.2|dns=1.1.1.3|dns=1.1.1.4|"
      "dns=1.1.1.5|dns=1.1.1.6|dns=1.1.1.7|dns=1.1.1.8|dns=1.1.1.9|", "dns: more than 8 servers" },
    { "version=1|arg=x|address=10.0.0.2/24|" NIC "search=a|search=b|search=c|search=d|search=e|"
      "search=f|search=g|", "search: more than 6 domains" },
    { "version=1|arg=x|host=10.0.0.9 we#b|", "host" },
    { "version=1|arg=x|stdin=0|", "stdin: `0` is not 1" },
    { "version=1|arg=x|stdin=1|stdin=1|", "stdin repeated" },
    { "version=1|arg=x|tty=24|", "tty: `24` is not ROWSxCOLS" },
    { "version=1|arg=x|tty=24x|", "tty" },
    { "version=1|arg=x|tty=x80|", "tty" },
    { "version=1|arg=x|tty=24x80x1|", "tty" },
    { "version=1|arg=x|tty=65536x80|", "tty" },
    { "version=1|arg=x|tty=-1x80|", "tty" },
    { "version=1|arg=x|tty=24x80|tty=24x80|", "tty repeated" },
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct agent_config c;
      char msg[256] = "";
      if (parse (bad[i].spec, &c, msg, sizeof msg) == 0)
        fail_msg ("accepted: %s", bad[i].spec);
      if (strstr (msg, bad[i].msg) == NULL)
        fail_msg ("%s: message `%s` lacks `%s`", bad[i].spec, msg, bad[i].msg);
    }
}

/* Counts are bounded. */
static void
test_limits (void **state)
{
  size_t n = 0, cap = 16 + (4096 + 1) * 8;
  char *buf = malloc (cap);
  struct agent_config c;
  char msg[256] = "";

  n += (size_t) sprintf (buf, "version=1") + 1;
  for (int i = 0; i <= 4096; i++)
    n += (size_t) sprintf (buf + n, "arg=a") + 1;
  assert_int_equal (agent_config_parse (buf, n, &c, msg, sizeof msg), -1);
  assert_non_null (strstr (msg, "more than 4096 arguments"));
  /* One fewer is fine. */
  assert_int_equal (agent_config_parse (buf, n - 6, &c, msg, sizeof msg), 0);
  agent_config_free (&c);
  free (buf);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_full),
    cmocka_unit_test (test_network),
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_refused),
    cmocka_unit_test (test_terminal),
    cmocka_unit_test (test_limits),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
