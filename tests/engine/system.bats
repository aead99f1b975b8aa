#!/usr/bin/env bats
# arca system check [--repair], system prune, image prune.
load helpers

@test "system check: a clean store passes" {
  arca run --rm busybox true
  run arca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
}

@test "system check finds an orphan layer dir, a container dir without row, a stale mount, a volume dir without row; --repair fixes them" {
  arca run --rm busybox true
  mkdir -p "$ET_ROOT/layers/0123456789abcdef/x"
  mkdir -p "$ET_ROOT/containers/feedface/upper"
  mkdir -p "$ET_ROOT/volumes/ghost/_data"
  mkdir -p "$ET_ROOT/stale"
  mount -t tmpfs arca-test "$ET_ROOT/stale"
  run arca system check
  [ "$status" -eq 1 ]
  [[ "$output" == *"layer dir \`layers/0123456789abcdef\` has no database row"* ]]
  [[ "$output" == *"containers/feedface"* ]]
  [[ "$output" == *"volumes/ghost"* ]]
  [[ "$output" == *"stale mount \`$ET_ROOT/stale\`"* ]]
  run arca system check --repair
  [ "$status" -eq 0 ]
  [ ! -e "$ET_ROOT/layers/0123456789abcdef" ]
  [ ! -e "$ET_ROOT/containers/feedface" ]
  [ ! -e "$ET_ROOT/volumes/ghost" ]
  run grep -q " $ET_ROOT/stale " /proc/self/mountinfo
  [ "$status" -ne 0 ]
  run arca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
  run arca run --rm busybox echo still-fine
  echo "after repair, run --rm printed: $output"
  [ "$output" = still-fine ]
}

@test "system check reports a deleted blob as a problem that --repair does not hide" {
  arca run --rm busybox true
  blob=$(find "$ET_ROOT/blobs" -type f | head -1)
  cp "$blob" "$ET_DIR/blob.bak"
  rm "$blob"
  run arca system check
  [ "$status" -eq 1 ]
  [[ "$output" == *"problem: "*"$(basename "$blob")"* ]]
  run arca system check --repair
  [ "$status" -eq 1 ]
  [[ "$output" == *"problem: "* ]]
  cp "$ET_DIR/blob.bak" "$blob"
  run arca system check
  [ "$status" -eq 0 ]
}

@test "system check finds runtime state and a cgroup left by a container that does not run" {
  arca run --name gone busybox true
  wait_status gone Exited
  id=$(arca ps -a -q --no-trunc)
  mkdir -p "$ET_RUN/runtime/$id"
  mkdir /sys/fs/cgroup/pids/arca/"$id"
  run arca system check
  [ "$status" -eq 1 ]
  [[ "$output" == *"runtime state of container ${id:0:12}"* ]]
  [[ "$output" == *"cgroup \`/sys/fs/cgroup/pids/arca/$id\`"* ]]
  arca system check --repair
  [ ! -e "$ET_RUN/runtime/$id" ]
  [ ! -e /sys/fs/cgroup/pids/arca/"$id" ]
  # A running container's own state is not touched.
  arca run -d --name live busybox sleep 100
  run arca system check --repair
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 orphans"* ]]
  wait_status live Up
}

@test "system prune removes stopped containers and unused images; image prune -a" {
  arca run --name stopped busybox true
  arca run -d --name running busybox sleep 100
  arca create --name created busybox true
  arca import <(arca export stopped) other:1 >/dev/null
  run arca system prune
  [ "$status" -eq 0 ]
  [[ "$output" == "removed 2 containers, 0 images"* ]]
  run arca ps -a --format json
  [ "$(jq -r '.[].Names' <<<"$output")" = running ]
  # other:1 is tagged: only -a removes it; busybox is in use and stays.
  run arca image prune
  [[ "$output" != *deleted* ]]
  run arca image prune -a
  [[ "$output" == *"deleted: "* ]]
  run arca images --format json
  [ "$(jq 'length' <<<"$output")" = 1 ]
  arca rm -f running
  run arca system check
  [ "$status" -eq 0 ]
}

