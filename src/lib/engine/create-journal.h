/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Markers of creates in progress, so the next command rolls back a create
 * that was killed before its row committed (create-journal.c). */
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

#endif
