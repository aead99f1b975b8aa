/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container/sync.h"
#include "util/cleanup.h"

struct wire_header {
  uint32_t type;
  int32_t value;
};

int
arca_sync_send (int sock, enum arca_sync_type type, int32_t value, const char *data, int fd,
                arca_error **err)
{
  struct wire_header hdr = { .type = type, .value = value };
  size_t data_len = data ? strnlen (data, ARCA_SYNC_DATA_MAX - 1) : 0;
  struct iovec iov[2] = {
    { .iov_base = &hdr, .iov_len = sizeof hdr },
    { .iov_base = (void *) data, .iov_len = data_len },
  };
  union {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = iov, .msg_iovlen = data_len ? 2 : 1 };

  if (fd >= 0)
    {
      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = sizeof control.buf;
      struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cm), &fd, sizeof (int));
    }
  ssize_t n;
  do
    n = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return arca_error_errno (err, "send message %u to the %s", (unsigned) type,
                             "peer process");
  return 0;
}

int
arca_sync_recv (int sock, struct arca_sync_msg *msg, int *ret_fd, arca_error **err)
{
  struct wire_header hdr;
  struct iovec iov[2] = {
    { .iov_base = &hdr, .iov_len = sizeof hdr },
    { .iov_base = msg->data, .iov_len = sizeof msg->data - 1 },
  };
  union {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
                       .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  ssize_t n;

  if (ret_fd)
    *ret_fd = -1;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      /* The peer died with messages unread: same as end-of-file. */
      if (errno == ECONNRESET)
        n = 0;
      else
        return arca_error_errno (err, "receive message from the peer process");
    }
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      {
        int fd;
        memcpy (&fd, CMSG_DATA (cm), sizeof fd);
        if (ret_fd && *ret_fd < 0)
          *ret_fd = fd;
        else
          close (fd);
      }
  if (n == 0)
    {
      msg->type = ARCA_SYNC_EOF;
      msg->value = 0;
      msg->data[0] = '\0';
      return 0;
    }
  if ((size_t) n < sizeof hdr)
    return arca_error_set (err, EPROTO, "short message from the peer process");
  msg->type = hdr.type;
  msg->value = hdr.value;
  msg->data[n - sizeof hdr] = '\0';
  return 0;
}

int
arca_sync_expect (int sock, enum arca_sync_type type, struct arca_sync_msg *msg, int *ret_fd,
                  arca_error **err)
{
  if (arca_sync_recv (sock, msg, ret_fd, err) < 0)
    return -1;
  if (msg->type == type)
    return 0;
  if (ret_fd && *ret_fd >= 0)
    {
      close (*ret_fd);
      *ret_fd = -1;
    }
  if (msg->type == ARCA_SYNC_ERROR)
    return arca_error_set (err, msg->value, "%s", msg->data);
  if (msg->type == ARCA_SYNC_EOF)
    return arca_error_set (err, 0, "the container process exited during setup");
  return arca_error_set (err, EPROTO, "unexpected message %u from the container process (wanted %u)",
                         msg->type, (unsigned) type);
}

void
arca_sync_report_error (int sock, const arca_error *err)
{
  /* errnum goes separately: the runtime rebuilds the same arca_error, so the
   * final line reads "what: strerror" exactly once. */
  arca_sync_send (sock, ARCA_SYNC_ERROR, err ? err->errnum : 0,
                  err && err->msg ? err->msg : "unknown error", -1, NULL);
}
