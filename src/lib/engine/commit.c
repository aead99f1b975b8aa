/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's upper directory as a layer, and images made of a parent
 * plus a layer (see commit.h). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "engine/build-config.h"
#include "engine/commit.h"
#include "image/tar-write.h"
#include "engine/containerfile.h"
#include "image/archives.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define CONFIG_BLOB_MAX (4 * 1024 * 1024)
#define MAX_DEPTH 256
#define XATTR_LIST_MAX_BYTES 65536

const char *const arca_commit_runtime_paths[]
    = { "etc/hosts", "etc/hostname", "etc/resolv.conf", "dev", "proc", "sys", "dev/init",
        "run", "etc", NULL };

static void
archive_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

static void
entryp (struct archive_entry **e)
{
  if (*e)
    archive_entry_free (*e);
}

/* ---- the layer tar ---------------------------------------------------------- */

struct hashed_out
{
  int fd;
  arca_digester *d;
  int64_t size;
};

static la_ssize_t
out_write (struct archive *a, void *userdata, const void *buf, size_t len)
{
  struct hashed_out *o = userdata;

  for (size_t off = 0; off < len;)
    {
      ssize_t n = write (o->fd, (const char *) buf + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          archive_set_error (a, errno, "write layer");
          return -1;
        }
      off += (size_t) n;
    }
  arca_digester_update (o->d, buf, len);
  o->size += (int64_t) len;
  return (la_ssize_t) len;
}

struct link_seen
{
  dev_t dev;
  ino_t ino;
  char *path;
};

struct walk
{
  struct archive *a;
  const char *const *skip;
  struct link_seen *links;
  size_t n_links;
};

static bool
is_skipped (struct walk *w, int dirfd, const char *name, const char *path, const struct stat *st)
{
  bool listed = false;
  for (size_t i = 0; w->skip && w->skip[i]; i++)
    listed |= strcmp (w->skip[i], path) == 0;
  if (!listed)
    return false;
  if (S_ISREG (st->st_mode))
    return st->st_size == 0;
  if (!S_ISDIR (st->st_mode))
    return false;
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_strv char **names = NULL;
  size_t n = 0;
  cleanup_error arca_error *ignored = NULL;
  if (fd < 0 || arca_dir_list_sorted (fd, &names, &n, &ignored) < 0)
    return false;
  /* A directory holding only skipped mount points (dev/init) is one too. */
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *sub = NULL;
      struct stat sst;
      if (asprintf (&sub, "%s/%s", path, names[i]) < 0 || fstatat (fd, names[i], &sst, AT_SYMLINK_NOFOLLOW) < 0
          || !is_skipped (w, fd, names[i], sub, &sst))
        return false;
    }
  return true;
}

static int
add_xattrs (struct archive_entry *entry, int fd, const char *path, arca_error **err)
{
  /* On the heap: this runs once per level of a deep tree. */
  cleanup_free char *list = malloc (XATTR_LIST_MAX_BYTES);
  cleanup_free char *value = malloc (XATTR_LIST_MAX_BYTES);
  if (list == NULL || value == NULL)
    return arca_error_set (err, ENOMEM, "xattrs");
  ssize_t n = flistxattr (fd, list, XATTR_LIST_MAX_BYTES);

  if (n < 0)
    return errno == ENOTSUP ? 0 : arca_error_errno (err, "list xattrs of `%s`", path);
  for (char *k = list; k < list + n; k += strlen (k) + 1)
    {
      if (strncmp (k, "trusted.overlay.", 16) == 0 || strncmp (k, "user.overlay.", 13) == 0)
        continue;
      ssize_t vn = fgetxattr (fd, k, value, XATTR_LIST_MAX_BYTES);
      if (vn < 0)
        return arca_error_errno (err, "read xattr `%s` of `%s`", k, path);
      archive_entry_xattr_add_entry (entry, k, value, (size_t) vn);
    }
  return 0;
}

static int
write_header (struct walk *w, struct archive_entry *entry, const char *path, arca_error **err)
{
  if (archive_write_header (w->a, entry) < ARCHIVE_WARN)
    return arca_error_set (err, EIO, "layer entry `%s`: %s", path, archive_error_string (w->a));
  return 0;
}

