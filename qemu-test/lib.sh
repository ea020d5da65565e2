# Shared helpers of the QEMU test suites (sourced by run-tests and each
# tests/*.sh). Results are KTAP test points on stdout, counted in $RESULTS.

CLUSTER=${CLUSTER:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster}
RESULTS=${RESULTS:?run through qemu-test/run-tests}
NODES=${NODES:-3}
# The key the cluster's nodes are loaded with (64 hex digits), for tests
# that reload the module.
CLUSTER_KEY=${CLUSTER_KEY:-$("$CLUSTER" key)}

_point() { # STATUS DESC
    local n
    n=$(( $(wc -l <"$RESULTS") + 1 ))
    # A file run under VPROC_TODO (run-tests' VPROC_TODO_FILES) reports its
    # failures as KTAP TODO points, which do not fail the run (the splat
    # check is never one of them).
    if [ "$1" = fail ] && [ -n "${VPROC_TODO:-}" ]; then
        echo todo >>"$RESULTS"
        echo "not ok $n $2 # TODO $VPROC_TODO"
        return
    fi
    echo "$1" >>"$RESULTS"
    if [ "$1" = pass ]; then echo "ok $n $2"; else echo "not ok $n $2"; fi
}
pass() { _point pass "$*"; }
# A failure also shows each node's last module log lines (pr_info is
# below the console's level, so from dmesg; events are left out, they are
# in /proc/cluster/events): a flake in CI says why.
fail() { _point fail "$*"; _fail_logs; }
_fail_logs() {
    [ -n "${VPROC_TODO:-}" ] && return
    local i
    for i in $(seq 1 "$NODES"); do
        echo "node $i, last module log lines:"
        timeout 10 "$CLUSTER" sh "$i" "dmesg | grep -E 'vproc|migrate|goto' | grep -v 'vproc: event:' | tail -12" 2>&1 | sed 's/^/  /'
    done | diag
}
diag() { sed 's/^/# /'; }

# on NODE CMD: run CMD on NODE, output to stdout.
on() { "$CLUSTER" sh "$1" "$2"; }

# sync_clocks: every node's CLOCK_REALTIME set from the host's (the
# cluster has no NTP; see README's clocks).
sync_clocks() {
    local n
    for n in $(seq 1 "$NODES"); do
        # busybox's date (the debug run's root) takes whole seconds only
        on "$n" "date -s @$(date +%s.%N) >/dev/null 2>&1 || date -s @$(date +%s) >/dev/null" ||
            echo "# node $n: clock not set"
    done
}

# line_of NODE FILE PREFIX [SECONDS]: waits (default 30 s) for a line of
# FILE on NODE that starts with PREFIX (a grep pattern); prints those lines.
line_of() {
    on "$1" "for i in \$(seq $(( ${4:-30} * 10 ))); do grep -q '^$3' $2 2>/dev/null && break; sleep 0.1; done; grep '^$3' $2 2>/dev/null"
}

# file_of NODE FILE [SECONDS]: waits (default 30 s) for FILE on NODE to
# hold something (a status file, a PID); prints it.
file_of() {
    on "$1" "for i in \$(seq $(( ${3:-30} * 10 ))); do [ -s $2 ] && break; sleep 0.1; done; cat $2 2>/dev/null"
}

# check DESC CMD...: a test point that passes when CMD... succeeds.
check() {
    local desc=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$desc"; else _point fail "$desc"; printf '%s\n' "$out" | tail -20 | diag; _fail_logs; fi
}

# check_fails DESC CMD...: passes when CMD... fails.
check_fails() {
    local desc=$1; shift
    local out
    if out=$("$@" 2>&1); then _point fail "$desc (unexpectedly succeeded)"; printf '%s\n' "$out" | tail -20 | diag; _fail_logs; else pass "$desc"; fi
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else _point fail "$1"; printf 'expected: %s\nactual:   %s\n' "$2" "$3" | diag; _fail_logs; fi
}

# check_match DESC REGEX TEXT: passes when TEXT matches the extended REGEX.
check_match() {
    # (A here-string, not a pipe: under pipefail, a grep -q that stops at
    # an early line can leave the writer dead of SIGPIPE, failing a match.)
    if grep -Eq -- "$2" <<< "$3"; then pass "$1"; else _point fail "$1"; printf 'no match for /%s/ in:\n%s\n' "$2" "$3" | tail -20 | diag; _fail_logs; fi
}

# state_of NODE OBSERVER: NODE's state as OBSERVER's /proc/cluster/nodes says.
state_of() { on "$2" "awk '\$1 == $1 { print \$3 }' /proc/cluster/nodes"; }

