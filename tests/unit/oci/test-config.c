/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca_oci_config_parse and friends: valid documents give the expected
 * typed values, every malformed one an error that names the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci/config.h"
#include "util/cleanup.h"
#include "util/error.h"

/* runc 1.1's `runc spec`, as written (tabs, key order). */
static const char runc_default[] =
    "{\n"
    "\t\"ociVersion\": \"1.0.2-dev\",\n"
    "\t\"process\": {\n"
    "\t\t\"terminal\": true,\n"
    "\t\t\"user\": {\"uid\": 0, \"gid\": 0},\n"
    "\t\t\"args\": [\"sh\"],\n"
    "\t\t\"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    " \"TERM=xterm\"],\n"
    "\t\t\"cwd\": \"/\",\n"
    "\t\t\"capabilities\": {\n"
    "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
    "\t\t},\n"
    "\t\t\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
    "\t\t\"noNewPrivileges\": true\n"
    "\t},\n"
    "\t\"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "\t\"hostname\": \"runc\",\n"
    "\t\"mounts\": [\n"
    "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
    "\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\","
    " \"gid=5\"]},\n"
    "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
    "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
    "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
    "\t],\n"
    "\t\"linux\": {\n"
    "\t\t\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
    "\t\t\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
    "\t\t\t{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],\n"
    "\t\t\"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
    "\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\",\n"
    "\t\t\t\"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],\n"
    "\t\t\"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
    "\t\t\t\"/proc/sysrq-trigger\"]\n"
    "\t}\n"
    "}\n";

/* ---- helpers ------------------------------------------------------------ */

static struct arca_oci_config *
parse_ok (const char *json)
{
  cleanup_error arca_error *err = NULL;
  struct arca_oci_config *c = NULL;

  if (arca_oci_config_parse (json, strlen (json), &c, &err) < 0)
    fail_msg ("parse failed: %s\ninput: %.400s", err->msg, json);
  assert_non_null (c);
  return c;
}

static void
expect_error_len (const char *json, size_t len, const char *needle)
{
  cleanup_error arca_error *err = NULL;
  struct arca_oci_config *c = NULL;

  if (arca_oci_config_parse (json, len, &c, &err) >= 0)
    {
      arca_oci_config_free (c);
      fail_msg ("parse succeeded, expected an error with \"%s\"\ninput: %.400s", needle, json);
    }
  assert_null (c);
  assert_non_null (err);
  assert_non_null (err->msg);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", err->msg, needle);
}

static void
expect_error (const char *json, const char *needle)
{
  expect_error_len (json, strlen (json), needle);
}

/* A minimal valid config with extra members spliced into the top level,
 * process and linux objects. */
static char *
make_config (const char *top, const char *process, const char *linux_)
{
  char *s = NULL;

  assert_true (asprintf (&s,
                         "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"},"
                         " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"%s%s},"
                         " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"},"
                         " {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"network\"}]%s%s}"
                         "%s%s}",
                         process ? ", " : "", process ? process : "", linux_ ? ", " : "",
                         linux_ ? linux_ : "", top ? ", " : "", top ? top : "")
               >= 0);
  return s;
}

static void
expect_top_error (const char *top, const char *needle)
{
  cleanup_free char *s = make_config (top, NULL, NULL);
  expect_error (s, needle);
}

static void
expect_process_error (const char *process, const char *needle)
{
  cleanup_free char *s = make_config (NULL, process, NULL);
  expect_error (s, needle);
}

static void
expect_linux_error (const char *linux_, const char *needle)
{
  cleanup_free char *s = make_config (NULL, NULL, linux_);
  expect_error (s, needle);
}

static struct arca_oci_config *
parse_linux_ok (const char *linux_)
{
  cleanup_free char *s = make_config (NULL, NULL, linux_);
  return parse_ok (s);
}

static struct arca_oci_config *
parse_process_ok (const char *process)
{
  cleanup_free char *s = make_config (NULL, process, NULL);
  return parse_ok (s);
}

static struct arca_oci_config *
parse_top_ok (const char *top)
{
  cleanup_free char *s = make_config (top, NULL, NULL);
  return parse_ok (s);
}

/* "[\"x\", \"x\", ...]" with n entries of item. */
static char *
make_array (const char *item, size_t n)
{
  size_t len = strlen (item) + 1;
  char *s = malloc (n * len + 3);
  char *p = s;

  assert_non_null (s);
  *p++ = '[';
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0)
        *p++ = ',';
      p = stpcpy (p, item);
    }
  *p++ = ']';
  *p = '\0';
  return s;
}

/* ---- the runc default --------------------------------------------------- */

