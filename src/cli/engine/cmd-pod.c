/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca pod create|ps|inspect|start|stop|kill|rm|prune (engine/pod.h). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/network-bridge.h"
#include "engine/pod.h"
#include "net/portmap.h"
#include "util/cleanup.h"
#include "util/signals.h"

static const char pod_help[]
    = "Usage: arca pod COMMAND [options]\n\n"
      "  create [--name NAME] [-p SPEC]... [--network bridge|none|host] [--hostname NAME]\n"
      "         [-l KEY=VALUE]       create a pod and start its infra container\n"
      "  ps [-q] [--no-trunc] [--format table|json|TEMPLATE]   list pods (also `pod ls`;\n"
      "       TEMPLATE over .ID .Name .Status .NumberOfContainers .InfraID)\n"
      "  inspect POD...              print pods as JSON\n"
      "  start POD...                start every container of the pods\n"
      "  stop [-t SECONDS] POD...    stop every container of the pods\n"
      "  kill [-s SIGNAL] POD...     signal every running container of the pods\n"
      "  rm [-f] POD...              remove pods and their containers (-f: running too)\n"
      "  prune                       remove every pod without a running container\n";

static int
pod_create (struct cli *cli, int argc, char **argv, arca_error **err)
{
  enum { O_NAME = 256, O_NET, O_HOSTNAME };
  static const struct option options[] = {
    { "name", required_argument, NULL, O_NAME }, { "publish", required_argument, NULL, 'p' },
    { "network", required_argument, NULL, O_NET }, { "net", required_argument, NULL, O_NET },
    { "hostname", required_argument, NULL, O_HOSTNAME }, { "label", required_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **publish = NULL, **labels = NULL;
  cleanup_free char *init_path = NULL;
  struct arca_pod_create_request req = { 0 };
  struct arca_engine *e;
  char id[ARCA_ENGINE_ID_LEN + 1];
  int c;

  req.network = arca_bridge_supported () ? ARCA_NET_BRIDGE : ARCA_NET_NONE;
  while ((c = getopt_long (argc, argv, "+p:l:h", options, NULL)) != -1)
    switch (c)
      {
      case O_NAME: req.name = optarg; break;
      case O_HOSTNAME: req.hostname = optarg; break;
      case 'p':
        {
          struct arca_port_spec ps;
          if (arca_port_spec_parse (optarg, &ps, err) < 0 || cli_strv_push (&publish, optarg, err) < 0)
            return 125;
          break;
        }
      case 'l':
        if (cli_strv_push (&labels, optarg, err) < 0)
          return 125;
        break;
      case O_NET:
        if (strcmp (optarg, "bridge") == 0)
          req.network = ARCA_NET_BRIDGE;
        else if (strcmp (optarg, "none") == 0)
          req.network = ARCA_NET_NONE;
        else if (strcmp (optarg, "host") == 0)
          req.network = ARCA_NET_HOST;
        else
          return arca_error_set (err, ENOTSUP, "pod create: --network `%s` (bridge, none or host)",
                                 optarg), 125;
        break;
      case 'h': return fputs (pod_help, stdout), 0;
      default: return arca_error_set (err, EINVAL, "pod create: invalid option (see --help)"), 125;
      }
  if (optind != argc)
    return arca_error_set (err, EINVAL, "pod create: unexpected argument `%s`", argv[optind]), 125;
  if (publish && req.network != ARCA_NET_BRIDGE)
    return arca_error_set (err, EINVAL, "conflicting options: -p and --network %s",
                           req.network == ARCA_NET_HOST ? "host" : "none"), 125;
  if (cli_find_init (&init_path, err) < 0)
    return 125;
  req.init_path = init_path;
  req.publish = publish;
  req.labels = labels;
  if (cli_engine (cli, &e, err) < 0 || arca_pod_create (e, &req, id, err) < 0)
    return 125;
  printf ("%s\n", id);
  return 0;
}

static json_t *
pod_json (const struct arca_pod *p)
{
  json_t *containers = json_array ();

  for (size_t i = 0; i < p->n_containers; i++)
    {
      const struct arca_engine_container *c = p->containers[i];
      static const char *const states[] = { "created", "running", "paused", "exited" };
      json_array_append_new (containers,
                             json_pack ("{s:s, s:s, s:s, s:b}", "Id", c->id, "Name", c->name,
                                        "State", states[c->status], "Infra",
                                        strcmp (c->id, p->infra_id) == 0));
    }
  return json_pack ("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:O, s:o}", "Id", p->id, "Name", p->name,
                    "Created", (json_int_t) p->created, "State", arca_pod_status_name (p->status),
                    "Hostname", p->hostname, "InfraContainerId", p->infra_id, "NumContainers",
                    (json_int_t) p->n_containers, "Options", p->options, "Containers", containers);
}

static int
pod_ps (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "quiet", no_argument, NULL, 'q' }, { "no-trunc", no_argument, NULL, 'n' },
    { "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool quiet = false, no_trunc = false;
  const char *format = "table";
  struct arca_engine *e;
  struct arca_pod **pods = NULL;
  int c, w;

  while ((c = getopt_long (argc, argv, "+qf:h", options, NULL)) != -1)
    switch (c)
      {
      case 'q': quiet = true; break;
      case 'n': no_trunc = true; break;
      case 'f': format = optarg; break;
      case 'h': return fputs (pod_help, stdout), 0;
      default: return arca_error_set (err, EINVAL, "pod ps: invalid option"), 125;
      }
  w = no_trunc ? 64 : 12;
  /* Anything else than the two built-in formats is a Go template. */
  bool templated = strcmp (format, "table") != 0 && strcmp (format, "json") != 0;
  if (cli_engine (cli, &e, err) < 0 || arca_pod_list (e, &pods, err) < 0)
    return 125;
  if (templated && !quiet)
    {
      /* Podman's field names: .ID .Name .Status .NumberOfContainers .InfraID. */
      _cleanup_ (json_decrefp) json_t *rows = json_array ();
      _cleanup_ (json_decrefp) json_t *headers = json_pack (
          "{s:s, s:s, s:s, s:s, s:s}", "ID", "POD ID", "Name", "NAME", "Status", "STATUS",
          "NumberOfContainers", "# OF CONTAINERS", "InfraID", "INFRA ID");
      for (size_t i = 0; pods[i]; i++)
        json_array_append_new (rows, json_pack ("{s:s#, s:s, s:s, s:I, s:s#}", "ID", pods[i]->id,
                                                (int) strnlen (pods[i]->id, (size_t) w), "Name",
                                                pods[i]->name,
                                                "Status", arca_pod_status_name (pods[i]->status),
                                                "NumberOfContainers",
                                                (json_int_t) pods[i]->n_containers, "InfraID",
                                                pods[i]->infra_id,
                                                (int) strnlen (pods[i]->infra_id, (size_t) w)));
      arca_pods_free (pods);
      return cli_format_table (format, rows, headers, err) < 0 ? 125 : 0;
    }
  json_t *array = json_array ();
  if (!quiet && strcmp (format, "table") == 0)
    printf ("%-*s  %-24s  %-10s  %-10s  %s\n", w, "POD ID", "NAME", "STATUS", "CONTAINERS",
            "INFRA ID");
  for (size_t i = 0; pods[i]; i++)
    {
      struct arca_pod *p = pods[i];
      if (quiet)
        printf ("%.*s\n", w, p->id);
      else if (strcmp (format, "json") == 0)
        json_array_append_new (array, pod_json (p));
      else
        printf ("%-*.*s  %-24s  %-10s  %-10zu  %.*s\n", w, w, p->id, p->name,
                arca_pod_status_name (p->status), p->n_containers, w, p->infra_id);
    }
  if (!quiet && strcmp (format, "json") == 0)
    {
      cli_print_json (array);
    }
  json_decref (array);
  arca_pods_free (pods);
  return 0;
}

static int
pod_inspect (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;

  if (argc < 2)
    return arca_error_set (err, EINVAL, "pod inspect: a pod name or id is required"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  _cleanup_ (json_decrefp) json_t *array = json_array ();
  for (int i = 1; i < argc; i++)
    {
      _cleanup_ (arca_pod_freep) struct arca_pod *p = NULL;
      if (arca_pod_get (e, argv[i], &p, err) < 0)
        return 125;
      json_array_append_new (array, pod_json (p));
    }
  cli_print_json (array);
  return 0;
}

/* start, stop, kill, rm: one option at most, then pod names. */
static int
each_pod (struct cli *cli, int argc, char **argv, arca_error **err)
{
  const char *verb = argv[0];
  bool force = false;
  int timeout = -1, sig = 9, c;
  struct arca_engine *e;
  static const struct option options[] = {
    { "force", no_argument, NULL, 'f' }, { "time", required_argument, NULL, 't' },
    { "signal", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *shorts = strcmp (verb, "rm") == 0     ? "+fh"
                       : strcmp (verb, "stop") == 0 ? "+t:h"
                       : strcmp (verb, "kill") == 0 ? "+s:h"
                                                    : "+h";

  while ((c = getopt_long (argc, argv, shorts, options, NULL)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 't': timeout = atoi (optarg); break;
      case 's':
        if ((sig = arca_signal_parse (optarg)) < 0)
          return arca_error_set (err, EINVAL, "pod kill: unknown signal `%s`", optarg), 125;
        break;
      case 'h': return fputs (pod_help, stdout), 0;
      default: return arca_error_set (err, EINVAL, "pod %s: invalid option (see --help)", verb), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "pod %s: a pod name or id is required", verb), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  int status = 0;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      int r = strcmp (verb, "start") == 0  ? arca_pod_start (e, argv[i], &one)
              : strcmp (verb, "stop") == 0 ? arca_pod_stop (e, argv[i], timeout, &one)
              : strcmp (verb, "kill") == 0 ? arca_pod_kill (e, argv[i], sig, &one)
                                           : arca_pod_remove (e, argv[i], force, &one);
      if (r < 0)
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
pod_prune (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  cleanup_strv char **removed = NULL;

  if (argc > 1 && (strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0))
    return fputs (pod_help, stdout), 0;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "-f") != 0 && strcmp (argv[i], "--force") != 0)
      return arca_error_set (err, EINVAL, "pod prune: unexpected argument `%s`", argv[i]), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_pod_prune (e, &removed, err) < 0)
    return 125;
  for (size_t i = 0; removed[i]; i++)
    printf ("%s\n", removed[i]);
  return 0;
}

int
cmd_pod (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct
  {
    const char *name;
    cli_command_fn fn;
  } verbs[] = {
    { "create", pod_create }, { "ps", pod_ps },     { "ls", pod_ps },     { "list", pod_ps },
    { "inspect", pod_inspect }, { "start", each_pod }, { "stop", each_pod }, { "kill", each_pod },
    { "rm", each_pod },       { "prune", pod_prune },
  };

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (pod_help, argc < 2 ? stderr : stdout);
      return argc < 2 ? 125 : 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (verbs); i++)
    if (strcmp (argv[1], verbs[i].name) == 0)
      {
        optind = 0;
        return verbs[i].fn (cli, argc - 1, argv + 1, err);
      }
  return arca_error_set (err, EINVAL, "pod: unknown command `%s` (see arca pod --help)", argv[1]),
         125;
}
