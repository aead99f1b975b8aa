#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The control API (configure, boot, pause/resume, metrics, errors) and
# snapshot/restore: the guest's tick counter must continue after a restore,
# and broken snapshot files must be refused with a clear error.
# usage: test-api.sh ARCA_VMM GUEST_ELF      (prints TAP)
set -u
VMM=$1 ELF=$2
. "$(dirname "$0")/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
command -v curl >/dev/null || skip_all "curl not installed"

T=$(mktemp -d)
pids=()
cleanup () { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
SOCK=$T/api.sock

# api METHOD PATH [BODY]: prints the body, then the status code on its own line.
api () {
  curl -s --unix-socket "$SOCK" -X "$1" ${3:+-d "$3"} -w '\n%{http_code}\n' "http://localhost$2"
}
status_of () { tail -n 1; }
wait_for () {   # wait_for FILE STRING: up to 15 s (restores are slow on a nested host)
  for _ in $(seq 150); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# The last tick on a complete line: a pause can stop the guest half-way
# through printing one (the file then ends in "tick 24" of "tick 2466").
last_tick () { head -n "$(wc -l <"$1")" "$1" | grep -o 'tick [0-9]*' | tail -n 1 | cut -d' ' -f2; }
# next_tick BEFORE AFTER N: the tick after N in BEFORE followed by AFTER
# (the console up to a snapshot, then a restored guest's), so a line cut
# by the snapshot reads whole.
next_tick () { cat "$1" "$2" | grep -o 'tick [0-9]*' | awk -v n="$3" 'seen {print $2; exit} $2 == n {seen = 1}'; }
wait_next () {  # wait_next BEFORE AFTER N: up to 30 s for the tick after N to be N + 1
  for _ in $(seq 300); do [ "$(next_tick "$1" "$2" "$3")" = $(($3 + 1)) ] && return 0; sleep 0.1; done
  return 1
}

"$VMM" --api-sock "$SOCK" --serial "file:$T/console" 2>"$T/vmm.err" &
vmm=$!; pids+=($vmm)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "API socket appears" test -S "$SOCK"

out=$(api GET /)
check "GET / before boot: Not started" grep -q '"state":"Not started"' <<<"$out"
check "InstanceStart without a boot source is refused (400)" \
  test "$(api PUT /actions '{"action_type":"InstanceStart"}' | status_of)" = 400
check "PUT /machine-config (204)" \
  test "$(api PUT /machine-config '{"vcpu_count":1,"mem_size_mib":64}' | status_of)" = 204
check "bad machine-config value refused (400)" \
  test "$(api PUT /machine-config '{"mem_size_mib":"lots"}' | status_of)" = 400
out=$(api GET /machine-config)
check "GET /machine-config reflects it" grep -q '"mem_size_mib":64' <<<"$out"
check "PUT /boot-source (204)" \
  test "$(api PUT /boot-source "{\"kernel_image_path\":\"$ELF\",\"boot_args\":\"ticks=0 tickdelay=3000\"}" | status_of)" = 204
check "PUT /drives/{id} with a mismatched drive_id refused" \
  test "$(api PUT /drives/a '{"drive_id":"b","path_on_host":"/x"}' | status_of)" = 400
check "PUT /network-interfaces with a bad MAC refused" \
  test "$(api PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"t0","guest_mac":"zz"}' | status_of)" = 400
check "malformed JSON refused (400)" test "$(api PUT /actions 'nope' | status_of)" = 400
check "unknown resource (404)" test "$(api GET /nothing | status_of)" = 404
check "InstanceStart (204)" test "$(api PUT /actions '{"action_type":"InstanceStart"}' | status_of)" = 204
check "guest boots" wait_for "$T/console" "tick 3"
check "machine-config is fixed after boot (400)" \
  test "$(api PUT /machine-config '{"vcpu_count":2}' | status_of)" = 400

check "pause (204)" test "$(api PATCH /vm '{"state":"Paused"}' | status_of)" = 204
out=$(api GET /)
check "state is Paused" grep -q '"state":"Paused"' <<<"$out"
a=$(last_tick "$T/console"); sleep 0.4; b=$(last_tick "$T/console")
check "no ticks while paused ($a -> $b)" test "$a" = "$b"

check "snapshot/create while paused (204)" \
  test "$(api PUT /snapshot/create "{\"snapshot_path\":\"$T/snap\",\"mem_file_path\":\"$T/mem\"}" | status_of)" = 204
check "memory file has the RAM size" test "$(stat -c %s "$T/mem")" = $((64 << 20))
check "memory file is sparse" test "$(du -k "$T/mem" | cut -f1)" -lt 8192
check "state file starts with its header" grep -q '^ARCA-VMM-SNAPSHOT 2 ' "$T/snap"
snap_tick=$a
cp "$T/console" "$T/console.at-snap"

check "resume (204)" test "$(api PATCH /vm '{"state":"Resumed"}' | status_of)" = 204
check "ticks again after resume" wait_for "$T/console" "tick $((a + 2))"
check "bad state value refused" test "$(api PATCH /vm '{"state":"Sleeping"}' | status_of)" = 400
check "snapshot/create while running refused" \
  test "$(api PUT /snapshot/create "{\"snapshot_path\":\"$T/x\",\"mem_file_path\":\"$T/y\"}" | status_of)" = 400
out=$(api GET /metrics)
check "metrics count serial output" grep -q '"serial_bytes_out":[1-9]' <<<"$out"
check "SendCtrlAltDel accepted (204)" \
  test "$(api PUT /actions '{"action_type":"SendCtrlAltDel"}' | status_of)" = 204
stop_wait $vmm; rc=$?
check "SIGTERM ends an API-driven VM with status 0" test "$rc" = 0
check "API socket removed on exit" test ! -e "$SOCK"

# Restore from the CLI: the counter continues where the snapshot was taken.
memsum=$(sha256sum <"$T/mem")
timeout -k 10 30 "$VMM" --restore "$T/snap" --mem-file "$T/mem" --serial "file:$T/restored" --metrics 2>"$T/restore.err" &
r=$!; pids+=($r)
check "restored guest runs" wait_for "$T/restored" "tick $((snap_tick + 3))"
first=$(next_tick "$T/console.at-snap" "$T/restored" "$snap_tick")
check "restored guest continues at tick $((snap_tick + 1)) (got $first)" test "$first" = $((snap_tick + 1))
stop_wait $r
check "a running restored guest never writes the memory file (MAP_PRIVATE)" \
  test "$(sha256sum <"$T/mem")" = "$memsum"
# --metrics: where the restore went.  Every phase is there, the phases on
# the restore's path add up to at most its total, which ends before the
# first byte.  KVM_CREATE_VM (kvm_vm_us) runs in a thread beside the state
# read: only what the setup waited for it (kvm_vm_wait_us) is on the path.
restore_metrics () {
  tail -n 1 "$T/restore.err" | python3 -c '
import json, sys
r = json.load(sys.stdin)["restore"]
parts = ("state_us", "kvm_vm_wait_us", "mem_map_us", "kvm_slots_us", "devices_us", "kvm_vcpus_us",
         "kvm_state_us", "state_apply_us")
missing = [k for k in parts + ("kvm_vm_us", "total_us", "ready_us", "ready_to_first_byte_us") if k not in r]
assert not missing, "missing %s" % missing
assert r["total_us"] > 0 and r["kvm_vm_us"] > 0 and r["kvm_state_us"] > 0, r
assert r["kvm_vm_wait_us"] <= r["kvm_vm_us"] < r["total_us"], r
assert sum(r[k] for k in parts) <= r["total_us"] <= r["ready_us"], r
assert r["ready_to_first_byte_us"] > 0, r
print("# restore (us):", json.dumps(r))'
}
check_log "--metrics: restore breakdown present, parts <= total <= ready" "$T/restore.err" restore_metrics
# A version-1 state file (plain hex blobs, no zero runs) still restores.
python3 - "$T/snap" "$T/snap.v1" <<'PY'
import json, re, sys
head, body = open(sys.argv[1], "rb").read().split(b"\n", 1)
body = re.sub(rb'(?<=[0-9a-f"])z([0-9a-f]{4})', lambda m: b"00" * int(m.group(1), 16), body)
h = 0xcbf29ce484222325
for b in body:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
open(sys.argv[2], "wb").write(b"ARCA-VMM-SNAPSHOT 1 %d %016x\n" % (len(body), h) + body)
PY
timeout -k 10 30 "$VMM" --restore "$T/snap.v1" --mem-file "$T/mem" --serial "file:$T/restored-v1" 2>"$T/restore-v1.err" &
r=$!; pids+=($r)
check "version-1 state file (plain hex) restores" wait_next "$T/console.at-snap" "$T/restored-v1" "$snap_tick"
stop_wait $r

# Restore through the API, paused, then resumed.
"$VMM" --api-sock "$SOCK" --serial "file:$T/restored2" 2>"$T/vmm2.err" &
v2=$!; pids+=($v2)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "snapshot/load (204)" \
  test "$(api PUT /snapshot/load "{\"snapshot_path\":\"$T/snap\",\"mem_file_path\":\"$T/mem\"}" | status_of)" = 204
out=$(api GET /)
check "loaded without resume_vm: Paused" grep -q '"state":"Paused"' <<<"$out"
sleep 0.3
check "no output while paused after load" test ! -s "$T/restored2"
check "resume after load (204)" test "$(api PATCH /vm '{"state":"Resumed"}' | status_of)" = 204
check "API-restored guest continues" wait_for "$T/restored2" "tick $((snap_tick + 1))"
# A snapshot of a restored VM (its RAM is a private file mapping now).
api PATCH /vm '{"state":"Paused"}' >/dev/null
again=$(last_tick "$T/restored2")
cp "$T/restored2" "$T/restored2.at-snap"
check "snapshot of a restored VM (204)" \
  test "$(api PUT /snapshot/create "{\"snapshot_path\":\"$T/snap3\",\"mem_file_path\":\"$T/mem3\"}" | status_of)" = 204
stop_wait $v2
timeout -k 10 30 "$VMM" --restore "$T/snap3" --mem-file "$T/mem3" --serial "file:$T/restored3" 2>/dev/null &
r3=$!; pids+=($r3)
check "second-generation restore continues at tick $((again + 1))" wait_next "$T/restored2.at-snap" "$T/restored3" "$again"
check "second-generation memory file is sparse too" test "$(du -k "$T/mem3" | cut -f1)" -lt 8192
stop_wait $r3

# Two vCPUs (the second never started by the guest): its MP state and LAPIC
# go through the snapshot too.
SOCK2=$T/api2.sock
"$VMM" --api-sock "$SOCK2" --kernel "$ELF" --cpus 2 --cmdline "ticks=0 tickdelay=3000" \
  --serial "file:$T/smp" 2>"$T/smp.err" &
v3=$!; pids+=($v3)
wait_for "$T/smp" "tick 2"
SOCK=$SOCK2
api PATCH /vm '{"state":"Paused"}' >/dev/null
smp_tick=$(last_tick "$T/smp")
cp "$T/smp" "$T/smp.at-snap"
check "2 vCPUs: snapshot (204)" \
  test "$(api PUT /snapshot/create "{\"snapshot_path\":\"$T/snap2\",\"mem_file_path\":\"$T/mem2\"}" | status_of)" = 204
stop_wait $v3
timeout -k 10 60 "$VMM" --restore "$T/snap2" --mem-file "$T/mem2" --serial "file:$T/smp-restored" 2>"$T/smp-restored.err" &
r2=$!; pids+=($r2)
if wait_next "$T/smp.at-snap" "$T/smp-restored" "$smp_tick"; then
  ok "2 vCPUs: restored guest continues at tick $((smp_tick + 1))"
else
  not_ok "2 vCPUs: restored guest continues at tick $((smp_tick + 1))" \
    "got: $(next_tick "$T/smp.at-snap" "$T/smp-restored" "$smp_tick")" \
    "restored console: $(tail -c 200 "$T/smp-restored" | tr '\n' ' ')" \
    "restore stderr: $(tail -c 400 "$T/smp-restored.err" | tr '\n' ' ')"
fi
stop_wait $r2

# Balloon: the guest dirties 32 MiB, the host asks for 16 MiB back; the
# guest-memory memfd must shrink by that much, then the guest deflates.
SOCK=$T/api-balloon.sock
"$VMM" --api-sock "$SOCK" --kernel "$ELF" --balloon 0 --cmdline balloon \
  --serial "file:$T/balloon" 2>"$T/balloon.err" &
vb=$!; pids+=($vb)
wait_for "$T/balloon" "balloon touched"
memfd=$(ls -l /proc/$vb/fd | awk '/arca-vm-ram/ {print $9}')
before=$(stat -L -c %b "/proc/$vb/fd/$memfd")
check "PATCH /balloon 16 MiB (204)" test "$(api PATCH /balloon '{"amount_mib":16}' | status_of)" = 204
check "guest inflates to 4096 pages" wait_for "$T/balloon" "balloon actual=4096"
after=$(stat -L -c %b "/proc/$vb/fd/$memfd")
freed_kib=$(( (before - after) / 2 ))
check "host got 16 MiB back (memfd shrank by ${freed_kib} KiB)" test "$freed_kib" -ge 16384
api GET /metrics >"$T/balloon.metrics"
check "metrics: 4096 pages inflated" grep -q '"balloon_inflated_pages":4096' "$T/balloon.metrics"
check "metrics: guest reports 4096 pages" grep -q '"balloon_actual_pages":4096' "$T/balloon.metrics"
check "balloon target beyond RAM refused" test "$(api PATCH /balloon '{"amount_mib":999999}' | status_of)" = 400
check "PATCH /balloon 0 (204)" test "$(api PATCH /balloon '{"amount_mib":0}' | status_of)" = 204
check "guest deflates and finishes" wait_for "$T/balloon" "balloon done"
wait $vb; rc=$?
check "balloon guest exits 0" test "$rc" = 0

# Broken snapshots.
cp "$T/snap" "$T/bad"; printf 'x' | dd of="$T/bad" bs=1 seek=200 conv=notrunc 2>/dev/null
timeout -k 10 10 "$VMM" --restore "$T/bad" --mem-file "$T/mem" 2>"$T/bad.err" >/dev/null; rc=$?
check "corrupted state: refused" test "$rc" = 1
check "corrupted state: checksum mismatch reported" grep -q "checksum mismatch" "$T/bad.err"
sed '1s/^ARCA-VMM-SNAPSHOT [0-9]* /ARCA-VMM-SNAPSHOT 99 /' "$T/snap" >"$T/v99"
timeout -k 10 10 "$VMM" --restore "$T/v99" --mem-file "$T/mem" 2>"$T/v99.err" >/dev/null
check "future version: refused with the version named" grep -q "has version 99" "$T/v99.err"
head -c 100 "$T/snap" >"$T/short"
timeout -k 10 10 "$VMM" --restore "$T/short" --mem-file "$T/mem" 2>"$T/short.err" >/dev/null
check "truncated state: refused" grep -q "truncated" "$T/short.err"
truncate -s 1M "$T/small.mem"
timeout -k 10 10 "$VMM" --restore "$T/snap" --mem-file "$T/small.mem" 2>"$T/small.err" >/dev/null
check "memory file of the wrong size: refused" grep -q "has 1048576 bytes" "$T/small.err"

tap_done