static void
test_runc_default (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_ok (runc_default);
  const uint64_t caps = (1ULL << 29) | (1ULL << 5) | (1ULL << 10);
  const struct arca_oci_mount *m;

  assert_string_equal (c->oci_version, "1.0.2-dev");
  assert_string_equal (c->root.path, "rootfs");
  assert_true (c->root.readonly);
  assert_string_equal (c->hostname, "runc");
  assert_null (c->domainname);

  assert_true (c->has_process);
  assert_true (c->process.terminal);
  assert_int_equal (c->process.user.uid, 0);
  assert_int_equal (c->process.user.gid, 0);
  assert_false (c->process.user.has_umask);
  assert_string_equal (c->process.args[0], "sh");
  assert_null (c->process.args[1]);
  assert_string_equal (c->process.env[1], "TERM=xterm");
  assert_null (c->process.env[2]);
  assert_string_equal (c->process.cwd, "/");
  assert_true (c->process.has_capabilities);
  assert_int_equal (c->process.capabilities.bounding, caps);
  assert_int_equal (c->process.capabilities.effective, caps);
  assert_int_equal (c->process.capabilities.permitted, caps);
  assert_int_equal (c->process.capabilities.ambient, caps);
  assert_int_equal (c->process.capabilities.inheritable, 0);
  assert_int_equal (c->process.n_rlimits, 1);
  assert_int_equal (c->process.rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal (c->process.rlimits[0].soft, 1024);
  assert_int_equal (c->process.rlimits[0].hard, 1024);
  assert_true (c->process.no_new_privileges);
  assert_false (c->process.has_oom_score_adj);

  assert_int_equal (c->n_mounts, 7);
  m = &c->mounts[0];
  assert_string_equal (m->destination, "/proc");
  assert_string_equal (m->type, "proc");
  assert_null (m->options);
  assert_null (m->data);
  assert_int_equal (m->flags, 0);
  m = &c->mounts[1];
  assert_string_equal (m->destination, "/dev");
  assert_int_equal (m->flags, MS_NOSUID | MS_STRICTATIME);
  assert_string_equal (m->data, "mode=755,size=65536k");
  assert_false (m->bind);
  m = &c->mounts[2];
  assert_int_equal (m->flags, MS_NOSUID | MS_NOEXEC);
  assert_string_equal (m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  m = &c->mounts[5];
  assert_string_equal (m->destination, "/sys");
  assert_int_equal (m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
  assert_null (m->data);
  m = &c->mounts[6];
  assert_int_equal (m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);

  assert_int_equal (c->linux_.n_namespaces, 6);
  assert_int_equal (c->linux_.namespaces[0].type, ARCA_NS_PID);
  assert_int_equal (c->linux_.namespaces[0].clone_flag, CLONE_NEWPID);
  assert_int_equal (c->linux_.namespaces[1].clone_flag, CLONE_NEWNET);
  assert_int_equal (c->linux_.namespaces[5].type, ARCA_NS_CGROUP);
  assert_null (c->linux_.namespaces[0].path);
  assert_non_null (arca_oci_config_namespace (c, ARCA_NS_UTS));
  assert_null (arca_oci_config_namespace (c, ARCA_NS_USER));

  assert_true (c->linux_.has_resources);
  assert_int_equal (c->linux_.resources.n_devices, 1);
  assert_false (c->linux_.resources.devices[0].allow);
  assert_int_equal (c->linux_.resources.devices[0].type, 'a');
  assert_int_equal (c->linux_.resources.devices[0].major, -1);
  assert_int_equal (c->linux_.resources.devices[0].minor, -1);
  assert_string_equal (c->linux_.resources.devices[0].access, "rwm");
  assert_false (c->linux_.resources.has_memory_limit);
  assert_string_equal (c->linux_.masked_paths[9], "/proc/scsi");
  assert_null (c->linux_.masked_paths[10]);
  assert_string_equal (c->linux_.readonly_paths[4], "/proc/sysrq-trigger");
  assert_null (c->linux_.seccomp);
  assert_int_equal (c->linux_.rootfs_propagation, ARCA_PROPAGATION_NONE);
}

static void
test_minimal_without_process (void **state)
{
  static const char json[] = "{\"ociVersion\": \"1.0.0\"}";
  cleanup_config struct arca_oci_config *c = parse_ok (json);

  assert_false (c->has_process);
  assert_null (c->root.path);
  assert_int_equal (c->n_mounts, 0);
}

/* Go writes absent optional fields as null; unknown keys are extensions. */
static void
test_null_and_unknown_keys (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_top_ok (
      "\"hostname\": null, \"mounts\": null, \"x-vendor\": {\"anything\": [1, 2]}");

  assert_null (c->hostname);
  assert_int_equal (c->n_mounts, 0);
}

/* ---- top level ---------------------------------------------------------- */

static void
test_top_errors (void **state)
{
  expect_error ("{}", "ociVersion: required");
  expect_error ("{\"ociVersion\": 1}", "ociVersion: expected string, got integer");
  expect_error ("{\"ociVersion\": \"2.0.0\"}", "ociVersion: unsupported version");
  expect_error ("[]", "expected object, got array");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}",
                "root.path: required");
  expect_top_error ("\"hostname\": \"a/b\"", "hostname: must not contain '/'");
  expect_top_error ("\"hostname\": "
                    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                    "hostname: longer than 64");
  expect_top_error ("\"domainname\": 5", "domainname: expected string, got integer");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"hostname\": \"h\"}",
                "hostname: needs its own uts namespace");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"domainname\": \"d\", \"linux\": {\"namespaces\":"
                " [{\"type\": \"pid\"}]}}",
                "domainname: needs its own uts namespace");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\", \"readonly\": \"yes\"}}",
                "root.readonly: expected boolean, got string");
  expect_top_error ("\"vm\": {}", "vm: not supported on this host");
  expect_top_error ("\"windows\": {}", "windows: not supported on this host");
  expect_top_error ("\"annotations\": {\"\": \"x\"}", "annotations.: must not be empty");
  expect_top_error ("\"annotations\": {\"a\": 1}", "annotations.a: expected string, got integer");
  /* Untrusted text in messages cannot drive the terminal. */
  expect_top_error ("\"annotations\": {\"\\u001b[2J\\u009b1m\": 1}",
                    "annotations.?[2J??1m: expected string");
}

static void
test_garbage_json (void **state)
{
  static const char non_utf8[] = "{\"ociVersion\": \"1.0.0\", \"hostname\": \"\xff\xfe\"}";
  static const char with_nul[] = "{\"ociVersion\": \"1.0\\u0000\"}";
  static const char truncated[] = "{\"ociVersion\": \"1.0.0\", \"process\": {";
  cleanup_error arca_error *err = NULL;
  struct arca_oci_config *c = NULL;

  expect_error (non_utf8, "invalid JSON");
  expect_error (with_nul, "invalid JSON");
  expect_error (truncated, "invalid JSON");
  expect_error ("", "invalid JSON");
  expect_error ("\x01\x02garbage", "invalid JSON");
  {
    cleanup_error arca_error *e = NULL;
    struct arca_oci_config *x = NULL;
    static const char esc[] = "{\"ociVersion\": \x1b[2J}";

    assert_int_equal (arca_oci_config_parse (esc, strlen (esc), &x, &e), -1);
    assert_null (strchr (e->msg, '\x1b'));
  }
  expect_error ("{\"ociVersion\": \"1.0.0\"} trailing", "invalid JSON");
  /* Ambiguous documents are refused. */
  expect_error ("{\"ociVersion\": \"1.0.0\", \"ociVersion\": \"1.1.0\"}", "invalid JSON");
  /* A NUL byte inside the buffer is not the end of it. */
  expect_error_len ("{\"ociVersion\": \"1.0.0\"}\0{", 25, "invalid JSON");

  assert_int_equal (arca_oci_config_parse (NULL, 0, &c, &err), -1);
  assert_null (c);
  assert_non_null (err);
}

