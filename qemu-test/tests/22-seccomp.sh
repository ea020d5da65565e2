# seccomp: a process under a filter or in strict mode moves with exactly
# its rules (issue 17, item 6: the refusal list shrinks). Sourced by
# run-tests with lib.sh; the cluster is up.
#
# The source reads the filters (oldest first: kernel patch 0008,
# seccomp_filter_copy()), Begin carries them, the destination's restorer
# installs them again as the last thing before its hand-over, whose write
# a forked probe has made under the same rules first. At home the deputy
# still has the filters the process left with: coming home with others is
# refused. vproc-seccomp (qemu-test/progs/): uname(2) fails with EPERM
# under its first filter, EACCES under its second (the newest wins).

S=vproc-seccomp

# start NODE MODE OUT [USER]: runs it in the background; prints its PID.
start() {
    local run="$S $2 > $3 2>&1 & echo \$! > $3.pid"
    if [ -n "${4:-}" ]; then
        on "$1" "rm -f $3 $3.pid; touch $3; chown $4 $3; su $4 -c '$run'; for i in \$(seq 50); do [ -s $3 ] && break; sleep 0.1; done; cat $3.pid"
    else
        on "$1" "rm -f $3 $3.pid; $run; for i in \$(seq 50); do [ -s $3 ] && break; sleep 0.1; done; cat $3.pid"
    fi
}
goto() { on "$1" "echo $3 > /proc/$2/goto 2>/tmp/gerr && echo ok || sed 's/.*: //' /tmp/gerr"; }
status() { on "$1" "awk '/^$3:/ {print \$2}' /proc/$2/status"; }
# ticks NODE FILE: its line count now.
lines() { on "$1" "wc -l < $2"; }
# grows NODE FILE N: waits (up to 10 s) for more than N lines, prints the last.
grows() { on "$1" "for i in \$(seq 100); do [ \$(wc -l < $2) -gt $3 ] && break; sleep 0.1; done; [ \$(wc -l < $2) -gt $3 ] && tail -1 $2"; }

# --- a filter, a user's process, moved 1 -> 2 -> 3, a filter added away.
p=$(start 1 filter /tmp/sc.out user)
check_eq "seccomp: a user's process under a filter on node 1" "2 1" "$(status 1 "$p" Seccomp) $(status 1 "$p" Seccomp_filters)"
check_eq "... moves 1 -> 2" ok "$(goto 1 "$p" 2)"
check_eq "... on node 2: filter mode, 1 filter, no_new_privs, uid 1000" "2 1 1 1000" \
    "$(status 2 "$p" Seccomp) $(status 2 "$p" Seccomp_filters) $(status 2 "$p" NoNewPrivs) $(status 2 "$p" Uid)"
n=$(lines 1 /tmp/sc.out)
check_match "... its uname() still fails with EPERM there" "uname=1 filters=1$" "$(grows 1 /tmp/sc.out "$n")"
on 1 "kill -USR1 $p"
check_match "... a second filter installed on node 2: EACCES (the newest wins)" "uname=13 filters=2$" \
    "$(on 1 'for i in $(seq 100); do tail -1 /tmp/sc.out | grep -q filters=2 && break; sleep 0.1; done; tail -1 /tmp/sc.out')"
check_eq "... moves 2 -> 3" ok "$(goto 1 "$p" 3)"
check_eq "... on node 3: 2 filters" "2 2" "$(status 3 "$p" Seccomp) $(status 3 "$p" Seccomp_filters)"
n=$(lines 1 /tmp/sc.out)
check_match "... in their order: uname() fails with EACCES on node 3" "uname=13 filters=2$" "$(grows 1 /tmp/sc.out "$n")"
check_eq "... cannot come home with a filter added away (EOPNOTSUPP)" "Operation not supported" "$(goto 1 "$p" 1)"
check_match "... says why" "cannot come home: its seccomp state changed away from home" "$(on 1 'dmesg | tail -20')"
check_eq "... and runs on, on node 3" 3 "$(on 1 "cat /proc/$p/where")"
n=$(lines 1 /tmp/sc.out)
check_match "... still ticking" "uname=13" "$(grows 1 /tmp/sc.out "$n")"
on 1 "kill -9 $p"

