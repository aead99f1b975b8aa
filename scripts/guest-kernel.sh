#!/usr/bin/env bash
# Prints the path of the Debian kernel (vmlinuz) that arca boots as a guest,
# installing linux-image-amd64 when no Debian kernel is on the machine.
# The running kernel does not matter (CI hosts run their own); what we need
# is a /boot/vmlinuz-<release> with its /lib/modules/<release> beside it.
#   scripts/guest-kernel.sh            -> /boot/vmlinuz-6.1.0-NN-amd64
#   scripts/guest-kernel.sh --release  -> 6.1.0-NN-amd64
set -euo pipefail

find_kernel() {
  local k rel best=
  # Newest release that has its modules: kvm.ko is what the nested test loads.
  for k in /boot/vmlinuz-*-amd64; do
    [[ -f $k ]] || continue
    rel=${k#/boot/vmlinuz-}
    [[ -d /lib/modules/$rel/kernel/arch/x86/kvm ]] || continue
    best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n1)
  done
  [[ -n $best ]] && printf '%s\n' "$best"
}

rel=$(find_kernel || true)
if [[ -z $rel ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "guest-kernel: no Debian kernel in /boot and not root to install linux-image-amd64" >&2
    exit 1
  fi
  echo "guest-kernel: installing linux-image-amd64" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends linux-image-amd64 >&2
  rel=$(find_kernel || true)
  [[ -n $rel ]] || { echo "guest-kernel: linux-image-amd64 installed no usable kernel" >&2; exit 1; }
fi

# Debian ships vmlinuz readable by root only; the tests run as root, but say
# so clearly instead of failing later inside cpio.
[[ -r /boot/vmlinuz-$rel ]] || { echo "guest-kernel: /boot/vmlinuz-$rel is not readable (run as root)" >&2; exit 1; }

case ${1:-} in
  --release) printf '%s\n' "$rel" ;;
  '') printf '/boot/vmlinuz-%s\n' "$rel" ;;
  *) echo "usage: guest-kernel.sh [--release]" >&2; exit 2 ;;
esac
