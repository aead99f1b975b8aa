/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca attach, arca start: a container's terminal or stdio through its
 * monitor (engine/attach.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/attach.h"
#include "util/cleanup.h"

#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

static const char attach_help[]
    = "Usage: arca attach [OPTIONS] CONTAINER\n\n"
      "Connects to a running container's terminal (or its stdin, stdout and stderr).\n"
      "Detach with ctrl-p ctrl-q: the container goes on running.  When the container\n"
      "exits, attach exits with its exit code.\n\n"
      "      --no-stdin           do not send our input\n"
      "      --detach-keys KEYS   the detach sequence (default " DEFAULT_DETACH_KEYS ";\n"
      "                           \"\" disables it)\n";

/* The options for our own stdin/stdout/stderr. */
int
cli_attach_options (const char *keys, bool send_stdin, unsigned char *buf,
                    struct arca_attach_options *ret, arca_error **err)
{
  size_t n = 0;

  if (arca_attach_parse_keys (keys ? keys : DEFAULT_DETACH_KEYS, buf, &n, err) < 0)
    return -1;
  *ret = (struct arca_attach_options){
    .send_stdin = send_stdin,
    .detach_keys = buf,
    .n_detach_keys = n,
    .in_fd = STDIN_FILENO,
    .out_fd = STDOUT_FILENO,
    .err_fd = STDERR_FILENO,
  };
  return 0;
}

int
cmd_attach (struct cli *cli, int argc, char **argv, arca_error **err)
{
  enum { O_NO_STDIN = 256, O_DETACH_KEYS };
  static const struct option options[] = {
    { "no-stdin", no_argument, NULL, O_NO_STDIN },
    { "detach-keys", required_argument, NULL, O_DETACH_KEYS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *keys = NULL;
  bool send_stdin = true;
  int c;

  while ((c = getopt_long (argc, argv, "+h", options, NULL)) != -1)
    switch (c)
      {
      case O_NO_STDIN: send_stdin = false; break;
      case O_DETACH_KEYS: keys = optarg; break;
      case 'h': return fputs (attach_help, stdout), 0;
      default: return arca_error_set (err, EINVAL, "attach: invalid option (see --help)"), 125;
      }
  if (optind + 1 != argc)
    return arca_error_set (err, EINVAL, "attach: exactly one container name or id is required"),
           125;
  unsigned char buf[ARCA_DETACH_KEYS_MAX];
  struct arca_attach_options ao;
  struct arca_engine *e;
  int code = 0;
  bool detached = false;
  if (cli_attach_options (keys, send_stdin, buf, &ao, err) < 0 || cli_engine (cli, &e, err) < 0
      || arca_engine_attach (e, argv[optind], &ao, &code, &detached, err) < 0)
    return 125;
  return detached ? 0 : code;
}

static const char start_help[]
    = "Usage: arca start [-a] [-i] CONTAINER...\n\n"
      "  -a, --attach             attach to the container's output; exit with its code\n"
      "  -i, --interactive        attach our input too\n"
      "      --detach-keys KEYS   with -a: the detach sequence (default " DEFAULT_DETACH_KEYS ")\n";

int
cmd_start (struct cli *cli, int argc, char **argv, arca_error **err)
{
  enum { O_DETACH_KEYS = 256 };
  static const struct option options[] = {
    { "attach", no_argument, NULL, 'a' },
    { "interactive", no_argument, NULL, 'i' },
    { "detach-keys", required_argument, NULL, O_DETACH_KEYS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool attach = false, interactive = false;
  const char *keys = NULL;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+aih", options, NULL)) != -1)
    switch (c)
      {
      case 'a': attach = true; break;
      case 'i': interactive = attach = true; break;
      case O_DETACH_KEYS: keys = optarg; break;
      case 'h': return fputs (start_help, stdout), 0;
      default: return arca_error_set (err, EINVAL, "start: invalid option (see --help)"), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "start: a container name or id is required"), 125;
  if (attach && optind + 1 != argc)
    return arca_error_set (err, EINVAL, "start: -a/-i take exactly one container"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  if (attach)
    {
      unsigned char buf[ARCA_DETACH_KEYS_MAX];
      struct arca_attach_options ao;
      int code = 0;
      bool detached = false;
      if (cli_attach_options (keys, interactive, buf, &ao, err) < 0)
        return 125;
      ao.send_ready = true;
      if (arca_engine_start_attach (e, argv[optind], &ao, &code, &detached, err) < 0)
        return 125;
      return detached ? 0 : code;
    }
  int status = 0;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      if (arca_engine_start (e, argv[i], NULL, &one) < 0)
        {
          arca_log_error (&cli->log, one);
          status = 1;
        }
      else
        printf ("%s\n", argv[i]);
    }
  return status;
}
