// SPDX-License-Identifier: GPL-2.0

//! Waits made where a process runs, not at home.
//!
//! A thread made after a move has no deputy of its own: its calls at home
//! are served by its process's deputy, one at a time, as the leader's
//! are. A read of an empty pipe waiting there would hold that deputy,
//! and the call queued behind it might be the write it waits for. So the
//! calls of a multi-threaded process that wait on a file's readiness
//! (read, write, recv, send, accept, an epoll wait), on a child it left
//! at home (wait4), or on a lock, a SysV queue or semaphore (flock,
//! F_SETLKW, msgsnd/msgrcv, semop) never wait at home:
//!
//! - **where it runs**, the thread takes a ticket (its process's count of
//!   `READY` notices) and sends the call marked `nowait`;
//! - **at home** the deputy makes the call only when the file's poll
//!   says it is ready, without waiting even then (`IOCB_NOWAIT`,
//!   `MSG_DONTWAIT`, a zero timeout, `WNOHANG`); otherwise it leaves a
//!   watch on the file, or on its children (rust/watch.c), and answers
//!   [`mig::WOULD_WAIT`];
//! - the watch fires once when the file may be ready: home sends `READY`,
//!   the count moves, and the thread asks again.
//!
//! The wait here is interruptible as the call's own would be, and asks
//! again after [`FALLBACK_MS`] whatever came (a notice lost with a link).
//! A write that did not wait wrote what fitted; the rest follows, as a
//! blocking write's would.

use super::Migrator;
use crate::logic::mig::{self, io_op, Io, Kind};
use crate::sys::migrate::{self as sm, Watch};
use crate::sys::time::now_ns;
use kernel::time::msecs_to_jiffies;

// The C side's values are the wire's.
const _: () = assert!(
    sm::IO_NOWAIT == io_op::NOWAIT
        && sm::IO_WOULD_WAIT == mig::WOULD_WAIT
        && sm::IO_POLL_WATCHED == mig::POLL_WATCHED
);

/// How long a thread waits for a `READY` before it asks again anyway.
pub(super) const FALLBACK_MS: u32 = 1000;

/// The first wait before asking again for what no watch holds (a lock
/// another holds, a full or empty SysV queue): doubled each time, up to
/// [`FALLBACK_MS`].
const RETRY_MS: u32 = 10;

/// ERESTARTSYS: a signal ended the wait; the call runs again or fails
/// with EINTR, as the signal's handler says.
pub(super) const ERESTARTSYS: i64 = -512;
/// ERESTARTNOINTR: the call is made again, whatever the signal's flags.
pub(super) const ERESTARTNOINTR: i64 = -513;

impl sm::WatchFired for Migrator {
    fn fired(&self, owner: u64, at: u8, pid: u32) {
        let ready = Io {
            deputy: owner,
            seq: 0,
            fd: 0,
            op: io_op::READY,
            len: 0,
            arg: 0,
            data: &[],
            nowait: false,
        };
        // (A notice lost: the thread asks again after FALLBACK_MS.)
        if self
            .send(at, Kind::Io, pid, 36, |w| mig::write_io(w, &ready))
            .is_ok()
        {
            self.counters.ready_sent.inc();
        }
    }
}

impl Migrator {
    /// Where the process runs: a `READY` from the deputy `deputy` of
    /// process `pid` at `from`.
    pub(super) fn on_ready(&self, from: u8, pid: u32, deputy: u64) {
        let mut b = self.bodies.lock();
        if let Some(r) = b
            .iter_mut()
            .find(|r| r.pid == pid && r.home == from && r.deputy == deputy)
        {
            r.ready_gen = r.ready_gen.wrapping_add(1);
        }
        drop(b);
        self.ready_cv.notify_all();
        // Its proxies' poll, select and epoll waiters ask again.
        sm::proxies_ready(pid, deputy);
    }

    /// The calling thread's ticket for a call of process `pid` that must
    /// not wait at home: `None` when it may (its process has one thread:
    /// its deputy serves no other call meanwhile), or it does not run here.
    pub(super) fn ticket(&self, pid: u32) -> Option<u32> {
        if !sm::current_multithreaded() {
            return None;
        }
        self.body(pid).map(|b| b.ready_gen)
    }

