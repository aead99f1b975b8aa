/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime-spec features document.  Every list is read from the
 * parser's own tables, so what we announce is what config.json may use. */
#include "features.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "config-internal.h"
#include "util/cleanup.h"

/* jansson's own json_decrefp (behind json_auto_t). */
#define cleanup_json _cleanup_ (json_decrefp)

static int
append_string (json_t *a, const char *s)
{
  return json_array_append_new (a, json_string (s));
}

static json_t *
names_json (const struct oci_name_value *table, bool supported_only)
{
  cleanup_json json_t *a = json_array ();

  if (a == NULL)
    return NULL;
  for (const struct oci_name_value *t = table; t->name != NULL; t++)
    {
      if (supported_only && !oci_seccomp_flag_supported (t->value))
        continue;
      if (append_string (a, t->name) < 0)
        return NULL;
    }
  return move_ptr (a);
}

static json_t *
hooks_json (void)
{
  cleanup_json json_t *a = json_array ();

  if (a == NULL)
    return NULL;
  for (int k = 0; k < ARCA_HOOK__COUNT; k++)
    if (append_string (a, arca_oci_hook_kind_name (k)) < 0)
      return NULL;
  return move_ptr (a);
}

static json_t *
mount_options_json (void)
{
  cleanup_json json_t *a = json_array ();
  const char *name;

  if (a == NULL)
    return NULL;
  for (size_t i = 0; (name = oci_mount_option_name (i)) != NULL; i++)
    if (append_string (a, name) < 0)
      return NULL;
  return move_ptr (a);
}

static json_t *
namespaces_json (void)
{
  cleanup_json json_t *a = json_array ();

  if (a == NULL)
    return NULL;
  for (int t = 0; t < ARCA_NS__COUNT; t++)
    if (append_string (a, arca_oci_ns_type_name (t)) < 0)
      return NULL;
  return move_ptr (a);
}

static json_t *
capabilities_json (void)
{
  cleanup_json json_t *a = json_array ();
  const char *name;

  if (a == NULL)
    return NULL;
  for (unsigned c = 0; (name = arca_oci_cap_name (c)) != NULL; c++)
    if (append_string (a, name) < 0)
      return NULL;
  return move_ptr (a);
}

static json_t *
seccomp_json (void)
{
  return json_pack ("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
                    names_json (oci_seccomp_actions, false), "operators",
                    names_json (oci_seccomp_operators, false), "archs",
                    names_json (oci_seccomp_archs, false), "knownFlags",
                    names_json (oci_seccomp_flags, false), "supportedFlags",
                    names_json (oci_seccomp_flags, true));
}

int
arca_oci_features_json (char **ret_json, arca_error **err)
{
  cleanup_json json_t *doc = NULL;
  cleanup_json json_t *linux_ = NULL;
  char *text;

  /* cgroup v1 and v2 through cgroupfs; no systemd driver, no RDMA
   * controller, no LSM, no Intel RDT, no idmapped mounts (the parser
   * refuses all of those). */
  linux_ = json_pack ("{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b},"
                      " s:{s:b}, s:{s:{s:b}}}",
                      "namespaces", namespaces_json (), "capabilities", capabilities_json (),
                      "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
                      "seccomp", seccomp_json (), "apparmor", "enabled", 0, "selinux", "enabled",
                      0, "intelRdt", "enabled", 0, "mountExtensions", "idmap", "enabled", 0);
  if (linux_ == NULL)
    return arca_error_set (err, ENOMEM, "build features");
  doc = json_pack ("{s:s, s:s, s:o, s:o, s:O, s:{s:s}}", "ociVersionMin", "1.0.0",
                   "ociVersionMax", "1.1.0", "hooks", hooks_json (), "mountOptions",
                   mount_options_json (), "linux", linux_, "annotations",
                   "org.opencontainers.runc.checkpoint.enabled", "false");
  if (doc == NULL)
    return arca_error_set (err, ENOMEM, "build features");
  text = json_dumps (doc, JSON_INDENT (2));
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "print features");
  *ret_json = text;
  return 0;
}
