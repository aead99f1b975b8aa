/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest agent's configuration (format in engine/vm-proto.h): parsed
 * and validated before anything uses it, since it is input. */
#ifndef ARCA_GUEST_AGENT_CONFIG_H
#define ARCA_GUEST_AGENT_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
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
  bool stdin_frames;      /* stdin= : the command's stdin comes from the host */
  bool tty;               /* tty= : the command runs on a pty of this size */
  unsigned rows, cols;
  /* The network: has_net false means no NIC (lo only). */
  bool has_net;
  struct in_addr address; /* of the NIC whose MAC is mac, as eth0 */
  unsigned prefix;        /* 1..32 */
  uint8_t mac[6];
  struct in_addr gateway; /* s_addr 0: no default route */
  char **dns;             /* NULL-terminated dotted quads */
  char **search;          /* NULL-terminated domains */
  char **hosts;           /* NULL-terminated "ADDR NAME [ALIAS...]" lines */
  /* Backing store: every string above points into it. */
  char *buf;
};

/* Parses len bytes of data (copied).  On failure returns -1 and writes a
 * message naming the record to errbuf. */
int agent_config_parse (const char *data, size_t len, struct agent_config *ret, char *errbuf,
                        size_t errlen);
void agent_config_free (struct agent_config *c);

#endif
