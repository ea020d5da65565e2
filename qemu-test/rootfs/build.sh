#!/usr/bin/env bash
# Builds the guests' Debian root file system (issue 15) into a cache
# outside the checkout and prints the image's path on stdout.
#
#   qemu-test/rootfs/build.sh          build (or reuse) the image
#   qemu-test/rootfs/build.sh --path   print the path it would use
#
# A Debian bookworm (the host's release, from the host's apt sources)
# minbase with the packages in ./packages, as one read-only ext4 image:
# every node mounts the same image read-only with a private tmpfs overlay
# (qemu-test/guest/init), so every node sees the same files at the same
# paths with the same mtimes, as a cluster sharing one OS image does. The
# cache key is the package list, this script and the apt sources; a warm
# build is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { printf 'rootfs: %s\n' "$*" >&2; }
die() { printf 'rootfs: ERROR: %s\n' "$*" >&2; exit 1; }

CACHE=${VPROC_CACHE:-$HOME/.cache/vproc}
SUITE=bookworm
pkgs=$(grep -v '^#' "$here/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
key=$( { echo "$SUITE"; cat "$here/packages" "$0"; cat /etc/apt/sources.list.d/debian.sources 2>/dev/null; } |
       sha256sum | cut -c1-16)
IMG=$CACHE/rootfs-$key.img
if [ "${1:-}" = --path ]; then echo "$IMG"; exit 0; fi
if [ -f "$IMG" ]; then echo "$IMG"; exit 0; fi

command -v mmdebstrap >/dev/null || die "mmdebstrap missing: run 'make deps'"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing: run 'make deps'"
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode)"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-rootfs"
flock 9
if [ -f "$IMG" ]; then echo "$IMG"; exit 0; fi

start=$(date +%s)
dir=$(mktemp -d "$CACHE/rootfs-build.XXXXXX")
trap 'rm -rf "$dir" "$IMG.tmp"' EXIT
say "mmdebstrap $SUITE minbase + $(echo "$pkgs" | tr ',' ' ')"
# The host's sources (its mirror, as every apt-get here uses): the main
# suite and its security updates.
mmdebstrap --quiet --variant=minbase --include="$pkgs" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "$SUITE" "$dir/root" /etc/apt/sources.list.d/debian.sources >&2 ||
    die "mmdebstrap failed"
# Size: what it holds plus a quarter (read-only: no room is needed).
kb=$(du -sk "$dir/root" | awk '{print $1}')
size=$(( kb * 5 / 4 / 1024 + 64 ))M
say "ext4 image of $((kb / 1024)) MiB content, $size"
# Its stdout to stderr: even with -q, mke2fs says "Creating regular file"
# there, and this script's stdout is the image's path alone.
mkfs.ext4 -q -L vproc-root -d "$dir/root" -E root_owner=0:0 -O ^has_journal "$IMG.tmp" "$size" >&2 ||
    die "mkfs.ext4 failed"
chmod 444 "$IMG.tmp"
mv "$IMG.tmp" "$IMG"
say "built in $(( $(date +%s) - start )) s: $IMG"
# Keep the cache bounded: the 2 newest images.
ls -1t "$CACHE"/rootfs-*.img 2>/dev/null | tail -n +3 | xargs -r rm -f
echo "$IMG"
