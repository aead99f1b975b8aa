/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio over PCI, the virtio 1.x "modern" interface only (4.1): vendor
 * 0x1af4, device 0x1040 + virtio id, revision 1.  One 64-bit memory BAR of
 * 16 KiB holds the four regions the vendor capabilities point at:
 *
 *   0x0000  common configuration (features, status, queue setup)
 *   0x1000  ISR status (read to acknowledge)
 *   0x2000  device-specific configuration
 *   0x3000  queue notifications, 4 bytes per queue (notify_off = index)
 *
 * Interrupts are INTx only, without MSI-X: the slot's INTA# is wired to its
 * own IOAPIC pin (16 + slot - 1) and declared edge-triggered, active-high
 * in the MP table, so the same irqfd pulse as virtio-mmio's serves it and
 * nothing is re-routed at run time (no KVM_SET_GSI_ROUTING under the
 * sandbox, no routing state in snapshots).  Linux falls back to INTx when a
 * device has no MSI-X capability. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"
#include "virtio-core.h"
#include "vm.h"

#define VENDOR_VIRTIO 0x1af4
#define DEVICE_VIRTIO_MODERN 0x1040
#define BAR_SIZE 0x4000
#define REGION_COMMON 0x0000
#define REGION_ISR 0x1000
#define REGION_DEVICE 0x2000
#define REGION_NOTIFY 0x3000
#define REGION_SIZE 0x1000
#define COMMON_LEN 0x38
#define NOTIFY_MULTIPLIER 4
#define NO_VECTOR 0xffff

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* Common configuration fields (4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX 0x10
#define C_NUMQ 0x12
#define C_STATUS 0x14
#define C_CFGGENERATION 0x15
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF 0x1e
#define C_Q_DESCLO 0x20
#define C_Q_DESCHI 0x24
#define C_Q_AVAILLO 0x28
#define C_Q_AVAILHI 0x2c
#define C_Q_USEDLO 0x30
#define C_Q_USEDHI 0x34

struct vpci {
  struct pci_function fn;
  struct virtio_dev *dev;
};

/* The common configuration as the driver would read it, under the lock. */
static void
common_image (struct virtio_dev *d, uint8_t img[COMMON_LEN])
{
  struct virtio_queue *q = virtio_dev__selected (d);
  uint32_t v32;
  uint16_t v16;

  memset (img, 0, COMMON_LEN);
  memcpy (img + C_DFSELECT, &d->dev_features_sel, 4);
  v32 = virtio_dev__device_features (d);
  memcpy (img + C_DF, &v32, 4);
  memcpy (img + C_GFSELECT, &d->drv_features_sel, 4);
  v32 = d->drv_features_sel < 2 ? (uint32_t) (d->drv_features >> (32 * d->drv_features_sel)) : 0;
  memcpy (img + C_GF, &v32, 4);
  v16 = NO_VECTOR;
  memcpy (img + C_MSIX, &v16, 2);
  v16 = (uint16_t) d->ops->n_queues;
  memcpy (img + C_NUMQ, &v16, 2);
  img[C_STATUS] = (uint8_t) d->status;
  img[C_CFGGENERATION] = (uint8_t) d->config_generation;
  v16 = (uint16_t) d->queue_sel;
  memcpy (img + C_Q_SELECT, &v16, 2);
  if (q == NULL)
    return;     /* a queue past the last one reads as size 0 */
  memcpy (img + C_Q_SIZE, &q->vq.size, 2);
  v16 = NO_VECTOR;
  memcpy (img + C_Q_MSIX, &v16, 2);
  v16 = q->vq.ready;
  memcpy (img + C_Q_ENABLE, &v16, 2);
  v16 = (uint16_t) q->index;
  memcpy (img + C_Q_NOFF, &v16, 2);
  memcpy (img + C_Q_DESCLO, &q->vq.desc_gpa, 8);
  memcpy (img + C_Q_AVAILLO, &q->vq.avail_gpa, 8);
  memcpy (img + C_Q_USEDLO, &q->vq.used_gpa, 8);
}

static void
set_half (uint64_t *v, bool high, uint32_t x)
{
  *v = high ? (*v & 0xffffffffULL) | ((uint64_t) x << 32) : (*v & ~0xffffffffULL) | x;
}

/* A queue address written as one 64-bit or two 32-bit halves. */
static void
write_queue_addr (struct virtio_queue *q, uint64_t *field, uint64_t off, uint64_t base,
                  const uint8_t *data, uint32_t len)
{
  uint32_t x;

  if (q == NULL || q->vq.ready)
    return;     /* layout is fixed once the queue is live */
  if (len == 8 && off == base)
    memcpy (field, data, 8);
  else if (len == 4 && (off == base || off == base + 4))
    {
      memcpy (&x, data, 4);
      set_half (field, off == base + 4, x);
    }
}

static void
common_write (struct virtio_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct virtio_queue *q = virtio_dev__selected (d);
  uint32_t v = 0;

  if (len <= 4)
    memcpy (&v, data, len);
  /* Fields are written at their own width (4.1.3.1); anything else is
     dropped. */
  switch (off)
    {
    case C_DFSELECT:
      if (len == 4)
        d->dev_features_sel = v;
      return;
    case C_GFSELECT:
      if (len == 4)
        d->drv_features_sel = v;
      return;
    case C_GF:
      if (len == 4)
        virtio_dev__write_driver_features (d, v);
      return;
    case C_STATUS:
      if (len == 1)
        virtio_dev__write_status (d, v);
      return;
    case C_Q_SELECT:
      if (len == 2)
        d->queue_sel = v;
      return;
    case C_Q_SIZE:
      if (len == 2 && q != NULL && !q->vq.ready)
        q->vq.size = (uint16_t) (v <= d->ops->queue_max ? v : 0);
      return;
    case C_Q_ENABLE:
      /* Only 1 is defined; a queue is turned off by a device reset. */
      if (len == 2 && q != NULL && v == 1)
        virtio_dev__queue_ready (d, q, true);
      return;
    default:
      break;
    }
  if (off >= C_Q_DESCLO && off < C_Q_AVAILLO)
    write_queue_addr (q, q != NULL ? &q->vq.desc_gpa : NULL, off, C_Q_DESCLO, data, len);
  else if (off >= C_Q_AVAILLO && off < C_Q_USEDLO)
    write_queue_addr (q, q != NULL ? &q->vq.avail_gpa : NULL, off, C_Q_AVAILLO, data, len);
  else if (off >= C_Q_USEDLO && off < COMMON_LEN)
    write_queue_addr (q, q != NULL ? &q->vq.used_gpa : NULL, off, C_Q_USEDLO, data, len);
  /* msix_config, queue_msix_vector: no MSI-X, they stay NO_VECTOR. */
}

static void
bar_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct vpci *p = opaque;
  struct virtio_dev *d = p->dev;
  uint8_t img[COMMON_LEN];

  memset (data, 0, len);
  pthread_mutex_lock (&d->lock);
  if (off < REGION_COMMON + REGION_SIZE)
    {
      if (off < COMMON_LEN)
        {
          common_image (d, img);
          memcpy (data, img + off, len <= COMMON_LEN - off ? len : COMMON_LEN - off);
        }
    }
  else if (off == REGION_ISR)
    {
      /* Reading acknowledges (4.1.4.5). */
      data[0] = (uint8_t) d->int_status;
      d->int_status = 0;
    }
  else if (off >= REGION_DEVICE && off < REGION_DEVICE + REGION_SIZE)
    virtio_dev__config_read (d, off - REGION_DEVICE, data, len);
  pthread_mutex_unlock (&d->lock);
}

