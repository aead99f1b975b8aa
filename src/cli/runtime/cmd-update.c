/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* update: new limits for a running container, from flags or --resources. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/cleanup.h"

static const char update_help[] =
    "Usage: arca-runtime update [options] CONTAINER-ID\n\n"
    "Changes the cgroup limits of a container.\n\n"
    "  --resources, -r FILE       linux.resources as JSON (\"-\": stdin); flags override it\n"
    "  --memory SIZE              memory limit (k/m/g suffixes; -1: unlimited)\n"
    "  --memory-swap SIZE         memory + swap limit\n"
    "  --memory-reservation SIZE  soft limit\n"
    "  --cpu-shares N             relative cpu weight\n"
    "  --cpu-quota N              microseconds per period (-1: unlimited)\n"
    "  --cpu-period N             period in microseconds\n"
    "  --cpu-rt-runtime N         realtime runtime in microseconds\n"
    "  --cpu-rt-period N          realtime period in microseconds\n"
    "  --cpuset-cpus LIST         cpus allowed, e.g. 0-1\n"
    "  --cpuset-mems LIST         memory nodes allowed\n"
    "  --pids-limit N             maximum number of processes (-1 or 0: unlimited)\n"
    "  --blkio-weight N           block I/O weight 10..1000\n";

static int
parse_int (const char *flag, const char *text, int64_t *ret, arca_error **err)
{
  char *end;

  errno = 0;
  long long v = strtoll (text, &end, 10);
  if (errno || end == text || *end)
    return arca_error_set (err, EINVAL, "%s: `%s` is not a number", flag, text);
  *ret = v;
  return 0;
}

static int
replace_string (char **field, const char *value, arca_error **err)
{
  char *copy = strdup (value);

  if (copy == NULL)
    return arca_error_set (err, ENOMEM, "update");
  free (*field);
  *field = copy;
  return 0;
}

