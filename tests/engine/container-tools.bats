#!/usr/bin/env bats
# cp, export, diff, top, stats, pause/unpause, update, rename.
load helpers

@test "cp into and out of a running container, files and directories" {
  arca run -d --name c1 busybox sh -c 'mkdir -p /d/sub; echo one > /d/sub/f; sleep 100'
  wait_status c1 Up
  sleep 0.2
  arca cp c1:/d "$ET_DIR/out"
  [ "$(cat "$ET_DIR/out/sub/f")" = one ]
  mkdir -p "$ET_DIR/in/x"
  echo two >"$ET_DIR/in/x/g"
  arca cp "$ET_DIR/in/." c1:/d
  run arca exec c1 cat /d/x/g
  [ "$output" = two ]
  echo three >"$ET_DIR/file"
  arca cp "$ET_DIR/file" c1:/d/sub
  run arca exec c1 cat /d/sub/file
  [ "$output" = three ]
  run arca cp c1:/nonexistent "$ET_DIR/none"
  [ "$status" -ne 0 ]
  # DST - : a tar on stdout.
  run bash -c "\"$ARCA\" --root \"$ET_ROOT\" --run-root \"$ET_RUN\" cp c1:/d/sub - | tar -t"
  [[ "$output" == *"sub/f"* ]]
}

@test "cp on a stopped container, and its root is unmounted again" {
  arca run --name c2 busybox sh -c 'echo kept > /k'
  arca cp c2:/k "$ET_DIR/k"
  [ "$(cat "$ET_DIR/k")" = kept ]
  echo put >"$ET_DIR/p"
  arca cp "$ET_DIR/p" c2:/p
  run grep -q " $ET_ROOT/containers/.*/merged " /proc/self/mountinfo
  [ "$status" -ne 0 ]
  arca start c2 >/dev/null
  run arca diff c2
  [[ "$output" == *"A /p"* ]]
}

@test "cp never follows a symlink of the container onto the host" {
  marker="arca-cp-escape-$$-$RANDOM"
  echo host-secret >"/tmp/$marker.secret"
  arca run -d --name evil busybox sh -c "ln -s / /esc; ln -s /tmp/$marker.secret /leak; mkdir -p /tmp; sleep 100"
  wait_status evil Up
  sleep 0.2
  echo payload >"$ET_DIR/payload"
  # Into the container through a link to "/": lands in the container's /tmp.
  arca cp "$ET_DIR/payload" "evil:/esc/tmp/$marker"
  [ ! -e "/tmp/$marker" ]
  run arca exec evil cat "/tmp/$marker"
  [ "$output" = payload ]
  # Out of the container: the link is copied as a link, the host file is not read.
  arca cp evil:/leak "$ET_DIR/leak"
  [ -L "$ET_DIR/leak" ]
  # Over a link in the container: the link is replaced, its target untouched.
  arca cp "$ET_DIR/payload" evil:/leak
  [ "$(cat "/tmp/$marker.secret")" = host-secret ]
  run arca exec evil cat /leak
  [ "$output" = payload ]
  rm -f "/tmp/$marker.secret"
}

@test "cp - CONTAINER:DIR unpacks a tar inside; a member with .. is refused" {
  arca run -d --name c7 busybox sleep 100
  wait_status c7 Up
  mkdir -p "$ET_DIR/t/pkg"
  echo inside >"$ET_DIR/t/pkg/f"
  ln -s / "$ET_DIR/t/pkg/up"
  tar -C "$ET_DIR/t" -cf - pkg | "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" cp - c7:/tmp
  run arca exec c7 cat /tmp/pkg/f
  [ "$output" = inside ]
  run arca exec c7 readlink /tmp/pkg/up
  [ "$output" = / ]
  marker="arca-cp-tar-$$-$RANDOM"
  python3 -c '
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("../../../../tmp/" + sys.argv[2]); i.size = 1
t.addfile(i, io.BytesIO(b"x")); t.close()' "$ET_DIR/evil.tar" "$marker"
  run arca cp - c7:/tmp <"$ET_DIR/evil.tar"
  [ "$status" -eq 125 ]
  [ ! -e "/tmp/$marker" ]
  [ -z "$(ls "$ET_RUN" | grep '^cp-' || true)" ]
}

@test "export writes the container's root as a tar; diff lists A/C/D" {
  arca run --name c3 busybox sh -c 'echo new > /added; rm /bin/ls; echo x >> /etc/passwd'
  arca export c3 -o "$ET_DIR/c3.tar"
  run tar -tf "$ET_DIR/c3.tar"
  [[ "$output" == *"bin/busybox"* ]]
  [[ "$output" == *"added"* ]]
  run grep -qx '\(\./\)\?bin/ls' <<<"$output"
  [ "$status" -ne 0 ]
  run arca diff c3
  [[ "$output" == *"A /added"* ]]
  [[ "$output" == *"D /bin/ls"* ]]
  [[ "$output" == *"C /etc/passwd"* ]]
}

