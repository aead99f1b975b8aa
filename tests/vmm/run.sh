#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every arca-vmm test as one TAP stream without meson's test runner.
# usage: tests/vmm/run.sh BUILD WORK
#   BUILD  a meson build directory holding src/cli/vmm/arca-vmm
#   WORK   scratch directory (the test guest is built there when BUILD has
#          no tests/vmm/arca-test-guest.elf)
set -u
BUILD=$(realpath "$1") WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
GUESTS=$HERE/../guests
mkdir -p "$WORK"
VMM=$BUILD/src/cli/vmm/arca-vmm
ELF=$BUILD/tests/vmm/arca-test-guest.elf
BZ=$BUILD/tests/vmm/arca-test-guest.bzImage
if [ ! -x "$VMM" ]; then echo "1..0 # SKIP $VMM not built"; exit 0; fi
if [ ! -f "$ELF" ]; then
  ELF=$WORK/arca-test-guest.elf BZ=$WORK/arca-test-guest.bzImage
  ${CC:-cc} -std=gnu17 -O2 -ffreestanding -nostdlib -static -fno-pie \
    -fno-stack-protector -fcf-protection=none -mno-red-zone -mgeneral-regs-only \
    -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -Wl,--build-id=none \
    -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments -T "$GUESTS/guest.ld" \
    "$GUESTS/start.S" "$GUESTS/guest.c" "$GUESTS/virtio.c" -o "$ELF" || exit 1
  python3 "$GUESTS/mkbzimage.py" "$ELF" "$BZ" || exit 1
fi

# Each script prints its own plan; renumber into one stream.
n=0 failed=0
ARCA=$BUILD/src/cli/engine/arca
tests=("test-boot.sh $VMM $ELF $BZ" "test-virtio.sh $VMM $ELF" "test-api.sh $VMM $ELF"
       "test-migrate.sh $VMM $ELF" "test-vsock.sh $VMM $ELF" "test-pci.sh $VMM $ELF"
       "test-jail.sh $VMM $ELF")
if [ -x "$ARCA" ]; then tests+=("test-arca-vm.sh $ARCA $ELF"); else echo "# test-arca-vm: skipped: $ARCA not built"; fi
for t in "${tests[@]}"; do
  [ -n "$t" ] || continue
  set -- $t
  name=$1; shift
  while IFS= read -r line; do
    case $line in
      "ok "*) n=$((n + 1)); echo "ok $n - ${name%.sh}: ${line#ok * - }" ;;
      "not ok "*) n=$((n + 1)); failed=1; echo "not ok $n - ${name%.sh}: ${line#not ok * - }" ;;
      "1..0 # SKIP"*) echo "# ${name%.sh}: skipped: ${line#1..0 # SKIP }" ;;
      "1.."*) ;;
      *) echo "$line" ;;
    esac
  done < <("$HERE/$name" "$@")
done
echo "1..$n"
exit $failed
