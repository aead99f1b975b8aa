/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing NULL-terminated string vectors (char **), freed with
 * arca_strv_free() or cleanup_strv (util/cleanup.h).
 *
 * *v may be NULL: an empty vector.  n, when not NULL, holds the number of
 * entries of *v and is kept up to date; when NULL the entries are counted
 * on every call (fine for a handful of flags, not for long lists).
 *
 * String helpers: they can only fail with ENOMEM and then return -1 with
 * errno set, leaving *v (still NULL-terminated) and *n as they were. */
#ifndef ARCA_UTIL_STRV_H
#define ARCA_UTIL_STRV_H

#include <stddef.h>

size_t arca_strv_length (char *const *v);

/* Appends a copy of s. */
int arca_strv_append (char ***v, size_t *n, const char *s);
/* Appends a copy of the first len bytes of s (at most: strndup). */
int arca_strv_append_len (char ***v, size_t *n, const char *s, size_t len);
/* Appends s itself, which the vector then owns; on failure s is freed.
 * A NULL s (a failed strdup/asprintf of the caller) fails with ENOMEM, so
 * `arca_strv_take (&v, &n, strdup (x))` needs one check. */
int arca_strv_take (char ***v, size_t *n, char *s);
/* Appends a formatted string. */
int arca_strv_appendf (char ***v, size_t *n, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
