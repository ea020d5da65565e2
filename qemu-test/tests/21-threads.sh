# Multi-threaded processes (issue 17, item 1). Sourced by run-tests with
# lib.sh; the cluster is up.
#
# Every thread stops in a task work of its own and travels with its
# registers, FPU, TLS, mask, alternate stack, rseq, robust list and
# clear_child_tid; the destination's restorer makes the threads with
# their TIDs; at home each thread leaves a thread deputy that keeps its
# TID and serves its calls. vproc-threads: four workers sum under a
# mutex and signal a condition variable, a fifth waits in
# pthread_cond_wait (or in a read of a FIFO at home) during the moves.

T=vproc-threads
SP='setpriv --reuid 1000 --regid 1000 --clear-groups'

# expect ROUNDS: the line an unmoved run prints (computed on node 3).
expect() { on 3 "cd /tmp && $T $1 /dev/null | tail -1"; }

# start NODE ROUNDS [PREFIX] [FIFO]: runs it in the background on NODE
# (output in /tmp/th.out, status in /tmp/th.status); prints its PID.
start() {
    on "$1" "rm -f /tmp/th.* /tmp/thg; cd /tmp; (${3:-} sh -c 'echo \$\$ > /tmp/th.pid; exec $T $2 /tmp/thg ${4:-}' > /tmp/th.out 2>&1; echo \$? > /tmp/th.status) >/dev/null 2>&1 &
        for i in \$(seq 100); do grep -q '^tids ' /tmp/th.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/th.pid"
}

# finish NODE: opens the gate and waits for the status (at most 120 s).
finish() {
    on "$1" 'touch /tmp/thg; for i in $(seq 1200); do [ -s /tmp/th.status ] && break; sleep 0.1; done; cat /tmp/th.status'
}

want=$(expect 4000)

# --- moved once, 1 -> 2: the same result, every thread with its TID.
p=$(start 1 4000)
tids=$(on 1 "grep '^tids ' /tmp/th.out | cut -d' ' -f2- | tr ' ' '\n' | sort | tr '\n' ' '")
check_eq "threads: a process of 6 threads moves 1 -> 2" ok "$(on 1 "echo 2 > /proc/$p/goto 2>&1 && echo ok")"
check_eq "... its threads on node 2 have their TIDs" "$tids" "$(on 2 "ls /proc/$p/task | sort -n | tr '\n' ' '")"
check_eq "... and at home each keeps its TID in a thread deputy" "$tids" \
    "$(on 1 "ls /proc/$p/task | sort -n | tr '\n' ' '")"
check_eq "... ps -L on node 2 lists them once" 6 \
    "$(on 2 "{ ps -L -o tid= -p $p 2>/dev/null || ls /proc/$p/task; } | wc -l")"
check_eq "... it exits 0" 0 "$(finish 1)"
check_eq "... with the unmoved run's result (tids, TLS, the waiter in pthread_cond_wait, joins)" \
    "$want" "$(on 1 'tail -1 /tmp/th.out')"
check_eq "... and its thread deputies ended with it" "" "$(on 1 "ls /proc/$p/task 2>/dev/null")"

# --- a user's threads keep the user's credentials there, each of them
# (setpriv is the Debian root's; the debug kernel's busybox root has none).
if on 1 'setpriv --help 2>&1 | grep -q reuid'; then
p=$(start 1 4000 "$SP")
check_eq "threads: uid 1000's process moves 1 -> 2" ok "$(on 1 "echo 2 > /proc/$p/goto 2>&1 && echo ok")"
check_eq "... every thread on node 2 is uid 1000, gid 1000, no groups" "6 6 6" \
    "$(on 2 "cat /proc/$p/task/*/status | awk '/^Uid:\t1000\t1000\t1000\t1000\$/ { u++ } /^Gid:\t1000\t1000\t1000\t1000\$/ { g++ } /^Groups:/ && NF == 1 { n++ } END { print u + 0, g + 0, n + 0 }'")"
check_eq "... none has a capability" "6" "$(on 2 "grep -h '^CapEff:.0000000000000000' /proc/$p/task/*/status | wc -l")"
check_eq "... it exits 0 with the unmoved result" "0 $want" "$(finish 1) $(on 1 'tail -1 /tmp/th.out')"
fi

