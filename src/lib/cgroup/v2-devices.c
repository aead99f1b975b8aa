/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 has no devices.allow: device access is decided by an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup.  This
 * file turns the OCI rules into such a program and attaches it through the
 * bpf(2) system call (no libbpf: the handful of commands fit here).
 *
 * Semantics (those of the v1 devices controller, per access bit): rules are
 * looked at from the last to the first; the first rule that matches the
 * device and names a requested access bit not yet decided decides that bit.
 * A deny decides the whole request; when every requested bit is allowed the
 * request is allowed; what no rule decides is denied. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/cleanup.h"

/* Registers of the generated program. */
enum
{
  R0 = 0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6
};

#define PROLOGUE_LEN 7
#define LOG_SIZE (64 * 1024)
#define MAX_ATTACHED 64

static struct bpf_insn
insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static int
access_bits (const char *access, uint32_t *ret)
{
  uint32_t bits = 0;

  /* An empty access string means every access, as in the v1 rule text. */
  if (access[0] == '\0')
    access = "rwm";
  for (const char *p = access; *p; p++)
    switch (*p)
      {
      case 'r':
        bits |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        bits |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        bits |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        return -1;
      }
  *ret = bits;
  return 0;
}

#define ALL_ACCESS (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

struct rule
{
  uint32_t type; /* BPF_DEVCG_DEV_*, 0 = any */
  int64_t major, minor;
  uint32_t access;
  bool allow;
};

static bool
matches_all (const struct rule *r)
{
  return r->type == 0 && r->major < 0 && r->minor < 0 && r->access == ALL_ACCESS;
}

static int
check_rule (const struct arca_oci_device_cgroup *d, size_t i, struct rule *ret, arca_error **err)
{
  struct rule r = { .allow = d->allow, .major = d->major, .minor = d->minor };

  switch (d->type)
    {
    case 'a':
      r.type = 0;
      break;
    case 'b':
      r.type = BPF_DEVCG_DEV_BLOCK;
      break;
    case 'c':
      r.type = BPF_DEVCG_DEV_CHAR;
      break;
    default:
      return arca_error_set (err, EINVAL, "linux.resources.devices[%zu].type: invalid type '%c'", i,
                             d->type ? d->type : '?');
    }
  if (d->major > (int64_t)UINT32_MAX || d->major < -1)
    return arca_error_set (err, EINVAL, "linux.resources.devices[%zu].major: out of range", i);
  if (d->minor > (int64_t)UINT32_MAX || d->minor < -1)
    return arca_error_set (err, EINVAL, "linux.resources.devices[%zu].minor: out of range", i);
  if (access_bits (d->access, &r.access) < 0)
    return arca_error_set (err, EINVAL, "linux.resources.devices[%zu].access: invalid \"%s\"", i,
                           d->access);
  *ret = r;
  return 0;
}

/* Instructions a rule needs (see emit_rule). */
static size_t
rule_len (const struct rule *r)
{
  if (matches_all (r))
    return 2;
  return (r->type != 0) + (r->major >= 0) + (r->minor >= 0) + 4;
}

