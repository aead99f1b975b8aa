#!/usr/bin/env python3
"""A stand-in for arca-vmm that runs no guest: it plays the guest agent's
side of the serial frames (src/lib/engine/vm-proto.h) so that the host side
of `arca run --vm -i/-t` (the relay, flow control, raw mode, window sizes)
is tested in a moment: ARCA_VMM_PATH=tests/vm-linux/echo-vmm.py.

It sends 'r', then answers each frame of its stdin (arca-vmm's serial
input): 'i' bytes come back as stdout ('o'), a window size 'w' as the line
"winsize ROWS COLS", and 'c' (or a lone ctrl-D byte, as a shell on a tty would
take it) ends the run with exit status $ECHO_VMM_EXIT (default 0) after the
line "eof".  It holds its acknowledgements until a
whole window (16384 bytes) is outstanding, then checks that the host sends
nothing more before it acknowledges: a host that does sends an 'E' frame
("window exceeded") and exits.  A malformed frame from the host is an 'E'
frame too.  With $ECHO_VMM_AT_ONCE it exits 0 right after 'r'."""
import os
import select
import sys

WINDOW = 16384
out = sys.stdout.buffer


def frame(t, data=b""):
    out.write(bytes([0xF5, ord(t), len(data) >> 8, len(data) & 0xFF]) + data + b"\xFA")
    out.flush()


def fail(msg):
    frame("E", msg.encode())
    sys.exit(1)


def main():
    frame("r")
    if os.environ.get("ECHO_VMM_AT_ONCE"):
        frame("x", b"\0")
        return
    buf = b""
    unacked = 0
    fd = sys.stdin.fileno()
    while True:
        data = os.read(fd, 65536)
        if not data:
            fail("stdin closed without a 'c' frame")
        buf += data
        while len(buf) >= 4:
            if buf[0] != 0xF5:
                fail("byte %#x outside a frame" % buf[0])
            t, n = chr(buf[1]), buf[2] << 8 | buf[3]
            if len(buf) < n + 5:
                break
            payload, end, buf = buf[4:4 + n], buf[4 + n], buf[5 + n:]
            if end != 0xFA:
                fail("frame without its end byte")
            if t == "i" and payload == b"\x04":
                frame("o", b"eof\n")
                frame("x", bytes([int(os.environ.get("ECHO_VMM_EXIT", "0"))]))
                return
            if t == "i" and 1 <= n <= 1024:
                frame("o", payload)
                unacked += n
                if unacked > WINDOW:
                    fail("window exceeded: %d bytes unacknowledged" % unacked)
                if unacked == WINDOW:
                    # The host must wait for our acknowledgement now.
                    if not buf and select.select([fd], [], [], 0.3)[0]:
                        more = os.read(fd, 65536)
                        if more:
                            fail("window exceeded: the host sent %d bytes more" % len(more))
                    frame("a", unacked.to_bytes(4, "big"))
                    unacked = 0
            elif t == "w" and n == 4:
                frame("o", b"winsize %d %d\n" % (payload[0] << 8 | payload[1], payload[2] << 8 | payload[3]))
            elif t == "c" and n == 0:
                if unacked:
                    frame("a", unacked.to_bytes(4, "big"))
                frame("o", b"eof\n")
                frame("x", bytes([int(os.environ.get("ECHO_VMM_EXIT", "0"))]))
                return
            else:
                fail("bad frame %r of %d bytes" % (t, n))
        # A short write (less than the window) is acknowledged once read.
        if unacked and not buf and not select.select([fd], [], [], 0.05)[0]:
            frame("a", unacked.to_bytes(4, "big"))
            unacked = 0


main()
