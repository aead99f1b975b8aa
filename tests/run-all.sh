#!/usr/bin/env bash
# Runs every test suite of the project and prints, last, "N passed, N failed".
# Usage: tests/run-all.sh BUILD_DIR WORK_DIR
#   unit (cmocka, each test case counted), unit under ASan/UBSan, integration (bats),
#   engine (bats), real clients (podman, containerd), the VMM suite when present, and a short
#   fuzz run.
# ARCA_SUITES (space-separated) limits what runs, e.g. ARCA_SUITES="unit integration".
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR WORK_DIR}
work=${2:?usage: $0 BUILD_DIR WORK_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
suites=${ARCA_SUITES:-"unit asan integration engine clients vmm vm-linux fuzz"}
mkdir -p "$work/logs"
build=$(cd "$build" && pwd)
work=$(cd "$work" && pwd)

passed=0
failed=0
failures=()

# Counts a TAP stream: "ok" (skips included, they are reported) and "not ok".
count_tap() {
  local suite=$1 file=$2 line
  while IFS= read -r line; do
    case $line in
      "not ok "*) failed=$((failed + 1)); failures+=("$suite: ${line#not ok }") ;;
      "ok "*) passed=$((passed + 1)) ;;
    esac
  done <"$file"
}

# A whole step that is one test (a build, a fuzz run).
count_step() {
  local suite=$1 status=$2
  if [ "$status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$suite"); fi
}

want() { [[ " $suites " == *" $1 "* ]]; }

