/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network commands: `arca port`, `arca network ...`. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/network-bridge.h"
#include "engine/network-user.h"
#include "util/cleanup.h"

int
cmd_port (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  cleanup_free struct arca_nft_port *ports = NULL;
  size_t n = 0;

  if (argc < 2 || argc > 3 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      if (argc == 2)
        return fputs ("Usage: arca port CONTAINER [PORT[/tcp|udp]]\n", stdout), 0;
      return arca_error_set (err, EINVAL, "port: usage: arca port CONTAINER [PORT[/tcp|udp]]"),
             125;
    }
  if (cli_engine (cli, &e, err) < 0 || arca_engine_ports (e, argv[1], &ports, &n, err) < 0)
    return 125;
  /* PORT filters like Docker's: "80" means 80/tcp. */
  unsigned want = 0;
  const char *want_proto = "tcp";
  if (argc == 3)
    {
      want = (unsigned) strtoul (argv[2], NULL, 10);
      const char *slash = strchr (argv[2], '/');
      if (slash)
        want_proto = slash + 1;
    }
  size_t shown = 0;
  for (size_t i = 0; i < n; i++)
    {
      char hip[INET_ADDRSTRLEN];
      if (want && (ports[i].container_port != want || strcmp (ports[i].proto, want_proto) != 0))
        continue;
      inet_ntop (AF_INET, &ports[i].host_ip, hip, sizeof hip);
      if (want)
        printf ("%s:%u\n", hip, ports[i].host_port);
      else
        printf ("%u/%s -> %s:%u\n", ports[i].container_port, ports[i].proto, hip,
                ports[i].host_port);
      shown++;
    }
  if (want && shown == 0)
    return arca_error_set (err, ENOENT, "no public port `%s` published for %s", argv[2], argv[1]),
           1;
  return 0;
}

static const char network_usage[]
    = "Usage: arca network COMMAND\n\n"
      "  create [--subnet CIDR] [--gateway IP] [--internal] [--driver bridge]\n"
      "         [-o com.docker.network.bridge.name=BRIDGE] [-o mtu=N] NAME\n"
      "  ls [-q] [--no-trunc] [--format json|TEMPLATE|'table TEMPLATE']\n"
      "  inspect [-f TEMPLATE] NAME...\n"
      "  rm NAME...\n"
      "  prune [-f]\n"
      "  connect [--alias A]... [--ip IP] [--mac-address MAC] NETWORK CONTAINER\n"
      "  disconnect [-f] NETWORK CONTAINER\n";

static int
print_json (json_t *doc, arca_error **err)
{
  cleanup_free char *text = json_dumps (doc, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "json");
  puts (text);
  return 0;
}

static int
net_create (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = {
    { "subnet", required_argument, NULL, 's' }, { "gateway", required_argument, NULL, 'g' },
    { "internal", no_argument, NULL, 'i' },     { "driver", required_argument, NULL, 'd' },
    { "opt", required_argument, NULL, 'o' },    { NULL, 0, NULL, 0 },
  };
  struct arca_network_create_options o = { 0 };
  cleanup_free char *id = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+d:o:", longs, NULL)) != -1)
    switch (c)
      {
      case 's': o.subnet = optarg; break;
      case 'g': o.gateway = optarg; break;
      case 'i': o.internal = true; break;
      case 'd': o.driver = optarg; break;
      case 'o':
        /* Docker's long names and podman's short mtu=. */
        if (strncmp (optarg, "com.docker.network.bridge.name=", 31) == 0)
          o.bridge = optarg + 31;
        else if (strncmp (optarg, "com.docker.network.driver.mtu=", 30) == 0)
          {
            if (arca_network_mtu_parse (optarg + 30, "--opt com.docker.network.driver.mtu", &o.mtu, err) < 0)
              return -1;
          }
        else if (strncmp (optarg, "mtu=", 4) == 0)
          {
            if (arca_network_mtu_parse (optarg + 4, "--opt mtu", &o.mtu, err) < 0)
              return -1;
          }
        else
          return arca_error_set (err, ENOTSUP, "--opt `%s`: only com.docker.network.bridge.name "
                                 "and mtu (com.docker.network.driver.mtu)", optarg);
        break;
      default: return arca_error_set (err, EINVAL, "network create: invalid option (see --help)");
      }
  if (optind + 1 != argc)
    return arca_error_set (err, EINVAL, "network create: exactly one NAME is required");
  if (arca_network_create (e, argv[optind], &o, &id, err) < 0)
    return -1;
  puts (id);
  return 0;
}

