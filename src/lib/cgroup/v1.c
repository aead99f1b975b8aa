/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1 writers: one controller per hierarchy (memory, cpu, cpuset,
 * pids, blkio, hugetlb, devices, freezer).  On a hybrid host hugetlb may live
 * in the cgroup2 mount instead; that part is handed to v2.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup-internal.h"
#include "util/cleanup.h"

/* The v1 memory controller prints "unlimited" as PAGE_COUNTER_MAX pages in
 * bytes (0x7ffffffffffff000 on 4k pages); anything this large counts as -1. */
#define V1_UNLIMITED_FLOOR (UINT64_C (1) << 62)

static int
need (const struct arca_cgroup *cg, const char *controller, const char *field,
      const struct arca_cgroup_hier **ret, arca_error **err)
{
  const struct arca_cgroup_hier *h = arca_cgroup_find_v1 (cg, controller);
  if (h == NULL)
    return arca_error_set (err, ENOTSUP, "%s: no %s cgroup controller mounted below `%s`", field,
                           controller, cg->fs_root);
  *ret = h;
  return 0;
}

/* Refuses a knob the running kernel does not have, naming the OCI field. */
static int
need_file (const char *dir, const char *file, const char *field, const char *why, arca_error **err)
{
  if (arca_cgroup_file_exists (dir, file))
    return 0;
  return arca_error_set (err, ENOTSUP, "%s: not supported by this kernel (no `%s/%s`%s%s)", field,
                         dir, file, why ? ", " : "", why ? why : "");
}

/* ---- memory ------------------------------------------------------------- */

bool
arca_cgroup_v1_memsw_first (int64_t current_limit, int64_t new_swap)
{
  if (new_swap < 0)
    return true;
  if (current_limit < 0)
    return false;
  return new_swap >= current_limit;
}

static int
check_memory_values (const struct arca_oci_resources *r, arca_error **err)
{
  if (r->has_memory_limit && r->memory_limit < -1)
    return arca_error_set (err, EINVAL, "linux.resources.memory.limit: invalid value %" PRId64,
                           r->memory_limit);
  if (r->has_memory_swap && r->memory_swap < -1)
    return arca_error_set (err, EINVAL, "linux.resources.memory.swap: invalid value %" PRId64,
                           r->memory_swap);
  if (r->has_memory_reservation && r->memory_reservation < -1)
    return arca_error_set (err, EINVAL,
                           "linux.resources.memory.reservation: invalid value %" PRId64,
                           r->memory_reservation);
  if (r->has_memory_limit && r->has_memory_swap && r->memory_swap != -1
      && (r->memory_limit == -1 || r->memory_swap < r->memory_limit))
    return arca_error_set (err, EINVAL,
                           "linux.resources.memory.swap: memory+swap (%" PRId64
                           ") must not be below linux.resources.memory.limit (%" PRId64 ")",
                           r->memory_swap, r->memory_limit);
  if (r->has_memory_swappiness && r->memory_swappiness > 100)
    return arca_error_set (err, EINVAL,
                           "linux.resources.memory.swappiness: %" PRIu64 " is not in [0, 100]",
                           r->memory_swappiness);
  return 0;
}

static int
memory_limits (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
               arca_error **err)
{
  bool memsw = arca_cgroup_file_exists (dir, "memory.memsw.limit_in_bytes");
  bool has_swap = r->has_memory_swap;
  int64_t swap = r->memory_swap;
  int64_t current = -1;
  uint64_t cur;

  /* Unlimited memory without a word about swap means unlimited swap too
   * (otherwise an old memsw limit would still cap the container). */
  if (r->has_memory_limit && r->memory_limit == -1 && !has_swap && memsw)
    {
      has_swap = true;
      swap = -1;
    }
  if (has_swap && !memsw)
    {
      if (swap == -1)
        has_swap = false;
      else
        return need_file (dir, "memory.memsw.limit_in_bytes", "linux.resources.memory.swap",
                          "swap accounting is off", err);
    }
  if (r->has_memory_limit && has_swap)
    {
      if (arca_cgroup_read_u64 (dir, "memory.limit_in_bytes", false, &cur, err) < 0)
        return arca_error_wrap (err, "linux.resources.memory.limit");
      current = cur >= V1_UNLIMITED_FLOOR ? -1 : (int64_t)cur;
      if (arca_cgroup_v1_memsw_first (current, swap))
        {
          if (arca_cgroup_set (cg, dir, "memory.memsw.limit_in_bytes",
                               "linux.resources.memory.swap", err, "%" PRId64, swap)
                  < 0
              || arca_cgroup_set (cg, dir, "memory.limit_in_bytes", "linux.resources.memory.limit",
                                  err, "%" PRId64, r->memory_limit)
                     < 0)
            return -1;
          return 0;
        }
    }
  if (r->has_memory_limit
      && arca_cgroup_set (cg, dir, "memory.limit_in_bytes", "linux.resources.memory.limit", err,
                          "%" PRId64, r->memory_limit)
             < 0)
    return -1;
  if (has_swap
      && arca_cgroup_set (cg, dir, "memory.memsw.limit_in_bytes", "linux.resources.memory.swap",
                          err, "%" PRId64, swap)
             < 0)
    return -1;
  return 0;
}

