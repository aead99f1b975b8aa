/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Read-only queries over the image metadata: resolving what users type,
 * reading image records, and the sets prune and check work from. */
#include "db-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "util/cleanup.h"
#include "util/strv.h"

/* Exactly one match wins; several are ambiguous; none is 0. */
static int
pick_one (char **ids, const char *text, char *ret_id, arca_error **err)
{
  size_t n = arca_strv_length (ids);

  if (n == 0)
    return 0;
  if (n > 1)
    return arca_error_set (err, EINVAL, "`%s` is ambiguous: it matches %s and %s%s", text, ids[0],
                           ids[1], n > 2 ? " and more" : "");
  snprintf (ret_id, ARCA_DIGEST_LEN + 1, "%s", ids[0]);
  return 1;
}

static bool
is_hex_prefix (const char *s)
{
  size_t n = strlen (s);

  if (n < 3 || n > ARCA_DIGEST_HEX_LEN)
    return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return false;
  return true;
}

static int
resolve_by_id (arca_db *db, const char *text, char *ret_id, arca_error **err)
{
  cleanup_strv char **ids = NULL;
  cleanup_free char *pattern = NULL;
  const char *hex = text;
  const char *args[2] = { NULL, NULL };

  if (arca_digest_is_valid (text))
    {
      const char *both[] = { text, text, NULL };
      if (arca_db_strings (db, "SELECT id FROM images WHERE id = ? OR manifest_digest = ?", both,
                           &ids, err)
          < 0)
        return -1;
      return pick_one (ids, text, ret_id, err);
    }
  if (strncmp (text, ARCA_DIGEST_PREFIX, strlen (ARCA_DIGEST_PREFIX)) == 0)
    hex = text + strlen (ARCA_DIGEST_PREFIX);
  if (!is_hex_prefix (hex))
    return 0;
  /* hex is only [0-9a-f], so it cannot carry GLOB wildcards. */
  if (asprintf (&pattern, ARCA_DIGEST_PREFIX "%s*", hex) < 0)
    return arca_error_errno (err, "resolve `%s`", text);
  args[0] = pattern;
  if (arca_db_strings (db, "SELECT id FROM images WHERE id GLOB ?", args, &ids, err) < 0)
    return -1;
  return pick_one (ids, text, ret_id, err);
}

static int
resolve_tag (arca_db *db, const char *name, char *ret_id, arca_error **err)
{
  cleanup_strv char **ids = NULL;
  const char *args[] = { name, NULL };

  if (arca_db_strings (db, "SELECT image_id FROM tags WHERE name = ?", args, &ids, err) < 0)
    return -1;
  return pick_one (ids, name, ret_id, err);
}

static int
resolve_reference (arca_db *db, const char *text, char *ret_id, arca_error **err)
{
  cleanup_reference struct arca_reference *ref = NULL;
  cleanup_free char *full = NULL, *suffix = NULL, *hub = NULL;
  cleanup_strv char **ids = NULL;
  int r;

  if (arca_reference_parse (text, ARCA_REFERENCE_LOCAL, &ref, err) < 0)
    return -1;
  if (ref->digest)
    {
      /* name@digest: the digest identifies the content on its own. */
      r = resolve_by_id (db, ref->digest, ret_id, err);
      return r;
    }
  full = arca_reference_string (ref);
  if (full == NULL)
    return arca_error_errno (err, "resolve `%s`", text);
  r = resolve_tag (db, full, ret_id, err);
  if (r != 0 || ref->domain_explicit)
    return r;

  /* A short name: docker.io's library/ form next, then any registry. */
  if (asprintf (&hub, "docker.io/%s%s:%s", strchr (ref->path, '/') ? "" : "library/", ref->path,
                ref->tag)
      < 0)
    return arca_error_errno (err, "resolve `%s`", text);
  r = resolve_tag (db, hub, ret_id, err);
  if (r != 0)
    return r;
  if (asprintf (&suffix, "/%s:%s", ref->path, ref->tag) < 0)
    return arca_error_errno (err, "resolve `%s`", text);
  {
    const char *args[] = { suffix, suffix, NULL };
    if (arca_db_strings (db,
                         "SELECT DISTINCT image_id FROM tags "
                         "WHERE substr(name, -length(?)) = ?",
                         args, &ids, err)
        < 0)
      return -1;
  }
  return pick_one (ids, text, ret_id, err);
}

