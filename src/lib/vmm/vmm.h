/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-vmm: a KVM microVM monitor.  Public interface.
 *
 * One struct arca_vm holds a whole machine: the KVM fds, guest memory, the
 * device buses, one thread per vCPU and one epoll event-loop thread for the
 * devices.  The library never prints: the guest's serial console goes to
 * the fd the caller passes in config.serial_out_fd. */
#ifndef ARCA_VMM_VMM_H
#define ARCA_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"
#include "util/log.h"

#define ARCA_VM_MAX_VCPUS 8
#define ARCA_VM_MAX_DRIVES 8
#define ARCA_VM_MAX_BOOT_MARKERS 16

struct arca_vm;

struct arca_vm_drive_config {
  char *id;          /* API name ("rootfs"); may be NULL */
  char *path;        /* raw image on the host */
  bool read_only;
};

/* How the kernel is entered.  AUTO: a bzImage through the 64-bit boot
 * protocol, an ELF through its PVH note when it has one, else at e_entry in
 * 64-bit mode with a zero page in %rsi (as Firecracker boots vmlinux). */
enum arca_vm_boot_entry {
  ARCA_VM_ENTRY_AUTO = 0,
  ARCA_VM_ENTRY_LINUX64,    /* 64-bit mode, %rsi = boot_params */
  ARCA_VM_ENTRY_PVH,        /* 32-bit protected mode, %ebx = hvm_start_info */
};

/* How virtio devices reach the guest: virtio-mmio slots announced on the
 * kernel command line (minimal kernels), or PCI bus 0 (distribution
 * kernels, whose virtio-mmio has no command-line discovery). */
enum arca_vm_transport {
  ARCA_VM_TRANSPORT_MMIO = 0,
  ARCA_VM_TRANSPORT_PCI,
};

struct arca_vm_net_config {
  char *tap;         /* existing or new tap interface on the host */
  uint8_t mac[6];    /* the guest's */
};

/* virtio-vsock, host side as unix sockets (Firecracker's model). */
struct arca_vm_vsock_config {
  uint64_t cid;      /* the guest's context id, 3.. */
  char *uds_path;    /* host connects here ("CONNECT <port>\n"); guest
                        connections to the host go to "<uds_path>_<port>" */
};

struct arca_vm_config {
  unsigned vcpu_count;      /* 1..ARCA_VM_MAX_VCPUS */
  uint64_t mem_size_mib;    /* guest RAM */
  char *kernel_path;        /* bzImage or ELF */
  char *initrd_path;        /* optional */
  char *cmdline;            /* optional; virtio-mmio devices are appended */
  enum arca_vm_boot_entry entry;
  struct arca_vm_drive_config drives[ARCA_VM_MAX_DRIVES];
  unsigned n_drives;
  enum arca_vm_transport transport;   /* of every virtio device */
  bool acpi;                /* ACPI tables (MADT) besides the MP table; mmio only */
  bool rng;                 /* add a virtio-rng device */
  bool balloon;             /* add a virtio-balloon device */
  uint64_t balloon_mib;     /* its initial target */
  uint32_t balloon_stats_interval_s;   /* > 0: statistics queue, polled this often */
  struct arca_vm_net_config net;   /* net.tap NULL: no network */
  struct arca_vm_vsock_config vsock;   /* vsock.uds_path NULL: no vsock */
  int serial_in_fd;         /* -1: no console input */
  int serial_out_fd;        /* -1: console output discarded */
  bool seccomp;             /* API: arca_vm_sandbox() once the VM runs */
  uint64_t start_ns;        /* CLOCK_MONOTONIC origin for the timestamps;
                               0 = the time arca_vm_create() is called */
  const struct arca_log *log;
};

enum arca_vm_exit_reason {
  ARCA_VM_EXIT_NONE = 0,    /* still running */
  ARCA_VM_EXIT_DEBUG,       /* guest wrote its status to the debug-exit port */
  ARCA_VM_EXIT_RESET,       /* i8042 reset (0xFE to port 0x64) */
  ARCA_VM_EXIT_SHUTDOWN,    /* triple fault or KVM system event */
  ARCA_VM_EXIT_STOPPED,     /* arca_vm_stop() from the host */
  ARCA_VM_EXIT_ERROR,       /* KVM refused to run the vCPU */
};

