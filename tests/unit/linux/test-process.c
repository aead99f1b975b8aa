/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux/process: the last steps before a container process execs.  Each
 * case forks a child that applies one step to itself and checks the result
 * where the kernel shows it (/proc/self/status, getrlimit, /proc/self/fd of
 * an exec'ed busybox).  The child reports a failed check as text on a pipe
 * and exit status 1.  Identity, capability and limit changes need root:
 * those cases are skipped otherwise. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/process.h"
#include "linux/seccomp-filter.h"
#include "oci/config.h"
#include "util/cleanup.h"
#include "util/error.h"

#define BUSYBOX "/bin/busybox"
#define CAP(x) (1ULL << (x))

/* ---- child plumbing ---------------------------------------------------- */

struct child
{
  pid_t pid;
  int out; /* read end of the report pipe */
  int status;
  char text[16384];
};

typedef void (*child_fn) (int out, void *arg);

static _Noreturn void
child_fail (int out, int line, const char *what, int saved_errno)
{
  char buf[1024];
  int n = snprintf (buf, sizeof (buf), "line %d: %s (errno %d %s)\n", line, what, saved_errno,
                    strerror (saved_errno));
  if (n > 0)
    (void)!write (out, buf, (size_t)n);
  _exit (1);
}

/* `out` must be in scope: the report fd of the child. */
#define CHECK(cond)                                                                                \
  do                                                                                               \
    {                                                                                              \
      errno = 0;                                                                                   \
      if (!(cond))                                                                                 \
        child_fail (out, __LINE__, #cond, errno);                                                  \
    }                                                                                              \
  while (0)

/* An arca call that must fail with errno `e` and a message containing
 * `needle`. */
#define CHECK_ARCA_ERROR(call, e, needle)                                                          \
  do                                                                                               \
    {                                                                                              \
      cleanup_error arca_error *err = NULL;                                                        \
      if ((call) == 0)                                                                             \
        child_fail (out, __LINE__, #call " succeeded", 0);                                         \
      check_error (out, __LINE__, err, e, needle);                                                 \
    }                                                                                              \
  while (0)

#define CHECK_ARCA_OK(call)                                                                        \
  do                                                                                               \
    {                                                                                              \
      cleanup_error arca_error *err = NULL;                                                        \
      if ((call) < 0)                                                                              \
        child_fail (out, __LINE__, err->msg, err->errnum);                                         \
    }                                                                                              \
  while (0)

static void
check_error (int out, int line, const arca_error *err, int e, const char *needle)
{
  char buf[512];

  if (err != NULL && err->errnum == e && strstr (err->msg, needle) != NULL)
    return;
  snprintf (buf, sizeof (buf), "expected errno %d and \"%s\", got %d \"%s\"", e, needle,
            err ? err->errnum : -1, err ? err->msg : "(no error)");
  child_fail (out, line, buf, 0);
}

static void
report (int out, const char *text)
{
  (void)!write (out, text, strlen (text));
}

static void
run_child (struct child *c, child_fn fn, void *arg)
{
  int p[2];
  size_t len = 0;
  ssize_t n;

  memset (c, 0, sizeof (*c));
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  fflush (NULL);
  c->pid = fork ();
  assert_true (c->pid >= 0);
  if (c->pid == 0)
    {
      static const int fatal[] = { SIGSYS, SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGABRT };
      close (p[0]);
      /* cmocka catches these to report a crash and carry on: in the child
       * that would run the rest of the suite. */
      for (size_t i = 0; i < ARRAY_SIZE (fatal); i++)
        signal (fatal[i], SIG_DFL);
      fn (p[1], arg);
      _exit (0);
    }
  close (p[1]);
  c->out = p[0];
  while ((n = read (c->out, c->text + len, sizeof (c->text) - 1 - len)) > 0)
    len += (size_t)n;
  c->text[len] = '\0';
  close (c->out);
  assert_int_equal (waitpid (c->pid, &c->status, 0), c->pid);
}

static void
assert_child_ok (const struct child *c)
{
  if (!WIFEXITED (c->status) || WEXITSTATUS (c->status) != 0)
    fail_msg ("child status 0x%x: %s", c->status, c->text);
}

static bool
skip_unless_root (void)
{
  if (geteuid () == 0)
    return false;
  print_message ("not root: skipped\n");
  return true;
}

/* The value of "Name:" in /proc/self/status, without the tab. */
static bool
status_field (const char *name, char *buf, size_t size)
{
  cleanup_file FILE *f = fopen ("/proc/self/status", "re");
  char line[512];
  size_t len = strlen (name);

  while (f && fgets (line, sizeof (line), f))
    if (strncmp (line, name, len) == 0 && line[len] == ':')
      {
        const char *v = line + len + 1;
        while (*v == '\t' || *v == ' ')
          v++;
        snprintf (buf, size, "%s", v);
        buf[strcspn (buf, "\n")] = '\0';
        return true;
      }
  return false;
}

static uint64_t
status_hex (const char *name)
{
  char buf[64];

  if (!status_field (name, buf, sizeof (buf)))
    return ~0ULL;
  return strtoull (buf, NULL, 16);
}

#define CHECK_FIELD(name, want)                                                                    \
  do                                                                                               \
    {                                                                                              \
      char got_[256];                                                                              \
      if (!status_field (name, got_, sizeof (got_)) || strcmp (got_, want) != 0)                   \
        {                                                                                          \
          char msg_[512];                                                                          \
          snprintf (msg_, sizeof (msg_), "%s: \"%s\", expected \"%s\"", name, got_, want);         \
          child_fail (out, __LINE__, msg_, 0);                                                     \
        }                                                                                          \
    }                                                                                              \
  while (0)

#define CHECK_CAPS(name, want)                                                                     \
  do                                                                                               \
    {                                                                                              \
      uint64_t got_ = status_hex (name);                                                           \
      if (got_ != (want))                                                                          \
        {                                                                                          \
          char msg_[256];                                                                          \
          snprintf (msg_, sizeof (msg_), "%s: 0x%llx, expected 0x%llx", name,                      \
                    (unsigned long long)got_, (unsigned long long)(want));                         \
          child_fail (out, __LINE__, msg_, 0);                                                     \
        }                                                                                          \
    }                                                                                              \
  while (0)

/* ---- fixture ------------------------------------------------------------ */

struct fixture
{
  char dir[64]; /* /tmp/arca-process-XXXXXX, mode 0755 */
};

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof (*fx));

  assert_non_null (fx);
  strcpy (fx->dir, "/tmp/arca-process-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  /* The cwd of a process that is no longer root. */
  assert_int_equal (chmod (fx->dir, 0755), 0);
  *state = fx;
  return 0;
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;

  nftw (fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (fx);
  return 0;
}

static void
write_file (const char *dir, const char *name, const char *text, mode_t mode)
{
  char path[256];
  cleanup_close int fd = -1;

  snprintf (path, sizeof (path), "%s/%s", dir, name);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
  assert_int_equal (fchmod (fd, mode), 0);
}

/* ---- rlimits ------------------------------------------------------------ */

static struct arca_oci_process
with_rlimits (struct arca_oci_rlimit *rl, size_t n)
{
  return (struct arca_oci_process){ .rlimits = rl, .n_rlimits = n };
}

/* Drops CAP_SYS_RESOURCE from every set (this host lacks it anyway). */
static int
drop_sys_resource (void)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2];

  if (prctl (PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) < 0)
    return -1;
  if (syscall (SYS_capget, &hdr, data) < 0)
    return -1;
  data[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
  data[CAP_SYS_RESOURCE / 32].permitted &= ~(1u << (CAP_SYS_RESOURCE % 32));
  data[CAP_SYS_RESOURCE / 32].inheritable &= ~(1u << (CAP_SYS_RESOURCE % 32));
  return (int)syscall (SYS_capset, &hdr, data);
}

static void
rlimits_child (int out, void *arg)
{
  bool in_userns = arg != NULL;
  struct rlimit before, now;
  char host[64];

  CHECK (drop_sys_resource () == 0);
  /* In a new user namespace the process has CAP_SYS_RESOURCE there, which
   * raising a limit does not care about: the message must still say why. */
  if (in_userns)
    CHECK (unshare (CLONE_NEWUSER) == 0);
  CHECK (getrlimit (RLIMIT_NOFILE, &before) == 0);
  if (before.rlim_max == RLIM_INFINITY)
    {
      report (out, "skip: NOFILE hard limit is unlimited");
      return;
    }
  snprintf (host, sizeof (host), "host's limit %llu", (unsigned long long)before.rlim_max);

  {
    struct arca_oci_rlimit rl
        = { RLIMIT_NOFILE, "RLIMIT_NOFILE", before.rlim_max, before.rlim_max + 1 };
    struct arca_oci_process p = with_rlimits (&rl, 1);
    CHECK_ARCA_ERROR (arca_process_set_rlimits (&p, &err), EPERM, "process.rlimits[RLIMIT_NOFILE]");
    CHECK_ARCA_ERROR (arca_process_set_rlimits (&p, &err), EPERM, host);
    CHECK_ARCA_ERROR (arca_process_set_rlimits (&p, &err), EPERM, "CAP_SYS_RESOURCE");
    CHECK (getrlimit (RLIMIT_NOFILE, &now) == 0);
    CHECK (now.rlim_cur == before.rlim_cur && now.rlim_max == before.rlim_max);
  }
}

static void
test_rlimit_above_host (void **state)
{
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, rlimits_child, NULL);
  assert_child_ok (&c);
  if (strncmp (c.text, "skip", 4) == 0)
    skip ();
  run_child (&c, rlimits_child, (void *)1);
  assert_child_ok (&c);
}

static void
rlimits_nr_open_child (int out, void *arg)
{
  cleanup_file FILE *f = fopen ("/proc/sys/fs/nr_open", "re");
  unsigned long long nr_open = 0;
  char want[64];

  CHECK (f != NULL && fscanf (f, "%llu", &nr_open) == 1);
  snprintf (want, sizeof (want), "above fs.nr_open %llu", nr_open);
  struct arca_oci_rlimit rl = { RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024, nr_open + 1 };
  struct arca_oci_process p = with_rlimits (&rl, 1);
  CHECK_ARCA_ERROR (arca_process_set_rlimits (&p, &err), EPERM, want);
}

static void
test_rlimit_above_nr_open (void **state)
{
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, rlimits_nr_open_child, NULL);
  assert_child_ok (&c);
}