static bool
any_memory (const struct arca_oci_resources *r)
{
  return r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap
         || r->has_memory_kernel || r->has_memory_kernel_tcp || r->has_memory_swappiness
         || r->has_disable_oom_killer || r->has_use_hierarchy;
}

static int
memory (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;
  const char *dir;

  if (!any_memory (r))
    return 0;
  if (check_memory_values (r, err) < 0
      || need (cg, "memory", "linux.resources.memory", &h, err) < 0)
    return -1;
  dir = h->dir;

  if (r->check_before_update && r->has_memory_limit && r->memory_limit >= 0)
    {
      uint64_t usage;
      if (arca_cgroup_read_u64 (dir, "memory.usage_in_bytes", false, &usage, err) < 0)
        return arca_error_wrap (err, "linux.resources.memory.checkBeforeUpdate");
      if (usage > (uint64_t)r->memory_limit)
        return arca_error_set (err, EBUSY,
                               "linux.resources.memory.limit: %" PRId64
                               " is below the current usage %" PRIu64 " (checkBeforeUpdate)",
                               r->memory_limit, usage);
    }
  /* use_hierarchy can only change while the cgroup has no children, so
   * it goes before anything else. */
  if (r->has_use_hierarchy
      && arca_cgroup_set (cg, dir, "memory.use_hierarchy", "linux.resources.memory.useHierarchy",
                          err, "%d", r->use_hierarchy ? 1 : 0)
             < 0)
    return -1;
  if (memory_limits (cg, dir, r, err) < 0)
    return -1;
  if (r->has_memory_reservation
      && arca_cgroup_set (cg, dir, "memory.soft_limit_in_bytes",
                          "linux.resources.memory.reservation", err, "%" PRId64,
                          r->memory_reservation)
             < 0)
    return -1;
  if (r->has_memory_kernel
      && (need_file (dir, "memory.kmem.limit_in_bytes", "linux.resources.memory.kernel",
                     "kernel memory limits were removed from cgroup v1", err)
              < 0
          || arca_cgroup_set (cg, dir, "memory.kmem.limit_in_bytes",
                              "linux.resources.memory.kernel", err, "%" PRId64, r->memory_kernel)
                 < 0))
    return -1;
  if (r->has_memory_kernel_tcp
      && (need_file (dir, "memory.kmem.tcp.limit_in_bytes", "linux.resources.memory.kernelTCP",
                     NULL, err)
              < 0
          || arca_cgroup_set (cg, dir, "memory.kmem.tcp.limit_in_bytes",
                              "linux.resources.memory.kernelTCP", err, "%" PRId64,
                              r->memory_kernel_tcp)
                 < 0))
    return -1;
  if (r->has_memory_swappiness
      && arca_cgroup_set (cg, dir, "memory.swappiness", "linux.resources.memory.swappiness", err,
                          "%" PRIu64, r->memory_swappiness)
             < 0)
    return -1;
  if (r->has_disable_oom_killer
      && arca_cgroup_set (cg, dir, "memory.oom_control", "linux.resources.memory.disableOOMKiller",
                          err, "%d", r->disable_oom_killer ? 1 : 0)
             < 0)
    return -1;
  return 0;
}

/* ---- cpu, cpuset -------------------------------------------------------- */

