/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "net/ethtool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"

/* A datagram socket for the ioctl, opened inside netns_fd when it is >= 0:
 * a socket stays in the namespace it was created in. */
static int
socket_in (int netns_fd, int *ret, arca_error **err)
{
  if (netns_fd < 0)
    {
      *ret = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      return *ret < 0 ? arca_error_errno (err, "socket for ethtool") : 0;
    }
  cleanup_close int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return arca_error_errno (err, "open `/proc/thread-self/ns/net`");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return arca_error_errno (err, "enter the container's network namespace");
  *ret = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int saved = errno;
  /* As in arca_nl_open_in: staying in the container's namespace would put
   * every later socket of this thread there. */
  if (setns (self, CLONE_NEWNET) < 0)
    abort ();
  if (*ret < 0)
    {
      errno = saved;
      return arca_error_errno (err, "socket for ethtool");
    }
  return 0;
}

int
arca_ethtool_gro_on (int netns_fd, const char *ifname, arca_error **err)
{
  cleanup_close int fd = -1;
  struct ethtool_value value = { .cmd = ETHTOOL_SGRO, .data = 1 };
  struct ifreq ifr = { 0 };

  if (strlen (ifname) >= sizeof ifr.ifr_name)
    return arca_error_set (err, EINVAL, "link name `%s` too long", ifname);
  if (socket_in (netns_fd, &fd, err) < 0)
    return -1;
  strcpy (ifr.ifr_name, ifname);
  ifr.ifr_data = (void *) &value;
  if (ioctl (fd, SIOCETHTOOL, &ifr) < 0)
    return arca_error_errno (err, "turn on GRO of `%s`", ifname);
  return 0;
}
