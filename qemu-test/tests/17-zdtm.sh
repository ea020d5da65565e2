# CRIU's zdtm static tests in the suite (issue 16): the sample of
# qemu-test/zdtm/sample.list, of the catalogue `make zdtm` runs whole, each
# moved 1 -> 2 -> 3 and checked on node 3 (see qemu-test/zdtm/moves.sh and
# README "CRIU's zdtm tests"). A test that fails fails the suite.
# Sourced by run-tests with lib.sh.

ZDTM_DIR=${ZDTM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/zdtm-sample} \
    ZDTM_RESULTS=${ZDTM_RESULTS:-/tmp/vproc-zdtm-suite.txt} \
    ZDTM_TESTS=$(grep -v '^#' "$(dirname "${BASH_SOURCE[0]}")/../zdtm/sample.list") \
    source "$(dirname "${BASH_SOURCE[0]}")/../zdtm/moves.sh"
