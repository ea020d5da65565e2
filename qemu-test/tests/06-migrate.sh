# Live migration: goto moves a running process; it keeps working.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.
#
# vproc-mtest (qemu-test/progs/) prints one "result" line that covers its
# memory checksum, x87 and SSE accumulations, TLS and errno, a file read
# one line per tick, heap growth at the end and getpid(); a moved run must
# print exactly what an unmoved run prints.

M=vproc-mtest
on 1 'seq 1 300 | sed "s/^/line /" > /tmp/lines'
result() { grep '^result' "$@"; }

# werr NODE FILE VALUE: the error `echo VALUE > FILE` gets ("ok" if none).
werr() { on "$1" "echo '$3' > $2 2>/tmp/werr && echo ok || sed 's/.*: //' /tmp/werr"; }

ref=$(on 1 "$M -m 64 -t 100 -q -f /tmp/lines | grep ^result")
check_match "the unmoved reference run prints its result" "^result mem=.* samepid=1$" "$ref"

# --- 1 -> 2: a 64 MiB process with a file open, moved mid-run; its parent
# (the shell) waits for it; signals from home reach it.
for n in 2 3; do on $n 'rm -f /tmp/m1.go'; done
on 1 "rm -f /tmp/m1.*; cd /tmp; $M -m 64 -t 100 -f /tmp/lines -x 42 -w /tmp/m1.go > /tmp/m1.out 2>&1 & echo \$! > /tmp/m1.pid
      p=\$!; sleep 1.5; echo 2 > /proc/\$p/goto; echo \$? > /tmp/m1.goto
      cat /proc/\$p/where > /tmp/m1.where; cat /proc/\$p/nmigs > /tmp/m1.nmigs
      sleep 0.3; kill -USR1 \$p; sleep 0.5; kill -USR1 \$p
      wait \$p; echo \$? > /tmp/m1.status" >/dev/null 2>&1 &
waiter=$!
on 1 'for i in $(seq 150); do [ -s /tmp/m1.nmigs ] && break; sleep 0.2; done'
pid=$(on 1 'cat /tmp/m1.pid')
check_eq "goto 2 succeeds" 0 "$(on 1 'cat /tmp/m1.goto')"
check_eq "where at home says node 2" 2 "$(on 1 'cat /tmp/m1.where')"
check_eq "nmigs is 1 after one move" 1 "$(on 1 'cat /tmp/m1.nmigs')"
check_eq "where on node 2 says node 2" 2 "$(on 2 "cat /proc/$pid/where")"
check_eq "where on node 3 says node 2" 2 "$(on 3 "cat /proc/$pid/where")"
check_eq "ps on node 3 lists the process once" 1 "$(on 3 "ps -e -o pid= | grep -cx ' *$pid'")"
check_eq "ps at home lists the process once" 1 "$(on 1 "ps -e -o pid= | grep -cx ' *$pid'")"
check_eq "ps on node 2 lists the process once" 1 "$(on 2 "ps -e -o pid= | grep -cx ' *$pid'")"
check_eq "it runs on node 2 with the same PID" "vproc-mtest" "$(on 2 "cat /proc/$pid/comm")"
check_match "the home node's events record the move" "migrate .*pid $pid node 1 -> node 2" "$(on 1 'cat /proc/cluster/events')"
check_match "node 2's events record the arrival" "migrate .*pid $pid \(vproc-mtest\) arrived from node 1" "$(on 2 'cat /proc/cluster/events')"
# Its gate is a path: looked up at home, wherever it runs.
on 1 'touch /tmp/m1.go'
wait "$waiter"
on 1 'for i in $(seq 50); do [ -f /tmp/m1.status ] && break; sleep 0.2; done'
check_eq "the parent's wait() gets the migrated child's exit status 42" 42 "$(on 1 'cat /tmp/m1.status')"
check_eq "its result equals the unmoved run's" "$ref" "$(on 1 'grep ^result /tmp/m1.out')"
check_eq "both SIGUSR1s sent at home reached it" "usr1 2" "$(on 1 'grep ^usr1 /tmp/m1.out')"
check_eq "stdout at home has every tick, in order, none doubled" \
    "$(seq 0 99 | sed 's/^/tick /')" "$(on 1 'grep ^tick /tmp/m1.out')"
