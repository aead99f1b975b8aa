/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: linux.seccomp.  Names are translated to libseccomp's values
 * here, once; the name tables are shared with `features`. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* libseccomp's header, for its constants only (SCMP_ACT_*, SCMP_ARCH_*,
 * SCMP_CMP_*, SCMP_VER_*). */
#include <seccomp.h>

#include "config-internal.h"
#include "util/cleanup.h"

/* Limits of what the runtime will load: arca-linux/seccomp.c builds at most
 * 12 comparisons per rule (two per argument). */
#define SECCOMP_MAX_ARGS 12
#define SECCOMP_MAX_NAMES 4096

#define ROW(x) { #x, x }

const struct oci_name_value oci_seccomp_actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL },
  ROW (SCMP_ACT_KILL_PROCESS),
  ROW (SCMP_ACT_KILL_THREAD),
  ROW (SCMP_ACT_TRAP),
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0) },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0) },
  ROW (SCMP_ACT_ALLOW),
  ROW (SCMP_ACT_LOG),
  ROW (SCMP_ACT_NOTIFY),
  { NULL, 0 },
};

const struct oci_name_value oci_seccomp_archs[] = {
  ROW (SCMP_ARCH_X86),
  ROW (SCMP_ARCH_X86_64),
  ROW (SCMP_ARCH_X32),
  ROW (SCMP_ARCH_ARM),
  ROW (SCMP_ARCH_AARCH64),
  ROW (SCMP_ARCH_MIPS),
  ROW (SCMP_ARCH_MIPS64),
  ROW (SCMP_ARCH_MIPS64N32),
  ROW (SCMP_ARCH_MIPSEL),
  ROW (SCMP_ARCH_MIPSEL64),
  ROW (SCMP_ARCH_MIPSEL64N32),
  ROW (SCMP_ARCH_PPC),
  ROW (SCMP_ARCH_PPC64),
  ROW (SCMP_ARCH_PPC64LE),
  ROW (SCMP_ARCH_S390),
  ROW (SCMP_ARCH_S390X),
  ROW (SCMP_ARCH_PARISC),
  ROW (SCMP_ARCH_PARISC64),
  ROW (SCMP_ARCH_RISCV64),
#ifdef SCMP_ARCH_LOONGARCH64
  ROW (SCMP_ARCH_LOONGARCH64),
#endif
#ifdef SCMP_ARCH_M68K
  ROW (SCMP_ARCH_M68K),
#endif
#ifdef SCMP_ARCH_SH
  ROW (SCMP_ARCH_SH),
  ROW (SCMP_ARCH_SHEB),
#endif
  { NULL, 0 },
};

const struct oci_name_value oci_seccomp_operators[] = {
  { "SCMP_CMP_NE", ARCA_SCMP_NE },
  { "SCMP_CMP_LT", ARCA_SCMP_LT },
  { "SCMP_CMP_LE", ARCA_SCMP_LE },
  { "SCMP_CMP_EQ", ARCA_SCMP_EQ },
  { "SCMP_CMP_GE", ARCA_SCMP_GE },
  { "SCMP_CMP_GT", ARCA_SCMP_GT },
  { "SCMP_CMP_MASKED_EQ", ARCA_SCMP_MASKED_EQ },
  { NULL, 0 },
};

_Static_assert ((int) ARCA_SCMP_NE == (int) SCMP_CMP_NE
                    && (int) ARCA_SCMP_MASKED_EQ == (int) SCMP_CMP_MASKED_EQ,
                "enum arca_seccomp_op mirrors enum scmp_compare");

/* TSYNC is accepted and has no bit: the container init loads its filter
 * while it is the only thread, so there is nothing to synchronise. */
const struct oci_name_value oci_seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", 0 },
  { "SECCOMP_FILTER_FLAG_LOG", ARCA_SECCOMP_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", ARCA_SECCOMP_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", ARCA_SECCOMP_FLAG_WAIT_KILLABLE },
  { NULL, 0 },
};

bool
oci_seccomp_flag_supported (uint32_t flag)
{
  /* libseccomp sets WAIT_KILLABLE_RECV only from 2.6 on. */
  if (flag == ARCA_SECCOMP_FLAG_WAIT_KILLABLE)
    return SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6);
  return true;
}

