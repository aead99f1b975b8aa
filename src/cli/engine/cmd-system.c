/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca system check|prune, arca image prune. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine/system.h"
#include "util/cleanup.h"

static const char system_help[] =
    "Usage: arca system COMMAND\n\n"
    "  check [--repair]          verify blobs, layers, containers, volumes, mounts,\n"
    "                            runtime state and cgroups; --repair removes orphans\n"
    "  prune [-a] [--volumes]    remove stopped containers, untagged unused images\n"
    "                            (-a: every unused image), unused anonymous volumes\n"
    "                            (--volumes) and the store's garbage\n";

static const char image_help[] =
    "Usage: arca image prune [-a] [-f]\n\n"
    "  Removes dangling images (untagged, nothing was built from them) that no\n"
    "  container uses, each with its untagged build-step parents (-a: every unused\n"
    "  image nothing was built from), then the store's unreferenced layers and blobs.\n"
    "  Intermediate images of a tagged build stay until that image is removed.\n";

enum { O_REPAIR = 1000, O_VOLUMES };

static int
flags (int argc, char **argv, bool *all, bool *repair, bool *volumes, arca_error **err)
{
  static const struct option longs[] = {
    { "all", no_argument, NULL, 'a' },         { "force", no_argument, NULL, 'f' },
    { "repair", no_argument, NULL, O_REPAIR }, { "volumes", no_argument, NULL, O_VOLUMES },
    { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
  };
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, "+afh", longs, NULL)) != -1)
    switch (c)
      {
      case 'a': *all = true; break;
      case 'f': break; /* there is no prompt to skip */
      case O_REPAIR: *repair = true; break;
      case O_VOLUMES: *volumes = true; break;
      case 'h': return 1;
      default: return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]);
      }
  if (optind < argc)
    return arca_error_set (err, EINVAL, "%s: unexpected argument `%s`", argv[0], argv[optind]);
  return 0;
}

static int
check (struct cli *cli, bool repair, arca_error **err)
{
  struct arca_engine *e;
  cleanup_system_report struct arca_system_report *r = NULL;

  if (cli_engine (cli, &e, err) < 0 || arca_engine_system_check (e, repair, &r, err) < 0)
    return 125;
  size_t problems = 0, garbage = 0;
  for (char **p = r->problems; p && *p; p++, problems++)
    printf ("problem: %s\n", *p);
  for (char **p = r->garbage; p && *p; p++, garbage++)
    printf ("%s: %s\n", repair ? "repaired" : "orphan", *p);
  printf ("checked %zu blobs, %zu layers, %zu containers, %zu volumes: %zu problems, %zu "
          "orphans%s\n",
          r->blobs_checked, r->layers_checked, r->containers_checked, r->volumes_checked,
          problems, garbage, repair && garbage ? " (removed)" : "");
  /* Clean, or repaired with nothing left that repair cannot fix. */
  return problems || (garbage && !repair) ? 1 : 0;
}

int
cmd_system (struct cli *cli, int argc, char **argv, arca_error **err)
{
  bool all = false, repair = false, volumes = false;
  struct arca_engine *e;

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    return fputs (system_help, argc < 2 ? stderr : stdout), argc < 2 ? 125 : 0;
  int r = flags (argc - 1, argv + 1, &all, &repair, &volumes, err);
  if (r)
    return r < 0 ? 125 : (fputs (system_help, stdout), 0);
  if (strcmp (argv[1], "check") == 0)
    return check (cli, repair, err);
  if (strcmp (argv[1], "prune") == 0)
    {
      struct arca_system_prune p = { .all = all, .volumes = volumes };
      if (cli_engine (cli, &e, err) < 0 || arca_engine_system_prune (e, &p, err) < 0)
        return 125;
      printf ("removed %zu containers, %zu images, %zu volumes, %zu layers, %zu blobs\n",
              p.containers, p.images, p.volumes_removed, p.gc.layers_removed, p.gc.blobs_removed);
      return 0;
    }
  return arca_error_set (err, EINVAL, "system: unknown command `%s` (see arca system --help)",
                         argv[1]), 125;
}

int
cmd_image (struct cli *cli, int argc, char **argv, arca_error **err)
{
  bool all = false, repair = false, volumes = false;
  struct arca_engine *e;
  cleanup_strv char **removed = NULL;
  struct arca_gc_stats gc = { 0 };

  if (argc < 2 || strcmp (argv[1], "prune") != 0)
    {
      if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
        return fputs (image_help, stdout), 0;
      fputs (image_help, stderr);
      return 125;
    }
  int r = flags (argc - 1, argv + 1, &all, &repair, &volumes, err);
  if (r)
    return r < 0 ? 125 : (fputs (image_help, stdout), 0);
  if (cli_engine (cli, &e, err) < 0 || arca_engine_image_prune (e, all, &removed, &gc, err) < 0)
    return 125;
  for (char **p = removed; *p; p++)
    printf ("deleted: %s\n", *p);
  printf ("removed %zu layers, %zu blobs\n", gc.layers_removed, gc.blobs_removed);
  return 0;
}
