/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/logfile.h"
#include "engine/monitor.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define EXIT_FILE "exit.json"
#define CONTAINER_PID_FILE "container.pid"

/* ---- in the monitor process ------------------------------------------- */

struct monitor {
  const struct arca_monitor_options *o;
  struct arca_logfile *log;
  int status_fd;      /* to the `arca` that started us; -1 once reported */
  unsigned restarts;
};

static void
report (struct monitor *m, const char *text)
{
  if (m->status_fd < 0)
    return;
  if (write (m->status_fd, text, strlen (text)) < 0)
    {
      /* Nobody listens any more: nothing to do. */
    }
  close (m->status_fd);
  m->status_fd = -1;
}

static int
read_pid_file (const char *dir, pid_t *ret, arca_error **err)
{
  cleanup_free char *path = NULL, *text = NULL;

  if (asprintf (&path, "%s/%s", dir, CONTAINER_PID_FILE) < 0)
    return arca_error_set (err, ENOMEM, "monitor");
  if (arca_read_file_at (AT_FDCWD, path, 64, &text, NULL, err) < 0)
    return -1;
  *ret = (pid_t) atoi (text);
  return 0;
}

/* Runs argv + the init's pid.  Its stderr is captured: the last line is
 * what the user needs when it fails (our own stderr is /dev/null). */
static int
run_hook_command (char **argv, pid_t init_pid, arca_error **err)
{
  size_t n = 0;
  char pid_text[16];
  int errpipe[2];

  while (argv[n])
    n++;
  char **full = calloc (n + 2, sizeof *full);
  if (full == NULL)
    return arca_error_set (err, ENOMEM, "network hook");
  memcpy (full, argv, n * sizeof *full);
  snprintf (pid_text, sizeof pid_text, "%d", (int) init_pid);
  full[n] = pid_text;
  if (pipe2 (errpipe, O_CLOEXEC) < 0)
    {
      free (full);
      return arca_error_errno (err, "pipe");
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      dup2 (errpipe[1], 2);
      execv (full[0], full);
      _exit (127);
    }
  free (full);
  close (errpipe[1]);
  char text[2048];
  size_t got = 0;
  if (pid > 0)
    for (;;)
      {
        ssize_t r = read (errpipe[0], text + got, sizeof text - 1 - got);
        if (r < 0 && errno == EINTR)
          continue;
        if (r <= 0)
          break;
        got += (size_t) r;
        if (got == sizeof text - 1)
          got = 0; /* keep the end: the last line is the error */
      }
  close (errpipe[0]);
  if (pid < 0)
    return arca_error_errno (err, "fork the network hook");
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  text[got] = '\0';
  while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == ' '))
    text[--got] = '\0';
  const char *last = strrchr (text, '\n');
  last = last ? last + 1 : text;
  /* "arca: message: strerror" -> "message: strerror" */
  if (strncmp (last, "arca: ", 6) == 0)
    last += 6;
  return arca_error_set (err, 0, "network setup: %s",
                         *last ? last : "the network hook failed without a message");
}

/* Creates and starts the container with pipes as its stdout/stderr. */
static int
start_container (struct monitor *m, int *ret_out, int *ret_err, pid_t *ret_pid, arca_error **err)
{
  int out[2], errp[2];
  cleanup_free char *pid_file = NULL;

  if (asprintf (&pid_file, "%s/%s", m->o->dir, CONTAINER_PID_FILE) < 0)
    return arca_error_set (err, ENOMEM, "monitor");
  if (pipe2 (out, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      close (out[0]);
      close (out[1]);
      return arca_error_errno (err, "pipe");
    }
  /* The container inherits fds 0-2 of the process that creates it. */
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  dup2 (null_fd, 0);
  dup2 (out[1], 1);
  dup2 (errp[1], 2);
  close (out[1]);
  close (errp[1]);
  struct arca_create_options co = { .id = m->o->id, .bundle = m->o->bundle, .pid_file = pid_file };
  int r = arca_container_create (m->o->rt, &co, err);
  dup2 (null_fd, 1);
  dup2 (null_fd, 2);
  close (null_fd);
  if (r == 0)
    r = read_pid_file (m->o->dir, ret_pid, err);
  if (r == 0 && m->o->before_start)
    r = m->o->before_start (m->o->userdata, m->o->id, *ret_pid, err);
  if (r == 0 && m->o->before_start_command)
    r = run_hook_command (m->o->before_start_command, *ret_pid, err);
  if (r == 0)
    r = arca_container_start (m->o->rt, m->o->id, err);
  if (r < 0)
    {
      arca_container_delete (m->o->rt, m->o->id, true, NULL);
      close (out[0]);
      close (errp[0]);
      return -1;
    }
  *ret_out = out[0];
  *ret_err = errp[0];
  return 0;
}

static void
drain (struct monitor *m, int fd, const char *stream, bool until_eof)
{
  char buf[8192];

  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (!until_eof && poll (&p, 1, 0) <= 0)
        return;
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      cleanup_error arca_error *e = NULL;
      arca_logfile_write (m->log, stream, buf, (size_t) n, &e);
    }
}

