#!/usr/bin/env bash
# Container networking side by side, in one run, printing ratios:
#   1. TCP throughput host -> container through a published port on 127.0.0.1 (iperf3 server
#      in the container) vs host loopback (the same iperf3 server on the host), on the default
#      bridge of each (arca's: links at 65520, routes other than to the host at 1500; podman's:
#      1500) and on a network created with MTU 65520 for both
#   2. HTTP requests/s and latency (wrk) against nginx in a container through the published
#      port vs the same nginx and config on host loopback
#   3. the same through podman's network stack (CNI or netavark, whichever podman 4.3 has)
#   4. the bridge's price per container: `run --rm busybox true` with the bridge and with
#      --network none, and the attach step alone (arca-netattach, run by the monitor)
# Goal: >= 90 % of loopback throughput on the veth path, and ahead of podman.
# Usage: bench/network.sh BUILD_DIR [ROUNDS] [SECONDS]
# Needs root, iperf3, wrk, nginx (scripts/install-deps.sh); podman is optional.
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [ROUNDS] [SECONDS]}" && pwd)
rounds=${2:-3}
secs=${3:-5}
arca_bin=$build/src/cli/engine/arca
for tool in iperf3 wrk nginx jq; do
  command -v $tool >/dev/null || { echo "bench/network.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$arca_bin" ] || { echo "bench/network.sh: no $arca_bin (build first)" >&2; exit 1; }
nginx_bin=$(command -v nginx)

# A bridge and subnet of the benchmark's own, so tests and other engine roots on the host
# cannot take its addresses.
export ARCA_BRIDGE_NAME=${ARCA_BRIDGE_NAME:-arcanb0} ARCA_BRIDGE_SUBNET=${ARCA_BRIDGE_SUBNET:-172.30.87.0/24}
work=$(mktemp -d /tmp/anb.XXXXXX)
pm=$(mktemp -d /run/pnb.XXXXXX)   # podman wants a runroot under 50 characters
rr=$(mktemp -d /run/anb.XXXXXX)
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_config_dir = "WORK/cni"
CONF
sed -i "s|WORK|$work|" "$work/containers.conf"
arca=("$arca_bin" --root "$work/arca" --run-root "$rr")
podman=(env CONTAINERS_CONF="$work/containers.conf" podman --root "$work/podman" --runroot "$pm/run"
  --tmpdir "$pm/tmp" --runtime runc)
host_pids=()
cleanup() {
  for p in "${host_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for id in $("${arca[@]}" ps -aq 2>/dev/null); do "${arca[@]}" rm -f "$id" >/dev/null 2>&1; done
  "${arca[@]}" network rm netbench-jumbo >/dev/null 2>&1 || true
  if command -v podman >/dev/null; then
    "${podman[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    "${podman[@]}" rmi -af >/dev/null 2>&1 || true
    "${podman[@]}" network rm -f netbench-jumbo >/dev/null 2>&1 || true
  fi
  grep -E " ($work|$pm|$rr)/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$ARCA_BRIDGE_NAME" 2>/dev/null || true
  nft delete table ip "arca-$ARCA_BRIDGE_NAME" 2>/dev/null || true
  rm -rf "$work" "$pm" "$rr"
}
trap cleanup EXIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  local i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# ---- the image: the host's iperf3 and nginx with their libraries (Debian's binaries; no
# mirror is needed inside the container), a page to serve, and busybox for a shell.
root=$work/rootfs
copy_with_libs() {
  local f
  for f in "$@" $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
}
mkdir -p "$root"/{etc,tmp,www,run,bin} "$root/var/log"
chmod 1777 "$root/tmp"
copy_with_libs "$(command -v iperf3)" "$nginx_bin"
cp "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
head -c 612 /dev/zero | tr '\0' 'x' >"$root/www/index.html"   # the size of nginx's welcome page
nginx_conf() { # PORT PREFIX: one worker, no logs, temp files in PREFIX/tmp
  cat <<EOF
daemon off;
worker_processes 1;
pid $2/tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $2/tmp/body; proxy_temp_path $2/tmp/proxy;
  fastcgi_temp_path $2/tmp/fastcgi; uwsgi_temp_path $2/tmp/uwsgi; scgi_temp_path $2/tmp/scgi;
  server { listen $1; root $2/www; }
}
EOF
}
nginx_conf 80 "" >"$root/etc/nginx.conf"
tar -C "$root" -cf "$work/image.tar" .
"${arca[@]}" import "$work/image.tar" localhost/netbench:1 >/dev/null

