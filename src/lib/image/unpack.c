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

/* The chain of directories from the layer root down to the parent of the
 * last entry, kept open: tar streams list a directory's entries together,
 * so most entries need no lookup at all.  level[0] is the root; level[i]
 * is the directory path[0..end[i]).  Only directories reached beneath the
 * root without following a symlink get in, and an entry that replaces one
 * of them (or an ancestor) drops it and everything below first
 * (dir_cache_forget), so a cached fd never names anything but the
 * directory at that path of this layer. */
struct dir_cache
{
  char path[PATH_MAX];
  int *fds;
  size_t *ends;
  size_t n, cap;
};

struct unpacker
{
  int root;
  const struct arca_unpack_options *opts;
  struct archive *outer;
  arca_digester *digester; /* NULL when the stream's digest is already known */
  int64_t size;
  char *buf;
  struct deferred_dir *dirs;
  size_t n_dirs;
  struct dir_cache cache;
  /* Who owns what this process creates: chown is skipped when an entry
   * wants exactly that (most layers are all root:root). */
  uid_t own_uid;
  gid_t own_gid;
  bool owner_inherited; /* the root is setgid: new entries take its group */
};

static void
archive_freep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_archive __attribute__ ((cleanup (archive_freep)))

static void
dir_cache_truncate (struct dir_cache *c, size_t n)
{
  while (c->n > n)
    arca_closep (&c->fds[--c->n]);
}

static void
unpacker_release (struct unpacker *u)
{
  dir_cache_truncate (&u->cache, 0);
  free (u->cache.fds);
  free (u->cache.ends);
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
  if (u->digester)
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

/* Opens the directory component name below cur (O_PATH), never following
 * a symlink; a missing one is created when create is set (tar streams need
 * not list parents first).  path is the entry's whole path for messages. */
static int
open_component (int cur, const char *entry, const char *name, const char *path, bool create,
                arca_error **err)
{
  int next = open_beneath (cur, name, O_PATH | O_DIRECTORY);
  int e;

  if (next < 0 && errno == ENOENT && create)
    {
      if (mkdirat (cur, name, 0755) < 0 && errno != EEXIST)
        return arca_error_errno (err, "layer entry `%s`: mkdir parent `%s`", entry, path);
      next = open_beneath (cur, name, O_PATH | O_DIRECTORY);
    }
  if (next >= 0)
    return next;
  e = errno;
  if (e == ELOOP || e == EXDEV)
    return arca_error_set (err, EPERM, "layer entry `%s`: parent `%s` is a symlink, refused", entry,
                           path);
  if (e == ENOENT)
    return arca_error_set (err, ENOENT, "layer entry `%s`: parent `%s` does not exist", entry,
                           path);
  if (e == ENOTDIR)
    return arca_error_set (err, ENOTDIR, "layer entry `%s`: parent `%s` is not a directory", entry,
                           path);
  return arca_error_set (err, e, "layer entry `%s`: open parent `%s`", entry, path);
}

/* Opens the directory holding path (an O_PATH fd the caller owns)
 * component by component from the root.  *ret_base points into path at the
 * last component. */
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
      next = open_component (cur, entry, p, path, create, err);
      *slash = '/';
      if (next < 0)
        return -1;
      close (cur);
      cur = next;
      p = slash + 1;
    }
  *ret_base = p;
  return move_fd (cur);
}

static int
dir_cache_push (struct dir_cache *c, int fd, size_t end)
{
  if (c->n == c->cap)
    {
      size_t ncap = c->cap ? c->cap * 2 : 16;
      int *nf = realloc (c->fds, ncap * sizeof (*nf));
      size_t *ne;
      if (nf == NULL)
        return -1;
      c->fds = nf;
      ne = realloc (c->ends, ncap * sizeof (*ne));
      if (ne == NULL)
        return -1;
      c->ends = ne;
      c->cap = ncap;
    }
  c->fds[c->n] = fd;
  c->ends[c->n++] = end;
  return 0;
}

