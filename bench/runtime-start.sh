#!/usr/bin/env bash
# Start-up benchmark: `RUNTIME run` of /bin/true on the busybox bundle, arca vs crun vs runc.
#
# Usage: bench/runtime-start.sh BUILD_DIR WORK_DIR
#   ARCA=/path/to/arca-runtime   default BUILD_DIR/src/cli/runtime/arca-runtime
#   RUNS=100                     sequential runs per runtime (interleaved round-robin)
#   MEMSEARCH=1                  0 skips the smallest-memory-limit search
# Prints, per runtime: median / p10 / p90 wall time of one run, median peak RSS
# (/usr/bin/time %M), and the smallest linux.resources.memory.limit with which `run /bin/true`
# still succeeds; then the ratios arca/crun and arca/runc of the medians.
#
# crun 1.8 refuses this cgroup v1 hybrid host, so each crun run goes through
# `unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec ...'` (see the host notes). That
# wrapper's own cost is measured the same way (running /bin/true) and subtracted from crun's
# figures; the raw figure is printed too. Runtimes missing on the host are left out.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:?usage: $0 BUILD_DIR WORK_DIR}
work=${2:?usage: $0 BUILD_DIR WORK_DIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
runs=${RUNS:-100}
arca=${ARCA:-$build/src/cli/runtime/arca-runtime}
[ -x "$arca" ] && arca=$(cd "$(dirname "$arca")" && pwd)/$(basename "$arca")
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "runtime-start: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
command -v jq >/dev/null || { echo "runtime-start: jq is needed" >&2; exit 1; }

bench=$work/runtime-start
rootfs=$work/busybox/rootfs
if [ ! -x "$rootfs/bin/busybox" ]; then
  bash "$repo/scripts/make-busybox-rootfs.sh" "$rootfs" >&2
fi
rm -rf "$bench"
mkdir -p "$bench/bundle"

# one config for every runtime: the runc-style default spec, /bin/true, no terminal
# (root.path is absolute: runc refuses a rootfs that is a symlink, and every bundle shares
# the one read-only rootfs)
base_config() {
  jq -n --arg rootfs "$rootfs" '{
    ociVersion: "1.0.2",
    process: {terminal: false, user: {uid: 0, gid: 0}, args: ["/bin/true"],
      env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], cwd: "/",
      capabilities: {bounding: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
        effective: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
        permitted: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]},
      rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
      noNewPrivileges: true},
    root: {path: $rootfs, readonly: true},
    hostname: "bench",
    mounts: [
      {destination: "/proc", type: "proc", source: "proc"},
      {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
      {destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
      {destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
      {destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]},
      {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]}],
    linux: {
      resources: {devices: [{allow: false, access: "rwm"}]},
      namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}],
      maskedPaths: ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]}}'
}
base_config >"$bench/bundle/config.json"

hide_unified='umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"'

# the runtimes: name, then the command prefix that runs it
names=()
declare -A cmd
add_runtime() { names+=("$1"); cmd[$1]=$2; }
if [ -x "$arca" ]; then add_runtime arca "$arca"; else echo "# arca-runtime not found at $arca: left out" >&2; fi
if command -v crun >/dev/null; then add_runtime crun "$(command -v crun)"; fi
# arca under crun's wrapper too: the same conditions as crun (cgroup2 unmounted, a private
# mount namespace), so the arca/crun ratio compares like with like.
if [ -x "$arca" ]; then add_runtime arca-wrapped "$arca"; fi
if command -v runc >/dev/null; then add_runtime runc "$(command -v runc)"; fi
add_runtime wrapper /bin/true   # the crun wrapper's own cost

# run_once NAME ID BUNDLE: one `run`, appends "wall_ms rss_kib status" to $bench/NAME.dat
run_once() {
  local name=$1 id=$2 bundle=$3 t0 t1 st=0 root=$bench/root-$1
  mkdir -p "$root"
  t0=$EPOCHREALTIME
  case $name in
    crun|arca-wrapped)
      unshare -m sh -c "$hide_unified" sh \
        "$timebin" -f %M -o "$bench/rss" "${cmd[$name]}" --root "$root" run --bundle "$bundle" "$id" \
        </dev/null >/dev/null 2>>"$bench/$name.err" || st=$? ;;
    wrapper)
      unshare -m sh -c "$hide_unified" sh "$timebin" -f %M -o "$bench/rss" /bin/true \
        </dev/null >/dev/null 2>>"$bench/$name.err" || st=$? ;;
    *)
      "$timebin" -f %M -o "$bench/rss" "${cmd[$name]}" --root "$root" run --bundle "$bundle" "$id" \
        </dev/null >/dev/null 2>>"$bench/$name.err" || st=$? ;;
  esac
  t1=$EPOCHREALTIME
  echo "$(( (${t1/./} - ${t0/./}) )) $(tail -1 "$bench/rss" 2>/dev/null || echo 0) $st" >>"$bench/$name.dat"
}

# cleanup NAME ID: removes what a failed run may have left
cleanup() {
  local name=$1 id=$2 root=$bench/root-$1
  [ "$name" = wrapper ] && return 0
  if [ "$name" = crun ] || [ "$name" = arca-wrapped ]; then
    unshare -m sh -c "$hide_unified" sh "${cmd[$name]}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  else
    "${cmd[$name]}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  fi
}

