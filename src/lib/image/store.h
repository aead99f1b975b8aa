/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Content-addressed blob store (OCI image layout style) under a root:
 *
 *   <root>/blobs/sha256/<hex>   blobs, named by the sha256 of their content
 *   <root>/layers/<hex>         unpacked layers, named by chain id (unpack.h)
 *   <root>/tmp/                 staging for loads (same filesystem as above)
 *   <root>/arca.db              metadata (db.h)
 *
 * A blob is written to a temp file in its final directory while its digest is
 * computed, fsynced, checked against the expected digest and only then
 * renamed into place: a reader never sees a partial or wrong blob, and a
 * crash leaves at most a ".tmp-*" file that arca_store_clean_temp() removes. */
#ifndef ARCA_IMAGE_STORE_H
#define ARCA_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "digest.h"
#include "util/error.h"

#define ARCA_STORE_DEFAULT_ROOT "/var/lib/arca"

typedef struct arca_store arca_store;

/* Creates the layout if missing.  root NULL = ARCA_STORE_DEFAULT_ROOT. */
int arca_store_open (const char *root, arca_store **ret_store, arca_error **err);
void arca_store_free (arca_store *s);
void arca_store_freep (arca_store **s);
#define cleanup_store __attribute__ ((cleanup (arca_store_freep)))

const char *arca_store_root (const arca_store *s);
int arca_store_root_fd (const arca_store *s);
int arca_store_blobs_fd (const arca_store *s);  /* <root>/blobs/sha256 */
int arca_store_layers_fd (const arca_store *s); /* <root>/layers */
int arca_store_tmp_fd (const arca_store *s);    /* <root>/tmp */

/* Streaming writer.  commit verifies against expected (NULL = accept any
 * content) and writes the digest to ret_digest (ARCA_DIGEST_LEN + 1 bytes,
 * may be NULL); ret_created (may be NULL) says whether the blob is new.  A
 * writer freed without a successful commit removes its temp file. */
typedef struct arca_blob_writer arca_blob_writer;
int arca_blob_writer_new (arca_store *s, arca_blob_writer **ret_writer, arca_error **err);
int arca_blob_writer_write (arca_blob_writer *w, const void *data, size_t len, arca_error **err);
int arca_blob_writer_commit (arca_blob_writer *w, const char *expected, char *ret_digest,
                             bool *ret_created, arca_error **err);
size_t arca_blob_writer_size (const arca_blob_writer *w);
void arca_blob_writer_free (arca_blob_writer *w);
void arca_blob_writer_freep (arca_blob_writer **w);
#define cleanup_blob_writer __attribute__ ((cleanup (arca_blob_writer_freep)))

/* Reads fd to its end into a new blob. */
int arca_blob_put_fd (arca_store *s, int fd, const char *expected, char *ret_digest,
                      bool *ret_created, arca_error **err);
int arca_blob_put_buffer (arca_store *s, const void *data, size_t len, const char *expected,
                          char *ret_digest, bool *ret_created, arca_error **err);

/* Opens a blob read-only.  With verify, its content is hashed first (and the
 * fd rewound): a blob changed on disk is reported as corrupt. */
int arca_blob_open (arca_store *s, const char *digest, bool verify, arca_error **err);
/* Reads a whole (small) blob, verified, NUL-terminated; at most max_size. */
int arca_blob_read (arca_store *s, const char *digest, size_t max_size, char **ret_data,
                    size_t *ret_len, arca_error **err);
/* Re-hashes a stored blob; a mismatch is EBADMSG naming both digests. */
int arca_blob_verify (arca_store *s, const char *digest, arca_error **err);
/* 1 if present, 0 if not. */
int arca_blob_exists (arca_store *s, const char *digest, arca_error **err);
int arca_blob_size (arca_store *s, const char *digest, off_t *ret_size, arca_error **err);
/* A missing blob is not an error. */
int arca_blob_remove (arca_store *s, const char *digest, arca_error **err);
/* Every stored digest (NULL-terminated vector), for prune and check. */
int arca_blob_list (arca_store *s, char ***ret_digests, arca_error **err);

/* Store-wide lock (<root>/lock, flock): writers that create blobs or layer
 * dirs before their rows exist (load, pull, build, commit) hold it shared;
 * garbage collection holds it exclusive, so it never sees such files as
 * unreferenced.  Returns the fd that holds the lock (close releases). */
int arca_store_lock (arca_store *s, bool exclusive, arca_error **err);

/* Removes temp files and directories that a crashed writer left behind. */
int arca_store_clean_temp (arca_store *s, arca_error **err);
/* Lists them ("blobs/sha256/.tmp-...", relative to the root). */
int arca_store_stale_temps (arca_store *s, char ***ret_names, arca_error **err);

#endif
