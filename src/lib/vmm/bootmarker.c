/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boot-time marker (after Firecracker's boot timer): any byte the guest
 * writes to port 0x3f0 records the time since the VMM started, so boot
 * phases can be measured exactly without parsing the console. */
#include <stdlib.h>

#include "vm.h"

static void
marker_write (void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
  struct arca_vm *vm = opaque;
  uint64_t now = vm__elapsed_ns (vm);
  unsigned n;

  pthread_mutex_lock (&vm->lock);
  n = vm->metrics.n_boot_markers;
  if (n < ARCA_VM_MAX_BOOT_MARKERS)
    {
      vm->metrics.boot_marker_ns[n] = now;
      vm->metrics.boot_marker_value[n] = data[0];
      vm->metrics.n_boot_markers = n + 1;
    }
  pthread_mutex_unlock (&vm->lock);
  arca_debug (vm->log, "boot marker %u (value %u) at %llu us", n, data[0],
              (unsigned long long) (now / 1000));
  (void) offset;
  (void) len;
}

static const struct vm_bus_ops marker_ops = { .write = marker_write };

int
bootmarker__create (struct arca_vm *vm, arca_error **err)
{
  return vm_bus__register (&vm->pio, PORT_BOOT_MARKER, 1, "boot-marker", &marker_ops, vm, err);
}
