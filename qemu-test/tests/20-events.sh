# Event files of a moved process (issue 17, item 4). Sourced by run-tests
# with lib.sh; the cluster is up.
#
# An eventfd, epoll, timerfd or inotify file the process had when it moved
# stays at home, served by its deputy (as its sockets and pipes): what it
# counts or watches is home's, shared with whoever at home holds it too.
# epoll_wait/epoll_ctl, timerfd_settime/gettime and inotify_add_watch on
# it are made at home.

if ! on 1 'test -x /usr/bin/python3'; then
    fail "events: the nodes run the Debian root (python3 is there)"
    return 0
fi
on 1 'rm -rf /tmp/ev.* /tmp/evdir; mkdir /tmp/evdir; mkfifo /tmp/ev.fifo'
t=$(mktemp)
cat > "$t" <<'EOF'
import ctypes, os, select, struct
libc = ctypes.CDLL(None, use_errno=True)
def gate(p):
    while not os.path.exists(p):
        select.select([], [], [], 0.05)
fifo = os.open('/tmp/ev.fifo', os.O_RDONLY | os.O_NONBLOCK)
efd = os.eventfd(0)
tfd = libc.timerfd_create(1, 0)
ino = libc.inotify_init1(0)
ep = select.epoll()
for fd in (fifo, efd, tfd):
    ep.register(fd, select.EPOLLIN)
k = os.fork()
if k == 0:
    gate('/tmp/ev.kid')
    os.eventfd_write(efd, 7)
    os._exit(0)
print('ready', flush=True)
gate('/tmp/ev.moved')
with open('/proc/self/where') as f:
    where = f.read().strip()
# After the move: a watch of home's directory, added to home's epoll; the
# timer armed (0.3 s) and read back.
wd = libc.inotify_add_watch(ino, b'/tmp/evdir', 0x100)
ep.register(ino, select.EPOLLIN)
its = struct.pack('llll', 0, 0, 0, 300000000)
r = libc.timerfd_settime(tfd, 0, its, None)
cur = ctypes.create_string_buffer(32)
libc.timerfd_gettime(tfd, cur)
left = struct.unpack('llll', cur.raw)[3]
out = ['at ' + where, 'armed %d %d %s' % (wd, r, 0 < left <= 300000000)]
seen = set()
while len(seen) < 4:
    for fd, ev in ep.poll(60):
        if fd == fifo:
            d = os.read(fifo, 100)
            if d:
                out.append('fifo ' + d.decode().strip())
                seen.add(fd)
                ep.unregister(fifo)
        elif fd == efd:
            out.append('eventfd %d' % os.eventfd_read(efd))
            seen.add(fd)
        elif fd == tfd:
            out.append('timer %d' % struct.unpack('Q', os.read(tfd, 8))[0])
            seen.add(fd)
        elif fd == ino:
            b = os.read(ino, 4096)
            out.append('created ' + b[16:].rstrip(b'\0').decode())
            seen.add(fd)
os.waitpid(k, 0)
print(*sorted(out), sep='\n', flush=True)
EOF
"$CLUSTER" put 1 "$t" /tmp/ev.py
rm -f "$t"
on 1 "cd /tmp; ( python3 /tmp/ev.py > /tmp/ev.out 2>&1 & echo \$! > /tmp/ev.pid; wait \$!; echo \$? > /tmp/ev.status ) &" >/dev/null 2>&1
pid=$(on 1 'for i in $(seq 300); do [ -s /tmp/ev.out ] && break; sleep 0.1; done; cat /tmp/ev.pid')
check_eq "events: python3 with an epoll over a FIFO, an eventfd and a timerfd, and an inotify file, goes to node 2" ok \
    "$(on 1 "echo 2 > /proc/$pid/goto 2>&1 && echo ok")"
on 1 'touch /tmp/ev.moved'
sleep 1
on 1 'echo hello > /tmp/ev.fifo; touch /tmp/ev.kid; touch /tmp/evdir/newfile'
check_eq "events: it ends with status 0" 0 \
    "$(on 1 'for i in $(seq 300); do [ -s /tmp/ev.status ] && break; sleep 0.2; done; cat /tmp/ev.status')"
out=$(on 1 'grep -v ready /tmp/ev.out')
check_match "events: it ran on node 2" "^at 2$" "$out"
check_match "events: inotify_add_watch of home's directory and timerfd_settime/gettime there worked" "^armed 1 0 True$" "$out"
check_match "events: its timer fired once" "^timer 1$" "$out"
check_match "events: a line written to home's FIFO woke its epoll" "^fifo hello$" "$out"
check_match "events: its child at home wrote the eventfd they share (7)" "^eventfd 7$" "$out"
check_match "events: a file made in home's directory was seen (inotify)" "^created newfile$" "$out"

# --- SysV shared memory between processes is refused (issue 17, item 5:
# the documented refusal, README "Shared memory"): a counter in a segment
# cannot move, and keeps counting where it is.
t=$(mktemp)
cat > "$t" <<'EOF2'
import ctypes, os, select
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
sid = libc.shmget(0, 4096, 0o1600)
c = ctypes.c_int.from_address(libc.shmat(sid, None, 0))
libc.shmctl(sid, 0, None)
print('id', sid, flush=True)
while not os.path.exists('/tmp/shm.end'):
    c.value += 1
    select.select([], [], [], 0.01)
print('count', c.value > 0, flush=True)
EOF2
"$CLUSTER" put 1 "$t" /tmp/shm.py
rm -f "$t"
on 1 "rm -f /tmp/shm.end; cd /tmp; ( python3 /tmp/shm.py > /tmp/shm.out 2>&1 & echo \$! > /tmp/shm.pid; wait \$!; echo \$? > /tmp/shm.status ) &" >/dev/null 2>&1
pid=$(on 1 'for i in $(seq 300); do [ -s /tmp/shm.out ] && break; sleep 0.1; done; cat /tmp/shm.pid')
check_match "shm: a process attached to a SysV segment is refused (EOPNOTSUPP)" "Operation not supported" \
    "$(on 1 "(echo 2 > /proc/$pid/goto) 2>&1")"
check_match "shm: the log says why" "pid $pid cannot move: .*shared writable" "$(on 1 'dmesg | tail -5')"
on 1 'touch /tmp/shm.end'
check_eq "shm: it counted on at home and ends with status 0" "0 count True" \
    "$(echo $(on 1 'for i in $(seq 100); do [ -s /tmp/shm.status ] && break; sleep 0.2; done; cat /tmp/shm.status') $(on 1 'tail -1 /tmp/shm.out'))"