int
oci_lookup_name (const struct oci_name_value *table, json_t *v, const char *path,
                 const char *what, uint32_t *ret, arca_error **err)
{
  const char *s;

  if (oci_check_type (v, OCI_STRING, path, err) < 0)
    return -1;
  s = json_string_value (v);
  for (const struct oci_name_value *t = table; t->name != NULL; t++)
    if (strcmp (t->name, s) == 0)
      {
        *ret = t->value;
        return 0;
      }
  return oci_error (err, path, "unknown %s \"%.64s\"", what, s);
}

static bool
action_takes_errno (uint32_t action)
{
  return action == SCMP_ACT_ERRNO (0) || action == SCMP_ACT_TRACE (0);
}

static int
parse_action (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_lookup_name (oci_seccomp_actions, v, path, "seccomp action", field, err);
}

static int
parse_errno_ret (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  /* The kernel keeps 16 bits of SECCOMP_RET_DATA. */
  if (oci_get_int (v, path, 0, UINT16_MAX, &n, err) < 0)
    return -1;
  *(uint32_t *) field = (uint32_t) n;
  return 0;
}

static int
parse_arch_elem (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_lookup_name (oci_seccomp_archs, v, path, "seccomp architecture", elem, err);
}

static int
parse_archs (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_seccomp *s = field;

  return oci_parse_array (v, path, OCI_MAX_SMALL, sizeof (uint32_t), &s->architectures,
                          &s->n_architectures, parse_arch_elem, err);
}

static int
parse_flags (json_t *v, const char *path, void *field, arca_error **err)
{
  unsigned flags = 0;
  size_t n;

  if (oci_array_size (v, path, OCI_MAX_SMALL, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      char sub[OCI_PATH_MAX];
      uint32_t f;

      oci_path_index (sub, path, i);
      if (oci_lookup_name (oci_seccomp_flags, json_array_get (v, i), sub, "seccomp flag", &f,
                           err)
          < 0)
        return -1;
      flags |= f;
    }
  *(unsigned *) field = flags;
  return 0;
}

/* A sockaddr_un path: it must fit sun_path with its NUL. */
static int
parse_listener_path (json_t *v, const char *path, void *field, arca_error **err)
{
  struct sockaddr_un addr;

  if (json_string_length (v) == 0)
    return oci_error (err, path, "must not be empty");
  if (json_string_length (v) >= sizeof (addr.sun_path))
    return oci_error (err, path, "longer than %zu bytes", sizeof (addr.sun_path) - 1);
  return oci_parse_string (v, path, field, err);
}

static int
parse_listener_metadata (json_t *v, const char *path, void *field, arca_error **err)
{
  if (json_string_length (v) > 65536)
    return oci_error (err, path, "longer than 65536 bytes");
  return oci_parse_string (v, path, field, err);
}

/* ---- syscalls ----------------------------------------------------------- */

static int
parse_arg_index (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 0, 5, &n, err) < 0)
    return -1;
  *(unsigned *) field = (unsigned) n;
  return 0;
}

static int
parse_arg_op (json_t *v, const char *path, void *field, arca_error **err)
{
  uint32_t op;

  if (oci_lookup_name (oci_seccomp_operators, v, path, "seccomp operator", &op, err) < 0)
    return -1;
  *(enum arca_seccomp_op *) field = (enum arca_seccomp_op) op;
  return 0;
}

