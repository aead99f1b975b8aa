/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-balloon (virtio 1.x, 5.5): the host sets a target (num_pages);
 * the driver hands pages over on the inflate queue and takes them back on
 * the deflate queue, reporting its count in `actual`.  Inflated pages are
 * released to the host at once: a hole punched in the guest-memory memfd
 * (or MADV_DONTNEED on a restored private mapping), so the host sees the
 * memory come back.  Every page frame number is checked against guest RAM.
 *
 * Statistics (VIRTIO_BALLOON_F_STATS_VQ, offered when a polling interval
 * is set, as Firecracker does): the driver posts one buffer of {le16 tag,
 * le64 value} entries on queue 2; the device keeps it, and every interval
 * (a timerfd on the device thread) hands it back, which makes the driver
 * refill and repost it.  Each time the buffer arrives its entries are
 * parsed into the latest statistics that the API reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/cleanup.h"

#include "virtio.h"
#include "vm.h"

#define INFLATEQ 0
#define DEFLATEQ 1
#define STATSQ 2
#define F_STATS_VQ (1ULL << 1)
#define STAT_ENTRY 10           /* le16 tag + le64 value, packed */
#define PAGE 4096ULL

struct balloon {
  struct arca_vm *vm;
  struct virtio_device_ops ops;
  struct virtio_dev *transport;
  int timer_fd;           /* stats polling, -1 without statistics */
  bool release_stats;     /* device thread: hand the stats buffer back */
  bool stats_held;        /* the buffer at the queue's head is parsed, kept */
  pthread_mutex_t stats_lock;
  uint32_t interval_s;    /* under stats_lock, like the statistics */
  struct arca_vm_balloon_stats stats;
  uint32_t num_pages;     /* target, host-set */
  uint32_t actual;        /* driver-reported */
  uint32_t pfns[1024];
};

static void
balloon_config_read (void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
  struct balloon *b = opaque;
  uint32_t cfg[2] = { b->num_pages, b->actual };
  memcpy (data, (uint8_t *) cfg + off, len);
}

static void
balloon_config_write (void *opaque, uint32_t off, const uint8_t *data, uint32_t len)
{
  struct balloon *b = opaque;
  uint32_t cfg[2] = { b->num_pages, b->actual };
  memcpy ((uint8_t *) cfg + off, data, len);
  b->actual = cfg[1];     /* num_pages is the host's */
  __atomic_store_n (&b->vm->metrics.balloon_actual_pages, b->actual, __ATOMIC_RELAXED);
}

/* Gives one guest page back to the host. */
static int
release (struct balloon *b, uint32_t pfn)
{
  struct guest_mem *mem = &b->vm->mem;
  uint8_t *p = guest_mem__ptr (mem, (uint64_t) pfn * PAGE, PAGE);

  if (p == NULL)
    return -1;
  if (mem->memfd >= 0)
    return fallocate (mem->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t) (p - (uint8_t *) mem->map), (off_t) PAGE);
  return madvise (p, PAGE, MADV_DONTNEED);
}

/* Parses the driver's statistics; unknown tags are skipped (newer
   drivers), a partial entry is a driver error. */
static int
stats_handle (struct balloon *b, const struct virtq_chain *chain, uint32_t *ret_written,
              const char **why)
{
  struct arca_vm_balloon_stats st;
  uint8_t entry[STAT_ENTRY];
  bool release = __atomic_exchange_n (&b->release_stats, false, __ATOMIC_RELAXED);

  *ret_written = 0;
  /* A buffer already parsed and held is only handed back (on a poll) or
     kept (any other notification): the driver has not touched it. */
  if (b->stats_held)
    {
      b->stats_held = !release;
      return release ? 0 : 1;
    }
  if (chain->in_len % STAT_ENTRY != 0 || chain->in_len > 64 * STAT_ENTRY)
    return *why = "virtio-balloon statistics are not whole 10-byte entries", -1;
  pthread_mutex_lock (&b->stats_lock);
  st = b->stats;
  pthread_mutex_unlock (&b->stats_lock);
  for (uint64_t off = 0; off < chain->in_len; off += STAT_ENTRY)
    {
      uint16_t tag;
      uint64_t value;
      if (virtq__read (chain, off, entry, STAT_ENTRY) != STAT_ENTRY)
        return *why = "virtio-balloon statistics buffer short", -1;
      memcpy (&tag, entry, 2);
      memcpy (&value, entry + 2, 8);
      if (tag < ARCA_VM_BALLOON_STATS)
        {
          st.valid |= 1U << tag;
          st.value[tag] = value;
        }
    }
  st.updated_ns = vm__elapsed_ns (b->vm);
  pthread_mutex_lock (&b->stats_lock);
  st.updates = b->stats.updates + 1;
  b->stats = st;
  pthread_mutex_unlock (&b->stats_lock);
  /* Kept by the device until the next poll (a poll already due hands it
     back at once). */
  b->stats_held = !release;
  return release ? 0 : 1;
}

