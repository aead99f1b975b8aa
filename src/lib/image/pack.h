/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layer packing, the inverse of unpack.h: a directory tree (an overlayfs
 * upper dir for `arca commit` and build steps, or a plain root filesystem
 * for `arca import`) becomes an OCI layer blob in the store.
 *
 * Overlayfs whiteouts (0:0 character devices) become ".wh.NAME" entries and
 * opaque directories (trusted.overlay.opaque=y, or user.overlay.opaque for
 * userxattr mounts) get a ".wh..wh..opq" entry; overlay xattrs themselves
 * are not copied.  Owners, modes, mtimes, xattrs (file capabilities too),
 * hard links, symlinks, device nodes and fifos are kept; sockets skipped.
 * Entries are written in name order with fixed archive metadata, so the
 * same tree always gives the same diff_id and, for plain and gzip layers,
 * the same blob digest. */
#ifndef ARCA_IMAGE_PACK_H
#define ARCA_IMAGE_PACK_H

#include <stdint.h>

#include "digest.h"
#include "store.h"
#include "util/error.h"

enum arca_pack_compression
{
  ARCA_PACK_GZIP = 0,
  ARCA_PACK_PLAIN,
  ARCA_PACK_ZSTD,
};

struct arca_pack_result
{
  char diff_id[ARCA_DIGEST_LEN + 1];     /* sha256 of the tar */
  char blob_digest[ARCA_DIGEST_LEN + 1]; /* sha256 of the stored blob */
  int64_t size;                          /* bytes of the tar */
  int64_t blob_size;
  const char *media_type; /* static string, OCI layer type */
  bool created;           /* the blob is new in the store */
};

int arca_layer_pack (int dirfd, arca_store *store, enum arca_pack_compression compression,
                     struct arca_pack_result *ret_result, arca_error **err);

#endif
