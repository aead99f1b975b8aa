/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI runtime-spec (v1.1) Linux configuration as typed C structures.
 *
 * arca_oci_config_parse() turns config.json into this and validates it:
 * every other module reads these structures and never sees JSON.  Fields the
 * runtime cannot honour are rejected by the parser with an error naming the
 * field ("linux.intelRdt: not supported: ..."), never ignored.
 *
 * Conventions: strings are heap-allocated and NUL-terminated, string vectors
 * are NULL-terminated (char **), arrays come as (pointer, count).  Optional
 * scalars have a has_<name> flag next to them.  Everything is owned by the
 * arca_oci_config and released by arca_oci_config_free(). */
#ifndef ARCA_OCI_CONFIG_H
#define ARCA_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* ---- process ---------------------------------------------------------- */

struct arca_oci_rlimit {
  int resource;          /* RLIMIT_* (parsed from "RLIMIT_NOFILE" etc.) */
  char *type;            /* as written, for messages */
  uint64_t soft, hard;
};

/* Capability sets as bitmasks of CAP_* numbers (1ULL << CAP_x). */
struct arca_oci_capabilities {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct arca_oci_user {
  uid_t uid;
  gid_t gid;
  bool has_umask;
  mode_t umask;
  gid_t *additional_gids;
  size_t n_additional_gids;
  char *username;        /* Windows only in the spec; kept for messages */
};

struct arca_oci_process {
  bool terminal;
  bool has_console_size;
  unsigned console_height, console_width;
  struct arca_oci_user user;
  char **args;           /* non-empty */
  char **env;            /* "KEY=value" entries */
  char *cwd;             /* absolute */
  bool has_capabilities;
  struct arca_oci_capabilities capabilities;
  struct arca_oci_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  char *selinux_label;
  bool has_oom_score_adj;
  int oom_score_adj;
  /* scheduler / ioPriority / execCPUAffinity are rejected by the parser when
   * present (they are not implemented yet). */
};

/* ---- root, mounts ----------------------------------------------------- */

struct arca_oci_root {
  char *path;            /* relative to the bundle, or absolute */
  bool readonly;
};

enum arca_oci_propagation {
  ARCA_PROPAGATION_NONE = 0,
  ARCA_PROPAGATION_PRIVATE,
  ARCA_PROPAGATION_SLAVE,
  ARCA_PROPAGATION_SHARED,
  ARCA_PROPAGATION_UNBINDABLE,
};

struct arca_oci_mount {
  char *destination;     /* absolute path inside the container */
  char *type;            /* may be NULL (then "bind" if options say bind) */
  char *source;          /* may be NULL */
  char **options;        /* as written */
  /* Derived from options by the parser: */
  unsigned long flags;           /* MS_* to set (MS_RDONLY, MS_NOSUID, ...) */
  unsigned long clear_flags;     /* MS_* explicitly cleared (rw, suid, ...) */
  unsigned long propagation;     /* MS_PRIVATE|MS_REC etc., 0 = untouched */
  bool bind;                     /* bind or rbind */
  bool recursive;                /* rbind */
  char *data;                    /* remaining options joined by ',' for mount(2) */
  /* idmapped mounts (uidMappings/gidMappings on a mount) are rejected. */
};

/* ---- linux ------------------------------------------------------------ */

enum arca_oci_ns_type {
  ARCA_NS_PID = 0,
  ARCA_NS_NETWORK,
  ARCA_NS_MOUNT,
  ARCA_NS_IPC,
  ARCA_NS_UTS,
  ARCA_NS_USER,
  ARCA_NS_CGROUP,
  ARCA_NS_TIME,
  ARCA_NS__COUNT,
};

struct arca_oci_namespace {
  enum arca_oci_ns_type type;
  int clone_flag;        /* CLONE_NEWPID, ... */
  char *path;            /* NULL: create a new one; else join this one */
};

struct arca_oci_id_mapping {
  uint32_t container_id, host_id, size;
};

struct arca_oci_device {
  char type;             /* 'c', 'b', 'u' or 'p' */
  char *path;            /* absolute inside the container */
  int64_t major, minor;  /* -1 when absent (only valid for 'p') */
  bool has_file_mode;
  mode_t file_mode;
  bool has_uid, has_gid;
  uid_t uid;
  gid_t gid;
};

struct arca_oci_device_cgroup {
  bool allow;
  char type;             /* 'a', 'c' or 'b' */
  int64_t major, minor;  /* -1 = wildcard '*' */
  char access[4];        /* subset of "rwm" */
};

struct arca_oci_weight_device {
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct arca_oci_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct arca_oci_hugepage_limit {
  char *page_size;       /* "2MB", "1GB", ... */
  uint64_t limit;
};

struct arca_oci_unified_entry {
  char *key;             /* cgroup v2 file name, validated: no '/' or ".." */
  char *value;
};

/* linux.resources.  Every field is optional; has_* says it was given.
 * Values keep the spec's units (bytes, microseconds, shares). */
struct arca_oci_resources {
  /* memory */
  bool has_memory_limit, has_memory_reservation, has_memory_swap,
      has_memory_kernel, has_memory_kernel_tcp, has_memory_swappiness,
      has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
  int64_t memory_limit;          /* -1 = unlimited */
  int64_t memory_reservation;
  int64_t memory_swap;           /* memory+swap, -1 = unlimited */
  int64_t memory_kernel, memory_kernel_tcp;
  uint64_t memory_swappiness;
  bool disable_oom_killer, use_hierarchy, check_before_update;

