# Who may move, lock, loadlevel and signal a process: ptrace's rule
# (PTRACE_MODE_ATTACH_REALCREDS) and kill(2)'s, applied where the process
# is, for callers on every node, through /proc/<pid>/ and the tools; and
# the rate limit of the log lines a user can cause.
# Sourced by run-tests with lib.sh; the cluster is up with $NODES nodes.

P=vproc-perm
# run NODE CMD: CMD's stdout and stderr, then "rc=STATUS", on one line.
run() { on "$1" "$2 2>&1; echo rc=\$?" | tr '\n' ' ' | sed 's/ $//'; }
# ids NODE PID: the process's real and effective uid there.
ids() { on "$1" "awk '/^Uid:/{print \$2, \$3}' /proc/$2/status"; }
# bg NODE CMD: starts CMD in the background on NODE as root, prints its
# PID; bgu: as the user.
bg() { on "$1" "$2 >/dev/null 2>&1 & echo \$!"; }
bgu() { on "$1" "su user -c '$2 >/dev/null 2>&1 & echo \$!'"; }
REFUSED="Permission denied|Operation not permitted"
EPERM_TOOL="not permitted \(not your process.*rc=1"

# A setuid-root copy of the test program on every node (same size and
# mtime everywhere, so a move maps the same file).
for n in 1 2 3; do
    on $n "cp -p /usr/bin/$P /tmp/vproc-suid && chown 0:0 /tmp/vproc-suid && chmod 4755 /tmp/vproc-suid"
done

# --- a running setuid-root program of the user, and a root daemon that
# did seteuid(1000): the user may neither move, lock nor loadlevel them.
sp=$(bgu 1 "/tmp/vproc-suid sleep 900")
dp=$(bg 1 "$P seteuid 1000 900")
sleep 0.5
check_eq "a user runs a setuid-root program (uid 1000, euid 0)" "1000 0" "$(ids 1 "$sp")"
check_eq "a root daemon did seteuid(1000) (uid 0, euid 1000)" "0 1000" "$(ids 1 "$dp")"
# The other node tried through /proc is one it does not move to below: a
# lookup of /proc/PID/goto there while PID is remote makes a later restore
# of a process with mixed uids there fail (EINVAL; a restore bug of its
# own, reported, not a permission matter).
for t in "setuid-root program:$sp:3" "seteuid(1000) daemon:$dp:2"; do
    IFS=: read -r name pid other <<<"$t"
    for f in goto lock loadlevel; do
        v=1; [ $f = goto ] && v=2
        check_match "$name: a user cannot write its /proc/PID/$f on its node" "$REFUSED" \
            "$(on 1 "su user -c 'echo $v > /proc/$pid/$f' 2>&1")"
        check_fails "$name: nor on another node" on $other "su user -c 'echo $v > /proc/$pid/$f'"
    done
    for n in 1 2; do
        check_match "$name: a user's migrate from node $n: EPERM" "$EPERM_TOOL" \
            "$(run $n "su user -c 'migrate $pid 3'")"
        check_match "$name: a user's lock -p from node $n: EPERM" "$EPERM_TOOL" \
            "$(run $n "su user -c 'lock -p $pid on'")"
        check_match "$name: a user's loadlevel -p from node $n: EPERM" "$EPERM_TOOL" \
            "$(run $n "su user -c 'loadlevel -p $pid on'")"
    done
    check_eq "$name: it stayed on node 1" "$pid 1" "$(on 3 "where $pid")"
    check_eq "$name: lock and loadlevel unchanged" "0 0" \
        "$(on 1 "echo \$(cat /proc/$pid/lock) \$(cat /proc/$pid/loadlevel)")"
done
check_match "the refusals are logged" "goto: pid $sp: not your process|netlink: pid $sp: not your process" \
    "$(on 1 'dmesg | tail -200')"

# The files were opened while the process was an ordinary one of the
# user's; it then exec'd a setuid-root program: the writes are refused.
out=$(on 1 "su user -c '$P heldfd /tmp/vproc-suid'")
check_match "writes to /proc/PID/{goto,lock,loadlevel} opened before a setuid exec: EPERM" \
    "^pid [0-9]+ goto=EPERM lock=EPERM loadlevel=EPERM$" "$out"
