/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI bus 0: a host bridge at 00:00.0, configuration mechanism #1 (ports
 * 0xcf8 address / 0xcfc-0xcff data), and memory BARs in a window of the
 * MMIO hole.  Functions keep a 256-byte configuration space with a mask of
 * the bits the guest may change; BARs are handled here (sizing with all
 * ones, 64-bit memory BARs), so a function only provides what happens in
 * its BAR.  Everything the guest writes is untrusted: any offset, width
 * and value is accepted and none can reach outside these arrays. */
#ifndef ARCA_VMM_PCI_H
#define ARCA_VMM_PCI_H

#include <jansson.h>
#include <stdint.h>

#include "bus.h"
#include "util/error.h"

#define PCI_MAX_SLOTS 32
#define PCI_CONFIG_SIZE 256
#define PCI_CAP_START 0x40

struct arca_vm;

struct pci_function {
  uint8_t config[PCI_CONFIG_SIZE];
  uint8_t wmask[PCI_CONFIG_SIZE];       /* bits the guest may change */
  uint64_t bar_size;                    /* BAR0/1: one 64-bit memory BAR; 0 = none */
  const struct vm_bus_ops *bar_ops;     /* accesses inside the BAR */
  void *opaque;
  unsigned slot;
};

/* Creates bus 0 with its host bridge and the config ports. */
int pci__init (struct arca_vm *vm, arca_error **err);
/* Fills the identity part of a function's config space (header type 0). */
void pci__function_init (struct pci_function *f, uint16_t vendor, uint16_t device,
                         uint32_t class_code, uint8_t revision);
/* Puts a function in the next free slot and gives it a 64-bit memory BAR
   of bar_size bytes (a power of two >= 4 KiB) at a fixed place in the PCI
   window; *ret_bar is its guest-physical address.  The function stays
   owned by the caller and must live as long as the VM. */
int pci__add_function (struct arca_vm *vm, struct pci_function *f, uint64_t bar_size,
                       uint64_t *ret_bar, arca_error **err);
/* The interrupt (IOAPIC pin) wired to a slot's INTA#. */
unsigned pci__slot_gsi (unsigned slot);
/* Slots in use besides the host bridge, for the MP table: fills slots[],
   returns their number. */
unsigned pci__slots (struct arca_vm *vm, unsigned *slots, unsigned max);
/* Snapshot state of a function's writable config bytes. */
void pci__function_save (struct pci_function *f, json_t *o);
int pci__function_restore (struct pci_function *f, json_t *o, const char **why);

#endif
