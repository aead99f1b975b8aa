/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "bus.h"

int
vm_bus__register (struct vm_bus *bus, uint64_t base, uint64_t len, const char *name,
                  const struct vm_bus_ops *ops, void *opaque, arca_error **err)
{
  unsigned i;

  if (len == 0 || base + len < base)
    return arca_error_set (err, EINVAL, "%s bus: bad range for `%s`", bus->name, name);
  if (bus->n == VM_BUS_MAX_RANGES)
    return arca_error_set (err, ENOSPC, "%s bus: no room for `%s`", bus->name, name);
  for (i = 0; i < bus->n; i++)
    {
      const struct vm_bus_range *r = &bus->ranges[i];
      if (base < r->base + r->len && r->base < base + len)
        return arca_error_set (err, EEXIST, "%s bus: `%s` at 0x%llx overlaps `%s`", bus->name,
                               name, (unsigned long long) base, r->name);
    }
  /* Keep the array sorted so lookups can bisect. */
  for (i = bus->n; i > 0 && bus->ranges[i - 1].base > base; i--)
    bus->ranges[i] = bus->ranges[i - 1];
  bus->ranges[i] = (struct vm_bus_range){ .base = base, .len = len, .ops = ops,
                                          .opaque = opaque, .name = name };
  bus->n++;
  return 0;
}

static const struct vm_bus_range *
lookup (const struct vm_bus *bus, uint64_t addr, uint32_t len)
{
  unsigned lo = 0, hi = bus->n;

  while (lo < hi)
    {
      unsigned mid = lo + (hi - lo) / 2;
      const struct vm_bus_range *r = &bus->ranges[mid];
      if (addr < r->base)
        hi = mid;
      else if (addr - r->base >= r->len)
        lo = mid + 1;
      else
        /* An access that straddles the end of a range is not the device's. */
        return len <= r->len - (addr - r->base) ? r : NULL;
    }
  return NULL;
}

bool
vm_bus__read (const struct vm_bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
  const struct vm_bus_range *r = lookup (bus, addr, len);

  memset (data, 0xff, len);
  if (r == NULL || r->ops->read == NULL)
    return r != NULL;
  r->ops->read (r->opaque, addr - r->base, data, len);
  return true;
}

bool
vm_bus__write (const struct vm_bus *bus, uint64_t addr, const uint8_t *data, uint32_t len)
{
  const struct vm_bus_range *r = lookup (bus, addr, len);

  if (r == NULL || r->ops->write == NULL)
    return r != NULL;
  r->ops->write (r->opaque, addr - r->base, data, len);
  return true;
}
