#!/usr/bin/env bats
# Interoperability with podman (Debian's 4.3): images move both ways through archives.
load helpers

# podman refuses a runroot longer than 50 characters: its state lives in a short /tmp dir.
podman_() {
  CONTAINERS_CONF=$ET_DIR/containers.conf timeout 120 podman --root "$PM_DIR/root" \
    --runroot "$PM_DIR/run" --tmpdir "$PM_DIR/tmp" --runtime runc "$@"
}

setup() {
  command -v podman >/dev/null || skip "podman is not installed"
  [ -f "$ET_DIR/pm-dir" ] || mktemp -d /tmp/apm.XXXXXX >"$ET_DIR/pm-dir"
  PM_DIR=$(cat "$ET_DIR/pm-dir")
  # The host's hard RLIMIT_NOFILE is 20000: podman must not ask for more (host notes).
  cat >"$ET_DIR/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
}

teardown_file() {
  PM_DIR=$(cat "$ET_DIR/pm-dir" 2>/dev/null) || PM_DIR=/nonexistent
  podman_ rm -af >/dev/null 2>&1 || true
  podman_ rmi -af >/dev/null 2>&1 || true
  grep " $ET_DIR/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$ET_DIR" "$PM_DIR"
}

@test "an image saved by arca loads in podman and runs" {
  arca save -o "$ET_DIR/from-arca.tar" busybox
  run podman_ load -i "$ET_DIR/from-arca.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"localhost/busybox:latest"* ]]
  run podman_ run --rm localhost/busybox:latest sh -c 'echo made-by-arca; ls /bin/busybox'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = made-by-arca ]
}

@test "an image saved by podman (docker-archive and oci-archive) loads in arca and runs" {
  mkdir -p "$ET_DIR/rootfs/bin"
  cp /bin/busybox "$ET_DIR/rootfs/bin/"
  ln -s busybox "$ET_DIR/rootfs/bin/sh"
  ln -s busybox "$ET_DIR/rootfs/bin/cat"
  echo "from podman" >"$ET_DIR/rootfs/marker"
  tar -C "$ET_DIR/rootfs" -c . | podman_ import - localhost/podmade:1
  podman_ save -o "$ET_DIR/podman-docker.tar" localhost/podmade:1
  podman_ save --format oci-archive -o "$ET_DIR/podman-oci.tar" localhost/podmade:1
  run arca load -i "$ET_DIR/podman-docker.tar"
  [ "$status" -eq 0 ]
  run arca run --rm localhost/podmade:1 /bin/cat /marker
  [ "$output" = "from podman" ]
  local other=(--root "$ET_DIR/o/root" --run-root "$ET_DIR/o/run")
  run "$ARCA" "${other[@]}" load -i "$ET_DIR/podman-oci.tar"
  [ "$status" -eq 0 ]
  run "$ARCA" "${other[@]}" images --format json
  [[ "$output" == *"podmade"* ]]
}
