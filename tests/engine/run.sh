#!/usr/bin/env bash
# Engine (`arca`) tests. Usage: tests/engine/run.sh BUILD_DIR WORK_DIR; prints TAP.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR WORK_DIR}" && pwd)
mkdir -p "${2:?usage: $0 BUILD_DIR WORK_DIR}"
work=$(cd "$2" && pwd)
export ARCA="$build/src/cli/engine/arca"
export ARCA_ET_WORK="$work/engine-tests"
mkdir -p "$ARCA_ET_WORK"
exec bats --tap "$here"/*.bats </dev/null
