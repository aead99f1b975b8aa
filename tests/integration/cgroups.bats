#!/usr/bin/env bats
# cgroup limits from the config and from `update`, read both inside the container and on the
# host; pause/resume through the freezer.

load helpers

# in-container shell function: cg V1_CONTROLLER V1_FILE V2_FILE prints the container's own
# cgroup file as mounted at /sys/fs/cgroup
CG_FN='cg() { if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/$3; else cat /sys/fs/cgroup/$1/$2; fi; }'

# host_cg PID CONTROLLER V1_FILE V2_FILE: the host's view of the same file
host_cg() {
  if is_cgroup_v2; then
    cat "$(cgroup_file "$1" "$2" "$4")"
  else
    cat "$(cgroup_file "$1" "$2" "$3")"
  fi
}

start_limited() {
  update_config '.linux.resources = {
      "memory": {"limit": 67108864},
      "pids": {"limit": 42},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000}}'
  start_sleeper
}

@test "memory, pids and cpu limits are visible in the cgroup files inside and on the host" {
  is_cgroup_v2 && skip "cgroup v1 file names"
  start_limited
  pid=$(state_pid "$CID")
  run rt_exec "$CID" sh -c "$CG_FN"'
    cg memory memory.limit_in_bytes memory.max
    cg pids pids.max pids.max
    cg cpu cpu.shares cpu.weight
    cg cpu cpu.cfs_quota_us cpu.max
    grep -c . /proc/self/cgroup >/dev/null && echo ok'
  assert_success
  assert_eq "${lines[0]}" 67108864 "memory limit inside"
  assert_eq "${lines[1]}" 42 "pids.max inside"
  assert_eq "${lines[2]}" 512 "cpu.shares inside"
  assert_eq "${lines[3]}" 50000 "cfs quota inside"

  assert_eq "$(host_cg "$pid" memory memory.limit_in_bytes memory.max)" 67108864 "memory limit on host"
  assert_eq "$(host_cg "$pid" pids pids.max pids.max)" 42 "pids.max on host"
  assert_eq "$(host_cg "$pid" cpu cpu.shares cpu.weight)" 512 "cpu.shares on host"
  assert_eq "$(host_cg "$pid" cpu cpu.cfs_quota_us cpu.max)" 50000 "cfs quota on host"
  # the container's processes are in that cgroup, not in the runtime's
  [ "$(cgroup_file "$pid" memory x)" != "$(cgroup_file $$ memory x)" ]
}

@test "the pids limit is enforced: forking past pids.max fails" {
  update_config '.linux.resources = {"pids": {"limit": 5}}'
  # the forks happen in a child shell: busybox sh gives up at the first failed fork
  in_container 'sh -c "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done" 2>/dev/null
    set -- /proc/[0-9]*; echo "alive=$#"'
  alive=$(sed -n 's/^alive=//p' <<<"$output")
  [ -n "$alive" ] && [ "$alive" -le 5 ] && [ "$alive" -ge 2 ] || {
    echo "processes alive inside with pids.max=5: $alive ($output)" >&2
    return 1
  }
}