# cmocka prints TAP when asked; each executable is one registered meson test.
run_unit_dir() {
  local suite=$1 dir=$2 log=$work/logs/$1.tap name exe
  : >"$log"
  while IFS=$'\t' read -r name exe; do
    echo "# $name" >>"$log"
    local out
    out=$(cd "$root" && CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$exe" 2>&1)
    local status=$?
    echo "$out" >>"$log"
    if [ $status -ne 0 ] && ! grep -q "^not ok" <<<"$out"; then
      echo "not ok - $name exited with status $status" >>"$log"
    fi
  done < <(meson introspect --tests "$dir" | jq -r '.[] | select(any(.suite[]; endswith(":unit"))) | [.name, (.cmd | join(" "))] | @tsv')
  grep -E "^(ok|not ok)" "$log" | sed 's/^/  /' | grep "not ok" || true
  count_tap "$suite" "$log"
}

if want unit; then
  echo "== unit tests"
  run_unit_dir unit "$build"
fi

if want asan; then
  echo "== unit tests under ASan/UBSan"
  asan=$build-asan
  if [ ! -f "$asan/build.ninja" ]; then
    meson setup "$asan" "$root" -Db_sanitize=address,undefined -Db_lundef=false \
      >"$work/logs/asan-setup.log" 2>&1
  fi
  if ninja -C "$asan" >"$work/logs/asan-build.log" 2>&1; then
    count_step asan-build 0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_unit_dir asan "$asan"
  else
    tail -20 "$work/logs/asan-build.log"
    count_step asan-build 1
  fi
fi

if want integration; then
  echo "== integration tests (bats)"
  bash "$root/tests/integration/run.sh" "$build" "$work" >"$work/logs/integration.tap" 2>&1
  grep -E "^not ok" "$work/logs/integration.tap" | sed 's/^/  /'
  count_tap integration "$work/logs/integration.tap"
fi

if want engine; then
  echo "== engine tests (arca)"
  bash "$root/tests/engine/run.sh" "$build" "$work" >"$work/logs/engine.tap" 2>&1
  grep -E "^not ok" "$work/logs/engine.tap" | sed 's/^/  /'
  count_tap engine "$work/logs/engine.tap"
fi

if want clients && [ -f "$root/tests/clients/run.sh" ]; then
  echo "== real clients (podman, containerd)"
  bash "$root/tests/clients/run.sh" "$build" "$work" >"$work/logs/clients.tap" 2>&1
  grep -E "^not ok" "$work/logs/clients.tap" | sed 's/^/  /'
  count_tap clients "$work/logs/clients.tap"
fi

if want vmm && [ -f "$root/tests/vmm/run.sh" ]; then
  if [ -e /dev/kvm ]; then
    echo "== arca-vmm tests"
    bash "$root/tests/vmm/run.sh" "$build" "$work" >"$work/logs/vmm.tap" 2>&1
  elif [ "$(id -u)" != 0 ] || ! command -v qemu-system-x86_64 >/dev/null; then
    echo "== arca-vmm tests: skipped (no /dev/kvm, and nesting needs root and qemu-system-x86_64)"
    : >"$work/logs/vmm.tap"
  else
    # No KVM here: the same suite inside QEMU TCG with an emulated SVM CPU
    # (nested KVM); kvm-host.sh's own errors (timeout, no VM) count as one
    # failed step on top of the TAP.  Loopback is down in that VM until
    # brought up (the tcp: migration tests use 127.0.0.1).
    echo "== arca-vmm tests (no /dev/kvm: nested, in QEMU TCG with SVM via tests/vm-linux/kvm-host.sh)"
    KVH_TIMEOUT=${ARCA_VMM_NESTED_TIMEOUT:-1800} bash "$root/tests/vm-linux/kvm-host.sh" "$work/vmm-nested" \
      sh -c 'ip link set lo up; ARCA_VMM_NESTED=1 exec bash "$@"' sh "$root/tests/vmm/run.sh" "$build" "$work/vmm-nested/vmm" \
      >"$work/logs/vmm.tap" 2>&1
    rc=$?
    [ "$rc" -eq 124 ] || [ "$rc" -eq 125 ] && count_step "vmm (kvm-host.sh exit $rc)" 1
  fi
  grep -E "^not ok" "$work/logs/vmm.tap" | sed 's/^/  /'
  count_tap vmm "$work/logs/vmm.tap"
fi

# Real Linux under arca-vmm with real (emulated) SVM, inside QEMU TCG: make check-vm-linux.
if want vm-linux && [ -f "$root/tests/vm-linux/run.sh" ]; then
  echo "== real Linux guests under arca-vmm (nested, QEMU TCG with SVM)"
  (cd "$root" && make --no-print-directory check-vm-linux BUILD="$build" WORK="$work") \
    >"$work/logs/vm-linux.tap" 2>&1
  grep -E "^not ok" "$work/logs/vm-linux.tap" | sed 's/^/  /'
  count_tap vm-linux "$work/logs/vm-linux.tap"
fi

if want fuzz && [ -f "$root/tests/fuzz/run.sh" ]; then
  echo "== fuzzing (short run)"
  fuzz=$build-fuzz
  if [ ! -f "$fuzz/build.ninja" ]; then
    CC=clang meson setup "$fuzz" "$root" -Dfuzz=true -Db_sanitize=address,undefined \
      -Db_lundef=false >"$work/logs/fuzz-setup.log" 2>&1
  fi
  if ninja -C "$fuzz" >"$work/logs/fuzz-build.log" 2>&1; then
    bash "$root/tests/fuzz/run.sh" "$fuzz" "${ARCA_FUZZ_SECONDS:-20}" >"$work/logs/fuzz.log" 2>&1
    count_step "fuzz (config, agent-config, containerfile)" $?
    # The other parsers of untrusted input: layer tarballs, image manifests, virtqueues,
    # the VMM's HTTP API.  Each runs from an empty corpus for a short while.
    while IFS= read -r target; do
      name=$(basename "$target")
      # Those with a seed corpus in tests/fuzz ran in run.sh above.
      [ -d "$root/tests/fuzz/corpus/${name#fuzz-}" ] && continue
      corpus=$(mktemp -d)
      "$target" -max_total_time="${ARCA_FUZZ_SECONDS:-20}" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$fuzz/fuzz-artifacts/$name-" "$corpus" \
        >"$work/logs/$name.log" 2>&1
      status=$?
      [ $status -ne 0 ] && tail -20 "$work/logs/$name.log"
      count_step "$name" $status
      rm -rf "$corpus"
    done < <(find "$fuzz" -type f -name 'fuzz-*' -executable | sort)
  else
    tail -20 "$work/logs/fuzz-build.log"
    count_step fuzz-build 1
  fi
fi

# What each failing TAP test printed (bats' "# " lines, a test program's
# output), so a CI log that keeps only the end still says why.
failure_details() {
  local log
  for log in "$work"/logs/*.tap; do
    [ -f "$log" ] || continue
    awk -v suite="$(basename "$log" .tap)" '
      /^not ok / { show = 1; shown = 0; print "-- " suite ": " $0; next }
      /^ok / { show = 0; next }
      show && shown < 25 { print "   " $0; shown++ }
    ' "$log"
  done
}

if ((${#failures[@]})); then
  echo "== failure details"
  failure_details | head -150
  echo "== failures"
  printf '  %s\n' "${failures[@]}"
fi
echo "logs: $work/logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
