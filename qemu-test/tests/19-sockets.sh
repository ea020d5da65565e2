# Sockets of a moved process (issue 17, item 3). Sourced by run-tests
# with lib.sh; the cluster is up. Node N is 10.77.0.N.
#
# As MOSIX did, a socket the process had before the move stays at home and
# is served there by its deputy: reads, writes, readiness, and the socket
# calls (accept, recvfrom, sendto, getsockname...). Its peers keep talking
# to home's address, and nothing is in flight on a wire the move cuts.

if ! on 1 'test -x /usr/bin/python3'; then
    fail "sockets: the nodes run the Debian root (python3 is there)"
    return 0
fi
# py NODE FILE: writes FILE on NODE from standard input
py() { local t; t=$(mktemp); cat > "$t"; "$CLUSTER" put "$1" "$t" "$2"; rm -f "$t"; }
# started NODE TAG: waits for the first line of /tmp/TAG.out; prints /tmp/TAG.pid
started() { on "$1" "for i in \$(seq 300); do [ -s /tmp/$2.out ] && break; sleep 0.1; done; cat /tmp/$2.pid"; }
# ended NODE TAG: its exit status
ended() { file_of "$1" "/tmp/$2.status" 60; }
# run NODE TAG CMD: CMD in the background, under a shell that keeps its status
run() { on "$1" "rm -f /tmp/$2.out /tmp/$2.status; cd /tmp; ( $3 > /tmp/$2.out 2>&1 & echo \$! > /tmp/$2.pid; wait \$!; echo \$? > /tmp/$2.status ) &" >/dev/null 2>&1; }
on 1 'rm -f /tmp/sk.*'

# --- a TCP echo server moves to node 2; it still accepts at home's address.
py 1 /tmp/sk-echo.py <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7101))
s.listen(8)
print('listening', s.getsockname()[1], flush=True)
for n in range(3):
    c, a = s.accept()
    data = c.recv(100)
    with open('/proc/self/where') as f:
        w = f.read().strip()
    c.sendall(b'echo ' + data.strip() + b' at ' + w.encode() + b' from ' + a[0].encode() + b'\n')
    c.close()
print('served', n + 1, flush=True)
EOF
py 3 /tmp/sk-ask.py <<'EOF'
import socket, sys
c = socket.create_connection(('10.77.0.1', 7101), timeout=30)
c.sendall(sys.argv[1].encode() + b'\n')
print(c.recv(200).decode().strip())
EOF
run 1 es "python3 /tmp/sk-echo.py"
pid=$(started 1 es)
check_eq "tcp server: a reply before the move" "echo one at 1 from 10.77.0.3" "$(on 3 'python3 /tmp/sk-ask.py one')"
check_eq "tcp server: listening, it goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
check_eq "tcp server: a new connection to home's address is accepted on node 2" "echo two at 2 from 10.77.0.3" \
    "$(on 3 'python3 /tmp/sk-ask.py two')"
check_eq "tcp server: and another" "echo three at 2 from 10.77.0.3" "$(on 3 'python3 /tmp/sk-ask.py three')"
check_eq "tcp server: it ends with status 0" "0 served 3" "$(echo $(ended 1 es) $(on 1 'tail -1 /tmp/es.out'))"

# --- a TCP client receiving 64 MiB from a server on node 3 moves in the
# middle; no byte is lost (the same SHA-256 as sent). sk-send.py PORT MIB
# SEED: sends MIB MiB of SEED's random bytes to its one client, then says
# how the client closed (clean: a FIN, nothing left unread; reset).
py 3 /tmp/sk-send.py <<'EOF'
import hashlib, random, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen(1)
print('listening', flush=True)
c, a = s.accept()
r = random.Random(int(sys.argv[3]))
h = hashlib.sha256()
for i in range(int(sys.argv[2])):
    b = r.randbytes(1 << 20)
    h.update(b)
    c.sendall(b)
c.shutdown(socket.SHUT_WR)
try:
    end = 'clean' if c.recv(1) == b'' else 'data'
except ConnectionResetError:
    end = 'reset'
