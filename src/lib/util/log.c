/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

static const char *const level_names[] = { "error", "warning", "info", "debug" };

static void
emit (const struct arca_log *log, enum arca_log_level level, const char *msg)
{
  cleanup_free char *line = NULL;
  struct timespec ts;
  char stamp[64];
  int r;

  if (log == NULL || log->fd < 0)
    return;
  clock_gettime (CLOCK_REALTIME, &ts);
  arca_time_rfc3339 (&ts, stamp, sizeof stamp);
  if (log->format == ARCA_LOG_JSON)
    {
      json_t *rec = json_pack ("{s:s, s:s, s:s}", "level", level_names[level],
                               "msg", msg, "time", stamp);
      char *s = rec ? json_dumps (rec, JSON_COMPACT) : NULL;
      json_decref (rec);
      if (s == NULL)
        return;
      r = asprintf (&line, "%s\n", s);
      free (s);
    }
  else
    r = asprintf (&line, "%s[%s] %s: %s\n", stamp, level_names[level],
                  log->program ? log->program : "arca", msg);
  if (r > 0 && write (log->fd, line, (size_t) r) < 0)
    return;
}

void
arca_time_rfc3339 (const struct timespec *ts, char *buf, size_t size)
{
  struct tm tm;

  gmtime_r (&ts->tv_sec, &tm);
  snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
}

void
arca_log_write (const struct arca_log *log, enum arca_log_level level,
                const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  if (log == NULL || level > log->level || log->fd < 0)
    return;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg)
    emit (log, level, msg);
}

void
arca_log_error (const struct arca_log *log, const arca_error *err)
{
  cleanup_free char *text = arca_error_string (err);
  const char *program = log && log->program ? log->program : "arca";

  if (text == NULL)
    return;
  emit (log, ARCA_LOG_ERROR, text);
  if (log == NULL || log->fd != STDERR_FILENO)
    fprintf (stderr, "%s: %s\n", program, text);
}
