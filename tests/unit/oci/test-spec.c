/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The default spec parses back with the expected values; the features
 * document is valid JSON and lists exactly what the parser accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci/config.h"
#include "oci/features.h"
#include "oci/spec.h"
#include "util/cleanup.h"
#include "util/error.h"

static struct arca_oci_config *
parse_spec (bool rootless)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *json = NULL;
  struct arca_oci_config *c = NULL;

  assert_int_equal (arca_oci_spec_default (rootless, &json, &err), 0);
  assert_non_null (json);
  /* pretty-printed, like runc spec */
  assert_non_null (strstr (json, "\n  \"process\": {"));
  if (arca_oci_config_parse (json, strlen (json), &c, &err) < 0)
    fail_msg ("default spec does not parse: %s\n%s", err->msg, json);
  return c;
}

static const struct arca_oci_mount *
find_mount (const struct arca_oci_config *c, const char *destination)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (strcmp (c->mounts[i].destination, destination) == 0)
      return &c->mounts[i];
  return NULL;
}

static bool
strv_contains (char **v, const char *s)
{
  for (; v != NULL && *v != NULL; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

static void
test_default_spec (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_spec (false);
  const uint64_t caps = (1ULL << 29) | (1ULL << 5) | (1ULL << 10);
  const struct arca_oci_mount *m;

  assert_string_equal (c->oci_version, "1.1.0");
  assert_string_equal (c->root.path, "rootfs");
  assert_true (c->root.readonly);
  assert_true (c->process.terminal);
  assert_string_equal (c->process.args[0], "sh");
  assert_null (c->process.args[1]);
  assert_string_equal (c->process.cwd, "/");
  assert_true (c->process.no_new_privileges);
  assert_int_equal (c->process.capabilities.bounding, caps);
  assert_int_equal (c->process.capabilities.ambient, caps);
  assert_int_equal (c->process.n_rlimits, 1);
  assert_int_equal (c->process.rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal (c->process.rlimits[0].hard, 1024);

  assert_int_equal (c->n_mounts, 7);
  assert_non_null (find_mount (c, "/proc"));
  assert_non_null (find_mount (c, "/dev/mqueue"));
  assert_non_null (find_mount (c, "/sys/fs/cgroup"));
  m = find_mount (c, "/dev/pts");
  assert_non_null (m);
  assert_non_null (strstr (m->data, "gid=5"));
  m = find_mount (c, "/sys");
  assert_string_equal (m->type, "sysfs");
  assert_int_equal (m->flags & MS_RDONLY, MS_RDONLY);
  assert_false (m->bind);

  assert_int_equal (c->linux_.n_namespaces, 5);
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_PID));
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_NETWORK));
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_IPC));
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_UTS));
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_MOUNT));
  assert_null (arca_oci_config_namespace (c, ARCA_NS_USER));
  assert_int_equal (c->linux_.n_uid_mappings, 0);
  assert_true (c->linux_.has_resources);
  assert_int_equal (c->linux_.resources.n_devices, 1);
  assert_false (c->linux_.resources.devices[0].allow);
  assert_true (strv_contains (c->linux_.masked_paths, "/proc/kcore"));
  assert_true (strv_contains (c->linux_.masked_paths, "/sys/firmware"));
  assert_true (strv_contains (c->linux_.readonly_paths, "/proc/sys"));
  assert_true (strv_contains (c->linux_.readonly_paths, "/proc/sysrq-trigger"));
}

static void
test_rootless_spec (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_spec (true);
  const struct arca_oci_mount *m;

  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_USER));
  assert_null (arca_oci_config_namespace (c, ARCA_NS_NETWORK));
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_PID));
  assert_int_equal (c->linux_.n_uid_mappings, 1);
  assert_int_equal (c->linux_.uid_mappings[0].container_id, 0);
  assert_int_equal (c->linux_.uid_mappings[0].host_id, getuid ());
  assert_int_equal (c->linux_.uid_mappings[0].size, 1);
  assert_int_equal (c->linux_.n_gid_mappings, 1);
  assert_int_equal (c->linux_.gid_mappings[0].host_id, getgid ());

  /* /sys is the host's, bound recursively and read-only. */
  m = find_mount (c, "/sys");
  assert_non_null (m);
  assert_true (m->bind);
  assert_true (m->recursive);
  assert_string_equal (m->source, "/sys");
  assert_int_equal (m->flags & MS_RDONLY, MS_RDONLY);
  assert_null (find_mount (c, "/sys/fs/cgroup"));
  /* no gid=5: that group does not exist in a one-id user namespace */
  m = find_mount (c, "/dev/pts");
  assert_non_null (m);
  assert_null (strstr (m->data, "gid="));
  assert_false (c->linux_.has_resources);
}

