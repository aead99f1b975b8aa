/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine: everything one VM owns.  Internal to the vmm concern. */
#ifndef ARCA_VMM_VM_H
#define ARCA_VMM_VM_H

#include <jansson.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "eventloop.h"
#include "memory.h"
#include "vmm.h"

struct pci_bus;

#define VM_MAX_DEVICES 32
#define VM_CMDLINE_MAX 4096

/* Fixed guest physical layout (see docs/vmm.md). */
#define LAYOUT_GDT 0x500ULL
#define LAYOUT_PVH_START_INFO 0x6000ULL  /* hvm_start_info, then its memory map */
#define LAYOUT_BOOT_PARAMS 0x7000ULL
#define LAYOUT_PML4 0x9000ULL
#define LAYOUT_PDPT 0xa000ULL
#define LAYOUT_PD 0xb000ULL          /* 4 pages: identity map of 4 GiB */
#define LAYOUT_BOOT_STACK 0x8ff0ULL  /* below the page tables, grows down */
#define LAYOUT_CMDLINE 0x20000ULL
#define LAYOUT_KERNEL 0x100000ULL
#define LAYOUT_VIRTIO_MMIO 0xd0000000ULL
#define LAYOUT_VIRTIO_MMIO_SIZE 0x1000ULL
#define LAYOUT_TSS 0xfffbd000ULL
#define LAYOUT_IDENTITY_MAP 0xfffbc000ULL
#define LAYOUT_VIRTIO_IRQ_BASE 5
#define LAYOUT_PCI_MMIO 0xe0000000ULL     /* BARs of PCI bus 0 */
#define LAYOUT_PCI_MMIO_SIZE 0x10000000ULL
#define LAYOUT_PCI_MAX_DEVICES 8          /* slots 1..8, IOAPIC pins 16..23 */

/* Fixed I/O ports. */
#define PORT_COM1 0x3f8
#define IRQ_COM1 4
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define PORT_BOOT_MARKER 0x3f0
#define PORT_DEBUG_EXIT 0x501

struct vm_vcpu {
  struct arca_vm *vm;
  unsigned id;
  int fd;
  struct kvm_run *run;
  pthread_t thread;
  bool thread_started;
};

/* Devices register a destructor so arca_vm_free() needs no list of types,
   and optionally their snapshot state (a JSON object per device, in
   creation order). */
struct vm_device {
  void (*free) (void *opaque);
  void *opaque;
  void (*save) (void *opaque, json_t *state);
  int (*restore) (void *opaque, json_t *state, const char **why);
};

/* What the machine was built from, kept for snapshots. */
struct vm_machine_config {
  uint64_t mem_size_mib;
  unsigned vcpu_count;
  bool rng;
  unsigned n_drives;
  struct {
    char id[64];
    char path[4096];
    bool read_only;
  } drives[ARCA_VM_MAX_DRIVES];
  char net_tap[16];              /* "" = no network */
  bool balloon;
  uint32_t balloon_stats_interval_s;
  uint8_t net_mac[6];
  uint64_t vsock_cid;
  char vsock_path[108];          /* "" = no vsock */
  enum arca_vm_transport transport;
  bool acpi;
};

struct arca_vm {
  const struct arca_log *log;
  struct vm_machine_config machine;
  uint64_t start_ns;

  int kvm_fd;
  int vm_fd;
  size_t run_size;
  struct kvm_cpuid2 *cpuid;      /* supported CPUID, filtered */

  struct guest_mem mem;
  struct vm_bus pio;
  struct vm_bus mmio;
  struct vm_device devices[VM_MAX_DEVICES];
  unsigned n_devices;
  struct i8042 *i8042;           /* for SendCtrlAltDel */
  struct balloon *balloon;       /* for arca_vm_set_balloon, or NULL */
  struct virtio_dev *balloon_transport;
  unsigned n_virtio;             /* virtio-mmio slots used */
  struct pci_bus *pci;           /* NULL unless the transport is PCI */
  uint64_t acpi_rsdp;            /* 0 without ACPI tables */
  char cmdline[VM_CMDLINE_MAX];

  /* Boot state of the first vCPU, set by the kernel loader. */
  uint64_t entry;
  uint64_t boot_params_gpa;      /* %rsi (64-bit entry) or %ebx (PVH) */
  bool entry_pvh;                /* start in 32-bit protected mode */
  enum arca_vm_boot_entry entry_request;

