/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pre-defined networks `bridge`, `host` and `none` as `network ls` and
 * `network inspect` show them: Docker-shaped objects for the network modes
 * of the same names (network.h), which have no row of their own among the
 * user networks.  Their ids are derived from the engine root, so they stay
 * the same across calls. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/network-bridge.h"
#include "engine/network-internal.h"
#include "engine/network-user.h"
#include "image/db-internal.h" /* the engine's sqlite handle */
#include "image/digest.h"
#include "net/hostdb.h"
#include "net/sql.h"
#include "util/cleanup.h"

static const struct
{
  const char *name, *driver;
} builtins[] = {
  { "bridge", "bridge" },
  { "host", "host" },
  { "none", "null" },
};

static int
builtin_id (struct arca_engine *e, const char *name, char ret[65], arca_error **err)
{
  cleanup_free char *seed = NULL;
  char digest[ARCA_DIGEST_LEN + 1];

  if (asprintf (&seed, "arca network %s %s", e->root, name) < 0)
    return arca_error_set (err, ENOMEM, "network %s", name);
  if (arca_digest_buffer (seed, strlen (seed), digest, err) < 0)
    return -1;
  snprintf (ret, 65, "%s", arca_digest_hex (digest));
  return 0;
}

static int
builtin_net_find (struct arca_engine *e, const char *name_or_id, const char **ret_name,
                  arca_error **err)
{
  size_t len = strlen (name_or_id);

  for (size_t i = 0; i < ARRAY_SIZE (builtins); i++)
    {
      char id[65];
      if (strcmp (name_or_id, builtins[i].name) == 0)
        {
          *ret_name = builtins[i].name;
          return 1;
        }
      if (len < 3 || len > 64)
        continue;
      if (builtin_id (e, builtins[i].name, id, err) < 0)
        return -1;
      if (strncmp (id, name_or_id, len) == 0)
        {
          *ret_name = builtins[i].name;
          return 1;
        }
    }
  return 0;
}

/* The default bridge's name and subnet: its row, kept from its first use;
 * before that, what the first use will choose (network-bridge.c), without
 * fixing the choice yet. */
static int
default_bridge (struct arca_engine *e, char ret_bridge[16], struct arca_subnet *ret_subnet,
                arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  const char *bridge = getenv ("ARCA_BRIDGE_NAME"), *subnet = getenv ("ARCA_BRIDGE_SUBNET");

  if (user_net_tables (e->db->h, err) < 0
      || arca_net_sql_prepare (e->db->h, "SELECT bridge, subnet FROM net_networks"
                                         " WHERE name = 'bridge' AND id = ''", &st, err) < 0)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      bridge = (const char *) sqlite3_column_text (st, 0);
      subnet = (const char *) sqlite3_column_text (st, 1);
    }
  else
    {
      if (bridge == NULL || *bridge == '\0')
        bridge = ARCA_BRIDGE_NAME;
      if (subnet == NULL || *subnet == '\0')
        subnet = ARCA_BRIDGE_SUBNET;
    }
  if (bridge == NULL || !arca_bridge_name_valid (bridge))
    return arca_error_set (err, EINVAL, "bad bridge name `%s`", bridge ? bridge : "");
  snprintf (ret_bridge, 16, "%s", bridge);
  return arca_subnet_parse (subnet ? subnet : "", ret_subnet, err);
}

/* The network mode a container was created with ("bridge", "user", "host",
 * "none", "container"); NULL when it has none. */
static char *
mode_of (sqlite3 *db, const char *id)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT json_extract(options, '$.network') FROM containers"
                              " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_ROW || sqlite3_column_text (st, 0) == NULL)
    return NULL;
  return strdup ((const char *) sqlite3_column_text (st, 0));
}

/* Running containers of a mode without addresses (host, none), as Docker
 * lists them: no address, no MAC. */
static int
mode_containers (struct arca_engine *e, const char *mode, json_t *containers, arca_error **err)
{
  struct arca_engine_container **all = NULL;

  if (arca_engine_list (e, &all, err) < 0)
    return -1;
  for (size_t i = 0; all[i]; i++)
    {
      if (all[i]->status != ARCA_ENGINE_RUNNING && all[i]->status != ARCA_ENGINE_PAUSED)
        continue;
      cleanup_free char *m = mode_of (e->db->h, all[i]->id);
      if (m && strcmp (m, mode) == 0)
        json_object_set_new (containers, all[i]->id,
                             json_pack ("{s:s, s:s, s:s, s:s}", "Name", all[i]->name, "MacAddress",
                                        "", "IPv4Address", "", "IPv6Address", ""));
    }
  arca_engine_containers_free (all);
  return 0;
}

