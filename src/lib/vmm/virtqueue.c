/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "virtqueue.h"

struct vring_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

#define AVAIL_F_NO_INTERRUPT 1

/* Ring sizes, virtio 1.x 2.7: flags + idx + ring[size] (+ event, unused). */
static uint64_t
desc_bytes (uint16_t size)
{
  return 16ULL * size;
}

static uint64_t
avail_bytes (uint16_t size)
{
  return 4ULL + 2ULL * size + 2;
}

static uint64_t
used_bytes (uint16_t size)
{
  return 4ULL + 8ULL * size + 2;
}

int
virtq__validate (const struct guest_mem *mem, const struct virtq *vq, const char **why)
{
  if (vq->size == 0 || vq->size > VIRTQ_MAX_SIZE || (vq->size & (vq->size - 1)) != 0)
    return *why = "queue size is not a power of two within the maximum", -1;
  if (vq->desc_gpa % 16 != 0 || vq->avail_gpa % 2 != 0 || vq->used_gpa % 4 != 0)
    return *why = "ring address misaligned", -1;
  if (guest_mem__ptr (mem, vq->desc_gpa, desc_bytes (vq->size)) == NULL
      || guest_mem__ptr (mem, vq->avail_gpa, avail_bytes (vq->size)) == NULL
      || guest_mem__ptr (mem, vq->used_gpa, used_bytes (vq->size)) == NULL)
    return *why = "ring outside guest RAM", -1;
  return 0;
}

static uint16_t
load16 (const void *p)
{
  uint16_t v;
  /* The driver writes these concurrently: read once, atomically. */
  v = __atomic_load_n ((const uint16_t *) p, __ATOMIC_ACQUIRE);
  return v;
}

int
virtq__pop (const struct guest_mem *mem, struct virtq *vq, struct virtq_chain *chain,
            const char **why)
{
  const uint8_t *avail, *desc_table;
  uint16_t avail_idx, head, idx;
  unsigned count = 0;

  if (!vq->ready)
    return 0;
  /* Re-resolved on every call: cheap, and nothing cached can go stale. */
  avail = guest_mem__ptr (mem, vq->avail_gpa, avail_bytes (vq->size));
  desc_table = guest_mem__ptr (mem, vq->desc_gpa, desc_bytes (vq->size));
  if (avail == NULL || desc_table == NULL)
    return *why = "ring outside guest RAM", -1;

  avail_idx = load16 (avail + 2);
  if (avail_idx == vq->last_avail)
    return 0;
  /* More entries than the ring holds means a corrupt index. */
  if ((uint16_t) (avail_idx - vq->last_avail) > vq->size)
    return *why = "available index ran ahead of the ring", -1;
  head = load16 (avail + 4 + 2 * (vq->last_avail % vq->size));
  if (head >= vq->size)
    return *why = "descriptor head out of range", -1;

  chain->head = head;
  chain->n_in = chain->n_out = 0;
  chain->in_len = chain->out_len = 0;
  idx = head;
  for (;;)
    {
      struct vring_desc d;
      void *p;

      /* A chain longer than the table must revisit a descriptor: a loop. */
      if (++count > vq->size)
        return *why = "descriptor chain loops or exceeds the queue size", -1;
      memcpy (&d, desc_table + 16 * (size_t) idx, sizeof (d));
      if (d.flags & VIRTQ_DESC_F_INDIRECT)
        return *why = "indirect descriptor not negotiated", -1;
      p = guest_mem__ptr (mem, d.addr, d.len);
      if (p == NULL)
        return *why = "descriptor buffer outside guest RAM", -1;
      if (d.flags & VIRTQ_DESC_F_WRITE)
        {
          chain->out[chain->n_out++] = (struct iovec){ .iov_base = p, .iov_len = d.len };
          chain->out_len += d.len;
        }
      else
        {
          /* virtio 1.x 2.7.4.2: readable descriptors come first. */
          if (chain->n_out > 0)
            return *why = "device-readable descriptor after a writable one", -1;
          chain->in[chain->n_in++] = (struct iovec){ .iov_base = p, .iov_len = d.len };
          chain->in_len += d.len;
        }
      if (!(d.flags & VIRTQ_DESC_F_NEXT))
        break;
      if (d.next >= vq->size)
        return *why = "next descriptor out of range", -1;
      idx = d.next;
    }
  vq->last_avail++;
  return 1;
}

int
virtq__push (const struct guest_mem *mem, struct virtq *vq, uint16_t head, uint32_t written,
             const char **why)
{
  uint8_t *used = guest_mem__ptr (mem, vq->used_gpa, used_bytes (vq->size));
  uint32_t elem[2] = { head, written };

  if (used == NULL)
    return *why = "ring outside guest RAM", -1;
  memcpy (used + 4 + 8 * (size_t) (vq->used_idx % vq->size), elem, sizeof (elem));
  vq->used_idx++;
  /* The element must be visible before the index that publishes it. */
  __atomic_store_n ((uint16_t *) (used + 2), vq->used_idx, __ATOMIC_RELEASE);
  return 0;
}

bool
virtq__suppress_interrupt (const struct guest_mem *mem, const struct virtq *vq)
{
  const uint8_t *avail = guest_mem__ptr (mem, vq->avail_gpa, 2);
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  return avail != NULL && (load16 (avail) & AVAIL_F_NO_INTERRUPT);
}

size_t
virtq__read (const struct virtq_chain *chain, uint64_t off, void *buf, size_t len)
{
  size_t done = 0;

  for (unsigned i = 0; i < chain->n_in && done < len; i++)
    {
      size_t seg = chain->in[i].iov_len, n;
      if (off >= seg)
        {
          off -= seg;
          continue;
        }
      n = seg - off < len - done ? seg - off : len - done;
      memcpy ((uint8_t *) buf + done, (uint8_t *) chain->in[i].iov_base + off, n);
      done += n;
      off = 0;
    }
  return done;
}

size_t
virtq__write (const struct virtq_chain *chain, uint64_t off, const void *buf, size_t len)
{
  size_t done = 0;

  for (unsigned i = 0; i < chain->n_out && done < len; i++)
    {
      size_t seg = chain->out[i].iov_len, n;
      if (off >= seg)
        {
          off -= seg;
          continue;
        }
      n = seg - off < len - done ? seg - off : len - done;
      memcpy ((uint8_t *) chain->out[i].iov_base + off, (const uint8_t *) buf + done, n);
      done += n;
      off = 0;
    }
  return done;
}
