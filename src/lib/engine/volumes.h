/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volumes: directories that outlive containers, <root>/volumes/<name>/_data,
 * with a row in the `volumes` table and one row in `volume_users` per
 * container that mounts it.
 *
 * A use row is written before its container's row, so a crash in between
 * leaves a use row that names no container: every "in use" question joins
 * with `containers`, and such rows are ignored and swept by prune and
 * `system check --repair`.  Files come before rows when creating, rows go
 * before files when removing, as in the image store. */
#ifndef ARCA_ENGINE_VOLUMES_H
#define ARCA_ENGINE_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/spec.h"
#include "util/error.h"

struct arca_volume {
  char *name;
  int64_t created;     /* unix seconds */
  bool anonymous;      /* made for an image's VOLUME or `-v /path` */
  char *mountpoint;    /* <root>/volumes/<name>/_data */
  char **users;        /* ids of the existing containers that mount it */
};
void arca_volume_free (struct arca_volume *v);
void arca_volume_freep (struct arca_volume **v);
void arca_volumes_free (struct arca_volume **v);
#define cleanup_volume __attribute__ ((cleanup (arca_volume_freep)))

/* Creates the tables if needed (every function below does it too). */
int arca_volume_schema (struct arca_engine *e, arca_error **err);

/* name NULL: an anonymous volume with a random 64-hex name.  An existing
 * name is fine (Docker's `volume create` is idempotent); *ret_name (may be
 * NULL) gets the name. */
int arca_volume_create (struct arca_engine *e, const char *name, bool anonymous, char **ret_name,
                        arca_error **err);
/* ENOENT "no such volume". */
int arca_volume_get (struct arca_engine *e, const char *name, struct arca_volume **ret,
                     arca_error **err);
/* All volumes by name, NULL-terminated. */
int arca_volume_list (struct arca_engine *e, struct arca_volume ***ret, arca_error **err);
/* EBUSY when a container mounts it; with force those containers are
 * removed first (podman's `volume rm -f`). */
int arca_volume_remove (struct arca_engine *e, const char *name, bool force, arca_error **err);
/* Removes unused volumes: anonymous ones, or every one with all.  The
 * removed names go to *ret_removed (may be NULL). */
int arca_volume_prune (struct arca_engine *e, bool all, char ***ret_removed, arca_error **err);

/* ---- for arca_engine_create / remove ------------------------------------ */

/* The mounts of a new container with its volumes resolved: a mount whose
 * source is a name (`-v NAME:/path`) gets that volume (created when
 * missing), a non-tmpfs mount without source (`-v /path`) and every image
 * VOLUME path no mount covers get a new anonymous volume.  A volume that is
 * empty is first filled from the image's content at the mount's path
 * (Docker does).  merged is the container's mounted root. */
struct arca_volume_plan {
  struct arca_engine *e;
  struct arca_run_mount *mounts;  /* owned; give these to the spec */
  size_t n_mounts;
  char **names;                   /* the volumes it mounts */
  char **created;                 /* made by this plan: removed again unless keep */
  bool keep;                      /* set once the container's row exists */
};
int arca_volume_plan_build (struct arca_engine *e, const char *merged,
                            const struct arca_run_mount *mounts, size_t n_mounts,
                            char *const *image_volumes, struct arca_volume_plan **ret,
                            arca_error **err);
/* Records that container_id uses the plan's volumes; call it before the
 * container's row is inserted, set plan->keep after. */
int arca_volume_plan_commit (struct arca_engine *e, const struct arca_volume_plan *plan,
                             const char *container_id, arca_error **err);
void arca_volume_plan_free (struct arca_volume_plan *plan);
void arca_volume_plan_freep (struct arca_volume_plan **plan);
#define cleanup_volume_plan __attribute__ ((cleanup (arca_volume_plan_freep)))

/* After a container is removed: forgets its uses and, with
 * remove_anonymous (`rm -v`, `--rm`), removes its anonymous volumes that no
 * other container mounts. */
int arca_volume_release (struct arca_engine *e, const char *container_id, bool remove_anonymous,
                         arca_error **err);

#endif
