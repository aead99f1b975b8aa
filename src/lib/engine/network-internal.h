/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the network files (network-user.c, network-endpoint.c,
 * network-reclaim.c, network-bridge.c) and vm-net.c only. */
#ifndef ARCA_ENGINE_NETWORK_INTERNAL_H
#define ARCA_ENGINE_NETWORK_INTERNAL_H

#include <jansson.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "net/ipam.h"
#include "util/error.h"

struct arca_engine;

struct user_net {
  char name[129];
  char id[65];
  char bridge[16];
  char table[32];
  struct arca_subnet subnet;
  struct in_addr gateway;
  bool internal;
  long long created;
  unsigned mtu;         /* of the bridge and every endpoint; 0: the kernel's 1500 */
};


/* The IPAM key of a network's gateway when it is not the subnet's first
 * address (that one is never handed out). */
#define GATEWAY_HOLDER "@gateway"

/* net_networks (with the user network columns) and net_members. */
int user_net_tables (sqlite3 *db, arca_error **err);
/* A user network by name or id (prefix); ENOENT names it. */
int user_net_load (struct arca_engine *e, const char *name_or_id, struct user_net *ret,
                   arca_error **err);
/* Its bridge up, isolation and (unless internal) NAT in nftables: create
 * does it, and every attach again (a reboot empties nftables). */
int user_net_realize (const struct user_net *n, arca_error **err);

/* The inspect object of a user network; every user network's appended to
 * list.  arca_network_inspect/list (network-builtin.c) add the pre-defined
 * networks, which arca-netattach, linking network-user.c, must not pull in. */
int user_net_inspect (struct arca_engine *e, sqlite3 *hdb, const char *name, json_t **ret,
                      arca_error **err);
int user_net_list (struct arca_engine *e, sqlite3 *hdb, json_t *list, arca_error **err);

/* Every other member with an address of every user network id is on (not
 * the default bridge, which resolves no names), with its container name
 * and its aliases there (a JSON array, or NULL): what /etc/hosts of a
 * container, and of a `run --vm` guest, lists. */
typedef void (*arca_network_peer_fn) (struct in_addr address, const char *name, json_t *aliases,
                                      void *userdata);
void arca_network_each_peer (struct arca_engine *e, sqlite3 *hdb, const char *id,
                             arca_network_peer_fn fn, void *userdata);

/* The resolver policy, one for containers and `run --vm` guests: the
 * /etc/resolv.conf text of a container on a bridge or user network, whose
 * IPv4 nameserver lines and last search/domain line a guest takes
 * (vm-net.c).  Nameservers: dns (--dns) when it has any, else the host's
 * that are not loopback resolvers, else 8.8.8.8 and 8.8.4.4; the host's
 * other lines (search, domain, options) as they are.  network-bridge.c. */
int arca_network_resolv_conf (char *const *dns, char **ret, arca_error **err);

#endif
