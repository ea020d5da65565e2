# A peer that holds the cluster key and sends bad frames anyway: the node
# must drop that connection, log why, and carry on.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

key=$CLUSTER_KEY
# peer FAKE_NODE SCENARIO: run it from node 3 against node 1.
peer() { on 3 "vproc-peertest 10.77.0.1 7300 $1 1 $key $2"; }

out=$(peer 9 good)
check_match "a well-behaved fake node 9 joins node 1 and gets its echo" "echoed" "$out"
check_match "... and stays connected" "open" "$out"

scenario() { # FAKE_NODE SCENARIO LOGREGEX
    local out
    out=$(peer "$1" "$2")
    check_eq "$2: node 1 drops the connection" closed "$out"
    # Its lines, the last 20 of them (a node may come back under a number).
    local why=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        why=$(on 1 "dmesg | grep -E 'node[ =]$1[^0-9]' | tail -20")
        grep -Eq -- "$3" <<< "$why" && break
        sleep 0.5
    done
    check_match "$2: node 1 logs why" "$3" "$why"
}
scenario 10 bad-load 'node 10.*field out of range'
scenario 11 unknown-type 'node 11.*unknown message type'
scenario 12 replay 'node 12.*out-of-sequence'
scenario 13 bad-mac 'node 13.*bad MAC'
scenario 14 bad-kill 'node 14.*field out of range'
scenario 15 handshake-again 'node 15.*unknown message type'
scenario 17 bad-mig-kind 'node 17.*field out of range'
scenario 18 bad-mig-begin 'node 18.*field out of range'
scenario 45 bad-mig-seccomp 'node 45.*field out of range'
scenario 46 bad-mig-userns 'node 46.*field out of range'
scenario 47 bad-mig-userns-nest 'node 47.*field out of range'
# A Begin whose PID namespace part gives the process PID 1 there (its
# init's, which never moves).
scenario 51 bad-mig-pidns 'node 51.*field out of range'
out=$(peer 19 mig-stray)
check_match "mig-stray: a file request for no deputy is answered EBADF" "answered -9" "$out"
check_match "mig-stray: ... and the connection stays" "open" "$out"
scenario 22 bad-mig-intr 'node 22.*field out of range'
out=$(peer 23 mig-intr-stray)
check_eq "mig-intr-stray: an interrupt of no request, and a part of an answer nobody asked for, are dropped; the connection stays" open "$out"
scenario 20 bad-control 'node 20.*field out of range'
out=$(peer 21 control-stray)
check_match "control-stray: moving a process nobody has is answered ESRCH" "answered -3" "$out"
check_match "control-stray: ... and the connection stays" "open" "$out"
# A request in parts (MigPart frames, joined by the receiver): a good
# one, split around another request's part, is answered; a bad flag or
# one request past 1 MiB (wire::MAX_JOINED) drops the connection.
out=$(peer 30 control-stray-parts)
check_match "control-stray-parts: a request in two parts is joined and answered ESRCH" "answered -3" "$out"
check_match "control-stray-parts: ... and the connection stays" "open" "$out"
scenario 31 bad-part 'node 31.*field out of range'
scenario 32 part-overlong 'node 32.*truncated or overlong'
scenario 24 bad-signal-flags 'node 24.*field out of range'
scenario 25 bad-mig-syscall 'node 25.*field out of range'
scenario 26 bad-mig-poll 'node 26.*field out of range'
out=$(peer 27 mig-syscall-stray)
check_match "mig-syscall-stray: a system call for no deputy is answered EBADF" "answered -9" "$out"
check_match "mig-syscall-stray: ... and the connection stays" "open" "$out"
check_eq "mig-syscall-stray: ... and it was not done" absent "$(on 1 'test -e /tmp/peer-was-here && echo present || echo absent')"
scenario 28 bad-mig-job 'node 28.*field out of range'
out=$(peer 29 mig-job-stray)
check_eq "mig-job-stray: a stop report about a process that is no deputy (init) is dropped; the connection stays" open "$out"
scenario 41 bad-mig-cmdline 'node 41.*field out of range'
scenario 42 bad-mig-switches 'node 42.*field out of range'
out=$(peer 43 mig-cmdline-stray)
check_eq "mig-cmdline-stray: a command line for a process that does not run on the peer (init) is dropped; the connection stays" open "$out"
check_eq "mig-cmdline-stray: ... and init's command line is its own" absent \
    "$(on 1 "tr '\\0' ' ' < /proc/1/cmdline | grep -q peer-was-here && echo present || echo absent")"
