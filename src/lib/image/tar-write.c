/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <unistd.h>

#include "tar-write.h"

static int
header (struct archive *a, const char *path, off_t size, arca_error **err)
{
  struct archive_entry *entry = archive_entry_new ();

  if (entry == NULL)
    return arca_error_set (err, ENOMEM, "archive entry `%s`", path);
  archive_entry_set_pathname (entry, path);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  archive_entry_set_size (entry, (la_int64_t) size);
  int r = archive_write_header (a, entry);
  archive_entry_free (entry);
  if (r != ARCHIVE_OK)
    return arca_error_set (err, EIO, "archive entry `%s`: %s", path, archive_error_string (a));
  return 0;
}

int
arca_tar_add_bytes (struct archive *a, const char *path, const void *data, size_t len,
                    arca_error **err)
{
  if (header (a, path, (off_t) len, err) < 0)
    return -1;
  if (len && archive_write_data (a, data, len) != (la_ssize_t) len)
    return arca_error_set (err, EIO, "archive entry `%s`: %s", path, archive_error_string (a));
  return 0;
}

int
arca_tar_add_fd (struct archive *a, const char *path, int fd, off_t size, arca_error **err)
{
  char buf[65536];
  off_t done = 0;

  if (header (a, path, size, err) < 0)
    return -1;
  while (done < size)
    {
      ssize_t n = pread (fd, buf, sizeof buf, done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "archive entry `%s`: read", path);
      if (n == 0)
        return arca_error_set (err, EIO, "archive entry `%s`: the file shrank", path);
      if (archive_write_data (a, buf, (size_t) n) != n)
        return arca_error_set (err, EIO, "archive entry `%s`: %s", path, archive_error_string (a));
      done += n;
    }
  return 0;
}
