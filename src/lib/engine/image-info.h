/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `arca image inspect` and `arca history` show about an image: the
 * image config (OCI image spec) and the store's record, combined the way
 * Docker presents them. */
#ifndef ARCA_ENGINE_IMAGE_INFO_H
#define ARCA_ENGINE_IMAGE_INFO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

/* Docker's `image inspect` object for the image `ref` (name, id or id
 * prefix): Id, RepoTags, RepoDigests, Created, Size, Architecture, Os,
 * Config, RootFS.Layers, Metadata.  ENOENT when the image is unknown. */
int arca_engine_image_inspect (struct arca_engine *e, const char *ref, json_t **ret_info,
                               arca_error **err);

/* One row of `arca history`, newest first (Docker's order). */
struct arca_history_entry {
  char *created_by;
  char *comment;
  int64_t created;    /* unix seconds, 0 when the config has none */
  int64_t size;       /* bytes of the layer this step made; 0 for empty_layer */
  bool empty_layer;
  bool top;           /* the image itself (Docker prints its id, others <missing>) */
};

/* NULL-terminated, newest first.  An image config without history gets one
 * row per layer (created_by empty), as Docker shows for imported images. */
int arca_engine_image_history (struct arca_engine *e, const char *ref, char *ret_id,
                               struct arca_history_entry ***ret_entries, arca_error **err);
void arca_history_entries_free (struct arca_history_entry **v);
void arca_history_entries_freep (struct arca_history_entry ***v);

#endif
