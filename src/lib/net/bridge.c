/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/bridge.h"
#include "util/cleanup.h"

int
arca_net_sysctl (const char *path, const char *value, arca_error **err)
{
  char cur[64] = "";
  cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  ssize_t n = read (fd, cur, sizeof cur - 1);
  if (n > 0 && strncmp (cur, value, strlen (value)) == 0 && cur[strlen (value)] == '\n')
    return 0;
  if (pwrite (fd, value, strlen (value), 0) < 0)
    return arca_error_errno (err, "write `%s`", path);
  return 0;
}

int
arca_bridge_ensure (struct arca_nl *nl, const char *name, const struct arca_subnet *subnet,
                    struct in_addr gateway, unsigned mtu, unsigned *ret_index, arca_error **err)
{
  unsigned index = 0;
  cleanup_free char *localnet = NULL;

  if (arca_nl_bridge_add (nl, name, mtu, err) < 0 || arca_nl_link_index (nl, name, &index, err) < 0)
    return -1;
  if (index == 0)
    return arca_error_set (err, ENODEV, "bridge `%s` vanished", name);
  struct arca_nl_link_change up = { .netns_fd = -1, .up = true };
  if (arca_nl_addr_add (nl, index, gateway, subnet->prefix, err) < 0
      || arca_nl_link_set (nl, index, &up, err) < 0)
    return arca_error_wrap (err, "bridge `%s`", name);
  /* Containers reach other hosts only through forwarding; it is a global
   * switch, so it is turned on here, by the first bridge container, and
   * never touched when it is on already. */
  if (arca_net_sysctl ("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
    return -1;
  /* Published ports on 127.0.0.1: DNAT in the output hook rewrites the
   * destination of a loopback connection to the container, but the kernel
   * drops 127/8 sources leaving through a real interface unless that
   * interface allows route_localnet; the nft postrouting rule then
   * masquerades them to the gateway.  Chosen over a userland proxy: no
   * extra process per port, no copy through user space (the throughput goal
   * of issue 4), and the switch is limited to our bridge. */
  if (asprintf (&localnet, "/proc/sys/net/ipv4/conf/%s/route_localnet", name) < 0)
    return arca_error_set (err, ENOMEM, "bridge");
  if (arca_net_sysctl (localnet, "1", err) < 0)
    return -1;
  *ret_index = index;
  return 0;
}
