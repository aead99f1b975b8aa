#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# arca-vmm side by side with QEMU (-M microvm, KVM), same test guest, same
# run.  Prints medians of N runs (default 10):
#   start -> API ready         arca: --api-sock socket accepts; QEMU: QMP greeting
#   first serial byte          from spawn to the guest's first console byte
#   guest exit                 from spawn to the process exiting (boot + checks)
#   boot marker                arca only (QEMU has no boot-marker device)
#   RSS overhead               VMM RSS minus resident guest RAM, idle guest
#   snapshot / restore, 256 MiB guest
#                              arca: PUT /snapshot/create, restore to first
#                              console byte; QEMU: QMP migrate to a file,
#                              -incoming from it to first console byte
#   migration, 256 MiB guest   a guest dirtying 16 pages per tick (dirty=128);
#                              arca: PUT /migrate to an --incoming process on
#                              a unix socket, downtime and total time as the
#                              source reports them; QEMU: QMP migrate to an
#                              -incoming unix: process, downtime-limit 50 ms,
#                              query-migrate's downtime and total-time
# Absolute times on a shared machine mean little: compare the columns.
# usage: bench/vmm.sh [BUILD_DIR] [RUNS]
set -eu
BUILD=${1:-build}
RUNS=${2:-10}
VMM=$BUILD/src/cli/vmm/arca-vmm
ELF=$BUILD/tests/vmm/arca-test-guest.elf
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$VMM" ] || { echo "bench/vmm.sh: build arca-vmm first ($VMM)" >&2; exit 1; }
if [ ! -f "$ELF" ]; then
  ELF=$(mktemp -d)/arca-test-guest.elf
  G=$HERE/../tests/guests
  cc -std=gnu17 -O2 -ffreestanding -nostdlib -static -fno-pie -fno-stack-protector \
    -fcf-protection=none -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables \
    -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments \
    -T "$G/guest.ld" "$G/start.S" "$G/guest.c" "$G/virtio.c" -o "$ELF"
fi
QEMU=$(command -v qemu-system-x86_64 || true)
[ -r /dev/kvm ] || { echo "bench/vmm.sh: needs /dev/kvm" >&2; exit 1; }

exec python3 - "$VMM" "$ELF" "$QEMU" "$RUNS" <<'PY'
import json, os, socket, statistics, subprocess, sys, tempfile, time

VMM, ELF, QEMU, RUNS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tmp = tempfile.mkdtemp(prefix="arca-vmm-bench.")
now = time.monotonic

def qemu_cmd(mem, append, extra=()):
    return [QEMU, "-M", "microvm,x-option-roms=off,rtc=off,isa-serial=on",
            "-accel", "kvm", "-cpu", "host", "-m", str(mem), "-kernel", ELF, "-append", append,
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0x501,iosize=4", "-no-reboot", *extra]

def arca_cmd(mem, append, extra=()):
    return [VMM, "--kernel", ELF, "--memory", str(mem), "--cmdline", append, *extra]

def first_byte_and_exit(cmd):
    """Spawn -> first stdout byte, spawn -> exit (ms)."""
    t0 = now()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    p.stdout.read(1)
    t1 = now()
    out, err = p.communicate(timeout=60)
    t2 = now()
    return (t1 - t0) * 1e3, (t2 - t0) * 1e3, err

def wait_socket(path, greeting=False, timeout=10):
    t_end = now() + timeout
    while now() < t_end:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            if greeting:
                s.recv(4096)           # QMP sends its greeting when ready
            return s
        except OSError:
            s.close()
    raise RuntimeError("socket %s never appeared" % path)

def api_ready(cmd, sock, greeting):
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = now()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    s = wait_socket(sock, greeting)
    t = (now() - t0) * 1e3
    s.close()
    p.kill(); p.wait()
    return t

def rss_overhead_kib(pid, mem_mib):
    """VmRSS minus the resident part of the guest RAM mapping(s)."""
    total = guest = 0
    size = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if "-" in parts[0] and len(parts) >= 5:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                size = (hi - lo) // 1024
            elif parts[0] == "Rss:":
                rss = int(parts[1])
                total += rss
                # the guest RAM mapping: the one of (about) the RAM size
                if size is not None and mem_mib * 1024 <= size <= mem_mib * 1024 + 4096:
                    guest += rss
    return total - guest

def idle_rss(cmd, mem):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p.stdout.readline()                # guest is up
    time.sleep(0.3)
    kib = rss_overhead_kib(p.pid, mem)
    p.kill(); p.wait()
    return kib / 1024

def http(sock_path, method, path, body=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    data = json.dumps(body) if body is not None else ""
    s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (method, path, len(data), data)).encode())
    resp = s.recv(65536).decode()
    s.close()
    return int(resp.split()[1])

