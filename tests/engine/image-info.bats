#!/usr/bin/env bats
# arca history, image inspect, restart and the management-command forms
# (`arca image ls`, `arca container ls`): what they report matches what the
# image was built from and what the container does.
load helpers

@test "history lists each build step newest first, with sizes of the layers they made" {
  ctx=$(mktemp -d "$ET_DIR/ctx.XXXXXX")
  cat > "$ctx/Containerfile" <<'EOF2'
FROM busybox
ENV MARK=one
RUN dd if=/dev/zero of=/big bs=1k count=300 2>/dev/null
LABEL stage=test
CMD ["cat", "/etc/hostname"]
EOF2
  run arca build -t hist:1 "$ctx"
  [ "$status" -eq 0 ]
  run arca history --no-trunc --format json hist:1
  [ "$status" -eq 0 ]
  echo "$output" >&2
  # newest first: CMD, LABEL, RUN, ENV, then the busybox base layer
  [ "$(jq length <<<"$output")" -ge 5 ]
  [[ "$(jq -r '.[0].createdBy' <<<"$output")" == *CMD* ]]
  [[ "$(jq -r '.[1].createdBy' <<<"$output")" == *LABEL* ]]
  [[ "$(jq -r '.[3].createdBy' <<<"$output")" == *ENV*MARK* ]]
  [[ "$(jq -r '.[2].createdBy' <<<"$output")" == *"dd if=/dev/zero"* ]]
  # the RUN layer holds a 300 KiB file: its size is at least that, the metadata steps are 0
  [ "$(jq -r '.[2].size' <<<"$output")" -ge 307200 ]
  [ "$(jq -r '.[0].size' <<<"$output")" -eq 0 ]
  [ "$(jq -r '.[1].size' <<<"$output")" -eq 0 ]
  # only the top row names the image; its id is the image's
  id=$(arca image inspect hist:1 | jq -r '.[0].Id')
  [ "$(jq -r '.[0].id' <<<"$output")" = "$id" ]
  [ "$(jq -r '.[1].id' <<<"$output")" = "<missing>" ]
  run arca history hist:1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == IMAGE*CREATED*"CREATED BY"*SIZE* ]]
  [[ "${lines[1]}" == "${id:7:12}"* ]]
}

@test "image inspect reports tags, layers, config; unknown image fails with 125" {
  ctx=$(mktemp -d "$ET_DIR/ctx.XXXXXX")
  printf 'FROM busybox\nENV COLOR=blue\nWORKDIR /srv\nENTRYPOINT ["/bin/sh", "-c"]\n' > "$ctx/Containerfile"
  run arca build -t insp:2 "$ctx"
  [ "$status" -eq 0 ]
  run arca image inspect insp:2
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].RepoTags[0]' <<<"$output")" = "localhost/insp:2" ]
  [ "$(jq -r '.[0].Config.WorkingDir' <<<"$output")" = "/srv" ]
  jq -e '.[0].Config.Env | index("COLOR=blue")' <<<"$output"
  [ "$(jq -r '.[0].Config.Entrypoint | join(" ")' <<<"$output")" = "/bin/sh -c" ]
  # the layers are those of busybox plus WORKDIR's (or just busybox's)
  base=$(arca image inspect busybox | jq -r '.[0].RootFS.Layers[0]')
  [ "$(jq -r '.[0].RootFS.Layers[0]' <<<"$output")" = "$base" ]
  # the id is the one `images` shows for that name
  short=$(arca images --format json | jq -r '.[] | select(.Names | index("localhost/insp:2")) | .Id')
  [ "$(jq -r '.[0].Id' <<<"$output")" = "$short" ]
  run arca image inspect no-such-image
  [ "$status" -eq 125 ]
  [[ "$output" == *"no-such-image"* ]]
  run arca history no-such-image
  [ "$status" -eq 125 ]
}

@test "restart: a running container gets a new process, a stopped one starts" {
  arca run -d --name rs --network none busybox sh -c 'echo started; sleep 100'
  pid1=$(arca inspect rs | jq -r '.[0].State.Pid')
  [ "$pid1" -gt 0 ]
  run arca restart -t 1 rs
  [ "$status" -eq 0 ]
  [ "$output" = rs ]
  pid2=$(arca inspect rs | jq -r '.[0].State.Pid')
  [ "$pid2" -gt 0 ]
  [ "$pid1" != "$pid2" ]
  [ ! -d "/proc/$pid1" ] || ! grep -q sleep "/proc/$pid1/cmdline"
  [ "$(arca inspect rs | jq -r '.[0].State.Running')" = true ]
  # twice "started" in the log: the container ran twice
  run arca logs rs
  [ "$(grep -c started <<<"$output")" -eq 2 ]
  arca stop -t 0 rs
  [ "$(arca inspect rs | jq -r '.[0].State.Running')" = false ]
  run arca restart rs
  [ "$status" -eq 0 ]
  [ "$(arca inspect rs | jq -r '.[0].State.Running')" = true ]
  run arca restart -t nope rs
  [ "$status" -eq 125 ]
  run arca restart no-such-container
  [ "$status" -eq 125 ]
}

@test "management commands: image ls/rm, container ls/rm are the short forms" {
  arca tag busybox mgmt:1
  run arca image ls
  [ "$status" -eq 0 ]
  [[ "$output" == *"localhost/mgmt"*"1"* ]]
  arca container create --name mc --network none busybox true
  run arca container ls -a --format json
  [ "$(jq -r '.[] | select(.Names == "mc") | .Status' <<<"$output")" = Created ]
  run arca container rm mc
  [ "$status" -eq 0 ]
  run arca container ls -a -q
  [ -z "$output" ]
  run arca image rm mgmt:1
  [ "$status" -eq 0 ]
  run arca image ls
  [[ "$output" != *"localhost/mgmt"* ]]
  run arca image frobnicate
  [ "$status" -eq 125 ]
  [[ "$output" == *"unknown command"* ]]
}

@test "images --format takes a Go template: a row per name, 'table' with the header" {
  arca tag busybox fmtimg:v1
  run -0 arca images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  id=$(arca image inspect fmtimg:v1 | jq -r '.[0].Id' | sed 's/^sha256://' | cut -c1-12)
  [[ "$output" == *"localhost/fmtimg:v1 $id"* ]]
  [[ "$output" == *"localhost/busybox:latest $id"* ]]
  run -0 arca images --format 'table {{.Repository}}\t{{.Tag}}'
  [[ "${lines[0]}" == "REPOSITORY"*"TAG" ]]
  [[ "$output" == *"localhost/fmtimg"*"v1"* ]]
  run --separate-stderr arca images --format '{{.Repository'
  [ "$status" -eq 125 ] && [ -z "$output" ]
  arca rmi fmtimg:v1 >/dev/null
}
