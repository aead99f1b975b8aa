/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File helpers.  Every fd they return is O_CLOEXEC. */
#ifndef ARCA_UTIL_FS_H
#define ARCA_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Reads a whole file (relative to dirfd, or AT_FDCWD) into a NUL-terminated
 * buffer; *ret_len (optional) receives the length.  max_size bounds it:
 * inputs such as config.json are untrusted. */
int arca_read_file_at (int dirfd, const char *path, size_t max_size,
                       char **ret_data, size_t *ret_len, arca_error **err);

/* Writes data to an existing file (cgroup knobs, /proc files): one write(2),
 * so the kernel sees the value at once. */
int arca_write_file_at (int dirfd, const char *path, const void *data,
                        size_t len, arca_error **err);

/* Writes a new file by temp + fsync + rename so readers see either the old
 * or the new content, never a half.  mode applies to the new file. */
int arca_write_file_atomic_at (int dirfd, const char *path, const void *data,
                               size_t len, mode_t mode, arca_error **err);

/* The same without fsync: readers still never see half a file, but a crash
 * may lose the new content.  For state that does not outlive a reboot
 * anyway (the runtime's, under /run). */
int arca_write_file_replace_at (int dirfd, const char *path, const void *data,
                                size_t len, mode_t mode, arca_error **err);

/* mkdir -p; existing directories are fine. */
int arca_mkdir_p (const char *path, mode_t mode, arca_error **err);

/* Opens path below root_fd with every component (symlinks and ".." too)
 * resolved inside that root, like chroot would (openat2 RESOLVE_IN_ROOT).
 * This is how arca opens anything inside a container rootfs from the host. */
int arca_open_in_root (int root_fd, const char *path, int flags, mode_t mode,
                       arca_error **err);

/* Creates path (and missing parents) below root_fd, resolved inside the root;
 * as a directory when is_dir, else as an empty file.  Returns an O_PATH fd
 * to it. */
int arca_mkpath_in_root (int root_fd, const char *path, int is_dir,
                         mode_t mode, arca_error **err);

/* The entry names of the directory dirfd (without "." and ".."), sorted,
 * as a NULL-terminated vector; *ret_n (may be NULL) gets their number.
 * Reads through a descriptor of its own, so dirfd's offset is untouched. */
int arca_dir_list_sorted (int dirfd, char ***ret, size_t *ret_n, arca_error **err);

/* Removes a directory tree (does not cross mount points). */
int arca_rm_rf_at (int dirfd, const char *path, arca_error **err);

#endif
