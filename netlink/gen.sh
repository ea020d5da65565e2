#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Generates every file derived from netlink/vproc.yaml:
#   netlink/uapi/vproc_nl.h         numbers, for C (kernel and user space)
#   netlink/vproc_nl_gen.[ch]       the kernel's policies and ops table
#   tools/libvproc/src/spec.rs               the numbers for the Rust tools
# The C files come from the kernel's own YNL generator (ynl_gen_c.py, run
# on the kernel tree we build against), which also validates the spec
# against the genetlink schema. With --check, generates into a scratch
# directory and fails if a committed file differs (make lint).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
KDIR=${KDIR:-$("$REPO/kernel/build.sh" --kdir)}
GEN=$KDIR/tools/net/ynl/pyynl/ynl_gen_c.py
[ -f "$GEN" ] || { echo "gen.sh: $GEN missing (build the kernel first)" >&2; exit 1; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
# ynl_gen_c.py wants a kernel-like tree: MAINTAINERS at the root, the schema
# next to the specs directory.
mkdir -p "$W/netlink/specs" "$W/out/netlink/uapi" "$W/out/tools/libvproc/src"
touch "$W/MAINTAINERS"
cp "$KDIR/Documentation/netlink/genetlink.yaml" "$W/netlink/"
cp "$REPO/netlink/vproc.yaml" "$W/netlink/specs/"
# A python3 with PyYAML and jsonschema (scripts/deps.sh installs Debian's).
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import yaml, jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "gen.sh: no python3 with yaml and jsonschema (run make deps)" >&2; exit 1; }
gen() { "$PY" "$GEN" --spec "$W/netlink/specs/vproc.yaml" "$@" >/dev/null; }
gen --mode uapi --header -o "$W/out/netlink/uapi/vproc_nl.h"
gen --mode kernel --header -o "$W/out/netlink/vproc_nl_gen.h"
gen --mode kernel --source -o "$W/out/netlink/vproc_nl_gen.c"
"$PY" "$REPO/netlink/gen_rust.py" "$REPO/netlink/vproc.yaml" "$W/out/tools/libvproc/src/spec.rs"
files="netlink/uapi/vproc_nl.h netlink/vproc_nl_gen.h netlink/vproc_nl_gen.c tools/libvproc/src/spec.rs"
if [ "${1:-}" = --check ]; then
  for f in $files; do
    cmp -s "$W/out/$f" "$REPO/$f" || { echo "spec: $f is stale: run make spec" >&2; exit 1; }
  done
  echo "spec: generated files match netlink/vproc.yaml"
else
  for f in $files; do mkdir -p "$(dirname "$REPO/$f")"; cp "$W/out/$f" "$REPO/$f"; done
fi