/* A `network ls --format TEMPLATE` row: Docker's field names. */
static json_t *
net_row (json_t *net, bool no_trunc)
{
  json_t *cfg = json_array_get (json_object_get (json_object_get (net, "IPAM"), "Config"), 0);
  const char *id = json_string_value (json_object_get (net, "Id"));
  char short_id[65];

  snprintf (short_id, sizeof short_id, "%.*s", no_trunc ? 64 : 12, id ? id : "");
  const char *subnet = json_string_value (json_object_get (cfg, "Subnet"));
  const char *gateway = json_string_value (json_object_get (cfg, "Gateway"));
  return json_pack ("{s:s?, s:s, s:s?, s:s, s:s, s:s, s:b}", "Name",
                    json_string_value (json_object_get (net, "Name")), "ID", short_id, "Driver",
                    json_string_value (json_object_get (net, "Driver")), "Scope", "local", "Subnet",
                    subnet ? subnet : "", "Gateway", gateway ? gateway : "", "Internal",
                    json_is_true (json_object_get (net, "Internal")));
}

static int
net_ls (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = { { "quiet", no_argument, NULL, 'q' },
                                         { "format", required_argument, NULL, 'F' },
                                         { "no-trunc", no_argument, NULL, 'n' },
                                         { NULL, 0, NULL, 0 } };
  _cleanup_ (json_decrefp) json_t *nets = NULL;
  const char *format = NULL;
  bool quiet = false, no_trunc = false;
  int c;

  while ((c = getopt_long (argc, argv, "+qf:", longs, NULL)) != -1)
    switch (c)
      {
      case 'q': quiet = true; break;
      case 'f':
      case 'F': format = optarg; break;
      case 'n': no_trunc = true; break;
      default: return arca_error_set (err, EINVAL, "network ls: invalid option (see --help)");
      }
  if (arca_network_list (e, &nets, err) < 0)
    return -1;
  if (format && strcmp (format, "json") == 0)
    return print_json (nets, err);
  size_t i;
  json_t *v;
  if (!quiet && format)
    {
      /* A Go template (util/template.h), "table TEMPLATE" with a header. */
      _cleanup_ (json_decrefp) json_t *rows = json_array ();
      _cleanup_ (json_decrefp) json_t *headers = json_pack (
          "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name", "NAME", "ID", "NETWORK ID", "Driver",
          "DRIVER", "Scope", "SCOPE", "Subnet", "SUBNET", "Gateway", "GATEWAY", "Internal",
          "INTERNAL");
      json_array_foreach (nets, i, v)
        json_array_append_new (rows, net_row (v, no_trunc));
      return cli_format_table (format, rows, headers, err);
    }
  if (!quiet)
    printf ("%-14s%-24s%-10s%s\n", "NETWORK ID", "NAME", "DRIVER", "SCOPE");
  json_array_foreach (nets, i, v)
    {
      const char *id = json_string_value (json_object_get (v, "Id"));
      int width = no_trunc ? 64 : 12;
      if (quiet)
        printf ("%.*s\n", width, id);
      else
        printf ("%-14.*s%-24s%-10s%s\n", width, id, json_string_value (json_object_get (v, "Name")),
                json_string_value (json_object_get (v, "Driver")), "local");
    }
  return 0;
}

static int
net_inspect (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = { { "format", required_argument, NULL, 'f' },
                                         { NULL, 0, NULL, 0 } };
  _cleanup_ (json_decrefp) json_t *all = json_array ();
  const char *format = NULL;
  int r = 0, c;

  while ((c = getopt_long (argc, argv, "+f:", longs, NULL)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      default: return arca_error_set (err, EINVAL, "network inspect: invalid option (see --help)");
      }
  argc -= optind - 1;
  argv += optind - 1;
  if (argc < 2)
    return arca_error_set (err, EINVAL, "network inspect: a NAME is required");
  for (int i = 1; i < argc; i++)
    {
      json_t *one = NULL;
      cleanup_error arca_error *local = NULL;
      if (arca_network_inspect (e, argv[i], &one, &local) < 0)
        {
          fprintf (stderr, "arca: %s\n", local->msg);
          r = -1;
          continue;
        }
      json_array_append_new (all, one);
    }
  if (format && strcmp (format, "json") != 0)
    {
      if (cli_format_each (format, all, err) < 0)
        return -1;
    }
  else
    print_json (all, err);
  return r < 0 ? arca_error_set (err, ENOENT, "network inspect: not every network was found") : 0;
}

static int
net_rm (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  int r = 0;

  if (argc < 2)
    return arca_error_set (err, EINVAL, "network rm: a NAME is required");
  for (int i = 1; i < argc; i++)
    {
      cleanup_error arca_error *local = NULL;
      if (arca_network_remove (e, argv[i], &local) < 0)
        {
          if (r == 0)
            {
              *err = move_ptr (local);
              r = -1;
            }
          else
            fprintf (stderr, "arca: %s\n", local->msg);
          continue;
        }
      puts (argv[i]);
    }
  return r;
}

static int
net_prune (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  cleanup_strv char **removed = NULL;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "-f") != 0 && strcmp (argv[i], "--force") != 0)
      return arca_error_set (err, EINVAL, "network prune: unexpected argument `%s`", argv[i]);
  if (arca_network_prune (e, &removed, err) < 0)
    return -1;
  if (removed[0])
    puts ("Deleted Networks:");
  for (size_t i = 0; removed[i]; i++)
    puts (removed[i]);
  return 0;
}

