/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1 writers against fake v1 and hybrid trees: values and order of
 * writes (memsw), device rule strings, hugetlb in the unified directory on
 * hybrid hosts, create/destroy leaving nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>

#include "cgroup/cgroup-internal.h"
#include "fake-tree.h"

/* Unlimited as the v1 memory controller prints it. */
#define V1_UNLIMITED "9223372036854771712\n"

struct hier_files
{
  const char *dir;
  const char *files[24];
};

static const struct hier_files v1_layout[] = {
  { "cpu,cpuacct",
    { "cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
      "cpu.rt_runtime_us", "cpu.idle", "cpuacct.usage", NULL } },
  { "cpuset", { "cpuset.cpus", "cpuset.mems", NULL } },
  { "memory",
    { "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
      "memory.swappiness", "memory.oom_control", "memory.use_hierarchy", "memory.usage_in_bytes",
      "memory.kmem.tcp.limit_in_bytes", NULL } },
  { "pids", { "pids.max", "pids.current", NULL } },
  { "blkio",
    { "blkio.weight", "blkio.weight_device", "blkio.throttle.read_bps_device",
      "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
      "blkio.throttle.write_iops_device", "blkio.throttle.io_service_bytes_recursive", NULL } },
  { "devices", { "devices.allow", "devices.deny", "devices.list", NULL } },
  { "freezer", { "freezer.state", NULL } },
  { "systemd", { NULL } },
};

struct fx
{
  char *root;
  bool hybrid;
  struct arca_cgroup *cg;
};

/* A v1 tree (with a v1 hugetlb hierarchy) or a hybrid one (hugetlb only in
 * the cgroup2 mount at unified/). */
static char *
make_tree (bool hybrid)
{
  char *root = fake_root (hybrid ? "hybrid" : "v1");

  for (size_t i = 0; i < ARRAY_SIZE (v1_layout); i++)
    {
      char p[256];
      fake_mkdir (root, v1_layout[i].dir);
      snprintf (p, sizeof (p), "%s/cgroup.procs", v1_layout[i].dir);
      fake_put (root, p, "");
      for (size_t j = 0; v1_layout[i].files[j]; j++)
        {
          snprintf (p, sizeof (p), "%s/%s", v1_layout[i].dir, v1_layout[i].files[j]);
          fake_put (root, p, "");
        }
    }
  fake_put (root, "cpuset/cpuset.cpus", "0-1\n");
  fake_put (root, "cpuset/cpuset.mems", "0\n");
  if (hybrid)
    {
      fake_mkdir (root, "unified");
      fake_put (root, "unified/cgroup.procs", "");
      fake_put (root, "unified/cgroup.controllers", "hugetlb\n");
      fake_put (root, "unified/cgroup.subtree_control", "");
      fake_put (root, "unified/hugetlb.2MB.max", "");
      fake_put (root, "unified/hugetlb.1GB.max", "");
    }
  else
    {
      fake_mkdir (root, "hugetlb");
      fake_put (root, "hugetlb/cgroup.procs", "");
      fake_put (root, "hugetlb/hugetlb.2MB.limit_in_bytes", "");
      fake_put (root, "hugetlb/hugetlb.2MB.rsvd.limit_in_bytes", "");
      fake_put (root, "hugetlb/hugetlb.1GB.limit_in_bytes", "");
    }
  return root;
}

static int
setup_common (void **state, bool hybrid)
{
  struct fx *f = calloc (1, sizeof (*f));
  cleanup_error arca_error *err = NULL;

  f->hybrid = hybrid;
  f->root = make_tree (hybrid);
  assert_int_equal (arca_cgroup_open (f->root, "/arca-t", &f->cg, &err), 0);
  if (arca_cgroup_create (f->cg, &err) < 0)
    fail_msg ("create: %s", msg (err));
  /* What the kernel shows in a new memory cgroup. */
  fake_put (f->root, "memory/arca-t/memory.limit_in_bytes", V1_UNLIMITED);
  fake_writes_reset (f->root);
  *state = f;
  return 0;
}

static int
setup_v1 (void **state)
{
  return setup_common (state, false);
}

