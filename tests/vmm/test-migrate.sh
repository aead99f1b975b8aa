#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Live migration between two arca-vmm processes (unix socket and TCP on
# 127.0.0.1).  The test guest counts ticks in memory and keeps dirtying a
# 128-page region whose content follows from the count (dirty=128); it
# checks the whole region every 16th tick.  Each tick virtio-rng also fills
# one of 64 pages the guest keeps a copy of (rngdirty): pages only the
# VMM's device thread wrote must arrive too.  After a migration the count must
# continue on the destination (never restart, never go back), the region
# must verify there, and pages must have been sent after round 0 (dirtied
# during pre-copy).  A guest that dirties its whole 8 MiB region every tick
# (dirtyrate) outruns a 1 ms downtime budget: its pre-copy must take more
# than one round, the later rounds must send pages, and those must arrive
# (the region verifies on the destination).  A broken connection must
# leave the source running.
# usage: test-migrate.sh ARCA_VMM GUEST_ELF      (prints TAP)
set -u
VMM=$1 ELF=$2
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
command -v curl >/dev/null || skip_all "curl not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"

T=$(mktemp -d)
pids=()
cleanup () { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
GUEST="ticks=0 tickdelay=0 dirty=128 rngdirty"

api () {   # api SOCK METHOD PATH [BODY]: body, then the status on its own line
  curl -s --unix-socket "$1" -X "$2" ${4:+-d "$4"} -w '\n%{http_code}\n' "http://localhost$3"
}
wait_for () {   # wait_for FILE STRING: up to 5 s
  for _ in $(seq 50); do grep -aqF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
wait_sock () { for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1; }
# Ticks on complete lines only: a migration can split a line between the
# two consoles.  complete_ticks FILE head|tail drops a partial last line /
# the first line (a continuation, when the source's output ended mid-line).
complete_ticks () {
  local f=$1
  if [ "$2" = tail ]; then
    if [ -n "$(tail -c 1 "$f")" ]; then head -n -1 "$f"; else cat "$f"; fi
  else
    tail -n +2 "$f"
  fi | grep -a '^arca-test-guest: tick [0-9]*$' | cut -d' ' -f3
}
sum_after_round0 () {   # pages sent after round 0 (later rounds + final)
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(r["pages"] for r in d["rounds"][1:]) + d["final_pages"])'
}
precopy_rounds () {   # "ROUNDS PAGES": pre-copy rounds, pages of rounds 1.. (not the final copy)
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["rounds"]), sum(r["pages"] for r in d["rounds"][1:]))'
}

start_source () {   # start_source NAME: API-driven source booting the guest
  "$VMM" --api-sock "$T/$1.sock" --kernel "$ELF" --memory 64 --rng --cmdline "$GUEST" \
    --serial "file:$T/$1.con" 2>"$T/$1.err" &
  src=$!; pids+=($src)
  wait_sock "$T/$1.sock" && wait_for "$T/$1.con" "verify ok"
}

