/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration transport: addresses (unix socket or TCP) and whole-buffer
 * reads and writes. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "migrate.h"
#include "util/cleanup.h"

struct mig_addr {
  struct sockaddr_storage ss;
  socklen_t len;
};

static int
parse_addr (const char *addr, struct mig_addr *out, arca_error **err)
{
  memset (out, 0, sizeof (*out));
  if (strncmp (addr, "tcp:", 4) == 0)
    {
      cleanup_free char *host = strdup (addr + 4);
      struct sockaddr_in *in = (struct sockaddr_in *) &out->ss;
      char *colon, *end;
      unsigned long port;

      if (host == NULL)
        return arca_error_errno (err, "parse `%s`", addr);
      colon = strrchr (host, ':');
      if (colon == NULL)
        return arca_error_set (err, EINVAL, "migration address `%s`: no port", addr);
      *colon = '\0';
      errno = 0;
      port = strtoul (colon + 1, &end, 10);
      if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
        return arca_error_set (err, EINVAL, "migration address `%s`: bad port", addr);
      in->sin_family = AF_INET;
      in->sin_port = htons ((uint16_t) port);
      /* Numeric IPv4 only: no resolver inside a sandboxed VMM. */
      if (inet_pton (AF_INET, host[0] ? host : "127.0.0.1", &in->sin_addr) != 1)
        return arca_error_set (err, EINVAL, "migration address `%s`: not an IPv4 address", addr);
      out->len = sizeof (*in);
      return 0;
    }
  if (strncmp (addr, "unix:", 5) == 0 || strchr (addr, '/') != NULL)
    {
      struct sockaddr_un *un = (struct sockaddr_un *) &out->ss;
      const char *path = strncmp (addr, "unix:", 5) == 0 ? addr + 5 : addr;
      if (path[0] == '\0' || strlen (path) >= sizeof (un->sun_path))
        return arca_error_set (err, EINVAL, "migration address `%s`: bad socket path", addr);
      un->sun_family = AF_UNIX;
      strcpy (un->sun_path, path);
      out->len = sizeof (*un);
      return 0;
    }
  return arca_error_set (err, EINVAL, "migration address `%s` is not unix:PATH or tcp:HOST:PORT",
                         addr);
}

static void
tune (int fd, int family, int timeout_ms)
{
  int one = 1, buf = 4 << 20;
  struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

  /* Best effort: a failing option only costs speed or the timeout. */
  if (family == AF_INET)
    (void) setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  (void) setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof (buf));
  (void) setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof (buf));
  if (timeout_ms > 0)
    {
      (void) setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
      (void) setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    }
}

int
mig__connect (const char *addr, int timeout_ms, arca_error **err)
{
  cleanup_close int fd = -1;
  struct mig_addr a;

  if (parse_addr (addr, &a, err) < 0)
    return -1;
  fd = socket (a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return arca_error_errno (err, "socket for `%s`", addr);
  tune (fd, a.ss.ss_family, timeout_ms);
  if (connect (fd, (struct sockaddr *) &a.ss, a.len) < 0)
    return arca_error_errno (err, "connect to `%s`", addr);
  return move_fd (fd);
}

int
mig__listen (const char *addr, arca_error **err)
{
  cleanup_close int fd = -1;
  struct mig_addr a;
  int one = 1;

  if (parse_addr (addr, &a, err) < 0)
    return -1;
  fd = socket (a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return arca_error_errno (err, "socket for `%s`", addr);
  if (a.ss.ss_family == AF_INET)
    (void) setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  else
    unlink (((struct sockaddr_un *) &a.ss)->sun_path);
  if (bind (fd, (struct sockaddr *) &a.ss, a.len) < 0)
    return arca_error_errno (err, "bind `%s`", addr);
  if (listen (fd, 1) < 0)
    return arca_error_errno (err, "listen on `%s`", addr);
  tune (fd, a.ss.ss_family, 0);
  return move_fd (fd);
}

void
mig__unlink (const char *addr)
{
  struct mig_addr a;

  if (parse_addr (addr, &a, NULL) == 0 && a.ss.ss_family == AF_UNIX)
    unlink (((struct sockaddr_un *) &a.ss)->sun_path);
}

int
mig__write_all (int fd, const void *buf, size_t len, arca_error **err)
{
  const uint8_t *p = buf;

  while (len > 0)
    {
      /* MSG_NOSIGNAL: a peer that went away is an error to report, not a
         SIGPIPE that kills the VM being migrated. */
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "send migration stream");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
mig__read_all (int fd, void *buf, size_t len, arca_error **err)
{
  uint8_t *p = buf;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "receive migration stream");
      if (n == 0)
        return arca_error_set (err, ECONNRESET, "migration stream ended early");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Header and payload in one sendmsg (one syscall per record, not two:
   the last round's records go out while the guest is paused). */
int
mig__send (int fd, uint32_t type, uint32_t count, uint64_t arg, const void *payload, size_t len,
           arca_error **err)
{
  struct mig_record rec = { .magic = MIG_MAGIC, .type = type, .count = count, .arg = arg };
  struct iovec iov[2] = { { &rec, sizeof (rec) }, { (void *) payload, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1 };

  while (msg.msg_iovlen > 0)
    {
      ssize_t n = sendmsg (fd, &msg, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "send migration stream");
      /* Partial: skip what went out. */
      while (msg.msg_iovlen > 0 && (size_t) n >= msg.msg_iov[0].iov_len)
        {
          n -= (ssize_t) msg.msg_iov[0].iov_len;
          msg.msg_iov++;
          msg.msg_iovlen--;
        }
      if (msg.msg_iovlen > 0)
        {
          msg.msg_iov[0].iov_base = (uint8_t *) msg.msg_iov[0].iov_base + n;
          msg.msg_iov[0].iov_len -= (size_t) n;
        }
    }
  return 0;
}
