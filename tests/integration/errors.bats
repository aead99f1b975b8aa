#!/usr/bin/env bats
# Bad input: each case must fail with exit status 1 and a one-line error that names the field
# or path at fault, and leave no state dir, cgroup, host mount or process behind.

load helpers

# fail_create REGEX: `create` must fail with status 1, a one-line error matching REGEX and no
# leftovers; then the same for `run`
fail_create() {
  local re=$1 id
  rt_capture create --bundle "$BUNDLE" "$CID"
  assert_failure 1
  assert_one_line_error "$re"
  assert_no_leftovers "$CID"
  id=$(new_id)
  rt_capture run --bundle "$BUNDLE" "$id"
  assert_failure 1
  assert_one_line_error "$re"
  assert_no_leftovers "$id"
}

@test "malformed config.json" {
  runc_gap 'its error for a truncated config is "unexpected EOF", naming neither the file nor the field'
  printf '{"ociVersion": "1.0.2", "process": {"args": ["/bin/true"' >"$BUNDLE/config.json"
  fail_create 'config\.json|JSON|json|unexpected end|parse'
}

@test "config.json that is not an object" {
  echo '[1, 2, 3]' >"$BUNDLE/config.json"
  fail_create 'config\.json|JSON|json|object|unmarshal'
}

@test "missing config.json" {
  rm "$BUNDLE/config.json"
  fail_create 'config\.json'
}

@test "unknown namespace type" {
  update_config '.linux.namespaces += [{"type": "bogusns"}]'
  fail_create 'bogusns'
}

@test "unknown capability name" {
  runc_gap 'it ignores unknown capabilities with a warning and starts the container'
  update_config '.process.capabilities.bounding += ["CAP_BOGUS"]'
  fail_create 'CAP_BOGUS'
}

@test "a mount with an unknown filesystem type" {
  update_config '.mounts += [{"destination": "/mnt/bad", "type": "nosuchfs", "source": "none"}]'
  fail_create 'nosuchfs|/mnt/bad'
}

@test "a bind mount of a missing source" {
  update_config '.mounts += [{"destination": "/mnt/bad", "type": "bind", "source": $s, "options": ["rbind"]}]' \
    --arg s "$TEST_DIR/no-such-source"
  fail_create 'no-such-source|/mnt/bad'
}

@test "missing rootfs" {
  update_config '.root.path = "no-such-rootfs"'
  fail_create 'no-such-rootfs|rootfs'
}

@test "process.args missing or naming a binary that does not exist" {
  set_args /bin/no-such-binary
  fail_create 'no-such-binary'
}

@test "rlimit NOFILE above the host's hard limit" {
  hard=$(ulimit -Hn)
  update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": ($h + 10000), "soft": ($h + 10000)}]' \
    --argjson h "$hard"
  fail_create 'RLIMIT_NOFILE|rlimit|NOFILE|nofile'
}

@test "unknown rlimit type" {
  update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]'
  fail_create 'RLIMIT_BOGUS'
}

@test "duplicate container id" {
  start_sleeper
  pid=$(state_pid "$CID")
  rt_capture create --bundle "$BUNDLE" "$CID"
  assert_failure 1
  assert_one_line_error "$CID|exist"
  # the first container is intact
  assert_eq "$(state_status "$CID")" running
  assert_eq "$(state_pid "$CID")" "$pid"
}

@test "bad signal names and numbers" {
  start_sleeper
  for sig in NOSUCHSIG SIGNOSUCH 99999 -3; do
    run --separate-stderr rt kill "$CID" "$sig"
    assert_failure 1
    assert_one_line_error "[Ss]ignal|$sig"
  done
  assert_eq "$(state_status "$CID")" running
}

@test "an invalid container id" {
  for bad in "../escape" "a/b" ""; do
    rt_capture create --bundle "$BUNDLE" "$bad"
    assert_failure 1
    [ -n "$stderr" ]
  done
  [ -z "$(ls -A "$ROOT")" ]
  [ ! -e "$TEST_DIR/escape" ]
}

@test "commands on an unknown container fail with status 1 and name it" {
  for cmd in state start kill delete pause resume ps; do
    run --separate-stderr rt $cmd nosuch-ait-container
    assert_failure 1
    assert_one_line_error 'nosuch-ait-container|not exist|does not exist|not found'
  done
}

@test "--systemd-cgroup on a host without systemd fails clearly and leaves nothing" {
  [ -d /run/systemd/system ] && skip "systemd runs here: the flag is then a different case"
  is_runc && skip "runc tries to reach systemd over D-Bus; its message is about the bus"
  status=0
  timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$CID" \
    </dev/null >"$TEST_DIR/capture.out" 2>"$TEST_DIR/capture.err" || status=$?
  stderr=$(cat "$TEST_DIR/capture.err")
  assert_failure 1
  assert_one_line_error 'systemd'
  assert_no_leftovers "$CID"
}
