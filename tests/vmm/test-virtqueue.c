/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the virtqueue parser against a flat fake guest memory:
 * good chains, and every malformed shape a hostile driver can build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/virtqueue.h"

#define MEM 65536
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QSIZE 8

struct fixture {
  uint8_t *ram;
  struct guest_mem mem;
  struct virtq vq;
  struct virtq_chain chain;
};

struct desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  f->ram = calloc (1, MEM);
  guest_mem__init_flat (&f->mem, f->ram, MEM);
  f->vq = (struct virtq){ .size = QSIZE, .desc_gpa = DESC, .avail_gpa = AVAIL, .used_gpa = USED,
                          .ready = true };
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  free (f->ram);
  free (f);
  return 0;
}

static void
set_desc (struct fixture *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
  struct desc d = { addr, len, flags, next };
  memcpy (f->ram + DESC + 16 * i, &d, sizeof (d));
}

static void
publish (struct fixture *f, uint16_t head)
{
  uint16_t idx;
  memcpy (&idx, f->ram + AVAIL + 2, 2);
  memcpy (f->ram + AVAIL + 4 + 2 * (idx % QSIZE), &head, 2);
  idx++;
  memcpy (f->ram + AVAIL + 2, &idx, 2);
}

static void
good_chain (void **state)
{
  struct fixture *f = *state;
  const char *why = NULL;
  uint16_t used_idx;
  uint32_t elem[2];

  set_desc (f, 0, 0x5000, 16, VIRTQ_DESC_F_NEXT, 3);
  set_desc (f, 3, 0x6000, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
  set_desc (f, 5, 0x7000, 1, VIRTQ_DESC_F_WRITE, 0);
  publish (f, 0);
  assert_int_equal (virtq__validate (&f->mem, &f->vq, &why), 0);
  assert_int_equal (virtq__pop (&f->mem, &f->vq, &f->chain, &why), 1);
  assert_int_equal (f->chain.head, 0);
  assert_int_equal (f->chain.n_in, 1);
  assert_int_equal (f->chain.n_out, 2);
  assert_int_equal (f->chain.in_len, 16);
  assert_int_equal (f->chain.out_len, 101);
  assert_ptr_equal (f->chain.out[0].iov_base, f->ram + 0x6000);
  /* Ring now empty. */
  assert_int_equal (virtq__pop (&f->mem, &f->vq, &f->chain, &why), 0);
  assert_int_equal (virtq__write (&f->chain, 99, "xy", 2), 2);
  assert_int_equal (f->ram[0x6000 + 99], 'x');
  assert_int_equal (f->ram[0x7000], 'y');
  assert_int_equal (virtq__push (&f->mem, &f->vq, 0, 101, &why), 0);
  memcpy (&used_idx, f->ram + USED + 2, 2);
  memcpy (elem, f->ram + USED + 4, 8);
  assert_int_equal (used_idx, 1);
  assert_int_equal (elem[0], 0);
  assert_int_equal (elem[1], 101);
}

static void
expect_error (struct fixture *f, const char *what)
{
  const char *why = NULL;
  assert_int_equal (virtq__pop (&f->mem, &f->vq, &f->chain, &why), -1);
  assert_non_null (why);
  assert_non_null (strstr (why, what));
}

static void
buffer_outside_ram (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 0, MEM - 8, 16, 0, 0);   /* straddles the end */
  publish (f, 0);
  expect_error (f, "outside guest RAM");
}

static void
buffer_address_overflow (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 0, UINT64_MAX - 4, 16, 0, 0);
  publish (f, 0);
  expect_error (f, "outside guest RAM");
}

static void
chain_loop (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 0, 0x5000, 8, VIRTQ_DESC_F_NEXT, 1);
  set_desc (f, 1, 0x5000, 8, VIRTQ_DESC_F_NEXT, 0);
  publish (f, 0);
  expect_error (f, "loops");
}

static void
self_loop (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 2, 0x5000, 8, VIRTQ_DESC_F_NEXT, 2);
  publish (f, 2);
  expect_error (f, "loops");
}

static void
next_out_of_range (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 0, 0x5000, 8, VIRTQ_DESC_F_NEXT, QSIZE);
  publish (f, 0);
  expect_error (f, "next descriptor out of range");
}

static void
head_out_of_range (void **state)
{
  struct fixture *f = *state;
  publish (f, 200);
  expect_error (f, "head out of range");
}

static void
avail_index_runs_ahead (void **state)
{
  struct fixture *f = *state;
  uint16_t idx = QSIZE + 1;
  memcpy (f->ram + AVAIL + 2, &idx, 2);
  expect_error (f, "ran ahead");
}

static void
readable_after_writable (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 0, 0x5000, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  set_desc (f, 1, 0x6000, 8, 0, 0);
  publish (f, 0);
  expect_error (f, "readable descriptor after a writable");
}

static void
indirect_refused (void **state)
{
  struct fixture *f = *state;
  set_desc (f, 0, 0x5000, 16, VIRTQ_DESC_F_INDIRECT, 0);
  publish (f, 0);
  expect_error (f, "indirect");
}

static void
bad_ring_placement (void **state)
{
  struct fixture *f = *state;
  const char *why = NULL;

  f->vq.used_gpa = MEM - 16;
  assert_int_equal (virtq__validate (&f->mem, &f->vq, &why), -1);
  f->vq.used_gpa = USED + 1;
  assert_int_equal (virtq__validate (&f->mem, &f->vq, &why), -1);
  f->vq.used_gpa = USED;
  f->vq.size = 6;
  assert_int_equal (virtq__validate (&f->mem, &f->vq, &why), -1);
  f->vq.size = 512;
  assert_int_equal (virtq__validate (&f->mem, &f->vq, &why), -1);
}

static void
index_wraps (void **state)
{
  struct fixture *f = *state;
  const char *why = NULL;
  uint16_t idx = 0;

  /* Indices are free-running 16-bit counters: 65535 -> 0 is normal. */
  f->vq.last_avail = 65535;
  f->vq.used_idx = 65535;
  idx = 65535;
  memcpy (f->ram + AVAIL + 2, &idx, 2);
  set_desc (f, 1, 0x5000, 8, 0, 0);
  publish (f, 1);
  assert_int_equal (virtq__pop (&f->mem, &f->vq, &f->chain, &why), 1);
  assert_int_equal (f->vq.last_avail, 0);
  assert_int_equal (virtq__push (&f->mem, &f->vq, 1, 0, &why), 0);
  memcpy (&idx, f->ram + USED + 2, 2);
  assert_int_equal (idx, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (good_chain, setup, teardown),
    cmocka_unit_test_setup_teardown (buffer_outside_ram, setup, teardown),
    cmocka_unit_test_setup_teardown (buffer_address_overflow, setup, teardown),
    cmocka_unit_test_setup_teardown (chain_loop, setup, teardown),
    cmocka_unit_test_setup_teardown (self_loop, setup, teardown),
    cmocka_unit_test_setup_teardown (next_out_of_range, setup, teardown),
    cmocka_unit_test_setup_teardown (head_out_of_range, setup, teardown),
    cmocka_unit_test_setup_teardown (avail_index_runs_ahead, setup, teardown),
    cmocka_unit_test_setup_teardown (readable_after_writable, setup, teardown),
    cmocka_unit_test_setup_teardown (indirect_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (bad_ring_placement, setup, teardown),
    cmocka_unit_test_setup_teardown (index_wraps, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
