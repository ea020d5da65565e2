# vproc: the two commands every user needs are `make demo` and `make test`.
# Everything else here is a step they run (each skips what is up to date).

SHELL := /bin/bash
REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
RUSTC_VERSION := $(shell rustc --version 2>/dev/null | awk '{print $$2}')
export RUST_LIB_SRC ?= /usr/src/rustc-$(RUSTC_VERSION)/library
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib
export PATH := $(HOME)/.cargo/bin:$(PATH)
# VPROC_KDEBUG=1 builds everything against the debug kernel (lockdep, KASAN,
# KFENCE; built by clang) into build-debug/, beside the normal build/.
VPROC_KDEBUG ?= 0
export VPROC_KDEBUG
# The kernel tree (cache outside the checkout) and the make variables every
# make in it needs (LLVM=-19 for the debug kernel); see kernel/build.sh.
KDIR = $(shell VPROC_KDEBUG=$(VPROC_KDEBUG) $(REPO)/kernel/build.sh --kdir)
KFLAGS = $(shell VPROC_KDEBUG=$(VPROC_KDEBUG) $(REPO)/kernel/build.sh --make-flags)
ifeq ($(VPROC_KDEBUG),1)
BUILD := $(REPO)/build-debug
# The debug module is built in build-debug/module, a tree of symbolic links
# to the module's sources, so its objects live apart from the normal
# module's (which stay in the checkout: Kbuild refuses MO= while the source
# tree holds objects) and neither is rebuilt when one switches.
MODDIR := $(BUILD)/module
else
BUILD := $(REPO)/build
MODDIR := $(REPO)
endif
KMAKE = $(MAKE) -C $(KDIR) M=$(MODDIR) $(KFLAGS)
TOOLS_TARGET := x86_64-unknown-linux-gnu
STATIC_BIN := $(REPO)/target/$(TOOLS_TARGET)/release

.PHONY: all deps kernel spec spec-check module tools progs initramfs rootfs guest host-test fuzz lint clippy fmt-check faults \
	rust-analyzer check qemu-test test test-debug print-debug-tests demo bench criu soak clean zdtm zdtm-build zdtm-sample

all: guest

deps:
	@$(REPO)/scripts/deps.sh

kernel: deps
	@$(REPO)/kernel/build.sh >/dev/null

# The netlink family's numbers, policies and ops table come from one spec,
# netlink/vproc.yaml; its generated files are committed (as in the kernel).
spec: kernel
	@$(REPO)/netlink/gen.sh

spec-check: kernel
	@$(REPO)/netlink/gen.sh --check

# The module must build without a single warning (Rust or C).
module: kernel
	@mkdir -p $(BUILD)
ifeq ($(VPROC_KDEBUG),1)
	@cd $(REPO) && find Kbuild src rust netlink -type f \( -name Kbuild -o -name '*.rs' -o -name '*.c' -o -name '*.h' \) \
	  ! -name shim_generated.rs ! -name '*.mod.c' | while read -r f; do \
	    mkdir -p $(MODDIR)/$$(dirname $$f) && ln -sfn $(REPO)/$$f $(MODDIR)/$$f || exit 1; \
	  done; find $(MODDIR) -xtype l -delete
endif
	@$(KMAKE) -s modules 2>&1 | tee $(BUILD)/module.log; \
	  test $${PIPESTATUS[0]} = 0 || exit 1; \
	  if grep -q 'warning' $(BUILD)/module.log; then echo "module: warnings are errors" >&2; rm -f $(MODDIR)/vproc.ko; exit 1; fi

# Static binaries for the guests: the tools and the test agent.
tools:
	@RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release --target $(TOOLS_TARGET) \
	  -p vproc-tools -p vproc-test-agent

