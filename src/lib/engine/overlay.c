/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/overlay.h"
#include "util/cleanup.h"

#define DIFF_MAX_ENTRIES 1000000
#define DIFF_MAX_DEPTH 256

int
arca_overlay_mount (const char *const *lowers, size_t n_lowers, const char *upper,
                    const char *work, const char *merged, arca_error **err)
{
  if (n_lowers == 0)
    return arca_error_set (err, EINVAL, "overlay: an image needs at least one layer");
  cleanup_close int fs = (int) syscall (SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return arca_error_errno (err, "overlay: fsopen (is the overlay module available?)");
  for (size_t i = 0; i < n_lowers; i++)
    if (syscall (SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
      return arca_error_errno (err, "overlay: lower layer `%s`", lowers[i]);
  if (syscall (SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
    return arca_error_errno (err, "overlay: upper directory `%s`", upper);
  if (syscall (SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
    return arca_error_errno (err, "overlay: work directory `%s`", work);
  /* Files keep their inode numbers across copy-up where the kernel can. */
  syscall (SYS_fsconfig, fs, FSCONFIG_SET_STRING, "index", "off", 0);
  if (syscall (SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return arca_error_errno (err, "overlay: create the mount for `%s`", merged);
  cleanup_close int mnt = (int) syscall (SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    return arca_error_errno (err, "overlay: fsmount");
  if (syscall (SYS_move_mount, mnt, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return arca_error_errno (err, "overlay: attach at `%s`", merged);
  return 0;
}

int
arca_overlay_unmount (const char *merged, arca_error **err)
{
  if (umount2 (merged, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
    return arca_error_errno (err, "unmount `%s`", merged);
  return 0;
}

struct change_list {
  struct arca_change *items;
  size_t count, cap;
};

static int
push (struct change_list *l, char kind, const char *path, arca_error **err)
{
  if (l->count >= DIFF_MAX_ENTRIES)
    return arca_error_set (err, E2BIG, "diff: more than %d changes", DIFF_MAX_ENTRIES);
  if (l->count == l->cap)
    {
      size_t ncap = l->cap ? l->cap * 2 : 64;
      struct arca_change *grown = realloc (l->items, ncap * sizeof *grown);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "diff");
      l->items = grown;
      l->cap = ncap;
    }
  l->items[l->count].kind = kind;
  l->items[l->count].path = strdup (path);
  if (l->items[l->count].path == NULL)
    return arca_error_set (err, ENOMEM, "diff");
  l->count++;
  return 0;
}

static bool
exists_below (const char *const *lowers, size_t n, const char *path)
{
  struct stat st;
  char full[PATH_MAX];

  for (size_t i = 0; i < n; i++)
    {
      if (snprintf (full, sizeof full, "%s%s", lowers[i], path) >= (int) sizeof full)
        continue;
      if (lstat (full, &st) == 0)
        return true;
    }
  return false;
}

static bool
is_whiteout (int dirfd, const char *name, const struct stat *st)
{
  (void) dirfd;
  (void) name;
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static int
walk (int dirfd, const char *prefix, const char *const *lowers, size_t n, struct change_list *l,
      int depth, arca_error **err)
{
  if (depth > DIFF_MAX_DEPTH)
    return arca_error_set (err, ELOOP, "diff: directories nested too deep at `%s`", prefix);
  int dup_fd = dup (dirfd);
  if (dup_fd < 0)
    return arca_error_errno (err, "diff");
  cleanup_dir DIR *dir = fdopendir (dup_fd);
  if (dir == NULL)
    {
      close (dup_fd);
      return arca_error_errno (err, "diff: read `%s`", prefix);
    }
  struct dirent *de;
  while ((de = readdir (dir)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      char path[PATH_MAX];
      struct stat st;
      if (snprintf (path, sizeof path, "%s/%s", prefix, de->d_name) >= (int) sizeof path)
        return arca_error_set (err, ENAMETOOLONG, "diff: path too long under `%s`", prefix);
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (is_whiteout (dirfd, de->d_name, &st))
        {
          if (push (l, 'D', path, err) < 0)
            return -1;
          continue;
        }
      bool below = exists_below (lowers, n, path);
      if (push (l, below ? 'C' : 'A', path, err) < 0)
        return -1;
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub = openat (dirfd, de->d_name,
                                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            continue;
          /* An opaque directory hides everything below it: its contents are
           * all new even where lower layers have the same names. */
          char opaque[2] = "";
          bool is_opaque = fgetxattr (sub, "trusted.overlay.opaque", opaque, 1) == 1
                           && opaque[0] == 'y';
          if (walk (sub, path, lowers, is_opaque ? 0 : n, l, depth + 1, err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
change_cmp (const void *a, const void *b)
{
  return strcmp (((const struct arca_change *) a)->path, ((const struct arca_change *) b)->path);
}

int
arca_overlay_changes (const char *upper, const char *const *lowers, size_t n_lowers,
                      struct arca_change **ret, size_t *ret_count, arca_error **err)
{
  struct change_list l = { 0 };
  cleanup_close int fd = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return arca_error_errno (err, "diff: open `%s`", upper);
  if (walk (fd, "", lowers, n_lowers, &l, 0, err) < 0)
    {
      arca_changes_free (l.items, l.count);
      return -1;
    }
  qsort (l.items, l.count, sizeof *l.items, change_cmp);
  *ret = l.items;
  *ret_count = l.count;
  return 0;
}

void
arca_changes_free (struct arca_change *changes, size_t count)
{
  for (size_t i = 0; i < count; i++)
    free (changes[i].path);
  free (changes);
}
