/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-guest-agent: /init of an `arca run --vm` guest.  Mounts the kernel
 * file systems, loads the modules it is told to, enters the image's root
 * (carried in the initramfs, or a disk under a tmpfs overlay), sets the
 * host name, network (net.c), user, environment and directory from
 * /arca/config, runs the
 * command and relays its stdout/stderr and exit status to the host as
 * frames on the serial port (engine/vm-proto.h), then stops the VM through
 * arca-vmm's debug-exit port with that status.  Static: it runs before any
 * root file system exists. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "input.h"
#include "net.h"
#include "engine/vm-proto.h"

#define NEWROOT "/newroot"
#define INITRAMFS_ROOT "/rootfs"

/* The serial port frames go to; -1 until opened. */
struct agent {
  int out;
};

static void
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      p += n;
      len -= (size_t) n;
    }
}

static void
send_frame (struct agent *a, char type, const void *data, size_t len)
{
  const char *p = data;

  do
    {
      size_t n = len > ARCA_VM_FRAME_MAX ? ARCA_VM_FRAME_MAX : len;
      unsigned char frame[ARCA_VM_FRAME_MAX + 5];
      frame[0] = ARCA_VM_FRAME_START;
      frame[1] = (unsigned char) type;
      frame[2] = (unsigned char) (n >> 8);
      frame[3] = (unsigned char) n;
      if (n)
        memcpy (frame + 4, p, n);
      frame[4 + n] = ARCA_VM_FRAME_END;
      write_all (a->out, frame, n + 5);
      p += n;
      len -= n;
    }
  while (len > 0);
}

/* Stops the VM with status: debug-exit first (arca-vmm exits with it),
 * a reset (reboot=k: the i8042) if that port is not there. */
static void __attribute__ ((noreturn))
power_off (struct agent *a, int status)
{
  unsigned char code = (unsigned char) status;

  send_frame (a, ARCA_VM_FRAME_EXIT, &code, 1);
  tcdrain (a->out);
  sync ();
  if (ioperm (ARCA_VM_DEBUG_EXIT_PORT, 1, 1) == 0)
    outb (code, ARCA_VM_DEBUG_EXIT_PORT);
  reboot (RB_AUTOBOOT);
  reboot (RB_POWER_OFF);
  for (;;)
    pause ();
}

static void __attribute__ ((noreturn, format (printf, 2, 3)))
die (struct agent *a, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  int e = errno;

  va_start (ap, fmt);
  int n = vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (n < 0)
    n = 0;
  if ((size_t) n < sizeof msg && e)
    snprintf (msg + n, sizeof msg - (size_t) n, ": %s", strerror (e));
  if (a->out >= 0)
    send_frame (a, ARCA_VM_FRAME_ERROR, msg, strlen (msg));
  else
    fprintf (stderr, "arca-guest-agent: %s\n", msg);
  power_off (a, 125);
}

/* Raw both ways: bytes of the command's output must reach the host
 * unchanged, and the host's frames must arrive unchanged and unechoed.
 * Then 'r' tells the host it may send (engine/vm-proto.h). */