static void
test_deep_nesting (void **state)
{
  const size_t depth = 100000;
  cleanup_free char *s = NULL;
  size_t len;

  /* 100000 nested arrays; jansson stops at its depth limit, without
   * recursing that deep. */
  len = 2 * depth + 64;
  s = calloc (1, len);
  assert_non_null (s);
  strcpy (s, "{\"ociVersion\": \"1.0.0\", \"x\": ");
  for (size_t i = strlen (s), n = 0; n < depth; n++)
    s[i++] = '[';
  for (size_t i = strlen (s), n = 0; n < depth; n++)
    s[i++] = ']';
  strcat (s, "}");
  expect_error (s, "invalid JSON");
}

static void
test_too_big (void **state)
{
  const size_t len = (4u << 20) + 16;
  cleanup_free char *s = malloc (len + 1);

  assert_non_null (s);
  memset (s, ' ', len);
  memcpy (s, "{\"ociVersion\": \"1.0.0\"}", 23);
  s[len] = '\0';
  expect_error_len (s, len, "at most");
}

/* ---- process ------------------------------------------------------------ */

static void
test_process_values (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_process_ok (
      "\"terminal\": false, \"consoleSize\": {\"height\": 24, \"width\": 80},"
      " \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18, \"additionalGids\": [5, 6]},"
      " \"env\": [\"A=b=c\", \"EMPTY=\"], \"oomScoreAdj\": -500,"
      " \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0},"
      "  {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1099511627776, \"hard\": 9223372036854775807}],"
      " \"apparmorProfile\": \"\", \"selinuxLabel\": \"\"");
  const struct arca_oci_process *p = &c->process;

  assert_true (p->has_console_size);
  assert_int_equal (p->console_height, 24);
  assert_int_equal (p->console_width, 80);
  assert_int_equal (p->user.uid, 1000);
  assert_int_equal (p->user.gid, 100);
  assert_true (p->user.has_umask);
  assert_int_equal (p->user.umask, 022);
  assert_int_equal (p->user.n_additional_gids, 2);
  assert_int_equal (p->user.additional_gids[1], 6);
  assert_string_equal (p->env[0], "A=b=c");
  assert_true (p->has_oom_score_adj);
  assert_int_equal (p->oom_score_adj, -500);
  assert_false (p->has_capabilities);
  /* Limits above the caller's hard limit are the runtime's business
   * (setrlimit fails then), not a parse error. */
  assert_int_equal (p->n_rlimits, 2);
  assert_int_equal (p->rlimits[1].resource, RLIMIT_NOFILE);
  assert_int_equal (p->rlimits[1].soft, 1ULL << 40);
  assert_int_equal (p->rlimits[1].hard, INT64_MAX);
}

static void
test_process_errors (void **state)
{
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"cwd\": "
                "\"/\"}}",
                "process.args: required");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                "[\"sh\"]}}",
                "process.cwd: required");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                "[], \"cwd\": \"/\"}}",
                "process.args: must not be empty");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                "\"sh\", \"cwd\": \"/\"}}",
                "process.args: expected array, got string");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                "[\"sh\", 3], \"cwd\": \"/\"}}",
                "process.args[1]: expected string, got integer");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                "[\"sh\"], \"cwd\": \"tmp\"}}",
                "process.cwd: must be an absolute path");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": 7}",
                "process: expected object, got integer");

  expect_process_error ("\"terminal\": \"yes\"", "process.terminal: expected boolean, got string");
  expect_process_error ("\"terminal\": 1", "process.terminal: expected boolean, got integer");
  expect_process_error ("\"env\": [\"NOVALUE\"]", "process.env[0]: \"NOVALUE\" is not of the form");
  expect_process_error ("\"env\": [\"=x\"]", "process.env[0]:");
  expect_process_error ("\"user\": {\"uid\": -1}", "process.user.uid: must not be negative");
  expect_process_error ("\"user\": {\"uid\": 4294967296}", "process.user.uid: 4294967296 out of range");
  expect_process_error ("\"user\": {\"uid\": 1.5}", "process.user.uid: expected integer, got number");
  expect_process_error ("\"user\": {\"umask\": 512}", "process.user.umask: 512 out of range");
  expect_process_error ("\"user\": {\"additionalGids\": [1, \"2\"]}",
                        "process.user.additionalGids[1]: expected integer, got string");
  expect_process_error ("\"consoleSize\": {\"height\": 24}", "process.consoleSize.width: required");
  expect_process_error ("\"oomScoreAdj\": 1001", "process.oomScoreAdj: 1001 out of range");
  expect_process_error ("\"capabilities\": {\"bounding\": [\"CAP_FOO\"]}",
                        "process.capabilities.bounding[0]: unknown capability \"CAP_FOO\"");
  expect_process_error ("\"capabilities\": {\"effective\": [\"cap_kill\"]}",
                        "process.capabilities.effective[0]: unknown capability");
  expect_process_error ("\"capabilities\": {\"ambient\": \"CAP_KILL\"}",
                        "process.capabilities.ambient: expected array, got string");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]",
                        "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"");
  expect_process_error ("\"rlimits\": [{\"type\": \"nofile\", \"soft\": 1, \"hard\": 1}]",
                        "process.rlimits[0].type: unknown rlimit");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]",
                        "process.rlimits[0].hard: required");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1, \"hard\": 1}]",
                        "process.rlimits[0].soft: must not be negative");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 1}]",
                        "process.rlimits[0]: soft limit 2 is above hard limit 1");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
                        " {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}]",
                        "process.rlimits[1].type: duplicate rlimit");
  expect_process_error ("\"scheduler\": {\"policy\": \"SCHED_OTHER\"}",
                        "process.scheduler: not supported on this host");
  expect_process_error ("\"ioPriority\": {\"class\": \"IOPRIO_CLASS_IDLE\"}",
                        "process.ioPriority: not supported on this host");
}

