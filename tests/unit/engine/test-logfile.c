/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/logfile.h"
#include "util/cleanup.h"
#include "util/fs.h"

struct collected {
  char text[65536];
  size_t len;
  size_t count;
  char streams[64][8];
};

static int
collect (const struct arca_log_record *rec, void *userdata)
{
  struct collected *c = userdata;

  if (c->len + rec->len < sizeof c->text)
    {
      memcpy (c->text + c->len, rec->text, rec->len);
      c->len += rec->len;
      c->text[c->len] = '\0';
    }
  if (c->count < 64)
    snprintf (c->streams[c->count], sizeof c->streams[0], "%s", rec->stream);
  c->count++;
  assert_true (rec->time_ns > 0);
  return 0;
}

static char *
temp_dir (void)
{
  char *dir = strdup ("/tmp/arca-logfile-XXXXXX");
  assert_non_null (mkdtemp (dir));
  return dir;
}

static void
test_lines_and_partials (void **state)
{
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *path = NULL;
  cleanup_error arca_error *err = NULL;
  struct collected c = { 0 };

  assert_true (asprintf (&path, "%s/ctr.log", dir) > 0);
  {
    cleanup_logfile struct arca_logfile *log = NULL;
    assert_int_equal (arca_logfile_open (path, 0, 1, &log, &err), 0);
    assert_int_equal (arca_logfile_write (log, "stdout", "hel", 3, &err), 0);
    assert_int_equal (arca_logfile_write (log, "stderr", "oops\n", 5, &err), 0);
    assert_int_equal (arca_logfile_write (log, "stdout", "lo\nworld\nno newline", 19, &err), 0);
    assert_int_equal (arca_logfile_flush (log, &err), 0);
  }
  assert_int_equal (arca_logfile_read (path, 1, 0, 0, collect, &c, &err), 0);
  assert_int_equal (c.count, 4);
  assert_string_equal (c.text, "oops\nhello\nworld\nno newline");
  assert_string_equal (c.streams[0], "stderr");
  assert_string_equal (c.streams[1], "stdout");

  /* The file is Docker's json-file format. */
  cleanup_free char *raw = NULL;
  assert_int_equal (arca_read_file_at (AT_FDCWD, path, 1 << 20, &raw, NULL, &err), 0);
  assert_non_null (strstr (raw, "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\""));
  arca_rm_rf_at (AT_FDCWD, dir, NULL);
}

static void
test_invalid_utf8_is_replaced (void **state)
{
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *path = NULL;
  cleanup_error arca_error *err = NULL;
  struct collected c = { 0 };

  assert_true (asprintf (&path, "%s/ctr.log", dir) > 0);
  {
    cleanup_logfile struct arca_logfile *log = NULL;
    assert_int_equal (arca_logfile_open (path, 0, 1, &log, &err), 0);
    assert_int_equal (arca_logfile_write (log, "stdout", "a\xff\xc0z\x00q\n", 7, &err), 0);
  }
  assert_int_equal (arca_logfile_read (path, 1, 0, 0, collect, &c, &err), 0);
  assert_int_equal (c.count, 1);
  assert_string_equal (c.text, "a\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbdq\n");
  arca_rm_rf_at (AT_FDCWD, dir, NULL);
}

static void
test_rotation_keeps_files_and_tail (void **state)
{
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *path = NULL, *rotated1 = NULL, *rotated3 = NULL;
  cleanup_error arca_error *err = NULL;
  struct stat st;

  assert_true (asprintf (&path, "%s/ctr.log", dir) > 0);
  assert_true (asprintf (&rotated1, "%s.1", path) > 0);
  assert_true (asprintf (&rotated3, "%s.3", path) > 0);
  {
    cleanup_logfile struct arca_logfile *log = NULL;
    /* ~90 bytes per record: 1000 bytes hold about 10. */
    assert_int_equal (arca_logfile_open (path, 1000, 3, &log, &err), 0);
    for (int i = 0; i < 100; i++)
      {
        char line[32];
        int n = snprintf (line, sizeof line, "line %03d\n", i);
        assert_int_equal (arca_logfile_write (log, "stdout", line, (size_t) n, &err), 0);
        assert_int_equal (stat (path, &st), 0); /* the current file always exists */
        assert_true (st.st_size <= 1000);
      }
  }
  assert_int_equal (stat (rotated1, &st), 0);
  assert_int_equal (stat (rotated3, &st), -1); /* max 3 files: current, .1, .2 */

  struct collected c = { 0 };
  assert_int_equal (arca_logfile_read (path, 3, 0, 0, collect, &c, &err), 0);
  assert_true (c.count > 20 && c.count < 40);
  assert_non_null (strstr (c.text, "line 099\n"));
  /* Oldest first, consecutive. */
  int first = atoi (c.text + 5);
  assert_int_equal ((size_t) (100 - first), c.count);

  struct collected t = { 0 };
  assert_int_equal (arca_logfile_read (path, 3, 2, 0, collect, &t, &err), 0);
  assert_int_equal (t.count, 2);
  assert_string_equal (t.text, "line 098\nline 099\n");
  arca_rm_rf_at (AT_FDCWD, dir, NULL);
}