# ---- host loopback servers
iperf_host_port=$(free_port)
iperf3 -s -p "$iperf_host_port" -B 127.0.0.1 >/dev/null 2>&1 &
host_pids+=($!)
mkdir -p "$work/host-nginx/tmp" "$work/host-nginx/www"
cp "$root/www/index.html" "$work/host-nginx/www/"
nginx_host_port=$(free_port)
nginx_conf "127.0.0.1:$nginx_host_port" "$work/host-nginx" >"$work/host-nginx/nginx.conf"
"$nginx_bin" -e stderr -c "$work/host-nginx/nginx.conf" 2>"$work/host-nginx/err" &
host_pids+=($!)
wait_port "$nginx_host_port"
wait_port "$iperf_host_port"

# ---- arca: both servers in bridged containers, published on 127.0.0.1
arca_iperf_port=$(free_port)
"${arca[@]}" run -d --name iperf -p "127.0.0.1:$arca_iperf_port:5201" localhost/netbench:1 iperf3 -s -p 5201 >/dev/null
arca_nginx_port=$(free_port)
"${arca[@]}" run -d --name nginx -p "127.0.0.1:$arca_nginx_port:80" localhost/netbench:1 nginx -e stderr -c /etc/nginx.conf >/dev/null
wait_port "$arca_iperf_port"
wait_port "$arca_nginx_port"
# The same server on a network created with MTU 65520 (close to loopback's 65536), for
# arca and podman alike: links and routes at that MTU (docs/engine.md, MTU).
"${arca[@]}" network create -o mtu=65520 netbench-jumbo >/dev/null
arca_jumbo_port=$(free_port)
"${arca[@]}" run -d --name iperf-jumbo --network netbench-jumbo -p "127.0.0.1:$arca_jumbo_port:5201" \
  localhost/netbench:1 iperf3 -s -p 5201 >/dev/null
wait_port "$arca_jumbo_port"
arca_ip=$("${arca[@]}" exec iperf busybox ip -o -4 addr show eth0 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }' || true)

# ---- podman: the same image and commands, if its networking works here
podman_ok=""
podman_jumbo_ok=""
podman_why=""
if ! command -v podman >/dev/null; then
  podman_why="podman is not installed"
else
  "${podman[@]}" import -q "$work/image.tar" localhost/netbench:1 >/dev/null
  podman_iperf_port=$(free_port)
  podman_nginx_port=$(free_port)
  if out=$("${podman[@]}" run -d --name iperf -p "127.0.0.1:$podman_iperf_port:5201" localhost/netbench:1 iperf3 -s -p 5201 2>&1) \
    && out=$("${podman[@]}" run -d --name nginx -p "127.0.0.1:$podman_nginx_port:80" localhost/netbench:1 nginx -e stderr -c /etc/nginx.conf 2>&1) \
    && wait_port "$podman_iperf_port" 2>/dev/null && wait_port "$podman_nginx_port" 2>/dev/null; then
    podman_ok=1
    podman_net=$("${podman[@]}" info --format '{{.Host.NetworkBackend}}' 2>/dev/null || echo "?")
    podman_jumbo_port=$(free_port)
    if "${podman[@]}" network create --opt mtu=65520 netbench-jumbo >/dev/null 2>&1 \
      && "${podman[@]}" run -d --name iperf-jumbo --network netbench-jumbo \
        -p "127.0.0.1:$podman_jumbo_port:5201" localhost/netbench:1 iperf3 -s -p 5201 >/dev/null 2>&1 \
      && wait_port "$podman_jumbo_port" 2>/dev/null; then
      podman_jumbo_ok=1
    fi
  else
    podman_why="podman run -p failed: $(printf '%s' "$out" | tail -1)"
  fi
fi

# ---- 1. iperf3: ROUNDS rounds, the targets interleaved in each
iperf_once() { # PORT -> Gbit/s received
  iperf3 -c 127.0.0.1 -p "$1" -t "$secs" -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e9'
}
echo "== 1. TCP throughput, iperf3 -t $secs, $rounds rounds (Gbit/s, median)"
for r in $(seq 1 "$rounds"); do
  iperf_once "$iperf_host_port" >>"$work/iperf.loopback"
  iperf_once "$arca_iperf_port" >>"$work/iperf.arca"
  if [ -n "$arca_ip" ]; then iperf3 -c "$arca_ip" -p 5201 -t "$secs" -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e9' >>"$work/iperf.arca-direct"; fi
  [ -n "$podman_ok" ] && iperf_once "$podman_iperf_port" >>"$work/iperf.podman"
  iperf_once "$arca_jumbo_port" >>"$work/iperf.arca-jumbo"
  [ -n "$podman_jumbo_ok" ] && iperf_once "$podman_jumbo_port" >>"$work/iperf.podman-jumbo"
