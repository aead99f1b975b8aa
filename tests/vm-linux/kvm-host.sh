#!/usr/bin/env bash
# Runs a command on a machine that has a real /dev/kvm, when this one does
# not (or has only kvm_pvm): QEMU in TCG mode with an emulated AMD SVM CPU
# boots the Debian kernel, loads kvm-amd, mounts this host's / read-only
# over 9p (virtio-9p) with tmpfs on /tmp, /run and /var/tmp, mounts this
# source tree (read-only) and WORK (read-write) at their own paths, and
# runs the command there as root. The
# command's stdout+stderr are printed and its exit status is ours.
#
#   tests/vm-linux/kvm-host.sh WORK COMMAND [ARG...]
# Environment: KVH_TIMEOUT (900 s) bounds the whole VM, KVH_MEMORY (2048
# MiB) its RAM, KVH_CPUS (2) its vCPUs. The host root is cached (9p
# cache=loose): do not relink what the command runs while it runs.
# Exit: the command's status; 124 when the VM timed out; 125 when the VM
# could not be set up or the command never ran.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${1:?usage: kvm-host.sh WORK COMMAND [ARG...]}
shift
[[ $# -gt 0 ]] || { echo "usage: kvm-host.sh WORK COMMAND [ARG...]" >&2; exit 125; }
mkdir -p "$work" && work=$(cd "$work" && pwd)
out=$(mktemp -d "$work/kvm-host.XXXXXX")
trap 'rm -rf "$out/root" "$out/initrd.cpio"' EXIT

die() { echo "kvm-host: $*" >&2; exit 125; }
for tool in qemu-system-x86_64 cpio busybox; do
  command -v "$tool" >/dev/null || die "$tool not installed (make deps)"
done
[[ $(id -u) -eq 0 ]] || die "needs root"

kernel=$(bash "$src/scripts/guest-kernel.sh") || die "no guest kernel"
release=$(bash "$src/scripts/guest-kernel.sh" --release)
modules=/lib/modules/$release

copy_module() { # busybox insmod takes plain ELF only
  local f
  f=$(find "$modules/kernel" -name "$1.ko*" -print -quit)
  [[ -n $f ]] || return 1
  case $f in
    *.ko) cp "$f" "$2/$1.ko" ;;
    *.ko.xz) xz -dc "$f" >"$2/$1.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$2/$1.ko" ;;
    *.ko.gz) gzip -dc "$f" >"$2/$1.ko" ;;
    *) return 1 ;;
  esac
}

root=$out/root
mkdir -p "$root"/{bin,dev,proc,sys,newroot,modules}
cp "$(command -v busybox)" "$root/bin/busybox"
mknod -m 600 "$root/dev/console" c 5 1
# In load order (modinfo -F depends); ccp is optional for kvm-amd.
mods="netfs fscache 9pnet 9p virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet_virtio irqbypass kvm ccp kvm-amd tun"
for m in $mods; do
  copy_module "$m" "$root/modules" || [[ $m == ccp || $m == fscache ]] || die "module $m not in $modules"
done
echo "$mods" >"$root/modules/order"

# The command, run from the caller's directory inside the host's tree.
{
  printf 'cd %q || exit 125\n' "$PWD"
  printf '%q ' "$@"
  echo
} >"$out/cmd.sh"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox ln -s /proc/self/fd /dev/fd
/bin/busybox ln -s /proc/self/fd/0 /dev/stdin
/bin/busybox ln -s /proc/self/fd/1 /dev/stdout
/bin/busybox ln -s /proc/self/fd/2 /dev/stderr
/bin/busybox mkdir -p /dev/pts /dev/shm
/bin/busybox mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
/bin/busybox mount -t tmpfs shm /dev/shm
for m in $(/bin/busybox cat /modules/order); do
  [ -f /modules/$m.ko ] && /bin/busybox insmod /modules/$m.ko 2>/dev/null
