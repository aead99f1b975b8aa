/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/spec.h"
#include "oci/config.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const char image_json[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
    "\"Env\":[\"PATH=/bin\",\"FOO=image\"],\"Cmd\":[\"sh\",\"-c\",\"echo hi\"],"
    "\"WorkingDir\":\"/srv\",\"User\":\"app\",\"Volumes\":{\"/data\":{}},"
    "\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGQUIT\"}}";

struct fixture {
  char rootfs[64];
  struct arca_image_runconfig *image;
};

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof *fx);
  cleanup_error arca_error *err = NULL;
  char path[128];

  strcpy (fx->rootfs, "/tmp/arca-runspec-XXXXXX");
  assert_non_null (mkdtemp (fx->rootfs));
  snprintf (path, sizeof path, "%s/etc", fx->rootfs);
  assert_int_equal (arca_mkdir_p (path, 0755, &err), 0);
  snprintf (path, sizeof path, "%s/etc/passwd", fx->rootfs);
  const char *passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:App:/home/app:/bin/sh\n";
  assert_int_equal (arca_write_file_atomic_at (AT_FDCWD, path, passwd, strlen (passwd), 0644, &err), 0);
  snprintf (path, sizeof path, "%s/etc/group", fx->rootfs);
  const char *group = "root:x:0:\napp:x:1001:\nwheel:x:10:app,other\naudio:x:29:other\n";
  assert_int_equal (arca_write_file_atomic_at (AT_FDCWD, path, group, strlen (group), 0644, &err), 0);
  assert_int_equal (arca_image_runconfig_parse (image_json, strlen (image_json), &fx->image, &err), 0);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;
  arca_rm_rf_at (AT_FDCWD, fx->rootfs, NULL);
  arca_image_runconfig_free (fx->image);
  free (fx);
  return 0;
}

/* Builds, checks that the runtime's parser accepts the result, returns it. */
static json_t *
build (struct fixture *fx, const struct arca_run_spec *run)
{
  cleanup_free char *text = NULL;
  cleanup_error arca_error *err = NULL;
  cleanup_config struct arca_oci_config *config = NULL;

  if (arca_engine_spec_build (fx->image, run, fx->rootfs, &text, &err) < 0)
    fail_msg ("build: %s", err->msg);
  if (arca_oci_config_parse (text, strlen (text), &config, &err) < 0)
    fail_msg ("runtime refuses the generated config: %s", err->msg);
  json_t *doc = json_loads (text, 0, NULL);
  assert_non_null (doc);
  return doc;
}

static const char *
arg (json_t *doc, size_t i)
{
  return json_string_value (json_array_get (json_object_get (json_object_get (doc, "process"), "args"), i));
}

static bool
has_env (json_t *doc, const char *entry)
{
  json_t *env = json_object_get (json_object_get (doc, "process"), "env");
  size_t i;
  json_t *v;
  json_array_foreach (env, i, v)
    if (strcmp (json_string_value (v), entry) == 0)
      return true;
  return false;
}

static void
test_image_config_parse (void **state)
{
  struct fixture *fx = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_image_runconfig *c = NULL;

  assert_string_equal (fx->image->cmd[2], "echo hi");
  assert_string_equal (fx->image->working_dir, "/srv");
  assert_string_equal (fx->image->volumes[0], "/data");
  assert_string_equal (fx->image->exposed_ports[0], "80/tcp");
  assert_string_equal (fx->image->stop_signal, "SIGQUIT");
  const char *bad = "{\"config\":{\"Cmd\":\"sh\"}}";
  assert_int_equal (arca_image_runconfig_parse (bad, strlen (bad), &c, &err), -1);
  assert_non_null (strstr (err->msg, "Cmd"));
  arca_error_freep (&err);
  assert_int_equal (arca_image_runconfig_parse ("[1]", 3, &c, &err), -1);
  arca_error_freep (&err);
  assert_int_equal (arca_image_runconfig_parse ("{}", 2, &c, &err), 0);
  assert_null (c->cmd);
  arca_image_runconfig_free (c);
}

