/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two libarchive readers are chained: the outer one detects and removes the
 * compression ("raw" format, every filter) and its output is hashed into
 * the diff_id while it is fed to the inner one, which parses the tar.  So
 * the layer is read once, and the digest covers exactly the bytes the tar
 * parser saw plus any trailing padding. */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

#define BUF_SIZE (1 << 17)
#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

/* A directory whose mode and times are applied last, so entries written
 * into it later neither need write permission nor bump its mtime. */
struct deferred_dir
{
  char *path;
  mode_t mode;
  struct timespec times[2];
};

struct unpacker
{
  int root;
  const struct arca_unpack_options *opts;
  struct archive *outer;
  arca_digester *digester;
  int64_t size;
  char *buf;
  struct deferred_dir *dirs;
  size_t n_dirs;
};

static void
archive_freep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_archive __attribute__ ((cleanup (archive_freep)))

static void
unpacker_release (struct unpacker *u)
{
  for (size_t i = 0; i < u->n_dirs; i++)
    free (u->dirs[i].path);
  free (u->dirs);
  free (u->buf);
  arca_digester_free (u->digester);
}

static la_ssize_t
inner_read (struct archive *a, void *data, const void **ret_buf)
{
  struct unpacker *u = data;
  la_ssize_t n = archive_read_data (u->outer, u->buf, BUF_SIZE);

  if (n < 0)
    {
      archive_set_error (a, archive_errno (u->outer) ? archive_errno (u->outer) : EIO, "%s",
                         archive_error_string (u->outer) ? archive_error_string (u->outer)
                                                         : "decompression failed");
      return -1;
    }
  arca_digester_update (u->digester, u->buf, (size_t)n);
  u->size += n;
  *ret_buf = u->buf;
  return n;
}

static int
archive_fail (struct archive *a, arca_error **err, const char *what)
{
  int e = archive_errno (a);
  const char *msg = archive_error_string (a);
  return arca_error_set (err, e > 0 ? e : EIO, "%s: %s", what, msg ? msg : "unknown error");
}

/* Normalises an entry path: strips "./" and "/" runs, drops "."
 * components, refuses absolute paths and "..".  "" is the layer root. */
static int
clean_path (const char *in, char **ret, arca_error **err)
{
  cleanup_free char *out = NULL;
  size_t len = 0;

  if (in == NULL)
    return arca_error_set (err, EINVAL, "layer entry without a path");
  if (in[0] == '/')
    return arca_error_set (err, EPERM, "layer entry `%.200s`: absolute path refused", in);
  if (strlen (in) >= PATH_MAX)
    return arca_error_set (err, ENAMETOOLONG, "layer entry `%.200s...`: path too long", in);
  out = malloc (strlen (in) + 1);
  if (out == NULL)
    return arca_error_errno (err, "layer entry `%s`", in);
  for (const char *p = in; *p;)
    {
      const char *e = strchr (p, '/');
      size_t n = e ? (size_t)(e - p) : strlen (p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return arca_error_set (err, EPERM, "layer entry `%.200s`: `..` component refused", in);
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (len > 0)
            out[len++] = '/';
          memcpy (out + len, p, n);
          len += n;
        }
      p += n;
      while (*p == '/')
        p++;
    }
  out[len] = '\0';
  *ret = move_ptr (out);
  return 0;
}

