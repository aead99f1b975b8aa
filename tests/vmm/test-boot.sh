#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots the test guest through every entry path and checks what it prints,
# how arca-vmm exits, and that hostile or broken inputs give clear errors.
# usage: test-boot.sh ARCA_VMM GUEST_ELF GUEST_BZIMAGE      (prints TAP)
set -u
VMM=$1 ELF=$2 BZ=$3
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# run NAME ARGS...: runs arca-vmm, output in $T/NAME.out/.err, status in $rc.
run () {
  local name=$1; shift
  timeout -k 10 30 "$VMM" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
  rc=$?
}
has () { grep -qF -- "$2" "$T/$1"; }

for path in pvh linux64 bzimage; do
  case $path in
    pvh) run $path --kernel "$ELF" --cmdline "exit=7 path-test" ; want=pvh ;;
    linux64) run $path --kernel "$ELF" --entry linux64 --cmdline "exit=7 path-test" ; want=elf64 ;;
    bzimage) run $path --kernel "$BZ" --cmdline "exit=7 path-test" ; want=linux64 ;;
  esac
  check "$path: guest says hello" has $path.out "arca-test-guest: hello"
  check "$path: entered through $want" has $path.out "arca-test-guest: entry=$want"
  check "$path: command line reaches the guest" has $path.out "arca-test-guest: cmdline=exit=7 path-test"
  check "$path: default memory map is 128 MiB" has $path.out "arca-test-guest: ram=128MiB"
  check "$path: exit status from the debug-exit port" test "$rc" = 7
  check "$path: nothing on stderr" test ! -s "$T/$path.err"
done

run mem --kernel "$BZ" --memory 256
check "--memory 256: guest sees 256 MiB" has mem.out "ram=256MiB"
check "--memory 256: exit 0" test "$rc" = 0
# 4 GiB: RAM is split around the MMIO hole at 3 GiB, so it ends at 5 GiB.
run bigmem --kernel "$ELF" --memory 4096
check "--memory 4096: RAM above 4 GiB in the memory map" has bigmem.out "ram=5120MiB"

run pvh-bz --kernel "$BZ" --entry pvh
check "bzImage with --entry pvh is refused" test "$rc" = 1
check "bzImage with --entry pvh: clear error" has pvh-bz.err "a bzImage has no PVH entry"

echo "this is not a kernel" >"$T/bad"
run bad --kernel "$T/bad"
check "bad kernel file: exit 1" test "$rc" = 1
check "bad kernel file: clear error" has bad.err "not an ELF or bzImage file"
head -c 100 "$ELF" >"$T/trunc.elf"
run trunc --kernel "$T/trunc.elf"
check "truncated ELF: exit 1" test "$rc" = 1
check "truncated ELF: names the problem" has trunc.err "ELF program headers are malformed"
head -c 2000 "$BZ" >"$T/trunc.bz"
run truncbz --kernel "$T/trunc.bz"
check "truncated bzImage: exit 1" test "$rc" = 1
check "truncated bzImage: clear error" has truncbz.err "bzImage truncated"
run missing --kernel "$T/nonexistent"
check "missing kernel: error names the path" has missing.err "open \`$T/nonexistent\`"
run nomem --kernel "$ELF" --memory 4
check "--memory 4 is refused" has nomem.err "--memory"

run oob --kernel "$ELF" --cmdline oob --metrics
check "access beyond RAM: VMM survives, guest finishes" test "$rc" = 0
check "access beyond RAM: reads all ones, writes vanish" has oob.out "read 0xffffffff after write 0xffffffff"
check "access beyond RAM: counted as unhandled MMIO" grep -q '"unhandled_mmio": [1-9]' "$T/oob.err"

run mp1 --kernel "$ELF" --cmdline mp
check "MP table: 1 processor" has mp1.out "mp cpus=1"
check "MP table: IOAPIC at 0xfec00000" has mp1.out "mp ioapic=0xfec00000"
run mp3 --kernel "$BZ" --cpus 3 --cmdline mp
check "MP table: --cpus 3 gives 3 processors, one BSP" \
  sh -c "grep -q 'mp cpus=3' '$T/mp3.out' && grep -q 'mp bsp=1' '$T/mp3.out'"

