/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest agent's configuration (format in engine/vm-proto.h): parsed
 * and validated before anything uses it, since it is input. */
#ifndef ARCA_GUEST_AGENT_CONFIG_H
#define ARCA_GUEST_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct agent_config {
  char **argv;            /* NULL-terminated, at least one */
  char **env;             /* NULL-terminated */
  char *cwd;
  char *hostname;         /* NULL: leave the kernel's */
  uint32_t uid, gid;
  uint32_t *groups;
  size_t n_groups;
  char *root;             /* "initramfs" or /dev/vdX */
  char *rootfstype;
  char **modules;         /* NULL-terminated */
  /* Backing store: every string above points into it. */
  char *buf;
};

/* Parses len bytes of data (copied).  On failure returns -1 and writes a
 * message naming the record to errbuf. */
int agent_config_parse (const char *data, size_t len, struct agent_config *ret, char *errbuf,
                        size_t errlen);
void agent_config_free (struct agent_config *c);

#endif
