#!/usr/bin/env bats
# Real software in a real image: Debian bookworm (debootstrap minbase + python3), built by
# scripts/make-debian-image.sh (cached under /var/cache/arca between runs).
load helpers

setup_file() {
  export ET_DIR=$(mktemp -d "$ARCA_ET_WORK/f.XXXXXX")
  export ET_ROOT=$ET_DIR/root ET_RUN=$ET_DIR/run
  local repo
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  EXTRA_PACKAGES="python3" bash "$repo/scripts/make-debian-image.sh" "$ARCA" --root "$ET_ROOT" \
    --run-root "$ET_RUN" >"$ET_DIR/make-image.log" 2>&1 || {
    echo "building the Debian image failed:" >&2
    tail -20 "$ET_DIR/make-image.log" >&2
    return 1
  }
}

@test "Debian image: bash, coreutils and Python run, as in a Debian system" {
  run --separate-stderr arca run --rm debian:bookworm bash -c 'cat /etc/debian_version; readlink -f /bin/sh; id -un'
  echo "stdout: $output; stderr: $stderr" >&2
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == 12.* ]]
  [ "${lines[1]}" = /usr/bin/dash ]
  [ "${lines[2]}" = root ]
  run arca run --rm -e GREETING=hi debian:bookworm python3 -c 'import os, json, hashlib; print(json.dumps({"g": os.environ["GREETING"], "h": hashlib.sha256(b"arca").hexdigest()[:8]}))'
  [ "$status" -eq 0 ]
  [ "$output" = '{"g": "hi", "h": "'"$(printf arca | sha256sum | cut -c1-8)"'"}' ]
}

@test "Debian image: a user from the image's /etc/passwd and a script through a bind mount" {
  printf '#!/bin/sh\necho "$(id -un) in $(pwd)"\n' >"$ET_DIR/script.sh"
  chmod 755 "$ET_DIR/script.sh"
  run arca run --rm -u nobody -w /tmp -v "$ET_DIR/script.sh:/usr/local/bin/hello:ro" debian:bookworm hello
  [ "$status" -eq 0 ]
  [ "$output" = "nobody in /tmp" ]
}