# --- 20 moves back and forth under load, home and on, then home.
on 2 'for i in 1 2; do vproc-spin 100000 >/dev/null 2>&1 & echo $!; done > /tmp/th.spin'
p=$(start 1 10000)
n=0
for d in 2 3 1 3 2 1 2 1 3 1 2 3 2 1 3 2 1 2 3 1; do
    r=$(on 1 "echo $d > /proc/$p/goto 2>&1 && echo ok")
    [ "$r" = ok ] && [ "$(on 1 "cat /proc/$p/where")" = "$d" ] && n=$((n + 1))
done
on 2 'kill $(cat /tmp/th.spin)'
check_eq "threads: 20 moves 1 -> 2 -> 3 -> 1 ... under load, each where asked" 20 "$n"
check_eq "... it exits 0 with the unmoved result" "0 $(expect 10000)" "$(finish 1) $(on 1 'tail -1 /tmp/th.out')"
check_eq "... no thread of it is left on any node" "0 0 0" \
    "$(for i in 1 2 3; do on $i "ls -d /proc/$p 2>/dev/null | wc -l"; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "... and no thread is left stopped, arriving or deputy anywhere" "0 0 0" \
    "$(for i in 1 2 3; do on $i "awk '\$1 == \"threads_moving\" || \$1 == \"thread_deputies\" { s += \$2 } END { print s + 0 }' /proc/cluster/custody"; done | tr '\n' ' ' | sed 's/ $//')"

# --- one thread waits in a read at home while another writes there.
on 1 'rm -f /tmp/thf; mkfifo /tmp/thf'
p=$(start 1 4000 "" /tmp/thf)
check_eq "threads: with a thread reading a FIFO at home, it moves 1 -> 2 -> 3" "ok 3" \
    "$(on 1 "echo 2 > /proc/$p/goto 2>&1 && sleep 1 && echo 3 > /proc/$p/goto 2>&1 && echo ok \$(cat /proc/$p/where)")"
a=$(on 1 'grep -c ^tick /tmp/th.out'); sleep 2; b=$(on 1 'grep -c ^tick /tmp/th.out')
check "... the main thread's writes reach home while the read waits ($a, then $b lines)" test "$b" -gt $((a + 5))
on 1 'echo go > /tmp/thf'
# (the read, interrupted by the second move, runs again from node 3: a
# reply home kept for a repeat from node 2 must not answer it)
check_eq "... the read gets what home writes, and it ends with the unmoved result" "0 $want" \
    "$(on 1 'for i in $(seq 1200); do [ -s /tmp/th.status ] && break; sleep 0.1; done; cat /tmp/th.status') $(on 1 'tail -1 /tmp/th.out')"

# --- killed at home while away: every thread ends everywhere.
p=$(start 1 200000)
on 1 "echo 3 > /proc/$p/goto"
on 1 "kill -9 $p"
sleep 2
check_eq "threads: SIGKILL at home ends it on node 3 and its deputies at home" "0 0" \
    "$(on 3 "ls -d /proc/$p 2>/dev/null | wc -l") $(on 1 "ls -d /proc/$p 2>/dev/null | wc -l")"
check_eq "... its parent saw it killed" 137 "$(on 1 'for i in $(seq 50); do [ -s /tmp/th.status ] && break; sleep 0.1; done; cat /tmp/th.status')"

