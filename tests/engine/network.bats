#!/usr/bin/env bats
# Bridge networking (issue 4): containers on arca0 reach each other by IP, the
# outside through masquerade, and are reached through published ports from
# 127.0.0.1, the host's addresses and a second "client host" netns; nothing
# (veth, nft map entry, IPAM or port row) outlives a container.
load helpers

eval "$(declare -f teardown | sed '1s/teardown/helpers_teardown/')"

# A bridge and subnet of this file's own, so containers of other engine roots
# on the host (arca0) cannot disturb the counts below.
export ARCA_BRIDGE_NAME=arcat0 ARCA_BRIDGE_SUBNET=172.30.77.0/24
BR=arcat0
TABLE=arca-arcat0
FAR_NS=arcat-far
FAR_HOST_IP=192.168.251.1
FAR_NS_IP=192.168.251.2

setup_file() {
  export ET_DIR=$(mktemp -d "$ARCA_ET_WORK/f.XXXXXX")
  export ET_ROOT=$ET_DIR/root ET_RUN=$ET_DIR/run
  command -v nft >/dev/null || skip "nft is needed to inspect the rules"
  # A second "host" beyond the bridge: a namespace on a /30 with no route to
  # the container subnet, so only masquerade lets containers talk to it.
  ip netns del $FAR_NS 2>/dev/null || true
  ip link del arcat-h 2>/dev/null || true
  ip netns add $FAR_NS
  ip link add arcat-h type veth peer name arcat-n
  ip link set arcat-n netns $FAR_NS
  ip addr add $FAR_HOST_IP/30 dev arcat-h
  ip link set arcat-h up
  ip -n $FAR_NS addr add $FAR_NS_IP/30 dev arcat-n
  ip -n $FAR_NS link set arcat-n up
  ip -n $FAR_NS link set lo up
  mkdir -p "$ET_DIR/far-www"
  echo far-side > "$ET_DIR/far-www/index.html"
  ip netns exec $FAR_NS busybox httpd -f -p 80 -h "$ET_DIR/far-www" &
  echo $! > "$ET_DIR/far-httpd.pid"
}

teardown_file() {
  kill "$(cat "$ET_DIR/far-httpd.pid" 2>/dev/null)" 2>/dev/null || true
  ip netns del $FAR_NS 2>/dev/null || true
  ip link del arcat-h 2>/dev/null || true
  ip link del $BR 2>/dev/null || true
  nft delete table ip $TABLE 2>/dev/null || true
  if grep -q " $ET_DIR/" /proc/self/mountinfo; then
    echo "leaked mounts" >&2
    return 1
  fi
  rm -rf "$ET_DIR"
}

# Port rows in the engine's database, addresses on our bridge in the
# host-wide one (addresses are allocated per bridge across engine roots).
db_rows() {
  python3 - "$ET_ROOT/arca.db" /run/arca-net/net.db $BR <<'PY'
import sqlite3, sys
n = 0
for db, query in ((sys.argv[1], "SELECT COUNT(*) FROM net_ports"),
                  (sys.argv[1], "SELECT COUNT(*) FROM net_ipam"),
                  (sys.argv[2], "SELECT COUNT(*) FROM net_ipam WHERE network = '%s'" % sys.argv[3])):
    try:
        n += sqlite3.connect(db).execute(query).fetchone()[0]
    except sqlite3.OperationalError:
        pass
print(n)
PY
}

container_veths() { ip -o link show master $BR 2>/dev/null | grep -c ' veth' || true; }
map_elements() { # 0 also when the table is not there (yet)
  { nft -j list table ip $TABLE 2>/dev/null || echo '{"nftables": []}'; } |
    jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add // 0'
}

teardown() {
  helpers_teardown
  local leaks=()
  [ "$(container_veths)" = 0 ] || leaks+=("veth: $(ip -o link show master $BR)")
  [ "$(map_elements)" = 0 ] || leaks+=("nft: $(nft list table ip $TABLE)")
  [ "$(db_rows)" = 0 ] || leaks+=("database rows")
  if [ "${#leaks[@]}" -gt 0 ]; then
    printf 'leak: %s\n' "${leaks[@]}" >&2
    return 1
  fi
}

