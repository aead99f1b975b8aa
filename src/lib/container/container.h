/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container lifecycle: what the `arca-runtime` verbs do.  The CLI parses
 * flags into these option structs and prints results; everything else
 * happens here.  See docs/architecture.md for the create/start sequence. */
#ifndef ARCA_CONTAINER_CONTAINER_H
#define ARCA_CONTAINER_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "container/state.h"
#include "oci/config.h"
#include "util/error.h"
#include "util/log.h"

/* What every verb needs: where state lives and how to log. */
struct arca_runtime {
  const char *state_root;     /* --root, default ARCA_DEFAULT_STATE_ROOT */
  const char *cgroup_root;    /* "/sys/fs/cgroup" (tests may point elsewhere) */
  const struct arca_log *log;
  bool systemd_cgroup;        /* --systemd-cgroup */
  char **argv, **envp;        /* our own, for the sealed re-exec */
};

struct arca_create_options {
  const char *id;
  const char *bundle;         /* default "." */
  const char *pid_file;       /* may be NULL */
  const char *console_socket; /* may be NULL */
  bool no_pivot;
  bool no_new_keyring;
  unsigned preserve_fds;
};

/* create: the container ends up "created", its init waiting for start. */
int arca_container_create (const struct arca_runtime *rt, const struct arca_create_options *opts,
                           arca_error **err);

/* start: lets init exec the program, runs poststart hooks. */
int arca_container_start (const struct arca_runtime *rt, const char *id, arca_error **err);

/* run: create + start.  detach: return once it runs (the pid file says
 * which process); otherwise wait for it, forwarding signals, delete it and
 * return its exit status (128 + signal when killed) in *ret_status. */
int arca_container_run (const struct arca_runtime *rt, const struct arca_create_options *opts,
                        bool detach, int *ret_status, arca_error **err);

/* state: the OCI state document. */
int arca_container_state_json (const struct arca_runtime *rt, const char *id, char **ret_json,
                               arca_error **err);

int arca_container_kill (const struct arca_runtime *rt, const char *id, int sig, bool all,
                         arca_error **err);

/* delete: a stopped (or, with force, any) container: kill what runs, run
 * poststop hooks, remove the cgroup and the state. */
int arca_container_delete (const struct arca_runtime *rt, const char *id, bool force,
                           arca_error **err);

int arca_container_pause (const struct arca_runtime *rt, const char *id, bool pause,
                          arca_error **err);

/* update: writes the given (has_*) limits to the container's cgroup. */
int arca_container_update (const struct arca_runtime *rt, const char *id,
                           const struct arca_oci_resources *resources, arca_error **err);

/* ps: pids in the container's cgroup. */
int arca_container_pids (const struct arca_runtime *rt, const char *id, pid_t **ret_pids,
                         size_t *ret_count, arca_error **err);

/* list: one entry per container under the state root. */
struct arca_container_info {
  char *id;
  pid_t pid;                  /* 0 when stopped */
  enum arca_container_status status;
  char *bundle;
  char *rootfs;
  char *created;
  uid_t owner;
};
int arca_container_list (const struct arca_runtime *rt, struct arca_container_info **ret_infos,
                         size_t *ret_count, arca_error **err);
void arca_container_infos_free (struct arca_container_info *infos, size_t count);

/* exec: runs another process in a running container. */
struct arca_exec_options {
  const char *id;
  struct arca_oci_process *process; /* complete; owned by the caller */
  const char *pid_file;
  const char *console_socket;
  bool detach;
  unsigned preserve_fds;
};
/* Fills process defaults for an exec built from flags: env, cwd, user and
 * capabilities of the container's own process, args replaced. */
int arca_container_exec_defaults (const struct arca_runtime *rt, const char *id,
                                  struct arca_oci_process **ret_process, arca_error **err);
int arca_container_exec (const struct arca_runtime *rt, const struct arca_exec_options *opts,
                         int *ret_status, arca_error **err);

#endif
