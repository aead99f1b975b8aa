/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef ARCA_LINUX_HOOKS_H
#define ARCA_LINUX_HOOKS_H

#include "oci/config.h"
#include "util/error.h"

/* Runs the hooks of one kind in order, each with the container state JSON on
 * its stdin, honouring its timeout (the hook is killed and the call fails).
 * A non-zero exit fails the call with the hook's path and status. */
int arca_hooks_run (const struct arca_oci_config *config, enum arca_oci_hook_kind kind,
                    const char *state_json, arca_error **err);

#endif
