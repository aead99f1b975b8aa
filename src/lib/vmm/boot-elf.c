/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ELF kernels: vmlinux or a "unikernel".  PT_LOAD segments are copied to
 * their physical addresses; the kernel is entered through its PVH note
 * (XEN_ELFNOTE_PHYS32_ENTRY, 32-bit protected mode) when it has one, else at
 * e_entry in 64-bit mode with a zero page, as Firecracker boots vmlinux.
 * Every header field is checked against the file size before use. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define BOOT_AREA_END 0x100000ULL   /* zero page, page tables, cmdline live below */
#define MAX_PHDRS 64

static bool
range_ok (uint64_t off, uint64_t len, uint64_t size)
{
  return off <= size && len <= size - off;
}

/* Looks for the PVH entry in one PT_NOTE segment. */
static bool
find_pvh_note (const uint8_t *notes, uint64_t len, uint64_t *ret_entry)
{
  uint64_t off = 0;

  while (len - off >= sizeof (Elf64_Nhdr))
    {
      Elf64_Nhdr nh;
      uint64_t name_off, desc_off, next;

      memcpy (&nh, notes + off, sizeof (nh));
      name_off = off + sizeof (nh);
      desc_off = name_off + (((uint64_t) nh.n_namesz + 3) & ~3ULL);
      next = desc_off + (((uint64_t) nh.n_descsz + 3) & ~3ULL);
      if (desc_off > len || next > len || nh.n_descsz > len)
        return false;
      if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4
          && memcmp (notes + name_off, "Xen", 4) == 0 && nh.n_descsz >= 4)
        {
          uint32_t entry;
          memcpy (&entry, notes + desc_off, sizeof (entry));
          *ret_entry = entry;
          return true;
        }
      off = next;
    }
  return false;
}

int
boot_elf__load (struct arca_vm *vm, const uint8_t *image, size_t size, const uint8_t *initrd,
                size_t initrd_size, arca_error **err)
{
  Elf64_Ehdr eh;
  uint64_t kernel_end = 0, pvh_entry = 0, initrd_gpa = 0;
  bool has_pvh = false;
  unsigned n_load = 0;

  if (size < sizeof (eh) || memcmp (image, ELFMAG, SELFMAG) != 0)
    return arca_error_set (err, ENOEXEC, "not an ELF file");
  memcpy (&eh, image, sizeof (eh));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return arca_error_set (err, ENOEXEC, "ELF is not 64-bit little-endian");
  if (eh.e_machine != EM_X86_64)
    return arca_error_set (err, ENOEXEC, "ELF machine %u is not x86-64", eh.e_machine);
  if (eh.e_type != ET_EXEC)
    return arca_error_set (err, ENOEXEC, "ELF type %u is not an executable", eh.e_type);
  if (eh.e_phentsize != sizeof (Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > MAX_PHDRS
      || !range_ok (eh.e_phoff, (uint64_t) eh.e_phnum * sizeof (Elf64_Phdr), size))
    return arca_error_set (err, ENOEXEC, "ELF program headers are malformed");

  for (unsigned i = 0; i < eh.e_phnum; i++)
    {
      Elf64_Phdr ph;
      uint8_t *dst;

      memcpy (&ph, image + eh.e_phoff + i * sizeof (ph), sizeof (ph));
      if (ph.p_type == PT_NOTE && range_ok (ph.p_offset, ph.p_filesz, size) && !has_pvh)
        has_pvh = find_pvh_note (image + ph.p_offset, ph.p_filesz, &pvh_entry);
      if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
        continue;
      if (!range_ok (ph.p_offset, ph.p_filesz, size) || ph.p_filesz > ph.p_memsz)
        return arca_error_set (err, ENOEXEC, "ELF segment %u lies outside the file", i);
      if (ph.p_paddr < BOOT_AREA_END)
        return arca_error_set (err, EINVAL, "ELF segment %u at 0x%llx overlaps the boot area below 1 MiB",
                               i, (unsigned long long) ph.p_paddr);
      dst = guest_mem__ptr (&vm->mem, ph.p_paddr, ph.p_memsz);
      if (dst == NULL)
        return arca_error_set (err, ENOMEM, "ELF segment %u [0x%llx, +0x%llx) is outside guest RAM", i,
                               (unsigned long long) ph.p_paddr, (unsigned long long) ph.p_memsz);
      memcpy (dst, image + ph.p_offset, ph.p_filesz);
      memset (dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
      if (ph.p_paddr + ph.p_memsz > kernel_end)
        kernel_end = ph.p_paddr + ph.p_memsz;
      n_load++;
    }
  if (n_load == 0)
    return arca_error_set (err, ENOEXEC, "ELF has no loadable segment");

  if (boot_params__place_initrd (vm, initrd, initrd_size, 0, (kernel_end + 4095) & ~4095ULL,
                                 &initrd_gpa, err) < 0)
    return -1;

  if (vm->entry_request == ARCA_VM_ENTRY_PVH && !has_pvh)
    return arca_error_set (err, EINVAL, "ELF has no PVH entry note");
  if (has_pvh && vm->entry_request != ARCA_VM_ENTRY_LINUX64)
    {
      if (boot_pvh__write (vm, initrd_gpa, initrd_size, err) < 0)
        return -1;
      vm->entry = pvh_entry;
      vm->entry_pvh = true;
      return 0;
    }
  if (boot_params__write (vm, NULL, 0, initrd_gpa, initrd_size, err) < 0)
    return -1;
  vm->entry = eh.e_entry;
  vm->entry_pvh = false;
  return 0;
}
