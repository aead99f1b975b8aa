/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "util/cleanup.h"

#define cleanup_json __attribute__ ((cleanup (json_decrefp)))

struct saved_image
{
  struct arca_image_record *rec;
  struct arca_manifest manifest;
  size_t manifest_size;
};

struct save
{
  arca_store *store;
  struct archive *a;
  char **written; /* archive names already written (shared blobs) */
  size_t n_written;
};

static void
write_freep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

static int
fail (struct save *s, const char *name, arca_error **err)
{
  int e = archive_errno (s->a);
  return arca_error_set (err, e > 0 ? e : EIO, "write `%s` to the archive: %s", name,
                         archive_error_string (s->a) ? archive_error_string (s->a) : "failed");
}

/* true if name was written before (and records it otherwise). */
static int
seen (struct save *s, const char *name, arca_error **err)
{
  char **nv;

  for (size_t i = 0; i < s->n_written; i++)
    if (strcmp (s->written[i], name) == 0)
      return 1;
  nv = realloc (s->written, (s->n_written + 1) * sizeof (char *));
  if (nv == NULL || (nv[s->n_written] = strdup (name)) == NULL)
    {
      if (nv)
        s->written = nv;
      return arca_error_errno (err, "save `%s`", name);
    }
  s->written = nv;
  s->n_written++;
  return 0;
}

static int
header (struct save *s, const char *name, int64_t size, mode_t type, arca_error **err)
{
  struct archive_entry *e = archive_entry_new ();
  int r;

  if (e == NULL)
    return arca_error_set (err, ENOMEM, "save `%s`", name);
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size (e, type == AE_IFDIR ? 0 : size);
  archive_entry_set_mtime (e, 0, 0);
  r = archive_write_header (s->a, e);
  archive_entry_free (e);
  return r == ARCHIVE_OK ? 0 : fail (s, name, err);
}

static int
add_buffer (struct save *s, const char *name, const char *data, size_t len, arca_error **err)
{
  if (header (s, name, (int64_t)len, AE_IFREG, err) < 0)
    return -1;
  if (len && archive_write_data (s->a, data, len) != (la_ssize_t)len)
    return fail (s, name, err);
  return 0;
}

/* Copies a blob into the archive, hashing it on the way: the archive
 * never carries content that does not match its digest. */
static int
add_blob (struct save *s, const char *name, const char *digest, arca_error **err)
{
  cleanup_close int fd = -1;
  cleanup_digester arca_digester *d = NULL;
  cleanup_free char *buf = malloc (1 << 17);
  char actual[ARCA_DIGEST_LEN + 1];
  struct stat st;
  int r = seen (s, name, err);

  if (r != 0)
    return r < 0 ? -1 : 0;
  fd = arca_blob_open (s->store, digest, false, err);
  if (fd < 0 || buf == NULL || arca_digester_new (&d, err) < 0)
    return arca_error_errno (err, "save blob %s", digest);
  if (fstat (fd, &st) < 0)
    return arca_error_errno (err, "stat blob %s", digest);
  if (header (s, name, st.st_size, AE_IFREG, err) < 0)
    return -1;
  for (off_t left = st.st_size; left > 0;)
    {
      ssize_t n = read (fd, buf, left < (1 << 17) ? (size_t)left : (1 << 17));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return arca_error_set (err, n < 0 ? errno : EIO, "read blob %s", digest);
      arca_digester_update (d, buf, (size_t)n);
      if (archive_write_data (s->a, buf, (size_t)n) != n)
        return fail (s, name, err);
      left -= n;
    }
  if (arca_digester_final (d, actual, err) < 0)
    return -1;
  if (strcmp (actual, digest) != 0)
    return arca_error_set (err, EBADMSG, "blob %s is corrupt: its content hashes to %s", digest,
                           actual);
  return 0;
}

