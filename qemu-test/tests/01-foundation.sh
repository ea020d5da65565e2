# Foundation: the cluster contract and the module skeleton.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

tmp=$(mktemp -d)

# --- the module is loaded everywhere and shows /proc/cluster
for i in $(seq 1 "$NODES"); do
    check_match "node $i: vproc is loaded" '^vproc ' "$(on "$i" 'cat /proc/modules')"
    check_eq "node $i: /proc/cluster/this_node is $i" "$i" "$(on "$i" 'cat /proc/cluster/this_node')"
    check_eq "node $i: /proc/cluster/peers lists $NODES nodes" \
        "1 10.77.0.1:7300|2 10.77.0.2:7300|3 10.77.0.3:7300" \
        "$(on "$i" 'cat /proc/cluster/peers' | paste -sd'|')"
done

# --- cluster sh: status, stdout and stderr come back separately
"$CLUSTER" sh 1 'echo out; echo err >&2; exit 7' >"$tmp/out" 2>"$tmp/err"
check_eq "sh returns the command's exit status" 7 "$?"
check_eq "sh returns stdout" out "$(cat "$tmp/out")"
check_eq "sh returns stderr" err "$(cat "$tmp/err")"
check_eq "sh runs as root" 0 "$(on 2 'id -u')"
check_eq "sh runs on the node it names" node3 "$(on 3 hostname)"
check_eq "a signal death is 128+signal" 137 "$("$CLUSTER" sh 1 'kill -9 $$' >/dev/null 2>&1; echo $?)"
big=$(on 1 'head -c 3000000 /dev/zero | tr "\0" x' | wc -c)
check_eq "sh carries 3 MB of output intact" 3000000 "$big"

# --- cluster put keeps contents and mode
head -c 100000 /dev/urandom >"$tmp/blob"; chmod 0751 "$tmp/blob"
check "put copies a file" "$CLUSTER" put 2 "$tmp/blob" /tmp/sub/blob
check_eq "put keeps the mode" 751 "$(on 2 'stat -c %a /tmp/sub/blob')"
check_eq "put keeps the contents" "$(md5sum <"$tmp/blob" | cut -d' ' -f1)" "$(on 2 'md5sum </tmp/sub/blob' | cut -d' ' -f1)"

# --- cluster: bad input is refused with a message and a non-zero status
"$CLUSTER" sh 9 true >"$tmp/out" 2>&1; rc=$?
check_match "sh on a node that does not exist fails" '^[1-9]' "$rc"
check_match "... and says which nodes exist" 'no node 9.*1\.\.3' "$(cat "$tmp/out")"
check_fails "sh with a non-numeric node fails" "$CLUSTER" sh x true
check_fails "an unknown subcommand fails" "$CLUSTER" frobnicate
check_fails "put of a missing file fails" "$CLUSTER" put 1 "$tmp/does-not-exist" /tmp/x
check_fails "sh without a command fails" "$CLUSTER" sh 1

# --- the network: nodes reach each other; cut and heal work
check "node 1 reaches node 3" on 1 'ping -c 1 -W 2 10.77.0.3'
check "cut 3" "$CLUSTER" cut 3
check_fails "node 1 cannot reach a cut node 3" on 1 'ping -c 1 -W 1 10.77.0.3'
check "heal 3" "$CLUSTER" heal 3
check "node 1 reaches node 3 again" on 1 'ping -c 2 -W 2 10.77.0.3 || ping -c 2 -W 2 10.77.0.3'

# --- the real procps ps runs in the guests
check_match "procps ps lists init" '^ *1 .*init' "$(on 1 'ps -e -o pid,comm')"
check_match "ps is procps, not busybox" 'procps' "$(on 1 'ps --version')"

# --- rmmod and insmod again
peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300
key=$CLUSTER_KEY
check "rmmod vproc on node 2" on 2 'rmmod vproc'
check_fails "/proc/cluster is gone after rmmod" on 2 'test -e /proc/cluster'
check "insmod again on node 2" on 2 "insmod /lib/modules/vproc.ko node=2 peers=$peers key=$key"
check_eq "node 2 is back" 2 "$(on 2 'cat /proc/cluster/this_node')"
check "rmmod/insmod 5 times in a row" on 2 "for k in 1 2 3 4 5; do rmmod vproc && insmod /lib/modules/vproc.ko node=2 peers=$peers key=$key || exit 1; done"

# --- bad module parameters: insmod fails with EINVAL and the log names it
check "rmmod before the bad-parameter tests" on 3 'rmmod vproc'
bad_param() { # DESC ARGS LOGREGEX
    local out
    out=$(on 3 "insmod /lib/modules/vproc.ko $2 2>&1; echo rc=\$?")
    check_match "insmod $1 fails with EINVAL" 'Invalid (parameters|argument)' "$out"
    check_match "... and the log names the parameter" "$3" "$(on 3 'dmesg | tail -5')"
    check_fails "... and leaves no /proc/cluster" on 3 'test -e /proc/cluster'
}
bad_param "node=0" "node=0 peers=$peers" 'vproc: invalid parameter node=0'
bad_param "node=99" "node=99 peers=$peers" 'vproc: invalid parameter node=99'
bad_param "without node=" "peers=$peers" 'vproc: invalid parameter node=0'
bad_param "node=-1" "node=-1" "vproc: .*node|invalid.*node"
bad_param "peers with a bad address" "node=3 peers=1@10.77.0:7300" 'vproc: invalid parameter peers: address'
bad_param "peers with node 64" "node=3 peers=64@10.77.0.1:7300" 'vproc: invalid parameter peers: node number'
bad_param "peers with a duplicate node" "node=3 peers=1@1.2.3.4:1,1@1.2.3.4:2" 'vproc: invalid parameter peers: node listed twice'
bad_param "peers with port 0" "node=3 peers=1@1.2.3.4:0" 'vproc: invalid parameter peers: port'
bad_param "peers with garbage" "node=3 peers=garbage" 'vproc: invalid parameter peers'
check "a good insmod still works afterwards" on 3 "insmod /lib/modules/vproc.ko node=3 peers=$peers key=$key"

# --- a second cluster runs side by side with this one
side="side-$$"
check "a second cluster boots beside this one" env VPROC_CLUSTER=$side VPROC_NO_BUILD=1 "$CLUSTER" up --nodes 1
check_eq "... its node answers" node1 "$(VPROC_CLUSTER=$side "$CLUSTER" sh 1 hostname)"
check_eq "... and this cluster's node 1 still does" 1 "$(on 1 'cat /proc/cluster/this_node')"
check "... and it goes down alone" env VPROC_CLUSTER=$side "$CLUSTER" down
check "this cluster is unaffected" on 2 true

# --- kill: a hard power-off, and the node can be booted again
check "kill 3" "$CLUSTER" kill 3
check_match "status shows node 3 stopped" 'node 3: stopped' "$("$CLUSTER" status)"
check_fails "sh on a killed node fails" "$CLUSTER" sh 3 true
check "up boots the missing node again" env VPROC_NO_BUILD=1 "$CLUSTER" up --nodes "$NODES"
check_eq "node 3 is back with the module" 3 "$(on 3 'cat /proc/cluster/this_node')"

rm -rf "$tmp"
