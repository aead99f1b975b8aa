/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: "process" (also standalone, for exec --process), with the
 * capability and rlimit name tables. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config-internal.h"
#include "util/cleanup.h"

/* Indexed by capability number; the kernel's list up to CAP_CHECKPOINT_RESTORE. */
static const char *const cap_names[] = {
  "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
  "CAP_FSETID",          "CAP_KILL",          "CAP_SETGID",          "CAP_SETUID",
  "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",       "CAP_NET_RAW",       "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",     "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
  "CAP_LEASE",           "CAP_AUDIT_WRITE",   "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",     "CAP_SYSLOG",          "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};
_Static_assert (ARRAY_SIZE (cap_names) == 41, "capabilities 0..40");

const char *
arca_oci_cap_name (unsigned cap)
{
  if (cap >= ARRAY_SIZE (cap_names))
    return NULL;
  return cap_names[cap];
}

int
arca_oci_cap_from_name (const char *name)
{
  for (size_t c = 0; c < ARRAY_SIZE (cap_names); c++)
    if (strcmp (cap_names[c], name) == 0)
      return (int) c;
  return -1;
}

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

/* ---- process ------------------------------------------------------------ */

static int
parse_umask (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 0, 0777, &n, err) < 0)
    return -1;
  *(mode_t *) field = (mode_t) n;
  return 0;
}

static int
parse_gid_elem (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_parse_u32 (v, path, elem, err);
}

static int
parse_additional_gids (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_user *user = field;

  return oci_parse_array (v, path, OCI_MAX_STRV, sizeof (gid_t), &user->additional_gids,
                          &user->n_additional_gids, parse_gid_elem, err);
}

static const struct oci_field user_fields[] = {
  OCI_ROW ("uid", OCI_INTEGER, oci_parse_u32, struct arca_oci_user, uid, 0),
  OCI_ROW ("gid", OCI_INTEGER, oci_parse_u32, struct arca_oci_user, gid, 0),
  OCI_ROW_HAS ("umask", OCI_INTEGER, parse_umask, struct arca_oci_user, umask, has_umask, 0),
  OCI_ROW_SELF ("additionalGids", OCI_ARRAY, parse_additional_gids, 0),
  OCI_ROW ("username", OCI_STRING, oci_parse_string, struct arca_oci_user, username, 0),
  OCI_ROW_END,
};

static int
parse_user (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, user_fields, field, err);
}

static int
parse_args (json_t *v, const char *path, void *field, arca_error **err)
{
  if (oci_parse_strv (v, path, OCI_MAX_STRV, NULL, field, err) < 0)
    return -1;
  if ((*(char ***) field)[0] == NULL)
    return oci_error (err, path, "must not be empty");
  return 0;
}

static int
parse_env (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_parse_strv (v, path, OCI_MAX_STRV, oci_check_env, field, err);
}

static int
parse_cap_set (json_t *v, const char *path, void *field, arca_error **err)
{
  uint64_t mask = 0;
  size_t n;

  /* Names may repeat, but not without bound. */
  if (oci_array_size (v, path, 1024, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = json_array_get (v, i);
      char sub[OCI_PATH_MAX];
      int c;

      oci_path_index (sub, path, i);
      if (oci_check_type (e, OCI_STRING, sub, err) < 0)
        return -1;
      c = arca_oci_cap_from_name (json_string_value (e));
      if (c < 0)
        return oci_error (err, sub, "unknown capability \"%.64s\"", json_string_value (e));
      mask |= 1ULL << c;
    }
  *(uint64_t *) field = mask;
  return 0;
}

static const struct oci_field capabilities_fields[] = {
  OCI_ROW ("bounding", OCI_ARRAY, parse_cap_set, struct arca_oci_capabilities, bounding, 0),
  OCI_ROW ("effective", OCI_ARRAY, parse_cap_set, struct arca_oci_capabilities, effective, 0),
  OCI_ROW ("inheritable", OCI_ARRAY, parse_cap_set, struct arca_oci_capabilities, inheritable, 0),
  OCI_ROW ("permitted", OCI_ARRAY, parse_cap_set, struct arca_oci_capabilities, permitted, 0),
  OCI_ROW ("ambient", OCI_ARRAY, parse_cap_set, struct arca_oci_capabilities, ambient, 0),
  OCI_ROW_END,
};

static int
parse_capabilities (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, capabilities_fields, field, err);
}

