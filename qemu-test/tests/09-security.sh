# Security of a move (issue 12): a move never gives a process more than it
# had. Done as a user (uid 1000) would, with vproc-sectest (qemu-test/progs).
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

S=vproc-sectest
T0=1700000000
T1=123456789

# --- mapped files: the destination's file is used only when the process
# may open it and it has the bytes the source mapped; else the pages travel.
# Node 2: a root-only secret, a root file anyone may read, and a symlink to
# the secret; node 1: the user's own files of the same size and mtime at
# the same paths (what the old size+mtime check accepted).
on 2 "printf 'SECRET-OF-NODE-2\n' > /tmp/z; chmod 600 /tmp/z; $S settime /tmp/z $T0 $T1
      printf 'other-root-bytes\n' > /tmp/y; chmod 644 /tmp/y; $S settime /tmp/y $T0 $T1
      rm -f /tmp/l; ln -s /tmp/z /tmp/l"
for f in z y l; do
    on 1 "rm -f /tmp/$f; printf 'users-own-bytes!\n' > /tmp/$f; chown user /tmp/$f; $S settime /tmp/$f $T0 $T1"
done
check_eq "node 1's /tmp/z has the size and mtime of node 2's" \
    "$(on 2 'stat -c "%s %Y" /tmp/z')" "$(on 1 'stat -c "%s %Y" /tmp/z')"
out=$(on 1 "su user -c '$S map /tmp/z 2'" 2>&1)
check_match "a user's mapping of /tmp/z moves" "^goto ok" "$out"
check_eq "... and shows the user's bytes, never node 2's root-only file" \
    "data users-own-bytes!" "$(printf '%s\n' "$out" | grep ^data)"
out=$(on 1 "su user -c '$S map /tmp/y 2'" 2>&1)
check_eq "a same-size same-mtime file it may read there, other bytes: its own bytes" \
    "data users-own-bytes!" "$(printf '%s\n' "$out" | grep ^data)"
out=$(on 1 "su user -c '$S map /tmp/l 2'" 2>&1)
check_eq "a symlink there to the root-only file: its own bytes" \
    "data users-own-bytes!" "$(printf '%s\n' "$out" | grep ^data)"
check_fails "node 2's secret never reached node 1" on 1 "grep -r SECRET-OF-NODE-2 /tmp"
# The same file on both nodes: mapped from the file there, the move works.
on 1 "printf 'same-on-both!!!!\n' > /tmp/same; $S settime /tmp/same $T0 $T1"
on 2 "printf 'same-on-both!!!!\n' > /tmp/same; $S settime /tmp/same $T0 $T1"
out=$(on 1 "su user -c '$S map /tmp/same 2'" 2>&1)
check_eq "a file that is the same there is used" "data same-on-both!!!!" "$(printf '%s\n' "$out" | grep ^data)"

# bg NAME CMD: runs CMD (a vproc-sectest with a "w:/tmp/NAME.gate" node)
# at node 1 in the background, output in /tmp/NAME.out; prints its PID.
bg() {
    on 1 "rm -f /tmp/$1.out; $2 > /tmp/$1.out 2>&1 &
          for i in \$(seq 100); do grep -q ^ready /tmp/$1.out 2>/dev/null && break; sleep 0.1; done
          sed -n 's/^ready //p' /tmp/$1.out"
    for n in 1 2 3; do on $n "rm -f /tmp/$1.gate"; done
}
# release NAME: opens its gate on every node, waits for its "alive".
release() {
    for n in 1 2 3; do on $n "touch /tmp/$1.gate"; done
    on 1 "for i in \$(seq 100); do grep -q alive /tmp/$1.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/$1.out"
}
# ugoto PID NODE: a goto written by the user at node 1; "ok" or the error.
ugoto() { on 1 "su user -c 'echo $2 > /proc/$1/goto' 2>/tmp/ugoto.err && echo ok || sed 's/.*: //' /tmp/ugoto.err"; }

# --- namespaces: refused, the process keeps running here.
p=$(bg ns "su user -c '$S userns w:/tmp/ns.gate'")
check_eq "a process in its own user namespace (unshare -U) with no uid map yet is refused (26-userns: one with its maps moves)" \
    "Operation not supported" "$(ugoto "$p" 2)"
