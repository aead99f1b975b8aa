/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca test guest.  Reports how it was booted and what the
 * VMM told it (command line, memory map), then runs the checks its command
 * line asks for and reports the result through the debug-exit port:
 *   exit=N   exit status N (default 0)
 *   oob      read and write guest-physical memory beyond RAM
 *   echo     read one line from the serial console and print it back
 *   reset    reset through the i8042 instead of the debug-exit port
 *   fault    take an exception with no IDT (the VM triple-faults)
 *   count=N  count to N in memory, printing progress
 *   rng      read from virtio-rng twice and compare
 *   blk      read sector 0 of the first virtio-blk drive, write sector 1,
 *            flush, read it back, read past the end
 *   ticks=N  print "tick I" N times (0 = forever), spinning tickdelay=D
 *            (default 2000) iterations between ticks; the counter lives in
 *            memory, so after a snapshot/restore it continues
 *   dirty=N  with ticks: each tick writes 16 pages of an N-page region at
 *            32 MiB (page s % N gets s + 1), every 16th tick checks the whole
 *            region against the count ("verify ok S" / "verify BAD page P");
 *            dirtyrate=K writes K pages per tick instead of 16
 *   rngdirty with ticks and dirty: each tick virtio-rng writes 32 bytes
 *            into one of 64 pages at 48 MiB, the guest copies them; checked
 *            with the region ("rngdirty ok N" / "rngdirty BAD page P")
 *   smp      start every other processor listed in the MP table (INIT +
 *            SIPI through the local APIC) and count those that reach
 *            64-bit mode
 *   arp=A,B  virtio-net: from guest IPv4 address B, ask for A with an ARP
 *            request and wait for the reply (the host's kernel answers on
 *            the tap), printing the MAC it came from
 *   balloon  virtio-balloon: dirty 32 MiB at 64 MiB, then follow the host's
 *            target, inflating with those pages and deflating back; ends
 *            after it has inflated and returned to 0
 *   mp       find the MP floating pointer in the EBDA, check both
 *            checksums, count the processors and find the IOAPIC
 *   vsock=H,L  virtio-vsock: connect to host port H, send a line, print
 *            the answer, send 512 KiB within the host's credit and print
 *            its next answer; then listen on port L, print what the host
 *            sends and echo it back with "echo: " in front
 *   vsockbad  feed virtio-vsock a read-only receive buffer and a packet
 *            whose length lies (each: DEVICE_NEEDS_RESET), then connect
 *            to a host port nobody serves (RST, op 3)
 *   badvq    feed virtio-rng a descriptor outside RAM and a looping chain:
 *            each must put the device into DEVICE_NEEDS_RESET, and a reset
 *            must bring it back */
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "virtio.h"

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


static void
say_num (const char *key, int64_t v)
{
  puts_serial ("arca-test-guest: ");
  puts_serial (key);
  if (v < 0)
    {
      puts_serial ("-");
      v = -v;
    }
  put_dec ((uint64_t) v);
  puts_serial ("\n");
}

