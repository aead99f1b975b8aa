/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca system check [--repair]`, `arca system prune`, `arca image prune`,
 * `arca container prune`.
 *
 * The check extends the image store's (image/check.h) to what the engine
 * leaves on the host: container rows and directories, volume rows and
 * directories, mounts under the store, the runtime state and the cgroups of
 * containers that are gone.  A cgroup /sys/fs/cgroup/<controller>/arca/<id>
 * counts as this store's when the store still knows the id (a row, a
 * directory or runtime state): other stores share that parent, and their
 * containers are none of our business. */
#ifndef ARCA_ENGINE_SYSTEM_H
#define ARCA_ENGINE_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"
#include "image/gc.h"
#include "util/error.h"

struct arca_system_report {
  char **problems;       /* damage repair cannot undo (a missing or corrupt blob) */
  char **garbage;        /* orphans: removed when repaired */
  size_t blobs_checked, layers_checked, containers_checked, volumes_checked;
  bool repaired;
};
void arca_system_report_free (struct arca_system_report *r);
void arca_system_report_freep (struct arca_system_report **r);
#define cleanup_system_report __attribute__ ((cleanup (arca_system_report_freep)))

int arca_engine_system_check (struct arca_engine *e, bool repair,
                              struct arca_system_report **ret, arca_error **err);

/* Removes the containers that do not run (created or exited); their ids go
 * to *ret_removed (may be NULL). */
int arca_engine_container_prune (struct arca_engine *e, char ***ret_removed, arca_error **err);

/* Build steps record the image each step's image was made from.  Like
 * Docker's, an untagged image something was made from is an intermediate
 * image: `images` shows it only with -a, `image prune` keeps it, and it goes
 * with the last image made from it. */
int arca_engine_image_parent_add (struct arca_engine *e, const char *image_id,
                                  const char *parent_id, arca_error **err);
/* Ids of the intermediate images. */
int arca_engine_image_intermediates (struct arca_engine *e, char ***ret, arca_error **err);

/* Removes an image, then its untagged parents that nothing else was made
 * from and no container uses, then the store's garbage.  The removed ids
 * (the image first) to *ret_removed (may be NULL). */
int arca_engine_image_remove (struct arca_engine *e, const char *image_id, char ***ret_removed,
                              struct arca_gc_stats *ret_gc, arca_error **err);

/* Removes the images no container uses and nothing was made from:
 * untagged (dangling) ones, or all with all, each with its intermediate
 * parents; then collects the store's garbage.  Removed image ids to
 * *ret_removed. */
int arca_engine_image_prune (struct arca_engine *e, bool all, char ***ret_removed,
                             struct arca_gc_stats *ret_gc, arca_error **err);

struct arca_system_prune {
  bool all;              /* -a: every unused image, not only untagged ones */
  bool volumes;          /* --volumes: unused anonymous volumes too */
  size_t containers, images, volumes_removed;
  struct arca_gc_stats gc;
};
int arca_engine_system_prune (struct arca_engine *e, struct arca_system_prune *p,
                              arca_error **err);

#endif
