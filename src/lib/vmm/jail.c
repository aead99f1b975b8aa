/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-vmm --jail: the VMM's own sandbox, after Firecracker's jailer but
 * without a second binary.  Two steps:
 *
 *  1. arca_vmm_jail_fork(), before the VM exists: a cgroup (libarca's
 *     cgroup API) with the memory/pids limits, then unshare of a new pid
 *     namespace and one fork.  The child is pid 1 of its pid namespace,
 *     unshares a mount namespace of its own and builds and runs the VM;
 *     the parent only relays SIGINT/SIGTERM, waits, returns the child's
 *     status and removes the cgroup.  The parent stays in the host's mount
 *     namespace: had it shared the child's, the child's pivot_root (step
 *     2) would have moved the parent's root into the empty tmpfs as well,
 *     and the cgroup would no longer be there to remove.  The fork has to
 *     come before KVM_CREATE_VM: a VM belongs to the address space that
 *     created it, so a forked child could not use it.
 *  2. arca_vmm_jail_lock(), in the child once every file is open (kernel,
 *     drives, taps, /dev/kvm, the serial file, the API socket, which the
 *     parent bound before the fork and removes at the end) and before any
 *     thread starts: its mount namespace pivots into an empty, read-only
 *     tmpfs (the VMM opens nothing by path any more) or, with --jail-dir,
 *     into that directory (the files API requests name), then every
 *     capability goes (bounding, ambient, effective, permitted,
 *     inheritable) and no_new_privs is set; the seccomp filter follows
 *     once the vCPUs run (sandbox.c).
 *
 * A machine built only once the jail is closed (InstanceStart, snapshot
 * load, --restore, --incoming) finds what it cannot open by path there:
 * /dev/kvm kept open by the lock, the incoming migration's listening
 * socket bound by the parent before the fork, and its files (kernel,
 * drives, snapshot, vsock sockets) inside --jail-dir, resolved beneath it
 * (arca_vmm_jail_resolve). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "util/cleanup.h"
#include "jail.h"
#include "migrate.h"

/* The /dev/kvm descriptor the lock keeps.  The one piece of process-wide
   state in the VMM, written once before any thread exists and only read
   after: the jail it belongs to is process-wide too (the root, the
   capabilities), and kvm.c, which every machine build reaches, can then
   find it without each caller handing it down. */
static int kept_kvm_fd = -1;

static void
destroy_quiet (struct arca_cgroup *cg)
{
  cleanup_error arca_error *ignored = NULL;
  arca_cgroup_destroy (cg, &ignored);
}

static int
jail_cgroup (const struct arca_vmm_jail *j, struct arca_cgroup **ret, arca_error **err)
{
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  struct arca_oci_resources res = { 0 };
  char path[64];

  snprintf (path, sizeof (path), "arca-vmm-%ld", (long) getpid ());
  if (arca_cgroup_open ("/sys/fs/cgroup", j->cgroup != NULL ? j->cgroup : path, &cg, err) < 0
      || arca_cgroup_create (cg, err) < 0)
    return arca_error_wrap (err, "--jail: cgroup");
  if (j->memory_mib > 0)
    {
      res.has_memory_limit = true;
      res.memory_limit = (int64_t) j->memory_mib << 20;
    }
  if (j->pids > 0)
    {
      res.has_pids_limit = true;
      res.pids_limit = (int64_t) j->pids;
    }
  if (arca_cgroup_apply (cg, &res, err) < 0)
    {
      destroy_quiet (cg);
      return arca_error_wrap (err, "--jail: cgroup limits");
    }
  *ret = cg;
  cg = NULL;
  return 0;
}

/* Parent: SIGINT/SIGTERM (blocked in every thread since main) go on to the
   child; returns its exit status as a shell would. */
static int
relay_and_wait (pid_t child)
{
  sigset_t set;
  int status;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGCHLD);
  for (;;)
    {
      siginfo_t si;
      pid_t r = waitpid (child, &status, WNOHANG);
      if (r == child)
        break;
      if (r < 0 && errno != EINTR)
        return 1;
      if (sigwaitinfo (&set, &si) > 0 && si.si_signo != SIGCHLD)
        kill (child, si.si_signo);
    }
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return 128 + WTERMSIG (status);
}

