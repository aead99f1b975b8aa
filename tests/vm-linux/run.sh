#!/usr/bin/env bash
# make check-vm-linux: a real Debian kernel booted by arca-vmm under real
# hardware virtualization.
#
# This host's /dev/kvm (kvm_pvm) cannot run a stock kernel, so the test runs
# one level down: QEMU in TCG mode with an emulated AMD SVM CPU boots the
# Debian kernel with an initramfs made here (outer-init.sh as /init, kvm.ko
# and kvm-amd.ko, a static arca-vmm, and the nested guest: the same kernel
# plus its own tiny busybox initramfs, guest-init.sh). Inside, /dev/kvm is
# real SVM. The outer init reports through /dev/kmsg; this script parses
# that from the outer serial log and prints TAP.
#
#   tests/vm-linux/run.sh BUILD_STATIC WORK
# BUILD_STATIC is a meson build dir configured here for a static arca-vmm.
# Environment: VML_PVH=0 skips the second arca-vmm boot (the vmlinux from
# inside the bzImage, through the PVH entry), VML_QEMU=0 leaves QEMU out of
# the outer VM (no side-by-side),
# VML_QEMU_MACHINE (microvm) is the machine of that nested QEMU,
# VML_OUTER_TIMEOUT (540 s) bounds the whole outer VM, VML_NESTED_TIMEOUT
# (150 s) each nested boot. A run takes about 2.5 minutes, but one nested
# boot has been seen to vary from 55 to 85 s on a busy 2-core host.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_STATIC WORK}
work=${2:?usage: run.sh BUILD_STATIC WORK}
out=$work/vm-linux
mkdir -p "$out"
out=$(cd "$out" && pwd)

outer_timeout=${VML_OUTER_TIMEOUT:-540}
nested_timeout=${VML_NESTED_TIMEOUT:-150}
qemu_machine=${VML_QEMU_MACHINE:-microvm}
with_qemu=${VML_QEMU:-1}
# The nested guest: as quiet as it can be while still printing, because
# every serial byte is a VM exit (~100 µs under emulated SVM); no PCI or
# i8042 probing, which only costs exits in a VMM that has neither bus.
# VML_GUEST_VERBOSE=1 drops "quiet" to see where the nested boot spends time.
nested_cmdline="console=ttyS0 reboot=k panic=-1 pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd rdinit=/init"
[[ ${VML_GUEST_VERBOSE:-0} == 1 ]] || nested_cmdline+=" quiet"
# The PCI boot (arca-vmm --transport pci) keeps PCI on: the guest's init
# loads virtio_pci + virtio_blk and reads a marker from a raw disk image.
pci_cmdline="${nested_cmdline/pci=off /} arca.disk=vda"
# QEMU's microvm has no i8042: its guest resets by triple fault instead,
# which -no-reboot turns into an exit.
qemu_cmdline=$nested_cmdline
[[ $qemu_machine == microvm* ]] && qemu_cmdline=${qemu_cmdline/reboot=k/reboot=t}
nested_memory=256

bail() {
  echo "1..0 # SKIP $*"
  exit 0
}

fail_setup() {
  echo "Bail out! $*"
  exit 1
}

need() {
  command -v "$1" >/dev/null 2>&1 || bail "$1 not installed (make deps)"
}

need qemu-system-x86_64
need cpio
need busybox
need meson
need ninja
[[ $(id -u) -eq 0 ]] || bail "needs root (reads /boot/vmlinuz, makes device nodes)"
! ldd "$(command -v busybox)" >/dev/null 2>&1 \
  || bail "busybox is not static (install busybox-static)"

kernel=$(bash "$src/scripts/guest-kernel.sh") || fail_setup "no guest kernel"
release=$(bash "$src/scripts/guest-kernel.sh" --release)
modules=/lib/modules/$release

# --- a static arca-vmm ------------------------------------------------------
# Its own build dir: the outer initramfs has no shared libraries.
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$src" -Ddefault_library=static -Dprefer_static=true \
    -Dc_link_args=-static -Db_pie=false -Dtests=disabled >"$out/meson.log" 2>&1 \
    || fail_setup "meson setup $build failed (see $out/meson.log)"
fi
ninja -C "$build" src/cli/vmm/arca-vmm >"$out/ninja.log" 2>&1 \
  || fail_setup "building a static arca-vmm failed (see $out/ninja.log)"
