#!/usr/bin/env bash
# Builds CRIU itself (for `make bench`'s side-by-side moves, issue 18) and
# prints the binary's path on stdout.
#
#   qemu-test/criu/build.sh          build (or reuse) it
#
# Why not Debian's package: bookworm's criu 3.17.1 cannot read a 7.3
# kernel's vDSO layout ("Unexpected rt vDSO area bounds": the vvar_vclock
# mapping of 6.13+, handled since CRIU 4.1), and trixie's 4.1.1 package
# needs trixie's libc. So this builds the same 4.1.1 from its upstream
# tarball (sha256 pinned, the one qemu-test/zdtm/build.sh uses, shared
# cache) against bookworm's libraries, which the guests' root carries
# (qemu-test/rootfs/packages). Built without nftables, GnuTLS, SELinux,
# BPF and DRM support (what a move of a plain process never needs): the
# guests' kernel has no netfilter, and CRIU's start-up probe fails on a
# library that cannot open its netlink family.
set -euo pipefail
say() { printf 'criu: %s\n' "$*" >&2; }
die() { printf 'criu: ERROR: %s\n' "$*" >&2; exit 1; }

CACHE=${VPROC_CACHE:-$HOME/.cache/vproc}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
VER=4.1.1
ORIG=criu_$VER.orig.tar.xz
SHA=f80a66cb3726bb2116266d4759ce3bcbfab7abdb6b6d430bf20dd41911717afe
OUT=$CACHE/criu-$VER-$( { echo "$SHA"; cat "$0"; } | sha256sum | cut -c1-12)
if [ -x "$OUT/criu" ]; then echo "$OUT/criu"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-criu"
flock 9
if [ -x "$OUT/criu" ]; then echo "$OUT/criu"; exit 0; fi

# Build dependencies (Debian bookworm names).
pkgs="pkg-config protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev libnl-3-dev libnet1-dev libcap-dev libbsd-dev uuid-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing build packages:$missing (run as root to install them)"
    say "installing:$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        die "apt-get install failed for:$missing"
fi

if [ ! -s "$CACHE/$ORIG" ]; then
    say "downloading $ORIG"
    curl -fsS --retry 2 -m 600 -o "$CACHE/$ORIG.part" "$MIRROR/pool/main/c/criu/$ORIG" || die "cannot get $ORIG"
    mv "$CACHE/$ORIG.part" "$CACHE/$ORIG"
fi
echo "$SHA  $CACHE/$ORIG" | sha256sum -c --status || die "$ORIG: sha256 mismatch"

start=$(date +%s)
src=$(mktemp -d "$CACHE/criu-build.XXXXXX")
trap 'rm -rf "$src"' EXIT
tar -C "$src" --strip-components=1 -xf "$CACHE/$ORIG"
# pkg-config that does not find the optional libraries, whatever the host
# has installed: the build is the same on every machine.
cat >"$src/pkg-config" <<'EOS'
#!/bin/sh
for a in "$@"; do
    case $a in libnftables|libselinux|libbpf|libdrm|gnutls) exit 1;; esac
done
exec pkg-config "$@"
EOS
chmod +x "$src/pkg-config"
say "building CRIU $VER with -j$(nproc)"
make -C "$src" -s -j"$(nproc)" PKG_CONFIG="$src/pkg-config" NO_GNUTLS=1 criu >"$src/build.log" 2>&1 || {
    tail -30 "$src/build.log" >&2
    die "CRIU build failed"
}
mkdir -p "$OUT.tmp"
install -m 755 "$src/criu/criu" "$OUT.tmp/criu"
strip "$OUT.tmp/criu"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
say "built in $(( $(date +%s) - start )) s: $OUT/criu"
echo "$OUT/criu"
