#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# arca-vmm side by side with QEMU (-M microvm, KVM), same test guest, same
# run.  Prints medians of N runs (default 10; 5 nested):
#   start -> API ready         arca: --api-sock socket accepts; QEMU: QMP greeting
#   start -> API ready, native when this host has no /dev/kvm: measured here,
#                              outside the nested machine (neither side needs
#                              KVM for it): arca-vmm --api-sock answers GET /;
#                              QEMU -M microvm -accel tcg -S sends its QMP
#                              greeting (see native_api_ready below)
#   first serial byte          from spawn to the guest's first console byte
#   boot marker                from spawn to the guest's write to port 0x3f0
#                              (arca: its boot-marker device, placed on the
#                              spawn clock through the first serial byte;
#                              QEMU: an isa-debugcon on 0x3f0 into a FIFO)
#   guest exit                 from spawn to the process exiting (boot + checks)
#   RSS overhead               VMM RSS minus resident guest RAM, idle guest
#   snapshot / restore, 256 MiB guest
#                              arca: PUT /snapshot/create, restore to first
#                              console byte; QEMU: QMP migrate to a file,
#                              -incoming from it to first console byte;
#                              then where arca's restore went (--metrics
#                              "restore": KVM ioctls vs the VMM's own work)
#   migration, 256 MiB guest   a guest dirtying 16 pages per tick (dirty=128);
#                              arca: PUT /migrate to an --incoming process on
#                              a unix socket, downtime and total time as the
#                              source reports them; QEMU: QMP migrate to an
#                              -incoming unix: process, downtime-limit 50 ms,
#                              no bandwidth cap, query-migrate's downtime and
#                              total-time; then where arca's downtime went
#                              (PUT /migrate's "downtime" breakdown)
# Without /dev/kvm the whole measurement runs inside
# tests/vm-linux/kvm-host.sh: a QEMU TCG machine with an emulated SVM CPU,
# whose /dev/kvm both VMMs then use.  Every guest exit there costs a trip
# through the emulated SVM, so absolute times are many times the native
# ones: compare the columns (the ratios), never the absolutes.
# Absolute times on a shared machine mean little anyway: compare the columns.
# usage: bench/vmm.sh [BUILD_DIR] [RUNS]
# Environment: ARCA_BENCH_NESTED=0 refuses the nested run, =1 forces it;
# ARCA_BENCH_WORK is the nested run's shared work dir (default a new one
# under /var/tmp); KVH_TIMEOUT bounds the nested machine (2400 s).
set -eu
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
VMM=$BUILD/src/cli/vmm/arca-vmm
ELF=${ARCA_BENCH_ELF:-$BUILD/tests/vmm/arca-test-guest.elf}
[ -x "$VMM" ] || { echo "bench/vmm.sh: build arca-vmm first ($VMM)" >&2; exit 1; }
guest_elf () {   # the test guest, compiled with tests/vmm/meson.build's flags
  local G=$HERE/../tests/guests
  cc -std=gnu17 -O2 -ffreestanding -nostdlib -static -fno-pie -fno-stack-protector \
    -fcf-protection=none -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables \
    -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments \
    -T "$G/guest.ld" "$G/start.S" "$G/guest.c" "$G/virtio.c" -o "$1"
}
# Start -> API ready needs no KVM on either side: arca-vmm --api-sock
# without --kernel only binds its socket (the machine is built on
# InstanceStart), and QEMU with -S runs no guest code.  So where the rest
# must run nested, this row is measured natively, before.  QEMU gets the
# cheapest setup it has without KVM: -M microvm (its smallest machine),
# -accel tcg (the only other accelerator this QEMU has; with -S it
# translates nothing, only reserves its code buffer), -nodefaults
# -no-user-config, no display.  Each side counts once it has answered:
# arca-vmm's HTTP reply to GET /, QEMU's QMP greeting.  Prints JSON:
# {"arca": [ms...], "qemu": [ms...], "floor": [ms...] (/bin/true), "load": 1-min load}.
native_api_ready () {
  python3 - "$VMM" "$(command -v qemu-system-x86_64 || true)" "$1" <<'PY'
import json, os, socket, subprocess, sys, tempfile, time
VMM, QEMU, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3])
sock = os.path.join(tempfile.mkdtemp(prefix="arca-vmm-bench."), "api.sock")
now = time.monotonic

