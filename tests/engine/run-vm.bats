#!/usr/bin/env bats
# `arca run --vm` on the host: its refusals and errors, and (with QEMU TCG
# standing in for arca-vmm, tests/vm-linux/qemu-vmm.sh, as this host's
# KVM cannot boot Linux) a whole run: output, stderr, exit status, --rm.
# The same runs under arca-vmm with real SVM: tests/vm-linux/runvm.sh.
load helpers

# A bridge and subnet of this file's own (runs as root are on the bridge).
export ARCA_BRIDGE_NAME=arcavn0 ARCA_BRIDGE_SUBNET=172.30.71.0/24
BR=arcavn0
GW=172.30.71.1

stand_in=$BATS_TEST_DIRNAME/../vm-linux/qemu-vmm.sh

runs_left() { ls "$ET_ROOT/vm/runs" 2>/dev/null | wc -l; }

teardown_file() {
  kill "$(cat "$ET_DIR/httpd.pid" 2>/dev/null)" 2>/dev/null || true
  "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" network rm vmnet-user >/dev/null 2>&1 || true
  "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" network rm vmnet-int >/dev/null 2>&1 || true
  ip link del $BR 2>/dev/null || true
  nft delete table ip arca-$BR 2>/dev/null || true
  if grep -q " $ET_DIR/" /proc/self/mountinfo; then
    echo "leaked mounts" >&2
    return 1
  fi
  rm -rf "$ET_DIR"
}

# What a `run --vm` leaves on the network: its taps, and the endpoint rows
# and addresses of the host-wide database (taps are vmt<id>).
taps_left() { ip -o link show | grep -c ': vmt' || true; }
rows_left() { # [BRIDGE]: endpoint rows of taps, addresses no endpoint row holds
  sqlite3 /run/arca-net/net.db "SELECT (SELECT COUNT(*) FROM net_endpoints WHERE veth LIKE 'vmt%'
    AND root = '$ET_ROOT') + (SELECT COUNT(*) FROM net_ipam WHERE network = '${1:-$BR}' AND container
    NOT IN (SELECT container FROM net_endpoints))"
}

need_net() {
  need_guest
  [ "$(id -u)" = 0 ] || skip "bridge networking needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  command -v sqlite3 >/dev/null || skip "no sqlite3 to read the address rows"
}

# busybox httpd on the host side of the bridge (its gateway address).
serve_gateway() {
  mkdir -p "$ET_DIR/www"
  echo "page from the host side" >"$ET_DIR/www/index.html"
  [ -e "$ET_DIR/httpd.pid" ] && return 0
  busybox httpd -f -p $GW:8071 -h "$ET_DIR/www" &
  echo $! >"$ET_DIR/httpd.pid"
}

need_guest() {
  command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
  ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no guest kernel (scripts/guest-kernel.sh)"
  [ -r "$(ls /boot/vmlinuz-* | sort -V | tail -n1)" ] || skip "guest kernel not readable"
}

# A TCG boot takes tens of seconds: more than the helper's 60 s limit.
arca_vm() {
  ARCA_VMM_PATH=$stand_in timeout -k 5 300 "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm "$@"
}

@test "run --vm: an unknown image is an error naming it, and leaves no run behind" {
  run -125 env ARCA_VMM_PATH=$stand_in "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" \
    run --vm no-such-image-here echo hi
  [[ $output == *no-such-image-here* ]]
  [ "$(runs_left)" = 0 ]
}

@test "run --vm: a missing guest kernel is an error naming it" {
  run -125 env ARCA_VMM_PATH=$stand_in ARCA_VM_KERNEL=/nonexistent/vmlinuz \
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm busybox echo hi
  [[ $output == *"/nonexistent/vmlinuz"* ]]
  [ "$(runs_left)" = 0 ]
}

@test "run --vm: without /dev/kvm the error says so" {
  [ ! -e /dev/kvm ] || skip "this host has /dev/kvm"
  run -125 arca run --vm busybox echo hi
  [[ $output == *"/dev/kvm"* ]]
}

@test "run --vm: -d with -i/-t and create --vm are refused, saying why" {
  run -125 env ARCA_VMM_PATH=$BATS_TEST_DIRNAME/../vm-linux/agent-vmm.py "$ARCA" --root "$ET_ROOT" \
    --run-root "$ET_RUN" run --vm -dit busybox true
  [[ $output == *"--vm -d: -i/-t are not supported"* ]]
  run -125 env ARCA_VMM_PATH=$BATS_TEST_DIRNAME/../vm-linux/agent-vmm.py "$ARCA" --root "$ET_ROOT" \
    --run-root "$ET_RUN" run --vm -d -i busybox true
  [[ $output == *"--vm -d: -i/-t are not supported"* ]]
  run -125 arca create --vm busybox true
  [[ $output == *"--vm is for run"* ]]
  [ "$(runs_left)" = 0 ]
  [ -z "$(arca ps -a -q)" ]
}