static void
test_defaults_from_image (void **state)
{
  struct fixture *fx = *state;
  struct arca_run_spec run = { 0 };
  json_t *doc = build (fx, &run);
  json_t *process = json_object_get (doc, "process");

  assert_string_equal (arg (doc, 0), "sh");
  assert_string_equal (arg (doc, 2), "echo hi");
  assert_true (has_env (doc, "FOO=image"));
  assert_true (has_env (doc, "PATH=/bin"));
  assert_string_equal (json_string_value (json_object_get (process, "cwd")), "/srv");
  json_t *user = json_object_get (process, "user");
  assert_int_equal (json_integer_value (json_object_get (user, "uid")), 1000);
  assert_int_equal (json_integer_value (json_object_get (user, "gid")), 1001);
  assert_int_equal (json_integer_value (json_array_get (json_object_get (user, "additionalGids"), 0)), 10);
  /* Docker's 14 default capabilities, seccomp on. */
  json_t *bnd = json_object_get (json_object_get (process, "capabilities"), "bounding");
  assert_int_equal (json_array_size (bnd), 14);
  json_t *sc = json_object_get (json_object_get (doc, "linux"), "seccomp");
  assert_string_equal (json_string_value (json_object_get (sc, "defaultAction")), "SCMP_ACT_ERRNO");
  json_decref (doc);
}

static void
test_flags_override (void **state)
{
  struct fixture *fx = *state;
  char *command[] = { "echo", "x", NULL };
  char *entry[] = { "/bin/env", NULL };
  char *env[] = { "FOO=flag", "NEW=1", NULL };
  char *add[] = { "net_admin", "CAP_SYS_TIME", NULL };
  char *drop[] = { "ALL", NULL };
  struct arca_run_spec run = {
    .command = command, .env = env, .workdir = "/tmp", .user = "0:audio", .hostname = "box",
    .cap_drop = drop, .cap_add = add, .memory = 64 << 20, .memory_swap = 128 << 20, .cpus = 1.5,
    .cpu_shares = 512, .cpuset_cpus = "0", .pids_limit = 50, .network = ARCA_NET_HOST,
    .seccomp_unconfined = true, .read_only = true, .tty = true,
  };
  json_t *doc = build (fx, &run);
  json_t *process = json_object_get (doc, "process");
  json_t *linux_ = json_object_get (doc, "linux");

  assert_string_equal (arg (doc, 0), "echo");
  assert_null (arg (doc, 2));
  assert_true (has_env (doc, "FOO=flag"));
  assert_false (has_env (doc, "FOO=image"));
  assert_true (has_env (doc, "NEW=1"));
  assert_true (has_env (doc, "TERM=xterm"));
  assert_true (has_env (doc, "HOSTNAME=box"));
  assert_true (json_is_true (json_object_get (process, "terminal")));
  assert_int_equal (json_integer_value (json_object_get (json_object_get (process, "user"), "gid")), 29);
  json_t *bnd = json_object_get (json_object_get (process, "capabilities"), "bounding");
  assert_int_equal (json_array_size (bnd), 2);
  assert_string_equal (json_string_value (json_array_get (bnd, 0)), "CAP_NET_ADMIN");
  json_t *res = json_object_get (linux_, "resources");
  assert_int_equal (json_integer_value (json_object_get (json_object_get (res, "memory"), "limit")), 64 << 20);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (res, "cpu"), "quota")), 150000);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (res, "pids"), "limit")), 50);
  assert_null (json_object_get (linux_, "seccomp"));
  assert_true (json_is_true (json_object_get (json_object_get (doc, "root"), "readonly")));
  json_t *ns = json_object_get (linux_, "namespaces");
  size_t i;
  json_t *v;
  json_array_foreach (ns, i, v)
    assert_string_not_equal (json_string_value (json_object_get (v, "type")), "network");
  json_decref (doc);

  /* A new entrypoint drops the image's Cmd (Docker). */
  struct arca_run_spec run2 = { .entrypoint = entry, .set_entrypoint = true };
  doc = build (fx, &run2);
  assert_string_equal (arg (doc, 0), "/bin/env");
  assert_null (arg (doc, 1));
  json_decref (doc);
}

static void
test_mounts_and_errors (void **state)
{
  struct fixture *fx = *state;
  struct arca_run_mount mounts[] = {
    { .source = fx->rootfs, .destination = "/host", .options = "ro" },
    { .destination = "/scratch", .options = "size=1m,mode=1777", .tmpfs = true },
  };
  struct arca_run_spec run = { .mounts = mounts, .n_mounts = 2 };
  json_t *doc = build (fx, &run);
  char *text = json_dumps (json_object_get (doc, "mounts"), 0);
  assert_non_null (strstr (text, "\"destination\": \"/host\""));
  assert_non_null (strstr (text, "\"ro\""));
  assert_non_null (strstr (text, "\"size=1m\""));
  free (text);
  json_decref (doc);

  cleanup_error arca_error *err = NULL;
  cleanup_free char *out = NULL;
  struct arca_run_mount bad[] = { { .source = "/no/such/dir", .destination = "/x" } };
  struct arca_run_spec run2 = { .mounts = bad, .n_mounts = 1 };
  assert_int_equal (arca_engine_spec_build (fx->image, &run2, fx->rootfs, &out, &err), -1);
  assert_non_null (strstr (err->msg, "/no/such/dir"));
  arca_error_freep (&err);
  struct arca_run_spec run3 = { .user = "nobody-here" };
  assert_int_equal (arca_engine_spec_build (fx->image, &run3, fx->rootfs, &out, &err), -1);
  assert_non_null (strstr (err->msg, "nobody-here"));
  arca_error_freep (&err);
  char *bad_cap[] = { "NOT_A_CAP", NULL };
  struct arca_run_spec run4 = { .cap_add = bad_cap };
  assert_int_equal (arca_engine_spec_build (fx->image, &run4, fx->rootfs, &out, &err), -1);
  assert_non_null (strstr (err->msg, "NOT_A_CAP"));
  arca_error_freep (&err);
  struct arca_image_runconfig empty = { 0 };
  struct arca_run_spec run5 = { 0 };
  assert_int_equal (arca_engine_spec_build (&empty, &run5, fx->rootfs, &out, &err), -1);
  assert_non_null (strstr (err->msg, "no command"));
}

