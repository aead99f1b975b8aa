/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One interface over cgroup v1, v2 and the hybrid layout (v1 controllers
 * plus a cgroup2 mount that holds only some controllers, e.g. hugetlb).
 *
 * All paths are computed below `fs_root` (normally "/sys/fs/cgroup"), so unit
 * tests run the writers against a fake tree in a temporary directory. */
#ifndef ARCA_CGROUP_CGROUP_H
#define ARCA_CGROUP_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/config.h"
#include "util/error.h"

enum arca_cgroup_mode {
  ARCA_CGROUP_V1 = 1,     /* controllers mounted one per directory */
  ARCA_CGROUP_HYBRID,     /* v1 controllers + cgroup2 at <root>/unified */
  ARCA_CGROUP_V2,         /* unified hierarchy at <root> */
};

struct arca_cgroup;

/* Detects the layout under fs_root (statfs magic of the mounts, or, for fake
 * trees, the marker files a test writes: see the unit tests). */
int arca_cgroup_detect (const char *fs_root, enum arca_cgroup_mode *ret_mode,
                        arca_error **err);

/* Resolves the cgroup for `path` (an OCI cgroupsPath such as
 * "/arca/<id>") without touching the filesystem.  Nothing is created.  A
 * relative path is taken below the runtime's own cgroup in the main
 * hierarchy (cgroup2, else the first v1 one) and that one path is used in
 * every hierarchy; arca_cgroup_path() returns it, absolute, for the caller to
 * record and open again later. */
int arca_cgroup_open (const char *fs_root, const char *path,
                      struct arca_cgroup **ret_cgroup, arca_error **err);

/* Creates the cgroup directories (every v1 controller / the v2 directory,
 * enabling the needed controllers in the parents' cgroup.subtree_control).
 * On failure everything this call created is removed again. */
int arca_cgroup_create (struct arca_cgroup *cgroup, arca_error **err);

/* Writes the limits.  Used at create and by `update`: only the fields that
 * are set (has_*) are written; as in runc, 0 also means "not set" for the
 * memory limit/reservation/swap, cpu shares/quota/period, realtime runtime/
 * period and blkio weights.  A field the host cannot honour (e.g.
 * `unified` on v1, hugetlb page size that does not exist, realtime without
 * CONFIG_RT_GROUP_SCHED) fails with a message naming the OCI field. */
int arca_cgroup_apply (struct arca_cgroup *cgroup,
                       const struct arca_oci_resources *resources,
                       arca_error **err);

/* Moves pid into the cgroup (every hierarchy). */
int arca_cgroup_enter (struct arca_cgroup *cgroup, pid_t pid, arca_error **err);

/* v2 only: an O_DIRECTORY fd of the cgroup for clone3(CLONE_INTO_CGROUP);
 * -1 (not an error) in v1/hybrid mode. */
int arca_cgroup_dirfd (struct arca_cgroup *cgroup, arca_error **err);

/* Freezer (v1 freezer.state / v2 cgroup.freeze); waits until the state is
 * reached. */
int arca_cgroup_freeze (struct arca_cgroup *cgroup, bool frozen, arca_error **err);
int arca_cgroup_is_frozen (struct arca_cgroup *cgroup, bool *ret_frozen,
                           arca_error **err);

/* Lists the pids in the cgroup (and its descendants). */
int arca_cgroup_pids (struct arca_cgroup *cgroup, pid_t **ret_pids,
                      size_t *ret_count, arca_error **err);

/* Sends sig to every process in the cgroup (cgroup.kill on v2 for SIGKILL). */
int arca_cgroup_kill (struct arca_cgroup *cgroup, int sig, arca_error **err);

/* Removes the cgroup directories; kills what is left inside with SIGKILL
 * first and retries EBUSY for a short while.  Missing directories are fine. */
int arca_cgroup_destroy (struct arca_cgroup *cgroup, arca_error **err);

/* Usage figures (engine `stats`, `update` checks). */
struct arca_cgroup_stats {
  uint64_t cpu_usage_ns;
  uint64_t memory_usage, memory_limit;
  uint64_t pids_current, pids_limit;
  uint64_t blkio_read_bytes, blkio_write_bytes;
};
int arca_cgroup_stats (struct arca_cgroup *cgroup, struct arca_cgroup_stats *ret_stats,
                       arca_error **err);

enum arca_cgroup_mode arca_cgroup_mode (const struct arca_cgroup *cgroup);
const char *arca_cgroup_path (const struct arca_cgroup *cgroup);

/* For mounting /sys/fs/cgroup inside the container.  v1/hybrid: one entry
 * per hierarchy, name like "memory" or "cpu,cpuacct" or "unified", host_dir
 * the container's directory in that hierarchy; v2: one entry "unified". */
struct arca_cgroup_hierarchy {
  const char *name;       /* directory name under /sys/fs/cgroup */
  const char *fs_type;    /* "cgroup" or "cgroup2" */
  const char *options;    /* mount data for a fresh mount, e.g. "memory" */
  const char *host_dir;   /* absolute host path of this container's cgroup */
};
size_t arca_cgroup_hierarchies (const struct arca_cgroup *cgroup,
                                const struct arca_cgroup_hierarchy **ret);

void arca_cgroup_free (struct arca_cgroup *cgroup);
void arca_cgroup_freep (struct arca_cgroup **cgroup);
#define cleanup_cgroup __attribute__ ((cleanup (arca_cgroup_freep)))

#endif