hp=$(sed -n 's/^pid \([0-9]*\).*/\1/p' <<<"$out")
check_eq "... it stayed on node 1" "${hp:-?} 1" "$(on 1 "where ${hp:-0}")"

# --- root moves anything; the user still may not, wherever it runs.
check_eq "root moves the setuid-root program (migrate, node 1)" "rc=0" "$(run 1 "migrate $sp 2")"
check_eq "... it keeps its ids on node 2" "1000 0" "$(ids 2 "$sp")"
for n in 2 1 3; do
    check_match "... a user's migrate of it from node $n: EPERM" "$EPERM_TOOL" \
        "$(run $n "su user -c 'migrate $sp 3'")"
done
check_match "... a user's lock -p at its home: EPERM" "$EPERM_TOOL" "$(run 1 "su user -c 'lock -p $sp on'")"
check_match "... a user's loadlevel -p from node 3: EPERM" "$EPERM_TOOL" "$(run 3 "su user -c 'loadlevel -p $sp on'")"
check_eq "... it stays on node 2" "$sp 2" "$(on 1 "where $sp")"
check_eq "root brings it home (migrate asked on node 3)" "rc=0" "$(run 3 "migrate $sp home")"
check_eq "root moves the daemon with /proc/PID/goto" ok "$(on 1 "echo 3 > /proc/$dp/goto && echo ok")"
check_eq "... it keeps its ids on node 3" "0 1000" "$(ids 3 "$dp")"
check_eq "root locks it from node 2" "rc=0" "$(run 2 "lock -p $dp on")"
check_eq "... where it runs" 1 "$(on 3 "cat /proc/$dp/lock")"

# --- a non-dumpable process of the user's: ptrace's rule says no.
np=$(bgu 1 "$P nodump 900")
sleep 0.5
for n in 1 3; do
    check_match "a user's non-dumpable process: the user's migrate from node $n: EPERM" "$EPERM_TOOL" \
        "$(run $n "su user -c 'migrate $np 2'")"
done
check_match "... its /proc/PID/goto" "$REFUSED" "$(on 1 "su user -c 'echo 2 > /proc/$np/goto' 2>&1")"
check_eq "... root moves it" "rc=0" "$(run 1 "migrate $np 2")"

# --- the user's own ordinary processes: the user moves and switches them
# from every node.
op=$(bgu 1 "$P sleep 900")
check_eq "a user sets lock of their own process (/proc)" ok "$(on 1 "su user -c 'echo 1 > /proc/$op/lock' && echo ok")"
check_eq "... clears it with lock -p from node 3" "rc=0" "$(run 3 "su user -c 'lock -p $op off'")"
check_eq "... sets loadlevel with loadlevel -p from node 2" "rc=0" "$(run 2 "su user -c 'loadlevel -p $op on'")"
check_eq "... which is set" 1 "$(on 1 "cat /proc/$op/loadlevel")"
check_eq "... and clears it with /proc" ok "$(on 1 "su user -c 'echo 0 > /proc/$op/loadlevel' && echo ok")"
check_eq "a user moves their own process, asked on node 3 (its home does it)" "rc=0" \
    "$(run 3 "su user -c 'migrate $op 2'")"
check_eq "... it runs on node 2" "$op 2" "$(on 1 "where $op")"
o2=$(bgu 1 "$P sleep 900")
check_eq "a user moves their own process with /proc/PID/goto" ok "$(on 1 "su user -c 'echo 3 > /proc/$o2/goto' && echo ok")"
check_eq "... it runs on node 3" "$o2 3" "$(on 2 "where $o2")"

# A move asked at home for a process that runs elsewhere is checked where
# it runs, against the process as it is there: once it made itself
# non-dumpable on node 2, its user's requests are refused there.
up=$(bgu 1 "$P nodump-on-usr1 900")
check_eq "a user moves their own process to node 2 (migrate)" "rc=0" "$(run 1 "su user -c 'migrate $up 2'")"
on 1 "su user -c 'kill -USR1 $up'"
sleep 0.5
check_match "... which then made itself non-dumpable there: the user's migrate at home: EPERM" "$EPERM_TOOL" \
    "$(run 1 "su user -c 'migrate $up 3'")"
