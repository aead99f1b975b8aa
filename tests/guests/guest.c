/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca test guest.  Reports how it was booted and what the
 * VMM told it (command line, memory map), then runs the checks its command
 * line asks for and reports the result through the debug-exit port:
 *   exit=N   exit status N (default 0)
 *   oob      read and write guest-physical memory beyond RAM
 *   echo     read one line from the serial console and print it back
 *   reset    reset through the i8042 instead of the debug-exit port
 *   fault    take an exception with no IDT (the VM triple-faults)
 *   count=N  count to N in memory, printing progress */
#include <stddef.h>
#include <stdint.h>

#include "io.h"

#define PATH_LINUX64 1
#define PATH_PVH 2
#define PATH_ELF64 3

void guest_main (uint64_t path, uint64_t info);

/* Both arca-vmm's and QEMU's UARTs transmit at once (THR is always empty),
   so the guest writes without polling LSR: one exit per byte, not two. */
static void
puts_serial (const char *s)
{
  while (*s)
    outb (PORT_COM1, (uint8_t) *s++);
}

static void
put_hex (uint64_t v)
{
  char buf[17];
  int i = 16;

  buf[i] = '\0';
  do
    {
      buf[--i] = "0123456789abcdef"[v & 0xf];
      v >>= 4;
    }
  while (v != 0 && i > 0);
  puts_serial (buf + i);
}

static void
put_dec (uint64_t v)
{
  char buf[21];
  int i = 20;

  buf[i] = '\0';
  do
    {
      buf[--i] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v != 0 && i > 0);
  puts_serial (buf + i);
}

static void
say (const char *key, const char *value)
{
  puts_serial ("arca-test-guest: ");
  puts_serial (key);
  puts_serial (value);
  puts_serial ("\n");
}

static __attribute__ ((noreturn)) void
guest_exit (uint32_t status)
{
  outl (PORT_DEBUG_EXIT, status);
  for (;;)
    ;
}

static uint32_t
rd32 (uint64_t addr)
{
  return *(const volatile uint32_t *) (uintptr_t) addr;
}

static uint64_t
rd64 (uint64_t addr)
{
  return *(const volatile uint64_t *) (uintptr_t) addr;
}

/* Finds "key" or "key=value" in the command line; returns the value (or
   "" for a bare key), NULL when absent.  *len gets the value length. */
static const char *
find_arg (const char *cmdline, const char *key, size_t *len)
{
  const char *p = cmdline;

  while (*p)
    {
      const char *k = key, *q = p;
      while (*p == ' ')
        p++;
      q = p;
      while (*k && *q == *k)
        q++, k++;
      if (*k == '\0' && (*q == ' ' || *q == '\0' || *q == '='))
        {
          const char *v = *q == '=' ? q + 1 : q;
          size_t n = 0;
          while (v[n] && v[n] != ' ')
            n++;
          *len = n;
          return v;
        }
      while (*p && *p != ' ')
        p++;
    }
  return NULL;
}

static uint64_t
parse_dec (const char *s, size_t len)
{
  uint64_t v = 0;
  for (size_t i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
    v = v * 10 + (uint64_t) (s[i] - '0');
  return v;
}

/* End of the highest RAM range in the memory map. */
static uint64_t
ram_end (uint64_t path, uint64_t info)
{
  uint64_t end = 0, a, s;

  if (path == PATH_PVH)
    {
      uint64_t map = rd64 (info + 40);
      uint32_t n = rd32 (info + 48);
      for (uint32_t i = 0; i < n && i < 16; i++)
        if (rd32 (map + i * 24 + 16) == 1 && (a = rd64 (map + i * 24)) + (s = rd64 (map + i * 24 + 8)) > end)
          end = a + s;
    }
  else
    {
      uint8_t n = *(const volatile uint8_t *) (uintptr_t) (info + 0x1e8);
      for (uint8_t i = 0; i < n && i < 128; i++)
        if (rd32 (info + 0x2d0 + i * 20 + 16) == 1
            && (a = rd64 (info + 0x2d0 + i * 20)) + (s = rd64 (info + 0x2d0 + i * 20 + 8)) > end)
          end = a + s;
    }
  return end;
}

static void
check_oob (uint64_t ram)
{
  /* Just past the end of RAM (below the MMIO hole): no memory slot, no
     device.  Reads must return all ones, writes must vanish. */
  uint64_t addr = (ram + 0x200000) & ~0x1fffffULL;
  uint32_t before, after;

  if (addr >= 0xc0000000ULL)
    addr = 0xbff00000ULL;
  before = rd32 (addr);
  mmio_write32 (addr, 0x12345678);
  after = rd32 (addr);
  puts_serial ("arca-test-guest: oob 0x");
  put_hex (addr);
  puts_serial (" read 0x");
  put_hex (before);
  puts_serial (" after write 0x");
  put_hex (after);
  puts_serial ("\n");
}

static void
echo_line (void)
{
  char line[80];
  size_t n = 0;

  puts_serial ("arca-test-guest: ready for input\n");
  for (;;)
    {
      char c;
      while (!(inb (PORT_COM1 + 5) & 0x01))
        ;
      c = (char) inb (PORT_COM1);
      if (c == '\n' || c == '\r' || n == sizeof (line) - 1)
        break;
      line[n++] = c;
    }
  line[n] = '\0';
  say ("echo=", line);
}

static volatile uint64_t counter;

void
guest_main (uint64_t path, uint64_t info)
{
  const char *names[] = { "?", "linux64", "pvh", "elf64" };
  const char *cmdline, *v;
  uint64_t ram;
  size_t len;

  say ("hello", "");
  outb (PORT_BOOT_MARKER, 1);
  say ("entry=", names[path <= 3 ? path : 0]);
  cmdline = (const char *) (uintptr_t) (path == PATH_PVH ? rd64 (info + 24) : rd32 (info + 0x228));
  say ("cmdline=", cmdline);
  ram = ram_end (path, info);
  puts_serial ("arca-test-guest: ram=");
  put_dec (ram >> 20);
  puts_serial ("MiB\n");

  if (find_arg (cmdline, "oob", &len) != NULL)
    check_oob (ram);
  if (find_arg (cmdline, "echo", &len) != NULL)
    echo_line ();
  if ((v = find_arg (cmdline, "count", &len)) != NULL)
    {
      uint64_t n = parse_dec (v, len);
      for (counter = 0; counter < n; counter++)
        ;
      puts_serial ("arca-test-guest: counted=");
      put_dec (counter);
      puts_serial ("\n");
    }
  if (find_arg (cmdline, "reset", &len) != NULL)
    {
      say ("reset", "");
      outb (PORT_I8042_CMD, 0xfe);
    }
  if (find_arg (cmdline, "fault", &len) != NULL)
    {
      say ("fault", "");
      __asm__ volatile ("ud2");
    }
  v = find_arg (cmdline, "exit", &len);
  say ("bye", "");
  guest_exit (v != NULL ? (uint32_t) parse_dec (v, len) : 0);
}