# echo-vmm.py stands in for arca-vmm and the guest agent at once: it plays
# the agent's side of the serial frames, so the host side of -i/-t is
# tested without booting anything.
echo_vmm=$BATS_TEST_DIRNAME/../vm-linux/echo-vmm.py
# pty-drive.py sets its terminal to 24x80 after it forks: the size is the
# script's first step, and the command waits for it before starting arca.
wait_size='while [ "$(stty size)" != "27 91" ]; do sleep 0.1; done;'
arca_echo_vm() {
  ARCA_VMM_PATH=$echo_vmm ARCA_VM_KERNEL=$echo_vmm timeout --foreground -k 5 60 "$ARCA" \
    --root "$ET_ROOT" --run-root "$ET_RUN" run --vm "$@"
}

@test "run --vm -i: stdin reaches the guest in order through the 16 KiB window, its EOF is sent, the exit status comes back" {
  head -c 300000 /dev/urandom >"$ET_DIR/in"
  # echo-vmm.py sends an error frame (so arca fails) if more than a
  # window is ever outstanding.
  ECHO_VMM_EXIT=6 arca_echo_vm -i --network none busybox cat <"$ET_DIR/in" >"$ET_DIR/out" 2>"$ET_DIR/err" \
    || status=$?
  cat "$ET_DIR/err"
  [ "${status:-0}" = 6 ]
  head -c 300000 "$ET_DIR/out" | cmp - "$ET_DIR/in"
  [ "$(tail -c +300001 "$ET_DIR/out")" = eof ]
  # The agent is told: stdin from the host, no tty, no TERM added.
  conf=$(ls -t "$ET_ROOT"/vm/runs/*/agent.conf | head -n1)
  tr '\0' '\n' <"$conf" | grep -qx 'stdin=1'
  ! tr '\0' '\n' <"$conf" | grep -q '^tty='
  ! tr '\0' '\n' <"$conf" | grep -q '^env=TERM='
  # An empty stdin is an EOF at once.
  run -0 arca_echo_vm --rm -i --network none busybox cat </dev/null
  [ "$output" = eof ]
}

@test "run --vm -it: keys go raw, the window size at start and on resize, TERM and tty= for the agent, the terminal restored" {
  printf '%s\n' 'resize 27 91' 'expect winsize 27 91' 'send abc' 'expect abc' 'resize 31 101' 'expect winsize 31 101' \
    'send \x04' 'expect eof' >"$ET_DIR/script"
  run python3 "$BATS_TEST_DIRNAME/pty-drive.py" "$ET_DIR/script" -- sh -c "$wait_size
    ARCA_VMM_PATH=$echo_vmm ARCA_VM_KERNEL=$echo_vmm ECHO_VMM_EXIT=3 timeout --foreground -k 5 60 \
    $ARCA --root $ET_ROOT --run-root $ET_RUN run --vm -it -e X=1 --network none busybox sh;
    echo status=\$?; stty -a | grep -o -- '-\?icanon'"
  echo "$output"
  [ "$status" = 0 ]
  # 'abc' came back before any Enter: raw.
  [[ $output == *"winsize 27 91"*abc*"winsize 31 101"*eof* ]]
  [[ $output == *status=3* ]]
  [[ $output == *$'\n'icanon* ]]
  conf=$(ls -t "$ET_ROOT"/vm/runs/*/agent.conf | head -n1)
  tr '\0' '\n' <"$conf" | grep -qx 'tty=27x91'
  tr '\0' '\n' <"$conf" | grep -qx 'stdin=1'
  tr '\0' '\n' <"$conf" | grep -qx 'env=TERM=xterm'
  # -t alone, not on a terminal: the default size, no stdin record, and
  # -e TERM wins over the default.
  run -0 env ECHO_VMM_AT_ONCE=1 ARCA_VMM_PATH=$echo_vmm ARCA_VM_KERNEL=$echo_vmm "$ARCA" \
    --root "$ET_ROOT" --run-root "$ET_RUN" run --vm -t -e TERM=vt100 --network none busybox sh </dev/null
  conf=$(ls -t "$ET_ROOT"/vm/runs/*/agent.conf | head -n1)
  tr '\0' '\n' <"$conf" | grep -qx 'env=TERM=vt100'
  ! tr '\0' '\n' <"$conf" | grep -q 'env=TERM=xterm'
  tr '\0' '\n' <"$conf" | grep -qx 'tty=24x80'
  ! tr '\0' '\n' <"$conf" | grep -q '^stdin='
}

@test "run --vm: output, stderr apart, exit status, user/env/dir/hostname, --rm" {
  need_guest
  before=$(runs_left)
  run --separate-stderr -7 arca_vm --rm -e FOO=bar -w /tmp -u 1000:1000 --hostname vmhost \
    busybox sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"; echo to-stderr >&2; exit 7'
  [ "$output" = "bar /tmp 1000:1000 vmhost" ]
  [ "$stderr" = "to-stderr" ]
  [ "$(runs_left)" = "$before" ]
  # Without --rm the run's directory stays with the status the guest sent.
  run -0 arca_vm busybox echo hi
  [ "$output" = hi ]
  [ "$(runs_left)" = $((before + 1)) ]
  [ "$(cat "$(ls -td "$ET_ROOT"/vm/runs/*/ | head -n1)"/exit-code)" = 0 ]
  # The image root and agent archives are cached once.
  [ "$(ls "$ET_ROOT"/vm/rootfs-*.cpio | wc -l)" = 1 ]
}

