/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Published ports: parsing `-p` specs and reserving host ports in the
 * engine's database, so two containers can never publish the same host
 * port/protocol (the primary key decides a concurrent race). */
#ifndef ARCA_NET_PORTMAP_H
#define ARCA_NET_PORTMAP_H

#include <netinet/in.h>
#include <sqlite3.h>
#include <stdint.h>

#include "net/nft.h"
#include "util/error.h"

struct arca_port_spec {
  char proto[4];          /* "tcp" or "udp" */
  struct in_addr host_ip; /* 0: every address */
  uint16_t host_port;     /* 0: pick a free one */
  uint16_t container_port;
};

/* [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp] */
int arca_port_spec_parse (const char *text, struct arca_port_spec *ret, arca_error **err);

int arca_portmap_init (sqlite3 *db, arca_error **err);
/* Reserves every spec for container in one transaction (all or none),
 * choosing free host ports for 0 and refusing ports a host process holds.
 * ret gets n entries ready for arca_nft_ports_add (proto strings are static). */
int arca_portmap_reserve (sqlite3 *db, const char *container, const struct arca_port_spec *specs,
                          size_t n, struct in_addr container_ip, struct arca_nft_port *ret,
                          arca_error **err);
/* The container's reservations (free with free()). */
int arca_portmap_list (sqlite3 *db, const char *container, struct arca_nft_port **ret,
                       size_t *ret_n, arca_error **err);
int arca_portmap_release (sqlite3 *db, const char *container, arca_error **err);

#endif
