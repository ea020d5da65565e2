#!/usr/bin/env bash
# Builds the vproc kernel into a cache outside the checkout and prints its
# directory (the KDIR for the module) on stdout.
#
#   kernel/build.sh            build (or reuse) the kernel, print KDIR
#   kernel/build.sh --kdir     print the KDIR it would use, build nothing
#   kernel/build.sh --make-flags
#                              print the make variables every `make -C KDIR`
#                              needs (LLVM=-19 for the debug variant), so the
#                              module is built by the kernel's own compiler
#   VPROC_KDEBUG=1 ...         the debug variant (lockdep, KASAN, ...), built
#                              by clang 19 (Rust with KASAN needs CC_IS_CLANG)
#
# The cache key is (kernel source package version, config fragments, patch
# series, rustc and bindgen versions): a warm build with the same key is a
# no-op. An interrupted build resumes where it stopped (make is incremental
# and the tree is only marked done at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { printf 'kernel: %s\n' "$*" >&2; }
die() { printf 'kernel: ERROR: %s\n' "$*" >&2; exit 1; }

CACHE=${VPROC_CACHE:-$HOME/.cache/vproc}
TARBALL=/usr/src/linux-source-7.3.tar.xz
RUSTC_VERSION=$(rustc --version | awk '{print $2}')
export RUST_LIB_SRC=/usr/src/rustc-$RUSTC_VERSION/library
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH="$HOME/.cargo/bin:$PATH"

fragments=("$here/vproc.config")
variant=release
# Make variables for every make in the tree (and for the module's build).
kmake=()
if [ "${VPROC_KDEBUG:-0}" = 1 ]; then
    fragments+=("$here/debug.config")
    variant=debug
    # In 7.3 `RUST depends on !KASAN || CC_IS_CLANG`: the debug kernel is
    # built by Debian's LLVM 19 (clang-19, ld.lld-19, llvm-ar-19, ...), the
    # same LLVM as the libclang bindgen uses.
    kmake=(LLVM=-19)
fi
if [ "${1:-}" = --make-flags ]; then echo "${kmake[*]}"; exit 0; fi

key() {
    {
        dpkg-query -W -f='${Version}\n' linux-source-7.3 2>/dev/null || echo none
        cat "${fragments[@]}"
        cat "$here/patches/series"
        for p in $(grep -v '^#' "$here/patches/series" | sed '/^$/d'); do cat "$here/patches/$p"; done
        rustc --version
        bindgen --version 2>/dev/null || true
        # (nothing added for the GCC kernel: its key, and cache, stay as they were)
        if [ ${#kmake[@]} -gt 0 ]; then echo "${kmake[*]}"; clang-19 --version 2>/dev/null | head -1; fi
    } | sha256sum | cut -c1-16
}

KDIR=$CACHE/kernel-$variant-$(key)
if [ "${1:-}" = --kdir ]; then echo "$KDIR"; exit 0; fi
if [ -f "$KDIR/.vproc-built" ]; then echo "$KDIR"; exit 0; fi

[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps'"
[ -d "$RUST_LIB_SRC/core" ] || die "$RUST_LIB_SRC missing: run 'make deps'"
[ ${#kmake[@]} = 0 ] || command -v clang-19 >/dev/null || die "clang-19 missing: run 'make deps'"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$variant"
flock 9
if [ -f "$KDIR/.vproc-built" ]; then echo "$KDIR"; exit 0; fi

start=$(date +%s)
if [ ! -f "$KDIR/.vproc-configured" ]; then
    say "extracting $(basename "$TARBALL") into $KDIR"
    rm -rf "$KDIR.tmp" "$KDIR"
    mkdir -p "$KDIR.tmp"
    tar -C "$KDIR.tmp" --strip-components=1 -xf "$TARBALL"
    for p in $(grep -v '^#' "$here/patches/series" | sed '/^$/d'); do
        say "applying $p"
        patch -d "$KDIR.tmp" -p1 --quiet --forward <"$here/patches/$p" || die "patch $p does not apply"
    done
    mv "$KDIR.tmp" "$KDIR"
    cd "$KDIR"
    make -s "${kmake[@]}" x86_64_defconfig >/dev/null
    ./scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config "${fragments[@]}" >/dev/null
    make -s "${kmake[@]}" olddefconfig >/dev/null
    # Every option a fragment asks for must have survived olddefconfig:
    # a silently dropped option is a kernel we did not mean to build.
    for f in "${fragments[@]}"; do
        grep -E '^CONFIG_[A-Z0-9_]+=' "$f" | while IFS== read -r opt val; do
            case $val in
                n) ! grep -q "^$opt=" .config || die "$opt is still set (wanted off)";;
                *) grep -q "^$opt=$val\$" .config || die "$opt=$val did not survive olddefconfig (a dependency is missing)";;
            esac
        done
    done
    make -s "${kmake[@]}" rustavailable >/dev/null || die "Rust is not available to the kernel build (make rustavailable)"
    touch .vproc-configured
fi
cd "$KDIR"
say "building ($variant${kmake:+, ${kmake[*]}}) with -j$(nproc) in $KDIR"
make -s "${kmake[@]}" -j"$(nproc)" bzImage modules >"$KDIR/.vproc-build.log" 2>&1 || {
    tail -40 "$KDIR/.vproc-build.log" >&2
    die "kernel build failed (log: $KDIR/.vproc-build.log)"
}
touch .vproc-built
say "built in $(( $(date +%s) - start )) s: $(ls -la arch/x86/boot/bzImage | awk '{print $5}') byte bzImage"

# Keep the cache bounded: drop all but the 3 newest trees of this variant.
ls -1dt "$CACHE"/kernel-$variant-* 2>/dev/null | grep -v '\.tmp$' | tail -n +4 | while read -r old; do
    say "removing old cache entry $old"
    rm -rf "$old"
done
echo "$KDIR"