static int
write_exit (struct monitor *m, int code)
{
  struct timespec ts;
  cleanup_free char *path = NULL;
  cleanup_error arca_error *e = NULL;

  clock_gettime (CLOCK_REALTIME, &ts);
  json_t *doc = json_pack ("{s:i, s:I, s:i}", "exitCode", code, "finishedNs",
                           (json_int_t) ts.tv_sec * 1000000000LL + ts.tv_nsec, "restarts",
                           (int) m->restarts);
  cleanup_free char *text = doc ? json_dumps (doc, JSON_COMPACT) : NULL;
  json_decref (doc);
  if (text == NULL || asprintf (&path, "%s/%s", m->o->dir, EXIT_FILE) < 0)
    return -1;
  return arca_write_file_atomic_at (AT_FDCWD, path, text, strlen (text), 0644, &e);
}

/* Waits for the container's init; copies its output to the log meanwhile.
 * Returns its exit code (128 + signal). */
static int
supervise (struct monitor *m, int out, int errp, pid_t pid, int sfd)
{
  struct pollfd fds[3] = {
    { .fd = out, .events = POLLIN },
    { .fd = errp, .events = POLLIN },
    { .fd = sfd, .events = POLLIN },
  };
  int code = -1;

  while (code < 0)
    {
      if (poll (fds, 3, -1) < 0 && errno != EINTR)
        break;
      if (fds[0].revents)
        drain (m, out, "stdout", false);
      if (fds[1].revents)
        drain (m, errp, "stderr", false);
      if (fds[0].revents & POLLHUP)
        fds[0].fd = -1;
      if (fds[1].revents & POLLHUP)
        fds[1].fd = -1;
      if (fds[2].revents)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) != sizeof si)
            continue;
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            {
              /* Stopping the monitor stops the container, not the reverse. */
              kill (pid, SIGKILL);
              continue;
            }
          int status;
          pid_t r;
          /* We are a subreaper: orphans of the container come here too. */
          while ((r = waitpid (-1, &status, WNOHANG)) > 0)
            if (r == pid)
              code = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
        }
    }
  /* What the process wrote just before it exited, up to EOF of every
   * writer (background processes are dead with init: pid namespace). */
  drain (m, out, "stdout", false);
  drain (m, errp, "stderr", false);
  cleanup_error arca_error *e = NULL;
  arca_logfile_flush (m->log, &e);
  return code < 0 ? 255 : code;
}

static bool
should_restart (const struct monitor *m, int code)
{
  const struct arca_monitor_options *o = m->o;

  if (o->restart == ARCA_RESTART_NO)
    return false;
  if (o->restart == ARCA_RESTART_ON_FAILURE && code == 0)
    return false;
  return o->max_restarts == 0 || m->restarts < o->max_restarts;
}

static void
run_exit_command (char **argv)
{
  if (argv == NULL || argv[0] == NULL)
    return;
  pid_t pid = fork ();
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      execv (argv[0], argv);
      _exit (127);
    }
  if (pid > 0)
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
      ;
}