static void
test_huge_arrays (void **state)
{
  cleanup_free char *many_args = make_array ("\"a\"", 65537);
  cleanup_free char *many_ns = make_array ("{\"type\": \"pid\"}", 65);
  cleanup_free char *many_mounts = make_array ("{\"destination\": \"/a\"}", 4097);
  cleanup_free char *args = NULL, *ns = NULL, *mounts = NULL;
  cleanup_free char *ok_args = make_array ("\"a\"", 1000);
  cleanup_free char *ok = NULL;
  cleanup_config struct arca_oci_config *c = NULL;

  assert_true (asprintf (&args, "\"env\": %s", many_args) >= 0);
  expect_process_error (args, "process.env: too many entries (65537, at most 65536)");
  assert_true (asprintf (&ns, "{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": %s}}",
                         many_ns)
               >= 0);
  expect_error (ns, "linux.namespaces: too many entries");
  assert_true (asprintf (&mounts, "\"mounts\": %s", many_mounts) >= 0);
  expect_top_error (mounts, "mounts: too many entries (4097, at most 4096)");

  assert_true (asprintf (&ok, "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"},"
                              " \"process\": {\"args\": %s, \"cwd\": \"/\"}}",
                         ok_args)
               >= 0);
  c = parse_ok (ok);
  assert_string_equal (c->process.args[999], "a");
  assert_null (c->process.args[1000]);
}

/* ---- mounts ------------------------------------------------------------- */

static void
test_mount_values (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_top_ok (
      "\"mounts\": [{\"destination\": \"//data//x/\", \"type\": \"bind\", \"source\": \"/srv\","
      " \"options\": [\"rbind\", \"ro\", \"rw\", \"rslave\", \"nosuid\"]},"
      " {\"destination\": \"/m\", \"source\": \"/srv\", \"options\": [\"bind\", \"private\"]},"
      " {\"destination\": \"/\", \"type\": \"tmpfs\"}]");
  const struct arca_oci_mount *m = &c->mounts[0];

  assert_int_equal (c->n_mounts, 3);
  assert_string_equal (m->destination, "/data/x");
  assert_true (m->bind);
  assert_true (m->recursive);
  /* Later options win: "rw" undoes "ro". */
  assert_int_equal (m->flags, MS_BIND | MS_REC | MS_NOSUID);
  assert_int_equal (m->clear_flags, MS_RDONLY);
  assert_int_equal (m->propagation, MS_SLAVE | MS_REC);
  assert_null (m->data);
  m = &c->mounts[1];
  assert_null (m->type);
  assert_true (m->bind);
  assert_false (m->recursive);
  assert_int_equal (m->propagation, MS_PRIVATE);
  assert_string_equal (c->mounts[2].destination, "/");
}

static void
test_mount_errors (void **state)
{
  expect_top_error ("\"mounts\": [{\"destination\": \"proc\", \"type\": \"proc\"}]",
                    "mounts[0].destination: must be an absolute path");
  expect_top_error ("\"mounts\": [{\"type\": \"proc\"}]", "mounts[0].destination: required");
  expect_top_error ("\"mounts\": [{\"destination\": \"/a\"}, {\"destination\": 3}]",
                    "mounts[1].destination: expected string, got integer");
  expect_top_error ("\"mounts\": {\"destination\": \"/a\"}", "mounts: expected array, got object");
  expect_top_error ("\"mounts\": [\"/a\"]", "mounts[0]: expected object, got string");
  expect_top_error ("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro\", \"\"]}]",
                    "mounts[0].options[1]: empty mount option");
  expect_top_error ("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"rro\"]}]",
                    "mounts[0].options[0]: not supported: mount option \"rro\"");
  expect_top_error ("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"idmap\"]}]",
                    "mounts[0].options[0]: not supported");
  expect_top_error ("\"mounts\": [{\"destination\": \"/a\", \"options\": [7]}]",
                    "mounts[0].options[0]: expected string, got integer");
  expect_top_error ("\"mounts\": [{\"destination\": \"/a\", \"uidMappings\": []}]",
                    "mounts[0].uidMappings: not supported on this host");
  expect_linux_error ("\"rootfsPropagation\": \"sideways\"",
                      "linux.rootfsPropagation: unknown propagation \"sideways\"");
}

/* ---- hooks -------------------------------------------------------------- */

static void
test_hooks (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_top_ok (
      "\"hooks\": {\"prestart\": [{\"path\": \"/bin/true\"}],"
      " \"createRuntime\": [{\"path\": \"/a\", \"args\": [\"a\", \"b\"], \"env\": [\"X=1\"],"
      " \"timeout\": 5}, {\"path\": \"/b\"}], \"poststop\": null, \"unknownKind\": 3}");

  assert_int_equal (c->n_hooks[ARCA_HOOK_PRESTART], 1);
  assert_int_equal (c->n_hooks[ARCA_HOOK_CREATE_RUNTIME], 2);
  assert_int_equal (c->n_hooks[ARCA_HOOK_POSTSTOP], 0);
  assert_string_equal (c->hooks[ARCA_HOOK_CREATE_RUNTIME][0].args[1], "b");
  assert_true (c->hooks[ARCA_HOOK_CREATE_RUNTIME][0].has_timeout);
  assert_int_equal (c->hooks[ARCA_HOOK_CREATE_RUNTIME][0].timeout, 5);
  assert_false (c->hooks[ARCA_HOOK_CREATE_RUNTIME][1].has_timeout);

  expect_top_error ("\"hooks\": {\"prestart\": [{\"path\": \"true\"}]}",
                    "hooks.prestart[0].path: must be an absolute path");
  expect_top_error ("\"hooks\": {\"poststart\": [{\"args\": [\"x\"]}]}",
                    "hooks.poststart[0].path: required");
  expect_top_error ("\"hooks\": {\"startContainer\": [{\"path\": \"/x\", \"timeout\": 0}]}",
                    "hooks.startContainer[0].timeout: 0 out of range");
  expect_top_error ("\"hooks\": {\"createContainer\": [{\"path\": \"/x\", \"env\": [\"X\"]}]}",
                    "hooks.createContainer[0].env[0]");
  expect_top_error ("\"hooks\": {\"prestart\": {\"path\": \"/x\"}}",
                    "hooks.prestart: expected array, got object");
}

/* ---- linux -------------------------------------------------------------- */

