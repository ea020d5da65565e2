# Automatic load leveling: busy nodes shed processes by themselves.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.
#
# vproc-spin (qemu-test/progs/) is a CPU-bound job: a fixed amount of work.

werr() { on "$1" "echo '$3' > $2 2>/tmp/werr && echo ok || sed 's/.*: //' /tmp/werr"; }
# where PIDFILE: on which node each process of PIDFILE (node 1) runs, as
# "count node" pairs, e.g. "3 1 3 2 3 3".
where() { on 1 "for p in \$(cat $1); do cat /proc/\$p/where 2>/dev/null || echo gone; done | sort | uniq -c | tr -s ' \n' '  ' | sed 's/^ //; s/ \$//'"; }
# spread PIDFILE: jobs per node 1..3 ("3 3 3").
spread() { on 1 "for n in 1 2 3; do c=0; for p in \$(cat $1); do [ \"\$(cat /proc/\$p/where 2>/dev/null)\" = \$n ] && c=\$((c+1)); done; printf '%s ' \$c; done"; }

check_eq "the leveller's tunables are there" \
    "balance_cooldown_ms balance_interval_ms balance_margin_pct balance_max_migs balance_mem_low_pct balance_min_age_ms balance_use_speed" \
    "$(on 1 'cd /proc/cluster/admin; echo balance_*')"
check_eq "balance_interval_ms 50 is refused (EINVAL)" "Invalid argument" "$(werr 1 /proc/cluster/admin/balance_interval_ms 50)"
check_eq "balance_margin_pct x is refused (EINVAL)" "Invalid argument" "$(werr 1 /proc/cluster/admin/balance_margin_pct x)"
check_match "a user cannot change them" "Permission denied|Operation not permitted" \
    "$(on 1 "su user -c 'echo 100 > /proc/cluster/admin/balance_margin_pct' 2>&1")"

# --- 9 CPU-bound jobs (loadlevel 1) on node 1, plus 2 with loadlevel 0.
on 1 "rm -f /tmp/spin.pids /tmp/pinned.pids
      sh -c 'echo 1 > /proc/\$\$/loadlevel; for i in 1 2 3 4 5 6 7 8 9; do vproc-spin 100000 > /dev/null 2>&1 & echo \$! >> /tmp/spin.pids; done'
      sh -c 'for i in 1 2; do vproc-spin 100000 > /dev/null 2>&1 & echo \$! >> /tmp/pinned.pids; done'"
check_eq "the jobs inherit loadlevel 1" 1 "$(on 1 'cat /proc/$(head -1 /tmp/spin.pids)/loadlevel')"
check_eq "... the others keep 0" 0 "$(on 1 'cat /proc/$(head -1 /tmp/pinned.pids)/loadlevel')"
# balanced S1 S2 S3: the nodes' loads (node 1 also runs the 2 pinned jobs:
# 11 CPU-bound processes in all) within 2 of each other, each of nodes 2 and
# 3 given at least 2 jobs. 3/3/3 (loads 5 3 3) and 1/4/4 (3 4 4) both are.
balanced() {
    local l1=$(($1 + 2)) l2=$2 l3=$3 max min
    max=$l1; min=$l1
    for l in $l2 $l3; do [ "$l" -gt "$max" ] && max=$l; [ "$l" -lt "$min" ] && min=$l; done
    [ "$2" -ge 2 ] && [ "$3" -ge 2 ] && [ $((max - min)) -le 2 ]
}
s=""
for t in $(seq 1 30); do
    sleep 2
    s=$(spread /tmp/spin.pids)
    balanced $s && break
done
echo "# spread after $((t * 2)) s: $s"
check "9 jobs from node 1 spread over the 3 nodes within 60 s, the loads within 2 (jobs per node: $s)" balanced $s
sleep 6
check_eq "the loadlevel 0 jobs never moved" "2 1" "$(where /tmp/pinned.pids)"
nm=$(on 1 'for p in $(cat /tmp/spin.pids); do cat /proc/$p/nmigs; done | sort -n | tail -1')
check "no job migrated more than twice (max $nm)" test "$nm" -le 2
check_match "events record the leveller's moves with their reason" "balance node=1 pid [0-9]+ -> node [23]: load" \
    "$(on 1 'cat /proc/cluster/events')"
on 1 'kill -9 $(cat /tmp/spin.pids /tmp/pinned.pids) 2>/dev/null'
sleep 2

# --- a node whose loadlevel switch is 0 receives nothing.
on 3 'echo 0 > /proc/cluster/node3/loadlevel'
check_eq "node 3's switch is 0, seen from node 1" 0 "$(on 1 'sleep 1.5; cat /proc/cluster/node3/loadlevel')"
on 1 "rm -f /tmp/spin2.pids; sh -c 'echo 1 > /proc/\$\$/loadlevel; for i in 1 2 3 4 5 6; do vproc-spin 100000 > /dev/null 2>&1 & echo \$! >> /tmp/spin2.pids; done'"
# The leveller balances measured load, which under TCG carries the node's own
# noise (the test's shells run on node 1): 3/3 +-1, as for the 9 jobs above.
for t in $(seq 1 20); do
    sleep 2
    s=$(spread /tmp/spin2.pids)
    [ "$s" = "3 3 0 " ] && break
