/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing regular files into a tar with libarchive: what building an image
 * archive in memory (import, the busybox image, pulled images) needs. */
#ifndef ARCA_IMAGE_TAR_WRITE_H
#define ARCA_IMAGE_TAR_WRITE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct archive;

/* A file with content from memory (mode 0644). */
int arca_tar_add_bytes (struct archive *a, const char *path, const void *data, size_t len,
                        arca_error **err);

/* A file with the content of fd from its start, size bytes (mode 0644). */
int arca_tar_add_fd (struct archive *a, const char *path, int fd, off_t size, arca_error **err);

#endif
