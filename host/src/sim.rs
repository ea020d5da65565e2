//! A cluster simulator for the load leveller (`logic::balance`): nodes
//! running CPU-bound jobs, each node deciding on its own with load vectors
//! that are a heartbeat old, migrations that take time. Host only (std):
//! the tests of `host/tests/balance.rs` and `cargo run --example
//! balance_sim` drive it.

extern crate std;

use crate::balance::{decide, Candidate, NodeView, Params, Reason};
use std::vec::Vec;

/// One simulated job.
#[derive(Clone, Debug)]
pub struct Job {
    /// Its id (its PID in the decisions).
    pub id: u32,
    /// CPU milliseconds still to run (at speed 1).
    pub work_ms: f64,
    /// The node it runs on (index into `Sim::nodes`).
    pub node: usize,
    /// `loadlevel` 1.
    pub loadlevel: bool,
    /// Busy since (ms), for the age rule.
    pub busy_since_ms: u64,
    /// Last arrival (ms), for the cooldown.
    pub arrived_ms: Option<u64>,
    /// Moves so far.
    pub migs: u32,
    /// In flight until (ms), to `node`.
    pub flight_until_ms: Option<u64>,
    /// When it finished.
    pub done_ms: Option<u64>,
}

/// One simulated node.
#[derive(Clone, Debug)]
pub struct SimNode {
    /// Node number (1-based).
    pub node: u8,
    /// CPUs.
    pub cpus: u32,
    /// Relative speed (1000 = 1x).
    pub speed: u32,
    /// Its `loadlevel` switch.
    pub accepts: bool,
    /// Total memory, KiB.
    pub total_kib: u64,
    /// Memory used by other things, KiB.
    pub used_kib: u64,
}

/// A move that happened.
#[derive(Clone, Copy, Debug)]
pub struct MoveRec {
    /// When.
    pub at_ms: u64,
    /// Which job.
    pub job: u32,
    /// From node number.
    pub from: u8,
    /// To node number.
    pub to: u8,
    /// Why.
    pub reason: Reason,
}

/// The simulation.
pub struct Sim {
    /// Nodes.
    pub nodes: Vec<SimNode>,
    /// Jobs.
    pub jobs: Vec<Job>,
    /// Leveller tunables.
    pub params: Params,
    /// Decision interval of each node, ms.
    pub interval_ms: u64,
    /// Heartbeat (load vector) period, ms.
    pub heartbeat_ms: u64,
    /// How long a move takes (the job does not run meanwhile), ms.
    pub move_ms: u64,
    /// Resident memory of each job, KiB.
    pub job_rss_kib: u64,
    /// Now, ms.
    pub now_ms: u64,
    /// Every move.
    pub moves: Vec<MoveRec>,
    /// Per node, the last load vector the others heard (runnable).
    heard: Vec<u32>,
    /// Per deciding node, per target node: moves not yet in a heard vector.
    pending: Vec<Vec<u32>>,
}

const TICK_MS: u64 = 50;

impl Sim {
    /// A cluster of `nodes`, no jobs yet.
    pub fn new(nodes: Vec<SimNode>) -> Self {
        let n = nodes.len();
        Self {
            nodes,
            jobs: Vec::new(),
            params: Params::default(),
            interval_ms: 1000,
            heartbeat_ms: 1000,
            move_ms: 300,
            job_rss_kib: 4096,
            now_ms: 0,
            moves: Vec::new(),
            heard: std::vec![0; n],
            pending: std::vec![std::vec![0; n]; n],
        }
    }

    /// `n` equal nodes (1 CPU, speed 1000, 1 GiB).
    pub fn uniform(n: usize) -> Self {
        Self::new(
            (0..n)
                .map(|i| SimNode {
                    node: i as u8 + 1,
                    cpus: 1,
                    speed: 1000,
                    accepts: true,
                    total_kib: 1 << 20,
                    used_kib: 100 << 10,
                })
                .collect(),
        )
    }

    /// Starts `count` jobs of `work_ms` CPU time each on node index `at`.
    pub fn spawn(&mut self, at: usize, count: usize, work_ms: f64, loadlevel: bool) {
        for _ in 0..count {
            let id = self.jobs.len() as u32 + 1;
            self.jobs.push(Job {
                id,
                work_ms,
                node: at,
                loadlevel,
                busy_since_ms: self.now_ms,
                arrived_ms: None,
                migs: 0,
                flight_until_ms: None,
                done_ms: None,
            });
        }
    }

    fn running(&self, node: usize) -> u32 {
        self.jobs
            .iter()
            .filter(|j| j.node == node && j.done_ms.is_none() && j.flight_until_ms.is_none())
            .count() as u32
    }

    /// Jobs on each node (running or arriving), by node index.
    pub fn counts(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .map(|i| {
                self.jobs
                    .iter()
                    .filter(|j| j.node == i && j.done_ms.is_none())
                    .count()
            })
            .collect()
    }

