/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* User networks (issue 4): `arca network create/ls/inspect/rm/prune/connect/
 * disconnect`.  Each network is its own Linux bridge and subnet, a row of
 * net_networks in the engine database; which containers belong to it is
 * net_members (kept across stop/start), and what is attached right now is
 * the host-wide endpoint table (net/hostdb.h).  Containers of one network
 * find each other by name and alias through /etc/hosts lines the engine
 * keeps current (no DNS server); different networks cannot reach each other
 * (net/nft.h isolation). */
#ifndef ARCA_ENGINE_NETWORK_USER_H
#define ARCA_ENGINE_NETWORK_USER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct arca_engine;

struct arca_network_create_options {
  const char *subnet;   /* NULL: a free /24 of the pool */
  const char *gateway;  /* NULL: the subnet's first address */
  const char *driver;   /* NULL or "bridge" */
  const char *bridge;   /* the Linux bridge's name; NULL: arca-<id> */
  bool internal;        /* no way out, no published ports */
  unsigned mtu;         /* 0: the kernel's default (1500) */
};

/* A network MTU (--opt mtu=, ARCA_BRIDGE_MTU): 576 (what every IPv4 host
 * must take) to 65535 (a veth's limit); what names the source. */
int arca_network_mtu_parse (const char *text, const char *what, unsigned *ret, arca_error **err);

int arca_network_create (struct arca_engine *e, const char *name,
                         const struct arca_network_create_options *o, char **ret_id,
                         arca_error **err);
/* Refused (EBUSY) while a container belongs to it. */
int arca_network_remove (struct arca_engine *e, const char *name, arca_error **err);
/* Removes every user network no container belongs to; their names. */
int arca_network_prune (struct arca_engine *e, char ***ret_removed, arca_error **err);
/* Docker-like objects: one for name, an array of every network for list. */
int arca_network_inspect (struct arca_engine *e, const char *name, json_t **ret, arca_error **err);
int arca_network_list (struct arca_engine *e, json_t **ret, arca_error **err);

/* Joins a container to a network: at once (eth1, ...) when it runs, from its
 * next start otherwise.  aliases NULL-terminated or NULL; ip, mac may be NULL. */
int arca_network_connect (struct arca_engine *e, const char *network, const char *container,
                          char *const *aliases, const char *ip, const char *mac, arca_error **err);
int arca_network_disconnect (struct arca_engine *e, const char *network, const char *container,
                             arca_error **err);

/* For create and rm of containers: the membership of `arca run --network
 * NAME` (checked: the network must exist), and forgetting all of it. */
int arca_network_member_add (struct arca_engine *e, const char *id, const char *network,
                             char *const *aliases, const char *ip, const char *mac,
                             arca_error **err);
int arca_network_forget (struct arca_engine *e, const char *id, arca_error **err);

/* The driver hooks: attach every network the container belongs to (its
 * first one as eth0 with the default route when primary, else eth1 ...),
 * detach all of them; both refresh the /etc/hosts of the networks' other
 * containers. */
int arca_user_networks_attach (struct arca_engine *e, const char *id, pid_t init_pid, bool primary,
                               arca_error **err);
int arca_user_networks_detach (struct arca_engine *e, const char *id, bool primary,
                               arca_error **err);

/* After `arca rename`: the /etc/hosts of the container and of the other
 * containers attached to its user networks show its new name (none when it
 * is attached to none). */
int arca_network_refresh_names (struct arca_engine *e, const char *id, arca_error **err);

/* Crash reclaim (for `arca system check`): finds what containers of this
 * engine root left behind on the host although they no longer exist or do
 * not run — endpoint rows and addresses, veths, published port entries,
 * ports rows — and with fix removes it.  report (may be NULL) is called once
 * per finding: kind is "endpoint", "veth" or "ports", what names it.
 * Returns the number of findings. */
typedef void (*arca_network_report_fn) (void *userdata, const char *kind, const char *what);
int arca_network_reclaim (struct arca_engine *e, bool fix, arca_network_report_fn report,
                          void *userdata, arca_error **err);

#endif