/* Like open_parent, but through the cache: the fd returned is borrowed and
 * valid until the next call.  Afterwards the cache is exactly the chain
 * from the root to this parent.  An entry only ever changes what is at or
 * below its own path, a child of that chain's end, so the directories the
 * cache holds are never replaced while they are in it: the next call
 * reuses only levels that are ancestors of (or equal to) this parent. */
static int
cached_parent (struct unpacker *u, const char *entry, char *path, bool create,
               const char **ret_base, arca_error **err)
{
  struct dir_cache *c = &u->cache;
  char *slash = strrchr (path, '/');
  size_t dlen = slash ? (size_t)(slash - path) : 0;
  size_t k;
  char *p;

  if (c->n == 0)
    {
      int fd = open_beneath (u->root, ".", O_PATH | O_DIRECTORY);
      if (fd < 0)
        return arca_error_errno (err, "layer entry `%s`: open layer root", entry);
      if (dir_cache_push (c, fd, 0) < 0)
        {
          close (fd);
          return arca_error_errno (err, "layer entry `%s`", entry);
        }
    }
  /* The deepest cached level that is this directory or an ancestor. */
  for (k = c->n - 1; k > 0; k--)
    if (c->ends[k] <= dlen && path[c->ends[k]] == '/' && memcmp (c->path, path, c->ends[k]) == 0)
      break;
  dir_cache_truncate (c, k + 1);
  p = path + c->ends[k] + (k > 0 ? 1 : 0);
  while (slash && p <= slash)
    {
      char *end = strchr (p, '/');
      int next;
      *end = '\0';
      next = open_component (c->fds[c->n - 1], entry, p, path, create, err);
      *end = '/';
      if (next < 0)
        return -1;
      if (dir_cache_push (c, next, (size_t)(end - path)) < 0)
        {
          close (next);
          return arca_error_errno (err, "layer entry `%s`", entry);
        }
      memcpy (c->path, path, (size_t)(end - path));
      p = end + 1;
    }
  *ret_base = slash ? slash + 1 : path;
  return c->fds[c->n - 1];
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
  const char *tname = NULL;
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
  int64_t end = 0;
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
      if (offset > end)
        end = offset;
    }
  if (r != ARCHIVE_EOF)
    return archive_fail (a, err, entry);
  /* Sparse files end in a hole the blocks do not cover.  Only then: a
   * truncate is not free (ext4 drops its preallocation, with a discard). */
  if (end != size && ftruncate (fd, size) < 0)
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

/* Creates the entry's node with make (one syscall); when something is in
 * the way, clears it (a directory stays for a directory, tar semantics)
 * and tries once more.  Returns 1 when an existing directory was kept. */
enum node
{
  NODE_DIR,
  NODE_SYMLINK,
  NODE_DEVICE,
};

static int
make_node (int parent, const char *base, enum node kind, mode_t type, dev_t rdev,
           const char *target, const char *entry, arca_error **err)
{
  static const char *const what[] = { "mkdir", "symlink", "mknod" };

  for (int attempt = 0;; attempt++)
    {
      int r;
      if (kind == NODE_DIR)
        r = mkdirat (parent, base, 0700);
      else if (kind == NODE_SYMLINK)
        r = symlinkat (target, parent, base);
      else
        r = mknodat (parent, base, type | 0600, rdev);
      if (r == 0)
        return 0;
      if (errno != EEXIST || attempt > 0)
        return arca_error_errno (err, "layer entry `%s`: %s", entry, what[kind]);
      r = clear_target (parent, base, kind == NODE_DIR, entry, err);
      if (r != 0)
        return r;
    }
}

static int
create_file (int parent, const char *base, const char *entry, arca_error **err)
{
  for (int attempt = 0;; attempt++)
    {
      int fd = openat (parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd >= 0)
        return fd;
      if (errno != EEXIST || attempt > 0)
        return arca_error_errno (err, "layer entry `%s`: create", entry);
      if (clear_target (parent, base, false, entry, err) < 0)
        return -1;
    }
}

