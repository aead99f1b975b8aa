/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the control API's HTTP request parser: complete and
 * partial requests, pipelining, and malformed or oversized input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/api-http.h"

static int
parse (const char *s, struct api_http_request *req, const char **why)
{
  return api_http__parse (s, strlen (s), req, why);
}

static void
simple_get (void **state)
{
  struct api_http_request req;
  const char *why = NULL;

  assert_int_equal (parse ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &req, &why), 1);
  assert_string_equal (req.method, "GET");
  assert_string_equal (req.path, "/metrics");
  assert_int_equal (req.body_len, 0);
  (void) state;
}

static void
put_with_body_and_pipelining (void **state)
{
  const char *s = "PUT /vm HTTP/1.1\r\ncontent-length: 7\r\n\r\n{\"a\":1}GET / HTTP/1.1\r\n\r\n";
  struct api_http_request req;
  const char *why = NULL;

  assert_int_equal (parse (s, &req, &why), 1);
  assert_string_equal (req.method, "PUT");
  assert_int_equal (req.body_len, 7);
  assert_memory_equal (req.body, "{\"a\":1}", 7);
  /* The next request starts right after this one. */
  assert_int_equal (parse (s + req.total_len, &req, &why), 1);
  assert_string_equal (req.path, "/");
  (void) state;
}

static void
partial_requests_wait (void **state)
{
  struct api_http_request req;
  const char *why = NULL;

  assert_int_equal (parse ("GET / HTTP/1.1\r\n", &req, &why), 0);
  assert_int_equal (parse ("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}", &req, &why), 0);
  (void) state;
}

static void
malformed (void **state)
{
  static const char *const bad[] = {
    "GARBAGE\r\n\r\n",
    "GET\r\n\r\n",
    "GET /  HTTP/1.1\r\n\r\n",
    "GET / FTP/1.0\r\n\r\n",
    "VERYLONGMETHOD / HTTP/1.1\r\n\r\n",
    "PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
    "PUT / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n",
    "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  struct api_http_request req;

  for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      const char *why = NULL;
      assert_int_equal (parse (bad[i], &req, &why), -1);
      assert_non_null (why);
    }
  (void) state;
}

static void
oversized_headers (void **state)
{
  size_t n = API_HTTP_MAX_REQUEST + 10;
  char *s = malloc (n);
  struct api_http_request req;
  const char *why = NULL;

  memset (s, 'a', n);
  assert_int_equal (api_http__parse (s, n, &req, &why), -1);
  free (s);
  (void) state;
}

static void
long_path_refused (void **state)
{
  char s[600];
  struct api_http_request req;
  const char *why = NULL;

  memset (s, 'p', sizeof (s));
  memcpy (s, "GET /", 5);
  strcpy (s + 400, " HTTP/1.1\r\n\r\n");
  assert_int_equal (parse (s, &req, &why), -1);
  (void) state;
}

static void
response_format (void **state)
{
  char *r = api_http__response (204, NULL);
  assert_string_equal (r, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
  free (r);
  r = api_http__response (400, "{}");
  assert_non_null (strstr (r, "HTTP/1.1 400 Bad Request\r\n"));
  assert_non_null (strstr (r, "Content-Length: 2\r\n\r\n{}"));
  free (r);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (simple_get),
    cmocka_unit_test (put_with_body_and_pipelining),
    cmocka_unit_test (partial_requests_wait),
    cmocka_unit_test (malformed),
    cmocka_unit_test (oversized_headers),
    cmocka_unit_test (long_path_refused),
    cmocka_unit_test (response_format),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
