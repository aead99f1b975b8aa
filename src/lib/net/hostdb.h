/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host-wide network database under /run: the addresses handed out on
 * every bridge (keyed by bridge name, not by engine root, so two engine
 * roots sharing a bridge never hand out one address twice) and the
 * endpoints (veths) attached to them, each naming the engine root that made
 * it so a crash check of one root never touches another's.  It lives in
 * /run because bridges and veths do not outlive a reboot either. */
#ifndef ARCA_NET_HOSTDB_H
#define ARCA_NET_HOSTDB_H

#include <netinet/in.h>
#include <sqlite3.h>

#include "util/error.h"

/* ARCA_NET_STATE_DIR overrides it (unit tests). */
#define ARCA_NET_STATE_DIR "/run/arca-net"

/* Opens (creating) the database with its tables and a busy timeout. */
int arca_net_hostdb_open (sqlite3 **ret, arca_error **err);
void arca_net_hostdb_closep (sqlite3 **db);
#define cleanup_hostdb __attribute__ ((cleanup (arca_net_hostdb_closep)))

struct arca_endpoint {
  char *container, *network, *root, *bridge, *veth, *ifname, *mac;
  struct in_addr address; /* 0 until allocated */
};
void arca_endpoints_free (struct arca_endpoint *v, size_t n);

/* Adds (or replaces) an endpoint row. */
int arca_endpoint_put (sqlite3 *db, const struct arca_endpoint *ep, arca_error **err);
/* Endpoints matching the non-NULL filters, ordered by network. */
int arca_endpoint_list (sqlite3 *db, const char *root, const char *container, const char *network,
                        struct arca_endpoint **ret, size_t *ret_n, arca_error **err);
/* Removes the container's row on network and its address on bridge. */
int arca_endpoint_forget (sqlite3 *db, const char *container, const char *network,
                          const char *bridge, arca_error **err);

#endif
