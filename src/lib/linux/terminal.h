/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pseudo-terminals and passing fds over unix sockets (--console-socket). */
#ifndef ARCA_LINUX_TERMINAL_H
#define ARCA_LINUX_TERMINAL_H

#include <stdbool.h>

#include "util/error.h"

/* Opens a new pty pair from the current root's /dev/ptmx (so inside a
 * container it is the container's devpts).  Both fds are O_CLOEXEC. */
int arca_pty_open (unsigned rows, unsigned cols, int *ret_master, int *ret_slave, arca_error **err);

/* setsid + TIOCSCTTY on slave, then slave becomes fds 0, 1 and 2. */
int arca_pty_become_controlling (int slave, arca_error **err);

/* Connects to a --console-socket path. */
int arca_unix_connect (const char *path, arca_error **err);

/* Sends one fd (SCM_RIGHTS) with a short payload; receives one. */
int arca_fd_send (int sock, int fd, const char *payload, arca_error **err);
int arca_fd_recv (int sock, int *ret_fd, arca_error **err);

/* Copies between our stdin/stdout and the pty master until the master hangs
 * up; puts our terminal (if stdin is one) in raw mode meanwhile and forwards
 * window size changes. */
int arca_pty_proxy (int master, arca_error **err);

#endif
