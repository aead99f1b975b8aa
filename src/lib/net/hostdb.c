/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/hostdb.h"
#include "net/ipam.h"
#include "net/sql.h"
#include "util/cleanup.h"
#include "util/fs.h"

void
arca_net_hostdb_closep (sqlite3 **db)
{
  if (*db)
    sqlite3_close (*db);
}

int
arca_net_hostdb_open (sqlite3 **ret, arca_error **err)
{
  const char *dir = getenv ("ARCA_NET_STATE_DIR");
  cleanup_free char *path = NULL;
  cleanup_hostdb sqlite3 *db = NULL;

  if (dir == NULL || *dir == '\0')
    dir = ARCA_NET_STATE_DIR;
  if (arca_mkdir_p (dir, 0700, err) < 0)
    return -1;
  if (asprintf (&path, "%s/net.db", dir) < 0)
    return arca_error_set (err, ENOMEM, "network database");
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    return arca_error_set (err, EIO, "open `%s`: %s", path, db ? sqlite3_errmsg (db) : "no memory");
  sqlite3_busy_timeout (db, 30000);
  if (arca_net_sql_exec (db, "PRAGMA journal_mode = WAL", err) < 0 || arca_ipam_init (db, err) < 0
      || arca_net_sql_exec (db,
                            "CREATE TABLE IF NOT EXISTS net_endpoints ("
                            " container TEXT NOT NULL, network TEXT NOT NULL,"
                            " root TEXT NOT NULL, bridge TEXT NOT NULL, veth TEXT NOT NULL,"
                            " ifname TEXT NOT NULL, mac TEXT NOT NULL DEFAULT '',"
                            " address INTEGER NOT NULL DEFAULT 0,"
                            " PRIMARY KEY (container, network))",
                            err) < 0)
    return arca_error_wrap (err, "network database `%s`", path);
  *ret = move_ptr (db);
  return 0;
}

void
arca_endpoints_free (struct arca_endpoint *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].container);
      free (v[i].network);
      free (v[i].root);
      free (v[i].bridge);
      free (v[i].veth);
      free (v[i].ifname);
      free (v[i].mac);
    }
  free (v);
}

int
arca_endpoint_put (sqlite3 *db, const struct arca_endpoint *ep, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (db,
                            "INSERT OR REPLACE INTO net_endpoints (container, network, root,"
                            " bridge, veth, ifname, mac, address) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                            &st, err) < 0)
    return -1;
  const char *v[] = { ep->container, ep->network, ep->root, ep->bridge,
                      ep->veth,      ep->ifname,  ep->mac ? ep->mac : "" };
  for (int i = 0; i < 7; i++)
    sqlite3_bind_text (st, i + 1, v[i], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 8, ntohl (ep->address.s_addr));
  if (sqlite3_step (st) != SQLITE_DONE)
    return arca_net_sql_fail (db, "record endpoint", err);
  return 0;
}

static char *
column (sqlite3_stmt *st, int i)
{
  const char *s = (const char *) sqlite3_column_text (st, i);
  return strdup (s ? s : "");
}

int
arca_endpoint_list (sqlite3 *db, const char *root, const char *container, const char *network,
                    struct arca_endpoint **ret, size_t *ret_n, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  struct arca_endpoint *v = NULL;
  size_t n = 0;

  if (arca_net_sql_prepare (db,
                            "SELECT container, network, root, bridge, veth, ifname, mac, address"
                            " FROM net_endpoints WHERE (?1 IS NULL OR root = ?1)"
                            " AND (?2 IS NULL OR container = ?2) AND (?3 IS NULL OR network = ?3)"
                            " ORDER BY network, address",
                            &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, root, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, container, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, network, -1, SQLITE_STATIC);
  int r;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      struct arca_endpoint *grown = realloc (v, (n + 1) * sizeof *v);
      if (grown == NULL)
        {
          arca_endpoints_free (v, n);
          return arca_error_set (err, ENOMEM, "endpoints");
        }
      v = grown;
      struct arca_endpoint *ep = &v[n++];
      ep->container = column (st, 0);
      ep->network = column (st, 1);
      ep->root = column (st, 2);
      ep->bridge = column (st, 3);
      ep->veth = column (st, 4);
      ep->ifname = column (st, 5);
      ep->mac = column (st, 6);
      ep->address.s_addr = htonl ((uint32_t) sqlite3_column_int64 (st, 7));
      if (!ep->container || !ep->network || !ep->root || !ep->bridge || !ep->veth || !ep->ifname
          || !ep->mac)
        {
          arca_endpoints_free (v, n);
          return arca_error_set (err, ENOMEM, "endpoints");
        }
    }
  if (r != SQLITE_DONE)
    {
      arca_endpoints_free (v, n);
      return arca_net_sql_fail (db, "list endpoints", err);
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

int
arca_endpoint_forget (sqlite3 *db, const char *container, const char *network, const char *bridge,
                      arca_error **err)
{
  cleanup_sql sqlite3_stmt *a = NULL, *b = NULL;

  /* The address goes first: an endpoint row without an address is harmless,
   * an address without its row would only be found by the crash check. */
  if (arca_net_sql_prepare (db, "DELETE FROM net_ipam WHERE container = ?1 AND network = ?2", &a,
                            err) < 0
      || arca_net_sql_prepare (db, "DELETE FROM net_endpoints WHERE container = ?1 AND network = ?2",
                               &b, err) < 0)
    return -1;
  sqlite3_bind_text (a, 1, container, -1, SQLITE_STATIC);
  sqlite3_bind_text (a, 2, bridge, -1, SQLITE_STATIC);
  sqlite3_bind_text (b, 1, container, -1, SQLITE_STATIC);
  sqlite3_bind_text (b, 2, network, -1, SQLITE_STATIC);
  if (sqlite3_step (a) != SQLITE_DONE || sqlite3_step (b) != SQLITE_DONE)
    return arca_net_sql_fail (db, "release endpoint", err);
  return 0;
}
