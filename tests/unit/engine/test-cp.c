/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca_copy_tree_at / arca_copy_contents_at: content, modes and links are
 * copied, and no symlink on either side is ever followed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cp.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char base[64];

static void
put (const char *rel, const char *text, mode_t mode)
{
  char path[PATH_MAX];
  cleanup_error arca_error *err = NULL;
  snprintf (path, sizeof path, "%s/%s", base, rel);
  char *slash = strrchr (path, '/');
  *slash = '\0';
  assert_int_equal (arca_mkdir_p (path, 0755, &err), 0);
  *slash = '/';
  assert_int_equal (arca_write_file_atomic_at (AT_FDCWD, path, text, strlen (text), mode, &err), 0);
}

static const char *
get (const char *rel)
{
  static char buf[256];
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", base, rel);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

static int
dir_fd (const char *rel)
{
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", base, rel);
  return open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int
setup (void **state)
{
  snprintf (base, sizeof base, "/tmp/arca-test-cp.XXXXXX");
  assert_non_null (mkdtemp (base));
  return 0;
}

static int
teardown (void **state)
{
  cleanup_error arca_error *err = NULL;
  arca_rm_rf_at (AT_FDCWD, base, &err);
  return 0;
}

static void
copies_a_tree_with_modes_and_links (void **state)
{
  cleanup_error arca_error *err = NULL;
  const struct arca_cp_options o = { 0 };
  char path[PATH_MAX], target[64];
  struct stat st;

  put ("src/d/f", "file", 0640);
  put ("src/d/sub/g", "deep", 0755);
  snprintf (path, sizeof path, "%s/src/d/link", base);
  assert_int_equal (symlink ("/etc/passwd", path), 0);
  mkdir (strcat (strcpy (path, base), "/dst"), 0755);
  cleanup_close int src = dir_fd ("src");
  cleanup_close int dst = dir_fd ("dst");
  assert_int_equal (arca_copy_tree_at (src, "d", dst, "copy", &o, &err), 0);
  assert_string_equal (get ("dst/copy/f"), "file");
  assert_string_equal (get ("dst/copy/sub/g"), "deep");
  snprintf (path, sizeof path, "%s/dst/copy/f", base);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  /* The link is a link, not the host file it names. */
  snprintf (path, sizeof path, "%s/dst/copy/link", base);
  assert_int_equal (lstat (path, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  ssize_t n = readlink (path, target, sizeof target - 1);
  assert_true (n > 0);
  target[n] = '\0';
  assert_string_equal (target, "/etc/passwd");
}

static void
never_writes_through_a_destination_link (void **state)
{
  cleanup_error arca_error *err = NULL;
  const struct arca_cp_options o = { 0 };
  char path[PATH_MAX], outside[PATH_MAX];
  struct stat st;

  put ("outside/secret", "keep", 0644);
  put ("src/secret", "evil", 0644);
  put ("src/dir/x", "evil", 0644);
  mkdir (strcat (strcpy (path, base), "/dst"), 0755);
  /* dst/secret -> the outside file, dst/dir -> the outside directory. */
  snprintf (outside, sizeof outside, "%s/outside/secret", base);
  snprintf (path, sizeof path, "%s/dst/secret", base);
  assert_int_equal (symlink (outside, path), 0);
  snprintf (outside, sizeof outside, "%s/outside", base);
  snprintf (path, sizeof path, "%s/dst/dir", base);
  assert_int_equal (symlink (outside, path), 0);
  cleanup_close int src = dir_fd ("src");
  cleanup_close int dst = dir_fd ("dst");
  assert_int_equal (arca_copy_contents_at (src, dst, &o, &err), 0);
  assert_string_equal (get ("outside/secret"), "keep");
  snprintf (path, sizeof path, "%s/outside/x", base);
  assert_int_equal (lstat (path, &st), -1);
  /* The links were replaced by what was copied. */
  assert_string_equal (get ("dst/secret"), "evil");
  assert_string_equal (get ("dst/dir/x"), "evil");
  snprintf (path, sizeof path, "%s/dst/dir", base);
  assert_int_equal (lstat (path, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
}

static void
refuses_a_file_over_a_directory (void **state)
{
  cleanup_error arca_error *err = NULL;
  const struct arca_cp_options o = { 0 };

  put ("src/name", "file", 0644);
  put ("dst/name/keep", "kept", 0644);
  cleanup_close int src = dir_fd ("src");
  cleanup_close int dst = dir_fd ("dst");
  assert_int_equal (arca_copy_tree_at (src, "name", dst, "name", &o, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errnum, EISDIR);
  assert_string_equal (get ("dst/name/keep"), "kept");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (copies_a_tree_with_modes_and_links, setup, teardown),
    cmocka_unit_test_setup_teardown (never_writes_through_a_destination_link, setup, teardown),
    cmocka_unit_test_setup_teardown (refuses_a_file_over_a_directory, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
