/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define MAX_FILES 100000

/* A file of the archive, now a blob. */
struct file
{
  char *name;
  char digest[ARCA_DIGEST_LEN + 1];
};

/* What this load created, removed again if it fails. */
struct load
{
  arca_store *store;
  arca_db *db;
  const struct arca_unpack_options *opts;
  struct file *files;
  size_t n_files;
  char **new_blobs;
  size_t n_new_blobs;
  char **new_layers; /* dir names below layers/ */
  size_t n_new_layers;
  char **image_ids;
  size_t n_images;
  struct arca_image_record **records; /* verified, added together at the end */
  size_t n_records;
  char **alias_names;   /* symlink and hard link members ... */
  char **alias_targets; /* ... and the member each names */
  size_t n_aliases;
};

static bool
contains (char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

/* After a failure, removes what this load created, except what a
 * concurrent load of the same content has recorded meanwhile. */
static void
undo_files (struct load *l)
{
  cleanup_strv char **refs = NULL;
  cleanup_error arca_error *qerr = NULL;

  if (arca_db_referenced_blobs (l->db, &refs, &qerr) < 0)
    return; /* unsure what is in use: gc cleans up later */
  for (size_t i = 0; i < l->n_new_layers; i++)
    {
      char chain[ARCA_DIGEST_LEN + 1];
      snprintf (chain, sizeof (chain), ARCA_DIGEST_PREFIX "%s", l->new_layers[i]);
      if (arca_db_layer_exists (l->db, chain, NULL) == 0)
        arca_rm_rf_at (arca_store_layers_fd (l->store), l->new_layers[i], NULL);
    }
  for (size_t i = 0; i < l->n_new_blobs; i++)
    if (!contains (refs, l->new_blobs[i]))
      arca_blob_remove (l->store, l->new_blobs[i], NULL);
}

static void
load_release (struct load *l, bool failed)
{
  if (failed)
    undo_files (l);
  for (size_t i = 0; i < l->n_files; i++)
    free (l->files[i].name);
  free (l->files);
  for (size_t i = 0; i < l->n_new_blobs; i++)
    free (l->new_blobs[i]);
  free (l->new_blobs);
  for (size_t i = 0; i < l->n_new_layers; i++)
    free (l->new_layers[i]);
  free (l->new_layers);
  arca_strv_free (l->alias_names);
  arca_strv_free (l->alias_targets);
  arca_strv_free (l->image_ids);
  for (size_t i = 0; i < l->n_records; i++)
    arca_image_record_free (l->records[i]);
  free (l->records);
}

static const struct file *
find_file (struct load *l, const char *name)
{
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  for (size_t i = 0; i < l->n_files; i++)
    if (strcmp (l->files[i].name, name) == 0)
      return &l->files[i];
  return NULL;
}

/* A blob this load wrote: the store hashed exactly the bytes it wrote and
 * renamed them over any older copy, so there is no need to hash it again. */
static bool
written_here (struct load *l, const char *digest)
{
  for (size_t i = 0; i < l->n_files; i++)
    if (strcmp (l->files[i].digest, digest) == 0)
      return true;
  return false;
}

static bool
has_blob_file (struct load *l, const char *digest)
{
  char name[128];
  snprintf (name, sizeof (name), "blobs/sha256/%s", arca_digest_hex (digest));
  return find_file (l, name) != NULL;
}

/* Streams one archive member into the store. */
static int
store_member (struct load *l, struct archive *a, const char *name, arca_error **err)
{
  cleanup_blob_writer arca_blob_writer *w = NULL;
  char expected[ARCA_DIGEST_LEN + 1];
  const char *want = NULL;
  const void *buf;
  size_t len;
  la_int64_t off;
  bool created;
  struct file *nf;
  int r;

  if (strncmp (name, "blobs/sha256/", 13) == 0)
    {
      snprintf (expected, sizeof (expected), ARCA_DIGEST_PREFIX "%s", name + 13);
      if (!arca_digest_is_valid (expected))
        return arca_error_set (err, EINVAL, "archive member `%s`: not a sha256 blob name", name);
      want = expected;
    }
  if (arca_blob_writer_new (l->store, &w, err) < 0)
    return -1;
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    if (arca_blob_writer_write (w, buf, len, err) < 0)
      return arca_error_wrap (err, "archive member `%s`", name);
  if (r != ARCHIVE_EOF)
    return arca_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO,
                           "archive member `%s`: %s", name, archive_error_string (a));
  nf = realloc (l->files, (l->n_files + 1) * sizeof (*nf));
  if (nf == NULL)
    return arca_error_errno (err, "archive member `%s`", name);
  l->files = nf;
  nf = &l->files[l->n_files];
  if (arca_blob_writer_commit (w, want, nf->digest, &created, err) < 0)
    return arca_error_wrap (err, "archive member `%s`", name);
  if ((nf->name = strdup (name)) == NULL)
    return arca_error_errno (err, "archive member `%s`", name);
  l->n_files++;
  if (created && arca_strv_append (&l->new_blobs, &l->n_new_blobs, nf->digest) < 0)
    return arca_error_errno (err, "archive member `%s`", name);
  return 0;
}

