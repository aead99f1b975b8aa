/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 writers (the unified hierarchy), plus the hugetlb part that a
 * hybrid host keeps in its cgroup2 mount.  Device rules become an eBPF
 * program: see v2-devices.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup-internal.h"
#include "util/cleanup.h"

/* What arca limits; a parent enables those of them it has itself. */
static const char *const wanted_controllers[]
    = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids" };

int
arca_cgroup_v2_enable (const struct arca_cgroup *cg, const char *parent_dir, arca_error **err)
{
  cleanup_free char *avail = NULL, *enabled = NULL;
  cleanup_error arca_error *local = NULL;
  char value[128];
  size_t len = 0;

  if (!arca_cgroup_file_exists (parent_dir, "cgroup.controllers"))
    return 0;
  if (arca_cgroup_read (parent_dir, "cgroup.controllers", &avail, err) < 0
      || arca_cgroup_read (parent_dir, "cgroup.subtree_control", &enabled, err) < 0)
    return -1;
  value[0] = '\0';
  for (size_t i = 0; i < ARRAY_SIZE (wanted_controllers); i++)
    if (arca_cgroup_list_has (avail, wanted_controllers[i])
        && !arca_cgroup_list_has (enabled, wanted_controllers[i]))
      len += (size_t)snprintf (value + len, sizeof (value) - len, "%s+%s", len ? " " : "",
                               wanted_controllers[i]);
  if (len == 0)
    return 0;
  if (arca_cgroup_write (cg, parent_dir, "cgroup.subtree_control", value, &local) == 0)
    return 0;
  /* A parent that holds processes itself cannot hand controllers down (the
   * "no internal processes" rule).  The cgroup still works; a limit that
   * needs a missing controller fails later, naming its field. */
  if (local != NULL && local->errnum == EBUSY)
    return 0;
  if (err != NULL && *err == NULL)
    *err = move_ptr (local);
  return -1;
}

static const struct arca_cgroup_hier *
v2_hier (const struct arca_cgroup *cg, arca_error **err)
{
  const struct arca_cgroup_hier *h = arca_cgroup_unified (cg);
  if (h == NULL)
    arca_error_set (err, ENOENT, "no cgroup2 hierarchy below `%s`", cg->fs_root);
  return h;
}

/* Every knob needs its controller enabled in the parent: say which field
 * cannot be honoured and why, rather than a bare ENOENT. */
static int
need_file (const char *dir, const char *file, const char *field, arca_error **err)
{
  char controller[32];

  if (arca_cgroup_file_exists (dir, file))
    return 0;
  snprintf (controller, sizeof (controller), "%.*s", (int)strcspn (file, "."), file);
  return arca_error_set (err, ENOTSUP,
                         "%s: `%s/%s` does not exist (the %s controller is not available to this "
                         "cgroup)",
                         field, dir, file, controller);
}

static int
unsupported (const char *field, arca_error **err)
{
  return arca_error_set (err, ENOTSUP, "%s: not supported on cgroup v2", field);
}

/* ---- conversions -------------------------------------------------------- */