int
arca_vmm_jail_fork (const struct arca_vmm_jail *j, int *ret_status, arca_error **err)
{
  cleanup_cgroup struct arca_cgroup *cg = NULL;
  sigset_t chld;
  int sync[2];
  pid_t child;
  char c = 0;

  if (j->dir != NULL)
    {
      struct stat st;
      if (stat (j->dir, &st) < 0)
        return arca_error_errno (err, "--jail-dir `%s`", j->dir);
      if (!S_ISDIR (st.st_mode))
        return arca_error_set (err, ENOTDIR, "--jail-dir `%s`", j->dir);
    }
  if (jail_cgroup (j, &cg, err) < 0)
    return -1;
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  if (pipe2 (sync, O_CLOEXEC) < 0)
    {
      destroy_quiet (cg);
      return arca_error_set (err, errno, "--jail: pipe");
    }
  if (unshare (CLONE_NEWPID) < 0)
    {
      int e = errno;
      close (sync[0]);
      close (sync[1]);
      destroy_quiet (cg);
      return arca_error_set (err, e, "--jail: unshare the pid namespace");
    }
  child = fork ();
  if (child < 0)
    {
      int e = errno;
      close (sync[0]);
      close (sync[1]);
      destroy_quiet (cg);
      return arca_error_set (err, e, "--jail: fork");
    }
  if (child == 0)
    {
      /* Pid 1 of the new namespace: it goes when the parent does, and
         waits until the parent has put it into the cgroup. */
      close (sync[1]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (read (sync[0], &c, 1) != 1)
        _exit (1);
      close (sync[0]);
      sigprocmask (SIG_UNBLOCK, &chld, NULL);
      /* Its own mount namespace, not shared with the parent (see above).
         A failure here ends the child; the parent removes the cgroup. */
      if (unshare (CLONE_NEWNS) < 0)
        return arca_error_set (err, errno, "--jail: unshare the mount namespace");
      return 0;
    }
  close (sync[0]);
  for (unsigned i = 0; i < ARRAY_SIZE (j->handover) && j->handover[i] != NULL; i++)
    arca_closep (j->handover[i]);
  if (arca_cgroup_enter (cg, child, err) < 0)
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
      close (sync[1]);
      destroy_quiet (cg);
      return arca_error_wrap (err, "--jail: enter the cgroup");
    }
  if (write (sync[1], &c, 1) != 1)
    kill (child, SIGKILL);
  close (sync[1]);
  *ret_status = relay_and_wait (child);
  destroy_quiet (cg);
  return 1;
}

