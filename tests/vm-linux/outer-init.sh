#!/bin/busybox sh
# /init of the outer QEMU (TCG, emulated AMD SVM) VM: loads kvm-amd, boots the
# nested Debian kernel under arca-vmm (and under QEMU -enable-kvm when the
# archive holds one), then reports through /dev/kmsg and powers off.
#
# Everything goes to /dev/kmsg, not to the serial tty: the outer serial
# console has been seen to stall while the nested guest ran, printk's path
# has not. The host parses the "ARCA-VML:" lines (see run.sh).
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev 2>/dev/null
$bb mkdir -p /tmp && $bb mount -t tmpfs tmp /tmp
[ -e /proc/self/fd/1 ] || exec </dev/console >/dev/console 2>&1
. /etc/vml.conf

say() { echo "ARCA-VML: $*" >/dev/kmsg; }

# Prints a file through kmsg one line per record, prefixed.
dump() {
  while IFS= read -r line || [ -n "$line" ]; do
    say "$1: $line"
  done <"$2"
}

# /proc/uptime in milliseconds (10 ms resolution: good enough for the wall
# clock of a run that takes seconds; the VMM's own metrics are in µs).
now_ms() {
  $bb awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# bounded NAME CMD...: runs CMD for at most $VML_TIMEOUT seconds (rounded
# up to 30 s); its serial output is /tmp/NAME.log. Sets rc,
# and timed_out=1 when the limit stopped it. Not busybox timeout: arca-vmm
# and QEMU both exit 0 on SIGTERM, which would look like a clean power-off.
bounded() {
  name=$1
  shift
  "$@" &
  pid=$!
  (
    # A heartbeat every 30 s tells a slow nested guest (serial grows) from
    # an outer VM that stopped running (no heartbeat at all).
    waited=0
    while [ $waited -lt "$VML_TIMEOUT" ]; do
      $bb sleep 30
      waited=$((waited + 30))
      [ -d /proc/$pid ] || exit 0
      say "$name: running for $waited s, serial $($bb wc -c </tmp/$name.log 2>/dev/null) bytes"
    done
    : >/tmp/$name.timeout
    say "$name: timed out after $VML_TIMEOUT s; its threads:"
    for t in /proc/$pid/task/*; do
      say "$name: tid ${t##*/} $($bb cut -d' ' -f3 $t/stat) wchan=$($bb cat $t/wchan) syscall=$($bb cat $t/syscall)"
    done
    $bb kill -TERM $pid 2>/dev/null
    $bb sleep 5
    $bb kill -KILL $pid 2>/dev/null
  ) &
  watcher=$!
  wait $pid
  rc=$?
  $bb kill $watcher 2>/dev/null
  timed_out=0
  [ -e /tmp/$name.timeout ] && timed_out=1
}

finish() {
  say "done"
  $bb sync
  $bb poweroff -f
}

say "outer up kernel=$($bb uname -r) cpus=$($bb nproc)"
$bb grep -q -w svm /proc/cpuinfo && say "cpu svm=yes" || say "cpu svm=no"

for m in irqbypass kvm ccp kvm-amd; do
  [ -f /modules/$m.ko ] || continue
  if ! err=$($bb insmod /modules/$m.ko 2>&1); then
    say "insmod $m failed: $err"
  fi
done
if [ ! -c /dev/kvm ]; then
  say "kvm=missing"
  finish
fi
say "kvm=ready nested=$($bb cat /sys/module/kvm_amd/parameters/nested 2>/dev/null) npt=$($bb cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)"

# The project's test guest on the PCI transport (see run.sh).
if [ -f /guest/test-guest.elf ]; then
  printf 'ARCA-BLK-SECTOR0' >/tmp/tg.img
  $bb dd if=/dev/zero of=/tmp/tg.img bs=1024 seek=1023 count=1 conv=notrunc 2>/dev/null
  bounded tg-pci /arca-vmm --kernel /guest/test-guest.elf --transport pci --drive /tmp/tg.img --rng \
    --cmdline "rtc pci pcigarbage rng blk" --serial file:/tmp/tg-pci.log --metrics \
    </dev/null 2>/tmp/tg-pci.err
  say "tg-pci exit=$rc timeout=$timed_out date=$($bb date -u +%Y-%m-%d)"
  dump tg-pci-serial /tmp/tg-pci.log
  dump tg-pci-stderr /tmp/tg-pci.err
  say "tg-pci-disk: $($bb dd if=/tmp/tg.img bs=512 skip=1 count=1 2>/dev/null | $bb head -c 20)"
fi

