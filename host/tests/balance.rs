//! The load leveller's decisions (`logic::balance`) on simulated clusters
//! (`vproc_logic::sim`): convergence, no ping-pong, no stampede, the
//! switches. `cargo test --test balance -- --nocapture` prints how long
//! each scenario takes to settle.

use vproc_logic::balance::*;
use vproc_logic::sim::Sim;

fn report(name: &str, s: &Sim, makespan: u64) {
    println!(
        "{}: settled after {:.1} s, {} moves (at most {} per job), makespan {:.1} s, jobs per node {:?}",
        name,
        s.settled_ms() as f64 / 1000.0,
        s.moves.len(),
        s.max_moves(),
        makespan as f64 / 1000.0,
        s.counts()
    );
}

/// Runs `s` for `ms` and returns the jobs per node then.
fn after(s: &mut Sim, ms: u64) -> Vec<usize> {
    let until = s.now_ms + ms;
    while s.now_ms < until {
        s.step();
    }
    s.counts()
}

#[test]
fn nine_jobs_on_one_node_spread_three_three_three() {
    let mut s = Sim::uniform(3);
    s.spawn(0, 9, 120_000.0, true);
    let c = after(&mut s, 30_000);
    for n in &c {
        assert!((2..=4).contains(n), "3/3/3 +-1 after 30 s: {:?}", c);
    }
    assert!(s.max_moves() <= 2, "no job moves more than twice");
    let makespan = s.run(1_000_000);
    report("9 jobs on node 1 of 3", &s, makespan);
    // Ideal: 9 x 120 s of work on 3 CPUs = 360 s.
    assert!(
        makespan as f64 <= 1.25 * 360_000.0,
        "makespan {} ms",
        makespan
    );
    assert!(s.settled_ms() < 30_000);
}

#[test]
fn balancing_off_is_slower() {
    let mut on = Sim::uniform(3);
    on.spawn(0, 9, 60_000.0, true);
    let mut off = Sim::uniform(3);
    off.spawn(0, 9, 60_000.0, false);
    let (a, b) = (on.run(10_000_000), off.run(10_000_000));
    println!(
        "makespan on {} s, off {} s: off/on {:.2}",
        a / 1000,
        b / 1000,
        b as f64 / a as f64
    );
    assert!(b as f64 / a as f64 > 2.0);
    assert!(off.moves.is_empty(), "loadlevel 0 jobs never move");
}

#[test]
fn loadlevel_zero_jobs_never_move() {
    let mut s = Sim::uniform(3);
    s.spawn(0, 4, 60_000.0, false);
    s.spawn(0, 4, 60_000.0, true);
    s.run(1_000_000);
    report("4 pinned + 4 free jobs on node 1", &s, s.now_ms);
    for m in &s.moves {
        assert!(m.job > 4, "job {} has loadlevel 0 but moved", m.job);
    }
    assert!(!s.moves.is_empty());
}

#[test]
fn a_node_with_loadlevel_zero_receives_nothing() {
    let mut s = Sim::uniform(3);
    s.nodes[2].accepts = false;
    s.spawn(0, 8, 60_000.0, true);
    let c = after(&mut s, 30_000);
    assert_eq!(c[2], 0, "node 3 switched off got jobs: {:?}", c);
    assert!(s.moves.iter().all(|m| m.to != 3));
    assert!(
        (3..=5).contains(&c[0]) && (3..=5).contains(&c[1]),
        "{:?}",
        c
    );
}

#[test]
fn a_switched_off_node_sheds_nothing() {
    let mut s = Sim::uniform(2);
    s.nodes[0].accepts = false;
    s.spawn(0, 4, 30_000.0, true);
    s.run(1_000_000);
    assert!(s.moves.is_empty());
}

#[test]
fn no_ping_pong() {
    // 4 jobs on 3 nodes can never be even: 2/1/1 must stay put.
    let mut s = Sim::uniform(3);
    s.spawn(0, 4, 200_000.0, true);
    after(&mut s, 120_000);
    report("4 jobs on 3 nodes", &s, s.now_ms);
    assert!(s.max_moves() <= 1, "a job moved {} times", s.max_moves());
    assert!(s.moves.len() <= 2, "{} moves", s.moves.len());
    let mut c = s.counts();
    c.sort();
    assert_eq!(c, vec![1, 1, 2]);
}

#[test]
fn two_busy_nodes_do_not_stampede_the_idle_one() {
    let mut s = Sim::uniform(3);
    s.spawn(0, 6, 120_000.0, true);
    s.spawn(1, 6, 120_000.0, true);
    let mut peak = 0;
    let until = s.now_ms + 40_000;
    while s.now_ms < until {
        s.step();
        peak = peak.max(s.counts()[2]);
    }
    report("6 + 6 jobs, node 3 idle", &s, s.now_ms);
    assert!(peak <= 5, "node 3 got {} jobs at once (fair share 4)", peak);
    let c = s.counts();
    assert!(c.iter().all(|&n| (3..=5).contains(&n)), "{:?}", c);
    assert!(s.max_moves() <= 2);
}

#[test]
fn a_faster_node_takes_more() {
    let mut s = Sim::uniform(2);
    s.nodes[1].speed = 2000;
    s.spawn(0, 6, 200_000.0, true);
    let c = after(&mut s, 40_000);
    report("6 jobs, node 2 twice as fast", &s, s.now_ms);
    assert!(c[1] >= 3 && c[1] >= c[0], "{:?}", c);
}

