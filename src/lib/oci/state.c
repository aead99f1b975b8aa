/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "oci/state.h"
#include "util/cleanup.h"

int
arca_oci_state_to_json (const struct arca_oci_state *state, bool pretty,
                        char **ret_json, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *doc = json_object ();
  json_t *annotations = json_object ();

  if (doc == NULL || annotations == NULL)
    return arca_error_set (err, ENOMEM, "render container state");
  json_object_set_new (doc, "ociVersion", json_string ("1.1.0"));
  json_object_set_new (doc, "id", json_string (state->id));
  json_object_set_new (doc, "status", json_string (state->status));
  json_object_set_new (doc, "pid", json_integer (state->pid));
  json_object_set_new (doc, "bundle", json_string (state->bundle));
  if (state->rootfs)
    json_object_set_new (doc, "rootfs", json_string (state->rootfs));
  if (state->created)
    json_object_set_new (doc, "created", json_string (state->created));
  if (state->owner)
    json_object_set_new (doc, "owner", json_string (state->owner));
  for (size_t i = 0; i < state->n_annotations; i++)
    json_object_set_new (annotations, state->annotations[i].key,
                         json_string (state->annotations[i].value));
  json_object_set_new (doc, "annotations", annotations);

  *ret_json = json_dumps (doc, pretty ? JSON_INDENT (2) : JSON_COMPACT);
  if (*ret_json == NULL)
    return arca_error_set (err, ENOMEM, "render container state");
  return 0;
}