static size_t
emit_rule (struct bpf_insn *p, const struct rule *r)
{
  size_t len = rule_len (r), n = 0;
  /* Offset from instruction n to the first one after this rule. */
#define TO_NEXT ((int16_t)(len - n - 1))

  if (matches_all (r))
    {
      p[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, r->allow ? 1 : 0);
      p[n++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
      return n;
    }
  /* 32-bit compares: the context fields are u32, majors can use all bits. */
  if (r->type != 0)
    {
      p[n] = insn (BPF_JMP32 | BPF_JNE | BPF_K, R2, 0, TO_NEXT, (int32_t)r->type);
      n++;
    }
  if (r->major >= 0)
    {
      p[n] = insn (BPF_JMP32 | BPF_JNE | BPF_K, R4, 0, TO_NEXT, (int32_t)(uint32_t)r->major);
      n++;
    }
  if (r->minor >= 0)
    {
      p[n] = insn (BPF_JMP32 | BPF_JNE | BPF_K, R5, 0, TO_NEXT, (int32_t)(uint32_t)r->minor);
      n++;
    }
  if (r->allow)
    {
      /* Clear the bits this rule allows; allowed when none is left. */
      p[n++] = insn (BPF_ALU64 | BPF_AND | BPF_K, R6, 0, 0, (int32_t)~r->access);
      p[n] = insn (BPF_JMP | BPF_JNE | BPF_K, R6, 0, TO_NEXT, 0);
      n++;
      p[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1);
    }
  else
    {
      /* Denied when it names a bit still undecided. */
      p[n++] = insn (BPF_JMP | BPF_JSET | BPF_K, R6, 0, 1, (int32_t)r->access);
      p[n] = insn (BPF_JMP | BPF_JA, 0, 0, TO_NEXT, 0);
      n++;
      p[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
    }
  p[n++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef TO_NEXT
  return n;
}

int
arca_cgroup_v2_devices_program (const struct arca_oci_device_cgroup *rules, size_t n_rules,
                                struct bpf_insn **ret_insns, size_t *ret_count, arca_error **err)
{
  cleanup_free struct rule *parsed = NULL;
  cleanup_free struct bpf_insn *p = NULL;
  size_t total = PROLOGUE_LEN, n = 0, first = 0;
  bool epilogue = true;

  if (n_rules > 4096)
    return arca_error_set (err, E2BIG, "linux.resources.devices: %zu rules, at most 4096", n_rules);
  parsed = calloc (n_rules ? n_rules : 1, sizeof (*parsed));
  if (parsed == NULL)
    return arca_error_errno (err, "linux.resources.devices");
  for (size_t i = 0; i < n_rules; i++)
    if (check_rule (&rules[i], i, &parsed[i], err) < 0)
      return -1;

  /* Rules before the last "everything" rule can never decide anything.  A
   * deny-all there equals the default deny at the end; an allow-all
   * returns itself, and the default deny after it would be unreachable,
   * which the verifier refuses. */
  for (size_t i = n_rules; i-- > 0;)
    if (matches_all (&parsed[i]))
      {
        first = parsed[i].allow ? i : i + 1;
        epilogue = !parsed[i].allow;
        break;
      }
  for (size_t i = n_rules; i-- > first;)
    total += rule_len (&parsed[i]);
  if (epilogue)
    total += 2;

  p = calloc (total, sizeof (*p));
  if (p == NULL)
    return arca_error_errno (err, "linux.resources.devices");
  /* r2 = device type, r3 = requested access, r4 = major, r5 = minor,
   * r6 = requested bits not decided yet. */
  p[n++] = insn (BPF_LDX | BPF_MEM | BPF_W, R2, R1,
                 offsetof (struct bpf_cgroup_dev_ctx, access_type), 0);
  p[n++] = insn (BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
  p[n++] = insn (BPF_LDX | BPF_MEM | BPF_W, R3, R1,
                 offsetof (struct bpf_cgroup_dev_ctx, access_type), 0);
  p[n++] = insn (BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);
  p[n++] = insn (BPF_LDX | BPF_MEM | BPF_W, R4, R1, offsetof (struct bpf_cgroup_dev_ctx, major), 0);
  p[n++] = insn (BPF_LDX | BPF_MEM | BPF_W, R5, R1, offsetof (struct bpf_cgroup_dev_ctx, minor), 0);
  p[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_X, R6, R3, 0, 0);

  for (size_t i = n_rules; i-- > first;)
    n += emit_rule (p + n, &parsed[i]);
  if (epilogue)
    {
      p[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
      p[n++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
  if (n != total)
    return arca_error_set (err, EFAULT, "linux.resources.devices: program size %zu != %zu", n,
                           total);
  *ret_insns = move_ptr (p);
  *ret_count = n;
  return 0;
}

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int)syscall (SYS_bpf, cmd, attr, sizeof (*attr));
}

/* The last non-empty line of the verifier log: the reason it refused. */
static const char *
log_tail (char *log)
{
  size_t len = strlen (log);
  while (len > 0 && log[len - 1] == '\n')
    log[--len] = '\0';
  for (size_t i = len; i-- > 0;)
    if (log[i] == '\n')
      return log + i + 1;
  return log;
}

int
arca_cgroup_v2_devices_load (const struct bpf_insn *insns, size_t count, arca_error **err)
{
  static const char license[] = "LGPL";
  union bpf_attr attr;
  int fd;

  if (count > UINT32_MAX)
    return arca_error_set (err, E2BIG, "load device filter: too many instructions");
  memset (&attr, 0, sizeof (attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)count;
  attr.license = (uint64_t)(uintptr_t)license;
  snprintf (attr.prog_name, sizeof (attr.prog_name), "%s", ARCA_CGROUP_BPF_PROG_NAME);
  fd = sys_bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  if (errno == EINVAL || errno == EACCES)
    {
      /* Load again with the verifier log, only to say why. */
      cleanup_free char *log = calloc (1, LOG_SIZE);
      int saved = errno;
      if (log != NULL)
        {
          attr.log_buf = (uint64_t)(uintptr_t)log;
          attr.log_size = LOG_SIZE;
          attr.log_level = 1;
          fd = sys_bpf (BPF_PROG_LOAD, &attr);
          if (fd >= 0)
            return fd;
          errno = saved;
          return arca_error_errno (
              err, "linux.resources.devices: load device filter (%zu instructions): %s", count,
              log_tail (log));
        }
      errno = saved;
    }
  return arca_error_errno (err, "linux.resources.devices: load device filter (%zu instructions)",
                           count);
}

/* fds of the programs named ARCA_CGROUP_BPF_PROG_NAME attached to dirfd. */
static int
find_ours (int dirfd, const char *dir, int *ret_fds, size_t *ret_n, arca_error **err)
{
  uint32_t ids[MAX_ATTACHED];
  union bpf_attr attr;
  size_t n = 0;

  memset (&attr, 0, sizeof (attr));
  attr.query.target_fd = (uint32_t)dirfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = MAX_ATTACHED;
  if (sys_bpf (BPF_PROG_QUERY, &attr) < 0)
    return arca_error_errno (err, "query device filters of `%s`", dir);
  for (uint32_t i = 0; i < attr.query.prog_cnt && i < MAX_ATTACHED; i++)
    {
      struct bpf_prog_info info;
      union bpf_attr a;
      int fd;

      memset (&a, 0, sizeof (a));
      a.prog_id = ids[i];
      fd = sys_bpf (BPF_PROG_GET_FD_BY_ID, &a);
      if (fd < 0)
        {
          if (errno == ENOENT) /* detached meanwhile */
            continue;
          return arca_error_errno (err, "open device filter %u of `%s`", ids[i], dir);
        }
      memset (&info, 0, sizeof (info));
      memset (&a, 0, sizeof (a));
      a.info.bpf_fd = (uint32_t)fd;
      a.info.info_len = sizeof (info);
      a.info.info = (uint64_t)(uintptr_t)&info;
      if (sys_bpf (BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          return arca_error_errno (err, "inspect device filter %u of `%s`", ids[i], dir);
        }
      if (strncmp (info.name, ARCA_CGROUP_BPF_PROG_NAME, sizeof (info.name)) == 0)
        ret_fds[n++] = fd;
      else
        close (fd);
    }
  *ret_n = n;
  return 0;
}

int
arca_cgroup_v2_devices_apply (const char *dir, const struct arca_oci_device_cgroup *rules,
                              size_t n_rules, arca_error **err)
{
  cleanup_free struct bpf_insn *insns = NULL;
  cleanup_close int dirfd = -1, prog = -1;
  int old[MAX_ATTACHED];
  size_t count, n_old = 0;
  union bpf_attr attr;
  int r = 0;

  if (arca_cgroup_v2_devices_program (rules, n_rules, &insns, &count, err) < 0)
    return -1;
  prog = arca_cgroup_v2_devices_load (insns, count, err);
  if (prog < 0)
    return -1;
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return arca_error_errno (err, "open `%s`", dir);
  if (find_ours (dirfd, dir, old, &n_old, err) < 0)
    return -1;

  /* The new filter goes on before the old one comes off: there is no
   * moment in which the container can open any device. */
  memset (&attr, 0, sizeof (attr));
  attr.target_fd = (uint32_t)dirfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
    r = arca_error_errno (err, "linux.resources.devices: attach device filter to `%s`", dir);
  for (size_t i = 0; i < n_old; i++)
    {
      if (r == 0)
        {
          memset (&attr, 0, sizeof (attr));
          attr.target_fd = (uint32_t)dirfd;
          attr.attach_bpf_fd = (uint32_t)old[i];
          attr.attach_type = BPF_CGROUP_DEVICE;
          if (sys_bpf (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
            r = arca_error_errno (err, "detach the previous device filter from `%s`", dir);
        }
      close (old[i]);
    }
  return r;
}
