/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every virtio transport shares (see virtio-core.h).  vCPU threads
 * reach this code through a transport's registers; queue notifications
 * arrive on eventfds (KVM ioeventfds, or a transport forwarding a trapped
 * write) and are served by the device thread, which completes chains and
 * signals the guest through an irqfd.  A driver that breaks the protocol
 * puts the device into DEVICE_NEEDS_RESET: nothing more is processed
 * until the driver resets it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "virtio-core.h"
#include "vm.h"

static void
raise_irq (struct virtio_dev *d, uint32_t why)
{
  uint64_t one = 1;
  d->int_status |= why;
  if (write (d->irq_fd, &one, sizeof (one)) < 0)
    return;   /* counter overflow is impossible; nothing else can fail */
}

void
virtio_dev__fail (struct virtio_dev *d, const char *why)
{
  if (d->broken)
    return;
  d->broken = true;
  d->status |= VIRTIO_STATUS_NEEDS_RESET;
  VM_COUNT (d->vm, virtio_errors, 1);
  arca_warn (d->vm->log, "%s: guest driver error, device needs reset: %s", d->name, why);
  raise_irq (d, VIRTIO_INT_CONFIG);
}

static void
reset_device (struct virtio_dev *d)
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
process_queue (struct virtio_dev *d, struct virtio_queue *q)
{
  const struct guest_mem *mem = &d->vm->mem;
  bool pushed = false;
  const char *why = NULL;

  if (d->broken || !(d->status & VIRTIO_STATUS_DRIVER_OK) || !q->vq.ready)
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
          virtio_dev__fail (d, why);
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
    raise_irq (d, VIRTIO_INT_USED);
}

static void
on_notify (void *opaque, int fd, uint32_t events)
{
  struct virtio_queue *q = opaque;
  uint64_t v;

  if (read (fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
    return;
  pthread_mutex_lock (&q->dev->lock);
  process_queue (q->dev, q);
  pthread_mutex_unlock (&q->dev->lock);
  (void) events;
}

uint64_t
virtio_dev__offered (const struct virtio_dev *d)
{
  return d->ops->features | VIRTIO_F_VERSION_1;
}

uint32_t
virtio_dev__device_features (const struct virtio_dev *d)
{
  return d->dev_features_sel < 2 ? (uint32_t) (virtio_dev__offered (d) >> (32 * d->dev_features_sel))
                                 : 0;
}

void
virtio_dev__write_driver_features (struct virtio_dev *d, uint32_t v)
{
  if (d->drv_features_sel < 2 && !(d->status & VIRTIO_STATUS_FEATURES_OK))
    {
      unsigned shift = 32 * d->drv_features_sel;
      d->drv_features = (d->drv_features & ~(0xffffffffULL << shift)) | ((uint64_t) v << shift);
    }
}

struct virtio_queue *
virtio_dev__selected (struct virtio_dev *d)
{
  return d->queue_sel < d->ops->n_queues ? &d->queues[d->queue_sel] : NULL;
}

void
virtio_dev__queue_ready (struct virtio_dev *d, struct virtio_queue *q, bool ready)
{
  struct virtq *vq = &q->vq;
  const char *why = NULL;

  if (!ready)
    vq->ready = false;
  else if (!vq->ready)
    {
      if (virtq__validate (&d->vm->mem, vq, &why) < 0)
        virtio_dev__fail (d, why);
      else
        {
          vq->ready = true;
          vq->last_avail = vq->used_idx = 0;
        }
    }
}

void
virtio_dev__write_status (struct virtio_dev *d, uint32_t v)
{
  uint64_t offered = virtio_dev__offered (d);

  if (v == 0)
    {
      reset_device (d);
      return;
    }
  /* FEATURES_OK sticks only for a subset of what was offered, with
     VERSION_1: arca-vmm has no legacy interface. */
  if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK)
      && ((d->drv_features & ~offered) != 0 || !(d->drv_features & VIRTIO_F_VERSION_1)))
    v &= ~(uint32_t) VIRTIO_STATUS_FEATURES_OK;
  d->status = (v & 0xff & ~(uint32_t) VIRTIO_STATUS_NEEDS_RESET)
              | (d->status & VIRTIO_STATUS_NEEDS_RESET);
}

void
virtio_dev__config_read (struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
  uint32_t clen = d->ops->config_len;

  memset (data, 0, len);
  if (off < clen && d->ops->config_read != NULL)
    d->ops->config_read (d->opaque, (uint32_t) off, data,
                         len <= clen - off ? len : clen - (uint32_t) off);
}

