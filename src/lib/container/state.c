/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define STATE_FILE_MAX (64 * 1024)

int
arca_container_id_validate (const char *id, arca_error **err)
{
  size_t len = strlen (id);

  if (len == 0 || len > 1024)
    return arca_error_set (err, EINVAL, "invalid container id `%s`: length must be 1..1024", id);
  if (!isalnum ((unsigned char) id[0]))
    return arca_error_set (err, EINVAL,
                           "invalid container id `%s`: must start with a letter or digit", id);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) id[i];
      if (!(isalnum (c) || c == '_' || c == '.' || c == '-' || c == '+'))
        return arca_error_set (err, EINVAL,
                               "invalid container id `%s`: only letters, digits and _.+- allowed",
                               id);
    }
  return 0;
}

static int
lock_dir (int dirfd, const char *id, arca_error **err)
{
  int r;

  do
    r = flock (dirfd, LOCK_EX);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return arca_error_errno (err, "lock state of container `%s`", id);
  return 0;
}

int
arca_state_dir_create (const char *root, const char *id, int *ret_dirfd, arca_error **err)
{
  if (arca_mkdir_p (root, 0700, err) < 0)
    return arca_error_wrap (err, "state root");
  cleanup_close int root_fd = open (root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0)
    return arca_error_errno (err, "open state root `%s`", root);
  if (mkdirat (root_fd, id, 0700) < 0)
    {
      if (errno == EEXIST)
        return arca_error_set (err, EEXIST, "container `%s` already exists", id);
      return arca_error_errno (err, "create state directory `%s/%s`", root, id);
    }
  int dirfd = openat (root_fd, id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    {
      int saved = errno;
      unlinkat (root_fd, id, AT_REMOVEDIR);
      return arca_error_set (err, saved, "open state directory `%s/%s`", root, id);
    }
  /* Nobody else can hold it yet (we just made it), but a concurrent
   * delete that opened it right now must wait for us. */
  if (lock_dir (dirfd, id, err) < 0)
    {
      close (dirfd);
      unlinkat (root_fd, id, AT_REMOVEDIR);
      return -1;
    }
  *ret_dirfd = dirfd;
  return 0;
}

int
arca_state_dir_open (const char *root, const char *id, bool lock, int *ret_dirfd,
                     arca_error **err)
{
  if (arca_container_id_validate (id, err) < 0)
    return -1;
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/%s", root, id) < 0)
    return arca_error_set (err, ENOMEM, "state directory");
  cleanup_close int dirfd = open (path, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    {
      if (errno == ENOENT)
        return arca_error_set (err, ENOENT, "container `%s` does not exist", id);
      return arca_error_errno (err, "open state directory `%s`", path);
    }
  if (lock)
    {
      if (lock_dir (dirfd, id, err) < 0)
        return -1;
      /* A delete may have removed it while we waited for the lock. */
      struct stat st;
      if (fstat (dirfd, &st) < 0 || st.st_nlink == 0)
        return arca_error_set (err, ENOENT, "container `%s` does not exist", id);
    }
  *ret_dirfd = move_fd (dirfd);
  return 0;
}

int
arca_state_dir_remove (const char *root, const char *id, arca_error **err)
{
  cleanup_close int root_fd = open (root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0)
    return arca_error_errno (err, "open state root `%s`", root);
  if (arca_rm_rf_at (root_fd, id, err) < 0)
    return arca_error_wrap (err, "remove state of container `%s`", id);
  return 0;
}

int
arca_record_save (int dirfd, const struct arca_container_record *rec, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *doc = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", rec->id, "bundle", rec->bundle,
      "rootfs", rec->rootfs, "created", rec->created, "cgroupPath",
      rec->cgroup_path ? rec->cgroup_path : "", "pid", (json_int_t) rec->pid, "pidStart",
      (json_int_t) rec->pid_start, "owner", (json_int_t) rec->owner);
  if (doc == NULL)
    return arca_error_set (err, ENOMEM, "render state of container `%s`", rec->id);
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "render state of container `%s`", rec->id);
  return arca_write_file_replace_at (dirfd, ARCA_STATE_FILE, text, strlen (text), 0600, err);
}

static int
dup_field (json_t *doc, const char *key, char **ret, arca_error **err)
{
  json_t *v = json_object_get (doc, key);

  if (!json_is_string (v))
    return arca_error_set (err, EINVAL, "state file: field `%s` missing", key);
  *ret = strdup (json_string_value (v));
  return *ret ? 0 : arca_error_set (err, ENOMEM, "state file");
}

