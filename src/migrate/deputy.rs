// SPDX-License-Identifier: GPL-2.0

//! The home side of a process that runs elsewhere: its deputy, the
//! original task, keeps the PID, the parent and the open files; it serves
//! the process's file operations, forwards the signals it gets, and ends
//! with the process's exit code. Must not touch the destination's state.

use super::{
    Deputy, Inbound, IoReply, Migrator, Msg, State, WireResult, MAX_IOS, MAX_SIGS_PENDING, SIGKILL,
};
use crate::events::EventKind;
use crate::logic::custody::{self, Answer, Asker, DeputyAction, DeputyEvent};
use crate::logic::errno::Errno;
use crate::logic::mig::{self, io_op, Kind, Reader, Signal};
use crate::logic::wire::WireError;
use crate::sys::migrate::{self as sm};
use crate::sys::time::now_ns;
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::{prelude::*, sync::Arc, time::msecs_to_jiffies};

/// A task work that does nothing: queued with a notification, it makes a
/// deputy's interruptible wait return (see `interrupt_deputy`).
struct Interrupt;

impl sm::TaskWork for Interrupt {
    fn run(self: Arc<Self>) -> Option<i32> {
        None
    }
}

/// How long a forwarded signal waits for its acknowledgement.
const SIGNAL_TIMEOUT_MS: u32 = 2000;
/// SIGCONT: once forwarded, the deputy reports its process continued.
pub(super) const SIGCONT: u32 = 18;

/// How long a deputy keeps the data of its last reply for a repeat: twice
/// the time a body goes on repeating a request (proxy.rs's IO_RETRY_NS).
const REPLY_KEEP_NS: u64 = 60_000_000_000;
/// A `FORK` that waited longer than this for its deputy is refused: the
/// node gives up on it after `COMMIT_TIMEOUT_MS` (30 s, one attempt:
/// `IO_RETRY_NS` is 30 s too), and the answer must reach it before.
const FORK_STALE_NS: u64 = 20_000_000_000;

impl Migrator {
    /// Files the deputy `id` of `pid`, running on `at`; `fork_of`: the
    /// PID whose deputy forked it for a fork where that process runs (0:
    /// the process moved from here).
    pub(super) fn make_deputy(
        &self,
        pid: u32,
        at: u8,
        nmigs: u32,
        id: u64,
        fork_of: u32,
    ) -> Result {
        let mut s = self.state.lock();
        s.deputies.push(
            Deputy {
                pid,
                id,
                io: super::IoSlot::new(),
                exit: None,
                home_mig: None,
                custody: custody::Deputy::new(at, now_ns()),
                sigs: KVec::new(),
                next_sig: 0,
                killing: None,
                kill_delivered: false,
                fork_of,
                mm_users: 0,
                mm_closed: false,
            },
            GFP_KERNEL,
        )?;
        drop(s);
        self.table.set_away(pid, Some(at))?;
        let _ = self.table.set_nmigs(pid, nmigs);
        Ok(())
    }

    pub(super) fn drop_deputy(&self, pid: u32) {
        let mut s = self.state.lock();
        let id = s.deputies.iter().find(|d| d.pid == pid).map(|d| d.id);
        s.deputies.retain(|d| d.pid != pid);
        drop(s);
        // Its watches (nowait.rs) hold its files: they end with it.
        if let Some(id) = id {
            sm::watch_cancel(id);
        }
        let _ = self.table.set_away(pid, None);
    }

