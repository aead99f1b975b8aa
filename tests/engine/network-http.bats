#!/usr/bin/env bats
# HTTP servers in bridged containers behind published ports (issue 4): Debian's nginx (the
# host's package files and libraries copied into an image layer by `arca build`, no mirror
# needed) and busybox httpd, each serving a page this test wrote, reached from the host on
# 127.0.0.1 and from a second network namespace, a "client host" on the far side of the
# bridge that only has a veth to the host and a route to the container subnet through it.
load helpers

eval "$(declare -f teardown | sed '1s/teardown/helpers_teardown/')"

# A bridge and subnet of this file's own (network.bats has arcat0).
export ARCA_BRIDGE_NAME=arcah6 ARCA_BRIDGE_SUBNET=172.30.86.0/24
BR=arcah6
CLIENT_NS=arcah6-client
HOST_SIDE_IP=192.168.253.1
CLIENT_IP=192.168.253.2

setup_file() {
  export ET_DIR=$(mktemp -d "$ARCA_ET_WORK/f.XXXXXX")
  export ET_ROOT=$ET_DIR/root ET_RUN=$ET_DIR/run
  ip netns del $CLIENT_NS 2>/dev/null || true
  ip link del arcah6-h 2>/dev/null || true
  ip netns add $CLIENT_NS
  ip link add arcah6-h type veth peer name arcah6-c
  ip link set arcah6-c netns $CLIENT_NS
  ip addr add $HOST_SIDE_IP/30 dev arcah6-h
  ip link set arcah6-h up
  ip -n $CLIENT_NS addr add $CLIENT_IP/30 dev arcah6-c
  ip -n $CLIENT_NS link set arcah6-c up
  ip -n $CLIENT_NS link set lo up
  ip -n $CLIENT_NS route add ${ARCA_BRIDGE_SUBNET} via $HOST_SIDE_IP
}

teardown_file() {
  ip netns del $CLIENT_NS 2>/dev/null || true
  ip link del arcah6-h 2>/dev/null || true
  ip link del $BR 2>/dev/null || true
  nft delete table ip arca-$BR 2>/dev/null || true
  if grep -q " $ET_DIR/" /proc/self/mountinfo; then
    echo "leaked mounts" >&2
    return 1
  fi
  rm -rf "$ET_DIR"
}

teardown() {
  helpers_teardown
  local veths
  veths=$(ip -o link show master $BR 2>/dev/null | grep -c ' veth' || true)
  if [ "$veths" != 0 ]; then
    echo "leak: veth on $BR: $(ip -o link show master $BR)" >&2
    return 1
  fi
}

ip_of() { arca exec "$1" ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p'; }

# A page nobody else could serve: what the test wrote, with a random token.
make_page() { # NAME -> $ET_DIR/www-NAME/index.html; prints the content
  mkdir -p "$ET_DIR/www-$1"
  printf '<p>%s %s</p>\n' "$1" "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$ET_DIR/www-$1/index.html"
  cat "$ET_DIR/www-$1/index.html"
}

# Waits until the host gets a 200 from 127.0.0.1:PORT.
wait_http() {
  local i
  for i in $(seq 1 100); do
    curl -sf -m 2 -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "no HTTP answer on 127.0.0.1:$1" >&2
  return 1
}

# The same page through both published ports, from the host and from the client host;
# the port published on 127.0.0.1 only is not reachable from the client host.  curl, not
# busybox wget: the host's busybox wget -T crashes (SIGSEGV) on Debian 12.
check_reachable() { # NAME LOCAL_PORT ALL_PORT PAGE
  local name=$1 local_port=$2 all_port=$3 page=$4 ip
  wait_http "$local_port"
  run curl -sf -m 5 "http://127.0.0.1:$local_port/index.html"
  [ "$status" -eq 0 ]
  [ "$output" = "$page" ]
  run ip netns exec $CLIENT_NS curl -sf -m 5 "http://$HOST_SIDE_IP:$all_port/index.html"
  echo "client host -> $HOST_SIDE_IP:$all_port: $output" >&2
  [ "$status" -eq 0 ]
  [ "$output" = "$page" ]
  # Through the route to the container subnet, to the container's own address.
  ip=$(ip_of "$name")
  [[ "$ip" == 172.30.86.* ]]
  run ip netns exec $CLIENT_NS curl -sf -m 5 "http://$ip/index.html"
  echo "client host -> $ip:80: $output" >&2
  [ "$status" -eq 0 ]
  [ "$output" = "$page" ]
  run timeout 10 ip netns exec $CLIENT_NS curl -sf -m 3 "http://$HOST_SIDE_IP:$local_port/index.html"
  [ "$status" -ne 0 ]
}

@test "busybox httpd in a container: the page through -p 127.0.0.1:PORT:80 and -p PORT:80" {
  page=$(make_page busybox)
  arca run -d --name httpd -p 127.0.0.1:18661:80 -p 18662:80 -v "$ET_DIR/www-busybox:/www:ro" \
    busybox httpd -f -p 80 -h /www
  check_reachable httpd 18661 18662 "$page"
  # The container's own view: it is listening on its eth0's port 80, not the host's.
  run arca exec httpd netstat -ltn
  [[ "$output" == *":80 "* ]]
  [[ "$output" != *":18661 "* ]]
}

# The host's nginx (Debian's package) with the libraries it links and a config of ours,
# layered on busybox by `arca build`.
build_nginx_image() {
  local ctx=$ET_DIR/nginx-ctx bin lib
  bin=$(command -v nginx)
  rm -rf "$ctx"
  mkdir -p "$ctx/root/etc" "$ctx/root/usr/sbin"
  cp -L "$bin" "$ctx/root/usr/sbin/nginx"
  for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    mkdir -p "$ctx/root$(dirname "$lib")"
    cp -L "$lib" "$ctx/root$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$ctx/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/root/etc/group"
  mkdir -p "$ctx/root/etc/nginx"
  cat >"$ctx/root/etc/nginx/arca-test.conf" <<'EOF'
daemon off;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  server { listen 80; root /www; }
}
EOF
  cat >"$ctx/Containerfile" <<'EOF'
FROM busybox
COPY root/ /
RUN mkdir -p /tmp /www && nginx -V 2>&1 | head -1
CMD ["nginx", "-e", "stderr", "-c", "/etc/nginx/arca-test.conf"]
EOF
  arca build -t localhost/nginx-test:1 "$ctx"
}

