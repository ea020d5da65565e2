// SPDX-License-Identifier: GPL-2.0

//! Automatic load leveling: each node's `vproc-balance` thread sheds
//! processes to less loaded nodes by itself (MOSIX's load leveller).
//!
//! Every `interval_ms` (with a per-node phase, so that nodes do not decide
//! in lockstep) the thread samples this node's processes, builds its view
//! of the cluster from the load vectors the transport spreads, and asks
//! `logic::balance::decide` (pure, simulated on the host) for at most one
//! move, which it makes with the migration layer (pre-copy included) and
//! records in `/proc/cluster/events` with its reason. Candidates are
//! processes of up to `MAX_THREADS` threads with `loadlevel` 1, not locked,
//! that have used at least half a CPU since the last sample for
//! `min_age_ms`, each weighing the CPUs its threads used; a process
//! that arrived is left alone for `cooldown_ms`. Nothing happens while this
//! node's `loadlevel` switch is 0; nodes whose switch is 0 receive nothing
//! (and refuse automatic arrivals), as do nodes that are already receiving
//! one.
//!
//! Must not touch: sockets, /proc (procfs shows the tunables).

use crate::events::{EventKind, Events};
use crate::logic::balance::{self, Candidate, Params};
use crate::logic::pid;
use crate::migrate::{Asker, Migrator};
use crate::sys::process;
use crate::sys::thread::{self, ThreadFn};
use crate::sys::time::now_ns;
use crate::transport::Transport;
use crate::view::cluster_view;
use crate::vproc::VprocTable;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// Tunables, in `/proc/cluster/admin/balance_*`.
pub(crate) struct Tunables {
    /// Decision period.
    pub(crate) interval_ms: AtomicU32,
    /// Shed when above the average by this share of one task (percent).
    pub(crate) margin_pct: AtomicU32,
    /// A process must have been busy this long.
    pub(crate) min_age_ms: AtomicU32,
    /// A process that arrived is left alone this long.
    pub(crate) cooldown_ms: AtomicU32,
    /// At most this many moves per process by the leveller.
    pub(crate) max_migs: AtomicU32,
    /// Usher processes out below this much free memory (percent).
    pub(crate) mem_low_pct: AtomicU32,
    /// 1: weigh nodes by their measured CPU speed (clusters of different
    /// machines); 0 (default): a CPU is a CPU. The speed figure is measured
    /// once at module load and is noisy on shared or emulated hardware.
    pub(crate) use_speed: AtomicU32,
}

/// Bounds of each tunable: (file name, min, max).
pub(crate) const TUNABLES: [(&CStr, u32, u32); 7] = [
    (c"balance_interval_ms", 100, 60_000),
    (c"balance_margin_pct", 0, 1000),
    (c"balance_min_age_ms", 0, 3_600_000),
    (c"balance_cooldown_ms", 0, 3_600_000),
    (c"balance_max_migs", 0, 1000),
    (c"balance_mem_low_pct", 0, 100),
    (c"balance_use_speed", 0, 1),
];

impl Tunables {
    /// Tunable `i` of [`TUNABLES`].
    pub(crate) fn get(&self, i: usize) -> Option<&AtomicU32> {
        Some(match i {
            0 => &self.interval_ms,
            1 => &self.margin_pct,
            2 => &self.min_age_ms,
            3 => &self.cooldown_ms,
            4 => &self.max_migs,
            5 => &self.mem_low_pct,
            6 => &self.use_speed,
            _ => return None,
        })
    }

    fn params(&self) -> Params {
        let g = |a: &AtomicU32| a.load(Ordering::Relaxed);
        Params {
            margin_pct: g(&self.margin_pct),
            min_age_ms: u64::from(g(&self.min_age_ms)),
            cooldown_ms: u64::from(g(&self.cooldown_ms)),
            max_migs: g(&self.max_migs),
            mem_low_pct: g(&self.mem_low_pct),
        }
    }
}

