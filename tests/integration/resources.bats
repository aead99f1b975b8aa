#!/usr/bin/env bats
# More of linux.resources and the annotations, checked in the host's cgroup files and `state`.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "annotations are kept and shown by state" {
  update_config '.annotations = {"org.example.team": "arca", "org.example/n": "42"}'
  set_args /bin/sleep 1000
  create_container
  run rt state "$CID"
  assert_success
  assert_eq "$(jq -r '.annotations["org.example.team"]' <<<"$output")" arca
  assert_eq "$(jq -r '.annotations["org.example/n"]' <<<"$output")" 42
}

@test "memory reservation, swap, disableOOMKiller, cpuset and shares reach the cgroup files" {
  local path=/ait-res-$CID
  update_config '.linux.cgroupsPath = $p
    | .linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 134217728, "disableOOMKiller": true}
    | .linux.resources.cpu = {"cpus": "0", "mems": "0", "shares": 512}' --arg p "$path"
  set_args /bin/sleep 1000
  create_container
  local m=/sys/fs/cgroup/memory$path c=/sys/fs/cgroup/cpuset$path
  assert_eq "$(cat $m/memory.limit_in_bytes)" 67108864
  assert_eq "$(cat $m/memory.soft_limit_in_bytes)" 33554432
  assert_eq "$(cat $m/memory.memsw.limit_in_bytes)" 134217728
  grep -q '^oom_kill_disable 1' $m/memory.oom_control
  assert_eq "$(cat $c/cpuset.cpus)" 0
  assert_eq "$(cat $c/cpuset.mems)" 0
  assert_eq "$(cat /sys/fs/cgroup/cpu$path/cpu.shares)" 512
  rt delete --force "$CID"
  [ ! -d "$m" ]
}

@test "hugepage limits go to the cgroup2 hugetlb controller on this hybrid host" {
  [ -f /sys/fs/cgroup/unified/cgroup.controllers ] && grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers \
    || skip "no cgroup2 hugetlb controller here"
  is_runc && skip "runc 1.1 looks for hugetlb among the v1 hierarchies only"
  local path=/ait-huge-$CID
  update_config '.linux.cgroupsPath = $p
    | .linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]' --arg p "$path"
  set_args /bin/sleep 1000
  create_container
  assert_eq "$(cat /sys/fs/cgroup/unified$path/hugetlb.2MB.max)" 4194304
  rt delete --force "$CID"
  [ ! -d /sys/fs/cgroup/unified$path ]
}