check_match "the log says why" "pid $p cannot move: its user namespace has no uid or gid map yet" "$(on 1 'dmesg | tail -20')"
check_match "... it keeps running here with its namespace's capabilities" \
    "CapEff:[[:space:]]*0000[0-9a-f]*ffff.*alive" "$(release ns | tr '\n' ' ')"
# seccomp: carried (22-seccomp has the rest).
p=$(bg sc "su user -c '$S seccomp w:/tmp/sc.gate'")
check_eq "a user moves their process under a seccomp filter" ok "$(ugoto "$p" 2)"
check_eq "... it has its filter on node 2" 2 "$(on 2 "awk '/^Seccomp:/ {print \$2}' /proc/$p/status")"
check_match "... and runs on" "Seccomp:[[:space:]]*2.*alive" "$(release sc | tr '\n' ' ')"
out=$(on 1 "su user -c '$S seccomp 2'" 2>&1)
check_match "... also when it moves itself" "goto ok.*Seccomp:[[:space:]]*2" "$(echo $out)"

# --- credentials changed where it runs: the calls made at home use them.
on 1 'echo secret > /tmp/rootonly; chmod 600 /tmp/rootonly; chown 0:0 /tmp/rootonly; chmod 700 /root'
out=$(on 1 "rm -rf /root/vproc-dropped; $S dropmove 2" 2>&1)
check_match "root's process moves, then drops to uid 1000 on node 2" "goto ok uid 1000 euid 1000" "$(echo $out)"
check_match "... home's root-only /tmp/rootonly is refused to it (EACCES)" "secret EACCES" "$out"
check_match "... and so is a directory in home's /root" "mkdir EACCES" "$out"
check_eq "... nothing was made there" "" "$(on 1 'ls -d /root/vproc-dropped 2>/dev/null')"
on 1 'rm -rf /tmp/jail; mkdir /tmp/jail; echo in > /tmp/jail/inside; chmod 644 /tmp/jail/inside'
out=$(on 1 "$S chrootmove 2 /tmp/jail" 2>&1)
check_match "a root process chroots into /tmp/jail after its move" "goto ok" "$out"
check_match "... home's /etc/passwd is outside its root now (ENOENT)" "passwd ENOENT" "$out"
check_match "... its jail's /inside is what it opens" "inside ok" "$out"
out=$(on 1 "su user -c '$S usernsmove 2'" 2>&1)
check_match "a user's process makes a user namespace after its move: it goes home to make it (2026-12-07)" \
    "goto ok capeff 000001ffffffffff passwd ok rootonly EACCES where 1" "$(echo $out)"
check_match "... node 2 says why" "it makes or enters a user namespace: it goes home to do it there" "$(on 2 'dmesg | tail -5')"
p=$(bg ul "su user -c '$S usernsmove w:/tmp/ul.gate'")
check_eq "a user's process moved to node 2 and locked there" "ok ok" \
    "$(ugoto "$p" 2) $(on 2 "lock -p $p on > /dev/null && echo ok")"
for n in 1 2 3; do on $n 'touch /tmp/ul.gate'; done
out=$(on 1 'for i in $(seq 100); do grep -q ^where /tmp/ul.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/ul.out')
check_match "... it makes a user namespace there (it cannot go home)" "capeff 000001ffffffffff" "$(echo $out)"
check_match "... its calls at home are refused (EPERM): those capabilities are that node's namespace's" \
    "passwd EPERM rootonly EPERM where [?]" "$(echo $out)"
check_match "... and the log says why" "a call at home refused: it is in a user namespace it made away from home" "$(on 2 'dmesg | tail -5')"
out=$(on 1 "rm -f /tmp/fsz; su user -c '$S fsizemove 2 /tmp/fsz'" 2>&1)
check_match "a process that lowers RLIMIT_FSIZE to 1000 after its move writes 1000 bytes of 4000 to a home file, then EFBIG (at close, if gathered)" \
    "goto ok wrote 1000 then (EFBIG close ok|more close EFBIG)" "$(echo $out)"
check_eq "... the file at home has 1000 bytes" 1000 "$(on 1 'stat -c %s /tmp/fsz')"
out=$(on 1 "$S threaddrop 2 0" 2>&1)
check_match "a thread that drops to uid 1000 alone after the move" "goto ok" "$out"
check_match "... opens home's /tmp/rootonly no more (EACCES)" "thread secret EACCES" "$out"
check_match "... while its root thread still does" "main secret ok" "$out"
out=$(on 1 "$S threaddrop 2 1" 2>&1)
check_match "threads with different credentials move (each its own)" "goto ok" "$out"
check_match "... the thread of uid 1000 is refused home's /tmp/rootonly" "thread secret EACCES" "$out"
check_match "... the root thread is not" "main secret ok" "$out"

