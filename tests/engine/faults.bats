#!/usr/bin/env bats
# Faults: a full disk under `load` and `build`, `kill -9` of `run` and `build` at random points.
#
# After a fault the store is "consistent" when, once `arca system check --repair` ran and every
# container `arca ps -a` lists was removed with `arca rm -f` (which must succeed for each):
#   - `arca system check` reports 0 problems and 0 orphans (no layer dir without a row, no row
#     without its dir, no unreferenced blob, no temp of a dead writer, no container dir or row
#     without the other);
#   - nothing is mounted under the store, no runtime state dir is left;
#   - no cgroup /sys/fs/cgroup/*/arca/<id> exists for any id the store ever showed (ps, its
#     containers/ or runtime/ directories, recorded right after the fault);
#   - the store still works (a container runs).
load helpers

# The shared teardown, kept under another name: ours adds the small store.
eval "helpers_$(declare -f teardown)"

SMALL_FS=

teardown() {
  local status=0
  if [ -n "$SMALL_FS" ] && mountpoint -q "$SMALL_FS"; then
    for id in $(sarca ps -a -q --no-trunc 2>/dev/null); do
      sarca rm -f "$id" >/dev/null 2>&1 || true
    done
    umount "$SMALL_FS" || umount -l "$SMALL_FS" || status=1
  fi
  helpers_teardown || status=1
  return $status
}

# A store on a tmpfs of $1 (e.g. 16M) that the test makes; unmounted in teardown.
small_store() {
  SMALL_FS=$ET_DIR/small
  mkdir -p "$SMALL_FS"
  mount -t tmpfs -o "size=$1" arca-faults "$SMALL_FS"
}

sarca() { timeout -k 5 120 "$ARCA" --root "$SMALL_FS/root" --run-root "$SMALL_FS/run" "$@"; }

ctx() {
  CTX=$(mktemp -d "$ET_DIR/ctx.XXXXXX")
}

# Ids the store shows now, appended to $ET_DIR/ids.
record_ids() {
  {
    arca ps -a -q --no-trunc 2>/dev/null || true
    ls -1 "$ET_ROOT/containers" 2>/dev/null || true
    ls -1 "$ET_RUN/runtime" 2>/dev/null || true
  } >>"$ET_DIR/ids"
}

random_ms() { # 0.000 .. ($1-1)/1000 seconds
  printf '0.%03d' $((RANDOM % $1))
}