def arca_snapshot_restore(mem):
    sock = os.path.join(tmp, "api.sock")
    st, mf = os.path.join(tmp, "snap"), os.path.join(tmp, "mem")
    for f in (sock, st, mf):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.Popen(arca_cmd(mem, "ticks=0 tickdelay=200", ["--api-sock", sock]),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p.stdout.readline()
    wait_socket(sock).close()
    time.sleep(0.1)
    assert http(sock, "PATCH", "/vm", {"state": "Paused"}) == 204
    t0 = now()
    assert http(sock, "PUT", "/snapshot/create", {"snapshot_path": st, "mem_file_path": mf}) == 204
    snap = (now() - t0) * 1e3
    p.kill(); p.wait()
    t0 = now()
    r = subprocess.Popen([VMM, "--restore", st, "--mem-file", mf], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    r.stdout.read(1)
    restore = (now() - t0) * 1e3
    r.kill(); r.wait()
    return snap, restore

def http_json(sock_path, method, path, body):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    data = json.dumps(body)
    s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (method, path, len(data), data)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        resp += chunk
    s.close()
    head, _, payload = resp.decode().partition("\r\n\r\n")
    return int(head.split()[1]), json.loads(payload) if payload.strip() else {}

MIG_GUEST = "ticks=0 tickdelay=200 dirty=128"

def arca_migrate(mem):
    sock, dst = os.path.join(tmp, "mig-api.sock"), os.path.join(tmp, "mig-in.sock")
    for f in (sock, dst):
        if os.path.exists(f):
            os.unlink(f)
    d = subprocess.Popen([VMM, "--incoming", "unix:" + dst, "--serial", "none"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p = subprocess.Popen(arca_cmd(mem, MIG_GUEST, ["--api-sock", sock]),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p.stdout.readline()
    wait_socket(sock).close()
    t_end = now() + 10
    while not os.path.exists(dst) and now() < t_end:
        time.sleep(0.001)
    time.sleep(0.1)
    status, st = http_json(sock, "PUT", "/migrate", {"destination": "unix:" + dst, "max_downtime_ms": 50})
    assert status == 200, st
    p.wait(timeout=10)
    d.kill(); d.wait()
    return st["downtime_us"] / 1000, st["total_us"] / 1000

def qemu_migrate(mem):
    qsock, dst = os.path.join(tmp, "qmp-src.sock"), os.path.join(tmp, "qemu-in.sock")
    dsock = os.path.join(tmp, "qmp-dst.sock")
    for f in (qsock, dst, dsock):
        if os.path.exists(f):
            os.unlink(f)
    cmd = qemu_cmd(mem, MIG_GUEST)
    d = subprocess.Popen(cmd + ["-incoming", "unix:" + dst, "-qmp", "unix:%s,server=on,wait=off" % dsock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p = subprocess.Popen(cmd + ["-qmp", "unix:%s,server=on,wait=off" % qsock],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p.stdout.readline()
    q = Qmp(qsock)
    Qmp(dsock).close()                 # destination listening
    time.sleep(0.1)
    q.cmd("migrate-set-parameters", {"downtime-limit": 50})
    q.cmd("migrate", {"uri": "unix:" + dst})
    while True:
        m = q.cmd("query-migrate")["return"]
        if m.get("status") in ("completed", "failed"):
            break
        time.sleep(0.001)
    q.close(); p.kill(); p.wait(); d.kill(); d.wait()
    if m.get("status") != "completed":
        return float("nan"), float("nan")
    return float(m.get("downtime", "nan")), float(m.get("total-time", "nan"))

class Qmp:
    def __init__(self, path):
        self.s = wait_socket(path)
        self.f = self.s.makefile("rwb")
        self.f.readline()              # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, args=None):
        self.f.write((json.dumps({"execute": name, **({"arguments": args} if args else {})}) + "\n").encode())
        self.f.flush()
        while True:
            m = json.loads(self.f.readline())
            if "return" in m or "error" in m:   # events in between are skipped
                return m

    def close(self):
        self.f.close()
        self.s.close()

def qemu_snapshot_restore(mem):
    qsock = os.path.join(tmp, "qmp.sock")
    img = os.path.join(tmp, "qemu.state")
    for f in (qsock, img):
        if os.path.exists(f):
            os.unlink(f)
    cmd = qemu_cmd(mem, "ticks=0 tickdelay=200", ["-qmp", "unix:%s,server=on,wait=off" % qsock])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p.stdout.readline()
    q = Qmp(qsock)
    q.cmd("stop")
    t0 = now()
    q.cmd("migrate", {"uri": "exec:cat > %s" % img})
    while q.cmd("query-migrate")["return"].get("status") not in ("completed", "failed"):
        time.sleep(0.001)
    snap = (now() - t0) * 1e3
    q.close(); p.kill(); p.wait()
    os.unlink(qsock)
    # The saved VM was stopped, so the incoming one stays paused until
    # "cont", as arca-vmm's restore runs at once: the cont is part of it.
    t0 = now()
    r = subprocess.Popen(cmd + ["-incoming", "exec:cat %s" % img],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    q = Qmp(qsock)
    while q.cmd("query-status")["return"]["status"] == "inmigrate":
        time.sleep(0.0005)
    q.cmd("cont")
    r.stdout.read(1)
    restore = (now() - t0) * 1e3
    q.close(); r.kill(); r.wait()
    return snap, restore

def med(xs):
    return statistics.median(xs) if xs else float("nan")

rows = []
def log(*a):
    print(*a, file=sys.stderr, flush=True)

def measure(name, fa, fq, unit):
    log("bench:", name)
    a = [fa() for _ in range(RUNS)]
    q = [fq() for _ in range(RUNS)] if QEMU else []
    rows.append((name, med(a), med(q), unit))

APPEND = "exit=0"
markers = []
def arca_boot():
    fb, ex, err = first_byte_and_exit(arca_cmd(128, APPEND, ["--metrics"]))
    m = json.loads(err.decode().strip().splitlines()[-1])
    markers.append(m["boot_markers_us"][0] / 1000)
    return fb, ex
def qemu_boot():
    fb, ex, _ = first_byte_and_exit(qemu_cmd(128, APPEND))
    return fb, ex

log("bench: boot")
a_boot = [arca_boot() for _ in range(RUNS)]
q_boot = [qemu_boot() for _ in range(RUNS)] if QEMU else []
rows.append(("first serial byte", med([x[0] for x in a_boot]), med([x[0] for x in q_boot]), "ms"))
rows.append(("guest exit (boot + checks)", med([x[1] for x in a_boot]), med([x[1] for x in q_boot]), "ms"))
rows.append(("boot marker (VMM-internal)", med(markers), float("nan"), "ms"))
sock = os.path.join(tmp, "ready.sock")
measure("start -> API ready",
        lambda: api_ready([VMM, "--api-sock", sock], sock, False),
        lambda: api_ready([QEMU, "-M", "microvm", "-accel", "kvm", "-nodefaults", "-display", "none",
                           "-S", "-qmp", "unix:%s,server=on,wait=off" % sock], sock, True), "ms")
measure("RSS overhead beyond guest RAM",
        lambda: idle_rss(arca_cmd(256, "ticks=0 tickdelay=100000"), 256),
        lambda: idle_rss(qemu_cmd(256, "ticks=0 tickdelay=100000"), 256), "MiB")
log("bench: snapshot")
snaps_a = [arca_snapshot_restore(256) for _ in range(RUNS)]
log("bench: qemu snapshot")
snaps_q = [qemu_snapshot_restore(256) for _ in range(RUNS)] if QEMU else []
rows.append(("snapshot, 256 MiB guest", med([x[0] for x in snaps_a]), med([x[0] for x in snaps_q]), "ms"))
rows.append(("restore to first byte, 256 MiB", med([x[1] for x in snaps_a]), med([x[1] for x in snaps_q]), "ms"))
log("bench: migration")
migs_a = [arca_migrate(256) for _ in range(RUNS)]
log("bench: qemu migration")
migs_q = [qemu_migrate(256) for _ in range(RUNS)] if QEMU else []
rows.append(("migration downtime, 256 MiB", med([x[0] for x in migs_a]), med([x[0] for x in migs_q]), "ms"))
rows.append(("migration total time, 256 MiB", med([x[1] for x in migs_a]), med([x[1] for x in migs_q]), "ms"))

print("arca-vmm vs %s, test guest %s, median of %d runs" %
      (os.path.basename(QEMU) + " -M microvm" if QEMU else "(no QEMU installed)", os.path.basename(ELF), RUNS))
print("%-34s %12s %12s %8s" % ("metric", "arca-vmm", "qemu", "ratio"))
for name, a, q, unit in rows:
    ratio = (q / a) if a == a and q == q and a > 0 else float("nan")
    fmt = lambda v: ("%.2f %s" % (v, unit)) if v == v else "n/a"
    print("%-34s %12s %12s %8s" % (name, fmt(a), fmt(q), ("%.1fx" % ratio) if ratio == ratio else "-"))
print("ratio = qemu / arca-vmm (higher favours arca-vmm)")
PY