# --- the same filters come home.
p=$(start 1 filter /tmp/sc2.out)
check_eq "a filtered process moves 1 -> 2" ok "$(goto 1 "$p" 2)"
check_eq "... and comes home with the filters it left with" ok "$(goto 1 "$p" 1)"
check_eq "... at home: 1 filter" "1 1" "$(on 1 "cat /proc/$p/where") $(status 1 "$p" Seccomp_filters)"
n=$(lines 1 /tmp/sc2.out)
check_match "... uname() fails with EPERM" "uname=1 filters=1$" "$(grows 1 /tmp/sc2.out "$n")"
on 1 "kill -9 $p"

# --- threads: one chain for all, installed with TSYNC.
p=$(start 1 threads /tmp/sc3.out)
check_eq "a 3-thread process under a filter moves 1 -> 2" ok "$(goto 1 "$p" 2)"
check_eq "... every thread on node 2 has the filter" "1 1 1" \
    "$(on 2 "for t in /proc/$p/task/*; do awk '/^Seccomp_filters:/ {print \$2}' \$t/status; done | tr '\n' ' ' | sed 's/ \$//'")"
n=$(lines 1 /tmp/sc3.out)
on 1 "for i in \$(seq 100); do [ \$(wc -l < /tmp/sc3.out) -gt $((n + 6)) ] && break; sleep 0.1; done"
check_eq "... and each thread's uname() fails with EPERM there" "0 1 2" \
    "$(on 1 "tail -n +$((n + 1)) /tmp/sc3.out | awk '/uname=1\$/ {print \$2}' | sort -u | tr '\n' ' ' | sed 's/ \$//'")"
check_eq "... no thread's succeeds" 0 "$(on 1 "tail -n +$((n + 1)) /tmp/sc3.out | grep -vc 'uname=1\$'")"
on 1 "kill -9 $p"

# --- threads with chains of their own: a filter shared by all three
# (TSYNC), one more for the process, another for thread 1, none more for
# thread 2 (uname: EPERM, EACCES, 0; sysinfo: EPERM for all).
# filters NODE PID: each thread's Seccomp_filters, by TID.
filters() { on "$1" "for t in \$(ls /proc/$2/task | sort -n); do awk '/^Seccomp_filters:/ {print \$2}' /proc/$2/task/\$t/status; done | tr '\n' ' ' | sed 's/ \$//'"; }
# pt_seen FILE N: what each thread's calls gave in FILE's lines after N.
pt_seen() {
    on 1 "for i in \$(seq 100); do [ \$(wc -l < $1) -gt $(($2 + 9)) ] && break; sleep 0.1; done"
    on 1 "tail -n +$(($2 + 1)) $1 | awk '{print \$2, \$3, \$4}' | sort -u | tr '\n' ',' | sed 's/,\$//'"
}
PT="0 uname=1 sysinfo=1,1 uname=13 sysinfo=1,2 uname=0 sysinfo=1"
p=$(start 1 perthread /tmp/pt.out user)
check_eq "a user's 3 threads with different filters on node 1 (2, 2, 1)" "2 2 1" "$(filters 1 "$p")"
check_eq "... moves 1 -> 2 (it was refused before)" ok "$(goto 1 "$p" 2)"
check_eq "... on node 2 each thread has its own chain (2, 2, 1)" "2 2 1" "$(filters 2 "$p")"
check_eq "... each thread's calls fail as before the move" "$PT" "$(pt_seen /tmp/pt.out "$(lines 1 /tmp/pt.out)")"
check_eq "... moves 2 -> 3" ok "$(goto 1 "$p" 3)"
check_eq "... on node 3 too (2, 2, 1)" "2 2 1" "$(filters 3 "$p")"
check_eq "... and its calls there" "$PT" "$(pt_seen /tmp/pt.out "$(lines 1 /tmp/pt.out)")"
check_eq "... comes home: the chains it left with" ok "$(goto 1 "$p" 1)"
check_eq "... at home (2, 2, 1)" "1 2 2 1" "$(on 1 "cat /proc/$p/where") $(filters 1 "$p")"
check_eq "... and its calls at home" "$PT" "$(pt_seen /tmp/pt.out "$(lines 1 /tmp/pt.out)")"
check_eq "... one copy of it in the cluster" 1 "$(copies "$p")"
on 1 "kill -9 $p"

# --- strict mode for one thread only.
p=$(start 1 strictthread /tmp/stt.out)
check_eq "a process whose thread 1 is in strict mode moves 1 -> 2" ok "$(goto 1 "$p" 2)"
check_eq "... on node 2: strict for thread 1 only" "0 1" \
    "$(on 2 "for t in \$(ls /proc/$p/task | sort -n); do awk '/^Seccomp:/ {print \$2}' /proc/$p/task/\$t/status; done | tr '\n' ' ' | sed 's/ \$//'")"
n=$(lines 1 /tmp/stt.out)
on 1 "for i in \$(seq 150); do [ \$(tail -n +$((n + 1)) /tmp/stt.out | grep -c strict) -gt 1 ] && [ \$(tail -n +$((n + 1)) /tmp/stt.out | grep -c tick) -gt 1 ] && break; sleep 0.1; done"
check_eq "... both go on there (the strict thread writes, the other's uname() works)" "yes yes" \
    "$(on 1 "tail -n +$((n + 1)) /tmp/stt.out | grep -q '^strict [0-9]*\$' && echo yes; tail -n +$((n + 1)) /tmp/stt.out | grep -q '^tick [0-9]* uname=0\$' && echo yes" | tr '\n' ' ' | sed 's/ $//')"
check_eq "... comes home" ok "$(goto 1 "$p" 1)"
on 1 "kill -9 $p"

# --- a thread's own filter refuses its hand-over's write.
p=$(start 1 threadnowrite /tmp/tnw.out)
check_eq "a process whose thread 1 alone may not write(2): its move is refused (EOPNOTSUPP)" "Operation not supported" "$(goto 1 "$p" 2)"
check_eq "... it stays on node 1, running, one copy" "1 alive 1" "$(on 1 "cat /proc/$p/where; kill -0 $p && echo alive" | tr '\n' ' ' | sed 's/ $//') $(copies "$p")"
on 1 "kill -9 $p"

# --- strict mode: read, write, exit, sigreturn only.
p=$(start 1 strict /tmp/st.out)
check_eq "strict mode: moves 1 -> 2" ok "$(goto 1 "$p" 2)"
check_eq "... in strict mode on node 2" 1 "$(status 2 "$p" Seccomp)"
n=$(lines 1 /tmp/st.out)
check_match "... still writing" "^tick [0-9]+$" "$(grows 1 /tmp/st.out "$n")"
check_eq "... comes home" ok "$(goto 1 "$p" 1)"
n=$(lines 1 /tmp/st.out)
check_match "... still writing, in strict mode" "^tick [0-9]+ 1$" "$(grows 1 /tmp/st.out "$n") $(status 1 "$p" Seccomp)"
on 1 "kill -9 $p"

# --- a filter that would refuse the hand-over's write: the move is refused.
p=$(start 1 nowrite /tmp/nw.out)
check_eq "a process whose filter refuses write(2): its move is refused (EOPNOTSUPP)" "Operation not supported" "$(goto 1 "$p" 2)"
check_eq "... it stays on node 1, running" "1 alive" "$(on 1 "cat /proc/$p/where; kill -0 $p && echo alive" | tr '\n' ' ' | sed 's/ $//')"
check_eq "... one copy of it in the cluster" 1 "$(copies "$p")"
check_match "... node 2's restorer said why" "refused it \\(error -95\\)" "$(on 1 'dmesg | tail -5')"
check_eq "... a move to node 3 is refused the same way" "Operation not supported" "$(goto 1 "$p" 3)"
on 1 "kill -9 $p"

