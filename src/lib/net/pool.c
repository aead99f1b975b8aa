/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/pool.h"
#include "util/cleanup.h"
#include "util/fs.h"

static uint32_t
mask_of (unsigned prefix)
{
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int
arca_subnet_overlap (const struct arca_subnet *a, const struct arca_subnet *b)
{
  /* Two prefixes overlap when they agree on the shorter one's bits. */
  uint32_t m = mask_of (a->prefix < b->prefix ? a->prefix : b->prefix);
  return (ntohl (a->base.s_addr) & m) == (ntohl (b->base.s_addr) & m);
}

int
arca_net_host_routes (const char *routes, struct arca_subnet **ret, size_t *ret_n,
                      arca_error **err)
{
  cleanup_free char *text = NULL;
  cleanup_free struct arca_subnet *v = NULL;
  size_t n = 0;

  if (routes == NULL)
    {
      if (arca_read_file_at (AT_FDCWD, "/proc/net/route", 1 << 22, &text, NULL, err) < 0)
        return -1;
      routes = text;
    }
  /* Iface Destination Gateway Flags RefCnt Use Metric Mask ...: the
   * addresses are the kernel's network-order words printed in hex. */
  for (const char *line = strchr (routes, '\n'); line && line[1]; line = strchr (line + 1, '\n'))
    {
      char ifname[64];
      unsigned long dest, gw, mask;
      unsigned flags, refcnt, use, metric;
      if (sscanf (line + 1, "%63s %lx %lx %x %u %u %u %lx", ifname, &dest, &gw, &flags, &refcnt,
                  &use, &metric, &mask) != 8)
        continue;
      uint32_t m = ntohl ((uint32_t) mask);
      if (m == 0)
        continue; /* a default route covers everything: not a taken subnet */
      unsigned prefix = (unsigned) __builtin_popcount (m);
      struct arca_subnet *grown = realloc (v, (n + 1) * sizeof *v);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "routes");
      v = grown;
      v[n].base.s_addr = (uint32_t) dest & htonl (m);
      v[n++].prefix = prefix;
    }
  *ret = move_ptr (v);
  *ret_n = n;
  return 0;
}

int
arca_net_pool_pick (const struct arca_subnet *pool, unsigned prefix,
                    const struct arca_subnet *taken, size_t n_taken, struct arca_subnet *ret,
                    arca_error **err)
{
  if (prefix < pool->prefix || prefix > 30)
    return arca_error_set (err, EINVAL, "pool /%u cannot be cut into /%u", pool->prefix, prefix);
  uint64_t count = (uint64_t) 1 << (prefix - pool->prefix);
  for (uint64_t i = 0; i < count; i++)
    {
      struct arca_subnet s = {
        .base.s_addr = htonl (ntohl (pool->base.s_addr) + (uint32_t) (i << (32 - prefix))),
        .prefix = prefix,
      };
      size_t j = 0;
      while (j < n_taken && !arca_subnet_overlap (&s, &taken[j]))
        j++;
      if (j == n_taken)
        {
          *ret = s;
          return 0;
        }
    }
  char net[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &pool->base, net, sizeof net);
  return arca_error_set (err, ENOSPC, "no free /%u left in the network pool %s/%u", prefix, net,
                         pool->prefix);
}
