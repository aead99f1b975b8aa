/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-netattach: the network driver's attach for one container, run by its
 * arca-monitor between create and start (before-start command).
 *
 *   arca-netattach [--root ROOT] [--run-root RUN_ROOT] ID PID
 *
 * It does what `arca container-network-attach ID PID` does, but links only
 * what attach needs (SQLite, jansson, libmnl, libnftables: ~10 shared
 * objects instead of the ~50 of `arca`, whose loading and relocation was
 * most of the attach's cost).  Errors are printed as `arca` prints them
 * ("arca: message: strerror", exit 125), so the monitor reports them alike. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netattach.h"
#include "util/cleanup.h"
#include "util/log.h"

static void
usage (FILE *f)
{
  fputs ("usage: arca-netattach [--root ROOT] [--run-root RUN_ROOT] ID PID\n"
         "Attaches container ID, whose init PID waits in its own network namespace,\n"
         "to its network (run by arca-monitor before the container starts).\n",
         f);
}

static int
parse_pid (const char *text, pid_t *ret, arca_error **err)
{
  char *end = NULL;

  errno = 0;
  long v = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v <= 0 || v > INT_MAX)
    return arca_error_set (err, EINVAL, "PID `%s`: not a process id", text);
  *ret = (pid_t) v;
  return 0;
}

int
main (int argc, char **argv)
{
  cleanup_error arca_error *err = NULL;
  /* "arca" as the prefix: the monitor strips it from the error it reports. */
  const struct arca_log log = { .fd = -1, .format = ARCA_LOG_TEXT, .level = ARCA_LOG_WARNING,
                                .program = "arca" };
  static const struct option options[] = {
    { "root", required_argument, NULL, 'r' },
    { "run-root", required_argument, NULL, 'R' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *root = NULL, *run_root = NULL;
  pid_t pid = 0;
  int c;

  while ((c = getopt_long (argc, argv, "+h", options, NULL)) != -1)
    switch (c)
      {
      case 'r': root = optarg; break;
      case 'R': run_root = optarg; break;
      case 'h': usage (stdout); return 0;
      default: usage (stderr); return 125;
      }
  if (argc - optind != 2)
    {
      usage (stderr);
      return 125;
    }
  if (parse_pid (argv[optind + 1], &pid, &err) < 0
      || arca_netattach_run (root, run_root, &log, argv[optind], pid, &err) < 0)
    {
      arca_log_error (&log, err);
      return 125;
    }
  return 0;
}
