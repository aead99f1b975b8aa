/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two libarchive writers are chained: the tar writer's output is hashed
 * into the diff_id and handed to a "raw" writer that only compresses, whose
 * output is hashed and stored by a blob writer.  One pass over the tree,
 * no temporary tar. */
#include "pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strv.h"

#define BUF_SIZE (1 << 17)
#define MAX_DEPTH 256

struct link
{
  dev_t dev;
  ino_t ino;
  char *path;
};

struct packer
{
  struct archive *tar;
  struct archive *comp; /* NULL for plain layers */
  arca_blob_writer *blob;
  arca_digester *diff;
  int64_t size;
  arca_error **err; /* where write callbacks put their error */
  struct link *links;
  size_t n_links;
  char *buf;
};

static void
write_freep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}
#define cleanup_archive_write __attribute__ ((cleanup (write_freep)))

static int
fail (struct archive *a, arca_error **err, const char *what)
{
  int e = archive_errno (a);
  return arca_error_set (err, e > 0 ? e : EIO, "pack layer: %s: %s", what,
                         archive_error_string (a) ? archive_error_string (a) : "failed");
}

static la_ssize_t
comp_write (struct archive *a, void *data, const void *buf, size_t len)
{
  struct packer *p = data;
  if (arca_blob_writer_write (p->blob, buf, len, p->err) < 0)
    {
      archive_set_error (a, EIO, "blob write failed");
      return -1;
    }
  return (la_ssize_t)len;
}

static la_ssize_t
tar_write (struct archive *a, void *data, const void *buf, size_t len)
{
  struct packer *p = data;

  arca_digester_update (p->diff, buf, len);
  p->size += (int64_t)len;
  if (p->comp == NULL)
    return comp_write (a, data, buf, len);
  if (archive_write_data (p->comp, buf, len) != (la_ssize_t)len)
    {
      if (*p->err == NULL)
        fail (p->comp, p->err, "compress");
      archive_set_error (a, EIO, "compression failed");
      return -1;
    }
  return (la_ssize_t)len;
}

static int
name_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory (so output does not depend on readdir). */
static int
list_dir (int dfd, const char *path, char ***ret, arca_error **err)
{
  int fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **v = calloc (1, sizeof (char *));
  struct dirent *de;
  size_t n = 0;

  if (fd < 0 || (d = fdopendir (fd)) == NULL || v == NULL)
    {
      if (fd >= 0 && d == NULL)
        close (fd);
      return arca_error_errno (err, "pack layer: list `%s`", *path ? path : ".");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (arca_strv_append (&v, &n, de->d_name) < 0)
        return arca_error_errno (err, "pack layer: list `%s`", path);
    }
  if (errno != 0)
    return arca_error_errno (err, "pack layer: list `%s`", path);
  qsort (v, n, sizeof (char *), name_cmp);
  *ret = move_ptr (v);
  return 0;
}

static bool
is_overlay_xattr (const char *key)
{
  return strncmp (key, "trusted.overlay.", 16) == 0 || strncmp (key, "user.overlay.", 13) == 0;
}

static int
add_xattrs (struct archive_entry *e, const char *procpath, const char *path, bool *ret_opaque,
            arca_error **err)
{
  char list[8192], value[8192];
  ssize_t n = llistxattr (procpath, list, sizeof (list));

  *ret_opaque = false;
  if (n < 0)
    {
      if (errno == ENOTSUP)
        return 0;
      return arca_error_errno (err, "pack layer: list xattrs of `%s`", path);
    }
  /* sorted by the kernel's order; names are NUL-separated */
  for (char *k = list; k < list + n; k += strlen (k) + 1)
    {
      ssize_t vn = lgetxattr (procpath, k, value, sizeof (value));
      if (vn < 0)
        {
          if (errno == ENODATA)
            continue;
          return arca_error_errno (err, "pack layer: read xattr `%s` of `%s`", k, path);
        }
      if (is_overlay_xattr (k))
        {
          if (strstr (k, ".overlay.opaque") && vn == 1 && value[0] == 'y')
            *ret_opaque = true;
          continue;
        }
      archive_entry_xattr_add_entry (e, k, value, (size_t)vn);
    }
  return 0;
}

static int
write_header (struct packer *p, struct archive_entry *e, const char *path)
{
  if (archive_write_header (p->tar, e) != ARCHIVE_OK)
    return *p->err ? -1 : fail (p->tar, p->err, path);
  return 0;
}

static int
empty_file (struct packer *p, const char *name, const struct stat *st)
{
  struct archive_entry *e = archive_entry_new ();
  int r;

  if (e == NULL)
    return arca_error_set (p->err, ENOMEM, "pack layer");
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0);
  archive_entry_set_size (e, 0);
  archive_entry_set_mtime (e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  r = write_header (p, e, name);
  archive_entry_free (e);
  return r;
}

