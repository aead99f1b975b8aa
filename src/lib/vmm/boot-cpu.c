/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU state at power-on: CPUID for every vCPU, and for the boot vCPU the
 * registers a loader hands over.  The VMM enters the kernel directly in the
 * mode its boot protocol asks for, so no firmware and no real-mode code runs
 * (real mode and 32-bit code are slow under some KVM backends). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/cleanup.h"
#include "vm.h"

#define CPUID_MAX_ENTRIES 256

/* GDT slots the Linux boot protocol expects: __BOOT_CS = 0x10, __BOOT_DS = 0x18. */
#define GDT_CODE 2
#define GDT_DATA 3
#define GDT_TSS 4

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

static int
get_supported_cpuid (struct arca_vm *vm, arca_error **err)
{
  cleanup_free struct kvm_cpuid2 *cpuid = NULL;

  if (vm->cpuid != NULL)
    return 0;
  cpuid = calloc (1, sizeof (*cpuid) + CPUID_MAX_ENTRIES * sizeof (struct kvm_cpuid_entry2));
  if (cpuid == NULL)
    return arca_error_errno (err, "allocate cpuid");
  cpuid->nent = CPUID_MAX_ENTRIES;
  if (ioctl (vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
    return arca_error_errno (err, "KVM_GET_SUPPORTED_CPUID");
  vm->cpuid = move_ptr (cpuid);
  return 0;
}

int
boot_cpu__setup_cpuid (struct arca_vm *vm, struct vm_vcpu *vcpu, arca_error **err)
{
  cleanup_free struct kvm_cpuid2 *cpuid = NULL;
  size_t size;

  if (get_supported_cpuid (vm, err) < 0)
    return -1;
  size = sizeof (*cpuid) + vm->cpuid->nent * sizeof (struct kvm_cpuid_entry2);
  cpuid = malloc (size);
  if (cpuid == NULL)
    return arca_error_errno (err, "allocate cpuid");
  memcpy (cpuid, vm->cpuid, size);
  for (unsigned i = 0; i < cpuid->nent; i++)
    {
      struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
      switch (e->function)
        {
        case 1:
          /* Without the hypervisor bit a Linux guest tries to calibrate
             its clocks against hardware it does not have, and idles. */
          e->ecx |= 1U << 31;
          /* Initial APIC ID and logical processor count. */
          e->ebx = (e->ebx & 0x0000ffffU) | (vcpu->id << 24) | (vm->n_vcpus_planned << 16);
          if (vm->n_vcpus_planned > 1)
            e->edx |= 1U << 28;   /* HTT: the count above is meaningful */
          break;
        case 0xb:
        case 0x1f:
          e->edx = vcpu->id;      /* x2APIC ID */
          break;
        default:
          break;
        }
    }
  if (ioctl (vcpu->fd, KVM_SET_CPUID2, cpuid) < 0)
    return arca_error_errno (err, "KVM_SET_CPUID2 on vcpu %u", vcpu->id);
  return 0;
}

static uint64_t
gdt_entry (uint16_t flags, uint32_t base, uint32_t limit)
{
  return ((uint64_t) (base & 0xff000000U) << 32) | ((uint64_t) (flags & 0xf0ffU) << 40)
         | ((uint64_t) (limit & 0x000f0000U) << 32) | ((uint64_t) (base & 0x00ffffffU) << 16)
         | (uint64_t) (limit & 0x0000ffffU);
}

/* The kvm_segment matching a GDT descriptor, so both views agree. */
static struct kvm_segment
segment_from_gdt (uint64_t entry, unsigned index)
{
  return (struct kvm_segment){
    .base = ((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24),
    .limit = (uint32_t) ((entry & 0xffff) | (((entry >> 48) & 0xf) << 16)),
    .selector = (uint16_t) (index * 8),
    .type = (entry >> 40) & 0xf,
    .present = (entry >> 47) & 1,
    .dpl = (entry >> 45) & 3,
    .db = (entry >> 54) & 1,
    .s = (entry >> 44) & 1,
    .l = (entry >> 53) & 1,
    .g = (entry >> 55) & 1,
  };
}

static void
fixup_limit (struct kvm_segment *seg)
{
  /* KVM wants the byte-granular limit. */
  if (seg->g)
    seg->limit = (seg->limit << 12) | 0xfff;
}

/* Identity map of the low 4 GiB with 2 MiB pages: enough for any kernel
   entered in 64-bit mode to reach itself, its zero page and command line. */
static int
write_page_tables (struct arca_vm *vm, arca_error **err)
{
  uint64_t *pml4 = guest_mem__ptr (&vm->mem, LAYOUT_PML4, 4096);
  uint64_t *pdpt = guest_mem__ptr (&vm->mem, LAYOUT_PDPT, 4096);
  uint64_t *pd = guest_mem__ptr (&vm->mem, LAYOUT_PD, 4 * 4096);

  if (pml4 == NULL || pdpt == NULL || pd == NULL)
    return arca_error_set (err, ERANGE, "page tables outside guest memory");
  memset (pml4, 0, 4096);
  memset (pdpt, 0, 4096);
  pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
  for (uint64_t i = 0; i < 4; i++)
    pdpt[i] = (LAYOUT_PD + i * 4096) | PTE_P | PTE_RW;
  for (uint64_t i = 0; i < 4 * 512; i++)
    pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
  return 0;
}

int
boot_cpu__setup_entry (struct arca_vm *vm, struct vm_vcpu *vcpu, arca_error **err)
{
  uint64_t *gdt = guest_mem__ptr (&vm->mem, LAYOUT_GDT, 5 * sizeof (uint64_t));
  struct kvm_sregs sregs;
  struct kvm_regs regs;
  struct kvm_segment code, data, tss;

  if (gdt == NULL)
    return arca_error_set (err, ERANGE, "gdt outside guest memory");
  if (ioctl (vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
    return arca_error_errno (err, "KVM_GET_SREGS");

  gdt[0] = gdt[1] = 0;
  /* flags: G, D/B or L, P, DPL 0, S, type */
  gdt[GDT_CODE] = vm->entry_pvh ? gdt_entry (0xc09b, 0, 0xfffff) : gdt_entry (0xa09b, 0, 0xfffff);
  gdt[GDT_DATA] = gdt_entry (0xc093, 0, 0xfffff);
  gdt[GDT_TSS] = gdt_entry (0x008b, 0, 0x67);
  code = segment_from_gdt (gdt[GDT_CODE], GDT_CODE);
  data = segment_from_gdt (gdt[GDT_DATA], GDT_DATA);
  tss = segment_from_gdt (gdt[GDT_TSS], GDT_TSS);
  fixup_limit (&code);
  fixup_limit (&data);

  sregs.gdt.base = LAYOUT_GDT;
  sregs.gdt.limit = 5 * sizeof (uint64_t) - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;
  sregs.cs = code;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = tss;

  memset (&regs, 0, sizeof (regs));
  regs.rflags = 0x2;
  regs.rip = vm->entry;
  if (vm->entry_pvh)
    {
      /* PVH: 32-bit protected mode, paging off, %ebx = hvm_start_info. */
      sregs.cr0 = CR0_PE | CR0_ET;
      sregs.cr4 = 0;
      sregs.efer = 0;
      regs.rbx = vm->boot_params_gpa;
    }
  else
    {
      /* Linux 64-bit boot protocol: long mode, identity-mapped, %rsi = zero page. */
      if (write_page_tables (vm, err) < 0)
        return -1;
      sregs.cr3 = LAYOUT_PML4;
      sregs.cr4 = CR4_PAE;
      sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
      sregs.efer = EFER_LME | EFER_LMA;
      regs.rsi = vm->boot_params_gpa;
      regs.rsp = regs.rbp = LAYOUT_BOOT_STACK;
    }
  if (ioctl (vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
    return arca_error_errno (err, "KVM_SET_SREGS");
  if (ioctl (vcpu->fd, KVM_SET_REGS, &regs) < 0)
    return arca_error_errno (err, "KVM_SET_REGS");
  return 0;
}
