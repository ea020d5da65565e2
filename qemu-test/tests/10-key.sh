# The cluster key: its format is enforced at insmod and at admin/key, the
# right key admits a node and a wrong one (or another cluster's name) does
# not, the key shows nowhere once loaded, and `cluster key new` makes keys.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300
key=$CLUSTER_KEY
# Well-formed (64 hex digits) but not this cluster's key.
wrong=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210

# load3 ARGS: rmmod on node 3 (if loaded), then insmod with ARGS.
load3() { on 3 "rmmod vproc 2>/dev/null; insmod /lib/modules/vproc.ko node=3 peers=$peers $1"; }

# --- nodes loaded with the right key are up
for i in 1 2 3; do
    for j in 1 2 3; do
        [ $i = $j ] || check "node $i sees node $j up" wait_up $j $i 20
    done
done

# count_events NODE PATTERN: how many of NODE's kept events match.
count_events() { on "$1" "grep -c '$2' /proc/cluster/events"; }

# --- a short or malformed key at admin/key: EINVAL, logged, key unchanged
key_events=$(count_events 1 'key node=1')
# kerr TEXT: write TEXT to node 1's admin/key; "ok" or the error's text.
kerr() { on 1 "echo -n '$1' > /proc/cluster/admin/key 2>/tmp/kerr && echo ok || sed 's/.*: //' /tmp/kerr"; }
check_eq "admin/key refuses 12 hex digits with EINVAL" "Invalid argument" "$(kerr deadbeefcafe)"
check_match "... with a log line that says why" \
    'vproc: admin/key: invalid key: too short: 12 hex digits, at least 32 \(128 bits\)' "$(on 1 'dmesg | tail -3')"
check_eq "admin/key refuses a non-hex digit with EINVAL" "Invalid argument" "$(kerr 0123456789abcdef0123456789abcdeX)"
check_match "... logged with its offset" 'vproc: admin/key: invalid key: not a hex digit at offset 31' "$(on 1 'dmesg | tail -3')"
check_eq "admin/key refuses an odd number of digits" "Invalid argument" "$(kerr 0123456789abcdef0123456789abcdef0)"
check_eq "admin/key refuses an empty line" "Invalid argument" \
    "$(on 1 'echo > /proc/cluster/admin/key 2>/tmp/kerr && echo ok || sed "s/.*: //" /tmp/kerr')"
check_eq "a refused key is no key change (no event)" "$key_events" "$(count_events 1 'key node=1')"
check_fails "the refused key is not in the log" on 1 'dmesg | grep -e deadbeefcafe -e 0123456789abcdef'

# --- a short key at insmod: EINVAL, logged without the key, no module left
out=$(load3 "key=deadbeefcafe" 2>&1; echo rc=$?)
check_match "insmod with a 12-digit key fails with EINVAL" 'Invalid (parameters|argument)' "$out"
check_match "... and the log says why" \
    'vproc: invalid parameter key: too short: 12 hex digits, at least 32 \(128 bits\) needed' "$(on 3 'dmesg | tail -5')"
check_fails "... without the key" on 3 'dmesg | grep deadbeefcafe'
check_fails "... and leaves no module" on 3 'test -e /proc/cluster'
out=$(on 3 "insmod /lib/modules/vproc.ko node=3 peers=$peers key=${key}zz 2>&1; echo rc=\$?")
check_match "insmod with a non-hex key fails with EINVAL" 'Invalid (parameters|argument)' "$out"
check_match "... logged with its offset" 'vproc: invalid parameter key: not a hex digit at offset 64' "$(on 3 'dmesg | tail -5')"
out=$(on 3 "insmod /lib/modules/vproc.ko node=3 peers=$peers key=$key cluster=a/b 2>&1; echo rc=\$?")
check_match "insmod with a bad cluster name fails with EINVAL" 'Invalid (parameters|argument)' "$out"
check_match "... logged" "vproc: invalid parameter cluster: character at offset 1" "$(on 3 'dmesg | tail -5')"
check "insmod with the right key works afterwards" on 3 "insmod /lib/modules/vproc.ko node=3 peers=$peers key=$key"
check "node 3 rejoins: node 1 sees it up" wait_up 3 1 20
check "... node 3 sees node 2 up" wait_up 2 3 20

