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
echo "ARCA-GUEST-INIT-OK uptime=$up kernel=$($bb uname -r)"
# reboot=k on the command line makes this a keyboard-controller reset,
# which both arca-vmm (i8042) and QEMU (-no-reboot) turn into an exit.
$bb reboot -f
# Only reached when the reset did not stop the machine.
echo "ARCA-GUEST-RESET-FAILED"
while :; do $bb sleep 1000; done