# migrate NAME ADDR BODY-EXTRA: source NAME to a new destination on ADDR.
migrate_case () {
  local name=$1 addr=$2 extra=$3
  start_source "$name"
  check "$name: source boots and verifies its region" wait_for "$T/$name.con" "verify ok"
  timeout -k 10 30 "$VMM" --incoming "$addr" --serial "file:$T/$name-dst.con" 2>"$T/$name-dst.err" &
  dst=$!; pids+=($dst)
  sleep 0.2
  out=$(api "$T/$name.sock" PUT /migrate "{\"destination\":\"$addr\"$extra}")
  check "$name: PUT /migrate (200)" test "$(tail -n 1 <<<"$out")" = 200
  stats=$(head -n 1 <<<"$out")
  echo "# $name: $stats"
  check "$name: stats report rounds, downtime and total time" \
    grep -q '"rounds":\[{"pages":[1-9].*"downtime_us":[0-9]*,"total_us":[1-9]' <<<"$stats"
  check "$name: downtime breakdown: source parts <= downtime, destination parts <= state send + wait" \
    python3 -c '
import json, sys
d = json.loads(sys.argv[1]); b = d["downtime"]
src = ("pause_us", "kvm_dirty_log_us", "final_send_us", "kvm_state_us", "state_save_us",
       "state_send_us", "wait_us")
dst = ("dst_receive_us", "dst_kvm_state_us", "dst_apply_us", "dst_start_us")
assert all(k in b for k in src + dst), b
assert sum(b[k] for k in src) <= d["downtime_us"], d
# The destination starts on the state record header, sent as state_send_us began.
assert sum(b[k] for k in dst) <= b["state_send_us"] + b["wait_us"], b
assert b["dst_receive_us"] + b["dst_kvm_state_us"] + b["dst_apply_us"] > 0, b   # the destination reported
' "$stats"
  after0=$(sum_after_round0 <<<"$stats")
  check "$name: pages dirtied during pre-copy were sent ($after0)" test "${after0:-0}" -gt 0
  if [ "${MULTI_ROUND:-0}" = 1 ]; then
    read -r nrounds later <<<"$(precopy_rounds <<<"$stats")"
    check "$name: pre-copy took more than one round ($nrounds)" test "${nrounds:-0}" -ge 2
    check "$name: pre-copy rounds after round 0 sent pages ($later)" test "${later:-0}" -gt 0
  fi
  wait "$src"; rc=$?
  check "$name: source exits 0 after the migration" test "$rc" = 0
  check "$name: source API socket removed" test ! -e "$T/$name.sock"
  check "$name: destination runs" wait_for "$T/$name-dst.con" "tick"
  last=$(complete_ticks "$T/$name.con" tail | tail -n 1)
  sleep 0.3
  first=$(complete_ticks "$T/$name-dst.con" head | head -n 1)
  check "$name: count continues on the destination (source $last, destination $first)" \
    test "$first" -gt "$last" -a "$first" -le $((last + 2))
  check "$name: destination never restarts the guest" bash -c "! grep -aq hello '$T/$name-dst.con'"
  check "$name: destination ticks never go back" \
    bash -c "tail -n +2 '$T/$name-dst.con' | head -n -1 | grep -a '^arca-test-guest: tick [0-9]*$' | cut -d' ' -f3 | awk 'NR > 1 && \$1 != p + 1 { exit 1 } { p = \$1 }'"
  check "$name: region verifies on the destination" wait_for "$T/$name-dst.con" "verify ok"
  check "$name: no page lost or stale" bash -c "! grep -aq 'verify BAD' '$T/$name-dst.con' '$T/$name.con'"
  check "$name: device-written pages verify on the destination" wait_for "$T/$name-dst.con" "rngdirty ok"
  check "$name: no device-written page lost" bash -c "! grep -aq 'rngdirty BAD' '$T/$name-dst.con' '$T/$name.con'"
  kill -TERM "$dst"; wait "$dst"; rc=$?
  check_log "$name: destination stops on SIGTERM with status 0" "$T/$name-dst.err" test "$rc" = 0
}

migrate_case unix "unix:$T/in.sock" ""
check "unix: destination removed its socket" test ! -e "$T/in.sock"
port=$((20000 + RANDOM % 20000))
migrate_case tcp "tcp:127.0.0.1:$port" ',"max_downtime_ms":1,"max_rounds":4'
GUEST="ticks=0 tickdelay=0 dirty=2048 dirtyrate=2048 rngdirty" MULTI_ROUND=1 \
  migrate_case heavy "unix:$T/heavy-in.sock" ',"max_downtime_ms":1,"max_rounds":4'

# Twice: to a paused destination with an API, resumed there, then on.
start_source twice
"$VMM" --incoming "unix:$T/b.sock" --paused --api-sock "$T/b-api.sock" \
  --serial "file:$T/b.con" 2>"$T/b.err" &
b=$!; pids+=($b)
sleep 0.2
check "twice: first migration (200)" \
  test "$(api "$T/twice.sock" PUT /migrate "{\"destination\":\"unix:$T/b.sock\"}" | tail -n 1)" = 200
