#!/usr/bin/env bats
# Lifecycle: run/create/start/state/kill/delete/list/ps and their status codes.

load helpers

@test "run prints the container's output and returns its exit status" {
  set_cmd 'echo hello from $(hostname); exit 3'
  run_container
  assert_failure 3
  assert_output_has "hello from"
  # the container is gone after a foreground run
  run rt state "$CID"
  assert_failure
}

@test "run of a successful process returns 0" {
  set_args /bin/echo ok
  run_container
  assert_success
  assert_eq "$output" ok
}

@test "create -> created with a pid; start -> running; kill KILL -> stopped; delete" {
  set_args /bin/sleep 1000
  create_container
  run rt state "$CID"
  assert_success
  assert_eq "$(jq -r .status <<<"$output")" created "status after create"
  assert_eq "$(jq -r .id <<<"$output")" "$CID" "id"
  assert_eq "$(jq -r .bundle <<<"$output")" "$BUNDLE" "bundle"
  assert_match "$(jq -r .ociVersion <<<"$output")" '^1\.' "ociVersion"
  pid=$(jq -r .pid <<<"$output")
  [ "$pid" -gt 0 ]
  # the init process exists and waits; the user process has not run yet
  [ -d "/proc/$pid" ]
  [[ $(tr '\0' ' ' </proc/$pid/cmdline) != "/bin/sleep 1000 " ]]

  rt start "$CID"
  wait_status "$CID" running
  [ "$(state_pid "$CID")" = "$pid" ]
  [[ $(tr '\0' ' ' </proc/$pid/cmdline) == "/bin/sleep 1000 " ]]

  # (pid 1 of a pid namespace ignores signals it has no handler for: TERM would be a no-op)
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  [ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = Z ] || ! grep -q sleep /proc/$pid/cmdline

  rt delete "$CID"
  run rt state "$CID"
  assert_failure
  [ -z "$(ls -A "$ROOT")" ]
}

@test "a process that exits on its own gives status stopped" {
  set_args /bin/true
  create_container
  rt start "$CID"
  wait_status "$CID" stopped
  rt delete "$CID"
}

@test "delete of a running container fails without --force and works with it" {
  start_sleeper
  pid=$(state_pid "$CID")
  run rt delete "$CID"
  assert_failure
  [ "$(state_status "$CID")" = running ]
  [ -d "/proc/$pid" ]
  rt delete --force "$CID"
  run rt state "$CID"
  assert_failure
  for i in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
  [ ! -d "/proc/$pid" ]
}

@test "delete --force of a created (not started) container" {
  set_args /bin/sleep 1000
  create_container
  rt delete --force "$CID"
  run rt state "$CID"
  assert_failure
}

@test "run --detach leaves the container running" {
  set_args /bin/sleep 1000
  run_detached
  wait_status "$CID" running
  pid=$(state_pid "$CID")
  [ -d "/proc/$pid" ]
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  rt delete "$CID"
}

@test "list shows containers as a table, as json and ids with -q" {
  start_sleeper
  id2=$(new_id)
  set_args /bin/sleep 1000
  create_container "$id2"

  run rt list
  assert_success
  [[ ${lines[0]} == ID* ]]
  assert_output_has "$CID"
  assert_output_has "$id2"
  echo "$output" | grep "^$CID " | grep -q running
  echo "$output" | grep "^$id2 " | grep -q created

  run rt list --format json
  assert_success
  assert_eq "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .status' <<<"$output")" running
  assert_eq "$(jq -r --arg id "$id2" '.[] | select(.id == $id) | .status' <<<"$output")" created
  assert_eq "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .bundle' <<<"$output")" "$BUNDLE"
  [ "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .pid' <<<"$output")" = "$(state_pid "$CID")" ]

  run rt list -q
  assert_success
  assert_eq "$(echo "$output" | sort | tr '\n' ' ')" "$(printf '%s\n' "$CID" "$id2" | sort | tr '\n' ' ')"
}

@test "list on an empty root prints only the header (or nothing as json)" {
  run rt list -q
  assert_success
  assert_eq "$output" ""
  run rt list --format json
  assert_success
  [ "$output" = "null" ] || [ "$(jq length <<<"$output")" = 0 ]
}

@test "ps lists the container's processes (table and json)" {
  set_args /bin/sh -c 'sleep 1000 & sleep 1001 & wait'
  create_container
  rt start "$CID"
  wait_status "$CID" running
  pid=$(state_pid "$CID")
  for i in $(seq 1 50); do
    [ "$(pgrep -P "$pid" | wc -l)" -ge 2 ] && break
    sleep 0.05
  done
  run rt ps --format json "$CID"
  assert_success
  pids=$(jq -r '.[]' <<<"$output" | sort -n | tr '\n' ' ')
  want=$( (echo "$pid"; pgrep -P "$pid") | sort -n | tr '\n' ' ')
  assert_eq "$pids" "$want" "ps --format json"

  run rt ps "$CID"
  assert_success
  assert_output_has "PID"
  assert_output_has "sleep 1000"
  assert_output_has "sleep 1001"
}

@test "a duplicate id fails with status 1 and leaves the first container intact" {
  start_sleeper
  pid=$(state_pid "$CID")
  rt_capture create --bundle "$BUNDLE" "$CID"
  assert_failure 1
  [ -n "$stderr" ]
  assert_eq "$(state_status "$CID")" running
  assert_eq "$(state_pid "$CID")" "$pid"
  [ -d "/proc/$pid" ]
  rt_capture run --bundle "$BUNDLE" "$CID"
  assert_failure 1
  assert_eq "$(state_status "$CID")" running
}

