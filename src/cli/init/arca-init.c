/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-init: the tiny pid 1 of `arca run --init` (Docker's tini role).
 * Runs the command as its child, forwards every catchable signal to it,
 * reaps every zombie (orphans are re-parented to pid 1), and exits with
 * the command's status (128 + signal when it was killed).  `--pause` is
 * a pod's infra process (see pause_forever).  Linked
 * statically: it runs inside any image, glibc or not. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* --pause: the process of a pod's infra container, which only holds the
 * pod's namespaces.  Every signal stays blocked but SIGTERM and SIGINT (as
 * pid 1 we get only those we wait for), which end it; stray children (an
 * exec'd process re-parented to us) are reaped. */
static int
pause_forever (void)
{
  sigset_t all, wanted;

  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  sigemptyset (&wanted);
  sigaddset (&wanted, SIGTERM);
  sigaddset (&wanted, SIGINT);
  sigaddset (&wanted, SIGCHLD);
  if (getpid () != 1)
    prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  for (;;)
    {
      int sig;
      if (sigwait (&wanted, &sig) != 0)
        continue;
      if (sig == SIGTERM || sig == SIGINT)
        return 0;
      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
    }
}

int
main (int argc, char **argv)
{
  sigset_t all, old;
  int first = 1;

  if (argc == 2 && strcmp (argv[1], "--pause") == 0)
    return pause_forever ();
  if (argc > 1 && strcmp (argv[1], "--") == 0)
    first = 2;
  if (first >= argc)
    {
      fprintf (stderr, "usage: arca-init [--] COMMAND [ARG...] | arca-init --pause\n");
      return 127;
    }
  /* Outside a pid namespace (--pid host) we are not pid 1: be a subreaper
   * so orphans still come to us. */
  if (getpid () != 1)
    prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, &old);
  pid_t child = fork ();
  if (child < 0)
    {
      perror ("arca-init: fork");
      return 127;
    }
  if (child == 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      /* Its own process group, so terminal signals reach the whole job. */
      setpgid (0, 0);
      execvp (argv[first], argv + first);
      fprintf (stderr, "arca-init: exec %s: %s\n", argv[first], strerror (errno));
      _exit (127);
    }
  for (;;)
    {
      siginfo_t si;
      if (sigwaitinfo (&all, &si) < 0)
        continue;
      if (si.si_signo != SIGCHLD)
        {
          kill (child, si.si_signo);
          continue;
        }
      int status;
      pid_t pid;
      while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
        if (pid == child)
          {
            /* Let the rest of the process tree go too. */
            while (waitpid (-1, NULL, WNOHANG) > 0)
              ;
            return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
          }
    }
}