static void
rlimits_apply_child (int out, void *arg)
{
  struct rlimit r;

  {
    struct arca_oci_rlimit rl = { RLIMIT_NOFILE, "RLIMIT_NOFILE", 200, 100 };
    struct arca_oci_process p = with_rlimits (&rl, 1);
    CHECK_ARCA_ERROR (arca_process_set_rlimits (&p, &err), EINVAL,
                      "process.rlimits[RLIMIT_NOFILE]: soft limit 200 is above the hard limit 100");
  }
  {
    struct arca_oci_rlimit rl[3] = {
      { RLIMIT_NOFILE, "RLIMIT_NOFILE", 64, 128 },
      { RLIMIT_CORE, "RLIMIT_CORE", 0, 0 },
      { RLIMIT_NPROC, "RLIMIT_NPROC", 1000, 2000 },
    };
    struct arca_oci_process p = with_rlimits (rl, 3);
    CHECK_ARCA_OK (arca_process_set_rlimits (&p, &err));
    CHECK (getrlimit (RLIMIT_NOFILE, &r) == 0 && r.rlim_cur == 64 && r.rlim_max == 128);
    CHECK (getrlimit (RLIMIT_CORE, &r) == 0 && r.rlim_cur == 0 && r.rlim_max == 0);
    CHECK (getrlimit (RLIMIT_NPROC, &r) == 0 && r.rlim_cur == 1000 && r.rlim_max == 2000);
  }
  {
    /* Above the new hard limit of 128: refused, the limits stay. */
    struct arca_oci_rlimit rl = { RLIMIT_NOFILE, "RLIMIT_NOFILE", 64, 129 };
    struct arca_oci_process p = with_rlimits (&rl, 1);
    CHECK (drop_sys_resource () == 0);
    CHECK_ARCA_ERROR (arca_process_set_rlimits (&p, &err), EPERM, "host's limit 128");
    CHECK (getrlimit (RLIMIT_NOFILE, &r) == 0 && r.rlim_cur == 64 && r.rlim_max == 128);
  }
}

