/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test guest's virtio-mmio driver: one queue of 8 descriptors per
 * device, polled (no interrupts), just enough to drive arca-vmm's devices
 * and to feed them malformed requests on purpose. */
#ifndef ARCA_TEST_GUEST_VIRTIO_H
#define ARCA_TEST_GUEST_VIRTIO_H

#include <stdint.h>

#define VQ_SIZE 8
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VSTATUS_NEEDS_RESET 0x40

struct vdesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

#define GV_QUEUES 2

struct gvq {
  struct vdesc *desc;
  volatile uint16_t *avail;     /* flags, idx, ring[VQ_SIZE] */
  volatile uint16_t *used;      /* flags, idx, then {u32 id, u32 len}[] */
  uint16_t avail_idx, used_idx;
};

struct gvdev {
  uint64_t base;
  struct gvq q[GV_QUEUES];
  /* queue 0, for the single-queue devices */
  struct vdesc *desc;
};

struct vbuf {
  void *addr;
  uint32_t len;
  int device_writes;
};

/* Finds the nth device with this id and brings it to DRIVER_OK with the
   given low feature bits.  Returns 0 or a negative step number. */
int vdev_open (struct gvdev *d, uint32_t device_id, int nth, uint32_t features);
/* Posts one chain and polls for its completion; returns the used length or
   -1 on timeout. */
int64_t vdev_request (struct gvdev *d, const struct vbuf *bufs, int n);
int64_t vdev_request_q (struct gvdev *d, int q, const struct vbuf *bufs, int n);
/* Posts one chain on queue q without waiting; vdev_poll_q() returns its used
   length once the device completed it, or -1 after `spins` polls. */
void vdev_post_q (struct gvdev *d, int q, const struct vbuf *bufs, int n);
int64_t vdev_poll_q (struct gvdev *d, int q, int spins);
/* Posts a raw descriptor table entry 0..n-1 as given (for malformed chains)
   and waits until the device sets DEVICE_NEEDS_RESET; returns 1 if it did. */
int vdev_request_raw (struct gvdev *d, const struct vdesc *descs, int n);
uint32_t vdev_read (struct gvdev *d, uint32_t reg);
void vdev_reset (struct gvdev *d);

#endif
