/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: the table-driven parser core, the name tables, the top
 * level, root, hooks and annotations.  process is in config-process.c,
 * mounts in config-mounts.c, the "linux" object in config-linux.c,
 * linux.seccomp in config-seccomp.c, JSON loading in config-json.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* Files are bounded like text (config-json.c checks the same size). */
#define CONFIG_MAX_SIZE (4u << 20)

_Static_assert (sizeof (uid_t) == sizeof (uint32_t), "uid_t is 32 bits");
_Static_assert (sizeof (gid_t) == sizeof (uint32_t), "gid_t is 32 bits");
_Static_assert (sizeof (unsigned) == sizeof (uint32_t), "unsigned is 32 bits");

/* ---- parser core -------------------------------------------------------- */

/* Messages quote untrusted text (keys, values) and end up on a terminal:
 * control characters, C0 and the UTF-8 form of C1, become '?'. */
void
oci_defang (char *s)
{
  for (unsigned char *p = (unsigned char *) s; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      *p = '?';
    else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
      {
        p[0] = '?';
        p[1] = '?';
        p++;
      }
}

int
oci_error (arca_error **err, const char *path, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  cleanup_free char *full = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (asprintf (&full, "%s: %s", path, msg ? msg : fmt) < 0)
    return arca_error_set (err, EINVAL, "%s: %s", path, fmt);
  oci_defang (full);
  return arca_error_set (err, EINVAL, "%s", full);
}

void
oci_path_key (char buf[OCI_PATH_MAX], const char *parent, const char *key)
{
  if (parent == NULL || parent[0] == '\0')
    snprintf (buf, OCI_PATH_MAX, "%s", key);
  else
    snprintf (buf, OCI_PATH_MAX, "%s.%s", parent, key);
}

void
oci_path_index (char buf[OCI_PATH_MAX], const char *parent, size_t index)
{
  snprintf (buf, OCI_PATH_MAX, "%s[%zu]", parent, index);
}

static const char *
json_type_name (json_t *v)
{
  if (oci_json_big_uint (v, NULL))
    return "integer";
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return "object";
    case JSON_ARRAY:
      return "array";
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
      return "integer";
    case JSON_REAL:
      return "number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "boolean";
    case JSON_NULL:
      return "null";
    }
  return "value";
}

int
oci_check_type (json_t *v, enum oci_type type, const char *path, arca_error **err)
{
  static const char *const names[] = {
    [OCI_ANY] = "value",     [OCI_STRING] = "string", [OCI_BOOL] = "boolean",
    [OCI_INTEGER] = "integer", [OCI_OBJECT] = "object", [OCI_ARRAY] = "array",
  };
  bool ok;

  switch (type)
    {
    case OCI_STRING:
      ok = json_is_string (v) && !oci_json_big_uint (v, NULL);
      break;
    case OCI_BOOL:
      ok = json_is_boolean (v);
      break;
    case OCI_INTEGER:
      ok = json_is_integer (v) || oci_json_big_uint (v, NULL);
      break;
    case OCI_OBJECT:
      ok = json_is_object (v);
      break;
    case OCI_ARRAY:
      ok = json_is_array (v);
      break;
    default:
      ok = v != NULL;
      break;
    }
  if (!ok)
    return oci_error (err, path, "expected %s, got %s", names[type], json_type_name (v));
  return 0;
}

int
oci_dispatch (json_t *obj, const char *path, const struct oci_field *fields, void *base,
              arca_error **err)
{
  if (oci_check_type (obj, OCI_OBJECT, path, err) < 0)
    return -1;
  for (const struct oci_field *f = fields; f->name != NULL; f++)
    {
      char sub[OCI_PATH_MAX];
      json_t *v = json_object_get (obj, f->name);

      oci_path_key (sub, path, f->name);
      if (f->flags & OCI_UNSUPPORTED)
        {
          if (v != NULL)
            return arca_error_set (err, EOPNOTSUPP, "%s: not supported on this host", sub);
          continue;
        }
      /* Go writes absent optional fields as null: treat both alike. */
      if (v == NULL || json_is_null (v))
        {
          if (f->flags & OCI_REQUIRED)
            return oci_error (err, sub, "required");
          continue;
        }
      if (oci_check_type (v, f->type, sub, err) < 0)
        return -1;
      if (f->parse (v, sub, (char *) base + f->offset, err) < 0)
        return -1;
      if (f->flags & OCI_HAS)
        *(bool *) ((char *) base + f->has_offset) = true;
    }
  return 0;
}

