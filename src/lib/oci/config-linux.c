/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: the "linux" object and linux.resources. */
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

static int
parse_dev_number (json_t *v, const char *path, void *field, arca_error **err)
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
  OCI_ROW ("major", OCI_INTEGER, parse_dev_number, struct arca_oci_device, major, 0),
  OCI_ROW ("minor", OCI_INTEGER, parse_dev_number, struct arca_oci_device, minor, 0),
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

/* ---- resources ---------------------------------------------------------- */

/* int64 where -1 means unlimited and other negatives make no sense. */
static int
parse_limit (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_get_int (v, path, -1, INT64_MAX, field, err);
}

static int
parse_swappiness (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 0, 100, &n, err) < 0)
    return -1;
  *(uint64_t *) field = (uint64_t) n;
  return 0;
}

#define MEM(name, fn, member, has)                                                                \
  OCI_ROW_HAS (name, OCI_INTEGER, fn, struct arca_oci_resources, member, has, 0)
#define MEM_BOOL(name, member, has)                                                               \
  OCI_ROW_HAS (name, OCI_BOOL, oci_parse_bool, struct arca_oci_resources, member, has, 0)

static const struct oci_field memory_fields[] = {
  MEM ("limit", parse_limit, memory_limit, has_memory_limit),
  MEM ("reservation", parse_limit, memory_reservation, has_memory_reservation),
  MEM ("swap", parse_limit, memory_swap, has_memory_swap),
  MEM ("kernel", parse_limit, memory_kernel, has_memory_kernel),
  MEM ("kernelTCP", parse_limit, memory_kernel_tcp, has_memory_kernel_tcp),
  MEM ("swappiness", parse_swappiness, memory_swappiness, has_memory_swappiness),
  MEM_BOOL ("disableOOMKiller", disable_oom_killer, has_disable_oom_killer),
  MEM_BOOL ("useHierarchy", use_hierarchy, has_use_hierarchy),
  MEM_BOOL ("checkBeforeUpdate", check_before_update, has_check_before_update),
  OCI_ROW_END,
};

static int
parse_cpu_idle (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_get_int (v, path, 0, 1, field, err);
}

/* A cpuset list: "0-3,5,7-8" (or empty). */
static int
parse_cpuset (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *s = json_string_value (v);

  if (json_string_length (v) > 4096)
    return oci_error (err, path, "too long");
  while (*s != '\0')
    {
      char *end;
      unsigned long a, b;

      if (*s < '0' || *s > '9')
        return oci_error (err, path, "invalid cpu list \"%.64s\"", json_string_value (v));
      a = strtoul (s, &end, 10);
      b = a;
      if (*end == '-')
        {
          if (end[1] < '0' || end[1] > '9')
            return oci_error (err, path, "invalid cpu list \"%.64s\"", json_string_value (v));
          b = strtoul (end + 1, &end, 10);
        }
      if (b < a || b > 1u << 20)
        return oci_error (err, path, "invalid range in cpu list \"%.64s\"",
                          json_string_value (v));
      if (*end == ',' && end[1] != '\0')
        end++;
      else if (*end != '\0')
        return oci_error (err, path, "invalid cpu list \"%.64s\"", json_string_value (v));
      s = end;
    }
  return oci_parse_string (v, path, field, err);
}

#define CPU(name, fn, member, has)                                                                \
  OCI_ROW_HAS (name, OCI_INTEGER, fn, struct arca_oci_resources, member, has, 0)

