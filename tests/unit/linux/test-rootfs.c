/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux/rootfs: every case forks a child that enters a new mount namespace,
 * builds a container root from a temporary directory holding a static
 * busybox, pivots into it and checks, from inside, what the container sees
 * (/proc/self/mountinfo, stat, reads and writes).  The parent then checks
 * that the host saw nothing: no mount under the temporary directory, the
 * symlink target outside the rootfs untouched.  Needs root: skipped
 * otherwise. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "linux/rootfs.h"
#include "oci/config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* ---- fixture ----------------------------------------------------------- */

struct fixture
{
  char dir[64];          /* /tmp/arca-rootfs-XXXXXX */
  char rootfs[128];      /* dir/rootfs */
  char host_target[128]; /* dir/host-target: where rootfs/evil points */
  char src[128];         /* dir/src: a bind source directory */
  char src_file[128];    /* dir/src-file: a bind source file */
};

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "we");
  assert_non_null (f);
  fputs (text, f);
  assert_int_equal (fclose (f), 0);
}

static void
copy_file (const char *from, const char *to, mode_t mode)
{
  cleanup_close int in = open (from, O_RDONLY | O_CLOEXEC);
  cleanup_close int out = open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  char buf[65536];
  ssize_t n;

  assert_true (in >= 0);
  assert_true (out >= 0);
  while ((n = read (in, buf, sizeof (buf))) > 0)
    assert_int_equal (write (out, buf, (size_t)n), n);
  assert_int_equal (n, 0);
}

static void
fmt_path (char *buf, size_t size, const char *a, const char *b)
{
  int n = snprintf (buf, size, "%s/%s", a, b);
  assert_true (n > 0 && (size_t)n < size);
}

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof (*fx));
  char p[256];

  if (fx == NULL)
    return -1;
  strcpy (fx->dir, "/tmp/arca-rootfs-XXXXXX");
  if (mkdtemp (fx->dir) == NULL)
    return -1;
  fmt_path (fx->rootfs, sizeof (fx->rootfs), fx->dir, "rootfs");
  fmt_path (fx->host_target, sizeof (fx->host_target), fx->dir, "host-target");
  fmt_path (fx->src, sizeof (fx->src), fx->dir, "src");
  fmt_path (fx->src_file, sizeof (fx->src_file), fx->dir, "src-file");
  assert_int_equal (mkdir (fx->rootfs, 0755), 0);
  assert_int_equal (mkdir (fx->host_target, 0755), 0);
  assert_int_equal (mkdir (fx->src, 0755), 0);
  fmt_path (p, sizeof (p), fx->src, "hello");
  write_text (p, "hello from src\n");
  write_text (fx->src_file, "a bound file\n");

  fmt_path (p, sizeof (p), fx->rootfs, "bin");
  assert_int_equal (mkdir (p, 0755), 0);
  fmt_path (p, sizeof (p), fx->rootfs, "bin/busybox");
  copy_file ("/bin/busybox", p, 0755);
  fmt_path (p, sizeof (p), fx->rootfs, "etc");
  assert_int_equal (mkdir (p, 0755), 0);
  fmt_path (p, sizeof (p), fx->rootfs, "masked-dir");
  assert_int_equal (mkdir (p, 0755), 0);
  fmt_path (p, sizeof (p), fx->rootfs, "masked-dir/secret");
  write_text (p, "secret\n");
  fmt_path (p, sizeof (p), fx->rootfs, "masked-file");
  write_text (p, "secret\n");
  fmt_path (p, sizeof (p), fx->rootfs, "ro-dir");
  assert_int_equal (mkdir (p, 0755), 0);
  fmt_path (p, sizeof (p), fx->rootfs, "ro-file");
  write_text (p, "read-only\n");
  /* THE image symlink: an absolute link to a host directory. */
  fmt_path (p, sizeof (p), fx->rootfs, "evil");
  assert_int_equal (symlink (fx->host_target, p), 0);
  /* The same as the last component of a file bind destination, and as a
   * relative link climbing with "..". */
  {
    char target[256];
    fmt_path (target, sizeof (target), fx->host_target, "f");
    fmt_path (p, sizeof (p), fx->rootfs, "etc/evil-file");
    assert_int_equal (symlink (target, p), 0);
    snprintf (target, sizeof (target), "../../../../../../..%s", fx->host_target);
    fmt_path (p, sizeof (p), fx->rootfs, "dots");
    assert_int_equal (symlink (target, p), 0);
  }
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;
  cleanup_error arca_error *err = NULL;

  if (fx == NULL)
    return 0;
  /* Does not cross mount points: a leaked mount would survive, not its
   * contents be deleted. */
  arca_rm_rf_at (AT_FDCWD, fx->dir, &err);
  free (fx);
  return 0;
}

/* ---- mountinfo --------------------------------------------------------- */

