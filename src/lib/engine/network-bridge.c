/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bridge driver: attach runs between create and start while the
 * container's init waits in its own network namespace; everything it creates
 * on the host (veth, IPAM row, port rows, nft map entries) is keyed by the
 * container id, so detach (and a detach after a crash) finds and removes it
 * all without any state of the attach that made it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/network-bridge.h"
#include "engine/network-internal.h"
#include "image/db-internal.h" /* the engine's sqlite handle */
#include "engine/network-user.h"
#include "net/bridge.h"
#include "net/hostdb.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "net/portmap.h"
#include "net/sql.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define MAX_PORTS 256
#define NETWORK "bridge"

bool
arca_bridge_supported (void)
{
  /* Creating links and nft tables needs CAP_NET_ADMIN in the host's
   * namespace; rootless engines fall back to "none". */
  return geteuid () == 0 && access ("/proc/sys/net/ipv4/ip_forward", W_OK) == 0;
}

static json_t *
strv_json (char **v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i] && a; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

json_t *
arca_bridge_options_json (const struct arca_run_spec *spec, char **exposed_ports)
{
  json_t *o = json_object ();
  if (o == NULL)
    return NULL;
  json_object_set_new (o, "publish", strv_json (spec->publish));
  if (spec->publish_all)
    json_object_set_new (o, "publishAll", strv_json (exposed_ports));
  if (spec->ip)
    json_object_set_new (o, "ip", json_string (spec->ip));
  if (spec->mac_address)
    json_object_set_new (o, "mac", json_string (spec->mac_address));
  json_object_set_new (o, "dns", strv_json (spec->dns));
  json_object_set_new (o, "addHosts", strv_json (spec->add_hosts));
  return o;
}

int
arca_bridge_options_of (struct arca_engine *e, const char *id, json_t **ret, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (e->db->h, "SELECT options FROM containers WHERE id = ?1", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_ROW)
    return arca_error_set (err, ENOENT, "no such container: %s", id);
  json_t *opts = json_loads ((const char *) sqlite3_column_text (st, 0), 0, NULL);
  if (opts == NULL)
    return arca_error_set (err, EINVAL, "container %s: corrupt options", id);
  *ret = json_incref (json_object_get (opts, "bridge"));
  json_decref (opts);
  if (*ret == NULL)
    *ret = json_object ();
  return 0;
}

/* net_networks is the user networks' table too: its columns (mtu) come
 * from there. */
static int
ensure_tables (sqlite3 *db, arca_error **err)
{
  return arca_ipam_init (db, err) < 0 || arca_portmap_init (db, err) < 0
                 || user_net_tables (db, err) < 0
             ? -1
             : 0;
}

struct net_config {
  char bridge[16];
  char table[32];
  struct arca_subnet subnet;
  unsigned mtu; /* 0: the kernel's 1500 */
};

bool
arca_bridge_name_valid (const char *name)
{
  size_t len = strlen (name);
  if (len == 0 || len > 15)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
          || name[i] == '-' || name[i] == '_'))
      return 0;
  return 1;
}

/* The network's bridge, subnet and MTU: chosen once per engine root
 * (environment or defaults) and kept, so existing allocations stay valid and
 * every endpoint on the bridge has the same MTU. */
