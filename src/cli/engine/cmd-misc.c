/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca diff, export, top, stats, pause, unpause, update, rename. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine/cp.h"
#include "engine/stats.h"
#include "util/cleanup.h"

/* Only --help; returns 1 for it, -1 for a bad option. */
static int
no_options (int argc, char **argv, const char *shorts, const struct option *longs,
            int (*fn) (int c, const char *arg, void *data, arca_error **err), void *data,
            arca_error **err)
{
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, shorts, longs, NULL)) != -1)
    {
      if (c == 'h')
        return 1;
      if (c == '?' || fn == NULL)
        return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]);
      if (fn (c, optarg, data, err) < 0)
        return -1;
    }
  return 0;
}

static const struct option help_only[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

/* ---- diff, export ------------------------------------------------------- */

int
cmd_diff (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  struct arca_change *changes = NULL;
  size_t n = 0;
  int r = no_options (argc, argv, "+h", help_only, NULL, NULL, err);

  if (r)
    return r < 0 ? 125 : (puts ("Usage: arca diff CONTAINER\n\n  A added, C changed, D deleted"), 0);
  if (argc - optind != 1)
    return arca_error_set (err, EINVAL, "diff: one container is required"), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_diff (e, argv[optind], &changes, &n, err) < 0)
    return 125;
  for (size_t i = 0; i < n; i++)
    printf ("%c %s\n", changes[i].kind, changes[i].path);
  arca_changes_free (changes, n);
  return 0;
}

int
cmd_export (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = {
    { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  const char *output = NULL;
  struct arca_engine *e;
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, "o:h", longs, NULL)) != -1)
    switch (c)
      {
      case 'o': output = optarg; break;
      case 'h': return puts ("Usage: arca export [-o FILE] CONTAINER\n\n  A tar of the container's "
                             "root file system (stdout unless -o)"), 0;
      default: return arca_error_set (err, EINVAL, "export: invalid option"), 125;
      }
  if (argc - optind != 1)
    return arca_error_set (err, EINVAL, "export: one container is required"), 125;
  if (output == NULL && isatty (STDOUT_FILENO))
    return arca_error_set (err, EINVAL, "export: refusing to write a tar to a terminal (use -o)"), 125;
  cleanup_close int fd = output ? open (output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                                : dup (STDOUT_FILENO);
  if (fd < 0)
    return arca_error_errno (err, "export: open `%s`", output ? output : "stdout"), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_export (e, argv[optind], fd, err) < 0)
    {
      if (output)
        unlink (output);
      return 125;
    }
  return 0;
}

/* ---- top ---------------------------------------------------------------- */

int
cmd_top (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  struct arca_top_row *rows = NULL;
  size_t n = 0;
  int r = no_options (argc, argv, "+h", help_only, NULL, NULL, err);

  if (r)
    return r < 0 ? 125 : (puts ("Usage: arca top CONTAINER\n\n  The container's processes"), 0);
  if (argc - optind != 1)
    return arca_error_set (err, EINVAL, "top: one container is required"), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_top (e, argv[optind], &rows, &n, err) < 0)
    return 125;
  printf ("%-10s %-8s %-8s %-8s %-10s %s\n", "UID", "PID", "PPID", "STIME", "TIME", "CMD");
  for (size_t i = 0; i < n; i++)
    {
      char user[32], stime[16], cpu[32];
      struct passwd *pw = getpwuid (rows[i].uid);
      struct tm tm;
      time_t start = (time_t) rows[i].start;
      uint64_t secs = rows[i].cpu_ns / 1000000000ULL;
      if (pw)
        snprintf (user, sizeof user, "%s", pw->pw_name);
      else
        snprintf (user, sizeof user, "%u", (unsigned) rows[i].uid);
      strftime (stime, sizeof stime, "%H:%M", localtime_r (&start, &tm));
      snprintf (cpu, sizeof cpu, "%02llu:%02llu:%02llu", (unsigned long long) (secs / 3600),
                (unsigned long long) (secs / 60 % 60), (unsigned long long) (secs % 60));
      printf ("%-10s %-8d %-8d %-8s %-10s %s\n", user, (int) rows[i].pid, (int) rows[i].ppid,
              stime, cpu, rows[i].cmd);
    }
  arca_top_rows_free (rows, n);
  return 0;
}

