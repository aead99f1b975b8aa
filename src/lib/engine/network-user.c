/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* User networks: create, remove, prune, inspect and list. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/network-bridge.h"
#include "engine/network-internal.h"
#include "engine/network-user.h"
#include "image/db-internal.h" /* the engine's sqlite handle */
#include "net/bridge.h"
#include "net/hostdb.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "net/pool.h"
#include "net/sql.h"
#include "util/cleanup.h"
#include "util/strv.h"

static int
has_column (sqlite3 *db, const char *column)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM pragma_table_info('net_networks') WHERE name = ?1",
                          -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_text (st, 1, column, -1, SQLITE_STATIC);
  return sqlite3_step (st) == SQLITE_ROW;
}

int
user_net_tables (sqlite3 *db, arca_error **err)
{
  static const char *const columns[][2] = {
    { "id", "ALTER TABLE net_networks ADD COLUMN id TEXT NOT NULL DEFAULT ''" },
    { "gateway", "ALTER TABLE net_networks ADD COLUMN gateway TEXT NOT NULL DEFAULT ''" },
    { "internal", "ALTER TABLE net_networks ADD COLUMN internal INTEGER NOT NULL DEFAULT 0" },
    { "created", "ALTER TABLE net_networks ADD COLUMN created INTEGER NOT NULL DEFAULT 0" },
    { "mtu", "ALTER TABLE net_networks ADD COLUMN mtu INTEGER NOT NULL DEFAULT 0" },
  };

  if (arca_net_sql_exec (db,
                         "CREATE TABLE IF NOT EXISTS net_networks ("
                         " name TEXT PRIMARY KEY, bridge TEXT NOT NULL, subnet TEXT NOT NULL)",
                         err) < 0
      || arca_net_sql_exec (db,
                            "CREATE TABLE IF NOT EXISTS net_members ("
                            " container TEXT NOT NULL, network TEXT NOT NULL,"
                            " aliases TEXT NOT NULL DEFAULT '[]', ip TEXT, mac TEXT,"
                            " PRIMARY KEY (container, network))",
                            err) < 0)
    return -1;
  /* Databases from before user networks get the columns; a concurrent
   * engine adding the same one first is fine. */
  for (size_t i = 0; i < ARRAY_SIZE (columns); i++)
    if (!has_column (db, columns[i][0]) && sqlite3_exec (db, columns[i][1], NULL, NULL, NULL) != SQLITE_OK
        && !has_column (db, columns[i][0]))
      return arca_net_sql_fail (db, columns[i][1], err);
  return 0;
}

int
arca_network_mtu_parse (const char *text, const char *what, unsigned *ret, arca_error **err)
{
  char *end = NULL;

  errno = 0;
  unsigned long v = strtoul (text, &end, 10);
  if (*text < '0' || *text > '9' || *end != '\0' || errno != 0 || v < 576 || v > 65535)
    return arca_error_set (err, EINVAL, "%s `%s`: an MTU from 576 to 65535", what, text);
  *ret = (unsigned) v;
  return 0;
}

static bool
is_builtin (const char *name)
{
  return strcmp (name, "bridge") == 0 || strcmp (name, "host") == 0 || strcmp (name, "none") == 0;
}

static int
row_to_net (sqlite3_stmt *st, struct user_net *n, arca_error **err)
{
  const char *name = (const char *) sqlite3_column_text (st, 0);
  const char *bridge = (const char *) sqlite3_column_text (st, 1);
  const char *subnet = (const char *) sqlite3_column_text (st, 2);
  const char *id = (const char *) sqlite3_column_text (st, 3);
  const char *gw = (const char *) sqlite3_column_text (st, 4);

  memset (n, 0, sizeof *n);
  if (!name || !bridge || !arca_bridge_name_valid (bridge) || !id || !gw)
    return arca_error_set (err, EINVAL, "network %s: corrupt row", name ? name : "?");
  snprintf (n->name, sizeof n->name, "%s", name);
  snprintf (n->id, sizeof n->id, "%s", id);
  snprintf (n->bridge, sizeof n->bridge, "%s", bridge);
  arca_bridge_table_name (bridge, n->table);
  if (arca_subnet_parse (subnet ? subnet : "", &n->subnet, err) < 0)
    return arca_error_wrap (err, "network %s", name);
  if (*gw == '\0')
    n->gateway = arca_subnet_host (&n->subnet, 1);
  else if (inet_pton (AF_INET, gw, &n->gateway) != 1)
    return arca_error_set (err, EINVAL, "network %s: corrupt gateway", name);
  n->internal = sqlite3_column_int (st, 5) != 0;
  n->created = sqlite3_column_int64 (st, 6);
  int mtu = sqlite3_column_int (st, 7);
  n->mtu = mtu > 0 && mtu <= 65535 ? (unsigned) mtu : 0;
  return 0;
}

