/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"

int
arca_pty_open (unsigned rows, unsigned cols, int *ret_master, int *ret_slave, arca_error **err)
{
  cleanup_close int master = -1;
  cleanup_close int slave = -1;
  int unlock = 0;

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return arca_error_errno (err, "open `/dev/ptmx`");
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return arca_error_errno (err, "unlock pty");
  /* TIOCGPTPEER opens the peer through the master, not by a path the
   * container could have replaced. */
  slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return arca_error_errno (err, "open pty peer");
  if (rows > 0 || cols > 0)
    {
      struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
      if (ioctl (master, TIOCSWINSZ, &ws) < 0)
        return arca_error_errno (err, "process.consoleSize: set window size");
    }
  *ret_master = move_fd (master);
  *ret_slave = move_fd (slave);
  return 0;
}

int
arca_pty_become_controlling (int slave, arca_error **err)
{
  if (setsid () < 0 && errno != EPERM)
    return arca_error_errno (err, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return arca_error_errno (err, "set controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return arca_error_errno (err, "dup2 pty to fd %d", fd);
  return 0;
}

int
arca_unix_connect (const char *path, arca_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  if (strlen (path) >= sizeof (addr.sun_path))
    return arca_error_set (err, ENAMETOOLONG, "socket path `%s`", path);
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return arca_error_errno (err, "socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return arca_error_errno (err, "connect to `%s`", path);
  return move_fd (fd);
}

int
arca_fd_send (int sock, int fd, const char *payload, arca_error **err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  const char *data = payload && *payload ? payload : "fd";
  struct iovec iov = { .iov_base = (void *) data, .iov_len = strlen (data) };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof (u.buf) };
  struct cmsghdr *cmsg;

  memset (u.buf, 0, sizeof (u.buf));
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
  while (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return arca_error_errno (err, "send fd over socket");
  return 0;
}

int
arca_fd_recv (int sock, int *ret_fd, arca_error **err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  char data[256];
  struct iovec iov = { .iov_base = data, .iov_len = sizeof (data) };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof (u.buf) };
  struct cmsghdr *cmsg;
  ssize_t n;

  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return arca_error_errno (err, "receive fd over socket");
  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN (sizeof (int)))
    return arca_error_set (err, EBADMSG, "receive fd over socket: no fd in message");
  memcpy (ret_fd, CMSG_DATA (cmsg), sizeof (int));
  return 0;
}

static int
copy_some (int from, int to)
{
  char buf[16384];
  ssize_t n = read (from, buf, sizeof (buf));
  if (n <= 0)
    return n < 0 && errno == EINTR ? 1 : -1;
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (to, buf + off, (size_t) (n - off));
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      off += w;
    }
  return 1;
}

int
arca_pty_proxy (int master, arca_error **err)
{
  struct termios saved, raw;
  bool restore = false;
  sigset_t mask;
  cleanup_close int sfd = -1;
  bool stdin_open = true;

  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      struct winsize ws;
      raw = saved;
      cfmakeraw (&raw);
      raw.c_oflag = saved.c_oflag; /* keep output processing: \n stays \n */
      if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0)
        restore = true;
      if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        (void) ioctl (master, TIOCSWINSZ, &ws);
    }
  sigemptyset (&mask);
  sigaddset (&mask, SIGWINCH);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC);

  for (;;)
    {
      struct pollfd fds[3] = {
        { .fd = master, .events = POLLIN },
        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
      };
      if (poll (fds, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[0].revents & POLLIN)
        {
          if (copy_some (master, STDOUT_FILENO) < 0)
            break;
        }
      else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
        break;
      /* A stdin that is closed or unreadable (POLLNVAL/POLLERR) is done too:
         left in the set, poll would report it at once forever and spin. */
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
        {
          if ((fds[1].revents & POLLNVAL) || copy_some (STDIN_FILENO, master) < 0)
            {
              /* stdin closed: send EOF to the pty (VEOF) and keep reading output */
              char eof = 4;
              if (write (master, &eof, 1) < 0)
                break;
              stdin_open = false;
            }
        }
      if (fds[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          struct winsize ws;
          if (read (sfd, &si, sizeof (si)) > 0 && ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
            (void) ioctl (master, TIOCSWINSZ, &ws);
        }
    }
  if (restore)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  (void) err;
  return 0;
}