/// What the leveller remembers of a local process between samples.
struct Hist {
    pid: u32,
    cpu_ns: u64,
    at_ns: u64,
    busy_since_ns: Option<u64>,
    seen: bool,
}

struct State {
    hist: KVec<Hist>,
    /// Per node: until when a process sent there counts in its load (its
    /// load vector does not show it yet).
    pending: [u64; 64],
}

/// The load leveller of one node.
#[pin_data]
pub(crate) struct Balancer {
    me: u8,
    transport: Arc<Transport>,
    table: Arc<VprocTable>,
    migrator: Arc<Migrator>,
    events: Arc<Events>,
    pub(crate) tun: Tunables,
    #[pin]
    st: Mutex<State>,
}

const NSEC_PER_MSEC: u64 = 1_000_000;

impl Balancer {
    /// The leveller of node `me`.
    pub(crate) fn new(
        me: u8,
        transport: Arc<Transport>,
        table: Arc<VprocTable>,
        migrator: Arc<Migrator>,
        events: Arc<Events>,
    ) -> Result<Arc<Self>> {
        let d = Params::default();
        Arc::pin_init(
            try_pin_init!(Self {
                me,
                transport,
                table,
                migrator,
                events,
                tun: Tunables {
                    interval_ms: AtomicU32::new(1000),
                    margin_pct: AtomicU32::new(d.margin_pct),
                    min_age_ms: AtomicU32::new(d.min_age_ms as u32),
                    cooldown_ms: AtomicU32::new(d.cooldown_ms as u32),
                    max_migs: AtomicU32::new(d.max_migs),
                    mem_low_pct: AtomicU32::new(d.mem_low_pct),
                    use_speed: AtomicU32::new(0),
                },
                st <- new_mutex!(State { hist: KVec::new(), pending: [0; 64] }, "Balancer::st"),
            }),
            GFP_KERNEL,
        )
    }

    /// Samples the local processes: the leveller's candidates. A process
    /// counts as busy when it got at least half its fair share of the CPUs
    /// (`runnable` tasks sharing `cpus`) since the last sample.
    fn candidates(&self, st: &mut State, runnable: u32, cpus: u32) -> Result<KVec<Candidate>> {
        let now = now_ns();
        let share = u64::from(runnable.max(1)) / u64::from(cpus.max(1)).max(1);
        let mut busy_count = 0u32;
        for h in st.hist.iter_mut() {
            h.seen = false;
        }
        let mut out = KVec::new();
        let hist = &mut st.hist;
        process::for_each_sample(1 << pid::NODE_SHIFT, &mut |s| {
            let i = match hist.iter().position(|h| h.pid == s.pid) {
                Some(i) => i,
                None => {
                    hist.push(
                        Hist {
                            pid: s.pid,
                            cpu_ns: s.cpu_ns,
                            at_ns: now,
                            busy_since_ns: None,
                            seen: true,
                        },
                        GFP_KERNEL,
                    )?;
                    return Ok(());
                }
            };
            let h = &mut hist[i];
            h.seen = true;
            let wall = now.saturating_sub(h.at_ns).max(1);
            let used = s.cpu_ns.saturating_sub(h.cpu_ns);
            let busy = used.saturating_mul(2).saturating_mul(share.max(1)) >= wall;
            h.cpu_ns = s.cpu_ns;
            h.at_ns = now;
            if !busy {
                h.busy_since_ns = None;
                return Ok(());
            }
            let since = *h.busy_since_ns.get_or_insert(now.saturating_sub(wall));
            // The tasks it weighs: the CPU its threads used over what one
            // task got (a fair share of the CPUs), rounded, 1 to its
            // thread count. This node's load counts them all.
            let tasks = (used.saturating_mul(share.max(1)).saturating_add(wall / 2) / wall)
                .clamp(1, u64::from(s.threads.max(1))) as u32;
            if self.table.away(s.pid).is_none() {
                busy_count = busy_count.saturating_add(tasks);
            }
            let e = self.table.entry(s.pid);
            if !e.loadlevel
                || e.lock
                || s.threads > crate::logic::mig::MAX_THREADS
                || self.table.away(s.pid).is_some()
            {
                return Ok(());
            }
            out.push(
                Candidate {
                    pid: s.pid,
                    busy_ms: now.saturating_sub(since) / NSEC_PER_MSEC,
                    since_move_ms: self.migrator.since_arrival_ms(s.pid),
                    nmigs: e.nmigs,
                    rss_kib: s.rss_kib,
                    tasks,
                },
                GFP_KERNEL,
            )?;
            Ok(())
        })?;
        hist.retain(|h| h.seen);
        self.transport.busy.store(busy_count, Ordering::Relaxed);
        Ok(out)
    }