static void
fill_common (struct archive_entry *entry, const char *path, const struct stat *st)
{
  archive_entry_set_pathname (entry, path);
  archive_entry_set_uid (entry, st->st_uid);
  archive_entry_set_gid (entry, st->st_gid);
  archive_entry_set_perm (entry, st->st_mode & 07777);
  archive_entry_set_mtime (entry, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

static int walk_dir (struct walk *w, int dirfd, const char *prefix, unsigned depth,
                     arca_error **err);

static int
walk_entry (struct walk *w, int dirfd, const char *name, const char *prefix, unsigned depth,
            arca_error **err)
{
  _cleanup_ (entryp) struct archive_entry *entry = archive_entry_new ();
  cleanup_free char *path = NULL;
  struct stat st;

  if (entry == NULL || asprintf (&path, "%s%s", prefix, name) < 0)
    return arca_error_set (err, ENOMEM, "layer");
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "stat `%s`", path);
  if (is_skipped (w, dirfd, name, path, &st))
    return 0;
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    {
      /* An overlayfs whiteout: the file was deleted. */
      cleanup_free char *wh = NULL;
      if (asprintf (&wh, "%s.wh.%s", prefix, name) < 0)
        return arca_error_set (err, ENOMEM, "layer");
      archive_entry_set_pathname (entry, wh);
      archive_entry_set_filetype (entry, AE_IFREG);
      archive_entry_set_perm (entry, 0);
      archive_entry_set_size (entry, 0);
      archive_entry_set_mtime (entry, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
      return write_header (w, entry, wh, err);
    }
  fill_common (entry, path, &st);
  if (S_ISDIR (st.st_mode))
    {
      if (depth >= MAX_DEPTH)
        return arca_error_set (err, ELOOP, "layer: `%s` nested too deeply", path);
      cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return arca_error_errno (err, "open `%s`", path);
      archive_entry_set_filetype (entry, AE_IFDIR);
      if (add_xattrs (entry, fd, path, err) < 0 || write_header (w, entry, path, err) < 0)
        return -1;
      char opaque[2];
      ssize_t on = fgetxattr (fd, "trusted.overlay.opaque", opaque, sizeof opaque);
      if (on == 1 && opaque[0] == 'y')
        {
          _cleanup_ (entryp) struct archive_entry *opq = archive_entry_new ();
          cleanup_free char *opq_path = NULL;
          if (opq == NULL || asprintf (&opq_path, "%s/.wh..wh..opq", path) < 0)
            return arca_error_set (err, ENOMEM, "layer");
          archive_entry_set_pathname (opq, opq_path);
          archive_entry_set_filetype (opq, AE_IFREG);
          archive_entry_set_perm (opq, 0);
          archive_entry_set_size (opq, 0);
          archive_entry_set_mtime (opq, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
          if (write_header (w, opq, opq_path, err) < 0)
            return -1;
        }
      cleanup_free char *sub = NULL;
      if (asprintf (&sub, "%s/", path) < 0)
        return arca_error_set (err, ENOMEM, "layer");
      return walk_dir (w, fd, sub, depth + 1, err);
    }
  if (S_ISLNK (st.st_mode))
    {
      cleanup_free char *target = malloc (PATH_MAX);
      if (target == NULL)
        return arca_error_set (err, ENOMEM, "layer");
      ssize_t n = readlinkat (dirfd, name, target, PATH_MAX - 1);
      if (n < 0)
        return arca_error_errno (err, "readlink `%s`", path);
      target[n] = '\0';
      archive_entry_set_filetype (entry, AE_IFLNK);
      archive_entry_set_symlink (entry, target);
      return write_header (w, entry, path, err);
    }
  if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode) || S_ISFIFO (st.st_mode))
    {
      archive_entry_set_filetype (entry, S_ISCHR (st.st_mode)   ? AE_IFCHR
                                         : S_ISBLK (st.st_mode) ? AE_IFBLK
                                                                : AE_IFIFO);
      archive_entry_set_rdev (entry, st.st_rdev);
      return write_header (w, entry, path, err);
    }
  if (!S_ISREG (st.st_mode))
    return 0; /* sockets do not go into images */
  if (st.st_nlink > 1)
    {
      for (size_t i = 0; i < w->n_links; i++)
        if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino)
          {
            archive_entry_set_filetype (entry, AE_IFREG);
            archive_entry_set_hardlink (entry, w->links[i].path);
            archive_entry_set_size (entry, 0);
            return write_header (w, entry, path, err);
          }
      struct link_seen *grown = realloc (w->links, (w->n_links + 1) * sizeof *grown);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "layer");
      w->links = grown;
      grown[w->n_links] = (struct link_seen){ .dev = st.st_dev, .ino = st.st_ino, .path = strdup (path) };
      if (grown[w->n_links++].path == NULL)
        return arca_error_set (err, ENOMEM, "layer");
    }
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_size (entry, st.st_size);
  if (add_xattrs (entry, fd, path, err) < 0 || write_header (w, entry, path, err) < 0)
    return -1;
  /* Heap, not stack: walk_entry recurses once per directory level. */
  cleanup_free char *buf = malloc (65536);
  if (buf == NULL)
    return arca_error_set (err, ENOMEM, "layer");
  int64_t left = st.st_size;
  while (left > 0)
    {
      ssize_t n = read (fd, buf, 65536);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "read `%s`", path);
      if (n == 0)
        return arca_error_set (err, EIO, "`%s` shrank while it was committed", path);
      if (n > left)
        n = (ssize_t) left;
      if (archive_write_data (w->a, buf, (size_t) n) != n)
        return arca_error_set (err, EIO, "layer `%s`: %s", path, archive_error_string (w->a));
      left -= n;
    }
  return 0;
}

