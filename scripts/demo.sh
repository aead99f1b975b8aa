#!/usr/bin/env bash
# The demo: runs the embedded busybox image with arca-runtime and shows, from inside, what the
# container gets (its own pid 1, hostname, mounts, capabilities, cgroup limits), then the
# create/start/exec/pause/delete lifecycle.  No network needed.
# Usage: scripts/demo.sh BUILD_DIR IMAGE_DIR   (IMAGE_DIR/rootfs is the busybox rootfs)
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR IMAGE_DIR}" && pwd)
image=$(cd "${2:?usage: $0 BUILD_DIR IMAGE_DIR}" && pwd)
runtime=$build/src/cli/runtime/arca-runtime
work=$(mktemp -d /tmp/arca-demo.XXXXXX)
state=$work/state
arca=$build/src/cli/engine/arca
engine=(--root "$work/engine" --run-root "$work/engine-run")
cleanup() {
  "$runtime" --root "$state" delete --force demo-svc >/dev/null 2>&1 || true
  for id in $("$arca" "${engine[@]}" ps -a -q 2>/dev/null); do "$arca" "${engine[@]}" rm -f "$id" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

bundle=$work/bundle
mkdir -p "$bundle"
cp -a "$image/rootfs" "$bundle/rootfs"
"$runtime" spec --bundle "$bundle"
script='echo "pid $$ as $(id -u) on host $(hostname)";
grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status;
echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)";
echo "pids limit:   $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)";
echo "processes:"; ps -o pid,user,comm;
echo "root mount:   $(while read -r _ _ _ _ point opts _; do [ "$point" = / ] && echo "$opts"; done </proc/self/mountinfo)"'
jq --arg s "$script" '.process.terminal = false | .process.args = ["sh", "-c", $s]
  | .hostname = "arca-demo"
  | .linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 64' \
  "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "== arca-runtime run (busybox, foreground)"
"$runtime" --root "$state" run --bundle "$bundle" demo

echo
echo "== lifecycle: create, start, exec, pause, resume, kill, delete"
jq '.process.args = ["sleep", "600"]' "$bundle/config.json" >"$bundle/c" && mv "$bundle/c" "$bundle/config.json"
"$runtime" --root "$state" create --bundle "$bundle" demo-svc
echo "after create: $("$runtime" --root "$state" state demo-svc | jq -r .status)"
"$runtime" --root "$state" start demo-svc
echo "after start:  $("$runtime" --root "$state" state demo-svc | jq -r .status)"
echo "exec:         $("$runtime" --root "$state" exec demo-svc sh -c 'echo I am pid $$ next to $(cat /proc/1/comm)')"
"$runtime" --root "$state" pause demo-svc
echo "after pause:  $("$runtime" --root "$state" state demo-svc | jq -r .status)"
"$runtime" --root "$state" resume demo-svc
"$runtime" --root "$state" kill demo-svc KILL
sleep 0.1
echo "after kill:   $("$runtime" --root "$state" state demo-svc | jq -r .status)"
"$runtime" --root "$state" delete demo-svc
echo "deleted; containers left: $("$runtime" --root "$state" list --quiet | wc -l)"

echo
echo "== the engine: arca run --rm busybox (the image is built from busybox-static on first use)"
"$arca" "${engine[@]}" run --rm busybox echo hello from an arca container
"$arca" "${engine[@]}" images
"$arca" "${engine[@]}" run -d --name demo-web busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
sleep 0.5
"$arca" "${engine[@]}" ps
echo "logs: $("$arca" "${engine[@]}" logs --tail 1 demo-web)"
"$arca" "${engine[@]}" rm -f demo-web >/dev/null
echo "removed; containers left: $("$arca" "${engine[@]}" ps -a -q | wc -l)"
