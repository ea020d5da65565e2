# User namespaces (issue 17, item 6: the refusal list shrinks): a process
# in a user namespace of its own, at any depth the kernel makes (33 levels
# below the node's initial one; `unshare -r`, rootless build tools, bwrap;
# bwrap or `unshare -r` in a rootless container), moves. Sourced by run-tests with lib.sh; the
# cluster is up.
#
# The destination's restorer makes a namespace like it, each level in
# the one made before (owner, setgroups, the uid and gid maps) and the
# module restores the process's credentials in it: its capabilities
# there are that namespace's, as at home, never the node's. Its calls made at home (paths, mounts) carry them to its
# deputy, which is in the namespace it left. One it makes or enters away
# from home is made or entered at home: the process goes home first.

if ! on 1 'command -v python3 && command -v unshare && command -v setpriv' >/dev/null 2>&1; then
    fail "userns: the nodes run the Debian root (python3, unshare, setpriv)"
    return 0
fi
# py NODE FILE: writes FILE on NODE from standard input
py() { local t; t=$(mktemp); cat > "$t"; "$CLUSTER" put "$1" "$t" "$2"; rm -f "$t"; }
# run TAG CMD: CMD in the background on node 1 (in /tmp, its output in
# /tmp/TAG.out, its exit status in /tmp/TAG.status); prints its PID once
# it printed "ready".
run() {
    on 1 "rm -f /tmp/$1.*; cd /tmp; ( $2 > /tmp/$1.out 2>&1 & echo \$! > /tmp/$1.pid; wait \$!; echo \$? > /tmp/$1.status ) &" >/dev/null 2>&1
    on 1 "for i in \$(seq 100); do grep -q ^ready /tmp/$1.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/$1.pid"
}
# line TAG PREFIX: waits (60 s) for its line starting with PREFIX, without it
line() { line_of 1 "/tmp/$1.out" "$2 " 60 | sed "s/^$2 //"; }
# ns NODE PID: its uid map, gid map and setgroups there, on one line
ns() { on "$1" "cat /proc/$2/uid_map /proc/$2/gid_map /proc/$2/setgroups | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'"; }
U="setpriv --reuid 1000 --regid 1000 --clear-groups"

py 1 /tmp/un.py <<'EOF'
import ctypes, errno, os, sys, threading, time
tag, steps, late = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
libc = ctypes.CDLL(None, use_errno=True)
def wait(f):
    while not os.path.exists(f):
        time.sleep(0.05)
def err(f):
    try:
        f()
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
def thread():
    for n in range(1, steps + 1):
        wait('/tmp/%s.go%d' % (tag, n))
        print('thread%d' % n, os.getuid(), os.geteuid(), os.getgid(), flush=True)
# (A process of one thread only may unshare its user namespace.)
t = threading.Thread(target=thread)
if not late:
    t.start()
print('ready', os.getuid(), os.geteuid(), flush=True)
for n in range(1, steps + 1):
    wait('/tmp/%s.go%d' % (tag, n))
    if late and n == 1:
        print('unshare', libc.unshare(0x10000000), flush=True)
    # Its ids where it runs; a file it makes at home (its owner, as it
    # sees it); home's root-only file (its root is the namespace's).
    p = '/tmp/%s.f%d' % (tag, n)
    made = err(lambda: open(p, 'w').write('x'))
    own = os.stat(p).st_uid if made == 'ok' else -1
    print('step%d' % n, os.getuid(), os.geteuid(), 'made', made, own,
          'secret', err(lambda: open('/tmp/%s.secret' % tag).read()), flush=True)
    if n == 1 and made == 'ok':
        # Its uid 1, made at home with its namespace's CAP_CHOWN: what
        # its map says (EINVAL where uid 1 is not mapped).
        print('chown', err(lambda: os.chown(p, 1, 1)), os.stat(p).st_uid, flush=True)
    if n == 1 and not late:
        # Its capabilities at home are its namespace's: a mount namespace
        # of its own there, a tmpfs mounted in it (EPERM in the initial
        # user namespace).
        r = libc.unshare(0x00020000)
        e1 = ctypes.get_errno()
        m = libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)
        e2 = ctypes.get_errno()
        w = err(lambda: open('/mnt/%s' % tag, 'w').write('in tmpfs'))
        print('mnt', r, e1, m, e2, w, err(lambda: open('/mnt/%s' % tag).read()), flush=True)