#define NET_COLUMNS "name, bridge, subnet, id, gateway, internal, created, mtu"

int
user_net_load (struct arca_engine *e, const char *name_or_id, struct user_net *ret,
               arca_error **err)
{
  sqlite3 *db = e->db->h;
  cleanup_sql sqlite3_stmt *st = NULL;

  if (user_net_tables (db, err) < 0
      || arca_net_sql_prepare (db,
                               "SELECT " NET_COLUMNS " FROM net_networks WHERE id != '' AND"
                               " (name = ?1 OR (length(?1) >= 3 AND substr(id, 1, length(?1)) = ?1))"
                               " ORDER BY name = ?1 DESC",
                               &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, name_or_id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_ROW)
    return arca_error_set (err, ENOENT, "network %s not found", name_or_id);
  return row_to_net (st, ret, err);
}

int
user_net_realize (const struct user_net *n, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  unsigned index = 0;

  /* A bridge that exists was realized by create or an earlier attach: the
   * bridge and the rules both go only with a reboot (or network rm), and
   * every nft command costs a ruleset round trip. */
  if (arca_nl_open (&nl, err) < 0 || arca_nl_link_index (nl, n->bridge, &index, err) < 0)
    return -1;
  if (index)
    return 0;
  if (arca_bridge_ensure (nl, n->bridge, &n->subnet, n->gateway, arca_net_link_mtu (n->mtu), &index, err) < 0
      || arca_nft_isolation_add (n->bridge, n->internal, err) < 0)
    return -1;
  /* An internal network gets no NAT table: nothing leaves it, nothing is
   * published into it. */
  if (!n->internal && arca_nft_ensure (n->table, n->bridge, &n->subnet, err) < 0)
    return -1;
  return 0;
}

/* Undoes user_net_realize and the gateway's address; every step runs. */
static int
unrealize (const struct user_net *n, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  int r = 0;

  if (arca_nl_open (&nl, err) < 0 || arca_nl_link_del (nl, n->bridge, err) < 0)
    r = -1;
  if (arca_nft_table_del (n->table, err) < 0 || arca_nft_isolation_del (n->bridge, err) < 0)
    r = -1;
  if (arca_net_hostdb_open (&hdb, err) < 0
      || arca_endpoint_forget (hdb, GATEWAY_HOLDER, GATEWAY_HOLDER, n->bridge, err) < 0)
    r = -1;
  return r;
}

static int
valid_network_name (const char *name, arca_error **err)
{
  size_t len = strlen (name);

  if (len == 0 || len > 128
      || strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len
      || name[0] == '.' || name[0] == '-' || name[0] == '_')
    return arca_error_set (err, EINVAL, "invalid network name `%s`: use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                           name);
  if (is_builtin (name))
    return arca_error_set (err, EEXIST, "network name `%s` is reserved", name);
  return 0;
}

/* Subnets in use: the engine's networks and the host's routes. */
static int
taken_subnets (sqlite3 *db, struct arca_subnet **ret, size_t *ret_n, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  cleanup_free struct arca_subnet *v = NULL;
  size_t n = 0;

  if (arca_net_host_routes (NULL, &v, &n, err) < 0
      || arca_net_sql_prepare (db, "SELECT subnet FROM net_networks", &st, err) < 0)
    return -1;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct arca_subnet s;
      cleanup_error arca_error *bad = NULL;
      if (arca_subnet_parse ((const char *) sqlite3_column_text (st, 0), &s, &bad) < 0)
        continue;
      struct arca_subnet *grown = realloc (v, (n + 1) * sizeof *v);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "subnets");
      v = grown;
      v[n++] = s;
    }
  *ret = move_ptr (v);
  *ret_n = n;
  return 0;
}

static void
subnet_text (const struct arca_subnet *s, char ret[INET_ADDRSTRLEN + 4])
{
  char a[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &s->base, a, sizeof a);
  snprintf (ret, INET_ADDRSTRLEN + 4, "%s/%u", a, s->prefix);
}

