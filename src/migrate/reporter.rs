// SPDX-License-Identifier: GPL-2.0

//! The reporter thread: sends the exits of moved processes home (custody)
//! and their stops and continues met here (job control), gives up
//! migrations whose restorer never came; the control worker that
//! runs forwarded requests; and the task events (fork, exit, exec) that
//! feed them.

use super::{ForwardedMove, Migrator, IDLE_TIMEOUT_NS, MAX_MOVES};
use crate::logic::arrival::{Action, Event, Phase};
use crate::sys::process::TaskEvents;
use crate::sys::thread::{self, ThreadFn};
use crate::sys::time::now_ns;
use kernel::{prelude::*, sync::Arc, time::msecs_to_jiffies};

/// The thread that reports the exits of migrated processes home.
pub(crate) struct Reporter(pub(crate) Arc<Migrator>);

impl ThreadFn for Reporter {
    fn run(&self) {
        let m = &self.0;
        let mut bodies = false;
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
            bodies = m.job_round();
            // Restorers that never came: give their migrations up.
            let mut gone = KVec::new();
            {
                let mut s = m.state.lock();
                let now = now_ns();
                s.incoming.retain(|i| {
                    let stale = i.phase == Phase::Waiting
                        && now.saturating_sub(i.last_ns) > IDLE_TIMEOUT_NS
                        && matches!(i.step(Event::Idle), Action::Stop(_));
                    if stale {
                        let _ = gone.push((i.from, i.begin_req, i.pid), GFP_KERNEL);
                    }
                    !stale
                });
            }
            for &(from, req, pid) in gone.iter() {
                m.respond(from, req, pid, i64::from(ETIMEDOUT.to_errno()), &[]);
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
            let controls = {
                let mut q = m.controls.lock();
                if q.list.is_empty() {
                    let _ = m
                        .controls_cv
                        .wait_interruptible_timeout(&mut q, msecs_to_jiffies(1000));
                }
                core::mem::take(&mut q.list)
            };
            for &(from, req, pid, c) in controls.iter() {
                let v = match m.control_here(pid, &c) {
                    Ok(()) => 0,
                    Err(e) => i64::from(e.to_errno()),
                };
                m.respond(from, req, pid, v, &[]);
            }
        }
        // Unloading: what is left is refused.
        let left = core::mem::take(&mut m.controls.lock().list);
        for &(from, req, pid, _) in left.iter() {
            m.respond(from, req, pid, i64::from(ESHUTDOWN.to_errno()), &[]);
        }
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
            let next = {
                let mut q = m.moves.lock();
                if q.list.is_empty() {
                    let _ = m
                        .moves_cv
                        .wait_interruptible_timeout(&mut q, msecs_to_jiffies(1000));
                }
                if q.list.is_empty() {
                    None
                } else {
                    Some(q.list.remove(0))
                }
            };
            let Some(Ok(mv)) = next else { continue };
            let r = m.start_goto(
                mv.pid,
                mv.node,
                super::source::Ask {
                    asker: super::Asker::Goto,
                    reply: Some((mv.from, mv.req)),
                    boost: mv.boost,
                    precopy: true,
                },
            );
            // Ok: moving, its task work answers.
            if let Err(e) = r {
                m.respond(mv.from, mv.req, mv.pid, i64::from(e.to_errno()), &[]);
            }
        }
        // Unloading: what is left is refused.
        let left = core::mem::take(&mut m.moves.lock().list);
        for mv in left.iter() {
            m.respond(
                mv.from,
                mv.req,
                mv.pid,
                i64::from(ESHUTDOWN.to_errno()),
                &[],
            );
        }
    }
}

impl Migrator {
    /// Queues a move asked by `from` (request `req`) for the mover;
    /// EBUSY when its list is full.
    pub(super) fn queue_move(&self, from: u8, req: u64, pid: u32, node: u8, boost: bool) -> Result {
        {
            let mut q = self.moves.lock();
            if q.list.len() >= MAX_MOVES {
                self.counters.moves_refused.inc();
                return Err(EBUSY);
            }
            q.list.push(
                ForwardedMove {
                    from,
                    req,
                    pid,
                    node,
                    boost,
                },
                GFP_ATOMIC,
            )?;
        }
        self.moves_cv.notify_all();
        Ok(())
    }
}

/// Wakes the reporter so that it stops promptly.
impl Migrator {
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
        if let Some(b) = self.bodies.lock().iter_mut().find(|b| b.pid == tgid) {
            b.execd = true;
        }
    }
}