@test "kill accepts KILL, SIGKILL and 9" {
  for sig in KILL SIGKILL 9; do
    id=$(new_id)
    start_sleeper "$id"
    run rt kill "$id" "$sig"
    assert_success
    wait_status "$id" stopped
    rt delete "$id"
  done
}

@test "kill with a signal the process handles: USR1 reaches the process" {
  set_cmd 'trap "echo got-usr1 > /tmp/sig; exit 0" USR1; while :; do sleep 0.1; done'
  create_container
  rt start "$CID"
  wait_status "$CID" running
  sleep 0.3
  rt kill "$CID" USR1
  wait_status "$CID" stopped
  assert_eq "$(cat "$ROOTFS/tmp/sig")" got-usr1
}

@test "kill --all signals every process of the container" {
  set_args /bin/sh -c 'sleep 1000 & sleep 1001 & wait'
  create_container
  rt start "$CID"
  wait_status "$CID" running
  pid=$(state_pid "$CID")
  for i in $(seq 1 50); do
    [ "$(pgrep -P "$pid" | wc -l)" -ge 2 ] && break
    sleep 0.05
  done
  kids=$(pgrep -P "$pid")
  [ -n "$kids" ]
  rt kill --all "$CID" KILL
  wait_status "$CID" stopped
  for k in $kids; do
    for i in $(seq 1 40); do [ -d "/proc/$k" ] || break; sleep 0.05; done
    [ ! -d "/proc/$k" ]
  done
}

@test "kill with a bad signal fails with status 1 and a clear message" {
  start_sleeper
  run --separate-stderr rt kill "$CID" NOSUCHSIG
  assert_failure 1
  assert_match "$stderr" '[Ss]ignal|NOSUCHSIG' "stderr"
  assert_eq "$(state_status "$CID")" running
  run --separate-stderr rt kill "$CID" 99999
  assert_failure 1
  assert_eq "$(state_status "$CID")" running
}

@test "create --pid-file writes the state's pid" {
  set_args /bin/sleep 1000
  create_container "$CID" --pid-file "$TEST_DIR/pid"
  [ -s "$TEST_DIR/pid" ]
  assert_eq "$(cat "$TEST_DIR/pid")" "$(state_pid "$CID")" "pid file"
  id2=$(new_id)
  run_detached "$id2" --pid-file "$TEST_DIR/pid2"
  assert_eq "$(cat "$TEST_DIR/pid2")" "$(state_pid "$id2")" "run --pid-file"
}

@test "state of an unknown container fails" {
  run rt state nosuchcontainer
  assert_failure
}

@test "--version, spec and features" {
  run "$RUNTIME" --version
  assert_success
  [ -n "$output" ]
  mkdir "$TEST_DIR/spec"
  (cd "$TEST_DIR/spec" && "$RUNTIME" spec)
  jq -e '.ociVersion and .process and .root and .linux' "$TEST_DIR/spec/config.json" >/dev/null
  run "$RUNTIME" features
  assert_success
  jq -e '.ociVersionMin and .ociVersionMax' <<<"$output" >/dev/null
}

@test "--log with --log-format json writes errors as JSON lines; the error is on stderr too" {
  run --separate-stderr "$RUNTIME" --root "$ROOT" --log "$TEST_DIR/log.json" --log-format json \
    kill nosuch-ait-container KILL
  assert_failure 1
  [ -n "$stderr" ]
  [ -s "$TEST_DIR/log.json" ]
  # every line is a JSON object; one of them is the error
  jq -e -s 'all(type == "object")' "$TEST_DIR/log.json" >/dev/null
  jq -e -s 'any(.level == "error" and (.msg | test("nosuch-ait-container|not exist|not found")))' \
    "$TEST_DIR/log.json" >/dev/null || { cat "$TEST_DIR/log.json" >&2; return 1; }
}

@test "--log in text format records the error" {
  run --separate-stderr "$RUNTIME" --root "$ROOT" --log "$TEST_DIR/log.txt" kill nosuch-ait-container KILL
  assert_failure 1
  grep -Eq 'error' "$TEST_DIR/log.txt" || { cat "$TEST_DIR/log.txt" >&2; return 1; }
}

@test "--debug with --log writes debug lines for a successful run, nothing on stdout of its own" {
  set_args /bin/echo payload
  run --separate-stderr "$RUNTIME" --root "$ROOT" --debug --log "$TEST_DIR/debug.json" --log-format json \
    run --bundle "$BUNDLE" "$CID" </dev/null
  assert_success
  assert_eq "$output" payload "stdout"
  jq -e -s 'any(.level == "debug")' "$TEST_DIR/debug.json" >/dev/null || {
    echo "no debug line in: $(head -c 500 "$TEST_DIR/debug.json")" >&2
    return 1
  }
}

@test "start of a running or stopped container fails; kill of a created container stops it" {
  start_sleeper
  run rt start "$CID"
  assert_failure
  assert_eq "$(state_status "$CID")" running
  id2=$(new_id)
  set_args /bin/sleep 1000
  create_container "$id2"
  pid=$(state_pid "$id2")
  rt kill "$id2" KILL
  wait_status "$id2" stopped
  run rt start "$id2"
  assert_failure
  for i in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
  [ ! -d "/proc/$pid" ]
  rt delete "$id2"
}