ip_of() { arca exec "$1" ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p'; }

# A host IPv4 address other than loopback and our own bridge (eth0 on CI).
host_addr() {
  ip -4 -o addr show scope global | awk '$2 != "'$BR'" && $2 != "arcat-h" {sub("/.*", "", $4); print $4; exit}'
}

serve() { # NAME [arca run options...]: busybox httpd serving "hello from NAME"
  local name=$1
  shift
  arca run -d --name "$name" "$@" busybox sh -c \
    "mkdir -p /www && echo hello from $name > /www/index.html && exec httpd -f -p 80 -h /www"
  wait_status "$name" Up
}

@test "bridge is the default: eth0 with an address on arca0, lo up, default route, /etc files" {
  run arca run --rm --add-host db.example:10.1.2.3 --dns 192.0.2.53 busybox sh -c \
    'ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf; ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-up; echo mac=$(cat /sys/class/net/eth0/address)'
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 172.30.77."* ]]
  [[ "$output" == *"default via 172.30.77.1 dev eth0"* ]]
  ip=$(sed -n 's/.*inet \([0-9.]*\)\/24.*/\1/p' <<<"$output")
  [[ "$output" == *"$ip"$'\t'* ]]                  # the container's own line in /etc/hosts
  [[ "$output" == *$'10.1.2.3\tdb.example'* ]]
  [[ "$output" == *"nameserver 192.0.2.53"* ]]
  [[ "$output" == *lo-up* ]]
  # The MAC follows from the address, so a reused address keeps its MAC.
  [[ "$output" == *"mac=$(printf '02:42:%02x:%02x:%02x:%02x' ${ip//./ })"* ]]
  ip -o link show $BR | grep -q ',UP'
}

@test "both veth ends receive with GRO on (NAPI), as ethtool shows from each side" {
  command -v ethtool >/dev/null || skip "ethtool is not installed"
  serve gro1
  pid=$(arca inspect gro1 | jq -r '.[0].State.Pid')
  [ "$pid" -gt 0 ]
  inside=$(nsenter -t "$pid" -n ethtool -k eth0)
  echo "container end: $inside"
  grep -q '^generic-receive-offload: on' <<<"$inside"
  host_end=$(ip -o link show master $BR | awk -F': ' '{ sub("@.*", "", $2); print $2; exit }')
  [ -n "$host_end" ]
  outside=$(ethtool -k "$host_end")
  echo "host end $host_end: $outside"
  grep -q '^generic-receive-offload: on' <<<"$outside"
  # ... and traffic still flows through them.
  run arca run --rm busybox wget -qO- "http://$(ip_of gro1)/index.html"
  [ "$output" = "hello from gro1" ]
}

@test "the host reaches a container at the link's MTU 65520; every other route in it keeps 1500" {
  serve mtu1 -p 127.0.0.1::80
  ip1=$(ip_of mtu1)
  [ "$(arca exec mtu1 cat /sys/class/net/eth0/mtu)" = 65520 ]
  # The host's iproute2 in its namespace (busybox's ip shows no route metrics).
  pid=$(arca inspect mtu1 | jq -r '.[0].State.Pid')
  run nsenter -t "$pid" -n ip route
  echo "$output"
  [[ "$output" == *"default via 172.30.77.1 dev eth0 mtu 1500"* ]]
  [[ "$output" == *"172.30.77.0/24 dev eth0 scope link src $ip1 mtu 1500"* ]]
  grep -qx "172.30.77.1 dev eth0 scope link src $ip1 *" <<<"$output"
  ip -o link show $BR | grep -q ' mtu 65520 '
  # The segment size TCP settles on: host -> container IP, and through the published
  # port on 127.0.0.1 (the container's side advertises it too) ...
  port=$(arca port mtu1 80 | sed 's/.*://')
  mss() { python3 -c 'import socket,sys; s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5); print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))' "$@"; }
  direct=$(mss "$ip1" 80)
  published=$(mss 127.0.0.1 "$port")
  echo "mss direct $direct published $published"
  [ "$direct" -gt 16000 ] # 1448 at MTU 1500
  [ "$published" -gt 16000 ]
  # ... while it reaches other containers (and VMs) at 1500, and the world too.
  run nsenter -t "$pid" -n sh -c 'ip route get 172.30.77.250; ip route get 192.0.2.1; ip route get 172.30.77.1'
  echo "$output"
  [ "$(grep -c 'mtu 1500' <<<"$output")" = 2 ]
  run arca run --rm busybox wget -qO- "http://$ip1/index.html"
  echo "wget from another container: $status $output"
  [ "$output" = "hello from mtu1" ]
}

@test "ARCA_BRIDGE_MTU sets the default bridge's MTU for a new engine root; a bad value fails" {
  local root=$ET_DIR/mtu-root run=$ET_DIR/mtu-run
  run env ARCA_BRIDGE_NAME=arcat9 ARCA_BRIDGE_SUBNET=172.30.79.0/24 ARCA_BRIDGE_MTU=9000 \
    timeout 60 "$ARCA" --root "$root" --run-root "$run" run --rm busybox cat /sys/class/net/eth0/mtu
  echo "$output"
  [ "$output" = 9000 ]
  run env ARCA_BRIDGE_NAME=arcat8 ARCA_BRIDGE_SUBNET=172.30.78.0/24 ARCA_BRIDGE_MTU=huge \
    timeout 60 "$ARCA" --root "$ET_DIR/mtu-bad" --run-root "$ET_DIR/mtu-bad-run" run --rm busybox true
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"ARCA_BRIDGE_MTU"*"an MTU from 576 to 65535"* ]]
  ! ip link show arcat8 2>/dev/null
  [ -z "$(timeout 60 "$ARCA" --root "$ET_DIR/mtu-bad" --run-root "$ET_DIR/mtu-bad-run" ps -aq)" ]
  ip link del arcat9 2>/dev/null || true
  nft delete table ip arca-arcat9 2>/dev/null || true
}

