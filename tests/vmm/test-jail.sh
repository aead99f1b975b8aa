#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# arca-vmm --jail: the process that runs the VM is pid 1 of its own pid
# namespace, in its own mount namespace with an empty root, in a cgroup
# with the limits given, without capabilities, with no_new_privs and the
# seccomp filter -- and the guest still boots and its devices work.
# usage: test-jail.sh ARCA_VMM GUEST_ELF      (prints TAP)
set -u
VMM=$1 ELF=$2
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
[ "$(id -u)" = 0 ] || skip_all "needs root"

T=$(mktemp -d)
pid=
pids=()
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
has () { grep -qF -- "$2" "$T/$1"; }
run () {
  local name=$1; shift
  timeout -k 10 60 "$VMM" --jail "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
  rc=$?
}

"$VMM" --jail --jail-memory 256 --jail-pids 32 --kernel "$ELF" --cmdline "ticks=0 tickdelay=3000" \
  --serial "file:$T/console" 2>"$T/jail.err" &
pid=$!
for _ in $(seq 60); do grep -q "tick 2" "$T/console" 2>/dev/null && break; sleep 0.5; done
[ -s "$T/jail.err" ] && sed "s/^/# arca-vmm: /" "$T/jail.err"
check "jailed guest boots and ticks" grep -q "tick 2" "$T/console"
child=$(cat /proc/$pid/task/$pid/children 2>/dev/null | awk '{print $1}')
check "the VM runs in a child process" test -n "$child"
st=/proc/${child:-none}/status
check "it is pid 1 of its own pid namespace" sh -c "awk '/^NSpid:/ {print \$NF}' $st | grep -qx 1"
check "CapEff is 0" grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st"
check "CapBnd is 0" grep -q '^CapBnd:[[:space:]]*0000000000000000$' "$st"
check "NoNewPrivs is 1" grep -q '^NoNewPrivs:[[:space:]]*1$' "$st"
modes=$(cat /proc/${child:-none}/task/*/status 2>/dev/null | awk '/^Seccomp:/ {print $2}' | sort -u | tr '\n' ' ')
check "seccomp filter on every thread (modes: $modes)" test "$modes" = "2 "
check "its mount namespace is not the host's" \
  test -n "$child" -a "$(readlink /proc/${child:-none}/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"
# The parent, which removes the cgroup at the end, must still see the
# host's files: it shares neither the child's mount namespace nor its root.
check "arca-vmm itself stays in the host's mount namespace" \
  test "$(readlink /proc/$pid/ns/mnt)" = "$(readlink /proc/self/ns/mnt)"
check "arca-vmm itself still sees the host's root" test -d "/proc/$pid/root/sys/fs/cgroup"
check "its pid namespace is not the host's" \
  test -n "$child" -a "$(readlink /proc/${child:-none}/ns/pid)" != "$(readlink /proc/self/ns/pid)"
check "its root is empty" test -z "$(ls -A /proc/${child:-none}/root/ 2>&1)"
# The cgroup and its limits, in whichever layout the host has.
cg=$(awk -F: '$2 == "" || $2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/${child:-none}/cgroup 2>/dev/null)
check "it is in a cgroup of its own ($cg)" grep -q "arca-vmm-$pid" <<<"$cg"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mem=$(cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)
  pids=$(cat "/sys/fs/cgroup$cg/pids.max" 2>/dev/null)
  cgdir=/sys/fs/cgroup$cg
else
  mem=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" 2>/dev/null)
  pids=$(cat "/sys/fs/cgroup/pids$cg/pids.max" 2>/dev/null)
  cgdir=/sys/fs/cgroup/memory$cg
fi
check "cgroup memory limit 256 MiB (${mem:-none})" test "${mem:-0}" = $((256 << 20))
check "cgroup pids limit 32 (${pids:-none})" test "${pids:-0}" = 32
stop_wait $pid; rc=$?; pid=
check "SIGTERM to arca-vmm stops the jailed VM, status 0" test "$rc" = 0
check "the VM's process is gone" test ! -d "/proc/${child:-none}"
check "the cgroup is removed" test -n "$cg" -a ! -d "$cgdir"
[ -n "$cg" ] && rmdir "$cgdir" 2>/dev/null

printf 'ARCA-BLK-SECTOR0' >"$T/disk.img"; truncate -s 1M "$T/disk.img"
devcg=arca-test-jail-$$
run dev --jail-pids 16 --jail-cgroup "/$devcg" --kernel "$ELF" --rng --drive "$T/disk.img" \
  --cmdline "rng blk exit=7"
[ -s "$T/dev.err" ] && sed "s/^/# arca-vmm: /" "$T/dev.err"
check "jailed: virtio-rng works" has dev.out "rng ok"
check "jailed: virtio-blk reads and writes" has dev.out "blk readback same"
check "jailed: the write reached the host file" \
  sh -c "dd if='$T/disk.img' bs=512 skip=1 count=1 2>/dev/null | grep -q guest-wrote-sector-1"
check "jailed: the guest's exit status comes through (7)" test "$rc" = 7
left=$(ls -d /sys/fs/cgroup/$devcg /sys/fs/cgroup/*/$devcg 2>/dev/null)
check "jailed: its cgroup ($devcg) is removed after the guest's own exit (${left:-none left})" test -z "$left"

