/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared inside the engine concern only. */
#ifndef ARCA_ENGINE_INTERNAL_H
#define ARCA_ENGINE_INTERNAL_H

#include <stdint.h>

#include "util/error.h"

struct arca_engine;

/* Sleeps *ms and doubles it up to 50 ms: polls start fast (a short
 * container is done in a few ms) and slow down, so neither latency nor an
 * idle `logs -f` costs much. */
void arca_engine_backoff_sleep (unsigned *ms);
/* CLOCK_MONOTONIC in ms, for the engine's deadlines. */
int64_t arca_engine_now_ms (void);

/* A container name that is valid and not taken (EINVAL, EEXIST): checked
 * before anything of a new container or `run --vm -d` record is made. */
int arca_engine_check_name (struct arca_engine *e, const char *name, arca_error **err);

/* Finishes the removal of container id a killed `rm` left (containers.c):
 * for arca_remove_journal_recover. */
int arca_engine_finish_removal (struct arca_engine *e, const char *id, arca_error **err);

#endif