static void
test_namespaces (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_ok (
      "{\"ociVersion\": \"1.1.0\", \"linux\": {\"namespaces\": [{\"type\": \"user\"},"
      " {\"type\": \"network\", \"path\": \"/run/netns/x\"}, {\"type\": \"time\", \"path\": \"\"}],"
      " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 65536}],"
      " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
      " \"timeOffsets\": {\"monotonic\": {\"secs\": -5, \"nanosecs\": 7}}}}");
  const struct arca_oci_namespace *net = arca_oci_config_namespace (c, ARCA_NS_NETWORK);

  assert_non_null (net);
  assert_string_equal (net->path, "/run/netns/x");
  assert_null (arca_oci_config_namespace (c, ARCA_NS_TIME)->path);
  assert_int_equal (c->linux_.n_uid_mappings, 1);
  assert_int_equal (c->linux_.uid_mappings[0].host_id, 1000);
  assert_int_equal (c->linux_.uid_mappings[0].size, 65536);
  assert_true (c->linux_.has_time_offsets);
  assert_int_equal (c->linux_.time_offset_monotonic.secs, -5);
  assert_int_equal (c->linux_.time_offset_monotonic.nanosecs, 7);

  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"},"
                " {\"type\": \"bogus\"}]}}",
                "linux.namespaces[1].type: unknown namespace type \"bogus\"");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"},"
                " {\"type\": \"ipc\"}, {\"type\": \"pid\"}]}}",
                "linux.namespaces[2].type: duplicate namespace type \"pid\"");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"path\": \"/x\"}]}}",
                "linux.namespaces[0].type: required");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"net\","
                " \"path\": \"x\"}]}}",
                "linux.namespaces[0].type: unknown namespace type");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"uts\","
                " \"path\": \"proc/1/ns/uts\"}]}}",
                "linux.namespaces[0].path: must be an absolute path");
  expect_linux_error ("\"uidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]",
                      "linux.uidMappings: given without a user namespace");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"user\"}],"
                " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 4294967295, \"size\": 2}]}}",
                "linux.uidMappings[0]: range exceeds 32-bit ids");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"user\"}],"
                " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 0}]}}",
                "linux.gidMappings[0].size: 0 out of range");
  expect_linux_error ("\"timeOffsets\": {\"boottime\": {\"secs\": 1}}",
                      "linux.timeOffsets: given without a time namespace");
  expect_linux_error ("\"timeOffsets\": {\"realtime\": {\"secs\": 1}}",
                      "linux.timeOffsets.realtime: unknown clock");
  expect_linux_error ("\"timeOffsets\": {\"boottime\": {\"nanosecs\": 1000000000}}",
                      "linux.timeOffsets.boottime.nanosecs: 1000000000 out of range");
}

static void
test_devices (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_linux_ok (
      "\"devices\": [{\"type\": \"c\", \"path\": \"/dev/fuse\", \"major\": 10, \"minor\": 229,"
      " \"fileMode\": 438, \"uid\": 0, \"gid\": 0}, {\"type\": \"p\", \"path\": \"/dev/fifo\"}]");

  assert_int_equal (c->linux_.n_devices, 2);
  assert_int_equal (c->linux_.devices[0].type, 'c');
  assert_int_equal (c->linux_.devices[0].major, 10);
  assert_int_equal (c->linux_.devices[0].file_mode, 0666);
  assert_true (c->linux_.devices[0].has_uid);
  assert_int_equal (c->linux_.devices[1].major, -1);

  expect_linux_error ("\"devices\": [{\"type\": \"x\", \"path\": \"/dev/x\"}]",
                      "linux.devices[0].type: unknown device type \"x\"");
  expect_linux_error ("\"devices\": [{\"type\": \"\", \"path\": \"/dev/x\"}]",
                      "linux.devices[0].type: unknown device type");
  expect_linux_error ("\"devices\": [{\"type\": \"c\", \"path\": \"/dev/x\", \"major\": 1}]",
                      "linux.devices[0].minor: required for device type 'c'");
  expect_linux_error ("\"devices\": [{\"type\": \"b\", \"path\": \"dev/x\", \"major\": 1,"
                      " \"minor\": 1}]",
                      "linux.devices[0].path: must be an absolute path");
  expect_linux_error ("\"devices\": [{\"type\": \"c\", \"path\": \"/dev/x\", \"major\": -3,"
                      " \"minor\": 1}]",
                      "linux.devices[0].major: must not be negative");
}