int
oci_get_int (json_t *v, const char *path, int64_t min, int64_t max, int64_t *ret,
             arca_error **err)
{
  uint64_t big;
  int64_t n;

  if (oci_check_type (v, OCI_INTEGER, path, err) < 0)
    return -1;
  if (oci_json_big_uint (v, &big))
    return oci_error (err, path, "%" PRIu64 " out of range [%" PRId64 ", %" PRId64 "]", big, min,
                      max);
  n = json_integer_value (v);
  if (n < min || n > max)
    {
      if (min == 0 && n < 0)
        return oci_error (err, path, "must not be negative, got %" PRId64, n);
      return oci_error (err, path, "%" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", n, min,
                        max);
    }
  *ret = n;
  return 0;
}

int
oci_array_size (json_t *v, const char *path, size_t max, size_t *ret, arca_error **err)
{
  size_t n;

  if (oci_check_type (v, OCI_ARRAY, path, err) < 0)
    return -1;
  n = json_array_size (v);
  if (n > max)
    return oci_error (err, path, "too many entries (%zu, at most %zu)", n, max);
  *ret = n;
  return 0;
}

int
oci_parse_array (json_t *v, const char *path, size_t max, size_t elem_size, void *ret_items,
                 size_t *ret_n, oci_elem_fn parse_elem, arca_error **err)
{
  char *items;
  size_t n;

  if (oci_array_size (v, path, max, &n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  items = calloc (n, elem_size);
  if (items == NULL)
    return arca_error_errno (err, "%s", path);
  *(void **) ret_items = items;
  *ret_n = n;
  for (size_t i = 0; i < n; i++)
    {
      char sub[OCI_PATH_MAX];

      oci_path_index (sub, path, i);
      if (parse_elem (json_array_get (v, i), sub, items + i * elem_size, err) < 0)
        return -1;
    }
  return 0;
}

int
oci_check_absolute (const char *s, const char *path, arca_error **err)
{
  if (s[0] != '/')
    return oci_error (err, path, "must be an absolute path");
  if (strlen (s) >= PATH_MAX)
    return oci_error (err, path, "longer than %d bytes", PATH_MAX - 1);
  return 0;
}

int
oci_check_env (const char *s, const char *path, arca_error **err)
{
  if (s[0] == '=' || strchr (s, '=') == NULL)
    return oci_error (err, path, "\"%.64s\" is not of the form KEY=value", s);
  return 0;
}

int
oci_check_nonempty (const char *s, const char *path, arca_error **err)
{
  if (s[0] == '\0')
    return oci_error (err, path, "must not be empty");
  return 0;
}

/* Strings from the parser never hold NUL (jansson refuses \u0000 unless
 * asked to), so C strings carry them completely. */
static int
dup_string (json_t *v, const char *path, char **ret, arca_error **err)
{
  char *s;

  if (oci_check_type (v, OCI_STRING, path, err) < 0)
    return -1;
  s = strdup (json_string_value (v));
  if (s == NULL)
    return arca_error_errno (err, "%s", path);
  free (*ret);
  *ret = s;
  return 0;
}

int
oci_parse_strv (json_t *v, const char *path, size_t max, oci_str_check_fn check, char ***ret,
                arca_error **err)
{
  char **strv;
  size_t n;

  if (oci_array_size (v, path, max, &n, err) < 0)
    return -1;
  strv = calloc (n + 1, sizeof (char *));
  if (strv == NULL)
    return arca_error_errno (err, "%s", path);
  arca_strv_free (*ret);
  *ret = strv;
  for (size_t i = 0; i < n; i++)
    {
      char sub[OCI_PATH_MAX];

      oci_path_index (sub, path, i);
      if (dup_string (json_array_get (v, i), sub, &strv[i], err) < 0)
        return -1;
      if (check && check (strv[i], sub, err) < 0)
        return -1;
    }
  return 0;
}

int
oci_parse_string_map (json_t *v, const char *path, size_t max, oci_str_check_fn check_key,
                      size_t pair_size, size_t key_offset, size_t value_offset, void *ret_items,
                      size_t *ret_n, arca_error **err)
{
  size_t n = json_object_size (v), i = 0;
  const char *key;
  json_t *value;
  char *items;

  if (oci_check_type (v, OCI_OBJECT, path, err) < 0)
    return -1;
  if (n > max)
    return oci_error (err, path, "too many entries (%zu, at most %zu)", n, max);
  if (n == 0)
    return 0;
  items = calloc (n, pair_size);
  if (items == NULL)
    return arca_error_errno (err, "%s", path);
  *(void **) ret_items = items;
  *ret_n = n;
  json_object_foreach (v, key, value)
    {
      char *pair = items + i++ * pair_size;
      char sub[OCI_PATH_MAX];

      oci_path_key (sub, path, key);
      if (check_key && check_key (key, sub, err) < 0)
        return -1;
      *(char **) (pair + key_offset) = strdup (key);
      if (*(char **) (pair + key_offset) == NULL)
        return arca_error_errno (err, "%s", sub);
      if (dup_string (value, sub, (char **) (pair + value_offset), err) < 0)
        return -1;
    }
  return 0;
}

int
oci_parse_string (json_t *v, const char *path, void *field, arca_error **err)
{
  return dup_string (v, path, field, err);
}

int
oci_parse_abs_path (json_t *v, const char *path, void *field, arca_error **err)
{
  if (dup_string (v, path, field, err) < 0)
    return -1;
  return oci_check_absolute (*(char **) field, path, err);
}

int
oci_parse_bool (json_t *v, const char *path, void *field, arca_error **err)
{
  if (oci_check_type (v, OCI_BOOL, path, err) < 0)
    return -1;
  *(bool *) field = json_is_true (v);
  return 0;
}

int
oci_parse_u16 (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 0, UINT16_MAX, &n, err) < 0)
    return -1;
  *(uint16_t *) field = (uint16_t) n;
  return 0;
}

