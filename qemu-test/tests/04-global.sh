# The single process space: ps, /proc/<pid> and kill across nodes.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

# start NODE NAME [USER]: a shell called NAME that waits 600 s (a copy of
# bash, so its name shows in ps); prints its PID.
start() {
    on "$1" "cp /bin/bash /tmp/$2 && chmod 755 /tmp/$2"
    if [ -n "${3:-}" ]; then
        on "$1" "su $3 -c '/tmp/$2 -c \"sleep 600; :\" >/dev/null 2>&1 &'; sleep 0.3; ps -e -o pid=,user=,args= | awk '\$2 == \"$3\" && \$3 == \"/tmp/$2\" { print \$1 }'"
    else
        on "$1" "/tmp/$2 -c 'sleep 600; :' >/dev/null 2>&1 & echo \$!"
    fi
}
p1=$(start 1 marker-one)
p2=$(start 2 marker-two)
u1=$(start 1 marker-user user)

check "node 1's process has a PID of node 1's share" test "$p1" -ge 65536 -a "$p1" -lt 131072
ps3=$(on 3 'ps -ef')
check_match "ps -ef on node 3 lists node 1's process with its command line" "^root +$p1 .*/tmp/marker-one -c sleep 600; :" "$ps3"
check_match "ps -ef on node 3 lists node 2's process" "^root +$p2 .*/tmp/marker-two -c sleep" "$ps3"
check_match "ps -ef shows the owner of a remote process" "^user +$u1 .*/tmp/marker-user" "$ps3"
check_eq "every PID appears once in ps -e" 0 "$(on 3 'ps -e -o pid= | sort | uniq -d | wc -l')"
check_match "ps -e on node 3 still lists its own processes" "vproc-agent" "$(on 3 'ps -e -o comm=')"
check_match "ps aux works across nodes" "marker-two -c sleep" "$(on 1 'ps aux')"
check_match "busybox ps lists remote processes" "marker-one" "$(on 3 'busybox ps')"
check_eq "/proc/<pid>/where of a remote process" 1 "$(on 3 "cat /proc/$p1/where")"
check_eq "/proc/<pid>/comm of a remote process" marker-one "$(on 3 "cat /proc/$p1/comm")"
check_eq "/proc/<pid>/cmdline of a remote process" "/tmp/marker-one -c sleep 600; :" "$(on 3 "tr '\0' ' ' < /proc/$p1/cmdline | sed 's/ \$//'")"
check_match "/proc/<pid>/status of a remote process" "PPid:" "$(on 3 "cat /proc/$p1/status")"
check_eq "ls /proc/<pid> of a remote process" "cmdline comm loadlevel lock nmigs stat statm status where" "$(on 3 "ls /proc/$p1 | tr '\n' ' ' | sed 's/ \$//'")"
check_eq "loadlevel of a remote process" 0 "$(on 3 "cat /proc/$p1/loadlevel")"
on 1 "echo 1 > /proc/$p1/loadlevel; echo 1 > /proc/$p1/lock"
sleep 0.5
check_eq "... follows the process's value" 1 "$(on 3 "cat /proc/$p1/loadlevel")"
check_eq "lock of a remote process" 1 "$(on 3 "cat /proc/$p1/lock")"
check_eq "nmigs of a remote process" 0 "$(on 3 "cat /proc/$p1/nmigs")"
on 1 "echo 0 > /proc/$p1/lock"
check_fails "a remote /proc/<pid> is read-only" on 3 "echo x > /proc/$p1/comm"
check_eq "other nodes' node-local processes are not shown (one init)" 1 "$(on 3 'ps -e -o comm= | grep -cx init')"
check_eq "a node's own pid 1 is its own init" "init" "$(on 3 'cat /proc/1/comm')"

# --- kill reaches the process wherever it runs
check "kill from node 3 to a process on node 1" on 3 "kill $p1"
sleep 1
check_fails "... and it is gone on node 1" on 1 "kill -0 $p1"
check_match "kill of a PID that exists nowhere -> ESRCH" "No such process" \
    "$(on 3 "kill 131000 2>&1")"
check_match "a user cannot kill root's process on another node" "Operation not permitted" \
    "$(on 3 "su user -c 'kill $p2' 2>&1")"
check "... which keeps running" on 2 "kill -0 $p2"
check "a user kills their own process on another node" on 3 "su user -c 'kill $u1'"
sleep 1
check_fails "... and it is gone" on 1 "kill -0 $u1"
check "kill -0 of a remote process (existence check)" on 1 "kill -0 $p2"
check "signal 9 across nodes" on 1 "kill -9 $p2"
sleep 1
check_fails "... and node 2's process is gone" on 2 "kill -0 $p2"
check_fails "ps no longer lists it (after the cache expires)" on 3 "sleep 1; ps -e -o pid= | grep -qx ' *$p2'"

# The markers' `sleep 600`s outlive them (a killed shell leaves its
# child): end them, so that later files do not count a user's process
# they did not start (18-children's RLIMIT_NPROC of 2 for uid 1000).
for n in $(seq "$NODES"); do on "$n" "pkill -x -f 'sleep 600' || true"; done
