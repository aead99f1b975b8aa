/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared namespaces: `--network/--ipc/--pid container:NAME` and pods.
 *
 * A pod is a row in `pods` plus an infra container (the busybox image
 * running `arca-init --pause`) that owns the pod's network (its published
 * ports), IPC and UTS namespaces.  Members are ordinary containers whose
 * config.json joins those namespaces by /proc/PID/ns path; their options
 * name the pod ("pod") and the containers whose namespaces they join
 * ("joins"), so the paths are refreshed from the owner's current pid at
 * every start. */
#ifndef ARCA_ENGINE_POD_H
#define ARCA_ENGINE_POD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "util/error.h"

/* ---- joining another container's namespaces ----------------------------- */

/* What a new container joins, resolved from its create request. */
struct arca_ns_joins {
  char *pod_id;                /* --pod */
  char *owner[4];              /* container ids: network, ipc, uts, pid; NULL = own */
  char *path[4];               /* their /proc/PID/ns/... now */
  char *etc_dir;               /* the network owner's etc dir (hosts, resolv.conf, hostname) */
  char *hostname;              /* the network owner's hostname (uts not joined) */
  bool host_network;           /* a pod on --network host: its members too */
};
enum { ARCA_JOIN_NET = 0, ARCA_JOIN_IPC, ARCA_JOIN_UTS, ARCA_JOIN_PID };

/* Resolves req's --pod / container:NAME options; a pod whose infra is not
 * running is started, a container:NAME that is not running is an error, so
 * are options the joined network decides (-p, --ip, --dns, --hostname...).
 * Nothing to join leaves *ret zeroed. */
int arca_ns_joins_resolve (struct arca_engine *e, const struct arca_create_request *req,
                           struct arca_ns_joins *ret, arca_error **err);
void arca_ns_joins_clear (struct arca_ns_joins *j);
/* Fills spec's join_* (pointing into j) and etc_dir/hostname. */
void arca_ns_joins_apply (const struct arca_ns_joins *j, struct arca_run_spec *spec);
/* {"pod": ID, "joins": {"network": ID, ...}} members for a container's
 * options (merged into opts). */
int arca_ns_joins_to_options (const struct arca_ns_joins *j, json_t *opts, arca_error **err);

/* Before a container starts: rewrites its config.json's joined namespace
 * paths from the owners' current pids (a pod's stopped infra is started
 * first; any other owner must be running).  monitored: started under a
 * monitor, which joins a pid namespace only as arca-monitor run from a
 * sealed copy (linux/selfexec.h; monitor.h's sealed); the in-process
 * monitor cannot: refused then. */
int arca_ns_joins_refresh (struct arca_engine *e, const char *id, bool monitored,
                           arca_error **err);

/* `arca rm` of a pod's infra container: refused (EBUSY) while its pod exists. */
int arca_pod_check_remove (struct arca_engine *e, const char *id, arca_error **err);

/* ---- pods --------------------------------------------------------------- */

struct arca_pod_create_request {
  const char *name;            /* NULL: generated */
  const char *hostname;        /* NULL: the pod's name */
  enum arca_network_mode network;
  char **publish;              /* -p specs, owned by the infra container */
  char **labels;
  const char *init_path;       /* host path of arca-init (the infra's pause process) */
};

enum arca_pod_status {
  ARCA_POD_CREATED = 0,
  ARCA_POD_RUNNING,            /* every container runs */
  ARCA_POD_DEGRADED,           /* some do */
  ARCA_POD_EXITED,             /* none does, some ran */
};

struct arca_pod {
  char id[ARCA_ENGINE_ID_LEN + 1];
  char *name;
  char *infra_id;
  char *hostname;
  int64_t created;
  json_t *options;             /* as created: hostname, network, publish, labels */
  struct arca_engine_container **containers; /* infra first, NULL-terminated */
  size_t n_containers, n_running;
  enum arca_pod_status status;
};

int arca_pod_create (struct arca_engine *e, const struct arca_pod_create_request *req,
                     char *ret_id, arca_error **err);
int arca_pod_get (struct arca_engine *e, const char *name_or_id, struct arca_pod **ret,
                  arca_error **err);
/* Every pod, newest first, NULL-terminated. */
int arca_pod_list (struct arca_engine *e, struct arca_pod ***ret, arca_error **err);
void arca_pod_free (struct arca_pod *p);
void arca_pod_freep (struct arca_pod **p);
void arca_pods_free (struct arca_pod **v);
#define cleanup_pod __attribute__ ((cleanup (arca_pod_freep)))
const char *arca_pod_status_name (enum arca_pod_status s);

/* start: infra first, then the members; stop and kill: members first, then
 * infra (timeout -1: each container's own). */
int arca_pod_start (struct arca_engine *e, const char *name_or_id, arca_error **err);
int arca_pod_stop (struct arca_engine *e, const char *name_or_id, int timeout, arca_error **err);
int arca_pod_kill (struct arca_engine *e, const char *name_or_id, int sig, arca_error **err);
/* Removes every container of the pod, its row, then the infra (with its
 * network attachment).  A pod with a running container needs force. */
int arca_pod_remove (struct arca_engine *e, const char *name_or_id, bool force,
                     arca_error **err);
/* Removes every pod none of whose containers runs; their ids in *ret_removed. */
int arca_pod_prune (struct arca_engine *e, char ***ret_removed, arca_error **err);

#endif
