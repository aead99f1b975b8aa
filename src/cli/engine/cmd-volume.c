/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca volume create|ls|inspect|rm|prune. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "engine/volumes.h"
#include "util/cleanup.h"

static const char volume_help[] =
    "Usage: arca volume COMMAND\n\n"
    "  create [NAME]                 create a volume (a random name when none)\n"
    "  ls [-q] [--format json|TEMPLATE|'table TEMPLATE']\n"
    "                                list volumes (.Name .Driver .Mountpoint .Scope .CreatedAt)\n"
    "  inspect [--format TEMPLATE] NAME...\n"
    "                                print volumes as JSON, or each through a Go template\n"
    "  rm [-f] NAME...               remove volumes (-f: and the containers using them)\n"
    "  prune [-a]                    remove unused anonymous volumes (-a: all unused)\n";

static json_t *
volume_json (const struct arca_volume *v)
{
  char created[64];
  struct tm tm;
  time_t t = (time_t) v->created;
  json_t *users = json_array ();

  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&t, &tm));
  for (char **u = v->users; u && *u; u++)
    json_array_append_new (users, json_string (*u));
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:{}}", "Name", v->name, "Driver",
                    "local", "Mountpoint", v->mountpoint, "CreatedAt", created, "Scope", "local",
                    "Anonymous", v->anonymous, "UsedBy", users, "Labels");
}

static int
print_json (json_t *doc, arca_error **err)
{
  if (doc == NULL || json_dumpf (doc, stdout, JSON_INDENT (4)) < 0)
    {
      json_decref (doc);
      return arca_error_set (err, ENOMEM, "json");
    }
  json_decref (doc);
  putchar ('\n');
  return 0;
}

/* Parses [-f|-a|-q|--format F] options common to the subcommands. */
struct vopts {
  bool force, all, quiet;
  const char *format;
};

static int
parse (int argc, char **argv, struct vopts *o, arca_error **err)
{
  static const struct option longs[] = {
    { "force", no_argument, NULL, 'f' }, { "all", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' }, { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },  { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "+faqh", longs, NULL)) != -1)
    switch (c)
      {
      case 'f': o->force = true; break;
      case 'a': o->all = true; break;
      case 'q': o->quiet = true; break;
      case 'F': o->format = optarg; break;
      case 'h': return 1;
      default: return arca_error_set (err, EINVAL, "volume %s: invalid option", argv[0]);
      }
  return 0;
}

int
cmd_volume (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct vopts o = { 0 };
  struct arca_engine *e;

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    return fputs (volume_help, argc < 2 ? stderr : stdout), argc < 2 ? 125 : 0;
  const char *sub = argv[1];
  argc--, argv++;
  optind = 0;
  int r = parse (argc, argv, &o, err);
  if (r)
    return r < 0 ? 125 : (fputs (volume_help, stdout), 0);
  if (cli_engine (cli, &e, err) < 0)
    return 125;

  if (strcmp (sub, "create") == 0)
    {
      cleanup_free char *name = NULL;
      if (argc - optind > 1)
        return arca_error_set (err, EINVAL, "volume create: one name at most"), 125;
      if (arca_volume_create (e, optind < argc ? argv[optind] : NULL, false, &name, err) < 0)
        return 125;
      printf ("%s\n", name);
      return 0;
    }
  if (strcmp (sub, "ls") == 0 || strcmp (sub, "list") == 0)
    {
      struct arca_volume **list = NULL;
      if (arca_volume_list (e, &list, err) < 0)
        return 125;
      if (o.format && strcmp (o.format, "json") == 0)
        {
          json_t *doc = json_array ();
          for (size_t i = 0; list[i]; i++)
            json_array_append_new (doc, volume_json (list[i]));
          arca_volumes_free (list);
          return print_json (doc, err) < 0 ? 125 : 0;
        }
      if (o.format && !o.quiet)
        {
          /* A Go template (util/template.h), "table TEMPLATE" with a header. */
          _cleanup_ (json_decrefp) json_t *rows = json_array ();
          _cleanup_ (json_decrefp) json_t *headers = json_pack (
              "{s:s, s:s, s:s, s:s, s:s}", "Name", "VOLUME NAME", "Driver", "DRIVER", "Mountpoint",
              "MOUNTPOINT", "Scope", "SCOPE", "CreatedAt", "CREATED AT");
          for (size_t i = 0; list[i]; i++)
            json_array_append_new (rows, volume_json (list[i]));
          arca_volumes_free (list);
          return cli_format_table (o.format, rows, headers, err) < 0 ? 125 : 0;
        }
      if (!o.quiet)
        printf ("%-8s %s\n", "DRIVER", "VOLUME NAME");
      for (size_t i = 0; list[i]; i++)
        o.quiet ? printf ("%s\n", list[i]->name) : printf ("%-8s %s\n", "local", list[i]->name);
      arca_volumes_free (list);
      return 0;
    }
  if (strcmp (sub, "inspect") == 0)
    {
      json_t *doc = json_array ();
      int status = 0;
      if (optind >= argc)
        return arca_error_set (err, EINVAL, "volume inspect: a volume name is required"), 125;
      for (int i = optind; i < argc; i++)
        {
          cleanup_volume struct arca_volume *v = NULL;
          cleanup_error arca_error *one = NULL;
          if (arca_volume_get (e, argv[i], &v, &one) < 0)
            {
              arca_log_error (&cli->log, one);
              status = 1;
              continue;
            }
          json_array_append_new (doc, volume_json (v));
        }
      if (o.format && strcmp (o.format, "json") != 0)
        {
          int printed = cli_format_each (o.format, doc, err);
          json_decref (doc);
          return printed < 0 ? 125 : status;
        }
      if (print_json (doc, err) < 0)
        return 125;
      return status;
    }
  if (strcmp (sub, "rm") == 0 || strcmp (sub, "remove") == 0)
    {
      int status = 0;
      if (optind >= argc)
        return arca_error_set (err, EINVAL, "volume rm: a volume name is required"), 125;
      for (int i = optind; i < argc; i++)
        {
          cleanup_error arca_error *one = NULL;
          if (arca_volume_remove (e, argv[i], o.force, &one) < 0)
            {
              arca_log_error (&cli->log, one);
              status = 1;
              continue;
            }
          printf ("%s\n", argv[i]);
        }
      return status;
    }
  if (strcmp (sub, "prune") == 0)
    {
      cleanup_strv char **removed = NULL;
      if (arca_volume_prune (e, o.all, &removed, err) < 0)
        return 125;
      for (char **p = removed; *p; p++)
        printf ("%s\n", *p);
      return 0;
    }
  return arca_error_set (err, EINVAL, "volume: unknown command `%s` (see arca volume --help)",
                         sub), 125;
}
