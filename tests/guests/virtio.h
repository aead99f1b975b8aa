/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test guest's virtio driver, over MMIO or (after vdev_use_pci()) over
 * PCI: one queue of 8 descriptors per device, polled (no interrupts), just
 * enough to drive arca-vmm's devices and to feed them malformed requests on
 * purpose.  Callers name registers by their virtio-mmio offsets; the PCI
 * path maps them onto the common/device configuration regions. */
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

#define GV_QUEUES 3

struct gvq {
  struct vdesc *desc;
  volatile uint16_t *avail;     /* flags, idx, ring[VQ_SIZE] */
  volatile uint16_t *used;      /* flags, idx, then {u32 id, u32 len}[] */
  uint16_t avail_idx, used_idx;
};

struct gvdev {
  uint64_t base;                /* MMIO: the slot; PCI: BAR0 */
  int pci;
  unsigned slot;                /* PCI slot */
  uint64_t common, notify, isr, devcfg;
  uint32_t notify_mult;
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
/* Polls the status for DEVICE_NEEDS_RESET for up to `cycles` TSC cycles
   (a count of reads passes before the device thread ran on a nested
   host); returns 1 if it was set. */
int vdev_wait_needs_reset (struct gvdev *d, uint64_t cycles);
uint32_t vdev_read (struct gvdev *d, uint32_t reg);
void vdev_write (struct gvdev *d, uint32_t reg, uint32_t v);
/* vdev_poll_q() for about `cycles` TSC cycles. */
int64_t vdev_wait_q (struct gvdev *d, int q, uint64_t cycles);
void vdev_reset (struct gvdev *d);

/* Every later vdev_open() looks on PCI bus 0 instead of the MMIO slots. */
void vdev_use_pci (void);
/* PCI configuration mechanism #1. */
uint32_t pci_cfg_read (unsigned bus, unsigned slot, unsigned fn, unsigned reg);
void pci_cfg_write (unsigned bus, unsigned slot, unsigned fn, unsigned reg, uint32_t v);
/* Size of a 64-bit memory BAR0 (all-ones written and restored). */
uint64_t pci_bar0_size (unsigned slot);

#endif