# --- a POSIX timer that notifies another thread moves (glibc's
# SIGEV_THREAD: SIGEV_THREAD_ID aimed at its helper thread, which starts a
# thread per expiry to run the callback; refused until 2026-12-04). Moved
# 1 -> 2 -> 3 -> 2 while it fires every 10 ms, it keeps firing where it
# runs, notifying the same thread, then comes home (a callback thread
# made away and alive then is made at home under its TID: refused until
# 2026-12-05, which a CI run hit) and ends well there. Until the
# restorer's threads blocked signal 32 too (glibc's pthread_sigmask()
# leaves it open), one move in three to six failed: the timer's signal
# found a restorer thread, and its default action ended the process
# there. At 10 ms its signal is often still queued to the helper thread
# when the move stops it (refused with EAGAIN before): the timer fires at
# once where it arrives.
# fired: how often the timer fired so far (the last "fired" line).
fired() { on 1 "grep '^fired' /tmp/pt.out | tail -1 | cut -d' ' -f2"; }
on 1 "rm -f /tmp/pt.*"
on 1 "cd /tmp; vproc-ptimer /tmp/pt.go 10 > /tmp/pt.out 2>&1 & echo \$! > /tmp/pt.pid; wait \$!; echo \$? > /tmp/pt.status" >/dev/null 2>&1 &
pp=$(on 1 'for i in $(seq 100); do [ -s /tmp/pt.pid ] && break; sleep 0.1; done; cat /tmp/pt.pid')
on 1 "sleep 0.5"
notify=$(on 1 "grep ^notify /proc/$pp/timers")
moves=""
for n in 2 3 2; do
    moves="$moves $(on 1 "{ echo $n > /proc/$pp/goto && echo ok; } 2>&1")"
    on 1 "sleep 0.3"
done
check_eq "a SIGEV_THREAD timer's process moves 1 -> 2 -> 3 -> 2" " ok ok ok" "$moves"
check_eq "... on node 2 its timer notifies the same thread ($notify)" "$notify" \
    "$(on 2 "grep ^notify /proc/$pp/timers")"
f0=$(fired)
on 1 "sleep 1.5"
f1=$(fired)
check "... there its timer fires on ($f0, then $f1 1.5 s later)" \
    test "$(on 1 "cat /proc/$pp/where")" = 2 -a "${f1:-0}" -ge "$((${f0:-0} + 3))"
check_eq "... and comes home" ok "$(on 1 "{ echo 1 > /proc/$pp/goto && echo ok; } 2>&1")"
on 1 "touch /tmp/pt.go"
check_eq "... it ends well, its callback in another thread" "0 yes ok" \
    "$(on 1 'for i in $(seq 50); do [ -s /tmp/pt.status ] && break; sleep 0.2; done; cat /tmp/pt.status') $(on 1 "sed -n 's/^callback in another thread: //p; s/^result //p' /tmp/pt.out" | tr '\n' ' ' | sed 's/ $//')"

# --- a thread made away from home comes home (2026-12-05; refused
# before, EOPNOTSUPP: no task at home had its TID). python3 moved to node
# 2 starts two threads there (one blocked on a lock, one in a sleep);
# asked home, its deputy makes them tasks under their TIDs (kernel_clone,
# kernel patch 0012), each takes its image, and they compute at home what
# an unmoved run does. Then out and home again: they are threads of home's
# like any other.
if on 1 'test -x /usr/bin/python3'; then
    on 1 "cat > /tmp/th-away.py <<'EOF'
import os, threading, time
lock = threading.Lock()
lock.acquire()
r = {}
def locked():
    with lock:
        r['a'] = sum(i * i for i in range(200000))
def sleeper():
    while not os.path.exists('/tmp/th-away.go'):
        time.sleep(0.05)
    r['b'] = sum(range(300000))
while not os.path.exists('/tmp/th-away.moved'):
    time.sleep(0.05)
ts = [threading.Thread(target=locked), threading.Thread(target=sleeper)]
[t.start() for t in ts]
print('tids', *[t.native_id for t in ts], flush=True)
while not os.path.exists('/tmp/th-away.go'):
    time.sleep(0.05)
