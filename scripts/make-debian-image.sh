#!/usr/bin/env bash
# Builds a real Debian image (bookworm, debootstrap minbase) and imports it into an arca
# store as localhost/debian:bookworm, for tests that run real software (shell scripts,
# Python, nginx from Debian inside a container).  Extra packages: EXTRA_PACKAGES="python3 nginx".
# Usage: scripts/make-debian-image.sh ARCA_BINARY [arca global options...]
# The debootstrap tree is cached in ${DEBIAN_IMAGE_CACHE:-/var/cache/arca/debian-bookworm}.
set -euo pipefail
arca=${1:?usage: $0 ARCA_BINARY [arca options...]}
shift
cache=${DEBIAN_IMAGE_CACHE:-/var/cache/arca/debian-bookworm}
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
extra=${EXTRA_PACKAGES:-}
stamp="$cache/.arca-complete-$(echo "$extra" | tr ' ' '_')"
command -v debootstrap >/dev/null || { echo "make-debian-image: install debootstrap (scripts/install-deps.sh)" >&2; exit 1; }
if [ ! -e "$stamp" ]; then
  rm -rf "$cache"
  mkdir -p "$(dirname "$cache")"
  include=""
  [ -n "$extra" ] && include="--include=$(echo "$extra" | tr ' ' ',')"
  debootstrap --variant=minbase $include bookworm "$cache" "$mirror" >&2
  # apt caches are not part of an image
  rm -rf "$cache"/var/cache/apt/archives/*.deb "$cache"/var/lib/apt/lists/*
  touch "$stamp"
fi
tar --numeric-owner --xattrs -C "$cache" --exclude=./.arca-complete-* -cf - . |
  "$arca" "$@" import - localhost/debian:bookworm
