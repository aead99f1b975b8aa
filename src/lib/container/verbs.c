/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state, kill, delete, pause/resume, update, ps, list. */
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

/* ---- the other verbs ---------------------------------------------------- */

int
arca_container_state_json (const struct arca_runtime *rt, const char *id, char **ret_json,
                           arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;
  if (arca_internal_open (rt, id, false, &h, err) < 0)
    return -1;
  if (h.rec == NULL)
    return arca_error_set (err, EAGAIN, "container `%s` is still being created", id);
  if (arca_internal_config (&h, err) < 0)
    return -1;
  struct arca_oci_state state = {
    .id = id,
    .status = arca_container_status_name (h.status),
    .pid = h.status == ARCA_STATUS_STOPPED ? 0 : h.rec->pid,
    .bundle = h.rec->bundle,
    .annotations = h.config->annotations,
    .n_annotations = h.config->n_annotations,
    .rootfs = h.rec->rootfs,
    .created = h.rec->created,
    .owner = "",
  };
  return arca_oci_state_to_json (&state, true, ret_json, err);
}

int
arca_container_kill (const struct arca_runtime *rt, const char *id, int sig, bool all,
                     arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;

  if (sig <= 0 || sig >= _NSIG)
    return arca_error_set (err, EINVAL, "invalid signal %d", sig);
  if (arca_internal_open (rt, id, true, &h, err) < 0)
    return -1;
  if (all && h.cgroup)
    {
      if (arca_cgroup_kill (h.cgroup, sig, err) < 0)
        return -1;
      if (h.status == ARCA_STATUS_PAUSED && sig == SIGKILL)
        arca_cgroup_freeze (h.cgroup, false, NULL);
      return 0;
    }
  if (h.status == ARCA_STATUS_STOPPED || h.status == ARCA_STATUS_CREATING)
    return arca_error_set (err, ESRCH, "container `%s` is not running", id);
  /* A pidfd checked against the recorded start time: the signal cannot hit
   * a recycled pid. */
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, h.rec->pid, 0);
  if (pidfd < 0 || !arca_pid_is (h.rec->pid, h.rec->pid_start))
    return arca_error_set (err, ESRCH, "container `%s` is not running", id);
  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return arca_error_errno (err, "kill container `%s`", id);
  if (h.status == ARCA_STATUS_PAUSED && sig == SIGKILL && h.cgroup)
    arca_cgroup_freeze (h.cgroup, false, NULL);
  return 0;
}

int
arca_container_delete (const struct arca_runtime *rt, const char *id, bool force,
                       arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;

  if (arca_internal_open (rt, id, true, &h, err) < 0)
    return -1;
  if (!force && (h.status == ARCA_STATUS_RUNNING || h.status == ARCA_STATUS_PAUSED))
    return arca_error_set (err, EBUSY,
                           "cannot delete container `%s` that is not stopped: %s (use --force)",
                           id, arca_container_status_name (h.status));
  arca_debug (rt->log, "delete %s: status %s%s", id, arca_container_status_name (h.status),
              force ? ", forced" : "");
  return arca_internal_destroy (rt, id, &h, true, err);
}

int
arca_container_pause (const struct arca_runtime *rt, const char *id, bool pause,
                      arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;

  if (arca_internal_open (rt, id, true, &h, err) < 0)
    return -1;
  if (pause && h.status != ARCA_STATUS_RUNNING)
    return arca_error_set (err, EINVAL, "cannot pause container `%s`: it is %s, not running", id,
                           arca_container_status_name (h.status));
  if (!pause && h.status != ARCA_STATUS_PAUSED)
    return arca_error_set (err, EINVAL, "cannot resume container `%s`: it is %s, not paused", id,
                           arca_container_status_name (h.status));
  if (h.cgroup == NULL)
    return arca_error_set (err, ENOTSUP, "container `%s` has no cgroup", id);
  return arca_cgroup_freeze (h.cgroup, pause, err);
}

int
arca_container_update (const struct arca_runtime *rt, const char *id,
                       const struct arca_oci_resources *resources, arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;

  if (arca_internal_open (rt, id, true, &h, err) < 0)
    return -1;
  if (h.status == ARCA_STATUS_STOPPED || h.status == ARCA_STATUS_CREATING || h.cgroup == NULL)
    return arca_error_set (err, EINVAL, "cannot update container `%s`: it is %s", id,
                           arca_container_status_name (h.status));
  return arca_cgroup_apply (h.cgroup, resources, err);
}

int
arca_container_pids (const struct arca_runtime *rt, const char *id, pid_t **ret_pids,
                     size_t *ret_count, arca_error **err)
{
  _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;

  if (arca_internal_open (rt, id, false, &h, err) < 0)
    return -1;
  if (h.cgroup == NULL || h.status == ARCA_STATUS_STOPPED)
    {
      *ret_pids = NULL;
      *ret_count = 0;
      return 0;
    }
  return arca_cgroup_pids (h.cgroup, ret_pids, ret_count, err);
}

static int
info_cmp (const void *a, const void *b)
{
  return strcmp (((const struct arca_container_info *) a)->id,
                 ((const struct arca_container_info *) b)->id);
}

int
arca_container_list (const struct arca_runtime *rt, struct arca_container_info **ret_infos,
                     size_t *ret_count, arca_error **err)
{
  struct arca_container_info *infos = NULL;
  size_t count = 0;

  *ret_infos = NULL;
  *ret_count = 0;
  cleanup_dir DIR *dir = opendir (rt->state_root);
  if (dir == NULL)
    return errno == ENOENT ? 0 : arca_error_errno (err, "open state root `%s`", rt->state_root);
  struct dirent *de;
  while ((de = readdir (dir)))
    {
      _cleanup_ (arca_internal_close) struct arca_container_handle h = ARCA_HANDLE_INIT;
      cleanup_error arca_error *skip = NULL;

      if (de->d_name[0] == '.' || arca_container_id_validate (de->d_name, &skip) < 0)
        continue;
      if (arca_internal_open (rt, de->d_name, false, &h, &skip) < 0 || h.rec == NULL)
        continue;
      struct arca_container_info *grown = realloc (infos, (count + 1) * sizeof *infos);
      if (grown == NULL)
        {
          arca_container_infos_free (infos, count);
          return arca_error_set (err, ENOMEM, "list containers");
        }
      infos = grown;
      infos[count] = (struct arca_container_info){
        .id = strdup (h.rec->id),
        .pid = h.status == ARCA_STATUS_STOPPED ? 0 : h.rec->pid,
        .status = h.status,
        .bundle = strdup (h.rec->bundle),
        .rootfs = strdup (h.rec->rootfs),
        .created = strdup (h.rec->created),
        .owner = h.rec->owner,
      };
      count++;
    }
  qsort (infos, count, sizeof *infos, info_cmp);
  *ret_infos = infos;
  *ret_count = count;
  return 0;
}

void
arca_container_infos_free (struct arca_container_info *infos, size_t count)
{
  for (size_t i = 0; i < count; i++)
    {
      free (infos[i].id);
      free (infos[i].bundle);
      free (infos[i].rootfs);
      free (infos[i].created);
    }
  free (infos);
}
