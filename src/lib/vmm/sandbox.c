/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The running VMM's seccomp filter (after Firecracker's jailer): once the
 * machine is built and its threads run, every thread of the process is
 * limited to the system calls a running VM needs -- KVM ioctls by request
 * number, fd I/O on descriptors it already holds, epoll, futex, signals to
 * its own threads, memory management for malloc, and the file calls a
 * snapshot writes, and the stream socket a live migration connects.  No
 * exec, no listening sockets, no mount, no ptrace.  A call
 * outside the list fails with EPERM (the caller reports it) rather than
 * killing the VM. */
#include <errno.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "util/cleanup.h"
#include "vm.h"

static const int allowed[] = {
  SCMP_SYS (read), SCMP_SYS (write), SCMP_SYS (readv), SCMP_SYS (writev),
  SCMP_SYS (pread64), SCMP_SYS (pwrite64), SCMP_SYS (preadv), SCMP_SYS (pwritev),
  SCMP_SYS (close), SCMP_SYS (fstat), SCMP_SYS (newfstatat), SCMP_SYS (lseek),
  SCMP_SYS (fdatasync), SCMP_SYS (fsync), SCMP_SYS (ftruncate),
  SCMP_SYS (fallocate),   /* the balloon punches holes in guest memory */
  SCMP_SYS (timerfd_settime),   /* a new balloon statistics interval */
  SCMP_SYS (epoll_wait), SCMP_SYS (epoll_pwait), SCMP_SYS (epoll_ctl),
  SCMP_SYS (futex), SCMP_SYS (nanosleep), SCMP_SYS (clock_nanosleep), SCMP_SYS (clock_gettime),
  SCMP_SYS (getrandom), SCMP_SYS (getpid), SCMP_SYS (gettid),
  SCMP_SYS (rt_sigprocmask), SCMP_SYS (rt_sigreturn), SCMP_SYS (rt_sigtimedwait),
  SCMP_SYS (tgkill), SCMP_SYS (sigaltstack),
  SCMP_SYS (brk), SCMP_SYS (mmap), SCMP_SYS (munmap), SCMP_SYS (mremap), SCMP_SYS (madvise),
  SCMP_SYS (mprotect),
  SCMP_SYS (exit), SCMP_SYS (exit_group), SCMP_SYS (restart_syscall),
  /* API connections on the already-bound socket. */
  SCMP_SYS (accept4), SCMP_SYS (recvfrom), SCMP_SYS (sendto),
  /* Live migration: connect to the destination (socket() is limited to
     unix and IPv4 streams below). */
  SCMP_SYS (connect), SCMP_SYS (setsockopt),
  /* ... and its records: header and pages in one sendmsg (migrate-wire.c). */
  SCMP_SYS (sendmsg),
  /* virtio-vsock: a guest's connection to the host ends with shutdown. */
  SCMP_SYS (shutdown),
  /* snapshot/create: memory and state files. */
  SCMP_SYS (openat), SCMP_SYS (rename), SCMP_SYS (unlink),
  /* --jail --jail-dir: the API resolves those files beneath the jail's root. */
  SCMP_SYS (openat2),
  /* glibc's thread exit and pthread_join. */
  SCMP_SYS (set_robust_list), SCMP_SYS (rseq),
};

/* ioctl request numbers the running VM uses (vCPU run, pause/snapshot
   state reads, interrupt lines).  Creating VMs or vCPUs is not among
   them; setting a memory slot is, for migration's dirty logging (it can
   only map memory of this process into its own guest). */
static const unsigned long allowed_ioctls[] = {
  KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_FPU, KVM_GET_LAPIC, KVM_GET_MP_STATE,
  KVM_GET_VCPU_EVENTS, KVM_GET_XSAVE, KVM_GET_XCRS, KVM_GET_MSRS, KVM_GET_MSR_INDEX_LIST,
  KVM_CHECK_EXTENSION, KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK, KVM_IRQ_LINE,
  /* Live migration: dirty-page logging is a flag on the existing slots. */
  KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG,
};

int
arca_vm_sandbox (struct arca_vm *vm, arca_error **err)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int r = 0;

  if (ctx == NULL)
    return arca_error_set (err, ENOMEM, "seccomp_init");
  for (size_t i = 0; i < ARRAY_SIZE (allowed) && r == 0; i++)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, allowed[i], 0);
  for (size_t i = 0; i < ARRAY_SIZE (allowed_ioctls) && r == 0; i++)
    {
      struct scmp_arg_cmp cmp = { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = allowed_ioctls[i],
                                  .datum_b = 0 };
      r = seccomp_rule_add_array (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ioctl), 1, &cmp);
    }
  for (int family = AF_UNIX; family <= AF_INET && r == 0; family += AF_INET - AF_UNIX)
    {
      struct scmp_arg_cmp cmp[2] = {
        { .arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t) family },
        { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = SOCK_STREAM | SOCK_CLOEXEC },
      };
      r = seccomp_rule_add_array (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 2, cmp);
    }
  /* virtio-vsock connects guest connections to the host's unix sockets. */
  if (r == 0)
    {
      struct scmp_arg_cmp cmp[2] = {
        { .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX },
        { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK },
      };
      r = seccomp_rule_add_array (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 2, cmp);
    }
  /* Every thread, including the vCPUs already running. */
  if (r == 0)
    r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  if (r == 0)
    r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    return arca_error_set (err, -r, "load the VMM's seccomp filter");
  arca_debug (vm->log, "seccomp filter loaded");
  return 0;
}
