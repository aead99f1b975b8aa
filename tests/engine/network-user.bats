#!/usr/bin/env bats
# User networks (issue 4): `arca network create/ls/inspect/rm/prune/connect/
# disconnect`, containers reaching each other by name and alias, isolation
# between networks, --internal, --mac-address, crash reclaim and host-wide
# address allocation shared by two engine roots.  Bridges arcau*, subnets in
# 172.30.90-99.x: nothing here touches other tests' networks.
load helpers

eval "$(declare -f teardown | sed '1s/teardown/helpers_teardown/')"
eval "$(declare -f setup_file | sed '1s/setup_file/helpers_setup_file/')"

export ARCA_BRIDGE_NAME=arcau0 ARCA_BRIDGE_SUBNET=172.30.90.0/24
export ARCA_NETWORK_POOL=172.30.96.0/22
HOSTDB=/run/arca-net/net.db

setup_file() {
  helpers_setup_file
  command -v nft >/dev/null || skip "nft is needed to inspect the rules"
  command -v python3 >/dev/null || skip "python3 is needed to read the databases"
}

teardown_file() {
  local br
  for br in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep '^arcau' || true); do
    ip link del "$br" 2>/dev/null || true
    nft delete table ip "arca-$br" 2>/dev/null || true
  done
  if grep -q " $ET_DIR/" /proc/self/mountinfo; then
    echo "leaked mounts" >&2
    return 1
  fi
  rm -rf "$ET_DIR"
}

sql() { # DB QUERY [ARGS...]: prints the first column of every row
  python3 - "$@" <<'PY'
import sqlite3, sys
try:
    c = sqlite3.connect(sys.argv[1])
    for row in c.execute(sys.argv[2], sys.argv[3:]):
        print(row[0])
except sqlite3.OperationalError:
    pass
PY
}

# What containers of this root hold on the host: endpoint rows, addresses on
# our bridges (gateways aside), veths on our bridges.
endpoint_rows() { sql $HOSTDB "SELECT COUNT(*) FROM net_endpoints WHERE root = ?" "$ET_ROOT"; }
address_rows() {
  sql $HOSTDB "SELECT COUNT(*) FROM net_ipam WHERE network LIKE 'arcau%' AND container != '@gateway'"
}
our_veths() { ip -o link show 2>/dev/null | grep -c 'master arcau' || true; }
member_rows() { sql "$ET_ROOT/arca.db" "SELECT COUNT(*) FROM net_members"; }

teardown() {
  helpers_teardown
  arca network prune -f >/dev/null 2>&1 || true
  local leaks=()
  [ "$(endpoint_rows)" = 0 ] || leaks+=("endpoint rows")
  [ "$(address_rows)" = 0 ] || leaks+=("address rows: $(sql $HOSTDB 'SELECT network || container FROM net_ipam')")
  [ "$(our_veths)" = 0 ] || leaks+=("veth: $(ip -o link show | grep 'master arcau')")
  [ "$(member_rows)" = 0 ] || leaks+=("membership rows")
  if [ "${#leaks[@]}" -gt 0 ]; then
    printf 'leak: %s\n' "${leaks[@]}" >&2
    return 1
  fi
}

net() { # NAME BRIDGE [create options...]
  local name=$1 br=$2
  shift 2
  arca network create -o com.docker.network.bridge.name="$br" "$@" "$name" >/dev/null
}

serve() { # NAME [arca run options...]: busybox httpd serving "hello from NAME"
  local name=$1
  shift
  arca run -d --name "$name" "$@" busybox sh -c \
    "mkdir -p /www && echo hello from $name > /www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
  wait_status "$name" Up
  # "Up" is the container's process running; httpd listens a moment later.
  local i
  for i in $(seq 50); do
    arca exec "$name" wget -q -O /dev/null http://127.0.0.1/ 2>/dev/null && return 0
    sleep 0.1
  done
  echo "httpd in $name never answered" >&2
  return 1
}

