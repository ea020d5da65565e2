// SPDX-License-Identifier: GPL-2.0

//! Iterative pre-copy (issue 18, item 2): after the first pass over a
//! process's memory, rounds that send again only what it wrote meanwhile,
//! while it runs on, until what is left is small enough for the freeze or
//! stops shrinking (`logic::mig::another_round`; at most the
//! `precopy_rounds` parameter).
//!
//! A round's look reads the soft-dirty bits and clears them with every
//! thread of the process stopped for the moment that takes (a task work
//! each, [`RoundStop`], the leader's too): a write between the read and
//! the clear would be lost otherwise (`logic::mig::dirty` says why, and
//! host/tests/dirty.rs shows it). A round that cannot stop every thread
//! (one in an uninterruptible wait, a vfork, a stop signal) or finds its
//! memory used by another process changes nothing: the freeze then reads
//! what the last round left, as it did before rounds.

use super::source::{runs, Outgoing, PageMap, SENT};
use super::threads::ask_threads;
use super::{Migrator, NSEC_PER_MSEC};
use crate::logic::mig::{self, DIRTY, PM_PRESENT, PM_SWAP};
use crate::sys::migrate as sm;
use crate::sys::time::now_ns;
use kernel::{
    new_condvar, new_mutex,
    prelude::*,
    sync::{Arc, CondVar, Mutex},
    time::msecs_to_jiffies,
};

/// How long a look waits for every thread to stop.
const STOP_WAIT_NS: u64 = 200 * NSEC_PER_MSEC;
/// A stopped thread runs on by itself after this long, whatever the look
/// does (which then vouches for nothing it read).
const STOP_MAX_NS: u64 = 2_000 * NSEC_PER_MSEC;

#[derive(Default)]
struct GateState {
    /// Threads waiting at the gate.
    stopped: u32,
    /// A thread went on before the gate opened.
    left_early: bool,
    /// The look is done (or given up): every thread goes on.
    open: bool,
}

/// Where a round's threads wait.
#[pin_data]
struct Gate {
    #[pin]
    s: Mutex<GateState>,
    #[pin]
    cv: CondVar,
}

impl Gate {
    fn open(&self) {
        self.s.lock().open = true;
        self.cv.notify_all();
    }
}

/// Opens the gate when the look ends, however it ends.
struct Opener<'a>(&'a Gate);

impl Drop for Opener<'_> {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// A thread of the process, stopped for a round's look.
struct RoundStop {
    gate: Arc<Gate>,
    pid: u32,
}

impl sm::TaskWork for RoundStop {
    fn run(self: Arc<Self>) -> Option<i32> {
        // A TID reused by another process meanwhile, or a thread exiting.
        if sm::current_tgid() != self.pid || sm::current_exiting() {
            return None;
        }
        let start = now_ns();
        let mut s = self.gate.s.lock();
        if s.open {
            return None;
        }
        s.stopped += 1;
        self.gate.cv.notify_all();
        while !s.open {
            if sm::fatal_pending() || now_ns().saturating_sub(start) > STOP_MAX_NS {
                s.stopped -= 1;
                s.left_early = true;
                self.gate.cv.notify_all();
                break;
            }
            let _ = self
                .gate
                .cv
                .wait_interruptible_timeout(&mut s, msecs_to_jiffies(20));
            if sm::signal_pending() && !sm::fatal_pending() {
                // A signal for the process waits too (delivered when it
                // goes on): no busy wait meanwhile.
                drop(s);
                crate::sys::time::msleep(1);
                s = self.gate.s.lock();
            }
        }
        None
    }
}

impl Migrator {
    /// The rounds after pre-copy's first pass of process `task` (`mm`).
    pub(super) fn rounds(&self, task: &sm::Task, mm: &sm::Mm, out: &mut Outgoing) -> Result {
        let max = crate::sys::param::precopy_rounds();
        let mut prev = out.stream.pages;
        let mut round = 1;
        while round <= max {
            let Some(dirty) = self.look(task, mm, out)? else {
                break;
            };
            if !mig::another_round(round, max, dirty, prev) {
                break;
            }
            self.resend(mm, out)?;
            out.rounds = round;
            prev = dirty;
            round += 1;
            if sm::fatal_pending() {
                return Err(EINTR);
            }
        }
        Ok(())
    }

