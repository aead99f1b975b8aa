/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire between arca's guest agent (src/cli/guest-agent) and the engine
 * (engine/vm-relay.c) for `arca run --vm`: header-only, no dependencies, as
 * the static agent includes it too.
 *
 * The agent owns the guest's serial port (set raw) and writes frames:
 *
 *   0xF5, type, length (2 bytes, big endian, <= ARCA_VM_FRAME_MAX),
 *   payload, 0xFA
 *
 * types: 'o' stdout bytes, 'e' stderr bytes, 'E' an agent error (text),
 * 'x' the command's exit status (1 byte, 0-255; 128 + signal), 'r' ready
 * (no payload: the serial port is raw, the host may send frames), 'a' an
 * acknowledgement of stdin bytes (4 bytes, big endian: how many more
 * bytes of 'i' frames the agent has passed on to the command or dropped).
 * Anything outside a well-formed frame is the guest kernel's console
 * output.
 *
 * The host writes frames of the same shape to the serial input (arca-vmm's
 * stdin), only after the 'r' frame (before it the guest tty is still
 * cooked and would echo them), and only with -i, -t or -d:
 *   'i' stdin bytes (1..ARCA_VM_FRAME_MAX); the host keeps at most
 *       ARCA_VM_STDIN_WINDOW bytes unacknowledged, so the guest's tty
 *       buffers never overflow and the agent's buffer stays bounded
 *   'c' stdin is closed (no payload): the agent closes the command's stdin
 *       once what it holds is written (with a tty: sends the EOF character)
 *   'w' window size (4 bytes: rows, columns, each 2 bytes big endian),
 *       only with a tty
 *   'k' a signal for the command (1 byte, 1-64): `arca kill`/`arca stop`
 *       of a detached run (run --vm -d); the agent kill()s the command's
 *       process with it, or drops it once the command has exited
 * The agent checks every frame (start byte, known type, length for the
 * type, end byte); a malformed one is dropped and the parser waits for the
 * next start byte.  Neither side trusts the other's counts: an ack for
 * more than was sent is ignored, stdin beyond the window is dropped.
 *
 * The agent's configuration (/arca/config in the initramfs) is a sequence
 * of NUL-terminated "key=value" records, "version=1" first:
 *   arg=      one per argv element, in order (at least one)
 *   env=      KEY=VALUE, one per variable
 *   cwd=      absolute working directory (default /)
 *   hostname= 1-64 of [A-Za-z0-9.-]
 *   uid=, gid=  decimal (default 0); group= a supplementary gid
 *   root=     "initramfs" (the image is /rootfs in the initramfs) or a
 *             block device /dev/vd[a-z] holding rootfstype= (ext4),
 *             mounted read-only under a tmpfs overlay
 *   module=   a kernel module /arca/modules/NAME.ko loaded first, in order
 *   stdin=    "1": the command's stdin comes from 'i' frames (-i); else
 *             /dev/null (or the tty)
 *   tty=      ROWSxCOLS (each 0-65535): the command runs on a new pty of
 *             that window size as its controlling terminal, stdout and
 *             stderr both on it (-t)
 * The network (all absent: no NIC, lo only):
 *   address=  A.B.C.D/N of the NIC whose MAC is mac= (which becomes eth0)
 *   mac=      XX:XX:XX:XX:XX:XX, unicast; required with address=
 *   gateway=  A.B.C.D in address's subnet: the default route (none: no route)
 *   dns=      A.B.C.D, a nameserver line of /etc/resolv.conf, in order
 *   search=   a search domain of /etc/resolv.conf
 *   host=     "A.B.C.D NAME [ALIAS...]", a line of /etc/hosts
 */
#ifndef ARCA_ENGINE_VM_PROTO_H
#define ARCA_ENGINE_VM_PROTO_H

#include <stdbool.h>
#include <string.h>

#define ARCA_VM_NAME_MAX 64

/* A host name (1-64 of [A-Za-z0-9.-], not starting with '-' or '.'), or
 * with with_underscore a name on a hosts line (container names may have
 * '_').  One rule for the engine, which leaves out what the agent would
 * refuse, and for the agent, which validates what it is given. */
static inline bool
arca_vm_name_valid (const char *s, bool with_underscore)
{
  size_t n = strlen (s);

  if (n == 0 || n > ARCA_VM_NAME_MAX || *s == '-' || *s == '.')
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '-' || *s == '.' || (with_underscore && *s == '_')))
      return false;
  return true;
}

#define ARCA_VM_FRAME_START 0xF5
#define ARCA_VM_FRAME_END 0xFA
#define ARCA_VM_FRAME_MAX 1024
#define ARCA_VM_FRAME_STDOUT 'o'
#define ARCA_VM_FRAME_STDERR 'e'
#define ARCA_VM_FRAME_ERROR 'E'
#define ARCA_VM_FRAME_EXIT 'x'
#define ARCA_VM_FRAME_READY 'r'
#define ARCA_VM_FRAME_ACK 'a'
/* host -> guest */
#define ARCA_VM_FRAME_STDIN 'i'
#define ARCA_VM_FRAME_STDIN_EOF 'c'
#define ARCA_VM_FRAME_WINSIZE 'w'
#define ARCA_VM_FRAME_SIGNAL 'k'
#define ARCA_VM_SIGNAL_MAX 64
#define ARCA_VM_STDIN_WINDOW 16384
/* The longest frame: start, type, 2 length bytes, payload, end. */
#define ARCA_VM_FRAME_WIRE_MAX (ARCA_VM_FRAME_MAX + 5)

#define ARCA_VM_CONFIG_PATH "/arca/config"
#define ARCA_VM_CONFIG_MAX (1024 * 1024)
#define ARCA_VM_CONFIG_MAX_ARGS 4096
#define ARCA_VM_CONFIG_MAX_ENV 4096
#define ARCA_VM_CONFIG_MAX_GROUPS 64
#define ARCA_VM_CONFIG_MAX_MODULES 64
#define ARCA_VM_CONFIG_MAX_DNS 8
#define ARCA_VM_CONFIG_MAX_SEARCH 6
#define ARCA_VM_CONFIG_MAX_HOSTS 256

/* Port of arca-vmm's debug-exit device: the low byte written there is
 * arca-vmm's exit status. */
#define ARCA_VM_DEBUG_EXIT_PORT 0x501

#endif