# --- a wrong key of the right length does not connect
bad_macs=$(count_events 1 'refused node=0 bad MAC in handshake')
check "insmod node 3 with a wrong 64-digit key" load3 "key=$wrong"
sleep 4
check_eq "node 1 does not list node 3 up" left "$(state_of 3 1)"
check_eq "node 3 sees node 1 as joining" joining "$(state_of 1 3)"
n=$(count_events 1 'refused node=0 bad MAC in handshake')
[ "$n" -gt "$bad_macs" ] && pass "node 1 refused it (events: bad MAC in handshake)" \
    || fail "node 1 refused it (events: $bad_macs bad MACs before, $n after)"

# --- the right key under another cluster name (another salt) neither
check "insmod node 3 with the right key but cluster=other" load3 "key=$key cluster=other"
sleep 4
check_eq "node 1 does not list it up" left "$(state_of 3 1)"
check_eq "the cluster name is public (sysfs)" other "$(on 3 'cat /sys/module/vproc/parameters/cluster')"
check "node 3 back with the right key and name" load3 "key=$key"
check "node 1 sees node 3 up again" wait_up 3 1 20

# --- the key shows nowhere: sysfs, /proc/cluster, /proc/modules, the log
prefix=${key:0:16}
check_fails "no key file under /sys/module/vproc/parameters" on 3 'ls /sys/module/vproc/parameters/key'
check_eq "sysfs shows only the public parameters" "cluster fault_call_delay_ms fault_go_delay_ms peers postcopy precopy_rounds" \
    "$(on 3 'ls /sys/module/vproc/parameters | tr "\n" " " | sed "s/ $//"')"
for n in 1 3; do
    check_fails "node $n: the key is in no file of /sys/module/vproc" on $n "grep -rqsi $prefix /sys/module/vproc"
    check_fails "node $n: the key is in no file of /proc/cluster (admin/ too)" on $n "grep -rqsi $prefix /proc/cluster"
    check_fails "node $n: admin/key cannot be read, even by root" on $n 'cat /proc/cluster/admin/key'
    check_fails "node $n: the key is not in /proc/modules" on $n "grep -qi $prefix /proc/modules"
    check_fails "node $n: the key is not in the kernel log" on $n "dmesg | grep -qi $prefix"
done

# --- cluster key new makes keys; a node given a fresh key talks only to
# --- nodes that have it
k1=$(on 1 'cluster key new')
k2=$(on 1 'cluster key new')
check_match "cluster key new prints 64 hex digits" '^[0-9a-f]{64}$' "$k1"
check_match "... every time" '^[0-9a-f]{64}$' "$k2"
[ "$k1" != "$k2" ] && pass "two keys from cluster key new differ" || fail "two keys from cluster key new differ ($k1)"
check_match "cluster key new --help says what a key is worth" 'root on every node' "$(on 1 'cluster key new --help')"
check "node 1 takes the fresh key" on 1 "echo $k1 > /proc/cluster/admin/key"
check_eq "... a key change event" $((key_events + 1)) "$(count_events 1 'key node=1 cluster key changed')"
check_eq "connections made before the change stay up" up "$(state_of 2 1)"
check "node 3 reloaded with the fresh key" load3 "key=$k1"
check "node 1 (fresh key) sees node 3 up" wait_up 3 1 20
sleep 3
check_eq "node 2 (old key) does not" left "$(state_of 3 2)"
# Back to the cluster's key for whatever runs next.
check "node 1 back to the cluster key" on 1 "echo $key > /proc/cluster/admin/key"
check "node 3 back to the cluster key" load3 "key=$key"
check "node 2 sees node 3 up again" wait_up 3 2 20
check "node 1 sees node 3 up again" wait_up 3 1 20