ip_on() { arca exec "$1" ip -4 addr show "$2" | sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p'; }
elements() { nft list set ip arca "$1" 2>/dev/null | grep -c "\"$2\"" || true; }

@test "network create, ls, inspect and rm: a bridge, a subnet, nft isolation, a row" {
  net n1 arcau1 --subnet 172.30.91.0/24 --gateway 172.30.91.254
  run arca network inspect n1
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Name' <<<"$output")" = n1 ]
  [ "$(jq -r '.[0].Driver' <<<"$output")" = bridge ]
  [ "$(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$output")" = 172.30.91.0/24 ]
  [ "$(jq -r '.[0].IPAM.Config[0].Gateway' <<<"$output")" = 172.30.91.254 ]
  [ "$(jq -r '.[0].Internal' <<<"$output")" = false ]
  id=$(jq -r '.[0].Id' <<<"$output")
  ip -4 -o addr show arcau1 | grep -q 'inet 172.30.91.254/24'
  [ "$(elements bridges arcau1)" = 1 ]
  # Without --subnet: the first free /24 of the pool.
  net n2 arcau2
  [ "$(arca network inspect n2 | jq -r '.[0].IPAM.Config[0].Subnet')" = 172.30.96.0/24 ]
  net n3 arcau3
  [ "$(arca network inspect n3 | jq -r '.[0].IPAM.Config[0].Subnet')" = 172.30.97.0/24 ]
  run arca network ls -q
  [[ "$output" == *"${id:0:12}"* ]]
  run arca network ls --format '{{.Name}} {{.Subnet}}'
  [[ "$output" == *"n1 172.30.91.0/24"* ]]
  [[ "$output" == *"n3 172.30.97.0/24"* ]]
  # Go templates: a table with its header, inspect -f a line per network.
  run -0 arca network ls --format 'table {{.Name}}\t{{.Gateway}}'
  [[ "${lines[0]}" == "NAME"*"GATEWAY" ]]
  [[ "$output" == *$'\n'"n1"*"172.30.91.254"* ]]
  run -0 arca network inspect -f '{{.Name}}:{{range .IPAM.Config}}{{.Subnet}}{{end}}:{{.Internal}}' n1 n3
  [ "$output" = $'n1:172.30.91.0/24:false\nn3:172.30.97.0/24:false' ]
  # Refused: a taken name, an overlapping subnet, a reserved name.
  run arca network create n1
  [ "$status" -ne 0 ]
  [[ "$output" == *"already exists"* ]]
  run arca network create --subnet 172.30.91.128/25 n4
  [ "$status" -ne 0 ]
  [[ "$output" == *overlaps* ]]
  run arca network create bridge
  [ "$status" -ne 0 ]
  # n1 n2 n3 and the pre-defined bridge, host and none.
  run arca network ls -q
  [ "${#lines[@]}" -eq 6 ]
  run arca network ls --format '{{.Name}}'
  [ "$output" = $'bridge\nhost\nn1\nn2\nn3\nnone' ]
  # The gateway sits on .254, so the first container gets .2 and never it.
  arca run --rm --network n1 busybox ip -4 addr show eth0 | grep -q 'inet 172.30.91.2/24'
  run arca network rm n1 n2
  [ "$status" -eq 0 ]
  ! ip link show arcau1 2>/dev/null
  ! ip link show arcau2 2>/dev/null
  [ "$(elements bridges arcau1)" = 0 ]
  ! nft list table ip arca-arcau1 2>/dev/null
  [ "$(sql $HOSTDB "SELECT COUNT(*) FROM net_ipam WHERE network = 'arcau1'")" = 0 ]
  run arca network inspect n1
  [ "$status" -ne 0 ]
  run arca network prune -f
  [[ "$output" == *n3* ]]
  ! ip link show arcau3 2>/dev/null
}

@test "-o mtu=N: the bridge, both veth ends and eth0 take it; inspect shows it; bad values fail" {
  arca network create -o mtu=9000 jumbo >/dev/null
  [ "$(arca network inspect jumbo | jq -r '.[0].Options["com.docker.network.driver.mtu"]')" = 9000 ]
  br=$(arca network inspect jumbo | jq -r '.[0].Options["com.docker.network.bridge.name"]')
  arca run -d --name j1 --network jumbo busybox sleep 60
  wait_status j1 Up
  run arca exec j1 cat /sys/class/net/eth0/mtu
  [ "$output" = 9000 ]
  ip -o link show "$br" | grep -q ' mtu 9000 '
  [ "$(ip -o link show master "$br" | grep -c ' mtu 9000 ')" = 1 ]
  # A second container reaches the first with 9000-byte frames (a ping of
  # 8972 bytes of data: one frame at this MTU).
  run arca run --rm --network jumbo busybox ping -c 1 -W 2 -s 8972 j1
  echo "$output"
  [ "$status" -eq 0 ]
  # Docker's option name works too; the default stays the kernel's 1500.
  arca network create -o com.docker.network.driver.mtu=1400 small >/dev/null
  [ "$(arca network inspect small | jq -r '.[0].Options["com.docker.network.driver.mtu"]')" = 1400 ]
  run arca run --rm --network small busybox cat /sys/class/net/eth0/mtu
  [ "$output" = 1400 ]
  # Without one: the link at 65520, every route but the host's at 1500.
  arca network create plain >/dev/null
  arca run -d --name p1 --network plain busybox sleep 60
  arca run -d --name s1 --network small busybox sleep 60
  wait_status p1 Up
  wait_status s1 Up
  [ "$(arca exec p1 cat /sys/class/net/eth0/mtu)" = 65520 ]
  run nsenter -t "$(arca inspect p1 | jq -r '.[0].State.Pid')" -n ip route
  echo "$output"
  [[ "$output" == *"default via "*" dev eth0 mtu 1500"* ]]
  [ "$(grep -c 'mtu 1500' <<<"$output")" = 2 ]
  [ "$(arca network inspect plain | jq -r '.[0].Options["com.docker.network.driver.mtu"]')" = 1500 ]
  # An explicit MTU pins no route.
  run nsenter -t "$(arca inspect s1 | jq -r '.[0].State.Pid')" -n ip route
  echo "$output"
  [[ "$output" != *mtu* ]]
  arca rm -f p1 s1 >/dev/null
  for bad in mtu=abc mtu=100 mtu=70000 mtu= com.docker.network.driver.mtu=9k; do
    run --separate-stderr arca network create -o "$bad" badmtu
    echo "$bad: $status $stderr"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"an MTU from 576 to 65535"* ]]
  done
  run arca network ls --format '{{.Name}}'
  [[ "$output" != *badmtu* ]]
  arca rm -f j1 >/dev/null
  arca network rm jumbo small plain >/dev/null
}

