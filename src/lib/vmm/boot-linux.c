/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bzImage through the Linux 64-bit boot protocol (Documentation/arch/x86/
 * boot.rst): the protected-mode part is copied to its load address and
 * entered at +0x200 in long mode, with the zero page in %rsi.  The real-mode
 * setup code never runs. */
#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "vm.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4   /* protected-mode size in 16-byte units */
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_LOADFLAGS 0x211
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_SIZE 0x264   /* the image must hold the header through init_size */

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define ENTRY_64_OFFSET 0x200

static uint32_t
get32 (const uint8_t *p)
{
  uint32_t v;
  memcpy (&v, p, sizeof (v));
  return v;
}

static uint16_t
get16 (const uint8_t *p)
{
  uint16_t v;
  memcpy (&v, p, sizeof (v));
  return v;
}

static uint64_t
get64 (const uint8_t *p)
{
  uint64_t v;
  memcpy (&v, p, sizeof (v));
  return v;
}

/* Where the protected-mode kernel goes: its preferred address when it is
   relocatable and that address is sane, else the classic 1 MiB. */
static uint64_t
load_address (const uint8_t *image, uint16_t version)
{
  uint64_t pref;
  uint32_t align;

  if (version < 0x020a || image[HDR_RELOCATABLE] == 0)
    return LAYOUT_KERNEL;
  pref = get64 (image + HDR_PREF_ADDRESS);
  align = get32 (image + HDR_KERNEL_ALIGNMENT);
  if (pref < LAYOUT_KERNEL || pref >= GUEST_MMIO_HOLE_START)
    return LAYOUT_KERNEL;
  if (align != 0 && (align & (align - 1)) == 0 && pref % align != 0)
    return LAYOUT_KERNEL;
  return pref;
}

int
boot_linux__load (struct arca_vm *vm, const uint8_t *image, size_t size, const uint8_t *initrd,
                  size_t initrd_size, arca_error **err)
{
  uint64_t load, need, initrd_gpa = 0;
  uint16_t version;
  size_t setup_size, payload_size, header_end;
  unsigned setup_sects;
  void *dst;

  if (size < HDR_MIN_SIZE || get32 (image + HDR_MAGIC) != 0x53726448 /* "HdrS" */)
    return arca_error_set (err, ENOEXEC, "not a bzImage (no `HdrS` setup header)");
  version = get16 (image + HDR_VERSION);
  if (version < 0x020c)
    return arca_error_set (err, ENOEXEC, "boot protocol %u.%02u is older than 2.12: no 64-bit entry",
                           version >> 8, version & 0xff);
  if ((get16 (image + HDR_XLOADFLAGS) & XLF_KERNEL_64) == 0)
    return arca_error_set (err, ENOEXEC, "bzImage has no 64-bit entry (XLF_KERNEL_64 unset)");
  if ((image[HDR_LOADFLAGS] & LOADED_HIGH) == 0)
    return arca_error_set (err, ENOEXEC, "zImage (not loaded high) is not supported");
  if (vm->entry_request == ARCA_VM_ENTRY_PVH)
    return arca_error_set (err, EINVAL, "a bzImage has no PVH entry");

  setup_sects = image[HDR_SETUP_SECTS] != 0 ? image[HDR_SETUP_SECTS] : 4;
  setup_size = ((size_t) setup_sects + 1) * 512;
  if (setup_size >= size)
    return arca_error_set (err, ENOEXEC, "bzImage truncated: %zu bytes, setup alone is %zu", size,
                           setup_size);
  payload_size = size - setup_size;
  /* syssize is the payload size rounded up to 16 bytes (Linux's build
     tool does not pad the file to it). */
  if (payload_size + 15 < (uint64_t) get32 (image + HDR_SYSSIZE) * 16)
    return arca_error_set (err, ENOEXEC, "bzImage truncated: %zu bytes of kernel, header says %llu",
                           payload_size, (unsigned long long) get32 (image + HDR_SYSSIZE) * 16);
  /* The header runs from 0x1f1 to the end of the jump at 0x200. */
  header_end = HDR_MAGIC + image[HDR_JUMP + 1];
  if (header_end > size || header_end > setup_size || header_end < HDR_MIN_SIZE)
    header_end = HDR_MIN_SIZE;

  load = load_address (image, version);
  need = get32 (image + HDR_INIT_SIZE);
  if (need < payload_size)
    need = payload_size;
  if (load + need > guest_mem__low_end (&vm->mem))
    return arca_error_set (err, ENOMEM, "kernel needs %llu bytes at 0x%llx, more than guest RAM",
                           (unsigned long long) need, (unsigned long long) load);
  dst = guest_mem__ptr (&vm->mem, load, payload_size);
  if (dst == NULL)
    return arca_error_set (err, ERANGE, "kernel load address 0x%llx outside guest memory",
                           (unsigned long long) load);
  memcpy (dst, image + setup_size, payload_size);

  if (boot_params__place_initrd (vm, initrd, initrd_size, get32 (image + HDR_INITRD_ADDR_MAX),
                                 load + need, &initrd_gpa, err) < 0)
    return -1;
  if (boot_params__write (vm, image + HDR_SETUP_SECTS, header_end - HDR_SETUP_SECTS, initrd_gpa,
                          initrd_size, err) < 0)
    return -1;
  vm->entry = load + ENTRY_64_OFFSET;
  vm->entry_pvh = false;
  return 0;
}
