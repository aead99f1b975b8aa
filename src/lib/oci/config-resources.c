/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: linux.resources (also standalone, for `update --resources`). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util/cleanup.h"

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
  OCI_ROW ("major", OCI_INTEGER, oci_parse_dev_number, struct arca_oci_weight_device, major,
           OCI_REQUIRED),
  OCI_ROW ("minor", OCI_INTEGER, oci_parse_dev_number, struct arca_oci_weight_device, minor,
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
  OCI_ROW ("major", OCI_INTEGER, oci_parse_dev_number, struct arca_oci_throttle_device, major,
           OCI_REQUIRED),
  OCI_ROW ("minor", OCI_INTEGER, oci_parse_dev_number, struct arca_oci_throttle_device, minor,
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
