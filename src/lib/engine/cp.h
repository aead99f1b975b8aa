/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files in and out of a container's root: `arca cp`, `arca export`,
 * `arca diff`, and the copy that fills a new volume from the image.
 *
 * Paths inside a container are resolved with RESOLVE_IN_ROOT and the walk
 * below them never follows a symlink (every step is an *at() call with
 * O_NOFOLLOW / AT_SYMLINK_NOFOLLOW on a directory fd), so a link planted in
 * the container cannot make arca read or write a host file. */
#ifndef ARCA_ENGINE_CP_H
#define ARCA_ENGINE_CP_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"
#include "engine/overlay.h"
#include "util/error.h"

struct arca_cp_options {
  bool archive;     /* -a: keep uid/gid (else the copies belong to us, i.e. root) */
  bool follow_link; /* -L: a source that is a symlink is followed (in the container's
                     * root for a container path) and its target copied under the
                     * link's name; links below a copied directory stay links */
};

/* Copies the entry name below src_dirfd (not followed when a symlink) to
 * dst_name below dst_dirfd, recursively for a directory; an existing
 * directory is merged into, an existing non-directory replaced. */
int arca_copy_tree_at (int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name,
                       const struct arca_cp_options *opts, arca_error **err);
/* Copies what the directory src_dirfd holds into the directory dst_dirfd
 * (both opened O_RDONLY or O_PATH with O_DIRECTORY). */
int arca_copy_contents_at (int src_dirfd, int dst_dirfd, const struct arca_cp_options *opts,
                           arca_error **err);

/* `arca cp`: one of src/dst is CONTAINER:PATH, the other a host path, or
 * "-": a tar stream on stdout (as DST) or from stdin (as SRC, into a directory). */
int arca_engine_cp (struct arca_engine *e, const char *src, const char *dst,
                    const struct arca_cp_options *opts, arca_error **err);

/* Writes a tar of the container's whole root to out_fd. */
int arca_engine_export (struct arca_engine *e, const char *name_or_id, int out_fd,
                        arca_error **err);

/* `arca diff`: see arca_overlay_changes. */
int arca_engine_diff (struct arca_engine *e, const char *name_or_id, struct arca_change **ret,
                      size_t *ret_count, arca_error **err);

/* The container's root, mounted if it is not (a stopped container): an
 * O_PATH fd of it and whether this call mounted it, for arca_engine_root_close. */
struct arca_engine_root {
  int fd;
  bool mounted_here;
  char *merged;
  char id[ARCA_ENGINE_ID_LEN + 1];
};
int arca_engine_root_open (struct arca_engine *e, const char *name_or_id,
                           struct arca_engine_root *ret, arca_error **err);
void arca_engine_root_close (struct arca_engine *e, struct arca_engine_root *root);

#endif
