/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine's life cycle: build, start, pause/resume, stop, wait, free. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "util/cleanup.h"
#include "pci.h"
#include "vm.h"

uint64_t
arca_vm_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

uint64_t
vm__elapsed_ns (struct arca_vm *vm)
{
  uint64_t now = arca_vm_now_ns ();
  /* Never 0, so "0 = not yet" stays unambiguous in the metrics. */
  return now > vm->start_ns ? now - vm->start_ns : 1;
}

const char *
arca_vm_exit_reason_name (enum arca_vm_exit_reason reason)
{
  static const char *const names[] = {
    [ARCA_VM_EXIT_NONE] = "running",   [ARCA_VM_EXIT_DEBUG] = "debug-exit",
    [ARCA_VM_EXIT_RESET] = "reset",    [ARCA_VM_EXIT_SHUTDOWN] = "shutdown",
    [ARCA_VM_EXIT_STOPPED] = "stopped", [ARCA_VM_EXIT_ERROR] = "error",
  };
  if ((unsigned) reason >= ARRAY_SIZE (names) || names[reason] == NULL)
    return "unknown";
  return names[reason];
}

int
vm__add_device (struct arca_vm *vm, void (*free_fn) (void *), void *opaque, arca_error **err)
{
  if (vm->n_devices == VM_MAX_DEVICES)
    return arca_error_set (err, ENOSPC, "more than %d devices", VM_MAX_DEVICES);
  vm->devices[vm->n_devices].free = free_fn;
  vm->devices[vm->n_devices].opaque = opaque;
  vm->n_devices++;
  return 0;
}

int
vm__cmdline_append (struct arca_vm *vm, const char *text, arca_error **err)
{
  size_t used = strlen (vm->cmdline);
  int n = snprintf (vm->cmdline + used, sizeof (vm->cmdline) - used, "%s%s",
                    used > 0 ? " " : "", text);
  if (n < 0 || (size_t) n >= sizeof (vm->cmdline) - used)
    {
      vm->cmdline[used] = '\0';
      return arca_error_set (err, E2BIG, "kernel command line longer than %d bytes",
                             VM_CMDLINE_MAX - 1);
    }
  return 0;
}

void
vm__device_state (struct arca_vm *vm, void (*save) (void *, json_t *),
                  int (*restore) (void *, json_t *, const char **))
{
  if (vm->n_devices == 0)
    return;
  vm->devices[vm->n_devices - 1].save = save;
  vm->devices[vm->n_devices - 1].restore = restore;
}

static void
kick_all (struct arca_vm *vm)
{
  for (unsigned i = 0; i < vm->n_vcpus; i++)
    vcpu__kick (&vm->vcpus[i]);
}

void
vm__request_stop (struct arca_vm *vm, enum arca_vm_exit_reason reason, int code,
                  const char *message)
{
  pthread_mutex_lock (&vm->lock);
  if (vm->exit.reason == ARCA_VM_EXIT_NONE)
    {
      vm->exit.reason = reason;
      vm->exit.code = code;
      if (message != NULL)
        snprintf (vm->exit.message, sizeof (vm->exit.message), "%s", message);
    }
  vm->stopping = true;
  pthread_cond_broadcast (&vm->cond);
  pthread_mutex_unlock (&vm->lock);
  kick_all (vm);
  event_loop__stop (&vm->loop);
}

/* Reads the whole kernel (or initrd) file, bounded by guest RAM: nothing
   larger could be loaded anyway. */
static int
read_image (const char *path, uint64_t max, uint8_t **ret_buf, size_t *ret_size, arca_error **err)
{
  cleanup_close int fd = -1;
  cleanup_free uint8_t *buf = NULL;
  struct stat st;
  size_t done = 0;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", path);
  if (fstat (fd, &st) < 0)
    return arca_error_errno (err, "stat `%s`", path);
  if (!S_ISREG (st.st_mode))
    return arca_error_set (err, EINVAL, "`%s` is not a regular file", path);
  if ((uint64_t) st.st_size > max)
    return arca_error_set (err, EFBIG, "`%s` (%lld bytes) does not fit in guest memory", path,
                           (long long) st.st_size);
  buf = malloc (st.st_size > 0 ? (size_t) st.st_size : 1);
  if (buf == NULL)
    return arca_error_errno (err, "read `%s`", path);
  while (done < (size_t) st.st_size)
    {
      ssize_t n = read (fd, buf + done, (size_t) st.st_size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "read `%s`", path);
      if (n == 0)
        break;
      done += (size_t) n;
    }
  *ret_size = done;
  *ret_buf = move_ptr (buf);
  return 0;
}

