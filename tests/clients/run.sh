#!/usr/bin/env bash
# Client tests: podman 4.3 (--runtime) and a private containerd (ctr --runc-binary) driving
# an OCI runtime with runc's command line.
#
# Usage: tests/clients/run.sh BUILD_DIR WORK_DIR [RUNTIME]
#   RUNTIME defaults to BUILD_DIR/src/cli/runtime/arca-runtime (also taken from $RUNTIME)
#   FILTER=podman,containerd   only these .bats files
# Prints TAP; exits non-zero if any test failed.
# Validated against runc 1.1.5: bash tests/clients/run.sh build _work "$(command -v runc)"
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:?usage: $0 BUILD_DIR WORK_DIR [RUNTIME]}
work=${2:?usage: $0 BUILD_DIR WORK_DIR [RUNTIME]}
mkdir -p "$work"
work=$(cd "$work" && pwd)
RUNTIME=${3:-${RUNTIME:-$build/src/cli/runtime/arca-runtime}}
case $RUNTIME in
  /*) ;;
  */*) RUNTIME=$(cd "$(dirname "$RUNTIME")" && pwd)/$(basename "$RUNTIME") ;;
  *) RUNTIME=$(command -v "$RUNTIME") ;;
esac
[ -x "$RUNTIME" ] || { echo "clients/run.sh: runtime not found: $RUNTIME" >&2; exit 1; }
for t in bats jq; do
  command -v "$t" >/dev/null || { echo "clients/run.sh: $t is not installed" >&2; exit 1; }
done

rootfs=$work/busybox/rootfs
[ -x "$rootfs/bin/busybox" ] || bash "$repo/scripts/make-busybox-rootfs.sh" "$rootfs" >&2

files=()
if [ -n "${FILTER:-}" ]; then
  for f in ${FILTER//,/ }; do files+=("$here/${f%.bats}.bats"); done
else
  files=("$here"/*.bats)
fi

export RUNTIME ARCA_CT_WORK=$work ARCA_CT_ROOTFS=$rootfs
export BATS_TEST_TIMEOUT=${TEST_TIMEOUT:-120}
echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -1))"
status=0
timeout -k 10 "${SUITE_TIMEOUT:-900}" bats --tap "${files[@]}" </dev/null | tee "$work/clients.tap" || status=$?
# (a runtime that leaves a process holding bats' output pipe would otherwise hang the suite)
[ "$status" -ne 124 ] || echo "# suite timed out after ${SUITE_TIMEOUT:-900} s"
pass=$(grep -c '^ok ' "$work/clients.tap" || true)
skip=$(grep -c '^ok .* # skip' "$work/clients.tap" || true)
fail=$(grep -c '^not ok ' "$work/clients.tap" || true)
echo "# $((pass - skip)) passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$status" -eq 0 ]
