#!/usr/bin/env bats
# What the container's process sees from the inside: namespaces, mounts, credentials,
# capabilities, no_new_privs, seccomp, user namespace maps, rlimits.

load helpers

@test "the process is pid 1 and sees only its own pid namespace" {
  # the glob is expanded by the shell itself, so the only process alive is the shell
  in_container 'echo "self=$$"; for p in /proc/[0-9]*; do echo "pid=${p#/proc/}"; done'
  assert_eq "$output" $'self=1\npid=1' "pids seen inside"
}

@test "hostname comes from the config, in a private uts namespace" {
  update_config '.hostname = "arca-it-host"'
  in_container 'hostname; cat /proc/sys/kernel/hostname'
  assert_eq "$output" $'arca-it-host\narca-it-host'
  [ "$(hostname)" != arca-it-host ]
}

@test "environment, cwd, uid, gid and additional gids come from the config" {
  update_config '.process.env = ["PATH=/bin:/usr/bin", "ARCA_IT=yes sir"]
    | .process.cwd = "/tmp"
    | .process.user = {"uid": 1000, "gid": 1001, "additionalGids": [1002, 1003]}'
  in_container 'echo "env=$ARCA_IT"; pwd; id -u; id -g; id -G'
  assert_eq "$output" $'env=yes sir\n/tmp\n1000\n1001\n1001 1002 1003'
}

@test "a read-only bind mount is read-only inside and shows 'ro' in mountinfo" {
  mkdir "$TEST_DIR/share"
  echo shared >"$TEST_DIR/share/file"
  update_config '.mounts += [{"destination": "/mnt/ro", "type": "bind", "source": $src,
    "options": ["rbind", "ro"]}]' --arg src "$TEST_DIR/share"
  in_container 'cat /mnt/ro/file
    awk "\$5 == \"/mnt/ro\" { print \$6 }" /proc/self/mountinfo
    if touch /mnt/ro/new 2>/dev/null; then echo writable; else echo readonly; fi'
  assert_eq "${lines[0]}" shared
  assert_match "${lines[1]}" '(^|,)ro(,|$)' "mount options of /mnt/ro"
  assert_eq "${lines[2]}" readonly
  [ ! -e "$TEST_DIR/share/new" ]
}

@test "a tmpfs mount has the configured size, mode and flags" {
  update_config '.mounts += [{"destination": "/mnt/tmp", "type": "tmpfs", "source": "tmpfs",
    "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=1777"]}]'
  # fields after the optional ones: "-", fs type, source, super options
  in_container 'awk "\$5 == \"/mnt/tmp\" { for (i = 7; \$i != \"-\"; i++); print \$6, \$(i+1), \$(i+3) }" /proc/self/mountinfo
    stat -c %a /mnt/tmp
    df -k /mnt/tmp | tail -1'
  read -r opts fstype super <<<"${lines[0]}"
  assert_eq "$fstype" tmpfs "fs type of /mnt/tmp"
  for o in nosuid nodev noexec; do assert_match "$opts" "(^|,)$o(,|$)" "mount options"; done
  assert_match "$super" '(^|,)size=1024k(,|$)' "super options"
  assert_eq "${lines[1]}" 1777 "mode"
  assert_eq "$(awk '{ print $2 }' <<<"${lines[2]}")" 1024 "df size in KiB"
}