/* The containers attached to the default bridge right now. */
static int
bridge_containers (struct arca_engine *e, sqlite3 *hdb, unsigned prefix, json_t *containers,
                   arca_error **err)
{
  struct arca_endpoint *eps = NULL;
  size_t n = 0;

  if (arca_endpoint_list (hdb, e->root, NULL, "bridge", &eps, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
      cleanup_error arca_error *gone = NULL;
      char a[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 4];
      if (eps[i].address.s_addr == 0 || arca_engine_get (e, eps[i].container, &c, &gone) < 0)
        continue;
      inet_ntop (AF_INET, &eps[i].address, a, sizeof a);
      snprintf (addr, sizeof addr, "%s/%u", a, prefix);
      /* The default bridge's rows keep no MAC: it is --mac-address or
       * derived from the address, as attach chose it. */
      _cleanup_ (json_decrefp) json_t *opts = NULL;
      unsigned char m[6];
      char mac[18] = "";
      if (arca_bridge_options_of (e, c->id, &opts, &gone) == 0
          && arca_bridge_mac (eps[i].address, json_string_value (json_object_get (opts, "mac")), m,
                              &gone) == 0)
        snprintf (mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
      json_object_set_new (containers, eps[i].container,
                           json_pack ("{s:s, s:s, s:s, s:s}", "Name", c->name, "MacAddress",
                                      eps[i].mac && *eps[i].mac ? eps[i].mac : mac, "IPv4Address",
                                      addr, "IPv6Address", ""));
    }
  arca_endpoints_free (eps, n);
  return 0;
}

static int
builtin_net_json (struct arca_engine *e, sqlite3 *hdb, const char *name, json_t **ret,
                  arca_error **err)
{
  size_t i = 0;
  char id[65], created[64];
  struct stat st;
  struct tm tm;

  while (i < ARRAY_SIZE (builtins) && strcmp (builtins[i].name, name) != 0)
    i++;
  if (i == ARRAY_SIZE (builtins))
    return arca_error_set (err, ENOENT, "network %s not found", name);
  if (builtin_id (e, name, id, err) < 0)
    return -1;
  /* Docker shows when the daemon made them; here the engine root is the
   * nearest thing. */
  time_t t = stat (e->root, &st) == 0 ? st.st_ctim.tv_sec : 0;
  gmtime_r (&t, &tm);
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);

  _cleanup_ (json_decrefp) json_t *containers = json_object ();
  _cleanup_ (json_decrefp) json_t *config = json_array ();
  _cleanup_ (json_decrefp) json_t *options = json_object ();
  if (containers == NULL || config == NULL || options == NULL)
    return arca_error_set (err, ENOMEM, "network %s", name);
  if (strcmp (name, "bridge") == 0)
    {
      char bridge[16], subnet[INET_ADDRSTRLEN + 4], a[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
      struct arca_subnet s;
      struct in_addr gateway;
      if (default_bridge (e, bridge, &s, err) < 0
          || bridge_containers (e, hdb, s.prefix, containers, err) < 0)
        return arca_error_wrap (err, "network bridge");
      gateway = arca_subnet_host (&s, 1);
      inet_ntop (AF_INET, &s.base, a, sizeof a);
      snprintf (subnet, sizeof subnet, "%s/%u", a, s.prefix);
      inet_ntop (AF_INET, &gateway, gw, sizeof gw);
      json_array_append_new (config, json_pack ("{s:s, s:s}", "Subnet", subnet, "Gateway", gw));
      json_object_set_new (options, "com.docker.network.bridge.default_bridge", json_string ("true"));
      json_object_set_new (options, "com.docker.network.bridge.enable_ip_masquerade",
                           json_string ("true"));
      json_object_set_new (options, "com.docker.network.bridge.name", json_string (bridge));
    }
  else if (mode_containers (e, name, containers, err) < 0)
    return arca_error_wrap (err, "network %s", name);
  *ret = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:O}, s:b, s:b, s:b, s:O, s:O,"
                    " s:{}}",
                    "Name", name, "Id", id, "Created", created, "Scope", "local", "Driver",
                    builtins[i].driver, "EnableIPv6", 0, "IPAM", "Driver", "default", "Options",
                    "Config", config, "Internal", 0, "Attachable", 0, "Ingress", 0, "Containers",
                    containers, "Options", options, "Labels");
  return *ret ? 0 : arca_error_set (err, ENOMEM, "network %s", name);
}

int
arca_network_inspect (struct arca_engine *e, const char *name, json_t **ret, arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  cleanup_error arca_error *missing = NULL;
  const char *builtin = NULL;

  if (arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  /* A user network's name or id first: a prefix of a built-in's id may
   * also start a user network's, and no user network takes a built-in's
   * name. */
  if (user_net_inspect (e, hdb, name, ret, &missing) == 0)
    return 0;
  if (missing->errnum != ENOENT)
    return arca_error_set (err, missing->errnum, "%s", missing->msg);
  int found = builtin_net_find (e, name, &builtin, err);
  if (found < 0)
    return -1;
  if (found == 0)
    return arca_error_set (err, ENOENT, "%s", missing->msg);
  return builtin_net_json (e, hdb, builtin, ret, err);
}

static int
by_name (const void *a, const void *b)
{
  const char *x = json_string_value (json_object_get (*(json_t *const *) a, "Name"));
  const char *y = json_string_value (json_object_get (*(json_t *const *) b, "Name"));
  return strcmp (x ? x : "", y ? y : "");
}

int
arca_network_list (struct arca_engine *e, json_t **ret, arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  _cleanup_ (json_decrefp) json_t *all = json_array ();

  if (all == NULL)
    return arca_error_set (err, ENOMEM, "networks");
  if (arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  /* The pre-defined ones too, as Docker lists them; all by name. */
  for (size_t i = 0; i < ARRAY_SIZE (builtins); i++)
    {
      json_t *one = NULL;
      if (builtin_net_json (e, hdb, builtins[i].name, &one, err) < 0)
        return -1;
      json_array_append_new (all, one);
    }
  if (user_net_list (e, hdb, all, err) < 0)
    return -1;
  size_t count = json_array_size (all);
  cleanup_free json_t **sorted = calloc (count + 1, sizeof *sorted);
  if (sorted == NULL)
    return arca_error_set (err, ENOMEM, "networks");
  for (size_t i = 0; i < count; i++)
    sorted[i] = json_array_get (all, i);
  qsort (sorted, count, sizeof *sorted, by_name);
  json_t *out = json_array ();
  for (size_t i = 0; out && i < count; i++)
    json_array_append (out, sorted[i]);
  if (out == NULL)
    return arca_error_set (err, ENOMEM, "networks");
  *ret = out;
  return 0;
}
