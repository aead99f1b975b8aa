/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca-runtime features`: the runtime-spec features.md document. */
#ifndef ARCA_OCI_FEATURES_H
#define ARCA_OCI_FEATURES_H

#include "util/error.h"

/* A pretty-printed features document (runtime-spec features.md).  Every
 * list (hooks, mount options, namespaces, capabilities, seccomp actions,
 * operators, architectures and flags) comes from the tables the config
 * parser uses, so it names exactly what arca_oci_config_parse() accepts.
 * Free with free(). */
int arca_oci_features_json (char **ret_json, arca_error **err);

#endif
