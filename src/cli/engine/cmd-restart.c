/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* restart: stop (if it runs) and start again, as Docker does; a stopped or
 * created container is just started. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "util/cleanup.h"

static int
restart_one (struct arca_engine *e, const char *name, int timeout, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name, &c, err) < 0)
    return -1;
  if ((c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
      && arca_engine_stop (e, c->id, timeout, err) < 0)
    return arca_error_wrap (err, "restart `%s`: stop", name);
  if (arca_engine_start (e, c->id, NULL, err) < 0)
    return arca_error_wrap (err, "restart `%s`: start", name);
  return 0;
}

int
cmd_restart (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = { { "time", required_argument, NULL, 't' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
  struct arca_engine *e;
  int c, timeout = -1, status = 0;
  char *end;

  while ((c = getopt_long (argc, argv, "+t:h", options, NULL)) != -1)
    switch (c)
      {
      case 't':
        errno = 0;
        long v = strtol (optarg, &end, 10);
        if (errno || *end || end == optarg || v < 0 || v > INT_MAX)
          return arca_error_set (err, EINVAL, "restart: --time `%s`: seconds (0 or more)", optarg), 125;
        timeout = (int) v;
        break;
      case 'h': return fputs ("Usage: arca restart [-t SECONDS] CONTAINER...\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "restart: invalid option (see --help)"), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "restart: a container name or id is required"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      if (restart_one (e, argv[i], timeout, &one) < 0)
        {
          arca_log_error (&cli->log, one);
          status = 125;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  return status;
}