uint64_t
arca_cgroup_v2_shares_to_weight (uint64_t shares)
{
  /* 0 is "not set" in the spec, as in runc and crun. */
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
arca_cgroup_v2_blkio_to_io_weight (uint64_t weight)
{
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}

int
arca_cgroup_v2_swap_max (int64_t limit, bool has_limit, int64_t swap, int64_t *ret_swap_max,
                         arca_error **err)
{
  /* The spec's swap is memory+swap (a v1 notion); v2 limits swap alone. */
  if (swap == -1)
    {
      *ret_swap_max = -1;
      return 0;
    }
  if (swap < -1)
    return arca_error_set (err, EINVAL, "linux.resources.memory.swap: invalid value %" PRId64,
                           swap);
  if (!has_limit || limit < 0)
    return arca_error_set (err, EINVAL,
                           "linux.resources.memory.swap: a swap limit needs a memory limit "
                           "(linux.resources.memory.limit) on cgroup v2");
  if (swap < limit)
    return arca_error_set (err, EINVAL,
                           "linux.resources.memory.swap: memory+swap (%" PRId64
                           ") must not be below linux.resources.memory.limit (%" PRId64 ")",
                           swap, limit);
  *ret_swap_max = swap - limit;
  return 0;
}

/* "max" for -1 (and anything negative), the number otherwise. */
static const char *
max_str (int64_t v, char *buf, size_t size)
{
  if (v < 0)
    return "max";
  snprintf (buf, size, "%" PRId64, v);
  return buf;
}

/* ---- memory ------------------------------------------------------------- */

static int
memory (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
        arca_error **err)
{
  char buf[32];

  if (r->check_before_update && r->has_memory_limit && r->memory_limit >= 0)
    {
      uint64_t usage;
      if (arca_cgroup_read_u64 (dir, "memory.current", false, &usage, err) < 0)
        return arca_error_wrap (err, "linux.resources.memory.checkBeforeUpdate");
      if (usage > (uint64_t)r->memory_limit)
        return arca_error_set (err, EBUSY,
                               "linux.resources.memory.limit: %" PRId64
                               " is below the current usage %" PRIu64 " (checkBeforeUpdate)",
                               r->memory_limit, usage);
    }

  /* swap.max first, then max, then low, as runc. */
  if (r->has_memory_swap)
    {
      int64_t swap_max = -1;
      if (arca_cgroup_v2_swap_max (r->memory_limit, r->has_memory_limit, r->memory_swap, &swap_max,
                                   err)
              < 0
          || need_file (dir, "memory.swap.max", "linux.resources.memory.swap", err) < 0
          || arca_cgroup_set (cg, dir, "memory.swap.max", "linux.resources.memory.swap", err, "%s",
                              max_str (swap_max, buf, sizeof (buf)))
                 < 0)
        return -1;
    }
  else if (r->has_memory_limit && r->memory_limit == -1
           && arca_cgroup_file_exists (dir, "memory.swap.max"))
    {
      /* Unlimited memory without a word about swap: unlimited swap too. */
      if (arca_cgroup_set (cg, dir, "memory.swap.max", "linux.resources.memory.swap", err, "max")
          < 0)
        return -1;
    }
  if (r->has_memory_limit
      && (need_file (dir, "memory.max", "linux.resources.memory.limit", err) < 0
          || arca_cgroup_set (cg, dir, "memory.max", "linux.resources.memory.limit", err, "%s",
                              max_str (r->memory_limit, buf, sizeof (buf)))
                 < 0))
    return -1;
  if (r->has_memory_reservation
      && (need_file (dir, "memory.low", "linux.resources.memory.reservation", err) < 0
          || arca_cgroup_set (cg, dir, "memory.low", "linux.resources.memory.reservation", err,
                              "%s", max_str (r->memory_reservation, buf, sizeof (buf)))
                 < 0))
    return -1;
  return 0;
}

/* ---- cpu, cpuset, pids -------------------------------------------------- */

static int
cpu (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
     arca_error **err)
{
  struct arca_cgroup_knob bw[2] = { { 0 } };

  if (r->has_cpu_shares && r->cpu_shares != 0
      && (need_file (dir, "cpu.weight", "linux.resources.cpu.shares", err) < 0
          || arca_cgroup_set (cg, dir, "cpu.weight", "linux.resources.cpu.shares", err, "%" PRIu64,
                              arca_cgroup_v2_shares_to_weight (r->cpu_shares))
                 < 0))
    return -1;

  if (r->has_cpu_quota || r->has_cpu_period)
    {
      char quota[32] = "max";
      const char *field
          = r->has_cpu_quota ? "linux.resources.cpu.quota" : "linux.resources.cpu.period";

      if (need_file (dir, "cpu.max", field, err) < 0)
        return -1;
      if (r->has_cpu_quota)
        max_str (r->cpu_quota, quota, sizeof (quota));
      else
        {
          /* cpu.max takes the quota first: keep the one in force. */
          cleanup_free char *cur = NULL;
          if (arca_cgroup_read (dir, "cpu.max", &cur, err) < 0)
            return arca_error_wrap (err, "%s", field);
          cur[strcspn (cur, " \n")] = '\0';
          if (*cur != '\0')
            snprintf (quota, sizeof (quota), "%s", cur);
        }
      bw[0].file = "cpu.max";
      bw[0].field = field;
      if (r->has_cpu_period)
        snprintf (bw[0].value, sizeof (bw[0].value), "%s %" PRIu64, quota, r->cpu_period);
      else
        snprintf (bw[0].value, sizeof (bw[0].value), "%s", quota);
    }
  if (r->has_cpu_burst)
    {
      if (need_file (dir, "cpu.max.burst", "linux.resources.cpu.burst", err) < 0)
        return -1;
      bw[1].file = "cpu.max.burst";
      bw[1].field = "linux.resources.cpu.burst";
      snprintf (bw[1].value, sizeof (bw[1].value), "%" PRIu64, r->cpu_burst);
    }
  if (arca_cgroup_write_knobs (cg, dir, bw, ARRAY_SIZE (bw), err) < 0)
    return -1;

  if (r->has_cpu_idle
      && (need_file (dir, "cpu.idle", "linux.resources.cpu.idle", err) < 0
          || arca_cgroup_set (cg, dir, "cpu.idle", "linux.resources.cpu.idle", err, "%" PRId64,
                              r->cpu_idle)
                 < 0))
    return -1;
  return 0;
}

static int
cpuset (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
        arca_error **err)
{
  static const struct
  {
    size_t off;
    const char *file, *field;
  } knobs[] = {
    { offsetof (struct arca_oci_resources, cpu_cpus), "cpuset.cpus", "linux.resources.cpu.cpus" },
    { offsetof (struct arca_oci_resources, cpu_mems), "cpuset.mems", "linux.resources.cpu.mems" },
  };

  for (size_t i = 0; i < ARRAY_SIZE (knobs); i++)
    {
      const char *v = *(char *const *)((const char *)r + knobs[i].off);
      if (v == NULL || *v == '\0')
        continue;
      if (v[strspn (v, "0123456789,-")] != '\0')
        return arca_error_set (err, EINVAL, "%s: invalid list \"%s\"", knobs[i].field, v);
      if (need_file (dir, knobs[i].file, knobs[i].field, err) < 0
          || arca_cgroup_set (cg, dir, knobs[i].file, knobs[i].field, err, "%s", v) < 0)
        return -1;
    }
  return 0;
}

static int
pids (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
      arca_error **err)
{
  char buf[32];

  if (!r->has_pids_limit)
    return 0;
  if (need_file (dir, "pids.max", "linux.resources.pids.limit", err) < 0)
    return -1;
  return arca_cgroup_set (cg, dir, "pids.max", "linux.resources.pids.limit", err, "%s",
                          max_str (r->pids_limit <= 0 ? -1 : r->pids_limit, buf, sizeof (buf)));
}

/* ---- io ----------------------------------------------------------------- */

static int
io_max (const struct arca_cgroup *cg, const char *dir, const char *key, const char *field,
        const struct arca_oci_throttle_device *t, size_t n, arca_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      char name[96], rate[32];

      snprintf (name, sizeof (name), "%s[%zu]", field, i);
      if (t[i].major < 0 || t[i].minor < 0)
        return arca_error_set (err, EINVAL, "%s: major and minor are required", name);
      /* 0 lifts the limit in v1; io.max spells that "max". */
      if (t[i].rate == 0)
        snprintf (rate, sizeof (rate), "max");
      else
        snprintf (rate, sizeof (rate), "%" PRIu64, t[i].rate);
      if (need_file (dir, "io.max", name, err) < 0
          || arca_cgroup_set (cg, dir, "io.max", name, err, "%" PRId64 ":%" PRId64 " %s=%s",
                              t[i].major, t[i].minor, key, rate)
                 < 0)
        return -1;
    }
  return 0;
}

