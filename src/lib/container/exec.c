/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec: another process in a running container.
 *
 * The runtime enters the container's pid (and time) namespace for its
 * children only, then forks: the child, a copy of a sealed runtime binary
 * (see linux/selfexec.h, the container can see it), waits until the runtime
 * put it in the container's cgroup, joins the other namespaces through a
 * pidfd of the container's init (one atomic setns), sets up the process
 * like init does and execs.  The runtime stays its parent, so it can wait
 * for the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arca-config.h"
#include "container/container.h"
#include "container/internal.h"
#include "container/sync.h"
#include "linux/process.h"
#include "linux/seccomp-filter.h"
#include "linux/selfexec.h"
#include "linux/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const struct
{
  const char *name;
  int flag;
} ns_files[] = {
  { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },      { "pid", CLONE_NEWPID },
  { "net", CLONE_NEWNET },   { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },
  { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

/* The namespaces in which init differs from us: those we must enter. */
static int
differing_namespaces (pid_t pid)
{
  int flags = 0;

  for (size_t i = 0; i < ARRAY_SIZE (ns_files); i++)
    {
      char theirs[64], ours[64];
      struct stat a, b;

      snprintf (theirs, sizeof theirs, "/proc/%d/ns/%s", (int) pid, ns_files[i].name);
      snprintf (ours, sizeof ours, "/proc/self/ns/%s", ns_files[i].name);
      if (stat (theirs, &a) == 0 && stat (ours, &b) == 0
          && (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
        flags |= ns_files[i].flag;
    }
  return flags;
}

int
arca_container_exec_defaults (const struct arca_runtime *rt, const char *id,
                              struct arca_oci_process **ret_process, arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;
  cleanup_free char *text = NULL;
  size_t len = 0;
  json_error_t jerr;

  if (arca_state_dir_open (rt->state_root, id, false, &h.dirfd, err) < 0)
    return -1;
  if (arca_read_file_at (h.dirfd, ARCA_CONFIG_FILE, 16 * 1024 * 1024, &text, &len, err) < 0)
    return arca_error_wrap (err, "container `%s`", id);
  _cleanup_ (json_decrefp) json_t *doc = json_loadb (text, len, 0, &jerr);
  json_t *process = doc ? json_object_get (doc, "process") : NULL;
  if (process == NULL)
    return arca_error_set (err, EINVAL, "container `%s`: stored config has no process", id);
  cleanup_free char *process_text = json_dumps (process, JSON_COMPACT);
  if (process_text == NULL)
    return arca_error_set (err, ENOMEM, "exec");
  return arca_oci_process_parse (process_text, strlen (process_text), ret_process, err);
}

struct exec_child {
  const struct arca_exec_options *opts;
  const struct arca_oci_config *config;
  int pidfd;
  int ns_flags;          /* all namespaces to enter */
  int sync_fd;
  int close_fds[2];
  sigset_t sigmask;
  const struct arca_seccomp_program *seccomp;
};

static int
exec_setup (const struct exec_child *x, char **ret_program, arca_error **err)
{
  const struct arca_oci_process *p = x->opts->process;
  struct arca_sync_msg msg;
  int listener = -1;

  if (arca_sync_expect (x->sync_fd, ARCA_SYNC_GO, &msg, NULL, err) < 0)
    return -1;
  int flags = x->ns_flags & ~(CLONE_NEWPID | CLONE_NEWTIME);
  if (flags && setns (x->pidfd, flags) < 0)
    return arca_error_errno (err, "enter the namespaces of container `%s`", x->opts->id);
  close (x->pidfd);
  if (p->terminal)
    {
      cleanup_close int master = -1;
      cleanup_close int slave = -1;
      if (arca_pty_open (p->has_console_size ? p->console_height : 0,
                         p->has_console_size ? p->console_width : 0, &master, &slave, err)
          < 0)
        return arca_error_wrap (err, "--tty");
      if (arca_sync_send (x->sync_fd, ARCA_SYNC_PTY, 0, NULL, master, err) < 0
          || arca_sync_expect (x->sync_fd, ARCA_SYNC_ACK, &msg, NULL, err) < 0)
        return -1;
      if (arca_pty_become_controlling (slave, err) < 0)
        return -1;
    }
  else if (setsid () < 0 && errno != EPERM)
    return arca_error_errno (err, "setsid");
  if (arca_process_set_oom_score_adj (p, err) < 0 || arca_process_apply_labels (p, err) < 0
      || arca_process_set_rlimits (p, err) < 0
      || arca_process_prepare_fds (x->opts->preserve_fds, err) < 0)
    return -1;
  if (arca_process_finish_compiled (p, x->seccomp, &listener, err) < 0)
    return -1;
  if (listener >= 0)
    close (listener); /* the container's listener already has the filter's fd */
  if (arca_process_find_program (p, ret_program, err) < 0)
    return -1;
  return 0;
}

_Noreturn static void
exec_child_main (const struct exec_child *x)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *program = NULL;

  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* Until execve our memory holds runtime state: keep the container's
   * root from reading it through /proc. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (size_t i = 0; i < ARRAY_SIZE (x->close_fds); i++)
    if (x->close_fds[i] >= 0)
      close (x->close_fds[i]);
  arca_process_reset_signals ();
  if (exec_setup (x, &program, &err) == 0)
    {
      /* Like runc: the process outlives a runtime that dies after this. */
      prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
      if (arca_sync_send (x->sync_fd, ARCA_SYNC_READY, 0, NULL, -1, &err) == 0)
        {
          execve (program, x->opts->process->args, x->opts->process->env);
          arca_error_errno (&err, "exec `%s`", program);
        }
    }
  arca_sync_report_error (x->sync_fd, err);
  _exit (127);
}

static int
wait_child (pid_t pid, int *ret_status)
{
  int status = 0;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  *ret_status = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
  return 0;
}

static int
forward_until_exit (pid_t pid, int pty_master, int *ret_status)
{
  if (pty_master >= 0)
    {
      cleanup_error arca_error *proxy_err = NULL;
      arca_pty_proxy (pty_master, &proxy_err);
      return wait_child (pid, ret_status);
    }
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
  sigset_t mask, old;
  sigemptyset (&mask);
  for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
    sigaddset (&mask, forwarded[i]);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, &old);
  int status = 0;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        break;
      int sig = 0;
      if (sigwait (&mask, &sig) == 0 && sig != SIGCHLD)
        kill (pid, sig);
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  *ret_status = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
  return 0;
}

int
arca_container_exec (const struct arca_runtime *rt, const struct arca_exec_options *opts,
                     int *ret_status, arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;
  const struct arca_oci_process *p = opts->process;
  struct arca_sync_msg msg;
  int pair[2];

  *ret_status = 0;
  if (p->terminal && opts->detach && opts->console_socket == NULL)
    return arca_error_set (err, EINVAL, "--tty with --detach needs --console-socket");
  if (!p->terminal && opts->console_socket)
    return arca_error_set (err, EINVAL, "--console-socket needs --tty");
  if (arca_selfexec_ensure_sealed (rt->argv, rt->envp, err) < 0)
    return -1;
  if (arca_internal_open (rt, opts->id, false, &h, err) < 0 || arca_internal_config (&h, err) < 0)
    return -1;
  if (h.status != ARCA_STATUS_RUNNING && h.status != ARCA_STATUS_CREATED)
    return arca_error_set (err, EINVAL, "cannot exec in container `%s`: it is %s", opts->id,
                           arca_container_status_name (h.status));
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, h.rec->pid, 0);
  if (pidfd < 0 || !arca_pid_is (h.rec->pid, h.rec->pid_start))
    return arca_error_set (err, ESRCH, "container `%s` is not running", opts->id);
  int ns_flags = differing_namespaces (h.rec->pid);
  if ((ns_flags & (CLONE_NEWPID | CLONE_NEWTIME))
      && setns (pidfd, ns_flags & (CLONE_NEWPID | CLONE_NEWTIME)) < 0)
    return arca_error_errno (err, "enter the pid namespace of container `%s`", opts->id);
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return arca_error_errno (err, "socketpair");
  cleanup_close int sync_fd = pair[0];
  _cleanup_ (arca_seccomp_program_clear) struct arca_seccomp_program program = { 0 };
  if (h.config->linux_.seccomp)
    {
      cleanup_free char *cache = NULL;
      if (asprintf (&cache, "%s/seccomp", ARCA_CACHE_DIR) < 0)
        return arca_error_set (err, ENOMEM, "seccomp cache");
      if (arca_seccomp_compile (h.config->linux_.seccomp, cache, &program, err) < 0)
        return -1;
    }
  struct exec_child x = {
    .seccomp = h.config->linux_.seccomp ? &program : NULL,
    .opts = opts,
    .config = h.config,
    .pidfd = pidfd,
    .ns_flags = ns_flags,
    .sync_fd = pair[1],
    .close_fds = { pair[0], h.dirfd },
  };
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &x.sigmask);
  struct clone_args ca = { .exit_signal = SIGCHLD };
  long pid = syscall (SYS_clone3, &ca, sizeof ca);
  if (pid == 0)
    exec_child_main (&x);
  int saved = errno;
  sigprocmask (SIG_SETMASK, &x.sigmask, NULL);
  close (pair[1]);
  if (pid < 0)
    return arca_error_set (err, saved, "fork the exec process");

  cleanup_close int pty_master = -1;
  int failed = 0;
  if (h.cgroup && arca_cgroup_enter (h.cgroup, (pid_t) pid, err) < 0)
    failed = -1;
  else if (arca_sync_send (sync_fd, ARCA_SYNC_GO, (int32_t) pid, NULL, -1, err) < 0)
    failed = -1;
  while (!failed)
    {
      int fd = -1;
      if (arca_sync_recv (sync_fd, &msg, &fd, err) < 0)
        {
          failed = -1;
          break;
        }
      if (msg.type == ARCA_SYNC_READY)
        continue;
      if (msg.type == ARCA_SYNC_EOF)
        break; /* exec'd */
      if (msg.type == ARCA_SYNC_PTY)
        {
          cleanup_close int master = fd;
          if (opts->console_socket)
            {
              cleanup_close int sock = arca_unix_connect (opts->console_socket, err);
              if (sock < 0 || arca_fd_send (sock, master, "", err) < 0)
                {
                  failed = arca_error_wrap (err, "--console-socket");
                  break;
                }
            }
          else
            pty_master = move_fd (master);
          if (arca_sync_send (sync_fd, ARCA_SYNC_ACK, 0, NULL, -1, err) < 0)
            failed = -1;
          continue;
        }
      if (fd >= 0)
        close (fd);
      if (msg.type == ARCA_SYNC_ERROR)
        failed = arca_error_set (err, msg.value, "%s", msg.data);
      else
        failed = arca_error_set (err, EPROTO, "unexpected message %u from the exec process",
                                 msg.type);
    }
  if (failed)
    {
      kill ((pid_t) pid, SIGKILL);
      waitpid ((pid_t) pid, NULL, 0);
      return -1;
    }
  if (arca_internal_write_pid_file (opts->pid_file, (pid_t) pid, err) < 0)
    return -1;
  if (opts->detach)
    return 0;
  if (forward_until_exit ((pid_t) pid, pty_master, ret_status) < 0)
    return arca_error_errno (err, "wait for the exec process");
  return 0;
}
