#!/usr/bin/env bash
# A stand-in for arca-vmm with the arguments `arca run --vm` gives it, on
# QEMU TCG, for hosts whose /dev/kvm cannot boot Linux (kvm_pvm) or that
# have none: ARCA_VMM_PATH=tests/vm-linux/qemu-vmm.sh arca run --vm ...
# It maps the debug-exit port like arca-vmm's (0x501): QEMU exits with
# (value << 1) | 1, this script with the value, as arca-vmm does.
set -u
kernel= initrd= memory=256 cpus=1 cmdline= drive=() net=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --cmdline) cmdline=$2; shift 2 ;;
    --drive) drive=(-drive "file=${2%,ro},format=raw,if=none,id=d0,readonly=on" -device virtio-blk-pci,drive=d0); shift 2 ;;
    --net) # TAP,mac=MAC: the tap the engine made (persistent), virtio-net over PCI
      tap=${2%%,*} mac=${2#*,mac=}
      net=(-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$mac")
      shift 2 ;;
    --transport) shift 2 ;;
    --serial) [[ $2 == stdio ]] || { echo "qemu-vmm.sh: only --serial stdio" >&2; exit 1; }; shift 2 ;;
    *) echo "qemu-vmm.sh: unsupported argument $1" >&2; exit 1 ;;
  esac
done
# In the background so that arca's SIGTERM (Ctrl-C of a run) reaches QEMU:
# bash would otherwise die alone and leave QEMU holding the serial pipe.
# Its stdin stays ours (bash gives a background job /dev/null): the serial
# input of run --vm -i/-t.
qemu-system-x86_64 -M pc -m "$memory" -smp "$cpus" -nodefaults -no-user-config -display none \
  -no-reboot -device isa-debug-exit,iobase=0x501,iosize=4 -serial stdio "${drive[@]}" "${net[@]}" \
  -kernel "$kernel" -initrd "$initrd" -append "$cmdline no_timer_check" <&0 &
qpid=$!
trap 'kill -TERM $qpid 2>/dev/null' TERM INT HUP
wait $qpid
rc=$?
while kill -0 $qpid 2>/dev/null; do
  wait $qpid
  rc=$?
done
if [[ $rc -ge 1 && $((rc & 1)) -eq 1 ]]; then
  exit $((rc >> 1))
fi
exit "$rc"