static int
pivot_into_empty_root (arca_error **err)
{
  static const char dir[] = "/tmp";

  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return arca_error_set (err, errno, "--jail: make / private");
  if (mount ("arca-vmm-jail", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0500") < 0)
    return arca_error_set (err, errno, "--jail: mount a tmpfs root on `%s`", dir);
  if (chdir (dir) < 0 || mkdir ("old", 0500) < 0)
    return arca_error_set (err, errno, "--jail: prepare the new root");
  if (syscall (SYS_pivot_root, ".", "old") == 0)
    {
      if (umount2 ("old", MNT_DETACH) < 0 || rmdir ("old") < 0 || chdir ("/") < 0)
        return arca_error_set (err, errno, "--jail: detach the old root");
    }
  else if (errno == EINVAL)
    {
      /* arca-vmm's own root is not a mount point (it runs in a chroot):
         chroot into the empty tmpfs instead.  Without CAP_SYS_CHROOT
         (dropped next) there is no way back out. */
      if (rmdir ("old") < 0 || chroot (".") < 0 || chdir ("/") < 0)
        return arca_error_set (err, errno, "--jail: chroot into the new root");
    }
  else
    return arca_error_set (err, errno, "--jail: pivot_root");
  if (mount (NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
             NULL) < 0)
    return arca_error_set (err, errno, "--jail: make the root read-only");
  return 0;
}

/* --jail-dir: DIR itself becomes the root, writable but without devices,
   set-uid or exec, as Firecracker's jailer chroots into its directory
   (docs/vmm.md says why).  A bind of DIR onto itself in this private
   mount namespace is the mount point pivot_root needs; pivot_root (".",
   ".") stacks the old root on it, and the detach drops it, so nothing is
   created inside DIR. */
static int
pivot_into_dir (const char *dir, arca_error **err)
{
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return arca_error_set (err, errno, "--jail: make / private");
  if (mount (dir, dir, NULL, MS_BIND, NULL) < 0)
    return arca_error_set (err, errno, "--jail-dir: bind `%s`", dir);
  if (mount (NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return arca_error_set (err, errno, "--jail-dir: remount `%s` nosuid,nodev,noexec", dir);
  if (chdir (dir) < 0)
    return arca_error_set (err, errno, "--jail-dir: chdir `%s`", dir);
  if (syscall (SYS_pivot_root, ".", ".") == 0)
    {
      if (umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
        return arca_error_set (err, errno, "--jail: detach the old root");
    }
  else if (errno == EINVAL)
    {
      /* In a chroot (see pivot_into_empty_root). */
      if (chroot (".") < 0 || chdir ("/") < 0)
        return arca_error_set (err, errno, "--jail-dir: chroot into `%s`", dir);
    }
  else
    return arca_error_set (err, errno, "--jail-dir: pivot_root into `%s`", dir);
  return 0;
}

static int
drop_capabilities (arca_error **err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];

  for (int cap = 0; cap <= 63; cap++)
    if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return arca_error_set (err, errno, "--jail: drop capability %d from the bounding set", cap);
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return arca_error_set (err, errno, "--jail: clear ambient capabilities");
  memset (data, 0, sizeof (data));
  if (syscall (SYS_capset, &hdr, data) < 0)
    return arca_error_set (err, errno, "--jail: capset");
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return arca_error_set (err, errno, "--jail: no_new_privs");
  return 0;
}

int
arca_vmm_jail_lock (const struct arca_vmm_jail *j, arca_error **err)
{
  if (kept_kvm_fd < 0)
    {
      kept_kvm_fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
      if (kept_kvm_fd < 0)
        return arca_error_errno (err, "--jail: open `/dev/kvm`");
    }
  if ((j->dir != NULL ? pivot_into_dir (j->dir, err) : pivot_into_empty_root (err)) < 0
      || drop_capabilities (err) < 0)
    return -1;
  return 0;
}

int
arca_vmm_jail_kvm_fd (void)
{
  return kept_kvm_fd;
}

/* openat2 RESOLVE_BENEATH root_fd; -1 with errno. */
static int
open_beneath (int root_fd, const char *rel, int flags)
{
  struct open_how how = { .flags = (unsigned long long) (flags | O_PATH | O_CLOEXEC),
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
  int fd;

  do
    fd = (int) syscall (SYS_openat2, root_fd, rel, &how, sizeof (how));
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

static int
escape (const char *path, arca_error **err)
{
  return arca_error_set (err, EPERM, "`%s` is outside the jail directory (--jail-dir): name a "
                         "file inside it, absolute from the jail's root or relative to it", path);
}

/* The kernel keeps every open of the jailed VMM inside its root anyway;
   this turns what would leave it (`..` above it, a symlink out of it),
   which the root would silently stop at, into a clear error. */
int
arca_vmm_jail_resolve (int root_fd, const char *path, char *ret_rel, size_t size,
                       arca_error **err)
{
  char parent[PATH_MAX];
  const char *rel = path, *base;
  int fd;

  while (*rel == '/')
    rel++;
  base = strrchr (rel, '/') != NULL ? strrchr (rel, '/') + 1 : rel;
  if (strcmp (base, "..") == 0)
    return escape (path, err);
  if (*base == '\0' || strcmp (base, ".") == 0)
    return arca_error_set (err, EINVAL, "`%s` names no file", path);
  if (strlen (rel) >= size)
    return arca_error_set (err, ENAMETOOLONG, "`%s` is too long", path);
  snprintf (parent, sizeof (parent), "%.*s", base > rel ? (int) (base - rel) : 1,
            base > rel ? rel : ".");
  fd = open_beneath (root_fd, parent, O_DIRECTORY);
  if (fd < 0 && errno == ENOSYS)
    {
      /* No openat2 (Linux < 5.6): no `..` at all; the root still holds. */
      for (const char *c = rel; c != NULL; c = strchr (c, '/') != NULL ? strchr (c, '/') + 1 : NULL)
        if (strncmp (c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
          return escape (path, err);
    }
  else if (fd < 0)
    {
      if (errno == EXDEV)
        return escape (path, err);
      return arca_error_errno (err, "directory `%s` in the jail directory", parent);
    }
  else
    {
      close (fd);
      /* The file itself may be a symlink out of the jail. */
      fd = open_beneath (root_fd, rel, 0);
      if (fd < 0 && errno == EXDEV)
        return escape (path, err);
      if (fd >= 0)
        close (fd);
    }
  snprintf (ret_rel, size, "%s", rel);
  return 0;
}

int
arca_vmm_jail_listen (const char *address, int *ret_fd, arca_error **err)
{
  int fd = mig__listen (address, err);

  if (fd < 0)
    return arca_error_wrap (err, "--incoming");
  *ret_fd = fd;
  return 0;
}

void
arca_vmm_jail_unlink (const char *address)
{
  mig__unlink (address);
}
