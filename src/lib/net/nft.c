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

/* Runs script; with ret_output, what nft printed (list commands). */
static int
nft_run (const char *script, char **ret_output, arca_error **err)
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
  if (ret_output)
    {
      const char *out = nft_ctx_get_output_buffer (ctx);
      if ((*ret_output = strdup (out ? out : "")) == NULL)
        return arca_error_set (err, ENOMEM, "nftables");
    }
  return 0;
}

int
arca_nft_run (const char *script, arca_error **err)
{
  return nft_run (script, NULL, err);
}

/* Bumped whenever the rules below change: a table without it is brought up
 * to date in place (its maps, so running containers' ports, stay). */
#define RULES_VERSION "arca-rules-v3"

int
arca_nft_ensure (const char *table, const char *bridge, const struct arca_subnet *subnet,
                 arca_error **err)
{
  cleanup_free char *script = NULL, *list = NULL, *current = NULL;
  char net[INET_ADDRSTRLEN];

  if (asprintf (&list, "list chain ip %s postrouting", table) < 0)
    return arca_error_set (err, ENOMEM, "nftables");
  if (nft_run (list, &current, NULL) == 0 && strstr (current, RULES_VERSION))
    return 0;
  /* From here on the table is (re)built: 1 tells the caller. */
  inet_ntop (AF_INET, &subnet->base, net, sizeof net);
  /* One batch, so one atomic transaction: `add` is idempotent for the table,
   * maps and chains, and each chain is flushed before its rules are added,
   * so two engines racing here end with one copy of every rule.
   * - ports: published ports, looked up by (address,) protocol and port.
   * - 127.0.0.0/8 sources reach the bridge only through the output DNAT of
   *   a published port (see arca_bridge_ensure for route_localnet): they
   *   are masqueraded so the container answers to the gateway, not to its
   *   own lo.
   * - a container reaching another (or itself) through a published port on
   *   a host address is DNATed back onto the bridge; without masquerade the
   *   answer would go straight over the bridge from an address the client
   *   never talked to. */
  if (asprintf (&script,
                "add table ip %1$s\n"
                "add map ip %1$s ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                "add map ip %1$s ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                "add chain ip %1$s ports\n"
                "add chain ip %1$s prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
                "add chain ip %1$s output { type nat hook output priority -100; policy accept; }\n"
                "add chain ip %1$s postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
                "flush chain ip %1$s ports\n"
                "flush chain ip %1$s prerouting\n"
                "flush chain ip %1$s output\n"
                "flush chain ip %1$s postrouting\n"
                "add rule ip %1$s ports dnat ip to ip daddr . meta l4proto . th dport map @ports_ip\n"
                "add rule ip %1$s ports dnat ip to meta l4proto . th dport map @ports_any\n"
                "add rule ip %1$s prerouting fib daddr type local jump ports\n"
                "add rule ip %1$s output fib daddr type local jump ports\n"
                "add rule ip %1$s postrouting ip saddr %2$s/%3$u ip daddr != %2$s/%3$u masquerade"
                " comment \"" RULES_VERSION "\"\n"
                "add rule ip %1$s postrouting oifname \"%4$s\" ip saddr 127.0.0.0/8 masquerade\n"
                "add rule ip %1$s postrouting oifname \"%4$s\" ct status dnat ip saddr %2$s/%3$u masquerade\n",
                table, net, subnet->prefix, bridge)
      < 0)
    return arca_error_set (err, ENOMEM, "nftables");
  if (nft_run (script, NULL, err) < 0)
    return arca_error_wrap (err, "set up nftables table `%s`", table);
  return 1;
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

#define ISOLATION_VERSION "arca-isolation-v2"
#define ISOLATION_TABLE "arca"

static int
isolation_ensure (arca_error **err)
{
  cleanup_free char *current = NULL;

  if (nft_run ("list chain ip " ISOLATION_TABLE " isolation", &current, NULL) == 0
      && strstr (current, ISOLATION_VERSION))
    return 0;
  /* Before the filter chains of other firewalls (priority filter), so a
   * permissive one cannot let traffic between networks through first.
   * Traffic within one bridge (set `same`) passes first: with br_netfilter
   * loaded, frames switched between two containers of a bridge reach this
   * hook too, with the bridge as both interfaces. */
  static const char script[]
      = "add table ip " ISOLATION_TABLE "\n"
        "add set ip " ISOLATION_TABLE " bridges { type ifname; }\n"
        "add set ip " ISOLATION_TABLE " same { type ifname . ifname; }\n"
        "add set ip " ISOLATION_TABLE " internal { type ifname; }\n"
        "add chain ip " ISOLATION_TABLE
        " isolation { type filter hook forward priority -10; policy accept; }\n"
        "flush chain ip " ISOLATION_TABLE " isolation\n"
        "add rule ip " ISOLATION_TABLE " isolation iifname . oifname @same accept\n"
        "add rule ip " ISOLATION_TABLE " isolation iifname @internal drop\n"
        "add rule ip " ISOLATION_TABLE " isolation oifname @internal drop\n"
        "add rule ip " ISOLATION_TABLE " isolation ct status dnat accept\n"
        "add rule ip " ISOLATION_TABLE " isolation iifname @bridges oifname @bridges drop"
        " comment \"" ISOLATION_VERSION "\"\n";
  if (nft_run (script, NULL, err) < 0)
    return arca_error_wrap (err, "set up network isolation");
  return 0;
}

int
arca_nft_isolation_add (const char *bridge, bool internal, arca_error **err)
{
  cleanup_free char *script = NULL;

  if (isolation_ensure (err) < 0)
    return -1;
  if (asprintf (&script,
                "add element ip " ISOLATION_TABLE " bridges { \"%1$s\" }\n"
                "add element ip " ISOLATION_TABLE " same { \"%1$s\" . \"%1$s\" }\n"
                "%2$s",
                bridge, internal ? "add element ip " ISOLATION_TABLE " internal { \"" : "")
      < 0)
    return arca_error_set (err, ENOMEM, "nftables");
  if (internal)
    {
      cleanup_free char *old = move_ptr (script);
      if (asprintf (&script, "%s%s\" }\n", old, bridge) < 0)
        return arca_error_set (err, ENOMEM, "nftables");
    }
  if (nft_run (script, NULL, err) < 0)
    return arca_error_wrap (err, "isolate bridge `%s`", bridge);
  return 0;
}

int
arca_nft_isolation_del (const char *bridge, arca_error **err)
{
  static const char *const sets[] = { "bridges", "same", "internal" };
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
    {
      cleanup_free char *cmd = NULL;
      int r = i == 1 ? asprintf (&cmd, "delete element ip " ISOLATION_TABLE " same { \"%s\" . \"%s\" }",
                                 bridge, bridge)
                     : asprintf (&cmd, "delete element ip " ISOLATION_TABLE " %s { \"%s\" }",
                                 sets[i], bridge);
      if (r < 0)
        return arca_error_set (err, ENOMEM, "nftables");
      /* One each: a missing element must not keep the others. */
      nft_run (cmd, NULL, NULL);
    }
  return 0;
}

int
arca_nft_table_del (const char *table, arca_error **err)
{
  cleanup_free char *cmd = NULL, *list = NULL;

  if (asprintf (&cmd, "delete table ip %s", table) < 0
      || asprintf (&list, "list table ip %s", table) < 0)
    return arca_error_set (err, ENOMEM, "nftables");
  if (nft_run (list, NULL, NULL) < 0)
    return 0;
  return nft_run (cmd, NULL, err);
}