def ready(cmd, ask):
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = now()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        while now() - t0 < 10:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sock)
            except OSError:
                s.close()
                time.sleep(0.0002)
                continue
            if ask:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = s.recv(4096)
            s.close()
            if got:
                return (now() - t0) * 1e3
        raise RuntimeError("%s: no answer on %s" % (cmd[0], sock))
    finally:
        p.kill()
        p.wait()

def floor():
    t0 = now()
    subprocess.run(["/bin/true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return (now() - t0) * 1e3

out = {"arca": [], "qemu": [], "floor": [], "load": os.getloadavg()[0]}
for _ in range(RUNS):   # interleaved: all see the same host load
    out["floor"].append(floor())
    out["arca"].append(ready([VMM, "--api-sock", sock], True))
    if QEMU:
        out["qemu"].append(ready([QEMU, "-M", "microvm", "-accel", "tcg", "-S", "-nodefaults",
                                  "-no-user-config", "-display", "none",
                                  "-qmp", "unix:%s,server=on,wait=off" % sock], False))
print(json.dumps(out))
PY
}
NESTED=${ARCA_BENCH_NESTED:-}
INSIDE=${ARCA_BENCH_INSIDE:-0}
if [ "$INSIDE" != 1 ] && [ "$NESTED" != 0 ]; then
  if [ "$NESTED" = 1 ] || [ ! -e /dev/kvm ]; then
    # Run this script again inside a machine with a real (nested SVM) /dev/kvm.
    WORK=${ARCA_BENCH_WORK:-$(mktemp -d /var/tmp/arca-vmm-bench.XXXXXX)}
    mkdir -p "$WORK"
    WORK=$(cd "$WORK" && pwd)
    if [ ! -f "$ELF" ]; then
      ELF=$WORK/arca-test-guest.elf
      guest_elf "$ELF"
    fi
    echo "bench/vmm.sh: start -> API ready, natively on this host" >&2
    NATIVE=$(native_api_ready "${2:-10}")
    echo "bench/vmm.sh: no usable /dev/kvm here: running inside tests/vm-linux/kvm-host.sh ($WORK)" >&2
    KVH_TIMEOUT=${KVH_TIMEOUT:-2400} exec bash "$HERE/../tests/vm-linux/kvm-host.sh" "$WORK" \
      env ARCA_BENCH_INSIDE=1 ARCA_BENCH_NESTED=1 ARCA_BENCH_ELF="$ELF" ARCA_BENCH_NATIVE="$NATIVE" \
      bash "$HERE/vmm.sh" "$BUILD" "${2:-5}"
  fi
fi
RUNS=${2:-10}
if [ ! -f "$ELF" ]; then
  ELF=$(mktemp -d)/arca-test-guest.elf
  guest_elf "$ELF"
fi
QEMU=$(command -v qemu-system-x86_64 || true)
[ -r /dev/kvm ] || { echo "bench/vmm.sh: needs /dev/kvm" >&2; exit 1; }
NESTED_INFO=
if [ "$INSIDE" = 1 ]; then
  NESTED_INFO="nested: both VMMs on the /dev/kvm of a QEMU TCG machine with emulated SVM ($(uname -r), $(nproc) vCPUs)"
fi

exec python3 - "$VMM" "$ELF" "$QEMU" "$RUNS" "$NESTED_INFO" "${ARCA_BENCH_NATIVE:-}" <<'PY'
import json, os, select, socket, statistics, subprocess, sys, tempfile, time

VMM, ELF, QEMU, RUNS, NESTED = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
NATIVE = json.loads(sys.argv[6]) if sys.argv[6] else None
SLOW = 20 if NESTED else 1             # timeouts: nested exits are ~100x dearer
STUCK = max(10, 3 * SLOW)              # s: a VMM silent this long fails its sample
socket.setdefaulttimeout(STUCK)        # a VMM that never answers fails a sample, never hangs the run

procs = []
def spawn(*a, **k):
    p = subprocess.Popen(*a, **k)
    procs.append(p)
    return p

def kill_all():
    while procs:
        p = procs.pop()
        if p.poll() is None:
            p.kill()
            p.wait()

def wait_out(p, what, line=False):
    """Waits for p's first stdout byte (or line); a VMM silent for too long is an error."""
    fd, got = p.stdout.fileno(), b""
    t_end = now() + STUCK
    while now() < t_end:
        ready, _, _ = select.select([fd], [], [], max(t_end - now(), 0))
        if not ready:
            break
        data = os.read(fd, 1 if not line else 4096)
        if not data or not line or b"\n" in got + data:
            return
        got += data
    p.kill()
    raise RuntimeError("%s: no console output in %d s" % (what, STUCK))
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
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    wait_out(p, cmd[0])
    t1 = now()
    out, err = p.communicate(timeout=60 * SLOW)
    t2 = now()
    return (t1 - t0) * 1e3, (t2 - t0) * 1e3, err

def wait_socket(path, greeting=False, timeout=10):
    t_end = now() + timeout * SLOW
    while now() < t_end:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            if greeting:
                s.recv(4096)           # QMP sends its greeting when ready
            return s
        except OSError:
            s.close()
            time.sleep(0.0002 * SLOW)  # leave the (2) CPUs to the VMMs
    raise RuntimeError("socket %s never appeared" % path)

def api_ready(cmd, sock, greeting):
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = now()
    p = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
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
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_out(p, cmd[0], line=True)     # guest is up
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

restore_parts = []   # arca-vmm --metrics "restore" objects (us)
downtime_parts = []  # PUT /migrate "downtime" objects (us)

def arca_snapshot_restore(mem):
    sock = os.path.join(tmp, "api.sock")
    st, mf = os.path.join(tmp, "snap"), os.path.join(tmp, "mem")
    for f in (sock, st, mf):
        if os.path.exists(f):
            os.unlink(f)
    p = spawn(arca_cmd(mem, "ticks=0 tickdelay=200", ["--api-sock", sock]),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_out(p, "source", line=True)
    wait_socket(sock).close()
    time.sleep(0.1)
    assert http(sock, "PATCH", "/vm", {"state": "Paused"}) == 204
    t0 = now()
    assert http(sock, "PUT", "/snapshot/create", {"snapshot_path": st, "mem_file_path": mf}) == 204
    snap = (now() - t0) * 1e3
    p.kill(); p.wait()
    t0 = now()
    r = spawn([VMM, "--restore", st, "--mem-file", mf, "--metrics"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    wait_out(r, "arca-vmm --restore")
    restore = (now() - t0) * 1e3
    r.terminate()
    _, err = r.communicate(timeout=STUCK)
    try:   # the same on arca-vmm's own clock: from its main(), without exec and ld.so
        m = json.loads(err.decode().strip().splitlines()[-1])
        own = m["first_serial_byte_us"] / 1000
        restore_parts.append(m["restore"])
    except (ValueError, IndexError, KeyError):
        own = float("nan")
    return snap, restore, own

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
    d = spawn([VMM, "--incoming", "unix:" + dst, "--serial", "none"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p = spawn(arca_cmd(mem, MIG_GUEST, ["--api-sock", sock]),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_out(p, "source", line=True)
    wait_socket(sock).close()
    t_end = now() + STUCK
    while not os.path.exists(dst) and now() < t_end:
        time.sleep(0.001)
    time.sleep(0.1)
    status, st = http_json(sock, "PUT", "/migrate", {"destination": "unix:" + dst, "max_downtime_ms": 50})
    assert status == 200, st
    p.wait(timeout=STUCK)
    d.kill(); d.wait()
    downtime_parts.append(st["downtime"])
    return st["downtime_us"] / 1000, st["total_us"] / 1000

def qemu_migrate(mem):
    qsock, dst = os.path.join(tmp, "qmp-src.sock"), os.path.join(tmp, "qemu-in.sock")
    dsock = os.path.join(tmp, "qmp-dst.sock")
    for f in (qsock, dst, dsock):
        if os.path.exists(f):
            os.unlink(f)
    cmd = qemu_cmd(mem, MIG_GUEST)
    d = spawn(cmd + ["-incoming", "unix:" + dst, "-qmp", "unix:%s,server=on,wait=off" % dsock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    p = spawn(cmd + ["-qmp", "unix:%s,server=on,wait=off" % qsock],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_out(p, "source", line=True)
    q = Qmp(qsock)
    Qmp(dsock).close()                 # destination listening
    time.sleep(0.1)
    q.cmd("migrate-set-parameters", {"downtime-limit": 50, "max-bandwidth": 1 << 40})
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
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_out(p, "source", line=True)
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
    r = spawn(cmd + ["-incoming", "exec:cat %s" % img],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    q = Qmp(qsock)
    while q.cmd("query-status")["return"]["status"] == "inmigrate":
        time.sleep(0.0005)
    q.cmd("cont")
    wait_out(r, "qemu -incoming")
    restore = (now() - t0) * 1e3
    q.close(); r.kill(); r.wait()
    return snap, restore

def med(xs):
    return statistics.median(xs) if xs else float("nan")

rows = []
def log(*a):
    print(*a, file=sys.stderr, flush=True)

failures = []
def runs(what, f):
    """RUNS samples of f(); a failed one is reported and left out."""
    out = []
    for i in range(RUNS):
        try:
            out.append(f())
        except Exception as e:   # noqa: BLE001 -- any failure of one sample
            log("bench: %s, run %d failed: %s" % (what, i + 1, e))
            failures.append("%s, run %d: %s" % (what, i + 1, e))
        kill_all()
    return out

def measure(name, fa, fq, unit):
    log("bench:", name)
    a = runs("arca " + name, fa)
    q = runs("qemu " + name, fq) if QEMU else []
    rows.append((name, med(a), med(q), unit))

APPEND = "exit=0"
markers = []
def arca_boot():
    fb, ex, err = first_byte_and_exit(arca_cmd(128, APPEND, ["--metrics"]))
    m = json.loads(err.decode().strip().splitlines()[-1])
    internal = m["boot_markers_us"][0] / 1000
    markers.append(internal)
    # The marker on the spawn clock: the VMM's own clock runs from its
    # start; the first serial byte is seen on both clocks.
    return fb, ex, fb - m["first_serial_byte_us"] / 1000 + internal

def qemu_boot():
    """Spawn -> first serial byte, -> exit, -> boot-marker byte (ms)."""
    fifo = os.path.join(tmp, "marker.fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    # O_RDWR: never EOF before QEMU opens its end, and QEMU's open never blocks.
    mfd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    t0 = now()
    p = spawn(qemu_cmd(128, APPEND, ["-chardev", "file,id=bm,path=" + fifo,
                                                "-device", "isa-debugcon,iobase=0x3f0,chardev=bm"]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out = p.stdout.fileno()
    fb = mk = float("nan")
    waiting = [out, mfd]
    while waiting:
        ready, _, _ = select.select(waiting, [], [], 60 * SLOW)
        if not ready:
            break
        t = (now() - t0) * 1e3
        for fd in ready:
            data = os.read(fd, 4096)
            if fd == out:
                fb = t if data else fb
            else:
                mk = t
            waiting.remove(fd)
    os.close(mfd)
    p.communicate(timeout=60 * SLOW)
    return fb, (now() - t0) * 1e3, mk

def spawn_floor(cmd):
    t0 = now()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return (now() - t0) * 1e3

log("bench: spawn floor")
floor_true = med([spawn_floor(["/bin/true"]) for _ in range(RUNS)])
floor_vmm = med([spawn_floor([VMM, "--help"]) for _ in range(RUNS)])
log("bench: boot")
a_boot = runs("arca boot", arca_boot)
q_boot = runs("qemu boot", qemu_boot) if QEMU else []
rows.append(("first serial byte", med([x[0] for x in a_boot]), med([x[0] for x in q_boot]), "ms"))
rows.append(("boot marker (port 0x3f0)", med([x[2] for x in a_boot]), med([x[2] for x in q_boot]), "ms"))
rows.append(("guest exit (boot + checks)", med([x[1] for x in a_boot]), med([x[1] for x in q_boot]), "ms"))
rows.append(("boot marker (arca's own clock)", med(markers), float("nan"), "ms"))
sock = os.path.join(tmp, "ready.sock")
measure("start -> API ready",
        lambda: api_ready([VMM, "--api-sock", sock], sock, False),
        lambda: api_ready([QEMU, "-M", "microvm", "-accel", "kvm", "-nodefaults", "-display", "none",
                           "-S", "-qmp", "unix:%s,server=on,wait=off" % sock], sock, True), "ms")
measure("RSS overhead beyond guest RAM",
        lambda: idle_rss(arca_cmd(256, "ticks=0 tickdelay=100000"), 256),
        lambda: idle_rss(qemu_cmd(256, "ticks=0 tickdelay=100000"), 256), "MiB")
log("bench: snapshot")
snaps_a = runs("arca snapshot", lambda: arca_snapshot_restore(256))
log("bench: qemu snapshot")
snaps_q = runs("qemu snapshot", lambda: qemu_snapshot_restore(256)) if QEMU else []
rows.append(("snapshot, 256 MiB guest", med([x[0] for x in snaps_a]), med([x[0] for x in snaps_q]), "ms"))
rows.append(("restore to first byte, 256 MiB", med([x[1] for x in snaps_a]), med([x[1] for x in snaps_q]), "ms"))
rows.append(("  the same on arca's own clock", med([x[2] for x in snaps_a]), float("nan"), "ms"))

def part(samples, *keys):
    """Median over samples of the sum of keys (us -> ms)."""
    return med([sum(x.get(k, 0) for k in keys) for x in samples]) / 1000 if samples else float("nan")

# Where arca's restore went, on its own clock (medians of each part, so
# they need not add up exactly).  kvm_*: KVM ioctls, which are what a
# nested host inflates most; the rest is the VMM's own work.
# kvm_vm_us runs in a thread of its own beside the state read and the
# memory mmap: only the part the setup waited for (kvm_vm_wait_us) is on
# the restore's path.
R_KVM = ("kvm_vm_wait_us", "kvm_slots_us", "kvm_vcpus_us", "kvm_state_us")
R_VMM = ("state_us", "mem_map_us", "devices_us", "state_apply_us")
if restore_parts:
    rows.append(("  main() -> restore entry", med([r["ready_us"] - r["total_us"] for r in restore_parts]) / 1000,
                 float("nan"), "ms"))
    rows.append(("  restore: KVM ioctls", part(restore_parts, *R_KVM), float("nan"), "ms"))
    for k, what in (("kvm_vm_us", "KVM_CREATE_VM, irqchip (own thread)"),
                    ("kvm_vm_wait_us", "  of which the setup waited for"), ("kvm_slots_us", "memory slots"),
                    ("kvm_vcpus_us", "KVM_CREATE_VCPU, CPUID"), ("kvm_state_us", "KVM_SET_* state")):
        rows.append(("    " + what, part(restore_parts, k), float("nan"), "ms"))
    rows.append(("  restore: VMM work", med([r["total_us"] - sum(r.get(k, 0) for k in R_KVM) for r in restore_parts]) / 1000,
                 float("nan"), "ms"))
    for k, what in (("state_us", "state read, checksum, parse"), ("mem_map_us", "memory file mmap"),
                    ("devices_us", "device models"), ("state_apply_us", "state decode, devices")):
        rows.append(("    " + what, part(restore_parts, k), float("nan"), "ms"))
    rows.append(("  ready -> first byte (KVM_RUN)", part(restore_parts, "ready_to_first_byte_us"), float("nan"), "ms"))
log("bench: migration")
migs_a = runs("arca migration", lambda: arca_migrate(256))
log("bench: qemu migration")
migs_q = runs("qemu migration", lambda: qemu_migrate(256)) if QEMU else []
rows.append(("migration downtime, 256 MiB", med([x[0] for x in migs_a]), med([x[0] for x in migs_q]), "ms"))
rows.append(("migration total time, 256 MiB", med([x[1] for x in migs_a]), med([x[1] for x in migs_q]), "ms"))
# Where arca's downtime went (the source's clock; dst_*: the destination's,
# part of "destination answers").
if downtime_parts:
    for keys, what in ((("pause_us",), "pause the vCPUs"), (("kvm_dirty_log_us",), "last dirty log (KVM)"),
                       (("final_send_us",), "last dirty pages sent"), (("kvm_state_us",), "vCPU/irqchip state (KVM)"),
                       (("state_save_us",), "state JSON"), (("state_send_us",), "state sent"),
                       (("wait_us",), "destination answers"), (("dst_receive_us",), "  dst: state read, parsed"),
                       (("dst_kvm_state_us",), "  dst: KVM_SET_* state"), (("dst_apply_us",), "  dst: decode, devices"),
                       (("dst_start_us",), "  dst: threads started")):
        rows.append(("  " + what, part(downtime_parts, *keys), float("nan"), "ms"))
if NATIVE:
    rows.append(("start -> API ready, native", med(NATIVE["arca"]), med(NATIVE["qemu"]), "ms"))

GOALS = {   # issue 5: arca-vmm's absolute goals; None: faster than QEMU
    "start -> API ready": 5, "start -> API ready, native": 5, "RSS overhead beyond guest RAM": 3,
    "restore to first byte, 256 MiB": 10, "  the same on arca's own clock": 10,
    "migration downtime, 256 MiB": 50,
    "first serial byte": None, "boot marker (port 0x3f0)": None,
}
def goal(name, a, q):
    if name not in GOALS:
        return ""
    g = GOALS[name]
    if g is None:
        return "< qemu: " + ("met" if a == a and q == q and a < q else "NOT met")
    return "<= %g: %s" % (g, "met" if a == a and a <= g else "NOT met")

print("%s, arca-vmm vs %s, test guest %s, median of %d runs" %
      (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
       os.path.basename(QEMU) + " -M microvm -accel kvm" if QEMU else "(no QEMU installed)",
       os.path.basename(ELF), RUNS))
if NESTED:
    print(NESTED)
    print("  every VM exit there goes through emulated SVM (~100x a native exit): absolute")
    print("  times are inflated many times over; the ratios are what this run measures")
print("floor: spawning /bin/true takes %.2f ms here, arca-vmm --help %.2f ms (exec, dynamic loading)"
      % (floor_true, floor_vmm))
print("%-34s %12s %12s %8s  %s" % ("metric", "arca-vmm", "qemu", "ratio", "goal (arca)"))
for name, a, q, unit in rows:
    ratio = (q / a) if a == a and q == q and a > 0 else float("nan")
    fmt = lambda v: ("%.2f %s" % (v, unit)) if v == v else "n/a"
    print(("%-34s %12s %12s %8s  %s" % (name, fmt(a), fmt(q), ("%.1fx" % ratio) if ratio == ratio else "-",
                                        goal(name, a, q))).rstrip())
print("ratio = qemu / arca-vmm (higher favours arca-vmm)")
if NATIVE:
    print("start -> API ready, native: measured on this host outside the nested machine (no KVM")
    print("  needed): arca-vmm --api-sock answering GET / vs qemu -M microvm -accel tcg -S sending its")
    print("  QMP greeting, %d runs each, interleaved; spawning /bin/true there took %.2f ms (median),"
          % (len(NATIVE["arca"]), med(NATIVE["floor"])))
    print("  load average %.2f" % NATIVE["load"])
for f in failures:
    print("FAILED (left out of the medians): " + f)
PY
