/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "io.h"
#include "virtio.h"

#define MMIO_BASE 0xd0000000ULL
#define MMIO_SLOT 0x1000ULL
#define MMIO_SLOTS 8
#define POLL_SPINS 1000

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

static uint64_t
rdtsc (void)
{
  uint32_t lo, hi;
  __asm__ volatile ("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t) hi << 32 | lo;
}

#define PCI_VENDOR_VIRTIO 0x1af4
#define PCI_DEVICE_VIRTIO 0x1040
#define R_CONFIG 0x100

static int use_pci;

void
vdev_use_pci (void)
{
  use_pci = 1;
}

uint32_t
pci_cfg_read (unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
  outl (0xcf8, 0x80000000U | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc));
  return inl (0xcfc);
}

void
pci_cfg_write (unsigned bus, unsigned slot, unsigned fn, unsigned reg, uint32_t v)
{
  outl (0xcf8, 0x80000000U | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc));
  outl (0xcfc, v);
}

uint64_t
pci_bar0_size (unsigned slot)
{
  uint32_t lo = pci_cfg_read (0, slot, 0, 0x10), hi = pci_cfg_read (0, slot, 0, 0x14);
  uint64_t mask;

  pci_cfg_write (0, slot, 0, 0x10, 0xffffffff);
  pci_cfg_write (0, slot, 0, 0x14, 0xffffffff);
  mask = (uint64_t) pci_cfg_read (0, slot, 0, 0x14) << 32 | (pci_cfg_read (0, slot, 0, 0x10) & ~0xfU);
  pci_cfg_write (0, slot, 0, 0x10, lo);
  pci_cfg_write (0, slot, 0, 0x14, hi);
  return ~mask + 1;
}

/* virtio-mmio register -> PCI common configuration offset and width
   (virtio 1.x 4.1.4.3); width 0: no such register on PCI. */