@test "the pre-defined networks bridge, host and none are listed, inspected, never removed" {
  arca run -d --name onbridge busybox sleep 1000 >/dev/null
  arca run -d --name onhost --network host busybox sleep 1000 >/dev/null
  arca run -d --name onnone --network none busybox sleep 1000 >/dev/null
  net mine arcau1 --subnet 172.30.91.0/24
  wait_status onbridge Up
  wait_status onhost Up
  wait_status onnone Up
  run arca network ls --format '{{.Name}} {{.Driver}} {{.Scope}}'
  [ "$status" -eq 0 ]
  [ "$output" = $'bridge bridge local\nhost host local\nmine bridge local\nnone null local' ]
  run arca network ls
  [[ "${lines[0]}" == "NETWORK ID"*NAME*DRIVER*SCOPE ]]
  [[ "${lines[4]}" == *" none "*" null "*local ]]
  # bridge: the engine's own subnet and bridge (ARCA_BRIDGE_* of this file),
  # and the container on it with the address it has.
  run arca network inspect bridge
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Name + " " + .[0].Driver' <<<"$output")" = "bridge bridge" ]
  [ "$(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$output")" = 172.30.90.0/24 ]
  [ "$(jq -r '.[0].IPAM.Config[0].Gateway' <<<"$output")" = 172.30.90.1 ]
  [ "$(jq -r '.[0].Options["com.docker.network.bridge.name"]' <<<"$output")" = arcau0 ]
  [ "$(jq -r '[.[0].Containers[].Name] | join(",")' <<<"$output")" = onbridge ]
  [ "$(jq -r '.[0].Containers[].IPv4Address' <<<"$output")" = "$(ip_on onbridge eth0)/24" ]
  [ "$(jq -r '.[0].Containers[].MacAddress' <<<"$output")" = \
    "$(arca exec onbridge cat /sys/class/net/eth0/address)" ]
  # host and none: their running containers, no addresses.
  run arca network inspect host none
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Driver + " " + .[1].Driver' <<<"$output")" = "host null" ]
  [ "$(jq -r '[.[0].Containers[].Name] | join(",")' <<<"$output")" = onhost ]
  [ "$(jq -r '[.[1].Containers[].Name] | join(",")' <<<"$output")" = onnone ]
  [ "$(jq -r '.[0].IPAM.Config | length' <<<"$output")" = 0 ]
  # Ids are stable and name them, as a user network's do.
  id=$(arca network ls -q --no-trunc | head -1)
  [ "$id" = "$(arca network ls -q --no-trunc | head -1)" ]
  [ "$(arca network inspect "${id:0:12}" | jq -r '.[0].Name')" = bridge ]
  # rm refuses them clearly and prune leaves them.
  for n in bridge host none; do
    run arca network rm "$n"
    [ "$status" -ne 0 ]
    [[ "$output" == *"$n is a pre-defined network and cannot be removed"* ]]
  done
  arca rm -f onbridge onhost onnone >/dev/null
  run arca network prune -f
  [ "$status" -eq 0 ]
  [[ "$output" == *mine* ]]
  [[ "$output" != *bridge* ]]
  run arca network ls --format '{{.Name}}'
  [ "$output" = $'bridge\nhost\nnone' ]
  # Stopped, a container is in none of them.
  [ "$(arca network inspect bridge | jq '.[0].Containers | length')" = 0 ]
  [ "$(arca network inspect host | jq '.[0].Containers | length')" = 0 ]
}

