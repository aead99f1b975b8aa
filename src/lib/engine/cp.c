/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca cp`, `arca export`, `arca diff`: walking a container's root by
 * directory fds, never following a symlink. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/cp.h"
#include "image/db.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* Deeper trees are refused rather than running out of fds (two per level). */
#define MAX_DEPTH 512

/* ---- copying ------------------------------------------------------------ */

static int
copy_data (int in, int out, const char *name, arca_error **err)
{
  char buf[65536];
  bool plain = false;

  for (;;)
    {
      ssize_t n;
      if (!plain)
        {
          n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
          if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
              plain = true;
              continue;
            }
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return arca_error_errno (err, "copy `%s`", name);
          if (n == 0)
            return 0;
          continue;
        }
      n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "read `%s`", name);
      if (n == 0)
        return 0;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (out, buf + off, (size_t) (n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return arca_error_errno (err, "write `%s`", name);
          off += w;
        }
    }
}

/* Ownership first: chown clears set-id bits that chmod then restores. */
static int
set_meta_fd (int fd, const struct stat *st, const char *name, const struct arca_cp_options *opts,
             arca_error **err)
{
  const struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (opts->archive && fchown (fd, st->st_uid, st->st_gid) < 0)
    return arca_error_errno (err, "chown `%s`", name);
  if (fchmod (fd, st->st_mode & 07777) < 0)
    return arca_error_errno (err, "chmod `%s`", name);
  if (futimens (fd, times) < 0)
    return arca_error_errno (err, "set times of `%s`", name);
  return 0;
}

static int
set_meta_at (int dirfd, const char *name, const struct stat *st, const struct arca_cp_options *opts,
             arca_error **err)
{
  const struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (opts->archive && fchownat (dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "chown `%s`", name);
  if (!S_ISLNK (st->st_mode) && fchmodat (dirfd, name, st->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0
      && errno != EOPNOTSUPP)
    return arca_error_errno (err, "chmod `%s`", name);
  if (utimensat (dirfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "set times of `%s`", name);
  return 0;
}

/* Makes room for a non-directory at dst_name: an existing non-directory
 * (a symlink too, which is never followed) goes, a directory is an error. */
static int
clear_target (int dst_dirfd, const char *dst_name, arca_error **err)
{
  struct stat st;

  if (fstatat (dst_dirfd, dst_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : arca_error_errno (err, "stat `%s`", dst_name);
  if (S_ISDIR (st.st_mode))
    return arca_error_set (err, EISDIR, "cannot overwrite directory `%s` with a non-directory",
                           dst_name);
  if (unlinkat (dst_dirfd, dst_name, 0) < 0)
    return arca_error_errno (err, "replace `%s`", dst_name);
  return 0;
}

static int copy_entry (int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name,
                       const struct arca_cp_options *opts, int depth, arca_error **err);

static int
copy_children (int src_fd, int dst_fd, const struct arca_cp_options *opts, int depth,
               arca_error **err)
{
  int fd = openat (src_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return arca_error_errno (err, "list a directory");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (src_fd, de->d_name, dst_fd, de->d_name, opts, depth + 1, err) < 0)
        return -1;
    }
  return errno ? arca_error_errno (err, "list a directory") : 0;
}

static int
copy_dir (int src_dirfd, const char *src_name, const struct stat *st, int dst_dirfd,
          const char *dst_name, const struct arca_cp_options *opts, int depth, arca_error **err)
{
  struct stat dst_st;

  if (mkdirat (dst_dirfd, dst_name, 0700) < 0)
    {
      if (errno != EEXIST)
        return arca_error_errno (err, "create directory `%s`", dst_name);
      /* Merge into an existing directory; anything else is replaced. */
      if (fstatat (dst_dirfd, dst_name, &dst_st, AT_SYMLINK_NOFOLLOW) < 0)
        return arca_error_errno (err, "stat `%s`", dst_name);
      if (!S_ISDIR (dst_st.st_mode))
        {
          if (unlinkat (dst_dirfd, dst_name, 0) < 0 || mkdirat (dst_dirfd, dst_name, 0700) < 0)
            return arca_error_errno (err, "replace `%s` with a directory", dst_name);
        }
    }
  cleanup_close int in = openat (src_dirfd, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return arca_error_errno (err, "open directory `%s`", src_name);
  cleanup_close int out = openat (dst_dirfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out < 0)
    return arca_error_errno (err, "open directory `%s`", dst_name);
  if (copy_children (in, out, opts, depth, err) < 0)
    return arca_error_wrap (err, "copy `%s`", src_name);
  return set_meta_fd (out, st, dst_name, opts, err);
}

static int
copy_entry (int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name,
            const struct arca_cp_options *opts, int depth, arca_error **err)
{
  struct stat st;

  if (depth > MAX_DEPTH)
    return arca_error_set (err, ELOOP, "`%s`: directories nested too deeply", src_name);
  if (fstatat (src_dirfd, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "stat `%s`", src_name);
  if (S_ISDIR (st.st_mode))
    return copy_dir (src_dirfd, src_name, &st, dst_dirfd, dst_name, opts, depth, err);
  if (clear_target (dst_dirfd, dst_name, err) < 0)
    return -1;
  if (S_ISREG (st.st_mode))
    {
      cleanup_close int in = openat (src_dirfd, src_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (in < 0)
        return arca_error_errno (err, "open `%s`", src_name);
      cleanup_close int out = openat (dst_dirfd, dst_name,
                                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0)
        return arca_error_errno (err, "create `%s`", dst_name);
      if (copy_data (in, out, src_name, err) < 0)
        return -1;
      return set_meta_fd (out, &st, dst_name, opts, err);
    }
  if (S_ISLNK (st.st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (src_dirfd, src_name, target, sizeof target - 1);
      if (n < 0)
        return arca_error_errno (err, "read link `%s`", src_name);
      target[n] = '\0';
      if (symlinkat (target, dst_dirfd, dst_name) < 0)
        return arca_error_errno (err, "create link `%s`", dst_name);
      return set_meta_at (dst_dirfd, dst_name, &st, opts, err);
    }
  if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode) || S_ISFIFO (st.st_mode))
    {
      if (mknodat (dst_dirfd, dst_name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
        return arca_error_errno (err, "create node `%s`", dst_name);
      return set_meta_at (dst_dirfd, dst_name, &st, opts, err);
    }
  return 0; /* sockets mean nothing once copied */
}

int
arca_copy_tree_at (int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name,
                   const struct arca_cp_options *opts, arca_error **err)
{
  return copy_entry (src_dirfd, src_name, dst_dirfd, dst_name, opts, 0, err);
}

int
arca_copy_contents_at (int src_dirfd, int dst_dirfd, const struct arca_cp_options *opts,
                       arca_error **err)
{
  return copy_children (src_dirfd, dst_dirfd, opts, 0, err);
}

/* ---- tar ---------------------------------------------------------------- */

static void
archive_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

static int
tar_fail (struct archive *a, const char *path, arca_error **err)
{
  return arca_error_set (err, EIO, "write tar entry `%s`: %s", path, archive_error_string (a));
}

static int tar_entry (struct archive *a, int parent, const char *name, const char *relpath,
                      int depth, arca_error **err);

static int
tar_children (struct archive *a, int parent, const char *name, const char *relpath, int depth,
              arca_error **err)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return arca_error_errno (err, "open directory `%s`", *relpath ? relpath : "/");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (asprintf (&child, "%s%s%s", relpath, *relpath ? "/" : "", de->d_name) < 0)
        return arca_error_set (err, ENOMEM, "tar");
      if (tar_entry (a, dirfd (d), de->d_name, child, depth + 1, err) < 0)
        return -1;
    }
  return errno ? arca_error_errno (err, "list `%s`", relpath) : 0;
}

static int
tar_entry (struct archive *a, int parent, const char *name, const char *relpath, int depth,
           arca_error **err)
{
  struct stat st;

  if (depth > MAX_DEPTH)
    return arca_error_set (err, ELOOP, "`%s`: directories nested too deeply", relpath);
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "stat `%s`", relpath);
  if (S_ISSOCK (st.st_mode))
    return 0;
  if (*relpath)
    {
      struct archive_entry *entry = archive_entry_new ();
      char target[4096];
      if (entry == NULL)
        return arca_error_set (err, ENOMEM, "tar");
      archive_entry_copy_stat (entry, &st);
      archive_entry_set_pathname (entry, relpath);
      if (S_ISLNK (st.st_mode))
        {
          ssize_t n = readlinkat (parent, name, target, sizeof target - 1);
          if (n < 0)
            {
              archive_entry_free (entry);
              return arca_error_errno (err, "read link `%s`", relpath);
            }
          target[n] = '\0';
          archive_entry_set_symlink (entry, target);
        }
      if (!S_ISREG (st.st_mode))
        archive_entry_set_size (entry, 0);
      int r = archive_write_header (a, entry);
      archive_entry_free (entry);
      if (r != ARCHIVE_OK)
        return tar_fail (a, relpath, err);
    }
  if (S_ISREG (st.st_mode))
    {
      cleanup_close int fd = openat (parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      char buf[65536];
      off_t left = st.st_size;
      if (fd < 0)
        return arca_error_errno (err, "open `%s`", relpath);
      while (left > 0)
        {
          ssize_t n = read (fd, buf, sizeof buf < (size_t) left ? sizeof buf : (size_t) left);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return arca_error_errno (err, "read `%s`", relpath);
          if (n == 0)
            /* Shrank while we read (a running container): pad, the header is written. */
            memset (buf, 0, (size_t) (n = sizeof buf < (size_t) left ? sizeof buf : (size_t) left));
          if (archive_write_data (a, buf, (size_t) n) != n)
            return tar_fail (a, relpath, err);
          left -= n;
        }
    }
  if (S_ISDIR (st.st_mode))
    return tar_children (a, parent, name, relpath, depth, err);
  return 0;
}

/* A pax tar of name below dirfd to out_fd; its members are named below
 * prefix ("" for the directory's contents). */
static int
write_tar (int parent, const char *name, const char *prefix, int out_fd, arca_error **err)
{
  _cleanup_ (archive_writep) struct archive *a = archive_write_new ();

  if (a == NULL)
    return arca_error_set (err, ENOMEM, "tar");
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open_fd (a, out_fd) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "tar: %s", archive_error_string (a));
  if (tar_entry (a, parent, name, prefix, 0, err) < 0)
    return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "tar: %s", archive_error_string (a));
  return 0;
}

/* ---- a container's root ------------------------------------------------- */

static bool
is_mounted (const char *path)
{
  cleanup_free char *parent = strdup (path);
  struct stat a, b;

  if (parent == NULL || strrchr (parent, '/') == NULL)
    return false;
  *strrchr (parent, '/') = '\0';
  return stat (path, &a) == 0 && stat (parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int
layer_dirs (struct arca_engine *e, const char *image_id, char ***ret, size_t *ret_n,
            arca_error **err)
{
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;

  if (arca_db_get_image (e->db, image_id, &img, err) < 0)
    return -1;
  char **v = calloc (img->n_layers + 1, sizeof *v);
  if (v == NULL)
    return arca_error_set (err, ENOMEM, "layers");
  /* overlayfs wants the top layer first. */
  for (size_t i = 0; i < img->n_layers; i++)
    if (asprintf (&v[img->n_layers - 1 - i], "%s/layers/%s", e->root, img->layers[i].dir) < 0)
      {
        arca_strv_free (v);
        return arca_error_set (err, ENOMEM, "layers");
      }
  *ret = v;
  *ret_n = img->n_layers;
  return 0;
}

int
arca_engine_root_open (struct arca_engine *e, const char *name_or_id, struct arca_engine_root *ret,
                       arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free char *merged = NULL, *upper = NULL, *work = NULL;
  bool mounted_here = false;

  if (arca_engine_get (e, name_or_id, &c, err) < 0
      || arca_engine_container_dir (e, c->id, "merged", &merged, err) < 0)
    return -1;
  if (!is_mounted (merged))
    {
      /* Stopped: mount it for the time of the copy, as `start` would. */
      cleanup_strv char **lowers = NULL;
      size_t n = 0;
      if (arca_engine_container_dir (e, c->id, "upper", &upper, err) < 0
          || arca_engine_container_dir (e, c->id, "work", &work, err) < 0
          || layer_dirs (e, c->image_id, &lowers, &n, err) < 0
          || arca_overlay_mount ((const char *const *) lowers, n, upper, work, merged, err) < 0)
        return arca_error_wrap (err, "mount the root of %s", c->name);
      mounted_here = true;
    }
  int fd = open (merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      arca_error_errno (err, "open `%s`", merged);
      if (mounted_here)
        arca_overlay_unmount (merged, NULL);
      return -1;
    }
  ret->fd = fd;
  ret->mounted_here = mounted_here;
  ret->merged = move_ptr (merged);
  memcpy (ret->id, c->id, sizeof ret->id);
  return 0;
}

void
arca_engine_root_close (struct arca_engine *e, struct arca_engine_root *root)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (root->fd >= 0)
    close (root->fd);
  root->fd = -1;
  /* Unless it started meanwhile (its start found the root mounted). */
  if (root->mounted_here && arca_engine_get (e, root->id, &c, &ignored) == 0
      && c->status != ARCA_ENGINE_RUNNING && c->status != ARCA_ENGINE_PAUSED)
    arca_overlay_unmount (root->merged, NULL);
  free (root->merged);
  root->merged = NULL;
}

/* ---- cp ----------------------------------------------------------------- */

/* One side of a copy: a host path, or a path resolved inside root_fd. */
struct side {
  int root_fd;    /* -1: host */
  char *path;
};

static int
open_at_side (const struct side *s, const char *path, int flags, arca_error **err)
{
  if (s->root_fd >= 0)
    return arca_open_in_root (s->root_fd, path, flags, 0, err);
  int fd = open (path, flags | O_CLOEXEC);
  return fd >= 0 ? fd : arca_error_errno (err, "open `%s`", path);
}

/* Splits path into its directory and last component; "dir/." and "/"
 * name the directory's contents (*ret_contents). */
static int
split (const char *path, char **ret_dir, char **ret_name, bool *ret_contents, arca_error **err)
{
  cleanup_free char *p = strdup (*path ? path : ".");
  if (p == NULL)
    return arca_error_set (err, ENOMEM, "cp");
  size_t len = strlen (p);
  bool contents = false;
  if (len >= 2 && strcmp (p + len - 2, "/.") == 0)
    {
      contents = true;
      p[len -= 2] = '\0';
      if (len == 0)
        p[0] = '/', p[1] = '\0', len = 1;
    }
  while (len > 1 && p[len - 1] == '/')
    p[--len] = '\0';
  if (strcmp (p, "/") == 0 || strcmp (p, ".") == 0)
    {
      *ret_dir = move_ptr (p);
      *ret_name = strdup (".");
      *ret_contents = true;
      return *ret_name ? 0 : arca_error_set (err, ENOMEM, "cp");
    }
  char *slash = strrchr (p, '/');
  if (slash == NULL)
    {
      *ret_dir = strdup (".");
      *ret_name = strdup (p);
    }
  else
    {
      *ret_name = strdup (slash + 1);
      *slash = '\0';
      *ret_dir = strdup (slash == p ? "/" : p);
    }
  if (*ret_dir == NULL || *ret_name == NULL)
    return arca_error_set (err, ENOMEM, "cp");
  *ret_contents = contents;
  return 0;
}

/* -L: while *name (in *parent, below *dir) is a symlink, moves to its
 * target.  The target is taken apart like a path the user gave, so on the
 * container side an absolute or ".." target still resolves inside the
 * root. */
static int
follow_source (const struct side *src, char **dir, char **name, int *parent, struct stat *st,
               arca_error **err)
{
  for (int hops = 0; S_ISLNK (st->st_mode); hops++)
    {
      char target[4096];
      cleanup_free char *next = NULL;
      bool ignored = false;

      if (hops == 40)
        return arca_error_set (err, ELOOP, "`%s`: too many levels of symbolic links", src->path);
      ssize_t n = readlinkat (*parent, *name, target, sizeof target - 1);
      if (n < 0)
        return arca_error_errno (err, "read link `%s`", src->path);
      target[n] = '\0';
      if ((target[0] == '/' ? asprintf (&next, "%s", target)
                            : asprintf (&next, "%s/%s", *dir, target)) < 0)
        return arca_error_set (err, ENOMEM, "cp");
      free (*dir);
      free (*name);
      *dir = *name = NULL;
      if (split (next, dir, name, &ignored, err) < 0)
        return -1;
      int fd = open_at_side (src, *dir, O_PATH | O_DIRECTORY, err);
      if (fd < 0)
        return arca_error_wrap (err, "follow `%s`", src->path);
      close (*parent);
      *parent = fd;
      if (fstatat (*parent, *name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return arca_error_errno (err, "follow `%s` to `%s`", src->path, next);
    }
  return 0;
}

static int
copy_sides (const struct side *src, const struct side *dst, const struct arca_cp_options *opts,
            arca_error **err)
{
  cleanup_free char *src_dir = NULL, *src_name = NULL, *dst_dir = NULL, *dst_name = NULL;
  cleanup_free char *link_name = NULL;
  bool contents = false, ignored_contents = false;
  struct stat st, dst_st;

  if (split (src->path, &src_dir, &src_name, &contents, err) < 0)
    return -1;
  cleanup_close int src_parent = open_at_side (src, src_dir, O_PATH | O_DIRECTORY, err);
  if (src_parent < 0)
    return -1;
  if (fstatat (src_parent, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "`%s`", src->path);
  /* What is copied into a directory keeps the name the user gave. */
  if ((link_name = strdup (src_name)) == NULL)
    return arca_error_set (err, ENOMEM, "cp");
  if (opts->follow_link && follow_source (src, &src_dir, &src_name, &src_parent, &st, err) < 0)
    return -1;
  if (contents && !S_ISDIR (st.st_mode))
    return arca_error_set (err, ENOTDIR, "`%s` is not a directory", src->path);

  /* The destination: into it when it is an existing directory, else as it. */
  cleanup_close int dst_fd = open_at_side (dst, dst->path, O_PATH, NULL);
  if (dst_fd >= 0 && fstat (dst_fd, &dst_st) == 0 && S_ISDIR (dst_st.st_mode))
    {
      if (contents)
        {
          cleanup_close int from = openat (src_parent, src_name,
                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (from < 0)
            return arca_error_errno (err, "open `%s`", src->path);
          return arca_copy_contents_at (from, dst_fd, opts, err);
        }
      /* "/" or "." as a source: the directory's own name is no name. */
      return arca_copy_tree_at (src_parent, src_name, dst_fd,
                                strcmp (link_name, ".") == 0 ? src_name : link_name, opts, err);
    }
  if (dst_fd >= 0 && S_ISDIR (st.st_mode))
    return arca_error_set (err, ENOTDIR, "cannot copy directory `%s` onto file `%s`", src->path,
                           dst->path);
  size_t dlen = strlen (dst->path);
  if (dst_fd < 0 && dlen && dst->path[dlen - 1] == '/' && !S_ISDIR (st.st_mode))
    return arca_error_set (err, ENOENT, "destination directory `%s` does not exist", dst->path);
  if (split (dst->path, &dst_dir, &dst_name, &ignored_contents, err) < 0)
    return -1;
  if (strcmp (dst_name, ".") == 0)
    return arca_error_set (err, EINVAL, "cp: bad destination `%s`", dst->path);
  cleanup_close int dst_parent = open_at_side (dst, dst_dir, O_PATH | O_DIRECTORY, err);
  if (dst_parent < 0)
    return arca_error_wrap (err, "destination `%s`", dst->path);
  return arca_copy_tree_at (src_parent, src_name, dst_parent, dst_name, opts, err);
}

static void
archive_readp (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}

/* A member name must stay below the directory it is unpacked in. */
static bool
safe_member (const char *name)
{
  if (name == NULL || name[0] == '/')
    return false;
  for (const char *p = name; *p;)
    {
      size_t len = strcspn (p, "/");
      if (len == 2 && p[0] == '.' && p[1] == '.')
        return false;
      p += len;
      while (*p == '/')
        p++;
    }
  return true;
}

/* `cp - CONTAINER:DST`: the tar is unpacked into a private host directory
 * first (members checked, no extraction through symlinks), which is then
 * copied in like any host directory, with the same in-root resolution. */
static int
untar (int in_fd, const char *dir, arca_error **err)
{
  _cleanup_ (archive_readp) struct archive *r = archive_read_new ();
  _cleanup_ (archive_writep) struct archive *w = archive_write_disk_new ();
  struct archive_entry *entry;

  if (r == NULL || w == NULL)
    return arca_error_set (err, ENOMEM, "tar");
  archive_read_support_format_tar (r);
  archive_read_support_filter_all (r);
  archive_write_disk_set_options (w, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                         | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME
                                         | ARCHIVE_EXTRACT_OWNER);
  if (archive_read_open_fd (r, in_fd, 65536) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "read tar: %s", archive_error_string (r));
  for (;;)
    {
      int rr = archive_read_next_header (r, &entry);
      if (rr == ARCHIVE_EOF)
        return 0;
      if (rr != ARCHIVE_OK && rr != ARCHIVE_WARN)
        return arca_error_set (err, EIO, "read tar: %s", archive_error_string (r));
      const char *name = archive_entry_pathname (entry), *link = archive_entry_hardlink (entry);
      cleanup_free char *path = NULL, *link_path = NULL;
      if (!safe_member (name) || (link && !safe_member (link)))
        return arca_error_set (err, EINVAL, "tar member `%s` leaves the destination",
                               name ? name : "");
      if (asprintf (&path, "%s/%s", dir, name) < 0
          || (link && asprintf (&link_path, "%s/%s", dir, link) < 0))
        return arca_error_set (err, ENOMEM, "tar");
      archive_entry_set_pathname (entry, path);
      if (link)
        archive_entry_set_hardlink (entry, link_path);
      if (archive_write_header (w, entry) != ARCHIVE_OK)
        return arca_error_set (err, EIO, "unpack `%s`: %s", name, archive_error_string (w));
      const void *buf;
      size_t size;
      la_int64_t offset;
      while ((rr = archive_read_data_block (r, &buf, &size, &offset)) == ARCHIVE_OK)
        if (archive_write_data_block (w, buf, size, offset) != ARCHIVE_OK)
          return arca_error_set (err, EIO, "unpack `%s`: %s", name, archive_error_string (w));
      if (rr != ARCHIVE_EOF)
        return arca_error_set (err, EIO, "read tar: %s", archive_error_string (r));
      if (archive_write_finish_entry (w) != ARCHIVE_OK)
        return arca_error_set (err, EIO, "unpack `%s`: %s", name, archive_error_string (w));
    }
}

static int
cp_from_stdin (struct arca_engine *e, int root_fd, const char *dst,
               const struct arca_cp_options *opts, arca_error **err)
{
  cleanup_free char *tmp = NULL, *src = NULL;
  struct stat st;

  /* Docker's rule: the destination of a tar stream is a directory. */
  cleanup_close int dst_fd = arca_open_in_root (root_fd, dst, O_PATH, 0, err);
  if (dst_fd < 0)
    return -1;
  if (fstat (dst_fd, &st) < 0 || !S_ISDIR (st.st_mode))
    return arca_error_set (err, ENOTDIR, "destination `%s` must be a directory", dst);
  if (asprintf (&tmp, "%s/cp-XXXXXX", e->run_root) < 0)
    return arca_error_set (err, ENOMEM, "cp");
  if (arca_mkdir_p (e->run_root, 0700, err) < 0)
    return -1;
  if (mkdtemp (tmp) == NULL)
    return arca_error_errno (err, "create `%s`", tmp);
  int r = untar (STDIN_FILENO, tmp, err);
  if (r == 0 && asprintf (&src, "%s/.", tmp) < 0)
    r = arca_error_set (err, ENOMEM, "cp");
  if (r == 0)
    {
      struct side s = { .root_fd = -1, .path = src };
      struct side d = { .root_fd = root_fd, .path = (char *) dst };
      /* Owners as the tar says: that is what a tar stream is for. */
      struct arca_cp_options keep = *opts;
      keep.archive = true;
      r = copy_sides (&s, &d, &keep, err);
    }
  cleanup_error arca_error *ignored = NULL;
  arca_rm_rf_at (AT_FDCWD, tmp, &ignored);
  return r;
}

/* "NAME:PATH" names a container path; a host path with a ':' can be
 * written "./a:b" (Docker's rule: a '/' before the ':' means a host path). */
static bool
container_part (const char *arg, char **ret_name, const char **ret_path)
{
  const char *colon = strchr (arg, ':');
  if (colon == NULL || colon == arg)
    return false;
  const char *slash = strchr (arg, '/');
  if (slash && slash < colon)
    return false;
  *ret_name = strndup (arg, (size_t) (colon - arg));
  *ret_path = colon + 1;
  return *ret_name != NULL;
}

int
arca_engine_cp (struct arca_engine *e, const char *src, const char *dst,
                const struct arca_cp_options *opts, arca_error **err)
{
  cleanup_free char *src_ctr = NULL, *dst_ctr = NULL;
  const char *src_path = src, *dst_path = dst;
  struct arca_engine_root root = { .fd = -1 };

  bool from = container_part (src, &src_ctr, &src_path);
  bool to = container_part (dst, &dst_ctr, &dst_path);
  if (from == to)
    return arca_error_set (err, EINVAL,
                           "cp: exactly one of SRC and DST must be CONTAINER:PATH (`%s` `%s`)",
                           src, dst);
  if (arca_engine_root_open (e, from ? src_ctr : dst_ctr, &root, err) < 0)
    return -1;
  int r;
  if (from && strcmp (dst, "-") == 0)
    {
      /* A tar stream of the source, named by its last component. */
      cleanup_free char *dir = NULL, *name = NULL;
      bool contents = false;
      cleanup_close int parent = -1;
      cleanup_free char *member = NULL;
      struct stat st;
      struct side s = { .root_fd = root.fd, .path = (char *) src_path };
      r = split (*src_path ? src_path : "/", &dir, &name, &contents, err);
      if (r == 0 && (parent = arca_open_in_root (root.fd, dir, O_PATH | O_DIRECTORY, 0, err)) < 0)
        r = -1;
      if (r == 0 && (member = strdup (name)) == NULL)
        r = arca_error_set (err, ENOMEM, "cp");
      if (r == 0 && opts->follow_link)
        {
          if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            r = arca_error_errno (err, "`%s`", src_path);
          else
            r = follow_source (&s, &dir, &name, &parent, &st, err);
        }
      if (r == 0)
        r = write_tar (parent, name, contents ? "" : member, STDOUT_FILENO, err);
    }
  else if (to && strcmp (src, "-") == 0)
    r = cp_from_stdin (e, root.fd, *dst_path ? dst_path : "/", opts, err);
  else
    {
      struct side s = { .root_fd = from ? root.fd : -1, .path = (char *) src_path };
      struct side d = { .root_fd = to ? root.fd : -1, .path = (char *) dst_path };
      if (*s.path == '\0' || *d.path == '\0')
        r = arca_error_set (err, EINVAL, "cp: empty path");
      else
        r = copy_sides (&s, &d, opts, err);
    }
  arca_engine_root_close (e, &root);
  return r < 0 ? arca_error_wrap (err, "cp `%s` `%s`", src, dst) : 0;
}

int
arca_engine_export (struct arca_engine *e, const char *name_or_id, int out_fd, arca_error **err)
{
  struct arca_engine_root root = { .fd = -1 };

  if (arca_engine_root_open (e, name_or_id, &root, err) < 0)
    return -1;
  int r = write_tar (root.fd, ".", "", out_fd, err);
  arca_engine_root_close (e, &root);
  return r < 0 ? arca_error_wrap (err, "export %s", name_or_id) : 0;
}

int
arca_engine_diff (struct arca_engine *e, const char *name_or_id, struct arca_change **ret,
                  size_t *ret_count, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free char *upper = NULL;
  cleanup_strv char **lowers = NULL;
  size_t n = 0;

  if (arca_engine_get (e, name_or_id, &c, err) < 0
      || arca_engine_container_dir (e, c->id, "upper", &upper, err) < 0
      || layer_dirs (e, c->image_id, &lowers, &n, err) < 0)
    return -1;
  return arca_overlay_changes (upper, (const char *const *) lowers, n, ret, ret_count, err);
}
