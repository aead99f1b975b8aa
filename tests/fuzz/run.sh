#!/bin/bash
# Runs the libFuzzer targets of a -Dfuzz=true build for SECONDS each.
# Exits non-zero when a target crashes, trips a sanitizer or leaks; the
# input that did it is kept in BUILD_DIR/fuzz-artifacts/.
#   usage: tests/fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

status=0
for name in config agent-config agent-input containerfile specs template; do
  fuzzer="$build/tests/fuzz/fuzz-$name"
  if [ ! -x "$fuzzer" ]; then
    echo "run.sh: $fuzzer is not built (meson setup -Dfuzz=true with CC=clang)" >&2
    exit 2
  fi
  # New inputs go to a scratch copy: the seed corpus in git stays small.
  work=$(mktemp -d)
  cp "$here/corpus/$name"/* "$work"/
  dict=()
  [ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
  echo "fuzz-$name: ${seconds}s"
  if ! "$fuzzer" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
      "$work" 2>"$build/fuzz-$name.log"; then
    tail -n 60 "$build/fuzz-$name.log" >&2
    echo "fuzz-$name: FAILED, reproducer in $artifacts/" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/fuzz-$name.log" || true
    echo "fuzz-$name: ok"
  fi
  rm -rf "$work"
done
exit $status