@test "rename of a container on a user network renames it in its peers' /etc/hosts" {
  net ren arcau1 --subnet 172.30.91.0/24
  arca run -d --name before --network ren --network-alias keep busybox sleep 1000 >/dev/null
  arca run -d --name peer --network ren busybox sleep 1000 >/dev/null
  wait_status before Up
  wait_status peer Up
  ip=$(ip_on before eth0)
  run arca exec peer cat /etc/hosts
  [[ "$output" == *"$ip"$'\t'"before keep"* ]]
  arca rename before after
  run arca exec peer cat /etc/hosts
  [[ "$output" == *"$ip"$'\t'"after keep"* ]]
  [[ "$output" != *before* ]]
  run arca exec peer ping -c3 -W3 after
  [ "$status" -eq 0 ]
  [[ "$output" == *"from $ip"* ]]
  run arca exec peer ping -c1 -W1 before
  [ "$status" -ne 0 ]
  # Its own file names the peer as before; a later member sees the new name.
  run arca exec after cat /etc/hosts
  [[ "$output" == *$'\tpeer\t'* ]]
  run arca run --rm --network ren busybox ping -c1 -W3 after
  [ "$status" -eq 0 ]
  # Renamed while stopped, it comes back under the new name.
  arca stop -t 0 after >/dev/null
  arca rename after again
  arca start again >/dev/null
  wait_status again Up
  run arca exec peer cat /etc/hosts
  [[ "$output" == *$'\tagain keep'* ]]
  [[ "$output" != *after* ]]
}

