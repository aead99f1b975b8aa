# Shared settings for the client tests (podman, containerd) driving the runtime under test.
bats_require_minimum_version 1.5.0

: "${RUNTIME:?RUNTIME must be set (see tests/clients/run.sh)}"
: "${ARCA_CT_WORK:?run through tests/clients/run.sh}"
: "${ARCA_CT_ROOTFS:=$ARCA_CT_WORK/busybox/rootfs}"

assert_success() {
  if [ "$status" -ne 0 ]; then
    echo "expected success, status $status; output: $output" >&2
    return 1
  fi
}

assert_eq() {
  if [ "$1" != "$2" ]; then
    echo "${3:-value}: got '$1', want '$2'" >&2
    return 1
  fi
}

assert_match() {
  if ! [[ $1 =~ $2 ]]; then
    echo "${3:-text} does not match /$2/: '$1'" >&2
    return 1
  fi
}

# retry N CMD...: runs CMD up to N times, 0.1 s apart, until it succeeds
retry() {
  local n=$1 i
  shift
  for i in $(seq 1 "$n"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