int
arca_record_load (int dirfd, struct arca_container_record **ret_rec, arca_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  cleanup_error arca_error *read_err = NULL;

  *ret_rec = NULL;
  if (arca_read_file_at (dirfd, ARCA_STATE_FILE, STATE_FILE_MAX, &text, &len, &read_err) < 0)
    {
      if (read_err->errnum == ENOENT)
        return 0;
      *err = move_ptr (read_err);
      return -1;
    }
  json_error_t jerr;
  _cleanup_ (json_decrefp) json_t *doc = json_loadb (text, len, 0, &jerr);
  if (doc == NULL)
    return arca_error_set (err, EINVAL, "state file is corrupt: %s", jerr.text);
  _cleanup_ (arca_record_freep) struct arca_container_record *rec = calloc (1, sizeof *rec);
  if (rec == NULL)
    return arca_error_set (err, ENOMEM, "state file");
  if (dup_field (doc, "id", &rec->id, err) < 0 || dup_field (doc, "bundle", &rec->bundle, err) < 0
      || dup_field (doc, "rootfs", &rec->rootfs, err) < 0
      || dup_field (doc, "created", &rec->created, err) < 0
      || dup_field (doc, "cgroupPath", &rec->cgroup_path, err) < 0)
    return -1;
  rec->pid = (pid_t) json_integer_value (json_object_get (doc, "pid"));
  rec->pid_start = (uint64_t) json_integer_value (json_object_get (doc, "pidStart"));
  rec->owner = (uid_t) json_integer_value (json_object_get (doc, "owner"));
  *ret_rec = move_ptr (rec);
  return 0;
}

void
arca_record_free (struct arca_container_record *rec)
{
  if (rec == NULL)
    return;
  free (rec->id);
  free (rec->bundle);
  free (rec->rootfs);
  free (rec->created);
  free (rec->cgroup_path);
  free (rec);
}

void
arca_record_freep (struct arca_container_record **rec)
{
  arca_record_free (*rec);
  *rec = NULL;
}

/* Reads state and start time from /proc/<pid>/stat.  The command name may
 * hold spaces and parentheses, so parsing starts after the last ')'. */
static int
read_stat (pid_t pid, char *ret_state, uint64_t *ret_start)
{
  char path[64], buf[1024];

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  p += 2;
  *ret_state = *p;
  /* Field 3 is the state; the start time is field 22. */
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return -1;
      p++;
    }
  *ret_start = strtoull (p, NULL, 10);
  return 0;
}

bool
arca_pid_is (pid_t pid, uint64_t start_time)
{
  char state;
  uint64_t start;

  if (pid <= 0 || read_stat (pid, &state, &start) < 0)
    return false;
  return state != 'Z' && state != 'X' && start == start_time;
}

int
arca_pid_start_time (pid_t pid, uint64_t *ret_start, arca_error **err)
{
  char state;

  if (read_stat (pid, &state, ret_start) < 0 || state == 'Z' || state == 'X')
    return arca_error_set (err, ESRCH, "process %d is gone", (int) pid);
  return 0;
}

int
arca_container_status (const char *cgroup_root, int dirfd,
                       const struct arca_container_record *rec,
                       enum arca_container_status *ret_status, arca_error **err)
{
  if (rec == NULL)
    {
      *ret_status = ARCA_STATUS_CREATING;
      return 0;
    }
  if (!arca_pid_is (rec->pid, rec->pid_start))
    {
      *ret_status = ARCA_STATUS_STOPPED;
      return 0;
    }
  if (faccessat (dirfd, ARCA_START_SOCKET, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      *ret_status = ARCA_STATUS_CREATED;
      return 0;
    }
  *ret_status = ARCA_STATUS_RUNNING;
  if (rec->cgroup_path && *rec->cgroup_path)
    {
      cleanup_cgroup struct arca_cgroup *cg = NULL;
      bool frozen = false;
      if (arca_cgroup_open (cgroup_root, rec->cgroup_path, &cg, err) < 0
          || arca_cgroup_is_frozen (cg, &frozen, err) < 0)
        return -1;
      if (frozen)
        *ret_status = ARCA_STATUS_PAUSED;
    }
  return 0;
}

const char *
arca_container_status_name (enum arca_container_status status)
{
  switch (status)
    {
    case ARCA_STATUS_CREATING: return "creating";
    case ARCA_STATUS_CREATED: return "created";
    case ARCA_STATUS_RUNNING: return "running";
    case ARCA_STATUS_PAUSED: return "paused";
    case ARCA_STATUS_STOPPED: return "stopped";
    }
  return "unknown";
}

int
arca_now_rfc3339 (char **ret, arca_error **err)
{
  struct timespec ts;
  char stamp[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  arca_time_rfc3339 (&ts, stamp, sizeof stamp);
  if ((*ret = strdup (stamp)) == NULL)
    return arca_error_set (err, ENOMEM, "format time");
  return 0;
}
