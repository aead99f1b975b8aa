/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pull, push. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image/registry.h"
#include "util/cleanup.h"

static const char registry_help[] =
    "Usage: arca pull [options] IMAGE\n"
    "       arca push [options] IMAGE [DESTINATION]\n\n"
    "  --creds USER:PASSWORD     Basic authentication (or $ARCA_REGISTRY_AUTH)\n"
    "  --tls-verify=false        accept any certificate, allow plain http\n"
    "  --cert-dir DIR            trust the CA in DIR/ca.crt\n"
    "Registries on localhost/127.0.0.1 are spoken to over plain http unless --cert-dir.\n";

static int
parse_registry_opts (int argc, char **argv, struct arca_registry_options *o, arca_error **err)
{
  static const struct option options[] = {
    { "creds", required_argument, NULL, 'c' },
    { "tls-verify", optional_argument, NULL, 't' },
    { "cert-dir", required_argument, NULL, 'd' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  o->tls_verify = true;
  o->creds = getenv ("ARCA_REGISTRY_AUTH");
  while ((c = getopt_long (argc, argv, "+qh", options, NULL)) != -1)
    switch (c)
      {
      case 'c': o->creds = optarg; break;
      case 't':
        if (optarg == NULL || strcmp (optarg, "true") == 0)
          o->tls_verify = true;
        else if (strcmp (optarg, "false") == 0)
          o->tls_verify = false;
        else
          return arca_error_set (err, EINVAL, "--tls-verify=%s (true or false)", optarg);
        break;
      case 'd': o->cert_dir = optarg; break;
      case 'q': break;
      case 'h': return 1;
      default: return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]);
      }
  if (o->creds && strchr (o->creds, ':') == NULL)
    return arca_error_set (err, EINVAL, "--creds: expected USER:PASSWORD");
  return 0;
}

int
cmd_pull (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_registry_options o = { .log = &cli->log };
  struct arca_engine *e;
  char id[ARCA_DIGEST_LEN + 1] = "";
  int r = parse_registry_opts (argc, argv, &o, err);

  if (r)
    return r < 0 ? 125 : (fputs (registry_help, stdout), 0);
  if (argc - optind != 1)
    return arca_error_set (err, EINVAL, "pull: one image reference"), 125;
  if (cli_engine (cli, &e, err) < 0
      || arca_registry_pull (e->store, e->db, argv[optind], &o, id, err) < 0)
    return 125;
  printf ("%s\n", id);
  return 0;
}

int
cmd_push (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_registry_options o = { .log = &cli->log };
  struct arca_engine *e;
  int r = parse_registry_opts (argc, argv, &o, err);

  if (r)
    return r < 0 ? 125 : (fputs (registry_help, stdout), 0);
  if (argc - optind < 1 || argc - optind > 2)
    return arca_error_set (err, EINVAL, "push: IMAGE [DESTINATION]"), 125;
  const char *image = argv[optind];
  const char *dest = argc - optind == 2 ? argv[optind + 1] : image;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_ensure_busybox (e, image, err) < 0
      || arca_registry_push (e->store, e->db, image, dest, &o, err) < 0)
    return 125;
  return 0;
}
