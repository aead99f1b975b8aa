#!/usr/bin/env bats
# podman 4.3 driving the runtime under test with --runtime, on private storage under WORK.

load helpers

PM_DIR=$ARCA_CT_WORK/podman

# pm ARGS...: podman with private storage, the host-notes containers.conf and the runtime
pm() {
  CONTAINERS_CONF=$PM_DIR/containers.conf timeout 60 podman \
    --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
    --runtime "$RUNTIME" --cgroup-manager cgroupfs --events-backend file "$@"
}

setup_file() {
  command -v podman >/dev/null || skip "podman is not installed"
  mkdir -p "$PM_DIR/root" "$PM_DIR/runroot" "$PM_DIR/tmp"
  # without the ulimits podman asks for RLIMIT_NOFILE 1048576, beyond this host's hard limit
  cat >"$PM_DIR/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  if ! pm image exists localhost/busybox:latest; then
    tar -C "$ARCA_CT_ROOTFS" -c . | pm import - localhost/busybox:latest >/dev/null
  fi
}

teardown() {
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
}

teardown_file() {
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
  # podman leaves its storage mounted; unmount it so WORK can be removed
  awk -v d="$PM_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

@test "podman run --rm prints the container's output and exit status" {
  run pm run --rm --network none localhost/busybox sh -c 'echo hello-$(hostname | wc -c); exit 3'
  [ "$status" -eq 3 ] || { echo "status $status: $output" >&2; return 1; }
  assert_match "$output" 'hello-' "output"
  run pm run --rm --network none localhost/busybox echo second
  assert_success
  assert_eq "$output" second
}

@test "podman exec into a running container" {
  run pm run -d --name ct-exec --network none localhost/busybox sleep 1000
  assert_success
  run pm exec ct-exec sh -c 'echo "in:$$:$(cat /proc/1/cmdline | tr "\0" " ")"'
  assert_success
  assert_match "$output" '^in:[0-9]+:sleep 1000 $' "exec output"
  run pm exec --env A=b --workdir /tmp --user 1000 ct-exec sh -c 'echo "$A $(pwd) $(id -u)"'
  assert_success
  assert_eq "$output" "b /tmp 1000"
}

@test "podman stop stops a running container" {
  run pm run -d --name ct-stop --network none localhost/busybox sleep 1000
  assert_success
  run pm stop -t 1 ct-stop
  assert_success
  assert_eq "$(pm inspect -f '{{.State.Status}}' ct-stop)" exited "state after stop"
}

@test "podman kill delivers the signal (KILL gives 137)" {
  run pm run -d --name ct-kill --network none localhost/busybox sleep 1000
  assert_success
  run pm kill -s KILL ct-kill
  assert_success
  run pm wait ct-kill
  assert_eq "$output" 137 "exit code"
  # a handled signal reaches the process
  run pm run -d --name ct-usr1 --network none localhost/busybox \
    sh -c 'trap "echo got-usr1; exit 5" USR1; while :; do sleep 0.1; done'
  assert_success
  sleep 0.5
  pm kill -s USR1 ct-usr1
  run pm wait ct-usr1
  assert_eq "$output" 5 "exit code after USR1"
  run pm logs ct-usr1
  assert_match "$output" got-usr1 "logs"
}

@test "podman pause and unpause" {
  run pm run -d --name ct-pause --network none localhost/busybox \
    sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c.new; mv -f /tmp/c.new /tmp/c; sleep 0.05; done'
  assert_success
  sleep 0.5
  run pm pause ct-pause
  assert_success
  assert_eq "$(pm inspect -f '{{.State.Status}}' ct-pause)" paused "state"
  pid=$(pm inspect -f '{{.State.Pid}}' ct-pause)
  # (frozen, the counter file is stable; running, it may be caught empty mid-write)
  c1=$(cat /proc/$pid/root/tmp/c)
  [ -n "$c1" ]
  sleep 0.4
  assert_eq "$(cat /proc/$pid/root/tmp/c)" "$c1" "counter while paused"
  run pm unpause ct-pause
  assert_success
  assert_eq "$(pm inspect -f '{{.State.Status}}' ct-pause)" running "state"
  retry 20 sh -c "c=\$(cat /proc/$pid/root/tmp/c); [ -n \"\$c\" ] && [ \"\$c\" -gt $c1 ]"
}

@test "podman logs shows the container's output" {
  run pm run -d --name ct-logs --network none localhost/busybox sh -c 'echo line-one; echo line-two >&2; sleep 1000'
  assert_success
  retry 50 sh -c "$(declare -f pm); PM_DIR='$PM_DIR' RUNTIME='$RUNTIME'; pm logs ct-logs 2>&1 | grep -q line-two"
  run pm logs ct-logs
  assert_match "$output" line-one "logs"
  assert_match "$output" line-two "logs"
}

@test "podman run --memory: the limit is seen inside the container" {
  run pm run --rm --network none --memory 64m localhost/busybox \
    sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
  assert_success
  assert_eq "$output" 67108864 "memory limit inside"
}

@test "podman really uses the runtime under test" {
  run pm run -d --name ct-rt --network none localhost/busybox sleep 1000
  assert_success
  assert_eq "$(pm inspect -f '{{.OCIRuntime}}' ct-rt)" "$RUNTIME" "OCIRuntime"
  # and a missing runtime makes run fail
  run env RUNTIME="$ARCA_CT_WORK/no-such-runtime" bash -c "$(declare -f pm); PM_DIR='$PM_DIR'; pm run --rm --network none localhost/busybox true"
  [ "$status" -ne 0 ]
}
