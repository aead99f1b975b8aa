/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: the "linux" object (linux.resources is in
 * config-resources.c, linux.seccomp in config-seccomp.c). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#include "config-internal.h"
#include "util/cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* ---- namespaces --------------------------------------------------------- */

static const int ns_clone_flags[ARCA_NS__COUNT] = {
  [ARCA_NS_PID] = CLONE_NEWPID,   [ARCA_NS_NETWORK] = CLONE_NEWNET,
  [ARCA_NS_MOUNT] = CLONE_NEWNS,  [ARCA_NS_IPC] = CLONE_NEWIPC,
  [ARCA_NS_UTS] = CLONE_NEWUTS,   [ARCA_NS_USER] = CLONE_NEWUSER,
  [ARCA_NS_CGROUP] = CLONE_NEWCGROUP, [ARCA_NS_TIME] = CLONE_NEWTIME,
};

static int
parse_ns_type (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_namespace *ns = field;
  int t = arca_oci_ns_type_from_name (json_string_value (v));

  if (t < 0)
    return oci_error (err, path, "unknown namespace type \"%.64s\"", json_string_value (v));
  ns->type = t;
  ns->clone_flag = ns_clone_flags[t];
  return 0;
}

/* An empty path (Go's zero value) means "create a new one", like no path. */
static int
parse_ns_path (json_t *v, const char *path, void *field, arca_error **err)
{
  if (json_string_length (v) == 0)
    return 0;
  return oci_parse_abs_path (v, path, field, err);
}

static const struct oci_field namespace_fields[] = {
  OCI_ROW_SELF ("type", OCI_STRING, parse_ns_type, OCI_REQUIRED),
  OCI_ROW ("path", OCI_STRING, parse_ns_path, struct arca_oci_namespace, path, 0),
  OCI_ROW_END,
};

static int
parse_namespace (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_dispatch (v, path, namespace_fields, elem, err);
}

static int
parse_namespaces (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_linux *l = field;

  if (oci_parse_array (v, path, OCI_MAX_SMALL, sizeof (struct arca_oci_namespace),
                       &l->namespaces, &l->n_namespaces, parse_namespace, err) < 0)
    return -1;
  for (size_t i = 1; i < l->n_namespaces; i++)
    for (size_t j = 0; j < i; j++)
      if (l->namespaces[i].type == l->namespaces[j].type)
        {
          char sub[OCI_PATH_MAX], sub2[OCI_PATH_MAX];

          oci_path_index (sub, path, i);
          oci_path_key (sub2, sub, "type");
          return oci_error (err, sub2, "duplicate namespace type \"%s\"",
                            arca_oci_ns_type_name (l->namespaces[i].type));
        }
  return 0;
}

/* ---- id mappings, time offsets ------------------------------------------ */

static int
parse_mapping_size (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 1, UINT32_MAX, &n, err) < 0)
    return -1;
  *(uint32_t *) field = (uint32_t) n;
  return 0;
}

static const struct oci_field id_mapping_fields[] = {
  OCI_ROW ("containerID", OCI_INTEGER, oci_parse_u32, struct arca_oci_id_mapping, container_id,
           OCI_REQUIRED),
  OCI_ROW ("hostID", OCI_INTEGER, oci_parse_u32, struct arca_oci_id_mapping, host_id,
           OCI_REQUIRED),
  OCI_ROW ("size", OCI_INTEGER, parse_mapping_size, struct arca_oci_id_mapping, size,
           OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_id_mapping (json_t *v, const char *path, void *elem, arca_error **err)
{
  struct arca_oci_id_mapping *m = elem;

  if (oci_dispatch (v, path, id_mapping_fields, m, err) < 0)
    return -1;
  if ((uint64_t) m->container_id + m->size - 1 > UINT32_MAX
      || (uint64_t) m->host_id + m->size - 1 > UINT32_MAX)
    return oci_error (err, path, "range exceeds 32-bit ids");
  return 0;
}

static int
parse_uid_mappings (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_linux *l = field;

  return oci_parse_array (v, path, OCI_MAX_ID_MAPPINGS, sizeof (struct arca_oci_id_mapping),
                          &l->uid_mappings, &l->n_uid_mappings, parse_id_mapping, err);
}

static int
parse_gid_mappings (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_linux *l = field;

  return oci_parse_array (v, path, OCI_MAX_ID_MAPPINGS, sizeof (struct arca_oci_id_mapping),
                          &l->gid_mappings, &l->n_gid_mappings, parse_id_mapping, err);
}

static int
parse_nanosecs (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 0, 999999999, &n, err) < 0)
    return -1;
  *(uint32_t *) field = (uint32_t) n;
  return 0;
}

