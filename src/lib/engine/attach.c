/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "engine/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"

/* A socket address for dir/attach.sock short enough for sun_path whatever
 * the length of dir: the path goes through the open directory's fd. */
static int
socket_address (const char *dir, int *ret_dirfd, struct sockaddr_un *ret_addr, arca_error **err)
{
  cleanup_close int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dirfd < 0)
    return arca_error_errno (err, "open `%s`", dir);
  memset (ret_addr, 0, sizeof *ret_addr);
  ret_addr->sun_family = AF_UNIX;
  snprintf (ret_addr->sun_path, sizeof ret_addr->sun_path, "/proc/self/fd/%d/%s", dirfd,
            ARCA_ATTACH_SOCKET);
  *ret_dirfd = move_fd (dirfd);
  return 0;
}

int
arca_attach_listen (const char *dir, arca_error **err)
{
  struct sockaddr_un addr;
  cleanup_close int dirfd = -1;
  cleanup_close int fd = -1;

  if (socket_address (dir, &dirfd, &addr, err) < 0)
    return -1;
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return arca_error_errno (err, "attach socket");
  /* Left over from a previous run of the container. */
  if (unlinkat (dirfd, ARCA_ATTACH_SOCKET, 0) < 0 && errno != ENOENT)
    return arca_error_errno (err, "remove `%s/%s`", dir, ARCA_ATTACH_SOCKET);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return arca_error_errno (err, "bind `%s/%s`", dir, ARCA_ATTACH_SOCKET);
  /* Only the owner (root) may attach. */
  if (fchmodat (dirfd, ARCA_ATTACH_SOCKET, 0600, 0) < 0 || listen (fd, 8) < 0)
    return arca_error_errno (err, "listen on `%s/%s`", dir, ARCA_ATTACH_SOCKET);
  return move_fd (fd);
}

