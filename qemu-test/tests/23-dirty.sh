# Dirty-page tracking (issue 18, item 2): the freeze reads again only the
# pages a process wrote since pre-copy read them (soft-dirty bits and page
# frames, logic::mig::dirty), and never misses one. Sourced by run-tests
# with lib.sh; the cluster is up.

M=vproc-mtest
# start_bg TAG CMD: runs CMD on node 1 in /tmp (output /tmp/TAG.out, its exit
# status in /tmp/TAG.status once it ends; /tmp/TAG.* removed first);
# prints its PID.
start_bg() {
    on 1 "rm -f /tmp/$1.*"
    on 1 "cd /tmp; $2 > /tmp/$1.out 2>&1 & echo \$! > /tmp/$1.pid; wait \$!; echo \$? > /tmp/$1.status" >/dev/null 2>&1 &
    file_of 1 "/tmp/$1.pid" 10
}
# unread NODE PID FROM TO: the "not read again" count of the move's event.
unread() { on "$1" "grep 'pid $2 node $3 -> node $4' /proc/cluster/events | tail -1" | sed -n 's/.*, \([0-9]*\) not read again.*/\1/p'; }

# --- churn: every tick, pages dropped and read back as zeros, written,
# dropped and written; an area mremap()ed (moved, grown); an area
# unmapped and mapped again. Moved 1 -> 2 -> 3 -> 1 while it churns, at
# different points of its run: the same memory as an unmoved run.
ref=$(on 1 "$M -m 16 -t 40 -q -D | grep -E '^(churn|result)'")
check_match "the unmoved churning run prints its memory" "^churn=[0-9a-f]{16}" "$ref"
# It waits for a file after its ticks, so that a slower kernel (the debug
# one) still has it alive for the third move.
for d in 0.4 1.1 1.9; do
    out=$(on 1 "cd /tmp; rm -f /tmp/d.go; $M -m 16 -t 40 -q -D -w /tmp/d.go > /tmp/d.out 2>&1 & p=\$!; sleep $d
          echo 2 > /proc/\$p/goto && sleep 0.3 && echo 3 > /proc/\$p/goto && sleep 0.3 && echo 1 > /proc/\$p/goto
          echo moved \$?; touch /tmp/d.go; wait \$p; echo status \$?")
    check_eq "churn (first move after $d s): moved 1 -> 2 -> 3 -> 1, ends well" "moved 0 status 0" "$(echo $out)"
    check_eq "... its memory equals the unmoved run's" "$ref" "$(on 1 "grep -E '^(churn|result)' /tmp/d.out")"
done

# --- a 64 MiB process that writes little: its freeze reads again almost
# nothing (64 MiB is 16384 pages), on each hop, and it ends as an unmoved
# run does.
ref=$(on 1 "$M -m 64 -t 10 -q -k 256 | grep ^result")
pid=$(start_bg d2 "$M -m 64 -t 10 -q -k 256 -w /tmp/d2.go")
on 1 "sleep 2"
check_eq "a 64 MiB process with a 256 KiB working set moves 1 -> 2" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
u=$(unread 1 "$pid" 1 2)
check "... its freeze read again at most 1000 of 16384 pages (not read again: $u)" test "${u:-0}" -ge 15384
# Asked by home while it runs on node 2 (forwarded: node 2's mover
# pre-copies it as a local writer would).
check_eq "... moves 2 -> 3 (goto written at home, node 1)" ok "$(on 1 "echo 3 > /proc/$pid/goto && echo ok")"
u=$(unread 2 "$pid" 2 3)
check "... again (not read again: $u)" test "${u:-0}" -ge 15384
# Asked by a third node (`migrate`, netlink): to home, then to node 3
# where it runs.
check_eq "... comes home (migrate asked on node 2, neither home nor where it runs)" ok "$(on 2 "migrate $pid home && echo ok")"
u=$(unread 3 "$pid" 3 1)
check "... again (not read again: $u)" test "${u:-0}" -ge 15384
on 1 "touch /tmp/d2.go"
check_eq "... ends well" 0 "$(file_of 1 /tmp/d2.status 20)"
check_eq "... its result equals the unmoved run's" "$ref" "$(on 1 'grep ^result /tmp/d2.out')"

# --- rounds (iterative pre-copy): a 64 MiB process that rewrites its
# memory at about 6 MiB/s (-t 100: 1/100 of it every 100 ms tick) writes a
# few thousand pages while the first pass runs. Rounds send those again
# while it runs on (logic::mig::another_round), so its freeze reads less;
# with precopy_rounds=0 there is none. Each ends as an unmoved run does.
# (Every move that pre-copies looks once at least, every thread stopped:
# 21-threads' moves of 6 threads, one in pthread_cond_wait, do so too.)
# rounds NODE PID FROM TO: the rounds count of the move's event.
rounds() { on "$1" "grep 'pid $2 node $3 -> node $4' /proc/cluster/events | tail -1" | sed -n 's/.*, \([0-9]*\) rounds, .*/\1/p'; }
ref=$(on 1 "$M -m 64 -t 100 -q | grep ^result")
check_eq "the module's default: up to 8 pre-copy rounds" 8 "$(on 1 'cat /sys/module/vproc/parameters/precopy_rounds')"
check_eq "precopy_rounds refuses 17, -1 and a word with EINVAL and keeps 8" "no no no 8" \
    "$(on 1 'P=/sys/module/vproc/parameters/precopy_rounds; for v in 17 -1 x; do echo $v > $P 2>/dev/null && echo yes || echo no; done; cat $P' | tr '\n' ' ' | sed 's/ $//')"
check "... and the refusal is logged" on 1 "dmesg | grep -q 'precopy_rounds 17 refused: at most 16'"
for r in 8 0; do
    on 1 "echo $r > /sys/module/vproc/parameters/precopy_rounds"
    pid=$(start_bg d3 "$M -m 64 -t 100 -q -w /tmp/d3.go")
    # Past its first fill (which writes every page at once): 64 MiB in.
    on 1 "for i in \$(seq 300); do [ \$(awk '/VmRSS/ {print \$2}' /proc/$pid/status) -ge 65536 ] && break; sleep 0.1; done; sleep 0.5"
    check_eq "a 64 MiB process rewriting its memory (precopy_rounds=$r) moves 1 -> 2" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
    n=$(rounds 1 "$pid" 1 2)
    if [ "$r" = 0 ]; then
        check_eq "... with no round after the first pass" 0 "$n"
    else
        check "... in 1 to 8 rounds after the first pass (rounds: $n; $(unread 1 "$pid" 1 2) pages not read again at the freeze)" \
            test "${n:-0}" -ge 1 -a "${n:-0}" -le 8
    fi
    on 1 "touch /tmp/d3.go"
    check_eq "... ends well" 0 "$(file_of 1 /tmp/d3.status 30)"
    check_eq "... its result equals the unmoved run's" "$ref" "$(on 1 'grep ^result /tmp/d3.out')"
done
on 1 "echo 8 > /sys/module/vproc/parameters/precopy_rounds"


# --- post-copy (issue 18, src/migrate/lazy.rs): a process that rewrites
# its 64 MiB faster than the link carries it (-k 65536 -c: every page,
# again and again) while it churns (-D: pages dropped and read back,
# written, an area mremap()ed, one unmapped and mapped again: userfaultfd
# events to follow). Its freeze names the pages it wrote instead of
# sending them; they come after Go, asked for first when it touches them.
# after NODE PID FROM TO: the "after" (post-copy) count of the move's event.
after() { on "$1" "grep 'pid $2 node $3 -> node $4' /proc/cluster/events | tail -1" | sed -n 's/.*, \([0-9]*\) after$/\1/p'; }
check_eq "post-copy is on by default" Y "$(on 1 'cat /sys/module/vproc/parameters/postcopy')"
# Its doors refuse what is not theirs, each with a log line: admin/lazy
# takes a hex migration id (one not arriving returns at once), and the
# restorer's "MIG uffd FD" needs a migration arriving here.
check_eq "admin/lazy refuses a word (EINVAL), returns at once for a migration not arriving" "no yes" \
    "$(on 2 'for v in zz 123abc; do echo $v > /proc/cluster/admin/lazy 2>/dev/null && echo yes || echo no; done' | tr '\n' ' ' | sed 's/ $//')"
check "... both logged" on 2 "dmesg | grep -q 'admin/lazy: write \"MIG\" (hex)' && dmesg | grep -q 'admin/lazy: no migration 123abc is arriving'"
check_eq "admin/restore refuses a userfaultfd for a migration not arriving (ENOENT)" \
    "No such file or directory" "$(on 2 'echo "123abc uffd 5" > /proc/cluster/admin/restore' 2>&1 | sed 's/.*write error: //')"
check "... logged" on 2 "dmesg | grep -q 'admin/restore: no migration 123abc is arriving'"
PC="$M -m 64 -k 65536 -t 40 -q -D -c"
ref=$(on 1 "cd /tmp; rm -f /tmp/pc.go; ($PC -w /tmp/pc.go > /tmp/pc.ref 2>&1 &) ; sleep 6; touch /tmp/pc.go; sleep 0.5; for i in \$(seq 100); do pgrep -x vproc-mtest >/dev/null || break; sleep 0.2; done; grep -E '^(churn|result)' /tmp/pc.ref")
check_match "the unmoved run prints its memory" "^churn=[0-9a-f]{16}" "$ref"
pid=$(start_bg pc "$PC -w /tmp/pc.go")
on 1 "sleep 1.5"
# Moved on while its pages still arrive: that move waits for them.
check_eq "it moves 1 -> 2 mid-run (churning), and on to 3 at once (waiting for its pages)" \
    "ok ok" "$(on 1 "echo 2 > /proc/$pid/goto && echo ok; echo 3 > /proc/$pid/goto && echo ok" | tr '\n' ' ' | sed 's/ $//')"
n=$(after 1 "$pid" 1 2)
check "... its first freeze left at least 16000 pages for after Go (after: $n; $(on 1 "grep 'pid $pid node 1 -> node 2' /proc/cluster/events | tail -1 | grep -o 'frozen [0-9.]* ms'"))" \
    test "${n:-0}" -ge 16000
check "... which node 2 put in (logged) before it went on" on 2 "dmesg | grep -q 'pid $pid: post-copy from node 1 done'"
check "... the source let its memory go (logged)" on 1 "for i in \$(seq 50); do dmesg | grep -q 'pid $pid: post-copy to node 2 ended ([0-9]* pages sent)\$' && exit 0; sleep 0.2; done; exit 1"
# (/proc lists every node's processes: node 2's own are 131072..196607.)
check_eq "... no helper (vproc-restore) of node 2's left" "" "$(on 2 "pgrep -x vproc-restore | awk '\$1 >= 131072 && \$1 < 196608'")"
on 3 "for i in \$(seq 150); do dmesg | grep -q 'pid $pid: post-copy from node 2 done' && exit 0; sleep 0.2; done"
on 1 "sleep 2"
check_eq "at its gate, rewriting 64 MiB without pause, it moves 3 -> 2" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
n=$(after 3 "$pid" 3 2)
check "... again with its pages after Go (after: $n)" test "${n:-0}" -ge 16000
check "... which node 2 put in" on 2 "for i in \$(seq 150); do dmesg | grep -q 'pid $pid: post-copy from node 3 done' && exit 0; sleep 0.2; done; exit 1"
on 1 "touch /tmp/pc.go"
check_eq "... ends well" 0 "$(file_of 1 /tmp/pc.status 30)"
check_eq "... its memory equals the unmoved run's" "$ref" "$(on 1 "grep -E '^(churn|result)' /tmp/pc.out")"
# Off: the same freeze sends what was written.
on 1 "echo 0 > /sys/module/vproc/parameters/postcopy"
pid=$(start_bg pc "$PC -w /tmp/pc.go")
on 1 "sleep 1.5"
check_eq "with postcopy=0 it moves 1 -> 2" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
check_eq "... its freeze sent every page (after: 0)" 0 "$(after 1 "$pid" 1 2)"
on 1 "echo 1 > /sys/module/vproc/parameters/postcopy; touch /tmp/pc.go"
check_eq "... ends well" 0 "$(file_of 1 /tmp/pc.status 30)"
check_eq "... the same memory" "$ref" "$(on 1 "grep -E '^(churn|result)' /tmp/pc.out")"

# Two threads writing every page at its gate, the second from the end:
# both wait for pages after the move, sometimes the same one.
PT="$M -m 64 -k 65536 -t 5 -q -T -c"
ref=$(on 1 "cd /tmp; rm -f /tmp/pt.go; ($PT -w /tmp/pt.go > /tmp/pt.ref 2>&1 &) ; sleep 3; touch /tmp/pt.go; sleep 0.5; for i in \$(seq 100); do pgrep -x vproc-mtest >/dev/null || break; sleep 0.2; done; grep ^result /tmp/pt.ref")
pid=$(start_bg pt "$PT -w /tmp/pt.go")
on 1 "sleep 2"
check_eq "two threads rewriting 64 MiB at its gate: it moves 1 -> 2" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
n=$(after 1 "$pid" 1 2)
check "... with its pages after Go (after: $n)" test "${n:-0}" -ge 16000
check "... which node 2 put in" on 2 "for i in \$(seq 150); do dmesg | grep -q 'pid $pid: post-copy from node 1 done' && exit 0; sleep 0.2; done; exit 1"
on 1 "touch /tmp/pt.go"
check_eq "... ends well" 0 "$(file_of 1 /tmp/pt.status 30)"
check_eq "... its memory equals the unmoved run's" "$ref" "$(on 1 "grep ^result /tmp/pt.out")"

# --- post-copy from a node that is lost meanwhile: the pages it kept are
# lost with it, so the process cannot run on; it is killed where it ran
# (logged) and its parent at home sees it killed (SIGKILL), never a
# process running on with pages missing.
pid=$(start_bg pc "$PC -w /tmp/pc.go")
on 1 "sleep 1.5; echo 2 > /proc/$pid/goto"
on 2 "for i in \$(seq 150); do dmesg | grep -q 'pid $pid: post-copy from node 1 done' && exit 0; sleep 0.2; done"
check_eq "a process rewriting its memory moves 2 -> 3 (post-copy)" ok "$(on 1 "echo 3 > /proc/$pid/goto && echo ok")"
"$CLUSTER" cut 2
check "node 2 cut off before its pages are all in: node 3 kills the process (logged)" \
    on 3 "for i in \$(seq 100); do dmesg | grep -q 'pid $pid: node 2, which kept its memory, is gone' && exit 0; sleep 0.2; done; exit 1"
check_eq "... its parent at home sees it killed (SIGKILL)" 137 "$(file_of 1 /tmp/pc.status 20)"
check_eq "... it runs nowhere" "" "$(for n in 1 2 3; do on $n "pgrep -x vproc-mtest || true"; done)"
"$CLUSTER" heal 2
check "... node 2 back" wait_up 2 1 30
check "... and the source let that memory go once it heard (logged)" on 2 "for i in \$(seq 300); do dmesg | grep -q 'pid $pid: post-copy to node 3 ended' && exit 0; sleep 0.2; done; exit 1"