    /// Waits until the deputy of `pid` sent a `READY` after `ticket`, at
    /// most `ms`. `Err(ERESTARTSYS)` when a signal (or a move's stop)
    /// comes first.
    pub(super) fn wait_ready(
        &self,
        pid: u32,
        ticket: u32,
        ms: u32,
    ) -> core::result::Result<(), i64> {
        self.counters.waits_here.inc();
        let end = now_ns().saturating_add(u64::from(ms) * 1_000_000);
        let mut b = self.bodies.lock();
        loop {
            // (A move's stop comes as a signal would.)
            if sm::signal_pending() {
                return Err(ERESTARTSYS);
            }
            match b.iter().find(|r| r.pid == pid) {
                Some(r) if r.ready_gen == ticket => {}
                _ => return Ok(()),
            }
            let left = end.saturating_sub(now_ns()) / 1_000_000;
            if left == 0 {
                return Ok(());
            }
            let _ = self
                .ready_cv
                .wait_interruptible_timeout(&mut b, msecs_to_jiffies(left as u32));
        }
    }

    /// At home: a call of a thread that waits where it runs, on this
    /// deputy's `fd` for poll bits `events`. Made (`call(true)`: without
    /// waiting, [`mig::WOULD_WAIT`] when it would have waited) once the
    /// file is ready; when it is not, a watch is left whose `READY` goes
    /// to `at` for `pid` (deputy `owner`), and the answer is
    /// [`mig::WOULD_WAIT`]. A file no watch can hold: made as a call that
    /// waits (`call(false)`).
    pub(super) fn without_waiting(
        &self,
        fd: i32,
        events: u32,
        (owner, at, pid): (u64, u8, u32),
        mut call: impl FnMut(bool) -> i64,
    ) -> i64 {
        // (Ready, then not after all, as when another reader took the
        // data: asked again a few times, then answered as not ready.)
        for _ in 0..3 {
            match sm::fd_watch(fd, events, owner, at, pid) {
                Watch::Armed => return mig::WOULD_WAIT,
                Watch::No => return call(false),
                Watch::Ready => {}
            }
            let v = call(true);
            if v != mig::WOULD_WAIT {
                return v;
            }
        }
        mig::WOULD_WAIT
    }

    /// At home: a wait for a child (`wait4`) of a thread that waits where
    /// it runs. A watch of the deputy's children is left first, then the
    /// call made (`call(true)`: with `WNOHANG`, [`mig::WOULD_WAIT`] when
    /// no child changed): a child that changes in between fires the
    /// watch. Found one: the watch is not needed. No watch can be left:
    /// made as a call that waits (`call(false)`).
    pub(super) fn children_without_waiting(
        &self,
        (owner, at, pid): (u64, u8, u32),
        mut call: impl FnMut(bool) -> i64,
    ) -> i64 {
        if sm::child_watch(owner, at, pid) == Watch::No {
            return call(false);
        }
        let v = call(true);
        if v != mig::WOULD_WAIT {
            sm::child_watch_cancel(owner);
        }
        v
    }

    /// Where the process runs: a `nowait` request of process `pid` made
    /// by `ask` (which takes whether it is one) until home does not
    /// answer [`mig::WOULD_WAIT`], waiting for `READY` in between (for
    /// what no watch holds, `retry`: [`RETRY_MS`] doubling to
    /// [`FALLBACK_MS`]). `timeout`: the call's own (ms, negative: none)
    /// and what it returns when that passed (an epoll wait 0, a
    /// `semtimedop` EAGAIN). `Err`: a signal ended the wait
    /// (`interrupted`: the call's code for it), or the request's own
    /// error.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn wait_here<T>(
        &self,
        pid: u32,
        timeout: Option<(i64, i64)>,
        retry: bool,
        interrupted: i64,
        mut ask: impl FnMut(bool) -> core::result::Result<(i64, T), i64>,
        empty: impl Fn() -> T,
    ) -> core::result::Result<(i64, T), i64> {
        let start = now_ns();
        let mut retry_ms = RETRY_MS;
        loop {
            let Some(ticket) = self.ticket(pid) else {
                return ask(false);
            };
            let (v, t) = ask(true)?;
            if v != mig::WOULD_WAIT {
                return Ok((v, t));
            }
            let mut ms = FALLBACK_MS;
            if retry {
                ms = retry_ms;
                retry_ms = (retry_ms * 2).min(FALLBACK_MS);
            }
            if let Some((limit, timed_out)) = timeout.filter(|&(t, _)| t >= 0) {
                let spent = (now_ns().saturating_sub(start) / 1_000_000) as i64;
                if spent >= limit {
                    return Ok((timed_out, empty()));
                }
                ms = ms.min(u32::try_from(limit - spent).unwrap_or(u32::MAX));
            }
            if self.wait_ready(pid, ticket, ms).is_err() {
                return Err(interrupted);
            }
        }
    }
}