static int
network_config (sqlite3 *db, struct net_config *ret, arca_error **err)
{
  cleanup_sql sqlite3_stmt *ins = NULL, *sel = NULL;
  const char *subnet = getenv ("ARCA_BRIDGE_SUBNET"), *bridge = getenv ("ARCA_BRIDGE_NAME");
  const char *mtu_text = getenv ("ARCA_BRIDGE_MTU");
  struct arca_subnet check;
  unsigned mtu = 0;

  if (subnet == NULL || *subnet == '\0')
    subnet = ARCA_BRIDGE_SUBNET;
  if (bridge == NULL || *bridge == '\0')
    bridge = ARCA_BRIDGE_NAME;
  if (arca_subnet_parse (subnet, &check, err) < 0)
    return arca_error_wrap (err, "ARCA_BRIDGE_SUBNET");
  if (!arca_bridge_name_valid (bridge))
    return arca_error_set (err, EINVAL, "ARCA_BRIDGE_NAME `%s`: 1-15 of a-z 0-9 - _", bridge);
  if (mtu_text && *mtu_text && arca_network_mtu_parse (mtu_text, "ARCA_BRIDGE_MTU", &mtu, err) < 0)
    return -1;
  if (arca_net_sql_prepare (db, "INSERT OR IGNORE INTO net_networks (name, bridge, subnet, mtu) "
                                "VALUES ('" NETWORK "', ?1, ?2, ?3)", &ins, err) < 0)
    return -1;
  sqlite3_bind_text (ins, 1, bridge, -1, SQLITE_STATIC);
  sqlite3_bind_text (ins, 2, subnet, -1, SQLITE_STATIC);
  sqlite3_bind_int (ins, 3, (int) mtu);
  if (sqlite3_step (ins) != SQLITE_DONE)
    return arca_net_sql_fail (db, "network", err);
  if (arca_net_sql_prepare (db, "SELECT bridge, subnet, mtu FROM net_networks WHERE name = '" NETWORK "'",
                            &sel, err) < 0)
    return -1;
  if (sqlite3_step (sel) != SQLITE_ROW)
    return arca_error_set (err, ENOENT, "network " NETWORK " vanished");
  const char *b = (const char *) sqlite3_column_text (sel, 0);
  if (b == NULL || !arca_bridge_name_valid (b))
    return arca_error_set (err, EINVAL, "network " NETWORK ": bad bridge name in the database");
  snprintf (ret->bridge, sizeof ret->bridge, "%s", b);
  int stored_mtu = sqlite3_column_int (sel, 2);
  ret->mtu = stored_mtu >= 576 && stored_mtu <= 65535 ? (unsigned) stored_mtu : 0;
  if (strcmp (b, ARCA_BRIDGE_NAME) == 0)
    snprintf (ret->table, sizeof ret->table, "arca");
  else
    snprintf (ret->table, sizeof ret->table, "arca-%s", b);
  return arca_subnet_parse ((const char *) sqlite3_column_text (sel, 1), &ret->subnet, err);
}

static void
veth_name (const char *id, char ret[16])
{
  snprintf (ret, 16, "veth%.11s", id);
}

void
arca_bridge_table_name (const char *bridge, char ret[32])
{
  if (strcmp (bridge, ARCA_BRIDGE_NAME) == 0)
    snprintf (ret, 32, "arca");
  else
    snprintf (ret, 32, "arca-%s", bridge);
}

int
arca_bridge_mac (struct in_addr addr, const char *requested, unsigned char ret[6],
                 arca_error **err)
{
  if (requested)
    {
      unsigned b[6];
      char tail;
      if (sscanf (requested, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                  &tail) != 6 || strlen (requested) != 17)
        return arca_error_set (err, EINVAL, "--mac-address `%s`: expected XX:XX:XX:XX:XX:XX",
                               requested);
      if (b[0] & 1)
        return arca_error_set (err, EINVAL, "--mac-address `%s`: a multicast address", requested);
      for (int i = 0; i < 6; i++)
        ret[i] = (unsigned char) b[i];
      return 0;
    }
  /* The MAC follows from the address (as Docker does): an address handed
   * out again keeps its MAC, so neighbours' ARP caches stay right. */
  uint32_t h = ntohl (addr.s_addr);
  const unsigned char mac[6] = { 0x02, 0x42, h >> 24, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff };
  memcpy (ret, mac, 6);
  return 0;
}

/* Marks the /etc/hosts lines attach writes, so the next start (restart
 * policy, `arca start` after a stop) replaces them instead of adding more. */
#define HOSTS_MARK "\t# arca bridge\n"

/* The etc files are bind-mounted into the container already: they are
 * rewritten in place (a rename would leave the mount on the old inode). */
