/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Garbage collection of the image store (`arca image prune`, `arca rmi`,
 * `arca system prune`): removes what no database row references.
 *
 * Order keeps every crash safe: a layer's directory is deleted before its
 * row (a row without a directory is never used because its refcount is 0
 * and the row goes next), blobs are deleted only when no row names them,
 * and leftover temp files of dead writers go too. */
#ifndef ARCA_IMAGE_GC_H
#define ARCA_IMAGE_GC_H

#include <stddef.h>

#include "db.h"
#include "store.h"
#include "util/error.h"

struct arca_gc_stats
{
  size_t layers_removed;
  size_t blobs_removed;
};

int arca_image_gc (arca_store *store, arca_db *db, struct arca_gc_stats *ret_stats,
                   arca_error **err);

/* Removes an image's rows (tags, layer references) and then whatever
 * became garbage. */
int arca_image_remove (arca_store *store, arca_db *db, const char *image_id,
                       struct arca_gc_stats *ret_stats, arca_error **err);

#endif
