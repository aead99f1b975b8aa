/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Snapshot and restore.
 *
 * State file: one header line "ARCA-VMM-SNAPSHOT <version> <length>
 * <fnv1a64>\n" followed by <length> bytes of JSON: the machine
 * configuration, each vCPU's KVM state (raw KVM structs, hex; since
 * version 2 with runs of zero bytes shortened, see blob()), the in-kernel
 * irqchip/PIT/clock, and each device's registers in creation order.  The
 * checksum and version are verified before anything is parsed; versions 1
 * and 2 are read.
 *
 * Memory file: guest RAM as a sparse file of the RAM size (pages the guest
 * never touched stay holes).  Restore maps it MAP_PRIVATE, so nothing is
 * read up front and guest writes never reach the file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vm.h"

#define SNAP_MAGIC "ARCA-VMM-SNAPSHOT"
#define SNAP_VERSION 2   /* 2: zero runs in blobs; 1 is read as well */
#define SNAP_MAX_STATE (16 << 20)
#define MAX_MSRS 256
#define MSR_IO_MAX 255   /* KVM refuses nmsrs >= MAX_IO_MSRS (256) with E2BIG */

uint64_t
snapshot__fnv1a64 (const void *data, size_t len)
{
  const uint8_t *p = data;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/* Version 2 blobs are hex with runs of zero bytes (at least BLOB_ZERO_RUN,
   at most 0xffff) written "z" + 4 hex digits of their length: most of a
   vCPU's 4 KiB XSAVE area, the LAPIC page and the irqchip are zeros, and
   every byte of the state is hexed, checksummed, sent, parsed and decoded
   again on a restore or within a migration's downtime.  Version 1 blobs
   (plain hex) decode the same way. */
#define BLOB_ZERO_RUN 4

static json_t *
blob (const void *data, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  const uint8_t *p = data;
  cleanup_free char *s = malloc (2 * len + 1);
  size_t o = 0;

  if (s == NULL)
    return NULL;
  for (size_t i = 0; i < len;)
    {
      size_t run = 0;
      while (i + run < len && run < 0xffff && p[i + run] == 0)
        run++;
      if (run >= BLOB_ZERO_RUN)
        {
          o += (size_t) sprintf (s + o, "z%04zx", run);
          i += run;
          continue;
        }
      s[o++] = hex[p[i] >> 4];
      s[o++] = hex[p[i] & 15];
      i++;
    }
  s[o] = '\0';
  return json_string (s);
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Decodes exactly len bytes; anything else is a corrupt snapshot. */
static int
unblob (json_t *v, void *data, size_t len)
{
  const char *s = json_string_value (v);
  uint8_t *p = data;
  size_t o = 0;

  if (s == NULL)
    return -1;
  while (*s != '\0')
    {
      if (*s == 'z')
        {
          size_t run = 0;
          for (int k = 1; k <= 4; k++)
            {
              int d = hexval (s[k]);
              if (d < 0)
                return -1;
              run = run << 4 | (size_t) d;
            }
          if (run == 0 || run > len - o)
            return -1;
          memset (p + o, 0, run);
          o += run;
          s += 5;
          continue;
        }
      int hi = hexval (s[0]), lo = hi < 0 ? -1 : hexval (s[1]);
      if (lo < 0 || o == len)
        return -1;
      p[o++] = (uint8_t) (hi << 4 | lo);
      s += 2;
    }
  return o == len ? 0 : -1;
}

/* An ioctl whose time adds to *kvm_ns (the KVM share of a restore or a
   migration's state). */
static int
timed_ioctl (int fd, unsigned long req, void *arg, uint64_t *kvm_ns)
{
  uint64_t t = arca_vm_now_ns ();
  int r = ioctl (fd, req, arg);
  vm__phase_done (kvm_ns, t);
  return r;
}

/* Saves one KVM_GET_* struct under key. */
#define SAVE(vm, fd, req, type, key)                                          \
  do                                                                          \
    {                                                                         \
      type s__;                                                               \
      memset (&s__, 0, sizeof (s__));                                         \
      if (timed_ioctl ((fd), (req), &s__, &(vm)->save_kvm_ns) < 0)            \
        return arca_error_errno (err, "%s", #req);                            \
      json_object_set_new (out, (key), blob (&s__, sizeof (s__)));            \
    }                                                                         \
  while (0)

#define RESTORE(vm, fd, req, type, key)                                       \
  do                                                                          \
    {                                                                         \
      type s__;                                                               \
      if (unblob (json_object_get (in, (key)), &s__, sizeof (s__)) < 0)       \
        return arca_error_set (err, EINVAL, "snapshot: bad `%s`", (key));     \
      if (timed_ioctl ((fd), (req), &s__, &(vm)->metrics.restore.kvm_state_ns) < 0) \
        return arca_error_errno (err, "%s", #req);                            \
    }                                                                         \
  while (0)

static int
msr_list (struct arca_vm *vm, uint32_t *indices, unsigned *n, arca_error **err)
{
  cleanup_free struct kvm_msr_list *l = calloc (1, sizeof (*l) + MAX_MSRS * sizeof (uint32_t));

  if (l == NULL)
    return arca_error_errno (err, "allocate msr list");
  l->nmsrs = MAX_MSRS;
  if (timed_ioctl (vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l, &vm->save_kvm_ns) < 0)
    return arca_error_errno (err, "KVM_GET_MSR_INDEX_LIST");
  *n = l->nmsrs < MAX_MSRS ? l->nmsrs : MAX_MSRS;
  memcpy (indices, l->indices, *n * sizeof (uint32_t));
  return 0;
}

/* KVM_GET_MSRS / KVM_SET_MSRS over n entries in as few ioctls as the
   host allows: KVM stops at the first MSR it refuses and returns how many
   it did, so each call goes on after the refused one.  ok[i] says whether
   entry i was done.  One ioctl per MSR instead cost ~100 ioctls per vCPU
   on every snapshot, restore and migration (each ~0.1 ms nested). */
static int
msr_batch (int fd, unsigned long req, struct kvm_msr_entry *e, unsigned n, bool *ok,
           uint64_t *kvm_ns)
{
  cleanup_free struct kvm_msrs *m = calloc (1, sizeof (*m) + n * sizeof (*e));
  unsigned done = 0;

  if (m == NULL)
    return -1;
  while (done < n)
    {
      unsigned chunk = n - done < MSR_IO_MAX ? n - done : MSR_IO_MAX;
      int r;
      m->nmsrs = chunk;
      memcpy (m->entries, e + done, chunk * sizeof (*e));
      r = timed_ioctl (fd, req, m, kvm_ns);
      if (r < 0)
        return -1;
      if ((unsigned) r > chunk)
        {
          errno = EPROTO;
          return -1;
        }
      memcpy (e + done, m->entries, (size_t) r * sizeof (*e));
      for (unsigned i = 0; i < (unsigned) r; i++)
        ok[done + i] = true;
      done += (unsigned) r;
      if ((unsigned) r < chunk)
        ok[done++] = false;   /* refused: skip it */
    }
  return 0;
}

int
snapshot__save_vcpu (struct vm_vcpu *vcpu, json_t *out, arca_error **err)
{
  uint32_t indices[MAX_MSRS];
  struct kvm_msr_entry entries[MAX_MSRS];
  bool ok[MAX_MSRS];
  unsigned n = 0;
  json_t *msrs;

  SAVE (vcpu->vm, vcpu->fd, KVM_GET_REGS, struct kvm_regs, "regs");
  SAVE (vcpu->vm, vcpu->fd, KVM_GET_SREGS, struct kvm_sregs, "sregs");
  SAVE (vcpu->vm, vcpu->fd, KVM_GET_FPU, struct kvm_fpu, "fpu");
  SAVE (vcpu->vm, vcpu->fd, KVM_GET_LAPIC, struct kvm_lapic_state, "lapic");
  SAVE (vcpu->vm, vcpu->fd, KVM_GET_MP_STATE, struct kvm_mp_state, "mp_state");
  SAVE (vcpu->vm, vcpu->fd, KVM_GET_VCPU_EVENTS, struct kvm_vcpu_events, "events");
  if (timed_ioctl (vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION, (void *) (uintptr_t) KVM_CAP_XSAVE, &vcpu->vm->save_kvm_ns) > 0)
    SAVE (vcpu->vm, vcpu->fd, KVM_GET_XSAVE, struct kvm_xsave, "xsave");
  if (timed_ioctl (vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION, (void *) (uintptr_t) KVM_CAP_XCRS, &vcpu->vm->save_kvm_ns) > 0)
    SAVE (vcpu->vm, vcpu->fd, KVM_GET_XCRS, struct kvm_xcrs, "xcrs");

  /* The list holds some MSRs this host cannot read: those are left out. */
  if (msr_list (vcpu->vm, indices, &n, err) < 0)
    return -1;
  memset (entries, 0, sizeof (entries));
  for (unsigned i = 0; i < n; i++)
    entries[i].index = indices[i];
  if (msr_batch (vcpu->fd, KVM_GET_MSRS, entries, n, ok, &vcpu->vm->save_kvm_ns) < 0)
    return arca_error_errno (err, "KVM_GET_MSRS");
  msrs = json_array ();
  for (unsigned i = 0; i < n; i++)
    if (ok[i])
      json_array_append_new (msrs, json_pack ("[I, o]", (json_int_t) entries[i].index,
                                              blob (&entries[i].data, 8)));
  json_object_set_new (out, "msrs", msrs);
  return 0;
}

int
snapshot__restore_vcpu (struct vm_vcpu *vcpu, json_t *in, arca_error **err)
{
  json_t *msrs = json_object_get (in, "msrs"), *m;
  struct kvm_msr_entry entries[MAX_MSRS];
  bool ok[MAX_MSRS];
  unsigned n = 0;
  size_t i;

  RESTORE (vcpu->vm, vcpu->fd, KVM_SET_SREGS, struct kvm_sregs, "sregs");
  RESTORE (vcpu->vm, vcpu->fd, KVM_SET_REGS, struct kvm_regs, "regs");
  RESTORE (vcpu->vm, vcpu->fd, KVM_SET_FPU, struct kvm_fpu, "fpu");
  if (json_object_get (in, "xsave") != NULL)
    RESTORE (vcpu->vm, vcpu->fd, KVM_SET_XSAVE, struct kvm_xsave, "xsave");
  if (json_object_get (in, "xcrs") != NULL)
    RESTORE (vcpu->vm, vcpu->fd, KVM_SET_XCRS, struct kvm_xcrs, "xcrs");
  if (json_array_size (msrs) > MAX_MSRS)
    return arca_error_set (err, EINVAL, "snapshot: %zu msrs, at most %d", json_array_size (msrs), MAX_MSRS);
  memset (entries, 0, sizeof (entries));
  json_array_foreach (msrs, i, m)
    {
      json_int_t index = json_integer_value (json_array_get (m, 0));
      uint64_t data;
      if (index < 0 || index > UINT32_MAX || unblob (json_array_get (m, 1), &data, 8) < 0)
        return arca_error_set (err, EINVAL, "snapshot: bad msr entry %zu", i);
      entries[n].index = (uint32_t) index;
      entries[n++].data = data;
    }
  /* Some MSRs read fine but cannot be written back on every host
     (ARCH_CAPABILITIES under kvm_pvm): they keep KVM's value. */
  if (msr_batch (vcpu->fd, KVM_SET_MSRS, entries, n, ok, &vcpu->vm->metrics.restore.kvm_state_ns) < 0)
    return arca_error_errno (err, "KVM_SET_MSRS");
  RESTORE (vcpu->vm, vcpu->fd, KVM_SET_LAPIC, struct kvm_lapic_state, "lapic");
  RESTORE (vcpu->vm, vcpu->fd, KVM_SET_MP_STATE, struct kvm_mp_state, "mp_state");
  RESTORE (vcpu->vm, vcpu->fd, KVM_SET_VCPU_EVENTS, struct kvm_vcpu_events, "events");
  return 0;
}

static int
save_irqchip (struct arca_vm *vm, json_t *out, arca_error **err)
{
  static const char *const names[] = { "pic_master", "pic_slave", "ioapic" };

  for (unsigned i = 0; i < 3; i++)
    {
      struct kvm_irqchip chip = { .chip_id = i };
      if (timed_ioctl (vm->vm_fd, KVM_GET_IRQCHIP, &chip, &vm->save_kvm_ns) < 0)
        return arca_error_errno (err, "KVM_GET_IRQCHIP %s", names[i]);
      json_object_set_new (out, names[i], blob (&chip, sizeof (chip)));
    }
  SAVE (vm, vm->vm_fd, KVM_GET_PIT2, struct kvm_pit_state2, "pit2");
  SAVE (vm, vm->vm_fd, KVM_GET_CLOCK, struct kvm_clock_data, "clock");
  return 0;
}

static int
restore_irqchip (struct arca_vm *vm, json_t *in, arca_error **err)
{
  static const char *const names[] = { "pic_master", "pic_slave", "ioapic" };

  for (unsigned i = 0; i < 3; i++)
    {
      struct kvm_irqchip chip;
      if (unblob (json_object_get (in, names[i]), &chip, sizeof (chip)) < 0 || chip.chip_id != i)
        return arca_error_set (err, EINVAL, "snapshot: bad `%s`", names[i]);
      if (timed_ioctl (vm->vm_fd, KVM_SET_IRQCHIP, &chip, &vm->metrics.restore.kvm_state_ns) < 0)
        return arca_error_errno (err, "KVM_SET_IRQCHIP %s", names[i]);
    }
  RESTORE (vm, vm->vm_fd, KVM_SET_PIT2, struct kvm_pit_state2, "pit2");
  {
    struct kvm_clock_data clock;
    if (unblob (json_object_get (in, "clock"), &clock, sizeof (clock)) < 0)
      return arca_error_set (err, EINVAL, "snapshot: bad `clock`");
    /* Only the clock value is meaningful on another host/time. */
    clock.flags = 0;
    memset (clock.pad, 0, sizeof (clock.pad));
    if (timed_ioctl (vm->vm_fd, KVM_SET_CLOCK, &clock, &vm->metrics.restore.kvm_state_ns) < 0)
      return arca_error_errno (err, "KVM_SET_CLOCK");
  }
  return 0;
}

static bool
page_is_zero (const uint8_t *p)
{
  static const uint8_t zero[4096];
  return memcmp (p, zero, sizeof (zero)) == 0;
}

/* Writes the data extents of guest RAM; holes stay holes. */
static int
write_memory (struct arca_vm *vm, const char *path, arca_error **err)
{
  cleanup_close int fd = -1;
  const uint8_t *base = vm->mem.map;
  uint64_t size = vm->mem.map_size, off = 0;

  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return arca_error_errno (err, "create memory file `%s`", path);
  if (ftruncate (fd, (off_t) size) < 0)
    return arca_error_errno (err, "size memory file `%s`", path);
  while (off < size)
    {
      uint64_t start = off, end;
      if (vm->mem.memfd >= 0)
        {
          /* memfd knows which pages exist: untouched RAM is never read
             (reading it would allocate it). */
          off_t d = lseek (vm->mem.memfd, (off_t) off, SEEK_DATA);
          if (d < 0)
            break;   /* ENXIO: no data past off */
          start = (uint64_t) d;
          end = (uint64_t) lseek (vm->mem.memfd, d, SEEK_HOLE);
        }
      else
        {
          /* A restored VM's private mapping: skip zero pages instead. */
          while (start < size && page_is_zero (base + start))
            start += 4096;
          end = start;
          while (end < size && !page_is_zero (base + end))
            end += 4096;
        }
      if (end > size)
        end = size;
      for (uint64_t p = start; p < end;)
        {
          ssize_t n = pwrite (fd, base + p, end - p, (off_t) p);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            return arca_error_errno (err, "write memory file `%s`", path);
          p += (uint64_t) n;
        }
      off = end > start ? end : start + 4096;
    }
  if (fsync (fd) < 0)
    return arca_error_errno (err, "fsync `%s`", path);
  return 0;
}

json_t *
snapshot__machine_json (const struct vm_machine_config *m)
{
  json_t *drives = json_array ();
  for (unsigned i = 0; i < m->n_drives; i++)
    json_array_append_new (drives, json_pack ("{s:s, s:s, s:b}", "id", m->drives[i].id, "path",
                                              m->drives[i].path, "read_only", m->drives[i].read_only));
  return json_pack ("{s:I, s:i, s:b, s:b, s:i, s:o, s:s, s:o, s:I, s:s, s:s, s:b}", "mem_size_mib",
                    (json_int_t) m->mem_size_mib, "vcpu_count", (int) m->vcpu_count, "rng", m->rng,
                    "balloon", m->balloon, "balloon_stats_interval_s",
                    (int) m->balloon_stats_interval_s, "drives", drives, "net_tap", m->net_tap, "net_mac",
                    blob (m->net_mac, sizeof (m->net_mac)), "vsock_cid", (json_int_t) m->vsock_cid,
                    "vsock_path", m->vsock_path, "transport",
                    m->transport == ARCA_VM_TRANSPORT_PCI ? "pci" : "mmio", "acpi", m->acpi);
}

static int
write_state (const char *path, const char *body, arca_error **err)
{
  cleanup_free char *tmp = NULL;
  cleanup_file FILE *f = NULL;
  size_t len = strlen (body);

  if (asprintf (&tmp, "%s.tmp", path) < 0)
    return arca_error_errno (err, "snapshot path");
  f = fopen (tmp, "wxe");
  if (f == NULL)
    return arca_error_errno (err, "create `%s`", tmp);
  if (fprintf (f, "%s %d %zu %016" PRIx64 "\n", SNAP_MAGIC, SNAP_VERSION, len, snapshot__fnv1a64 (body, len)) < 0
      || fwrite (body, 1, len, f) != len || fflush (f) != 0 || fsync (fileno (f)) < 0)
    {
      unlink (tmp);
      return arca_error_errno (err, "write `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      unlink (tmp);
      return arca_error_errno (err, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

int
snapshot__state_body (struct arca_vm *vm, char **ret_body, arca_error **err)
{
  json_t *root, *vcpus, *devices, *vmstate;
  char *body = NULL;
  bool paused;
  int r = 0;

  pthread_mutex_lock (&vm->lock);
  paused = vm->paused && vm->n_parked == vm->n_vcpus && !vm->stopping;
  pthread_mutex_unlock (&vm->lock);
  if (!paused)
    return arca_error_set (err, EBUSY, "snapshot: the vm must be paused");

  root = json_pack ("{s:s, s:i, s:o}", "format", "arca-vmm-snapshot", "version", SNAP_VERSION,
                    "machine", snapshot__machine_json (&vm->machine));
  vcpus = json_array ();
  devices = json_array ();
  vmstate = json_object ();
  json_object_set_new (root, "vcpus", vcpus);
  json_object_set_new (root, "devices", devices);
  json_object_set_new (root, "vm", vmstate);
  for (unsigned i = 0; i < vm->n_vcpus && r == 0; i++)
    {
      json_t *v = json_object ();
      json_array_append_new (vcpus, v);
      r = snapshot__save_vcpu (&vm->vcpus[i], v, err);
    }
  if (r == 0)
    r = save_irqchip (vm, vmstate, err);
  for (unsigned i = 0; i < vm->n_devices && r == 0; i++)
    {
      json_t *d = json_object ();
      if (vm->devices[i].save != NULL)
        vm->devices[i].save (vm->devices[i].opaque, d);
      json_array_append_new (devices, d);
    }
  if (r == 0)
    {
      body = json_dumps (root, JSON_COMPACT);
      if (body == NULL)
        r = arca_error_set (err, ENOMEM, "serialize snapshot");
    }
  json_decref (root);
  if (r < 0)
    return -1;
  *ret_body = body;
  return 0;
}

int
arca_vm_snapshot (struct arca_vm *vm, const char *state_path, const char *mem_path, arca_error **err)
{
  cleanup_free char *body = NULL;

  if (snapshot__state_body (vm, &body, err) < 0)
    return arca_error_wrap (err, "snapshot");
  if (write_memory (vm, mem_path, err) < 0 || write_state (state_path, body, err) < 0)
    return arca_error_wrap (err, "snapshot");
  return 0;
}

/* Reads the whole file (at most max bytes) into a NUL-terminated buffer:
   one read, no stdio, nothing but the bytes the checksum covers anyway. */
static int
read_file (const char *path, size_t max, char **ret, size_t *ret_len, arca_error **err)
{
  cleanup_close int fd = -1;
  cleanup_free char *data = NULL;
  struct stat st;
  size_t done = 0;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open snapshot `%s`", path);
  if (fstat (fd, &st) < 0)
    return arca_error_errno (err, "stat snapshot `%s`", path);
  if (!S_ISREG (st.st_mode) || (uint64_t) st.st_size > max)
    return arca_error_set (err, EINVAL, "`%s` is not an arca-vmm snapshot (not a file of at most %zu bytes)",
                           path, max);
  data = malloc ((size_t) st.st_size + 1);
  if (data == NULL)
    return arca_error_errno (err, "read snapshot `%s`", path);
  while (done < (size_t) st.st_size)
    {
      ssize_t n = read (fd, data + done, (size_t) st.st_size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "read snapshot `%s`", path);
      if (n == 0)
        break;
      done += (size_t) n;
    }
  data[done] = '\0';
  *ret_len = done;
  *ret = move_ptr (data);
  return 0;
}

/* Reads and verifies the state file; returns the parsed JSON. */
static int
read_state (const char *path, json_t **ret, arca_error **err)
{
  cleanup_free char *data = NULL;
  size_t size = 0, len;
  char *nl, *p;
  long version;
  uint64_t sum;
  json_error_t jerr;
  json_t *root;

  if (read_file (path, SNAP_MAX_STATE + 128, &data, &size, err) < 0)
    return -1;
  /* "ARCA-VMM-SNAPSHOT <version> <length> <fnv1a64 hex>\n" */
  nl = memchr (data, '\n', size);
  p = data + strlen (SNAP_MAGIC);
  if (nl == NULL || strncmp (data, SNAP_MAGIC " ", strlen (SNAP_MAGIC) + 1) != 0)
    return arca_error_set (err, EINVAL, "`%s` is not an arca-vmm snapshot", path);
  *nl = '\0';
  errno = 0;
  version = strtol (p, &p, 10);
  len = *p == ' ' ? (size_t) strtoull (p + 1, &p, 10) : 0;
  sum = *p == ' ' ? (uint64_t) strtoull (p + 1, &p, 16) : 0;
  if (errno != 0 || *p != '\0' || len == 0)
    return arca_error_set (err, EINVAL, "`%s` is not an arca-vmm snapshot", path);
  if (version != 1 && version != SNAP_VERSION)
    return arca_error_set (err, ENOTSUP, "snapshot `%s` has version %ld, this arca-vmm reads 1 to %d",
                           path, version, SNAP_VERSION);
  if (len > SNAP_MAX_STATE)
    return arca_error_set (err, EINVAL, "snapshot `%s`: bad length %zu", path, len);
  if ((size_t) (data + size - (nl + 1)) != len)
    return arca_error_set (err, EINVAL, "snapshot `%s`: truncated or trailing data", path);
  if (snapshot__fnv1a64 (nl + 1, len) != sum)
    return arca_error_set (err, EINVAL, "snapshot `%s`: checksum mismatch", path);
  root = json_loadb (nl + 1, len, 0, &jerr);
  if (root == NULL)
    return arca_error_set (err, EINVAL, "snapshot `%s`: %s", path, jerr.text);
  *ret = root;
  return 0;
}

int
snapshot__machine_config (json_t *m, struct arca_vm_config *cfg, arca_error **err)
{
  json_t *drives = json_object_get (m, "drives"), *d;
  size_t i;

  cfg->mem_size_mib = (uint64_t) json_integer_value (json_object_get (m, "mem_size_mib"));
  cfg->vcpu_count = (unsigned) json_integer_value (json_object_get (m, "vcpu_count"));
  cfg->rng = json_is_true (json_object_get (m, "rng"));
  cfg->balloon = json_is_true (json_object_get (m, "balloon"));
  cfg->acpi = json_is_true (json_object_get (m, "acpi"));
  cfg->balloon_stats_interval_s
      = (uint32_t) json_integer_value (json_object_get (m, "balloon_stats_interval_s"));
  if (cfg->balloon_stats_interval_s > 86400)
    return arca_error_set (err, EINVAL, "snapshot: balloon_stats_interval_s out of range");
  {
    /* Older snapshots have no transport: virtio-mmio. */
    const char *t = json_string_value (json_object_get (m, "transport"));
    if (t != NULL && strcmp (t, "pci") != 0 && strcmp (t, "mmio") != 0)
      return arca_error_set (err, EINVAL, "snapshot: transport \"%s\" is not pci or mmio", t);
    cfg->transport = t != NULL && strcmp (t, "pci") == 0 ? ARCA_VM_TRANSPORT_PCI
                                                           : ARCA_VM_TRANSPORT_MMIO;
  }
  cfg->net.tap = NULL;
  if (json_string_value (json_object_get (m, "net_tap")) != NULL
      && json_string_value (json_object_get (m, "net_tap"))[0] != '\0')
    {
      cfg->net.tap = (char *) json_string_value (json_object_get (m, "net_tap"));
      if (unblob (json_object_get (m, "net_mac"), cfg->net.mac, sizeof (cfg->net.mac)) < 0)
        return arca_error_set (err, EINVAL, "snapshot: bad net_mac");
    }
  cfg->vsock.uds_path = NULL;
  {
    /* Older snapshots have no vsock fields: no vsock. */
    const char *vp = json_string_value (json_object_get (m, "vsock_path"));
    if (vp != NULL && vp[0] != '\0')
      {
        cfg->vsock.uds_path = (char *) vp;
        cfg->vsock.cid = (uint64_t) json_integer_value (json_object_get (m, "vsock_cid"));
      }
  }
  if (!json_is_array (drives) || json_array_size (drives) > ARCA_VM_MAX_DRIVES)
    return arca_error_set (err, EINVAL, "snapshot: bad drive list");
  cfg->n_drives = 0;
  json_array_foreach (drives, i, d)
    {
      const char *path = json_string_value (json_object_get (d, "path"));
      if (path == NULL)
        return arca_error_set (err, EINVAL, "snapshot: drive %zu has no path", i);
      cfg->drives[i] = (struct arca_vm_drive_config){
        .id = (char *) json_string_value (json_object_get (d, "id")),
        .path = (char *) path,
        .read_only = json_is_true (json_object_get (d, "read_only")),
      };
      cfg->n_drives++;
    }
  return 0;
}

int
snapshot__load_state (struct arca_vm *vm, json_t *root, arca_error **err)
{
  json_t *vcpus = json_object_get (root, "vcpus");
  json_t *devices = json_object_get (root, "devices");
  struct arca_vm_restore_times *rt = &vm->metrics.restore;
  uint64_t t = arca_vm_now_ns (), kvm_before = rt->kvm_state_ns;

  if (json_array_size (vcpus) != vm->n_vcpus || json_array_size (devices) != vm->n_devices)
    return arca_error_set (err, EINVAL, "snapshot: %zu vcpus and %zu devices, the machine has %u and %u",
                           json_array_size (vcpus), json_array_size (devices), vm->n_vcpus,
                           vm->n_devices);
  if (restore_irqchip (vm, json_object_get (root, "vm"), err) < 0)
    return -1;
  for (unsigned i = 0; i < vm->n_vcpus; i++)
    if (snapshot__restore_vcpu (&vm->vcpus[i], json_array_get (vcpus, i), err) < 0)
      return -1;
  for (unsigned i = 0; i < vm->n_devices; i++)
    {
      const char *why = NULL;
      if (vm->devices[i].restore != NULL
          && vm->devices[i].restore (vm->devices[i].opaque, json_array_get (devices, i), &why) < 0)
        return arca_error_set (err, EINVAL, "snapshot: device %u: %s", i, why);
    }
  /* The rest of the load: hex and JSON decoding, device state. */
  vm__phase_done (&rt->state_apply_ns, t);
  rt->state_apply_ns -= rt->kvm_state_ns - kvm_before;
  return 0;
}

int
arca_vm_restore (const struct arca_vm_config *config, const char *state_path, const char *mem_path,
                 struct arca_vm **ret_vm, arca_error **err)
{
  cleanup_vm struct arca_vm *vm = NULL;
  _cleanup_ (vm__kvm_early_cancel) struct vm_kvm_early early = { 0 };
  cleanup_close int mem_fd = -1;
  struct arca_vm_config cfg = *config;
  json_t *root = NULL;
  struct stat st;
  uint64_t t0 = arca_vm_now_ns (), t_read;
  int r;

  /* The KVM VM is made while the state file is read and parsed. */
  if (vm__kvm_early_start (&early, err) < 0 || read_state (state_path, &root, err) < 0)
    return -1;
  r = snapshot__machine_config (json_object_get (root, "machine"), &cfg, err);
  t_read = arca_vm_now_ns ();
  cfg.kernel_path = cfg.initrd_path = cfg.cmdline = NULL;
  if (r == 0)
    {
      mem_fd = open (mem_path, O_RDONLY | O_CLOEXEC);
      if (mem_fd < 0)
        r = arca_error_errno (err, "open memory file `%s`", mem_path);
      else if (fstat (mem_fd, &st) < 0)
        r = arca_error_errno (err, "stat `%s`", mem_path);
      else if ((uint64_t) st.st_size != cfg.mem_size_mib << 20)
        r = arca_error_set (err, EINVAL, "memory file `%s` has %lld bytes, the snapshot %llu MiB",
                            mem_path, (long long) st.st_size, (unsigned long long) cfg.mem_size_mib);
    }
  if (r == 0)
    r = vm__build_early (&cfg, mem_fd, true, &early, &vm, err);
  if (r == 0)
    r = snapshot__load_state (vm, root, err);
  json_decref (root);
  if (r < 0)
    return arca_error_wrap (err, "restore `%s`", state_path);
  /* Where a restore's time goes (the bench's "restore" rows). */
  vm->metrics.restore.state_ns = t_read - t0;
  vm->metrics.restore.total_ns = arca_vm_now_ns () - t0;
  vm->metrics.restore.ready_ns = vm__elapsed_ns (vm);
  arca_debug (vm->log, "restore: ready %llu us after start, %llu us in the restore",
              (unsigned long long) (vm->metrics.restore.ready_ns / 1000),
              (unsigned long long) (vm->metrics.restore.total_ns / 1000));
  *ret_vm = move_ptr (vm);
  return 0;
}
