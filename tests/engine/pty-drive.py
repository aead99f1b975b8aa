#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal and plays a script against it.

Usage: pty-drive.py SCRIPT -- COMMAND...
SCRIPT is a file with one step a line:
  send TEXT        type TEXT (\\r, \\n, \\xNN escapes)
  expect TEXT      wait (10 s at most, $PTY_DRIVE_TIMEOUT if set) until TEXT appeared in the output since
                   the last expect; fails otherwise
  resize ROWS COLS change the terminal's window size (the kernel sends SIGWINCH)
  sleep SECONDS
Prints everything the command wrote to stderr at the end, and exits with the
command's exit status (or 100 + a reason: 101 an expect timed out, 102 the
command did not exit)."""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time


def main():
    sep = sys.argv.index("--")
    script = open(sys.argv[1]).read().splitlines()
    cmd = sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    pos = 0
    limit = float(os.environ.get("PTY_DRIVE_TIMEOUT", "10"))

    def read_some(timeout):
        nonlocal seen
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        seen += data
        return True

    def finish(code):
        sys.stderr.write(seen.decode(errors="replace"))
        sys.exit(code)

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    for line in script:
        if not line.strip():
            continue
        op, _, arg = line.partition(" ")
        if op == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif op == "expect":
            want = arg.encode()
            deadline = time.time() + limit
            while want not in seen[pos:]:
                if time.time() > deadline or not read_some(0.1):
                    if want in seen[pos:]:
                        break
                    sys.stderr.write("expect %r timed out\n" % arg)
                    finish(101)
            pos = seen.index(want, pos) + len(want)
        elif op == "resize":
            rows, cols = (int(x) for x in arg.split())
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif op == "sleep":
            time.sleep(float(arg))
    deadline = time.time() + limit
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            while read_some(0.05):
                pass
            finish(os.waitstatus_to_exitcode(status))
        read_some(0.05)
    os.kill(pid, 9)
    finish(102)


main()
