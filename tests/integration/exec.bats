#!/usr/bin/env bats
# exec into a running container; terminals through --console-socket; fd passing
# (--preserve-fds, LISTEN_FDS).

load helpers

# start_recvtty NAME [INPUT]: a console-socket receiver at $TEST_DIR/NAME.sock writing what
# the pty master yields to $TEST_DIR/NAME.out; sets RECV_PID
start_recvtty() {
  local name=$1
  python3 "$BATS_TEST_DIRNAME/tools/recvtty.py" "$TEST_DIR/$name.sock" "$TEST_DIR/$name.out" ${2:+"$2"} \
    </dev/null >"$TEST_DIR/$name.log" 2>&1 &
  RECV_PID=$!
  for i in $(seq 1 100); do [ -S "$TEST_DIR/$name.sock" ] && return 0; sleep 0.05; done
  echo "recvtty did not start: $(cat "$TEST_DIR/$name.log")" >&2
  return 1
}

# wait_recvtty: waits (10 s at most) for the receiver to see the pty closed
wait_recvtty() {
  local i
  for i in $(seq 1 200); do
    kill -0 "$RECV_PID" 2>/dev/null || { wait "$RECV_PID"; return; }
    sleep 0.05
  done
  kill "$RECV_PID"
  echo "recvtty still waiting for the pty to close" >&2
  return 1
}

@test "exec runs a process in the container, passes its output and exit status" {
  start_sleeper
  run --separate-stderr rt_exec "$CID" sh -c 'echo out; echo err >&2; exit 7'
  assert_failure 7
  assert_eq "$output" out
  assert_eq "$stderr" err
  run rt_exec "$CID" /bin/echo a "b c" '$HOME'
  assert_success
  assert_eq "$output" 'a b c $HOME'
}

@test "the exec'd process joins the container's namespaces and cgroup" {
  start_sleeper
  pid=$(state_pid "$CID")
  run rt_exec "$CID" sh -c 'echo $$; hostname; for n in mnt pid net; do readlink /proc/self/ns/$n; done'
  assert_success
  [ "${lines[0]}" != 1 ]
  [ "${lines[2]}" = "$(readlink /proc/$pid/ns/mnt)" ]
  [ "${lines[3]}" = "$(readlink /proc/$pid/ns/pid)" ]
  [ "${lines[4]}" = "$(readlink /proc/$pid/ns/net)" ]
  # a detached exec'd process is in the container's cgroup on the host
  rt exec -d --pid-file "$TEST_DIR/exec.pid" "$CID" sleep 999 </dev/null >/dev/null 2>&1
  epid=$(cat "$TEST_DIR/exec.pid")
  [ -d "/proc/$epid" ]
  assert_eq "$(cat /proc/$epid/cgroup | sort)" "$(cat /proc/$pid/cgroup | sort)" "cgroups of exec'd process"
  assert_eq "$(tr '\0' ' ' </proc/$epid/cmdline)" "sleep 999 " "cmdline"
}

@test "exec --env, --cwd, --user and --additional-gids" {
  start_sleeper
  run rt_exec --env ARCA_A=1 --env "ARCA_B=two words" --cwd /tmp --user 1000:1001 \
    --additional-gids 1005 "$CID" sh -c 'echo "$ARCA_A|$ARCA_B"; pwd; id -u; id -g; id -G'
  assert_success
  assert_eq "$output" $'1|two words\n/tmp\n1000\n1001\n1001 1005'
  # the config's environment is kept
  run rt_exec "$CID" sh -c 'echo $PATH'
  assert_success
  [ -n "$output" ]
}

@test "exec --process reads a process.json" {
  start_sleeper
  cat >"$TEST_DIR/process.json" <<'EOF'
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "-c", "echo from-json $X; pwd"],
 "env": ["PATH=/bin:/usr/bin", "X=42"], "cwd": "/etc"}
EOF
  run rt_exec --process "$TEST_DIR/process.json" "$CID"
  assert_success
  assert_eq "$output" $'from-json 42\n/etc'
}

@test "exec into a stopped or unknown container fails" {
  set_args /bin/true
  create_container
  rt start "$CID"
  wait_status "$CID" stopped
  run rt_exec "$CID" true
  assert_failure
  run rt_exec nosuchcontainer true
  assert_failure
}

