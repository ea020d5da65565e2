// SPDX-License-Identifier: GPL-2.0

//! The load leveller's decisions: which local process to send to which
//! node, from the load vectors every node spreads. Pure and deterministic:
//! each node runs [`decide`] on its own view (no master), the host crate
//! tests it on simulated clusters (`host/tests/balance.rs`).
//!
//! The rules, after MOSIX:
//! - Loads are compared per unit of capacity: runnable tasks divided by
//!   CPUs times relative speed, so a node twice as fast takes twice the
//!   work.
//! - A node sheds a process only when its load is above the cluster's
//!   average by the margin, and only to a node that, with the process, is
//!   no busier than this node without it. Every move thus narrows the gap
//!   between the two nodes, and the reverse move is never allowed by the
//!   same rule: a process does not ping-pong.
//! - Only processes with `loadlevel` 1, not locked, that have been running
//!   (using CPU) for at least `min_age_ms` and have not moved within
//!   `cooldown_ms` are candidates; the oldest goes first (the longest
//!   runner is the likeliest to pay for its move).
//! - Nodes whose `loadlevel` switch is 0 receive nothing, as do nodes down.
//! - Against a stampede (several busy nodes choosing the same idle one at
//!   once), a node counts the processes it sent to each node until that
//!   node's load vector shows them (`pending`), and a receiver refuses
//!   automatic arrivals while one is in progress.
//! - Memory ushering: a node with less free memory than `mem_low_pct` of
//!   its total sends its largest candidate to the node with the most free
//!   memory, if that node has twice its size free and stays 10 points
//!   above the low mark.

/// What a node knows of one node (itself included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeView {
    /// Node number.
    pub node: u8,
    /// Up (or this node).
    pub up: bool,
    /// Its `loadlevel` switch: it takes part (sends and receives).
    pub accepts: bool,
    /// Runnable tasks.
    pub runnable: u32,
    /// CPUs.
    pub cpus: u32,
    /// Relative CPU speed (any unit, the same on every node).
    pub speed: u32,
    /// Free memory, KiB.
    pub free_kib: u64,
    /// Total memory, KiB.
    pub total_kib: u64,
    /// Processes this node sent there that its load does not show yet.
    pub pending: u32,
}

/// A local process the leveller may move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its PID.
    pub pid: u32,
    /// Milliseconds it has been using CPU continuously (as sampled).
    pub busy_ms: u64,
    /// Milliseconds since it last arrived here (`u64::MAX`: never moved).
    pub since_move_ms: u64,
    /// Times it migrated.
    pub nmigs: u32,
    /// Resident memory, KiB.
    pub rss_kib: u64,
    /// How many tasks of this node's load it is: the CPUs its threads
    /// used since the last sample, rounded, at least 1 (a single-threaded
    /// process is 1).
    pub tasks: u32,
}

/// Tunables (`/proc/cluster/admin/balance_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// A node sheds load when above the cluster's average by more than
    /// this percentage of one task's load on it.
    pub margin_pct: u32,
    /// A process must have been busy this long to be moved.
    pub min_age_ms: u64,
    /// A process that moved is left alone this long.
    pub cooldown_ms: u64,
    /// A process is moved at most this many times by the leveller.
    pub max_migs: u32,
    /// Below this much free memory (percent of total), usher processes out.
    pub mem_low_pct: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            margin_pct: 50,
            min_age_ms: 1000,
            cooldown_ms: 10_000,
            max_migs: 4,
            mem_low_pct: 10,
        }
    }
}

/// Why a process is moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// This node is busier than the cluster's average.
    Load,
    /// This node runs out of memory.
    Memory,
    /// Someone asked (`goto -1`).
    Asked,
}

impl Reason {
    /// The word in the event log.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Load => "load",
            Reason::Memory => "memory",
            Reason::Asked => "asked",
        }
    }
}

/// A decision: move `pid` to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// The process.
    pub pid: u32,
    /// The node.
    pub to: u8,
    /// Why.
    pub reason: Reason,
}

/// Load of `n` with `extra` more tasks, per unit of capacity, in
/// thousandths (runnable x 1000 x 1000 / (cpus x speed) with speed scaled
/// so that capacities compare).
fn load(n: &NodeView, extra: i64) -> u64 {
    let tasks = (i64::from(n.runnable) + i64::from(n.pending) + extra).max(0) as u64;
    let cap = u64::from(n.cpus.max(1)) * u64::from(n.speed.max(1));
    tasks.saturating_mul(1_000_000_000) / cap
}