assert_consistent() {
  local id
  record_ids
  run arca system check --repair
  echo "$output"
  [ "$status" -eq 0 ]
  for id in $(arca ps -a -q --no-trunc); do
    arca rm -f "$id" >/dev/null
  done
  [ -z "$(arca ps -a -q)" ]
  run arca system check
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
  ! grep " $ET_ROOT/" /proc/self/mountinfo
  [ -z "$(ls -A "$ET_RUN/runtime" 2>/dev/null)" ]
  [ -z "$(ls -A "$ET_ROOT/containers")" ]
  [ -z "$(ls -A "$ET_ROOT/tmp")" ]
  for id in $(sort -u "$ET_DIR/ids"); do
    ! ls -d /sys/fs/cgroup/*/arca/"$id" 2>/dev/null
  done
  run arca run --rm busybox echo still-works
  echo "after repair, run --rm printed: $output"
  [ "$output" = still-works ]
}

@test "a store whose file system is completely full still lists; writes fail clearly; room again: they work" {
  small_store 32M
  arca save -o "$ET_DIR/bb.tar" busybox
  sarca load -i "$ET_DIR/bb.tar" >/dev/null
  sarca create --name idle busybox true >/dev/null
  # Fill every last block (the -shm index SQLite sizes on first access included).
  dd if=/dev/zero of="$SMALL_FS/fill" bs=64k 2>/dev/null || true
  [ "$(df --output=avail "$SMALL_FS" | tail -1 | tr -d ' ')" -eq 0 ]
  run --separate-stderr sarca images
  echo "$stderr"
  [ "$status" -eq 0 ]
  [[ "$output" == *busybox* ]]
  run sarca ps -a
  [ "$status" -eq 0 ]
  [[ "$output" == *idle* ]]
  run sarca inspect idle
  [ "$status" -eq 0 ]
  # A write cannot grow the log: a clear error, and the row is still there.
  run --separate-stderr sarca rm idle
  echo "$stderr"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *"file system is full"* ]]
  [[ "$(sarca ps -a)" == *idle* ]]
  rm -f "$SMALL_FS/fill"
  sarca rm idle >/dev/null
  [ -z "$(sarca ps -a -q)" ]
  run sarca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
}

@test "a full disk during load: a clear error, nothing half there, the same load works once there is room" {
  # An image larger than the small store: busybox and 12 MB that do not compress.
  ctx
  printf 'FROM busybox\nRUN head -c 12000000 /dev/urandom > /big\n' >"$CTX/Containerfile"
  arca build -q -t big:1 "$CTX" >/dev/null
  arca save -o "$ET_DIR/big.tar" big:1
  small_store 16M
  run --separate-stderr sarca load -i "$ET_DIR/big.tar"
  echo "$stderr"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"No space left on device"* ]]
  # It names what it was writing: the layer and the file in it.
  [[ "$stderr" == *"unpack layer"*"\`big\`"* ]]
  [ -z "$(sarca images -a -q)" ]
  run sarca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
  [ -z "$(find "$SMALL_FS/root/tmp" "$SMALL_FS/root/layers" -mindepth 1)" ]
  [ -z "$(find "$SMALL_FS/root" -name '.tmp-*')" ]
  # An even smaller store fails earlier, while writing the blob: the same holds.
  umount "$SMALL_FS"
  small_store 4M
  run --separate-stderr sarca load -i "$ET_DIR/big.tar"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"write blob"*"No space left on device"* ]]
  # Named by the archive member being written, not by a temp file's name.
  [[ "$stderr" == *"archive member"* ]]
  [[ "$stderr" != *".tmp-"* ]]
  [ -z "$(sarca images -a -q)" ]
  [ -z "$(find "$SMALL_FS/root" -name '.tmp-*')" ]
  # Room again: the same archive loads and runs.
  mount -o remount,size=64M "$SMALL_FS"
  run --separate-stderr sarca load -i "$ET_DIR/big.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: localhost/big:1"* ]]
  run sarca run --rm big:1 sh -c 'wc -c < /big'
  [ "$output" = 12000000 ]
  run sarca system check
  [ "$status" -eq 0 ]
}

@test "a full disk during build: RUN and its commit fail clearly and leave no container, mount or cgroup" {
  small_store 20M
  sarca run --rm busybox true # the busybox image, built on first use
  [ -n "$(sarca images -q)" ]
  # Which containers ran: the runtime dirs, sampled while the builds go on.
  # (A sample can miss a short step on a loaded host, so cgroups are also
  # compared with those that existed before.)
  ls -d /sys/fs/cgroup/*/arca/*/ 2>/dev/null | sort >"$ET_DIR/cgroups-before"
  (while :; do ls -1 "$SMALL_FS/run/runtime" 2>/dev/null; sleep 0.02; done) >"$ET_DIR/small-ids" &
  watcher=$!
  ctx
  # The RUN itself runs out of space.
  printf 'FROM busybox\nRUN head -c 30000000 /dev/zero > /big\n' >"$CTX/Containerfile"
  run --separate-stderr sarca build -t full:1 "$CTX"
  echo "$stderr"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"STEP 2/2"*"exited with code 1"* ]]
  # The RUN fits, storing its layer does not.
  printf 'FROM busybox\nRUN head -c 7000000 /dev/zero > /big\n' >"$CTX/Containerfile"
  run --separate-stderr sarca build -t full:1 "$CTX"
  echo "$stderr"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"STEP 2/2"*"No space left on device"* ]]
  kill "$watcher"
  wait "$watcher" || true
  ls -d /sys/fs/cgroup/*/arca/*/ 2>/dev/null | sort >"$ET_DIR/cgroups-after"
  comm -13 "$ET_DIR/cgroups-before" "$ET_DIR/cgroups-after" >"$ET_DIR/cgroups-new"
  cat "$ET_DIR/cgroups-new"
  [ ! -s "$ET_DIR/cgroups-new" ]
  [ -z "$(sarca ps -a -q)" ]
  [ -z "$(find "$SMALL_FS/root/containers" "$SMALL_FS/root/tmp" -mindepth 1)" ]
  [ -z "$(ls -A "$SMALL_FS/run/runtime" 2>/dev/null)" ]
  ! grep " $SMALL_FS/" /proc/self/mountinfo
  for id in $(sort -u "$ET_DIR/small-ids"); do
    ! ls -d /sys/fs/cgroup/*/arca/"$id" 2>/dev/null
  done
  [ "$(sarca images -a -q | wc -l)" = 1 ]
  run sarca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
}

@test "kill -9 of arca run at 20 random points: check --repair and rm -f leave the store consistent" {
  arca run --rm busybox true # the image exists before the timing starts
  for i in $(seq 1 20); do
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --name "k$i" busybox sh -c 'sleep 0.3' \
      >/dev/null 2>&1 &
    pid=$!
    sleep "$(random_ms 500)"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || true
    record_ids
  done
  sleep 0.5 # the containers that got to run are done
  assert_consistent
}

