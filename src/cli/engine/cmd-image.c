/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image commands: images, load, save, import, rmi, tag. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image/archives.h"
#include "engine/system.h"
#include "image/gc.h"
#include "image/reference.h"
#include "util/cleanup.h"

static void
human_size (int64_t bytes, char *buf, size_t size)
{
  if (bytes >= 1000 * 1000 * 1000)
    snprintf (buf, size, "%.2f GB", (double) bytes / 1e9);
  else if (bytes >= 1000 * 1000)
    snprintf (buf, size, "%.2f MB", (double) bytes / 1e6);
  else
    snprintf (buf, size, "%.1f kB", (double) bytes / 1e3);
}

int
cmd_images (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "format", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' },
    { "digests", no_argument, NULL, 'd' }, { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },    { NULL, 0, NULL, 0 },
  };
  const char *format = "table";
  bool quiet = false, digests = false, all = false;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+f:qah", options, NULL)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'f': format = optarg; break;
      case 'q': quiet = true; break;
      case 'd': digests = true; break;
      case 'h':
        return fputs ("Usage: arca images [-a] [-q] [--digests] [--format table|json|TEMPLATE|'table TEMPLATE']\n"
                      "  -a, --all   show intermediate images (build steps) too\n"
                      "  TEMPLATE: a Go template over .Repository .Tag .ID .Digest .CreatedAt .Size\n",
                      stdout), 0;
      default: return arca_error_set (err, EINVAL, "images: invalid option"), 125;
      }
  /* Anything else than the two built-in formats is a Go template. */
  bool templated = strcmp (format, "table") != 0 && strcmp (format, "json") != 0;
  json_t *rows = json_array ();
  _cleanup_ (arca_image_records_freep) struct arca_image_record **images = NULL;
  cleanup_strv char **intermediates = NULL;
  if (cli_engine (cli, &e, err) < 0 || arca_db_list_images (e->db, &images, err) < 0
      || (!all && arca_engine_image_intermediates (e, &intermediates, err) < 0))
    {
      json_decref (rows);
      return 125;
    }
  json_t *array = json_array ();
  if (!quiet && strcmp (format, "table") == 0)
    printf ("%-36s  %-10s  %s%-12s  %-20s  %s\n", "REPOSITORY", "TAG", digests ? "DIGEST                                                                   " : "",
            "IMAGE ID", "CREATED", "SIZE");
  for (size_t i = 0; images && images[i]; i++)
    {
      struct arca_image_record *img = images[i];
      bool hidden = false;
      for (char **p = intermediates; p && *p && !hidden; p++)
        hidden = strcmp (*p, img->id) == 0;
      if (hidden)
        continue;
      const char *hex = strchr (img->id, ':') ? strchr (img->id, ':') + 1 : img->id;
      char size[32], created[32];
      time_t t = (time_t) img->created;
      struct tm tm;
      gmtime_r (&t, &tm);
      strftime (created, sizeof created, "%Y-%m-%d %H:%M:%S", &tm);
      human_size (img->size, size, sizeof size);
      if (quiet)
        {
          printf ("%.12s\n", hex);
          continue;
        }
      if (templated)
        {
          /* A row per name, as the table has them. */
          for (size_t k = 0; k == 0 || (img->tags && img->tags[k]); k++)
            {
              const char *name = img->tags && img->tags[k] ? img->tags[k] : NULL;
              cleanup_free char *repo = name ? strdup (name) : NULL;
              char *colon = repo ? strrchr (repo, ':') : NULL;
              if (colon && strchr (colon, '/') == NULL)
                *colon++ = '\0';
              else
                colon = NULL;
              char id[13];
              snprintf (id, sizeof id, "%.12s", hex);
              json_array_append_new (rows, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "Repository",
                                                      repo ? repo : "<none>", "Tag",
                                                      colon ? colon : "<none>", "ID", id, "Digest",
                                                      img->manifest_digest,
                                                      "CreatedAt", created, "Size", size));
              if (name == NULL)
                break;
            }
          continue;
        }
      if (strcmp (format, "json") == 0)
        {
          json_t *names = json_array ();
          for (size_t k = 0; img->tags && img->tags[k]; k++)
            json_array_append_new (names, json_string (img->tags[k]));
          json_array_append_new (array, json_pack ("{s:s, s:s, s:o, s:I, s:I}", "Id", img->id,
                                                   "Digest", img->manifest_digest, "Names", names,
                                                   "Created", (json_int_t) img->created, "Size",
                                                   (json_int_t) img->size));
          continue;
        }
      size_t ntags = 0;
      for (; img->tags && img->tags[ntags]; ntags++)
        {
          cleanup_free char *repo = strdup (img->tags[ntags]);
          char *colon = repo ? strrchr (repo, ':') : NULL;
          if (colon && strchr (colon, '/') == NULL)
            *colon++ = '\0';
          printf ("%-36s  %-10s  %s%s%-12.12s  %-20s  %s\n", repo ? repo : "", colon ? colon : "<none>",
                  digests ? img->manifest_digest : "", digests ? "  " : "", hex, created, size);
        }
      if (ntags == 0)
        printf ("%-36s  %-10s  %s%s%-12.12s  %-20s  %s\n", "<none>", "<none>",
                digests ? img->manifest_digest : "", digests ? "  " : "", hex, created, size);
    }
  if (!quiet && strcmp (format, "json") == 0)
    {
      cli_print_json (array);
    }
  json_decref (array);
  int r = 0;
  if (!quiet && templated)
    {
      json_t *headers = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", "REPOSITORY",
                                   "Tag", "TAG", "ID", "IMAGE ID", "Digest", "DIGEST", "CreatedAt",
                                   "CREATED AT", "Size", "SIZE");
      r = cli_format_table (format, rows, headers, err);
      json_decref (headers);
    }
  json_decref (rows);
  return r < 0 ? 125 : 0;
}