vmm=$build/src/cli/vmm/arca-vmm

# Copies a module, decompressed (busybox insmod takes plain ELF only).
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

# Writes a newc cpio of directory $1 to $2.
make_cpio() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$2"
}

# A root with busybox, /dev/console and the mount points our inits use.
base_root() {
  local r=$1
  rm -rf "$r"
  mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc}
  cp "$(command -v busybox)" "$r/bin/busybox"
  mknod -m 600 "$r/dev/console" c 5 1
}

# --- the nested guest's initramfs -------------------------------------------
groot=$out/guest-root
base_root "$groot"
install -m 755 "$here/guest-init.sh" "$groot/init"
# virtio over PCI for the PCI boot, in load order (modinfo -F depends).
mkdir -p "$groot/modules"
guest_modules="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"
for m in $guest_modules; do
  copy_module "$m" "$groot/modules" || fail_setup "module $m not in $modules"
done
echo "$guest_modules" >"$groot/modules/order"
make_cpio "$groot" "$out/guest-initrd.cpio"

# --- the outer VM's initramfs -----------------------------------------------
oroot=$out/outer-root
base_root "$oroot"
install -m 755 "$here/outer-init.sh" "$oroot/init"
mkdir -p "$oroot/modules" "$oroot/guest"
for m in irqbypass kvm ccp kvm-amd; do
  copy_module "$m" "$oroot/modules" || [[ $m == ccp ]] || fail_setup "module $m not in $modules"
done
install -m 755 "$vmm" "$oroot/arca-vmm"
strip "$oroot/arca-vmm" 2>/dev/null || true
cp "$kernel" "$oroot/guest/vmlinuz"
cp "$out/guest-initrd.cpio" "$oroot/guest/initrd.cpio"