static int
cpu (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  struct arca_cgroup_knob bw[3] = { { 0 } };
  const struct arca_cgroup_hier *h = NULL;
  const char *dir;

  if (!(r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_cpu_burst
        || r->has_cpu_realtime_runtime || r->has_cpu_realtime_period || r->has_cpu_idle))
    return 0;
  if (need (cg, "cpu", "linux.resources.cpu", &h, err) < 0)
    return -1;
  dir = h->dir;

  /* Realtime first, as runc: the period bounds the runtime. */
  if (r->has_cpu_realtime_period
      && (need_file (dir, "cpu.rt_period_us", "linux.resources.cpu.realtimePeriod",
                     "CONFIG_RT_GROUP_SCHED is off", err)
              < 0
          || arca_cgroup_set (cg, dir, "cpu.rt_period_us", "linux.resources.cpu.realtimePeriod",
                              err, "%" PRIu64, r->cpu_realtime_period)
                 < 0))
    return -1;
  if (r->has_cpu_realtime_runtime
      && (need_file (dir, "cpu.rt_runtime_us", "linux.resources.cpu.realtimeRuntime",
                     "CONFIG_RT_GROUP_SCHED is off", err)
              < 0
          || arca_cgroup_set (cg, dir, "cpu.rt_runtime_us", "linux.resources.cpu.realtimeRuntime",
                              err, "%" PRId64, r->cpu_realtime_runtime)
                 < 0))
    return -1;
  if (r->has_cpu_shares
      && arca_cgroup_set (cg, dir, "cpu.shares", "linux.resources.cpu.shares", err, "%" PRIu64,
                          r->cpu_shares)
             < 0)
    return -1;

  if (r->has_cpu_period)
    {
      bw[0].file = "cpu.cfs_period_us";
      bw[0].field = "linux.resources.cpu.period";
      snprintf (bw[0].value, sizeof (bw[0].value), "%" PRIu64, r->cpu_period);
    }
  if (r->has_cpu_quota)
    {
      bw[1].file = "cpu.cfs_quota_us";
      bw[1].field = "linux.resources.cpu.quota";
      snprintf (bw[1].value, sizeof (bw[1].value), "%" PRId64,
                r->cpu_quota < 0 ? (int64_t)-1 : r->cpu_quota);
    }
  if (r->has_cpu_burst)
    {
      if (need_file (dir, "cpu.cfs_burst_us", "linux.resources.cpu.burst", NULL, err) < 0)
        return -1;
      bw[2].file = "cpu.cfs_burst_us";
      bw[2].field = "linux.resources.cpu.burst";
      snprintf (bw[2].value, sizeof (bw[2].value), "%" PRIu64, r->cpu_burst);
    }
  if (arca_cgroup_write_knobs (cg, dir, bw, ARRAY_SIZE (bw), err) < 0)
    return -1;

  if (r->has_cpu_idle
      && (need_file (dir, "cpu.idle", "linux.resources.cpu.idle", NULL, err) < 0
          || arca_cgroup_set (cg, dir, "cpu.idle", "linux.resources.cpu.idle", err, "%" PRId64,
                              r->cpu_idle)
                 < 0))
    return -1;
  return 0;
}

/* A cpu/node list as cpuset takes it: digits, ',' and '-' only. */
static int
check_list (const char *value, const char *field, arca_error **err)
{
  if (value[strspn (value, "0123456789,-")] != '\0')
    return arca_error_set (err, EINVAL, "%s: invalid list \"%s\"", field, value);
  return 0;
}

static int
cpuset (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;
  bool cpus = r->cpu_cpus != NULL && *r->cpu_cpus != '\0';
  bool mems = r->cpu_mems != NULL && *r->cpu_mems != '\0';

  if (!cpus && !mems)
    return 0;
  if ((cpus && check_list (r->cpu_cpus, "linux.resources.cpu.cpus", err) < 0)
      || (mems && check_list (r->cpu_mems, "linux.resources.cpu.mems", err) < 0)
      || need (cg, "cpuset", "linux.resources.cpu.cpus", &h, err) < 0)
    return -1;
  if (cpus
      && arca_cgroup_set (cg, h->dir, "cpuset.cpus", "linux.resources.cpu.cpus", err, "%s",
                          r->cpu_cpus)
             < 0)
    return -1;
  if (mems
      && arca_cgroup_set (cg, h->dir, "cpuset.mems", "linux.resources.cpu.mems", err, "%s",
                          r->cpu_mems)
             < 0)
    return -1;
  return 0;
}

