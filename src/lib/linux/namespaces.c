/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "namespaces.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

static int
write_map (pid_t pid, const char *file, const struct arca_oci_id_mapping *maps, size_t n,
           const char *field, arca_error **err)
{
  cleanup_free char *buf = NULL;
  char path[64];
  size_t len = 0;

  if (n == 0)
    return 0;
  buf = malloc (n * 40 + 1);
  if (buf == NULL)
    return arca_error_errno (err, "%s", field);
  for (size_t i = 0; i < n; i++)
    len += (size_t) sprintf (buf + len, "%u %u %u\n", maps[i].container_id, maps[i].host_id,
                             maps[i].size);
  snprintf (path, sizeof (path), "/proc/%d/%s", (int) pid, file);
  if (arca_write_file_at (AT_FDCWD, path, buf, len, err) < 0)
    return arca_error_wrap (err, "%s", field);
  return 0;
}

int
arca_ns_write_id_maps (pid_t pid, const struct arca_oci_config *config, arca_error **err)
{
  const struct arca_oci_linux *l = &config->linux_;

  if (write_map (pid, "uid_map", l->uid_mappings, l->n_uid_mappings, "linux.uidMappings", err) < 0)
    return -1;
  return write_map (pid, "gid_map", l->gid_mappings, l->n_gid_mappings, "linux.gidMappings", err);
}

int
arca_ns_join_path (const char *path, int clone_flag, const char *what, arca_error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return arca_error_errno (err, "%s: open `%s`", what, path);
  if (setns (fd, clone_flag) < 0)
    return arca_error_errno (err, "%s: join namespace `%s`", what, path);
  return 0;
}

int
arca_ns_write_time_offsets (const struct arca_oci_config *config, arca_error **err)
{
  const struct arca_oci_linux *l = &config->linux_;
  char buf[128];
  int len;

  if (!l->has_time_offsets)
    return 0;
  len = snprintf (buf, sizeof (buf), "monotonic %lld %u\nboottime %lld %u\n",
                  (long long) l->time_offset_monotonic.secs, l->time_offset_monotonic.nanosecs,
                  (long long) l->time_offset_boottime.secs, l->time_offset_boottime.nanosecs);
  if (arca_write_file_at (AT_FDCWD, "/proc/self/timens_offsets", buf, (size_t) len, err) < 0)
    return arca_error_wrap (err, "linux.timeOffsets");
  return 0;
}

int
arca_ns_new_flags (const struct arca_oci_config *config)
{
  int flags = 0;

  for (size_t i = 0; i < config->linux_.n_namespaces; i++)
    if (config->linux_.namespaces[i].path == NULL)
      flags |= config->linux_.namespaces[i].clone_flag;
  return flags;
}

int
arca_ns_loopback_up (arca_error **err)
{
  struct ifreq ifr;
  cleanup_close int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (sock < 0)
    return arca_error_errno (err, "loopback: socket");
  memset (&ifr, 0, sizeof ifr);
  strncpy (ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return arca_error_errno (err, "loopback: get flags of lo");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    return arca_error_errno (err, "loopback: bring lo up");
  return 0;
}
