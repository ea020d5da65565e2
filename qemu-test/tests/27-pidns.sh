# PID namespaces (issue 17, item 6: the refusal list shrinks): a process
# in a PID namespace of its home's (a container's, `unshare -pf`; a
# container's in a container, nested) moves. Sourced by run-tests with
# lib.sh; the cluster is up.
#
# The destination makes a namespace for it (one per home's namespace,
# below the one made for the namespace above, whose init is a process of
# its own, "vproc-pidns", that ends with the last process in it), where
# the process and its threads get their numbers in home's again at each
# level (clone3 set_tid): getpid(), gettid() and what
# its C library keeps of them stay true. Its calls that name another
# process of the namespace (kill, waits, getppid) are made at home, where
# that namespace is; a fork or a new thread, which needs numbers only
# home's namespace gives, is made at home, where it goes first. The
# namespace's init stays (its end is the namespace's).

if ! on 1 'command -v python3 && command -v unshare' >/dev/null 2>&1; then
    fail "pidns: the nodes run the Debian root (python3, unshare)"
    return 0
fi
# py NODE FILE: writes FILE on NODE from standard input
py() { local t; t=$(mktemp); cat > "$t"; "$CLUSTER" put "$1" "$t" "$2"; rm -f "$t"; }
# line TAG PREFIX: waits (60 s) for its line starting with PREFIX, without it
line() { line_of 1 "/tmp/$1.out" "$2 " 60 | sed "s/^$2 //"; }
# inits NODE: how many namespace inits the module's restorer made run
# there (its own processes: `pgrep` lists every node's, by their PIDs)
mine() { echo "pgrep -x vproc-pidns | awk '\$1 >= $1 * 65536 && \$1 < ($1 + 1) * 65536' | wc -l"; }
inits() { on "$1" "$(mine "$1")"; }
# gone NODE: waits (10 s) for none to be left there; prints how many are
gone() { on "$1" "for i in \$(seq 100); do [ \$($(mine "$1")) = 0 ] && break; sleep 0.1; done; $(mine "$1")"; }
# nspids NODE PID: its PIDs in its namespace there, the process's and
# each thread's, sorted, on one line
nspids() { on "$1" "cat /proc/$2/task/*/status | awk '/^NSpid:/ { print \$3 }' | sort -n | tr '\n' ' ' | sed 's/ $//'"; }
# levels NODE PID: its and each thread's PIDs in every namespace below the
# node's initial one, a thread's as "ns1/ns2/...", sorted, on one line
levels() { on "$1" "cat /proc/$2/task/*/status | awk '/^NSpid:/ { s = \$3; for (i = 4; i <= NF; i++) s = s \"/\" \$i; print s }' | sort | tr '\n' ' ' | sed 's/ $//'"; }

# owner NODE PID: who owns its PID namespace there, and each above it
# below the node's initial one, outermost first: its user namespace
# ("own"), the one N levels above it ("upN"), or the node's initial one
# ("init")
for n in 1 2 3; do
    py "$n" /tmp/nsowner.py <<'EOF'
import fcntl, os, sys
NS_GET_USERNS, NS_GET_PARENT = 0xb701, 0xb702
p = sys.argv[1]
ino = lambda fd: os.fstat(fd).st_ino
init_user = os.stat('/proc/1/ns/user').st_ino
init_pid = os.stat('/proc/1/ns/pid').st_ino
users = []
fd = os.open('/proc/%s/ns/user' % p, os.O_RDONLY)
while True:
    users.append(ino(fd))
    if users[-1] == init_user:
        break
    fd = fcntl.ioctl(fd, NS_GET_PARENT)
out = []
fd = os.open('/proc/%s/ns/pid' % p, os.O_RDONLY)
while ino(fd) != init_pid:
    u = ino(fcntl.ioctl(fd, NS_GET_USERNS))
    out.append('init' if u == init_user else 'own' if u == users[0] else
               'up%d' % users.index(u) if u in users else 'other')
    fd = fcntl.ioctl(fd, NS_GET_PARENT)
print(' '.join(reversed(out)))
EOF
done
owner() { on "$1" "python3 /tmp/nsowner.py $2"; }

py 1 /tmp/pidns.py <<'EOF'
import os, signal, sys, threading, time
tag = sys.argv[1]
def wait(n):
    f = '/tmp/%s.go%d' % (tag, n)
    while not os.path.exists(f):
        time.sleep(0.05)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
# Two children at home before the move: one until it is killed, one that
# signals its parent when told.
c1 = os.fork()
if c1 == 0:
    while True:
        time.sleep(1)
c2 = os.fork()
if c2 == 0:
    wait(2)
    os.kill(os.getppid(), signal.SIGUSR1)
    os._exit(0)
