/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup concern on the real host (/sys/fs/cgroup): detect, create,
 * apply, enter a child, freeze/thaw, kill, destroy; then check the kernel
 * files and that no directory is left in any hierarchy.  Skipped when not
 * root or without a cgroup file system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/magic.h>

#include "cgroup/cgroup-internal.h"
#include "fake-tree.h"

#define FS_ROOT "/sys/fs/cgroup"

/* Root, a cgroup file system, and leave to create cgroups in it (a CI
 * container may be root with a read-only or undelegated /sys/fs/cgroup). */
static bool
usable (void)
{
  static const char *const probes[] = { FS_ROOT "/memory", FS_ROOT "/pids", FS_ROOT };
  struct statfs st;
  char p[256];

  if (geteuid () != 0 || statfs (FS_ROOT, &st) < 0)
    return false;
  if (st.f_type != TMPFS_MAGIC && st.f_type != CGROUP2_SUPER_MAGIC
      && st.f_type != CGROUP_SUPER_MAGIC)
    return false;
  for (size_t i = 0; i < ARRAY_SIZE (probes); i++)
    {
      struct statfs hs;
      if (statfs (probes[i], &hs) < 0
          || (hs.f_type != CGROUP_SUPER_MAGIC && hs.f_type != CGROUP2_SUPER_MAGIC))
        continue;
      snprintf (p, sizeof (p), "%s/arca-unit-%d-probe", probes[i], (int) getpid ());
      if (mkdir (p, 0755) < 0)
        return false;
      return rmdir (p) == 0;
    }
  return false;
}