print('sent', h.hexdigest(), end, flush=True)
EOF
py 1 /tmp/sk-recv.py <<'EOF'
import hashlib, os, select, socket, time
c = socket.create_connection(('10.77.0.3', 7102), timeout=120)
h = hashlib.sha256()
n = 0
half = False
t = None
while True:
    # recv() and read() in turn (both the proxy's read, read ahead)
    b = c.recv(65536) if n % 2 == 0 else os.read(c.fileno(), 1 << 18)
    if not b:
        break
    h.update(b)
    n += len(b)
    if not half and n >= 8 << 20:
        half = True
        print('half', flush=True)
        while not os.path.exists('/tmp/sk.moved'):
            select.select([], [], [], 0.05)
        t = time.monotonic()
print('got', n, h.hexdigest(), flush=True)
print('rate', int((n - (8 << 20)) / (time.monotonic() - t) / 1024), 'KiB/s', flush=True)
EOF
run 3 ss "python3 /tmp/sk-send.py 7102 64 7"
started 3 ss >/dev/null
run 1 sr "python3 /tmp/sk-recv.py"
pid=$(on 1 'for i in $(seq 300); do grep -q half /tmp/sr.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/sr.pid')
check_eq "tcp client: a third of the way through 64 MiB it goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.moved'
check_eq "tcp client: it ends with status 0" 0 "$(ended 1 sr)"
sent=$(on 3 "for i in \$(seq 100); do grep -q sent /tmp/ss.out && break; sleep 0.2; done; sed -n 's/^sent //p' /tmp/ss.out")
check_eq "tcp client: it received all 64 MiB, byte for byte (SHA-256)" "got 67108864 ${sent% *}" "$(on 1 'grep ^got /tmp/sr.out')"
check_eq "tcp client: its close reached the sender as a FIN, nothing left unread" clean "${sent#* }"
on 1 'grep ^rate /tmp/sr.out' | diag

# --- UDP: a socket bound at home, after the move, receives a datagram sent
# to home's address and answers its sender (recvmsg and sendmsg, with
# three iovecs: made at home as recvfrom and sendto).
py 1 /tmp/sk-udp.py <<'EOF'
import os, select, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 7103))
print('bound', flush=True)
while not os.path.exists('/tmp/sk.udp'):
    select.select([], [], [], 0.05)
d, anc, fl, a = s.recvmsg(100, 64)
with open('/proc/self/where') as f:
    w = f.read().strip()
s.sendmsg([b'pong ', d, b' at ' + w.encode()], [], 0, a)
print('answered', a[0], len(anc), flush=True)
EOF
run 1 su "python3 /tmp/sk-udp.py"
pid=$(started 1 su)
check_eq "udp: a process with a bound UDP socket goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.udp'
check_eq "udp: a datagram to home's address is answered from node 2" "pong ping at 2" \
    "$(on 3 "python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(30)
s.sendto(b\"ping\", (\"10.77.0.1\", 7103)); print(s.recvfrom(100)[0].decode())'")"
check_eq "udp: it ends with status 0, having seen node 3's address (no ancillary data)" "0 answered 10.77.0.3 0" "$(echo $(ended 1 su) $(on 1 'tail -1 /tmp/su.out'))"

# --- a unix-domain stream socket connected to a server that stays home.
py 1 /tmp/sk-userv.py <<'EOF'
import os, socket
try:
    os.unlink('/tmp/sk.sock')
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind('/tmp/sk.sock')
s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
c.sendall(b'pong ' + c.recv(100))
EOF
py 1 /tmp/sk-ucli.py <<'EOF'
import fcntl, os, select, socket, struct, termios
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect('/tmp/sk.sock')
print('connected', flush=True)
while not os.path.exists('/tmp/sk.unix'):
    select.select([], [], [], 0.05)
c.sendall(b'ping')
select.select([c], [], [], 30)
n = struct.unpack('i', fcntl.ioctl(c, termios.FIONREAD, b'0000'))[0]
print(c.recv(100).decode(), n, c.getpeername(), flush=True)
EOF
run 1 us "python3 /tmp/sk-userv.py"
started 1 us >/dev/null
run 1 uc "python3 /tmp/sk-ucli.py"
pid=$(started 1 uc)
check_eq "unix: a client connected to a server at home goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.unix'
check_eq "unix: its request and the answer go through home's socket (FIONREAD there: 9)" "0 pong ping 9 /tmp/sk.sock" \
    "$(echo $(ended 1 uc) $(on 1 'tail -1 /tmp/uc.out'))"

