/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca build` and `arca commit`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/build.h"
#include "engine/commit.h"
#include "util/cleanup.h"

int
cmd_build (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "tag", required_argument, NULL, 't' },
    { "file", required_argument, NULL, 'f' },
    { "build-arg", required_argument, NULL, 'a' },
    { "target", required_argument, NULL, 'T' },
    { "no-cache", no_argument, NULL, 'n' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **tags = NULL, **build_args = NULL;
  struct arca_build_options o = { .progress = stdout };
  struct arca_engine *e;
  bool quiet = false;
  int c;

  while ((c = getopt_long (argc, argv, "+t:f:qh", options, NULL)) != -1)
    switch (c)
      {
      case 't':
        if (cli_strv_push (&tags, optarg, err) < 0)
          return 125;
        break;
      case 'f': o.file = optarg; break;
      case 'a':
        if (cli_strv_push (&build_args, optarg, err) < 0)
          return 125;
        break;
      case 'T': o.target = optarg; break;
      case 'n': o.no_cache = true; break;
      case 'q': quiet = true; break;
      case 'h':
        fputs ("Usage: arca build [-t NAME[:TAG]]... [-f FILE] [--build-arg KEY[=VALUE]]...\n"
               "                  [--target STAGE] [--no-cache] [-q] CONTEXT\n",
               stdout);
        return 0;
      default: return arca_error_set (err, EINVAL, "build: invalid option"), 125;
      }
  if (optind + 1 != argc)
    return arca_error_set (err, EINVAL, "build: exactly one CONTEXT directory expected"), 125;
  o.context = argv[optind];
  o.tags = tags;
  o.build_args = build_args;
  if (quiet)
    o.progress = NULL;
  /* RUN steps share our stdio; like Docker's they read nothing from it. */
  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0)
    return arca_error_errno (err, "build: /dev/null as stdin"), 125;
  if (null_fd != STDIN_FILENO)
    close (null_fd);
  /* Ctrl-C stops the build cleanly; the exit status says which signal. */
  int sig = 0;
  o.ret_signal = &sig;
  char id[ARCA_DIGEST_LEN + 1];
  if (cli_engine (cli, &e, err) < 0 || arca_engine_build (e, &o, id, err) < 0)
    return sig ? 128 + sig : 125;
  printf ("%s\n", arca_digest_hex (id));
  return 0;
}

int
cmd_commit (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "change", required_argument, NULL, 'c' },
    { "message", required_argument, NULL, 'm' },
    { "author", required_argument, NULL, 'a' },
    { "pause", optional_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **changes = NULL;
  struct arca_commit_options o = { 0 };
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+c:m:a:ph", options, NULL)) != -1)
    switch (c)
      {
      case 'c':
        if (cli_strv_push (&changes, optarg, err) < 0)
          return 125;
        break;
      case 'm': o.message = optarg; break;
      case 'a': o.author = optarg; break;
      case 'p': break; /* accepted for Docker compatibility; the upper dir is read as is */
      case 'h':
        fputs ("Usage: arca commit [-c INSTRUCTION]... [-m MESSAGE] [-a AUTHOR] CONTAINER "
               "[NAME[:TAG]]\n",
               stdout);
        return 0;
      default: return arca_error_set (err, EINVAL, "commit: invalid option"), 125;
      }
  if (optind >= argc || argc - optind > 2)
    return arca_error_set (err, EINVAL, "commit: CONTAINER [NAME[:TAG]] expected"), 125;
  o.ref = optind + 1 < argc ? argv[optind + 1] : NULL;
  o.changes = changes;
  char id[ARCA_DIGEST_LEN + 1];
  if (cli_engine (cli, &e, err) < 0 || arca_engine_commit (e, argv[optind], &o, id, err) < 0)
    return 125;
  printf ("%s\n", arca_digest_hex (id));
  return 0;
}
