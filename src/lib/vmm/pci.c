/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI bus 0 (see pci.h).  vCPU threads reach it through the config ports
 * and the BAR window; one lock serialises the address register and every
 * function's config space.  Accesses a real chipset would drop (another
 * bus, function or slot, a width crossing the data port, an unaligned
 * address register write) are ignored and read as all ones. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"
#include "vm.h"

#define PORT_CONFIG_ADDRESS 0xcf8
#define PORT_CONFIG_DATA 0xcfc
#define ADDRESS_ENABLE 0x80000000U
#define VENDOR_REDHAT_QUMRANET 0x1b36
#define DEVICE_HOST_BRIDGE 0x0008
#define CLASS_HOST_BRIDGE 0x060000
#define COMMAND_MEMORY 0x2
#define BAR0 0x10
#define FIRST_DEVICE_GSI 16

struct pci_bus {
  struct arca_vm *vm;
  pthread_mutex_t lock;
  uint32_t address;                      /* last value written to 0xcf8 */
  struct pci_function *slots[PCI_MAX_SLOTS];
  struct pci_function host_bridge;
  uint64_t next_bar;                     /* bump allocator in the window */
};

static void
put16 (uint8_t *p, uint16_t v)
{
  memcpy (p, &v, 2);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, 4);
}

void
pci__function_init (struct pci_function *f, uint16_t vendor, uint16_t device,
                    uint32_t class_code, uint8_t revision)
{
  memset (f->config, 0, sizeof (f->config));
  memset (f->wmask, 0, sizeof (f->wmask));
  put16 (f->config + 0x00, vendor);
  put16 (f->config + 0x02, device);
  f->config[0x08] = revision;
  f->config[0x09] = (uint8_t) class_code;
  f->config[0x0a] = (uint8_t) (class_code >> 8);
  f->config[0x0b] = (uint8_t) (class_code >> 16);
  /* Command: I/O, memory, bus master, INTx disable.  Cache line size,
     latency timer and the interrupt line are scratch bytes for the OS. */
  f->wmask[0x04] = 0x07;
  f->wmask[0x05] = 0x04;
  f->wmask[0x0c] = 0xff;
  f->wmask[0x0d] = 0xff;
  f->wmask[0x3c] = 0xff;
}

static uint64_t
bar_address (const struct pci_function *f)
{
  uint32_t lo, hi;
  memcpy (&lo, f->config + BAR0, 4);
  memcpy (&hi, f->config + BAR0 + 4, 4);
  return ((uint64_t) hi << 32) | (lo & ~0xfULL);
}

static struct pci_function *
addressed (struct pci_bus *bus)
{
  uint32_t a = bus->address;
  /* Enable bit, bus 0, function 0 (every function here is single). */
  if (!(a & ADDRESS_ENABLE) || ((a >> 16) & 0xff) != 0 || ((a >> 8) & 0x7) != 0)
    return NULL;
  return bus->slots[(a >> 11) & 0x1f];
}

static void
config_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct pci_bus *bus = opaque;

  pthread_mutex_lock (&bus->lock);
  if (off == 0 && len == 4)
    memcpy (data, &bus->address, 4);
  else if (off >= 4 && off - 4 + len <= 4)
    {
      struct pci_function *f = addressed (bus);
      uint32_t reg = (bus->address & 0xfc) + (uint32_t) (off - 4);
      if (f != NULL)
        memcpy (data, f->config + reg, len);
    }
  /* Anything else keeps the bus's all-ones fill. */
  pthread_mutex_unlock (&bus->lock);
}

static void
config_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct pci_bus *bus = opaque;

  pthread_mutex_lock (&bus->lock);
  if (off == 0 && len == 4)
    memcpy (&bus->address, data, 4);
  else if (off >= 4 && off - 4 + len <= 4)
    {
      struct pci_function *f = addressed (bus);
      uint32_t reg = (bus->address & 0xfc) + (uint32_t) (off - 4);
      if (f != NULL)
        for (uint32_t i = 0; i < len; i++)
          f->config[reg + i] = (uint8_t) ((f->config[reg + i] & ~f->wmask[reg + i])
                                          | (data[i] & f->wmask[reg + i]));
    }
  pthread_mutex_unlock (&bus->lock);
}

static const struct vm_bus_ops config_ops = { .read = config_read, .write = config_write };

/* The function whose BAR holds the window address addr, and the offset in
   it; NULL when none decodes it (memory space off, or no BAR there). */
static struct pci_function *
bar_lookup (struct pci_bus *bus, uint64_t addr, uint32_t len, uint64_t *ret_off)
{
  struct pci_function *found = NULL;

  pthread_mutex_lock (&bus->lock);
  for (unsigned s = 0; s < PCI_MAX_SLOTS && found == NULL; s++)
    {
      struct pci_function *f = bus->slots[s];
      uint64_t base;
      if (f == NULL || f->bar_size == 0 || !(f->config[0x04] & COMMAND_MEMORY))
        continue;
      base = bar_address (f);
      if (addr >= base && addr - base < f->bar_size && len <= f->bar_size - (addr - base))
        {
          found = f;
          *ret_off = addr - base;
        }
    }
  pthread_mutex_unlock (&bus->lock);
  return found;
}

static void
window_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  uint64_t in_bar;
  struct pci_function *f = bar_lookup (opaque, LAYOUT_PCI_MMIO + off, len, &in_bar);
  if (f != NULL)
    f->bar_ops->read (f->opaque, in_bar, data, len);
}

static void
window_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  uint64_t in_bar;
  struct pci_function *f = bar_lookup (opaque, LAYOUT_PCI_MMIO + off, len, &in_bar);
  if (f != NULL)
    f->bar_ops->write (f->opaque, in_bar, data, len);
}

