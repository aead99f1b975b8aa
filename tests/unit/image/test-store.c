/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image-test.h"
#include "image/store.h"

#define SHA_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fixture
{
  char *dir;
  arca_store *store;
  char blobs[512];
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  cleanup_error arca_error *err = NULL;

  f->dir = test_tmpdir ();
  assert_int_equal (arca_store_open (f->dir, &f->store, &err), 0);
  snprintf (f->blobs, sizeof (f->blobs), "%s/blobs/sha256", f->dir);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  arca_store_free (f->store);
  test_rmdir (f->dir);
  free (f);
  return 0;
}

static void
test_layout_created (void **state)
{
  struct fixture *f = *state;
  char p[600];
  struct stat st;
  const char *dirs[] = { "blobs/sha256", "layers", "tmp" };

  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      snprintf (p, sizeof (p), "%s/%s", f->dir, dirs[i]);
      assert_int_equal (stat (p, &st), 0);
      assert_true (S_ISDIR (st.st_mode));
    }
  assert_string_equal (arca_store_root (f->store), f->dir);
}

static void
test_put_buffer_and_read_back (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *data = NULL;
  char digest[ARCA_DIGEST_LEN + 1];
  char path[700];
  bool created = false;
  size_t len;
  off_t size;
  struct stat st;

  assert_int_equal (arca_blob_put_buffer (f->store, "abc", 3, NULL, digest, &created, &err), 0);
  assert_string_equal (digest, SHA_ABC);
  assert_true (created);
  snprintf (path, sizeof (path), "%s/%s", f->blobs, &SHA_ABC[7]);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_size, 3);
  assert_int_equal (arca_blob_exists (f->store, SHA_ABC, &err), 1);
  assert_int_equal (arca_blob_exists (f->store, SHA_EMPTY, &err), 0);
  assert_int_equal (arca_blob_size (f->store, SHA_ABC, &size, &err), 0);
  assert_int_equal (size, 3);
  assert_int_equal (arca_blob_read (f->store, SHA_ABC, 100, &data, &len, &err), 0);
  assert_int_equal (len, 3);
  assert_string_equal (data, "abc");

  /* Same content again: accepted, not "created". */
  assert_int_equal (arca_blob_put_buffer (f->store, "abc", 3, SHA_ABC, NULL, &created, &err), 0);
  assert_false (created);
  assert_int_equal (test_count_entries (f->blobs), 1);
}

static void
test_mismatch_names_both_and_leaves_nothing (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;

  assert_int_equal (arca_blob_put_buffer (f->store, "abd", 3, SHA_ABC, NULL, NULL, &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  assert_error_contains (err, "expected " SHA_ABC);
  assert_error_contains (err, "got sha256:");
  assert_int_equal (test_count_entries (f->blobs), 0);
}

static void
test_bad_expected_digest_refused (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;

  assert_int_equal (arca_blob_put_buffer (f->store, "abc", 3, "sha256:../../x", NULL, NULL, &err),
                    -1);
  assert_error_contains (err, "invalid digest");
  assert_int_equal (test_count_entries (f->blobs), 0);
}

static void
test_put_fd_streams (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  char digest[ARCA_DIGEST_LEN + 1], expect[ARCA_DIGEST_LEN + 1];
  cleanup_free char *big = malloc (300000);
  int fds[2];
  pid_t pid;

  for (size_t i = 0; i < 300000; i++)
    big[i] = (char)(i * 7);
  assert_int_equal (arca_digest_buffer (big, 300000, expect, &err), 0);
  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  pid = fork ();
  if (pid == 0)
    {
      size_t off = 0;
      close (fds[0]);
      while (off < 300000)
        {
          ssize_t n = write (fds[1], big + off, 300000 - off);
          if (n <= 0)
            _exit (1);
          off += (size_t)n;
        }
      _exit (0);
    }
  close (fds[1]);
  assert_int_equal (arca_blob_put_fd (f->store, fds[0], expect, digest, NULL, &err), 0);
  close (fds[0]);
  waitpid (pid, NULL, 0);
  assert_string_equal (digest, expect);
  assert_int_equal (arca_blob_verify (f->store, expect, &err), 0);
}

static void
test_corruption_detected_on_verify (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_close int fd = -1;
  cleanup_free char *data = NULL;
  char path[700];

  assert_int_equal (arca_blob_put_buffer (f->store, "abc", 3, SHA_ABC, NULL, NULL, &err), 0);
  snprintf (path, sizeof (path), "%s/%s", f->blobs, &SHA_ABC[7]);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  assert_int_equal (write (fd, "x", 1), 1);
  /* Unverified open still works; verified ones report the corruption. */
  {
    int rfd = arca_blob_open (f->store, SHA_ABC, false, &err);
    assert_true (rfd >= 0);
    close (rfd);
  }
  assert_int_equal (arca_blob_open (f->store, SHA_ABC, true, &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  assert_error_contains (err, "is corrupt");
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_blob_read (f->store, SHA_ABC, 100, &data, NULL, &err), -1);
  assert_error_contains (err, "is corrupt");
}

static void
test_open_missing_and_remove (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_strv char **list = NULL;

  assert_int_equal (arca_blob_open (f->store, SHA_ABC, false, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_error_contains (err, "not found");
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_blob_put_buffer (f->store, "abc", 3, NULL, NULL, NULL, &err), 0);
  assert_int_equal (arca_blob_put_buffer (f->store, "", 0, NULL, NULL, NULL, &err), 0);
  assert_int_equal (arca_blob_list (f->store, &list, &err), 0);
  assert_non_null (list[0]);
  assert_non_null (list[1]);
  assert_null (list[2]);
  assert_int_equal (arca_blob_remove (f->store, SHA_ABC, &err), 0);
  assert_int_equal (arca_blob_remove (f->store, SHA_ABC, &err), 0);
  assert_int_equal (arca_blob_exists (f->store, SHA_ABC, &err), 0);
  assert_int_equal (arca_blob_exists (f->store, SHA_EMPTY, &err), 1);
}

static void
test_abandoned_writer_and_stale_temps (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  arca_blob_writer *w = NULL;
  char path[700];
  int fd;

  assert_int_equal (arca_blob_writer_new (f->store, &w, &err), 0);
  assert_int_equal (arca_blob_writer_write (w, "partial", 7, &err), 0);
  assert_int_equal (test_count_entries (f->blobs), 1);
  arca_blob_writer_free (w);
  assert_int_equal (test_count_entries (f->blobs), 0);

  /* A crashed writer (pid that cannot exist) and a live one (ours). */
  snprintf (path, sizeof (path), "%s/.tmp-999999999-dead", f->blobs);
  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  close (fd);
  snprintf (path, sizeof (path), "%s/layers/.tmp-999999999-x", f->dir);
  assert_int_equal (mkdir (path, 0700), 0);
  snprintf (path, sizeof (path), "%s/.tmp-%d-live", f->blobs, (int)getpid ());
  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (arca_store_clean_temp (f->store, &err), 0);
  assert_int_equal (test_count_entries (f->blobs), 1);
  assert_int_equal (access (path, F_OK), 0);
  snprintf (path, sizeof (path), "%s/layers", f->dir);
  assert_int_equal (test_count_entries (path), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_layout_created, setup, teardown),
    cmocka_unit_test_setup_teardown (test_put_buffer_and_read_back, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mismatch_names_both_and_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_expected_digest_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_put_fd_streams, setup, teardown),
    cmocka_unit_test_setup_teardown (test_corruption_detected_on_verify, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_missing_and_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_abandoned_writer_and_stale_temps, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