@test "masked paths read as empty and readonly paths cannot be written" {
  mkdir -p "$ROOTFS/secret.d"
  echo top-secret >"$ROOTFS/secret.d/file"
  echo top-secret >"$ROOTFS/secret.txt"
  update_config '.linux.maskedPaths = ["/proc/timer_list", "/secret.d", "/secret.txt", "/does/not/exist"]
    | .linux.readonlyPaths = ["/proc/sys", "/etc"]'
  in_container 'echo "timer_list=$(wc -c </proc/timer_list)"
    echo "dir=$(ls -A /secret.d | wc -l)"
    echo "file=$(cat /secret.txt | wc -c)"
    if echo x >/proc/sys/kernel/hostname 2>/dev/null; then echo sys=rw; else echo sys=ro; fi
    if touch /etc/new 2>/dev/null; then echo etc=rw; else echo etc=ro; fi
    awk "\$5 == \"/proc/sys\" || \$5 == \"/etc\" { print \$5, \$6 }" /proc/self/mountinfo'
  assert_eq "${lines[0]}" timer_list=0
  assert_eq "${lines[1]}" dir=0
  assert_eq "${lines[2]}" file=0
  assert_eq "${lines[3]}" sys=ro
  assert_eq "${lines[4]}" etc=ro
  assert_match "$(grep '^/proc/sys ' <<<"$output")" ' ro(,|$)' "/proc/sys mount"
  assert_match "$(grep '^/etc ' <<<"$output")" ' ro(,|$)' "/etc mount"
  # the image itself is untouched
  assert_eq "$(cat "$ROOTFS/secret.txt")" top-secret
}

@test "root.readonly makes / read-only while /tmp tmpfs stays writable" {
  update_config '.root.readonly = true
    | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
  in_container 'if touch /newfile 2>/dev/null; then echo root=rw; else echo root=ro; fi
    if touch /tmp/newfile 2>/dev/null; then echo tmp=rw; else echo tmp=ro; fi
    awk "\$5 == \"/\" { print \$6 }" /proc/self/mountinfo'
  assert_eq "${lines[0]}" root=ro
  assert_eq "${lines[1]}" tmp=rw
  assert_match "${lines[2]}" '^ro(,|$)' "options of /"
  [ ! -e "$ROOTFS/newfile" ]
}

@test "the /proc/self/status capability sets match the config" {
  # For uid 0 the kernel's execve sets the effective set to the permitted set (root's
  # legacy file-capability rule), so "effective" in the config cannot be seen here; the
  # non-root test below covers it.
  # CAP_CHOWN=0 CAP_KILL=5 CAP_NET_RAW=13 CAP_SYS_ADMIN=21
  update_config '.process.capabilities = {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
      "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
      "effective": ["CAP_CHOWN", "CAP_KILL"],
      "inheritable": ["CAP_KILL"],
      "ambient": []}'
  in_container 'grep ^Cap /proc/self/status'
  assert_match "$output" 'CapBnd:[[:space:]]+0000000000202021' "CapBnd"
  assert_match "$output" 'CapPrm:[[:space:]]+0000000000002021' "CapPrm"
  assert_match "$output" 'CapEff:[[:space:]]+0000000000002021' "CapEff"
  assert_match "$output" 'CapInh:[[:space:]]+0000000000000020' "CapInh"
  assert_match "$output" 'CapAmb:[[:space:]]+0000000000000000' "CapAmb"
}

@test "a non-root process keeps ambient capabilities and a dropped capability really is gone" {
  update_config '.process.user = {"uid": 1000, "gid": 1000}
    | .process.capabilities = {
      "bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
      "permitted": ["CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_NET_BIND_SERVICE"],
      "inheritable": ["CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_NET_BIND_SERVICE"]}'
  # CAP_NET_BIND_SERVICE=10; without CAP_CHOWN chown fails even for files we own
  in_container 'grep -E "^Cap(Eff|Amb)" /proc/self/status
    touch /tmp/mine; if chown 0 /tmp/mine 2>/dev/null; then echo chown=ok; else echo chown=denied; fi'
  assert_match "$output" 'CapEff:[[:space:]]+0000000000000400' "CapEff"
  assert_match "$output" 'CapAmb:[[:space:]]+0000000000000400' "CapAmb"
  assert_output_has chown=denied
}

@test "noNewPrivileges sets NoNewPrivs in /proc/self/status (and leaving it out does not)" {
  update_config '.process.noNewPrivileges = true'
  in_container 'grep ^NoNewPrivs /proc/self/status'
  assert_match "$output" 'NoNewPrivs:[[:space:]]+1'
  update_config '.process.noNewPrivileges = false'
  CID=$(new_id)
  in_container 'grep ^NoNewPrivs /proc/self/status'
  assert_match "$output" 'NoNewPrivs:[[:space:]]+0'
}