    /// A round's look: with every thread stopped, marks [`DIRTY`] each
    /// page not unchanged since it was sent (or present and never sent)
    /// and clears the soft-dirty bits. How many it marked, or `None` when
    /// it could not look (nothing changed then).
    fn look(&self, task: &sm::Task, mm: &sm::Mm, out: &mut Outgoing) -> Result<Option<u64>> {
        let pid = out.stream.pid;
        let gate = Arc::pin_init(
            pin_init!(Gate {
                s <- new_mutex!(GateState::default(), "Gate::s"),
                cv <- new_condvar!("Gate::cv"),
            }),
            GFP_KERNEL,
        )?;
        let _opener = Opener(&gate);
        if !self.stop_all(task, pid, &gate)? {
            return Ok(None);
        }
        // Its memory is its threads' alone (this look's own reference
        // aside): a vfork child or a CLONE_VM process writes unstopped.
        if task.mm_other_users() > 1 {
            return Ok(None);
        }
        let mut pm = PageMap::new()?;
        let mut dirty = 0u64;
        for a in out.areas.iter_mut() {
            if a.sent.is_empty() {
                continue;
            }
            for (addr, idx, n) in runs(a.v.start, a.v.end) {
                let pme = pm.get(Some(mm), addr, n, a.v.end)?;
                for (i, &e) in pme.iter().enumerate() {
                    let k = idx + i;
                    if mig::unchanged(a.keys[k], e)
                        || (a.sent[k] == 0 && e & (PM_PRESENT | PM_SWAP) == 0)
                    {
                        continue;
                    }
                    a.keys[k] = DIRTY;
                    dirty += 1;
                }
            }
        }
        let cleared = sm::soft_dirty_clear(Some(mm));
        if gate.s.lock().left_early {
            // A thread ran during the look: what it wrote may be in no
            // bit now. Nothing sent is vouched for any more.
            for a in out.areas.iter_mut() {
                for (k, s) in a.keys.iter_mut().zip(a.sent.iter()) {
                    if *s != 0 {
                        *k = DIRTY;
                    }
                }
            }
            return Ok(None);
        }
        // Not cleared: the bits still say what was written, and what was
        // marked is read again at the freeze.
        Ok(cleared.ok().map(|()| dirty))
    }

    /// Stops every thread of `task` (process `pid`) at `gate`; `false`
    /// when one did not stop in time.
    fn stop_all(&self, task: &sm::Task, pid: u32, gate: &Arc<Gate>) -> Result<bool> {
        let start = now_ns();
        let mut asked: KVec<u32> = KVec::new();
        let stop = || RoundStop {
            gate: gate.clone(),
            pid,
        };
        // The leader (which `thread_tids` leaves out), then the others.
        if sm::task_work(task, true, Arc::new(stop(), GFP_KERNEL)?).is_err() {
            return Ok(false);
        }
        loop {
            let Ok(now) = task.thread_tids() else {
                return Ok(false);
            };
            ask_threads(&now, &mut asked, stop)?;
            let mut s = gate.s.lock();
            if s.left_early {
                return Ok(false);
            }
            if s.stopped as usize == now.len() + 1 {
                drop(s);
                // Every thread listed (and the leader) waits: none can
                // make another, and one exiting still writes its
                // clear_child_tid.
                if task.thread_tids().ok().as_ref() == Some(&now) && task.threads_exiting() == 0 {
                    return Ok(true);
                }
                s = gate.s.lock();
            }
            if now_ns().saturating_sub(start) > STOP_WAIT_NS {
                return Ok(false);
            }
            let _ = gate
                .cv
                .wait_interruptible_timeout(&mut s, msecs_to_jiffies(5));
            drop(s);
            crate::sys::time::killable_pause()?;
        }
    }

    /// Sends the pages a look marked [`DIRTY`] that are there, each with
    /// a new key taken before it is read.
    fn resend(&self, mm: &sm::Mm, out: &mut Outgoing) -> Result {
        let mut rbuf = KVec::new();
        rbuf.resize(mig::RUN_MAX_PAGES as usize * mig::PAGE, 0, GFP_KERNEL)?;
        let mut pm = PageMap::new()?;
        let Outgoing { areas, stream, .. } = out;
        for a in areas.iter_mut() {
            if a.sent.is_empty() {
                continue;
            }
            for (addr, idx, n) in runs(a.v.start, a.v.end) {
                if !a.keys[idx..idx + n].contains(&DIRTY) {
                    continue;
                }
                // Each page's entry is taken before the page is read.
                let pme = pm.get(Some(mm), addr, n, a.v.end)?;
                let (present, busy) = sm::read_pages_busy(Some(mm), addr, n as u32, &mut rbuf)?;
                let (mut k, mut w, mut keep, mut hsum) = (0usize, 0usize, 0u32, 0u64);
                for (i, &e) in pme.iter().enumerate() {
                    if present & (1 << i) == 0 {
                        continue;
                    }
                    let page = &rbuf[k * mig::PAGE..(k + 1) * mig::PAGE];
                    k += 1;
                    if a.keys[idx + i] != DIRTY {
                        continue;
                    }
                    let h = mig::page_hash(addr + (i * mig::PAGE) as u64, page);
                    stream.buf[w..w + mig::PAGE].copy_from_slice(page);
                    w += mig::PAGE;
                    keep |= 1 << i;
                    hsum = hsum.wrapping_add(h);
                    a.sent[idx + i] = SENT | h;
                    a.keys[idx + i] = mig::busy_key(e, busy & (1 << i) != 0);
                }
                stream.add(self, addr, keep, hsum)?;
                if sm::fatal_pending() {
                    return Err(EINTR);
                }
            }
        }
        Ok(())
    }
}