/* True when a knob holds nothing but white space. */
static bool
blank (const char *s)
{
  return s[strspn (s, " \t\n")] == '\0';
}

int
arca_cgroup_v1_cpuset_init (const struct arca_cgroup *cg, const char *dir, arca_error **err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  cleanup_free char *parent = strdup (dir);
  char *slash;

  if (parent == NULL)
    return arca_error_errno (err, "initialise cpuset `%s`", dir);
  slash = strrchr (parent, '/');
  if (slash == NULL || slash == parent)
    return arca_error_set (err, EINVAL, "initialise cpuset `%s`: no parent", dir);
  *slash = '\0';

  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *mine = NULL, *theirs = NULL;

      if (arca_cgroup_read (dir, files[i], &mine, err) < 0)
        return -1;
      if (!blank (mine))
        continue;
      /* A new v1 cpuset starts empty and no task could join it: inherit
       * the parent's set (its parent has been initialised before). */
      if (arca_cgroup_read (parent, files[i], &theirs, err) < 0)
        return -1;
      theirs[strcspn (theirs, "\n")] = '\0';
      if (blank (theirs))
        return arca_error_set (err, EINVAL, "initialise cpuset `%s`: `%s/%s` is empty", dir, parent,
                               files[i]);
      if (arca_cgroup_write (cg, dir, files[i], theirs, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- pids --------------------------------------------------------------- */

static int
pids (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;

  if (!r->has_pids_limit)
    return 0;
  if (need (cg, "pids", "linux.resources.pids.limit", &h, err) < 0)
    return -1;
  if (r->pids_limit <= 0)
    return arca_cgroup_set (cg, h->dir, "pids.max", "linux.resources.pids.limit", err, "max");
  return arca_cgroup_set (cg, h->dir, "pids.max", "linux.resources.pids.limit", err, "%" PRId64,
                          r->pids_limit);
}

/* ---- blkio -------------------------------------------------------------- */

static int
throttle (const struct arca_cgroup *cg, const char *dir, const char *file, const char *field,
          const struct arca_oci_throttle_device *t, size_t n, arca_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      char name[96];
      snprintf (name, sizeof (name), "%s[%zu]", field, i);
      if (t[i].major < 0 || t[i].minor < 0)
        return arca_error_set (err, EINVAL, "%s: major and minor are required", name);
      if (arca_cgroup_set (cg, dir, file, name, err, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major,
                           t[i].minor, t[i].rate)
          < 0)
        return -1;
    }
  return 0;
}

static int
blkio (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;
  const char *dir, *weight_file = "blkio.weight", *weight_dev_file = "blkio.weight_device";

  if (!(r->has_blkio_weight || r->has_blkio_leaf_weight || r->n_blkio_weight_devices
        || r->n_blkio_throttle_read_bps || r->n_blkio_throttle_write_bps
        || r->n_blkio_throttle_read_iops || r->n_blkio_throttle_write_iops))
    return 0;
  if (need (cg, "blkio", "linux.resources.blockIO", &h, err) < 0)
    return -1;
  dir = h->dir;
  /* Kernels without CFQ only have the BFQ spelling of the same knobs. */
  if (!arca_cgroup_file_exists (dir, weight_file)
      && arca_cgroup_file_exists (dir, "blkio.bfq.weight"))
    {
      weight_file = "blkio.bfq.weight";
      weight_dev_file = "blkio.bfq.weight_device";
    }

  if (r->has_blkio_weight
      && (need_file (dir, weight_file, "linux.resources.blockIO.weight", NULL, err) < 0
          || arca_cgroup_set (cg, dir, weight_file, "linux.resources.blockIO.weight", err, "%u",
                              (unsigned)r->blkio_weight)
                 < 0))
    return -1;
  if (r->has_blkio_leaf_weight
      && (need_file (dir, "blkio.leaf_weight", "linux.resources.blockIO.leafWeight", NULL, err) < 0
          || arca_cgroup_set (cg, dir, "blkio.leaf_weight", "linux.resources.blockIO.leafWeight",
                              err, "%u", (unsigned)r->blkio_leaf_weight)
                 < 0))
    return -1;
  for (size_t i = 0; i < r->n_blkio_weight_devices; i++)
    {
      const struct arca_oci_weight_device *w = &r->blkio_weight_devices[i];
      char field[96];

      snprintf (field, sizeof (field), "linux.resources.blockIO.weightDevice[%zu]", i);
      if (w->major < 0 || w->minor < 0)
        return arca_error_set (err, EINVAL, "%s: major and minor are required", field);
      if (w->has_weight
          && (need_file (dir, weight_dev_file, field, NULL, err) < 0
              || arca_cgroup_set (cg, dir, weight_dev_file, field, err,
                                  "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
                                  (unsigned)w->weight)
                     < 0))
        return -1;
      if (w->has_leaf_weight
          && (need_file (dir, "blkio.leaf_weight_device", field, NULL, err) < 0
              || arca_cgroup_set (cg, dir, "blkio.leaf_weight_device", field, err,
                                  "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
                                  (unsigned)w->leaf_weight)
                     < 0))
        return -1;
    }
  if (throttle (cg, dir, "blkio.throttle.read_bps_device",
                "linux.resources.blockIO.throttleReadBpsDevice", r->blkio_throttle_read_bps,
                r->n_blkio_throttle_read_bps, err)
          < 0
      || throttle (cg, dir, "blkio.throttle.write_bps_device",
                   "linux.resources.blockIO.throttleWriteBpsDevice", r->blkio_throttle_write_bps,
                   r->n_blkio_throttle_write_bps, err)
             < 0
      || throttle (cg, dir, "blkio.throttle.read_iops_device",
                   "linux.resources.blockIO.throttleReadIOPSDevice", r->blkio_throttle_read_iops,
                   r->n_blkio_throttle_read_iops, err)
             < 0
      || throttle (cg, dir, "blkio.throttle.write_iops_device",
                   "linux.resources.blockIO.throttleWriteIOPSDevice", r->blkio_throttle_write_iops,
                   r->n_blkio_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

/* ---- hugetlb ------------------------------------------------------------ */

static int
hugetlb (struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;

  if (r->n_hugepage_limits == 0)
    return 0;
  h = arca_cgroup_find (cg, "hugetlb");
  if (h == NULL)
    return arca_error_set (
        err, ENOTSUP, "linux.resources.hugepageLimits: no hugetlb cgroup controller below `%s`",
        cg->fs_root);
  /* Hybrid hosts mount hugetlb only in the cgroup2 hierarchy. */
  if (h->v2)
    return arca_cgroup_v2_apply_hugetlb (cg, h, r, err);

  return arca_cgroup_write_hugetlb (cg, h->dir, r, "limit_in_bytes", err);
}

/* ---- devices ------------------------------------------------------------ */

int
arca_cgroup_v1_device_rule (const struct arca_oci_device_cgroup *d, char *buf, size_t size)
{
  char major[24] = "*", minor[24] = "*";
  int n;

  if (d->major >= 0)
    snprintf (major, sizeof (major), "%" PRId64, d->major);
  if (d->minor >= 0)
    snprintf (minor, sizeof (minor), "%" PRId64, d->minor);
  n = snprintf (buf, size, "%c %s:%s %s", d->type ? d->type : 'a', major, minor,
                d->access[0] ? d->access : "rwm");
  if (n < 0 || (size_t)n >= size)
    {
      errno = ENOBUFS;
      return -1;
    }
  return n;
}

static bool
is_all (const struct arca_oci_device_cgroup *d)
{
  return d->type == 'a' && d->major < 0 && d->minor < 0
         && (d->access[0] == '\0'
             || (strchr (d->access, 'r') && strchr (d->access, 'w') && strchr (d->access, 'm')));
}

static int
devices (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;
  size_t i = 0;

  if (r->n_devices == 0)
    return 0;
  if (need (cg, "devices", "linux.resources.devices", &h, err) < 0)
    return -1;
  /* A list starting with deny-all is the usual case: reset to "nothing
   * allowed" with "a" first (as runc), then open the listed holes. */
  if (!r->devices[0].allow && is_all (&r->devices[0]))
    {
      if (arca_cgroup_set (cg, h->dir, "devices.deny", "linux.resources.devices[0]", err, "a") < 0)
        return -1;
      i = 1;
    }
  for (; i < r->n_devices; i++)
    {
      const struct arca_oci_device_cgroup *d = &r->devices[i];
      char rule[64], field[64];

      snprintf (field, sizeof (field), "linux.resources.devices[%zu]", i);
      if (arca_cgroup_v1_device_rule (d, rule, sizeof (rule)) < 0)
        return arca_error_errno (err, "%s: device rule too long", field);
      if (arca_cgroup_set (cg, h->dir, d->allow ? "devices.allow" : "devices.deny", field, err,
                           "%s", rule)
          < 0)
        return -1;
    }
  return 0;
}

/* ---- apply, freezer, stats ---------------------------------------------- */

/* Everything that can be refused before the first write (values, missing
 * controllers, knobs this kernel lacks), so that a rejected update changes
 * nothing.  The writers check again where they use them. */
static int
check (const struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;
  const struct
  {
    bool set;
    const char *controller, *file, *field, *why;
  } knobs[] = {
    { r->has_memory_kernel, "memory", "memory.kmem.limit_in_bytes", "linux.resources.memory.kernel",
      "kernel memory limits were removed from cgroup v1" },
    { r->has_memory_kernel_tcp, "memory", "memory.kmem.tcp.limit_in_bytes",
      "linux.resources.memory.kernelTCP", NULL },
    { r->has_memory_swap && r->memory_swap != -1, "memory", "memory.memsw.limit_in_bytes",
      "linux.resources.memory.swap", "swap accounting is off" },
    { r->has_cpu_realtime_period, "cpu", "cpu.rt_period_us", "linux.resources.cpu.realtimePeriod",
      "CONFIG_RT_GROUP_SCHED is off" },
    { r->has_cpu_realtime_runtime, "cpu", "cpu.rt_runtime_us",
      "linux.resources.cpu.realtimeRuntime", "CONFIG_RT_GROUP_SCHED is off" },
    { r->has_cpu_burst, "cpu", "cpu.cfs_burst_us", "linux.resources.cpu.burst", NULL },
    { r->has_cpu_idle, "cpu", "cpu.idle", "linux.resources.cpu.idle", NULL },
    { r->has_blkio_leaf_weight, "blkio", "blkio.leaf_weight", "linux.resources.blockIO.leafWeight",
      NULL },
    { r->has_pids_limit, "pids", "pids.max", "linux.resources.pids.limit", NULL },
  };

  if (check_memory_values (r, err) < 0)
    return -1;
  if (any_memory (r) && need (cg, "memory", "linux.resources.memory", &h, err) < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE (knobs); i++)
    if (knobs[i].set
        && (need (cg, knobs[i].controller, knobs[i].field, &h, err) < 0
            || need_file (h->dir, knobs[i].file, knobs[i].field, knobs[i].why, err) < 0))
      return -1;
  if ((r->cpu_cpus && check_list (r->cpu_cpus, "linux.resources.cpu.cpus", err) < 0)
      || (r->cpu_mems && check_list (r->cpu_mems, "linux.resources.cpu.mems", err) < 0))
    return -1;
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      const char *size;
      if (arca_cgroup_hugetlb_size (r->hugepage_limits[i].page_size, i, &size, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const struct arca_oci_device_cgroup *d = &r->devices[i];
      if (d->type != 'a' && d->type != 'b' && d->type != 'c')
        return arca_error_set (err, EINVAL, "linux.resources.devices[%zu].type: invalid type '%c'",
                               i, d->type ? d->type : '?');
      if (d->access[strspn (d->access, "rwm")] != '\0')
        return arca_error_set (err, EINVAL, "linux.resources.devices[%zu].access: invalid \"%.4s\"",
                               i, d->access);
    }
  if (r->n_devices > 0 && need (cg, "devices", "linux.resources.devices", &h, err) < 0)
    return -1;
  return 0;
}

int
arca_cgroup_v1_apply (struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  if (check (cg, r, err) < 0 || memory (cg, r, err) < 0 || cpu (cg, r, err) < 0
      || cpuset (cg, r, err) < 0 || pids (cg, r, err) < 0 || blkio (cg, r, err) < 0
      || hugetlb (cg, r, err) < 0 || devices (cg, r, err) < 0)
    return -1;
  return 0;
}

static int
read_state (const char *dir, char *buf, size_t size, arca_error **err)
{
  cleanup_free char *data = NULL;

  if (arca_cgroup_read (dir, "freezer.state", &data, err) < 0)
    return -1;
  data[strcspn (data, "\n")] = '\0';
  snprintf (buf, size, "%s", data);
  return 0;
}

int
arca_cgroup_v1_freeze (struct arca_cgroup *cg, bool frozen, arca_error **err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  const struct arca_cgroup_hier *h = NULL;
  char state[32];
  int64_t start = 0;
  long delay = 0;

  if (need (cg, "freezer", "freeze", &h, err) < 0)
    return -1;
  /* Tasks in uninterruptible sleep keep a cgroup FREEZING; writing FROZEN
   * again retries them.  Give up after about 5 s rather than hang. */
  for (;;)
    {
      if (arca_cgroup_write (cg, h->dir, "freezer.state", want, err) < 0
          || read_state (h->dir, state, sizeof (state), err) < 0)
        return -1;
      if (strcmp (state, want) == 0)
        return 0;
      if (!arca_cgroup_backoff (&start, &delay, 5000))
        break;
    }
  if (frozen)
    {
      /* Do not leave the container half frozen. */
      cleanup_error arca_error *ignored = NULL;
      (void) arca_cgroup_write (cg, h->dir, "freezer.state", "THAWED", &ignored);
    }
  return arca_error_set (err, ETIMEDOUT, "freeze `%s/freezer.state`: still %s, wanted %s", h->dir,
                         state, want);
}

int
arca_cgroup_v1_is_frozen (struct arca_cgroup *cg, bool *ret_frozen, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;
  char state[32];

  if (need (cg, "freezer", "freezer state", &h, err) < 0
      || read_state (h->dir, state, sizeof (state), err) < 0)
    return -1;
  *ret_frozen = strcmp (state, "FROZEN") == 0;
  return 0;
}

/* Sums the "Read" and "Write" rows of a blkio io_service_bytes file. */
static int
blkio_bytes (const char *dir, uint64_t *ret_read, uint64_t *ret_write, arca_error **err)
{
  static const char *const files[]
      = { "blkio.throttle.io_service_bytes_recursive", "blkio.io_service_bytes_recursive",
          "blkio.throttle.io_service_bytes" };
  cleanup_free char *data = NULL;
  uint64_t rd = 0, wr = 0;
  char *save = NULL;
  size_t i;

  for (i = 0; i < ARRAY_SIZE (files); i++)
    if (arca_cgroup_file_exists (dir, files[i]))
      break;
  if (i == ARRAY_SIZE (files))
    return 0;
  if (arca_cgroup_read (dir, files[i], &data, err) < 0)
    return -1;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char dev[32], op[16];
      uint64_t v;
      if (sscanf (line, "%31s %15s %" SCNu64, dev, op, &v) != 3)
        continue;
      if (strcmp (op, "Read") == 0)
        rd += v;
      else if (strcmp (op, "Write") == 0)
        wr += v;
    }
  *ret_read = rd;
  *ret_write = wr;
  return 0;
}

int
arca_cgroup_v1_stats (struct arca_cgroup *cg, struct arca_cgroup_stats *st, arca_error **err)
{
  const struct arca_cgroup_hier *h = NULL;

  if ((h = arca_cgroup_find_v1 (cg, "cpuacct")) != NULL
      && arca_cgroup_read_u64 (h->dir, "cpuacct.usage", true, &st->cpu_usage_ns, err) < 0)
    return -1;
  if ((h = arca_cgroup_find_v1 (cg, "memory")) != NULL)
    {
      if (arca_cgroup_read_u64 (h->dir, "memory.usage_in_bytes", true, &st->memory_usage, err) < 0
          || arca_cgroup_read_u64 (h->dir, "memory.limit_in_bytes", true, &st->memory_limit, err)
                 < 0)
        return -1;
      if (st->memory_limit >= V1_UNLIMITED_FLOOR)
        st->memory_limit = UINT64_MAX;
    }
  if ((h = arca_cgroup_find_v1 (cg, "pids")) != NULL
      && (arca_cgroup_read_u64 (h->dir, "pids.current", true, &st->pids_current, err) < 0
          || arca_cgroup_read_u64 (h->dir, "pids.max", true, &st->pids_limit, err) < 0))
    return -1;
  if ((h = arca_cgroup_find_v1 (cg, "blkio")) != NULL
      && blkio_bytes (h->dir, &st->blkio_read_bytes, &st->blkio_write_bytes, err) < 0)
    return -1;
  return 0;
}