@test "two containers reach each other by IP on the bridge; --ip picks the address" {
  serve srv1 --ip 172.30.77.200
  [ "$(ip_of srv1)" = 172.30.77.200 ]
  run arca run --rm busybox wget -qO- http://172.30.77.200/index.html
  [ "$status" -eq 0 ]
  [ "$output" = "hello from srv1" ]
  # The address is taken: a second --ip of it fails and leaves nothing.
  run arca run --rm --ip 172.30.77.200 busybox true
  [ "$status" -ne 0 ]
}

@test "outbound traffic is masqueraded to a host beyond the bridge" {
  run arca run --rm busybox wget -qO- http://$FAR_NS_IP/index.html
  [ "$status" -eq 0 ]
  [ "$output" = far-side ]
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
}

@test "a published TCP port serves from 127.0.0.1, the host's address and a client host" {
  serve web -p 18080:80 -p 127.0.0.1:18081:80
  run arca port web
  [ "$status" -eq 0 ]
  [[ "$output" == *"80/tcp -> 0.0.0.0:18080"* ]]
  [[ "$output" == *"80/tcp -> 127.0.0.1:18081"* ]]
  [ "$(curl -sf -m 5 http://127.0.0.1:18080/index.html)" = "hello from web" ]
  [ "$(curl -sf -m 5 http://127.0.0.1:18081/index.html)" = "hello from web" ]
  addr=$(host_addr)
  if [ -n "$addr" ]; then
    [ "$(curl -sf -m 5 http://$addr:18080/index.html)" = "hello from web" ]
  fi
  [ "$(curl -sf -m 5 http://172.30.77.1:18080/index.html)" = "hello from web" ]
  run ip netns exec $FAR_NS busybox wget -qO- http://$FAR_HOST_IP:18080/index.html
  [ "$status" -eq 0 ]
  [ "$output" = "hello from web" ]
  # Published on 127.0.0.1 only: not reachable through another address.
  run timeout 10 ip netns exec $FAR_NS busybox wget -qO- http://$FAR_HOST_IP:18081/index.html
  [ "$status" -ne 0 ]
}

@test "-p CONTAINER_PORT picks a free host port; arca port PORT prints it" {
  serve rnd -p 80
  hp=$(arca port rnd 80)
  [[ "$hp" == 0.0.0.0:* ]]
  port=${hp#0.0.0.0:}
  [ "$port" -gt 0 ]
  [ "$(curl -sf -m 5 http://127.0.0.1:$port/index.html)" = "hello from rnd" ]
}

@test "a published UDP port delivers datagrams to the container" {
  command -v gcc >/dev/null || skip "gcc is needed for the static UDP receiver"
  mkdir -p "$ET_DIR/udp"
  cat > "$ET_DIR/udp/recv.c" <<'C'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main (int argc, char **argv) {
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (atoi (argv[1])) };
  char buf[512];
  if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) < 0) return 1;
  for (int i = 0; i < 2; i++) {
    ssize_t n = recv (fd, buf, sizeof buf, 0);
    if (n <= 0) return 1;
    printf ("got %.*s", (int) n, buf);
    fflush (stdout);
  }
  return 0;
}
C
  gcc -static -O1 -o "$ET_DIR/udp/recv" "$ET_DIR/udp/recv.c"
  arca run -d --name udp -p 19999:9999/udp -v "$ET_DIR/udp:/u:ro" busybox /u/recv 9999
  wait_status udp Up
  [ "$(arca port udp)" = "9999/udp -> 0.0.0.0:19999" ]
  sleep 0.2
  echo one > /dev/udp/127.0.0.1/19999
  sleep 0.2
  ip netns exec $FAR_NS bash -c "echo two > /dev/udp/$FAR_HOST_IP/19999"
  wait_status udp "Exited (0)"
  run arca logs udp
  [ "${lines[0]}" = "got one" ]
  [ "${lines[1]}" = "got two" ]
  # Stopped: its ports are released.
  [ -z "$(arca port udp)" ]
}