# --- sockets and event files made after the move are made at home too:
# a connection to home's loopback (no server listens on node 2's), an
# eventfd in an epoll; and with nothing of node 2's open, it can go home.
py 1 /tmp/sk-lsrv.py <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 7105))
s.listen(1)
print('listening', flush=True)
c, a = s.accept()
f = c.makefile('rb')
for line in f:
    c.sendall(b'srv ' + line.strip() + b' from ' + a[0].encode() + b'\n')
EOF
py 1 /tmp/sk-made.py <<'EOF'
import os, select, socket
def gate(p):
    while not os.path.exists(p):
        select.select([], [], [], 0.05)
def where():
    with open('/proc/self/where') as f:
        return f.read().strip()
print('ready', flush=True)
gate('/tmp/sk.made')
c = socket.create_connection(('127.0.0.1', 7105), timeout=30)
c.sendall(b'hi\n')
r = c.recv(100).decode().strip()
e = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
ep = select.epoll()
ep.register(e, select.EPOLLIN)
os.eventfd_write(e, 5)
n = len(ep.poll(5))
print('made at', where(), r, 'eventfd', os.eventfd_read(e), 'epoll', n, flush=True)
gate('/tmp/sk.home')
c.sendall(b'again\n')
r = c.recv(100).decode().strip()
os.eventfd_write(e, 2)
n = len(ep.poll(5))
print('home at', where(), r, 'eventfd', os.eventfd_read(e), 'epoll', n, flush=True)
EOF
on 1 'rm -f /tmp/sk.made /tmp/sk.home'
run 1 ls "python3 /tmp/sk-lsrv.py"
started 1 ls >/dev/null
run 1 mk "python3 /tmp/sk-made.py"
pid=$(started 1 mk)
check_eq "made after the move: a process goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.made'
check_eq "... a socket it makes there connects to home's loopback; an eventfd and an epoll it makes there work" \
    "made at 2 srv hi from 127.0.0.1 eventfd 5 epoll 1" \
    "$(line_of 1 /tmp/mk.out made)"
check_eq "... they are home's: the process can go home with them" ok "$(on 1 "echo 1 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.home'
check_eq "... where they are its own files again, and it ends well" "0 home at 1 srv again from 127.0.0.1 eventfd 2 epoll 1" \
    "$(echo $(ended 1 mk) $(on 1 'grep ^home /tmp/mk.out'))"
check_eq "... the server at home saw its connection end" 0 "$(ended 1 ls)"

# --- sendmmsg and recvmmsg on a socket at home (glibc's resolver sends its
# two DNS queries with one sendmmsg): one sendmsg/recvmsg at home per
# message; recvmmsg's MSG_WAITFORONE waits for the first only.
py 3 /tmp/sk-uecho.py <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 7106))
print('bound', flush=True)
for i in range(2):
    d, a = s.recvfrom(100)
    s.sendto(b'echo ' + d, a)
EOF
py 1 /tmp/sk-mmsg.py <<'EOF'
import ctypes, os, select, socket, time
libc = ctypes.CDLL(None, use_errno=True)
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint32),
                ('iov', ctypes.POINTER(iovec)), ('iovlen', ctypes.c_size_t),
                ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t),
                ('flags', ctypes.c_int)]
class mmsghdr(ctypes.Structure):
    _fields_ = [('hdr', msghdr), ('len', ctypes.c_uint)]
def vec(bufs):
    v = (mmsghdr * len(bufs))()
    iovs = (iovec * len(bufs))()
    for i, b in enumerate(bufs):
        iovs[i].base = ctypes.cast(b, ctypes.c_void_p)
        iovs[i].len = len(b)
        v[i].hdr.iov = ctypes.pointer(iovs[i])
        v[i].hdr.iovlen = 1
    return v, iovs
print('ready', flush=True)
while not os.path.exists('/tmp/sk.mmsg'):
    select.select([], [], [], 0.05)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(('10.77.0.3', 7106))
out = [ctypes.create_string_buffer(b'one', 3), ctypes.create_string_buffer(b'two', 3)]
v, keep = vec(out)
n = libc.sendmmsg(s.fileno(), v, 2, 0)
sent = 'sent %d %d %d' % (n, v[0].len, v[1].len) if n >= 0 else 'sendmmsg errno %d' % ctypes.get_errno()
time.sleep(1)
ins = [ctypes.create_string_buffer(100) for i in range(4)]
r, keep2 = vec(ins)
m = libc.recvmmsg(s.fileno(), r, 4, 0x10000, None)
got = '|'.join(ins[i].raw[:r[i].len].decode() for i in range(max(m, 0)))
with open('/proc/self/where') as f:
    w = f.read().strip()