@test "run --vm -i in a guest: cat gets stdin, its EOF ends cat, the exit status comes back" {
  need_guest
  run --separate-stderr -4 bash -c 'printf "hi\nthere\n" | ARCA_VMM_PATH=$0 timeout -k 5 300 "$ARCA" \
    --root "$ET_ROOT" --run-root "$ET_RUN" run --vm --rm -i --network none busybox \
    sh -c "cat; echo done; test -t 0 || echo no-tty; exit 4"' "$stand_in"
  echo "$output"
  echo "stderr: $stderr"
  [ "$output" = "$(printf 'hi\nthere\ndone\nno-tty')" ]
}

@test "run --vm -it in a guest: a tty of the terminal's size and TERM, typed lines, a resize, the exit status" {
  need_guest
  printf '%s\n' 'resize 27 91' 'expect tty xterm 27 91' 'send hello\r' 'expect got hello' 'resize 31 101' 'sleep 2' \
    'send x\r' 'expect size 31 101' >"$ET_DIR/script"
  run env PTY_DRIVE_TIMEOUT=240 python3 "$BATS_TEST_DIRNAME/pty-drive.py" "$ET_DIR/script" -- sh -c "$wait_size
    ARCA_VMM_PATH=$stand_in timeout --foreground -k 5 300 $ARCA --root $ET_ROOT --run-root $ET_RUN \
    run --vm --rm -it --network none busybox sh -c 'test -t 0 && test -t 1 && test -t 2 &&
      echo tty \$TERM \$(stty size); read l; echo got \$l; read y; echo size \$(stty size); exit 3'
    echo status=\$?"
  echo "$output"
  [ "$status" = 0 ]
  [[ $output == *status=3* ]]
  # The guest pty's line ends come as they are (the host terminal is raw
  # for output too: no \r\r\n).
  [[ $output == *$'got hello\r\n'* ]]
  [[ $output != *$'\r\r\n'* ]]
}

@test "run --vm with ARCA_VM_ROOT=disk: the image root is a cached ext4 disk over virtio-pci" {
  need_guest
  command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (e2fsprogs)"
  before=$(runs_left)   # the run the test before keeps (no --rm)
  run --separate-stderr -3 env ARCA_VM_ROOT=disk ARCA_VMM_PATH=$stand_in timeout -k 5 300 "$ARCA" \
    --root "$ET_ROOT" --run-root "$ET_RUN" run --vm --rm -u 1000 busybox \
    sh -c 'grep -c " / overlay" /proc/mounts; id -u; touch /x 2>/dev/null || echo no-write; exit 3'
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = no-write ]
  [ "$(ls "$ET_ROOT"/vm/disk-*.ext4 | wc -l)" = 1 ]
  [ "$(runs_left)" = "$before" ]   # --rm: this one left none
}

@test "run --vm on the bridge: eth0 has an address of the subnet, the guest pings the gateway and fetches a page from it; nothing stays" {
  need_net
  # A container's run sets the bridge up with the gateway address, where
  # httpd then listens.
  arca run --rm busybox true
  ip -4 addr show $BR | grep -q "inet $GW/24"
  serve_gateway
  run --separate-stderr -0 arca_vm --rm --hostname vmnet1 --dns 10.9.8.7 --add-host far.example:10.1.2.3 \
    busybox sh -c 'ip -4 -o addr show eth0; ip route | grep ^default; cat /etc/hostname; grep vmnet1 /etc/hosts;
      grep far.example /etc/hosts; cat /etc/resolv.conf; ping -c 2 -W 5 '$GW' >/dev/null && echo ping-ok;
      timeout 20 wget -qO- http://'$GW':8071/'
  echo "$output"
  echo "stderr: $stderr"
  [[ ${lines[0]} =~ ^2:\ eth0\ +inet\ 172\.30\.71\.([0-9]+)/24\  ]]
  addr=172.30.71.${BASH_REMATCH[1]}
  [ "$addr" != $GW ]
  [[ ${lines[1]} == "default via $GW dev eth0"* ]]
  [ "${lines[2]}" = vmnet1 ]
  [[ ${lines[3]} == "$addr"*vmnet1 ]]
  [[ ${lines[4]} == "10.1.2.3"*far.example ]]
  [ "${lines[5]}" = "nameserver 10.9.8.7" ]
  [ "${lines[6]}" = ping-ok ]
  [ "${lines[7]}" = "page from the host side" ]
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
}

