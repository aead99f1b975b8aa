#!/usr/bin/env bats
# Shared namespaces (issue 4): `--network container:NAME` and pods.  Members of
# a pod see one network (localhost, the pod's published ports), one hostname
# and one SysV IPC namespace, each with its own pid namespace; pod verbs act on
# every container, and removing a pod leaves no container, cgroup, veth, mount
# or row behind.
load helpers

eval "$(declare -f teardown | sed '1s/teardown/helpers_teardown/')"

# A bridge and subnet of this file's own (see network.bats).
export ARCA_BRIDGE_NAME=arcah5 ARCA_BRIDGE_SUBNET=172.30.85.0/24
BR=arcah5
TABLE=arca-arcah5

teardown_file() {
  ip link del $BR 2>/dev/null || true
  nft delete table ip $TABLE 2>/dev/null || true
  if grep -q " $ET_DIR/" /proc/self/mountinfo; then
    echo "leaked mounts" >&2
    return 1
  fi
  rm -rf "$ET_DIR"
}

rows() { # TABLE: its row count in the engine's database (0 when it does not exist)
  python3 - "$ET_ROOT/arca.db" "$1" <<'PY'
import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM %s" % sys.argv[2]).fetchone()[0])
except sqlite3.OperationalError:
    print(0)
PY
}

container_veths() { ip -o link show master $BR 2>/dev/null | grep -c ' veth' || true; }

# Pods first: their infra containers refuse a plain `rm`.
teardown() {
  local p
  for p in $(arca pod ps -q --no-trunc 2>/dev/null); do
    arca pod rm -f "$p" >/dev/null 2>&1 || echo "pod $p could not be removed" >&2
  done
  helpers_teardown
  local leaks=()
  [ "$(container_veths)" = 0 ] || leaks+=("veth: $(ip -o link show master $BR)")
  [ "$(rows pods)" = 0 ] || leaks+=("pod rows")
  [ "$(rows net_ipam)" = 0 ] || leaks+=("ipam rows")
  if [ "${#leaks[@]}" -gt 0 ]; then
    printf 'leak: %s\n' "${leaks[@]}" >&2
    return 1
  fi
}

# Namespace inodes and hostname as the container sees them.
NS_PROBE='for n in net ipc uts pid; do echo $n=$(stat -L -c %i /proc/self/ns/$n); done; echo host=$(cat /proc/sys/kernel/hostname)'

serve_in_pod() { # NAME POD: busybox httpd on 127.0.0.1:8080 only
  arca run -d --name "$1" --pod "$2" busybox sh -c \
    "mkdir -p /www && echo hello from $1 > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"
  wait_status "$1" Up
}

@test "pod members share net, ipc and uts (localhost, hostname), each with its own pid namespace" {
  run arca pod create --name web
  [ "$status" -eq 0 ]
  serve_in_pod srv web
  # The server listens on the pod's loopback only: a member reaches it there.
  run arca run --rm --pod web busybox wget -qO- http://127.0.0.1:8080/index.html
  [ "$status" -eq 0 ]
  [ "$output" = "hello from srv" ]
  a=$(arca exec srv sh -c "$NS_PROBE")
  b=$(arca run --rm --pod web busybox sh -c "$NS_PROBE")
  for n in net ipc uts; do
    [ "$(grep "^$n=" <<<"$a")" = "$(grep "^$n=" <<<"$b")" ]
  done
  [ "$(grep '^pid=' <<<"$a")" != "$(grep '^pid=' <<<"$b")" ]
  [ "$(grep '^host=' <<<"$a")" = "host=web" ]
  [ "$(grep '^host=' <<<"$b")" = "host=web" ]
  # Not the host's namespaces.
  [ "$(grep '^net=' <<<"$a")" != "net=$(stat -L -c %i /proc/self/ns/net)" ]
}

@test "a SysV message queue made in one pod member is listed in another" {
  arca pod create --name ipcpod
  arca run -d --name holder --pod ipcpod busybox sleep 60
  wait_status holder Up
  pid=$(arca inspect holder | jq -r '.[0].State.Pid')
  [ "$pid" -gt 0 ]
  # Make a queue from the host inside the member's IPC namespace; the
  # kernel lists a namespace's queues in /proc/sysvipc/msg to its members.
  command -v ipcmk >/dev/null || skip "ipcmk (util-linux) is needed"
  msqid=$(nsenter -t "$pid" --ipc ipcmk -Q | sed -n 's/^Message queue id: //p')
  [ -n "$msqid" ]
  run arca run --rm --pod ipcpod busybox sh -c 'tail -n +2 /proc/sysvipc/msg | wc -l'
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
  # Outside the pod, no such queue.
  run arca run --rm busybox sh -c 'tail -n +2 /proc/sysvipc/msg | wc -l'
  [ "$output" = 0 ]
}

