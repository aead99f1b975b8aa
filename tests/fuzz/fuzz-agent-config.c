/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the guest agent's configuration parser
 * (src/cli/guest-agent/config.c), which reads what the host put in the
 * guest's initramfs.  Besides crashes and sanitizer reports, a parsed
 * result must keep the parser's promises (checked below). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/vm-proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int cond)
{
  if (!cond)
    abort ();
}

static size_t
count (char **v, size_t max)
{
  size_t n = 0;

  for (; v[n]; n++)
    check (strlen (v[n]) < ARCA_VM_CONFIG_MAX);
  check (n <= max);
  return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct agent_config c;
  char msg[256];

  if (agent_config_parse ((const char *) data, size, &c, msg, sizeof msg) < 0)
    {
      check (memchr (msg, '\0', sizeof msg) != NULL && msg[0] != '\0');
      return 0;
    }
  check (count (c.argv, ARCA_VM_CONFIG_MAX_ARGS) >= 1 && c.argv[0][0] != '\0');
  count (c.env, ARCA_VM_CONFIG_MAX_ENV);
  for (size_t i = 0; c.env[i]; i++)
    check (strchr (c.env[i], '=') != NULL && c.env[i][0] != '=');
  count (c.modules, ARCA_VM_CONFIG_MAX_MODULES);
  for (size_t i = 0; c.modules[i]; i++)
    check (strchr (c.modules[i], '/') == NULL && strchr (c.modules[i], '.') == NULL);
  check (c.cwd[0] == '/');
  check (c.n_groups <= ARCA_VM_CONFIG_MAX_GROUPS);
  check (c.uid != UINT32_MAX && c.gid != UINT32_MAX);
  check (strcmp (c.root, "initramfs") == 0 || strncmp (c.root, "/dev/vd", 7) == 0);
  check (c.hostname == NULL || (strlen (c.hostname) >= 1 && strlen (c.hostname) <= 64));
  /* The network: records only with a NIC; every /etc line the agent writes
   * is one line with its address first. */
  check (c.has_net ? c.prefix >= 1 && c.prefix <= 32 && !(c.mac[0] & 1) : c.gateway.s_addr == 0);
  count (c.dns, ARCA_VM_CONFIG_MAX_DNS);
  count (c.search, ARCA_VM_CONFIG_MAX_SEARCH);
  check (c.has_net || (c.dns[0] == NULL && c.search[0] == NULL));
  count (c.hosts, ARCA_VM_CONFIG_MAX_HOSTS);
  for (size_t i = 0; c.hosts[i]; i++)
    check (strchr (c.hosts[i], ' ') != NULL && strpbrk (c.hosts[i], "\n\t#") == NULL);
  agent_config_free (&c);
  return 0;
}
