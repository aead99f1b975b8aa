/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca: the Docker/Podman-style engine command line over libarca. */
#ifndef ARCA_CLI_ENGINE_CLI_H
#define ARCA_CLI_ENGINE_CLI_H

#include <jansson.h>

#include "engine/engine.h"
#include "util/error.h"
#include "util/log.h"

struct cli {
  const char *root, *run_root;
  struct arca_log log;
  struct arca_engine *engine;   /* opened on first use */
  char **argv, **envp;          /* ours, for the runtime's sealed re-exec */
};

typedef int (*cli_command_fn) (struct cli *cli, int argc, char **argv, arca_error **err);

/* Opens the engine (store, database) on first use. */
int cli_engine (struct cli *cli, struct arca_engine **ret, arca_error **err);

/* arca-init: $ARCA_INIT_PATH, beside us, or in libexec (--init, pod infra). */
int cli_find_init (char **ret, arca_error **err);

/* Prints a JSON value as the --format json and inspect commands do
 * (indented, one trailing newline); the caller keeps its reference. */
void cli_print_json (json_t *value);

/* --format TEMPLATE (cli-format.c): one rendered line per item of the
 * array (inspect). */
int cli_format_each (const char *format, json_t *items, arca_error **err);
/* For lists (ps, images): TEMPLATE renders each row; "table TEMPLATE" adds
 * a header (the template over headers, an object of the fields' column
 * names) and aligns the tab-separated columns. */
int cli_format_table (const char *format, json_t *rows, json_t *headers, arca_error **err);

/* A growing NULL-terminated string vector. */
int cli_strv_push (char ***v, const char *s, arca_error **err);

int cmd_images (struct cli *, int, char **, arca_error **);
int cmd_load (struct cli *, int, char **, arca_error **);
int cmd_save (struct cli *, int, char **, arca_error **);
int cmd_import (struct cli *, int, char **, arca_error **);
int cmd_rmi (struct cli *, int, char **, arca_error **);
int cmd_tag (struct cli *, int, char **, arca_error **);
int cmd_run (struct cli *, int, char **, arca_error **);
int cmd_create (struct cli *, int, char **, arca_error **);
int cmd_start (struct cli *, int, char **, arca_error **);
int cmd_attach (struct cli *, int, char **, arca_error **);
/* --detach-keys (NULL: ctrl-p,ctrl-q) parsed into buf
 * (ARCA_DETACH_KEYS_MAX), our stdio as the attach fds. */
struct arca_attach_options;
int cli_attach_options (const char *keys, bool send_stdin, unsigned char *buf,
                        struct arca_attach_options *ret, arca_error **err);
int cmd_stop (struct cli *, int, char **, arca_error **);
int cmd_kill (struct cli *, int, char **, arca_error **);
int cmd_rm (struct cli *, int, char **, arca_error **);
int cmd_ps (struct cli *, int, char **, arca_error **);
int cmd_logs (struct cli *, int, char **, arca_error **);
int cmd_wait (struct cli *, int, char **, arca_error **);
int cmd_inspect (struct cli *, int, char **, arca_error **);
int cmd_port (struct cli *, int, char **, arca_error **);
int cmd_exec (struct cli *, int, char **, arca_error **);
int cmd_cleanup (struct cli *, int, char **, arca_error **);
int cmd_volume (struct cli *, int, char **, arca_error **);
int cmd_system (struct cli *, int, char **, arca_error **);
int cmd_image (struct cli *, int, char **, arca_error **);
int cmd_cp (struct cli *, int, char **, arca_error **);
int cmd_diff (struct cli *, int, char **, arca_error **);
int cmd_export (struct cli *, int, char **, arca_error **);
int cmd_top (struct cli *, int, char **, arca_error **);
int cmd_stats (struct cli *, int, char **, arca_error **);
int cmd_pause (struct cli *, int, char **, arca_error **);
int cmd_unpause (struct cli *, int, char **, arca_error **);
int cmd_update (struct cli *, int, char **, arca_error **);
int cmd_rename (struct cli *, int, char **, arca_error **);
int cmd_network_attach (struct cli *, int, char **, arca_error **);
int cmd_pod (struct cli *, int, char **, arca_error **);
int cmd_build (struct cli *, int, char **, arca_error **);
int cmd_commit (struct cli *, int, char **, arca_error **);
int cmd_pull (struct cli *, int, char **, arca_error **);
int cmd_push (struct cli *, int, char **, arca_error **);
int cmd_restart (struct cli *, int, char **, arca_error **);
int cmd_history (struct cli *, int, char **, arca_error **);
int cmd_image_inspect (struct cli *, int, char **, arca_error **);
int cmd_image_group (struct cli *, int, char **, arca_error **);
int cmd_container_group (struct cli *, int, char **, arca_error **);
int cmd_vm (struct cli *, int, char **, arca_error **);
int cmd_network (struct cli *, int, char **, arca_error **);
int cmd_container_prune (struct cli *, int, char **, arca_error **);

#endif
