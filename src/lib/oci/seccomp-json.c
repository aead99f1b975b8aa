/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdlib.h>

#include "config-internal.h"
#include "oci/seccomp-json.h"
#include "util/cleanup.h"

#define ACTION_BASE_MASK 0xffff0000u
#define ACTION_DATA_MASK 0x0000ffffu

static const char *
table_name (const struct oci_name_value *table, uint32_t value)
{
  for (size_t i = 0; table[i].name; i++)
    if (table[i].value == value)
      return table[i].name;
  return NULL;
}

/* SCMP_ACT_ERRNO(n) / SCMP_ACT_TRACE(n) carry their data in the low bits;
 * the spec writes it as errnoRet. */
static int
set_action (json_t *obj, const char *key, uint32_t action, bool has_errno_ret,
            uint32_t errno_ret, arca_error **err)
{
  uint32_t base = action;
  const char *name = table_name (oci_seccomp_actions, action);

  if (name == NULL)
    {
      base = action & ACTION_BASE_MASK;
      name = table_name (oci_seccomp_actions, base);
      if (name == NULL)
        return arca_error_set (err, EINVAL, "seccomp profile: unknown action 0x%x", action);
      if (!has_errno_ret)
        {
          has_errno_ret = true;
          errno_ret = action & ACTION_DATA_MASK;
        }
    }
  json_object_set_new (obj, key, json_string (name));
  if (has_errno_ret)
    json_object_set_new (obj, key[0] == 'd' ? "defaultErrnoRet" : "errnoRet",
                         json_integer (errno_ret));
  return 0;
}

int
arca_oci_seccomp_to_json (const struct arca_oci_seccomp *s, char **ret_json, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *doc = json_object ();
  json_t *archs = json_array ();
  json_t *flags = json_array ();
  json_t *syscalls = json_array ();

  json_object_set_new (doc, "architectures", archs);
  json_object_set_new (doc, "syscalls", syscalls);
  if (set_action (doc, "defaultAction", s->default_action, s->has_default_errno_ret,
                  s->default_errno_ret, err)
      < 0)
    return -1;
  for (size_t i = 0; i < s->n_architectures; i++)
    {
      const char *name = table_name (oci_seccomp_archs, s->architectures[i]);
      if (name == NULL)
        return arca_error_set (err, EINVAL, "seccomp profile: unknown architecture 0x%x",
                               s->architectures[i]);
      json_array_append_new (archs, json_string (name));
    }
  for (size_t i = 0; oci_seccomp_flags[i].name; i++)
    if (s->flags & oci_seccomp_flags[i].value)
      json_array_append_new (flags, json_string (oci_seccomp_flags[i].name));
  if (json_array_size (flags))
    json_object_set_new (doc, "flags", flags);
  else
    json_decref (flags);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const struct arca_oci_seccomp_rule *rule = &s->syscalls[i];
      json_t *r = json_object ();
      json_t *names = json_array ();
      json_array_append_new (syscalls, r);
      json_object_set_new (r, "names", names);
      for (size_t k = 0; rule->names && rule->names[k]; k++)
        json_array_append_new (names, json_string (rule->names[k]));
      if (set_action (r, "action", rule->action, rule->has_errno_ret, rule->errno_ret, err) < 0)
        return -1;
      if (rule->n_args == 0)
        continue;
      json_t *args = json_array ();
      json_object_set_new (r, "args", args);
      for (size_t k = 0; k < rule->n_args; k++)
        {
          const struct arca_oci_seccomp_arg *a = &rule->args[k];
          const char *op = table_name (oci_seccomp_operators, (uint32_t) a->op);
          if (op == NULL)
            return arca_error_set (err, EINVAL, "seccomp profile: unknown operator %d", a->op);
          json_array_append_new (args, json_pack ("{s:i, s:I, s:I, s:s}", "index", (int) a->index,
                                                  "value", (json_int_t) a->value, "valueTwo",
                                                  (json_int_t) a->value_two, "op", op));
        }
    }
  *ret_json = json_dumps (doc, JSON_COMPACT);
  if (*ret_json == NULL)
    return arca_error_set (err, ENOMEM, "render seccomp profile");
  return 0;
}
