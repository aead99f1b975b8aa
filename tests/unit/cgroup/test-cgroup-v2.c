/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 writers against a fake unified tree: values, order of writes,
 * conversions, errors naming the OCI field; the device filter program. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <time.h>

#include "cgroup/cgroup-internal.h"
#include "fake-tree.h"

struct fx
{
  char *root;
  struct arca_cgroup *cg;
};

static const char *const root_files[] = {
  "cgroup.procs",
  "cgroup.freeze",
  "cgroup.events",
  "cgroup.type",
  "memory.max",
  "memory.low",
  "memory.swap.max",
  "memory.current",
  "cpu.weight",
  "cpu.max",
  "cpu.max.burst",
  "cpu.idle",
  "cpu.stat",
  "cpuset.cpus",
  "cpuset.mems",
  "pids.max",
  "pids.current",
  "io.weight",
  "io.max",
  "io.stat",
  "hugetlb.2MB.max",
  "hugetlb.1GB.max",
  "hugetlb.2MB.rsvd.max",
  "memory.high",
};

static int
setup (void **state)
{
  struct fx *f = calloc (1, sizeof (*f));
  cleanup_error arca_error *err = NULL;
  enum arca_cgroup_mode mode = 0;

  f->root = fake_root ("v2");
  for (size_t i = 0; i < ARRAY_SIZE (root_files); i++)
    fake_put (f->root, root_files[i], "");
  fake_put (f->root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
  fake_put (f->root, "cgroup.subtree_control", "");
  assert_int_equal (arca_cgroup_detect (f->root, &mode, &err), 0);
  assert_int_equal (mode, ARCA_CGROUP_V2);
  assert_int_equal (arca_cgroup_open (f->root, "/arca/test", &f->cg, &err), 0);
  assert_int_equal (arca_cgroup_create (f->cg, &err), 0);
  assert_null (err);
  fake_writes_reset (f->root);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fx *f = *state;
  arca_cgroup_free (f->cg);
  fake_remove (f->root);
  free (f);
  return 0;
}

/* Applies r and returns the write log (caller frees). */
static char *
apply (struct fx *f, const struct arca_oci_resources *r)
{
  cleanup_error arca_error *err = NULL;
  if (arca_cgroup_apply (f->cg, r, &err) < 0)
    fail_msg ("apply failed: %s", msg (err));
  return fake_writes (f->root);
}

/* Applies r, expecting an error that mentions text; nothing is written. */
static void
apply_fails (struct fx *f, const struct arca_oci_resources *r, const char *text)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL;
  assert_int_equal (arca_cgroup_apply (f->cg, r, &err), -1);
  assert_error_has (err, text);
  log = fake_writes (f->root);
  assert_string_equal (log, "");
}

/* ---- create ------------------------------------------------------------- */

