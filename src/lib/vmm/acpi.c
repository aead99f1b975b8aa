/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACPI tables for SMP discovery, an alternative to the MP table (--acpi):
 * RSDP -> XSDT -> FADT (hardware-reduced, as Firecracker and Cloud
 * Hypervisor give their guests) -> an empty DSDT, and a MADT with one
 * local APIC per vCPU, the IOAPIC, an identity override per ISA IRQ (as
 * the MP table wires them) and the LINT1 NMI.  The tables live in
 * the BIOS area at 0xe0000, which Linux scans for the RSDP and the e820
 * map reserves.  There is no AML: no PCI interrupt routing (_PRT), so
 * ACPI goes with the virtio-mmio transport only. */
#include <errno.h>
#include <string.h>

#include "vm.h"
#include "guest-bytes.h"

#define ACPI_BASE 0xe0000ULL
#define RSDP_OFF 0x000
#define XSDT_OFF 0x040
#define FADT_OFF 0x100
#define MADT_OFF 0x300
#define DSDT_OFF 0x600
#define ACPI_SIZE 0x700
#define HDR 36
#define FADT_LEN 276
#define LAPIC_ADDR 0xfee00000U
#define IOAPIC_ADDR 0xfec00000U
#define FADT_HW_REDUCED (1U << 20)
#define ISA_IRQS 16

/* A standard table header; the checksum is set once the body is written. */
static void
header (uint8_t *t, const char *sig, uint32_t len, uint8_t revision)
{
  memcpy (t, sig, 4);
  put32 (t + 4, len);
  t[8] = revision;
  memcpy (t + 10, "ARCA  ", 6);             /* OEM id */
  memcpy (t + 16, "ARCAVMM ", 8);           /* OEM table id */
  put32 (t + 24, 1);                        /* OEM revision */
  memcpy (t + 28, "ARCA", 4);               /* creator id */
  put32 (t + 32, 1);
}

static void
seal (uint8_t *t)
{
  uint32_t len;
  memcpy (&len, t + 4, 4);
  t[9] = 0;
  t[9] = table_checksum (t, len);
}

int
acpi__write (struct arca_vm *vm, arca_error **err)
{
  uint8_t *a = guest_mem__ptr (&vm->mem, ACPI_BASE, ACPI_SIZE);
  uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt, *e;
  uint32_t madt_len = HDR + 8 + 8 * vm->n_vcpus_planned + 12 + 10 * ISA_IRQS + 6;
  uint8_t ioapic_id = (uint8_t) vm->n_vcpus_planned;

  if (a == NULL)
    return arca_error_set (err, ERANGE, "ACPI table area outside guest memory");
  if (MADT_OFF + madt_len > DSDT_OFF)
    return arca_error_set (err, ENOSPC, "ACPI MADT does not fit");
  memset (a, 0, ACPI_SIZE);
  rsdp = a + RSDP_OFF;
  xsdt = a + XSDT_OFF;
  fadt = a + FADT_OFF;
  madt = a + MADT_OFF;
  dsdt = a + DSDT_OFF;

  header (dsdt, "DSDT", HDR, 2);            /* no AML */
  seal (dsdt);

  header (fadt, "FACP", FADT_LEN, 6);
  put32 (fadt + 40, (uint32_t) (ACPI_BASE + DSDT_OFF));
  put32 (fadt + 112, FADT_HW_REDUCED);
  fadt[131] = 5;                            /* FADT minor version: 6.5 */
  put64 (fadt + 140, ACPI_BASE + DSDT_OFF); /* X_DSDT */
  memcpy (fadt + 268, "ARCAVMM ", 8);       /* hypervisor vendor */
  seal (fadt);

  header (madt, "APIC", madt_len, 5);
  put32 (madt + 36, LAPIC_ADDR);
  put32 (madt + 40, 0);                     /* no 8259 pair to disable */
  e = madt + 44;
  for (unsigned i = 0; i < vm->n_vcpus_planned; i++, e += 8)
    {
      e[0] = 0;                             /* processor local APIC */
      e[1] = 8;
      e[2] = (uint8_t) i;                   /* ACPI processor uid */
      e[3] = (uint8_t) i;                   /* APIC id */
      put32 (e + 4, 1);                     /* enabled */
    }
  e[0] = 1;                                 /* IOAPIC */
  e[1] = 12;
  e[2] = ioapic_id;
  put32 (e + 4, IOAPIC_ADDR);
  put32 (e + 8, 0);                         /* GSI base */
  e += 12;
  /* ISA IRQ n -> GSI n, edge-triggered, active-high, spelled out: a
     hardware-reduced guest has no legacy PIC, so without these Linux maps
     no ISA IRQ (the UART's IRQ 4 among them) and would take an unlisted
     GSI as PCI-style (level, active-low). */
  for (unsigned irq = 0; irq < ISA_IRQS; irq++, e += 10)
    {
      e[0] = 2;                             /* interrupt source override */
      e[1] = 10;
      e[2] = 0;                             /* ISA */
      e[3] = (uint8_t) irq;
      put32 (e + 4, irq);
      put16 (e + 8, 0x5);                   /* active high, edge */
    }
  e[0] = 4;                                 /* local APIC NMI */
  e[1] = 6;
  e[2] = 0xff;                              /* every processor */
  put16 (e + 3, 0);
  e[5] = 1;                                 /* LINT1 */
  seal (madt);

  header (xsdt, "XSDT", HDR + 16, 1);
  put64 (xsdt + HDR, ACPI_BASE + FADT_OFF);
  put64 (xsdt + HDR + 8, ACPI_BASE + MADT_OFF);
  seal (xsdt);

  memcpy (rsdp, "RSD PTR ", 8);
  memcpy (rsdp + 9, "ARCA  ", 6);
  rsdp[15] = 2;                             /* ACPI 2.0+: XSDT */
  put32 (rsdp + 20, 36);
  put64 (rsdp + 24, ACPI_BASE + XSDT_OFF);
  rsdp[8] = table_checksum (rsdp, 20);
  rsdp[32] = table_checksum (rsdp, 36);
  vm->acpi_rsdp = ACPI_BASE + RSDP_OFF;
  return 0;
}