static int
load_kernel (struct arca_vm *vm, const struct arca_vm_config *config, arca_error **err)
{
  cleanup_free uint8_t *kernel = NULL;
  cleanup_free uint8_t *initrd = NULL;
  size_t kernel_size = 0, initrd_size = 0;
  int r;

  if (config->kernel_path == NULL)
    return arca_error_set (err, EINVAL, "no kernel given");
  if (read_image (config->kernel_path, vm->mem.ram_size, &kernel, &kernel_size, err) < 0)
    return -1;
  if (config->initrd_path != NULL
      && read_image (config->initrd_path, vm->mem.ram_size, &initrd, &initrd_size, err) < 0)
    return -1;

  r = boot_elf__load (vm, kernel, kernel_size, initrd, initrd_size, err);
  if (r < 0 && (*err)->errnum == ENOEXEC && strstr ((*err)->msg, "not an ELF") != NULL)
    {
      arca_error_free (*err);
      *err = NULL;
      r = boot_linux__load (vm, kernel, kernel_size, initrd, initrd_size, err);
      if (r < 0 && (*err)->errnum == ENOEXEC && strstr ((*err)->msg, "not a bzImage") != NULL)
        {
          arca_error_free (*err);
          *err = NULL;
          return arca_error_set (err, ENOEXEC,
                                 "kernel `%s`: not an ELF or bzImage file (%zu bytes)",
                                 config->kernel_path, kernel_size);
        }
    }
  if (r < 0)
    return arca_error_wrap (err, "kernel `%s`", config->kernel_path);
  return 0;
}

static int
create_devices (struct arca_vm *vm, const struct arca_vm_config *config, arca_error **err)
{
  if (serial__create (vm, config->serial_in_fd, config->serial_out_fd, err) < 0
      || i8042__create (vm, err) < 0 || bootmarker__create (vm, err) < 0
      || debugexit__create (vm, err) < 0 || rtc__create (vm, err) < 0)
    return -1;
  if (config->transport == ARCA_VM_TRANSPORT_PCI && pci__init (vm, err) < 0)
    return -1;
  for (unsigned i = 0; i < config->n_drives; i++)
    if (virtio_blk__create (vm, &config->drives[i], err) < 0)
      return -1;
  if (config->rng && virtio_rng__create (vm, err) < 0)
    return -1;
  if (config->net.tap != NULL && virtio_net__create (vm, &config->net, err) < 0)
    return -1;
  if (config->vsock.uds_path != NULL && virtio_vsock__create (vm, &config->vsock, err) < 0)
    return -1;
  if (config->balloon
      && virtio_balloon__create (vm, (uint32_t) (config->balloon_mib << 8),
                                 config->balloon_stats_interval_s, err) < 0)
    return -1;
  return 0;
}

static void
remember_config (struct arca_vm *vm, const struct arca_vm_config *config)
{
  struct vm_machine_config *m = &vm->machine;

  m->mem_size_mib = config->mem_size_mib;
  m->vcpu_count = config->vcpu_count;
  m->rng = config->rng;
  m->transport = config->transport;
  m->acpi = config->acpi;
  m->n_drives = config->n_drives;
  m->balloon = config->balloon;
  m->balloon_stats_interval_s = config->balloon_stats_interval_s;
  if (config->net.tap != NULL)
    snprintf (m->net_tap, sizeof (m->net_tap), "%s", config->net.tap);
  memcpy (m->net_mac, config->net.mac, sizeof (m->net_mac));
  if (config->vsock.uds_path != NULL)
    {
      m->vsock_cid = config->vsock.cid;
      snprintf (m->vsock_path, sizeof (m->vsock_path), "%s", config->vsock.uds_path);
    }
  for (unsigned i = 0; i < config->n_drives; i++)
    {
      snprintf (m->drives[i].id, sizeof (m->drives[i].id), "%s",
                config->drives[i].id ? config->drives[i].id : "");
      snprintf (m->drives[i].path, sizeof (m->drives[i].path), "%s", config->drives[i].path);
      m->drives[i].read_only = config->drives[i].read_only;
    }
}

/* Adds the time since t to *acc; returns now. */
uint64_t
vm__phase_done (uint64_t *acc, uint64_t t)
{
  uint64_t now = arca_vm_now_ns ();
  *acc += now - t;
  return now;
}

