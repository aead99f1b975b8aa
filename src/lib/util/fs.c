/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "strv.h"

int
arca_read_file_at (int dirfd, const char *path, size_t max_size,
                   char **ret_data, size_t *ret_len, arca_error **err)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;

  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  for (;;)
    {
      ssize_t n;
      if (cap - len < 4096)
        {
          size_t ncap = cap ? cap * 2 : 8192;
          char *nbuf;
          if (ncap > max_size + 1)
            ncap = max_size + 1;
          if (ncap <= len)
            return arca_error_set (err, EFBIG, "read `%s`: larger than %zu bytes",
                                   path, max_size);
          nbuf = realloc (buf, ncap);
          if (nbuf == NULL)
            return arca_error_errno (err, "read `%s`", path);
          buf = nbuf;
          cap = ncap;
        }
      n = read (fd, buf + len, cap - len - 1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return arca_error_errno (err, "read `%s`", path);
        }
      if (n == 0)
        break;
      len += (size_t) n;
      if (len >= max_size)
        return arca_error_set (err, EFBIG, "read `%s`: larger than %zu bytes",
                               path, max_size);
    }
  if (buf == NULL && (buf = malloc (1)) == NULL)
    return arca_error_errno (err, "read `%s`", path);
  buf[len] = '\0';
  if (ret_len)
    *ret_len = len;
  *ret_data = move_ptr (buf);
  return 0;
}