static void
bar_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct vpci *p = opaque;
  struct virtio_dev *d = p->dev;

  if (off >= REGION_NOTIFY && off < REGION_NOTIFY + REGION_SIZE)
    {
      /* Normally caught by the ioeventfd; another width lands here.  The
         queue is the one whose address was written. */
      virtio__notify (d, (unsigned) ((off - REGION_NOTIFY) / NOTIFY_MULTIPLIER));
      return;
    }
  pthread_mutex_lock (&d->lock);
  if (off < COMMON_LEN)
    common_write (d, off, data, len);
  else if (off >= REGION_DEVICE && off < REGION_DEVICE + REGION_SIZE)
    virtio_dev__config_write (d, off - REGION_DEVICE, data, len);
  pthread_mutex_unlock (&d->lock);
}

static const struct vm_bus_ops bar_ops = { .read = bar_read, .write = bar_write };

/* A virtio vendor capability (4.1.4) at config offset at; returns the
   offset of the next. */
static unsigned
add_cap (struct pci_function *f, unsigned at, unsigned next, uint8_t type, uint32_t offset,
         uint32_t length, unsigned cap_len)
{
  f->config[at] = 0x09;                 /* vendor-specific */
  f->config[at + 1] = (uint8_t) next;
  f->config[at + 2] = (uint8_t) cap_len;
  f->config[at + 3] = type;
  f->config[at + 4] = 0;                /* BAR0 */
  memcpy (f->config + at + 8, &offset, 4);
  memcpy (f->config + at + 12, &length, 4);
  return at + cap_len;
}

