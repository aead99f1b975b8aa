/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/logfile.h"
#include "util/cleanup.h"
#include "util/log.h"

#define PARTIAL_MAX (16 * 1024)
#define LOG_READ_MAX (256 * 1024 * 1024)

struct partial {
  char buf[PARTIAL_MAX];
  size_t len;
};

struct arca_logfile {
  char *path;
  int fd;
  uint64_t size, max_size;
  unsigned max_files;
  struct partial out, err;
};

static int
open_current (struct arca_logfile *log, arca_error **err)
{
  struct stat st;

  log->fd = open (log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log->fd < 0)
    return arca_error_errno (err, "open log `%s`", log->path);
  log->size = fstat (log->fd, &st) == 0 ? (uint64_t) st.st_size : 0;
  return 0;
}

int
arca_logfile_open (const char *path, uint64_t max_size, unsigned max_files,
                   struct arca_logfile **ret, arca_error **err)
{
  _cleanup_ (arca_logfile_closep) struct arca_logfile *log = calloc (1, sizeof *log);

  if (log == NULL || (log->path = strdup (path)) == NULL)
    return arca_error_set (err, ENOMEM, "open log `%s`", path);
  log->fd = -1;
  log->max_size = max_size;
  log->max_files = max_files ? max_files : 1;
  if (open_current (log, err) < 0)
    return -1;
  *ret = move_ptr (log);
  return 0;
}

void
arca_logfile_close (struct arca_logfile *log)
{
  if (log == NULL)
    return;
  if (log->fd >= 0)
    close (log->fd);
  free (log->path);
  free (log);
}

void
arca_logfile_closep (struct arca_logfile **log)
{
  arca_logfile_close (*log);
  *log = NULL;
}

static int
rotate (struct arca_logfile *log, arca_error **err)
{
  if (fsync (log->fd) < 0 && errno != EINVAL)
    return arca_error_errno (err, "sync log `%s`", log->path);
  if (log->max_files <= 1)
    {
      /* Nowhere to keep it: start over (Docker's max-file=1). */
      if (ftruncate (log->fd, 0) < 0)
        return arca_error_errno (err, "truncate log `%s`", log->path);
      log->size = 0;
      return 0;
    }
  for (unsigned i = log->max_files - 1; i >= 1; i--)
    {
      cleanup_free char *from = NULL, *to = NULL;
      if ((i == 1 ? (from = strdup (log->path)) == NULL
                  : asprintf (&from, "%s.%u", log->path, i - 1) < 0)
          || asprintf (&to, "%s.%u", log->path, i) < 0)
        return arca_error_set (err, ENOMEM, "rotate log");
      if (rename (from, to) < 0 && errno != ENOENT)
        return arca_error_errno (err, "rotate log `%s`", from);
    }
  close (log->fd);
  log->fd = -1;
  return open_current (log, err);
}

/* JSON strings must be UTF-8: invalid bytes become U+FFFD, as Docker does. */
static char *
utf8_sanitize (const char *s, size_t len, size_t *ret_len)
{
  char *out = malloc (len * 3 + 1);
  size_t o = 0;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < len;)
    {
      unsigned char c = (unsigned char) s[i];
      size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
      bool ok = n > 0 && i + n <= len;
      for (size_t k = 1; ok && k < n; k++)
        ok = ((unsigned char) s[i + k] >> 6) == 0x2;
      if (ok && n == 2 && c < 0xc2)
        ok = false; /* overlong */
      if (ok && c == 0)
        ok = false; /* jansson refuses NUL inside strings given as C strings */
      if (ok)
        {
          memcpy (out + o, s + i, n);
          o += n;
          i += n;
        }
      else
        {
          memcpy (out + o, "\xef\xbf\xbd", 3);
          o += 3;
          i++;
        }
    }
  out[o] = '\0';
  *ret_len = o;
  return out;
}

