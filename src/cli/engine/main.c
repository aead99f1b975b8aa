/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca: global options and dispatch. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca-config.h"
#include "cli.h"
#include "util/cleanup.h"
#include "util/strv.h"

static const struct
{
  const char *name;
  cli_command_fn fn;
  const char *summary;
} commands[] = {
  { "run", cmd_run, "create and start a container from an image" },
  { "create", cmd_create, "create a container" },
  { "start", cmd_start, "start containers" },
  { "attach", cmd_attach, "connect to a running container's terminal or stdio" },
  { "stop", cmd_stop, "stop containers (stop signal, then SIGKILL)" },
  { "kill", cmd_kill, "send a signal to containers" },
  { "rm", cmd_rm, "remove containers" },
  { "ps", cmd_ps, "list containers" },
  { "logs", cmd_logs, "print a container's output" },
  { "wait", cmd_wait, "wait for containers to exit, print their exit codes" },
  { "exec", cmd_exec, "run a command in a running container" },
  { "port", cmd_port, "list a container's published ports" },
  { "inspect", cmd_inspect, "print a container's details as JSON" },
  { "images", cmd_images, "list images" },
  { "load", cmd_load, "load images from a docker-archive or oci-archive" },
  { "save", cmd_save, "save images to an archive" },
  { "import", cmd_import, "create an image from a root filesystem tarball" },
  { "rmi", cmd_rmi, "remove images" },
  { "tag", cmd_tag, "give an image another name" },
  { "build", cmd_build, "build an image from a Containerfile" },
  { "commit", cmd_commit, "create an image from a container's changes" },
  { "pull", cmd_pull, "download an image from a registry" },
  { "push", cmd_push, "upload an image to a registry" },
  { "cp", cmd_cp, "copy files between a container and the host" },
  { "diff", cmd_diff, "list the files a container added, changed or deleted" },
  { "export", cmd_export, "write a container's root file system as a tar" },
  { "top", cmd_top, "list the processes of a container" },
  { "stats", cmd_stats, "cpu, memory, pids and block I/O of containers" },
  { "pause", cmd_pause, "freeze the processes of containers" },
  { "unpause", cmd_unpause, "thaw paused containers" },
  { "update", cmd_update, "change the resource limits of containers" },
  { "rename", cmd_rename, "rename a container" },
  { "pod", cmd_pod, "manage pods (create, ps, inspect, start, stop, kill, rm, prune)" },
  { "volume", cmd_volume, "manage volumes (create, ls, inspect, rm, prune)" },
  { "system", cmd_system, "check the store (check [--repair]) or prune it" },
  { "restart", cmd_restart, "stop and start containers again" },
  { "history", cmd_history, "list the steps an image was made of" },
  { "image", cmd_image_group, "image commands (ls, inspect, history, rm, prune, ...)" },
  { "container", cmd_container_group, "container commands (ls, run, rm, ...)" },
  { "network", cmd_network, "manage networks (create, ls, inspect, rm, prune, connect, ...)" },
  { "vm", cmd_vm, "microVMs: run, ls, pause, snapshot, restore, migrate, stop, rm" },
  { "container-cleanup", cmd_cleanup, NULL },
  { "container-network-attach", cmd_network_attach, NULL },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: arca [--root DIR] [--run-root DIR] [--debug] COMMAND [options]\n\n"
                "Containers from OCI images, daemonless.\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (commands[i].summary)
      fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n`arca COMMAND --help` describes a command.  The image `busybox` is built\n"
                "from the host's busybox-static when first used.\n");
}

int
cli_engine (struct cli *cli, struct arca_engine **ret, arca_error **err)
{
  if (cli->engine == NULL)
    {
      if (arca_engine_open (cli->root, cli->run_root, &cli->log, &cli->engine, err) < 0)
        return -1;
      cli->engine->rt.argv = cli->argv;
      cli->engine->rt.envp = cli->envp;
    }
  *ret = cli->engine;
  return 0;
}

void
cli_print_json (json_t *value)
{
  char *text = json_dumps (value, JSON_INDENT (2));
  printf ("%s\n", text ? text : "[]");
  free (text);
}

int
cli_strv_push (char ***v, const char *s, arca_error **err)
{
  return arca_strv_append (v, NULL, s) < 0 ? arca_error_errno (err, "arguments") : 0;
}

int
main (int argc, char **argv)
{
  cleanup_error arca_error *err = NULL;
  struct cli cli = {
    .log = { .fd = -1, .format = ARCA_LOG_TEXT, .level = ARCA_LOG_WARNING, .program = "arca" },
    .argv = argv,
    .envp = environ,
  };
  static const struct option global[] = {
    { "root", required_argument, NULL, 'r' },
    { "run-root", required_argument, NULL, 'R' },
    { "debug", no_argument, NULL, 'D' },
    { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "+vh", global, NULL)) != -1)
    switch (c)
      {
      case 'r': cli.root = optarg; break;
      case 'R': cli.run_root = optarg; break;
      case 'D': cli.log.level = ARCA_LOG_DEBUG; break;
      case 'v': printf ("arca version %s\n", ARCA_VERSION); return 0;
      case 'h': usage (stdout); return 0;
      default: usage (stderr); return 125;
      }
  if (optind >= argc)
    {
      usage (stderr);
      return 125;
    }
  const char *name = argv[optind];
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      {
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0;
        int status = commands[i].fn (&cli, sub_argc, sub_argv, &err);
        if (err)
          arca_log_error (&cli.log, err);
        arca_engine_close (cli.engine);
        /* Docker's convention: 125 is the engine's own failure. */
        return err ? (status ? status : 125) : status;
      }
  fprintf (stderr, "arca: unknown command `%s` (see arca --help)\n", name);
  return 125;
}