@test "a port published on the pod reaches a member's server from the host" {
  arca pod create --name pub -p 18585:8080
  arca run -d --name psrv --pod pub busybox sh -c \
    'mkdir -p /www && echo published > /www/index.html && exec httpd -f -p 8080 -h /www'
  wait_status psrv Up
  [ "$(curl -sf -m 5 http://127.0.0.1:18585/index.html)" = published ]
  run arca pod inspect pub
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Options.publish[0]' <<<"$output")" = "18585:8080" ]
  [ "$(jq -r '.[0].NumContainers' <<<"$output")" = 2 ]
}

@test "pod ps, ps --pod, pod stop stops all, pod start starts all" {
  id=$(arca pod create --name life)
  serve_in_pod m1 life
  arca run -d --name m2 --pod life busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
  wait_status m2 Up
  run arca pod ps
  [ "$status" -eq 0 ]
  [[ "${lines[1]}" == "${id:0:12}"*life*Running*3* ]]
  [ "$(arca pod ps --format '{{.ID}} {{.Name}} {{.Status}} {{.NumberOfContainers}}')" = "${id:0:12} life Running 3" ]
  [ "$(arca ps --format '{{.Names}}:{{.PodName}}' | grep '^m[12]:' | sort | tr '\n' ' ')" = "m1:life m2:life " ]
  run arca ps --pod
  [[ "$output" == *m1*life* ]]
  [[ "$output" == *m2*life* ]]
  [ "$(arca ps -a --format json | jq -r '.[] | select(.Names == "m1") | .PodName')" = life ]
  run arca pod stop -t 1 life
  [ "$status" -eq 0 ]
  for c in m1 m2 "${id:0:12}-infra"; do
    [[ "$(arca ps -a --format json | jq -r --arg n "$c" '.[] | select(.Names == $n) | .Status')" == Exited* ]]
  done
  [[ "$(arca pod ps)" == *Exited* ]]
  # Started again, members join the new infra's namespaces.
  run arca pod start life
  [ "$status" -eq 0 ]
  wait_status m1 Up
  run arca run --rm --pod life busybox wget -qO- http://127.0.0.1:8080/index.html
  [ "$output" = "hello from m1" ]
  [[ "$(arca pod ps)" == *Running* ]]
}