done
loop=$(median <"$work/iperf.loopback")
a=$(median <"$work/iperf.arca")
printf 'loopback              %8.2f Gbit/s\n' "$loop"
printf 'arca  -p 127.0.0.1    %8.2f Gbit/s  ratio to loopback %s (goal >= 0.9)\n' "$a" "$(ratio "$a" "$loop")"
[ -s "$work/iperf.arca-direct" ] &&
  printf 'arca  container IP    %8.2f Gbit/s  (veth + bridge, no DNAT)\n' "$(median <"$work/iperf.arca-direct")"
if [ -n "$podman_ok" ]; then
  p=$(median <"$work/iperf.podman")
  printf 'podman -p 127.0.0.1   %8.2f Gbit/s  ratio to loopback %s; arca/podman %s (goal > 1)\n' \
    "$p" "$(ratio "$p" "$loop")" "$(ratio "$a" "$p")"
else
  echo "podman: skipped: $podman_why"
fi
aj=$(median <"$work/iperf.arca-jumbo")
printf 'arca  -o mtu=65520 -p %8.2f Gbit/s  ratio to loopback %s (goal >= 0.9)\n' "$aj" "$(ratio "$aj" "$loop")"
if [ -n "$podman_jumbo_ok" ]; then
  pj=$(median <"$work/iperf.podman-jumbo")
  printf 'podman mtu=65520 -p   %8.2f Gbit/s  ratio to loopback %s; arca/podman %s (goal > 1)\n' \
    "$pj" "$(ratio "$pj" "$loop")" "$(ratio "$aj" "$pj")"
else
  echo "podman MTU 65520: skipped (podman network create --opt mtu=65520 or its run failed)"
fi

# ---- 2. wrk against nginx
wrk_once() { # PORT -> "requests/s p50_ms p99_ms"
  wrk -t 2 -c 16 -d "${secs}s" --latency "http://127.0.0.1:$1/" 2>/dev/null | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
    END { printf "%s %s %s\n", rps + 0, p50 + 0, p99 + 0 }'
}
echo "== 2. HTTP, wrk -t2 -c16 -d${secs}s against nginx (612-byte page), $rounds rounds (median)"
for r in $(seq 1 "$rounds"); do
  wrk_once "$nginx_host_port" >>"$work/wrk.loopback"
  wrk_once "$arca_nginx_port" >>"$work/wrk.arca"
  [ -n "$podman_ok" ] && wrk_once "$podman_nginx_port" >>"$work/wrk.podman"
done
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
report_wrk() { # NAME FILE
  printf '%-21s %9.0f req/s  p50 %6.3f ms  p99 %6.3f ms' "$1" "$(col 1 "$2")" "$(col 2 "$2")" "$(col 3 "$2")"
}
lrps=$(col 1 "$work/wrk.loopback")
arps=$(col 1 "$work/wrk.arca")
report_wrk "loopback" "$work/wrk.loopback"; echo
report_wrk "arca  -p 127.0.0.1" "$work/wrk.arca"; echo "  ratio to loopback $(ratio "$arps" "$lrps")"
if [ -n "$podman_ok" ]; then
  prps=$(col 1 "$work/wrk.podman")
  report_wrk "podman -p 127.0.0.1" "$work/wrk.podman"
  echo "  ratio to loopback $(ratio "$prps" "$lrps"); arca/podman $(ratio "$arps" "$prps") (goal > 1)"
  echo "(podman's network backend here: $podman_net)"
else
  echo "podman: skipped: $podman_why"
fi

# ---- 3. what the bridge costs per container
echo "== 3. start cost of the bridge: run --rm busybox true (hyperfine, 10 runs each)"
"${arca[@]}" run --rm busybox true
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 2 -r 10 --export-json "$work/start.json" \
    "${arca[*]} run --rm busybox true" "${arca[*]} run --rm --network none busybox true" >/dev/null
  b=$(jq -r '.results[0].median * 1000' "$work/start.json")
  n=$(jq -r '.results[1].median * 1000' "$work/start.json")
  printf 'bridge %.1f ms, none %.1f ms: the bridge adds %.1f ms\n' "$b" "$n" "$(awk -v b="$b" -v n="$n" 'BEGIN { print b - n }')"
fi
# The attach step alone, from the monitor's execve of it to its exit.
if command -v strace >/dev/null; then
  for i in 1 2 3 4 5; do
    strace -f --seccomp-bpf -qq -ttt -e trace=execve,exit_group -o "$work/attach.trace" \
      "${arca[@]}" run --rm busybox true
    awk '/execve\(.*(container-network-attach|arca-netattach)/ && !/= -1/ { p = $1; s = $2 }
         $1 == p && /exit_group/ { printf "%.1f\n", ($2 - s) * 1000 }' "$work/attach.trace"
  done | median | xargs printf 'attach step (%s): %.1f ms median of 5\n' \
    "$([ -x "$build/src/cli/netattach/arca-netattach" ] && echo arca-netattach || echo "arca container-network-attach")"
fi
