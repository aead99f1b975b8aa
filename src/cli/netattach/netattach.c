/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The slice of the engine that a network attach uses: the container's row
 * in arca.db and its directory.  arca_engine_open() is not used because it
 * opens the image store as well, and its object file pulls in image import
 * (libarchive, libcrypto, libcurl and their ~40 dependencies). */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/network.h"
#include "image/db-internal.h"
#include "net/sql.h"
#include "netattach.h"
#include "util/cleanup.h"

/* ---- what network-bridge.c links against, normally in containers.c ---- */

int
arca_engine_container_dir (struct arca_engine *e, const char *id, const char *file, char **ret,
                           arca_error **err)
{
  /* The layout of engine/engine.h: <root>/containers/<id>/<file>. */
  int r = file ? asprintf (ret, "%s/containers/%s/%s", e->root, id, file)
               : asprintf (ret, "%s/containers/%s", e->root, id);
  return r < 0 ? arca_error_set (err, ENOMEM, "path") : 0;
}

/* Only `arca port` looks containers up by name; attach has the id. */
int
arca_engine_get (struct arca_engine *e, const char *name_or_id, struct arca_engine_container **ret,
                 arca_error **err)
{
  return arca_error_set (err, ENOTSUP, "container lookup by name (`%s`) is not part of arca-netattach",
                         name_or_id);
}

void
arca_engine_container_freep (struct arca_engine_container **c)
{
  if (*c == NULL)
    return;
  free ((*c)->name);
  free ((*c)->image_id);
  free ((*c)->image);
  free ((*c)->command);
  free ((*c)->stop_signal);
  free (*c);
  *c = NULL;
}

/* ---- the attach -------------------------------------------------------- */

static void
db_closep (struct arca_db **db)
{
  if (*db == NULL)
    return;
  sqlite3_close_v2 ((*db)->h);
  free ((*db)->path);
  free (*db);
  *db = NULL;
}

static int
db_open (const char *root, struct arca_db **ret, arca_error **err)
{
  _cleanup_ (db_closep) struct arca_db *db = calloc (1, sizeof *db);

  if (db == NULL || asprintf (&db->path, "%s/arca.db", root) < 0)
    return arca_error_set (err, ENOMEM, "database path");
  /* No SQLITE_OPEN_CREATE: the engine made the database with the
   * container's row; journal mode WAL is a property of the file. */
  if (sqlite3_open_v2 (db->path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK)
    {
      if (db->h == NULL)
        return arca_error_set (err, ENOMEM, "open database `%s`", db->path);
      return arca_error_set (err, sqlite3_system_errno (db->h) ? sqlite3_system_errno (db->h) : EIO,
                             "open database `%s`: %s", db->path, sqlite3_errmsg (db->h));
    }
  /* As arca_db_open() sets them for every other engine process. */
  sqlite3_extended_result_codes (db->h, 1);
  sqlite3_busy_timeout (db->h, 30000);
  if (arca_net_sql_exec (db->h, "PRAGMA foreign_keys = ON", err) < 0)
    return arca_error_wrap (err, "database `%s`", db->path);
  *ret = move_ptr (db);
  return 0;
}

/* The container's network mode, as the engine's network_of() reads it. */
static int
network_mode (struct arca_db *db, const char *id, const struct arca_network_driver **ret,
              arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (db->h, "SELECT options FROM containers WHERE id = ?1", &st, err) < 0)
    return arca_error_wrap (err, "database `%s`", db->path);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  int r = sqlite3_step (st);
  if (r != SQLITE_ROW)
    return r == SQLITE_DONE
               ? arca_error_set (err, ENOENT, "no such container: %s", id)
               : arca_net_sql_fail (db->h, "container options", err);
  const char *text = (const char *) sqlite3_column_text (st, 0);
  _cleanup_ (json_decrefp) json_t *opts = text ? json_loads (text, 0, NULL) : NULL;
  if (opts == NULL)
    return arca_error_set (err, EINVAL, "container %s: corrupt options", id);
  const char *name = json_string_value (json_object_get (opts, "network"));
  const struct arca_network_driver *mode = arca_network_driver_find (name ? name : "none");
  if (mode == NULL)
    return arca_error_set (err, ENOTSUP, "container %s: unknown network mode `%s`", id, name);
  *ret = mode;
  return 0;
}

int
arca_netattach_run (const char *root, const char *run_root, const struct arca_log *log,
                    const char *id, pid_t init_pid, arca_error **err)
{
  _cleanup_ (db_closep) struct arca_db *db = NULL;
  const struct arca_network_driver *mode = NULL;
  struct arca_engine e = {
    .root = (char *) (root ? root : ARCA_STORE_DEFAULT_ROOT),
    .run_root = (char *) (run_root ? run_root : ARCA_ENGINE_DEFAULT_RUN_ROOT),
    .log = log,
  };

  if (db_open (e.root, &db, err) < 0 || network_mode (db, id, &mode, err) < 0)
    return -1;
  e.db = db;
  return mode->attach ? mode->attach (&e, id, init_pid, err) : 0;
}
