// SPDX-License-Identifier: GPL-2.0

//! Leaving the cluster (`echo 1 > /proc/cluster/admin/leave`), what an
//! operator does before `rmmod`: the module cannot be unloaded while
//! processes depend on it (a guest's files are proxies into it, a
//! deputy runs its code), and the kernel refuses `rmmod` at once then.
//!
//! The leave hands back what depends on this node, as MOSIX's `expel`
//! did, on the schedule of [`custody::leave_step`]:
//! 1. from the first moment nothing new arrives (except this node's own
//!    processes coming back) and nothing of its own moves away; the load
//!    leveller of every node stops choosing it;
//! 2. for [`custody::LEAVE_MOVE_NS`]: every guest is sent to its home
//!    (one home will not take back, to another node:
//!    [`custody::leave_target`]), every own process that runs elsewhere
//!    is called back (each asked again every [`custody::CHECK_NS`] while
//!    it stays);
//! 3. then what is still here is killed: a guest's exit is reported
//!    home (its parent gets 137), a deputy kills its process where it
//!    runs (custody: within [`custody::KILL_WAIT_NS`]);
//! 4. it returns once nothing depends on this node any more (then
//!    `rmmod` works), or after [`custody::LEAVE_NS`] with EBUSY.
//!
//! The node stays leaving until it is unloaded.

use super::{Migrator, SIGKILL};
use crate::events::EventKind;
use crate::logic::custody::{self, LeaveStep};
use crate::logic::mig::{self, Kind};
use crate::sys::migrate as sm;
use crate::sys::time::now_ns;
use core::sync::atomic::Ordering;
use kernel::{prelude::*, sync::Arc};

/// How long a leave waits for exit reports once nothing else is left.
const EXITS_WAIT_NS: u64 = 2_000_000_000;

/// si_code of a signal the kernel sends.
const SI_KERNEL: i32 = 0x80;

/// What depends on this node now.
struct Dependents {
    /// Guests (not moving on): pid, home.
    guests: KVec<(u32, u8)>,
    /// Own processes running elsewhere: pid, where.
    away: KVec<(u32, u8)>,
    /// Migrations arriving.
    incoming: usize,
    /// Exit reports home has not acknowledged.
    exits: usize,
}

impl Dependents {
    fn none(&self) -> bool {
        self.guests.is_empty() && self.away.is_empty() && self.incoming == 0
    }
}

/// When each process was last asked to move, and how often it was (pid,
/// ns, asks).
struct Asked(KVec<(u32, u64, u32)>);

impl Asked {
    /// Whether `pid` is due to be asked at `now` (and notes it): the
    /// number of this ask (0 the first).
    fn due(&mut self, pid: u32, now: u64) -> Option<u32> {
        match self.0.iter_mut().find(|(p, _, _)| *p == pid) {
            Some((_, t, _)) if now.saturating_sub(*t) < custody::CHECK_NS => None,
            Some((_, t, n)) => {
                *t = now;
                *n = n.saturating_add(1);
                Some(*n)
            }
            None => self.0.push((pid, now, 0), GFP_KERNEL).ok().map(|()| 0),
        }
    }

    /// Whether `pid` was not in the list yet (and notes it).
    fn first(&mut self, pid: u32) -> bool {
        !self.0.iter().any(|(p, _, _)| *p == pid) && self.0.push((pid, 0, 0), GFP_KERNEL).is_ok()
    }
}

impl Migrator {
    /// Whether this node is leaving the cluster.
    pub(crate) fn is_leaving(&self) -> bool {
        self.leaving.load(Ordering::Relaxed)
    }

    fn dependents(&self) -> Result<Dependents> {
        let mut d = Dependents {
            guests: KVec::new(),
            away: KVec::new(),
            incoming: 0,
            exits: 0,
        };
        let bodies: KVec<(u32, u8)> = {
            let b = self.bodies.lock();
            let mut v = KVec::with_capacity(b.len(), GFP_ATOMIC)?;
            for x in b.iter().filter(|x| !x.retiring) {
                v.push((x.pid, x.home), GFP_ATOMIC)?;
            }
            v
        };
        d.guests = bodies;
        let pending = self.exits.lock().list.len();
        let s = self.state.lock();
        for x in s.deputies.iter() {
            d.away.push((x.pid, x.custody.at), GFP_KERNEL)?;
        }
        d.incoming = s.incoming.len();
        d.exits = s.exits.len() + pending;
        Ok(d)
    }

