/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host side of a bridge network: the Linux bridge with the gateway
 * address, and the kernel switches it needs. */
#ifndef ARCA_NET_BRIDGE_H
#define ARCA_NET_BRIDGE_H

#include "net/ipam.h"
#include "net/netlink.h"
#include "util/error.h"

/* Creates (or finds) bridge `name` with the gateway address and brings it up;
 * turns on IPv4 forwarding (only if off) and route_localnet on the bridge
 * alone.  Idempotent and safe to race. */
int arca_bridge_ensure (struct arca_nl *nl, const char *name, const struct arca_subnet *subnet,
                        struct in_addr gateway, unsigned mtu, unsigned *ret_index, arca_error **err);

/* Writes value to a /proc/sys file unless it already holds it. */
int arca_net_sysctl (const char *path, const char *value, arca_error **err);

#endif