static void
on_stats_timer (void *opaque, int fd, uint32_t events)
{
  struct balloon *b = opaque;
  uint64_t n;

  if (read (fd, &n, sizeof (n)) < 0)
    return;
  __atomic_store_n (&b->release_stats, true, __ATOMIC_RELAXED);
  virtio__notify (b->transport, STATSQ);
  (void) events;
}

static int
arm_timer (int fd, uint32_t seconds, arca_error **err)
{
  struct itimerspec its = { .it_interval = { .tv_sec = seconds }, .it_value = { .tv_sec = seconds } };
  if (timerfd_settime (fd, 0, &its, NULL) < 0)
    return arca_error_errno (err, "virtio-balloon: arm the statistics timer");
  return 0;
}

static int
balloon_handle (void *opaque, unsigned queue, const struct virtq_chain *chain,
                uint32_t *ret_written, const char **why)
{
  struct balloon *b = opaque;
  uint64_t off = 0;

  if (queue == STATSQ)
    return stats_handle (b, chain, ret_written, why);
  if (chain->in_len % 4 != 0)
    return *why = "virtio-balloon page list is not whole 32-bit frame numbers", -1;
  while (off < chain->in_len)
    {
      size_t n = virtq__read (chain, off, b->pfns, sizeof (b->pfns)) / 4;
      if (n == 0)
        break;
      for (size_t i = 0; i < n && queue == INFLATEQ; i++)
        if (release (b, b->pfns[i]) < 0)
          return *why = "virtio-balloon frame number outside guest RAM", -1;
      VM_COUNT (b->vm, balloon_inflated_pages, queue == INFLATEQ ? n : 0);
      VM_COUNT (b->vm, balloon_deflated_pages, queue == DEFLATEQ ? n : 0);
      off += n * 4;
    }
  /* Deflated pages need nothing: the next guest touch brings a zero page. */
  *ret_written = 0;
  return 0;
}

static void
balloon_reset (void *opaque)
{
  struct balloon *b = opaque;
  b->actual = 0;
  __atomic_store_n (&b->release_stats, false, __ATOMIC_RELAXED);
  b->stats_held = false;
}

static void
balloon_save (void *opaque, json_t *o)
{
  struct balloon *b = opaque;
  json_object_set_new (o, "num_pages", json_integer (b->num_pages));
  json_object_set_new (o, "actual", json_integer (b->actual));
}

static int
balloon_restore (void *opaque, json_t *o, const char **why)
{
  struct balloon *b = opaque;
  json_t *n = json_object_get (o, "num_pages"), *a = json_object_get (o, "actual");

  if (!json_is_integer (n) || !json_is_integer (a))
    return *why = "virtio-balloon: bad state", -1;
  b->num_pages = (uint32_t) json_integer_value (n);
  b->actual = (uint32_t) json_integer_value (a);
  b->vm->metrics.balloon_target_pages = b->num_pages;
  b->vm->metrics.balloon_actual_pages = b->actual;
  return 0;
}

static void
balloon_free (void *opaque)
{
  struct balloon *b = opaque;
  arca_closep (&b->timer_fd);
  pthread_mutex_destroy (&b->stats_lock);
  free (b);
}