  /* cpu */
  bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_cpu_burst,
      has_cpu_realtime_runtime, has_cpu_realtime_period, has_cpu_idle;
  uint64_t cpu_shares;
  int64_t cpu_quota;             /* -1 = unlimited */
  uint64_t cpu_period;
  uint64_t cpu_burst;
  int64_t cpu_realtime_runtime;
  uint64_t cpu_realtime_period;
  int64_t cpu_idle;
  char *cpu_cpus;                /* cpuset, "0-3,5" */
  char *cpu_mems;

  /* pids */
  bool has_pids_limit;
  int64_t pids_limit;            /* <= 0 = unlimited ("max") */

  /* blockIO */
  bool has_blkio_weight, has_blkio_leaf_weight;
  uint16_t blkio_weight, blkio_leaf_weight;
  struct arca_oci_weight_device *blkio_weight_devices;
  size_t n_blkio_weight_devices;
  struct arca_oci_throttle_device *blkio_throttle_read_bps,
      *blkio_throttle_write_bps, *blkio_throttle_read_iops,
      *blkio_throttle_write_iops;
  size_t n_blkio_throttle_read_bps, n_blkio_throttle_write_bps,
      n_blkio_throttle_read_iops, n_blkio_throttle_write_iops;

  /* hugepageLimits */
  struct arca_oci_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;

  /* devices (the device cgroup rules, in order) */
  struct arca_oci_device_cgroup *devices;
  size_t n_devices;

  /* unified (cgroup v2 only: an error on a v1 host) */
  struct arca_oci_unified_entry *unified;
  size_t n_unified;