static void
test_rlimit_apply (void **state)
{
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, rlimits_apply_child, NULL);
  assert_child_ok (&c);
}

/* ---- oomScoreAdj ---------------------------------------------------------- */

static void
oom_child (int out, void *arg)
{
  struct arca_oci_process p = { .has_oom_score_adj = true, .oom_score_adj = 123 };
  char buf[32] = "";
  cleanup_file FILE *f = NULL;

  CHECK_ARCA_OK (arca_process_set_oom_score_adj (&p, &err));
  f = fopen ("/proc/self/oom_score_adj", "re");
  CHECK (f != NULL && fgets (buf, sizeof (buf), f) != NULL);
  CHECK (strcmp (buf, "123\n") == 0);

  p.oom_score_adj = 5000;
  CHECK_ARCA_ERROR (arca_process_set_oom_score_adj (&p, &err), EINVAL, "process.oomScoreAdj");
}

static void
test_oom_score_adj (void **state)
{
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, oom_child, NULL);
  assert_child_ok (&c);
}

/* ---- preserved fds ----------------------------------------------------- */

struct fds_case
{
  unsigned preserve;
  int hole; /* an fd in 3..8 closed before the call, or -1 */
};

static void
fds_child (int out, void *arg)
{
  const struct fds_case *fc = arg;

  /* stdout/stderr are the report pipe; nothing else is open from here on
   * but what we open. */
  CHECK (dup2 (out, 1) == 1 && dup2 (out, 2) == 2);
  out = 2;
  CHECK (syscall (SYS_close_range, 3, ~0U, 0) == 0);
  for (int fd = 3; fd <= 8; fd++)
    CHECK (open ("/dev/null", O_RDONLY) == fd); /* no O_CLOEXEC: inherited */
  CHECK (dup2 (3, 20) == 20);
  /* one opened with O_CLOEXEC inside the preserved range */
  CHECK (dup3 (3, 4, O_CLOEXEC) == 4);
  if (fc->hole >= 0)
    CHECK (close (fc->hole) == 0);
  CHECK_ARCA_OK (arca_process_prepare_fds (fc->preserve, &err));
  execl (BUSYBOX, BUSYBOX, "ls", "-1", "/proc/self/fd", NULL);
  CHECK (!"execl");
}

