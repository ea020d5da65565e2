#!/usr/bin/env bash
# Installs everything vproc needs to build its kernels (normal, and debug with
# clang), its module, its tools and to boot its QEMU cluster, following
# shared/reference/toolchain.md.
# Idempotent: each step checks first and does nothing when already satisfied.
# Stops with a message naming what cannot be satisfied, and why.
set -euo pipefail

say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: ERROR: %s\n' "$*" >&2; exit 1; }

BINDGEN_VERSION=0.73.2
CARGO_FUZZ_VERSION=0.13.2
KSRC_PKG=linux-source-7.3

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install); re-run with sudo"
command -v rustc >/dev/null || die "rustc not found: install the Rust toolchain (rustup) first"
RUSTC_VERSION=$(rustc --version | awk '{print $2}')

# --- apt sources: trixie and trixie-backports with a LOW pin, so nothing
# --- from trixie replaces bookworm's libc unless asked for by name.
need_update=0
src=/etc/apt/sources.list.d/vproc-extra.sources
if [ ! -f "$src" ]; then
    say "adding bookworm-backports, trixie, trixie-backports apt sources (pinned low)"
    cat >"$src" <<EOS
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
    need_update=1
fi
pin=/etc/apt/preferences.d/vproc-trixie
if [ ! -f "$pin" ]; then
    cat >"$pin" <<EOS
Package: *
Pin: release n=trixie
Pin-Priority: 50

Package: *
Pin: release n=trixie-backports
Pin-Priority: 50
EOS
    need_update=1
fi

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=0
apt_update() {
    if [ $apt_updated = 0 ]; then
        say "apt-get update"
        apt-get update -qq >/dev/null
        apt_updated=1
    fi
}
[ $need_update = 0 ] || apt_update

apt_install() {
    # $@: apt-get install arguments; installs only when one of $PKGS is missing.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- plain bookworm packages
# clang-19, lld-19, llvm-19: the debug kernel (KASAN with Rust needs a clang-built kernel).
# mmdebstrap: the guests' Debian root (qemu-test/rootfs).
base_pkgs="mmdebstrap build-essential flex bison bc libelf-dev libssl-dev cpio kmod busybox-static bash-static procps vde2 libclang-19-dev clang-19 lld-19 llvm-19 python3 python3-yaml python3-jsonschema xz-utils"
missing=""
for p in $base_pkgs; do have_pkg "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
    apt_update
    say "installing:$missing"
    apt_install $missing || die "apt-get install failed for:$missing"
fi

# --- qemu from bookworm-backports (matches the preinstalled qemu-utils)
if ! command -v qemu-system-x86_64 >/dev/null; then
    apt_update
    say "installing qemu-system-x86 from bookworm-backports"
    apt_install -t bookworm-backports qemu-system-x86 ||
        die "qemu-system-x86 from bookworm-backports failed to install"
fi

# --- rust-src at exactly rustc's version (rustup cannot fetch it here)
RUST_LIB_SRC=/usr/src/rustc-$RUSTC_VERSION/library
if [ ! -d "$RUST_LIB_SRC/core" ]; then
    apt_update
    ver=$(apt-cache madison rust-src | awk -v v="$RUSTC_VERSION" '$3 ~ "^"v"\\+" {print $3; exit}')
    [ -n "$ver" ] || die "no Debian rust-src package matches rustc $RUSTC_VERSION (Rust-for-Linux needs the standard library source of the exact compiler); available: $(apt-cache madison rust-src | awk '{print $3}' | tr '\n' ' ')"
    say "installing rust-src=$ver"
    apt_install "rust-src=$ver" || die "rust-src=$ver failed to install"
    [ -d "$RUST_LIB_SRC/core" ] || die "rust-src installed but $RUST_LIB_SRC is missing"
fi

# --- kernel source tarball
if ! ls /usr/src/$KSRC_PKG.tar.* >/dev/null 2>&1; then
    apt_update
    say "installing $KSRC_PKG from trixie-backports"
    apt_install -t trixie-backports $KSRC_PKG || die "$KSRC_PKG failed to install"
fi

# --- bindgen at a pinned version
export PATH="$HOME/.cargo/bin:$PATH"
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
    say "cargo install bindgen-cli $BINDGEN_VERSION"
    cargo install --quiet --locked --version "$BINDGEN_VERSION" bindgen-cli ||
        die "cargo install bindgen-cli $BINDGEN_VERSION failed"
fi

# --- cargo-fuzz for the fuzz targets of the pure logic (stable toolchain,
# --- run with --sanitizer none)
if ! command -v cargo-fuzz >/dev/null; then
    say "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install --quiet --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz ||
        die "cargo install cargo-fuzz $CARGO_FUZZ_VERSION failed"
fi

# --- a target for static tools binaries (glibc, crt-static): the host target
rustup target list --installed 2>/dev/null | grep -q x86_64-unknown-linux-gnu ||
    die "the x86_64-unknown-linux-gnu Rust target is missing"

[ -z "${VPROC_DEPS_VERBOSE:-}" ] || say "all dependencies present (rustc $RUSTC_VERSION, rust-src $RUST_LIB_SRC, bindgen $BINDGEN_VERSION)"