struct mnt
{
  char root[PATH_MAX]; /* the mounted directory of its filesystem */
  char point[PATH_MAX];
  char opts[512]; /* per-mount options */
  char fstype[64];
  char super[1024];   /* superblock options */
  char optional[256]; /* "shared:N master:M" */
};

/* The last (topmost) entry whose mount point is `point`. */
static bool
find_mount (const char *mountinfo, const char *point, struct mnt *ret)
{
  cleanup_file FILE *f = fopen (mountinfo, "re");
  char line[4096];
  bool found = false;

  if (f == NULL)
    return false;
  while (fgets (line, sizeof (line), f))
    {
      char root[PATH_MAX], mp[PATH_MAX], opts[512], rest[2048];
      char *sep;
      struct mnt m;

      if (sscanf (line, "%*d %*d %*s %4095s %4095s %511s %2047[^\n]", root, mp, opts, rest) != 4)
        continue;
      if (strcmp (mp, point) != 0)
        continue;
      memset (&m, 0, sizeof (m));
      snprintf (m.root, sizeof (m.root), "%s", root);
      snprintf (m.point, sizeof (m.point), "%s", mp);
      snprintf (m.opts, sizeof (m.opts), "%s", opts);
      sep = strstr (rest, "- ");
      if (sep == NULL)
        continue;
      snprintf (m.optional, sizeof (m.optional), "%.*s", (int)(sep - rest), rest);
      if (sscanf (sep, "- %63s %*s %1023s", m.fstype, m.super) < 2)
        continue;
      *ret = m;
      found = true;
    }
  return found;
}

static bool
has_opt (const char *list, const char *opt)
{
  size_t n = strlen (opt);
  for (const char *p = list; p && *p;)
    {
      if (strncmp (p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
        return true;
      p = strchr (p, ',');
      if (p)
        p++;
    }
  return false;
}

/* Any mount point at or below prefix. */
static bool
mounts_below (const char *mountinfo, const char *prefix)
{
  cleanup_file FILE *f = fopen (mountinfo, "re");
  char line[4096];
  size_t n = strlen (prefix);

  assert_non_null (f);
  while (fgets (line, sizeof (line), f))
    {
      char mp[PATH_MAX];
      if (sscanf (line, "%*d %*d %*s %*s %4095s", mp) == 1 && strncmp (mp, prefix, n) == 0
          && (mp[n] == '/' || mp[n] == '\0'))
        return true;
    }
  return false;
}

/* ---- checks run inside the child (no cmocka there: count and report) --- */

static int failures;

#define CHECK(cond, ...)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "  child check failed (%s:%d): %s: ", __FILE__, __LINE__, #cond);       \
          fprintf (stderr, __VA_ARGS__);                                                           \
          fputc ('\n', stderr);                                                                    \
          failures++;                                                                              \
        }                                                                                          \
    }                                                                                              \
  while (0)

static void
check_mount (const char *point, const char *fstype, const char *const *opts,
             const char *const *super)
{
  struct mnt m;

  if (!find_mount ("/proc/self/mountinfo", point, &m))
    {
      CHECK (false, "no mount at `%s`", point);
      return;
    }
  if (fstype)
    CHECK (strcmp (m.fstype, fstype) == 0, "`%s` is %s, want %s", point, m.fstype, fstype);
  for (size_t i = 0; opts && opts[i]; i++)
    CHECK (has_opt (m.opts, opts[i]), "`%s` options `%s` lack %s", point, m.opts, opts[i]);
  for (size_t i = 0; super && super[i]; i++)
    CHECK (has_opt (m.super, super[i]), "`%s` super options `%s` lack %s", point, m.super,
           super[i]);
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
check_device (const char *path, mode_t type, mode_t perm, unsigned major_, unsigned minor_)
{
  struct stat st;

  if (stat (path, &st) < 0)
    {
      CHECK (false, "stat `%s`: %s", path, strerror (errno));
      return;
    }
  CHECK ((st.st_mode & S_IFMT) == type, "`%s` type 0%o", path, st.st_mode & S_IFMT);
  CHECK ((st.st_mode & 07777) == perm, "`%s` mode 0%o, want 0%o", path, st.st_mode & 07777, perm);
  CHECK (major (st.st_rdev) == major_ && minor (st.st_rdev) == minor_, "`%s` is %u:%u", path,
         major (st.st_rdev), minor (st.st_rdev));
}

static void
check_read (const char *path, const char *want)
{
  char buf[256] = "";
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    {
      CHECK (false, "open `%s`: %s", path, strerror (errno));
      return;
    }
  n = read (fd, buf, sizeof (buf) - 1);
  close (fd);
  CHECK (n >= 0, "read `%s`: %s", path, strerror (errno));
  if (n >= 0)
    buf[n] = '\0';
  CHECK (strcmp (buf, want) == 0, "`%s` reads \"%s\", want \"%s\"", path, buf, want);
}

static void
check_erofs (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

  CHECK (fd < 0 && errno == EROFS, "create `%s`: %s (want EROFS)", path,
         fd < 0 ? strerror (errno) : "succeeded");
  if (fd >= 0)
    close (fd);
}

static void
check_busybox_runs (void)
{
  pid_t pid = fork ();
  int status = 0;

  if (pid == 0)
    {
      execl ("/bin/busybox", "busybox", "true", (char *)NULL);
      _exit (127);
    }
  CHECK (pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status)
             && WEXITSTATUS (status) == 0,
         "/bin/busybox true in the container: status 0x%x", status);
}