    /// The deputy of `pid`, in its own context: until the process ends
    /// (this task then exits with its code) or comes back (returns: the
    /// task resumes as the process).
    /// Returns the status the deputy exits with, `None` when the process
    /// is back in it (it runs on).
    pub(super) fn deputy_loop(self: &Arc<Self>, pid: u32) -> Option<i32> {
        sm::deputy_signals();
        loop {
            let at = self.table.away(pid).unwrap_or(self.me);
            if sm::fatal_pending() {
                // Killed at home: the process is killed too, and this task
                // (its PID) lives on until that is sure, so that the PID
                // is never free while the process may still run.
                self.kill_process(pid);
                self.drop_deputy(pid);
                self.end_thread_deputies(pid, SIGKILL as i32);
                return None;
            }
            self.forward_signals(pid, at);
            enum Work {
                Exit(i32),
                Home(u64),
                Io(Msg),
                Check(u8),
                Lost,
                Idle,
            }
            let work = {
                let mut s = self.state.lock();
                let up = self.transport.is_up(at);
                match s.deputies.iter_mut().find(|d| d.pid == pid) {
                    None => Work::Lost,
                    Some(d) => {
                        // A Moved report changed where it runs.
                        if d.custody.at != at {
                            d.custody.step(DeputyEvent::Moved(at));
                        }
                        if let Some(c) = d.exit {
                            Work::Exit(c)
                        } else if let Some(m) = d.home_mig {
                            Work::Home(m)
                        } else if let Some(m) = d.io.take_next() {
                            Work::Io(m)
                        } else {
                            match d.custody.step(DeputyEvent::Tick { now: now_ns(), up }) {
                                DeputyAction::Wait => Work::Idle,
                                DeputyAction::Check(n) => Work::Check(n),
                                DeputyAction::End(c) if c == custody::LOST_STATUS => Work::Lost,
                                DeputyAction::End(c) => Work::Exit(c),
                            }
                        }
                    }
                }
            };
            match work {
                Work::Exit(code) => {
                    self.drop_deputy(pid);
                    self.end_thread_deputies(pid, code);
                    return Some(code);
                }
                Work::Lost => {
                    self.deputy_lost(pid, at, "");
                    self.drop_deputy(pid);
                    self.end_thread_deputies(pid, SIGKILL as i32);
                    return Some(SIGKILL as i32);
                }
                Work::Check(n) => {
                    // Its loop finds the status, if any, next.
                    let _ = self.deputy_check(pid, n);
                }
                Work::Home(m) => match self.restore(m, true) {
                    Ok(()) => return None,
                    Err(e) => {
                        pr_info_ratelimited!(
                            "pid {}: coming home failed (error {}), it stays on node {}\n",
                            pid,
                            e.to_errno(),
                            at
                        );
                        sm::deputy_signals();
                        let mut s = self.state.lock();
                        if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) {
                            d.home_mig = None;
                        }
                    }
                },
                Work::Io(msg) => self.serve_io(pid, at, msg, true),
                Work::Idle => {
                    let mut s = self.state.lock();
                    // The body repeats a request for at most IO_RETRY_NS:
                    // after REPLY_KEEP_NS no repeat can come, and a kept
                    // read's data (up to READ_MAX) is let go; its value
                    // stays (a repeat after all would get EIO, not the
                    // read done twice).
                    let now = now_ns();
                    if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) {
                        if let Some(r) = d.io.last_io.as_mut() {
                            if !r.data.is_empty() && now.saturating_sub(r.at_ns) > REPLY_KEEP_NS {
                                r.data = KVVec::new();
                            }
                        }
                    }
                    let pending = s.deputies.iter().find(|d| d.pid == pid).is_some_and(|d| {
                        d.exit.is_some() || d.home_mig.is_some() || !d.io.ios.is_empty()
                    });
                    if !pending {
                        let _ = self
                            .cv
                            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(500));
                    }
                }
            }
        }
    }

    /// Queues signal `sig` for the process (numbered), to be forwarded by
    /// [`Self::flush_signals`].
    fn queue_signal(
        &self,
        pid: u32,
        sig: u32,
        code: i32,
        from_pid: u32,
        from_uid: u32,
        flags: u32,
    ) {
        let mut s = self.state.lock();
        let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) else {
            return;
        };
        if d.sigs.len() >= MAX_SIGS_PENDING {
            drop(s);
            self.counters.signals_dropped.inc();
            pr_info_ratelimited!(
                "pid {}: too many signals pending, signal {} dropped\n",
                pid,
                sig
            );
            return;
        }
        d.next_sig = d.next_sig.wrapping_add(1).max(1);
        let sg = Signal {
            sig,
            code,
            from_pid,
            from_uid,
            deputy: d.id,
            seq: d.next_sig,
            flags,
        };
        if d.sigs.push(sg, GFP_KERNEL).is_err() {
            drop(s);
            self.counters.signals_dropped.inc();
        }
    }

    /// The deputy of `pid` was killed: has the reporter deliver SIGKILL to
    /// the process (this task, a fatal signal pending, cannot wait for an
    /// answer), and waits, whatever signals come, until it is delivered,
    /// the process's exit is heard, custody gives the process up (its
    /// node down for the deputy's bound: it fenced itself by then), or at
    /// most `custody::KILL_WAIT_NS`.
    /// A move home it was asked (Begin filed, not yet restored: this
    /// task restores it, and will not) is refused now, ESRCH: it would
    /// stay filed for ever, its Begin unanswered.
    fn kill_process(&self, pid: u32) {
        let refused = {
            let mut s = self.state.lock();
            let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) else {
                return;
            };
            d.next_sig = d.next_sig.wrapping_add(1).max(1);
            d.killing = Some(d.next_sig);
            let home = d.home_mig.take();
            let i = home.and_then(|m| s.incoming.iter().position(|i| i.mig == m));
            i.and_then(|i| s.incoming.remove(i).ok())
                .map(|inc| (inc.from, inc.begin_req))
        };
        if let Some((from, req)) = refused {
            pr_info_ratelimited!(
                "migrate: pid {} from node {} refused: it was killed at home\n",
                pid,
                from
            );
            self.respond(from, req, pid, i64::from(ESRCH.to_errno()), &[]);
        }
        self.exits_cv.notify_all();
        let start = now_ns();
        loop {
            let at = self.table.away(pid).unwrap_or(self.me);
            if now_ns().saturating_sub(start) >= custody::KILL_WAIT_NS {
                // Found nowhere all along (every answer "not here"): no
                // copy runs any more (see KILL_WAIT_NS).
                return;
            }
            let done = {
                let mut s = self.state.lock();
                let up = self.transport.is_up(at);
                match s.deputies.iter_mut().find(|d| d.pid == pid) {
                    None => true,
                    Some(d) => {
                        d.kill_delivered
                            || d.exit.is_some()
                            || matches!(
                                d.custody.step(DeputyEvent::Tick { now: now_ns(), up }),
                                DeputyAction::End(_)
                            )
                    }
                }
            };
            if done {
                return;
            }
            crate::sys::time::msleep(200);
        }
    }

    /// The reporter's part of [`Self::kill_process`]: SIGKILL to the
    /// processes of killed deputies, until acknowledged.
    pub(super) fn deliver_kills(&self) {
        let mut kills = KVec::new();
        for d in self.state.lock().deputies.iter() {
            if let (Some(seq), false) = (d.killing, d.kill_delivered) {
                let _ = kills.push((d.pid, d.custody.at, d.id, seq), GFP_KERNEL);
            }
        }
        for &(pid, at, id, seq) in kills.iter() {
            let sg = Signal {
                sig: SIGKILL,
                code: 0x80,
                from_pid: 0,
                from_uid: 0,
                deputy: id,
                seq,
                flags: 0,
            };
            if self.send_signal(at, pid, &sg).is_some() {
                let mut s = self.state.lock();
                if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid && d.id == id) {
                    d.kill_delivered = true;
                }
            }
        }
    }

    /// Forwards the queued signals to node `at` in order, each until it
    /// is acknowledged (delivered there, or refused for good); stops at
    /// the first without an answer or "not here" (ESRCH: the process is
    /// elsewhere now): the deputy's loop tries again.
    fn flush_signals(&self, pid: u32, at: u8) {
        loop {
            let first = {
                let s = self.state.lock();
                s.deputies
                    .iter()
                    .find(|d| d.pid == pid)
                    .and_then(|d| d.sigs.first().copied())
            };
            let Some(sg) = first else { return };
            let Some(v) = self.send_signal(at, pid, &sg) else {
                self.counters.signal_retries.inc();
                return;
            };
            // Job control: the deputy (this task) is what home's shell
            // waits for; it reports the process's stop and continue.
            if (1..=64).contains(&v) {
                sm::deputy_job(Some(v as u32));
            } else if sg.sig == SIGCONT {
                sm::deputy_job(None);
            }
            let mut s = self.state.lock();
            if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) {
                if d.sigs.first().is_some_and(|x| x.seq == sg.seq) {
                    let _ = d.sigs.remove(0);
                }
            }
        }
    }

    /// Sends signal `sg` to process `pid` on node `at`; the answer if it
    /// was acknowledged for good (delivered there: 0, or the stop signal
    /// the process stopped with; or refused for a reason a repeat would
    /// not change: an errno). No answer, or "not here" (ESRCH: it runs
    /// elsewhere now), is not (`None`): the caller sends it again.
    fn send_signal(&self, at: u8, pid: u32, sg: &Signal) -> Option<i64> {
        let r = self.request(
            at,
            Kind::Signal,
            pid,
            SIGNAL_TIMEOUT_MS,
            mig::SIGNAL_LEN,
            |w| mig::write_signal(w, sg),
        );
        match r {
            Ok((v, _)) if v != Errno::ESRCH.to_result() => Some(v),
            _ => None,
        }
    }

    /// Forwards every signal pending for the deputy to the process.
    pub(super) fn forward_signals(&self, pid: u32, at: u8) {
        while let Some(info) = sm::dequeue_signal() {
            let le =
                |o: usize| u32::from_le_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
            let (sig, code, from_pid, from_uid) = (le(0), le(8) as i32, le(16), le(20));
            if sig == 0 || sig > 64 {
                continue;
            }
            // A stop signal stops the process as job control would stop
            // it here (the process decides whether its action is the
            // default).
            let flags = mig::sig_flags::for_signal(sig, sm::pgrp_orphaned);
            self.queue_signal(pid, sig, code, from_pid, from_uid, flags);
        }
        self.flush_signals(pid, at);
    }

    /// Deputy `pid` (the calling task) begins serving request `seq`
    /// (`Some`), or ends (`None`): then forgets an interruption that
    /// came too late to interrupt it (under the state lock, so that
    /// `on_io` interrupts only while it serves).
    fn set_serving(&self, pid: u32, seq: Option<u32>) {
        let mut s = self.state.lock();
        if let Some(d) = s.io_slot(pid) {
            d.serving = seq;
        }
        drop(s);
        if seq.is_none() {
            sm::unkick();
        }
    }

    /// The reply kept for a repeat of request `seq` of process `pid` (a
    /// copy, vmalloc'd: a read's answer may be READ_MAX bytes).
    fn replay(&self, pid: u32, seq: u32) -> Option<(i64, KVVec<u8>)> {
        if seq == 0 {
            return None;
        }
        let mut s = self.state.lock();
        let d = s.io_slot(pid)?;
        let r = d.last_io.as_ref().filter(|r| r.seq == seq)?;
        let mut data = KVVec::new();
        data.extend_from_slice(&r.data, GFP_KERNEL).ok()?;
        Some((r.value, data))
    }

    /// Keeps the reply to request `seq` of process `pid` (for a repeat):
    /// `data` itself, not a copy.
    fn keep_reply(&self, pid: u32, seq: u32, value: i64, data: KVVec<u8>) {
        if seq == 0 {
            return;
        }
        let at_ns = now_ns();
        let mut s = self.state.lock();
        if let Some(d) = s.io_slot(pid) {
            d.last_io = Some(IoReply {
                seq,
                value,
                data,
                at_ns,
            });
        }
    }

    /// [`keep_reply`](Self::keep_reply) of a small answer, copied (no reply
    /// is kept when that fails: a repeat then does the call again).
    fn keep_reply_copy(&self, pid: u32, seq: u32, value: i64, data: &[u8]) {
        let mut copy = KVVec::new();
        if copy.extend_from_slice(data, GFP_KERNEL).is_ok() {
            self.keep_reply(pid, seq, value, copy);
        } else {
            let mut s = self.state.lock();
            if let Some(d) = s.io_slot(pid) {
                d.last_io = None;
            }
        }
    }

    /// Serves one file operation of the process, on the deputy's files.
    /// Serves one proxied operation of process `pid` (running on `at`);
    /// `forward`: then forwards the signals this task got meanwhile (not
    /// while it restores the process coming home: they stay pending here,
    /// for the process once it is back, or for the loop if it is not).
    pub(super) fn serve_io(self: &Arc<Self>, pid: u32, at: u8, msg: Msg, forward: bool) {
        let mut r = Reader::new(&msg.body);
        let Ok(io) = mig::read_io(&mut r) else {
            self.respond(
                msg.from,
                msg.req,
                pid,
                -i64::from(EINVAL.to_errno().abs()),
                &[],
            );
            return;
        };
        // A repeat (the reply was lost with a link): the first reply, not
        // the operation again.
        if let Some((v, data)) = self.replay(pid, io.seq) {
            self.respond(msg.from, msg.req, pid, v, &data);
            return;
        }
        self.counters.io_served.inc();
        self.set_serving(pid, Some(io.seq));
        // A thread that waits where it runs: its call here must not wait.
        let nowait = io.nowait.then_some((io.deputy, at, pid));
        if io.op == io_op::MSG {
            let (ret, data) = self.do_msg(io.data, nowait);
            self.set_serving(pid, None);
            if forward {
                self.forward_signals(pid, at);
            }
            self.respond(msg.from, msg.req, pid, ret, &data);
            self.keep_reply(pid, io.seq, ret, data);
            return;
        }
        if io.op == io_op::FORK || io.op == io_op::FORK_UNDO {
            let stale = now_ns().saturating_sub(msg.at_ns) > FORK_STALE_NS;
            let (ret, data) = if io.op == io_op::FORK && stale {
                // It waited here (the deputy busy with a call of the
                // process's that blocks) until the node may have stopped
                // waiting for the answer: a deputy made now might never
                // have its process. Refused: the process forks at home.
                pr_info_ratelimited!(
                    "migrate: pid {}: its fork on node {} waited too long here: refused\n",
                    pid,
                    at
                );
                (i64::from(ETIMEDOUT.to_errno()), [0; 8])
            } else if io.op == io_op::FORK {
                match self.fork_deputy(pid, at, io.arg) {
                    Ok((child, id)) => (i64::from(child), id.to_le_bytes()),
                    Err(e) => (i64::from(e.to_errno()), [0; 8]),
                }
            } else {
                (self.fork_undo(pid, at, io.arg), [0; 8])
            };
            let data: &[u8] = if ret > 0 { &data } else { &[] };
            self.set_serving(pid, None);
            if forward {
                self.forward_signals(pid, at);
            }
            self.keep_reply_copy(pid, io.seq, ret, data);
            self.respond(msg.from, msg.req, pid, ret, data);
            return;
        }
        if io.op == io_op::SYSCALL {
            let (ret, data) = self.do_call(io.data, nowait);
            self.set_serving(pid, None);
            if forward {
                self.forward_signals(pid, at);
            }
            self.keep_reply_copy(pid, io.seq, ret, &data);
            self.respond(msg.from, msg.req, pid, ret, &data);
            return;
        }
        if io.op == io_op::IOCTL {
            let mut out = [0u8; 64];
            let ret = match mig::ioctl_shape(io.len) {
                Some(sh) => {
                    let n = (sh.output as usize).min(out.len());
                    sm::fd_ioctl(io.fd, io.len, io.data, &mut out[..n], io.arg, sh.by_value)
                }
                None => Errno::ENOTTY.to_result(),
            };
            self.set_serving(pid, None);
            if forward {
                self.forward_signals(pid, at);
            }
            let n = mig::ioctl_shape(io.len).map_or(0, |s| s.output as usize);
            let data: &[u8] = if ret >= 0 { &out[..n.min(64)] } else { &[] };
            self.keep_reply_copy(pid, io.seq, ret, data);
            self.respond(msg.from, msg.req, pid, ret, data);
            return;
        }
        // A read goes into room of its own (up to READ_MAX: kvmalloc'd,
        // not zeroed first); a write's bytes are copied (no copy that
        // could panic).
        let mut buf = KVVec::new();
        let ret = if io.op == io_op::READ {
            let mut read =
                |quick: bool| sm::fd_read_into(io.fd, &mut buf, io.len as usize, io.arg, quick);
            match nowait {
                Some(w) => self.without_waiting(io.fd, mig::POLL_IN, w, read),
                None => read(false),
            }
        } else {
            if io.op == io_op::WRITE && buf.extend_from_slice(io.data, GFP_KERNEL).is_err() {
                self.set_serving(pid, None);
                self.respond(msg.from, msg.req, pid, Errno::ENOMEM.to_result(), &[]);
                return;
            }
            // A watch holds its file open: it ends before the close (a
            // thread that waited on it asks again after its fallback).
            if io.op == io_op::CLOSE {
                sm::watch_cancel_fd(io.deputy, io.fd);
            }
            if io.op == io_op::POLL {
                self.counters.polls_served.inc();
            }
            let mut op = |quick: bool| {
                let op = if quick { io.op | sm::IO_NOWAIT } else { io.op };
                sm::fd_io(io.fd, op, &mut buf, io.len, io.arg)
            };
            match nowait {
                Some(w) if io.op == io_op::WRITE => {
                    self.without_waiting(io.fd, mig::POLL_OUT, w, op)
                }
                // Someone waits for readiness where it runs: when none
                // is here, a watch sends READY when some may be.
                _ if io.op == io_op::POLL && io.arg != 0 => {
                    let w = sm::fd_watch(io.fd, io.arg as u32, io.deputy, at, pid);
                    match op(false) {
                        m if m >= 0 && w == sm::Watch::Armed => m | mig::POLL_WATCHED,
                        m => m,
                    }
                }
                _ => op(false),
            }
        };
        self.set_serving(pid, None);
        // A signal that interrupted it reaches the process first.
        if forward {
            self.forward_signals(pid, at);
        }
        // What was read is the answer, kept as it is for a repeat (the
        // answer goes first: a repeat is served by this same loop, after
        // this returns); nothing else is.
        if io.op == io_op::READ && ret > 0 {
            buf.truncate((ret as usize).min(buf.len()));
        } else {
            buf.clear();
        }
        self.respond(msg.from, msg.req, pid, ret, &buf);
        self.keep_reply(pid, io.seq, ret, buf);
    }

    /// A `Moved` from the node a process of this node left: where it runs now.
    /// Custody gave up process `pid` with node `at`: logged (`why` after
    /// the line's reason), counted, told as an event.
    pub(super) fn deputy_lost(&self, pid: u32, at: u8, why: &str) {
        pr_warn!(
            "pid {}: node {} is gone, and the process with it{}\n",
            pid,
            at,
            why
        );
        self.counters.lost.inc();
        self.events.add(
            EventKind::Migrate,
            self.me,
            format_args!("pid {} lost with node {}: ends as killed", pid, at),
        );
    }

    /// `FORK` from process `pid`, running on `at`, in its deputy's
    /// context: a fork of the deputy, the child's deputy from its start
    /// (as if the child had been forked here and moved to `at`): its PID
    /// (home's, from this node's share) and its deputy's id.
    fn fork_deputy(self: &Arc<Self>, pid: u32, at: u8, exit_signal: i64) -> Result<(u32, u64)> {
        let sig = u32::try_from(exit_signal)
            .ok()
            .filter(|&s| s <= 64)
            .ok_or(EINVAL)?;
        if sm::current_tid() != sm::current_tgid() || sm::current_tgid() != pid {
            // Asked of a thread deputy (whose TGID is the process's too):
            // every thread's fork is sent to the process's deputy.
            return Err(EOPNOTSUPP);
        }
        let id = super::source::new_deputy_id();
        let w = Arc::new(
            ForkedDeputy {
                m: self.clone(),
                filed: AtomicU8::new(0),
            },
            GFP_KERNEL,
        )?;
        let child = sm::fork_deputy(sig, w.clone())?;
        if let Err(e) = self.make_deputy(child, at, 0, id, pid) {
            self.drop_deputy(child);
            w.filed.store(2, Ordering::Release);
            reap(child);
            return Err(e);
        }
        w.filed.store(1, Ordering::Release);
        self.events.add(
            EventKind::Migrate,
            self.me,
            format_args!(
                "pid {} forks on node {}: pid {}, its deputy here",
                pid, at, child
            ),
        );
        Ok((child, id))
    }

    /// `FORK_UNDO` of child `child` from process `pid`, running on `at`:
    /// the child never started there; its deputy ends, reaped here.
    fn fork_undo(&self, pid: u32, at: u8, child: i64) -> i64 {
        let Ok(child) = u32::try_from(child) else {
            return Errno::EINVAL.to_result();
        };
        {
            let mut s = self.state.lock();
            let Some(d) = s
                .deputies
                .iter_mut()
                .find(|d| d.pid == child && d.fork_of == pid && d.custody.at == at)
            else {
                return Errno::ESRCH.to_result();
            };
            d.exit = Some(0);
        }
        self.cv.notify_all();
        reap(child);
        pr_info_ratelimited!(
            "migrate: pid {}: its child {} did not start on node {}: undone\n",
            pid,
            child,
            at
        );
        0
    }

    pub(super) fn on_moved(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from: _, h, body } = m;
        let mut r = Reader::new(body);
        let node = r.u32()?;
        let nmigs = r.u32()?;
        r.end()?;
        let node = u8::try_from(node).map_err(|_| WireError::BadField)?;
        // Both ends of a move report it (the destination before the
        // process runs there, the source after Go): an older move's
        // report, late, changes nothing.
        if self.table.away(h.pid).is_some() && nmigs >= self.table.entry(h.pid).nmigs {
            let moved =
                self.table.away(h.pid) != Some(node) || nmigs > self.table.entry(h.pid).nmigs;
            let _ = self.table.set_away(h.pid, Some(node));
            let _ = self.table.set_nmigs(h.pid, nmigs);
            if moved {
                // No repeat of a call made where it ran before can come
                // any more: the replies kept for one go (a request there
                // numbered as one of the old node's must not get its
                // reply).
                let mut s = self.state.lock();
                if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == h.pid) {
                    d.io.last_io = None;
                }
                for t in s.tdeps.iter_mut().filter(|t| t.pid == h.pid) {
                    t.io.last_io = None;
                }
            }
            self.cv.notify_all();
        }
        Ok(())
    }

    /// An `Exit` of a process of this node that ran elsewhere: its deputy
    /// ends with it. Matched by the deputy's id, from whichever node (a
    /// `Moved` may have been lost); always acknowledged, so that the
    /// reporter stops repeating it.
    pub(super) fn on_exit(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let mut r = Reader::new(body);
        let code = r.i32()?;
        let id = r.u64()?;
        r.end()?;
        let mut s = self.state.lock();
        let mut blocked = false;
        if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == h.pid && d.id == id) {
            d.exit = Some(code);
            blocked = d.io.serving.is_some();
        }
        drop(s);
        self.end_thread_deputies(h.pid, code);
        self.cv.notify_all();
        if blocked {
            // Blocked in a read for the process (a terminal waiting for a
            // person): interrupt it, so that it ends now and does not eat
            // the next line typed.
            self.interrupt_deputy(h.pid);
        }
        self.respond(from, h.req, h.pid, 0, &[]);
        Ok(())
    }

    /// Interrupts what deputy `pid` waits for (a task work queued with a
    /// notification, as a signal would, without one).
    fn interrupt_deputy(&self, pid: u32) {
        let Ok(t) = sm::Task::of(pid) else { return };
        if let Ok(w) = Arc::new(Interrupt, GFP_KERNEL) {
            let _ = sm::task_work(&t, true, w);
        }
    }

    /// Asks node `n` whether the process of deputy `pid` still runs
    /// there, and feeds the answer to the deputy's custody: whether the
    /// deputy has its status now (custody gave the process up, or it
    /// exited).
    pub(super) fn deputy_check(&self, pid: u32, n: u8) -> bool {
        let Some(id) = self
            .state
            .lock()
            .deputies
            .iter()
            .find(|d| d.pid == pid)
            .map(|d| d.id)
        else {
            return false;
        };
        let Some(a) = self.check(n, pid, id, Asker::Deputy) else {
            return false;
        };
        let mut s = self.state.lock();
        let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid && d.id == id) else {
            return false;
        };
        match d.custody.step(DeputyEvent::Checked(a)) {
            DeputyAction::End(c) => {
                // The loop ends the deputy with it (twice "not here":
                // nobody runs it, it ends as killed).
                d.exit = Some(c);
                if c == custody::LOST_STATUS {
                    self.counters.lost.inc();
                    pr_warn!("pid {}: node {} does not have it any more\n", pid, n);
                }
            }
            DeputyAction::Wait | DeputyAction::Check(_) => {}
        }
        let ended = d.exit.is_some();
        drop(s);
        if let Answer::Moved(to) = a {
            let _ = self.table.set_away(pid, Some(to));
        }
        ended
    }

    /// An `Io` of a process of this node that runs elsewhere: queued for
    /// the deputy task that serves the calling thread (only from the
    /// proxies of this deputy): a thread's own thread deputy (the header
    /// names its TID), else the process's deputy (the leader, or a thread
    /// made away from home).
    pub(super) fn on_io(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let mut r = Reader::new(body);
        let io = mig::read_io(&mut r)?;
        if io.op == io_op::READY {
            // (To where the process runs, from its home.)
            self.on_ready(from, h.pid, io.deputy);
            return Ok(());
        }
        if io.op == io_op::INTR {
            // A signal reached the process, whose request `arg` may block
            // here: interrupted as the signal would a local call (its
            // reply says what the call did). Not answered.
            let mut s = self.state.lock();
            if let Some((key, _)) = self.io_route(&s, from, h.pid, io.deputy) {
                if s.io_slot(key)
                    .is_some_and(|d| d.serving == Some(io.arg as u32))
                {
                    // Under the lock: the deputy cannot end the call (and
                    // forget interruptions) meanwhile.
                    sm::kick(key);
                }
            }
            drop(s);
            return Ok(());
        }
        if matches!(
            io.op,
            io_op::COMM | io_op::JOB | io_op::CMDLINE | io_op::SWITCHES
        ) {
            // Its process's name or command line where it runs (home's
            // `ps` shows them), or it stopped or continued there (shown
            // to home's parent now, in the order the node's messages
            // came: a signal's answer that followed it is applied after
            // it).
            let s = self.state.lock();
            let ours = self.table.away(h.pid) == Some(from)
                && s.deputies
                    .iter()
                    .any(|d| d.pid == h.pid && d.id == io.deputy);
            if ours && io.op == io_op::CMDLINE {
                // The deputy itself, held: written outside the lock (it
                // may sleep), into its memory only (once it ended it has
                // none, whoever has its PID then).
                let t = sm::Task::of(h.pid);
                drop(s);
                if let Ok(t) = t {
                    // The same as it shows (the first look after a move
                    // sends it): kept, with its environment.
                    let mut now = KVec::new();
                    let same = now.resize(io.data.len() + 1, 0u8, GFP_KERNEL).is_ok() && {
                        let n = sm::cmdline(&t, &mut now);
                        now.get(..n) == Some(io.data)
                    };
                    if !same {
                        let _ = sm::set_cmdline(&t, io.data);
                    }
                }
                return Ok(());
            }
            if ours {
                // Under the lock: the deputy (whose PID this is) cannot end.
                let _ = if io.op == io_op::COMM {
                    sm::set_comm_of(h.pid, io.data)
                } else if io.op == io_op::SWITCHES {
                    self.table.mirror_switches(
                        h.pid,
                        io.arg & io_op::SWITCH_LOADLEVEL != 0,
                        io.arg & io_op::SWITCH_LOCK != 0,
                    )
                } else {
                    let stopped = u32::try_from(io.arg).ok().filter(|&v| v != 0);
                    sm::deputy_job_of(h.pid, stopped)
                };
            }
            drop(s);
            return Ok(());
        }
        let mut copy = KVVec::new();
        let ok = copy.extend_from_slice(body, GFP_KERNEL).is_ok();
        let mut s = self.state.lock();
        // Only the proxies of this deputy: never another process's
        // files after the PID was reused.
        let key = self.io_route(&s, from, h.pid, io.deputy).map(|(k, _)| k);
        match (ok, key.and_then(|k| s.io_slot(k))) {
            (true, Some(d)) if d.ios.len() >= MAX_IOS => {
                drop(s);
                self.counters.ios_refused.inc();
                self.respond(from, h.req, h.pid, Errno::EBUSY.to_result(), &[]);
                return Ok(());
            }
            (true, Some(d)) => {
                let m = Msg {
                    from,
                    req: h.req,
                    kind: Kind::Io,
                    body: copy,
                    at_ns: now_ns(),
                };
                if d.ios.push(m, GFP_KERNEL).is_err() {
                    drop(s);
                    self.respond(from, h.req, h.pid, Errno::ENOMEM.to_result(), &[]);
                    return Ok(());
                }
            }
            (false, Some(_)) => {
                drop(s);
                self.respond(from, h.req, h.pid, Errno::ENOMEM.to_result(), &[]);
                return Ok(());
            }
            _ => {
                drop(s);
                self.respond(from, h.req, h.pid, Errno::EBADF.to_result(), &[]);
                return Ok(());
            }
        }
        drop(s);
        self.cv.notify_all();
        Ok(())
    }

    /// Which deputy task serves a call that thread `tid` of the process
    /// whose deputy has id `id` made on node `from`: (its key, the
    /// process's PID). A thread deputy of that TID, else the process's
    /// deputy; `None` when neither is (or the process is not on `from`).
    pub(super) fn io_route(&self, s: &State, from: u8, tid: u32, id: u64) -> Option<(u32, u32)> {
        if let Some(t) = s
            .tdeps
            .iter()
            .find(|t| t.tid == tid && t.id == id && !t.end)
        {
            return (self.table.away(t.pid) == Some(from)).then_some((t.tid, t.pid));
        }
        if let Some(d) = s.deputies.iter().find(|d| d.pid == tid && d.id == id) {
            return (self.table.away(d.pid) == Some(from)).then_some((d.pid, d.pid));
        }
        // A thread made away from home: its process's deputy.
        s.deputies
            .iter()
            .find(|d| d.id == id && self.table.away(d.pid) == Some(from))
            .map(|d| (d.pid, d.pid))
    }
}

