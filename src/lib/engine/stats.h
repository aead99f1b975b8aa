/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running container's processes and resources: `arca top`, `stats`,
 * `pause`/`unpause`, `update`, and `rename` (a row change, no process). */
#ifndef ARCA_ENGINE_STATS_H
#define ARCA_ENGINE_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "engine/engine.h"
#include "util/error.h"

/* One sample of the container's cgroup (see arca_cgroup_stats; an
 * unlimited memory or pids limit is UINT64_MAX).  ENOTCONN when it is not
 * running. */
int arca_engine_stats (struct arca_engine *e, const char *name_or_id,
                       struct arca_cgroup_stats *ret, arca_error **err);

/* `top`: the container's processes, as ps -ef shows them. */
struct arca_top_row {
  pid_t pid, ppid;
  uid_t uid;
  uint64_t cpu_ns;        /* user + system time */
  int64_t start;          /* unix seconds */
  char *cmd;              /* command line, or [comm] */
};
int arca_engine_top (struct arca_engine *e, const char *name_or_id, struct arca_top_row **ret,
                     size_t *ret_count, arca_error **err);
void arca_top_rows_free (struct arca_top_row *rows, size_t count);

int arca_engine_pause (struct arca_engine *e, const char *name_or_id, bool pause,
                       arca_error **err);

/* `update`: only the set fields change; they are written to the cgroup
 * and to the container's config.json, so a restart keeps them. */
struct arca_update_request {
  int64_t memory;        /* bytes; 0 = unchanged */
  int64_t memory_swap;   /* bytes, -1 unlimited; 0 = unchanged */
  double cpus;           /* 0 = unchanged */
  uint64_t cpu_shares;   /* 0 = unchanged */
  int64_t pids_limit;    /* 0 = unchanged, -1 unlimited */
  const char *cpuset_cpus;
};
int arca_engine_update (struct arca_engine *e, const char *name_or_id,
                        const struct arca_update_request *req, arca_error **err);

int arca_engine_rename (struct arca_engine *e, const char *name_or_id, const char *new_name,
                        arca_error **err);

#endif