struct arca_vm_exit {
  enum arca_vm_exit_reason reason;
  int code;                 /* ARCA_VM_EXIT_DEBUG: the guest's status */
  char message[160];        /* ARCA_VM_EXIT_ERROR: what failed */
};

/* Counters and timestamps (ns since config.start_ns), readable at any time. */
struct arca_vm_metrics {
  uint64_t first_serial_byte_ns;   /* 0 = none yet */
  uint64_t boot_marker_ns[ARCA_VM_MAX_BOOT_MARKERS];
  uint8_t boot_marker_value[ARCA_VM_MAX_BOOT_MARKERS];
  unsigned n_boot_markers;
  uint64_t serial_bytes_out;
  uint64_t pio_exits, mmio_exits;
  uint64_t unhandled_pio, unhandled_mmio;
  uint64_t virtio_requests;        /* chains completed by all devices */
  uint64_t virtio_errors;          /* malformed chains that failed a device */
  uint64_t blk_read_bytes, blk_write_bytes;
  uint64_t balloon_target_pages, balloon_actual_pages;
  uint64_t balloon_inflated_pages, balloon_deflated_pages;
  /* Where a restore's setup went, ns; total_ns 0 for a VM not restored
     from a snapshot (an incoming migration reports its part of the
     downtime in the source's arca_vm_migrate_stats instead).  kvm_*
     phases are KVM ioctls, the rest the VMM's own work; what is not
     listed (event loop, opening files) is total_ns minus their sum. */
  struct arca_vm_restore_times {
    uint64_t state_ns;          /* state file read, checksummed, parsed */
    uint64_t kvm_vm_ns;         /* /dev/kvm, KVM_CREATE_VM, irqchip, PIT (in a thread) */
    uint64_t kvm_vm_wait_ns;    /* how long the setup then waited for that thread */
    uint64_t mem_map_ns;        /* mmap of guest RAM (memory file or memfd) */
    uint64_t kvm_slots_ns;      /* KVM_SET_USER_MEMORY_REGION */
    uint64_t devices_ns;        /* device models (their ioeventfds/irqfds too) */
    uint64_t kvm_vcpus_ns;      /* KVM_CREATE_VCPU, kvm_run mmap, CPUID */
    uint64_t kvm_state_ns;      /* KVM_SET_* of irqchip, PIT, clock, vCPUs */
    uint64_t state_apply_ns;    /* decoding the state and device restore */
    uint64_t total_ns;          /* restore entry -> machine ready to run */
    uint64_t ready_ns;          /* since start_ns: the machine was ready */
  } restore;
};

const char *arca_vm_exit_reason_name (enum arca_vm_exit_reason reason);

/* Builds the whole machine: KVM VM, memory, devices, kernel loaded, vCPUs
 * in their boot state.  No thread runs yet. */
int arca_vm_create (const struct arca_vm_config *config, struct arca_vm **ret_vm,
                    arca_error **err);

/* Starts the vCPU threads and the device event loop. */
int arca_vm_start (struct arca_vm *vm, arca_error **err);

/* Blocks until the VM has stopped and all its threads are joined. */
int arca_vm_wait (struct arca_vm *vm, struct arca_vm_exit *ret_exit, arca_error **err);

/* Asks a running VM to stop (ARCA_VM_EXIT_STOPPED); returns at once. */
void arca_vm_stop (struct arca_vm *vm);

/* Pause/resume every vCPU (devices keep completing requests in flight). */
int arca_vm_pause (struct arca_vm *vm, arca_error **err);
int arca_vm_resume (struct arca_vm *vm, arca_error **err);
bool arca_vm_is_paused (struct arca_vm *vm);
bool arca_vm_is_running (struct arca_vm *vm);

/* Sets the balloon's target (MiB the guest should give back). */
int arca_vm_set_balloon (struct arca_vm *vm, uint64_t target_mib, arca_error **err);

/* virtio-balloon statistics (virtio 1.x 5.5.6.3), as the driver last
 * reported them: value[tag] is valid when bit tag of valid is set. */