static int
walk_dir (struct walk *w, int dirfd, const char *prefix, unsigned depth, arca_error **err)
{
  cleanup_strv char **names = NULL;
  size_t n = 0;

  if (arca_dir_list_sorted (dirfd, &names, &n, err) < 0)
    return arca_error_wrap (err, "layer `%s`", *prefix ? prefix : "/");
  for (size_t i = 0; i < n; i++)
    if (walk_entry (w, dirfd, names[i], prefix, depth, err) < 0)
      return -1;
  return 0;
}

int
arca_commit_layer_tar (const char *upper, const char *const *skip, int fd, char *ret_diff_id,
                       int64_t *ret_size, arca_error **err)
{
  _cleanup_ (arca_digester_freep) arca_digester *d = NULL;
  _cleanup_ (archive_writep) struct archive *a = archive_write_new ();
  struct hashed_out out = { .fd = fd };
  struct walk w = { .a = a, .skip = skip };
  int r;

  cleanup_close int root = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return arca_error_errno (err, "open `%s`", upper);
  if (a == NULL || arca_digester_new (&d, err) < 0)
    return a ? -1 : arca_error_set (err, ENOMEM, "layer");
  out.d = d;
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_in_last_block (a, 1);
  if (archive_write_open (a, &out, NULL, out_write, NULL) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "layer: %s", archive_error_string (a));
  r = walk_dir (&w, root, "", 0, err);
  for (size_t i = 0; i < w.n_links; i++)
    free (w.links[i].path);
  free (w.links);
  if (r < 0)
    return arca_error_wrap (err, "commit `%s`", upper);
  if (archive_write_close (a) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "layer: %s", archive_error_string (a));
  if (arca_digester_final (d, ret_diff_id, err) < 0)
    return -1;
  *ret_size = out.size;
  return 0;
}

