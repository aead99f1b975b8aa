/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create, run, start, kill, delete, pause, resume. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char create_help[] =
    "Usage: arca-runtime create [options] CONTAINER-ID\n\n"
    "Creates a container from an OCI bundle; `start` runs its process.\n\n"
    "  --bundle, -b DIR        the bundle (default: current directory)\n"
    "  --pid-file FILE         write the container's init pid to FILE\n"
    "  --console-socket PATH   send the pty master of process.terminal to this unix socket\n"
    "  --no-pivot              MS_MOVE + chroot instead of pivot_root (for ramfs roots)\n"
    "  --no-new-keyring        keep the caller's session keyring\n"
    "  --preserve-fds N        pass fds 3..3+N-1 to the container\n";

static const char run_help[] =
    "Usage: arca-runtime run [options] CONTAINER-ID\n\n"
    "Creates and starts a container; waits for it unless --detach.\n\n"
    "  --bundle, -b DIR        the bundle (default: current directory)\n"
    "  --detach, -d            return once the container runs\n"
    "  --pid-file FILE         write the container's init pid to FILE\n"
    "  --console-socket PATH   send the pty master of process.terminal to this unix socket\n"
    "  --no-pivot              MS_MOVE + chroot instead of pivot_root\n"
    "  --no-new-keyring        keep the caller's session keyring\n"
    "  --preserve-fds N        pass fds 3..3+N-1 to the container\n";

static int
parse_create (struct cli *cli, int argc, char **argv, bool is_run,
              struct arca_create_options *opts, bool *detach, arca_error **err)
{
  static const struct option options[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "pid-file", required_argument, NULL, 'p' },
    { "console-socket", required_argument, NULL, 'c' },
    { "no-pivot", no_argument, NULL, 'P' },
    { "no-new-keyring", no_argument, NULL, 'K' },
    { "preserve-fds", required_argument, NULL, 'f' },
    { "detach", no_argument, NULL, 'd' },
    { "keep", no_argument, NULL, 'k' },
    { "no-subreaper", no_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  uint64_t n;
  int c;

  while ((c = getopt_long (argc, argv, "+b:dh", options, NULL)) != -1)
    switch (c)
      {
      case 'b': opts->bundle = optarg; break;
      case 'p': opts->pid_file = optarg; break;
      case 'c': opts->console_socket = optarg; break;
      case 'P': opts->no_pivot = true; break;
      case 'K': opts->no_new_keyring = true; break;
      case 'f':
        if (cli_parse_uint ("--preserve-fds", optarg, 1024, &n, err) < 0)
          return -1;
        opts->preserve_fds = (unsigned) n;
        break;
      case 'd':
        if (!is_run)
          return arca_error_set (err, EINVAL, "create: unknown option --detach");
        *detach = true;
        break;
      case 'k': case 'S': break;
      case 'h': return 1;
      default: return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]);
      }
  if (cli_positional (argc, argv, optind, 1, is_run ? "run [options] ID" : "create [options] ID",
                      err)
      < 0)
    return -1;
  opts->id = argv[optind];
  opts->preserve_fds = cli_preserve_fds (opts->preserve_fds);
  (void) cli;
  return 0;
}

int
cmd_create (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_create_options opts = { 0 };
  bool detach = false;
  int r = parse_create (cli, argc, argv, false, &opts, &detach, err);

  if (r != 0)
    return r < 0 ? 1 : cli_help (create_help);
  return arca_container_create (&cli->rt, &opts, err) < 0 ? 1 : 0;
}

int
cmd_run (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_create_options opts = { 0 };
  bool detach = false;
  int status = 0;
  int r = parse_create (cli, argc, argv, true, &opts, &detach, err);

  if (r != 0)
    return r < 0 ? 1 : cli_help (run_help);
  if (arca_container_run (&cli->rt, &opts, detach, &status, err) < 0)
    return 1;
  return status;
}

/* Commands whose only argument is the id, with an optional --force/--all
 * style flag. */
