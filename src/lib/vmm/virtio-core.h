/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state and behaviour every virtio transport shares (virtio 1.x, 2 and
 * 3): device status, feature negotiation, queue setup, serving chains,
 * interrupts, reset and snapshot state.  A transport (virtio-mmio.c,
 * virtio-pci.c) only maps its register layout onto these calls.  Internal
 * to the transports. */
#ifndef ARCA_VMM_VIRTIO_CORE_H
#define ARCA_VMM_VIRTIO_CORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_INT_USED 1
#define VIRTIO_INT_CONFIG 2

struct virtio_queue {
  struct virtio_dev *dev;
  unsigned index;
  struct virtq vq;
  int notify_fd;
};

struct virtio_dev {
  struct arca_vm *vm;
  const struct virtio_device_ops *ops;
  void *opaque;
  unsigned gsi;
  char name[40];
  pthread_mutex_t lock;         /* every field below, and the device's callbacks */
  uint32_t status;
  uint32_t dev_features_sel, drv_features_sel;
  uint64_t drv_features;
  uint32_t queue_sel;
  uint32_t int_status;
  uint32_t config_generation;
  bool broken;                  /* DEVICE_NEEDS_RESET set */
  int irq_fd;
  struct virtio_queue queues[VIRTIO_MAX_QUEUES];
  struct virtq_chain chain;     /* scratch, only used under lock */
  /* The transport's own state and its snapshot hooks (may be NULL). */
  void *transport;
  void (*transport_save) (void *transport, json_t *state);
  int (*transport_restore) (void *transport, json_t *state, const char **why);
  void (*transport_free) (void *transport);
};

/* Allocates the device, registers it with the VM (freed with it, even on a
   later failure), and sets up its interrupt (irqfd on gsi) and one
   notification eventfd per queue served by the device thread.  Takes
   ownership of opaque. */
int virtio_dev__new (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                     const char *name, unsigned gsi, struct virtio_dev **ret_dev,
                     arca_error **err);

/* All below: under d->lock. */
uint64_t virtio_dev__offered (const struct virtio_dev *d);
uint32_t virtio_dev__device_features (const struct virtio_dev *d);
void virtio_dev__write_driver_features (struct virtio_dev *d, uint32_t v);
void virtio_dev__write_status (struct virtio_dev *d, uint32_t v);
/* The selected queue, or NULL past the device's queues. */
struct virtio_queue *virtio_dev__selected (struct virtio_dev *d);
/* Makes a queue live (after validating its rings) or not. */
void virtio_dev__queue_ready (struct virtio_dev *d, struct virtio_queue *q, bool ready);
/* Bounds-checked access to device config space: bytes past its end read as
   zero and are not written. */
void virtio_dev__config_read (struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len);
void virtio_dev__config_write (struct virtio_dev *d, uint64_t off, const uint8_t *data,
                               uint32_t len);
void virtio_dev__fail (struct virtio_dev *d, const char *why);

/* The transports (virtio__create picks one). */
int virtio_mmio__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                         struct virtio_dev **ret_dev, arca_error **err);
int virtio_pci__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                        struct virtio_dev **ret_dev, arca_error **err);

#endif
