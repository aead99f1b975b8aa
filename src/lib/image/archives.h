/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image archives: `arca load` / `arca save`.
 *
 * docker-archive: manifest.json ([{Config, RepoTags, Layers}]), the config
 * JSON files, one tar per layer (uncompressed or compressed), repositories.
 * oci-archive: an OCI image layout (oci-layout, index.json, blobs/sha256/)
 * in a tar.  An archive with manifest.json is read as docker-archive (newer
 * docker writes both), else as oci-archive.
 *
 * Loading streams every file into the blob store (blobs/sha256/<hex> files
 * verified against their names, the others hashed), verifies every manifest,
 * config and layer digest and each layer's diff_id against the config, then
 * adds the images in one transaction.  A failure removes the blobs and layer
 * dirs this load created: the store is left as it was. */
#ifndef ARCA_IMAGE_ARCHIVES_H
#define ARCA_IMAGE_ARCHIVES_H

#include "db.h"
#include "store.h"
#include "unpack.h"
#include "util/error.h"

enum arca_archive_format
{
  ARCA_ARCHIVE_DOCKER = 0,
  ARCA_ARCHIVE_OCI,
};

/* Loads every image of the archive read from fd; ret_image_ids (may be NULL)
 * gets their ids, NULL-terminated. */
int arca_image_load (arca_store *store, arca_db *db, int fd, const struct arca_unpack_options *opts,
                     char ***ret_image_ids, arca_error **err);

/* Writes the images named by refs (anything arca_db_resolve accepts) with
 * all their tags to fd as an uncompressed tar. */
int arca_image_save (arca_store *store, arca_db *db, const char *const *refs,
                     enum arca_archive_format format, int fd, arca_error **err);

#endif
