#!/usr/bin/env bash
# Builds the embedded default image: a busybox rootfs from the host's
# busybox-static, with one *relative* symlink per applet (busybox --install -s
# writes absolute links to the host path, which break inside a container).
# Usage: make-busybox-rootfs.sh DEST_DIR
set -euo pipefail
dest=${1:?usage: $0 DEST_DIR}
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
ldd_out=$( [ -n "$busybox" ] && ldd "$busybox" 2>&1 || true)
if [ -z "$busybox" ] || ! grep -q "not a dynamic" <<<"$ldd_out"; then
  echo "make-busybox-rootfs: a static busybox is needed (apt-get install busybox-static)" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,home,var,run}
chmod 1777 "$dest/tmp"
cp "$busybox" "$dest/bin/busybox"
for applet in $("$busybox" --list-full); do
  dir=$(dirname "$applet")
  [ -e "$dest/$applet" ] && continue
  mkdir -p "$dest/$dir"
  # relative link back to /bin/busybox from the applet's directory
  up=$(echo "$dir" | sed -e 's|[^/][^/]*|..|g')
  ln -s "$up/bin/busybox" "$dest/$applet"
done
cat > "$dest/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$dest/etc/group" <<'GR'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GR
echo "busybox rootfs ready in $dest ($("$busybox" --list | wc -l) applets)"
