/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Used when we cannot even allocate the message: the error is still
 * reported, with a fixed text. */
static char oom_message[] = "out of memory while reporting an error";

static arca_error *
error_alloc (int errnum, char *msg)
{
  arca_error *e = calloc (1, sizeof (*e));
  if (e == NULL)
    {
      free (msg);
      return NULL;
    }
  e->errnum = errnum;
  e->msg = msg ? msg : oom_message;
  return e;
}

int
arca_error_set (arca_error **err, int errnum, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;

  if (err == NULL)
    return -1;
  /* A second error would lose the first: keep the first, it is the cause. */
  if (*err != NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  *err = error_alloc (errnum, msg);
  return -1;
}

int
arca_error_wrap (arca_error **err, const char *fmt, ...)
{
  cleanup_free char *prefix = NULL;
  char *msg = NULL;
  va_list ap;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&prefix, fmt, ap) < 0)
    prefix = NULL;
  va_end (ap);
  if (prefix == NULL || asprintf (&msg, "%s: %s", prefix, (*err)->msg) < 0)
    return -1;
  if ((*err)->msg != oom_message)
    free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

char *
arca_error_string (const arca_error *err)
{
  char *out = NULL;
  int r;

  if (err == NULL)
    return strdup ("unknown error");
  if (err->errnum != 0)
    r = asprintf (&out, "%s: %s", err->msg, strerror (err->errnum));
  else
    r = asprintf (&out, "%s", err->msg);
  return r < 0 ? NULL : out;
}

void
arca_error_free (arca_error *err)
{
  if (err == NULL)
    return;
  if (err->msg != oom_message)
    free (err->msg);
  free (err);
}

void
arca_error_freep (arca_error **err)
{
  if (err == NULL)
    return;
  arca_error_free (*err);
  *err = NULL;
}