  struct vm_vcpu vcpus[ARCA_VM_MAX_VCPUS];
  unsigned n_vcpus;
  unsigned n_vcpus_planned;      /* config.vcpu_count, for CPUID */

  struct event_loop loop;
  pthread_t loop_thread;
  bool loop_started;

  /* Run state, under lock. */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool started;
  bool restoring;                /* built from a snapshot: no kernel to load */
  bool stopping;
  bool paused;
  unsigned n_parked;             /* vCPUs waiting while paused */
  struct arca_vm_exit exit;

  /* Metrics: counters are updated with __atomic builtins, the boot markers
     under lock. */
  struct arca_vm_metrics metrics;
  uint64_t save_kvm_ns;          /* KVM_GET_* time of state saves (migration) */
};

#define VM_COUNT(vm, field, n) __atomic_add_fetch (&(vm)->metrics.field, (n), __ATOMIC_RELAXED)

/* Builds the machine; mem_fd >= 0 maps guest RAM from a snapshot's memory
   file (else a fresh memfd).  restoring: no kernel is loaded and the vCPUs
   keep their reset state, the caller loads saved state (restore, incoming
   migration). */
int vm__build (const struct arca_vm_config *config, int mem_fd, bool restoring,
               struct arca_vm **ret_vm, arca_error **err);

/* KVM_CREATE_VM with its irqchip and PIT, in a thread of its own: it is
   kernel work the VMM's setup (a snapshot's state file, guest memory) can
   overlap, and on a nested host it is the biggest part of a restore (tens
   of ms: the NX-huge-page worker thread, the mmu notifier, debugfs). */
struct vm_kvm_early {
  pthread_t thread;
  bool started;
  struct arca_vm *shell;         /* the thread's: only its KVM fields are set */
  int r;
  arca_error *err;
  uint64_t ns;                   /* the thread's own time */
};
int vm__kvm_early_start (struct vm_kvm_early *k, arca_error **err);
/* Joins the thread and drops what it made (cleanup attribute). */
void vm__kvm_early_cancel (struct vm_kvm_early *k);
/* vm__build taking the KVM VM from k, started before (by a restore, before
   it reads the state file). */
int vm__build_early (const struct arca_vm_config *config, int mem_fd, bool restoring,
                     struct vm_kvm_early *k, struct arca_vm **ret_vm, arca_error **err);
int vm__add_device (struct arca_vm *vm, void (*free_fn) (void *), void *opaque, arca_error **err);
/* Sets the snapshot hooks of the device added last. */
void vm__device_state (struct arca_vm *vm, void (*save) (void *, json_t *),
                       int (*restore) (void *, json_t *, const char **));
/* The first stop reason wins; later calls only make sure everything stops. */
void vm__request_stop (struct arca_vm *vm, enum arca_vm_exit_reason reason, int code,
                       const char *message);
uint64_t vm__elapsed_ns (struct arca_vm *vm);
/* Adds the time since t (arca_vm_now_ns) to *acc; returns now. */
uint64_t vm__phase_done (uint64_t *acc, uint64_t t);
/* Appends " text" to the kernel command line. */
int vm__cmdline_append (struct arca_vm *vm, const char *text, arca_error **err);

/* kvm.c */
int kvm__create_vm (struct arca_vm *vm, arca_error **err);
int kvm__set_memory (struct arca_vm *vm, arca_error **err);
/* Turns KVM dirty-page logging on or off for every RAM slot. */
int kvm__dirty_logging (struct arca_vm *vm, bool on, arca_error **err);
/* Fetches and clears slot's dirty bitmap (one bit per 4 KiB page). */
int kvm__get_dirty_log (struct arca_vm *vm, unsigned slot, uint64_t *bitmap, arca_error **err);
int kvm__irq_line (struct arca_vm *vm, unsigned gsi, int level);
int kvm__ioeventfd (struct arca_vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch,
                    int fd, arca_error **err);
int kvm__irqfd (struct arca_vm *vm, unsigned gsi, int fd, arca_error **err);

/* vcpu.c */
int vcpu__create (struct arca_vm *vm, unsigned id, arca_error **err);
int vcpu__start (struct vm_vcpu *vcpu, arca_error **err);
void vcpu__kick (struct vm_vcpu *vcpu);
void vcpu__destroy (struct vm_vcpu *vcpu);

