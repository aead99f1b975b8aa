/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca pull` / `arca push`: the OCI distribution API (registry v2) over
 * HTTP(S) with libcurl.  Basic auth and TLS with a private CA; plain HTTP for
 * registries on localhost/127.0.0.1 (as podman) or with tls_verify off.
 * Every blob is verified against its digest while it streams into the
 * store; a pulled image is then added through the archive loader, so the
 * same checks (diff_ids, layer unpacking) apply as for `arca load`. */
#ifndef ARCA_IMAGE_REGISTRY_H
#define ARCA_IMAGE_REGISTRY_H

#include <stdbool.h>

#include "db.h"
#include "store.h"
#include "util/error.h"
#include "util/log.h"

struct arca_registry_options
{
  const char *creds;    /* "user:password" or NULL */
  bool tls_verify;      /* false: also allows plain http */
  const char *cert_dir; /* a directory with ca.crt (podman's --cert-dir), or NULL */
  const struct arca_log *log;
};

/* Pulls ref (docker-style, normalised as `docker pull` does) into the
 * store; ret_image_id (ARCA_DIGEST_LEN + 1 bytes, may be NULL) gets its id. */
int arca_registry_pull (arca_store *store, arca_db *db, const char *ref,
                        const struct arca_registry_options *opts, char *ret_image_id,
                        arca_error **err);

/* Pushes the local image `image` (anything arca_db_resolve accepts) as
 * dest (a reference with a registry). */
int arca_registry_push (arca_store *store, arca_db *db, const char *image, const char *dest,
                        const struct arca_registry_options *opts, arca_error **err);

#endif
