#!/usr/bin/env bats
# Detached terminals and stdin (run -dit, create -it + start -ai) and `arca attach`:
# the monitor owns the pty master or the stdin pipe, attach relays it.  A terminal is
# driven through pty-drive.py (a script of send/expect/resize steps).
load helpers

drive() { # drive SCRIPT_TEXT ARCA_ARGS...: the command on a new terminal
  local script=$ET_DIR/script.$BATS_TEST_NUMBER
  printf '%s\n' "$1" >"$script"
  shift
  python3 "$BATS_TEST_DIRNAME/pty-drive.py" "$script" -- \
    timeout -k 5 60 "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" "$@"
}

# The container's own processes (its init's pid namespace, seen from the host).
container_pids() { arca top "$1" 2>/dev/null | tail -n +2; }

@test "run -dit, attach: the shell answers, a resize reaches it, ctrl-p ctrl-q detaches" {
  run arca run -dit --network none --name t1 busybox sh
  [ "$status" -eq 0 ]
  wait_status t1 Up
  run drive 'sleep 0.3
send echo $((6*7))\r
expect 42
resize 31 101
sleep 0.3
send stty size\r
expect 31 101
send \x10\x11' attach t1
  echo "$output"
  [ "$status" -eq 0 ]
  # Detached, not stopped: still up, its shell still there.
  wait_status t1 Up
  run arca exec t1 sh -c 'ps -o comm | grep -c "^sh$"'
  [ "$output" -ge 1 ]
}

@test "exit 3 in the attached shell ends attach with 3; ps says Exited (3); the logs have the session" {
  arca run -dit --network none --name t2 busybox sh >/dev/null
  wait_status t2 Up
  run drive 'sleep 0.3
send echo marker-$((40+2))\r
expect marker-42
send exit 3\r' attach t2
  echo "$output"
  [ "$status" -eq 3 ]
  wait_status t2 "Exited (3)"
  run arca logs t2
  [[ "$output" == *marker-42* ]]
}

@test "attach to a stopped container fails and says why" {
  arca run --network none --name t3 busybox true
  run --separate-stderr arca attach t3
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"container t3 is not running"* ]]
  run --separate-stderr arca attach no-such-container
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"no such container"* ]]
}

@test "run -it in the foreground: a terminal of our size, the exit code, --rm removes it" {
  run drive 'resize 27 91
expect SIZE 27 91' run --rm -it --network none busybox sh -c 'sleep 0.2; echo SIZE $(stty size); exit 7'
  echo "$output"
  [ "$status" -eq 7 ]
  run arca ps -a -q
  [ -z "$output" ]
}

@test "run -i without a terminal: stdin through the monitor, stdout and stderr apart" {
  run --separate-stderr bash -c "printf 'one\ntwo\n' | timeout 30 '$ARCA' --root '$ET_ROOT' --run-root '$ET_RUN' run --rm -i --network none busybox sh -c 'cat; echo err >&2; exit 4'"
  [ "$status" -eq 4 ]
  [ "$output" = "$(printf 'one\ntwo')" ]
  [ "$stderr" = err ]
  run arca run --rm -t --network none busybox sh -c 'test -t 0 && test -t 1 && echo tty'
  [ "$output" = "$(printf 'tty\r')" ]
}

@test "create -it + start -ai: input reaches the program, start returns its code" {
  arca create -it --network none --name t5 busybox sh -c 'read x; echo got-$x; exit 6' >/dev/null
  run drive 'send hello\r
expect got-hello' start -ai t5
  echo "$output"
  [ "$status" -eq 6 ]
  wait_status t5 "Exited (6)"
}

@test "--detach-keys: another sequence detaches; a bad one is refused" {
  arca run -dit --network none --name t6 busybox sh >/dev/null
  wait_status t6 Up
  # ctrl-p ctrl-q is plain input now (an empty line for the shell); ctrl-x d detaches.
  run drive 'sleep 0.3
send \x10\x11
sleep 0.2
send \r
send echo still-$((1+1))\r
expect still-2
send \x18d' attach --detach-keys ctrl-x,d t6
  echo "$output"
  [ "$status" -eq 0 ]
  wait_status t6 Up
  run --separate-stderr arca attach --detach-keys ctrl-1 t6
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"--detach-keys"* ]]
}

@test "attach --no-stdin: output only; the container outlives an attach that is killed" {
  arca run -dit --network none --name t7 busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
  wait_status t7 Up
  run timeout 2 "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" attach --no-stdin t7 </dev/null
  [ "$status" -eq 124 ]
  [[ "$output" == *tick* ]]
  wait_status t7 Up
}
