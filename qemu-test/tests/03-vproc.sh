# Cluster-wide PIDs and the per-process files.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

# werr NODE FILE VALUE: the error `echo VALUE > FILE` gets ("ok" if none).
werr() { on "$1" "echo '$3' > $2 2>/tmp/werr && echo ok || sed 's/.*: //' /tmp/werr"; }

# --- PIDs come from each node's share
for i in $(seq 1 "$NODES"); do
    p=$(on "$i" 'sh -c "echo \$\$"')
    check_match "node $i: a new process gets a PID in [$((i << 16)), $(((i + 1) << 16)))" \
        "^[0-9]+$" "$p"
    check "node $i: PID $p is in node $i's share" test "$p" -ge $((i << 16)) -a "$p" -lt $(((i + 1) << 16))
done
check_eq "init is still PID 1" 1 "$(on 1 'cat /proc/1/stat | cut -d" " -f1')"
check_eq "pid_max is raised to PID_MAX_LIMIT" 4194304 "$(on 1 'cat /proc/sys/kernel/pid_max')"

# --- the per-process files
on 1 'sleep 600 >/dev/null 2>&1 & echo $! > /tmp/sleeper'
sp=$(on 1 'cat /tmp/sleeper')
check_eq "where of a local process is this node" 1 "$(on 1 "cat /proc/$sp/where")"
check_eq "loadlevel defaults to 0" 0 "$(on 1 "cat /proc/$sp/loadlevel")"
check_eq "lock defaults to 0" 0 "$(on 1 "cat /proc/$sp/lock")"
check_eq "nmigs starts at 0" 0 "$(on 1 "cat /proc/$sp/nmigs")"
check_eq "loadlevel 1 is accepted" ok "$(werr 1 /proc/$sp/loadlevel 1)"
check_eq "... and reads back" 1 "$(on 1 "cat /proc/$sp/loadlevel")"
check_eq "lock 1 is accepted" ok "$(werr 1 /proc/$sp/lock 1)"
check_eq "goto of a locked process is refused" "Device or resource busy" "$(werr 1 /proc/$sp/goto 2)"
check_eq "lock 0 again" ok "$(werr 1 /proc/$sp/lock 0)"
check_eq "goto to its own node is a no-op" ok "$(werr 1 /proc/$sp/goto 1)"

# --- bad input gets the documented errno
check_eq "loadlevel 2 -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/loadlevel 2)"
check_eq "loadlevel -1 -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/loadlevel -1)"
check_eq "loadlevel x -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/loadlevel x)"
check_eq "empty loadlevel -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/loadlevel '')"
check_eq "lock 7 -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/lock 7)"
check_eq "goto x -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/goto x)"
check_eq "empty goto -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/goto '')"
check_eq "goto 0 -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/goto 0)"
check_eq "goto 64 -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/goto 64)"
check_eq "goto -2 -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/goto -2)"
check_eq "goto 9 (no such node) -> EHOSTUNREACH" "No route to host" "$(werr 1 /proc/$sp/goto 9)"
check_eq "a 40-byte write -> EINVAL" "Invalid argument" "$(werr 1 /proc/$sp/goto 1111111111111111111111111111111111111111)"
check_eq "goto of init -> EINVAL" "Invalid argument" "$(werr 1 /proc/1/goto 2)"
check_eq "goto of a kernel thread -> EINVAL" "Invalid argument" "$(werr 1 /proc/2/goto 2)"
check_eq "loadlevel of a kernel thread -> EINVAL" "Invalid argument" "$(werr 1 /proc/2/loadlevel 1)"
early=$(on 1 'pidof vproc-agent | tr " " "\n" | sort -n | head -1')
check_eq "goto of a process older than the cluster -> EINVAL" "Invalid argument" "$(werr 1 /proc/$early/goto 2)"
"$CLUSTER" cut 3
on 1 'i=0; while [ $i -lt 50 ] && grep -q "^ *3 .* up " /proc/cluster/nodes; do sleep 0.2; i=$((i+1)); done'
check_eq "goto a node that is down -> EHOSTUNREACH" "No route to host" "$(werr 1 /proc/$sp/goto 3)"
"$CLUSTER" heal 3

