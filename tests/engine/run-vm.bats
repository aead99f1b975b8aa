#!/usr/bin/env bats
# `arca run --vm` on the host: its refusals and errors, and (with QEMU TCG
# standing in for arca-vmm, tests/vm-linux/qemu-vmm.sh, as this host's
# KVM cannot boot Linux) a whole run: output, stderr, exit status, --rm.
# The same runs under arca-vmm with real SVM: tests/vm-linux/runvm.sh.
load helpers

stand_in=$BATS_TEST_DIRNAME/../vm-linux/qemu-vmm.sh

runs_left() { ls "$ET_ROOT/vm/runs" 2>/dev/null | wc -l; }

need_guest() {
  command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
  ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no guest kernel (scripts/guest-kernel.sh)"
  [ -r "$(ls /boot/vmlinuz-* | sort -V | tail -n1)" ] || skip "guest kernel not readable"
}

# A TCG boot takes tens of seconds: more than the helper's 60 s limit.
arca_vm() {
  ARCA_VMM_PATH=$stand_in timeout -k 5 300 "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm "$@"
}

@test "run --vm: an unknown image is an error naming it, and leaves no run behind" {
  run -125 env ARCA_VMM_PATH=$stand_in "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" \
    run --vm no-such-image-here echo hi
  [[ $output == *no-such-image-here* ]]
  [ "$(runs_left)" = 0 ]
}

@test "run --vm: a missing guest kernel is an error naming it" {
  run -125 env ARCA_VMM_PATH=$stand_in ARCA_VM_KERNEL=/nonexistent/vmlinuz \
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm busybox echo hi
  [[ $output == *"/nonexistent/vmlinuz"* ]]
  [ "$(runs_left)" = 0 ]
}

@test "run --vm: without /dev/kvm the error says so" {
  [ ! -e /dev/kvm ] || skip "this host has /dev/kvm"
  run -125 arca run --vm busybox echo hi
  [[ $output == *"/dev/kvm"* ]]
}

@test "run --vm: -d, -t and create --vm are refused" {
  run -125 arca run --vm -d busybox true
  [[ $output == *"--vm"* ]]
  run -125 arca run --vm -t busybox true
  [[ $output == *"--vm"* ]]
  run -125 arca create --vm busybox true
  [[ $output == *"--vm is for run"* ]]
}

@test "run --vm: output, stderr apart, exit status, user/env/dir/hostname, --rm" {
  need_guest
  run --separate-stderr -7 arca_vm --rm -e FOO=bar -w /tmp -u 1000:1000 --hostname vmhost \
    busybox sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"; echo to-stderr >&2; exit 7'
  [ "$output" = "bar /tmp 1000:1000 vmhost" ]
  [ "$stderr" = "to-stderr" ]
  [ "$(runs_left)" = 0 ]
  # Without --rm the run's directory stays with the status the guest sent.
  run -0 arca_vm busybox echo hi
  [ "$output" = hi ]
  [ "$(runs_left)" = 1 ]
  [ "$(cat "$ET_ROOT"/vm/runs/*/exit-code)" = 0 ]
  # The image root and agent archives are cached once.
  [ "$(ls "$ET_ROOT"/vm/rootfs-*.cpio | wc -l)" = 1 ]
}

@test "run --vm with ARCA_VM_ROOT=disk: the image root is a cached ext4 disk over virtio-pci" {
  need_guest
  command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (e2fsprogs)"
  before=$(runs_left)   # the run the test before keeps (no --rm)
  run --separate-stderr -3 env ARCA_VM_ROOT=disk ARCA_VMM_PATH=$stand_in timeout -k 5 300 "$ARCA" \
    --root "$ET_ROOT" --run-root "$ET_RUN" run --vm --rm -u 1000 busybox \
    sh -c 'grep -c " / overlay" /proc/mounts; id -u; touch /x 2>/dev/null || echo no-write; exit 3'
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = no-write ]
  [ "$(ls "$ET_ROOT"/vm/disk-*.ext4 | wc -l)" = 1 ]
  [ "$(runs_left)" = "$before" ]   # --rm: this one left none
}
