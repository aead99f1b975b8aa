#!/usr/bin/env bats
# Escapes and leaks: host file descriptors, paths resolved outside the rootfs, overwriting the
# runtime binary from inside (CVE-2019-5736).

load helpers

@test "no host fd leaks into the container (run with extra fds open in the runtime)" {
  # fd 7 and 8 are open in the runtime's parent, and bats keeps its own fds (3 and up) open
  exec 7</etc/hostname 8>"$TEST_DIR/fd8"
  in_container 'echo FDS; ls /proc/1/fd; true'
  exec 7<&- 8>&-
  assert_eq "$(fds_after_marker)" "0 1 2 " "fds of the container's pid 1"
}

@test "no host fd leaks into created, started and exec'd processes" {
  exec 7</etc/hostname
  set_args /bin/sleep 1000
  create_container
  pid=$(state_pid "$CID")
  # the created container's init holds nothing of the host besides what it needs
  rt start "$CID"
  wait_status "$CID" running
  assert_eq "$(ls /proc/$pid/fd | sort -n | tr '\n' ' ')" "0 1 2 " "fds of the started process"
  run rt exec "$CID" sh -c 'echo FDS; ls /proc/$$/fd; true' </dev/null
  exec 7<&-
  assert_success
  assert_eq "$(fds_after_marker)" "0 1 2 " "fds of an exec'd process"
}

@test "cwd is resolved inside the rootfs: a relative symlink cannot climb out" {
  ln -s ../../../../../../../etc "$ROOTFS/climb"
  update_config '.process.cwd = "/climb"'
  in_container 'pwd -P; ls | tr "\n" " "'
  assert_eq "${lines[0]}" /etc "physical cwd"
  # the rootfs's /etc holds only group and passwd; the host's holds much more
  assert_eq "${lines[1]}" "group passwd " "cwd listing"
}

@test "cwd through an absolute symlink to a host directory stays in the rootfs" {
  mkdir "$TEST_DIR/hostdir"
  echo host-secret >"$TEST_DIR/hostdir/secret"
  ln -s "$TEST_DIR/hostdir" "$ROOTFS/hostlink"
  update_config '.process.cwd = "/hostlink"'
  set_cmd 'ls -A; touch from-container'
  run_container
  # whether the runtime creates the missing directory or refuses, the host dir is untouched
  [ ! -e "$TEST_DIR/hostdir/from-container" ]
  assert_eq "$(ls -A "$TEST_DIR/hostdir")" secret "host dir content"
  [[ $output != *secret* ]] || { echo "the container listed the host dir: $output" >&2; return 1; }
}

@test "a mount destination through an image symlink to a host dir lands in the rootfs" {
  mkdir "$TEST_DIR/hostdst" "$TEST_DIR/src"
  echo host-secret >"$TEST_DIR/hostdst/secret"
  echo from-src >"$TEST_DIR/src/file"
  ln -s "$TEST_DIR/hostdst" "$ROOTFS/mntlink"
  update_config '.mounts += [{"destination": "/mntlink", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' \
    --arg s "$TEST_DIR/src"
  set_cmd 'ls -A /mntlink/ | tr "\n" " "; echo; touch /mntlink/written'
  run_container
  # the host directory is untouched and not covered by a mount
  assert_eq "$(ls -A "$TEST_DIR/hostdst")" secret "host dir content"
  ! awk -v d="$TEST_DIR/hostdst" '$5 == d { found = 1 } END { exit !found }' /proc/self/mountinfo
  if [ "$status" -eq 0 ]; then
    # the mount was placed at the symlink's target *inside* the rootfs
    assert_eq "${lines[0]}" "file " "content seen at the mount destination"
    [ -e "$TEST_DIR/src/written" ]
    [ -d "$ROOTFS$TEST_DIR/hostdst" ]
  fi
}