static int
rewrite (struct arca_engine *e, const char *id, const char *file, const char *text,
         arca_error **err)
{
  cleanup_free char *path = NULL;

  if (arca_engine_container_dir (e, id, file, &path, err) < 0)
    return -1;
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_TRUNC);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  size_t len = strlen (text);
  if (write (fd, text, len) != (ssize_t) len)
    return arca_error_errno (err, "write `%s`", path);
  return 0;
}

int
arca_bridge_write_etc (struct arca_engine *e, const char *id, json_t *opts, struct in_addr addr,
                       arca_error **err)
{
  cleanup_free char *hostname = NULL, *hosts = NULL, *resolv = NULL, *hn_path = NULL,
                    *hosts_path = NULL, *old_hosts = NULL;
  cleanup_strv char **dns = NULL;
  size_t n_dns = 0;
  size_t len = 0;
  FILE *f;
  char ip[INET_ADDRSTRLEN];
  json_t *v;
  size_t i;

  inet_ntop (AF_INET, &addr, ip, sizeof ip);
  if (arca_engine_container_dir (e, id, "etc/hostname", &hn_path, err) < 0
      || arca_read_file_at (AT_FDCWD, hn_path, 4096, &hostname, NULL, err) < 0)
    return -1;
  hostname[strcspn (hostname, "\n")] = '\0';
  if (arca_engine_container_dir (e, id, "etc/hosts", &hosts_path, err) < 0
      || arca_read_file_at (AT_FDCWD, hosts_path, 1 << 20, &old_hosts, NULL, err) < 0)
    return -1;

  f = open_memstream (&hosts, &len);
  if (f == NULL)
    return arca_error_set (err, ENOMEM, "hosts");
  /* The engine's lines stay, ours from an earlier start go. */
  for (char *line = old_hosts, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      next = next ? next + 1 : line + strlen (line);
      size_t n = (size_t) (next - line), m = strlen (HOSTS_MARK);
      if (!(n >= m && memcmp (next - m, HOSTS_MARK, m) == 0))
        fwrite (line, 1, n, f);
    }
  fprintf (f, "%s\t%s" HOSTS_MARK, ip, hostname);
  json_array_foreach (json_object_get (opts, "addHosts"), i, v)
    {
      const char *s = json_string_value (v), *colon = s ? strchr (s, ':') : NULL;
      if (colon)
        fprintf (f, "%s\t%.*s" HOSTS_MARK, colon + 1, (int) (colon - s), s);
    }
  fclose (f);
  if (hosts == NULL || rewrite (e, id, "etc/hosts", hosts, err) < 0)
    return hosts ? -1 : arca_error_set (err, ENOMEM, "hosts");

  json_array_foreach (json_object_get (opts, "dns"), i, v)
    if (json_is_string (v) && arca_strv_append (&dns, &n_dns, json_string_value (v)) < 0)
      return arca_error_errno (err, "resolv.conf");
  if (arca_network_resolv_conf (dns, &resolv, err) < 0)
    return -1;
  return rewrite (e, id, "etc/resolv.conf", resolv, err);
}

int
arca_network_resolv_conf (char *const *dns, char **ret, arca_error **err)
{
  cleanup_free char *host = NULL, *text = NULL;
  size_t len = 0;
  bool have_ns = dns && dns[0];
  FILE *f = open_memstream (&text, &len);

  if (f == NULL)
    return arca_error_set (err, ENOMEM, "resolv.conf");
  for (size_t i = 0; dns && dns[i]; i++)
    fprintf (f, "nameserver %s\n", dns[i]);
  if (arca_read_file_at (AT_FDCWD, "/etc/resolv.conf", 65536, &host, NULL, NULL) == 0)
    for (char *save = NULL, *line = strtok_r (host, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save))
      {
        bool ns = strncmp (line, "nameserver", 10) == 0;
        /* A loopback resolver of the host (systemd-resolved, dnsmasq) is
         * not reachable from the container's own loopback. */
        if (ns && ((dns && dns[0]) || strstr (line, " 127.") || strstr (line, " ::1")))
          continue;
        have_ns |= ns;
        fprintf (f, "%s\n", line);
      }
  if (!have_ns)
    fputs ("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
  fclose (f);
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "resolv.conf");
  *ret = move_ptr (text);
  return 0;
}

