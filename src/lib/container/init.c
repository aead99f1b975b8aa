/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/init.h"
#include "container/sync.h"
#include "linux/hooks.h"
#include "linux/namespaces.h"
#include "linux/process.h"
#include "linux/rootfs.h"
#include "linux/terminal.h"
#include "oci/state.h"
#include "util/cleanup.h"
#include "util/fs.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

int
arca_container_hook_state (const struct arca_oci_config *config, const char *id,
                           const char *bundle, const char *status, pid_t pid, char **ret_json,
                           arca_error **err)
{
  struct arca_oci_state state = {
    .id = id,
    .status = status,
    .pid = pid,
    .bundle = bundle,
    .annotations = config->annotations,
    .n_annotations = config->n_annotations,
  };
  return arca_oci_state_to_json (&state, false, ret_json, err);
}

/* setns() into every namespace the config names by path, the user namespace
 * first (it decides what we may join next).  pid and time were joined by the
 * runtime before clone: they only apply to children. */
static int
join_namespaces (const struct arca_oci_config *config, arca_error **err)
{
  const struct arca_oci_linux *lx = &config->linux_;

  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < lx->n_namespaces; i++)
      {
        const struct arca_oci_namespace *ns = &lx->namespaces[i];
        bool is_user = ns->type == ARCA_NS_USER;
        char what[64];

        if (ns->path == NULL || ns->type == ARCA_NS_PID || ns->type == ARCA_NS_TIME)
          continue;
        if ((pass == 0) != is_user)
          continue;
        snprintf (what, sizeof what, "linux.namespaces[%zu].path", i);
        if (arca_ns_join_path (ns->path, ns->clone_flag, what, err) < 0)
          return -1;
      }
  return 0;
}

static int
set_names (const struct arca_oci_config *config, arca_error **err)
{
  if (config->hostname && sethostname (config->hostname, strlen (config->hostname)) < 0)
    return arca_error_errno (err, "hostname: sethostname `%s`", config->hostname);
  if (config->domainname && setdomainname (config->domainname, strlen (config->domainname)) < 0)
    return arca_error_errno (err, "domainname: setdomainname `%s`", config->domainname);
  return 0;
}

static int
write_sysctls (const struct arca_oci_config *config, arca_error **err)
{
  for (size_t i = 0; i < config->linux_.n_sysctl; i++)
    {
      const struct arca_oci_sysctl *s = &config->linux_.sysctl[i];
      cleanup_free char *path = NULL;

      if (asprintf (&path, "/proc/sys/%s", s->key) < 0)
        return arca_error_set (err, ENOMEM, "linux.sysctl");
      for (char *p = path + strlen ("/proc/sys/"); *p; p++)
        if (*p == '.')
          *p = '/';
      if (arca_write_file_at (AT_FDCWD, path, s->value, strlen (s->value), err) < 0)
        return arca_error_wrap (err, "linux.sysctl[%s]", s->key);
    }
  return 0;
}

static bool
has_hooks (const struct arca_oci_config *config, enum arca_oci_hook_kind kind)
{
  return config->n_hooks[kind] > 0;
}

static int
run_hooks_here (const struct arca_init_args *a, enum arca_oci_hook_kind kind, const char *status,
                pid_t host_pid, arca_error **err)
{
  cleanup_free char *state = NULL;

  if (!has_hooks (a->config, kind))
    return 0;
  if (arca_container_hook_state (a->config, a->opts->id, a->bundle, status, host_pid, &state, err)
      < 0)
    return -1;
  return arca_hooks_run (a->config, kind, state, err);
}

/* The pty for process.terminal, opened from the container's own devpts,
 * handed to the runtime, and made our stdio. */
