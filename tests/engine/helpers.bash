# Shared by the engine tests: one store per test file (the busybox image is built once),
# containers removed after each test, and leaks (mounts, cgroups, runtime state) fail the test.
bats_require_minimum_version 1.5.0

: "${ARCA:?run through tests/engine/run.sh}"

setup_file() {
  export ET_DIR=$(mktemp -d "$ARCA_ET_WORK/f.XXXXXX")
  export ET_ROOT=$ET_DIR/root ET_RUN=$ET_DIR/run
}

teardown_file() {
  # Nothing may stay mounted under the store once its containers are gone.
  if grep -q " $ET_DIR/" /proc/self/mountinfo; then
    echo "leaked mounts:" >&2
    grep " $ET_DIR/" /proc/self/mountinfo >&2
    return 1
  fi
  rm -rf "$ET_DIR"
}

arca() { timeout -k 5 60 "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" "$@"; }

teardown() {
  local ids id leaks=()
  ids=$(arca ps -a -q --no-trunc 2>/dev/null || true)
  for id in $ids; do
    arca rm -f "$id" >/dev/null 2>&1 || leaks+=("container $id could not be removed")
  done
  for id in $ids; do
    for h in /sys/fs/cgroup/*/arca/$id; do
      [ -d "$h" ] && leaks+=("cgroup $h")
    done
    [ -d "$ET_RUN/runtime/$id" ] && leaks+=("runtime state $id")
  done
  if [ "${#leaks[@]}" -gt 0 ]; then
    printf 'leak: %s\n' "${leaks[@]}" >&2
    return 1
  fi
}

# Waits until `arca ps` shows the container's status starting with $2.
wait_status() {
  local i s
  for i in $(seq 1 100); do
    s=$(arca ps -a --format json | jq -r --arg n "$1" '.[] | select(.Names == $n) | .Status')
    [[ "$s" == "$2"* ]] && return 0
    sleep 0.05
  done
  echo "container $1: status '$s', expected '$2'" >&2
  return 1
}