static void
fds_wrap_child (int out, void *arg)
{
  /* stdio without FD_CLOEXEC, whatever the test runner gave us */
  CHECK (dup2 (out, 1) == 1 && dup2 (out, 2) == 2);
  CHECK_ARCA_ERROR (arca_process_prepare_fds (UINT_MAX - 1, &err), EINVAL, "--preserve-fds");
  CHECK_ARCA_ERROR (arca_process_prepare_fds ((unsigned)INT_MAX, &err), EINVAL, "--preserve-fds");
  CHECK (fcntl (1, F_GETFD) == 0 && fcntl (2, F_GETFD) == 0);
}

static void
test_prepare_fds (void **state)
{
  struct child c;

  if (access (BUSYBOX, X_OK) < 0)
    skip ();

  /* 3 and 4 stay (4 even though it was O_CLOEXEC), 5-8 and 20 go.  ls
   * lists its own directory fd too: the lowest free one. */
  run_child (&c, fds_child, &(struct fds_case){ .preserve = 2, .hole = -1 });
  assert_child_ok (&c);
  assert_string_equal (c.text, "0\n1\n2\n3\n4\n5\n");

  /* A hole in the preserved range is fine (ls's fd fills it). */
  run_child (&c, fds_child, &(struct fds_case){ .preserve = 3, .hole = 4 });
  assert_child_ok (&c);
  assert_string_equal (c.text, "0\n1\n2\n3\n4\n5\n");

  run_child (&c, fds_child, &(struct fds_case){ .preserve = 0, .hole = -1 });
  assert_child_ok (&c);
  assert_string_equal (c.text, "0\n1\n2\n3\n");

  /* A count that wraps 3 + n around must not touch stdio. */
  run_child (&c, fds_wrap_child, NULL);
  assert_child_ok (&c);
}