int
oci_parse_u32 (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 0, UINT32_MAX, &n, err) < 0)
    return -1;
  *(uint32_t *) field = (uint32_t) n;
  return 0;
}

/* The upper half of the range arrives as a marked string (config-json.c). */
int
oci_parse_u64 (json_t *v, const char *path, void *field, arca_error **err)
{
  uint64_t big;
  int64_t n;

  if (oci_json_big_uint (v, &big))
    {
      *(uint64_t *) field = big;
      return 0;
    }
  if (oci_get_int (v, path, 0, INT64_MAX, &n, err) < 0)
    return -1;
  *(uint64_t *) field = (uint64_t) n;
  return 0;
}

int
oci_parse_i64 (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_get_int (v, path, INT64_MIN, INT64_MAX, field, err);
}

/* ---- name tables -------------------------------------------------------- */

static const char *const ns_type_names[ARCA_NS__COUNT] = {
  [ARCA_NS_PID] = "pid",   [ARCA_NS_NETWORK] = "network", [ARCA_NS_MOUNT] = "mount",
  [ARCA_NS_IPC] = "ipc",   [ARCA_NS_UTS] = "uts",         [ARCA_NS_USER] = "user",
  [ARCA_NS_CGROUP] = "cgroup", [ARCA_NS_TIME] = "time",
};

const char *
arca_oci_ns_type_name (enum arca_oci_ns_type type)
{
  if ((unsigned) type >= ARCA_NS__COUNT)
    return NULL;
  return ns_type_names[type];
}

int
arca_oci_ns_type_from_name (const char *name)
{
  for (int i = 0; i < ARCA_NS__COUNT; i++)
    if (strcmp (ns_type_names[i], name) == 0)
      return i;
  return -1;
}

static const char *const hook_kind_names[ARCA_HOOK__COUNT] = {
  [ARCA_HOOK_PRESTART] = "prestart",
  [ARCA_HOOK_CREATE_RUNTIME] = "createRuntime",
  [ARCA_HOOK_CREATE_CONTAINER] = "createContainer",
  [ARCA_HOOK_START_CONTAINER] = "startContainer",
  [ARCA_HOOK_POSTSTART] = "poststart",
  [ARCA_HOOK_POSTSTOP] = "poststop",
};

