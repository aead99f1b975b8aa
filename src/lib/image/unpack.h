/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layer unpacking: a (gzip, zstd, bzip2, xz or uncompressed) tar stream
 * into its own directory, in the form overlayfs uses as a lowerdir.
 *
 * Nothing is ever written outside the layer directory: absolute paths and
 * ".." components are refused, parents are opened one component at a time
 * without following symlinks (a symlinked parent is refused), and hard
 * links must name an earlier entry of the same layer that is not a
 * directory nor a symlink leading out of the layer.  Every refusal names the
 * entry.
 *
 * Whiteouts become overlayfs whiteouts: ".wh.NAME" a 0:0 character device
 * NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory;
 * trusted.overlay.* xattrs in the tar itself are dropped, so a layer cannot
 * forge overlayfs metadata (redirects, metacopy).  Regular files (sparse
 * too), directories, symlinks, hard links, device nodes and fifos keep
 * their owner, mode, mtime and xattrs (security.capability included). */
#ifndef ARCA_IMAGE_UNPACK_H
#define ARCA_IMAGE_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "util/error.h"
#include "util/log.h"

struct arca_unpack_options
{
  bool no_chown;              /* keep the unpacking user as owner (rootless) */
  bool no_sync;               /* skip syncfs before the rename (tests, fuzzing) */
  const struct arca_log *log; /* debug notes on skipped entries; NULL = silent */
};

struct arca_unpack_result
{
  char diff_id[ARCA_DIGEST_LEN + 1]; /* sha256 of the uncompressed tar stream */
  int64_t size;                      /* its length in bytes */
  bool existed;                      /* the layer dir was already there */
};

/* Unpacks the stream read from fd into an existing, empty directory. */
int arca_layer_unpack_into (int fd, int dirfd, const struct arca_unpack_options *opts,
                            struct arca_unpack_result *ret_result, arca_error **err);

/* Unpacks into a temp directory below parent_dirfd and renames it to name
 * only when complete, so a crash never leaves a partial layer visible.  If
 * name already exists (another command unpacked the same layer), the new
 * copy is dropped and ret_result->existed is set. */
int arca_layer_unpack (int fd, int parent_dirfd, const char *name,
                       const struct arca_unpack_options *opts,
                       struct arca_unpack_result *ret_result, arca_error **err);

/* The same for a stored blob whose sha256 (blob_digest, may be NULL) the
 * caller has verified: if the blob is not compressed, that digest is its
 * diff_id and the stream is not hashed again. */
int arca_layer_unpack_blob (int fd, const char *blob_digest, int parent_dirfd, const char *name,
                            const struct arca_unpack_options *opts,
                            struct arca_unpack_result *ret_result, arca_error **err);

/* Only computes diff_id and size of a (compressed) layer stream. */
int arca_layer_diff_id (int fd, struct arca_unpack_result *ret_result, arca_error **err);

#endif