    fn free_kib(&self, node: usize) -> u64 {
        let n = &self.nodes[node];
        let jobs = self
            .jobs
            .iter()
            .filter(|j| j.node == node && j.done_ms.is_none())
            .count() as u64;
        n.total_kib
            .saturating_sub(n.used_kib + jobs * self.job_rss_kib)
    }

    fn view(&self, me: usize) -> Vec<NodeView> {
        (0..self.nodes.len())
            .map(|i| {
                let n = &self.nodes[i];
                NodeView {
                    node: n.node,
                    up: true,
                    accepts: n.accepts,
                    // Its own load it knows exactly; the others' as heard.
                    runnable: if i == me {
                        self.running(i)
                    } else {
                        self.heard[i]
                    },
                    cpus: n.cpus,
                    speed: n.speed,
                    free_kib: self.free_kib(i),
                    total_kib: n.total_kib,
                    pending: if i == me { 0 } else { self.pending[me][i] },
                }
            })
            .collect()
    }

    /// Advances one tick.
    pub fn step(&mut self) {
        self.now_ms += TICK_MS;
        let now = self.now_ms;
        // Arrivals.
        for j in self.jobs.iter_mut() {
            if j.flight_until_ms.is_some_and(|t| t <= now) {
                j.flight_until_ms = None;
                j.arrived_ms = Some(now);
            }
        }
        // Work: each node shares its CPUs among its running jobs.
        for i in 0..self.nodes.len() {
            let r = self.running(i);
            if r == 0 {
                continue;
            }
            let share = (f64::from(self.nodes[i].cpus) / f64::from(r)).min(1.0)
                * f64::from(self.nodes[i].speed)
                / 1000.0;
            for j in self.jobs.iter_mut() {
                if j.node == i && j.done_ms.is_none() && j.flight_until_ms.is_none() {
                    j.work_ms -= TICK_MS as f64 * share;
                    if j.work_ms <= 0.0 {
                        j.done_ms = Some(now);
                    }
                }
            }
        }
        // Heartbeats: every node's load vector reaches the others.
        if now.is_multiple_of(self.heartbeat_ms) {
            for i in 0..self.nodes.len() {
                self.heard[i] = self.running(i);
                for p in self.pending.iter_mut() {
                    p[i] = 0;
                }
            }
        }
        // Decisions, staggered: node i decides at its own phase.
        for i in 0..self.nodes.len() {
            let phase = (i as u64 * 337) % self.interval_ms;
            if now % self.interval_ms != phase - phase % TICK_MS {
                continue;
            }
            let cands: Vec<Candidate> = self
                .jobs
                .iter()
                .filter(|j| j.node == i && j.done_ms.is_none() && j.flight_until_ms.is_none())
                .filter(|j| j.loadlevel)
                .map(|j| Candidate {
                    pid: j.id,
                    busy_ms: now - j.busy_since_ms,
                    since_move_ms: j.arrived_ms.map_or(u64::MAX, |t| now - t),
                    nmigs: j.migs,
                    rss_kib: self.job_rss_kib,
                    tasks: 1,
                })
                .collect();
            let view = self.view(i);
            if let Some(m) = decide(self.nodes[i].node, &view, &cands, &self.params) {
                let to = self.nodes.iter().position(|n| n.node == m.to).unwrap();
                // The receiver refuses automatic arrivals while one is in
                // flight to it (anti-stampede admission).
                if self
                    .jobs
                    .iter()
                    .any(|j| j.node == to && j.flight_until_ms.is_some())
                {
                    continue;
                }
                let from = self.nodes[i].node;
                let j = self.jobs.iter_mut().find(|j| j.id == m.pid).unwrap();
                j.node = to;
                j.migs += 1;
                j.flight_until_ms = Some(now + self.move_ms);
                self.pending[i][to] += 1;
                self.moves.push(MoveRec {
                    at_ms: now,
                    job: m.pid,
                    from,
                    to: m.to,
                    reason: m.reason,
                });
            }
        }
    }

    /// Runs until every job is done or `limit_ms` passed; the makespan.
    pub fn run(&mut self, limit_ms: u64) -> u64 {
        while self.now_ms < limit_ms && self.jobs.iter().any(|j| j.done_ms.is_none()) {
            self.step();
        }
        self.jobs
            .iter()
            .filter_map(|j| j.done_ms)
            .max()
            .unwrap_or(self.now_ms)
    }

    /// When the last move before the first job ended happened: how long
    /// the starting imbalance took to settle (later moves follow jobs
    /// ending).
    pub fn settled_ms(&self) -> u64 {
        let first_end = self
            .jobs
            .iter()
            .filter_map(|j| j.done_ms)
            .min()
            .unwrap_or(u64::MAX);
        self.moves
            .iter()
            .filter(|m| m.at_ms < first_end)
            .map(|m| m.at_ms)
            .max()
            .unwrap_or(0)
    }

    /// Most moves of any one job.
    pub fn max_moves(&self) -> u32 {
        self.jobs.iter().map(|j| j.migs).max().unwrap_or(0)
    }
}
