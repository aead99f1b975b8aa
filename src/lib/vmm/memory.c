/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory.h"
#include "util/cleanup.h"

static int
check_size (uint64_t size, arca_error **err)
{
  if (size == 0 || size % 4096 != 0)
    return arca_error_set (err, EINVAL, "guest memory size %llu is not a positive multiple of 4 KiB",
                           (unsigned long long) size);
  if (size > (1ULL << 40))
    return arca_error_set (err, EINVAL, "guest memory size %llu MiB is too large",
                           (unsigned long long) (size >> 20));
  return 0;
}

/* Splits one host mapping into the RAM regions below and above the MMIO hole. */
static void
describe (struct guest_mem *mem, void *p, uint64_t size)
{
  mem->map = p;
  mem->map_size = size;
  mem->ram_size = size;
  mem->regions[0].gpa = 0;
  mem->regions[0].hva = p;
  if (size <= GUEST_MMIO_HOLE_START)
    {
      mem->regions[0].size = size;
      mem->n_regions = 1;
    }
  else
    {
      mem->regions[0].size = GUEST_MMIO_HOLE_START;
      mem->regions[1].gpa = GUEST_4G;
      mem->regions[1].size = size - GUEST_MMIO_HOLE_START;
      mem->regions[1].hva = (uint8_t *) p + GUEST_MMIO_HOLE_START;
      mem->n_regions = 2;
    }
  /* Guest RAM never belongs in a core dump of the VMM, and THP makes the
     EPT/NPT mappings cheaper where the host allows it. */
  (void) madvise (p, size, MADV_DONTDUMP);
  (void) madvise (p, size, MADV_HUGEPAGE);
}

int
guest_mem__alloc (struct guest_mem *mem, uint64_t size, arca_error **err)
{
  cleanup_close int fd = -1;
  void *p;

  memset (mem, 0, sizeof (*mem));
  mem->memfd = -1;
  if (check_size (size, err) < 0)
    return -1;
  fd = memfd_create ("arca-vm-ram", MFD_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "memfd_create for guest memory");
  if (ftruncate (fd, (off_t) size) < 0)
    return arca_error_errno (err, "size guest memory to %llu MiB", (unsigned long long) (size >> 20));
  p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED)
    return arca_error_errno (err, "mmap %llu MiB of guest memory", (unsigned long long) (size >> 20));
  describe (mem, p, size);
  mem->memfd = move_fd (fd);
  return 0;
}

int
guest_mem__map_file (struct guest_mem *mem, int fd, uint64_t size, arca_error **err)
{
  void *p;

  memset (mem, 0, sizeof (*mem));
  mem->memfd = -1;
  if (check_size (size, err) < 0)
    return -1;
  p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED)
    return arca_error_errno (err, "mmap guest memory file");
  describe (mem, p, size);
  return 0;
}

void
guest_mem__init_flat (struct guest_mem *mem, void *buf, uint64_t size)
{
  memset (mem, 0, sizeof (*mem));
  mem->memfd = -1;
  mem->regions[0].gpa = 0;
  mem->regions[0].size = size;
  mem->regions[0].hva = buf;
  mem->n_regions = 1;
  mem->ram_size = size;
}

void
guest_mem__free (struct guest_mem *mem)
{
  if (mem->map != NULL)
    munmap (mem->map, mem->map_size);
  arca_closep (&mem->memfd);
  free (mem->vmm_dirty);
  memset (mem, 0, sizeof (*mem));
  mem->memfd = -1;
}

uint64_t
guest_mem__low_end (const struct guest_mem *mem)
{
  return mem->regions[0].gpa + mem->regions[0].size;
}
