/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"


const char *
arca_caps_name (int cap)
{
  return arca_oci_cap_name (cap);
}

int
arca_caps_from_name (const char *name)
{
  return arca_oci_cap_from_name (name);
}

int
arca_caps_last_cap (void)
{
  cleanup_free char *text = NULL;
  cleanup_error arca_error *err = NULL;

  if (arca_read_file_at (-100 /* AT_FDCWD */, "/proc/sys/kernel/cap_last_cap", 64, &text, NULL,
                         &err) < 0)
    return CAP_LAST_CAP;
  return atoi (text);
}

int
arca_caps_drop_bounding (uint64_t bounding, arca_error **err)
{
  int last = arca_caps_last_cap ();

  for (int cap = 0; cap <= last && cap < 64; cap++)
    {
      if (bounding & (1ULL << cap))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return arca_error_errno (err, "process.capabilities.bounding: drop %s",
                                 arca_oci_cap_name (cap) ? arca_oci_cap_name (cap) : "capability");
    }
  return 0;
}

int
arca_caps_apply_sets (const struct arca_oci_capabilities *caps, arca_error **err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  int last = arca_caps_last_cap ();

  memset (data, 0, sizeof (data));
  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t) (caps->effective >> (32 * i));
      data[i].permitted = (uint32_t) (caps->permitted >> (32 * i));
      data[i].inheritable = (uint32_t) (caps->inheritable >> (32 * i));
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return arca_error_errno (err, "process.capabilities: capset");

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return arca_error_errno (err, "process.capabilities.ambient: clear");
  for (int cap = 0; cap <= last && cap < 64; cap++)
    {
      if (!(caps->ambient & (1ULL << cap)))
        continue;
      /* The kernel only lets a capability be ambient when it is both
       * permitted and inheritable.  runc's default spec lists ambient
       * capabilities without inheritable ones: like runc and crun, those
       * are left out rather than failing the container. */
      if (!(caps->permitted & caps->inheritable & (1ULL << cap)))
        continue;
      /* The kernel only lets a capability be ambient when it is both
       * permitted and inheritable; say which one is missing. */
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        return arca_error_errno (err, "process.capabilities.ambient: raise %s (it must also be "
                                      "in permitted and inheritable)",
                                 arca_oci_cap_name (cap) ? arca_oci_cap_name (cap) : "capability");
    }
  return 0;
}
