/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image references, docker syntax:
 *
 *   [registry[:port]/]repo/path[:tag][@sha256:<hex>]
 *
 * A first component is a registry when it contains '.' or ':' or is
 * "localhost" (as docker/distribution decides).  Normalisation follows podman:
 *
 * - ARCA_REFERENCE_LOCAL (names arca gives images it makes: tag, build,
 *   import, commit): no registry means "localhost/", so `arca tag x foo`
 *   names the image localhost/foo:latest.
 * - ARCA_REFERENCE_DOCKER (names from docker archives and for pulls): no
 *   registry means "docker.io/", and a single path component gets
 *   "library/" (busybox -> docker.io/library/busybox).
 * - In both modes index.docker.io is docker.io, and a single path component
 *   on docker.io gets "library/" (docker.io/busybox ->
 *   docker.io/library/busybox).
 *
 * Neither tag nor digest means tag "latest"; a digest alone keeps no tag.
 * Looking a short name up among local images (db.h) tries the exact
 * localhost/ name, then docker.io/library/, then any registry whose path
 * matches, and refuses an ambiguous match. */
#ifndef ARCA_IMAGE_REFERENCE_H
#define ARCA_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "util/error.h"

enum arca_reference_mode
{
  ARCA_REFERENCE_LOCAL = 0,
  ARCA_REFERENCE_DOCKER,
};

struct arca_reference
{
  char *domain;         /* "localhost", "docker.io", "registry.example:5000" */
  char *path;           /* "library/busybox" */
  char *tag;            /* NULL when only a digest was given */
  char *digest;         /* "sha256:...", or NULL */
  bool domain_explicit; /* the input named the registry */
};

int arca_reference_parse (const char *text, enum arca_reference_mode mode,
                          struct arca_reference **ret_ref, arca_error **err);
void arca_reference_free (struct arca_reference *ref);
void arca_reference_freep (struct arca_reference **ref);
#define cleanup_reference __attribute__ ((cleanup (arca_reference_freep)))

/* "domain/path" */
char *arca_reference_name (const struct arca_reference *ref);
/* "domain/path:tag", "domain/path@digest" or both; NULL on ENOMEM. */
char *arca_reference_string (const struct arca_reference *ref);

#endif
