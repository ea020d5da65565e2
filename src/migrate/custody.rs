// SPDX-License-Identifier: GPL-2.0

//! Custody of moved processes on this node, every decision taken by
//! `logic::custody`: `Check` asked and answered (is this process still
//! yours?), exits reported home until acknowledged, bodies fenced (killed)
//! when their home is gone, and the bounded memories the answers rest on
//! (exits not yet acknowledged, moves on from here, migrations started
//! here). Runs in the reporter thread and the receive path; must not touch
//! a migration in flight.

use super::{
    Inbound, Migrator, MovedRec, PendingExit, WireResult, MAX_MOVED, MAX_PENDING_EXITS, SIGKILL,
};
use crate::events::EventKind;
use crate::logic::arrival::Phase;
use crate::logic::custody::{
    self, Answer, Asker, BodyAction, BodyEvent, Check, DeputyAction, DeputyEvent, ExitAction,
    ExitReport, CHECK_LEN, STARTED_KEEP_NS,
};
use crate::logic::mig::{Kind, Reader};
use crate::sys::migrate::{self as sm};
use crate::sys::time::now_ns;
use kernel::prelude::*;

/// How long a `Check` or an `Exit` waits for its answer.
const ANSWER_TIMEOUT_MS: u32 = 2000;
/// How many `Check`s one custody round asks for deputies in a call.
const MAX_ROUND_CHECKS: usize = 4;
const SI_KERNEL: i32 = 0x80;

impl Migrator {
    /// Asks node `n` about process `pid` of deputy `id`; `None`: no answer.
    pub(super) fn check(&self, n: u8, pid: u32, id: u64, asker: Asker) -> Option<Answer> {
        let c = Check { deputy: id, asker };
        let (v, data) = self
            .request(n, Kind::Check, pid, ANSWER_TIMEOUT_MS, CHECK_LEN, |w| {
                custody::write_check(w, &c)
            })
            .ok()?;
        if v != 0 {
            return None;
        }
        Answer::decode(&data)
    }

    /// A `Check` from another node: answered from what this node knows.
    pub(super) fn on_check(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let mut r = Reader::new(body);
        let c = custody::read_check(&mut r)?;
        let a = match c.asker {
            Asker::Deputy => self.answer_deputy(h.pid, c.deputy),
            Asker::Body => {
                // A body checking in runs where it checks in from: the
                // deputy follows (a `Moved` from the node it left may
                // have been lost).
                let mut s = self.state.lock();
                match s
                    .deputies
                    .iter_mut()
                    .find(|d| d.pid == h.pid && d.id == c.deputy)
                {
                    Some(d) => {
                        let moved = d.custody.at != from;
                        d.custody.step(DeputyEvent::Moved(from));
                        drop(s);
                        if moved {
                            let _ = self.table.set_away(h.pid, Some(from));
                            self.cv.notify_all();
                        }
                        Answer::Here
                    }
                    None => Answer::Unknown,
                }
            }
        };
        self.respond(from, h.req, h.pid, 0, &a.encode());
        Ok(())
    }

    /// What this node knows of process `pid` of deputy `id`. Lock order:
    /// state, then bodies, then exits (the exit hook holds bodies while it
    /// moves a body to exits, so no moment shows neither).
    fn answer_deputy(&self, pid: u32, id: u64) -> Answer {
        let s = self.state.lock();
        if self
            .bodies
            .lock()
            .iter()
            .any(|b| b.pid == pid && b.deputy == id)
        {
            return Answer::Here;
        }
        {
            let e = self.exits.lock();
            if let Some(x) = e.list.iter().find(|x| x.0 == pid && x.2 == id) {
                return Answer::Exited(x.3);
            }
            if let Some(m) = e
                .moved
                .iter()
                .rev()
                .find(|m| m.pid == pid && m.deputy == id)
            {
                return Answer::Moved(m.dest);
            }
        }
        if let Some(x) = s.exits.iter().find(|x| x.pid == pid && x.deputy == id) {
            return Answer::Exited(x.code);
        }
        if s.incoming
            .iter()
            .any(|i| i.pid == pid && i.deputy == id && i.phase != Phase::Aborted)
        {
            return Answer::Here;
        }
        Answer::Unknown
    }

    /// Remembers (in atomic context, the exit hook) that `pid` moved on
    /// to `dest`; the oldest record goes when the list is full.
    pub(super) fn remember_moved(&self, pid: u32, deputy: u64, dest: u8) {
        let rec = MovedRec {
            pid,
            deputy,
            dest,
            at_ns: now_ns(),
        };
        let mut e = self.exits.lock();
        if e.moved.len() >= MAX_MOVED {
            let _ = e.moved.remove(0);
        }
        let _ = e.moved.push(rec, GFP_ATOMIC);
    }

    /// One round of the reporter: exits sent home until acknowledged,
    /// bodies whose home is gone fenced, old memories dropped.
    pub(super) fn custody_round(&self) {
        let now = now_ns();
        self.deliver_kills();
        self.report_exits(now);
        self.fence_bodies(now);
        self.tick_serving_deputies(now);
        let mut e = self.exits.lock();
        e.moved
            .retain(|m| now.saturating_sub(m.at_ns) < STARTED_KEEP_NS);
        drop(e);
        let mut s = self.state.lock();
        s.started
            .retain(|x| now.saturating_sub(x.at_ns) < STARTED_KEEP_NS);
    }