static void
test_create_enables_controllers (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL, *ctl = NULL, *leaf_ctl = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  char *root = fake_root ("v2");

  for (size_t i = 0; i < ARRAY_SIZE (root_files); i++)
    fake_put (root, root_files[i], "");
  fake_put (root, "cgroup.controllers", "cpu memory pids rdma\n");
  fake_put (root, "cgroup.subtree_control", "memory\n");
  assert_int_equal (arca_cgroup_open (root, "/a/b", &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  log = fake_writes (root);
  /* Only what the parent offers and has not enabled yet; never rdma. */
  assert_string_equal (log, "./cgroup.subtree_control +cpu +pids\n"
                            "a/cgroup.subtree_control +cpu +memory +pids\n");
  ctl = fake_get (root, "a/cgroup.controllers");
  assert_string_equal (ctl, "memory cpu pids\n");
  leaf_ctl = fake_get (root, "a/b/cgroup.controllers");
  assert_string_equal (leaf_ctl, "cpu memory pids\n");
  assert_true (fake_exists (root, "a/b/memory.max"));
  assert_string_equal (arca_cgroup_path (cg), "/a/b");
  assert_int_equal (arca_cgroup_mode (cg), ARCA_CGROUP_V2);
  fake_remove (root);
}

static void
test_destroy_removes_dir (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;

  fake_mkdir (f->root, "arca/test/sub");
  fake_put (f->root, "arca/test/sub/cgroup.procs", "");
  fake_put (f->root, "arca/test/sub/memory.max", "");
  if (arca_cgroup_destroy (f->cg, &err) < 0)
    fail_msg ("destroy: %s", msg (err));
  assert_false (fake_exists (f->root, "arca/test"));
  /* A second destroy finds nothing and is fine. */
  assert_int_equal (arca_cgroup_destroy (f->cg, &err), 0);
}

/* ---- memory ------------------------------------------------------------- */

static void
test_memory_limits_order (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_memory_limit = r.has_memory_swap = r.has_memory_reservation = true;
  r.memory_limit = 64 << 20;
  r.memory_swap = 96 << 20;
  r.memory_reservation = 32 << 20;
  log = apply (f, &r);
  /* swap.max holds swap alone: memory+swap - memory. */
  assert_string_equal (log, "arca/test/memory.swap.max 33554432\n"
                            "arca/test/memory.max 67108864\n"
                            "arca/test/memory.low 33554432\n");
}

static void
test_zero_means_unset (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_memory_limit = r.has_memory_reservation = r.has_memory_swap = true;
  r.has_cpu_shares = r.has_cpu_quota = r.has_cpu_period = true;
  r.has_cpu_realtime_runtime = r.has_cpu_realtime_period = r.has_blkio_weight = true;
  r.has_pids_limit = true;
  r.pids_limit = 0;
  log = apply (f, &r);
  /* Only pids, where 0 is "unlimited"; the realtime fields would fail. */
  assert_string_equal (log, "arca/test/pids.max max\n");
}

static void
test_memory_unlimited (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_memory_limit = true;
  r.memory_limit = -1;
  log = apply (f, &r);
  /* No swap given with unlimited memory: swap is unlimited too. */
  assert_string_equal (log, "arca/test/memory.swap.max max\narca/test/memory.max max\n");
}

static void
test_memory_swap_errors (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };

  r.has_memory_swap = true;
  r.memory_swap = 100 << 20;
  apply_fails (f, &r, "linux.resources.memory.swap");
  r.has_memory_limit = true;
  r.memory_limit = 200 << 20;
  apply_fails (f, &r, "linux.resources.memory.swap: memory+swap (104857600) must not be below");
  r.has_memory_swap = false;
  r.memory_limit = -5;
  apply_fails (f, &r, "linux.resources.memory.limit: invalid value -5");
}

static void
test_swap_max_conversion (void **state)
{
  cleanup_error arca_error *err = NULL;
  int64_t v = 0;

  assert_int_equal (arca_cgroup_v2_swap_max (100, true, 300, &v, &err), 0);
  assert_int_equal (v, 200);
  assert_int_equal (arca_cgroup_v2_swap_max (100, true, 100, &v, &err), 0);
  assert_int_equal (v, 0);
  assert_int_equal (arca_cgroup_v2_swap_max (100, true, -1, &v, &err), 0);
  assert_int_equal (v, -1);
  assert_int_equal (arca_cgroup_v2_swap_max (-1, true, -1, &v, &err), 0);
  assert_int_equal (v, -1);
  assert_null (err);
  assert_int_equal (arca_cgroup_v2_swap_max (0, false, 300, &v, &err), -1);
  assert_error_has (err, "linux.resources.memory.swap");
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_cgroup_v2_swap_max (-1, true, 300, &v, &err), -1);
  assert_error_has (err, "needs a memory limit");
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_cgroup_v2_swap_max (400, true, 300, &v, &err), -1);
  assert_error_has (err, "must not be below");
}

