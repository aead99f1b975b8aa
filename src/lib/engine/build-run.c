/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A build's SIGINT/SIGTERM: a RUN step's container runs in a child process
 * so that the build itself keeps the signals.  On one it kills that child
 * (which forwarded the signal to the container's init, where a shell or a
 * sleep as pid 1 ignores it) and returns; the step then removes its
 * container, mounts and cgroup like after any failure. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/build.h"
#include "util/cleanup.h"

/* What the child reports through its pipe. */
struct run_result
{
  int r;
  int code;
  int errnum;
  char msg[2048];
};

static void
build_signals (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGTERM);
}

int
arca_build_signals_block (sigset_t *ret_old)
{
  sigset_t set;
  build_signals (&set);
  return sigprocmask (SIG_BLOCK, &set, ret_old);
}

void
arca_build_signals_restore (const sigset_t *old)
{
  sigset_t set;
  /* A signal still pending would kill us as soon as it is unblocked: it
   * was answered already (the build stopped), so it is dropped. */
  build_signals (&set);
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&set, NULL, &zero) > 0)
    ;
  sigprocmask (SIG_SETMASK, old, NULL);
}

int
arca_build_interrupted (int *ret_signal, arca_error **err)
{
  sigset_t set;
  struct timespec zero = { 0, 0 };

  if (ret_signal == NULL)
    return 0;
  build_signals (&set);
  int sig = sigtimedwait (&set, NULL, &zero);
  if (sig <= 0)
    return 0;
  *ret_signal = sig;
  return arca_error_set (err, EINTR, "interrupted by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void
child_run (struct arca_engine *e, const char *id, int out_fd)
{
  struct run_result res = { 0 };
  cleanup_error arca_error *err = NULL;

  res.r = arca_engine_run_attached (e, id, &res.code, &err);
  if (res.r < 0 && err)
    {
      res.errnum = err->errnum;
      snprintf (res.msg, sizeof res.msg, "%s", err->msg);
    }
  ssize_t n = write (out_fd, &res, sizeof res);
  /* _exit: the parent's stdio buffers, database and cleanups are not ours. */
  _exit (n == (ssize_t) sizeof res ? 0 : 1);
}

int
arca_build_run_container (struct arca_engine *e, const char *id, int *interrupted,
                          int *ret_code, arca_error **err)
{
  if (interrupted == NULL)
    return arca_engine_run_attached (e, id, ret_code, err);

  sigset_t set;
  int pipe_fds[2];
  build_signals (&set);
  /* The build blocked them (arca_build_signals_block): only read here. */
  cleanup_close int sfd = signalfd (-1, &set, SFD_CLOEXEC);
  if (sfd < 0)
    return arca_error_errno (err, "signalfd");
  if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  cleanup_close int in = pipe_fds[0];
  cleanup_close int out = pipe_fds[1];
  fflush (NULL);
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    return arca_error_errno (err, "fork");
  if (pid == 0)
    {
      /* A build killed with -9 takes its step along: the next build's
       * sweep then finds the container without an owner. */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (1);
      child_run (e, id, out);
    }
  arca_closep (&out);

  struct run_result res = { .r = -1 };
  size_t got = 0;
  int sig = 0;
  struct pollfd pfd[2] = { { .fd = in, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
  while (sig == 0)
    {
      if (poll (pfd, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          int saved = errno;
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          return arca_error_set (err, saved, "poll");
        }
      if (pfd[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
            sig = (int) si.ssi_signo;
          continue;
        }
      if (pfd[0].revents & (POLLIN | POLLHUP))
        {
          ssize_t n = read (in, (char *) &res + got, sizeof res - got);
          if (n < 0 && errno == EINTR)
            continue;
          if (n > 0)
            got += (size_t) n;
          if (n <= 0 || got == sizeof res)
            break;
        }
    }
  if (sig)
    {
      /* The child goes first, so that nobody else touches the container
       * (or the database) while the caller removes it. */
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      *interrupted = sig;
      return arca_error_set (err, EINTR, "interrupted by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (got != sizeof res)
    return arca_error_set (err, EIO, "the process running container %.12s died (status 0x%x)", id,
                           (unsigned) status);
  if (res.r < 0)
    return arca_error_set (err, res.errnum, "%s", res.msg);
  *ret_code = res.code;
  return 0;
}