const char *
arca_oci_hook_kind_name (enum arca_oci_hook_kind kind)
{
  if ((unsigned) kind >= ARCA_HOOK__COUNT)
    return NULL;
  return hook_kind_names[kind];
}

const struct arca_oci_namespace *
arca_oci_config_namespace (const struct arca_oci_config *config, enum arca_oci_ns_type type)
{
  if (config == NULL)
    return NULL;
  for (size_t i = 0; i < config->linux_.n_namespaces; i++)
    if (config->linux_.namespaces[i].type == type)
      return &config->linux_.namespaces[i];
  return NULL;
}

/* ---- root, hostname ----------------------------------------------------- */

static const struct oci_field root_fields[] = {
  OCI_ROW ("path", OCI_STRING, oci_parse_string, struct arca_oci_root, path, 0),
  OCI_ROW ("readonly", OCI_BOOL, oci_parse_bool, struct arca_oci_root, readonly, 0),
  OCI_ROW_END,
};

static int
parse_root (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, root_fields, field, err);
}

static int
parse_host_name (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *s;

  if (dup_string (v, path, field, err) < 0)
    return -1;
  s = *(char **) field;
  if (strlen (s) > 64)
    return oci_error (err, path, "longer than 64 characters");
  if (strchr (s, '/') != NULL)
    return oci_error (err, path, "must not contain '/'");
  return 0;
}

static int
parse_oci_version (json_t *v, const char *path, void *field, arca_error **err)
{
  if (dup_string (v, path, field, err) < 0)
    return -1;
  if (strncmp (*(char **) field, "1.", 2) != 0)
    return oci_error (err, path, "unsupported version \"%.32s\" (arca reads 1.x)",
                      *(char **) field);
  return 0;
}

/* ---- hooks, annotations ------------------------------------------------- */

static int
parse_hook_env (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_parse_strv (v, path, OCI_MAX_STRV, oci_check_env, field, err);
}

static int
parse_hook_args (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_parse_strv (v, path, OCI_MAX_STRV, NULL, field, err);
}

static int
parse_hook_timeout (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 1, INT_MAX, &n, err) < 0)
    return -1;
  *(int *) field = (int) n;
  return 0;
}

static const struct oci_field hook_fields[] = {
  OCI_ROW ("path", OCI_STRING, oci_parse_abs_path, struct arca_oci_hook, path, OCI_REQUIRED),
  OCI_ROW ("args", OCI_ARRAY, parse_hook_args, struct arca_oci_hook, args, 0),
  OCI_ROW ("env", OCI_ARRAY, parse_hook_env, struct arca_oci_hook, env, 0),
  OCI_ROW_HAS ("timeout", OCI_INTEGER, parse_hook_timeout, struct arca_oci_hook, timeout,
               has_timeout, 0),
  OCI_ROW_END,
};

static int
parse_hook (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_dispatch (v, path, hook_fields, elem, err);
}