# The vmlinux inside the bzImage, for the PVH entry: the payload is found
# by its compression magic (as the kernel's scripts/extract-vmlinux does).
# VML_PVH=0 leaves this boot out.
extract_vmlinux() {
  local img=$1 dest=$2 off magic
  for magic in '\xfd7zXZ\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -qdc' '\x1f\x8b\x08:gzip -dc'; do
    off=$(LC_ALL=C grep -obUaP "${magic%%:*}" "$img" | head -n1 | cut -d: -f1)
    [[ -n $off ]] || continue
    tail -c +$((off + 1)) "$img" | ${magic#*:} >"$dest" 2>/dev/null
    if [[ $(head -c 4 "$dest" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
      return 0
    fi
  done
  rm -f "$dest"
  return 1
}
pvh_in=no
if [[ ${VML_PVH:-1} == 1 ]] && extract_vmlinux "$kernel" "$oroot/guest/vmlinux"; then
  pvh_in=yes
fi

qemu_in=no
if [[ $with_qemu == 1 ]]; then
  # QEMU is dynamic: its libraries go to the paths ldd resolves, so the
  # outer VM (which has no other libraries) runs it as is.
  q=$(command -v qemu-system-x86_64)
  mkdir -p "$oroot/usr/bin" "$oroot/qemu-firmware"
  cp "$q" "$oroot/usr/bin/qemu-system-x86_64"
  ldd "$q" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
    mkdir -p "$oroot$(dirname "$lib")"
    cp -L "$lib" "$oroot$lib"
  done
  for f in /usr/share/qemu/qboot.rom /usr/share/qemu/linuxboot_dma.bin \
           /usr/share/qemu/pvh.bin /usr/share/qemu/kvmvapic.bin \
           /usr/share/seabios/bios-256k.bin; do
    [[ -e $f ]] && cp -L "$f" "$oroot/qemu-firmware/"
  done
  [[ -e $oroot/qemu-firmware/qboot.rom ]] && cp "$oroot/qemu-firmware/qboot.rom" "$oroot/qemu-firmware/bios-microvm.bin"
  qemu_in=yes
fi

# The raw disk of the PCI boot: a marker the nested guest must read back
# through virtio-blk over PCI (fresh each run, so a stale log cannot pass).
disk_marker="ARCA-VML-DISK-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$disk_marker" >"$oroot/guest/disk.img"
truncate -s 1M "$oroot/guest/disk.img"

cat >"$oroot/etc/vml.conf" <<EOF
VML_TIMEOUT=$nested_timeout
VML_MEMORY=$nested_memory
VML_CMDLINE='$nested_cmdline'
VML_QEMU_CMDLINE='$qemu_cmdline'
VML_PCI_CMDLINE='$pci_cmdline'
VML_QEMU_MACHINE=$qemu_machine
EOF
make_cpio "$oroot" "$out/outer-initrd.cpio"

# --- run the outer VM ---------------------------------------------------------
# loglevel=5 keeps the outer kernel's own chatter off the console while the
# warning-level records written to /dev/kmsg by outer-init.sh get through.
log=$out/outer.log
start=$(date +%s%N)
timeout -k 5 "$outer_timeout" qemu-system-x86_64 -cpu max,+svm -m 1024 -M pc -smp 1 \
  -nodefaults -no-user-config -display none -no-reboot \
  -serial "file:$log" \
  -kernel "$kernel" -initrd "$out/outer-initrd.cpio" \
  -append "console=ttyS0 printk.devkmsg=on loglevel=5 panic=-1 reboot=k" \
  </dev/null >"$out/qemu.err" 2>&1
qrc=$?
end=$(date +%s%N)
outer_ms=$(( (end - start) / 1000000 ))

# --- parse --------------------------------------------------------------------
# The report lines, without the printk timestamps and carriage returns.
report=$out/report.txt
tr -d '\r' <"$log" | sed -n 's/.*ARCA-VML: //p' >"$report"

field() { # field KEY WORD: KEY=value from the first report line starting with WORD
  awk -v k="$1" -v w="$2" '$1 == w { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$report"
}
json_num() { # json_num KEY [WHO]: KEY from arca-vmm's metrics line (WHO: arca, arca-pvh)
  sed -n "s/^${2:-arca}-stderr: .*\"$1\": \\[\\{0,1\\}\\([0-9]*\\).*/\\1/p" "$report" | head -n1
}

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
check() { # check "description" command...
  local d=$1; shift
  if "$@"; then ok "$d"; else notok "$d"; fi
}

echo "1..10"
echo "# outer VM: qemu exit $qrc after ${outer_ms} ms; log $log"
echo "# guest kernel $release, nested cmdline: $nested_cmdline"
[[ $qrc -eq 124 || $qrc -eq 137 ]] && echo "# outer VM timed out after ${outer_timeout} s"

kvm_line=$(grep '^kvm=' "$report" | head -n1)
echo "# ${kvm_line:-no kvm line} ($(grep '^cpu svm=' "$report" | head -n1))"
check "outer VM (TCG, emulated SVM) boots and kvm-amd gives it /dev/kvm" \
  grep -q '^kvm=ready' "$report"

check "arca-vmm boots the nested Debian kernel to its init" \
  grep -q '^arca-serial: .*ARCA-GUEST-INIT-OK' "$report"

arca_rc=$(field exit arca)
arca_to=$(field timeout arca)
arca_wall=$(field wall_ms arca)
if [[ $arca_rc == 0 && $arca_to == 0 ]] && ! grep -q '^arca-serial: .*ARCA-GUEST-RESET-FAILED' "$report"; then
  ok "the nested guest powers off (i8042 reset) and arca-vmm exits 0"
else
  notok "the nested guest powers off (i8042 reset) and arca-vmm exits 0 (exit ${arca_rc:-none}, timed out ${arca_to:-?})"
  grep -E '^arca-(stderr|serial):' "$report" | tail -n 20 | sed 's/^/#   /'
fi

first_us=$(json_num first_serial_byte_us)
marker_us=$(json_num boot_markers_us)
guest_up=$(sed -n 's/^arca-serial: .*ARCA-GUEST-INIT-OK uptime=\([0-9.]*\).*/\1/p' "$report" | head -n1)
if [[ -n $first_us && -n $marker_us && $first_us -gt 0 && $marker_us -ge $first_us ]]; then
  ok "arca-vmm times the nested boot: first serial byte ${first_us} µs, init marker ${marker_us} µs"
else
  notok "arca-vmm times the nested boot (first serial byte '${first_us}', marker '${marker_us}')"
fi
echo "# arca-vmm: wall ${arca_wall:-?} ms from exec to exit, guest uptime at init ${guest_up:-?} s"

pvh_rc=$(field exit arca-pvh)
pvh_to=$(field timeout arca-pvh)
pvh_wall=$(field wall_ms arca-pvh)
if [[ $pvh_in != yes ]]; then
  skip "no vmlinux for the PVH entry (VML_PVH=0 or no known compression in the bzImage)"
elif grep -q '^arca-pvh-serial: .*ARCA-GUEST-INIT-OK' "$report" && [[ $pvh_rc == 0 && $pvh_to == 0 ]]; then
  ok "arca-vmm boots the Debian vmlinux through its PVH entry to init and exits 0"
else
  notok "arca-vmm boots the Debian vmlinux through its PVH entry to init and exits 0 (exit ${pvh_rc:-none}, timed out ${pvh_to:-?})"
  grep -E '^arca-pvh-(stderr|serial):' "$report" | tail -n 20 | sed 's/^/#   /'
fi
echo "# arca-vmm PVH: wall ${pvh_wall:-?} ms, first serial byte $(json_num first_serial_byte_us arca-pvh) µs, init marker $(json_num boot_markers_us arca-pvh) µs"

qemu_rc=$(field exit qemu)
qemu_to=$(field timeout qemu)
qemu_wall=$(field wall_ms qemu)
qemu_up=$(sed -n 's/^qemu-serial: .*ARCA-GUEST-INIT-OK uptime=\([0-9.]*\).*/\1/p' "$report" | head -n1)
if [[ $qemu_in != yes ]]; then
  skip "QEMU not put in the outer VM (VML_QEMU=0)"
  skip "no side-by-side ratio without QEMU"
else
  if grep -q '^qemu-serial: .*ARCA-GUEST-INIT-OK' "$report" && [[ $qemu_rc == 0 && $qemu_to == 0 ]]; then
    ok "QEMU -M $qemu_machine -enable-kvm boots the same kernel to its init and exits"
  else
    notok "QEMU -M $qemu_machine -enable-kvm boots the same kernel to its init and exits (exit ${qemu_rc:-none}, timed out ${qemu_to:-?})"
    grep -E '^qemu-(stderr|serial):' "$report" | tail -n 10 | sed 's/^/#   /'
  fi
  echo "# qemu -M $qemu_machine: wall ${qemu_wall:-?} ms from exec to exit, guest uptime at init ${qemu_up:-?} s"
  if [[ -n $arca_wall && -n $qemu_wall && $qemu_wall -gt 0 && -n $guest_up && -n $qemu_up ]]; then
    ratio=$(awk -v a="$arca_wall" -v q="$qemu_wall" 'BEGIN { printf "%.2f", a / q }')
    uratio=$(awk -v a="$guest_up" -v q="$qemu_up" 'BEGIN { printf "%.2f", (q > 0) ? a / q : 0 }')
    ok "side by side: arca-vmm/QEMU wall-time ratio $ratio, guest-uptime-at-init ratio $uratio"
  else
    notok "side by side: both boots measured (arca ${arca_wall:-?} ms, qemu ${qemu_wall:-?} ms)"
  fi
fi

# virtio over PCI: the same kernel, PCI on, virtio_pci + virtio_blk loaded
# by its init, a marker read from the raw disk and one written back.
pci_rc=$(field exit arca-pci)
pci_to=$(field timeout arca-pci)
echo "# arca-vmm --transport pci: wall $(field wall_ms arca-pci) ms, guest $(grep -m1 '^arca-pci-serial: .*ARCA-GUEST-PCI' "$report" | sed 's/.*ARCA-GUEST-PCI/PCI ids:/')"
if grep -q "^arca-pci-serial: .*ARCA-GUEST-DISK $disk_marker" "$report"; then
  ok "arca-vmm --transport pci: the Debian kernel's virtio_pci + virtio_blk read the disk's marker"
else
  notok "arca-vmm --transport pci: the Debian kernel's virtio_pci + virtio_blk read the disk's marker ($disk_marker)"
  grep -E '^arca-pci-(stderr|serial):' "$report" | tail -n 25 | sed 's/^/#   /'
fi
check "arca-vmm --transport pci: the guest's write to sector 1 reached the host file" \
  grep -q '^arca-pci-disk: ARCA-GUEST-WROTE-SECTOR-1' "$report"
check "arca-vmm --transport pci: the guest powers off and arca-vmm exits 0 (exit ${pci_rc:-none}, timed out ${pci_to:-?})" \
  test "${pci_rc:-x}" = 0 -a "${pci_to:-x}" = 0