if not late:
    t.join()
EOF
on 1 'chmod 644 /tmp/un.py'
# mkns.py MAP CMD...: CMD as root of a user namespace its caller made,
# whose uid and gid maps are MAP (extents split by commas; as newuidmap
# writes for a rootless container: "0 1000 1,1 100000 65536"; or NxK+O: N
# extents of K ids each, ids 0.. inside on O.. outside): a child of it,
# still in the caller's namespace with its capabilities, writes them.
py 1 /tmp/mkns.py <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if 'x' in sys.argv[1]:
    n, k, o = (int(v) for v in sys.argv[1].replace('+', 'x').split('x'))
    sys.argv[1] = ','.join('%d %d %d' % (i * k, o + i * k, k) for i in range(n))
r, w = os.pipe()
r2, w2 = os.pipe()
me = os.getpid()
if os.fork() == 0:
    os.close(w)
    os.close(r2)
    os.read(r, 1)
    for f in ('uid_map', 'gid_map'):
        with open('/proc/%d/%s' % (me, f), 'w') as m:
            m.write(sys.argv[1].replace(',', '\n') + '\n')
    os.write(w2, b'x')
    os._exit(0)
os.close(r)
os.close(w2)
if libc.unshare(0x10000000) != 0:
    sys.exit('unshare %d' % ctypes.get_errno())
os.write(w, b'x')
os.read(r2, 1)
os.wait()
os.setresgid(0, 0, 0)
os.setresuid(0, 0, 0)
os.execvp(sys.argv[2], sys.argv[2:])
EOF
on 1 'chmod 644 /tmp/mkns.py'
# nsdepth.py PID (root, on any node): how many user namespaces its own is
# below the node's initial one (NS_GET_PARENT up to the initial one).
for n in 1 2 3; do
    py "$n" /tmp/nsdepth.py <<'EOF'
import fcntl, os, sys
fd = os.open('/proc/%s/ns/user' % sys.argv[1], os.O_RDONLY)
n = 0
while True:
    try:
        fd = fcntl.ioctl(fd, 0xb702)
    except OSError:
        break
    n += 1
print(n)
EOF
done
depth() { on "$1" "python3 /tmp/nsdepth.py $2"; }
# inmap NODE PID: its uid map read there from inside its namespace (as it
# sees it: the lower ids are its parent's)
inmap() { on "$1" "nsenter -U --preserve-credentials -t $2 cat /proc/$2/uid_map | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'"; }

# --- `unshare -r` by uid 1000, with a thread: 1 -> 2 -> 3 -> home.
# (run removes /tmp/un1.*: the secret is made again after it.)
pid=$(run un1 "$U unshare -r python3 /tmp/un.py un1 3 0")
on 1 'echo secret > /tmp/un1.secret; chmod 600 /tmp/un1.secret; chown 0:0 /tmp/un1.secret' >/dev/null
home_ns=$(on 1 "readlink /proc/$pid/ns/user")
check_eq "userns: root in its own namespace (unshare -r) at home" "0 0" "$(line un1 ready)"
check_eq "userns: its user moves it to node 2 (before: EOPNOTSUPP, namespaces)" ok "$(goto1 "$pid" 2 user)"
check_eq "userns: it runs there" 2 "$(on 1 "cat /proc/$pid/where")"
check_eq "userns: there it is in a namespace with its maps and setgroups" "0 1000 1 0 1000 1 deny" "$(ns 2 "$pid")"
check "userns: ... not node 2's initial one" test "$(on 2 "readlink /proc/$pid/ns/user")" != "$(on 2 'readlink /proc/1/ns/user')"
check_match "userns: ... with every capability in it, as at home" "^CapEff:[[:space:]]*000001ffffffffff" \
    "$(on 2 "grep ^CapEff /proc/$pid/status")"
