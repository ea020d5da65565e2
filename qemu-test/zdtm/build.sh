#!/bin/bash
# build.sh OUTDIR
#
# Builds CRIU's zdtm "static" tests (test/zdtm/static/ of CRIU's source, as
# Debian ships it in its criu source package) as static binaries into OUTDIR,
# for running inside the QEMU guests with zdtm-run (copied into OUTDIR too).
#
# Writes:
#   OUTDIR/NAME         one stripped static binary per test that built
#   OUTDIR/tests.list   "NAME KIND SKIP FLAGS [ARGS...]" per built test (format
#                       in its header)
#   OUTDIR/skipped.list "NAME reason" per test of the Makefile that did not build
#   OUTDIR/SOURCE       which CRIU source the binaries come from
#   OUTDIR/zdtm-run     the runner
#
# Source: Debian trixie's criu (4.1.1): its upstream tarball from the
# Debian mirror's pool, sha256 pinned, the same on every machine (the mirror
# no longer serves bookworm's 3.17.1 upstream tarball). CRIU_SOURCE=bookworm
# tries bookworm's source package (3.17.1-2+deb12u2: .dsc, the tarball it
# names, checked against it, and Debian's patches, none touching test/),
# falling back to trixie's. Files are cached under ~/.cache/vproc/, so a
# second run downloads nothing; SOURCE says which was used.
#
# Environment (all optional):
#   DEBIAN_MIRROR      default http://deb.debian.org/debian
#   CRIU_DEB_VERSION   default 3.17.1-2+deb12u2
#   CRIU_ORIG          path of a local criu_<ver>.orig.tar.xz to use (still
#                      checked against the .dsc)
#   ZDTM_BUILD_ONLY    build only these tests (names, space-separated)
#   ZDTM_INSTALL_DEPS=1  apt-get install libcap-dev libaio-dev first (3 more
#                      tests: aio00, different_creds, thread_different_uid_gid)
#   VPROC_CACHE        default ~/.cache/vproc
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