# Published ports a `run --vm` leaves: rows in the engine's database and
# elements of the bridge table's DNAT maps (none when the table is gone).
ports_left() {
  local rows elems
  rows=$(sqlite3 "$ET_ROOT/arca.db" "SELECT COUNT(*) FROM net_ports" 2>/dev/null || echo 0)
  elems=$(nft -j list table ip arca-$BR 2>/dev/null | python3 -c '
import json, sys
try:
    m = [o["map"] for o in json.load(sys.stdin)["nftables"]
         if "map" in o and o["map"]["name"].startswith("ports")]
    print(sum(len(x.get("elem", [])) for x in m))
except Exception:
    print(0)')
  echo $((rows + elems))
}

@test "run --vm -p: the guest's httpd answers on 127.0.0.1:PORT; a second run asking for the port fails and leaves nothing; nothing stays" {
  need_net
  command -v curl >/dev/null || skip "no curl"
  port=18074
  # The guest serves until it has answered twice, then exits by itself.
  arca_vm --rm -p 127.0.0.1:$port:80 busybox sh -c 'mkdir -p /www;
      echo "page the guest wrote" >/www/index.html; httpd -f -v -p 80 -h /www 2>/tmp/log &
      for i in $(seq 1200); do [ "$(grep -c response:200 /tmp/log)" -ge 2 ] && break; sleep 0.1; done;
      echo served $(grep -c response:200 /tmp/log)' >"$ET_DIR/pub.out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [ "$(ports_left)" = 2 ] && break; sleep 0.2; done
  [ "$(ports_left)" = 2 ]   # its row and its map element
  page=
  for _ in $(seq 150); do
    page=$(curl -sf -m 2 http://127.0.0.1:$port/) && break
    sleep 1
  done
  [ "$page" = "page the guest wrote" ]
  # The same host port again: refused, with nothing of the loser left.
  run -125 arca_vm --rm -p 127.0.0.1:$port:80 busybox true
  echo "$output"
  [[ $output == *"$port"* ]]
  [ "$(taps_left)" = 1 ]
  [ "$(rows_left)" = 1 ]
  [ "$(ports_left)" = 2 ]
  # The winner's port still works (the second answer ends the guest).
  [ "$(curl -sf -m 5 http://127.0.0.1:$port/)" = "page the guest wrote" ]
  run timeout 120 tail --pid=$pid -f /dev/null
  wait $pid
  cat "$ET_DIR/pub.out"
  [ "$(tail -n1 "$ET_DIR/pub.out")" = "served 2" ]
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
  run curl -sf -m 2 http://127.0.0.1:$port/
  [ "$status" != 0 ]
}

@test "run --vm -P publishes the image's EXPOSEd ports on free host ports; the guest answers on one" {
  need_net
  command -v curl >/dev/null || skip "no curl"
  mkdir -p "$ET_DIR/ctx"
  printf 'FROM busybox\nEXPOSE 80 53/udp\n' >"$ET_DIR/ctx/Containerfile"
  arca build -t vmexposer "$ET_DIR/ctx" >/dev/null || skip "arca build is not available"
  arca_vm --rm -P vmexposer sh -c 'mkdir -p /w; echo "exposed page" >/w/index.html;
      httpd -f -v -p 80 -h /w 2>/tmp/log &
      for i in $(seq 1200); do grep -q response:200 /tmp/log && break; sleep 0.1; done; echo served' \
    >"$ET_DIR/puball.out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [ "$(ports_left)" = 4 ] && break; sleep 0.2; done
  [ "$(ports_left)" = 4 ]   # 80/tcp and 53/udp: rows and map elements
  hp=$(sqlite3 "$ET_ROOT/arca.db" "SELECT host_port FROM net_ports WHERE proto = 'tcp' AND container_port = 80")
  [ -n "$hp" ] && [ "$hp" != 80 ]
  page=
  for _ in $(seq 150); do
    page=$(curl -sf -m 2 http://127.0.0.1:$hp/) && break
    sleep 1
  done
  [ "$page" = "exposed page" ]
  run timeout 120 tail --pid=$pid -f /dev/null
  wait $pid
  [ "$(tail -n1 "$ET_DIR/puball.out")" = served ]
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
}

@test "run --vm -p on an internal network or with --network none is refused with nothing left" {
  need_net
  run -125 arca_vm --rm --network none -p 8080:80 busybox true
  [[ $output == *"-p"* ]]
  arca network create --internal vmnet-int >/dev/null
  run -125 arca_vm --rm --network vmnet-int -p 18076:80 busybox true
  echo "$output"
  [[ $output == *"internal"* ]]
  arca network rm vmnet-int >/dev/null
  [ "$(taps_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
}

@test "run --vm --network none: no NIC, lo only" {
  need_guest
  run --separate-stderr -0 arca_vm --rm --network none busybox sh -c \
    'ls /sys/class/net; ip -o link show up | grep -c -v " lo:"; cat /etc/resolv.conf 2>/dev/null | grep -c nameserver; true'
  echo "$output"
  [ "${lines[0]}" = lo ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = 0 ]
  [ "$(taps_left)" = 0 ]
}

@test "run --vm on a bridge above 1500: the host reaches the guest through a /32 route at its 1500 (big datagrams fragment), gone after" {
  need_net
  out=$ET_DIR/bigping.out
  rm -f "$out"
  arca_vm --rm busybox sh -c 'ip -4 -o addr show eth0; echo ready; sleep 20' >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q ready "$out" 2>/dev/null && break; sleep 0.2; done
  ip=$(grep -o 'inet [0-9.]*' "$out" | cut -d' ' -f2)
  echo "guest $ip: $(cat "$out")"
  [ -n "$ip" ]
  [ "$(cat /sys/class/net/$BR/mtu)" -gt 1500 ]
  run ip route show "$ip/32"
  echo "route: $output"
  [[ $output == *"dev $BR "*"mtu 1500"* ]]
  # 3028 bytes of ICMP from the host: in fragments the guest's 1500-byte
  # buffers take, and its reply comes back.
  run busybox ping -c 1 -s 3000 -W 10 "$ip"
  echo "$output"
  [ "$status" -eq 0 ]
  wait "$pid"
  [ -z "$(ip route show "$ip/32")" ]
  [ "$(taps_left)" = 0 ]
}

@test "run --vm --network NAME: an address of the user network, its containers by name and alias in /etc/hosts" {
  need_net
  arca network create vmnet-user >/dev/null
  subnet=$(arca network inspect vmnet-user | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])')
  prefix=${subnet%.0/24}
  peer=$(arca run -d --name vmpeer --network-alias vmweb --network vmnet-user busybox sleep 300)
  run --separate-stderr -0 arca_vm --rm --network vmnet-user busybox sh -c \
    'ip -4 -o addr show eth0; grep vmpeer /etc/hosts; ping -c 1 -W 5 vmpeer >/dev/null && echo peer-ok; ping -c 1 -W 5 vmweb >/dev/null && echo alias-ok'
  echo "$output"
  [[ ${lines[0]} == *"inet $prefix."*/24* ]]
  # One line, as in a container's /etc/hosts: the peer's name, then its aliases.
  [[ ${lines[1]} == "$prefix."*vmpeer" vmweb"* ]]
  [ "${lines[2]}" = peer-ok ]
  [ "${lines[3]}" = alias-ok ]
  ubr=$(sqlite3 /run/arca-net/net.db "SELECT bridge FROM net_endpoints WHERE container = '$peer'")
  [ "$(taps_left)" = 0 ]
  [ -n "$ubr" ] && [ "$(rows_left "$ubr")" = 0 ]
  arca rm -f vmpeer >/dev/null
  run arca network rm vmnet-user
}

@test "run --vm: SIGINT stops the VM and removes its tap and address" {
  need_net
  ARCA_VMM_PATH=$stand_in "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm --rm -p 127.0.0.1:18077:80 busybox sleep 600 \
    >"$ET_DIR/int.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ "$(taps_left)" = 1 ] && break; sleep 0.2; done
  [ "$(taps_left)" = 1 ]
  [ "$(rows_left)" = 1 ]
  [ "$(ports_left)" = 2 ]
  kill -INT $pid
  run timeout 60 tail --pid=$pid -f /dev/null
  wait $pid || true
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
  [ "$(runs_left)" = "$(ls "$ET_ROOT/vm/runs" | wc -l)" ]
}

@test "run --vm: what a killed run left (tap, address) is found by system check and repaired" {
  need_net
  setsid env ARCA_VMM_PATH=$stand_in "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm --rm \
    -p 127.0.0.1:18078:80 busybox sleep 600 >"$ET_DIR/kill.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ "$(taps_left)" = 1 ] && break; sleep 0.2; done
  [ "$(taps_left)" = 1 ]
  for _ in $(seq 50); do [ "$(ports_left)" = 2 ] && break; sleep 0.2; done
  # While it runs the check leaves it alone, its ports too.
  run arca system check
  [[ $output != *"run --vm"* ]]
  [[ $output != *"rows of removed"* ]]
  arca system check --repair >/dev/null || true
  [ "$(ports_left)" = 2 ]
  # The whole run (engine and VMM) dies at once.
  kill -KILL -- -$pid
  wait $pid || true
  sleep 1
  [ "$(taps_left)" = 1 ]
  [ "$(rows_left)" = 1 ]
  run arca system check
  [[ $output == *"run --vm"*"(ended)"* ]]
  [ "$(ports_left)" = 2 ]
  run arca system check --repair
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
  arca system check --repair >/dev/null || true
  # The run's overlay view stays mounted after a kill: the check's repair
  # is not about it; unmount it here.
  for m in $(grep -o " $ET_ROOT/vm/runs/[^ ]*" /proc/self/mountinfo); do umount "$m"; done
}

@test "run --vm: the next run --vm removes the published ports, tap and address of a killed run" {
  need_net
  setsid env ARCA_VMM_PATH=$stand_in "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --vm --rm \
    -p 127.0.0.1:18079:80 busybox sleep 600 >"$ET_DIR/kill2.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ "$(taps_left)" = 1 ] && break; sleep 0.2; done
  [ "$(taps_left)" = 1 ]
  [ "$(ports_left)" = 2 ]
  kill -KILL -- -$pid
  wait $pid || true
  sleep 1
  [ "$(ports_left)" = 2 ]
  # Its port is free for the next run, which reclaims the rest first.
  run -0 arca_vm --rm -p 127.0.0.1:18079:80 busybox echo took-it
  [ "$output" = took-it ]
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
  for m in $(grep -o " $ET_ROOT/vm/runs/[^ ]*" /proc/self/mountinfo); do umount "$m"; done
}

