/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the image unit tests (included after cmocka.h). */
#ifndef ARCA_TEST_IMAGE_H
#define ARCA_TEST_IMAGE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

static inline char *
test_tmpdir (void)
{
  char tmpl[] = "/tmp/arca-image-test-XXXXXX";
  char *d = mkdtemp (tmpl);
  assert_non_null (d);
  d = strdup (d);
  assert_non_null (d);
  return d;
}

static inline void
test_rmdir (char *d)
{
  cleanup_error arca_error *err = NULL;
  if (d == NULL)
    return;
  assert_int_equal (arca_rm_rf_at (AT_FDCWD, d, &err), 0);
  free (d);
}

/* Entries of a directory, "." and ".." excluded. */
static inline int
test_count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;
  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

/* The error text must contain needle. */
#define assert_error_contains(err, needle)                                                         \
  do                                                                                               \
    {                                                                                              \
      assert_non_null (err);                                                                       \
      if (strstr ((err)->msg, (needle)) == NULL)                                                   \
        fail_msg ("error `%s` does not mention `%s`", (err)->msg, (needle));                       \
    }                                                                                              \
  while (0)

#endif