@test "pod rm refuses a running pod; rm -f leaves no container, cgroup, veth, mount or row" {
  id=$(arca pod create --name gone -p 18586:80)
  serve_in_pod g1 gone
  ids=$(arca ps -a -q --no-trunc)
  [ "$(wc -w <<<"$ids")" = 2 ]
  [ "$(container_veths)" = 1 ]
  run arca pod rm gone
  [ "$status" -ne 0 ]
  [[ "$output" == *"running containers"* ]]
  # The infra cannot be removed alone, a member can.
  run arca rm -f "${id:0:12}-infra"
  [ "$status" -ne 0 ]
  [[ "$output" == *"infra container of pod gone"* ]]
  run arca pod rm -f gone
  [ "$status" -eq 0 ]
  [ -z "$(arca ps -a -q)" ]
  [ -z "$(arca pod ps -q)" ]
  for id in $ids; do
    for h in /sys/fs/cgroup/*/arca/$id; do [ ! -d "$h" ]; done
    [ ! -d "$ET_ROOT/containers/$id" ]
  done
  [ "$(container_veths)" = 0 ]
  [ "$(rows pods)" = 0 ]
  [ "$(rows containers)" = 0 ]
  [ "$(rows net_ports)" = 0 ]
  ! grep -q " $ET_DIR/" /proc/self/mountinfo
}

@test "arca rm of a pod member; pod kill; pod prune removes pods without running containers" {
  arca pod create --name pk
  arca run -d --name k1 --pod pk busybox sleep 60
  wait_status k1 Up
  arca rm -f k1
  [[ "$(arca pod ps)" == *pk*Running*1* ]]
  arca run -d --name k2 --pod pk busybox sleep 60
  wait_status k2 Up
  run arca pod kill pk
  [ "$status" -eq 0 ]
  wait_status k2 Exited
  arca pod create --name alive
  run arca pod prune
  [ "$status" -eq 0 ]
  run arca pod ps --format json
  [ "$(jq -r '.[].Name' <<<"$output")" = alive ]
  [ -z "$(arca ps -a --format json | jq -r '.[] | select(.Names == "k2") | .Id')" ]
}

@test "--network container:NAME sees NAME's eth0 address and its services on 127.0.0.1" {
  arca run -d --name owner busybox sh -c \
    'mkdir -p /www && echo from-owner > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'
  wait_status owner Up
  want=$(arca exec owner ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\/[0-9]*\).*/\1/p')
  [[ "$want" == 172.30.85.* ]]
  run arca run --rm --network container:owner busybox sh -c \
    'ip -4 addr show eth0; wget -qO- http://127.0.0.1:8080/index.html; cat /proc/sys/kernel/hostname'
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet $want "* ]]
  [[ "$output" == *from-owner* ]]
  # Docker: the hostname of the container whose network it shares.
  [ "${lines[-1]}" = "$(arca exec owner hostname)" ]
  # --ipc/--pid container: share those too, in the foreground (-i: proxied
  # by arca itself) and not (through the monitor).
  a=$(arca exec owner sh -c 'stat -L -c %i /proc/self/ns/ipc /proc/self/ns/pid')
  b=$(echo | arca run -i --rm --ipc container:owner --pid container:owner busybox sh -c \
      'stat -L -c %i /proc/self/ns/ipc /proc/self/ns/pid')
  [ "$a" = "$b" ]
  b=$(arca run --rm --ipc container:owner --pid container:owner busybox sh -c \
      'stat -L -c %i /proc/self/ns/ipc /proc/self/ns/pid')
  [ "$a" = "$b" ]
  # Only its own veth: the joining container has none.
  [ "$(container_veths)" = 1 ]
}

@test "run -d --pid container:NAME: each sees the other's processes; stop and rm of either leave nothing" {
  arca run -d --name powner busybox sleep 7301 >/dev/null
  wait_status powner Up
  arca run -d --name pjoin --pid container:powner busybox sleep 7302 >/dev/null
  wait_status pjoin Up
  owner_id=$(arca inspect powner | jq -r '.[0].Id')
  join_id=$(arca inspect pjoin | jq -r '.[0].Id')
  [ "$(arca exec powner stat -L -c %i /proc/self/ns/pid)" = \
    "$(arca exec pjoin stat -L -c %i /proc/self/ns/pid)" ]
  run arca exec pjoin ps -o pid,args
  [[ "$output" == *"1 sleep 7301"* ]]
  [[ "$output" == *"sleep 7302"* ]]
  run arca exec powner ps -o args
  [[ "$output" == *"sleep 7302"* ]]
  # What the shared namespace can see of arca runs from a sealed copy: the
  # joiner's monitor (the owner's is the installed binary).
  [[ "$(readlink /proc/$(cut -d' ' -f1 "$ET_ROOT/containers/$join_id/monitor.pid")/exe)" == /memfd:* ]]
  [[ "$(readlink /proc/$(cut -d' ' -f1 "$ET_ROOT/containers/$owner_id/monitor.pid")/exe)" != /memfd:* ]]
  # A --rm joiner goes with the namespace's end, below.
  arca run -d --rm --name pgone --pid container:powner busybox sleep 7303 >/dev/null
  wait_status pgone Up
  gone_id=$(arca inspect pgone | jq -r '.[0].Id')
  # The joiner stops alone; started again it joins the owner again.
  arca stop -t 1 pjoin >/dev/null
  wait_status pjoin Exited
  run arca exec powner ps -o args
  [[ "$output" != *"sleep 7302"* ]]
  [[ "$output" == *"sleep 7303"* ]]
  arca start pjoin >/dev/null
  wait_status pjoin Up
  run arca exec powner ps -o args
  [[ "$output" == *"sleep 7302"* ]]
  # The owner's stop ends the namespace: every joiner exits with it.
  arca stop -t 1 powner >/dev/null
  wait_status pjoin Exited
  for i in $(seq 50); do
    [ ! -e "$ET_ROOT/containers/$gone_id" ] && break
    sleep 0.1
  done
  [ -z "$(arca ps -a --format json | jq -r '.[] | select(.Names == "pgone") | .Id')" ]
  [ -z "$(pgrep -f 'sleep 730[123]')" ]
  # Without its owner running the joiner does not start, and leaves nothing.
  run arca start pjoin
  [ "$status" -ne 0 ]
  [[ "$output" == *"not running"* ]]
  arca rm powner pjoin >/dev/null
  for id in "$owner_id" "$join_id" "$gone_id"; do
    [ ! -e "$ET_RUN/runtime/$id" ]
    [ ! -e "$ET_ROOT/containers/$id" ]
    [ -z "$(ls -d /sys/fs/cgroup/*/arca/"$id" 2>/dev/null)" ]
    [ "$(grep -c "$id" /proc/self/mountinfo)" = 0 ]
  done
  # rm -f of a running owner takes its joiner's processes down too.
  arca run -d --name powner busybox sleep 7301 >/dev/null
  wait_status powner Up
  arca run -d --name pjoin --pid container:powner busybox sleep 7302 >/dev/null
  wait_status pjoin Up
  join_id=$(arca inspect pjoin | jq -r '.[0].Id')
  arca rm -f powner >/dev/null
  wait_status pjoin Exited
  [ -z "$(pgrep -f 'sleep 730[12]')" ]
  arca rm pjoin >/dev/null
  [ ! -e "$ET_RUN/runtime/$join_id" ]
  [ -z "$(ls -d /sys/fs/cgroup/*/arca/"$join_id" 2>/dev/null)" ]
}

