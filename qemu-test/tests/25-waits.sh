# Waits made where a process runs (src/migrate/nowait.rs). Sourced by
# run-tests with lib.sh; the cluster is up.
#
# A thread made after a move has no deputy of its own at home: its calls
# there share the process's deputy with the leader's. So a multi-threaded
# process's read, write, recv, send, accept and epoll wait never wait at
# home: the deputy answers "would wait" and leaves a watch on the file;
# the thread waits where it runs and asks again when home says the file
# may be ready. Before, a reader thread waiting at home held the deputy,
# and the writer thread queued behind it: the process hung. The same
# watches tell a poll, select or epoll waiter on a proxy when to ask home
# again (before: every 100 ms).

if ! on 1 'test -x /usr/bin/python3'; then
    fail "waits: the nodes run the Debian root (python3 is there)"
    return 0
fi
# py NODE FILE: writes FILE on NODE from standard input
py() { local t; t=$(mktemp); cat > "$t"; "$CLUSTER" put "$1" "$t" "$2"; rm -f "$t"; }
# started TAG: waits for the first line of /tmp/TAG.out on node 1; its PID
started() { on 1 "for i in \$(seq 300); do [ -s /tmp/$1.out ] && break; sleep 0.1; done; cat /tmp/$1.pid"; }
# run TAG FILE: python3 FILE in the background on node 1
run() { on 1 "rm -f /tmp/$1.out /tmp/$1.go /tmp/$1.go2; cd /tmp; python3 $2 > /tmp/$1.out 2>&1 & echo \$! > /tmp/$1.pid" >/dev/null 2>&1; }
# line TAG PREFIX: waits (90 s) for a line of /tmp/TAG.out starting with PREFIX
line() { line_of 1 "/tmp/$1.out" "$2" 90; }
# goto PID NODE
goto() { on 1 "echo $2 > /proc/$1/goto && echo ok"; }

# A go file is looked for with select() (a local wait), never at home.
py 1 /tmp/wt_lib.py <<'EOF'
import os, select
def go(tag):
    while not os.path.exists('/tmp/%s' % tag):
        select.select([], [], [], 0.05)
def where():
    with open('/proc/self/where') as f:
        return f.read().strip()
EOF

# --- two threads made after the move: one reads what the other writes
# later, on a socket pair and a pipe made after the move too.
py 1 /tmp/wt-pair.py <<'EOF'
import os, socket, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
print('ready', flush=True)
go('wt1.go')
a, b = socket.socketpair()
r, w = os.pipe()
out = []
def reader():
    out.append(a.recv(10).decode())
    out.append(os.read(r, 10).decode())
def writer():
    time.sleep(1)
    b.send(b'sock')
    time.sleep(0.5)
    os.write(w, b'pipe')
t1 = threading.Thread(target=reader); t2 = threading.Thread(target=writer)
t1.start(); t2.start()
# Meanwhile the main thread's own calls at home are not held up.
n = 0
while t1.is_alive() and n < 10000:
    where(); n += 1
t1.join(30); t2.join(30)
print('at', where(), out, t1.is_alive(), t2.is_alive(), n > 5, flush=True)
EOF
run wt1 /tmp/wt-pair.py
p=$(started wt1)
check_eq "waits: a process moves to node 2" ok "$(goto "$p" 2)"
on 1 'touch /tmp/wt1.go'
check_eq "waits: threads made away: one reads what the other writes later; the main thread's calls go on meanwhile" \
  "at 2 ['sock', 'pipe'] False False True" "$(line wt1 at)"

