/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Linux zero page (struct boot_params, Documentation/arch/x86/boot.rst
 * and zero-page.rst): memory map, command line and initrd location.  Written
 * by offset so the VMM does not depend on kernel-internal headers. */
#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "guest-bytes.h"
#include "vm.h"

/* Offsets into struct boot_params. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_HEADER 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 4096

#define E820_RAM 1
#define E820_RESERVED 2

/* The BIOS area [0x9fc00, 0x100000) is reserved as on a PC: Linux scans it
   for MP tables and never allocates from it. */
#define EBDA_START 0x9fc00ULL
#define HIMEM_START 0x100000ULL

unsigned
boot_params__memory_map (struct arca_vm *vm, struct vm_e820_entry *out, unsigned max)
{
  unsigned n = 0;
  uint64_t low_end = guest_mem__low_end (&vm->mem);

  if (max < 4)
    return 0;
  out[n++] = (struct vm_e820_entry){ 0, EBDA_START, E820_RAM };
  out[n++] = (struct vm_e820_entry){ EBDA_START, HIMEM_START - EBDA_START, E820_RESERVED };
  out[n++] = (struct vm_e820_entry){ HIMEM_START, low_end - HIMEM_START, E820_RAM };
  if (vm->mem.n_regions > 1)
    out[n++] = (struct vm_e820_entry){ vm->mem.regions[1].gpa, vm->mem.regions[1].size, E820_RAM };
  return n;
}

int
boot_params__place_initrd (struct arca_vm *vm, const uint8_t *initrd, size_t size,
                           uint64_t max_addr, uint64_t kernel_end, uint64_t *ret_gpa,
                           arca_error **err)
{
  uint64_t top = guest_mem__low_end (&vm->mem);
  uint64_t gpa;
  void *dst;

  if (size == 0)
    {
      *ret_gpa = 0;
      return 0;
    }
  /* As high as allowed, page-aligned, so the kernel's own decompression
     area below it stays free. */
  if (max_addr != 0 && max_addr + 1 < top)
    top = max_addr + 1;
  if (size > top || (top - size) / 4096 * 4096 < kernel_end)
    return arca_error_set (err, ENOMEM, "initrd (%zu bytes) does not fit below 0x%llx", size,
                           (unsigned long long) top);
  gpa = (top - size) / 4096 * 4096;
  dst = guest_mem__ptr (&vm->mem, gpa, size);
  if (dst == NULL)
    return arca_error_set (err, ERANGE, "initrd at 0x%llx outside guest memory",
                           (unsigned long long) gpa);
  memcpy (dst, initrd, size);
  *ret_gpa = gpa;
  return 0;
}

int
boot_params__write_cmdline (struct arca_vm *vm, uint64_t max_size, arca_error **err)
{
  size_t len = strlen (vm->cmdline);
  char *dst;

  if (max_size != 0 && len + 1 > max_size)
    return arca_error_set (err, E2BIG, "command line (%zu bytes) longer than the kernel's %llu",
                           len, (unsigned long long) max_size - 1);
  dst = guest_mem__ptr (&vm->mem, LAYOUT_CMDLINE, len + 1);
  if (dst == NULL)
    return arca_error_set (err, ERANGE, "command line outside guest memory");
  memcpy (dst, vm->cmdline, len + 1);
  return 0;
}

int
boot_params__write (struct arca_vm *vm, const uint8_t *setup_header, size_t header_len,
                    uint64_t initrd_gpa, uint64_t initrd_size, arca_error **err)
{
  uint8_t *bp = guest_mem__ptr (&vm->mem, LAYOUT_BOOT_PARAMS, BP_SIZE);
  struct vm_e820_entry map[BP_E820_MAX];
  uint32_t cmdline_size = 0;
  unsigned n;

  if (bp == NULL)
    return arca_error_set (err, ERANGE, "zero page outside guest memory");
  if (header_len > BP_SIZE - BP_SETUP_HEADER)
    return arca_error_set (err, EINVAL, "setup header of %zu bytes is too long", header_len);
  memset (bp, 0, BP_SIZE);
  if (setup_header != NULL)
    memcpy (bp + BP_SETUP_HEADER, setup_header, header_len);
  else
    {
      /* An ELF kernel has no setup header: write the fields a kernel
         checks to know it was booted through the protocol. */
      put16 (bp + BP_BOOT_FLAG, 0xaa55);
      put32 (bp + BP_HEADER, 0x53726448);   /* "HdrS" */
      put16 (bp + BP_VERSION, 0x020f);
    }
  if (setup_header != NULL && header_len >= BP_CMDLINE_SIZE + 4 - BP_SETUP_HEADER)
    memcpy (&cmdline_size, bp + BP_CMDLINE_SIZE, sizeof (cmdline_size));
  if (boot_params__write_cmdline (vm, cmdline_size, err) < 0)
    return -1;

  bp[BP_TYPE_OF_LOADER] = 0xff;   /* "undefined" boot loader */
  put32 (bp + BP_CMD_LINE_PTR, (uint32_t) LAYOUT_CMDLINE);
  put32 (bp + BP_EXT_CMD_LINE_PTR, 0);
  put32 (bp + BP_RAMDISK_IMAGE, (uint32_t) initrd_gpa);
  put32 (bp + BP_EXT_RAMDISK_IMAGE, (uint32_t) (initrd_gpa >> 32));
  put32 (bp + BP_RAMDISK_SIZE, (uint32_t) initrd_size);
  put32 (bp + BP_EXT_RAMDISK_SIZE, (uint32_t) (initrd_size >> 32));

  n = boot_params__memory_map (vm, map, BP_E820_MAX);
  bp[BP_E820_ENTRIES] = (uint8_t) n;
  for (unsigned i = 0; i < n; i++)
    {
      uint8_t *e = bp + BP_E820_TABLE + i * 20;
      put64 (e, map[i].addr);
      put64 (e + 8, map[i].size);
      put32 (e + 16, map[i].type);
    }
  vm->boot_params_gpa = LAYOUT_BOOT_PARAMS;
  return 0;
}
