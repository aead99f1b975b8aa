/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor runs real containers (busybox) through libarca: root only. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/logfile.h"
#include "engine/monitor.h"
#include "oci/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"

struct fixture {
  char dir[64];
  char bundle[128], state[128], mon[128], log[160];
  struct arca_runtime rt;
};

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof *fx);
  cleanup_error arca_error *err = NULL;
  char path[1024];

  if (geteuid () != 0 || access ("/bin/busybox", X_OK) != 0)
    {
      free (fx);
      return -1;
    }
  strcpy (fx->dir, "/tmp/arca-monitor-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  snprintf (fx->bundle, sizeof fx->bundle, "%s/bundle", fx->dir);
  snprintf (fx->state, sizeof fx->state, "%s/state", fx->dir);
  snprintf (fx->mon, sizeof fx->mon, "%s/mon", fx->dir);
  snprintf (fx->log, sizeof fx->log, "%s/ctr.log", fx->mon);
  snprintf (path, sizeof path, "%s/rootfs/bin", fx->bundle);
  assert_int_equal (arca_mkdir_p (path, 0755, &err), 0);
  assert_int_equal (arca_mkdir_p (fx->mon, 0755, &err), 0);
  snprintf (path, sizeof path, "cp /bin/busybox %s/rootfs/bin/busybox && ln -s busybox %s/rootfs/bin/sh "
            "&& mkdir -p %s/rootfs/proc %s/rootfs/dev %s/rootfs/sys %s/rootfs/tmp",
            fx->bundle, fx->bundle, fx->bundle, fx->bundle, fx->bundle, fx->bundle);
  assert_int_equal (system (path), 0);
  fx->rt = (struct arca_runtime){ .state_root = fx->state, .cgroup_root = "/sys/fs/cgroup" };
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;

  arca_rm_rf_at (AT_FDCWD, fx->dir, NULL);
  free (fx);
  return 0;
}

static void
write_config (struct fixture *fx, const char *script)
{
  cleanup_free char *text = NULL;
  cleanup_error arca_error *err = NULL;
  char path[256];

  assert_int_equal (arca_oci_spec_default (false, &text, &err), 0);
  json_t *doc = json_loads (text, 0, NULL);
  assert_non_null (doc);
  json_t *process = json_object_get (doc, "process");
  json_object_set_new (process, "terminal", json_false ());
  json_object_set_new (process, "args", json_pack ("[s, s, s]", "/bin/sh", "-c", script));
  json_object_set_new (json_object_get (doc, "root"), "readonly", json_false ());
  snprintf (path, sizeof path, "%s/config.json", fx->bundle);
  assert_int_equal (json_dump_file (doc, path, 0), 0);
  json_decref (doc);
}

static void
wait_exit (struct fixture *fx, struct arca_exit_info *info)
{
  cleanup_error arca_error *err = NULL;
  bool done = false;

  for (int i = 0; i < 200 && !done; i++)
    {
      assert_int_equal (arca_monitor_exit_info (fx->mon, &done, info, &err), 0);
      if (!done)
        {
          struct timespec ts = { 0, 50 * 1000 * 1000 };
          nanosleep (&ts, NULL);
        }
    }
  assert_true (done);
}

struct text {
  char buf[4096];
  char streams[4096];
};

static int
append (const struct arca_log_record *rec, void *userdata)
{
  struct text *t = userdata;
  strncat (t->buf, rec->text, sizeof t->buf - strlen (t->buf) - 1);
  strncat (t->streams, rec->stream, sizeof t->streams - strlen (t->streams) - 1);
  strncat (t->streams, " ", sizeof t->streams - strlen (t->streams) - 1);
  return 0;
}

static void
test_output_logged_and_exit_recorded (void **state)
{
  struct fixture *fx = *state;
  cleanup_error arca_error *err = NULL;
  char marker[256], cmd[300];
  snprintf (marker, sizeof marker, "%s/exit-command-ran", fx->dir);
  snprintf (cmd, sizeof cmd, "echo done > %s", marker);
  char *exit_command[] = { "/bin/sh", "-c", cmd, NULL };
  struct arca_monitor_options o = {
    .rt = &fx->rt, .id = "mon1", .bundle = fx->bundle, .dir = fx->mon, .log_path = fx->log,
    .log_max_files = 1, .exit_command = exit_command,
  };
  pid_t mon = 0, ctr = 0;
  struct arca_exit_info info;

  write_config (fx, "echo out; echo err >&2; exit 3");
  assert_int_equal (arca_monitor_start (&o, &mon, &ctr, &err), 0);
  assert_true (mon > 0 && ctr > 0);
  assert_true (mon != getpid ());
  wait_exit (fx, &info);
  assert_int_equal (info.exit_code, 3);
  assert_int_equal (info.restarts, 0);

  struct text t = { 0 };
  assert_int_equal (arca_logfile_read (fx->log, 1, 0, 0, append, &t, &err), 0);
  assert_non_null (strstr (t.buf, "out\n"));
  assert_non_null (strstr (t.buf, "err\n"));
  assert_non_null (strstr (t.streams, "stdout"));
  assert_non_null (strstr (t.streams, "stderr"));

  /* The exit command runs after exit.json is written; give it a moment. */
  for (int i = 0; i < 100 && access (marker, F_OK) != 0; i++)
    usleep (20000);
  assert_int_equal (access (marker, F_OK), 0);
  /* The runtime's container is gone: no state directory left. */
  char state_dir[256];
  snprintf (state_dir, sizeof state_dir, "%s/mon1", fx->state);
  assert_int_equal (access (state_dir, F_OK), -1);
}

static void
test_restart_on_failure_bounded (void **state)
{
  struct fixture *fx = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_monitor_options o = {
    .rt = &fx->rt, .id = "mon2", .bundle = fx->bundle, .dir = fx->mon, .log_path = fx->log,
    .log_max_files = 1, .restart = ARCA_RESTART_ON_FAILURE, .max_restarts = 2,
  };
  pid_t mon = 0, ctr = 0;
  struct arca_exit_info info;

  write_config (fx, "echo attempt; exit 1");
  assert_int_equal (arca_monitor_start (&o, &mon, &ctr, &err), 0);
  wait_exit (fx, &info);
  assert_int_equal (info.exit_code, 1);
  assert_int_equal (info.restarts, 2);
  struct text t = { 0 };
  assert_int_equal (arca_logfile_read (fx->log, 1, 0, 0, append, &t, &err), 0);
  assert_string_equal (t.buf, "attempt\nattempt\nattempt\n");
}

static void
test_start_failure_reported (void **state)
{
  struct fixture *fx = *state;
  cleanup_error arca_error *err = NULL;
  struct arca_monitor_options o = {
    .rt = &fx->rt, .id = "mon3", .bundle = fx->bundle, .dir = fx->mon, .log_path = fx->log,
    .log_max_files = 1,
  };
  pid_t mon = 0, ctr = 0;
  char path[256];

  write_config (fx, "true");
  snprintf (path, sizeof path, "%s/config.json", fx->bundle);
  json_t *doc = json_load_file (path, 0, NULL);
  json_object_set_new (json_object_get (doc, "process"), "args", json_pack ("[s]", "/nope"));
  json_dump_file (doc, path, 0);
  json_decref (doc);
  assert_int_equal (arca_monitor_start (&o, &mon, &ctr, &err), -1);
  assert_non_null (strstr (err->msg, "/nope"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_output_logged_and_exit_recorded, setup, teardown),
    cmocka_unit_test_setup_teardown (test_restart_on_failure_bounded, setup, teardown),
    cmocka_unit_test_setup_teardown (test_start_failure_reported, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
