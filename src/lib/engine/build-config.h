/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Containerfile instructions that only change an image's config (ENV,
 * CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, VOLUME, LABEL, SHELL,
 * STOPSIGNAL), applied to the OCI "config" object.  Shared by the builder
 * and `arca commit --change`. */
#ifndef ARCA_ENGINE_BUILD_CONFIG_H
#define ARCA_ENGINE_BUILD_CONFIG_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/containerfile.h"
#include "util/error.h"

/* Applies ins to config.  lookup expands variables (NULL: config's Env
 * only).  cmd_set (may be NULL) tracks whether this stage set CMD: an
 * ENTRYPOINT drops an inherited CMD, as Docker does. */
int arca_build_config_apply (json_t *config, const struct arca_cf_instruction *ins, char escape,
                             arca_cf_lookup_fn lookup, void *userdata, bool *cmd_set,
                             arca_error **err);

/* One instruction line ("CMD [\"sh\"]"), for `arca commit --change`. */
int arca_build_config_change (json_t *config, const char *line, arca_error **err);

/* The value of NAME in config's Env, or NULL. */
const char *arca_build_config_env (json_t *config, const char *name, size_t len);

/* The command of a shell-form RUN/CMD/ENTRYPOINT: config's Shell (default
 * /bin/sh -c) plus the command line; exec form: the arguments.  A new
 * NULL-terminated vector. */
int arca_build_command (json_t *config, const struct arca_cf_instruction *ins, char ***ret,
                        arca_error **err);

/* Sets NAME=VALUE (kv) in a JSON array of KEY=VALUE strings. */
void arca_build_env_set (json_t *env, const char *kv);

#endif