_Noreturn static void
monitor_main (const struct arca_monitor_options *o, int status_fd)
{
  struct monitor m = { .o = o, .status_fd = status_fd };
  cleanup_error arca_error *err = NULL;
  sigset_t mask;
  char msg[256];

  setsid ();
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  prctl (PR_SET_NAME, "arca-monitor", 0, 0, 0);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  int sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  if (sfd < 0 || arca_logfile_open (o->log_path, o->log_max_size, o->log_max_files, &m.log, &err) < 0)
    {
      cleanup_free char *text = err ? arca_error_string (err) : strdup ("monitor: signalfd");
      snprintf (msg, sizeof msg, "error %s", text ? text : "monitor");
      report (&m, msg);
      _exit (1);
    }
  for (;;)
    {
      int out = -1, errp = -1;
      pid_t pid = 0;
      if (start_container (&m, &out, &errp, &pid, &err) < 0)
        {
          cleanup_free char *text = arca_error_string (err);
          snprintf (msg, sizeof msg, "error %s", text ? text : "start failed");
          report (&m, msg);
          write_exit (&m, 127);
          break;
        }
      snprintf (msg, sizeof msg, "ok %d", (int) pid);
      report (&m, msg);
      int code = supervise (&m, out, errp, pid, sfd);
      close (out);
      close (errp);
      /* exit.json first: whoever waits sees the code as soon as the
       * container counts as stopped. */
      bool restart = should_restart (&m, code);
      if (!restart)
        write_exit (&m, code);
      arca_container_delete (o->rt, o->id, true, NULL);
      if (!restart)
        break;
      m.restarts++;
      /* Back off so a crashing container does not spin: 100 ms doubling to 5 s. */
      unsigned shift = m.restarts < 6 ? m.restarts : 6;
      struct timespec pause = { .tv_sec = 0, .tv_nsec = 100000000L };
      long ms = 100L << shift;
      if (ms > 5000)
        ms = 5000;
      pause.tv_sec = ms / 1000;
      pause.tv_nsec = (ms % 1000) * 1000000L;
      nanosleep (&pause, NULL);
    }
  arca_logfile_close (m.log);
  run_exit_command (o->exit_command);
  _exit (0);
}

/* ---- arca-monitor: the options as arguments ----------------------------- */

static const char *const policy_names[] = { "no", "on-failure", "always" };

/* In the forked monitor, before anything else: become arca-monitor. */
_Noreturn static void
exec_monitor (const struct arca_monitor_options *o, int status_fd)
{
  char fd_text[16], size_text[32], files_text[16], max_text[16];
  const char *argv[64 + 32];
  size_t n = 0;

  snprintf (fd_text, sizeof fd_text, "%d", status_fd);
  snprintf (size_text, sizeof size_text, "%llu", (unsigned long long) o->log_max_size);
  snprintf (files_text, sizeof files_text, "%u", o->log_max_files);
  snprintf (max_text, sizeof max_text, "%u", o->max_restarts);
  argv[n++] = "arca-monitor";
  argv[n++] = fd_text;
  argv[n++] = o->rt->state_root;
  argv[n++] = o->rt->cgroup_root;
  argv[n++] = o->id;
  argv[n++] = o->bundle;
  argv[n++] = o->dir;
  argv[n++] = o->log_path;
  argv[n++] = size_text;
  argv[n++] = files_text;
  argv[n++] = policy_names[o->restart];
  argv[n++] = max_text;
  argv[n++] = "--before-start";
  for (size_t i = 0; o->before_start_command && o->before_start_command[i] && n < 60; i++)
    argv[n++] = o->before_start_command[i];
  argv[n++] = "--exit";
  for (size_t i = 0; o->exit_command && o->exit_command[i] && n < 90; i++)
    argv[n++] = o->exit_command[i];
  argv[n] = NULL;
  /* The status pipe is the one fd that must survive. */
  fcntl (status_fd, F_SETFD, 0);
  execv (o->monitor_path, (char **) argv);
  char msg[512];
  snprintf (msg, sizeof msg, "error exec the monitor `%s`: %s", o->monitor_path, strerror (errno));
  if (write (status_fd, msg, strlen (msg)) < 0)
    _exit (1);
  _exit (1);
}