/* Normalises "dir/../x" style member paths; NULL if it climbs out. */
static char *
join_member (const char *name, const char *target, bool relative_to_dir)
{
  cleanup_free char *joined = NULL;
  cleanup_free char *out = NULL;
  const char *slash = strrchr (name, '/');
  size_t len = 0;

  if (target[0] == '/')
    return NULL;
  if (asprintf (&joined, "%.*s%s", relative_to_dir && slash ? (int)(slash - name + 1) : 0, name,
                target)
      < 0)
    return NULL;
  out = calloc (1, strlen (joined) + 1);
  if (out == NULL)
    return NULL;
  for (char *p = joined; *p;)
    {
      size_t n = strcspn (p, "/");
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          char *prev;
          if (len == 0)
            return NULL;
          out[len] = '\0';
          prev = strrchr (out, '/');
          len = prev ? (size_t)(prev - out) : 0;
          out[len] = '\0';
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (len > 0)
            out[len++] = '/';
          memcpy (out + len, p, n);
          len += n;
          out[len] = '\0';
        }
      p += n;
      while (*p == '/')
        p++;
    }
  return move_ptr (out);
}

/* podman's docker-archive names a layer <id>/layer.tar as a symlink to the
 * tar it stores once; docker uses hard links. */
static int
add_alias (struct load *l, const char *name, const char *hardlink, const char *symlink,
           arca_error **err)
{
  cleanup_free char *target = NULL;
  size_t n = l->n_aliases;

  if (hardlink == NULL && symlink == NULL)
    return 0;
  target = hardlink ? join_member ("", hardlink, false) : join_member (name, symlink, true);
  if (target == NULL)
    return 0; /* pointing outside the archive: never a member */
  if (n >= MAX_FILES)
    return arca_error_set (err, EFBIG, "read archive: more than %d links", MAX_FILES);
  if (arca_strv_append (&l->alias_names, &n, name) < 0)
    return arca_error_errno (err, "archive member `%s`", name);
  n = l->n_aliases;
  if (arca_strv_append (&l->alias_targets, &n, target) < 0)
    {
      free (l->alias_names[n]);
      l->alias_names[n] = NULL;
      return arca_error_errno (err, "archive member `%s`", name);
    }
  l->n_aliases = n;
  return 0;
}

static const struct file *find_file (struct load *l, const char *name);

/* Links become file entries with their target's digest; chains of links
 * resolve over a few rounds, dangling ones are dropped. */
static int
resolve_aliases (struct load *l, arca_error **err)
{
  for (int round = 0; round < 8; round++)
    {
      bool progress = false;
      for (size_t i = 0; i < l->n_aliases; i++)
        {
          const struct file *f;
          struct file *nf;
          if (l->alias_names[i][0] == '\0' || find_file (l, l->alias_names[i]))
            continue;
          f = find_file (l, l->alias_targets[i]);
          if (f == NULL)
            continue;
          nf = realloc (l->files, (l->n_files + 1) * sizeof (*nf));
          if (nf == NULL)
            return arca_error_errno (err, "archive member `%s`", l->alias_names[i]);
          l->files = nf;
          f = NULL;
          nf[l->n_files].name = strdup (l->alias_names[i]);
          if (nf[l->n_files].name == NULL)
            return arca_error_errno (err, "archive member `%s`", l->alias_names[i]);
          memcpy (nf[l->n_files].digest, find_file (l, l->alias_targets[i])->digest,
                  sizeof (nf->digest));
          l->n_files++;
          progress = true;
        }
      if (!progress)
        break;
    }
  return 0;
}

