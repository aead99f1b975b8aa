/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/attach.h"
#include "engine/logfile.h"
#include "engine/monitor.h"
#include "linux/selfexec.h"
#include "linux/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define EXIT_FILE "exit.json"
#define CONTAINER_PID_FILE "container.pid"

/* ---- in the monitor process ------------------------------------------- */

#define MAX_CLIENTS 8

struct monitor {
  const struct arca_monitor_options *o;
  struct arca_logfile *log;
  int status_fd;      /* to the `arca` that started us; -1 once reported */
  unsigned restarts;
  int listen_fd;      /* attach.sock */
  int clients[MAX_CLIENTS];
};

void
arca_monitor_report (int *status_fd, const char *text)
{
  if (*status_fd < 0)
    return;
  if (write (*status_fd, text, strlen (text)) < 0)
    {
      /* Nobody listens any more: nothing to do. */
    }
  close (*status_fd);
  *status_fd = -1;
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

/* ---- the helper that creates the container ----------------------------- */

/* Creating a container parses JSON, compiles seccomp and walks the state
 * directory: heap and stack the monitor would keep dirty for the
 * container's whole life.  A forked helper does it and exits; the
 * container's init, orphaned, comes to the monitor (a subreaper).  It
 * reports on a SOCK_SEQPACKET pair: the pty master (with a terminal), then
 * "c PID" or "e MESSAGE". */

struct streams {
  int in;          /* the container's fds 0-2 (-1: /dev/null); the helper's */
  int out;
  int err;
  int master;      /* the monitor's: pty master, stdout and stderr read ends, */
  int out_r;       /* stdin write end; -1 when not used */
  int err_r;
  int in_w;
};

static void
streams_close (struct streams *s)
{
  int *fds[] = { &s->in, &s->out, &s->err, &s->master, &s->out_r, &s->err_r, &s->in_w };
  for (size_t i = 0; i < ARRAY_SIZE (fds); i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
}

static int
make_streams (const struct arca_monitor_options *o, struct streams *s, arca_error **err)
{
  int p[2];

  *s = (struct streams){ -1, -1, -1, -1, -1, -1, -1 };
  if (o->terminal)
    return 0; /* the pty is all three */
  if (pipe2 (p, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  s->out_r = p[0];
  s->out = p[1];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  s->err_r = p[0];
  s->err = p[1];
  if (o->stdin_open)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return arca_error_errno (err, "pipe");
      s->in = p[0];
      s->in_w = p[1];
      /* A container that does not read its input must not block us. */
      fcntl (s->in_w, F_SETFL, O_NONBLOCK);
    }
  return 0;
}

/* In the helper: a socket for --console-socket in the monitor's dir
 * (named through /proc/self/fd: the dir's path may be too long). */
static int
console_listen (const char *dir, char *ret_path, size_t size, arca_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dirfd < 0)
    return arca_error_errno (err, "open `%s`", dir);
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/console.sock", dirfd);
  snprintf (ret_path, size, "%s", addr.sun_path);
  unlinkat (dirfd, "console.sock", 0);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 1) < 0)
    return arca_error_errno (err, "console socket in `%s`", dir);
  return fd; /* dirfd stays open: the path goes through it */
}

