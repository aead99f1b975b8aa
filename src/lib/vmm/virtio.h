/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device side of virtio, transport-independent (kvmtool's model): a
 * device is a small table of callbacks; the transport (virtio-mmio.c, virtio-pci.c) owns
 * the registers, queues, notifications and interrupts and calls the device
 * for each descriptor chain.  Devices never see a guest address: they get
 * iovecs the virtqueue code has already checked. */
#ifndef ARCA_VMM_VIRTIO_H
#define ARCA_VMM_VIRTIO_H

#include <jansson.h>
#include <stdint.h>

#include "util/error.h"
#include "virtqueue.h"

struct arca_vm;

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_F_VERSION_1 (1ULL << 32)
#define VIRTIO_MAX_QUEUES 4

struct virtio_device_ops {
  const char *name;             /* "virtio-blk", for messages and the bus */
  uint32_t device_id;
  uint64_t features;            /* offered besides VIRTIO_F_VERSION_1 */
  unsigned n_queues;            /* 1..VIRTIO_MAX_QUEUES */
  uint16_t queue_max;           /* power of two <= VIRTQ_MAX_SIZE */
  uint32_t config_len;          /* bytes of device config space */
  /* off + len <= config_len, checked by the transport. */
  void (*config_read) (void *opaque, uint32_t off, uint8_t *data, uint32_t len);
  /* Driver writes to config space, clipped to config_len; may be NULL. */
  void (*config_write) (void *opaque, uint32_t off, const uint8_t *data, uint32_t len);
  /* Serves one chain.  Returns 0 with *ret_written = bytes written into
     the chain; 1 when the device has nothing to put in it yet (the chain
     stays available and the queue is not served again until
     virtio__notify()); or -1 with *why when the request is malformed
     beyond what a status byte can report (the device then needs a reset). */
  int (*handle) (void *opaque, unsigned queue, const struct virtq_chain *chain,
                 uint32_t *ret_written, const char **why);
  void (*reset) (void *opaque);         /* may be NULL */
  /* Device-specific snapshot state (may be NULL): under the transport's
     lock, like every callback. */
  void (*save) (void *opaque, json_t *state);
  int (*restore) (void *opaque, json_t *state, const char **why);
  void (*free) (void *opaque);          /* may be NULL */
};

struct virtio_dev;

/* Places the device on the VM's virtio transport (virtio-mmio, or PCI when
   the machine's transport is ARCA_VM_TRANSPORT_PCI), wires its queue
   notifications (ioeventfd) and interrupt (irqfd).  Takes ownership of
   opaque (freed through ops->free even on failure).  *ret_dev (may be
   NULL) is for virtio__notify() and virtio__config_changed(). */
int virtio__create (struct arca_vm *vm, const struct virtio_device_ops *ops, void *opaque,
                    struct virtio_dev **ret_dev, arca_error **err);
/* Makes the device thread serve a queue again (e.g. frames arrived for a
   receive queue); thread-safe. */
void virtio__notify (struct virtio_dev *dev, unsigned queue);
/* Tells the driver the device config changed (new generation + config
   interrupt); thread-safe. */
void virtio__config_changed (struct virtio_dev *dev);

#endif
