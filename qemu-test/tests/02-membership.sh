# Membership over the authenticated in-kernel transport.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300
key=$CLUSTER_KEY


# --- everyone sees everyone up
for i in $(seq 1 "$NODES"); do
    for j in $(seq 1 "$NODES"); do
        check "node $i sees node $j up" wait_up "$j" "$i" 20
    done
done
check_match "nodes shows load columns" 'node +address +state +load +run +cpus +speed +free_mb' "$(on 1 'cat /proc/cluster/nodes')"
check_match "node2/load has the load vector" 'cpus: 1' "$(on 1 'cat /proc/cluster/node2/load')"
check_match "events record the joins" 'join node=2' "$(on 1 'cat /proc/cluster/events')"
sleep 2
check_match "load vectors keep arriving (heard within 2 s)" '^ +2 .* up .* [01]\.[0-9]$' "$(on 1 'cat /proc/cluster/nodes')"

# --- cut 3: marked down within the timeout, and up again after heal
"$CLUSTER" cut 3
t0=$(date +%s%N)
check "node 1 marks a cut node 3 down" wait_down 3 1 6
t1=$(( ($(date +%s%N) - t0) / 1000000 ))
# The 2.5 s timeout, plus the manager's tick and this check's polling
# through the agent (slower on the debug kernel).
check_match "... within 3.5 s (took ${t1} ms)" '^([0-9]{1,3}|[0-2][0-9]{3}|3[0-4][0-9]{2})$' "$t1"
check "node 2 marks it down too" wait_down 3 2 6
check_match "node 1's events say node 3 went down" 'down node=3' "$(on 1 'cat /proc/cluster/events')"
"$CLUSTER" heal 3
check "after heal node 1 sees node 3 up again" wait_up 3 1 15
check "... and node 3 sees node 1 up" wait_up 1 3 15
check_match "events say node 3 is up again" 'up node=3' "$(on 1 'cat /proc/cluster/events')"

# --- events is a stream: a follower gets new lines without reopening
# (busybox's tail -f reads on after end of file; coreutils' takes a size-0
# file that was read for a truncated one and gives up: README), and
# `cluster events -f` gets them through the netlink multicast group.
on 1 'busybox tail -f /proc/cluster/events > /tmp/follow 2>&1 & echo $! > /tmp/follow.pid'
on 1 'cluster events -f > /tmp/follow-nl 2>&1 & echo $! > /tmp/follow-nl.pid'
sleep 1.5 # past the first poll of each follower
on 1 'echo -n "1@10.77.0.1:7300" > /proc/cluster/admin/add' >/dev/null 2>&1 # refused: self
on 2 'rmmod vproc'
sleep 2
check_match "a follower of events sees the leave as it happens" 'leave node=2' "$(on 1 'cat /tmp/follow')"
check_match "... and so does cluster events -f" 'leave node=2' "$(on 1 'cat /tmp/follow-nl')"
on 1 'kill $(cat /tmp/follow.pid) $(cat /tmp/follow-nl.pid)'
check_eq "rmmod on node 2: node 1 marks it left" left "$(state_of 2 1)"
check_eq "poll on events times out when nothing happens" timeout "$(on 1 'vproc-polltest /proc/cluster/events 1500')"
on 1 'vproc-polltest /proc/cluster/events 15000 > /tmp/poll 2>&1 & echo $! > /tmp/poll.pid'
sleep 1
on 1 'echo 2500 > /proc/cluster/admin/timeout_ms; echo -n '"$key"' > /proc/cluster/admin/key'
on 1 'i=0; while [ $i -lt 50 ] && kill -0 $(cat /tmp/poll.pid) 2>/dev/null; do sleep 0.1; i=$((i+1)); done'
check_match "poll on events wakes up for a new event, which read returns" "^ready" "$(on 1 'cat /tmp/poll')"
check_match "... the event itself" "key node=1 cluster key changed" "$(on 1 'cat /tmp/poll')"
check_eq "... and node 3 too" left "$(state_of 2 3)"
check "insmod on node 2 again" on 2 "insmod /lib/modules/vproc.ko node=2 peers=$peers key=$key"
check "node 2 rejoins" wait_up 2 1 15

