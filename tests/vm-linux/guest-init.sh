#!/bin/busybox sh
# /init of the nested guest: proves the Debian kernel reached user space,
# stamps arca-vmm's boot-marker port and powers the VM off.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t devtmpfs dev /dev 2>/dev/null
# Without /dev/console in the archive the kernel started us with no fds.
[ -e /proc/self/fd/1 ] || exec </dev/console >/dev/console 2>&1
# The boot marker (port 0x3f0 = 1008) is what arca-vmm times; QEMU has no
# device there and ignores the write.
printf 'M' | $bb dd of=/dev/port bs=1 seek=1008 count=1 2>/dev/null
read -r up _ </proc/uptime
echo "ARCA-GUEST-INIT-OK uptime=$up kernel=$($bb uname -r) cpus=$($bb grep -c ^processor /proc/cpuinfo)"
# arca.disk=DEV (the PCI boot): load virtio over PCI, read the marker the
# host put at the start of the disk, write one behind it.
disk=$($bb sed -n 's/.*arca\.disk=\([a-z0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$disk" ]; then
  $bb mkdir -p /sys && $bb mount -t sysfs sys /sys
  for m in $($bb cat /modules/order); do
    $bb insmod /modules/$m.ko || echo "ARCA-GUEST-INSMOD-FAILED $m"
  done
  n=0
  while [ ! -b /dev/$disk ] && [ $n -lt 100 ]; do $bb sleep 0.1; n=$((n + 1)); done
  echo "ARCA-GUEST-PCI $($bb cat /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/device 2>/dev/null | $bb tr '\n' ' ')"
  echo "ARCA-GUEST-DISK $($bb dd if=/dev/$disk bs=512 count=1 2>/dev/null | $bb head -n1)"
  echo "ARCA-GUEST-WROTE-SECTOR-1" | $bb dd of=/dev/$disk bs=512 seek=1 conv=sync,fsync 2>/dev/null
fi
# reboot=k on the command line makes this a keyboard-controller reset,
# which both arca-vmm (i8042) and QEMU (-no-reboot) turn into an exit.
$bb reboot -f
# Only reached when the reset did not stop the machine.
echo "ARCA-GUEST-RESET-FAILED"
while :; do $bb sleep 1000; done