done
set -- $(/bin/busybox cat /proc/cmdline)
for a; do case $a in kvh.out=*) OUT=${a#kvh.out=} ;; kvh.work=*) WORK=${a#kvh.work=} ;; kvh.src=*) SRC=${a#kvh.src=} ;; esac; done
o=trans=virtio,version=9p2000.L,msize=262144
# The new root is a tmpfs holding binds of the host's top-level dirs from
# the 9p share: proc, sys, dev, tmp and run are fresh mounts on tmpfs, never
# on 9p dentries (the host's /proc seen over 9p revalidates away whatever is
# mounted on it).
/bin/busybox mkdir -p /host
/bin/busybox mount -t 9p -o $o,ro,cache=loose hostroot /host || { echo "kvm-host: no 9p root" > /dev/console; /bin/busybox poweroff -f; }
/bin/busybox mount -t tmpfs -o mode=755 root /newroot
for e in /host/* /host/.[!.]*; do
  n=${e#/host/}
  case $n in proc|sys|dev|tmp|run|lost+found|'.[!.]*'|'*') continue ;; esac
  if [ -L "$e" ]; then
    /bin/busybox ln -s "$(/bin/busybox readlink "$e")" "/newroot/$n"
  elif [ -d "$e" ]; then
    /bin/busybox mkdir "/newroot/$n" && /bin/busybox mount -o bind "$e" "/newroot/$n"
  fi
done
/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run /newroot/var/tmp
/bin/busybox mount -t proc proc /newroot/proc
/bin/busybox mount -t sysfs sys /newroot/sys
/bin/busybox mount -o bind /dev /newroot/dev
/bin/busybox mount -o bind /dev/pts /newroot/dev/pts
/bin/busybox mount -o bind /dev/shm /newroot/dev/shm
/bin/busybox mount -t cgroup2 none /newroot/sys/fs/cgroup 2>/dev/null
for d in tmp run var/tmp; do /bin/busybox mount -t tmpfs tmpfs /newroot/$d; done
# The source tree (with its build dirs) and WORK on shares of their own:
# under /tmp (a CI clone) the tmpfs above would hide them.
/bin/busybox mkdir -p /newroot$SRC 2>/dev/null
/bin/busybox mount -t 9p -o $o,ro src /newroot$SRC
/bin/busybox mkdir -p /newroot$WORK 2>/dev/null
/bin/busybox mount -t 9p -o $o work /newroot$WORK
/bin/busybox ip link set lo up 2>/dev/null
[ -e /dev/kvm ] && echo "kvm-host: /dev/kvm ready" > /dev/kmsg
/bin/busybox chroot /newroot /bin/bash -c "export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; bash $OUT/cmd.sh > $OUT/output 2>&1; echo \$? > $OUT/status"
/bin/busybox sync
/bin/busybox poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out/initrd.cpio"

# WORK is shared read-write (results, build outputs written by the
# command); its parent path exists read-only in the host tree, so the
# share is mounted at WORK itself.
timeout -k 5 "${KVH_TIMEOUT:-900}" qemu-system-x86_64 -cpu max,+svm -M pc -m "${KVH_MEMORY:-2048}" \
  -smp "${KVH_CPUS:-2}" -nodefaults -no-user-config -display none -no-reboot \
  -serial "file:$out/console.log" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap" \
  -virtfs "local,path=$src,mount_tag=src,security_model=passthrough,readonly=on" \
  -virtfs "local,path=$work,mount_tag=work,security_model=passthrough" \
  -kernel "$kernel" -initrd "$out/initrd.cpio" \
  -append "console=ttyS0 loglevel=4 panic=-1 reboot=k no_timer_check kvh.out=$out kvh.work=$work kvh.src=$src" </dev/null >"$out/qemu.log" 2>&1
qrc=$?
[[ -f $out/output ]] && cat "$out/output"
if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
  echo "kvm-host: the VM timed out after ${KVH_TIMEOUT:-900} s (console: $out/console.log)" >&2
  exit 124
fi
if [[ ! -f $out/status ]]; then
  echo "kvm-host: the command did not run (qemu exit $qrc); console tail:" >&2
  tail -n 20 "$out/console.log" >&2
  exit 125
fi
exit "$(cat "$out/status")"