check_eq "the pid line is unchanged" "pid $pid" "$(on 1 'grep ^pid /tmp/m1.out')"
check_eq "no process is left behind on node 2" 0 "$(on 2 "ls -d /proc/$pid 2>/dev/null | wc -l")"

# --- 1 -> 2 -> 3 -> 1: the home node follows; back home the deputy resumes.
ref2=$(on 1 "$M -m 8 -t 50 -q | grep ^result")
on 1 "cd /tmp; $M -m 8 -t 50 -q > /tmp/m2.out 2>&1 & p=\$!; echo \$p > /tmp/m2.pid; sleep 1
      echo 2 > /proc/\$p/goto && echo 3 > /proc/\$p/goto && cat /proc/\$p/where > /tmp/m2.where3
      sleep 0.3; echo 1 > /proc/\$p/goto; echo \$? > /tmp/m2.back; cat /proc/\$p/where > /tmp/m2.where1
      cat /proc/\$p/nmigs > /tmp/m2.nmigs; wait \$p; echo \$? > /tmp/m2.status" >/dev/null 2>&1
check_eq "after 1 -> 2 -> 3 home knows it runs on node 3" 3 "$(on 1 'cat /tmp/m2.where3')"
check_eq "goto 1 brings it home" 0 "$(on 1 'cat /tmp/m2.back')"
check_eq "where is 1 again" 1 "$(on 1 'cat /tmp/m2.where1')"
check_eq "nmigs counts all three moves" 3 "$(on 1 'cat /tmp/m2.nmigs')"
check_eq "it ends normally at home" 0 "$(on 1 'cat /tmp/m2.status')"
check_eq "its result equals the unmoved run's" "$ref2" "$(on 1 'grep ^result /tmp/m2.out')"

# --- 2 -> 3 written on the node it runs on; kill from a third node.
on 1 "$M -m 1 -t 600 -q > /dev/null 2>&1 & echo \$! > /tmp/m3.pid"
p3=$(on 1 'cat /tmp/m3.pid')
check_eq "goto 2" ok "$(werr 1 /proc/$p3/goto 2)"
check_eq "goto 3 written on node 2" ok "$(werr 2 /proc/$p3/goto 3)"
check_eq "home learns it runs on node 3" 3 "$(on 1 "cat /proc/$p3/where")"
on 2 "kill -TERM $p3"
on 1 "for i in \$(seq 50); do [ -d /proc/$p3 ] || break; sleep 0.2; done"
check_eq "kill from node 2 ends it on node 3 (through home)" 0 "$(on 1 "ls -d /proc/$p3 2>/dev/null | wc -l")"
check_eq "... and on node 3" 0 "$(on 3 "ls -d /proc/$p3 2>/dev/null | wc -l")"

# --- a user moves their own process, not root's.
on 1 "su user -c '$M -m 1 -t 600 -q >/dev/null 2>&1 & echo \$! > /tmp/u.pid'"
up=$(on 1 'cat /tmp/u.pid')
on 1 "$M -m 1 -t 600 -q > /dev/null 2>&1 & echo \$! > /tmp/r.pid"
rp=$(on 1 'cat /tmp/r.pid')
check_eq "a user moves their own process" ok "$(on 1 "su user -c 'echo 2 > /proc/$up/goto' 2>&1 && echo ok")"
check_eq "... which keeps its owner on node 2" user "$(on 2 "ps -o user= -p $up")"
check_match "a user cannot move root's process" "Permission denied|Operation not permitted" \
    "$(on 1 "su user -c 'echo 2 > /proc/$rp/goto' 2>&1")"