# --- 1 MiB through a pipe made after the move, written in 100 KiB
# pieces (more than a pipe holds: a write that does not wait writes what
# fits, and the rest follows), read by another thread; same bytes.
py 1 /tmp/wt-big.py <<'EOF'
import hashlib, os, sys, threading
sys.path.insert(0, '/tmp'); from wt_lib import go, where
print('ready', flush=True)
go('wt2.go')
r, w = os.pipe()
data = bytes((i * 7 + i // 251) & 0xff for i in range(1 << 20))
got = hashlib.sha256()
count = [0]
def reader():
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        got.update(b); count[0] += len(b)
def writer():
    for i in range(0, len(data), 100 * 1024):
        n = os.write(w, data[i:i + 100 * 1024])
        assert n == len(data[i:i + 100 * 1024]), n
    os.close(w)
t1 = threading.Thread(target=reader); t2 = threading.Thread(target=writer)
t1.start(); t2.start(); t2.join(120); t1.join(120)
ok = got.hexdigest() == hashlib.sha256(data).hexdigest()
print('big', where(), count[0], ok, t1.is_alive(), flush=True)
EOF
run wt2 /tmp/wt-big.py
p=$(started wt2)
check_eq "waits: a second process moves to node 3" ok "$(goto "$p" 3)"
on 1 'touch /tmp/wt2.go'
check_eq "waits: 1 MiB through a pipe between two threads made away, in writes larger than the pipe" \
  "big 3 1048576 True False" "$(line wt2 big)"

# --- an epoll wait in a thread made after the move: its own timeout is
# kept (nothing comes: [] after about 0.3 s), and an eventfd another
# thread writes wakes it; the same with epoll_pwait2 (its timeout a
# timespec, NULL: none). A signal ends a read that waits here.
py 1 /tmp/wt-ep.py <<'EOF'
import ctypes, os, select, signal, struct, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
print('ready', flush=True)
go('wt3.go')
efd = os.eventfd(0)
ep = select.epoll()
ep.register(efd, select.EPOLLIN)
res = {}
# epoll_pwait2(ep, events, 8, timeout, NULL, 0); ms None: a NULL timeout
def pwait2(ms):
    ev = ctypes.create_string_buffer(12 * 8)
    ts = None if ms is None else ctypes.create_string_buffer(struct.pack('qq', ms // 1000, ms % 1000 * 1000000), 16)
    n = libc.syscall(ctypes.c_long(441), ctypes.c_int(ep.fileno()), ev, ctypes.c_int(8), ts, None, ctypes.c_size_t(0))
    # (Python's register sets data.fd only: the low 32 bits)
    return n if n < 0 else [(e, d & 0xffffffff == efd) for e, d in (struct.unpack_from('=IQ', ev, 12 * i) for i in range(n))]
# epoll_pwait(ep, events, 8, -1, {SIGUSR1}, 8): (n, errno)
def pwait_mask():
    ev = ctypes.create_string_buffer(12 * 8)
    mask = ctypes.create_string_buffer(struct.pack('Q', 1 << (signal.SIGUSR1 - 1)), 8)
    n = libc.syscall(ctypes.c_long(281), ctypes.c_int(ep.fileno()), ev, ctypes.c_int(8), ctypes.c_int(-1), mask, ctypes.c_size_t(8))
    return (n, ctypes.get_errno() if n < 0 else 0)
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append('usr1'))
signal.signal(signal.SIGUSR2, lambda s, f: got.append('usr2'))
second = threading.Event()
third = threading.Event()
fourth = threading.Event()
def waiter():
    t = time.monotonic()
    res['empty'] = ep.poll(0.3)
    res['took'] = time.monotonic() - t
    res['event'] = [(fd == efd, ev) for fd, ev in ep.poll(30)]
    res['value'] = os.eventfd_read(efd)
    t = time.monotonic()
    res['p2empty'] = pwait2(300)
    res['p2took'] = time.monotonic() - t
    second.set()
    res['p2event'] = pwait2(None)
    res['p2value'] = os.eventfd_read(efd)
    res['tid'] = threading.get_ident()
    third.set()
    res['m1'] = pwait_mask()
    res['m1value'] = os.eventfd_read(efd)
    fourth.set()
    res['m2'] = pwait_mask()
def poker():
    time.sleep(1.5)
    os.eventfd_write(efd, 5)
    second.wait(60)
    time.sleep(1)
    os.eventfd_write(efd, 9)
    # SIGUSR1 is in the wait's mask: it waits, delivered once the wait
    # ended; SIGUSR2 is not: EINTR.
    third.wait(60)
    time.sleep(1)
    signal.pthread_kill(res['tid'], signal.SIGUSR1)
    time.sleep(1)
    os.eventfd_write(efd, 13)
    fourth.wait(60)
    time.sleep(1)
    signal.pthread_kill(res['tid'], signal.SIGUSR2)
t1 = threading.Thread(target=waiter); t2 = threading.Thread(target=poker)
t1.start(); t2.start(); t1.join(60); t2.join(60)
time.sleep(0.5)
print('ep', where(), res['empty'], 0.25 <= res['took'] < 5, res['event'], res['value'], flush=True)
print('pwait2', where(), res.get('p2empty'), 0.25 <= res.get('p2took', 0) < 5, res.get('p2event'), res.get('p2value'), t1.is_alive(), flush=True)
print('mask', where(), res.get('m1'), res.get('m1value'), res.get('m2'), sorted(got), flush=True)
# The main thread (its process has threads: it waits here too) is
# interrupted by a signal while it reads an empty pipe.
class Alarm(Exception):
    pass
def on_alarm(sig, frame):
    raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
r, w = os.pipe()
keep = threading.Thread(target=time.sleep, args=(5,)); keep.start()
signal.alarm(1)
try:
    os.read(r, 1)
    print('sig read returned', flush=True)
except Alarm:
    print('sig', where(), 'interrupted', flush=True)
keep.join()
EOF
run wt3 /tmp/wt-ep.py
p=$(started wt3)
check_eq "waits: a third process moves to node 2" ok "$(goto "$p" 2)"
on 1 'touch /tmp/wt3.go'
check_eq "waits: an epoll wait in a thread made away keeps its timeout, and wakes for an eventfd another thread writes" \
  "ep 2 [] True [(True, 1)] 5" "$(line wt3 ep)"
check_eq "waits: so does an epoll_pwait2, with its timespec and with none" \
  "pwait2 2 [] True [(1, True)] 9 False" "$(line wt3 pwait2)"
check_eq "waits: an epoll_pwait's mask holds a signal in it until the wait ends; one outside it ends the wait with EINTR" \
  "mask 2 (1, 0) 13 (-1, 4) ['usr1', 'usr2']" "$(line wt3 mask)"
check_eq "waits: a signal ends a read of an empty home pipe waiting where the process runs" \
  "sig 2 interrupted" "$(line wt3 sig)"

# --- a TCP server and its client, both threads made after the move, on
# sockets made at home: accept, recv and send wait where it runs.
py 1 /tmp/wt-tcp.py <<'EOF'
import socket, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
print('ready', flush=True)
go('wt5.go')
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 7161)); srv.listen(1)
got = []
res = {}
def server():
    c, _ = srv.accept()
    got.append(c.recv(100).decode())
    c.sendall(b'pong')
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    res['received'] = n
    c.close()
def client():
    time.sleep(1)
    s = socket.create_connection(('127.0.0.1', 7161))
    s.sendall(b'ping')
    got.append(s.recv(100).decode())
    # One send() of more than one request carries (32 KiB), and more
    # than the socket takes at once: all of it, as a blocking send.
    res['sent'] = s.send(b'z' * 300000)
    s.close()
t1 = threading.Thread(target=server); t2 = threading.Thread(target=client)
t1.start(); t2.start(); t1.join(60); t2.join(60)
print('tcp', where(), sorted(got), res.get('sent'), res.get('received'), t1.is_alive(), t2.is_alive(), flush=True)
EOF
run wt5 /tmp/wt-tcp.py
p=$(started wt5)
check_eq "waits: a fifth process moves to node 3" ok "$(goto "$p" 3)"
on 1 'touch /tmp/wt5.go'
check_eq "waits: a server thread accepts and answers a client thread, on home's loopback; one send() of 300000 bytes sends them all" \
  "tcp 3 ['ping', 'pong'] 300000 300000 False False" "$(line wt5 tcp)"

# --- connect (2026-12-05; before, it waited at home holding the deputy):
# a server at home whose accept queue is full (listen(0) and one
# connection it has not accepted) drops a moved thread's SYN, so its
# connect waits; meanwhile another thread's calls at home (a stat, a
# file made) are answered, and the second tells the server to accept:
# the connect then ends well, once the SYN is sent again. A connect to a
# port nobody listens on fails with ECONNREFUSED, as a blocking one does.
py 1 /tmp/wt-cs.py <<'EOF2'
import os, socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 7181)); srv.listen(0)
filler = socket.create_connection(('127.0.0.1', 7181))
print('ready', flush=True)
t0 = time.time()
while not os.path.exists('/tmp/wt11.accept') and time.time() - t0 < 60:
    time.sleep(0.05)
