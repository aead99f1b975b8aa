/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Little-endian stores into guest structures (boot_params, the MP table,
 * ACPI tables) and the byte checksum the firmware tables share: bytes
 * summing to 0 mod 256. */
#ifndef ARCA_VMM_GUEST_BYTES_H
#define ARCA_VMM_GUEST_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void
put16 (uint8_t *p, uint16_t v)
{
  memcpy (p, &v, sizeof (v));
}

static inline void
put32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, sizeof (v));
}

static inline void
put64 (uint8_t *p, uint64_t v)
{
  memcpy (p, &v, sizeof (v));
}

/* The byte that makes p[0..n) plus itself sum to 0. */
static inline uint8_t
table_checksum (const uint8_t *p, size_t n)
{
  uint8_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum = (uint8_t) (sum + p[i]);
  return (uint8_t) -sum;
}

#endif