  /* network (classID, priorities): rejected by the parser when present,
   * there are no net_cls/net_prio controllers on our targets. */
};

/* ---- seccomp ---------------------------------------------------------- */

enum arca_seccomp_op {
  ARCA_SCMP_NE = 1, ARCA_SCMP_LT, ARCA_SCMP_LE, ARCA_SCMP_EQ, ARCA_SCMP_GE,
  ARCA_SCMP_GT, ARCA_SCMP_MASKED_EQ,
};

struct arca_oci_seccomp_arg {
  unsigned index;        /* 0..5 */
  uint64_t value, value_two;
  enum arca_seccomp_op op;
};

struct arca_oci_seccomp_rule {
  char **names;                  /* syscall names */
  uint32_t action;               /* SCMP_ACT_* value (libseccomp encoding) */
  bool has_errno_ret;
  uint32_t errno_ret;
  struct arca_oci_seccomp_arg *args;
  size_t n_args;
};

struct arca_oci_seccomp {
  uint32_t default_action;       /* SCMP_ACT_* */
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  uint32_t *architectures;       /* SCMP_ARCH_* tokens */
  size_t n_architectures;
  unsigned flags;                /* ARCA_SECCOMP_FLAG_* below */
  char *listener_path;
  char *listener_metadata;
  struct arca_oci_seccomp_rule *syscalls;
  size_t n_syscalls;
};

#define ARCA_SECCOMP_FLAG_LOG (1u << 0)          /* SECCOMP_FILTER_FLAG_LOG */
#define ARCA_SECCOMP_FLAG_SPEC_ALLOW (1u << 1)   /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
#define ARCA_SECCOMP_FLAG_WAIT_KILLABLE (1u << 2)/* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV */

/* ---- hooks ------------------------------------------------------------ */

struct arca_oci_hook {
  char *path;            /* absolute */
  char **args;           /* may be NULL */
  char **env;            /* may be NULL */
  bool has_timeout;
  int timeout;           /* seconds, > 0 */
};

enum arca_oci_hook_kind {
  ARCA_HOOK_PRESTART = 0,
  ARCA_HOOK_CREATE_RUNTIME,
  ARCA_HOOK_CREATE_CONTAINER,
  ARCA_HOOK_START_CONTAINER,
  ARCA_HOOK_POSTSTART,
  ARCA_HOOK_POSTSTOP,
  ARCA_HOOK__COUNT,
};

/* ---- the whole config ------------------------------------------------- */

struct arca_oci_sysctl {
  char *key;             /* "net.ipv4.ip_forward" */
  char *value;
};

struct arca_oci_annotation {
  char *key, *value;
};

struct arca_oci_time_offset {
  int64_t secs;
  uint32_t nanosecs;
};

struct arca_oci_linux {
  struct arca_oci_namespace *namespaces;
  size_t n_namespaces;
  struct arca_oci_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  bool has_time_offsets;
  struct arca_oci_time_offset time_offset_boottime, time_offset_monotonic;
  struct arca_oci_device *devices;
  size_t n_devices;
  char *cgroups_path;            /* may be NULL: runtime picks one */
  bool has_resources;
  struct arca_oci_resources resources;
  struct arca_oci_sysctl *sysctl;
  size_t n_sysctl;
  struct arca_oci_seccomp *seccomp;    /* NULL when absent */
  enum arca_oci_propagation rootfs_propagation;
  char **masked_paths;
  char **readonly_paths;
  char *mount_label;
  bool has_personality;
  unsigned long personality;     /* PER_LINUX or PER_LINUX32 */
  unsigned personality_flags;
};

struct arca_oci_config {
  char *oci_version;
  struct arca_oci_root root;
  bool has_process;
  struct arca_oci_process process;
  char *hostname;
  char *domainname;
  struct arca_oci_mount *mounts;
  size_t n_mounts;
  struct arca_oci_hook *hooks[ARCA_HOOK__COUNT];
  size_t n_hooks[ARCA_HOOK__COUNT];
  struct arca_oci_annotation *annotations;
  size_t n_annotations;
  struct arca_oci_linux linux_;  /* "linux" is a predefined macro in gnu17 */
};

/* Parses and validates config.json text.  On error the message names the
 * JSON path of the offending field, e.g. "linux.namespaces[2].type: unknown
 * namespace type `foo`". */
int arca_oci_config_parse (const char *json, size_t len,
                           struct arca_oci_config **ret_config,
                           arca_error **err);

/* Reads <bundle>/config.json and parses it. */
int arca_oci_config_load (const char *bundle,
                          struct arca_oci_config **ret_config,
                          arca_error **err);

/* Parses a standalone "process" object (arca-runtime exec --process FILE). */
int arca_oci_process_parse (const char *json, size_t len,
                            struct arca_oci_process **ret_process,
                            arca_error **err);

/* Parses a "linux.resources" object (arca-runtime update --resources). */
int arca_oci_resources_parse (const char *json, size_t len,
                              struct arca_oci_resources *ret_resources,
                              arca_error **err);

void arca_oci_config_free (struct arca_oci_config *config);
void arca_oci_config_freep (struct arca_oci_config **config);
#define cleanup_config __attribute__ ((cleanup (arca_oci_config_freep)))

void arca_oci_process_free (struct arca_oci_process *process);
void arca_oci_process_freep (struct arca_oci_process **process);
#define cleanup_process __attribute__ ((cleanup (arca_oci_process_freep)))

/* Frees a linux.seccomp structure (the parser's, or one built by hand with
 * malloc'ed members).  NULL is fine. */
void arca_oci_seccomp_free (struct arca_oci_seccomp *seccomp);

/* Releases the arrays inside resources (not the struct itself). */
void arca_oci_resources_clear (struct arca_oci_resources *resources);

/* Finds the namespace entry of a type, NULL if the config does not list it. */
const struct arca_oci_namespace *
arca_oci_config_namespace (const struct arca_oci_config *config,
                           enum arca_oci_ns_type type);

/* Name tables shared by the parser, `features` and messages. */
const char *arca_oci_ns_type_name (enum arca_oci_ns_type type);
int arca_oci_ns_type_from_name (const char *name);  /* -1 if unknown */
const char *arca_oci_hook_kind_name (enum arca_oci_hook_kind kind);
/* "CAP_CHOWN" for 0, ...; NULL past the last capability arca knows. */
const char *arca_oci_cap_name (unsigned cap);
/* The capability number of "CAP_X" (exact case), -1 if unknown. */
int arca_oci_cap_from_name (const char *name);

#endif
