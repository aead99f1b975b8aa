/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's log: one JSON object per line, the format of Docker's
 * json-file driver ({"log":"text\n","stream":"stdout","time":"RFC 3339"}),
 * so tools that read Docker logs read ours.  Bounded by size with rotation:
 * the current file is renamed to NAME.1 (NAME.1 to NAME.2, ...) only after
 * it was fsync'ed, and a new one is opened, so a reader never finds the
 * current file missing or half-moved. */
#ifndef ARCA_ENGINE_LOGFILE_H
#define ARCA_ENGINE_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct arca_logfile;

/* max_size 0 = unbounded; max_files >= 1 counts the current file. */
int arca_logfile_open (const char *path, uint64_t max_size, unsigned max_files,
                       struct arca_logfile **ret, arca_error **err);

/* Appends data from a stream ("stdout"/"stderr").  Complete lines become one
 * record each; a trailing partial line is kept until its newline arrives or
 * arca_logfile_flush() is called (or it grows past 16 KiB). */
int arca_logfile_write (struct arca_logfile *log, const char *stream, const char *data,
                        size_t len, arca_error **err);

/* Writes out any partial lines (at container exit). */
int arca_logfile_flush (struct arca_logfile *log, arca_error **err);

void arca_logfile_close (struct arca_logfile *log);
void arca_logfile_closep (struct arca_logfile **log);
#define cleanup_logfile __attribute__ ((cleanup (arca_logfile_closep)))

/* Reading, for `logs`: calls fn for each record of the file and its rotated
 * predecessors, oldest first.  tail > 0 keeps only the last `tail` records;
 * since_ns > 0 skips records older than that (ns since the epoch). */
struct arca_log_record {
  const char *stream;
  const char *text;      /* with its newline, as the container wrote it */
  size_t len;
  const char *time;      /* RFC 3339 */
  int64_t time_ns;
};
typedef int (*arca_log_record_fn) (const struct arca_log_record *rec, void *userdata);
int arca_logfile_read (const char *path, unsigned max_files, size_t tail, int64_t since_ns,
                       arca_log_record_fn fn, void *userdata, arca_error **err);
/* The same, with the current file read through current_fd (from its
 * start); *ret_end: the end of its last complete record, where following
 * it goes on without losing or repeating a record. */
int arca_logfile_read_fd (const char *path, int current_fd, unsigned max_files, size_t tail,
                          int64_t since_ns, arca_log_record_fn fn, void *userdata,
                          off_t *ret_end, arca_error **err);

/* "2026-11-22T03:00:00.123456789Z" -> ns since the epoch; -1 if malformed. */
int64_t arca_rfc3339_to_ns (const char *text);

#endif