@test "a seccomp filter is installed (Seccomp: 2) and a blocked mkdir fails with EPERM" {
  update_config '.linux.seccomp = {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
  in_container 'grep "^Seccomp:" /proc/self/status
    mkdir /tmp/blocked 2>&1; echo "mkdir=$?"
    touch /tmp/allowed && echo touch=ok'
  assert_match "${lines[0]}" 'Seccomp:[[:space:]]+2' "Seccomp"
  assert_match "${lines[1]}" 'Operation not permitted' "mkdir error"
  assert_eq "${lines[2]}" mkdir=1
  assert_eq "${lines[3]}" touch=ok
  [ ! -e "$ROOTFS/tmp/blocked" ]
  [ -e "$ROOTFS/tmp/allowed" ]
}

@test "seccomp errnoRet is honoured (ENOSYS from a blocked syscall)" {
  update_config '.linux.seccomp = {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
  in_container 'mkdir /tmp/blocked 2>&1; true'
  assert_match "$output" '(Function not implemented|not implemented)' "mkdir error"
}

@test "a user namespace applies the uid/gid maps of the config" {
  chmod 755 "$TEST_DIR" "$BUNDLE"
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 300000, "size": 65536}]'
  set_cmd 'cat /proc/self/uid_map /proc/self/gid_map; id -u; sleep 1000'
  create_container
  pid=$(state_pid "$CID")
  rt start "$CID"
  wait_status "$CID" running
  for i in $(seq 1 50); do [ -s "$TEST_DIR/create.out" ] && grep -q '^0$' "$TEST_DIR/create.out" && break; sleep 0.05; done
  read -r a b c < <(sed -n 1p "$TEST_DIR/create.out")
  assert_eq "$a $b $c" "0 200000 65536" "uid_map"
  read -r a b c < <(sed -n 2p "$TEST_DIR/create.out")
  assert_eq "$a $b $c" "0 300000 65536" "gid_map"
  assert_eq "$(sed -n 3p "$TEST_DIR/create.out")" 0 "uid inside"
  # seen from the host, the process runs as the mapped ids
  assert_eq "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)" 200000 "host uid"
  assert_eq "$(awk '/^Gid:/ { print $2 }' /proc/$pid/status)" 300000 "host gid"
  [ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ]
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  rt delete "$CID"
}

@test "rlimits from the config are applied (ulimit -n and /proc/self/limits)" {
  update_config '.process.rlimits = [
      {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 512},
      {"type": "RLIMIT_NPROC", "hard": 300, "soft": 200},
      {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]'
  in_container 'ulimit -n; ulimit -Hn; grep -E "^Max (open files|processes|core file size)" /proc/self/limits'
  assert_eq "${lines[0]}" 512 "ulimit -n"
  assert_eq "${lines[1]}" 4096 "ulimit -Hn"
  assert_match "$output" 'Max open files +512 +4096' "limits"
  assert_match "$output" 'Max processes +200 +300' "limits"
  assert_match "$output" 'Max core file size +0 +0' "limits"
}

@test "the container has its own mount, ipc, net and uts namespaces" {
  set_args /bin/sleep 1000
  start_sleeper
  pid=$(state_pid "$CID")
  for ns in mnt ipc net uts pid; do
    [ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] || {
      echo "namespace $ns is shared with the host" >&2
      return 1
    }
  done
  # a network namespace with only a loopback device
  run rt_exec "$CID" sh -c 'ls /sys/class/net'
  assert_success
  assert_eq "$output" lo
}

@test "/dev holds the default devices and /dev/null works" {
  in_container 'for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo $d; done
    echo hi >/dev/null && echo null-ok
    head -c 4 /dev/zero | wc -c'
  assert_eq "$(echo "$output" | tr '\n' ' ')" "null zero full random urandom tty null-ok 4 "
}