@test "errors: unknown pod, container:NAME not running or unknown, conflicting flags" {
  run arca run --rm --pod nosuchpod busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"no such pod: nosuchpod"* ]]
  arca create --name idle busybox true
  run arca run --rm --network container:idle busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"container idle is not running"* ]]
  run arca run --rm --network container:nosuch busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"no such container: nosuch"* ]]
  arca run -d --name net-owner busybox sleep 60
  wait_status net-owner Up
  for flags in "-p 18587:80" "--hostname h" "--ip 172.30.85.99" "--dns 192.0.2.1" "--add-host a:10.0.0.1"; do
    run arca run --rm --network container:net-owner $flags busybox true
    [ "$status" -ne 0 ]
    [[ "$output" == *"conflicting options"* ]]
  done
  arca pod create --name ep
  run arca run --rm --pod ep --network bridge busybox true
  [[ "$output" == *"conflicting options"* ]]
  run arca run --rm --pod ep -p 18588:80 busybox true
  [[ "$output" == *"conflicting options"* ]]
  run arca run --rm --pod ep --hostname other busybox true
  [[ "$output" == *"conflicting options"* ]]
  run arca pod create --name ep
  [ "$status" -ne 0 ]
  [[ "$output" == *"already in use"* ]]
  # Nothing was left by the failures: the owner, the idle one and ep's infra.
  [ "$(arca ps -a -q | wc -l)" = 3 ]
  [ "$(rows pods)" = 1 ]
}

@test "a pod whose infra cannot start (its port is taken) is not left behind" {
  arca pod create --name first -p 18589:80
  run arca pod create --name second -p 18589:80
  [ "$status" -ne 0 ]
  [[ "$output" == *18589* ]]
  [ "$(arca pod ps --format json | jq -r '.[].Name')" = first ]
  [ "$(arca ps -a -q | wc -l)" = 1 ]
  [ "$(rows pods)" = 1 ]
  [ "$(rows containers)" = 1 ]
  [ "$(container_veths)" = 1 ]
  # The name is free again.
  arca pod rm -f first
  arca pod create --name second -p 18589:80
}

@test "container prune leaves a stopped pod's infra to its pod and removes the rest" {
  arca pod create --name pp --network none
  arca pod stop pp
  arca run --name lone --network none busybox true
  run arca container prune -f
  [ "$status" -eq 0 ]
  # lone is gone, the pod and its infra are still there
  run arca ps -a --format json
  [ "$(jq -r '.[] | select(.Names == "lone") | .Names' <<<"$output")" = "" ]
  [ "$(jq -r '.[] | .Names' <<<"$output" | wc -l)" = 1 ]
  [ "$(arca pod ps --format json | jq -r '.[].Name')" = pp ]
  arca pod rm pp
  [ -z "$(arca ps -a -q)" ]
}
