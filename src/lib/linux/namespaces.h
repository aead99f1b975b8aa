/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef ARCA_LINUX_NAMESPACES_H
#define ARCA_LINUX_NAMESPACES_H

#include <sys/types.h>

#include "oci/config.h"
#include "util/error.h"

/* Writes linux.uidMappings/gidMappings for pid (the process that created a
 * new user namespace).  Called by the runtime parent, which is privileged in
 * the outer namespace. */
int arca_ns_write_id_maps (pid_t pid, const struct arca_oci_config *config, arca_error **err);

/* setns() into the namespace at path; what names it in errors
 * ("linux.namespaces[2].path"). */
int arca_ns_join_path (const char *path, int clone_flag, const char *what, arca_error **err);

/* After unshare(CLONE_NEWTIME) and before any process entered it: writes
 * linux.timeOffsets to /proc/self/timens_offsets. */
int arca_ns_write_time_offsets (const struct arca_oci_config *config, arca_error **err);

/* Brings "lo" up in the current network namespace: a new one starts with
 * it down, and runc/crun containers expect 127.0.0.1 to work. */
int arca_ns_loopback_up (arca_error **err);

/* CLONE_NEW* flags of the namespaces the config asks to create (no path). */
int arca_ns_new_flags (const struct arca_oci_config *config);

#endif
