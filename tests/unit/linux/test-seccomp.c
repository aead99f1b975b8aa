/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux/seccomp: every case forks a child that loads a filter with
 * arca_seccomp_load() and then checks, with real system calls, what the
 * kernel does to it.  The child reports a failed check as text on a pipe
 * and exit status 1; the parent asserts on the wait status (a KILL action
 * shows up as SIGSYS) and on the text.  Loading a filter without
 * no_new_privs needs CAP_SYS_ADMIN: skipped when not root. */
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
#include <jansson.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/seccomp-filter.h"

/* si_code of a SIGSYS from seccomp (asm-generic/siginfo.h clashes with
 * glibc's signal.h). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif
#include "oci/config.h"
#include "util/cleanup.h"
#include "util/error.h"

/* ---- child plumbing ---------------------------------------------------- */

struct child
{
  pid_t pid;
  int out; /* read end of the report pipe */
  int status;
  char text[8192];
};

/* Runs in the child: checks and reports through fd `out`. */
typedef void (*child_fn) (int out, void *arg);

static _Noreturn void
child_fail (int out, int line, const char *what, int saved_errno)
{
  char buf[512];
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

/* Asserts a raw system call result: -1 with `e`. */
#define CHECK_ERRNO(call, e)                                                                       \
  do                                                                                               \
    {                                                                                              \
      errno = 0;                                                                                   \
      long r_ = (long)(call);                                                                      \
      if (r_ != -1 || errno != (e))                                                                \
        child_fail (out, __LINE__, #call " should fail with " #e, errno);                          \
    }                                                                                              \
  while (0)

static void
report (int out, const char *text)
{
  (void)!write (out, text, strlen (text));
}

static void
start_child (struct child *c, child_fn fn, void *arg)
{
  int p[2];

  memset (c, 0, sizeof (*c));
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  fflush (NULL);
  c->pid = fork ();
  assert_true (c->pid >= 0);
  if (c->pid == 0)
    {
      /* A KILL or TRAP action dumps core by default: not here. */
      struct rlimit no_core = { 0, 0 };
      static const int fatal[] = { SIGSYS, SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGABRT };
      close (p[0]);
      (void)setrlimit (RLIMIT_CORE, &no_core);
      /* cmocka catches these to report a crash and carry on: in the child
       * that would run the rest of the suite.  A SIGSYS must kill. */
      for (size_t i = 0; i < ARRAY_SIZE (fatal); i++)
        signal (fatal[i], SIG_DFL);
      fn (p[1], arg);
      _exit (0);
    }
  close (p[1]);
  c->out = p[0];
}

static void
finish_child (struct child *c)
{
  size_t len = 0;
  ssize_t n;

  while ((n = read (c->out, c->text + len, sizeof (c->text) - 1 - len)) > 0)
    len += (size_t)n;
  c->text[len] = '\0';
  close (c->out);
  assert_int_equal (waitpid (c->pid, &c->status, 0), c->pid);
}

static void
run_child (struct child *c, child_fn fn, void *arg)
{
  start_child (c, fn, arg);
  finish_child (c);
}

static void
assert_child_ok (const struct child *c)
{
  if (!WIFEXITED (c->status) || WEXITSTATUS (c->status) != 0)
    fail_msg ("child status 0x%x: %s", c->status, c->text);
}

static void
assert_child_killed (const struct child *c, int sig)
{
  if (!WIFSIGNALED (c->status) || WTERMSIG (c->status) != sig)
    fail_msg ("child status 0x%x, expected signal %d: %s", c->status, sig, c->text);
}

static bool
skip_unless_root (void)
{
  if (geteuid () == 0)
    return false;
  print_message ("not root: skipped\n");
  return true;
}

/* ---- fixture ------------------------------------------------------------ */

struct fixture
{
  char dir[64];   /* /tmp/arca-seccomp-XXXXXX */
  char path[128]; /* dir/d: what mkdir probes create */
};

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof (*fx));

  assert_non_null (fx);
  strcpy (fx->dir, "/tmp/arca-seccomp-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  snprintf (fx->path, sizeof (fx->path), "%s/d", fx->dir);
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

/* ---- building configs ---------------------------------------------------- */

static const char *const mkdir_names[] = { "mkdir", "mkdirat", NULL };

static struct arca_oci_seccomp_rule
rule (const char *const *names, uint32_t action)
{
  return (struct arca_oci_seccomp_rule){ .names = (char **)names, .action = action };
}

static struct arca_oci_seccomp
profile (uint32_t default_action, struct arca_oci_seccomp_rule *rules, size_t n)
{
  return (struct arca_oci_seccomp){ .default_action = default_action,
                                    .syscalls = rules,
                                    .n_syscalls = n };
}

/* A child that loads the filter and runs a probe. */
struct load_case
{
  const struct arca_oci_seccomp *seccomp;
  const struct fixture *fx;
  void (*probe) (int out, const struct load_case *lc);
  uint64_t arg; /* for the probe */
};

static void
load_and_probe (int out, void *arg)
{
  const struct load_case *lc = arg;
  cleanup_error arca_error *err = NULL;
  int listener = -2;

  if (arca_seccomp_load (lc->seccomp, &listener, &err) < 0)
    {
      report (out, "load failed: ");
      report (out, err->msg);
      _exit (1);
    }
  CHECK (listener == -1);
  lc->probe (out, lc);
}

static void
run_load_case (struct child *c, const struct fixture *fx, const struct arca_oci_seccomp *s,
               void (*probe) (int, const struct load_case *), uint64_t arg)
{
  struct load_case lc = { .seccomp = s, .fx = fx, .probe = probe, .arg = arg };
  run_child (c, load_and_probe, &lc);
}

/* A child that expects arca_seccomp_load() to fail; reports the message. */
static void
load_expect_error (int out, void *arg)
{
  const struct arca_oci_seccomp *s = arg;
  cleanup_error arca_error *err = NULL;
  char buf[64];

  if (arca_seccomp_load (s, NULL, &err) == 0)
    {
      report (out, "loaded");
      _exit (1);
    }
  snprintf (buf, sizeof (buf), "%d|", err->errnum);
  report (out, buf);
  report (out, err->msg);
}

static void
assert_load_error (const struct arca_oci_seccomp *s, int errnum, const char *needle)
{
  struct child c;
  char prefix[32];

  run_child (&c, load_expect_error, (void *)s);
  assert_child_ok (&c);
  snprintf (prefix, sizeof (prefix), "%d|", errnum);
  if (strncmp (c.text, prefix, strlen (prefix)) != 0 || strstr (c.text, needle) == NULL)
    fail_msg ("expected errno %d and \"%s\", got \"%s\"", errnum, needle, c.text);
}

/* ---- ERRNO actions ---------------------------------------------------- */

/* mkdir and mkdirat fail with arg as errno and create nothing; the rest works. */
static void
probe_mkdir_errno (int out, const struct load_case *lc)
{
  struct stat st;
  int e = (int)lc->arg;

  CHECK_ERRNO (mkdir (lc->fx->path, 0755), e);
  CHECK_ERRNO (syscall (SYS_mkdirat, AT_FDCWD, lc->fx->path, 0755), e);
  CHECK (stat (lc->fx->path, &st) < 0 && errno == ENOENT);
  CHECK (getppid () > 1);
  CHECK_ERRNO (rmdir (lc->fx->path), ENOENT);
}

static void
test_errno_default_eperm (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_load_case (&c, fx, &s, probe_mkdir_errno, EPERM);
  assert_child_ok (&c);
}

static void
test_errno_ret (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  r.has_errno_ret = true;
  r.errno_ret = ENOSYS;
  run_load_case (&c, fx, &s, probe_mkdir_errno, ENOSYS);
  assert_child_ok (&c);

  /* A payload already in the action is kept when errnoRet is absent. */
  r = rule (mkdir_names, SCMP_ACT_ERRNO (EROFS));
  run_load_case (&c, fx, &s, probe_mkdir_errno, EROFS);
  assert_child_ok (&c);

  /* errnoRet wins over an encoded payload. */
  r = rule (mkdir_names, SCMP_ACT_ERRNO (EROFS));
  r.has_errno_ret = true;
  r.errno_ret = EXDEV;
  run_load_case (&c, fx, &s, probe_mkdir_errno, EXDEV);
  assert_child_ok (&c);
}

/* errnoRet 0: the call "succeeds" without running. */
static void
probe_mkdir_zero (int out, const struct load_case *lc)
{
  struct stat st;

  CHECK (mkdir (lc->fx->path, 0755) == 0);
  CHECK (stat (lc->fx->path, &st) < 0 && errno == ENOENT);
}

static void
test_errno_ret_zero (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  r.has_errno_ret = true;
  r.errno_ret = 0;
  run_load_case (&c, fx, &s, probe_mkdir_zero, 0);
  assert_child_ok (&c);
}

/* Everything the child needs after the load, and nothing it probes. */
/* Everything the child needs after the load, and nothing it probes:
 * generous, because sanitizer runtimes make calls of their own
 * (sigaltstack, madvise, ...). */
static const char *const minimal_allow[] = {
  "read",
  "write",
  "writev",
  "close",
  "exit",
  "exit_group",
  "getpid",
  "gettid",
  "tgkill",
  "kill",
  "rt_sigreturn",
  "rt_sigaction",
  "rt_sigprocmask",
  "sigaltstack",
  "brk",
  "mmap",
  "munmap",
  "mprotect",
  "madvise",
  "mremap",
  "fstat",
  "newfstatat",
  "stat",
  "statx",
  "openat",
  "open",
  "readlink",
  "readlinkat",
  "lseek",
  "getrlimit",
  "prlimit64",
  "prctl",
  "arch_prctl",
  "sched_yield",
  "futex",
  "nanosleep",
  "clock_gettime",
  "clock_nanosleep",
  "rmdir",
  NULL,
};

static void
probe_default_errno (int out, const struct load_case *lc)
{
  int e = (int)lc->arg;

  CHECK (getpid () > 1);
  CHECK_ERRNO (mkdir (lc->fx->path, 0755), e);
  CHECK_ERRNO (syscall (SYS_getppid), e);
  CHECK_ERRNO (syscall (SYS_getuid), e);
  /* rmdir is allowed: the kernel's own answer. */
  CHECK_ERRNO (rmdir (lc->fx->path), ENOENT);
}

static void
test_default_errno_allow_list (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (minimal_allow, SCMP_ACT_ALLOW);
  struct arca_oci_seccomp s = profile (SCMP_ACT_ERRNO (0), &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_load_case (&c, fx, &s, probe_default_errno, EPERM);
  assert_child_ok (&c);

  s.has_default_errno_ret = true;
  s.default_errno_ret = EACCES;
  run_load_case (&c, fx, &s, probe_default_errno, EACCES);
  assert_child_ok (&c);
}

/* A rule whose action is the default action changes nothing; libseccomp
 * refuses it (EACCES), so it must be dropped, not passed on. */
static void
test_rule_same_as_default (void **state)
{
  struct fixture *fx = *state;
  static const char *const getppid_name[] = { "getppid", NULL };
  struct arca_oci_seccomp_rule rules[3] = {
    rule (minimal_allow, SCMP_ACT_ALLOW),
    rule (getppid_name, SCMP_ACT_ERRNO (0)), /* EPERM, as the default */
    rule (mkdir_names, SCMP_ACT_ERRNO (EPERM)),
  };
  struct arca_oci_seccomp s = profile (SCMP_ACT_ERRNO (0), rules, 3);
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_load_case (&c, fx, &s, probe_default_errno, EPERM);
  assert_child_ok (&c);

  struct arca_oci_seccomp_rule allow_all = rule (mkdir_names, SCMP_ACT_ALLOW);
  struct arca_oci_seccomp s2 = profile (SCMP_ACT_ALLOW, &allow_all, 1);
  run_load_case (&c, fx, &s2, probe_mkdir_zero, 0);
  /* mkdir ran: probe_mkdir_zero's "nothing created" check fails. */
  assert_true (WIFEXITED (c.status) && WEXITSTATUS (c.status) == 1);
  assert_non_null (strstr (c.text, "stat"));
}

/* ---- argument conditions ------------------------------------------------ */

#define PROBE_ERRNO EXDEV

static long
umask_raw (unsigned long v)
{
  return syscall (SYS_umask, v);
}

/* lc->arg: bit i set when umask(9 + i) must be refused. */
static void
probe_umask (int out, const struct load_case *lc)
{
  for (unsigned i = 0; i < 3; i++)
    {
      errno = 0;
      long r = umask_raw (9 + i);
      bool refused = r == -1 && errno == PROBE_ERRNO;
      if (refused != !!(lc->arg & (1u << i)))
        {
          char buf[128];
          snprintf (buf, sizeof (buf), "umask(%u): refused=%d, expected %d\n", 9 + i, refused,
                    !refused);
          report (out, buf);
          _exit (1);
        }
    }
}

static void
test_arg_operators (void **state)
{
  struct fixture *fx = *state;
  static const char *const umask_name[] = { "umask", NULL };
  static const struct
  {
    enum arca_seccomp_op op;
    uint64_t value, value_two;
    unsigned refused; /* of 9, 10, 11 */
  } cases[] = {
    { ARCA_SCMP_NE, 10, 0, 0x5 },
    { ARCA_SCMP_LT, 10, 0, 0x1 },
    { ARCA_SCMP_LE, 10, 0, 0x3 },
    { ARCA_SCMP_EQ, 10, 0, 0x2 },
    { ARCA_SCMP_GE, 10, 0, 0x6 },
    { ARCA_SCMP_GT, 10, 0, 0x4 },
    /* value is the mask, valueTwo the expected result: 9&0xe=8, 10&0xe=0xa, 11&0xe=0xa */
    { ARCA_SCMP_MASKED_EQ, 0xe, 0xa, 0x6 },
  };

  if (skip_unless_root ())
    skip ();
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      struct arca_oci_seccomp_arg a = {
        .index = 0, .op = cases[i].op, .value = cases[i].value, .value_two = cases[i].value_two
      };
      struct arca_oci_seccomp_rule r = rule (umask_name, SCMP_ACT_ERRNO (PROBE_ERRNO));
      struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
      struct child c;

      r.args = &a;
      r.n_args = 1;
      run_load_case (&c, fx, &s, probe_umask, cases[i].refused);
      if (!WIFEXITED (c.status) || WEXITSTATUS (c.status) != 0)
        fail_msg ("operator %d: %s", (int)cases[i].op, c.text);
    }
}

/* Two conditions on one argument mean either (as runc and crun split
 * them); conditions on different arguments mean both. */
static void
probe_or_and (int out, const struct load_case *lc)
{
  pid_t self = getpid ();

  CHECK_ERRNO (umask_raw (9), PROBE_ERRNO);
  CHECK (umask_raw (10) >= 0);
  CHECK_ERRNO (umask_raw (11), PROBE_ERRNO);

  CHECK_ERRNO (syscall (SYS_kill, self, 0), PROBE_ERRNO);
  CHECK (syscall (SYS_kill, self, SIGCONT) == 0);
  CHECK (syscall (SYS_kill, getppid (), 0) == 0);
}

static void
or_and_child (int out, void *arg)
{
  struct load_case *lc = arg;

  /* The child's copy of the parent's stack: patch in our pid. */
  lc->seccomp->syscalls[1].args[1].value = (uint64_t)getpid ();
  load_and_probe (out, arg);
}

static void
test_arg_or_and (void **state)
{
  struct fixture *fx = *state;
  static const char *const umask_name[] = { "umask", NULL };
  static const char *const kill_name[] = { "kill", NULL };
  struct arca_oci_seccomp_arg umask_args[2] = {
    { .index = 0, .op = ARCA_SCMP_EQ, .value = 9 },
    { .index = 0, .op = ARCA_SCMP_EQ, .value = 11 },
  };
  /* kill(self, 0): the child fills in its own pid (or_and_child). */
  struct arca_oci_seccomp_arg kill_args[2] = {
    { .index = 1, .op = ARCA_SCMP_EQ, .value = 0 },
    { .index = 0, .op = ARCA_SCMP_EQ, .value = 0 },
  };
  struct arca_oci_seccomp_rule rules[2] = {
    rule (umask_name, SCMP_ACT_ERRNO (PROBE_ERRNO)),
    rule (kill_name, SCMP_ACT_ERRNO (PROBE_ERRNO)),
  };
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, rules, 2);
  struct child c;

  if (skip_unless_root ())
    skip ();
  rules[0].args = umask_args;
  rules[0].n_args = 2;
  rules[1].args = kill_args;
  rules[1].n_args = 2;
  run_child (&c, or_and_child,
             &(struct load_case){ .seccomp = &s, .fx = fx, .probe = probe_or_and });
  assert_child_ok (&c);
}

/* personality(0xffffffff) is the query; block only it. */
static void
probe_personality (int out, const struct load_case *lc)
{
  CHECK_ERRNO (syscall (SYS_personality, 0xffffffffUL), EPERM);
  CHECK (syscall (SYS_personality, (unsigned long)PER_LINUX) >= 0);
  /* masked: READ_IMPLIES_EXEC refused in any combination */
  CHECK_ERRNO (syscall (SYS_personality, (unsigned long)READ_IMPLIES_EXEC), EACCES);
  CHECK_ERRNO (syscall (SYS_personality, (unsigned long)(READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE)),
               EACCES);
  CHECK (syscall (SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE) >= 0);
  CHECK (syscall (SYS_personality, (unsigned long)PER_LINUX) >= 0);
}

static void
test_arg_personality (void **state)
{
  struct fixture *fx = *state;
  static const char *const pers[] = { "personality", NULL };
  struct arca_oci_seccomp_arg eq = { .index = 0, .op = ARCA_SCMP_EQ, .value = 0xffffffff };
  struct arca_oci_seccomp_arg masked = { .index = 0,
                                         .op = ARCA_SCMP_MASKED_EQ,
                                         .value = READ_IMPLIES_EXEC,
                                         .value_two = READ_IMPLIES_EXEC };
  struct arca_oci_seccomp_rule rules[2] = {
    rule (pers, SCMP_ACT_ERRNO (0)),
    rule (pers, SCMP_ACT_ERRNO (EACCES)),
  };
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, rules, 2);
  struct child c;

  if (skip_unless_root ())
    skip ();
  rules[0].args = &eq;
  rules[0].n_args = 1;
  rules[1].args = &masked;
  rules[1].n_args = 1;
  run_load_case (&c, fx, &s, probe_personality, 0);
  assert_child_ok (&c);
}

