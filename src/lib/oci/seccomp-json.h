/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reverse of the parser for linux.seccomp: a profile built in C (the
 * engine's default) rendered as config.json text, using the parser's own
 * name tables so the two can never disagree. */
#ifndef ARCA_OCI_SECCOMP_JSON_H
#define ARCA_OCI_SECCOMP_JSON_H

#include "oci/config.h"
#include "util/error.h"

/* Returns a JSON object (text) for linux.seccomp. */
int arca_oci_seccomp_to_json (const struct arca_oci_seccomp *seccomp, char **ret_json,
                              arca_error **err);

#endif