static int
read_members (struct load *l, int fd, arca_error **err)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int r;

  if (a == NULL)
    return arca_error_set (err, ENOMEM, "read archive");
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_fd (a, fd, 1 << 17) != ARCHIVE_OK)
    {
      r = arca_error_set (err, EINVAL, "read archive: %s", archive_error_string (a));
      archive_read_free (a);
      return r;
    }
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      const char *name = archive_entry_pathname (e);
      if (name == NULL)
        continue;
      while (name[0] == '.' && name[1] == '/')
        name += 2;
      if (archive_entry_hardlink (e) || archive_entry_filetype (e) == AE_IFLNK)
        {
          r = add_alias (l, name, archive_entry_hardlink (e), archive_entry_symlink (e), err);
          if (r < 0)
            break;
          continue;
        }
      if (archive_entry_filetype (e) != AE_IFREG)
        continue;
      if (l->n_files >= MAX_FILES)
        r = arca_error_set (err, EFBIG, "read archive: more than %d files", MAX_FILES);
      else
        r = store_member (l, a, name, err);
      if (r < 0)
        break;
    }
  if (r < 0)
    {
      archive_read_free (a);
      return -1;
    }
  if (r != ARCHIVE_EOF)
    r = arca_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO,
                        "read archive: %s (truncated or corrupt?)", archive_error_string (a));
  else
    r = resolve_aliases (l, err);
  archive_read_free (a);
  return r;
}

static int
read_file (struct load *l, const char *name, char **ret, size_t *ret_len, arca_error **err)
{
  const struct file *f = find_file (l, name);
  if (f == NULL)
    return arca_error_set (err, ENOENT, "archive has no `%s`", name);
  return arca_blob_read (l->store, f->digest, ARCA_MANIFEST_MAX_SIZE, ret, ret_len, err);
}

/* Unpacks the layers of manifest m, checks them against the config's
 * diff_ids and adds the image. */
