# The cluster tools (tools/) over the generic netlink API (netlink/vproc.yaml):
# where, migrate, loadlevel, cluster nodes|ps|events|top, runon; their bad
# input; the kernel's extended acks for malformed requests.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

M=vproc-mtest
peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300
key=$CLUSTER_KEY
# run NODE CMD: CMD's stdout and stderr, then "rc=STATUS".
run() { on "$1" "$2 2>&1; echo rc=\$?"; }
rc_of() { sed -n 's/^rc=//p' <<<"$1"; }

for t in where migrate loadlevel runon cluster; do
    out=$(run 1 "$t --help")
    check_match "$t --help explains its usage (exit 0)" "[Uu]sage:.*rc=0" "$(tr '\n' ' ' <<<"$out")"
done

# --- where and migrate, from home, from the node it runs on, from a third.
on 1 "$M -m 4 -t 6000 -q >/dev/null 2>&1 & echo \$! > /tmp/t1.pid"
p=$(on 1 'cat /tmp/t1.pid')
check_eq "where PID prints 'PID NODE'" "$p 1" "$(on 1 "where $p")"
check_eq "migrate PID 2 succeeds quietly" "rc=0" "$(run 1 "migrate $p 2")"
check_eq "where at home says node 2" "$p 2" "$(on 1 "where $p")"
check_eq "where on node 3 says node 2" "$p 2" "$(on 3 "where $p")"
check_eq "/proc/PID/where agrees" 2 "$(on 1 "cat /proc/$p/where")"
json=$(on 3 "where --json $p" | tr -d ' \n')
check_match "where --json: pid" "\"pid\":$p[,}]" "$json"
check_match "where --json: node 2" "\"node\":2[,}]" "$json"
check_match "where --json: home 1" "\"home\":1[,}]" "$json"
check_eq "migrate PID 3 written on node 2, where it runs" "rc=0" "$(run 2 "migrate $p 3")"
check_eq "where at home follows (node 3)" "$p 3" "$(on 1 "where $p")"
check_eq "migrate PID home brings it back" "rc=0" "$(run 1 "migrate $p home")"
check_eq "where says 1 again" "$p 1" "$(on 2 "where $p")"
check_eq "nmigs counted 3 moves" 3 "$(on 1 "cat /proc/$p/nmigs")"
check_eq "migrate PID balance answers (idle cluster: it may stay)" "rc=0" "$(run 1 "migrate $p balance")"
on 1 "migrate $p home" >/dev/null 2>&1
# Asked on a node where the process has no task: its home node does it.
check_eq "migrate PID 2 asked on node 3 (its home moves it)" "rc=0" "$(run 3 "migrate $p 2")"
check_eq "... it runs on node 2" "$p 2" "$(on 1 "where $p")"
check_eq "loadlevel -p PID on asked on node 3" "rc=0" "$(run 3 "loadlevel -p $p on")"
check_eq "... is set where it runs (its leveller reads it there)" 1 "$(on 2 "cat /proc/$p/loadlevel")"
check_eq "loadlevel -p PID off asked at home" "rc=0" "$(run 1 "loadlevel -p $p off")"
check_eq "... is set where it runs too" 0 "$(on 2 "cat /proc/$p/loadlevel")"
out=$(run 3 "su user -c 'migrate $p 3'")
check_match "a user cannot move root's process from a third node either (EPERM)" "not permitted \(not your process.*rc=1" "$(tr '\n' ' ' <<<"$out")"
check_eq "migrate PID home asked on node 3" "rc=0" "$(run 3 "migrate $p home")"
check_eq "... it is home" "$p 1" "$(on 3 "where $p")"
# Just after node 2 moved it on, node 2 still has its old copy, exiting: a
# request there about the PID goes home, which knows where it runs (it
# found the dying copy and answered ESRCH).
for k in 1 2 3; do
    on 1 "migrate $p 2" >/dev/null 2>&1
    check_eq "migrate PID home on node 2, right after node 2 moved it to 3 ($k)" "rc=0 $p 1" \
        "$(on 2 "migrate $p 3 && migrate $p home 2>&1; echo rc=\$? \$(where $p)")"
done
on 1 "sleep 600 >/dev/null 2>&1 & echo \$! > /tmp/t2.pid"
p2=$(on 1 'cat /tmp/t2.pid')
out=$(run 1 "where $p 999999 $p2")
check_match "where with an unknown PID among others: the others are printed" "^$p 1$" "$out"
check_match "... all of them" "^$p2 1$" "$out"
check_match "... the unknown one gets one line on stderr" "999999.*No such process" "$out"
check_eq "... and the exit code is 1" 1 "$(rc_of "$out")"