static int
parse_hooks (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_config *c = field;

  for (int k = 0; k < ARCA_HOOK__COUNT; k++)
    {
      json_t *list = json_object_get (v, hook_kind_names[k]);
      char sub[OCI_PATH_MAX];

      if (list == NULL || json_is_null (list))
        continue;
      oci_path_key (sub, path, hook_kind_names[k]);
      if (oci_parse_array (list, sub, OCI_MAX_HOOKS, sizeof (struct arca_oci_hook), &c->hooks[k],
                           &c->n_hooks[k], parse_hook, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_annotations (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_config *c = field;

  return oci_parse_string_map (v, path, OCI_MAX_ANNOTATIONS, oci_check_nonempty,
                               sizeof (struct arca_oci_annotation),
                               offsetof (struct arca_oci_annotation, key),
                               offsetof (struct arca_oci_annotation, value), &c->annotations,
                               &c->n_annotations, err);
}

/* ---- the whole config --------------------------------------------------- */

static const struct oci_field config_fields[] = {
  OCI_ROW ("ociVersion", OCI_STRING, parse_oci_version, struct arca_oci_config, oci_version,
           OCI_REQUIRED),
  OCI_ROW ("root", OCI_OBJECT, parse_root, struct arca_oci_config, root, 0),
  OCI_ROW_HAS ("process", OCI_OBJECT, oci_parse_process, struct arca_oci_config, process,
               has_process, 0),
  OCI_ROW ("hostname", OCI_STRING, parse_host_name, struct arca_oci_config, hostname, 0),
  OCI_ROW ("domainname", OCI_STRING, parse_host_name, struct arca_oci_config, domainname, 0),
  OCI_ROW_SELF ("mounts", OCI_ARRAY, oci_parse_mounts, 0),
  OCI_ROW_SELF ("hooks", OCI_OBJECT, parse_hooks, 0),
  OCI_ROW_SELF ("annotations", OCI_OBJECT, parse_annotations, 0),
  OCI_ROW ("linux", OCI_OBJECT, oci_parse_linux, struct arca_oci_config, linux_, 0),
  OCI_ROW_UNSUPPORTED ("vm"),
  OCI_ROW_UNSUPPORTED ("windows"),
  OCI_ROW_UNSUPPORTED ("solaris"),
  OCI_ROW_UNSUPPORTED ("zos"),
  OCI_ROW_END,
};

int
arca_oci_config_parse (const char *json, size_t len, struct arca_oci_config **ret_config,
                       arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *root = NULL;
  cleanup_config struct arca_oci_config *c = NULL;

  if (oci_load_json (json, len, &root, err) < 0)
    return -1;
  c = calloc (1, sizeof (*c));
  if (c == NULL)
    return arca_error_errno (err, "parse config");
  if (oci_dispatch (root, "", config_fields, c, err) < 0)
    return -1;
  if (c->has_process && (c->root.path == NULL || c->root.path[0] == '\0'))
    return oci_error (err, "root.path", "required (non-empty) when process is given");
  /* Without a UTS namespace of its own the container would rename the
   * host. */
  if (arca_oci_config_namespace (c, ARCA_NS_UTS) == NULL)
    {
      if (c->hostname != NULL && c->hostname[0] != '\0')
        return oci_error (err, "hostname", "needs its own uts namespace in linux.namespaces");
      if (c->domainname != NULL && c->domainname[0] != '\0')
        return oci_error (err, "domainname", "needs its own uts namespace in linux.namespaces");
    }
  *ret_config = move_ptr (c);
  return 0;
}

int
arca_oci_config_load (const char *bundle, struct arca_oci_config **ret_config, arca_error **err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (asprintf (&path, "%s/config.json", bundle) < 0)
    return arca_error_errno (err, "load bundle `%s`", bundle);
  if (arca_read_file_at (AT_FDCWD, path, CONFIG_MAX_SIZE, &data, &len, err) < 0)
    return -1;
  if (arca_oci_config_parse (data, len, ret_config, err) < 0)
    return arca_error_wrap (err, "`%s`", path);
  return 0;
}

int
arca_oci_resources_parse (const char *json, size_t len, struct arca_oci_resources *ret_resources,
                          arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *root = NULL;
  struct arca_oci_resources r = { 0 };

  if (oci_load_json (json, len, &root, err) < 0)
    return -1;
  if (oci_parse_resources (root, "resources", &r, err) < 0)
    {
      arca_oci_resources_clear (&r);
      return -1;
    }
  *ret_resources = r;
  return 0;
}

void
arca_oci_config_free (struct arca_oci_config *c)
{
  if (c == NULL)
    return;
  free (c->oci_version);
  free (c->root.path);
  oci_process_clear (&c->process);
  free (c->hostname);
  free (c->domainname);
  oci_mounts_free (c->mounts, c->n_mounts);
  for (int k = 0; k < ARCA_HOOK__COUNT; k++)
    {
      for (size_t i = 0; i < c->n_hooks[k]; i++)
        {
          free (c->hooks[k][i].path);
          arca_strv_free (c->hooks[k][i].args);
          arca_strv_free (c->hooks[k][i].env);
        }
      free (c->hooks[k]);
    }
  for (size_t i = 0; i < c->n_annotations; i++)
    {
      free (c->annotations[i].key);
      free (c->annotations[i].value);
    }
  free (c->annotations);
  oci_linux_clear (&c->linux_);
  free (c);
}

void
arca_oci_config_freep (struct arca_oci_config **config)
{
  if (config == NULL)
    return;
  arca_oci_config_free (*config);
  *config = NULL;
}