static void
test_resources (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_linux_ok (
      "\"resources\": {\"memory\": {\"limit\": 536870912, \"swap\": -1, \"swappiness\": 0,"
      " \"disableOOMKiller\": true}, \"cpu\": {\"shares\": 1024, \"quota\": -1, \"period\": 100000,"
      " \"cpus\": \"0-3,5\", \"mems\": \"0\", \"idle\": 1}, \"pids\": {\"limit\": 100},"
      " \"blockIO\": {\"weight\": 500, \"weightDevice\": [{\"major\": 8, \"minor\": 0,"
      " \"weight\": 300}], \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 600}]},"
      " \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],"
      " \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\","
      " \"major\": 1, \"minor\": 3, \"access\": \"wr\"}], \"unified\": {\"memory.high\": \"max\"}}");
  const struct arca_oci_resources *r = &c->linux_.resources;

  assert_true (r->has_memory_limit);
  assert_int_equal (r->memory_limit, 536870912);
  assert_int_equal (r->memory_swap, -1);
  assert_true (r->has_memory_swappiness);
  assert_true (r->disable_oom_killer);
  assert_false (r->has_memory_reservation);
  assert_int_equal (r->cpu_shares, 1024);
  assert_int_equal (r->cpu_quota, -1);
  assert_string_equal (r->cpu_cpus, "0-3,5");
  assert_true (r->has_cpu_idle);
  assert_int_equal (r->pids_limit, 100);
  assert_int_equal (r->blkio_weight, 500);
  assert_int_equal (r->n_blkio_weight_devices, 1);
  assert_int_equal (r->blkio_weight_devices[0].weight, 300);
  assert_int_equal (r->blkio_throttle_read_bps[0].rate, 600);
  assert_string_equal (r->hugepage_limits[0].page_size, "2MB");
  assert_int_equal (r->n_devices, 2);
  /* access comes out in canonical order */
  assert_string_equal (r->devices[1].access, "rw");
  assert_int_equal (r->devices[1].type, 'c');
  assert_string_equal (r->unified[0].key, "memory.high");

  expect_linux_error ("\"resources\": {\"memory\": {\"limit\": -2}}",
                      "linux.resources.memory.limit: -2 out of range");
  expect_linux_error ("\"resources\": {\"memory\": {\"swappiness\": 101}}",
                      "linux.resources.memory.swappiness: 101 out of range");
  expect_linux_error ("\"resources\": {\"memory\": {\"limit\": \"1G\"}}",
                      "linux.resources.memory.limit: expected integer, got string");
  expect_linux_error ("\"resources\": {\"cpu\": {\"cpus\": \"3-1\"}}",
                      "linux.resources.cpu.cpus: invalid range");
  expect_linux_error ("\"resources\": {\"cpu\": {\"cpus\": \"0,,1\"}}",
                      "linux.resources.cpu.cpus: invalid cpu list");
  expect_linux_error ("\"resources\": {\"cpu\": {\"mems\": \"0-\"}}",
                      "linux.resources.cpu.mems: invalid cpu list");
  expect_linux_error ("\"resources\": {\"cpu\": {\"idle\": 2}}",
                      "linux.resources.cpu.idle: 2 out of range");
  expect_linux_error ("\"resources\": {\"blockIO\": {\"weightDevice\": [{\"major\": 8,"
                      " \"minor\": 0}]}}",
                      "linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight");
  expect_linux_error ("\"resources\": {\"pids\": {}}", "linux.resources.pids.limit: required");
  expect_linux_error ("\"resources\": {\"blockIO\": {\"weight\": 5}}",
                      "linux.resources.blockIO.weight: 5 out of range");
  expect_linux_error ("\"resources\": {\"blockIO\": {\"throttleWriteIOPSDevice\": [{\"major\": 8,"
                      " \"minor\": 0}]}}",
                      "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: required");
  expect_linux_error ("\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2M\", \"limit\": 1}]}",
                      "linux.resources.hugepageLimits[0].pageSize: invalid page size");
  expect_linux_error ("\"resources\": {\"devices\": [{\"access\": \"r\"}]}",
                      "linux.resources.devices[0].allow: required");
  expect_linux_error ("\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}",
                      "linux.resources.devices[0].access: invalid access");
  expect_linux_error ("\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"p\"}]}",
                      "linux.resources.devices[0].type: unknown device type");
  expect_linux_error ("\"resources\": {\"unified\": {\"../../release_agent\": \"x\"}}",
                      "invalid cgroup file name");
  expect_linux_error ("\"resources\": {\"network\": {\"classID\": 1}}",
                      "linux.resources.network: not supported on this host");
  expect_linux_error ("\"resources\": {\"rdma\": {}}",
                      "linux.resources.rdma: not supported on this host");
}

static void
test_unsupported_linux_fields (void **state)
{
  expect_linux_error ("\"intelRdt\": {\"closID\": \"x\"}",
                      "linux.intelRdt: not supported on this host");
  expect_linux_error ("\"memoryPolicy\": {}", "linux.memoryPolicy: not supported on this host");
  expect_linux_error ("\"netDevices\": {}", "linux.netDevices: not supported on this host");
  expect_linux_error ("\"personality\": {\"domain\": \"LINUX64\"}",
                      "linux.personality.domain: unknown personality domain");
  expect_linux_error ("\"personality\": {\"domain\": \"LINUX\", \"flags\": [\"X\"]}",
                      "linux.personality.flags[0]: unknown personality flag");
  expect_linux_error ("\"maskedPaths\": [\"proc/kcore\"]",
                      "linux.maskedPaths[0]: must be an absolute path");
  expect_linux_error ("\"readonlyPaths\": [\"/proc/sys\", null]",
                      "linux.readonlyPaths[1]: expected string, got null");
  expect_linux_error ("\"cgroupsPath\": 5", "linux.cgroupsPath: expected string, got integer");
}

static void
test_personality (void **state)
{
  cleanup_config struct arca_oci_config *c =
      parse_linux_ok ("\"personality\": {\"domain\": \"LINUX32\", \"flags\": []}");

  assert_true (c->linux_.has_personality);
  assert_int_equal (c->linux_.personality, PER_LINUX32);
}

static void
test_sysctl (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_linux_ok (
      "\"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"1024\","
      " \"fs.mqueue.msg_max\": \"20\", \"kernel.hostname\": \"x\", \"kernel.msgmax\": \"8192\"}");

  assert_int_equal (c->linux_.n_sysctl, 5);
  assert_string_equal (c->linux_.sysctl[0].key, "net.ipv4.ip_forward");
  assert_string_equal (c->linux_.sysctl[0].value, "1");

  expect_linux_error ("\"sysctl\": {\"kernel.panic\": \"1\"}",
                      "linux.sysctl.kernel.panic: not a namespaced sysctl");
  expect_linux_error ("\"sysctl\": {\"vm.swappiness\": \"1\"}",
                      "linux.sysctl.vm.swappiness: not a namespaced sysctl");
  expect_linux_error ("\"sysctl\": {\"kernel.shmmaxx\": \"1\"}",
                      "linux.sysctl.kernel.shmmaxx: not a namespaced sysctl");
  expect_linux_error ("\"sysctl\": {\"net/../../kernel/panic\": \"1\"}",
                      "invalid sysctl name");
  expect_linux_error ("\"sysctl\": {\"net..ipv4\": \"1\"}", "invalid sysctl name");
  expect_linux_error ("\"sysctl\": {\"net.ipv4.\": \"1\"}", "invalid sysctl name");
  expect_linux_error ("\"sysctl\": {\"net.ipv4.ip_forward\": 1}",
                      "linux.sysctl.net.ipv4.ip_forward: expected string, got integer");
  /* A namespaced sysctl still needs the container's own namespace. */
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"ipc\"}],"
                " \"sysctl\": {\"net.core.somaxconn\": \"256\"}}}",
                "linux.sysctl.net.core.somaxconn: needs its own network namespace");
  expect_error ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"sysctl\": {\"kernel.sem\": \"1 2 3 4\"}}}",
                "linux.sysctl.kernel.sem: needs its own ipc namespace");
}

/* ---- seccomp ------------------------------------------------------------ */

