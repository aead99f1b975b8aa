/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by handle.c, create.c, verbs.c and exec.c: an open container and the steps every verb needs. */
#ifndef ARCA_CONTAINER_INTERNAL_H
#define ARCA_CONTAINER_INTERNAL_H

#include "cgroup/cgroup.h"
#include "container/container.h"

struct arca_container_handle {
  int dirfd;                          /* the state directory (locked if asked) */
  struct arca_container_record *rec;  /* NULL while creating */
  enum arca_container_status status;
  struct arca_cgroup *cgroup;         /* NULL when the record has none */
  struct arca_oci_config *config;     /* loaded on demand */
};

#define ARCA_HANDLE_INIT { .dirfd = -1 }

int arca_internal_open (const struct arca_runtime *rt, const char *id, bool lock,
                        struct arca_container_handle *h, arca_error **err);
void arca_internal_close (struct arca_container_handle *h);
int arca_internal_config (struct arca_container_handle *h, arca_error **err);
/* Reads config.json from the state directory (dirfd >= 0) or the bundle. */
int arca_internal_load_config (int dirfd, const char *bundle, char **ret_text, size_t *ret_len,
                               struct arca_oci_config **ret_config, arca_error **err);
int arca_internal_write_pid_file (const char *path, pid_t pid, arca_error **err);

struct sockaddr_un;
/* A unix socket address for a file in a directory we hold open: short
 * whatever the directory's own path (sun_path is 108 bytes). */
void arca_internal_socket_path (int dirfd, const char *name, struct sockaddr_un *addr);
/* Runs the hooks of one kind with the state (status, pid) on stdin. */
int arca_internal_run_hooks (const struct arca_oci_config *config, enum arca_oci_hook_kind kind,
                             const char *id, const char *bundle, const char *status, pid_t pid,
                             arca_error **err);
/* Kills what runs, runs poststop hooks (when asked), removes the cgroup and
 * the state directory. */
int arca_internal_destroy (const struct arca_runtime *rt, const char *id,
                           struct arca_container_handle *h, bool run_poststop, arca_error **err);

#endif