enum {
  ARCA_VM_BALLOON_SWAP_IN = 0, ARCA_VM_BALLOON_SWAP_OUT, ARCA_VM_BALLOON_MAJFLT,
  ARCA_VM_BALLOON_MINFLT, ARCA_VM_BALLOON_MEMFREE, ARCA_VM_BALLOON_MEMTOT,
  ARCA_VM_BALLOON_AVAIL, ARCA_VM_BALLOON_CACHES, ARCA_VM_BALLOON_HTLB_PGALLOC,
  ARCA_VM_BALLOON_HTLB_PGFAIL, ARCA_VM_BALLOON_STATS
};
struct arca_vm_balloon_stats {
  uint64_t target_pages, actual_pages;
  uint32_t interval_s;
  uint32_t valid;
  uint64_t value[ARCA_VM_BALLOON_STATS];
  uint64_t updates;                 /* reports received */
  uint64_t updated_ns;              /* time of the last one, 0 = none */
};
/* Fails when the VM has no balloon or it was created without statistics. */
int arca_vm_balloon_stats (struct arca_vm *vm, struct arca_vm_balloon_stats *ret, arca_error **err);
/* A new polling interval (> 0); statistics cannot be turned on or off
   once the machine is built. */
int arca_vm_set_balloon_stats_interval (struct arca_vm *vm, uint32_t seconds, arca_error **err);

/* Injects Ctrl-Alt-Del as the guest's keyboard would (i8042 scancodes). */
int arca_vm_send_ctrl_alt_del (struct arca_vm *vm, arca_error **err);

void arca_vm_get_metrics (struct arca_vm *vm, struct arca_vm_metrics *ret);

/* Restricts every thread of the process to what a running VM needs
 * (seccomp, EPERM for the rest).  Call once the VM is started: building
 * another machine afterwards is no longer possible. */
int arca_vm_sandbox (struct arca_vm *vm, arca_error **err);

/* Snapshots (docs/vmm.md): the VM must be paused.  The state file is
 * versioned and checksummed; the memory file is a sparse image of guest RAM. */
int arca_vm_snapshot (struct arca_vm *vm, const char *state_path, const char *mem_path,
                      arca_error **err);
/* Builds a VM from a snapshot: devices from the saved configuration (drive
 * paths as saved), memory mapped MAP_PRIVATE from mem_path so pages load
 * lazily.  config supplies only the host side: serial fds, log, start_ns. */
int arca_vm_restore (const struct arca_vm_config *config, const char *state_path,
                     const char *mem_path, struct arca_vm **ret_vm, arca_error **err);
/* Live migration (docs/vmm.md#live-migration).  Addresses: unix:PATH,
 * tcp:HOST:PORT (numeric IPv4), or a socket path. */
#define ARCA_VM_MIGRATE_MAX_ROUNDS 30
struct arca_vm_migrate_params {
  const char *destination;
  uint64_t max_downtime_ms;   /* stop-and-copy once the rest fits in this; 0 = 50 */
  unsigned max_rounds;        /* pre-copy rounds at most; 0 = 10 */
};
struct arca_vm_migrate_stats {
  unsigned n_rounds;                                  /* pre-copy rounds */
  uint64_t round_pages[ARCA_VM_MIGRATE_MAX_ROUNDS];   /* pages sent per round */
  uint64_t round_us[ARCA_VM_MIGRATE_MAX_ROUNDS];
  uint64_t final_pages;       /* sent while the VM was paused */
  uint64_t state_bytes;
  uint64_t downtime_us;       /* source paused -> destination running */
  uint64_t total_us;
  /* Where the downtime went (us).  Source: pause .. wait, in order, sum to
     at most downtime_us; kvm_* are KVM ioctls.  dst_*: the destination's
     own clock for its part of `wait` (0 from a destination that does not
     report them). */
  struct arca_vm_migrate_downtime {
    uint64_t pause_us;          /* vCPUs out of KVM_RUN */
    uint64_t kvm_dirty_log_us;  /* the last KVM_GET_DIRTY_LOG */
    uint64_t final_send_us;     /* the last dirty pages onto the socket */
    uint64_t kvm_state_us;      /* KVM_GET_* of vCPUs, irqchip, PIT, clock */
    uint64_t state_save_us;     /* the rest of the state: JSON, devices */
    uint64_t state_send_us;     /* the state record onto the socket */
    uint64_t wait_us;           /* state sent -> the destination's answer */
    uint64_t dst_receive_us;    /* state record read, checksummed, parsed */
    uint64_t dst_kvm_state_us;  /* KVM_SET_* */
    uint64_t dst_apply_us;      /* decoding, device state */
    uint64_t dst_start_us;      /* vCPU and device threads started */
  } downtime;
};
/* Pre-copies guest RAM to the destination with KVM dirty-page logging,
 * then pauses, sends what is left plus the device and vCPU state, and once
 * the destination runs stops this VM (ARCA_VM_EXIT_STOPPED, "migrated").
 * On any failure the VM keeps running (or paused, if it was). */