static void
test_seccomp_values (void **state)
{
  cleanup_config struct arca_oci_config *c = parse_linux_ok (
      "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
      " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_AARCH64\"],"
      " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_TSYNC\"],"
      " \"listenerPath\": \"/run/agent.sock\", \"listenerMetadata\": \"m\","
      " \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
      "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
      "   \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 255,"
      "   \"valueTwo\": 8, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
      "  {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"},"
      "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_KILL\"},"
      "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]}");
  const struct arca_oci_seccomp *s = c->linux_.seccomp;

  assert_non_null (s);
  assert_int_equal (s->default_action, 0x00050000U);
  assert_true (s->has_default_errno_ret);
  assert_int_equal (s->default_errno_ret, 38);
  assert_int_equal (s->n_architectures, 3);
  assert_int_equal (s->architectures[0], 0xc000003eU); /* AUDIT_ARCH_X86_64 */
  assert_int_equal (s->architectures[1], 0x40000003U); /* AUDIT_ARCH_I386 */
  assert_int_equal (s->flags, ARCA_SECCOMP_FLAG_LOG);
  assert_string_equal (s->listener_path, "/run/agent.sock");
  assert_string_equal (s->listener_metadata, "m");
  assert_int_equal (s->n_syscalls, 5);
  assert_string_equal (s->syscalls[0].names[1], "write");
  assert_null (s->syscalls[0].names[2]);
  assert_int_equal (s->syscalls[0].action, 0x7fff0000U);
  assert_int_equal (s->syscalls[1].n_args, 2);
  assert_int_equal (s->syscalls[1].args[0].value, 4294967295U);
  assert_int_equal (s->syscalls[1].args[0].op, ARCA_SCMP_EQ);
  assert_int_equal (s->syscalls[1].args[1].index, 1);
  assert_int_equal (s->syscalls[1].args[1].value_two, 8);
  assert_int_equal (s->syscalls[1].args[1].op, ARCA_SCMP_MASKED_EQ);
  assert_int_equal (s->syscalls[2].action, 0x7fc00000U);
  assert_int_equal (s->syscalls[3].action, 0); /* SCMP_ACT_KILL = KILL_THREAD */
  assert_true (s->syscalls[4].has_errno_ret);
  assert_int_equal (s->syscalls[4].errno_ret, 1);
}

static void
test_seccomp_errors (void **state)
{
  expect_linux_error ("\"seccomp\": {}", "linux.seccomp.defaultAction: required");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_MAYBE\"}",
                      "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\"");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\","
                      " \"listenerPath\": \"/s\"}",
                      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"defaultErrnoRet\": 1}",
                      "linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\","
                      " \"defaultErrnoRet\": 70000}",
                      "linux.seccomp.defaultErrnoRet: 70000 out of range");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
                      "linux.seccomp.architectures[1]: unknown seccomp architecture "
                      "\"SCMP_ARCH_VAX\"");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
                      "linux.seccomp.flags[0]: unknown seccomp flag");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_FOO\"}]}",
                      "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_FOO\"");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"read\"]}]}",
                      "linux.seccomp.syscalls[0].action: required");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_LOG\"}]}",
                      "linux.seccomp.syscalls[0].names: must not be empty");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"\"], \"action\": \"SCMP_ACT_LOG\"}]}",
                      "linux.seccomp.syscalls[0].names[0]: must not be empty");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                      " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_XOR\"}]}]}",
                      "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "
                      "\"SCMP_CMP_XOR\"");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                      " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
                      "linux.seccomp.syscalls[0].args[0].index: 6 out of range");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                      " \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
                      "linux.seccomp.syscalls[0].args[0].value: required");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\","
                      " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
                      " \"errnoRet\": 5}]}",
                      "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
                      "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"listenerMetadata\": \"x\"}",
                      "linux.seccomp.listenerMetadata: given without listenerPath");
  expect_linux_error ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\":"
                      " \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                      "linux.seccomp.listenerPath: longer than 107 bytes");
  expect_linux_error ("\"seccomp\": [\"SCMP_ACT_ALLOW\"]", "linux.seccomp: expected object, got array");
}

/* uint64 values above INT64_MAX: RLIM_INFINITY as Docker writes it, full
 * 64-bit seccomp values. */
static void
test_big_unsigned (void **state)
{
  cleanup_config struct arca_oci_config *c = NULL;
  cleanup_config struct arca_oci_config *c2 = NULL;

  c = parse_process_ok (
      "\"rlimits\": [{\"type\": \"RLIMIT_MEMLOCK\", \"soft\": 18446744073709551615,"
      " \"hard\":18446744073709551615}], \"env\": [\"X=18446744073709551615\"],"
      " \"user\": {\"uid\": 0}");
  assert_int_equal (c->process.rlimits[0].soft, UINT64_MAX);
  assert_int_equal (c->process.rlimits[0].hard, UINT64_MAX);
  assert_string_equal (c->process.env[0], "X=18446744073709551615");

  c2 = parse_linux_ok (
      "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"],"
      " \"action\": \"SCMP_ACT_LOG\", \"args\": [{\"index\": 1, \"value\": 9223372036854775808,"
      " \"valueTwo\": 18446744069414584320, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}");
  assert_int_equal (c2->linux_.seccomp->syscalls[0].args[0].value, 9223372036854775808ULL);
  assert_int_equal (c2->linux_.seccomp->syscalls[0].args[0].value_two, 0xffffffff00000000ULL);

  /* A strings stays a string, even when it spells a big number. */
  expect_process_error ("\"env\": [\"A=1\", 18446744073709551615]",
                        "process.env[1]: expected string, got integer");
  expect_top_error ("\"hostname\": 18446744073709551615", "hostname: expected string, got integer");
  expect_linux_error ("\"resources\": {\"memory\": {\"limit\": 18446744073709551615}}",
                      "linux.resources.memory.limit: 18446744073709551615 out of range");
  expect_process_error ("\"user\": {\"uid\": 9223372036854775808}",
                        "process.user.uid: 9223372036854775808 out of range");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551616,"
                        " \"hard\": 1}]",
                        "invalid JSON");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": -18446744073709551615,"
                        " \"hard\": 1}]",
                        "invalid JSON");
  expect_process_error ("\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615.0,"
                        " \"hard\": 1}]",
                        "process.rlimits[0].soft: expected integer, got number");
  /* \u0000 is refused, so the marker of big numbers cannot be forged. */
  expect_process_error ("\"env\": [\"A=\\u000018446744073709551615\"]", "invalid JSON");
  {
    /* an escaped backslash before "u0000" is plain text */
    cleanup_config struct arca_oci_config *c3 = parse_process_ok ("\"env\": [\"A=\\\\u0000\"]");
    assert_string_equal (c3->process.env[0], "A=\\u0000");
  }
}