static const struct oci_field arg_fields[] = {
  OCI_ROW ("index", OCI_INTEGER, parse_arg_index, struct arca_oci_seccomp_arg, index,
           OCI_REQUIRED),
  OCI_ROW ("value", OCI_INTEGER, oci_parse_u64, struct arca_oci_seccomp_arg, value, OCI_REQUIRED),
  OCI_ROW ("valueTwo", OCI_INTEGER, oci_parse_u64, struct arca_oci_seccomp_arg, value_two, 0),
  OCI_ROW ("op", OCI_STRING, parse_arg_op, struct arca_oci_seccomp_arg, op, OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_arg (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_dispatch (v, path, arg_fields, elem, err);
}

static int
parse_args (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_seccomp_rule *r = field;

  return oci_parse_array (v, path, SECCOMP_MAX_ARGS, sizeof (struct arca_oci_seccomp_arg),
                          &r->args, &r->n_args, parse_arg, err);
}

static int
parse_names (json_t *v, const char *path, void *field, arca_error **err)
{
  if (oci_parse_strv (v, path, SECCOMP_MAX_NAMES, oci_check_nonempty, field, err) < 0)
    return -1;
  if ((*(char ***) field)[0] == NULL)
    return oci_error (err, path, "must not be empty");
  return 0;
}

static const struct oci_field rule_fields[] = {
  OCI_ROW ("names", OCI_ARRAY, parse_names, struct arca_oci_seccomp_rule, names, OCI_REQUIRED),
  OCI_ROW ("action", OCI_STRING, parse_action, struct arca_oci_seccomp_rule, action,
           OCI_REQUIRED),
  OCI_ROW_HAS ("errnoRet", OCI_INTEGER, parse_errno_ret, struct arca_oci_seccomp_rule, errno_ret,
               has_errno_ret, 0),
  OCI_ROW_SELF ("args", OCI_ARRAY, parse_args, 0),
  OCI_ROW_END,
};

static int
parse_rule (json_t *v, const char *path, void *elem, arca_error **err)
{
  struct arca_oci_seccomp_rule *r = elem;

  if (oci_dispatch (v, path, rule_fields, r, err) < 0)
    return -1;
  if (r->has_errno_ret && !action_takes_errno (r->action))
    {
      char sub[OCI_PATH_MAX];

      oci_path_key (sub, path, "errnoRet");
      return oci_error (err, sub, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
  return 0;
}

static int
parse_rules (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_seccomp *s = field;

  return oci_parse_array (v, path, OCI_MAX_SYSCALL_RULES, sizeof (struct arca_oci_seccomp_rule),
                          &s->syscalls, &s->n_syscalls, parse_rule, err);
}

/* ---- the object --------------------------------------------------------- */

static const struct oci_field seccomp_fields[] = {
  OCI_ROW ("defaultAction", OCI_STRING, parse_action, struct arca_oci_seccomp, default_action,
           OCI_REQUIRED),
  OCI_ROW_HAS ("defaultErrnoRet", OCI_INTEGER, parse_errno_ret, struct arca_oci_seccomp,
               default_errno_ret, has_default_errno_ret, 0),
  OCI_ROW_SELF ("architectures", OCI_ARRAY, parse_archs, 0),
  OCI_ROW ("flags", OCI_ARRAY, parse_flags, struct arca_oci_seccomp, flags, 0),
  OCI_ROW ("listenerPath", OCI_STRING, parse_listener_path, struct arca_oci_seccomp,
           listener_path, 0),
  OCI_ROW ("listenerMetadata", OCI_STRING, parse_listener_metadata, struct arca_oci_seccomp,
           listener_metadata, 0),
  OCI_ROW_SELF ("syscalls", OCI_ARRAY, parse_rules, 0),
  OCI_ROW_END,
};

static int
seccomp_validate (const struct arca_oci_seccomp *s, const char *path, arca_error **err)
{
  char sub[OCI_PATH_MAX];
  bool notify = false;

  if (s->default_action == SCMP_ACT_NOTIFY)
    {
      oci_path_key (sub, path, "defaultAction");
      return oci_error (err, sub, "SCMP_ACT_NOTIFY cannot be the default action");
    }
  if (s->has_default_errno_ret && !action_takes_errno (s->default_action))
    {
      oci_path_key (sub, path, "defaultErrnoRet");
      return oci_error (err, sub, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (s->syscalls[i].action == SCMP_ACT_NOTIFY)
      notify = true;
  if (notify && s->listener_path == NULL)
    {
      oci_path_key (sub, path, "listenerPath");
      return oci_error (err, sub, "required when a rule uses SCMP_ACT_NOTIFY");
    }
  if (s->listener_metadata != NULL && s->listener_path == NULL)
    {
      oci_path_key (sub, path, "listenerMetadata");
      return oci_error (err, sub, "given without listenerPath");
    }
  return 0;
}

int
oci_parse_seccomp (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_seccomp **ret = field;
  struct arca_oci_seccomp *s;

  s = calloc (1, sizeof (*s));
  if (s == NULL)
    return arca_error_errno (err, "%s", path);
  /* Owned by the config from here on, so an error below frees it. */
  oci_seccomp_free (*ret);
  *ret = s;
  if (oci_dispatch (v, path, seccomp_fields, s, err) < 0)
    return -1;
  return seccomp_validate (s, path, err);
}

void
arca_oci_seccomp_free (struct arca_oci_seccomp *s)
{
  oci_seccomp_free (s);
}

void
oci_seccomp_free (struct arca_oci_seccomp *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      arca_strv_free (s->syscalls[i].names);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  free (s->architectures);
  free (s->listener_path);
  free (s->listener_metadata);
  free (s);
}
