#!/usr/bin/env bats
# Smaller parts of the command line and of config.json, each checked from inside.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "every command has --help (exit 0, a usage line)" {
  local cmd
  for cmd in create start run state kill delete exec list ps pause resume update spec features; do
    run "$RUNTIME" "$cmd" --help
    [ "$status" -eq 0 ] || { echo "$cmd --help: status $status" >&2; return 1; }
    [[ "$output" == *[Uu][Ss][Aa][Gg][Ee]* ]] || { echo "$cmd --help: no usage: $output" >&2; return 1; }
  done
  run "$RUNTIME" --help
  [ "$status" -eq 0 ]
}

@test "--no-pivot: the container runs chrooted on a moved root (for ramfs roots)" {
  set_cmd 'cat /proc/1/comm >/dev/null; ls /bin/busybox; head -1 /proc/self/mountinfo | cut -d" " -f5'
  run --separate-stderr rt run --no-pivot --bundle "$BUNDLE" "$CID" </dev/null
  assert_success
  assert_eq "${lines[0]}" /bin/busybox
  assert_eq "${lines[1]}" /
}

@test "a new session keyring per container, none with --no-new-keyring" {
  update_config '.linux.maskedPaths -= ["/proc/keys"]'
  set_cmd 'grep -c "_ses" /proc/keys || true'
  run_container
  assert_success
  [ "$output" -ge 1 ]
  set_cmd 'grep "_ses.'"$CID"'" /proc/keys | wc -l'
  local id
  id=$(new_id)
  run --separate-stderr rt run --no-new-keyring --bundle "$BUNDLE" "$id" </dev/null
  assert_success
  assert_eq "$output" 0
}

@test "a time namespace with offsets: boot time moves, the host's does not" {
  runc_gap 'runc 1.1 has no time namespace support (added in 1.2)'
  update_config '.linux.namespaces += [{"type": "time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}}'
  in_container 'cut -d. -f1 /proc/uptime'
  local host
  host=$(cut -d. -f1 /proc/uptime)
  [ "$output" -ge $((host + 864000 - 5)) ]
  [ "$(cut -d. -f1 /proc/uptime)" -lt 864000 ] || [ "$host" -ge 864000 ]
}

@test "namespaced sysctls apply inside only" {
  update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678"}'
  local before
  before=$(cat /proc/sys/kernel/shmmax)
  in_container 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
  assert_eq "${lines[0]}" 1
  assert_eq "${lines[1]}" 12345678
  assert_eq "$(cat /proc/sys/kernel/shmmax)" "$before"
}

@test "personality LINUX32: uname -m says i686" {
  runc_gap 'runc 1.1 ignores linux.personality (added in 1.2)'
  update_config '.linux.personality = {"domain": "LINUX32"}'
  in_container 'uname -m'
  assert_eq "$output" i686
}

@test "joining another container's network namespace by path" {
  local first pid
  first=$CID
  set_args /bin/sleep 1000
  create_container "$first"
  rt start "$first"
  wait_status "$first" running
  pid=$(state_pid "$first")
  local second
  second=$(new_id)
  update_config '(.linux.namespaces[] | select(.type == "network")) |= {"type": "network", "path": $p}
    | .process.args = ["/bin/sh", "-c", "readlink /proc/self/ns/net"]' --arg p "/proc/$pid/ns/net"
  run --separate-stderr rt run --bundle "$BUNDLE" "$second" </dev/null
  assert_success
  assert_eq "$output" "$(readlink /proc/$pid/ns/net)"
  rt delete --force "$first"
}
