#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtio-mmio devices driven by the test guest: virtio-rng bytes, virtio-blk
# reads/writes/flush checked on the host file, read-only drives, and
# malformed virtqueues that must reset the device, never crash the VMM.
# usage: test-virtio.sh ARCA_VMM GUEST_ELF      (prints TAP)
set -u
VMM=$1 ELF=$2
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run () {
  local name=$1; shift
  timeout -k 10 30 "$VMM" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
  rc=$?
}
has () { grep -qF -- "$2" "$T/$1"; }

run rng --kernel "$ELF" --rng --cmdline rng
check "virtio-rng: device announced on the command line" has rng.out "virtio_mmio.device=4K@0xd0000000:5"
check "virtio-rng: 32 bytes per request" has rng.out "rng bytes=32"
check "virtio-rng: two requests differ" has rng.out "rng ok"
check "virtio-rng: exit 0" test "$rc" = 0

mkdisk () { printf 'ARCA-BLK-SECTOR0' >"$1"; truncate -s 1M "$1"; }
mkdisk "$T/disk.img"
run blk --kernel "$ELF" --drive "$T/disk.img" --cmdline blk --metrics
check "virtio-blk: capacity in sectors" has blk.out "blk capacity=2048"
check "virtio-blk: reads what the host wrote" has blk.out "blk sector0=ARCA-BLK-SECTOR0"
check "virtio-blk: write ok" has blk.out "blk write status=0"
check "virtio-blk: flush ok" has blk.out "blk flush status=0"
check "virtio-blk: reads back its write" has blk.out "blk readback same"
check "virtio-blk: read past the end is IOERR" has blk.out "blk past-end status=1"
check "virtio-blk: the write reached the host file" \
  sh -c "dd if='$T/disk.img' bs=512 skip=1 count=1 2>/dev/null | grep -q guest-wrote-sector-1"
check "virtio-blk: byte counters" grep -q '"blk_read_bytes": 1024, "blk_write_bytes": 512' "$T/blk.err"

mkdisk "$T/ro.img"
sum=$(sha256sum <"$T/ro.img")
run ro --kernel "$ELF" --drive "$T/ro.img,ro" --cmdline blk
check "read-only drive: reads work" has ro.out "blk sector0=ARCA-BLK-SECTOR0"
check "read-only drive: write fails with IOERR" has ro.out "blk write status=1"
check "read-only drive: sector unchanged in the guest" has ro.out "blk readback different"
check "read-only drive: host file unchanged" test "$(sha256sum <"$T/ro.img")" = "$sum"

run two --kernel "$ELF" --rng --drive "$T/disk.img" --cmdline "rng blk"
check "blk and rng side by side" sh -c "grep -q 'rng ok' '$T/two.out' && grep -q 'blk readback same' '$T/two.out'"

run bad --kernel "$ELF" --rng --cmdline badvq --metrics
check "descriptor outside RAM: device needs reset" has bad.out "badvq outside-ram needs-reset=1"
check "looping chain: device needs reset" has bad.out "badvq loop needs-reset=1"
check "device works again after a reset" has bad.out "badvq after reset bytes=32"
check "malformed queues: VMM survives, exit 0" test "$rc" = 0
check "malformed queues: counted" grep -q '"virtio_errors": 2' "$T/bad.err"
check "malformed queues: reason logged" has bad.err "descriptor buffer outside guest RAM"

run nodisk --kernel "$ELF" --drive "$T/missing.img"
check "missing drive file: clear error" has nodisk.err "drive \`$T/missing.img\`"
run badopt --kernel "$ELF" --drive "$T/disk.img,rw"
check "unknown drive option refused" has badopt.err "unknown option"

# virtio-net on a tap: the guest's ARP request reaches the host kernel and
# its reply comes back through the receive queue.
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && command -v ip >/dev/null; then
  TAP=arcavt$$
  TAP=${TAP:0:15}
  ip tuntap add dev "$TAP" mode tap && ip addr add 10.213.7.1/24 dev "$TAP" && ip link set "$TAP" up
  run net --kernel "$ELF" --net "$TAP,mac=02:00:00:aa:bb:cc" --cmdline "arp=10.213.7.1,10.213.7.2"
  hostmac=$(cat /sys/class/net/$TAP/address)
  ip link del "$TAP"
  check "virtio-net: MAC from the config space" has net.out "net mac=02:00:00:aa:bb:cc"
  check "virtio-net: ARP reply from the host's tap ($hostmac)" has net.out "net arp reply from $hostmac"
  check "virtio-net: exit 0" test "$rc" = 0
else
  echo "# virtio-net tests skipped: need root, /dev/net/tun and ip"
fi
run notap --kernel "$ELF" --net "bad/name/that/is/too/long"
check "bad tap name: clear error" has notap.err "tap name"

tap_done