/* ---- running a case ---------------------------------------------------- */

enum stage_result
{
  EXPECT_OK,
  EXPECT_PREPARE_FAILS,
};

struct run
{
  const struct fixture *fx;
  const char *json;
  struct arca_rootfs_options opts;
  enum stage_result expect;
  const char *want_error; /* substring of the error, with EXPECT_PREPARE_FAILS */
  int want_errno;
  bool no_new_mount_api; /* seccomp: the new mount API answers ENOSYS */
  bool no_mount_setattr; /* seccomp: only mount_setattr does (5.2 - 5.11) */
  int extra_unshare;     /* CLONE_NEW* flags unshared with the mount ns */
  bool user_ns;          /* run in a new user namespace (uid 0..65535
                            identity, only gid 0 mapped) + ipc ns */
  void (*check) (const struct run *r);
};

/* Makes fsopen & co. fail with ENOSYS, as an old kernel or a container
 * seccomp profile would. */
static int
deny_new_mount_api (bool setattr_only)
{
  static const long nrs[] = { SYS_mount_setattr, SYS_open_tree, SYS_move_mount, SYS_fsopen,
                              SYS_fsconfig,      SYS_fsmount,   SYS_fspick };
  struct sock_filter filter[2 + 2 * ARRAY_SIZE (nrs) + 1];
  struct sock_fprog prog = { .filter = filter };
  size_t n = setattr_only ? 1 : ARRAY_SIZE (nrs);
  size_t k = 0;

  filter[k++]
      = (struct sock_filter)BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr));
  for (size_t i = 0; i < n; i++)
    {
      filter[k++] = (struct sock_filter)BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (__u32)nrs[i], 0, 1);
      filter[k++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    }
  filter[k++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  prog.len = (unsigned short)k;
  return prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void
report_error (const char *what, arca_error *err)
{
  cleanup_free char *s = arca_error_string (err);
  fprintf (stderr, "  %s: %s\n", what, s ? s : "(no message)");
}

/* sync[0]: read end of parent -> child, sync[1]: write end of child ->
 * parent; the parent writes the id maps in between. */
static int
enter_user_ns (const int *sync)
{
  char c = 0;

  if (unshare (CLONE_NEWUSER) < 0)
    return -1;
  if (write (sync[1], &c, 1) != 1 || read (sync[0], &c, 1) != 1 || c != 'm')
    return -1;
  return unshare (CLONE_NEWIPC);
}

static int
child_main (const struct run *r, const int *sync)
{
  cleanup_config struct arca_oci_config *config = NULL;
  cleanup_error arca_error *err = NULL;

  if (r->user_ns && enter_user_ns (sync) < 0)
    return 99;
  if (unshare (CLONE_NEWNS | r->extra_unshare) < 0)
    return 100;
  if (arca_oci_config_parse (r->json, strlen (r->json), &config, &err) < 0)
    {
      report_error ("config", err);
      return 101;
    }
  if (r->no_new_mount_api || r->no_mount_setattr)
    {
      struct mount_attr attr = { 0 };

      if (deny_new_mount_api (r->no_mount_setattr) < 0)
        return 102;
      errno = 0;
      CHECK (mount_setattr (AT_FDCWD, "/", 0, &attr, sizeof (attr)) < 0 && errno == ENOSYS,
             "mount_setattr still works");
      if (r->no_new_mount_api)
        {
          CHECK (syscall (SYS_fsopen, "tmpfs", 0) < 0 && errno == ENOSYS, "fsopen still works");
          CHECK (syscall (SYS_open_tree, AT_FDCWD, "/", 0) < 0 && errno == ENOSYS,
                 "open_tree still works");
        }
    }
  if (arca_rootfs_prepare (config, &r->opts, &err) < 0)
    {
      if (r->expect != EXPECT_PREPARE_FAILS)
        {
          report_error ("prepare", err);
          return 103;
        }
      CHECK (strstr (err->msg, r->want_error) != NULL, "error \"%s\" lacks \"%s\"", err->msg,
             r->want_error);
      CHECK (err->errnum == r->want_errno, "errno %d, want %d", err->errnum, r->want_errno);
      return failures ? 1 : 0;
    }
  if (r->expect == EXPECT_PREPARE_FAILS)
    {
      fprintf (stderr, "  prepare succeeded, want an error with \"%s\"\n", r->want_error);
      return 104;
    }
  if (arca_rootfs_pivot (config, &r->opts, &err) < 0)
    {
      report_error ("pivot", err);
      return 105;
    }
  if (arca_rootfs_finalize (config, &r->opts, &err) < 0)
    {
      report_error ("finalize", err);
      return 106;
    }
  if (r->check)
    r->check (r);
  return failures ? 1 : 0;
}

/* Host view after the child is gone. */
static void
check_host_untouched (const struct fixture *fx)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  char p[256];
  struct stat st;

  assert_false (mounts_below ("/proc/self/mountinfo", fx->dir));
  d = opendir (fx->host_target);
  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      fail_msg ("the host directory behind the image symlink got `%s`", de->d_name);
  /* A ".." destination must not have climbed out of the rootfs. */
  fmt_path (p, sizeof (p), fx->dir, "escape");
  assert_int_equal (stat (p, &st), -1);
}