/* ---- finding the program ---------------------------------------------- */

static void
expect_program (char **args, char **env, const char *want)
{
  struct arca_oci_process p = { .args = args, .env = env };
  cleanup_error arca_error *err = NULL;
  cleanup_free char *path = NULL;

  if (arca_process_find_program (&p, &path, &err) < 0)
    fail_msg ("%s: %s", args[0], err->msg);
  assert_string_equal (path, want);
}

static void
expect_program_error (char **args, char **env, int errnum, const char *needle)
{
  struct arca_oci_process p = { .args = args, .env = env };
  cleanup_error arca_error *err = NULL;
  char *path = NULL;

  assert_int_equal (arca_process_find_program (&p, &path, &err), -1);
  assert_null (path);
  assert_int_equal (err->errnum, errnum);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("\"%s\" does not contain \"%s\"", err->msg, needle);
}

#define STRV(...) ((char *[]){ __VA_ARGS__, NULL })

static void
test_find_program (void **state)
{
  struct fixture *fx = *state;
  char a[128], b[128], env_path[300], want[256];

  snprintf (a, sizeof (a), "%s/a", fx->dir);
  snprintf (b, sizeof (b), "%s/b", fx->dir);
  assert_int_equal (mkdir (a, 0755), 0);
  assert_int_equal (mkdir (b, 0755), 0);
  /* a holds a non-executable file and a directory of the name, b the program */
  write_file (a, "arca-prog", "#!/bin/sh\n", 0644);
  snprintf (want, sizeof (want), "%s/arca-prog2", a);
  assert_int_equal (mkdir (want, 0755), 0);
  write_file (b, "arca-prog", "#!/bin/sh\n", 0755);
  write_file (b, "arca-prog2", "#!/bin/sh\n", 0755);
  write_file (fx->dir, "plain", "x\n", 0644);

  /* PATH from process.env, in order, skipping what is not an executable file */
  snprintf (env_path, sizeof (env_path), "PATH=/nonexistent:%s:%s", a, b);
  snprintf (want, sizeof (want), "%s/arca-prog", b);
  expect_program (STRV ("arca-prog", "arg"), STRV ("PATHX=/", env_path, "HOME=/"), want);
  snprintf (want, sizeof (want), "%s/arca-prog2", b);
  expect_program (STRV ("arca-prog2"), STRV (env_path), want);

  /* the default PATH when process.env has none */
  {
    static const char *const dirs[]
        = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
    want[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE (dirs) && want[0] == '\0'; i++)
      {
        snprintf (want, sizeof (want), "%s/busybox", dirs[i]);
        if (access (want, X_OK) < 0)
          want[0] = '\0';
      }
    if (want[0] != '\0')
      {
        expect_program (STRV ("busybox"), STRV ("HOME=/"), want);
        expect_program (STRV ("busybox"), NULL, want);
      }
  }

  /* not found: the name is in the message */
  expect_program_error (STRV ("arca-no-such-program"), STRV (env_path), ENOENT,
                        "process.args[0]: executable `arca-no-such-program` not found");
  snprintf (env_path, sizeof (env_path), "PATH=%s", a);
  expect_program_error (STRV ("arca-prog"), STRV (env_path), ENOENT, "`arca-prog`");

  /* a path is taken as is, and checked */
  snprintf (want, sizeof (want), "%s/b/arca-prog", fx->dir);
  expect_program (STRV (want), STRV ("PATH=/nonexistent"), want);
  snprintf (want, sizeof (want), "%s/missing", fx->dir);
  expect_program_error (STRV (want), NULL, ENOENT, want);
  snprintf (want, sizeof (want), "%s/plain", fx->dir);
  expect_program_error (STRV (want), NULL, EACCES, "is not an executable file");
  expect_program_error (STRV (fx->dir), NULL, EACCES, fx->dir);
}