static int
parse_id (int argc, char **argv, const char *help, const struct option *extra, const char *shorts,
          int *flags, const char **ret_id, int want_args, arca_error **err)
{
  struct option options[8];
  size_t n = 0;
  int c;

  for (; extra && extra[n].name; n++)
    options[n] = extra[n];
  options[n++] = (struct option){ "help", no_argument, NULL, 'h' };
  options[n] = (struct option){ NULL, 0, NULL, 0 };
  while ((c = getopt_long (argc, argv, shorts, options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (help) + 1;
      if (c == '?')
        return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]);
      for (size_t i = 0; extra && extra[i].name; i++)
        if (extra[i].val == c)
          *flags |= 1 << i;
    }
  if (argc - optind < 1 || argc - optind > want_args)
    return arca_error_set (err, EINVAL, "%s: expected a container id (see --help)", argv[0]);
  *ret_id = argv[optind];
  return 0;
}

int
cmd_start (struct cli *cli, int argc, char **argv, arca_error **err)
{
  const char *id;
  int flags = 0;
  int r = parse_id (argc, argv,
                    "Usage: arca-runtime start CONTAINER-ID\n\nRuns the process of a created "
                    "container.\n",
                    NULL, "+h", &flags, &id, 1, err);

  if (r != 0)
    return r < 0 ? 1 : 0;
  return arca_container_start (&cli->rt, id, err) < 0 ? 1 : 0;
}

int
cmd_kill (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option extra[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
  const char *id;
  int flags = 0;
  int r = parse_id (argc, argv,
                    "Usage: arca-runtime kill [--all] CONTAINER-ID [SIGNAL]\n\n"
                    "Sends SIGNAL (name or number, default TERM) to the container's init, or\n"
                    "with --all, -a to every process in its cgroup.\n",
                    extra, "+ah", &flags, &id, 2, err);

  if (r != 0)
    return r < 0 ? 1 : 0;
  const char *sig_text = optind + 1 < argc ? argv[optind + 1] : "TERM";
  int sig = cli_parse_signal (sig_text);
  if (sig < 0)
    {
      arca_error_set (err, EINVAL, "kill: invalid signal `%s`", sig_text);
      return 1;
    }
  return arca_container_kill (&cli->rt, id, sig, flags & 1, err) < 0 ? 1 : 0;
}

int
cmd_delete (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option extra[] = { { "force", no_argument, NULL, 'f' },
                                         { NULL, 0, NULL, 0 } };
  const char *id;
  int flags = 0;
  int r = parse_id (argc, argv,
                    "Usage: arca-runtime delete [--force] CONTAINER-ID\n\n"
                    "Deletes a stopped container; --force, -f kills a running one first.\n",
                    extra, "+fh", &flags, &id, 1, err);

  if (r != 0)
    return r < 0 ? 1 : 0;
  if (arca_container_delete (&cli->rt, id, flags & 1, err) < 0)
    {
      /* runc: deleting a container that does not exist with --force is
       * not an error (engines call it to clean up). */
      if ((flags & 1) && (*err)->errnum == ENOENT)
        {
          arca_error_freep (err);
          return 0;
        }
      return 1;
    }
  return 0;
}

int
cmd_pause (struct cli *cli, int argc, char **argv, arca_error **err)
{
  const char *id;
  int flags = 0;
  int r = parse_id (argc, argv,
                    "Usage: arca-runtime pause CONTAINER-ID\n\nFreezes every process of the "
                    "container (cgroup freezer).\n",
                    NULL, "+h", &flags, &id, 1, err);

  if (r != 0)
    return r < 0 ? 1 : 0;
  return arca_container_pause (&cli->rt, id, true, err) < 0 ? 1 : 0;
}

int
cmd_resume (struct cli *cli, int argc, char **argv, arca_error **err)
{
  const char *id;
  int flags = 0;
  int r = parse_id (argc, argv, "Usage: arca-runtime resume CONTAINER-ID\n\nThaws a paused "
                                "container.\n",
                    NULL, "+h", &flags, &id, 1, err);

  if (r != 0)
    return r < 0 ? 1 : 0;
  return arca_container_pause (&cli->rt, id, false, err) < 0 ? 1 : 0;
}
