/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 address management for bridge networks, persisted in the engine's
 * SQLite database: one row per allocated address, so an address is never
 * handed out twice (primary key), survives restarts, and a crash leaves a row
 * that detach or a system check reclaims by container id. */
#ifndef ARCA_NET_IPAM_H
#define ARCA_NET_IPAM_H

#include <netinet/in.h>
#include <sqlite3.h>

#include "util/error.h"

struct arca_subnet {
  struct in_addr base; /* network address, host bits zero */
  unsigned prefix;     /* 8..30 */
};

/* "A.B.C.D/N"; host bits must be zero. */
int arca_subnet_parse (const char *text, struct arca_subnet *ret, arca_error **err);
/* The n-th address of the subnet (1 = the gateway). */
struct in_addr arca_subnet_host (const struct arca_subnet *s, uint32_t n);
int arca_subnet_contains (const struct arca_subnet *s, struct in_addr a);

/* Creates the table when missing. */
int arca_ipam_init (sqlite3 *db, arca_error **err);
/* Allocates an address of subnet (network names it) for container: the lowest
 * free one from .2, or `requested` when its s_addr is not 0 (EEXIST when it
 * is taken).  One transaction; ENOSPC when the subnet is full. */
int arca_ipam_allocate (sqlite3 *db, const char *network, const struct arca_subnet *subnet,
                        const char *container, struct in_addr requested,
                        struct in_addr *ret_addr, arca_error **err);
/* The container's address; s_addr 0 when it has none. */
int arca_ipam_lookup (sqlite3 *db, const char *network, const char *container,
                      struct in_addr *ret_addr, arca_error **err);
/* Releases everything the container holds (none is fine). */
int arca_ipam_release (sqlite3 *db, const char *container, arca_error **err);

#endif
