#!/usr/bin/env bats
# arca build and arca commit: what the built image's containers see, the layer cache,
# build args, targets, .dockerignore, errors naming the file/line or step, no leaks.
load helpers

ctx() { # a fresh build context directory
  CTX=$(mktemp -d "$ET_DIR/ctx.XXXXXX")
}

no_containers_left() {
  run arca ps -a -q
  [ -z "$output" ]
  [ -z "$(ls "$ET_ROOT/containers")" ]
  ! grep -q " $ET_ROOT/" /proc/self/mountinfo
}

@test "multi-stage build: RUN files, COPY --from, ENV/WORKDIR/USER/CMD seen by arca run" {
  ctx
  echo "from the context" > "$CTX/hello.txt"
  mkdir -p "$CTX/conf" && echo "a=1" > "$CTX/conf/app.conf"
  cat > "$CTX/Containerfile" <<'EOF'
# syntax=docker/dockerfile:1
FROM busybox AS build
RUN mkdir -p /out && echo "built in stage one" > /out/built.txt \
 && echo second > /out/second.txt
RUN rm /out/second.txt

FROM busybox
ENV APP_HOME=/srv/app GREETING="hello world"
WORKDIR $APP_HOME
COPY --from=build /out/ ./
COPY hello.txt conf ./
COPY --chown=nobody hello.txt /owned.txt
USER nobody
CMD ["sh", "-c", "echo \"$GREETING\"; pwd; id -u; cat built.txt hello.txt app.conf; ls; stat -c %U /owned.txt"]
EOF
  run --separate-stderr arca build -t app:1 "$CTX"
  [ "$status" -eq 0 ]
  [[ "$output" == *"STEP 1/11: FROM busybox AS build"* ]]
  [[ "$output" == *"STEP 11/11: CMD"* ]]
  [[ "$output" == *"COMMIT localhost/app:1"* ]]
  id=${lines[-1]}
  [[ "$id" =~ ^[0-9a-f]{64}$ ]]
  run --separate-stderr arca run --rm app:1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello world" ]
  [ "${lines[1]}" = "/srv/app" ]
  [ "${lines[2]}" = "65534" ]
  [ "${lines[3]}" = "built in stage one" ]
  [ "${lines[4]}" = "from the context" ]
  [ "${lines[5]}" = "a=1" ]
  # second.txt was deleted in a later layer of the first stage: a whiteout
  [[ "$output" != *second.txt* ]]
  [ "${lines[-1]}" = "nobody" ]
  # The image is listed under its tag; build containers are gone.
  arca images | grep -q 'localhost/app'
  no_containers_left
}

@test "an unchanged rebuild uses the cache for every step and is much faster" {
  ctx
  echo data > "$CTX/data"
  cat > "$CTX/Containerfile" <<'EOF'
FROM busybox
RUN sleep 1; echo slow > /slow
COPY data /data
ENV X=1
RUN echo "$X" > /x
CMD cat /slow /data /x
EOF
  s1=$(date +%s%N)
  run --separate-stderr arca build -t cached:1 "$CTX"
  e1=$(( $(date +%s%N) - s1 ))
  [ "$status" -eq 0 ]
  first=${lines[-1]}
  [[ "$output" != *"Using cache"* ]]
  s2=$(date +%s%N)
  run --separate-stderr arca build -t cached:2 "$CTX"
  e2=$(( $(date +%s%N) - s2 ))
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "$first" ]
  [ "$(grep -c 'Using cache' <<<"$output")" -eq 5 ]
  echo "first ${e1}ns, cached ${e2}ns" >&2
  [ "$e2" -lt $(( e1 / 3 )) ]
  # Changing a copied file invalidates that step and the ones after it only.
  echo changed > "$CTX/data"
  run --separate-stderr arca build -t cached:3 "$CTX"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'Using cache' <<<"$output")" -eq 1 ]
  run --separate-stderr arca run --rm cached:3
  [ "$output" = "$(printf 'slow\nchanged\n1')" ] || { echo "stdout: $output; stderr: $stderr" >&2; false; }
  # --no-cache runs everything again.
  run --separate-stderr arca build --no-cache -t cached:4 "$CTX"
  [ "$status" -eq 0 ]
  [[ "$output" != *"Using cache"* ]]
  no_containers_left
}

