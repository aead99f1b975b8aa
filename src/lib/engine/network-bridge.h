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

/* True when this process can set up bridges (root with CAP_NET_ADMIN). */
bool arca_bridge_supported (void);

/* The options a bridge container keeps in its row for attach: publish specs,
 * -P with the image's exposed ports, --ip, --dns, --add-host.  NULL when
 * there are none. */
json_t *arca_bridge_options_json (const struct arca_run_spec *spec, char **exposed_ports);

/* The container's address on the bridge; s_addr 0 when it has none
 * (not running, or another network mode).  For inspect. */
int arca_bridge_address (struct arca_engine *e, const char *id, struct in_addr *ret_addr,
                         arca_error **err);

/* For `arca system check`: finds addresses and ports held for containers that
 * no longer exist (a crash between create and rm) and, with repair, removes
 * them with their veth and nft entries.  Returns how many containers were
 * found; *ret_found (optional) gets their ids. */
int arca_bridge_reclaim (struct arca_engine *e, bool repair, char ***ret_found, arca_error **err);

/* `arca port`: a container's published ports (free *ret with free()). */
int arca_engine_ports (struct arca_engine *e, const char *name_or_id, struct arca_nft_port **ret,
                       size_t *ret_n, arca_error **err);

#endif