check_eq "userns: ... its uid outside is 1000" 1000 "$(on 2 "awk '/^Uid:/ {print \$2}' /proc/$pid/status")"
on 1 'touch /tmp/un1.go1'
check_eq "userns: on node 2 it is root in its namespace; a file it makes at home is its root's; home's root-only file is refused (EACCES)" \
    "0 0 made ok 0 secret EACCES" "$(line un1 step1)"
check_eq "userns: ... that file is uid 1000's at home" 1000 "$(on 1 'stat -c %u /tmp/un1.f1')"
check_eq "userns: ... its chown to its uid 1 fails (EINVAL: not in its map)" "EINVAL 0" "$(line un1 chown)"
check_eq "userns: its capabilities at home are its namespace's: unshare(CLONE_NEWNS) and a tmpfs on /mnt, made at home" \
    "0 0 0 0 ok ok" "$(line un1 mnt)"
check_eq "userns: ... neither node 2 nor home's initial namespace has that mount" "" \
    "$(on 2 'ls /mnt/un1 2>/dev/null'; on 1 'ls /mnt/un1 2>/dev/null')"
check_eq "userns: its thread is root in the namespace too" "0 0 0" "$(line un1 thread1)"
check_eq "userns: it moves on to node 3" ok "$(goto1 "$pid" 3)"
check_eq "userns: there it has the same maps" "0 1000 1 0 1000 1 deny" "$(ns 3 "$pid")"
on 1 'touch /tmp/un1.go2'
check_eq "userns: on node 3 the same" "0 0 made ok 0 secret EACCES" "$(line un1 step2)"
check_eq "userns: ... its thread too" "0 0 0" "$(line un1 thread2)"
check_eq "userns: it comes home" ok "$(goto1 "$pid" 1)"
check_eq "userns: ... into the namespace it left" "$home_ns" "$(on 1 "readlink /proc/$pid/ns/user")"
on 1 'touch /tmp/un1.go3'
check_eq "userns: at home the same" "0 0 made ok 0 secret EACCES" "$(line un1 step3)"
check_eq "userns: ... its thread too" "0 0 0" "$(line un1 thread3)"
check_eq "userns: it ends with status 0" 0 "$(file_of 1 /tmp/un1.status 30)"

# --- maps of two extents, a namespace root owns: its uid 1 is 100000.
pid=$(run un4 "python3 /tmp/mkns.py '0 1000 1,1 100000 65536' python3 /tmp/un.py un4 1 0")
on 1 'echo secret > /tmp/un4.secret; chmod 600 /tmp/un4.secret; chown 0:0 /tmp/un4.secret' >/dev/null
check_eq "userns: root's namespace with two extents a map goes to node 2" ok "$(goto1 "$pid" 2)"
check_eq "userns: ... there with both extents, setgroups allowed" "0 1000 1 1 100000 65536 0 1000 1 1 100000 65536 allow" "$(ns 2 "$pid")"
on 1 'touch /tmp/un4.go1'
check_eq "userns: ... root in it there" "0 0 made ok 0 secret EACCES" "$(line un4 step1)"
check_eq "userns: ... its chown to its uid 1 is made at home" "ok 1" "$(line un4 chown)"
check_eq "userns: ... where the file is uid 100000's" "100000 100000" "$(on 1 'stat -c "%u %g" /tmp/un4.f1')"
check_eq "userns: ... it ends with status 0" 0 "$(file_of 1 /tmp/un4.status 30)"

# --- two levels down (`unshare -r` inside `unshare -r`, uid 1000's), with
# a thread: 1 -> 2 -> home, each level made again.
pid=$(run un2 "$U unshare -r unshare -r python3 /tmp/un.py un2 2 0")
on 1 'echo secret > /tmp/un2.secret; chmod 600 /tmp/un2.secret; chown 0:0 /tmp/un2.secret' >/dev/null
home_ns=$(on 1 "readlink /proc/$pid/ns/user")
check_eq "userns: two levels down at home (unshare -r in unshare -r)" "2 0 0" "$(depth 1 "$pid") $(line un2 ready)"
check_eq "userns: its user moves it to node 2 (before: EOPNOTSUPP, namespaces)" ok "$(goto1 "$pid" 2 user)"
check_eq "userns: there it is two levels down too" 2 "$(depth 2 "$pid")"
check_eq "userns: ... its maps, seen from node 2's initial namespace" "0 1000 1 0 1000 1 deny" "$(ns 2 "$pid")"
on 1 'touch /tmp/un2.go1'
check_eq "userns: ... and as it sees them there, its parent's root (0 0 1)" "0 0 1" "$(inmap 2 "$pid")"
check_eq "userns: ... root in it there; its file at home is its root's; home's root-only file EACCES" \
    "0 0 made ok 0 secret EACCES" "$(line un2 step1)"
