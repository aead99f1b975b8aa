/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI
 * finds its processors, the IOAPIC and the ISA and PCI interrupt wiring.  Written
 * at the start of the EBDA (0x9fc00), where Linux looks first and which the
 * e820 map reserves. */
#include <errno.h>
#include <string.h>

#include "pci.h"
#include "guest-bytes.h"
#include "vm.h"

#define MP_ADDR 0x9fc00ULL
#define MP_LIMIT 0xa0000ULL
#define LAPIC_ADDR 0xfee00000U
#define IOAPIC_ADDR 0xfec00000U
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define ISA_IRQS 16

struct mp_writer {
  uint8_t *base;
  size_t len, cap;
};

static uint8_t *
take (struct mp_writer *w, size_t n)
{
  uint8_t *p;
  if (n > w->cap - w->len)
    return NULL;
  p = w->base + w->len;
  memset (p, 0, n);
  w->len += n;
  return p;
}

int
mptable__write (struct arca_vm *vm, arca_error **err)
{
  uint8_t *area = guest_mem__ptr (&vm->mem, MP_ADDR, MP_LIMIT - MP_ADDR);
  struct mp_writer w = { .base = area, .cap = MP_LIMIT - MP_ADDR };
  uint8_t *fp, *hdr, *e;
  uint16_t entries = 0;
  uint8_t ioapic_id = (uint8_t) vm->n_vcpus_planned;
  unsigned pci_slots[PCI_MAX_SLOTS];
  unsigned n_pci = pci__slots (vm, pci_slots, PCI_MAX_SLOTS);
  uint8_t isa_bus = n_pci > 0 ? 1 : 0;

  if (area == NULL)
    return arca_error_set (err, ERANGE, "MP table area outside guest memory");
  fp = take (&w, 16);
  hdr = take (&w, 44);
  if (fp == NULL || hdr == NULL)
    return arca_error_set (err, ENOSPC, "MP table does not fit");

  for (unsigned i = 0; i < vm->n_vcpus_planned; i++)
    {
      if ((e = take (&w, 20)) == NULL)
        return arca_error_set (err, ENOSPC, "MP table does not fit");
      e[0] = 0;                                   /* processor */
      e[1] = (uint8_t) i;                         /* local APIC id */
      e[2] = APIC_VERSION;
      e[3] = (uint8_t) (1 | (i == 0 ? 2 : 0));    /* enabled, BSP */
      put32 (e + 4, 0x600);                       /* family 6 signature */
      put32 (e + 8, 0x201);                       /* FPU, APIC */
      entries++;
    }
  /* With PCI, it is bus 0 (Linux matches the MP bus id against the PCI
     bus number) and ISA is bus 1; otherwise ISA is bus 0. */
  if (n_pci > 0)
    {
      if ((e = take (&w, 8)) == NULL)
        return arca_error_set (err, ENOSPC, "MP table does not fit");
      e[0] = 1;
      e[1] = 0;
      memcpy (e + 2, "PCI   ", 6);
      entries++;
    }
  if ((e = take (&w, 8)) == NULL)
    return arca_error_set (err, ENOSPC, "MP table does not fit");
  e[0] = 1;
  e[1] = isa_bus;
  memcpy (e + 2, "ISA   ", 6);
  entries++;
  if ((e = take (&w, 8)) == NULL)
    return arca_error_set (err, ENOSPC, "MP table does not fit");
  e[0] = 2;                                       /* IOAPIC */
  e[1] = ioapic_id;
  e[2] = IOAPIC_VERSION;
  e[3] = 1;                                       /* enabled */
  put32 (e + 4, IOAPIC_ADDR);
  entries++;
  /* ISA IRQ n -> IOAPIC pin n, as KVM's default GSI routing has it. */
  for (unsigned irq = 0; irq < ISA_IRQS; irq++)
    {
      if ((e = take (&w, 8)) == NULL)
        return arca_error_set (err, ENOSPC, "MP table does not fit");
      e[0] = 3;                                   /* I/O interrupt, INT */
      e[4] = isa_bus;                             /* source bus */
      e[5] = (uint8_t) irq;
      e[6] = ioapic_id;
      e[7] = (uint8_t) irq;
      entries++;
    }
  /* Each PCI slot's INTA# -> its own IOAPIC pin, edge-triggered and
     active-high: the irqfd pulses it like an ISA line, so an interrupt
     raised while the guest still handles the last one is not lost. */
  for (unsigned i = 0; i < n_pci; i++)
    {
      if ((e = take (&w, 8)) == NULL)
        return arca_error_set (err, ENOSPC, "MP table does not fit");
      e[0] = 3;
      put16 (e + 2, 0x5);                         /* active high, edge */
      e[4] = 0;                                   /* PCI bus 0 */
      e[5] = (uint8_t) (pci_slots[i] << 2);       /* device, INTA# */
      e[6] = ioapic_id;
      e[7] = (uint8_t) pci__slot_gsi (pci_slots[i]);
      entries++;
    }
  /* LINT0 = ExtINT (the PIC), LINT1 = NMI, on every local APIC. */
  for (unsigned lint = 0; lint < 2; lint++)
    {
      if ((e = take (&w, 8)) == NULL)
        return arca_error_set (err, ENOSPC, "MP table does not fit");
      e[0] = 4;
      e[1] = lint == 0 ? 3 : 1;                   /* ExtINT, NMI */
      e[6] = 0xff;                                /* all local APICs */
      e[7] = (uint8_t) lint;
      entries++;
    }

  memcpy (hdr, "PCMP", 4);
  put16 (hdr + 4, (uint16_t) (w.len - 16));       /* base table length */
  hdr[6] = 4;                                     /* spec 1.4 */
  memcpy (hdr + 8, "ARCA    ", 8);
  memcpy (hdr + 16, "ARCA-VMM    ", 12);
  put16 (hdr + 34, entries);
  put32 (hdr + 36, LAPIC_ADDR);
  hdr[7] = table_checksum (hdr, w.len - 16);

  memcpy (fp, "_MP_", 4);
  put32 (fp + 4, (uint32_t) (MP_ADDR + 16));      /* config table */
  fp[8] = 1;                                      /* length in 16-byte units */
  fp[9] = 4;                                      /* spec 1.4 */
  fp[10] = table_checksum (fp, 16);
  return 0;
}