a, _ = srv.accept()
b, _ = srv.accept()
print('server', b.recv(100).decode(), flush=True)
EOF2
py 1 /tmp/wt-cc.py <<'EOF2'
import errno, os, socket, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
print('ready', flush=True)
go('wt12.go')
ev = []
def conn():
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', 7181))
        ev.append('connected')
        s.sendall(b'hi')
    except OSError as e:
        ev.append('connect ' + errno.errorcode[e.errno])
    r = socket.socket()
    try:
        r.connect(('127.0.0.1', 7182))
        ev.append('refused? connected')
    except OSError as e:
        ev.append(errno.errorcode[e.errno])
def other():
    time.sleep(1)
    os.stat('/tmp/wt_lib.py')
    ev.append('stat')
    open('/tmp/wt11.accept', 'w').close()
t1 = threading.Thread(target=conn); t2 = threading.Thread(target=other)
t1.start(); t2.start(); t2.join(90); t1.join(90)
print('conn', where(), ev, flush=True)
EOF2
on 1 'rm -f /tmp/wt11.*'
run wt11 /tmp/wt-cs.py
started wt11 >/dev/null
run wt12 /tmp/wt-cc.py
p=$(started wt12)
check_eq "waits: a process moves to node 3 to connect" ok "$(goto "$p" 3)"
on 1 'touch /tmp/wt12.go'
check_eq "waits: a thread's connect to a full server waits where it runs: another thread's calls at home go on meanwhile; it connects once the server accepts; a refused one fails with ECONNREFUSED" \
  "conn 3 ['stat', 'connected', 'ECONNREFUSED']" "$(line wt12 conn)"
