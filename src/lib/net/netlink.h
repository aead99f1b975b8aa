/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink over libmnl: links (bridge, veth), addresses, routes.  A socket
 * works in the network namespace it was opened in, so one opened with
 * arca_nl_open_in() configures a container's namespace from the host. */
#ifndef ARCA_NET_NETLINK_H
#define ARCA_NET_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>

#include "util/error.h"

struct arca_nl;

int arca_nl_open (struct arca_nl **ret, arca_error **err);
/* Opens the socket inside the namespace netns_fd (a /proc/PID/ns/net fd). */
int arca_nl_open_in (int netns_fd, struct arca_nl **ret, arca_error **err);
void arca_nl_close (struct arca_nl *nl);
void arca_nl_closep (struct arca_nl **nl);
#define cleanup_nl __attribute__ ((cleanup (arca_nl_closep)))

/* The index of a link, 0 when there is none (not an error). */
int arca_nl_link_index (struct arca_nl *nl, const char *name, unsigned *ret_index, arca_error **err);
/* Creates a bridge; an existing link of that name is fine. */
int arca_nl_bridge_add (struct arca_nl *nl, const char *name, unsigned mtu, arca_error **err);
/* Creates a veth pair: `name` here, `peer_name` directly in the namespace
 * peer_netns_fd (so no rename or move of the peer is needed, and the host
 * never sees two links called eth0).  peer_mac (6 bytes) may be NULL.
 * Both ends get GRO on (arca_ethtool_gro_on), the `name` end in the
 * calling thread's namespace: nl must be a socket of that namespace. */
int arca_nl_veth_add (struct arca_nl *nl, const char *name, const char *peer_name,
                      int peer_netns_fd, const unsigned char *peer_mac, unsigned mtu,
                      arca_error **err);
int arca_nl_link_del (struct arca_nl *nl, const char *name, arca_error **err);

struct arca_nl_link_change {
  const char *new_name; /* NULL: keep */
  unsigned master;      /* 0: keep */
  int netns_fd;         /* -1: keep */
  unsigned mtu;         /* 0: keep */
  bool up;              /* set IFF_UP */
};
int arca_nl_link_set (struct arca_nl *nl, unsigned index, const struct arca_nl_link_change *c,
                      arca_error **err);

/* Turns on hairpin mode of a bridge port, so frames can leave through the
 * port they came in by: a container reaching its own published port through
 * a host address is DNATed back to itself. */
int arca_nl_bridge_port_hairpin (struct arca_nl *nl, unsigned index, arca_error **err);

/* Adds an IPv4 address (EEXIST is fine). */
int arca_nl_addr_add (struct arca_nl *nl, unsigned index, struct in_addr addr, unsigned prefix,
                      arca_error **err);
/* The same without the subnet route the kernel adds for it (the caller adds
 * its own, e.g. with an MTU). */
int arca_nl_addr_add_noprefixroute (struct arca_nl *nl, unsigned index, struct in_addr addr,
                                    unsigned prefix, arca_error **err);

/* An IPv4 route of the main table: dst/prefix (0/0: default) through
 * gateway (0: on the link oif), mtu (0: the link's).  EEXIST is an error. */
struct arca_nl_route {
  struct in_addr dst;
  unsigned prefix;
  struct in_addr gateway;
  unsigned oif;
  struct in_addr prefsrc; /* 0: none */
  unsigned mtu;
};
int arca_nl_route_add (struct arca_nl *nl, const struct arca_nl_route *r, arca_error **err);
/* Deletes the main table's route to dst/prefix (on oif when set); a route
 * that is not there is no error. */
int arca_nl_route_del (struct arca_nl *nl, const struct arca_nl_route *r, arca_error **err);
/* Adds the default route via gateway. */
int arca_nl_route_default (struct arca_nl *nl, struct in_addr gateway, arca_error **err);

#endif