/* Runs the case in a child; returns its wait status, so a caller holding
 * host state (a cgroup) can release it before asserting. */
static void
write_id_map (pid_t pid, const char *file, const char *map)
{
  char path[64];
  cleanup_close int fd = -1;

  snprintf (path, sizeof (path), "/proc/%d/%s", (int)pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, map, strlen (map)), (ssize_t)strlen (map));
}

static int
run_child (const struct run *r)
{
  int to_child[2], to_parent[2];
  int status = 0;
  pid_t pid;
  char c;

  assert_int_equal (pipe2 (to_child, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (to_parent, O_CLOEXEC), 0);
  fflush (NULL);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int sync[2] = { to_child[0], to_parent[1] };
      _exit (child_main (r, sync));
    }
  close (to_child[0]);
  close (to_parent[1]);
  if (r->user_ns && read (to_parent[0], &c, 1) == 1)
    {
      write_id_map (pid, "uid_map", "0 0 65536\n");
      /* gid 5 (tty) unmapped: devpts gid=5 must be retried without it. */
      write_id_map (pid, "gid_map", "0 0 1\n");
      c = 'm';
      assert_int_equal (write (to_child[1], &c, 1), 1);
    }
  close (to_child[1]);
  close (to_parent[0]);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  return status;
}

static void
root_propagation (char *buf, size_t size)
{
  struct mnt m;

  buf[0] = '\0';
  if (find_mount ("/proc/self/mountinfo", "/", &m))
    snprintf (buf, size, "%s %s", m.opts, m.optional);
}

static void
assert_case_passed (const struct run *r, int status, const char *root_before)
{
  char root_after[1024];

  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  check_host_untouched (r->fx);
  /* The host's "/" kept its flags and propagation (shared stays shared). */
  root_propagation (root_after, sizeof (root_after));
  assert_string_equal (root_before, root_after);
}

static void
run_case (const struct run *r)
{
  char root_before[1024];
  int status;

  root_propagation (root_before, sizeof (root_before));
  status = run_child (r);
  assert_case_passed (r, status, root_before);
}

/* Whether a child may unshare `flags` and change propagation in its new
 * mount namespace (a container without CAP_SYS_ADMIN may not). */
static bool
can_unshare (int flags)
{
  int status = 0;
  pid_t pid = fork ();

  if (pid == 0)
    _exit (unshare (flags) == 0 && mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 ? 0 : 1);
  return pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status)
         && WEXITSTATUS (status) == 0;
}

static bool
skip_unless_root (void)
{
  if (geteuid () != 0)
    {
      fprintf (stderr, "  (skipped: needs root)\n");
      return true;
    }
  if (!can_unshare (CLONE_NEWNS))
    {
      fprintf (stderr, "  (skipped: cannot create a mount namespace here)\n");
      return true;
    }
  return false;
}

/* ---- the cases ---------------------------------------------------------- */

static char *
full_config (const struct fixture *fx, bool with_sysfs)
{
  char *json = NULL;
  int n = asprintf (
      &json,
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\",\"readonly\":true},"
      "\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
      "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
      "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\","
      "\"gid=5\"]},"
      "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=1m\"]},"
      "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
      "%s"
      "{\"destination\":\"/mnt/ro\",\"type\":\"bind\",\"source\":\"%s\","
      "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\",\"noexec\",\"relatime\"]},"
      "{\"destination\":\"/mnt/rw\",\"source\":\"%s\",\"options\":[\"bind\"]},"
      "{\"destination\":\"/etc/bound-file\",\"type\":\"bind\",\"source\":\"%s\","
      "\"options\":[\"bind\",\"ro\"]},"
      "{\"destination\":\"/evil/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
      "{\"destination\":\"/evil/y\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\"]},"
      "{\"destination\":\"/etc/evil-file\",\"type\":\"bind\",\"source\":\"%s\","
      "\"options\":[\"bind\"]},"
      "{\"destination\":\"/dots/z\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
      "{\"destination\":\"/../../../escape/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
      "],"
      "\"linux\":{"
      "\"devices\":[{\"path\":\"/dev/mydev\",\"type\":\"c\",\"major\":1,\"minor\":7,"
      "\"fileMode\":416,\"uid\":0,\"gid\":0}],"
      "\"maskedPaths\":[\"/masked-file\",\"/masked-dir\",\"/proc/kcore\",\"/does/not/exist\"],"
      "\"readonlyPaths\":[\"/proc/sys\",\"/proc/sysrq-trigger\",\"/ro-dir\",\"/ro-file\",\"/not/"
      "there\"]"
      "}}",
      fx->rootfs,
      with_sysfs ? "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
                   "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
                 : "",
      fx->src, fx->src, fx->src_file, fx->src, fx->src_file);
  assert_true (n > 0);
  return json;
}

