/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-net (virtio 1.x, 5.1) on a host tap device: queue 0 receives,
 * queue 1 transmits, with the 12-byte virtio_net_hdr_v1 in front of each
 * frame and no offloads.  Frames from the tap are delivered when the guest
 * has posted receive buffers; while it has none the tap fd is muted, so a
 * busy host link can neither spin the device thread nor queue unbounded
 * memory in the VMM. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "virtio.h"
#include "vm.h"

#define NET_F_MAC (1ULL << 5)
#define NET_HDR 12
#define RXQ 0
#define TXQ 1
#define FRAME_MAX 65550

struct net {
  struct arca_vm *vm;
  struct virtio_dev *transport;
  int tap;
  bool tap_muted;
  uint8_t mac[6];
  uint8_t buf[NET_HDR + FRAME_MAX];
};

static void
net_config_read (void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
  struct net *n = opaque;
  for (uint32_t i = 0; i < len; i++)
    data[i] = off + i < sizeof (n->mac) ? n->mac[off + i] : 0;
}

static int
rx (struct net *n, const struct virtq_chain *chain, uint32_t *ret_written, const char **why)
{
  ssize_t got;

  if (chain->n_in > 0 || chain->out_len < NET_HDR)
    return *why = "virtio-net receive buffer without room for the header", -1;
  got = read (n->tap, n->buf + NET_HDR, FRAME_MAX);
  if (got < 0)
    {
      /* Nothing waiting: listen to the tap again and keep the buffer. */
      if (n->tap_muted)
        {
          n->tap_muted = false;
          event_loop__modify (&n->vm->loop, n->tap, EPOLLIN);
        }
      return 1;
    }
  memset (n->buf, 0, NET_HDR);
  n->buf[10] = 1;                     /* num_buffers = 1 */
  /* A frame larger than the buffer is cut, as a NIC would drop its tail. */
  *ret_written = (uint32_t) virtq__write (chain, 0, n->buf, NET_HDR + (size_t) got);
  return 0;
}

static int
tx (struct net *n, const struct virtq_chain *chain, uint32_t *ret_written, const char **why)
{
  size_t len;

  if (chain->in_len < NET_HDR || chain->in_len > NET_HDR + FRAME_MAX)
    return *why = "virtio-net transmit chain of impossible size", -1;
  len = virtq__read (chain, NET_HDR, n->buf, chain->in_len - NET_HDR);
  /* A full or gone tap drops the frame, as a wire would. */
  if (write (n->tap, n->buf, len) < 0)
    arca_debug (n->vm->log, "virtio-net: frame dropped: %s", strerror (errno));
  *ret_written = 0;
  return 0;
}

static int
net_handle (void *opaque, unsigned queue, const struct virtq_chain *chain, uint32_t *ret_written,
            const char **why)
{
  struct net *n = opaque;
  return queue == RXQ ? rx (n, chain, ret_written, why) : tx (n, chain, ret_written, why);
}

/* Frames are waiting: mute the tap until the receive queue has read them. */
static void
on_tap (void *opaque, int fd, uint32_t events)
{
  struct net *n = opaque;
  n->tap_muted = true;
  event_loop__modify (&n->vm->loop, fd, 0);
  virtio__notify (n->transport, RXQ);
  (void) events;
}

static void
net_free (void *opaque)
{
  struct net *n = opaque;
  arca_closep (&n->tap);
  free (n);
}

static const struct virtio_device_ops net_ops = {
  .name = "virtio-net",
  .device_id = VIRTIO_ID_NET,
  .features = NET_F_MAC,
  .n_queues = 2,
  .queue_max = 256,
  .config_len = 6,
  .config_read = net_config_read,
  .handle = net_handle,
  .free = net_free,
};

int
virtio_net__create (struct arca_vm *vm, const struct arca_vm_net_config *cfg, arca_error **err)
{
  struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
  cleanup_close int tap = -1;
  struct net *n;

  if (strlen (cfg->tap) >= IFNAMSIZ)
    return arca_error_set (err, EINVAL, "tap name `%s` is too long", cfg->tap);
  tap = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (tap < 0)
    return arca_error_errno (err, "open `/dev/net/tun`");
  memcpy (ifr.ifr_name, cfg->tap, strlen (cfg->tap) + 1);
  if (ioctl (tap, TUNSETIFF, &ifr) < 0)
    return arca_error_errno (err, "attach tap `%s`", cfg->tap);
  n = calloc (1, sizeof (*n));
  if (n == NULL)
    return arca_error_errno (err, "allocate virtio-net");
  n->vm = vm;
  n->tap = move_fd (tap);
  memcpy (n->mac, cfg->mac, sizeof (n->mac));
  if (virtio__create (vm, &net_ops, n, &n->transport, err) < 0)
    return arca_error_wrap (err, "tap `%s`", cfg->tap);
  if (event_loop__add (&vm->loop, n->tap, EPOLLIN, on_tap, n, err) < 0)
    return -1;
  return 0;
}
