/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small epoll loop.  The VM runs one in its device thread (serial input,
 * virtqueue ioeventfds); the API server runs another.  Handlers are added
 * before the loop runs or from inside its own callbacks, so the table needs
 * no lock. */
#ifndef ARCA_VMM_EVENTLOOP_H
#define ARCA_VMM_EVENTLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define EVENT_LOOP_MAX_HANDLERS 64

typedef void (*event_loop_cb) (void *opaque, int fd, uint32_t events);

struct event_loop_handler {
  int fd;                 /* -1 = free slot */
  event_loop_cb cb;
  void *opaque;
};

struct event_loop {
  int epoll_fd;
  int stop_fd;            /* eventfd: any write ends event_loop__run() */
  struct event_loop_handler handlers[EVENT_LOOP_MAX_HANDLERS];
};

int event_loop__init (struct event_loop *loop, arca_error **err);
void event_loop__fini (struct event_loop *loop);
int event_loop__add (struct event_loop *loop, int fd, uint32_t events, event_loop_cb cb,
                     void *opaque, arca_error **err);
void event_loop__remove (struct event_loop *loop, int fd);
/* Changes the events of a registered fd (0 = mute it).  Safe from any
   thread: it only calls epoll_ctl, the handler table is not touched. */
void event_loop__modify (struct event_loop *loop, int fd, uint32_t events);
/* Dispatches until event_loop__stop(); returns 0, or -1 if epoll fails. */
int event_loop__run (struct event_loop *loop, arca_error **err);
/* Async-signal- and thread-safe. */
void event_loop__stop (struct event_loop *loop);

#endif
