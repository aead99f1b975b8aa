/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/strv.c is compiled into this test with realloc, strdup and strndup
 * replaced, so the ENOMEM paths can be taken on demand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* Allocations from now on that succeed before one fails; -1: none fails. */
static int allocs_left = -1;

static bool
alloc_fails (void)
{
  if (allocs_left < 0)
    return false;
  if (allocs_left == 0)
    return true;
  allocs_left--;
  return false;
}

static void *
failing_realloc (void *p, size_t size)
{
  return alloc_fails () ? NULL : realloc (p, size);
}

static char *
failing_strdup (const char *s)
{
  return alloc_fails () ? NULL : strdup (s);
}

static char *
failing_strndup (const char *s, size_t n)
{
  return alloc_fails () ? NULL : strndup (s, n);
}

#define realloc failing_realloc
#define strdup failing_strdup
#define strndup failing_strndup
#include "../../../src/lib/util/strv.c"
#undef realloc
#undef strdup
#undef strndup

static void
test_grows_null_terminated (void **state)
{
  cleanup_strv char **v = NULL;
  size_t n = 0;
  char name[16];

  assert_int_equal (arca_strv_length (v), 0);
  for (int i = 0; i < 100; i++)
    {
      snprintf (name, sizeof name, "e%d", i);
      assert_int_equal (arca_strv_append (&v, &n, name), 0);
      assert_int_equal (n, (size_t) i + 1);
      assert_null (v[n]);
    }
  assert_int_equal (arca_strv_length (v), 100);
  for (int i = 0; i < 100; i++)
    {
      snprintf (name, sizeof name, "e%d", i);
      assert_string_equal (v[i], name);
    }
}

static void
test_counted_when_n_is_null (void **state)
{
  cleanup_strv char **v = NULL;
  size_t n = 0;

  assert_int_equal (arca_strv_append (&v, NULL, "a"), 0);
  assert_int_equal (arca_strv_append (&v, NULL, "b"), 0);
  /* Mixing both ways: n picks up from the real count. */
  n = arca_strv_length (v);
  assert_int_equal (arca_strv_append (&v, &n, "c"), 0);
  assert_int_equal (n, 3);
  assert_string_equal (v[0], "a");
  assert_string_equal (v[1], "b");
  assert_string_equal (v[2], "c");
  assert_null (v[3]);
}

static void
test_copies_and_ownership (void **state)
{
  cleanup_strv char **v = NULL;
  size_t n = 0;
  char buf[] = "copied";

  assert_int_equal (arca_strv_append (&v, &n, buf), 0);
  buf[0] = 'X';
  assert_string_equal (v[0], "copied");
  assert_ptr_not_equal (v[0], buf);

  char *owned = strdup ("owned");
  assert_non_null (owned);
  assert_int_equal (arca_strv_take (&v, &n, owned), 0);
  assert_ptr_equal (v[1], owned); /* no copy: freed with the vector */

  assert_int_equal (arca_strv_append_len (&v, &n, "prefix-rest", 6), 0);
  assert_string_equal (v[2], "prefix");
  char shorter[16] = "ab"; /* len past the end of the string: up to the NUL */
  assert_int_equal (arca_strv_append_len (&v, &n, shorter, sizeof shorter), 0);
  assert_string_equal (v[3], "ab");

  assert_int_equal (arca_strv_appendf (&v, &n, "%s=%d", "k", 42), 0);
  assert_string_equal (v[4], "k=42");
  assert_int_equal (n, 5);
  assert_null (v[5]);
}

/* A failure leaves the vector as it was (entries, count, termination);
 * the string given to take is freed (ASan/valgrind would see a leak). */
static void
test_enomem (void **state)
{
  cleanup_strv char **v = NULL;
  size_t n = 0;

  assert_int_equal (arca_strv_append (&v, &n, "first"), 0);
  char **before = v;

  allocs_left = 0; /* the strdup */
  errno = 0;
  assert_int_equal (arca_strv_append (&v, &n, "second"), -1);
  assert_int_equal (errno, ENOMEM);
  assert_int_equal (n, 1);
  assert_ptr_equal (v, before);
  assert_string_equal (v[0], "first");
  assert_null (v[1]);

  allocs_left = 1; /* the strdup succeeds, the realloc fails */
  errno = 0;
  assert_int_equal (arca_strv_append (&v, &n, "second"), -1);
  assert_int_equal (errno, ENOMEM);
  assert_int_equal (n, 1);
  assert_null (v[1]);

  allocs_left = 0;
  assert_int_equal (arca_strv_take (&v, &n, malloc (8)), -1); /* freed by take */
  assert_int_equal (arca_strv_append_len (&v, &n, "xyz", 2), -1);
  assert_int_equal (n, 1);
  assert_null (v[1]);

  errno = 0;
  allocs_left = -1;
  assert_int_equal (arca_strv_take (&v, &n, NULL), -1);
  assert_int_equal (errno, ENOMEM);

  /* An empty vector stays NULL when its first append fails. */
  cleanup_strv char **empty = NULL;
  allocs_left = 0;
  assert_int_equal (arca_strv_append (&empty, NULL, "x"), -1);
  assert_null (empty);
  allocs_left = -1;

  assert_int_equal (arca_strv_append (&v, &n, "second"), 0);
  assert_int_equal (n, 2);
  assert_string_equal (v[1], "second");
  assert_null (v[2]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_grows_null_terminated),
    cmocka_unit_test (test_counted_when_n_is_null),
    cmocka_unit_test (test_copies_and_ownership),
    cmocka_unit_test (test_enomem),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