# --- a wrong key is refused, and logged; the right key set later admits it
# (a well-formed key, 128 bits, that is not the cluster's: 10-key.sh has
# the malformed ones)
on 2 'rmmod vproc'
check "insmod node 2 with a wrong key" on 2 "insmod /lib/modules/vproc.ko node=2 peers=$peers key=0123456789abcdef0123456789abcdef"
sleep 3
check_match "node 1 refuses it (events)" 'refused node=0 bad MAC in handshake' "$(on 1 'cat /proc/cluster/events')"
check_match "node 1 logs it" 'vproc: .*bad MAC' "$(on 1 dmesg)"
check_eq "node 1 does not list node 2 up" left "$(state_of 2 1)"
check_eq "node 2 sees nobody up" joining "$(state_of 1 2)"
check_fails "the key cannot be read back" on 2 'cat /proc/cluster/admin/key'
check_fails "the key is not in sysfs" on 2 'ls /sys/module/vproc/parameters/key'
check_fails "a non-root user cannot set the key" on 2 "su user -c 'echo $key > /proc/cluster/admin/key'"
check_fails "a non-root user cannot even list admin/" on 2 "su user -c 'ls /proc/cluster/admin'"
check "root sets the right key on node 2" on 2 "echo -n $key > /proc/cluster/admin/key"
check "node 2 joins with it" wait_up 2 1 15
check_match "key change is an event" 'key node=2' "$(on 2 'cat /proc/cluster/events')"

# --- kill 2: a hard power-off is noticed
"$CLUSTER" kill 2
check "node 1 marks a killed node 2 down" wait_down 2 1 6
check "node 3 marks it down" wait_down 2 3 6

# --- a node booted later joins the running cluster (hot add)
check "boot node 4 (and node 2 again)" env VPROC_NO_BUILD=1 "$CLUSTER" up --nodes 4
check "node 1 sees node 4 up" wait_up 4 1 20
check "node 3 sees node 4 up" wait_up 4 3 20
check "node 4 sees node 1 up" wait_up 1 4 20
check "node 1 sees the rebooted node 2 up" wait_up 2 1 20
check "node 1 created node4/" on 1 'test -r /proc/cluster/node4/load'
check_match "node 1 learned node 4's address" '^ +4 +10\.77\.0\.4:7300 +up' "$(on 1 'cat /proc/cluster/nodes')"
"$CLUSTER" kill 4

# --- the same node number twice is refused
check "node 3 claims to be node 1 (rmmod, insmod node=1)" on 3 "rmmod vproc && insmod /lib/modules/vproc.ko node=1 peers=$peers key=$key"
sleep 3
check_match "node 2 refuses a second node 1" 'refused node=1 node already up' "$(on 2 'cat /proc/cluster/events')"
check_eq "node 2 still has the real node 1 up" up "$(state_of 1 2)"
check "node 3 back as itself" on 3 "rmmod vproc && insmod /lib/modules/vproc.ko node=3 peers=$peers key=$key"
check "node 1 sees node 3 up again" wait_up 3 1 15

# --- garbage, oversized and truncated frames drop the connection only
# (byte 0 of a frame: its version, wire::VERSION, read from the source so
# that a new version does not make these frames all "unknown version")
V=$(sed -n 's/^pub const VERSION: u8 = \([0-9]*\);$/\1/p' "$here/../src/logic/wire.rs")
V=$(printf '\\%03o' "${V:?wire::VERSION not found}")
nc_send() { on 2 "printf '$1' | nc -w 3 10.77.0.1 7300 >/dev/null 2>&1; true"; }
nc_send 'GET / HTTP/1.0\r\n\r\nthis is not vproc at all'
nc_send "$V"'\001\000\000\377\377\377\377\000\000\000\000\000\000\000\000'
nc_send "$V"'\001\000\000\000\000\001\000\000\000\000\000\000\000\000\000truncated'
nc_send '\007\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
nc_send "$V"'\377\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
on 2 'head -c 300000 /dev/urandom | nc -w 3 10.77.0.1 7300 >/dev/null 2>&1; true'
sleep 1
log=$(on 1 dmesg)
check_match "an oversized frame is logged" 'oversized frame' "$log"
check_match "an unknown version is logged" 'unknown protocol version' "$log"
check_match "an unknown type is logged" 'unknown message type' "$log"
check "node 1's module still lists its nodes" on 1 'cat /proc/cluster/nodes'
check_eq "node 2 is still up on node 1" up "$(state_of 2 1)"
check_eq "node 3 is still up on node 1" up "$(state_of 3 1)"

