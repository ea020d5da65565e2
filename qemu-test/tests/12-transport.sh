# The transport under attack: a slow-handshake flood must not cut a node
# off from its peers, and a second node claiming a number that is up is
# refused and reported.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300
key=$CLUSTER_KEY

# tstat NODE NAME: a counter of NODE's /proc/cluster/transport.
tstat() { on "$1" "awk '\$1 == \"$2\" { print \$2 }' /proc/cluster/transport"; }

for i in 1 2 3; do check "node 1 sees node $i up" wait_up $i 1 20; done
tr=$(on 1 'cat /proc/cluster/transport')
check_match "transport shows the handshake deadline" '^handshake_deadline_ms 5000$' "$tr"
check_match "transport shows the cap on unauthenticated connections" '^unauth_max [0-9]+$' "$tr"
check_match "transport shows the per-source limit" '^unauth_per_source_max [0-9]+$' "$tr"
check_match "transport shows each up node's send queue" '^node 2 txq_bytes [0-9]+ txq_items [0-9]+ pending [0-9]+$' "$tr"
check_eq "no connection refused yet" 0 "$(tstat 1 accept_refused_source)"
per=$(tstat 1 unauth_per_source_max)

# --- (a) slow-handshake flood: node 3 keeps 150 connections to node 1's
# port, each sending a byte every 1.9 s; closed ones are reopened.
on 3 'rm -f /tmp/slowhs.out; (vproc-slowhs 10.77.0.1 7300 150 1900 45 > /tmp/slowhs.out 2>&1 &)'
sleep 4
u=$(tstat 1 unauth)
check_match "during the flood node 1 handshakes with at most $per from one address (has $u)" "^[0-$per]\$" "$u"
check_match "... and refuses the rest at once (accept_refused_source > 0)" '^[1-9][0-9]*$' "$(tstat 1 accept_refused_source)"

# Node 2 is cut and healed during the flood: node 1 must see it up again.
"$CLUSTER" cut 2
check "during the flood node 1 marks a cut node 2 down" wait_down 2 1 10
"$CLUSTER" heal 2
t0=$(date +%s)
check "during the flood node 1 sees node 2 up again after the heal" wait_up 2 1 20
check "... and node 2 sees node 1 up" wait_up 1 2 20
echo "# node 2 up again $(( $(date +%s) - t0 )) s after the heal"

# A move and a remote ps between the nodes still work during the flood.
p=$(on 1 'vproc-spin 100000000 >/dev/null 2>&1 & echo $!')
check_eq "during the flood a process moves from node 1 to node 2" ok "$(on 1 "echo 2 > /proc/$p/goto && echo ok")"
check_eq "... it runs on node 2" 2 "$(on 1 "cat /proc/$p/where")"
check_eq "... ps on node 2 lists it once" 1 "$(on 2 "ps -e -o pid= | grep -cx ' *$p'")"
check_eq "... ps at home lists it once" 1 "$(on 1 "ps -e -o pid= | grep -cx ' *$p'")"
on 1 "kill -9 $p" >/dev/null 2>&1
on 1 "for i in \$(seq 50); do [ -d /proc/$p ] || break; sleep 0.2; done"

# Until the flood ends (45 s), node 1's oldest unauthenticated connection
# never passes the 5 s deadline by more than a manager tick or so.
oldest=0
for i in $(seq 120); do
    o=$(tstat 1 unauth_oldest_ms)
    [ "${o:-0}" -gt "$oldest" ] && oldest=$o
    [ -n "$(on 3 'cat /tmp/slowhs.out')" ] && break
    sleep 0.3
