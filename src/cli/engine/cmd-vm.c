/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca vm: run, ls, inspect, pause, resume, balloon, snapshot, restore,
 * receive, migrate, stop, rm, logs, metrics (docs/vmm.md, "arca vm"). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/vmctl.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const char vm_help[]
    = "Usage: arca vm COMMAND\n\n"
      "  run --name N --kernel FILE [--initrd FILE] [--cmdline S] [--memory MiB] [--cpus N]\n"
      "      [--drive PATH[,ro]]... [--net TAP[,mac=MAC]] [--vsock CID,PATH] [--balloon MiB] [--rng]\n"
      "                              boot a microVM in the background\n"
      "  restore --name N [--paused] DIR   a new VM from `vm snapshot`'s DIR\n"
      "  receive --name N [--paused] unix:PATH|tcp:HOST:PORT   wait for a live migration\n"
      "  ls [-q] [--format json]     list VMs\n"
      "  inspect N...                state, pid, machine config and metrics as JSON\n"
      "  pause N... / resume N...\n"
      "  balloon N MiB               ask the guest to hand MiB back\n"
      "  snapshot [--leave-paused] N DIR   write DIR/state and DIR/mem\n"
      "  migrate [--max-downtime MS] N unix:PATH|tcp:HOST:PORT   live-migrate to a `vm receive`\n"
      "  stop [-t SECONDS] N...      Ctrl-Alt-Del, then SIGTERM/SIGKILL after SECONDS (10)\n"
      "  rm [-f] N...                forget stopped VMs (-f: stop them first)\n"
      "  logs N                      the guest's serial console\n"
      "  metrics N                   the VMM's counters as JSON\n";

static int
parse_uint (const char *s, const char *what, unsigned max, unsigned *ret, arca_error **err)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul (s, &end, 10);
  if (errno || end == s || *end || v > max || s[0] == '-')
    return arca_error_set (err, EINVAL, "%s `%s`: a number in 0..%u", what, s, max);
  *ret = (unsigned) v;
  return 0;
}

static int
vm_run (struct cli *cli, int argc, char **argv, const char *verb, arca_error **err)
{
  static const struct option options[] = {
    { "name", required_argument, NULL, 'n' },   { "kernel", required_argument, NULL, 'k' },
    { "initrd", required_argument, NULL, 'i' }, { "cmdline", required_argument, NULL, 'c' },
    { "memory", required_argument, NULL, 'm' }, { "cpus", required_argument, NULL, 'C' },
    { "drive", required_argument, NULL, 'd' },  { "net", required_argument, NULL, 'N' },
    { "vsock", required_argument, NULL, 'V' },  { "balloon", required_argument, NULL, 'b' },
    { "rng", no_argument, NULL, 'r' },          { "paused", no_argument, NULL, 'p' },
    { NULL, 0, NULL, 0 },
  };
  struct arca_vm_options o = { 0 };
  cleanup_strv char **drives = NULL;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+m:", options, NULL)) != -1)
    switch (c)
      {
      case 'n': o.name = optarg; break;
      case 'k': o.kernel = optarg; break;
      case 'i': o.initrd = optarg; break;
      case 'c': o.cmdline = optarg; break;
      case 'm':
        if (parse_uint (optarg, "--memory", 1u << 20, &o.memory_mib, err) < 0)
          return 125;
        break;
      case 'C':
        if (parse_uint (optarg, "--cpus", 64, &o.cpus, err) < 0)
          return 125;
        break;
      case 'd':
        if (cli_strv_push (&drives, optarg, err) < 0)
          return 125;
        break;
      case 'N': o.net = optarg; break;
      case 'V': o.vsock = optarg; break;
      case 'b':
        o.balloon = true;
        if (parse_uint (optarg, "--balloon", 1u << 20, &o.balloon_mib, err) < 0)
          return 125;
        break;
      case 'r': o.rng = true; break;
      case 'p': o.paused = true; break;
      default: return arca_error_set (err, EINVAL, "vm %s: invalid option (see arca vm --help)", verb), 125;
      }
  o.drives = drives;
  if (strcmp (verb, "restore") == 0 || strcmp (verb, "receive") == 0)
    {
      if (optind + 1 != argc || o.kernel)
        return arca_error_set (err, EINVAL, "vm %s: one %s is required (and no --kernel)", verb,
                               verb[2] == 's' ? "snapshot directory" : "address"),
               125;
      if (verb[2] == 's')
        o.restore_dir = argv[optind];
      else
        o.incoming = argv[optind];
    }
  else if (optind != argc || o.kernel == NULL)
    return arca_error_set (err, EINVAL, "vm run: --kernel is required, no arguments"), 125;
  if (o.name == NULL)
    return arca_error_set (err, EINVAL, "vm %s: --name is required", verb), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_vm_start (e, &o, NULL, err) < 0)
    return 125;
  printf ("%s\n", o.name);
  return 0;
}

