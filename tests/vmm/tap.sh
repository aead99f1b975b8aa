# SPDX-License-Identifier: LGPL-2.1-or-later
# Minimal TAP helpers for the arca-vmm shell tests (sourced).
tap_n=0
tap_failed=0
ok () { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok () { tap_n=$((tap_n + 1)); tap_failed=1; echo "not ok $tap_n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip_all () { echo "1..0 # SKIP $1"; exit 0; }
# check NAME COMMAND...: passes when COMMAND succeeds.
check () { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi; }
# check_log NAME FILE COMMAND...: like check, and on failure prints FILE
# (the process's stderr says why it failed).
check_log () {
  local name=$1 file=$2; shift 2
  if "$@"; then ok "$name"; return; fi
  local lines=()
  while IFS= read -r l; do lines+=("$file: $l"); done < <(tail -n 20 "$file" 2>/dev/null)
  not_ok "$name" "failed: $*" "${lines[@]}"
}
tap_done () { echo "1..$tap_n"; exit $tap_failed; }
# stop_wait PID: SIGTERM, then up to 30 s for it to go, then SIGKILL, so a VMM
# that hangs in its teardown fails its check instead of stalling the suite.
stop_wait () {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && { echo "# pid $1 ignored SIGTERM for 30 s: killed" >&2; kill -KILL "$1" 2>/dev/null; }
  wait "$1"
}