static int
choose_subnet (sqlite3 *db, const char *requested, struct arca_subnet *ret, arca_error **err)
{
  cleanup_free struct arca_subnet *taken = NULL;
  size_t n = 0;

  if (taken_subnets (db, &taken, &n, err) < 0)
    return -1;
  if (requested)
    {
      if (arca_subnet_parse (requested, ret, err) < 0)
        return arca_error_wrap (err, "--subnet");
      for (size_t i = 0; i < n; i++)
        if (arca_subnet_overlap (ret, &taken[i]))
          {
            char t[INET_ADDRSTRLEN + 4];
            subnet_text (&taken[i], t);
            return arca_error_set (err, EEXIST,
                                   "--subnet %s overlaps %s, a network or route in use", requested, t);
          }
      return 0;
    }
  const char *pool_text = getenv ("ARCA_NETWORK_POOL");
  struct arca_subnet pool;
  if (pool_text == NULL || *pool_text == '\0')
    pool_text = ARCA_NETWORK_POOL;
  if (arca_subnet_parse (pool_text, &pool, err) < 0)
    return arca_error_wrap (err, "ARCA_NETWORK_POOL");
  return arca_net_pool_pick (&pool, pool.prefix > 24 ? pool.prefix : 24, taken, n, ret, err);
}

static int
new_id (char ret[65], arca_error **err)
{
  unsigned char b[32];

  if (getrandom (b, sizeof b, 0) != (ssize_t) sizeof b)
    return arca_error_errno (err, "getrandom");
  for (size_t i = 0; i < sizeof b; i++)
    snprintf (ret + 2 * i, 3, "%02x", b[i]);
  return 0;
}

struct create_undo {
  const struct user_net *net;
  sqlite3 *db;
  bool row, realized, done;
};

static void
create_undo (struct create_undo *u)
{
  cleanup_error arca_error *ignored = NULL;
  if (u->done)
    return;
  if (u->realized)
    unrealize (u->net, &ignored);
  if (u->row)
    {
      cleanup_sql sqlite3_stmt *st = NULL;
      if (sqlite3_prepare_v2 (u->db, "DELETE FROM net_networks WHERE name = ?1", -1, &st, NULL)
          == SQLITE_OK)
        {
          sqlite3_bind_text (st, 1, u->net->name, -1, SQLITE_STATIC);
          sqlite3_step (st);
        }
    }
}