T0=$(date +%s)
OUT=$(realpath -m -- "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VPROC_CACHE:-$HOME/.cache/vproc}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
POOL=$MIRROR/pool/main/c/criu
DEB_VERSION=${CRIU_DEB_VERSION:-3.17.1-2+deb12u2}
# Fallback: trixie's upstream tarball (the mirror used here serves it).
FB_ORIG=criu_4.1.1.orig.tar.xz
FB_SHA=f80a66cb3726bb2116266d4759ce3bcbfab7abdb6b6d430bf20dd41911717afe

log() { echo "build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

mkdir -p "$CACHE" "$OUT"

# ---- tools -------------------------------------------------------------
need=()
for t in gcc make curl xz python3 patch strip readelf sha256sum; do
	command -v "$t" >/dev/null 2>&1 || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
	log "missing tools: ${need[*]}; installing with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		gcc make libc6-dev curl xz-utils python3 patch binutils coreutils
fi
if [ "${ZDTM_INSTALL_DEPS:-0}" = 1 ]; then
	if [ ! -e /usr/include/sys/capability.h ] || [ ! -e /usr/include/libaio.h ]; then
		log "installing libcap-dev libaio-dev"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcap-dev libaio-dev
	fi
fi

# ---- source ------------------------------------------------------------
# download URL DEST: into the cache, once.
download() {
	[ -s "$2" ] && return 0
	log "downloading $1"
	if curl -fsS --retry 2 -m 600 -o "$2.part" "$1"; then
		mv "$2.part" "$2"
	else
		rm -f "$2.part"
		return 1
	fi
}
# dsc_sha DSC FILE: the sha256 the .dsc gives for FILE
dsc_sha() {
	awk -v f="$2" '/^Checksums-Sha256:/ {s = 1; next} /^[^ ]/ {s = 0}
		s && $3 == f {print $1}' "$1"
}
sha_ok() { echo "$2  $1" | sha256sum -c --status 2>/dev/null; }

ORIG_PATH= ORIG_SHA= DEBTAR_PATH= SRCDESC=
DSC=criu_$DEB_VERSION.dsc
if [ "${CRIU_SOURCE:-trixie}" != bookworm ]; then
	: # trixie's (below): the one every machine can get from the mirror
elif download "$POOL/${DSC//+/%2B}" "$CACHE/$DSC"; then
	orig=$(awk '/^Checksums-Sha256:/ {s = 1; next} /^[^ ]/ {s = 0}
		s && $3 ~ /\.orig\.tar\./ {print $3}' "$CACHE/$DSC" | head -n1)
	debtar=$(awk '/^Checksums-Sha256:/ {s = 1; next} /^[^ ]/ {s = 0}
		s && $3 ~ /\.debian\.tar\./ {print $3}' "$CACHE/$DSC" | head -n1)
	[ -n "$orig" ] || die "no orig tarball named in $CACHE/$DSC"
	want=$(dsc_sha "$CACHE/$DSC" "$orig")
	if [ -n "${CRIU_ORIG:-}" ] && [ ! -s "$CACHE/$orig" ]; then
		sha_ok "$CRIU_ORIG" "$want" || die "$CRIU_ORIG does not match $DSC"
		cp "$CRIU_ORIG" "$CACHE/$orig"
	fi
	# A tarball the mirror did not have is not asked for again (so that a
	# second run neither downloads nor switches versions): remove
	# $CACHE/$orig.missing to retry.
	if [ ! -s "$CACHE/$orig" ] && [ -e "$CACHE/$orig.missing" ]; then
		log "warning: $orig was missing from the mirror before ($CACHE/$orig.missing)"
	elif download "$POOL/${orig//+/%2B}" "$CACHE/$orig"; then
		if ! sha_ok "$CACHE/$orig" "$want"; then
			mv "$CACHE/$orig" "$CACHE/$orig.bad"
			die "$orig: sha256 does not match $DSC (moved to $orig.bad)"
		fi
		ORIG_PATH=$CACHE/$orig ORIG_SHA=$want
		SRCDESC="Debian source package criu $DEB_VERSION ($orig sha256 $want)"
		if [ -n "$debtar" ] &&
			download "$POOL/${debtar//+/%2B}" "$CACHE/$debtar" &&
			sha_ok "$CACHE/$debtar" "$(dsc_sha "$CACHE/$DSC" "$debtar")"; then
			DEBTAR_PATH=$CACHE/$debtar
			SRCDESC="$SRCDESC + $debtar patches"
		else
			log "warning: $debtar not available; building without Debian's patches (none touches test/)"
		fi
	else
		log "warning: $POOL/$orig is not on the mirror"
		touch "$CACHE/$orig.missing"
	fi
else
	log "warning: $DSC is not on the mirror"
fi
if [ -z "$ORIG_PATH" ]; then
	[ "${CRIU_SOURCE:-trixie}" != bookworm ] ||
		log "WARNING: falling back to trixie's CRIU upstream tarball $FB_ORIG (not bookworm's 3.17.1)"
	download "$POOL/$FB_ORIG" "$CACHE/$FB_ORIG" || die "cannot get $FB_ORIG"
	sha_ok "$CACHE/$FB_ORIG" "$FB_SHA" || die "$FB_ORIG: sha256 mismatch"
	ORIG_PATH=$CACHE/$FB_ORIG ORIG_SHA=$FB_SHA
	SRCDESC="Debian trixie's criu upstream tarball $FB_ORIG (sha256 $FB_SHA)"
fi

# ---- unpack (once per tarball) -------------------------------------------
BUILD=$CACHE/zdtm-build/${ORIG_SHA:0:16}
if [ ! -e "$BUILD/.unpacked" ]; then
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	tar -C "$BUILD" -xf "$ORIG_PATH"
	if [ -n "$DEBTAR_PATH" ]; then
		tar -C "$BUILD" -xf "$DEBTAR_PATH"
	fi
	touch "$BUILD/.unpacked"
fi
SRC=$(find "$BUILD" -mindepth 1 -maxdepth 1 -type d -name 'criu-*' | head -n1)
[ -d "$SRC/test/zdtm/static" ] || die "no test/zdtm/static in $BUILD"
if [ -n "$DEBTAR_PATH" ] && [ ! -e "$BUILD/.patched" ]; then
	if [ -s "$BUILD/debian/patches/series" ]; then
		{ grep -v '^\s*#' "$BUILD/debian/patches/series" || true; } | while read -r p _; do
			[ -n "$p" ] || continue
			patch -d "$SRC" -p1 -s -N <"$BUILD/debian/patches/$p" ||
				log "warning: Debian patch $p did not apply"
		done
	fi
	touch "$BUILD/.patched"
fi
Z=$SRC/test/zdtm
LOGS=$BUILD/logs
mkdir -p "$LOGS"
log "source: $SRCDESC"
log "build tree: $SRC"

# ---- build ---------------------------------------------------------------
unset MAKEFLAGS MAKELEVEL MFLAGS
# The Makefiles link with "$(CC) $(LDFLAGS) $^ $(LDLIBS)"; LDFLAGS from the
# environment is appended to by the per-test "LDFLAGS += -pthread" rules.
export LDFLAGS="-static${LDFLAGS:+ $LDFLAGS}"
MK=(make --no-print-directory -j1)

"${MK[@]}" -C "$Z/lib" libzdtmtst.a >"$LOGS/lib.log" 2>&1 ||
	die "libzdtmtst.a did not build; see $LOGS/lib.log"

# The test lists, as the static Makefile computes them for this arch.
"${MK[@]}" -s -C "$Z/static" \
	--eval 'zdtm-print-lists: ; @echo "nofile $(TST_NOFILE)"; echo "file $(TST_FILE)"; echo "dir $(TST_DIR)"; echo "dirfile $(TST_DIR_FILE)"; echo "all $(TST)"' \
	zdtm-print-lists >"$BUILD/lists"
grep -q '^all ' "$BUILD/lists" || die "cannot read the test lists from the Makefile"

declare -A KIND
for k in nofile file dir dirfile; do
	for t in $(sed -n "s/^$k //p" "$BUILD/lists"); do KIND[$t]=$k; done
done
ALL=$(sed -n 's/^all //p' "$BUILD/lists")
# ZDTM_BUILD_ONLY: build only these (the suite's sample: a cold build of
# all takes minutes).
if [ -n "${ZDTM_BUILD_ONLY:-}" ]; then
	ALL=$(for t in $ALL; do
		case " $ZDTM_BUILD_ONLY " in *" $t "*) echo "$t" ;; esac
	done)
fi

# One make for all tests (-k: go on past the ones that do not build).
"${MK[@]}" -k -C "$Z/static" V=1 $ALL >"$LOGS/all.log" 2>&1 || true

: >"$OUT/skipped.list.new"
BUILT=()
nbuilt=0 nskip=0
for t in $ALL; do
	if [ ! -x "$Z/static/$t" ]; then
		# again alone, for its own log
		"${MK[@]}" -C "$Z/static" V=1 "$t" >"$LOGS/$t.log" 2>&1 || true
		why=$(grep -m1 -E 'fatal error|error:|undefined reference|No rule to make|cannot find' \
			"$LOGS/$t.log" | sed -e "s|$SRC/||g" -e 's/[[:space:]]\+/ /g' | cut -c1-160 || true)
		echo "$t ${why:-build failed (see $LOGS/$t.log)}" >>"$OUT/skipped.list.new"
		nskip=$((nskip + 1))
	elif readelf -l "$Z/static/$t" 2>/dev/null | grep -q INTERP; then
		echo "$t not linked statically" >>"$OUT/skipped.list.new"
		nskip=$((nskip + 1))
	else
		BUILT+=("$t")
		nbuilt=$((nbuilt + 1))
		if [ ! "$OUT/$t" -nt "$Z/static/$t" ]; then
			strip -o "$OUT/$t.new" "$Z/static/$t"
			chmod 755 "$OUT/$t.new"
			mv -f "$OUT/$t.new" "$OUT/$t"
		fi
	fi
done

# The command lines make starts the tests with (zdtm.py runs "make NAME.pid"
# in the static directory): "./NAME --pidfile=NAME.pid --outfile=NAME.out ...".
"${MK[@]}" -s -n -k -C "$Z/static" "${BUILT[@]/%/.pid}" 2>/dev/null |
	grep -E '^\./[^ ]+ --pidfile=' >"$BUILD/startcmds" || true
: >"$BUILD/built"
for t in "${BUILT[@]}"; do
	kind=${KIND[$t]:-nofile}
	cmd=$(grep -m1 -F -- "./$t --pidfile=$t.pid " "$BUILD/startcmds" || true)
	[ -n "$cmd" ] || { log "warning: no start rule for $t"; cmd="./$t"; }
	echo "$t $kind $cmd" >>"$BUILD/built"
done
mv -f "$OUT/skipped.list.new" "$OUT/skipped.list"

# ---- tests.list ------------------------------------------------------------
python3 - "$Z/static" "$BUILD/built" "$(uname -m)" "$SRCDESC" "$OUT" >"$OUT/tests.list.new" <<'EOF'
import ast, os, re, sys

static, built, arch, srcdesc, outdir = sys.argv[1:6]
SKIP_FLAGS = ('crfail', 'noauto', 'excl', 'reqrst')

print("""# zdtm static tests built by build.sh from %s
# NAME KIND SKIP FLAGS [ARGS...]
#  KIND  nofile | file (--filename=NAME.test) | dir (--dirname=NAME.test)
#        | dirfile (--dirname=NAME.dir.test --filename=NAME.test)
#  SKIP  '-' or why a runner should skip the test (comma-separated):
#        ns        needs a namespace flavor (its .desc 'flavor' lacks 'h')
#        crfail    CRIU's dump is expected to fail on this state
#        noauto    zdtm.py runs it only when asked by name
#        excl      must run alone (changes machine-wide state)
#        reqrst    checks that a restore really happened
#        hook      needs NAME.hook run around it (mounts, cgroups, netns...)
#        checkskip zdtm.py runs NAME.checkskip first (kernel/criu support)
#        arch      another architecture only
#        tool:X    runs the command X (iptables*, nft) with system()
#        hugetlb   needs preallocated huge pages (vm.nr_hugepages)
#        desc      its .desc could not be parsed
#  FLAGS '-' or comma-separated: .desc flags (suid = runs as root, the rest
#        drop to uid 18943 when started by root; nouser, samens, nolazy...),
#        feat:X (criu --check feature), opt:--X (criu option the dump needs),
#        timeout:N
#  ARGS  further arguments after --pidfile/--outfile and the KIND ones""" % srcdesc)

for line in open(built):
    name, kind, cmd = line.split(None, 2)
    args = cmd.split()[1:]
    implied = {'--pidfile=%s.pid' % name, '--outfile=%s.out' % name}
    if kind in ('file', 'dirfile'):
        implied.add('--filename=%s.test' % name)
    if kind == 'dir':
        implied.add('--dirname=%s.test' % name)
    if kind == 'dirfile':
        implied.add('--dirname=%s.dir.test' % name)
    missing = [a for a in implied if a not in args]
    if missing:
        sys.stderr.write("build.sh: warning: %s: start rule lacks %s\n" % (name, missing))
    extra = [a for a in args if a not in implied]

    desc, skip, flags = {}, [], []
    dpath = os.path.join(static, name + '.desc')
    if os.path.exists(dpath) and os.path.getsize(dpath) > 0:
        try:
            desc = ast.literal_eval(open(dpath).read())
        except Exception:
            skip.append('desc')
    flav = desc.get('flavor', 'h ns uns').split()
    if 'h' not in flav:
        skip.append('ns')
    if desc.get('arch') and desc['arch'] != arch:
        skip.append('arch')
    dflags = desc.get('flags', '').split()
    skip += [f for f in SKIP_FLAGS if f in dflags]
    # external tools the test runs with system() (ip itself is in every
    # binary through the library, so it is not looked for)
    try:
        binary = open(os.path.join(outdir, name), 'rb').read()
    except OSError:
        binary = b''
    tools = set()
    for pat in (b'iptables', b'ip6tables', b'nft '):
        i = binary.find(pat)
        while i >= 0:
            if i == 0 or not (chr(binary[i - 1]).isalnum() or binary[i - 1] in b'/-_'):
                m = re.match(rb'(ip6?tables(?:-legacy|-nft)?|nft) -?[a-zA-Z]',
                             binary[i:i + 40])
                if m:
                    tools.add(m.group(1).decode())
            i = binary.find(pat, i + 1)
    skip += ['tool:' + t for t in sorted(tools)]
    if 'hugetlb' in name or 'memfd_hugetlb' in desc.get('feature', '').split():
        skip.append('hugetlb')
    for ext in ('hook', 'checkskip'):
        if os.path.exists(os.path.join(static, name + '.' + ext)):
            skip.append(ext)
    flags += [f for f in dflags if f not in SKIP_FLAGS]
    flags += ['feat:' + f for f in desc.get('feature', '').split()]
    flags += ['opt:' + o for o in desc.get('opts', '').split() if o.startswith('--')]
    if desc.get('timeout'):
        flags.append('timeout:%s' % desc['timeout'])
    print(' '.join([name, kind, ','.join(skip) or '-', ','.join(flags) or '-'] + extra))
EOF
mv -f "$OUT/tests.list.new" "$OUT/tests.list"
echo "$SRCDESC" >"$OUT/SOURCE"
install -m 755 "$HERE/zdtm-run" "$OUT/zdtm-run"

T1=$(date +%s)
nrun=$(grep -v '^#' "$OUT/tests.list" | awk '$3 == "-"' | wc -l)
echo "built $nbuilt of $((nbuilt + nskip)) zdtm static tests into $OUT in $((T1 - T0)) s" \
	"($nskip did not build: $OUT/skipped.list; $nrun not marked to skip in tests.list)"
echo "source: $SRCDESC"
