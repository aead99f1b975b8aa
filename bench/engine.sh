#!/usr/bin/env bash
# The engine side by side with podman (Debian's 4.3, runtime runc; crun refuses this hybrid
# cgroup host), in one run, printing ratios (arca / podman; < 1 means arca is faster/smaller):
#   1. `run --rm busybox true`                  (goal: <= 0.2)
#   2. `run -d` + `stop -t 0` cycle
#   3. memory per idle container (the monitor vs conmon, PSS)   (goal: < 1)
#   4. `load` of the Debian minbase image (when scripts/make-debian-image.sh has cached it)
#   5. `build` of a small Containerfile, uncached and cached (when `arca build` exists)
# Usage: bench/engine.sh BUILD_DIR [RUNS] [IDLE_CONTAINERS]
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [RUNS] [IDLE]}" && pwd)
runs=${2:-20}
idle=${3:-20}
arca_bin=$build/src/cli/engine/arca
work=$(mktemp -d /tmp/aeb.XXXXXX)
pm=$(mktemp -d /run/apb.XXXXXX)   # podman wants a runroot under 50 characters
rr=$(mktemp -d /run/aeb.XXXXXX)   # run roots on tmpfs for both, as their defaults are
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
arca=("$arca_bin" --root "$work/arca" --run-root "$rr")
podman=(env CONTAINERS_CONF="$work/containers.conf" podman --root "$work/podman" --runroot "$pm/run"
  --tmpdir "$pm/tmp" --runtime runc)
cleanup() {
  for id in $("${arca[@]}" ps -aq 2>/dev/null); do "${arca[@]}" rm -f "$id" >/dev/null 2>&1; done
  "${podman[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  "${podman[@]}" rmi -af >/dev/null 2>&1 || true
  grep -E " ($work|$pm|$rr)/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" "$pm" "$rr"
}
trap cleanup EXIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
median_ms() { jq -r ".results[$1].median * 1000" "$2"; }

echo "== setup: the busybox image in both"
"${arca[@]}" run --rm busybox true
"${arca[@]}" save -o "$work/busybox.tar" busybox
"${podman[@]}" load -q -i "$work/busybox.tar" >/dev/null

echo "== 1. run --rm busybox true ($runs runs each, interleaved by hyperfine)"
hyperfine -N -w 2 -r "$runs" --export-json "$work/run.json" \
  "${arca[*]} run --rm busybox true" "${podman[*]} run --rm localhost/busybox true" >/dev/null
a=$(median_ms 0 "$work/run.json"); p=$(median_ms 1 "$work/run.json")
printf 'run --rm: arca %.1f ms, podman %.1f ms, ratio %s (goal <= 0.2)\n' "$a" "$p" "$(ratio "$a" "$p")"

echo "== 2. run -d + stop -t 0"
cycle_arca() { for i in $(seq 1 "$1"); do "${arca[@]}" run -d --name c$i busybox sleep 600 >/dev/null; "${arca[@]}" stop -t 0 c$i >/dev/null; "${arca[@]}" rm c$i >/dev/null; done; }
cycle_podman() { for i in $(seq 1 "$1"); do "${podman[@]}" run -d --name c$i localhost/busybox sleep 600 >/dev/null; "${podman[@]}" stop -t 0 c$i >/dev/null; "${podman[@]}" rm c$i >/dev/null; done; }
n=$((runs / 4 + 1))
s=$(date +%s%N); cycle_arca "$n"; a=$(( ($(date +%s%N) - s) / n / 1000000 ))
s=$(date +%s%N); cycle_podman "$n"; p=$(( ($(date +%s%N) - s) / n / 1000000 ))
echo "run -d + stop + rm: arca $a ms, podman $p ms, ratio $(ratio "$a" "$p")"

echo "== 3. $idle idle containers: memory of the per-container monitor (PSS)"
pss_of() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "$@" 2>/dev/null; }
for i in $(seq 1 "$idle"); do "${arca[@]}" run -d --name idle$i busybox sleep 3600 >/dev/null; done
sleep 1
# Only our monitors (their command line names our root; other stores may run on this host).
mon_pids=$(for p in $(pgrep -x arca-monitor || true); do
  tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q -- "$work/arca/" && echo "$p"; done)
