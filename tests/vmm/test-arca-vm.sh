#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `arca vm`: microVMs through the engine's command line (one detached
# arca-vmm per VM, driven over its API socket). What is checked is what the
# guest and the host show: the test guest's tick counter on its console,
# the VMM process, the files a snapshot writes, what is left after rm.
# usage: test-arca-vm.sh ARCA GUEST_ELF      (prints TAP)
set -u
ARCA=$1 ELF=$2
. "$(dirname "$0")/tap.sh"

T=$(mktemp -d)
trap 'for n in $(a vm ls -q 2>/dev/null); do a vm rm -f "$n" >/dev/null 2>&1; done; rm -rf "$T"' EXIT
# Generous: under nested emulation one arca command can take seconds.
a () { timeout -k 10 120 "$ARCA" --root "$T/root" --run-root "$T/run" "$@"; }
q () { a "$@" >/dev/null; }
# The console file itself: cheap to poll (`vm logs` is checked once below).
last_tick () { grep -ao 'tick [0-9]*' "$T/run/vms/$1/console.log" 2>/dev/null | tail -n 1 | cut -d' ' -f2; }
wait_tick () { # wait_tick VM N: up to 10 s for a tick >= N
  local t
  for _ in $(seq 100); do t=$(last_tick "$1"); [ "${t:-0}" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
state_of () { a vm ls --format json | jq -r --arg n "$1" '.[] | select(.Name == $n) | .State'; }
pid_of () { a vm ls --format json | jq -r --arg n "$1" '.[] | select(.Name == $n) | .Pid'; }

if [ ! -e /dev/kvm ]; then
  out=$(a vm run --name nokvm --kernel "$ELF" 2>&1); rc=$?
  check "without /dev/kvm: vm run fails (125) naming /dev/kvm" test $rc = 125 -a -n "$(grep /dev/kvm <<<"$out")"
  check "without /dev/kvm: nothing is left" test -z "$(ls "$T/run/vms" 2>/dev/null)"
  tap_done
fi

out=$(a vm run --name v1 --kernel "$ELF" --cmdline "ticks=0 tickdelay=3000" --memory 64)
check "vm run prints the name" test "$out" = v1
[ "$out" = v1 ] || tap_done  # the rest needs the VM
check "the guest ticks on its console" wait_tick v1 3
check "vm logs prints the console" grep -q 'tick [0-9]' <(a vm logs v1)
pid=$(pid_of v1)
check "vm ls: v1 Running with the VMM's pid" test "$(state_of v1)" = Running -a -n "$pid"
check "that pid is an arca-vmm process" grep -q arca-vmm "/proc/$pid/cmdline"

out=$(a vm run --name v1 --kernel "$ELF" 2>&1); rc=$?
check "a second VM with the same name is refused (125)" test $rc = 125
check "... naming the conflict" grep -q 'already exists' <<<"$out"
check "... and the first one still runs" test "$(state_of v1)" = Running
out=$(a vm run --name '../x' --kernel "$ELF" 2>&1); rc=$?
check "a name with a slash is refused" test $rc = 125
out=$(a vm run --name nok --kernel "$T/missing-kernel" 2>&1); rc=$?
check "a missing kernel is refused, naming it" test $rc = 125 -a -n "$(grep missing-kernel <<<"$out")"
check "... and leaves no VM behind" test -z "$(a vm ls -q | grep nok)"
out=$(a vm run --name badmem --kernel "$ELF" --memory 1 2>&1); rc=$?
check "a VMM that refuses its settings: its own error, exit 125" test $rc = 125 -a -n "$(grep -i 'memory' <<<"$out")"
check "... nothing left of it" test ! -e "$T/run/vms/badmem"

check "vm pause" q vm pause v1
check "state Paused" test "$(state_of v1)" = Paused
t1=$(last_tick v1); sleep 0.5; t2=$(last_tick v1)
check "no ticks while paused ($t1 -> $t2)" test "$t1" = "$t2"
check "vm resume" q vm resume v1
check "ticks again after resume" wait_tick v1 $((t2 + 2))

info=$(a vm inspect v1)
check "vm inspect: machine config (64 MiB)" test "$(jq -r '.[0].MachineConfig.mem_size_mib' <<<"$info")" = 64
check "vm inspect: metrics count serial bytes" test "$(jq -r '.[0].Metrics.serial_bytes_out' <<<"$info")" -gt 0

check "vm snapshot --leave-paused of a running VM" q vm snapshot --leave-paused v1 "$T/snap"
check "the snapshot has its state and memory files" test -s "$T/snap/state" -a "$(stat -c %s "$T/snap/mem" 2>/dev/null)" = $((64 << 20))
check "... and the VM is left paused" test "$(state_of v1)" = Paused
snap_tick=$(last_tick v1)   # the count the snapshot holds: nothing ran since
check "vm resume after the snapshot" q vm resume v1
check "a snapshot without --leave-paused keeps the VM running" q vm snapshot v1 "$T/snap2"
check "... state Running" test "$(state_of v1)" = Running

check "vm restore into a new VM" q vm restore --name v2 "$T/snap"
if [ -e "$T/run/vms/v2" ]; then
check "the restored guest's counter continues past the snapshot's ($snap_tick)" wait_tick v2 $((snap_tick + 2))
first=$(grep -ao 'tick [0-9]*' "$T/run/vms/v2/console.log" | head -n 1 | cut -d' ' -f2)
check "... and does not start again from 0 (first tick ${first:-none})" test "${first:-0}" -ge "${snap_tick:-1}"

out=$(a vm rm v2 2>&1); rc=$?
check "vm rm of a running VM without -f is refused" test $rc = 125 -a "$(state_of v2)" = Running
pid2=$(pid_of v2)
check "vm rm -f stops and forgets it" q vm rm -f v2
check "... its process is gone" test ! -d "/proc/$pid2" -o -z "$(grep arca-vmm "/proc/$pid2/cmdline" 2>/dev/null)"
check "... and its directory" test ! -e "$T/run/vms/v2"
fi

check "vm receive waits for a migration" q vm receive --name v3 "unix:$T/mig.sock"
check "vm migrate v1 -> v3" q vm migrate v1 "unix:$T/mig.sock"
check "the migrated guest ticks on in v3" wait_tick v3 $(( $(last_tick v1) + 2 ))
check "the source is Stopped after migrating" test "$(state_of v1)" = Stopped

check "vm stop -t 1" q vm stop -t 1 v3
check "state Stopped, no socket" test "$(state_of v3)" = Stopped -a ! -e "$T/run/vms/v3/api.sock"
check "vm rm of stopped VMs" q vm rm v1 v3
check "nothing left under the run root" test -z "$(ls "$T/run/vms")"
out=$(a vm pause nosuch 2>&1); rc=$?
check "an unknown VM is an error" test $rc = 125
tap_done
