/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "manifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"

/* jansson's json_decrefp */
#define cleanup_json __attribute__ ((cleanup (json_decrefp)))

static int
load (const char *json, size_t len, const char *what, json_t **ret, arca_error **err)
{
  json_error_t jerr;
  json_t *j;

  if (len > ARCA_MANIFEST_MAX_SIZE)
    return arca_error_set (err, EFBIG, "%s: larger than %d bytes", what, ARCA_MANIFEST_MAX_SIZE);
  j = json_loadb (json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    return arca_error_set (err, EINVAL, "%s: invalid JSON at line %d: %s", what, jerr.line,
                           jerr.text);
  *ret = j;
  return 0;
}

static int
parse_descriptor (json_t *j, const char *what, struct arca_descriptor *d, arca_error **err)
{
  json_t *mt = json_object_get (j, "mediaType");
  json_t *dg = json_object_get (j, "digest");
  json_t *sz = json_object_get (j, "size");

  if (!json_is_object (j))
    return arca_error_set (err, EINVAL, "%s: not an object", what);
  if (!json_is_string (dg) || arca_digest_check (json_string_value (dg), what, err) < 0)
    return arca_error_set (err, EINVAL, "%s: missing or invalid digest", what);
  if (!json_is_integer (sz) || json_integer_value (sz) < 0)
    return arca_error_set (err, EINVAL, "%s: missing or invalid size", what);
  snprintf (d->digest, sizeof (d->digest), "%s", json_string_value (dg));
  d->size = json_integer_value (sz);
  d->media_type = strdup (json_is_string (mt) ? json_string_value (mt) : "");
  if (d->media_type == NULL)
    return arca_error_errno (err, "%s", what);
  return 0;
}

void
arca_descriptors_free (struct arca_descriptor *d, size_t n)
{
  for (size_t i = 0; d && i < n; i++)
    {
      free (d[i].media_type);
      free (d[i].name);
    }
  free (d);
}

void
arca_manifest_free (struct arca_manifest *m)
{
  free (m->config.media_type);
  free (m->config.name);
  arca_descriptors_free (m->layers, m->n_layers);
  memset (m, 0, sizeof (*m));
}

void
arca_image_config_free (struct arca_image_config *c)
{
  free (c->diff_ids);
  memset (c, 0, sizeof (*c));
}

void
arca_docker_entries_free (struct arca_docker_entry *e, size_t n)
{
  for (size_t i = 0; e && i < n; i++)
    {
      free (e[i].config);
      arca_strv_free (e[i].repo_tags);
      arca_strv_free (e[i].layers);
    }
  free (e);
}

int
arca_manifest_parse (const char *json, size_t len, struct arca_manifest *ret, arca_error **err)
{
  cleanup_json json_t *j = NULL;
  struct arca_manifest m = { 0 };
  json_t *layers;
  size_t i;

  if (load (json, len, "image manifest", &j, err) < 0)
    return -1;
  if (json_integer_value (json_object_get (j, "schemaVersion")) != 2)
    return arca_error_set (err, EINVAL, "image manifest: schemaVersion is not 2");
  layers = json_object_get (j, "layers");
  if (!json_is_array (layers) || json_array_size (layers) > ARCA_MANIFEST_MAX_LAYERS)
    return arca_error_set (err, EINVAL, "image manifest: layers missing or more than %d",
                           ARCA_MANIFEST_MAX_LAYERS);
  if (parse_descriptor (json_object_get (j, "config"), "image manifest: config", &m.config, err)
      < 0)
    {
      arca_manifest_free (&m);
      return -1;
    }
  m.layers = calloc (json_array_size (layers) + 1, sizeof (*m.layers));
  if (m.layers == NULL)
    {
      arca_manifest_free (&m);
      return arca_error_errno (err, "image manifest");
    }
  for (i = 0; i < json_array_size (layers); i++)
    {
      char what[64];
      snprintf (what, sizeof (what), "image manifest: layers[%zu]", i);
      m.n_layers = i + 1;
      if (parse_descriptor (json_array_get (layers, i), what, &m.layers[i], err) < 0)
        {
          arca_manifest_free (&m);
          return -1;
        }
    }
  *ret = m;
  return 0;
}

int
arca_image_config_parse (const char *json, size_t len, struct arca_image_config *ret,
                         arca_error **err)
{
  cleanup_json json_t *j = NULL;
  struct arca_image_config c = { 0 };
  json_t *rootfs, *ids, *created;

  if (load (json, len, "image config", &j, err) < 0)
    return -1;
  rootfs = json_object_get (j, "rootfs");
  ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids) || json_array_size (ids) > ARCA_MANIFEST_MAX_LAYERS)
    return arca_error_set (err, EINVAL, "image config: rootfs.diff_ids missing or too long");
  if (!json_is_string (json_object_get (rootfs, "type"))
      || strcmp (json_string_value (json_object_get (rootfs, "type")), "layers") != 0)
    return arca_error_set (err, EINVAL, "image config: rootfs.type is not \"layers\"");
  c.diff_ids = calloc (json_array_size (ids) + 1, sizeof (*c.diff_ids));
  if (c.diff_ids == NULL)
    return arca_error_errno (err, "image config");
  for (size_t i = 0; i < json_array_size (ids); i++)
    {
      const char *s = json_string_value (json_array_get (ids, i));
      if (!arca_digest_is_valid (s))
        {
          arca_image_config_free (&c);
          return arca_error_set (err, EINVAL,
                                 "image config: rootfs.diff_ids[%zu] is not a sha256 digest", i);
        }
      memcpy (c.diff_ids[i], s, ARCA_DIGEST_LEN + 1);
    }
  c.n_diff_ids = json_array_size (ids);
  created = json_object_get (j, "created");
  if (json_is_string (created))
    {
      struct tm tm = { 0 };
      if (strptime (json_string_value (created), "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
        c.created = (int64_t)timegm (&tm);
    }
  *ret = c;
  return 0;
}

int
arca_oci_index_parse (const char *json, size_t len, struct arca_descriptor **ret, size_t *ret_n,
                      arca_error **err)
{
  cleanup_json json_t *j = NULL;
  struct arca_descriptor *d;
  json_t *ms;
  size_t n;

  if (load (json, len, "index.json", &j, err) < 0)
    return -1;
  ms = json_object_get (j, "manifests");
  if (!json_is_array (ms) || json_array_size (ms) > ARCA_MANIFEST_MAX_LAYERS)
    return arca_error_set (err, EINVAL, "index.json: manifests missing or too many");
  n = json_array_size (ms);
  d = calloc (n + 1, sizeof (*d));
  if (d == NULL)
    return arca_error_errno (err, "index.json");
  for (size_t i = 0; i < n; i++)
    {
      json_t *m = json_array_get (ms, i), *ann = json_object_get (m, "annotations");
      json_t *name = json_object_get (ann, "io.containerd.image.name");
      char what[64];
      snprintf (what, sizeof (what), "index.json: manifests[%zu]", i);
      if (!json_is_string (name))
        name = json_object_get (ann, "org.opencontainers.image.ref.name");
      if (parse_descriptor (m, what, &d[i], err) < 0
          || (json_is_string (name) && (d[i].name = strdup (json_string_value (name))) == NULL))
        {
          arca_descriptors_free (d, n);
          return arca_error_set (err, ENOMEM, "%s", what);
        }
    }
  *ret = d;
  *ret_n = n;
  return 0;
}

static int
strings (json_t *a, char ***ret)
{
  size_t n = json_array_size (a);
  char **v = calloc (n + 1, sizeof (char *));

  if (v == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      const char *s = json_string_value (json_array_get (a, i));
      if (s == NULL || (v[i] = strdup (s)) == NULL)
        {
          arca_strv_free (v);
          return -1;
        }
    }
  *ret = v;
  return 0;
}

int
arca_docker_manifest_parse (const char *json, size_t len, struct arca_docker_entry **ret,
                            size_t *ret_n, arca_error **err)
{
  cleanup_json json_t *j = NULL;
  struct arca_docker_entry *e;
  size_t n;

  if (load (json, len, "manifest.json", &j, err) < 0)
    return -1;
  if (!json_is_array (j) || json_array_size (j) == 0
      || json_array_size (j) > ARCA_MANIFEST_MAX_LAYERS)
    return arca_error_set (err, EINVAL, "manifest.json: not a non-empty array");
  n = json_array_size (j);
  e = calloc (n, sizeof (*e));
  if (e == NULL)
    return arca_error_errno (err, "manifest.json");
  for (size_t i = 0; i < n; i++)
    {
      json_t *o = json_array_get (j, i);
      json_t *cfg = json_object_get (o, "Config"), *tags = json_object_get (o, "RepoTags");
      json_t *layers = json_object_get (o, "Layers");
      if (!json_is_string (cfg) || !json_is_array (layers)
          || json_array_size (layers) > ARCA_MANIFEST_MAX_LAYERS
          || (tags && !json_is_null (tags) && !json_is_array (tags)))
        {
          arca_docker_entries_free (e, n);
          return arca_error_set (err, EINVAL,
                                 "manifest.json[%zu]: Config, Layers or RepoTags invalid", i);
        }
      if ((e[i].config = strdup (json_string_value (cfg))) == NULL
          || strings (json_is_array (tags) ? tags : NULL, &e[i].repo_tags) < 0
          || strings (layers, &e[i].layers) < 0)
        {
          arca_docker_entries_free (e, n);
          return arca_error_set (err, EINVAL, "manifest.json[%zu]: invalid strings", i);
        }
    }
  *ret = e;
  *ret_n = n;
  return 0;
}

static json_t *
descriptor_json (const struct arca_descriptor *d)
{
  return json_pack ("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
                    (json_int_t)d->size);
}

char *
arca_manifest_dump (const struct arca_manifest *m)
{
  cleanup_json json_t *j
      = json_pack ("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType",
                   ARCA_MEDIA_OCI_MANIFEST, "config", descriptor_json (&m->config), "layers");
  json_t *layers = json_object_get (j, "layers");

  if (j == NULL)
    return NULL;
  for (size_t i = 0; i < m->n_layers; i++)
    if (json_array_append_new (layers, descriptor_json (&m->layers[i])) < 0)
      return NULL;
  return json_dumps (j, JSON_COMPACT);
}
