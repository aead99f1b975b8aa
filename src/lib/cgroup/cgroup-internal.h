/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared between cgroup.c (detect, open, dispatch), knobs.c, tree.c, v1.c,
 * v2.c and v2-devices.c.  Not part of the library's interface; the unit tests include
 * it to check the pure helpers (orderings, conversions, BPF generation). */
#ifndef ARCA_CGROUP_INTERNAL_H
#define ARCA_CGROUP_INTERNAL_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"

/* Bounds for what we read from cgroup files: knobs are tiny, cgroup.procs
 * grows with the number of processes. */
#define ARCA_CGROUP_KNOB_MAX (64 * 1024)
#define ARCA_CGROUP_PROCS_MAX (16 * 1024 * 1024)

/* One mounted hierarchy and this cgroup's directory in it. */
struct arca_cgroup_hier {
  char *name;     /* directory below fs_root: "memory", "cpu,cpuacct", "unified" */
  char *options;  /* controllers as mounted: "memory", "name=systemd"; "" for cgroup2 */
  char *mount;    /* absolute mount point */
  char *dir;      /* absolute directory of this cgroup */
  bool v2;
};

struct arca_cgroup {
  enum arca_cgroup_mode mode;
  bool fake;                    /* a test tree: see cgroup.h */
  char *fs_root;
  char *path;                   /* resolved path below the (main) hierarchy root */
  struct arca_cgroup_hier *hiers;
  size_t n_hiers;
  struct arca_cgroup_hierarchy *pub;  /* aliases hiers[] strings */
};

/* Marker files of a fake tree (tests): the mode ("v1", "hybrid", "v2"),
 * our own cgroup (a /proc/self/cgroup stand-in) and the write log. */
#define ARCA_CGROUP_FAKE_MODE_FILE ".arca-fake-mode"
#define ARCA_CGROUP_FAKE_SELF_FILE ".arca-fake-self-cgroup"
#define ARCA_CGROUP_FAKE_WRITES_FILE ".arca-fake-writes"

/* ---- knobs.c: helpers every writer uses ------------------------------ */

int64_t arca_cgroup_now_ms (void);   /* CLOCK_MONOTONIC */
void arca_cgroup_sleep_ms (long ms);

/* Hands a locally caught error to the caller's err (first error wins). */
void arca_cgroup_pass_error (arca_error **err, arca_error **local);

/* Writes value to dir/file.  In a fake tree the file is truncated first
 * (so it holds the last value) and the write is appended to
 * <fs_root>/.arca-fake-writes as "<dir below fs_root>/<file> <value>\n", which
 * lets tests check the order of writes. */
int arca_cgroup_write (const struct arca_cgroup *cg, const char *dir, const char *file,
                       const char *value, arca_error **err);