check_match "... refused by node 2" "goto: pid $up: not your process" "$(on 2 'dmesg | tail -50')"
check_match "... the user's lock -p from node 3: EPERM" "$EPERM_TOOL" "$(run 3 "su user -c 'lock -p $up on'")"
check_match "... refused by node 2 too" "lock: pid $up: not your process" "$(on 2 'dmesg | tail -50')"
check_eq "... it stays on node 2, unlocked" "$up 2 0" "$(on 2 "echo \$(where $up) \$(cat /proc/$up/lock)")"
check_eq "... root moves it on" "rc=0" "$(run 1 "migrate $up 3")"

# --- kill(2) from another node: the sender's credentials, checked where
# the process is, exactly as a local kill.
kp=$(bgu 1 "sleep 900")
rp=$(bg 1 "sleep 900")
check_eq "uid 0 without CAP_KILL cannot kill a user's process on its node (EPERM)" \
    "Operation not permitted" "$(on 1 "$P nokill kill $kp 15")"
check_eq "... nor from another node (EPERM)" "Operation not permitted" "$(on 2 "$P nokill kill $kp 15")"
check_match "... node 1 logs the refusal" "signal 15 to pid $kp from node 2 .*not permitted" "$(on 1 'dmesg | tail -20')"
check_eq "... the process lives" "$kp 1" "$(on 1 "where $kp")"
check_eq "root (CAP_KILL) on another node may signal it" ok "$(on 2 "$P kill $kp 0")"
check_eq "a user cannot kill root's process on another node (EPERM)" "Operation not permitted" \
    "$(on 3 "su user -c '$P kill $rp 15'")"
check_eq "a user kills their own process on another node" ok "$(on 3 "su user -c '$P kill $kp 15'")"
on 1 "for i in \$(seq 50); do [ -d /proc/$kp ] || break; sleep 0.1; done"
check_eq "... it is gone" 0 "$(on 1 "ls -d /proc/$kp 2>/dev/null | wc -l")"
check_eq "a user kills their own process that runs on another node (through its home)" ok \
    "$(on 2 "su user -c '$P kill $o2 15'")"
on 3 "for i in \$(seq 50); do [ -d /proc/$o2 ] || break; sleep 0.1; done"
check_eq "... it is gone where it ran" 0 "$(on 3 "ls -d /proc/$o2 2>/dev/null | wc -l")"
sip=$(bgu 1 "$P siginfo /tmp/si 60")
sleep 0.3
sender=$(on 2 "su user -c 'echo \$\$; kill -USR1 $sip'")
on 1 "for i in \$(seq 50); do [ -s /tmp/si ] && break; sleep 0.1; done"
check_eq "a signal from another node arrives as kill(2) sends it (SI_USER, the sender's pid and uid)" \
    "code 0 pid $sender uid 1000" "$(on 1 'cat /tmp/si')"

# --- a user cannot flood the kernel log.
lp=$(bgu 1 "$P sleep 900")
on 1 'echo vproc-11-perm-mark > /dev/kmsg'
on 1 "su user -c 'for i in \$(seq 500); do echo 9 > /proc/$lp/goto; echo x > /proc/$lp/goto; done 2>/dev/null'"
n=$(on 1 "dmesg | sed -n '/vproc-11-perm-mark/,\$p' | wc -l")
check "1000 failed gotos by a user leave fewer than 50 log lines ($n)" test "$n" -lt 50
sleep 5
on 1 "su user -c 'echo 9 > /proc/$lp/goto' 2>/dev/null"
check_match "... 5 s later one more is logged, saying how many were dropped" \
    "[0-9]+ similar messages suppressed" "$(on 1 'dmesg | tail -3')"
check_eq "... and the process is where it was" "$lp 1" "$(on 1 "where $lp")"

for n in 1 2 3; do
    on $n "kill -9 $sp $dp $hp $np $op $up $rp $lp $sip 2>/dev/null; rm -f /tmp/vproc-suid /tmp/si" >/dev/null 2>&1
done