static int
add_image (struct load *l, const char *config_digest, const char *manifest_digest,
           const struct arca_manifest *m, const char *const *tags, arca_error **err)
{
  cleanup_free char *cfg_json = NULL;
  struct arca_image_config cfg = { 0 };
  cleanup_image_record struct arca_image_record *img = calloc (1, sizeof (*img));
  char parent[ARCA_DIGEST_LEN + 1] = "";
  int r = 0;

  if (img == NULL)
    return arca_error_errno (err, "load image");
  if (arca_blob_read (l->store, config_digest, ARCA_MANIFEST_MAX_SIZE, &cfg_json, NULL, err) < 0
      || arca_image_config_parse (cfg_json, strlen (cfg_json), &cfg, err) < 0)
    return arca_error_wrap (err, "image config %s", config_digest);
  if (cfg.n_diff_ids != m->n_layers)
    {
      arca_image_config_free (&cfg);
      return arca_error_set (err, EINVAL, "image %s: %zu layers but %zu diff_ids", config_digest,
                             m->n_layers, cfg.n_diff_ids);
    }
  img->layers = calloc (m->n_layers + 1, sizeof (*img->layers));
  if (img->layers == NULL)
    r = arca_error_errno (err, "load image");
  snprintf (img->id, sizeof (img->id), "%s", config_digest);
  snprintf (img->manifest_digest, sizeof (img->manifest_digest), "%s", manifest_digest);
  img->created = cfg.created;
  for (size_t i = 0; r == 0 && i < m->n_layers; i++)
    {
      struct arca_image_layer *il = &img->layers[i];
      const struct arca_descriptor *d = &m->layers[i];
      img->n_layers = i + 1;
      if (arca_chain_id (*parent ? parent : NULL, cfg.diff_ids[i], il->chain_id, err) < 0)
        {
          r = -1;
          break;
        }
      memcpy (il->diff_id, cfg.diff_ids[i], sizeof (il->diff_id));
      memcpy (il->blob_digest, d->digest, sizeof (il->blob_digest));
      il->media_type = strdup (d->media_type);
      il->dir = strdup (arca_digest_hex (il->chain_id));
      if (il->media_type == NULL || il->dir == NULL)
        r = arca_error_errno (err, "load image");
      else if ((r = arca_db_layer_exists (l->db, il->chain_id, err)) > 0)
        {
          /* Already unpacked: still prove this blob is that layer, so a
           * config cannot pair a known diff_id with other content.  An
           * uncompressed blob named by the diff_id proves it by its name
           * (the store hashed it when it was written): no second read, which
           * matters for every step of a build. */
          cleanup_close int bfd = -1;
          struct arca_unpack_result res;
          if (strcmp (d->digest, il->diff_id) == 0 && arca_blob_exists (l->store, d->digest, NULL) == 1)
            {
              memcpy (res.diff_id, il->diff_id, sizeof res.diff_id);
              r = 0;
            }
          else
            {
              bfd = arca_blob_open (l->store, d->digest, !written_here (l, d->digest), err);
              r = bfd < 0 ? -1 : arca_layer_diff_id (bfd, &res, err);
            }
          if (r == 0 && strcmp (res.diff_id, il->diff_id) != 0)
            r = arca_error_set (err, EBADMSG,
                                "layer %s: diff_id mismatch: the config says %s, the content is %s",
                                d->digest, il->diff_id, res.diff_id);
          if (r == 0)
            r = arca_db_layer_size (l->db, il->chain_id, &il->size, err);
        }
      else if (r == 0)
        {
          /* A blob from the store (not in the archive) is verified while
           * it is opened, one from the archive was hashed as it was
           * written: either way its digest is known good, and for an
           * uncompressed layer that is the diff_id, so unpacking need not
           * hash it once more. */
          cleanup_close int bfd
              = arca_blob_open (l->store, d->digest, !written_here (l, d->digest), err);
          struct arca_unpack_result res;
          if (bfd < 0
              || arca_layer_unpack_blob (bfd, d->digest, arca_store_layers_fd (l->store), il->dir,
                                         l->opts, &res, err)
                     < 0)
            r = -1;
          else
            {
              if (!res.existed && arca_strv_append (&l->new_layers, &l->n_new_layers, il->dir) < 0)
                r = arca_error_errno (err, "load image");
              else if (strcmp (res.diff_id, il->diff_id) != 0)
                r = arca_error_set (
                    err, EBADMSG,
                    "layer %s: diff_id mismatch: the config says %s, the content is %s", d->digest,
                    il->diff_id, res.diff_id);
              il->size = res.size;
            }
        }
      img->size += il->size;
      memcpy (parent, il->chain_id, sizeof (parent));
    }
  /* Tags travel in the record until the one transaction at the end. */
  for (size_t i = 0, n_tags = 0; r == 0 && tags && tags[i]; i++)
    if (arca_strv_append (&img->tags, &n_tags, tags[i]) < 0)
      r = arca_error_errno (err, "load image");
  if (r == 0 && arca_strv_append (&l->image_ids, &l->n_images, img->id) < 0)
    r = arca_error_errno (err, "load image");
  if (r == 0)
    {
      struct arca_image_record **nr = realloc (l->records, (l->n_records + 1) * sizeof (*nr));
      if (nr == NULL)
        r = arca_error_errno (err, "load image");
      else
        {
          l->records = nr;
          nr[l->n_records++] = move_ptr (img);
        }
    }
  arca_image_config_free (&cfg);
  return r < 0 ? -1 : 0;
}

static int
normalise_tag (const char *text, enum arca_reference_mode mode, char **ret, arca_error **err)
{
  cleanup_reference struct arca_reference *ref = NULL;

  if (arca_reference_parse (text, mode, &ref, err) < 0)
    return -1;
  if (ref->tag == NULL)
    {
      *ret = NULL;
      return 0;
    }
  free (ref->digest);
  ref->digest = NULL;
  *ret = arca_reference_string (ref);
  return *ret ? 0 : arca_error_errno (err, "image name `%s`", text);
}

