/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* From an image's config and `arca run` flags to a container's config.json,
 * the way Docker and Podman users expect: the image's Env/Cmd/Entrypoint/
 * WorkingDir/User as defaults, flags overriding them, Docker's default
 * capabilities and seccomp profile, and limits mapped to linux.resources. */
#ifndef ARCA_ENGINE_SPEC_H
#define ARCA_ENGINE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* The part of an OCI image config ("config" object) a container uses. */
struct arca_image_runconfig {
  char **env;
  char **entrypoint;
  char **cmd;
  char *working_dir;
  char *user;
  char *stop_signal;
  char **volumes;        /* container paths */
  char **exposed_ports;  /* "80/tcp" */
};

/* Parses an image config blob (the whole document, "config" inside it). */
int arca_image_runconfig_parse (const char *json, size_t len, struct arca_image_runconfig **ret,
                             arca_error **err);
void arca_image_runconfig_free (struct arca_image_runconfig *c);
void arca_image_runconfig_freep (struct arca_image_runconfig **c);
#define cleanup_image_runconfig __attribute__ ((cleanup (arca_image_runconfig_freep)))

struct arca_run_mount {
  char *source;          /* host path (bind) or NULL (tmpfs) */
  char *destination;
  char *options;         /* tmpfs options or "ro"; may be NULL */
  bool tmpfs;
};

/* ARCA_NET_CONTAINER: another container's namespace (join_net below). */
enum arca_network_mode { ARCA_NET_NONE = 0, ARCA_NET_HOST, ARCA_NET_BRIDGE, ARCA_NET_CONTAINER };

struct arca_run_spec {
  char **command;          /* replaces the image's Cmd when non-NULL */
  char **entrypoint;       /* replaces the image's Entrypoint when set_entrypoint */
  bool set_entrypoint;
  char **env;              /* KEY=VALUE, over the image's */
  char *workdir, *user, *hostname;
  bool tty, read_only, privileged, no_new_privileges;
  const char *seccomp_json; /* linux.seccomp object; NULL = default profile */
  bool seccomp_unconfined;
  char **cap_add, **cap_drop; /* "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL" */
  int64_t memory, memory_swap;   /* 0 = unset, -1 unlimited (swap) */
  double cpus;                   /* 0 = unset */
  uint64_t cpu_shares;
  char *cpuset_cpus;
  int64_t pids_limit;            /* 0 = unset */
  struct arca_run_mount *mounts;
  size_t n_mounts;
  enum arca_network_mode network;
  char **annotations;            /* KEY=VALUE (labels) */
  char *init_path;               /* --init: host path of the init to bind at /dev/init */
  char *etc_dir;                 /* host dir with hosts, hostname, resolv.conf to bind */
  char *cgroup_path;
  /* bridge mode (issue 4): kept in the container's options for attach */
  char **publish;                /* -p specs as typed */
  bool publish_all;              /* -P: every EXPOSEd port */
  char *ip;                      /* --ip */
  char *mac_address;             /* --mac-address */
  char *network_name;            /* --network NAME: a user network (bridge mode) */
  char **network_aliases;        /* --network-alias */
  char **dns;                    /* --dns */
  char **add_hosts;              /* --add-host NAME:IP */
  /* Namespaces of other containers to join (--network/--ipc/--pid
   * container:NAME, --pod): /proc/PID/ns/... paths, NULL = a new one.  A
   * joined uts namespace keeps its hostname (config.json sets none). */
  const char *join_net, *join_ipc, *join_uts, *join_pid;
  bool pause;                    /* pod infra: the process is `/dev/init --pause` */
};

/* Builds config.json for rootfs (an absolute path, used as root.path and to
 * resolve a user name through its /etc/passwd and /etc/group). */
int arca_engine_spec_build (const struct arca_image_runconfig *image, const struct arca_run_spec *run,
                            const char *rootfs, char **ret_json, arca_error **err);

/* Docker's default capability set (names with CAP_). */
extern const char *const arca_engine_default_caps[];

/* "name", "uid", "uid:gid", "name:group" resolved inside rootfs. */
int arca_engine_resolve_user (const char *rootfs, const char *spec, uint32_t *ret_uid,
                              uint32_t *ret_gid, uint32_t **ret_groups, size_t *ret_n_groups,
                              arca_error **err);

#endif