tid = []
ev = threading.Event()
def thread():
    tid.append(threading.get_native_id())
    ev.wait()
    print('thread', threading.get_native_id(), os.getpid(), flush=True)
t = threading.Thread(target=thread)
t.start()
while not tid:
    time.sleep(0.01)
print('ready', os.getpid(), os.readlink('/proc/self'), c1, c2,
      threading.get_native_id(), tid[0], flush=True)
wait(1)
print('ids', os.getpid(), os.getppid(), threading.get_native_id(), flush=True)
ev.set()
t.join()
# Its child at home, by its PID in the namespace: killed, reaped.
os.kill(c1, signal.SIGTERM)
p, st = os.waitpid(c1, 0)
print('reaped', p == c1, os.WTERMSIG(st) if os.WIFSIGNALED(st) else -1, flush=True)
# A signal to itself: here, before kill() returns.
got = []
signal.signal(signal.SIGUSR2, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR2)
print('self', got, flush=True)
# Its other child signals it from home: the sender as the namespace
# numbers it.
open('/tmp/%s.go2' % tag, 'w').close()
info = signal.sigwaitinfo([signal.SIGUSR1])
p, st = os.waitpid(c2, 0)
print('usr1', info.si_pid == c2, p == c2, os.WEXITSTATUS(st), flush=True)
wait(3)
# A fork: made at home (it goes home first).
r = os.fork()
if r == 0:
    os._exit(7)
p, st = os.waitpid(r, 0)
print('forked', p == r, r > c2, os.WEXITSTATUS(st), flush=True)
wait(4)
print('done', flush=True)
EOF
on 1 'chmod 644 /tmp/pidns.py'

# --- python3 in `unshare -pf sh`: its PID 2 there, two children, a thread:
# 1 -> 2 -> 3 -> (a fork) home.
on 1 "rm -f /tmp/pn.*; cd /tmp; ( unshare -pf sh -c 'python3 /tmp/pidns.py pn; echo \$? > /tmp/pn.st' > /tmp/pn.out 2>&1 & ) &" >/dev/null 2>&1
read -r ns pid c1 c2 t0 t1 <<< "$(line pn ready)"
check_eq "pidns: python3 is PID 2 of its namespace, its children 3 and 4" "2 3 4" "$ns $c1 $c2"
check "pidns: ... its cluster PID is node 1's" test "${pid:-0}" -gt 65536
init_pid=$(on 1 "awk '/^PPid:/ { print \$2 }' /proc/$pid/status")
check_match "pidns: a user may not move root's namespaced process (ptrace's rule; EACCES or EPERM), and it stays" \
    "^(Permission denied|Operation not permitted) 1\$" "$(goto1 "$pid" 2 user) $(on 1 "cat /proc/$pid/where")"
check_match "pidns: ... nor by the migrate tool (the module's check: EPERM), from node 1 or 2" \
    "not permitted.*not permitted.* 1\$" \
    "$(for n in 1 2; do on $n "su user -c 'migrate $pid 3' 2>&1 | tr '\n' ' '"; done) $(on 1 "cat /proc/$pid/where")"
check_eq "pidns: it moves to node 2 (before: EOPNOTSUPP, namespaces)" ok "$(goto1 "$pid" 2)"
check_eq "pidns: it runs there, once" "2 1" "$(on 1 "cat /proc/$pid/where") $(copies "$pid")"
check_eq "pidns: there it and its thread have their PIDs of home's namespace, owned by the initial user namespace" \
    "$t0 $t1 init" "$(nspids 2 "$pid") $(owner 2 "$pid")"
check "pidns: ... in a namespace that is not node 2's initial one" \
    test "$(on 2 "readlink /proc/$pid/ns/pid")" != "$(on 2 'readlink /proc/1/ns/pid')"
check_eq "pidns: ... whose init is the restorer's (one)" 1 "$(inits 2)"
on 1 'touch /tmp/pn.go1'
check_eq "pidns: on node 2 getpid(), getppid() (made at home: sh, PID 1) and gettid() are home's namespace's" \
    "$ns 1 $t0" "$(line pn ids)"
check_eq "pidns: ... its thread's gettid() too" "$t1 $ns" "$(line pn thread)"
check_eq "pidns: ... it kills its child at home by its PID there, and reaps it" "True 15" "$(line pn reaped)"
check_eq "pidns: ... a signal to itself arrives before kill() returns" "[12]" "$(line pn self)"
check_eq "pidns: ... its other child's signal comes with the child's PID in the namespace; reaped, status 0" \
    "True True 0" "$(line pn usr1)"