static const struct oci_field time_offset_fields[] = {
  OCI_ROW ("secs", OCI_INTEGER, oci_parse_i64, struct arca_oci_time_offset, secs, 0),
  OCI_ROW ("nanosecs", OCI_INTEGER, parse_nanosecs, struct arca_oci_time_offset, nanosecs, 0),
  OCI_ROW_END,
};

static int
parse_time_offset (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, time_offset_fields, field, err);
}

static const struct oci_field time_offsets_fields[] = {
  OCI_ROW ("boottime", OCI_OBJECT, parse_time_offset, struct arca_oci_linux,
           time_offset_boottime, 0),
  OCI_ROW ("monotonic", OCI_OBJECT, parse_time_offset, struct arca_oci_linux,
           time_offset_monotonic, 0),
  OCI_ROW_END,
};

/* Only these two clocks can be offset by a time namespace: any other key
 * is a mistake, not an extension. */
static int
parse_time_offsets (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *key;
  json_t *value;

  json_object_foreach (v, key, value)
    if (strcmp (key, "boottime") != 0 && strcmp (key, "monotonic") != 0)
      {
        char sub[OCI_PATH_MAX];

        oci_path_key (sub, path, key);
        return oci_error (err, sub, "unknown clock (boottime or monotonic)");
      }
  return oci_dispatch (v, path, time_offsets_fields, field, err);
}

/* ---- devices ------------------------------------------------------------ */

static int
parse_device_type (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *s = json_string_value (v);

  if (strlen (s) != 1 || strchr ("cbup", s[0]) == NULL)
    return oci_error (err, path, "unknown device type \"%.16s\" (c, b, u or p)", s);
  *(char *) field = s[0];
  return 0;
}

int
oci_parse_dev_number (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_get_int (v, path, 0, UINT32_MAX, field, err);
}

static int
parse_file_mode (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  /* Permission bits, possibly with the file type bits of st_mode. */
  if (oci_get_int (v, path, 0, 0177777, &n, err) < 0)
    return -1;
  *(mode_t *) field = (mode_t) n;
  return 0;
}

static const struct oci_field device_fields[] = {
  OCI_ROW ("type", OCI_STRING, parse_device_type, struct arca_oci_device, type, OCI_REQUIRED),
  OCI_ROW ("path", OCI_STRING, oci_parse_abs_path, struct arca_oci_device, path, OCI_REQUIRED),
  OCI_ROW ("major", OCI_INTEGER, oci_parse_dev_number, struct arca_oci_device, major, 0),
  OCI_ROW ("minor", OCI_INTEGER, oci_parse_dev_number, struct arca_oci_device, minor, 0),
  OCI_ROW_HAS ("fileMode", OCI_INTEGER, parse_file_mode, struct arca_oci_device, file_mode,
               has_file_mode, 0),
  OCI_ROW_HAS ("uid", OCI_INTEGER, oci_parse_u32, struct arca_oci_device, uid, has_uid, 0),
  OCI_ROW_HAS ("gid", OCI_INTEGER, oci_parse_u32, struct arca_oci_device, gid, has_gid, 0),
  OCI_ROW_END,
};

static int
parse_device (json_t *v, const char *path, void *elem, arca_error **err)
{
  struct arca_oci_device *d = elem;

  d->major = d->minor = -1;
  if (oci_dispatch (v, path, device_fields, d, err) < 0)
    return -1;
  if (d->type != 'p' && (d->major < 0 || d->minor < 0))
    {
      char sub[OCI_PATH_MAX];

      oci_path_key (sub, path, d->major < 0 ? "major" : "minor");
      return oci_error (err, sub, "required for device type '%c'", d->type);
    }
  return 0;
}

static int
parse_devices (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_linux *l = field;

  return oci_parse_array (v, path, OCI_MAX_ENTRIES, sizeof (struct arca_oci_device), &l->devices,
                          &l->n_devices, parse_device, err);
}

/* ---- sysctl, paths, personality ----------------------------------------- */

/* Sysctls a container may set: the ones that belong to one of its
 * namespaces (the same list as runc's).  Anything else would change the
 * host.  ns says which namespace the container must have of its own. */