    /// A deputy inside a call of its process's at home that waits with no
    /// end in sight (the open of a FIFO, a connect to a full listener:
    /// no watch says when they may go on) does not tick its custody, and
    /// would wait on while its process is gone: fenced on a node that is
    /// down, or gone with a node that restarted before this node saw it
    /// down for long (a quick reboot: it is up again, and has no such
    /// process), its parent here waiting for ever. This round ticks it
    /// instead, and asks the node (`Check`) when custody says so; when
    /// custody gives the process up, the deputy's status is set and its
    /// call interrupted (as a signal would), and its loop ends it with
    /// that status. At most [`MAX_ROUND_CHECKS`] are asked per round (each
    /// waits up to [`ANSWER_TIMEOUT_MS`]); the rest are asked next round.
    fn tick_serving_deputies(&self, now: u64) {
        let mut ended = KVec::new();
        let mut asks = KVec::new();
        let mut s = self.state.lock();
        for d in s.deputies.iter_mut() {
            if d.io.serving.is_none() || d.exit.is_some() {
                continue;
            }
            let up = self.transport.is_up(d.custody.at);
            if up && asks.len() >= MAX_ROUND_CHECKS {
                continue;
            }
            match d.custody.step(DeputyEvent::Tick { now, up }) {
                DeputyAction::End(c) => {
                    d.exit = Some(c);
                    let _ = ended.push((d.pid, d.custody.at), GFP_KERNEL);
                }
                DeputyAction::Check(n) => {
                    let _ = asks.push((d.pid, n), GFP_KERNEL);
                }
                DeputyAction::Wait => {}
            }
        }
        drop(s);
        for &(pid, at) in ended.iter() {
            self.deputy_lost(pid, at, " (its deputy was in a call here)");
            sm::kick(pid);
        }
        for &(pid, n) in asks.iter() {
            // The answer goes to the deputy's custody as its own check's
            // would (two "not here" in a row end it, logged there).
            if self.deputy_check(pid, n) {
                sm::kick(pid);
            }
        }
    }

    fn report_exits(&self, now: u64) {
        // New exits join the pending ones (the state lock held, so that a
        // Check sees each exit in one list or the other).
        let mut send = KVec::new();
        {
            let mut s = self.state.lock();
            let new = core::mem::take(&mut self.exits.lock().list);
            for &(pid, home, deputy, code) in new.iter() {
                let p = PendingExit {
                    pid,
                    home,
                    deputy,
                    code,
                    report: ExitReport::new(now),
                };
                if s.exits.len() >= MAX_PENDING_EXITS || s.exits.push(p, GFP_KERNEL).is_err() {
                    self.counters.exits_dropped.inc();
                    pr_warn!(
                        "pid {}: too many exits pending, this one is not reported home\n",
                        pid
                    );
                }
            }
            let mut k = 0;
            while k < s.exits.len() {
                let x = &mut s.exits[k];
                let up = self.transport.is_up(x.home);
                match x.report.tick(now, up) {
                    ExitAction::Send => {
                        let _ = send.push((x.pid, x.home, x.deputy, x.code), GFP_KERNEL);
                        k += 1;
                    }
                    ExitAction::Wait => k += 1,
                    ExitAction::Drop => {
                        let (pid, home) = (x.pid, x.home);
                        let _ = s.exits.remove(k);
                        self.counters.exits_dropped.inc();
                        self.events.add(
                            EventKind::Migrate,
                            self.me,
                            format_args!("pid {}: exit never acknowledged by node {}", pid, home),
                        );
                    }
                }
            }
        }
        for &(pid, home, deputy, code) in send.iter() {
            let acked = self
                .request(home, Kind::Exit, pid, ANSWER_TIMEOUT_MS, 12, |w| {
                    w.i32(code)?;
                    w.u64(deputy)
                })
                .is_ok();
            if acked {
                let mut s = self.state.lock();
                s.exits.retain(|x| !(x.pid == pid && x.deputy == deputy));
            }
        }
    }

    fn fence_bodies(&self, now: u64) {
        // Which homes are up (no spinlock held while asking).
        let mut homes = KVec::new();
        for b in self.bodies.lock().iter() {
            if !homes.iter().any(|&(h, _)| h == b.home) {
                let _ = homes.push((b.home, false), GFP_ATOMIC);
            }
        }
        for h in homes.iter_mut() {
            h.1 = self.transport.is_up(h.0);
        }
        let mut ask = KVec::new();
        let mut fence = KVec::new();
        for b in self
            .bodies
            .lock()
            .iter_mut()
            .filter(|b| b.running && !b.retiring)
        {
            let home_up = homes.iter().any(|&(h, up)| h == b.home && up);
            match b.custody.step(BodyEvent::Tick { now, home_up }) {
                BodyAction::Run => {}
                BodyAction::Check => {
                    let _ = ask.push((b.pid, b.home, b.deputy), GFP_ATOMIC);
                }
                BodyAction::Fence => {
                    let _ = fence.push((b.pid, b.home), GFP_ATOMIC);
                }
            }
        }
        for &(pid, home, deputy) in ask.iter() {
            let Some(a) = self.check(home, pid, deputy, Asker::Body) else {
                continue;
            };
            let deputy_alive = a == Answer::Here;
            let mut bodies = self.bodies.lock();
            if let Some(b) = bodies
                .iter_mut()
                .find(|b| b.pid == pid && b.deputy == deputy && !b.retiring)
            {
                if b.custody.step(BodyEvent::Checked { deputy_alive }) == BodyAction::Fence {
                    let _ = fence.push((pid, home), GFP_ATOMIC);
                }
            }
        }
        for &(pid, home) in fence.iter() {
            pr_warn!(
                "pid {}: its home node {} gave it up or is gone: killed here\n",
                pid,
                home
            );
            self.events.add(
                EventKind::Migrate,
                self.me,
                format_args!("pid {} fenced: home node {} gone", pid, home),
            );
            self.counters.fenced.inc();
            let _ = sm::signal(pid, SIGKILL, SI_KERNEL, 0, 0);
        }
    }
}