@test "containers on one network reach each other by name and alias; /etc/hosts follows" {
  net front arcau1 --subnet 172.30.91.0/24
  serve web --network front --network-alias www --network-alias site
  run arca run --rm --network front busybox sh -c \
    'wget -qO- http://web/; wget -qO- http://www/; wget -qO- http://site/; ip route'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from web" ]
  [ "${lines[1]}" = "hello from web" ]
  [ "${lines[2]}" = "hello from web" ]
  [[ "$output" == *"default via 172.30.91.1 dev eth0"* ]]
  # A later member appears in the earlier one's /etc/hosts, and goes with rm.
  arca run -d --name later --network front busybox sleep 1000 >/dev/null
  wait_status later Up
  later_ip=$(ip_on later eth0)
  run arca exec web cat /etc/hosts
  [[ "$output" == *"$later_ip"$'\t'"later"* ]]
  run arca exec web ping -c3 -W3 later
  [ "$status" -eq 0 ]
  arca rm -f later >/dev/null
  run arca exec web cat /etc/hosts
  [[ "$output" != *later* ]]
  # The default bridge resolves no names (as Docker's).
  run arca run --rm busybox sh -c 'grep -c web /etc/hosts'
  [ "$output" = 0 ]
}

@test "containers on different networks cannot reach each other; each reaches its own" {
  net red arcau1 --subnet 172.30.91.0/24
  net blue arcau2 --subnet 172.30.92.0/24
  serve r1 --network red
  serve b1 --network blue
  r1_ip=$(ip_on r1 eth0)
  b1_ip=$(ip_on b1 eth0)
  run arca run --rm --network red busybox ping -c1 -W2 "$r1_ip"
  [ "$status" -eq 0 ]
  run arca run --rm --network red busybox ping -c1 -W2 "$b1_ip"
  [ "$status" -ne 0 ]
  run arca exec b1 ping -c1 -W2 "$r1_ip"
  [ "$status" -ne 0 ]
  run arca exec b1 nc -w 2 "$r1_ip" 80 </dev/null
  [ "$status" -ne 0 ]
  # Names do not cross networks either.
  run arca exec b1 grep -c r1 /etc/hosts
  [ "$output" = 0 ]
  # Nor does the default bridge reach a user network.
  run arca run --rm busybox ping -c1 -W2 "$r1_ip"
  [ "$status" -ne 0 ]
}

@test "connect and disconnect a running container: eth1, its address and names come and go" {
  net back arcau1 --subnet 172.30.91.0/24
  net side arcau2 --subnet 172.30.92.0/24
  serve db --network back
  arca run -d --name app --network side busybox sleep 1000 >/dev/null
  wait_status app Up
  run arca exec app ping -c1 -W2 db
  [ "$status" -ne 0 ]
  arca network connect --alias appalias back app
  [[ "$(ip_on app eth1)" == 172.30.91.* ]]
  run arca exec app wget -qO- http://db/
  [ "$output" = "hello from db" ]
  run arca exec db cat /etc/hosts
  [[ "$output" == *$'\tapp appalias\t'* ]]
  [ "$(arca network inspect back | jq '.[0].Containers | length')" = 2 ]
  # Connected twice: refused, nothing changes.
  run arca network connect back app
  [ "$status" -ne 0 ]
  arca network disconnect back app
  run arca exec app ip addr show eth1
  [ "$status" -ne 0 ]
  run arca exec app cat /etc/hosts
  [[ "$output" != *db* ]]
  run arca exec db cat /etc/hosts
  [[ "$output" != *app* ]]
  [ "$(arca network inspect back | jq '.[0].Containers | length')" = 1 ]
  # A container on the default bridge joins too (eth1), and keeps its eth0.
  arca run -d --name plain busybox sleep 1000 >/dev/null
  wait_status plain Up
  arca network connect back plain
  [[ "$(ip_on plain eth0)" == 172.30.90.* ]]
  [[ "$(ip_on plain eth1)" == 172.30.91.* ]]
  run arca exec plain wget -qO- http://db/
  [ "$output" = "hello from db" ]
  # Connected while stopped: attached at the next start.
  arca stop -t 0 plain >/dev/null
  arca start plain >/dev/null
  wait_status plain Up
  [[ "$(ip_on plain eth1)" == 172.30.91.* ]]
}