/* ---- KILL, TRAP, LOG ----------------------------------------------------- */

static void
probe_mkdir_dies (int out, const struct load_case *lc)
{
  CHECK (getpid () > 1);
  (void)mkdir (lc->fx->path, 0755);
  report (out, "mkdir returned\n");
  _exit (1);
}

static void
test_kill (void **state)
{
  struct fixture *fx = *state;
  static const uint32_t actions[] = { SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS };

  if (skip_unless_root ())
    skip ();
  for (size_t i = 0; i < ARRAY_SIZE (actions); i++)
    {
      struct arca_oci_seccomp_rule r = rule (mkdir_names, actions[i]);
      struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
      struct child c;
      struct stat st;

      run_load_case (&c, fx, &s, probe_mkdir_dies, 0);
      assert_child_killed (&c, SIGSYS);
      assert_int_equal (stat (fx->path, &st), -1);
    }
}

/* Written by the SIGSYS handler of the TRAP child only (a signal handler
 * has nowhere else to put what it saw). */
static volatile sig_atomic_t trap_count, trap_syscall, trap_code;

static void
on_sigsys (int sig, siginfo_t *si, void *ucontext)
{
  trap_count++;
  trap_syscall = si->si_syscall;
  trap_code = si->si_code;
}

static void
probe_trap (int out, const struct load_case *lc)
{
  struct stat st;

  /* The call is skipped; the handler runs before it "returns". */
  (void)syscall (SYS_mkdir, lc->fx->path, 0755);
  CHECK (trap_count == 1);
  CHECK (trap_syscall == SYS_mkdir);
  CHECK (trap_code == SYS_SECCOMP);
  CHECK (stat (lc->fx->path, &st) < 0 && errno == ENOENT);
  CHECK (getppid () > 1);
}

