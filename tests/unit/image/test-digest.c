/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include "image-test.h"
#include "image/digest.h"

#define SHA_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void
test_known_vectors (void **state)
{
  cleanup_error arca_error *err = NULL;
  char out[ARCA_DIGEST_LEN + 1];

  assert_int_equal (arca_digest_buffer ("", 0, out, &err), 0);
  assert_string_equal (out, SHA_EMPTY);
  assert_int_equal (arca_digest_buffer ("abc", 3, out, &err), 0);
  assert_string_equal (out, SHA_ABC);
  assert_string_equal (arca_digest_hex (out), &SHA_ABC[7]);
}

static void
test_streaming_matches_one_shot (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_digester arca_digester *d = NULL;
  char out[ARCA_DIGEST_LEN + 1];

  assert_int_equal (arca_digester_new (&d, &err), 0);
  arca_digester_update (d, "a", 1);
  arca_digester_update (d, "", 0);
  arca_digester_update (d, "bc", 2);
  assert_int_equal (arca_digester_final (d, out, &err), 0);
  assert_string_equal (out, SHA_ABC);
}

static void
test_validation (void **state)
{
  cleanup_error arca_error *err = NULL;

  assert_true (arca_digest_is_valid (SHA_ABC));
  assert_false (arca_digest_is_valid (NULL));
  assert_false (arca_digest_is_valid (""));
  assert_false (arca_digest_is_valid ("sha256:"));
  assert_false (arca_digest_is_valid (SHA_ABC "0"));
  assert_false (arca_digest_is_valid (
      "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false (arca_digest_is_valid (
      "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  assert_false (arca_digest_is_valid (
      "sha256:../../../../etc/passwd000000000000000000000000000000000000000"));
  assert_int_equal (arca_digest_check ("sha256:xyz", "layer 2", &err), -1);
  assert_error_contains (err, "layer 2: invalid digest `sha256:xyz`");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_known_vectors),
    cmocka_unit_test (test_streaming_matches_one_shot),
    cmocka_unit_test (test_validation),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