# --- only the owner or root
on 1 "su user -c 'sleep 600 >/dev/null 2>&1 & echo \$! > /tmp/usersleeper'"
up=$(on 1 'cat /tmp/usersleeper')
check_eq "a user sets loadlevel of their own process" ok \
    "$(on 1 "su user -c 'echo 1 > /proc/$up/loadlevel' 2>&1 && echo ok")"
check_match "a user cannot set loadlevel of root's process" "Permission denied|Operation not permitted" \
    "$(on 1 "su user -c 'echo 1 > /proc/$sp/loadlevel' 2>&1")"
check_eq "... which keeps its value" 1 "$(on 1 "cat /proc/$sp/loadlevel")"
check_match "a user cannot goto root's process" "Permission denied|Operation not permitted" \
    "$(on 1 "su user -c 'echo 2 > /proc/$sp/goto' 2>&1")"
check_eq "root sets loadlevel of the user's process" ok "$(werr 1 /proc/$up/loadlevel 0)"

# --- inheritance and loadlevellist
check_eq "a child inherits loadlevel 1" 1 \
    "$(on 1 'echo 1 > /proc/self/loadlevel; sh -c "cat /proc/\$\$/loadlevel"')"
check_eq "... and 0" 0 "$(on 1 'sh -c "cat /proc/\$\$/loadlevel"')"
check_eq "loadlevellist starts empty" "" "$(on 1 'cat /proc/cluster/loadlevellist')"
check_eq "root adds a program to loadlevellist" ok "$(werr 1 /proc/cluster/loadlevellist cat)"
check_eq "a program in loadlevellist gets loadlevel 1 at exec" 1 "$(on 1 'cat /proc/self/loadlevel')"
check_eq "others do not" 0 "$(on 1 'head -1 /proc/self/loadlevel')"
check_eq "root removes it" ok "$(werr 1 /proc/cluster/loadlevellist -cat)"
check_eq "removing an absent name -> ENOENT" "No such file or directory" "$(werr 1 /proc/cluster/loadlevellist -cat)"
check_eq "a name with a space -> EINVAL" "Invalid argument" "$(werr 1 /proc/cluster/loadlevellist 'a b')"
check_eq "a 16-byte name -> EINVAL" "Invalid argument" "$(werr 1 /proc/cluster/loadlevellist 0123456789abcdef)"
check_match "a user cannot edit loadlevellist" "Permission denied|Operation not permitted" \
    "$(on 1 "su user -c 'echo sh > /proc/cluster/loadlevellist' 2>&1")"

# --- node<n>/loadlevel
check_eq "node 1 takes part in load leveling" 1 "$(on 1 'cat /proc/cluster/node1/loadlevel')"
check_eq "node 2 switches itself off" ok "$(werr 2 /proc/cluster/node2/loadlevel 0)"
sleep 2
check_eq "node 1 learns it from node 2's load vector" 0 "$(on 1 'cat /proc/cluster/node2/loadlevel')"
check_eq "node 1 cannot switch node 2" "Invalid argument" "$(werr 1 /proc/cluster/node2/loadlevel 1)"
check_eq "node<n>/loadlevel takes only 0/1" "Invalid argument" "$(werr 2 /proc/cluster/node2/loadlevel 2)"
check_eq "node 2 switches itself on again" ok "$(werr 2 /proc/cluster/node2/loadlevel 1)"

# --- vproc.node=N on the kernel command line: cluster PIDs from boot on
check "boot node 4 with vproc.node=4 and no module" env VPROC_NO_BUILD=1 VPROC_APPEND=vproc.node=4 "$CLUSTER" up --nodes 4 --no-module
a4=$(on 4 'pidof vproc-agent')
check "node 4's agent (started at boot) has a PID of node 4's share" test "$a4" -ge $((4 << 16)) -a "$a4" -lt $((5 << 16))
check_eq "init is still PID 1 there" init "$(on 4 'cat /proc/1/comm')"
check_match "the kernel says so" "vproc: node 4 allocates PIDs 262144..327679" "$(on 4 dmesg)"
"$CLUSTER" kill 4

