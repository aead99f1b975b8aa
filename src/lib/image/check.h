/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca system check`: verifies that the image store and its database
 * agree.  Problems (missing or corrupt blobs, missing layer dirs, database
 * damage) are reported; garbage (unreferenced blobs and layers, layer dirs
 * without rows, temps of dead writers) is reported and, with fix, removed
 * by the garbage collector. */
#ifndef ARCA_IMAGE_CHECK_H
#define ARCA_IMAGE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "store.h"
#include "util/error.h"

struct arca_check_report
{
  char **problems;      /* damage that fix cannot repair, one sentence each */
  char **garbage;       /* what gc removes (or removed, with fix) */
  size_t blobs_checked; /* referenced blobs re-hashed */
  size_t layers_checked;
  bool fixed; /* the garbage was removed */
};

void arca_check_report_free (struct arca_check_report *r);
void arca_check_report_freep (struct arca_check_report **r);
#define cleanup_check_report __attribute__ ((cleanup (arca_check_report_freep)))

int arca_image_check (arca_store *store, arca_db *db, bool fix,
                      struct arca_check_report **ret_report, arca_error **err);

#endif