/* ---- stats -------------------------------------------------------------- */

static void
human (char *out, size_t size, uint64_t bytes)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double v = (double) bytes;
  size_t u = 0;

  while (v >= 1024 && u + 1 < sizeof units / sizeof *units)
    v /= 1024, u++;
  snprintf (out, size, u ? "%.2f%s" : "%.0f%s", v, units[u]);
}

static uint64_t
host_memory (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
  return pages > 0 && page > 0 ? (uint64_t) pages * (uint64_t) page : 0;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct stats_row {
  char *name;
  struct arca_cgroup_stats a, b;
  int64_t ta, tb;
  bool ok;
};

int
cmd_stats (struct cli *cli, int argc, char **argv, arca_error **err)
{
  enum { O_NO_STREAM = 1000, O_FORMAT };
  static const struct option longs[] = {
    { "no-stream", no_argument, NULL, O_NO_STREAM }, { "format", required_argument, NULL, O_FORMAT },
    { "all", no_argument, NULL, 'a' },               { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool stream = true, json = false;
  struct arca_engine *e;
  cleanup_strv char **names = NULL;
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, "+ah", longs, NULL)) != -1)
    switch (c)
      {
      case O_NO_STREAM: stream = false; break;
      case O_FORMAT: json = strcmp (optarg, "json") == 0; break;
      case 'a': break;
      case 'h': return puts ("Usage: arca stats [--no-stream] [--format json] [CONTAINER...]\n\n"
                             "  cpu, memory, pids and block I/O of running containers"), 0;
      default: return arca_error_set (err, EINVAL, "stats: invalid option"), 125;
      }
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = optind; i < argc; i++)
    if (cli_strv_push (&names, argv[i], err) < 0)
      return 125;
  if (names == NULL)
    {
      struct arca_engine_container **list = NULL;
      if (arca_engine_list (e, &list, err) < 0)
        return 125;
      for (size_t i = 0; list[i]; i++)
        if ((list[i]->status == ARCA_ENGINE_RUNNING || list[i]->status == ARCA_ENGINE_PAUSED)
            && cli_strv_push (&names, list[i]->name, err) < 0)
          {
            arca_engine_containers_free (list);
            return 125;
          }
      arca_engine_containers_free (list);
    }
  size_t n = 0;
  while (names && names[n])
    n++;
  cleanup_free struct stats_row *rows = calloc (n + 1, sizeof *rows);
  if (rows == NULL)
    return arca_error_set (err, ENOMEM, "stats"), 125;
  uint64_t host_mem = host_memory ();
  long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
  int status = 0;
  for (;;)
    {
      /* Two samples 500 ms apart give the cpu share. */
      for (size_t i = 0; i < n; i++)
        {
          cleanup_error arca_error *one = NULL;
          rows[i].name = names[i];
          rows[i].ok = arca_engine_stats (e, names[i], &rows[i].a, &one) == 0;
          rows[i].ta = now_ns ();
          if (!rows[i].ok && stream == false)
            {
              arca_log_error (&cli->log, one);
              status = 1;
            }
        }
      struct timespec half = { 0, 500 * 1000 * 1000 };
      nanosleep (&half, NULL);
      for (size_t i = 0; i < n; i++)
        {
          cleanup_error arca_error *one = NULL;
          if (rows[i].ok)
            rows[i].ok = arca_engine_stats (e, names[i], &rows[i].b, &one) == 0;
          rows[i].tb = now_ns ();
        }
      json_t *doc = json ? json_array () : NULL;
      if (!json)
        {
          if (stream)
            fputs ("\033[2J\033[H", stdout);
          printf ("%-20s %-8s %-22s %-8s %-20s %s\n", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
                  "BLOCK I/O", "PIDS");
        }
      for (size_t i = 0; i < n; i++)
        {
          if (!rows[i].ok)
            continue;
          const struct arca_cgroup_stats *s = &rows[i].b;
          uint64_t limit = s->memory_limit == UINT64_MAX || s->memory_limit > host_mem
                               ? host_mem : s->memory_limit;
          double dt = (double) (rows[i].tb - rows[i].ta);
          double cpu = dt > 0 && s->cpu_usage_ns >= rows[i].a.cpu_usage_ns
                           ? 100.0 * (double) (s->cpu_usage_ns - rows[i].a.cpu_usage_ns) / dt : 0;
          double mem_pct = limit ? 100.0 * (double) s->memory_usage / (double) limit : 0;
          if (json)
            {
              json_array_append_new (
                  doc, json_pack ("{s:s, s:f, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:i}", "Name",
                                  rows[i].name, "CPUPerc", cpu, "MemUsage",
                                  (json_int_t) s->memory_usage, "MemLimit", (json_int_t) limit,
                                  "MemPerc", mem_pct, "PIDs", (json_int_t) s->pids_current,
                                  "PIDsLimit",
                                  (json_int_t) (s->pids_limit == UINT64_MAX ? 0 : s->pids_limit),
                                  "BlockRead", (json_int_t) s->blkio_read_bytes, "BlockWrite",
                                  (json_int_t) s->blkio_write_bytes, "CPUs", (int) ncpu));
              continue;
            }
          char usage[32], lim[32], rd[32], wr[32], mem[80], blk[80];
          human (usage, sizeof usage, s->memory_usage);
          human (lim, sizeof lim, limit);
          human (rd, sizeof rd, s->blkio_read_bytes);
          human (wr, sizeof wr, s->blkio_write_bytes);
          snprintf (mem, sizeof mem, "%s / %s", usage, lim);
          snprintf (blk, sizeof blk, "%s / %s", rd, wr);
          printf ("%-20s %-8.2f %-22s %-8.2f %-20s %llu\n", rows[i].name, cpu, mem, mem_pct, blk,
                  (unsigned long long) s->pids_current);
        }
      if (json)
        {
          json_dumpf (doc, stdout, JSON_INDENT (4));
          putchar ('\n');
          json_decref (doc);
        }
      fflush (stdout);
      if (!stream)
        return status;
    }
}

