/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h, version 1):
 * struct hvm_start_info in %ebx, with the command line, modules (initrd) and
 * memory map it points to.  Written by offset. */
#include <errno.h>
#include <string.h>

#include "vm.h"

#define START_INFO_MAGIC 0x336ec578U
#define START_INFO_SIZE 56          /* version 1 */
#define MODLIST_OFFSET 64           /* one hvm_modlist_entry (32 bytes) */
#define MEMMAP_OFFSET 128           /* hvm_memmap_table_entry[] (24 bytes each) */
#define MEMMAP_MAX 16

static void
put32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, sizeof (v));
}

static void
put64 (uint8_t *p, uint64_t v)
{
  memcpy (p, &v, sizeof (v));
}

int
boot_pvh__write (struct arca_vm *vm, uint64_t initrd_gpa, uint64_t initrd_size, arca_error **err)
{
  size_t area = MEMMAP_OFFSET + MEMMAP_MAX * 24;
  uint8_t *si = guest_mem__ptr (&vm->mem, LAYOUT_PVH_START_INFO, area);
  struct vm_e820_entry map[MEMMAP_MAX];
  unsigned n;

  if (si == NULL)
    return arca_error_set (err, ERANGE, "PVH start info outside guest memory");
  if (boot_params__write_cmdline (vm, 0, err) < 0)
    return -1;
  memset (si, 0, area);
  put32 (si + 0, START_INFO_MAGIC);
  put32 (si + 4, 1);                                  /* version */
  put32 (si + 8, 0);                                  /* flags */
  put64 (si + 24, LAYOUT_CMDLINE);                    /* cmdline_paddr */
  if (initrd_size > 0)
    {
      uint8_t *mod = si + MODLIST_OFFSET;
      put32 (si + 12, 1);                             /* nr_modules */
      put64 (si + 16, LAYOUT_PVH_START_INFO + MODLIST_OFFSET);
      put64 (mod + 0, initrd_gpa);
      put64 (mod + 8, initrd_size);
    }
  n = boot_params__memory_map (vm, map, MEMMAP_MAX);
  put64 (si + 40, LAYOUT_PVH_START_INFO + MEMMAP_OFFSET); /* memmap_paddr */
  put32 (si + 48, n);                                 /* memmap_entries */
  for (unsigned i = 0; i < n; i++)
    {
      uint8_t *e = si + MEMMAP_OFFSET + i * 24;
      put64 (e, map[i].addr);
      put64 (e + 8, map[i].size);
      put32 (e + 16, map[i].type);
    }
  vm->boot_params_gpa = LAYOUT_PVH_START_INFO;
  return 0;
}
