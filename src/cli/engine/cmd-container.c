/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container commands: run, create, start, stop, kill, rm, ps, logs, wait,
 * inspect, exec, and the monitor's cleanup. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine/attach.h"
#include "engine/inspect.h"
#include "engine/logfile.h"
#include "engine/system.h"
#include "engine/volumes.h"
#include "engine/network-bridge.h"
#include "engine/pod.h"
#include "net/portmap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/signals.h"
#include "engine/vm.h"

/* getopt value of `run --vm` (outside parse_create's enum). */
#define CREATE_OPT_VM 1024

static const char create_help[] =
    "Usage: arca run|create [options] IMAGE [COMMAND [ARG...]]\n\n"
    "  -d, --detach              run in the background, print the id (run)\n"
    "      --rm                  remove the container when it exits\n"
    "      --vm                  run the image in its own guest kernel under arca-vmm\n"
    "                            (run only; -e -w -u --hostname --entrypoint -m --cpus;\n"
    "                            with -d a record for ps, logs, stop, kill, wait, rm)\n"
    "      --name NAME           the container's name\n"
    "  -e, --env KEY=VALUE       set an environment variable\n"
    "      --env-file FILE       read KEY=VALUE lines\n"
    "  -v, --volume SRC:DST[:ro] bind-mount a host path (SRC absolute), mount the named\n"
    "                            volume SRC (created when missing), or with DST alone a\n"
    "                            new anonymous volume\n"
    "      --tmpfs DST[:OPTS]    mount a tmpfs\n"
    "  -w, --workdir DIR         working directory\n"
    "  -u, --user USER[:GROUP]   user (name or id, looked up in the image)\n"
    "      --hostname NAME       hostname\n"
    "      --entrypoint CMD      override the image's entrypoint\n"
    "  -m, --memory SIZE         memory limit (k, m, g)\n"
    "      --memory-swap SIZE    memory + swap limit (-1 unlimited)\n"
    "      --cpus N              cpu quota in cpus (1.5)\n"
    "      --cpu-shares N        relative cpu weight\n"
    "      --cpuset-cpus LIST    cpus to run on\n"
    "      --pids-limit N        process limit\n"
    "      --read-only           read-only root file system\n"
    "      --cap-add CAP, --cap-drop CAP\n"
    "      --security-opt seccomp=FILE|unconfined, no-new-privileges\n"
    "      --privileged          all capabilities, no seccomp, no masked paths\n"
    "      --restart no|on-failure[:N]|always\n"
    "      --stop-signal SIG, --stop-timeout SECONDS\n"
    "  -l, --label KEY=VALUE     a label (kept as an annotation)\n"
    "      --network bridge|none|host  network mode (default bridge when root)\n"
    "      --network NAME        a user network (arca network create)\n"
    "      --network-alias A     another name on the user network\n"
    "      --mac-address MAC     the container's MAC address (bridge, user network)\n"
    "      --network container:NAME    share NAME's network namespace\n"
    "      --ipc container:NAME, --pid container:NAME  share NAME's IPC or PID namespace\n"
    "      --pod POD             join the pod's network, IPC and UTS namespaces\n"
    "  -p, --publish [IP:][HOST_PORT:]PORT[/tcp|udp]  publish a port (bridge)\n"
    "  -P, --publish-all         publish every exposed port on a free host port\n"
    "      --ip ADDR             the container's address on the bridge\n"
    "      --dns ADDR            a nameserver for /etc/resolv.conf\n"
    "      --add-host NAME:IP    a line for /etc/hosts\n";

struct create_args {
  struct arca_create_request req;
  bool detach, interactive, vm;
  char **env, **cap_add, **cap_drop, **labels, **command, **entrypoint;
  char **publish, **dns, **add_hosts, **network_aliases;
  struct arca_run_mount *mounts;
  size_t n_mounts;
  char *seccomp_text;
  char *init_path;
};

static void
create_args_free (struct create_args *a)
{
  arca_strv_free (a->env);
  arca_strv_free (a->cap_add);
  arca_strv_free (a->cap_drop);
  arca_strv_free (a->labels);
  arca_strv_free (a->command);
  arca_strv_free (a->entrypoint);
  arca_strv_free (a->publish);
  arca_strv_free (a->dns);
  arca_strv_free (a->add_hosts);
  arca_strv_free (a->network_aliases);
  for (size_t i = 0; i < a->n_mounts; i++)
    {
      free (a->mounts[i].source);
      free (a->mounts[i].destination);
      free (a->mounts[i].options);
    }
  free (a->mounts);
  free (a->seccomp_text);
  free (a->init_path);
}

/* arca-init for --init: $ARCA_INIT_PATH, beside us (installed in libexec or
 * in the build tree), or the usual libexec directories. */
int
cli_find_init (char **ret, arca_error **err)
{
  const char *env = getenv ("ARCA_INIT_PATH");
  cleanup_free char *self = realpath ("/proc/self/exe", NULL);
  char candidates[4][4096];
  size_t n = 0;

  if (env && *env)
    snprintf (candidates[n++], sizeof candidates[0], "%s", env);
  if (self)
    {
      char *slash = strrchr (self, '/');
      if (slash)
        *slash = '\0';
      snprintf (candidates[n++], sizeof candidates[0], "%s/../init/arca-init", self);
      snprintf (candidates[n++], sizeof candidates[0], "%s/../libexec/arca/arca-init", self);
    }
  snprintf (candidates[n++], sizeof candidates[0], "/usr/libexec/arca/arca-init");
  for (size_t i = 0; i < n; i++)
    if (access (candidates[i], X_OK) == 0)
      {
        *ret = realpath (candidates[i], NULL);
        return *ret ? 0 : arca_error_errno (err, "--init: `%s`", candidates[i]);
      }
  return arca_error_set (err, ENOENT, "--init: arca-init not found (set ARCA_INIT_PATH)");
}

