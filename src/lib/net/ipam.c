/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"
#include "net/sql.h"
#include "util/cleanup.h"

int
arca_subnet_parse (const char *text, struct arca_subnet *ret, arca_error **err)
{
  char addr[INET_ADDRSTRLEN];
  const char *slash = strchr (text, '/');
  char *end;

  if (slash == NULL || (size_t) (slash - text) >= sizeof addr)
    return arca_error_set (err, EINVAL, "subnet `%s`: expected A.B.C.D/N", text);
  memcpy (addr, text, (size_t) (slash - text));
  addr[slash - text] = '\0';
  unsigned long prefix = strtoul (slash + 1, &end, 10);
  struct in_addr a;
  if (*end || end == slash + 1 || prefix < 8 || prefix > 30 || inet_pton (AF_INET, addr, &a) != 1)
    return arca_error_set (err, EINVAL, "subnet `%s`: expected A.B.C.D/N with N in 8..30", text);
  uint32_t mask = 0xffffffffu << (32 - prefix);
  if (ntohl (a.s_addr) & ~mask)
    return arca_error_set (err, EINVAL, "subnet `%s`: host bits are set", text);
  ret->base = a;
  ret->prefix = (unsigned) prefix;
  return 0;
}

struct in_addr
arca_subnet_host (const struct arca_subnet *s, uint32_t n)
{
  return (struct in_addr){ .s_addr = htonl (ntohl (s->base.s_addr) + n) };
}

int
arca_subnet_contains (const struct arca_subnet *s, struct in_addr a)
{
  uint32_t mask = 0xffffffffu << (32 - s->prefix);
  return (ntohl (a.s_addr) & mask) == ntohl (s->base.s_addr);
}

int
arca_ipam_init (sqlite3 *db, arca_error **err)
{
  return arca_net_sql_exec (db,
                            "CREATE TABLE IF NOT EXISTS net_ipam ("
                            " network TEXT NOT NULL, address INTEGER NOT NULL,"
                            " container TEXT NOT NULL, PRIMARY KEY (network, address))",
                            err);
}

static int
pick (sqlite3 *db, const char *network, const struct arca_subnet *subnet, uint32_t *ret,
      arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  uint32_t first = ntohl (subnet->base.s_addr) + 2;
  uint32_t last = ntohl (subnet->base.s_addr) + (0xffffffffu >> subnet->prefix) - 1;
  uint32_t want = first;

  if (arca_net_sql_prepare (db,
                            "SELECT address FROM net_ipam WHERE network = ?1 AND address >= ?2 "
                            "ORDER BY address", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, network, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, first);
  /* Rows come in order: the first gap is the lowest free address. */
  while (sqlite3_step (st) == SQLITE_ROW && want <= last)
    {
      uint32_t used = (uint32_t) sqlite3_column_int64 (st, 0);
      if (used > want)
        break;
      if (used == want)
        want++;
    }
  if (want > last)
    return arca_error_set (err, ENOSPC, "network %s: no free address", network);
  *ret = want;
  return 0;
}

int
arca_ipam_allocate (sqlite3 *db, const char *network, const struct arca_subnet *subnet,
                    const char *container, struct in_addr requested, struct in_addr *ret_addr,
                    arca_error **err)
{
  cleanup_sql_tx sqlite3 *tx = NULL;
  cleanup_sql sqlite3_stmt *st = NULL;
  uint32_t addr = 0;

  if (requested.s_addr != 0)
    {
      uint32_t h = ntohl (requested.s_addr), base = ntohl (subnet->base.s_addr);
      if (!arca_subnet_contains (subnet, requested) || h <= base + 1
          || h >= base + (0xffffffffu >> subnet->prefix))
        return arca_error_set (err, EINVAL, "--ip %s: not a free host address of network %s",
                               inet_ntoa (requested), network);
    }
  if (arca_net_sql_begin (db, &tx, err) < 0)
    return -1;
  if (requested.s_addr != 0)
    addr = ntohl (requested.s_addr);
  else if (pick (db, network, subnet, &addr, err) < 0)
    return -1;
  if (arca_net_sql_prepare (db, "INSERT INTO net_ipam (network, address, container) "
                                "VALUES (?1, ?2, ?3)", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, network, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, addr);
  sqlite3_bind_text (st, 3, container, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      struct in_addr a = { .s_addr = htonl (addr) };
      if ((sqlite3_extended_errcode (db) & 0xff) == SQLITE_CONSTRAINT)
        return arca_error_set (err, EEXIST, "address %s is already in use on network %s",
                               inet_ntoa (a), network);
      return arca_net_sql_fail (db, "allocate address", err);
    }
  if (arca_net_sql_commit (&tx, err) < 0)
    return -1;
  ret_addr->s_addr = htonl (addr);
  return 0;
}

int
arca_ipam_lookup (sqlite3 *db, const char *network, const char *container,
                  struct in_addr *ret_addr, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (db, "SELECT address FROM net_ipam WHERE network = ?1 AND container = ?2",
                            &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, network, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, container, -1, SQLITE_STATIC);
  ret_addr->s_addr = sqlite3_step (st) == SQLITE_ROW
                         ? htonl ((uint32_t) sqlite3_column_int64 (st, 0)) : 0;
  return 0;
}

int
arca_ipam_release (sqlite3 *db, const char *container, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (db, "DELETE FROM net_ipam WHERE container = ?1", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, container, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return arca_net_sql_fail (db, "release addresses", err);
  return 0;
}