static void
trap_child (int out, void *arg)
{
  struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

  CHECK (sigaction (SIGSYS, &sa, NULL) == 0);
  load_and_probe (out, arg);
}

static void
test_trap (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_TRAP);
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, trap_child, &(struct load_case){ .seccomp = &s, .fx = fx, .probe = probe_trap });
  assert_child_ok (&c);

  /* Without a handler, TRAP kills with SIGSYS. */
  run_load_case (&c, fx, &s, probe_mkdir_dies, 0);
  assert_child_killed (&c, SIGSYS);
}

static void
probe_mkdir_works (int out, const struct load_case *lc)
{
  struct stat st;

  CHECK (mkdir (lc->fx->path, 0755) == 0);
  CHECK (stat (lc->fx->path, &st) == 0 && S_ISDIR (st.st_mode));
  CHECK (rmdir (lc->fx->path) == 0);
}

static void
test_log (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_LOG);
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  /* LOG lets the call through. */
  run_load_case (&c, fx, &s, probe_mkdir_works, 0);
  assert_child_ok (&c);

  /* LOG as the default action, with an ERRNO rule. */
  r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  s = profile (SCMP_ACT_LOG, &r, 1);
  run_load_case (&c, fx, &s, probe_mkdir_errno, EPERM);
  assert_child_ok (&c);
}

