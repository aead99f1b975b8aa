/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime's side of create, start and run.  The container's side of
 * create is init.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arca-config.h"
#include "cgroup/cgroup.h"
#include "container/container.h"
#include "container/init.h"
#include "container/internal.h"
#include "container/sync.h"
#include "linux/hooks.h"
#include "linux/namespaces.h"
#include "linux/seccomp-filter.h"
#include "linux/selfexec.h"
#include "linux/terminal.h"
#include "oci/state.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define CONFIG_FILE_MAX (16 * 1024 * 1024)

/* ---- create ------------------------------------------------------------- */

struct creation {
  const struct arca_runtime *rt;
  const struct arca_create_options *opts;
  char *bundle;                   /* absolute */
  char *rootfs;                   /* absolute */
  char *config_text;
  size_t config_len;
  struct arca_oci_config *config;
  int dirfd;                      /* locked state dir */
  bool dir_made;
  struct arca_cgroup *cgroup;
  bool cgroup_made;
  pid_t pid;
  uint64_t pid_start;
  int sync_fd;                    /* the runtime's end */
  int start_fd;                   /* the listening start socket (create) */
  int pty_master;                 /* kept for a foreground run with a terminal */
  struct arca_seccomp_program seccomp;  /* compiled before clone */
  bool committed;                 /* success: keep everything */
};

static void
creation_cleanup (struct creation *c)
{
  if (!c->committed)
    {
      if (c->pid > 0)
        {
          kill (c->pid, SIGKILL);
          waitpid (c->pid, NULL, 0);
        }
      if (c->cgroup_made)
        arca_cgroup_destroy (c->cgroup, NULL);
      if (c->dir_made)
        arca_state_dir_remove (c->rt->state_root, c->opts->id, NULL);
    }
  if (c->dirfd >= 0)
    close (c->dirfd);
  if (c->sync_fd >= 0)
    close (c->sync_fd);
  if (c->start_fd >= 0)
    close (c->start_fd);
  if (c->pty_master >= 0)
    close (c->pty_master);
  arca_seccomp_program_clear (&c->seccomp);
  arca_cgroup_free (c->cgroup);
  arca_oci_config_free (c->config);
  free (c->config_text);
  free (c->bundle);
  free (c->rootfs);
}

static int
resolve_paths (struct creation *c, arca_error **err)
{
  const char *bundle = c->opts->bundle ? c->opts->bundle : ".";
  struct stat st;

  c->bundle = realpath (bundle, NULL);
  if (c->bundle == NULL)
    return arca_error_errno (err, "--bundle `%s`", bundle);
  if (arca_internal_load_config (-1, c->bundle, &c->config_text, &c->config_len, &c->config, err)
      < 0)
    return -1;
  if (!c->config->has_process)
    return arca_error_set (err, EINVAL, "process: required to create a container");
  cleanup_free char *joined = NULL;
  const char *root = c->config->root.path;
  if (root[0] != '/')
    {
      if (asprintf (&joined, "%s/%s", c->bundle, root) < 0)
        return arca_error_set (err, ENOMEM, "root.path");
      root = joined;
    }
  c->rootfs = realpath (root, NULL);
  if (c->rootfs == NULL)
    return arca_error_errno (err, "root.path `%s`", root);
  if (stat (c->rootfs, &st) < 0 || !S_ISDIR (st.st_mode))
    return arca_error_set (err, ENOTDIR, "root.path `%s`: not a directory", root);
  return 0;
}

/* Socket activation (systemd's LISTEN_FDS, honoured by runc too): the fds
 * are passed as preserved fds by the CLI; the process learns about them
 * from LISTEN_FDS, with LISTEN_PID=1 because it runs as pid 1. */