static void
test_memory_v1_only_fields (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_disable_oom_killer = true;
  r.disable_oom_killer = true;
  apply_fails (f, &r, "linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
  /* false asks for nothing v2 cannot do. */
  r.disable_oom_killer = false;
  log = apply (f, &r);
  assert_string_equal (log, "");

  memset (&r, 0, sizeof (r));
  r.has_memory_kernel = true;
  r.memory_kernel = 1 << 20;
  apply_fails (f, &r, "linux.resources.memory.kernel:");
  memset (&r, 0, sizeof (r));
  r.has_memory_kernel_tcp = true;
  apply_fails (f, &r, "linux.resources.memory.kernelTCP:");
  memset (&r, 0, sizeof (r));
  r.has_memory_swappiness = true;
  r.memory_swappiness = 10;
  apply_fails (f, &r, "linux.resources.memory.swappiness:");
}

static void
test_memory_check_before_update (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  fake_put (f->root, "arca/test/memory.current", "5000\n");
  r.has_memory_limit = r.has_check_before_update = r.check_before_update = true;
  r.memory_limit = 4096;
  apply_fails (f, &r, "linux.resources.memory.limit: 4096 is below the current usage 5000");
  r.memory_limit = 8192;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/memory.max 8192\n");
}

static void
test_missing_controller_names_field (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *p = fake_path (f->root, "arca/test/pids.max");

  assert_int_equal (unlink (p), 0);
  r.has_pids_limit = true;
  r.pids_limit = 5;
  apply_fails (f, &r, "linux.resources.pids.limit: `");
  apply_fails (f, &r, "/arca/test/pids.max` does not exist (the pids controller");
}

/* ---- cpu ---------------------------------------------------------------- */

static void
test_shares_to_weight (void **state)
{
  assert_int_equal (arca_cgroup_v2_shares_to_weight (0), 0);
  assert_int_equal (arca_cgroup_v2_shares_to_weight (1), 1);
  assert_int_equal (arca_cgroup_v2_shares_to_weight (2), 1);
  assert_int_equal (arca_cgroup_v2_shares_to_weight (1024), 39);
  assert_int_equal (arca_cgroup_v2_shares_to_weight (262144), 10000);
  assert_int_equal (arca_cgroup_v2_shares_to_weight (1000000), 10000);
  assert_int_equal (arca_cgroup_v2_blkio_to_io_weight (10), 1);
  assert_int_equal (arca_cgroup_v2_blkio_to_io_weight (500), 4950);
  assert_int_equal (arca_cgroup_v2_blkio_to_io_weight (1000), 10000);
  assert_int_equal (arca_cgroup_v2_blkio_to_io_weight (0), 0);
}

static void
test_cpu_writes (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_cpu_shares = r.has_cpu_quota = r.has_cpu_period = r.has_cpu_burst = r.has_cpu_idle = true;
  r.cpu_shares = 1024;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpu_burst = 10000;
  r.cpu_idle = 1;
  r.cpu_cpus = (char *)"0-1";
  r.cpu_mems = (char *)"0";
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/cpu.weight 39\n"
                            "arca/test/cpu.max 50000 100000\n"
                            "arca/test/cpu.max.burst 10000\n"
                            "arca/test/cpu.idle 1\n"
                            "arca/test/cpuset.cpus 0-1\n"
                            "arca/test/cpuset.mems 0\n");
}

static void
test_cpu_max_forms (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  char *log;

  r.has_cpu_quota = true;
  r.cpu_quota = -1;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/cpu.max max\n");
  free (log);

  /* Only the period: the quota in force stays. */
  fake_writes_reset (f->root);
  fake_put (f->root, "arca/test/cpu.max", "20000 100000\n");
  memset (&r, 0, sizeof (r));
  r.has_cpu_period = true;
  r.cpu_period = 50000;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/cpu.max 20000 50000\n");
  free (log);
}

/* A field v2 cannot honour is refused before the first write, so a
 * rejected update changes nothing (apply_fails checks the write log). */
static void
test_refused_update_writes_nothing (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_unified_entry u = { (char *) "pids/../x", (char *) "1" };
  struct arca_oci_device_cgroup d = { true, 'z', 1, 3, "r" };
  struct arca_oci_hugepage_limit l = { (char *) "2M", 1 };

  r.has_memory_limit = r.has_pids_limit = r.has_cpu_shares = true;
  r.memory_limit = 64 << 20;
  r.pids_limit = 5;
  r.cpu_shares = 100;
  r.has_cpu_realtime_period = true;
  r.cpu_realtime_period = 1000000;
  apply_fails (f, &r, "linux.resources.cpu.realtimePeriod: not supported on cgroup v2");
  r.has_cpu_realtime_period = false;
  r.unified = &u;
  r.n_unified = 1;
  apply_fails (f, &r, "linux.resources.unified: invalid key");
  r.n_unified = 0;
  r.devices = &d;
  r.n_devices = 1;
  apply_fails (f, &r, "linux.resources.devices[0].type");
  r.n_devices = 0;
  r.hugepage_limits = &l;
  r.n_hugepage_limits = 1;
  apply_fails (f, &r, "linux.resources.hugepageLimits[0].pageSize");
  r.n_hugepage_limits = 0;
  r.has_memory_swap = true;
  r.memory_swap = 1 << 20;
  apply_fails (f, &r, "linux.resources.memory.swap: memory+swap");
}