static void *
kvm_early_run (void *arg)
{
  struct vm_kvm_early *k = arg;
  uint64_t t = arca_vm_now_ns ();

  k->r = kvm__create_vm (k->shell, &k->err);
  k->ns = arca_vm_now_ns () - t;
  return NULL;
}

int
vm__kvm_early_start (struct vm_kvm_early *k, arca_error **err)
{
  int e;

  memset (k, 0, sizeof *k);
  k->shell = calloc (1, sizeof *k->shell);
  if (k->shell == NULL)
    return arca_error_errno (err, "allocate vm");
  k->shell->kvm_fd = k->shell->vm_fd = -1;
  e = pthread_create (&k->thread, NULL, kvm_early_run, k);
  if (e != 0)
    {
      free (k->shell);
      k->shell = NULL;
      return arca_error_set (err, e, "start the KVM setup thread");
    }
  k->started = true;
  return 0;
}

/* Waits for the thread; moves what it made into vm (NULL: closes it). */
static int
kvm_early_join (struct vm_kvm_early *k, struct arca_vm *vm, arca_error **err)
{
  int r = 0;

  if (!k->started)
    return 0;
  pthread_join (k->thread, NULL);
  k->started = false;
  if (k->r < 0)
    {
      r = -1;
      if (err != NULL)
        *err = move_ptr (k->err);
    }
  else if (vm != NULL)
    {
      vm->kvm_fd = move_fd (k->shell->kvm_fd);
      vm->vm_fd = move_fd (k->shell->vm_fd);
      vm->run_size = k->shell->run_size;
    }
  arca_error_freep (&k->err);
  arca_closep (&k->shell->vm_fd);
  arca_closep (&k->shell->kvm_fd);
  free (k->shell);
  k->shell = NULL;
  return r;
}

void
vm__kvm_early_cancel (struct vm_kvm_early *k)
{
  kvm_early_join (k, NULL, NULL);
}

int
vm__build (const struct arca_vm_config *config, int mem_fd, bool restoring,
           struct arca_vm **ret_vm, arca_error **err)
{
  _cleanup_ (vm__kvm_early_cancel) struct vm_kvm_early k = { 0 };

  if (vm__kvm_early_start (&k, err) < 0)
    return -1;
  return vm__build_early (config, mem_fd, restoring, &k, ret_vm, err);
}

int
vm__build_early (const struct arca_vm_config *config, int mem_fd, bool restoring,
                 struct vm_kvm_early *k, struct arca_vm **ret_vm, arca_error **err)
{
  cleanup_vm struct arca_vm *vm = NULL;
  uint64_t mem_size = config->mem_size_mib << 20;
  struct arca_vm_restore_times *rt;
  uint64_t t;

  if (config->n_drives > ARCA_VM_MAX_DRIVES)
    return arca_error_set (err, EINVAL, "more than %d drives", ARCA_VM_MAX_DRIVES);
  if (config->vcpu_count < 1 || config->vcpu_count > ARCA_VM_MAX_VCPUS)
    return arca_error_set (err, EINVAL, "vcpu count %u is not in 1..%d", config->vcpu_count,
                           ARCA_VM_MAX_VCPUS);
  if (config->acpi && config->transport == ARCA_VM_TRANSPORT_PCI)
    return arca_error_set (err, EINVAL, "ACPI tables carry no PCI interrupt routing: use them with the mmio transport");
  if (config->mem_size_mib < 16 || config->mem_size_mib > (1ULL << 20))
    return arca_error_set (err, EINVAL, "memory size %llu MiB is not in 16..%llu",
                           (unsigned long long) config->mem_size_mib, 1ULL << 20);

  vm = calloc (1, sizeof (*vm));
  if (vm == NULL)
    return arca_error_errno (err, "allocate vm");
  vm->kvm_fd = vm->vm_fd = -1;
  vm->mem.memfd = -1;
  vm->loop.epoll_fd = vm->loop.stop_fd = -1;
  vm->log = config->log;
  vm->start_ns = config->start_ns != 0 ? config->start_ns : arca_vm_now_ns ();
  vm->entry_request = config->entry;
  vm->n_vcpus_planned = config->vcpu_count;
  vm->restoring = restoring;
  vm->pio.name = "pio";
  vm->mmio.name = "mmio";
  pthread_mutex_init (&vm->lock, NULL);
  pthread_cond_init (&vm->cond, NULL);
  for (unsigned i = 0; i < ARCA_VM_MAX_VCPUS; i++)
    vm->vcpus[i].fd = -1;
  remember_config (vm, config);
  rt = &vm->metrics.restore;