/* ---- standalone process and resources ----------------------------------- */

static void
test_process_parse (void **state)
{
  static const char ok[] = "{\"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", \"env\": [\"A=1\"],"
                           " \"user\": {\"uid\": 5, \"gid\": 6}}";
  cleanup_process struct arca_oci_process *p = NULL;
  cleanup_error arca_error *err = NULL;
  struct arca_oci_process *bad = NULL;

  assert_int_equal (arca_oci_process_parse (ok, strlen (ok), &p, &err), 0);
  assert_string_equal (p->args[1], "-l");
  assert_string_equal (p->cwd, "/tmp");
  assert_int_equal (p->user.uid, 5);

  assert_int_equal (arca_oci_process_parse ("{\"cwd\": \"/\"}", 12, &bad, &err), -1);
  assert_null (bad);
  assert_non_null (strstr (err->msg, "process.args: required"));
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_oci_process_parse ("{\"args\": [\"a\"], \"cwd\": \"/\", \"env\": [1]}", 39,
                                            &bad, &err),
                    -1);
  assert_non_null (strstr (err->msg, "process.env[0]: expected string"));
}

static void
test_resources_parse (void **state)
{
  static const char ok[] = "{\"memory\": {\"limit\": 1048576}, \"pids\": {\"limit\": -1}}";
  static const char bad[] = "{\"cpu\": {\"quota\": -7}}";
  struct arca_oci_resources r = { 0 };
  cleanup_error arca_error *err = NULL;

  assert_int_equal (arca_oci_resources_parse (ok, strlen (ok), &r, &err), 0);
  assert_true (r.has_memory_limit);
  assert_int_equal (r.memory_limit, 1048576);
  assert_int_equal (r.pids_limit, -1);
  arca_oci_resources_clear (&r);
  assert_false (r.has_memory_limit);

  assert_int_equal (arca_oci_resources_parse (bad, strlen (bad), &r, &err), -1);
  assert_non_null (strstr (err->msg, "resources.cpu.quota: -7 out of range"));
  assert_false (r.has_cpu_quota);
}

static void
test_config_load (void **state)
{
  char dir[] = "/tmp/arca-oci-test-XXXXXX";
  cleanup_free char *file = NULL;
  cleanup_config struct arca_oci_config *c = NULL;
  cleanup_error arca_error *err = NULL;
  struct arca_oci_config *bad = NULL;
  FILE *f;

  assert_non_null (mkdtemp (dir));
  assert_true (asprintf (&file, "%s/config.json", dir) >= 0);

  assert_int_equal (arca_oci_config_load (dir, &bad, &err), -1);
  assert_null (bad);
  assert_non_null (strstr (err->msg, "config.json"));
  arca_error_free (err);
  err = NULL;

  f = fopen (file, "we");
  assert_non_null (f);
  fputs (runc_default, f);
  assert_int_equal (fclose (f), 0);
  assert_int_equal (arca_oci_config_load (dir, &c, &err), 0);
  assert_string_equal (c->hostname, "runc");

  /* A parse error is reported with the file it came from. */
  f = fopen (file, "we");
  assert_non_null (f);
  fputs ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"intelRdt\": {}}}", f);
  assert_int_equal (fclose (f), 0);
  assert_int_equal (arca_oci_config_load (dir, &bad, &err), -1);
  assert_null (bad);
  assert_non_null (strstr (err->msg, "config.json`: linux.intelRdt: not supported"));

  assert_int_equal (unlink (file), 0);
  assert_int_equal (rmdir (dir), 0);
}

/* ---- name tables -------------------------------------------------------- */

static void
test_name_tables (void **state)
{
  assert_string_equal (arca_oci_ns_type_name (ARCA_NS_NETWORK), "network");
  assert_null (arca_oci_ns_type_name (ARCA_NS__COUNT));
  assert_int_equal (arca_oci_ns_type_from_name ("cgroup"), ARCA_NS_CGROUP);
  assert_int_equal (arca_oci_ns_type_from_name ("nope"), -1);
  assert_string_equal (arca_oci_hook_kind_name (ARCA_HOOK_CREATE_RUNTIME), "createRuntime");
  assert_string_equal (arca_oci_cap_name (0), "CAP_CHOWN");
  assert_string_equal (arca_oci_cap_name (40), "CAP_CHECKPOINT_RESTORE");
  assert_null (arca_oci_cap_name (41));
  assert_int_equal (arca_oci_cap_from_name ("CAP_SYS_ADMIN"), 21);
  assert_int_equal (arca_oci_cap_from_name ("CAP_NOPE"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_runc_default),
    cmocka_unit_test (test_minimal_without_process),
    cmocka_unit_test (test_null_and_unknown_keys),
    cmocka_unit_test (test_top_errors),
    cmocka_unit_test (test_garbage_json),
    cmocka_unit_test (test_deep_nesting),
    cmocka_unit_test (test_too_big),
    cmocka_unit_test (test_process_values),
    cmocka_unit_test (test_process_errors),
    cmocka_unit_test (test_huge_arrays),
    cmocka_unit_test (test_mount_values),
    cmocka_unit_test (test_mount_errors),
    cmocka_unit_test (test_hooks),
    cmocka_unit_test (test_namespaces),
    cmocka_unit_test (test_devices),
    cmocka_unit_test (test_resources),
    cmocka_unit_test (test_unsupported_linux_fields),
    cmocka_unit_test (test_personality),
    cmocka_unit_test (test_sysctl),
    cmocka_unit_test (test_seccomp_values),
    cmocka_unit_test (test_seccomp_errors),
    cmocka_unit_test (test_big_unsigned),
    cmocka_unit_test (test_process_parse),
    cmocka_unit_test (test_resources_parse),
    cmocka_unit_test (test_config_load),
    cmocka_unit_test (test_name_tables),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
