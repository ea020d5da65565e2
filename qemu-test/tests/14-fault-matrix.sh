# The fault matrix: for a move home -> away (1 -> 2) and a move on from
# away (1 -> 2 -> 3), cut or power off the source, the destination or the
# home node at a random moment of the move (Begin, pre-copy, freeze,
# commit, Go, just after) and check what README "Faults" promises: the PID
# runs at most once across the cluster; the parent's wait() returns (the
# real status, or 137 when the process was lost) once the process is
# killed or lost; the custody lists and the module's reference count come
# back to where they were; rmmod works.
#
# FAULT_CELLS=all runs every cell (`make faults`); the default runs a few
# in the main suite. FAULT_TRIALS (default 1) trials per cell.

M=vproc-mtest
TRIALS=${FAULT_TRIALS:-1}
CELLS=${FAULT_CELLS:-quick}
peers=1@10.77.0.1:7300,2@10.77.0.2:7300,3@10.77.0.3:7300

refcnt() { on "$1" 'cat /sys/module/vproc/refcnt 2>/dev/null'; }
# slab NODE: its boot id and the KiB in kmalloc slabs (what the module
# allocates from), after a moment for RCU frees.
slab() { on "$1" "sleep 1; cat /proc/sys/kernel/random/boot_id; awk '/^kmalloc/ { s += \$2 * \$4 } END { print int(s / 1024) }' /proc/slabinfo"; }
all_up() {
    local n m
    "$CLUSTER" up --nodes "$NODES" >/dev/null 2>&1
    for n in $(seq 1 "$NODES"); do
        for m in $(seq 1 "$NODES"); do
            [ "$n" = "$m" ] || wait_up "$n" "$m" 60 >/dev/null || return 1
        done
    done
}
# settle: every node back, every process of this file ended, every
# custody list empty (no body, deputy, arrival or move left) and every
# reference count where it was.
settle() {
    local n i
    for n in $(seq 1 "$NODES"); do "$CLUSTER" heal "$n" >/dev/null 2>&1; done
    all_up
    for i in $(seq 60); do
        local busy=0
        for n in $(seq 1 "$NODES"); do
            [ "$(on "$n" "awk '\$1 ~ /^(bodies|deputies|arriving|moving)\$/ { s += \$2 } END { print s + 0 }' /proc/cluster/custody")" = 0 ] || busy=1
        done
        [ $busy = 0 ] && return 0
        sleep 0.5
    done
    return 1
}

check "the cluster is whole before the matrix" all_up
# How long a 24 MiB move takes here (the trials spread over it).
pid=$(on 1 "cd /tmp; $M -m 24 -t 1 -s -w /tmp/fm.never > /dev/null 2>&1 & echo \$!")
t0=$(date +%s%N)
on 1 "echo 2 > /proc/$pid/goto"
move_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
on 1 "kill -9 $pid"
echo "# a 24 MiB move takes $move_ms ms" | diag
check "fm: settled after the reference move" settle
# Reference counts and slabs once settled (a call in a module hook, such as
# a signal or a /proc read in flight, holds a reference for its length).
declare -A slab0 ref
for n in $(seq 1 "$NODES"); do
    slab0[$n]=$(slab "$n" | tr '\n' ' ')
    ref[$n]=$(refcnt "$n")
done

# fault KIND NODE: cut the link of NODE, or power it off.
fault() { if [ "$1" = cut ]; then "$CLUSTER" cut "$2"; else "$CLUSTER" kill "$2"; fi; }