@test "a mount destination with .. components cannot leave the rootfs" {
  mkdir "$TEST_DIR/src"
  echo from-src >"$TEST_DIR/src/file"
  update_config '.mounts += [{"destination": "/../../../../../../../../tmp/ait-escape", "type": "bind",
    "source": $s, "options": ["rbind", "ro"]}]' --arg s "$TEST_DIR/src"
  set_cmd 'cat /tmp/ait-escape/file'
  run_container
  assert_success
  assert_eq "$output" from-src
  [ ! -e /tmp/ait-escape ]
  [ -d "$ROOTFS/tmp/ait-escape" ]
}

# use_runtime_copy: these tests attack the runtime binary, so they run a copy of it
use_runtime_copy() {
  cp "$RUNTIME" "$TEST_DIR/runtime-copy"
  RUNTIME=$TEST_DIR/runtime-copy
  SUM_BEFORE=$(sha256sum "$RUNTIME" | cut -d' ' -f1)
}

@test "the runtime binary cannot be overwritten through /proc/1/exe of a created container" {
  use_runtime_copy
  set_args /bin/sleep 1000
  create_container
  # In the created state pid 1 of the container is the runtime's own init process. A
  # process in the container that can reach /proc/1/exe must not be able to write to it.
  run rt exec "$CID" sh -c 'readlink /proc/1/exe; if echo pwned >>/proc/1/exe; then echo WROTE; else echo refused; fi' </dev/null
  [[ $output != *WROTE* ]] || { echo "a container process wrote to the runtime's exe: $output" >&2; return 1; }
  rt start "$CID"
  wait_status "$CID" running
  assert_eq "$(sha256sum "$RUNTIME" | cut -d' ' -f1)" "$SUM_BEFORE" "runtime binary checksum"
}

@test "CVE-2019-5736: an fd on the runtime's exe held past the runtime's exit cannot be written" {
  use_runtime_copy
  # Without a pid namespace an exec'd attacker outlives the container's init. It opens the
  # init's /proc/PID/exe read-only while the init is the runtime (created state), then, once
  # no runtime process executes the file any more (no ETXTBSY), reopens it for writing
  # through /proc/self/fd. The entrypoint is the classic '#!/proc/self/exe' script, which
  # makes the init execute the runtime binary once more.
  update_config '.linux.namespaces |= map(select(.type != "pid"))'
  printf '#!/proc/self/exe\n' >"$ROOTFS/bin/evil"
  chmod 755 "$ROOTFS/bin/evil"
  set_args /bin/evil
  create_container
  state_pid "$CID" >"$ROOTFS/initpid"
  rt exec -d "$CID" sh -c 'P=$(cat /initpid)
    if ! exec 5</proc/$P/exe; then echo no-access >/tmp/result; exit 0; fi
    readlink /proc/self/fd/5 >/tmp/exe-link
    i=0
    while [ $i -lt 60 ]; do
      if echo pwned 2>/dev/null >>/proc/self/fd/5; then echo WROTE >/tmp/result; exit 0; fi
      i=$((i + 1)); sleep 0.05
    done
    echo refused >/tmp/result' </dev/null >/dev/null 2>&1
  sleep 0.2
  rt start "$CID" || true
  for i in $(seq 1 120); do [ -s "$ROOTFS/tmp/result" ] && break; sleep 0.05; done
  echo "attacker: $(cat "$ROOTFS/tmp/result" 2>/dev/null), exe seen: $(cat "$ROOTFS/tmp/exe-link" 2>/dev/null)"
  [ -s "$ROOTFS/tmp/result" ]
  assert_eq "$(sha256sum "$RUNTIME" | cut -d' ' -f1)" "$SUM_BEFORE" "runtime binary checksum"
  [ "$(cat "$ROOTFS/tmp/result")" != WROTE ]
}

@test "/proc and /sys in the container do not expose writable host kernel knobs" {
  in_container 'for f in /proc/sys/kernel/hostname /proc/sysrq-trigger /sys/kernel/uevent_helper; do
      if [ -e $f ] && (echo x >$f) 2>/dev/null; then echo "writable $f"; fi
    done
    awk "\$5 == \"/sys\" { print \$6 }" /proc/self/mountinfo'
  [[ $output != *writable* ]] || { echo "$output" >&2; return 1; }
  assert_match "$output" '(^|,)ro(,|$)' "/sys mount options"
}