# --- no_new_privs and the dumpable mode are carried.
out=$(on 1 "su user -c '$S nnp 2'" 2>&1)
check_match "a no_new_privs process moves" "^goto ok" "$out"
check_match "... and has NoNewPrivs 1 on node 2" "NoNewPrivs:[[:space:]]*1" "$out"
p=$(bg du "su user -c '$S stay w:/tmp/du.gate /tmp/du.gate'")
check_eq "a user moves their process" ok "$(ugoto "$p" 2)"
check_eq "... which is still dumpable: its /proc dir is the user's on node 2" \
    1000 "$(on 2 "stat -c %u /proc/$p")"
check_eq "... and its owner may move it on from node 2" ok \
    "$(on 2 "su user -c 'echo 3 > /proc/$p/goto' 2>&1 && echo ok")"
check_match "... and it runs on to its end" alive "$(release du)"

# --- cgroups: the same path there, created by nobody; missing: refused.
on 1 'mkdir -p /sys/fs/cgroup/job && echo 20 > /sys/fs/cgroup/job/pids.max'
on 2 'rmdir /sys/fs/cgroup/job 2>/dev/null; true'
incg="sh -c 'echo \$\$ > /sys/fs/cgroup/job/cgroup.procs; exec su user -c \"$S stay w:/tmp/cg.gate /tmp/cg.gate\"'"
p=$(bg cg "$incg")
check_eq "a process in cgroup /job" "0::/job" "$(on 1 "cat /proc/$p/cgroup")"
check_match "... is refused where /job does not exist" "No such file|not supported" "$(ugoto "$p" 2)"
check_eq "... and stays here" 1 "$(on 1 "cat /proc/$p/where")"
on 2 'mkdir -p /sys/fs/cgroup/job && echo 20 > /sys/fs/cgroup/job/pids.max'
check_eq "where /job exists it moves" ok "$(ugoto "$p" 2)"
check_eq "... into /job on node 2" "0::/job" "$(on 2 "cat /proc/$p/cgroup")"
check_match "... which counts it (pids.current)" "^[1-9]" "$(on 2 'cat /sys/fs/cgroup/job/pids.current')"
check_match "... and it runs on to its end" alive "$(release cg)"

# --- RLIMIT_NPROC is checked where it lands.
on 2 "su user -c 'sleep 601 > /dev/null 2>&1 &'"
p=$(bg np "su user -c '$S nproc 1 w:/tmp/np.gate'")
check_eq "over RLIMIT_NPROC on node 2 (limit 1, the user has a process there): EAGAIN" \
    "Resource temporarily unavailable" "$(ugoto "$p" 2)"
check_eq "... it stays here" 1 "$(on 1 "cat /proc/$p/where")"
check_match "... the log says why" "over RLIMIT_NPROC" "$(on 2 'dmesg | tail -20')"
release np >/dev/null
p=$(bg np2 "su user -c '$S nproc 50 w:/tmp/np2.gate'")
check_eq "under it, it moves" ok "$(ugoto "$p" 2)"
release np2 >/dev/null
on 2 "kill \$(ps -e -o pid=,args= | awk '/sleep 601/ && !/awk/ {print \$1}') 2>/dev/null; true"

# --- proxies are bound to their deputy: a stale one after PID reuse.
# A user's process moves to node 2; a process of the same user native
# there takes its stdout, a proxy, with pidfd_getfd (ptrace's rule) and
# writes through it (at home, as the moved process). The moved process
# ends. Root then starts a process with the same PID at node 1 whose
# stdout is /tmp/victim and moves it to node 2: the stale proxy reaches
# nothing. (Until 2026-12-07 a locked process's native child made the
# stale proxy; a locked process now forks through home.)
on 2 'rm -f /tmp/st.ggate /tmp/st.res /tmp/st.grab'; on 1 'rm -f /tmp/v.gate /tmp/st.end'
pp=$(bg st "su user -c '$S stay w:/tmp/st.gate /tmp/st.end'")
check_eq "a user's process moves to node 2" ok "$(ugoto "$pp" 2)"
on 1 'touch /tmp/st.gate'
check_eq "a process of the user native to node 2 takes its stdout (a proxy) and writes through it" "grabbed written" \
    "$(on 2 "su user -c '$S grabfd $pp 1 /tmp/st.ggate /tmp/st.res' > /tmp/st.grab 2>&1 &
             for i in \$(seq 100); do grep -q ^grab /tmp/st.grab && break; sleep 0.1; done; cat /tmp/st.grab")"