# A message vector that is not there: EFAULT, as the kernel says.
bad = libc.sendmmsg(s.fileno(), None, 2, 0)
bad = 'efault' if bad == -1 and ctypes.get_errno() == 14 else 'bad %d' % bad
# glibc's if_nametoindex() asks SIOCGIFINDEX on a socket it makes: home's.
print('at', w, sent, 'got', m, got, bad, 'lo', socket.if_nametoindex('lo'), flush=True)
EOF
run 3 ue "python3 /tmp/sk-uecho.py"
started 3 ue >/dev/null
on 1 'rm -f /tmp/sk.mmsg'
run 1 mm "python3 /tmp/sk-mmsg.py"
pid=$(started 1 mm)
check_eq "mmsg: a process goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.mmsg'
check_eq "... its sendmmsg of 2 datagrams and its recvmmsg of the 2 answers go through home's socket (and an interface query)" \
    "0 at 2 sent 2 3 3 got 2 echo one|echo two efault lo 1" "$(echo $(ended 1 mm) $(on 1 'tail -1 /tmp/mm.out'))"

# --- a plain user's socket made after its move is made at home as that
# user: a privileged port is refused there, another is bound, and home's
# kernel shows the socket as uid 1000's.
py 1 /tmp/sk-user.py <<'EOF'
import os, select, socket
print('ready', flush=True)
while not os.path.exists('/tmp/sk.user'):
    select.select([], [], [], 0.05)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(('127.0.0.1', 80))
    r = 'bound 80'
except PermissionError:
    r = 'EACCES'
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(('127.0.0.1', 7107))
t.listen(1)
with open('/proc/self/where') as f:
    print('at', f.read().strip(), r, flush=True)
while not os.path.exists('/tmp/sk.user2'):
    select.select([], [], [], 0.05)
EOF
on 1 'rm -f /tmp/sk.user /tmp/sk.user2; chmod 644 /tmp/sk-user.py'
run 1 uu "setpriv --reuid 1000 --regid 1000 --clear-groups python3 /tmp/sk-user.py"
pid=$(started 1 uu)
check_eq "plain user: its process goes to node 2 (uid 1000)" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.user'
check_eq "... a socket it makes there cannot bind port 80 at home (EACCES), binds 7107" "at 2 EACCES" \
    "$(line_of 1 /tmp/uu.out at)"
check_match "... and home's kernel lists that listener as uid 1000's" "uid:1000" "$(on 1 "ss -Hltne 'sport = :7107'")"
on 1 'touch /tmp/sk.user2'
check_eq "... it ends well" 0 "$(ended 1 uu)"

# --- one send() larger than one request (32 KiB) on a home TCP socket
# sends it all, as a blocking send does (before: 32768 came back); a
# datagram that large fails with EMSGSIZE rather than being cut.
py 1 /tmp/sk-big.py <<'EOF'
import hashlib, os, select, socket
def go(p):
    while not os.path.exists(p):
        select.select([], [], [], 0.05)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 7181)); srv.listen(1)
child = os.fork()
if child == 0:
    c, _ = srv.accept()
    h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b); n += len(b)
    with open('/tmp/sb-child.out', 'w') as f:
        f.write('%d %s\n' % (n, h.hexdigest()))
    os._exit(0)
