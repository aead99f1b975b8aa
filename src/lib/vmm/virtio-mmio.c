/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio over MMIO, version 2 register layout (virtio 1.x, 4.2.2).  vCPU
 * threads access the registers; queue notifications arrive on ioeventfds
 * and are served by the device thread, which completes chains and signals
 * the guest through an irqfd.  A driver that breaks the protocol puts the
 * device into DEVICE_NEEDS_RESET: nothing more is processed until the
 * driver resets it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "virtio.h"
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
#define STATUS_FEATURES_OK 8
#define STATUS_DRIVER_OK 4
#define STATUS_NEEDS_RESET 0x40
#define INT_USED 1
#define INT_CONFIG 2
#define MAX_SLOTS 8

struct vmmio;

struct vmmio_queue {
  struct vmmio *dev;
  unsigned index;
  struct virtq vq;
  int notify_fd;
};

struct vmmio {
  struct arca_vm *vm;
  const struct virtio_device_ops *ops;
  void *opaque;
  uint64_t base;
  unsigned gsi;
  char name[32];
  pthread_mutex_t lock;
  uint32_t status;
  uint32_t dev_features_sel, drv_features_sel;
  uint64_t drv_features;
  uint32_t queue_sel;
  uint32_t int_status;
  uint32_t config_generation;
  bool broken;                  /* DEVICE_NEEDS_RESET set */
  int irq_fd;
  struct vmmio_queue queues[VIRTIO_MAX_QUEUES];
  struct virtq_chain chain;     /* scratch, only used under lock */
};

static void
raise_irq (struct vmmio *d, uint32_t why)
{
  uint64_t one = 1;
  d->int_status |= why;
  if (write (d->irq_fd, &one, sizeof (one)) < 0)
    return;   /* counter overflow is impossible; nothing else can fail */
}

/* Under d->lock. */
static void
fail_device (struct vmmio *d, const char *why)
{
  if (d->broken)
    return;
  d->broken = true;
  d->status |= STATUS_NEEDS_RESET;
  VM_COUNT (d->vm, virtio_errors, 1);
  arca_warn (d->vm->log, "%s: guest driver error, device needs reset: %s", d->name, why);
  raise_irq (d, INT_CONFIG);
}

static void
reset_device (struct vmmio *d)
{
  d->status = 0;
  d->dev_features_sel = d->drv_features_sel = 0;
  d->drv_features = 0;
  d->queue_sel = 0;
  d->int_status = 0;
  d->broken = false;
  for (unsigned i = 0; i < d->ops->n_queues; i++)
    d->queues[i].vq = (struct virtq){ .size = d->ops->queue_max };
  if (d->ops->reset != NULL)
    d->ops->reset (d->opaque);
}

/* Serves every available chain of one queue, under d->lock. */
static void
process_queue (struct vmmio *d, struct vmmio_queue *q)
{
  const struct guest_mem *mem = &d->vm->mem;
  bool pushed = false;
  const char *why = NULL;

  if (d->broken || !(d->status & STATUS_DRIVER_OK) || !q->vq.ready)
    return;
  for (;;)
    {
      uint32_t written = 0;
      int r = virtq__pop (mem, &q->vq, &d->chain, &why);
      if (r == 0)
        break;
      if (r > 0)
        r = d->ops->handle (d->opaque, q->index, &d->chain, &written, &why);
      if (r == 1)
        {
          /* The device has nothing for this chain yet (an empty receive
             queue): put it back and stop until the device notifies. */
          q->vq.last_avail--;
          break;
        }
      if (r < 0 || virtq__push (mem, &q->vq, d->chain.head, written, &why) < 0)
        {
          fail_device (d, why);
          return;
        }
      /* What the device wrote, and the used ring, for a migration's
         pre-copy (KVM logs only the vCPUs' writes). */
      for (unsigned i = 0; i < d->chain.n_out; i++)
        guest_mem__mark_dirty (mem, d->chain.out[i].iov_base, d->chain.out[i].iov_len);
      guest_mem__mark_dirty (mem, guest_mem__ptr (mem, q->vq.used_gpa, 6 + 8 * (uint64_t) q->vq.size),
                             6 + 8 * (size_t) q->vq.size);
      VM_COUNT (d->vm, virtio_requests, 1);
      pushed = true;
    }
  if (pushed && !virtq__suppress_interrupt (mem, &q->vq))
    raise_irq (d, INT_USED);
}

