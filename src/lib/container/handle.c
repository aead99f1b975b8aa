/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An open container (state directory, record, cgroup, config) and the steps
 * every verb shares: hooks, waiting for a process, tearing a container down. */
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

int
arca_internal_load_config (int dirfd, const char *bundle, char **ret_text, size_t *ret_len,
                           struct arca_oci_config **ret_config, arca_error **err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *path = NULL;
  size_t len = 0;

  if (dirfd >= 0)
    {
      if (arca_read_file_at (dirfd, ARCA_CONFIG_FILE, CONFIG_FILE_MAX, &text, &len, err) < 0)
        return arca_error_wrap (err, "container config");
    }
  else
    {
      if (asprintf (&path, "%s/config.json", bundle) < 0)
        return arca_error_set (err, ENOMEM, "bundle");
      if (arca_read_file_at (AT_FDCWD, path, CONFIG_FILE_MAX, &text, &len, err) < 0)
        return -1;
    }
  if (arca_oci_config_parse (text, len, ret_config, err) < 0)
    return path ? arca_error_wrap (err, "%s", path) : -1;
  if (ret_text)
    *ret_text = move_ptr (text);
  if (ret_len)
    *ret_len = len;
  return 0;
}

int
arca_internal_open (const struct arca_runtime *rt, const char *id, bool lock,
                    struct arca_container_handle *h, arca_error **err)
{
  memset (h, 0, sizeof *h);
  h->dirfd = -1;
  if (arca_state_dir_open (rt->state_root, id, lock, &h->dirfd, err) < 0)
    return -1;
  if (arca_record_load (h->dirfd, &h->rec, err) < 0)
    return -1;
  if (arca_container_status (rt->cgroup_root, h->dirfd, h->rec, &h->status, err) < 0)
    return -1;
  if (h->rec && h->rec->cgroup_path[0]
      && arca_cgroup_open (rt->cgroup_root, h->rec->cgroup_path, &h->cgroup, err) < 0)
    return -1;
  if (h->rec == NULL)
    {
      /* A create that died half way: its cgroup is still ours to remove. */
      cleanup_free char *path = NULL;
      cleanup_error arca_error *ignored = NULL;
      if (arca_read_file_at (h->dirfd, ARCA_CGROUP_FILE, PATH_MAX, &path, NULL, &ignored) == 0
          && path[0] == '/')
        arca_cgroup_open (rt->cgroup_root, path, &h->cgroup, &ignored);
    }
  return 0;
}

void
arca_internal_close (struct arca_container_handle *h)
{
  if (h->dirfd >= 0)
    close (h->dirfd);
  arca_record_free (h->rec);
  arca_cgroup_free (h->cgroup);
  arca_oci_config_free (h->config);
  memset (h, 0, sizeof *h);
  h->dirfd = -1;
}

int
arca_internal_config (struct arca_container_handle *h, arca_error **err)
{
  if (h->config)
    return 0;
  return arca_internal_load_config (h->dirfd, NULL, NULL, NULL, &h->config, err);
}

int
arca_internal_write_pid_file (const char *path, pid_t pid, arca_error **err)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);

  if (path == NULL)
    return 0;
  if (arca_write_file_replace_at (AT_FDCWD, path, buf, (size_t) n, 0644, err) < 0)
    return arca_error_wrap (err, "--pid-file");
  return 0;
}

/* Unix socket path for a file in a directory we hold open: short whatever
 * the directory's own path length (sun_path is 108 bytes). */
void
arca_internal_socket_path (int dirfd, const char *name, struct sockaddr_un *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  snprintf (addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", dirfd, name);
}

int
arca_internal_run_hooks (const struct arca_oci_config *config, enum arca_oci_hook_kind kind,
                   const char *id, const char *bundle, const char *status, pid_t pid,
                   arca_error **err)
{
  cleanup_free char *state = NULL;

  if (config->n_hooks[kind] == 0)
    return 0;
  if (arca_container_hook_state (config, id, bundle, status, pid, &state, err) < 0)
    return -1;
  return arca_hooks_run (config, kind, state, err);
}

/* Waits until pid is gone (it is not our child: poll its pidfd). */
static int
wait_gone (pid_t pid, uint64_t start, int timeout_ms, arca_error **err)
{
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);

  if (pidfd < 0)
    return 0; /* already gone */
  if (!arca_pid_is (pid, start))
    return 0;
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
  int r;
  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return arca_error_set (err, ETIMEDOUT, "process %d did not exit", (int) pid);
  /* Our own child (run): reap it so it does not linger as a zombie. */
  waitpid (pid, NULL, WNOHANG);
  return 0;
}

/* Kills everything and removes what the container owns on the host:
 * used by delete, by a failed create and at the end of a foreground run. */
int
arca_internal_destroy (const struct arca_runtime *rt, const char *id, struct arca_container_handle *h,
         bool run_poststop, arca_error **err)
{
  cleanup_error arca_error *local = NULL;

  if (h->rec && arca_pid_is (h->rec->pid, h->rec->pid_start))
    {
      if (h->cgroup)
        {
          arca_cgroup_kill (h->cgroup, SIGKILL, NULL);
          arca_cgroup_freeze (h->cgroup, false, NULL);
        }
      kill (h->rec->pid, SIGKILL);
      if (wait_gone (h->rec->pid, h->rec->pid_start, 10000, err) < 0)
        return -1;
    }
  if (run_poststop && h->rec && arca_internal_config (h, &local) == 0)
    {
      /* The spec: a failing poststop hook is a warning, deletion goes on. */
      if (arca_internal_run_hooks (h->config, ARCA_HOOK_POSTSTOP, id, h->rec->bundle, "stopped", 0,
                             &local)
          < 0)
        {
          arca_warn (rt->log, "poststop hook: %s", local->msg);
        }
    }
  if (h->cgroup && arca_cgroup_destroy (h->cgroup, err) < 0)
    return -1;
  return arca_state_dir_remove (rt->state_root, id, err);
}