static int
emit (struct arca_logfile *log, const char *stream, const char *text, size_t len, arca_error **err)
{
  struct timespec ts;
  char stamp[64];
  size_t clean_len;

  clock_gettime (CLOCK_REALTIME, &ts);
  arca_time_rfc3339 (&ts, stamp, sizeof stamp);
  cleanup_free char *clean = utf8_sanitize (text, len, &clean_len);
  if (clean == NULL)
    return arca_error_set (err, ENOMEM, "log record");
  json_t *rec = json_pack ("{s:s%, s:s, s:s}", "log", clean, clean_len, "stream", stream, "time",
                           stamp);
  cleanup_free char *line = rec ? json_dumps (rec, JSON_COMPACT) : NULL;
  json_decref (rec);
  if (line == NULL)
    return arca_error_set (err, ENOMEM, "log record");
  size_t line_len = strlen (line);
  line[line_len++] = '\n'; /* json_dumps left room: we overwrite its NUL */
  if (log->max_size && log->size > 0 && log->size + line_len > log->max_size
      && rotate (log, err) < 0)
    return -1;
  for (size_t off = 0; off < line_len;)
    {
      ssize_t n = write (log->fd, line + off, line_len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "write log `%s`", log->path);
      off += (size_t) n;
    }
  log->size += line_len;
  return 0;
}

int
arca_logfile_write (struct arca_logfile *log, const char *stream, const char *data, size_t len,
                    arca_error **err)
{
  struct partial *p = strcmp (stream, "stderr") == 0 ? &log->err : &log->out;

  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      size_t take = nl ? (size_t) (nl - data) + 1 : len;
      if (take > PARTIAL_MAX - p->len)
        take = PARTIAL_MAX - p->len;
      memcpy (p->buf + p->len, data, take);
      p->len += take;
      data += take;
      len -= take;
      if (p->buf[p->len - 1] == '\n' || p->len == PARTIAL_MAX)
        {
          if (emit (log, stream, p->buf, p->len, err) < 0)
            return -1;
          p->len = 0;
        }
    }
  return 0;
}

int
arca_logfile_flush (struct arca_logfile *log, arca_error **err)
{
  if (log->out.len && emit (log, "stdout", log->out.buf, log->out.len, err) < 0)
    return -1;
  log->out.len = 0;
  if (log->err.len && emit (log, "stderr", log->err.buf, log->err.len, err) < 0)
    return -1;
  log->err.len = 0;
  if (fsync (log->fd) < 0 && errno != EINVAL)
    return arca_error_errno (err, "sync log `%s`", log->path);
  return 0;
}

int64_t
arca_rfc3339_to_ns (const char *text)
{
  struct tm tm = { 0 };
  const char *rest = strptime (text, "%Y-%m-%dT%H:%M:%S", &tm);
  int64_t ns = 0;

  if (rest == NULL)
    return -1;
  if (*rest == '.')
    {
      int digits = 0;
      for (rest++; *rest >= '0' && *rest <= '9'; rest++)
        if (digits < 9)
          {
            ns = ns * 10 + (*rest - '0');
            digits++;
          }
      for (; digits < 9; digits++)
        ns *= 10;
    }
  if (*rest != 'Z')
    return -1;
  return (int64_t) timegm (&tm) * 1000000000LL + ns;
}

struct record_list {
  json_t **items;
  size_t count, cap;
};

/* Collects the complete records of f.  A last line without its newline
 * is being written (or torn by a crash): it is left out, and *ret_end
 * (when set) stops before it, so a follower starts there. */
static int
collect_stream (FILE *f, const char *path, struct record_list *list, off_t *ret_end,
                arca_error **err)
{
  cleanup_free char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  off_t end = 0;

  while ((n = getline (&line, &cap, f)) > 0)
    {
      if (line[n - 1] != '\n')
        break;
      end += n;
      json_t *rec = json_loadb (line, (size_t) n, 0, NULL);
      if (!json_is_object (rec))
        {
          json_decref (rec);
          continue; /* a line torn by a crash */
        }
      if (list->count == list->cap)
        {
          size_t ncap = list->cap ? list->cap * 2 : 256;
          json_t **grown = realloc (list->items, ncap * sizeof *grown);
          if (grown == NULL)
            {
              json_decref (rec);
              return arca_error_set (err, ENOMEM, "read log `%s`", path);
            }
          list->items = grown;
          list->cap = ncap;
        }
      list->items[list->count++] = rec;
    }
  if (ferror (f))
    return arca_error_errno (err, "read log `%s`", path);
  if (ret_end)
    *ret_end = end;
  return 0;
}