static int
load_oci (struct load *l, arca_error **err)
{
  cleanup_free char *layout = NULL, *index = NULL;
  struct arca_descriptor *descs = NULL;
  size_t n = 0, len;
  int r = 0;

  if (read_file (l, "oci-layout", &layout, NULL, err) < 0)
    return arca_error_wrap (err, "oci-archive");
  if (strstr (layout, "imageLayoutVersion") == NULL)
    return arca_error_set (err, EINVAL, "oci-archive: oci-layout has no imageLayoutVersion");
  if (read_file (l, "index.json", &index, &len, err) < 0
      || arca_oci_index_parse (index, len, &descs, &n, err) < 0)
    return arca_error_wrap (err, "oci-archive");
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      cleanup_free char *mjson = NULL, *tag = NULL;
      struct arca_manifest m = { 0 };
      size_t mlen;
      const char *tags[2] = { NULL, NULL };

      if (!has_blob_file (l, descs[i].digest))
        r = arca_error_set (err, ENOENT, "oci-archive: manifest %s is not in the archive",
                            descs[i].digest);
      else if (strcmp (descs[i].media_type, ARCA_MEDIA_OCI_MANIFEST) != 0
               && strcmp (descs[i].media_type, ARCA_MEDIA_DOCKER_MANIFEST) != 0)
        r = arca_error_set (err, ENOTSUP, "oci-archive: manifest %s: unsupported media type `%s`",
                            descs[i].digest, descs[i].media_type);
      else if (arca_blob_read (l->store, descs[i].digest, ARCA_MANIFEST_MAX_SIZE, &mjson, &mlen,
                               err)
                   < 0
               || arca_manifest_parse (mjson, mlen, &m, err) < 0)
        r = arca_error_wrap (err, "oci-archive: manifest %s", descs[i].digest);
      else
        {
          for (size_t k = 0; r == 0 && k < m.n_layers; k++)
            if (!has_blob_file (l, m.layers[k].digest)
                && arca_blob_exists (l->store, m.layers[k].digest, NULL) != 1)
              r = arca_error_set (err, ENOENT, "oci-archive: layer %s is not in the archive",
                                  m.layers[k].digest);
          if (r == 0 && !has_blob_file (l, m.config.digest))
            r = arca_error_set (err, ENOENT, "oci-archive: config %s is not in the archive",
                                m.config.digest);
          /* ref.name is a full name for podman and skopeo, but a bare tag
           * ("latest", "1.0") for other writers: that names no repository. */
          if (r == 0 && descs[i].name && strpbrk (descs[i].name, "/:") != NULL
              && normalise_tag (descs[i].name, ARCA_REFERENCE_LOCAL, &tag, err) < 0)
            r = -1;
          tags[0] = tag;
          if (r == 0)
            r = add_image (l, m.config.digest, descs[i].digest, &m, tags, err);
        }
      arca_manifest_free (&m);
    }
  arca_descriptors_free (descs, n);
  return r;
}

/* docker-archive layers may be compressed; the manifest arca writes for
 * them says how, from the magic bytes. */
static char *
layer_media_type (struct load *l, const char *digest)
{
  cleanup_close int fd = arca_blob_open (l->store, digest, false, NULL);
  unsigned char magic[4] = { 0 };
  const char *suffix = "";

  if (fd >= 0 && read (fd, magic, sizeof (magic)) == (ssize_t)sizeof (magic))
    {
      if (magic[0] == 0x1f && magic[1] == 0x8b)
        suffix = "+gzip";
      else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        suffix = "+zstd";
    }
  {
    char *mt;
    if (asprintf (&mt, ARCA_MEDIA_OCI_LAYER "%s", suffix) < 0)
      return NULL;
    return mt;
  }
}