static void
test_cpu_errors (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };

  r.has_cpu_realtime_runtime = true;
  r.cpu_realtime_runtime = 1000;
  apply_fails (f, &r, "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
  memset (&r, 0, sizeof (r));
  r.cpu_cpus = (char *)"0;1";
  apply_fails (f, &r, "linux.resources.cpu.cpus: invalid list \"0;1\"");
  memset (&r, 0, sizeof (r));
  r.cpu_mems = (char *)"0\n1";
  apply_fails (f, &r, "linux.resources.cpu.mems: invalid list");
}

/* ---- pids, io, hugetlb -------------------------------------------------- */

static void
test_pids (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  char *log;

  r.has_pids_limit = true;
  r.pids_limit = 10;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/pids.max 10\n");
  free (log);
  r.pids_limit = 0;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/pids.max 10\narca/test/pids.max max\n");
  free (log);
}

static void
test_io (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_weight_device wd = { .major = 8, .minor = 0, .has_weight = true, .weight = 100 };
  struct arca_oci_throttle_device rbps = { 8, 0, 1048576 }, wbps = { 8, 16, 0 },
                                  riops = { 8, 0, 100 }, wiops = { 8, 0, 200 };
  char *log;

  r.has_blkio_weight = true;
  r.blkio_weight = 500;
  r.blkio_weight_devices = &wd;
  r.n_blkio_weight_devices = 1;
  r.blkio_throttle_read_bps = &rbps;
  r.n_blkio_throttle_read_bps = 1;
  r.blkio_throttle_write_bps = &wbps;
  r.n_blkio_throttle_write_bps = 1;
  r.blkio_throttle_read_iops = &riops;
  r.n_blkio_throttle_read_iops = 1;
  r.blkio_throttle_write_iops = &wiops;
  r.n_blkio_throttle_write_iops = 1;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/io.weight 4950\n"
                            "arca/test/io.weight 8:0 910\n"
                            "arca/test/io.max 8:0 rbps=1048576\n"
                            "arca/test/io.max 8:16 wbps=max\n"
                            "arca/test/io.max 8:0 riops=100\n"
                            "arca/test/io.max 8:0 wiops=200\n");
  free (log);

  /* With BFQ the blkio scale is kept. */
  fake_writes_reset (f->root);
  fake_put (f->root, "arca/test/io.bfq.weight", "");
  memset (&r, 0, sizeof (r));
  r.has_blkio_weight = true;
  r.blkio_weight = 500;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/io.bfq.weight 500\n");
  free (log);

  fake_writes_reset (f->root);
  r.has_blkio_leaf_weight = true;
  r.blkio_leaf_weight = 10;
  apply_fails (f, &r, "linux.resources.blockIO.leafWeight: not supported on cgroup v2");
}

static void
test_hugetlb (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_hugepage_limit l[2] = { { (char *)"2MB", 4 << 21 }, { (char *)"1GB", 0 } };
  cleanup_free char *log = NULL;

  r.hugepage_limits = l;
  r.n_hugepage_limits = 2;
  log = apply (f, &r);
  assert_string_equal (log, "arca/test/hugetlb.2MB.max 8388608\n"
                            "arca/test/hugetlb.2MB.rsvd.max 8388608\n"
                            "arca/test/hugetlb.1GB.max 0\n");
  fake_writes_reset (f->root);
  l[1].page_size = (char *)"64KB";
  apply_fails (f, &r,
               "linux.resources.hugepageLimits[1].pageSize: page size 64KB is not supported");
  l[0].page_size = (char *)"2XB";
  apply_fails (f, &r, "linux.resources.hugepageLimits[0].pageSize: invalid page size \"2XB\"");
  l[0].page_size = (char *)"../2MB";
  apply_fails (f, &r, "linux.resources.hugepageLimits[0].pageSize: invalid page size");
}

