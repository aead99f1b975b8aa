/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.seccomp: builds a libseccomp filter from the typed config, loads it,
 * and hands the notify listener fd to listenerPath. */
#include <errno.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <stdio.h>
#include <linux/filter.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "linux/seccomp-filter.h"
#include "oci/seccomp-json.h"
#include "util/fs.h"
#include "util/cleanup.h"

/* SCMP_ACT_* values that carry a 16-bit payload (errno / trace message). */
#define ACT_MASK 0xffff0000U
#define ACT_DATA 0x0000ffffU

/* The kernel accepts at most six syscall arguments. */
#define MAX_ARGS 6

static void
filter_releasep (scmp_filter_ctx *ctx)
{
  if (*ctx != NULL)
    seccomp_release (*ctx);
}
#define cleanup_filter _cleanup_ (filter_releasep)

static bool
action_is_valid (uint32_t action)
{
  switch (action & ACT_MASK)
    {
    case SCMP_ACT_ERRNO (0):
    case SCMP_ACT_TRACE (0):
      return true;
    default:
      break;
    }
  switch (action)
    {
    case SCMP_ACT_KILL_PROCESS:
    case SCMP_ACT_KILL_THREAD:
    case SCMP_ACT_TRAP:
    case SCMP_ACT_NOTIFY:
    case SCMP_ACT_LOG:
    case SCMP_ACT_ALLOW:
      return true;
    default:
      return false;
    }
}

/* Folds errnoRet into SCMP_ACT_ERRNO/SCMP_ACT_TRACE.  The spec makes EPERM
 * the default errnoRet; a payload already encoded by the parser is kept. */
static uint32_t
effective_action (uint32_t action, bool has_errno_ret, uint32_t errno_ret)
{
  uint32_t base = action & ACT_MASK;

  if (base != SCMP_ACT_ERRNO (0) && base != SCMP_ACT_TRACE (0))
    return action;
  if (has_errno_ret)
    return base | (errno_ret & ACT_DATA);
  if ((action & ACT_DATA) == 0)
    return base | EPERM;
  return action;
}

static int
set_attr (scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value,
          const char *flag_name, arca_error **err)
{
  int r = seccomp_attr_set (ctx, attr, value);
  if (r < 0)
    return arca_error_set (err, -r, "linux.seccomp.flags: %s", flag_name);
  return 0;
}