@test "--build-arg overrides an ARG default, before and after FROM" {
  ctx
  cat > "$CTX/Containerfile" <<'EOF'
ARG BASE=no-such-base
FROM ${BASE}
ARG WHO=default
ARG UNSET
RUN echo "who=$WHO unset=${UNSET:-none}" > /who
ENV KEPT=$WHO
CMD cat /who; echo "kept=$KEPT"
EOF
  run --separate-stderr arca build -t args:1 --build-arg BASE=busybox "$CTX"
  [ "$status" -eq 0 ]
  run arca run --rm args:1
  [ "$output" = "$(printf 'who=default unset=none\nkept=default')" ]
  run --separate-stderr arca build -t args:2 --build-arg BASE=busybox --build-arg WHO=given "$CTX"
  [ "$status" -eq 0 ]
  [[ "$output" != *"Using cache"*RUN* ]] || true
  run arca run --rm args:2
  [ "$output" = "$(printf 'who=given unset=none\nkept=given')" ]
  # Without the base argument the default names no image.
  run --separate-stderr arca build -t args:3 "$CTX"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"no-such-base"* ]]
}

@test "--target builds up to a stage; FROM scratch with COPY --from" {
  ctx
  cat > "$CTX/Containerfile" <<'EOF'
FROM busybox AS tools
RUN echo tools > /stage
FROM scratch AS minimal
COPY --from=tools /bin/busybox /bin/busybox
COPY --from=tools /stage /stage
CMD ["/bin/busybox", "cat", "/stage"]
FROM busybox AS last
RUN echo last > /stage
CMD ["cat", "/stage"]
EOF
  run --separate-stderr arca build -t tgt:min --target minimal "$CTX"
  [ "$status" -eq 0 ]
  [[ "$output" != *"STEP 7/"* ]]
  [[ "$output" == *"STEP 6/6"* ]]
  run arca run --rm tgt:min
  echo "run --rm tgt:min: status $status, output: $output"
  [ "$output" = tools ]
  # The scratch image has only its own layers: no shell.
  run arca run --rm tgt:min /bin/busybox ls /
  [ "$output" = "$(printf 'bin\nstage')" ] || [[ "$output" == *bin*stage* ]]
  run arca run --rm tgt:min /bin/sh -c true
  [ "$status" -ne 0 ]
  run --separate-stderr arca build -t tgt:last "$CTX"
  [ "$status" -eq 0 ]
  run arca run --rm tgt:last
  echo "run --rm tgt:last: status $status, output: $output"
  [ "$output" = last ]
  run --separate-stderr arca build -t tgt:x --target nope "$CTX"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"no stage named \`nope\`"* ]]
}

@test ".dockerignore keeps files out of COPY and out of the cache key" {
  ctx
  mkdir -p "$CTX/src" "$CTX/logs"
  echo code > "$CTX/src/main.c"
  echo noise > "$CTX/logs/a.log"
  echo secret > "$CTX/secret.key"
  echo keep > "$CTX/src/keep.log"
  printf '# ignore\nlogs\n*.key\n**/*.log\n!src/keep.log\n' > "$CTX/.dockerignore"
  cat > "$CTX/Containerfile" <<'EOF'
FROM busybox
COPY . /ctx
CMD find /ctx -type f | sort
EOF
  run --separate-stderr arca build -t ign:1 "$CTX"
  [ "$status" -eq 0 ]
  run arca run --rm ign:1
  echo "run --rm ign:1: status $status, output: $output"
  [ "$output" = "$(printf '/ctx/.dockerignore\n/ctx/Containerfile\n/ctx/src/keep.log\n/ctx/src/main.c')" ]
  # An ignored file changing does not invalidate the COPY.
  echo other > "$CTX/secret.key"
  run --separate-stderr arca build -t ign:2 "$CTX"
  [ "$(grep -c 'Using cache' <<<"$output")" -eq 2 ]
  # Naming an excluded file is an error.
  printf 'FROM busybox\nCOPY secret.key /\n' > "$CTX/Containerfile"
  run --separate-stderr arca build -t ign:3 "$CTX"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"secret.key"*".dockerignore"* ]]
}