# ---- run --vm -d ---------------------------------------------------------
# agent-vmm.py stands in for arca-vmm and the guest agent of a detached
# run: it runs the command on the host and plays the agent's frames, the
# signal frames ('k') of kill and stop included, and stops at SIGTERM
# (arca-vmm's power-off) without an exit frame.
agent_vmm=$BATS_TEST_DIRNAME/../vm-linux/agent-vmm.py
arca_d() {
  ARCA_VMM_PATH=$agent_vmm ARCA_VM_KERNEL=$agent_vmm timeout -k 5 60 "$ARCA" --root "$ET_ROOT" \
    --run-root "$ET_RUN" "$@"
}
# The stand-ins (the "VMM" of each run names its initrd under the root)
# and VM monitors of this file's root still running.
vmm_left() { pgrep -f -- "--initrd $ET_ROOT/vm/runs/" | wc -l; }
monitors_left() {
  local n=0 p
  for p in $(pgrep -x arca-vm-monitor); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "--root $ET_ROOT " && n=$((n + 1))
  done
  echo $n
}
# Nothing of the run id is left: record, directories, processes.
assert_gone() {
  run arca inspect "$1"
  [ "$status" != 0 ]
  [ ! -e "$ET_ROOT/containers/$1" ]
  [ ! -e "$ET_ROOT/vm/runs/$1" ]
  [ "$(vmm_left)" = 0 ]
  [ "$(monitors_left)" = 0 ]
}
wait_logs() { # ID TEXT: until `logs ID` has the line TEXT
  for _ in $(seq 100); do arca logs "$1" 2>&1 | grep -qx "$2" && return 0; sleep 0.1; done
  echo "no line '$2' in the logs of $1" >&2
  return 1
}
wait_gone() { # ID: until the record is gone (--rm)
  for _ in $(seq 100); do arca inspect "$1" >/dev/null 2>&1 || return 0; sleep 0.1; done
  return 1
}

