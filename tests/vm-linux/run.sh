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
# Environment: VML_LINUX=0 runs only the test guest (no Debian boot: the
# Debian tests fail), VML_PVH=0 skips the second arca-vmm boot (the vmlinux from
# inside the bzImage, through the PVH entry), VML_QEMU=0 leaves QEMU out of
# the outer VM (no side-by-side),
# VML_QEMU_MACHINE (microvm) is the machine of that nested QEMU,
# VML_OUTER_TIMEOUT (900 s) bounds the whole outer VM, VML_NESTED_TIMEOUT
# (240 s) each nested boot. A run takes about 2.5 minutes, but one nested
# boot has been seen to vary from 55 to 85 s on a busy 2-core host.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_STATIC WORK}
work=${2:?usage: run.sh BUILD_STATIC WORK}
out=$work/vm-linux
mkdir -p "$out"
out=$(cd "$out" && pwd)

outer_timeout=${VML_OUTER_TIMEOUT:-900}
nested_timeout=${VML_NESTED_TIMEOUT:-240}
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

# Copies a dynamic program to /usr/bin of the outer root with its libraries
# at the paths ldd resolves (the outer VM has no other libraries).
copy_dynamic() {
  mkdir -p "$oroot/usr/bin"
  cp "$1" "$oroot/usr/bin/$(basename "$1")"
  ldd "$1" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
    mkdir -p "$oroot$(dirname "$lib")"
    cp -L "$lib" "$oroot$lib"
  done
}
# curl, for the nested VMM's API (balloon statistics).
curl_in=no
if command -v curl >/dev/null 2>&1; then
  copy_dynamic "$(command -v curl)"
  curl_in=yes
fi

qemu_in=no
if [[ $with_qemu == 1 ]]; then
  # QEMU is dynamic: its libraries go to the paths ldd resolves, so the
  # outer VM (which has no other libraries) runs it as is.
  copy_dynamic "$(command -v qemu-system-x86_64)"
  mkdir -p "$oroot/qemu-firmware"
  for f in /usr/share/qemu/qboot.rom /usr/share/qemu/linuxboot_dma.bin \
           /usr/share/qemu/pvh.bin /usr/share/qemu/kvmvapic.bin \
           /usr/share/seabios/bios-256k.bin; do
    [[ -e $f ]] && cp -L "$f" "$oroot/qemu-firmware/"
  done
  [[ -e $oroot/qemu-firmware/qboot.rom ]] && cp "$oroot/qemu-firmware/qboot.rom" "$oroot/qemu-firmware/bios-microvm.bin"
  qemu_in=yes
fi

# The test guest (tests/guests, built as tests/vmm/meson.build does) on the
# PCI transport: real SVM runs it where kvm_pvm hosts have no /dev/kvm.
tg_in=no
if command -v cc >/dev/null 2>&1 \
   && cc -std=gnu17 -O2 -ffreestanding -nostdlib -static -fno-pie -fno-stack-protector \
        -fcf-protection=none -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables \
        -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments \
        -T "$src/tests/guests/guest.ld" "$src/tests/guests/start.S" "$src/tests/guests/guest.c" \
        "$src/tests/guests/virtio.c" -o "$oroot/guest/test-guest.elf" 2>"$out/test-guest.log"; then
  tg_in=yes
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
VML_LINUX=${VML_LINUX:-1}
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

echo "1..17"
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

# The test guest over PCI: enumerates bus 0, sizes BAR0, drives virtio-blk
# and virtio-rng through the capabilities, and throws garbage at the config
# ports and the BAR first.
if [[ $tg_in != yes ]]; then
  for i in 1 2 3 4 5; do skip "test guest not built (see $out/test-guest.log)"; done
