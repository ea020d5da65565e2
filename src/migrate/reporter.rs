// SPDX-License-Identifier: GPL-2.0

//! The reporter thread: sends the exits of moved processes home (custody)
//! and their stops and continues met here (job control), gives up
//! migrations whose restorer never came; the control worker that
//! runs forwarded requests; and the task events (fork, exit, exec) that
//! feed them.

use super::{Counter, Migrator, Queue, IDLE_TIMEOUT_NS};
use crate::logic::arrival::{Action, Event, Phase};
use crate::logic::mig::MigHeader;
use crate::sys::process::TaskEvents;
use crate::sys::thread::{self, ThreadFn};
use crate::sys::time::now_ns;
use core::sync::atomic::Ordering;
use kernel::{
    prelude::*,
    sync::{Arc, CondVar, SpinLock},
    time::msecs_to_jiffies,
};

/// The thread that reports the exits of migrated processes home.
pub(crate) struct Reporter(pub(crate) Arc<Migrator>);

impl ThreadFn for Reporter {
    fn run(&self) {
        let m = &self.0;
        let mut bodies = false;
        let mut round = 0u32;
        while !thread::should_stop() {
            {
                let mut e = m.exits.lock();
                if e.list.is_empty() {
                    // With processes of other nodes running here, a stop
                    // or continue of one reaches home within 200 ms.
                    let ms = if bodies { 200 } else { 1000 };
                    let _ = m
                        .exits_cv
                        .wait_interruptible_timeout(&mut e, msecs_to_jiffies(ms));
                }
            }
            // Exits home until acknowledged, fencing, old memories.
            m.custody_round();
            // Command lines looked at every 10 rounds (2 s with bodies).
            bodies = m.job_round(round.is_multiple_of(10));
            round = round.wrapping_add(1);
            // Restorers that never came, or whose source's connection
            // went (an Abort may be lost with it): give them up.
            let mut gone = KVec::new();
            {
                let mut s = m.state.lock();
                let now = now_ns();
                s.incoming.retain(|i| {
                    if i.phase != Phase::Waiting {
                        return true;
                    }
                    let e = if now.saturating_sub(i.last_ns) > IDLE_TIMEOUT_NS {
                        Event::Idle
                    } else if m.link_lost(i) {
                        Event::LinkDown
                    } else {
                        return true;
                    };
                    match i.step(e) {
                        Action::Stop(err) => {
                            let _ = gone.push((i.from, i.begin_req, i.pid, err), GFP_KERNEL);
                            false
                        }
                        _ => true,
                    }
                });
            }
            for &(from, req, pid, e) in gone.iter() {
                pr_info_ratelimited!(
                    "migrate: pid {} from node {} given up before its restorer came (error {})\n",
                    pid,
                    from,
                    e.to_result()
                );
                m.respond(from, req, pid, e.to_result(), &[]);
            }
        }
    }
}

/// The control worker: runs control requests from other nodes (a move,
/// a switch), one at a time, on its own thread: a move that takes long
/// never delays the reporter's exits.
pub(crate) struct Controller(pub(crate) Arc<Migrator>);

impl ThreadFn for Controller {
    fn run(&self) {
        let m = &self.0;
        while !thread::should_stop() {
            let controls = next_queued(&m.controls, &m.controls_cv, core::mem::take);
            for &(from, req, pid, c) in controls.iter() {
                let v = match m.control_here(from, pid, &c) {
                    Ok(()) => 0,
                    Err(e) => i64::from(e.to_errno()),
                };
                m.respond(from, req, pid, v, &[]);
            }
        }
        refuse_queued(m, &m.controls);
    }
}

/// The mover: runs the moves home nodes ask of processes running here,
/// one at a time, pre-copy included (as a writer of `goto` here gets):
/// it may take seconds, which neither a connection's receiver nor the
/// control worker (whose own moves wait on other nodes) may spend.
pub(crate) struct Mover(pub(crate) Arc<Migrator>);