    /// One decision, and the move it asks for; whether a process moved.
    fn tick(&self) -> bool {
        if !self.transport.loadlevel.load(Ordering::Relaxed) {
            return false;
        }
        let (procs, view) = {
            let mut st = self.st.lock();
            // The fair share a busy process gets: the CPUs shared among
            // the tasks that want them (the last count, or those runnable
            // now, whichever is more).
            let l = self.transport.local_load();
            let prev = l.busy.max(l.runnable).max(1);
            let procs = match self.candidates(&mut st, prev, u32::from(l.cpus)) {
                Ok(p) => p,
                Err(_) => return false,
            };
            let speed = self.tun.use_speed.load(Ordering::Relaxed) != 0;
            let view = match cluster_view(&self.transport, Some(&st.pending), speed) {
                Ok(v) => v,
                Err(_) => return false,
            };
            (procs, view)
        };
        let Some(m) = balance::decide(self.me, &view, &procs, &self.tun.params()) else {
            return false;
        };
        let here = view
            .iter()
            .find(|n| n.node == self.me)
            .map_or(0, |n| n.runnable);
        self.events.add(
            EventKind::Balance,
            self.me,
            format_args!(
                "pid {} -> node {}: {} ({} busy here)",
                m.pid,
                m.to,
                m.reason.as_str(),
                here
            ),
        );
        let hb = u64::from(self.transport.tun.heartbeat_ms.load(Ordering::Relaxed));
        self.st.lock().pending[usize::from(m.to) % 64] = now_ns() + 2 * hb * NSEC_PER_MSEC;
        let why = match m.reason {
            balance::Reason::Memory => Asker::Memory,
            _ => Asker::Load,
        };
        match self.migrator.move_auto(m.pid, m.to, why) {
            Ok(()) => {
                // This node counts one process less now.
                let b = self.transport.busy.load(Ordering::Relaxed);
                self.transport
                    .busy
                    .store(b.saturating_sub(1), Ordering::Relaxed);
                true
            }
            Err(e) => {
                pr_info!(
                    "balance: pid {} to node {} not moved (error {})\n",
                    m.pid,
                    m.to,
                    e.to_errno()
                );
                false
            }
        }
    }
}

/// The `vproc-balance` thread.
pub(crate) struct BalanceThread(pub(crate) Arc<Balancer>);

impl ThreadFn for BalanceThread {
    fn run(&self) {
        let b = &self.0;
        // A phase per node: nodes do not decide in lockstep.
        let phase = u32::from(b.me) * 137;
        let mut wait = b.tun.interval_ms.load(Ordering::Relaxed).max(100);
        wait += phase % wait;
        while !thread::should_stop() {
            thread::sleep_ms(wait);
            if thread::should_stop() {
                break;
            }
            // One move per interval: deciding again before the receivers'
            // load vectors show the last move made processes move twice.
            b.tick();
            wait = b.tun.interval_ms.load(Ordering::Relaxed).max(100);
        }
    }
}