static int
apply_flags (scmp_filter_ctx ctx, unsigned flags, arca_error **err)
{
  int r;

  if (flags & ARCA_SECCOMP_FLAG_LOG)
    {
      r = set_attr (ctx, SCMP_FLTATR_CTL_LOG, 1, "SECCOMP_FILTER_FLAG_LOG",
                    err);
      if (r < 0)
        return r;
    }
  if (flags & ARCA_SECCOMP_FLAG_SPEC_ALLOW)
    {
      r = set_attr (ctx, SCMP_FLTATR_CTL_SSB, 1,
                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW", err);
      if (r < 0)
        return r;
    }
  if (flags & ARCA_SECCOMP_FLAG_WAIT_KILLABLE)
    {
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
      r = set_attr (ctx, SCMP_FLTATR_CTL_WAITKILL, 1,
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", err);
      if (r < 0)
        return r;
#else
      return arca_error_set (err, ENOTSUP,
                             "linux.seccomp.flags: "
                             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs "
                             "libseccomp >= 2.6 (built with %d.%d.%d)",
                             SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
#endif
    }
  unsigned known = ARCA_SECCOMP_FLAG_LOG | ARCA_SECCOMP_FLAG_SPEC_ALLOW
                   | ARCA_SECCOMP_FLAG_WAIT_KILLABLE;
  if (flags & ~known)
    return arca_error_set (err, EINVAL, "linux.seccomp.flags: unknown flag 0x%x",
                           flags & ~known);
  return 0;
}

/* Adds one rule for one syscall.
 *
 * libseccomp before 2.6 rejects (EINVAL) a rule with two comparisons on the
 * same argument index; newer versions AND them.  runc and crun both split
 * such rules into one rule per comparison, i.e. OR semantics, and profiles
 * in the wild (Docker's personality/clone entries) are written with that
 * meaning in mind.  We decide on the split from the config alone, not from
 * the libseccomp version, so one profile means the same on every host. */
static int
add_syscall_rule (scmp_filter_ctx ctx, uint32_t action, int nr,
                  const struct scmp_arg_cmp *cmps, size_t n_cmps)
{
  bool repeated = false;
  unsigned seen = 0;

  for (size_t k = 0; k < n_cmps; k++)
    {
      unsigned bit = 1u << cmps[k].arg;
      if (seen & bit)
        repeated = true;
      seen |= bit;
    }

  if (!repeated)
    return seccomp_rule_add_array (ctx, action, nr, n_cmps,
                                   n_cmps > 0 ? cmps : NULL);

  for (size_t k = 0; k < n_cmps; k++)
    {
      int r = seccomp_rule_add_array (ctx, action, nr, 1, &cmps[k]);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
add_rules (scmp_filter_ctx ctx, const struct arca_oci_seccomp *seccomp,
           uint32_t default_action, bool *ret_has_notify, arca_error **err)
{
  bool has_notify = false;

  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    {
      const struct arca_oci_seccomp_rule *rule = &seccomp->syscalls[i];
      struct scmp_arg_cmp cmps[MAX_ARGS * 2];
      uint32_t action;

      if (!action_is_valid (rule->action))
        return arca_error_set (err, EINVAL,
                               "linux.seccomp.syscalls[%zu].action: invalid "
                               "action 0x%x",
                               i, rule->action);
      action = effective_action (rule->action, rule->has_errno_ret,
                                 rule->errno_ret);

      /* libseccomp refuses rules that repeat the default action (EACCES);
       * they would not change what the filter does anyway. */
      if (action == default_action)
        continue;

      if (rule->n_args > ARRAY_SIZE (cmps))
        return arca_error_set (err, E2BIG,
                               "linux.seccomp.syscalls[%zu].args: %zu "
                               "conditions, at most %zu",
                               i, rule->n_args, ARRAY_SIZE (cmps));
      for (size_t k = 0; k < rule->n_args; k++)
        {
          const struct arca_oci_seccomp_arg *a = &rule->args[k];
          if (a->index >= MAX_ARGS)
            return arca_error_set (err, EINVAL,
                                   "linux.seccomp.syscalls[%zu].args[%zu]."
                                   "index: %u out of range 0..5",
                                   i, k, a->index);
          if (a->op < ARCA_SCMP_NE || a->op > ARCA_SCMP_MASKED_EQ)
            return arca_error_set (err, EINVAL,
                                   "linux.seccomp.syscalls[%zu].args[%zu]."
                                   "op: invalid operator %d",
                                   i, k, (int) a->op);
          /* enum arca_seccomp_op mirrors enum scmp_compare value for value;
           * for MASKED_EQ value is the mask and valueTwo the expected
           * result, as libseccomp's datum_a/datum_b. */
          cmps[k] = (struct scmp_arg_cmp) {
            .arg = a->index,
            .op = (enum scmp_compare) a->op,
            .datum_a = a->value,
            .datum_b = a->value_two,
          };
        }

      for (size_t j = 0; rule->names != NULL && rule->names[j] != NULL; j++)
        {
          const char *name = rule->names[j];
          int nr = seccomp_syscall_resolve_name (name);
          int r;

          /* Profiles list syscalls of newer kernels or other architectures:
           * a name libseccomp does not know is skipped, as runc/crun do.
           * Names known only on a secondary architecture resolve to a
           * negative pseudo number that libseccomp maps per arch. */
          if (nr == __NR_SCMP_ERROR)
            continue;

          r = add_syscall_rule (ctx, action, nr, cmps, rule->n_args);
          if (r < 0)
            return arca_error_set (err, -r,
                                   "linux.seccomp.syscalls[%zu].names[%zu] "
                                   "\"%s\"",
                                   i, j, name);
          if (action == SCMP_ACT_NOTIFY)
            has_notify = true;
        }
    }
  *ret_has_notify = has_notify;
  return 0;
}

/* Builds the libseccomp filter for the profile (not loaded yet). */
static int
build_filter (const struct arca_oci_seccomp *seccomp, scmp_filter_ctx *ret_ctx,
              bool *ret_has_notify, arca_error **err)
{
  cleanup_filter scmp_filter_ctx ctx = NULL;
  uint32_t default_action;
  int r;

  *ret_has_notify = false;
  if (!action_is_valid (seccomp->default_action)
      || seccomp->default_action == SCMP_ACT_NOTIFY)
    return arca_error_set (err, EINVAL,
                           "linux.seccomp.defaultAction: invalid action 0x%x",
                           seccomp->default_action);
  default_action = effective_action (seccomp->default_action,
                                     seccomp->has_default_errno_ret,
                                     seccomp->default_errno_ret);

  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return arca_error_set (err, ENOMEM, "linux.seccomp: create filter");

  /* Report the kernel's errno from seccomp_load() rather than libseccomp's
   * generic ECANCELED.  Older libseccomp lacks the attribute: harmless. */
  (void) seccomp_attr_set (ctx, SCMP_FLTATR_API_SYSRAWRC, 1);

  /* arca sets no_new_privs itself from process.noNewPrivileges (it needs
   * to happen at a precise point); libseccomp must not force it. */
  r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0)
    return arca_error_set (err, -r, "linux.seccomp: clear CTL_NNP");

  for (size_t i = 0; i < seccomp->n_architectures; i++)
    {
      r = seccomp_arch_add (ctx, seccomp->architectures[i]);
      /* The native architecture is in a new filter already. */
      if (r < 0 && r != -EEXIST)
        return arca_error_set (err, -r,
                               "linux.seccomp.architectures[%zu]: add "
                               "architecture 0x%x",
                               i, seccomp->architectures[i]);
    }

  r = apply_flags (ctx, seccomp->flags, err);
  if (r < 0)
    return r;

  r = add_rules (ctx, seccomp, default_action, ret_has_notify, err);
  if (r < 0)
    return r;
  *ret_ctx = ctx;
  ctx = NULL;
  return 0;
}

int
arca_seccomp_load (const struct arca_oci_seccomp *seccomp,
                   int *ret_listener_fd, arca_error **err)
{
  cleanup_filter scmp_filter_ctx ctx = NULL;
  bool has_notify = false;
  int r;

  if (build_filter (seccomp, &ctx, &has_notify, err) < 0)
    return -1;
  r = seccomp_load (ctx);
  if (r < 0)
    return arca_error_set (err, -r, "linux.seccomp: load filter");

  if (has_notify)
    {
      /* The kernel creates the listener fd with O_CLOEXEC.  libseccomp
       * keeps no claim on it that outlives this process' exec, so the
       * caller owns it. */
      int fd = seccomp_notify_fd (ctx);
      if (fd < 0)
        return arca_error_set (err, fd == -1 ? EINVAL : -fd,
                               "linux.seccomp: get notify fd");
      if (ret_listener_fd != NULL)
        *ret_listener_fd = fd;
      else
        close (fd);
    }
  else if (ret_listener_fd != NULL)
    *ret_listener_fd = -1;
  return 0;
}

/* ---- compiled programs and their cache ----------------------------------- */

#define CACHE_MAGIC "arca-seccomp-bpf 1\n"
#define PROGRAM_MAX_INSNS 65535

/* The kernel's filter flags the profile asks for (libseccomp would pass
 * them itself when it loads). */
static unsigned
kernel_flags (const struct arca_oci_seccomp *seccomp, bool has_notify)
{
  unsigned flags = 0;

  if (seccomp->flags & ARCA_SECCOMP_FLAG_LOG)
    flags |= SECCOMP_FILTER_FLAG_LOG;
  if (seccomp->flags & ARCA_SECCOMP_FLAG_SPEC_ALLOW)
    flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
  if (seccomp->flags & ARCA_SECCOMP_FLAG_WAIT_KILLABLE)
    flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
#endif
  if (has_notify)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  return flags;
}

/* What a cached program depends on: the profile itself, libseccomp (it
 * generates the code) and the kernel (which actions exist). */
static int
cache_key (const struct arca_oci_seccomp *seccomp, char **ret_key, uint64_t *ret_hash,
           arca_error **err)
{
  cleanup_free char *json = NULL;
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;

  if (arca_oci_seccomp_to_json (seccomp, &json, err) < 0)
    return -1;
  uname (&u);
  if (asprintf (ret_key, "%s\nlibseccomp %u.%u.%u\nkernel %s\n", json, v ? v->major : 0,
                v ? v->minor : 0, v ? v->micro : 0, u.release)
      < 0)
    return arca_error_set (err, ENOMEM, "seccomp cache key");
  /* FNV-1a names the file; the full key is stored and compared, so a hash
   * collision can only cost a recompile, never load a wrong filter. */
  uint64_t h = 1469598103934665603ULL;
  for (const char *p = *ret_key; *p; p++)
    h = (h ^ (unsigned char) *p) * 1099511628211ULL;
  *ret_hash = h;
  return 0;
}

static bool
cache_read (const char *cache_dir, uint64_t hash, const char *key,
            struct arca_seccomp_program *p)
{
  char path[PATH_MAX];
  cleanup_free char *data = NULL;
  size_t len = 0, key_len = strlen (key), magic_len = strlen (CACHE_MAGIC);

  snprintf (path, sizeof path, "%s/%016llx.bpf", cache_dir, (unsigned long long) hash);
  if (arca_read_file_at (AT_FDCWD, path, magic_len + key_len + 8 * PROGRAM_MAX_INSNS + 64, &data,
                         &len, NULL)
      < 0)
    return false;
  if (len < magic_len + key_len + sizeof (uint32_t) || memcmp (data, CACHE_MAGIC, magic_len) != 0
      || memcmp (data + magic_len, key, key_len) != 0)
    return false;
  const char *rest = data + magic_len + key_len;
  size_t rest_len = len - magic_len - key_len;
  uint32_t flags;
  memcpy (&flags, rest, sizeof flags);
  rest += sizeof flags;
  rest_len -= sizeof flags;
  if (rest_len == 0 || rest_len % sizeof (struct sock_filter) != 0
      || rest_len / sizeof (struct sock_filter) > PROGRAM_MAX_INSNS)
    return false;
  p->insns = malloc (rest_len);
  if (p->insns == NULL)
    return false;
  memcpy (p->insns, rest, rest_len);
  p->len = (unsigned short) (rest_len / sizeof (struct sock_filter));
  p->flags = flags;
  return true;
}

static void
cache_write (const char *cache_dir, uint64_t hash, const char *key,
             const struct arca_seccomp_program *p)
{
  char name[64];
  size_t key_len = strlen (key), magic_len = strlen (CACHE_MAGIC);
  size_t insn_len = (size_t) p->len * sizeof (struct sock_filter);
  uint32_t flags = p->flags;
  cleanup_free char *data = malloc (magic_len + key_len + sizeof flags + insn_len);
  cleanup_error arca_error *ignored = NULL;

  if (data == NULL || arca_mkdir_p (cache_dir, 0700, &ignored) < 0)
    return;
  memcpy (data, CACHE_MAGIC, magic_len);
  memcpy (data + magic_len, key, key_len);
  memcpy (data + magic_len + key_len, &flags, sizeof flags);
  memcpy (data + magic_len + key_len + sizeof flags, p->insns, insn_len);
  cleanup_close int dirfd = open (cache_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  snprintf (name, sizeof name, "%016llx.bpf", (unsigned long long) hash);
  if (dirfd >= 0)
    arca_write_file_atomic_at (dirfd, name, data, magic_len + key_len + sizeof flags + insn_len,
                               0600, &ignored);
}

int
arca_seccomp_compile (const struct arca_oci_seccomp *seccomp, const char *cache_dir,
                      struct arca_seccomp_program *ret, arca_error **err)
{
  cleanup_filter scmp_filter_ctx ctx = NULL;
  cleanup_free char *key = NULL;
  uint64_t hash = 0;
  bool has_notify = false;

  memset (ret, 0, sizeof *ret);
  if (cache_dir && cache_key (seccomp, &key, &hash, err) < 0)
    return -1;
  if (key && cache_read (cache_dir, hash, key, ret))
    return 0;
  if (build_filter (seccomp, &ctx, &has_notify, err) < 0)
    return -1;
  /* libseccomp 2.5 exports to an fd only. */
  cleanup_close int fd = memfd_create ("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "linux.seccomp: memfd_create");
  int r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return arca_error_set (err, -r, "linux.seccomp: export the filter");
  off_t size = lseek (fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t) sizeof (struct sock_filter) != 0
      || size / (off_t) sizeof (struct sock_filter) > PROGRAM_MAX_INSNS)
    return arca_error_set (err, E2BIG, "linux.seccomp: the filter has %lld bytes",
                           (long long) size);
  ret->insns = malloc ((size_t) size);
  if (ret->insns == NULL)
    return arca_error_set (err, ENOMEM, "linux.seccomp");
  if (pread (fd, ret->insns, (size_t) size, 0) != size)
    {
      arca_seccomp_program_clear (ret);
      return arca_error_errno (err, "linux.seccomp: read the exported filter");
    }
  ret->len = (unsigned short) (size / (off_t) sizeof (struct sock_filter));
  ret->flags = kernel_flags (seccomp, has_notify);
  if (key)
    cache_write (cache_dir, hash, key, ret);
  return 0;
}

int
arca_seccomp_load_program (const struct arca_seccomp_program *p, int *ret_listener_fd,
                           arca_error **err)
{
  struct sock_fprog prog = { .len = p->len, .filter = p->insns };

  if (ret_listener_fd)
    *ret_listener_fd = -1;
  long r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
  if (r < 0)
    return arca_error_errno (err, "linux.seccomp: load filter");
  if (p->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
    {
      if (ret_listener_fd)
        *ret_listener_fd = (int) r;
      else
        close ((int) r);
    }
  return 0;
}

void
arca_seccomp_program_clear (struct arca_seccomp_program *p)
{
  free (p->insns);
  p->insns = NULL;
  p->len = 0;
}

/* The runtime-spec's containerProcessState, what a seccomp agent parses:
 * {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}, with
 * fds[i] naming the i-th fd of the SCM_RIGHTS message.  pid and
 * ociVersion are taken from the container state itself. */
static int
process_state_json (const struct arca_oci_seccomp *seccomp, const char *state_json,
                    char **ret_json, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *state = NULL;
  _cleanup_ (json_decrefp) json_t *doc = NULL;
  json_error_t jerr;
  json_t *pid, *version;
  char *text;

  state = json_loads (state_json, JSON_REJECT_DUPLICATES, &jerr);
  if (state == NULL || !json_is_object (state))
    return arca_error_set (err, EINVAL, "seccomp listener: container state is not a JSON object");
  pid = json_object_get (state, "pid");
  version = json_object_get (state, "ociVersion");
  if (!json_is_integer (pid) || !json_is_string (version))
    return arca_error_set (err, EINVAL,
                           "seccomp listener: container state lacks pid or ociVersion");
  doc = json_pack ("{s:O, s:[s], s:O, s:O}", "ociVersion", version, "fds", "seccompFd", "pid",
                   pid, "state", state);
  if (doc == NULL)
    return arca_error_set (err, ENOMEM, "seccomp listener: build containerProcessState");
  if (seccomp->listener_metadata != NULL
      && json_object_set_new (doc, "metadata", json_string (seccomp->listener_metadata)) < 0)
    return arca_error_set (err, ENOMEM, "seccomp listener: build containerProcessState");
  text = json_dumps (doc, JSON_COMPACT);
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "seccomp listener: build containerProcessState");
  *ret_json = text;
  return 0;
}

int
arca_seccomp_send_listener (const struct arca_oci_seccomp *seccomp,
                            int listener_fd, const char *state_json,
                            arca_error **err)
{
  cleanup_close int sock = -1;
  cleanup_free char *message = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  const char *path = seccomp->listener_path;
  size_t len;
  size_t off;

  if (path == NULL || path[0] == '\0')
    return arca_error_set (err, EINVAL,
                           "linux.seccomp.listenerPath: not set but "
                           "SCMP_ACT_NOTIFY is used");
  if (strlen (path) >= sizeof (addr.sun_path))
    return arca_error_set (err, ENAMETOOLONG,
                           "linux.seccomp.listenerPath `%s`", path);
  if (process_state_json (seccomp, state_json, &message, err) < 0)
    return -1;
  len = strlen (message);
  strcpy (addr.sun_path, path);

  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return arca_error_errno (err, "seccomp listener: socket");
  if (connect (sock, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return arca_error_errno (err, "linux.seccomp.listenerPath `%s`: connect",
                             path);

  /* The fd travels with the first bytes; a stream socket may take the rest
   * in further writes. */
  {
    union
    {
      char buf[CMSG_SPACE (sizeof (int))];
      struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = message, .iov_len = len };
    struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof (control.buf),
    };
    struct cmsghdr *cmsg;
    ssize_t n;

    memset (&control, 0, sizeof (control));
    cmsg = CMSG_FIRSTHDR (&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN (sizeof (int));
    memcpy (CMSG_DATA (cmsg), &listener_fd, sizeof (int));

    do
      n = sendmsg (sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
      return arca_error_errno (err, "linux.seccomp.listenerPath `%s`: send",
                               path);
    off = (size_t) n;
  }
  while (off < len)
    {
      ssize_t n = send (sock, message + off, len - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err,
                                 "linux.seccomp.listenerPath `%s`: send", path);
      off += (size_t) n;
    }
  return 0;
}

/* ---- default profile ------------------------------------------------- */

/* What ordinary programs need: file and socket I/O, memory, processes and
 * threads (glibc, musl, busybox, python, go).  Names from all architectures
 * we may run on are listed; the ones a host does not know are skipped at
 * load time.  Missing on purpose: module loading, kexec, bpf,
 * perf_event_open, keyrings, ptrace and process_vm_*, mount and the new
 * mount API, pivot_root, unshare/setns, swap, reboot, clock and time
 * setting, quotactl, acct, syslog, userfaultfd, open_by_handle_at,
 * io_uring (a large kernel surface with a history of escapes). */
static const char *const default_allow[] = {
  /* file I/O */
  "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
  "pwritev", "preadv2", "pwritev2", "open", "openat", "openat2", "creat",
  "close", "close_range", "lseek", "_llseek", "dup", "dup2", "dup3", "pipe",
  "pipe2", "fcntl", "fcntl64", "ioctl", "flock", "fsync", "fdatasync", "sync",
  "syncfs", "sync_file_range", "sync_file_range2", "arm_sync_file_range",
  "truncate", "ftruncate", "truncate64", "ftruncate64", "fallocate",
  "fadvise64", "fadvise64_64", "arm_fadvise64_64", "readahead", "sendfile",
  "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
  /* metadata and names */
  "stat", "fstat", "lstat", "stat64", "fstat64", "lstat64", "newfstatat",
  "fstatat64", "statx", "statfs", "fstatfs", "statfs64", "fstatfs64",
  "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents",
  "getdents64", "chdir", "fchdir", "getcwd", "mkdir", "mkdirat", "rmdir",
  "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
  "unlink", "unlinkat", "mknod", "mknodat", "chmod", "fchmod", "fchmodat",
  "fchmodat2", "chown", "fchown", "lchown", "fchownat", "chown32",
  "fchown32", "lchown32", "utime", "utimes", "futimesat", "utimensat",
  "utimensat_time64", "umask", "chroot", "getxattr", "lgetxattr",
  "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
  "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
  "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
  /* memory */
  "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "pkey_mprotect",
  "pkey_alloc", "pkey_free", "madvise", "mlock", "mlock2", "munlock",
  "mlockall", "munlockall", "mincore", "msync", "membarrier", "memfd_create",
  "remap_file_pages", "get_mempolicy", "set_mempolicy", "mbind",
  "map_shadow_stack", "cachestat",
  /* processes and threads (clone is below, filtered) */
  "exit", "exit_group", "fork", "vfork", "execve", "execveat", "wait4",
  "waitid", "waitpid", "getpid", "getppid", "gettid", "getpgid", "setpgid",
  "getpgrp", "getsid", "setsid", "kill", "tkill", "tgkill", "pidfd_open",
  "pidfd_send_signal", "prctl", "arch_prctl", "set_tid_address",
  "set_robust_list", "get_robust_list", "futex", "futex_time64",
  "futex_waitv", "rseq", "restart_syscall", "set_thread_area",
  "get_thread_area", "set_tls", "cacheflush", "breakpoint",
  "riscv_flush_icache", "sched_yield", "sched_getaffinity",
  "sched_setaffinity", "sched_getparam", "sched_setparam",
  "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
  "sched_get_priority_min", "sched_rr_get_interval",
  "sched_rr_get_interval_time64", "sched_getattr", "sched_setattr",
  "getpriority", "setpriority", "ioprio_get", "ioprio_set", "getcpu",
  "capget", "capset", "getrlimit", "setrlimit", "ugetrlimit", "prlimit64",
  "getrusage", "times", "uname", "sysinfo", "getrandom", "seccomp",
  "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
  /* credentials */
  "getuid", "geteuid", "getgid", "getegid", "getuid32", "geteuid32",
  "getgid32", "getegid32", "setuid", "setgid", "setuid32", "setgid32",
  "setreuid", "setregid", "setreuid32", "setregid32", "setresuid",
  "setresgid", "setresuid32", "setresgid32", "getresuid", "getresgid",
  "getresuid32", "getresgid32", "setfsuid", "setfsgid", "setfsuid32",
  "setfsgid32", "getgroups", "setgroups", "getgroups32", "setgroups32",
  /* signals */
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
  "rt_sigpending", "rt_sigtimedwait", "rt_sigtimedwait_time64",
  "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd",
  "signalfd4", "pause", "alarm", "sigreturn", "sigaction", "sigprocmask",
  "sigsuspend", "sigpending", "signal",
  /* time (reading only) and timers */
  "clock_gettime", "clock_getres", "clock_nanosleep", "clock_gettime64",
  "clock_getres_time64", "clock_nanosleep_time64", "nanosleep",
  "gettimeofday", "time", "getitimer", "setitimer", "timer_create",
  "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
  "timer_settime64", "timer_gettime64", "timerfd_create", "timerfd_settime",
  "timerfd_gettime", "timerfd_settime64", "timerfd_gettime64",
  /* waiting for events, async I/O */
  "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6",
  "pselect6_time64", "epoll_create", "epoll_create1", "epoll_ctl",
  "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait",
  "epoll_pwait2", "eventfd", "eventfd2", "io_setup", "io_destroy",
  "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_submit",
  "io_cancel",
  /* sockets */
  "socket", "socketpair", "bind", "connect", "listen", "accept", "accept4",
  "getsockname", "getpeername", "sendto", "recvfrom", "send", "recv",
  "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64",
  "shutdown", "setsockopt", "getsockopt", "socketcall",
  /* System V and POSIX IPC (the container has its own IPC namespace) */
  "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
  "semtimedop_time64", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
  "ipc", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
  "mq_timedsend_time64", "mq_timedreceive_time64", "mq_notify",
  "mq_getsetattr",
  NULL,
};

/* personality(2) values glibc and setarch use harmlessly: PER_LINUX,
 * PER_LINUX32, UNAME26 variants and the query value 0xffffffff.  Others
 * (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) weaken the process. */
static const uint64_t default_personalities[] = {
  0x0, 0x8, 0x20000, 0x20008, 0xffffffff,
};

/* clone(2) flags that create namespaces; CLONE_NEWTIME is only valid for
 * unshare/clone3.  clone's flags are argument 0 on the architectures we
 * list (s390 swaps the first two, and is not among them). */
#define CLONE_NEW_MASK 0x7e020000ULL

static char **
strv_dup (const char *const *src)
{
  size_t n = 0;
  cleanup_strv char **v = NULL;

  while (src[n] != NULL)
    n++;
  v = calloc (n + 1, sizeof (char *));
  if (v == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    {
      v[i] = strdup (src[i]);
      if (v[i] == NULL)
        return NULL;
    }
  return move_ptr (v);
}

static int
set_rule (struct arca_oci_seccomp_rule *rule, const char *const *names,
          uint32_t action, const struct arca_oci_seccomp_arg *args,
          size_t n_args)
{
  rule->names = strv_dup (names);
  if (rule->names == NULL)
    return -1;
  rule->action = action;
  if (n_args > 0)
    {
      rule->args = calloc (n_args, sizeof (*args));
      if (rule->args == NULL)
        return -1;
      memcpy (rule->args, args, n_args * sizeof (*args));
      rule->n_args = n_args;
    }
  return 0;
}

int
arca_seccomp_default_profile (struct arca_oci_seccomp **ret, arca_error **err)
{
  cleanup_seccomp_profile struct arca_oci_seccomp *s = NULL;
  static const char *const personality[] = { "personality", NULL };
  static const char *const clone[] = { "clone", NULL };
  static const char *const clone3[] = { "clone3", NULL };
  const size_t n_pers = ARRAY_SIZE (default_personalities);
  struct arca_oci_seccomp_arg args[ARRAY_SIZE (default_personalities)];
  uint32_t native = seccomp_arch_native ();
  size_t r = 0;

  s = calloc (1, sizeof (*s));
  if (s == NULL)
    return arca_error_errno (err, "default seccomp profile");
  s->default_action = SCMP_ACT_ERRNO (EPERM);

  s->architectures = calloc (3, sizeof (uint32_t));
  if (s->architectures == NULL)
    return arca_error_errno (err, "default seccomp profile");
  s->architectures[s->n_architectures++] = native;
  if (native == SCMP_ARCH_X86_64)
    {
      s->architectures[s->n_architectures++] = SCMP_ARCH_X86;
      s->architectures[s->n_architectures++] = SCMP_ARCH_X32;
    }
  else if (native == SCMP_ARCH_AARCH64)
    s->architectures[s->n_architectures++] = SCMP_ARCH_ARM;

  /* allow list, personality (one rule per value: an OR), clone, clone3 */
  s->syscalls = calloc (n_pers + 3, sizeof (*s->syscalls));
  if (s->syscalls == NULL)
    return arca_error_errno (err, "default seccomp profile");

  if (set_rule (&s->syscalls[r++], default_allow, SCMP_ACT_ALLOW, NULL, 0)
      < 0)
    return arca_error_errno (err, "default seccomp profile");
  for (size_t i = 0; i < n_pers; i++)
    args[i] = (struct arca_oci_seccomp_arg) {
      .index = 0, .op = ARCA_SCMP_EQ, .value = default_personalities[i]
    };
  for (size_t i = 0; i < n_pers; i++)
    if (set_rule (&s->syscalls[r++], personality, SCMP_ACT_ALLOW, &args[i], 1)
        < 0)
      return arca_error_errno (err, "default seccomp profile");

  args[0] = (struct arca_oci_seccomp_arg) {
    .index = 0, .op = ARCA_SCMP_MASKED_EQ, .value = CLONE_NEW_MASK,
    .value_two = 0
  };
  if (set_rule (&s->syscalls[r++], clone, SCMP_ACT_ALLOW, args, 1) < 0)
    return arca_error_errno (err, "default seccomp profile");

  /* clone3 passes its flags in memory seccomp cannot read: ENOSYS makes
   * glibc and musl fall back to the filtered clone. */
  if (set_rule (&s->syscalls[r++], clone3, SCMP_ACT_ERRNO (ENOSYS), NULL, 0)
      < 0)
    return arca_error_errno (err, "default seccomp profile");
  s->syscalls[r - 1].has_errno_ret = true;
  s->syscalls[r - 1].errno_ret = ENOSYS;
  s->n_syscalls = r;

  *ret = move_ptr (s);
  return 0;
}

void
arca_seccomp_profile_free (struct arca_oci_seccomp *s)
{
  /* The parser's structure: the parser frees it. */
  arca_oci_seccomp_free (s);
}

void
arca_seccomp_profile_freep (struct arca_oci_seccomp **s)
{
  arca_seccomp_profile_free (*s);
}