# --jail --api-sock: the socket is bound on the host before the fork, the
# API serves from inside the jail, and the files its requests name live in
# --jail-dir, the jail's root.
if command -v curl >/dev/null; then
SOCK=$T/api.sock JD=$T/jaildir
mkdir -p "$JD/snaps"
# api SOCKET METHOD PATH [BODY]: the body, then the status code on its own line.
api () { curl -s --max-time 20 --unix-socket "$1" -X "$2" ${4:+-d "$4"} -w '\n%{http_code}\n' "http://localhost$3"; }
last_tick () { head -n "$(wc -l <"$1")" "$1" | grep -o 'tick [0-9]*' | tail -n 1 | cut -d' ' -f2; }
timeout -k 10 120 "$VMM" --jail --jail-dir "$JD" --api-sock "$SOCK" --memory 64 --kernel "$ELF" \
  --cmdline "ticks=0 tickdelay=3000" --serial "file:$T/api-console" 2>"$T/api.err" </dev/null &
pid=$!
for _ in $(seq 100); do grep -q "tick 2" "$T/api-console" 2>/dev/null && break; sleep 0.3; done
[ -s "$T/api.err" ] && sed "s/^/# arca-vmm: /" "$T/api.err"
check "api: the socket file is on the host at --api-sock" test -S "$SOCK"
check "api: jailed guest boots and ticks" grep -q "tick 2" "$T/api-console"
out=$(api "$SOCK" GET /)
check "api: GET / answers from the jail (${out//$'\n'/ })" grep -q '"state":"Running"' <<<"$out"
# $pid is timeout; its child arca-vmm, whose child runs the VM.
kids () { cat /proc/"$1"/task/"$1"/children 2>/dev/null | awk '{print $1}'; }
vmm=$(kids $pid); child=$(kids "${vmm:-none}")
st=/proc/${child:-none}/status
check "api: the VM runs in a child of arca-vmm" test -n "$child"
check "api: CapEff is 0 while the API serves" grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st"
modes=$(cat /proc/${child:-none}/task/*/status 2>/dev/null | awk '/^Seccomp:/ {print $2}' | sort -u | tr '\n' ' ')
check "api: seccomp filter on every thread (modes: $modes)" test "$modes" = "2 "
check "api: own mount namespace" \
  test -n "$child" -a "$(readlink /proc/${child:-none}/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"
check "api: own pid namespace" \
  test -n "$child" -a "$(readlink /proc/${child:-none}/ns/pid)" != "$(readlink /proc/self/ns/pid)"
check "api: the jail's root is --jail-dir" test -d "/proc/${child:-none}/root/snaps"
check "api: PATCH /vm Paused (204)" test "$(api "$SOCK" PATCH /vm '{"state":"Paused"}' | tail -n 1)" = 204
a=$(last_tick "$T/api-console"); sleep 1; b=$(last_tick "$T/api-console")
check "api: no ticks while paused ($a -> $b)" test -n "$a" -a "$a" = "$b"
out=$(api "$SOCK" PUT /snapshot/create '{"snapshot_path":"/snaps/state","mem_file_path":"snaps/mem"}')
check "api: snapshot/create into the jail dir (${out//$'\n'/ })" test "$(tail -n 1 <<<"$out")" = 204
check "api: the state file is on the host side of --jail-dir" grep -q '^ARCA-VMM-SNAPSHOT 2 ' "$JD/snaps/state"
check "api: the memory file is on the host side of --jail-dir" test "$(stat -c %s "$JD/snaps/mem" 2>&1)" = $((64 << 20))
for bad in ../escape /snaps/../../escape snaps/../../../escape; do
  out=$(api "$SOCK" PUT /snapshot/create "{\"snapshot_path\":\"$bad\",\"mem_file_path\":\"snaps/m2\"}")
  check "api: snapshot_path $bad is refused with 400 (${out//$'\n'/ })" test "$(tail -n 1 <<<"$out")" = 400
  check "api: ... saying it is outside the jail directory" grep -q 'outside the jail directory' <<<"$out"
done
ln -s /etc "$JD/out"
out=$(api "$SOCK" PUT /snapshot/create '{"snapshot_path":"out/escape","mem_file_path":"snaps/m2"}')
check "api: a symlink out of the jail dir is refused with 400 (${out//$'\n'/ })" test "$(tail -n 1 <<<"$out")" = 400
check "api: ... saying it is outside the jail directory" grep -q 'outside the jail directory' <<<"$out"
check "api: nothing written outside the jail dir" \
  test ! -e "$T/escape" -a ! -e "$JD/escape" -a ! -e /etc/escape -a ! -e "$JD/snaps/m2"
check "api: PATCH /vm Resumed (204)" test "$(api "$SOCK" PATCH /vm '{"state":"Resumed"}' | tail -n 1)" = 204
for _ in $(seq 100); do [ "$(last_tick "$T/api-console")" -gt $((${b:-0} + 1)) ] && break; sleep 0.2; done
c=$(last_tick "$T/api-console")
check "api: ticks again after resume ($b -> $c)" test -n "$c" -a "${c:-0}" -gt $((${b:-0} + 1))
check "api: CapEff still 0, seccomp still 2 after the requests" \
  sh -c "grep -q '^CapEff:[[:space:]]*0000000000000000$' $st && grep -q '^Seccomp:[[:space:]]*2$' $st"
stop_wait $pid; rc=$?; pid=
check "api: SIGTERM stops the jailed API VM, status 0" test "$rc" = 0
check "api: the socket file is removed on the host" test ! -e "$SOCK"

# Without --jail-dir the jail has no files: say so instead of ENOENT.
timeout -k 10 120 "$VMM" --jail --api-sock "$SOCK" --memory 64 --kernel "$ELF" \
  --cmdline "ticks=0 tickdelay=3000" --serial "file:$T/api2-console" 2>"$T/api2.err" </dev/null &
pid=$!
for _ in $(seq 100); do grep -q "tick 1" "$T/api2-console" 2>/dev/null && break; sleep 0.3; done
api "$SOCK" PATCH /vm '{"state":"Paused"}' >/dev/null
out=$(api "$SOCK" PUT /snapshot/create "{\"snapshot_path\":\"$T/s\",\"mem_file_path\":\"$T/m\"}")
check "api: without --jail-dir snapshot/create is refused with 400 (${out//$'\n'/ })" \
  test "$(tail -n 1 <<<"$out")" = 400
check "api: ... naming --jail-dir" grep -q 'without --jail-dir' <<<"$out"
check "api: ... and nothing is written" test ! -e "$T/s" -a ! -e "$T/m"
stop_wait $pid; rc=$?; pid=
check "api: that VM stops with status 0 too" test "$rc" = 0
else
  echo "# api: skipped: curl not installed"
fi
# ---- Firecracker's flows, jailed: the machine built only once the jail
# is closed (InstanceStart, snapshot/load, --restore, --incoming), with the
# files it names inside --jail-dir, and vsock from the jail.
if command -v curl >/dev/null && command -v python3 >/dev/null; then
api () { curl -s --max-time 30 --unix-socket "$1" -X "$2" ${4:+-d "$4"} -w '\n%{http_code}\n' "http://localhost$3"; }
code () { tail -n 1 <<<"$1"; }
replied () { [ "$(code "$1")" = "$2" ] && grep -qF -- "$3" <<<"$1"; }   # replied OUT STATUS TEXT
# holds PID FILE: one of PID's descriptors is FILE (same device and inode).
holds () {
  local want f
  want=$(stat -Lc %d:%i "$2") || return 1
  for f in /proc/"$1"/fd/*; do [ "$(stat -Lc %d:%i "$f" 2>/dev/null)" = "$want" ] && return 0; done
  return 1
}
# wait_kid PID: PID's child once it is in its cgroup (the parent moves it).
wait_kid () {
  local k
  for _ in $(seq 100); do
    k=$(kids "$1"); [ -n "$k" ] && grep -q "arca-vmm-$1" /proc/"$k"/cgroup 2>/dev/null && break
    sleep 0.1
  done
  kids "$1"
}
kids () { cat /proc/"$1"/task/"$1"/children 2>/dev/null | awk '{print $1}'; }
wait_for () {   # wait_for FILE STRING [PID]: up to 60 s, less once PID is gone
  for _ in $(seq 300); do
    grep -aqF -- "$2" "$1" 2>/dev/null && return 0
    [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && break
    sleep 0.2
  done
  grep -aqF -- "$2" "$1" 2>/dev/null
}
wait_sock () { for _ in $(seq 150); do [ -S "$1" ] && return 0; sleep 0.2; done; return 1; }
last_tick () { head -n "$(wc -l <"$1")" "$1" | grep -o 'tick [0-9]*' | tail -n 1 | cut -d' ' -f2; }
# cgroup_dir PID: the directory of PID's cgroup that holds its memory limit.
cgroup_dir () {
  local cg
  cg=$(awk -F: '$2 == "" || $2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/"$1"/cgroup 2>/dev/null)
  [ -n "$cg" ] || return
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup$cg"; else echo "/sys/fs/cgroup/memory$cg"; fi
}
# jailed NAME VMM_PID JAILDIR: arca-vmm's child is the jailed VMM; sets
# $child and $cgdir for the leak checks after it stopped.
jailed () {
  local name=$1 vmm=$2 jd=$3 st
  child=$(kids "$vmm")
  st=/proc/${child:-none}/status
  check "$name: the VM process is arca-vmm's child, pid 1 of its own pid namespace" \
    sh -c "test -n '$child' && awk '/^NSpid:/ {print \$NF}' $st | grep -qx 1"
  check "$name: CapEff 0, CapBnd 0" \
    sh -c "grep -q '^CapEff:[[:space:]]*0000000000000000$' $st && grep -q '^CapBnd:[[:space:]]*0000000000000000$' $st"
  check "$name: NoNewPrivs 1" grep -q '^NoNewPrivs:[[:space:]]*1$' "$st"
  check "$name: its mount namespace is not the host's" \
    test -n "$child" -a "$(readlink /proc/${child:-none}/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"
  check "$name: its root is the jail dir" \
    test "$(stat -Lc %d:%i /proc/${child:-none}/root 2>&1)" = "$(stat -c %d:%i "$jd")"
  check "$name: no /dev in its root" test ! -e "/proc/${child:-none}/root/dev"
  cgdir=$(cgroup_dir "${child:-none}")
  check "$name: in a cgroup of its own (${cgdir:-none})" grep -q "/arca-vmm-$vmm\$" <<<"$cgdir"
}
seccomp_all () {   # seccomp_all NAME: every thread of $child filtered
  local modes
  modes=$(cat /proc/${child:-none}/task/*/status 2>/dev/null | awk '/^Seccomp:/ {print $2}' | sort -u | tr '\n' ' ')
  check "$1: seccomp filter on every thread (modes: $modes)" test "$modes" = "2 "
}
gone () {   # gone NAME: after arca-vmm exited, nothing of it is left
  check "$1: the VM process is gone" test -n "$child" -a ! -d "/proc/${child:-none}"
  check "$1: its cgroup is removed" test -n "$cgdir" -a ! -d "${cgdir:-/nonexistent}"
}
# The host service the guest's vsock connects to (port 5001 -> PATH_5001):
# answers one line, counts the guest's 512 KiB, says how many it got.
vsock_service () {   # vsock_service PATH_5001 GOT_FILE
  python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
s.settimeout(120)
c, _ = s.accept()
open(sys.argv[2], "wb").write(c.recv(100))
c.sendall(b"hi from the host\n")
n = 0
while n < 512 << 10:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.sendall(b"got %d\n" % n)
c.recv(10)
PY
  pids+=($!)
  wait_sock "$1"
}
# vsock_checks NAME CONSOLE PID SOCK GOT: both directions of the round trip.
vsock_checks () {
  local name=$1 con=$2 p=$3 sock=$4 got=$5 out
  check "$name: vsock guest -> host: connection accepted" wait_for "$con" "vsock connect op=2" "$p"
  check "$name: vsock guest -> host: the host service in the jail dir got the guest's line" \
    test "$(cat "$got" 2>/dev/null)" = "hello from the guest"
  check "$name: vsock guest -> host: the guest got the answer" wait_for "$con" "vsock host says=hi from the host" "$p"
  check "$name: vsock guest -> host: 512 KiB arrived" wait_for "$con" "vsock host says=got 524288" "$p"
  wait_for "$con" "vsock listening on 1234" "$p"
  check "$name: vsock socket is in the jail dir on the host ($sock)" test -S "$sock"
  out=$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(60)
s.sendall(b"CONNECT 1234\n")
print("ok:", s.recv(100).decode().strip())
s.sendall(b"ping\n")
print("echo:", s.recv(100).decode().strip())
s.close()
PY
)
  check "$name: vsock host -> guest: CONNECT answered (${out//$'\n'/ })" grep -qE "^ok: OK [0-9]+$" <<<"$out"
  check "$name: vsock host -> guest: the guest's echo came back" grep -q "^echo: echo: ping$" <<<"$out"
  check "$name: vsock round trip done" wait_for "$con" "vsock done" "$p"
}