  if (event_loop__init (&vm->loop, err) < 0)
    return -1;
  /* Each phase's time, for a restore's breakdown in the metrics. */
  t = arca_vm_now_ns ();
  if (mem_fd >= 0 ? guest_mem__map_file (&vm->mem, mem_fd, mem_size, err) < 0
                  : guest_mem__alloc (&vm->mem, mem_size, err) < 0)
    return -1;
  t = vm__phase_done (&rt->mem_map_ns, t);
  if (k != NULL && k->started)
    {
      if (kvm_early_join (k, vm, err) < 0)
        return -1;
      rt->kvm_vm_ns = k->ns;
    }
  else if (kvm__create_vm (vm, err) < 0)
    return -1;
  t = vm__phase_done (&rt->kvm_vm_wait_ns, t);
  if (kvm__set_memory (vm, err) < 0)
    return -1;
  t = vm__phase_done (&rt->kvm_slots_ns, t);
  if (config->cmdline != NULL && vm__cmdline_append (vm, config->cmdline, err) < 0)
    return -1;
  if (create_devices (vm, config, err) < 0)
    return -1;
  t = vm__phase_done (&rt->devices_ns, t);
  if (!vm->restoring && (load_kernel (vm, config, err) < 0 || mptable__write (vm, err) < 0
                         || (config->acpi && acpi__write (vm, err) < 0)))
    return -1;
  t = arca_vm_now_ns ();
  for (unsigned i = 0; i < config->vcpu_count; i++)
    if (vcpu__create (vm, i, err) < 0)
      return -1;
  vm__phase_done (&rt->kvm_vcpus_ns, t);
  if (!vm->restoring)
    memset (rt, 0, sizeof (*rt));   /* the breakdown is a restore's only */
  if (!vm->restoring && boot_cpu__setup_entry (vm, &vm->vcpus[0], err) < 0)
    return -1;
  arca_debug (vm->log, "vm built: %u vcpu(s), %llu MiB, %s after %llu us", vm->n_vcpus,
              (unsigned long long) config->mem_size_mib,
              vm->restoring ? "from a snapshot" : vm->entry_pvh ? "pvh entry" : "64-bit entry",
              (unsigned long long) (vm__elapsed_ns (vm) / 1000));
  *ret_vm = move_ptr (vm);
  return 0;
}

int
arca_vm_create (const struct arca_vm_config *config, struct arca_vm **ret_vm, arca_error **err)
{
  return vm__build (config, -1, false, ret_vm, err);
}

int
arca_vm_pause_before_start (struct arca_vm *vm, arca_error **err)
{
  pthread_mutex_lock (&vm->lock);
  if (vm->started)
    {
      pthread_mutex_unlock (&vm->lock);
      return arca_error_set (err, EBUSY, "vm already started");
    }
  vm->paused = true;
  pthread_mutex_unlock (&vm->lock);
  return 0;
}

static void *
loop_thread (void *opaque)
{
  struct arca_vm *vm = opaque;
  cleanup_error arca_error *err = NULL;

  if (event_loop__run (&vm->loop, &err) < 0)
    vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, err->msg);
  return NULL;
}

int
arca_vm_start (struct arca_vm *vm, arca_error **err)
{
  int r;

  pthread_mutex_lock (&vm->lock);
  if (vm->started)
    {
      pthread_mutex_unlock (&vm->lock);
      return arca_error_set (err, EBUSY, "vm already started");
    }
  vm->started = true;
  pthread_mutex_unlock (&vm->lock);

  r = pthread_create (&vm->loop_thread, NULL, loop_thread, vm);
  if (r != 0)
    {
      vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, "cannot start the device thread");
      return arca_error_set (err, r, "start device thread");
    }
  vm->loop_started = true;
  for (unsigned i = 0; i < vm->n_vcpus; i++)
    if (vcpu__start (&vm->vcpus[i], err) < 0)
      {
        vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, "cannot start a vcpu thread");
        return -1;
      }
  return 0;
}