lock.release()
[t.join() for t in ts]
print('sum', r['a'] + r['b'], flush=True)
EOF"
    on 1 "rm -f /tmp/th-away.[!p]*; cd /tmp; python3 /tmp/th-away.py > /tmp/th-away.out 2>&1 & p=\$!; echo \$p > /tmp/th-away.pid; wait \$p; echo \$? > /tmp/th-away.status" >/dev/null 2>&1 &
    ap=$(on 1 'for i in $(seq 100); do [ -s /tmp/th-away.pid ] && break; sleep 0.1; done; cat /tmp/th-away.pid')
    check_eq "away: python3 goes to node 2" ok "$(on 1 "echo 2 > /proc/$ap/goto && echo ok")"
    on 1 'touch /tmp/th-away.moved'
    tids=$(on 1 'for i in $(seq 100); do grep -q ^tids /tmp/th-away.out && break; sleep 0.1; done; sed -n "s/^tids //p" /tmp/th-away.out')
    check_match "away: it starts two threads there" "^[0-9]+ [0-9]+$" "$tids"
    check_eq "away: it comes home" "ok 1" "$(on 1 "{ echo 1 > /proc/$ap/goto && echo ok; } 2>&1; cat /proc/$ap/where" | tr '\n' ' ' | sed 's/ $//')"
    check_eq "away: home has its threads under their TIDs" "3 yes yes" \
        "$(on 1 "ls /proc/$ap/task | wc -l; for t in $tids; do [ \"\$(awk '/^Tgid/ {print \$2}' /proc/$ap/task/\$t/status 2>/dev/null)\" = $ap ] && echo yes || echo no; done" | tr '\n' ' ' | sed 's/ $//')"
    check_match "away: home's log says it made them" "pid $ap: 2 thread\(s\) it made away from home made here" "$("$CLUSTER" log 1)"
    check_eq "away: and it goes out and home again" "ok ok 1" \
        "$(on 1 "echo 3 > /proc/$ap/goto && echo ok; echo 1 > /proc/$ap/goto && echo ok; cat /proc/$ap/where" | tr '\n' ' ' | sed 's/ $//')"
    on 1 'touch /tmp/th-away.go'
    check_eq "away: its threads compute at home what an unmoved run does" \
        "0 sum $(on 1 "python3 -c 'print(sum(i * i for i in range(200000)) + sum(range(300000)))'")" \
        "$(on 1 'for i in $(seq 100); do [ -s /tmp/th-away.status ] && break; sleep 0.2; done; cat /tmp/th-away.status') $(on 1 'sed -n "s/^sum/sum/p" /tmp/th-away.out')"
fi

# --- up to 256 threads move (2026-12-05; 64 before): python3 (the Debian
# root's) with 200 threads waiting on an Event goes 1 -> 2 -> home, then
# they compute; the sum is an unmoved run's. 260 are refused, and it runs
# on.
on 1 'test -x /usr/bin/python3' || return 0
on 1 "cat > /tmp/th-many.py <<'EOF'
import os, sys, threading, time
n = int(sys.argv[1])
e = threading.Event()
res = [0] * n
def work(i):
    e.wait()
    res[i] = sum((k * i) % 7 for k in range(2000))
ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
[t.start() for t in ts]
print('ready', threading.active_count(), flush=True)
while not os.path.exists('/tmp/th-many.go'):
    time.sleep(0.05)
e.set()
[t.join() for t in ts]
print('sum', sum(res), flush=True)
EOF"
on 1 "rm -f /tmp/th-many.go; python3 /tmp/th-many.py 200 > /tmp/th.many 2>&1 & echo \$! > /tmp/th.mpid"
mp=$(on 1 'for i in $(seq 100); do grep -q ready /tmp/th.many 2>/dev/null && break; sleep 0.1; done; cat /tmp/th.mpid')
check_eq "threads: python3 with 201 threads goes to node 2, then home" "ok 2 ok 1" \
    "$(on 1 "echo 2 > /proc/$mp/goto && echo ok; cat /proc/$mp/where; echo 1 > /proc/$mp/goto && echo ok; cat /proc/$mp/where" | tr '\n' ' ' | sed 's/ $//')"
