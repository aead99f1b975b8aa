/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and writing cgroup knobs, for every writer (v1.c, v2.c) and the
 * life cycle (tree.c): field-naming writes, the dependent-knob retry, the
 * fake tree's write log, small parsing helpers. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* ---- small helpers ------------------------------------------------------ */

void
arca_cgroup_sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

int64_t
arca_cgroup_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
arca_cgroup_backoff (int64_t *start_ms, long *delay_us, int64_t timeout_ms)
{
  struct timespec ts;

  if (*start_ms == 0)
    *start_ms = arca_cgroup_now_ms ();
  if (arca_cgroup_now_ms () - *start_ms >= timeout_ms)
    return false;
  *delay_us = *delay_us <= 0 ? 100 : *delay_us < 50000 ? *delay_us * 2 : 50000;
  ts = (struct timespec){ .tv_sec = 0, .tv_nsec = *delay_us * 1000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
  return true;
}

bool
arca_cgroup_list_has (const char *list, const char *word)
{
  size_t len = strlen (word);
  const char *p = list;

  while (p != NULL && *p != '\0')
    {
      p += strspn (p, " \t\n,");
      if (strncmp (p, word, len) == 0 && (p[len] == '\0' || strchr (" \t\n,", p[len]) != NULL))
        return true;
      p += strcspn (p, " \t\n,");
    }
  return false;
}

bool
arca_cgroup_file_exists (const char *dir, const char *file)
{
  cleanup_free char *p = NULL;
  if (asprintf (&p, "%s/%s", dir, file) < 0)
    return false;
  return access (p, F_OK) == 0;
}

/* Hands a locally caught error to the caller's err (first error wins). */
void
arca_cgroup_pass_error (arca_error **err, arca_error **local)
{
  if (err != NULL && *err == NULL)
    *err = move_ptr (*local);
}

/* Path of dir below fs_root for the fake write log. */
static const char *
below_root (const struct arca_cgroup *cg, const char *dir)
{
  size_t n = strlen (cg->fs_root);
  if (strncmp (dir, cg->fs_root, n) == 0 && (dir[n] == '/' || dir[n] == '\0'))
    return dir[n] == '/' ? dir + n + 1 : ".";
  return dir;
}

/* The kernel folds "+memory -pids" written to cgroup.subtree_control into
 * the list of enabled controllers; a fake tree does the same so that reads
 * (and children's cgroup.controllers) look like the real thing. */
static int
fake_subtree_control (const char *dir, const char *value, char **ret, arca_error **err)
{
  cleanup_free char *cur = NULL, *copy = strdup (value);
  cleanup_free char *out = NULL;
  char *save = NULL;
  size_t len = 0, cap;

  if (copy == NULL)
    return arca_error_errno (err, "write `%s/cgroup.subtree_control`", dir);
  if (arca_cgroup_read (dir, "cgroup.subtree_control", &cur, err) < 0)
    return -1;
  cap = strlen (cur) + strlen (value) + 2;
  if ((out = calloc (1, cap)) == NULL)
    return arca_error_errno (err, "write `%s/cgroup.subtree_control`", dir);
  /* Keep what is enabled and not removed now. */
  for (char *t = strtok_r (cur, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    {
      char minus[128];
      snprintf (minus, sizeof (minus), "-%s", t);
      if (!arca_cgroup_list_has (value, minus))
        len += (size_t) snprintf (out + len, cap - len, "%s%s", len ? " " : "", t);
    }
  save = NULL;
  for (char *t = strtok_r (copy, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    {
      if (*t != '+' && *t != '-')
        return arca_error_set (err, EINVAL, "write `%s` to `%s/cgroup.subtree_control`", value,
                               dir);
      if (*t == '+' && !arca_cgroup_list_has (out, t + 1))
        len += (size_t) snprintf (out + len, cap - len, "%s%s", len ? " " : "", t + 1);
    }
  if (len > 0)
    out[len++] = '\n';
  *ret = move_ptr (out);
  return 0;
}

int
arca_cgroup_write (const struct arca_cgroup *cg, const char *dir, const char *file,
                   const char *value, arca_error **err)
{
  cleanup_free char *p = NULL, *merged = NULL;
  cleanup_close int fd = -1;
  const char *logged = value;
  size_t len;
  ssize_t n;

  if (asprintf (&p, "%s/%s", dir, file) < 0)
    return arca_error_errno (err, "write `%s/%s`", dir, file);
  if (cg->fake && strcmp (file, "cgroup.subtree_control") == 0)
    {
      if (fake_subtree_control (dir, value, &merged, err) < 0)
        return -1;
      value = merged;
    }
  len = strlen (value);
  fd = open (p, O_WRONLY | O_CLOEXEC | O_NOCTTY | (cg->fake ? O_TRUNC : 0));
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", p);
  do
    n = write (fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return arca_error_errno (err, "write `%s` to `%s`", value, p);
  if ((size_t) n != len)
    return arca_error_set (err, EIO, "write `%s` to `%s`: short write", value, p);

  if (cg->fake)
    {
      cleanup_free char *log = NULL;
      cleanup_close int lfd = -1;
      cleanup_free char *line = NULL;
      int l;

      if (asprintf (&log, "%s/" ARCA_CGROUP_FAKE_WRITES_FILE, cg->fs_root) < 0)
        return arca_error_errno (err, "write `%s`", p);
      lfd = open (log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (lfd < 0)
        return arca_error_errno (err, "open `%s`", log);
      l = asprintf (&line, "%s/%s %s\n", below_root (cg, dir), file, logged);
      if (l < 0)
        return arca_error_errno (err, "write `%s`", log);
      if (write (lfd, line, (size_t) l) != l)
        return arca_error_errno (err, "write `%s`", log);
    }
  return 0;
}

int
arca_cgroup_writef (const struct arca_cgroup *cg, const char *dir, const char *file,
                    arca_error **err, const char *fmt, ...)
{
  cleanup_free char *value = NULL;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&value, fmt, ap);
  va_end (ap);
  if (r < 0)
    return arca_error_errno (err, "write `%s/%s`", dir, file);
  return arca_cgroup_write (cg, dir, file, value, err);
}

int
arca_cgroup_set (const struct arca_cgroup *cg, const char *dir, const char *file,
                 const char *field, arca_error **err, const char *fmt, ...)
{
  cleanup_free char *value = NULL;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&value, fmt, ap);
  va_end (ap);
  if (r < 0)
    return arca_error_errno (err, "%s: write `%s/%s`", field, dir, file);
  if (arca_cgroup_write (cg, dir, file, value, err) < 0)
    return arca_error_wrap (err, "%s", field);
  return 0;
}

int
arca_cgroup_write_knobs (const struct arca_cgroup *cg, const char *dir,
                         const struct arca_cgroup_knob *knobs, size_t n, arca_error **err)
{
  bool retry[8] = { false };
  bool any = false;

  if (n > ARRAY_SIZE (retry))
    return arca_error_set (err, E2BIG, "write `%s`: too many knobs", dir);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_error arca_error *first = NULL;
      if (knobs[i].file == NULL)
        continue;
      if (arca_cgroup_write (cg, dir, knobs[i].file, knobs[i].value, &first) == 0)
        continue;
      if (first == NULL || first->errnum != EINVAL)
        {
          arca_cgroup_pass_error (err, &first);
          return arca_error_wrap (err, "%s", knobs[i].field);
        }
      retry[i] = any = true;
    }
  for (size_t i = 0; any && i < n; i++)
    if (retry[i] && arca_cgroup_set (cg, dir, knobs[i].file, knobs[i].field, err, "%s",
                                     knobs[i].value) < 0)
      return -1;
  return 0;
}

int
arca_cgroup_read (const char *dir, const char *file, char **ret_data, arca_error **err)
{
  cleanup_free char *p = NULL;

  if (asprintf (&p, "%s/%s", dir, file) < 0)
    return arca_error_errno (err, "read `%s/%s`", dir, file);
  return arca_read_file_at (AT_FDCWD, p, ARCA_CGROUP_KNOB_MAX, ret_data, NULL, err);
}

int
arca_cgroup_read_u64 (const char *dir, const char *file, bool missing_ok, uint64_t *ret_value,
                      arca_error **err)
{
  cleanup_free char *data = NULL;
  char *end;
  unsigned long long v;

  if (missing_ok && !arca_cgroup_file_exists (dir, file))
    {
      *ret_value = 0;
      return 0;
    }
  if (arca_cgroup_read (dir, file, &data, err) < 0)
    return -1;
  if (strncmp (data, "max", 3) == 0)
    {
      *ret_value = UINT64_MAX;
      return 0;
    }
  errno = 0;
  v = strtoull (data, &end, 10);
  if (errno != 0 || end == data || (*end != '\0' && *end != '\n'))
    return arca_error_set (err, EINVAL, "read `%s/%s`: not a number: \"%.32s\"", dir, file,
                           data);
  *ret_value = v;
  return 0;
}

int
arca_cgroup_hugetlb_size (const char *page_size, size_t index, const char **ret,
                          arca_error **err)
{
  const char *p = page_size;

  /* Kernel file names use the same spelling ("2MB", "1GB", "64KB"), so the
   * check only keeps '/' and other surprises out of the file name. */
  if (p == NULL || *p < '1' || *p > '9')
    goto bad;
  while (*p >= '0' && *p <= '9')
    p++;
  if ((*p != 'K' && *p != 'M' && *p != 'G') || strcmp (p + 1, "B") != 0)
    goto bad;
  *ret = page_size;
  return 0;
bad:
  return arca_error_set (err, EINVAL,
                         "linux.resources.hugepageLimits[%zu].pageSize: invalid page size \"%s\"",
                         index, page_size ? page_size : "");
}

int
arca_cgroup_write_hugetlb (const struct arca_cgroup *cg, const char *dir,
                           const struct arca_oci_resources *r, const char *limit_name,
                           arca_error **err)
{
  /* Every page size is checked before the first write, so a bad entry
   * does not leave the earlier ones changed. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < r->n_hugepage_limits; i++)
      {
        const struct arca_oci_hugepage_limit *l = &r->hugepage_limits[i];
        char file[64], rsvd[64], field[64];
        const char *size;

        if (arca_cgroup_hugetlb_size (l->page_size, i, &size, err) < 0)
          return -1;
        snprintf (field, sizeof (field), "linux.resources.hugepageLimits[%zu]", i);
        snprintf (file, sizeof (file), "hugetlb.%s.%s", size, limit_name);
        snprintf (rsvd, sizeof (rsvd), "hugetlb.%s.rsvd.%s", size, limit_name);
        if (!arca_cgroup_file_exists (dir, file))
          return arca_error_set (err, ENOTSUP,
                                 "%s.pageSize: page size %s is not supported (no `%s/%s`)", field,
                                 size, dir, file);
        if (pass == 0)
          continue;
        if (arca_cgroup_set (cg, dir, file, field, err, "%" PRIu64, l->limit) < 0)
          return -1;
        /* Reservations count too when the kernel has them, so a mapping that
         * reserved pages cannot exceed the limit later at fault time. */
        if (arca_cgroup_file_exists (dir, rsvd)
            && arca_cgroup_set (cg, dir, rsvd, field, err, "%" PRIu64, l->limit) < 0)
          return -1;
      }
  return 0;
}
