/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's management commands: `arca image VERB` and `arca container VERB`
 * are the same verbs as the short forms (`arca image ls` = `arca images`). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/cleanup.h"

struct verb {
  const char *name;
  cli_command_fn fn;
  bool whole_argv; /* the handler parses "GROUP VERB ..." itself */
};

static const struct verb image_verbs[] = {
  { "ls", cmd_images, false },       { "list", cmd_images, false },
  { "inspect", cmd_image_inspect, false }, { "history", cmd_history, false },
  { "rm", cmd_rmi, false },          { "tag", cmd_tag, false },
  { "load", cmd_load, false },       { "save", cmd_save, false },
  { "import", cmd_import, false },   { "pull", cmd_pull, false },
  { "push", cmd_push, false },       { "build", cmd_build, false },
  { "prune", cmd_image, true },
  { NULL, NULL, false },
};

static const struct verb container_verbs[] = {
  { "ls", cmd_ps, false },         { "list", cmd_ps, false },      { "ps", cmd_ps, false },
  { "run", cmd_run, false },       { "create", cmd_create, false }, { "start", cmd_start, false },
  { "stop", cmd_stop, false },     { "restart", cmd_restart, false }, { "kill", cmd_kill, false },
  { "rm", cmd_rm, false },         { "logs", cmd_logs, false },    { "wait", cmd_wait, false },
  { "exec", cmd_exec, false },     { "inspect", cmd_inspect, false }, { "port", cmd_port, false },
  { "top", cmd_top, false },       { "stats", cmd_stats, false },  { "pause", cmd_pause, false },
  { "unpause", cmd_unpause, false }, { "update", cmd_update, false }, { "rename", cmd_rename, false },
  { "cp", cmd_cp, false },         { "diff", cmd_diff, false },    { "export", cmd_export, false },
  { "commit", cmd_commit, false }, { "prune", cmd_container_prune, false },
  { NULL, NULL, false },
};

static int
dispatch (struct cli *cli, const char *group, const struct verb *verbs, int argc, char **argv,
          arca_error **err)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, "Usage: arca %s COMMAND\n\nCommands:", group);
      for (const struct verb *v = verbs; v->name; v++)
        fprintf (out, " %s", v->name);
      fputc ('\n', out);
      return argc < 2 ? 125 : 0;
    }
  for (const struct verb *v = verbs; v->name; v++)
    if (strcmp (v->name, argv[1]) == 0)
      return v->whole_argv ? v->fn (cli, argc, argv, err) : v->fn (cli, argc - 1, argv + 1, err);
  return arca_error_set (err, EINVAL, "%s: unknown command `%s` (see arca %s --help)", group,
                         argv[1], group),
         125;
}

int
cmd_image_group (struct cli *cli, int argc, char **argv, arca_error **err)
{
  return dispatch (cli, "image", image_verbs, argc, argv, err);
}

int
cmd_container_group (struct cli *cli, int argc, char **argv, arca_error **err)
{
  return dispatch (cli, "container", container_verbs, argc, argv, err);
}
