/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging.  The library reports failures through arca_error and only logs
 * at debug level (or warnings that are not failures); the CLI front ends own
 * the arca_log instance and decide where it goes.  No global logger: a
 * struct arca_log is passed to whoever needs one (NULL = silent). */
#ifndef ARCA_UTIL_LOG_H
#define ARCA_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

enum arca_log_format { ARCA_LOG_TEXT = 0, ARCA_LOG_JSON };
enum arca_log_level { ARCA_LOG_ERROR = 0, ARCA_LOG_WARNING, ARCA_LOG_INFO, ARCA_LOG_DEBUG };

struct arca_log {
  int fd;                       /* where records go; -1 = stderr only for errors */
  enum arca_log_format format;  /* runc's --log-format */
  enum arca_log_level level;    /* records above it are dropped */
  const char *program;          /* prefix for text records */
};

void arca_log_write (const struct arca_log *log, enum arca_log_level level,
                     const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

#define arca_debug(log, ...) arca_log_write ((log), ARCA_LOG_DEBUG, __VA_ARGS__)
#define arca_warn(log, ...) arca_log_write ((log), ARCA_LOG_WARNING, __VA_ARGS__)

/* ts as RFC 3339 in UTC with nanoseconds ("2026-12-03T03:00:00.123456789Z",
 * at most 40 bytes): the one time format of logs, log files, state and
 * inspect. */
void arca_time_rfc3339 (const struct timespec *ts, char *buf, size_t size);

/* Reports err as the final error of a command: to the log (if any, in its
 * format: containerd and podman parse the json one) and to stderr. */
void arca_log_error (const struct arca_log *log, const arca_error *err);

#endif
