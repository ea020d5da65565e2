# Processes with children (issue 17, item 2). Sourced by run-tests with
# lib.sh; the cluster is up.
#
# A process with children moves from its home; the children stay there,
# their parent there the deputy it leaves. Its wait4()/waitid() are done at
# home by that deputy (when it has no child on the node it runs on), the
# SIGCHLD the deputy gets is forwarded, and a fork after the move takes it
# home first: its children are always home's.

if ! on 1 'test -x /usr/bin/python3'; then
    fail "children: the nodes run the Debian root (python3 is there)"
    return 0
fi

# --- python3 with two children moves; after the move it reaps them by
# pid and by "any", sees WNOHANG's nothing, ECHILD after the last, its
# SIGCHLD handler ran, and a child it forks later is forked at home.
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
check_match "children: a fork on node 2 took it home first; the child's status (7)" "^late 2 1 7$" "$out"

# --- a bash loop running commands, moved mid-run: the same lines and $?
# as an unmoved run (each command forked at home).
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