static const struct virtio_device_ops balloon_ops = {
  .name = "virtio-balloon",
  .device_id = VIRTIO_ID_BALLOON,
  .n_queues = 2,
  .queue_max = 128,
  .config_len = 8,
  .config_read = balloon_config_read,
  .config_write = balloon_config_write,
  .handle = balloon_handle,
  .reset = balloon_reset,
  .save = balloon_save,
  .restore = balloon_restore,
  .free = balloon_free,
};

int
virtio_balloon__create (struct arca_vm *vm, uint32_t target_pages, uint32_t stats_interval_s,
                        arca_error **err)
{
  struct balloon *b = calloc (1, sizeof (*b));

  if (b == NULL)
    return arca_error_errno (err, "allocate virtio-balloon");
  b->vm = vm;
  b->num_pages = target_pages;
  b->timer_fd = -1;
  b->ops = balloon_ops;
  b->interval_s = stats_interval_s;
  pthread_mutex_init (&b->stats_lock, NULL);
  if (stats_interval_s > 0)
    {
      b->ops.n_queues = 3;
      b->ops.features |= F_STATS_VQ;
      b->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
      if (b->timer_fd < 0)
        {
          balloon_free (b);
          return arca_error_errno (err, "virtio-balloon: timerfd");
        }
    }
  vm->metrics.balloon_target_pages = target_pages;
  if (virtio__create (vm, &b->ops, b, &b->transport, err) < 0)
    return -1;
  vm->balloon = b;
  vm->balloon_transport = b->transport;
  if (b->timer_fd >= 0
      && (event_loop__add (&vm->loop, b->timer_fd, EPOLLIN, on_stats_timer, b, err) < 0
          || arm_timer (b->timer_fd, stats_interval_s, err) < 0))
    return -1;
  return 0;
}

int
arca_vm_balloon_stats (struct arca_vm *vm, struct arca_vm_balloon_stats *ret, arca_error **err)
{
  struct balloon *b = vm->balloon;

  if (b == NULL)
    return arca_error_set (err, ENODEV, "the vm has no balloon device");
  if (b->timer_fd < 0)
    return arca_error_set (err, ENODEV, "balloon statistics are not enabled");
  pthread_mutex_lock (&b->stats_lock);
  *ret = b->stats;
  ret->interval_s = b->interval_s;
  pthread_mutex_unlock (&b->stats_lock);
  ret->target_pages = __atomic_load_n (&b->num_pages, __ATOMIC_RELAXED);
  ret->actual_pages = __atomic_load_n (&vm->metrics.balloon_actual_pages, __ATOMIC_RELAXED);
  return 0;
}

int
arca_vm_set_balloon_stats_interval (struct arca_vm *vm, uint32_t seconds, arca_error **err)
{
  struct balloon *b = vm->balloon;

  if (b == NULL)
    return arca_error_set (err, ENODEV, "the vm has no balloon device");
  /* The feature was offered (or not) when the driver started. */
  if (b->timer_fd < 0 || seconds == 0)
    return arca_error_set (err, EINVAL, "balloon statistics cannot be turned on or off after boot");
  if (arm_timer (b->timer_fd, seconds, err) < 0)
    return -1;
  pthread_mutex_lock (&b->stats_lock);
  b->interval_s = seconds;
  pthread_mutex_unlock (&b->stats_lock);
  return 0;
}

int
arca_vm_set_balloon (struct arca_vm *vm, uint64_t target_mib, arca_error **err)
{
  struct balloon *b = vm->balloon;

  if (b == NULL)
    return arca_error_set (err, ENODEV, "the vm has no balloon device");
  if (target_mib > vm->machine.mem_size_mib)
    return arca_error_set (err, EINVAL, "balloon target %llu MiB exceeds guest memory",
                           (unsigned long long) target_mib);
  __atomic_store_n (&b->num_pages, (uint32_t) (target_mib << 8), __ATOMIC_RELAXED);
  __atomic_store_n (&vm->metrics.balloon_target_pages, b->num_pages, __ATOMIC_RELAXED);
  virtio__config_changed (vm->balloon_transport);
  return 0;
}