    /// Leaves the cluster (see the module's text). Blocks at most
    /// [`custody::LEAVE_NS`]; a fatal signal ends the wait (EINTR), the
    /// node stays leaving.
    pub(crate) fn leave(self: &Arc<Self>) -> Result {
        if !self.leaving.swap(true, Ordering::SeqCst) {
            // The leveller of every node reads this in our heartbeat.
            self.transport.loadlevel.store(false, Ordering::Relaxed);
            let d = self.dependents()?;
            pr_info!(
                "leaving the cluster: {} guest(s) go home, {} process(es) come back\n",
                d.guests.len(),
                d.away.len()
            );
            self.events.add(
                EventKind::Leaving,
                self.me,
                format_args!(
                    "{} guest(s) go home, {} process(es) come back",
                    d.guests.len(),
                    d.away.len()
                ),
            );
        }
        let start = now_ns();
        let mut asked = Asked(KVec::new());
        let mut kills = Asked(KVec::new());
        let mut none_since = None;
        let (mut sent, mut sent_on, mut called, mut killed) = (0u32, 0u32, 0u32, 0u32);
        loop {
            if sm::fatal_pending() {
                return Err(EINTR);
            }
            let now = now_ns();
            let elapsed = now.saturating_sub(start);
            let d = self.dependents()?;
            let step = custody::leave_step(elapsed);
            // Exit reports get a moment to be acknowledged (a home that
            // does not hear of an exit gives its process up as killed).
            let calm = match (d.none(), none_since) {
                (false, _) => {
                    none_since = None;
                    false
                }
                (true, None) => {
                    none_since = Some(now);
                    d.exits == 0
                }
                (true, Some(t)) => d.exits == 0 || now.saturating_sub(t) >= EXITS_WAIT_NS,
            };
            // The last guests' files close after their exit is seen.
            let refs = sm::module_refs();
            if calm && refs > 0 {
                if step == LeaveStep::GiveUp {
                    pr_warn!("leave: {} reference(s) to the module remain\n", refs);
                    return Err(EBUSY);
                }
                crate::sys::time::msleep(100);
                continue;
            }
            if calm {
                pr_info!(
                    "left: {} guest(s) sent home ({} of them to another node), {} process(es) called back, {} killed, in {} ms\n",
                    sent,
                    sent_on,
                    called,
                    killed,
                    elapsed / 1_000_000
                );
                self.events.add(
                    EventKind::Leaving,
                    self.me,
                    format_args!(
                        "done in {} ms: {} sent home ({} to another node), {} called back, {} killed",
                        elapsed / 1_000_000,
                        sent,
                        sent_on,
                        called,
                        killed
                    ),
                );
                return Ok(());
            }
            match step {
                LeaveStep::Move => {
                    let mut others = self.transport.up_nodes().unwrap_or_default();
                    others.retain(|o| *o != self.me);
                    for &(pid, home) in d.guests.iter() {
                        let Some(n) = asked.due(pid, now) else {
                            continue;
                        };
                        let up = self.transport.is_up(home);
                        let Some(to) = custody::leave_target(home, up, n, &others) else {
                            continue;
                        };
                        // Answered to no one (request 0): the loop
                        // watches the guest list instead.
                        let ask = super::source::Ask {
                            asker: super::Asker::Goto,
                            reply: Some((self.me, 0)),
                            boost: true,
                            precopy: false,
                        };
                        // (Each guest counted once: asked home, and if
                        // home would not take it, sent to another node.)
                        match self.start_goto(pid, to, ask) {
                            Ok(()) if to == home => sent += u32::from(n == 0),
                            Ok(()) => {
                                pr_info!(
                                    "leave: pid {} stays away from home: sent to node {}\n",
                                    pid,
                                    to
                                );
                                sent_on += u32::from(n == custody::LEAVE_HOME_ASKS);
                            }
                            Err(e) => pr_info!(
                                "leave: pid {} cannot go to node {} yet (error {})\n",
                                pid,
                                to,
                                e.to_errno()
                            ),
                        }
                    }
                    for &(pid, at) in d.away.iter() {
                        if asked.due(pid, now).is_some() && self.transport.is_up(at) {
                            let g = mig::GotoReq {
                                node: self.me,
                                caller: mig::Caller {
                                    uid: 0,
                                    gid: 0,
                                    cap_sys_ptrace: true,
                                    cap_sys_nice: true,
                                },
                            };
                            if self
                                .send(at, Kind::Goto, pid, mig::GOTO_LEN, |w| {
                                    mig::write_goto(w, &g)
                                })
                                .is_ok()
                            {
                                called += 1;
                            }
                        }
                    }
                }
                LeaveStep::Kill => {
                    // A guest's exit goes home; a deputy killed kills its
                    // process where it runs, and ends when that is sure.
                    for &(pid, _) in Iterator::chain(d.guests.iter(), d.away.iter()) {
                        if kills.first(pid) {
                            pr_info!("leave: pid {} did not move in time: killed\n", pid);
                            let _ = sm::signal(pid, SIGKILL, SI_KERNEL, 0, 0);
                            killed += 1;
                        }
                    }
                }
                LeaveStep::GiveUp => {
                    pr_warn!(
                        "leave: still here after {} s: {} guest(s), {} deputies, {} arriving\n",
                        elapsed / 1_000_000_000,
                        d.guests.len(),
                        d.away.len(),
                        d.incoming
                    );
                    return Err(EBUSY);
                }
            }
            crate::sys::time::msleep(200);
        }
    }
}
