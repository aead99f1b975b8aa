#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of arca from Debian.
# Idempotent: packages already present are skipped without touching apt.
set -euo pipefail

packages=(
  # build
  gcc clang meson ninja-build pkg-config make
  libseccomp-dev libjansson-dev libarchive-dev libssl-dev libmnl-dev
  libnftables-dev libsqlite3-dev libcurl4-openssl-dev
  # tests
  libcmocka-dev libclang-rt-14-dev bats jq busybox-static util-linux iproute2 nftables debootstrap python3 bc
  docker-registry apache2-utils openssl curl python3
  # peers for interoperability tests and benchmarks
  crun runc podman containerd hyperfine time qemu-system-x86 linux-image-amd64 cpio
  # arca run --vm with the root as an ext4 disk (mkfs.ext4 -d)
  e2fsprogs
  # network benchmark (bench/network.sh) and the nginx test (tests/engine/network-http.bats)
  iperf3 wrk nginx-light strace ethtool
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
