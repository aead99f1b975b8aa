/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image metadata in SQLite (<root>/arca.db): images, tags, layers and the
 * ordered layers of each image.  Every change that touches more than one
 * row is one IMMEDIATE transaction, so a crash or kill -9 leaves either the
 * old or the new state (SQLite's WAL rolls a half transaction back when the
 * database is next opened).
 *
 * Files come first, rows second: an image is added only once its blobs and
 * unpacked layers are on disk, and files are deleted only after the rows
 * that referenced them are gone, so a crash leaves at worst unreferenced
 * files, which prune (arca_db_unreferenced_*) finds and removes. */
#ifndef ARCA_IMAGE_DB_H
#define ARCA_IMAGE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "util/error.h"

#define ARCA_DB_SCHEMA_VERSION 1

typedef struct arca_db arca_db;

/* One layer of an image, in order from the base. */
struct arca_image_layer
{
  char chain_id[ARCA_DIGEST_LEN + 1];    /* identity of the unpacked layer stack */
  char diff_id[ARCA_DIGEST_LEN + 1];     /* sha256 of the uncompressed tar */
  char blob_digest[ARCA_DIGEST_LEN + 1]; /* the (maybe compressed) blob in the manifest */
  char *media_type;                      /* of the blob */
  char *dir;                             /* unpacked dir, relative to <root>/layers */
  int64_t size;                          /* bytes of the uncompressed tar */
};

struct arca_image_record
{
  char id[ARCA_DIGEST_LEN + 1]; /* the config blob's digest */
  char manifest_digest[ARCA_DIGEST_LEN + 1];
  int64_t created; /* unix seconds, from the config */
  int64_t size;    /* sum of the layers' sizes */
  size_t n_layers;
  struct arca_image_layer *layers;
  char **tags; /* "domain/path:tag" (filled by reads) */
};

void arca_image_record_free (struct arca_image_record *img);
void arca_image_record_freep (struct arca_image_record **img);
#define cleanup_image_record __attribute__ ((cleanup (arca_image_record_freep)))
void arca_image_records_free (struct arca_image_record **v);
void arca_image_records_freep (struct arca_image_record ***v);
#define cleanup_image_records __attribute__ ((cleanup (arca_image_records_freep)))

/* Opens (creating) the database: WAL mode, foreign keys, a busy timeout so
 * concurrent arca commands wait for each other instead of failing. */
int arca_db_open (const char *path, arca_db **ret_db, arca_error **err);
void arca_db_free (arca_db *db);
void arca_db_freep (arca_db **db);
#define cleanup_db __attribute__ ((cleanup (arca_db_freep)))

/* --- changes (db.c), each one transaction --- */

/* Adds img with its layers (refcount + 1 each, rows created as needed) and
 * points each of tags (NULL-terminated, may be NULL; full "domain/path:tag"
 * names) at it, moving a tag away from another image.  Adding an image that
 * exists only updates its tags. */
int arca_db_add_image (arca_db *db, const struct arca_image_record *img, const char *const *tags,
                       arca_error **err);
/* The same for n images (tags[i] for imgs[i]; tags may be NULL) in one
 * transaction: all are added or none. */
int arca_db_add_images (arca_db *db, struct arca_image_record *const *imgs, char **const *tags,
                        size_t n, arca_error **err);
int arca_db_tag (arca_db *db, const char *image_id, const char *name, arca_error **err);
/* ENOENT when the name is not a tag. */
int arca_db_untag (arca_db *db, const char *name, arca_error **err);
/* Removes the image, its tags and one reference from each of its layers. */
int arca_db_remove_image (arca_db *db, const char *image_id, arca_error **err);
/* Deletes the row of a layer nobody references (after its dir is gone);
 * EBUSY if it is referenced again. */
int arca_db_delete_layer (arca_db *db, const char *chain_id, arca_error **err);

/* --- queries (db-query.c) --- */

/* Resolves what a user typed: a full id or manifest digest, a unique id
 * prefix (at least 3 hex digits, with or without "sha256:"), or a
 * reference (short names as reference.h says).  ENOENT "image not known",
 * EINVAL for an ambiguous one.  ret_id gets ARCA_DIGEST_LEN + 1 bytes. */
int arca_db_resolve (arca_db *db, const char *text, char *ret_id, arca_error **err);
/* ENOENT if unknown. */
int arca_db_get_image (arca_db *db, const char *image_id, struct arca_image_record **ret_img,
                       arca_error **err);
/* All images, oldest first, NULL-terminated. */
int arca_db_list_images (arca_db *db, struct arca_image_record ***ret_images, arca_error **err);
/* 1 if a layer row with that chain id exists (its dir is then complete). */
int arca_db_layer_exists (arca_db *db, const char *chain_id, arca_error **err);
int arca_db_layer_refcount (arca_db *db, const char *chain_id, int64_t *ret_refcount,
                            arca_error **err);
/* Bytes of the layer's uncompressed tar; ENOENT if unknown. */
int arca_db_layer_size (arca_db *db, const char *chain_id, int64_t *ret_size, arca_error **err);
/* Chain ids of layers with refcount 0 that no image lists either (prune:
 * a damaged refcount never frees a layer in use). */
int arca_db_unreferenced_layers (arca_db *db, char ***ret_chain_ids, arca_error **err);
/* Every blob digest some image references (manifest, config, layer blobs);
 * blobs in the store but not here are garbage. */
int arca_db_referenced_blobs (arca_db *db, char ***ret_digests, arca_error **err);
/* Consistency problems inside the database, one sentence each (empty
 * vector when none): SQLite's quick_check, and layers referenced by more
 * images than their refcount says. */
int arca_db_check (arca_db *db, char ***ret_problems, arca_error **err);
/* Every layer dir the database knows (system check). */
int arca_db_layer_dirs (arca_db *db, char ***ret_dirs, arca_error **err);

#endif
