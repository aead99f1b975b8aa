/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/caps.h"
#include "linux/process.h"
#include "linux/seccomp-filter.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The kernel's struct sigaction: glibc's wrapper refuses the two realtime
 * signals it keeps for itself (32, 33), but an ignored disposition on them
 * is inherited across execve like any other. */
struct kernel_sigaction {
  void (*handler) (int);
  unsigned long flags;
  void (*restorer) (void);
  uint64_t mask;
};

void
arca_process_reset_signals (void)
{
  struct kernel_sigaction dfl = { .handler = SIG_DFL };
  sigset_t none;

  for (int sig = 1; sig < _NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      syscall (SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

int
arca_process_set_rlimits (const struct arca_oci_process *process, arca_error **err)
{
  for (size_t i = 0; i < process->n_rlimits; i++)
    {
      const struct arca_oci_rlimit *rl = &process->rlimits[i];
      struct rlimit want = { .rlim_cur = rl->soft, .rlim_max = rl->hard };
      struct rlimit have;

      if (rl->soft > rl->hard)
        return arca_error_set (err, EINVAL,
                               "process.rlimits[%s]: soft limit %llu is above the hard limit %llu",
                               rl->type, (unsigned long long) rl->soft,
                               (unsigned long long) rl->hard);
      if (setrlimit (rl->resource, &want) == 0)
        continue;
      int saved = errno;
      if (saved == EPERM && rl->resource == RLIMIT_NOFILE)
        {
          /* Above fs.nr_open is EPERM even with CAP_SYS_RESOURCE. */
          cleanup_free char *nr_open = NULL;
          if (arca_read_file_at (AT_FDCWD, "/proc/sys/fs/nr_open", 64, &nr_open, NULL, NULL) == 0
              && rl->hard > strtoull (nr_open, NULL, 10))
            return arca_error_set (err, EPERM,
                                   "process.rlimits[%s]: hard limit %llu is above fs.nr_open %llu",
                                   rl->type, (unsigned long long) rl->hard,
                                   strtoull (nr_open, NULL, 10));
        }
      /* Otherwise EPERM means raising the hard limit without
       * CAP_SYS_RESOURCE in the initial user namespace: a container init
       * in its own user namespace has the capability there, which does
       * not count, so the capability sets cannot tell. */
      if (saved == EPERM && getrlimit (rl->resource, &have) == 0 && rl->hard > have.rlim_max)
        return arca_error_set (err, EPERM,
                               "process.rlimits[%s]: hard limit %llu is above this host's limit "
                               "%llu and the runtime lacks CAP_SYS_RESOURCE to raise it",
                               rl->type, (unsigned long long) rl->hard,
                               (unsigned long long) have.rlim_max);
      return arca_error_set (err, saved, "process.rlimits[%s]: setrlimit", rl->type);
    }
  return 0;
}

int
arca_process_set_oom_score_adj (const struct arca_oci_process *process, arca_error **err)
{
  char buf[32];

  if (!process->has_oom_score_adj)
    return 0;
  int n = snprintf (buf, sizeof buf, "%d", process->oom_score_adj);
  if (arca_write_file_at (AT_FDCWD, "/proc/self/oom_score_adj", buf, (size_t) n, err) < 0)
    return arca_error_wrap (err, "process.oomScoreAdj");
  return 0;
}

int
arca_process_prepare_fds (unsigned preserve_fds, arca_error **err)
{
  unsigned first_closed = 3 + preserve_fds;

  /* fds are ints; past that 3 + preserve_fds wraps and close_range would
   * mark stdio close-on-exec. */
  if (preserve_fds > (unsigned) INT_MAX - 3)
    return arca_error_set (err, EINVAL, "--preserve-fds: %u is more fds than a process can have",
                           preserve_fds);
  for (unsigned fd = 3; fd < first_closed; fd++)
    {
      int flags = fcntl ((int) fd, F_GETFD);
      if (flags < 0)
        continue; /* a hole in the preserved range is fine */
      if (fcntl ((int) fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return arca_error_errno (err, "--preserve-fds: keep fd %u open", fd);
    }
  if (syscall (SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return arca_error_errno (err, "mark inherited file descriptors close-on-exec");
  return 0;
}

static const char *
env_get (char **env, const char *key)
{
  size_t len = strlen (key);

  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], key, len) == 0 && env[i][len] == '=')
      return env[i] + len + 1;
  return NULL;
}

static bool
is_executable_file (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

int
arca_process_find_program (const struct arca_oci_process *process, char **ret_path,
                           arca_error **err)
{
  const char *name = process->args[0];

  if (strchr (name, '/'))
    {
      /* Checked now so `create` fails, not a later `start`. */
      struct stat st;
      if (stat (name, &st) < 0)
        return arca_error_errno (err, "process.args[0]: `%s`", name);
      if (!S_ISREG (st.st_mode) || access (name, X_OK) < 0)
        return arca_error_set (err, EACCES, "process.args[0]: `%s` is not an executable file",
                               name);
      *ret_path = strdup (name);
      return *ret_path ? 0 : arca_error_set (err, ENOMEM, "process.args[0]");
    }
  const char *path = env_get (process->env, "PATH");
  if (path == NULL)
    path = DEFAULT_PATH;
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return arca_error_set (err, ENOMEM, "process.args[0]");
  /* strsep, not strtok: an empty entry (leading, trailing or "::") is the
   * current directory, as POSIX and runc's exec.LookPath have it. */
  char *rest = copy;
  for (char *dir = strsep (&rest, ":"); dir; dir = strsep (&rest, ":"))
    {
      cleanup_free char *candidate = NULL;
      if (asprintf (&candidate, "%s/%s", *dir ? dir : ".", name) < 0)
        return arca_error_set (err, ENOMEM, "process.args[0]");
      if (is_executable_file (candidate))
        {
          *ret_path = move_ptr (candidate);
          return 0;
        }
    }
  return arca_error_set (err, ENOENT, "process.args[0]: executable `%s` not found in $PATH", name);
}

static int
set_identity (const struct arca_oci_process *process, arca_error **err)
{
  const struct arca_oci_user *user = &process->user;

  if (setgroups (user->n_additional_gids, user->additional_gids) < 0)
    {
      /* A user namespace with setgroups denied: fine when none are asked. */
      if (!(errno == EPERM && user->n_additional_gids == 0))
        return arca_error_errno (err, "process.user.additionalGids: setgroups");
    }
  if (setresgid (user->gid, user->gid, user->gid) < 0)
    return arca_error_errno (err, "process.user.gid: setresgid %u (is it mapped?)",
                             (unsigned) user->gid);
  if (setresuid (user->uid, user->uid, user->uid) < 0)
    return arca_error_errno (err, "process.user.uid: setresuid %u (is it mapped?)",
                             (unsigned) user->uid);
  return 0;
}

/* Either a profile (compiled here) or a compiled program. */
static int
load_filter (const struct arca_oci_seccomp *seccomp, const struct arca_seccomp_program *program,
             int *ret_listener_fd, arca_error **err)
{
  if (program)
    return arca_seccomp_load_program (program, ret_listener_fd, err);
  if (seccomp)
    return arca_seccomp_load (seccomp, ret_listener_fd, err);
  return 0;
}

static int
finish (const struct arca_oci_process *process, const struct arca_oci_seccomp *seccomp,
        const struct arca_seccomp_program *program, int *ret_listener_fd, arca_error **err)
{
  *ret_listener_fd = -1;

  if (!process->no_new_privileges)
    if (load_filter (seccomp, program, ret_listener_fd, err) < 0)
      return -1;

  if (process->has_capabilities)
    {
      if (arca_caps_drop_bounding (process->capabilities.bounding, err) < 0)
        return -1;
      /* Keep the permitted set across the uid switch; capset below then
       * decides what stays. */
      if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return arca_error_errno (err, "prctl PR_SET_KEEPCAPS");
    }
  if (set_identity (process, err) < 0)
    return -1;
  if (process->has_capabilities)
    {
      if (arca_caps_apply_sets (&process->capabilities, err) < 0)
        return -1;
      if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return arca_error_errno (err, "prctl PR_SET_KEEPCAPS");
    }
  if (process->user.has_umask)
    umask (process->user.umask);
  if (chdir (process->cwd) < 0)
    return arca_error_errno (err, "process.cwd: chdir `%s`", process->cwd);
  if (process->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return arca_error_errno (err, "process.noNewPrivileges");
  if (process->no_new_privileges)
    if (load_filter (seccomp, program, ret_listener_fd, err) < 0)
      return -1;
  return 0;
}

int
arca_process_finish (const struct arca_oci_process *process,
                     const struct arca_oci_seccomp *seccomp, int *ret_listener_fd,
                     arca_error **err)
{
  return finish (process, seccomp, NULL, ret_listener_fd, err);
}

int
arca_process_finish_compiled (const struct arca_oci_process *process,
                              const struct arca_seccomp_program *program, int *ret_listener_fd,
                              arca_error **err)
{
  return finish (process, NULL, program, ret_listener_fd, err);
}

static bool
lsm_enabled (const char *name)
{
  cleanup_free char *lsms = NULL;

  if (arca_read_file_at (AT_FDCWD, "/sys/kernel/security/lsm", 4096, &lsms, NULL, NULL) < 0)
    return false;
  for (char *save = NULL, *tok = strtok_r (lsms, ",\n", &save); tok;
       tok = strtok_r (NULL, ",\n", &save))
    if (strcmp (tok, name) == 0)
      return true;
  return false;
}

int
arca_process_apply_labels (const struct arca_oci_process *process, arca_error **err)
{
  int ignored = 0;

  if (process->apparmor_profile && *process->apparmor_profile)
    {
      if (!lsm_enabled ("apparmor"))
        ignored = 1;
      else
        {
          cleanup_free char *cmd = NULL;
          if (asprintf (&cmd, "exec %s", process->apparmor_profile) < 0)
            return arca_error_set (err, ENOMEM, "process.apparmorProfile");
          cleanup_error arca_error *new_api_err = NULL;
          if (arca_write_file_at (AT_FDCWD, "/proc/self/attr/apparmor/exec", cmd, strlen (cmd),
                                  &new_api_err) < 0
              && arca_write_file_at (AT_FDCWD, "/proc/self/attr/exec", cmd, strlen (cmd), err) < 0)
            return arca_error_wrap (err, "process.apparmorProfile");
        }
    }
  if (process->selinux_label && *process->selinux_label)
    {
      if (!lsm_enabled ("selinux"))
        ignored = 1;
      else if (arca_write_file_at (AT_FDCWD, "/proc/self/attr/exec", process->selinux_label,
                                   strlen (process->selinux_label), err) < 0)
        return arca_error_wrap (err, "process.selinuxLabel");
    }
  return ignored;
}