static int
vm_ls (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = { { "quiet", no_argument, NULL, 'q' },
                                           { "format", required_argument, NULL, 'f' },
                                           { NULL, 0, NULL, 0 } };
  bool quiet = false, json = false;
  cleanup_strv char **names = NULL;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+q", options, NULL)) != -1)
    switch (c)
      {
      case 'q': quiet = true; break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "table") != 0)
          return arca_error_set (err, EINVAL, "vm ls: --format `%s` (table or json)", optarg), 125;
        json = strcmp (optarg, "json") == 0;
        break;
      default: return arca_error_set (err, EINVAL, "vm ls: invalid option"), 125;
      }
  if (cli_engine (cli, &e, err) < 0 || arca_vm_list (e, &names, err) < 0)
    return 125;
  json_t *array = json_array ();
  if (!quiet && !json)
    printf ("%-24s  %-12s  %s\n", "NAME", "STATE", "PID");
  for (char **n = names; *n; n++)
    {
      cleanup_free char *state = NULL;
      cleanup_error arca_error *one = NULL;
      pid_t pid = 0;
      if (arca_vm_state (e, *n, &state, &pid, &one) < 0)
        continue; /* removed meanwhile */
      if (quiet)
        printf ("%s\n", *n);
      else if (json)
        json_array_append_new (array, json_pack ("{s:s, s:s, s:i}", "Name", *n, "State", state, "Pid", (int) pid));
      else
        printf ("%-24s  %-12s  %d\n", *n, state, (int) pid);
    }
  if (json)
    {
      cli_print_json (array);
    }
  json_decref (array);
  return 0;
}

static json_t *
get_json (struct arca_engine *e, const char *name, const char *path)
{
  cleanup_free char *body = NULL;
  cleanup_error arca_error *ignored = NULL;
  if (arca_vm_request (e, name, "GET", path, NULL, NULL, &body, &ignored) < 0)
    return json_null ();
  json_t *j = json_loads (body, 0, NULL);
  return j ? j : json_null ();
}

static int
vm_inspect (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  json_t *array = json_array ();
  for (int i = 1; i < argc; i++)
    {
      cleanup_free char *state = NULL, *dir = NULL;
      pid_t pid;
      if (arca_vm_state (e, argv[i], &state, &pid, err) < 0 || arca_vm_path (e, argv[i], NULL, &dir, err) < 0)
        {
          json_decref (array);
          return 125;
        }
      json_array_append_new (array,
                             json_pack ("{s:s, s:s, s:i, s:s, s:o, s:o}", "Name", argv[i], "State", state,
                                        "Pid", (int) pid, "Dir", dir, "MachineConfig",
                                        pid > 0 ? get_json (e, argv[i], "/machine-config") : json_null (),
                                        "Metrics", pid > 0 ? get_json (e, argv[i], "/metrics") : json_null ()));
    }
  cli_print_json (array);
  json_decref (array);
  return 0;
}

static int
print_file (struct arca_engine *e, const char *name, const char *file, arca_error **err)
{
  cleanup_free char *path = NULL, *state = NULL;
  cleanup_close int fd = -1;
  char buf[65536];
  ssize_t n;

  if (arca_vm_state (e, name, &state, NULL, err) < 0 || arca_vm_path (e, name, file, &path, err) < 0)
    return -1;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : arca_error_errno (err, "open `%s`", path);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (fwrite (buf, 1, (size_t) n, stdout) != (size_t) n)
      return arca_error_errno (err, "write");
  return n < 0 ? arca_error_errno (err, "read `%s`", path) : 0;
}