@test "a syntax error names the file and line; nothing runs" {
  ctx
  printf 'FROM busybox\nRUN echo a \\\n  b\n\nFORM x\n' > "$CTX/Containerfile"
  run --separate-stderr arca build -t bad:1 "$CTX"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"Containerfile:5: unknown instruction \`FORM\`"* ]]
  [[ "$output" != *STEP* ]]
  printf 'FROM busybox\nENV A="open\n' > "$CTX/other.cf"
  run --separate-stderr arca build -t bad:1 -f "$CTX/other.cf" "$CTX"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"other.cf:2: unterminated double quote"* ]]
  # The repository names only: a hex image id may contain "bad" by chance.
  run arca images --format json
  [[ "$output" != *'"localhost/bad:'* ]]
}

@test "a failing RUN names the step, fails the build and leaves no container" {
  ctx
  printf 'FROM busybox\nRUN echo before\nRUN echo failing; exit 3\nRUN echo never\n' > "$CTX/Containerfile"
  # Other arca stores may run containers meanwhile: compare snapshots.
  before=$(ls -d /sys/fs/cgroup/*/arca/*/ 2>/dev/null | sort || true)
  run --separate-stderr arca build -t fail:1 "$CTX"
  [ "$status" -eq 125 ]
  [[ "$output" == *before* ]]
  [[ "$output" == *failing* ]]
  [[ "$output" != *never* ]]
  [[ "$stderr" == *"STEP 3/4 \`RUN echo failing; exit 3\` (Containerfile:3): the command exited with code 3"* ]]
  no_containers_left
  # A new one may be another store's container that goes away by itself; ours would stay.
  new=$(comm -13 <(echo "$before") <(ls -d /sys/fs/cgroup/*/arca/*/ 2>/dev/null | sort || true))
  for i in $(seq 1 30); do
    left=""
    for d in $new; do [ -d "$d" ] && left="$left $d"; done
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || { echo "cgroups left:$left" >&2; false; }
  [ -z "$(ls "$ET_RUN/runtime")" ]
  run arca images
  [[ "$output" != *fail* ]]
}

@test "COPY of ../outside, of a symlink leading out and ADD of a URL are refused" {
  ctx
  mkdir -p "$CTX/in"
  echo outside > "$ET_DIR/outside"
  printf 'FROM busybox\nCOPY ../outside /x\n' > "$CTX/in/Containerfile"
  run --separate-stderr arca build -t esc:1 "$CTX/in"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"\`../outside\` is outside the build context"* ]]
  ln -s "$ET_DIR/outside" "$CTX/in/link"
  printf 'FROM busybox\nCOPY link /x\n' > "$CTX/in/Containerfile"
  run --separate-stderr arca build -t esc:1 "$CTX/in"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"\`link\` points outside the build context"* ]]
  ln -s ../../outside "$CTX/in/rel"
  printf 'FROM busybox\nCOPY rel /x\n' > "$CTX/in/Containerfile"
  run --separate-stderr arca build -t esc:1 "$CTX/in"
  [ "$status" -eq 125 ]
  printf 'FROM busybox\nADD https://example.com/f /f\n' > "$CTX/in/Containerfile"
  run --separate-stderr arca build -t esc:1 "$CTX/in"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"URLs as sources are not supported"* ]]
  no_containers_left
}

@test "ADD unpacks a local tarball, COPY does not" {
  ctx
  mkdir -p "$CTX/t/pkg"
  echo packed > "$CTX/t/pkg/file"
  tar -C "$CTX/t" -czf "$CTX/pkg.tar.gz" pkg
  cat > "$CTX/Containerfile" <<'EOF'
FROM busybox
ADD pkg.tar.gz /opt/
ADD pkg.tar.gz /noslash
COPY pkg.tar.gz /copied/
COPY --chmod=0640 --chown=1:2 pkg.tar.gz /modes
CMD cat /opt/pkg/file /noslash/pkg/file; ls /copied; stat -c '%a %u %g' /modes
EOF
  run --separate-stderr arca build -t add:1 "$CTX"
  [ "$status" -eq 0 ]
  run arca run --rm add:1
  [ "$output" = "$(printf 'packed\npacked\npkg.tar.gz\n640 1 2')" ]
}