/* TRACE without a tracer: the kernel fails the call with ENOSYS. */
static void
test_trace_without_tracer (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_TRACE (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_load_case (&c, fx, &s, probe_mkdir_errno, ENOSYS);
  assert_child_ok (&c);
}

/* ---- names, architectures, actions, flags ------------------------------- */

static void
test_unknown_names_skipped (void **state)
{
  struct fixture *fx = *state;
  static const char *const names[] = {
    "arca_no_such_syscall", "mkdir", "", "mkdirat", "socketcall" /* not on x86_64 */, NULL,
  };
  struct arca_oci_seccomp_rule r = rule (names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_load_case (&c, fx, &s, probe_mkdir_errno, EPERM);
  assert_child_ok (&c);
}

static void
test_bad_architecture (void **state)
{
  uint32_t archs[2] = { SCMP_ARCH_NATIVE, 0x12345678 };
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);

  if (skip_unless_root ())
    skip ();
  s.architectures = archs;
  s.n_architectures = 2;
  archs[0] = seccomp_arch_native ();
  assert_load_error (&s, EINVAL, "linux.seccomp.architectures[1]");
}

static void
test_foreign_architecture (void **state)
{
  struct fixture *fx = *state;
  /* A filter may list architectures other than this machine's. */
  uint32_t archs[3] = { SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_X86 };
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  s.architectures = archs;
  s.n_architectures = 3;
  run_load_case (&c, fx, &s, probe_mkdir_errno, EPERM);
  assert_child_ok (&c);
}

static void
test_bad_action (void **state)
{
  static const char *const names[] = { "getppid", NULL };
  struct arca_oci_seccomp_arg bad_index = { .index = 6, .op = ARCA_SCMP_EQ };
  struct arca_oci_seccomp_arg bad_op = { .index = 0, .op = 0 };
  struct arca_oci_seccomp_rule rules[2] = {
    rule (mkdir_names, SCMP_ACT_ERRNO (0)),
    rule (names, 0x12340000),
  };
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, rules, 2);

  if (skip_unless_root ())
    skip ();
  assert_load_error (&s, EINVAL, "linux.seccomp.syscalls[1].action");

  rules[1].action = SCMP_ACT_KILL_PROCESS | 1; /* KILL takes no payload */
  assert_load_error (&s, EINVAL, "linux.seccomp.syscalls[1].action");

  s = profile (0x12340000, rules, 1);
  assert_load_error (&s, EINVAL, "linux.seccomp.defaultAction");

  /* There is no one to answer a default NOTIFY. */
  s = profile (SCMP_ACT_NOTIFY, rules, 1);
  assert_load_error (&s, EINVAL, "linux.seccomp.defaultAction");

  s = profile (SCMP_ACT_ALLOW, rules, 2);
  rules[1].action = SCMP_ACT_ERRNO (0);
  rules[1].args = &bad_index;
  rules[1].n_args = 1;
  assert_load_error (&s, EINVAL, "linux.seccomp.syscalls[1].args[0].index");
  rules[1].args = &bad_op;
  assert_load_error (&s, EINVAL, "linux.seccomp.syscalls[1].args[0].op");
}

