/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "engine/network.h"
#include "engine/network-bridge.h"
#include "engine/network-user.h"
#include "util/cleanup.h"

/* The default bridge (eth0 on arca0) plus any user network the container
 * was connected to (eth1, ...). */
static int
bridge_attach (struct arca_engine *e, const char *id, pid_t init_pid, arca_error **err)
{
  if (arca_bridge_attach (e, id, init_pid, err) < 0)
    return -1;
  if (arca_user_networks_attach (e, id, init_pid, false, err) == 0)
    return 0;
  cleanup_error arca_error *ignored = NULL;
  arca_bridge_detach (e, id, &ignored);
  return -1;
}

static int
bridge_detach (struct arca_engine *e, const char *id, arca_error **err)
{
  /* The bridge's first: it releases the published ports of its table. */
  int r = arca_bridge_detach (e, id, err);
  return arca_user_networks_detach (e, id, false, err) < 0 ? -1 : r;
}

/* `--network NAME`: the first user network is eth0 with the default route
 * and the published ports. */
static int
user_attach (struct arca_engine *e, const char *id, pid_t init_pid, arca_error **err)
{
  return arca_user_networks_attach (e, id, init_pid, true, err);
}

static int
user_detach (struct arca_engine *e, const char *id, arca_error **err)
{
  return arca_user_networks_detach (e, id, true, err);
}

static const struct arca_network_driver drivers[] = {
  { .name = "none" },
  { .name = "host" },
  { .name = "container" }, /* another container's namespace: its owner attaches it */
  { .name = "bridge", .attach = bridge_attach, .detach = bridge_detach },
  { .name = "user", .attach = user_attach, .detach = user_detach },
};

const struct arca_network_driver *
arca_network_driver_find (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (drivers); i++)
    if (strcmp (drivers[i].name, name) == 0)
      return &drivers[i];
  return NULL;
}
