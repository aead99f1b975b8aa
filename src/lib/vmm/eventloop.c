/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "eventloop.h"
#include "util/cleanup.h"

int
event_loop__init (struct event_loop *loop, arca_error **err)
{
  cleanup_close int epfd = -1;
  cleanup_close int stopfd = -1;
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

  memset (loop, 0, sizeof (*loop));
  loop->epoll_fd = loop->stop_fd = -1;
  for (unsigned i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++)
    loop->handlers[i].fd = -1;

  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return arca_error_errno (err, "epoll_create1");
  stopfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stopfd < 0)
    return arca_error_errno (err, "eventfd");
  /* data.ptr NULL marks the stop fd. */
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, stopfd, &ev) < 0)
    return arca_error_errno (err, "epoll_ctl add stop eventfd");
  loop->epoll_fd = move_fd (epfd);
  loop->stop_fd = move_fd (stopfd);
  return 0;
}

void
event_loop__fini (struct event_loop *loop)
{
  arca_closep (&loop->epoll_fd);
  arca_closep (&loop->stop_fd);
}

int
event_loop__add (struct event_loop *loop, int fd, uint32_t events, event_loop_cb cb,
                 void *opaque, arca_error **err)
{
  for (unsigned i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++)
    {
      struct event_loop_handler *h = &loop->handlers[i];
      struct epoll_event ev = { .events = events, .data.ptr = h };

      if (h->fd >= 0)
        continue;
      if (epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return arca_error_errno (err, "epoll_ctl add fd %d", fd);
      h->fd = fd;
      h->cb = cb;
      h->opaque = opaque;
      return 0;
    }
  return arca_error_set (err, ENOSPC, "event loop: more than %d handlers", EVENT_LOOP_MAX_HANDLERS);
}

void
event_loop__remove (struct event_loop *loop, int fd)
{
  for (unsigned i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++)
    if (loop->handlers[i].fd == fd)
      {
        (void) epoll_ctl (loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        loop->handlers[i].fd = -1;
        loop->handlers[i].cb = NULL;
        return;
      }
}

void
event_loop__modify (struct event_loop *loop, int fd, uint32_t events)
{
  for (unsigned i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++)
    if (loop->handlers[i].fd == fd)
      {
        struct epoll_event ev = { .events = events, .data.ptr = &loop->handlers[i] };
        (void) epoll_ctl (loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
        return;
      }
}

int
event_loop__run (struct event_loop *loop, arca_error **err)
{
  for (;;)
    {
      struct epoll_event evs[16];
      int n = epoll_wait (loop->epoll_fd, evs, ARRAY_SIZE (evs), -1);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return arca_error_errno (err, "epoll_wait");
        }
      for (int i = 0; i < n; i++)
        {
          struct event_loop_handler *h = evs[i].data.ptr;
          if (h == NULL)
            return 0;
          /* A callback earlier in this batch may have removed it. */
          if (h->fd >= 0 && h->cb != NULL)
            h->cb (h->opaque, h->fd, evs[i].events);
        }
    }
}

void
event_loop__stop (struct event_loop *loop)
{
  uint64_t one = 1;
  ssize_t r = write (loop->stop_fd, &one, sizeof (one));
  (void) r;
}