static void
open_serial (struct agent *a)
{
  struct termios t;

  a->out = open ("/dev/ttyS0", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (a->out < 0)
    a->out = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (a->out >= 0 && tcgetattr (a->out, &t) == 0)
    {
      cfmakeraw (&t);
      tcsetattr (a->out, TCSANOW, &t);
      tcflush (a->out, TCIFLUSH);
    }
  if (a->out >= 0)
    send_frame (a, ARCA_VM_FRAME_READY, NULL, 0);
}

static int
mount_at (const char *source, const char *target, const char *type, unsigned long flags,
          const char *data)
{
  mkdir (target, 0755);
  if (mount (source, target, type, flags, data) < 0 && errno != EBUSY)
    return -1;
  return 0;
}

static char *
read_config (struct agent *a, size_t *ret_len)
{
  int fd = open (ARCA_VM_CONFIG_PATH, O_RDONLY | O_CLOEXEC);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    die (a, "open `%s`", ARCA_VM_CONFIG_PATH);
  if (st.st_size <= 0 || st.st_size > ARCA_VM_CONFIG_MAX)
    {
      errno = 0;
      die (a, "`%s`: size %lld out of range", ARCA_VM_CONFIG_PATH, (long long) st.st_size);
    }
  char *buf = malloc ((size_t) st.st_size);
  size_t got = 0;
  while (buf && got < (size_t) st.st_size)
    {
      ssize_t n = read (fd, buf + got, (size_t) st.st_size - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        die (a, "read `%s`", ARCA_VM_CONFIG_PATH);
      got += (size_t) n;
    }
  if (buf == NULL)
    die (a, "read `%s`", ARCA_VM_CONFIG_PATH);
  close (fd);
  *ret_len = got;
  return buf;
}

static void
load_modules (struct agent *a, char **modules)
{
  for (size_t i = 0; modules[i]; i++)
    {
      char path[128];
      snprintf (path, sizeof path, "/arca/modules/%s.ko", modules[i]);
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      /* Not in the initramfs: built into this kernel. */
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        die (a, "module `%s`", path);
      if (syscall (SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
        die (a, "load module `%s`", modules[i]);
      close (fd);
    }
}

/* Mounts the disk read-only with a tmpfs overlay at NEWROOT: the disk is
 * the engine's cached image and must stay as it is.  The device appears
 * when its driver has probed: wait up to 10 s. */
static void
mount_disk_root (struct agent *a, const struct agent_config *c)
{
  struct timespec tick = { 0, 20 * 1000 * 1000 };

  for (int i = 0; i < 500 && access (c->root, F_OK) < 0; i++)
    nanosleep (&tick, NULL);
  if (mount_at (c->root, "/lower", c->rootfstype, MS_RDONLY, NULL) < 0)
    die (a, "mount `%s` (%s)", c->root, c->rootfstype);
  if (mount_at ("rw", "/rw", "tmpfs", 0, "mode=0755") < 0)
    die (a, "mount tmpfs `/rw`");
  mkdir ("/rw/upper", 0755);
  mkdir ("/rw/work", 0755);
  if (mount_at ("overlay", NEWROOT, "overlay", 0,
                "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work") < 0)
    die (a, "mount overlay on `%s`", NEWROOT);
}

/* Enters the image's root: its kernel file systems, then chroot.  The
 * initramfs itself cannot be pivoted away from; chroot is enough here, as
 * nothing else runs in the guest. */
static void
enter_root (struct agent *a, const struct agent_config *c)
{
  const char *root = INITRAMFS_ROOT;

  if (strcmp (c->root, "initramfs") != 0)
    {
      mount_disk_root (a, c);
      root = NEWROOT;
    }
  if (chdir (root) < 0)
    die (a, "chdir `%s`", root);
  if (mount_at ("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
      || mount_at ("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
      || mount_at ("devtmpfs", "dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0)
    die (a, "mount kernel file systems in the image");
  mount_at ("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666");
  mount_at ("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  if (mkdir ("tmp", 0) == 0)
    chmod ("tmp", 01777);
  if (chroot (".") < 0 || chdir ("/") < 0)
    die (a, "chroot `%s`", root);
}

/* The command's process: identity, directory, environment, exec.  Errors
 * go to its stderr pipe, as a container runtime would print them. */
static void __attribute__ ((noreturn))
child (const struct agent_config *c, int in, int out, int err)
{
  int null = in >= 0 ? in : open ("/dev/null", O_RDWR);
  const char *what = "dup2";

  setsid ();
  /* With a tty, in, out and err are its slave: our controlling terminal. */
  if (c->tty && ioctl (in, TIOCSCTTY, 0) < 0)
    {
      what = "TIOCSCTTY";
      goto fail;
    }
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (out, 1) < 0 || dup2 (err, 2) < 0)
    goto fail;
  what = "setgroups";
  if (setgroups (c->n_groups, (const gid_t *) c->groups) < 0)
    goto fail;
  what = "setgid";
  if (setgid (c->gid) < 0)
    goto fail;
  what = "setuid";
  if (setuid (c->uid) < 0)
    goto fail;
  what = "chdir";
  if (chdir (c->cwd) < 0)
    {
      dprintf (2, "arca-guest-agent: chdir `%s`: %s\n", c->cwd, strerror (errno));
      _exit (126);
    }
  if (clearenv () != 0)
    goto fail;
  for (size_t i = 0; c->env[i]; i++)
    putenv (c->env[i]);
  if (getenv ("PATH") == NULL)
    setenv ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  signal (SIGPIPE, SIG_DFL);
  execvp (c->argv[0], c->argv);
  dprintf (2, "arca-guest-agent: exec `%s`: %s\n", c->argv[0], strerror (errno));
  _exit (errno == ENOENT ? 127 : 126);
fail:
  dprintf (2, "arca-guest-agent: %s: %s\n", what, strerror (errno));
  _exit (126);
}

/* The command's stdin as the host sends it (-i): held in buf (never more
 * than the host's window) until the command takes it; every byte passed
 * on or dropped is acknowledged, so the host sends more. */
struct stdin_relay {
  int fd;               /* pipe to the command's stdin, or the pty master; -1: none */
  bool tty, eof, eof_done;
  unsigned char buf[ARCA_VM_STDIN_WINDOW];
  size_t len;
  uint32_t unacked;
};

static void
stdin_event (struct stdin_relay *in, const struct agent_config *c, int master,
             const struct agent_input_event *ev)
{
  switch (ev->kind)
    {
    case AGENT_INPUT_STDIN:
      {
        /* Without -i, after EOF or beyond the window: dropped. */
        size_t take = 0;
        if (c->stdin_frames && in->fd >= 0 && !in->eof)
          take = ev->len < sizeof in->buf - in->len ? ev->len : sizeof in->buf - in->len;
        memcpy (in->buf + in->len, ev->data, take);
        in->len += take;
        in->unacked += (uint32_t) (ev->len - take);
        break;
      }
    case AGENT_INPUT_EOF:
      if (c->stdin_frames)
        in->eof = true;
      break;
    case AGENT_INPUT_SIGNAL:
      break; /* relay() delivers it */
    case AGENT_INPUT_WINSIZE:
      if (master >= 0)
        {
          struct winsize ws = { .ws_row = (unsigned short) ev->rows, .ws_col = (unsigned short) ev->cols };
          (void) ioctl (master, TIOCSWINSZ, &ws);
        }
      break;
    }
}

/* Writes what it can of buf to the command (non-blocking); a command that
 * closed its stdin drops the rest.  After the host's EOF: closes the pipe,
 * or types the tty's EOF character. */
static void
stdin_flush (struct stdin_relay *in)
{
  while (in->fd >= 0 && in->len > 0)
    {
      ssize_t n = write (in->fd, in->buf, in->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        n = (ssize_t) in->len; /* EPIPE, EIO: nobody reads it any more */
      memmove (in->buf, in->buf + n, in->len - (size_t) n);
      in->len -= (size_t) n;
      in->unacked += (uint32_t) n;
    }
  if (in->eof && !in->eof_done && in->len == 0 && in->fd >= 0)
    {
      in->eof_done = true;
      if (in->tty)
        {
          struct termios t;
          unsigned char eof = tcgetattr (in->fd, &t) == 0 && t.c_cc[VEOF] ? t.c_cc[VEOF] : 4;
          if (write (in->fd, &eof, 1) < 0)
            in->fd = -1; /* the master stays open for output */
        }
      else
        {
          close (in->fd);
          in->fd = -1;
        }
    }
}

static void
stdin_ack (struct agent *a, struct stdin_relay *in)
{
  unsigned char n[4];

  if (in->unacked == 0)
    return;
  n[0] = (unsigned char) (in->unacked >> 24);
  n[1] = (unsigned char) (in->unacked >> 16);
  n[2] = (unsigned char) (in->unacked >> 8);
  n[3] = (unsigned char) in->unacked;
  send_frame (a, ARCA_VM_FRAME_ACK, n, sizeof n);
  in->unacked = 0;
}

/* Relays the command's output (both pipes, or the pty master) as frames
 * until the command has exited and its output is closed (or quiet for
 * 200 ms after its exit: a background process may hold it open), and the
 * host's frames on the serial input to its stdin and pty.  Reaps every
 * process, as pid 1 must. */
static int
relay (struct agent *a, const struct agent_config *c, pid_t pid, int out, int err, int stdin_fd)
{
  enum { OUT, ERR, SERIAL, STDIN };
  struct pollfd fds[4] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN },
                           /* Always read: 'k' frames (run --vm -d) come without -i/-t. */
                           { .fd = a->out, .events = POLLIN },
                           { .fd = -1 } };
  struct stdin_relay *in = calloc (1, sizeof *in);
  struct agent_input *parser = malloc (sizeof *parser);
  int status = -1, quiet_after_exit = 0;
  int master = c->tty ? out : -1;
  char buf[ARCA_VM_FRAME_MAX];

  if (in == NULL || parser == NULL)
    die (a, "relay");
  in->fd = stdin_fd;
  in->tty = c->tty;
  agent_input_init (parser);
  while (fds[OUT].fd >= 0 || fds[ERR].fd >= 0)
    {
      bool pending = status < 0 && in->fd >= 0 && in->len > 0;
      fds[OUT].events = POLLIN | (pending && in->fd == fds[OUT].fd ? POLLOUT : 0);
      fds[STDIN].fd = pending && in->fd != fds[OUT].fd ? in->fd : -1;
      fds[STDIN].events = POLLOUT;
      int n = poll (fds, 4, 50);
      for (int i = OUT; i <= ERR && n > 0; i++)
        if (fds[i].fd >= 0 && (fds[i].revents & ~POLLOUT))
          {
            ssize_t r = read (fds[i].fd, buf, sizeof buf);
            if (r > 0)
              send_frame (a, i == OUT ? ARCA_VM_FRAME_STDOUT : ARCA_VM_FRAME_STDERR, buf, (size_t) r);
            else if (r == 0 || (errno != EINTR && errno != EAGAIN))
              {
                if (fds[i].fd == in->fd)
                  in->fd = -1; /* the pty master: gone for both */
                close (fds[i].fd);
                fds[i].fd = -1;
                if (i == OUT)
                  master = -1;
              }
          }
      if (n > 0 && fds[SERIAL].fd >= 0 && fds[SERIAL].revents)
        {
          unsigned char ib[4096];
          ssize_t r = read (fds[SERIAL].fd, ib, sizeof ib);
          for (ssize_t i = 0; i < r; i++)
            {
              struct agent_input_event ev;
              if (!agent_input_byte (parser, ib[i], &ev))
                continue;
              if (ev.kind == AGENT_INPUT_SIGNAL)
                {
                  /* To the command only, as a container's init gets it;
                   * once it has exited there is nobody to signal. */
                  if (status < 0)
                    kill (pid, ev.signal);
                }
              else
                stdin_event (in, c, master, &ev);
            }
          if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
            fds[SERIAL].fd = -1;
        }
      if (status < 0)
        stdin_flush (in);
      stdin_ack (a, in);
      for (;;)
        {
          int st;
          pid_t p = waitpid (-1, &st, WNOHANG);
          if (p <= 0)
            break;
          if (p == pid)
            status = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
        }
      if (status >= 0 && n == 0 && ++quiet_after_exit >= 4)
        break;
    }
  if (in->fd >= 0 && in->fd != out)
    close (in->fd);
  free (in);
  free (parser);
  while (status < 0)
    {
      int st;
      pid_t p = waitpid (-1, &st, 0);
      if (p < 0 && errno != EINTR)
        return 127;
      if (p == pid)
        status = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
    }
  return status;
}

/* A new pty of the image's devpts (mounted by enter_root) of the size the
 * host gave: the master stays here, the slave becomes the command's. */
static void
open_pty (struct agent *a, const struct agent_config *c, int *ret_master, int *ret_slave)
{
  int unlock = 0, m = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  struct winsize ws = { .ws_row = (unsigned short) c->rows, .ws_col = (unsigned short) c->cols };

  if (m < 0)
    m = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (m < 0)
    die (a, "open `/dev/pts/ptmx`");
  if (ioctl (m, TIOCSPTLCK, &unlock) < 0 || ioctl (m, TIOCSWINSZ, &ws) < 0)
    die (a, "pty setup");
  int s = ioctl (m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    {
      unsigned n;
      char path[32];
      if (ioctl (m, TIOCGPTN, &n) < 0)
        die (a, "TIOCGPTN");
      snprintf (path, sizeof path, "/dev/pts/%u", n);
      s = open (path, O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (s < 0)
        die (a, "open `%s`", path);
    }
  *ret_master = m;
  *ret_slave = s;
}

int
main (void)
{
  struct agent a = { .out = -1 };
  struct agent_config c;
  char msg[256];
  size_t len;
  int out[2], err[2], in[2] = { -1, -1 };

  if (getpid () != 1)
    {
      fprintf (stderr, "arca-guest-agent: runs as the init of an `arca run --vm` guest only\n");
      return 2;
    }
  mount_at ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_at ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_at ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  open_serial (&a);

  char *raw = read_config (&a, &len);
  if (agent_config_parse (raw, len, &c, msg, sizeof msg) < 0)
    {
      errno = 0;
      die (&a, "%s", msg);
    }
  free (raw);
  load_modules (&a, c.modules);
  if (agent_net_up (&c, msg, sizeof msg) < 0)
    die (&a, "%s", msg);
  enter_root (&a, &c);
  if (c.hostname && sethostname (c.hostname, strlen (c.hostname)) < 0)
    die (&a, "sethostname `%s`", c.hostname);
  if (agent_net_write_etc (&c, msg, sizeof msg) < 0)
    die (&a, "%s", msg);
  if (c.tty)
    {
      /* stdout and stderr both on the tty, as a container's -t. */
      int master, slave;
      open_pty (&a, &c, &master, &slave);
      pid_t pid = fork ();
      if (pid < 0)
        die (&a, "fork");
      if (pid == 0)
        child (&c, slave, slave, slave);
      close (slave);
      power_off (&a, relay (&a, &c, pid, master, -1, c.stdin_frames ? master : -1));
    }
  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0
      || (c.stdin_frames && pipe2 (in, O_CLOEXEC) < 0))
    die (&a, "pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die (&a, "fork");
  if (pid == 0)
    child (&c, c.stdin_frames ? in[0] : -1, out[1], err[1]);
  close (out[1]);
  close (err[1]);
  if (c.stdin_frames)
    {
      close (in[0]);
      fcntl (in[1], F_SETFL, O_NONBLOCK);
    }
  power_off (&a, relay (&a, &c, pid, out[0], err[0], c.stdin_frames ? in[1] : -1));
}
