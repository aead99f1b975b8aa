/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /dev/kvm: capabilities, the VM fd, memory slots, interrupt routing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "jail.h"
#include "util/cleanup.h"
#include "vm.h"

struct required_cap {
  int cap;
  const char *name;
};

/* Everything arca-vmm relies on; checked up front so a missing one is named
   instead of failing later with a bare EINVAL. */
static const struct required_cap required_caps[] = {
  { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
  { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
  { KVM_CAP_PIT2, "KVM_CAP_PIT2" },
  { KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
  { KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
  { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
  { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
  { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

int
kvm__create_vm (struct arca_vm *vm, arca_error **err)
{
  cleanup_close int kvm = -1;
  cleanup_close int vmfd = -1;
  struct kvm_pit_config pit = { .flags = 0 };
  int version, size;

  /* In a jail /dev/kvm is out of sight: each machine gets a duplicate of
     the descriptor the jail kept, so a failed build leaves it for the
     next one. */
  if (arca_vmm_jail_kvm_fd () >= 0)
    {
      kvm = fcntl (arca_vmm_jail_kvm_fd (), F_DUPFD_CLOEXEC, 3);
      if (kvm < 0)
        return arca_error_errno (err, "duplicate the jail's /dev/kvm descriptor");
    }
  else
    {
      kvm = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
      if (kvm < 0)
        return arca_error_errno (err, "open `/dev/kvm`");
    }
  version = ioctl (kvm, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    return arca_error_set (err, ENOTSUP, "/dev/kvm: API version %d, need %d", version,
                           KVM_API_VERSION);
  for (size_t i = 0; i < ARRAY_SIZE (required_caps); i++)
    if (ioctl (kvm, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
      return arca_error_set (err, ENOTSUP, "/dev/kvm: missing capability %s",
                             required_caps[i].name);

  size = ioctl (kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < (int) sizeof (struct kvm_run))
    return arca_error_errno (err, "KVM_GET_VCPU_MMAP_SIZE");

  vmfd = ioctl (kvm, KVM_CREATE_VM, 0);
  if (vmfd < 0)
    return arca_error_errno (err, "KVM_CREATE_VM");

  /* Intel needs three pages for the real-mode TSS and one for the identity
     map, inside guest-physical space but outside RAM: the MMIO hole. */
  if (ioctl (vmfd, KVM_SET_TSS_ADDR, (unsigned long) LAYOUT_TSS) < 0)
    return arca_error_errno (err, "KVM_SET_TSS_ADDR");
  if (ioctl (kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
    {
      uint64_t addr = LAYOUT_IDENTITY_MAP;
      if (ioctl (vmfd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
        return arca_error_errno (err, "KVM_SET_IDENTITY_MAP_ADDR");
    }
  /* PIC + IOAPIC + LAPICs in the kernel: interrupts never need a userspace
     exit, and irqfd works. */
  if (ioctl (vmfd, KVM_CREATE_IRQCHIP, 0) < 0)
    return arca_error_errno (err, "KVM_CREATE_IRQCHIP");
  if (ioctl (vmfd, KVM_CREATE_PIT2, &pit) < 0)
    return arca_error_errno (err, "KVM_CREATE_PIT2");

  vm->run_size = size;
  vm->kvm_fd = move_fd (kvm);
  vm->vm_fd = move_fd (vmfd);
  return 0;
}

static int
set_slot (struct arca_vm *vm, unsigned i, uint32_t flags, arca_error **err)
{
  const struct guest_mem_region *r = &vm->mem.regions[i];
  struct kvm_userspace_memory_region region = {
    .slot = i,
    .flags = flags,
    .guest_phys_addr = r->gpa,
    .memory_size = r->size,
    .userspace_addr = (uintptr_t) r->hva,
  };
  if (ioctl (vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return arca_error_errno (err, "KVM_SET_USER_MEMORY_REGION slot %u", i);
  return 0;
}

int
kvm__set_memory (struct arca_vm *vm, arca_error **err)
{
  for (unsigned i = 0; i < vm->mem.n_regions; i++)
    if (set_slot (vm, i, 0, err) < 0)
      return -1;
  return 0;
}

int
kvm__dirty_logging (struct arca_vm *vm, bool on, arca_error **err)
{
  for (unsigned i = 0; i < vm->mem.n_regions; i++)
    if (set_slot (vm, i, on ? KVM_MEM_LOG_DIRTY_PAGES : 0, err) < 0)
      return arca_error_wrap (err, "turn dirty-page logging %s", on ? "on" : "off");
  return 0;
}

int
kvm__get_dirty_log (struct arca_vm *vm, unsigned slot, uint64_t *bitmap, arca_error **err)
{
  struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };
  if (ioctl (vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
    return arca_error_errno (err, "KVM_GET_DIRTY_LOG slot %u", slot);
  return 0;
}

int
kvm__irq_line (struct arca_vm *vm, unsigned gsi, int level)
{
  struct kvm_irq_level irq = { .irq = gsi, .level = level };
  return ioctl (vm->vm_fd, KVM_IRQ_LINE, &irq);
}

int
kvm__ioeventfd (struct arca_vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch, int fd,
                arca_error **err)
{
  struct kvm_ioeventfd ioev = {
    .datamatch = datamatch,
    .addr = addr,
    .len = len,
    .fd = fd,
    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
  };
  if (ioctl (vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0)
    return arca_error_errno (err, "KVM_IOEVENTFD at 0x%llx", (unsigned long long) addr);
  return 0;
}

int
kvm__irqfd (struct arca_vm *vm, unsigned gsi, int fd, arca_error **err)
{
  struct kvm_irqfd irqfd = { .fd = fd, .gsi = gsi };
  if (ioctl (vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
    return arca_error_errno (err, "KVM_IRQFD gsi %u", gsi);
  return 0;
}