@test "commit: a container's changes (added, changed, deleted) become an image" {
  arca run --name tocommit busybox sh -c 'echo added > /added; rm /bin/ls; mkdir -p /etc/app; echo conf > /etc/app/c; ln /added /hard'
  run --separate-stderr arca commit -c 'CMD ["cat", "/added"]' -c 'ENV COMMITTED=yes' tocommit committed:1
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  arca rm tocommit
  run arca run --rm committed:1
  [ "$output" = added ]
  run arca run --rm committed:1 sh -c 'cat /etc/app/c; echo $COMMITTED; stat -c %h /added; test -e /bin/ls || echo "ls gone"'
  [ "$output" = "$(printf 'conf\nyes\n2\nls gone')" ]
  # The layer in a saved image carries the whiteout.
  arca save -o "$ET_DIR/committed.tar" committed:1
  mkdir "$ET_DIR/sv"
  tar -C "$ET_DIR/sv" -xf "$ET_DIR/committed.tar"
  found=
  for l in "$ET_DIR"/sv/*/layer.tar; do
    tar -tf "$l" | grep -qx 'bin/.wh.ls' && found=1
  done
  [ -n "$found" ]
  run --separate-stderr arca commit no-such-container x:1
  [ "$status" -eq 125 ]
  [[ "$stderr" == *no-such-container* ]]
}

@test "kill -9 of arca build in a RUN: the next build removes the orphaned container" {
  ctx
  printf 'FROM busybox\nRUN sleep 60\n' > "$CTX/Containerfile"
  "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" build -t killed:1 "$CTX" >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 100); do
    [ -n "$(arca ps -q)" ] && break
    sleep 0.1
  done
  [ -n "$(arca ps -q)" ]
  cpid=$(arca inspect "$(arca ps -q)" | jq -r '[.. | .Pid? // empty] | first')
  [ "$cpid" -gt 0 ]
  kill -9 "$pid"
  wait "$pid" || true
  # The orphan is still there; a build (not the user) cleans it up.
  [ -n "$(arca ps -a -q)" ]
  sleep 2.5
  printf 'FROM busybox\nRUN true\n' > "$CTX/Containerfile"
  run --separate-stderr arca build -t after:1 "$CTX"
  [ "$status" -eq 0 ]
  no_containers_left
  # The container's process went with it (a zombie until pid 1 reaps it).
  [ ! -e "/proc/$cpid" ] || grep -q '^State:.*Z' "/proc/$cpid/status"
}

# $1: signal, $2: expected exit status, $3: "group" to signal the build's whole process group
# (what a terminal's Ctrl-C does: the build, its helper and the container's process all get it).
interrupt_run_step() {
  ctx
  printf 'FROM busybox\nRUN echo before > /before\nRUN sleep 60\n' > "$CTX/Containerfile"
  # setsid: its own process group (not a leader here, so setsid execs in place: $! is the build).
  setsid "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" build -t interrupted:1 "$CTX" >"$ET_DIR/out" 2>&1 &
  pid=$!
  # The step of `sleep 60`, not the short one before it (whose container is
  # gone again a moment later).
  for i in $(seq 1 300); do
    grep -q 'STEP 3/3' "$ET_DIR/out" && [ -n "$(arca ps -q)" ] && break
    sleep 0.1
  done
  cat "$ET_DIR/out"
  id=$(arca ps -q --no-trunc)
  [ -n "$id" ]
  [ -d "/sys/fs/cgroup/memory/arca/$id" ] || [ -d "/sys/fs/cgroup/pids/arca/$id" ]
  grep -q " $ET_ROOT/containers/$id/merged " /proc/self/mountinfo
  start=$SECONDS
  if [ "${3:-}" = group ]; then
    kill -"$1" -- -"$pid"
  else
    kill -"$1" "$pid"
  fi
  bstatus=0
  wait "$pid" || bstatus=$?
  # It stopped at once (not after the sleep) and removed the step's container.
  [ "$bstatus" -eq "$2" ]
  [ $((SECONDS - start)) -lt 10 ]
  grep -q "interrupted by SIG$1" "$ET_DIR/out"
  [ -z "$(arca ps -a -q)" ]
  [ ! -e "$ET_ROOT/containers/$id" ]
  [ ! -e "$ET_RUN/runtime/$id" ]
  ! ls -d /sys/fs/cgroup/*/arca/"$id" 2>/dev/null
  ! grep -q " $ET_ROOT/" /proc/self/mountinfo
  run arca images --format json
  [[ "$output" != *interrupted* ]]
  run arca system check
  [ "$status" -eq 0 ]
}