static bool
kernel_has_action (const char *name)
{
  cleanup_free char *line = NULL;
  size_t cap = 0;
  cleanup_file FILE *f = fopen ("/proc/sys/kernel/seccomp/actions_avail", "re");
  bool found = false;

  if (f == NULL || getline (&line, &cap, f) < 0)
    return false;
  for (char *save = NULL, *tok = strtok_r (line, " \n", &save); tok;
       tok = strtok_r (NULL, " \n", &save))
    if (strcmp (tok, name) == 0)
      found = true;
  return found;
}

static void
test_flags (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_ERRNO (0));
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct child c;

  if (skip_unless_root ())
    skip ();
  /* SECCOMP_FILTER_FLAG_LOG came with the "log" action (4.14),
   * SPEC_ALLOW in 4.17: libseccomp's API level 4 says the kernel has it. */
  if (kernel_has_action ("log"))
    {
      s.flags = ARCA_SECCOMP_FLAG_LOG;
      run_load_case (&c, fx, &s, probe_mkdir_errno, EPERM);
      assert_child_ok (&c);
    }
  if (seccomp_api_get () >= 4)
    {
      s.flags
          = ARCA_SECCOMP_FLAG_SPEC_ALLOW | (kernel_has_action ("log") ? ARCA_SECCOMP_FLAG_LOG : 0);
      run_load_case (&c, fx, &s, probe_mkdir_errno, EPERM);
      assert_child_ok (&c);
    }

  s.flags = 1u << 7;
  assert_load_error (&s, EINVAL, "linux.seccomp.flags: unknown flag 0x80");

#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
  s.flags = ARCA_SECCOMP_FLAG_WAIT_KILLABLE;
  assert_load_error (&s, ENOTSUP, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
#endif
}

/* ---- SCMP_ACT_NOTIFY and listenerPath ----------------------------------- */

/* The container state the runtime passes in: the listener gets it wrapped
 * in a containerProcessState. */
#define STATE_JSON                                                                                 \
  "{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"creating\",\"pid\":4242,"                   \
  "\"bundle\":\"/b\"}"

struct notify_case
{
  struct arca_oci_seccomp *seccomp;
  const struct fixture *fx;
};