@test "Debian's nginx in a container: the page through -p 127.0.0.1:PORT:80 and -p PORT:80" {
  command -v nginx >/dev/null || skip "nginx is not installed on the host (scripts/install-deps.sh installs nginx-light)"
  dpkg-query -W -f='${Status}' nginx 2>/dev/null | grep -q "install ok installed" \
    || skip "the host's nginx is not Debian's package"
  arca run --rm busybox true   # the embedded busybox image, for FROM
  run build_nginx_image
  echo "$output" >&2
  [ "$status" -eq 0 ]
  [[ "$output" == *"nginx version: nginx/"* ]]
  page=$(make_page nginx)
  arca run -d --name nginx -p 127.0.0.1:18663:80 -p 18664:80 -v "$ET_DIR/www-nginx:/www:ro" \
    localhost/nginx-test:1
  check_reachable nginx 18663 18664 "$page"
  # nginx itself answered (its Server header), not some other listener on the host.
  run curl -sI -m 5 http://127.0.0.1:18663/index.html
  [[ "$output" == *"Server: nginx/"* ]]
  # A missing page is nginx's 404 through the same path.
  run curl -s -o /dev/null -w '%{http_code}' -m 5 http://127.0.0.1:18663/missing.html
  [ "$output" = 404 ]
}

@test "the monitor attaches through arca-netattach, which loads no image libraries; its errors read as arca's" {
  local netattach
  netattach=$(dirname "$ARCA")/../netattach/arca-netattach
  [ -x "$netattach" ] || skip "this build has no arca-netattach"
  # What makes it cheap: none of arca's image, registry or archive libraries.
  run ldd "$netattach"
  [ "$status" -eq 0 ]
  [[ "$output" == *libnftables* ]]
  [[ "$output" != *libcurl* && "$output" != *libarchive* && "$output" != *libcrypto* ]]
  arca run --rm busybox true   # the store and its database
  run "$netattach" --root "$ET_ROOT" --run-root "$ET_RUN" nosuch 1
  [ "$status" -eq 125 ]
  [[ "$output" == "arca: no such container: nosuch"* ]]
  run "$netattach" --root "$ET_ROOT" --run-root "$ET_RUN" nosuch 12x
  [ "$status" -eq 125 ]
  [[ "$output" == *'PID `12x`: not a process id'* ]]
  command -v strace >/dev/null || skip "strace is needed to see which program attaches"
  strace -f -qq -e trace=execve -o "$ET_DIR/run.trace" \
    "$ARCA" --root "$ET_ROOT" --run-root "$ET_RUN" run --rm busybox true
  grep -q 'execve(".*arca-netattach", .* = 0' "$ET_DIR/run.trace"
  ! grep -q container-network-attach "$ET_DIR/run.trace"
}
