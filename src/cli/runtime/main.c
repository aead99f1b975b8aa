/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-runtime: global options and dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca-config.h"
#include "cli.h"
#include "util/cleanup.h"

static const struct
{
  const char *name;
  cli_command_fn fn;
  const char *summary;
} commands[] = {
  { "create", cmd_create, "create a container" },
  { "start", cmd_start, "start a created container" },
  { "run", cmd_run, "create and start a container" },
  { "state", cmd_state, "print the state of a container (OCI state JSON)" },
  { "kill", cmd_kill, "send a signal to a container's init (or all its processes)" },
  { "delete", cmd_delete, "delete a container and everything it holds" },
  { "exec", cmd_exec, "run a new process in a running container" },
  { "list", cmd_list, "list containers" },
  { "ps", cmd_ps, "list the processes of a container" },
  { "pause", cmd_pause, "freeze every process of a container" },
  { "resume", cmd_resume, "thaw a paused container" },
  { "update", cmd_update, "change the resource limits of a container" },
  { "spec", cmd_spec, "write a default config.json" },
  { "features", cmd_features, "print the features this runtime supports (JSON)" },
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: arca-runtime [global options] COMMAND [options] [arguments]\n\n"
           "An OCI runtime (runtime-spec 1.1) with runc's command line.\n\n"
           "Global options:\n"
           "  --root DIR            state directory (default %s)\n"
           "  --log FILE            write log records to FILE\n"
           "  --log-format FORMAT   text (default) or json\n"
           "  --debug               log debug records\n"
           "  --systemd-cgroup      use the systemd cgroup manager (unsupported: an error)\n"
           "  --version, -v         print the version\n"
           "  --help, -h            this help; COMMAND --help for a command's\n\n"
           "Commands:\n",
           ARCA_DEFAULT_STATE_ROOT);
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

static void
version (void)
{
  const struct scmp_version *v = seccomp_version ();

  printf ("arca-runtime version %s\nspec: 1.1.0\n", ARCA_VERSION);
  if (v)
    printf ("libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
}

static int
open_log (struct cli *cli, const char *path, arca_error **err)
{
  if (path == NULL)
    return 0;
  cli->log.fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (cli->log.fd < 0)
    return arca_error_errno (err, "--log `%s`", path);
  return 0;
}

int
main (int argc, char **argv)
{
  cleanup_error arca_error *err = NULL;
  struct cli cli = {
    .rt = {
      .state_root = ARCA_DEFAULT_STATE_ROOT,
      .cgroup_root = "/sys/fs/cgroup",
      .argv = argv,
      .envp = environ,
    },
    .log = { .fd = -1, .format = ARCA_LOG_TEXT, .level = ARCA_LOG_WARNING,
             .program = "arca-runtime" },
  };
  const char *log_path = NULL;
  static const struct option global[] = {
    { "root", required_argument, NULL, 'r' },
    { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' },
    { "debug", no_argument, NULL, 'd' },
    { "systemd-cgroup", no_argument, NULL, 's' },
    { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "rootless", required_argument, NULL, 'R' },
    { "criu", required_argument, NULL, 'C' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  cli.rt.log = &cli.log;
  /* '+': stop at the command name; its own options come after it. */
  while ((c = getopt_long (argc, argv, "+vh", global, NULL)) != -1)
    switch (c)
      {
      case 'r': cli.rt.state_root = optarg; break;
      case 'l': log_path = optarg; break;
      case 'f':
        if (strcmp (optarg, "json") == 0)
          cli.log.format = ARCA_LOG_JSON;
        else if (strcmp (optarg, "text") == 0)
          cli.log.format = ARCA_LOG_TEXT;
        else
          {
            fprintf (stderr, "arca-runtime: --log-format: unknown format `%s` (text or json)\n",
                     optarg);
            return 1;
          }
        break;
      case 'd': cli.log.level = ARCA_LOG_DEBUG; break;
      case 's': cli.rt.systemd_cgroup = true; break;
      case 'v': version (); return 0;
      case 'h': usage (stdout); return 0;
      case 'R': case 'C': break; /* accepted for runc compatibility */
      default: usage (stderr); return 1;
      }
  if (open_log (&cli, log_path, &err) < 0)
    {
      arca_log_error (NULL, err);
      return 1;
    }
  if (optind >= argc)
    {
      usage (stderr);
      return 1;
    }
  cli.command = argv[optind];
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (strcmp (commands[i].name, cli.command) == 0)
      {
        /* Each command parses its own options from its name on. */
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0;
        int status = commands[i].fn (&cli, sub_argc, sub_argv, &err);
        if (err)
          {
            arca_log_error (&cli.log, err);
            return status ? status : 1;
          }
        return status;
      }
  fprintf (stderr, "arca-runtime: unknown command `%s` (see --help)\n", cli.command);
  return 1;
}