static const struct
{
  const char *name;
  bool prefix;
  enum arca_oci_ns_type ns;
} sysctl_allowed[] = {
  { "kernel.msgmax", false, ARCA_NS_IPC },
  { "kernel.msgmnb", false, ARCA_NS_IPC },
  { "kernel.msgmni", false, ARCA_NS_IPC },
  { "kernel.sem", false, ARCA_NS_IPC },
  { "kernel.shmall", false, ARCA_NS_IPC },
  { "kernel.shmmax", false, ARCA_NS_IPC },
  { "kernel.shmmni", false, ARCA_NS_IPC },
  { "kernel.shm_rmid_forced", false, ARCA_NS_IPC },
  { "kernel.domainname", false, ARCA_NS_UTS },
  { "kernel.hostname", false, ARCA_NS_UTS },
  { "fs.mqueue.", true, ARCA_NS_IPC },
  { "net.", true, ARCA_NS_NETWORK },
};

/* Returns the index in sysctl_allowed, -1 if the key is not namespaced. */
static int
sysctl_lookup (const char *key)
{
  for (size_t i = 0; i < ARRAY_SIZE (sysctl_allowed); i++)
    {
      const char *name = sysctl_allowed[i].name;
      if (sysctl_allowed[i].prefix ? strncmp (key, name, strlen (name)) == 0
                                   : strcmp (key, name) == 0)
        return (int) i;
    }
  return -1;
}

/* The key becomes a path below /proc/sys ('.' turns into '/'): dotted
 * names of plain characters only, so it cannot leave that directory. */
static int
check_sysctl_key (const char *s, const char *path, arca_error **err)
{
  size_t len = strlen (s);

  if (len == 0 || len > 255 || s[0] == '.' || s[len - 1] == '.' || strstr (s, "..") != NULL
      || strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:@+")
             != len)
    return oci_error (err, path, "invalid sysctl name");
  if (sysctl_lookup (s) < 0)
    return oci_error (err, path, "not a namespaced sysctl, it would change the host");
  return 0;
}

static int
parse_sysctl (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_linux *l = field;

  return oci_parse_string_map (v, path, OCI_MAX_ENTRIES, check_sysctl_key,
                               sizeof (struct arca_oci_sysctl),
                               offsetof (struct arca_oci_sysctl, key),
                               offsetof (struct arca_oci_sysctl, value), &l->sysctl, &l->n_sysctl,
                               err);
}

static int
parse_rootfs_propagation (json_t *v, const char *path, void *field, arca_error **err)
{
  static const struct
  {
    const char *name;
    enum arca_oci_propagation value;
  } names[] = {
    { "", ARCA_PROPAGATION_NONE },
    { "private", ARCA_PROPAGATION_PRIVATE },
    { "rprivate", ARCA_PROPAGATION_PRIVATE },
    { "shared", ARCA_PROPAGATION_SHARED },
    { "rshared", ARCA_PROPAGATION_SHARED },
    { "slave", ARCA_PROPAGATION_SLAVE },
    { "rslave", ARCA_PROPAGATION_SLAVE },
    { "unbindable", ARCA_PROPAGATION_UNBINDABLE },
    { "runbindable", ARCA_PROPAGATION_UNBINDABLE },
  };
  const char *s = json_string_value (v);

  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    if (strcmp (names[i].name, s) == 0)
      {
        *(enum arca_oci_propagation *) field = names[i].value;
        return 0;
      }
  return oci_error (err, path, "unknown propagation \"%.32s\"", s);
}

static int
parse_path_list (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_parse_strv (v, path, OCI_MAX_ENTRIES, oci_check_absolute, field, err);
}

static int
parse_personality_domain (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *s = json_string_value (v);

  if (strcmp (s, "LINUX") == 0)
    *(unsigned long *) field = PER_LINUX;
  else if (strcmp (s, "LINUX32") == 0)
    *(unsigned long *) field = PER_LINUX32;
  else
    return oci_error (err, path, "unknown personality domain \"%.32s\" (LINUX or LINUX32)", s);
  return 0;
}

/* The spec defines no flag values yet: any flag is one we do not know. */
static int
parse_personality_flags (json_t *v, const char *path, void *field, arca_error **err)
{
  size_t n;

  if (oci_array_size (v, path, OCI_MAX_SMALL, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = json_array_get (v, i);
      char sub[OCI_PATH_MAX];

      oci_path_index (sub, path, i);
      if (oci_check_type (e, OCI_STRING, sub, err) < 0)
        return -1;
      return oci_error (err, sub, "unknown personality flag \"%.32s\"", json_string_value (e));
    }
  *(unsigned *) field = 0;
  return 0;
}

static const struct oci_field personality_fields[] = {
  OCI_ROW ("domain", OCI_STRING, parse_personality_domain, struct arca_oci_linux, personality,
           OCI_REQUIRED),
  OCI_ROW ("flags", OCI_ARRAY, parse_personality_flags, struct arca_oci_linux,
           personality_flags, 0),
  OCI_ROW_END,
};

static int
parse_personality (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, personality_fields, field, err);
}

