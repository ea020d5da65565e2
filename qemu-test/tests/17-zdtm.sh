# CRIU's zdtm static tests in the suite (issue 16): a sample of the
# catalogue `make zdtm` runs whole, each moved 1 -> 2 -> 3 and checked on
# node 3 (see qemu-test/zdtm/moves.sh and README "CRIU's zdtm tests"):
# state vproc carries (FPU/SSE, memory protections, timers, pipes, the
# vdso, the environment, umask, file attributes, proxied writes), and
# state it refuses (a child sharing memory, threads), where the test must
# still pass after the refused move. A test that fails fails the suite.
# Sourced by run-tests with lib.sh.

ZDTM_RESULTS=${ZDTM_RESULTS:-/tmp/vproc-zdtm-suite.txt} ZDTM_TESTS="busyloop00 sleeping00 fpu00 mmx00 sse00 mprotect00 timers01 pipe01 vdso00 env00 umask00 file_attr write_read00 caps00 pthread00" \
    source "$(dirname "${BASH_SOURCE[0]}")/../zdtm/moves.sh"