static void
notify_child (int out, void *arg)
{
  const struct notify_case *nc = arg;
  cleanup_error arca_error *err = NULL;
  struct stat st;
  int fd = -1;

  if (arca_seccomp_load (nc->seccomp, &fd, &err) < 0
      || arca_seccomp_send_listener (nc->seccomp, fd, STATE_JSON, &err) < 0)
    {
      report (out, err->msg);
      _exit (1);
    }
  CHECK (fd >= 0);
  CHECK (fcntl (fd, F_GETFD) == FD_CLOEXEC);
  close (fd);
  /* The parent answers EXDEV to the first call ... */
  CHECK_ERRNO (mkdir (nc->fx->path, 0755), EXDEV);
  CHECK (stat (nc->fx->path, &st) < 0 && errno == ENOENT);
  /* ... and lets the second one run. */
  CHECK (syscall (SYS_mkdirat, AT_FDCWD, nc->fx->path, 0755) == 0);
  CHECK (stat (nc->fx->path, &st) == 0 && S_ISDIR (st.st_mode));
}

/* Kills the child before failing, so a failed check does not leave it
 * waiting for an answer. */
#define PCHECK(c, cond)                                                                            \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          kill ((c)->pid, SIGKILL);                                                                \
          finish_child (c);                                                                        \
          fail_msg ("%s (errno %d); child: %s", #cond, errno, (c)->text);                          \
        }                                                                                          \
    }                                                                                              \
  while (0)