# Application processors: INIT + SIPI from the guest, real mode -> long mode.
run smp --kernel "$ELF" --cpus 3 --cmdline "smp=3"
check "--cpus 3: the guest starts both application processors" has smp.out "smp aps started=2"
run smp-bz --kernel "$BZ" --cpus 2 --cmdline "smp=2 exit=5"
check "--cpus 2 (bzImage): application processor started" has smp-bz.out "smp aps started=1"
check "--cpus 2: halted APs do not keep the VM from exiting" test "$rc" = 5

run reset --kernel "$ELF" --cmdline reset
check "i8042 reset ends the VM with status 0" test "$rc" = 0
check "i8042 reset: guest got there" has reset.out "arca-test-guest: reset"
run fault --kernel "$ELF" --cmdline fault
check "triple fault: exit 1" test "$rc" = 1
check "triple fault: reported" has fault.err "triple fault"

run marker --kernel "$BZ" --metrics
check "boot marker recorded with a timestamp" grep -q '"boot_markers_us": \[[1-9]' "$T/marker.err"
check "first serial byte timestamp recorded" grep -q '"first_serial_byte_us": [1-9]' "$T/marker.err"

echo "hello from the host" | timeout -k 10 30 "$VMM" --kernel "$ELF" --cmdline echo >"$T/echo.out" 2>"$T/echo.err"
rc=$?
check "serial input reaches the guest" has echo.out "arca-test-guest: echo=hello from the host"
check "serial input: exit 0" test "$rc" = 0

run file --kernel "$ELF" --serial "file:$T/console.log"
check "--serial file: console goes to the file" grep -qF "arca-test-guest: hello" "$T/console.log"
check "--serial file: nothing on stdout" test ! -s "$T/file.out"

# The running VMM is under its seccomp filter, every thread of it.
"$VMM" --kernel "$ELF" --cmdline "ticks=0" --serial "file:$T/sc.log" &
pid=$!
for _ in $(seq 50); do grep -q "tick 1" "$T/sc.log" 2>/dev/null && break; sleep 0.1; done
modes=$(cat /proc/$pid/task/*/status | awk '/^Seccomp:/ {print $2}' | sort -u | tr '\n' ' ')
nthreads=$(ls /proc/$pid/task | wc -l)
stop_wait $pid
check "seccomp filter on all $nthreads threads (modes: $modes)" test "$modes" = "2 "
check "vCPU, device and signal threads exist" test "$nthreads" -ge 3
"$VMM" --kernel "$ELF" --cmdline "ticks=0" --serial none --no-seccomp &
pid=$!
sleep 0.3
modes=$(awk '/^Seccomp:/ {print $2}' /proc/$pid/status)
stop_wait $pid
check "--no-seccomp leaves the process unfiltered" test "$modes" = 0

# A guest that spins for a long time is stopped by SIGTERM, promptly:
# within 2 s, or twice what a whole boot-to-exit run of the same guest
# takes here when that is longer (a nested, loaded host spends seconds
# tearing a VM down).  The guest would count for hours, so a VMM that
# ignored SIGTERM runs into the 30 s timeout and fails either way.
start=$(date +%s%N)
run baseline --kernel "$ELF" --serial none
limit=$(( ($(date +%s%N) - start) / 500000 ))
[ "$limit" -ge 2000 ] || limit=2000
timeout -k 10 30 "$VMM" --kernel "$ELF" --cmdline "count=100000000000000" --serial none &
pid=$!
sleep 0.5
start=$(date +%s%N)
kill -TERM $pid
wait $pid
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "SIGTERM stops a running guest with status 0" test "$rc" = 0
check "SIGTERM stops it within ${limit} ms (took ${ms} ms)" test "$ms" -lt "$limit"

tap_done