static int
collect_ports (json_t *opts, struct arca_port_spec *ret, size_t *ret_n, arca_error **err)
{
  size_t n = 0, i;
  json_t *v;

  json_array_foreach (json_object_get (opts, "publish"), i, v)
    {
      if (n == MAX_PORTS)
        return arca_error_set (err, E2BIG, "more than %d published ports", MAX_PORTS);
      if (arca_port_spec_parse (json_string_value (v), &ret[n++], err) < 0)
        return -1;
    }
  /* -P: every EXPOSEd port ("80/tcp") on a free host port. */
  json_array_foreach (json_object_get (opts, "publishAll"), i, v)
    {
      if (n == MAX_PORTS)
        return arca_error_set (err, E2BIG, "more than %d published ports", MAX_PORTS);
      if (arca_port_spec_parse (json_string_value (v), &ret[n++], err) < 0)
        return -1;
    }
  *ret_n = n;
  return 0;
}

int
arca_bridge_configure_inside (int netns_fd, const char *ifname, struct in_addr addr,
                              const struct arca_subnet *subnet, struct in_addr gateway,
                              struct in_addr host, unsigned route_mtu, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  unsigned eth = 0, lo = 0;
  struct arca_nl_link_change up = { .netns_fd = -1, .up = true };

  if (arca_nl_open_in (netns_fd, &nl, err) < 0 || arca_nl_link_index (nl, ifname, &eth, err) < 0
      || arca_nl_link_index (nl, "lo", &lo, err) < 0)
    return -1;
  if (eth == 0)
    return arca_error_set (err, ENODEV, "%s missing in the container", ifname);
  if (route_mtu == 0)
    {
      if ((lo && arca_nl_link_set (nl, lo, &up, err) < 0)
          || arca_nl_addr_add (nl, eth, addr, subnet->prefix, err) < 0
          || arca_nl_link_set (nl, eth, &up, err) < 0
          || (gateway.s_addr && arca_nl_route_default (nl, gateway, err) < 0))
        return arca_error_wrap (err, "configure %s", ifname);
      return 0;
    }
  struct arca_nl_route on_link = { .dst = subnet->base, .prefix = subnet->prefix, .oif = eth,
                                   .prefsrc = addr, .mtu = route_mtu };
  struct arca_nl_route to_host = { .dst = host, .prefix = 32, .oif = eth, .prefsrc = addr };
  struct arca_nl_route out = { .gateway = gateway, .oif = eth, .mtu = route_mtu };
  if ((lo && arca_nl_link_set (nl, lo, &up, err) < 0)
      || arca_nl_addr_add_noprefixroute (nl, eth, addr, subnet->prefix, err) < 0
      || arca_nl_link_set (nl, eth, &up, err) < 0 || arca_nl_route_add (nl, &on_link, err) < 0
      || (host.s_addr && arca_nl_route_add (nl, &to_host, err) < 0)
      || (gateway.s_addr && arca_nl_route_add (nl, &out, err) < 0))
    return arca_error_wrap (err, "configure %s", ifname);
  return 0;
}

static int
collect_ports (json_t *opts, struct arca_port_spec *ret, size_t *ret_n, arca_error **err);

int
arca_bridge_publish (struct arca_engine *e, const char *id, json_t *opts, const char *table,
                     struct in_addr addr, arca_error **err)
{
  cleanup_free struct arca_port_spec *specs = calloc (MAX_PORTS, sizeof *specs);
  cleanup_free struct arca_nft_port *ports = calloc (MAX_PORTS, sizeof *ports);
  size_t n = 0;

