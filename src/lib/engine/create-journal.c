/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interrupted creates and removals.  `create` (and `run`, and a build's
 * step container) makes a directory, mounts the overlay root and adds
 * network membership rows before the container's row commits; `rm` takes
 * them apart again before it deletes the row.  A `kill -9` in between would
 * leave a mount and a directory no row names, or a row whose container is
 * half gone (its start then fails on a missing file).  So each holds an
 * flock on a marker, ROOT/creating/ID or ROOT/removing/ID, from before its
 * first step until its row is in (or out); the next command that opens the
 * engine finds a marker whose lock is free and rolls that create back or
 * finishes that removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/create-journal.h"
#include "engine/network-user.h"
#include "engine/overlay.h"
#include "image/db-internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define CREATING "creating"
#define REMOVING "removing"

static int
marker_path (struct arca_engine *e, const char *kind, const char *id, char **ret,
             arca_error **err)
{
  if (asprintf (ret, "%s/%s/%s", e->root, kind, id ? id : "") < 0)
    return arca_error_set (err, ENOMEM, "%s journal", kind);
  return 0;
}

static int
journal_begin (struct arca_engine *e, const char *kind, const char *id, int *ret_fd,
               arca_error **err)
{
  cleanup_free char *dir = NULL, *path = NULL, *tmp = NULL;

  if (marker_path (e, kind, NULL, &dir, err) < 0 || marker_path (e, kind, id, &path, err) < 0
      || arca_mkdir_p (dir, 0700, err) < 0)
    return -1;
  if (asprintf (&tmp, "%s/.%s", dir, id) < 0)
    return arca_error_set (err, ENOMEM, "%s journal", kind);
  /* Locked under a dot name the sweep skips, then renamed (the same file,
   * still locked): a sweep never sees the marker unlocked. */
  cleanup_close int fd = open (tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return arca_error_errno (err, "create `%s`", tmp);
  if (flock (fd, LOCK_EX) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      errno = saved;
      return arca_error_errno (err, "%s journal marker `%s`", kind, path);
    }
  *ret_fd = move_fd (fd);
  return 0;
}

static void
journal_end (struct arca_engine *e, const char *kind, const char *id, int fd)
{
  cleanup_free char *path = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (fd < 0)
    return;
  /* Unlinked while still locked, so no sweep sees a free marker of an
   * operation that finished. */
  if (marker_path (e, kind, id, &path, &ignored) == 0)
    unlink (path);
  close (fd);
}

int
arca_create_journal_begin (struct arca_engine *e, const char *id, int *ret_fd, arca_error **err)
{
  return journal_begin (e, CREATING, id, ret_fd, err);
}

void
arca_create_journal_end (struct arca_engine *e, const char *id, int fd)
{
  journal_end (e, CREATING, id, fd);
}

int
arca_remove_journal_begin (struct arca_engine *e, const char *id, int *ret_fd, arca_error **err)
{
  return journal_begin (e, REMOVING, id, ret_fd, err);
}

void
arca_remove_journal_end (struct arca_engine *e, const char *id, int fd)
{
  journal_end (e, REMOVING, id, fd);
}

static bool
is_engine_id (const char *s)
{
  if (strlen (s) != ARCA_ENGINE_ID_LEN)
    return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

static int
has_row (struct arca_engine *e, const char *id, bool *ret, arca_error **err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  const char *v[] = { id, NULL };

  if (arca_db_prepare (e->db, "SELECT 1 FROM containers WHERE id = ?1", &st, err) < 0
      || arca_db_bind_texts (e->db, st, v, err) < 0)
    return -1;
  int r = sqlite3_step (st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return arca_error_set (err, EIO, "look up container %s: %s", id, sqlite3_errmsg (e->db->h));
  *ret = r == SQLITE_ROW;
  return 0;
}

/* What the killed create had made, in reverse: the overlay mount, the
 * directory, the network membership rows. */
static int
roll_back (struct arca_engine *e, const char *id, arca_error **err)
{
  cleanup_free char *dir = NULL, *merged = NULL;

  if (arca_engine_container_dir (e, id, NULL, &dir, err) < 0
      || arca_engine_container_dir (e, id, "merged", &merged, err) < 0
      || arca_overlay_unmount (merged, err) < 0)
    return -1;
  if (arca_rm_rf_at (AT_FDCWD, dir, err) < 0 && (*err)->errnum != ENOENT)
    return -1;
  arca_error_freep (err);
  return arca_network_forget (e, id, err);
}

/* Calls fn for every marker of kind nobody holds (locked meanwhile, so
 * no second command does the same), then drops the marker; fn's error
 * keeps it for a later command. */
static int
journal_sweep (struct arca_engine *e, const char *kind,
               int (*fn) (struct arca_engine *, const char *id, void *userdata, bool *ret_done,
                          arca_error **),
               void *userdata, unsigned *ret_done, arca_error **err)
{
  cleanup_free char *dir = NULL;
  unsigned done = 0;

  if (ret_done)
    *ret_done = 0;
  if (marker_path (e, kind, NULL, &dir, err) < 0)
    return -1;
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL && errno == ENOENT)
    return 0; /* no such operation ever ran here */
  if (d == NULL)
    return arca_error_errno (err, "open `%s`", dir);
  for (struct dirent *de; (de = readdir (d));)
    {
      if (de->d_name[0] == '.')
        continue;
      cleanup_close int fd = openat (dirfd (d), de->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        continue;
      if (flock (fd, LOCK_EX | LOCK_NB) < 0)
        continue; /* in progress */
      if (is_engine_id (de->d_name))
        {
          bool did = false;
          if (fn (e, de->d_name, userdata, &did, err) < 0)
            return -1;
          done += did;
        }
      unlinkat (dirfd (d), de->d_name, 0);
    }
  if (ret_done)
    *ret_done = done;
  return 0;
}

static int
roll_back_create (struct arca_engine *e, const char *id, void *userdata, bool *ret_done,
                  arca_error **err)
{
  bool committed = false;

  if (has_row (e, id, &committed, err) < 0)
    return -1;
  /* Killed after its row went in: the container is whole. */
  if (committed)
    return 0;
  if (roll_back (e, id, err) < 0)
    return arca_error_wrap (err, "roll back the interrupted create of %.12s", id);
  *ret_done = true;
  return 0;
}

int
arca_create_journal_recover (struct arca_engine *e, unsigned *ret_rolled_back, arca_error **err)
{
  return journal_sweep (e, CREATING, roll_back_create, NULL, ret_rolled_back, err);
}

struct finish_removal {
  int (*finish) (struct arca_engine *, const char *id, arca_error **);
};

static int
finish_removal (struct arca_engine *e, const char *id, void *userdata, bool *ret_done,
                arca_error **err)
{
  struct finish_removal *f = userdata;

  if (f->finish (e, id, err) < 0)
    return arca_error_wrap (err, "finish the interrupted removal of %.12s", id);
  *ret_done = true;
  return 0;
}

int
arca_remove_journal_recover (struct arca_engine *e,
                             int (*finish) (struct arca_engine *, const char *id, arca_error **),
                             unsigned *ret_finished, arca_error **err)
{
  struct finish_removal f = { .finish = finish };

  return journal_sweep (e, REMOVING, finish_removal, &f, ret_finished, err);
}
