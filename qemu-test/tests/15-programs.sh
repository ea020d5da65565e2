# Real programs (issue 15): what programs nobody here wrote need to keep
# working across a move. Sourced by run-tests with lib.sh; the cluster is up.
#
# - The devices every node has (/dev/null, zero, full, urandom) are opened
#   again where the process arrives; other character devices stay home's
#   (/dev/kmsg here: its ->read, which kernel_read refuses, is served as
#   the process's own read(2) would be).
# - `yes > /dev/null` survives a move.
# - A goto written between fork and exec moves the new program or fails
#   with EAGAIN; never EINVAL.

# --- devices: vproc-devs opens them at home, moves to node 2, uses them
mark=vproc-mark-$RANDOM
for n in 1 2 3; do on $n 'rm -f /tmp/dv.*'; done
on 1 "cd /tmp; vproc-devs -w /tmp/dv.go -k $mark > /tmp/dv.out 2>&1 & echo \$! > /tmp/dv.pid; wait \$!; echo \$? > /tmp/dv.status" >/dev/null 2>&1 &
pid=$(on 1 'for i in $(seq 100); do grep -q ready /tmp/dv.out 2>/dev/null && break; sleep 0.1; done; cat /tmp/dv.pid')
check_eq "dv: goto 2 succeeds" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
check_eq "dv: it runs on node 2" 2 "$(on 2 "cat /proc/$pid/where")"
check_eq "dv: node 2's copy has node 2's devices open (seen in node 2's /proc)" \
    "/dev/full /dev/null /dev/urandom /dev/zero" \
    "$(on 2 "echo \$(for f in /proc/$pid/fd/*; do readlink \$f; done | grep '^/dev/' | sort -u)")"
on 1 "echo $mark > /dev/kmsg"
on 1 'touch /tmp/dv.go'
check_eq "dv: it ends with status 0" 0 "$(on 1 'for i in $(seq 100); do [ -s /tmp/dv.status ] && break; sleep 0.2; done; cat /tmp/dv.status')"
out=$(on 1 'cat /tmp/dv.out')
for d in null zero full urandom; do
    check_match "dv: its own /proc/self/fd (home's) names /dev/$d" "^fd $d /dev/$d$" "$out"
done
check_match "dv: null, zero, full (ENOSPC), urandom and a seek work there" "^devs ok$" "$out"
check_match "dv: /dev/kmsg stays home's: it read home's log" "^kmsg $mark seen$" "$out"

# --- yes > /dev/null survives a move, writing all along
pid=$(on 1 'yes > /dev/null 2>/tmp/yes.err & echo $!')
check_eq "yes: goto 2 succeeds" ok "$(on 1 "echo 2 > /proc/$pid/goto && echo ok")"
sleep 2
check_eq "yes: after 2 s it still runs, on node 2 only" "2 1" "$(on 2 "cat /proc/$pid/where") $(copies "$pid")"
check_eq "yes: its stdout there is node 2's /dev/null" /dev/null "$(on 2 "readlink /proc/$pid/fd/1")"
for n in 1 2 3; do
    check_match "yes: cluster ps on node $n lists it once, on node 2, home 1" "^1 +$pid +2 +1 " \
        "$(on $n "cluster ps | grep -c '^ *$pid '; cluster ps | grep '^ *$pid '" | tr '\n' ' ')"
done
t0=$(on 2 "awk '{ print \$14 }' /proc/$pid/stat")
sleep 1
t1=$(on 2 "awk '{ print \$14 }' /proc/$pid/stat")
check "yes: and it keeps running (utime $t0 -> $t1)" test "$t1" -gt "$t0"
on 1 "kill -9 $pid"
check "yes: killed at home, it is gone" on 2 "for i in \$(seq 50); do [ -d /proc/$pid ] || exit 0; sleep 0.1; done; exit 1"
check_eq "yes: it wrote no error" "" "$(on 1 'cat /tmp/yes.err')"

# --- nice travels as the process had it: a move's kernel work runs
# boosted (nice -10), and that boost is never what arrives.
pids=$(on 1 'nice -n 5 yes > /dev/null 2>&1 & a=$!; yes > /dev/null 2>&1 & echo $a $!')
for p in $pids; do on 1 "echo 2 > /proc/$p/goto"; done
check_eq "nice: after a move, nice 5 and nice 0 are still 5 and 0" "5 0" \
    "$(for p in $pids; do on 2 "awk '{ print \$19 }' /proc/$p/stat"; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "nice: and 0 at home again after a round trip" 0 "$(p=${pids#* }; on 1 "echo 1 > /proc/$p/goto; awk '{ print \$19 }' /proc/$p/stat")"
on 1 "kill -9 $pids"

# --- the boost is only for whoever may raise priorities (the leveller,
# a leaving node, a caller with CAP_SYS_NICE): a plain user's goto does
# its pre-copy at the nice the user has. Sampled: the lowest nice of the
# writer while it moves a 64 MiB process of its own.
on 1 "printf '%s\n' 'echo \$\$ > /tmp/wn.pid' 'echo 2 > /proc/\$1/goto' > /tmp/wn.sh; chmod 755 /tmp/wn.sh"
# writer_nice AS PID: the lowest nice of a goto writer run by AS ("sh -c" for
# root, "su user -c") while it moves PID to node 2.
writer_nice() {
    on 1 "rm -f /tmp/wn.pid; $1 'sh /tmp/wn.sh $2' & for i in \$(seq 100); do [ -s /tmp/wn.pid ] && break; sleep 0.02; done
          w=\$(cat /tmp/wn.pid); m=99
          while [ -d /proc/\$w ]; do n=\$(awk '{ print \$19 }' /proc/\$w/stat 2>/dev/null); [ -n \"\$n\" ] && [ \"\$n\" -lt \$m ] && m=\$n; done
          wait; echo \$m"
}
up=$(on 1 "su user -c 'vproc-mtest -m 64 -t 600 -q > /dev/null 2>&1 & echo \$!'")
rp=$(on 1 'vproc-mtest -m 64 -t 600 -q > /dev/null 2>&1 & echo $!')
sleep 3
check_eq "nice: a user's goto of its 64 MiB process runs at the user's nice (0)" 0 "$(writer_nice "su user -c" "$up")"
check_eq "nice: root's (CAP_SYS_NICE) runs boosted (-10)" -10 "$(writer_nice "sh -c" "$rp")"
check_eq "nice: both moved" "2 2" "$(on 1 "cat /proc/$up/where /proc/$rp/where" | tr '\n' ' ' | sed 's/ $//')"
on 1 "kill -9 $up $rp"

# --- goto between fork and exec: moves or EAGAIN, the program unharmed
res=$(on 1 'cd /tmp; for k in $(seq 12); do
        vproc-mtest -s -t 4 -m 1 > /dev/null & p=$!
        if echo 2 > /proc/$p/goto 2>/tmp/fe.err; then r=moved; else r=$(sed "s/.*: //" /tmp/fe.err | tr " " _); fi
        wait $p; echo "$r $?"
    done')
echo "$res" | sort | uniq -c | diag
check_eq "fe: no goto between fork and exec got EINVAL" 0 "$(printf '%s\n' "$res" | grep -c 'Invalid')"
check_eq "fe: each either moved or got EAGAIN" 0 "$(printf '%s\n' "$res" | grep -Evc '^(moved|Resource_temporarily_unavailable) ')"
check_eq "fe: every program ended with status 0" 0 "$(printf '%s\n' "$res" | grep -vc ' 0$')"
check "fe: at least one moved" test "$(printf '%s\n' "$res" | grep -c '^moved')" -ge 1

# --- Debian programs moved mid-run, each compared byte for byte with an
# unmoved run of the same command. They work in /shared (the directory
# every node sees); a program refused (a documented errno) must finish
# unharmed. moved_run NAME CMD: runs CMD (one program, exec'd by the
# shell) on node 1 twice, unmoved then moved to node 2 a third of the way
# in; its output in /shared/NAME.{ref,out}. sqlite3 moves with its
# database open read-write (its positioned I/O, size, sync and locks are
# done at home).
if ! on 1 'test -x /usr/bin/python3'; then
    fail "the nodes run the Debian root (python3 is there)"
else
    on 1 'cd /shared && rm -rf prog && mkdir prog && cd prog &&
          seq 1 1500000 > big && seq 1 400000 | shuf --random-source=big > unsorted &&
          printf "%s\n" "create table t(a integer, b text);" \
            "with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000) insert into t select x, hex(x * 7919 % 65536) from c;" \
            "select count(*), sum(a), max(b), min(b) from t;" \
            "select b, count(*) from t group by b order by 2 desc, 1 limit 5;" > q.sql'
fi
moved_run() {
    local name=$1 cmd=$2 t0 ms pid g st ref
    t0=$(date +%s%N)
    on 1 "cd /shared/prog && $cmd > $name.ref 2>&1; echo \$? > $name.refst"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    on 1 "cd /shared/prog && rm -f $name.pid $name.st"
    on 1 "cd /shared/prog || exit 1; $cmd > $name.out 2>&1 & echo \$! > $name.pid; wait \$!; echo \$? > $name.st" >/dev/null 2>&1 &
    pid=$(on 1 "for i in \$(seq 100); do [ -s /shared/prog/$name.pid ] && break; sleep 0.05; done; cat /shared/prog/$name.pid")
    sleep "$(printf '%d.%03d' $((ms / 3000)) $((ms / 3 % 1000)))"
    g=$(on 1 "echo 2 > /proc/$pid/goto 2>/tmp/$name.err && echo moved || sed 's/.*: //' /tmp/$name.err")
    st=$(on 1 "for i in \$(seq 600); do [ -s /shared/prog/$name.st ] && break; sleep 0.5; done; cat /shared/prog/$name.st")
    ref=$(on 1 "cat /shared/prog/$name.refst")
    echo "$name: unmoved run $ms ms; goto: $g" | diag
    on 1 "echo '$name: $g' >> /shared/prog/summary"
    case $g in
        moved|"Operation not supported") ;;
        *) fail "$name: goto moved it or refused it with EOPNOTSUPP (got: $g)"; return ;;
    esac
    check_eq "$name: same status as unmoved ($g)" "$ref" "$st"
    check "$name: same output, byte for byte ($g)" on 1 "cmp /shared/prog/$name.ref /shared/prog/$name.out"
}
moved_run python "python3 -c 'x = 0
for i in range(750000): x = (x * 31 + i) % 1000000007
print(x)'"
moved_run perl "perl -e 'my \$x = 0; for my \$i (1..3000000) { \$x = (\$x * 31 + \$i) % 1000000007 } print \"\$x\n\"'"
moved_run xz "xz -T1 -1 -c big"
# sort's temporary files go to /shared (they would be home's anyway: a
# path opened after a move is looked up at home).
on 1 'mkdir -p /shared/prog/tmp'
moved_run sort "sort -S 4M -T /shared/prog/tmp unsorted"
moved_run sqlite "sqlite3 -batch -init /dev/null db\$\$.sqlite < q.sql"
moved_run bash "bash -c 'x=0; for ((i = 0; i < 20000; i++)); do x=\$(( (x * 31 + i) % 1000000007 )); done; echo \$x; wc -l < big'"
on 1 "printf 'int f%d(int x) { return x * %d; }\n' \$(seq 1 200 | awk '{ print \$1, \$1 }') > /shared/prog/gen.c"
moved_run gcc "gcc -O2 -c gen.c -o /dev/stdout"
# gcc's compiler proper, cc1, moved mid-compile (the driver, with its
# children, stays): the object is the one an unmoved compile makes.
on 1 'cd /shared/prog && gcc -O2 -c gen.c -o gen-ref.o'
on 1 'cd /shared/prog && rm -f gen-mv.o cc1.st; gcc -O2 -c gen.c -o gen-mv.o; echo $? > cc1.st' >/dev/null 2>&1 &
cc1=$(on 1 'for i in $(seq 200); do p=$(pgrep -x cc1) && break; sleep 0.05; done; echo $p')
g=$(on 1 "echo 2 > /proc/$cc1/goto 2>/tmp/cc1.err && echo moved || sed 's/.*: //' /tmp/cc1.err")
check_eq "cc1: gcc's compiler moves mid-compile" moved "$g"
check_eq "cc1: gcc ends with status 0" 0 "$(on 1 'for i in $(seq 600); do [ -s /shared/prog/cc1.st ] && break; sleep 0.5; done; cat /shared/prog/cc1.st')"
check "cc1: the object is the unmoved compile's, byte for byte" on 1 'cmp /shared/prog/gen-ref.o /shared/prog/gen-mv.o'
on 1 'cat /shared/prog/summary' | diag

# --- make moved in its first recipe (a sleep), in a directory only home has
# (/tmp/mk): its recipe shells run on node 2 (/bin/sh is the very file
# there), and what they run from the project, a generator script and the
# program just built (dash's vfork children), goes home through the
# restorer (before 2026-12-07: ENOENT on node 2); gcc runs where it is
# sent. The result is an unmoved build's.
on 1 "rm -rf /tmp/mk && mkdir /tmp/mk && cat > /tmp/mk/gen.sh <<'EOF'
#!/bin/sh
if [ \"\$1\" = where ]; then echo \"gen ran on \$(cat /proc/self/where)\"; exit 0; fi
echo '#include <stdio.h>'
echo 'int main(void) { puts(\"built\"); return 0; }'
EOF
chmod 755 /tmp/mk/gen.sh
printf 'out.txt: prog\n\t./prog > out.txt; ./gen.sh where >> out.txt\nprog: gen.c\n\tgcc -O0 -o prog gen.c\ngen.c: gen.sh\n\tsleep 2; ./gen.sh > gen.c\n' > /tmp/mk/Makefile
cd /tmp/mk && make -s > ref.log 2>&1 && mv out.txt ref.txt && rm -f prog gen.c"
on 1 'cd /tmp/mk && rm -f mk.pid mk.st; (make -s > mk.log 2>&1 & echo $! > mk.pid; wait $!; echo $? > mk.st) > /dev/null 2>&1 &'
mk=$(on 1 'for i in $(seq 100); do [ -s /tmp/mk/mk.pid ] && break; sleep 0.05; done; cat /tmp/mk/mk.pid')
check_eq "make: moved to node 2 in its first recipe" ok "$(on 1 "echo 2 > /proc/$mk/goto && echo ok")"
check_eq "make: ends with status 0" 0 "$(file_of 1 /tmp/mk/mk.st 120)"
check_eq "make: its output is the unmoved build's (the program built and run at home, the script too)" \
    "$(on 1 'cat /tmp/mk/ref.txt')" "$(on 1 'cat /tmp/mk/out.txt 2>&1; cat /tmp/mk/mk.log')"
check_match "make: it forked its recipes on node 2" "pid $mk forks on node 2" "$(on 1 'tail -20 /proc/cluster/events')"
check_match "make: node 2 ran the project's programs through the restorer" "a vfork child, home's program differs: it executes it through the restorer" \
    "$(on 2 'dmesg | tail -60')"

# --- MOSIX's demo (make demo, make bench): `make -j6` on node 1 builds a
# generated C project in /shared with the leveller on and cc1 in
# loadlevellist; compilers move to the other nodes by themselves, and the
# result is the one a build on node 1 alone makes, byte for byte. 6 files
# of 60 functions here (12 of 200 in the demo).
on 1 'rm -rf /shared/mosix && vproc-gen-project /shared/mosix 6 60'
on 1 'cd /shared/mosix && make -s -j6 > /dev/null 2>&1 && rm -rf ../mosix-ref && mkdir ../mosix-ref && cp -p *.o proj ../mosix-ref/ && make -s clean'
before=$(on 1 "grep -c ' balance node=1 ' /proc/cluster/events")
on 1 'echo cc1 > /proc/cluster/loadlevellist; cd /shared/mosix && rm -f ../mosix.st; (make -s -j6 > ../mosix.log 2>&1; echo $? > ../mosix.st) > /dev/null 2>&1 &'
# Where each compiler runs, sampled while the build goes on.
seen=$(on 1 'for i in $(seq 240); do [ -s /shared/mosix.st ] && break; cluster ps | awk '"'"'$NF == "cc1" { print $2 }'"'"'; sleep 0.5; done | sort | uniq -c')
echo "$seen" | awk '{ print "cc1 samples on node " $2 ": " $1 }' | diag
st=$(on 1 'cat /shared/mosix.st')
check_eq "mosix: make -j6 ends with status 0" 0 "$st"
# A failed build: what the compiler said, and the build's moves (", N
# after": pages left for post-copy) to tell which kind of move it was.
if [ "$st" != 0 ]; then
    on 1 'head -20 /shared/mosix.log' | diag
    on 1 "grep -E ' (balance|migrate) ' /proc/cluster/events | tail -12" | diag
fi
on 1 'echo -cc1 > /proc/cluster/loadlevellist'
moved=$(( $(on 1 "grep -c ' balance node=1 ' /proc/cluster/events") - before ))
check "mosix: node 1's leveller moved some of the build ($moved processes)" test "$moved" -ge 1
check_match "mosix: a compiler was seen running on node 2 or 3" '^ *[0-9]+ [23]$' "$seen"
check_eq "mosix: every object and the program are the one-node build's, byte for byte" "" \
    "$(on 1 'cd /shared/mosix && for f in ../mosix-ref/*; do cmp -s $f ${f#../mosix-ref/} || echo ${f#../mosix-ref/}; done')"
check_eq "mosix: the program prints what the one-node build's does" "$(on 1 /shared/mosix-ref/proj)" "$(on 1 /shared/mosix/proj)"