check_eq "waits: ... the server gets what it sent" "server hi" "$(line wt11 server)"

# --- select() on a socket served at home: home watches it and says when
# it may be ready, instead of being asked every 100 ms (a one-thread
# process: its poll is asked of home, which waits for nothing).
py 1 /tmp/wt-sel.py <<'EOF'
import select, socket, sys
sys.path.insert(0, '/tmp'); from wt_lib import go, where
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 7171))
print('ready', flush=True)
go('wt6.go')
r, _, _ = select.select([s], [], [], 60)
print('sel', where(), s.recv(10).decode() if r else 'timeout', flush=True)
EOF
custody() { on 1 "awk '\$1 == \"$1\" { print \$2 }' /proc/cluster/custody"; }
run wt6 /tmp/wt-sel.py
p=$(started wt6)
check_eq "waits: a sixth process moves to node 2" ok "$(goto "$p" 2)"
polls0=$(custody polls_served); ready0=$(custody ready_sent)
on 1 'touch /tmp/wt6.go; sleep 4'
on 1 "python3 -c \"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'hey', ('127.0.0.1', 7171))\""
check_eq "waits: select() on a home socket wakes for a datagram that came 4 s later" "sel 2 hey" "$(line wt6 sel)"
polls=$(( $(custody polls_served) - polls0 )); ready=$(( $(custody ready_sent) - ready0 ))
check "waits: home was asked its readiness $polls times in those 4 s (a watch, and a check a second; not every 100 ms)" \
  test "$polls" -ge 1 -a "$polls" -le 12
