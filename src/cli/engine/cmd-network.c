/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network commands: `arca port`. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/network-bridge.h"
#include "util/cleanup.h"

int
cmd_port (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_engine *e;
  cleanup_free struct arca_nft_port *ports = NULL;
  size_t n = 0;

  if (argc < 2 || argc > 3 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      if (argc == 2)
        return fputs ("Usage: arca port CONTAINER [PORT[/tcp|udp]]\n", stdout), 0;
      return arca_error_set (err, EINVAL, "port: usage: arca port CONTAINER [PORT[/tcp|udp]]"),
             125;
    }
  if (cli_engine (cli, &e, err) < 0 || arca_engine_ports (e, argv[1], &ports, &n, err) < 0)
    return 125;
  /* PORT filters like Docker's: "80" means 80/tcp. */
  unsigned want = 0;
  const char *want_proto = "tcp";
  if (argc == 3)
    {
      want = (unsigned) strtoul (argv[2], NULL, 10);
      const char *slash = strchr (argv[2], '/');
      if (slash)
        want_proto = slash + 1;
    }
  size_t shown = 0;
  for (size_t i = 0; i < n; i++)
    {
      char hip[INET_ADDRSTRLEN];
      if (want && (ports[i].container_port != want || strcmp (ports[i].proto, want_proto) != 0))
        continue;
      inet_ntop (AF_INET, &ports[i].host_ip, hip, sizeof hip);
      if (want)
        printf ("%s:%u\n", hip, ports[i].host_port);
      else
        printf ("%u/%s -> %s:%u\n", ports[i].container_port, ports[i].proto, hip,
                ports[i].host_port);
      shown++;
    }
  if (want && shown == 0)
    return arca_error_set (err, ENOENT, "no public port `%s` published for %s", argv[2], argv[1]),
           1;
  return 0;
}