# Balloon statistics: the test guest answers ten polls (one a second); the
# API is read once it has answered two (curl starts slowly here).
if [ -f /guest/test-guest.elf ] && [ -x /usr/bin/curl ]; then
  (
    bounded tg-stats /arca-vmm --kernel /guest/test-guest.elf --transport pci --balloon 0,stats=1 \
      --api-sock /tmp/tg.sock --cmdline "pci balloonstats=10" --serial file:/tmp/tg-stats.log \
      </dev/null 2>/tmp/tg-stats.err
    echo "exit=$rc timeout=$timed_out" >/tmp/tg-stats.rc
  ) &
  n=0
  while ! $bb grep -q "round=2" /tmp/tg-stats.log 2>/dev/null && [ $n -lt 600 ]; do
    $bb sleep 0.1
    n=$((n + 1))
  done
  say "tg-stats-api: $(/usr/bin/curl -sS --max-time 30 --unix-socket /tmp/tg.sock http://localhost/balloon/statistics 2>&1)"
  wait
  say "tg-stats $($bb cat /tmp/tg-stats.rc)"
  dump tg-stats-serial /tmp/tg-stats.log
  dump tg-stats-stderr /tmp/tg-stats.err
fi

# ACPI tables instead of the MP table, two vCPUs: what the test guest sees.
if [ -f /guest/test-guest.elf ]; then
  bounded tg-acpi /arca-vmm --kernel /guest/test-guest.elf --acpi --cpus 2 --cmdline "acpi mp" \
    --serial file:/tmp/tg-acpi.log </dev/null 2>/tmp/tg-acpi.err
  say "tg-acpi exit=$rc timeout=$timed_out"
  dump tg-acpi-serial /tmp/tg-acpi.log
  dump tg-acpi-stderr /tmp/tg-acpi.err
fi

# VML_LINUX=0 (run.sh): only the test guest, no Debian boots.
[ "${VML_LINUX:-1}" = 0 ] && finish

# arca-vmm: serial to a file, dumped once the VM is gone so the relay
# itself does not compete with the nested guest for the single outer CPU.
t0=$(now_ms)
bounded arca /arca-vmm --kernel /guest/vmlinuz --initrd /guest/initrd.cpio \
  --memory "$VML_MEMORY" --cmdline "$VML_CMDLINE" --serial file:/tmp/arca.log --metrics \
  </dev/null 2>/tmp/arca.err
t1=$(now_ms)
say "arca exit=$rc timeout=$timed_out wall_ms=$((t1 - t0))"
dump arca-serial /tmp/arca.log
dump arca-stderr /tmp/arca.err

# The same kernel as an ELF vmlinux through arca-vmm's PVH entry (32-bit
# protected mode, hvm_start_info): no in-guest decompression.
if [ -f /guest/vmlinux ]; then
  t0=$(now_ms)
  bounded arca-pvh /arca-vmm --kernel /guest/vmlinux --entry pvh --initrd /guest/initrd.cpio \
    --memory "$VML_MEMORY" --cmdline "$VML_CMDLINE" --serial file:/tmp/arca-pvh.log --metrics \
    </dev/null 2>/tmp/arca-pvh.err
  t1=$(now_ms)
  say "arca-pvh exit=$rc timeout=$timed_out wall_ms=$((t1 - t0))"
  dump arca-pvh-serial /tmp/arca-pvh.log
  dump arca-pvh-stderr /tmp/arca-pvh.err
fi

# virtio over PCI: the same kernel with PCI on, its init loads virtio_pci
# and virtio_blk and reads the marker at the start of the raw disk; then
# writes one behind it, which is read back here.
if [ -f /guest/disk.img ]; then
  t0=$(now_ms)
  bounded arca-pci /arca-vmm --kernel /guest/vmlinuz --initrd /guest/initrd.cpio \
    --transport pci --drive /guest/disk.img \
    --memory "$VML_MEMORY" --cmdline "$VML_PCI_CMDLINE" --serial file:/tmp/arca-pci.log --metrics \
    </dev/null 2>/tmp/arca-pci.err
  t1=$(now_ms)
  say "arca-pci exit=$rc timeout=$timed_out wall_ms=$((t1 - t0))"
  dump arca-pci-serial /tmp/arca-pci.log
  dump arca-pci-stderr /tmp/arca-pci.err
  say "arca-pci-disk: $($bb dd if=/guest/disk.img bs=512 skip=1 count=1 2>/dev/null | $bb head -n1)"
fi

# The same kernel and initramfs under QEMU with KVM, for a ratio measured in
# the same machine at the same time.
if [ -x /usr/bin/qemu-system-x86_64 ]; then
  t0=$(now_ms)
  bounded qemu /usr/bin/qemu-system-x86_64 -L /qemu-firmware \
    -enable-kvm -cpu host -M "$VML_QEMU_MACHINE" -m "$VML_MEMORY" -smp 1 \
    -nodefaults -no-user-config -display none -no-reboot \
    -serial file:/tmp/qemu.log -kernel /guest/vmlinuz -initrd /guest/initrd.cpio \
    -append "$VML_QEMU_CMDLINE" </dev/null >/tmp/qemu.err 2>&1
  t1=$(now_ms)
  say "qemu exit=$rc timeout=$timed_out wall_ms=$((t1 - t0))"
  dump qemu-serial /tmp/qemu.log
  dump qemu-stderr /tmp/qemu.err
else
  say "qemu=absent"
fi
finish