check "waits: and home said it may be ready ($ready READY notices)" test "$ready" -ge 1

# --- a thread waits on a pipe when the process moves on, twice: the wait
# is cut by the move and made again where it lands.
py 1 /tmp/wt-move.py <<'EOF'
import os, sys, threading
sys.path.insert(0, '/tmp'); from wt_lib import go, where
print('ready', flush=True)
go('wt4.go')
r, w = os.pipe()
out = []
def reader():
    out.append(os.read(r, 10).decode())
    out.append(os.read(r, 10).decode())
t = threading.Thread(target=reader); t.start()
print('waiting', where(), flush=True)
go('wt4.go2'); os.write(w, b'one')
go('wt4.go3'); os.write(w, b'two')
t.join(30)
print('moved', where(), out, t.is_alive(), flush=True)
EOF
run wt4 /tmp/wt-move.py
p=$(started wt4)
check_eq "waits: a fourth process moves to node 2" ok "$(goto "$p" 2)"
on 1 'touch /tmp/wt4.go'
check_eq "waits: its reader thread waits on a pipe (home's, made after the move)" "waiting 2" "$(line wt4 waiting)"
sleep 1
check_eq "waits: it moves on to node 3 while the thread waits" ok "$(goto "$p" 3)"
on 1 'sleep 1; touch /tmp/wt4.go2'
on 1 "for i in \$(seq 100); do grep -q 3 /proc/$p/where && break; sleep 0.1; done; sleep 1"
# (Not home: a thread made away from home cannot come home, EOPNOTSUPP.)
check_eq "waits: it moves back to node 2 while the thread waits again" ok "$(goto "$p" 2)"
on 1 'sleep 1; touch /tmp/wt4.go3'
check_eq "waits: the thread got both writes, before and after the moves" \
  "moved 2 ['one', 'two'] False" "$(line wt4 moved)"

# --- a thread made after the move waits for a child left at home, which
# ends only once another thread made after the move makes a file at home
# (both share the deputy: a wait at home held it, and the file was never
# made). The wait is made there with WNOHANG and waits here, woken by a
# watch of the deputy's children. Then a waitid for a third child, which a
# later file ends (waitid's "none" is a zero si_pid), and one without a
# siginfo (NULL: home gives the call one of its own to say "none" in) for
# a fourth: it held the deputy before, so the file that ends that child
# was never made.
py 1 /tmp/wt-child.py <<'EOF2'
import ctypes, os, subprocess, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
c = subprocess.Popen(['sh', '-c', 'while [ ! -e /tmp/wt8.c ]; do sleep 0.1; done; exit 7'])
quick = subprocess.Popen(['sh', '-c', 'exit 3'])
w = subprocess.Popen(['sh', '-c', 'while [ ! -e /tmp/wt8.w ]; do sleep 0.1; done; exit 5'])
n = subprocess.Popen(['sh', '-c', 'while [ ! -e /tmp/wt8.n ]; do sleep 0.1; done; exit 9'])
libc = ctypes.CDLL(None, use_errno=True)
print('ready', flush=True)
go('wt8.go')
res = {}
def waiter():
    res['quick'] = quick.wait()
    t = time.monotonic()
    res['child'] = c.wait()
    res['took'] = time.monotonic() - t
    i = os.waitid(os.P_PID, w.pid, os.WEXITED)
    res['waitid'] = (i.si_pid == w.pid, i.si_status)
    # waitid(P_PID, n, NULL, WEXITED): 0 once it ended, and it is reaped.
    r = libc.waitid(1, n.pid, None, 4)
    res['null'] = (r, libc.waitid(1, n.pid, None, 4), ctypes.get_errno())
    try:
        os.wait()
        res['none'] = 'child'
    except ChildProcessError:
        res['none'] = 'ECHILD'
def maker():
    time.sleep(1.5)
    open('/tmp/wt8.c', 'w').close()
    time.sleep(1.5)
    open('/tmp/wt8.w', 'w').close()
    time.sleep(1.5)
    open('/tmp/wt8.n', 'w').close()