fn eligible(n: &NodeView, me: u8) -> bool {
    n.node != me && n.up && n.accepts && n.cpus > 0
}

/// How many of the busiest candidates `decide` weighs (the others wait
/// for a later decision).
pub const MAX_CANDIDATES: usize = 16;

fn movable(c: &Candidate, p: &Params) -> bool {
    c.busy_ms >= p.min_age_ms && c.since_move_ms >= p.cooldown_ms && c.nmigs < p.max_migs
}

/// The node a process of this node would run best on, if better than
/// here (`me_load`: this node's load counting the process).
fn best_for_load(me: u8, nodes: &[NodeView], me_load: u64) -> Option<u8> {
    nodes
        .iter()
        .filter(|n| eligible(n, me))
        .map(|n| (load(n, 1), n.node))
        .filter(|&(l, _)| l < me_load)
        .min()
        .map(|(_, node)| node)
}

/// What node `me` should do now: at most one move. `nodes` is this node's
/// view of every node (itself included, with its own `accepts` switch);
/// `procs` its movable candidates.
pub fn decide(me: u8, nodes: &[NodeView], procs: &[Candidate], p: &Params) -> Option<Move> {
    let mine = nodes.iter().find(|n| n.node == me)?;
    if !mine.accepts {
        return None;
    }
    // Memory first: a node about to swap or OOM does not wait for load.
    if mine.total_kib > 0 && mine.free_kib * 100 < mine.total_kib * u64::from(p.mem_low_pct) {
        let biggest = procs
            .iter()
            .filter(|c| c.since_move_ms >= p.cooldown_ms && c.nmigs < p.max_migs)
            .max_by_key(|c| (c.rss_kib, c.pid));
        if let Some(c) = biggest {
            let target = nodes
                .iter()
                .filter(|n| eligible(n, me))
                .filter(|n| {
                    // Room to spare there: twice the process, and still 10
                    // points above the low mark once it arrived.
                    n.free_kib > c.rss_kib.saturating_mul(2)
                        && (n.free_kib - c.rss_kib).saturating_mul(100)
                            >= n.total_kib.saturating_mul(u64::from(p.mem_low_pct) + 10)
                })
                .max_by_key(|n| (n.free_kib, core::cmp::Reverse(n.node)));
            if let Some(t) = target {
                return Some(Move {
                    pid: c.pid,
                    to: t.node,
                    reason: Reason::Memory,
                });
            }
        }
    }
    if mine.runnable < 2 {
        return None;
    }
    // The average over the nodes that take part, this one included.
    let taking_part = || nodes.iter().filter(|n| n.node == me || eligible(n, me));
    let part = taking_part().count() as u64;
    let avg = taking_part().map(|n| load(n, 0)).sum::<u64>() / part.max(1);
    let here = load(mine, 0);
    // Above the average by more than the margin (a share of one task here).
    let unit = load(mine, 1) - here;
    if here <= avg + unit * u64::from(p.margin_pct) / 100 {
        return None;
    }
    // The busiest movable process that has a receiver which, with it, is
    // no busier than this node without it: the move narrows the gap and
    // cannot be undone by the same rule from the other side. A process of
    // several busy threads weighs as many tasks on both sides.
    let key = |c: &Candidate| (c.busy_ms, core::cmp::Reverse(c.pid));
    let mut below = None;
    for _ in 0..MAX_CANDIDATES {
        // The next busiest (PIDs are unique: so are the keys).
        let c = procs
            .iter()
            .filter(|c| movable(c, p))
            .filter(|c| below.is_none_or(|b| key(c) < b))
            .max_by_key(|c| key(c))?;
        below = Some(key(c));
        let w = i64::from(c.tasks.max(1));
        let after = load(mine, -w);
        let to = nodes
            .iter()
            .filter(|n| eligible(n, me))
            .map(|n| (load(n, w), n.node))
            .filter(|&(l, _)| l <= after)
            .min()
            .map(|(_, node)| node);
        if let Some(to) = to {
            return Some(Move {
                pid: c.pid,
                to,
                reason: Reason::Load,
            });
        }
    }
    None
}

/// The best node for one process someone asked to balance (`goto -1`):
/// the least loaded node that takes part counting the process, if better
/// than here; `None` when it is best where it is.
pub fn best_node(me: u8, nodes: &[NodeView]) -> Option<u8> {
    let mine = nodes.iter().find(|n| n.node == me)?;
    best_for_load(me, nodes, load(mine, 0))
}