static int
same (const uint8_t *a, const uint8_t *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

static uint8_t rng_a[32], rng_b[32];

static void
check_rng (void)
{
  struct gvdev d;
  int r = vdev_open (&d, VIRTIO_ID_RNG, 0, 0);
  struct vbuf a = { rng_a, sizeof (rng_a), 1 }, b = { rng_b, sizeof (rng_b), 1 };
  int64_t na, nb;
  uint64_t w;

  if (r < 0)
    {
      say_num ("rng open failed at step ", r);
      return;
    }
  na = vdev_request (&d, &a, 1);
  nb = vdev_request (&d, &b, 1);
  say_num ("rng bytes=", na);
  __builtin_memcpy (&w, rng_a, 8);
  puts_serial ("arca-test-guest: rng sample=");
  put_hex (w);
  puts_serial ("\n");
  say ("rng ", na == 32 && nb == 32 && !same (rng_a, rng_b, 32) ? "ok" : "BAD");
}

/* virtio-vsock: one stream to the host, then one from it. */
#define VIRTIO_ID_VSOCK 19
struct vsock_hdr {
  uint64_t src_cid, dst_cid;
  uint32_t src_port, dst_port;
  uint32_t len;
  uint16_t type, op;
  uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__ ((packed));

static struct vsock_hdr vs_rx_hdr, vs_tx_hdr;
static char vs_rx_data[128], vs_tx_data[160];
static uint32_t vs_fwd;
static uint32_t vs_peer_buf, vs_peer_fwd;   /* the host's credit, from its last packet */
#define VS_BULK_TOTAL (512u << 10)           /* twice the device's buffer */
static char vs_bulk_data[32768];

static void
vs_post_rx (struct gvdev *d)
{
  struct vbuf b[2] = { { &vs_rx_hdr, sizeof (vs_rx_hdr), 1 }, { vs_rx_data, sizeof (vs_rx_data) - 1, 1 } };
  vdev_post_q (d, 0, b, 2);
}

/* How long vs_recv() waits, in TSC cycles (2^33: 2-4 s), not in polls: a
   poll costs a few ns under real KVM, and the packet waited for comes
   from a host program (a python script, slow to start on a nested host).
   Waiting for the host to connect at all gets 4 times that, and so do
   the waits on the host's reading during the 512 KiB transfer (its
   credit updates, its count): a loaded nested host kept one over 3 s. */
#define VS_WAIT (1ULL << 33)
#define VS_WAIT_HOST (1ULL << 35)

/* Waits up to `cycles` for the next packet; returns its op, 0 on timeout. */
static uint16_t
vs_recv (struct gvdev *d, uint64_t cycles)
{
  if (vdev_wait_q (d, 0, cycles) >= 0)
    {
      uint16_t op = vs_rx_hdr.op;
      vs_peer_buf = vs_rx_hdr.buf_alloc;
      vs_peer_fwd = vs_rx_hdr.fwd_cnt;
      if (op == 5 && vs_rx_hdr.len < sizeof (vs_rx_data))
        {
          vs_rx_data[vs_rx_hdr.len] = '\0';
          vs_fwd += vs_rx_hdr.len;
        }
      return op;
    }
  return 0;
}

/* Field by field: a struct literal would make the compiler call memset,
   which a freestanding guest does not have. */
static void
vs_set_hdr (uint64_t cid, uint32_t sport, uint32_t dport, uint16_t op, uint32_t len)
{
  vs_tx_hdr.src_cid = cid;
  vs_tx_hdr.dst_cid = 2;
  vs_tx_hdr.src_port = sport;
  vs_tx_hdr.dst_port = dport;
  vs_tx_hdr.len = len;
  vs_tx_hdr.type = 1;
  vs_tx_hdr.op = op;
  vs_tx_hdr.flags = 0;
  vs_tx_hdr.buf_alloc = sizeof (vs_rx_data) - 1;
  vs_tx_hdr.fwd_cnt = vs_fwd;
}

static void
vs_send (struct gvdev *d, uint64_t cid, uint32_t sport, uint32_t dport, uint16_t op,
         const char *data, uint32_t len)
{
  struct vbuf b[2] = { { &vs_tx_hdr, sizeof (vs_tx_hdr), 0 }, { vs_tx_data, len, 0 } };
  vs_set_hdr (cid, sport, dport, op, len);
  for (uint32_t i = 0; i < len; i++)
    vs_tx_data[i] = data[i];
  vdev_request_q (d, 1, b, len > 0 ? 2 : 1);
}

/* Sends VS_BULK_TOTAL bytes, never more than the host's credit allows (as
   Linux's driver does): past its buffer, the stream goes on only if the
   device hands credit back with CREDIT_UPDATE.  tx_cnt: bytes sent so
   far.  Returns the bulk bytes sent. */
static uint32_t
vs_bulk (struct gvdev *d, uint64_t cid, uint32_t sport, uint32_t dport, uint32_t tx_cnt)
{
  uint32_t sent = 0;

  while (sent < VS_BULK_TOTAL)
    {
      uint32_t used = tx_cnt - vs_peer_fwd, room = used < vs_peer_buf ? vs_peer_buf - used : 0;
      uint32_t n = VS_BULK_TOTAL - sent;
      if (room == 0)
        {
          if (vs_recv (d, VS_WAIT_HOST) == 0)
            break;
          vs_post_rx (d);
          continue;
        }
      if (n > sizeof (vs_bulk_data))
        n = sizeof (vs_bulk_data);
      if (n > room)
        n = room;
      {
        struct vbuf b[2] = { { &vs_tx_hdr, sizeof (vs_tx_hdr), 0 }, { vs_bulk_data, n, 0 } };
        vs_set_hdr (cid, sport, dport, 5, n);
        vdev_request_q (d, 1, b, 2);
      }
      sent += n;
      tx_cnt += n;
    }
  return sent;
}

static void
check_vsock (const char *arg, size_t arglen)
{
  struct gvdev d;
  size_t used;
  uint32_t host_port = (uint32_t) parse_dec (arg, arglen), listen_port;
  uint64_t cid;
  uint16_t op;
  const char *p = arg;
  int r = vdev_open (&d, VIRTIO_ID_VSOCK, 0, 0);

  if (r < 0)
    {
      say_num ("vsock open failed at step ", r);
      return;
    }
  for (used = 0; used < arglen && p[used] != ','; used++)
    ;
  listen_port = used < arglen ? (uint32_t) parse_dec (p + used + 1, arglen - used - 1) : 1234;
  cid = vdev_read (&d, 0x100) | (uint64_t) vdev_read (&d, 0x104) << 32;
  say_num ("vsock cid=", (int64_t) cid);
  vs_post_rx (&d);

  /* Guest -> host. */
  vs_send (&d, cid, 5000, host_port, 1, "", 0);              /* REQUEST */
  op = vs_recv (&d, VS_WAIT);
  say_num ("vsock connect op=", op);                          /* 2 = RESPONSE */
  if (op == 2)
    {
      vs_post_rx (&d);
      vs_send (&d, cid, 5000, host_port, 5, "hello from the guest\n", 21);
      op = vs_recv (&d, VS_WAIT);
      if (op == 5)
        say ("vsock host says=", vs_rx_data);
      else
        say_num ("vsock no data, op=", op);
      vs_post_rx (&d);
      say_num ("vsock bulk sent=", vs_bulk (&d, cid, 5000, host_port, 21));
      for (;;)
        {
          op = vs_recv (&d, VS_WAIT_HOST);
          if (op != 6)                                        /* CREDIT_UPDATE */
            break;
          vs_post_rx (&d);
        }
      if (op == 5)
        say ("vsock host says=", vs_rx_data);
      vs_send (&d, cid, 5000, host_port, 3, "", 0);          /* RST: done */
    }
  vs_post_rx (&d);

  /* Host -> guest. */
  say_num ("vsock listening on ", listen_port);
  for (;;)
    {
      op = vs_recv (&d, VS_WAIT_HOST);
      if (op == 0 || (op == 1 && vs_rx_hdr.dst_port == listen_port))
        break;
      vs_post_rx (&d);
    }
  if (op != 1)
    {
      say ("vsock ", "no connection from the host");
      return;
    }
  {
    uint32_t peer = vs_rx_hdr.src_port;
    vs_fwd = 0;                 /* credit counts per connection */
    vs_post_rx (&d);
    vs_send (&d, cid, listen_port, peer, 2, "", 0);           /* RESPONSE */
    op = vs_recv (&d, VS_WAIT);
    if (op == 5)
      {
        static const char prefix[] = "echo: ";
        char reply[150];
        uint32_t n;
        for (n = 0; prefix[n]; n++)
          reply[n] = prefix[n];
        for (uint32_t i = 0; vs_rx_data[i] && n < sizeof (reply) - 1; i++)
          reply[n++] = vs_rx_data[i];
        say ("vsock host sent=", vs_rx_data);
        vs_post_rx (&d);
        vs_send (&d, cid, listen_port, peer, 5, reply, n);
        op = vs_recv (&d, VS_WAIT);
      }
    say_num ("vsock closed with op=", op);                    /* 3 = RST */
  }
  say ("vsock ", "done");
}

/* vsockbad: a receive buffer the device may only read, and a transmit
   packet whose length field lies: each must put the device into
   DEVICE_NEEDS_RESET, and a reset must bring it back. */
static void
check_vsock_bad (void)
{
  struct gvdev d;
  struct vdesc ro[1] = { { (uint64_t) (uintptr_t) &vs_rx_hdr, sizeof (vs_rx_hdr), 0, 0 } };
  struct vbuf lie = { &vs_tx_hdr, sizeof (vs_tx_hdr), 0 };

  if (vdev_open (&d, VIRTIO_ID_VSOCK, 0, 0) < 0)
    {
      say ("vsockbad ", "no vsock device");
      return;
    }
  say_num ("vsockbad read-only rx needs-reset=", vdev_request_raw (&d, ro, 1));
  vdev_open (&d, VIRTIO_ID_VSOCK, 0, 0);
  vs_set_hdr (3, 1, 2, 5, 100);
  vdev_post_q (&d, 1, &lie, 1);
  say_num ("vsockbad length lie needs-reset=", vdev_wait_needs_reset (&d, VS_WAIT));
  vdev_open (&d, VIRTIO_ID_VSOCK, 0, 0);
  vs_send (&d, 3, 7, 4242, 1, "", 0);      /* REQUEST to a port nobody serves */
  vs_post_rx (&d);
  say_num ("vsockbad after reset op=", vs_recv (&d, VS_WAIT));
}

struct blk_hdr {
  uint32_t type, reserved;
  uint64_t sector;
};

static struct blk_hdr bh;
static uint8_t sector_buf[512], sector_back[512];
static uint8_t blk_status;

static int64_t
blk_req (struct gvdev *d, uint32_t type, uint64_t sector, uint8_t *data, int data_in)
{
  struct vbuf bufs[3];
  int n = 0;

  bh.type = type;
  bh.reserved = 0;
  bh.sector = sector;
  blk_status = 0xff;
  bufs[n++] = (struct vbuf){ &bh, sizeof (bh), 0 };
  if (data != NULL)
    bufs[n++] = (struct vbuf){ data, 512, data_in };
  bufs[n++] = (struct vbuf){ &blk_status, 1, 1 };
  if (vdev_request (d, bufs, n) < 0)
    return -1;
  return blk_status;
}

static void
check_blk (void)
{
  static const char pattern[] = "guest-wrote-sector-1";
  struct gvdev d;
  int r = vdev_open (&d, VIRTIO_ID_BLOCK, 0, (1u << 9) | (1u << 5));
  uint64_t capacity;
  char first[17];

  if (r < 0)
    {
      say_num ("blk open failed at step ", r);
      return;
    }
  capacity = vdev_read (&d, 0x100) | ((uint64_t) vdev_read (&d, 0x104) << 32);
  say_num ("blk capacity=", (int64_t) capacity);
  say_num ("blk read status=", blk_req (&d, 0, 0, sector_buf, 1));
  for (int i = 0; i < 16; i++)
    first[i] = (sector_buf[i] >= 32 && sector_buf[i] < 127) ? (char) sector_buf[i] : '.';
  first[16] = '\0';
  say ("blk sector0=", first);

  for (size_t i = 0; i < sizeof (sector_buf); i++)
    sector_buf[i] = i < sizeof (pattern) - 1 ? (uint8_t) pattern[i] : (uint8_t) i;
  say_num ("blk write status=", blk_req (&d, 1, 1, sector_buf, 0));
  say_num ("blk flush status=", blk_req (&d, 4, 0, NULL, 0));
  say_num ("blk reread status=", blk_req (&d, 0, 1, sector_back, 1));
  say ("blk readback ", same (sector_buf, sector_back, 512) ? "same" : "different");
  say_num ("blk past-end status=", blk_req (&d, 0, capacity, sector_back, 1));
}

static uint8_t
cmos (uint8_t reg)
{
  outb (0x70, reg);
  return inb (0x71);
}

static unsigned
from_bcd (uint8_t v)
{
  return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t sum8 (const volatile uint8_t *p, size_t n);

static int
sig4 (const volatile uint8_t *p, const char *s)
{
  return p[0] == s[0] && p[1] == s[1] && p[2] == s[2] && p[3] == s[3];
}

/* ACPI: the RSDP in the BIOS area, the XSDT, FADT and MADT with valid
   checksums; "acpi cpus=N ioapic=0x..." from the MADT. */
static void
check_acpi (void)
{
  const volatile uint8_t *rsdp = NULL, *xsdt, *madt = NULL, *fadt = NULL, *e, *end;
  unsigned cpus = 0, n;
  uint32_t ioapic = 0;

  for (uint64_t a = 0xe0000; a < 0x100000 && rsdp == NULL; a += 16)
    {
      const volatile uint8_t *p = (const volatile uint8_t *) (uintptr_t) a;
      if (sig4 (p, "RSD ") && sig4 (p + 4, "PTR ") && sum8 (p, 20) == 0 && sum8 (p, 36) == 0)
        rsdp = p;
    }
  if (rsdp == NULL)
    {
      say ("acpi ", "no rsdp");
      return;
    }
  xsdt = (const volatile uint8_t *) (uintptr_t) rd64 ((uint64_t) (uintptr_t) (rsdp + 24));
  if (!sig4 (xsdt, "XSDT") || sum8 (xsdt, rd32 ((uint64_t) (uintptr_t) (xsdt + 4))) != 0)
    {
      say ("acpi ", "bad xsdt");
      return;
    }
  n = (rd32 ((uint64_t) (uintptr_t) (xsdt + 4)) - 36) / 8;
  for (unsigned i = 0; i < n; i++)
    {
      const volatile uint8_t *t
          = (const volatile uint8_t *) (uintptr_t) rd64 ((uint64_t) (uintptr_t) (xsdt + 36 + 8 * i));
      if (sum8 (t, rd32 ((uint64_t) (uintptr_t) (t + 4))) != 0)
        continue;
      if (sig4 (t, "APIC"))
        madt = t;
      if (sig4 (t, "FACP"))
        fadt = t;
    }
  if (madt == NULL || fadt == NULL)
    {
      say ("acpi ", "no valid madt or fadt");
      return;
    }
  end = madt + rd32 ((uint64_t) (uintptr_t) (madt + 4));
  for (e = madt + 44; e + 2 <= end && e[1] >= 2; e += e[1])
    {
      if (e[0] == 0)
        cpus += rd32 ((uint64_t) (uintptr_t) (e + 4)) & 1;
      if (e[0] == 1)
        ioapic = rd32 ((uint64_t) (uintptr_t) (e + 4));
    }
  say_num ("acpi dsdt valid=", sig4 ((const volatile uint8_t *) (uintptr_t) rd64 ((uint64_t) (uintptr_t) (fadt + 140)), "DSDT"));
  puts_serial ("arca-test-guest: acpi cpus=");
  put_dec (cpus);
  puts_serial (" ioapic=0x");
  put_hex (ioapic);
  puts_serial ("\n");
}

/* The CMOS RTC: "rtc date=YYYY-MM-DD" in BCD and binary modes, update in
   progress never set, a CMOS RAM byte kept. */
static void
check_rtc (void)
{
  unsigned y, m, d, yb;

  say_num ("rtc uip=", cmos (0x0a) >> 7);
  say_num ("rtc status-b=", cmos (0x0b));
  y = from_bcd (cmos (0x32)) * 100 + from_bcd (cmos (0x09));
  m = from_bcd (cmos (0x08));
  d = from_bcd (cmos (0x07));
  puts_serial ("arca-test-guest: rtc date=");
  put_dec (y);
  puts_serial (m < 10 ? "-0" : "-");
  put_dec (m);
  puts_serial (d < 10 ? "-0" : "-");
  put_dec (d);
  puts_serial ("\n");
  outb (0x70, 0x0b);
  outb (0x71, 0x06);                    /* binary, 24-hour */
  yb = cmos (0x32) * 100u + cmos (0x09);
  say_num ("rtc binary year matches=", yb == y);
  say_num ("rtc hour<24=", cmos (0x04) < 24);
  outb (0x70, 0x80 | 0x40);             /* NMI-mask bit set: same register */
  outb (0x71, 0x5a);
  say_num ("rtc cmos ram kept=", cmos (0x40) == 0x5a);
}

/* Lists PCI bus 0: "pci SS VVVVDDDD class=CCCCCC" per function, with BAR0's
   address and size for virtio devices. */
static void
check_pci (void)
{
  unsigned found = 0;

  for (unsigned slot = 0; slot < 32; slot++)
    {
      uint32_t id = pci_cfg_read (0, slot, 0, 0);
      if ((id & 0xffff) == 0xffff)
        continue;
      found++;
      puts_serial ("arca-test-guest: pci slot=");
      put_dec (slot);
      puts_serial (" id=");
      put_hex (id);
      puts_serial (" class=");
      put_hex (pci_cfg_read (0, slot, 0, 0x08) >> 8);
      if ((id & 0xffff) == 0x1af4)
        {
          uint32_t intr = pci_cfg_read (0, slot, 0, 0x3c);
          puts_serial (" bar0=0x");
          put_hex ((uint64_t) pci_cfg_read (0, slot, 0, 0x14) << 32
                   | (pci_cfg_read (0, slot, 0, 0x10) & ~0xfU));
          puts_serial (" size=");
          put_dec (pci_bar0_size (slot));
          puts_serial (" line=");
          put_dec (intr & 0xff);
          puts_serial (" pin=");
          put_dec ((intr >> 8) & 0xff);
        }
      puts_serial ("\n");
    }
  say_num ("pci functions=", found);
}

/* Garbage through the config ports and inside a virtio BAR: nothing may
   crash the VMM, read-only registers stay, and the devices work after. */
static void
check_pci_garbage (void)
{
  struct gvdev d;
  uint32_t id0, id1;
  unsigned slot;

  if (vdev_open (&d, VIRTIO_ID_RNG, 0, 0) < 0)
    {
      say ("pcigarbage ", "no rng device");
      return;
    }
  slot = d.slot;
  id0 = pci_cfg_read (0, slot, 0, 0);
  /* Unaligned / odd-width config port accesses, other buses, functions,
     extended register bits. */
  outb (0xcf8, 0xff);
  outb (0xcfb, 0x01);
  outw (0xcfa, 0xffff);
  outl (0xcf8, 0x80000000U | slot << 11);
  outw (0xcff, 0xffff);
  outl (0xcfe, 0xffffffff);
  outl (0xcfd, 0xffffffff);
  (void) inb (0xcff);
  (void) inl (0xcfd);
  for (unsigned reg = 0; reg < 256; reg += 4)
    {
      pci_cfg_write (0, 0, 0, reg, 0xffffffff);          /* host bridge */
      pci_cfg_write (0, 31, 0, reg, 0xa5a5a5a5);         /* empty slot */
      pci_cfg_write (3, slot, 0, reg, 0xffffffff);       /* bus 3 */
      pci_cfg_write (0, slot, 5, reg, 0xffffffff);       /* function 5 */
      if (reg < 0x04 || (reg >= 0x08 && reg < 0x0c) || (reg >= 0x24 && reg < 0x3c) || reg >= 0x40)
        pci_cfg_write (0, slot, 0, reg, 0x5a5a5a5a);     /* read-only parts */
    }
  outl (0xcf8, 0x8f000000U | slot << 11);                /* extended bits */
  outl (0xcfc, 0xffffffff);
  id1 = pci_cfg_read (0, slot, 0, 0);
  say_num ("pcigarbage id intact=", id0 == id1);
  say_num ("pcigarbage empty slot reads ones=", pci_cfg_read (0, 31, 0, 0) == 0xffffffff);
  say_num ("pcigarbage bus 3 reads ones=", pci_cfg_read (3, slot, 0, 0) == 0xffffffff);
  say_num ("pcigarbage capabilities intact=", (pci_cfg_read (0, slot, 0, 0x34) & 0xff) == 0x40
                                                 && (pci_cfg_read (0, slot, 0, 0x40) & 0xff) == 0x09);
  /* Inside the BAR: every width at odd offsets, past the regions, the
     last bytes, a queue that does not exist. */
  for (uint64_t off = 0; off < 0x4000; off += 0x7f3)
    {
      (void) mmio_read8 (d.base + off);
      (void) mmio_read16 (d.base + off + 1);
      (void) mmio_read32 (d.base + off + 3);
      if (off >= 0x1000)
        {
          mmio_write32 (d.base + off + 1, 0xffffffff);
          mmio_write8 (d.base + off, 0xff);
        }
    }
  (void) *(volatile uint64_t *) (uintptr_t) (d.base + 0x3ffc);    /* crosses the BAR's end */
  mmio_write16 (d.notify + 200 * d.notify_mult, 200);
  mmio_write16 (d.common + 0x16, 1000);                 /* queue_select: none */
  mmio_write16 (d.common + 0x18, 64);
  mmio_write16 (d.common + 0x1c, 1);
  mmio_write32 (d.common + 0x20, 0xffffffff);
  mmio_write8 (d.common + 0x15, 0xff);                  /* config_generation: read-only */
  mmio_write32 (d.common + 0x13, 0xffffffff);
  /* A BAR moved outside the window and back. */
  pci_cfg_write (0, slot, 0, 0x10, 0x1000);
  (void) mmio_read32 (d.common);
  pci_cfg_write (0, slot, 0, 0x10, (uint32_t) d.base | 4);
  say_num ("pcigarbage bar size=", (int64_t) pci_bar0_size (slot));
  say_num ("pcigarbage survived=", 1);
}

static void
check_bad_vq (void)
{
  struct gvdev d;
  struct vdesc oob[1] = { { 0x7ff0000000ULL, 64, 2, 0 } };
  struct vdesc loop[2] = { { (uint64_t) (uintptr_t) rng_a, 8, 1 | 2, 1 },
                           { (uint64_t) (uintptr_t) rng_b, 8, 1 | 2, 0 } };
  struct vbuf a = { rng_a, sizeof (rng_a), 1 };

  if (vdev_open (&d, VIRTIO_ID_RNG, 0, 0) < 0)
    {
      say ("badvq ", "no rng device");
      return;
    }
  say_num ("badvq outside-ram needs-reset=", vdev_request_raw (&d, oob, 1));
  vdev_open (&d, VIRTIO_ID_RNG, 0, 0);
  say_num ("badvq loop needs-reset=", vdev_request_raw (&d, loop, 2));
  vdev_open (&d, VIRTIO_ID_RNG, 0, 0);
  say_num ("badvq after reset bytes=", vdev_request (&d, &a, 1));
}

static uint8_t
sum8 (const volatile uint8_t *p, size_t n)
{
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++)
    s = (uint8_t) (s + p[i]);
  return s;
}

static void
check_mp (void)
{
  const volatile uint8_t *fp = NULL, *t, *e, *end;
  unsigned cpus = 0, bsp = 0;
  uint32_t ioapic = 0;
  uint16_t len;

  for (uint64_t a = 0x9fc00; a < 0xa0000 && fp == NULL; a += 16)
    {
      const volatile uint8_t *p = (const volatile uint8_t *) (uintptr_t) a;
      if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_' && sum8 (p, 16) == 0)
        fp = p;
    }
  if (fp == NULL)
    {
      say ("mp ", "no floating pointer");
      return;
    }
  t = (const volatile uint8_t *) (uintptr_t) rd32 ((uint64_t) (uintptr_t) (fp + 4));
  len = (uint16_t) (t[4] | (t[5] << 8));
  if (t[0] != 'P' || t[1] != 'C' || t[2] != 'M' || t[3] != 'P' || sum8 (t, len) != 0)
    {
      say ("mp ", "bad configuration table");
      return;
    }
  end = t + len;
  for (e = t + 44; e < end;)
    {
      if (e[0] == 0)
        {
          cpus += e[3] & 1;
          bsp += (e[3] >> 1) & 1;
          e += 20;
          continue;
        }
      if (e[0] == 2)
        ioapic = rd32 ((uint64_t) (uintptr_t) (e + 4));
      e += 8;
    }
  say_num ("mp cpus=", cpus);
  say_num ("mp bsp=", bsp);
  puts_serial ("arca-test-guest: mp ioapic=0x");
  put_hex (ioapic);
  puts_serial ("\n");
}

extern const uint8_t ap_tramp[], ap_tramp_end[];
extern volatile uint32_t ap_alive;

#define LAPIC_ICR_LOW 0xfee00300ULL
#define LAPIC_ICR_HIGH 0xfee00310ULL
#define LAPIC_SVR 0xfee000f0ULL

static uint64_t
tsc_now (void)
{
  uint32_t lo, hi;
  __asm__ volatile ("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t) hi << 32 | lo;
}

static void
start_aps (unsigned n)
{
  volatile uint8_t *dst = (volatile uint8_t *) (uintptr_t) 0x8000;

  for (size_t i = 0; i < (size_t) (ap_tramp_end - ap_tramp); i++)
    dst[i] = ap_tramp[i];
  mmio_write32 (LAPIC_SVR, 0x1ff);                    /* software-enable the local APIC */
  for (unsigned id = 1; id < n; id++)
    {
      uint32_t before = ap_alive;
      mmio_write32 (LAPIC_ICR_HIGH, id << 24);
      mmio_write32 (LAPIC_ICR_LOW, 0x4500);          /* INIT, level assert */
      mmio_write32 (LAPIC_ICR_HIGH, id << 24);
      mmio_write32 (LAPIC_ICR_LOW, 0x4600 | 0x08);   /* SIPI: start at 0x8000 */
      /* Up to ~2^32 TSC cycles (1-2 s), not a count of spins: under
         nested KVM the AP's vCPU thread may not run for a long while
         after the SIPI, and 20000 pauses pass in a few ms there. */
      uint64_t end = tsc_now () + (1ULL << 32);
      while (ap_alive == before && tsc_now () < end)
        __asm__ volatile ("pause");
    }
  say_num ("smp aps started=", ap_alive);
}

static uint32_t
parse_ip (const char *s, size_t len, size_t *used)
{
  uint32_t ip = 0, part = 0;
  size_t i;
  for (i = 0; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++)
    {
      if (s[i] == '.')
        {
          ip = (ip << 8) | part;
          part = 0;
        }
      else
        part = part * 10 + (uint32_t) (s[i] - '0');
    }
  *used = i;
  return (ip << 8) | part;
}

static uint8_t net_tx[12 + 42] __attribute__ ((aligned (16)));
static uint8_t net_rx[12 + 1514] __attribute__ ((aligned (16)));

static void
check_arp (const char *v, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  struct gvdev d;
  uint8_t mac[6];
  uint32_t target, self, cfg0, cfg1;
  size_t used;
  uint8_t *f = net_tx + 12;
  struct vbuf txb = { net_tx, sizeof (net_tx), 0 }, rxb = { net_rx, sizeof (net_rx), 1 };
  char text[18];

  target = parse_ip (v, len, &used);
  self = used < len ? parse_ip (v + used + 1, len - used - 1, &used) : 0;
  if (vdev_open (&d, 1, 0, 1u << 5) < 0)
    {
      say ("net ", "no virtio-net device");
      return;
    }
  cfg0 = vdev_read (&d, 0x100);
  cfg1 = vdev_read (&d, 0x104);
  for (int i = 0; i < 4; i++)
    mac[i] = (uint8_t) (cfg0 >> (8 * i));
  mac[4] = (uint8_t) cfg1;
  mac[5] = (uint8_t) (cfg1 >> 8);
  for (int i = 0; i < 6; i++)
    {
      text[3 * i] = hex[mac[i] >> 4];
      text[3 * i + 1] = hex[mac[i] & 15];
      text[3 * i + 2] = i < 5 ? ':' : '\0';
    }
  say ("net mac=", text);

  vdev_post_q (&d, 0, &rxb, 1);
  /* Ethernet broadcast, ARP request who-has target tell self. */
  for (int i = 0; i < 6; i++)
    {
      f[i] = 0xff;
      f[6 + i] = mac[i];
      f[22 + i] = mac[i];
      f[32 + i] = 0;
    }
  f[12] = 0x08, f[13] = 0x06;                    /* ARP */
  f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0; /* Ethernet, IPv4 */
  f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;    /* request */
  for (int i = 0; i < 4; i++)
    {
      f[28 + i] = (uint8_t) (self >> (24 - 8 * i));
      f[38 + i] = (uint8_t) (target >> (24 - 8 * i));
    }
  say_num ("net tx used=", vdev_request_q (&d, 1, &txb, 1));
  for (int tries = 0; tries < 50; tries++)
    {
      /* By the TSC, not a count of spins: natively 100000 polls pass
         long before a (nested, loaded) host kernel answers. */
      int64_t n = vdev_wait_q (&d, 0, 1ULL << 32);
      const uint8_t *r = net_rx + 12;
      if (n < 0)
        break;
      if (n >= 12 + 42 && r[12] == 0x08 && r[13] == 0x06 && r[21] == 2
          && r[28] == f[38] && r[29] == f[39] && r[30] == f[40] && r[31] == f[41])
        {
          for (int i = 0; i < 6; i++)
            {
              text[3 * i] = hex[r[22 + i] >> 4];
              text[3 * i + 1] = hex[r[22 + i] & 15];
              text[3 * i + 2] = i < 5 ? ':' : '\0';
            }
          say ("net arp reply from ", text);
          return;
        }
      vdev_post_q (&d, 0, &rxb, 1);              /* not ours: listen again */
    }
  say ("net ", "no arp reply");
}

#define BALLOON_BASE (64ULL << 20)
#define BALLOON_PAGES 8192u
static uint32_t balloon_pfns[256];

static void
check_balloon (void)
{
  struct gvdev d;
  uint32_t actual = 0;
  int inflated = 0;
  struct vbuf pb = { balloon_pfns, 0, 0 };

  if (vdev_open (&d, 5, 0, 0) < 0)
    {
      say ("balloon ", "no device");
      return;
    }
  for (uint64_t a = BALLOON_BASE; a < BALLOON_BASE + BALLOON_PAGES * 4096ULL; a += 4096)
    *(volatile uint64_t *) (uintptr_t) a = a;
  say ("balloon touched", "");
  for (long iter = 0; iter < 2000000; iter++)
    {
      uint32_t t = vdev_read (&d, 0x100), k, i;
      if (t > BALLOON_PAGES)
        t = BALLOON_PAGES;
      if (t == actual)
        continue;
      k = t > actual ? t - actual : actual - t;
      if (k > 256)
        k = 256;
      for (i = 0; i < k; i++)
        balloon_pfns[i] = (uint32_t) (BALLOON_BASE >> 12) + (t > actual ? actual + i : actual - k + i);
      pb.len = 4 * k;
      vdev_request_q (&d, t > actual ? 0 : 1, &pb, 1);
      actual = t > actual ? actual + k : actual - k;
      vdev_write (&d, 0x104, actual);
      if (actual == t)
        {
          say_num ("balloon actual=", actual);
          inflated |= actual > 0;
          if (inflated && actual == 0)
            {
              say ("balloon done", "");
              return;
            }
        }
    }
  say ("balloon ", "gave up waiting");
}

/* balloonstats=N: negotiates the statistics queue and answers N polls,
   each with free 0x1234000, total = RAM, minor faults = the round. */
static void
check_balloon_stats (uint64_t rounds, uint64_t ram)
{
  static uint8_t stats[3 * 10];
  struct vbuf b = { stats, sizeof (stats), 0 };
  const uint64_t values[3][2] = { { 4, 0x1234000 }, { 5, 0 }, { 3, 0 } };
  struct gvdev d;

  d.q[2].desc = 0;   /* stays 0 unless the device has a third queue */
  if (vdev_open (&d, 5, 0, 1u << 1) < 0 || d.q[2].desc == 0)
    {
      say ("balloonstats ", "no device or no statistics queue");
      return;
    }
  for (uint64_t r = 1; r <= rounds; r++)
    {
      for (int i = 0; i < 3; i++)
        {
          uint16_t tag = (uint16_t) values[i][0];
          uint64_t v = i == 1 ? ram : i == 2 ? r : values[i][1];
          __builtin_memcpy (stats + 10 * i, &tag, 2);
          __builtin_memcpy (stats + 10 * i + 2, &v, 8);
        }
      vdev_post_q (&d, 2, &b, 1);
      /* The device keeps the buffer until its next poll. */
      if (vdev_wait_q (&d, 2, 1ULL << 36) < 0)
        {
          say_num ("balloonstats not returned, round ", (int64_t) r);
          return;
        }
      say_num ("balloonstats returned round=", (int64_t) r);
    }
}

static volatile uint64_t counter;
static volatile uint64_t ticks_done;

/* dirty=N: a region of N pages at 32 MiB where write number s (counted in
   memory) stores s + 1 into page s % N.  Any page's expected content
   follows from the count alone, so a page lost by a migration (or restore)
   shows as a mismatch when the guest checks the region. */
#define DIRTY_BASE (32ULL << 20)
#define DIRTY_PER_TICK 16
#define DIRTY_KEY 0x5a5aa5a55a5aa5a5ULL
static volatile uint64_t dirty_seq;
static uint64_t dirty_per_tick = DIRTY_PER_TICK;

static void
dirty_step (uint64_t npages)
{
  for (uint64_t k = 0; k < dirty_per_tick; k++)
    {
      uint64_t s = dirty_seq;
      volatile uint64_t *page = (volatile uint64_t *) (uintptr_t) (DIRTY_BASE + (s % npages) * 4096);
      page[0] = s + 1;
      page[511] = (s + 1) ^ DIRTY_KEY;
      dirty_seq = s + 1;
    }
}

static void
dirty_verify (uint64_t npages)
{
  uint64_t done = dirty_seq;

  for (uint64_t p = 0; p < npages; p++)
    {
      volatile uint64_t *page = (volatile uint64_t *) (uintptr_t) (DIRTY_BASE + p * 4096);
      uint64_t want = done > p ? p + (done - 1 - p) / npages * npages + 1 : 0;
      if (page[0] != want || page[511] != (want ? want ^ DIRTY_KEY : 0))
        {
          say_num ("verify BAD page ", (int64_t) p);
          return;
        }
    }
  say_num ("verify ok ", (int64_t) done);
}

/* rngdirty: pages the VMM writes.  Each tick virtio-rng fills page
   t % 64 at 48 MiB and the guest keeps its own copy of the first 32 bytes;
   the two agree unless a migration lost a page only the device wrote. */
#define RNGDIRTY_BASE (48ULL << 20)
#define RNGDIRTY_PAGES 64
static volatile uint64_t rng_copy[RNGDIRTY_PAGES][4];
static volatile uint64_t rng_filled;

static void
rngdirty_step (struct gvdev *d)
{
  uint64_t p = ticks_done % RNGDIRTY_PAGES;
  volatile uint64_t *page = (volatile uint64_t *) (uintptr_t) (RNGDIRTY_BASE + p * 4096);
  struct vbuf b = { (void *) (uintptr_t) (RNGDIRTY_BASE + p * 4096), 32, 1 };

  if (vdev_request (d, &b, 1) != 32)
    return;
  for (int i = 0; i < 4; i++)
    rng_copy[p][i] = page[i];
  if (rng_filled < RNGDIRTY_PAGES)
    rng_filled++;
}

static void
rngdirty_verify (void)
{
  for (uint64_t p = 0; p < RNGDIRTY_PAGES; p++)
    {
      volatile uint64_t *page = (volatile uint64_t *) (uintptr_t) (RNGDIRTY_BASE + p * 4096);
      for (int i = 0; i < 4; i++)
        if (page[i] != rng_copy[p][i])
          {
            say_num ("rngdirty BAD page ", (int64_t) p);
            return;
          }
    }
  say_num ("rngdirty ok ", (int64_t) rng_filled);
}

static void
run_ticks (uint64_t n, uint64_t delay, uint64_t dirty, struct gvdev *rngdev)
{
  while (n == 0 || ticks_done < n)
    {
      ticks_done++;
      if (rngdev != NULL)
        rngdirty_step (rngdev);
      if (dirty > 0)
        {
          dirty_step (dirty);
          if (ticks_done % 16 == 0)
            {
              dirty_verify (dirty);
              if (rngdev != NULL)
                rngdirty_verify ();
            }
        }
      say_num ("tick ", (int64_t) ticks_done);
      for (volatile uint64_t i = 0; i < delay; i++)
        ;
    }
}

void
guest_main (uint64_t path, uint64_t info)
{
  const char *names[] = { "?", "linux64", "pvh", "elf64" };
  const char *cmdline, *v;
  struct gvdev rngdev;
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
  if (find_arg (cmdline, "rtc", &len) != NULL)
    check_rtc ();
  if (find_arg (cmdline, "acpi", &len) != NULL)
    check_acpi ();
  if (find_arg (cmdline, "pci", &len) != NULL)
    {
      vdev_use_pci ();
      check_pci ();
    }
  if (find_arg (cmdline, "pcigarbage", &len) != NULL)
    check_pci_garbage ();
  if (find_arg (cmdline, "rng", &len) != NULL)
    check_rng ();
  if (find_arg (cmdline, "blk", &len) != NULL)
    check_blk ();
  if ((v = find_arg (cmdline, "vsock", &len)) != NULL)
    check_vsock (v, len);
  if (find_arg (cmdline, "vsockbad", &len) != NULL)
    check_vsock_bad ();
  if ((v = find_arg (cmdline, "arp", &len)) != NULL)
    check_arp (v, len);
  if (find_arg (cmdline, "balloon", &len) != NULL)
    check_balloon ();
  if ((v = find_arg (cmdline, "balloonstats", &len)) != NULL)
    check_balloon_stats (parse_dec (v, len), ram);
  if (find_arg (cmdline, "mp", &len) != NULL)
    check_mp ();
  if ((v = find_arg (cmdline, "smp", &len)) != NULL)
    start_aps ((unsigned) parse_dec (v, len));
  if (find_arg (cmdline, "badvq", &len) != NULL)
    check_bad_vq ();
  if ((v = find_arg (cmdline, "ticks", &len)) != NULL)
    {
      uint64_t n = parse_dec (v, len), delay = 2000, dirty = 0;
      const char *dv = find_arg (cmdline, "tickdelay", &len);
      if (dv != NULL)
        delay = parse_dec (dv, len);
      dv = find_arg (cmdline, "dirty", &len);
      if (dv != NULL)
        dirty = parse_dec (dv, len);
      if (dirty > 4096)   /* 16 MiB: stays inside the 64 MiB the tests give */
        dirty = 4096;
      dv = find_arg (cmdline, "dirtyrate", &len);
      if (dv != NULL)
        dirty_per_tick = parse_dec (dv, len);
      if (find_arg (cmdline, "rngdirty", &len) != NULL && vdev_open (&rngdev, VIRTIO_ID_RNG, 0, 0) == 0)
        run_ticks (n, delay, dirty, &rngdev);
      else
        run_ticks (n, delay, dirty, NULL);
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
