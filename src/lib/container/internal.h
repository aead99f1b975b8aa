/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by lifecycle.c and exec.c: an open container. */
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

#endif
