/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-vsock (virtio 1.x, 5.10), stream sockets only, with the host side
 * as unix sockets in Firecracker's model:
 *   host -> guest: connect to PATH and send "CONNECT <port>\n"; once the
 *     guest accepts, the VMM answers "OK <host port>\n" and bytes flow.
 *   guest -> host: a connection to CID 2, port P, is connected to the unix
 *     socket "PATH_P" the host listens on.
 * Queue 0 receives (device -> driver), queue 1 transmits, queue 2 (events)
 * is never used: connections do not survive a snapshot or migration.
 *
 * All state is touched by the device thread only (queue handlers and host
 * socket callbacks run there), except reset, which comes from a vCPU and
 * only marks connections dead under the lock.  Packets for the guest wait
 * in a bounded FIFO; host sockets are read only while it has room and the
 * guest has credit, so a fast host cannot make the VMM buffer without end.
 * The other way, the guest's credit comes back with CREDIT_UPDATE once
 * half of HOST_BUF_ALLOC went on to the host unannounced: a driver
 * (Linux's) that only sends within its credit would otherwise stop for
 * good after HOST_BUF_ALLOC bytes to a host that never answers.  "Went on"
 * means the host socket took it: what a slow host does not take yet waits
 * in the connection's buffer (at most the guest's credit, HOST_BUF_ALLOC)
 * until the socket is writable, so a slow reader slows the guest down
 * instead of losing its connection; only a guest that sends beyond its
 * credit is reset. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "virtio.h"
#include "vm.h"

#define VIRTIO_ID_VSOCK 19
#define RXQ 0
#define TXQ 1
#define HOST_CID 2
#define HDR 44
#define TYPE_STREAM 1
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7
#define MAX_CONNS 16
#define FIFO_LEN 32
#define PKT_DATA 4096
#define FIFO_RESERVE 4          /* slots kept for control packets */
#define HOST_BUF_ALLOC (256u << 10)
#define CREDIT_UPDATE_AFTER (HOST_BUF_ALLOC / 2)
#define CONNECT_LINE_MAX 32