int arca_vm_migrate (struct arca_vm *vm, const struct arca_vm_migrate_params *params,
                     struct arca_vm_migrate_stats *ret_stats, arca_error **err);
/* The destination: accepts one migration on address, builds the VM from
 * the stream and starts it (parked if paused).  config supplies the host
 * side only, as for arca_vm_restore(). */
int arca_vm_migrate_incoming (const struct arca_vm_config *config, const char *address,
                              bool paused, struct arca_vm **ret_vm, arca_error **err);

/* Makes arca_vm_start() leave every vCPU parked until arca_vm_resume(). */
int arca_vm_pause_before_start (struct arca_vm *vm, arca_error **err);

/* The control API (docs/vmm-api.md): HTTP/1.1 over a unix socket. */
struct arca_vmm_api;
/* Listens on sock_path; config gives the defaults the API can change. */
int arca_vmm_api_new (const char *sock_path, const struct arca_vm_config *config,
                      struct arca_vmm_api **ret_api, arca_error **err);
/* Binds and listens on sock_path: the listening fd for arca_vmm_api_new_fd
   (--jail binds it before the VMM loses sight of the host's files). */
int arca_vmm_api_listen (const char *sock_path, int *ret_fd, arca_error **err);
/* As arca_vmm_api_new on a listening fd it takes; the socket file is the
   caller's to remove. */
int arca_vmm_api_new_fd (int listen_fd, const struct arca_vm_config *config,
                         struct arca_vmm_api **ret_api, arca_error **err);
/* Builds the configured machine without starting it (--jail locks itself
   in between); arca_vmm_api_boot starts it. */
int arca_vmm_api_create (struct arca_vmm_api *api, arca_error **err);
/* --jail: the paths requests name (snapshot files) are files inside the
   jail's root, resolved beneath it (files), or refused (!files). */
int arca_vmm_api_jail (struct arca_vmm_api *api, bool files, arca_error **err);
/* Boots the configured machine at once, as InstanceStart would. */
int arca_vmm_api_boot (struct arca_vmm_api *api, arca_error **err);
/* Receives a live migration on address (blocking; the API is served once
   it is done) and adopts the running machine, which can then be driven
   and migrated again over the API. */
int arca_vmm_api_incoming (struct arca_vmm_api *api, const char *address, bool paused,
                           arca_error **err);
/* Serves requests until the VM has stopped (or arca_vmm_api_stop()). */
int arca_vmm_api_run (struct arca_vmm_api *api, struct arca_vm_exit *ret_exit, arca_error **err);
/* Thread-safe: stops the VM if one runs, else ends arca_vmm_api_run(). */
void arca_vmm_api_stop (struct arca_vmm_api *api);
struct arca_vm *arca_vmm_api_vm (struct arca_vmm_api *api);
void arca_vmm_api_free (struct arca_vmm_api *api);
void arca_vmm_api_freep (struct arca_vmm_api **api);
#define cleanup_vmm_api __attribute__ ((cleanup (arca_vmm_api_freep)))

void arca_vm_free (struct arca_vm *vm);
void arca_vm_freep (struct arca_vm **vm);
#define cleanup_vm __attribute__ ((cleanup (arca_vm_freep)))

uint64_t arca_vm_now_ns (void);

#endif
