/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fake cgroup trees for the writer tests (see cgroup.c: a directory that is
 * no cgroup file system and holds .arca-fake-mode is driven like a host of
 * that mode; every write is logged to .arca-fake-writes in order). */
#ifndef ARCA_TEST_CGROUP_FAKE_TREE_H
#define ARCA_TEST_CGROUP_FAKE_TREE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

static inline char *
fake_path (const char *root, const char *rel)
{
  char *p = NULL;
  assert_true (asprintf (&p, "%s/%s", root, rel) >= 0);
  return p;
}

/* Writes content to root/rel (creating it), outside the write log. */
static inline void
fake_put (const char *root, const char *rel, const char *content)
{
  cleanup_free char *p = fake_path (root, rel);
  cleanup_close int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t)strlen (content));
}

static inline void
fake_mkdir (const char *root, const char *rel)
{
  cleanup_free char *p = fake_path (root, rel);
  assert_int_equal (mkdir (p, 0755), 0);
}

static inline bool
fake_exists (const char *root, const char *rel)
{
  cleanup_free char *p = fake_path (root, rel);
  return access (p, F_OK) == 0;
}

/* Contents of root/rel ("" when missing). */
static inline char *
fake_get (const char *root, const char *rel)
{
  cleanup_free char *p = fake_path (root, rel);
  char *data = NULL;
  cleanup_error arca_error *err = NULL;
  if (access (p, F_OK) < 0)
    return strdup ("");
  assert_int_equal (arca_read_file_at (AT_FDCWD, p, 1 << 20, &data, NULL, &err), 0);
  return data;
}

/* The write log since the last fake_writes_reset(). */
static inline char *
fake_writes (const char *root)
{
  return fake_get (root, ".arca-fake-writes");
}

static inline void
fake_writes_reset (const char *root)
{
  cleanup_free char *p = fake_path (root, ".arca-fake-writes");
  (void) unlink (p);
}

static inline char *
fake_root (const char *mode)
{
  char tmpl[] = "/tmp/arca-cgroup-test-XXXXXX";
  char *d = mkdtemp (tmpl);
  assert_non_null (d);
  d = strdup (d);
  fake_put (d, ".arca-fake-mode", mode);
  return d;
}

static inline void
fake_remove (char *root)
{
  cleanup_error arca_error *err = NULL;
  if (root != NULL)
    (void) arca_rm_rf_at (AT_FDCWD, root, &err);
  free (root);
}

/* The message of err, or "" (for assert_string_* / strstr). */
static inline const char *
msg (const arca_error *err)
{
  return err && err->msg ? err->msg : "";
}

#define assert_error_has(err, text)                                                                \
  do                                                                                               \
    {                                                                                              \
      assert_non_null (err);                                                                       \
      if (strstr (msg (err), (text)) == NULL)                                                      \
        fail_msg ("error \"%s\" does not mention \"%s\"", msg (err), (text));                      \
    }                                                                                              \
  while (0)

#endif
