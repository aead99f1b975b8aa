/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network modes of engine containers.  A mode attaches a container between
 * create and start (its init waits in its own network namespace; see
 * arca_monitor_options.before_start) and detaches it when the container is
 * cleaned up or removed.  "none" (a private namespace with lo up, which the
 * runtime does) and "host" (no namespace) need no work; the bridge mode of
 * issue 4 (veth + IPAM + NAT) is another entry in the table. */
#ifndef ARCA_ENGINE_NETWORK_H
#define ARCA_ENGINE_NETWORK_H

#include <sys/types.h>

#include "util/error.h"

struct arca_engine;

struct arca_network_driver {
  const char *name;
  int (*attach) (struct arca_engine *e, const char *id, pid_t init_pid, arca_error **err);
  int (*detach) (struct arca_engine *e, const char *id, arca_error **err);
};

/* NULL when there is no such mode. */
const struct arca_network_driver *arca_network_driver_find (const char *name);

#endif