/* ---- unified ------------------------------------------------------------ */

static void
test_unified (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_unified_entry u[2]
      = { { (char *)"memory.high", (char *)"100M" }, { (char *)"pids.max", (char *)"7" } };
  cleanup_free char *log = NULL;

  r.has_pids_limit = true;
  r.pids_limit = 3;
  r.unified = u;
  r.n_unified = 2;
  log = apply (f, &r);
  /* Written verbatim, after (so over) the portable fields. */
  assert_string_equal (log, "arca/test/pids.max 3\n"
                            "arca/test/memory.high 100M\n"
                            "arca/test/pids.max 7\n");
}

static void
test_unified_refused (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_unified_entry u = { (char *)"../memory.max", (char *)"1" };

  r.unified = &u;
  r.n_unified = 1;
  apply_fails (f, &r, "linux.resources.unified: invalid key \"../memory.max\"");
  u.key = (char *)"sub/memory.max";
  apply_fails (f, &r, "linux.resources.unified: invalid key \"sub/memory.max\"");
  u.key = (char *)"..";
  apply_fails (f, &r, "invalid key");
  u.key = (char *)"memorymax";
  apply_fails (f, &r, "not a <controller>.<knob> name");
  u.key = (char *)"memory.nonexistent";
  apply_fails (f, &r, "linux.resources.unified.\"memory.nonexistent\": no such file");
  /* rdma is offered by the root but was never enabled for us. */
  u.key = (char *)"rdma.max";
  apply_fails (f, &r, "the rdma controller is not available");
}

/* ---- freezer, stats, kill, enter ---------------------------------------- */

static void
test_freeze (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL;
  bool frozen = false;

  /* The kernel reports the state in cgroup.events. */
  fake_put (f->root, "arca/test/cgroup.events", "populated 1\nfrozen 1\n");
  assert_int_equal (arca_cgroup_freeze (f->cg, true, &err), 0);
  assert_int_equal (arca_cgroup_is_frozen (f->cg, &frozen, &err), 0);
  assert_true (frozen);
  fake_put (f->root, "arca/test/cgroup.events", "populated 1\nfrozen 0\n");
  assert_int_equal (arca_cgroup_freeze (f->cg, false, &err), 0);
  assert_int_equal (arca_cgroup_is_frozen (f->cg, &frozen, &err), 0);
  assert_false (frozen);
  log = fake_writes (f->root);
  assert_string_equal (log, "arca/test/cgroup.freeze 1\narca/test/cgroup.freeze 0\n");
}

/* cgroup.events never says frozen: give up after about 5 s, name the
 * cgroup, and take the freeze request back rather than leave it pending. */
static void
test_freeze_timeout (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL;
  struct timespec a, b;
  long ms;

  fake_put (f->root, "arca/test/cgroup.events", "populated 1\nfrozen 0\n");
  clock_gettime (CLOCK_MONOTONIC, &a);
  assert_int_equal (arca_cgroup_freeze (f->cg, true, &err), -1);
  clock_gettime (CLOCK_MONOTONIC, &b);
  ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  assert_true (ms >= 5000 && ms < 8000);
  assert_int_equal (err->errnum, ETIMEDOUT);
  assert_error_has (err, "freeze `");
  assert_error_has (err, "/arca/test`: cgroup.events still says frozen 0");
  log = fake_writes (f->root);
  assert_string_equal (log, "arca/test/cgroup.freeze 1\narca/test/cgroup.freeze 0\n");
}

