/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

static bool
in (char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

static int
gc_layers (arca_store *store, arca_db *db, struct arca_gc_stats *st, arca_error **err)
{
  cleanup_strv char **unref = NULL;
  cleanup_strv char **known = NULL;
  int fd;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (arca_db_unreferenced_layers (db, &unref, err) < 0)
    return -1;
  for (char **p = unref; *p; p++)
    {
      if (!arca_digest_is_valid (*p))
        continue;
      if (arca_rm_rf_at (arca_store_layers_fd (store), arca_digest_hex (*p), err) < 0)
        return arca_error_wrap (err, "remove layer %s", *p);
      /* EBUSY: an image took the layer again meanwhile; its dir is
       * recreated by the load that did (or the check reports it). */
      if (arca_db_delete_layer (db, *p, err) < 0)
        return -1;
      st->layers_removed++;
    }
  /* Layer dirs without a row: a load that crashed after the rename. */
  if (arca_db_layer_dirs (db, &known, err) < 0)
    return -1;
  fd = openat (arca_store_layers_fd (store), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return arca_error_errno (err, "list `%s/layers`", arca_store_root (store));
    }
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || in (known, de->d_name))
        continue;
      if (arca_rm_rf_at (arca_store_layers_fd (store), de->d_name, err) < 0)
        return arca_error_wrap (err, "remove orphan layer dir");
      st->layers_removed++;
    }
  return 0;
}

int
arca_image_gc (arca_store *store, arca_db *db, struct arca_gc_stats *ret_stats, arca_error **err)
{
  struct arca_gc_stats st = { 0 };
  cleanup_strv char **blobs = NULL;
  cleanup_strv char **refs = NULL;
  cleanup_close int lock = arca_store_lock (store, true, err);

  if (lock < 0)
    return arca_error_wrap (err, "prune image store");
  if (gc_layers (store, db, &st, err) < 0)
    return arca_error_wrap (err, "prune image store");
  if (arca_blob_list (store, &blobs, err) < 0 || arca_db_referenced_blobs (db, &refs, err) < 0)
    return arca_error_wrap (err, "prune image store");
  for (char **p = blobs; *p; p++)
    {
      if (in (refs, *p))
        continue;
      if (arca_blob_remove (store, *p, err) < 0)
        return arca_error_wrap (err, "prune image store");
      st.blobs_removed++;
    }
  if (arca_store_clean_temp (store, err) < 0)
    return arca_error_wrap (err, "prune image store");
  if (ret_stats)
    *ret_stats = st;
  return 0;
}

int
arca_image_remove (arca_store *store, arca_db *db, const char *image_id,
                   struct arca_gc_stats *ret_stats, arca_error **err)
{
  if (arca_db_remove_image (db, image_id, err) < 0)
    return -1;
  return arca_image_gc (store, db, ret_stats, err);
}
