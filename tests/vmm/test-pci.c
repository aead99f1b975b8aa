/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of PCI bus 0 (src/lib/vmm/pci.c) through the port and MMIO
 * buses, as a guest reaches it: the host bridge and a function are found
 * by configuration mechanism #1, a BAR sizes and routes accesses, and a
 * long run of random config-port accesses (any offset, width, value)
 * changes nothing a guest may not change.  No /dev/kvm needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/pci.h"
#include "vmm/vm.h"

struct fixture {
  struct arca_vm *vm;
  struct pci_function fn;
  uint64_t bar;
  unsigned reads, writes;
  uint64_t last_off;
};

static void
bar_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct fixture *f = opaque;
  f->reads++;
  f->last_off = off;
  memset (data, 0x42, len);
}

static void
bar_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct fixture *f = opaque;
  f->writes++;
  f->last_off = off;
}

static const struct vm_bus_ops ops = { .read = bar_read, .write = bar_write };

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  arca_error *err = NULL;

  f->vm = calloc (1, sizeof (*f->vm));
  f->vm->pio.name = "pio";
  f->vm->mmio.name = "mmio";
  assert_int_equal (pci__init (f->vm, &err), 0);
  pci__function_init (&f->fn, 0x1af4, 0x1042, 0x018000, 1);
  f->fn.config[0x06] = 0x10;
  f->fn.config[0x34] = 0x40;
  f->fn.config[0x40] = 0x09;
  f->fn.bar_ops = &ops;
  f->fn.opaque = f;
  assert_int_equal (pci__add_function (f->vm, &f->fn, 0x4000, &f->bar, &err), 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  for (unsigned i = f->vm->n_devices; i > 0; i--)
    f->vm->devices[i - 1].free (f->vm->devices[i - 1].opaque);
  free (f->vm);
  free (f);
  return 0;
}

static uint32_t
cfg_read (struct fixture *f, unsigned bus, unsigned slot, unsigned reg)
{
  uint32_t a = 0x80000000U | bus << 16 | slot << 11 | reg, v = 0xffffffff;
  vm_bus__write (&f->vm->pio, 0xcf8, (uint8_t *) &a, 4);
  vm_bus__read (&f->vm->pio, 0xcfc, (uint8_t *) &v, 4);
  return v;
}

static void
cfg_write (struct fixture *f, unsigned slot, unsigned reg, uint32_t v)
{
  uint32_t a = 0x80000000U | slot << 11 | reg;
  vm_bus__write (&f->vm->pio, 0xcf8, (uint8_t *) &a, 4);
  vm_bus__write (&f->vm->pio, 0xcfc, (uint8_t *) &v, 4);
}

static void
test_enumerate (void **state)
{
  struct fixture *f = *state;
  uint16_t w = 0;
  uint32_t a = 0x80000000U | 1 << 11 | 0x00;

  assert_int_equal (cfg_read (f, 0, 0, 0x08) >> 8, 0x060000);     /* host bridge */
  assert_int_equal (cfg_read (f, 0, 1, 0x00), 0x10421af4);
  assert_int_equal (cfg_read (f, 0, 1, 0x3c) & 0xffff, 0x0110);   /* pin A, IRQ 16 */
  assert_int_equal (cfg_read (f, 0, 2, 0x00), 0xffffffff);        /* empty slot */
  assert_int_equal (cfg_read (f, 1, 1, 0x00), 0xffffffff);        /* other bus */
  assert_int_equal (f->bar, LAYOUT_PCI_MMIO);
  /* A 2-byte read of the device id at 0xcfe. */
  vm_bus__write (&f->vm->pio, 0xcf8, (uint8_t *) &a, 4);
  vm_bus__read (&f->vm->pio, 0xcfe, (uint8_t *) &w, 2);
  assert_int_equal (w, 0x1042);
}

static void
test_bar_sizing_and_routing (void **state)
{
  struct fixture *f = *state;
  uint32_t v = 0;

  cfg_write (f, 1, 0x10, 0xffffffff);
  cfg_write (f, 1, 0x14, 0xffffffff);
  assert_int_equal (cfg_read (f, 0, 1, 0x10), 0xffffc004);         /* 16 KiB, 64-bit */
  assert_int_equal (cfg_read (f, 0, 1, 0x14), 0xffffffff);
  cfg_write (f, 1, 0x10, (uint32_t) f->bar);
  cfg_write (f, 1, 0x14, 0);
  assert_int_equal (cfg_read (f, 0, 1, 0x10), (uint32_t) f->bar | 4);

  /* Memory space off: the BAR decodes nothing. */
  assert_false (vm_bus__read (&f->vm->mmio, f->bar + 0x10, (uint8_t *) &v, 4) && f->reads > 0);
  assert_int_equal (f->reads, 0);
  cfg_write (f, 1, 0x04, 0x6);
  vm_bus__read (&f->vm->mmio, f->bar + 0x2010, (uint8_t *) &v, 4);
  assert_int_equal (f->reads, 1);
  assert_int_equal (f->last_off, 0x2010);
  assert_int_equal (v, 0x42424242);
  /* An access crossing the BAR's end is not the device's. */
  uint64_t wide = 0;
  vm_bus__read (&f->vm->mmio, f->bar + 0x3ffc, (uint8_t *) &wide, 8);
  assert_int_equal (f->reads, 1);
  /* Moved inside the window, the BAR follows. */
  cfg_write (f, 1, 0x10, (uint32_t) f->bar + 0x100000);
  vm_bus__write (&f->vm->mmio, f->bar + 0x100000 + 4, (uint8_t *) &v, 4);
  assert_int_equal (f->writes, 1);
  assert_int_equal (f->last_off, 4);
}

static void
test_garbage (void **state)
{
  struct fixture *f = *state;
  uint8_t before[PCI_CONFIG_SIZE];
  uint8_t host_before[PCI_CONFIG_SIZE];
  static const uint32_t lens[] = { 1, 2, 3, 4, 8 };

  memcpy (before, f->fn.config, sizeof (before));
  for (unsigned i = 0; i < PCI_CONFIG_SIZE; i += 4)
    host_before[i] = (uint8_t) cfg_read (f, 0, 0, i);
  srand (7);
  for (unsigned i = 0; i < 200000; i++)
    {
      uint8_t data[8];
      uint32_t len = lens[rand () % 5];
      uint64_t port = 0xcf8 + (unsigned) (rand () % 8);
      for (unsigned b = 0; b < 8; b++)
        data[b] = (uint8_t) rand ();
      /* Mostly aimed at slot 1 so the writes land somewhere. */
      if (port == 0xcf8 && len == 4 && rand () % 4 != 0)
        {
          uint32_t a = 0x80000000U | 1 << 11 | (data[0] & 0xfc);
          memcpy (data, &a, 4);
        }
      if (rand () % 2)
        vm_bus__write (&f->vm->pio, port, data, len > 4 ? 4 : len);
      else
        vm_bus__read (&f->vm->pio, port, data, len > 4 ? 4 : len);
    }
  /* Only bits the write mask allows may have changed. */
  for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++)
    assert_int_equal (f->fn.config[i] & ~f->fn.wmask[i], before[i] & ~f->fn.wmask[i]);
  assert_int_equal (f->fn.config[0x10] & 0xf, 0x4);
  assert_int_equal (cfg_read (f, 0, 1, 0), 0x10421af4);
  for (unsigned i = 0; i < 0x0c; i += 4)
    if (i != 4)
      assert_int_equal ((uint8_t) cfg_read (f, 0, 0, i), host_before[i]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_enumerate, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bar_sizing_and_routing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_garbage, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
