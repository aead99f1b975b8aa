/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state, list, ps. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/cleanup.h"
#include "util/fs.h"

int
cmd_state (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
  cleanup_free char *json = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+h", options, NULL)) != -1)
    if (c == 'h')
      return cli_help ("Usage: arca-runtime state CONTAINER-ID\n\n"
                       "Prints the container's state as runtime-spec JSON.\n");
    else
      return arca_error_set (err, EINVAL, "state: invalid option (see --help)"), 1;
  if (cli_positional (argc, argv, optind, 1, "state ID", err) < 0)
    return 1;
  if (arca_container_state_json (&cli->rt, argv[optind], &json, err) < 0)
    return 1;
  printf ("%s\n", json);
  return 0;
}

int
cmd_list (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = "table";
  bool quiet = false;
  struct arca_container_info *infos = NULL;
  size_t count = 0;
  int c;

  while ((c = getopt_long (argc, argv, "+f:qh", options, NULL)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      case 'q': quiet = true; break;
      case 'h':
        return cli_help ("Usage: arca-runtime list [--format table|json] [--quiet]\n\n"
                         "Lists the containers under --root.\n");
      default: return arca_error_set (err, EINVAL, "list: invalid option (see --help)"), 1;
      }
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return arca_error_set (err, EINVAL, "list: --format: unknown format `%s` (table or json)",
                           format),
           1;
  if (arca_container_list (&cli->rt, &infos, &count, err) < 0)
    return 1;
  if (quiet)
    for (size_t i = 0; i < count; i++)
      printf ("%s\n", infos[i].id);
  else if (strcmp (format, "json") == 0)
    {
      _cleanup_ (json_decrefp) json_t *array = json_array ();
      for (size_t i = 0; i < count; i++)
        json_array_append_new (
            array, json_pack ("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "ociVersion", "1.1.0", "id",
                              infos[i].id, "pid", (json_int_t) infos[i].pid, "status",
                              arca_container_status_name (infos[i].status), "bundle",
                              infos[i].bundle, "rootfs", infos[i].rootfs, "created",
                              infos[i].created));
      cleanup_free char *text = json_dumps (array, JSON_COMPACT);
      printf ("%s\n", text ? text : "[]");
    }
  else
    {
      printf ("%-20s %-8s %-10s %-40s %-32s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
      for (size_t i = 0; i < count; i++)
        printf ("%-20s %-8d %-10s %-40s %-32s\n", infos[i].id, (int) infos[i].pid,
                arca_container_status_name (infos[i].status), infos[i].bundle, infos[i].created);
    }
  arca_container_infos_free (infos, count);
  return 0;
}

static void
print_process (pid_t pid)
{
  char path[64];
  cleanup_free char *cmdline = NULL;
  size_t len = 0;

  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  if (arca_read_file_at (AT_FDCWD, path, 4096, &cmdline, &len, NULL) < 0)
    return;
  for (size_t i = 0; i + 1 < len; i++)
    if (cmdline[i] == '\0')
      cmdline[i] = ' ';
  printf ("%-8d %s\n", (int) pid, cmdline);
}

int
cmd_ps (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = "table";
  cleanup_free pid_t *pids = NULL;
  size_t count = 0;
  int c;

  while ((c = getopt_long (argc, argv, "+f:h", options, NULL)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      case 'h':
        return cli_help ("Usage: arca-runtime ps [--format table|json] CONTAINER-ID\n\n"
                         "Lists the processes in the container's cgroup (host pids).\n");
      default: return arca_error_set (err, EINVAL, "ps: invalid option (see --help)"), 1;
      }
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return arca_error_set (err, EINVAL, "ps: --format: unknown format `%s` (table or json)",
                           format),
           1;
  /* runc passes further arguments to ps(1); we accept and ignore them. */
  if (argc - optind < 1)
    return arca_error_set (err, EINVAL, "ps: expected a container id"), 1;
  if (arca_container_pids (&cli->rt, argv[optind], &pids, &count, err) < 0)
    return 1;
  if (strcmp (format, "json") == 0)
    {
      printf ("[");
      for (size_t i = 0; i < count; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      printf ("]\n");
      return 0;
    }
  printf ("%-8s %s\n", "PID", "CMD");
  for (size_t i = 0; i < count; i++)
    print_process (pids[i]);
  return 0;
}