static void
answer_notification (struct child *c, int notify_fd, int expect_nr, int error, uint32_t flags)
{
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  struct pollfd pfd = { .fd = notify_fd, .events = POLLIN };

  PCHECK (c, poll (&pfd, 1, 10000) == 1);
  memset (&req, 0, sizeof (req));
  PCHECK (c, ioctl (notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0);
  PCHECK (c, req.pid == (uint32_t)c->pid);
  PCHECK (c, req.data.nr == expect_nr);
  memset (&resp, 0, sizeof (resp));
  resp.id = req.id;
  resp.error = error;
  resp.flags = flags;
  PCHECK (c, ioctl (notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);
}

/* payload is a runtime-spec containerProcessState around STATE_JSON. */
static bool
check_process_state (const char *payload, const char *metadata)
{
  _cleanup_ (json_decrefp) json_t *doc = json_loads (payload, 0, NULL);
  _cleanup_ (json_decrefp) json_t *want_state = json_loads (STATE_JSON, 0, NULL);
  json_t *fds = json_object_get (doc, "fds");
  json_t *meta = json_object_get (doc, "metadata");

  if (doc == NULL || !json_is_object (doc))
    return false;
  if (!json_is_string (json_object_get (doc, "ociVersion"))
      || strcmp (json_string_value (json_object_get (doc, "ociVersion")), "1.0.2") != 0)
    return false;
  if (!json_is_array (fds) || json_array_size (fds) != 1
      || strcmp (json_string_value (json_array_get (fds, 0)) ?: "", "seccompFd") != 0)
    return false;
  if (json_integer_value (json_object_get (doc, "pid")) != 4242)
    return false;
  if (metadata == NULL ? meta != NULL
                       : !json_is_string (meta) || strcmp (json_string_value (meta), metadata) != 0)
    return false;
  return json_equal (json_object_get (doc, "state"), want_state);
}

static void
test_process_state_json (void **state)
{
  assert_true (check_process_state ("{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],"
                                    "\"pid\":4242,\"state\":" STATE_JSON "}",
                                    NULL));
  /* the checker itself can fail */
  assert_false (check_process_state (STATE_JSON, NULL));
  assert_false (check_process_state ("{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],"
                                     "\"pid\":4242,\"state\":" STATE_JSON "}",
                                     "m"));
}

static void
test_notify_listener (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp_rule r = rule (mkdir_names, SCMP_ACT_NOTIFY);
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, &r, 1);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int lsock = -1;
  cleanup_close int conn = -1;
  cleanup_close int notify_fd = -1;
  char payload[1024];
  size_t len = 0;
  struct child c;

  if (skip_unless_root ())
    skip ();
  if (!kernel_has_action ("user_notif"))
    skip ();
  snprintf (addr.sun_path, sizeof (addr.sun_path), "%s/listener.sock", fx->dir);
  s.listener_path = addr.sun_path;
  s.listener_metadata = (char *)"arca-test";
  lsock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (lsock >= 0);
  assert_int_equal (bind (lsock, (struct sockaddr *)&addr, sizeof (addr)), 0);
  assert_int_equal (listen (lsock, 1), 0);

  start_child (&c, notify_child, &(struct notify_case){ .seccomp = &s, .fx = fx });

  struct pollfd pfd = { .fd = lsock, .events = POLLIN };
  PCHECK (&c, poll (&pfd, 1, 10000) == 1);
  conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  PCHECK (&c, conn >= 0);
  for (;;)
    {
      union
      {
        char buf[CMSG_SPACE (sizeof (int) * 4)];
        struct cmsghdr align;
      } control;
      struct iovec iov = { .iov_base = payload + len, .iov_len = sizeof (payload) - 1 - len };
      struct msghdr msg = { .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof (control.buf) };
      ssize_t n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);

      PCHECK (&c, n >= 0);
      if (n == 0)
        break;
      for (struct cmsghdr *cm = CMSG_FIRSTHDR (&msg); cm; cm = CMSG_NXTHDR (&msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
          {
            /* Exactly one fd, with the first bytes. */
            PCHECK (&c, notify_fd < 0 && len == 0);
            PCHECK (&c, cm->cmsg_len == CMSG_LEN (sizeof (int)));
            memcpy (&notify_fd, CMSG_DATA (cm), sizeof (int));
          }
      PCHECK (&c, !(msg.msg_flags & MSG_CTRUNC));
      len += (size_t)n;
    }
  payload[len] = '\0';
  PCHECK (&c, notify_fd >= 0);
  PCHECK (&c, check_process_state (payload, "arca-test"));

  answer_notification (&c, notify_fd, SYS_mkdir, -EXDEV, 0);
  answer_notification (&c, notify_fd, SYS_mkdirat, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
  finish_child (&c);
  assert_child_ok (&c);
}

static void
test_send_listener_errors (void **state)
{
  struct fixture *fx = *state;
  struct arca_oci_seccomp s = profile (SCMP_ACT_ALLOW, NULL, 0);
  char path[256];
  char long_path[200];

  {
    cleanup_error arca_error *err = NULL;
    assert_int_equal (arca_seccomp_send_listener (&s, 0, STATE_JSON, &err), -1);
    assert_int_equal (err->errnum, EINVAL);
    assert_non_null (strstr (err->msg, "linux.seccomp.listenerPath"));
  }
  {
    cleanup_error arca_error *err = NULL;
    snprintf (path, sizeof (path), "%s/nobody-listens", fx->dir);
    s.listener_path = path;
    assert_int_equal (arca_seccomp_send_listener (&s, 0, STATE_JSON, &err), -1);
    assert_int_equal (err->errnum, ENOENT);
    assert_non_null (strstr (err->msg, path));
  }
  {
    cleanup_error arca_error *err = NULL;
    memset (long_path, 'a', sizeof (long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof (long_path) - 1] = '\0';
    s.listener_path = long_path;
    assert_int_equal (arca_seccomp_send_listener (&s, 0, STATE_JSON, &err), -1);
    assert_int_equal (err->errnum, ENAMETOOLONG);
    assert_non_null (strstr (err->msg, "linux.seccomp.listenerPath"));
  }
  /* The state must be a state document: pid and ociVersion are copied. */
  static const char *const bad_states[] = { "", "[1]", "{\"pid\":1}", "{\"ociVersion\":\"1\"}",
                                            "{\"ociVersion\":\"1\",\"pid\":\"1\"}" };
  s.listener_path = path;
  for (size_t i = 0; i < ARRAY_SIZE (bad_states); i++)
    {
      cleanup_error arca_error *err = NULL;
      assert_int_equal (arca_seccomp_send_listener (&s, 0, bad_states[i], &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      assert_non_null (strstr (err->msg, "seccomp listener"));
    }
}

/* ---- the default profile ---------------------------------------------- */

static void
load_default_profile (int out)
{
  cleanup_seccomp_profile struct arca_oci_seccomp *s = NULL;
  cleanup_error arca_error *err = NULL;
  int listener = -2;

  if (arca_seccomp_default_profile (&s, &err) < 0 || arca_seccomp_load (s, &listener, &err) < 0)
    {
      report (out, err->msg);
      _exit (1);
    }
  CHECK (listener == -1);
}

#if defined(__x86_64__)
/* A 32-bit system call from 64-bit code: the compat ABI the profile must
 * cover too (SCMP_ARCH_X86). */
static long
int80 (long nr, long a)
{
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}
#define I386_GETPID 20
#define I386_PERSONALITY 136
#define I386_UNSHARE 310

/* Whether int 0x80 works here at all: some kernels (a PVM guest's, for
   one) kill it with SIGSEGV even with IA32 emulation on, so it is tried in
   a child of its own. */
static bool
int80_works (void)
{
  pid_t pid = fork ();
  int status;
  if (pid == 0)
    {
      signal (SIGSEGV, SIG_DFL);
      _exit (int80 (I386_GETPID, 0) == getpid () ? 0 : 1);
    }
  return pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}
#endif

static void
default_profile_child (int out, void *arg)
{
  const struct fixture *fx = arg;
#if defined(__x86_64__)
  /* int 0x80 works on this kernel (ia32 emulation on)? */
  bool compat = int80_works ();
#endif
  int status;
  pid_t pid;

  load_default_profile (out);

  /* what ordinary programs do */
  CHECK (mkdir (fx->path, 0755) == 0);
  CHECK (rmdir (fx->path) == 0);
  CHECK (syscall (SYS_personality, 0xffffffffUL) >= 0);
  pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    _exit (7);
  CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 7);

  /* what they must not */
  CHECK_ERRNO (mount ("none", "/nonexistent-arca", "tmpfs", 0, NULL), EPERM);
  CHECK_ERRNO (umount2 ("/nonexistent-arca", 0), EPERM);
  CHECK_ERRNO (unshare (CLONE_NEWUSER), EPERM);
  CHECK_ERRNO (unshare (CLONE_NEWNS), EPERM);
  CHECK_ERRNO (syscall (SYS_setns, 0, 0), EPERM);
  /* CLONE_NEWUSER with CLONE_FS would be EINVAL from the kernel */
  CHECK_ERRNO (syscall (SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0), EPERM);
  CHECK_ERRNO (syscall (SYS_clone, CLONE_NEWNET | CLONE_FS | CLONE_NEWUSER, 0, 0, 0, 0), EPERM);
  CHECK_ERRNO (syscall (SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM);
  CHECK_ERRNO (syscall (SYS_add_key, "user", "arca", "x", 1, -3), EPERM);
  CHECK_ERRNO (syscall (SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0), EPERM);
  /* invalid flags: the kernel alone would say EINVAL and load nothing */
  CHECK_ERRNO (syscall (SYS_kexec_load, 0, 0, NULL, 0xffff0000UL), EPERM);
  CHECK_ERRNO (syscall (SYS_init_module, NULL, 0, ""), EPERM);
  CHECK_ERRNO (syscall (SYS_finit_module, -1, "", 0), EPERM);
  CHECK_ERRNO (syscall (SYS_delete_module, "arca_none", 0), EPERM);
  CHECK_ERRNO (syscall (SYS_bpf, 0, NULL, 0), EPERM);
  CHECK_ERRNO (syscall (SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
  CHECK_ERRNO (syscall (SYS_io_uring_setup, 0, NULL), EPERM);
  CHECK_ERRNO (syscall (SYS_userfaultfd, 0), EPERM);
  CHECK_ERRNO (syscall (SYS_pivot_root, "/nonexistent-arca", "/nonexistent-arca"), EPERM);
  CHECK_ERRNO (syscall (SYS_open_tree, -1, "/nonexistent-arca", 0), EPERM);
  CHECK_ERRNO (syscall (SYS_reboot, 0, 0, 0, NULL), EPERM);
  CHECK_ERRNO (syscall (SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE), EPERM);
  CHECK_ERRNO (syscall (SYS_personality, (unsigned long)READ_IMPLIES_EXEC), EPERM);
  /* clone3: ENOSYS, so libc falls back to clone */
  CHECK_ERRNO (syscall (SYS_clone3, NULL, 0), ENOSYS);

#if defined(__x86_64__)
  if (compat)
    {
      CHECK (int80 (I386_GETPID, 0) == getpid ());
      CHECK (int80 (I386_UNSHARE, CLONE_NEWUSER) == -EPERM);
      CHECK (int80 (I386_PERSONALITY, ADDR_NO_RANDOMIZE) == -EPERM);
    }
  else
    report (out, "note: no ia32 emulation, compat ABI not probed\n");
#endif
}

static void
test_default_profile (void **state)
{
  struct fixture *fx = *state;
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, default_profile_child, fx);
  assert_child_ok (&c);
}

struct exec_case
{
  const struct fixture *fx;
  const char *const *argv;
};

static void
default_profile_exec_child (int out, void *arg)
{
  const struct exec_case *ec = arg;

  CHECK (dup2 (out, 1) == 1);
  CHECK (dup2 (out, 2) == 2);
  CHECK (chdir (ec->fx->dir) == 0);
  load_default_profile (out);
  execv (ec->argv[0], (char **)ec->argv);
  CHECK (!"execv");
}

static void
test_default_profile_busybox (void **state)
{
  struct fixture *fx = *state;
  static const char *const sh[] = {
    "/bin/busybox",
    "sh",
    "-c",
    "echo ok; mkdir x && rmdir x && echo $(echo sub) | busybox cat && busybox ls -d . && exit 3",
    NULL,
  };
  struct child c;

  if (skip_unless_root ())
    skip ();
  if (access ("/bin/busybox", X_OK) < 0)
    skip ();
  run_child (&c, default_profile_exec_child, &(struct exec_case){ .fx = fx, .argv = sh });
  if (!WIFEXITED (c.status) || WEXITSTATUS (c.status) != 3 || strcmp (c.text, "ok\nsub\n.\n") != 0)
    fail_msg ("status 0x%x, output \"%s\"", c.status, c.text);
}

/* glibc's dynamic loader and a multi-threaded program run too. */
static void
test_default_profile_dynamic (void **state)
{
  struct fixture *fx = *state;
  static const char *const ls[] = { "/bin/ls", "-d", "/", NULL };
  static const char *const py[] = {
    "/usr/bin/python3",
    "-c",
    "import threading, subprocess; t = threading.Thread(target=print, args=('thread',)); "
    "t.start(); t.join(); subprocess.run(['/bin/echo', 'sub'])",
    NULL,
  };
  struct child c;

  if (skip_unless_root ())
    skip ();
  run_child (&c, default_profile_exec_child, &(struct exec_case){ .fx = fx, .argv = ls });
  assert_child_ok (&c);
  assert_string_equal (c.text, "/\n");

  if (access (py[0], X_OK) == 0)
    {
      run_child (&c, default_profile_exec_child, &(struct exec_case){ .fx = fx, .argv = py });
      assert_child_ok (&c);
      assert_string_equal (c.text, "thread\nsub\n");
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_errno_default_eperm, setup, teardown),
    cmocka_unit_test_setup_teardown (test_errno_ret, setup, teardown),
    cmocka_unit_test_setup_teardown (test_errno_ret_zero, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_errno_allow_list, setup, teardown),
    cmocka_unit_test_setup_teardown (test_rule_same_as_default, setup, teardown),
    cmocka_unit_test_setup_teardown (test_arg_operators, setup, teardown),
    cmocka_unit_test_setup_teardown (test_arg_or_and, setup, teardown),
    cmocka_unit_test_setup_teardown (test_arg_personality, setup, teardown),
    cmocka_unit_test_setup_teardown (test_kill, setup, teardown),
    cmocka_unit_test_setup_teardown (test_trap, setup, teardown),
    cmocka_unit_test_setup_teardown (test_log, setup, teardown),
    cmocka_unit_test_setup_teardown (test_trace_without_tracer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unknown_names_skipped, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_architecture, setup, teardown),
    cmocka_unit_test_setup_teardown (test_foreign_architecture, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_action, setup, teardown),
    cmocka_unit_test_setup_teardown (test_flags, setup, teardown),
    cmocka_unit_test (test_process_state_json),
    cmocka_unit_test_setup_teardown (test_notify_listener, setup, teardown),
    cmocka_unit_test_setup_teardown (test_send_listener_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_profile, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_profile_busybox, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_profile_dynamic, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
