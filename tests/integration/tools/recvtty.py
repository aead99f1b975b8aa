#!/usr/bin/env python3
"""Console-socket receiver for `--console-socket` tests.

Usage: recvtty.py SOCKET OUTFILE [INPUT]
Listens on the unix socket SOCKET, accepts one connection, receives the pty master sent
with SCM_RIGHTS, optionally writes INPUT to it, then copies everything the master yields to
OUTFILE until the slave side is closed (EIO) and exits 0. Exits 2 if no fd arrived.
"""
import array
import os
import socket
import sys


def main():
    path, outfile = sys.argv[1], sys.argv[2]
    data_in = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    fds = array.array("i")
    _, ancdata, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    conn.close()
    srv.close()
    if not fds:
        print("recvtty: no file descriptor received", file=sys.stderr)
        return 2
    master = fds[0]
    with open(outfile + ".info", "w") as f:
        f.write(os.readlink("/proc/self/fd/%d" % master) + "\n")
    if data_in:
        os.write(master, data_in)
    with open(outfile, "wb") as out:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                break
            if not chunk:
                break
            out.write(chunk)
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