done
check "during the flood node 1's oldest handshake was ${oldest} ms old (trickling ones seen)" test "$oldest" -ge 2000
check "... and never past the 5 s deadline (+1 s)" test "$oldest" -le 6000
out=$(on 3 'cat /tmp/slowhs.out')
echo "# $out"
check_match "the flood ran (connections made and closed by node 1)" '^slowhs opened [0-9]+ closed [1-9][0-9]* ' "$out"
check_match "no flood connection lived past 30 s as the client sees it (the deadline plus a full accept queue)" ' long_lived 0$' "$out"
check_match "node 1 closed handshakes at the deadline (handshake_deadline_closed > 0)" '^[1-9][0-9]*$' "$(tstat 1 handshake_deadline_closed)"
check_match "node 1 counted the refusals" '^[1-9][0-9]*$' "$(tstat 1 accept_refused_source)"
sleep 6
check_eq "after the flood no unauthenticated connection is left" 0 "$(tstat 1 unauth)"
check_match "node 1's log says why it closed them (rate-limited)" 'too many unauthenticated connections from one address' "$("$CLUSTER" log 1)"
for i in 2 3; do check "after the flood node 1 sees node $i up" wait_up $i 1 20; done

# --- (b) a second node claims node 2's number while node 2 is up: node 3
# reloads its module as node=2. Node 1 refuses it after the key proof and
# reports a duplicate.
d0=$(tstat 1 duplicate_refused)
check "node 3 claims to be node 2 (rmmod, insmod node=2)" on 3 "rmmod vproc && insmod /lib/modules/vproc.ko node=2 peers=$peers key=$key"
for i in $(seq 40); do
    ev1=$(on 1 'cat /proc/cluster/events')
    grep -q 'duplicate node=2 claimed from 10.77.0.3' <<< "$ev1" && break
    sleep 0.5
done
check_match "node 1 reports a duplicate node 2 (event)" 'duplicate node=2 claimed from 10\.77\.0\.3 while up from 10\.77\.0\.2' "$ev1"
check_match "node 1 still refuses it as already up (event)" 'refused node=2 node already up from 10\.77\.0\.3' "$ev1"
d1=$(tstat 1 duplicate_refused)
check "node 1 counted it (duplicate_refused $d0 -> $d1)" test "${d1:-0}" -gt "${d0:-0}"
check_match "node 1's log warns of two nodes with one number" 'node 2 claimed from 10\.77\.0\.3 while up from 10\.77\.0\.2: refused' "$("$CLUSTER" log 1)"
check_eq "node 1 still has the real node 2 up" up "$(state_of 2 1)"
check_eq "node 2 still has node 1 up" up "$(state_of 1 2)"
check_match "node 1 still reaches node 2 (its load vector keeps arriving)" '^ +2 +10\.77\.0\.2:7300 +up .* [0-2]\.[0-9]$' "$(on 1 'cat /proc/cluster/nodes')"
q=$(on 2 'vproc-spin 100000000 >/dev/null 2>&1 & echo $!')
check_eq "node 1's ps lists a process of the real node 2" 1 "$(on 1 "ps -e -o pid= | grep -cx ' *$q'")"
on 2 "kill -9 $q" >/dev/null 2>&1
check "node 3 back as itself" on 3 "rmmod vproc && insmod /lib/modules/vproc.ko node=3 peers=$peers key=$key"
check "node 1 sees node 3 up again" wait_up 3 1 20
check "node 2 sees node 3 up again" wait_up 3 2 20
check_eq "node 2 is still up at node 1" up "$(state_of 2 1)"

# --- a key holder at node 3's address claims node 2's own number to node
# 2 (the fake peer of 05-peer.sh): refused after the proof, reported.
hs=$(on 3 "vproc-peertest 10.77.0.2 7300 2 2 $key good 2>&1; echo status \$?")
check_match "node 2 refuses a peer claiming its own number after the proof" 'not welcomed' "$hs"
check_match "... the claimer failed" 'status 1$' "$hs"
check_match "node 2 reports its own number claimed (event)" 'duplicate node=2 our own number claimed from 10\.77\.0\.3' "$(on 2 'cat /proc/cluster/events')"
check_match "... and counts it" '^[1-9][0-9]*$' "$(tstat 2 duplicate_refused)"
check_eq "node 2 is still up at node 3" up "$(state_of 2 3)"