/* ---- features ----------------------------------------------------------- */

static json_t *
load_features (void)
{
  cleanup_error arca_error *err = NULL;
  cleanup_free char *text = NULL;
  json_error_t jerr;
  json_t *doc;

  assert_int_equal (arca_oci_features_json (&text, &err), 0);
  doc = json_loads (text, JSON_REJECT_DUPLICATES, &jerr);
  if (doc == NULL)
    fail_msg ("features is not JSON: %s\n%s", jerr.text, text);
  return doc;
}

static json_t *
get_path (json_t *doc, const char *a, const char *b, const char *c)
{
  json_t *v = json_object_get (doc, a);

  if (v != NULL && b != NULL)
    v = json_object_get (v, b);
  if (v != NULL && c != NULL)
    v = json_object_get (v, c);
  if (v == NULL)
    fail_msg ("features lacks %s.%s.%s", a, b ? b : "", c ? c : "");
  return v;
}

/* Parses a config whose linux object is linux_ and reports success. */
static bool
linux_parses (const char *linux_)
{
  cleanup_error arca_error *err = NULL;
  cleanup_config struct arca_oci_config *c = NULL;
  cleanup_free char *json = NULL;

  assert_true (asprintf (&json, "{\"ociVersion\": \"1.1.0\", \"linux\": {%s}}", linux_) >= 0);
  return arca_oci_config_parse (json, strlen (json), &c, &err) == 0;
}

static bool
top_parses (const char *top)
{
  cleanup_error arca_error *err = NULL;
  cleanup_config struct arca_oci_config *c = NULL;
  cleanup_free char *json = NULL;

  assert_true (asprintf (&json, "{\"ociVersion\": \"1.1.0\", %s}", top) >= 0);
  return arca_oci_config_parse (json, strlen (json), &c, &err) == 0;
}

static void
test_features_document (void **state)
{
  json_auto_t *doc = load_features ();
  json_t *v;

  assert_string_equal (json_string_value (get_path (doc, "ociVersionMin", NULL, NULL)), "1.0.0");
  assert_string_equal (json_string_value (get_path (doc, "ociVersionMax", NULL, NULL)), "1.1.0");
  assert_true (json_is_true (get_path (doc, "linux", "seccomp", "enabled")));
  assert_true (json_is_false (get_path (doc, "linux", "apparmor", "enabled")));
  assert_true (json_is_false (get_path (doc, "linux", "selinux", "enabled")));
  assert_true (json_is_true (get_path (doc, "linux", "cgroup", "v1")));
  assert_true (json_is_true (get_path (doc, "linux", "cgroup", "v2")));
  assert_true (json_is_false (get_path (doc, "linux", "cgroup", "systemd")));
  assert_true (json_is_false (get_path (doc, "linux", "cgroup", "systemdUser")));
  v = get_path (doc, "annotations", "org.opencontainers.runc.checkpoint.enabled", NULL);
  assert_string_equal (json_string_value (v), "false");
  assert_int_equal (json_array_size (get_path (doc, "hooks", NULL, NULL)), 6);
  assert_int_equal (json_array_size (get_path (doc, "linux", "namespaces", NULL)), 8);
  assert_int_equal (json_array_size (get_path (doc, "linux", "capabilities", NULL)), 41);
  assert_int_equal (json_array_size (get_path (doc, "linux", "seccomp", "operators")), 7);
  assert_int_equal (json_array_size (get_path (doc, "linux", "seccomp", "knownFlags")), 4);
  /* supported is a subset of known */
  assert_true (json_array_size (get_path (doc, "linux", "seccomp", "supportedFlags"))
               <= json_array_size (get_path (doc, "linux", "seccomp", "knownFlags")));
}

