#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtio-vsock with the host side as unix sockets (Firecracker's model):
# a guest-to-host round trip (the guest connects to port 5001, served by
# PATH_5001) with 512 KiB after it (the guest's credit must come back),
# a host-to-guest round trip ("CONNECT 1234\n" on PATH, "OK
# <port>", a line echoed back by the guest), refusals, and malformed
# descriptors putting the device into DEVICE_NEEDS_RESET.
# usage: test-vsock.sh ARCA_VMM GUEST_ELF      (prints TAP)
set -u
VMM=$1 ELF=$2
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v curl >/dev/null || skip_all "curl not installed"

T=$(mktemp -d)
pids=()
cleanup () { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
V=$T/v.sock
# wait_for FILE STRING [PID]: up to 30 s (a nested host is slow, and the
# guest waits as long for the host), no longer once PID has exited.
wait_for () {
  for _ in $(seq 300); do
    grep -aqF -- "$2" "$1" 2>/dev/null && return 0
    [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && break
    sleep 0.1
  done
  grep -aqF -- "$2" "$1" 2>/dev/null
}

# The host service the guest connects to: answers one line, then counts
# the guest's 512 KiB (twice what the device buffers, so the guest's credit
# must come back) and says how many bytes it got.  It starts reading only
# after 2 s, with a small socket buffer: a slow host must slow the guest
# down (its credit comes back as the host reads), not lose the connection.
python3 - "${V}_5001" "$T/host-got" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
data = c.recv(100)
open(sys.argv[2], "wb").write(data)
c.sendall(b"hi from the host\n")
time.sleep(2)
n = 0
while n < 512 << 10:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.sendall(b"got %d\n" % n)
c.recv(10)
EOF
pids+=($!)
for _ in $(seq 300); do [ -S "${V}_5001" ] && break; sleep 0.1; done

timeout -k 10 60 "$VMM" --kernel "$ELF" --memory 64 --vsock "3,$V" --cmdline "vsock=5001,1234" \
  --serial "file:$T/con" 2>"$T/err" &
g=$!; pids+=($g)
check "guest sees CID 3 in the config space" wait_for "$T/con" "vsock cid=3" $g
check "guest -> host: the connection is accepted (RESPONSE)" wait_for "$T/con" "vsock connect op=2" $g
check "guest -> host: the host got the guest's line" \
  bash -c "[ \"\$(cat '$T/host-got' 2>/dev/null)\" = 'hello from the guest' ]"
check "guest -> host: the guest got the host's answer" wait_for "$T/con" "vsock host says=hi from the host" $g
# after MARK STRING: once the guest printed MARK, has it printed STRING?
# (a failed step does not cost the next ones their wait)
after () { wait_for "$T/con" "$1" $g && grep -aqF -- "$2" "$T/con"; }
check "guest -> host: 512 KiB within the credit the device hands back (CREDIT_UPDATE)" \
  after "vsock bulk sent=" "vsock bulk sent=524288"
check "guest -> host: the host got all of them" after "vsock listening on" "vsock host says=got 524288"
check "guest listens" wait_for "$T/con" "vsock listening on 1234" $g

out=$(python3 - "$V" <<'EOF'
import socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20); return s
bad = conn(); bad.sendall(b"HELLO 1234\n")
print("bad:", bad.recv(100) == b"")
# More hosts than connection slots (16) give up on a port the guest never
# answers: each must free its slot.
for i in range(24):
    g = conn(); g.sendall(b"CONNECT 999\n"); g.close()
s = conn(); s.sendall(b"CONNECT 1234\n")
ok = s.recv(100).decode()
print("ok:", ok.strip())
s.sendall(b"ping\n")
print("echo:", s.recv(100).decode().strip())
s.close()
EOF
)
echo "$out" | sed 's/^/# /'
check "a host line that is not CONNECT closes the connection" grep -q "^bad: True" <<<"$out"
check "host -> guest: CONNECT answered with OK <port> (after 24 abandoned connections)" \
  grep -qE "^ok: OK [0-9]+$" <<<"$out"
check "host -> guest: the guest got the host's line" wait_for "$T/con" "vsock host sent=ping" $g
check "host -> guest: the guest's echo reached the host" grep -q "^echo: echo: ping$" <<<"$out"
check "host close reaches the guest as RST" wait_for "$T/con" "vsock closed with op=3" $g
wait $g; rc=$?
grep -q "vsock done" "$T/con" || sed 's/^/# guest: /' "$T/con"
check "guest finishes (status 0)" test "$rc" = 0
check "vsock socket removed on exit" test ! -e "$V"

# Refusals and a hostile driver.
timeout -k 10 60 "$VMM" --kernel "$ELF" --memory 64 --vsock "3,$V" --cmdline vsockbad \
  --serial "file:$T/bad" 2>"$T/bad.err"
check "read-only receive buffer: DEVICE_NEEDS_RESET" grep -q "read-only rx needs-reset=1" "$T/bad"
check "packet length that lies: DEVICE_NEEDS_RESET" grep -q "length lie needs-reset=1" "$T/bad"
check "after a reset, a connection to a port nobody serves gets RST" \
  grep -q "vsockbad after reset op=3" "$T/bad"
check "the VMM named both errors" test "$(grep -c 'needs reset' "$T/bad.err")" = 2

check "--vsock with CID 2 (the host) refused" \
  bash -c "'$VMM' --kernel '$ELF' --vsock 2,$T/x 2>&1 | grep -q 'not in 3'"

# The API: PUT /vsock (Firecracker's body).
SOCK=$T/api.sock
"$VMM" --api-sock "$SOCK" --serial "file:$T/api.con" 2>"$T/api.err" &
a=$!; pids+=($a)
for _ in $(seq 300); do [ -S "$SOCK" ] && break; sleep 0.1; done
api () { curl -s --unix-socket "$SOCK" -X "$1" -d "$3" -o /dev/null -w '%{http_code}' "http://localhost$2"; }
check "PUT /vsock with guest_cid 1 refused (400)" test "$(api PUT /vsock '{"guest_cid":1,"uds_path":"x"}')" = 400
check "PUT /vsock (204)" test "$(api PUT /vsock "{\"guest_cid\":7,\"uds_path\":\"$T/api-v.sock\"}")" = 204
api PUT /boot-source "{\"kernel_image_path\":\"$ELF\",\"boot_args\":\"vsockbad\"}" >/dev/null
api PUT /actions '{"action_type":"InstanceStart"}' >/dev/null
check "API-configured vsock device serves the guest" wait_for "$T/api.con" "vsockbad after reset op=3" $a
grep -q "vsockbad after reset" "$T/api.con" || sed 's/^/# guest: /' "$T/api.con" "$T/api.err"
wait $a

tap_done