#[test]
fn memory_ushering() {
    let mut s = Sim::uniform(2);
    s.job_rss_kib = 200 << 10; // 200 MiB each
    s.nodes[0].used_kib = 300 << 10;
    // Four big jobs leave node 1 with less than 10 % free.
    s.spawn(0, 4, 30_000.0, true);
    s.params.min_age_ms = 1_000_000; // load alone would not move them yet
    s.step();
    let c = after(&mut s, 5_000);
    assert!(
        s.moves.iter().any(|m| m.reason == Reason::Memory),
        "{:?}",
        s.moves
    );
    assert!(c[1] >= 1, "{:?}", c);
}

/// A node of one CPU with `runnable` tasks.
fn one_cpu(node: u8, runnable: u32, accepts: bool) -> NodeView {
    NodeView {
        node,
        up: true,
        accepts,
        runnable,
        cpus: 1,
        speed: 1000,
        free_kib: 1 << 20,
        total_kib: 2 << 20,
        pending: 0,
    }
}

#[test]
fn decide_edge_cases() {
    let p = Params::default();
    let n = one_cpu;
    let c = Candidate {
        pid: 7,
        busy_ms: 10_000,
        since_move_ms: u64::MAX,
        nmigs: 0,
        rss_kib: 1000,
        tasks: 1,
    };
    // Unknown self, empty views: nothing.
    assert_eq!(decide(9, &[n(1, 5, true)], &[c], &p), None);
    assert_eq!(decide(1, &[], &[c], &p), None);
    // One task: nothing to shed.
    assert_eq!(decide(1, &[n(1, 1, true), n(2, 0, true)], &[c], &p), None);
    // Busy, a free node: move; a young process: not.
    let v = [n(1, 3, true), n(2, 0, true)];
    assert_eq!(
        decide(1, &v, &[c], &p),
        Some(Move {
            pid: 7,
            to: 2,
            reason: Reason::Load
        })
    );
    let young = Candidate { busy_ms: 100, ..c };
    assert_eq!(decide(1, &v, &[young], &p), None);
    let recent = Candidate {
        since_move_ms: 100,
        ..c
    };
    assert_eq!(decide(1, &v, &[recent], &p), None);
    let tired = Candidate {
        nmigs: p.max_migs,
        ..c
    };
    assert_eq!(decide(1, &v, &[tired], &p), None);
    // A down node or a zero-CPU one is never chosen.
    let mut down = n(2, 0, true);
    down.up = false;
    assert_eq!(decide(1, &[n(1, 3, true), down], &[c], &p), None);
    let mut nocpu = n(2, 0, true);
    nocpu.cpus = 0;
    assert_eq!(decide(1, &[n(1, 3, true), nocpu], &[c], &p), None);
    // Equal loads: no move (the receiver would end up no better).
    assert_eq!(decide(1, &[n(1, 2, true), n(2, 1, true)], &[c], &p), None);
    // best_node for goto -1.
    assert_eq!(
        best_node(1, &[n(1, 2, true), n(2, 0, true), n(3, 1, true)]),
        Some(2)
    );
    assert_eq!(best_node(1, &[n(1, 0, true), n(2, 0, true)]), None);
    // Huge numbers do not overflow.
    let mut huge = c;
    huge.tasks = u32::MAX;
    let _ = decide(1, &[n(1, u32::MAX, true), n(2, 0, true)], &[huge], &p);
    let mut big = n(1, u32::MAX, true);
    big.pending = u32::MAX;
    let _ = decide(1, &[big, n(2, u32::MAX, true)], &[c], &p);
}

/// A process of several busy threads weighs as many tasks: it moves only
/// where, with all of them, the receiver is no busier than this node
/// without them; otherwise a lighter one goes.
#[test]
fn decide_weighs_threads() {
    let p = Params::default();
    let n = |node, runnable| one_cpu(node, runnable, true);
    let one = |pid, busy_ms, tasks| Candidate {
        pid,
        busy_ms,
        since_move_ms: u64::MAX,
        nmigs: 0,
        rss_kib: 1000,
        tasks,
    };
    let to = |pid, to| {
        Some(Move {
            pid,
            to,
            reason: Reason::Load,
        })
    };
    // 4 threads alone on a node, an idle one: moving it gains nothing.
    assert_eq!(decide(1, &[n(1, 4), n(2, 0)], &[one(7, 9000, 4)], &p), None);
    // The same with a single-threaded process beside it: that one goes,
    // though the 4-thread one has been busy longer.
    assert_eq!(
        decide(
            1,
            &[n(1, 5), n(2, 0)],
            &[one(7, 9000, 4), one(8, 5000, 1)],
            &p
        ),
        to(8, 2)
    );
    // 4 threads and 4 single ones, two idle nodes: the 4 threads go.
    let procs = [
        one(7, 9000, 4),
        one(8, 5000, 1),
        one(9, 5000, 1),
        one(10, 5000, 1),
        one(11, 5000, 1),
    ];
    assert_eq!(
        decide(1, &[n(1, 8), n(2, 0), n(3, 0)], &procs, &p),
        to(7, 2)
    );
    // Weight 0 counts as 1 (a single task).
    assert_eq!(
        decide(1, &[n(1, 3), n(2, 0)], &[one(7, 9000, 0)], &p),
        to(7, 2)
    );
}
