/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small SQLite helpers for the net concern's tables (IPAM, port maps), which
 * live in the engine's database handle passed in by the caller. */
#ifndef ARCA_NET_SQL_H
#define ARCA_NET_SQL_H

#include <sqlite3.h>

#include "util/error.h"

int arca_net_sql_exec (sqlite3 *db, const char *sql, arca_error **err);
int arca_net_sql_prepare (sqlite3 *db, const char *sql, sqlite3_stmt **ret, arca_error **err);
/* Sets *err from the connection's last error; returns -1. */
int arca_net_sql_fail (sqlite3 *db, const char *what, arca_error **err);

/* BEGIN IMMEDIATE (the write lock at once, so concurrent allocations queue on
 * the busy timeout instead of failing at COMMIT); *ret_tx rolls back when it
 * goes out of scope unless arca_net_sql_commit() cleared it. */
int arca_net_sql_begin (sqlite3 *db, sqlite3 **ret_tx, arca_error **err);
int arca_net_sql_commit (sqlite3 **tx, arca_error **err);
void arca_net_sql_rollbackp (sqlite3 **tx);
#define cleanup_sql_tx __attribute__ ((cleanup (arca_net_sql_rollbackp)))

static inline void
arca_net_sql_finalizep (sqlite3_stmt **st)
{
  sqlite3_finalize (*st);
}
#define cleanup_sql __attribute__ ((cleanup (arca_net_sql_finalizep)))

#endif
