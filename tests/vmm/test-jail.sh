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
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$T"' EXIT
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
run noker --api-sock "$T/api3.sock"
check "--jail --api-sock without --kernel is refused" \
  sh -c "test $rc = 1 && grep -q -- '--kernel' '$T/noker.err' && test ! -e '$T/api3.sock'"
run nodir --jail-dir "$T/nosuch" --kernel "$ELF"
check "--jail-dir that does not exist is refused" has nodir.err "--jail-dir"
run badmem --jail-memory 0 --kernel "$ELF"
check "--jail-memory 0 is refused" has badmem.err "--jail-memory"

tap_done
