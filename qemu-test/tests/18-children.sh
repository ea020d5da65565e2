# Processes with children (issue 17, item 2). Sourced by run-tests with
# lib.sh; the cluster is up.
#
# A process with children moves from its home; the children stay there,
# their parent there the deputy it leaves. Its wait4()/waitid() are done at
# home by that deputy (when it has no child on the node it runs on), the
# SIGCHLD the deputy gets is forwarded, and a fork after the move is born
# where it runs with its deputy at home (as MOSIX and OpenSSI did): its
# children are always home's.

if ! on 1 'test -x /usr/bin/python3'; then
    fail "children: the nodes run the Debian root (python3 is there)"
    return 0
fi

# --- python3 with two children moves; after the move it reaps them by
# pid and by "any", sees WNOHANG's nothing, ECHILD after the last, its
# SIGCHLD handler ran, and a child it forks later is born on node 2.
on 1 'rm -f /tmp/tc.*'
on 1 "cd /tmp; python3 -c '
import os, select, signal
got = []
signal.signal(signal.SIGCHLD, lambda s, f: got.append(s))
def gate(p):
    while not os.path.exists(p): select.select([], [], [], 0.05)
me = os.getpid()
kids = []
for code in (3, 5):
    k = os.fork()
    if k == 0:
        gate(\"/tmp/tc.go%d\" % code)
        os._exit(code if os.getppid() == me else 99)
    kids.append(k)
print(\"kids\", *kids, flush=True)
gate(\"/tmp/tc.moved\")
print(\"nohang\", *os.waitpid(-1, os.WNOHANG), flush=True)
open(\"/tmp/tc.go5\", \"w\").close()
p, st = os.waitpid(kids[1], 0)
print(\"second\", p == kids[1], os.waitstatus_to_exitcode(st), flush=True)
open(\"/tmp/tc.go3\", \"w\").close()
r = os.waitid(os.P_ALL, 0, os.WEXITED)
print(\"first\", r.si_pid == kids[0], r.si_status, flush=True)
try:
    os.wait()
    print(\"more\", flush=True)
except ChildProcessError:
    print(\"echild\", flush=True)
print(\"sigchld\", len(got) > 0, flush=True)
with open(\"/proc/self/where\") as f: w0 = f.read().strip()
k = os.fork()
if k == 0: os._exit(7)
with open(\"/proc/self/where\") as f: w1 = f.read().strip()
print(\"late\", w0, w1, os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]), flush=True)
' > /tmp/tc.out 2>&1 & echo \$! > /tmp/tc.pid; wait \$!; echo \$? > /tmp/tc.status" >/dev/null 2>&1 &
pid=$(on 1 'for i in $(seq 300); do grep -q "^kids " /tmp/tc.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/tc.pid')
read -r _ k1 k2 <<<"$(on 1 'grep "^kids " /tmp/tc.out')"
check_eq "children: python3 with two children goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
check_eq "children: both stay home, its deputy their parent" "1 $pid 1 $pid" \
    "$(on 1 "echo \$(cat /proc/$k1/where) \$(awk '{ print \$4 }' /proc/$k1/stat) \$(cat /proc/$k2/where) \$(awk '{ print \$4 }' /proc/$k2/stat)")"
check_eq "children: ps on node 2 lists each child once" "1 1" \
    "$(on 2 "echo \$(ps -e -o pid= | grep -cx \" *$k1\") \$(ps -e -o pid= | grep -cx \" *$k2\")")"
on 1 'touch /tmp/tc.moved'
check_eq "children: it ends with status 0" 0 \
    "$(on 1 'for i in $(seq 150); do [ -s /tmp/tc.status ] && break; sleep 0.2; done; cat /tmp/tc.status')"
out=$(on 1 'grep -v "^kids " /tmp/tc.out')
check_match "children: WNOHANG before they end finds nothing" "^nohang 0 0$" "$out"
check_match "children: waitpid of the second gets its status (5), its getppid() was the moved parent's" "^second True 5$" "$out"
check_match "children: waitid(P_ALL) gets the first (3)" "^first True 3$" "$out"
check_match "children: then ECHILD" "^echild$" "$out"
check_match "children: its SIGCHLD handler ran on node 2" "^sigchld True$" "$out"
check_match "children: a fork on node 2 stays there; the child's status (7)" "^late 2 2 7$" "$out"

# --- Forks made where the process runs: the child is born on node 2 with a
# PID of home's share and its deputy at home (a fork of the parent's
# deputy), a copy of the parent (registers, FPU, memory, credentials),
# listed once, waited for, signalled and moved as any moved child.
on 1 'rm -f /tmp/fk.*'
on 1 "cat > /tmp/fk.py <<'EOF'
import os, sys, time, math
def gate(p):
    while not os.path.exists(p): time.sleep(0.05)
gate(sys.argv[1] + \".go\")
x = math.sqrt(2.0) * 1.5
me = os.getpid()
kids = []
for i in range(3):
    k = os.fork()
    if k == 0:
        with open(\"/proc/self/where\") as f: w = f.read().strip()
        print(\"child\", i, w, os.getppid() == me, \"%.9f\" % (x * (i + 1)), os.getuid(), flush=True)
        if i == 2:
            gate(sys.argv[1] + \".end\")
        os._exit(10 + i)
    kids.append(k)
with open(\"/proc/self/where\") as f: w = f.read().strip()
print(\"kids\", w, *kids, flush=True)
for k in kids:
    p, st = os.waitpid(k, 0)
    print(\"reaped\", p == k, os.waitstatus_to_exitcode(st), flush=True)
EOF"
on 1 "cd /tmp; python3 /tmp/fk.py /tmp/fk > /tmp/fk.out 2>&1 & echo \$! > /tmp/fk.pid"
fp=$(on 1 'cat /tmp/fk.pid')
check_eq "fork here: python3 goes to node 2" ok "$(on 1 "sleep 0.5; echo 2 > /proc/$fp/goto 2>&1 && echo ok")"
on 1 'touch /tmp/fk.go'
read -r _ fw f0 f1 f2 <<<"$(on 1 'for i in $(seq 100); do grep -q "^kids " /tmp/fk.out && break; sleep 0.1; done; grep "^kids " /tmp/fk.out')"
check_eq "fork here: after three forks the parent is still on node 2" 2 "$fw"
check "fork here: each child has a PID of home's share ($f0 $f1 $f2)" \
    test "$((f0 >> 16))$((f1 >> 16))$((f2 >> 16))" = 111
check_eq "fork here: the children ran on node 2, their getppid() the parent, their FPU its (sqrt(2) * 1.5 * n), uid 0" \
    "child 0 2 True 2.121320344 0|child 1 2 True 4.242640687 0|child 2 2 True 6.363961031 0" \
    "$(on 1 'for i in $(seq 100); do [ "$(grep -c ^child /tmp/fk.out)" = 3 ] && break; sleep 0.1; done; grep ^child /tmp/fk.out | sort | paste -sd"|"')"
check_eq "fork here: the third is on node 2 (home's where), its deputy at home a child of the parent's" "2 $fp" \
    "$(on 1 "echo \$(cat /proc/$f2/where) \$(awk '{ print \$4 }' /proc/$f2/stat)")"
check_eq "fork here: ps lists it once on node 1, on node 2 and on node 3" "1 1 1" \
    "$(for n in 1 2 3; do on $n "ps -e -o pid= | grep -cx ' *$f2'"; done | paste -sd' ')"
check_eq "fork here: the first two are reaped with their statuses (10, 11)" "reaped True 10|reaped True 11" \
    "$(on 1 'for i in $(seq 100); do [ "$(grep -c ^reaped /tmp/fk.out)" -ge 2 ] && break; sleep 0.1; done; grep ^reaped /tmp/fk.out | paste -sd"|"')"
check_eq "fork here: the third moves on to node 3, then home" "3 1" \
    "$(on 1 "echo 3 > /proc/$f2/goto; a=\$(cat /proc/$f2/where); echo 1 > /proc/$f2/goto; echo \$a \$(cat /proc/$f2/where)")"
on 1 "kill -TERM $f2"
check_eq "fork here: killed at home, the parent on node 2 reaps it as killed (-15)" "reaped True -15" \
    "$(on 1 'for i in $(seq 100); do [ "$(grep -c ^reaped /tmp/fk.out)" = 3 ] && break; sleep 0.1; done; grep ^reaped /tmp/fk.out | tail -1')"
check_match "fork here: home's log names each fork" "pid $fp forks on node 2: pid $f0, its deputy here" "$(on 1 'dmesg | tail -40')"
check "fork here: node 2 counts them" test "$(on 2 "awk '/^forks_here/ { print \$2 }' /proc/cluster/custody")" -ge 3

# vfork and posix_spawn (Python's subprocess, dash's external commands)
# are born where the process runs too: the child runs in the parent's
# memory (on its own stack for posix_spawn) until it execs, the parent
# waiting meanwhile, as the kernel's vfork.
on 1 "rm -f /tmp/fv.*; cat > /tmp/fv.py <<'EOF'
import os, sys, time, subprocess
while not os.path.exists(sys.argv[1] + \".go\"): time.sleep(0.05)
r = subprocess.run([\"sh\", \"-c\", \"cat /proc/self/where; echo \$\$; exit 4\"], capture_output=True, text=True)
w, p = r.stdout.split()
print(\"run\", r.returncode, w, int(p) >> 16, flush=True)
p = os.posix_spawn(\"/bin/sh\", [\"sh\", \"-c\", \"exit 6\"], os.environ)
print(\"spawn\", os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]), p >> 16, flush=True)
with open(\"/proc/self/where\") as f: print(\"parent\", f.read().strip(), flush=True)
EOF"
on 1 "cd /tmp; python3 /tmp/fv.py /tmp/fv > /tmp/fv.out 2>&1 & echo \$! > /tmp/fv.pid"
vp=$(on 1 'cat /tmp/fv.pid')
check_eq "vfork here: python3 goes to node 2" ok "$(on 1 "sleep 0.5; echo 2 > /proc/$vp/goto 2>&1 && echo ok")"
on 1 'touch /tmp/fv.go'
check_eq "vfork here: subprocess.run's sh ran on node 2 with a home PID, its output and status (4) back; posix_spawn's (6) too; the parent stayed" \
    "run 4 2 1|spawn 6 1|parent 2" \
    "$(on 1 'for i in $(seq 150); do grep -q "^parent" /tmp/fv.out 2>/dev/null && break; sleep 0.1; done; paste -sd"|" /tmp/fv.out')"
check "vfork here: home's log names both forks" \
    test "$(on 1 "dmesg | grep -c 'pid $vp forks on node 2'")" -ge 2

# A process of three threads forks where it runs too (2026-12-05; it went
# home to fork before): any thread's fork is sent to the process's deputy
# at home (the leader's), which forks itself; the child copies the thread
# that forked. A worker thread runs subprocess.run (posix_spawn), the main
# thread forks, a third thread waits on a condition meanwhile.
on 1 "rm -f /tmp/ft.*; cat > /tmp/ft.py <<'EOF'
import os, sys, time, subprocess, threading, warnings
warnings.simplefilter(\"ignore\")
go = sys.argv[1] + \".go\"
cv = threading.Condition()
state = []
def waiter():
    with cv:
        while not state: cv.wait()
    print(\"waiter woke\", state[0], flush=True)
def worker():
    while not os.path.exists(go): time.sleep(0.05)
    r = subprocess.run([\"sh\", \"-c\", \"cat /proc/self/where; echo \$\$; exit 3\"], capture_output=True, text=True)
    w, p = r.stdout.split()
    print(\"thread run\", r.returncode, w, int(p) >> 16, flush=True)
ts = [threading.Thread(target=waiter), threading.Thread(target=worker)]
for t in ts: t.start()
print(\"threads\", threading.active_count(), flush=True)
while not os.path.exists(go): time.sleep(0.05)
ts[1].join()
k = os.fork()
if k == 0:
    with open(\"/proc/self/where\") as f: w = f.read().strip()
    print(\"child\", w, threading.active_count(), flush=True)
    os._exit(9)
p, st = os.waitpid(k, 0)
print(\"main fork\", p == k, k >> 16, os.waitstatus_to_exitcode(st), flush=True)
with cv:
    state.append(\"ok\")
    cv.notify()
ts[0].join()
with open(\"/proc/self/where\") as f: print(\"parent\", f.read().strip(), flush=True)
EOF"
on 1 "cd /tmp; python3 /tmp/ft.py /tmp/ft > /tmp/ft.out 2>&1 & echo \$! > /tmp/ft.pid"
tp=$(on 1 'cat /tmp/ft.pid')
on 1 'for i in $(seq 100); do grep -q "^threads" /tmp/ft.out && break; sleep 0.1; done'
check_eq "threads fork here: python3 with 3 threads goes to node 2" "3 ok" \
    "$(on 1 "echo \$(ls /proc/$tp/task | wc -l) \$(echo 2 > /proc/$tp/goto 2>&1 && echo ok)")"
n0=$(on 2 "awk '/^forks_here/ { print \$2 }' /proc/cluster/custody")
on 1 'touch /tmp/ft.go'
check_eq "threads fork here: a worker thread's subprocess.run ran sh on node 2 (home PID, status 3); the main thread's child on node 2 (one thread, status 9); the waiting thread woke; the parent stayed" \
    "thread run 3 2 1|child 2 1|main fork True 1 9|waiter woke ok|parent 2" \
    "$(on 1 'for i in $(seq 200); do grep -q "^parent" /tmp/ft.out 2>/dev/null && break; sleep 0.1; done; grep -E "^(thread run|child|main fork|waiter|parent)" /tmp/ft.out | paste -sd"|"')"
check "threads fork here: node 2 made both ($n0 before)" \
    test "$(on 2 "awk '/^forks_here/ { print \$2 }' /proc/cluster/custody")" -ge "$((n0 + 2))"
check "threads fork here: home's log names both forks" \
    test "$(on 1 "grep -c 'pid $tp forks on node 2' /proc/cluster/events")" -ge 2

# A fork that waits at home behind a call of the leader's that blocks
# there (the open of a FIFO) longer than 20 s is refused, lest home make a
# deputy for a fork node 2 stopped waiting for (after 30 s): the process
# then goes home to fork, as before. The main thread opens a FIFO nobody
# writes; a worker thread's subprocess.run waits; 24 s later a writer
# comes at home.
on 1 "rm -f /tmp/fs.*; mkfifo /tmp/fs.fifo; cat > /tmp/fs.py <<'EOF'
import os, sys, time, subprocess, threading
go = sys.argv[1] + \".go\"
def worker():
    while not os.path.exists(go): time.sleep(0.05)
    time.sleep(1)
    r = subprocess.run([\"sh\", \"-c\", \"cat /proc/self/where; exit 5\"], capture_output=True, text=True)
    print(\"late run\", r.returncode, r.stdout.strip(), flush=True)
t = threading.Thread(target=worker)
t.start()
print(\"threads\", flush=True)
while not os.path.exists(go): time.sleep(0.05)
with open(sys.argv[1] + \".fifo\") as f: print(\"fifo\", f.read().strip(), flush=True)
t.join()
EOF"
on 1 "cd /tmp; python3 /tmp/fs.py /tmp/fs > /tmp/fs.out 2>&1 & echo \$! > /tmp/fs.pid"
sp=$(on 1 'cat /tmp/fs.pid')
on 1 'for i in $(seq 100); do grep -q "^threads" /tmp/fs.out && break; sleep 0.1; done'
check_eq "stale fork: python3 with 2 threads goes to node 2" ok "$(on 1 "echo 2 > /proc/$sp/goto 2>&1 && echo ok")"
on 1 'touch /tmp/fs.go'
sleep 24
on 1 'echo hi > /tmp/fs.fifo'
check_eq "stale fork: the FIFO's open returns; the fork, refused at home after 20 s, was made at home (sh ran on node 1, status 5)" \
    "fifo hi|late run 5 1" \
    "$(on 1 'for i in $(seq 300); do grep -q "^late run" /tmp/fs.out 2>/dev/null && break; sleep 0.1; done; grep -E "^(fifo|late run)" /tmp/fs.out | paste -sd"|"')"
check_match "stale fork: home's log says why" "pid $sp: its fork on node 2 waited too long here: refused" "$(on 1 'dmesg | tail -40')"
check_eq "stale fork: no deputy was made for it on node 2" 0 "$(on 1 "grep -c 'pid $sp forks on node 2' /proc/cluster/events")"

# A process of uid 1000 (no_new_privs): its child on node 2 has its
# credentials, not the kernel's it was made with, and its /proc files are
# its own (dumpable). With RLIMIT_NPROC 2 and another process of uid 1000
# on node 2, the child cannot start there (its deputy at home is undone,
# unseen): the process forks at home instead.
if on 1 'setpriv --help 2>&1 | grep -q reuid'; then
    on 1 "cat > /tmp/fu.py <<'EOF'
import os, sys, time
def gate(p):
    while not os.path.exists(p): time.sleep(0.05)
for n in range(2):
    gate(sys.argv[1] + \".go%d\" % n)
    k = os.fork()
    if k == 0:
        with open(\"/proc/self/where\") as f: w = f.read().strip()
        try:
            open(\"/root/fu.x\", \"w\"); r = \"written\"
        except PermissionError:
            r = \"EACCES\"
        print(\"child\", n, w, os.getuid(), os.getgid(), r, os.getpid(), flush=True)
        gate(sys.argv[1] + \".end%d\" % n)
        os._exit(20 + n)
    print(\"reaped\", n, os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]), flush=True)
EOF"
    # (RLIMIT_NPROC counts every uid 1000 process of the node: none may
    # be left by an earlier test.)
    on 1 "pkill -9 -u 1000 || true; sleep 0.5"
    on 1 "cd /tmp; setpriv --reuid 1000 --regid 1000 --clear-groups --no-new-privs prlimit --nproc=2 python3 /tmp/fu.py /tmp/fu > /tmp/fu.out 2>&1 & echo \$! > /tmp/fu.pid"
    up=$(on 1 'cat /tmp/fu.pid')
    check_eq "fork here: uid 1000's process goes to node 2" ok "$(on 1 "sleep 0.5; echo 2 > /proc/$up/goto 2>&1 && echo ok")"
    on 1 'touch /tmp/fu.go0'
    c0=$(on 1 'for i in $(seq 100); do grep -q "^child 0" /tmp/fu.out && break; sleep 0.1; done; grep "^child 0" /tmp/fu.out')
    check_match "fork here: its child on node 2 is uid 1000 and may not write root's directory" "^child 0 2 1000 1000 EACCES [0-9]+$" "$c0"
    k0=${c0##* }
    check_eq "... with uid 1000, no capabilities, no_new_privs, and its /proc files uid 1000's" "1000 1000 1000 1000|0000000000000000|1|1000" \
        "$(on 2 "echo \$(awk '/^Uid/ { print \$2, \$3, \$4, \$5 }' /proc/$k0/status)\\|\$(awk '/^CapEff/ { print \$2 }' /proc/$k0/status)\\|\$(awk '/^NoNewPrivs/ { print \$2 }' /proc/$k0/status)\\|\$(stat -c %u /proc/$k0/status)")"
    on 1 'touch /tmp/fu.end0'
    check_eq "... reaped with its status (20)" "reaped 0 20" \
        "$(on 1 'for i in $(seq 100); do grep -q "^reaped 0" /tmp/fu.out && break; sleep 0.1; done; grep "^reaped 0" /tmp/fu.out')"
    on 2 "setpriv --reuid 1000 --regid 1000 --clear-groups sleep 60 > /dev/null 2>&1 & echo \$! > /tmp/fu.sleep"
    on 1 'touch /tmp/fu.go1'
    c1=$(on 1 'for i in $(seq 150); do grep -q "^child 1" /tmp/fu.out && break; sleep 0.1; done; grep "^child 1" /tmp/fu.out')
    check_match "fork here: over RLIMIT_NPROC on node 2 the child is born at home instead" "^child 1 1 1000 1000 EACCES [0-9]+$" "$c1"
    check_match "... node 2's log says why (EAGAIN)" \
        "cannot start here \\(error -11\\)" "$(on 2 'dmesg | tail -30')"
    check_match "... home's log: the deputy made for it was undone" "did not start on node 2: undone" "$(on 1 'dmesg | tail -30')"
    on 1 'touch /tmp/fu.end1'
    check_eq "... reaped with its status (21), and no other child was seen" "reaped 0 20|reaped 1 21" \
        "$(on 1 'for i in $(seq 100); do grep -q "^reaped 1" /tmp/fu.out && break; sleep 0.1; done; grep "^reaped" /tmp/fu.out | paste -sd"|"')"
    on 2 'kill $(cat /tmp/fu.sleep) 2>/dev/null'
fi

# --- a bash loop running commands, moved mid-run: the same lines and $?
# as an unmoved run (each command forked on node 2, its files home's).
on 1 "cat > /tmp/bl.sh <<'EOF'
for i in \$(seq 1 12); do
    sh -c \"exit \$((i % 4))\"; echo \"\$i \$? \$(cat /tmp/bl.home)\"
    x=0; while [ \$x -lt 3000 ]; do x=\$((x + 1)); done
done
EOF
echo home > /tmp/bl.home"
on 2 'echo node2 > /tmp/bl.home'
ref=$(on 1 'bash /tmp/bl.sh')
on 1 "rm -f /tmp/bl.out /tmp/bl.st /tmp/bl.pid"
on 1 "bash /tmp/bl.sh > /tmp/bl.out 2>&1 & echo \$! > /tmp/bl.pid; wait \$!; echo \$? > /tmp/bl.st" >/dev/null 2>&1 &
bp=$(on 1 'for i in $(seq 100); do [ -s /tmp/bl.out ] && break; sleep 0.05; done; cat /tmp/bl.pid')
moved=0
for t in 1 2 3; do
    if [ "$(on 1 "echo 2 > /proc/$bp/goto 2>/dev/null && echo ok")" = ok ]; then moved=$((moved + 1)); fi
    sleep 1
done
check "bash: the loop went to node 2 while it ran (moves: $moved)" test "$moved" -ge 1
check_eq "bash: it ends with status 0" 0 "$(on 1 'for i in $(seq 150); do [ -s /tmp/bl.st ] && break; sleep 0.2; done; cat /tmp/bl.st')"
check_eq "bash: its lines and \$? are the unmoved run's, home's file read" "$ref" "$(on 1 'cat /tmp/bl.out')"
check "bash: its commands were forked on node 2 ($(on 1 "dmesg | grep -c 'pid $bp forks on node 2'") forks)" \
    test "$(on 1 "dmesg | grep -c 'pid $bp forks on node 2'")" -ge 2
on 2 'rm -f /tmp/bl.home'

# --- migrate --tree: a shell and its two children all go to node 2; the
# shell's waits (at home, by its deputy) get a child's end after a kill
# from home (its deputy forwards it), and the other's status (it read a
# line from home's FIFO).
on 1 "rm -f /tmp/tr.*; mkfifo /tmp/tr.fifo; sh -c 'sleep 600 & a=\$!; sh -c \"read x < /tmp/tr.fifo; exit 9\" & b=\$!; echo \$a \$b > /tmp/tr.kids; wait \$a; echo a \$? > /tmp/tr.res; wait \$b; echo b \$? >> /tmp/tr.res' > /dev/null 2>&1 & echo \$! > /tmp/tr.pid"
tp=$(on 1 'cat /tmp/tr.pid')
read -r ka kb <<<"$(on 1 'for i in $(seq 50); do [ -s /tmp/tr.kids ] && break; sleep 0.1; done; cat /tmp/tr.kids')"
check_eq "tree: migrate --tree moves the shell and its children" "rc=0" "$(on 1 "migrate --tree $tp 2; echo rc=\$?")"
check_eq "tree: all three run on node 2" "2 2 2" "$(on 1 "echo \$(cat /proc/$tp/where /proc/$ka/where /proc/$kb/where)")"
on 1 "kill $ka; echo go > /tmp/tr.fifo"
check_eq "tree: the shell's waits get the killed child's 143 and the other's 9" "a 143 b 9" \
    "$(on 1 'for i in $(seq 100); do [ "$(wc -l < /tmp/tr.res 2>/dev/null)" = 2 ] && break; sleep 0.2; done; echo $(cat /tmp/tr.res)')"

# --- A vfork child (posix_spawn, a shell's or Python's subprocess) runs in
# its parent's memory until it execs: a move asked meanwhile waits for the
# exec (a tick at a time, up to about 2 s) and moves the new program; its
# parent, blocked in vfork at home until then, reaps it. One that does not
# exec within that bound is refused, and runs on.
on 1 'rm -f /tmp/vf.*'
on 1 "cd /tmp; vproc-vfork /tmp/vf.pid 1500 /usr/bin/sleep 3 > /tmp/vf.out 2>&1 &"
vp=$(on 1 'for i in $(seq 50); do [ -s /tmp/vf.pid ] && break; sleep 0.05; done; cat /tmp/vf.pid')
check_match "vfork: the child has not exec'd yet" "vproc-vfork\$" "$(on 1 "readlink /proc/$vp/exe")"
check_eq "vfork: goto 2 asked before its exec succeeds" ok "$(on 1 "echo 2 2>&1 > /proc/$vp/goto && echo ok")"
check_eq "vfork: the program it exec'd runs on node 2" "2 sleep" "$(on 2 "cat /proc/$vp/where; cat /proc/$vp/comm" | tr '\n' ' ' | sed 's/ $//')"
check_eq "vfork: its parent at home reaps it: exit 0" "child exited 0" \
    "$(on 1 'for i in $(seq 100); do [ -s /tmp/vf.out ] && break; sleep 0.1; done; cat /tmp/vf.out')"
on 1 "cd /tmp; vproc-vfork /tmp/vf.pid2 8000 /usr/bin/true > /tmp/vf.out2 2>&1 &"
vp=$(on 1 'for i in $(seq 50); do [ -s /tmp/vf.pid2 ] && break; sleep 0.05; done; cat /tmp/vf.pid2')
check_match "vfork: a child that does not exec within about 2 s is refused (EOPNOTSUPP)" "not supported" \
    "$(on 1 "echo 2 2>&1 > /proc/$vp/goto")"
check_match "... the log says why" "pid $vp cannot move: a vfork child" "$(on 1 'dmesg | tail -20')"
check_eq "... it runs on at home, and its parent reaps it" "child exited 0" \
    "$(on 1 'for i in $(seq 150); do [ -s /tmp/vf.out2 ] && break; sleep 0.1; done; cat /tmp/vf.out2')"

# py_head: what the Python programs below begin with (gate(PATH): wait
# until PATH exists; where(): the node it runs on).
py_head="import os, sys, time
def gate(p):
    while not os.path.exists(p): time.sleep(0.05)
def where():
    with open('/proc/self/where') as f: return f.read().strip()"

# --- A program exec'd away from home (runon's) forks as any moved process:
# its child is born on node 2 with a deputy at home (home's events name the
# fork), and it goes home: its deputy maps its vdso again where the program
# it exec'd has it (kernel patch 0013), and the program's clocks (its C
# library calls that vdso) and forks work there. Before, its fork was
# native and its move home failed with EINVAL.
on 1 "rm -f /tmp/ex.*; cat > /tmp/ex.py <<'EOF'
$py_head
print('pid', os.getpid(), flush=True)
k = os.fork()
if k == 0:
    os._exit(7)
print('reaped', os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]), where(), flush=True)
gate(sys.argv[1] + '.home')
t0 = time.monotonic(); time.sleep(0.2); dt = time.monotonic() - t0
print('home', where(), 0.15 < dt < 5, time.time() > 1e9, flush=True)
k = os.fork()
if k == 0:
    os._exit(3)
print('again', os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]), flush=True)
EOF"
on 1 "cd /tmp; (runon 2 python3 /tmp/ex.py /tmp/ex > /tmp/ex.out 2>&1; echo rc=\$? > /tmp/ex.rc) > /dev/null 2>&1 &"
xp=$(on 1 'for i in $(seq 100); do grep -q "^reaped" /tmp/ex.out 2>/dev/null && break; sleep 0.1; done; sed -n "s/^pid //p" /tmp/ex.out')
check_eq "exec'd away: runon's python3 forked on node 2 and reaped its child's 7" "reaped 7 2" "$(on 1 'grep ^reaped /tmp/ex.out')"
check "exec'd away: the child was born on node 2 with its deputy at home (home's events)" \
    test "$(on 1 "grep -c 'pid $xp forks on node 2' /proc/cluster/events")" -ge 1
check_eq "exec'd away: home's ps names it by the program it runs (its deputy took the name), not runon" python3 \
    "$(on 1 "for i in \$(seq 50); do [ \"\$(cat /proc/$xp/comm)\" = python3 ] && break; sleep 0.1; done; cat /proc/$xp/comm")"
# cmdline_of NODE PID: its /proc/PID/cmdline, spaces between.
cmdline_of() { on "$1" "tr '\\0' ' ' < /proc/$2/cmdline | sed 's/ \$//'"; }
check_eq "exec'd away: home's /proc/PID/cmdline is the program's too (ps aux, pgrep -f), not runon's" \
    "python3 /tmp/ex.py /tmp/ex" \
    "$(on 1 "for i in \$(seq 50); do grep -q '^python3' /proc/$xp/cmdline && break; sleep 0.1; done"; cmdline_of 1 "$xp")"
check_eq "exec'd away: ... so home's pgrep -f finds it" "$xp" "$(on 1 'pgrep -f "^python3 /tmp/ex.py"')"
vd2=$(on 2 "awk '/\\[vdso\\]/ { print \$1 }' /proc/$xp/maps")
vd1=$(on 1 "awk '/\\[vdso\\]/ { print \$1 }' /proc/$xp/maps")
check "exec'd away: its vdso on node 2 ($vd2) is not where its deputy's is ($vd1)" test -n "$vd2" -a "$vd2" != "$vd1"
check_eq "exec'd away: it goes home" "rc=0 1" "$(on 1 "migrate $xp home > /dev/null 2>&1; echo rc=\$? \$(cat /proc/$xp/where)")"
check_eq "exec'd away: its vdso at home is where it had it on node 2" "$vd2" "$(on 1 "awk '/\\[vdso\\]/ { print \$1 }' /proc/$xp/maps")"
check_eq "exec'd away: at home its command line is its own" "python3 /tmp/ex.py /tmp/ex" "$(cmdline_of 1 "$xp")"
on 1 'touch /tmp/ex.home'
check_eq "exec'd away: at home its clocks and a fork work, and runon gets its 0" "home 1 True True|again 3|rc=0" \
    "$(on 1 'for i in $(seq 100); do [ -s /tmp/ex.rc ] && break; sleep 0.1; done; { grep -E "^(home|again)" /tmp/ex.out; cat /tmp/ex.rc; } | paste -sd"|"')"

# --- A title a moved process sets (perl's $0, as setproctitle() does:
# written over its arguments, no exec) reaches home's ps within a look
# (every 2 s); a process that sets none keeps its environment at home.
on 1 "rm -f /tmp/ttl.*; (perl -e '\$0 = \"vproc-title-one\"; until (-e \"/tmp/ttl.go\") { select(undef, undef, undef, 0.1) } \$0 = \"vproc-title-two\"; sleep 1000' > /dev/null 2>&1 & echo \$! > /tmp/ttl.pid); (env VPROC_ENVMARK=yes sleep 1000 > /dev/null 2>&1 & echo \$! > /tmp/ttl.env)"
tp=$(on 1 'cat /tmp/ttl.pid')
ep=$(on 1 'cat /tmp/ttl.env')
check_eq "title: a perl process titled vproc-title-one at home" "$tp" \
    "$(on 1 'for i in $(seq 50); do pgrep -f "^vproc-title-one" > /dev/null && break; sleep 0.1; done; pgrep -f "^vproc-title-one"')"
check_eq "title: it and a sleep with VPROC_ENVMARK move 1 -> 2" "ok ok" \
    "$(on 1 "echo 2 > /proc/$tp/goto && echo ok; echo 2 > /proc/$ep/goto && echo ok" | paste -sd' ')"
on 1 'touch /tmp/ttl.go'
check_eq "title: on node 2 it titles itself vproc-title-two" "vproc-title-two" \
    "$(on 2 "for i in \$(seq 50); do grep -q two /proc/$tp/cmdline && break; sleep 0.1; done; tr -d '\\0' < /proc/$tp/cmdline")"
check_eq "title: ... and home's ps shows it within a look (no exec: it was the old title before)" "vproc-title-two" \
    "$(on 1 "for i in \$(seq 60); do grep -q two /proc/$tp/cmdline && break; sleep 0.1; done; ps -o args= -p $tp" | sed 's/ *$//')"
check_eq "title: ... and home's pgrep -f finds it by it" "$tp" "$(on 1 'pgrep -f "^vproc-title-two"')"
check_eq "title: the sleep that set none still shows its environment at home after 2 looks" "VPROC_ENVMARK=yes" \
    "$(on 1 "sleep 4.5; tr '\\0' '\\n' < /proc/$ep/environ | grep '^VPROC_ENVMARK'")"
check_eq "title: ... and its command line" "sleep 1000" "$(cmdline_of 1 "$ep")"
on 1 "kill -9 $tp $ep"

# --- A process locked on node 2: a move to node 3 is refused where it runs
# (EBUSY; before, home checked its own entry, 0, and moved it), home's
# /proc/PID/lock says 1. It forks there as any moved process does, the
# child born there with its deputy at home (until 2026-12-07 it forked
# natively: the child was node 2's, and held its parent there until
# reaped); its pipe is home's. Unlocked, it goes home while the child
# still lives, which is reaped there.
on 1 "rm -f /tmp/lk.*; cat > /tmp/lk.py <<'EOF'
$py_head
print('pid', os.getpid(), flush=True)
gate(sys.argv[1] + '.go')
r, w = os.pipe()
k = os.fork()
if k == 0:
    os.close(r); os.write(w, ('hi ' + where()).encode()); os.close(w)
    gate(sys.argv[1] + '.child'); os._exit(4)
os.close(w)
got = os.read(r, 100).decode()
os.close(r)
print('forked', k, got, flush=True)
gate(sys.argv[1] + '.end')
print('child', got, os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]), where(), flush=True)
EOF"
on 1 "cd /tmp; python3 /tmp/lk.py /tmp/lk > /tmp/lk.out 2>&1 & echo \$! > /tmp/lk.pid"
kp=$(on 1 'cat /tmp/lk.pid')
on 1 'for i in $(seq 100); do grep -q "^pid" /tmp/lk.out && break; sleep 0.1; done'
check_eq "locked: python3 goes to node 2 and is locked there" "ok 1" \
    "$(on 1 "echo 2 > /proc/$kp/goto && lock -p $kp on > /dev/null && echo ok \$(cat /proc/$kp/lock)")"
# lock_at_home PID VALUE: home's /proc/PID/lock once it says VALUE (or
# after 3 s).
lock_at_home() { on 1 "for i in \$(seq 30); do [ \"\$(cat /proc/$1/lock)\" = $2 ] && break; sleep 0.1; done; cat /proc/$1/lock"; }
check_eq "locked: unlocked where it runs (node 2), home's /proc/PID/lock follows (before: only once it came back)" 0 \
    "$(on 2 "lock -p $kp off > /dev/null"; lock_at_home "$kp" 0)"
check_eq "locked: ... and locked there again, home's follows again" 1 \
    "$(on 2 "lock -p $kp on > /dev/null"; lock_at_home "$kp" 1)"
check_match "locked: a move to node 3 is refused where it runs (EBUSY)" "busy.*rc=1" \
    "$(on 1 "migrate $kp 3 2>&1; echo rc=\$?" | tr '\n' ' ')"
on 1 'touch /tmp/lk.go'
lk=$(on 1 'for i in $(seq 100); do grep -q "^forked" /tmp/lk.out && break; sleep 0.1; done; sed -n "s/^forked //p" /tmp/lk.out')
kc=${lk%% *}
check_eq "locked: it forks on node 2, its child writes its (home's) pipe from node 2" "hi 2" "${lk#* }"
check_eq "locked: the child was made through home (its deputy there)" 1 \
    "$(on 1 "grep -c 'pid $kp forks on node 2: pid $kc,' /proc/cluster/events")"
check_eq "locked: the child is home's: listed there, running on node 2" "2 1" \
    "$(on 1 "cat /proc/$kc/where; ps -e -o pid= | grep -cx ' *$kc'" | paste -sd' ')"
check_eq "locked: unlocked, it goes home while its child still lives on node 2 (before: refused, a child of node 2's)" "rc=0 1 2" \
    "$(on 1 "lock -p $kp off > /dev/null; migrate $kp home 2>&1; echo rc=\$? \$(cat /proc/$kp/where) \$(cat /proc/$kc/where)")"
check_eq "locked: the child ends (4), reaped at home" "child hi 2 4 1" \
    "$(on 1 'touch /tmp/lk.child /tmp/lk.end; for i in $(seq 100); do grep -q "^child" /tmp/lk.out && break; sleep 0.1; done; grep ^child /tmp/lk.out')"

# --- A fork neither home nor the node it runs on may make fails (EAGAIN)
# rather than making a child of that node's (until 2026-12-07 it forked
# natively: its child then held it there until reaped). python3 moved to
# node 2 makes an io_uring there (a file of that node's: it cannot leave
# it), and its cgroup at home has no room for its child's deputy
# (pids.max; node 2's has room).
on 1 "rm -f /tmp/ea.*; mkdir -p /sys/fs/cgroup/ea; echo max > /sys/fs/cgroup/ea/pids.max; cat > /tmp/ea.py <<'EOF'
$py_head
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
print('pid', os.getpid(), flush=True)
gate(sys.argv[1] + '.go')
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 4, params)
print('uring', 'ok' if fd >= 0 else errno.errorcode[ctypes.get_errno()], where(), flush=True)
gate(sys.argv[1] + '.fork')
try:
    k = os.fork()
    if k == 0:
        os._exit(3)
    print('fork made', where(), os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]), flush=True)
except OSError as e:
    print('fork', errno.errorcode[e.errno], where(), flush=True)
gate(sys.argv[1] + '.end')
EOF"
on 2 'mkdir -p /sys/fs/cgroup/ea'
ep=$(on 1 "cd /tmp; sh -c 'echo \$\$ > /sys/fs/cgroup/ea/cgroup.procs; exec python3 /tmp/ea.py /tmp/ea' > /tmp/ea.out 2>&1 &
           for i in \$(seq 100); do grep -q ^pid /tmp/ea.out && break; sleep 0.1; done; sed -n 's/^pid //p' /tmp/ea.out")
check_eq "no room: python3 in cgroup /ea goes to node 2 and makes an io_uring there" "ok|uring ok 2" \
    "$(on 1 "echo 2 > /proc/$ep/goto && echo ok; touch /tmp/ea.go; for i in \$(seq 100); do grep -q ^uring /tmp/ea.out && break; sleep 0.1; done; grep ^uring /tmp/ea.out" | paste -sd'|')"
check_match "no room: it cannot go home now (EOPNOTSUPP)" "not supported" "$(on 1 "echo 1 2>&1 > /proc/$ep/goto")"
on 1 'echo 1 > /sys/fs/cgroup/ea/pids.max'
check_eq "no room: its fork fails with EAGAIN, on node 2 (no child made there)" "fork EAGAIN 2" \
    "$(on 1 'touch /tmp/ea.fork; for i in $(seq 100); do grep -q ^fork /tmp/ea.out && break; sleep 0.1; done; grep ^fork /tmp/ea.out')"
check_match "no room: node 2's log says why" "pid $ep: its fork fails \(EAGAIN\): (it cannot go home to fork|its move home to fork failed)" "$(on 2 'dmesg | tail -20')"
check_eq "no room: node 2's /ea holds it alone" "$ep" "$(on 2 'cat /sys/fs/cgroup/ea/cgroup.procs')"
on 1 "touch /tmp/ea.end; for i in \$(seq 50); do [ -d /proc/$ep ] || break; sleep 0.1; done; rmdir /sys/fs/cgroup/ea"
on 2 "for i in \$(seq 50); do rmdir /sys/fs/cgroup/ea 2>/dev/null && break; sleep 0.1; done"

# --- one output description, shared (a shell's `> file`, not O_APPEND),
# written by two moved processes at once: each line lands after the
# other's, none over it. Their writes are made at home by two deputies;
# each takes the description's offset lock as write(2) does (before: two
# deputies read one offset and wrote at it, and lines were lost).
on 1 "cat > /tmp/shwrite.py <<'EOF'
import os, sys, time
tag = sys.argv[1]
while not os.path.exists('/tmp/shw.go'):
    time.sleep(0.05)
for i in range(1500):
    os.write(1, ('%s %d\n' % (tag, i)).encode())
EOF"
on 1 "rm -f /tmp/shw.*; cd /tmp; ( python3 shwrite.py a & echo \$! > /tmp/shw.pa; python3 shwrite.py b & echo \$! > /tmp/shw.pb; wait; echo done > /tmp/shw.done ) > /tmp/shw.out 2>&1 &"
on 1 'for i in $(seq 100); do [ -s /tmp/shw.pb ] && break; sleep 0.1; done'
sa=$(on 1 'cat /tmp/shw.pa'); sb=$(on 1 'cat /tmp/shw.pb')
check_eq "shared output: two processes sharing one output description go to nodes 2 and 3" "ok ok" \
    "$(on 1 "echo 2 > /proc/$sa/goto && echo ok; echo 3 > /proc/$sb/goto && echo ok" | paste -sd' ')"
on 1 'touch /tmp/shw.go'
check_eq "shared output: both wrote 1500 lines each through their deputies at once, none lost" "1500 1500 3000" \
    "$(on 1 "for i in \$(seq 600); do [ -e /tmp/shw.done ] && break; sleep 0.1; done; echo \$(grep -c '^a [0-9]*\$' /tmp/shw.out) \$(grep -c '^b [0-9]*\$' /tmp/shw.out) \$(wc -l < /tmp/shw.out)")"