/* An empty PATH entry is the current directory (POSIX, and what runc's
 * exec.LookPath does). */
static void
empty_path_child (int out, void *arg)
{
  const struct fixture *fx = arg;
  static char *leading[] = { "PATH=:/nonexistent", NULL };
  static char *trailing[] = { "PATH=/nonexistent:", NULL };
  static char *middle[] = { "PATH=/nonexistent::/nonexistent2", NULL };
  char **envs[] = { leading, trailing, middle };

  CHECK (chdir (fx->dir) == 0);
  for (size_t i = 0; i < ARRAY_SIZE (envs); i++)
    {
      struct arca_oci_process p = { .args = STRV ("arca-here"), .env = envs[i] };
      cleanup_free char *path = NULL;
      CHECK_ARCA_OK (arca_process_find_program (&p, &path, &err));
      CHECK (strcmp (path, "./arca-here") == 0);
    }
}

static void
test_find_program_empty_path_entry (void **state)
{
  struct fixture *fx = *state;
  struct child c;

  write_file (fx->dir, "arca-here", "#!/bin/sh\n", 0755);
  run_child (&c, empty_path_child, fx);
  assert_child_ok (&c);
}

/* ---- identity, capabilities, umask, cwd, no_new_privs ---------------- */

struct finish_case
{
  const struct fixture *fx;
  struct arca_oci_process *process;
  const struct arca_oci_seccomp *seccomp;
};

/* uid 1000, gid 1001, groups 10 20; KILL and NET_BIND_SERVICE effective,
 * only NET_BIND_SERVICE inheritable: KILL as ambient is skipped (runc's
 * default spec does that), NET_BIND_SERVICE is raised. */
static const uint64_t bounding = CAP (CAP_CHOWN) | CAP (CAP_KILL) | CAP (CAP_NET_BIND_SERVICE);
static const uint64_t effective = CAP (CAP_KILL) | CAP (CAP_NET_BIND_SERVICE);
static const uint64_t inheritable = CAP (CAP_NET_BIND_SERVICE);

static void
unprivileged_process (struct arca_oci_process *p, const struct fixture *fx, gid_t *groups)
{
  groups[0] = 10;
  groups[1] = 20;
  *p = (struct arca_oci_process){
    .user = { .uid = 1000,
              .gid = 1001,
              .additional_gids = groups,
              .n_additional_gids = 2,
              .has_umask = true,
              .umask = 027 },
    .cwd = (char *)fx->dir,
    .has_capabilities = true,
    .capabilities = { .bounding = bounding,
                      .effective = effective,
                      .permitted = effective,
                      .inheritable = inheritable,
                      .ambient = CAP (CAP_KILL) | CAP (CAP_NET_BIND_SERVICE) },
    .no_new_privileges = true,
  };
}

