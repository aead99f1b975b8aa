/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Crash reclaim: what containers of this engine root left on the host when
 * their monitor died before detaching (kill -9, power loss of the engine
 * process, a crash between two steps).  Everything is found from the
 * endpoint rows, which attach writes before it creates anything, and from
 * the links on the engine's bridges. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/network-bridge.h"
#include "engine/network-internal.h"
#include "engine/network-user.h"
#include "engine/vm-net.h"
#include "image/db-internal.h" /* the engine's sqlite handle */
#include "net/hostdb.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "net/portmap.h"
#include "net/sql.h"
#include "util/cleanup.h"

struct reclaim {
  struct arca_engine *e;
  sqlite3 *hdb;
  bool fix;
  arca_network_report_fn report;
  void *userdata;
  int found;
};

static void
found (struct reclaim *r, const char *kind, const char *what)
{
  r->found++;
  if (r->report)
    r->report (r->userdata, kind, what);
}

/* Gone (no row) or stopped: its network must not stay.  A created one may
 * be starting right now (attach runs before it is "running"): left alone. */
static bool
is_dead (struct arca_engine *e, const char *id, bool *ret_exists)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_error arca_error *gone = NULL;

  *ret_exists = arca_engine_get (e, id, &c, &gone) == 0 && strcmp (c->id, id) == 0;
  return !*ret_exists || c->status == ARCA_ENGINE_EXITED;
}

static int
reclaim_endpoints (struct reclaim *r, arca_error **err)
{
  struct arca_endpoint *eps = NULL;
  size_t n = 0;

  if (arca_endpoint_list (r->hdb, r->e->root, NULL, NULL, &eps, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      bool exists = false;
      cleanup_free char *what = NULL;
      cleanup_error arca_error *ignored = NULL;
      /* A `run --vm` tap lives as long as its run holds its lock. */
      bool vm = arca_vm_net_is_tap (eps[i].veth);
      if (vm ? arca_vm_run_alive (r->e, eps[i].container) : !is_dead (r->e, eps[i].container, &exists))
        continue;
      if (asprintf (&what, "%s %.12s%s on network %s (%s)", vm ? "run --vm" : "container",
                    eps[i].container, vm ? " (ended)" : exists ? " (stopped)" : " (removed)",
                    eps[i].network, eps[i].veth) < 0)
        what = NULL;
      found (r, "endpoint", what ? what : eps[i].container);
      if (!r->fix)
        continue;
      if (vm)
        arca_vm_net_route_forget (eps[i].bridge, eps[i].address, &ignored);
      arca_error_freep (&ignored);
      if (strcmp (eps[i].network, "bridge") == 0)
        arca_bridge_detach_stale (r->e, eps[i].container, eps[i].bridge, eps[i].veth, &ignored);
      else
        {
          cleanup_nl struct arca_nl *nl = NULL;
          char table[32];
          arca_bridge_table_name (eps[i].bridge, table);
          if (arca_nl_open (&nl, &ignored) == 0)
            arca_nl_link_del (nl, eps[i].veth, &ignored);
          arca_bridge_unpublish (r->e, eps[i].container, table, &ignored);
          arca_endpoint_forget (r->hdb, eps[i].container, eps[i].network, eps[i].bridge, &ignored);
        }
    }
  arca_endpoints_free (eps, n);
  return 0;
}

/* Is there an endpoint row (of any engine root) for this veth? */
static bool
veth_known (sqlite3 *hdb, const char *veth)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (hdb, "SELECT 1 FROM net_endpoints WHERE veth = ?1", -1, &st, NULL)
      != SQLITE_OK)
    return true; /* when in doubt, keep it */
  sqlite3_bind_text (st, 1, veth, -1, SQLITE_STATIC);
  return sqlite3_step (st) == SQLITE_ROW;
}