@test "top lists the container's processes; stats shows the memory limit and pids" {
  arca run -d --name c4 -m 32m --pids-limit 20 busybox sh -c 'sleep 1000 & sleep 1001'
  wait_status c4 Up
  sleep 0.3
  run arca top c4
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "UID"*"PID"*"CMD" ]]
  [[ "$output" == *"sleep 1000"* ]]
  [[ "$output" == *"sleep 1001"* ]]
  run arca stats --no-stream --format json c4
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].MemLimit' <<<"$output")" = 33554432 ]
  [ "$(jq -r '.[0].PIDs' <<<"$output")" -ge 2 ]
  [ "$(jq -r '.[0].PIDsLimit' <<<"$output")" = 20 ]
  [ "$(jq -r '.[0].MemUsage' <<<"$output")" -gt 0 ]
  run arca stats --no-stream
  [[ "${lines[1]}" == c4*"32.00MiB"* ]]
}

@test "update changes the cgroup files and config.json" {
  arca run -d --name c5 -m 32m busybox sleep 1000
  wait_status c5 Up
  id=$(arca ps -q --no-trunc)
  arca update --memory 64m --memory-swap 128m --pids-limit 9 --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0 c5
  [ "$(cat /sys/fs/cgroup/memory/arca/$id/memory.limit_in_bytes)" = 67108864 ]
  [ "$(cat /sys/fs/cgroup/pids/arca/$id/pids.max)" = 9 ]
  [ "$(cat /sys/fs/cgroup/cpu/arca/$id/cpu.cfs_quota_us)" = 50000 ]
  [ "$(cat /sys/fs/cgroup/cpu/arca/$id/cpu.shares)" = 512 ]
  [ "$(cat /sys/fs/cgroup/cpuset/arca/$id/cpuset.cpus)" = 0 ]
  run arca exec c5 cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  [ "$output" = 67108864 ]
  [ "$(jq -r '.linux.resources.pids.limit' "$ET_ROOT/containers/$id/config.json")" = 9 ]
  run --separate-stderr arca update --memory nonsense c5
  [ "$status" -eq 125 ]
  # The limits survive a restart (config.json), and a stopped container can be updated.
  arca stop -t 0 c5
  arca update --pids-limit 11 c5
  arca start c5
  wait_status c5 Up
  run arca exec c5 cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
  [ "${lines[0]}" = 67108864 ]
  [ "${lines[1]}" = 11 ]
}

@test "pause freezes the processes, unpause lets them go on" {
  arca run -d --name c6 busybox sh -c 'i=0; while true; do i=$((i+1)); echo $i > /c.tmp; mv /c.tmp /count; sleep 0.05; done'
  wait_status c6 Up
  sleep 0.3
  arca pause c6
  wait_status c6 "Up (Paused)"
  a=$(arca cp c6:/count - | tar -xO)
  sleep 0.5
  b=$(arca cp c6:/count - | tar -xO)
  [ "$a" = "$b" ]
  run arca pause c6
  [ "$status" -ne 0 ]
  arca unpause c6
  sleep 0.5
  c=$(arca cp c6:/count - | tar -xO)
  [ "$c" -gt "$b" ]
}

@test "rename: the new name works, the old one is gone, a taken name is refused" {
  arca run -d --name before busybox sleep 100
  arca run -d --name other busybox sleep 100
  arca rename before after
  run arca ps --format json
  [[ "$(jq -r '.[].Names' <<<"$output" | sort | tr '\n' ' ')" == "after other " ]]
  run arca inspect before
  [ "$status" -ne 0 ]
  run --separate-stderr arca rename after other
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"already in use"* ]]
  run --separate-stderr arca rename after 'bad name'
  [ "$status" -eq 125 ]
}

