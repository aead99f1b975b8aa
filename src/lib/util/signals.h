/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef ARCA_UTIL_SIGNALS_H
#define ARCA_UTIL_SIGNALS_H

/* "KILL", "SIGKILL", "kill", "9", "RTMIN+3" -> the signal number; -1 when
 * unknown. */
int arca_signal_parse (const char *text);

#endif