# trial ROUTE KIND TARGET N: one trial.
trial() {
    local route=$1 kind=$2 target=$3 k=$4 tag="fm$RANDOM"
    local home=1 src dst node
    if [ "$route" = home ]; then src=1; dst=2; else src=2; dst=3; fi
    case $target in source) node=$src ;; dest) node=$dst ;; home) node=$home ;; esac
    on 1 "rm -f /tmp/$tag.*; cd /tmp; $M -m 24 -t 1 -s -w /tmp/$tag.never > /dev/null 2>&1 & p=\$!; echo \$p > /tmp/$tag.pid
          wait \$p; echo \$? > /tmp/$tag.status" >/dev/null 2>&1 &
    local pid
    pid=$(on 1 "for i in \$(seq 100); do [ -s /tmp/$tag.pid ] && break; sleep 0.1; done; cat /tmp/$tag.pid")
    if [ "$route" = away ]; then
        on 1 "echo 2 > /proc/$pid/goto" || { fail "fm $route/$kind/$target: setup move 1 -> 2"; return; }
    fi
    local delay=$(( RANDOM % (move_ms * 12 / 10 + 1) ))
    on "$src" "echo $dst > /proc/$pid/goto 2>/dev/null" >/dev/null 2>&1 &
    local mover=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    fault "$kind" "$node"
    local down=$(( 3 + RANDOM % 12 ))
    [ "$kind" = kill ] || { sleep "$down"; "$CLUSTER" heal "$node"; }
    wait "$mover" 2>/dev/null
    local desc="fm $route/$kind/$target #$k (after $delay of $move_ms ms)"
    [ "$kind" = cut ] && desc="fm $route/$kind/$target #$k (after $delay of $move_ms ms, for $down s)"
    if [ "$node" = 1 ] && [ "$kind" = kill ]; then
        # Home is gone with the parent: the process must not outlive it
        # anywhere (fenced), and nothing is left once home is back.
        sleep 12
        check_eq "$desc: home powered off, no copy runs on 2 or 3" 0 \
            "$( c=0; for n in 2 3; do [ "$(on $n "cat /proc/$pid/where 2>/dev/null")" = "$n" ] && c=$((c+1)); done; echo $c )"
        check "$desc: settled" settle
        return
    fi
    [ "$kind" = kill ] && { all_up || true; }
    sleep 3
    local c st
    c=$(copies "$pid")
    st=$(on 1 "cat /tmp/$tag.status 2>/dev/null")
    if [ -n "$st" ]; then
        check_eq "$desc: lost: status 137, no copy" "137 0" "$st $c"
    else
        check_eq "$desc: runs exactly once" 1 "$c"
        on 1 "kill -9 $pid"
        st=$(on 1 "for i in \$(seq 100); do [ -s /tmp/$tag.status ] && break; sleep 0.2; done; cat /tmp/$tag.status")
        check_eq "$desc: killed, the parent's wait() returns 137" 137 "$st"
    fi
    check "$desc: settled" settle
    check_eq "$desc: no copy after all" 0 "$(copies "$pid")"
}

if [ "$CELLS" = all ]; then
    cells="home:cut:dest home:kill:dest home:cut:home away:cut:source away:cut:dest away:cut:home away:kill:source away:kill:dest away:kill:home home:kill:home"
else
    cells="home:kill:dest away:cut:source away:cut:home"
fi
for cell in $cells; do
    IFS=: read -r route kind target <<<"$cell"
    for k in $(seq 1 "$TRIALS"); do trial "$route" "$kind" "$target" "$k"; done
done

# Reference counts back where they were (a node powered off during the
# matrix has a new module: nothing holds it), and slab use on each node
# that was not powered off (a leak of the move's buffers, 24 MiB a trial,
# or of one page a trial shows; kmemleak on the debug kernel finds
# smaller ones).
for n in $(seq 1 "$NODES"); do
    read -r boot0 kb0 <<<"${slab0[$n]}"
    read -r boot1 kb1 <<<"$(slab "$n" | tr '\n' ' ')"
    want=${ref[$n]}
    [ "$boot0" = "$boot1" ] || want=0
    got=$(on "$n" "for i in \$(seq 10); do [ \"\$(cat /sys/module/vproc/refcnt)\" = $want ] && break; sleep 0.5; done; cat /sys/module/vproc/refcnt")
    check_eq "fm: node $n's module reference count is back where it was" "$want" "$got"
    if [ "$boot0" != "$boot1" ]; then
        echo "node $n was powered off during the matrix: its slabs start afresh" | diag
        continue
    fi
    echo "node $n: kmalloc slabs $kb0 KiB before, $kb1 KiB after" | diag
    check "fm: node $n's kmalloc slabs back where they were ($kb0 -> $kb1 KiB, within 1 MiB)" \
        test $(( kb1 - kb0 )) -le 1024
done
check "fm: rmmod and insmod work on node 3 after the matrix" on 3 "rmmod vproc && insmod /lib/modules/vproc.ko node=3 peers=$peers key=$CLUSTER_KEY"
check "fm: node 3 up again" wait_up 3 1 30
