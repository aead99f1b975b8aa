/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One thread per vCPU: KVM_RUN, dispatch the exit to a bus, repeat.
 *
 * Stopping and pausing use KVM's immediate_exit flag plus a signal: the
 * requester changes the state under vm->lock, then sets immediate_exit and
 * signals the thread.  Whether the signal lands before or inside KVM_RUN,
 * the vCPU returns to userspace and sees the new state. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "util/cleanup.h"
#include "vm.h"

#define SIG_VCPU_KICK (SIGRTMIN + 3)

static void
kick_handler (int sig)
{
  (void) sig;
}

int
vcpu__create (struct arca_vm *vm, unsigned id, arca_error **err)
{
  struct vm_vcpu *vcpu = &vm->vcpus[id];
  cleanup_close int fd = -1;
  void *run;

  fd = ioctl (vm->vm_fd, KVM_CREATE_VCPU, (unsigned long) id);
  if (fd < 0)
    return arca_error_errno (err, "KVM_CREATE_VCPU %u", id);
  run = mmap (NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (run == MAP_FAILED)
    return arca_error_errno (err, "mmap kvm_run of vcpu %u", id);
  vcpu->vm = vm;
  vcpu->id = id;
  vcpu->run = run;
  vcpu->fd = move_fd (fd);
  vm->n_vcpus = id + 1;
  return boot_cpu__setup_cpuid (vm, vcpu, err);
}

void
vcpu__destroy (struct vm_vcpu *vcpu)
{
  if (vcpu->run != NULL)
    munmap (vcpu->run, vcpu->vm->run_size);
  vcpu->run = NULL;
  arca_closep (&vcpu->fd);
}

void
vcpu__kick (struct vm_vcpu *vcpu)
{
  if (vcpu->run == NULL)
    return;
  __atomic_store_n (&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (vcpu->thread_started)
    pthread_kill (vcpu->thread, SIG_VCPU_KICK);
}

static void
handle_io (struct vm_vcpu *vcpu)
{
  struct arca_vm *vm = vcpu->vm;
  struct kvm_run *run = vcpu->run;
  uint8_t *data = (uint8_t *) run + run->io.data_offset;
  uint32_t size = run->io.size;
  bool handled = true;

  VM_COUNT (vm, pio_exits, 1);
  /* String I/O (rep outsb) arrives as count back-to-back items. */
  for (uint32_t i = 0; i < run->io.count; i++, data += size)
    {
      if (run->io.direction == KVM_EXIT_IO_OUT)
        handled = vm_bus__write (&vm->pio, run->io.port, data, size);
      else
        handled = vm_bus__read (&vm->pio, run->io.port, data, size);
    }
  if (!handled)
    VM_COUNT (vm, unhandled_pio, 1);
}

static void
handle_mmio (struct vm_vcpu *vcpu)
{
  struct arca_vm *vm = vcpu->vm;
  struct kvm_run *run = vcpu->run;
  uint32_t len = run->mmio.len;
  bool handled;

  VM_COUNT (vm, mmio_exits, 1);
  if (len == 0 || len > sizeof (run->mmio.data))
    return;
  /* Reads and writes outside RAM with no device behind them land here too:
     they read all ones and are otherwise ignored, as on real hardware. */
  if (run->mmio.is_write)
    handled = vm_bus__write (&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
  else
    handled = vm_bus__read (&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
  if (!handled)
    VM_COUNT (vm, unhandled_mmio, 1);
}

/* Returns false when the vCPU must stop. */
static bool
handle_exit (struct vm_vcpu *vcpu)
{
  struct arca_vm *vm = vcpu->vm;
  struct kvm_run *run = vcpu->run;
  char msg[160];

  switch (run->exit_reason)
    {
    case KVM_EXIT_IO:
      handle_io (vcpu);
      return true;
    case KVM_EXIT_MMIO:
      handle_mmio (vcpu);
      return true;
    case KVM_EXIT_HLT:
      /* Only without an in-kernel LAPIC; with one KVM blocks in HLT itself.
         A halted uniprocessor guest with interrupts off is dead. */
      vm__request_stop (vm, ARCA_VM_EXIT_SHUTDOWN, 0, "guest halted");
      return false;
    case KVM_EXIT_SHUTDOWN:
      {
        struct kvm_regs regs;
        struct kvm_sregs sregs;
        if (ioctl (vcpu->fd, KVM_GET_REGS, &regs) == 0 && ioctl (vcpu->fd, KVM_GET_SREGS, &sregs) == 0)
          snprintf (msg, sizeof (msg), "triple fault at rip 0x%llx (cs 0x%x cr0 0x%llx efer 0x%llx)",
                    (unsigned long long) regs.rip, sregs.cs.selector,
                    (unsigned long long) sregs.cr0, (unsigned long long) sregs.efer);
        else
          snprintf (msg, sizeof (msg), "triple fault");
        vm__request_stop (vm, ARCA_VM_EXIT_SHUTDOWN, 0, msg);
        return false;
      }
    case KVM_EXIT_SYSTEM_EVENT:
      if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
        vm__request_stop (vm, ARCA_VM_EXIT_RESET, 0, "system reset");
      else
        vm__request_stop (vm, ARCA_VM_EXIT_SHUTDOWN, 0, "system event");
      return false;
    case KVM_EXIT_FAIL_ENTRY:
      snprintf (msg, sizeof (msg), "vcpu %u: entry failed, hardware reason 0x%llx", vcpu->id,
                (unsigned long long) run->fail_entry.hardware_entry_failure_reason);
      vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, msg);
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      snprintf (msg, sizeof (msg), "vcpu %u: KVM internal error, suberror %u", vcpu->id,
                run->internal.suberror);
      vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, msg);
      return false;
    case KVM_EXIT_INTR:
      return true;
    default:
      snprintf (msg, sizeof (msg), "vcpu %u: unexpected KVM exit reason %u", vcpu->id,
                run->exit_reason);
      vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, msg);
      return false;
    }
}

/* KVM finishes a PIO or MMIO exit (RIP past the OUT/IN or MOV, an IN's or
   read's value in its register) only when KVM_RUN is entered again.  A
   vCPU parked straight after handling one would be saved by a snapshot or
   a migration with RIP still on that instruction, and the restored guest
   would execute it twice (a console byte printed twice, a device register
   written twice).  With immediate_exit set, KVM_RUN completes what is
   pending and returns at once without running guest code (the KVM API's
   advice for KVM_EXIT_IO/KVM_EXIT_MMIO before saving state). */
static void
complete_pending_exit (struct vm_vcpu *vcpu)
{
  __atomic_store_n (&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  (void) ioctl (vcpu->fd, KVM_RUN, 0); /* -1 with EINTR is the expected result */
  __atomic_store_n (&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

/* Checks the run state after every return from KVM_RUN.  Returns false to
   end the thread; parks here while the VM is paused. */
static bool
check_state (struct vm_vcpu *vcpu)
{
  struct arca_vm *vm = vcpu->vm;
  bool keep = true;

  pthread_mutex_lock (&vm->lock);
  bool pausing = vm->paused && !vm->stopping;
  pthread_mutex_unlock (&vm->lock);
  if (pausing)
    complete_pending_exit (vcpu);

  pthread_mutex_lock (&vm->lock);
  if (vm->paused && !vm->stopping)
    {
      vm->n_parked++;
      pthread_cond_broadcast (&vm->cond);
      while (vm->paused && !vm->stopping)
        pthread_cond_wait (&vm->cond, &vm->lock);
      vm->n_parked--;
    }
  if (vm->stopping)
    keep = false;
  pthread_mutex_unlock (&vm->lock);
  return keep;
}

static void *
vcpu_thread (void *opaque)
{
  struct vm_vcpu *vcpu = opaque;
  struct arca_vm *vm = vcpu->vm;
  sigset_t set;
  char name[16];

  snprintf (name, sizeof (name), "vcpu%u", vcpu->id);
  pthread_setname_np (pthread_self (), name);
  sigemptyset (&set);
  sigaddset (&set, SIG_VCPU_KICK);
  pthread_sigmask (SIG_UNBLOCK, &set, NULL);

  while (check_state (vcpu))
    {
      int r = ioctl (vcpu->fd, KVM_RUN, 0);
      int saved = errno;

      __atomic_store_n (&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
      if (r < 0)
        {
          char msg[160];
          if (saved == EINTR || saved == EAGAIN)
            continue;
          snprintf (msg, sizeof (msg), "vcpu %u: KVM_RUN: %s", vcpu->id, strerror (saved));
          vm__request_stop (vm, ARCA_VM_EXIT_ERROR, 0, msg);
          break;
        }
      if (!handle_exit (vcpu))
        break;
    }
  {
    /* Where each vCPU was when the VM stopped: cheap, and the first thing
       one wants when a guest misbehaves. */
    struct kvm_regs regs;
    struct kvm_mp_state mp;
    if (vm->log != NULL && vm->log->level >= ARCA_LOG_DEBUG && ioctl (vcpu->fd, KVM_GET_REGS, &regs) == 0
        && ioctl (vcpu->fd, KVM_GET_MP_STATE, &mp) == 0)
      arca_debug (vm->log, "vcpu %u stopped at rip 0x%llx, mp_state %u", vcpu->id,
                  (unsigned long long) regs.rip, mp.mp_state);
  }
  return NULL;
}

int
vcpu__start (struct vm_vcpu *vcpu, arca_error **err)
{
  struct sigaction sa = { .sa_handler = kick_handler };
  sigset_t set, old;
  int r;

  /* The handler only has to exist so the kick interrupts KVM_RUN instead of
     killing the process; installing it again is harmless. */
  sigemptyset (&sa.sa_mask);
  if (sigaction (SIG_VCPU_KICK, &sa, NULL) < 0)
    return arca_error_errno (err, "install vcpu kick signal handler");
  /* Block other signals in the vCPU thread: SIGINT/SIGTERM belong to the
     main thread, and would otherwise make KVM_RUN return EINTR at random. */
  sigfillset (&set);
  pthread_sigmask (SIG_SETMASK, &set, &old);
  r = pthread_create (&vcpu->thread, NULL, vcpu_thread, vcpu);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (r != 0)
    return arca_error_set (err, r, "start vcpu %u thread", vcpu->id);
  vcpu->thread_started = true;
  return 0;
}