static int
setup_terminal (const struct arca_init_args *a, arca_error **err)
{
  const struct arca_oci_process *p = &a->config->process;
  cleanup_close int master = -1;
  cleanup_close int slave = -1;
  struct arca_sync_msg msg;

  if (arca_pty_open (p->has_console_size ? p->console_height : 0,
                     p->has_console_size ? p->console_width : 0, &master, &slave, err) < 0)
    return arca_error_wrap (err, "process.terminal");
  if (arca_sync_send (a->sync_fd, ARCA_SYNC_PTY, 0, NULL, master, err) < 0
      || arca_sync_expect (a->sync_fd, ARCA_SYNC_ACK, &msg, NULL, err) < 0)
    return -1;
  return arca_pty_become_controlling (slave, err);
}

/* Everything between clone and "ready"; on error *err says why. */
static int
setup (const struct arca_init_args *a, pid_t *ret_host_pid, int *ret_listener,
       char **ret_program, arca_error **err)
{
  const struct arca_oci_config *config = a->config;
  struct arca_sync_msg msg;
  int new_flags = arca_ns_new_flags (config);

  if (arca_sync_expect (a->sync_fd, ARCA_SYNC_GO, &msg, NULL, err) < 0)
    return -1;
  *ret_host_pid = msg.value;
  if (a->new_user_ns)
    {
      /* clone() left us with the runtime's host credentials, which the new
       * namespace does not map: become its root, so what we create has a
       * mapped owner.  Configs that do not map 0 keep the overflow ids until
       * process.user is applied. */
      if (setresgid (0, 0, 0) < 0 && errno != EINVAL)
        return arca_error_errno (err, "setresgid 0 in the user namespace");
      if (setresuid (0, 0, 0) < 0 && errno != EINVAL)
        return arca_error_errno (err, "setresuid 0 in the user namespace");
      if (setgroups (0, NULL) < 0 && errno != EPERM)
        return arca_error_errno (err, "drop the runtime's supplementary groups");
    }

  if (join_namespaces (config, err) < 0)
    return -1;
  int unshare_flags = new_flags & ~(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWTIME);
  if (unshare_flags && unshare (unshare_flags) < 0)
    return arca_error_errno (err, "linux.namespaces: unshare");
  if ((unshare_flags & CLONE_NEWNET) && arca_ns_loopback_up (err) < 0)
    return -1;
  if (!(new_flags & CLONE_NEWNS) && !arca_oci_config_namespace (config, ARCA_NS_MOUNT))
    return arca_error_set (err, EINVAL, "linux.namespaces: a mount namespace is required");

  if (!a->opts->no_new_keyring)
    {
      /* A session keyring of its own, so the container cannot read the
       * host's keys; kernels without keys are fine. */
      char name[128];
      snprintf (name, sizeof name, "_ses.%.100s", a->opts->id);
      if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS
          && errno != EACCES && errno != EDQUOT)
        return arca_error_errno (err, "join a new session keyring");
    }
  if (set_names (config, err) < 0 || write_sysctls (config, err) < 0
      || arca_process_set_oom_score_adj (&config->process, err) < 0)
    return -1;

  /* Relative bind-mount sources are relative to the bundle (runc, crun). */
  if (chdir (a->bundle) < 0)
    return arca_error_errno (err, "chdir to the bundle `%s`", a->bundle);
  struct arca_rootfs_options ro = {
    .rootfs = a->rootfs,
    .no_pivot = a->opts->no_pivot,
    .in_user_ns = a->new_user_ns || arca_oci_config_namespace (config, ARCA_NS_USER) != NULL,
    .new_cgroup_ns = (new_flags & CLONE_NEWCGROUP) != 0,
    .cgroup = a->cgroup,
  };
  if (arca_rootfs_prepare (config, &ro, err) < 0)
    return -1;
  if (has_hooks (config, ARCA_HOOK_PRESTART) || has_hooks (config, ARCA_HOOK_CREATE_RUNTIME))
    {
      if (arca_sync_send (a->sync_fd, ARCA_SYNC_HOOKS, 0, NULL, -1, err) < 0
          || arca_sync_expect (a->sync_fd, ARCA_SYNC_HOOKS_DONE, &msg, NULL, err) < 0)
        return -1;
    }
  if (run_hooks_here (a, ARCA_HOOK_CREATE_CONTAINER, "creating", *ret_host_pid, err) < 0)
    return -1;
  if (arca_rootfs_pivot (config, &ro, err) < 0)
    return -1;
  if (config->process.terminal && setup_terminal (a, err) < 0)
    return -1;
  if (arca_rootfs_finalize (config, &ro, err) < 0)
    return -1;

  if (config->linux_.has_personality
      && personality (config->linux_.personality | config->linux_.personality_flags) < 0)
    return arca_error_errno (err, "linux.personality");
  if (arca_process_apply_labels (&config->process, err) < 0)
    return -1;
  if (arca_process_set_rlimits (&config->process, err) < 0)
    return -1;
  if (arca_process_prepare_fds (a->opts->preserve_fds, err) < 0)
    return -1;
  if (arca_process_finish_compiled (&config->process, a->seccomp, ret_listener, err) < 0)
    return -1;
  if (arca_process_find_program (&config->process, ret_program, err) < 0)
    return -1;
  if (*ret_listener >= 0)
    {
      if (arca_sync_send (a->sync_fd, ARCA_SYNC_SECCOMP, 0, NULL, *ret_listener, err) < 0
          || arca_sync_expect (a->sync_fd, ARCA_SYNC_ACK, &msg, NULL, err) < 0)
        return -1;
      close (*ret_listener);
      *ret_listener = -1;
    }
  return 0;
}