# --- cluster nodes / ps
out=$(on 2 'cluster nodes')
check_eq "cluster nodes lists 3 nodes up" 3 "$(grep -cw up <<<"$out")"
check_match "cluster nodes marks this node" "^ *2 *\*|^\* *2" "$out"
check_match "cluster nodes --json has each node's id and load" '"id":3.*"loadavg"' "$(on 2 'cluster nodes --json' | tr -d ' \n')"
out=$(on 2 'cluster ps')
check_match "cluster ps on node 2 lists node 1's process with its node and home" "^ *$p +1 +1 .*vproc-mtest" "$out"
check_eq "cluster ps lists it once" 1 "$(grep -c "^ *$p " <<<"$out")"
check_match "cluster ps --json" "\"pid\":$p,.*\"comm\":\"vproc-mtest\"" "$(on 3 'cluster ps --json' | tr -d ' \n')"
check_match "cluster ps lists this node's own processes too (init)" "^ +1 +2 +2 .*init" "$out"
sp=$(on 3 'sleep 30 >/dev/null 2>&1 & echo $!')
check_match "... and node 3's processes" "^ *$sp +3 +3 .*sleep" "$(on 2 'cluster ps')"

# --- loadlevel: this node's switch, then processes'.
check_eq "cluster loadlevel shows this node's switch" on "$(on 2 'cluster loadlevel')"
check_eq "cluster loadlevel off" "rc=0" "$(run 2 'cluster loadlevel off')"
check_eq "... /proc/cluster/node2/loadlevel says 0" 0 "$(on 2 'cat /proc/cluster/node2/loadlevel')"
out=$(run 2 "su user -c 'cluster loadlevel on'")
check_match "a user cannot switch the node (EPERM, exit 1)" "not permitted.*rc=1" "$(tr '\n' ' ' <<<"$out")"
check_eq "cluster loadlevel on" "rc=0" "$(run 2 'cluster loadlevel on')"
check_eq "... it is on again" on "$(on 2 'cluster loadlevel')"
check_eq "loadlevel -p PID shows it off" "$p off" "$(on 1 "loadlevel -p $p")"
check_eq "loadlevel -p PID on" "rc=0" "$(run 1 "loadlevel -p $p on")"
check_eq "/proc/PID/loadlevel is 1" 1 "$(on 1 "cat /proc/$p/loadlevel")"
check_eq "loadlevel -p PID shows on (asked from node 3)" "$p on" "$(on 3 "loadlevel -p $p")"
on 1 "$M -m 1 -t 900 -q >/dev/null 2>&1 & echo \$! > /tmp/t3.pid"
p3=$(on 1 'cat /tmp/t3.pid')
check_eq "loadlevel PROGRAM off (every vproc-mtest)" "rc=0" "$(run 1 "loadlevel $M off")"
check_eq "... the first is off" 0 "$(on 1 "cat /proc/$p/loadlevel")"
check_eq "loadlevel PROGRAM on" "rc=0" "$(run 1 "loadlevel $M on")"
check_eq "... both are on" "1 1" "$(on 1 "echo \$(cat /proc/$p/loadlevel /proc/$p3/loadlevel)")"
out=$(run 1 "loadlevel $M")
check_match "loadlevel PROGRAM lists each with its value" "$p on" "$out"
check_match "... the second too" "$p3 on" "$out"
# lock: the same tool for the other switch; a locked process stays.
check_eq "lock -p PID shows it off" "$p off" "$(on 3 "lock -p $p")"
check_eq "lock -p PID on" "rc=0" "$(run 1 "lock -p $p on")"
check_eq "/proc/PID/lock is 1" 1 "$(on 1 "cat /proc/$p/lock")"
out=$(run 1 "migrate $p 2")
check_match "migrate of a locked process: EBUSY, the kernel says why" "busy.*locked.*rc=1" "$(tr '\n' ' ' <<<"$out")"
check_eq "lock PROGRAM off" "rc=0" "$(run 1 "lock $M off")"
check_eq "... it is off" "$p off" "$(on 2 "lock -p $p")"
out=$(run 1 'loadlevel no-such-prog on')
check_match "loadlevel of a program nobody runs: one line, exit 1" "no process named no-such-prog.*rc=1" "$(tr '\n' ' ' <<<"$out")"
on 1 "loadlevel $M off" >/dev/null 2>&1