static void
finish_child (int out, void *arg)
{
  const struct finish_case *fc = arg;
  char cwd[256];
  int listener = -2;

  CHECK_ARCA_OK (arca_process_finish (fc->process, NULL, &listener, &err));
  CHECK (listener == -1);
  CHECK_FIELD ("Uid", "1000\t1000\t1000\t1000");
  CHECK_FIELD ("Gid", "1001\t1001\t1001\t1001");
  CHECK_FIELD ("Groups", "10 20 ");
  CHECK_CAPS ("CapBnd", bounding);
  CHECK_CAPS ("CapEff", effective);
  CHECK_CAPS ("CapPrm", effective);
  CHECK_CAPS ("CapInh", inheritable);
  CHECK_CAPS ("CapAmb", CAP (CAP_NET_BIND_SERVICE));
  CHECK_FIELD ("NoNewPrivs", "1");
  CHECK (umask (0) == 027);
  CHECK (getcwd (cwd, sizeof (cwd)) != NULL && strcmp (cwd, fc->fx->dir) == 0);

  /* What the program sees after execve: the ambient capability alone. */
  umask (027);
  CHECK (dup2 (out, 1) == 1);
  execl (BUSYBOX, BUSYBOX, "sh", "-c",
         "grep -E '^(Cap(Inh|Prm|Eff|Amb)|NoNewPrivs|Uid|Groups):' /proc/self/status; umask; pwd",
         NULL);
  CHECK (!"execl");
}

static void
test_finish_identity_and_caps (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_process p;
  gid_t groups[2];
  struct child c;
  char want[512];

  if (skip_unless_root ())
    skip ();
  if (access (BUSYBOX, X_OK) < 0)
    skip ();
  unprivileged_process (&p, fx, groups);
  run_child (&c, finish_child, &(struct finish_case){ .fx = fx, .process = &p });
  assert_child_ok (&c);
  snprintf (want, sizeof (want),
            "Uid:\t1000\t1000\t1000\t1000\n"
            "Groups:\t10 20 \n"
            "CapInh:\t0000000000000400\n"
            "CapPrm:\t0000000000000400\n"
            "CapEff:\t0000000000000400\n"
            "CapAmb:\t0000000000000400\n"
            "NoNewPrivs:\t1\n"
            "0027\n"
            "%s\n",
            fx->dir);
  assert_string_equal (c.text, want);
}

/* Root keeping its capabilities, no groups: setgroups clears the runtime's. */
static void
finish_root_child (int out, void *arg)
{
  const struct finish_case *fc = arg;
  int listener = -2;
  gid_t extra = 4242;

  CHECK (setgroups (1, &extra) == 0);
  CHECK_ARCA_OK (arca_process_finish (fc->process, NULL, &listener, &err));
  CHECK_FIELD ("Uid", "0\t0\t0\t0");
  CHECK_FIELD ("Groups", "");
  CHECK_FIELD ("NoNewPrivs", "0");
  CHECK_CAPS ("CapAmb", 0);
  CHECK (umask (0) == 0 || !fc->process->user.has_umask);
}

static void
test_finish_root (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_process p = { .cwd = "/", .user = { .has_umask = true, .umask = 0 } };
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, finish_root_child, &(struct finish_case){ .fx = fx, .process = &p });
  assert_child_ok (&c);
}

/* Seccomp goes in before the uid switch without noNewPrivileges (loading
 * needs CAP_SYS_ADMIN then) and last with it; both must work as uid 1000. */
static void
finish_seccomp_child (int out, void *arg)
{
  const struct finish_case *fc = arg;
  char path[128];
  int listener = -2;

  CHECK_ARCA_OK (arca_process_finish (fc->process, fc->seccomp, &listener, &err));
  CHECK (listener == -1);
  CHECK_FIELD ("Uid", "1000\t1000\t1000\t1000");
  CHECK_FIELD ("Seccomp", "2");
  CHECK_FIELD ("NoNewPrivs", fc->process->no_new_privileges ? "1" : "0");
  snprintf (path, sizeof (path), "%s/sub", fc->fx->dir);
  CHECK (mkdir (path, 0755) < 0 && errno == EPERM);
}