check_eq "userns: ... that file is uid 1000's at home; its chown to uid 1 EINVAL" "1000 EINVAL 0" \
    "$(on 1 'stat -c %u /tmp/un2.f1') $(line un2 chown)"
check_eq "userns: ... its capabilities at home are its namespace's (a mount namespace and a tmpfs made at home)" \
    "0 0 0 0 ok ok" "$(line un2 mnt)"
check_eq "userns: ... its thread is root in it too" "0 0 0" "$(line un2 thread1)"
check_eq "userns: it comes home" ok "$(goto1 "$pid" 1)"
check_eq "userns: ... into the namespace it left, two levels down" "$home_ns 2 0 0 1" \
    "$(on 1 "readlink /proc/$pid/ns/user") $(depth 1 "$pid") $(inmap 1 "$pid")"
on 1 'touch /tmp/un2.go2'
check_eq "userns: ... the same there" "0 0 made ok 0 secret EACCES" "$(line un2 step2)"
check_eq "userns: ... and it ends with status 0" 0 "$(file_of 1 /tmp/un2.status 30)"

# --- two levels of maps of their own: root's namespace with two extents,
# and in it one that maps 1000 ids onto its subordinate range (1..1000):
# the inner root is 100000 outside, its uid 1 100001.
pid=$(run un5 "python3 /tmp/mkns.py '0 1000 1,1 100000 65536' python3 /tmp/mkns.py '0 1 1000' python3 /tmp/un.py un5 1 0")
on 1 'echo secret > /tmp/un5.secret; chmod 600 /tmp/un5.secret; chown 0:0 /tmp/un5.secret' >/dev/null
check_eq "userns: a namespace mapped onto its parent's range moves to node 3" "2 ok" "$(depth 1 "$pid") $(goto1 "$pid" 3)"
check_eq "userns: ... there two levels down, its maps seen from node 3" "2 0 100000 1000 0 100000 1000 allow" \
    "$(depth 3 "$pid") $(ns 3 "$pid")"
check_eq "userns: ... as it sees them there (its parent's ids)" "0 1 1000" "$(inmap 3 "$pid")"
on 1 'touch /tmp/un5.go1'
check_eq "userns: ... root in it there" "0 0 made ok 0 secret EACCES" "$(line un5 step1)"
check_eq "userns: ... its chown to its uid 1 is made at home" "ok 1" "$(line un5 chown)"
check_eq "userns: ... where the file is uid 100001's" "100001 100001" "$(on 1 'stat -c "%u %g" /tmp/un5.f1')"
check_eq "userns: ... it ends with status 0" 0 "$(file_of 1 /tmp/un5.status 30)"

# --- a container's processes share the namespace made for them: root of
# a namespace (two extents; 1000 outside) and its child that became its
# uid 1 (100000 outside), both moved to node 2, are in one namespace
# there, and the parent's signal reaches the child with its namespace's
# CAP_KILL (with one namespace each, EPERM); with the child back home, the
# parent's signal from node 2 is checked at home in the namespace it left
# (before, as the initial namespace's uid 1000: EPERM).
# (nskill.py: a signal's outcome as a word, for the scripts beside it.)
py 1 /tmp/nskill.py <<'EOF'
import os
def kill(pid, sig):
    try:
        os.kill(pid, sig)
        return 'ok'
    except OSError as e:
        return e.strerror
EOF
py 1 /tmp/family.py <<'EOF'
import os, signal, time
from nskill import kill
def wait(f):
    while not os.path.exists(f):
        time.sleep(0.05)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    # Its own output file: two moved processes writing one shared
    # description at once can lose a line (its offset is not locked
    # across their deputies at home yet).
    out = open('/tmp/fam.child', 'w', buffering=1)
    signal.signal(signal.SIGUSR1, lambda *a: print('usr1', os.getuid(), file=out, flush=True))
    os.setresgid(1, 1, 1)
    os.setresuid(1, 1, 1)
    os.write(w, b'x')
    while True:
        time.sleep(0.05)
