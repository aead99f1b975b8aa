/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest physical memory: up to two host mappings (below and above the MMIO
 * hole).  Every guest-provided address goes through guest_mem__ptr(), which
 * is the one place that turns a guest range into a host pointer. */
#ifndef ARCA_VMM_MEMORY_H
#define ARCA_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* RAM stops here below 4 GiB; [MMIO_HOLE_START, 4 GiB) holds device MMIO,
 * the TSS and the identity-map page KVM needs. */
#define GUEST_MMIO_HOLE_START 0xc0000000ULL
#define GUEST_4G 0x100000000ULL

struct guest_mem_region {
  uint64_t gpa;
  uint64_t size;
  uint8_t *hva;
};

struct guest_mem {
  struct guest_mem_region regions[2];
  unsigned n_regions;
  void *map;          /* one mapping backs both regions */
  size_t map_size;
  uint64_t ram_size;  /* total bytes of RAM */
  int memfd;          /* backing memfd (snapshots write it out), or -1 */
  /* Pages the VMM itself wrote (virtio completions) while a migration
     tracks them: KVM's dirty log only sees vCPU writes.  One bit per page
     of the mapping; allocated by the first migration, freed with the
     memory, so a device thread never writes into a freed bitmap. */
  uint64_t *vmm_dirty;
  bool vmm_dirty_on;  /* __atomic: set and cleared by the migration */
};

/* memfd-backed, MAP_SHARED: pages cost nothing until the guest touches them,
   and the same memory can later be written to a snapshot file or handed to
   another process without copying through the VMM. */
int guest_mem__alloc (struct guest_mem *mem, uint64_t size, arca_error **err);
/* Maps a saved memory file MAP_PRIVATE: pages are read lazily on first touch
   and guest writes never reach the file (snapshot restore). */
int guest_mem__map_file (struct guest_mem *mem, int fd, uint64_t size, arca_error **err);
void guest_mem__free (struct guest_mem *mem);

/* Describes caller-owned memory as guest RAM at gpa 0 (tests, fuzzing). */
void guest_mem__init_flat (struct guest_mem *mem, void *buf, uint64_t size);

/* Host pointer to [gpa, gpa + len) if the whole range is RAM inside one
 * region, else NULL.  Overflow-safe for any guest values. */
static inline void *
guest_mem__ptr (const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
  for (unsigned i = 0; i < mem->n_regions; i++)
    {
      const struct guest_mem_region *r = &mem->regions[i];
      if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
        return r->hva + (gpa - r->gpa);
    }
  return NULL;
}

/* Records that the VMM wrote [p, p + len) of guest RAM (p from
   guest_mem__ptr), when a migration is tracking it. */
static inline void
guest_mem__mark_dirty (const struct guest_mem *mem, const void *p, size_t len)
{
  uintptr_t base = (uintptr_t) mem->map, a = (uintptr_t) p;

  if (!__atomic_load_n (&mem->vmm_dirty_on, __ATOMIC_ACQUIRE) || len == 0 || a < base
      || a - base >= mem->map_size)
    return;
  for (uint64_t pg = (a - base) / 4096, last = (a - base + len - 1) / 4096;
       pg <= last && pg < mem->map_size / 4096; pg++)
    __atomic_fetch_or (&mem->vmm_dirty[pg / 64], 1ULL << (pg % 64), __ATOMIC_RELAXED);
}

/* End of RAM below the hole (== ram_size when there is no high region). */
uint64_t guest_mem__low_end (const struct guest_mem *mem);

#endif
