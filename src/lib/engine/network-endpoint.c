/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers on user networks: membership (net_members), attaching and
 * detaching endpoints (a veth per network, eth0 or eth1...), connect and
 * disconnect of running containers, and the /etc/hosts lines through which
 * the members of a network find each other by name and alias. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/network-bridge.h"
#include "engine/network-internal.h"
#include "engine/network-user.h"
#include "image/db-internal.h" /* the engine's sqlite handle */
#include "net/hostdb.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "net/portmap.h"
#include "net/sql.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* Marks the /etc/hosts lines of other members, so a refresh replaces them
 * and leaves the rest (localhost, the container's own line, --add-host). */
#define HOSTS_MARK "\t# arca network\n"
#define MAX_IFACES 32

struct member {
  char *network;
  char *aliases; /* JSON array */
  char *ip, *mac;
};

static void
members_free (struct member *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].network);
      free (v[i].aliases);
      free (v[i].ip);
      free (v[i].mac);
    }
  free (v);
}

static char *
dup_column (sqlite3_stmt *st, int i)
{
  const char *s = (const char *) sqlite3_column_text (st, i);
  return s ? strdup (s) : NULL;
}

/* The container's memberships in the order it joined (network NULL: all). */
static int
members_of (sqlite3 *db, const char *id, const char *network, struct member **ret, size_t *ret_n,
            arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  struct member *v = NULL;
  size_t n = 0;

  if (user_net_tables (db, err) < 0
      || arca_net_sql_prepare (db, "SELECT network, aliases, ip, mac FROM net_members"
                                   " WHERE container = ?1 AND (?2 IS NULL OR network = ?2)"
                                   " ORDER BY rowid", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, network, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct member *grown = realloc (v, (n + 1) * sizeof *v);
      if (grown == NULL)
        {
          members_free (v, n);
          return arca_error_set (err, ENOMEM, "members");
        }
      v = grown;
      v[n].network = dup_column (st, 0);
      v[n].aliases = dup_column (st, 1);
      v[n].ip = dup_column (st, 2);
      v[n].mac = dup_column (st, 3);
      if (v[n++].network == NULL)
        {
          members_free (v, n);
          return arca_error_set (err, ENOMEM, "members");
        }
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

int
arca_network_member_add (struct arca_engine *e, const char *id, const char *network,
                         char *const *aliases, const char *ip, const char *mac, arca_error **err)
{
  sqlite3 *db = e->db->h;
  struct user_net n;
  cleanup_sql sqlite3_stmt *st = NULL;
  unsigned char mac_bytes[6];
  struct in_addr want;

  if (user_net_load (e, network, &n, err) < 0)
    return -1;
  if (ip)
    {
      uint32_t h, base = ntohl (n.subnet.base.s_addr);
      if (inet_pton (AF_INET, ip, &want) != 1)
        return arca_error_set (err, EINVAL, "--ip `%s`: not an IPv4 address", ip);
      h = ntohl (want.s_addr);
      if (!arca_subnet_contains (&n.subnet, want) || h == base
          || h == base + (0xffffffffu >> n.subnet.prefix) || want.s_addr == n.gateway.s_addr)
        return arca_error_set (err, EINVAL, "--ip %s: not a host address of network %s", ip,
                               n.name);
    }
  if (mac && arca_bridge_mac (want, mac, mac_bytes, err) < 0)
    return -1;
  json_t *a = json_array ();
  for (size_t i = 0; a && aliases && aliases[i]; i++)
    json_array_append_new (a, json_string (aliases[i]));
  cleanup_free char *alias_text = a ? json_dumps (a, JSON_COMPACT) : NULL;
  json_decref (a);
  if (alias_text == NULL)
    return arca_error_set (err, ENOMEM, "aliases");
  if (arca_net_sql_prepare (db, "INSERT INTO net_members (container, network, aliases, ip, mac)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, n.name, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, alias_text, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, ip, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, mac, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      if ((sqlite3_extended_errcode (db) & 0xff) == SQLITE_CONSTRAINT)
        return arca_error_set (err, EEXIST, "the container is already connected to network %s",
                               n.name);
      return arca_net_sql_fail (db, "join network", err);
    }
  return 0;
}

static int
member_del (sqlite3 *db, const char *id, const char *network, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (user_net_tables (db, err) < 0
      || arca_net_sql_prepare (db, "DELETE FROM net_members WHERE container = ?1"
                                   " AND (?2 IS NULL OR network = ?2)", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, network, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return arca_net_sql_fail (db, "leave network", err);
  return 0;
}

int
arca_network_forget (struct arca_engine *e, const char *id, arca_error **err)
{
  return member_del (e->db->h, id, NULL, err);
}

/* ---- /etc/hosts ------------------------------------------------------- */

static int
lock_hosts (struct arca_engine *e, int *ret_fd, arca_error **err)
{
  cleanup_free char *path = NULL;

  if (asprintf (&path, "%s/network.lock", e->root) < 0)
    return arca_error_set (err, ENOMEM, "lock");
  cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock (fd, LOCK_EX) < 0)
    return arca_error_errno (err, "lock `%s`", path);
  *ret_fd = move_fd (fd);
  return 0;
}

static char *
text_of (sqlite3 *db, const char *sql, const char *a, const char *b)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text (st, 1, a, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, b, -1, SQLITE_STATIC);
  return sqlite3_step (st) == SQLITE_ROW ? dup_column (st, 0) : NULL;
}

void
arca_network_each_peer (struct arca_engine *e, sqlite3 *hdb, const char *id,
                        arca_network_peer_fn fn, void *userdata)
{
  struct arca_endpoint *mine = NULL;
  size_t n_mine = 0;
  cleanup_error arca_error *ignored = NULL;

  if (arca_endpoint_list (hdb, e->root, id, NULL, &mine, &n_mine, &ignored) < 0)
    return;
  for (size_t i = 0; i < n_mine; i++)
    {
      struct arca_endpoint *peers = NULL;
      size_t n_peers = 0;
      if (strcmp (mine[i].network, "bridge") == 0 || mine[i].address.s_addr == 0
          || arca_endpoint_list (hdb, e->root, NULL, mine[i].network, &peers, &n_peers, &ignored) < 0)
        continue;
      for (size_t j = 0; j < n_peers; j++)
        {
          if (strcmp (peers[j].container, id) == 0 || peers[j].address.s_addr == 0)
            continue;
          cleanup_free char *name
              = text_of (e->db->h, "SELECT name FROM containers WHERE id = ?1", peers[j].container, NULL);
          cleanup_free char *aliases
              = text_of (e->db->h, "SELECT aliases FROM net_members WHERE container = ?1 AND network = ?2",
                         peers[j].container, peers[j].network);
          if (name == NULL)
            continue;
          json_t *a = aliases ? json_loads (aliases, 0, NULL) : NULL;
          fn (peers[j].address, name, a, userdata);
          json_decref (a);
        }
      arca_endpoints_free (peers, n_peers);
    }
  arca_endpoints_free (mine, n_mine);
}

/* "ADDR\tNAME ALIAS...\t# arca network\n" */
static void
write_peer_line (struct in_addr address, const char *name, json_t *aliases, void *userdata)
{
  FILE *f = userdata;
  char addr[INET_ADDRSTRLEN];
  json_t *v;
  size_t k;

  inet_ntop (AF_INET, &address, addr, sizeof addr);
  fprintf (f, "%s\t%s", addr, name);
  json_array_foreach (aliases, k, v)
    if (json_string_value (v) && strpbrk (json_string_value (v), " \t\n#") == NULL)
      fprintf (f, " %s", json_string_value (v));
  fputs (HOSTS_MARK, f);
}

static int
rewrite_hosts (struct arca_engine *e, sqlite3 *hdb, const char *id, arca_error **err)
{
  cleanup_free char *path = NULL, *old = NULL, *text = NULL;
  size_t len = 0;

  if (arca_engine_container_dir (e, id, "etc/hosts", &path, err) < 0)
    return -1;
  /* The file is bind-mounted into the container: written in place (a
   * rename would leave the mount on the old inode). */
  cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : arca_error_errno (err, "open `%s`", path);
  if (arca_read_file_at (AT_FDCWD, path, 1 << 20, &old, NULL, err) < 0)
    return -1;
  FILE *f = open_memstream (&text, &len);
  if (f == NULL)
    return arca_error_set (err, ENOMEM, "hosts");
  for (char *line = old, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      next = next ? next + 1 : line + strlen (line);
      size_t n = (size_t) (next - line), m = strlen (HOSTS_MARK);
      if (!(n >= m && memcmp (next - m, HOSTS_MARK, m) == 0))
        fwrite (line, 1, n, f);
    }
  arca_network_each_peer (e, hdb, id, write_peer_line, f);
  fclose (f);
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "hosts");
  /* Overwrite, then cut: a reader never sees an empty file. */
  if (pwrite (fd, text, len, 0) != (ssize_t) len || ftruncate (fd, (off_t) len) < 0)
    return arca_error_errno (err, "write `%s`", path);
  return 0;
}

/* Rewrites the hosts of every container attached to one of networks (and of
 * also, when set), serialized by the engine root's network lock. */
static int
refresh_hosts (struct arca_engine *e, sqlite3 *hdb, char *const *networks, size_t n_networks,
               const char *also, arca_error **err)
{
  cleanup_close int lock = -1;
  int r = 0;

  if (lock_hosts (e, &lock, err) < 0)
    return -1;
  if (also && rewrite_hosts (e, hdb, also, err) < 0)
    r = -1;
  for (size_t i = 0; i < n_networks; i++)
    {
      struct arca_endpoint *eps = NULL;
      size_t n = 0;
      if (arca_endpoint_list (hdb, e->root, NULL, networks[i], &eps, &n, err) < 0)
        return -1;
      for (size_t j = 0; j < n; j++)
        if ((also == NULL || strcmp (eps[j].container, also) != 0)
            && rewrite_hosts (e, hdb, eps[j].container, err) < 0)
          r = -1;
      arca_endpoints_free (eps, n);
    }
  return r;
}

/* ---- endpoints -------------------------------------------------------- */

static void
user_veth_name (const char *id, unsigned index, char ret[16])
{
  snprintf (ret, 16, "vu%.9s%u", id, index % 1000);
}

static int
detach_endpoint (sqlite3 *hdb, const struct arca_endpoint *ep, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  int r = 0;

  if (arca_nl_open (&nl, err) < 0 || arca_nl_link_del (nl, ep->veth, err) < 0)
    r = -1;
  if (arca_endpoint_forget (hdb, ep->container, ep->network, ep->bridge, err) < 0)
    r = -1;
  return r;
}

/* The lowest ethN not present in the namespace. */
static int
free_ifname (int netns, unsigned *ret, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;

  if (arca_nl_open_in (netns, &nl, err) < 0)
    return -1;
  for (unsigned i = 0; i < MAX_IFACES; i++)
    {
      char name[16];
      unsigned index = 0;
      snprintf (name, sizeof name, "eth%u", i);
      if (arca_nl_link_index (nl, name, &index, err) < 0)
        return -1;
      if (index == 0)
        {
          *ret = i;
          return 0;
        }
    }
  return arca_error_set (err, ENOSPC, "more than %d interfaces", MAX_IFACES);
}

static int
attach_endpoint (struct arca_engine *e, sqlite3 *hdb, const char *id, int netns,
                 const struct user_net *n, const struct member *m, unsigned eth, bool default_route,
                 struct in_addr *ret_addr, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  char veth[16], ifname[16], mac_text[18];
  unsigned char mac[6];
  unsigned bridge = 0, host_end = 0;
  struct in_addr want = { 0 }, addr;

  snprintf (ifname, sizeof ifname, "eth%u", eth);
  user_veth_name (id, eth, veth);
  if (m->ip && inet_pton (AF_INET, m->ip, &want) != 1)
    return arca_error_set (err, EINVAL, "--ip `%s`: not an IPv4 address", m->ip);
  if (user_net_realize (n, err) < 0 || arca_nl_open (&nl, err) < 0
      || arca_nl_link_index (nl, n->bridge, &bridge, err) < 0)
    return -1;
  struct arca_endpoint ep = { .container = (char *) id, .network = (char *) n->name,
                              .root = e->root, .bridge = (char *) n->bridge, .veth = veth,
                              .ifname = ifname, .mac = mac_text };
  mac_text[0] = '\0';
  if (arca_endpoint_put (hdb, &ep, err) < 0
      || arca_ipam_allocate (hdb, n->bridge, &n->subnet, id, want, &addr, err) < 0
      || arca_bridge_mac (addr, m->mac, mac, err) < 0)
    return -1;
  snprintf (mac_text, sizeof mac_text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
            mac[3], mac[4], mac[5]);
  ep.address = addr;
  struct arca_nl_link_change to_bridge = { .master = bridge, .netns_fd = -1, .up = true };
  struct in_addr gateway = { 0 };
  if (default_route && !n->internal)
    gateway = n->gateway;
  if (arca_endpoint_put (hdb, &ep, err) < 0
      || arca_nl_veth_add (nl, veth, ifname, netns, mac, arca_net_link_mtu (n->mtu), err) < 0
      || arca_nl_link_index (nl, veth, &host_end, err) < 0
      || arca_nl_link_set (nl, host_end, &to_bridge, err) < 0
      || arca_nl_bridge_port_hairpin (nl, host_end, err) < 0
      || arca_bridge_configure_inside (netns, ifname, addr, &n->subnet, gateway, n->gateway,
                                       arca_net_route_mtu (n->mtu), err) < 0)
    return arca_error_wrap (err, "network %s", n->name);
  *ret_addr = addr;
  return 0;
}

static int
open_netns (pid_t pid, int *ret, arca_error **err)
{
  char path[64];

  snprintf (path, sizeof path, "/proc/%d/ns/net", (int) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  *ret = fd;
  return 0;
}

/* Detaches the container's user network endpoints (network NULL: all);
 * their network names go to *ret_networks when asked. */
static int
detach_user (struct arca_engine *e, sqlite3 *hdb, const char *id, const char *network,
             char ***ret_networks, size_t *ret_n, arca_error **err)
{
  struct arca_endpoint *eps = NULL;
  size_t n = 0, k = 0;
  int r = 0;

  if (arca_endpoint_list (hdb, e->root, id, network, &eps, &n, err) < 0)
    return -1;
  char **names = calloc (n + 1, sizeof *names);
  for (size_t i = 0; i < n; i++)
    {
      if (strcmp (eps[i].network, "bridge") == 0)
        continue;
      if (detach_endpoint (hdb, &eps[i], err) < 0)
        r = -1;
      if (names)
        names[k++] = move_ptr (eps[i].network);
    }
  arca_endpoints_free (eps, n);
  if (ret_networks)
    {
      *ret_networks = names;
      *ret_n = k;
    }
  else
    arca_strv_free (names);
  return r;
}

static int
publish_primary (struct arca_engine *e, const char *id, const struct user_net *n,
                 struct in_addr addr, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *opts = NULL;

  if (arca_bridge_options_of (e, id, &opts, err) < 0)
    return -1;
  if (n->internal && (json_array_size (json_object_get (opts, "publish"))
                      || json_array_size (json_object_get (opts, "publishAll"))))
    return arca_error_set (err, EINVAL, "network %s is internal: ports cannot be published", n->name);
  if (!n->internal && arca_bridge_publish (e, id, opts, n->table, addr, err) < 0)
    return -1;
  return arca_bridge_write_etc (e, id, opts, addr, err);
}

static int
unpublish_primary (struct arca_engine *e, const char *id, arca_error **err)
{
  struct member *m = NULL;
  size_t n = 0;
  struct user_net net;
  int r = 0;

  if (members_of (e->db->h, id, NULL, &m, &n, err) < 0)
    return -1;
  cleanup_error arca_error *gone = NULL;
  if (n > 0 && user_net_load (e, m[0].network, &net, &gone) == 0)
    r = arca_bridge_unpublish (e, id, net.table, err);
  members_free (m, n);
  return r;
}

int
arca_user_networks_detach (struct arca_engine *e, const char *id, bool primary, arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  cleanup_strv char **networks = NULL;
  size_t n = 0;
  int r = 0;

  if (arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  if (primary && unpublish_primary (e, id, err) < 0)
    r = -1;
  if (detach_user (e, hdb, id, NULL, &networks, &n, err) < 0)
    r = -1;
  if (n && refresh_hosts (e, hdb, networks, n, NULL, err) < 0)
    r = -1;
  return r;
}

static int
attach_all (struct arca_engine *e, sqlite3 *hdb, const char *id, pid_t init_pid, bool primary,
            char ***ret_networks, size_t *ret_n, arca_error **err)
{
  struct member *m = NULL;
  size_t n = 0;
  cleanup_close int netns = -1;
  int r = 0;

  if (members_of (e->db->h, id, NULL, &m, &n, err) < 0)
    return -1;
  char **names = calloc (n + 1, sizeof *names);
  if (names == NULL)
    {
      members_free (m, n);
      return arca_error_set (err, ENOMEM, "networks");
    }
  *ret_networks = names;
  *ret_n = 0;
  if (n && open_netns (init_pid, &netns, err) < 0)
    r = -1;
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      struct user_net net;
      struct in_addr addr;
      bool first = primary && i == 0;
      if (user_net_load (e, m[i].network, &net, err) < 0
          || attach_endpoint (e, hdb, id, netns, &net, &m[i], primary ? i : i + 1, first, &addr,
                              err) < 0
          || (first && publish_primary (e, id, &net, addr, err) < 0))
        r = -1;
      else
        names[(*ret_n)++] = move_ptr (m[i].network);
    }
  members_free (m, n);
  return r;
}

int
arca_user_networks_attach (struct arca_engine *e, const char *id, pid_t init_pid, bool primary,
                           arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  cleanup_strv char **networks = NULL;
  size_t n = 0;

  if (arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  /* What an earlier run left after a crash holds addresses: it goes first. */
  {
    cleanup_error arca_error *stale = NULL;
    arca_user_networks_detach (e, id, primary, &stale);
  }
  if (attach_all (e, hdb, id, init_pid, primary, &networks, &n, err) < 0)
    {
      cleanup_error arca_error *ignored = NULL;
      arca_user_networks_detach (e, id, primary, &ignored);
      return -1;
    }
  return refresh_hosts (e, hdb, networks, n, id, err);
}

int
arca_network_refresh_names (struct arca_engine *e, const char *id, arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  struct arca_endpoint *eps = NULL;
  size_t n = 0, k = 0;

  if (arca_net_hostdb_open (&hdb, err) < 0
      || arca_endpoint_list (hdb, e->root, id, NULL, &eps, &n, err) < 0)
    return -1;
  cleanup_strv char **networks = calloc (n + 1, sizeof *networks);
  for (size_t i = 0; networks && i < n; i++)
    if (strcmp (eps[i].network, "bridge") != 0)
      networks[k++] = move_ptr (eps[i].network);
  arca_endpoints_free (eps, n);
  if (networks == NULL)
    return arca_error_set (err, ENOMEM, "networks");
  /* Not attached to a user network (stopped, or the default bridge only):
   * nobody's /etc/hosts names it. */
  if (k == 0)
    return 0;
  return refresh_hosts (e, hdb, networks, k, id, err);
}

/* ---- connect / disconnect --------------------------------------------- */

static int
network_mode (struct arca_engine *e, const char *id, char **ret, arca_error **err)
{
  cleanup_free char *opts_text
      = text_of (e->db->h, "SELECT options FROM containers WHERE id = ?1", id, NULL);
  _cleanup_ (json_decrefp) json_t *opts = opts_text ? json_loads (opts_text, 0, NULL) : NULL;
  const char *mode = json_string_value (json_object_get (opts, "network"));

  if (mode == NULL || (*ret = strdup (mode)) == NULL)
    return arca_error_set (err, EINVAL, "container %s: no network mode", id);
  return 0;
}

int
arca_network_connect (struct arca_engine *e, const char *network, const char *container,
                      char *const *aliases, const char *ip, const char *mac, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  cleanup_free char *mode = NULL;
  struct user_net n;
  struct member *m = NULL;
  size_t n_m = 0;

  if (arca_engine_get (e, container, &c, err) < 0 || user_net_load (e, network, &n, err) < 0
      || network_mode (e, c->id, &mode, err) < 0)
    return -1;
  if (strcmp (mode, "bridge") != 0 && strcmp (mode, "user") != 0)
    return arca_error_set (err, EINVAL,
                           "container %s uses network mode %s: only bridged containers can join "
                           "a network", c->name, mode);
  if (arca_network_member_add (e, c->id, n.name, aliases, ip, mac, err) < 0)
    return arca_error_wrap (err, "connect %s to %s", c->name, n.name);
  if (c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED)
    return 0; /* attached at its next start */
  cleanup_close int netns = -1;
  unsigned eth = 0;
  struct in_addr addr;
  int r = -1;
  if (arca_net_hostdb_open (&hdb, err) == 0 && open_netns (c->pid, &netns, err) == 0
      && free_ifname (netns, &eth, err) == 0
      && members_of (e->db->h, c->id, n.name, &m, &n_m, err) == 0 && n_m == 1)
    r = attach_endpoint (e, hdb, c->id, netns, &n, &m[0], eth, false, &addr, err);
  members_free (m, n_m);
  if (r < 0)
    {
      cleanup_error arca_error *ignored = NULL;
      if (hdb)
        detach_user (e, hdb, c->id, n.name, NULL, NULL, &ignored);
      member_del (e->db->h, c->id, n.name, &ignored);
      return arca_error_wrap (err, "connect %s to %s", c->name, n.name);
    }
  char *names[] = { n.name, NULL };
  return refresh_hosts (e, hdb, names, 1, c->id, err);
}

int
arca_network_disconnect (struct arca_engine *e, const char *network, const char *container,
                         arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  struct user_net n;
  struct member *m = NULL;
  size_t n_m = 0;

  if (arca_engine_get (e, container, &c, err) < 0 || user_net_load (e, network, &n, err) < 0
      || members_of (e->db->h, c->id, n.name, &m, &n_m, err) < 0)
    return -1;
  members_free (m, n_m);
  if (n_m == 0)
    return arca_error_set (err, ENOENT, "container %s is not connected to network %s", c->name,
                           n.name);
  if (arca_net_hostdb_open (&hdb, err) < 0
      || detach_user (e, hdb, c->id, n.name, NULL, NULL, err) < 0
      || member_del (e->db->h, c->id, n.name, err) < 0)
    return -1;
  char *names[] = { n.name, NULL };
  return refresh_hosts (e, hdb, names, 1, c->id, err);
}
