/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Choosing a free subnet for a user network: the first piece of a pool that
 * overlaps neither a route of the host (its own networks, VPNs, other
 * engines' bridges) nor a network the engine already has. */
#ifndef ARCA_NET_POOL_H
#define ARCA_NET_POOL_H

#include <stddef.h>

#include "net/ipam.h"
#include "util/error.h"

/* The default pool, cut into /24s; ARCA_NETWORK_POOL overrides it. */
#define ARCA_NETWORK_POOL "10.90.0.0/16"

int arca_subnet_overlap (const struct arca_subnet *a, const struct arca_subnet *b);

/* The host's IPv4 routes other than default ones, from /proc/net/route text
 * (routes NULL: read the file).  Free *ret with free(). */
int arca_net_host_routes (const char *routes, struct arca_subnet **ret, size_t *ret_n,
                          arca_error **err);

/* The first /prefix of pool overlapping none of taken. */
int arca_net_pool_pick (const struct arca_subnet *pool, unsigned prefix,
                        const struct arca_subnet *taken, size_t n_taken, struct arca_subnet *ret,
                        arca_error **err);

#endif