static int
setup_hybrid (void **state)
{
  return setup_common (state, true);
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

static char *
apply (struct fx *f, const struct arca_oci_resources *r)
{
  cleanup_error arca_error *err = NULL;
  if (arca_cgroup_apply (f->cg, r, &err) < 0)
    fail_msg ("apply failed: %s", msg (err));
  return fake_writes (f->root);
}

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

/* ---- layout, create, destroy -------------------------------------------- */

static void
test_detect_and_hierarchies (void **state)
{
  struct fx *f = *state;
  const struct arca_cgroup_hierarchy *h;
  enum arca_cgroup_mode mode = 0;
  cleanup_error arca_error *err = NULL;
  size_t n;
  bool seen_unified = false;

  assert_int_equal (arca_cgroup_detect (f->root, &mode, &err), 0);
  assert_int_equal (mode, f->hybrid ? ARCA_CGROUP_HYBRID : ARCA_CGROUP_V1);
  assert_int_equal (arca_cgroup_mode (f->cg), mode);
  n = arca_cgroup_hierarchies (f->cg, &h);
  assert_int_equal (n, ARRAY_SIZE (v1_layout) + 1);
  for (size_t i = 0; i < n; i++)
    {
      char want[512];
      snprintf (want, sizeof (want), "%s/%s/arca-t", f->root, h[i].name);
      assert_string_equal (h[i].host_dir, want);
      if (strcmp (h[i].name, "unified") == 0)
        {
          seen_unified = true;
          assert_string_equal (h[i].fs_type, "cgroup2");
        }
      else
        assert_string_equal (h[i].fs_type, "cgroup");
      assert_true (fake_exists (f->root, want + strlen (f->root) + 1));
    }
  assert_int_equal (seen_unified, f->hybrid);
}

static void
test_create_writes (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  cleanup_free char *log = NULL, *log2 = NULL;
  char *root = make_tree (true);

  assert_int_equal (arca_cgroup_open (root, "/a/b", &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  log = fake_writes (root);
  /* A v1 cpuset starts empty: each level copies its parent's sets.  The
   * cgroup2 mount hands hugetlb down. */
  assert_string_equal (log, "cpuset/a/cpuset.cpus 0-1\n"
                            "cpuset/a/cpuset.mems 0\n"
                            "cpuset/a/b/cpuset.cpus 0-1\n"
                            "cpuset/a/b/cpuset.mems 0\n"
                            "unified/cgroup.subtree_control +hugetlb\n"
                            "unified/a/cgroup.subtree_control +hugetlb\n");
  /* Creating again changes nothing. */
  fake_writes_reset (root);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  log2 = fake_writes (root);
  assert_string_equal (log2, "");
  fake_remove (root);
}

static void
test_failed_create_removes_what_it_made (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  char *root = make_tree (true);

  /* "memory/x" is a file: creating memory/x fails after the earlier
   * hierarchies got their directories. */
  fake_mkdir (root, "cpuset/x");
  fake_put (root, "cpuset/x/cpuset.cpus", "0\n");
  fake_put (root, "cpuset/x/cpuset.mems", "0\n");
  fake_put (root, "memory/x", "");
  assert_int_equal (arca_cgroup_open (root, "/x/y", &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), -1);
  assert_error_has (err, "create cgroup `/x/y`: mkdir `");
  assert_error_has (err, "/memory/x`: exists and is no directory");
  assert_int_equal (err->errnum, ENOTDIR);
  assert_false (fake_exists (root, "cpu,cpuacct/x"));
  assert_false (fake_exists (root, "blkio/x"));
  assert_false (fake_exists (root, "cpuset/x/y"));
  /* What existed before stays. */
  assert_true (fake_exists (root, "cpuset/x"));
  assert_false (fake_exists (root, "unified/x"));
  fake_remove (root);
}

/* A relative cgroupsPath: one path below our own cgroup in the main
 * hierarchy (cgroup2 on hybrid, else the first v1 one), the same in every
 * hierarchy, and opening arca_cgroup_path() again finds the same dirs. */
static void
check_relative (bool hybrid, const char *self_file, const char *want_path)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL, *again = NULL;
  const struct arca_cgroup_hierarchy *h, *h2;
  char *root = make_tree (hybrid);
  size_t n;

  fake_put (root, ".arca-fake-self-cgroup", self_file);
  assert_int_equal (arca_cgroup_open (root, "rel/c", &cg, &err), 0);
  assert_string_equal (arca_cgroup_path (cg), want_path);
  n = arca_cgroup_hierarchies (cg, &h);
  for (size_t i = 0; i < n; i++)
    {
      char want[512];
      snprintf (want, sizeof (want), "%s/%s%s", root, h[i].name, want_path);
      assert_string_equal (h[i].host_dir, want);
    }
  /* Another process (other own cgroups) opens the recorded path. */
  fake_put (root, ".arca-fake-self-cgroup", "0::/x\n7:blkio:/y\n4:memory:/z\n");
  assert_int_equal (arca_cgroup_open (root, arca_cgroup_path (cg), &again, &err), 0);
  assert_int_equal (arca_cgroup_hierarchies (again, &h2), n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal (h2[i].host_dir, h[i].host_dir);
  fake_remove (root);
}

static void
test_relative_path (void **state)
{
  /* Hybrid: the cgroup2 entry decides, not memory's own cgroup. */
  check_relative (true, "9:name=systemd:/sys.slice/a\n4:memory:/elsewhere\n0::/sys.slice/a/\n",
                  "/sys.slice/a/rel/c");
  /* v1: the first hierarchy (blkio here). */
  check_relative (false, "7:blkio:/b.slice\n4:memory:/elsewhere\n", "/b.slice/rel/c");
  /* Our own cgroup is the root. */
  check_relative (true, "0::/\n", "/rel/c");
}

static void
test_destroy_leaves_nothing (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  const struct arca_cgroup_hierarchy *h;
  size_t n = arca_cgroup_hierarchies (f->cg, &h);

  if (arca_cgroup_destroy (f->cg, &err) < 0)
    fail_msg ("destroy: %s", msg (err));
  for (size_t i = 0; i < n; i++)
    assert_int_equal (access (h[i].host_dir, F_OK), -1);
  assert_false (fake_exists (f->root, "unified/arca-t"));
  assert_false (fake_exists (f->root, "memory/arca-t"));
}

static void
test_enter_every_hierarchy (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL;

  assert_int_equal (arca_cgroup_enter (f->cg, 77, &err), 0);
  log = fake_writes (f->root);
  assert_string_equal (log, f->hybrid ? "blkio/arca-t/cgroup.procs 77\n"
                                        "cpu,cpuacct/arca-t/cgroup.procs 77\n"
                                        "cpuset/arca-t/cgroup.procs 77\n"
                                        "devices/arca-t/cgroup.procs 77\n"
                                        "freezer/arca-t/cgroup.procs 77\n"
                                        "memory/arca-t/cgroup.procs 77\n"
                                        "pids/arca-t/cgroup.procs 77\n"
                                        "systemd/arca-t/cgroup.procs 77\n"
                                        "unified/arca-t/cgroup.procs 77\n"
                                      : "blkio/arca-t/cgroup.procs 77\n"
                                        "cpu,cpuacct/arca-t/cgroup.procs 77\n"
                                        "cpuset/arca-t/cgroup.procs 77\n"
                                        "devices/arca-t/cgroup.procs 77\n"
                                        "freezer/arca-t/cgroup.procs 77\n"
                                        "hugetlb/arca-t/cgroup.procs 77\n"
                                        "memory/arca-t/cgroup.procs 77\n"
                                        "pids/arca-t/cgroup.procs 77\n"
                                        "systemd/arca-t/cgroup.procs 77\n");
  assert_int_equal (arca_cgroup_dirfd (f->cg, &err), -1);
  assert_null (err);
}

/* ---- memory ------------------------------------------------------------- */

static void
test_memsw_first (void **state)
{
  /* memsw first when it is unlimited or not below the current limit. */
  assert_true (arca_cgroup_v1_memsw_first (100, -1));
  assert_true (arca_cgroup_v1_memsw_first (-1, -1));
  assert_true (arca_cgroup_v1_memsw_first (100, 200));
  assert_true (arca_cgroup_v1_memsw_first (100, 100));
  assert_false (arca_cgroup_v1_memsw_first (100, 50));
  assert_false (arca_cgroup_v1_memsw_first (-1, 200));
}

static void
test_memory_order (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  char *log;

  /* From unlimited: a limited memsw must wait for the limit. */
  r.has_memory_limit = r.has_memory_swap = true;
  r.memory_limit = 64 << 20;
  r.memory_swap = 128 << 20;
  log = apply (f, &r);
  assert_string_equal (log, "memory/arca-t/memory.limit_in_bytes 67108864\n"
                            "memory/arca-t/memory.memsw.limit_in_bytes 134217728\n");
  free (log);

  /* Growing past the current limit: memsw first. */
  fake_writes_reset (f->root);
  fake_put (f->root, "memory/arca-t/memory.limit_in_bytes", "67108864\n");
  r.memory_limit = 256 << 20;
  r.memory_swap = 512 << 20;
  log = apply (f, &r);
  assert_string_equal (log, "memory/arca-t/memory.memsw.limit_in_bytes 536870912\n"
                            "memory/arca-t/memory.limit_in_bytes 268435456\n");
  free (log);

  /* Shrinking below it: the limit first. */
  fake_writes_reset (f->root);
  fake_put (f->root, "memory/arca-t/memory.limit_in_bytes", "268435456\n");
  r.memory_limit = 32 << 20;
  r.memory_swap = 48 << 20;
  log = apply (f, &r);
  assert_string_equal (log, "memory/arca-t/memory.limit_in_bytes 33554432\n"
                            "memory/arca-t/memory.memsw.limit_in_bytes 50331648\n");
  free (log);

  /* Unlimited memory alone lifts memsw too, memsw first. */
  fake_writes_reset (f->root);
  r.has_memory_swap = false;
  r.memory_limit = -1;
  log = apply (f, &r);
  assert_string_equal (log, "memory/arca-t/memory.memsw.limit_in_bytes -1\n"
                            "memory/arca-t/memory.limit_in_bytes -1\n");
  free (log);
}

static void
test_memory_other_knobs (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_memory_reservation = r.has_memory_swappiness = r.has_disable_oom_killer = true;
  r.has_memory_kernel_tcp = r.has_use_hierarchy = true;
  r.memory_reservation = 1 << 20;
  r.memory_swappiness = 0;
  r.disable_oom_killer = true;
  r.memory_kernel_tcp = 4 << 20;
  r.use_hierarchy = true;
  log = apply (f, &r);
  assert_string_equal (log, "memory/arca-t/memory.use_hierarchy 1\n"
                            "memory/arca-t/memory.soft_limit_in_bytes 1048576\n"
                            "memory/arca-t/memory.kmem.tcp.limit_in_bytes 4194304\n"
                            "memory/arca-t/memory.swappiness 0\n"
                            "memory/arca-t/memory.oom_control 1\n");
}

static void
test_memory_errors (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };

  /* This fake kernel has no memory.kmem.limit_in_bytes. */
  r.has_memory_kernel = true;
  r.memory_kernel = 1 << 20;
  apply_fails (f, &r, "linux.resources.memory.kernel: not supported by this kernel (no `");
  apply_fails (f, &r, "/memory/arca-t/memory.kmem.limit_in_bytes`");

  memset (&r, 0, sizeof (r));
  r.has_memory_swappiness = true;
  r.memory_swappiness = 101;
  apply_fails (f, &r, "linux.resources.memory.swappiness: 101 is not in [0, 100]");

  memset (&r, 0, sizeof (r));
  r.has_memory_limit = r.has_memory_swap = true;
  r.memory_limit = 100;
  r.memory_swap = 50;
  apply_fails (f, &r, "linux.resources.memory.swap: memory+swap (50) must not be below");

  /* Swap accounting off: memsw is missing. */
  memset (&r, 0, sizeof (r));
  cleanup_free char *p = fake_path (f->root, "memory/arca-t/memory.memsw.limit_in_bytes");
  assert_int_equal (unlink (p), 0);
  r.has_memory_limit = r.has_memory_swap = true;
  r.memory_limit = 100;
  r.memory_swap = 200;
  apply_fails (f, &r, "linux.resources.memory.swap: not supported by this kernel");
  apply_fails (f, &r, "swap accounting is off");
}

static void
test_kernel_memory_when_present (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  fake_put (f->root, "memory/arca-t/memory.kmem.limit_in_bytes", "");
  r.has_memory_kernel = true;
  r.memory_kernel = 1 << 20;
  log = apply (f, &r);
  assert_string_equal (log, "memory/arca-t/memory.kmem.limit_in_bytes 1048576\n");
}

/* ---- cpu, cpuset, pids -------------------------------------------------- */

static void
test_cpu (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *log = NULL;

  r.has_cpu_shares = r.has_cpu_quota = r.has_cpu_period = r.has_cpu_burst = true;
  r.has_cpu_realtime_period = r.has_cpu_realtime_runtime = r.has_cpu_idle = true;
  r.cpu_shares = 512;
  r.cpu_quota = 20000;
  r.cpu_period = 100000;
  r.cpu_burst = 1000;
  r.cpu_realtime_period = 1000000;
  r.cpu_realtime_runtime = 950000;
  r.cpu_idle = 0;
  r.cpu_cpus = (char *)"1";
  r.cpu_mems = (char *)"0";
  log = apply (f, &r);
  assert_string_equal (log, "cpu,cpuacct/arca-t/cpu.rt_period_us 1000000\n"
                            "cpu,cpuacct/arca-t/cpu.rt_runtime_us 950000\n"
                            "cpu,cpuacct/arca-t/cpu.shares 512\n"
                            "cpu,cpuacct/arca-t/cpu.cfs_period_us 100000\n"
                            "cpu,cpuacct/arca-t/cpu.cfs_quota_us 20000\n"
                            "cpu,cpuacct/arca-t/cpu.cfs_burst_us 1000\n"
                            "cpu,cpuacct/arca-t/cpu.idle 0\n"
                            "cpuset/arca-t/cpuset.cpus 1\n"
                            "cpuset/arca-t/cpuset.mems 0\n");
}

static void
test_cpu_realtime_missing (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  cleanup_free char *p = fake_path (f->root, "cpu,cpuacct/arca-t/cpu.rt_runtime_us");

  assert_int_equal (unlink (p), 0);
  /* Refused before the first write: the memory and pids limits that come
   * earlier are not written either (apply_fails checks the log). */
  r.has_memory_limit = r.has_pids_limit = true;
  r.memory_limit = 1 << 20;
  r.pids_limit = 3;
  r.has_cpu_realtime_runtime = true;
  r.cpu_realtime_runtime = 1000;
  apply_fails (f, &r, "linux.resources.cpu.realtimeRuntime: not supported by this kernel");
  apply_fails (f, &r, "CONFIG_RT_GROUP_SCHED");
  r.has_cpu_realtime_runtime = false;
  struct arca_oci_device_cgroup d = { true, 'x', 1, 3, "rw" };
  r.devices = &d;
  r.n_devices = 1;
  apply_fails (f, &r, "linux.resources.devices[0].type: invalid type 'x'");
  d.type = 'c';
  strcpy (d.access, "rq");
  apply_fails (f, &r, "linux.resources.devices[0].access: invalid \"rq\"");
  r.n_devices = 0;
  r.cpu_cpus = (char *)"a";
  r.has_cpu_realtime_runtime = false;
  apply_fails (f, &r, "linux.resources.cpu.cpus: invalid list \"a\"");
}

static void
test_pids_limit (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  char *log;

  r.has_pids_limit = true;
  r.pids_limit = 10;
  log = apply (f, &r);
  assert_string_equal (log, "pids/arca-t/pids.max 10\n");
  free (log);
  fake_writes_reset (f->root);
  r.pids_limit = -1;
  log = apply (f, &r);
  assert_string_equal (log, "pids/arca-t/pids.max max\n");
  free (log);
}

/* ---- blkio, hugetlb, devices, unified ----------------------------------- */

static void
test_blkio (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_weight_device wd = { .major = 8, .minor = 0, .has_weight = true, .weight = 300 };
  struct arca_oci_throttle_device rb = { 8, 0, 1048576 }, wi = { 8, 16, 50 };
  char *log;

  r.has_blkio_weight = true;
  r.blkio_weight = 500;
  r.blkio_weight_devices = &wd;
  r.n_blkio_weight_devices = 1;
  r.blkio_throttle_read_bps = &rb;
  r.n_blkio_throttle_read_bps = 1;
  r.blkio_throttle_write_iops = &wi;
  r.n_blkio_throttle_write_iops = 1;
  log = apply (f, &r);
  assert_string_equal (log, "blkio/arca-t/blkio.weight 500\n"
                            "blkio/arca-t/blkio.weight_device 8:0 300\n"
                            "blkio/arca-t/blkio.throttle.read_bps_device 8:0 1048576\n"
                            "blkio/arca-t/blkio.throttle.write_iops_device 8:16 50\n");
  free (log);

  /* Without CFQ only the BFQ names exist. */
  fake_writes_reset (f->root);
  cleanup_free char *p = fake_path (f->root, "blkio/arca-t/blkio.weight");
  assert_int_equal (unlink (p), 0);
  fake_put (f->root, "blkio/arca-t/blkio.bfq.weight", "");
  fake_put (f->root, "blkio/arca-t/blkio.bfq.weight_device", "");
  r.n_blkio_throttle_read_bps = r.n_blkio_throttle_write_iops = 0;
  log = apply (f, &r);
  assert_string_equal (log, "blkio/arca-t/blkio.bfq.weight 500\n"
                            "blkio/arca-t/blkio.bfq.weight_device 8:0 300\n");
  free (log);

  fake_writes_reset (f->root);
  memset (&r, 0, sizeof (r));
  r.has_blkio_leaf_weight = true;
  r.blkio_leaf_weight = 10;
  apply_fails (f, &r, "linux.resources.blockIO.leafWeight: not supported by this kernel");
}

static void
test_hugetlb_v1 (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_hugepage_limit l[] = { { (char *)"2MB", 1 << 21 }, { (char *)"1GB", 0 } };
  cleanup_free char *log = NULL;

  r.hugepage_limits = l;
  r.n_hugepage_limits = 2;
  log = apply (f, &r);
  assert_string_equal (log, "hugetlb/arca-t/hugetlb.2MB.limit_in_bytes 2097152\n"
                            "hugetlb/arca-t/hugetlb.2MB.rsvd.limit_in_bytes 2097152\n"
                            "hugetlb/arca-t/hugetlb.1GB.limit_in_bytes 0\n");
  fake_writes_reset (f->root);
  l[1].page_size = (char *)"16GB";
  apply_fails (f, &r,
               "linux.resources.hugepageLimits[1].pageSize: page size 16GB is not supported");
}

static void
test_hugetlb_hybrid (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_hugepage_limit l[] = { { (char *)"2MB", 1 << 21 }, { (char *)"1GB", 0 } };
  cleanup_free char *log = NULL, *ctl = NULL;

  /* create enabled hugetlb for the new cgroup in the cgroup2 mount. */
  ctl = fake_get (f->root, "unified/arca-t/cgroup.controllers");
  assert_string_equal (ctl, "hugetlb\n");
  r.hugepage_limits = l;
  r.n_hugepage_limits = 2;
  log = apply (f, &r);
  assert_string_equal (log, "unified/arca-t/hugetlb.2MB.max 2097152\n"
                            "unified/arca-t/hugetlb.1GB.max 0\n");
}

static void
test_device_rule_strings (void **state)
{
  struct arca_oci_device_cgroup d = { true, 'c', 1, 3, "rwm" };
  char buf[64];

  assert_int_equal (arca_cgroup_v1_device_rule (&d, buf, sizeof (buf)), 9);
  assert_string_equal (buf, "c 1:3 rwm");
  d = (struct arca_oci_device_cgroup){ false, 'a', -1, -1, "rwm" };
  arca_cgroup_v1_device_rule (&d, buf, sizeof (buf));
  assert_string_equal (buf, "a *:* rwm");
  d = (struct arca_oci_device_cgroup){ true, 'b', 8, -1, "r" };
  arca_cgroup_v1_device_rule (&d, buf, sizeof (buf));
  assert_string_equal (buf, "b 8:* r");
  d = (struct arca_oci_device_cgroup){ true, 'c', -1, 200, "" };
  arca_cgroup_v1_device_rule (&d, buf, sizeof (buf));
  assert_string_equal (buf, "c *:200 rwm");
  assert_int_equal (arca_cgroup_v1_device_rule (&d, buf, 5), -1);
}

static void
test_devices (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_device_cgroup d[] = {
    { false, 'a', -1, -1, "rwm" },
    { true, 'c', 1, 3, "rwm" },
    { true, 'c', 136, -1, "rw" },
    { false, 'b', 8, -1, "m" },
  };
  char *log;

  r.devices = d;
  r.n_devices = ARRAY_SIZE (d);
  log = apply (f, &r);
  assert_string_equal (log, "devices/arca-t/devices.deny a\n"
                            "devices/arca-t/devices.allow c 1:3 rwm\n"
                            "devices/arca-t/devices.allow c 136:* rw\n"
                            "devices/arca-t/devices.deny b 8:* m\n");
  free (log);

  /* No leading deny-all: the rules go in as they are. */
  fake_writes_reset (f->root);
  r.devices = d + 1;
  r.n_devices = 1;
  log = apply (f, &r);
  assert_string_equal (log, "devices/arca-t/devices.allow c 1:3 rwm\n");
  free (log);
}

static void
test_unified_needs_v2 (void **state)
{
  struct fx *f = *state;
  struct arca_oci_resources r = { 0 };
  struct arca_oci_unified_entry u = { (char *)"hugetlb.2MB.max", (char *)"1" };

  r.unified = &u;
  r.n_unified = 1;
  apply_fails (f, &r, "linux.resources.unified: needs cgroup v2");
}

/* ---- freezer, stats, kill ----------------------------------------------- */

static void
test_freezer (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL;
  bool frozen = false;

  assert_int_equal (arca_cgroup_freeze (f->cg, true, &err), 0);
  assert_int_equal (arca_cgroup_is_frozen (f->cg, &frozen, &err), 0);
  assert_true (frozen);
  assert_int_equal (arca_cgroup_freeze (f->cg, false, &err), 0);
  assert_int_equal (arca_cgroup_is_frozen (f->cg, &frozen, &err), 0);
  assert_false (frozen);
  log = fake_writes (f->root);
  assert_string_equal (log, "freezer/arca-t/freezer.state FROZEN\n"
                            "freezer/arca-t/freezer.state THAWED\n");
}

static void
test_kill_freezes_around_signal (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *log = NULL;

  assert_int_equal (arca_cgroup_kill (f->cg, SIGKILL, &err), 0);
  log = fake_writes (f->root);
  assert_string_equal (log, "freezer/arca-t/freezer.state FROZEN\n"
                            "freezer/arca-t/freezer.state THAWED\n");
}

static void
test_stats_v1 (void **state)
{
  struct fx *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_cgroup_stats st;

  fake_put (f->root, "cpu,cpuacct/arca-t/cpuacct.usage", "123456\n");
  fake_put (f->root, "memory/arca-t/memory.usage_in_bytes", "8192\n");
  fake_put (f->root, "pids/arca-t/pids.current", "2\n");
  fake_put (f->root, "pids/arca-t/pids.max", "max\n");
  fake_put (f->root, "blkio/arca-t/blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 100\n8:0 Write 50\n8:0 Sync 150\n8:16 Read 1\nTotal 151\n");
  assert_int_equal (arca_cgroup_stats (f->cg, &st, &err), 0);
  assert_int_equal (st.cpu_usage_ns, 123456);
  assert_int_equal (st.memory_usage, 8192);
  assert_true (st.memory_limit == UINT64_MAX);
  assert_int_equal (st.pids_current, 2);
  assert_true (st.pids_limit == UINT64_MAX);
  assert_int_equal (st.blkio_read_bytes, 101);
  assert_int_equal (st.blkio_write_bytes, 50);
}

#define BOTH(t)                                                                                    \
  cmocka_unit_test_prestate_setup_teardown (t, setup_v1, teardown, NULL),                          \
      cmocka_unit_test_prestate_setup_teardown (t, setup_hybrid, teardown, NULL)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    BOTH (test_detect_and_hierarchies),
    cmocka_unit_test (test_create_writes),
    cmocka_unit_test (test_failed_create_removes_what_it_made),
    cmocka_unit_test (test_relative_path),
    BOTH (test_destroy_leaves_nothing),
    BOTH (test_enter_every_hierarchy),
    cmocka_unit_test (test_memsw_first),
    BOTH (test_memory_order),
    cmocka_unit_test_setup_teardown (test_memory_other_knobs, setup_v1, teardown),
    cmocka_unit_test_setup_teardown (test_memory_errors, setup_v1, teardown),
    cmocka_unit_test_setup_teardown (test_kernel_memory_when_present, setup_v1, teardown),
    BOTH (test_cpu),
    cmocka_unit_test_setup_teardown (test_cpu_realtime_missing, setup_v1, teardown),
    cmocka_unit_test_setup_teardown (test_pids_limit, setup_v1, teardown),
    cmocka_unit_test_setup_teardown (test_blkio, setup_v1, teardown),
    cmocka_unit_test_setup_teardown (test_hugetlb_v1, setup_v1, teardown),
    cmocka_unit_test_setup_teardown (test_hugetlb_hybrid, setup_hybrid, teardown),
    cmocka_unit_test (test_device_rule_strings),
    BOTH (test_devices),
    BOTH (test_unified_needs_v2),
    BOTH (test_freezer),
    BOTH (test_kill_freezes_around_signal),
    cmocka_unit_test_setup_teardown (test_stats_v1, setup_v1, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
