/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A newc cpio writer for `arca run --vm` initramfs archives (the format the
 * kernel unpacks; archives may be concatenated). */
#ifndef ARCA_ENGINE_VM_CPIO_H
#define ARCA_ENGINE_VM_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct arca_cpio {
  int fd;          /* not owned */
  uint32_t ino;
};

/* A directory, a file with data, or a symlink (data = its target). */
int arca_cpio_add (struct arca_cpio *w, const char *name, mode_t mode, const void *data,
                   size_t len, arca_error **err);
/* A regular file copied from a host path. */
int arca_cpio_add_file (struct arca_cpio *w, const char *name, mode_t mode, const char *path,
                        arca_error **err);
/* Every entry under dir (its directories, files, symlinks and device
 * nodes, owners and modes kept) named prefix/<relative path>. */
int arca_cpio_add_tree (struct arca_cpio *w, const char *prefix, const char *dir,
                        arca_error **err);
int arca_cpio_finish (struct arca_cpio *w, arca_error **err);

#endif