@test "an internal network has no route out and publishes no ports" {
  net vault arcau1 --subnet 172.30.91.0/24 --internal
  [ "$(arca network inspect vault | jq -r '.[0].Internal')" = true ]
  [ "$(elements internal arcau1)" = 1 ]
  ! nft list table ip arca-arcau1 2>/dev/null
  serve safe --network vault
  run arca run --rm --network vault busybox sh -c 'ip route; wget -qO- http://safe/; ping -c1 -W2 192.0.2.1 2>&1'
  [[ "$output" != *default* ]]
  [[ "$output" == *"hello from safe"* ]]
  [[ "$output" == *"Network is unreachable"* ]]
  run arca run -d --name pub --network vault -p 18711:80 busybox sleep 100
  [ "$status" -ne 0 ]
  [[ "$output" == *internal* ]]
  arca rm -f pub >/dev/null 2>&1 || true
}

@test "network rm of a network in use fails with a clear error and leaves it whole" {
  net busy arcau1 --subnet 172.30.91.0/24
  serve user1 --network busy
  run arca network rm busy
  [ "$status" -ne 0 ]
  [[ "$output" == *"in use"*user1* ]]
  ip link show arcau1 >/dev/null
  [ "$(elements bridges arcau1)" = 1 ]
  run arca exec user1 ip addr show eth0
  [ "$status" -eq 0 ]
  # A stopped member still holds it.
  arca stop -t 0 user1 >/dev/null
  run arca network rm busy
  [ "$status" -ne 0 ]
  arca rm user1 >/dev/null
  arca network rm busy
  ! ip link show arcau1 2>/dev/null
  [ "$(elements bridges arcau1)" = 0 ]
  [ "$(sql "$ET_ROOT/arca.db" "SELECT COUNT(*) FROM net_networks WHERE name = 'busy'")" = 0 ]
  # Unknown networks are refused at create, leaving no container.
  run arca run --rm --network nosuch busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"nosuch not found"* ]]
  [ -z "$(arca ps -aq)" ]
}

@test "--mac-address sets eth0's MAC on the default bridge and on a user network" {
  net m arcau1 --subnet 172.30.91.0/24
  run arca run --rm --mac-address 02:12:34:56:78:9a busybox cat /sys/class/net/eth0/address
  [ "$output" = 02:12:34:56:78:9a ]
  run arca run --rm --network m --mac-address 02:ab:cd:ef:01:23 busybox cat /sys/class/net/eth0/address
  [ "$output" = 02:ab:cd:ef:01:23 ]
  run arca run --rm --mac-address 01:00:00:00:00:01 busybox true
  [ "$status" -ne 0 ]
  run arca run --rm --mac-address nonsense busybox true
  [ "$status" -ne 0 ]
}