  if (specs == NULL || ports == NULL)
    return arca_error_set (err, ENOMEM, "publish");
  if (arca_portmap_init (e->db->h, err) < 0 || collect_ports (opts, specs, &n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  if (arca_portmap_reserve (e->db->h, id, specs, n, addr, ports, err) < 0
      || arca_nft_ports_add (table, ports, n, err) < 0)
    return -1;
  return 0;
}

int
arca_bridge_unpublish (struct arca_engine *e, const char *id, const char *table, arca_error **err)
{
  cleanup_free struct arca_nft_port *ports = NULL;
  size_t n = 0;

  if (arca_portmap_init (e->db->h, err) < 0 || arca_portmap_list (e->db->h, id, &ports, &n, err) < 0)
    return -1;
  arca_nft_ports_del (table, ports, n, err);
  return arca_portmap_release (e->db->h, id, err);
}

int
arca_bridge_realize (struct arca_engine *e, struct arca_nl *nl, char ret_bridge[16],
                     char ret_table[32], struct arca_subnet *ret_subnet,
                     struct in_addr *ret_gateway, unsigned *ret_index, unsigned *ret_mtu,
                     arca_error **err)
{
  struct net_config cfg;
  struct in_addr gateway;
  unsigned bridge = 0;

  if (ensure_tables (e->db->h, err) < 0 || network_config (e->db->h, &cfg, err) < 0)
    return -1;
  gateway = arca_subnet_host (&cfg.subnet, 1);
  if (arca_bridge_ensure (nl, cfg.bridge, &cfg.subnet, gateway, arca_net_link_mtu (cfg.mtu),
                          &bridge, err) < 0)
    return -1;
  /* The bridge joins the isolation set when its table is set up (once per
   * boot): each nft command costs a ruleset round trip. */
  int built = arca_nft_ensure (cfg.table, cfg.bridge, &cfg.subnet, err);
  if (built < 0 || (built > 0 && arca_nft_isolation_add (cfg.bridge, false, err) < 0))
    return -1;
  memcpy (ret_bridge, cfg.bridge, sizeof cfg.bridge);
  memcpy (ret_table, cfg.table, sizeof cfg.table);
  *ret_subnet = cfg.subnet;
  *ret_gateway = gateway;
  *ret_index = bridge;
  if (ret_mtu)
    *ret_mtu = cfg.mtu;
  return 0;
}

static int
attach (struct arca_engine *e, const char *id, pid_t init_pid, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *opts = NULL;
  cleanup_nl struct arca_nl *nl = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  struct net_config cfg;
  const struct arca_subnet *subnet = &cfg.subnet;
  struct in_addr addr, want = { 0 }, gateway;
  unsigned bridge = 0, host_end = 0;
  char veth[16], path[64];
  unsigned char mac[6];

  if (arca_bridge_options_of (e, id, &opts, err) < 0 || arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  const char *ip = json_string_value (json_object_get (opts, "ip"));
  if (ip && inet_pton (AF_INET, ip, &want) != 1)
    return arca_error_set (err, EINVAL, "--ip `%s`: not an IPv4 address", ip);
  if (arca_nl_open (&nl, err) < 0
      || arca_bridge_realize (e, nl, cfg.bridge, cfg.table, &cfg.subnet, &gateway, &bridge,
                              &cfg.mtu, err) < 0)
    return -1;
  veth_name (id, veth);
  /* The endpoint row comes before the address, so a crash in between leaves
   * a row the crash check finds (keyed by this engine root). */
  struct arca_endpoint ep = { .container = (char *) id, .network = (char *) NETWORK,
                              .root = e->root, .bridge = cfg.bridge, .veth = veth,
                              .ifname = (char *) "eth0" };
  if (arca_endpoint_put (hdb, &ep, err) < 0
      || arca_ipam_allocate (hdb, cfg.bridge, subnet, id, want, &addr, err) < 0)
    return -1;
  ep.address = addr;
  if (arca_endpoint_put (hdb, &ep, err) < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int) init_pid);
  cleanup_close int netns = open (path, O_RDONLY | O_CLOEXEC);
  if (netns < 0)
    return arca_error_errno (err, "open `%s`", path);
  struct arca_nl_link_change to_bridge = { .master = bridge, .netns_fd = -1, .up = true };
  if (arca_bridge_mac (addr, json_string_value (json_object_get (opts, "mac")), mac, err) < 0)
    return -1;
  if (arca_nl_veth_add (nl, veth, "eth0", netns, mac, arca_net_link_mtu (cfg.mtu), err) < 0
      || arca_nl_link_index (nl, veth, &host_end, err) < 0
      || arca_nl_link_set (nl, host_end, &to_bridge, err) < 0
      || arca_nl_bridge_port_hairpin (nl, host_end, err) < 0
      || arca_bridge_configure_inside (netns, "eth0", addr, subnet, gateway, gateway,
                                       arca_net_route_mtu (cfg.mtu), err) < 0)
    return -1;
  if (arca_bridge_publish (e, id, opts, cfg.table, addr, err) < 0)
    return -1;
  return arca_bridge_write_etc (e, id, opts, addr, err);
}

int
arca_bridge_attach (struct arca_engine *e, const char *id, pid_t init_pid, arca_error **err)
{
  /* What an earlier run of this container left after a crash (or before a
   * restart) would hold its address and ports: reclaim it first. */
  cleanup_error arca_error *stale = NULL;
  arca_bridge_detach (e, id, &stale);
  if (attach (e, id, init_pid, err) == 0)
    return 0;
  /* Nothing stays behind a failed attach: detach is keyed by the id only. */
  cleanup_error arca_error *ignored = NULL;
  arca_bridge_detach (e, id, &ignored);
  return arca_error_wrap (err, "network " NETWORK);
}

int
arca_bridge_detach (struct arca_engine *e, const char *id, arca_error **err)
{
  sqlite3 *db = e->db->h;
  cleanup_nl struct arca_nl *nl = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  char veth[16];
  struct net_config cfg;
  int r = 0;

  if (ensure_tables (db, err) < 0 || network_config (db, &cfg, err) < 0)
    return -1;
  /* Every step runs even when one fails, so as much as possible goes. */
  veth_name (id, veth);
  if (arca_nl_open (&nl, err) < 0 || arca_nl_link_del (nl, veth, err) < 0)
    r = -1;
  if (arca_bridge_unpublish (e, id, cfg.table, err) < 0)
    r = -1;
  /* Rows of the engine's own table (before addresses were host-wide). */
  if (arca_ipam_release (db, id, err) < 0)
    r = -1;
  if (arca_net_hostdb_open (&hdb, err) < 0
      || arca_endpoint_forget (hdb, id, NETWORK, cfg.bridge, err) < 0)
    r = -1;
  return r;
}

int
arca_bridge_detach_stale (struct arca_engine *e, const char *id, const char *bridge,
                          const char *veth, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  char table[32];
  int r = 0;

  arca_bridge_table_name (bridge, table);
  if (arca_nl_open (&nl, err) < 0 || arca_nl_link_del (nl, veth, err) < 0)
    r = -1;
  if (arca_bridge_unpublish (e, id, table, err) < 0)
    r = -1;
  if (arca_net_hostdb_open (&hdb, err) < 0
      || arca_endpoint_forget (hdb, id, NETWORK, bridge, err) < 0)
    r = -1;
  return r;
}

int
arca_engine_ports (struct arca_engine *e, const char *name_or_id, struct arca_nft_port **ret,
                   size_t *ret_n, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;

  if (arca_engine_get (e, name_or_id, &c, err) < 0 || ensure_tables (e->db->h, err) < 0)
    return -1;
  return arca_portmap_list (e->db->h, c->id, ret, ret_n, err);
}

int
arca_bridge_address (struct arca_engine *e, const char *id, struct in_addr *ret_addr,
                     arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  struct arca_endpoint *eps = NULL;
  size_t n = 0;

  if (arca_net_hostdb_open (&hdb, err) < 0
      || arca_endpoint_list (hdb, e->root, id, NETWORK, &eps, &n, err) < 0)
    return -1;
  ret_addr->s_addr = n ? eps[0].address.s_addr : 0;
  arca_endpoints_free (eps, n);
  return 0;
}