int
cmd_vm (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (vm_help, argc < 2 ? stderr : stdout);
      return argc < 2 ? 125 : 0;
    }
  const char *verb = argv[1];
  argc--, argv++;
  optind = 0;
  if (strcmp (verb, "run") == 0 || strcmp (verb, "restore") == 0 || strcmp (verb, "receive") == 0)
    return vm_run (cli, argc, argv, verb, err);
  if (strcmp (verb, "ls") == 0 || strcmp (verb, "list") == 0)
    return vm_ls (cli, argc, argv, err);

  /* The rest take VM names, some a few options first. */
  static const struct option options[] = {
    { "time", required_argument, NULL, 't' },       { "force", no_argument, NULL, 'f' },
    { "leave-paused", no_argument, NULL, 'L' },     { "max-downtime", required_argument, NULL, 'D' },
    { "max-rounds", required_argument, NULL, 'R' }, { NULL, 0, NULL, 0 },
  };
  unsigned timeout = 10, downtime = 0, rounds = 0;
  bool force = false, leave_paused = false, has_timeout = false;
  int c;
  while ((c = getopt_long (argc, argv, "+t:f", options, NULL)) != -1)
    switch (c)
      {
      case 't':
        has_timeout = true;
        if (parse_uint (optarg, "--time", 3600, &timeout, err) < 0)
          return 125;
        break;
      case 'f': force = true; break;
      case 'L': leave_paused = true; break;
      case 'D':
        if (parse_uint (optarg, "--max-downtime", 60000, &downtime, err) < 0)
          return 125;
        break;
      case 'R':
        if (parse_uint (optarg, "--max-rounds", 30, &rounds, err) < 0)
          return 125;
        break;
      default: return arca_error_set (err, EINVAL, "vm %s: invalid option (see arca vm --help)", verb), 125;
      }
  (void) has_timeout;
  argc -= optind - 1;
  argv += optind - 1;
  if (argc < 2)
    return arca_error_set (err, EINVAL, "vm %s: a VM name is required", verb), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;

  if (strcmp (verb, "inspect") == 0)
    return vm_inspect (e, argc, argv, err);
  if (strcmp (verb, "logs") == 0)
    return print_file (e, argv[1], "console.log", err) < 0 ? 125 : 0;
  if (strcmp (verb, "metrics") == 0)
    {
      cleanup_free char *body = NULL;
      if (arca_vm_request (e, argv[1], "GET", "/metrics", NULL, NULL, &body, err) < 0)
        return 125;
      printf ("%s\n", body);
      return 0;
    }
  if (strcmp (verb, "balloon") == 0)
    {
      unsigned mib;
      char body[64];
      if (argc != 3 || parse_uint (argv[2], "balloon target (MiB)", 1u << 20, &mib, err) < 0)
        return err && *err ? 125 : (arca_error_set (err, EINVAL, "vm balloon: NAME MiB"), 125);
      snprintf (body, sizeof body, "{\"amount_mib\":%u}", mib);
      return arca_vm_request (e, argv[1], "PATCH", "/balloon", body, NULL, NULL, err) < 0 ? 125 : 0;
    }
  if (strcmp (verb, "snapshot") == 0)
    {
      if (argc != 3)
        return arca_error_set (err, EINVAL, "vm snapshot: NAME DIR"), 125;
      return arca_vm_snapshot (e, argv[1], argv[2], leave_paused, err) < 0 ? 125 : 0;
    }
  if (strcmp (verb, "migrate") == 0)
    {
      cleanup_free char *body = NULL, *reply = NULL;
      if (argc != 3)
        return arca_error_set (err, EINVAL, "vm migrate: NAME unix:PATH|tcp:HOST:PORT"), 125;
      json_t *j = json_pack ("{s:s}", "destination", argv[2]);
      if (downtime)
        json_object_set_new (j, "max_downtime_ms", json_integer (downtime));
      if (rounds)
        json_object_set_new (j, "max_rounds", json_integer (rounds));
      body = json_dumps (j, JSON_COMPACT);
      json_decref (j);
      if (arca_vm_request (e, argv[1], "PUT", "/migrate", body, NULL, &reply, err) < 0)
        return 125;
      printf ("%s\n", reply);
      return 0;
    }

  int status = 0;
  for (int i = 1; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      int r;
      if (strcmp (verb, "pause") == 0 || strcmp (verb, "resume") == 0)
        r = arca_vm_request (e, argv[i], "PATCH", "/vm",
                             verb[0] == 'p' ? "{\"state\":\"Paused\"}" : "{\"state\":\"Resumed\"}", NULL,
                             NULL, &one);
      else if (strcmp (verb, "stop") == 0)
        r = arca_vm_stop (e, argv[i], (int) timeout, &one);
      else if (strcmp (verb, "rm") == 0)
        r = arca_vm_remove (e, argv[i], force, &one);
      else
        return arca_error_set (err, EINVAL, "vm: unknown command `%s` (see arca vm --help)", verb), 125;
      if (r < 0)
        {
          arca_log_error (&cli->log, one);
          status = 125;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  return status;
}
