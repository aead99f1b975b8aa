/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capabilities, talked to directly (capset/prctl): the set logic is small and
 * the order of the steps is what matters. */
#ifndef ARCA_LINUX_CAPS_H
#define ARCA_LINUX_CAPS_H

#include <stdint.h>

#include "oci/config.h"
#include "util/error.h"

/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int arca_caps_last_cap (void);

/* Step 1, while still privileged: drop every capability not in bounding. */
int arca_caps_drop_bounding (uint64_t bounding, arca_error **err);

/* Step 2, after the uid switch (done with PR_SET_KEEPCAPS): set effective,
 * permitted and inheritable, then raise the ambient ones. */
int arca_caps_apply_sets (const struct arca_oci_capabilities *caps, arca_error **err);

/* 5 -> "CAP_KILL", NULL when unknown. */
const char *arca_caps_name (int cap);

/* "CAP_KILL" -> 5, -1 when unknown. */
int arca_caps_from_name (const char *name);

#endif