@test "run --vm -d: an id at once; ps, inspect (Runtime arca-vmm, the VMM's pid) and logs while it runs; stop sends SIGTERM to the command; wait; rm leaves nothing" {
  run -0 arca_d run --vm -d --network none --name vmweb busybox sh -c \
    'echo up; echo warn >&2; trap "echo got-term; exit 3" TERM; while :; do sleep 0.1; done'
  id=$output
  [[ $id =~ ^[0-9a-f]{64}$ ]]
  wait_status vmweb Up
  arca ps | grep -q "^${id:0:12} .* vmweb$"
  wait_logs vmweb up
  run --separate-stderr -0 arca logs vmweb
  [ "$output" = up ]
  [ "$stderr" = warn ]
  run -0 arca inspect vmweb
  [ "$(jq -r '.[0].HostConfig.Runtime' <<<"$output")" = arca-vmm ]
  [ "$(jq -r '.[0].State.Running' <<<"$output")" = true ]
  pid=$(jq -r '.[0].State.Pid' <<<"$output")
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "agent-vmm.py --kernel"
  [ "$(jq -r '.[0].OCIConfig.process.args[0]' <<<"$output")" = sh ]
  # The stop signal reaches the command (its trap), whose code is the VM's.
  run -0 arca stop vmweb
  wait_status vmweb "Exited (3)"
  run --separate-stderr -0 arca logs vmweb
  [ "$output" = "$(printf 'up\ngot-term')" ]
  run -0 arca wait vmweb
  [ "$output" = 3 ]
  run -0 arca inspect vmweb
  [ "$(jq -r '.[0].State.ExitCode' <<<"$output")" = 3 ]
  [[ $(jq -r '.[0].State.FinishedAt' <<<"$output") == 20* ]]
  [ "$(vmm_left)" = 0 ]
  # The exited record: start refuses, system check sees no orphan.
  run -1 arca start vmweb
  [[ $output == *"run --vm"* ]]
  run -0 arca system check
  [[ $output == *" 0 orphans"* ]]
  [[ $output == *" 0 problems"* ]]
  run -0 arca rm vmweb
  assert_gone "$id"
}

