/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* history and image inspect. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "engine/image-info.h"
#include "util/cleanup.h"

static void
size_text (int64_t bytes, char *buf, size_t size)
{
  if (bytes >= 1000 * 1000 * 1000)
    snprintf (buf, size, "%.3gGB", (double) bytes / 1e9);
  else if (bytes >= 1000 * 1000)
    snprintf (buf, size, "%.3gMB", (double) bytes / 1e6);
  else if (bytes >= 1000)
    snprintf (buf, size, "%.3gkB", (double) bytes / 1e3);
  else
    snprintf (buf, size, "%lldB", (long long) bytes);
}

int
cmd_history (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "no-trunc", no_argument, NULL, 'n' }, { "quiet", no_argument, NULL, 'q' },
    { "format", required_argument, NULL, 'f' }, { "human", required_argument, NULL, 'H' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  bool no_trunc = false, quiet = false, json = false;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+qH:h", options, NULL)) != -1)
    switch (c)
      {
      case 'n': no_trunc = true; break;
      case 'q': quiet = true; break;
      case 'H': break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "table") != 0)
          return arca_error_set (err, EINVAL, "history: --format `%s` (table or json)", optarg), 125;
        json = strcmp (optarg, "json") == 0;
        break;
      case 'h':
        return fputs ("Usage: arca history [-q] [--no-trunc] [--format table|json] IMAGE\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "history: invalid option (see --help)"), 125;
      }
  if (optind + 1 != argc)
    return arca_error_set (err, EINVAL, "history: exactly one image is required"), 125;

  _cleanup_ (arca_history_entries_freep) struct arca_history_entry **rows = NULL;
  char id[80];
  if (cli_engine (cli, &e, err) < 0 || arca_engine_image_history (e, argv[optind], id, &rows, err) < 0)
    return 125;
  const char *hex = strchr (id, ':') ? strchr (id, ':') + 1 : id;
  json_t *array = json ? json_array () : NULL;
  if (!quiet && !json)
    printf ("%-12s  %-20s  %-45s  %-8s  %s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
  for (size_t i = 0; rows[i]; i++)
    {
      const struct arca_history_entry *r = rows[i];
      char created[32] = "", size[32];
      time_t t = (time_t) r->created;
      struct tm tm;
      if (r->created && gmtime_r (&t, &tm))
        strftime (created, sizeof created, "%Y-%m-%d %H:%M:%S", &tm);
      size_text (r->size, size, sizeof size);
      if (json)
        {
          json_array_append_new (array, json_pack ("{s:s, s:I, s:s, s:I, s:s}", "id",
                                                   r->top ? id : "<missing>", "created",
                                                   (json_int_t) r->created, "createdBy",
                                                   r->created_by, "size", (json_int_t) r->size,
                                                   "comment", r->comment));
          continue;
        }
      if (quiet)
        {
          printf ("%s\n", r->top ? (no_trunc ? id : hex) : "<missing>");
          continue;
        }
      printf ("%-12.*s  %-20s  %-45.*s  %-8s  %s\n", no_trunc ? 80 : 12, r->top ? hex : "<missing>",
              created, no_trunc ? (int) strlen (r->created_by) : 45, r->created_by, size, r->comment);
    }
  if (json)
    {
      cli_print_json (array);
      json_decref (array);
    }
  return 0;
}

int
cmd_image_inspect (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+h", options, NULL)) != -1)
    switch (c)
      {
      case 'h': return fputs ("Usage: arca image inspect IMAGE...\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "image inspect: invalid option"), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "image inspect: an image is required"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  json_t *array = json_array ();
  for (int i = optind; i < argc; i++)
    {
      json_t *info = NULL;
      if (arca_engine_image_inspect (e, argv[i], &info, err) < 0)
        {
          json_decref (array);
          return 125;
        }
      json_array_append_new (array, info);
    }
  cli_print_json (array);
  json_decref (array);
  return 0;
}