os.read(r, 1)
print('ready', pid, os.getuid(), flush=True)
wait('/tmp/fam.go1')
print('kill1', kill(pid, signal.SIGUSR1), flush=True)
wait('/tmp/fam.go2')
r = kill(pid, signal.SIGTERM)
_, st = os.waitpid(pid, 0)
print('kill2', r, st, flush=True)
EOF
on 1 'chmod 644 /tmp/family.py /tmp/nskill.py'
pid=$(run fam "python3 /tmp/mkns.py '0 1000 1,1 100000 65536' python3 /tmp/family.py")
child=$(line fam ready | cut -d' ' -f1)
check_eq "userns: a namespace's root and its child (uid 1 in it) move to node 2" "ok ok 2 2" \
    "$(goto1 "$pid" 2) $(goto1 "$child" 2) $(on 1 "cat /proc/$pid/where /proc/$child/where" | tr '\n' ' ' | sed 's/ $//')"
check_eq "userns: ... there in one namespace, as at home" "$(on 2 "readlink /proc/$pid/ns/user") 100000" \
    "$(on 2 "readlink /proc/$child/ns/user") $(on 2 "awk '/^Uid:/ {print \$2}' /proc/$child/status")"
on 1 'touch /tmp/fam.go1'
check_eq "userns: ... its root's signal reaches the child there (its namespace's CAP_KILL)" "ok 1" \
    "$(line fam kill1) $(line_of 1 /tmp/fam.child 'usr1 ' 60 | sed 's/^usr1 //')"
check_eq "userns: the child comes home; the root stays on node 2" "ok 1 2" \
    "$(goto1 "$child" 1) $(on 1 "cat /proc/$child/where /proc/$pid/where" | tr '\n' ' ' | sed 's/ $//')"
on 1 'touch /tmp/fam.go2'
check_eq "userns: ... its root's SIGTERM from node 2 ends it at home (CAP_KILL in the namespace it left)" "ok 15" "$(line fam kill2)"
check_eq "userns: ... and it ends with status 0" 0 "$(file_of 1 /tmp/fam.status 30)"

# --- namespaces below one parent at home are below one parent there: a
# container's root (in P: 1000 outside) runs two sandboxes, each a
# namespace of its own below P whose root is P's uid 1 (100000 outside;
# the same maps, two namespaces). Moved to node 2 (one sandbox, then the
# root, then the other), the root's namespace is both sandboxes' parent
# there too, and its signal reaches a sandbox's root with CAP_KILL in
# the sandbox's namespace as P's owner, as at home (before 2026-12-06,
# late, each move made its own copy of P: EPERM). The sandboxes stay
# apart.
py 1 /tmp/sbx.py <<'EOF'
import os, signal, sys, time
tag = sys.argv[1]
signal.signal(signal.SIGUSR1, lambda *a: print('usr1', os.getuid(), open('/proc/self/where').read().strip(), flush=True))
print('ready', os.getuid(), flush=True)
while not os.path.exists('/tmp/sib.end'):
    time.sleep(0.05)
EOF
py 1 /tmp/sibtop.py <<'EOF'
import os, signal, subprocess, time
from nskill import kill
kids = [subprocess.Popen(['python3', '/tmp/mkns.py', '0 1 1', 'python3', '/tmp/sbx.py', t],
                         stdout=open('/tmp/%s.out' % t, 'w')) for t in ('sib1', 'sib2')]
print('ready', kids[0].pid, kids[1].pid, flush=True)
while not os.path.exists('/tmp/sib.kill'):
    time.sleep(0.05)
print('kill', kill(kids[0].pid, signal.SIGUSR1), kill(kids[1].pid, signal.SIGUSR1), flush=True)
for k in kids:
    k.wait()
EOF
for n in 1 2 3; do
    py "$n" /tmp/nsid.py <<'EOF'