static int
load_docker (struct load *l, arca_error **err)
{
  cleanup_free char *mf = NULL;
  struct arca_docker_entry *ents = NULL;
  size_t n = 0, len;
  int r = 0;

  if (read_file (l, "manifest.json", &mf, &len, err) < 0
      || arca_docker_manifest_parse (mf, len, &ents, &n, err) < 0)
    return arca_error_wrap (err, "docker-archive");
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      const struct file *cfg = find_file (l, ents[i].config);
      struct arca_manifest m = { 0 };
      cleanup_strv char **tags = NULL;
      size_t n_tags = 0, nl = 0;
      cleanup_free char *mjson = NULL;
      char mdigest[ARCA_DIGEST_LEN + 1];
      off_t size;

      while (ents[i].layers[nl])
        nl++;
      if (cfg == NULL)
        {
          r = arca_error_set (err, ENOENT, "docker-archive: config `%s` is not in the archive",
                              ents[i].config);
          break;
        }
      /* Docker names the config after its digest: hold it to that. */
      if (strspn (ents[i].config, "0123456789abcdef") == ARCA_DIGEST_HEX_LEN
          && strncmp (ents[i].config, arca_digest_hex (cfg->digest), ARCA_DIGEST_HEX_LEN) != 0)
        {
          r = arca_error_set (err, EBADMSG,
                              "docker-archive: config `%s` digest mismatch: content is %s",
                              ents[i].config, cfg->digest);
          break;
        }
      m.config.media_type = strdup (ARCA_MEDIA_OCI_CONFIG);
      memcpy (m.config.digest, cfg->digest, sizeof (m.config.digest));
      r = arca_blob_size (l->store, cfg->digest, &size, err);
      m.config.size = size;
      m.layers = calloc (nl + 1, sizeof (*m.layers));
      if (m.config.media_type == NULL || m.layers == NULL)
        r = arca_error_errno (err, "docker-archive");
      for (size_t k = 0; r == 0 && k < nl; k++)
        {
          const struct file *lf = find_file (l, ents[i].layers[k]);
          m.n_layers = k + 1;
          if (lf == NULL)
            {
              r = arca_error_set (err, ENOENT, "docker-archive: layer `%s` is not in the archive",
                                  ents[i].layers[k]);
              break;
            }
          m.layers[k].media_type = layer_media_type (l, lf->digest);
          memcpy (m.layers[k].digest, lf->digest, sizeof (m.layers[k].digest));
          if (m.layers[k].media_type == NULL
              || arca_blob_size (l->store, lf->digest, &size, err) < 0)
            r = -1;
          m.layers[k].size = size;
        }
      for (size_t k = 0; r == 0 && ents[i].repo_tags[k]; k++)
        {
          cleanup_free char *t = NULL;
          if (normalise_tag (ents[i].repo_tags[k], ARCA_REFERENCE_DOCKER, &t, err) < 0)
            r = arca_error_wrap (err, "docker-archive: RepoTags");
          else if (t && arca_strv_append (&tags, &n_tags, t) < 0)
            r = arca_error_errno (err, "docker-archive");
        }
      /* The archive carries no manifest: write the OCI one it implies. */
      if (r == 0 && (mjson = arca_manifest_dump (&m)) == NULL)
        r = arca_error_set (err, ENOMEM, "docker-archive: write manifest");
      if (r == 0)
        {
          bool created;
          r = arca_blob_put_buffer (l->store, mjson, strlen (mjson), NULL, mdigest, &created, err);
          if (r == 0 && created && arca_strv_append (&l->new_blobs, &l->n_new_blobs, mdigest) < 0)
            r = arca_error_errno (err, "docker-archive");
        }
      if (r == 0)
        r = add_image (l, cfg->digest, mdigest, &m, (const char *const *)tags, err);
      arca_manifest_free (&m);
    }
  arca_docker_entries_free (ents, n);
  return r;
}

/* Blobs this load wrote that no image references (manifest.json,
 * repositories, ...) are removed even on success. */
static int
drop_unreferenced (struct load *l, arca_error **err)
{
  cleanup_strv char **refs = NULL;

  if (arca_db_referenced_blobs (l->db, &refs, err) < 0)
    return -1;
  for (size_t i = 0; i < l->n_new_blobs; i++)
    {
      bool used = false;
      for (char **p = refs; *p && !used; p++)
        used = strcmp (*p, l->new_blobs[i]) == 0;
      if (!used && arca_blob_remove (l->store, l->new_blobs[i], err) < 0)
        return -1;
    }
  return 0;
}

int
arca_image_load (arca_store *store, arca_db *db, int fd, const struct arca_unpack_options *opts,
                 char ***ret_image_ids, arca_error **err)
{
  struct load l = { .store = store, .db = db, .opts = opts };
  cleanup_close int lock = arca_store_lock (store, false, err);
  int r;

  if (lock < 0)
    return arca_error_wrap (err, "load image archive");
  r = read_members (&l, fd, err);
  if (r == 0)
    {
      if (find_file (&l, "manifest.json"))
        r = load_docker (&l, err);
      else if (find_file (&l, "index.json"))
        r = load_oci (&l, err);
      else
        r = arca_error_set (err, EINVAL,
                            "archive is neither a docker-archive (manifest.json) "
                            "nor an oci-archive (index.json)");
    }
  if (r == 0 && l.n_images == 0)
    r = arca_error_set (err, EINVAL, "archive holds no image");
  if (r == 0)
    {
      cleanup_free char ***tags = calloc (l.n_records + 1, sizeof (char **));
      if (tags == NULL)
        r = arca_error_errno (err, "load image archive");
      for (size_t i = 0; r == 0 && i < l.n_records; i++)
        tags[i] = l.records[i]->tags;
      if (r == 0)
        r = arca_db_add_images (db, l.records, tags, l.n_records, err);
    }
  if (r < 0)
    {
      load_release (&l, true);
      return arca_error_wrap (err, "load image archive");
    }
  /* Not fatal: the images are in; gc removes what this misses. */
  {
    cleanup_error arca_error *derr = NULL;
    drop_unreferenced (&l, &derr);
  }
  if (ret_image_ids)
    *ret_image_ids = move_ptr (l.image_ids);
  load_release (&l, false);
  return 0;
}
