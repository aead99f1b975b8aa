/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca's one error convention: see docs/conventions.md.
 *
 * Every fallible library function returns an int (>= 0 success, < 0 failure)
 * and takes `arca_error **err` as its LAST argument.  On failure it fills
 * *err with the errno and a message that names what failed and on which
 * path; callers add context with arca_error_wrap() while propagating. */
#ifndef ARCA_UTIL_ERROR_H
#define ARCA_UTIL_ERROR_H

#include <stdio.h>

typedef struct arca_error {
  int errnum;   /* errno value, 0 when the failure is not a system error */
  char *msg;    /* "what failed `path`", no trailing period, no newline */
} arca_error;

/* Sets *err (which must be NULL) and returns -1.  errnum 0 means "no errno". */
int arca_error_set (arca_error **err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Same, errnum taken from errno. */
#define arca_error_errno(err, ...) arca_error_set ((err), errno, __VA_ARGS__)

/* Prefixes context to an existing error ("context: old message"); returns -1. */
int arca_error_wrap (arca_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Renders "msg: strerror(errnum)" into a newly allocated string. */
char *arca_error_string (const arca_error *err);

void arca_error_free (arca_error *err);
void arca_error_freep (arca_error **err);
#define cleanup_error __attribute__ ((cleanup (arca_error_freep)))

#endif
