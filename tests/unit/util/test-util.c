/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

static int
failing_open (const char *path, arca_error **err)
{
  errno = ENOENT;
  return arca_error_errno (err, "open `%s`", path);
}

static void
test_error_wrap_keeps_cause (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *text = NULL;

  assert_int_equal (failing_open ("/nope", &err), -1);
  assert_int_equal (arca_error_wrap (&err, "load bundle `%s`", "/b"), -1);
  /* A second error must not overwrite the first cause. */
  assert_int_equal (arca_error_set (&err, EPERM, "later"), -1);
  text = arca_error_string (err);
  assert_string_equal (text, "load bundle `/b`: open `/nope`: No such file or directory");
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_move_ptr_and_fd (void **state)
{
  cleanup_free char *p = strdup ("x");
  cleanup_close int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  char *taken = move_ptr (p);
  int taken_fd = move_fd (fd);

  assert_null (p);
  assert_int_equal (fd, -1);
  assert_true (taken_fd >= 0);
  free (taken);
  close (taken_fd);
}

static char *
make_tmpdir (void)
{
  char tmpl[] = "/tmp/arca-test-XXXXXX";
  char *d = mkdtemp (tmpl);
  assert_non_null (d);
  return strdup (d);
}

static void
test_open_in_root_symlink_escape (void **state)
{
  cleanup_free char *dir = make_tmpdir ();
  cleanup_close int root = -1;
  cleanup_error arca_error *err = NULL;
  char path[512];
  int fd;

  /* root/escape -> /etc : resolving "escape/passwd" in root must stay in root. */
  snprintf (path, sizeof (path), "%s/escape", dir);
  assert_int_equal (symlink ("/etc", path), 0);
  root = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (root >= 0);
  fd = arca_open_in_root (root, "escape/passwd", O_RDONLY, 0, &err);
  assert_int_equal (fd, -1);
  assert_non_null (err);
  assert_int_equal (err->errnum, ENOENT);
  arca_error_freep (&err);

  /* mkpath through the symlink creates root/etc/x, not /etc/x. */
  fd = arca_mkpath_in_root (root, "/escape/arca-unit-test/file", 0, 0644, &err);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (access ("/etc/arca-unit-test", F_OK), -1);
  snprintf (path, sizeof (path), "%s/etc/arca-unit-test/file", dir);
  assert_int_equal (access (path, F_OK), 0);

  /* ".." cannot climb out either. */
  fd = arca_mkpath_in_root (root, "../../../../dotdot-dir", 1, 0755, &err);
  assert_true (fd >= 0);
  close (fd);
  snprintf (path, sizeof (path), "%s/dotdot-dir", dir);
  assert_int_equal (access (path, F_OK), 0);

  assert_int_equal (arca_rm_rf_at (AT_FDCWD, dir, &err), 0);
  assert_int_equal (access (dir, F_OK), -1);
}

static void
test_atomic_write_and_read (void **state)
{
  cleanup_free char *dir = make_tmpdir ();
  cleanup_free char *data = NULL;
  cleanup_error arca_error *err = NULL;
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  size_t len = 0;

  assert_int_equal (arca_write_file_atomic_at (dfd, "state.json", "{\"a\":1}", 7, 0600, &err), 0);
  assert_int_equal (arca_read_file_at (dfd, "state.json", 1024, &data, &len, &err), 0);
  assert_int_equal (len, 7);
  assert_string_equal (data, "{\"a\":1}");
  free (move_ptr (data));
  /* The size bound is enforced: untrusted files cannot make us allocate forever. */
  assert_int_equal (arca_read_file_at (dfd, "state.json", 4, &data, &len, &err), -1);
  assert_int_equal (err->errnum, EFBIG);
  arca_error_freep (&err);
  assert_int_equal (arca_rm_rf_at (AT_FDCWD, dir, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_error_wrap_keeps_cause),
    cmocka_unit_test (test_move_ptr_and_fd),
    cmocka_unit_test (test_open_in_root_symlink_escape),
    cmocka_unit_test (test_atomic_write_and_read),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
