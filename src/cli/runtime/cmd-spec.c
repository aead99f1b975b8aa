/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spec, features. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "oci/features.h"
#include "oci/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"

int
cmd_spec (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "rootless", no_argument, NULL, 'r' },
    { "bundle", required_argument, NULL, 'b' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *bundle = ".";
  bool rootless = false;
  cleanup_free char *json = NULL;
  int c;

  (void) cli;
  while ((c = getopt_long (argc, argv, "+b:h", options, NULL)) != -1)
    switch (c)
      {
      case 'r': rootless = true; break;
      case 'b': bundle = optarg; break;
      case 'h':
        return cli_help ("Usage: arca-runtime spec [--rootless] [--bundle DIR]\n\n"
                         "Writes a default config.json into the bundle (default: current "
                         "directory).\n");
      default: return arca_error_set (err, EINVAL, "spec: invalid option (see --help)"), 1;
      }
  if (cli_positional (argc, argv, optind, 0, "spec [--rootless] [--bundle DIR]", err) < 0)
    return 1;
  cleanup_close int dirfd = open (bundle, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dirfd < 0)
    return arca_error_errno (err, "spec: --bundle `%s`", bundle), 1;
  if (faccessat (dirfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return arca_error_set (err, EEXIST, "spec: `%s/config.json` already exists", bundle), 1;
  if (arca_oci_spec_default (rootless, &json, err) < 0)
    return 1;
  size_t len = strlen (json);
  json[len] = '\0';
  if (arca_write_file_atomic_at (dirfd, "config.json", json, len, 0644, err) < 0)
    return 1;
  return 0;
}

int
cmd_features (struct cli *cli, int argc, char **argv, arca_error **err)
{
  cleanup_free char *json = NULL;

  (void) cli;
  if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    return cli_help ("Usage: arca-runtime features\n\n"
                     "Prints what this runtime supports (runtime-spec features.md JSON).\n");
  if (argc > 1)
    return arca_error_set (err, EINVAL, "features: takes no arguments"), 1;
  if (arca_oci_features_json (&json, err) < 0)
    return 1;
  printf ("%s\n", json);
  return 0;
}