/* Every name features announces is one the parser takes, in context. */
static void
test_features_match_parser (void **state)
{
  json_auto_t *doc = load_features ();
  json_t *list, *e;
  size_t i;

  json_array_foreach (get_path (doc, "linux", "namespaces", NULL), i, e)
    {
      cleanup_free char *s = NULL;
      assert_true (asprintf (&s, "\"namespaces\": [{\"type\": \"%s\"}, {\"type\": \"user\"}]",
                             json_string_value (e))
                   >= 0);
      /* "user" twice is a duplicate: that case must fail, all others pass */
      assert_int_equal (linux_parses (s), strcmp (json_string_value (e), "user") != 0);
    }
  assert_false (linux_parses ("\"namespaces\": [{\"type\": \"nosuchns\"}]"));

  json_array_foreach (get_path (doc, "linux", "capabilities", NULL), i, e)
    {
      cleanup_free char *s = NULL;
      assert_true (asprintf (&s,
                             "\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\":"
                             " \"/\", \"capabilities\": {\"bounding\": [\"%s\"]}}",
                             json_string_value (e))
                   >= 0);
      assert_true (top_parses (s));
    }

  json_array_foreach (get_path (doc, "mountOptions", NULL, NULL), i, e)
    {
      cleanup_free char *s = NULL;
      assert_true (asprintf (&s, "\"mounts\": [{\"destination\": \"/a\", \"options\": [\"%s\"]}]",
                             json_string_value (e))
                   >= 0);
      assert_true (top_parses (s));
    }
  assert_true (json_array_size (get_path (doc, "mountOptions", NULL, NULL)) > 20);

  json_array_foreach (get_path (doc, "hooks", NULL, NULL), i, e)
    {
      cleanup_error arca_error *err = NULL;
      cleanup_config struct arca_oci_config *c = NULL;
      cleanup_free char *s = NULL;
      size_t total = 0;

      assert_true (asprintf (&s, "{\"ociVersion\": \"1.1.0\", \"hooks\": {\"%s\": [{\"path\": \"/x\"}]}}",
                             json_string_value (e))
                   >= 0);
      assert_int_equal (arca_oci_config_parse (s, strlen (s), &c, &err), 0);
      for (int k = 0; k < ARCA_HOOK__COUNT; k++)
        total += c->n_hooks[k];
      /* the hook was recognised, not skipped as an unknown key */
      assert_int_equal (total, 1);
    }

  list = get_path (doc, "linux", "seccomp", "actions");
  assert_true (json_array_size (list) >= 9);
  json_array_foreach (list, i, e)
    {
      cleanup_free char *s = NULL;
      const char *a = json_string_value (e);
      assert_true (asprintf (&s,
                             "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\":"
                             " \"/s\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"%s\"}]}",
                             a)
                   >= 0);
      assert_true (linux_parses (s));
    }
  json_array_foreach (get_path (doc, "linux", "seccomp", "archs"), i, e)
    {
      cleanup_free char *s = NULL;
      assert_true (asprintf (&s,
                             "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                             " \"architectures\": [\"%s\"]}",
                             json_string_value (e))
                   >= 0);
      assert_true (linux_parses (s));
    }
  json_array_foreach (get_path (doc, "linux", "seccomp", "operators"), i, e)
    {
      cleanup_free char *s = NULL;
      assert_true (asprintf (&s,
                             "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\":"
                             " [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\", \"args\":"
                             " [{\"index\": 0, \"value\": 1, \"op\": \"%s\"}]}]}",
                             json_string_value (e))
                   >= 0);
      assert_true (linux_parses (s));
    }
  json_array_foreach (get_path (doc, "linux", "seccomp", "knownFlags"), i, e)
    {
      cleanup_free char *s = NULL;
      assert_true (asprintf (&s,
                             "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\":"
                             " [\"%s\"]}",
                             json_string_value (e))
                   >= 0);
      assert_true (linux_parses (s));
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_spec),
    cmocka_unit_test (test_rootless_spec),
    cmocka_unit_test (test_features_document),
    cmocka_unit_test (test_features_match_parser),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