@test "two concurrent runs on the same host port: one wins, the other fails and leaves nothing" {
  for i in 1 2; do
    arca run -d --name race$i -p 127.0.0.1:18090:80 busybox httpd -f -p 80 \
      > "$ET_DIR/race$i.out" 2>&1 &
  done
  wait
  ok=0
  for i in 1 2; do
    if arca ps --format json | jq -e --arg n race$i '.[] | select(.Names == $n)' >/dev/null; then
      winner=race$i
      ok=$((ok + 1))
    else
      loser=race$i
    fi
  done
  [ "$ok" = 1 ]
  grep -q "network\|port\|in use" "$ET_DIR/$loser.out"
  [ "$(container_veths)" = 1 ]
  [ "$(map_elements)" = 1 ]
  [ -z "$(arca port $loser)" ]
  [ "$(arca port $winner)" = "80/tcp -> 127.0.0.1:18090" ]
  # A host process holding a port is refused as well.
  run arca run --rm -p 127.0.0.1:18090:80 busybox true
  [ "$status" -ne 0 ]
}

@test "50 containers started and removed leave no veth, no rule, no address behind" {
  for i in $(seq 1 50); do
    arca run -d --name loop$i -p $((20000 + i)):80 busybox sleep 100 >/dev/null
  done
  [ "$(container_veths)" = 50 ]
  [ "$(map_elements)" = 50 ]
  [ "$(db_rows)" = 100 ]
  # Every container got its own address.
  [ "$(python3 -c "import sqlite3; print(sqlite3.connect('/run/arca-net/net.db').execute('SELECT COUNT(DISTINCT address) FROM net_ipam WHERE network = \\'$BR\\'').fetchone()[0])")" = 50 ]
  for i in $(seq 1 50); do
    arca rm -f loop$i >/dev/null
  done
  [ "$(container_veths)" = 0 ]
  [ "$(map_elements)" = 0 ]
  [ "$(db_rows)" = 0 ]
}

@test "after a crash (monitor and container killed) the next start reclaims the address and port" {
  serve crashy -p 127.0.0.1:18095:80
  id=$(arca ps -q --no-trunc | head -1)
  kill -9 "$(cut -d' ' -f1 "$ET_ROOT/containers/$id/monitor.pid")"
  for p in $(cat /sys/fs/cgroup/pids/arca/$id/cgroup.procs); do kill -9 "$p"; done
  sleep 0.5
  # Nothing ran detach: the rows are still there.
  [ "$(db_rows)" = 2 ]
  arca start crashy
  wait_status crashy Up
  [ "$(curl -sf -m 5 http://127.0.0.1:18095/index.html)" = "hello from crashy" ]
  [ "$(db_rows)" = 2 ]
  [ "$(map_elements)" = 1 ]
  [ "$(container_veths)" = 1 ]
}

@test "containers reach a published port through a host address, their own too (hairpin)" {
  serve hp -p 18600:80
  addr=$(host_addr)
  addr=${addr:-172.30.77.1}
  run arca run --rm busybox wget -qO- http://$addr:18600/index.html
  [ "$status" -eq 0 ]
  [ "$output" = "hello from hp" ]
  run arca exec hp wget -qO- http://$addr:18600/index.html
  [ "$status" -eq 0 ]
  [ "$output" = "hello from hp" ]
}

@test "-P publishes every EXPOSEd port of the image on a free host port" {
  mkdir -p "$ET_DIR/ctx"
  printf 'FROM busybox\nEXPOSE 80 53/udp\n' > "$ET_DIR/ctx/Containerfile"
  arca build -t exposer "$ET_DIR/ctx" >/dev/null || skip "arca build is not available"
  arca run -d --name pa -P exposer sh -c \
    'mkdir -p /w && echo all > /w/index.html && exec httpd -f -p 80 -h /w'
  wait_status pa Up
  run arca port pa
  [ "${#lines[@]}" -eq 2 ]
  [[ "$output" == *"53/udp -> 0.0.0.0:"* ]]
  hp=$(arca port pa 80)
  [ "$(curl -sf -m 5 http://127.0.0.1:${hp#0.0.0.0:}/index.html)" = all ]
}

@test "a second start replaces the container's /etc/hosts lines instead of adding more" {
  arca run --name twice --add-host x.example:10.9.9.9 busybox true
  arca start twice
  wait_status twice "Exited (0)"
  id=$(arca ps -aq --no-trunc | head -1)
  [ "$(grep -c 'arca bridge' "$ET_ROOT/containers/$id/etc/hosts")" = 2 ]
  [ "$(grep -c localhost "$ET_ROOT/containers/$id/etc/hosts")" = 2 ]
}