static int
copy_data (struct packer *p, int parent, const char *name, const char *path, off_t size)
{
  cleanup_close int fd = openat (parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    return arca_error_errno (p->err, "pack layer: open `%s`", path);
  while (size > 0)
    {
      ssize_t n = read (fd, p->buf, size < BUF_SIZE ? (size_t)size : BUF_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (p->err, "pack layer: read `%s`", path);
      if (n == 0)
        return arca_error_set (p->err, EIO, "pack layer: `%s` shrank while packing", path);
      if (archive_write_data (p->tar, p->buf, (size_t)n) != n)
        return *p->err ? -1 : fail (p->tar, p->err, path);
      size -= n;
    }
  return 0;
}

static int pack_dir (struct packer *p, int dfd, const char *path, int depth);

static int
pack_entry (struct packer *p, int parent, const char *name, const char *path, int depth)
{
  struct archive_entry *e = NULL;
  char procpath[64 + NAME_MAX];
  struct stat st;
  bool opaque = false;
  int r = 0;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (p->err, "pack layer: stat `%s`", path);
  if (S_ISSOCK (st.st_mode))
    return 0;
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    {
      /* an overlayfs whiteout */
      cleanup_free char *wh = NULL;
      const char *slash = strrchr (path, '/');
      if (asprintf (&wh, "%.*s.wh.%s", slash ? (int)(slash - path + 1) : 0, path, name) < 0)
        return arca_error_errno (p->err, "pack layer");
      return empty_file (p, wh, &st);
    }
  snprintf (procpath, sizeof (procpath), "/proc/self/fd/%d/%s", parent, name);
  e = archive_entry_new ();
  if (e == NULL)
    return arca_error_set (p->err, ENOMEM, "pack layer");
  archive_entry_set_pathname (e, path);
  archive_entry_copy_stat (e, &st);
  archive_entry_set_atime (e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  archive_entry_unset_ctime (e);
  archive_entry_set_ino (e, 0);
  archive_entry_set_dev (e, 0);
  archive_entry_set_nlink (e, 1);
  archive_entry_set_uname (e, NULL);
  archive_entry_set_gname (e, NULL);
  if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (parent, name, target, sizeof (target) - 1);
      if (n < 0)
        r = arca_error_errno (p->err, "pack layer: readlink `%s`", path);
      else
        {
          target[n] = '\0';
          archive_entry_set_symlink (e, target);
        }
    }
  if (r == 0 && !S_ISDIR (st.st_mode) && st.st_nlink > 1)
    {
      for (size_t i = 0; i < p->n_links; i++)
        if (p->links[i].dev == st.st_dev && p->links[i].ino == st.st_ino)
          {
            archive_entry_set_hardlink (e, p->links[i].path);
            archive_entry_set_size (e, 0);
            break;
          }
      if (archive_entry_hardlink (e) == NULL)
        {
          struct link *nl = realloc (p->links, (p->n_links + 1) * sizeof (*nl));
          if (nl == NULL || (nl[p->n_links].path = strdup (path)) == NULL)
            {
              if (nl)
                p->links = nl;
              r = arca_error_errno (p->err, "pack layer");
            }
          else
            {
              p->links = nl;
              nl[p->n_links].dev = st.st_dev;
              nl[p->n_links].ino = st.st_ino;
              p->n_links++;
            }
        }
    }
  if (r == 0)
    r = add_xattrs (e, procpath, path, &opaque, p->err);
  if (r == 0 && !S_ISREG (st.st_mode))
    archive_entry_set_size (e, 0);
  if (r == 0)
    r = write_header (p, e, path);
  if (r == 0 && S_ISREG (st.st_mode) && archive_entry_hardlink (e) == NULL && st.st_size > 0)
    r = copy_data (p, parent, name, path, st.st_size);
  archive_entry_free (e);
  if (r < 0 || !S_ISDIR (st.st_mode))
    return r;
  if (opaque)
    {
      cleanup_free char *opq = NULL;
      if (asprintf (&opq, "%s/.wh..wh..opq", path) < 0)
        return arca_error_errno (p->err, "pack layer");
      if (empty_file (p, opq, &st) < 0)
        return -1;
    }
  {
    cleanup_close int sub = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
      return arca_error_errno (p->err, "pack layer: open `%s`", path);
    return pack_dir (p, sub, path, depth + 1);
  }
}

static int
pack_dir (struct packer *p, int dfd, const char *path, int depth)
{
  cleanup_strv char **names = NULL;

  if (depth > MAX_DEPTH)
    return arca_error_set (p->err, ELOOP, "pack layer: `%s` nested deeper than %d", path,
                           MAX_DEPTH);
  if (list_dir (dfd, path, &names, p->err) < 0)
    return -1;
  for (char **n = names; *n; n++)
    {
      cleanup_free char *child = NULL;
      if (asprintf (&child, "%s%s%s", path, *path ? "/" : "", *n) < 0)
        return arca_error_errno (p->err, "pack layer");
      if (pack_entry (p, dfd, *n, child, depth) < 0)
        return -1;
    }
  return 0;
}

static int
open_compressor (struct packer *p, enum arca_pack_compression c, arca_error **err)
{
  struct archive_entry *e;
  int r;

  if (c == ARCA_PACK_PLAIN)
    return 0;
  p->comp = archive_write_new ();
  if (p->comp == NULL)
    return arca_error_set (err, ENOMEM, "pack layer");
  r = archive_write_set_format_raw (p->comp);
  if (r == ARCHIVE_OK)
    r = c == ARCA_PACK_ZSTD ? archive_write_add_filter_zstd (p->comp)
                            : archive_write_add_filter_gzip (p->comp);
  /* no timestamp in the gzip header: the same tree, the same blob */
  if (r == ARCHIVE_OK && c == ARCA_PACK_GZIP)
    r = archive_write_set_filter_option (p->comp, "gzip", "timestamp", NULL);
  if (r == ARCHIVE_OK)
    r = archive_write_set_bytes_in_last_block (p->comp, 1);
  if (r == ARCHIVE_OK)
    r = archive_write_open2 (p->comp, p, NULL, comp_write, NULL, NULL);
  if (r != ARCHIVE_OK)
    return fail (p->comp, err, "set up compression");
  e = archive_entry_new ();
  if (e == NULL)
    return arca_error_set (err, ENOMEM, "pack layer");
  archive_entry_set_pathname (e, "layer.tar");
  archive_entry_set_filetype (e, AE_IFREG);
  r = archive_write_header (p->comp, e);
  archive_entry_free (e);
  return r == ARCHIVE_OK ? 0 : fail (p->comp, err, "set up compression");
}

/* The writers are freed while the packer they write into is still alive:
 * freeing an open writer flushes it through the callbacks.  (Marking them
 * failed instead makes libarchive leak its block buffer.) */
static void
packer_release (struct packer *p, struct archive **tar)
{
  if (*tar)
    archive_write_free (*tar);
  *tar = NULL;
  if (p->comp)
    archive_write_free (p->comp);
  for (size_t i = 0; i < p->n_links; i++)
    free (p->links[i].path);
  free (p->links);
  free (p->buf);
  arca_digester_free (p->diff);
  arca_blob_writer_free (p->blob);
}

int
arca_layer_pack (int dirfd, arca_store *store, enum arca_pack_compression compression,
                 struct arca_pack_result *ret_result, arca_error **err)
{
  cleanup_archive_write struct archive *tar = archive_write_new ();
  struct packer p = { .err = err };
  struct arca_pack_result res = { 0 };
  int r = 0;

  p.buf = malloc (BUF_SIZE);
  if (tar == NULL || p.buf == NULL)
    r = arca_error_set (err, ENOMEM, "pack layer");
  p.tar = tar;
  if (r == 0
      && (arca_digester_new (&p.diff, err) < 0 || arca_blob_writer_new (store, &p.blob, err) < 0))
    r = -1;
  if (r == 0)
    r = open_compressor (&p, compression, err);
  if (r == 0
      && (archive_write_set_format_pax_restricted (tar) != ARCHIVE_OK
          || archive_write_set_bytes_in_last_block (tar, 1) != ARCHIVE_OK
          || archive_write_open2 (tar, &p, NULL, tar_write, NULL, NULL) != ARCHIVE_OK))
    r = fail (tar, err, "open tar writer");
  if (r == 0)
    r = pack_dir (&p, dirfd, "", 0);
  if (r == 0 && archive_write_close (tar) != ARCHIVE_OK)
    r = *err ? -1 : fail (tar, err, "finish tar");
  if (r == 0 && p.comp
      && (archive_write_finish_entry (p.comp) != ARCHIVE_OK
          || archive_write_close (p.comp) != ARCHIVE_OK))
    r = *err ? -1 : fail (p.comp, err, "finish compression");
  if (r == 0)
    r = arca_digester_final (p.diff, res.diff_id, err);
  if (r == 0)
    {
      res.size = p.size;
      res.blob_size = (int64_t)arca_blob_writer_size (p.blob);
      r = arca_blob_writer_commit (p.blob, NULL, res.blob_digest, &res.created, err);
    }
  packer_release (&p, &tar);
  if (r < 0)
    return -1;
  res.media_type = compression == ARCA_PACK_PLAIN  ? "application/vnd.oci.image.layer.v1.tar"
                   : compression == ARCA_PACK_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                   : "application/vnd.oci.image.layer.v1.tar+gzip";
  *ret_result = res;
  return 0;
}