on 1 'touch /tmp/th-many.go'
check_eq "... its 200 threads compute what an unmoved run does" \
    "$(on 1 "python3 -c 'print(sum(sum((k * i) % 7 for k in range(2000)) for i in range(200)))'")" \
    "$(on 1 'for i in $(seq 300); do grep -q ^sum /tmp/th.many && break; sleep 0.1; done; sed -n "s/^sum //p" /tmp/th.many')"
on 1 "rm -f /tmp/th-many.go; python3 /tmp/th-many.py 260 > /tmp/th.many 2>&1 & echo \$! > /tmp/th.mpid"
mp=$(on 1 'for i in $(seq 100); do grep -q ready /tmp/th.many 2>/dev/null && break; sleep 0.1; done; cat /tmp/th.mpid')
check_match "threads: 261 threads are refused (EOPNOTSUPP)" "not supported" \
    "$(on 1 "echo 2 2>&1 > /proc/$mp/goto")"
check_eq "... and it keeps running at home" 1 "$(on 1 "cat /proc/$mp/where")"
on 1 "kill -9 $mp"

# --- a thread calling home in a loop while its process comes home, 8
# times (the deputy remaps its memory meanwhile; its thread deputy serves
# the thread's calls with their buffers mapped in that same memory). Each
# call pauses 30 ms with its buffers mapped (fault_call_delay_ms, as a
# call that sleeps there): before 2026-12-07 a buffer mapped where an area
# came was replaced by it and its unmapping took that piece of the process
# with it, and the move failed ("page ... cannot be written here", EFAULT)
# or the process came home with a hole; a buffer the remap removed failed
# the call (EFAULT). Now no call starts while the deputy remaps, and
# those inside one end first.
on 1 "cat > /tmp/thst.py <<'EOF'
import hashlib, os, threading, time
stop = []
n = [0, 0]
def statter():
    while not stop:
        try:
            os.stat('/tmp')
            n[0] += 1
        except OSError:
            n[1] += 1
t = threading.Thread(target=statter)
t.start()
blocks = [bytearray(os.urandom(64)) * (4096 * (i + 1)) for i in range(8)]
sums = [hashlib.md5(b).digest() for b in blocks]
print('ready', flush=True)
bad = 0
while not os.path.exists('/tmp/thst.go'):
    bad += sum(hashlib.md5(b).digest() != s for b, s in zip(blocks, sums))
    time.sleep(0.01)
stop.append(1)
t.join()
print('done', n[0] > 0, n[1], bad, flush=True)
EOF"
F=/sys/module/vproc/parameters/fault_call_delay_ms
on 1 "echo 30 > $F"
on 1 "rm -f /tmp/thst.[!p]*; cd /tmp; python3 /tmp/thst.py > /tmp/thst.out 2>&1 & p=\$!; echo \$p > /tmp/thst.pid; wait \$p; echo \$? > /tmp/thst.status" >/dev/null 2>&1 &
sp=$(on 1 'for i in $(seq 100); do grep -q ^ready /tmp/thst.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/thst.pid')
moves=""
for i in 1 2 3 4 5 6 7 8; do
    moves="$moves $(on 1 "{ echo 2 > /proc/$sp/goto && echo ok; } 2>&1 | tr ' ' _")"
    moves="$moves $(on 1 "{ echo 1 > /proc/$sp/goto && echo ok; } 2>&1 | tr ' ' _")"
done
check_eq "threads: a thread calling home in a loop: 8 times out and home, each move ok" \
    "$(echo ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok)" "$(echo $moves)"
