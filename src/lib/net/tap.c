/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>

#include "net/tap.h"
#include "util/cleanup.h"

int
arca_tap_create (const char *name, arca_error **err)
{
  /* IFF_TUN_EXCL: a link that exists already is not taken over. */
  struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL };

  if (strlen (name) >= IFNAMSIZ)
    return arca_error_set (err, EINVAL, "tap name `%s` is too long", name);
  cleanup_close int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open `/dev/net/tun`");
  memcpy (ifr.ifr_name, name, strlen (name) + 1);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    return arca_error_errno (err, "create tap `%s`", name);
  if (ioctl (fd, TUNSETPERSIST, 1) < 0)
    return arca_error_errno (err, "make tap `%s` persistent", name);
  return 0;
}
