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

run api --api-sock "$T/api.sock" --kernel "$ELF"
check "--jail with --api-sock is refused" test "$rc" = 1 -a -n "$(grep -- --jail "$T/api.err")"
run badmem --jail-memory 0 --kernel "$ELF"
check "--jail-memory 0 is refused" has badmem.err "--jail-memory"

tap_done