static void
entry_times (struct archive_entry *e, struct timespec times[2])
{
  times[0].tv_sec
      = archive_entry_atime_is_set (e) ? archive_entry_atime (e) : archive_entry_mtime (e);
  times[0].tv_nsec = archive_entry_atime_is_set (e) ? archive_entry_atime_nsec (e)
                                                    : archive_entry_mtime_nsec (e);
  times[1].tv_sec = archive_entry_mtime (e);
  times[1].tv_nsec = archive_entry_mtime_nsec (e);
}

static int
unpack_entry (struct unpacker *u, struct archive *a, struct archive_entry *e, arca_error **err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1; /* a regular file's, for the metadata calls */
  int parent;
  const char *entry = archive_entry_pathname (e);
  const char *base, *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  uid_t uid = (uid_t)archive_entry_uid (e);
  gid_t gid = (gid_t)archive_entry_gid (e);
  struct timespec times[2];

  if (clean_path (entry, &path, err) < 0)
    return -1;
  if (*path == '\0')
    return 0; /* the layer root itself: its directory is ours */
  parent = cached_parent (u, entry, path, true, &base, err);
  if (parent < 0)
    return -1;
  if (strncmp (base, WHITEOUT, strlen (WHITEOUT)) == 0)
    return whiteout (u, entry, parent, base, err);

  if (hardlink)
    return make_hardlink (u, entry, parent, base, hardlink, err);

  switch (type)
    {
    case AE_IFREG:
      fd = create_file (parent, base, entry, err);
      if (fd < 0 || write_data (u, a, fd, entry, archive_entry_size (e), err) < 0)
        return -1;
      break;
    case AE_IFDIR:
      if (make_node (parent, base, NODE_DIR, 0, 0, NULL, entry, err) < 0)
        return -1;
      break;
    case AE_IFLNK:
      {
        const char *target = archive_entry_symlink (e);
        if (target == NULL || *target == '\0')
          return arca_error_set (err, EINVAL, "layer entry `%s`: symlink without target", entry);
        if (make_node (parent, base, NODE_SYMLINK, 0, 0, target, entry, err) < 0)
          return -1;
        break;
      }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      if (make_node (parent, base, NODE_DEVICE, type, type == AE_IFIFO ? 0 : archive_entry_rdev (e),
                     NULL, entry, err)
          < 0)
        return -1;
      break;
    default:
      arca_debug (u->opts->log, "layer entry `%s`: file type 0%o skipped", entry, (unsigned)type);
      return 0;
    }

  /* A new node already belongs to this process's user and group unless
   * the root is setgid (directories below it are 0700 until finish_dirs,
   * so none of them passes a group on meanwhile). */
  if (!u->opts->no_chown && (uid != u->own_uid || gid != u->own_gid || u->owner_inherited)
      && (fd >= 0 ? fchown (fd, uid, gid) : fchownat (parent, base, uid, gid, AT_SYMLINK_NOFOLLOW))
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
  if (type != AE_IFLNK
      && (fd >= 0 ? fchmod (fd, archive_entry_perm (e))
                  : fchmodat (parent, base, archive_entry_perm (e), 0))
             < 0)
    return arca_error_errno (err, "layer entry `%s`: chmod", entry);
  if (apply_xattrs (parent, base, e, entry, err) < 0)
    return -1;
  entry_times (e, times);
  if ((fd >= 0 ? futimens (fd, times) : utimensat (parent, base, times, AT_SYMLINK_NOFOLLOW)) < 0)
    return arca_error_errno (err, "layer entry `%s`: set times", entry);
  return 0;
}

static int
finish_dirs (struct unpacker *u, arca_error **err)
{
  for (size_t i = 0; i < u->n_dirs; i++)
    {
      struct deferred_dir *d = &u->dirs[i];
      const char *base;
      int parent = cached_parent (u, d->path, d->path, false, &base, err);

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

/* known_digest: the verified sha256 of everything fd holds, or NULL.  When
 * the stream turns out not to be compressed, that is the diff_id and the
 * stream is not hashed a second time. */
static int
unpack_into (int fd, const char *known_digest, int dirfd, const struct arca_unpack_options *opts,
             struct arca_unpack_result *ret_result, arca_error **err)
{
  static const struct arca_unpack_options defaults = { 0 };
  struct unpacker u = { .root = dirfd, .opts = opts ? opts : &defaults };
  cleanup_archive struct archive *outer = NULL;
  cleanup_archive struct archive *inner = NULL;
  struct archive_entry *e;
  struct stat st;
  int r;

  if (fstat (dirfd, &st) < 0)
    return arca_error_errno (err, "unpack layer: stat its directory");
  u.own_uid = geteuid ();
  u.own_gid = getegid ();
  u.owner_inherited = (st.st_mode & S_ISGID) != 0;
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
  else
    {
      if (known_digest && archive_filter_count (outer) == 1
          && archive_filter_code (outer, 0) == ARCHIVE_FILTER_NONE)
        {
          arca_digester_free (u.digester);
          u.digester = NULL;
        }
      if (archive_read_open (inner, &u, NULL, inner_read, NULL) != ARCHIVE_OK)
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
          if (u.digester)
            arca_digester_update (u.digester, u.buf, (size_t)n);
          u.size += n;
        }
    }
  if (r == 0)
    r = finish_dirs (&u, err);
  if (r == 0 && u.digester)
    r = arca_digester_final (u.digester, ret_result->diff_id, err);
  else if (r == 0)
    memcpy (ret_result->diff_id, known_digest, sizeof (ret_result->diff_id));
  if (r == 0)
    {
      ret_result->size = u.size;
      ret_result->existed = false;
    }
  unpacker_release (&u);
  return r < 0 ? -1 : 0;
}

int
arca_layer_unpack_into (int fd, int dirfd, const struct arca_unpack_options *opts,
                        struct arca_unpack_result *ret_result, arca_error **err)
{
  return unpack_into (fd, NULL, dirfd, opts, ret_result, err);
}

int
arca_layer_unpack_blob (int fd, const char *blob_digest, int parent_dirfd, const char *name,
                        const struct arca_unpack_options *opts,
                        struct arca_unpack_result *ret_result, arca_error **err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int dirfd = -1;
  struct arca_unpack_result res;
  int r;

  if (blob_digest && arca_digest_check (blob_digest, "unpack layer", err) < 0)
    return -1;
  if (asprintf (&tmp, ".tmp-%d-%08lx", (int)getpid (), (unsigned long)random ()) < 0)
    return arca_error_errno (err, "unpack layer `%s`", name);
  if (mkdirat (parent_dirfd, tmp, 0755) < 0)
    return arca_error_errno (err, "unpack layer `%s`: mkdir `%s`", name, tmp);
  dirfd = openat (parent_dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0)
    r = arca_error_errno (err, "open `%s`", tmp);
  else
    r = unpack_into (fd, blob_digest, dirfd, opts, &res, err);
  /* The rename must not reach the disk before the files it publishes: one
   * syncfs for the whole tree (an fsync per file would cost a disk flush
   * each).  If the machine crashes before it returns, the tree is still a
   * ".tmp-*" dir that arca_store_clean_temp() removes; nothing refers to a
   * layer dir before the rename, and the rename happens only after. */
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
arca_layer_unpack (int fd, int parent_dirfd, const char *name,
                   const struct arca_unpack_options *opts, struct arca_unpack_result *ret_result,
                   arca_error **err)
{
  return arca_layer_unpack_blob (fd, NULL, parent_dirfd, name, opts, ret_result, err);
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
