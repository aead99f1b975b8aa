/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "io.h"
#include "virtio.h"

#define MMIO_BASE 0xd0000000ULL
#define MMIO_SLOT 0x1000ULL
#define MMIO_SLOTS 8
#define POLL_LIMIT 200000

#define R_MAGIC 0x000
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_QUEUE_DESC_LOW 0x080
#define R_QUEUE_DESC_HIGH 0x084
#define R_QUEUE_DRIVER_LOW 0x090
#define R_QUEUE_DRIVER_HIGH 0x094
#define R_QUEUE_DEVICE_LOW 0x0a0
#define R_QUEUE_DEVICE_HIGH 0x0a4

/* Rings for up to MMIO_SLOTS devices and GV_QUEUES queues, a page each part. */
static struct vdesc desc_mem[MMIO_SLOTS][GV_QUEUES][256] __attribute__ ((aligned (4096)));
static uint16_t avail_mem[MMIO_SLOTS][GV_QUEUES][2048] __attribute__ ((aligned (4096)));
static uint16_t used_mem[MMIO_SLOTS][GV_QUEUES][2048] __attribute__ ((aligned (4096)));

#define barrier() __asm__ volatile ("" ::: "memory")

uint32_t
vdev_read (struct gvdev *d, uint32_t reg)
{
  return mmio_read32 (d->base + reg);
}

static void
wr (struct gvdev *d, uint32_t reg, uint32_t v)
{
  mmio_write32 (d->base + reg, v);
}

static void
set_queue (struct gvdev *d, int slot, int qi)
{
  struct gvq *q = &d->q[qi];
  uint64_t desc = (uint64_t) (uintptr_t) desc_mem[slot][qi];
  uint64_t avail = (uint64_t) (uintptr_t) avail_mem[slot][qi];
  uint64_t used = (uint64_t) (uintptr_t) used_mem[slot][qi];

  q->desc = desc_mem[slot][qi];
  q->avail = avail_mem[slot][qi];
  q->used = used_mem[slot][qi];
  q->avail_idx = q->used_idx = 0;
  q->avail[0] = 1;   /* VIRTQ_AVAIL_F_NO_INTERRUPT: the guest polls */
  q->avail[1] = 0;
  q->used[1] = 0;
  wr (d, R_QUEUE_SEL, (uint32_t) qi);
  wr (d, R_QUEUE_NUM, VQ_SIZE);
  wr (d, R_QUEUE_DESC_LOW, (uint32_t) desc);
  wr (d, R_QUEUE_DESC_HIGH, (uint32_t) (desc >> 32));
  wr (d, R_QUEUE_DRIVER_LOW, (uint32_t) avail);
  wr (d, R_QUEUE_DRIVER_HIGH, (uint32_t) (avail >> 32));
  wr (d, R_QUEUE_DEVICE_LOW, (uint32_t) used);
  wr (d, R_QUEUE_DEVICE_HIGH, (uint32_t) (used >> 32));
  wr (d, R_QUEUE_READY, 1);
}

int
vdev_open (struct gvdev *d, uint32_t device_id, int nth, uint32_t features)
{
  for (int slot = 0; slot < MMIO_SLOTS; slot++)
    {
      d->base = MMIO_BASE + (uint64_t) slot * MMIO_SLOT;
      if (vdev_read (d, R_MAGIC) != 0x74726976 || vdev_read (d, R_DEVICE_ID) != device_id)
        continue;
      if (nth-- > 0)
        continue;
      wr (d, R_STATUS, 0);
      wr (d, R_STATUS, 1 | 2);                         /* ACKNOWLEDGE | DRIVER */
      wr (d, R_DEVICE_FEATURES_SEL, 1);
      if (!(vdev_read (d, R_DEVICE_FEATURES) & 1))     /* VIRTIO_F_VERSION_1 */
        return -2;
      wr (d, R_DEVICE_FEATURES_SEL, 0);
      features &= vdev_read (d, R_DEVICE_FEATURES);   /* accept only what is offered */
      wr (d, R_DRIVER_FEATURES_SEL, 0);
      wr (d, R_DRIVER_FEATURES, features);
      wr (d, R_DRIVER_FEATURES_SEL, 1);
      wr (d, R_DRIVER_FEATURES, 1);
      wr (d, R_STATUS, 1 | 2 | 8);                     /* FEATURES_OK */
      if (!(vdev_read (d, R_STATUS) & 8))
        return -3;
      for (int qi = 0; qi < GV_QUEUES; qi++)
        {
          wr (d, R_QUEUE_SEL, (uint32_t) qi);
          if (vdev_read (d, R_QUEUE_NUM_MAX) == 0)
            break;                                     /* fewer queues */
          if (vdev_read (d, R_QUEUE_NUM_MAX) < VQ_SIZE)
            return -4;
          set_queue (d, slot, qi);
        }
      d->desc = d->q[0].desc;
      wr (d, R_STATUS, 1 | 2 | 8 | 4);                 /* DRIVER_OK */
      return 0;
    }
  return -1;
}

void
vdev_reset (struct gvdev *d)
{
  wr (d, R_STATUS, 0);
}

static void
post (struct gvdev *d, int qi, uint16_t head)
{
  struct gvq *q = &d->q[qi];
  q->avail[2 + q->avail_idx % VQ_SIZE] = head;
  barrier ();
  q->avail_idx++;
  q->avail[1] = q->avail_idx;
  barrier ();
  wr (d, R_QUEUE_NOTIFY, (uint32_t) qi);
}

void
vdev_post_q (struct gvdev *d, int qi, const struct vbuf *bufs, int n)
{
  struct vdesc *desc = d->q[qi].desc;
  for (int i = 0; i < n; i++)
    {
      desc[i].addr = (uint64_t) (uintptr_t) bufs[i].addr;
      desc[i].len = bufs[i].len;
      desc[i].flags = (uint16_t) ((i + 1 < n ? 1 : 0) | (bufs[i].device_writes ? 2 : 0));
      desc[i].next = (uint16_t) (i + 1);
    }
  post (d, qi, 0);
}

int64_t
vdev_poll_q (struct gvdev *d, int qi, int spins)
{
  struct gvq *q = &d->q[qi];
  for (int spin = 0; spin < spins; spin++)
    {
      barrier ();
      if (q->used[1] != q->used_idx)
        {
          const volatile uint32_t *elem
              = (const volatile uint32_t *) (q->used + 2) + 2 * (q->used_idx % VQ_SIZE);
          q->used_idx++;
          return elem[1];
        }
    }
  return -1;
}

int64_t
vdev_request_q (struct gvdev *d, int qi, const struct vbuf *bufs, int n)
{
  vdev_post_q (d, qi, bufs, n);
  return vdev_poll_q (d, qi, POLL_LIMIT);
}

int64_t
vdev_request (struct gvdev *d, const struct vbuf *bufs, int n)
{
  return vdev_request_q (d, 0, bufs, n);
}

int
vdev_request_raw (struct gvdev *d, const struct vdesc *descs, int n)
{
  for (int i = 0; i < n; i++)
    d->q[0].desc[i] = descs[i];
  post (d, 0, 0);
  for (int spin = 0; spin < 1000; spin++)
    if (vdev_read (d, R_STATUS) & VSTATUS_NEEDS_RESET)
      return 1;
  return 0;
}
