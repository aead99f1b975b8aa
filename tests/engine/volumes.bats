#!/usr/bin/env bats
# Volumes: named and anonymous, image VOLUMEs, rm -v, prune.
load helpers

# An image "localhost/withvol:1" = busybox + /data/seed (content "from-image")
# with VOLUME /data, written as a docker-archive by hand.
make_volume_image() {
  local d=$ET_DIR/volimg
  rm -rf "$d" && mkdir -p "$d/rootfs"
  arca create --name volsrc busybox true >/dev/null
  arca export volsrc -o "$d/base.tar"
  arca rm volsrc >/dev/null
  tar -C "$d/rootfs" -xf "$d/base.tar"
  mkdir -p "$d/rootfs/data"
  echo from-image >"$d/rootfs/data/seed"
  chown 1234:1234 "$d/rootfs/data"
  tar -C "$d/rootfs" --numeric-owner -cf "$d/layer.tar" .
  local diff_id
  diff_id=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
  cat >"$d/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z",
 "config":{"Cmd":["sh"],"Volumes":{"/data":{}}},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]}}
JSON
  echo '[{"Config":"config.json","RepoTags":["localhost/withvol:1"],"Layers":["layer.tar"]}]' >"$d/manifest.json"
  tar -C "$d" -cf "$d/image.tar" manifest.json config.json layer.tar
  arca load -i "$d/image.tar" >/dev/null
}

@test "a named volume keeps its files after the container; ls, inspect" {
  run arca volume create data
  [ "$status" -eq 0 ]
  [ "$output" = data ]
  arca run --rm -v data:/data busybox sh -c 'echo kept > /data/file'
  run arca run --rm -v data:/srv:ro busybox sh -c 'cat /srv/file; touch /srv/x 2>/dev/null && echo rw || echo ro'
  [ "${lines[0]}" = kept ]
  [ "${lines[1]}" = ro ]
  [ "$(cat "$ET_ROOT/volumes/data/_data/file")" = kept ]
  run arca volume ls -q
  [ "$output" = data ]
  run arca volume inspect data
  [ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$ET_ROOT/volumes/data/_data" ]
  [ "$(jq -r '.[0].Anonymous' <<<"$output")" = false ]
  # Go templates: inspect --format a line per volume, ls a row each ('table': a header).
  [ "$(arca volume inspect --format '{{.Name}} {{.Mountpoint}}' data)" = "data $ET_ROOT/volumes/data/_data" ]
  run -0 arca volume ls --format 'table {{.Name}}\t{{.Driver}}'
  [ "$output" = $'VOLUME NAME   DRIVER\ndata          local' ]
  # Creating it again is fine (Docker's behaviour) and keeps the content.
  arca volume create data
  [ -f "$ET_ROOT/volumes/data/_data/file" ]
  arca volume rm data
  [ ! -e "$ET_ROOT/volumes/data" ]
  run arca volume ls -q
  [ -z "$output" ]
}

@test "a volume in use is not removed without -f; -f removes its container too" {
  arca run -d --name holder -v busyvol:/v busybox sleep 100
  run --separate-stderr arca volume rm busyvol
  [ "$status" -ne 0 ]
  [[ "$stderr" == *"in use"* ]]
  [ -d "$ET_ROOT/volumes/busyvol/_data" ]
  run arca volume inspect busyvol
  [ "$(jq -r '.[0].UsedBy | length' <<<"$output")" = 1 ]
  arca volume rm -f busyvol
  [ ! -e "$ET_ROOT/volumes/busyvol" ]
  run arca ps -a -q
  [ -z "$output" ]
}

@test "a new named volume starts as a copy of the image's directory" {
  run arca run --rm -v etccopy:/etc busybox sh -c 'grep -c ^root: /etc/passwd'
  [ "$output" = 1 ]
  grep -q '^root:' "$ET_ROOT/volumes/etccopy/_data/passwd"
  # Not copied again over what the volume holds now.
  arca run --rm -v etccopy:/etc busybox sh -c 'echo mine > /etc/passwd'
  run arca run --rm -v etccopy:/etc busybox cat /etc/passwd
  [ "$output" = mine ]
  arca volume rm etccopy
}

@test "-v /path makes an anonymous volume that outlives the container unless rm -v" {
  arca run --name anon1 -v /scratch busybox sh -c 'echo a > /scratch/f'
  run arca volume ls --format json
  [ "$(jq 'length' <<<"$output")" = 1 ]
  [ "$(jq -r '.[0].Anonymous' <<<"$output")" = true ]
  name=$(jq -r '.[0].Name' <<<"$output")
  [ "$(cat "$ET_ROOT/volumes/$name/_data/f")" = a ]
  arca rm anon1
  # Still there: only rm -v removes anonymous volumes.
  [ -f "$ET_ROOT/volumes/$name/_data/f" ]
  arca run --name anon2 -v /scratch busybox true
  [ "$(arca volume ls -q | wc -l)" = 2 ]
  arca rm -v anon2
  [ "$(arca volume ls -q)" = "$name" ]
  # prune: unused anonymous ones go, named ones stay unless -a.
  arca volume create keepme
  run arca volume prune
  [ "$output" = "$name" ]
  [ "$(arca volume ls -q)" = keepme ]
  arca volume prune -a
  [ -z "$(arca volume ls -q)" ]
  [ -z "$(ls "$ET_ROOT/volumes")" ]
}

@test "an image's VOLUME gets an anonymous volume filled from the image; --rm removes it" {
  make_volume_image
  run arca run --name withvol localhost/withvol:1 sh -c 'cat /data/seed; stat -c %u /data; echo new > /data/added'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = from-image ]
  [ "${lines[1]}" = 1234 ]
  name=$(arca volume ls -q)
  [ -n "$name" ]
  [ "$(cat "$ET_ROOT/volumes/$name/_data/added")" = new ]
  # The container's writes went to the volume, not to its own layer.
  run arca diff withvol
  [[ "$output" != *"/data/added"* ]]
  arca rm withvol
  [ "$(arca volume ls -q)" = "$name" ]
  # A volume given for the path replaces the anonymous one.
  arca run --rm -v mine:/data localhost/withvol:1 cat /data/seed
  [ "$(arca volume ls -q | sort | tr '\n' ' ')" = "$(printf '%s\n' mine "$name" | sort | tr '\n' ' ')" ]
  arca volume rm mine "$name"
  arca run --rm localhost/withvol:1 true
  [ -z "$(arca volume ls -q)" ]
}

@test "bad volume names are refused and leave nothing" {
  run --separate-stderr arca volume create '../x'
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"invalid volume name"* ]]
  run --separate-stderr arca run --rm -v 'a b:/x' busybox true
  [ "$status" -eq 125 ]
  [ -z "$(arca volume ls -q)" ]
  [ -z "$(ls "$ET_ROOT/containers")" ]
}