int
arca_db_resolve (arca_db *db, const char *text, char *ret_id, arca_error **err)
{
  char id[ARCA_DIGEST_LEN + 1];
  int r;

  if (text == NULL || *text == '\0')
    return arca_error_set (err, EINVAL, "empty image name");
  r = resolve_by_id (db, text, id, err);
  /* A name made of hex digits may still be a repository: try it next. */
  if (r == 0 && !arca_digest_is_valid (text)
      && strncmp (text, ARCA_DIGEST_PREFIX, strlen (ARCA_DIGEST_PREFIX)) != 0)
    r = resolve_reference (db, text, id, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return arca_error_set (err, ENOENT, "image `%s` not known", text);
  memcpy (ret_id, id, sizeof (id));
  return 0;
}

static int
read_layers (arca_db *db, struct arca_image_record *img, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *args[] = { img->id, NULL };
  int r;

  if (arca_db_prepare (
          db,
          "SELECT il.chain_id, l.diff_id, il.blob_digest, il.media_type, l.dir, l.size "
          "FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id "
          "WHERE il.image_id = ? ORDER BY il.position",
          &st, err)
          < 0
      || arca_db_bind_texts (db, st, args, err) < 0)
    return -1;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      struct arca_image_layer *nl, *l;
      nl = realloc (img->layers, (img->n_layers + 1) * sizeof (*nl));
      if (nl == NULL)
        return arca_error_errno (err, "read image %s", img->id);
      img->layers = nl;
      l = &nl[img->n_layers];
      memset (l, 0, sizeof (*l));
      img->n_layers++;
      snprintf (l->chain_id, sizeof (l->chain_id), "%s", sqlite3_column_text (st, 0));
      snprintf (l->diff_id, sizeof (l->diff_id), "%s", sqlite3_column_text (st, 1));
      snprintf (l->blob_digest, sizeof (l->blob_digest), "%s", sqlite3_column_text (st, 2));
      l->media_type = strdup ((const char *)sqlite3_column_text (st, 3));
      l->dir = strdup ((const char *)sqlite3_column_text (st, 4));
      l->size = sqlite3_column_int64 (st, 5);
      if (l->media_type == NULL || l->dir == NULL)
        return arca_error_errno (err, "read image %s", img->id);
    }
  if (r != SQLITE_DONE)
    return arca_db_fail (db, err, "read image layers");
  return 0;
}

static int
read_image_row (arca_db *db, sqlite3_stmt *st, struct arca_image_record **ret_img, arca_error **err)
{
  cleanup_image_record struct arca_image_record *img = calloc (1, sizeof (*img));
  const char *args[2] = { NULL, NULL };

  if (img == NULL)
    return arca_error_errno (err, "read image");
  snprintf (img->id, sizeof (img->id), "%s", sqlite3_column_text (st, 0));
  snprintf (img->manifest_digest, sizeof (img->manifest_digest), "%s", sqlite3_column_text (st, 1));
  img->created = sqlite3_column_int64 (st, 2);
  img->size = sqlite3_column_int64 (st, 3);
  args[0] = img->id;
  if (read_layers (db, img, err) < 0
      || arca_db_strings (db, "SELECT name FROM tags WHERE image_id = ? ORDER BY name", args,
                          &img->tags, err)
             < 0)
    return -1;
  *ret_img = move_ptr (img);
  return 0;
}

int
arca_db_get_image (arca_db *db, const char *image_id, struct arca_image_record **ret_img,
                   arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *args[] = { image_id, NULL };
  int r;

  if (arca_db_prepare (db, "SELECT id, manifest_digest, created, size FROM images WHERE id = ?",
                       &st, err)
          < 0
      || arca_db_bind_texts (db, st, args, err) < 0)
    return -1;
  r = sqlite3_step (st);
  if (r == SQLITE_DONE)
    return arca_error_set (err, ENOENT, "image %s not known", image_id);
  if (r != SQLITE_ROW)
    return arca_db_fail (db, err, "read image");
  return read_image_row (db, st, ret_img, err);
}