# Statically linked test programs for the guests (migration tests).
progs: tools
	@for c in $(REPO)/qemu-test/progs/*.c; do \
	  b=$(STATIC_BIN)/$$(basename $$c .c); \
	  [ $$b -nt $$c ] || gcc -static -O2 -pthread -Wall -Werror -o $$b $$c || exit 1; \
	done

initramfs: module tools progs
	@$(REPO)/qemu-test/mkinitramfs $(BUILD)/initramfs.cpio.gz $(MODDIR)/vproc.ko $(STATIC_BIN)

# The guests' Debian root image (qemu-test/rootfs: cached outside the
# checkout, keyed by its package list).
rootfs:
	@mkdir -p $(BUILD) && ln -sf $$($(REPO)/qemu-test/rootfs/build.sh) $(BUILD)/rootfs.img

# Everything a guest boots: kernel image + initramfs (+ the Debian root,
# which the nodes run in unless VPROC_ROOT=busybox).
guest: initramfs rootfs
	@mkdir -p $(BUILD) && ln -sf $(KDIR)/arch/x86/boot/bzImage $(BUILD)/bzImage

host-test:
	cargo test -q --workspace

# Fuzz the pure logic the kernel runs on peer and user input.
FUZZ_SECONDS ?= 30
fuzz:
	@cd $(REPO)/host/fuzz && for t in wire peers mig custody; do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  cargo fuzz run --sanitizer none $$t -- -max_total_time=$(FUZZ_SECONDS) 2>&1 | grep -E '^Done|ERROR|panicked|SUMMARY' ; \
	  test $${PIPESTATUS[0]} = 0 || exit 1; \
	done

fmt-check:
	cargo fmt --all -- --check
	rustfmt --check --edition 2021 --config-path $(REPO)/rustfmt.toml src/vproc_main.rs

clippy: kernel
	@mkdir -p $(BUILD)
	cargo clippy -q --workspace --all-targets -- -D warnings
	@rm -f $(MODDIR)/src/vproc_main.o   # make Kbuild run clippy even when nothing changed
	@$(KMAKE) -s CLIPPY=1 modules 2>&1 | tee $(BUILD)/clippy.log; \
	  test $${PIPESTATUS[0]} = 0 || exit 1; \
	  if grep -q 'warning' $(BUILD)/clippy.log; then echo "clippy: warnings are errors" >&2; exit 1; fi

rust-analyzer: kernel
	@$(KMAKE) -s rust-analyzer
	@test -s $(REPO)/rust-project.json && echo "rust-analyzer: rust-project.json written"

lint: spec-check fmt-check clippy rust-analyzer

# Before a commit: the host tests, the lints, and the module built against
# both kernels. Built by clang with KASAN, the debug module's code differs
# from the normal one's, and objtool's checks of it can fail where the
# normal build passes (a Rust panic call objtool does not know as
# noreturn); CI would otherwise meet that only in `make test-debug`.
check: deps
	@$(MAKE) -s host-test
	@$(MAKE) -s lint
	@$(MAKE) -s module
	@$(MAKE) -s module VPROC_KDEBUG=1
	@echo "check: host tests, lints, the normal and the debug module: ok"

# QEMU_SKIP names test files (basenames) to leave out: CI leaves out the
# ones its debug-kernel run takes (`make test QEMU_SKIP=debug`), so each
# file runs once per CI run. QEMU_ONLY=debug runs only those, on the
# normal kernel (CI's fallback when the debug kernel is not ready in time).
QEMU_SKIP ?=
QEMU_ONLY ?=
QEMU_ALL = $(sort $(wildcard $(REPO)/qemu-test/tests/*.sh))
QEMU_FILES = $(if $(filter debug,$(QEMU_ONLY)),$(filter $(addprefix %/,$(DEBUG_TESTS)),$(QEMU_ALL)),\
	$(filter-out $(addprefix %/,$(if $(filter debug,$(QEMU_SKIP)),$(DEBUG_TESTS),$(QEMU_SKIP))),$(QEMU_ALL)))
qemu-test: guest zdtm-sample
	@$(REPO)/qemu-test/run-tests $(QEMU_FILES)

# CRIU's zdtm static tests (issue 16), built static from Debian's criu
# source into build/zdtm (cached: a second build takes seconds).
# zdtm-sample: only the suite's (qemu-test/zdtm/sample.list), into build/zdtm-sample.
ZDTM_SAMPLE = $(shell grep -v '^\#' $(REPO)/qemu-test/zdtm/sample.list)
zdtm-build:
	@$(REPO)/qemu-test/zdtm/build.sh $(BUILD)/zdtm 2>&1 | grep -E '^built|error|WARNING' || true
	@test -x $(BUILD)/zdtm/zdtm-run
zdtm-sample:
	@ZDTM_BUILD_ONLY="$(ZDTM_SAMPLE)" $(REPO)/qemu-test/zdtm/build.sh $(BUILD)/zdtm-sample 2>&1 | grep -E 'error|WARNING' || true
	@test -x $(BUILD)/zdtm-sample/zdtm-run

# Every zdtm test not marked to skip, each moved 1 -> 2 -> 3 and checked
# while away; one line per test in build/zdtm/results.txt (ZDTM_TESTS
# picks tests). The suite runs a few of them (17-zdtm).
zdtm: guest zdtm-build
	@VPROC_CLUSTER=zdtm VPROC_NO_BUILD=1 $(REPO)/qemu-test/run-tests $(REPO)/qemu-test/zdtm/moves.sh

# The whole fault matrix (every route x fault x target, FAULT_TRIALS
# random-delay trials each) and the fault tests; the main suite runs a few
# cells of it.
FAULT_TRIALS ?= 3
faults: guest
	@FAULT_CELLS=all FAULT_TRIALS=$(FAULT_TRIALS) VPROC_CLUSTER=faults $(REPO)/qemu-test/run-tests \
	  $(REPO)/qemu-test/tests/13-faults.sh $(REPO)/qemu-test/tests/14-fault-matrix.sh

# The contract with every user: every test, from a fresh machine.
test: deps
	@$(MAKE) -s host-test
	@$(MAKE) -s fuzz FUZZ_SECONDS=5
	@$(MAKE) -s lint
	@$(MAKE) -s qemu-test

# The QEMU suite again on the debug kernel (KASAN, lockdep, KFENCE, atomic
# sleep checks, SLUB debugging; built by clang 19): any splat on any node
# fails it. Its own build-debug/ and its own cluster name, so it runs beside
# `make test`. DEBUG_TESTS picks the test files (DEBUG_TESTS=all: every one);
# the default is what CI runs on it within its time (CI's `make test`
# leaves these out, QEMU_SKIP=debug): the PID space, global /proc and the
# peer protocol's bad input, in the busybox initramfs (VPROC_ROOT=debian for
# the Debian root: its boot takes 7 min under KASAN, kmemleak and TCG).
# 01 (the harness) and 02 (membership: failure detection within 3.5 s, which
# a kernel 10x slower does not meet) run on the normal kernel.
# Files in DEBUG_TODO run for their splats only: their failed points are
# KTAP TODO, since their waits are sized for the normal kernel (a 64 MiB
# move takes longer than 06-migrate's 30 s under KASAN and TCG).
DEBUG_TESTS ?= 03-vproc.sh 04-global.sh 05-peer.sh
DEBUG_TODO ?=
DEBUG_BOOT_TIMEOUT ?= 600
# The debug run's files, for .ci/run, which runs each of them on the debug
# kernel while it fits in CI's time.
print-debug-tests:
	@echo $(notdir $(DEBUG_TESTS))
test-debug: deps
	@$(MAKE) -s guest VPROC_KDEBUG=1
	@VPROC_KDEBUG=1 VPROC_NO_BUILD=1 VPROC_CLUSTER=$${VPROC_CLUSTER:-dbg} VPROC_ROOT=$${VPROC_ROOT:-busybox} \
	  VPROC_BOOT_TIMEOUT=$${VPROC_BOOT_TIMEOUT:-$(DEBUG_BOOT_TIMEOUT)} \
	  VPROC_KERNEL=$(REPO)/build-debug/bzImage VPROC_INITRD=$(REPO)/build-debug/initramfs.cpio.gz \
	  VPROC_TODO_FILES="$(DEBUG_TODO)" \
	  $(REPO)/qemu-test/run-tests $(if $(filter all,$(DEBUG_TESTS)),,$(addprefix $(REPO)/qemu-test/tests/,$(notdir $(DEBUG_TESTS))))

demo: deps guest
	@$(REPO)/qemu-test/demo

# CRIU 4.1.1, built from source for the guests (qemu-test/criu/build.sh
# says why not Debian's): `make bench` moves the same program with it.
criu: deps
	@$(REPO)/qemu-test/criu/build.sh >/dev/null

# NODES=N (4..63): what grows with the cluster's size instead, on N small
# guests (qemu-test/bench-scale).
NODES ?= 3
bench: deps guest criu
ifeq ($(NODES),3)
	@VPROC_CRIU=$$($(REPO)/qemu-test/criu/build.sh) $(REPO)/qemu-test/bench
else
	@NODES=$(NODES) $(REPO)/qemu-test/bench-scale
endif

# The chaos soak (issue 14): random moves, cuts, kills of processes and of
# nodes for SOAK_S seconds on its own cluster, an invariant checker counting
# copies, lost exits and leaks. Not part of `test`; run it before landing a
# change to migration or the transport. SOAK_SEED=N replays a run's choices.
SOAK_S ?= 600
SOAK_SEED ?=
soak: deps guest
	@SOAK_S=$(SOAK_S) SOAK_SEED=$(SOAK_SEED) VPROC_NO_BUILD=1 $(REPO)/qemu-test/soak

clean:
	-@$(MAKE) -s -C $(KDIR) M=$(REPO) clean 2>/dev/null
	rm -rf $(REPO)/build $(REPO)/build-debug target rust/shim_generated.rs rust-project.json