static uint32_t
pci_common_reg (uint32_t reg, int *width)
{
  static const struct { uint16_t mmio, pci; uint8_t width; } map[] = {
    { R_DEVICE_FEATURES_SEL, 0x00, 4 }, { R_DEVICE_FEATURES, 0x04, 4 },
    { R_DRIVER_FEATURES_SEL, 0x08, 4 }, { R_DRIVER_FEATURES, 0x0c, 4 },
    { R_STATUS, 0x14, 1 }, { R_QUEUE_SEL, 0x16, 2 }, { R_QUEUE_NUM_MAX, 0x18, 2 },
    { R_QUEUE_NUM, 0x18, 2 }, { R_QUEUE_READY, 0x1c, 2 },
    { R_QUEUE_DESC_LOW, 0x20, 4 }, { R_QUEUE_DESC_HIGH, 0x24, 4 },
    { R_QUEUE_DRIVER_LOW, 0x28, 4 }, { R_QUEUE_DRIVER_HIGH, 0x2c, 4 },
    { R_QUEUE_DEVICE_LOW, 0x30, 4 }, { R_QUEUE_DEVICE_HIGH, 0x34, 4 },
  };
  for (unsigned i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (map[i].mmio == reg)
      {
        *width = map[i].width;
        return map[i].pci;
      }
  *width = 0;
  return 0;
}

uint32_t
vdev_read (struct gvdev *d, uint32_t reg)
{
  int width;
  uint32_t off;

  if (!d->pci)
    return mmio_read32 (d->base + reg);
  if (reg >= R_CONFIG)
    return mmio_read32 (d->devcfg + reg - R_CONFIG);
  off = pci_common_reg (reg, &width);
  switch (width)
    {
    case 1:
      return mmio_read8 (d->common + off);
    case 2:
      return mmio_read16 (d->common + off);
    case 4:
      return mmio_read32 (d->common + off);
    default:
      return 0;
    }
}

static void wr (struct gvdev *d, uint32_t reg, uint32_t v);

void
vdev_write (struct gvdev *d, uint32_t reg, uint32_t v)
{
  wr (d, reg, v);
}

static void
wr (struct gvdev *d, uint32_t reg, uint32_t v)
{
  int width;
  uint32_t off;

  if (!d->pci)
    {
      mmio_write32 (d->base + reg, v);
      return;
    }
  if (reg == R_QUEUE_NOTIFY)
    {
      mmio_write16 (d->notify + v * d->notify_mult, (uint16_t) v);
      return;
    }
  if (reg >= R_CONFIG)
    {
      mmio_write32 (d->devcfg + reg - R_CONFIG, v);
      return;
    }
  off = pci_common_reg (reg, &width);
  if (width == 1)
    mmio_write8 (d->common + off, (uint8_t) v);
  else if (width == 2)
    mmio_write16 (d->common + off, (uint16_t) v);
  else if (width == 4)
    mmio_write32 (d->common + off, v);
}

/* Finds the nth virtio device of this id on PCI bus 0 and reads where its
   capabilities put the regions.  Returns the slot or -1. */
static int
pci_find (struct gvdev *d, uint32_t device_id, int nth)
{
  for (unsigned slot = 0; slot < 32; slot++)
    {
      uint32_t id = pci_cfg_read (0, slot, 0, 0);
      uint64_t bar;
      unsigned cap, hops = 0;

      if (id != (PCI_VENDOR_VIRTIO | (PCI_DEVICE_VIRTIO + device_id) << 16) || nth-- > 0)
        continue;
      bar = (uint64_t) pci_cfg_read (0, slot, 0, 0x14) << 32 | (pci_cfg_read (0, slot, 0, 0x10) & ~0xfU);
      pci_cfg_write (0, slot, 0, 0x04, 0x6);          /* memory space, bus master */
      d->pci = 1;
      d->slot = slot;
      d->base = bar;
      d->common = d->notify = d->isr = d->devcfg = 0;
      cap = pci_cfg_read (0, slot, 0, 0x34) & 0xff;
      while (cap != 0 && hops++ < 48)
        {
          uint32_t head = pci_cfg_read (0, slot, 0, cap);
          uint64_t where = bar + pci_cfg_read (0, slot, 0, cap + 8);
          if ((head & 0xff) == 0x09)                  /* vendor: virtio */
            switch ((head >> 24) & 0xff)
              {
              case 1: d->common = where; break;
              case 2:
                d->notify = where;
                d->notify_mult = pci_cfg_read (0, slot, 0, cap + 16);
                break;
              case 3: d->isr = where; break;
              case 4: d->devcfg = where; break;
              default: break;
              }
          cap = (head >> 8) & 0xfc;
        }
      if (d->common == 0 || d->notify == 0 || d->isr == 0)
        return -1;
      return (int) slot;
    }
  return -1;
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
      if (use_pci)
        {
          /* Rings per PCI slot 1..8 share the MMIO slots' memory. */
          int s = pci_find (d, device_id, nth);
          if (s < 1 || s > MMIO_SLOTS)
            return -1;
          slot = s - 1;
        }
      else
        {
          d->pci = 0;
          d->base = MMIO_BASE + (uint64_t) slot * MMIO_SLOT;
          if (vdev_read (d, R_MAGIC) != 0x74726976 || vdev_read (d, R_DEVICE_ID) != device_id)
            continue;
          if (nth-- > 0)
            continue;
        }
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
  /* A count of spins alone is not enough: when the vCPU and the VMM's
     device thread share one host CPU (a nested run), the device runs only
     once the spinning vCPU is preempted, several ms later. */
  return vdev_wait_q (d, qi, 1ULL << 33);
}

int64_t
vdev_wait_q (struct gvdev *d, int qi, uint64_t cycles)
{
  uint64_t end = rdtsc () + cycles;
  do
    {
      int64_t r = vdev_poll_q (d, qi, POLL_SPINS);
      if (r >= 0)
        return r;
    }
  while (rdtsc () < end);
  return -1;
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
  return vdev_wait_needs_reset (d, 1ULL << 33);
}

int
vdev_wait_needs_reset (struct gvdev *d, uint64_t cycles)
{
  uint64_t end = rdtsc () + cycles;
  do
    if (vdev_read (d, R_STATUS) & VSTATUS_NEEDS_RESET)
      return 1;
  while (rdtsc () < end);
  return 0;
}
