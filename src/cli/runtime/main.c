/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include "arca-config.h"
int main (void) { printf ("arca-runtime %s\n", ARCA_VERSION); return 0; }