@test "system prune --volumes removes unused anonymous volumes, keeps named and used ones" {
  arca run --name v1 -v /anon busybox true
  arca run -d --name v2 -v /anon2 busybox sleep 100
  arca volume create named
  [ "$(arca volume ls -q | wc -l)" = 3 ]
  run arca system prune
  [[ "$output" == *", 0 volumes"* ]]
  [ "$(arca volume ls -q | wc -l)" = 3 ]
  run arca system prune --volumes
  [[ "$output" == *", 1 volumes"* ]]
  run arca volume ls --format json
  [ "$(jq -r '[.[] | select(.Anonymous)] | length' <<<"$output")" = 1 ]
  [ "$(jq -r '.[] | select(.Anonymous) | .UsedBy | length' <<<"$output")" = 1 ]
  arca rm -f -v v2
  arca volume rm named
  [ -z "$(arca volume ls -q)" ]
}

@test "container prune removes exited and created containers, prints their ids, keeps running ones" {
  arca run --name exited busybox true
  arca create --name created busybox true
  arca run -d --name running busybox sleep 100
  exited=$(arca inspect exited | jq -r '.[0].Id')
  created=$(arca inspect created | jq -r '.[0].Id')
  run --separate-stderr arca container prune -f
  [ "$status" -eq 0 ]
  [[ "$output" == *"Deleted Containers:"* ]]
  [[ "$output" == *"$exited"* ]]
  [[ "$output" == *"$created"* ]]
  [ "$(arca ps -a --format json | jq -r '.[].Names')" = running ]
  [ ! -e "$ET_ROOT/containers/$exited" ] && [ ! -e "$ET_ROOT/containers/$created" ]
  # Nothing to do: no ids, still success.
  run --separate-stderr arca container prune
  [ "$status" -eq 0 ]
  [[ "$output" != *"Deleted Containers:"* ]]
  arca rm -f running
}

@test "container prune leaves the work container of a running build alone, removes a dead build's" {
  # A build's COPY container is "created" while it copies: its build.lock is what says it is in use.
  id=$(arca create --name arca-build-1-feedbeef busybox true)
  exec {lockfd}>"$ET_ROOT/containers/$id/build.lock"
  flock "$lockfd"
  sleep 2.2 # older than the grace period a fresh build container gets
  run arca container prune
  [ "$status" -eq 0 ]
  [[ "$output" != *"$id"* ]]
  [ -n "$(arca ps -a -q)" ]
  exec {lockfd}>&- # the build is gone
  run arca container prune
  [[ "$output" == *"$id"* ]]
  [ -z "$(arca ps -a -q)" ]
}

@test "build intermediates: hidden by images, shown by images -a, kept by image prune, removed with their image" {
  CTX=$(mktemp -d "$ET_DIR/ctx.XXXXXX")
  printf 'FROM busybox\nRUN echo one > /one\nENV STEP=2\nRUN echo two > /two\n' > "$CTX/Containerfile"
  arca build -q -t final:1 "$CTX" >/dev/null
  # busybox and final:1; the two step images only with -a, untagged.
  [ "$(arca images -q | wc -l)" = 2 ]
  [ "$(arca images -a -q | wc -l)" = 4 ]
  [ "$(arca images -a --format json | jq '[.[] | select(.Names | length == 0)] | length')" = 2 ]
  # A dangling image (an untagged build result) is shown and pruned, with its own step.
  printf 'FROM busybox\nRUN echo dangling > /d\nRUN echo more > /e\n' > "$CTX/Containerfile"
  dangling=$(arca build -q "$CTX")
  [ "$(arca images -q | wc -l)" = 3 ]
  [ "$(arca images -a -q | wc -l)" = 6 ]
  run arca image prune
  [ "$status" -eq 0 ]
  [[ "$output" == *"deleted: sha256:$dangling"* ]]
  [ "$(echo "$output" | grep -c '^deleted: ')" = 2 ]
  # final:1's intermediates stay (it still needs them for its cache).
  [ "$(arca images -a -q | wc -l)" = 4 ]
  # Removing final:1 removes them too; the store is clean afterwards.
  run arca rmi final:1
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | grep -c '^Deleted: ')" = 3 ]
  [ "$(arca images -a -q | wc -l)" = 1 ]
  run arca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
}
