/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small HTTP/1.1 subset the control API speaks: one request at a time
 * per connection, Content-Length bodies only, bounded sizes.  Parsing is a
 * pure function over a buffer so it can be tested and fuzzed alone. */
#ifndef ARCA_VMM_API_HTTP_H
#define ARCA_VMM_API_HTTP_H

#include <stddef.h>

#define API_HTTP_MAX_REQUEST 16384     /* request line + headers + body */

struct api_http_request {
  char method[8];
  char path[256];
  const char *body;                    /* inside the caller's buffer, not NUL-terminated */
  size_t body_len;
  size_t total_len;                    /* bytes of the buffer this request used */
};

/* Returns 1 with *req filled when buf holds a whole request, 0 when more
   bytes are needed, -1 (with *why) when the request is malformed or too
   large. */
int api_http__parse (const char *buf, size_t len, struct api_http_request *req, const char **why);

/* Formats a response into a new string: status line, Content-Type and
   Content-Length when body is not NULL. */
char *api_http__response (int status, const char *body);

#endif
