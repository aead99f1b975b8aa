/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container as `docker inspect` / `podman inspect` show it (inspect.c). */
#ifndef ARCA_ENGINE_INSPECT_H
#define ARCA_ENGINE_INSPECT_H

#include <jansson.h>

#include "engine/engine.h"

/* "created", "running", "paused", "exited": Docker's State.Status words. */
const char *arca_engine_state_name (enum arca_engine_status status);
/* Id, Created, Name, Path, Args, Image, ImageName, State, Config (Docker's:
 * Env, Cmd, WorkingDir, User, Labels, ...), HostConfig, NetworkSettings
 * (IPAddress, Ports, Networks.NAME.{IPAddress, Gateway, MacAddress}), Pod,
 * and OCIConfig (the runtime's config.json). */
int arca_engine_inspect (struct arca_engine *e, const char *name_or_id, json_t **ret,
                         arca_error **err);

#endif