# --- admin: add and remove a peer at run time, tunables
check "remove node 3 on node 1" on 1 'echo 3 > /proc/cluster/admin/remove'
check_fails "node3/ is gone" on 1 'test -e /proc/cluster/node3'
check_match "removed is an event" 'removed node=3' "$(on 1 'cat /proc/cluster/events')"
check "add it back" on 1 'echo 3@10.77.0.3:7300 > /proc/cluster/admin/add'
check "node 1 sees node 3 up after the add" wait_up 3 1 15
check_fails "add of a malformed peer fails" on 1 'echo 3@10.77.0:7300 > /proc/cluster/admin/add'
check_fails "add of an existing peer fails" on 1 'echo 2@10.77.0.2:7300 > /proc/cluster/admin/add'
check_fails "remove of node 0 fails" on 1 'echo 0 > /proc/cluster/admin/remove'
check_fails "remove of a non-number fails" on 1 'echo x > /proc/cluster/admin/remove'
check_fails "remove of self fails" on 1 'echo 1 > /proc/cluster/admin/remove'
check_fails "a heartbeat too close to the timeout is refused" on 1 'echo 2000 > /proc/cluster/admin/heartbeat_ms'
check_fails "a non-numeric timeout is refused" on 1 'echo soon > /proc/cluster/admin/timeout_ms'
check_match "... and logged" 'admin/timeout_ms: expected a number 100..60000' "$(on 1 'dmesg | tail -3')"
check "timeout can be raised" on 1 'echo 4000 > /proc/cluster/admin/timeout_ms'
check_eq "... and reads back" 4000 "$(on 1 'cat /proc/cluster/admin/timeout_ms')"
check "and lowered again" on 1 'echo 2500 > /proc/cluster/admin/timeout_ms'
check_fails "a huge write is refused" on 1 'head -c 10000 /dev/zero | tr "\0" 1 > /proc/cluster/admin/timeout_ms'

# --- the in-kernel transport moves data (bench interface)
check "stream 4 MiB from node 1 to node 3" on 1 'echo "3 4194304" > /proc/cluster/admin/bench'
check_match "... and report it" '^node 3 bytes 4194304 ns [0-9]+ rtt_ns [0-9]+$' "$(on 1 'cat /proc/cluster/admin/bench')"
# A bulk sender writes its frames itself (no copy, no hop to the sender
# thread); one a signal interrupts mid-frame leaves the rest to the sender
# thread: every byte still arrives, in order, and the connection stays.
cut0=$(on 1 "sed -n 's/^direct_cut //p' /proc/cluster/transport")
sig=$(on 1 'rm -f /tmp/sig.ready; sh -c "trap : USR1; : > /tmp/sig.ready; echo \"3 33554432\" > /proc/cluster/admin/bench && echo streamed" > /tmp/sig.out 2>&1 & p=$!
  while [ ! -e /tmp/sig.ready ]; do sleep 0.01; done
  n=0; while kill -0 $p 2>/dev/null; do kill -USR1 $p 2>/dev/null; n=$((n+1)); sleep 0.01; done
  wait $p; echo "rc $? signals $n"; cat /tmp/sig.out')
check_match "a stream whose writer gets a signal every 10 ms delivers all 32 MiB" '^rc 0 signals [0-9]+' "$sig"
check_match "... its write ends well" '^streamed$' "$sig"
cut1=$(on 1 "sed -n 's/^direct_cut //p' /proc/cluster/transport")
check "... signals cut frames short (direct_cut $cut0 -> $cut1): their rest went on" test "$cut1" -gt "$cut0"
check_match "... node 3 confirmed every byte, on the same connection" '^node 3 bytes 33554432 ns' "$(on 1 'cat /proc/cluster/admin/bench')"
check_eq "... which no send failure ended" 0 "$(on 1 'dmesg | grep -c "send failed"')"
check_fails "bench to a node that is not up fails" on 1 'echo "9 100" > /proc/cluster/admin/bench'
check_fails "bench with one number fails" on 1 'echo "3" > /proc/cluster/admin/bench'
check_match "... and is logged" 'admin/bench: write "NODE BYTES"' "$(on 1 'dmesg | tail -3')"
check "admin/bench times the kernel's MACs and AEADs" on 1 'echo crypto > /proc/cluster/admin/bench'
bench=$(on 1 'cat /proc/cluster/admin/bench')
check_match "... HMAC-SHA256 as the handshake does it among them" '^crypto [0-9]+ MB/s hmac-sha256 \(key each frame' "$bench"
check_match "... and Poly1305 as the transport MACs a session frame" '^crypto [0-9]+ MB/s poly1305, key by hmac-sha256 each frame' "$bench"
check_match "the module checked HMAC-SHA256 and Poly1305 against known answers at load" 'HMAC-SHA256 and Poly1305 self-tests ok' "$(on 1 'dmesg')"
