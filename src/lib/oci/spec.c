/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The default config.json (`arca-runtime spec`), runc's defaults. */
#include "spec.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

/* jansson's own json_decrefp (behind json_auto_t). */
#define cleanup_json _cleanup_ (json_decrefp)

/* runc's default set: what a shell needs and nothing that reaches the
 * host. */
static const char *const default_caps[] = {
  "CAP_AUDIT_WRITE",
  "CAP_KILL",
  "CAP_NET_BIND_SERVICE",
  NULL,
};

static const char *const masked_paths[] = {
  "/proc/acpi",          "/proc/asound",      "/proc/kcore",       "/proc/keys",
  "/proc/latency_stats", "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug",
  "/sys/firmware",       "/proc/scsi",        NULL,
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

struct default_mount
{
  const char *destination, *type, *source;
  const char *options[8];
  bool rootful_only;     /* left out of the rootless spec */
};

static const struct default_mount default_mounts[] = {
  { "/proc", "proc", "proc", { NULL }, false },
  { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL }, false },
  { "/dev/pts",
    "devpts",
    "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL },
    false },
  { "/dev/shm",
    "tmpfs",
    "shm",
    { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL },
    false },
  { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL }, false },
  { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL }, false },
  { "/sys/fs/cgroup",
    "cgroup",
    "cgroup",
    { "nosuid", "noexec", "nodev", "relatime", "ro", NULL },
    true },
};

/* The rootless /sys: a recursive bind of the host's, read-only. */
static const struct default_mount rootless_sys = {
  "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL }, false,
};

static json_t *
strv_json (const char *const *v, bool rootless)
{
  json_t *a = json_array ();

  if (a == NULL)
    return NULL;
  for (; *v != NULL; v++)
    {
      /* A user namespace maps one uid and gid: uid=/gid= options name ids
       * that do not exist there. */
      if (rootless && (strncmp (*v, "uid=", 4) == 0 || strncmp (*v, "gid=", 4) == 0))
        continue;
      if (json_array_append_new (a, json_string (*v)) < 0)
        {
          json_decref (a);
          return NULL;
        }
    }
  return a;
}

static json_t *
mount_json (const struct default_mount *m, bool rootless)
{
  json_t *o = json_pack ("{s:s, s:s, s:s}", "destination", m->destination, "type", m->type,
                         "source", m->source);

  if (o == NULL || m->options[0] == NULL)
    return o;
  if (json_object_set_new (o, "options", strv_json (m->options, rootless)) < 0)
    {
      json_decref (o);
      return NULL;
    }
  return o;
}

static json_t *
mounts_json (bool rootless)
{
  cleanup_json json_t *a = json_array ();

  if (a == NULL)
    return NULL;
  for (size_t i = 0; i < ARRAY_SIZE (default_mounts); i++)
    {
      const struct default_mount *m = &default_mounts[i];

      if (rootless && m->rootful_only)
        continue;
      if (rootless && strcmp (m->destination, "/sys") == 0)
        m = &rootless_sys;
      if (json_array_append_new (a, mount_json (m, rootless)) < 0)
        return NULL;
    }
  return move_ptr (a);
}

static json_t *
namespaces_json (bool rootless)
{
  static const char *const rootful[] = { "pid", "network", "ipc", "uts", "mount", NULL };
  static const char *const unprivileged[] = { "pid", "ipc", "uts", "mount", "user", NULL };
  cleanup_json json_t *a = json_array ();

  if (a == NULL)
    return NULL;
  for (const char *const *t = rootless ? unprivileged : rootful; *t != NULL; t++)
    if (json_array_append_new (a, json_pack ("{s:s}", "type", *t)) < 0)
      return NULL;
  return move_ptr (a);
}

static json_t *
linux_json (bool rootless)
{
  cleanup_json json_t *l = NULL;

  l = json_pack ("{s:o, s:o, s:o}", "namespaces", namespaces_json (rootless), "maskedPaths",
                 strv_json (masked_paths, false), "readonlyPaths",
                 strv_json (readonly_paths, false));
  if (l == NULL)
    return NULL;
  if (rootless)
    {
      /* Root in the container is the caller outside, nothing more. */
      if (json_object_set_new (l, "uidMappings",
                               json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                          (json_int_t) getuid (), "size", 1))
              < 0
          || json_object_set_new (l, "gidMappings",
                                  json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                             (json_int_t) getgid (), "size", 1))
                 < 0)
        return NULL;
    }
  else if (json_object_set_new (l, "resources",
                                json_pack ("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access",
                                           "rwm"))
           < 0)
    return NULL;
  return move_ptr (l);
}

static json_t *
process_json (void)
{
  cleanup_json json_t *caps = NULL;

  caps = json_pack ("{s:o, s:o, s:o, s:o}", "bounding", strv_json (default_caps, false),
                    "effective", strv_json (default_caps, false), "permitted",
                    strv_json (default_caps, false), "ambient", strv_json (default_caps, false));
  if (caps == NULL)
    return NULL;
  return json_pack ("{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:O, s:[{s:s, s:i, s:i}], s:b}",
                    "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm", "cwd", "/", "capabilities", caps, "rlimits", "type",
                    "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

int
arca_oci_spec_default (bool rootless, char **ret_json, arca_error **err)
{
  cleanup_json json_t *spec = NULL;
  char *text;

  spec = json_pack ("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0", "process",
                    process_json (), "root", "path", "rootfs", "readonly", 1, "hostname", "arca",
                    "mounts", mounts_json (rootless), "linux", linux_json (rootless));
  if (spec == NULL)
    return arca_error_set (err, ENOMEM, "build default spec");
  text = json_dumps (spec, JSON_INDENT (2));
  if (text == NULL)
    return arca_error_set (err, ENOMEM, "print default spec");
  *ret_json = text;
  return 0;
}
