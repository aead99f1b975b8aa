/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/signals.h"

static const struct
{
  const char *name;
  int number;
} signal_names[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
  { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
  { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
  { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
arca_signal_parse (const char *text)
{
  if (text == NULL || *text == '\0')
    return -1;
  if (isdigit ((unsigned char) text[0]))
    {
      char *end;
      errno = 0;
      long n = strtol (text, &end, 10);
      if (errno || *end || n <= 0 || n >= _NSIG)
        return -1;
      return (int) n;
    }
  const char *name = strncasecmp (text, "SIG", 3) == 0 ? text + 3 : text;
  for (size_t i = 0; i < ARRAY_SIZE (signal_names); i++)
    if (strcasecmp (name, signal_names[i].name) == 0)
      return signal_names[i].number;
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      const char *rest = name + 5;
      long off = 0;
      if (*rest)
        {
          char *end;
          errno = 0;
          off = strtol (rest, &end, 10);
          /* Bounded before the addition below, which could overflow. */
          if (errno || *end || (min && off < 0) || (!min && off > 0)
              || labs (off) > (long) (SIGRTMAX - SIGRTMIN))
            return -1;
        }
      long sig = (min ? SIGRTMIN : SIGRTMAX) + off;
      if (sig < (long) SIGRTMIN || sig > (long) SIGRTMAX)
        return -1;
      return (int) sig;
    }
  return -1;
}

