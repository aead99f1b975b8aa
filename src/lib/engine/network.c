/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "engine/network.h"
#include "engine/network-bridge.h"
#include "util/cleanup.h"

static const struct arca_network_driver drivers[] = {
  { .name = "none" },
  { .name = "host" },
  { .name = "bridge", .attach = arca_bridge_attach, .detach = arca_bridge_detach },
};

const struct arca_network_driver *
arca_network_driver_find (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (drivers); i++)
    if (strcmp (drivers[i].name, name) == 0)
      return &drivers[i];
  return NULL;
}
