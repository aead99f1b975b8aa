/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* newc cpio: a 110-byte ASCII header, the name, padding to 4, the data,
 * padding to 4; "TRAILER!!!" ends the archive.  Hard links are written as
 * separate files (the image's content, not its inode sharing, matters). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/vm-cpio.h"
#include "util/cleanup.h"

#define CPIO_NAME_MAX 4096

static int
write_all (int fd, const void *data, size_t len, arca_error **err)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "cpio: write");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
pad (int fd, size_t len, arca_error **err)
{
  static const char zeros[4];

  return (len & 3) ? write_all (fd, zeros, 4 - (len & 3), err) : 0;
}

static int
header (struct arca_cpio *w, const char *name, const struct stat *st, size_t size,
        arca_error **err)
{
  char h[111];
  size_t namesize = strlen (name) + 1;

  if (namesize > CPIO_NAME_MAX)
    return arca_error_set (err, ENAMETOOLONG, "cpio: `%.64s...`: name too long", name);
  if (size > 0xffffffffu)
    return arca_error_set (err, EFBIG, "cpio: `%s`: larger than 4 GiB", name);
  snprintf (h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
            ++w->ino, (unsigned) st->st_mode, (unsigned) st->st_uid, (unsigned) st->st_gid,
            S_ISDIR (st->st_mode) ? 2u : 1u, (unsigned) (st->st_mtim.tv_sec > 0 ? st->st_mtim.tv_sec : 0), size, 0u, 0u, major (st->st_rdev),
            minor (st->st_rdev), namesize, 0u);
  if (write_all (w->fd, h, 110, err) < 0 || write_all (w->fd, name, namesize, err) < 0)
    return -1;
  return pad (w->fd, 110 + namesize, err);
}

int
arca_cpio_add (struct arca_cpio *w, const char *name, mode_t mode, const void *data, size_t len,
               arca_error **err)
{
  struct stat st = { .st_mode = mode };

  if (header (w, name, &st, len, err) < 0 || write_all (w->fd, data, len, err) < 0)
    return -1;
  return pad (w->fd, len, err);
}

static int
copy_fd (struct arca_cpio *w, int in, size_t size, const char *name, arca_error **err)
{
  char buf[65536];
  size_t left = size;

  while (left > 0)
    {
      ssize_t n = read (in, buf, left < sizeof buf ? left : sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "cpio: read `%s`", name);
      if (n == 0)
        return arca_error_set (err, EIO, "cpio: `%s` shrank while being read", name);
      if (write_all (w->fd, buf, (size_t) n, err) < 0)
        return -1;
      left -= (size_t) n;
    }
  return pad (w->fd, size, err);
}

int
arca_cpio_add_file (struct arca_cpio *w, const char *name, mode_t mode, const char *path,
                    arca_error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    return arca_error_errno (err, "open `%s`", path);
  if (!S_ISREG (st.st_mode))
    return arca_error_set (err, EINVAL, "`%s` is not a regular file", path);
  struct stat h = { .st_mode = S_IFREG | (mode & 07777) };
  if (header (w, name, &h, (size_t) st.st_size, err) < 0)
    return -1;
  return copy_fd (w, fd, (size_t) st.st_size, path, err);
}

static int
add_entry (struct arca_cpio *w, int dirfd, const char *entry, const char *name, arca_error **err);

static int
add_children (struct arca_cpio *w, int fd, const char *name, arca_error **err)
{
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0)
    return arca_error_errno (err, "cpio: `%s`", name);
  cleanup_dir DIR *d = fdopendir (dup);
  if (d == NULL)
    {
      close (dup);
      return arca_error_errno (err, "cpio: opendir `%s`", name);
    }
  for (;;)
    {
      errno = 0;
      struct dirent *de = readdir (d);
      if (de == NULL)
        return errno ? arca_error_errno (err, "cpio: readdir `%s`", name) : 0;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *child = NULL;
      if (asprintf (&child, "%s/%s", name, de->d_name) < 0)
        return arca_error_set (err, ENOMEM, "cpio");
      if (add_entry (w, fd, de->d_name, child, err) < 0)
        return -1;
    }
}

static int
add_entry (struct arca_cpio *w, int dirfd, const char *entry, const char *name, arca_error **err)
{
  struct stat st;

  if (fstatat (dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "cpio: stat `%s`", name);
  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = openat (dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return arca_error_errno (err, "cpio: open `%s`", name);
      if (header (w, name, &st, 0, err) < 0)
        return -1;
      return add_children (w, fd, name, err);
    }
  if (S_ISLNK (st.st_mode))
    {
      char target[CPIO_NAME_MAX];
      ssize_t n = readlinkat (dirfd, entry, target, sizeof target);
      if (n < 0 || (size_t) n >= sizeof target)
        return arca_error_errno (err, "cpio: readlink `%s`", name);
      if (header (w, name, &st, (size_t) n, err) < 0 || write_all (w->fd, target, (size_t) n, err) < 0)
        return -1;
      return pad (w->fd, (size_t) n, err);
    }
  if (S_ISREG (st.st_mode))
    {
      cleanup_close int fd = openat (dirfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return arca_error_errno (err, "cpio: open `%s`", name);
      if (header (w, name, &st, (size_t) st.st_size, err) < 0)
        return -1;
      return copy_fd (w, fd, (size_t) st.st_size, name, err);
    }
  /* Device nodes, fifos, sockets: the header says it all. */
  return header (w, name, &st, 0, err);
}

int
arca_cpio_add_tree (struct arca_cpio *w, const char *prefix, const char *dir, arca_error **err)
{
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    return arca_error_errno (err, "cpio: open `%s`", dir);
  if (header (w, prefix, &st, 0, err) < 0)
    return -1;
  return add_children (w, fd, prefix, err);
}

int
arca_cpio_finish (struct arca_cpio *w, arca_error **err)
{
  struct stat st = { .st_mode = 0 };

  return header (w, "TRAILER!!!", &st, 0, err);
}