/* Links on the engine's bridges that no endpoint row accounts for. */
static int
reclaim_veths (struct reclaim *r, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (r->e->db->h, "SELECT bridge FROM net_networks", &st, err) < 0)
    return -1;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      const char *bridge = (const char *) sqlite3_column_text (st, 0);
      cleanup_free char *dir_path = NULL;
      if (bridge == NULL || !arca_bridge_name_valid (bridge)
          || asprintf (&dir_path, "/sys/class/net/%s/brif", bridge) < 0)
        continue;
      cleanup_dir DIR *dir = opendir (dir_path);
      for (struct dirent *de; dir && (de = readdir (dir));)
        {
          if (de->d_name[0] == '.'
              || (strncmp (de->d_name, "veth", 4) != 0 && strncmp (de->d_name, "vu", 2) != 0
                  && !arca_vm_net_is_tap (de->d_name))
              || veth_known (r->hdb, de->d_name))
            continue;
          cleanup_free char *what = NULL;
          if (asprintf (&what, "%s on bridge %s", de->d_name, bridge) < 0)
            what = NULL;
          found (r, "veth", what ? what : de->d_name);
          if (r->fix)
            {
              cleanup_nl struct arca_nl *nl = NULL;
              cleanup_error arca_error *ignored = NULL;
              if (arca_nl_open (&nl, &ignored) == 0)
                arca_nl_link_del (nl, de->d_name, &ignored);
            }
        }
    }
  return 0;
}

/* Rows of containers that no longer exist: published ports (with their
 * nft entries in every table of the engine's networks), memberships and
 * addresses of the engine's own table from before addresses were host-wide. */
static int
reclaim_rows (struct reclaim *r, arca_error **err)
{
  sqlite3 *db = r->e->db->h;
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_portmap_init (db, err) < 0 || arca_ipam_init (db, err) < 0
      || arca_net_sql_prepare (db,
                               "SELECT container FROM net_ports UNION SELECT container FROM"
                               " net_members UNION SELECT container FROM net_ipam"
                               " EXCEPT SELECT id FROM containers",
                               &st, err) < 0)
    return -1;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      cleanup_free char *id = strdup ((const char *) sqlite3_column_text (st, 0));
      cleanup_free char *what = NULL;
      if (id == NULL)
        return arca_error_set (err, ENOMEM, "reclaim");
      /* A live `run --vm` has port rows and no container row. */
      if (arca_vm_run_alive (r->e, id))
        continue;
      if (asprintf (&what, "rows of removed container %.12s", id) < 0)
        what = NULL;
      found (r, "rows", what ? what : id);
      if (!r->fix)
        continue;
      cleanup_sql sqlite3_stmt *tables = NULL;
      cleanup_error arca_error *ignored = NULL;
      if (sqlite3_prepare_v2 (db, "SELECT bridge FROM net_networks", -1, &tables, NULL) == SQLITE_OK)
        while (sqlite3_step (tables) == SQLITE_ROW)
          {
            char table[32];
            cleanup_free struct arca_nft_port *ports = NULL;
            size_t n = 0;
            arca_bridge_table_name ((const char *) sqlite3_column_text (tables, 0), table);
            if (arca_portmap_list (db, id, &ports, &n, &ignored) == 0)
              arca_nft_ports_del (table, ports, n, &ignored);
          }
      arca_portmap_release (db, id, &ignored);
      arca_ipam_release (db, id, &ignored);
      arca_network_forget (r->e, id, &ignored);
    }
  return 0;
}

int
arca_network_reclaim (struct arca_engine *e, bool fix, arca_network_report_fn report,
                      void *userdata, arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  struct reclaim r = { .e = e, .fix = fix, .report = report, .userdata = userdata };

  if (user_net_tables (e->db->h, err) < 0 || arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  r.hdb = hdb;
  if (reclaim_endpoints (&r, err) < 0 || reclaim_rows (&r, err) < 0 || reclaim_veths (&r, err) < 0)
    return -1;
  return r.found;
}