struct pkt_hdr {
  uint64_t src_cid, dst_cid;
  uint32_t src_port, dst_port;
  uint32_t len;
  uint16_t type, op;
  uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__ ((packed));

_Static_assert (sizeof (struct pkt_hdr) == HDR, "virtio_vsock_hdr is 44 bytes");

enum conn_state { CONN_FREE = 0, CONN_HOST_LINE, CONN_CONNECTING, CONN_OPEN };

struct conn {
  enum conn_state state;
  bool dead;                    /* reset: close on the device thread */
  bool muted;
  bool request_queued;          /* CONNECTING: the REQUEST is in the FIFO or delivered */
  int fd;
  uint32_t local_port;          /* host side */
  uint32_t peer_port;           /* guest side */
  uint32_t peer_buf_alloc, peer_fwd_cnt;
  uint32_t tx_cnt;              /* bytes sent to the guest */
  uint32_t fwd_cnt;             /* bytes of the guest's delivered to the host */
  uint32_t fwd_cnt_told;        /* fwd_cnt in the last packet queued for the guest */
  uint8_t *out;                 /* guest bytes the host socket has not taken yet */
  uint32_t out_off, out_len;    /* ... at out + out_off; out_len <= HOST_BUF_ALLOC */
  bool shutdown;                /* the guest shut down: close once out is written */
  char line[CONNECT_LINE_MAX];
  size_t line_len;
};

struct pkt {
  struct pkt_hdr hdr;
  uint8_t data[PKT_DATA];
};

struct vsock {
  struct arca_vm *vm;
  struct virtio_dev *transport;
  pthread_mutex_t lock;
  uint64_t cid;
  char path[108];
  int listen_fd;
  uint32_t next_port;
  struct conn conns[MAX_CONNS];
  struct pkt fifo[FIFO_LEN];
  unsigned fifo_head, fifo_len;
};

static void
vsock_config_read (void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
  struct vsock *v = opaque;
  for (uint32_t i = 0; i < len; i++)
    data[i] = off + i < 8 ? (uint8_t) (v->cid >> (8 * (off + i))) : 0;
}

static struct pkt *
fifo_push (struct vsock *v, unsigned reserve)
{
  struct pkt *p;
  if (v->fifo_len + reserve >= FIFO_LEN)
    return NULL;
  p = &v->fifo[(v->fifo_head + v->fifo_len) % FIFO_LEN];
  v->fifo_len++;
  memset (&p->hdr, 0, sizeof (p->hdr));
  return p;
}

/* Queues a header-only packet from the host side of c to the guest.
   Returns false when the FIFO is full: the packet is dropped, which the
   protocol survives (a RST the guest misses is answered again when it next
   uses the connection; REQUESTs are never sent this way unless there is
   room, see flush_requests()). */
static bool
send_ctl (struct vsock *v, uint32_t local_port, uint32_t peer_port, uint16_t op, uint32_t flags,
          struct conn *c)
{
  struct pkt *p = fifo_push (v, 0);
  if (p == NULL)
    {
      arca_debug (v->vm->log, "virtio-vsock: receive queue full, control packet %u dropped", op);
      return false;
    }
  p->hdr = (struct pkt_hdr){ .src_cid = HOST_CID, .dst_cid = v->cid, .src_port = local_port,
                             .dst_port = peer_port, .type = TYPE_STREAM, .op = op, .flags = flags,
                             .buf_alloc = HOST_BUF_ALLOC, .fwd_cnt = c ? c->fwd_cnt : 0 };
  if (c != NULL)
    c->fwd_cnt_told = c->fwd_cnt;
  virtio__notify (v->transport, RXQ);
  return true;
}

/* Gives the guest its credit back when much of it went to the host since
   the last packet told it; a dropped update is retried by the next call
   (after the next guest bytes, or once the receive queue drained). */
static void
maybe_credit_update (struct vsock *v, struct conn *c)
{
  if (c->state == CONN_OPEN && !c->dead && c->fwd_cnt - c->fwd_cnt_told >= CREDIT_UPDATE_AFTER)
    send_ctl (v, c->local_port, c->peer_port, OP_CREDIT_UPDATE, 0, c);
}

/* Voids a REQUEST still waiting in the FIFO (the host gave up before the
   guest saw it); returns whether there was one.  rx() skips void slots. */
static bool
void_request (struct vsock *v, const struct conn *c)
{
  for (unsigned i = 0; i < v->fifo_len; i++)
    {
      struct pkt_hdr *h = &v->fifo[(v->fifo_head + i) % FIFO_LEN].hdr;
      if (h->op == OP_REQUEST && h->src_port == c->local_port && h->dst_port == c->peer_port)
        {
          h->op = 0;
          return true;
        }
    }
  return false;
}

/* Host connections whose REQUEST did not fit in the FIFO get it now. */
static void
flush_requests (struct vsock *v)
{
  for (unsigned i = 0; i < MAX_CONNS; i++)
    {
      struct conn *c = &v->conns[i];
      if (c->state == CONN_CONNECTING && !c->request_queued && !c->dead
          && v->fifo_len + FIFO_RESERVE < FIFO_LEN)
        c->request_queued = send_ctl (v, c->local_port, c->peer_port, OP_REQUEST, 0, c);
    }
}

static void
conn_close (struct vsock *v, struct conn *c)
{
  if (c->fd >= 0)
    {
      event_loop__remove (&v->vm->loop, c->fd);
      close (c->fd);
    }
  free (c->out);
  memset (c, 0, sizeof (*c));
  c->fd = -1;
}

/* Closes what a reset marked; device thread only. */
static void
reap (struct vsock *v)
{
  for (unsigned i = 0; i < MAX_CONNS; i++)
    if (v->conns[i].dead)
      conn_close (v, &v->conns[i]);
}

static struct conn *
find (struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
  for (unsigned i = 0; i < MAX_CONNS; i++)
    {
      struct conn *c = &v->conns[i];
      if (c->state != CONN_FREE && c->state != CONN_HOST_LINE && !c->dead
          && c->local_port == local_port && c->peer_port == peer_port)
        return c;
    }
  return NULL;
}

static struct conn *
alloc_conn (struct vsock *v)
{
  for (unsigned i = 0; i < MAX_CONNS; i++)
    if (v->conns[i].state == CONN_FREE && !v->conns[i].dead)
      return &v->conns[i];
  return NULL;
}

static uint32_t
credit (const struct conn *c)
{
  uint32_t used = c->tx_cnt - c->peer_fwd_cnt;
  return used < c->peer_buf_alloc ? c->peer_buf_alloc - used : 0;
}

/* Readable unless muted, writable while guest bytes wait for the host. */
static void
update_events (struct vsock *v, struct conn *c)
{
  if (c->fd >= 0)
    event_loop__modify (&v->vm->loop, c->fd,
                        (c->muted ? 0 : EPOLLIN) | (c->out_len > 0 ? EPOLLOUT : 0));
}

static void
set_muted (struct vsock *v, struct conn *c, bool muted)
{
  if (c->muted == muted || c->fd < 0)
    return;
  c->muted = muted;
  update_events (v, c);
}

/* Writes what waits for the host as far as its socket takes it; false when
   the host is gone. */
static bool
flush_out (struct vsock *v, struct conn *c)
{
  bool waited = c->out_len > 0;

  while (c->out_len > 0)
    {
      ssize_t w = send (c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN)
        break;
      if (w <= 0)
        return false;
      c->out_off += (uint32_t) w;
      c->out_len -= (uint32_t) w;
      c->fwd_cnt += (uint32_t) w;
    }
  if (c->out_len == 0)
    c->out_off = 0;
  if (waited && c->out_len == 0)
    update_events (v, c);
  return true;
}

/* n guest bytes for the host: straight into its socket when nothing waits,
   else (or for what it did not take) behind what waits.  false: the host is
   gone, or the guest sent beyond its credit. */
static bool
queue_out (struct vsock *v, struct conn *c, const uint8_t *data, size_t n)
{
  if (c->out_len == 0)
    {
      ssize_t w = send (c->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return false;
      if (w > 0)
        {
          c->fwd_cnt += (uint32_t) w;
          data += w;
          n -= (size_t) w;
        }
      if (n == 0)
        return true;
    }
  if (c->out_len + n > HOST_BUF_ALLOC)
    return false;
  if (c->out == NULL && (c->out = malloc (HOST_BUF_ALLOC)) == NULL)
    return false;
  if (c->out_off + c->out_len + n > HOST_BUF_ALLOC)
    {
      memmove (c->out, c->out + c->out_off, c->out_len);
      c->out_off = 0;
    }
  bool was_empty = c->out_len == 0;
  memcpy (c->out + c->out_off + c->out_len, data, n);
  c->out_len += (uint32_t) n;
  if (was_empty)
    update_events (v, c);
  return true;
}

/* Host bytes for the guest, as far as queue room and guest credit go. */
static void
pump_host (struct vsock *v, struct conn *c)
{
  for (;;)
    {
      uint32_t room = credit (c);
      struct pkt *p;
      ssize_t n;

      if (room == 0 || v->fifo_len + FIFO_RESERVE >= FIFO_LEN)
        {
          set_muted (v, c, true);   /* the guest's credit update or rx drain unmutes */
          return;
        }
      p = fifo_push (v, FIFO_RESERVE);
      n = read (c->fd, p->data, room < PKT_DATA ? room : PKT_DATA);
      if (n <= 0)
        {
          v->fifo_len--;
          if (n < 0 && (errno == EAGAIN || errno == EINTR))
            {
              set_muted (v, c, false);
              return;
            }
          /* The host closed (or failed): tell the guest, forget it. */
          send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
          conn_close (v, c);
          return;
        }
      p->hdr = (struct pkt_hdr){ .src_cid = HOST_CID, .dst_cid = v->cid, .src_port = c->local_port,
                                 .dst_port = c->peer_port, .len = (uint32_t) n, .type = TYPE_STREAM,
                                 .op = OP_RW, .buf_alloc = HOST_BUF_ALLOC, .fwd_cnt = c->fwd_cnt };
      c->fwd_cnt_told = c->fwd_cnt;
      c->tx_cnt += (uint32_t) n;
      virtio__notify (v->transport, RXQ);
    }
}

static void
on_host (void *opaque, int fd, uint32_t events);

/* "CONNECT <port>\n" from a host connection on the listening socket. */
static void
host_line (struct vsock *v, struct conn *c)
{
  ssize_t n = read (c->fd, c->line + c->line_len, sizeof (c->line) - 1 - c->line_len);
  char *nl, *end;
  unsigned long port;

  if (n < 0 && errno == EAGAIN)
    return;
  if (n <= 0)
    {
      conn_close (v, c);
      return;
    }
  c->line_len += (size_t) n;
  c->line[c->line_len] = '\0';
  nl = strchr (c->line, '\n');
  if (nl == NULL)
    {
      if (c->line_len == sizeof (c->line) - 1)
        conn_close (v, c);   /* no command is this long */
      return;
    }
  *nl = '\0';
  errno = 0;
  port = strncmp (c->line, "CONNECT ", 8) == 0 ? strtoul (c->line + 8, &end, 10) : 0;
  if (port == 0 || errno != 0 || *end != '\0' || port > UINT32_MAX || nl + 1 != c->line + c->line_len)
    {
      conn_close (v, c);
      return;
    }
  c->peer_port = (uint32_t) port;
  c->local_port = v->next_port++;
  if (v->next_port == 0)
    v->next_port = 1024;
  c->state = CONN_CONNECTING;
  c->request_queued = false;
  /* Requests leave room for the packets of open connections; a burst of
     them waits here (flush_requests) rather than being dropped. */
  flush_requests (v);
}

/* While the guest has not answered: a host that gives up frees the slot
   (and the guest hears RST); bytes sent early wait in the socket, muted,
   until the connection is open. */
static void
host_waiting (struct vsock *v, struct conn *c)
{
  char b;
  ssize_t n = recv (c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n > 0)
    set_muted (v, c, true);
  else if (n == 0 || (errno != EAGAIN && errno != EINTR))
    {
      /* The guest only needs to hear of it if it may have seen the
         REQUEST. */
      if (c->request_queued && !void_request (v, c))
        send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
      conn_close (v, c);
    }
}

static void
on_host (void *opaque, int fd, uint32_t events)
{
  struct vsock *v = opaque;

  pthread_mutex_lock (&v->lock);
  reap (v);
  for (unsigned i = 0; i < MAX_CONNS; i++)
    {
      struct conn *c = &v->conns[i];
      if (c->fd != fd || c->dead)
        continue;
      if (c->state == CONN_HOST_LINE)
        host_line (v, c);
      else if (c->state == CONN_CONNECTING)
        host_waiting (v, c);
      else if (c->state == CONN_OPEN)
        {
          /* The host took some of what waited: on with it, credit back. */
          if ((events & EPOLLOUT) && c->out_len > 0)
            {
              if (!flush_out (v, c))
                {
                  send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
                  conn_close (v, c);
                  break;
                }
              if (c->shutdown && c->out_len == 0)
                {
                  send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
                  conn_close (v, c);
                  break;
                }
              maybe_credit_update (v, c);
            }
          pump_host (v, c);
        }
      break;
    }
  pthread_mutex_unlock (&v->lock);
}

static void
on_accept (void *opaque, int fd, uint32_t events)
{
  struct vsock *v = opaque;
  cleanup_close int cfd = accept4 (fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  struct conn *c;
  (void) events;

  if (cfd < 0)
    return;
  pthread_mutex_lock (&v->lock);
  reap (v);
  c = alloc_conn (v);
  if (c != NULL && event_loop__add (&v->vm->loop, cfd, EPOLLIN, on_host, v, NULL) == 0)
    {
      memset (c, 0, sizeof (*c));
      c->state = CONN_HOST_LINE;
      c->fd = move_fd (cfd);
    }
  pthread_mutex_unlock (&v->lock);
}

/* A connected, registered socket to PATH_<port>, or -1. */
static int
connect_host (struct vsock *v, uint32_t port)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;
  int n = snprintf (sa.sun_path, sizeof (sa.sun_path), "%s_%u", v->path, port);

  if (n < 0 || (size_t) n >= sizeof (sa.sun_path))
    return -1;
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0
      || event_loop__add (&v->vm->loop, fd, EPOLLIN, on_host, v, NULL) < 0)
    return -1;
  return move_fd (fd);
}

/* The guest connects to the host: PATH_<port>. */
static void
guest_connect (struct vsock *v, const struct pkt_hdr *h)
{
  struct conn *c = alloc_conn (v);
  int fd = c != NULL && find (v, h->dst_port, h->src_port) == NULL ? connect_host (v, h->dst_port) : -1;

  if (fd < 0)
    {
      send_ctl (v, h->dst_port, h->src_port, OP_RST, 0, NULL);
      return;
    }
  memset (c, 0, sizeof (*c));
  c->fd = fd;
  c->state = CONN_OPEN;
  c->local_port = h->dst_port;
  c->peer_port = h->src_port;
  c->peer_buf_alloc = h->buf_alloc;
  c->peer_fwd_cnt = h->fwd_cnt;
  send_ctl (v, c->local_port, c->peer_port, OP_RESPONSE, 0, c);
}

/* Guest bytes for the host.  What its socket does not take now waits in
   the connection (never blocking the device thread); credit returns to the
   guest as the host takes it. */
static void
to_host (struct vsock *v, struct conn *c, const struct virtq_chain *chain, uint32_t len)
{
  uint8_t buf[PKT_DATA];
  uint64_t off = HDR;

  while (len > 0)
    {
      size_t n = virtq__read (chain, off, buf, len < sizeof (buf) ? len : sizeof (buf));
      if (n == 0 || !queue_out (v, c, buf, n))
        {
          send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
          conn_close (v, c);
          return;
        }
      off += n;
      len -= (uint32_t) n;
    }
  maybe_credit_update (v, c);
}

static int
tx (struct vsock *v, const struct virtq_chain *chain, const char **why)
{
  struct pkt_hdr h;
  struct conn *c;

  if (chain->n_out > 0 || chain->in_len < HDR)
    return *why = "virtio-vsock transmit chain without a header or with writable buffers", -1;
  virtq__read (chain, 0, &h, sizeof (h));
  if (h.len != chain->in_len - HDR || h.len > HOST_BUF_ALLOC)
    return *why = "virtio-vsock packet length does not match its buffers", -1;
  if (h.src_cid != v->cid || h.dst_cid != HOST_CID || h.type != TYPE_STREAM)
    {
      /* Not a stream to the host: refused as a peer would, not a fault. */
      if (h.op != OP_RST)
        send_ctl (v, h.dst_port, h.src_port, OP_RST, 0, NULL);
      return 0;
    }
  c = find (v, h.dst_port, h.src_port);
  if (c != NULL)
    {
      c->peer_buf_alloc = h.buf_alloc;
      c->peer_fwd_cnt = h.fwd_cnt;
    }
  switch (h.op)
    {
    case OP_REQUEST:
      if (c == NULL)
        guest_connect (v, &h);
      else
        send_ctl (v, h.dst_port, h.src_port, OP_RST, 0, NULL);
      break;
    case OP_RESPONSE:
      if (c != NULL && c->state == CONN_CONNECTING)
        {
          char ok[32];
          int n = snprintf (ok, sizeof (ok), "OK %u\n", c->local_port);
          c->state = CONN_OPEN;
          if (send (c->fd, ok, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
            {
              send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
              conn_close (v, c);
              break;
            }
          pump_host (v, c);
        }
      else
        send_ctl (v, h.dst_port, h.src_port, OP_RST, 0, NULL);
      break;
    case OP_RW:
      if (c != NULL && c->state == CONN_OPEN)
        to_host (v, c, chain, h.len);
      else
        send_ctl (v, h.dst_port, h.src_port, OP_RST, 0, NULL);
      break;
    case OP_CREDIT_REQUEST:
      if (c != NULL)
        send_ctl (v, c->local_port, c->peer_port, OP_CREDIT_UPDATE, 0, c);
      break;
    case OP_CREDIT_UPDATE:
      if (c != NULL && c->state == CONN_OPEN)
        pump_host (v, c);
      break;
    case OP_SHUTDOWN:
      /* What still waits for the host goes first. */
      if (c != NULL && c->state == CONN_OPEN && c->out_len > 0)
        c->shutdown = true;
      else if (c != NULL)
        {
          send_ctl (v, c->local_port, c->peer_port, OP_RST, 0, c);
          conn_close (v, c);
        }
      break;
    case OP_RST:
      if (c != NULL)
        conn_close (v, c);
      break;
    default:
      return *why = "virtio-vsock packet with an unknown operation", -1;
    }
  return 0;
}

static int
rx (struct vsock *v, const struct virtq_chain *chain, uint32_t *ret_written, const char **why)
{
  struct pkt *p;
  size_t len;

  if (chain->n_in > 0 || chain->out_len < HDR)
    return *why = "virtio-vsock receive buffer without room for a header", -1;
  while (v->fifo_len > 0 && v->fifo[v->fifo_head].hdr.op == 0)
    {
      v->fifo_head = (v->fifo_head + 1) % FIFO_LEN;
      v->fifo_len--;
    }
  if (v->fifo_len == 0)
    {
      flush_requests (v);
      if (v->fifo_len == 0)
        return 1;
    }
  p = &v->fifo[v->fifo_head];
  /* A packet never outgrows the buffer it lands in: RW data is cut to the
     room the driver offered, the rest stays for the next buffer. */
  len = p->hdr.len;
  if (len > chain->out_len - HDR)
    {
      struct pkt_hdr h = p->hdr;
      size_t fit = chain->out_len - HDR;
      h.len = (uint32_t) fit;
      virtq__write (chain, 0, &h, HDR);
      virtq__write (chain, HDR, p->data, fit);
      memmove (p->data, p->data + fit, len - fit);
      p->hdr.len = (uint32_t) (len - fit);
      *ret_written = (uint32_t) (HDR + fit);
      return 0;
    }
  virtq__write (chain, 0, &p->hdr, HDR);
  virtq__write (chain, HDR, p->data, len);
  *ret_written = (uint32_t) (HDR + len);
  v->fifo_head = (v->fifo_head + 1) % FIFO_LEN;
  v->fifo_len--;
  flush_requests (v);
  /* Room again: host sockets muted for a full queue may go on, credit
     updates dropped for a full queue go out. */
  for (unsigned i = 0; i < MAX_CONNS; i++)
    {
      if (v->conns[i].state == CONN_OPEN && v->conns[i].muted && !v->conns[i].dead
          && credit (&v->conns[i]) > 0)
        set_muted (v, &v->conns[i], false);
      maybe_credit_update (v, &v->conns[i]);
    }
  return 0;
}

static int
vsock_handle (void *opaque, unsigned queue, const struct virtq_chain *chain, uint32_t *ret_written,
              const char **why)
{
  struct vsock *v = opaque;
  int r;

  pthread_mutex_lock (&v->lock);
  reap (v);
  if (queue == RXQ)
    r = rx (v, chain, ret_written, why);
  else if (queue == TXQ)
    {
      *ret_written = 0;
      r = tx (v, chain, why);
    }
  else
    {
      /* The event queue: the device never has an event to post. */
      r = 1;
    }
  pthread_mutex_unlock (&v->lock);
  return r;
}

/* From a vCPU: the driver reset the device.  Connections end; the device
   thread closes them at its next turn. */
static void
vsock_reset (void *opaque)
{
  struct vsock *v = opaque;

  pthread_mutex_lock (&v->lock);
  v->fifo_len = 0;
  for (unsigned i = 0; i < MAX_CONNS; i++)
    if (v->conns[i].state != CONN_FREE)
      {
        v->conns[i].dead = true;
        if (v->conns[i].fd >= 0)
          {
            event_loop__modify (&v->vm->loop, v->conns[i].fd, 0);
            shutdown (v->conns[i].fd, SHUT_RDWR);
          }
      }
  pthread_mutex_unlock (&v->lock);
}

static void
vsock_free (void *opaque)
{
  struct vsock *v = opaque;

  for (unsigned i = 0; i < MAX_CONNS; i++)
    arca_closep (&v->conns[i].fd);
  arca_closep (&v->listen_fd);
  unlink (v->path);
  pthread_mutex_destroy (&v->lock);
  free (v);
}

static const struct virtio_device_ops vsock_ops = {
  .name = "virtio-vsock",
  .device_id = VIRTIO_ID_VSOCK,
  .n_queues = 3,
  .queue_max = 256,
  .config_len = 8,
  .config_read = vsock_config_read,
  .handle = vsock_handle,
  .reset = vsock_reset,
  .free = vsock_free,
};

int
virtio_vsock__create (struct arca_vm *vm, const struct arca_vm_vsock_config *cfg, arca_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;
  struct vsock *v;

  if (cfg->cid < 3 || cfg->cid > UINT32_MAX - 1)
    return arca_error_set (err, EINVAL, "vsock guest CID %llu is not in 3..%u",
                           (unsigned long long) cfg->cid, UINT32_MAX - 1);
  /* "PATH_<port>" must fit too. */
  if (strlen (cfg->uds_path) + 12 >= sizeof (sa.sun_path))
    return arca_error_set (err, ENAMETOOLONG, "vsock socket path `%s` is too long", cfg->uds_path);
  strcpy (sa.sun_path, cfg->uds_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return arca_error_errno (err, "vsock socket");
  unlink (cfg->uds_path);
  if (bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0 || listen (fd, MAX_CONNS) < 0)
    return arca_error_errno (err, "listen on vsock socket `%s`", cfg->uds_path);
  v = calloc (1, sizeof (*v));
  if (v == NULL)
    {
      unlink (cfg->uds_path);
      return arca_error_errno (err, "allocate virtio-vsock");
    }
  pthread_mutex_init (&v->lock, NULL);
  v->vm = vm;
  v->cid = cfg->cid;
  v->next_port = 1024;
  snprintf (v->path, sizeof (v->path), "%s", cfg->uds_path);
  for (unsigned i = 0; i < MAX_CONNS; i++)
    v->conns[i].fd = -1;
  v->listen_fd = move_fd (fd);
  if (virtio__create (vm, &vsock_ops, v, &v->transport, err) < 0)
    return arca_error_wrap (err, "vsock `%s`", cfg->uds_path);
  if (event_loop__add (&vm->loop, v->listen_fd, EPOLLIN, on_accept, v, err) < 0)
    return -1;
  return 0;
}
