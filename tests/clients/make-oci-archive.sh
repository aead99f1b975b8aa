#!/usr/bin/env bash
# Packs a rootfs directory as a single-layer OCI image archive (oci-layout, index.json,
# blobs/sha256/...) that `ctr image import` and `podman load` accept.
# Usage: make-oci-archive.sh ROOTFS_DIR OUT.tar [REF]   (REF defaults to localhost/busybox:latest)
set -euo pipefail
rootfs=${1:?usage: $0 ROOTFS_DIR OUT.tar [REF]}
out=${2:?usage: $0 ROOTFS_DIR OUT.tar [REF]}
ref=${3:-localhost/busybox:latest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs/sha256"

# put FILE into blobs/, print its digest
blob() {
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$tmp/blobs/sha256/$d"
  echo "$d"
}

# the layer: reproducible ownership, uncompressed diff id = gzip'd blob digest's source
tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf "$tmp/layer.tar" .
diffid=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n "$tmp/layer.tar"
layer_size=$(stat -c %s "$tmp/layer.tar.gz")
layer=$(blob "$tmp/layer.tar.gz")

jq -n --arg diffid "sha256:$diffid" '{
  architecture: "amd64", os: "linux",
  config: {Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/"},
  rootfs: {type: "layers", diff_ids: [$diffid]},
  history: [{created_by: "tests/clients/make-oci-archive.sh"}]}' >"$tmp/config.json"
config_size=$(stat -c %s "$tmp/config.json")
config=$(blob "$tmp/config.json")

jq -n --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" --argjson ls "$layer_size" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' >"$tmp/manifest.json"
manifest_size=$(stat -c %s "$tmp/manifest.json")
manifest=$(blob "$tmp/manifest.json")

jq -n --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg ref "$ref" '{
  schemaVersion: 2,
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
    platform: {architecture: "amd64", os: "linux"},
    annotations: {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": $ref}}]}' >"$tmp/index.json"
echo '{"imageLayoutVersion": "1.0.0"}' >"$tmp/oci-layout"
tar -C "$tmp" -cf "$out" oci-layout index.json blobs