check_eq "... the line lands in the moved process's file at home" GRABBED "$(on 1 'grep GRABBED /tmp/st.out')"
on 1 'touch /tmp/st.end; for i in $(seq 100); do grep -q alive /tmp/st.out && break; sleep 0.1; done'
# Gone everywhere (node 2's init may not have reaped the old body yet: a
# move to a node where the PID still exists is refused, EEXIST).
for n in 1 2; do on $n "for i in \$(seq 100); do [ -d /proc/$pp ] || break; sleep 0.1; done"; done
on 1 "rm -f /tmp/victim; $S setpid $pp /tmp/victim 2 /tmp/v.gate 2>/dev/null </dev/null"
on 1 "for i in \$(seq 100); do [ \"\$(cat /proc/$pp/where 2>/dev/null)\" = 2 ] && break; sleep 0.1; done"
check_eq "root's process with the reused PID $pp runs on node 2" 2 "$(on 1 "cat /proc/$pp/where")"
on 1 'dmesg | tail -5' | diag
on 2 'touch /tmp/st.ggate; for i in $(seq 100); do [ -s /tmp/st.res ] && break; sleep 0.1; done'
check_eq "the stale proxy's write gets EBADF" EBADF "$(on 2 'cat /tmp/st.res')"
on 1 'touch /tmp/v.gate' # the victim's paths are home's (the grabber's, node 2's)
on 1 "for i in \$(seq 100); do grep -q 'victim alive' /tmp/victim 2>/dev/null && break; sleep 0.1; done"
check_eq "the other process's file is untouched and still open (not closed by the stale close)" \
    "$(printf 'goto ok\nvictim alive')" "$(on 1 'cat /tmp/victim')"

# --- What the node a process runs on tells its home (issue 17: lock and
# loadlevel switches, command line), as a user: their own process's
# switch set by them on node 2 shows at home; root's process cannot be
# switched by them there, and home shows nothing; a program they exec
# on node 2 (runon) shows at home by its own command line.
up=$(on 1 "su user -c 'sleep 300 > /dev/null 2>&1 & echo \$!'")
rp=$(on 1 "sleep 300 > /dev/null 2>&1 & echo \$!")
check_eq "notices: a user's sleep and root's move 1 -> 2" "ok ok" \
    "$(ugoto "$up" 2) $(on 1 "echo 2 > /proc/$rp/goto && echo ok")"
check_eq "notices: the user locks their own process on node 2" ok \
    "$(on 2 "su user -c 'echo 1 > /proc/$up/lock' && echo ok")"
check_eq "notices: ... home's lock file says 1 soon" 1 \
    "$(on 1 "for i in \$(seq 30); do [ \$(cat /proc/$up/lock) = 1 ] && break; sleep 0.1; done; cat /proc/$up/lock")"
check_match "notices: the user may not lock root's process on node 2" "Operation not permitted|Permission denied" \
    "$(on 2 "su user -c 'echo 1 > /proc/$rp/lock' 2>&1")"
check_eq "notices: ... and home's lock file says 0 for it (after 2 rounds)" "0 0" \
    "$(on 1 "sleep 0.5; cat /proc/$rp/lock") $(on 2 "cat /proc/$rp/lock")"
on 1 "kill -9 $up $rp"
on 1 "rm -f /tmp/nt.go; printf 'import os, time\nwhile not os.path.exists(\"/tmp/nt.go\"): time.sleep(0.1)\n' > /tmp/nt.py"
on 1 "su user -c 'runon 2 python3 /tmp/nt.py vproc-user-arg > /dev/null 2>&1 &'"
np=$(on 1 "for i in \$(seq 50); do pgrep -u 1000 -f '^python3 /tmp/nt.py vproc-user-arg' && break; sleep 0.1; done")
check "notices: the user's runon 2 python3 shows at home by its command line (pgrep -f finds it)" test -n "$np"
check_eq "notices: ... it runs on node 2, as the user" "2 1000" "$(on 1 "cat /proc/$np/where; stat -c %u /proc/$np" | paste -sd' ')"
on 1 "touch /tmp/nt.go"