static void
test_stats (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_cgroup_stats st;

  fake_put (f->root, "arca/test/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
  fake_put (f->root, "arca/test/memory.current", "4096\n");
  fake_put (f->root, "arca/test/memory.max", "max\n");
  fake_put (f->root, "arca/test/pids.current", "3\n");
  fake_put (f->root, "arca/test/pids.max", "10\n");
  fake_put (f->root, "arca/test/io.stat",
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2\n");
  assert_int_equal (arca_cgroup_stats (f->cg, &st, &err), 0);
  assert_int_equal (st.cpu_usage_ns, 1500000);
  assert_int_equal (st.memory_usage, 4096);
  assert_true (st.memory_limit == UINT64_MAX);
  assert_int_equal (st.pids_current, 3);
  assert_int_equal (st.pids_limit, 10);
  assert_int_equal (st.blkio_read_bytes, 101);
  assert_int_equal (st.blkio_write_bytes, 202);
}

static void
test_enter_and_kill (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  char *log;

  assert_int_equal (arca_cgroup_enter (f->cg, 4242, &err), 0);
  log = fake_writes (f->root);
  assert_string_equal (log, "arca/test/cgroup.procs 4242\n");
  free (log);
  fake_writes_reset (f->root);
  fake_put (f->root, "arca/test/cgroup.procs", "");
  fake_put (f->root, "arca/test/cgroup.kill", "");
  assert_int_equal (arca_cgroup_kill (f->cg, SIGKILL, &err), 0);
  log = fake_writes (f->root);
  assert_string_equal (log, "arca/test/cgroup.kill 1\n");
  free (log);
}

/* ---- the device filter -------------------------------------------------- */

/* Runs a generated program on one request: enough of eBPF for what
 * v2-devices.c emits.  Returns r0, or -1 on anything unexpected. */
static int
run_prog (const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major,
          uint32_t minor)
{
  uint32_t ctx[3] = { (access << 16) | type, major, minor };
  uint64_t reg[11] = { 0 };
  size_t pc = 0;

  for (int steps = 0; steps < 100000 && pc < n; steps++, pc++)
    {
      const struct bpf_insn *i = &p[pc];
      uint64_t imm = (uint64_t)(int64_t)i->imm;
      switch (i->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          if (i->src_reg != 1 || i->off < 0 || i->off > 8 || i->off % 4)
            return -1;
          reg[i->dst_reg] = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          reg[i->dst_reg] = (uint32_t)(reg[i->dst_reg] & imm);
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> i->imm;
          break;
        case BPF_ALU64 | BPF_AND | BPF_K:
          reg[i->dst_reg] &= imm;
          break;
        case BPF_ALU64 | BPF_MOV | BPF_X:
          reg[i->dst_reg] = reg[i->src_reg];
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
          reg[i->dst_reg] = imm;
          break;
        case BPF_JMP32 | BPF_JNE | BPF_K:
          if ((uint32_t)reg[i->dst_reg] != (uint32_t)i->imm)
            pc += i->off;
          break;
        case BPF_JMP | BPF_JNE | BPF_K:
          if (reg[i->dst_reg] != imm)
            pc += i->off;
          break;
        case BPF_JMP | BPF_JSET | BPF_K:
          if (reg[i->dst_reg] & imm)
            pc += i->off;
          break;
        case BPF_JMP | BPF_JA:
          pc += i->off;
          break;
        case BPF_JMP | BPF_EXIT:
          return (int)reg[0];
        default:
          return -1;
        }
    }
  return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define RD BPF_DEVCG_ACC_READ
#define WR BPF_DEVCG_ACC_WRITE
#define MK BPF_DEVCG_ACC_MKNOD

static struct bpf_insn *
program (const struct arca_oci_device_cgroup *rules, size_t n, size_t *ret_count)
{
  cleanup_error arca_error *err = NULL;
  struct bpf_insn *p = NULL;
  if (arca_cgroup_v2_devices_program (rules, n, &p, ret_count, &err) < 0)
    fail_msg ("program: %s", msg (err));
  return p;
}

/* Loads it when the kernel lets us: the verifier is the real judge. */
static void
maybe_load (const struct bpf_insn *p, size_t n)
{
  cleanup_error arca_error *err = NULL;
  int fd = arca_cgroup_v2_devices_load (p, n, &err);
  if (fd >= 0)
    {
      close (fd);
      return;
    }
  if (err->errnum == EPERM || err->errnum == ENOSYS || err->errnum == EOPNOTSUPP)
    return;
  fail_msg ("the kernel refused the program: %s (errno %d)", msg (err), err->errnum);
}

static void
test_bpf_default_deny (void **state)
{
  struct arca_oci_device_cgroup deny_all = { false, 'a', -1, -1, "rwm" };
  cleanup_free struct bpf_insn *p = NULL, *q = NULL;
  size_t n, m;

  p = program (NULL, 0, &n);
  /* 7 loads/moves, then r0 = 0; exit. */
  assert_int_equal (n, 9);
  assert_int_equal (p[7].code, BPF_ALU64 | BPF_MOV | BPF_K);
  assert_int_equal (p[7].imm, 0);
  assert_int_equal (p[8].code, BPF_JMP | BPF_EXIT);
  assert_int_equal (run_prog (p, n, C, RD, 1, 3), 0);
  maybe_load (p, n);
  /* A leading deny-all is the default: same program. */
  q = program (&deny_all, 1, &m);
  assert_int_equal (m, n);
  assert_memory_equal (p, q, n * sizeof (*p));
}

static void
test_bpf_structure (void **state)
{
  struct arca_oci_device_cgroup rules[] = {
    { false, 'a', -1, -1, "rwm" },
    { true, 'c', 1, 3, "rwm" },
    { true, 'c', 1, 5, "rw" },
  };
  cleanup_free struct bpf_insn *p = NULL;
  size_t n;

  p = program (rules, ARRAY_SIZE (rules), &n);
  /* prologue 7 + two rules of 3 checks + 4 + default deny 2. */
  assert_int_equal (n, 23);
  /* The last rule comes first: type, major, minor, each jumping to the next rule. */
  assert_int_equal (p[7].code, BPF_JMP32 | BPF_JNE | BPF_K);
  assert_int_equal (p[7].dst_reg, 2);
  assert_int_equal (p[7].imm, C);
  assert_int_equal (p[7].off, 6);
  assert_int_equal (p[8].dst_reg, 4);
  assert_int_equal (p[8].imm, 1);
  assert_int_equal (p[8].off, 5);
  assert_int_equal (p[9].dst_reg, 5);
  assert_int_equal (p[9].imm, 5);
  assert_int_equal (p[10].code, BPF_ALU64 | BPF_AND | BPF_K);
  assert_int_equal (p[10].imm, ~(RD | WR));
  assert_int_equal (p[11].code, BPF_JMP | BPF_JNE | BPF_K);
  assert_int_equal (p[12].imm, 1);
  assert_int_equal (p[13].code, BPF_JMP | BPF_EXIT);
  assert_int_equal (p[16].imm, 3);
  assert_int_equal (p[n - 1].code, BPF_JMP | BPF_EXIT);

  assert_int_equal (run_prog (p, n, C, RD, 1, 3), 1);
  assert_int_equal (run_prog (p, n, C, RD | WR | MK, 1, 3), 1);
  assert_int_equal (run_prog (p, n, C, RD | WR, 1, 5), 1);
  assert_int_equal (run_prog (p, n, C, MK, 1, 5), 0);
  assert_int_equal (run_prog (p, n, B, RD, 1, 3), 0);
  assert_int_equal (run_prog (p, n, C, RD, 1, 7), 0);
  maybe_load (p, n);
}

static void
test_bpf_last_match_wins (void **state)
{
  /* Allow all, then take write away from 1:3 and mknod from block devices. */
  struct arca_oci_device_cgroup rules[] = {
    { true, 'a', -1, -1, "rwm" },
    { false, 'c', 1, 3, "w" },
    { false, 'b', -1, -1, "m" },
  };
  cleanup_free struct bpf_insn *p = NULL;
  size_t n;

  p = program (rules, ARRAY_SIZE (rules), &n);
  /* 7 + (b: 1 check + 4) + (c 1:3: 3 + 4) + allow-all 2, no default deny. */
  assert_int_equal (n, 7 + 5 + 7 + 2);
  assert_int_equal (p[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
  assert_int_equal (p[n - 2].imm, 1);
  assert_int_equal (run_prog (p, n, C, RD, 1, 3), 1);
  assert_int_equal (run_prog (p, n, C, WR, 1, 3), 0);
  assert_int_equal (run_prog (p, n, C, RD | WR, 1, 3), 0);
  assert_int_equal (run_prog (p, n, C, WR, 1, 5), 1);
  assert_int_equal (run_prog (p, n, B, MK, 8, 0), 0);
  assert_int_equal (run_prog (p, n, B, RD | WR, 8, 0), 1);
  maybe_load (p, n);
}

static void
test_bpf_per_bit (void **state)
{
  /* As the v1 controller: access bits are decided one by one. */
  struct arca_oci_device_cgroup rules[] = {
    { true, 'c', 1, 3, "r" }, { true, 'c', 1, 3, "w" },  { true, 'c', 4, -1, "rwm" },
    { false, 'c', 4, 2, "" }, { true, 'c', -1, 9, "m" },
  };
  cleanup_free struct bpf_insn *p = NULL;
  size_t n;

  p = program (rules, ARRAY_SIZE (rules), &n);
  assert_int_equal (run_prog (p, n, C, RD | WR, 1, 3), 1);
  assert_int_equal (run_prog (p, n, C, RD | WR | MK, 1, 3), 0);
  assert_int_equal (run_prog (p, n, C, RD, 4, 1), 1);
  /* Empty access is every access: 4:2 is denied entirely. */
  assert_int_equal (run_prog (p, n, C, RD, 4, 2), 0);
  assert_int_equal (run_prog (p, n, C, MK, 200, 9), 1);
  assert_int_equal (run_prog (p, n, B, MK, 200, 9), 0);
  maybe_load (p, n);
}

static void
test_bpf_bad_rules (void **state)
{
  struct arca_oci_device_cgroup rules[] = {
    { true, 'c', 1, 3, "rwm" },
    { true, 'x', 1, 3, "rwm" },
  };
  cleanup_error arca_error *err = NULL;
  struct bpf_insn *p = NULL;
  size_t n = 0;

  assert_int_equal (arca_cgroup_v2_devices_program (rules, 2, &p, &n, &err), -1);
  assert_error_has (err, "linux.resources.devices[1].type");
  assert_null (p);
  arca_error_free (err);
  err = NULL;
  rules[1].type = 'c';
  strcpy (rules[1].access, "rwx");
  assert_int_equal (arca_cgroup_v2_devices_program (rules, 2, &p, &n, &err), -1);
  assert_error_has (err, "linux.resources.devices[1].access");
  arca_error_free (err);
  err = NULL;
  strcpy (rules[1].access, "r");
  rules[1].major = (int64_t)1 << 33;
  assert_int_equal (arca_cgroup_v2_devices_program (rules, 2, &p, &n, &err), -1);
  assert_error_has (err, "linux.resources.devices[1].major: out of range");
}

static void
test_apply_devices_in_fake_tree (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_device_cgroup d[] = { { false, 'a', -1, -1, "rwm" }, { true, 'q', 1, 3, "r" } };

  r.devices = d;
  r.n_devices = 2;
  apply_fails (f, &r, "linux.resources.devices[1].type: invalid type 'q'");
  d[1].type = 'c';
  cleanup_free char *log = apply (f, &r);
  assert_string_equal (log, "");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_create_enables_controllers),
    cmocka_unit_test_setup_teardown (test_destroy_removes_dir, setup, teardown),
    cmocka_unit_test_setup_teardown (test_memory_limits_order, setup, teardown),
    cmocka_unit_test_setup_teardown (test_memory_unlimited, setup, teardown),
    cmocka_unit_test_setup_teardown (test_zero_means_unset, setup, teardown),
    cmocka_unit_test_setup_teardown (test_memory_swap_errors, setup, teardown),
    cmocka_unit_test (test_swap_max_conversion),
    cmocka_unit_test_setup_teardown (test_memory_v1_only_fields, setup, teardown),
    cmocka_unit_test_setup_teardown (test_memory_check_before_update, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_controller_names_field, setup, teardown),
    cmocka_unit_test (test_shares_to_weight),
    cmocka_unit_test_setup_teardown (test_cpu_writes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cpu_max_forms, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cpu_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refused_update_writes_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_pids, setup, teardown),
    cmocka_unit_test_setup_teardown (test_io, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hugetlb, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unified, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unified_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_freeze, setup, teardown),
    cmocka_unit_test_setup_teardown (test_freeze_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stats, setup, teardown),
    cmocka_unit_test_setup_teardown (test_enter_and_kill, setup, teardown),
    cmocka_unit_test (test_bpf_default_deny),
    cmocka_unit_test (test_bpf_structure),
    cmocka_unit_test (test_bpf_last_match_wins),
    cmocka_unit_test (test_bpf_per_bit),
    cmocka_unit_test (test_bpf_bad_rules),
    cmocka_unit_test_setup_teardown (test_apply_devices_in_fake_tree, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