on 1 "kill -9 $up $rp"

# --- refused: what cannot move yet says why, and keeps running (threads
# move: 21-threads; more than 64 are refused there).
on 1 "python3 -c 'import os, time; m = os.open(\"/proc/self/ns/uts\", os.O_RDONLY); print(1, flush=True); time.sleep(600)' > /tmp/ep.out 2>&1 & echo \$! > /tmp/nc.pid"
np=$(on 1 'for i in $(seq 100); do [ -s /tmp/ep.out ] && break; sleep 0.1; done; cat /tmp/nc.pid')
check_match "a process holding a namespace file is refused (EOPNOTSUPP)" "not supported" "$(werr 1 /proc/$np/goto 2)"
check_match "the log names the reason" "cannot move: fd [0-9]+ is a special file" "$(on 1 'dmesg | tail -5')"
on 1 "kill -9 $np"

# --- a shell with a child moves; the child stays home, its parent there
# the deputy. The shell's wait (done at home) gets the child's status; the
# command it runs next is born on node 2 (its deputy forked at home), and
# sees home's file.
on 1 "rm -f /tmp/ch.*; echo home-only > /tmp/ch.home
      sh -c 'sleep 600 & echo \$! > /tmp/ch.child; wait \$!; echo waited \$? > /tmp/ch.res; cat /tmp/ch.home >> /tmp/ch.res' > /dev/null 2>&1 &
      echo \$! > /tmp/ch.pid"
cp=$(on 1 'cat /tmp/ch.pid')
kid=$(on 1 'for i in $(seq 50); do [ -s /tmp/ch.child ] && break; sleep 0.1; done; cat /tmp/ch.child')
check_eq "a shell with a child goes to node 2" ok "$(werr 1 /proc/$cp/goto 2)"
check_eq "... its child stays home, the shell's deputy its parent" "1 $cp" "$(on 1 "echo \$(cat /proc/$kid/where) \$(awk '{ print \$4 }' /proc/$kid/stat)")"
on 1 "kill $kid"
check_eq "... its wait on node 2 gets the child's end (143), then its next command runs and reads home's file" \
    "waited 143 home-only" "$(on 1 'for i in $(seq 100); do [ "$(wc -l < /tmp/ch.res 2>/dev/null)" = 2 ] && break; sleep 0.1; done; echo $(cat /tmp/ch.res)')"
check_match "... it forked that command on node 2 (home's log)" "pid $cp forks on node 2: pid" "$(on 1 'dmesg | tail -40')"

# --- atomic: the destination disappears mid-way; the process stays, unharmed.
ref3=$(on 1 "$M -m 64 -t 70 -q | grep ^result")
on 1 "cd /tmp; $M -m 64 -t 70 -q > /tmp/m4.out 2>&1 & echo \$! > /tmp/m4.pid"
p4=$(on 1 'cat /tmp/m4.pid')
sleep 1
on 1 "(echo 2 > /proc/$p4/goto) 2> /tmp/m4.err; echo \$? > /tmp/m4.rc" >/dev/null 2>&1 &
mover=$!
sleep 0.8
"$CLUSTER" cut 2
wait "$mover"
check_eq "goto to a node cut mid-way fails" 1 "$(on 1 'cat /tmp/m4.rc')"
check_match "... with EHOSTUNREACH or ETIMEDOUT" "No route to host|timed out" "$(on 1 'cat /tmp/m4.err')"
check_eq "the process still runs at home" 1 "$(on 1 "cat /proc/$p4/where")"
"$CLUSTER" heal 2
on 1 "for i in \$(seq 100); do [ -d /proc/$p4 ] || break; sleep 0.2; done"
check_eq "its result equals the unmoved run's" "$ref3" "$(on 1 'grep ^result /tmp/m4.out')"
on 1 'i=0; while [ $i -lt 50 ] && ! grep -q "^ *2 .* up " /proc/cluster/nodes; do sleep 0.2; i=$((i+1)); done'
check_eq "node 2 holds no half-built copy" 0 "$(on 2 "ls -d /proc/$p4 2>/dev/null | wc -l")"

