/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by db.c and db-query.c only. */
#ifndef ARCA_IMAGE_DB_INTERNAL_H
#define ARCA_IMAGE_DB_INTERNAL_H

#include <sqlite3.h>

#include "db.h"

struct arca_db
{
  sqlite3 *h;
  char *path;
};

static inline void
arca_db_stmt_finalizep (sqlite3_stmt **st)
{
  sqlite3_finalize (*st); /* NULL is a no-op */
}
#define cleanup_stmt __attribute__ ((cleanup (arca_db_stmt_finalizep)))

/* Sets *err from the connection's last error; returns -1. */
int arca_db_fail (arca_db *db, arca_error **err, const char *what);
/* Prepares sql or fails naming it. */
int arca_db_prepare (arca_db *db, const char *sql, sqlite3_stmt **ret_st, arca_error **err);
/* Binds NULL-terminated text parameters 1..n. */
int arca_db_bind_texts (arca_db *db, sqlite3_stmt *st, const char *const *values, arca_error **err);
/* Runs one statement with text parameters to completion. */
int arca_db_exec (arca_db *db, const char *sql, const char *const *values, arca_error **err);
/* Collects column 0 of every row as a NULL-terminated string vector. */
int arca_db_strings (arca_db *db, const char *sql, const char *const *values, char ***ret,
                     arca_error **err);

#endif
