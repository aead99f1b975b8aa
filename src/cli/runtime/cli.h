/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-runtime: the runc/crun-compatible command line over libarca.  Each
 * command parses its flags, calls the library and prints; nothing else. */
#ifndef ARCA_CLI_RUNTIME_CLI_H
#define ARCA_CLI_RUNTIME_CLI_H

#include <stdbool.h>

#include "container/container.h"
#include "util/error.h"
#include "util/log.h"

struct cli {
  struct arca_runtime rt;
  struct arca_log log;
  const char *command;
};

/* A command: returns the process exit status; on failure *err is set and
 * the status is 1 (run/exec return the container process's status). */
typedef int (*cli_command_fn) (struct cli *cli, int argc, char **argv, arca_error **err);

int cmd_create (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_run (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_start (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_state (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_list (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_ps (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_kill (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_delete (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_pause (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_resume (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_update (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_exec (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_spec (struct cli *cli, int argc, char **argv, arca_error **err);
int cmd_features (struct cli *cli, int argc, char **argv, arca_error **err);

/* Shared flag helpers. */

/* Prints text (a command's --help) and returns 0. */
int cli_help (const char *text);
/* Requires exactly n positional arguments after the options. */
int cli_positional (int argc, char **argv, int first, int n, const char *usage, arca_error **err);
/* "KILL", "SIGKILL", "kill", "9" -> 9; -1 when unknown. */
int cli_parse_signal (const char *text);
/* Unsigned decimal with an optional k/m/g suffix (binary units). */
int cli_parse_size (const char *flag, const char *text, int64_t *ret, arca_error **err);
int cli_parse_uint (const char *flag, const char *text, uint64_t max, uint64_t *ret,
                    arca_error **err);
/* Reads a whole file, "-" is stdin. */
int cli_read_input (const char *flag, const char *path, char **ret_text, size_t *ret_len,
                    arca_error **err);
/* --preserve-fds N plus systemd's LISTEN_FDS (which runc honours too). */
unsigned cli_preserve_fds (unsigned flag_value);

#endif
