#!/usr/bin/env bats
# A private containerd (own root, state and socket under WORK) running containers through
# `ctr run --runc-binary RUNTIME` with the io.containerd.runc.v2 shim.

load helpers

CD_DIR=$ARCA_CT_WORK/containerd
CD_SOCK=$CD_DIR/containerd.sock

# c ARGS...: ctr against the private containerd, in its own namespace
c() { timeout 60 ctr --address "$CD_SOCK" --namespace arca-it "$@"; }

setup_file() {
  command -v containerd >/dev/null || skip "containerd is not installed"
  command -v ctr >/dev/null || skip "ctr is not installed"
  mkdir -p "$CD_DIR/root" "$CD_DIR/state"
  cat >"$CD_DIR/config.toml" <<CONF
version = 2
root = "$CD_DIR/root"
state = "$CD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CD_SOCK"
[ttrpc]
  address = "$CD_SOCK.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.runtime.v1.linux"]
  runtime = "$RUNTIME"
CONF
  containerd --config "$CD_DIR/config.toml" >"$CD_DIR/containerd.log" 2>&1 &
  echo $! >"$CD_DIR/containerd.pid"
  local i
  for i in $(seq 1 100); do
    [ -S "$CD_SOCK" ] && c version >/dev/null 2>&1 && break
    sleep 0.1
  done
  c version >/dev/null || { echo "containerd did not start: $(tail -5 "$CD_DIR/containerd.log")" >&2; return 1; }
  if [ ! -s "$CD_DIR/busybox.tar" ]; then
    bash "$BATS_TEST_DIRNAME/make-oci-archive.sh" "$ARCA_CT_ROOTFS" "$CD_DIR/busybox.tar" localhost/busybox:latest
  fi
  c image import "$CD_DIR/busybox.tar" >/dev/null
}

teardown() {
  local t
  for t in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$t" >/dev/null 2>&1 || true; done
  sleep 0.2
  for t in $(c task ls -q 2>/dev/null); do c task delete -f "$t" >/dev/null 2>&1 || true; done
  for t in $(c container ls -q 2>/dev/null); do c container delete "$t" >/dev/null 2>&1 || true; done
}

teardown_file() {
  local pid
  pid=$(cat "$CD_DIR/containerd.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  # shims of this containerd exit with it; unmount what is left under our dir
  awk -v d="$CD_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

@test "the image is imported" {
  run c image ls -q
  assert_success
  assert_match "$output" 'localhost/busybox:latest' "images"
}

@test "ctr run --rm prints the container's output" {
  run c run --runc-binary "$RUNTIME" --rm localhost/busybox:latest ct-run \
    sh -c 'echo hello-from-$(hostname); echo pid=$$'
  assert_success
  assert_match "$output" 'hello-from-' "output"
  assert_match "$output" 'pid=1' "output"
  run c container ls -q
  assert_eq "$output" "" "containers left after --rm"
}

@test "ctr run returns the container's exit status" {
  run c run --runc-binary "$RUNTIME" --rm localhost/busybox:latest ct-exit sh -c 'exit 7'
  assert_eq "$status" 7 "exit status"
}

@test "ctr run -d, task exec, task ps, task kill" {
  run c run -d --runc-binary "$RUNTIME" localhost/busybox:latest ct-bg sleep 1000
  assert_success
  retry 50 sh -c "ctr --address '$CD_SOCK' --namespace arca-it task ls | grep -q 'ct-bg .*RUNNING'"
  run c task exec --exec-id e1 ct-bg sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "'
  assert_success
  assert_match "$output" 'exec-ok' "exec output"
  assert_match "$output" 'sleep 1000' "exec output"
  run c task ps ct-bg
  assert_success
  [ "$(echo "$output" | tail -n +2 | grep -c .)" -ge 1 ]
  run c task kill -s KILL ct-bg
  assert_success
  retry 50 sh -c "ctr --address '$CD_SOCK' --namespace arca-it task ls | grep -q 'ct-bg .*STOPPED'"
}

@test "ctr task pause and resume" {
  run c run -d --runc-binary "$RUNTIME" localhost/busybox:latest ct-pause sleep 1000
  assert_success
  retry 50 sh -c "ctr --address '$CD_SOCK' --namespace arca-it task ls | grep -q 'ct-pause .*RUNNING'"
  run c task pause ct-pause
  assert_success
  retry 20 sh -c "ctr --address '$CD_SOCK' --namespace arca-it task ls | grep -q 'ct-pause .*PAUSED'"
  run c task resume ct-pause
  assert_success
  retry 20 sh -c "ctr --address '$CD_SOCK' --namespace arca-it task ls | grep -q 'ct-pause .*RUNNING'"
}

@test "ctr run --memory-limit: the limit is in the task's memory cgroup" {
  run c run -d --runc-binary "$RUNTIME" --memory-limit 67108864 localhost/busybox:latest ct-mem sleep 1000
  assert_success
  retry 50 sh -c "ctr --address '$CD_SOCK' --namespace arca-it task ls | grep -q 'ct-mem .*RUNNING'"
  pid=$(c task ls | awk '$1 == "ct-mem" { print $2 }')
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    f=/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' /proc/$pid/cgroup)/memory.max
  else
    f=/sys/fs/cgroup/memory$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/$pid/cgroup)/memory.limit_in_bytes
  fi
  assert_eq "$(cat "$f")" 67108864 "memory limit of the task's cgroup ($f)"
}

@test "--runc-binary is really used: a missing binary makes ctr run fail" {
  run c run --runc-binary "$ARCA_CT_WORK/no-such-runtime" --rm localhost/busybox:latest ct-none true
  [ "$status" -ne 0 ]
}