static void
join_all (struct arca_vm *vm)
{
  for (unsigned i = 0; i < vm->n_vcpus; i++)
    if (vm->vcpus[i].thread_started)
      {
        pthread_join (vm->vcpus[i].thread, NULL);
        vm->vcpus[i].thread_started = false;
      }
  if (vm->loop_started)
    {
      event_loop__stop (&vm->loop);
      pthread_join (vm->loop_thread, NULL);
      vm->loop_started = false;
    }
}

int
arca_vm_wait (struct arca_vm *vm, struct arca_vm_exit *ret_exit, arca_error **err)
{
  pthread_mutex_lock (&vm->lock);
  if (!vm->started)
    {
      pthread_mutex_unlock (&vm->lock);
      return arca_error_set (err, EINVAL, "vm not started");
    }
  while (!vm->stopping)
    pthread_cond_wait (&vm->cond, &vm->lock);
  pthread_mutex_unlock (&vm->lock);
  kick_all (vm);
  join_all (vm);
  if (ret_exit != NULL)
    *ret_exit = vm->exit;
  return 0;
}

void
arca_vm_stop (struct arca_vm *vm)
{
  vm__request_stop (vm, ARCA_VM_EXIT_STOPPED, 0, NULL);
}

bool
arca_vm_is_running (struct arca_vm *vm)
{
  bool r;
  pthread_mutex_lock (&vm->lock);
  r = vm->started && !vm->stopping;
  pthread_mutex_unlock (&vm->lock);
  return r;
}

bool
arca_vm_is_paused (struct arca_vm *vm)
{
  bool r;
  pthread_mutex_lock (&vm->lock);
  r = vm->paused;
  pthread_mutex_unlock (&vm->lock);
  return r;
}

int
arca_vm_pause (struct arca_vm *vm, arca_error **err)
{
  pthread_mutex_lock (&vm->lock);
  if (!vm->started || vm->stopping)
    {
      pthread_mutex_unlock (&vm->lock);
      return arca_error_set (err, EINVAL, "vm is not running");
    }
  vm->paused = true;
  pthread_mutex_unlock (&vm->lock);
  kick_all (vm);
  /* Returns once every vCPU is out of KVM_RUN, so its registers and guest
     memory are stable (snapshots rely on this). */
  pthread_mutex_lock (&vm->lock);
  while (vm->n_parked < vm->n_vcpus && !vm->stopping)
    pthread_cond_wait (&vm->cond, &vm->lock);
  pthread_mutex_unlock (&vm->lock);
  return 0;
}

int
arca_vm_resume (struct arca_vm *vm, arca_error **err)
{
  pthread_mutex_lock (&vm->lock);
  if (!vm->started || vm->stopping)
    {
      pthread_mutex_unlock (&vm->lock);
      return arca_error_set (err, EINVAL, "vm is not running");
    }
  vm->paused = false;
  pthread_cond_broadcast (&vm->cond);
  pthread_mutex_unlock (&vm->lock);
  return 0;
}

int
arca_vm_send_ctrl_alt_del (struct arca_vm *vm, arca_error **err)
{
  if (vm->i8042 == NULL || i8042__send_ctrl_alt_del (vm->i8042) < 0)
    return arca_error_set (err, EIO, "keyboard buffer full");
  return 0;
}

void
arca_vm_get_metrics (struct arca_vm *vm, struct arca_vm_metrics *ret)
{
  pthread_mutex_lock (&vm->lock);
  *ret = vm->metrics;
  pthread_mutex_unlock (&vm->lock);
}

void
arca_vm_free (struct arca_vm *vm)
{
  if (vm == NULL)
    return;
  if (vm->started)
    {
      vm__request_stop (vm, ARCA_VM_EXIT_STOPPED, 0, NULL);
      join_all (vm);
    }
  for (unsigned i = 0; i < vm->n_vcpus; i++)
    vcpu__destroy (&vm->vcpus[i]);
  /* Devices go in reverse order of creation: later ones may use earlier ones. */
  for (unsigned i = vm->n_devices; i > 0; i--)
    if (vm->devices[i - 1].free != NULL)
      vm->devices[i - 1].free (vm->devices[i - 1].opaque);
  guest_mem__free (&vm->mem);
  arca_closep (&vm->vm_fd);
  arca_closep (&vm->kvm_fd);
  event_loop__fini (&vm->loop);
  free (vm->cpuid);
  pthread_mutex_destroy (&vm->lock);
  pthread_cond_destroy (&vm->cond);
  free (vm);
}

void
arca_vm_freep (struct arca_vm **vm)
{
  arca_vm_free (*vm);
}