/* ---- pause, unpause, rename -------------------------------------------- */

static int
each (struct cli *cli, int argc, char **argv, const char *usage,
      int (*fn) (struct arca_engine *, const char *, arca_error **), arca_error **err)
{
  struct arca_engine *e;
  int status = 0;
  int r = no_options (argc, argv, "+h", help_only, NULL, NULL, err);

  if (r)
    return r < 0 ? 125 : (puts (usage), 0);
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "%s: a container is required", argv[0]), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      if (fn (e, argv[i], &one) < 0)
        {
          arca_log_error (&cli->log, one);
          status = 1;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  return status;
}

static int
do_pause (struct arca_engine *e, const char *name, arca_error **err)
{
  return arca_engine_pause (e, name, true, err);
}

static int
do_unpause (struct arca_engine *e, const char *name, arca_error **err)
{
  return arca_engine_pause (e, name, false, err);
}

int
cmd_pause (struct cli *cli, int argc, char **argv, arca_error **err)
{
  return each (cli, argc, argv, "Usage: arca pause CONTAINER...\n\n  Freezes every process",
               do_pause, err);
}

int
cmd_unpause (struct cli *cli, int argc, char **argv, arca_error **err)
{
  return each (cli, argc, argv, "Usage: arca unpause CONTAINER...", do_unpause, err);
}

int
cmd_rename (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  int r = no_options (argc, argv, "+h", help_only, NULL, NULL, err);

  if (r)
    return r < 0 ? 125 : (puts ("Usage: arca rename CONTAINER NEW_NAME"), 0);
  if (argc - optind != 2)
    return arca_error_set (err, EINVAL, "rename: CONTAINER and NEW_NAME are required"), 125;
  if (cli_engine (cli, &e, err) < 0
      || arca_engine_rename (e, argv[optind], argv[optind + 1], err) < 0)
    return 125;
  return 0;
}

