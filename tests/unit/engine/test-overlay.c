/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mounts happen in a forked child with its own mount namespace, so the host
 * never sees them.  Root only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/overlay.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char base[64];

static void
put (const char *rel, const char *text)
{
  char path[256];
  cleanup_error arca_error *err = NULL;
  snprintf (path, sizeof path, "%s/%s", base, rel);
  char *slash = strrchr (path, '/');
  *slash = '\0';
  assert_int_equal (arca_mkdir_p (path, 0755, &err), 0);
  *slash = '/';
  assert_int_equal (arca_write_file_atomic_at (AT_FDCWD, path, text, strlen (text), 0644, &err), 0);
}

static int
read_text (const char *rel, char *buf, size_t size)
{
  char path[256];
  snprintf (path, sizeof path, "%s/%s", base, rel);
  int fd = open (path, O_RDONLY);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, size - 1);
  close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return 0;
}

/* Runs in the child: any failure is an exit status. */
static int
child (void)
{
  char lower1[128], lower2[128], upper[128], work[128], merged[128], buf[64];
  cleanup_error arca_error *err = NULL;

  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return 10;
  snprintf (lower1, sizeof lower1, "%s/l1", base);
  snprintf (lower2, sizeof lower2, "%s/l2", base);
  snprintf (upper, sizeof upper, "%s/upper", base);
  snprintf (work, sizeof work, "%s/work", base);
  snprintf (merged, sizeof merged, "%s/merged", base);
  const char *lowers[] = { lower2, lower1 }; /* top first */
  if (arca_overlay_mount (lowers, 2, upper, work, merged, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      return 11;
    }
  if (read_text ("merged/etc/os", buf, sizeof buf) < 0 || strcmp (buf, "layer2") != 0)
    return 12; /* the top layer wins */
  if (read_text ("merged/bin/tool", buf, sizeof buf) < 0 || strcmp (buf, "tool") != 0)
    return 13;
  put ("merged/new.txt", "new");
  put ("merged/etc/os", "changed");
  char path[256];
  snprintf (path, sizeof path, "%s/merged/bin/tool", base);
  if (unlink (path) < 0)
    return 14;
  if (read_text ("l2/etc/os", buf, sizeof buf) < 0 || strcmp (buf, "layer2") != 0)
    return 15; /* lower layers are never written */
  if (arca_overlay_unmount (merged, &err) < 0)
    return 16;
  if (read_text ("merged/new.txt", buf, sizeof buf) == 0)
    return 17; /* unmounted */
  return 0;
}

static void
test_overlay_mount_and_diff (void **state)
{
  cleanup_error arca_error *err = NULL;

  if (geteuid () != 0)
    skip ();
  strcpy (base, "/tmp/arca-overlay-XXXXXX");
  assert_non_null (mkdtemp (base));
  put ("l1/etc/os", "layer1");
  put ("l1/bin/tool", "tool");
  put ("l2/etc/os", "layer2");
  put ("upper/.keep", "");
  put ("work/.keep", "");
  put ("merged/.keep", "");
  char p[128];
  snprintf (p, sizeof p, "%s/upper/.keep", base);
  unlink (p);
  snprintf (p, sizeof p, "%s/work/.keep", base);
  unlink (p);

  pid_t pid = fork ();
  if (pid == 0)
    _exit (child ());
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);

  char l1[128], l2[128], upper[128];
  snprintf (l1, sizeof l1, "%s/l1", base);
  snprintf (l2, sizeof l2, "%s/l2", base);
  snprintf (upper, sizeof upper, "%s/upper", base);
  const char *lowers[] = { l2, l1 };
  struct arca_change *changes = NULL;
  size_t n = 0;
  assert_int_equal (arca_overlay_changes (upper, lowers, 2, &changes, &n, &err), 0);
  char listing[512] = "";
  for (size_t i = 0; i < n; i++)
    {
      char line[128];
      snprintf (line, sizeof line, "%c %s\n", changes[i].kind, changes[i].path);
      strncat (listing, line, sizeof listing - strlen (listing) - 1);
    }
  arca_changes_free (changes, n);
  assert_string_equal (listing, "C /bin\nD /bin/tool\nC /etc\nC /etc/os\nA /new.txt\n");
  arca_rm_rf_at (AT_FDCWD, base, NULL);
}

static void
test_overlay_errors (void **state)
{
  cleanup_error arca_error *err = NULL;
  const char *lowers[] = { "/nonexistent-layer" };

  assert_int_equal (arca_overlay_mount (lowers, 0, "/tmp", "/tmp", "/tmp", &err), -1);
  arca_error_freep (&err);
  if (geteuid () != 0)
    skip ();
  assert_int_equal (arca_overlay_mount (lowers, 1, "/tmp", "/tmp", "/tmp", &err), -1);
  assert_non_null (strstr (err->msg, "/nonexistent-layer"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_overlay_mount_and_diff),
    cmocka_unit_test (test_overlay_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