static int
save_oci (struct save *s, struct saved_image *imgs, size_t n, arca_error **err)
{
  cleanup_json json_t *index = json_pack ("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                                          ARCA_MEDIA_OCI_INDEX, "manifests");
  cleanup_free char *text = NULL;
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  char name[128];

  if (index == NULL)
    return arca_error_set (err, ENOMEM, "save");
  if (add_buffer (s, "oci-layout", layout, strlen (layout), err) < 0
      || header (s, "blobs/", 0, AE_IFDIR, err) < 0
      || header (s, "blobs/sha256/", 0, AE_IFDIR, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      struct saved_image *im = &imgs[i];
      char **tags = im->rec->tags;
      const char *digests[3] = { im->rec->manifest_digest, im->manifest.config.digest, NULL };

      for (size_t k = 0; digests[k]; k++)
        {
          snprintf (name, sizeof (name), "blobs/sha256/%s", arca_digest_hex (digests[k]));
          if (add_blob (s, name, digests[k], err) < 0)
            return -1;
        }
      for (size_t k = 0; k < im->manifest.n_layers; k++)
        {
          snprintf (name, sizeof (name), "blobs/sha256/%s",
                    arca_digest_hex (im->manifest.layers[k].digest));
          if (add_blob (s, name, im->manifest.layers[k].digest, err) < 0)
            return -1;
        }
      for (size_t k = 0; k == 0 || tags[k]; k++)
        {
          json_t *desc
              = json_pack ("{s:s, s:s, s:I}", "mediaType", ARCA_MEDIA_OCI_MANIFEST, "digest",
                           im->rec->manifest_digest, "size", (json_int_t)im->manifest_size);
          /* podman's ref.name is the full name; containerd reads its own key. */
          if (desc && tags[k])
            json_object_set_new (desc, "annotations",
                                 json_pack ("{s:s, s:s}", "org.opencontainers.image.ref.name",
                                            tags[k], "io.containerd.image.name", tags[k]));
          if (desc == NULL
              || json_array_append_new (json_object_get (index, "manifests"), desc) < 0)
            return arca_error_set (err, ENOMEM, "save index.json");
          if (tags[k] == NULL)
            break;
        }
    }
  text = json_dumps (index, JSON_COMPACT);
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "save index.json");
  return add_buffer (s, "index.json", text, strlen (text), err);
}

static int
save_docker (struct save *s, struct saved_image *imgs, size_t n, arca_error **err)
{
  cleanup_json json_t *manifest = json_array ();
  cleanup_json json_t *repos = json_object ();
  cleanup_free char *mtext = NULL, *rtext = NULL;
  char name[160];

  if (manifest == NULL || repos == NULL)
    return arca_error_set (err, ENOMEM, "save manifest.json");
  for (size_t i = 0; i < n; i++)
    {
      struct saved_image *im = &imgs[i];
      json_t *entry = json_pack ("{s:s, s:[], s:[]}", "Config", "", "RepoTags", "Layers");
      const char *last = NULL;

      if (entry == NULL || json_array_append_new (manifest, entry) < 0)
        return arca_error_set (err, ENOMEM, "save manifest.json");
      snprintf (name, sizeof (name), "%s.json", arca_digest_hex (im->manifest.config.digest));
      json_object_set_new (entry, "Config", json_string (name));
      if (add_blob (s, name, im->manifest.config.digest, err) < 0)
        return -1;
      for (size_t k = 0; k < im->manifest.n_layers; k++)
        {
          const char *hex = arca_digest_hex (im->manifest.layers[k].digest);
          int r;
          snprintf (name, sizeof (name), "%s/", hex);
          r = seen (s, name, err);
          if (r < 0 || (r == 0 && header (s, name, 0, AE_IFDIR, err) < 0))
            return -1;
          snprintf (name, sizeof (name), "%s/layer.tar", hex);
          if (add_blob (s, name, im->manifest.layers[k].digest, err) < 0)
            return -1;
          json_array_append_new (json_object_get (entry, "Layers"), json_string (name));
          last = hex;
        }
      for (char **t = im->rec->tags; *t; t++)
        {
          const char *colon = strrchr (*t, ':');
          cleanup_free char *repo = strndup (*t, colon ? (size_t)(colon - *t) : strlen (*t));
          json_t *r;
          json_array_append_new (json_object_get (entry, "RepoTags"), json_string (*t));
          if (repo == NULL || colon == NULL || last == NULL)
            continue;
          r = json_object_get (repos, repo);
          if (r == NULL)
            json_object_set_new (repos, repo, r = json_object ());
          json_object_set_new (r, colon + 1, json_string (last));
        }
    }
  mtext = json_dumps (manifest, JSON_COMPACT);
  rtext = json_dumps (repos, JSON_COMPACT);
  if (mtext == NULL || rtext == NULL)
    return arca_error_set (err, ENOMEM, "save manifest.json");
  if (add_buffer (s, "manifest.json", mtext, strlen (mtext), err) < 0)
    return -1;
  return add_buffer (s, "repositories", rtext, strlen (rtext), err);
}

int
arca_image_save (arca_store *store, arca_db *db, const char *const *refs,
                 enum arca_archive_format format, int fd, arca_error **err)
{
  _cleanup_ (write_freep) struct archive *a = archive_write_new ();
  struct save s = { .store = store };
  struct saved_image *imgs;
  size_t n = 0;
  int r = 0;

  while (refs && refs[n])
    n++;
  if (n == 0)
    return arca_error_set (err, EINVAL, "save: no image given");
  imgs = calloc (n, sizeof (*imgs));
  if (imgs == NULL || a == NULL)
    {
      free (imgs);
      return arca_error_set (err, ENOMEM, "save");
    }
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      cleanup_free char *json = NULL;
      char id[ARCA_DIGEST_LEN + 1];
      size_t len = 0;
      if (arca_db_resolve (db, refs[i], id, err) < 0
          || arca_db_get_image (db, id, &imgs[i].rec, err) < 0
          || arca_blob_read (store, imgs[i].rec->manifest_digest, ARCA_MANIFEST_MAX_SIZE, &json,
                             &len, err)
                 < 0
          || arca_manifest_parse (json, len, &imgs[i].manifest, err) < 0)
        r = arca_error_wrap (err, "save `%s`", refs[i]);
      imgs[i].manifest_size = len;
    }
  s.a = a;
  if (r == 0
      && (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
          || archive_write_open_fd (a, fd) != ARCHIVE_OK))
    r = fail (&s, "(archive)", err);
  if (r == 0)
    r = format == ARCA_ARCHIVE_OCI ? save_oci (&s, imgs, n, err) : save_docker (&s, imgs, n, err);
  if (r == 0 && archive_write_close (a) != ARCHIVE_OK)
    r = fail (&s, "(end)", err);
  for (size_t i = 0; i < n; i++)
    {
      arca_image_record_free (imgs[i].rec);
      arca_manifest_free (&imgs[i].manifest);
    }
  free (imgs);
  for (size_t i = 0; i < s.n_written; i++)
    free (s.written[i]);
  free (s.written);
  return r < 0 ? -1 : 0;
}