static uint32_t
class_of (uint32_t device_id)
{
  switch (device_id)
    {
    case VIRTIO_ID_NET:
      return 0x020000;                  /* Ethernet */
    case VIRTIO_ID_BLOCK:
      return 0x018000;                  /* other mass storage */
    default:
      return 0xff0000;                  /* unassigned */
    }
}

static void
vpci_save (void *transport, json_t *o)
{
  struct vpci *p = transport;
  pci__function_save (&p->fn, o);
}

static int
vpci_restore (void *transport, json_t *o, const char **why)
{
  struct vpci *p = transport;
  return pci__function_restore (&p->fn, o, why);
}

int
virtio_pci__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                    struct virtio_dev **ret_dev, arca_error **err)
{
  struct vpci *p = calloc (1, sizeof (*p));
  struct virtio_dev *d;
  unsigned at = PCI_CAP_START;
  uint32_t mult = NOTIFY_MULTIPLIER;
  uint64_t bar;
  char name[40];

  if (p == NULL)
    {
      if (ops->free != NULL)
        ops->free (opaque);
      return arca_error_errno (err, "allocate %s", ops->name);
    }
  pci__function_init (&p->fn, VENDOR_VIRTIO, (uint16_t) (DEVICE_VIRTIO_MODERN + ops->device_id),
                      class_of (ops->device_id), 1);
  p->fn.config[0x2c] = VENDOR_VIRTIO & 0xff;        /* subsystem vendor */
  p->fn.config[0x2d] = VENDOR_VIRTIO >> 8;
  p->fn.config[0x2e] = (uint8_t) ops->device_id;    /* subsystem id */
  p->fn.config[0x06] = 0x10;                        /* status: capability list */
  p->fn.config[0x34] = PCI_CAP_START;
  at = add_cap (&p->fn, at, at + 16, CAP_COMMON, REGION_COMMON, COMMON_LEN, 16);
  at = add_cap (&p->fn, at, at + 20, CAP_NOTIFY, REGION_NOTIFY, NOTIFY_MULTIPLIER * ops->n_queues, 20);
  memcpy (p->fn.config + at - 4, &mult, 4);         /* notify_off_multiplier */
  at = add_cap (&p->fn, at, at + 16, CAP_ISR, REGION_ISR, 1, 16);
  add_cap (&p->fn, at, 0, CAP_DEVICE, REGION_DEVICE, ops->config_len > 0 ? ops->config_len : 1, 16);
  p->fn.bar_ops = &bar_ops;
  p->fn.opaque = p;

  if (pci__add_function (vm, &p->fn, BAR_SIZE, &bar, err) < 0)
    {
      free (p);
      if (ops->free != NULL)
        ops->free (opaque);
      return -1;
    }
  snprintf (name, sizeof (name), "%s@pci:00:%02x.0", ops->name, p->fn.slot);
  if (virtio_dev__new (vm, ops, opaque, name, pci__slot_gsi (p->fn.slot), &d, err) < 0)
    {
      free (p);     /* the bus keeps a pointer, but the VM is torn down unused */
      return -1;
    }
  p->dev = d;
  d->transport = p;
  d->transport_save = vpci_save;
  d->transport_restore = vpci_restore;
  d->transport_free = free;
  for (unsigned i = 0; i < ops->n_queues; i++)
    if (kvm__ioeventfd (vm, bar + REGION_NOTIFY + NOTIFY_MULTIPLIER * i, 2, i,
                        d->queues[i].notify_fd, err) < 0)
      return -1;
  if (ret_dev != NULL)
    *ret_dev = d;
  return 0;
}