static void
on_notify (void *opaque, int fd, uint32_t events)
{
  struct vmmio_queue *q = opaque;
  uint64_t v;

  if (read (fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
    return;
  pthread_mutex_lock (&q->dev->lock);
  process_queue (q->dev, q);
  pthread_mutex_unlock (&q->dev->lock);
  (void) events;
}

static struct vmmio_queue *
selected (struct vmmio *d)
{
  return d->queue_sel < d->ops->n_queues ? &d->queues[d->queue_sel] : NULL;
}

static uint32_t
read_reg (struct vmmio *d, uint64_t off)
{
  struct vmmio_queue *q = selected (d);
  uint64_t features = d->ops->features | VIRTIO_F_VERSION_1;

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
      return d->dev_features_sel < 2 ? (uint32_t) (features >> (32 * d->dev_features_sel)) : 0;
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
write_queue_reg (struct vmmio *d, struct vmmio_queue *q, uint64_t off, uint32_t v)
{
  struct virtq *vq = &q->vq;
  const char *why = NULL;

  /* Queue layout is fixed once the queue is live. */
  if (vq->ready && off != REG_QUEUE_READY)
    return;
  switch (off)
    {
    case REG_QUEUE_NUM:
      vq->size = (uint16_t) (v <= d->ops->queue_max ? v : 0);
      break;
    case REG_QUEUE_DESC_LOW:
      vq->desc_gpa = (vq->desc_gpa & ~0xffffffffULL) | v;
      break;
    case REG_QUEUE_DESC_HIGH:
      vq->desc_gpa = (vq->desc_gpa & 0xffffffffULL) | ((uint64_t) v << 32);
      break;
    case REG_QUEUE_DRIVER_LOW:
      vq->avail_gpa = (vq->avail_gpa & ~0xffffffffULL) | v;
      break;
    case REG_QUEUE_DRIVER_HIGH:
      vq->avail_gpa = (vq->avail_gpa & 0xffffffffULL) | ((uint64_t) v << 32);
      break;
    case REG_QUEUE_DEVICE_LOW:
      vq->used_gpa = (vq->used_gpa & ~0xffffffffULL) | v;
      break;
    case REG_QUEUE_DEVICE_HIGH:
      vq->used_gpa = (vq->used_gpa & 0xffffffffULL) | ((uint64_t) v << 32);
      break;
    case REG_QUEUE_READY:
      if (v == 0)
        vq->ready = false;
      else if (!vq->ready)
        {
          if (virtq__validate (&d->vm->mem, vq, &why) < 0)
            fail_device (d, why);
          else
            {
              vq->ready = true;
              vq->last_avail = vq->used_idx = 0;
            }
        }
      break;
    default:
      break;
    }
}

static void
write_status (struct vmmio *d, uint32_t v)
{
  uint64_t offered = d->ops->features | VIRTIO_F_VERSION_1;

  if (v == 0)
    {
      reset_device (d);
      return;
    }
  /* FEATURES_OK sticks only for a subset of what was offered, with
     VERSION_1: arca-vmm has no legacy interface. */
  if ((v & STATUS_FEATURES_OK) && !(d->status & STATUS_FEATURES_OK)
      && ((d->drv_features & ~offered) != 0 || !(d->drv_features & VIRTIO_F_VERSION_1)))
    v &= ~(uint32_t) STATUS_FEATURES_OK;
  d->status = (v & 0xff & ~(uint32_t) STATUS_NEEDS_RESET) | (d->status & STATUS_NEEDS_RESET);
}

static void
write_reg (struct vmmio *d, uint64_t off, uint32_t v)
{
  struct vmmio_queue *q = selected (d);

  switch (off)
    {
    case REG_DEVICE_FEATURES_SEL:
      d->dev_features_sel = v;
      break;
    case REG_DRIVER_FEATURES:
      if (d->drv_features_sel < 2 && !(d->status & STATUS_FEATURES_OK))
        {
          unsigned shift = 32 * d->drv_features_sel;
          d->drv_features = (d->drv_features & ~(0xffffffffULL << shift)) | ((uint64_t) v << shift);
        }
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
      virtio_mmio__notify (d, v);
      break;
    case REG_INTERRUPT_ACK:
      d->int_status &= ~v;
      break;
    case REG_STATUS:
      write_status (d, v);
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
  struct vmmio *d = opaque;

  pthread_mutex_lock (&d->lock);
  if (off >= REG_CONFIG)
    {
      uint64_t coff = off - REG_CONFIG;
      /* Bytes past the end of the config space read as zero. */
      memset (data, 0, len);
      if (coff < d->ops->config_len && d->ops->config_read)
        d->ops->config_read (d->opaque, (uint32_t) coff, data,
                             len <= d->ops->config_len - coff ? len
                                                              : d->ops->config_len - (uint32_t) coff);
    }
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
  struct vmmio *d = opaque;
  uint32_t v;

  if (off >= REG_CONFIG)
    {
      uint64_t coff = off - REG_CONFIG;
      pthread_mutex_lock (&d->lock);
      if (coff < d->ops->config_len && d->ops->config_write != NULL)
        d->ops->config_write (d->opaque, (uint32_t) coff, data,
                              len <= d->ops->config_len - coff ? len
                                                               : d->ops->config_len - (uint32_t) coff);
      pthread_mutex_unlock (&d->lock);
      return;
    }
  if (len != 4 || off % 4 != 0)
    return;
  memcpy (&v, data, 4);
  pthread_mutex_lock (&d->lock);
  write_reg (d, off, v);
  pthread_mutex_unlock (&d->lock);
}

static void
vmmio_save (void *opaque, json_t *o)
{
  struct vmmio *d = opaque;
  json_t *queues = json_array ();

  pthread_mutex_lock (&d->lock);
  for (unsigned i = 0; i < d->ops->n_queues; i++)
    {
      const struct virtq *vq = &d->queues[i].vq;
      json_array_append_new (queues, json_pack ("{s:i, s:I, s:I, s:I, s:b, s:i, s:i}", "size",
                                                vq->size, "desc", (json_int_t) vq->desc_gpa,
                                                "avail", (json_int_t) vq->avail_gpa, "used",
                                                (json_int_t) vq->used_gpa, "ready", vq->ready,
                                                "last_avail", vq->last_avail, "used_idx",
                                                vq->used_idx));
    }
  json_object_set_new (o, "virtio", json_pack ("{s:s, s:i, s:I, s:i, s:i, s:i, s:i, s:b, s:o}",
                                               "device", d->ops->name, "status", d->status,
                                               "driver_features", (json_int_t) d->drv_features,
                                               "dev_features_sel", d->dev_features_sel,
                                               "drv_features_sel", d->drv_features_sel,
                                               "queue_sel", d->queue_sel,
                                               "int_status", d->int_status, "broken", d->broken,
                                               "queues", queues));
  if (d->ops->save != NULL)
    {
      json_t *dev = json_object ();
      d->ops->save (d->opaque, dev);
      json_object_set_new (o, "device", dev);
    }
  pthread_mutex_unlock (&d->lock);
}

static int
vmmio_restore (void *opaque, json_t *o, const char **why)
{
  struct vmmio *d = opaque;
  json_t *v = json_object_get (o, "virtio"), *queues = json_object_get (v, "queues"), *q;
  const char *name = json_string_value (json_object_get (v, "device"));
  size_t i;

  if (name == NULL || strcmp (name, d->ops->name) != 0
      || json_array_size (queues) != d->ops->n_queues)
    return *why = "virtio: state is for another device", -1;
  d->status = (uint32_t) json_integer_value (json_object_get (v, "status"));
  d->drv_features = (uint64_t) json_integer_value (json_object_get (v, "driver_features"));
  d->dev_features_sel = (uint32_t) json_integer_value (json_object_get (v, "dev_features_sel"));
  d->drv_features_sel = (uint32_t) json_integer_value (json_object_get (v, "drv_features_sel"));
  d->queue_sel = (uint32_t) json_integer_value (json_object_get (v, "queue_sel"));
  d->int_status = (uint32_t) json_integer_value (json_object_get (v, "int_status"));
  d->broken = json_is_true (json_object_get (v, "broken"));
  json_array_foreach (queues, i, q)
    {
      struct virtq *vq = &d->queues[i].vq;
      vq->size = (uint16_t) json_integer_value (json_object_get (q, "size"));
      vq->desc_gpa = (uint64_t) json_integer_value (json_object_get (q, "desc"));
      vq->avail_gpa = (uint64_t) json_integer_value (json_object_get (q, "avail"));
      vq->used_gpa = (uint64_t) json_integer_value (json_object_get (q, "used"));
      vq->last_avail = (uint16_t) json_integer_value (json_object_get (q, "last_avail"));
      vq->used_idx = (uint16_t) json_integer_value (json_object_get (q, "used_idx"));
      vq->ready = json_is_true (json_object_get (q, "ready"));
      /* The snapshot is untrusted input too: a live queue must still be
         a valid one. */
      if (vq->ready && virtq__validate (&d->vm->mem, vq, why) < 0)
        return -1;
    }
  if (d->ops->restore != NULL && d->ops->restore (d->opaque, json_object_get (o, "device"), why) < 0)
    return -1;
  return 0;
}

static const struct vm_bus_ops vmmio_ops = { .read = mmio_read, .write = mmio_write };

static void
vmmio_free (void *opaque)
{
  struct vmmio *d = opaque;

  for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
    arca_closep (&d->queues[i].notify_fd);
  arca_closep (&d->irq_fd);
  if (d->ops->free != NULL)
    d->ops->free (d->opaque);
  pthread_mutex_destroy (&d->lock);
  free (d);
}

void
virtio_mmio__notify (struct vmmio *d, unsigned queue)
{
  uint64_t one = 1;
  if (queue < d->ops->n_queues)
    {
      ssize_t r = write (d->queues[queue].notify_fd, &one, sizeof (one));
      (void) r;   /* a saturated eventfd is already pending */
    }
}

void
virtio_mmio__config_changed (struct vmmio *d)
{
  pthread_mutex_lock (&d->lock);
  d->config_generation++;
  if (d->status & STATUS_DRIVER_OK)
    raise_irq (d, INT_CONFIG);
  pthread_mutex_unlock (&d->lock);
}

int
virtio_mmio__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                     struct vmmio **ret_transport, arca_error **err)
{
  struct vmmio *d;
  char arg[80];

  if (vm->n_virtio == MAX_SLOTS || ops->n_queues == 0 || ops->n_queues > VIRTIO_MAX_QUEUES)
    {
      if (ops->free != NULL)
        ops->free (opaque);
      return arca_error_set (err, ENOSPC, "%s: no virtio-mmio slot left (at most %d)", ops->name,
                             MAX_SLOTS);
    }
  d = calloc (1, sizeof (*d));
  if (d == NULL)
    {
      if (ops->free != NULL)
        ops->free (opaque);
      return arca_error_errno (err, "allocate %s", ops->name);
    }
  d->vm = vm;
  d->ops = ops;
  d->opaque = opaque;
  d->base = LAYOUT_VIRTIO_MMIO + vm->n_virtio * LAYOUT_VIRTIO_MMIO_SIZE;
  d->gsi = LAYOUT_VIRTIO_IRQ_BASE + vm->n_virtio;
  snprintf (d->name, sizeof (d->name), "%s@0x%llx", ops->name, (unsigned long long) d->base);
  d->irq_fd = -1;
  for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
    d->queues[i] = (struct vmmio_queue){ .dev = d, .index = i, .notify_fd = -1 };
  pthread_mutex_init (&d->lock, NULL);
  reset_device (d);
  if (vm__add_device (vm, vmmio_free, d, err) < 0)
    {
      vmmio_free (d);
      return -1;
    }
  vm__device_state (vm, vmmio_save, vmmio_restore);
  vm->n_virtio++;

  d->irq_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d->irq_fd < 0)
    return arca_error_errno (err, "%s: eventfd", d->name);
  if (kvm__irqfd (vm, d->gsi, d->irq_fd, err) < 0)
    return -1;
  for (unsigned i = 0; i < ops->n_queues; i++)
    {
      struct vmmio_queue *q = &d->queues[i];
      q->notify_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (q->notify_fd < 0)
        return arca_error_errno (err, "%s: eventfd", d->name);
      if (kvm__ioeventfd (vm, d->base + REG_QUEUE_NOTIFY, 4, i, q->notify_fd, err) < 0
          || event_loop__add (&vm->loop, q->notify_fd, EPOLLIN, on_notify, q, err) < 0)
        return -1;
    }
  if (vm_bus__register (&vm->mmio, d->base, LAYOUT_VIRTIO_MMIO_SIZE, ops->name, &vmmio_ops, d,
                        err) < 0)
    return -1;
  /* Minimal kernels find virtio-mmio devices only on the command line. */
  snprintf (arg, sizeof (arg), "virtio_mmio.device=4K@0x%llx:%u", (unsigned long long) d->base,
            d->gsi);
  if (vm__cmdline_append (vm, arg, err) < 0)
    return -1;
  if (ret_transport != NULL)
    *ret_transport = d;
  return 0;
}