check_eq "pidns: it moves on to node 3" ok "$(goto1 "$pid" 3)"
check_eq "pidns: there with the same PIDs" "$t0" "$(nspids 3 "$pid")"
check_eq "pidns: ... node 3 made a namespace for it" 1 "$(inits 3)"
check_eq "pidns: ... node 2's init ended with its last process" 0 "$(gone 2)"
on 1 'touch /tmp/pn.go3'
check_eq "pidns: on node 3 a fork is made at home: the child has home's next PID, status 7" "True True 7" "$(line pn forked)"
check_eq "pidns: ... it went home to fork" 1 "$(on 1 "cat /proc/$pid/where")"
check_match "pidns: ... node 3's log says why" "pid $pid: its PID namespace is home's: it goes home" "$(on 3 'dmesg')"
check_eq "pidns: ... node 3's init ended" 0 "$(gone 3)"
on 1 'touch /tmp/pn.go4'
check_eq "pidns: it ends with status 0, reaped by its namespace's init at home" 0 "$(file_of 1 /tmp/pn.st 30)"

# --- A rootless container's: uid 1000's `unshare -Urpf`, its PID
# namespace owned by its user namespace: 1 -> 2 -> home, where it forks.
U="setpriv --reuid 1000 --regid 1000 --clear-groups"
on 1 "rm -f /tmp/pu.*; cd /tmp; ( $U unshare -Urpf sh -c 'python3 /tmp/pidns.py pu; echo \$? > /tmp/pu.st' > /tmp/pu.out 2>&1 & ) &" >/dev/null 2>&1
read -r ns pid c1 c2 t0 t1 <<< "$(line pu ready)"
check_eq "pidns: rootless (uid 1000's unshare -Urpf): python3 is PID 2 there, owned by its user namespace" \
    "2 3 4 own" "$ns $c1 $c2 $(owner 1 "$pid")"
check_match "pidns: another user (uid 1001) may not move it, though it is root in its namespaces (EACCES or EPERM), and it stays" \
    "^(Permission denied|Operation not permitted) 1\$" \
    "$(on 1 "setpriv --reuid 1001 --regid 1001 --clear-groups sh -c 'echo 2 > /proc/$pid/goto' 2>&1 | sed 's/.*: //'") $(on 1 "cat /proc/$pid/where")"
check_eq "pidns: its user moves it to node 2" ok "$(goto1 "$pid" 2 user)"
check_eq "pidns: there with its PIDs, in a namespace owned by the user namespace made for it" \
    "$t0 $t1 own" "$(nspids 2 "$pid") $(owner 2 "$pid")"
on 1 'touch /tmp/pu.go1'
check_eq "pidns: ... getpid(), getppid(), gettid() are its namespace's" "$ns 1 $t0" "$(line pu ids)"
check_eq "pidns: ... it kills and reaps its child at home" "True 15" "$(line pu reaped)"
check_eq "pidns: ... its other child's signal comes with that child's PID" "True True 0" "$(line pu usr1)"
check_eq "pidns: it comes home" ok "$(goto1 "$pid" 1 user)"
check_eq "pidns: ... node 2's init ended" 0 "$(gone 2)"
on 1 'touch /tmp/pu.go3'
check_eq "pidns: at home it forks as any" "True True 7" "$(line pu forked)"
on 1 'touch /tmp/pu.go4'
check_eq "pidns: it ends with status 0" 0 "$(file_of 1 /tmp/pu.st 30)"

# --- What stays: the namespace's init (its end ends the namespace).
check_eq "pidns: gone: its namespace's init ($init_pid) ended" "" "$(on 1 "cat /proc/$init_pid/status 2>/dev/null | head -1")"
on 1 "rm -f /tmp/pi.*; ( unshare -pf sh -c 'sleep 3301 & wait' > /dev/null 2>&1 & ) &" >/dev/null 2>&1
sh1=$(on 1 'for i in $(seq 50); do p=$(pgrep -f "^sleep 3301"); [ -n "$p" ] && break; sleep 0.1; done; awk "/^PPid:/ { print \$2 }" /proc/$p/status')
sl1=$(on 1 'pgrep -f "^sleep 3301"')
check_eq "pidns: its init (PID 1 there) cannot move: EOPNOTSUPP" "Operation not supported" "$(goto1 "$sh1" 2)"
check_match "pidns: ... the log says why" "pid $sh1 cannot move: .*PID namespace" "$(on 1 'dmesg')"
check_eq "pidns: a process in it moves (sleep)" ok "$(goto1 "$sl1" 2)"
check_eq "pidns: ... and comes home" ok "$(goto1 "$sl1" 1)"
on 1 "kill $sl1" >/dev/null 2>&1

