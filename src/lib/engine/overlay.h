/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's copy-on-write root: the image's layers as read-only lower
 * directories of an overlayfs, the container's own upper/work directories
 * (the seeds' union file system). */
#ifndef ARCA_ENGINE_OVERLAY_H
#define ARCA_ENGINE_OVERLAY_H

#include <stddef.h>

#include "util/error.h"

/* Mounts overlayfs at merged.  lowers[0] is the TOP layer (the last one the
 * image applies).  Layers are added one by one through fsconfig
 * ("lowerdir+"), so their number is not bounded by the mount data page. */
int arca_overlay_mount (const char *const *lowers, size_t n_lowers, const char *upper,
                        const char *work, const char *merged, arca_error **err);

/* Lazily unmounts merged; not mounted is fine. */
int arca_overlay_unmount (const char *merged, arca_error **err);

/* `arca diff`: what the container changed, from its upper directory.  kind
 * is 'A' (added), 'C' (changed: exists below too) or 'D' (deleted:
 * a whiteout).  Paths are absolute inside the container, sorted. */
struct arca_change {
  char kind;
  char *path;
};
int arca_overlay_changes (const char *upper, const char *const *lowers, size_t n_lowers,
                          struct arca_change **ret, size_t *ret_count, arca_error **err);
void arca_changes_free (struct arca_change *changes, size_t count);

#endif