static int
net_connect (struct arca_engine *e, int argc, char **argv, bool connect, arca_error **err)
{
  static const struct option longs[] = { { "alias", required_argument, NULL, 'a' },
                                         { "ip", required_argument, NULL, 'i' },
                                         { "mac-address", required_argument, NULL, 'm' },
                                         { "force", no_argument, NULL, 'f' },
                                         { NULL, 0, NULL, 0 } };
  cleanup_strv char **aliases = NULL;
  const char *ip = NULL, *mac = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+f", longs, NULL)) != -1)
    switch (c)
      {
      case 'a':
        if (!connect || cli_strv_push (&aliases, optarg, err) < 0)
          return connect ? -1 : arca_error_set (err, EINVAL, "disconnect: no --alias");
        break;
      case 'i': ip = optarg; break;
      case 'm': mac = optarg; break;
      case 'f': break;
      default: return arca_error_set (err, EINVAL, "network %s: invalid option (see --help)", argv[0]);
      }
  if (optind + 2 != argc)
    return arca_error_set (err, EINVAL, "network %s: NETWORK CONTAINER are required", argv[0]);
  if (connect)
    return arca_network_connect (e, argv[optind], argv[optind + 1], aliases, ip, mac, err);
  return arca_network_disconnect (e, argv[optind], argv[optind + 1], err);
}

static void
print_finding (void *userdata, const char *kind, const char *what)
{
  printf ("%s: %s\n", kind, what);
}

/* `arca network reclaim [--fix]`: the crash check alone (`arca system
 * check` runs it too); not in the usage, it is for tests and repairs. */
static int
net_reclaim (struct arca_engine *e, int argc, char **argv, arca_error **err)
{
  bool fix = argc == 2 && strcmp (argv[1], "--fix") == 0;

  if (argc > 2 || (argc == 2 && !fix))
    return arca_error_set (err, EINVAL, "network reclaim: only --fix is accepted");
  int n = arca_network_reclaim (e, fix, print_finding, NULL, err);
  if (n < 0)
    return -1;
  printf ("%d found%s\n", n, fix && n ? ", removed" : "");
  return 0;
}

int
cmd_network (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  int r;

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (network_usage, argc < 2 ? stderr : stdout);
      return argc < 2 ? 125 : 0;
    }
  const char *verb = argv[1];
  argc--, argv++;
  optind = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
      return fputs (network_usage, stdout), 0;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  if (strcmp (verb, "create") == 0)
    r = net_create (e, argc, argv, err);
  else if (strcmp (verb, "ls") == 0 || strcmp (verb, "list") == 0)
    r = net_ls (e, argc, argv, err);
  else if (strcmp (verb, "inspect") == 0)
    r = net_inspect (e, argc, argv, err);
  else if (strcmp (verb, "rm") == 0 || strcmp (verb, "remove") == 0)
    r = net_rm (e, argc, argv, err);
  else if (strcmp (verb, "prune") == 0)
    r = net_prune (e, argc, argv, err);
  else if (strcmp (verb, "reclaim") == 0)
    r = net_reclaim (e, argc, argv, err);
  else if (strcmp (verb, "connect") == 0)
    r = net_connect (e, argc, argv, true, err);
  else if (strcmp (verb, "disconnect") == 0)
    r = net_connect (e, argc, argv, false, err);
  else
    r = arca_error_set (err, EINVAL, "network: unknown command `%s` (see --help)", verb);
  return r < 0 ? 1 : 0;
}
