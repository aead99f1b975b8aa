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
$bb ip link set lo up

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
# The rest of the kernel's modules (bridge, tun, nf_tables and the nft
# expressions it asks for on demand) come from the host's tree: the
# kernel's module loader runs /sbin/modprobe-host, a chroot into it.
$bb mkdir -p /sbin
printf '#!/bin/busybox sh\nexec /bin/busybox chroot /host /sbin/modprobe "$@"\n' >/sbin/modprobe-host
$bb chmod 755 /sbin/modprobe-host
echo /sbin/modprobe-host >/proc/sys/kernel/modprobe
for m in tun bridge nf_tables; do
  err=$(/sbin/modprobe-host $m 2>&1) || say "modprobe $m failed: $err"
done

# run NAME ARGS...: `arca run --vm ARGS` in the host's tree; stdout, stderr
# and status reported as NAME-out, NAME-err and "NAME exit=".  Its stdin is
# $RUN_STDIN (default /dev/null).
run() {
  name=$1
  shift
  t0=$(now_ms)
  $bb chroot $h /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    ARCA_VM_KERNEL="$RUNVM_KERNEL" ARCA_VM_ROOT="${ROOT_MODE:-initramfs}" \
    ARCA_BRIDGE_NAME=arcavn0 ARCA_BRIDGE_SUBNET=172.30.71.0/24 \
    "$RUNVM_ARCA" --root /tmp/arca --run-root /run/arca run --vm "$@" \
    <"${RUN_STDIN:-/dev/null}" >/tmp/$name.out 2>/tmp/$name.err &
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

# chroot into the host's tree for its tools (ip, sqlite3).
hostrun() { $bb chroot $h /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
# What runs on the network left: taps, and endpoint rows or addresses.
leftovers() {
  say "$1 taps=$(hostrun ip -o link show | $bb grep -c ': vmt') rows=$(hostrun sqlite3 /run/arca-net/net.db \
    "SELECT (SELECT COUNT(*) FROM net_endpoints) + (SELECT COUNT(*) FROM net_ipam)" 2>&1)"
}

# The default network: the bridge, a tap, an address.
run hi busybox echo hi
leftovers after-hi
# --network none: no NIC (and no PCI).
run seven --rm --network none -e FOO=bar -w /tmp -u 1000:1000 --hostname vmhost busybox \
  sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"; echo to-stderr >&2; echo nics $(ls /sys/class/net); exit 7'
# The guest on the bridge: its address, the gateway answers pings, and a
# page comes from httpd on the host side of the bridge (the gateway).  Then
# a 3000-byte ping: the host's reply must reach the guest in 1500-byte
# fragments (its /32 route), as the bridge runs at 65520 and arca-vmm's
# virtio-net gives the guest 1500-byte receive buffers.
$bb mkdir -p /tmp/www && echo "page from the outer host" >/tmp/www/index.html
$bb httpd -p 172.30.71.1:8071 -h /tmp/www || say "httpd failed"
run net --rm --hostname vmnet busybox sh -c 'ip -4 -o addr show eth0 | sed "s/ brd.*//"; ip route | grep ^default;
  grep vmnet /etc/hosts; ping -c 2 -W 10 172.30.71.1 >/dev/null && echo ping-ok; timeout 60 wget -qO- http://172.30.71.1:8071/;
  ping -c 1 -s 3000 -W 10 172.30.71.1 >/dev/null && echo bigping-ok'
leftovers after-net
# The root as an ext4 disk (mkfs.ext4 -d) on virtio-blk over PCI.
ROOT_MODE=disk run disk --rm -u 1000 busybox sh -c 'grep -c " / overlay" /proc/mounts; id -u; exit 3'
# -i: the host's stdin reaches the command through arca-vmm's UART, its
# EOF closes the command's stdin, the status comes back.
echo hi >/tmp/hi.in
RUN_STDIN=/tmp/hi.in run cati --rm -i --network none busybox cat
printf 'a\nb\n' >/tmp/ab.in
RUN_STDIN=/tmp/ab.in run catdone --rm -i --network none busybox sh -c 'cat; echo done; exit 6'
# -it on a terminal (tests/engine/pty-drive.py on a pty of a devpts in the
# chroot): a tty of the terminal's size and TERM, a typed line, a resize.
# pty-drive sets 24x80 after its fork: its first step sets the size, and
# the command waits for it.
$bb mkdir -p $h/dev/pts && $bb mount -t devpts -o newinstance,ptmxmode=0666 devpts $h/dev/pts \
  && $bb mount --bind $h/dev/pts/ptmx $h/dev/ptmx || say "devpts failed"
printf '%s\n' 'resize 27 91' 'expect tty xterm 27 91' 'send hello\r' 'expect got hello' 'resize 31 101' 'sleep 3' \
  'send x\r' 'expect size 31 101' >$h/tmp/tty.script
cat >$h/tmp/tty.sh <<TTYSH
while [ "\$(stty size)" != "27 91" ]; do sleep 0.1; done
ARCA_VM_KERNEL=$RUNVM_KERNEL $RUNVM_ARCA --root /tmp/arca --run-root /run/arca run --vm --rm -it --network none \
  busybox sh -c 'test -t 0 && test -t 1 && echo tty \$TERM \$(stty size); read l; echo got \$l; read y; echo size \$(stty size); exit 3'
echo status=\$?
TTYSH
t0=$(now_ms)
$bb cp /pty-drive.py $h/tmp/pty-drive.py
$bb chroot $h /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PTY_DRIVE_TIMEOUT=$RUNVM_TIMEOUT \
  python3 /tmp/pty-drive.py /tmp/tty.script -- sh /tmp/tty.sh </dev/null >/tmp/tty.out 2>/tmp/tty.err
say "tty exit=$? wall_ms=$(($(now_ms) - t0))"
dump tty-err /tmp/tty.err
# What stayed behind: the first run (no --rm) keeps its directory, the
# second none; no mount is left.
say "runs=$($bb ls $h/tmp/arca/vm/runs | $bb wc -l) mounts=$($bb grep -c ' /tmp/arca/' /proc/mounts)"

# run --vm -d on the default network: the id at once, the guest's output in
# `arca logs`, `arca ps` lists it, `stop -t 2` ends the command through the
# agent's signal frame, `rm` leaves no arca-vmm, monitor, record or tap.
arca_d() {
  $bb chroot $h /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root ARCA_VM_KERNEL="$RUNVM_KERNEL" \
    ARCA_BRIDGE_NAME=arcavn0 ARCA_BRIDGE_SUBNET=172.30.71.0/24 "$RUNVM_ARCA" --root /tmp/arca --run-root /run/arca "$@"
}
comm_count() { for p in /proc/[0-9]*; do $bb cat $p/comm 2>/dev/null; done | $bb grep -cx "$1"; }
t0=$(now_ms)
arca_d run --vm -d --name vmd busybox sh -c 'echo up; sleep 1000' >/tmp/d.out 2>/tmp/d.err
say "drun exit=$? wall_ms=$(($(now_ms) - t0)) vmm=$(comm_count arca-vmm) monitors=$(comm_count arca-vm-monitor)"
dump drun-out /tmp/d.out
dump drun-err /tmp/d.err
i=0
while [ $i -lt "$RUNVM_TIMEOUT" ]; do
  arca_d logs vmd 2>/dev/null | $bb grep -qx up && break
  $bb sleep 1
  i=$((i + 1))
done
say "dup wall_ms=$(($(now_ms) - t0))"
arca_d logs vmd >/tmp/dlogs.out 2>&1
dump dlogs-out /tmp/dlogs.out
arca_d ps >/tmp/dps.out 2>&1
dump dps-out /tmp/dps.out
arca_d inspect vmd >/tmp/dinspect.out 2>&1
say "dinspect runtime=$($bb grep -c '"Runtime": "arca-vmm"' /tmp/dinspect.out) running=$($bb grep -c '"Running": true' /tmp/dinspect.out)"
leftovers during-d
t1=$(now_ms)
arca_d stop -t 2 vmd >/dev/null 2>/tmp/dstop.err
say "dstop exit=$? wall_ms=$(($(now_ms) - t1)) code=$(arca_d wait vmd 2>&1)"
dump dstop-err /tmp/dstop.err
arca_d ps -a >/tmp/dpsa.out 2>&1
dump dpsa-out /tmp/dpsa.out
# The monitor's cleanup command follows exit.json: give it a moment.
i=0
while [ $i -lt 20 ] && [ "$(hostrun ip -o link show | $bb grep -c ': vmt')" != 0 ]; do
  $bb sleep 1
  i=$((i + 1))
done
leftovers after-dstop
arca_d rm vmd >/dev/null 2>/tmp/drm.err
say "drm exit=$?"
dump drm-err /tmp/drm.err
leftovers after-d
say "after-drm vmm=$(comm_count arca-vmm) monitors=$(comm_count arca-vm-monitor) records=$(arca_d ps -a -q | $bb grep -c .) containers=$($bb ls $h/tmp/arca/containers | $bb wc -l) runs=$($bb ls $h/tmp/arca/vm/runs | $bb wc -l)"
# A command that ignores SIGTERM: stop -t 2 powers the VM off (137).
arca_d run --vm -d --network none --name vmd2 busybox sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done' \
  >/dev/null 2>/tmp/d2.err
say "d2run exit=$?"
dump d2run-err /tmp/d2.err
t0=$(now_ms)
i=0
while [ $i -lt "$RUNVM_TIMEOUT" ]; do
  arca_d logs vmd2 2>/dev/null | $bb grep -qx ready && break
  $bb sleep 1
  i=$((i + 1))
done
t1=$(now_ms)
arca_d stop -t 2 vmd2 >/dev/null 2>/tmp/d2stop.err
say "d2stop exit=$? wall_ms=$(($(now_ms) - t1)) code=$(arca_d wait vmd2 2>&1) ready_ms=$((t1 - t0))"
dump d2stop-err /tmp/d2stop.err
arca_d rm vmd2 >/dev/null 2>&1
say "after-d2 vmm=$(comm_count arca-vmm) monitors=$(comm_count arca-vm-monitor) records=$(arca_d ps -a -q | $bb grep -c .)"
finish