static void
check_full (const struct run *r)
{
  const struct fixture *fx = r->fx;
  char p[256];
  struct stat st;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int entries = 0;

  /* root.readonly */
  check_mount ("/", NULL, LIST ("ro"), NULL);
  check_erofs ("/new-file");

  check_mount ("/proc", "proc", LIST ("rw", "nosuid", "nodev", "noexec"), NULL);
  CHECK (access ("/proc/self/status", R_OK) == 0, "/proc/self/status: %s", strerror (errno));

  check_mount ("/dev", "tmpfs", LIST ("nosuid"), LIST ("size=65536k", "mode=755"));
  CHECK (stat ("/dev", &st) == 0 && (st.st_mode & 07777) == 0755, "/dev mode 0%o",
         st.st_mode & 07777);
  check_mount ("/dev/pts", "devpts", LIST ("nosuid", "noexec"),
               LIST ("mode=620", "ptmxmode=666", "gid=5"));
  /* tmpfs does not list mode=1777, its default: stat says it. */
  check_mount ("/dev/shm", "tmpfs", LIST ("nosuid", "nodev", "noexec"), LIST ("size=1024k"));
  CHECK (stat ("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777, "/dev/shm mode 0%o",
         st.st_mode & 07777);
  check_mount ("/dev/mqueue", "mqueue", LIST ("nosuid", "nodev", "noexec"), NULL);

  /* Bind flags really applied (a bind needs the remount step for them). */
  check_mount ("/mnt/ro", NULL, LIST ("ro", "nosuid", "nodev", "noexec", "relatime"), NULL);
  check_read ("/mnt/ro/hello", "hello from src\n");
  check_erofs ("/mnt/ro/new-file");
  check_mount ("/mnt/rw", NULL, LIST ("rw"), NULL);
  check_mount ("/etc/bound-file", NULL, LIST ("ro"), NULL);
  check_read ("/etc/bound-file", "a bound file\n");

  /* Devices. */
  check_device ("/dev/null", S_IFCHR, 0666, 1, 3);
  check_device ("/dev/zero", S_IFCHR, 0666, 1, 5);
  check_device ("/dev/full", S_IFCHR, 0666, 1, 7);
  check_device ("/dev/random", S_IFCHR, 0666, 1, 8);
  check_device ("/dev/urandom", S_IFCHR, 0666, 1, 9);
  check_device ("/dev/tty", S_IFCHR, 0666, 5, 0);
  check_device ("/dev/mydev", S_IFCHR, 0640, 1, 7);
  {
    char link[64] = "";
    ssize_t n = readlink ("/dev/ptmx", link, sizeof (link) - 1);
    if (n > 0)
      link[n] = '\0';
    CHECK (strcmp (link, "pts/ptmx") == 0, "/dev/ptmx -> `%s`", link);
    n = readlink ("/dev/fd", link, sizeof (link) - 1);
    if (n > 0)
      link[n] = '\0';
    CHECK (n > 0 && strcmp (link, "/proc/self/fd") == 0, "/dev/fd -> `%s`", link);
  }
  {
    int fd = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK (fd >= 0, "open /dev/ptmx: %s", strerror (errno));
    if (fd >= 0)
      close (fd);
  }

  /* maskedPaths */
  check_read ("/masked-file", "");
  check_mount ("/masked-dir", "tmpfs", LIST ("ro"), NULL);
  d = opendir ("/masked-dir");
  CHECK (d != NULL, "opendir /masked-dir: %s", strerror (errno));
  while (d && (de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      entries++;
  CHECK (entries == 0, "/masked-dir shows %d entries", entries);
  if (access ("/proc/kcore", F_OK) == 0)
    check_device ("/proc/kcore", S_IFCHR, 0666, 1, 3);

  /* readonlyPaths keep nosuid/nodev/noexec of the proc mount. */
  check_mount ("/proc/sys", "proc", LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
  check_erofs ("/proc/sys/kernel/hostname");
  check_mount ("/ro-file", NULL, LIST ("ro"), NULL);
  check_read ("/ro-file", "read-only\n");
  {
    int fd = open ("/ro-file", O_WRONLY | O_CLOEXEC);
    CHECK (fd < 0 && errno == EROFS, "open /ro-file for writing: %s",
           fd < 0 ? strerror (errno) : "succeeded");
    if (fd >= 0)
      close (fd);
  }
  check_mount ("/ro-dir", NULL, LIST ("ro"), NULL);

  /* The image symlink was followed inside the rootfs. */
  fmt_path (p, sizeof (p), fx->host_target, "x");
  check_mount (p, "tmpfs", NULL, NULL);
  fmt_path (p, sizeof (p), fx->host_target, "y/hello");
  check_read (p, "hello from src\n");
  fmt_path (p, sizeof (p), fx->host_target, "f");
  check_read (p, "a bound file\n");
  fmt_path (p, sizeof (p), fx->host_target, "z");
  check_mount (p, "tmpfs", NULL, NULL);
  check_mount ("/escape/x", "tmpfs", NULL, NULL);

  check_busybox_runs ();
}

static void
test_full_rootfs (void **state)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  if (skip_unless_root ())
    skip ();
  json = full_config (fx, true);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.check = check_full;
  run_case (&r);
}

static void
test_legacy_mount_api (void **state)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  if (skip_unless_root ())
    skip ();
  json = full_config (fx, true);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.no_new_mount_api = true;
  r.check = check_full;
  run_case (&r);
}

/* Kernels 5.2 - 5.11: fsopen/open_tree/move_mount, but flags and propagation
 * through mount(2) on the attached mount. */
static void
test_no_mount_setattr (void **state)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  if (skip_unless_root ())
    skip ();
  json = full_config (fx, true);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.no_mount_setattr = true;
  r.check = check_full;
  run_case (&r);
}

static void
check_minimal (const struct run *r)
{
  check_mount ("/", NULL, LIST ("ro"), NULL);
  check_mount ("/proc", "proc", NULL, NULL);
  check_erofs ("/new-file");
  check_device ("/dev/null", S_IFCHR, 0666, 1, 3);
  check_busybox_runs ();
}

static void
test_no_pivot (void **state)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  if (skip_unless_root ())
    skip ();
  assert_true (asprintf (&json,
                         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\",\"readonly\":true},"
                         "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"}],"
                         "\"linux\":{}}",
                         fx->rootfs)
               > 0);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.opts.no_pivot = true;
  r.check = check_minimal;
  run_case (&r);
}