@test "cp -L follows a symlink source both ways (inside the container's root), without -L the link is copied" {
  arca run -d --name lnk busybox sh -c 'mkdir -p /data/dir; echo target > /data/real; echo indir > /data/dir/f; ln -s /data/real /abs; ln -s data/dir /reldir; ln -s /etc/../../../data/real /up; sleep 100'
  wait_status lnk Up
  sleep 0.2
  # Out of the container: the file a link points to, under the link's name.
  arca cp -L lnk:/abs "$ET_DIR/abs"
  [ ! -L "$ET_DIR/abs" ] && [ "$(cat "$ET_DIR/abs")" = target ]
  mkdir "$ET_DIR/into"
  arca cp -L lnk:/reldir "$ET_DIR/into"
  [ -d "$ET_DIR/into/reldir" ] && [ ! -L "$ET_DIR/into/reldir" ]
  [ "$(cat "$ET_DIR/into/reldir/f")" = indir ]
  # An absolute or ".." target resolves inside the container's root, not on the host.
  arca cp -L lnk:/up "$ET_DIR/up"
  [ "$(cat "$ET_DIR/up")" = target ]
  # As a tar stream too.
  run bash -c "\"$ARCA\" --root \"$ET_ROOT\" --run-root \"$ET_RUN\" cp -L lnk:/abs - | tar -xO"
  [ "$output" = target ]
  # Without -L the link itself is copied.
  arca cp lnk:/abs "$ET_DIR/abs-link"
  [ -L "$ET_DIR/abs-link" ] && [ "$(readlink "$ET_DIR/abs-link")" = /data/real ]
  # Into the container: a host link is followed with -L, kept without it.
  echo hostfile >"$ET_DIR/hreal"
  ln -s hreal "$ET_DIR/hlink"
  arca cp -L "$ET_DIR/hlink" lnk:/copied
  run arca exec lnk sh -c 'test -L /copied && echo link; cat /copied'
  [ "$output" = hostfile ]
  arca cp "$ET_DIR/hlink" lnk:/kept
  run arca exec lnk readlink /kept
  [ "$output" = hreal ]
  arca cp -L "$ET_DIR/hlink" lnk:/data/dir
  run arca exec lnk cat /data/dir/hlink
  [ "$output" = hostfile ]
}

@test "inspect and ps take Docker's --format templates; inspect's fields are Docker's and match what the container sees" {
  arca run -d --name fmt1 --network none -e FOO=bar -l tier=front -w /tmp busybox sh -c 'env > /tmp/env; sleep 100; true'
  wait_status fmt1 Up
  # State: the words and the pid of the real process.
  run -0 arca inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Pid}}' fmt1
  read -r st running pid <<<"$output"
  [ "$st" = running ] && [ "$running" = true ]
  [ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" = "sh -c env > /tmp/env; sleep 100; true " ]
  # Config: what the process got (env, cwd, labels, command).
  for _ in $(seq 20); do arca exec fmt1 test -s /tmp/env && break; sleep 0.1; done
  run -0 arca inspect --format '{{range .Config.Env}}{{println .}}{{end}}' fmt1
  [ "$(sort <<<"$output" | sed '/^$/d')" = "$(arca exec fmt1 cat /tmp/env | grep -v '^HOME=\|^PWD=\|^SHLVL=' | sort)" ]
  [ "$(arca inspect -f '{{.Config.WorkingDir}} {{index .Config.Labels "tier"}} {{index .Config.Cmd 0}} {{json .Args}}' fmt1)" \
    = '/tmp front sh ["-c","env > /tmp/env; sleep 100; true"]' ]
  [ "$(arca inspect -f '{{len .NetworkSettings.Networks}}|{{.NetworkSettings.IPAddress}}|{{.HostConfig.Runtime}}' fmt1)" = "0||arca" ]
  # Several containers: a line each.
  arca create --name fmt2 --network none busybox true >/dev/null
  [ "$(arca inspect -f '{{.Name}}={{.State.Status}}' fmt1 fmt2)" = "$(printf 'fmt1=running\nfmt2=created')" ]
  # ps: a template per container; "table" adds the header and aligns; \t is a tab.
  run -0 arca ps -a --format '{{.Names}}\t{{.State}}'
  [ "$(sort <<<"$output")" = "$(printf 'fmt1\trunning\nfmt2\tcreated')" ]
  run -0 arca ps --format 'table {{.ID}}\t{{.Names}}\t{{.Status}}'
  [ "${lines[0]}" = "CONTAINER ID   NAMES   STATUS" ]
  [[ "${lines[1]}" == "$(arca inspect -f '{{.Id}}' fmt1 | cut -c1-12)   fmt1    Up"* ]]
  [ "${#lines[@]}" -eq 2 ]
  # A bad template is a clear error, before anything is printed.
  run --separate-stderr arca inspect -f '{{.State.Status' fmt1
  [ "$status" -eq 125 ] && [ -z "$output" ]
  [[ "$stderr" == *"template: 1:1: unclosed action"* ]]
  run --separate-stderr arca ps --format '{{nope .Names}}'
  [ "$status" -eq 125 ]
  [[ "$stderr" == *'function "nope" not defined'* ]]
  arca stop -t 1 fmt1 >/dev/null
  [ "$(arca inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' fmt1)" = "exited 137 0" ]
  arca rm fmt1 fmt2 >/dev/null
}