@test "run --vm -d: logs -f follows new lines to the end of the run, --tail and --timestamps" {
  id=$(arca_d run --vm -d --network none busybox sh -c \
    "echo one; while [ ! -e $ET_DIR/go ]; do sleep 0.1; done; echo two; echo three; exit 5")
  wait_logs "$id" one
  arca logs -f "$id" >"$ET_DIR/follow" 2>&1 &
  follower=$!
  sleep 0.5
  [ "$(cat "$ET_DIR/follow")" = one ]
  touch "$ET_DIR/go"
  # -f ends by itself with the run.
  run timeout 20 tail --pid=$follower -f /dev/null
  [ "$status" = 0 ]
  [ "$(cat "$ET_DIR/follow")" = "$(printf 'one\ntwo\nthree')" ]
  run -0 arca wait "$id"
  [ "$output" = 5 ]
  run -0 arca logs --tail 1 "$id"
  [ "$output" = three ]
  run -0 arca logs --timestamps "$id"
  [[ ${lines[0]} =~ ^20[0-9-]+T[0-9:.]+Z\ one$ ]]
  rm -f "$ET_DIR/go"
}

@test "run --vm -d: kill -s reaches the command; stop -t 1 of a command that ignores SIGTERM powers the VM off (137); kill -s KILL is 137" {
  id=$(arca_d run --vm -d --network none busybox sh -c \
    'trap "echo got-usr1" USR1; trap "echo ignored-term" TERM; echo ready; while :; do sleep 0.1; done')
  wait_logs "$id" ready
  run -0 arca kill -s USR1 "$id"
  wait_logs "$id" got-usr1
  start=$(date +%s)
  run -0 arca stop -t 1 "$id"
  [ $(($(date +%s) - start)) -lt 8 ]
  run -0 arca wait "$id"
  [ "$output" = 137 ]
  wait_logs "$id" ignored-term
  [ "$(vmm_left)" = 0 ]
  # kill on an exited one is an error; KILL to a running one ends it.
  run -1 arca kill "$id"
  id2=$(arca_d run --vm -d --network none busybox sh -c 'echo ready; while :; do sleep 0.1; done')
  wait_logs "$id2" ready
  run -0 arca kill -s KILL "$id2"
  run -0 arca wait "$id2"
  [ "$output" = 137 ]
  arca rm "$id" "$id2" >/dev/null
  assert_gone "$id"
  assert_gone "$id2"
}

@test "run --vm -d: rm of a running one is refused, rm -f removes it with its VMM, monitor and directories" {
  id=$(arca_d run --vm -d --network none busybox sh -c 'echo ready; sleep 600')
  wait_logs "$id" ready
  run -1 arca rm "$id"
  [[ $output == *"is running"* ]]
  [ "$(vmm_left)" = 1 ]
  [ "$(monitors_left)" = 1 ]
  run -0 arca rm -f "$id"
  assert_gone "$id"
}

@test "run --vm -d: a killed monitor takes its VM along; the record is Exited, rm removes the rest" {
  id=$(arca_d run --vm -d --network none busybox sh -c 'echo ready; sleep 600')
  wait_logs "$id" ready
  kill -KILL "$(cut -d' ' -f1 "$ET_ROOT/containers/$id/monitor.pid")"
  for _ in $(seq 50); do [ "$(vmm_left)" = 0 ] && break; sleep 0.1; done
  [ "$(vmm_left)" = 0 ]
  wait_status "arca-${id:0:12}" Exited
  run -0 arca rm "$id"
  assert_gone "$id"
}

