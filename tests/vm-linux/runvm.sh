#!/usr/bin/env bash
# `arca run --vm` end to end under real hardware virtualization: QEMU TCG
# with an emulated AMD SVM CPU boots the Debian kernel with runvm-init.sh as
# /init; the host's / is shared into it read-only (virtio-9p) and the outer
# init runs the engine from BUILD in a chroot of it, with tmpfs for arca's
# store and run state.  So the whole path runs: image store, the rootfs
# and agent archives, arca-vmm, the nested Debian kernel, the guest agent
# and the relay of output and exit status.  Prints TAP.
#
#   tests/vm-linux/runvm.sh BUILD WORK
# BUILD: a normal (dynamic) meson build dir with arca, arca-vmm and
# arca-guest-agent (configured here when missing; must be on a host path
# the outer VM sees under the same name, i.e. anything but a tmpfs-only
# mount; BUILD itself is shared on its own, so it may be under /tmp).
# Environment: RUNVM_OUTER_TIMEOUT (900 s), RUNVM_TIMEOUT (300 s
# per `arca run --vm`).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:?usage: runvm.sh BUILD WORK}
work=${2:?usage: runvm.sh BUILD WORK}
out=$work/vm-linux-runvm
mkdir -p "$out"
out=$(cd "$out" && pwd)
outer_timeout=${RUNVM_OUTER_TIMEOUT:-900}

bail() { echo "1..0 # SKIP $*"; exit 0; }
fail_setup() { echo "Bail out! $*"; exit 1; }
for t in qemu-system-x86_64 cpio busybox meson ninja; do
  command -v $t >/dev/null 2>&1 || bail "$t not installed (make deps)"
done
[[ $(id -u) -eq 0 ]] || bail "needs root (reads /boot/vmlinuz, makes device nodes)"
qemu-system-x86_64 -device help 2>/dev/null | grep -q virtio-9p-pci || bail "QEMU without virtio-9p"

kernel=$(bash "$src/scripts/guest-kernel.sh") || fail_setup "no guest kernel"
release=$(bash "$src/scripts/guest-kernel.sh" --release)
modules=/lib/modules/$release

if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$src" >"$out/meson.log" 2>&1 || fail_setup "meson setup $build failed (see $out/meson.log)"
fi
ninja -C "$build" src/cli/engine/arca src/cli/vmm/arca-vmm src/cli/guest-agent/arca-guest-agent \
  >"$out/ninja.log" 2>&1 || fail_setup "building arca, arca-vmm and the guest agent failed (see $out/ninja.log)"
build=$(cd "$build" && pwd)

copy_module() {
  local name=$1 dest=$2 f
  f=$(find "$modules/kernel" -name "$name.ko*" -print -quit)
  [[ -n $f ]] || return 1
  case $f in
    *.ko) cp "$f" "$dest/$name.ko" ;;
    *.ko.xz) xz -dc "$f" >"$dest/$name.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$dest/$name.ko" ;;
    *.ko.gz) gzip -dc "$f" >"$dest/$name.ko" ;;
    *) return 1 ;;
  esac
}

root=$out/outer-root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,modules}
cp "$(command -v busybox)" "$root/bin/busybox"
mknod -m 600 "$root/dev/console" c 5 1
install -m 755 "$here/runvm-init.sh" "$root/init"
# The source tree is not shared (a CI clone under /tmp sits below the outer
# VM's tmpfs): what the init runs from it travels in the initramfs.
install -m 755 "$src/tests/engine/pty-drive.py" "$root/pty-drive.py"
# In dependency order (modules.dep): virtio over PCI for 9p, 9p, overlayfs
# for the engine's image view, then KVM.
order="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay irqbypass kvm ccp kvm-amd"
: >"$root/modules/order"
for m in $order; do
  if copy_module "$m" "$root/modules"; then
    echo "$m" >>"$root/modules/order"
  elif [[ $m != ccp && $m != fscache && $m != netfs && $m != virtio_pci_legacy_dev ]]; then
    fail_setup "module $m not in $modules"
  fi