import fcntl, os, sys
# PID's user namespace and its parent's, as inode numbers.
fd = os.open('/proc/%s/ns/user' % sys.argv[1], os.O_RDONLY)
print(os.fstat(fd).st_ino, os.fstat(fcntl.ioctl(fd, 0xb702)).st_ino)
EOF
done
on 1 'chmod 644 /tmp/sbx.py /tmp/sibtop.py; rm -f /tmp/sib.* /tmp/sib1.out /tmp/sib2.out'
nsid() { on "$1" "python3 /tmp/nsid.py $2"; }
pid=$(run sibroot "python3 /tmp/mkns.py '0 1000 1,1 100000 65536' python3 /tmp/sibtop.py")
s1=$(line sibroot ready | cut -d' ' -f1)
s2=$(line sibroot ready | cut -d' ' -f2)
check_eq "userns: two sandboxes below a container's root at home, each its root (100000 outside)" "ready 0|ready 0|100000 100000" \
    "$(line_of 1 /tmp/sib1.out ready 30)|$(line_of 1 /tmp/sib2.out ready 30)|$(on 1 "awk '/^Uid:/ {print \$2}' /proc/$s1/status /proc/$s2/status" | paste -sd' ')"
read -r i1 p1 <<< "$(nsid 1 "$s1")"; read -r i2 p2 <<< "$(nsid 1 "$s2")"; read -r ir _ <<< "$(nsid 1 "$pid")"
check_eq "userns: ... at home both below the root's namespace, apart" "yes yes no" \
    "$([ "$p1" = "$ir" ] && echo yes || echo no) $([ "$p2" = "$ir" ] && echo yes || echo no) $([ "$i1" = "$i2" ] && echo yes || echo no)"
check_eq "userns: one sandbox, the root, then the other move to node 2" "ok ok ok" \
    "$(goto1 "$s1" 2) $(goto1 "$pid" 2) $(goto1 "$s2" 2)"
read -r i1 p1 <<< "$(nsid 2 "$s1")"; read -r i2 p2 <<< "$(nsid 2 "$s2")"; read -r ir _ <<< "$(nsid 2 "$pid")"
check_eq "userns: ... there too both below the root's namespace, apart (before: a copy of it each)" "yes yes no" \
    "$([ "$p1" = "$ir" ] && echo yes || echo no) $([ "$p2" = "$ir" ] && echo yes || echo no) $([ "$i1" = "$i2" ] && echo yes || echo no)"
on 1 'touch /tmp/sib.kill'
check_eq "userns: ... the root's SIGUSR1 reaches both sandboxes' roots there (CAP_KILL as their namespaces' owner; before: EPERM)" \
    "ok ok|usr1 0 2|usr1 0 2" \
    "$(line sibroot kill)|$(line_of 1 /tmp/sib1.out usr1 30)|$(line_of 1 /tmp/sib2.out usr1 30)"
on 1 'touch /tmp/sib.end'
check_eq "userns: ... and they all end with status 0" 0 "$(file_of 1 /tmp/sibroot.status 30)"
on 1 'rm -f /tmp/sib.* /tmp/sib1.out /tmp/sib2.out /tmp/sibtop.py /tmp/sbx.py /tmp/nskill.py'
for n in 1 2 3; do on "$n" 'rm -f /tmp/nsid.py'; done

# --- the kernel's deepest namespace, 33 levels down (nested sandboxes),
# moves, each level made again in the one before (before 2026-12-06,
# late: more than 4 were refused).
pid=$(run un6 "$U $(printf 'unshare -r %.0s' $(seq 33)) python3 /tmp/un.py un6 1 0")
on 1 'echo secret > /tmp/un6.secret; chmod 600 /tmp/un6.secret; chown 0:0 /tmp/un6.secret' >/dev/null
check_eq "userns: 33 levels down (the kernel's deepest) moves to node 2, 33 levels down there" "33 ok 33" \
    "$(depth 1 "$pid") $(goto1 "$pid" 2 user) $(depth 2 "$pid")"
