/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Builds tarballs in memory for the image tests with libarchive's write
 * API, so malicious and unusual entries can be crafted exactly. */
#ifndef ARCA_TEST_TAR_BUILD_H
#define ARCA_TEST_TAR_BUILD_H

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct tent
{
  const char *path;
  mode_t type;          /* AE_IFREG (default when 0), AE_IFDIR, AE_IFLNK, ... */
  const char *data;     /* file content, or symlink target */
  mode_t perm;          /* 0 = 0644 / 0755 */
  const char *hardlink; /* hard link target (type ignored) */
  int uid, gid;
  dev_t rdev;
  const char *xattr; /* one xattr name, value in xval */
  const char *xval;
  size_t xlen;
  time_t mtime; /* 0 = 1600000000 */
  size_t len;   /* length of data when it is binary (0 = strlen) */
};

enum
{
  TAR_PLAIN = 0,
  TAR_GZIP,
  TAR_ZSTD
};

/* Writes the entries as a pax tar to a memfd, rewound; returns the fd. */
static inline int
tar_build (const struct tent *ents, size_t n, int filter)
{
  struct archive *a = archive_write_new ();
  int fd = memfd_create ("tar", MFD_CLOEXEC);

  assert_true (fd >= 0);
  assert_int_equal (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  if (filter == TAR_GZIP)
    assert_true (archive_write_add_filter_gzip (a) >= ARCHIVE_WARN);
  else if (filter == TAR_ZSTD)
    assert_true (archive_write_add_filter_zstd (a) >= ARCHIVE_WARN);
  assert_int_equal (archive_write_open_fd (a, fd), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      const struct tent *t = &ents[i];
      struct archive_entry *e = archive_entry_new ();
      mode_t type = t->type ? t->type : AE_IFREG;
      size_t len = (type == AE_IFREG && t->data && !t->hardlink)
                       ? (t->len ? t->len : strlen (t->data))
                       : 0;

      archive_entry_set_pathname (e, t->path);
      archive_entry_set_filetype (e, type);
      archive_entry_set_perm (e, t->perm ? t->perm : (type == AE_IFDIR ? 0755 : 0644));
      archive_entry_set_uid (e, t->uid);
      archive_entry_set_gid (e, t->gid);
      archive_entry_set_mtime (e, t->mtime ? t->mtime : 1600000000, 0);
      if (type == AE_IFLNK)
        archive_entry_set_symlink (e, t->data);
      if (t->hardlink)
        archive_entry_set_hardlink (e, t->hardlink);
      if (type == AE_IFCHR || type == AE_IFBLK)
        archive_entry_set_rdev (e, t->rdev);
      if (t->xattr)
        archive_entry_xattr_add_entry (e, t->xattr, t->xval, t->xlen);
      archive_entry_set_size (e, (la_int64_t)len);
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (len)
        assert_int_equal (archive_write_data (a, t->data, len), (la_ssize_t)len);
      archive_entry_free (e);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  return fd;
}

#endif