@test "run --vm -d --rm: the record, its directories and processes go at exit" {
  before=$(runs_left)
  id=$(arca_d run --vm -d --rm --network none busybox sh -c 'echo bye; exit 4')
  [[ $id =~ ^[0-9a-f]{64}$ ]]
  wait_gone "$id"
  assert_gone "$id"
  [ "$(runs_left)" = "$before" ]
  # Stopped, too.
  id=$(arca_d run --vm -d --rm --network none busybox sh -c 'echo ready; sleep 600')
  wait_logs "$id" ready
  run -0 arca stop -t 1 "$id"
  wait_gone "$id"
  assert_gone "$id"
}

@test "run --vm -d: names conflict with containers' both ways; a bad stop signal or a VMM that dies leaves nothing running" {
  arca run -d --name taken busybox sleep 60 >/dev/null
  before=$(runs_left)
  run -125 arca_d run --vm -d --network none --name taken busybox true
  [[ $output == *"name \`taken\` is already in use"* ]]
  [ "$(runs_left)" = "$before" ]
  run -125 arca_d run --vm -d --network none --name "bad name" busybox true
  [[ $output == *"invalid container name"* ]]
  id=$(arca_d run --vm -d --network none --name vmtaken busybox sleep 60)
  run -125 arca run -d --name vmtaken busybox true
  [[ $output == *"name \`vmtaken\` is already in use"* ]]
  run -125 arca_d run --vm -d --network none --name vmtaken busybox true
  [[ $output == *"already in use"* ]]
  arca rm -f vmtaken taken >/dev/null
  assert_gone "$id"
  [ "$(runs_left)" = "$before" ]
  run -125 arca_d run --vm -d --network none --stop-signal NOPE busybox true
  [[ $output == *NOPE* ]]
  [ "$(runs_left)" = "$before" ]
  [ -z "$(arca ps -a -q)" ]
  [ -z "$(ls "$ET_ROOT/containers")" ]
  # A VMM that ends without the guest's exit frame: 255 and why, in the log.
  id=$(ARCA_VMM_PATH=/bin/true ARCA_VM_KERNEL=$agent_vmm "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" \
    run --vm -d --network none busybox true)
  run -0 arca wait "$id"
  [ "$output" = 255 ]
  run -0 arca logs "$id"
  [[ $output == *"the guest ended without the command's exit status"* ]]
  arca rm "$id"
  assert_gone "$id"
}

need_tap() {
  [ "$(id -u)" = 0 ] || skip "bridge networking needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  command -v sqlite3 >/dev/null || skip "no sqlite3 to read the address rows"
  ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no guest kernel (its modules go into the initramfs)"
}

@test "run --vm -d on the bridge: tap, address and ports while it runs (system check leaves them), gone at exit and with rm -f" {
  need_tap
  id=$(ARCA_VMM_PATH=$agent_vmm arca run --vm -d -p 127.0.0.1:18081:80 busybox sh -c \
    "echo ready; while [ ! -e $ET_DIR/end ]; do sleep 0.1; done; exit 6")
  wait_logs "$id" ready
  [ "$(taps_left)" = 1 ]
  [ "$(rows_left)" = 1 ]
  [ "$(ports_left)" = 2 ]
  ip -o link show "vmt${id:0:12}" | grep -q "master $BR"
  run -0 arca system check
  [[ $output == *" 0 orphans"* ]]
  [[ $output != *"run --vm"* ]]
  arca system check --repair >/dev/null
  [ "$(taps_left)" = 1 ]
  [ "$(ports_left)" = 2 ]
  touch "$ET_DIR/end"
  run -0 arca wait "$id"
  [ "$output" = 6 ]
  # The record stays (no --rm); its network went with the VM.
  for _ in $(seq 50); do [ "$(taps_left)" = 0 ] && [ "$(ports_left)" = 0 ] && break; sleep 0.1; done
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
  arca rm "$id" >/dev/null
  assert_gone "$id"
  rm -f "$ET_DIR/end"
  # rm -f of a running one takes its network too.
  id=$(ARCA_VMM_PATH=$agent_vmm arca run --vm -d -p 127.0.0.1:18081:80 busybox sh -c 'echo ready; sleep 600')
  wait_logs "$id" ready
  [ "$(taps_left)" = 1 ]
  arca rm -f "$id" >/dev/null
  assert_gone "$id"
  [ "$(taps_left)" = 0 ]
  [ "$(rows_left)" = 0 ]
  [ "$(ports_left)" = 0 ]
}
