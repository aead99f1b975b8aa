/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image-test.h"
#include "image/pack.h"
#include "image/unpack.h"

#define OPTS (&(struct arca_unpack_options){ .no_sync = true, .no_chown = geteuid () != 0 })

struct fixture
{
  char *dir;
  char tree[512];
  arca_store *store;
  int tree_fd;
  bool privileged; /* root with trusted.* xattrs: whiteouts and opaque dirs */
};

static void
write_file (const char *path, const char *content, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t)strlen (content));
  close (fd);
  assert_int_equal (chmod (path, mode), 0);
}

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  cleanup_error arca_error *err = NULL;
  char p[700], store[600];
  struct timespec ts[2] = { { 1500000000, 0 }, { 1500000000, 0 } };

  f->dir = test_tmpdir ();
  snprintf (f->tree, sizeof (f->tree), "%s/tree", f->dir);
  snprintf (store, sizeof (store), "%s/store", f->dir);
  assert_int_equal (arca_store_open (store, &f->store, &err), 0);
  assert_int_equal (mkdir (f->tree, 0755), 0);
  f->privileged = geteuid () == 0 && setxattr (f->tree, "trusted.arca-probe", "1", 1, 0) == 0;
  if (f->privileged)
    removexattr (f->tree, "trusted.arca-probe");

  snprintf (p, sizeof (p), "%s/etc", f->tree);
  assert_int_equal (mkdir (p, 0750), 0);
  snprintf (p, sizeof (p), "%s/etc/conf", f->tree);
  write_file (p, "key=value\n", 0640);
  assert_int_equal (utimensat (AT_FDCWD, p, ts, 0), 0);
  assert_int_equal (setxattr (p, "user.note", "n", 1, 0), 0);
  snprintf (p, sizeof (p), "%s/bin", f->tree);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (p, sizeof (p), "%s/bin/tool", f->tree);
  write_file (p, "#!/bin/sh\necho tool\n", 04755);
  {
    char q[700];
    snprintf (q, sizeof (q), "%s/bin/tool2", f->tree);
    assert_int_equal (link (p, q), 0);
  }
  snprintf (p, sizeof (p), "%s/lnk", f->tree);
  assert_int_equal (symlink ("etc/conf", p), 0);
  snprintf (p, sizeof (p), "%s/fifo", f->tree);
  assert_int_equal (mkfifo (p, 0600), 0);
  snprintf (p, sizeof (p), "%s/empty", f->tree);
  write_file (p, "", 0600);
  if (f->privileged)
    {
      snprintf (p, sizeof (p), "%s/etc/conf", f->tree);
      assert_int_equal (chown (p, 123, 456), 0);
      snprintf (p, sizeof (p), "%s/gone", f->tree);
      assert_int_equal (mknod (p, S_IFCHR | 0, makedev (0, 0)), 0);
      snprintf (p, sizeof (p), "%s/opq", f->tree);
      assert_int_equal (mkdir (p, 0755), 0);
      assert_int_equal (setxattr (p, "trusted.overlay.opaque", "y", 1, 0), 0);
      snprintf (p, sizeof (p), "%s/opq/kept", f->tree);
      write_file (p, "k", 0644);
      snprintf (p, sizeof (p), "%s/bin/tool", f->tree);
      /* v2 capability: CAP_NET_RAW */
      assert_int_equal (setxattr (p, "security.capability",
                                  "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x20\x00\x00"
                                  "\x00\x00\x00\x00\x00\x00\x00\x00",
                                  20, 0),
                        0);
    }
  f->tree_fd = open (f->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (f->tree_fd >= 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  char p[600];

  /* test_store_full's tmpfs, if an assertion left it mounted */
  snprintf (p, sizeof (p), "%s/small", f->dir);
  umount2 (p, MNT_DETACH);
  close (f->tree_fd);
  arca_store_free (f->store);
  test_rmdir (f->dir);
  free (f);
  return 0;
}

static void
unpack_blob (struct fixture *f, const char *digest, const char *name,
             struct arca_unpack_result *res)
{
  cleanup_error arca_error *err = NULL;
  cleanup_close int fd = arca_blob_open (f->store, digest, true, &err);
  cleanup_close int parent = open (f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true (fd >= 0);
  if (arca_layer_unpack (fd, parent, name, OPTS, res, &err) < 0)
    fail_msg ("unpack: %s", err->msg);
}

static void
test_round_trip (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_pack_result res;
  struct arca_unpack_result un;
  char p[700], buf[64];
  struct stat st, st2;
  off_t size;

  assert_int_equal (arca_layer_pack (f->tree_fd, f->store, ARCA_PACK_GZIP, &res, &err), 0);
  assert_true (res.created);
  assert_string_equal (res.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  assert_int_equal (arca_blob_size (f->store, res.blob_digest, &size, &err), 0);
  assert_int_equal (size, res.blob_size);
  {
    cleanup_close int fd = arca_blob_open (f->store, res.blob_digest, true, &err);
    struct arca_unpack_result d;
    assert_int_equal (arca_layer_diff_id (fd, &d, &err), 0);
    assert_string_equal (d.diff_id, res.diff_id);
    assert_int_equal (d.size, res.size);
  }

  unpack_blob (f, res.blob_digest, "out", &un);
  assert_string_equal (un.diff_id, res.diff_id);
  snprintf (p, sizeof (p), "%s/out/etc/conf", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_int_equal (st.st_mtime, 1500000000);
  assert_int_equal (st.st_size, 10);
  assert_int_equal (lgetxattr (p, "user.note", buf, sizeof (buf)), 1);
  snprintf (p, sizeof (p), "%s/out/etc", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  snprintf (p, sizeof (p), "%s/out/bin/tool", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 04755);
  snprintf (p, sizeof (p), "%s/out/bin/tool2", f->dir);
  assert_int_equal (lstat (p, &st2), 0);
  assert_int_equal (st.st_ino, st2.st_ino);
  snprintf (p, sizeof (p), "%s/out/lnk", f->dir);
  assert_int_equal (readlink (p, buf, sizeof (buf)), 8);
  snprintf (p, sizeof (p), "%s/out/fifo", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISFIFO (st.st_mode));
  snprintf (p, sizeof (p), "%s/out/empty", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_size, 0);

  if (!f->privileged)
    return;
  snprintf (p, sizeof (p), "%s/out/etc/conf", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_uid, 123);
  assert_int_equal (st.st_gid, 456);
  snprintf (p, sizeof (p), "%s/out/gone", f->dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  snprintf (p, sizeof (p), "%s/out/opq", f->dir);
  assert_int_equal (lgetxattr (p, "trusted.overlay.opaque", buf, sizeof (buf)), 1);
  snprintf (p, sizeof (p), "%s/out/opq/kept", f->dir);
  assert_int_equal (access (p, F_OK), 0);
  snprintf (p, sizeof (p), "%s/out/bin/tool", f->dir);
  assert_int_equal (lgetxattr (p, "security.capability", buf, sizeof (buf)), 20);
}

static void
test_whiteouts_in_the_tar (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_pack_result res;
  cleanup_free char *tar = NULL;
  size_t len;

  if (!f->privileged)
    skip ();
  assert_int_equal (arca_layer_pack (f->tree_fd, f->store, ARCA_PACK_PLAIN, &res, &err), 0);
  assert_int_equal (arca_blob_read (f->store, res.blob_digest, 1 << 20, &tar, &len, &err), 0);
  assert_non_null (memmem (tar, len, ".wh.gone", 8));
  assert_non_null (memmem (tar, len, "opq/.wh..wh..opq", 16));
  /* overlay's own xattrs stay out of the layer */
  assert_null (memmem (tar, len, "trusted.overlay", 15));
}

static void
test_deterministic_and_compressions (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_pack_result gz, gz2, plain, zst;

  assert_int_equal (arca_layer_pack (f->tree_fd, f->store, ARCA_PACK_GZIP, &gz, &err), 0);
  assert_int_equal (arca_layer_pack (f->tree_fd, f->store, ARCA_PACK_GZIP, &gz2, &err), 0);
  assert_string_equal (gz.blob_digest, gz2.blob_digest);
  assert_false (gz2.created);
  assert_int_equal (arca_layer_pack (f->tree_fd, f->store, ARCA_PACK_PLAIN, &plain, &err), 0);
  assert_string_equal (plain.blob_digest, plain.diff_id);
  assert_string_equal (plain.diff_id, gz.diff_id);
  assert_int_equal (arca_layer_pack (f->tree_fd, f->store, ARCA_PACK_ZSTD, &zst, &err), 0);
  assert_string_equal (zst.diff_id, gz.diff_id);
  assert_string_not_equal (zst.blob_digest, gz.blob_digest);
  assert_true (gz.blob_size < gz.size);
  {
    char p[700];
    snprintf (p, sizeof (p), "%s/store/blobs/sha256", f->dir);
    assert_int_equal (test_count_entries (p), 3);
  }
}

/* A store on a full filesystem: ENOSPC, no temp blob left behind. */
static void
test_store_full (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_pack_result res;
  arca_store *small = NULL;
  char p[700], blobs[700];

  if (geteuid () != 0)
    skip ();
  snprintf (p, sizeof (p), "%s/small", f->dir);
  assert_int_equal (mkdir (p, 0755), 0);
  if (mount ("tmpfs", p, "tmpfs", 0, "size=64k") < 0)
    skip ();
  assert_int_equal (arca_store_open (p, &small, &err), 0);
  snprintf (p, sizeof (p), "%s/big", f->tree);
  {
    cleanup_free char *big = malloc (1 << 20);
    for (size_t i = 0; i < (1 << 20) - 1; i++)
      big[i] = (char)('a' + (i * 7919) % 26);
    big[(1 << 20) - 1] = '\0';
    write_file (p, big, 0644);
  }
  assert_int_equal (arca_layer_pack (f->tree_fd, small, ARCA_PACK_PLAIN, &res, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  snprintf (blobs, sizeof (blobs), "%s/small/blobs/sha256", f->dir);
  assert_int_equal (test_count_entries (blobs), 0);
  arca_store_free (small);
  snprintf (p, sizeof (p), "%s/small", f->dir);
  assert_int_equal (umount (p), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_whiteouts_in_the_tar, setup, teardown),
    cmocka_unit_test_setup_teardown (test_deterministic_and_compressions, setup, teardown),
    cmocka_unit_test_setup_teardown (test_store_full, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
