#!/usr/bin/env bats
load helpers

@test "run --rm busybox echo hello: output, exit 0, nothing left behind" {
  run --separate-stderr arca run --rm busybox echo hello
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  run arca ps -a -q
  [ -z "$output" ]
  [ -z "$(ls "$ET_ROOT/containers")" ]
  ! grep -q " $ET_ROOT/" /proc/self/mountinfo
}

@test "the container's exit code is arca run's, stdout and stderr stay apart" {
  run --separate-stderr arca run --rm busybox sh -c 'echo out; echo err >&2; exit 7'
  [ "$status" -eq 7 ]
  [ "$output" = out ]
  [ "$stderr" = err ]
}

@test "an unknown image or a bad reference fails with 125 and a clear message" {
  run --separate-stderr arca run --rm no-such-image true
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"no-such-image"* ]]
  run --separate-stderr arca run --rm 'Bad//Ref' true
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"Bad//Ref"* ]]
  [ -z "$(ls "$ET_ROOT/containers")" ]
}

@test "run -d, ps, logs, stop, rm" {
  run arca run -d --name ticker busybox sh -c 'trap "echo bye; exit 3" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done'
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  wait_status ticker Up
  sleep 0.4
  run arca logs --tail 1 ticker
  [[ "$output" =~ ^tick\ [0-9]+$ ]]
  run arca logs --timestamps ticker
  [[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:.]+Z\ tick\ 0$ ]]
  run arca stop -t 5 ticker
  [ "$status" -eq 0 ]
  wait_status ticker "Exited (3)"
  run arca logs ticker
  [ "${lines[-1]}" = bye ]
  run arca wait ticker
  [ "$output" = 3 ]
  arca rm ticker
  run arca ps -a -q
  [ -z "$output" ]
}

@test "rm of a running container needs -f; a name can be used once" {
  arca run -d --name busy busybox sleep 100
  run --separate-stderr arca rm busy
  [ "$status" -ne 0 ]
  [[ "$stderr" == *"running"* ]]
  run --separate-stderr arca run -d --name busy busybox true
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"already in use"* ]]
  [ "$(ls "$ET_ROOT/containers" | wc -l)" -eq 1 ]
  arca rm -f busy
  run arca ps -a -q
  [ -z "$output" ]
}

@test "flags are seen inside: env, workdir, user, hostname, limits, read-only root" {
  run arca run --rm -e A=1 --env B=two -w /etc -u nobody --hostname box -m 32m \
    --pids-limit 7 --cpus 0.5 --read-only busybox sh -c '
      echo "$A $B $(pwd) $(id -u):$(id -g) $(hostname)"
      cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
      cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us
      touch /x 2>/dev/null && echo rw || echo ro'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "1 two /etc 65534:65534 box" ]
  [ "${lines[1]}" = 33554432 ]
  [ "${lines[2]}" = 7 ]
  [ "${lines[3]}" = 50000 ]
  [ "${lines[4]}" = 100000 ]
  [ "${lines[5]}" = ro ]
}

@test "default security: Docker's capabilities and seccomp; --cap-drop, --privileged" {
  run arca run --rm busybox sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; mount -t tmpfs t /tmp 2>/dev/null && echo mounted || echo refused'
  [ "${lines[0]}" = "CapEff:	00000000a80425fb" ]
  [ "${lines[1]}" = "Seccomp:	2" ]
  [ "${lines[2]}" = refused ]
  run arca run --rm --cap-drop ALL --cap-add NET_BIND_SERVICE busybox grep CapEff /proc/self/status
  [ "$output" = "CapEff:	0000000000000400" ]
  run arca run --rm --privileged busybox sh -c 'grep -E "^Seccomp:" /proc/self/status; mount -t tmpfs t /tmp && echo mounted'
  [ "${lines[0]}" = "Seccomp:	0" ]
  [ "${lines[1]}" = mounted ]
  run arca run --rm --security-opt seccomp=unconfined --security-opt no-new-privileges busybox grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status
  [ "${lines[0]}" = "NoNewPrivs:	1" ]
  [ "${lines[1]}" = "Seccomp:	0" ]
}

@test "bind mounts (rw and :ro) and --tmpfs" {
  mkdir -p "$ET_DIR/share"
  echo from-host >"$ET_DIR/share/in"
  run arca run --rm -v "$ET_DIR/share:/data" -v "$ET_DIR/share:/ro:ro" --tmpfs /scratch:size=1m busybox sh -c '
    cat /data/in; echo from-container >/data/out
    (echo x >/ro/y) 2>/dev/null && echo ro-writable || echo ro-refused
    df -k /scratch | tail -1 | awk "{print \$2}"'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = from-host ]
  [ "${lines[1]}" = ro-refused ]
  [ "${lines[2]}" = 1024 ]
  [ "$(cat "$ET_DIR/share/out")" = from-container ]
  run --separate-stderr arca run --rm -v /no/such/dir:/x busybox true
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"/no/such/dir"* ]]
}

