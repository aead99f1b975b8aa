#!/usr/bin/env python3
"""A stand-in for arca-vmm and the guest agent for `arca run --vm -d` tests
on a host without KVM: ARCA_VMM_PATH=tests/vm-linux/agent-vmm.py.

It runs the run's command (the arg=/env= records of agent.conf beside the
--initrd it is given) on the host, plays the agent's side of the serial
frames (src/lib/engine/vm-proto.h): 'r' first, the command's stdout and
stderr as 'o'/'e' frames, its exit status as 'x' (128 + signal when
killed); a 'k' frame from the host (arca kill/stop) is kill()ed to the
command.  SIGTERM (arca-vmm's clean stop: a power-off) ends it and the
command without an 'x' frame.  The command dies with it in any case."""
import ctypes
import os
import select
import signal
import subprocess
import sys

out = sys.stdout.buffer


def frame(t, data=b""):
    out.write(bytes([0xF5, ord(t), len(data) >> 8, len(data) & 0xFF]) + data + b"\xFA")
    out.flush()


def config():
    initrd = sys.argv[sys.argv.index("--initrd") + 1]
    with open(os.path.join(os.path.dirname(initrd), "agent.conf"), "rb") as f:
        recs = [r.decode() for r in f.read().split(b"\0") if r]
    args = [r[4:] for r in recs if r.startswith("arg=")]
    env = dict(r[4:].split("=", 1) for r in recs if r.startswith("env="))
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return args, env


def die_with_us():
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main():
    args, env = config()
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=die_with_us, start_new_session=True)

    def power_off(*_):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, power_off)
    frame("r")
    fds = {proc.stdout.fileno(): "o", proc.stderr.fileno(): "e"}
    serial = sys.stdin.fileno()
    buf = b""
    quiet = 0
    while fds:
        # As the agent: once the command exited, 200 ms without output end
        # the run (a background process may hold the pipes; the VM's end
        # kills it).
        exited = proc.poll() is not None
        ready, _, _ = select.select(list(fds) + ([serial] if serial is not None else []), [], [],
                                    0.05 if exited else None)
        if exited and not ready:
            quiet += 1
            if quiet >= 4:
                break
        for fd in ready:
            if fd == serial:
                data = os.read(fd, 4096)
                if not data:
                    serial = None
                    continue
                buf += data
                while len(buf) >= 5 and buf[0] == 0xF5:
                    n = buf[2] << 8 | buf[3]
                    if len(buf) < n + 5:
                        break
                    t, payload, buf = chr(buf[1]), buf[4:4 + n], buf[5 + n:]
                    if t == "k" and n == 1 and proc.poll() is None:
                        os.kill(proc.pid, payload[0])
                continue
            data = os.read(fd, 1024)
            if data:
                frame(fds[fd], data)
            else:
                del fds[fd]
    code = proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    frame("x", bytes([128 - code if code < 0 else code & 0xFF]))


main()