on 1 'touch /tmp/un6.go1'
check_eq "userns: ... root in it there" "0 0 made ok 0 secret EACCES" "$(line un6 step1)"
check_eq "userns: ... it ends with status 0" 0 "$(file_of 1 /tmp/un6.status 30)"
# --- maps of up to the kernel's most extents (340; more than 5 live
# outside the namespace in the kernel, sorted; a map is written in one
# write of less than a page): two levels of them (the inner root 2000
# outside) move and are the same there; the longest chain the kernel
# makes, 33 levels of them, moves too (before 2026-12-07 a chain over
# 64 KiB, nine such levels, was refused).
pid=$(run un9 "python3 /tmp/mkns.py 340x1+2000 python3 /tmp/mkns.py 340x1+0 python3 /tmp/un.py un9 1 0")
on 1 'echo secret > /tmp/un9.secret; chmod 600 /tmp/un9.secret; chown 0:0 /tmp/un9.secret' >/dev/null
maps=$(ns 1 "$pid" | md5sum)
check_eq "userns: two levels of maps of 340 extents move to node 3 (before: more than 5 refused)" "2 ok 2" \
    "$(depth 1 "$pid") $(goto1 "$pid" 3) $(depth 3 "$pid")"
check_eq "userns: ... with the same maps there (340 lines each, as at home)" "680 $maps" \
    "$(on 3 "cat /proc/$pid/uid_map /proc/$pid/gid_map" | wc -l) $(ns 3 "$pid" | md5sum)"
on 1 'touch /tmp/un9.go1'
check_eq "userns: ... root in it there" "0 0 made ok 0 secret EACCES" "$(line un9 step1)"
check_eq "userns: ... it ends with status 0" 0 "$(file_of 1 /tmp/un9.status 30)"
pid=$(run un7 "$(printf 'python3 /tmp/mkns.py 340x2+0 %.0s' $(seq 33)) python3 /tmp/un.py un7 1 0")
# (33 programs started one in another: more than run's 10 s on TCG.)
line un7 ready >/dev/null
on 1 'echo secret > /tmp/un7.secret; chmod 600 /tmp/un7.secret; chown 0:0 /tmp/un7.secret' >/dev/null
maps=$(ns 1 "$pid" | md5sum)
check_eq "userns: 33 levels of maps of 340 extents (264 KiB, the longest chain the kernel makes; before: over 64 KiB refused) move to node 2" \
    "33 ok 33" "$(depth 1 "$pid") $(goto1 "$pid" 2) $(depth 2 "$pid")"
check_eq "userns: ... with the same maps there" "680 $maps" \
    "$(on 2 "cat /proc/$pid/uid_map /proc/$pid/gid_map" | wc -l) $(ns 2 "$pid" | md5sum)"
check_eq "userns: ... and on to node 3 (node 2 sends the chain it was brought)" "ok 33 $maps" \
    "$(goto1 "$pid" 3) $(depth 3 "$pid") $(ns 3 "$pid" | md5sum)"
on 1 'touch /tmp/un7.go1'
check_eq "userns: ... root in it there (its root is uid 0 at home: the secret is its own)" "0 0 made ok 0 secret ok" "$(line un7 step1)"
check_eq "userns: ... and ends with status 0" 0 "$(file_of 1 /tmp/un7.status 30)"

# --- a destination that cannot make one (user.max_user_namespaces 0
# there): the move fails, the process runs on at home, and no restorer
# is left waiting on its helper there.
pid=$(run un8 "$U unshare -r python3 /tmp/un.py un8 1 0")
on 1 'echo secret > /tmp/un8.secret; chmod 600 /tmp/un8.secret' >/dev/null
max=$(on 2 'cat /proc/sys/user/max_user_namespaces')
on 2 'echo 0 > /proc/sys/user/max_user_namespaces'
check_eq "userns: node 2 makes no user namespace: the move there fails" "Operation not permitted" "$(goto1 "$pid" 2 user)"
check_eq "userns: ... it runs on at home; no restorer is left on node 2" "1 0" \
    "$(on 1 "cat /proc/$pid/where") $(on 2 'pgrep -c -x vproc-restore')"
on 2 "echo $max > /proc/sys/user/max_user_namespaces"
on 1 'touch /tmp/un8.go1'
check_eq "userns: ... and goes on there" "0 0 made ok 0 secret EACCES" "$(line un8 step1)"
check_eq "userns: ... and ends with status 0" 0 "$(file_of 1 /tmp/un8.status 30)"

