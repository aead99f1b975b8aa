# SPDX-License-Identifier: LGPL-2.1-or-later
# Minimal TAP helpers for the arca-vmm shell tests (sourced).
tap_n=0
tap_failed=0
ok () { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok () { tap_n=$((tap_n + 1)); tap_failed=1; echo "not ok $tap_n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip_all () { echo "1..0 # SKIP $1"; exit 0; }
# check NAME COMMAND...: passes when COMMAND succeeds.
check () { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi; }
tap_done () { echo "1..$tap_n"; exit $tap_failed; }