# percentile FILE COLUMN P: the P-th percentile (nearest rank) of a column of successful runs
percentile() {
  awk -v c="$2" '$3 == 0 { print $c }' "$1" | sort -n | awk -v p="$3" '
    { v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

echo "# runtime-start: $runs interleaved runs of /bin/true per runtime ($(date -u +%FT%TZ), $(nproc) cpus)"
for n in "${names[@]}"; do
  [ "$n" = wrapper ] && continue
  echo "# $n: ${cmd[$n]} ($("${cmd[$n]}" --version 2>/dev/null | head -1))"
done
# warm-up (page cache, first-run costs), not counted
for n in "${names[@]}"; do run_once "$n" "warm-$n" "$bench/bundle"; cleanup "$n" "warm-$n"; rm -f "$bench/$n.dat"; done
# The order rotates every round: a run pays part of the kernel's asynchronous teardown of the
# previous run's namespaces (network namespaces above all), so a fixed order would charge each
# runtime for its predecessor's.
for i in $(seq 1 "$runs"); do
  k=${#names[@]}
  for j in $(seq 0 $((k - 1))); do
    n=${names[$(( (i + j) % k ))]}
    run_once "$n" "b$i-$n" "$bench/bundle"
    tail -1 "$bench/$n.dat" | awk '$3 != 0 { exit 1 }' || cleanup "$n" "b$i-$n"
  done
done

declare -A med
over_us=$(percentile "$bench/wrapper.dat" 1 50)
printf '%-8s %10s %10s %10s %12s %6s\n' runtime median_ms p10_ms p90_ms peak_rss_kib fails
for n in "${names[@]}"; do
  f=$bench/$n.dat
  m=$(percentile "$f" 1 50) p10=$(percentile "$f" 1 10) p90=$(percentile "$f" 1 90)
  rss=$(percentile "$f" 2 50)
  fails=$(awk '$3 != 0' "$f" | wc -l)
  if { [ "$n" = crun ] || [ "$n" = arca-wrapped ]; } && [ "$m" != nan ]; then
    printf '%-8s %10.2f %10.2f %10.2f %12s %6s   (raw, with the unshare wrapper)\n' "$n-raw" \
      "$(bc -l <<<"$m/1000")" "$(bc -l <<<"$p10/1000")" "$(bc -l <<<"$p90/1000")" "$rss" "$fails"
    m=$((m - over_us)) p10=$((p10 - over_us)) p90=$((p90 - over_us))
  fi
  med[$n]=$m
  if [ "$m" = nan ]; then
    printf '%-8s %10s %10s %10s %12s %6s   (every run failed: see %s)\n' "$n" nan nan nan nan "$fails" "$bench/$n.err"
    continue
  fi
  printf '%-8s %10.2f %10.2f %10.2f %12s %6s\n' "$n" "$(bc -l <<<"$m/1000")" "$(bc -l <<<"$p10/1000")" \
    "$(bc -l <<<"$p90/1000")" "$rss" "$fails"
done
for other in crun runc; do
  if [ -n "${med[arca]:-}" ] && [ "${med[arca]}" != nan ] && [ -n "${med[$other]:-}" ] && [ "${med[$other]}" != nan ]; then
    printf 'ratio arca/%s: %.2f\n' "$other" "$(bc -l <<<"${med[arca]}/${med[$other]}")"
  fi
done
if [ -n "${med[arca-wrapped]:-}" ] && [ "${med[arca-wrapped]}" != nan ] && [ -n "${med[crun]:-}" ] && [ "${med[crun]}" != nan ]; then
  printf 'ratio arca/crun, both under the wrapper: %.2f\n' "$(bc -l <<<"${med[arca-wrapped]}/${med[crun]}")"
fi

# smallest memory limit: binary search (64 KiB steps) over linux.resources.memory.limit
[ "${MEMSEARCH:-1}" = 1 ] || exit 0
mem_ok() { # NAME LIMIT: does run /bin/true succeed under LIMIT bytes?
  local name=$1 limit=$2 b=$bench/mem-$1 id="m$RANDOM$RANDOM" st=0
  mkdir -p "$b"
  jq --argjson l "$limit" '.linux.resources.memory = {limit: $l}' "$bench/bundle/config.json" >"$b/config.json"
  if [ "$name" = crun ]; then
    timeout 20 unshare -m sh -c "$hide_unified" sh "${cmd[crun]}" --root "$bench/root-crun" run --bundle "$b" "$id" \
      </dev/null >/dev/null 2>&1 || st=$?
  else
    timeout 20 "${cmd[$name]}" --root "$bench/root-$name" run --bundle "$b" "$id" </dev/null >/dev/null 2>&1 || st=$?
  fi
  cleanup "$name" "$id"
  return $st
}
step=65536
for n in "${names[@]}"; do
  [ "$n" = wrapper ] || [ "$n" = arca-wrapped ] && continue
  hi=$((256 * 1024 * 1024))
  if ! mem_ok "$n" "$hi"; then
    echo "min memory limit $n: run fails even at $((hi / 1048576)) MiB"
    continue
  fi
  lo=0
  while [ $((hi - lo)) -gt $step ]; do
    mid=$(((lo + hi) / 2 / step * step))
    [ "$mid" -le "$lo" ] && mid=$((lo + step))
    if mem_ok "$n" "$mid"; then hi=$mid; else lo=$mid; fi
  done
  # the edge is noisy: step up until three runs in a row succeed
  while ! { mem_ok "$n" "$hi" && mem_ok "$n" "$hi" && mem_ok "$n" "$hi"; }; do hi=$((hi + step)); done
  printf 'min memory limit %-5s %6d KiB (%.2f MiB)\n' "$n" $((hi / 1024)) "$(bc -l <<<"$hi/1048576")"
done