# --- its terminal: a process on a pseudo-terminal at home keeps it after
# the move (isatty, TIOCGWINSZ and a line typed there reach it on node 2).
out=$(on 1 "(sleep 3; echo typed-at-home) | vproc-ptyrun sh -c '$M -m 1 -t 20 -q -r < /dev/tty & p=\$!; sleep 0.5
      echo 2 > /proc/\$p/goto && echo moved to \$(cat /proc/\$p/where); wait \$p; echo status \$?'" | tr -d '\r')
check_match "the process on a terminal moved" "moved to 2" "$out"
check_match "after the move its stdout is still a terminal (isatty, TIOCGWINSZ)" "^tty yes" "$out"
check_match "a line typed on its terminal at home reaches it" "^read typed-at-home" "$out"
check_match "... and it ends normally" "status 0" "$out"

# --- the restorer's door refuses what is not a restorer's.
check_eq "admin/restore: garbage is refused (EINVAL)" "Invalid argument" "$(werr 1 /proc/cluster/admin/restore xyz)"
check_match "... and the log says what it takes" "admin/restore: write" "$(on 1 'dmesg | tail -3')"
check_eq "admin/restore: 'fail' without an errno (EINVAL)" "Invalid argument" "$(werr 1 /proc/cluster/admin/restore '1a fail')"
check_eq "admin/restore: a migration that is not arriving (ENOENT)" "No such file or directory" "$(werr 1 /proc/cluster/admin/restore 1234abcd)"
check_match "... logged" "no migration 1234abcd is arriving" "$(on 1 'dmesg | tail -3')"
check_eq "admin/restore: a thread of a migration that is not arriving (ENOENT)" "No such file or directory" \
    "$(werr 1 /proc/cluster/admin/restore '1234abce thread')"
check_match "... logged" "no migration 1234abce is arriving" "$(on 1 'dmesg | tail -3')"
check_eq "admin/restore: 'thread' with more after it (EINVAL)" "Invalid argument" \
    "$(werr 1 /proc/cluster/admin/restore '1234abce thread 3')"
check_eq "admin/restore: a user namespace for a migration that is not arriving (ENOENT)" "No such file or directory" \
    "$(werr 1 /proc/cluster/admin/restore '1234abcf userns 0')"
check_match "... logged" "no migration 1234abcf is arriving" "$(on 1 'dmesg | tail -3')"
check_eq "admin/restore: 'userns' with no number (EINVAL)" "Invalid argument" \
    "$(werr 1 /proc/cluster/admin/restore '1234abcf userns x')"
check_match "a user cannot reach it" "Permission denied|Operation not permitted" \
    "$(on 1 "su user -c 'echo 1 > /proc/cluster/admin/restore' 2>&1")"

# --- a stopped process is refused at once (EAGAIN), not waited for: its
# mover, or the home node's thread running a forwarded request, would wait
# as long as it stays stopped. After SIGCONT it moves.
on 1 "$M -m 1 -t 600 -q > /dev/null 2>&1 & echo \$! > /tmp/stp.pid"
sp=$(on 1 'cat /tmp/stp.pid')
sleep 0.3
on 1 "kill -STOP $sp"
check_eq "a stopped process is refused (EAGAIN)" "Resource temporarily unavailable" "$(werr 1 /proc/$sp/goto 2)"
check_match "... also when asked from a third node (migrate), within seconds" \
    "temporarily unavailable|EAGAIN|[Tt]ry again" "$(on 3 "timeout 20 migrate $sp 2 2>&1")"
check_match "... logged" "pid $sp is stopped" "$(on 1 'dmesg | tail -5')"
on 1 "kill -CONT $sp"
check_eq "after SIGCONT it moves" ok "$(werr 1 /proc/$sp/goto 2)"
on 1 "kill -9 $sp"