@test "crash reclaim finds and removes endpoints, addresses and veths of dead containers" {
  net crash arcau1 --subnet 172.30.91.0/24
  serve victim --network crash -p 127.0.0.1:18712:80
  id=$(arca ps -q --no-trunc | head -1)
  [ "$(arca network reclaim)" = "0 found" ]
  kill -9 "$(cut -d' ' -f1 "$ET_ROOT/containers/$id/monitor.pid")"
  for p in $(cat /sys/fs/cgroup/pids/arca/$id/cgroup.procs); do kill -9 "$p"; done
  sleep 0.5
  # Nothing detached: the endpoint and address rows stay behind.
  [ "$(endpoint_rows)" = 1 ]
  [ "$(address_rows)" = 1 ]
  # A veth on our bridge that no endpoint accounts for.
  ip link add vuorphan0 type veth peer name vuorphan1
  ip link set vuorphan0 master arcau1
  run arca network reclaim
  [ "$status" -eq 0 ]
  [[ "$output" == *"endpoint: container ${id:0:12}"* ]]
  [[ "$output" == *"veth: vuorphan0 on bridge arcau1"* ]]
  [ "$(endpoint_rows)" = 1 ]   # without --fix nothing changes
  # arca system check reports the same as garbage, and --repair removes it.
  run arca system check
  [[ "$output" == *"network endpoint"*"${id:0:12}"* ]]
  [[ "$output" == *"network veth"*"vuorphan0"* ]]
  [ "$(endpoint_rows)" = 1 ]
  arca system check --repair
  [ "$(endpoint_rows)" = 0 ]
  [ "$(address_rows)" = 0 ]
  ! ip link show vuorphan0 2>/dev/null
  [ "$(nft list map ip arca-arcau1 ports_ip | grep -c 18712 || true)" = 0 ]
  # A container row removed behind the engine's back leaves its membership.
  arca rm -f victim >/dev/null
  arca run -d --name ghost --network crash busybox sleep 1000 >/dev/null
  wait_status ghost Up
  gid=$(arca ps -q --no-trunc | head -1)
  kill -9 "$(cut -d' ' -f1 "$ET_ROOT/containers/$gid/monitor.pid")"
  for p in $(cat /sys/fs/cgroup/pids/arca/$gid/cgroup.procs); do kill -9 "$p"; done
  python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM containers WHERE id=?", (sys.argv[2],)); c.commit()' "$ET_ROOT/arca.db" "$gid"
  run arca network reclaim --fix
  [[ "$output" == *"rows of removed container ${gid:0:12}"* ]]
  [[ "$output" == *"(removed) on network crash"* ]]
  [ "$(member_rows)" = 0 ]
  [ "$(endpoint_rows)" = 0 ]
  # What the dead container left on disk is the rest of the system check's.
  umount "$ET_ROOT/containers/$gid/merged" 2>/dev/null || true
  rmdir /sys/fs/cgroup/*/arca/$gid 2>/dev/null || true
  rm -rf "$ET_RUN/runtime/$gid"
}

@test "two engine roots on one bridge never hand out the same address" {
  other=$ET_DIR/other
  arca2() { timeout -k 5 60 "$ARCA" --root "$other/root" --run-root "$other/run" "$@"; }
  arca run -d --name a1 busybox sleep 1000 >/dev/null
  arca2 run -d --name b1 busybox sleep 1000 >/dev/null
  arca run -d --name a2 busybox sleep 1000 >/dev/null
  arca2 run -d --name b2 busybox sleep 1000 >/dev/null
  addrs=$(for c in a1 a2; do ip_on $c eth0; done; for c in b1 b2; do arca2 exec $c ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p'; done)
  [ "$(wc -l <<<"$addrs")" = 4 ]
  [ "$(sort -u <<<"$addrs" | wc -l)" = 4 ]
  # Each reaches the other root's container over the shared bridge.
  b1_ip=$(arca2 exec b1 ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p')
  arca exec a1 ping -c1 -W2 "$b1_ip"
  # One root's crash check leaves the other's endpoints alone.
  [ "$(arca network reclaim --fix)" = "0 found" ]
  arca2 exec b1 ping -c1 -W2 "$(ip_on a1 eth0)"
  arca2 rm -f b1 b2 >/dev/null
  [ "$(sql $HOSTDB "SELECT COUNT(*) FROM net_endpoints WHERE root = ?" "$other/root")" = 0 ]
}
