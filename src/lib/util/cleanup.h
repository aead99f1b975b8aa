/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scope-bound resources.  Declare with cleanup_*, hand ownership on with
 * move_ptr()/move_fd() so the cleanup of the giving scope becomes a no-op. */
#ifndef ARCA_UTIL_CLEANUP_H
#define ARCA_UTIL_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__ ((cleanup (f)))

static inline void
arca_freep (void *p)
{
  free (*(void **) p);
}

/* Closing must not clobber the errno the caller is about to report. */
static inline void
arca_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
      *fd = -1;
    }
}

static inline void
arca_fclosep (FILE **f)
{
  if (*f != NULL)
    {
      int saved = errno;
      fclose (*f);
      errno = saved;
    }
}

static inline void
arca_closedirp (DIR **d)
{
  if (*d != NULL)
    {
      int saved = errno;
      closedir (*d);
      errno = saved;
    }
}

/* NULL-terminated string vectors. */
static inline void
arca_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free (*p);
  free (v);
}

static inline void
arca_strv_freep (char ***v)
{
  arca_strv_free (*v);
}

#define cleanup_free _cleanup_ (arca_freep)
#define cleanup_close _cleanup_ (arca_closep)
#define cleanup_file _cleanup_ (arca_fclosep)
#define cleanup_dir _cleanup_ (arca_closedirp)
#define cleanup_strv _cleanup_ (arca_strv_freep)

/* Ownership transfer: returns the value and disarms the variable. */
#define move_ptr(p)                                                           \
  ({                                                                          \
    __typeof__ (p) moved__ = (p);                                             \
    (p) = NULL;                                                               \
    moved__;                                                                  \
  })

#define move_fd(fd)                                                           \
  ({                                                                          \
    int moved__ = (fd);                                                       \
    (fd) = -1;                                                                \
    moved__;                                                                  \
  })

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))
#define LIKELY(x) __builtin_expect (!!(x), 1)
#define UNLIKELY(x) __builtin_expect (!!(x), 0)

#endif
