/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the runtime remembers about a container between commands: one
 * directory per container below the state root (--root), holding
 *   state.json   the record below, written atomically (temp + rename)
 *   config.json  the config the container was created from
 *   start.sock   while the container is "created": init waits on it
 * Commands that change a container hold flock(LOCK_EX) on the directory;
 * readers (state, list) need no lock because every file is replaced
 * atomically. */
#ifndef ARCA_CONTAINER_STATE_H
#define ARCA_CONTAINER_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

enum arca_container_status {
  ARCA_STATUS_CREATING = 0,
  ARCA_STATUS_CREATED,
  ARCA_STATUS_RUNNING,
  ARCA_STATUS_PAUSED,
  ARCA_STATUS_STOPPED,
};

struct arca_container_record {
  char *id;
  char *bundle;          /* absolute */
  char *rootfs;          /* absolute */
  char *created;         /* RFC 3339 with nanoseconds, UTC */
  char *cgroup_path;     /* as resolved at create */
  pid_t pid;             /* host pid of init */
  uint64_t pid_start;    /* its start time (field 22 of /proc/pid/stat) */
  uid_t owner;
};

#define ARCA_STATE_FILE "state.json"
#define ARCA_CONFIG_FILE "config.json"
#define ARCA_START_SOCKET "start.sock"
/* Written as soon as the cgroup exists, so a create that was killed half
 * way can still be cleaned up by delete. */
#define ARCA_CGROUP_FILE "cgroup"

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 bytes (they are
 * directory names and cgroup names). */
int arca_container_id_validate (const char *id, arca_error **err);

/* Makes <root>/<id> (the root too, mode 0700) and returns it open and
 * locked.  An existing id is "container `id` already exists". */
int arca_state_dir_create (const char *root, const char *id, int *ret_dirfd, arca_error **err);

/* Opens an existing container's directory, locked when lock is true.  A
 * missing one is "container `id` does not exist". */
int arca_state_dir_open (const char *root, const char *id, bool lock, int *ret_dirfd,
                         arca_error **err);

/* Removes <root>/<id> and everything in it. */
int arca_state_dir_remove (const char *root, const char *id, arca_error **err);

int arca_record_save (int dirfd, const struct arca_container_record *rec, arca_error **err);
/* *ret_rec is NULL (and 0 returned) while there is no state.json yet. */
int arca_record_load (int dirfd, struct arca_container_record **ret_rec, arca_error **err);
void arca_record_free (struct arca_container_record *rec);
void arca_record_freep (struct arca_container_record **rec);
#define cleanup_record __attribute__ ((cleanup (arca_record_freep)))

/* Whether pid is alive and still the process that started at start_time. */
bool arca_pid_is (pid_t pid, uint64_t start_time);
/* Start time of a live, non-zombie process. */
int arca_pid_start_time (pid_t pid, uint64_t *ret_start, arca_error **err);

/* Derives the status (see the top of this file; frozen comes from the
 * cgroup freezer). */
int arca_container_status (const char *cgroup_root, int dirfd,
                           const struct arca_container_record *rec,
                           enum arca_container_status *ret_status, arca_error **err);
const char *arca_container_status_name (enum arca_container_status status);

/* The current time as RFC 3339 with nanoseconds ("2026-11-22T02:45:41.123456789Z"). */
int arca_now_rfc3339 (char **ret, arca_error **err);

#endif
