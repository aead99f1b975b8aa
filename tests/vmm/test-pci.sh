#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtio over PCI (--transport pci), the CMOS RTC and virtio-balloon
# statistics, driven by the test guest: PCI bus 0 enumerated, BAR0 sized,
# virtio-blk and virtio-rng through the virtio-pci capabilities, garbage
# config and BAR accesses survived; the RTC's date in BCD and binary; the
# balloon's statistics queue polled and read over the API.
# usage: test-pci.sh ARCA_VMM GUEST_ELF      (prints TAP)
set -u
VMM=$1 ELF=$2
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"

T=$(mktemp -d)
pids=()
cleanup () { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
run () {
  local name=$1; shift
  timeout -k 10 60 "$VMM" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
  rc=$?
}
has () { grep -qF -- "$2" "$T/$1"; }

printf 'ARCA-BLK-SECTOR0' >"$T/disk.img"; truncate -s 1M "$T/disk.img"
run pci --kernel "$ELF" --transport pci --drive "$T/disk.img" --rng --cmdline "pci pcigarbage rng blk" --metrics
check "pci: host bridge at slot 0" has pci.out "pci slot=0 id=81b36 class=60000"
check "pci: virtio-blk 1af4:1042, BAR0 16 KiB in the window, INTA# on IRQ 16" \
  has pci.out "pci slot=1 id=10421af4 class=18000 bar0=0xe0000000 size=16384 line=16 pin=1"
check "pci: virtio-rng 1af4:1044 in slot 2" has pci.out "pci slot=2 id=10441af4 class=ff0000 bar0=0xe0004000 size=16384 line=17 pin=1"
check "pci: no virtio-mmio device announced" sh -c "! grep -q virtio_mmio.device '$T/pci.out'"
check "pci garbage: read-only id kept" has pci.out "pcigarbage id intact=1"
check "pci garbage: empty slot and other bus read all ones" \
  sh -c "grep -q 'pcigarbage empty slot reads ones=1' '$T/pci.out' && grep -q 'pcigarbage bus 3 reads ones=1' '$T/pci.out'"
check "pci garbage: capability list kept, BAR still sizes" \
  sh -c "grep -q 'pcigarbage capabilities intact=1' '$T/pci.out' && grep -q 'pcigarbage bar size=16384' '$T/pci.out'"
check "pci: virtio-rng works after the garbage" has pci.out "rng ok"
check "pci: virtio-blk reads the host's sector" has pci.out "blk sector0=ARCA-BLK-SECTOR0"
check "pci: virtio-blk write + read back" has pci.out "blk readback same"
check "pci: the write reached the host file" \
  sh -c "dd if='$T/disk.img' bs=512 skip=1 count=1 2>/dev/null | grep -q guest-wrote-sector-1"
check "pci: exit 0, no device error" sh -c "test $rc = 0 && grep -q '\"virtio_errors\": 0' '$T/pci.err'"

run mmio --kernel "$ELF" --transport mmio --rng --cmdline "rng"
check "--transport mmio keeps virtio-mmio" sh -c "grep -q 'virtio_mmio.device=4K@0xd0000000:5' '$T/mmio.out' && grep -q 'rng ok' '$T/mmio.out'"
run badt --kernel "$ELF" --transport isa
check "unknown transport refused" has badt.err "--transport"

run rtc --kernel "$ELF" --cmdline rtc
check "rtc: no update in progress" has rtc.out "rtc uip=0"
check "rtc: BCD, 24-hour by default" has rtc.out "rtc status-b=2"
check "rtc: the host's date" has rtc.out "rtc date=$(date -u +%Y-%m-%d)"
check "rtc: binary mode gives the same year" has rtc.out "rtc binary year matches=1"
check "rtc: CMOS RAM byte kept (NMI bit ignored)" has rtc.out "rtc cmos ram kept=1"

# Balloon statistics over the API, on the PCI transport.
if command -v curl >/dev/null; then
  SOCK=$T/api.sock
  "$VMM" --kernel "$ELF" --transport pci --balloon 0,stats=1 --api-sock "$SOCK" \
    --cmdline "pci balloonstats=8" --serial "file:$T/stats.out" 2>"$T/stats.err" &
  pids+=($!)
  for _ in $(seq 300); do grep -q 'round=2' "$T/stats.out" 2>/dev/null && break; sleep 0.1; done
  curl -s --max-time 10 --unix-socket "$SOCK" http://localhost/balloon/statistics >"$T/stats.json"
  check "balloon stats: the device hands the buffer back each interval" has stats.out "balloonstats returned round=2"
  check "balloon stats: GET /balloon/statistics shows the guest's values" \
    sh -c "grep -q '\"free_memory\":19087360' '$T/stats.json' && grep -q '\"total_memory\":134217728' '$T/stats.json' && grep -q '\"stats_polling_interval_s\":1' '$T/stats.json'"
  check "balloon stats: PATCH /balloon/statistics sets a new interval" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PATCH -d '{"stats_polling_interval_s":2}' http://localhost/balloon/statistics)" = 204
  check "balloon stats: cannot be turned off after boot" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PATCH -d '{"stats_polling_interval_s":0}' http://localhost/balloon/statistics)" = 400
  # Bounded: a guest that never finishes its polls must fail, not hang.
  for _ in $(seq 600); do kill -0 "${pids[-1]}" 2>/dev/null || break; sleep 0.1; done
  kill "${pids[-1]}" 2>/dev/null
  wait "${pids[-1]}" 2>/dev/null
  check "balloon stats: all eight polls answered" has stats.out "balloonstats returned round=8"
  run nostats --kernel "$ELF" --balloon 0 --cmdline "balloonstats=1"
  check "balloon without stats: no statistics queue offered" has nostats.out "balloonstats no device or no statistics queue"
else
  echo "# balloon statistics tests skipped: no curl"
fi

tap_done