static void
check_shared_root (const struct run *r)
{
  struct mnt m;

  CHECK (find_mount ("/proc/self/mountinfo", "/", &m), "no / mount");
  CHECK (strstr (m.optional, "shared:") != NULL, "/ is not shared: `%s`", m.optional);
  check_minimal (r);
}

static void
test_rootfs_propagation_shared (void **state)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  if (skip_unless_root ())
    skip ();
  assert_true (asprintf (&json,
                         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\",\"readonly\":true},"
                         "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
                         "{\"destination\":\"/evil/x\",\"type\":\"tmpfs\"}],"
                         "\"linux\":{\"rootfsPropagation\":\"shared\"}}",
                         fx->rootfs)
               > 0);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.check = check_shared_root;
  run_case (&r);
}

static void
check_cgroup (const struct run *r)
{
  const struct arca_cgroup_hierarchy *h = NULL;
  size_t n = arca_cgroup_hierarchies (r->opts.cgroup, &h);
  const char *leaf = strrchr (arca_cgroup_path (r->opts.cgroup), '/');

  check_mount ("/sys", "sysfs", LIST ("ro"), NULL);
  check_mount ("/sys/fs/cgroup", "tmpfs", LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
  CHECK (n > 0, "no hierarchies");
  for (size_t i = 0; i < n; i++)
    {
      char p[PATH_MAX];
      struct mnt m;

      fmt_path (p, sizeof (p), "/sys/fs/cgroup", h[i].name);
      check_mount (p, h[i].fs_type, LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
      /* The container sees its own cgroup directory, not the host's root. */
      if (find_mount ("/proc/self/mountinfo", p, &m))
        CHECK (strlen (m.root) >= strlen (leaf)
                   && strcmp (m.root + strlen (m.root) - strlen (leaf), leaf) == 0,
               "`%s` shows `%s`, want a path ending in `%s`", p, m.root, leaf);
      if (strcmp (h[i].name, "cpu,cpuacct") == 0)
        {
          char link[64] = "";
          ssize_t k = readlink ("/sys/fs/cgroup/cpu", link, sizeof (link) - 1);
          if (k > 0)
            link[k] = '\0';
          CHECK (strcmp (link, "cpu,cpuacct") == 0, "/sys/fs/cgroup/cpu -> `%s`", link);
        }
    }
  check_erofs ("/sys/fs/cgroup/new-file");
}

static void
run_cgroup_case (void **state, bool legacy)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  cleanup_free char *path = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  cleanup_error arca_error *err = NULL;
  char root_before[1024];
  struct run r = { 0 };
  int status, destroyed;

  if (skip_unless_root ())
    skip ();
  assert_true (asprintf (&path, "/arca-test-rootfs-%d", (int)getpid ()) > 0);
  if (arca_cgroup_open ("/sys/fs/cgroup", path, &cg, &err) < 0)
    {
      report_error ("(skipped: no cgroup hierarchy)", err);
      skip ();
    }
  if (arca_cgroup_create (cg, &err) < 0)
    {
      report_error ("create cgroup", err);
      fail ();
    }
  assert_true (asprintf (&json,
                         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\"},"
                         "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
                         "{\"destination\":\"/sys\",\"type\":\"sysfs\","
                         "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
                         "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
                         "\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\","
                         "\"nodev\",\"relatime\",\"ro\"]}],"
                         "\"linux\":{}}",
                         fx->rootfs)
               > 0);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.opts.cgroup = cg;
  r.no_new_mount_api = legacy;
  r.check = check_cgroup;
  root_propagation (root_before, sizeof (root_before));
  status = run_child (&r);
  destroyed = arca_cgroup_destroy (cg, &err);
  assert_case_passed (&r, status, root_before);
  assert_int_equal (destroyed, 0);
}

static void
test_cgroup_mount (void **state)
{
  run_cgroup_case (state, false);
}

static void
test_cgroup_mount_legacy_mount_api (void **state)
{
  run_cgroup_case (state, true);
}

/* In a user namespace: no mknod (devices are binds of the host nodes), no
 * sysfs without a network namespace (rbind of /sys), host mounts carry
 * locked flags that a remount must keep, /proc is bound from the host
 * (mounting proc needs a pid namespace). */
static char *
user_ns_config (const struct fixture *fx)
{
  char *json = NULL;
  int n = asprintf (
      &json,
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\",\"readonly\":true},"
      "\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"bind\",\"source\":\"/proc\","
      "\"options\":[\"rbind\",\"nosuid\",\"noexec\",\"nodev\"]},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
      "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
      "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\","
      "\"gid=5\"]},"
      "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
      "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
      "{\"destination\":\"/mnt/ro\",\"type\":\"bind\",\"source\":\"%s\","
      "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\",\"noexec\",\"strictatime\"]},"
      "{\"destination\":\"/evil/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
      "{\"destination\":\"/../../../escape/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
      "],"
      "\"linux\":{"
      "\"maskedPaths\":[\"/masked-file\",\"/masked-dir\"],"
      "\"readonlyPaths\":[\"/proc/sys\",\"/ro-dir\"]"
      "}}",
      fx->rootfs, fx->src);
  assert_true (n > 0);
  return json;
}

static void
check_user_ns (const struct run *r)
{
  const struct fixture *fx = r->fx;
  char p[256];

  check_mount ("/", NULL, LIST ("ro"), NULL);
  check_erofs ("/new-file");
  check_mount ("/proc", "proc", LIST ("nosuid", "nodev", "noexec"), NULL);
  check_mount ("/proc/sys", "proc", LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
  check_mount ("/dev/pts", "devpts", LIST ("nosuid", "noexec"), LIST ("mode=620", "ptmxmode=666"));
  check_mount ("/dev/mqueue", "mqueue", LIST ("nosuid", "nodev", "noexec"), NULL);
  check_mount ("/sys", "sysfs", LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
  check_mount ("/mnt/ro", NULL, LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
  check_read ("/mnt/ro/hello", "hello from src\n");
  /* Devices are binds of the host's nodes. */
  check_mount ("/dev/null", "devtmpfs", NULL, NULL);
  check_device ("/dev/null", S_IFCHR, 0666, 1, 3);
  check_device ("/dev/tty", S_IFCHR, 0666, 5, 0);
  check_read ("/masked-file", "");
  check_mount ("/masked-dir", "tmpfs", LIST ("ro"), NULL);
  check_mount ("/ro-dir", NULL, LIST ("ro"), NULL);
  fmt_path (p, sizeof (p), fx->host_target, "x");
  check_mount (p, "tmpfs", NULL, NULL);
  check_mount ("/escape/x", "tmpfs", NULL, NULL);
  check_busybox_runs ();
}

static void
run_user_ns_case (void **state, bool legacy)
{
  struct fixture *fx = *state;
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  if (skip_unless_root ())
    skip ();
  if (!can_unshare (CLONE_NEWUSER | CLONE_NEWNS))
    {
      fprintf (stderr, "  (skipped: cannot create a user namespace here)\n");
      skip ();
    }
  json = user_ns_config (fx);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.opts.in_user_ns = true;
  r.user_ns = true;
  r.no_new_mount_api = legacy;
  r.check = check_user_ns;
  run_case (&r);
}

static void
test_user_ns (void **state)
{
  run_user_ns_case (state, false);
}

/* mount(2) remounts must repeat the locked flags (read with statvfs). */
static void
test_user_ns_legacy_mount_api (void **state)
{
  run_user_ns_case (state, true);
}

/* cgroup v2 (a fake tree standing in for the host's): without a cgroup
 * namespace the container's own directory is bound; with one, a new
 * cgroup2 instance is mounted (it shows the namespace's root). */
static void
check_cgroup_v2_bind (const struct run *r)
{
  struct mnt m;
  bool found = find_mount ("/proc/self/mountinfo", "/sys/fs/cgroup", &m);

  CHECK (found, "no /sys/fs/cgroup mount");
  if (found)
    {
      size_t n = strlen (m.root);
      CHECK (n >= 3 && strcmp (m.root + n - 3, "/c1") == 0, "/sys/fs/cgroup shows `%s`", m.root);
      CHECK (has_opt (m.opts, "ro"), "/sys/fs/cgroup options `%s`", m.opts);
    }
  CHECK (access ("/sys/fs/cgroup/cgroup.procs", F_OK) == 0, "no cgroup.procs: %s",
         strerror (errno));
}

static void
check_cgroup_v2_ns (const struct run *r)
{
  check_mount ("/sys/fs/cgroup", "cgroup2", LIST ("ro", "nosuid", "nodev", "noexec"), NULL);
  check_erofs ("/sys/fs/cgroup/new-file");
}

static void
run_cgroup_v2_case (struct fixture *fx, bool cgroup_ns)
{
  cleanup_free char *json = NULL;
  cleanup_free char *tree = NULL;
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  cleanup_error arca_error *err = NULL;
  struct run r = { 0 };
  char p[256];

  fmt_path (p, sizeof (p), fx->dir, "cgroup");
  assert_int_equal (mkdir (p, 0755), 0);
  tree = strdup (p);
  assert_non_null (tree);
  fmt_path (p, sizeof (p), tree, ".arca-fake-mode");
  write_text (p, "v2\n");
  if (arca_cgroup_open (tree, "/c1", &cg, &err) < 0 || arca_cgroup_create (cg, &err) < 0)
    {
      report_error ("fake cgroup v2 tree", err);
      fail ();
    }
  /* A fake tree's create may write no interface files: make one. */
  fmt_path (p, sizeof (p), tree, "c1/cgroup.procs");
  if (access (p, F_OK) < 0)
    write_text (p, "");
  assert_int_equal (arca_cgroup_mode (cg), ARCA_CGROUP_V2);
  assert_true (asprintf (&json,
                         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\"},"
                         "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
                         "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
                         "\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\","
                         "\"nodev\",\"relatime\",\"ro\"]}],"
                         "\"linux\":{}}",
                         fx->rootfs)
               > 0);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.opts.cgroup = cg;
  r.opts.new_cgroup_ns = cgroup_ns;
  r.extra_unshare = cgroup_ns ? CLONE_NEWCGROUP : 0;
  r.check = cgroup_ns ? check_cgroup_v2_ns : check_cgroup_v2_bind;
  run_case (&r);
}

static void
test_cgroup_v2_bind (void **state)
{
  if (skip_unless_root ())
    skip ();
  run_cgroup_v2_case (*state, false);
}

static void
test_cgroup_v2_namespace (void **state)
{
  if (skip_unless_root ())
    skip ();
  run_cgroup_v2_case (*state, true);
}

static void
expect_prepare_error (struct fixture *fx, const char *mounts, const char *want, int want_errno)
{
  cleanup_free char *json = NULL;
  struct run r = { 0 };

  assert_true (asprintf (&json,
                         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\"},"
                         "\"mounts\":[%s],\"linux\":{}}",
                         fx->rootfs, mounts)
               > 0);
  r.fx = fx;
  r.json = json;
  r.opts.rootfs = fx->rootfs;
  r.expect = EXPECT_PREPARE_FAILS;
  r.want_error = want;
  r.want_errno = want_errno;
  run_case (&r);
}

static void
test_impossible_mounts (void **state)
{
  struct fixture *fx = *state;

  if (skip_unless_root ())
    skip ();
  expect_prepare_error (fx,
                        "{\"destination\":\"/proc\",\"type\":\"proc\"},"
                        "{\"destination\":\"/evil/bad\",\"type\":\"nosuchfs\"}",
                        "mounts[1] `/evil/bad`", ENODEV);
  expect_prepare_error (fx,
                        "{\"destination\":\"/evil/m\",\"type\":\"bind\","
                        "\"source\":\"/nonexistent/arca-source\",\"options\":[\"rbind\"]}",
                        "mounts[0] `/evil/m`", ENOENT);
  expect_prepare_error (fx,
                        "{\"destination\":\"/evil/t\",\"type\":\"tmpfs\","
                        "\"options\":[\"size=lots\"]}",
                        "mounts[0] `/evil/t`", EINVAL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_full_rootfs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_legacy_mount_api, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_mount_setattr, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_pivot, setup, teardown),
    cmocka_unit_test_setup_teardown (test_rootfs_propagation_shared, setup, teardown),
    cmocka_unit_test_setup_teardown (test_impossible_mounts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cgroup_mount, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cgroup_mount_legacy_mount_api, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cgroup_v2_bind, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cgroup_v2_namespace, setup, teardown),
    cmocka_unit_test_setup_teardown (test_user_ns, setup, teardown),
    cmocka_unit_test_setup_teardown (test_user_ns_legacy_mount_api, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
