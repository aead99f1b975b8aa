#!/usr/bin/env bats
# arca pull/push against Debian's docker-registry on 127.0.0.1: plain http, then Basic auth
# over TLS with a CA made here.
load helpers

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_registry NAME [auth]: serves $ET_DIR/NAME/data; sets REG (host:port) and REG_PID.
start_registry() {
  local dir=$ET_DIR/$1 port
  port=$(free_port)
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: error}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    if [ "${2:-}" = auth ]; then
      echo "  tls: {certificate: $ET_DIR/tls/server.crt, key: $ET_DIR/tls/server.key}"
      echo "auth: {htpasswd: {realm: arca-test, path: $ET_DIR/htpasswd}}"
    fi
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  REG_PID=$!
  REG=127.0.0.1:$port
  local scheme=http
  [ "${2:-}" = auth ] && scheme=https
  for _ in $(seq 1 100); do
    curl -sk -o /dev/null "$scheme://$REG/v2/" && return 0
    sleep 0.05
  done
  echo "registry did not start:" >&2
  cat "$dir/log" >&2
  return 1
}

teardown() {
  [ -n "${REG_PID:-}" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  REG_PID=
  local ids id
  ids=$(arca ps -a -q --no-trunc 2>/dev/null || true)
  for id in $ids; do arca rm -f "$id" >/dev/null 2>&1; done
}

@test "push to and pull from a plain-http local registry; the pulled image runs" {
  start_registry plain
  arca tag busybox "$REG/test/busybox:1"
  run arca push "$REG/test/busybox:1"
  [ "$status" -eq 0 ]
  [ "$(curl -s "http://$REG/v2/test/busybox/tags/list")" = '{"name":"test/busybox","tags":["1"]}' ]
  # a second push finds every blob there already
  run arca push "$REG/test/busybox:1"
  [ "$status" -eq 0 ]
  local other=(--root "$ET_DIR/other/root" --run-root "$ET_DIR/other/run")
  run "$ARCA" "${other[@]}" pull "$REG/test/busybox:1"
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
  run "$ARCA" "${other[@]}" run --rm "$REG/test/busybox:1" echo pulled
  [ "$output" = pulled ]
  run --separate-stderr "$ARCA" "${other[@]}" pull "$REG/test/busybox:nope"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"manifest unknown"* ]]
}

@test "a blob corrupted on the registry: pull fails naming the digest and keeps nothing" {
  start_registry corrupt
  arca tag busybox "$REG/test/bb:c"
  arca push "$REG/test/bb:c"
  # the biggest blob is the layer; overwrite its content, keep its name
  local data
  data=$(find "$ET_DIR/corrupt/data" -path '*blobs/sha256/*/data' -size +100k | head -1)
  [ -n "$data" ]
  printf 'not the layer' >"$data"
  local other=(--root "$ET_DIR/c2/root" --run-root "$ET_DIR/c2/run")
  run --separate-stderr "$ARCA" "${other[@]}" pull "$REG/test/bb:c"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"sha256:"* ]]
  run "$ARCA" "${other[@]}" images -q
  [ -z "$output" ]
  # the manifest and config that did arrive are gone again; no layer dir
  [ -z "$(ls "$ET_DIR/c2/root/layers")" ]
  [ -z "$(ls "$ET_DIR/c2/root/blobs/sha256")" ]
}

@test "Basic auth over TLS with a private CA; a wrong password is refused clearly" {
  mkdir -p "$ET_DIR/tls" "$ET_DIR/certs"
  (
    cd "$ET_DIR/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=arca-test-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile ext.cnf 2>/dev/null
  )
  cp "$ET_DIR/tls/ca.crt" "$ET_DIR/certs/ca.crt"
  htpasswd -Bbn tester s3cret >"$ET_DIR/htpasswd"
  start_registry secure auth
  arca tag busybox "$REG/secure/busybox:1"
  run --separate-stderr arca push --cert-dir "$ET_DIR/certs" "$REG/secure/busybox:1"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"authentication required"* ]]
  run --separate-stderr arca push --cert-dir "$ET_DIR/certs" --creds tester:wrong "$REG/secure/busybox:1"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"authentication failed"* ]]
  run --separate-stderr arca push --creds tester:s3cret "$REG/secure/busybox:1"
  [ "$status" -eq 125 ]   # no CA given: the certificate is not trusted
  run arca push --cert-dir "$ET_DIR/certs" --creds tester:s3cret "$REG/secure/busybox:1"
  [ "$status" -eq 0 ]
  local other=(--root "$ET_DIR/s2/root" --run-root "$ET_DIR/s2/run")
  run "$ARCA" "${other[@]}" pull --cert-dir "$ET_DIR/certs" --creds tester:s3cret "$REG/secure/busybox:1"
  [ "$status" -eq 0 ]
  run "$ARCA" "${other[@]}" run --rm "$REG/secure/busybox:1" echo secure
  [ "$output" = secure ]
}
