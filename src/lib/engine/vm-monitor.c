/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor of `arca run --vm -d` (see vm-monitor.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/state.h"
#include "engine/logfile.h"
#include "engine/internal.h"
#include "engine/monitor.h"
#include "engine/vm-monitor.h"
#include "engine/vm-relay.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define MONITOR_PID_FILE "monitor.pid"
#define VMM_PID_FILE "vmm.pid"
/* After a power-off request, arca-vmm gets this long to stop cleanly. */
#define POWEROFF_GRACE_MS 2000
#define POWEROFF_CODE 137

static int
write_pid_file (const char *dir, const char *name, pid_t pid, arca_error **err)
{
  cleanup_free char *path = NULL;
  uint64_t start = 0;
  char text[64];

  if (arca_pid_start_time (pid, &start, err) < 0)
    return -1;
  if (asprintf (&path, "%s/%s", dir, name) < 0)
    return arca_error_set (err, ENOMEM, "vm monitor");
  int n = snprintf (text, sizeof text, "%d %llu", (int) pid, (unsigned long long) start);
  return arca_write_file_replace_at (AT_FDCWD, path, text, (size_t) n, 0644, err);
}

/* The pid a file of dir names while that process still runs, else 0. */
static pid_t
read_pid_file (const char *dir, const char *name)
{
  cleanup_free char *path = NULL, *text = NULL;
  cleanup_error arca_error *ignored = NULL;
  unsigned long long start = 0;
  int pid = 0;

  if (asprintf (&path, "%s/%s", dir, name) < 0
      || arca_read_file_at (AT_FDCWD, path, 64, &text, NULL, &ignored) < 0
      || sscanf (text, "%d %llu", &pid, &start) != 2 || pid <= 0)
    return 0;
  return arca_pid_is (pid, start) ? (pid_t) pid : 0;
}

pid_t
arca_vm_monitor_vmm_pid (const char *dir)
{
  return read_pid_file (dir, VMM_PID_FILE);
}

int
arca_vm_monitor_kill (const char *dir, int sig, arca_error **err)
{
  pid_t pid = read_pid_file (dir, MONITOR_PID_FILE);
  union sigval v = { .sival_int = sig };

  if (sig < 1 || sig > ARCA_VM_SIGNAL_MAX)
    return arca_error_set (err, EINVAL, "signal %d", sig);
  if (pid == 0)
    return arca_error_set (err, ESRCH, "the VM's monitor does not run");
  if (sigqueue (pid, SIGUSR1, v) < 0)
    return arca_error_errno (err, "signal the VM's monitor");
  return 0;
}

int
arca_vm_monitor_poweroff (const char *dir, arca_error **err)
{
  pid_t pid = read_pid_file (dir, MONITOR_PID_FILE);

  if (pid == 0)
    return arca_error_set (err, ESRCH, "the VM's monitor does not run");
  if (kill (pid, SIGTERM) < 0)
    return arca_error_errno (err, "signal the VM's monitor");
  return 0;
}

/* ---- in the monitor process ---------------------------------------------- */

struct vm_monitor {
  const struct arca_vm_monitor_options *o;
  struct arca_logfile *log;
  int vmm_in;                       /* the serial input; -1 once arca-vmm is gone */
  unsigned char q[16 * 6];          /* 'k' frames not sent yet */
  size_t q_len;
};

static void
log_sink (void *opaque, int stream, const void *data, size_t len)
{
  struct vm_monitor *m = opaque;
  cleanup_error arca_error *ignored = NULL;

  arca_logfile_write (m->log, stream == 1 ? "stdout" : "stderr", data, len, &ignored);
}

static void
log_line (struct vm_monitor *m, const char *text)
{
  log_sink (m, 2, text, strlen (text));
}

static void
queue_signal (struct vm_monitor *m, int sig)
{
  unsigned char b = (unsigned char) sig;

  /* A frame of one byte is 6; more than the queue holds are dropped. */
  if (sig < 1 || sig > ARCA_VM_SIGNAL_MAX || sizeof m->q - m->q_len < 6)
    return;
  m->q_len += arca_vm_frame_encode (m->q + m->q_len, ARCA_VM_FRAME_SIGNAL, &b, 1);
}

static void
flush_queue (struct vm_monitor *m)
{
  while (m->q_len > 0 && m->vmm_in >= 0)
    {
      ssize_t n = send (m->vmm_in, m->q, m->q_len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          m->q_len = 0;
          return;
        }
      memmove (m->q, m->q + n, m->q_len - (size_t) n);
      m->q_len -= (size_t) n;
    }
}

static void
save_text (const char *dir, const char *name, const char *text)
{
  cleanup_free char *p = NULL;
  cleanup_error arca_error *ignored = NULL;

  if (asprintf (&p, "%s/%s", dir, name) >= 0)
    arca_write_file_atomic_at (AT_FDCWD, p, text, strlen (text), 0600, &ignored);
}

/* Relays until arca-vmm closes its serial; returns the exit code. */
static int
supervise (struct vm_monitor *m, int out, pid_t vmm, int sfd, struct arca_vm_relay *r)
{
  enum { F_OUT, F_SIG, F_IN };
  char buf[65536];
  int64_t kill_at = -1;
  bool powered_off = false, initrd_gone = false;

  for (;;)
    {
      struct pollfd fds[3] = { { .fd = out, .events = POLLIN },
                               { .fd = sfd, .events = POLLIN },
                               { .fd = r->ready && m->q_len > 0 ? m->vmm_in : -1, .events = POLLOUT } };
      int timeout = kill_at < 0 ? -1 : (int) (kill_at - arca_engine_now_ms () > 0 ? kill_at - arca_engine_now_ms () : 0);
      if (poll (fds, 3, timeout) < 0 && errno != EINTR)
        break;
      if (kill_at >= 0 && arca_engine_now_ms () >= kill_at)
        {
          kill (vmm, SIGKILL);
          kill_at = -1;
        }
      if (fds[F_SIG].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) == sizeof si)
            {
              if (si.ssi_signo == SIGUSR1)
                queue_signal (m, si.ssi_int);
              else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                {
                  /* arca-vmm stops cleanly on SIGTERM; a stuck one is killed. */
                  powered_off = true;
                  kill (vmm, SIGTERM);
                  if (kill_at < 0)
                    kill_at = arca_engine_now_ms () + POWEROFF_GRACE_MS;
                }
            }
        }
      if (fds[F_OUT].revents)
        {
          ssize_t n = read (out, buf, sizeof buf);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            break;
          arca_vm_relay_feed (r, buf, (size_t) n);
        }
      if (r->ready && !initrd_gone)
        {
          /* The guest runs from its copy in memory now. */
          cleanup_free char *initrd = NULL;
          if (asprintf (&initrd, "%s/initrd", m->o->run_dir) >= 0)
            unlink (initrd);
          initrd_gone = true;
        }
      if (r->ready)
        flush_queue (m);
    }
  int status = 0;
  while (waitpid (vmm, &status, 0) < 0 && errno == EINTR)
    ;
  if (r->exit_code >= 0)
    return r->exit_code;
  if (powered_off)
    return POWEROFF_CODE;
  char msg[ARCA_VM_FRAME_MAX + 128];
  if (r->error[0])
    snprintf (msg, sizeof msg, "arca: --vm: guest agent: %s\n", r->error);
  else
    snprintf (msg, sizeof msg,
              "arca: --vm: the guest ended without the command's exit status (arca-vmm %s %d; see "
              "%s/console.log)\n",
              WIFEXITED (status) ? "exit" : "signal",
              WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status), m->o->run_dir);
  log_line (m, msg);
  return 255;
}

