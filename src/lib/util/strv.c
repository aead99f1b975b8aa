/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strv.h"

size_t
arca_strv_length (char *const *v)
{
  size_t n = 0;

  while (v && v[n])
    n++;
  return n;
}

int
arca_strv_take (char ***v, size_t *n, char *s)
{
  if (s == NULL)
    {
      errno = ENOMEM;
      return -1;
    }
  size_t count = n ? *n : arca_strv_length (*v);
  char **grown = realloc (*v, (count + 2) * sizeof *grown);
  if (grown == NULL)
    {
      free (s);
      errno = ENOMEM;
      return -1;
    }
  grown[count] = s;
  grown[count + 1] = NULL;
  *v = grown;
  if (n)
    *n = count + 1;
  return 0;
}

int
arca_strv_append (char ***v, size_t *n, const char *s)
{
  return arca_strv_take (v, n, strdup (s));
}

int
arca_strv_append_len (char ***v, size_t *n, const char *s, size_t len)
{
  return arca_strv_take (v, n, strndup (s, len));
}

int
arca_strv_appendf (char ***v, size_t *n, const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  int r = vasprintf (&s, fmt, ap);
  va_end (ap);
  return arca_strv_take (v, n, r < 0 ? NULL : s);
}