static int
parse_size (const char *flag, const char *text, int64_t *ret, arca_error **err)
{
  char *end;
  if (strcmp (text, "-1") == 0)
    return *ret = -1, 0;
  errno = 0;
  double v = strtod (text, &end);
  int64_t mult = 1;
  switch (*end)
    {
    case 'b': case 'B': mult = 1; end++; break;
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

static int
add_mount (struct create_args *a, const char *source, const char *dest, const char *options,
           bool tmpfs, arca_error **err)
{
  struct arca_run_mount *grown = realloc (a->mounts, (a->n_mounts + 1) * sizeof *grown);
  if (grown == NULL)
    return arca_error_set (err, ENOMEM, "mounts");
  a->mounts = grown;
  grown[a->n_mounts] = (struct arca_run_mount){
    .source = source ? strdup (source) : NULL,
    .destination = strdup (dest),
    .options = options ? strdup (options) : NULL,
    .tmpfs = tmpfs,
  };
  a->n_mounts++;
  return 0;
}

static int
parse_volume (struct create_args *a, const char *text, arca_error **err)
{
  cleanup_free char *copy = strdup (text);
  if (copy == NULL)
    return arca_error_set (err, ENOMEM, "--volume");
  char *src = copy, *dst = strchr (copy, ':');
  if (dst == NULL)
    return add_mount (a, NULL, copy, NULL, false, err); /* an anonymous volume */
  *dst++ = '\0';
  char *opt = strchr (dst, ':');
  if (opt)
    *opt++ = '\0';
  if (opt && strcmp (opt, "ro") != 0 && strcmp (opt, "rw") != 0)
    return arca_error_set (err, EINVAL, "--volume `%s`: option `%s` (ro or rw)", text, opt);
  /* SRC not absolute: a named volume (engine/volumes.h). */
  return add_mount (a, src, dst, opt, false, err);
}

static int
parse_env_file (struct create_args *a, const char *path, arca_error **err)
{
  cleanup_free char *text = NULL;
  if (arca_read_file_at (AT_FDCWD, path, 1 << 20, &text, NULL, err) < 0)
    return arca_error_wrap (err, "--env-file");
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      if (strchr (line, '=') == NULL)
        {
          /* Docker: a bare name takes the value from our environment. */
          const char *v = getenv (line);
          if (v == NULL)
            continue;
          cleanup_free char *kv = NULL;
          if (asprintf (&kv, "%s=%s", line, v) < 0 || cli_strv_push (&a->env, kv, err) < 0)
            return -1;
          continue;
        }
      if (cli_strv_push (&a->env, line, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_create (int argc, char **argv, bool is_run, struct create_args *a, arca_error **err)
{
  enum { O_RM = 256, O_NAME, O_ENVFILE, O_TMPFS, O_HOSTNAME, O_ENTRY, O_SWAP, O_CPUS, O_SHARES,
         O_CPUSET, O_PIDS, O_RO, O_CAPADD, O_CAPDROP, O_SECOPT, O_PRIV, O_INIT, O_RESTART,
         O_STOPSIG, O_STOPTIME, O_NET, O_IP, O_DNS, O_ADDHOST, O_POD, O_IPC, O_PID,
         O_NETALIAS, O_MAC };
  static const struct option options[] = {
    { "detach", no_argument, NULL, 'd' }, { "rm", no_argument, NULL, O_RM },
    { "vm", no_argument, NULL, CREATE_OPT_VM },
    { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
    { "name", required_argument, NULL, O_NAME }, { "env", required_argument, NULL, 'e' },
    { "env-file", required_argument, NULL, O_ENVFILE },
    { "volume", required_argument, NULL, 'v' }, { "tmpfs", required_argument, NULL, O_TMPFS },
    { "workdir", required_argument, NULL, 'w' }, { "user", required_argument, NULL, 'u' },
    { "hostname", required_argument, NULL, O_HOSTNAME },
    { "entrypoint", required_argument, NULL, O_ENTRY },
    { "memory", required_argument, NULL, 'm' }, { "memory-swap", required_argument, NULL, O_SWAP },
    { "cpus", required_argument, NULL, O_CPUS }, { "cpu-shares", required_argument, NULL, O_SHARES },
    { "cpuset-cpus", required_argument, NULL, O_CPUSET },
    { "pids-limit", required_argument, NULL, O_PIDS }, { "read-only", no_argument, NULL, O_RO },
    { "cap-add", required_argument, NULL, O_CAPADD }, { "cap-drop", required_argument, NULL, O_CAPDROP },
    { "security-opt", required_argument, NULL, O_SECOPT },
    { "privileged", no_argument, NULL, O_PRIV }, { "init", no_argument, NULL, O_INIT },
    { "restart", required_argument, NULL, O_RESTART },
    { "stop-signal", required_argument, NULL, O_STOPSIG },
    { "stop-timeout", required_argument, NULL, O_STOPTIME },
    { "label", required_argument, NULL, 'l' }, { "network", required_argument, NULL, O_NET },
    { "net", required_argument, NULL, O_NET }, { "help", no_argument, NULL, 'h' },
    { "publish", required_argument, NULL, 'p' }, { "publish-all", no_argument, NULL, 'P' },
    { "ip", required_argument, NULL, O_IP }, { "dns", required_argument, NULL, O_DNS },
    { "add-host", required_argument, NULL, O_ADDHOST },
    { "pod", required_argument, NULL, O_POD }, { "ipc", required_argument, NULL, O_IPC },
    { "pid", required_argument, NULL, O_PID },
    { "network-alias", required_argument, NULL, O_NETALIAS },
    { "mac-address", required_argument, NULL, O_MAC },
    { NULL, 0, NULL, 0 },
  };
  struct arca_run_spec *s = &a->req.spec;
  bool net_set = false;
  int c;

  a->req.stop_timeout = -1;
  s->network = arca_bridge_supported () ? ARCA_NET_BRIDGE : ARCA_NET_NONE;
  while ((c = getopt_long (argc, argv, "+dite:v:w:u:m:l:hp:P", options, NULL)) != -1)
    switch (c)
      {
      case 'd':
        if (!is_run)
          return arca_error_set (err, EINVAL, "create: --detach is for run");
        a->detach = true;
        break;
      case O_RM: a->req.remove = true; break;
      case CREATE_OPT_VM:
        if (!is_run)
          return arca_error_set (err, EINVAL, "create: --vm is for run");
        a->vm = true;
        break;
      case 'i': a->interactive = true; break;
      case 't': s->tty = true; break;
      case O_NAME: a->req.name = optarg; break;
      case 'e':
        if (strchr (optarg, '=') == NULL)
          {
            const char *v = getenv (optarg);
            cleanup_free char *kv = NULL;
            if (v && (asprintf (&kv, "%s=%s", optarg, v) < 0 || cli_strv_push (&a->env, kv, err) < 0))
              return -1;
            break;
          }
        if (cli_strv_push (&a->env, optarg, err) < 0)
          return -1;
        break;
      case O_ENVFILE:
        if (parse_env_file (a, optarg, err) < 0)
          return -1;
        break;
      case 'v':
        if (parse_volume (a, optarg, err) < 0)
          return -1;
        break;
      case O_TMPFS:
        {
          cleanup_free char *copy = strdup (optarg);
          char *opts = copy ? strchr (copy, ':') : NULL;
          if (opts)
            *opts++ = '\0';
          if (copy == NULL || add_mount (a, NULL, copy, opts, true, err) < 0)
            return copy ? -1 : arca_error_set (err, ENOMEM, "--tmpfs");
          break;
        }
      case 'w': s->workdir = optarg; break;
      case 'u': s->user = optarg; break;
      case O_HOSTNAME: s->hostname = optarg; break;
      case O_ENTRY:
        arca_strv_free (a->entrypoint);
        a->entrypoint = NULL;
        if (*optarg && cli_strv_push (&a->entrypoint, optarg, err) < 0)
          return -1;
        s->set_entrypoint = true;
        break;
      case 'm':
        if (parse_size ("--memory", optarg, &s->memory, err) < 0)
          return -1;
        break;
      case O_SWAP:
        if (parse_size ("--memory-swap", optarg, &s->memory_swap, err) < 0)
          return -1;
        break;
      case O_CPUS:
        {
          char *end;
          s->cpus = strtod (optarg, &end);
          if (*end || s->cpus <= 0 || s->cpus > 1024)
            return arca_error_set (err, EINVAL, "--cpus: `%s` is not a number of cpus", optarg);
          break;
        }
      case O_SHARES:
        s->cpu_shares = strtoull (optarg, NULL, 10);
        if (s->cpu_shares == 0)
          return arca_error_set (err, EINVAL, "--cpu-shares: `%s`", optarg);
        break;
      case O_CPUSET: s->cpuset_cpus = optarg; break;
      case O_PIDS:
        {
          char *end;
          s->pids_limit = strtoll (optarg, &end, 10);
          if (*end || end == optarg)
            return arca_error_set (err, EINVAL, "--pids-limit: `%s` is not a number", optarg);
          break;
        }
      case O_RO: s->read_only = true; break;
      case O_CAPADD:
        if (cli_strv_push (&a->cap_add, optarg, err) < 0)
          return -1;
        break;
      case O_CAPDROP:
        if (cli_strv_push (&a->cap_drop, optarg, err) < 0)
          return -1;
        break;
      case O_SECOPT:
        if (strcmp (optarg, "no-new-privileges") == 0 || strcmp (optarg, "no-new-privileges:true") == 0
            || strcmp (optarg, "no-new-privileges=true") == 0)
          s->no_new_privileges = true;
        else if (strcmp (optarg, "seccomp=unconfined") == 0 || strcmp (optarg, "seccomp:unconfined") == 0)
          s->seccomp_unconfined = true;
        else if (strncmp (optarg, "seccomp=", 8) == 0 || strncmp (optarg, "seccomp:", 8) == 0)
          {
            free (a->seccomp_text);
            a->seccomp_text = NULL;
            if (arca_read_file_at (AT_FDCWD, optarg + 8, 4 << 20, &a->seccomp_text, NULL, err) < 0)
              return arca_error_wrap (err, "--security-opt seccomp");
            s->seccomp_json = a->seccomp_text;
          }
        else
          return arca_error_set (err, ENOTSUP, "--security-opt `%s` is not supported", optarg);
        break;
      case O_PRIV: s->privileged = true; break;
      case O_INIT:
        if (cli_find_init (&a->init_path, err) < 0)
          return -1;
        s->init_path = a->init_path;
        break;
      case O_RESTART:
        if (strcmp (optarg, "no") == 0)
          a->req.restart = ARCA_RESTART_NO;
        else if (strcmp (optarg, "always") == 0 || strcmp (optarg, "unless-stopped") == 0)
          a->req.restart = ARCA_RESTART_ALWAYS;
        else if (strncmp (optarg, "on-failure", 10) == 0
                 && (optarg[10] == '\0' || optarg[10] == ':'))
          {
            a->req.restart = ARCA_RESTART_ON_FAILURE;
            if (optarg[10] == ':')
              a->req.max_restarts = (unsigned) strtoul (optarg + 11, NULL, 10);
          }
        else
          return arca_error_set (err, EINVAL, "--restart: `%s` (no, on-failure[:N], always)", optarg);
        break;
      case O_STOPSIG:
        if (arca_signal_parse (optarg) < 0)
          return arca_error_set (err, EINVAL, "--stop-signal: unknown signal `%s`", optarg);
        a->req.stop_signal = optarg;
        break;
      case O_STOPTIME: a->req.stop_timeout = atoi (optarg); break;
      case 'l':
        if (cli_strv_push (&a->labels, optarg, err) < 0)
          return -1;
        break;
      case O_NET:
        net_set = true;
        if (strcmp (optarg, "none") == 0)
          s->network = ARCA_NET_NONE;
        else if (strcmp (optarg, "host") == 0)
          s->network = ARCA_NET_HOST;
        else if (strcmp (optarg, "bridge") == 0)
          {
            s->network = ARCA_NET_BRIDGE;
            s->network_name = NULL;
          }
        else if (strncmp (optarg, "container:", 10) == 0 && optarg[10])
          {
            s->network = ARCA_NET_CONTAINER;
            a->req.network_container = optarg + 10;
          }
        else if (strchr (optarg, ':') == NULL && strchr (optarg, '/') == NULL && *optarg)
          {
            /* A user network: the engine checks that it exists. */
            s->network = ARCA_NET_BRIDGE;
            s->network_name = optarg;
          }
        else
          return arca_error_set (err, ENOTSUP, "--network `%s`: not a network mode or name", optarg);
        break;
      case O_NETALIAS:
        if (cli_strv_push (&a->network_aliases, optarg, err) < 0)
          return -1;
        break;
      case O_MAC:
        {
          unsigned char mac[6];
          if (arca_bridge_mac ((struct in_addr){ 0 }, optarg, mac, err) < 0)
            return -1;
          s->mac_address = optarg;
          break;
        }
      case 'p':
        {
          /* Checked here so a typo fails at create, not at start. */
          struct arca_port_spec ps;
          if (arca_port_spec_parse (optarg, &ps, err) < 0
              || cli_strv_push (&a->publish, optarg, err) < 0)
            return -1;
          break;
        }
      case 'P': s->publish_all = true; break;
      case O_IP:
        {
          struct in_addr ip;
          if (inet_pton (AF_INET, optarg, &ip) != 1)
            return arca_error_set (err, EINVAL, "--ip `%s`: not an IPv4 address", optarg);
          s->ip = optarg;
          break;
        }
      case O_DNS:
        if (cli_strv_push (&a->dns, optarg, err) < 0)
          return -1;
        break;
      case O_ADDHOST:
        if (strchr (optarg, ':') == NULL)
          return arca_error_set (err, EINVAL, "--add-host `%s`: expected NAME:IP", optarg);
        if (cli_strv_push (&a->add_hosts, optarg, err) < 0)
          return -1;
        break;
      case O_POD: a->req.pod = optarg; break;
      case O_IPC:
      case O_PID:
        if (strncmp (optarg, "container:", 10) != 0 || optarg[10] == '\0')
          return arca_error_set (err, ENOTSUP, "--%s `%s`: only container:NAME is supported",
                                 c == O_IPC ? "ipc" : "pid", optarg);
        *(c == O_IPC ? &a->req.ipc_container : &a->req.pid_container) = optarg + 10;
        break;
      case 'h': return 1;
      default: return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]);
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "%s: an image is required (see --help)", argv[0]);
  a->req.image = argv[optind];
  for (int i = optind + 1; i < argc; i++)
    if (cli_strv_push (&a->command, argv[i], err) < 0)
      return -1;
  a->req.interactive = a->interactive;
  if ((a->interactive || s->tty) && a->req.restart != ARCA_RESTART_NO)
    return arca_error_set (err, EINVAL, "--restart cannot be combined with -i/-t");
  if (a->req.restart != ARCA_RESTART_NO && a->req.remove)
    return arca_error_set (err, EINVAL, "--restart and --rm cannot be combined");
  s->env = a->env;
  s->cap_add = a->cap_add;
  s->cap_drop = a->cap_drop;
  s->command = a->command;
  s->entrypoint = a->entrypoint;
  s->mounts = a->mounts;
  s->n_mounts = a->n_mounts;
  s->publish = a->publish;
  s->dns = a->dns;
  s->add_hosts = a->add_hosts;
  if (a->req.pod && net_set)
    return arca_error_set (err, EINVAL, "conflicting options: --network and --pod (the pod "
                                        "decides the network)");
  if (s->network == ARCA_NET_CONTAINER || a->req.pod)
    {
      /* Docker's wording; the engine checks the rest (engine/pod.h). */
      const char *mode = a->req.pod ? "--pod" : "--network container:";
      if (a->publish || s->publish_all)
        return arca_error_set (err, EINVAL, "conflicting options: port publishing (-p, -P) and %s", mode);
      if (s->ip || a->dns || a->add_hosts || s->hostname || s->mac_address)
        return arca_error_set (err, EINVAL, "conflicting options: %s and %s",
                               s->ip ? "--ip" : a->dns ? "--dns" : a->add_hosts ? "--add-host"
                               : s->mac_address ? "--mac-address" : "--hostname",
                               mode);
      if (a->req.pod)
        s->network = ARCA_NET_CONTAINER;
    }
  if ((a->publish || s->publish_all || s->ip || a->dns || s->mac_address)
      && s->network != ARCA_NET_BRIDGE)
    return arca_error_set (err, EINVAL,
                           "-p, -P, --ip, --dns and --mac-address need a bridge or user network");
  s->network_aliases = a->network_aliases;
  if (a->network_aliases && s->network_name == NULL)
    return arca_error_set (err, EINVAL, "--network-alias needs --network NAME (a user network)");
  a->req.labels = a->labels;
  return 0;
}

int
cmd_create (struct cli *cli, int argc, char **argv, arca_error **err)
{
  _cleanup_ (create_args_free) struct create_args a = { 0 };
  struct arca_engine *e;
  char id[ARCA_ENGINE_ID_LEN + 1];
  int r = parse_create (argc, argv, false, &a, err);

  if (r)
    return r < 0 ? 125 : (fputs (create_help, stdout), 0);
  if (cli_engine (cli, &e, err) < 0 || arca_engine_create (e, &a.req, id, err) < 0)
    return 125;
  printf ("%s\n", id);
  return 0;
}

/* `run --vm`: in the foreground, output relayed, the command's status;
 * with -d a record (ps, logs, stop, rm) and its id. */
static int
run_vm (struct cli *cli, struct create_args *a, arca_error **err)
{
  char id[ARCA_ENGINE_ID_LEN + 1];
  struct arca_vm_run_request vr = { .image = a->req.image, .spec = &a->req.spec,
                                    .remove = a->req.remove, .interactive = a->interactive,
                                    .in_fd = STDIN_FILENO, .detach = a->detach,
                                    .name = a->req.name, .stop_signal = a->req.stop_signal,
                                    .stop_timeout = a->req.stop_timeout, .ret_id = id };
  struct arca_engine *e;
  int code = 0;

  if (cli_engine (cli, &e, err) < 0 || arca_engine_run_vm (e, &vr, 1, 2, &code, err) < 0)
    return 125;
  if (a->detach)
    printf ("%s\n", id);
  return code;
}

int
cmd_run (struct cli *cli, int argc, char **argv, arca_error **err)
{
  _cleanup_ (create_args_free) struct create_args a = { 0 };
  struct arca_engine *e;
  char id[ARCA_ENGINE_ID_LEN + 1];
  int r = parse_create (argc, argv, true, &a, err);

  if (r)
    return r < 0 ? 125 : (fputs (create_help, stdout), 0);
  if (a.vm)
    return run_vm (cli, &a, err);
  /* In the foreground we need the exit code before the container is gone:
   * we remove it ourselves instead of its monitor. */
  bool attach = (a.interactive || a.req.spec.tty) && !a.detach;
  /* Joining another container's pid namespace needs a sealed copy of the
   * runtime (linux/selfexec.h), which only this process has, not the
   * monitor: such a foreground run is proxied here. */
  bool in_process = attach && a.req.pid_container != NULL;
  bool remove_here = a.req.remove && !a.detach && (!attach || in_process);
  if (remove_here)
    a.req.remove = false;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_create (e, &a.req, id, err) < 0)
    return 125;
  if (in_process)
    {
      int code = 0;
      int status = arca_engine_run_attached (e, id, &code, err);
      if (remove_here)
        {
          cleanup_error arca_error *ignored = NULL;
          if (arca_engine_remove (e, id, true, &ignored) == 0)
            arca_volume_release (e, id, true, &ignored);
        }
      return status < 0 ? 125 : code;
    }
  if (attach)
    {
      /* Through the monitor like `arca attach`: it starts the program once
       * we are connected; ctrl-p ctrl-q leaves it running. */
      unsigned char keys[ARCA_DETACH_KEYS_MAX];
      struct arca_attach_options ao;
      int code = 0;
      bool detached = false;
      if (cli_attach_options (NULL, a.interactive, keys, &ao, err) < 0)
        return 125;
      ao.send_ready = true;
      if (arca_engine_start_attach (e, id, &ao, &code, &detached, err) < 0)
        {
          cleanup_error arca_error *ignored = NULL;
          if (a.req.remove && arca_engine_remove (e, id, true, &ignored) == 0)
            arca_volume_release (e, id, true, &ignored);
          return 125;
        }
      return detached ? 0 : code;
    }
  if (arca_engine_start (e, id, NULL, err) < 0)
    {
      cleanup_error arca_error *ignored = NULL;
      if (a.req.remove || remove_here)
        if (arca_engine_remove (e, id, true, &ignored) == 0)
          arca_volume_release (e, id, true, &ignored);
      return 125;
    }
  if (a.detach)
    {
      printf ("%s\n", id);
      return 0;
    }
  struct arca_logs_options lo = { .follow = true };
  int code = 0;
  if (arca_engine_logs (e, id, &lo, 1, 2, err) < 0 || arca_engine_wait (e, id, &code, err) < 0)
    return 125;
  if (remove_here)
    {
      cleanup_error arca_error *rm_err = NULL;
      if (arca_engine_remove (e, id, true, &rm_err) < 0
          || arca_volume_release (e, id, true, &rm_err) < 0)
        arca_log_error (&cli->log, rm_err);
    }
  return code;
}

/* For commands taking one or more container names. */
static int
each_container (struct cli *cli, int argc, char **argv, const char *short_opts,
                const struct option *extra, const char *help,
                int (*fn) (struct arca_engine *, const char *, int opt, const char *optval,
                           arca_error **),
                arca_error **err)
{
  struct option options[8];
  size_t n = 0;
  int opt = 0, c;
  const char *optval = NULL;
  struct arca_engine *e;

  for (; extra && extra[n].name; n++)
    options[n] = extra[n];
  options[n++] = (struct option){ "help", no_argument, NULL, 'h' };
  options[n] = (struct option){ NULL, 0, NULL, 0 };
  while ((c = getopt_long (argc, argv, short_opts, options, NULL)) != -1)
    {
      if (c == 'h')
        return fputs (help, stdout), 0;
      if (c == '?')
        return arca_error_set (err, EINVAL, "%s: invalid option (see --help)", argv[0]), 125;
      opt = c;
      optval = optarg;
    }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "%s: a container name or id is required", argv[0]), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  int status = 0;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      if (fn (e, argv[i], opt, optval, &one) < 0)
        {
          arca_log_error (&cli->log, one);
          status = 1;
        }
    }
  return status;
}

static int
do_stop (struct arca_engine *e, const char *name, int opt, const char *v, arca_error **err)
{
  if (arca_engine_stop (e, name, opt == 't' ? atoi (v) : -1, err) < 0)
    return -1;
  printf ("%s\n", name);
  return 0;
}

int
cmd_stop (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option extra[] = { { "time", required_argument, NULL, 't' },
                                         { NULL, 0, NULL, 0 } };
  return each_container (cli, argc, argv, "+t:h", extra,
                         "Usage: arca stop [-t SECONDS] CONTAINER...\n", do_stop, err);
}

static int
do_kill (struct arca_engine *e, const char *name, int opt, const char *v, arca_error **err)
{
  int sig = v ? arca_signal_parse (v) : 9;
  if (sig < 0)
    return arca_error_set (err, EINVAL, "--signal: unknown signal `%s`", v);
  if (arca_engine_kill (e, name, sig, err) < 0)
    return -1;
  printf ("%s\n", name);
  return 0;
}

int
cmd_kill (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option extra[] = { { "signal", required_argument, NULL, 's' },
                                         { NULL, 0, NULL, 0 } };
  return each_container (cli, argc, argv, "+s:h", extra,
                         "Usage: arca kill [-s SIGNAL] CONTAINER...\n", do_kill, err);
}

int
cmd_rm (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = { { "force", no_argument, NULL, 'f' },
                                         { "volumes", no_argument, NULL, 'v' },
                                         { "help", no_argument, NULL, 'h' },
                                         { NULL, 0, NULL, 0 } };
  bool force = false, volumes = false;
  struct arca_engine *e;
  int c, status = 0;

  while ((c = getopt_long (argc, argv, "+fvh", longs, NULL)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 'v': volumes = true; break;
      case 'h':
        return fputs ("Usage: arca rm [-f] [-v] CONTAINER...\n"
                      "  -v  remove the container's anonymous volumes too\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "rm: invalid option (see --help)"), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "rm: a container name or id is required"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  for (int i = optind; i < argc; i++)
    {
      cleanup_error arca_error *one = NULL;
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *ctr = NULL;
      if (arca_engine_get (e, argv[i], &ctr, &one) < 0
          || arca_engine_remove (e, ctr->id, force, &one) < 0
          || arca_volume_release (e, ctr->id, volumes, &one) < 0)
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
do_wait (struct arca_engine *e, const char *name, int opt, const char *v, arca_error **err)
{
  int code = 0;
  if (arca_engine_wait (e, name, &code, err) < 0)
    return -1;
  printf ("%d\n", code);
  return 0;
}

int
cmd_wait (struct cli *cli, int argc, char **argv, arca_error **err)
{
  return each_container (cli, argc, argv, "+h", NULL, "Usage: arca wait CONTAINER...\n",
                         do_wait, err);
}

static const char *
status_text (const struct arca_engine_container *c, char *buf, size_t size)
{
  switch (c->status)
    {
    case ARCA_ENGINE_CREATED: return "Created";
    case ARCA_ENGINE_RUNNING: return "Up";
    case ARCA_ENGINE_PAUSED: return "Up (Paused)";
    case ARCA_ENGINE_EXITED:
      snprintf (buf, size, "Exited (%d)", c->exit_code);
      return buf;
    }
  return "Unknown";
}

/* One `ps --format TEMPLATE` row: Docker's field names. */
static json_t *
ps_row (struct arca_engine *e, const struct arca_engine_container *ct, bool no_trunc,
        const char *pod_name, bool want_ports)
{
  char buf[32], id[ARCA_ENGINE_ID_LEN + 1], created[48] = "";
  struct tm tm;
  time_t t = (time_t) ct->created;
  cleanup_free char *ports_text = NULL;

  snprintf (id, sizeof id, "%.*s", no_trunc ? ARCA_ENGINE_ID_LEN : 12, ct->id);
  if (gmtime_r (&t, &tm))
    strftime (created, sizeof created, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  if (want_ports && (ct->status == ARCA_ENGINE_RUNNING || ct->status == ARCA_ENGINE_PAUSED))
    {
      /* "0.0.0.0:8080->80/tcp, ...", as Docker's PORTS column. */
      cleanup_free struct arca_nft_port *ports = NULL;
      cleanup_error arca_error *ignored = NULL;
      size_t n = 0, len = 0;
      if (arca_engine_ports (e, ct->id, &ports, &n, &ignored) == 0 && n > 0)
        {
          ports_text = calloc (n, 48);
          for (size_t i = 0; ports_text && i < n; i++)
            {
              char hip[INET_ADDRSTRLEN];
              inet_ntop (AF_INET, &ports[i].host_ip, hip, sizeof hip);
              len += (size_t) snprintf (ports_text + len, n * 48 - len, "%s%s:%u->%u/%s",
                                        i ? ", " : "", hip, ports[i].host_port,
                                        ports[i].container_port, ports[i].proto);
            }
        }
    }
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Names",
                    ct->name, "Image", ct->image, "Command", ct->command, "Status",
                    status_text (ct, buf, sizeof buf), "State", arca_engine_state_name (ct->status),
                    "CreatedAt", created, "Ports", ports_text ? ports_text : "", "Pod",
                    ct->pod ? ct->pod : "", "PodName", pod_name);
}

int
cmd_ps (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "all", no_argument, NULL, 'a' }, { "quiet", no_argument, NULL, 'q' },
    { "format", required_argument, NULL, 'f' }, { "no-trunc", no_argument, NULL, 'n' },
    { "pod", no_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  bool all = false, quiet = false, no_trunc = false, show_pod = false;
  const char *format = "table";
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+aqf:h", options, NULL)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'q': quiet = true; break;
      case 'f': format = optarg; break;
      case 'n': no_trunc = true; break;
      case 'p': show_pod = true; break;
      case 'h':
        return fputs ("Usage: arca ps [-a] [-q] [--format table|json|TEMPLATE|'table TEMPLATE'] [--no-trunc] [--pod]\n"
                      "  TEMPLATE: a Go template over .ID .Names .Image .Command .Status .State\n"
                      "  .CreatedAt .Ports .Pod .PodName, e.g. '{{.Names}}: {{.Status}}'\n",
                      stdout), 0;
      default: return arca_error_set (err, EINVAL, "ps: invalid option"), 125;
      }
  /* Anything else than the two built-in formats is a Go template. */
  bool templated = strcmp (format, "table") != 0 && strcmp (format, "json") != 0;
  bool want_ports = templated && strstr (format, "Ports") != NULL;
  struct arca_engine_container **list = NULL;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_list (e, &list, err) < 0)
    return 125;
  json_t *array = json_array ();
  struct arca_pod **pods = NULL;
  for (size_t i = 0; list[i] && pods == NULL; i++)
    if (list[i]->pod && arca_pod_list (e, &pods, err) < 0)
      {
        arca_engine_containers_free (list);
        json_decref (array);
        return 125;
      }
  json_t *rows = json_array ();
  if (!quiet && strcmp (format, "table") == 0)
    printf ("%-12s  %-24s  %-24s  %-14s  %s%s\n", "CONTAINER ID", "IMAGE", "COMMAND", "STATUS",
            show_pod ? "NAMES                     " : "NAMES", show_pod ? "POD" : "");
  for (size_t i = 0; list[i]; i++)
    {
      struct arca_engine_container *ct = list[i];
      char buf[32];
      if (!all && ct->status != ARCA_ENGINE_RUNNING && ct->status != ARCA_ENGINE_PAUSED)
        continue;
      const char *pod_name = "";
      for (size_t k = 0; ct->pod && pods && pods[k]; k++)
        if (strcmp (pods[k]->id, ct->pod) == 0)
          pod_name = pods[k]->name;
      if (quiet)
        printf ("%.*s\n", no_trunc ? 64 : 12, ct->id);
      else if (templated)
        json_array_append_new (rows, ps_row (e, ct, no_trunc, pod_name, want_ports));
      else if (strcmp (format, "json") == 0)
        json_array_append_new (array, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:I, s:s, s:s}", "Id", ct->id,
                                                 "Names", ct->name, "Image", ct->image, "Command",
                                                 ct->command, "Status", status_text (ct, buf, sizeof buf),
                                                 "Created", (json_int_t) ct->created, "ExitCode",
                                                 ct->exit_code, "Pid", (json_int_t) ct->pid,
                                                 "Pod", ct->pod ? ct->pod : "", "PodName", pod_name));
      else if (show_pod)
        printf ("%-12.*s  %-24.24s  %-24.24s  %-14s  %-24s  %s\n", no_trunc ? 64 : 12, ct->id,
                ct->image, ct->command, status_text (ct, buf, sizeof buf), ct->name, pod_name);
      else
        printf ("%-12.*s  %-24.24s  %-24.24s  %-14s  %s\n", no_trunc ? 64 : 12, ct->id, ct->image,
                ct->command, status_text (ct, buf, sizeof buf), ct->name);
    }
  arca_pods_free (pods);
  if (!quiet && strcmp (format, "json") == 0)
    {
      cli_print_json (array);
    }
  json_decref (array);
  arca_engine_containers_free (list);
  int r = 0;
  if (!quiet && templated)
    {
      json_t *headers = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                                   "ID", "CONTAINER ID", "Names", "NAMES", "Image", "IMAGE",
                                   "Command", "COMMAND", "Status", "STATUS", "State", "STATE",
                                   "CreatedAt", "CREATED AT", "Ports", "PORTS", "Pod", "POD",
                                   "PodName", "POD NAME");
      r = cli_format_table (format, rows, headers, err);
      json_decref (headers);
    }
  json_decref (rows);
  return r < 0 ? 125 : 0;
}

int
cmd_logs (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "follow", no_argument, NULL, 'f' }, { "tail", required_argument, NULL, 'n' },
    { "timestamps", no_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  struct arca_logs_options lo = { 0 };
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+fn:th", options, NULL)) != -1)
    switch (c)
      {
      case 'f': lo.follow = true; break;
      case 'n':
        if (strcmp (optarg, "all") != 0)
          lo.tail = (size_t) strtoul (optarg, NULL, 10);
        break;
      case 't': lo.timestamps = true; break;
      case 's':
        {
          /* RFC 3339, or a duration like 10s, 5m, 2h before now. */
          int64_t ns = arca_rfc3339_to_ns (optarg);
          if (ns < 0)
            {
              char *end;
              double v = strtod (optarg, &end);
              double unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : -1;
              if (end == optarg || unit < 0 || end[1])
                return arca_error_set (err, EINVAL, "--since: `%s` (RFC 3339 time or 10s/5m/2h)", optarg), 125;
              struct timespec now;
              clock_gettime (CLOCK_REALTIME, &now);
              ns = (int64_t) now.tv_sec * 1000000000LL + now.tv_nsec - (int64_t) (v * unit * 1e9);
            }
          lo.since_ns = ns;
          break;
        }
      case 'h':
        return fputs ("Usage: arca logs [-f] [--tail N] [--timestamps] [--since TIME] CONTAINER\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "logs: invalid option"), 125;
      }
  if (argc - optind != 1)
    return arca_error_set (err, EINVAL, "logs: one container name or id"), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_logs (e, argv[optind], &lo, 1, 2, err) < 0)
    return 125;
  return 0;
}

int
cmd_inspect (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  const char *format = NULL;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+f:h", options, NULL)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      case 't':
        if (strcmp (optarg, "container") != 0)
          return arca_error_set (err, EINVAL, "inspect --type %s: use `arca %s inspect`", optarg,
                                 optarg), 125;
        break;
      case 'h':
        return fputs ("Usage: arca inspect [-f|--format TEMPLATE|json] CONTAINER...\n"
                      "  A container as docker/podman inspect show it; TEMPLATE is a Go template\n"
                      "  ({{.State.Status}}, {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}).\n",
                      stdout), 0;
      default: return arca_error_set (err, EINVAL, "inspect: invalid option (see --help)"), 125;
      }
  if (optind >= argc)
    return arca_error_set (err, EINVAL, "inspect: a container name or id is required"), 125;
  if (cli_engine (cli, &e, err) < 0)
    return 125;
  json_t *array = json_array ();
  for (int i = optind; i < argc; i++)
    {
      json_t *doc = NULL;
      if (arca_engine_inspect (e, argv[i], &doc, err) < 0)
        {
          json_decref (array);
          return 125;
        }
      json_array_append_new (array, doc);
    }
  int r = 0;
  if (format == NULL || strcmp (format, "json") == 0)
    cli_print_json (array);
  else
    r = cli_format_each (format, array, err);
  json_decref (array);
  return r < 0 ? 125 : 0;
}

