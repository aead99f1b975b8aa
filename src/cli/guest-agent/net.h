/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's network (see net.c).  Both return -1 with errno set and a
 * message in errbuf on failure. */
#ifndef ARCA_GUEST_AGENT_NET_H
#define ARCA_GUEST_AGENT_NET_H

#include "config.h"

/* lo up; with c->has_net the NIC of c->mac as eth0: address, netmask, up,
 * the default route.  Needs /sys mounted. */
int agent_net_up (const struct agent_config *c, char *errbuf, size_t errlen);
/* /etc/hostname, /etc/hosts and (with a network) /etc/resolv.conf of the
 * current root. */
int agent_net_write_etc (const struct agent_config *c, char *errbuf, size_t errlen);

#endif
