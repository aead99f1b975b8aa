/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interrupted creates: `create` (and `run`, and a build's step container)
 * makes a directory, mounts the overlay root and adds network membership
 * rows before the container's row commits.  A `kill -9` in between would
 * leave a mount and a directory no row names.  So a create holds an flock
 * on ROOT/creating/ID from before its first directory until its row is in
 * (or its own undo ran); the next command that opens the engine finds a
 * marker whose lock is free, and rolls that create back. */
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

#define JOURNAL_DIR "creating"

static int
marker_path (struct arca_engine *e, const char *id, char **ret, arca_error **err)
{
  if (asprintf (ret, "%s/" JOURNAL_DIR "/%s", e->root, id ? id : "") < 0)
    return arca_error_set (err, ENOMEM, "create journal");
  return 0;
}

int
arca_create_journal_begin (struct arca_engine *e, const char *id, int *ret_fd, arca_error **err)
{
  cleanup_free char *dir = NULL, *path = NULL, *tmp = NULL;

  if (marker_path (e, NULL, &dir, err) < 0 || marker_path (e, id, &path, err) < 0
      || arca_mkdir_p (dir, 0700, err) < 0)
    return -1;
  if (asprintf (&tmp, "%s/.%s", dir, id) < 0)
    return arca_error_set (err, ENOMEM, "create journal");
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
      return arca_error_errno (err, "create journal marker `%s`", path);
    }
  *ret_fd = move_fd (fd);
  return 0;
}

void
arca_create_journal_end (struct arca_engine *e, const char *id, int fd)
{
  cleanup_free char *path = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (fd < 0)
    return;
  /* Unlinked while still locked, so no sweep sees a free marker of a
   * create that finished. */
  if (marker_path (e, id, &path, &ignored) == 0)
    unlink (path);
  close (fd);
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

int
arca_create_journal_recover (struct arca_engine *e, unsigned *ret_rolled_back, arca_error **err)
{
  cleanup_free char *dir = NULL;
  unsigned rolled_back = 0;

  if (ret_rolled_back)
    *ret_rolled_back = 0;
  if (marker_path (e, NULL, &dir, err) < 0)
    return -1;
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL && errno == ENOENT)
    return 0; /* no create ever ran here */
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
        continue; /* a create in progress */
      bool committed = false;
      if (is_engine_id (de->d_name))
        {
          if (has_row (e, de->d_name, &committed, err) < 0)
            return -1;
          /* Killed after its row went in: the container is whole. */
          if (!committed)
            {
              if (roll_back (e, de->d_name, err) < 0)
                return arca_error_wrap (err, "roll back the interrupted create of %.12s",
                                        de->d_name);
              rolled_back++;
            }
        }
      unlinkat (dirfd (d), de->d_name, 0);
    }
  if (ret_rolled_back)
    *ret_rolled_back = rolled_back;
  return 0;
}