done
sleep 6
check_match "6 jobs spread 3/3 (+-1) over nodes 1 and 2, none to node 3" "^(3 3|2 4|4 2) 0 $" "$(spread /tmp/spin2.pids)"
check_eq "goto -1 of a job: it is best where it is (nothing better)" ok "$(werr 1 /proc/$(on 1 'head -1 /tmp/spin2.pids')/goto -1)"
on 1 'kill -9 $(cat /tmp/spin2.pids) 2>/dev/null'
on 3 'echo 1 > /proc/cluster/node3/loadlevel'

# --- goto -1 asks the leveller for the best node.
on 1 'vproc-spin 100000 > /dev/null 2>&1 & echo $! > /tmp/one.pid; vproc-spin 100000 > /dev/null 2>&1 & echo $! > /tmp/two.pid'
sleep 3
p=$(on 1 'cat /tmp/one.pid')
check_eq "goto -1 of a busy process on a busy node" ok "$(werr 1 /proc/$p/goto -1)"
check_match "... moves it to an idle node" "^[23]$" "$(on 1 "cat /proc/$p/where")"
on 1 'kill -9 $(cat /tmp/one.pid /tmp/two.pid) 2>/dev/null'

# --- a multi-threaded process: the leveller moves it, weighing its
# threads. Node 1 runs two 2-thread jobs (4 tasks): one with loadlevel 1,
# the other (loadlevel 0) an unmoved run of the same work. The first moves
# (with its 2 tasks the receiver is no busier than node 1 left with 2).
on 1 "rm -f /tmp/mt.out /tmp/ref.out
      vproc-spin 6000 2 > /tmp/ref.out 2>&1 & echo \$! > /tmp/ref.pid
      sh -c 'echo 1 > /proc/\$\$/loadlevel; exec vproc-spin 6000 2 > /tmp/mt.out 2>&1' & echo \$! > /tmp/mt.pid"
mt=$(on 1 'cat /tmp/mt.pid')
w=1
for t in $(seq 1 30); do
    sleep 1
    w=$(on 1 "cat /proc/$mt/where 2>/dev/null")
    [ -n "$w" ] && [ "$w" != 1 ] && break
done
check_match "a busy 2-thread process on a busy node is moved by the leveller (after $t s)" "^[23]$" "$w"
check_match "... the event says so, for load" "balance node=1 pid $mt -> node [23]: load" "$(on 1 'cat /proc/cluster/events')"
check_eq "... both its threads run there" 2 "$(on "${w:-1}" "ls /proc/$mt/task 2>/dev/null | wc -l")"
on 1 'for i in $(seq 150); do [ -s /tmp/mt.out ] && [ -s /tmp/ref.out ] && break; sleep 1; done'
ref=$(on 1 "awk '{print \$4}' /tmp/ref.out")
check_match "... the unmoved run finished" "^[0-9a-f]{16}$" "$ref"
check_eq "... and the moved one's result equals it" "$ref" "$(on 1 "awk '{print \$4}' /tmp/mt.out")"
on 1 'kill -9 $(cat /tmp/mt.pid /tmp/ref.pid) 2>/dev/null'

# --- memory ushering: node 1 short of memory sends a job away.
on 1 'vproc-mtest -m 560 -t 100000 -q > /dev/null 2>&1 & echo $! > /tmp/hog.pid'
on 1 'p=$(cat /tmp/hog.pid); for i in $(seq 60); do r=$(awk "/VmRSS/ {print \$2}" /proc/$p/status); [ "$r" -gt 560000 ] && break; sleep 0.5; done'
on 1 "sh -c 'echo 1 > /proc/\$\$/loadlevel; vproc-spin 100000 > /dev/null 2>&1 & echo \$! > /tmp/ush.pid'"
up=$(on 1 'cat /tmp/ush.pid')
on 1 'echo 50 > /proc/cluster/admin/balance_mem_low_pct'
for t in $(seq 1 15); do
    sleep 2
    [ "$(on 1 "cat /proc/$up/where")" != 1 ] && break
done
check_match "a node short of memory ushers a job away" "^[23]$" "$(on 1 "cat /proc/$up/where")"
check_match "... and says why" "balance node=1 pid $up -> node [23]: memory" "$(on 1 'cat /proc/cluster/events')"
on 1 'echo 10 > /proc/cluster/admin/balance_mem_low_pct'
on 1 "kill -9 $up \$(cat /tmp/hog.pid)"