out=$(peer 44 mig-switches-stray)
check_eq "mig-switches-stray: switches for a process that does not run on the peer (init) are dropped; the connection stays" open "$out"
check_eq "mig-switches-stray: ... and init's lock and loadlevel are 0" "0 0" "$(on 1 'echo $(cat /proc/1/lock) $(cat /proc/1/loadlevel)')"
scenario 33 bad-mig-ready 'node 33.*field out of range'
scenario 34 bad-mig-nowait 'node 34.*field out of range'
out=$(peer 35 mig-ready-stray)
check_eq "mig-ready-stray: a ready notice about a process that does not run here (init) is dropped; the connection stays" open "$out"
scenario 36 bad-mig-msg 'node 36.*field out of range'
out=$(peer 37 mig-msg-stray)
check_match "mig-msg-stray: a sendmsg with descriptors for no deputy is answered EBADF" "answered -9" "$out"
check_match "mig-msg-stray: ... and the connection stays" "open" "$out"
scenario 38 bad-mig-fork 'node 38.*field out of range'
scenario 39 bad-mig-fork-undo 'node 39.*field out of range'
out=$(peer 40 mig-fork-stray)
check_match "mig-fork-stray: a fork for no deputy is answered EBADF" "answered -9" "$out"
check_match "mig-fork-stray: ... and the connection stays" "open" "$out"
check_eq "mig-fork-stray: ... and nothing was forked on node 1" "" \
    "$(on 1 "grep -a 'forks on node 40' /proc/cluster/events")"
# A read of a moved process's file (home's READ): a drop of bytes home
# peeked ahead of a socket that says it is a recv, or asking more than
# it reads, is refused; a good one for no deputy is answered EBADF.
scenario 48 bad-mig-read 'node 48.*field out of range'
scenario 49 bad-mig-read-want 'node 49.*field out of range'
out=$(peer 50 mig-read-stray)
check_match "mig-read-stray: a drop of peeked bytes for no deputy is answered EBADF" "answered -9" "$out"
check_match "mig-read-stray: ... and the connection stays" "open" "$out"

# A lying answer to a process-list request.
# Node 1 asks for lists only of nodes it sees up, and a ps within the
# list cache's age asks nobody: wait for node 16, then ps until it was
# asked (on the debug kernel one ps could come too early or too late).
on 3 "vproc-peertest 10.77.0.1 7300 16 1 $key bad-procs > /tmp/badprocs 2>&1 &"
wait_up 16 1 20 | diag
check_match "ps on node 1 still works while node 16 lies" "vproc-agent" "$(on 1 'ps -e')"
for _ in $(seq 30); do
    on 3 'grep -q answered /tmp/badprocs' && break
    on 1 'ps -e > /dev/null'
    sleep 0.5
done
check_match "node 16 was asked and lied" "answered" "$(on 3 'cat /tmp/badprocs')"
for _ in $(seq 20); do
    on 1 'dmesg | grep -q "node 16: malformed process record"' && break
    sleep 0.5
done
check_match "node 1 logs the malformed list" "node 16: malformed process record" "$(on 1 dmesg)"

for n in 2 3; do
    check_eq "node $n is still up on node 1 after all that" up "$(on 1 "awk '\$1 == $n { print \$3 }' /proc/cluster/nodes")"
done
# (One call: each costs seconds on the debug kernel.)
on 1 'for n in $(seq 9 51); do echo $n > /proc/cluster/admin/remove; done' >/dev/null 2>&1
check_eq "the fake nodes are removed" "" "$(on 1 "awk 'NR > 1 && \$1 >= 9 { print \$1 }' /proc/cluster/nodes")"