@test "exec -t with --console-socket hands a working pty master to the socket" {
  start_sleeper
  start_recvtty exec
  rt exec -d -t --console-socket "$TEST_DIR/exec.sock" "$CID" \
    sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; echo done-tty' </dev/null
  wait_recvtty
  out=$(tr -d '\r' <"$TEST_DIR/exec.out")
  assert_match "$out" '/dev/pts/[0-9]+' "tty output"
  assert_match "$out" 'stdio-is-tty' "tty output"
  assert_match "$out" 'done-tty' "tty output"
}

@test "exec -t: input written to the pty master reaches the process" {
  start_sleeper
  start_recvtty in $'hello-pty\n'
  rt exec -d -t --console-socket "$TEST_DIR/in.sock" "$CID" \
    sh -c 'read -r line; echo "got:$line"' </dev/null
  wait_recvtty
  assert_match "$(tr -d '\r' <"$TEST_DIR/in.out")" 'got:hello-pty' "tty output"
}

@test "create with terminal=true sends the container's pty to --console-socket" {
  update_config '.process.terminal = true'
  set_cmd 'tty; echo in-terminal; sleep 0.2'
  start_recvtty ctr
  rt create --console-socket "$TEST_DIR/ctr.sock" --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  wait_recvtty
  out=$(tr -d '\r' <"$TEST_DIR/ctr.out")
  assert_match "$out" '/dev/pts/0' "tty output"
  assert_match "$out" 'in-terminal' "tty output"
  wait_status "$CID" stopped
  rt delete "$CID"
}

@test "run --preserve-fds 1 passes fd 3 and not fd 4" {
  echo three >"$TEST_DIR/f3"
  echo four >"$TEST_DIR/f4"
  set_cmd 'cat <&3; echo FDS; ls /proc/1/fd; true'
  run --separate-stderr rt run --preserve-fds 1 --bundle "$BUNDLE" "$CID" </dev/null 3<"$TEST_DIR/f3" 4<"$TEST_DIR/f4"
  assert_success
  assert_eq "${lines[0]}" three "fd 3 content"
  assert_eq "$(fds_after_marker)" "0 1 2 3 " "fds of pid 1"
}

@test "exec --preserve-fds passes extra fds to the exec'd process" {
  start_sleeper
  echo three >"$TEST_DIR/f3"
  run rt exec --preserve-fds 1 "$CID" sh -c 'cat <&3; echo FDS; ls /proc/$$/fd; true' \
    </dev/null 3<"$TEST_DIR/f3" 4<"$TEST_DIR/f3"
  assert_success
  assert_eq "${lines[0]}" three "fd 3 content"
  assert_eq "$(fds_after_marker)" "0 1 2 3 " "fds of the exec'd shell"
}

@test "LISTEN_FDS/LISTEN_PID: socket-activation fds are passed and LISTEN_FDS is set inside" {
  echo activated >"$TEST_DIR/f3"
  echo other >"$TEST_DIR/f4"
  set_cmd 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat <&3; echo FDS; ls /proc/1/fd; true'
  # LISTEN_PID must name the runtime itself: set it in a shell that then execs the runtime
  run --separate-stderr timeout 30 sh -c 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"' sh \
    "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID" </dev/null 3<"$TEST_DIR/f3" 4<"$TEST_DIR/f4"
  assert_success
  assert_eq "${lines[0]}" "fds=1 pid=1" "activation environment"
  assert_eq "${lines[1]}" activated "fd 3 content"
  assert_eq "$(fds_after_marker)" "0 1 2 3 " "fds of pid 1"
}

@test "exec --cap adds a capability to the exec'd process only" {
  start_sleeper
  # CAP_SYS_ADMIN is bit 21 (0x200000); the default spec does not grant it
  run rt_exec "$CID" sh -c 'grep ^CapEff /proc/self/status'
  assert_success
  eff=$(awk '{ print $2 }' <<<"$output")
  (( (16#$eff & 0x200000) == 0 ))
  run rt_exec --cap CAP_SYS_ADMIN "$CID" sh -c 'grep ^CapEff /proc/self/status'
  assert_success
  eff=$(awk '{ print $2 }' <<<"$output")
  (( (16#$eff & 0x200000) != 0 )) || { echo "CapEff $eff lacks CAP_SYS_ADMIN" >&2; return 1; }
  pid=$(state_pid "$CID")
  bnd=$(awk '/^CapBnd/ { print $2 }' /proc/$pid/status)
  (( (16#$bnd & 0x200000) == 0 ))
}