t1 = threading.Thread(target=waiter); t2 = threading.Thread(target=maker)
t1.start(); t2.start(); t1.join(60); t2.join(60)
print('child', where(), res.get('quick'), res.get('child'), 1 <= res.get('took', 0) < 30, res.get('waitid'), res.get('null'), res.get('none'), t1.is_alive(), flush=True)
EOF2
on 1 'rm -f /tmp/wt8.c /tmp/wt8.w /tmp/wt8.n'
run wt8 /tmp/wt-child.py
p=$(started wt8)
check_eq "waits: an eighth process, with two children at home, moves to node 2" ok "$(goto "$p" 2)"
on 1 'touch /tmp/wt8.go'
check_eq "waits: a thread made away waits (wait4, waitid, waitid without a siginfo) for children at home that another thread's files end; statuses 3, 7 and 5, the fourth reaped (then ECHILD), then ECHILD" \
  "child 2 3 7 True (True, 5) (0, -1, 10) ECHILD False" "$(line wt8 child)"

# --- a lock and a SysV queue between two threads made after the move:
# flock (LOCK_NB at home) and msgrcv/msgsnd (IPC_NOWAIT) have nothing a
# watch can hold, so the thread asks again after 10 ms, doubling to 1 s.
# Before, the waiting thread held the deputy, and the other thread's
# unlock or send queued behind it.
py 1 /tmp/wt-lock.py <<'EOF2'
import ctypes, fcntl, os, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
libc = ctypes.CDLL(None, use_errno=True)
print('ready', flush=True)
go('wt9.go')
res = {}
a = os.open('/tmp/wt9.lock', os.O_RDWR | os.O_CREAT, 0o600)
b = os.open('/tmp/wt9.lock', os.O_RDWR)
fcntl.flock(b, fcntl.LOCK_EX)
def locker():
    t = time.monotonic()
    fcntl.flock(a, fcntl.LOCK_EX)
    res['lock'] = 1 <= time.monotonic() - t < 20
def unlocker():
    time.sleep(1.5)
    fcntl.flock(b, fcntl.LOCK_UN)
t1 = threading.Thread(target=locker); t2 = threading.Thread(target=unlocker)
t1.start(); t2.start(); t1.join(30); t2.join(30)
try:
    fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    res['nb'] = 'locked'
except BlockingIOError:
    res['nb'] = 'EAGAIN'
class Msg(ctypes.Structure):
    _fields_ = [('mtype', ctypes.c_long), ('mtext', ctypes.c_char * 16)]
q = libc.msgget(0, 0o600 | 0o1000)
def receiver():
    m = Msg()
    n = libc.msgrcv(q, ctypes.byref(m), 16, 0, 0)
    res['msg'] = (n, m.mtype, m.mtext.decode())
def sender():
    time.sleep(1.5)
    m = Msg(7, b'hello')
    res['sent'] = libc.msgsnd(q, ctypes.byref(m), 5, 0)
t1 = threading.Thread(target=receiver); t2 = threading.Thread(target=sender)
t1.start(); t2.start(); t1.join(30); t2.join(30)
libc.msgctl(q, 0, None)
print('lock', where(), res.get('lock'), res.get('nb'), res.get('msg'), res.get('sent'), t1.is_alive(), flush=True)
EOF2
run wt9 /tmp/wt-lock.py
p=$(started wt9)
check_eq "waits: a ninth process moves to node 2" ok "$(goto "$p" 2)"
on 1 'touch /tmp/wt9.go'
check_eq "waits: a thread made away gets a flock another thread made away lets go, and a message another sends" \
  "lock 2 True EAGAIN (5, 7, 'hello') 0 False" "$(line wt9 lock)"