@test "kill -9 of create after its root is mounted, before its row: the next command rolls it back" {
  command -v strace >/dev/null || skip "strace is needed to kill at an exact point"
  arca create --network none busybox true >/dev/null # the image exists; the next create is timed
  arca rm -f "$(arca ps -a -q)" >/dev/null
  # The 4th renameat of a create is its config.json, after the overlay mount and
  # before the row: SIGKILL there.
  run strace -f -o /dev/null -e trace=renameat -e inject=renameat:signal=KILL:when=4 \
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" create --name killed --network none busybox true
  echo "strace: $status $output"
  [ "$status" -ne 0 ]
  dirs=$(ls -A "$ET_ROOT/containers")
  echo "left: $dirs"
  [ -n "$dirs" ]                                    # the killed create's directory ...
  grep -q " $ET_ROOT/containers/$dirs/merged " /proc/self/mountinfo # ... with its root mounted
  [ -e "$ET_ROOT/creating/$dirs" ]                  # ... and its marker
  # The next command, whatever it is, undoes it.
  run arca ps -a -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  ! grep " $ET_ROOT/" /proc/self/mountinfo
  [ -z "$(ls -A "$ET_ROOT/containers")" ]
  [ -z "$(ls -A "$ET_ROOT/creating")" ]
  run arca system check
  echo "$output"
  [[ "$output" == *"0 problems, 0 orphans"* ]]
  # The name is free again.
  run arca run --rm --name killed busybox echo again
  [ "$output" = again ]
}

@test "kill -9 of rm half way through the container's files: the next command finishes the removal" {
  command -v strace >/dev/null || skip "strace is needed to kill at an exact point"
  id=$(arca run -d --name halfrm --network none busybox sh -c 'mkdir -p /data; for i in 1 2 3 4 5 6 7 8; do echo $i > /data/f$i; done; sleep 100')
  for _ in $(seq 50); do [ -e "$ET_ROOT/containers/$id/upper/data/f8" ] && break; sleep 0.1; done
  # SIGKILL at the 6th file rm deletes: its process is stopped, its root
  # unmounted, part of its directory gone, its row still there.
  run strace -f -o /dev/null -e trace=unlinkat -e inject=unlinkat:signal=KILL:when=6 \
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" rm -f halfrm
  echo "strace: $status $output"
  [ "$status" -ne 0 ]
  [ -d "$ET_ROOT/containers/$id" ]                  # half removed ...
  [ -e "$ET_ROOT/removing/$id" ]                    # ... with its marker
  [ "$(sqlite3 "$ET_ROOT/arca.db" "SELECT count(*) FROM containers WHERE id = '$id'")" = 1 ]
  # The next command, whatever it is, finishes it: no row of a container
  # whose files are half gone (its start would fail on a missing file).
  run arca ps -a -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ ! -e "$ET_ROOT/containers/$id" ]
  [ -z "$(ls -A "$ET_ROOT/removing")" ]
  ! grep " $ET_ROOT/" /proc/self/mountinfo
  [ ! -e "/sys/fs/cgroup/pids/arca/$id" ]
  run arca system check
  echo "$output"
  [[ "$output" == *"0 problems, 0 orphans"* ]]
  run arca run --rm --name halfrm busybox echo again
  [ "$output" = again ]
}

@test "kill -9 of arca run while its container runs in the foreground: it keeps running, rm -f ends it" {
  "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --name fg busybox sh -c 'echo started; sleep 100' \
    >"$ET_DIR/fg.out" 2>&1 &
  pid=$!
  wait_status fg Up
  kill -9 "$pid"
  wait "$pid" || true
  record_ids
  # Like Docker's client: killing it does not stop the container.
  wait_status fg Up
  run arca logs fg
  [ "$output" = started ]
  assert_consistent
}

@test "kill -9 of arca build during a RUN step and during COPY: consistent afterwards" {
  ctx
  printf 'FROM busybox\nRUN sleep 60\n' >"$CTX/Containerfile"
  "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" build -t killed:1 "$CTX" >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 100); do
    [ -n "$(arca ps -q)" ] && break
    sleep 0.1
  done
  [ -n "$(arca ps -q)" ]
  kill -9 "$pid"
  wait "$pid" || true
  record_ids
  assert_consistent
  # COPY of many files, killed at random points while it copies or commits.
  ctx
  mkdir -p "$CTX/many"
  for d in $(seq 1 20); do
    mkdir "$CTX/many/$d"
    for f in $(seq 1 100); do echo "$d $f" >"$CTX/many/$d/$f"; done
  done
  head -c 20000000 /dev/urandom >"$CTX/many/big"
  printf 'FROM busybox\nCOPY many /many\n' >"$CTX/Containerfile"
  for i in $(seq 1 5); do
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" build --no-cache -t copied:1 "$CTX" \
      >"$ET_DIR/build.out" 2>&1 &
    pid=$!
    for t in $(seq 1 200); do
      grep -q "COPY" "$ET_DIR/build.out" && break
      sleep 0.02
    done
    sleep "$(random_ms 800)"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || true
    record_ids
  done
  assert_consistent
  # And a build that is left alone still works, the result complete.
  arca build -q -t copied:1 "$CTX" >/dev/null
  run arca run --rm copied:1 sh -c 'ls /many | wc -l; cat /many/20/100'
  [ "${lines[0]}" = 21 ]
  [ "${lines[1]}" = "20 100" ]
}
