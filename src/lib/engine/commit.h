/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca commit`, the builder's layers and `arca import`: a container's
 * overlay upper directory as an OCI layer tar, and a new image made of a
 * parent's layers (or none) plus that layer, with a changed config.  The
 * image goes into the store through the same OCI-archive loader as
 * `arca load`, so it is verified and added in one transaction like any
 * other image. */
#ifndef ARCA_ENGINE_COMMIT_H
#define ARCA_ENGINE_COMMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "image/digest.h"
#include "util/error.h"

/* Writes the changes recorded in upper as an uncompressed tar to fd:
 * overlayfs whiteouts (0:0 character devices) become ".wh.NAME", opaque
 * directories (trusted.overlay.opaque=y) get a ".wh..wh..opq" entry;
 * owners, modes, mtimes, xattrs (not trusted.overlay.*), symlinks, hard
 * links, devices and fifos are kept.  Entries are sorted so the same tree
 * gives the same diff_id.  skip (NULL-terminated, may be NULL) names paths
 * relative to upper that are left out when they are empty files or empty
 * directories (mount points the runtime created). */
int arca_commit_layer_tar (const char *upper, const char *const *skip, int fd,
                           char *ret_diff_id, int64_t *ret_size, arca_error **err);

/* True when upper holds nothing besides the skip entries. */
int arca_commit_upper_is_empty (const char *upper, const char *const *skip, arca_error **err);

struct arca_commit_image_request
{
  const char *parent;      /* image id; NULL: an image without layers below */
  int layer_fd;            /* the new layer (uncompressed tar), -1: config only */
  const char *diff_id;     /* of layer_fd */
  int64_t layer_size;
  json_t *config;          /* replaces the parent's "config" object; NULL: keep */
  const char *created_by;  /* history entry */
  const char *comment;
  const char *author;
  const char *ref;         /* full reference to tag, may be NULL */
};

int arca_engine_commit_image (struct arca_engine *e, const struct arca_commit_image_request *req,
                              char *ret_image_id, arca_error **err);

/* The "config" object of an image (a new reference; an empty object for
 * NULL). */
int arca_engine_image_config (struct arca_engine *e, const char *image_id, json_t **ret,
                              arca_error **err);

/* Paths the runtime creates as mount points in a container's root and that
 * a commit leaves out when empty. */
extern const char *const arca_commit_runtime_paths[];

struct arca_commit_options
{
  const char *ref;         /* NAME[:TAG], may be NULL */
  const char *message;
  const char *author;
  char **changes;          /* Containerfile instructions (CMD, ENV, ...) */
};

/* `arca commit CONTAINER [NAME[:TAG]]`. */
int arca_engine_commit (struct arca_engine *e, const char *name_or_id,
                        const struct arca_commit_options *opts, char *ret_image_id,
                        arca_error **err);

#endif
