/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gc.h"
#include "util/cleanup.h"
#include "util/strv.h"

void
arca_check_report_free (struct arca_check_report *r)
{
  if (r == NULL)
    return;
  arca_strv_free (r->problems);
  arca_strv_free (r->garbage);
  free (r);
}

void
arca_check_report_freep (struct arca_check_report **r)
{
  arca_check_report_free (*r);
}

static bool
in (char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

static int
check_blobs (arca_store *store, arca_db *db, struct arca_check_report *r, arca_error **err)
{
  cleanup_strv char **refs = NULL;
  cleanup_strv char **blobs = NULL;

  if (arca_db_referenced_blobs (db, &refs, err) < 0 || arca_blob_list (store, &blobs, err) < 0)
    return -1;
  for (char **p = refs; *p; p++)
    {
      cleanup_error arca_error *verr = NULL;
      r->blobs_checked++;
      if (arca_blob_verify (store, *p, &verr) == 0)
        continue;
      if (arca_strv_append (&r->problems, NULL, verr->msg) < 0)
        return arca_error_errno (err, "check blobs");
    }
  for (char **p = blobs; *p; p++)
    if (!in (refs, *p)
        && arca_strv_appendf (&r->garbage, NULL, "blob %s is not referenced", *p) < 0)
      return arca_error_errno (err, "check blobs");
  return 0;
}

static int
check_layers (arca_store *store, arca_db *db, struct arca_check_report *r, arca_error **err)
{
  cleanup_strv char **dirs = NULL;
  cleanup_strv char **unref = NULL;
  int lfd = arca_store_layers_fd (store);
  int fd;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (arca_db_layer_dirs (db, &dirs, err) < 0 || arca_db_unreferenced_layers (db, &unref, err) < 0)
    return -1;
  for (char **p = dirs; *p; p++)
    {
      struct stat st;
      r->layers_checked++;
      if (fstatat (lfd, *p, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
        if (arca_strv_appendf (&r->problems, NULL, "layer dir `layers/%s` is missing", *p) < 0)
          return arca_error_errno (err, "check layers");
    }
  for (char **p = unref; *p; p++)
    if (arca_strv_appendf (&r->garbage, NULL, "layer %s is not referenced", *p) < 0)
      return arca_error_errno (err, "check layers");
  fd = openat (lfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return arca_error_errno (err, "list `%s/layers`", arca_store_root (store));
    }
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && !in (dirs, de->d_name)
        && arca_strv_appendf (&r->garbage, NULL, "layer dir `layers/%s` has no database row",
                              de->d_name)
               < 0)
      return arca_error_errno (err, "check layers");
  return 0;
}

int
arca_image_check (arca_store *store, arca_db *db, bool fix, struct arca_check_report **ret_report,
                  arca_error **err)
{
  cleanup_check_report struct arca_check_report *r = calloc (1, sizeof (*r));
  cleanup_strv char **temps = NULL;
  cleanup_close int lock = -1;

  if (r == NULL || (r->garbage = calloc (1, sizeof (char *))) == NULL)
    return arca_error_errno (err, "check image store");
  /* Exclusive, so a running load's files (blobs before their rows) are not
   * reported as garbage; released before gc, which takes it again. */
  lock = arca_store_lock (store, true, err);
  if (lock < 0 || arca_db_check (db, &r->problems, err) < 0 || check_blobs (store, db, r, err) < 0
      || check_layers (store, db, r, err) < 0 || arca_store_stale_temps (store, &temps, err) < 0)
    return arca_error_wrap (err, "check image store");
  for (char **p = temps; *p; p++)
    if (arca_strv_appendf (&r->garbage, NULL, "temp `%s` of a dead writer", *p) < 0)
      return arca_error_errno (err, "check image store");
  arca_closep (&lock);
  if (fix && r->garbage[0] != NULL)
    {
      if (arca_image_gc (store, db, NULL, err) < 0)
        return arca_error_wrap (err, "check image store");
      r->fixed = true;
    }
  *ret_report = move_ptr (r);
  return 0;
}
