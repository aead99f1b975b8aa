/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Split virtqueues (virtio 1.x, 2.7): the device side.  Everything read
 * from guest memory is treated as hostile: ring addresses and every
 * descriptor are checked against guest RAM, chains are bounded by the queue
 * size (which also catches loops), and a malformed chain is reported as an
 * error for the transport to turn into a device reset.  No function here
 * touches host memory outside guest RAM or the caller's structs. */
#ifndef ARCA_VMM_VIRTQUEUE_H
#define ARCA_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "memory.h"

#define VIRTQ_MAX_SIZE 256      /* the largest queue arca-vmm offers */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq {
  uint16_t size;                /* power of two, 1..VIRTQ_MAX_SIZE */
  uint64_t desc_gpa, avail_gpa, used_gpa;
  bool ready;
  uint16_t last_avail;          /* next avail ring entry to take */
  uint16_t used_idx;            /* next used ring entry to fill */
};

/* One descriptor chain, split into the device-readable part (first) and
   the device-writable part, as host iovecs into guest RAM. */
struct virtq_chain {
  uint16_t head;
  unsigned n_in, n_out;         /* in: device reads; out: device writes */
  struct iovec in[VIRTQ_MAX_SIZE];
  struct iovec out[VIRTQ_MAX_SIZE];
  uint64_t in_len, out_len;
};

/* Checks size and ring placement when the driver sets the queue ready.
   Returns 0 or -1 with *why set to a static description. */
int virtq__validate (const struct guest_mem *mem, const struct virtq *vq, const char **why);

/* Takes the next available chain.  Returns 1 with *chain filled, 0 when the
   ring is empty, -1 (with *why) when the driver broke the protocol. */
int virtq__pop (const struct guest_mem *mem, struct virtq *vq, struct virtq_chain *chain,
                const char **why);

/* Returns a chain to the driver with the number of bytes written to it. */
int virtq__push (const struct guest_mem *mem, struct virtq *vq, uint16_t head, uint32_t written,
                 const char **why);

/* True when the driver asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtq__suppress_interrupt (const struct guest_mem *mem, const struct virtq *vq);

/* Copies from / to a chain's iovecs, starting at byte offset off; returns
   the bytes copied (short at the end of the chain). */
size_t virtq__read (const struct virtq_chain *chain, uint64_t off, void *buf, size_t len);
size_t virtq__write (const struct virtq_chain *chain, uint64_t off, const void *buf, size_t len);

#endif