/* boot-cpu.c: CPUID for every vCPU; page tables, GDT and the entry register
   state (64-bit or PVH 32-bit) for the boot vCPU. */
int boot_cpu__setup_cpuid (struct arca_vm *vm, struct vm_vcpu *vcpu, arca_error **err);
int boot_cpu__setup_entry (struct arca_vm *vm, struct vm_vcpu *vcpu, arca_error **err);

/* boot-linux.c / boot-elf.c.  Both return 0 and fill vm->entry, or -1; when
   the image is not of their format they fail with ENOEXEC. */
int boot_linux__load (struct arca_vm *vm, const uint8_t *image, size_t size,
                      const uint8_t *initrd, size_t initrd_size, arca_error **err);
int boot_elf__load (struct arca_vm *vm, const uint8_t *image, size_t size,
                    const uint8_t *initrd, size_t initrd_size, arca_error **err);
/* boot-params.c: the zero page (e820, cmdline, initrd) both loaders share. */
struct vm_e820_entry {
  uint64_t addr, size;
  uint32_t type;
};
unsigned boot_params__memory_map (struct arca_vm *vm, struct vm_e820_entry *out, unsigned max);
/* Copies vm->cmdline to LAYOUT_CMDLINE; max_size 0 = no kernel limit. */
int boot_params__write_cmdline (struct arca_vm *vm, uint64_t max_size, arca_error **err);
int boot_params__write (struct arca_vm *vm, const uint8_t *setup_header, size_t header_len,
                        uint64_t initrd_gpa, uint64_t initrd_size, arca_error **err);
/* mptable.c: MP spec 1.4 tables in the EBDA (processors, IOAPIC, IRQs). */
int mptable__write (struct arca_vm *vm, arca_error **err);
/* acpi.c: RSDP, XSDT, FADT, MADT and an empty DSDT in the BIOS area. */
int acpi__write (struct arca_vm *vm, arca_error **err);

/* boot-pvh.c: hvm_start_info and its memory map; fills vm->boot_params_gpa. */
int boot_pvh__write (struct arca_vm *vm, uint64_t initrd_gpa, uint64_t initrd_size,
                     arca_error **err);
int boot_params__place_initrd (struct arca_vm *vm, const uint8_t *initrd, size_t size,
                               uint64_t max_addr, uint64_t kernel_end, uint64_t *ret_gpa,
                               arca_error **err);

/* snapshot.c */
int snapshot__save_vcpu (struct vm_vcpu *vcpu, json_t *out, arca_error **err);
int snapshot__restore_vcpu (struct vm_vcpu *vcpu, json_t *in, arca_error **err);
/* The state JSON (machine, vCPUs, irqchip, devices) of a paused VM. */
int snapshot__state_body (struct arca_vm *vm, char **ret_body, arca_error **err);
/* The machine configuration saved in a state JSON; strings point into m. */
int snapshot__machine_config (json_t *m, struct arca_vm_config *cfg, arca_error **err);
/* Loads a state JSON into a VM built (restoring) from its machine config. */
int snapshot__load_state (struct arca_vm *vm, json_t *root, arca_error **err);
uint64_t snapshot__fnv1a64 (const void *data, size_t len);
json_t *snapshot__machine_json (const struct vm_machine_config *m);

/* Devices. */
int serial__create (struct arca_vm *vm, int in_fd, int out_fd, arca_error **err);
int i8042__create (struct arca_vm *vm, arca_error **err);
int i8042__send_ctrl_alt_del (struct i8042 *kbd);
int bootmarker__create (struct arca_vm *vm, arca_error **err);
int debugexit__create (struct arca_vm *vm, arca_error **err);
int rtc__create (struct arca_vm *vm, arca_error **err);
int virtio_blk__create (struct arca_vm *vm, const struct arca_vm_drive_config *drive,
                        arca_error **err);
int virtio_rng__create (struct arca_vm *vm, arca_error **err);
int virtio_balloon__create (struct arca_vm *vm, uint32_t target_pages, uint32_t stats_interval_s,
                            arca_error **err);
int virtio_net__create (struct arca_vm *vm, const struct arca_vm_net_config *net, arca_error **err);
int virtio_vsock__create (struct arca_vm *vm, const struct arca_vm_vsock_config *cfg,
                          arca_error **err);

#endif