@test "copy-on-write root: changes stay in the container, the image is untouched" {
  arca run --name cow busybox sh -c 'echo changed >/etc/hostname-file; rm /bin/vi'
  run arca run --rm busybox sh -c 'ls /etc/hostname-file 2>&1; ls /bin/vi'
  [ "${lines[0]}" != "/etc/hostname-file" ]
  [ "${lines[1]}" = /bin/vi ]
  arca rm cow
}

@test "exec runs in the running container with -e and -w" {
  arca run -d --name ex busybox sleep 100
  wait_status ex Up
  run arca exec -e FOO=bar -w /tmp ex sh -c 'echo $FOO $(pwd) $(cat /proc/1/comm)'
  [ "$status" -eq 0 ]
  [ "$output" = "bar /tmp sleep" ]
  run arca exec ex sh -c 'exit 4'
  [ "$status" -eq 4 ]
}

@test "restart on-failure:2 runs the command three times" {
  arca run -d --name flaky --restart on-failure:2 busybox sh -c 'echo attempt; exit 1'
  wait_status flaky "Exited (1)"
  run arca logs flaky
  [ "${#lines[@]}" -eq 3 ]
}

@test "save and load round trip (docker-archive and oci-archive), import" {
  arca save -o "$ET_DIR/bb-docker.tar" busybox
  arca save --format oci-archive -o "$ET_DIR/bb-oci.tar" busybox
  tar -tf "$ET_DIR/bb-docker.tar" | grep -q manifest.json
  tar -tf "$ET_DIR/bb-oci.tar" | grep -q index.json
  local other=$ET_DIR/other
  run "$ARCA" --root "$other/root" --run-root "$other/run" load -i "$ET_DIR/bb-oci.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"localhost/busybox:latest"* ]]
  run "$ARCA" --root "$other/root" --run-root "$other/run" run --rm busybox echo loaded
  [ "$output" = loaded ]
  mkdir -p "$ET_DIR/rootfs/bin"
  cp /bin/busybox "$ET_DIR/rootfs/bin/"
  ln -s busybox "$ET_DIR/rootfs/bin/sh"
  tar -C "$ET_DIR/rootfs" -cf "$ET_DIR/rootfs.tar" .
  arca import "$ET_DIR/rootfs.tar" mini:1
  run arca run --rm mini:1 /bin/sh -c 'echo imported'
  [ "$output" = imported ]
  run arca images --format json
  [[ "$output" == *"localhost/mini:1"* ]]
}

@test "a truncated archive fails and leaves the store as it was" {
  arca save -o "$ET_DIR/full.tar" busybox
  head -c 100000 "$ET_DIR/full.tar" >"$ET_DIR/cut.tar"
  local other=$ET_DIR/cut-store
  run --separate-stderr "$ARCA" --root "$other/root" --run-root "$other/run" load -i "$ET_DIR/cut.tar"
  [ "$status" -eq 125 ]
  [ -n "$stderr" ]
  run "$ARCA" --root "$other/root" --run-root "$other/run" images -q
  [ -z "$output" ]
  [ -z "$(ls "$other/root/blobs/sha256")" ]
}

@test "run -i passes stdin; run -it gives the process a terminal" {
  run --separate-stderr bash -c 'echo piped-input | "$0" --root "$1" --run-root "$2" run --rm -i busybox sh -c "cat; exit 4"' "$ARCA" "$ET_ROOT" "$ET_RUN"
  [ "$status" -eq 4 ]
  [ "$output" = piped-input ]
  run script -qec "$ARCA --root $ET_ROOT --run-root $ET_RUN run --rm -it busybox sh -c 'tty; exit 6'" /dev/null
  [ "$status" -eq 6 ]
  [[ "$output" == *"/dev/pts/0"* ]]
  # A detached terminal is the monitor's now (tests/engine/attach.bats).
  run arca run -d -t busybox true
  [ "$status" -eq 0 ]
}

@test "--init: arca-init is pid 1, forwards the stop signal and passes the exit code" {
  run arca run --rm --init busybox sh -c 'cat /proc/1/comm; exit 9'
  [ "$status" -eq 9 ]
  [ "${lines[0]}" = init ]
  arca run -d --init --name with-init busybox sleep 100
  wait_status with-init Up
  # sleep as pid 1 would ignore SIGTERM; under arca-init it gets it and dies at once.
  run arca stop -t 20 with-init
  [ "$status" -eq 0 ]
  wait_status with-init "Exited (143)"
}

@test "--network none: a private stack with lo up and nothing else; --network host: the host's" {
  run arca run --rm --network none busybox sh -c 'ls /sys/class/net; ping -c1 -W1 127.0.0.1 >/dev/null && echo lo-works'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = lo ]
  [ "${lines[1]}" = lo-works ]
  run arca run --rm --network host busybox ls /sys/class/net
  [ "$output" = "$(ls /sys/class/net)" ]
}