int
arca_db_list_images (arca_db *db, struct arca_image_record ***ret_images, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  cleanup_image_records struct arca_image_record **v = calloc (1, sizeof (*v));
  size_t n = 0;
  int r;

  if (v == NULL)
    return arca_error_errno (err, "list images");
  if (arca_db_prepare (db, "SELECT id, manifest_digest, created, size FROM images ORDER BY added",
                       &st, err)
      < 0)
    return -1;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      struct arca_image_record **nv = realloc (v, (n + 2) * sizeof (*nv));
      if (nv == NULL)
        return arca_error_errno (err, "list images");
      v = nv;
      v[n + 1] = NULL;
      if (read_image_row (db, st, &v[n], err) < 0)
        {
          v[n] = NULL;
          return -1;
        }
      n++;
    }
  if (r != SQLITE_DONE)
    return arca_db_fail (db, err, "list images");
  *ret_images = move_ptr (v);
  return 0;
}

static int
layer_int (arca_db *db, const char *sql, const char *chain_id, int64_t *ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *args[] = { chain_id, NULL };
  int r;

  if (arca_db_prepare (db, sql, &st, err) < 0 || arca_db_bind_texts (db, st, args, err) < 0)
    return -1;
  r = sqlite3_step (st);
  if (r == SQLITE_DONE)
    return arca_error_set (err, ENOENT, "layer %s not known", chain_id);
  if (r != SQLITE_ROW)
    return arca_db_fail (db, err, "read layer");
  *ret = sqlite3_column_int64 (st, 0);
  return 0;
}

int
arca_db_layer_refcount (arca_db *db, const char *chain_id, int64_t *ret_refcount, arca_error **err)
{
  return layer_int (db, "SELECT refcount FROM layers WHERE chain_id = ?", chain_id, ret_refcount,
                    err);
}

int
arca_db_layer_size (arca_db *db, const char *chain_id, int64_t *ret_size, arca_error **err)
{
  return layer_int (db, "SELECT size FROM layers WHERE chain_id = ?", chain_id, ret_size, err);
}

int
arca_db_layer_exists (arca_db *db, const char *chain_id, arca_error **err)
{
  cleanup_strv char **v = NULL;
  const char *args[] = { chain_id, NULL };

  if (arca_db_strings (db, "SELECT chain_id FROM layers WHERE chain_id = ?", args, &v, err) < 0)
    return -1;
  return v[0] != NULL;
}

int
arca_db_unreferenced_layers (arca_db *db, char ***ret_chain_ids, arca_error **err)
{
  return arca_db_strings (db,
                          "SELECT chain_id FROM layers WHERE refcount = 0 AND NOT EXISTS "
                          "(SELECT 1 FROM image_layers il WHERE il.chain_id = layers.chain_id)",
                          NULL, ret_chain_ids, err);
}

int
arca_db_referenced_blobs (arca_db *db, char ***ret_digests, arca_error **err)
{
  return arca_db_strings (db,
                          "SELECT id FROM images UNION SELECT manifest_digest FROM images "
                          "UNION SELECT blob_digest FROM image_layers "
                          "UNION SELECT blob_digest FROM layers WHERE refcount > 0",
                          NULL, ret_digests, err);
}

int
arca_db_layer_dirs (arca_db *db, char ***ret_dirs, arca_error **err)
{
  return arca_db_strings (db, "SELECT dir FROM layers", NULL, ret_dirs, err);
}

int
arca_db_check (arca_db *db, char ***ret_problems, arca_error **err)
{
  cleanup_strv char **quick = NULL;
  cleanup_strv char **counts = NULL;
  cleanup_strv char **out = calloc (1, sizeof (char *));
  size_t n = 0;

  if (out == NULL)
    return arca_error_errno (err, "check database");
  if (arca_db_strings (db, "PRAGMA quick_check", NULL, &quick, err) < 0
      || arca_db_strings (db,
                          "SELECT 'layer ' || l.chain_id || ': refcount ' || l.refcount || "
                          "' but ' || COUNT(il.image_id) || ' images use it' "
                          "FROM layers l JOIN image_layers il ON il.chain_id = l.chain_id "
                          "GROUP BY l.chain_id HAVING l.refcount < COUNT(il.image_id)",
                          NULL, &counts, err)
             < 0)
    return arca_error_wrap (err, "check database");
  for (char **p = quick; *p; p++)
    {
      char *msg;
      if (strcmp (*p, "ok") == 0)
        continue;
      if (asprintf (&msg, "database: %s", *p) < 0 || arca_strv_take (&out, &n, msg) < 0)
        return arca_error_errno (err, "check database");
    }
  for (char **p = counts; *p; p++)
    {
      if (arca_strv_append (&out, &n, *p) < 0)
        return arca_error_errno (err, "check database");
    }
  *ret_problems = move_ptr (out);
  return 0;
}