# --- a POSIX lock and a SysV semaphore between two threads made after the
# move: fcntl's F_SETLKW is made as F_SETLK at home, semop with IPC_NOWAIT
# in each operation; the thread asks again as for flock. A POSIX lock is
# the process's, so another process holds it: it lets go once the other
# thread makes a file at home (lockf, F_SETLKW); then an OFD lock
# (F_OFD_SETLKW) the other thread's descriptor holds. A semop that asks
# IPC_NOWAIT itself gets its own EAGAIN; a semtimedop its timeout's.
py 1 /tmp/wt-semop.py <<'EOF2'
import ctypes, fcntl, os, struct, sys, threading, time
sys.path.insert(0, '/tmp'); from wt_lib import go, where
libc = ctypes.CDLL(None, use_errno=True)
print('ready', flush=True)
go('wt10.go')
go('wt10.held')
res = {}
a = os.open('/tmp/wt10.lock', os.O_RDWR)
def timed(key, f):
    t = time.monotonic()
    f()
    res[key] = 1 <= time.monotonic() - t < 20
def release():
    time.sleep(1.5)
    open('/tmp/wt10.rel', 'w').close()
t1 = threading.Thread(target=timed, args=('lockf', lambda: fcntl.lockf(a, fcntl.LOCK_EX)))
t2 = threading.Thread(target=release)
t1.start(); t2.start(); t1.join(30); t2.join(30)
# (An OFD lock conflicts with the process's own POSIX lock.)
fcntl.lockf(a, fcntl.LOCK_UN)
# struct flock: type, whence, start, len, pid (0 for an OFD lock)
fl = struct.pack('hhqqi4x', fcntl.F_WRLCK, 0, 0, 0, 0)
b = os.open('/tmp/wt10.lock', os.O_RDWR)
c = os.open('/tmp/wt10.lock', os.O_RDWR)
fcntl.fcntl(b, 37, fl)
def unlock_ofd():
    time.sleep(1.5)
    fcntl.fcntl(b, 37, struct.pack('hhqqi4x', fcntl.F_UNLCK, 0, 0, 0, 0))
t1 = threading.Thread(target=timed, args=('ofd', lambda: fcntl.fcntl(c, 38, fl)))
t2 = threading.Thread(target=unlock_ofd)
t1.start(); t2.start(); t1.join(30); t2.join(30)
class Op(ctypes.Structure):
    _fields_ = [('num', ctypes.c_ushort), ('op', ctypes.c_short), ('flg', ctypes.c_short)]
s = libc.semget(0, 1, 0o600 | 0o1000)
nowait = libc.semop(s, ctypes.byref(Op(0, -1, 0o4000)), 1)
res['own'] = (nowait, ctypes.get_errno())
class TS(ctypes.Structure):
    _fields_ = [('s', ctypes.c_long), ('ns', ctypes.c_long)]
def timed_out():
    t = time.monotonic()
    r = libc.semtimedop(s, ctypes.byref(Op(0, -1, 0)), 1, ctypes.byref(TS(0, 500000000)))
    res['timedop'] = (r, ctypes.get_errno(), 0.4 <= time.monotonic() - t < 5)
t1 = threading.Thread(target=timed_out); t1.start(); t1.join(30)
def down():
    res['down'] = libc.semop(s, ctypes.byref(Op(0, -1, 0o10000)), 1)
def up():
    time.sleep(1.5)
    res['up'] = libc.semop(s, ctypes.byref(Op(0, 1, 0)), 1)
t1 = threading.Thread(target=timed, args=('sem', down)); t2 = threading.Thread(target=up)
t1.start(); t2.start(); t1.join(30); t2.join(30)
libc.semctl(s, 0, 0)
print('sem', where(), res.get('lockf'), res.get('ofd'), res.get('own'), res.get('timedop'), res.get('sem'), res.get('down'), res.get('up'), t1.is_alive(), flush=True)
EOF2
on 1 'rm -f /tmp/wt10.*; touch /tmp/wt10.lock'
run wt10 /tmp/wt-semop.py
p=$(started wt10)
check_eq "waits: a tenth process moves to node 2" ok "$(goto "$p" 2)"
# The other process at home: holds the POSIX lock until wt10.rel is there.
py 1 /tmp/wt-holder.py <<'EOF2'
import fcntl, os, time
f = open('/tmp/wt10.lock', 'r+')
fcntl.lockf(f, fcntl.LOCK_EX)
open('/tmp/wt10.held', 'w').close()
while not os.path.exists('/tmp/wt10.rel'):
    time.sleep(0.05)