void
virtio_dev__config_write (struct virtio_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
  uint32_t clen = d->ops->config_len;

  if (off < clen && d->ops->config_write != NULL)
    d->ops->config_write (d->opaque, (uint32_t) off, data,
                          len <= clen - off ? len : clen - (uint32_t) off);
}

static void
dev_save (void *opaque, json_t *o)
{
  struct virtio_dev *d = opaque;
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
  json_object_set_new (o, "virtio", json_pack ("{s:s, s:i, s:I, s:i, s:i, s:i, s:i, s:i, s:b, s:o}",
                                               "device", d->ops->name, "status", d->status,
                                               "driver_features", (json_int_t) d->drv_features,
                                               "dev_features_sel", d->dev_features_sel,
                                               "drv_features_sel", d->drv_features_sel,
                                               "queue_sel", d->queue_sel,
                                               "int_status", d->int_status,
                                               "config_generation", d->config_generation,
                                               "broken", d->broken, "queues", queues));
  if (d->transport_save != NULL)
    d->transport_save (d->transport, o);
  if (d->ops->save != NULL)
    {
      json_t *dev = json_object ();
      d->ops->save (d->opaque, dev);
      json_object_set_new (o, "device", dev);
    }
  pthread_mutex_unlock (&d->lock);
}

static int
dev_restore (void *opaque, json_t *o, const char **why)
{
  struct virtio_dev *d = opaque;
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
  d->config_generation = (uint32_t) json_integer_value (json_object_get (v, "config_generation"));
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
  if (d->transport_restore != NULL && d->transport_restore (d->transport, o, why) < 0)
    return -1;
  if (d->ops->restore != NULL && d->ops->restore (d->opaque, json_object_get (o, "device"), why) < 0)
    return -1;
  return 0;
}

static void
dev_free (void *opaque)
{
  struct virtio_dev *d = opaque;

  for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
    arca_closep (&d->queues[i].notify_fd);
  arca_closep (&d->irq_fd);
  if (d->transport_free != NULL)
    d->transport_free (d->transport);
  if (d->ops->free != NULL)
    d->ops->free (d->opaque);
  pthread_mutex_destroy (&d->lock);
  free (d);
}

void
virtio__notify (struct virtio_dev *d, unsigned queue)
{
  uint64_t one = 1;
  if (queue < d->ops->n_queues)
    {
      ssize_t r = write (d->queues[queue].notify_fd, &one, sizeof (one));
      (void) r;   /* a saturated eventfd is already pending */
    }
}

void
virtio__config_changed (struct virtio_dev *d)
{
  pthread_mutex_lock (&d->lock);
  d->config_generation++;
  if (d->status & VIRTIO_STATUS_DRIVER_OK)
    raise_irq (d, VIRTIO_INT_CONFIG);
  pthread_mutex_unlock (&d->lock);
}

int
virtio_dev__new (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                 const char *name, unsigned gsi, struct virtio_dev **ret_dev, arca_error **err)
{
  struct virtio_dev *d;

  if (ops->n_queues == 0 || ops->n_queues > VIRTIO_MAX_QUEUES)
    {
      if (ops->free != NULL)
        ops->free (opaque);
      return arca_error_set (err, EINVAL, "%s: %u queues", ops->name, ops->n_queues);
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
  d->gsi = gsi;
  snprintf (d->name, sizeof (d->name), "%s", name);
  d->irq_fd = -1;
  for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
    d->queues[i] = (struct virtio_queue){ .dev = d, .index = i, .notify_fd = -1 };
  pthread_mutex_init (&d->lock, NULL);
  reset_device (d);
  if (vm__add_device (vm, dev_free, d, err) < 0)
    {
      dev_free (d);
      return -1;
    }
  vm__device_state (vm, dev_save, dev_restore);

  d->irq_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d->irq_fd < 0)
    return arca_error_errno (err, "%s: eventfd", d->name);
  if (kvm__irqfd (vm, d->gsi, d->irq_fd, err) < 0)
    return -1;
  for (unsigned i = 0; i < ops->n_queues; i++)
    {
      struct virtio_queue *q = &d->queues[i];
      q->notify_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (q->notify_fd < 0)
        return arca_error_errno (err, "%s: eventfd", d->name);
      if (event_loop__add (&vm->loop, q->notify_fd, EPOLLIN, on_notify, q, err) < 0)
        return -1;
    }
  *ret_dev = d;
  return 0;
}

int
virtio__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                struct virtio_dev **ret_dev, arca_error **err)
{
  if (vm->machine.transport == ARCA_VM_TRANSPORT_PCI)
    return virtio_pci__create (vm, ops, opaque, ret_dev, err);
  return virtio_mmio__create (vm, ops, opaque, ret_dev, err);
}
