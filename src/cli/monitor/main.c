/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-monitor: the per-container monitor as its own small program (the
 * engine starts it; see src/lib/engine/monitor.h). */
#include "engine/monitor.h"

int
main (int argc, char **argv)
{
  arca_monitor_exec_main (argc, argv);
}
