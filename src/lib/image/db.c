/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "db-internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strv.h"

static const char schema_sql[]
    = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS images ("
      "  id TEXT PRIMARY KEY," /* config digest */
      "  manifest_digest TEXT NOT NULL,"
      "  created INTEGER NOT NULL,"
      "  size INTEGER NOT NULL,"
      "  added INTEGER NOT NULL);" /* ordering for list */
      "CREATE TABLE IF NOT EXISTS tags ("
      "  name TEXT PRIMARY KEY,"
      "  image_id TEXT NOT NULL REFERENCES images(id));"
      "CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);"
      "CREATE TABLE IF NOT EXISTS layers ("
      "  chain_id TEXT PRIMARY KEY,"
      "  diff_id TEXT NOT NULL,"
      "  blob_digest TEXT NOT NULL,"
      "  dir TEXT NOT NULL UNIQUE,"
      "  size INTEGER NOT NULL,"
      "  refcount INTEGER NOT NULL CHECK (refcount >= 0));"
      "CREATE TABLE IF NOT EXISTS image_layers ("
      "  image_id TEXT NOT NULL REFERENCES images(id),"
      "  position INTEGER NOT NULL,"
      "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
      "  blob_digest TEXT NOT NULL,"
      "  media_type TEXT NOT NULL,"
      "  PRIMARY KEY (image_id, position));"
      "CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);";

int
arca_db_fail (arca_db *db, arca_error **err, const char *what)
{
  int code = sqlite3_extended_errcode (db->h);
  int errnum = EIO;

  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    errnum = EBUSY;
  else if ((code & 0xff) == SQLITE_FULL)
    errnum = ENOSPC;
  else if ((code & 0xff) == SQLITE_CONSTRAINT)
    errnum = EEXIST;
  else if ((code & 0xff) == SQLITE_NOMEM)
    errnum = ENOMEM;
  else if ((code & 0xff) == SQLITE_IOERR && sqlite3_system_errno (db->h) == ENOSPC)
    errnum = ENOSPC;
  if (errnum == ENOSPC)
    return arca_error_set (err, errnum,
                           "database `%s`: %s: the store's file system is full: free space on it",
                           db->path, what);
  return arca_error_set (err, errnum, "database `%s`: %s: %s", db->path, what,
                         sqlite3_errmsg (db->h));
}

int
arca_db_prepare (arca_db *db, const char *sql, sqlite3_stmt **ret_st, arca_error **err)
{
  if (sqlite3_prepare_v2 (db->h, sql, -1, ret_st, NULL) != SQLITE_OK)
    return arca_db_fail (db, err, "prepare statement");
  return 0;
}

int
arca_db_bind_texts (arca_db *db, sqlite3_stmt *st, const char *const *values, arca_error **err)
{
  for (int i = 0; values && values[i]; i++)
    if (sqlite3_bind_text (st, i + 1, values[i], -1, SQLITE_TRANSIENT) != SQLITE_OK)
      return arca_db_fail (db, err, "bind parameter");
  return 0;
}

int
arca_db_exec (arca_db *db, const char *sql, const char *const *values, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  int r;

  if (arca_db_prepare (db, sql, &st, err) < 0 || arca_db_bind_texts (db, st, values, err) < 0)
    return -1;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    ;
  if (r != SQLITE_DONE)
    return arca_db_fail (db, err, "run statement");
  return 0;
}

int
arca_db_strings (arca_db *db, const char *sql, const char *const *values, char ***ret,
                 arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  cleanup_strv char **v = calloc (1, sizeof (char *));
  size_t n = 0;
  int r;

  if (v == NULL)
    return arca_error_errno (err, "query database");
  if (arca_db_prepare (db, sql, &st, err) < 0 || arca_db_bind_texts (db, st, values, err) < 0)
    return -1;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (arca_strv_append (&v, &n, (const char *) sqlite3_column_text (st, 0)) < 0)
        return arca_error_errno (err, "query database");
    }
  if (r != SQLITE_DONE)
    return arca_db_fail (db, err, "query");
  *ret = move_ptr (v);
  return 0;
}

/* IMMEDIATE takes the write lock at BEGIN, so two writers wait on the busy
 * timeout instead of deadlocking when both try to upgrade a read lock. */