int
arca_commit_upper_is_empty (const char *upper, const char *const *skip, arca_error **err)
{
  cleanup_close int root = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strv char **names = NULL;
  size_t n = 0;
  struct walk w = { .skip = skip };

  if (root < 0)
    return arca_error_errno (err, "open `%s`", upper);
  if (arca_dir_list_sorted (root, &names, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      struct stat st;
      if (fstatat (root, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return arca_error_errno (err, "stat `%s/%s`", upper, names[i]);
      if (!is_skipped (&w, root, names[i], names[i], &st))
        return 0;
    }
  return 1;
}

/* ---- images ------------------------------------------------------------------ */

static char *
dump (json_t *j)
{
  return j ? json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

int
arca_engine_image_config (struct arca_engine *e, const char *image_id, json_t **ret,
                          arca_error **err)
{
  cleanup_free char *blob = NULL;
  size_t len = 0;

  if (image_id == NULL)
    {
      *ret = json_object ();
      return *ret ? 0 : arca_error_set (err, ENOMEM, "config");
    }
  if (arca_blob_read (e->store, image_id, CONFIG_BLOB_MAX, &blob, &len, err) < 0)
    return arca_error_wrap (err, "image %s", image_id);
  json_t *doc = json_loadb (blob, len, 0, NULL);
  json_t *config = json_object_get (doc, "config");
  *ret = json_is_object (config) ? json_deep_copy (config) : json_object ();
  json_decref (doc);
  return *ret ? 0 : arca_error_set (err, ENOMEM, "config");
}

int
arca_engine_commit_image (struct arca_engine *e, const struct arca_commit_image_request *req,
                          char *ret_image_id, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *config = NULL, *manifest = NULL, *index = NULL;
  cleanup_free char *config_text = NULL, *manifest_text = NULL, *index_text = NULL;
  char config_digest[ARCA_DIGEST_LEN + 1], manifest_digest[ARCA_DIGEST_LEN + 1];
  json_t *layers;
  char created[32];
  time_t now = time (NULL);
  struct tm tm;

  gmtime_r (&now, &tm);
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (req->parent)
    {
      _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
      cleanup_free char *blob = NULL, *mblob = NULL;
      size_t len = 0, mlen = 0;
      if (arca_db_get_image (e->db, req->parent, &img, err) < 0
          || arca_blob_read (e->store, req->parent, CONFIG_BLOB_MAX, &blob, &len, err) < 0
          || arca_blob_read (e->store, img->manifest_digest, ARCA_MANIFEST_MAX_SIZE, &mblob, &mlen,
                             err)
                 < 0)
        return arca_error_wrap (err, "image %s", req->parent);
      config = json_loadb (blob, len, 0, NULL);
      json_t *parent_manifest = json_loadb (mblob, mlen, 0, NULL);
      layers = json_deep_copy (json_object_get (parent_manifest, "layers"));
      json_decref (parent_manifest);
      if (!json_is_object (config) || !json_is_array (layers))
        {
          json_decref (layers);
          return arca_error_set (err, EINVAL, "image %s: unreadable config or manifest",
                                 req->parent);
        }
    }
  else
    {
      config = json_pack ("{s:s, s:s, s:{s:s, s:[]}, s:{}}", "architecture", "amd64", "os",
                          "linux", "rootfs", "type", "layers", "diff_ids", "config");
      layers = json_array ();
    }
  manifest = json_pack ("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType",
                        ARCA_MEDIA_OCI_MANIFEST, "layers", layers);
  if (config == NULL || manifest == NULL)
    return arca_error_set (err, ENOMEM, "commit");
  json_object_set_new (config, "created", json_string (created));
  if (req->config)
    json_object_set (config, "config", req->config);
  if (req->author)
    json_object_set_new (config, "author", json_string (req->author));
  json_t *history = json_object_get (config, "history");
  if (!json_is_array (history))
    {
      history = json_array ();
      json_object_set_new (config, "history", history);
    }
  json_t *h = json_pack ("{s:s, s:s}", "created", created, "created_by",
                         req->created_by ? req->created_by : "arca commit");
  if (h == NULL)
    return arca_error_set (err, ENOMEM, "commit");
  if (req->comment)
    json_object_set_new (h, "comment", json_string (req->comment));
  if (req->layer_fd < 0)
    json_object_set_new (h, "empty_layer", json_true ());
  json_array_append_new (history, h);
  if (req->layer_fd >= 0)
    {
      json_t *diff_ids = json_object_get (json_object_get (config, "rootfs"), "diff_ids");
      if (!json_is_array (diff_ids))
        return arca_error_set (err, EINVAL, "image %s: config has no rootfs.diff_ids",
                               req->parent ? req->parent : "");
      json_array_append_new (diff_ids, json_string (req->diff_id));
      json_array_append_new (json_object_get (manifest, "layers"),
                             json_pack ("{s:s, s:s, s:I}", "mediaType", ARCA_MEDIA_OCI_LAYER,
                                        "digest", req->diff_id, "size",
                                        (json_int_t) req->layer_size));
    }
  config_text = dump (config);
  if (config_text == NULL
      || arca_digest_buffer (config_text, strlen (config_text), config_digest, err) < 0)
    return config_text ? -1 : arca_error_set (err, ENOMEM, "commit");
  json_object_set_new (manifest, "config",
                       json_pack ("{s:s, s:s, s:I}", "mediaType", ARCA_MEDIA_OCI_CONFIG, "digest",
                                  config_digest, "size", (json_int_t) strlen (config_text)));
  manifest_text = dump (manifest);
  if (manifest_text == NULL
      || arca_digest_buffer (manifest_text, strlen (manifest_text), manifest_digest, err) < 0)
    return manifest_text ? -1 : arca_error_set (err, ENOMEM, "commit");
  json_t *desc = json_pack ("{s:s, s:s, s:I}", "mediaType", ARCA_MEDIA_OCI_MANIFEST, "digest",
                            manifest_digest, "size", (json_int_t) strlen (manifest_text));
  if (desc && req->ref)
    json_object_set_new (desc, "annotations",
                         json_pack ("{s:s}", "org.opencontainers.image.ref.name", req->ref));
  index = json_pack ("{s:i, s:[o]}", "schemaVersion", 2, "manifests", desc);
  index_text = dump (index);
  if (index_text == NULL)
    return arca_error_set (err, ENOMEM, "commit");

  cleanup_close int archive_fd = memfd_create ("commit", MFD_CLOEXEC);
  if (archive_fd < 0)
    return arca_error_errno (err, "memfd_create");
  _cleanup_ (archive_writep) struct archive *a = archive_write_new ();
  if (a == NULL)
    return arca_error_set (err, ENOMEM, "commit");
  archive_write_set_format_pax_restricted (a);
  if (archive_write_open_fd (a, archive_fd) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "archive: %s", archive_error_string (a));
  char path[128];
  const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
  if (arca_tar_add_bytes (a, "oci-layout", layout, strlen (layout), err) < 0)
    return -1;
  if (req->layer_fd >= 0)
    {
      snprintf (path, sizeof path, "blobs/sha256/%s", arca_digest_hex (req->diff_id));
      if (arca_tar_add_fd (a, path, req->layer_fd, req->layer_size, err) < 0)
        return -1;
    }
  snprintf (path, sizeof path, "blobs/sha256/%s", arca_digest_hex (config_digest));
  if (arca_tar_add_bytes (a, path, config_text, strlen (config_text), err) < 0)
    return -1;
  snprintf (path, sizeof path, "blobs/sha256/%s", arca_digest_hex (manifest_digest));
  if (arca_tar_add_bytes (a, path, manifest_text, strlen (manifest_text), err) < 0
      || arca_tar_add_bytes (a, "index.json", index_text, strlen (index_text), err) < 0)
    return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "archive: %s", archive_error_string (a));
  if (lseek (archive_fd, 0, SEEK_SET) < 0)
    return arca_error_errno (err, "rewind");
  struct arca_unpack_options uo = { .log = e->log };
  cleanup_strv char **ids = NULL;
  if (arca_image_load (e->store, e->db, archive_fd, &uo, &ids, err) < 0)
    return arca_error_wrap (err, "commit");
  if (ret_image_id)
    snprintf (ret_image_id, ARCA_DIGEST_LEN + 1, "%s", config_digest);
  return 0;
}

/* ---- arca commit ---------------------------------------------------------- */

int
arca_engine_commit (struct arca_engine *e, const char *name_or_id,
                    const struct arca_commit_options *opts, char *ret_image_id, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  _cleanup_ (json_decrefp) json_t *config = NULL;
  _cleanup_ (arca_reference_freep) struct arca_reference *ref = NULL;
  cleanup_free char *upper = NULL, *full = NULL;
  char diff_id[ARCA_DIGEST_LEN + 1];
  int64_t size = 0;

  if (opts->ref)
    {
      if (arca_reference_parse (opts->ref, ARCA_REFERENCE_LOCAL, &ref, err) < 0)
        return -1;
      if ((full = arca_reference_string (ref)) == NULL)
        return arca_error_set (err, ENOMEM, "commit");
    }
  if (arca_engine_get (e, name_or_id, &c, err) < 0
      || arca_engine_container_dir (e, c->id, "upper", &upper, err) < 0
      || arca_engine_image_config (e, c->image_id, &config, err) < 0)
    return -1;
  for (size_t i = 0; opts->changes && opts->changes[i]; i++)
    if (arca_build_config_change (config, opts->changes[i], err) < 0)
      return arca_error_wrap (err, "--change `%s`", opts->changes[i]);
  cleanup_close int fd = memfd_create ("layer", MFD_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "memfd_create");
  if (arca_commit_layer_tar (upper, arca_commit_runtime_paths, fd, diff_id, &size, err) < 0)
    return -1;
  cleanup_free char *created_by = NULL;
  if (asprintf (&created_by, "arca commit %s", c->name) < 0)
    return arca_error_set (err, ENOMEM, "commit");
  struct arca_commit_image_request req = {
    .parent = c->image_id,
    .layer_fd = fd,
    .diff_id = diff_id,
    .layer_size = size,
    .config = config,
    .created_by = created_by,
    .comment = opts->message,
    .author = opts->author,
    .ref = full,
  };
  return arca_engine_commit_image (e, &req, ret_image_id, err);
}
