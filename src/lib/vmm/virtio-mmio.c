/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio over MMIO, version 2 register layout (virtio 1.x, 4.2.2): maps the
 * registers onto the shared device state (virtio-core.c).  Each device
 * takes the next 4 KiB slot at 0xd0000000 and the next ISA-range IRQ, and
 * is announced on the kernel command line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio-core.h"
#include "vm.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define MAGIC 0x74726976          /* "virt" */
#define VENDOR 0x41524341         /* "ARCA" */
#define MAX_SLOTS 8

static uint32_t
read_reg (struct virtio_dev *d, uint64_t off)
{
  struct virtio_queue *q = virtio_dev__selected (d);

  switch (off)
    {
    case REG_MAGIC:
      return MAGIC;
    case REG_VERSION:
      return 2;
    case REG_DEVICE_ID:
      return d->ops->device_id;
    case REG_VENDOR_ID:
      return VENDOR;
    case REG_DEVICE_FEATURES:
      return virtio_dev__device_features (d);
    case REG_QUEUE_NUM_MAX:
      return q != NULL ? d->ops->queue_max : 0;
    case REG_QUEUE_READY:
      return q != NULL && q->vq.ready;
    case REG_INTERRUPT_STATUS:
      return d->int_status;
    case REG_STATUS:
      return d->status;
    case REG_CONFIG_GENERATION:
      return d->config_generation;
    default:
      return 0;
    }
}

static void
set_low (uint64_t *v, uint32_t low)
{
  *v = (*v & ~0xffffffffULL) | low;
}

static void
set_high (uint64_t *v, uint32_t high)
{
  *v = (*v & 0xffffffffULL) | ((uint64_t) high << 32);
}

static void
write_queue_reg (struct virtio_dev *d, struct virtio_queue *q, uint64_t off, uint32_t v)
{
  struct virtq *vq = &q->vq;

  /* Queue layout is fixed once the queue is live. */
  if (vq->ready && off != REG_QUEUE_READY)
    return;
  switch (off)
    {
    case REG_QUEUE_NUM:
      vq->size = (uint16_t) (v <= d->ops->queue_max ? v : 0);
      break;
    case REG_QUEUE_DESC_LOW:
      set_low (&vq->desc_gpa, v);
      break;
    case REG_QUEUE_DESC_HIGH:
      set_high (&vq->desc_gpa, v);
      break;
    case REG_QUEUE_DRIVER_LOW:
      set_low (&vq->avail_gpa, v);
      break;
    case REG_QUEUE_DRIVER_HIGH:
      set_high (&vq->avail_gpa, v);
      break;
    case REG_QUEUE_DEVICE_LOW:
      set_low (&vq->used_gpa, v);
      break;
    case REG_QUEUE_DEVICE_HIGH:
      set_high (&vq->used_gpa, v);
      break;
    case REG_QUEUE_READY:
      virtio_dev__queue_ready (d, q, v != 0);
      break;
    default:
      break;
    }
}

static void
write_reg (struct virtio_dev *d, uint64_t off, uint32_t v)
{
  struct virtio_queue *q = virtio_dev__selected (d);

  switch (off)
    {
    case REG_DEVICE_FEATURES_SEL:
      d->dev_features_sel = v;
      break;
    case REG_DRIVER_FEATURES:
      virtio_dev__write_driver_features (d, v);
      break;
    case REG_DRIVER_FEATURES_SEL:
      d->drv_features_sel = v;
      break;
    case REG_QUEUE_SEL:
      d->queue_sel = v;
      break;
    case REG_QUEUE_NOTIFY:
      /* Normally caught by the ioeventfd; a write of another width lands
         here and is forwarded the same way. */
      virtio__notify (d, v);
      break;
    case REG_INTERRUPT_ACK:
      d->int_status &= ~v;
      break;
    case REG_STATUS:
      virtio_dev__write_status (d, v);
      break;
    default:
      if (q != NULL)
        write_queue_reg (d, q, off, v);
      break;
    }
}

static void
mmio_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct virtio_dev *d = opaque;

  pthread_mutex_lock (&d->lock);
  if (off >= REG_CONFIG)
    virtio_dev__config_read (d, off - REG_CONFIG, data, len);
  else if (len == 4 && off % 4 == 0)
    {
      uint32_t v = read_reg (d, off);
      memcpy (data, &v, 4);
    }
  else
    memset (data, 0, len);   /* registers are 32-bit only (4.2.2.2) */
  pthread_mutex_unlock (&d->lock);
}

static void
mmio_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct virtio_dev *d = opaque;
  uint32_t v;

  if (off < REG_CONFIG && (len != 4 || off % 4 != 0))
    return;
  pthread_mutex_lock (&d->lock);
  if (off >= REG_CONFIG)
    virtio_dev__config_write (d, off - REG_CONFIG, data, len);
  else
    {
      memcpy (&v, data, 4);
      write_reg (d, off, v);
    }
  pthread_mutex_unlock (&d->lock);
}

static const struct vm_bus_ops vmmio_ops = { .read = mmio_read, .write = mmio_write };

int
virtio_mmio__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                     struct virtio_dev **ret_dev, arca_error **err)
{
  struct virtio_dev *d;
  uint64_t base = LAYOUT_VIRTIO_MMIO + vm->n_virtio * LAYOUT_VIRTIO_MMIO_SIZE;
  char name[40], arg[80];

  if (vm->n_virtio == MAX_SLOTS)
    {
      if (ops->free != NULL)
        ops->free (opaque);
      return arca_error_set (err, ENOSPC, "%s: no virtio-mmio slot left (at most %d)", ops->name,
                             MAX_SLOTS);
    }
  snprintf (name, sizeof (name), "%s@0x%llx", ops->name, (unsigned long long) base);
  if (virtio_dev__new (vm, ops, opaque, name, LAYOUT_VIRTIO_IRQ_BASE + vm->n_virtio, &d, err) < 0)
    return -1;
  vm->n_virtio++;
  for (unsigned i = 0; i < ops->n_queues; i++)
    if (kvm__ioeventfd (vm, base + REG_QUEUE_NOTIFY, 4, i, d->queues[i].notify_fd, err) < 0)
      return -1;
  if (vm_bus__register (&vm->mmio, base, LAYOUT_VIRTIO_MMIO_SIZE, ops->name, &vmmio_ops, d, err)
      < 0)
    return -1;
  /* Minimal kernels find virtio-mmio devices only on the command line. */
  snprintf (arg, sizeof (arg), "virtio_mmio.device=4K@0x%llx:%u", (unsigned long long) base,
            d->gsi);
  if (vm__cmdline_append (vm, arg, err) < 0)
    return -1;
  if (ret_dev != NULL)
    *ret_dev = d;
  return 0;
}
