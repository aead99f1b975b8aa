/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach socket of a container's monitor (conmon's attach socket):
 * `attach.sock` in the container's directory, SOCK_SEQPACKET, one message
 * per packet, its first byte the type.
 *
 *   monitor -> client   'h' flags (ARCA_ATTACH_TTY, ARCA_ATTACH_STDIN), first
 *                       'o' stdout bytes   'e' stderr bytes (a tty has only 'o')
 *                       'f' text: the program could not start
 *                       'x' int32 exit code, last
 *   client -> monitor   'i' stdin bytes    'c' our stdin is closed
 *                       'w' uint16 rows, uint16 cols: the window size
 *                       'g' ready: a monitor waiting for its first client
 *                           (`run -it`, `start -a`) starts the program now
 *
 * This file has no dependency beyond util/: arca-monitor links it. */
#ifndef ARCA_ENGINE_ATTACH_H
#define ARCA_ENGINE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define ARCA_ATTACH_SOCKET "attach.sock"
#define ARCA_ATTACH_MAX_PACKET 8193 /* type byte + 8 KiB */

enum {
  ARCA_ATTACH_TTY = 1,
  ARCA_ATTACH_STDIN = 2,
};

/* Binds and listens on dir/attach.sock (through /proc/self/fd, so a long
 * directory path does not matter).  Returns the listening fd. */
int arca_attach_listen (const char *dir, arca_error **err);
/* Connects to dir/attach.sock.  Returns the connected fd. */
int arca_attach_connect (const char *dir, arca_error **err);

/* Docker's --detach-keys: comma-separated keys, each one character or
 * "ctrl-X" (X in a-z, @, [, \, ], ^, _).  "" disables detaching. */
#define ARCA_DETACH_KEYS_MAX 16
int arca_attach_parse_keys (const char *spec, unsigned char *ret_keys, size_t *ret_len,
                            arca_error **err);

struct arca_attach_options {
  bool send_stdin;              /* false: --no-stdin */
  const unsigned char *detach_keys;
  size_t n_detach_keys;         /* 0: no detaching */
  int in_fd, out_fd, err_fd;
  bool send_ready;              /* send 'g' after the window size */
};

/* Relays between our fds and the monitor on sock until the container
 * exits (*ret_exited true, *ret_exit_code), the user typed the detach keys
 * (*ret_detached) or the monitor went away (neither).  A terminal in_fd is
 * put in raw mode meanwhile when the container has a tty; SIGWINCH sends
 * the new size. */
int arca_attach_relay (int sock, const struct arca_attach_options *o, bool *ret_exited,
                       int *ret_exit_code, bool *ret_detached, arca_error **err);

/* ---- the engine's side (containers.c) ----------------------------------- */

struct arca_engine;

/* `arca attach`: a running container's monitor relays its terminal or
 * stdio to o's fds.  *ret_exit_code is the container's when it exited
 * meanwhile (not *ret_detached). */
int arca_engine_attach (struct arca_engine *e, const char *name_or_id,
                        const struct arca_attach_options *o, int *ret_exit_code,
                        bool *ret_detached, arca_error **err);

/* `run -it`, `start -a`: starts a created container with a monitor that
 * runs its program only once we are attached, so no output is missed. */
int arca_engine_start_attach (struct arca_engine *e, const char *name_or_id,
                              const struct arca_attach_options *o, int *ret_exit_code,
                              bool *ret_detached, arca_error **err);

#endif
