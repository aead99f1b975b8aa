/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec: from a --process JSON file, or from the container's own process
 * with args and flags replaced (runc's rules). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "linux/caps.h"
#include "util/cleanup.h"
#include "util/strv.h"

static const char exec_help[] =
    "Usage: arca-runtime exec [options] CONTAINER-ID [COMMAND [ARG...]]\n\n"
    "Runs a new process in a running container.\n\n"
    "  --process, -p FILE      the process as runtime-spec JSON (\"-\": stdin)\n"
    "  --tty, -t               allocate a pseudo-terminal\n"
    "  --detach, -d            do not wait for the process\n"
    "  --pid-file FILE         write the process's pid to FILE\n"
    "  --console-socket PATH   send the pty master to this unix socket (with --tty)\n"
    "  --env, -e KEY=VALUE     set an environment variable (repeatable)\n"
    "  --cwd DIR               working directory inside the container\n"
    "  --user, -u UID[:GID]    user to run as\n"
    "  --additional-gids, -g G supplementary group (repeatable)\n"
    "  --cap CAP               add a capability (repeatable)\n"
    "  --no-new-privs          set no_new_privs\n"
    "  --preserve-fds N        pass fds 3..3+N-1 to the process\n";

/* KEY=VALUE replaces an existing KEY. */
static int
env_set (char ***env, const char *entry)
{
  const char *eq = strchr (entry, '=');
  size_t key_len = eq ? (size_t) (eq - entry) : strlen (entry);

  for (size_t i = 0; *env && (*env)[i]; i++)
    if (strncmp ((*env)[i], entry, key_len) == 0 && (*env)[i][key_len] == '=')
      {
        char *copy = strdup (entry);
        if (copy == NULL)
          return -1;
        free ((*env)[i]);
        (*env)[i] = copy;
        return 0;
      }
  return arca_strv_append (env, NULL, entry);
}

static int
parse_user (const char *text, struct arca_oci_user *user, arca_error **err)
{
  char *end;
  unsigned long uid = strtoul (text, &end, 10);

  if (end == text || (*end && *end != ':'))
    return arca_error_set (err, EINVAL, "--user: `%s` is not UID[:GID]", text);
  user->uid = (uid_t) uid;
  if (*end == ':')
    {
      const char *g = end + 1;
      unsigned long gid = strtoul (g, &end, 10);
      if (end == g || *end)
        return arca_error_set (err, EINVAL, "--user: `%s` is not UID[:GID]", text);
      user->gid = (gid_t) gid;
    }
  return 0;
}

int
cmd_exec (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "process", required_argument, NULL, 'p' },
    { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, 'P' },
    { "console-socket", required_argument, NULL, 'c' },
    { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, 'w' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "cap", required_argument, NULL, 'C' },
    { "no-new-privs", no_argument, NULL, 'N' },
    { "preserve-fds", required_argument, NULL, 'f' },
    { "process-label", required_argument, NULL, 'L' },
    { "apparmor", required_argument, NULL, 'A' },
    { "ignore-paused", no_argument, NULL, 'I' },
    { "cgroup", required_argument, NULL, 'G' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct arca_exec_options opts = { 0 };
  const char *process_file = NULL, *cwd = NULL, *user = NULL;
  cleanup_strv char **envs = NULL;
  cleanup_strv char **caps = NULL;
  cleanup_strv char **gids = NULL;
  bool tty = false, no_new_privs = false;
  uint64_t n;
  int c;

  while ((c = getopt_long (argc, argv, "+p:tde:u:g:h", options, NULL)) != -1)
    switch (c)
      {
      case 'p': process_file = optarg; break;
      case 't': tty = true; break;
      case 'd': opts.detach = true; break;
      case 'P': opts.pid_file = optarg; break;
      case 'c': opts.console_socket = optarg; break;
      case 'e':
        if (arca_strv_append (&envs, NULL, optarg) < 0)
          return arca_error_set (err, ENOMEM, "--env"), 1;
        break;
      case 'w': cwd = optarg; break;
      case 'u': user = optarg; break;
      case 'g':
        if (arca_strv_append (&gids, NULL, optarg) < 0)
          return arca_error_set (err, ENOMEM, "--additional-gids"), 1;
        break;
      case 'C':
        if (arca_strv_append (&caps, NULL, optarg) < 0)
          return arca_error_set (err, ENOMEM, "--cap"), 1;
        break;
      case 'N': no_new_privs = true; break;
      case 'f':
        if (cli_parse_uint ("--preserve-fds", optarg, 1024, &n, err) < 0)
          return 1;
        opts.preserve_fds = (unsigned) n;
        break;
      case 'L': case 'A': case 'I': case 'G': break;
      case 'h': return cli_help (exec_help);
      default: return arca_error_set (err, EINVAL, "exec: invalid option (see --help)"), 1;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "exec: expected a container id (see --help)"), 1;
  opts.id = argv[optind];
  opts.preserve_fds = cli_preserve_fds (opts.preserve_fds);

  cleanup_process struct arca_oci_process *process = NULL;
  if (process_file)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (cli_read_input ("--process", process_file, &text, &len, err) < 0
          || arca_oci_process_parse (text, len, &process, err) < 0)
        return 1;
    }
  else
    {
      if (optind + 1 >= argc)
        return arca_error_set (err, EINVAL, "exec: expected a command or --process"), 1;
      if (arca_container_exec_defaults (&cli->rt, opts.id, &process, err) < 0)
        return 1;
      arca_strv_free (process->args);
      process->args = NULL;
      for (int i = optind + 1; i < argc; i++)
        if (arca_strv_append (&process->args, NULL, argv[i]) < 0)
          return arca_error_set (err, ENOMEM, "exec"), 1;
      process->terminal = tty;
      process->has_console_size = false;
    }
  for (size_t i = 0; envs && envs[i]; i++)
    {
      if (strchr (envs[i], '=') == NULL)
        return arca_error_set (err, EINVAL, "--env: `%s` is not KEY=VALUE", envs[i]), 1;
      if (env_set (&process->env, envs[i]) < 0)
        return arca_error_set (err, ENOMEM, "--env"), 1;
    }
  if (cwd)
    {
      if (cwd[0] != '/')
        return arca_error_set (err, EINVAL, "--cwd: `%s` is not an absolute path", cwd), 1;
      free (process->cwd);
      process->cwd = strdup (cwd);
    }
  if (user && parse_user (user, &process->user, err) < 0)
    return 1;
  for (size_t i = 0; gids && gids[i]; i++)
    {
      gid_t *grown = realloc (process->user.additional_gids,
                              (process->user.n_additional_gids + 1) * sizeof (gid_t));
      if (grown == NULL || cli_parse_uint ("--additional-gids", gids[i], UINT32_MAX, &n, err) < 0)
        {
          if (grown)
            process->user.additional_gids = grown;
          return *err ? 1 : (arca_error_set (err, ENOMEM, "--additional-gids"), 1);
        }
      process->user.additional_gids = grown;
      grown[process->user.n_additional_gids++] = (gid_t) n;
    }
  for (size_t i = 0; caps && caps[i]; i++)
    {
      int cap = arca_caps_from_name (caps[i]);
      if (cap < 0)
        return arca_error_set (err, EINVAL, "--cap: unknown capability `%s`", caps[i]), 1;
      uint64_t bit = 1ULL << cap;
      process->has_capabilities = true;
      process->capabilities.bounding |= bit;
      process->capabilities.effective |= bit;
      process->capabilities.permitted |= bit;
    }
  if (no_new_privs)
    process->no_new_privileges = true;
  if (tty)
    process->terminal = true;

  opts.process = process;
  int status = 0;
  if (arca_container_exec (&cli->rt, &opts, &status, err) < 0)
    return 1;
  return status;
}
