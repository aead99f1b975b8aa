# Shared setup/teardown and helpers for the runtime integration tests.
# Written against runc's command line; RUNTIME is the binary under test (absolute path).
# Each test gets its own bundle (a copy of the busybox rootfs), its own --root state dir and
# unique container ids; teardown force-deletes everything and fails the test if anything leaked
# (state dir, process, mount, cgroup).

bats_require_minimum_version 1.5.0

: "${RUNTIME:?RUNTIME must be set (see tests/integration/run.sh)}"
: "${ARCA_IT_WORK:?run through tests/integration/run.sh}"
: "${ARCA_IT_ROOTFS:=$ARCA_IT_WORK/busybox/rootfs}"
RT_TIMEOUT=${RT_TIMEOUT:-30}

# ---------------------------------------------------------------------------------------------
# setup / teardown

# Creates TEST_DIR, BUNDLE (rootfs + config.json), ROOT (state dir) and CID.
setup_bundle() {
  mkdir -p "$ARCA_IT_WORK/tmp"
  TEST_DIR=$(mktemp -d "$ARCA_IT_WORK/tmp/t.XXXXXX")
  BUNDLE=$TEST_DIR/bundle
  ROOT=$TEST_DIR/state
  ROOTFS=$BUNDLE/rootfs
  mkdir -p "$BUNDLE" "$ROOT"
  cp -a "$ARCA_IT_ROOTFS" "$ROOTFS"
  # marker used by the teardown to find processes still running inside this rootfs
  MARKER=.ait-marker-${TEST_DIR##*.}
  : >"$ROOTFS/$MARKER"
  (cd "$BUNDLE" && "$RUNTIME" spec) || return 1
  [ -s "$BUNDLE/config.json" ] || { echo "'$RUNTIME spec' wrote no config.json" >&2; return 1; }
  update_config '.process.terminal = false
    | .root.readonly = false
    | .process.args = ["/bin/true"]'
  : >"$TEST_DIR/ids"
  CID=$(new_id)
  host_mounts >"$TEST_DIR/mounts.before"
}

# A fresh container id, remembered for the teardown's leak checks.
new_id() {
  local id
  id="ait${BATS_SUITE_TEST_NUMBER:-0}x$RANDOM$RANDOM"
  echo "$id" >>"$TEST_DIR/ids"
  echo "$id"
}

# Force-deletes every container of the test and fails if anything is left behind.
teardown_bundle() {
  [ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ] || return 0
  local errs=() id ids pid i

  ids=$(cat "$TEST_DIR/ids" 2>/dev/null)
  ids+=$'\n'$(rt list -q 2>/dev/null)
  ids+=$'\n'$(cd "$ROOT" 2>/dev/null && ls -A)
  ids=$(echo "$ids" | grep -v '^$' | sort -u)
  for id in $ids; do
    rt_state "$id" >/dev/null 2>&1 || continue
    # a paused container cannot always be killed: resume first
    rt resume "$id" >/dev/null 2>&1 || true
    rt delete --force "$id" >/dev/null 2>&1 || errs+=("delete --force $id failed")
  done

  # processes: anything still running inside this test's rootfs (found via the marker file,
  # seen through /proc/PID/root) or inside a cgroup named after one of the ids
  local leaked=""
  for i in $(seq 1 40); do
    leaked=$(leaked_pids "$ids")
    [ -z "$leaked" ] && break
    sleep 0.05
  done
  if [ -n "$leaked" ]; then
    errs+=("processes left: $(for pid in $leaked; do echo -n "$pid($(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)) "; done)")
    for pid in $leaked; do kill -9 "$pid" 2>/dev/null; done
  fi

  # state: the root dir must be empty again
  if [ -d "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2>/dev/null)" ]; then
    errs+=("state left in --root: $(ls -A "$ROOT" | tr '\n' ' ')")
  fi
  # mounts on the host under the test dir
  local mnts
  mnts=$(awk -v d="$TEST_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
  if [ -n "$mnts" ]; then
    errs+=("host mounts left: $(echo $mnts)")
    echo "$mnts" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  fi
  # cgroups named after the ids
  local cg
  for id in $ids; do
    cg=$(find_cgroup_dirs "$id")
    if [ -n "$cg" ]; then
      errs+=("cgroups left: $(echo $cg)")
      echo "$cg" | sort -r | while read -r d; do rmdir "$d" 2>/dev/null; done
    fi
  done

  [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$TEST_DIR"
  if [ ${#errs[@]} -gt 0 ]; then
    printf 'LEAK: %s\n' "${errs[@]}" >&2
    return 1
  fi
}

# Walks every process of the host in a separate bash: inside bats every command pays for its
# DEBUG trap, which made this loop cost seconds per test. Builtins only, for the same reason.
leaked_pids() {
  bash -c "$(declare -f _leaked_pids); _leaked_pids \"\$@\" 2>/dev/null" _ "$1" "$MARKER" "$$"
}

_leaked_pids() {
  local ids=$1 MARKER=$2 self=$3 p pid id line
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = "$self" ] && continue
    # a process whose root holds the marker lives in this test's rootfs
    if [ -e "$p/root/$MARKER" ]; then
      echo "$pid"
      continue
    fi
    while read -r line; do
      for id in $ids; do
        if [[ $line == */"$id" ]]; then
          echo "$pid"
          break 2
        fi
      done
    done <"$p/cgroup" 2>/dev/null
  done
}

find_cgroup_dirs() {
  find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d -name "$1" 2>/dev/null
}

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# ---------------------------------------------------------------------------------------------
# runtime wrappers

# rt ARGS...: the runtime with this test's --root, bounded in time
rt() {
  timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@"
}

rt_state() { rt state "$1"; }

# state_status ID: prints the status field of `state`
state_status() { rt state "$1" | jq -r .status; }
state_pid() { rt state "$1" | jq -r .pid; }

# update_config JQ_EXPR [jq args...]: edits the bundle's config.json in place
update_config() {
  local expr=$1
  shift
  jq "$expr" "$BUNDLE/config.json" "$@" >"$BUNDLE/config.json.new" &&
    mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# set_cmd 'shell script': the container runs sh -c SCRIPT
set_cmd() { update_config '.process.args = ["/bin/sh", "-c", $s]' --arg s "$1"; }
# (each arg goes through --arg: with --args, jq would take "-c" for its own option)
set_args() {
  local a json=()
  for a in "$@"; do json+=("$(jq -n --arg a "$a" '$a')"); done
  update_config '.process.args = $a' --argjson a "[$(IFS=,; echo "${json[*]}")]"
}

# run_container [ID] [extra run args]: foreground `run`, sets $status/$output (bats run),
# stderr kept separately in $stderr
run_container() {
  local id=${1:-$CID}
  shift || true
  run --separate-stderr rt run --bundle "$BUNDLE" "$@" "$id" </dev/null
}

# create_container [ID] [extra create args]: create, fails the test if create fails
create_container() {
  local id=${1:-$CID}
  shift || true
  rt create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_DIR/create.out" 2>&1 || {
    echo "create $id failed:" >&2
    cat "$TEST_DIR/create.out" >&2
    return 1
  }
}

# start_sleeper [ID]: create + start a container running a long sleep; waits for "running"
start_sleeper() {
  local id=${1:-$CID}
  set_args /bin/sleep 1000
  create_container "$id"
  rt start "$id"
  wait_status "$id" running
}

# wait_status ID STATUS: polls `state` for up to ~5 s
wait_status() {
  local i s
  for i in $(seq 1 100); do
    s=$(state_status "$1" 2>/dev/null) || s=""
    [ "$s" = "$2" ] && return 0
    sleep 0.05
  done
  echo "container $1: status '$s', expected '$2'" >&2
  return 1
}

# run_detached [ID] [extra run args]: `run --detach`; the container's stdio goes to
# $TEST_DIR/out.ID (a detached container would otherwise hold bats' output pipe open forever)
run_detached() {
  local id=${1:-$CID}
  shift || true
  rt run --detach --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_DIR/out.$id" 2>&1 || {
    echo "run --detach $id failed:" >&2
    cat "$TEST_DIR/out.$id" >&2
    return 1
  }
}

# in_container 'shell script': runs the script as the container's process in the foreground
# and leaves its stdout in $output (bats run); fails the test if the container fails
in_container() {
  set_cmd "$1"
  run_container
  if [ "$status" -ne 0 ]; then
    echo "container failed with status $status; stdout: $output; stderr: $stderr" >&2
    return 1
  fi
}

# host_mounts: the host's mount table without the per-mount ids that change with every mount
host_mounts() { awk '{ $1 = ""; $2 = ""; print }' /proc/self/mountinfo | sort; }

# assert_no_leftovers ID: after a failed create/run, nothing of ID may remain: no state in
# --root, no cgroup directory, no process, no new host mount that names the test's work dir,
# the id or the runtime. Checked before the teardown, whose delete --force would hide leaks.
assert_no_leftovers() {
  local id=$1 errs=() i leaked cg newm
  if [ -n "$(ls -A "$ROOT" 2>/dev/null)" ]; then
    errs+=("state left in --root: $(ls -A "$ROOT" | tr '\n' ' ')")
  fi
  for i in $(seq 1 20); do
    leaked=$(leaked_pids "$id")
    [ -z "$leaked" ] && break
    sleep 0.05
  done
  [ -z "$leaked" ] || errs+=("processes left: $leaked")
  cg=$(find_cgroup_dirs "$id")
  [ -z "$cg" ] || errs+=("cgroups left: $(echo $cg)")
  newm=$(comm -13 "$TEST_DIR/mounts.before" <(host_mounts) |
    grep -F -e "$ARCA_IT_WORK" -e "$id" -e "$(runtime_name)" || true)
  [ -z "$newm" ] || errs+=("host mounts left: $newm")
  if [ ${#errs[@]} -gt 0 ]; then
    printf 'LEFTOVER: %s\n' "${errs[@]}" >&2
    return 1
  fi
}

# stderr_lines: number of non-empty lines in $stderr
stderr_lines() { grep -c . <<<"${stderr:-}" || true; }

# one_line_error REGEX: $stderr is exactly one non-empty line that matches REGEX
assert_one_line_error() {
  local n
  n=$(stderr_lines)
  if [ "$n" -ne 1 ]; then
    echo "expected a one-line error, got $n lines: ${stderr:-}" >&2
    return 1
  fi
  assert_match "$stderr" "$1" "stderr"
}

# rt_capture ARGS...: like `run --separate-stderr rt ARGS...` but through files: a container
# that `create` or `run` leaves behind would hold bats' pipes open and hang the test.
# Sets status, output, stderr and lines.
rt_capture() {
  status=0
  rt "$@" </dev/null >"$TEST_DIR/capture.out" 2>"$TEST_DIR/capture.err" || status=$?
  output=$(cat "$TEST_DIR/capture.out")
  stderr=$(cat "$TEST_DIR/capture.err")
  mapfile -t lines <<<"$output"
}

# fds_after_marker: the fd numbers listed after a "FDS" line of $output, sorted, on one line.
# (Containers list fds with a plain `ls /proc/PID/fd` to stdout: a pipe or a redirection
# would make the shell hold extra fds of its own while ls runs.)
fds_after_marker() { sed -n '/^FDS$/,$p' <<<"$output" | tail -n +2 | sort -n | tr '\n' ' '; }

# runc_gap REASON: skips the test under runc, for behaviour where runc itself falls short of
# what arca promises (documented in REASON); every other runtime must pass
runc_gap() {
  if is_runc; then skip "runc: $1"; fi
}

# rt_exec ID ARGS...: exec in a running container, bounded in time
rt_exec() {
  local id=$1
  shift
  rt exec "$id" "$@" </dev/null
}

# ---------------------------------------------------------------------------------------------
# assertions (print what was seen on failure)

assert_success() {
  if [ "$status" -ne 0 ]; then
    echo "expected success, status $status; output: $output; stderr: ${stderr:-}" >&2
    return 1
  fi
}

assert_failure() {
  local want=${1:-}
  if [ "$status" -eq 0 ]; then
    echo "expected failure, got success; output: $output" >&2
    return 1
  fi
  if [ -n "$want" ] && [ "$status" -ne "$want" ]; then
    echo "expected status $want, got $status; output: $output; stderr: ${stderr:-}" >&2
    return 1
  fi
}

# assert_eq GOT WANT [what]
assert_eq() {
  if [ "$1" != "$2" ]; then
    echo "${3:-value}: got '$1', want '$2'" >&2
    return 1
  fi
}

# assert_match TEXT REGEX [what]
assert_match() {
  if ! [[ $1 =~ $2 ]]; then
    echo "${3:-text} does not match /$2/: '$1'" >&2
    return 1
  fi
}

assert_output_has() {
  if [[ $output != *"$1"* ]]; then
    echo "output does not contain '$1': $output" >&2
    return 1
  fi
}

# cgroup helpers (cgroup v1 and v2)
is_cgroup_v2() { [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; }

# cgroup_file PID CONTROLLER FILE: host path of FILE in the v1 CONTROLLER hierarchy of PID
# (or the v2 unified dir when the host is pure v2)
cgroup_file() {
  local pid=$1 ctrl=$2 file=$3 path
  if is_cgroup_v2; then
    path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
    echo "/sys/fs/cgroup$path/$file"
    return
  fi
  path=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
  echo "/sys/fs/cgroup/$ctrl$path/$file"
}

requires() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
  done
}

# runtime_name: basename of the runtime (runc, crun, arca-runtime)
runtime_name() { basename "$RUNTIME"; }
is_runc() { [ "$(runtime_name)" = runc ]; }
