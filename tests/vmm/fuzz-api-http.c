/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the control API's HTTP parser: it must never read
 * past the buffer, and a parsed request must lie inside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api-http.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A copy of exactly size bytes, so ASan sees any overread. */
  char *buf = malloc (size ? size : 1);
  size_t off = 0;

  if (buf == NULL)
    return 0;
  memcpy (buf, data, size);
  while (off < size)
    {
      struct api_http_request req;
      const char *why = NULL;
      if (api_http__parse (buf + off, size - off, &req, &why) != 1)
        break;
      if (req.total_len == 0 || req.total_len > size - off
          || req.body < buf + off || req.body + req.body_len > buf + off + req.total_len)
        abort ();
      off += req.total_len;
    }
  free (buf);
  return 0;
}