done
cat >"$root/etc/runvm.conf" <<CONF
RUNVM_ARCA=$build/src/cli/engine/arca
RUNVM_BUILD=$build
RUNVM_SRC=$src
RUNVM_KERNEL=$kernel
RUNVM_TIMEOUT=${RUNVM_TIMEOUT:-300}
CONF
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out/outer-initrd.cpio"

# no_timer_check: on a loaded host the emulated CPU can be too slow for the
# kernel's IO-APIC timer check, which then panics ("IO-APIC + timer doesn't work").
log=$out/outer.log
start=$(date +%s%N)
timeout -k 5 "$outer_timeout" qemu-system-x86_64 -cpu max,+svm -m 1536 -M pc -smp 1 \
  -nodefaults -no-user-config -display none -no-reboot -serial "file:$log" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$build",mount_tag=build,security_model=none,readonly=on,multidevs=remap \
  -kernel "$kernel" -initrd "$out/outer-initrd.cpio" \
  -append "console=ttyS0 printk.devkmsg=on loglevel=5 panic=-1 reboot=k no_timer_check" \
  </dev/null >"$out/qemu.err" 2>&1
qrc=$?
outer_ms=$((($(date +%s%N) - start) / 1000000))

report=$out/report.txt
tr -d '\r' <"$log" | sed -n 's/.*ARCA-VML: //p' >"$report"
field() { awk -v k="$1" -v w="$2" '$1 == w { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$report"; }
lines() { sed -n "s/^$1: //p" "$report"; }

n=0
check() {
  local d=$1; shift
  n=$((n + 1))
  if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; grep -E "^($name|kvm|host)" "$report" | tail -n 20 | sed 's/^/#   /'; fi
}

echo "1..25"
echo "# outer VM: qemu exit $qrc after ${outer_ms} ms; log $log"
name=host
check "outer VM has /dev/kvm (kvm-amd) and the host's / over virtio-9p" \
  grep -q '^host=ready' "$report"

name=hi
echo "# arca run --vm busybox echo hi: exit $(field exit hi), timed out $(field timeout hi), $(field wall_ms hi) ms"
check "arca run --vm busybox echo hi prints hi" test "$(lines hi-out)" = hi
check "... and exits 0 with nothing on stderr" test "$(field exit hi)" = 0 -a -z "$(lines hi-err)"
check "... on the default network: after it no tap, no endpoint row, no address is left" \
  grep -qx 'after-hi taps=0 rows=0' "$report"

name=seven
echo "# arca run --vm ... sh -c 'exit 7': exit $(field exit seven), $(field wall_ms seven) ms"
check "arca run --vm busybox sh -c '... exit 7' returns 7" test "$(field exit seven)" = 7
check "-e, -w, -u, --hostname reach the command; stderr stays stderr" \
  test "$(lines seven-out | head -n 1)" = "bar /tmp 1000:1000 vmhost" -a "$(lines seven-err)" = to-stderr
check "--network none: the guest has lo only" test "$(lines seven-out | sed -n 2p)" = "nics lo"
check "the run without --rm keeps its directory, the --rm run none; no mount left" \
  test "$(sed -n 's/^runs=\([0-9]*\) mounts=\([0-9]*\)$/\1 \2/p' "$report")" = "1 0"

name=disk
echo "# ARCA_VM_ROOT=disk arca run --vm: exit $(field exit disk), $(field wall_ms disk) ms"
check "ARCA_VM_ROOT=disk: the root is an ext4 disk on virtio-blk over PCI under an overlay, the status comes back" \
  test "$(lines disk-out | tr '\n' ' ')" = "1 1000 " -a "$(field exit disk)" = 3

name=net
echo "# arca run --vm on the bridge (ping, wget): exit $(field exit net), $(field wall_ms net) ms"
net_out=$(lines net-out)
echo "$net_out" | sed 's/^/#   /'
check "the guest's eth0 has an address of the bridge's subnet, its default route is the gateway" \
  eval 'echo "$net_out" | sed -n 1p | grep -Eq "^2: eth0 +inet 172\.30\.71\.([2-9]|[1-9][0-9]+)/24\$" &&
    echo "$net_out" | sed -n 2p | grep -Eq "^default via 172\.30\.71\.1 dev eth0 *\$"'
check "/etc/hosts names the guest by its address" \
  eval 'echo "$net_out" | sed -n 3p | grep -Eq "^172\.30\.71\.[0-9]+\s+vmnet\$"'
check "the guest pings the gateway" test "$(echo "$net_out" | sed -n 4p)" = ping-ok
check "wget in the guest fetches the page of httpd on the host side of the bridge; exit 0" \
  test "$(echo "$net_out" | sed -n 5p)" = "page from the outer host" -a "$(field exit net)" = 0
check "a 3000-byte ping from the guest is answered (the host's reply in fragments on the guest's /32 route at 1500)" \
  test "$(echo "$net_out" | sed -n 6p)" = bigping-ok
check "after the run no tap, no endpoint row, no address is left" \
  grep -qx 'after-net taps=0 rows=0' "$report"

name=cati
echo "# echo hi | arca run --vm -i busybox cat: exit $(field exit cati), $(field wall_ms cati) ms"
check "echo hi | arca run --vm -i busybox cat prints hi and exits 0" \
  test "$(lines cati-out)" = hi -a "$(field exit cati)" = 0
name=catdone
check "-i: the EOF of the host's stdin ends cat, the rest of the command runs, its status comes back" \
  test "$(lines catdone-out | tr '\n' ' ')" = "a b done " -a "$(field exit catdone)" = 6
name=tty
tty_err=$(lines tty-err)
echo "# arca run --vm -it on a pty: pty-drive exit $(field exit tty), $(field wall_ms tty) ms"
echo "$tty_err" | sed 's/^/#   /'
check "-it: the command's stdin and stdout are a tty of the terminal's size, TERM=xterm; a typed line arrives" \
  eval 'echo "$tty_err" | grep -qx "tty xterm 27 91" && echo "$tty_err" | grep -qx "got hello"'
check "-it: a resize of the host terminal reaches the guest pty; the exit status comes back" \
  eval 'echo "$tty_err" | grep -qx "size 31 101" && echo "$tty_err" | grep -qx "status=3" && test "$(field exit tty)" = 0'

name=drun
echo "# arca run --vm -d: exit $(field exit drun), $(field wall_ms drun) ms; up after $(field wall_ms dup) ms; stop $(field wall_ms dstop) ms"
lines dps-out | sed 's/^/#   /'
lines dpsa-out | sed 's/^/#   /'
check "arca run --vm -d prints an id and returns while the VM runs (its arca-vmm and monitor are up)" \
  eval 'test "$(field exit drun)" = 0 && lines drun-out | grep -Eqx "[0-9a-f]{64}" &&
    grep -Eq "^drun .* vmm=1 monitors=1\$" "$report"'
check "arca logs shows the guest command's output" test "$(lines dlogs-out)" = up
check "arca ps lists it running; inspect says Runtime arca-vmm, Running; its tap is on the bridge" \
  eval 'lines dps-out | grep -Eq " Up +vmd\$" && grep -qx "dinspect runtime=1 running=1" "$report" &&
    grep -qx "during-d taps=1 rows=2" "$report"'
check "arca stop -t 2 ends it through the agent's signal (SIGTERM: 143)" \
  eval 'test "$(field exit dstop)" = 0 && test "$(field code dstop)" = 143 && lines dpsa-out | grep -Eq " Exited \(143\) +vmd\$"'
check "the VM's end (before rm: the record stays) took its tap, endpoint row and address" \
  grep -qx 'after-dstop taps=0 rows=0' "$report"
check "arca rm leaves no arca-vmm, no monitor, no record, no directory and no tap" \
  eval 'test "$(field exit drm)" = 0 && grep -qx "after-drm vmm=0 monitors=0 records=0 containers=0 runs=1" "$report" &&
    grep -qx "after-d taps=0 rows=0" "$report"'
name=d2stop
echo "# arca stop -t 2 of a command ignoring SIGTERM: $(field wall_ms d2stop) ms, code $(field code d2stop)"
check "arca stop -t 2 of a command that ignores SIGTERM powers the VM off: 137, then rm leaves no arca-vmm" \
  eval 'test "$(field exit d2run)" = 0 && test "$(field exit d2stop)" = 0 && test "$(field code d2stop)" = 137 &&
    grep -qx "after-d2 vmm=0 monitors=0 records=0" "$report"'