static int
open_beneath (int dirfd, const char *name, int flags)
{
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd;
  do
    fd = (int)syscall (SYS_openat2, dirfd, name, &how, sizeof (how));
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* Opens the directory holding path (an O_PATH fd) component by component,
 * never following a symlink; missing directories are created when create
 * is set (tar streams need not list parents first).  *ret_base points into
 * path at the last component. */
static int
open_parent (struct unpacker *u, const char *entry, char *path, bool create, const char **ret_base,
             arca_error **err)
{
  cleanup_close int cur = -1;
  char *p = path, *slash;

  cur = open_beneath (u->root, ".", O_PATH | O_DIRECTORY);
  if (cur < 0)
    return arca_error_errno (err, "layer entry `%s`: open layer root", entry);
  while ((slash = strchr (p, '/')) != NULL)
    {
      int next;
      *slash = '\0';
      next = open_beneath (cur, p, O_PATH | O_DIRECTORY);
      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (cur, p, 0755) < 0 && errno != EEXIST)
            return arca_error_errno (err, "layer entry `%s`: mkdir parent `%s`", entry, path);
          next = open_beneath (cur, p, O_PATH | O_DIRECTORY);
        }
      if (next < 0)
        {
          int e = errno;
          if (e == ELOOP || e == EXDEV)
            arca_error_set (err, EPERM, "layer entry `%s`: parent `%s` is a symlink, refused",
                            entry, path);
          else if (e == ENOENT)
            arca_error_set (err, ENOENT, "layer entry `%s`: parent `%s` does not exist", entry,
                            path);
          else if (e == ENOTDIR)
            arca_error_set (err, ENOTDIR, "layer entry `%s`: parent `%s` is not a directory", entry,
                            path);
          else
            arca_error_set (err, e, "layer entry `%s`: open parent `%s`", entry, path);
          *slash = '/';
          return -1;
        }
      *slash = '/';
      close (cur);
      cur = next;
      p = slash + 1;
    }
  *ret_base = p;
  return move_fd (cur);
}

/* Makes room for a new entry: a directory stays when a directory replaces
 * it (tar semantics: its metadata is updated), anything else goes. */
static int
clear_target (int parent, const char *name, bool keep_dir, const char *entry, arca_error **err)
{
  struct stat st;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return arca_error_errno (err, "layer entry `%s`: stat", entry);
    }
  if (S_ISDIR (st.st_mode))
    {
      if (keep_dir)
        return 1;
      if (arca_rm_rf_at (parent, name, err) < 0)
        return arca_error_wrap (err, "layer entry `%s`", entry);
      return 0;
    }
  if (unlinkat (parent, name, 0) < 0)
    return arca_error_errno (err, "layer entry `%s`: replace existing file", entry);
  return 0;
}

static bool
valid_name (const char *name)
{
  return *name && strcmp (name, ".") != 0 && strcmp (name, "..") != 0 && !strchr (name, '/');
}

/* Would a symlink at dir_depth components below the root, pointing at
 * target, resolve outside the layer (judged lexically)? */
