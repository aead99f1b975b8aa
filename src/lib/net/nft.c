/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/nft.h"
#include "util/cleanup.h"

static void
nft_ctx_freep (struct nft_ctx **c)
{
  if (*c)
    nft_ctx_free (*c);
}

int
arca_nft_run (const char *script, arca_error **err)
{
  _cleanup_ (nft_ctx_freep) struct nft_ctx *ctx = nft_ctx_new (NFT_CTX_DEFAULT);

  if (ctx == NULL)
    return arca_error_set (err, ENOMEM, "nftables context");
  nft_ctx_buffer_output (ctx);
  nft_ctx_buffer_error (ctx);
  if (nft_run_cmd_from_buffer (ctx, script) != 0)
    {
      const char *msg = nft_ctx_get_error_buffer (ctx);
      cleanup_free char *copy = strdup (msg ? msg : "");
      /* One line is enough in an error: nft prints the failing command and
       * a caret line after the reason. */
      if (copy && strchr (copy, '\n'))
        *strchr (copy, '\n') = '\0';
      return arca_error_set (err, EIO, "nftables: %s", copy && *copy ? copy : "command failed");
    }
  return 0;
}

int
arca_nft_ensure (const char *table, const char *bridge, const struct arca_subnet *subnet,
                 arca_error **err)
{
  cleanup_free char *script = NULL, *list = NULL;
  char net[INET_ADDRSTRLEN];
  cleanup_error arca_error *local = NULL;

  if (asprintf (&list, "list table ip %s", table) < 0)
    return arca_error_set (err, ENOMEM, "nftables");
  if (arca_nft_run (list, NULL) == 0)
    return 0;
  inet_ntop (AF_INET, &subnet->base, net, sizeof net);
  /* `create table` makes the batch fail as a whole when a concurrent run
   * created the table first, so the rules are never added twice.
   * 127.0.0.0/8 sources reach the bridge only through the output DNAT of a
   * published port (see arca_bridge_ensure for route_localnet): they are
   * masqueraded so the container answers to the gateway, not to its own lo. */
  if (asprintf (&script,
                "create table ip %s\n"
                "table ip %s {\n"
                "  map ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                "  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                "  chain ports {\n"
                "    dnat ip to ip daddr . meta l4proto . th dport map @ports_ip\n"
                "    dnat ip to meta l4proto . th dport map @ports_any\n"
                "  }\n"
                "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n"
                "    fib daddr type local jump ports\n  }\n"
                "  chain output { type nat hook output priority -100; policy accept;\n"
                "    fib daddr type local jump ports\n  }\n"
                "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
                "    ip saddr %s/%u ip daddr != %s/%u masquerade\n"
                "    oifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n"
                "  }\n"
                "}\n",
                table, table, net, subnet->prefix, net, subnet->prefix, bridge)
      < 0)
    return arca_error_set (err, ENOMEM, "nftables");
  if (arca_nft_run (script, &local) == 0 || arca_nft_run (list, NULL) == 0)
    return 0;
  return arca_error_set (err, local->errnum, "create nftables table `%s`: %s", table, local->msg);
}

/* "ports_any { tcp . 8080" or "ports_ip { 127.0.0.1 . tcp . 8080" */
static int
port_key (const struct arca_nft_port *p, char **ret)
{
  char hip[INET_ADDRSTRLEN];

  if (p->host_ip.s_addr == 0)
    return asprintf (ret, "ports_any { %s . %u", p->proto, p->host_port);
  inet_ntop (AF_INET, &p->host_ip, hip, sizeof hip);
  return asprintf (ret, "ports_ip { %s . %s . %u", hip, p->proto, p->host_port);
}

int
arca_nft_ports_add (const char *table, const struct arca_nft_port *p, size_t n, arca_error **err)
{
  cleanup_free char *script = strdup ("");

  for (size_t i = 0; i < n && script; i++)
    {
      cleanup_free char *key = NULL, *old = move_ptr (script);
      char cip[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &p[i].container_ip, cip, sizeof cip);
      if (port_key (&p[i], &key) < 0
          || asprintf (&script, "%sadd element ip %s %s : %s . %u }\n", old, table, key, cip,
                       p[i].container_port) < 0)
        script = NULL;
    }
  if (script == NULL)
    return arca_error_set (err, ENOMEM, "nftables");
  if (n == 0)
    return 0;
  if (arca_nft_run (script, err) < 0)
    return arca_error_wrap (err, "publish ports");
  return 0;
}

int
arca_nft_ports_del (const char *table, const struct arca_nft_port *p, size_t n, arca_error **err)
{
  (void) err;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *key = NULL, *cmd = NULL;
      if (port_key (&p[i], &key) < 0
          || asprintf (&cmd, "delete element ip %s %s }\n", table, key) < 0)
        return arca_error_set (err, ENOMEM, "nftables");
      /* One command each: an entry that is already gone must not keep the
       * others in place. */
      arca_nft_run (cmd, NULL);
    }
  return 0;
}