/* skip: a file already rotated away from under current_fd is read as the
 * current one, not twice. */
static int
collect_file (const char *path, const struct stat *skip, struct record_list *list,
              arca_error **err)
{
  cleanup_file FILE *f = fopen (path, "re");
  struct stat st;

  if (f == NULL)
    return errno == ENOENT ? 0 : arca_error_errno (err, "open log `%s`", path);
  if (skip && fstat (fileno (f), &st) == 0 && st.st_ino == skip->st_ino
      && st.st_dev == skip->st_dev)
    return 0;
  return collect_stream (f, path, list, NULL, err);
}

/* The current file through the caller's descriptor: the follower goes on
 * from the very bytes read here, whatever the monitor appends meanwhile. */
static int
collect_fd (int fd, const char *path, struct record_list *list, off_t *ret_end, arca_error **err)
{
  int copy = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0)
    return arca_error_errno (err, "read log `%s`", path);
  cleanup_file FILE *f = fdopen (copy, "r");
  if (f == NULL)
    {
      close (copy);
      return arca_error_errno (err, "read log `%s`", path);
    }
  if (lseek (copy, 0, SEEK_SET) < 0)
    return arca_error_errno (err, "read log `%s`", path);
  return collect_stream (f, path, list, ret_end, err);
}

int
arca_logfile_read (const char *path, unsigned max_files, size_t tail, int64_t since_ns,
                   arca_log_record_fn fn, void *userdata, arca_error **err)
{
  return arca_logfile_read_fd (path, -1, max_files, tail, since_ns, fn, userdata, NULL, err);
}

int
arca_logfile_read_fd (const char *path, int current_fd, unsigned max_files, size_t tail,
                      int64_t since_ns, arca_log_record_fn fn, void *userdata, off_t *ret_end,
                      arca_error **err)
{
  struct record_list list = { 0 };
  struct stat current;
  bool have_current = current_fd >= 0 && fstat (current_fd, &current) == 0;
  int r = 0;

  for (unsigned i = max_files ? max_files - 1 : 0; r == 0; i--)
    {
      cleanup_free char *name = NULL;
      if (i == 0)
        name = strdup (path);
      else if (asprintf (&name, "%s.%u", path, i) < 0)
        name = NULL;
      if (name == NULL)
        r = arca_error_set (err, ENOMEM, "read log");
      else if (i == 0 && current_fd >= 0)
        r = collect_fd (current_fd, name, &list, ret_end, err);
      else if (i == 0 && ret_end)
        *ret_end = 0; /* no file when the follower looked: it reads all that comes */
      else
        r = collect_file (name, have_current ? &current : NULL, &list, err);
      if (i == 0)
        break;
    }
  size_t first = 0;
  if (r == 0 && tail > 0 && list.count > tail)
    first = list.count - tail;
  for (size_t i = first; r == 0 && i < list.count; i++)
    {
      json_t *rec = list.items[i];
      json_t *text = json_object_get (rec, "log");
      struct arca_log_record out = {
        .stream = json_string_value (json_object_get (rec, "stream")),
        .text = json_string_value (text),
        .len = json_string_length (text),
        .time = json_string_value (json_object_get (rec, "time")),
      };
      if (out.stream == NULL || out.text == NULL || out.time == NULL)
        continue;
      out.time_ns = arca_rfc3339_to_ns (out.time);
      if (since_ns > 0 && out.time_ns < since_ns)
        continue;
      r = fn (&out, userdata) < 0 ? -1 : 0;
    }
  for (size_t i = 0; i < list.count; i++)
    json_decref (list.items[i]);
  free (list.items);
  return r;
}