/* The layout as seen independently of cgroup.c. */
static enum arca_cgroup_mode
expected_mode (void)
{
  struct statfs st;
  assert_int_equal (statfs (FS_ROOT, &st), 0);
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    return ARCA_CGROUP_V2;
  if (statfs (FS_ROOT "/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return ARCA_CGROUP_HYBRID;
  return ARCA_CGROUP_V1;
}

/* Contents of an absolute path, trailing newline cut. */
static char *
slurp (const char *path)
{
  cleanup_error arca_error *err = NULL;
  char *data = NULL;
  if (arca_read_file_at (AT_FDCWD, path, 1 << 20, &data, NULL, &err) < 0)
    fail_msg ("read %s: %s", path, msg (err));
  data[strcspn (data, "\n")] = '\0';
  return data;
}

static char *
knob (const char *hier, const char *name, const char *file)
{
  char p[512];
  snprintf (p, sizeof (p), FS_ROOT "/%s/%s/%s", hier, name, file);
  return slurp (p);
}

/* A child that waits for commands on a pipe: 'o' = try /dev/null and
 * /dev/zero and answer two letters (y/n), 'q' = exit. */
struct child
{
  pid_t pid;
  int cmd, answer;
};

static void
child_main (int cmd, int answer)
{
  char c;
  while (read (cmd, &c, 1) == 1)
    {
      if (c == 'q')
        _exit (0);
      if (c == 'o')
        {
          char out[2];
          int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
          out[0] = fd >= 0 ? 'y' : 'n';
          if (fd >= 0)
            close (fd);
          fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
          out[1] = fd >= 0 ? 'y' : 'n';
          if (fd >= 0)
            close (fd);
          if (write (answer, out, 2) != 2)
            _exit (2);
        }
    }
  _exit (1);
}

static void
spawn (struct child *c)
{
  int to[2], from[2];
  assert_int_equal (pipe2 (to, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (from, O_CLOEXEC), 0);
  c->pid = fork ();
  assert_true (c->pid >= 0);
  if (c->pid == 0)
    {
      close (to[1]);
      close (from[0]);
      child_main (to[0], from[1]);
    }
  close (to[0]);
  close (from[1]);
  c->cmd = to[1];
  c->answer = from[0];
}

/* "yn": /dev/null opened, /dev/zero refused. */
static void
probe_devices (struct child *c, char out[3])
{
  assert_int_equal (write (c->cmd, "o", 1), 1);
  assert_int_equal (read (c->answer, out, 2), 2);
  out[2] = '\0';
}

static void
reap (struct child *c, int *ret_status)
{
  assert_int_equal (waitpid (c->pid, ret_status, 0), c->pid);
  close (c->cmd);
  close (c->answer);
}

/* No directory named name anywhere below /sys/fs/cgroup/<hierarchy>/. */
static void
assert_gone_everywhere (const char *name)
{
  cleanup_dir DIR *d = opendir (FS_ROOT);
  struct dirent *de;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    {
      char p[512];
      if (de->d_name[0] == '.')
        continue;
      snprintf (p, sizeof (p), FS_ROOT "/%s/%s", de->d_name, name);
      if (access (p, F_OK) == 0)
        fail_msg ("`%s` is left behind", p);
    }
  /* The unified directory counts as well (v2: the root itself). */
  {
    char p[512];
    snprintf (p, sizeof (p), FS_ROOT "/%s", name);
    if (access (p, F_OK) == 0)
      fail_msg ("`%s` is left behind", p);
  }
}

static void
test_detect (void **state)
{
  cleanup_error arca_error *err = NULL;
  enum arca_cgroup_mode mode = 0;

  if (!usable ())
    skip ();
  assert_int_equal (arca_cgroup_detect (FS_ROOT, &mode, &err), 0);
  assert_int_equal (mode, expected_mode ());
}

static void
test_life_cycle (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  cleanup_free pid_t *pids = NULL;
  struct arca_oci_resources r = { 0 };
  struct arca_cgroup_stats st;
  struct child c;
  char name[64], path[80], line[128];
  size_t n = 0;
  bool frozen = true;
  int status;

  if (!usable () || expected_mode () == ARCA_CGROUP_V2)
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d", (int)getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_mode (cg), expected_mode ());
  if (arca_cgroup_create (cg, &err) < 0)
    fail_msg ("create: %s", msg (err));

  r.has_memory_limit = r.has_pids_limit = r.has_cpu_shares = true;
  r.memory_limit = 64 << 20;
  r.pids_limit = 10;
  r.cpu_shares = 512;
  if (arca_cgroup_apply (cg, &r, &err) < 0)
    fail_msg ("apply: %s", msg (err));
  {
    cleanup_free char *mem = knob ("memory", name, "memory.limit_in_bytes");
    cleanup_free char *pmax = knob ("pids", name, "pids.max");
    cleanup_free char *shares = knob ("cpu", name, "cpu.shares");
    cleanup_free char *cpus = knob ("cpuset", name, "cpuset.cpus");
    cleanup_free char *root_cpus = slurp (FS_ROOT "/cpuset/cpuset.cpus");
    assert_string_equal (mem, "67108864");
    assert_string_equal (pmax, "10");
    assert_string_equal (shares, "512");
    /* create copied the parent's cpuset so tasks can join. */
    assert_string_equal (cpus, root_cpus);
  }

  spawn (&c);
  if (arca_cgroup_enter (cg, c.pid, &err) < 0)
    fail_msg ("enter: %s", msg (err));
  {
    char p[64];
    cleanup_free char *own = NULL;
    snprintf (p, sizeof (p), "/proc/%d/cgroup", (int)c.pid);
    own = NULL;
    assert_int_equal (arca_read_file_at (AT_FDCWD, p, 1 << 16, &own, NULL, &err), 0);
    snprintf (line, sizeof (line), ":memory:%s\n", path);
    assert_non_null (strstr (own, line));
    snprintf (line, sizeof (line), ":pids:%s\n", path);
    assert_non_null (strstr (own, line));
    if (expected_mode () == ARCA_CGROUP_HYBRID)
      {
        snprintf (line, sizeof (line), "0::%s\n", path);
        assert_non_null (strstr (own, line));
      }
  }
  assert_int_equal (arca_cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_int_equal (pids[0], c.pid);

  assert_int_equal (arca_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.pids_current, 1);
  assert_int_equal (st.pids_limit, 10);
  assert_int_equal (st.memory_limit, 64 << 20);

  assert_int_equal (arca_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);
  if (arca_cgroup_freeze (cg, true, &err) < 0)
    fail_msg ("freeze: %s", msg (err));
  assert_int_equal (arca_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_true (frozen);
  {
    cleanup_free char *state_ = knob ("freezer", name, "freezer.state");
    assert_string_equal (state_, "FROZEN");
  }
  assert_int_equal (arca_cgroup_freeze (cg, false, &err), 0);
  assert_int_equal (arca_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);
  {
    /* Thawed, the child answers again. */
    char out[3];
    probe_devices (&c, out);
    assert_string_equal (out, "yy");
  }

  if (arca_cgroup_kill (cg, SIGKILL, &err) < 0)
    fail_msg ("kill: %s", msg (err));
  reap (&c, &status);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGKILL);

  if (arca_cgroup_destroy (cg, &err) < 0)
    fail_msg ("destroy: %s", msg (err));
  assert_gone_everywhere (name);
}

static void
test_destroy_kills_what_is_left (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  struct child c;
  char name[64], path[80];
  int status;

  if (!usable ())
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-b", (int)getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  spawn (&c);
  assert_int_equal (arca_cgroup_enter (cg, c.pid, &err), 0);
  if (arca_cgroup_destroy (cg, &err) < 0)
    fail_msg ("destroy: %s", msg (err));
  reap (&c, &status);
  assert_true (WIFSIGNALED (status));
  assert_gone_everywhere (name);
}

/* A relative cgroupsPath lands below our cgroup2 cgroup in every
 * hierarchy, and the recorded path opens the same directories again. */
static void
test_relative_path (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL, *again = NULL;
  cleanup_free char *own = NULL;
  const struct arca_cgroup_hierarchy *h, *h2;
  char name[64], want[512];
  const char *self;
  size_t n;

  if (!usable () || expected_mode () == ARCA_CGROUP_V1)
    skip ();
  assert_int_equal (arca_read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &own, NULL, &err),
                    0);
  self = strstr (own, "0::");
  assert_non_null (self);
  self += 3;
  snprintf (name, sizeof (name), "arca-unit-%d-rel", (int) getpid ());
  snprintf (want, sizeof (want), "%.*s%s%s", (int) strcspn (self, "\n"), self,
            self[1] == '\n' ? "" : "/", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, name, &cg, &err), 0);
  assert_string_equal (arca_cgroup_path (cg), want);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  n = arca_cgroup_hierarchies (cg, &h);
  assert_int_equal (arca_cgroup_open (FS_ROOT, arca_cgroup_path (cg), &again, &err), 0);
  assert_int_equal (arca_cgroup_hierarchies (again, &h2), n);
  for (size_t i = 0; i < n; i++)
    {
      assert_string_equal (h2[i].host_dir, h[i].host_dir);
      assert_int_equal (access (h[i].host_dir, F_OK), 0);
    }
  assert_int_equal (arca_cgroup_destroy (again, &err), 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal (access (h[i].host_dir, F_OK), -1);
}

/* A create that fails half way removes the directories it made, in every
 * hierarchy: here the second path component names a knob file. */
static void
test_failed_create_leaves_nothing (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  char name[64], path[128];

  if (!usable ())
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-f", (int)getpid ());
  snprintf (path, sizeof (path), "/%s/cgroup.procs", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), -1);
  assert_int_equal (err->errnum, ENOTDIR);
  assert_error_has (err, "mkdir `" FS_ROOT "/");
  assert_error_has (err, "/cgroup.procs`: exists and is no directory");
  assert_gone_everywhere (name);
}

/* v1 devices controller (and, on hybrid, hugetlb in the cgroup2 mount). */
static void
test_devices_and_hugetlb (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  struct arca_oci_device_cgroup d[] = { { false, 'a', -1, -1, "rwm" }, { true, 'c', 1, 3, "rwm" } };
  struct arca_oci_hugepage_limit l = { (char *)"2MB", 4 << 21 };
  struct arca_oci_resources r = { 0 };
  struct child c;
  char name[64], path[80], out[3];
  int status;

  if (!usable () || expected_mode () == ARCA_CGROUP_V2)
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-d", (int)getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  spawn (&c);
  assert_int_equal (arca_cgroup_enter (cg, c.pid, &err), 0);
  probe_devices (&c, out);
  assert_string_equal (out, "yy");

  r.devices = d;
  r.n_devices = 2;
  if (arca_cgroup_find (cg, "hugetlb") != NULL
      && access ("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0)
    {
      r.hugepage_limits = &l;
      r.n_hugepage_limits = 1;
    }
  if (arca_cgroup_apply (cg, &r, &err) < 0)
    fail_msg ("apply: %s", msg (err));
  {
    cleanup_free char *list = knob ("devices", name, "devices.list");
    assert_string_equal (list, "c 1:3 rwm");
  }
  probe_devices (&c, out);
  assert_string_equal (out, "yn");
  if (r.n_hugepage_limits && expected_mode () == ARCA_CGROUP_HYBRID)
    {
      cleanup_free char *h = knob ("unified", name, "hugetlb.2MB.max");
      assert_string_equal (h, "8388608");
    }

  assert_int_equal (write (c.cmd, "q", 1), 1);
  reap (&c, &status);
  assert_true (WIFEXITED (status));
  assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
  assert_gone_everywhere (name);
}

/* The kernel keeps memory <= memory+swap at every moment: growing and
 * shrinking both limits only works with the right order of writes. */
static void
test_memsw_update_order (void **state)
{
  static const int64_t steps[][2] = {
    { 64 << 20, 128 << 20 }, { 256 << 20, 512 << 20 }, { 32 << 20, 48 << 20 }, { -1, -1 },
  };
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  char name[64], path[80], p[256];

  if (!usable () || expected_mode () == ARCA_CGROUP_V2)
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-mem", (int) getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  snprintf (p, sizeof (p), FS_ROOT "/memory/%s/memory.memsw.limit_in_bytes", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  if (access (p, F_OK) < 0)
    {
      assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
      skip ();
    }
  for (size_t i = 0; i < ARRAY_SIZE (steps); i++)
    {
      struct arca_oci_resources r = { 0 };
      cleanup_free char *mem = NULL, *memsw = NULL;

      r.has_memory_limit = r.has_memory_swap = true;
      r.memory_limit = steps[i][0];
      r.memory_swap = steps[i][1];
      if (arca_cgroup_apply (cg, &r, &err) < 0)
        fail_msg ("step %zu: %s", i, msg (err));
      mem = knob ("memory", name, "memory.limit_in_bytes");
      memsw = knob ("memory", name, "memory.memsw.limit_in_bytes");
      if (steps[i][0] > 0)
        {
          assert_int_equal (strtoll (mem, NULL, 10), steps[i][0]);
          assert_int_equal (strtoll (memsw, NULL, 10), steps[i][1]);
        }
      else
        {
          /* Unlimited reads back as PAGE_COUNTER_MAX in bytes. */
          assert_true (strtoull (mem, NULL, 10) > (1ULL << 62));
          assert_true (strtoull (memsw, NULL, 10) > (1ULL << 62));
        }
    }
  assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
  assert_gone_everywhere (name);
}

/* The kernel refuses a quota below the burst in force: an update lowering
 * both must still succeed (the refused write is retried after the other). */
static void
test_cpu_bandwidth_update (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  struct arca_oci_resources r = { 0 };
  char name[64], path[80];

  if (!usable () || expected_mode () == ARCA_CGROUP_V2)
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-cpu", (int)getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);

  r.has_cpu_quota = r.has_cpu_period = true;
  r.cpu_quota = 20000;
  r.cpu_period = 100000;
  if (arca_cgroup_find_v1 (cg, "cpu") != NULL
      && arca_cgroup_file_exists (arca_cgroup_find_v1 (cg, "cpu")->dir, "cpu.cfs_burst_us"))
    {
      r.has_cpu_burst = true;
      r.cpu_burst = 20000;
    }
  if (arca_cgroup_apply (cg, &r, &err) < 0)
    fail_msg ("apply: %s", msg (err));
  r.has_cpu_period = false;
  r.cpu_quota = 10000;
  r.cpu_burst = 5000;
  if (arca_cgroup_apply (cg, &r, &err) < 0)
    fail_msg ("update: %s", msg (err));
  {
    cleanup_free char *q = knob ("cpu", name, "cpu.cfs_quota_us");
    cleanup_free char *p = knob ("cpu", name, "cpu.cfs_period_us");
    assert_string_equal (q, "10000");
    assert_string_equal (p, "100000");
    if (r.has_cpu_burst)
      {
        cleanup_free char *b = knob ("cpu", name, "cpu.cfs_burst_us");
        assert_string_equal (b, "5000");
      }
  }
  /* A quota the kernel refuses names the field, the file and errno. */
  memset (&r, 0, sizeof (r));
  r.has_cpu_quota = true;
  r.cpu_quota = 10;
  assert_int_equal (arca_cgroup_apply (cg, &r, &err), -1);
  assert_error_has (err, "linux.resources.cpu.quota: write `10` to `" FS_ROOT "/cpu/");
  assert_int_equal (err->errnum, EINVAL);
  arca_error_free (err);
  err = NULL;

  assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
  assert_gone_everywhere (name);
}

/* The v2 writers on the real cgroup2 mount of a hybrid host: cgroup.freeze
 * with the wait on cgroup.events, cgroup.kill, unified entries, hugetlb.  A
 * V2 view of the container's unified directory drives them. */
static void
test_v2_paths_on_unified_mount (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  struct arca_cgroup_hier uh;
  struct arca_cgroup view;
  struct arca_oci_unified_entry u[] = { { (char *)"hugetlb.2MB.max", (char *)"4194304" } };
  struct arca_oci_resources r = { 0 };
  struct arca_cgroup_stats st;
  struct pollfd pfd;
  struct child c;
  char name[64], path[80], out[3];
  bool frozen = true;
  int status;

  if (!usable () || expected_mode () != ARCA_CGROUP_HYBRID)
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-v2", (int)getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  assert_non_null (arca_cgroup_unified (cg));
  uh = *arca_cgroup_unified (cg);
  view = (struct arca_cgroup){
    .mode = ARCA_CGROUP_V2, .fs_root = uh.mount, .path = cg->path, .hiers = &uh, .n_hiers = 1
  };
  spawn (&c);
  assert_int_equal (arca_cgroup_enter (cg, c.pid, &err), 0);

  if (arca_cgroup_freeze (&view, true, &err) < 0)
    fail_msg ("freeze: %s", msg (err));
  assert_int_equal (arca_cgroup_is_frozen (&view, &frozen, &err), 0);
  assert_true (frozen);
  /* Frozen, the child does not answer... */
  assert_int_equal (write (c.cmd, "o", 1), 1);
  pfd = (struct pollfd){ .fd = c.answer, .events = POLLIN };
  assert_int_equal (poll (&pfd, 1, 200), 0);
  /* ...thawed, it does. */
  if (arca_cgroup_freeze (&view, false, &err) < 0)
    fail_msg ("thaw: %s", msg (err));
  assert_int_equal (arca_cgroup_is_frozen (&view, &frozen, &err), 0);
  assert_false (frozen);
  assert_int_equal (read (c.answer, out, 2), 2);

  assert_int_equal (arca_cgroup_stats (&view, &st, &err), 0);
  assert_true (st.cpu_usage_ns > 0);

  /* Unified entries go to the file as written; a controller this mount
   * does not have is refused by name. */
  r.unified = u;
  r.n_unified = 1;
  if (arca_cgroup_find (cg, "hugetlb") != NULL
      && access ("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0)
    {
      cleanup_free char *h = NULL;
      if (arca_cgroup_apply (&view, &r, &err) < 0)
        fail_msg ("apply unified: %s", msg (err));
      h = knob ("unified", name, "hugetlb.2MB.max");
      assert_string_equal (h, "4194304");
    }
  u[0].key = (char *)"memory.max";
  assert_int_equal (arca_cgroup_apply (&view, &r, &err), -1);
  assert_error_has (err, "linux.resources.unified.\"memory.max\": the memory controller is not "
                         "available");
  arca_error_free (err);
  err = NULL;

  /* SIGKILL through cgroup.kill. */
  if (arca_cgroup_kill (&view, SIGKILL, &err) < 0)
    fail_msg ("kill: %s", msg (err));
  reap (&c, &status);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGKILL);

  assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
  assert_gone_everywhere (name);
}

/* Number of programs named arca_devices attached to dir. */
static int
count_ours (const char *dir)
{
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  uint32_t ids[16];
  union bpf_attr attr;
  int n = 0;

  assert_true (fd >= 0);
  memset (&attr, 0, sizeof (attr));
  attr.query.target_fd = (uint32_t)fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = 16;
  assert_int_equal (syscall (SYS_bpf, BPF_PROG_QUERY, &attr, sizeof (attr)), 0);
  for (uint32_t i = 0; i < attr.query.prog_cnt; i++)
    {
      struct bpf_prog_info info;
      union bpf_attr a;
      int pfd;
      memset (&a, 0, sizeof (a));
      a.prog_id = ids[i];
      pfd = (int)syscall (SYS_bpf, BPF_PROG_GET_FD_BY_ID, &a, sizeof (a));
      assert_true (pfd >= 0);
      memset (&info, 0, sizeof (info));
      memset (&a, 0, sizeof (a));
      a.info.bpf_fd = (uint32_t)pfd;
      a.info.info_len = sizeof (info);
      a.info.info = (uint64_t)(uintptr_t)&info;
      assert_int_equal (syscall (SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof (a)), 0);
      close (pfd);
      if (strcmp (info.name, ARCA_CGROUP_BPF_PROG_NAME) == 0)
        n++;
    }
  return n;
}

/* The eBPF device filter on a real cgroup2 directory (the unified mount of
 * a hybrid host works too: the kernel runs the filter before the v1
 * controller), replaced in place by a second apply. */
static void
test_bpf_device_filter (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  struct arca_oci_device_cgroup d[]
      = { { false, 'a', -1, -1, "rwm" }, { true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "r" } };
  const struct arca_cgroup_hier *u;
  struct child c;
  char name[64], path[80], out[3];
  int status;

  if (!usable () || expected_mode () == ARCA_CGROUP_V1)
    skip ();
  snprintf (name, sizeof (name), "arca-unit-%d-bpf", (int)getpid ());
  snprintf (path, sizeof (path), "/%s", name);
  assert_int_equal (arca_cgroup_open (FS_ROOT, path, &cg, &err), 0);
  assert_int_equal (arca_cgroup_create (cg, &err), 0);
  u = arca_cgroup_unified (cg);
  assert_non_null (u);
  spawn (&c);
  assert_int_equal (arca_cgroup_enter (cg, c.pid, &err), 0);

  /* Only /dev/null. */
  if (arca_cgroup_v2_devices_apply (u->dir, d, 2, &err) < 0)
    {
      bool perm = err->errnum == EPERM || err->errnum == ENOSYS;
      arca_error_free (err);
      err = NULL;
      assert_int_equal (write (c.cmd, "q", 1), 1);
      reap (&c, &status);
      assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
      if (perm)
        skip ();
      fail_msg ("attach failed");
    }
  assert_int_equal (count_ours (u->dir), 1);
  probe_devices (&c, out);
  assert_string_equal (out, "yn");

  /* Now /dev/zero for reading too; the old filter is gone. */
  if (arca_cgroup_v2_devices_apply (u->dir, d, 3, &err) < 0)
    fail_msg ("second attach: %s", msg (err));
  assert_int_equal (count_ours (u->dir), 1);
  probe_devices (&c, out);
  assert_string_equal (out, "yy");

  assert_int_equal (write (c.cmd, "q", 1), 1);
  reap (&c, &status);
  assert_int_equal (arca_cgroup_destroy (cg, &err), 0);
  assert_gone_everywhere (name);
}

/* After a failed test: remove this run's cgroups (tests name them
 * arca-unit-<pid>*), children first, so a failure does not leave host
 * state behind.  Thaws and kills what is inside (our children). */
static void
remove_cgroup (const char *p, int depth)
{
  cleanup_dir DIR *d = opendir (p);
  struct dirent *de;
  char f[1024];
  FILE *procs;
  int pid;

  if (d == NULL || depth > 8)
    return;
  while ((de = readdir (d)) != NULL)
    if (de->d_type == DT_DIR && de->d_name[0] != '.')
      {
        if (snprintf (f, sizeof (f), "%s/%s", p, de->d_name) < (int) sizeof (f))
          remove_cgroup (f, depth + 1);
      }
  snprintf (f, sizeof (f), "%s/freezer.state", p);
  if ((procs = fopen (f, "we")) != NULL)
    {
      fputs ("THAWED", procs);
      fclose (procs);
    }
  snprintf (f, sizeof (f), "%s/cgroup.procs", p);
  if ((procs = fopen (f, "re")) != NULL)
    {
      while (fscanf (procs, "%d", &pid) == 1)
        kill (pid, SIGKILL);
      fclose (procs);
    }
  for (int i = 0; i < 100 && rmdir (p) < 0 && errno == EBUSY; i++)
    {
      usleep (10000);
      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
    }
}

static int
remove_leftovers (void **state)
{
  cleanup_dir DIR *d = opendir (FS_ROOT);
  char prefix[64];
  struct dirent *de;

  if (d == NULL)
    return 0;
  snprintf (prefix, sizeof (prefix), "arca-unit-%d", (int)getpid ());
  while ((de = readdir (d)) != NULL)
    {
      cleanup_dir DIR *h = NULL;
      struct dirent *he;
      char hp[512];

      if (de->d_name[0] == '.')
        continue;
      snprintf (hp, sizeof (hp), FS_ROOT "/%s", de->d_name);
      if ((h = opendir (hp)) == NULL)
        continue;
      while ((he = readdir (h)) != NULL)
        if (strncmp (he->d_name, prefix, strlen (prefix)) == 0)
          {
            char p[800];
            snprintf (p, sizeof (p), "%s/%s", hp, he->d_name);
            remove_cgroup (p, 0);
          }
    }
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_detect),
    cmocka_unit_test (test_life_cycle),
    cmocka_unit_test (test_destroy_kills_what_is_left),
    cmocka_unit_test (test_failed_create_leaves_nothing),
    cmocka_unit_test (test_relative_path),
    cmocka_unit_test (test_devices_and_hugetlb),
    cmocka_unit_test (test_cpu_bandwidth_update),
    cmocka_unit_test (test_memsw_update_order),
    cmocka_unit_test (test_bpf_device_filter),
    cmocka_unit_test (test_v2_paths_on_unified_mount),
  };
  return cmocka_run_group_tests (tests, NULL, remove_leftovers);
}