_Noreturn void
arca_monitor_exec_main (int argc, char **argv)
{
  struct arca_runtime rt = { 0 };
  struct arca_monitor_options o = { .rt = &rt };
  char **before = NULL, **exit_cmd = NULL;

  if (argc < 13 || strcmp (argv[12], "--before-start") != 0)
    {
      fprintf (stderr, "arca-monitor: started by arca, not by hand\n");
      _exit (2);
    }
  int status_fd = atoi (argv[1]);
  rt.state_root = argv[2];
  rt.cgroup_root = argv[3];
  o.id = argv[4];
  o.bundle = argv[5];
  o.dir = argv[6];
  o.log_path = argv[7];
  o.log_max_size = strtoull (argv[8], NULL, 10);
  o.log_max_files = (unsigned) strtoul (argv[9], NULL, 10);
  for (size_t i = 0; i < ARRAY_SIZE (policy_names); i++)
    if (strcmp (argv[10], policy_names[i]) == 0)
      o.restart = (enum arca_restart_policy) i;
  o.max_restarts = (unsigned) strtoul (argv[11], NULL, 10);
  int i = 13;
  if (i < argc && strcmp (argv[i], "--exit") != 0)
    before = argv + i;
  while (i < argc && strcmp (argv[i], "--exit") != 0)
    i++;
  if (i < argc)
    {
      argv[i] = NULL; /* ends the before-start command */
      if (i + 1 < argc)
        exit_cmd = argv + i + 1;
    }
  o.before_start_command = before;
  o.exit_command = exit_cmd;
  fcntl (status_fd, F_SETFD, FD_CLOEXEC);
  monitor_main (&o, status_fd);
}

/* ---- in the caller ------------------------------------------------------ */

int
arca_monitor_start (const struct arca_monitor_options *opts, pid_t *ret_monitor_pid,
                    pid_t *ret_container_pid, arca_error **err)
{
  int status_pipe[2], pid_pipe[2];

  if (pipe2 (status_pipe, O_CLOEXEC) < 0 || pipe2 (pid_pipe, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  pid_t first = fork ();
  if (first < 0)
    return arca_error_errno (err, "fork the monitor");
  if (first == 0)
    {
      /* Double fork: the monitor must not be our child (we exit soon). */
      close (status_pipe[0]);
      close (pid_pipe[0]);
      pid_t mon = fork ();
      if (mon == 0)
        {
          close (pid_pipe[1]);
          if (opts->monitor_path)
            exec_monitor (opts, status_pipe[1]);
          monitor_main (opts, status_pipe[1]);
        }
      if (write (pid_pipe[1], &mon, sizeof mon) < 0)
        _exit (1);
      _exit (mon < 0);
    }
  close (status_pipe[1]);
  close (pid_pipe[1]);
  cleanup_close int status_fd = status_pipe[0];
  cleanup_close int pid_fd = pid_pipe[0];
  while (waitpid (first, NULL, 0) < 0 && errno == EINTR)
    ;
  pid_t mon = -1;
  if (read (pid_fd, &mon, sizeof mon) != sizeof mon || mon <= 0)
    return arca_error_set (err, ECHILD, "the monitor did not start");
  char buf[512];
  size_t got = 0;
  for (;;)
    {
      ssize_t n = read (status_fd, buf + got, sizeof buf - 1 - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (size_t) n;
      if (got == sizeof buf - 1)
        break;
    }
  buf[got] = '\0';
  *ret_monitor_pid = mon;
  if (strncmp (buf, "ok ", 3) == 0)
    {
      *ret_container_pid = (pid_t) atoi (buf + 3);
      return 0;
    }
  if (strncmp (buf, "error ", 6) == 0)
    return arca_error_set (err, 0, "%s", buf + 6);
  return arca_error_set (err, ECHILD, "the monitor died before the container started");
}

int
arca_monitor_exit_info (const char *dir, bool *ret_done, struct arca_exit_info *ret_info,
                        arca_error **err)
{
  cleanup_free char *path = NULL, *text = NULL;
  cleanup_error arca_error *read_err = NULL;
  size_t len = 0;

  *ret_done = false;
  if (asprintf (&path, "%s/%s", dir, EXIT_FILE) < 0)
    return arca_error_set (err, ENOMEM, "exit info");
  if (arca_read_file_at (AT_FDCWD, path, 4096, &text, &len, &read_err) < 0)
    {
      if (read_err->errnum == ENOENT)
        return 0;
      *err = move_ptr (read_err);
      return -1;
    }
  json_t *doc = json_loadb (text, len, 0, NULL);
  if (!json_is_object (doc))
    {
      json_decref (doc);
      return arca_error_set (err, EINVAL, "`%s` is corrupt", path);
    }
  ret_info->exit_code = (int) json_integer_value (json_object_get (doc, "exitCode"));
  ret_info->finished_ns = json_integer_value (json_object_get (doc, "finishedNs"));
  ret_info->restarts = (unsigned) json_integer_value (json_object_get (doc, "restarts"));
  json_decref (doc);
  *ret_done = true;
  return 0;
}