int
arca_attach_connect (const char *dir, arca_error **err)
{
  struct sockaddr_un addr;
  cleanup_close int dirfd = -1;
  cleanup_close int fd = -1;

  if (socket_address (dir, &dirfd, &addr, err) < 0)
    return -1;
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return arca_error_errno (err, "attach socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return arca_error_errno (err, "connect to `%s/%s`", dir, ARCA_ATTACH_SOCKET);
  return move_fd (fd);
}

int
arca_attach_parse_keys (const char *spec, unsigned char *ret_keys, size_t *ret_len,
                        arca_error **err)
{
  unsigned char keys[ARCA_DETACH_KEYS_MAX];
  size_t n = 0;
  const char *p = spec;

  while (*p)
    {
      const char *end = strchr (p, ',');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      unsigned char key;
      if (len == 1)
        key = (unsigned char) p[0];
      else if (len == 6 && strncmp (p, "ctrl-", 5) == 0)
        {
          char c = p[5];
          if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
          if (c >= 'a' && c <= 'z')
            key = (unsigned char) (c - 'a' + 1);
          else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
            key = (unsigned char) (c - '@');
          else
            return arca_error_set (err, EINVAL, "--detach-keys `%s`: unknown key `%.*s`", spec,
                                   (int) len, p);
        }
      else
        return arca_error_set (err, EINVAL, "--detach-keys `%s`: unknown key `%.*s`", spec,
                               (int) len, p);
      if (n == sizeof keys)
        return arca_error_set (err, EINVAL, "--detach-keys `%s`: more than %d keys", spec,
                               ARCA_DETACH_KEYS_MAX);
      keys[n++] = key;
      p += len;
      if (*p == ',')
        {
          p++;
          if (*p == '\0')
            return arca_error_set (err, EINVAL, "--detach-keys `%s`: empty key", spec);
        }
    }
  memcpy (ret_keys, keys, n);
  *ret_len = n;
  return 0;
}

/* ---- the client's relay -------------------------------------------------- */

struct relay {
  const struct arca_attach_options *o;
  int sock;
  bool tty;
  bool stdin_open;
  size_t matched;               /* detach keys typed so far (held back) */
};

static int
send_packet (int sock, char type, const void *data, size_t len)
{
  char buf[ARCA_ATTACH_MAX_PACKET];

  if (len > sizeof buf - 1)
    len = sizeof buf - 1;
  buf[0] = type;
  if (len)
    memcpy (buf + 1, data, len);
  while (send (sock, buf, len + 1, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

static void
send_window_size (struct relay *r)
{
  struct winsize ws;
  uint16_t size[2];

  if (!r->tty || ioctl (r->o->in_fd, TIOCGWINSZ, &ws) < 0)
    return;
  size[0] = ws.ws_row;
  size[1] = ws.ws_col;
  send_packet (r->sock, 'w', size, sizeof size);
}

static int
write_all (int fd, const char *p, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      len -= (size_t) w;
    }
  return 0;
}

/* Our stdin to the container, minus the detach keys.  Returns 1 when
 * they were typed completely. */
static int
forward_input (struct relay *r, const unsigned char *in, size_t n)
{
  unsigned char out[ARCA_ATTACH_MAX_PACKET];
  size_t len = 0;
  const struct arca_attach_options *o = r->o;

  for (size_t i = 0; i < n; i++)
    {
      if (o->n_detach_keys && in[i] == o->detach_keys[r->matched])
        {
          if (++r->matched == o->n_detach_keys)
            {
              if (len)
                send_packet (r->sock, 'i', out, len);
              return 1;
            }
          continue;
        }
      /* A partial sequence that did not go on is input after all. */
      memcpy (out + len, o->detach_keys, r->matched);
      len += r->matched;
      r->matched = 0;
      if (o->n_detach_keys && in[i] == o->detach_keys[0])
        {
          r->matched = 1;
          continue;
        }
      out[len++] = in[i];
    }
  if (len && send_packet (r->sock, 'i', out, len) < 0)
    return -1;
  return 0;
}

int
arca_attach_relay (int sock, const struct arca_attach_options *o, bool *ret_exited,
                   int *ret_exit_code, bool *ret_detached, arca_error **err)
{
  struct relay r = { .o = o, .sock = sock };
  unsigned char buf[ARCA_ATTACH_MAX_PACKET];
  struct termios saved;
  bool raw = false, exited = false, detached = false;
  int code = 0;
  sigset_t mask, old_mask;
  cleanup_close int sfd = -1;

  /* The hello says what the container has. */
  ssize_t n;
  do
    n = recv (sock, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 2 || buf[0] != 'h')
    return arca_error_set (err, EPROTO, "attach: no greeting from the container's monitor");
  r.tty = (buf[1] & ARCA_ATTACH_TTY) != 0;
  r.stdin_open = o->send_stdin && (buf[1] & ARCA_ATTACH_STDIN) != 0;

  if (r.tty && r.stdin_open && isatty (o->in_fd) && tcgetattr (o->in_fd, &saved) == 0)
    {
      struct termios t = saved;
      cfmakeraw (&t);
      raw = tcsetattr (o->in_fd, TCSANOW, &t) == 0;
    }
  sigemptyset (&mask);
  sigaddset (&mask, SIGWINCH);
  sigprocmask (SIG_BLOCK, &mask, &old_mask);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  send_window_size (&r);
  if (o->send_ready)
    send_packet (sock, 'g', NULL, 0);

  while (!exited && !detached)
    {
      struct pollfd fds[3] = {
        { .fd = sock, .events = POLLIN },
        { .fd = r.stdin_open ? o->in_fd : -1, .events = POLLIN },
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
          n = recv (sock, buf, sizeof buf - 1, 0);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break; /* the monitor is gone */
          if (buf[0] == 'o' || buf[0] == 'e')
            {
              if (write_all (buf[0] == 'o' ? o->out_fd : o->err_fd, (char *) buf + 1,
                             (size_t) n - 1)
                  < 0)
                {
                  /* Nobody reads our output: stop relaying, the container goes on. */
                  detached = true;
                }
            }
          else if (buf[0] == 'f')
            {
              buf[n] = '\0';
              if (raw)
                tcsetattr (o->in_fd, TCSANOW, &saved);
              sigprocmask (SIG_SETMASK, &old_mask, NULL);
              return arca_error_set (err, 0, "%s", (char *) buf + 1);
            }
          else if (buf[0] == 'x' && n >= 5)
            {
              int32_t c;
              memcpy (&c, buf + 1, sizeof c);
              code = c;
              exited = true;
            }
        }
      else if (fds[0].revents & (POLLHUP | POLLERR))
        break;
      if (fds[1].revents)
        {
          n = read (o->in_fd, buf, sizeof buf - 1);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              r.stdin_open = false;
              send_packet (sock, 'c', NULL, 0);
            }
          else
            {
              int fr = forward_input (&r, buf, (size_t) n);
              if (fr > 0)
                detached = true;
            }
        }
      if (fds[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) > 0)
            send_window_size (&r);
        }
    }
  if (raw)
    tcsetattr (o->in_fd, TCSANOW, &saved);
  sigprocmask (SIG_SETMASK, &old_mask, NULL);
  *ret_exited = exited;
  *ret_exit_code = code;
  *ret_detached = detached;
  return 0;
}