impl ThreadFn for Mover {
    fn run(&self) {
        let m = &self.0;
        while !thread::should_stop() {
            let next = next_queued(&m.moves, &m.moves_cv, |l| {
                (!l.is_empty()).then(|| l.remove(0).ok()).flatten()
            });
            let Some((from, req, pid, g)) = next else {
                continue;
            };
            // Ok(true): moving, its task work answers.
            match m.goto_here(from, req, pid, &g) {
                Ok(true) => {}
                Ok(false) => m.respond(from, req, pid, 0, &[]),
                Err(e) => m.respond(from, req, pid, i64::from(e.to_errno()), &[]),
            }
        }
        refuse_queued(m, &m.moves);
    }
}

/// Waits up to a second on `cv` while queue `q` is empty, then takes
/// what `take` takes of it (the worker threads' wait).
fn next_queued<T, R>(
    q: &SpinLock<Queue<T>>,
    cv: &CondVar,
    take: impl FnOnce(&mut KVec<T>) -> R,
) -> R {
    let mut g = q.lock();
    if g.list.is_empty() {
        let _ = cv.wait_interruptible_timeout(&mut g, msecs_to_jiffies(1000));
    }
    take(&mut g.list)
}

/// Unloading: what is left in queue `q` is refused (ESHUTDOWN).
fn refuse_queued<X>(m: &Migrator, q: &SpinLock<Queue<(u8, u64, u32, X)>>) {
    let left = core::mem::take(&mut q.lock().list);
    for (from, req, pid, _) in left.iter() {
        m.respond(*from, *req, *pid, i64::from(ESHUTDOWN.to_errno()), &[]);
    }
}

impl Migrator {
    /// Adds `x`, node `from`'s request `h`, to queue `q` for its worker
    /// (woken by `cv`), which answers it when done. Refused at once, the
    /// answer sent here: EBUSY (counted in `refused`) when `max` already
    /// wait, ENOMEM.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn queue_request<X>(
        &self,
        q: &SpinLock<Queue<(u8, u64, u32, X)>>,
        cv: &CondVar,
        from: u8,
        h: &MigHeader,
        x: X,
        max: usize,
        refused: &Counter,
    ) {
        let queued = {
            let mut g = q.lock();
            if g.list.len() >= max {
                refused.inc();
                Err(EBUSY)
            } else {
                g.list
                    .push((from, h.req, h.pid, x), GFP_ATOMIC)
                    .map_err(|_| ENOMEM)
            }
        };
        match queued {
            Ok(()) => cv.notify_all(),
            Err(e) => self.respond(from, h.req, h.pid, i64::from(e.to_errno()), &[]),
        }
    }
}

/// Wakes the reporter so that it stops promptly.
impl Migrator {
    /// Unload begins: post-copies served here end before /proc goes.
    pub(crate) fn unloading(&self) {
        self.unloading.store(true, Ordering::Release);
    }

    pub(crate) fn wake(&self) {
        // Breaks the reference cycle (module unload).
        let me = self.this.lock().take();
        drop(me);
        self.exits_cv.notify_all();
        self.controls_cv.notify_all();
        self.moves_cv.notify_all();
        self.cv.notify_all();
    }
}

impl TaskEvents for Migrator {
    fn forked(&self, parent: u32, child: u32) {
        self.table.forked(parent, child);
    }

    fn exited(&self, tgid: u32, exit_code: i32) {
        self.table.exited(tgid, exit_code);
        let mut b = self.bodies.lock();
        let Some(i) = b.iter().position(|x| x.pid == tgid) else {
            return;
        };
        let rec = b[i];
        let _ = b.remove(i);
        if rec.retiring {
            // Moved on: remembered for home's Check (bodies still held,
            // so that a Check never sees it nowhere).
            self.remember_moved(tgid, rec.deputy, rec.dest);
            return;
        }
        // Atomic context: the reporter sends it (until acknowledged).
        let mut e = self.exits.lock();
        if e.list
            .push((tgid, rec.home, rec.deputy, exit_code), GFP_ATOMIC)
            .is_err()
        {
            pr_warn!(
                "pid {}: out of memory, its exit is not reported home\n",
                tgid
            );
        }
        drop(e);
        drop(b);
        self.exits_cv.notify_all();
    }

    fn exec(&self, tgid: u32, comm: &[u8]) {
        self.table.exec(tgid, comm);
    }
}