int arca_cgroup_writef (const struct arca_cgroup *cg, const char *dir, const char *file,
                        arca_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

/* arca_cgroup_writef() for an OCI field: a failure names the field first
 * ("linux.resources.memory.limit: write `1` to `<path>`"). */
int arca_cgroup_set (const struct arca_cgroup *cg, const char *dir, const char *file,
                     const char *field, arca_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

/* A group of knobs whose kernel checks depend on each other (cfs period,
 * quota and burst): written in order, and those refused with EINVAL are
 * tried once more after the others, so the order of an update never makes
 * a valid combination fail.  Entries with file == NULL are skipped. */
struct arca_cgroup_knob {
  const char *file;
  const char *field;
  char value[64];
};
int arca_cgroup_write_knobs (const struct arca_cgroup *cg, const char *dir,
                             const struct arca_cgroup_knob *knobs, size_t n,
                             arca_error **err);

/* For polling the kernel (freezer states): sleeps with a doubling delay
 * (100 us up to 50 ms) and returns true, or returns false once timeout_ms
 * have passed since the first call (*start_ms and *delay_us start at 0). */
bool arca_cgroup_backoff (int64_t *start_ms, long *delay_us, int64_t timeout_ms);

/* Reads dir/file (bounded by ARCA_CGROUP_KNOB_MAX), trailing newline kept. */
int arca_cgroup_read (const char *dir, const char *file, char **ret_data, arca_error **err);

/* Reads a single number; "max" gives UINT64_MAX.  A missing file gives 0
 * when missing_ok. */
int arca_cgroup_read_u64 (const char *dir, const char *file, bool missing_ok,
                          uint64_t *ret_value, arca_error **err);

bool arca_cgroup_file_exists (const char *dir, const char *file);

/* The hierarchy that holds controller (v1: by mount options; the cgroup2
 * one in hybrid/v2 mode when its cgroup.controllers lists it), or NULL. */
const struct arca_cgroup_hier *arca_cgroup_find (const struct arca_cgroup *cg,
                                                 const char *controller);
const struct arca_cgroup_hier *arca_cgroup_find_v1 (const struct arca_cgroup *cg,
                                                    const char *controller);
const struct arca_cgroup_hier *arca_cgroup_unified (const struct arca_cgroup *cg);

/* True when the space-separated list `list` contains word. */
bool arca_cgroup_list_has (const char *list, const char *word);

/* Checks an OCI hugepage size ("2MB", "64KB", "1GB") and returns it as the
 * kernel spells it in hugetlb.<size>.* file names. */
int arca_cgroup_hugetlb_size (const char *page_size, size_t index, const char **ret,
                              arca_error **err);

/* hugepageLimits into dir: hugetlb.<size>.<limit_name> ("limit_in_bytes" on
 * v1, "max" on v2) and its rsvd twin where the kernel has one; every entry
 * is checked before the first write. */
int arca_cgroup_write_hugetlb (const struct arca_cgroup *cg, const char *dir,
                               const struct arca_oci_resources *r, const char *limit_name,
                               arca_error **err);

/* ---- v1.c --------------------------------------------------------------- */

/* After mkdir of dir in the cpuset hierarchy: copies cpuset.cpus/mems from
 * the parent when empty, or no task could join. */
int arca_cgroup_v1_cpuset_init (const struct arca_cgroup *cg, const char *dir,
                                arca_error **err);
int arca_cgroup_v1_apply (struct arca_cgroup *cg, const struct arca_oci_resources *r,
                          arca_error **err);
int arca_cgroup_v1_freeze (struct arca_cgroup *cg, bool frozen, arca_error **err);
int arca_cgroup_v1_is_frozen (struct arca_cgroup *cg, bool *ret_frozen, arca_error **err);
int arca_cgroup_v1_stats (struct arca_cgroup *cg, struct arca_cgroup_stats *st,
                          arca_error **err);

/* The order of the two memory writes: the kernel keeps
 * limit <= memsw limit at every moment, so memsw goes first when it grows past
 * the current limit (or becomes unlimited) and last otherwise.  -1 means
 * unlimited for every argument. */
bool arca_cgroup_v1_memsw_first (int64_t current_limit, int64_t new_swap);

/* "c 1:3 rwm" / "a *:* rwm" for a device rule. */
int arca_cgroup_v1_device_rule (const struct arca_oci_device_cgroup *d, char *buf,
                                size_t size);

/* ---- v2.c --------------------------------------------------------------- */

/* Enables the controllers arca uses (memory pids cpu cpuset io hugetlb, those
 * the parent offers) in parent_dir/cgroup.subtree_control. */
int arca_cgroup_v2_enable (const struct arca_cgroup *cg, const char *parent_dir,
                           arca_error **err);
int arca_cgroup_v2_apply (struct arca_cgroup *cg, const struct arca_oci_resources *r,
                          arca_error **err);
/* Hybrid: writes only the hugetlb limits into the cgroup2 directory. */
int arca_cgroup_v2_apply_hugetlb (struct arca_cgroup *cg, const struct arca_cgroup_hier *h,
                                  const struct arca_oci_resources *r, arca_error **err);
int arca_cgroup_v2_freeze (struct arca_cgroup *cg, bool frozen, arca_error **err);
int arca_cgroup_v2_is_frozen (struct arca_cgroup *cg, bool *ret_frozen, arca_error **err);
int arca_cgroup_v2_stats (struct arca_cgroup *cg, struct arca_cgroup_stats *st,
                          arca_error **err);

/* cpu.weight from cpu.shares: [2, 262144] maps linearly onto [1, 10000]. */
uint64_t arca_cgroup_v2_shares_to_weight (uint64_t shares);
/* io.weight from a blkio weight: [10, 1000] onto [1, 10000]. */
uint64_t arca_cgroup_v2_blkio_to_io_weight (uint64_t weight);
/* memory.swap.max from the spec's memory+swap value: -1 = "max". */
int arca_cgroup_v2_swap_max (int64_t limit, bool has_limit, int64_t swap,
                             int64_t *ret_swap_max, arca_error **err);

/* ---- v2-devices.c ------------------------------------------------------- */

/* Name the program is loaded with, so a later update can find and replace
 * the one an earlier arca attached (and leave other programs alone). */
#define ARCA_CGROUP_BPF_PROG_NAME "arca_devices"

/* Builds the BPF_PROG_TYPE_CGROUP_DEVICE program for the rules: the last
 * matching rule decides, no match denies.  *ret_insns is malloc()ed. */
int arca_cgroup_v2_devices_program (const struct arca_oci_device_cgroup *rules,
                                    size_t n_rules, struct bpf_insn **ret_insns,
                                    size_t *ret_count, arca_error **err);

/* BPF_PROG_LOAD of such a program; returns the program fd. */
int arca_cgroup_v2_devices_load (const struct bpf_insn *insns, size_t count,
                                 arca_error **err);

/* Loads the program for the rules, attaches it to the cgroup directory
 * dir (BPF_F_ALLOW_MULTI) and then detaches the arca program attached there
 * before, so there is no moment without a filter. */
int arca_cgroup_v2_devices_apply (const char *dir, const struct arca_oci_device_cgroup *rules,
                                  size_t n_rules, arca_error **err);

#endif
