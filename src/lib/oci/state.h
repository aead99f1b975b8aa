/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime-spec "state" document: what `state` prints and what hooks read
 * on their stdin. */
#ifndef ARCA_OCI_STATE_H
#define ARCA_OCI_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci/config.h"
#include "util/error.h"

struct arca_oci_state {
  const char *id;
  const char *status;     /* creating | created | running | paused | stopped */
  pid_t pid;              /* 0 when there is no process (stopped) */
  const char *bundle;     /* absolute */
  const struct arca_oci_annotation *annotations;
  size_t n_annotations;
  /* runc prints these too; podman and containerd read "created". */
  const char *rootfs;     /* may be NULL */
  const char *created;    /* RFC 3339, may be NULL */
  const char *owner;      /* may be NULL */
};

/* Renders the state as JSON (pretty: indented, as `state` prints it). */
int arca_oci_state_to_json (const struct arca_oci_state *state, bool pretty,
                            char **ret_json, arca_error **err);

#endif
