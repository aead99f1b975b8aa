/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha256 content digests in their OCI text form, "sha256:<64 lowercase hex>".
 * Streaming through OpenSSL EVP so blobs of any size are hashed as they are
 * written, never held in memory. */
#ifndef ARCA_IMAGE_DIGEST_H
#define ARCA_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define ARCA_DIGEST_PREFIX "sha256:"
#define ARCA_DIGEST_HEX_LEN 64
/* strlen ("sha256:") + 64 hex digits; buffers are ARCA_DIGEST_LEN + 1 */
#define ARCA_DIGEST_LEN (7 + ARCA_DIGEST_HEX_LEN)

typedef struct arca_digester arca_digester;

int arca_digester_new (arca_digester **ret_digester, arca_error **err);
void arca_digester_update (arca_digester *d, const void *data, size_t len);
/* Writes the digest text into out (ARCA_DIGEST_LEN + 1 bytes); the digester
 * cannot be updated afterwards. */
int arca_digester_final (arca_digester *d, char *out, arca_error **err);
void arca_digester_free (arca_digester *d);
void arca_digester_freep (arca_digester **d);
#define cleanup_digester __attribute__ ((cleanup (arca_digester_freep)))

int arca_digest_buffer (const void *data, size_t len, char *out, arca_error **err);

/* OCI chain id: the diff_id for the base layer (parent NULL), else
 * sha256("<parent chain id> <diff_id>"). */
int arca_chain_id (const char *parent, const char *diff_id, char *out, arca_error **err);

/* True for "sha256:" followed by exactly 64 lowercase hex digits: the only
 * form arca accepts anywhere a digest names a file. */
bool arca_digest_is_valid (const char *digest);
/* Same as an error naming the bad value ("<what>: invalid digest `...`"). */
int arca_digest_check (const char *digest, const char *what, arca_error **err);

/* The hex part of a valid digest. */
static inline const char *
arca_digest_hex (const char *digest)
{
  return digest + sizeof (ARCA_DIGEST_PREFIX) - 1;
}

#endif
