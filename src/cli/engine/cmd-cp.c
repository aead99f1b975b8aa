/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca cp. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "engine/cp.h"

static const char cp_help[] =
    "Usage: arca cp [-a] [-L] CONTAINER:SRC DST|-\n"
    "       arca cp [-a] [-L] SRC|- CONTAINER:DST\n\n"
    "  Copies files between a container (running or not) and the host.  Paths in the\n"
    "  container are resolved inside its root; symlinks there never lead out of it.\n"
    "  SRC ending in /. copies the directory's content.  DST - writes a tar to stdout,\n"
    "  SRC - reads one from stdin (DST is then a directory).\n\n"
    "  -a, --archive       keep uid/gid\n"
    "  -L, --follow-link   SRC that is a symlink: copy what it points to (in the container:\n"
    "                      resolved inside its root), named like the link\n";

int
cmd_cp (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = {
    { "archive", no_argument, NULL, 'a' },
    { "follow-link", no_argument, NULL, 'L' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct arca_cp_options o = { 0 };
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+aLh", longs, NULL)) != -1)
    switch (c)
      {
      case 'a': o.archive = true; break;
      case 'L': o.follow_link = true; break;
      case 'h': return fputs (cp_help, stdout), 0;
      default: return arca_error_set (err, EINVAL, "cp: invalid option (see --help)"), 125;
      }
  if (argc - optind != 2)
    return arca_error_set (err, EINVAL, "cp: SRC and DST are required (see --help)"), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_cp (e, argv[optind], argv[optind + 1], &o, err) < 0)
    return 125;
  return 0;
}