# --- a process moved to node 2 forks there: each child is born on node 2
# under a PID of its home's share (its deputy at home), and its exit status
# reaches the parent's wait (Debian's dash, which runs sleep with vfork;
# busybox sh on the debug kernel, which runs this too).
# Loadlevel 0: the leveller leaves it where it is sent.
on 1 "rm -f /tmp/fh.*; cat > /tmp/fh.sh <<'EOF'
while [ ! -e /tmp/fh.go ]; do sleep 0.1; done
for i in 1 2 3; do
    ( read w < /proc/self/where; read s x < /proc/self/stat; echo \"\$i \$w \$((s >> 16))\"; exit \$i )
    echo \"st \$?\"
done
EOF
echo 0 > /proc/self/loadlevel; sh /tmp/fh.sh > /tmp/fh.out 2>&1 & echo \$! > /tmp/fh.pid"
fp=$(on 1 'cat /tmp/fh.pid')
check_eq "a shell moved to node 2 ..." ok "$(werr 1 /proc/$fp/goto 2)"
on 1 'touch /tmp/fh.go'
check_eq "... forks its subshells there, their PIDs home's, their statuses its waits'" \
    "1 2 1|st 1|2 2 1|st 2|3 2 1|st 3" \
    "$(on 1 'for i in $(seq 100); do [ "$(wc -l < /tmp/fh.out)" -ge 6 ] && break; sleep 0.2; done; paste -sd"|" /tmp/fh.out')"
check_match "... each fork logged at home" "pid $fp forks on node 2: pid" "$(on 1 'dmesg | tail -20')"

# --- a process in a PID namespace of its home's (`unshare -pf`) moves: on
# node 2 it has its PID of that namespace again, in one node 2 made (its
# init, "vproc-pidns", ends after it); a signal from home reaches it
# there (its sender named as the namespace names it, fixed up with
# preemption off); its end is told home (busybox's unshare on the debug
# kernel, which runs this; 27-pidns has the rest).
# inits NODE: how many namespace inits there are of NODE's PIDs
inits() { on "$1" "n=0; for d in /proc/[0-9]*; do p=\${d#/proc/}; [ \$((p >> 16)) = $1 ] && read c < \$d/comm 2>/dev/null && [ \"\$c\" = vproc-pidns ] && n=\$((n + 1)); done; echo \$n"; }
on 1 "rm -f /tmp/pn.st; ( unshare -pf sh -c 'sleep 3303 & wait \$!; echo \$? > /tmp/pn.st' > /dev/null 2>&1 & ) &" >/dev/null 2>&1
pn=$(on 1 'for i in $(seq 100); do for d in /proc/[0-9]*; do p=${d#/proc/}; [ $((p >> 16)) = 1 ] && [ "$(tr "\0" " " < $d/cmdline 2>/dev/null)" = "sleep 3303 " ] && echo $p && exit 0; done; sleep 0.2; done')
check_eq "a sleep in a PID namespace (PID 2 there) moves to node 2" "2 ok" \
    "$(on 1 "awk '/^NSpid:/ { print \$3 }' /proc/$pn/status") $(werr 1 /proc/${pn:-0}/goto 2)"
check_eq "... there it has PID 2 in a namespace node 2 made, whose init is the restorer's" "2 1" \
    "$(on 2 "awk '/^NSpid:/ { print \$3 }' /proc/$pn/status") $(inits 2)"
on 1 "kill $pn"
check_eq "... killed from home, its end is told home: its namespace's init reaps it (143)" 143 "$(file_of 1 /tmp/pn.st 60)"
check_eq "... and node 2's init ends" 0 \
    "$(for i in $(seq 30); do n=$(inits 2); [ "$n" = 0 ] && break; sleep 1; done; echo "$n")"

# --- without the module /proc/<pid>/ is as before
on 1 "kill $sp $up"
check "rmmod on node 3" on 3 'rmmod vproc'
check_fails "no /proc/<pid>/where without the module" on 3 'test -e /proc/self/where'
check_fails "readdir of /proc/<pid> lists no vproc file" on 3 'ls /proc/self | grep -qx goto'
p=$(on 3 'sh -c "echo \$\$"')
check "PIDs are allocated as usual once it is gone" test "$p" -gt 0
check "insmod node 3 again" on 3 "insmod /lib/modules/vproc.ko node=3 peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300 key=$CLUSTER_KEY"
check "/proc/<pid>/where is back" on 3 'test -r /proc/self/where'