# --- Nested: python3 in a container's container (`unshare -pf unshare
# -pf`), two levels below the node's initial namespace: 1 -> 2 -> 3 ->
# (a fork) home. The destination makes both levels, the inner below the
# outer, and gives it its numbers in each.
on 1 "rm -f /tmp/pd.*; cd /tmp; ( unshare -pf unshare -pf sh -c 'python3 /tmp/pidns.py pd; echo \$? > /tmp/pd.st' > /tmp/pd.out 2>&1 & ) &" >/dev/null 2>&1
read -r ns pid c1 c2 t0 t1 <<< "$(line pd ready)"
home_levels=$(levels 1 "$pid")
check_eq "pidns: nested: python3 is PID 2 of its inner namespace, its children 3 and 4" "2 3 4" "$ns $c1 $c2"
check_eq "pidns: nested: it moves to node 2 (before: EOPNOTSUPP)" ok "$(goto1 "$pid" 2)"
check_eq "pidns: nested: there it and its thread have their PIDs of both levels, as at home" \
    "$home_levels" "$(levels 2 "$pid")"
check_eq "pidns: nested: ... both owned by the initial user namespace" "init init" "$(owner 2 "$pid")"
check_eq "pidns: nested: ... node 2 made an init for each level" 2 "$(inits 2)"
on 1 'touch /tmp/pd.go1'
check_eq "pidns: nested: getpid(), getppid() (sh, 1) and gettid() are the inner namespace's" \
    "$ns 1 $t0" "$(line pd ids)"
check_eq "pidns: nested: ... it kills its child at home by its PID there, and reaps it" "True 15" "$(line pd reaped)"
check_eq "pidns: nested: ... its other child's signal comes with that child's PID" "True True 0" "$(line pd usr1)"
check_eq "pidns: nested: it moves on to node 3 (its thread ended), its PIDs the same" \
    "ok $(echo "$home_levels" | tr ' ' '\n' | grep "/$t0\$")" "$(goto1 "$pid" 3) $(levels 3 "$pid")"
check_eq "pidns: nested: ... node 2's inits ended with their last process" 0 "$(gone 2)"
on 1 'touch /tmp/pd.go3'
check_eq "pidns: nested: on node 3 a fork is made at home" "True True 7" "$(line pd forked)"
check_eq "pidns: nested: ... node 3's inits ended" 0 "$(gone 3)"
on 1 'touch /tmp/pd.go4'
check_eq "pidns: nested: it ends with status 0, reaped by sh" 0 "$(file_of 1 /tmp/pd.st 30)"

# --- A rootless container's in a rootless container: uid 1000's
# `unshare -Urpf unshare -Urpf`, each PID namespace owned by the user
# namespace made with it (the outer by the one above the process's).
on 1 "rm -f /tmp/pr.*; cd /tmp; ( $U unshare -Urpf unshare -Urpf sh -c 'python3 /tmp/pidns.py pr; echo \$? > /tmp/pr.st' > /tmp/pr.out 2>&1 & ) &" >/dev/null 2>&1
read -r ns pid c1 c2 t0 t1 <<< "$(line pr ready)"
home_levels=$(levels 1 "$pid")
check_eq "pidns: nested rootless: python3 is PID 2 inside, the outer namespace owned by the user namespace above its own" \
    "2 up1 own" "$ns $(owner 1 "$pid")"
check_eq "pidns: nested rootless: its user moves it to node 2" ok "$(goto1 "$pid" 2 user)"
check_eq "pidns: nested rootless: there with its PIDs of both levels, owned as at home" \
    "$home_levels up1 own" "$(levels 2 "$pid") $(owner 2 "$pid")"
on 1 'touch /tmp/pr.go1'
check_eq "pidns: nested rootless: ... getpid(), getppid(), gettid()" "$ns 1 $t0" "$(line pr ids)"
check_eq "pidns: nested rootless: ... it kills and reaps its child at home" "True 15" "$(line pr reaped)"
check_eq "pidns: nested rootless: ... its other child's signal comes with that child's PID" "True True 0" "$(line pr usr1)"
check_eq "pidns: nested rootless: it comes home" ok "$(goto1 "$pid" 1 user)"
check_eq "pidns: nested rootless: ... node 2's inits ended" 0 "$(gone 2)"
on 1 'touch /tmp/pr.go3 /tmp/pr.go4'
check_eq "pidns: nested rootless: at home it forks, ends with status 0" "True True 7|0" \
    "$(line pr forked)|$(file_of 1 /tmp/pr.st 30)"
check_eq "pidns: no namespace init is left on node 2 or 3" "0 0" "$(gone 2) $(gone 3)"