/* ---- update ------------------------------------------------------------- */

static int
parse_bytes (const char *flag, const char *text, int64_t *ret, arca_error **err)
{
  char *end;
  if (strcmp (text, "-1") == 0)
    return *ret = -1, 0;
  errno = 0;
  double v = strtod (text, &end);
  int64_t mult = 1;
  switch (*end)
    {
    case 'k': case 'K': mult = 1024; end++; break;
    case 'm': case 'M': mult = 1024 * 1024; end++; break;
    case 'g': case 'G': mult = 1024LL * 1024 * 1024; end++; break;
    default: break;
    }
  if (*end == 'b' || *end == 'B')
    end++;
  if (errno || end == text || *end || v <= 0 || v * (double) mult > 9e18)
    return arca_error_set (err, EINVAL, "%s: `%s` is not a size", flag, text);
  *ret = (int64_t) (v * (double) mult);
  return 0;
}

enum { U_MEMORY = 'm', U_SWAP = 1000, U_CPUS, U_SHARES, U_PIDS, U_CPUSET };

static int
update_flag (int c, const char *arg, void *data, arca_error **err)
{
  struct arca_update_request *u = data;
  char *end;

  errno = 0;
  switch (c)
    {
    case U_MEMORY: return parse_bytes ("--memory", arg, &u->memory, err);
    case U_SWAP: return parse_bytes ("--memory-swap", arg, &u->memory_swap, err);
    case U_CPUS:
      u->cpus = strtod (arg, &end);
      if (errno || *end || !(u->cpus > 0))
        return arca_error_set (err, EINVAL, "--cpus: `%s` is not a positive number", arg);
      return 0;
    case U_SHARES:
      u->cpu_shares = strtoull (arg, &end, 10);
      if (errno || *end || u->cpu_shares < 2)
        return arca_error_set (err, EINVAL, "--cpu-shares: `%s` (at least 2)", arg);
      return 0;
    case U_PIDS:
      u->pids_limit = strtoll (arg, &end, 10);
      if (errno || *end || u->pids_limit == 0 || u->pids_limit < -1)
        return arca_error_set (err, EINVAL, "--pids-limit: `%s` (a positive number or -1)", arg);
      return 0;
    case U_CPUSET:
      if (strspn (arg, "0123456789,-") != strlen (arg) || *arg == '\0')
        return arca_error_set (err, EINVAL, "--cpuset-cpus: `%s` is not a cpu list", arg);
      u->cpuset_cpus = arg;
      return 0;
    default: return arca_error_set (err, EINVAL, "update: invalid option");
    }
}

int
cmd_update (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = {
    { "memory", required_argument, NULL, U_MEMORY },
    { "memory-swap", required_argument, NULL, U_SWAP },
    { "cpus", required_argument, NULL, U_CPUS },
    { "cpu-shares", required_argument, NULL, U_SHARES },
    { "pids-limit", required_argument, NULL, U_PIDS },
    { "cpuset-cpus", required_argument, NULL, U_CPUSET },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct arca_update_request u = { 0 };
  struct arca_engine *e;
  int status = 0;
  int r = no_options (argc, argv, "+m:h", longs, update_flag, &u, err);

  if (r)
    return r < 0 ? 125
                 : (puts ("Usage: arca update [options] CONTAINER...\n\n"
                          "  -m, --memory SIZE, --memory-swap SIZE, --cpus N, --cpu-shares N,\n"
                          "  --pids-limit N, --cpuset-cpus LIST"),
                    0);
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "update: a container is required"), 125;
  if (!u.memory && !u.memory_swap && !(u.cpus > 0) && !u.cpu_shares && !u.pids_limit
      && !u.cpuset_cpus)
    return arca_error_set (err, EINVAL, "update: nothing to change (see --help)"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      if (arca_engine_update (e, argv[i], &u, &one) < 0)
        {
          arca_log_error (&cli->log, one);
          status = 1;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  return status;
}