static void
test_privileged (void **state)
{
  struct fixture *fx = *state;
  struct arca_run_spec run = { .privileged = true };
  json_t *doc = build (fx, &run);
  json_t *linux_ = json_object_get (doc, "linux");
  json_t *bnd = json_object_get (json_object_get (json_object_get (doc, "process"), "capabilities"), "bounding");

  assert_true (json_array_size (bnd) >= 38);
  assert_null (json_object_get (linux_, "seccomp"));
  assert_null (json_object_get (linux_, "maskedPaths"));
  json_decref (doc);
}

static const char *
ns_path (json_t *doc, const char *type, bool *ret_found)
{
  json_t *ns = json_object_get (json_object_get (doc, "linux"), "namespaces");
  size_t i;
  json_t *v;

  *ret_found = false;
  json_array_foreach (ns, i, v)
    if (strcmp (json_string_value (json_object_get (v, "type")), type) == 0)
      {
        *ret_found = true;
        return json_string_value (json_object_get (v, "path"));
      }
  return NULL;
}

/* --pod / container:NAME: joined namespaces get their path, the others stay
 * new; a joined uts namespace keeps its hostname (none in config.json). */
static void
test_joined_namespaces (void **state)
{
  struct fixture *fx = *state;
  struct arca_run_spec run = {
    .hostname = (char *) "web", .network = ARCA_NET_CONTAINER, .join_net = "/proc/42/ns/net",
    .join_ipc = "/proc/42/ns/ipc", .join_uts = "/proc/42/ns/uts",
  };
  json_t *doc = build (fx, &run);
  bool found;

  assert_string_equal (ns_path (doc, "network", &found), "/proc/42/ns/net");
  assert_string_equal (ns_path (doc, "ipc", &found), "/proc/42/ns/ipc");
  assert_string_equal (ns_path (doc, "uts", &found), "/proc/42/ns/uts");
  assert_null (ns_path (doc, "pid", &found));
  assert_true (found);
  assert_null (ns_path (doc, "mount", &found));
  assert_true (found);
  assert_null (json_object_get (doc, "hostname"));
  assert_true (has_env (doc, "HOSTNAME=web"));
  json_decref (doc);

  /* Only the network joined (container:NAME): the hostname is set in its
   * own uts namespace. */
  struct arca_run_spec net_only = { .hostname = (char *) "owner", .join_net = "/proc/7/ns/net",
                                    .network = ARCA_NET_CONTAINER };
  doc = build (fx, &net_only);
  assert_string_equal (ns_path (doc, "network", &found), "/proc/7/ns/net");
  assert_null (ns_path (doc, "uts", &found));
  assert_string_equal (json_string_value (json_object_get (doc, "hostname")), "owner");
  json_decref (doc);
}

/* A pod's infra: /dev/init --pause, whatever the image's command. */
static void
test_pause (void **state)
{
  struct fixture *fx = *state;
  struct arca_run_spec run = { .pause = true, .init_path = (char *) "/bin/true" };
  json_t *doc = build (fx, &run);
  json_t *args = json_object_get (json_object_get (doc, "process"), "args");

  assert_int_equal (json_array_size (args), 2);
  assert_string_equal (arg (doc, 0), "/dev/init");
  assert_string_equal (arg (doc, 1), "--pause");
  json_decref (doc);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_image_config_parse, setup, teardown),
    cmocka_unit_test_setup_teardown (test_defaults_from_image, setup, teardown),
    cmocka_unit_test_setup_teardown (test_flags_override, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mounts_and_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_privileged, setup, teardown),
    cmocka_unit_test_setup_teardown (test_joined_namespaces, setup, teardown),
    cmocka_unit_test_setup_teardown (test_pause, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
