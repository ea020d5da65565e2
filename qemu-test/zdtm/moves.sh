# CRIU's zdtm static tests, each moved 1 -> 2 -> 3 and checked while away
# (issue 16): started on node 1 as zdtm.py starts it (zdtm-run), moved to
# node 2, then to node 3, then ended there with SIGTERM (sent at home: its
# deputy forwards it), and the test checks its own state on node 3 and
# writes PASS or FAIL into its output file (at home). A move the module
# refuses is recorded with its errno, and the test is ended where it is:
# after a refused move its state must still be whole.
#
# Sourced by run-tests with lib.sh. ZDTM_DIR: the binaries, tests.list and
# zdtm-run (qemu-test/zdtm/build.sh; default build/zdtm); ZDTM_TESTS: the
# tests to run (default: every one not marked to skip); ZDTM_RESULTS: where
# one line per test goes ("NAME RESULT [DETAIL]").

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
zdir=${ZDTM_DIR:-$repo/build/zdtm}
zout=${ZDTM_RESULTS:-$zdir/results.txt}
shared=${VPROC_STATE:-/tmp/vproc-cluster-$VPROC_CLUSTER}/shared
if [ ! -x "$zdir/zdtm-run" ] || [ ! -d "$shared" ]; then
    fail "zdtm: no tests in $zdir (qemu-test/zdtm/build.sh) or no $shared"
    return 0
fi
tests=${ZDTM_TESTS:-$("$zdir/zdtm-run" "$zdir" list)}
mkdir -p "$shared/zdtm"
cp "$zdir/zdtm-run" "$zdir/tests.list" "$shared/zdtm/"
for t in $tests; do
    [ "$zdir/$t" -nt "$shared/zdtm/$t" ] && cp "$zdir/$t" "$shared/zdtm/$t"
done
: >"$zout"
on 1 'rm -rf /tmp/zw; mkdir -p /tmp/zw'
# The nodes' CLOCK_REALTIME set from the host's, as NTP keeps a real
# cluster's: TCG guests boot up to a second apart and drift under load,
# and a moved process's realtime timers and clock readings (zdtm's
# posix_timers) see the difference between the node it left and the one
# it runs on.
sync_clocks

# goto_err PID NODE: "" when PID moved to NODE, else the write's error
# and the reason the module logged ("cannot move: ...") on the node it ran.
goto_err() {
    local e
    e=$(on 1 "{ echo $2 > /proc/$1/goto; } 2>&1 | sed 's/.*write error: //'")
    [ -n "$e" ] || return 0
    echo "$e: $(on "$3" "dmesg | grep -a 'pid $1 cannot move' | tail -1 | sed 's/.*cannot move: //'")"
}

# zdtm_move NAME: one line, "NAME passed", "NAME refused-N ERR then PASS",
# "NAME not-run (...)", "NAME FAILED ..." (and the KTAP point).
zdtm_move() {
    local t=$1 pid e2 e3 res at line
    # (ZDTM_DELTA: poll's test allows its poll() 5 s from the start to
    # SIGTERM, zdtm.py's pace; two moves under TCG take longer)
    pid=$(on 1 "ZDTM_DELTA=60 /shared/zdtm/zdtm-run /shared/zdtm $t start /tmp/zw 2>/dev/null")
    case $pid in
    '' | *[!0-9]*)
        # Before any move: what these guests lack (IPv6, a kernel
        # feature), not the module.
        line="$t not-run (it cannot start here: ${pid#FAIL start: })"
        ;;
    *)
        e2=$(goto_err "$pid" 2 1)
        e3=
        [ -n "$e2" ] || e3=$(goto_err "$pid" 3 2)
        at=$(on 1 "cat /proc/$pid/where 2>/dev/null")
        # (120 s to end after SIGTERM, not 30: a moved test's checks are
        # calls at home, about 11 ms each between TCG guests, and
        # ghost_multi_hole00 makes 3072 of them)
        res=$(on 1 "ZDTM_FINISH_S=120 /shared/zdtm/zdtm-run /shared/zdtm $t finish /tmp/zw 2>/dev/null")
        if [ -n "$e2" ]; then
            line="$t refused-1to2 ($e2) then $res"
        elif [ -n "$e3" ]; then
            line="$t refused-2to3 ($e3) then $res on node $at"
        elif [ "$res" = PASS ] && [ "$at" = 3 ]; then
            line="$t passed"
        else
            line="$t FAILED on node $at: $res"
        fi
        ;;
    esac
    echo "$line" >>"$zout"
    case $line in
    "$t FAILED"* | "$t refused-"*FAIL*) fail "zdtm $line" ;;
    *) pass "zdtm $line" ;;
    esac
}

for t in $tests; do
    zdtm_move "$t"
done
echo "zdtm: $(grep -c ' passed$' "$zout") passed while away, $(grep -c ' refused-' "$zout") refused, $(grep -c ' not-run ' "$zout") could not start here, $(grep -c ' FAILED' "$zout") failed, of $(wc -l <"$zout")" | diag