static const struct oci_field cpu_fields[] = {
  CPU ("shares", oci_parse_u64, cpu_shares, has_cpu_shares),
  CPU ("quota", parse_limit, cpu_quota, has_cpu_quota),
  CPU ("period", oci_parse_u64, cpu_period, has_cpu_period),
  CPU ("burst", oci_parse_u64, cpu_burst, has_cpu_burst),
  CPU ("realtimeRuntime", parse_limit, cpu_realtime_runtime, has_cpu_realtime_runtime),
  CPU ("realtimePeriod", oci_parse_u64, cpu_realtime_period, has_cpu_realtime_period),
  CPU ("idle", parse_cpu_idle, cpu_idle, has_cpu_idle),
  OCI_ROW ("cpus", OCI_STRING, parse_cpuset, struct arca_oci_resources, cpu_cpus, 0),
  OCI_ROW ("mems", OCI_STRING, parse_cpuset, struct arca_oci_resources, cpu_mems, 0),
  OCI_ROW_END,
};

static const struct oci_field pids_fields[] = {
  OCI_ROW_HAS ("limit", OCI_INTEGER, oci_parse_i64, struct arca_oci_resources, pids_limit,
               has_pids_limit, OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_blkio_weight (json_t *v, const char *path, void *field, arca_error **err)
{
  int64_t n;

  if (oci_get_int (v, path, 10, 1000, &n, err) < 0)
    return -1;
  *(uint16_t *) field = (uint16_t) n;
  return 0;
}

static const struct oci_field weight_device_fields[] = {
  OCI_ROW ("major", OCI_INTEGER, parse_dev_number, struct arca_oci_weight_device, major,
           OCI_REQUIRED),
  OCI_ROW ("minor", OCI_INTEGER, parse_dev_number, struct arca_oci_weight_device, minor,
           OCI_REQUIRED),
  OCI_ROW_HAS ("weight", OCI_INTEGER, parse_blkio_weight, struct arca_oci_weight_device, weight,
               has_weight, 0),
  OCI_ROW_HAS ("leafWeight", OCI_INTEGER, parse_blkio_weight, struct arca_oci_weight_device,
               leaf_weight, has_leaf_weight, 0),
  OCI_ROW_END,
};

static int
parse_weight_device (json_t *v, const char *path, void *elem, arca_error **err)
{
  struct arca_oci_weight_device *d = elem;

  if (oci_dispatch (v, path, weight_device_fields, d, err) < 0)
    return -1;
  if (!d->has_weight && !d->has_leaf_weight)
    return oci_error (err, path, "needs weight or leafWeight");
  return 0;
}

static const struct oci_field throttle_device_fields[] = {
  OCI_ROW ("major", OCI_INTEGER, parse_dev_number, struct arca_oci_throttle_device, major,
           OCI_REQUIRED),
  OCI_ROW ("minor", OCI_INTEGER, parse_dev_number, struct arca_oci_throttle_device, minor,
           OCI_REQUIRED),
  OCI_ROW ("rate", OCI_INTEGER, oci_parse_u64, struct arca_oci_throttle_device, rate,
           OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_throttle_device (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_dispatch (v, path, throttle_device_fields, elem, err);
}

static int
parse_weight_devices (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_resources *r = field;

  return oci_parse_array (v, path, OCI_MAX_ENTRIES, sizeof (struct arca_oci_weight_device),
                          &r->blkio_weight_devices, &r->n_blkio_weight_devices,
                          parse_weight_device, err);
}

#define THROTTLE_LIST(fn, member)                                                                 \
  static int fn (json_t *v, const char *path, void *field, arca_error **err)                      \
  {                                                                                               \
    struct arca_oci_resources *r = field;                                                         \
    return oci_parse_array (v, path, OCI_MAX_ENTRIES, sizeof (struct arca_oci_throttle_device),   \
                            &r->member, &r->n_##member, parse_throttle_device, err);              \
  }
THROTTLE_LIST (parse_throttle_read_bps, blkio_throttle_read_bps)
THROTTLE_LIST (parse_throttle_write_bps, blkio_throttle_write_bps)
THROTTLE_LIST (parse_throttle_read_iops, blkio_throttle_read_iops)
THROTTLE_LIST (parse_throttle_write_iops, blkio_throttle_write_iops)

static const struct oci_field blkio_fields[] = {
  OCI_ROW_HAS ("weight", OCI_INTEGER, parse_blkio_weight, struct arca_oci_resources,
               blkio_weight, has_blkio_weight, 0),
  OCI_ROW_HAS ("leafWeight", OCI_INTEGER, parse_blkio_weight, struct arca_oci_resources,
               blkio_leaf_weight, has_blkio_leaf_weight, 0),
  OCI_ROW_SELF ("weightDevice", OCI_ARRAY, parse_weight_devices, 0),
  OCI_ROW_SELF ("throttleReadBpsDevice", OCI_ARRAY, parse_throttle_read_bps, 0),
  OCI_ROW_SELF ("throttleWriteBpsDevice", OCI_ARRAY, parse_throttle_write_bps, 0),
  OCI_ROW_SELF ("throttleReadIOPSDevice", OCI_ARRAY, parse_throttle_read_iops, 0),
  OCI_ROW_SELF ("throttleWriteIOPSDevice", OCI_ARRAY, parse_throttle_write_iops, 0),
  OCI_ROW_END,
};

/* "64KB", "2MB", "1GB": the hugetlb controller's file name suffix. */
static int
parse_page_size (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *s = json_string_value (v);
  size_t n = strspn (s, "0123456789");

  if (n == 0 || n > 10 || s[n] == '\0' || strchr ("KMG", s[n]) == NULL
      || strcmp (s + n + 1, "B") != 0)
    return oci_error (err, path, "invalid page size \"%.32s\" (like 2MB)", s);
  return oci_parse_string (v, path, field, err);
}

static const struct oci_field hugepage_fields[] = {
  OCI_ROW ("pageSize", OCI_STRING, parse_page_size, struct arca_oci_hugepage_limit, page_size,
           OCI_REQUIRED),
  OCI_ROW ("limit", OCI_INTEGER, oci_parse_u64, struct arca_oci_hugepage_limit, limit,
           OCI_REQUIRED),
  OCI_ROW_END,
};

static int
parse_hugepage_limit (json_t *v, const char *path, void *elem, arca_error **err)
{
  return oci_dispatch (v, path, hugepage_fields, elem, err);
}

static int
parse_hugepage_limits (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_resources *r = field;

  return oci_parse_array (v, path, OCI_MAX_SMALL, sizeof (struct arca_oci_hugepage_limit),
                          &r->hugepage_limits, &r->n_hugepage_limits, parse_hugepage_limit, err);
}

static int
parse_rule_type (json_t *v, const char *path, void *field, arca_error **err)
{
  const char *s = json_string_value (v);

  if (strlen (s) != 1 || strchr ("acb", s[0]) == NULL)
    return oci_error (err, path, "unknown device type \"%.16s\" (a, c or b)", s);
  *(char *) field = s[0];
  return 0;
}

static int
parse_rule_number (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_get_int (v, path, -1, UINT32_MAX, field, err);
}

static int
parse_rule_access (json_t *v, const char *path, void *field, arca_error **err)
{
  static const char rwm[] = "rwm";
  const char *s = json_string_value (v);
  char *access = field;
  bool seen[3] = { false, false, false };

  if (s[0] == '\0')
    return oci_error (err, path, "must not be empty");
  for (const char *p = s; *p != '\0'; p++)
    {
      const char *at = strchr (rwm, *p);
      if (at == NULL || seen[at - rwm])
        return oci_error (err, path, "invalid access \"%.16s\" (a subset of rwm)", s);
      seen[at - rwm] = true;
    }
  /* Canonical order, so every consumer writes the same text. */
  memset (access, 0, 4);
  for (int i = 0, n = 0; i < 3; i++)
    if (seen[i])
      access[n++] = rwm[i];
  return 0;
}

static const struct oci_field device_rule_fields[] = {
  OCI_ROW ("allow", OCI_BOOL, oci_parse_bool, struct arca_oci_device_cgroup, allow,
           OCI_REQUIRED),
  OCI_ROW ("type", OCI_STRING, parse_rule_type, struct arca_oci_device_cgroup, type, 0),
  OCI_ROW ("major", OCI_INTEGER, parse_rule_number, struct arca_oci_device_cgroup, major, 0),
  OCI_ROW ("minor", OCI_INTEGER, parse_rule_number, struct arca_oci_device_cgroup, minor, 0),
  OCI_ROW ("access", OCI_STRING, parse_rule_access, struct arca_oci_device_cgroup, access, 0),
  OCI_ROW_END,
};

static int
parse_device_rule (json_t *v, const char *path, void *elem, arca_error **err)
{
  struct arca_oci_device_cgroup *d = elem;

  /* The defaults runc and crun use: all devices, all access. */
  d->type = 'a';
  d->major = d->minor = -1;
  memcpy (d->access, "rwm", 4);
  return oci_dispatch (v, path, device_rule_fields, d, err);
}

static int
parse_device_rules (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_resources *r = field;

  return oci_parse_array (v, path, OCI_MAX_ENTRIES, sizeof (struct arca_oci_device_cgroup),
                          &r->devices, &r->n_devices, parse_device_rule, err);
}

/* A unified key names a file in the container's cgroup directory. */
static int
check_unified_key (const char *s, const char *path, arca_error **err)
{
  if (s[0] == '\0' || strchr (s, '/') != NULL || strcmp (s, ".") == 0 || strstr (s, "..") != NULL)
    return oci_error (err, path, "invalid cgroup file name");
  return 0;
}

static int
parse_unified (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_resources *r = field;

  return oci_parse_string_map (v, path, OCI_MAX_ENTRIES, check_unified_key,
                               sizeof (struct arca_oci_unified_entry),
                               offsetof (struct arca_oci_unified_entry, key),
                               offsetof (struct arca_oci_unified_entry, value), &r->unified,
                               &r->n_unified, err);
}

static int
parse_memory (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, memory_fields, field, err);
}

static int
parse_cpu (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, cpu_fields, field, err);
}

static int
parse_pids (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, pids_fields, field, err);
}

static int
parse_blkio (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, blkio_fields, field, err);
}

static const struct oci_field resources_fields[] = {
  OCI_ROW_SELF ("memory", OCI_OBJECT, parse_memory, 0),
  OCI_ROW_SELF ("cpu", OCI_OBJECT, parse_cpu, 0),
  OCI_ROW_SELF ("pids", OCI_OBJECT, parse_pids, 0),
  OCI_ROW_SELF ("blockIO", OCI_OBJECT, parse_blkio, 0),
  OCI_ROW_SELF ("hugepageLimits", OCI_ARRAY, parse_hugepage_limits, 0),
  OCI_ROW_SELF ("devices", OCI_ARRAY, parse_device_rules, 0),
  OCI_ROW_SELF ("unified", OCI_OBJECT, parse_unified, 0),
  OCI_ROW_UNSUPPORTED ("network"),
  OCI_ROW_UNSUPPORTED ("rdma"),
  OCI_ROW_END,
};

int
oci_parse_resources (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_dispatch (v, path, resources_fields, field, err);
}

void
arca_oci_resources_clear (struct arca_oci_resources *r)
{
  if (r == NULL)
    return;
  free (r->cpu_cpus);
  free (r->cpu_mems);
  free (r->blkio_weight_devices);
  free (r->blkio_throttle_read_bps);
  free (r->blkio_throttle_write_bps);
  free (r->blkio_throttle_read_iops);
  free (r->blkio_throttle_write_iops);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  free (r->devices);
  for (size_t i = 0; i < r->n_unified; i++)
    {
      free (r->unified[i].key);
      free (r->unified[i].value);
    }
  free (r->unified);
  memset (r, 0, sizeof (*r));
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