@test "SIGINT during a RUN step: the step's container, mount and cgroup are gone before build exits 130" {
  interrupt_run_step INT 130
}

@test "Ctrl-C (SIGINT to the whole process group) during a RUN step: the same" {
  interrupt_run_step INT 130 group
}

@test "SIGTERM during a RUN step: the same, exit status 143" {
  interrupt_run_step TERM 143
}

@test "Ctrl-C during a big COPY: build exits 130, its work container is gone, nothing is tagged" {
  ctx
  mkdir -p "$CTX/many"
  for d in $(seq 1 20); do
    mkdir "$CTX/many/$d"
    for f in $(seq 1 100); do echo "$d $f" > "$CTX/many/$d/$f"; done
  done
  head -c 20000000 /dev/urandom > "$CTX/many/big"
  # A RUN that lasts: the build is still there for the signal wherever it is.
  printf 'FROM busybox\nCOPY many /many\nRUN sleep 30\n' > "$CTX/Containerfile"
  setsid "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" build -t copied:1 "$CTX" >"$ET_DIR/out" 2>&1 &
  pid=$!
  for i in $(seq 1 200); do
    grep -q COPY "$ET_DIR/out" && break
    sleep 0.02
  done
  sleep 0.$((RANDOM % 300))
  kill -INT -- -"$pid"
  bstatus=0
  wait "$pid" || bstatus=$?
  cat "$ET_DIR/out"
  # Wherever it was (hashing, copying, committing, or already in the RUN), it stops cleanly.
  [ "$bstatus" -eq 130 ]
  grep -q "interrupted by SIGINT" "$ET_DIR/out"
  no_containers_left
  run arca images --format json
  [[ "$output" != *copied* ]]
  run arca system check
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problems, 0 orphans"* ]]
}

@test "a real multi-stage build on Debian: bash and Python in RUN, a user, the result in busybox" {
  local repo
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  EXTRA_PACKAGES="python3" bash "$repo/scripts/make-debian-image.sh" "$ARCA" --root "$ET_ROOT" \
    --run-root "$ET_RUN" >"$ET_DIR/make-image.log" 2>&1 || {
    tail -20 "$ET_DIR/make-image.log" >&2
    false
  }
  ctx
  printf 'import hashlib, sys\nprint("python", sys.version_info[0], hashlib.sha256(b"arca").hexdigest()[:8])\n' >"$CTX/gen.py"
  cat > "$CTX/Containerfile" <<'EOF'
FROM debian:bookworm AS build
SHELL ["/bin/bash", "-c"]
WORKDIR /src
COPY gen.py .
RUN python3 gen.py > /report.txt && [[ -s /report.txt ]] && useradd -m builder && chown builder /report.txt
USER builder
RUN echo "built by $(id -un) in $PWD" >> /report.txt
FROM busybox
COPY --from=build /report.txt /report.txt
CMD ["cat", "/report.txt"]
EOF
  run --separate-stderr arca build -t debmulti:1 "$CTX"
  [ "$status" -eq 0 ]
  run arca run --rm debmulti:1
  [ "$output" = "$(printf 'python 3 %s\nbuilt by builder in /src' "$(printf arca | sha256sum | cut -c1-8)")" ]
  run --separate-stderr arca build -t debmulti:1 "$CTX"
  [ "$(grep -c 'Using cache' <<<"$output")" -eq 8 ]
  no_containers_left
}