/* Waits for `start`.  Returns the connection (its peer reads our error if
 * exec fails), or -1 when the runtime gave up. */
static int
wait_for_start (int start_fd)
{
  for (;;)
    {
      int conn = accept4 (start_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return -1;
        }
      char byte;
      ssize_t n;
      do
        n = read (conn, &byte, 1);
      while (n < 0 && errno == EINTR);
      if (n == 1 && byte == 's')
        return conn;
      close (conn);
    }
}

/* Reports err to the runtime (over the sync socket) or to `start` (over its
 * connection, as plain text) and exits. */
_Noreturn static void
die (int fd, bool is_sync, const arca_error *err, int status)
{
  if (is_sync)
    arca_sync_report_error (fd, err);
  else if (fd >= 0)
    {
      char *text = arca_error_string (err);
      if (text && write (fd, text, strlen (text)) < 0)
        status = 127;
      free (text);
    }
  _exit (status);
}

_Noreturn void
arca_container_init (const struct arca_init_args *a)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *program = NULL;
  pid_t host_pid = 0;
  int listener = -1;
  int report_fd = a->sync_fd;

  /* If the runtime dies before we are set up, so do we. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  for (size_t i = 0; i < ARRAY_SIZE (a->close_fds); i++)
    if (a->close_fds[i] >= 0)
      close (a->close_fds[i]);
  arca_process_reset_signals ();

  if (setup (a, &host_pid, &listener, &program, &err) < 0)
    die (a->sync_fd, true, err, 1);

  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (arca_sync_send (a->sync_fd, ARCA_SYNC_READY, 0, NULL, -1, &err) < 0)
    _exit (1);
  if (a->start_fd >= 0)
    {
      close (a->sync_fd);
      report_fd = wait_for_start (a->start_fd);
      if (report_fd < 0)
        _exit (1);
      close (a->start_fd);
    }
  if (run_hooks_here (a, ARCA_HOOK_START_CONTAINER, "created", host_pid, &err) < 0)
    die (report_fd, report_fd == a->sync_fd, err, 1);
  execve (program, a->config->process.args, a->config->process.env);
  arca_error_errno (&err, "exec `%s`", program);
  die (report_fd, report_fd == a->sync_fd, err, 127);
}