# --- cluster events: the log, and -f showing a migration as it happens.
on 1 "rm -f /tmp/ev.out; cluster events -f > /tmp/ev.out 2>&1 & echo \$! > /tmp/ev.pid"
on 1 'for i in $(seq 50); do [ -s /tmp/ev.out ] && break; sleep 0.1; done'
before=$(on 1 'wc -l < /tmp/ev.out')
on 1 "migrate $p 2" >/dev/null 2>&1
on 1 "for i in \$(seq 50); do grep -q 'migrate .*pid $p node 1 -> node 2' /tmp/ev.out && break; sleep 0.1; done"
check_match "cluster events -f shows the migration as it happens" "migrate node=[0-9]+ .*pid $p node 1 -> node 2" "$(on 1 'cat /tmp/ev.out')"
check "... after the history it printed first" test "$before" -gt 0
check_eq "... and no event twice" 0 "$(on 1 "awk '{print \$1}' /tmp/ev.out | sort | uniq -d | wc -l")"
on 1 'kill $(cat /tmp/ev.pid)'
check_match "cluster events lists the log" "migrate node=.*pid $p" "$(on 1 'cluster events')"
check_match "cluster events --json: one object per event" "\"kind\":\"migrate\"" "$(on 1 'cluster events --json' | tr -d ' ')"
check_match "the node it arrived at logged it too" "migrate .*pid $p .*arrived from node 1" "$(on 2 'cluster events')"
out=$(on 3 'cluster top -n 1')
check_match "cluster top -n 1: the nodes" "up" "$out"
check_match "cluster top -n 1: the processes and their node" "$p .*2|vproc-mtest" "$out"
on 1 "migrate $p home" >/dev/null 2>&1

# --- runon: started here, runs there, output and exit status come back.
# Its program's children are born there too, their deputies at home (they
# see home's files, /proc/cluster/this_node included: /proc/self/where says
# where a process runs).
out=$(on 1 "runon 3 sh -c 'echo hello from node \$(cat /proc/self/where) pid \$\$; exit 7'; echo rc=\$?")
check_match "runon 3 CMD: its output reaches the caller" "hello from node 3" "$out"
check_eq "... and its exit status is runon's" 7 "$(rc_of "$out")"
rp=$(sed -n 's/.*pid \([0-9]*\)$/\1/p' <<<"$out")
check "... it ran with a PID of node 1's share (its home)" test "${rp:-0}" -ge 65536 -a "${rp:-0}" -lt 131072
out=$(on 2 "vproc-ptyrun runon 1 sh -c 'test -t 0 && test -t 1 && echo tty yes on \$(cat /proc/self/where)'" | tr -d '\r')
check_match "runon on a terminal: the program has it as its terminal" "tty yes on 1" "$out"
out=$(on 1 "echo piped-in | runon 2 sh -c 'read l; echo got \$l'")
check_match "runon: stdin of the caller reaches it" "got piped-in" "$out"
out=$(run 1 'runon 2 /no/such/program')
check_match "runon of a missing program: exit 127 and one line" "no/such/program.*rc=127" "$(tr '\n' ' ' <<<"$out")"
out=$(run 1 "runon 2 sh -c 'kill -TERM \$\$'")
check_eq "runon of a program killed by SIGTERM: exit 143" 143 "$(rc_of "$out")"
# A process that just ended may be listed for a moment (a zombie, or the
# deputy at home, named runon: it never exec'd there): none may stay.
left() { on 2 "ps -e -o pid=,comm= | awk '\$2 == \"runon\"'"; }
for i in $(seq 50); do [ -z "$(left)" ] && break; sleep 0.1; done
check_eq "runon leaves no process behind" "" "$(left)"