static int
apply_socket_activation (struct creation *c, arca_error **err)
{
  const char *fds = getenv ("LISTEN_FDS");
  const char *pid = getenv ("LISTEN_PID");
  char **env = c->config->process.env;
  size_t n = 0;

  if (fds == NULL || *fds == '\0' || (pid && *pid && atoi (pid) != getpid ()))
    return 0;
  while (env && env[n])
    n++;
  char **grown = realloc (env, (n + 3) * sizeof *grown);
  if (grown == NULL)
    return arca_error_set (err, ENOMEM, "LISTEN_FDS");
  c->config->process.env = grown;
  /* Drop what the config says about them: ours are the real ones. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp (grown[i], "LISTEN_FDS=", 11) == 0 || strncmp (grown[i], "LISTEN_PID=", 11) == 0)
      free (grown[i]);
    else
      grown[k++] = grown[i];
  if (asprintf (&grown[k], "LISTEN_FDS=%s", fds) < 0 || (grown[k + 1] = strdup ("LISTEN_PID=1")) == NULL)
    return arca_error_set (err, ENOMEM, "LISTEN_FDS");
  grown[k + 2] = NULL;
  return 0;
}

static int
check_host_support (struct creation *c, bool foreground, arca_error **err)
{
  const struct arca_oci_config *config = c->config;

  if (c->rt->systemd_cgroup)
    {
      if (access ("/run/systemd/system", F_OK) < 0)
        return arca_error_set (err, ENOTSUP,
                               "--systemd-cgroup: systemd is not the init system on this host "
                               "(no /run/systemd/system); use the cgroupfs manager");
      return arca_error_set (err, ENOTSUP,
                             "--systemd-cgroup: the systemd cgroup manager is not supported; "
                             "use the cgroupfs manager");
    }
  if (config->process.terminal && c->opts->console_socket == NULL && !foreground)
    return arca_error_set (err, EINVAL,
                           "process.terminal is true: --console-socket is required to receive "
                           "the terminal");
  if (!config->process.terminal && c->opts->console_socket)
    return arca_error_set (err, EINVAL,
                           "--console-socket given but process.terminal is false");
  if (config->hostname && !arca_oci_config_namespace (config, ARCA_NS_UTS))
    return arca_error_set (err, EINVAL, "hostname: requires a UTS namespace");
  return 0;
}

/* The device cgroup rules: the config's own, then (like runc and crun)
 * access to the devices every container gets and to linux.devices, so a
 * config that starts with "deny all" still has a working /dev/null. */
static const struct arca_oci_device_cgroup default_device_rules[] = {
  { .allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m" },
  { .allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m" },
  { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },   /* null */
  { .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm" },   /* zero */
  { .allow = true, .type = 'c', .major = 1, .minor = 7, .access = "rwm" },   /* full */
  { .allow = true, .type = 'c', .major = 1, .minor = 8, .access = "rwm" },   /* random */
  { .allow = true, .type = 'c', .major = 1, .minor = 9, .access = "rwm" },   /* urandom */
  { .allow = true, .type = 'c', .major = 5, .minor = 0, .access = "rwm" },   /* tty */
  { .allow = true, .type = 'c', .major = 5, .minor = 1, .access = "rwm" },   /* console */
  { .allow = true, .type = 'c', .major = 5, .minor = 2, .access = "rwm" },   /* ptmx */
  { .allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rwm" }, /* pts */
};

static int
apply_resources (struct creation *c, arca_error **err)
{
  const struct arca_oci_linux *lx = &c->config->linux_;
  struct arca_oci_resources r = { 0 };

  if (lx->has_resources)
    r = lx->resources;
  size_t n = r.n_devices + ARRAY_SIZE (default_device_rules) + lx->n_devices;
  cleanup_free struct arca_oci_device_cgroup *rules = calloc (n, sizeof *rules);
  if (rules == NULL)
    return arca_error_set (err, ENOMEM, "device rules");
  size_t k = 0;
  for (size_t i = 0; i < r.n_devices; i++)
    rules[k++] = r.devices[i];
  for (size_t i = 0; i < ARRAY_SIZE (default_device_rules); i++)
    rules[k++] = default_device_rules[i];
  for (size_t i = 0; i < lx->n_devices; i++)
    {
      const struct arca_oci_device *d = &lx->devices[i];
      if (d->type == 'p')
        continue;
      rules[k++] = (struct arca_oci_device_cgroup){
        .allow = true, .type = d->type == 'u' ? 'c' : d->type, .major = d->major,
        .minor = d->minor, .access = "rwm",
      };
    }
  r.devices = rules;
  r.n_devices = k;
  return arca_cgroup_apply (c->cgroup, &r, err);
}

static int
setup_cgroup (struct creation *c, arca_error **err)
{
  cleanup_free char *default_path = NULL;
  const char *path = c->config->linux_.cgroups_path;

  if (path == NULL || *path == '\0')
    {
      if (asprintf (&default_path, "/arca/%s", c->opts->id) < 0)
        return arca_error_set (err, ENOMEM, "cgroup path");
      path = default_path;
    }
  if (arca_cgroup_open (c->rt->cgroup_root, path, &c->cgroup, err) < 0)
    return arca_error_wrap (err, "linux.cgroupsPath");
  const char *resolved = arca_cgroup_path (c->cgroup);
  if (arca_write_file_replace_at (c->dirfd, ARCA_CGROUP_FILE, resolved, strlen (resolved), 0600,
                                 err)
      < 0)
    return -1;
  if (arca_cgroup_create (c->cgroup, err) < 0)
    return -1;
  c->cgroup_made = true;
  arca_debug (c->rt->log, "create %s: cgroup %s (%s)", c->opts->id, resolved,
              arca_cgroup_mode (c->cgroup) == ARCA_CGROUP_V2       ? "v2"
              : arca_cgroup_mode (c->cgroup) == ARCA_CGROUP_HYBRID ? "hybrid"
                                                                   : "v1");
  return apply_resources (c, err);
}

static int
make_start_socket (struct creation *c, arca_error **err)
{
  struct sockaddr_un addr;

  c->start_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->start_fd < 0)
    return arca_error_errno (err, "start socket");
  arca_internal_socket_path (c->dirfd, ARCA_START_SOCKET, &addr);
  if (bind (c->start_fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return arca_error_errno (err, "bind start socket");
  if (listen (c->start_fd, 4) < 0)
    return arca_error_errno (err, "listen on start socket");
  return 0;
}

/* pid and time namespaces apply to the children of the caller: enter or
 * make them here, before clone. */
static int
prepare_parent_namespaces (struct creation *c, arca_error **err)
{
  const struct arca_oci_config *config = c->config;

  for (size_t i = 0; i < config->linux_.n_namespaces; i++)
    {
      const struct arca_oci_namespace *ns = &config->linux_.namespaces[i];
      char what[64];

      if (ns->type != ARCA_NS_PID && ns->type != ARCA_NS_TIME)
        continue;
      snprintf (what, sizeof what, "linux.namespaces[%zu].path", i);
      if (ns->path)
        {
          if (arca_ns_join_path (ns->path, ns->clone_flag, what, err) < 0)
            return -1;
        }
      else if (ns->type == ARCA_NS_TIME)
        {
          if (unshare (CLONE_NEWTIME) < 0)
            return arca_error_errno (err, "linux.namespaces[%zu]: unshare time namespace", i);
          if (arca_ns_write_time_offsets (config, err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
clone_init (struct creation *c, arca_error **err)
{
  int flags = arca_ns_new_flags (c->config);
  int pair[2];
  sigset_t all;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return arca_error_errno (err, "socketpair");
  c->sync_fd = pair[0];

  struct arca_init_args args = {
    .rt = c->rt,
    .opts = c->opts,
    .config = c->config,
    .rootfs = c->rootfs,
    .bundle = c->bundle,
    .cgroup = c->cgroup,
    .sync_fd = pair[1],
    .start_fd = c->start_fd,
    .close_fds = { c->dirfd, pair[0], -1 },
    .new_user_ns = (flags & CLONE_NEWUSER) != 0,
    .seccomp = c->config->linux_.seccomp ? &c->seccomp : NULL,
  };
  /* No signal handler of ours may run in the child before it execs. */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &args.sigmask);

  struct clone_args ca = {
    .flags = (uint64_t) (flags & (CLONE_NEWUSER | CLONE_NEWPID)),
    .exit_signal = SIGCHLD,
  };
  long pid = syscall (SYS_clone3, &ca, sizeof ca);
  if (pid == 0)
    arca_container_init (&args);
  int saved = errno;
  sigprocmask (SIG_SETMASK, &args.sigmask, NULL);
  close (pair[1]);
  if (pid < 0)
    return arca_error_set (err, saved, "clone the container process");
  c->pid = (pid_t) pid;
  arca_debug (c->rt->log, "create %s: cloned the container process %d (namespace flags 0x%x)",
              c->opts->id, c->pid, flags);
  /* Now, while it waits for GO: a short-lived program may be gone by
   * the time the record is written. */
  if (arca_pid_start_time (c->pid, &c->pid_start, err) < 0)
    return arca_error_wrap (err, "the container process");
  return 0;
}

static int
hand_over_fd (struct creation *c, int fd, bool is_pty, bool foreground, arca_error **err)
{
  cleanup_close int owned = fd;

  if (is_pty)
    {
      if (c->opts->console_socket)
        {
          cleanup_close int sock = arca_unix_connect (c->opts->console_socket, err);
          if (sock < 0)
            return arca_error_wrap (err, "--console-socket");
          if (arca_fd_send (sock, owned, "", err) < 0)
            return arca_error_wrap (err, "--console-socket");
        }
      else if (foreground && c->pty_master < 0)
        c->pty_master = move_fd (owned);
      return 0;
    }
  cleanup_free char *state = NULL;
  if (arca_container_hook_state (c->config, c->opts->id, c->bundle, "creating", c->pid, &state,
                                 err)
      < 0)
    return -1;
  return arca_seccomp_send_listener (c->config->linux_.seccomp, owned, state, err);
}

/* The process died without saying why: say how it died. */
static int
setup_death (struct creation *c, arca_error **err)
{
  int status = 0;

  if (waitpid (c->pid, &status, 0) != c->pid)
    return arca_error_set (err, 0, "the container process exited during setup");
  c->pid = 0;
  if (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL
      && c->config->linux_.resources.has_memory_limit)
    return arca_error_set (err, 0,
                           "the container process was killed during setup: "
                           "linux.resources.memory.limit (%lld bytes) is probably too low",
                           (long long) c->config->linux_.resources.memory_limit);
  if (WIFSIGNALED (status))
    return arca_error_set (err, 0, "the container process was killed by signal %d during setup",
                           WTERMSIG (status));
  return arca_error_set (err, 0, "the container process exited with status %d during setup",
                         WEXITSTATUS (status));
}

/* Talks the container process through its setup until it is ready. */
static int
drive_setup (struct creation *c, bool foreground, arca_error **err)
{
  struct arca_sync_msg msg;

  if (c->config->linux_.n_uid_mappings || c->config->linux_.n_gid_mappings)
    if (arca_ns_new_flags (c->config) & CLONE_NEWUSER)
      if (arca_ns_write_id_maps (c->pid, c->config, err) < 0)
        return -1;
  if (arca_cgroup_enter (c->cgroup, c->pid, err) < 0)
    return -1;
  if (arca_sync_send (c->sync_fd, ARCA_SYNC_GO, c->pid, NULL, -1, err) < 0)
    return -1;
  for (;;)
    {
      int fd = -1;
      if (arca_sync_recv (c->sync_fd, &msg, &fd, err) < 0)
        return -1;
      switch (msg.type)
        {
        case ARCA_SYNC_READY:
          arca_debug (c->rt->log, "create %s: the container process is ready", c->opts->id);
          return 0;
        case ARCA_SYNC_HOOKS:
          arca_debug (c->rt->log, "create %s: prestart and createRuntime hooks", c->opts->id);
          if (arca_internal_run_hooks (c->config, ARCA_HOOK_PRESTART, c->opts->id, c->bundle,
                                 "creating", c->pid, err)
                  < 0
              || arca_internal_run_hooks (c->config, ARCA_HOOK_CREATE_RUNTIME, c->opts->id, c->bundle,
                                    "creating", c->pid, err)
                     < 0)
            return -1;
          if (arca_sync_send (c->sync_fd, ARCA_SYNC_HOOKS_DONE, 0, NULL, -1, err) < 0)
            return -1;
          break;
        case ARCA_SYNC_PTY:
        case ARCA_SYNC_SECCOMP:
          if (hand_over_fd (c, fd, msg.type == ARCA_SYNC_PTY, foreground, err) < 0)
            return -1;
          if (arca_sync_send (c->sync_fd, ARCA_SYNC_ACK, 0, NULL, -1, err) < 0)
            return -1;
          break;
        case ARCA_SYNC_ERROR:
          return arca_error_set (err, msg.value, "%s", msg.data);
        case ARCA_SYNC_EOF:
          return setup_death (c, err);
        default:
          if (fd >= 0)
            close (fd);
          return arca_error_set (err, EPROTO, "unexpected message %u from the container process",
                                 msg.type);
        }
    }
}

static int
save_record (struct creation *c, arca_error **err)
{
  cleanup_free char *created = NULL;

  if (arca_now_rfc3339 (&created, err) < 0)
    return -1;
  struct arca_container_record rec = {
    .id = (char *) c->opts->id,
    .bundle = c->bundle,
    .rootfs = c->rootfs,
    .created = created,
    .cgroup_path = (char *) arca_cgroup_path (c->cgroup),
    .pid = c->pid,
    .pid_start = c->pid_start,
    .owner = getuid (),
  };
  if (arca_write_file_replace_at (c->dirfd, ARCA_CONFIG_FILE, c->config_text, c->config_len, 0600,
                                 err)
      < 0)
    return -1;
  return arca_record_save (c->dirfd, &rec, err);
}

static int
create_common (struct creation *c, bool run_mode, bool foreground, arca_error **err)
{
  const char *id = c->opts->id;

  if (arca_container_id_validate (id, err) < 0 || resolve_paths (c, err) < 0
      || check_host_support (c, foreground, err) < 0 || apply_socket_activation (c, err) < 0)
    return -1;
  /* Without a pid namespace of its own the container can see runtime
   * processes: they must run from a sealed copy of the binary. */
  if (!(arca_ns_new_flags (c->config) & CLONE_NEWPID) && !arca_selfexec_is_sealed ())
    if (arca_selfexec_ensure_sealed (c->rt->argv, c->rt->envp, err) < 0)
      return -1;
  arca_debug (c->rt->log, "create %s: bundle %s, rootfs %s", id, c->bundle, c->rootfs);
  if (arca_state_dir_create (c->rt->state_root, id, &c->dirfd, err) < 0)
    return -1;
  c->dir_made = true;
  if (setup_cgroup (c, err) < 0)
    return -1;
  if (!run_mode && make_start_socket (c, err) < 0)
    return -1;
  if (c->config->linux_.seccomp)
    {
      cleanup_free char *cache = NULL;
      if (asprintf (&cache, "%s/seccomp", ARCA_CACHE_DIR) < 0)
        return arca_error_set (err, ENOMEM, "seccomp cache");
      if (arca_seccomp_compile (c->config->linux_.seccomp, cache, &c->seccomp, err) < 0)
        return -1;
    }
  if (prepare_parent_namespaces (c, err) < 0 || clone_init (c, err) < 0)
    return -1;
  if (drive_setup (c, foreground, err) < 0)
    return -1;
  if (save_record (c, err) < 0)
    return -1;
  return 0;
}

int
arca_container_create (const struct arca_runtime *rt, const struct arca_create_options *opts,
                       arca_error **err)
{
  _cleanup_ (creation_cleanup) struct creation c = {
    .rt = rt, .opts = opts, .dirfd = -1, .sync_fd = -1, .start_fd = -1, .pty_master = -1,
  };

  if (create_common (&c, false, false, err) < 0)
    return -1;
  if (arca_internal_write_pid_file (opts->pid_file, c.pid, err) < 0)
    return -1;
  c.committed = true;
  return 0;
}

/* ---- start / run -------------------------------------------------------- */

int
arca_container_start (const struct arca_runtime *rt, const char *id, arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;
  struct sockaddr_un addr;

  if (arca_internal_open (rt, id, true, &h, err) < 0)
    return -1;
  if (h.status != ARCA_STATUS_CREATED)
    return arca_error_set (err, EINVAL, "cannot start container `%s`: it is %s, not created", id,
                           arca_container_status_name (h.status));
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return arca_error_errno (err, "start socket");
  arca_internal_socket_path (h.dirfd, ARCA_START_SOCKET, &addr);
  if (connect (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    return arca_error_errno (err, "cannot start container `%s`: its init is not waiting", id);
  arca_debug (rt->log, "start %s: signalling its init %d", id, h.rec->pid);
  /* From here on the container counts as running. */
  unlinkat (h.dirfd, ARCA_START_SOCKET, 0);
  if (write (sock, "s", 1) != 1)
    return arca_error_errno (err, "start container `%s`", id);
  /* init closes the connection by exec (CLOEXEC) or writes why it failed. */
  char reply[ARCA_SYNC_DATA_MAX];
  size_t got = 0;
  for (;;)
    {
      ssize_t n = read (sock, reply + got, sizeof reply - 1 - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (size_t) n;
      if (got == sizeof reply - 1)
        break;
    }
  reply[got] = '\0';
  if (got > 0)
    return arca_error_set (err, 0, "%s", reply);
  if (arca_internal_config (&h, err) < 0)
    return -1;
  cleanup_error arca_error *hook_err = NULL;
  if (arca_internal_run_hooks (h.config, ARCA_HOOK_POSTSTART, id, h.rec->bundle, "running", h.rec->pid,
                         &hook_err)
      < 0)
    arca_warn (rt->log, "poststart hook: %s", hook_err->msg);
  return 0;
}

/* Forwards signals to the container's process until it exits. */
static int
wait_foreground (pid_t pid, int pty_master, int *ret_status, arca_error **err)
{
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                   SIGCONT, SIGWINCH };
  sigset_t mask, old;
  int status = 0;

  if (pty_master >= 0)
    {
      cleanup_error arca_error *proxy_err = NULL;
      arca_pty_proxy (pty_master, &proxy_err);
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      *ret_status = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
      return 0;
    }
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
    sigaddset (&mask, forwarded[i]);
  sigprocmask (SIG_BLOCK, &mask, &old);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  if (sfd < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return arca_error_errno (err, "signalfd");
    }
  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        break;
      struct signalfd_siginfo si;
      ssize_t n = read (sfd, &si, sizeof si);
      if (n != sizeof si)
        continue;
      if (si.ssi_signo != SIGCHLD)
        kill (pid, (int) si.ssi_signo);
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  *ret_status = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
  return 0;
}

int
arca_container_run (const struct arca_runtime *rt, const struct arca_create_options *opts,
                    bool detach, int *ret_status, arca_error **err)
{
  _cleanup_ (creation_cleanup) struct creation c = {
    .rt = rt, .opts = opts, .dirfd = -1, .sync_fd = -1, .start_fd = -1, .pty_master = -1,
  };
  struct arca_sync_msg msg;

  *ret_status = 0;
  if (create_common (&c, true, !detach, err) < 0)
    return -1;
  /* After READY the process runs startContainer hooks and execs: the end
   * of its sync socket closing says exec happened. */
  if (arca_sync_recv (c.sync_fd, &msg, NULL, err) < 0)
    return -1;
  if (msg.type == ARCA_SYNC_ERROR)
    return arca_error_set (err, msg.value, "%s", msg.data);
  if (arca_internal_write_pid_file (opts->pid_file, c.pid, err) < 0)
    return -1;
  cleanup_error arca_error *hook_err = NULL;
  if (arca_internal_run_hooks (c.config, ARCA_HOOK_POSTSTART, opts->id, c.bundle, "running", c.pid,
                         &hook_err)
      < 0)
    arca_warn (rt->log, "poststart hook: %s", hook_err->msg);
  if (detach)
    {
      c.committed = true;
      return 0;
    }
  if (wait_foreground (c.pid, c.pty_master, ret_status, err) < 0)
    return -1;
  /* The process is reaped: delete the container as `delete` would. */
  struct arca_container_handle h = {
    .dirfd = -1,
    .rec = NULL,
    .cgroup = move_ptr (c.cgroup),
    .config = move_ptr (c.config),
  };
  c.cgroup_made = false;
  c.dir_made = false;
  c.pid = 0;
  int r = arca_internal_destroy (rt, opts->id, &h, true, err);
  arca_internal_close (&h);
  return r;
}