_Noreturn static void
monitor_main (const struct arca_vm_monitor_options *o, int status_fd)
{
  struct vm_monitor m = { .o = o, .vmm_in = -1 };
  cleanup_error arca_error *err = NULL;
  sigset_t mask;
  char msg[512];

  /* The caller's stdout may be a pipe someone reads to its end
   * ($(arca run --vm -d ...)): we must not hold it. */
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3 && null_fd >= 0; fd++)
    dup2 (null_fd, fd);
  if (null_fd > 2)
    close (null_fd);
  setsid ();
  prctl (PR_SET_NAME, "arca-vm-monitor", 0, 0, 0);
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGUSR1);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGPIPE);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sigdelset (&mask, SIGPIPE);
  sigdelset (&mask, SIGHUP);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  int sv[2] = { -1, -1 };
  cleanup_close int out = -1;
  pid_t vmm = -1;
  int r = 0;
  if (sfd < 0)
    r = arca_error_errno (&err, "signalfd");
  if (r == 0)
    r = arca_logfile_open (o->log_path, o->log_max_size, o->log_max_files, &m.log, &err);
  if (r == 0 && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    r = arca_error_errno (&err, "socketpair");
  if (r == 0)
    {
      m.vmm_in = sv[0];
      shutdown (m.vmm_in, SHUT_RD);
      r = o->spawn (o->opaque, sv[1], &out, &vmm, &err);
      close (sv[1]);
    }
  if (r == 0)
    r = write_pid_file (o->dir, MONITOR_PID_FILE, getpid (), &err);
  if (r == 0)
    r = write_pid_file (o->dir, VMM_PID_FILE, vmm, &err);
  if (r < 0)
    {
      if (vmm > 0)
        {
          kill (vmm, SIGKILL);
          while (waitpid (vmm, NULL, 0) < 0 && errno == EINTR)
            ;
        }
      cleanup_free char *text = arca_error_string (err);
      snprintf (msg, sizeof msg, "error %s", text ? text : "the VM's monitor failed");
      arca_monitor_report (&status_fd, msg);
      _exit (1);
    }
  arca_monitor_report (&status_fd, "ok");

  struct arca_vm_relay *relay = calloc (1, sizeof *relay);
  int code = 255;
  if (relay)
    {
      arca_vm_relay_init (relay, -1, -1);
      relay->sink = log_sink;
      relay->sink_opaque = &m;
      code = supervise (&m, out, vmm, sfd, relay);
      char console[ARCA_VM_CONSOLE_KEEP + 1];
      arca_vm_relay_console (relay, console, sizeof console);
      save_text (o->run_dir, "console.log", console);
      free (relay);
    }
  else
    {
      kill (vmm, SIGKILL);
      while (waitpid (vmm, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  arca_closep (&m.vmm_in);
  arca_logfile_flush (m.log, &err);
  arca_logfile_close (m.log);
  char text[16];
  snprintf (text, sizeof text, "%d\n", code);
  save_text (o->run_dir, "exit-code", text);
  {
    cleanup_free char *initrd = NULL;
    if (asprintf (&initrd, "%s/initrd", o->run_dir) >= 0)
      unlink (initrd);
  }
  /* exit.json first: whoever waits sees the code as soon as the VM counts
   * as stopped; the cleanup command (network, --rm) follows. */
  arca_error_freep (&err);
  arca_monitor_write_exit (o->dir, code, 0, &err);
  arca_monitor_run_exit_command (o->exit_command);
  _exit (0);
}

static void
start_child (const void *arg, int status_fd)
{
  monitor_main (arg, status_fd);
}

int
arca_vm_monitor_start (const struct arca_vm_monitor_options *o, pid_t *ret_monitor_pid,
                       arca_error **err)
{
  char buf[512];
  pid_t mon = -1;

  if (arca_monitor_spawn (start_child, o, "the VM's monitor", &mon, buf, sizeof buf, err) < 0)
    return -1;
  if (strcmp (buf, "ok") == 0)
    {
      *ret_monitor_pid = mon;
      return 0;
    }
  if (strncmp (buf, "error ", 6) == 0)
    return arca_error_set (err, 0, "%s", buf + 6);
  return arca_error_set (err, ECHILD, "the VM's monitor died before the VM started");
}