static const struct vm_bus_ops window_ops = { .read = window_read, .write = window_write };

static void
bus_free (void *opaque)
{
  struct pci_bus *bus = opaque;
  pthread_mutex_destroy (&bus->lock);
  free (bus);
}

int
pci__init (struct arca_vm *vm, arca_error **err)
{
  struct pci_bus *bus = calloc (1, sizeof (*bus));

  if (bus == NULL)
    return arca_error_errno (err, "allocate the PCI bus");
  bus->vm = vm;
  pthread_mutex_init (&bus->lock, NULL);
  bus->next_bar = LAYOUT_PCI_MMIO;
  pci__function_init (&bus->host_bridge, VENDOR_REDHAT_QUMRANET, DEVICE_HOST_BRIDGE,
                      CLASS_HOST_BRIDGE, 0);
  bus->slots[0] = &bus->host_bridge;
  if (vm__add_device (vm, bus_free, bus, err) < 0)
    {
      bus_free (bus);
      return -1;
    }
  vm->pci = bus;
  if (vm_bus__register (&vm->pio, PORT_CONFIG_ADDRESS, 8, "pci-config", &config_ops, bus, err) < 0
      || vm_bus__register (&vm->mmio, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE, "pci-window",
                           &window_ops, bus, err) < 0)
    return -1;
  return 0;
}

int
pci__add_function (struct arca_vm *vm, struct pci_function *f, uint64_t bar_size,
                   uint64_t *ret_bar, arca_error **err)
{
  struct pci_bus *bus = vm->pci;
  unsigned slot = 1;
  uint64_t base, mask;

  if (bus == NULL)
    return arca_error_set (err, ENODEV, "no PCI bus on this machine");
  while (slot < PCI_MAX_SLOTS && bus->slots[slot] != NULL)
    slot++;
  if (slot > LAYOUT_PCI_MAX_DEVICES)
    return arca_error_set (err, ENOSPC, "no PCI slot left (at most %d devices)",
                           LAYOUT_PCI_MAX_DEVICES);
  if (bar_size < 4096 || (bar_size & (bar_size - 1)) != 0)
    return arca_error_set (err, EINVAL, "PCI BAR size %llu", (unsigned long long) bar_size);
  base = (bus->next_bar + bar_size - 1) & ~(bar_size - 1);
  if (base + bar_size > LAYOUT_PCI_MMIO + LAYOUT_PCI_MMIO_SIZE)
    return arca_error_set (err, ENOSPC, "PCI window full");
  bus->next_bar = base + bar_size;

  /* BAR0/1: 64-bit memory BAR; writable address bits only above the size,
     so writing all ones reads back the size mask. */
  mask = ~(bar_size - 1);
  f->bar_size = bar_size;
  put32 (f->config + BAR0, (uint32_t) base | 0x4);
  put32 (f->config + BAR0 + 4, (uint32_t) (base >> 32));
  put32 (f->wmask + BAR0, (uint32_t) mask & ~0xfU);
  put32 (f->wmask + BAR0 + 4, (uint32_t) (mask >> 32));
  f->config[0x3c] = (uint8_t) pci__slot_gsi (slot);
  f->config[0x3d] = 1;                          /* INTA# */
  f->slot = slot;
  pthread_mutex_lock (&bus->lock);
  bus->slots[slot] = f;
  pthread_mutex_unlock (&bus->lock);
  *ret_bar = base;
  return 0;
}

unsigned
pci__slot_gsi (unsigned slot)
{
  return FIRST_DEVICE_GSI + slot - 1;
}

unsigned
pci__slots (struct arca_vm *vm, unsigned *slots, unsigned max)
{
  unsigned n = 0;
  if (vm->pci == NULL)
    return 0;
  for (unsigned s = 1; s < PCI_MAX_SLOTS && n < max; s++)
    if (vm->pci->slots[s] != NULL)
      slots[n++] = s;
  return n;
}

void
pci__function_save (struct pci_function *f, json_t *o)
{
  uint32_t bar_lo, bar_hi;
  memcpy (&bar_lo, f->config + BAR0, 4);
  memcpy (&bar_hi, f->config + BAR0 + 4, 4);
  json_object_set_new (o, "pci", json_pack ("{s:i, s:I, s:I, s:i, s:i, s:i}",
                                            "command", f->config[0x04] | f->config[0x05] << 8,
                                            "bar0", (json_int_t) bar_lo, "bar1",
                                            (json_int_t) bar_hi, "cache_line", f->config[0x0c],
                                            "latency", f->config[0x0d], "irq_line",
                                            f->config[0x3c]));
}

int
pci__function_restore (struct pci_function *f, json_t *o, const char **why)
{
  json_t *p = json_object_get (o, "pci");
  static const struct { const char *name; unsigned off, len; } fields[] = {
    { "command", 0x04, 2 }, { "bar0", 0x10, 4 }, { "bar1", 0x14, 4 },
    { "cache_line", 0x0c, 1 }, { "latency", 0x0d, 1 }, { "irq_line", 0x3c, 1 },
  };

  if (!json_is_object (p))
    return *why = "pci: no config state", -1;
  /* Through the write masks, as a guest write: a forged snapshot cannot
     change what the guest could not. */
  for (size_t i = 0; i < sizeof (fields) / sizeof (fields[0]); i++)
    {
      uint64_t v = (uint64_t) json_integer_value (json_object_get (p, fields[i].name));
      for (unsigned b = 0; b < fields[i].len; b++)
        {
          unsigned off = fields[i].off + b;
          f->config[off] = (uint8_t) ((f->config[off] & ~f->wmask[off])
                                      | ((v >> (8 * b)) & f->wmask[off]));
        }
    }
  return 0;
}
