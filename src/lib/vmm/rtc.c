/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal MC146818 CMOS RTC at ports 0x70 (index) / 0x71 (data).  The
 * time registers read the host's clock (UTC) at the moment of the read, in
 * BCD or binary and 24- or 12-hour form as status register B says; the
 * update-in-progress flag is always clear, so a guest polling for the end
 * of an update (Linux's rtc_cmos and its boot-time clock read) gets an
 * answer at once instead of tens of thousands of exits.  Bit 7 of the index
 * (the NMI mask on PCs) is ignored.  Writes to the time registers are
 * dropped (the host clock is the guest's); every other byte of the 128-byte
 * CMOS RAM is stored.  No interrupts (periodic, alarm, update) are raised. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm.h"

#define PORT_RTC_INDEX 0x70
#define CMOS_SIZE 128
#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS 0x04
#define REG_WEEKDAY 0x06
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define B_SET 0x80
#define B_BINARY 0x04
#define B_24H 0x02
#define D_VALID 0x80

struct rtc {
  pthread_mutex_t lock;
  uint8_t index;
  uint8_t ram[CMOS_SIZE];
};

static bool
is_time_reg (uint8_t reg)
{
  return reg <= REG_YEAR || reg == REG_CENTURY;
}

static uint8_t
encode (const struct rtc *r, unsigned v)
{
  return (r->ram[REG_B] & B_BINARY) ? (uint8_t) v : (uint8_t) (((v / 10) << 4) | (v % 10));
}

static uint8_t
time_reg (const struct rtc *r, uint8_t reg)
{
  struct timespec ts;
  struct tm tm;

  if (reg == 0x01 || reg == 0x03 || reg == 0x05)
    return r->ram[reg];   /* alarms: stored only */
  clock_gettime (CLOCK_REALTIME, &ts);
  if (gmtime_r (&ts.tv_sec, &tm) == NULL)
    return 0;
  switch (reg)
    {
    case REG_SECONDS:
      return encode (r, (unsigned) tm.tm_sec % 60);
    case REG_MINUTES:
      return encode (r, (unsigned) tm.tm_min);
    case REG_HOURS:
      if (r->ram[REG_B] & B_24H)
        return encode (r, (unsigned) tm.tm_hour);
      /* 12-hour: 12, 1..11, with bit 7 for PM. */
      return (uint8_t) (encode (r, tm.tm_hour % 12 == 0 ? 12 : (unsigned) tm.tm_hour % 12)
                        | (tm.tm_hour >= 12 ? 0x80 : 0));
    case REG_WEEKDAY:
      return encode (r, (unsigned) tm.tm_wday + 1);
    case REG_DAY:
      return encode (r, (unsigned) tm.tm_mday);
    case REG_MONTH:
      return encode (r, (unsigned) tm.tm_mon + 1);
    case REG_YEAR:
      return encode (r, (unsigned) (tm.tm_year + 1900) % 100);
    case REG_CENTURY:
      return encode (r, (unsigned) (tm.tm_year + 1900) / 100);
    default:
      return 0;
    }
}

static void
rtc_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct rtc *r = opaque;

  if (off != 1 || len != 1)
    return;   /* the index port reads as all ones */
  pthread_mutex_lock (&r->lock);
  if (is_time_reg (r->index))
    data[0] = time_reg (r, r->index);
  else if (r->index == REG_A)
    data[0] = r->ram[REG_A] & 0x7f;   /* update-in-progress: never */
  else if (r->index == REG_C)
    {
      data[0] = r->ram[REG_C];        /* interrupt flags, cleared by reading */
      r->ram[REG_C] = 0;
    }
  else if (r->index == REG_D)
    data[0] = D_VALID;                /* the "battery" is good */
  else
    data[0] = r->ram[r->index];
  pthread_mutex_unlock (&r->lock);
}

static void
rtc_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct rtc *r = opaque;

  if (len != 1)
    return;
  pthread_mutex_lock (&r->lock);
  if (off == 0)
    r->index = data[0] & 0x7f;        /* bit 7: NMI mask, ignored */
  else if (r->index == 0x01 || r->index == 0x03 || r->index == 0x05)
    r->ram[r->index] = data[0];
  else if (is_time_reg (r->index) || r->index == REG_C || r->index == REG_D)
    ;                                 /* read-only here */
  else if (r->index == REG_A)
    r->ram[REG_A] = data[0] & 0x7f;
  else
    r->ram[r->index] = data[0];
  pthread_mutex_unlock (&r->lock);
}

static const struct vm_bus_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

static void
rtc_save (void *opaque, json_t *o)
{
  struct rtc *r = opaque;
  char hex[2 * CMOS_SIZE + 1];

  pthread_mutex_lock (&r->lock);
  for (unsigned i = 0; i < CMOS_SIZE; i++)
    snprintf (hex + 2 * i, 3, "%02x", r->ram[i]);
  json_object_set_new (o, "rtc", json_pack ("{s:i, s:s}", "index", r->index, "cmos", hex));
  pthread_mutex_unlock (&r->lock);
}

static int
rtc_restore (void *opaque, json_t *o, const char **why)
{
  struct rtc *r = opaque;
  json_t *s = json_object_get (o, "rtc");
  const char *hex = json_string_value (json_object_get (s, "cmos"));
  json_t *index = json_object_get (s, "index");
  uint8_t ram[CMOS_SIZE];

  if (hex == NULL || strlen (hex) != 2 * CMOS_SIZE || !json_is_integer (index))
    return *why = "rtc: bad state", -1;
  for (unsigned i = 0; i < CMOS_SIZE; i++)
    {
      unsigned v;
      if (sscanf (hex + 2 * i, "%2x", &v) != 1)
        return *why = "rtc: bad state", -1;
      ram[i] = (uint8_t) v;
    }
  pthread_mutex_lock (&r->lock);
  memcpy (r->ram, ram, sizeof (ram));
  r->index = (uint8_t) (json_integer_value (index) & 0x7f);
  pthread_mutex_unlock (&r->lock);
  return 0;
}

static void
rtc_free (void *opaque)
{
  struct rtc *r = opaque;
  pthread_mutex_destroy (&r->lock);
  free (r);
}

int
rtc__create (struct arca_vm *vm, arca_error **err)
{
  struct rtc *r = calloc (1, sizeof (*r));

  if (r == NULL)
    return arca_error_errno (err, "allocate the RTC");
  pthread_mutex_init (&r->lock, NULL);
  r->ram[REG_A] = 0x26;               /* 32.768 kHz base, 1024 Hz rate */
  r->ram[REG_B] = B_24H;              /* BCD, 24-hour, as PC firmware leaves it */
  if (vm__add_device (vm, rtc_free, r, err) < 0)
    {
      rtc_free (r);
      return -1;
    }
  vm__device_state (vm, rtc_save, rtc_restore);
  return vm_bus__register (&vm->pio, PORT_RTC_INDEX, 2, "rtc", &rtc_ops, r, err);
}