static const struct oci_field rlimit_fields[] = {
  OCI_ROW ("type", OCI_STRING, oci_parse_string, struct arca_oci_rlimit, type, OCI_REQUIRED),
  OCI_ROW ("soft", OCI_INTEGER, oci_parse_u64, struct arca_oci_rlimit, soft, OCI_REQUIRED),
  OCI_ROW ("hard", OCI_INTEGER, oci_parse_u64, struct arca_oci_rlimit, hard, OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_rlimit (json_t *v, const char *path, void *elem, arca_error **err)
{
  struct arca_oci_rlimit *rl = elem;
  char sub[OCI_PATH_MAX];
  size_t i;

  if (oci_dispatch (v, path, rlimit_fields, rl, err) < 0)
    return -1;
  oci_path_key (sub, path, "type");
  for (i = 0; i < ARRAY_SIZE (rlimit_names); i++)
    if (strcmp (rlimit_names[i].name, rl->type) == 0)
      break;
  if (i == ARRAY_SIZE (rlimit_names))
    return oci_error (err, sub, "unknown rlimit \"%.64s\"", rl->type);
  rl->resource = rlimit_names[i].resource;
  if (rl->soft > rl->hard)
    return oci_error (err, path, "soft limit %" PRIu64 " is above hard limit %" PRIu64, rl->soft,
                      rl->hard);
  return 0;
}

static int
parse_rlimits (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_process *p = field;

  if (oci_parse_array (v, path, OCI_MAX_SMALL, sizeof (struct arca_oci_rlimit), &p->rlimits,
                       &p->n_rlimits, parse_rlimit, err) < 0)
    return -1;
  for (size_t i = 1; i < p->n_rlimits; i++)
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[i].resource == p->rlimits[j].resource)
        {
          char sub[OCI_PATH_MAX], sub2[OCI_PATH_MAX];

          oci_path_index (sub, path, i);
          oci_path_key (sub2, sub, "type");
          return oci_error (err, sub2, "duplicate rlimit \"%s\"", p->rlimits[i].type);
        }
  return 0;
}

static const struct oci_field console_size_fields[] = {
  OCI_ROW ("height", OCI_INTEGER, oci_parse_u32, struct arca_oci_process, console_height,
           OCI_REQUIRED),
  OCI_ROW ("width", OCI_INTEGER, oci_parse_u32, struct arca_oci_process, console_width,
           OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_console_size (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, console_size_fields, field, err);
}

static int
parse_oom_score_adj (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, -1000, 1000, &n, err) < 0)
    return -1;
  *(int *) field = (int) n;
  return 0;
}

static const struct oci_field process_fields[] = {
  OCI_ROW ("terminal", OCI_BOOL, oci_parse_bool, struct arca_oci_process, terminal, 0),
  { "consoleSize", OCI_OBJECT, parse_console_size, 0, OCI_HAS,
    offsetof (struct arca_oci_process, has_console_size) },
  OCI_ROW ("user", OCI_OBJECT, parse_user, struct arca_oci_process, user, 0),
  OCI_ROW ("args", OCI_ARRAY, parse_args, struct arca_oci_process, args, OCI_REQUIRED),
  OCI_ROW ("env", OCI_ARRAY, parse_env, struct arca_oci_process, env, 0),
  OCI_ROW ("cwd", OCI_STRING, oci_parse_abs_path, struct arca_oci_process, cwd, OCI_REQUIRED),
  OCI_ROW_HAS ("capabilities", OCI_OBJECT, parse_capabilities, struct arca_oci_process,
               capabilities, has_capabilities, 0),
  OCI_ROW_SELF ("rlimits", OCI_ARRAY, parse_rlimits, 0),
  OCI_ROW ("noNewPrivileges", OCI_BOOL, oci_parse_bool, struct arca_oci_process,
           no_new_privileges, 0),
  OCI_ROW ("apparmorProfile", OCI_STRING, oci_parse_string, struct arca_oci_process,
           apparmor_profile, 0),
  OCI_ROW ("selinuxLabel", OCI_STRING, oci_parse_string, struct arca_oci_process, selinux_label,
           0),
  OCI_ROW_HAS ("oomScoreAdj", OCI_INTEGER, parse_oom_score_adj, struct arca_oci_process,
               oom_score_adj, has_oom_score_adj, 0),
  OCI_ROW_UNSUPPORTED ("scheduler"),
  OCI_ROW_UNSUPPORTED ("ioPriority"),
  OCI_ROW_UNSUPPORTED ("execCPUAffinity"),
  OCI_ROW_END,
};

int
oci_parse_process (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, process_fields, field, err);
}

void
oci_process_clear (struct arca_oci_process *p)
{
  free (p->user.additional_gids);
  free (p->user.username);
  arca_strv_free (p->args);
  arca_strv_free (p->env);
  free (p->cwd);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  memset (p, 0, sizeof (*p));
}

/* ---- standalone -------------------------------------------------------- */

int
arca_oci_process_parse (const char *json, size_t len, struct arca_oci_process **ret_process,
                        arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *root = NULL;
  cleanup_process struct arca_oci_process *p = NULL;

  if (oci_load_json (json, len, &root, err) < 0)
    return -1;
  p = calloc (1, sizeof (*p));
  if (p == NULL)
    return arca_error_errno (err, "parse process");
  if (oci_parse_process (root, "process", p, err) < 0)
    return -1;
  *ret_process = move_ptr (p);
  return 0;
}

void
arca_oci_process_free (struct arca_oci_process *process)
{
  if (process == NULL)
    return;
  oci_process_clear (process);
  free (process);
}

void
arca_oci_process_freep (struct arca_oci_process **process)
{
  if (process == NULL)
    return;
  arca_oci_process_free (*process);
  *process = NULL;
}
