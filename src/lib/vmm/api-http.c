/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-http.h"

static const char *
find_crlfcrlf (const char *buf, size_t len)
{
  for (size_t i = 0; i + 3 < len; i++)
    if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
      return buf + i;
  return NULL;
}

int
api_http__parse (const char *buf, size_t len, struct api_http_request *req, const char **why)
{
  const char *end = find_crlfcrlf (buf, len), *line, *sp1, *sp2, *eol;
  size_t head_len, content_length = 0;

  if (end == NULL)
    {
      if (len >= API_HTTP_MAX_REQUEST)
        return *why = "request headers too large", -1;
      return 0;
    }
  head_len = (size_t) (end - buf) + 4;

  /* Request line: METHOD SP PATH SP HTTP/1.x CRLF */
  eol = memchr (buf, '\r', head_len);
  sp1 = memchr (buf, ' ', (size_t) (eol - buf));
  if (sp1 == NULL)
    return *why = "malformed request line", -1;
  sp2 = memchr (sp1 + 1, ' ', (size_t) (eol - sp1 - 1));
  if (sp2 == NULL || (size_t) (sp1 - buf) >= sizeof (req->method)
      || (size_t) (sp2 - sp1 - 1) >= sizeof (req->path) || sp2 - sp1 - 1 == 0
      || (size_t) (eol - sp2 - 1) != 8 || strncmp (sp2 + 1, "HTTP/1.", 7) != 0)
    return *why = "malformed request line", -1;

  /* Headers: only Content-Length matters; Transfer-Encoding is refused. */
  for (line = eol + 2; line < end + 2; line = eol + 2)
    {
      eol = memchr (line, '\r', (size_t) (end + 2 - line));
      if (eol == NULL)
        break;
      if ((size_t) (eol - line) > 15 && strncasecmp (line, "Content-Length:", 15) == 0)
        {
          const char *p = line + 15;
          content_length = 0;
          while (p < eol && *p == ' ')
            p++;
          if (p == eol)
            return *why = "bad Content-Length", -1;
          for (; p < eol; p++)
            {
              if (*p < '0' || *p > '9' || content_length > API_HTTP_MAX_REQUEST)
                return *why = "bad Content-Length", -1;
              content_length = content_length * 10 + (size_t) (*p - '0');
            }
        }
      else if ((size_t) (eol - line) > 18 && strncasecmp (line, "Transfer-Encoding:", 18) == 0)
        return *why = "chunked bodies are not supported", -1;
    }
  if (content_length > API_HTTP_MAX_REQUEST - head_len)
    return *why = "request body too large", -1;
  if (len < head_len + content_length)
    return 0;

  memcpy (req->method, buf, (size_t) (sp1 - buf));
  req->method[sp1 - buf] = '\0';
  memcpy (req->path, sp1 + 1, (size_t) (sp2 - sp1 - 1));
  req->path[sp2 - sp1 - 1] = '\0';
  req->body = buf + head_len;
  req->body_len = content_length;
  req->total_len = head_len + content_length;
  return 1;
}

static const char *
reason (int status)
{
  switch (status)
    {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Internal Server Error";
    }
}

char *
api_http__response (int status, const char *body)
{
  char *out = NULL;
  int r;

  if (body == NULL)
    r = asprintf (&out, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n", status, reason (status));
  else
    r = asprintf (&out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                  status, reason (status), strlen (body), body);
  return r < 0 ? NULL : out;
}