static int
tx_begin (arca_db *db, arca_error **err)
{
  return arca_db_exec (db, "BEGIN IMMEDIATE", NULL, err);
}

/* Commits when r >= 0, else rolls back (keeping the first error). */
static int
tx_end (arca_db *db, int r, arca_error **err)
{
  if (r >= 0)
    {
      if (arca_db_exec (db, "COMMIT", NULL, err) == 0)
        return 0;
    }
  sqlite3_exec (db->h, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

static int
check_schema (arca_db *db, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  int r;

  if (arca_db_prepare (db, "SELECT version FROM schema_version", &st, err) < 0)
    return -1;
  r = sqlite3_step (st);
  if (r == SQLITE_ROW)
    {
      int v = sqlite3_column_int (st, 0);
      if (v > ARCA_DB_SCHEMA_VERSION)
        return arca_error_set (err, EPROTO,
                               "database `%s`: schema version %d is newer than this arca's (%d)",
                               db->path, v, ARCA_DB_SCHEMA_VERSION);
      return 0;
    }
  if (r != SQLITE_DONE)
    return arca_db_fail (db, err, "read schema version");
  sqlite3_reset (st);
  return arca_db_exec (db, "INSERT INTO schema_version (version) VALUES (1)", NULL, err);
}

/* exclusive: WAL without the shared-memory index (-shm), which SQLite must
 * extend before even a read; see arca_db_open. */
static int
db_open_mode (const char *path, bool exclusive, arca_db **ret_db, arca_error **err)
{
  cleanup_db arca_db *db = calloc (1, sizeof (*db));
  int r;

  if (db == NULL || (db->path = strdup (path)) == NULL)
    return arca_error_errno (err, "open database `%s`", path);
  if (sqlite3_open_v2 (path, &db->h,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK)
    {
      if (db->h == NULL)
        return arca_error_set (err, ENOMEM, "open database `%s`", path);
      return arca_db_fail (db, err, "open");
    }
  sqlite3_extended_result_codes (db->h, 1);
  sqlite3_busy_timeout (db->h, 30000);
  if (exclusive && arca_db_exec (db, "PRAGMA locking_mode = EXCLUSIVE", NULL, err) < 0)
    return -1;
  if (arca_db_exec (db, "PRAGMA journal_mode = WAL", NULL, err) < 0
      || arca_db_exec (db, "PRAGMA synchronous = FULL", NULL, err) < 0
      || arca_db_exec (db, "PRAGMA foreign_keys = ON", NULL, err) < 0)
    return -1;
  if (tx_begin (db, err) < 0)
    return -1;
  r = sqlite3_exec (db->h, schema_sql, NULL, NULL, NULL) == SQLITE_OK
          ? check_schema (db, err)
          : arca_db_fail (db, err, "create schema");
  if (tx_end (db, r, err) < 0)
    return -1;
  *ret_db = move_ptr (db);
  return 0;
}

int
arca_db_open (const char *path, arca_db **ret_db, arca_error **err)
{
  cleanup_error arca_error *shared_err = NULL;

  if (db_open_mode (path, false, ret_db, &shared_err) == 0)
    return 0;
  if (shared_err->errnum != ENOSPC)
    {
      *err = move_ptr (shared_err);
      return -1;
    }
  /* A full file system: the shared -shm index cannot be sized, so no
   * command could even list what there is to remove.  With the lock held
   * exclusively SQLite keeps that index in memory; other arca commands wait
   * on the busy timeout meanwhile, and writes still fail clearly if the WAL
   * cannot grow. */
  return db_open_mode (path, true, ret_db, err);
}

void
arca_db_free (arca_db *db)
{
  if (db == NULL)
    return;
  sqlite3_close_v2 (db->h);
  free (db->path);
  free (db);
}

void
arca_db_freep (arca_db **db)
{
  arca_db_free (*db);
}

void
arca_image_record_free (struct arca_image_record *img)
{
  if (img == NULL)
    return;
  for (size_t i = 0; i < img->n_layers; i++)
    {
      free (img->layers[i].media_type);
      free (img->layers[i].dir);
    }
  free (img->layers);
  arca_strv_free (img->tags);
  free (img);
}

void
arca_image_record_freep (struct arca_image_record **img)
{
  arca_image_record_free (*img);
}

void
arca_image_records_free (struct arca_image_record **v)
{
  if (v == NULL)
    return;
  for (struct arca_image_record **p = v; *p; p++)
    arca_image_record_free (*p);
  free (v);
}

void
arca_image_records_freep (struct arca_image_record ***v)
{
  arca_image_records_free (*v);
}

static int
image_exists (arca_db *db, const char *id, arca_error **err)
{
  cleanup_strv char **v = NULL;
  const char *args[] = { id, NULL };

  if (arca_db_strings (db, "SELECT id FROM images WHERE id = ?", args, &v, err) < 0)
    return -1;
  return v[0] != NULL;
}

static int
set_tag (arca_db *db, const char *image_id, const char *name, arca_error **err)
{
  const char *args[] = { name, image_id, NULL };
  return arca_db_exec (db,
                       "INSERT INTO tags (name, image_id) VALUES (?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET image_id = excluded.image_id",
                       args, err);
}

static int
add_layer (arca_db *db, const char *image_id, size_t pos, const struct arca_image_layer *l,
           arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  char size[32];
  const char *layer_args[] = { l->chain_id, l->diff_id, l->blob_digest, l->dir, size, NULL };
  const char *bump_args[] = { l->chain_id, NULL };

  if (!arca_digest_is_valid (l->chain_id) || !arca_digest_is_valid (l->diff_id)
      || !arca_digest_is_valid (l->blob_digest) || l->dir == NULL || l->media_type == NULL)
    return arca_error_set (err, EINVAL, "image %s: layer %zu: incomplete record", image_id, pos);
  snprintf (size, sizeof (size), "%lld", (long long)l->size);
  if (arca_db_exec (db,
                    "INSERT INTO layers (chain_id, diff_id, blob_digest, dir, size, refcount) "
                    "VALUES (?, ?, ?, ?, CAST(? AS INTEGER), 0) ON CONFLICT (chain_id) DO NOTHING",
                    layer_args, err)
          < 0
      || arca_db_exec (db, "UPDATE layers SET refcount = refcount + 1 WHERE chain_id = ?",
                       bump_args, err)
             < 0)
    return arca_error_wrap (err, "image %s: layer %s", image_id, l->chain_id);
  if (arca_db_prepare (db,
                       "INSERT INTO image_layers (image_id, position, chain_id, blob_digest, "
                       "media_type) VALUES (?, ?, ?, ?, ?)",
                       &st, err)
      < 0)
    return -1;
  if (sqlite3_bind_text (st, 1, image_id, -1, SQLITE_TRANSIENT) != SQLITE_OK
      || sqlite3_bind_int64 (st, 2, (sqlite3_int64)pos) != SQLITE_OK
      || sqlite3_bind_text (st, 3, l->chain_id, -1, SQLITE_TRANSIENT) != SQLITE_OK
      || sqlite3_bind_text (st, 4, l->blob_digest, -1, SQLITE_TRANSIENT) != SQLITE_OK
      || sqlite3_bind_text (st, 5, l->media_type, -1, SQLITE_TRANSIENT) != SQLITE_OK
      || sqlite3_step (st) != SQLITE_DONE)
    return arca_db_fail (db, err, "insert image layer");
  return 0;
}

static int
add_image_tx (arca_db *db, const struct arca_image_record *img, const char *const *tags,
              arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  int exists;

  if (arca_digest_check (img->id, "image id", err) < 0
      || arca_digest_check (img->manifest_digest, "image manifest digest", err) < 0)
    return -1;
  exists = image_exists (db, img->id, err);
  if (exists < 0)
    return -1;
  if (!exists)
    {
      if (arca_db_prepare (db,
                           "INSERT INTO images (id, manifest_digest, created, size, added) "
                           "VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(added), 0) + 1 FROM images))",
                           &st, err)
          < 0)
        return -1;
      if (sqlite3_bind_text (st, 1, img->id, -1, SQLITE_TRANSIENT) != SQLITE_OK
          || sqlite3_bind_text (st, 2, img->manifest_digest, -1, SQLITE_TRANSIENT) != SQLITE_OK
          || sqlite3_bind_int64 (st, 3, img->created) != SQLITE_OK
          || sqlite3_bind_int64 (st, 4, img->size) != SQLITE_OK || sqlite3_step (st) != SQLITE_DONE)
        return arca_db_fail (db, err, "insert image");
      for (size_t i = 0; i < img->n_layers; i++)
        if (add_layer (db, img->id, i, &img->layers[i], err) < 0)
          return -1;
    }
  for (size_t i = 0; tags && tags[i]; i++)
    if (set_tag (db, img->id, tags[i], err) < 0)
      return arca_error_wrap (err, "tag `%s`", tags[i]);
  return 0;
}

int
arca_db_add_image (arca_db *db, const struct arca_image_record *img, const char *const *tags,
                   arca_error **err)
{
  if (tx_begin (db, err) < 0)
    return arca_error_wrap (err, "add image %s", img->id);
  if (tx_end (db, add_image_tx (db, img, tags, err), err) < 0)
    return arca_error_wrap (err, "add image %s", img->id);
  return 0;
}

int
arca_db_add_images (arca_db *db, struct arca_image_record *const *imgs, char **const *tags,
                    size_t n, arca_error **err)
{
  int r = 0;

  if (tx_begin (db, err) < 0)
    return arca_error_wrap (err, "add images");
  for (size_t i = 0; r == 0 && i < n; i++)
    if ((r = add_image_tx (db, imgs[i], (const char *const *)(tags ? tags[i] : NULL), err)) < 0)
      arca_error_wrap (err, "add image %s", imgs[i]->id);
  return tx_end (db, r, err);
}

int
arca_db_tag (arca_db *db, const char *image_id, const char *name, arca_error **err)
{
  int r;

  if (tx_begin (db, err) < 0)
    return -1;
  r = image_exists (db, image_id, err);
  if (r == 0)
    r = arca_error_set (err, ENOENT, "image %s not known", image_id);
  else if (r > 0)
    r = set_tag (db, image_id, name, err);
  if (tx_end (db, r, err) < 0)
    return arca_error_wrap (err, "tag `%s`", name);
  return 0;
}

int
arca_db_untag (arca_db *db, const char *name, arca_error **err)
{
  const char *args[] = { name, NULL };

  if (arca_db_exec (db, "DELETE FROM tags WHERE name = ?", args, err) < 0)
    return arca_error_wrap (err, "untag `%s`", name);
  if (sqlite3_changes (db->h) == 0)
    return arca_error_set (err, ENOENT, "untag `%s`: no such tag", name);
  return 0;
}

static int
remove_image_tx (arca_db *db, const char *image_id, arca_error **err)
{
  const char *args[] = { image_id, NULL };
  int r = image_exists (db, image_id, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return arca_error_set (err, ENOENT, "image %s not known", image_id);
  if (arca_db_exec (db, "DELETE FROM tags WHERE image_id = ?", args, err) < 0
      || arca_db_exec (db,
                       "UPDATE layers SET refcount = refcount - 1 WHERE chain_id IN "
                       "(SELECT chain_id FROM image_layers WHERE image_id = ?)",
                       args, err)
             < 0
      || arca_db_exec (db, "DELETE FROM image_layers WHERE image_id = ?", args, err) < 0
      || arca_db_exec (db, "DELETE FROM images WHERE id = ?", args, err) < 0)
    return -1;
  return 0;
}

int
arca_db_remove_image (arca_db *db, const char *image_id, arca_error **err)
{
  if (tx_begin (db, err) < 0 || tx_end (db, remove_image_tx (db, image_id, err), err) < 0)
    return arca_error_wrap (err, "remove image %s", image_id);
  return 0;
}

int
arca_db_delete_layer (arca_db *db, const char *chain_id, arca_error **err)
{
  const char *args[] = { chain_id, NULL };

  if (arca_db_exec (db, "DELETE FROM layers WHERE chain_id = ? AND refcount = 0", args, err) < 0)
    return arca_error_wrap (err, "delete layer %s", chain_id);
  if (sqlite3_changes (db->h) == 0)
    {
      int64_t rc;
      if (arca_db_layer_refcount (db, chain_id, &rc, err) < 0)
        return -1;
      return arca_error_set (err, EBUSY, "delete layer %s: still referenced (%lld)", chain_id,
                             (long long)rc);
    }
  return 0;
}