# wait_state NODE OBSERVER STATE SECONDS: polls until it holds.
wait_state() {
    local end=$(( $(date +%s) + $4 ))
    while [ "$(date +%s)" -le $end ]; do
        [ "$(state_of "$1" "$2")" = "$3" ] && return 0
        sleep 0.2
    done
    echo "node $2 sees node $1 as '$(state_of "$1" "$2")', not '$3', after $4 s"
    return 1
}
wait_up() { wait_state "$1" "$2" up "$3"; }
wait_down() { wait_state "$1" "$2" down "$3"; }

# copies PID: on how many nodes the process runs (`where` names that node).
copies() {
    local n c=0 w
    for n in $(seq 1 "$NODES"); do
        # A node that does not answer is not a node without a copy.
        if ! w=$(on "$n" "cat /proc/$1/where 2>/dev/null; echo ."); then
            echo "unknown (node $n does not answer)"
            return
        fi
        [ "$w" = "$n
." ] && c=$((c + 1))
    done
    echo "$c"
}

# goto1 PID NODE [USER]: PID's goto written at node 1 (by USER): "ok", or
# the error's text.
goto1() {
    if [ -n "${3:-}" ]; then
        on 1 "su $3 -c 'echo $2 > /proc/$1/goto' 2>/tmp/ugoto.err && echo ok || sed 's/.*: //' /tmp/ugoto.err"
    else
        on 1 "echo $2 > /proc/$1/goto 2>/tmp/goto.err && echo ok || sed 's/.*: //' /tmp/goto.err"
    fi
}

# custody_of NODE NAME: the value of NAME in NODE's /proc/cluster/custody
# (empty without the module).
custody_of() { on "$1" "awk '\$1 == \"$2\" { print \$2 }' /proc/cluster/custody 2>/dev/null"; }

# The splat patterns that fail a run wherever they appear in a kernel log.
# (KASAN and KFENCE reports start with 'BUG: KASAN:' / 'BUG: KFENCE:'; SLUB
# debugging's with 'BUG <cache> (...): <what>', hence its own phrases.)
SPLAT='BUG:|WARNING:|Oops|KASAN|UBSAN|lockdep|possible recursive locking|circular locking|Kernel panic|general protection fault|Call Trace|RCU stall|soft lockup|hung task|Poison overwritten|Redzone overwritten|Object already free|Freepointer corrupt'

# check_clean_logs: one test point per node, on its serial consoles (which
# survive crashes and reboots).
# check_no_leaks NODE: on a kernel with kmemleak (the debug kernel), one
# test point: no unreferenced object was allocated through the module
# (its frames name [vproc], or are bare addresses: a module unloaded
# since). Two scans, as kmemleak's documentation advises (an object seen
# unreferenced once may be in flight). Other leaks are counted in a
# diagnostic, they are the kernel's.
check_no_leaks() {
    local out ours all
    out=$(on "$1" 'k=/sys/kernel/debug/kmemleak; [ -e $k ] || exit 3; echo scan > $k; sleep 6; echo scan > $k; cat $k' 2>/dev/null)
    [ $? = 3 ] && return 0
    all=$(printf '%s\n' "$out" | grep -c '^unreferenced object')
    ours=$(printf '%s\n' "$out" | awk '/^unreferenced object/ { if (hit) n++; hit = 0 }
        /\[vproc\]|^ +(\[<[0-9a-f]+>\] )?0x[0-9a-f]+$/ { hit = 1 } END { if (hit) n++; print n + 0 }')
    if [ "$ours" = 0 ]; then
        pass "node $1: kmemleak finds nothing of the module ($all other unreferenced objects)"
    else
        fail "node $1: kmemleak finds $ours unreferenced object(s) of the module"
        printf '%s\n' "$out" | head -60 | diag
    fi
}

check_clean_logs() {
    local i state
    state=${VPROC_STATE:-/tmp/vproc-cluster-${VPROC_CLUSTER:-default}}
    for i in $(seq 1 "$NODES"); do
        local hits
        hits=$(cat "$state/node$i.console.prev" "$state/node$i.console" 2>/dev/null | grep -E -A3 "$SPLAT" | head -40)
        if [ -z "$hits" ]; then pass "node $i kernel log has no splat"; else fail "node $i kernel log has a splat"; printf '%s\n' "$hits" | diag; fi
        # On the debug kernel a clean log only means something while lockdep
        # still checks: a taint (or lockdep's own trouble) turns it off,
        # sometimes without a line that matches above.
        if [ "${VPROC_KDEBUG:-0}" = 1 ]; then
            check_no_leaks "$i"
            local dl
            if dl=$(on "$i" "awk '/debug_locks:/ { print \$2 }' /proc/lockdep_stats" 2>/dev/null); then
                check_eq "node $i: lockdep still checking at the end (debug_locks)" 1 "$dl"
            else
                echo "node $i does not answer: lockdep state unknown" | diag
            fi
        fi
    done
}
