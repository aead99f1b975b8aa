/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image inspect and history.  Both read the image config blob (bounded:
 * it is image content, i.e. input) and the store's layer rows; nothing is
 * written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/image-info.h"
#include "image/db.h"
#include "image/store.h"
#include "util/cleanup.h"

/* Image configs are small; a bigger one is refused rather than read. */
#define CONFIG_MAX (4u << 20)

/* jansson's own json_decrefp (behind json_auto_t). */
#define cleanup_json _cleanup_ (json_decrefp)

static int
load_config (struct arca_engine *e, const char *ref, char *ret_id,
             struct arca_image_record **ret_img, json_t **ret_config, arca_error **err)
{
  char id[ARCA_DIGEST_LEN + 1];
  cleanup_free char *data = NULL;
  size_t len = 0;
  json_error_t jerr;

  if (arca_db_resolve (e->db, ref, id, err) < 0 || arca_db_get_image (e->db, id, ret_img, err) < 0)
    return -1;
  if (arca_blob_read (e->store, id, CONFIG_MAX, &data, &len, err) < 0)
    {
      arca_image_record_freep (ret_img);
      return arca_error_wrap (err, "image `%s`: config", ref);
    }
  json_t *config = json_loadb (data, len, 0, &jerr);
  if (config == NULL || !json_is_object (config))
    {
      json_decref (config);
      arca_image_record_freep (ret_img);
      return arca_error_set (err, EBADMSG, "image `%s`: config %s is not a JSON object", ref, id);
    }
  if (ret_id)
    memcpy (ret_id, id, sizeof id);
  *ret_config = config;
  return 0;
}

static json_t *
rfc3339 (int64_t t)
{
  char buf[40];
  time_t tt = (time_t) t;
  struct tm tm;
  if (gmtime_r (&tt, &tm) == NULL)
    return json_string ("");
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return json_string (buf);
}

static json_t *
string_or (json_t *obj, const char *key, const char *fallback)
{
  json_t *v = json_object_get (obj, key);
  return json_is_string (v) ? json_incref (v) : json_string (fallback);
}

int
arca_engine_image_inspect (struct arca_engine *e, const char *ref, json_t **ret_info,
                           arca_error **err)
{
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  cleanup_json json_t *config = NULL;

  if (load_config (e, ref, NULL, &img, &config, err) < 0)
    return -1;

  json_t *tags = json_array (), *digests = json_array (), *layers = json_array ();
  for (size_t i = 0; img->tags && img->tags[i]; i++)
    {
      json_array_append_new (tags, json_string (img->tags[i]));
      /* repo@manifest-digest, as Docker lists RepoDigests */
      const char *colon = strrchr (img->tags[i], ':');
      size_t repo_len = colon && strchr (colon, '/') == NULL ? (size_t) (colon - img->tags[i])
                                                             : strlen (img->tags[i]);
      json_array_append_new (digests, json_sprintf ("%.*s@%s", (int) repo_len, img->tags[i],
                                                    img->manifest_digest));
    }
  for (size_t i = 0; i < img->n_layers; i++)
    json_array_append_new (layers, json_string (img->layers[i].diff_id));

  json_t *cfg = json_object_get (config, "config");
  json_t *info = json_pack ("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:{s:s, s:o}, s:{s:s}}",
                            "Id", img->id, "RepoTags", tags, "RepoDigests", digests,
                            "Created", rfc3339 (img->created), "Architecture",
                            string_or (config, "architecture", "amd64"), "Os",
                            string_or (config, "os", "linux"), "Size", (json_int_t) img->size,
                            "VirtualSize", (json_int_t) img->size, "Config",
                            json_is_object (cfg) ? json_incref (cfg) : json_object (), "RootFS",
                            "Type", "layers", "Layers", layers, "Metadata", "ManifestDigest",
                            img->manifest_digest);
  if (info == NULL)
    return arca_error_set (err, ENOMEM, "image `%s`: inspect", ref);
  json_t *author = json_object_get (config, "author");
  if (json_is_string (author))
    json_object_set (info, "Author", author);
  *ret_info = info;
  return 0;
}

void
arca_history_entries_free (struct arca_history_entry **v)
{
  for (size_t i = 0; v && v[i]; i++)
    {
      free (v[i]->created_by);
      free (v[i]->comment);
      free (v[i]);
    }
  free (v);
}

void
arca_history_entries_freep (struct arca_history_entry ***v)
{
  arca_history_entries_free (*v);
}

static int64_t
parse_time (json_t *v)
{
  struct tm tm = { 0 };
  const char *s = json_string_value (v);
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (int64_t) timegm (&tm);
}

int
arca_engine_image_history (struct arca_engine *e, const char *ref, char *ret_id,
                           struct arca_history_entry ***ret_entries, arca_error **err)
{
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  _cleanup_ (arca_history_entries_freep) struct arca_history_entry **rows = NULL;
  cleanup_json json_t *config = NULL;
  char id[ARCA_DIGEST_LEN + 1];

  if (load_config (e, ref, id, &img, &config, err) < 0)
    return -1;
  json_t *history = json_object_get (config, "history");
  size_t n_history = json_is_array (history) ? json_array_size (history) : 0, with_layer = 0;
  for (size_t i = 0; i < n_history; i++)
    if (!json_is_true (json_object_get (json_array_get (history, i), "empty_layer")))
      with_layer++;
  /* A base image without history (an import) under steps that have one:
     its layers come first, one row each with nothing to say, so the sizes
     line up with the steps that made them. */
  size_t missing = with_layer < img->n_layers ? img->n_layers - with_layer : 0;
  size_t n = missing + n_history;
  rows = calloc (n + 1, sizeof *rows);
  if (rows == NULL)
    return arca_error_set (err, ENOMEM, "history");

  /* Steps that made a layer take the layers in order; a history that
     claims more layers than the image has gets size 0 for the extra ones
     rather than reading past the array. */
  size_t layer = 0;
  for (size_t i = 0; i < n; i++)
    {
      struct arca_history_entry *r = calloc (1, sizeof *r);
      if (r == NULL)
        return arca_error_set (err, ENOMEM, "history");
      rows[n - 1 - i] = r; /* newest first */
      json_t *h = i >= missing ? json_array_get (history, i - missing) : NULL;
      const char *by = h ? json_string_value (json_object_get (h, "created_by")) : NULL;
      const char *comment = h ? json_string_value (json_object_get (h, "comment")) : NULL;
      r->created_by = strdup (by ? by : "");
      r->comment = strdup (comment ? comment : "");
      if (r->created_by == NULL || r->comment == NULL)
        return arca_error_set (err, ENOMEM, "history");
      r->created = h ? parse_time (json_object_get (h, "created")) : img->created;
      r->empty_layer = h && json_is_true (json_object_get (h, "empty_layer"));
      if (!r->empty_layer && layer < img->n_layers)
        r->size = img->layers[layer++].size;
    }
  if (n > 0)
    rows[0]->top = true;
  if (ret_id)
    memcpy (ret_id, id, sizeof id);
  *ret_entries = move_ptr (rows);
  return 0;
}
