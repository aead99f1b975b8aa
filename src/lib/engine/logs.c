/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca logs`: the container's log records, and following them while it
 * runs (rotation included). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/logfile.h"
#include "util/cleanup.h"

#define LOG_MAX_FILES 3


struct log_out {
  int out_fd, err_fd;
  bool timestamps;
};

static int
print_record (const struct arca_log_record *rec, void *userdata)
{
  struct log_out *o = userdata;
  int fd = strcmp (rec->stream, "stderr") == 0 ? o->err_fd : o->out_fd;

  if (o->timestamps)
    dprintf (fd, "%s ", rec->time);
  for (size_t off = 0; off < rec->len;)
    {
      ssize_t n = write (fd, rec->text + off, rec->len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      off += (size_t) n;
    }
  return 0;
}

/* Prints the complete lines that arrived after offset. */
static void
follow_chunk (int fd, off_t *offset, char **pending, size_t *pending_len, struct log_out *o)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = pread (fd, buf, sizeof buf, *offset);
      if (n <= 0)
        return;
      *offset += n;
      char *grown = realloc (*pending, *pending_len + (size_t) n + 1);
      if (grown == NULL)
        return;
      *pending = grown;
      memcpy (*pending + *pending_len, buf, (size_t) n);
      *pending_len += (size_t) n;
      char *start = *pending, *nl;
      while ((nl = memchr (start, '\n', (size_t) (*pending + *pending_len - start))))
        {
          json_t *rec = json_loadb (start, (size_t) (nl - start), 0, NULL);
          json_t *text = json_object_get (rec, "log");
          struct arca_log_record r = {
            .stream = json_string_value (json_object_get (rec, "stream")),
            .text = json_string_value (text),
            .len = json_string_length (text),
            .time = json_string_value (json_object_get (rec, "time")),
          };
          if (r.stream && r.text && r.time)
            print_record (&r, o);
          json_decref (rec);
          start = nl + 1;
        }
      *pending_len = (size_t) (*pending + *pending_len - start);
      memmove (*pending, start, *pending_len);
    }
}

int
arca_engine_logs (struct arca_engine *e, const char *name_or_id,
                  const struct arca_logs_options *opts, int out_fd, int err_fd, arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free char *path = NULL;
  struct log_out o = { .out_fd = out_fd, .err_fd = err_fd, .timestamps = opts->timestamps };

  if (arca_engine_get (e, name_or_id, &c, err) < 0
      || arca_engine_container_dir (e, c->id, "ctr.log", &path, err) < 0)
    return -1;
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  off_t offset = 0;
  /* Following goes on from the end of what the snapshot read, not from the
   * size seen before it: the monitor appends meanwhile. */
  if (arca_logfile_read_fd (path, fd, LOG_MAX_FILES, opts->tail, opts->since_ns, print_record, &o,
                            &offset, err) < 0)
    return -1;
  if (!opts->follow)
    return 0;
  char id[ARCA_ENGINE_ID_LEN + 1];
  memcpy (id, c->id, sizeof id);
  cleanup_free char *pending = NULL;
  size_t pending_len = 0;
  unsigned pause_ms = 1;
  for (;;)
    {
      off_t before = offset;
      if (fd < 0)
        {
          fd = open (path, O_RDONLY | O_CLOEXEC);
          offset = 0;
        }
      if (fd >= 0)
        follow_chunk (fd, &offset, &pending, &pending_len, &o);
      /* Rotated: finish the old file, continue with the new one. */
      struct stat now, cur;
      if (fd >= 0 && stat (path, &now) == 0 && fstat (fd, &cur) == 0 && now.st_ino != cur.st_ino)
        {
          close (fd);
          fd = -1;
          pending_len = 0;
          continue;
        }
      arca_engine_container_freep (&c);
      cleanup_error arca_error *gone = NULL;
      if (arca_engine_get (e, id, &c, &gone) < 0 || c->status == ARCA_ENGINE_EXITED
          || c->status == ARCA_ENGINE_CREATED)
        {
          if (fd >= 0)
            follow_chunk (fd, &offset, &pending, &pending_len, &o);
          return 0;
        }
      if (offset != before)
        pause_ms = 1;
      arca_engine_backoff_sleep (&pause_ms);
    }
}
