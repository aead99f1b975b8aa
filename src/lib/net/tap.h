/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tap devices for VMs on a bridge: made persistent, so the VMM attaches to
 * it by name (TUNSETIFF) while its creator keeps it in its records and
 * deletes it (arca_nl_link_del) when the VM is gone. */
#ifndef ARCA_NET_TAP_H
#define ARCA_NET_TAP_H

#include "util/error.h"

/* Creates persistent tap `name` (IFF_TAP | IFF_NO_PI, as arca-vmm's
 * virtio-net opens it: it writes the virtio header itself, so no
 * IFF_VNET_HDR).  EEXIST when a link of that name exists. */
int arca_tap_create (const char *name, arca_error **err);

#endif