int
cmd_load (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = { { "input", required_argument, NULL, 'i' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
  const char *input = NULL;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+i:h", options, NULL)) != -1)
    switch (c)
      {
      case 'i': input = optarg; break;
      case 'h': return fputs ("Usage: arca load [-i FILE]   (default: stdin)\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "load: invalid option"), 125;
      }
  cleanup_close int fd = input ? open (input, O_RDONLY | O_CLOEXEC) : dup (0);
  if (fd < 0)
    return arca_error_errno (err, "load: `%s`", input ? input : "stdin"), 125;
  cleanup_strv char **ids = NULL;
  struct arca_unpack_options uo = { .log = &cli->log };
  if (cli_engine (cli, &e, err) < 0 || arca_image_load (e->store, e->db, fd, &uo, &ids, err) < 0)
    return 125;
  for (size_t i = 0; ids && ids[i]; i++)
    {
      _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
      cleanup_error arca_error *ignored = NULL;
      if (arca_db_get_image (e->db, ids[i], &img, &ignored) == 0 && img->tags && img->tags[0])
        for (size_t k = 0; img->tags[k]; k++)
          printf ("Loaded image: %s\n", img->tags[k]);
      else
        printf ("Loaded image: %s\n", ids[i]);
    }
  return 0;
}

int
cmd_save (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = { { "output", required_argument, NULL, 'o' },
                                           { "format", required_argument, NULL, 'f' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
  const char *output = NULL;
  enum arca_archive_format format = ARCA_ARCHIVE_DOCKER;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+o:h", options, NULL)) != -1)
    switch (c)
      {
      case 'o': output = optarg; break;
      case 'f':
        if (strcmp (optarg, "docker-archive") == 0)
          format = ARCA_ARCHIVE_DOCKER;
        else if (strcmp (optarg, "oci-archive") == 0)
          format = ARCA_ARCHIVE_OCI;
        else
          return arca_error_set (err, EINVAL, "save: --format `%s` (docker-archive, oci-archive)", optarg), 125;
        break;
      case 'h': return fputs ("Usage: arca save -o FILE [--format docker-archive|oci-archive] IMAGE...\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "save: invalid option"), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "save: at least one image"), 125;
  if (output == NULL && isatty (1))
    return arca_error_set (err, EINVAL, "save: refusing to write an archive to a terminal (use -o)"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = optind; i < argc; i++)
    if (arca_engine_ensure_busybox (e, argv[i], err) < 0)
      return 125;
  /* Written next to the target and renamed: no half archive on failure. */
  cleanup_free char *tmp = NULL;
  if (output && asprintf (&tmp, "%s.tmp-XXXXXX", output) < 0)
    return arca_error_set (err, ENOMEM, "save"), 125;
  cleanup_close int fd = output ? mkostemp (tmp, O_CLOEXEC) : dup (1);
  if (fd < 0)
    return arca_error_errno (err, "save: `%s`", output ? output : "stdout"), 125;
  if (arca_image_save (e->store, e->db, (const char *const *) argv + optind, format, fd, err) < 0
      || (output && (fsync (fd) < 0 || rename (tmp, output) < 0)))
    {
      if (output)
        unlink (tmp);
      if (*err == NULL)
        arca_error_errno (err, "save: `%s`", output);
      return 125;
    }
  return 0;
}

int
cmd_import (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  char id[ARCA_DIGEST_LEN + 1] = "";

  if (argc != 3)
    return arca_error_set (err, EINVAL, "usage: arca import ROOTFS.tar NAME[:TAG] (\"-\": stdin)"), 125;
  cleanup_close int fd = strcmp (argv[1], "-") == 0 ? dup (0) : open (argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "import: `%s`", argv[1]), 125;
  char *const cmd[] = { "sh", NULL };
  if (cli_engine (cli, &e, err) < 0 || arca_engine_import (e, fd, argv[2], cmd, id, err) < 0)
    return 125;
  printf ("%s\n", id);
  return 0;
}

int
cmd_rmi (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  int status = 0;

  if (argc < 2)
    return arca_error_set (err, EINVAL, "rmi: at least one image"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = 1; i < argc; i++)
    {
      char id[ARCA_DIGEST_LEN + 1];
      cleanup_error arca_error *one = NULL;
      struct arca_gc_stats stats = { 0 };
      if (arca_db_resolve (e->db, argv[i], id, &one) < 0)
        {
          arca_log_error (&cli->log, one);
          status = 1;
          continue;
        }
      /* Containers keep their image (the foreign key would refuse it too). */
      struct arca_engine_container **list = NULL;
      if (arca_engine_list (e, &list, &one) == 0)
        {
          const char *user = NULL;
          for (size_t k = 0; list[k] && !user; k++)
            if (strcmp (list[k]->image_id, id) == 0)
              user = list[k]->name;
          if (user)
            arca_error_set (&one, EBUSY, "image %s is used by container %s", argv[i], user);
          arca_engine_containers_free (list);
        }
      /* Its intermediate parents go with it, as in Docker. */
      cleanup_strv char **removed = NULL;
      if (one == NULL && arca_engine_image_remove (e, id, &removed, &stats, &one) == 0)
        {
          for (char **p = removed; *p; p++)
            printf ("Deleted: %s\n", *p);
          continue;
        }
      arca_log_error (&cli->log, one);
      status = 1;
    }
  return status;
}

int
cmd_tag (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  char id[ARCA_DIGEST_LEN + 1];

  if (argc != 3)
    return arca_error_set (err, EINVAL, "usage: arca tag IMAGE NAME[:TAG]"), 125;
  _cleanup_ (arca_reference_freep) struct arca_reference *ref = NULL;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_ensure_busybox (e, argv[1], err) < 0
      || arca_db_resolve (e->db, argv[1], id, err) < 0
      || arca_reference_parse (argv[2], ARCA_REFERENCE_LOCAL, &ref, err) < 0)
    return 125;
  cleanup_free char *name = arca_reference_string (ref);
  if (name == NULL || arca_db_tag (e->db, id, name, err) < 0)
    return name ? 125 : (arca_error_set (err, ENOMEM, "tag"), 125);
  return 0;
}
