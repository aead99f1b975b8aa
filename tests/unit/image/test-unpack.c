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
#include <sys/xattr.h>

#include "image-test.h"
#include "image/store.h"
#include "image/unpack.h"
#include "tar-build.h"

/* <dir>/outside stays empty; layers are unpacked below <dir>/layers. */
struct fixture
{
  char *dir;
  char outside[512];
  char layers[512];
  int layers_fd;
};

/* Ownership needs root; tests that check it call need_root (). */
#define OPTS (&(struct arca_unpack_options){ .no_sync = true, .no_chown = geteuid () != 0 })

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));

  f->dir = test_tmpdir ();
  snprintf (f->outside, sizeof (f->outside), "%s/outside", f->dir);
  snprintf (f->layers, sizeof (f->layers), "%s/a/b/layers", f->dir);
  assert_int_equal (mkdir (f->outside, 0755), 0);
  {
    cleanup_error arca_error *err = NULL;
    assert_int_equal (arca_mkdir_p (f->layers, 0755, &err), 0);
  }
  f->layers_fd = open (f->layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (f->layers_fd >= 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  char small[600];

  /* test_disk_full's tmpfs, if an assertion left it mounted */
  snprintf (small, sizeof (small), "%s/small", f->dir);
  umount2 (small, MNT_DETACH);
  close (f->layers_fd);
  test_rmdir (f->dir);
  free (f);
  return 0;
}

static void
need_root (void)
{
  if (geteuid () != 0)
    skip ();
}

/* trusted.* xattrs need CAP_SYS_ADMIN, which a root CI container may lack. */
static void
need_trusted_xattrs (struct fixture *f)
{
  need_root ();
  if (setxattr (f->dir, "trusted.arca-probe", "1", 1, 0) < 0)
    skip ();
  removexattr (f->dir, "trusted.arca-probe");
}

static int
unpack (struct fixture *f, const struct tent *ents, size_t n, int filter,
        struct arca_unpack_result *res, arca_error **err)
{
  int fd = tar_build (ents, n, filter);
  int r = arca_layer_unpack (fd, f->layers_fd, "L", OPTS, res, err);
  close (fd);
  return r;
}

static void
layer_path (struct fixture *f, const char *rel, char *out, size_t size)
{
  snprintf (out, size, "%s/L/%s", f->layers, rel);
}

static const struct tent rich[] = {
  { .path = "etc", .type = AE_IFDIR },
  { .path = "etc/hostname", .data = "box\n", .uid = 1000, .gid = 1001, .mtime = 1234567890 },
  { .path = "bin/", .type = AE_IFDIR, .perm = 0555 },
  { .path = "bin/su", .data = "ELF", .perm = 04755 },
  { .path = "bin/ping",
    .data = "PING",
    .perm = 0755,
    .xattr = "security.capability",
    /* vfs_cap_data v2: CAP_NET_RAW (13) permitted+effective */
    .xval = "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    .xlen = 20 },
  { .path = "./bin/sh", .type = AE_IFLNK, .data = "su" },
  { .path = "bin/su2", .hardlink = "bin/su" },
  { .path = "dev/null", .type = AE_IFCHR, .rdev = 0x103, .perm = 0666 },
  { .path = "dev/fifo", .type = AE_IFIFO },
  { .path = "user-x", .data = "x", .xattr = "user.note", .xval = "hi", .xlen = 2 },
  { .path = "forged", .data = "f", .xattr = "trusted.overlay.redirect", .xval = "/etc", .xlen = 4 },
  { .path = "abs-link", .type = AE_IFLNK, .data = "/etc/hostname" },
  /* user.* is impossible on a symlink: skipped, not fatal */
  { .path = "xlink",
    .type = AE_IFLNK,
    .data = "user-x",
    .xattr = "user.note",
    .xval = "no",
    .xlen = 2 },
};

static void
test_rich_layer (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_unpack_result res;
  char p[700], buf[64];
  struct stat st, st2;

  need_root ();
  assert_int_equal (unpack (f, rich, ARRAY_SIZE (rich), TAR_PLAIN, &res, &err), 0);
  assert_false (res.existed);
  assert_true (arca_digest_is_valid (res.diff_id));

  layer_path (f, "etc/hostname", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_gid, 1001);
  assert_int_equal (st.st_mode & 07777, 0644);
  assert_int_equal (st.st_mtime, 1234567890);
  assert_int_equal (st.st_size, 4);

  layer_path (f, "bin", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0555);
  assert_int_equal (st.st_mtime, 1600000000);

  layer_path (f, "bin/su", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 04755);
  assert_int_equal (st.st_nlink, 2);
  layer_path (f, "bin/su2", p, sizeof (p));
  assert_int_equal (lstat (p, &st2), 0);
  assert_int_equal (st.st_ino, st2.st_ino);

  layer_path (f, "bin/ping", p, sizeof (p));
  assert_int_equal (lgetxattr (p, "security.capability", buf, sizeof (buf)), 20);
  assert_int_equal (buf[4], 0x00);
  assert_int_equal ((unsigned char)buf[5], 0x20);

  layer_path (f, "bin/sh", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  assert_int_equal (readlink (p, buf, sizeof (buf)), 2);

  layer_path (f, "dev/null", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (major (st.st_rdev), 1);
  assert_int_equal (minor (st.st_rdev), 3);
  assert_int_equal (st.st_mode & 07777, 0666);
  layer_path (f, "dev/fifo", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISFIFO (st.st_mode));

  layer_path (f, "user-x", p, sizeof (p));
  assert_int_equal (lgetxattr (p, "user.note", buf, sizeof (buf)), 2);
  layer_path (f, "forged", p, sizeof (p));
  assert_int_equal (lgetxattr (p, "trusted.overlay.redirect", buf, sizeof (buf)), -1);
  assert_int_equal (errno, ENODATA);

  /* nothing but L in layers (the temp dir is gone), nothing outside */
  assert_int_equal (test_count_entries (f->layers), 1);
  assert_int_equal (test_count_entries (f->outside), 0);
}

static void
test_diff_id_is_uncompressed_digest (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  const struct tent ents[] = {
    { .path = "a", .type = AE_IFDIR },
    { .path = "a/file", .data = "hello hello hello hello hello" },
  };
  struct arca_unpack_result plain, gz, zst;
  char expect[ARCA_DIGEST_LEN + 1], p[700];
  cleanup_free char *raw = malloc (1 << 16);
  int fd = tar_build (ents, ARRAY_SIZE (ents), TAR_PLAIN);
  ssize_t n = read (fd, raw, 1 << 16);
  struct stat st;

  close (fd);
  assert_true (n > 0);
  assert_int_equal (arca_digest_buffer (raw, (size_t)n, expect, &err), 0);

  assert_int_equal (unpack (f, ents, ARRAY_SIZE (ents), TAR_PLAIN, &plain, &err), 0);
  assert_string_equal (plain.diff_id, expect);
  assert_int_equal (plain.size, n);
  assert_int_equal (arca_rm_rf_at (f->layers_fd, "L", &err), 0);

  assert_int_equal (unpack (f, ents, ARRAY_SIZE (ents), TAR_GZIP, &gz, &err), 0);
  assert_string_equal (gz.diff_id, expect);
  layer_path (f, "a/file", p, sizeof (p));
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_size, 29);
  assert_int_equal (arca_rm_rf_at (f->layers_fd, "L", &err), 0);

  assert_int_equal (unpack (f, ents, ARRAY_SIZE (ents), TAR_ZSTD, &zst, &err), 0);
  assert_string_equal (zst.diff_id, expect);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_size, 29);

  /* Unpacking again finds the layer in place and drops the new copy. */
  assert_int_equal (unpack (f, ents, ARRAY_SIZE (ents), TAR_GZIP, &gz, &err), 0);
  assert_true (gz.existed);
  assert_int_equal (test_count_entries (f->layers), 1);
}

static void
test_whiteouts (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  const struct tent ents[] = {
    { .path = ".wh.gone" },         { .path = "etc", .type = AE_IFDIR },
    { .path = "etc/.wh..wh..opq" }, { .path = "etc/.wh.passwd" },
    { .path = "etc/.wh..wh.plnk" }, { .path = "deep/er/.wh..wh..opq" },
  };
  struct arca_unpack_result res;
  char p[700], v[8];
  struct stat st;

  need_trusted_xattrs (f);
  assert_int_equal (unpack (f, ents, ARRAY_SIZE (ents), TAR_PLAIN, &res, &err), 0);
  layer_path (f, "gone", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  layer_path (f, "etc/passwd", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, 0);
  layer_path (f, "etc", p, sizeof (p));
  assert_int_equal (lgetxattr (p, "trusted.overlay.opaque", v, sizeof (v)), 1);
  assert_int_equal (v[0], 'y');
  layer_path (f, "deep/er", p, sizeof (p));
  assert_int_equal (lgetxattr (p, "trusted.overlay.opaque", v, sizeof (v)), 1);
  /* no .wh. names survive */
  layer_path (f, "etc", p, sizeof (p));
  assert_int_equal (test_count_entries (p), 1);
  layer_path (f, ".wh.gone", p, sizeof (p));
  assert_int_equal (lstat (p, &st), -1);
}

struct evil
{
  const char *name;
  struct tent ents[3];
  size_t n;
  const char *needle; /* the error must name this */
};

static const struct evil evils[] = {
  { "absolute", { { .path = "/evil", .data = "x" } }, 1, "`/evil`: absolute path refused" },
  { "dotdot",
    { { .path = "../../../outside/evil", .data = "x" } },
    1,
    "`../../../outside/evil`: `..` component" },
  { "inner dotdot", { { .path = "a/../../evil", .data = "x" } }, 1, "`a/../../evil`: `..`" },
  { "symlinked parent",
    { { .path = "link", .type = AE_IFLNK, .data = "../../../../outside" },
      { .path = "link/evil", .data = "x" } },
    2,
    "`link/evil`: parent `link` is a symlink" },
  { "absolute symlinked parent",
    { { .path = "d", .type = AE_IFDIR },
      { .path = "d/link", .type = AE_IFLNK, .data = "/" },
      { .path = "d/link/tmp/evil", .data = "x" } },
    3,
    "is a symlink, refused" },
  { "hard link outside",
    { { .path = "hl", .hardlink = "../../../outside/target" } },
    1,
    "hard link `hl`" },
  { "hard link absolute", { { .path = "hl", .hardlink = "/etc/passwd" } }, 1, "hard link `hl`" },
  { "hard link missing",
    { { .path = "hl", .hardlink = "etc/passwd" } },
    1,
    "hard link `hl` to `etc/passwd`: layer entry `hl`: parent `etc` does not exist" },
  { "hard link missing file",
    { { .path = "hl", .hardlink = "passwd" } },
    1,
    "hard link `hl` to `passwd`: target is not in the layer" },
  { "hard link to escaping symlink",
    { { .path = "esc", .type = AE_IFLNK, .data = "../../../outside/x" },
      { .path = "hl", .hardlink = "esc" } },
    2,
    "hard link `hl` to symlink `esc` leading outside the layer refused" },
  { "hard link through symlinked dir",
    { { .path = "ld", .type = AE_IFLNK, .data = "/etc" },
      { .path = "hl", .hardlink = "ld/passwd" } },
    2,
    "hard link `hl` to `ld/passwd`: layer entry `hl`: parent `ld` is a symlink" },
  { "whiteout of ..", { { .path = ".wh..." } }, 1, "invalid whiteout" },
};

static void
test_malicious_refused (void **state)
{
  struct fixture *f = *state;

  for (size_t i = 0; i < ARRAY_SIZE (evils); i++)
    {
      cleanup_error arca_error *err = NULL;
      struct arca_unpack_result res;

      if (unpack (f, evils[i].ents, evils[i].n, TAR_PLAIN, &res, &err) == 0)
        fail_msg ("%s: accepted", evils[i].name);
      if (strstr (err->msg, evils[i].needle) == NULL)
        fail_msg ("%s: error `%s` does not say `%s`", evils[i].name, err->msg, evils[i].needle);
      /* nothing outside, no temp or partial layer left */
      assert_int_equal (test_count_entries (f->outside), 0);
      assert_int_equal (test_count_entries (f->layers), 0);
      {
        char p[600];
        snprintf (p, sizeof (p), "%s/a/b", f->dir);
        assert_int_equal (test_count_entries (p), 1);
        snprintf (p, sizeof (p), "%s/a", f->dir);
        assert_int_equal (test_count_entries (p), 1);
      }
    }
  assert_int_equal (test_count_entries (f->dir), 2);
}

static void
test_corrupt_streams (void **state)
{
  struct fixture *f = *state;
  const struct tent ents[] = { { .path = "file", .data = "0123456789abcdef0123456789" } };
  cleanup_free char *raw = malloc (1 << 16);
  int fd = tar_build (ents, 1, TAR_GZIP);
  ssize_t n = read (fd, raw, 1 << 16);
  struct arca_unpack_result res;

  close (fd);
  assert_true (n > 40);
  /* truncated gzip, a gzip with a flipped byte, garbage, empty */
  for (int variant = 0; variant < 4; variant++)
    {
      cleanup_error arca_error *err = NULL;
      int mfd = memfd_create ("bad", MFD_CLOEXEC);
      if (variant == 0)
        assert_int_equal (write (mfd, raw, (size_t)n / 2), n / 2);
      else if (variant == 1)
        {
          raw[n / 2] ^= 0x55;
          assert_int_equal (write (mfd, raw, (size_t)n), n);
          raw[n / 2] ^= 0x55;
        }
      else if (variant == 2)
        assert_int_equal (write (mfd, "this is not a tar archive at all, not even close......", 54),
                          54);
      lseek (mfd, 0, SEEK_SET);
      assert_int_equal (arca_layer_unpack (mfd, f->layers_fd, "L", OPTS, &res, &err), -1);
      assert_error_contains (err, "unpack layer `L`");
      close (mfd);
      assert_int_equal (test_count_entries (f->layers), 0);
    }
}

static void
test_replacements (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  /* later entries replace earlier ones, a dir entry keeps the dir */
  const struct tent ents[] = {
    { .path = "x", .data = "first" },
    { .path = "x", .type = AE_IFDIR },
    { .path = "x/in", .data = "in" },
    { .path = "x", .type = AE_IFDIR, .perm = 0700 },
    { .path = "y", .type = AE_IFDIR },
    { .path = "y/z", .data = "z" },
    { .path = "y", .type = AE_IFLNK, .data = "x" },
    /* a file replacing a symlink is written in place, not through it */
    { .path = "evil", .type = AE_IFLNK, .data = "../../../outside/f" },
    { .path = "evil", .data = "mine" },
    { .path = "evil2", .type = AE_IFLNK, .data = "/tmp" },
    { .path = "evil2", .type = AE_IFDIR },
    { .path = "evil2/in", .data = "in" },
  };
  struct arca_unpack_result res;
  char p[700];
  struct stat st;

  assert_int_equal (unpack (f, ents, ARRAY_SIZE (ents), TAR_PLAIN, &res, &err), 0);
  layer_path (f, "x/in", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  layer_path (f, "x", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700);
  layer_path (f, "y", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  layer_path (f, "evil", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_size, 4);
  layer_path (f, "evil2/in", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  layer_path (f, "evil2", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (test_count_entries (f->outside), 0);
}

/* Parent directories stay open between entries: a directory that a later
 * entry removes or replaces must not be written into through its old fd. */
static void
test_parent_dirs_reused (void **state)
{
  struct fixture *f = *state;
  const struct tent ok[] = {
    { .path = "a/b/c/one", .data = "1" },
    { .path = "e/f", .data = "f" },
    { .path = "a/b/c/two", .data = "2" },
    { .path = "a/b/three", .data = "3" },
    /* a whiteout drops a/b (which held the open parent of the entries above) */
    { .path = "a/.wh.b" },
    { .path = "a/b", .type = AE_IFDIR },
    { .path = "a/b/c/four", .data = "4" },
    /* a file replaces the directory e */
    { .path = "e", .data = "now a file" },
  };
  const struct tent evil[] = {
    { .path = "d/x", .data = "x" },
    { .path = "d", .type = AE_IFLNK, .data = "../../../../outside" },
    { .path = "d/y", .data = "escaped" },
  };
  struct arca_unpack_result res;
  char p[700];
  struct stat st;

  {
    cleanup_error arca_error *err = NULL;
    assert_int_equal (unpack (f, ok, ARRAY_SIZE (ok), TAR_PLAIN, &res, &err), 0);
  }
  layer_path (f, "a/b/c/four", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  layer_path (f, "a/b/c/one", p, sizeof (p));
  assert_int_equal (lstat (p, &st), -1);
  layer_path (f, "a/b/three", p, sizeof (p));
  assert_int_equal (lstat (p, &st), -1);
  layer_path (f, "e", p, sizeof (p));
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  {
    cleanup_error arca_error *err = NULL;
    assert_int_equal (arca_rm_rf_at (f->layers_fd, "L", &err), 0);
  }
  {
    cleanup_error arca_error *err = NULL;
    assert_int_equal (unpack (f, evil, ARRAY_SIZE (evil), TAR_PLAIN, &res, &err), -1);
    assert_error_contains (err, "parent `d` is a symlink");
  }
  assert_int_equal (test_count_entries (f->outside), 0);
  assert_int_equal (test_count_entries (f->layers), 0);
}

/* A full disk mid-layer: ENOSPC reported, the partial layer removed. */
static void
test_disk_full (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *big = malloc (1 << 20);
  struct arca_unpack_result res;
  char small[600];
  int dfd, fd;

  need_root ();
  snprintf (small, sizeof (small), "%s/small", f->dir);
  assert_int_equal (mkdir (small, 0755), 0);
  if (mount ("tmpfs", small, "tmpfs", 0, "size=256k") < 0)
    skip ();
  memset (big, 'x', (1 << 20) - 1);
  big[(1 << 20) - 1] = '\0';
  {
    const struct tent ents[] = { { .path = "a", .data = "small" }, { .path = "big", .data = big } };
    fd = tar_build (ents, ARRAY_SIZE (ents), TAR_GZIP);
  }
  dfd = open (small, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (arca_layer_unpack (fd, dfd, "L", OPTS, &res, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  assert_error_contains (err, "layer entry `big`: write");
  assert_int_equal (test_count_entries (small), 0);
  close (dfd);
  close (fd);
  assert_int_equal (umount (small), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_rich_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_diff_id_is_uncompressed_digest, setup, teardown),
    cmocka_unit_test_setup_teardown (test_whiteouts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_malicious_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_corrupt_streams, setup, teardown),
    cmocka_unit_test_setup_teardown (test_replacements, setup, teardown),
    cmocka_unit_test_setup_teardown (test_parent_dirs_reused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_disk_full, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