srv.close()
s = socket.create_connection(('127.0.0.1', 7181))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print('ready', flush=True)
go('/tmp/sk.sb')
data = bytes((i * 13 + i // 256) & 0xff for i in range(200000))
n = s.send(data)
s.close()
try:
    u.sendto(b'x' * 40000, ('127.0.0.1', 7182))
    d = 'sent'
except OSError as e:
    d = e.errno
os.waitpid(child, 0)
same = open('/tmp/sb-child.out').read().split() == [str(len(data)), hashlib.sha256(data).hexdigest()]
with open('/proc/self/where') as p:
    print('big', p.read().strip(), n, same, d, flush=True)
EOF
on 1 'rm -f /tmp/sk.sb /tmp/sb-child.out'
run 1 sb "python3 /tmp/sk-big.py"
pid=$(started 1 sb)
check_eq "big send: a process with a TCP socket to its child at home goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/sk.sb'
check_eq "big send: one send() of 200000 bytes sends them all, the child gets the same bytes; a 40000-byte datagram fails with EMSGSIZE" \
    "big 2 200000 True 90" "$(line_of 1 /tmp/sb.out big)"
check_eq "big send: it ends well" 0 "$(ended 1 sb)"

# --- descriptors through a socket served at home (SCM_RIGHTS): a moved
# process receives a file its child at home sends, reads it, and sends
# it and a pipe made after the move back; a file of the node it runs on
# (a memfd) cannot go through home's socket (EOPNOTSUPP). Then the same
# as a plain user (uid 1000): the deputy makes the calls with the
# caller's credentials, and the files named are the caller's own.
on 1 'echo home-only > /tmp/sk-rights.txt'
py 1 /tmp/sk-rights.py <<'EOF'
import os, select, socket, sys
tag = sys.argv[1]
def go(p):
    while not os.path.exists(p):
        select.select([], [], [], 0.05)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
child = os.fork()
if child == 0:
    a.close()
    out = open('/tmp/%s-child.out' % tag, 'w')
    go('/tmp/sk.' + tag)
    f = os.open('/tmp/sk-rights.txt', os.O_RDONLY)
    socket.send_fds(b, [b'file'], [f])
    msg, fds, flags, _ = socket.recv_fds(b, 16, 4)
    got = [os.pread(fds[0], 20, 0).decode().strip()]
    got.append(os.read(fds[1], 20).decode())
    print('child', msg.decode(), len(fds), got, file=out, flush=True)
    os._exit(0)
b.close()
print('ready', flush=True)
go('/tmp/sk.' + tag)
msg, fds, flags, _ = socket.recv_fds(a, 16, 4)
f = fds[0]
text = os.read(f, 20).decode().strip()
r, w = os.pipe()
os.write(w, b'piped')
socket.send_fds(a, [b'back'], [f, r])
try:
    socket.send_fds(a, [b'x'], [os.memfd_create('here')])
    local = 'sent'
except OSError as e:
    local = e.errno
with open('/proc/self/where') as p:
    print('at', p.read().strip(), msg.decode(), len(fds), text, local, os.getuid(), flush=True)
os.waitpid(child, 0)
EOF
on 1 'chmod 644 /tmp/sk-rights.py'
for who in "rt root 0" "rtu uid-1000 1000"; do
    read -r tag name uid <<< "$who"
    on 1 "rm -f /tmp/sk.$tag /tmp/$tag-child.out"
    if [ "$uid" = 0 ]; then
        run 1 "$tag" "python3 /tmp/sk-rights.py $tag"
    else
        run 1 "$tag" "setpriv --reuid $uid --regid $uid --clear-groups python3 /tmp/sk-rights.py $tag"
    fi
    pid=$(started 1 "$tag")
    check_eq "rights ($name): a process with a socket pair to its child goes to node 2" ok "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
    on 1 "touch /tmp/sk.$tag"
    check_eq "rights ($name): it receives a file its child at home sent (SCM_RIGHTS), reads it; a memfd of node 2 cannot be sent (EOPNOTSUPP)" \
        "at 2 file 1 home-only 95 $uid" \
        "$(line_of 1 "/tmp/$tag.out" at)"
    check_eq "rights ($name): the child gets back that file and a pipe the process made on node 2" "child back 2 ['home-only', 'piped']" \
        "$(line_of 1 "/tmp/$tag-child.out" child)"
    check_eq "rights ($name): it ends well" 0 "$(ended 1 "$tag")"
done

# --- read-ahead of a TCP socket served at home: a moved process's reads
# of a stream take what home peeked ahead (MSG_PEEK, one round trip per
# 2 MiB), and what it took is taken at home before anything else reads
# the socket. A client receiving 40 MiB from node 3 moves to node 2 at
# 8 MiB (4 KiB recv() there), to node 3 at 20 MiB and home at 32 MiB
# (recv, read, MSG_PEEK then recv, MSG_DONTWAIT, FIONREAD in turn): no
# byte lost or doubled (SHA-256), each peek the bytes the next recv gets.
py 1 /tmp/sk-rarecv.py <<'EOF'
import array, ctypes, fcntl, hashlib, os, select, socket, termios, time
libc = ctypes.CDLL(None, use_errno=True)
pr, pw = os.pipe()
os.write(pw, b'x')
c = socket.create_connection(('10.77.0.3', 7109))
h = hashlib.sha256()
n = i = bad = peeks = 0
marks = [8 << 20, 20 << 20, 32 << 20]
t = {}
def mark(k):
    t['at%d' % k] = time.monotonic()
    print('m%d' % k, flush=True)
    while not os.path.exists('/tmp/ra.m%d' % k):
        select.select([], [], [], 0.05)
    t[k] = time.monotonic()
    if k == 2:
        # recv() of a pipe served at home is no socket's
        rv = libc.recv(pr, ctypes.create_string_buffer(4), 4, 0)
        t['pipe'] = '%d %d %s' % (rv, ctypes.get_errno(), os.read(pr, 4).decode())
while True:
    k = i % 5 if n >= 20 << 20 else 0
    i += 1
    if k == 0:
        b = c.recv(4096)
    elif k == 1:
        b = os.read(c.fileno(), 8192)
    elif k == 2:
        p = c.recv(100, socket.MSG_PEEK)
        b = c.recv(100)
        peeks += 1
        bad += b[:len(p)] != p
    elif k == 3:
        try:
            b = c.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            select.select([c], [], [])
            continue
    else:
        q = array.array('i', [0])
        fcntl.ioctl(c, termios.FIONREAD, q)
        bad += q[0] < 0
        b = c.recv(1000)
    if not b:
        break
    h.update(b)
    n += len(b)
    while marks and n >= marks[0]:
        mark(4 - len(marks))
        marks.pop(0)
print('got', n, h.hexdigest(), 'peeks', peeks, 'bad', bad, flush=True)
print('pipe', t['pipe'], flush=True)
print('rate', int(12 * 1024 / (t['at2'] - t[1])), 'KiB/s on node 2, 4 KiB recv()s', flush=True)
EOF
run 3 rs "python3 /tmp/sk-send.py 7109 40 9"
started 3 rs >/dev/null
on 1 'rm -f /tmp/ra.m*'
run 1 rr "python3 /tmp/sk-rarecv.py"
pid=$(started 1 rr)
# Home's requests served (/proc/cluster/custody io_served) while it reads
# 12 MiB on node 2 in 4 KiB recv()s: one each (3072) without read-ahead.
served() { on 1 "awk '\$1 == \"io_served\" { print \$2 }' /proc/cluster/custody"; }
for step in "1 2" "2 3" "3 1"; do
    read -r m node <<< "$step"
    on 1 "for i in \$(seq 600); do grep -q m$m /tmp/rr.out 2>/dev/null && break; sleep 0.1; done" >/dev/null
    if [ "$m" = 2 ]; then io=$(( $(served) - io )); fi
    check_eq "read-ahead: at mark $m the client goes to node $node" ok "$(on 1 "echo $node > /proc/$pid/goto 2>&1 && echo ok")"
    if [ "$m" = 1 ]; then io=$(served); fi
    on 1 "touch /tmp/ra.m$m"
done
echo "home served $io requests for 12 MiB of 4 KiB recv()s on node 2" | diag
check "read-ahead: home served fewer than 768 requests for those 3072 recv()s ($io)" test "$io" -lt 768
check_eq "read-ahead: it ends with status 0" 0 "$(ended 1 rr)"
sent=$(on 3 "for i in \$(seq 100); do grep -q sent /tmp/rs.out && break; sleep 0.2; done; sed -n 's/^sent //p' /tmp/rs.out")
check_match "read-ahead: it received all 40 MiB, byte for byte (SHA-256), every peek the bytes the next recv got" \
    "^got 41943040 ${sent% *} peeks [1-9][0-9]* bad 0\$" "$(on 1 'grep ^got /tmp/rr.out')"
check_eq "read-ahead: its close reached the sender as a FIN, nothing left unread" clean "${sent#* }"
check_eq "read-ahead: recv() of a pipe served at home fails with ENOTSOCK, its byte left to read()" "pipe -1 88 x" "$(on 1 'grep ^pipe /tmp/rr.out')"
on 1 'grep ^rate /tmp/rr.out' | diag