# --- one it makes away from home is made at home (2026-12-07; before, it
# was node 2's: its calls at home were refused, EPERM, and it could not
# move on nor come home): unshare(CLONE_NEWUSER) sends the process home
# first, where it makes the namespace natively; its maps are written
# there, and it moves on with them.
pid=$(run un3 "$U python3 /tmp/un.py un3 2 1")
on 1 'echo secret > /tmp/un3.secret; chmod 600 /tmp/un3.secret; chown 0:0 /tmp/un3.secret' >/dev/null
check_eq "userns: a user's process moves to node 2" ok "$(goto1 "$pid" 2 user)"
on 1 'touch /tmp/un3.go1'
check_eq "userns: there it makes a user namespace: it went home to make it (before: made on node 2)" "0 1 1" \
    "$(line un3 unshare) $(on 1 "cat /proc/$pid/where") $(depth 1 "$pid")"
check_match "userns: ... node 2 says why" "it makes or enters a user namespace: it goes home" "$(on 2 'dmesg | tail -20')"
check_eq "userns: ... no map yet: its ids are the overflow ids; a file it makes at home is uid 1000's (unmapped in it); home's root-only file EACCES (before: EPERM, refused)" \
    "65534 65534 made ok 65534 secret EACCES 1000" "$(line un3 step1) $(on 1 'stat -c %u /tmp/un3.f1')"
on 1 "echo '0 1000 1' > /proc/$pid/uid_map; echo deny > /proc/$pid/setgroups; echo '0 1000 1' > /proc/$pid/gid_map"
check_eq "userns: ... its maps written at home, it moves on to node 2 with them" "ok 0 1000 1 0 1000 1 deny" \
    "$(goto1 "$pid" 2) $(ns 2 "$pid")"
on 1 'touch /tmp/un3.go2'
check_eq "userns: ... root in it there" "0 0 made ok 0 secret EACCES" "$(line un3 step2)"
check_eq "userns: ... and it ends with status 0" 0 "$(file_of 1 /tmp/un3.status 30)"

# --- a setns into a user namespace by a descriptor of home's (what
# `nsenter -U -t PID` does) goes home too: root's python3 on node 2 opens
# home's /proc/PID/ns/user of a process in uid 1000's namespace (a
# descriptor of home's) and enters it (before: EINVAL on node 2, the
# descriptor a proxy there).
py 1 /tmp/nsenter.py <<'EOF'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
print('ready', flush=True)
while not os.path.exists('/tmp/sn.go'):
    time.sleep(0.05)
fd = os.open('/proc/%s/ns/user' % sys.argv[1], os.O_RDONLY)
r = libc.setns(fd, 0x10000000)
print('setns', r, ctypes.get_errno() if r else 0, open('/proc/self/where').read().strip(),
      os.readlink('/proc/self/ns/user'), os.getuid(), flush=True)
while not os.path.exists('/tmp/sn.end'):
    time.sleep(0.05)
EOF
tp=$(on 1 "$U unshare -r sleep 1000 > /dev/null 2>&1 & echo \$!")
tns=$(on 1 "for i in \$(seq 50); do [ \"\$(readlink /proc/$tp/ns/user)\" != \"\$(readlink /proc/1/ns/user)\" ] && break; sleep 0.1; done; readlink /proc/$tp/ns/user")
pid=$(run sn "python3 /tmp/nsenter.py $tp")
check_eq "userns: root's process moves to node 2" ok "$(goto1 "$pid" 2)"
on 1 'touch /tmp/sn.go'
check_eq "userns: ... there it enters a namespace by home's descriptor: it went home, and is in it (its uid unmapped there)" \
    "0 0 1 $tns 65534" "$(line sn setns)"
on 1 'touch /tmp/sn.end'
check_eq "userns: ... and it ends with status 0" 0 "$(file_of 1 /tmp/sn.status 30)"
on 1 "kill -9 $tp; rm -f /tmp/sn.* /tmp/nsenter.py"
on 1 'rm -f /tmp/un[1-9].* /tmp/fam.* /tmp/family.py /tmp/un.py /tmp/mkns.py'
for n in 1 2 3; do on "$n" 'rm -f /tmp/nsdepth.py'; done