@test "a custom cgroupsPath is used and removed on delete" {
  is_cgroup_v2 && skip "cgroup v1 layout"
  update_config '.linux.cgroupsPath = $p | .linux.resources = {"pids": {"limit": 33}}' \
    --arg p "/arca-it/$CID"
  start_sleeper
  [ -d "/sys/fs/cgroup/pids/arca-it/$CID" ]
  assert_eq "$(cat "/sys/fs/cgroup/pids/arca-it/$CID/pids.max")" 33
  grep -qx "$(state_pid "$CID")" "/sys/fs/cgroup/pids/arca-it/$CID/cgroup.procs"
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  rt delete "$CID"
  [ ! -d "/sys/fs/cgroup/pids/arca-it/$CID" ]
  [ ! -d "/sys/fs/cgroup/memory/arca-it/$CID" ]
  rmdir /sys/fs/cgroup/*/arca-it 2>/dev/null || true
}

@test "update --memory, --pids-limit and --cpu-share change the cgroup files" {
  is_cgroup_v2 && skip "cgroup v1 file names"
  start_limited
  pid=$(state_pid "$CID")
  rt update --memory 128M --pids-limit 77 --cpu-share 256 "$CID"
  assert_eq "$(host_cg "$pid" memory memory.limit_in_bytes memory.max)" 134217728 "memory after update"
  assert_eq "$(host_cg "$pid" pids pids.max pids.max)" 77 "pids after update"
  assert_eq "$(host_cg "$pid" cpu cpu.shares cpu.weight)" 256 "shares after update"
  run rt_exec "$CID" sh -c "$CG_FN"'; cg memory memory.limit_in_bytes memory.max; cg pids pids.max pids.max'
  assert_success
  assert_eq "$output" $'134217728\n77' "inside after update"
  # limits that were not named are left alone
  assert_eq "$(host_cg "$pid" cpu cpu.cfs_quota_us cpu.max)" 50000 "quota untouched"
}

@test "update --resources FILE and --resources - (stdin) apply the JSON" {
  is_cgroup_v2 && skip "cgroup v1 file names"
  start_limited
  pid=$(state_pid "$CID")
  cat >"$TEST_DIR/res.json" <<'EOF'
{"memory": {"limit": 100663296}, "pids": {"limit": 55}, "cpu": {"shares": 300}}
EOF
  rt update --resources "$TEST_DIR/res.json" "$CID"
  assert_eq "$(host_cg "$pid" memory memory.limit_in_bytes memory.max)" 100663296
  assert_eq "$(host_cg "$pid" pids pids.max pids.max)" 55
  assert_eq "$(host_cg "$pid" cpu cpu.shares cpu.weight)" 300
  echo '{"pids": {"limit": 66}}' | rt update --resources - "$CID"
  assert_eq "$(host_cg "$pid" pids pids.max pids.max)" 66
  run rt_exec "$CID" sh -c "$CG_FN"'; cg pids pids.max pids.max'
  assert_eq "$output" 66
}

@test "update with a malformed --resources file fails and changes nothing" {
  is_cgroup_v2 && skip "cgroup v1 file names"
  start_limited
  pid=$(state_pid "$CID")
  echo '{"pids": {"limit": ' >"$TEST_DIR/bad.json"
  run --separate-stderr rt update --resources "$TEST_DIR/bad.json" "$CID"
  assert_failure 1
  assert_eq "$(host_cg "$pid" pids pids.max pids.max)" 42
}

# counter: the container's counter (written with a rename, retried all the same)
counter() {
  local v i
  for i in $(seq 1 50); do
    v=$(cat "$ROOTFS/tmp/counter" 2>/dev/null)
    [ -n "$v" ] && break
    sleep 0.01
  done
  echo "$v"
}

@test "pause freezes the container (state paused, FROZEN, no progress) and resume thaws it" {
  set_cmd 'i=0; while :; do i=$((i+1)); echo $i >/tmp/counter.new; mv -f /tmp/counter.new /tmp/counter; sleep 0.02; done'
  create_container
  rt start "$CID"
  wait_status "$CID" running
  pid=$(state_pid "$CID")
  for i in $(seq 1 100); do [ -s "$ROOTFS/tmp/counter" ] && break; sleep 0.05; done

  rt pause "$CID"
  assert_eq "$(state_status "$CID")" paused "status after pause"
  if ! is_cgroup_v2; then
    assert_eq "$(cat "$(cgroup_file "$pid" freezer freezer.state)")" FROZEN "freezer.state"
  fi
  c1=$(counter)
  sleep 0.5
  c2=$(counter)
  [ -n "$c1" ]
  assert_eq "$c2" "$c1" "counter while paused"
  # exec into a paused container is refused
  run rt_exec "$CID" true
  assert_failure

  rt resume "$CID"
  assert_eq "$(state_status "$CID")" running "status after resume"
  if ! is_cgroup_v2; then
    assert_eq "$(cat "$(cgroup_file "$pid" freezer freezer.state)")" THAWED "freezer.state"
  fi
  sleep 0.3
  c3=$(counter)
  [ "$c3" -gt "$c2" ] || { echo "counter did not advance after resume: $c2 -> $c3" >&2; return 1; }
}

@test "pause and resume of a stopped container fail" {
  set_args /bin/true
  create_container
  rt start "$CID"
  wait_status "$CID" stopped
  run rt pause "$CID"
  assert_failure
  run rt resume "$CID"
  assert_failure
  assert_eq "$(state_status "$CID")" stopped
}
