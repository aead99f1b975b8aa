/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registry of device address ranges on the PIO and MMIO buses.  A vCPU exit
 * is dispatched to the one range that contains it.  Ranges are registered
 * before the vCPUs start and never change afterwards, so lookups need no
 * lock; each device serialises its own state. */
#ifndef ARCA_VMM_BUS_H
#define ARCA_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define VM_BUS_MAX_RANGES 32

struct vm_bus_ops {
  /* offset is relative to the range base; len is 1, 2, 4 or 8.  Reads fill
     data (already 0xff-filled by the bus for unhandled bytes). */
  void (*read) (void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
  void (*write) (void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct vm_bus_range {
  uint64_t base, len;
  const struct vm_bus_ops *ops;
  void *opaque;
  const char *name;
};

struct vm_bus {
  const char *name;                 /* "pio" or "mmio", for messages */
  struct vm_bus_range ranges[VM_BUS_MAX_RANGES];
  unsigned n;
};

int vm_bus__register (struct vm_bus *bus, uint64_t base, uint64_t len, const char *name,
                      const struct vm_bus_ops *ops, void *opaque, arca_error **err);

/* Returns false when no device claims addr (the access is then ignored, and
   a read returns all ones as on real hardware). */
bool vm_bus__read (const struct vm_bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
bool vm_bus__write (const struct vm_bus *bus, uint64_t addr, const uint8_t *data, uint32_t len);

#endif
