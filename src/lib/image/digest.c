/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

struct arca_digester
{
  EVP_MD_CTX *ctx;
  bool failed; /* an update failed: reported by final, so update stays void */
};

int
arca_digester_new (arca_digester **ret_digester, arca_error **err)
{
  arca_digester *d = calloc (1, sizeof (*d));

  if (d == NULL)
    return arca_error_errno (err, "allocate sha256 digester");
  d->ctx = EVP_MD_CTX_new ();
  if (d->ctx == NULL || EVP_DigestInit_ex (d->ctx, EVP_sha256 (), NULL) != 1)
    {
      arca_digester_free (d);
      return arca_error_set (err, ENOMEM, "initialise sha256 digester");
    }
  *ret_digester = d;
  return 0;
}

void
arca_digester_update (arca_digester *d, const void *data, size_t len)
{
  if (len > 0 && EVP_DigestUpdate (d->ctx, data, len) != 1)
    d->failed = true;
}

int
arca_digester_final (arca_digester *d, char *out, arca_error **err)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char *p = out;

  if (d->failed || EVP_DigestFinal_ex (d->ctx, md, &mdlen) != 1 || mdlen != 32)
    return arca_error_set (err, EIO, "compute sha256 digest");
  p += sprintf (p, "%s", ARCA_DIGEST_PREFIX);
  for (unsigned int i = 0; i < mdlen; i++)
    p += sprintf (p, "%02x", md[i]);
  return 0;
}

void
arca_digester_free (arca_digester *d)
{
  if (d == NULL)
    return;
  EVP_MD_CTX_free (d->ctx);
  free (d);
}

void
arca_digester_freep (arca_digester **d)
{
  arca_digester_free (*d);
}

int
arca_digest_buffer (const void *data, size_t len, char *out, arca_error **err)
{
  cleanup_digester arca_digester *d = NULL;

  if (arca_digester_new (&d, err) < 0)
    return -1;
  arca_digester_update (d, data, len);
  return arca_digester_final (d, out, err);
}

bool
arca_digest_is_valid (const char *digest)
{
  const char *hex;

  if (digest == NULL || strncmp (digest, ARCA_DIGEST_PREFIX, strlen (ARCA_DIGEST_PREFIX)) != 0)
    return false;
  hex = arca_digest_hex (digest);
  for (size_t i = 0; i < ARCA_DIGEST_HEX_LEN; i++)
    if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
      return false;
  return hex[ARCA_DIGEST_HEX_LEN] == '\0';
}

int
arca_digest_check (const char *digest, const char *what, arca_error **err)
{
  if (arca_digest_is_valid (digest))
    return 0;
  return arca_error_set (err, EINVAL, "%s: invalid digest `%.100s` (want sha256:<64 hex digits>)",
                         what, digest ? digest : "(null)");
}

int
arca_chain_id (const char *parent, const char *diff_id, char *out, arca_error **err)
{
  char buf[2 * ARCA_DIGEST_LEN + 2];

  if (arca_digest_check (diff_id, "diff_id", err) < 0
      || (parent && arca_digest_check (parent, "parent chain id", err) < 0))
    return -1;
  if (parent == NULL)
    {
      memcpy (out, diff_id, ARCA_DIGEST_LEN + 1);
      return 0;
    }
  snprintf (buf, sizeof (buf), "%s %s", parent, diff_id);
  return arca_digest_buffer (buf, strlen (buf), out, err);
}