EOF2
on 1 'cd /tmp; python3 /tmp/wt-holder.py > /tmp/wt10.holder 2>&1 &' >/dev/null 2>&1
on 1 'touch /tmp/wt10.go'
check_eq "waits: a thread made away gets a POSIX lock (F_SETLKW) and an OFD lock another lets go, and a semaphore another thread raises; its own IPC_NOWAIT and a semtimedop's 0.5 s give EAGAIN" \
  "sem 2 True True (-1, 11) (-1, 11, True) True 0 0 False" "$(line wt10 sem)"
on 1 'for t in wt1 wt2 wt3 wt4 wt5 wt6 wt8 wt9 wt10; do kill $(cat /tmp/$t.pid) 2>/dev/null; done'

# --- faults while a thread waits where the process runs: its node cut
# for 4 s (home's READY is lost with the link; the thread asks again
# after 1 s, and that request waits for the link like any other), then
# for 20 s (the process is fenced there, its parent at home sees 137,
# and home's watch ends with the deputy).
py 1 /tmp/wt-cut.py <<'EOF2'
import os, sys, threading
sys.path.insert(0, '/tmp'); from wt_lib import go, where
fd = os.open('/tmp/wt7.fifo', os.O_RDWR)
print('ready', flush=True)
go('wt7.go')
def reader():
    while True:
        print('got', where(), os.read(fd, 10).decode().strip(), flush=True)
t = threading.Thread(target=reader, daemon=True); t.start()
print('waiting', where(), flush=True)
t.join()
EOF2
on 1 "rm -f /tmp/wt7.*; mkfifo /tmp/wt7.fifo; cd /tmp; python3 /tmp/wt-cut.py > /tmp/wt7.out 2>&1 & p=\$!; echo \$p > /tmp/wt7.pid
      wait \$p; echo \$? > /tmp/wt7.status" >/dev/null 2>&1 &
p=$(started wt7)
check_eq "waits, faults: a seventh process moves to node 2" ok "$(goto "$p" 2)"
on 1 'touch /tmp/wt7.go'
check_eq "waits, faults: its thread waits where it runs on a home FIFO" "waiting 2" "$(line wt7 waiting)"
sleep 1
check "waits, faults: home holds a watch for it ($(custody watches) armed)" test "$(custody watches)" -ge 1
"$CLUSTER" cut 2
on 1 'echo cut > /tmp/wt7.fifo'
sleep 4
"$CLUSTER" heal 2
check_eq "waits, faults: what home's FIFO got during a 4 s cut reaches the thread after the heal" \
  "got 2 cut" "$(line wt7 got)"
check "waits, faults: node 2 up again" wait_up 2 1 20
on 1 'echo after > /tmp/wt7.fifo'
check_eq "waits, faults: and what comes after it" "got 2 after" "$(line wt7 'got 2 after')"
sleep 1
"$CLUSTER" cut 2
check_eq "waits, faults: cut for 20 s while its thread waits: fenced, its parent's wait() returns 137" \
  137 "$(file_of 1 /tmp/wt7.status 30)"
sleep 6
"$CLUSTER" heal 2
check "waits, faults: node 2 up again after the long cut" wait_up 2 1 20
check_eq "waits, faults: after the heal it runs nowhere" 0 "$(copies "$p")"
# Every process of this file ended: home holds no watch (each ends with
# its deputy, a fenced one's too).
check_eq "waits: home's watches all ended with their deputies" 0 \
  "$(on 1 "for i in \$(seq 50); do [ \"\$(awk '\$1 == \"watches\" { print \$2 }' /proc/cluster/custody)\" = 0 ] && break; sleep 0.2; done; awk '\$1 == \"watches\" { print \$2 }' /proc/cluster/custody")"
on 1 'rm -f /tmp/wt*'
