/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Markers of creates and removals in progress, so the next command rolls
 * back a create killed before its row committed and finishes a removal
 * killed before its row went (create-journal.c). */
#ifndef ARCA_ENGINE_CREATE_JOURNAL_H
#define ARCA_ENGINE_CREATE_JOURNAL_H

#include "engine/engine.h"

/* Before a create makes anything: ROOT/creating/ID, locked; *ret_fd holds
 * the lock. */
int arca_create_journal_begin (struct arca_engine *e, const char *id, int *ret_fd,
                               arca_error **err);
/* After the row committed or the create's own undo ran (fd -1: nothing). */
void arca_create_journal_end (struct arca_engine *e, const char *id, int fd);
/* Rolls back every create whose marker nobody holds and whose row never
 * committed: unmounts its root, removes its directory and network rows. */
int arca_create_journal_recover (struct arca_engine *e, unsigned *ret_rolled_back,
                                 arca_error **err);

/* Before rm takes anything apart: ROOT/removing/ID, locked. */
int arca_remove_journal_begin (struct arca_engine *e, const char *id, int *ret_fd,
                               arca_error **err);
/* After the row is gone (fd -1: nothing).  A removal that failed only
 * closes fd: its marker stays, and the next command retries it. */
void arca_remove_journal_end (struct arca_engine *e, const char *id, int fd);
/* Calls finish for every removal whose marker nobody holds; finish removes
 * what is left of the container, its row last, and journals itself. */
int arca_remove_journal_recover (struct arca_engine *e,
                                 int (*finish) (struct arca_engine *, const char *id,
                                                arca_error **),
                                 unsigned *ret_finished, arca_error **err);

#endif
