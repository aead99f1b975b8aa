/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network of `arca run --vm`: a persistent tap on the bridge of the
 * default network or of a user network (--network NAME), with an address
 * from the same host-wide IPAM as containers (net/hostdb.h) and an
 * endpoint row keyed by the run's id, written before anything is created.
 * arca-vmm attaches to the tap by name (--net TAP,mac=MAC); the guest
 * agent configures eth0 from the run's configuration.
 *
 * A run holds <root>/vm/runs/<id>/lock (flock) while it or its arca-vmm
 * lives: a tap endpoint whose run holds no lock is garbage that the next
 * `run --vm` and `arca system check --repair` remove.
 *
 * Published ports (-p, -P) are reserved for the run's id in the engine's
 * database after the address, with DNAT entries in the network's nft
 * table, as a container's (network-bridge.h): detach and both reclaims
 * remove them from those rows. */
#ifndef ARCA_ENGINE_VM_NET_H
#define ARCA_ENGINE_VM_NET_H

#include <netinet/in.h>
#include <stdbool.h>

#include "engine/engine.h"
#include "engine/spec.h"

#define ARCA_VM_RUN_LOCK "lock"

struct arca_vm_net {
  bool attached;        /* the endpoint row exists: detach has work */
  struct arca_engine *engine; /* for the port rows; outlives the run */
  char table[32];       /* nft table of the network's NAT and ports */
  char id[ARCA_ENGINE_ID_LEN + 1];
  char network[129];    /* "bridge" or the user network's name */
  char bridge[16];
  char tap[16];
  struct in_addr address, gateway; /* gateway 0: none (internal network) */
  unsigned prefix;
  unsigned char mac[6];
  char **dns;           /* nameserver addresses, NULL-terminated */
  char **search;        /* resolv.conf search domains */
  char **hosts;         /* "ADDRESS NAME [ALIAS...]" lines for /etc/hosts */
};

/* Attaches the run `id` as spec asks: ARCA_NET_NONE leaves *n detached
 * (no NIC); host and container:NAME are refused.  spec's -p and -P (with
 * the image's exposed_ports) publish ports to the run's address, all or
 * none.  On failure everything made so far is removed.  *n starts zeroed;
 * free it with arca_vm_net_free. */
int arca_vm_net_attach (struct arca_engine *e, const char *id, const struct arca_run_spec *spec,
                        char **exposed_ports, struct arca_vm_net *n, arca_error **err);
/* Removes the published ports, the tap, the endpoint row and the address;
 * idempotent. */
int arca_vm_net_detach (struct arca_vm_net *n, arca_error **err);
/* Deletes the host's /32 route to a guest at address on bridge (attach
 * adds it when the bridge runs above the guest's 1500): for reclaiming an
 * ended run's endpoint.  No route, no bridge: no error. */
int arca_vm_net_route_forget (const char *bridge, struct in_addr address, arca_error **err);
void arca_vm_net_free (struct arca_vm_net *n);
/* Detach (errors ignored) and free: for a cleanup attribute. */
void arca_vm_net_cleanup (struct arca_vm_net *n);

/* For crash reclaim: is link a `run --vm` tap, is the run `id` alive? */
bool arca_vm_net_is_tap (const char *link);
bool arca_vm_run_alive (struct arca_engine *e, const char *id);

#endif