static int
io (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
    arca_error **err)
{
  /* With BFQ the blkio scale (1-1000) is taken as is; io.weight has its
   * own scale (1-10000). */
  bool bfq = arca_cgroup_file_exists (dir, "io.bfq.weight");
  const char *wfile = bfq ? "io.bfq.weight" : "io.weight";

  if (r->has_blkio_weight && r->blkio_weight != 0
      && (need_file (dir, wfile, "linux.resources.blockIO.weight", err) < 0
          || arca_cgroup_set (cg, dir, wfile, "linux.resources.blockIO.weight", err, "%" PRIu64,
                              bfq ? (uint64_t)r->blkio_weight
                                  : arca_cgroup_v2_blkio_to_io_weight (r->blkio_weight))
                 < 0))
    return -1;
  for (size_t i = 0; i < r->n_blkio_weight_devices; i++)
    {
      const struct arca_oci_weight_device *w = &r->blkio_weight_devices[i];
      char field[96];

      snprintf (field, sizeof (field), "linux.resources.blockIO.weightDevice[%zu]", i);
      if (w->has_leaf_weight)
        return arca_error_set (err, ENOTSUP, "%s.leafWeight: not supported on cgroup v2", field);
      if (!w->has_weight)
        continue;
      if (w->major < 0 || w->minor < 0)
        return arca_error_set (err, EINVAL, "%s: major and minor are required", field);
      if (need_file (dir, wfile, field, err) < 0
          || arca_cgroup_set (
                 cg, dir, wfile, field, err, "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
                 bfq ? (uint64_t)w->weight : arca_cgroup_v2_blkio_to_io_weight (w->weight))
                 < 0)
        return -1;
    }
  if (io_max (cg, dir, "rbps", "linux.resources.blockIO.throttleReadBpsDevice",
              r->blkio_throttle_read_bps, r->n_blkio_throttle_read_bps, err)
          < 0
      || io_max (cg, dir, "wbps", "linux.resources.blockIO.throttleWriteBpsDevice",
                 r->blkio_throttle_write_bps, r->n_blkio_throttle_write_bps, err)
             < 0
      || io_max (cg, dir, "riops", "linux.resources.blockIO.throttleReadIOPSDevice",
                 r->blkio_throttle_read_iops, r->n_blkio_throttle_read_iops, err)
             < 0
      || io_max (cg, dir, "wiops", "linux.resources.blockIO.throttleWriteIOPSDevice",
                 r->blkio_throttle_write_iops, r->n_blkio_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

/* ---- hugetlb ------------------------------------------------------------ */

int
arca_cgroup_v2_apply_hugetlb (struct arca_cgroup *cg, const struct arca_cgroup_hier *h,
                              const struct arca_oci_resources *r, arca_error **err)
{
  return arca_cgroup_write_hugetlb (cg, h->dir, r, "max", err);
}

/* ---- unified ------------------------------------------------------------ */

static int
check_unified_key (const char *key, const char *value, arca_error **err)
{
  const char *dot;

  if (key == NULL || *key == '\0' || strchr (key, '/') != NULL || strstr (key, "..") != NULL
      || *key == '.')
    return arca_error_set (err, EINVAL, "linux.resources.unified: invalid key \"%s\"",
                           key ? key : "");
  dot = strchr (key, '.');
  if (dot == NULL || dot[1] == '\0')
    return arca_error_set (err, EINVAL,
                           "linux.resources.unified.\"%s\": not a <controller>.<knob> name", key);
  if (value == NULL)
    return arca_error_set (err, EINVAL, "linux.resources.unified.\"%s\": no value", key);
  return 0;
}

static int
unified (const struct arca_cgroup *cg, const char *dir, const struct arca_oci_resources *r,
         arca_error **err)
{
  for (size_t i = 0; i < r->n_unified; i++)
    {
      const char *key = r->unified[i].key, *value = r->unified[i].value;
      const char *dot;

      /* The parser checks this too; the key becomes a path here, so check
       * again where it is used. */
      if (check_unified_key (key, value, err) < 0)
        return -1;
      dot = strchr (key, '.');
      if (!arca_cgroup_file_exists (dir, key))
        {
          cleanup_free char *avail = NULL;
          char controller[32];

          snprintf (controller, sizeof (controller), "%.*s", (int)(dot - key), key);
          if (strcmp (controller, "cgroup") != 0
              && arca_cgroup_read (dir, "cgroup.controllers", &avail, NULL) == 0
              && !arca_cgroup_list_has (avail, controller))
            return arca_error_set (err, ENOTSUP,
                                   "linux.resources.unified.\"%s\": the %s controller is not "
                                   "available to `%s`",
                                   key, controller, dir);
          return arca_error_set (
              err, ENOENT, "linux.resources.unified.\"%s\": no such file `%s/%s`", key, dir, key);
        }
      if (arca_cgroup_write (cg, dir, key, value, err) < 0)
        return arca_error_wrap (err, "linux.resources.unified.\"%s\"", key);
    }
  return 0;
}

/* Everything that can be refused without looking at the cgroup, before the
 * first write: an update that cannot be honoured changes nothing. */
static int
check (const struct arca_oci_resources *r, arca_error **err)
{
  if (r->has_memory_kernel)
    return unsupported ("linux.resources.memory.kernel", err);
  if (r->has_memory_kernel_tcp)
    return unsupported ("linux.resources.memory.kernelTCP", err);
  if (r->has_memory_swappiness)
    return unsupported ("linux.resources.memory.swappiness", err);
  if (r->has_disable_oom_killer && r->disable_oom_killer)
    return unsupported ("linux.resources.memory.disableOOMKiller", err);
  if (r->has_use_hierarchy && !r->use_hierarchy)
    return arca_error_set (err, ENOTSUP,
                           "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical");
  if (r->has_memory_limit && r->memory_limit < -1)
    return arca_error_set (err, EINVAL, "linux.resources.memory.limit: invalid value %" PRId64,
                           r->memory_limit);
  if (r->has_memory_reservation && r->memory_reservation < -1)
    return arca_error_set (err, EINVAL,
                           "linux.resources.memory.reservation: invalid value %" PRId64,
                           r->memory_reservation);

  if (r->has_memory_swap)
    {
      int64_t swap_max;
      if (arca_cgroup_v2_swap_max (r->memory_limit, r->has_memory_limit, r->memory_swap, &swap_max,
                                   err)
          < 0)
        return -1;
    }
  if (r->has_cpu_realtime_runtime)
    return unsupported ("linux.resources.cpu.realtimeRuntime", err);
  if (r->has_cpu_realtime_period)
    return unsupported ("linux.resources.cpu.realtimePeriod", err);
  if (r->cpu_cpus && r->cpu_cpus[strspn (r->cpu_cpus, "0123456789,-")] != '\0')
    return arca_error_set (err, EINVAL, "linux.resources.cpu.cpus: invalid list \"%s\"",
                           r->cpu_cpus);
  if (r->cpu_mems && r->cpu_mems[strspn (r->cpu_mems, "0123456789,-")] != '\0')
    return arca_error_set (err, EINVAL, "linux.resources.cpu.mems: invalid list \"%s\"",
                           r->cpu_mems);
  if (r->has_blkio_leaf_weight)
    return unsupported ("linux.resources.blockIO.leafWeight", err);
  for (size_t i = 0; i < r->n_blkio_weight_devices; i++)
    if (r->blkio_weight_devices[i].has_leaf_weight)
      return arca_error_set (err, ENOTSUP,
                             "linux.resources.blockIO.weightDevice[%zu].leafWeight: not supported "
                             "on cgroup v2",
                             i);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      const char *size;
      if (arca_cgroup_hugetlb_size (r->hugepage_limits[i].page_size, i, &size, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < r->n_unified; i++)
    if (check_unified_key (r->unified[i].key, r->unified[i].value, err) < 0)
      return -1;
  if (r->n_devices > 0)
    {
      cleanup_free struct bpf_insn *insns = NULL;
      size_t n;
      if (arca_cgroup_v2_devices_program (r->devices, r->n_devices, &insns, &n, err) < 0)
        return -1;
    }
  return 0;
}

int
arca_cgroup_v2_apply (struct arca_cgroup *cg, const struct arca_oci_resources *r, arca_error **err)
{
  const struct arca_cgroup_hier *h = v2_hier (cg, err);
  const char *dir;

  if (h == NULL || check (r, err) < 0)
    return -1;
  dir = h->dir;
  if (memory (cg, dir, r, err) < 0 || cpu (cg, dir, r, err) < 0 || cpuset (cg, dir, r, err) < 0
      || pids (cg, dir, r, err) < 0 || io (cg, dir, r, err) < 0 || arca_cgroup_write_hugetlb (cg, dir, r, "max", err) < 0)
    return -1;
  /* A fake tree is no cgroup2 file system to attach a program to; check()
   * has built (and so validated) it. */
  if (r->n_devices > 0 && !cg->fake
      && arca_cgroup_v2_devices_apply (dir, r->devices, r->n_devices, err) < 0)
    return -1;
  /* Last, so an explicit unified entry wins over the same knob derived from
   * the portable fields. */
  return unified (cg, dir, r, err);
}

/* ---- freezer, stats ----------------------------------------------------- */

/* Value of "key N" in a flat keyed file (cgroup.events, cpu.stat); -1 when
 * the key is absent. */
static int64_t
keyed (const char *data, const char *key)
{
  size_t len = strlen (key);
  for (const char *p = data; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, key, len) == 0 && p[len] == ' ')
      return strtoll (p + len + 1, NULL, 10);
  return -1;
}

static int
frozen_state (const char *dir, int64_t *ret, arca_error **err)
{
  cleanup_free char *data = NULL;

  if (!arca_cgroup_file_exists (dir, "cgroup.events"))
    {
      uint64_t v;
      if (arca_cgroup_read_u64 (dir, "cgroup.freeze", false, &v, err) < 0)
        return -1;
      *ret = (int64_t)v;
      return 0;
    }
  if (arca_cgroup_read (dir, "cgroup.events", &data, err) < 0)
    return -1;
  *ret = keyed (data, "frozen");
  return 0;
}

int
arca_cgroup_v2_freeze (struct arca_cgroup *cg, bool frozen, arca_error **err)
{
  const struct arca_cgroup_hier *h = v2_hier (cg, err);
  int64_t start = 0;
  long delay = 0;
  int64_t state = -1;

  if (h == NULL)
    return -1;
  if (arca_cgroup_write (cg, h->dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
    return -1;
  /* The write only asks; cgroup.events says when every task has stopped.
   * Give up after about 5 s. */
  for (;;)
    {
      if (frozen_state (h->dir, &state, err) < 0)
        return -1;
      if (state == (frozen ? 1 : 0))
        return 0;
      if (!arca_cgroup_backoff (&start, &delay, 5000))
        break;
    }
  if (frozen)
    {
      cleanup_error arca_error *ignored = NULL;
      (void) arca_cgroup_write (cg, h->dir, "cgroup.freeze", "0", &ignored);
    }
  return arca_error_set (err, ETIMEDOUT, "%s `%s`: cgroup.events still says frozen %" PRId64,
                         frozen ? "freeze" : "thaw", h->dir, state);
}

int
arca_cgroup_v2_is_frozen (struct arca_cgroup *cg, bool *ret_frozen, arca_error **err)
{
  const struct arca_cgroup_hier *h = v2_hier (cg, err);
  int64_t state;

  if (h == NULL || frozen_state (h->dir, &state, err) < 0)
    return -1;
  *ret_frozen = state == 1;
  return 0;
}

int
arca_cgroup_v2_stats (struct arca_cgroup *cg, struct arca_cgroup_stats *st, arca_error **err)
{
  const struct arca_cgroup_hier *h = v2_hier (cg, err);
  cleanup_free char *cpu_stat = NULL, *io_stat = NULL;
  char *save = NULL;
  const char *dir;

  if (h == NULL)
    return -1;
  dir = h->dir;
  if (arca_cgroup_file_exists (dir, "cpu.stat"))
    {
      int64_t usec;
      if (arca_cgroup_read (dir, "cpu.stat", &cpu_stat, err) < 0)
        return -1;
      usec = keyed (cpu_stat, "usage_usec");
      st->cpu_usage_ns = usec > 0 ? (uint64_t)usec * 1000 : 0;
    }
  if (arca_cgroup_read_u64 (dir, "memory.current", true, &st->memory_usage, err) < 0
      || arca_cgroup_read_u64 (dir, "memory.max", true, &st->memory_limit, err) < 0
      || arca_cgroup_read_u64 (dir, "pids.current", true, &st->pids_current, err) < 0
      || arca_cgroup_read_u64 (dir, "pids.max", true, &st->pids_limit, err) < 0)
    return -1;
  if (arca_cgroup_file_exists (dir, "io.stat"))
    {
      if (arca_cgroup_read (dir, "io.stat", &io_stat, err) < 0)
        return -1;
      /* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." per device. */
      for (char *line = strtok_r (io_stat, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
        {
          char *p;
          if ((p = strstr (line, " rbytes=")) != NULL)
            st->blkio_read_bytes += strtoull (p + 8, NULL, 10);
          if ((p = strstr (line, " wbytes=")) != NULL)
            st->blkio_write_bytes += strtoull (p + 8, NULL, 10);
        }
    }
  return 0;
}