# --- bad input: one line on stderr, a non-zero exit.
out=$(run 1 'where abc')
check_eq "where abc: usage error (exit 2)" 2 "$(rc_of "$out")"
out=$(run 1 'where 999999')
check_match "where of an unknown PID: ESRCH, exit 1" "No such process.*rc=1" "$(tr '\n' ' ' <<<"$out")"
out=$(run 1 "migrate $p 64")
check_match "migrate to node 64: the kernel's extack names the range, exit 1" "range.*rc=1" "$(tr '\n' ' ' <<<"$out")"
out=$(run 1 "migrate $p 9")
check_match "migrate to node 9 (not in the cluster): not up, exit 1" "[Nn]o route to host|not up.*rc=1" "$(tr '\n' ' ' <<<"$out")"
check_eq "... the process stayed" "$p 1" "$(on 1 "where $p")"
out=$(run 1 'migrate 999999 2')
check_match "migrate an unknown PID: ESRCH, exit 1" "No such process.*rc=1" "$(tr '\n' ' ' <<<"$out")"
out=$(run 1 'migrate 9999 2')
check_match "migrate a node-local PID nobody has: ESRCH" "No such process.*rc=1" "$(tr '\n' ' ' <<<"$out")"
check_eq "migrate PID two: usage error" 2 "$(rc_of "$(run 1 "migrate $p two")")"
check_eq "migrate without a node: usage error" 2 "$(rc_of "$(run 1 "migrate $p")")"
check_eq "runon without a command: usage error" 2 "$(rc_of "$(run 1 'runon 2')")"
out=$(run 1 "su user -c 'migrate $p 2'")
check_match "a user cannot move root's process (EPERM, exit 1)" "not permitted \(not your process.*rc=1" "$(tr '\n' ' ' <<<"$out")"
out=$(run 1 "su user -c 'loadlevel -p $p on'")
check_match "a user cannot change root's loadlevel (EPERM)" "not permitted \(not your process.*rc=1" "$(tr '\n' ' ' <<<"$out")"
on 1 "su user -c '$M -m 1 -t 900 -q >/dev/null 2>&1 & echo \$! > /tmp/t4.pid'"
p4=$(on 1 'cat /tmp/t4.pid')
check_eq "a user moves their own process" "rc=0" "$(run 1 "su user -c 'migrate $p4 3'")"
check_eq "... and runs a program elsewhere" "on 2 rc=0" "$(on 1 "su user -c 'runon 2 sh -c \"echo on \\\$(cat /proc/self/where)\"'; echo rc=\$?" | tr '\n' ' ' | sed 's/ $//')"

# --- the kernel refuses malformed requests with an extended ack.
for c in short-pid:22:length no-pid:22:"missing attribute: pid" pid-zero:34:range \
         bad-node:34:range bad-to:34:range bad-loadlevel:34:range; do
    IFS=: read -r name errno msg <<<"$c"
    out=$(run 1 "vproc-nltest $name")
    check_match "malformed request ($name): errno $errno, the extack says why" "errno=$errno extack=.*$msg.*rc=0" "$(tr '\n' ' ' <<<"$out")"
done
out=$(run 1 'vproc-nltest unknown-cmd')
check_match "an unknown command: EOPNOTSUPP" "errno=95 .*rc=0" "$(tr '\n' ' ' <<<"$out")"

on 1 "kill $p $p2 $p3 $p4" >/dev/null 2>&1
on 3 "kill $p4" >/dev/null 2>&1

# Every move above came and went: no task work, proxy file or deputy
# holds the module any more (each used to keep one reference).
for n in 1 2 3; do
    on $n 'for i in $(seq 50); do [ "$(cut -d" " -f3 /proc/modules)" = 0 ] && break; sleep 0.2; done'
    check_eq "node $n: no module reference left after the moves" 0 "$(on $n 'cut -d" " -f3 /proc/modules')"
done

# --- without the module: every tool says so, exit 3.
# A listener when the module goes: it ends (exit 3) rather than wait for ever.
on 3 "rm -f /tmp/evu; (cluster events -f > /tmp/evu 2>&1; echo rc=\$? >> /tmp/evu) >/dev/null 2>&1 &
      for i in \$(seq 50); do [ -s /tmp/evu ] && break; sleep 0.1; done"
# The processes moved to node 3 above hold the module until they are gone.
check "rmmod on node 3" on 3 'for i in $(seq 50); do rmmod vproc 2>/dev/null && exit 0; sleep 0.2; done; rmmod vproc'
on 3 'for i in $(seq 50); do grep -q ^rc= /tmp/evu && break; sleep 0.1; done'
check_match "cluster events -f ends when the module is unloaded (exit 3)" "module not loaded.*rc=3" "$(on 3 'tr "\n" " " < /tmp/evu')"
for t in "where 1" "migrate 1 2" "loadlevel -p 1" "cluster nodes" "runon 1 true"; do
    out=$(run 3 "$t")
    check_match "$t without the module: 'module not loaded', exit 3" "module not loaded.*rc=3" "$(tr '\n' ' ' <<<"$out")"
done
check "insmod node 3 again" on 3 "insmod /lib/modules/vproc.ko node=3 peers=$peers key=$key"
on 3 'for i in $(seq 100); do [ "$(grep -cw up /proc/cluster/nodes)" = 3 ] && break; sleep 0.1; done'
check_eq "node 3 is back in the cluster" 3 "$(on 3 'cluster nodes' | grep -cw up)"
