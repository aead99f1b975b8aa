/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "net/sql.h"

int
arca_net_sql_fail (sqlite3 *db, const char *what, arca_error **err)
{
  int code = sqlite3_extended_errcode (db) & 0xff;
  int errnum = code == SQLITE_BUSY || code == SQLITE_LOCKED ? EBUSY
               : code == SQLITE_CONSTRAINT                 ? EEXIST
               : code == SQLITE_FULL                       ? ENOSPC
                                                           : EIO;
  return arca_error_set (err, errnum, "database: %s: %s", what, sqlite3_errmsg (db));
}

int
arca_net_sql_exec (sqlite3 *db, const char *sql, arca_error **err)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return arca_net_sql_fail (db, sql, err);
  return 0;
}

int
arca_net_sql_prepare (sqlite3 *db, const char *sql, sqlite3_stmt **ret, arca_error **err)
{
  if (sqlite3_prepare_v2 (db, sql, -1, ret, NULL) != SQLITE_OK)
    return arca_net_sql_fail (db, "prepare statement", err);
  return 0;
}

int
arca_net_sql_begin (sqlite3 *db, sqlite3 **ret_tx, arca_error **err)
{
  if (arca_net_sql_exec (db, "BEGIN IMMEDIATE", err) < 0)
    return -1;
  *ret_tx = db;
  return 0;
}

int
arca_net_sql_commit (sqlite3 **tx, arca_error **err)
{
  if (arca_net_sql_exec (*tx, "COMMIT", err) < 0)
    return -1;
  *tx = NULL;
  return 0;
}

void
arca_net_sql_rollbackp (sqlite3 **tx)
{
  if (*tx)
    sqlite3_exec (*tx, "ROLLBACK", NULL, NULL, NULL);
}