static void
test_finish_seccomp (void **state)
{
  struct fixture *fx = *state;
  static const char *const names[] = { "mkdir", "mkdirat", NULL };
  struct arca_oci_seccomp_rule rule = { .names = (char **)names, .action = SCMP_ACT_ERRNO (0) };
  struct arca_oci_seccomp s
      = { .default_action = SCMP_ACT_ALLOW, .syscalls = &rule, .n_syscalls = 1 };
  struct arca_oci_process p;
  gid_t groups[2];
  struct child c;

  if (skip_unless_root ())
    skip ();
  unprivileged_process (&p, fx, groups);
  assert_int_equal (chmod (fx->dir, 0777), 0);
  for (int nnp = 0; nnp <= 1; nnp++)
    {
      p.no_new_privileges = nnp;
      /* without CAP_SYS_ADMIN in any set, only the ordering makes it work */
      run_child (&c, finish_seccomp_child,
                 &(struct finish_case){ .fx = fx, .process = &p, .seccomp = &s });
      if (!WIFEXITED (c.status) || WEXITSTATUS (c.status) != 0)
        fail_msg ("noNewPrivileges=%d: %s", nnp, c.text);
    }
}

static void
finish_errors_child (int out, void *arg)
{
  const struct finish_case *fc = arg;
  int listener = -2;
  char missing[128];

  snprintf (missing, sizeof (missing), "%s/missing", fc->fx->dir);
  fc->process->cwd = missing;
  CHECK_ARCA_ERROR (arca_process_finish (fc->process, NULL, &listener, &err), ENOENT,
                    "process.cwd: chdir `");
  CHECK (listener == -1);
}

static void
test_finish_errors (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_process p;
  gid_t groups[2];
  struct child c;

  if (skip_unless_root ())
    skip ();
  unprivileged_process (&p, fx, groups);
  run_child (&c, finish_errors_child, &(struct finish_case){ .fx = fx, .process = &p });
  assert_child_ok (&c);
}

/* ---- signals ----------------------------------------------------------- */

static void
on_usr1 (int sig)
{
}

static void
signals_child (int out, void *arg)
{
  struct sigaction sa = { .sa_handler = on_usr1 };
  sigset_t set;

  CHECK (signal (SIGPIPE, SIG_IGN) != SIG_ERR);
  CHECK (signal (SIGHUP, SIG_IGN) != SIG_ERR);
  CHECK (sigaction (SIGUSR1, &sa, NULL) == 0);
  CHECK (signal (SIGRTMAX, SIG_IGN) != SIG_ERR);
  CHECK (sigaction (SIGRTMIN + 1, &sa, NULL) == 0);
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGCHLD);
  sigaddset (&set, SIGRTMIN);
  CHECK (sigprocmask (SIG_BLOCK, &set, NULL) == 0);
  CHECK (status_hex ("SigIgn") != 0 && status_hex ("SigBlk") != 0 && status_hex ("SigCgt") != 0);

  arca_process_reset_signals ();
  CHECK_CAPS ("SigIgn", 0);
  CHECK_CAPS ("SigBlk", 0);
  CHECK_CAPS ("SigCgt", 0);

  /* and what the program inherits */
  CHECK (dup2 (out, 1) == 1);
  execl (BUSYBOX, BUSYBOX, "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL);
  CHECK (!"execl");
}

static void
test_reset_signals (void **state)
{
  struct child c;

  if (access (BUSYBOX, X_OK) < 0)
    skip ();
  run_child (&c, signals_child, NULL);
  assert_child_ok (&c);
  assert_string_equal (c.text, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rlimit_above_host),
    cmocka_unit_test (test_rlimit_above_nr_open),
    cmocka_unit_test (test_rlimit_apply),
    cmocka_unit_test (test_oom_score_adj),
    cmocka_unit_test (test_prepare_fds),
    cmocka_unit_test_setup_teardown (test_find_program, setup, teardown),
    cmocka_unit_test_setup_teardown (test_find_program_empty_path_entry, setup, teardown),
    cmocka_unit_test_setup_teardown (test_finish_identity_and_caps, setup, teardown),
    cmocka_unit_test_setup_teardown (test_finish_root, setup, teardown),
    cmocka_unit_test_setup_teardown (test_finish_seccomp, setup, teardown),
    cmocka_unit_test_setup_teardown (test_finish_errors, setup, teardown),
    cmocka_unit_test (test_reset_signals),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