static bool
symlink_escapes (const char *target, int dir_depth)
{
  int depth = dir_depth;

  if (target[0] == '/')
    return true;
  for (const char *p = target; *p;)
    {
      const char *e = strchr (p, '/');
      size_t n = e ? (size_t)(e - p) : strlen (p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          if (--depth < 0)
            return true;
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        depth++;
      p += n;
      while (*p == '/')
        p++;
    }
  return false;
}

static int
make_hardlink (struct unpacker *u, const char *entry, int parent, const char *name,
               const char *link_target, arca_error **err)
{
  cleanup_free char *target = NULL;
  cleanup_close int tparent = -1;
  const char *tname;
  struct stat st;
  int depth = 0;

  if (clean_path (link_target, &target, err) < 0)
    return arca_error_wrap (err, "hard link `%s`", entry);
  if (*target == '\0')
    return arca_error_set (err, EPERM, "hard link `%s` to the layer root refused", entry);
  tparent = open_parent (u, entry, target, false, &tname, err);
  if (tparent < 0)
    return arca_error_wrap (err, "hard link `%s` to `%s`", entry, link_target);
  if (fstatat (tparent, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_set (err, errno == ENOENT ? EPERM : errno,
                           "hard link `%s` to `%s`: target is not in the layer", entry,
                           link_target);
  if (S_ISDIR (st.st_mode))
    return arca_error_set (err, EPERM, "hard link `%s` to directory `%s` refused", entry,
                           link_target);
  if (S_ISLNK (st.st_mode))
    {
      char buf[PATH_MAX];
      ssize_t n = readlinkat (tparent, tname, buf, sizeof (buf) - 1);
      if (n < 0)
        return arca_error_errno (err, "hard link `%s`: readlink `%s`", entry, link_target);
      buf[n] = '\0';
      for (const char *p = target; (p = strchr (p, '/')) != NULL; p++)
        depth++;
      if (symlink_escapes (buf, depth))
        return arca_error_set (err, EPERM,
                               "hard link `%s` to symlink `%s` leading outside the layer refused",
                               entry, link_target);
    }
  if (clear_target (parent, name, false, entry, err) < 0)
    return -1;
  if (linkat (tparent, tname, parent, name, 0) < 0)
    return arca_error_errno (err, "hard link `%s` to `%s`", entry, link_target);
  return 0;
}

static int
write_data (struct unpacker *u, struct archive *a, int fd, const char *entry, int64_t size,
            arca_error **err)
{
  const void *block;
  size_t len;
  la_int64_t offset;
  int r;

  while ((r = archive_read_data_block (a, &block, &len, &offset)) == ARCHIVE_OK)
    {
      const char *p = block;
      while (len > 0)
        {
          ssize_t n = pwrite (fd, p, len, offset);
          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              return arca_error_errno (err, "layer entry `%s`: write", entry);
            }
          p += n;
          len -= (size_t)n;
          offset += n;
        }
    }
  if (r != ARCHIVE_EOF)
    return archive_fail (a, err, entry);
  /* Sparse files end in a hole the blocks do not cover. */
  if (ftruncate (fd, size) < 0)
    return arca_error_errno (err, "layer entry `%s`: truncate", entry);
  return 0;
}

static int
apply_xattrs (int parent, const char *name, struct archive_entry *e, const char *entry,
              arca_error **err)
{
  const char *key;
  const void *value;
  size_t size;
  char path[64 + NAME_MAX];

  if (archive_entry_xattr_reset (e) == 0)
    return 0;
  snprintf (path, sizeof (path), "/proc/self/fd/%d/%s", parent, name);
  while (archive_entry_xattr_next (e, &key, &value, &size) == ARCHIVE_OK)
    {
      if (strncmp (key, "trusted.overlay.", 16) == 0)
        continue;
      if (lsetxattr (path, key, value, size, 0) == 0)
        continue;
      /* user.* cannot be set on symlinks and devices, and some
       * filesystems have none: like tar, skip those rather than refuse
       * the layer.  security.* (file capabilities) must not be lost. */
      if (strncmp (key, "user.", 5) == 0 && (errno == EPERM || errno == ENOTSUP))
        continue;
      return arca_error_errno (err, "layer entry `%s`: set xattr `%s`", entry, key);
    }
  return 0;
}

static int
defer_dir (struct unpacker *u, const char *path, struct archive_entry *e, arca_error **err)
{
  struct deferred_dir *nd = realloc (u->dirs, (u->n_dirs + 1) * sizeof (*nd));

  if (nd == NULL)
    return arca_error_errno (err, "layer entry `%s`", path);
  u->dirs = nd;
  nd = &u->dirs[u->n_dirs];
  nd->path = strdup (path);
  if (nd->path == NULL)
    return arca_error_errno (err, "layer entry `%s`", path);
  nd->mode = archive_entry_perm (e);
  nd->times[0].tv_sec
      = archive_entry_atime_is_set (e) ? archive_entry_atime (e) : archive_entry_mtime (e);
  nd->times[0].tv_nsec = archive_entry_atime_is_set (e) ? archive_entry_atime_nsec (e)
                                                        : archive_entry_mtime_nsec (e);
  nd->times[1].tv_sec = archive_entry_mtime (e);
  nd->times[1].tv_nsec = archive_entry_mtime_nsec (e);
  u->n_dirs++;
  return 0;
}

static int
whiteout (struct unpacker *u, const char *entry, int parent, const char *base, arca_error **err)
{
  const char *name = base + strlen (WHITEOUT);

  if (strcmp (base, OPAQUE) == 0)
    {
      cleanup_close int dfd = openat (parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0 || fsetxattr (dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return arca_error_errno (err, "layer entry `%s`: mark directory opaque", entry);
      return 0;
    }
  if (strncmp (base, WHITEOUT WHITEOUT, 2 * strlen (WHITEOUT)) == 0)
    {
      arca_debug (u->opts->log, "layer entry `%s`: aufs metadata skipped", entry);
      return 0;
    }
  if (!valid_name (name))
    return arca_error_set (err, EINVAL, "layer entry `%s`: invalid whiteout", entry);
  if (clear_target (parent, name, false, entry, err) < 0)
    return -1;
  if (mknodat (parent, name, S_IFCHR | 0, makedev (0, 0)) < 0)
    return arca_error_errno (err, "layer entry `%s`: create whiteout", entry);
  return 0;
}

static int
unpack_entry (struct unpacker *u, struct archive *a, struct archive_entry *e, arca_error **err)
{
  cleanup_free char *path = NULL;
  cleanup_close int parent = -1;
  const char *entry = archive_entry_pathname (e);
  const char *base, *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  struct timespec times[2];

  if (clean_path (entry, &path, err) < 0)
    return -1;
  if (*path == '\0')
    return 0; /* the layer root itself: its directory is ours */
  parent = open_parent (u, entry, path, true, &base, err);
  if (parent < 0)
    return -1;
  if (strncmp (base, WHITEOUT, strlen (WHITEOUT)) == 0)
    return whiteout (u, entry, parent, base, err);

  if (hardlink)
    return make_hardlink (u, entry, parent, base, hardlink, err);

  switch (type)
    {
    case AE_IFREG:
      {
        cleanup_close int fd = -1;
        if (clear_target (parent, base, false, entry, err) < 0)
          return -1;
        fd = openat (parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
          return arca_error_errno (err, "layer entry `%s`: create", entry);
        if (write_data (u, a, fd, entry, archive_entry_size (e), err) < 0)
          return -1;
        break;
      }
    case AE_IFDIR:
      {
        int r = clear_target (parent, base, true, entry, err);
        if (r < 0)
          return -1;
        if (r == 0 && mkdirat (parent, base, 0700) < 0)
          return arca_error_errno (err, "layer entry `%s`: mkdir", entry);
        break;
      }
    case AE_IFLNK:
      {
        const char *target = archive_entry_symlink (e);
        if (target == NULL || *target == '\0')
          return arca_error_set (err, EINVAL, "layer entry `%s`: symlink without target", entry);
        if (clear_target (parent, base, false, entry, err) < 0)
          return -1;
        if (symlinkat (target, parent, base) < 0)
          return arca_error_errno (err, "layer entry `%s`: symlink", entry);
        break;
      }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      if (clear_target (parent, base, false, entry, err) < 0)
        return -1;
      if (mknodat (parent, base, type | 0600, type == AE_IFIFO ? 0 : archive_entry_rdev (e)) < 0)
        return arca_error_errno (err, "layer entry `%s`: mknod", entry);
      break;
    default:
      arca_debug (u->opts->log, "layer entry `%s`: file type 0%o skipped", entry, (unsigned)type);
      return 0;
    }

  if (!u->opts->no_chown
      && fchownat (parent, base, (uid_t)archive_entry_uid (e), (gid_t)archive_entry_gid (e),
                   AT_SYMLINK_NOFOLLOW)
             < 0)
    return arca_error_errno (err, "layer entry `%s`: chown to %lld:%lld", entry,
                             (long long)archive_entry_uid (e), (long long)archive_entry_gid (e));
  if (type == AE_IFDIR)
    {
      if (apply_xattrs (parent, base, e, entry, err) < 0)
        return -1;
      return defer_dir (u, path, e, err);
    }
  /* chmod after chown (chown clears setuid), xattrs after both (chown
   * clears security.capability). */
  if (type != AE_IFLNK && fchmodat (parent, base, archive_entry_perm (e), 0) < 0)
    return arca_error_errno (err, "layer entry `%s`: chmod", entry);
  if (apply_xattrs (parent, base, e, entry, err) < 0)
    return -1;
  times[0].tv_sec
      = archive_entry_atime_is_set (e) ? archive_entry_atime (e) : archive_entry_mtime (e);
  times[0].tv_nsec = archive_entry_atime_is_set (e) ? archive_entry_atime_nsec (e)
                                                    : archive_entry_mtime_nsec (e);
  times[1].tv_sec = archive_entry_mtime (e);
  times[1].tv_nsec = archive_entry_mtime_nsec (e);
  if (utimensat (parent, base, times, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "layer entry `%s`: set times", entry);
  return 0;
}

static int
finish_dirs (struct unpacker *u, arca_error **err)
{
  for (size_t i = 0; i < u->n_dirs; i++)
    {
      struct deferred_dir *d = &u->dirs[i];
      cleanup_close int parent = -1;
      const char *base;

      parent = open_parent (u, d->path, d->path, false, &base, err);
      if (parent < 0)
        return -1;
      /* A later entry may have replaced the directory: only a directory
       * gets the directory's metadata. */
      {
        struct stat st;
        if (fstatat (parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
          continue;
      }
      if (fchmodat (parent, base, d->mode, 0) < 0)
        return arca_error_errno (err, "layer entry `%s`: chmod", d->path);
      if (utimensat (parent, base, d->times, AT_SYMLINK_NOFOLLOW) < 0)
        return arca_error_errno (err, "layer entry `%s`: set times", d->path);
    }
  return 0;
}

int
arca_layer_unpack_into (int fd, int dirfd, const struct arca_unpack_options *opts,
                        struct arca_unpack_result *ret_result, arca_error **err)
{
  static const struct arca_unpack_options defaults = { 0 };
  struct unpacker u = { .root = dirfd, .opts = opts ? opts : &defaults };
  cleanup_archive struct archive *outer = NULL;
  cleanup_archive struct archive *inner = NULL;
  struct archive_entry *e;
  int r;

  u.buf = malloc (BUF_SIZE);
  if (u.buf == NULL || arca_digester_new (&u.digester, err) < 0)
    {
      unpacker_release (&u);
      return arca_error_errno (err, "unpack layer");
    }
  outer = archive_read_new ();
  inner = archive_read_new ();
  if (outer == NULL || inner == NULL)
    {
      unpacker_release (&u);
      return arca_error_set (err, ENOMEM, "unpack layer");
    }
  u.outer = outer;
  archive_read_support_filter_all (outer);
  archive_read_support_format_raw (outer);
  archive_read_support_format_tar (inner);
  if (archive_read_open_fd (outer, fd, BUF_SIZE) != ARCHIVE_OK)
    r = archive_fail (outer, err, "open layer stream");
  else if ((r = archive_read_next_header (outer, &e)) != ARCHIVE_OK)
    r = r == ARCHIVE_EOF ? arca_error_set (err, EINVAL, "layer stream is empty")
                         : archive_fail (outer, err, "read layer stream");
  else if (archive_read_open (inner, &u, NULL, inner_read, NULL) != ARCHIVE_OK)
    r = archive_fail (inner, err, "read layer tar");
  else
    {
      while ((r = archive_read_next_header (inner, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
        if (unpack_entry (&u, inner, e, err) < 0)
          break;
      if (r == ARCHIVE_EOF)
        r = 0;
      else if (*err == NULL)
        r = archive_fail (inner, err, "read layer tar");
      else
        r = -1;
    }
  /* The diff_id covers the whole stream, padding after the tar's end too. */
  while (r == 0)
    {
      la_ssize_t n = archive_read_data (outer, u.buf, BUF_SIZE);
      if (n < 0)
        r = archive_fail (outer, err, "read layer stream");
      else if (n == 0)
        break;
      else
        {
          arca_digester_update (u.digester, u.buf, (size_t)n);
          u.size += n;
        }
    }
  if (r == 0)
    r = finish_dirs (&u, err);
  if (r == 0)
    r = arca_digester_final (u.digester, ret_result->diff_id, err);
  if (r == 0)
    {
      ret_result->size = u.size;
      ret_result->existed = false;
    }
  unpacker_release (&u);
  return r < 0 ? -1 : 0;
}

int
arca_layer_unpack (int fd, int parent_dirfd, const char *name,
                   const struct arca_unpack_options *opts, struct arca_unpack_result *ret_result,
                   arca_error **err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int dirfd = -1;
  struct arca_unpack_result res;
  int r;

  if (asprintf (&tmp, ".tmp-%d-%08lx", (int)getpid (), (unsigned long)random ()) < 0)
    return arca_error_errno (err, "unpack layer `%s`", name);
  if (mkdirat (parent_dirfd, tmp, 0755) < 0)
    return arca_error_errno (err, "unpack layer `%s`: mkdir `%s`", name, tmp);
  dirfd = openat (parent_dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0)
    r = arca_error_errno (err, "open `%s`", tmp);
  else
    r = arca_layer_unpack_into (fd, dirfd, opts, &res, err);
  /* The rename must not reach the disk before the files it publishes. */
  if (r == 0 && (opts == NULL || !opts->no_sync) && syncfs (dirfd) < 0)
    r = arca_error_errno (err, "syncfs `%s`", tmp);
  if (r < 0)
    {
      arca_error_wrap (err, "unpack layer `%s`", name);
      arca_closep (&dirfd);
      arca_rm_rf_at (parent_dirfd, tmp, NULL);
      return -1;
    }
  if (renameat2 (parent_dirfd, tmp, parent_dirfd, name, RENAME_NOREPLACE) < 0)
    {
      int e = errno;
      arca_closep (&dirfd);
      arca_rm_rf_at (parent_dirfd, tmp, NULL);
      if (e != EEXIST)
        return arca_error_set (err, e, "unpack layer `%s`: rename into place", name);
      res.existed = true;
    }
  *ret_result = res;
  return 0;
}

int
arca_layer_diff_id (int fd, struct arca_unpack_result *ret_result, arca_error **err)
{
  cleanup_archive struct archive *a = archive_read_new ();
  cleanup_digester arca_digester *d = NULL;
  cleanup_free char *buf = malloc (BUF_SIZE);
  struct archive_entry *e;
  int64_t size = 0;
  int r;

  if (a == NULL || buf == NULL || arca_digester_new (&d, err) < 0)
    return arca_error_set (err, ENOMEM, "hash layer");
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  if (archive_read_open_fd (a, fd, BUF_SIZE) != ARCHIVE_OK)
    return archive_fail (a, err, "open layer stream");
  r = archive_read_next_header (a, &e);
  if (r != ARCHIVE_OK)
    return r == ARCHIVE_EOF ? arca_error_set (err, EINVAL, "layer stream is empty")
                            : archive_fail (a, err, "read layer stream");
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, BUF_SIZE);
      if (n < 0)
        return archive_fail (a, err, "read layer stream");
      if (n == 0)
        break;
      arca_digester_update (d, buf, (size_t)n);
      size += n;
    }
  if (arca_digester_final (d, ret_result->diff_id, err) < 0)
    return -1;
  ret_result->size = size;
  ret_result->existed = false;
  return 0;
}