wait_sock "$T/b-api.sock"
check "twice: --paused destination reports Paused" \
  grep -q '"state":"Paused"' <<<"$(api "$T/b-api.sock" GET /)"
sleep 0.2
check "twice: no guest output while paused" test ! -s "$T/b.con"
check "twice: resume over the destination's API (204)" \
  test "$(api "$T/b-api.sock" PATCH /vm '{"state":"Resumed"}' | tail -n 1)" = 204
check "twice: guest runs on the second host" wait_for "$T/b.con" "verify ok"
timeout -k 10 30 "$VMM" --incoming "unix:$T/c.sock" --serial "file:$T/c.con" 2>"$T/c.err" &
c=$!; pids+=($c)
sleep 0.2
check "twice: second migration (200)" \
  test "$(api "$T/b-api.sock" PUT /migrate "{\"destination\":\"unix:$T/c.sock\"}" | tail -n 1)" = 200
wait "$b"; rc=$?
check "twice: the middle host exits 0" test "$rc" = 0
last=$(complete_ticks "$T/b.con" tail | tail -n 1)
check "twice: third host runs" wait_for "$T/c.con" "verify ok"
first=$(complete_ticks "$T/c.con" head | head -n 1)
check "twice: count continues on the third host ($last -> $first)" \
  test "$first" -gt "$last" -a "$first" -le $((last + 2))
check "twice: no page lost over two hops" \
  bash -c "! grep -aq 'BAD' '$T/twice.con' '$T/b.con' '$T/c.con'"
kill -TERM "$c"; wait "$c"

# A destination that breaks the connection in the middle of round 0.
start_source broken
python3 - "$T/fake.sock" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
n = 0
while n < 65536:
    b = c.recv(65536 - n)
    if not b: break
    n += len(b)
c.close()
EOF
fake=$!; pids+=($fake)
for _ in $(seq 50); do [ -S "$T/fake.sock" ] && break; sleep 0.1; done
out=$(api "$T/broken.sock" PUT /migrate "{\"destination\":\"unix:$T/fake.sock\"}")
check "broken connection: PUT /migrate fails (400)" test "$(tail -n 1 <<<"$out")" = 400
echo "# $(head -n 1 <<<"$out")"
check "broken connection: the error says so" grep -q 'migrate to' <<<"$out"
check "broken connection: source still Running" \
  grep -q '"state":"Running"' <<<"$(api "$T/broken.sock" GET /)"
n=$(complete_ticks "$T/broken.con" tail | tail -n 1)
check "broken connection: guest keeps counting after tick $n" wait_for "$T/broken.con" "tick $((n + 20))"
out=$(api "$T/broken.sock" PUT /migrate "{\"destination\":\"unix:$T/nobody.sock\"}")
check "unreachable destination: 400, source unharmed" test "$(tail -n 1 <<<"$out")" = 400
# ... and it can still migrate afterwards.
timeout -k 10 30 "$VMM" --incoming "unix:$T/in2.sock" --serial "file:$T/again.con" 2>"$T/again.err" &
dst=$!; pids+=($dst)
sleep 0.2
check "after a failed attempt the source still migrates" \
  test "$(api "$T/broken.sock" PUT /migrate "{\"destination\":\"unix:$T/in2.sock\"}" | tail -n 1)" = 200
check "... and the destination verifies the region" wait_for "$T/again.con" "verify ok"
kill -TERM "$dst"; wait "$dst"

# The destination does not trust the stream.
timeout -k 10 30 "$VMM" --incoming "unix:$T/in3.sock" --serial none 2>"$T/garbage.err" &
dst=$!; pids+=($dst)
for _ in $(seq 50); do [ -S "$T/in3.sock" ] && break; sleep 0.1; done
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"x" * 4096); s.close()' "$T/in3.sock"
wait "$dst"; rc=$?
check "garbage stream: destination exits 1" test "$rc" = 1
check "garbage stream: reported as a bad record" grep -q "bad record magic" "$T/garbage.err"
check "bad migration address refused" \
  bash -c "'$VMM' --incoming 'tcp:localhost' 2>&1 | grep -q 'no port'"

tap_done