/// Reaps child `pid` of the calling task (a deputy's fork that never
/// served), which is ending: wait4(pid, NULL, __WALL | WNOHANG) until it
/// is gone (a pending task work would end a waiting wait4 at once), at
/// most about 5 s.
fn reap(pid: u32) {
    const NR_WAIT4: u32 = 61;
    const WALL_NOHANG: u64 = 0x4000_0001;
    for _ in 0..1000 {
        if sm::sys_call(
            NR_WAIT4,
            &[u64::from(pid), 0, WALL_NOHANG, 0, 0, 0],
            &mut [],
        ) != 0
        {
            return;
        }
        crate::sys::time::msleep(5);
    }
}

/// The first work of a deputy's fork (`Migrator::fork_deputy`): once its
/// deputy is filed (`filed` 1), it is the child's deputy until the child
/// ends or comes home; never filed (2), it ends, reaped by its parent.
struct ForkedDeputy {
    m: Arc<Migrator>,
    filed: AtomicU8,
}

impl sm::TaskWork for ForkedDeputy {
    fn run(self: Arc<Self>) -> Option<i32> {
        // Filed by its parent right after the clone (no user code may
        // run meanwhile: this waits here, not as a later work).
        let mut waited = 0;
        while self.filed.load(Ordering::Acquire) == 0 && waited < 5000 {
            crate::sys::time::msleep(1);
            waited += 1;
        }
        if self.filed.load(Ordering::Acquire) != 1 {
            return Some(0);
        }
        self.m.deputy_loop(sm::current_tgid())
    }
}
