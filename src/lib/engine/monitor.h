/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-container monitor (podman's conmon, in-process): a small process
 * that is not a child of the `arca` command, owns the container's stdio,
 * writes its log, records how and when it exited, applies the restart
 * policy and finally runs the engine's cleanup command.  So `arca run -d`
 * and `arca start` can return at once and nothing needs a daemon. */
#ifndef ARCA_ENGINE_MONITOR_H
#define ARCA_ENGINE_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/container.h"
#include "util/error.h"

enum arca_restart_policy {
  ARCA_RESTART_NO = 0,
  ARCA_RESTART_ON_FAILURE,   /* non-zero exit, up to max_restarts (0 = unbounded) */
  ARCA_RESTART_ALWAYS,
};

struct arca_monitor_options {
  const struct arca_runtime *rt;   /* libarca state for the container */
  const char *id;
  const char *bundle;
  const char *dir;                 /* the monitor's files: pid, exit.json */
  const char *log_path;
  uint64_t log_max_size;           /* 0 = unbounded */
  unsigned log_max_files;
  enum arca_restart_policy restart;
  unsigned max_restarts;
  char **exit_command;             /* run once the container is gone for good; may be NULL */
  /* Called between create and start, with the container's init waiting in
   * its namespaces: where networking plugs in (veth into the init's network
   * namespace, addresses, routes).  May be NULL.  A failure stops the
   * container before its program ran. */
  int (*before_start) (void *userdata, const char *id, pid_t init_pid, arca_error **err);
  void *userdata;
  /* The same hook as a command for an exec'ed monitor: run with the init's
   * pid appended; a non-zero exit fails the start.  May be NULL. */
  char **before_start_command;
  /* The arca-monitor binary: when set, the monitor process execs it (a
   * small program, so an idle container costs little memory) instead of
   * staying a copy of the caller.  before_start must then be NULL. */
  const char *monitor_path;
  /* Exec arca-monitor from a sealed copy (linux/selfexec.h): needed when
   * the container joins another's pid namespace, whose processes can see
   * the monitor's helper and the container's init before its exec.  Only
   * with monitor_path. */
  bool sealed;
  /* Standard streams (see engine/attach.h: clients of attach.sock see the
   * output and feed the input). */
  bool terminal;                   /* process.terminal: the monitor owns the pty master */
  bool stdin_open;                 /* -i: the container's stdin is a pipe from the monitor */
  bool wait_attach;                /* start the program only once the first attach client
                                    * is ready (run -it, start -a); a client's end of
                                    * input then closes the container's stdin */
};

/* arca-monitor's main: parses the arguments arca_monitor_start passes. */
_Noreturn void arca_monitor_exec_main (int argc, char **argv);

/* In a monitor (the container's or a VM run's): writes text to the
 * starter's status pipe once and closes it; later calls do nothing. */
void arca_monitor_report (int *status_fd, const char *text);
/* Runs argv (NULL: nothing) with no signal blocked and waits for it. */
void arca_monitor_run_exit_command (char **argv);

/* Runs child (arg, status_fd) in a grandchild (double fork: once we exit it
 * is nobody's child but init's or a subreaper's) and returns its pid with
 * what it wrote to status_fd before closing it or dying (NUL-terminated, at
 * most size - 1 bytes).  child must not return.  what names it in errors. */
int arca_monitor_spawn (void (*child) (const void *arg, int status_fd), const void *arg,
                        const char *what, pid_t *ret_pid, char *status, size_t size,
                        arca_error **err);

/* Starts the monitor and returns once the container's process runs (or
 * with the error that kept it from running).  *ret_container_pid is its
 * init's host pid. */
int arca_monitor_start (const struct arca_monitor_options *opts, pid_t *ret_monitor_pid,
                        pid_t *ret_container_pid, arca_error **err);

/* What exit.json in the monitor's dir says after the container ended. */
struct arca_exit_info {
  int exit_code;                   /* 128 + signal when killed */
  int64_t finished_ns;             /* ns since the epoch */
  unsigned restarts;
};
/* Writes exit.json in dir (also for a `run --vm -d`'s monitor,
 * engine/vm-monitor.h). */
int arca_monitor_write_exit (const char *dir, int code, unsigned restarts, arca_error **err);
/* 0 with *ret_done false while the container has not exited. */
int arca_monitor_exit_info (const char *dir, bool *ret_done, struct arca_exit_info *ret_info,
                            arca_error **err);

#endif
