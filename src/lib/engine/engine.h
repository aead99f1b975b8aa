/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `arca` engine: images (image/), containers with an overlay root, a
 * monitor per running container and metadata in SQLite.  Daemonless: every
 * `arca` command opens the engine, does its work and exits.
 *
 *   <root>/                      the image store (image/store.h) and arca.db
 *   <root>/containers/<id>/      bundle (config.json), upper/, work/, merged/,
 *                                ctr.log, exit.json, etc/ (hosts, hostname,
 *                                resolv.conf)
 *   <run_root>/runtime/          libarca container state (like /run/arca)
 */
#ifndef ARCA_ENGINE_ENGINE_H
#define ARCA_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/container.h"
#include "engine/monitor.h"
#include "engine/spec.h"
#include "image/db.h"
#include "image/store.h"
#include "util/error.h"
#include "util/log.h"

#define ARCA_ENGINE_DEFAULT_RUN_ROOT "/run/arca-engine"
#define ARCA_ENGINE_ID_LEN 64

struct arca_engine {
  char *root;
  char *run_root;
  char *runtime_root;
  char *self_exe;             /* for the monitor's exit command */
  char *monitor_path;         /* arca-monitor, NULL: in-process monitors */
  arca_store *store;
  arca_db *db;
  struct arca_runtime rt;
  const struct arca_log *log;
};

int arca_engine_open (const char *root, const char *run_root, const struct arca_log *log,
                      struct arca_engine **ret, arca_error **err);
void arca_engine_close (struct arca_engine *e);
void arca_engine_closep (struct arca_engine **e);
#define cleanup_engine __attribute__ ((cleanup (arca_engine_closep)))

/* A helper program of arca's: $env, else beside arca (the same
 * directory, the build tree's ../<sub>/<name>, or ../libexec/arca/<name>), else
 * /usr/libexec/arca/<name>.  ENOENT naming env when there is none. */
int arca_engine_find_tool (const char *env, const char *sub, const char *name, char **ret,
                           arca_error **err);

/* `arca import`: a root filesystem tarball (read from fd) as a one-layer
 * image tagged ref; cmd (may be NULL) becomes its Cmd. */
int arca_engine_import (struct arca_engine *e, int fd, const char *ref, char *const *cmd,
                        char *ret_image_id, arca_error **err);

/* The embedded default image: localhost/busybox:latest from the host's
 * busybox-static, built when a command asks for `busybox` and it is not in
 * the store. */
int arca_engine_ensure_busybox (struct arca_engine *e, const char *ref, arca_error **err);

/* ---- containers --------------------------------------------------------- */

struct arca_create_request {
  const char *image;          /* what the user typed */
  const char *name;           /* NULL: generated */
  struct arca_run_spec spec;
  bool remove;                /* --rm */
  enum arca_restart_policy restart;
  unsigned max_restarts;
  const char *stop_signal;    /* NULL: the image's, else SIGTERM */
  int stop_timeout;           /* seconds, -1: 10 */
  char **labels;
  bool interactive;           /* -i: the container's stdin stays open (attach feeds it) */
  /* Join another container's namespaces (engine/pod.h): --pod NAME, or
   * --network/--ipc/--pid container:NAME (spec.network ARCA_NET_CONTAINER
   * for the network). */
  const char *pod;
  const char *network_container, *ipc_container, *pid_container;
};

enum arca_engine_status {
  ARCA_ENGINE_CREATED = 0,
  ARCA_ENGINE_RUNNING,
  ARCA_ENGINE_PAUSED,
  ARCA_ENGINE_EXITED,
};

struct arca_engine_container {
  char id[ARCA_ENGINE_ID_LEN + 1];
  char *name;
  char *image_id;
  char *image;                /* as the user named it */
  char *command;              /* args joined, for `ps` */
  int64_t created;            /* unix seconds */
  enum arca_engine_status status;
  pid_t pid;                  /* running: host pid of its init */
  int exit_code;              /* exited */
  int64_t finished_ns;
  bool remove;
  char *stop_signal;
  int stop_timeout;
  char *pod;                  /* the id of its pod, NULL: none */
  bool vm;                    /* a `run --vm -d` record (engine/vm-record.h); pid is arca-vmm's */
};

int arca_engine_create (struct arca_engine *e, const struct arca_create_request *req,
                        char *ret_id, arca_error **err);
int arca_engine_start (struct arca_engine *e, const char *name_or_id, pid_t *ret_pid,
                       arca_error **err);
/* Runs a created container attached to our own stdio (`run -i`/`run -t`
 * in the foreground): no monitor, the terminal is proxied by this process,
 * output is not logged.  Returns the exit code in *ret_exit_code. */
int arca_engine_run_attached (struct arca_engine *e, const char *name_or_id, int *ret_exit_code,
                              arca_error **err);

/* stop: the stop signal, then SIGKILL after timeout seconds (-1: the
 * container's own). */
int arca_engine_stop (struct arca_engine *e, const char *name_or_id, int timeout,
                      arca_error **err);
int arca_engine_kill (struct arca_engine *e, const char *name_or_id, int sig, arca_error **err);
int arca_engine_remove (struct arca_engine *e, const char *name_or_id, bool force,
                        arca_error **err);
/* Blocks until the container exited; its exit code. */
int arca_engine_wait (struct arca_engine *e, const char *name_or_id, int *ret_exit_code,
                      arca_error **err);
int arca_engine_get (struct arca_engine *e, const char *name_or_id,
                     struct arca_engine_container **ret, arca_error **err);
int arca_engine_list (struct arca_engine *e, struct arca_engine_container ***ret,
                      arca_error **err);
void arca_engine_container_free (struct arca_engine_container *c);
void arca_engine_container_freep (struct arca_engine_container **c);
void arca_engine_containers_free (struct arca_engine_container **v);
#define cleanup_engine_container __attribute__ ((cleanup (arca_engine_container_freep)))

/* The monitor's before-start command: the network driver's attach. */
int arca_engine_network_attach (struct arca_engine *e, const char *id, pid_t init_pid,
                                arca_error **err);

/* The monitor's exit command: unmount the root, remove --rm containers. */
int arca_engine_cleanup (struct arca_engine *e, const char *id, arca_error **err);

/* Paths of a container's files. */
int arca_engine_container_dir (struct arca_engine *e, const char *id, const char *file,
                               char **ret, arca_error **err);

/* `logs`: writes stdout records to out_fd and stderr records to err_fd;
 * follow keeps reading until the container exits. */
struct arca_logs_options {
  bool follow, timestamps;
  size_t tail;                /* 0 = all */
  int64_t since_ns;
};
int arca_engine_logs (struct arca_engine *e, const char *name_or_id,
                      const struct arca_logs_options *opts, int out_fd, int err_fd,
                      arca_error **err);

#endif