int
arca_write_file_at (int dirfd, const char *path, const void *data, size_t len,
                    arca_error **err)
{
  cleanup_close int fd = -1;
  ssize_t n;

  fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  do
    n = write (fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return arca_error_errno (err, "write `%s`", path);
  if ((size_t) n != len)
    return arca_error_set (err, EIO, "write `%s`: short write", path);
  return 0;
}

static int
write_all (int fd, const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      data += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
write_replace (int dirfd, const char *path, const void *data, size_t len, mode_t mode,
               bool durable, arca_error **err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = -1;

  if (asprintf (&tmp, "%s.tmp.%d", path, (int) getpid ()) < 0)
    return arca_error_errno (err, "write `%s`", path);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return arca_error_errno (err, "create `%s`", tmp);
  if (write_all (fd, data, len) < 0 || (durable && fsync (fd) < 0))
    {
      arca_error_errno (err, "write `%s`", tmp);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  if (renameat (dirfd, tmp, dirfd, path) < 0)
    {
      arca_error_errno (err, "rename `%s` to `%s`", tmp, path);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  return 0;
}

int
arca_write_file_atomic_at (int dirfd, const char *path, const void *data,
                           size_t len, mode_t mode, arca_error **err)
{
  return write_replace (dirfd, path, data, len, mode, true, err);
}

int
arca_write_file_replace_at (int dirfd, const char *path, const void *data, size_t len,
                            mode_t mode, arca_error **err)
{
  return write_replace (dirfd, path, data, len, mode, false, err);
}

int
arca_mkdir_p (const char *path, mode_t mode, arca_error **err)
{
  cleanup_free char *copy = strdup (path);
  char *p;

  if (copy == NULL)
    return arca_error_errno (err, "mkdir `%s`", path);
  for (p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return arca_error_errno (err, "mkdir `%s`", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return arca_error_errno (err, "mkdir `%s`", copy);
  return 0;
}

static int
openat2_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (unsigned long long) (flags | O_CLOEXEC),
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd;

  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  do
    fd = (int) syscall (SYS_openat2, root_fd, path, &how, sizeof (how));
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

int
arca_open_in_root (int root_fd, const char *path, int flags, mode_t mode,
                   arca_error **err)
{
  int fd = openat2_in_root (root_fd, path, flags, mode);
  if (fd < 0)
    return arca_error_errno (err, "open `%s` inside the root", path);
  return fd;
}

/* Appends component c to the in-root path buf (which never holds symlinks
 * or ".." once built); ".." pops, and cannot climb above the root. */
static int
path_push (char **buf, const char *c, size_t clen)
{
  char *n;
  if (clen == 2 && c[0] == '.' && c[1] == '.')
    {
      char *slash = strrchr (*buf, '/');
      if (slash)
        *slash = '\0';
      return 0;
    }
  if (asprintf (&n, "%s/%.*s", *buf, (int) clen, c) < 0)
    return -1;
  free (*buf);
  *buf = n;
  return 0;
}

int
arca_mkpath_in_root (int root_fd, const char *path, int is_dir, mode_t mode,
                     arca_error **err)
{
  cleanup_free char *resolved = strdup ("");
  cleanup_free char *todo = strdup (path);
  int links = 0;
  int fd;

  if (resolved == NULL || todo == NULL)
    return arca_error_errno (err, "create `%s`", path);

  /* Walk one component at a time, expanding symlinks by hand so that a
   * dangling link inside the image is followed to its in-root target and
   * the target is created there, never on the host. */
  for (;;)
    {
      cleanup_close int parent = -1;
      cleanup_free char *name = NULL;
      const char *p = todo, *c, *rest;
      size_t clen;
      struct stat st;
      bool last;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      c = p;
      while (*p && *p != '/')
        p++;
      clen = (size_t) (p - c);
      rest = p;
      while (*rest == '/')
        rest++;
      last = *rest == '\0';
      if (clen == 1 && c[0] == '.')
        goto next;
      if (clen == 2 && c[0] == '.' && c[1] == '.')
        {
          if (path_push (&resolved, c, clen) < 0)
            return arca_error_errno (err, "create `%s`", path);
          goto next;
        }
      name = strndup (c, clen);
      if (name == NULL)
        return arca_error_errno (err, "create `%s`", path);
      parent = openat2_in_root (root_fd, *resolved ? resolved : "/", O_PATH | O_DIRECTORY, 0);
      if (parent < 0)
        return arca_error_errno (err, "open `%s` inside the root", *resolved ? resolved : "/");
      if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        {
          if (S_ISLNK (st.st_mode))
            {
              char target[PATH_MAX];
              ssize_t n = readlinkat (parent, name, target, sizeof (target) - 1);
              char *ntodo;
              if (n < 0)
                return arca_error_errno (err, "readlink `%s/%s` inside the root", resolved, name);
              target[n] = '\0';
              if (++links > 40)
                return arca_error_set (err, ELOOP, "create `%s` inside the root: too many symlinks", path);
              if (target[0] == '/')
                resolved[0] = '\0';
              if (asprintf (&ntodo, "%s/%s", target, rest) < 0)
                return arca_error_errno (err, "create `%s`", path);
              free (todo);
              todo = ntodo;
              continue;
            }
          if (!S_ISDIR (st.st_mode) && !(last && !is_dir))
            return arca_error_set (err, ENOTDIR, "create `%s` inside the root: `%s/%s` is not a directory",
                                   path, resolved, name);
        }
      else if (errno != ENOENT)
        return arca_error_errno (err, "stat `%s/%s` inside the root", resolved, name);
      else if (last && !is_dir)
        {
          int nfd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
          if (nfd < 0 && errno != EEXIST)
            return arca_error_errno (err, "create `%s` inside the root", path);
          if (nfd >= 0)
            close (nfd);
        }
      else if (mkdirat (parent, name, last ? mode : 0755) < 0 && errno != EEXIST)
        return arca_error_errno (err, "mkdir `%s/%s` inside the root", resolved, name);
      if (path_push (&resolved, c, clen) < 0)
        return arca_error_errno (err, "create `%s`", path);
    next:
      memmove (todo, rest, strlen (rest) + 1);
    }

  fd = openat2_in_root (root_fd, *resolved ? resolved : "/", O_PATH, 0);
  if (fd < 0)
    return arca_error_errno (err, "open `%s` inside the root", path);
  return fd;
}

static int
rm_rf_children (int dfd, dev_t dev)
{
  DIR *d = fdopendir (dfd);
  struct dirent *de;
  int ret = 0;

  if (d == NULL)
    {
      close (dfd);
      return -1;
    }
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          int sub;
          if (st.st_dev != dev)
            {
              ret = -1;
              errno = EBUSY;
              continue;
            }
          sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
          if (sub < 0 || rm_rf_children (sub, dev) < 0)
            ret = -1;
          if (unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) < 0)
            ret = -1;
        }
      else if (unlinkat (dirfd (d), de->d_name, 0) < 0)
        ret = -1;
    }
  closedir (d);
  return ret;
}

int
arca_rm_rf_at (int dirfd, const char *path, arca_error **err)
{
  struct stat st;
  int fd;

  if (fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return arca_error_errno (err, "stat `%s`", path);
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, path, 0) < 0)
        return arca_error_errno (err, "unlink `%s`", path);
      return 0;
    }
  fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  if (rm_rf_children (fd, st.st_dev) < 0)
    return arca_error_errno (err, "remove contents of `%s`", path);
  if (unlinkat (dirfd, path, AT_REMOVEDIR) < 0)
    return arca_error_errno (err, "rmdir `%s`", path);
  return 0;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
arca_dir_list_sorted (int dirfd, char ***ret, size_t *ret_n, arca_error **err)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open directory");
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return arca_error_errno (err, "opendir");
    }
  cleanup_strv char **v = calloc (1, sizeof *v);
  size_t n = 0;
  struct dirent *de;
  if (v == NULL)
    return arca_error_set (err, ENOMEM, "list");
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (arca_strv_append (&v, &n, de->d_name) < 0)
        return arca_error_errno (err, "list");
    }
  qsort (v, n, sizeof *v, cmp_names);
  *ret = move_ptr (v);
  if (ret_n)
    *ret_n = n;
  return 0;
}