/* `logs -f` and plain `run` read what is there, then follow from where that
 * read stopped: records appended after the file was opened are read once,
 * a record still being written is left to the follower, and a file rotated
 * away from under the descriptor is not read twice. */
static void
test_read_fd_for_follow (void **state)
{
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *path = NULL, *rotated1 = NULL;
  cleanup_error arca_error *err = NULL;
  cleanup_logfile struct arca_logfile *log = NULL;
  struct stat st;
  off_t end = -1;

  assert_true (asprintf (&path, "%s/ctr.log", dir) > 0);
  assert_true (asprintf (&rotated1, "%s.1", path) > 0);
  assert_int_equal (arca_logfile_open (path, 2000, 3, &log, &err), 0);
  assert_int_equal (arca_logfile_write (log, "stdout", "a\nb\n", 4, &err), 0);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (arca_logfile_write (log, "stdout", "c\n", 2, &err), 0);
  assert_int_equal (arca_logfile_flush (log, &err), 0);

  struct collected c = { 0 };
  assert_int_equal (arca_logfile_read_fd (path, fd, 3, 0, 0, collect, &c, &end, &err), 0);
  assert_string_equal (c.text, "a\nb\nc\n");
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (end, st.st_size);

  /* Half a record: not read, and the end stays before it. */
  {
    cleanup_close int raw = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_int_equal (write (raw, "{\"log\":\"d\\n\"", 11), 11);
  }
  struct collected p = { 0 };
  off_t end2 = -1;
  assert_int_equal (arca_logfile_read_fd (path, fd, 3, 0, 0, collect, &p, &end2, &err), 0);
  assert_string_equal (p.text, "a\nb\nc\n");
  assert_int_equal (end2, end);
  assert_int_equal (truncate (path, end), 0);

  /* Rotated after the follower opened it: read once, as the current file. */
  for (int i = 0; i < 40 && stat (rotated1, &st) != 0; i++)
    assert_int_equal (arca_logfile_write (log, "stdout", "more\n", 5, &err), 0);
  assert_int_equal (stat (rotated1, &st), 0);
  struct stat fd_st;
  assert_int_equal (fstat (fd, &fd_st), 0);
  assert_int_equal (fd_st.st_ino, st.st_ino);
  struct collected r = { 0 };
  assert_int_equal (arca_logfile_read_fd (path, fd, 3, 0, 0, collect, &r, &end, &err), 0);
  assert_int_equal (strncmp (r.text, "a\nb\nc\nmore\n", 11), 0);
  assert_null (strstr (r.text + 1, "a\nb\nc\n"));
  assert_int_equal (end, fd_st.st_size);

  /* No file when the follower looked: the current one is left to it from 0. */
  struct collected n = { 0 };
  assert_int_equal (arca_logfile_read_fd (path, -1, 3, 0, 0, collect, &n, &end, &err), 0);
  assert_int_equal (end, 0);
  arca_rm_rf_at (AT_FDCWD, dir, NULL);
}

static void
test_rfc3339 (void **state)
{
  assert_true (arca_rfc3339_to_ns ("1970-01-01T00:00:01.5Z") == 1500000000LL);
  assert_true (arca_rfc3339_to_ns ("2026-11-22T03:00:00.000000001Z") > 0);
  assert_true (arca_rfc3339_to_ns ("garbage") == -1);
  assert_true (arca_rfc3339_to_ns ("2026-11-22T03:00:00+01:00") == -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lines_and_partials),
    cmocka_unit_test (test_invalid_utf8_is_replaced),
    cmocka_unit_test (test_rotation_keeps_files_and_tail),
    cmocka_unit_test (test_read_fd_for_follow),
    cmocka_unit_test (test_rfc3339),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
