/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "selfexec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool
arca_selfexec_is_sealed (void)
{
  cleanup_close int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int seals;

  if (fd < 0)
    return false;
  seals = fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

/* Copies the binary open at fd into a sealed memfd and executes that. */
static int
exec_sealed_copy (int fd, const char *what, char **argv, char **envp, arca_error **err)
{
  cleanup_close int mfd = -1;
  struct stat st;
  off_t off = 0;

  if (fstat (fd, &st) < 0)
    return arca_error_errno (err, "stat `%s`", what);
  mfd = memfd_create ("arca-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return arca_error_errno (err, "memfd_create");
  while (off < st.st_size)
    {
      ssize_t n = sendfile (mfd, fd, &off, (size_t) (st.st_size - off));
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return arca_error_errno (err, "copy `%s` into memfd", what);
        }
      if (n == 0)
        break;
    }
  if (fcntl (mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
    return arca_error_errno (err, "seal runtime memfd");
  syscall (SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
  return arca_error_errno (err, "execute `%s` from sealed memfd", what);
}

int
arca_selfexec_ensure_sealed (char **argv, char **envp, arca_error **err)
{
  cleanup_close int self = -1;

  if (arca_selfexec_is_sealed ())
    return 0;
  self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return arca_error_errno (err, "open `/proc/self/exe`");
  return exec_sealed_copy (self, "/proc/self/exe", argv, envp, err);
}

int
arca_selfexec_exec_sealed (const char *path, char **argv, char **envp, arca_error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  return exec_sealed_copy (fd, path, argv, envp, err);
}