on 1 'touch /tmp/thst.go'
check_eq "... it exits 0, its calls made and none failed, its memory intact" "0 done True 0 0" \
    "$(file_of 1 /tmp/thst.status 60) $(on 1 'grep ^done /tmp/thst.out')"
check_fails "... home logged no page it could not write" on 1 "dmesg | grep -q 'cannot be written here'"
on 1 "echo 0 > $F"

# --- a call at home that does not end while its process comes home: the
# deputy waits 5 s for it (its buffers are mapped in the memory it would
# remap), then gives the move up (EAGAIN); the process runs on where it
# is, its call answered, and comes home once the call has ended. The
# call pauses 10 s at home (fault_call_delay_ms). SIGUSR1 starts it (the
# handler, in the main thread, wakes the caller: no call home), the
# caller says so on its terminal first (a write home) and when it
# returned; SIGUSR2 ends the main thread's loop.
on 1 "cat > /tmp/thlong.py <<'EOF'
import hashlib, os, signal, threading, time
took = []
go = threading.Event()
end = []
signal.signal(signal.SIGUSR1, lambda *a: go.set())
signal.signal(signal.SIGUSR2, lambda *a: end.append(1))
def caller():
    go.wait()
    print('calling', flush=True)
    t0 = time.monotonic()
    os.stat('/tmp')
    took.append(time.monotonic() - t0)
    print('called', flush=True)
t = threading.Thread(target=caller)
t.start()
blocks = [bytearray(os.urandom(64)) * (4096 * (i + 1)) for i in range(8)]
sums = [hashlib.md5(b).digest() for b in blocks]
print('ready', flush=True)
bad = 0
while not end:
    bad += sum(hashlib.md5(b).digest() != s for b, s in zip(blocks, sums))
    time.sleep(0.01)
t.join()
print('done', len(took), int(took[0]) if took else -1, bad, flush=True)
EOF"
on 1 "echo 10000 > $F"
on 1 "rm -f /tmp/thlong.[!p]*; cd /tmp; python3 /tmp/thlong.py > /tmp/thlong.out 2>&1 & p=\$!; echo \$p > /tmp/thlong.pid; wait \$p; echo \$? > /tmp/thlong.status" >/dev/null 2>&1 &
line_of 1 /tmp/thlong.out ready 60 >/dev/null
lp=$(on 1 'cat /tmp/thlong.pid')
check_eq "threads: a process whose thread will make a 10 s call at home moves to node 2" ok \
    "$(on 1 "echo 2 > /proc/$lp/goto && echo ok")"
on 1 "kill -USR1 $lp"
line_of 1 /tmp/thlong.out calling 30 >/dev/null
sleep 1
t0=$(date +%s)
check_match "... called home meanwhile: the move home fails (EAGAIN)" "temporarily unavailable" \
    "$(on 1 "{ echo 1 > /proc/$lp/goto && echo ok; } 2>&1")"
waited=$(( $(date +%s) - t0 ))
check "... after home waited for the call, at least 4 s ($waited s)" test "$waited" -ge 4
check_match "... home logs why" "pid $lp: 1 call\\(s\\) of its threads at home did not end: it does not come home now" \
    "$(on 1 'dmesg | tail -30')"
check_eq "... it runs on, once, on node 2" "2 1" "$(on 1 "cat /proc/$lp/where") $(copies "$lp")"
on 1 "echo 0 > $F"
line_of 1 /tmp/thlong.out called 30 >/dev/null
check_eq "... and comes home once the call ended" "ok 1" \
    "$(on 1 "echo 1 > /proc/$lp/goto && echo ok") $(on 1 "cat /proc/$lp/where")"
on 1 "kill -USR2 $lp"
check_eq "... it exits 0, its call answered after its 10 s, its memory intact" "0 done 1 10 0" \
    "$(file_of 1 /tmp/thlong.status 60) $(on 1 'grep ^done /tmp/thlong.out')"