int
cmd_update (struct cli *cli, int argc, char **argv, arca_error **err)
{
  enum { O_MEM = 256, O_SWAP, O_RES, O_KMEM, O_SHARES, O_QUOTA, O_PERIOD, O_RTRUN, O_RTPER,
         O_CPUS, O_MEMS, O_PIDS, O_BLKIO, O_L3, O_MEMBW };
  static const struct option options[] = {
    { "resources", required_argument, NULL, 'r' },
    { "memory", required_argument, NULL, O_MEM },
    { "memory-swap", required_argument, NULL, O_SWAP },
    { "memory-reservation", required_argument, NULL, O_RES },
    { "kernel-memory", required_argument, NULL, O_KMEM },
    { "kernel-memory-tcp", required_argument, NULL, O_KMEM },
    { "cpu-shares", required_argument, NULL, O_SHARES },
    { "cpu-quota", required_argument, NULL, O_QUOTA },
    { "cpu-period", required_argument, NULL, O_PERIOD },
    { "cpu-rt-runtime", required_argument, NULL, O_RTRUN },
    { "cpu-rt-period", required_argument, NULL, O_RTPER },
    { "cpuset-cpus", required_argument, NULL, O_CPUS },
    { "cpuset-mems", required_argument, NULL, O_MEMS },
    { "pids-limit", required_argument, NULL, O_PIDS },
    { "blkio-weight", required_argument, NULL, O_BLKIO },
    { "l3-cache-schema", required_argument, NULL, O_L3 },
    { "mem-bw-schema", required_argument, NULL, O_MEMBW },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  /* Flags are applied over --resources, whatever their order. */
  const char *values[O_MEMBW + 1] = { 0 };
  const char *resources_file = NULL;
  struct arca_oci_resources r = { 0 };
  int64_t v;
  uint64_t u;
  int c;

  while ((c = getopt_long (argc, argv, "+r:h", options, NULL)) != -1)
    {
      if (c == 'r')
        resources_file = optarg;
      else if (c == 'h')
        return cli_help (update_help);
      else if (c >= O_MEM && c <= O_MEMBW)
        values[c] = optarg;
      else
        return arca_error_set (err, EINVAL, "update: invalid option (see --help)"), 1;
    }
  if (cli_positional (argc, argv, optind, 1, "update [options] ID", err) < 0)
    return 1;
  if (values[O_L3] || values[O_MEMBW])
    return arca_error_set (err, ENOTSUP,
                           "update: intelRdt (--l3-cache-schema, --mem-bw-schema) is not "
                           "supported on this host"),
           1;
  if (values[O_KMEM])
    return arca_error_set (err, ENOTSUP,
                           "update: --kernel-memory is not supported by this kernel"),
           1;
  if (resources_file)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (cli_read_input ("--resources", resources_file, &text, &len, err) < 0
          || arca_oci_resources_parse (text, len, &r, err) < 0)
        return 1;
    }
  int status = 1;
  if (values[O_MEM])
    {
      if (cli_parse_size ("--memory", values[O_MEM], &v, err) < 0)
        goto out;
      r.has_memory_limit = true;
      r.memory_limit = v;
    }
  if (values[O_SWAP])
    {
      if (cli_parse_size ("--memory-swap", values[O_SWAP], &v, err) < 0)
        goto out;
      r.has_memory_swap = true;
      r.memory_swap = v;
    }
  if (values[O_RES])
    {
      if (cli_parse_size ("--memory-reservation", values[O_RES], &v, err) < 0)
        goto out;
      r.has_memory_reservation = true;
      r.memory_reservation = v;
    }
  if (values[O_SHARES])
    {
      if (cli_parse_uint ("--cpu-shares", values[O_SHARES], UINT64_MAX, &u, err) < 0)
        goto out;
      r.has_cpu_shares = true;
      r.cpu_shares = u;
    }
  if (values[O_QUOTA])
    {
      if (parse_int ("--cpu-quota", values[O_QUOTA], &v, err) < 0)
        goto out;
      r.has_cpu_quota = true;
      r.cpu_quota = v;
    }
  if (values[O_PERIOD])
    {
      if (cli_parse_uint ("--cpu-period", values[O_PERIOD], UINT64_MAX, &u, err) < 0)
        goto out;
      r.has_cpu_period = true;
      r.cpu_period = u;
    }
  if (values[O_RTRUN])
    {
      if (parse_int ("--cpu-rt-runtime", values[O_RTRUN], &v, err) < 0)
        goto out;
      r.has_cpu_realtime_runtime = true;
      r.cpu_realtime_runtime = v;
    }
  if (values[O_RTPER])
    {
      if (cli_parse_uint ("--cpu-rt-period", values[O_RTPER], UINT64_MAX, &u, err) < 0)
        goto out;
      r.has_cpu_realtime_period = true;
      r.cpu_realtime_period = u;
    }
  if (values[O_CPUS] && replace_string (&r.cpu_cpus, values[O_CPUS], err) < 0)
    goto out;
  if (values[O_MEMS] && replace_string (&r.cpu_mems, values[O_MEMS], err) < 0)
    goto out;
  if (values[O_PIDS])
    {
      if (parse_int ("--pids-limit", values[O_PIDS], &v, err) < 0)
        goto out;
      r.has_pids_limit = true;
      r.pids_limit = v;
    }
  if (values[O_BLKIO])
    {
      if (cli_parse_uint ("--blkio-weight", values[O_BLKIO], 1000, &u, err) < 0)
        goto out;
      if (u < 10)
        {
          arca_error_set (err, EINVAL, "--blkio-weight: %llu is not in 10..1000",
                          (unsigned long long) u);
          goto out;
        }
      r.has_blkio_weight = true;
      r.blkio_weight = (uint16_t) u;
    }
  status = arca_container_update (&cli->rt, argv[optind], &r, err) < 0 ? 1 : 0;
out:
  arca_oci_resources_clear (&r);
  return status;
}
