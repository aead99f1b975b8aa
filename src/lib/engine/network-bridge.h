/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "bridge" network mode: a veth pair per container on the arca0 bridge,
 * an address from IPAM, outbound masquerade and published ports (net/). */
#ifndef ARCA_ENGINE_NETWORK_BRIDGE_H
#define ARCA_ENGINE_NETWORK_BRIDGE_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "engine/spec.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "util/error.h"

struct arca_engine;

/* ARCA_BRIDGE_NAME and ARCA_BRIDGE_SUBNET in the environment override these
 * when an engine root first sets its network up; the choice is then kept in
 * its database.  The subnet is not podman's 10.88.0.0/16, which cni-podman0
 * holds on hosts that have podman.  The nft table is `arca` for arca0 and
 * `arca-BRIDGE` for any other bridge. */
#define ARCA_BRIDGE_NAME "arca0"
#define ARCA_BRIDGE_SUBNET "172.31.0.0/16"

int arca_bridge_attach (struct arca_engine *e, const char *id, pid_t init_pid, arca_error **err);
int arca_bridge_detach (struct arca_engine *e, const char *id, arca_error **err);

/* The default network's bridge set up (up with its gateway, forwarding,
 * its nft table): what attach does before the container's endpoint, for
 * other endpoints too (a `run --vm` tap). */
int arca_bridge_realize (struct arca_engine *e, struct arca_nl *nl, char ret_bridge[16],
                         char ret_table[32], struct arca_subnet *ret_subnet,
                         struct in_addr *ret_gateway, unsigned *ret_index, unsigned *ret_mtu,
                         arca_error **err);

/* True when this process can set up bridges (root with CAP_NET_ADMIN). */
bool arca_bridge_supported (void);

/* The options a bridge container keeps in its row for attach: publish specs,
 * -P with the image's exposed ports, --ip, --mac-address, --dns, --add-host.  NULL when
 * there are none. */
json_t *arca_bridge_options_json (const struct arca_run_spec *spec, char **exposed_ports);

/* The container's address on the bridge; s_addr 0 when it has none
 * (not running, or another network mode).  For inspect. */
int arca_bridge_address (struct arca_engine *e, const char *id, struct in_addr *ret_addr,
                         arca_error **err);

/* Removes what a container left on a bridge (veth, ports, endpoint and
 * address), from its endpoint row alone: the crash check's repair. */
int arca_bridge_detach_stale (struct arca_engine *e, const char *id, const char *bridge,
                              const char *veth, arca_error **err);

/* Shared with the user networks (network-user.h). */
int arca_bridge_options_of (struct arca_engine *e, const char *id, json_t **ret, arca_error **err);
bool arca_bridge_name_valid (const char *name);
/* The nft table of a bridge's NAT and published ports. */
void arca_bridge_table_name (const char *bridge, char ret[32]);
/* requested ("02:42:..."), else derived from the address. */
int arca_bridge_mac (struct in_addr addr, const char *requested, unsigned char ret[6],
                     arca_error **err);
/* Address on ifname, lo and ifname up, the default route when gateway is
 * set.  route_mtu 0: the subnet route the address brings, at the link's MTU.
 * Else the subnet and default routes carry route_mtu and only host (the
 * bridge's own address, 0: none) is reached at the link's MTU: see
 * ARCA_NET_LINK_MTU. */
int arca_bridge_configure_inside (int netns_fd, const char *ifname, struct in_addr addr,
                                  const struct arca_subnet *subnet, struct in_addr gateway,
                                  struct in_addr host, unsigned route_mtu, arca_error **err);

/* A network without an MTU of its own runs its bridge, veths and taps at
 * ARCA_NET_LINK_MTU, so host <-> container TCP (through the container's /32
 * route to the bridge address) moves loopback-sized segments instead of
 * 1448-byte ones, while every other route in the container (the subnet:
 * other containers and VMs; the default: the world) keeps
 * ARCA_NET_ROUTE_MTU, the 1500 everyone expects (UDP fragments, MSS to
 * the outside, `run --vm` guests at 1500 all as before).  A network with
 * an MTU (-o mtu=N, ARCA_BRIDGE_MTU) uses N everywhere. */
#define ARCA_NET_LINK_MTU 65520
#define ARCA_NET_ROUTE_MTU 1500
static inline unsigned
arca_net_link_mtu (unsigned network_mtu)
{
  return network_mtu ? network_mtu : ARCA_NET_LINK_MTU;
}
static inline unsigned
arca_net_route_mtu (unsigned network_mtu)
{
  return network_mtu ? 0 : ARCA_NET_ROUTE_MTU;
}
/* hosts (own line, --add-host), resolv.conf (--dns) of a bridged container. */
int arca_bridge_write_etc (struct arca_engine *e, const char *id, json_t *opts,
                           struct in_addr addr, arca_error **err);
/* Published ports of the container's options into table (and back). */
int arca_bridge_publish (struct arca_engine *e, const char *id, json_t *opts, const char *table,
                         struct in_addr addr, arca_error **err);
int arca_bridge_unpublish (struct arca_engine *e, const char *id, const char *table,
                           arca_error **err);

/* `arca port`: a container's published ports (free *ret with free()). */
int arca_engine_ports (struct arca_engine *e, const char *name_or_id, struct arca_nft_port **ret,
                       size_t *ret_n, arca_error **err);

#endif
