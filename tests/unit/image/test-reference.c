/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>

#include "image-test.h"
#include "image/reference.h"

#define D64 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct good_case
{
  const char *in;
  int mode;
  const char *out; /* arca_reference_string */
  bool explicit_domain;
};

static const struct good_case good[] = {
  { "busybox", ARCA_REFERENCE_LOCAL, "localhost/busybox:latest", false },
  { "busybox", ARCA_REFERENCE_DOCKER, "docker.io/library/busybox:latest", false },
  { "busybox:1.36", ARCA_REFERENCE_LOCAL, "localhost/busybox:1.36", false },
  { "user/app:v1", ARCA_REFERENCE_DOCKER, "docker.io/user/app:v1", false },
  { "user/app:v1", ARCA_REFERENCE_LOCAL, "localhost/user/app:v1", false },
  { "docker.io/busybox", ARCA_REFERENCE_DOCKER, "docker.io/library/busybox:latest", true },
  { "index.docker.io/busybox", ARCA_REFERENCE_DOCKER, "docker.io/library/busybox:latest", true },
  { "localhost/foo", ARCA_REFERENCE_DOCKER, "localhost/foo:latest", true },
  { "docker.io/busybox", ARCA_REFERENCE_LOCAL, "docker.io/library/busybox:latest", true },
  { "index.docker.io/x/y:1", ARCA_REFERENCE_LOCAL, "docker.io/x/y:1", true },
  { "localhost:5000/foo/bar:tag", ARCA_REFERENCE_LOCAL, "localhost:5000/foo/bar:tag", true },
  { "registry.example.com/a/b/c", ARCA_REFERENCE_LOCAL, "registry.example.com/a/b/c:latest", true },
  { "127.0.0.1:5000/img:1.0", ARCA_REFERENCE_LOCAL, "127.0.0.1:5000/img:1.0", true },
  { "[::1]:5000/img", ARCA_REFERENCE_LOCAL, "[::1]:5000/img:latest", true },
  { "quay.io/podman/stable@" D64, ARCA_REFERENCE_LOCAL, "quay.io/podman/stable@" D64, true },
  { "alpine:3.18@" D64, ARCA_REFERENCE_DOCKER, "docker.io/library/alpine:3.18@" D64, false },
  { "a.b-c/x_y__z--w.v", ARCA_REFERENCE_LOCAL, "a.b-c/x_y__z--w.v:latest", true },
  { "my-app.v2_x", ARCA_REFERENCE_LOCAL, "localhost/my-app.v2_x:latest", false },
  { "app:_under-score.1", ARCA_REFERENCE_LOCAL, "localhost/app:_under-score.1", false },
  { "Registry.Example/app", ARCA_REFERENCE_LOCAL, "Registry.Example/app:latest", true },
  /* a host-looking word without a slash is a repository (tag after ':') */
  { "localhost:5000", ARCA_REFERENCE_LOCAL, "localhost/localhost:5000", false },
};

struct bad_case
{
  const char *in;
  const char *why;
};

static const struct bad_case bad[] = {
  { "", "empty" },
  { "Busybox", "must be lowercase" },
  { "user/App", "must be lowercase" },
  { "busybox:", "empty tag" },
  { "busybox:-x", "tag must start" },
  { "busybox:a/b", "port must be a number" },
  { "a_b.c/x", "invalid character in registry host" },
  { "busy box", "invalid character" },
  { "busybox@sha256:abc", "64 lowercase hex" },
  { "busybox@md5:0123", "only sha256" },
  { "/busybox", "empty path component" },
  { "busybox/", "empty path component" },
  { "a//b", "empty path component" },
  { "-a.com/b", "invalid registry host label" },
  { "-a/b", "must start and end" },
  { "foo_/bar", "must start and end" },
  { "foo/.bar", "must start and end" },
  { "foo/bar.", "must start and end" },
  { "foo/a___b", "must start and end" },
  { "host:port/x", "port must be a number" },
  { "host:123456/x", "port out of range" },
  { "host:/x", "empty registry port" },
  { "[::1/x", "unterminated IPv6" },
  { "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "image id" },
  { "busybox:"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "longer than 128" },
};

static void
test_good_references (void **state)
{
  for (size_t i = 0; i < ARRAY_SIZE (good); i++)
    {
      cleanup_error arca_error *err = NULL;
      cleanup_reference struct arca_reference *ref = NULL;
      cleanup_free char *s = NULL;

      if (arca_reference_parse (good[i].in, good[i].mode, &ref, &err) < 0)
        fail_msg ("`%s` refused: %s", good[i].in, err->msg);
      s = arca_reference_string (ref);
      if (strcmp (s, good[i].out) != 0)
        fail_msg ("`%s` -> `%s`, want `%s`", good[i].in, s, good[i].out);
      assert_int_equal (ref->domain_explicit, good[i].explicit_domain);
    }
}

static void
test_bad_references (void **state)
{
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cleanup_error arca_error *err = NULL;
      cleanup_reference struct arca_reference *ref = NULL;

      if (arca_reference_parse (bad[i].in, ARCA_REFERENCE_LOCAL, &ref, &err) == 0)
        fail_msg ("`%s` accepted", bad[i].in);
      assert_null (ref);
      assert_int_equal (err->errnum, EINVAL);
      if (strstr (err->msg, bad[i].why) == NULL)
        fail_msg ("`%s`: error `%s` does not say `%s`", bad[i].in, err->msg, bad[i].why);
    }
}

static void
test_parts (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_reference struct arca_reference *ref = NULL;
  cleanup_free char *name = NULL;

  assert_int_equal (arca_reference_parse ("reg:5000/ns/app@" D64, ARCA_REFERENCE_LOCAL, &ref, &err),
                    0);
  assert_string_equal (ref->domain, "reg:5000");
  assert_string_equal (ref->path, "ns/app");
  assert_null (ref->tag);
  assert_string_equal (ref->digest, D64);
  name = arca_reference_name (ref);
  assert_string_equal (name, "reg:5000/ns/app");
}

static void
test_long_name_refused (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_reference struct arca_reference *ref = NULL;
  char name[300];

  memset (name, 'a', sizeof (name) - 1);
  name[sizeof (name) - 1] = '\0';
  assert_int_equal (arca_reference_parse (name, ARCA_REFERENCE_LOCAL, &ref, &err), -1);
  assert_error_contains (err, "longer than 255");
}

/* 250 characters pass as a name, but not with the "localhost/" the local
 * mode adds (found by tests/fuzz/fuzz-specs.c): accepted, it could be
 * stored and never named again. */
static void
test_long_name_with_domain_refused (void **state)
{
  cleanup_error arca_error *err = NULL;
  cleanup_reference struct arca_reference *ref = NULL;
  char name[251];

  memset (name, 'a', sizeof (name) - 1);
  name[sizeof (name) - 1] = '\0';
  assert_int_equal (arca_reference_parse (name, ARCA_REFERENCE_LOCAL, &ref, &err), -1);
  assert_error_contains (err, "longer than 255 characters with its registry");
  arca_error_free (err);
  err = NULL;
  name[255 - strlen ("localhost/")] = '\0';
  assert_int_equal (arca_reference_parse (name, ARCA_REFERENCE_LOCAL, &ref, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_good_references),
    cmocka_unit_test (test_bad_references),
    cmocka_unit_test (test_parts),
    cmocka_unit_test (test_long_name_refused),
    cmocka_unit_test (test_long_name_with_domain_refused),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