a_kb=0; for pid in $mon_pids; do a_kb=$((a_kb + $(pss_of /proc/$pid/smaps_rollup))); done
for i in $(seq 1 "$idle"); do "${podman[@]}" run -d --name idle$i localhost/busybox sleep 3600 >/dev/null; done
sleep 1
p_kb=0; for pid in $(pgrep -f "conmon .*$pm/run" || true); do p_kb=$((p_kb + $(pss_of /proc/$pid/smaps_rollup))); done
echo "per idle container: arca-monitor $((a_kb / idle)) KiB PSS, conmon $((p_kb / idle)) KiB PSS, ratio $(ratio "$a_kb" "$p_kb") (goal < 1)"
for i in $(seq 1 "$idle"); do "${arca[@]}" rm -f idle$i >/dev/null; done
"${podman[@]}" rm -af -t 0 >/dev/null 2>&1 || true

echo "== 4. load of the Debian minbase image"
cache=${DEBIAN_IMAGE_CACHE:-/var/cache/arca/debian-bookworm}
if ls "$cache"/.arca-complete-* >/dev/null 2>&1; then
  tar --numeric-owner -C "$cache" --exclude=./.arca-complete-* -cf "$work/deb-rootfs.tar" .
  "${arca[@]}" import "$work/deb-rootfs.tar" debian:bench >/dev/null
  "${arca[@]}" save -o "$work/debian.tar" debian:bench
  # Every load goes into a store of its own and nothing is deleted between them: on ext4
  # without a journal (this host) creating inodes near ones deleted in the last minutes
  # scans past each of those (recently_deleted()), so an `rmi` just before a load slows
  # whichever tool loads first.  The order alternates; wall is the median, CPU the
  # median of user+sys.
  load_runs=${LOAD_RUNS:-3}
  : >"$work/load-a"; : >"$work/load-p"
  for i in $(seq 1 "$load_runs"); do
    sync
    for who in $( ((i % 2)) && echo "arca podman" || echo "podman arca"); do
      if [ "$who" = arca ]; then
        /usr/bin/time -o "$work/t" -f "%e %U %S" "$arca_bin" --root "$work/arca-load$i" \
          --run-root "$rr" load -i "$work/debian.tar" >/dev/null
      else
        /usr/bin/time -o "$work/t" -f "%e %U %S" env CONTAINERS_CONF="$work/containers.conf" \
          podman --root "$work/podman-load$i" --runroot "$pm/run-load$i" --tmpdir "$pm/tmp" \
          --runtime runc load -q -i "$work/debian.tar" >/dev/null
      fi
      awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$work/t" >>"$work/load-${who:0:1}"
    done
  done
  med() { cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  a=$(med "$work/load-a" 1); p=$(med "$work/load-p" 1)
  ac=$(med "$work/load-a" 2); pc=$(med "$work/load-p" 2)
  echo "load debian ($load_runs runs): arca $a ms (CPU $ac ms), podman $p ms (CPU $pc ms), ratio $(ratio "$a" "$p") (CPU $(ratio "$ac" "$pc"))"
else
  echo "load debian: skipped (run scripts/make-debian-image.sh first to cache the image)"
fi

echo "== 5. build of a small Containerfile"
if "$arca_bin" build --help >/dev/null 2>&1; then
  mkdir -p "$work/ctx"
  printf 'FROM localhost/busybox:latest\nRUN echo built >/built\nCOPY file /file\nCMD ["cat", "/built"]\n' >"$work/ctx/Containerfile"
  echo data >"$work/ctx/file"
  for mode in uncached cached; do
    flag=""; [ $mode = uncached ] && flag=--no-cache
    s=$(date +%s%N); "${arca[@]}" build $flag -t b:1 "$work/ctx" >/dev/null; a=$(( ($(date +%s%N) - s) / 1000000 ))
    s=$(date +%s%N); "${podman[@]}" build $flag -q -t b:1 "$work/ctx" >/dev/null; p=$(( ($(date +%s%N) - s) / 1000000 ))
    echo "build $mode: arca $a ms, podman $p ms, ratio $(ratio "$a" "$p")"
  done
else
  echo "build: skipped (this arca has no build command yet)"
fi
