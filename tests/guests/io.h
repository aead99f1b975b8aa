/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Port I/O, MMIO and the arca-vmm device ports the test guest talks to. */
#ifndef ARCA_TEST_GUEST_IO_H
#define ARCA_TEST_GUEST_IO_H

#include <stdint.h>

#define PORT_COM1 0x3f8
#define PORT_I8042_CMD 0x64
#define PORT_BOOT_MARKER 0x3f0
#define PORT_DEBUG_EXIT 0x501

static inline void
outb (uint16_t port, uint8_t v)
{
  __asm__ volatile ("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void
outl (uint16_t port, uint32_t v)
{
  __asm__ volatile ("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void
outw (uint16_t port, uint16_t v)
{
  __asm__ volatile ("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint32_t
inl (uint16_t port)
{
  uint32_t v;
  __asm__ volatile ("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
  return v;
}

static inline uint8_t
inb (uint16_t port)
{
  uint8_t v;
  __asm__ volatile ("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
  return v;
}

static inline uint32_t
mmio_read32 (uint64_t addr)
{
  return *(volatile uint32_t *) (uintptr_t) addr;
}

static inline void
mmio_write32 (uint64_t addr, uint32_t v)
{
  *(volatile uint32_t *) (uintptr_t) addr = v;
}

static inline uint8_t
mmio_read8 (uint64_t addr)
{
  return *(volatile uint8_t *) (uintptr_t) addr;
}

static inline uint16_t
mmio_read16 (uint64_t addr)
{
  return *(volatile uint16_t *) (uintptr_t) addr;
}

static inline void
mmio_write8 (uint64_t addr, uint8_t v)
{
  *(volatile uint8_t *) (uintptr_t) addr = v;
}

static inline void
mmio_write16 (uint64_t addr, uint16_t v)
{
  *(volatile uint16_t *) (uintptr_t) addr = v;
}

#endif
