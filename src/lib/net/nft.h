/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's nftables table `ip arca`: outbound masquerade from bridge
 * subnets and published ports as DNAT through two maps, so a container's
 * ports are map elements added and deleted by key (no rule handles to track,
 * and removing one container never touches another's rules). */
#ifndef ARCA_NET_NFT_H
#define ARCA_NET_NFT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/ipam.h"
#include "util/error.h"

/* Creates table (in family ip) once: idempotent, safe against a concurrent
 * creator.  Returns 1 when it (re)built the table, 0 when it was current.  One table per bridge, so engines with their own bridges (tests)
 * never touch each other's rules. */
int arca_nft_ensure (const char *table, const char *bridge, const struct arca_subnet *subnet,
                     arca_error **err);

struct arca_nft_port {
  const char *proto;        /* "tcp" or "udp" */
  struct in_addr host_ip;   /* 0: every host address */
  uint16_t host_port;
  struct in_addr container_ip;
  uint16_t container_port;
};
/* Adds all DNAT entries in one transaction (all or none). */
int arca_nft_ports_add (const char *table, const struct arca_nft_port *p, size_t n,
                        arca_error **err);
/* Deletes the entries; missing ones are skipped (detach after a crash). */
int arca_nft_ports_del (const char *table, const struct arca_nft_port *p, size_t n,
                        arca_error **err);

/* Isolation between arca bridges, in the table `ip arca` whatever bridge the
 * default network uses: a forward chain drops traffic from one arca bridge to
 * another (set `bridges`), and everything forwarded into or out of an
 * internal network (set `internal`); DNATed traffic (published ports) passes.
 * add is idempotent; del removes the bridge's elements (missing is fine). */
int arca_nft_isolation_add (const char *bridge, bool internal, arca_error **err);
int arca_nft_isolation_del (const char *bridge, arca_error **err);

/* Deletes a table; a missing one is fine. */
int arca_nft_table_del (const char *table, arca_error **err);

/* Runs an nft script; exposed for tests and the system check. */
int arca_nft_run (const char *script, arca_error **err);

#endif