_Noreturn static void
helper_main (struct monitor *m, struct streams *s, int ctl)
{
  const struct arca_monitor_options *o = m->o;
  cleanup_error arca_error *err = NULL;
  cleanup_free char *pid_file = NULL;
  char console_path[64], msg[512];
  int console = -1;
  pid_t pid = 0;
  int r = 0;

  /* The caller reads the status pipe until EOF: a container waiting for
   * its start must not hold it open. */
  if (m->status_fd >= 0)
    close (m->status_fd);
  if (asprintf (&pid_file, "%s/%s", o->dir, CONTAINER_PID_FILE) < 0)
    _exit (1);
  /* The container inherits fds 0-2 of the process that creates it. */
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  dup2 (s->in >= 0 ? s->in : null_fd, 0);
  dup2 (s->out >= 0 ? s->out : null_fd, 1);
  dup2 (s->err >= 0 ? s->err : null_fd, 2);
  struct arca_create_options co = { .id = o->id, .bundle = o->bundle, .pid_file = pid_file };
  if (o->terminal)
    {
      console = console_listen (o->dir, console_path, sizeof console_path, &err);
      co.console_socket = console_path;
      r = console < 0 ? -1 : 0;
    }
  if (r == 0)
    r = arca_container_create (o->rt, &co, &err);
  dup2 (null_fd, 0);
  dup2 (null_fd, 1);
  dup2 (null_fd, 2);
  if (r == 0 && o->terminal)
    {
      /* create connected and sent the master before it returned. */
      int conn = accept4 (console, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      int master = -1;
      if (conn < 0)
        r = arca_error_errno (&err, "accept on the console socket");
      else
        r = arca_fd_recv (conn, &master, &err);
      if (r == 0)
        r = arca_fd_send (ctl, master, "pty", &err);
      unlink (console_path);
    }
  if (r == 0)
    r = read_pid_file (o->dir, &pid, &err);
  if (r == 0 && o->before_start)
    r = o->before_start (o->userdata, o->id, pid, &err);
  if (r == 0 && o->before_start_command)
    r = run_hook_command (o->before_start_command, pid, &err);
  if (r == 0 && !o->wait_attach)
    r = arca_container_start (o->rt, o->id, &err);
  if (r < 0)
    {
      arca_container_delete (o->rt, o->id, true, NULL);
      cleanup_free char *text = arca_error_string (err);
      snprintf (msg, sizeof msg, "e %s", text ? text : "start failed");
    }
  else
    snprintf (msg, sizeof msg, "c %d", (int) pid);
  if (send (ctl, msg, strlen (msg), MSG_NOSIGNAL) < 0)
    _exit (1);
  _exit (r < 0);
}

/* Receives one message of the helper, with an fd if it sent one. */
static ssize_t
recv_ctl (int ctl, char *buf, size_t size, int *ret_fd)
{
  union
  {
    char b[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                       .msg_controllen = sizeof u.b };
  ssize_t n;

  do
    n = recvmsg (ctl, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  struct cmsghdr *c = CMSG_FIRSTHDR (&mh);
  if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN (sizeof (int)))
    memcpy (ret_fd, CMSG_DATA (c), sizeof (int));
  return n;
}

/* Creates (and, unless waiting for a client, starts) the container. */
static int
start_container (struct monitor *m, struct streams *s, pid_t *ret_pid, arca_error **err)
{
  int ctl[2];
  char buf[512];

  if (make_streams (m->o, s, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
    return arca_error_errno (err, "socketpair");
  pid_t helper = fork ();
  if (helper < 0)
    {
      close (ctl[0]);
      close (ctl[1]);
      return arca_error_errno (err, "fork");
    }
  if (helper == 0)
    {
      close (ctl[0]);
      helper_main (m, s, ctl[1]);
    }
  close (ctl[1]);
  /* The helper's ends. */
  int *theirs[] = { &s->in, &s->out, &s->err };
  for (size_t i = 0; i < ARRAY_SIZE (theirs); i++)
    if (*theirs[i] >= 0)
      {
        close (*theirs[i]);
        *theirs[i] = -1;
      }
  int r = -1;
  for (;;)
    {
      int fd = -1;
      ssize_t n = recv_ctl (ctl[0], buf, sizeof buf, &fd);
      if (fd >= 0)
        {
          if (s->master >= 0)
            close (s->master);
          s->master = fd;
          fcntl (fd, F_SETFL, O_NONBLOCK);
          continue;
        }
      if (n <= 0)
        {
          arca_error_set (err, ECHILD, "the monitor's helper died");
          break;
        }
      if (buf[0] == 'c')
        {
          *ret_pid = (pid_t) atoi (buf + 2);
          r = 0;
        }
      else
        arca_error_set (err, 0, "%s", buf + 2);
      break;
    }
  close (ctl[0]);
  while (waitpid (helper, NULL, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    streams_close (s);
  return r;
}

/* ---- supervising: output to the log and the attach clients -------------- */

static void
client_drop (struct monitor *m, size_t i)
{
  close (m->clients[i]);
  m->clients[i] = -1;
}

/* A slow client holds us up for a second at most, then is dropped. */
static void
client_send (struct monitor *m, size_t i, char type, const void *data, size_t len)
{
  char buf[ARCA_ATTACH_MAX_PACKET];

  if (len > sizeof buf - 1)
    len = sizeof buf - 1;
  buf[0] = type;
  memcpy (buf + 1, data, len);
  for (;;)
    {
      if (send (m->clients[i], buf, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
        return;
      if (errno == EINTR)
        continue;
      struct pollfd p = { .fd = m->clients[i], .events = POLLOUT };
      if (errno != EAGAIN || poll (&p, 1, 1000) <= 0)
        {
          client_drop (m, i);
          return;
        }
    }
}

static void
broadcast (struct monitor *m, char type, const void *data, size_t len)
{
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (m->clients[i] >= 0)
      client_send (m, i, type, data, len);
}

static void
accept_client (struct monitor *m)
{
  int fd = accept4 (m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd < 0)
    return;
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (m->clients[i] < 0)
      {
        char flags = (char) ((m->o->terminal ? ARCA_ATTACH_TTY : 0)
                             | (m->o->stdin_open ? ARCA_ATTACH_STDIN : 0));
        m->clients[i] = fd;
        client_send (m, i, 'h', &flags, 1);
        return;
      }
  close (fd); /* full */
}

/* Input for the container: a full pty or pipe drops it after a while
 * rather than blocking the monitor. */
static void
write_input (int fd, const char *p, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN)
        {
          struct pollfd pf = { .fd = fd, .events = POLLOUT };
          if (poll (&pf, 1, 1000) > 0)
            continue;
        }
      if (w <= 0)
        return;
      p += w;
      len -= (size_t) w;
    }
}

/* One packet of client i.  Returns true when it asked to start. */
static bool
client_message (struct monitor *m, struct streams *s, size_t i)
{
  char buf[ARCA_ATTACH_MAX_PACKET];
  ssize_t n = recv (m->clients[i], buf, sizeof buf, MSG_DONTWAIT);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return false;
  if (n <= 0)
    {
      client_drop (m, i);
      return false;
    }
  int in = s->master >= 0 ? s->master : s->in_w;
  switch (buf[0])
    {
    case 'i':
      if (in >= 0 && m->o->stdin_open)
        write_input (in, buf + 1, (size_t) n - 1);
      break;
    case 'c':
      /* Attached from the start (run -i): its end of input is the
       * container's, like Docker's StdinOnce. */
      if (m->o->wait_attach && s->in_w >= 0)
        {
          close (s->in_w);
          s->in_w = -1;
        }
      break;
    case 'w':
      if (s->master >= 0 && n >= 5)
        {
          uint16_t size[2];
          memcpy (size, buf + 1, sizeof size);
          struct winsize ws = { .ws_row = size[0], .ws_col = size[1] };
          (void) ioctl (s->master, TIOCSWINSZ, &ws);
        }
      break;
    case 'g':
      return true;
    default:
      break;
    }
  return false;
}

/* Reads what is there (all of it when until_eof); false at EOF. */
static bool
drain (struct monitor *m, int fd, const char *stream, bool until_eof)
{
  char buf[8192];

  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (!until_eof && poll (&p, 1, 0) <= 0)
        return true;
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return true;
      if (n <= 0)
        return false; /* EOF, or EIO: the pty's last user is gone */
      cleanup_error arca_error *e = NULL;
      arca_logfile_write (m->log, stream, buf, (size_t) n, &e);
      broadcast (m, strcmp (stream, "stdout") == 0 ? 'o' : 'e', buf, (size_t) n);
    }
}

int
arca_monitor_write_exit (const char *dir, int code, unsigned restarts, arca_error **err)
{
  struct timespec ts;
  cleanup_free char *path = NULL;

  clock_gettime (CLOCK_REALTIME, &ts);
  json_t *doc = json_pack ("{s:i, s:I, s:i}", "exitCode", code, "finishedNs",
                           (json_int_t) ts.tv_sec * 1000000000LL + ts.tv_nsec, "restarts",
                           (int) restarts);
  cleanup_free char *text = doc ? json_dumps (doc, JSON_COMPACT) : NULL;
  json_decref (doc);
  if (text == NULL || asprintf (&path, "%s/%s", dir, EXIT_FILE) < 0)
    return arca_error_set (err, ENOMEM, "exit.json");
  return arca_write_file_atomic_at (AT_FDCWD, path, text, strlen (text), 0644, err);
}

static int
write_exit (struct monitor *m, int code)
{
  cleanup_error arca_error *e = NULL;

  return arca_monitor_write_exit (m->o->dir, code, m->restarts, &e);
}

static int
reap (pid_t pid)
{
  int status, code = -1;
  pid_t r;

  /* We are a subreaper: orphans of the container come here too. */
  while ((r = waitpid (-1, &status, WNOHANG)) > 0)
    if (r == pid)
      code = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
  return code;
}

/* Waits for the container's init; copies its output to the log and the
 * attach clients meanwhile, their input to it.  started: false while a
 * run -it / start -a waits for its client.  Returns the exit code (128 +
 * signal). */
static int
supervise (struct monitor *m, struct streams *s, pid_t pid, int sfd, bool started)
{
  enum { F_OUT, F_ERR, F_SIG, F_LISTEN, F_CLIENT0, F_N = F_CLIENT0 + MAX_CLIENTS };
  struct pollfd fds[F_N];
  int out = s->master >= 0 ? s->master : s->out_r;
  bool out_open = out >= 0, err_open = s->err_r >= 0;
  int code = reap (pid); /* it may have died before it was ours */

  while (code < 0)
    {
      fds[F_OUT] = (struct pollfd){ .fd = out_open ? out : -1, .events = POLLIN };
      fds[F_ERR] = (struct pollfd){ .fd = err_open ? s->err_r : -1, .events = POLLIN };
      fds[F_SIG] = (struct pollfd){ .fd = sfd, .events = POLLIN };
      fds[F_LISTEN] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
      for (size_t i = 0; i < MAX_CLIENTS; i++)
        fds[F_CLIENT0 + i] = (struct pollfd){ .fd = m->clients[i], .events = POLLIN };
      if (poll (fds, F_N, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[F_OUT].revents)
        out_open = drain (m, out, "stdout", false) && !(fds[F_OUT].revents & POLLHUP);
      if (fds[F_ERR].revents)
        err_open = drain (m, s->err_r, "stderr", false) && !(fds[F_ERR].revents & POLLHUP);
      if (fds[F_LISTEN].revents)
        accept_client (m);
      for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (fds[F_CLIENT0 + i].revents && m->clients[i] >= 0 && client_message (m, s, i)
            && !started)
          {
            cleanup_error arca_error *err = NULL;
            started = true;
            if (arca_container_start (m->o->rt, m->o->id, &err) < 0)
              {
                cleanup_free char *text = arca_error_string (err);
                if (text)
                  broadcast (m, 'f', text, strlen (text));
                kill (pid, SIGKILL);
              }
          }
      if (fds[F_SIG].revents)
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
          code = reap (pid);
        }
    }
  /* What the process wrote just before it exited, up to EOF of every
   * writer (background processes are dead with init: pid namespace). */
  if (out >= 0)
    drain (m, out, "stdout", false);
  if (s->err_r >= 0)
    drain (m, s->err_r, "stderr", false);
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

void
arca_monitor_run_exit_command (char **argv)
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
  struct monitor m = { .o = o, .status_fd = status_fd, .listen_fd = -1 };
  cleanup_error arca_error *err = NULL;
  sigset_t mask;
  char msg[256];

  for (size_t i = 0; i < MAX_CLIENTS; i++)
    m.clients[i] = -1;
  /* The caller's stdout may be a pipe someone reads to its end
   * ($(arca run -d ...)): we must not hold it. */
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3 && null_fd >= 0; fd++)
    dup2 (null_fd, fd);
  if (null_fd > 2)
    close (null_fd);
  setsid ();
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  prctl (PR_SET_NAME, "arca-monitor", 0, 0, 0);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  /* A container that closed its stdin pipe: write() says EPIPE.  (Blocked,
   * not ignored: an ignored signal would stay ignored in the container.) */
  sigaddset (&mask, SIGPIPE);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sigdelset (&mask, SIGPIPE);
  int sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  if (sfd < 0 || arca_logfile_open (o->log_path, o->log_max_size, o->log_max_files, &m.log, &err) < 0
      || (m.listen_fd = arca_attach_listen (o->dir, &err)) < 0)
    {
      cleanup_free char *text = err ? arca_error_string (err) : strdup ("monitor: signalfd");
      snprintf (msg, sizeof msg, "error %s", text ? text : "monitor");
      arca_monitor_report (&m.status_fd, msg);
      _exit (1);
    }
  for (;;)
    {
      struct streams s;
      pid_t pid = 0;
      if (start_container (&m, &s, &pid, &err) < 0)
        {
          cleanup_free char *text = arca_error_string (err);
          snprintf (msg, sizeof msg, "error %s", text ? text : "start failed");
          arca_monitor_report (&m.status_fd, msg);
          write_exit (&m, 127);
          break;
        }
      snprintf (msg, sizeof msg, "ok %d", (int) pid);
      arca_monitor_report (&m.status_fd, msg);
      /* The helper's heap was never ours, but give back what is free. */
      malloc_trim (0);
      int code = supervise (&m, &s, pid, sfd, !o->wait_attach);
      streams_close (&s);
      /* exit.json first: whoever waits sees the code as soon as the
       * container counts as stopped, attach clients included. */
      bool restart = should_restart (&m, code);
      if (!restart)
        {
          int32_t c = code;
          write_exit (&m, code);
          broadcast (&m, 'x', &c, sizeof c);
        }
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
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (m.clients[i] >= 0)
      client_drop (&m, i);
  close (m.listen_fd);
  {
    cleanup_free char *sock = NULL;
    if (asprintf (&sock, "%s/%s", o->dir, ARCA_ATTACH_SOCKET) >= 0)
      unlink (sock);
  }
  arca_logfile_close (m.log);
  arca_monitor_run_exit_command (o->exit_command);
  _exit (0);
}

/* ---- arca-monitor: the options as arguments ----------------------------- */

static const char *const policy_names[] = { "no", "on-failure", "always" };

/* In the forked monitor, before anything else: become arca-monitor. */
_Noreturn static void
exec_monitor (const struct arca_monitor_options *o, int status_fd)
{
  char fd_text[16], size_text[32], files_text[16], max_text[16], flags[8];
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
  snprintf (flags, sizeof flags, "-%s%s%s", o->terminal ? "t" : "", o->stdin_open ? "i" : "",
            o->wait_attach ? "w" : "");
  argv[n++] = flags;
  argv[n++] = "--before-start";
  for (size_t i = 0; o->before_start_command && o->before_start_command[i] && n < 60; i++)
    argv[n++] = o->before_start_command[i];
  argv[n++] = "--exit";
  for (size_t i = 0; o->exit_command && o->exit_command[i] && n < 90; i++)
    argv[n++] = o->exit_command[i];
  argv[n] = NULL;
  /* The status pipe is the one fd that must survive. */
  fcntl (status_fd, F_SETFD, 0);
  char msg[512];
  if (o->sealed)
    {
      /* The containers it creates run from the same copy: the runtime
       * seals itself no further once it runs from one. */
      cleanup_error arca_error *err = NULL;
      arca_selfexec_exec_sealed (o->monitor_path, (char **) argv, environ, &err);
      cleanup_free char *text = arca_error_string (err);
      snprintf (msg, sizeof msg, "error exec the monitor: %s", text ? text : "sealed copy");
      if (write (status_fd, msg, strlen (msg)) < 0)
        _exit (1);
      _exit (1);
    }
  execv (o->monitor_path, (char **) argv);
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

  if (argc < 14 || strcmp (argv[13], "--before-start") != 0)
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
  o.terminal = strchr (argv[12], 't') != NULL;
  o.stdin_open = strchr (argv[12], 'i') != NULL;
  o.wait_attach = strchr (argv[12], 'w') != NULL;
  int i = 14;
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
arca_monitor_spawn (void (*child) (const void *arg, int status_fd), const void *arg,
                    const char *what, pid_t *ret_pid, char *status, size_t size,
                    arca_error **err)
{
  int status_pipe[2], pid_pipe[2];

  if (pipe2 (status_pipe, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  if (pipe2 (pid_pipe, O_CLOEXEC) < 0)
    {
      close (status_pipe[0]);
      close (status_pipe[1]);
      return arca_error_errno (err, "pipe");
    }
  pid_t first = fork ();
  if (first < 0)
    {
      close (status_pipe[0]);
      close (status_pipe[1]);
      close (pid_pipe[0]);
      close (pid_pipe[1]);
      return arca_error_errno (err, "fork %s", what);
    }
  if (first == 0)
    {
      /* Double fork: the monitor must not be our child (we exit soon). */
      close (status_pipe[0]);
      close (pid_pipe[0]);
      pid_t mon = fork ();
      if (mon == 0)
        {
          close (pid_pipe[1]);
          child (arg, status_pipe[1]);
          _exit (127);
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
    return arca_error_set (err, ECHILD, "%s did not start", what);
  /* What it says before it closes the pipe (or dies). */
  size_t got = 0;
  for (;;)
    {
      ssize_t n = read (status_fd, status + got, size - 1 - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (size_t) n;
      if (got == size - 1)
        break;
    }
  status[got] = '\0';
  *ret_pid = mon;
  return 0;
}

static void
start_child (const void *arg, int status_fd)
{
  const struct arca_monitor_options *opts = arg;

  if (opts->monitor_path)
    exec_monitor (opts, status_fd);
  monitor_main (opts, status_fd);
}

int
arca_monitor_start (const struct arca_monitor_options *opts, pid_t *ret_monitor_pid,
                    pid_t *ret_container_pid, arca_error **err)
{
  char buf[512];

  if (arca_monitor_spawn (start_child, opts, "the monitor", ret_monitor_pid, buf, sizeof buf,
                          err) < 0)
    return -1;
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