/* ---- linux -------------------------------------------------------------- */

static const struct oci_field linux_fields[] = {
  OCI_ROW_SELF ("namespaces", OCI_ARRAY, parse_namespaces, 0),
  OCI_ROW_SELF ("uidMappings", OCI_ARRAY, parse_uid_mappings, 0),
  OCI_ROW_SELF ("gidMappings", OCI_ARRAY, parse_gid_mappings, 0),
  { "timeOffsets", OCI_OBJECT, parse_time_offsets, 0, OCI_HAS,
    offsetof (struct arca_oci_linux, has_time_offsets) },
  OCI_ROW_SELF ("devices", OCI_ARRAY, parse_devices, 0),
  OCI_ROW ("cgroupsPath", OCI_STRING, oci_parse_string, struct arca_oci_linux, cgroups_path, 0),
  OCI_ROW_HAS ("resources", OCI_OBJECT, oci_parse_resources, struct arca_oci_linux, resources,
               has_resources, 0),
  OCI_ROW_SELF ("sysctl", OCI_OBJECT, parse_sysctl, 0),
  OCI_ROW ("seccomp", OCI_OBJECT, oci_parse_seccomp, struct arca_oci_linux, seccomp, 0),
  OCI_ROW ("rootfsPropagation", OCI_STRING, parse_rootfs_propagation, struct arca_oci_linux,
           rootfs_propagation, 0),
  OCI_ROW ("maskedPaths", OCI_ARRAY, parse_path_list, struct arca_oci_linux, masked_paths, 0),
  OCI_ROW ("readonlyPaths", OCI_ARRAY, parse_path_list, struct arca_oci_linux, readonly_paths, 0),
  OCI_ROW ("mountLabel", OCI_STRING, oci_parse_string, struct arca_oci_linux, mount_label, 0),
  { "personality", OCI_OBJECT, parse_personality, 0, OCI_HAS,
    offsetof (struct arca_oci_linux, has_personality) },
  OCI_ROW_UNSUPPORTED ("intelRdt"),
  OCI_ROW_UNSUPPORTED ("memoryPolicy"),
  OCI_ROW_UNSUPPORTED ("netDevices"),
  OCI_ROW_END,
};

static bool
have_ns (const struct arca_oci_linux *l, enum arca_oci_ns_type type)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    if (l->namespaces[i].type == type)
      return true;
  return false;
}

int
oci_parse_linux (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_linux *l = field;
  bool userns;

  if (oci_dispatch (v, path, linux_fields, l, err) < 0)
    return -1;
  userns = have_ns (l, ARCA_NS_USER);
  for (size_t i = 0; i < l->n_sysctl; i++)
    {
      enum arca_oci_ns_type ns = sysctl_allowed[sysctl_lookup (l->sysctl[i].key)].ns;

      if (!have_ns (l, ns))
        {
          char sub[OCI_PATH_MAX], sub2[OCI_PATH_MAX];

          oci_path_key (sub, path, "sysctl");
          oci_path_key (sub2, sub, l->sysctl[i].key);
          return oci_error (err, sub2, "needs its own %s namespace in %s.namespaces",
                            arca_oci_ns_type_name (ns), path);
        }
    }
  if (!userns && (l->n_uid_mappings > 0 || l->n_gid_mappings > 0))
    {
      char sub[OCI_PATH_MAX];

      oci_path_key (sub, path, l->n_uid_mappings > 0 ? "uidMappings" : "gidMappings");
      return oci_error (err, sub, "given without a user namespace in %s.namespaces", path);
    }
  if (l->has_time_offsets && !have_ns (l, ARCA_NS_TIME))
    {
      char sub[OCI_PATH_MAX];

      oci_path_key (sub, path, "timeOffsets");
      return oci_error (err, sub, "given without a time namespace in %s.namespaces", path);
    }
  return 0;
}

void
oci_linux_clear (struct arca_oci_linux *l)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    free (l->namespaces[i].path);
  free (l->namespaces);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  arca_oci_resources_clear (&l->resources);
  for (size_t i = 0; i < l->n_sysctl; i++)
    {
      free (l->sysctl[i].key);
      free (l->sysctl[i].value);
    }
  free (l->sysctl);
  oci_seccomp_free (l->seccomp);
  arca_strv_free (l->masked_paths);
  arca_strv_free (l->readonly_paths);
  free (l->mount_label);
  memset (l, 0, sizeof (*l));
}