else
  tg() { grep -q "^tg-pci-serial: arca-test-guest: $1" "$report"; }
  check "test guest over PCI: finds virtio-blk (1af4:1042) and virtio-rng (1af4:1044), BAR0 of 16 KiB" \
    sh -c "grep -q '^tg-pci-serial: .*pci slot=1 id=10421af4 class=18000 bar0=0xe0000000 size=16384 line=16 pin=1' '$report' && grep -q '^tg-pci-serial: .*id=10441af4' '$report'"
  check "test guest over PCI: virtio-blk reads the host's sector, writes and reads back" \
    sh -c "grep -q '^tg-pci-serial: .*blk sector0=ARCA-BLK-SECTOR0' '$report' && grep -q '^tg-pci-serial: .*blk readback same' '$report' && grep -q '^tg-pci-disk: guest-wrote-sector-1' '$report'"
  check "test guest over PCI: virtio-rng bytes" tg "rng ok"
  if tg "pcigarbage survived=1" && tg "pcigarbage id intact=1" && tg "pcigarbage empty slot reads ones=1" \
     && tg "pcigarbage capabilities intact=1" && tg "pcigarbage bar size=16384" && [[ $(field exit tg-pci) == 0 ]]; then
    ok "test guest over PCI: garbage config and BAR accesses leave the VMM and the devices working, exit 0"
  else
    notok "test guest over PCI: garbage config and BAR accesses leave the VMM and the devices working (exit $(field exit tg-pci))"
    grep -E '^tg-pci-(stderr|serial):' "$report" | tail -n 25 | sed 's/^/#   /'
  fi
fi
if [[ $tg_in == yes ]]; then
  tg_date=$(field date tg-pci)
  check "CMOS RTC: the test guest reads the outer VM's date ($tg_date) in BCD and binary, no update in progress, CMOS RAM kept" \
    sh -c "grep -q '^tg-pci-serial: .*rtc date=$tg_date' '$report' && grep -q '^tg-pci-serial: .*rtc uip=0' '$report' && grep -q '^tg-pci-serial: .*rtc binary year matches=1' '$report' && grep -q '^tg-pci-serial: .*rtc hour<24=1' '$report' && grep -q '^tg-pci-serial: .*rtc cmos ram kept=1' '$report'"
fi
# virtio-balloon statistics: the test guest answers the device's polls
# (every second) and the host reads them over the API.
if [[ $tg_in != yes || $curl_in != yes ]]; then
  skip "balloon statistics: no test guest or no curl"
elif grep -q '^tg-stats-serial: .*balloonstats returned round=10' "$report" \
     && grep -q '^tg-stats-api: .*"free_memory":19087360' "$report" \
     && grep -q '^tg-stats-api: .*"total_memory":134217728' "$report" \
     && grep -q '^tg-stats-api: .*"stats_polling_interval_s":1' "$report" \
     && grep -Eq '^tg-stats-api: .*"minor_faults":([2-9]|10)[,}]' "$report"; then
  ok "balloon statistics: the device polls the guest every second and GET /balloon/statistics shows its values"
else
  notok "balloon statistics: the device polls the guest every second and GET /balloon/statistics shows its values"
  grep -E '^tg-stats' "$report" | tail -n 15 | sed 's/^/#   /'
fi
# ACPI: the test guest validates the tables.
if [[ $tg_in == yes ]]; then
  check "ACPI: the test guest finds RSDP, XSDT, FADT, DSDT and a MADT with 2 CPUs and the IOAPIC" \
    sh -c "grep -q '^tg-acpi-serial: .*acpi cpus=2 ioapic=0xfec00000' '$report' && grep -q '^tg-acpi-serial: .*acpi dsdt valid=1' '$report'"
else
  skip "ACPI: test guest not built"
fi

# `arca run --vm` end to end (tests/vm-linux/runvm.sh): its own outer VM and
# TAP plan, with the normal build beside this static one. VML_RUNVM=0 skips it.
if [[ ${VML_RUNVM:-1} == 1 ]]; then
  bash "$here/runvm.sh" "${build%-static}" "$work"
fi