static int
check_bridge_free (sqlite3 *db, const char *bridge, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  cleanup_nl struct arca_nl *nl = NULL;
  unsigned index = 0;

  if (!arca_bridge_name_valid (bridge))
    return arca_error_set (err, EINVAL, "bridge name `%s`: 1-15 of a-z 0-9 - _", bridge);
  if (arca_net_sql_prepare (db, "SELECT name FROM net_networks WHERE bridge = ?1", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, bridge, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    return arca_error_set (err, EEXIST, "bridge `%s` is used by network %s", bridge,
                           (const char *) sqlite3_column_text (st, 0));
  if (arca_nl_open (&nl, err) < 0 || arca_nl_link_index (nl, bridge, &index, err) < 0)
    return -1;
  if (index)
    return arca_error_set (err, EEXIST, "a link named `%s` already exists on the host", bridge);
  return 0;
}

int
arca_network_create (struct arca_engine *e, const char *name,
                     const struct arca_network_create_options *o, char **ret_id, arca_error **err)
{
  sqlite3 *db = e->db->h;
  struct user_net n = { .internal = o->internal, .created = (long long) time (NULL), .mtu = o->mtu };
  _cleanup_ (create_undo) struct create_undo undo = { .net = &n, .db = db };
  cleanup_sql_tx sqlite3 *tx = NULL;
  cleanup_sql sqlite3_stmt *st = NULL;
  char subnet[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN];

  if (valid_network_name (name, err) < 0)
    return -1;
  if (o->driver && strcmp (o->driver, "bridge") != 0)
    return arca_error_set (err, ENOTSUP, "--driver %s: only bridge is supported", o->driver);
  if (o->mtu && (o->mtu < 576 || o->mtu > 65535))
    return arca_error_set (err, EINVAL, "mtu %u: an MTU from 576 to 65535", o->mtu);
  if (user_net_tables (db, err) < 0 || new_id (n.id, err) < 0)
    return -1;
  snprintf (n.name, sizeof n.name, "%s", name);
  if (o->bridge)
    snprintf (n.bridge, sizeof n.bridge, "%.15s", o->bridge);
  else
    snprintf (n.bridge, sizeof n.bridge, "arca-%.10s", n.id);
  if (o->bridge && strcmp (o->bridge, n.bridge) != 0)
    return arca_error_set (err, EINVAL, "bridge name `%s`: at most 15 characters", o->bridge);
  arca_bridge_table_name (n.bridge, n.table);
  /* One writer at a time picks a subnet and claims the name. */
  if (arca_net_sql_begin (db, &tx, err) < 0)
    return -1;
  if (arca_net_sql_prepare (db, "SELECT 1 FROM net_networks WHERE name = ?1", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    return arca_error_set (err, EEXIST, "network with name %s already exists", name);
  sqlite3_finalize (move_ptr (st));
  if (check_bridge_free (db, n.bridge, err) < 0 || choose_subnet (db, o->subnet, &n.subnet, err) < 0)
    return -1;
  n.gateway = arca_subnet_host (&n.subnet, 1);
  if (o->gateway)
    {
      uint32_t h, base = ntohl (n.subnet.base.s_addr);
      if (inet_pton (AF_INET, o->gateway, &n.gateway) != 1)
        return arca_error_set (err, EINVAL, "--gateway `%s`: not an IPv4 address", o->gateway);
      h = ntohl (n.gateway.s_addr);
      if (!arca_subnet_contains (&n.subnet, n.gateway) || h == base
          || h == base + (0xffffffffu >> n.subnet.prefix))
        return arca_error_set (err, EINVAL, "--gateway %s: not a host address of the subnet",
                               o->gateway);
    }
  subnet_text (&n.subnet, subnet);
  inet_ntop (AF_INET, &n.gateway, gw, sizeof gw);
  if (arca_net_sql_prepare (db,
                            "INSERT INTO net_networks (" NET_COLUMNS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                            &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, n.name, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, n.bridge, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, subnet, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, n.id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, gw, -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 6, n.internal);
  sqlite3_bind_int64 (st, 7, n.created);
  sqlite3_bind_int (st, 8, (int) n.mtu);
  if (sqlite3_step (st) != SQLITE_DONE)
    return arca_net_sql_fail (db, "create network", err);
  if (arca_net_sql_commit (&tx, err) < 0)
    return -1;
  undo.row = undo.realized = true;
  if (n.gateway.s_addr != arca_subnet_host (&n.subnet, 1).s_addr)
    {
      /* IPAM hands out from .2 up: a gateway elsewhere is held by a row. */
      cleanup_hostdb sqlite3 *hdb = NULL;
      struct in_addr got;
      if (arca_net_hostdb_open (&hdb, err) < 0
          || arca_ipam_allocate (hdb, n.bridge, &n.subnet, GATEWAY_HOLDER, n.gateway, &got, err) < 0)
        return -1;
    }
  if (user_net_realize (&n, err) < 0)
    return arca_error_wrap (err, "network %s", name);
  if (ret_id && (*ret_id = strdup (n.id)) == NULL)
    return arca_error_set (err, ENOMEM, "network");
  undo.done = true;
  return 0;
}

/* Names of the containers that belong to the network (NULL-terminated). */
static int
member_names (sqlite3 *db, const char *network, char ***ret, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  cleanup_strv char **v = calloc (1, sizeof *v);
  size_t n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "members");
  if (arca_net_sql_prepare (db,
                            "SELECT coalesce(c.name, m.container) FROM net_members m LEFT JOIN"
                            " containers c ON c.id = m.container WHERE m.network = ?1 ORDER BY 1",
                            &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, network, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      if (arca_strv_append (&v, &n, (const char *) sqlite3_column_text (st, 0)) < 0)
        return arca_error_errno (err, "members");
    }
  *ret = move_ptr (v);
  return 0;
}

static int
remove_net (struct arca_engine *e, const struct user_net *n, arca_error **err)
{
  sqlite3 *db = e->db->h;
  cleanup_sql_tx sqlite3 *tx = NULL;
  cleanup_sql sqlite3_stmt *st = NULL;
  cleanup_strv char **members = NULL;

  /* The check and the row's removal in one transaction: a container cannot
   * join between them (member_add inserts under the same lock). */
  if (arca_net_sql_begin (db, &tx, err) < 0 || member_names (db, n->name, &members, err) < 0)
    return -1;
  if (members[0])
    {
      cleanup_free char *list = NULL;
      size_t len = 0;
      FILE *f = open_memstream (&list, &len);
      for (size_t i = 0; f && members[i]; i++)
        fprintf (f, "%s%s", i ? ", " : "", members[i]);
      if (f)
        fclose (f);
      return arca_error_set (err, EBUSY, "network %s is in use by container(s) %s: disconnect "
                                         "or remove them first", n->name, list ? list : "?");
    }
  if (arca_net_sql_prepare (db, "DELETE FROM net_networks WHERE name = ?1", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, n->name, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return arca_net_sql_fail (db, "remove network", err);
  if (arca_net_sql_commit (&tx, err) < 0)
    return -1;
  return unrealize (n, err) < 0 ? arca_error_wrap (err, "network %s", n->name) : 0;
}

int
arca_network_remove (struct arca_engine *e, const char *name, arca_error **err)
{
  struct user_net n;

  if (is_builtin (name))
    return arca_error_set (err, EPERM, "%s is a pre-defined network and cannot be removed", name);
  if (user_net_load (e, name, &n, err) < 0)
    return -1;
  return remove_net (e, &n, err);
}

static int
all_networks (sqlite3 *db, struct user_net **ret, size_t *ret_n, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  cleanup_free struct user_net *v = NULL;
  size_t n = 0;

  if (user_net_tables (db, err) < 0
      || arca_net_sql_prepare (db, "SELECT " NET_COLUMNS " FROM net_networks WHERE id != ''"
                                   " ORDER BY name", &st, err) < 0)
    return -1;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct user_net *grown = realloc (v, (n + 1) * sizeof *v);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "networks");
      v = grown;
      if (row_to_net (st, &v[n], err) < 0)
        return -1;
      n++;
    }
  *ret = move_ptr (v);
  *ret_n = n;
  return 0;
}

int
arca_network_prune (struct arca_engine *e, char ***ret_removed, arca_error **err)
{
  cleanup_free struct user_net *v = NULL;
  cleanup_strv char **removed = calloc (1, sizeof *removed);
  size_t n = 0, k = 0;

  if (removed == NULL)
    return arca_error_set (err, ENOMEM, "prune");
  if (all_networks (e->db->h, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_error arca_error *busy = NULL;
      if (remove_net (e, &v[i], &busy) < 0)
        {
          if (busy->errnum == EBUSY)
            continue;
          return arca_error_set (err, busy->errnum, "%s", busy->msg);
        }
      if (arca_strv_append (&removed, &k, v[i].name) < 0)
        return arca_error_errno (err, "prune");
    }
  *ret_removed = move_ptr (removed);
  return 0;
}

static json_t *
net_json (struct arca_engine *e, sqlite3 *hdb, const struct user_net *n)
{
  char subnet[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN], created[64];
  struct arca_endpoint *eps = NULL;
  size_t n_eps = 0;
  cleanup_error arca_error *ignored = NULL;
  time_t t = (time_t) n->created;
  struct tm tm;

  subnet_text (&n->subnet, subnet);
  inet_ntop (AF_INET, &n->gateway, gw, sizeof gw);
  gmtime_r (&t, &tm);
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *containers = json_object ();
  if (hdb && arca_endpoint_list (hdb, e->root, NULL, n->name, &eps, &n_eps, &ignored) == 0)
    for (size_t i = 0; i < n_eps && containers; i++)
      {
        _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
        cleanup_error arca_error *gone = NULL;
        char a[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 4];
        inet_ntop (AF_INET, &eps[i].address, a, sizeof a);
        snprintf (addr, sizeof addr, "%s/%u", a, n->subnet.prefix);
        arca_engine_get (e, eps[i].container, &c, &gone);
        json_object_set_new (containers, eps[i].container,
                             json_pack ("{s:s, s:s, s:s, s:s}", "Name", c ? c->name : "",
                                        "IPv4Address", addr, "MacAddress", eps[i].mac,
                                        "Interface", eps[i].ifname));
      }
  arca_endpoints_free (eps, n_eps);
  /* Docker's option names, so scripts reading them work unchanged. */
  char mtu[16];
  snprintf (mtu, sizeof mtu, "%u", n->mtu ? n->mtu : 1500);
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:[{s:s, s:s}]}, s:b, s:o, s:{s:s, s:s}}",
                    "Name", n->name, "Id", n->id, "Created", created, "Scope", "local", "Driver",
                    "bridge", "EnableIPv6", 0, "IPAM", "Driver", "default", "Config", "Subnet",
                    subnet, "Gateway", gw, "Internal", n->internal, "Containers",
                    containers ? containers : json_object (), "Options",
                    "com.docker.network.bridge.name", n->bridge, "com.docker.network.driver.mtu", mtu);
}

int
user_net_inspect (struct arca_engine *e, sqlite3 *hdb, const char *name, json_t **ret,
                  arca_error **err)
{
  struct user_net n;

  if (user_net_load (e, name, &n, err) < 0)
    return -1;
  *ret = net_json (e, hdb, &n);
  return *ret ? 0 : arca_error_set (err, ENOMEM, "network %s", name);
}

int
user_net_list (struct arca_engine *e, sqlite3 *hdb, json_t *list, arca_error **err)
{
  cleanup_free struct user_net *v = NULL;
  size_t n = 0;

  if (all_networks (e->db->h, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (json_array_append_new (list, net_json (e, hdb, &v[i])) < 0)
      return arca_error_set (err, ENOMEM, "networks");
  return 0;
}
