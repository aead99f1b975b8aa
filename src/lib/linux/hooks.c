/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

static int
run_one (const struct arca_oci_hook *hook, const char *field, const char *state_json,
         arca_error **err)
{
  static char *const empty_env[] = { NULL };
  int pipefd[2];
  cleanup_close int pidfd = -1;
  cleanup_close int wr = -1;
  pid_t pid;
  int status;
  size_t len = strlen (state_json), off = 0;
  long timeout_ms = hook->has_timeout ? (long) hook->timeout * 1000 : -1;
  struct timespec start, now;

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return arca_error_errno (err, "%s: pipe", field);
  pid = fork ();
  if (pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return arca_error_errno (err, "%s: fork", field);
    }
  if (pid == 0)
    {
      char *const default_args[] = { hook->path, NULL };
      /* A runtime killed while the hook runs takes the hook with it. */
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (dup2 (pipefd[0], STDIN_FILENO) < 0)
        _exit (127);
      execve (hook->path, hook->args ? hook->args : default_args,
              hook->env ? hook->env : empty_env);
      _exit (127);
    }
  close (pipefd[0]);
  wr = pipefd[1];
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  /* The hook may not read stdin at all: ignore EPIPE, it must not fail us. */
  signal (SIGPIPE, SIG_IGN);
  while (off < len)
    {
      ssize_t n = write (wr, state_json + off, len - off);
      if (n < 0)
        break;
      off += (size_t) n;
    }
  arca_closep (&wr);

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      pid_t r = waitpid (pid, &status, timeout_ms < 0 ? 0 : WNOHANG);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        return arca_error_errno (err, "%s: wait for `%s`", field, hook->path);
      if (timeout_ms >= 0)
        {
          long elapsed;
          clock_gettime (CLOCK_MONOTONIC, &now);
          elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
          if (elapsed >= timeout_ms)
            {
              kill (pid, SIGKILL);
              waitpid (pid, &status, 0);
              return arca_error_set (err, ETIMEDOUT, "%s: `%s` did not finish within %d s", field,
                                     hook->path, hook->timeout);
            }
          if (pidfd >= 0)
            {
              struct pollfd p = { .fd = pidfd, .events = POLLIN };
              (void) poll (&p, 1, (int) (timeout_ms - elapsed));
            }
          else
            usleep (1000);
        }
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return arca_error_set (err, 0, "%s: `%s` could not be executed (exit status 127)", field,
                           hook->path);
  if (WIFEXITED (status))
    return arca_error_set (err, 0, "%s: `%s` failed with exit status %d", field, hook->path,
                           WEXITSTATUS (status));
  return arca_error_set (err, 0, "%s: `%s` killed by signal %d", field, hook->path,
                         WTERMSIG (status));
}

int
arca_hooks_run (const struct arca_oci_config *config, enum arca_oci_hook_kind kind,
                const char *state_json, arca_error **err)
{
  for (size_t i = 0; i < config->n_hooks[kind]; i++)
    {
      char field[64];
      snprintf (field, sizeof (field), "hooks.%s[%zu]", arca_oci_hook_kind_name (kind), i);
      if (run_one (&config->hooks[kind][i], field, state_json, err) < 0)
        return -1;
    }
  return 0;
}
