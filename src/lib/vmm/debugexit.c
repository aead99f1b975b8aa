/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Debug-exit port 0x501: the guest writes its exit status (1, 2 or 4 bytes)
 * and the VM stops with it; arca-vmm exits with that status.  Test guests
 * use it to report results without a shutdown path of their own. */
#include <string.h>

#include "vm.h"

static void
exit_write (void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
  struct arca_vm *vm = opaque;
  uint32_t v = 0;

  memcpy (&v, data, len < sizeof (v) ? len : sizeof (v));
  vm__request_stop (vm, ARCA_VM_EXIT_DEBUG, (int) (v & 0xff), NULL);
  (void) offset;
}

static const struct vm_bus_ops exit_ops = { .write = exit_write };

int
debugexit__create (struct arca_vm *vm, arca_error **err)
{
  /* Four ports so a 32-bit write at 0x501 lands whole in the range. */
  return vm_bus__register (&vm->pio, PORT_DEBUG_EXIT, 4, "debug-exit", &exit_ops, vm, err);
}