# 1. Only an API socket, as Firecracker's jailer starts it: the machine is
# configured and started over the API with paths inside --jail-dir.
JA=$T/ja SA=$T/fa.sock
mkdir -p "$JA/img" "$JA/snaps"
cp "$ELF" "$JA/img/vmlinux"
printf 'ARCA-BLK-SECTOR0' >"$JA/img/disk.img"; truncate -s 1M "$JA/img/disk.img"
vsock_service "$JA/v.sock_5001" "$T/fa-got"
"$VMM" --jail --jail-dir "$JA" --jail-pids 64 --api-sock "$SA" --serial "file:$T/fa.con" \
  2>"$T/fa.err" </dev/null &
pid=$!
wait_sock "$SA"
out=$(api "$SA" GET /)
check "fc: GET / answers before any machine exists (${out//$'\n'/ })" grep -q '"state":"Not started"' <<<"$out"
jailed fc "$pid" "$JA"
check "fc: the jailed VMM holds /dev/kvm, opened before the jail closed" holds "${child:-none}" /dev/kvm
check "fc: no seccomp filter yet (it comes with the machine)" \
  grep -q '^Seccomp:[[:space:]]*0$' "/proc/${child:-none}/status"
out=$(api "$SA" PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap0"}')
check "fc: PUT /network-interfaces refused with 400 (${out//$'\n'/ })" test "$(code "$out")" = 400
check "fc: ... saying how: --net on the command line" grep -qF 'give the tap on the command line (--net TAP' <<<"$out"
out=$(api "$SA" PUT /drives/bad '{"drive_id":"bad","path_on_host":"../../etc/passwd"}')
check "fc: a drive outside the jail dir refused with 400 (${out//$'\n'/ })" \
  replied "$out" 400 'field `path_on_host`: `../../etc/passwd` is outside the jail directory'
out=$(api "$SA" PUT /vsock '{"guest_cid":3,"uds_path":"/../v.sock"}')
check "fc: a vsock uds_path outside the jail dir refused with 400" \
  replied "$out" 400 'outside the jail directory'
out=$(api "$SA" PUT /boot-source '{"kernel_image_path":"/img/nosuch"}')
check "fc: PUT /boot-source of a missing kernel (204: its directory exists)" test "$(code "$out")" = 204
out=$(api "$SA" PUT /actions '{"action_type":"InstanceStart"}')
check "fc: InstanceStart without that kernel fails with 400 (${out//$'\n'/ })" \
  replied "$out" 400 '/img/nosuch'
check "fc: PUT /machine-config (204)" \
  test "$(code "$(api "$SA" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":64}')")" = 204
check "fc: PUT /boot-source inside the jail dir (204)" \
  test "$(code "$(api "$SA" PUT /boot-source '{"kernel_image_path":"/img/vmlinux","boot_args":"rng blk vsock=5001,1234 ticks=0 tickdelay=3000"}')")" = 204
check "fc: PUT /drives/rootfs relative to the jail's root (204)" \
  test "$(code "$(api "$SA" PUT /drives/rootfs '{"drive_id":"rootfs","path_on_host":"img/disk.img"}')")" = 204
check "fc: PUT /entropy (204)" test "$(code "$(api "$SA" PUT /entropy '{}')")" = 204
check "fc: PUT /vsock in the jail dir (204)" \
  test "$(code "$(api "$SA" PUT /vsock '{"guest_cid":3,"uds_path":"/v.sock"}')")" = 204
out=$(api "$SA" PUT /actions '{"action_type":"InstanceStart"}')
check "fc: InstanceStart after the failed one (204: /dev/kvm was kept) (${out//$'\n'/ })" test "$(code "$out")" = 204
check "fc: the guest boots" wait_for "$T/fa.con" "hello" "$pid"
check "fc: virtio-rng works" wait_for "$T/fa.con" "rng ok" "$pid"
check "fc: virtio-blk reads sector 0 of the jail's image" wait_for "$T/fa.con" "blk sector0=ARCA-BLK-SECTOR0" "$pid"
check "fc: virtio-blk readback same" wait_for "$T/fa.con" "blk readback same" "$pid"
check "fc: the guest's write reached the image in the jail dir" \
  sh -c "dd if='$JA/img/disk.img' bs=512 skip=1 count=1 2>/dev/null | grep -q guest-wrote-sector-1"
vsock_checks fc "$T/fa.con" "$pid" "$JA/v.sock" "$T/fa-got"
check "fc: the guest ticks" wait_for "$T/fa.con" "tick 2" "$pid"
seccomp_all fc
check "fc: GET / Running" grep -q '"state":"Running"' <<<"$(api "$SA" GET /)"
check "fc: PATCH /vm Paused (204)" test "$(code "$(api "$SA" PATCH /vm '{"state":"Paused"}')")" = 204
snap_tick=$(last_tick "$T/fa.con")
check "fc: snapshot/create into the jail dir (204)" \
  test "$(code "$(api "$SA" PUT /snapshot/create '{"snapshot_path":"/snaps/state","mem_file_path":"snaps/mem"}')")" = 204
stop_wait $pid; rc=$?; pid=
check "fc: SIGTERM stops it, status 0" test "$rc" = 0
gone fc
check "fc: the API socket is removed on the host" test ! -e "$SA"
check "fc: the vsock socket is removed from the jail dir" test ! -e "$JA/v.sock"

# 2. snapshot/load and --restore in the jail: the files, and the drive the
# snapshot names (/img/disk.img), are the jail dir's.
SL=$T/sl.sock
"$VMM" --jail --jail-dir "$JA" --api-sock "$SL" --serial "file:$T/sl.con" 2>"$T/sl.err" </dev/null &
pid=$!
wait_sock "$SL"
out=$(api "$SL" PUT /snapshot/load '{"snapshot_path":"../snaps/state","mem_file_path":"snaps/mem"}')
check "load: a snapshot_path outside the jail dir refused with 400" \
  replied "$out" 400 'outside the jail directory'
out=$(api "$SL" PUT /snapshot/load '{"snapshot_path":"/snaps/state","mem_file_path":"snaps/mem","resume_vm":true}')
check "load: PUT /snapshot/load from the jail dir (${out//$'\n'/ })" test "$(code "$out")" = 204
check "load: the guest ticks on" wait_for "$T/sl.con" "tick $((${snap_tick:-0} + 2))" "$pid"
check "load: never restarts the guest" sh -c "! grep -aq hello '$T/sl.con'"
jailed load "$pid" "$JA"
seccomp_all load
check "load: the drive is the jail dir's image" holds "${child:-none}" "$JA/img/disk.img"
check "load: the vsock socket is bound in the jail dir again" test -S "$JA/v.sock"
stop_wait $pid; rc=$?; pid=
check "load: SIGTERM stops it, status 0" test "$rc" = 0
gone load
check "load: sockets removed" test ! -e "$SL" -a ! -e "$JA/v.sock"

"$VMM" --jail --jail-dir "$JA" --restore snaps/state --mem-file /snaps/mem --serial "file:$T/rs.con" \
  2>"$T/rs.err" </dev/null &
pid=$!
check "restore: --restore from the jail dir ticks on" wait_for "$T/rs.con" "tick $((${snap_tick:-0} + 2))" "$pid"
check "restore: never restarts the guest" sh -c "! grep -aq hello '$T/rs.con'"
[ -s "$T/rs.err" ] && sed "s/^/# arca-vmm: /" "$T/rs.err"
jailed restore "$pid" "$JA"
seccomp_all restore
check "restore: the drive is the jail dir's image" holds "${child:-none}" "$JA/img/disk.img"
stop_wait $pid; rc=$?; pid=
check "restore: SIGTERM stops it, status 0" test "$rc" = 0
gone restore
check "restore: the vsock socket removed" test ! -e "$JA/v.sock"
run rsnodir --restore "$JA/snaps/state" --mem-file "$JA/snaps/mem"
check "restore: --jail --restore without --jail-dir refused" \
  sh -c "test $rc = 1 && grep -q 'none without --jail-dir' '$T/rsnodir.err'"
run rsout --jail-dir "$JA" --restore ../state --mem-file snaps/mem
check "restore: a state file outside the jail dir refused" \
  sh -c "test $rc = 1 && grep -q 'outside the jail directory' '$T/rsout.err'"

# 3. --vsock with a machine from the command line: PATH is in the jail dir.
JV=$T/jv
mkdir -p "$JV"
vsock_service "$JV/v.sock_5001" "$T/vs-got"
(cd "$T" && exec "$VMM" --jail --jail-dir jv --vsock 3,v.sock --kernel "$ELF" --memory 64 \
  --cmdline "vsock=5001,1234 ticks=0 tickdelay=3000" --serial "file:$T/vs.con" 2>"$T/vs.err" </dev/null) &
pid=$!
check "vsock: the guest sees CID 3" wait_for "$T/vs.con" "vsock cid=3" "$pid"
vsock_checks vsock "$T/vs.con" "$pid" "$JV/v.sock" "$T/vs-got"
jailed vsock "$pid" "$JV"
seccomp_all vsock
stop_wait $pid; rc=$?; pid=
check "vsock: SIGTERM stops it, status 0" test "$rc" = 0
gone vsock
check "vsock: the socket is removed from the jail dir" test ! -e "$JV/v.sock"
run vsnodir --vsock "3,$T/x.sock" --kernel "$ELF"
check "vsock: --jail --vsock without --jail-dir refused" \
  sh -c "test $rc = 1 && grep -q -- '--vsock names files inside the jail' '$T/vsnodir.err' && test ! -e '$T/x.sock'"
run vsout --jail-dir "$JV" --vsock 3,../x.sock --kernel "$ELF"
check "vsock: a path outside the jail dir refused" \
  sh -c "test $rc = 1 && grep -q 'outside the jail directory' '$T/vsout.err' && test ! -e '$T/x.sock'"
run vsfail --jail-dir "$JV" --vsock 3,v.sock --kernel "$T/nosuch"
check "vsock: a build that fails (no kernel) leaves no socket in the jail dir" \
  sh -c "test $rc = 1 && grep -q nosuch '$T/vsfail.err' && test ! -e '$JV/v.sock'"

# 4. --incoming: a jailed source (configured over the API, its drive in
# its jail dir) migrates to jailed destinations.  The destination's
# listener is bound before its jail closes, on the host, at a path inside
# the source's jail dir (so the jailed source reaches it); the drive the
# stream names opens inside the destination's jail dir.
JS=$T/js JD2=$T/jd2 JE=$T/je SS=$T/ms.sock
mkdir -p "$JS" "$JD2" "$JE"
cp "$ELF" "$JS/vmlinux"
printf 'ARCA-BLK-SECTOR0' >"$JS/disk.img"; truncate -s 1M "$JS/disk.img"
cp "$JS/disk.img" "$JD2/disk.img"   # its copy of the (shared) storage
"$VMM" --jail --jail-dir "$JS" --api-sock "$SS" --serial "file:$T/ms.con" 2>"$T/ms.err" </dev/null &
src=$!; pids+=($src)
wait_sock "$SS"
api "$SS" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":64}' >/dev/null
api "$SS" PUT /boot-source '{"kernel_image_path":"vmlinux","boot_args":"blk ticks=0 tickdelay=3000"}' >/dev/null
api "$SS" PUT /drives/rootfs '{"drive_id":"rootfs","path_on_host":"/disk.img"}' >/dev/null
out=$(api "$SS" PUT /actions '{"action_type":"InstanceStart"}')
check "migrate: jailed source started over the API (${out//$'\n'/ })" test "$(code "$out")" = 204
check "migrate: source ticks" wait_for "$T/ms.con" "tick 2" "$src"

# A destination whose jail dir lacks the drive: the migration fails, the
# source goes on, the destination leaves nothing.
"$VMM" --jail --jail-dir "$JE" --incoming "unix:$JS/in-bad.sock" --serial "file:$T/mb.con" \
  2>"$T/mb.err" </dev/null &
dst=$!; pids+=($dst)
wait_sock "$JS/in-bad.sock"
dchild=$(wait_kid "$dst"); dcg=$(cgroup_dir "${dchild:-none}")
out=$(api "$SS" PUT /migrate '{"destination":"unix:/in-bad.sock"}')
check "migrate: to a jail without the drive fails with 400 (${out//$'\n'/ })" test "$(code "$out")" = 400
wait "$dst"; rc=$?
check "migrate: that destination exits 1, naming the drive" \
  sh -c "test $rc = 1 && grep -q 'disk.img' '$T/mb.err'"
check "migrate: ... and leaves no socket file, no cgroup, no process" \
  test ! -e "$JS/in-bad.sock" -a -n "$dcg" -a ! -d "${dcg:-/nonexistent}" -a ! -d "/proc/${dchild:-none}"
t1=$(last_tick "$T/ms.con"); sleep 1
check "migrate: the source still runs ($t1 -> $(last_tick "$T/ms.con"))" \
  test "$(last_tick "$T/ms.con")" -gt "${t1:-0}"

DS=$T/md.sock
"$VMM" --jail --jail-dir "$JD2" --incoming "unix:$JS/in.sock" --api-sock "$DS" \
  --serial "file:$T/md.con" 2>"$T/md.err" </dev/null &
dst=$!; pids+=($dst)
wait_sock "$JS/in.sock"
check "migrate: the destination's listener is on the host before its jail closes" test -S "$JS/in.sock"
out=$(api "$SS" PUT /migrate '{"destination":"unix:in.sock"}')
check "migrate: PUT /migrate from jail to jail (${out//$'\n'/ })" test "$(code "$out")" = 200
wait "$src"; rc=$?
check "migrate: the source exits 0" test "$rc" = 0
check "migrate: the source's API socket is removed" test ! -e "$SS"
last=$(last_tick "$T/ms.con")
check "migrate: the count continues on the destination (source ${last:-none})" \
  wait_for "$T/md.con" "tick $((${last:-0} + 2))" "$dst"
check "migrate: the destination never restarts the guest" sh -c "! grep -aq hello '$T/md.con'"
wait_sock "$DS"
check "migrate: the destination's API serves from its jail" grep -q '"state":"Running"' <<<"$(api "$DS" GET /)"
jailed migrate "$dst" "$JD2"
seccomp_all migrate
check "migrate: the destination's drive is its jail dir's file, not the source's" \
  eval 'holds "${child:-none}" "$JD2/disk.img" && ! holds "${child:-none}" "$JS/disk.img"'
stop_wait $dst; rc=$?
check "migrate: the destination stops on SIGTERM, status 0" test "$rc" = 0
gone migrate
check "migrate: its listener's file and API socket are removed" test ! -e "$JS/in.sock" -a ! -e "$DS"
# Over TCP into a jail without --jail-dir (an empty root): a machine
# without files migrates in; the port is bound before the jail closes.
"$VMM" --api-sock "$T/mt.sock" --kernel "$ELF" --memory 64 --cmdline "ticks=0 tickdelay=3000" \
  --serial "file:$T/mt.con" 2>"$T/mt.err" </dev/null &
src=$!; pids+=($src)
wait_for "$T/mt.con" "tick 2" "$src"
port=$((20000 + RANDOM % 20000))
"$VMM" --jail --incoming "tcp:127.0.0.1:$port" --serial "file:$T/mtd.con" 2>"$T/mtd.err" </dev/null &
dst=$!; pids+=($dst)
dchild=$(wait_kid "$dst")
for _ in $(seq 50); do grep -qi ":$(printf '%04X' $port) .* 0A " /proc/net/tcp && break; sleep 0.1; done
out=$(api "$T/mt.sock" PUT /migrate "{\"destination\":\"tcp:127.0.0.1:$port\"}")
check "tcp: PUT /migrate into a jail without --jail-dir (${out//$'\n'/ })" test "$(code "$out")" = 200
wait "$src"; rc=$?
check "tcp: the source exits 0" test "$rc" = 0
last=$(last_tick "$T/mt.con")
check "tcp: the count continues in the jail (source ${last:-none})" \
  wait_for "$T/mtd.con" "tick $((${last:-0} + 2))" "$dst"
child=$(kids "$dst")
check "tcp: the destination's root is empty" test -n "$child" -a -z "$(ls -A /proc/${child:-none}/root/ 2>&1)"
check "tcp: CapEff 0, NoNewPrivs 1" \
  sh -c "grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/${child:-none}/status && grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/${child:-none}/status"
seccomp_all tcp
cgdir=$(cgroup_dir "${child:-none}")
stop_wait $dst; rc=$?
check "tcp: the destination stops on SIGTERM, status 0" test "$rc" = 0
gone tcp
run innodir --incoming "unix:$T/in3.sock" --api-sock "$T/in3-api.sock" --drive "$T/x.img"
check "migrate: --jail without --kernel refuses --drive (a host file)" \
  sh -c "test $rc = 1 && grep -q 'without --kernel' '$T/innodir.err' && test ! -e '$T/in3.sock' -a ! -e '$T/in3-api.sock'"

# Without --jail-dir, files named over the API get a clear fault.
"$VMM" --jail --api-sock "$T/nd.sock" --serial none 2>"$T/nd.err" </dev/null &
pid=$!
wait_sock "$T/nd.sock"
out=$(api "$T/nd.sock" PUT /boot-source "{\"kernel_image_path\":\"$ELF\"}")
check "nodir: PUT /boot-source refused with 400 naming --jail-dir (${out//$'\n'/ })" \
  replied "$out" 400 'without --jail-dir'
stop_wait $pid; rc=$?; pid=
check "nodir: SIGTERM stops it, status 0, socket removed" test "$rc" = 0 -a ! -e "$T/nd.sock"
else
  echo "# flows: skipped: curl or python3 not installed"
fi
run nodir --jail-dir "$T/nosuch" --kernel "$ELF"
check "--jail-dir that does not exist is refused" has nodir.err "--jail-dir"
run badmem --jail-memory 0 --kernel "$ELF"
check "--jail-memory 0 is refused" has badmem.err "--jail-memory"

tap_done
