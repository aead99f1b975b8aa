#!/bin/busybox sh
# /init of the outer QEMU (TCG, emulated AMD SVM) VM of tests/vm-linux/runvm.sh:
# loads kvm-amd and the 9p stack, mounts the host's / (read-only, virtio-9p)
# and, chrooted into it with tmpfs for everything arca writes, runs
# `arca run --vm` end to end: engine, image store, guest initramfs,
# arca-vmm, the nested Debian kernel and the guest agent.
# Reports through /dev/kmsg ("ARCA-VML: " lines), like outer-init.sh.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev 2>/dev/null
$bb mkdir -p /tmp && $bb mount -t tmpfs tmp /tmp
[ -e /proc/self/fd/1 ] || exec </dev/console >/dev/console 2>&1
. /etc/runvm.conf

say() { echo "ARCA-VML: $*" >/dev/kmsg; }
dump() {
  while IFS= read -r line || [ -n "$line" ]; do
    say "$1: $line"
  done <"$2"
}
now_ms() { $bb awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
finish() {
  say "done"
  $bb sync
  $bb poweroff -f
}

say "outer up kernel=$($bb uname -r)"
for m in $(cat /modules/order); do
  err=$($bb insmod /modules/$m.ko 2>&1) || say "insmod $m failed: $err"
done
[ -c /dev/kvm ] && say "kvm=ready" || { say "kvm=missing"; finish; }

h=/host
$bb mkdir -p $h
if ! err=$($bb mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose hostroot $h 2>&1); then
  say "host=missing ($err)"
  finish
fi
$bb mount -t proc proc $h/proc && $bb mount -t sysfs sys $h/sys && $bb mount -t devtmpfs dev $h/dev \
  && $bb mount -t tmpfs tmp $h/tmp && $bb mount -t tmpfs run $h/run || { say "host=unusable"; finish; }
# The build tree on its own share: under /tmp (a CI clone) the tmpfs above
# would hide it.
$bb mkdir -p $h$RUNVM_BUILD 2>/dev/null
$bb mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144 build $h$RUNVM_BUILD \
  || { say "build=missing"; finish; }
say "host=ready"

# run NAME ARGS...: `arca run --vm ARGS` in the host's tree; stdout, stderr
# and status reported as NAME-out, NAME-err and "NAME exit=".
run() {
  name=$1
  shift
  t0=$(now_ms)
  $bb chroot $h /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    ARCA_VM_KERNEL="$RUNVM_KERNEL" ARCA_VM_ROOT="${ROOT_MODE:-initramfs}" \
    "$RUNVM_ARCA" --root /tmp/arca --run-root /run/arca run --vm "$@" \
    </dev/null >/tmp/$name.out 2>/tmp/$name.err &
  pid=$!
  ( $bb sleep "$RUNVM_TIMEOUT"; : >/tmp/$name.timeout; $bb kill -TERM $pid 2>/dev/null ) &
  watcher=$!
  wait $pid
  rc=$?
  $bb kill $watcher 2>/dev/null
  to=0
  [ -e /tmp/$name.timeout ] && to=1
  say "$name exit=$rc timeout=$to wall_ms=$(($(now_ms) - t0))"
  dump $name-out /tmp/$name.out
  dump $name-err /tmp/$name.err
}

run hi busybox echo hi
run seven --rm -e FOO=bar -w /tmp -u 1000:1000 --hostname vmhost busybox \
  sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"; echo to-stderr >&2; exit 7'
# The root as an ext4 disk (mkfs.ext4 -d) on virtio-blk over PCI.
ROOT_MODE=disk run disk --rm -u 1000 busybox sh -c 'grep -c " / overlay" /proc/mounts; id -u; exit 3'
# What stayed behind: the first run (no --rm) keeps its directory, the
# second none; no mount is left.
say "runs=$($bb ls $h/tmp/arca/vm/runs | $bb wc -l) mounts=$($bb grep -c ' /tmp/arca/' /proc/mounts)"
finish