int
cmd_exec (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option options[] = {
    { "env", required_argument, NULL, 'e' }, { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' }, { "detach", no_argument, NULL, 'd' },
    { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **env = NULL;
  const char *user = NULL, *workdir = NULL;
  bool detach = false, tty = false;
  struct arca_engine *e;
  int c;

  while ((c = getopt_long (argc, argv, "+e:u:w:dith", options, NULL)) != -1)
    switch (c)
      {
      case 'e':
        if (cli_strv_push (&env, optarg, err) < 0)
          return 125;
        break;
      case 'u': user = optarg; break;
      case 'w': workdir = optarg; break;
      case 'd': detach = true; break;
      case 'i': break; /* stdin is passed through as is */
      case 't': tty = true; break;
      case 'h':
        return fputs ("Usage: arca exec [-e K=V] [-u USER] [-w DIR] [-d] [-i] [-t] CONTAINER CMD [ARG...]\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "exec: invalid option"), 125;
      }
  if (argc - optind < 2)
    return arca_error_set (err, EINVAL, "exec: a container and a command are required"), 125;
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *ct = NULL;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_get (e, argv[optind], &ct, err) < 0)
    return 125;
  if (ct->status != ARCA_ENGINE_RUNNING)
    return arca_error_set (err, EINVAL, "container %s is not running", ct->name), 125;
  cleanup_process struct arca_oci_process *p = NULL;
  if (arca_container_exec_defaults (&e->rt, ct->id, &p, err) < 0)
    return 125;
  arca_strv_free (p->args);
  p->args = NULL;
  for (int i = optind + 1; i < argc; i++)
    if (cli_strv_push (&p->args, argv[i], err) < 0)
      return 125;
  for (size_t i = 0; env && env[i]; i++)
    if (cli_strv_push (&p->env, env[i], err) < 0)
      return 125;
  if (workdir)
    {
      free (p->cwd);
      p->cwd = strdup (workdir);
    }
  if (user)
    {
      uint32_t uid, gid;
      cleanup_free uint32_t *groups = NULL;
      size_t n = 0;
      cleanup_free char *merged = NULL;
      if (arca_engine_container_dir (e, ct->id, "merged", &merged, err) < 0
          || arca_engine_resolve_user (merged, user, &uid, &gid, &groups, &n, err) < 0)
        return 125;
      p->user.uid = uid;
      p->user.gid = gid;
    }
  p->terminal = tty;
  struct arca_exec_options xo = { .id = ct->id, .process = p, .detach = detach };
  int status = 0;
  if (arca_container_exec (&e->rt, &xo, &status, err) < 0)
    return 126;
  return status;
}

int
cmd_network_attach (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;

  if (argc != 3)
    return arca_error_set (err, EINVAL, "container-network-attach ID PID"), 125;
  if (cli_engine (cli, &e, err) < 0
      || arca_engine_network_attach (e, argv[1], (pid_t) atoi (argv[2]), err) < 0)
    return 125;
  return 0;
}

int
cmd_cleanup (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;

  if (argc != 2)
    return arca_error_set (err, EINVAL, "container-cleanup ID"), 125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_cleanup (e, argv[1], err) < 0)
    return 125;
  return 0;
}

/* `arca container prune [-f]`: every container that does not run goes;
 * their ids are printed like Docker's.  There is no prompt, so -f changes
 * nothing. */
int
cmd_container_prune (struct cli *cli, int argc, char **argv, arca_error **err)
{
  static const struct option longs[] = { { "force", no_argument, NULL, 'f' },
                                         { "help", no_argument, NULL, 'h' },
                                         { NULL, 0, NULL, 0 } };
  struct arca_engine *e;
  cleanup_strv char **removed = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+fh", longs, NULL)) != -1)
    switch (c)
      {
      case 'f': break;
      case 'h':
        return fputs ("Usage: arca container prune [-f]\n"
                      "  Removes all stopped (exited or created) containers.\n", stdout), 0;
      default: return arca_error_set (err, EINVAL, "container prune: invalid option (see --help)"), 125;
      }
  if (optind < argc)
    return arca_error_set (err, EINVAL, "container prune: unexpected argument `%s`", argv[optind]),
           125;
  if (cli_engine (cli, &e, err) < 0 || arca_engine_container_prune (e, &removed, err) < 0)
    return 125;
  size_t n = 0;
  if (removed[0])
    puts ("Deleted Containers:");
  for (; removed[n]; n++)
    puts (removed[n]);
  printf ("%sTotal removed containers: %zu\n", n ? "\n" : "", n);
  return 0;
}
