// SPDX-License-Identifier: GPL-2.0

//! Post-copy (issue 18): the pages a freeze left for after Go
//! (`logic::mig::lazy` has the protocol).
//!
//! **Source.** After Go the move becomes a [`LazyOut`]: a reference on the
//! process's memory (its deputy's here at home, or the memory of the task
//! that ended, kept by that reference) and the lazy runs. The
//! `vproc-lazy` thread sends them in order, 15 pages a frame, and first
//! the pages the destination asks for (`LazyReq`). The memory is kept
//! until the destination says it has every page (`LazyDone`), its node
//! is down for 30 s, or nothing was asked for 5 minutes after all was
//! sent.
//!
//! **Destination.** The restorer made a userfaultfd for the process it
//! became ("MIG uffd N" to admin/restore). At Commit, in the process's
//! context, its stale copies of the lazy pages are dropped and the areas
//! holding them registered for missing pages, and `vproc-restore lazy`
//! is started: its write to admin/lazy serves the process
//! ([`Migrator::lazy_serve`]) until every page is in: it reads the
//! userfaultfd's events (a thread waits for a page: asked for, or zeros
//! for a page that was none; pages dropped, unmapped or moved by the
//! process meanwhile are followed) and puts each arriving page in
//! (UFFDIO_COPY), unless the process dropped it since. A page asked for
//! and not come in a second is asked for again; so is every missing page
//! when nothing came for two seconds. Moves, forks and execs of the
//! process wait until the end. If the source is lost (down for 5 s),
//! the pages it kept are lost with it: the process is killed here, as
//! any process whose memory is gone (README: a documented loss).

use super::Migrator;
use crate::logic::mig::{self, Kind, LazyReq, LazyRun, Reader};
use crate::logic::wire::WireError;
use crate::sys::migrate as sm;
use crate::sys::time::now_ns;
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::{prelude::*, sync::Arc, time::msecs_to_jiffies};

const NS_MS: u64 = 1_000_000;
/// The source keeps the memory while the destination's node is down
/// this long.
const OUT_DOWN_MS: u64 = 30_000;
/// ... and this long after all was sent with nothing asked.
const OUT_IDLE_MS: u64 = 300_000;
/// The destination gives up on a source down this long.
const IN_DOWN_MS: u64 = 5_000;
/// A move, fork or exec waits this long for the pages to be in.
pub(super) const LAZY_WAIT_MS: u64 = 120_000;
/// The helper must attach within this.
const ATTACH_MS: u64 = 5_000;
/// The longest a post-copy wait sleeps between looks at the state when no
/// notify came (a change made where none is sent: a stale arrival dropped).
const LAZY_POLL_MS: u32 = 50;
/// After all was sent, a probe this often.
const PROBE_MS: u64 = 10_000;
/// Most pages one frame carries (`mig::RUN_MAX_PAGES`).
const CHUNK: u32 = mig::RUN_MAX_PAGES;

/// The source's side of one post-copy.
pub(super) struct LazyOut {
    mig: u64,
    pid: u32,
    dest: u8,
    mm: Arc<sm::Mm>,
    runs: KVec<LazyRun>,
    /// The next page to push: run, page in it.
    run: usize,
    page: u32,
    /// Pages asked for: (address, pages).
    wants: KVec<(u64, u32)>,
    seq: u32,
    /// Last sign of the destination (ns).
    last: u64,
    down_since: u64,
    /// When a probe was last sent (ns).
    probe: u64,
    /// Go was answered: the pages go (not before: the link is the
    /// freeze's until then).
    started: bool,
    /// `LazyDone` came.
    done: bool,
    pushed: u64,
}

impl LazyOut {
    /// A frame to send: `n` pages at `addr`, with the next sequence
    /// number: (mig, pid, dest, memory, addr, n, seq).
    fn job(&mut self, addr: u64, n: u32) -> (u64, u32, u8, Arc<sm::Mm>, u64, u32, u32) {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        (self.mig, self.pid, self.dest, self.mm.clone(), addr, n, seq)
    }
}

/// The destination's side of one post-copy, shared with its helper.
pub(super) struct LazyIn {
    mig: u64,
    pid: u32,
    from: u8,
    uffd: Option<Arc<sm::Uffd>>,
    /// The lazy runs (encoded), set at Commit.
    runs: KVec<u8>,
    armed: bool,
    attached: bool,
    /// `LazyData` bodies not yet put in.
    frames: KVec<KVec<u8>>,
    kick: Arc<AtomicI32>,
    waker: Option<sm::Waker>,
}

/// Takes the first element of `v` that `f` picks (to be dropped outside
/// the lock that guards `v`: a post-copy's memory reference or file).
fn take_first<T>(v: &mut KVec<T>, f: impl Fn(&T) -> bool) -> Option<T> {
    let i = v.iter().position(f)?;
    v.remove(i).ok()
}

/// Pages of one lazy run still missing here (a bit each).
struct Missing {
    run: LazyRun,
    bits: KVec<u64>,
}

impl Missing {
    fn idx(&self, a: u64) -> Option<usize> {
        (a >= self.run.start && a < self.run.end())
            .then(|| ((a - self.run.start) / mig::PAGE as u64) as usize)
    }
    fn get(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }
    fn clear(&mut self, i: usize) -> bool {
        let was = self.get(i);
        self.bits[i / 64] &= !(1 << (i % 64));
        was
    }
}

/// What the helper's loop keeps.
struct Serving {
    missing: KVec<Missing>,
    left: u64,
    remaps: KVec<(u64, u64, u64)>,
    /// Pages asked for and when: (source address, ns).
    asked: KVec<(u64, u64)>,
}

impl Serving {
    fn find(&self, src: u64) -> Option<(usize, usize)> {
        // Runs are in rising order: a binary search.
        let k = self.missing.partition_point(|m| m.run.end() <= src);
        let m = self.missing.get(k)?;
        m.idx(src).map(|i| (k, i))
    }
    fn is_missing(&self, src: u64) -> bool {
        self.find(src).is_some_and(|(k, i)| self.missing[k].get(i))
    }
    fn got(&mut self, src: u64) {
        if let Some((k, i)) = self.find(src) {
            if self.missing[k].clear(i) {
                self.left -= 1;
            }
        }
    }
}

impl Serving {
    /// The process dropped or unmapped [s, e) (addresses now): pages of
    /// it still missing are not put in any more.
    fn gone(&mut self, s: u64, e: u64) {
        let p = mig::PAGE as u64;
        for k in 0..self.missing.len() {
            let r = self.missing[k].run;
            if let Some(a) = mig::placed(&self.remaps, r.start, r.end() - r.start) {
                // Where it is now, in one piece (moved or not): the
                // overlap only.
                let lo = s.max(a);
                let hi = e.min(a + (r.end() - r.start));
                let mut x = lo;
                while x < hi {
                    let i = ((x - a) / p) as usize;
                    if self.missing[k].clear(i) {
                        self.left -= 1;
                    }
                    x += p;
                }
            } else {
                for i in 0..r.pages as usize {
                    let now = mig::remapped(&self.remaps, r.start + i as u64 * p);
                    if now >= s && now < e && self.missing[k].clear(i) {
                        self.left -= 1;
                    }
                }
            }
        }
    }
}

impl Migrator {
    // ---- source ----

    /// After Go of a freeze that left `runs` lazy: keep `mm` and send
    /// them.
    pub(super) fn lazy_start(
        &self,
        mig: u64,
        pid: u32,
        dest: u8,
        mm: sm::Mm,
        runs: &[u8],
    ) -> Result {
        let mut v = KVec::new();
        for r in mig::lazy_runs(runs) {
            v.push(r, GFP_KERNEL)?;
        }
        let o = LazyOut {
            mig,
            pid,
            dest,
            mm: Arc::new(mm, GFP_KERNEL)?,
            runs: v,
            run: 0,
            page: 0,
            wants: KVec::new(),
            seq: 0,
            last: now_ns(),
            down_since: 0,
            probe: now_ns(),
            started: false,
            done: false,
            pushed: 0,
        };
        self.state.lock().lazy_out.push(o, GFP_KERNEL)?;
        self.cv.notify_all();
        Ok(())
    }

    /// Go of migration `mig_id` answered: its pages may go.
    pub(super) fn lazy_go(&self, mig_id: u64) {
        let mut s = self.state.lock();
        if let Some(o) = s.lazy_out.iter_mut().find(|o| o.mig == mig_id) {
            o.started = true;
            o.last = now_ns();
            drop(s);
            self.cv.notify_all();
        }
    }

    /// A move whose Commit or Go failed: nothing runs there, the
    /// memory is not kept for it.
    pub(super) fn lazy_cancel(&self, mig_id: u64) {
        let gone = take_first(&mut self.state.lock().lazy_out, |o| o.mig == mig_id);
        drop(gone);
    }

    /// `LazyReq` (the destination's receiver context): queued for the
    /// `vproc-lazy` thread.
    pub(super) fn on_lazy_req(&self, from: u8, body: &[u8]) -> core::result::Result<(), WireError> {
        let q = mig::read_lazy_req(&mut Reader::new(body))?;
        let mut s = self.state.lock();
        if let Some(o) = s
            .lazy_out
            .iter_mut()
            .find(|o| o.mig == q.mig && o.dest == from)
        {
            o.last = now_ns();
            if o.wants.len() < 4096 {
                let _ = o.wants.push((q.addr, q.pages), GFP_ATOMIC);
            }
            drop(s);
            self.cv.notify_all();
        }
        Ok(())
    }

    /// `LazyDone`: the destination has every page, or the process ended.
    pub(super) fn on_lazy_done(
        &self,
        from: u8,
        body: &[u8],
    ) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(body);
        let m = r.u64()?;
        r.end()?;
        let mut s = self.state.lock();
        if let Some(o) = s.lazy_out.iter_mut().find(|o| o.mig == m && o.dest == from) {
            o.done = true;
            drop(s);
            self.cv.notify_all();
        }
        Ok(())
    }

    /// One step of the `vproc-lazy` thread: sends one frame (asked-for
    /// pages first), or ends a post-copy, or waits a little.
    pub(crate) fn lazy_step(&self, buf: &mut KVec<u8>, rbuf: &mut KVec<u8>) {
        let now = now_ns();
        let mut s = self.state.lock();
        // Ended ones go (their memory reference dropped outside the lock).
        let mut ended = None;
        for (i, o) in s.lazy_out.iter_mut().enumerate() {
            let up = self.transport.is_up(o.dest);
            if up {
                o.down_since = 0;
            } else if o.down_since == 0 {
                o.down_since = now;
            }
            if !o.started {
                // A freeze that failed on a path that did not cancel
                // it: never started, let go after a while.
                if now.saturating_sub(o.last) > OUT_IDLE_MS * NS_MS {
                    ended = Some(i);
                    break;
                }
                continue;
            }
            let all_sent = o.run >= o.runs.len() && o.wants.is_empty();
            let gone = o.down_since != 0 && now - o.down_since > OUT_DOWN_MS * NS_MS;
            let idle = all_sent && now.saturating_sub(o.last) > OUT_IDLE_MS * NS_MS;
            if o.done || gone || idle {
                ended = Some(i);
                break;
            }
        }
        if let Some(i) = ended {
            let o = s.lazy_out.remove(i);
            drop(s);
            if let Ok(o) = o {
                pr_info!(
                    "migrate: pid {}: post-copy to node {} ended ({} pages sent{})\n",
                    o.pid,
                    o.dest,
                    o.pushed,
                    if o.done {
                        ""
                    } else {
                        ", the destination silent"
                    }
                );
            }
            return;
        }
        // Work: an asked-for range first, else the next pages in order.
        let mut job = None;
        for o in s
            .lazy_out
            .iter_mut()
            .filter(|o| o.started && o.down_since == 0)
        {
            if !o.wants.is_empty() {
                let (a, n) = o.wants[0];
                let k = n.min(CHUNK);
                if k >= n {
                    let _ = o.wants.remove(0);
                } else {
                    o.wants[0] = (a + u64::from(k) * mig::PAGE as u64, n - k);
                }
                job = Some(o.job(a, k));
                break;
            }
        }
        if job.is_none() {
            for o in s
                .lazy_out
                .iter_mut()
                .filter(|o| o.started && o.down_since == 0)
            {
                // All sent and nothing asked for a while: the first pages
                // again, a probe (a destination that forgot this move
                // answers LazyDone: its own was lost).
                if o.run >= o.runs.len() && now.saturating_sub(o.probe) > PROBE_MS * NS_MS {
                    o.probe = now;
                    if let Some(r) = o.runs.first() {
                        let start = r.start;
                        job = Some(o.job(start, 1));
                        break;
                    }
                }
                if let Some(r) = o.runs.get(o.run).copied() {
                    let k = (r.pages - o.page).min(CHUNK);
                    let a = r.start + u64::from(o.page) * mig::PAGE as u64;
                    o.page += k;
                    if o.page >= r.pages {
                        o.run += 1;
                        o.page = 0;
                    }
                    job = Some(o.job(a, k));
                    break;
                }
            }
        }
        let Some((mig_id, pid, dest, mm, addr, n, seq)) = job else {
            let _ = self
                .cv
                .wait_interruptible_timeout(&mut s, msecs_to_jiffies(200));
            return;
        };
        drop(s);
        let sent = self.lazy_send(mig_id, pid, dest, &mm, addr, n, seq, buf, rbuf);
        if sent.is_ok() {
            if let Some(o) = self
                .state
                .lock()
                .lazy_out
                .iter_mut()
                .find(|o| o.mig == mig_id)
            {
                o.pushed += u64::from(n);
            }
        }
    }

    /// Reads `n` pages at `addr` of the kept memory and sends them (a
    /// hole as zeros: the destination waits for every lazy page).
    #[allow(clippy::too_many_arguments)]
    fn lazy_send(
        &self,
        mig_id: u64,
        pid: u32,
        dest: u8,
        mm: &sm::Mm,
        addr: u64,
        n: u32,
        seq: u32,
        buf: &mut KVec<u8>,
        rbuf: &mut KVec<u8>,
    ) -> Result {
        buf.clear();
        buf.resize(n as usize * mig::PAGE, 0, GFP_KERNEL)?;
        sm::read_pages_full(Some(mm), addr, n, rbuf, buf)?;
        let all = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
        let data: &[u8] = buf;
        self.send(
            dest,
            Kind::LazyData,
            pid,
            mig::DATA_HDR_LEN + mig::run_len(all),
            |w| {
                mig::write_data_hdr(
                    w,
                    &mig::DataHdr {
                        mig: mig_id,
                        seq,
                        runs: 1,
                    },
                )?;
                mig::write_run(w, addr, all, data)
            },
        )
    }

    // ---- destination ----

    /// "MIG uffd FD" from the restorer (in its context): the userfaultfd
    /// it made for the process it becomes.
    pub(crate) fn lazy_uffd(&self, mig_id: u64, fd: i32) -> Result {
        let me = sm::current_tgid();
        let mut s = self.state.lock();
        let from = super::restore::restorer_incoming(&mut s.incoming, mig_id)?.from;
        if s.lazy_in.iter().any(|l| l.mig == mig_id) {
            pr_info!(
                "admin/restore: migration {:x} has its userfaultfd\n",
                mig_id
            );
            return Err(EEXIST);
        }
        let uffd = Arc::new(
            sm::Uffd::take(fd).inspect_err(|_| {
                pr_info!("admin/restore: fd {} is no userfaultfd\n", fd);
            })?,
            GFP_KERNEL,
        )?;
        let l = LazyIn {
            mig: mig_id,
            pid: me,
            from,
            uffd: Some(uffd),
            runs: KVec::new(),
            armed: false,
            attached: false,
            frames: KVec::new(),
            kick: Arc::new(AtomicI32::new(0), GFP_KERNEL)?,
            waker: None,
        };
        s.lazy_in.push(l, GFP_KERNEL)?;
        Ok(())
    }

    /// A move that ended here without post-copy (or failed): its
    /// userfaultfd goes.
    pub(super) fn lazy_forget(&self, mig_id: u64) {
        let gone = take_first(&mut self.state.lock().lazy_in, |l| {
            l.mig == mig_id && !l.armed
        });
        drop(gone);
        // Its helper, waiting for Commit, ends.
        self.lazy_cv.notify_all();
    }

    /// Commit of migration `mig_id` with lazy `runs` (the process's own
    /// context, before it runs): drop the stale pages, register the
    /// areas, start the helper and wait until it is there.
    pub(super) fn lazy_arm(&self, mig_id: u64, runs: &[u8]) -> Result {
        let uffd = {
            let s = self.state.lock();
            let l = s.lazy_in.iter().find(|l| l.mig == mig_id);
            l.and_then(|l| l.uffd.clone()).ok_or_else(|| {
                pr_info!("migrate: post-copy without a userfaultfd from the restorer\n");
                EOPNOTSUPP
            })?
        };
        for r in mig::lazy_runs(runs) {
            sm::lazy_zap(r.start, r.end() - r.start)?;
        }
        // The areas that hold lazy pages, whole.
        let vmas = sm::vmas(None, false)?;
        let mut ranges = KVec::new();
        let mut it = mig::lazy_runs(runs).peekable();
        for v in vmas.iter() {
            let mut hit = false;
            while let Some(r) = it.peek() {
                if r.start >= v.end {
                    break;
                }
                if r.end() > v.start {
                    hit = true;
                }
                if r.end() <= v.end {
                    it.next();
                } else {
                    break;
                }
            }
            if hit {
                ranges.push(v.start, GFP_KERNEL)?;
                ranges.push(v.end - v.start, GFP_KERNEL)?;
            }
        }
        uffd.register(&ranges)?;
        {
            let mut s = self.state.lock();
            let l = s
                .lazy_in
                .iter_mut()
                .find(|l| l.mig == mig_id)
                .ok_or(ECANCELED)?;
            l.runs.extend_from_slice(runs, GFP_KERNEL)?;
            l.armed = true;
        }
        self.lazy_cv.notify_all();
        // Its helper (the restorer's parent, waiting in admin/lazy since
        // the move began) takes over.
        let start = now_ns();
        let mut s = self.state.lock();
        loop {
            match s.lazy_in.iter().find(|l| l.mig == mig_id) {
                Some(l) if l.attached => return Ok(()),
                Some(_) => {}
                None => return Err(ECANCELED),
            }
            if now_ns() - start > ATTACH_MS * NS_MS {
                drop(s);
                pr_info!("migrate: no post-copy helper came\n");
                self.lazy_drop(mig_id);
                return Err(ETIMEDOUT);
            }
            s = self.lazy_pause(s);
        }
    }

    /// Waits on the state for a post-copy change (an arrival armed, its
    /// helper attached, a move or its pages done; those notify `lazy_cv`), at
    /// most `LAZY_POLL_MS`: the lock is held again on return. A caller
    /// with a signal pending (a process at Commit, its SIGKILL) sleeps
    /// instead, as an interruptible wait would return at once.
    fn lazy_pause<'a>(
        &'a self,
        mut s: kernel::sync::MutexGuard<'a, super::State>,
    ) -> kernel::sync::MutexGuard<'a, super::State> {
        if sm::signal_pending() {
            drop(s);
            crate::sys::time::msleep(2);
            return self.state.lock();
        }
        let _ = self
            .lazy_cv
            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(LAZY_POLL_MS));
        s
    }

    fn lazy_drop(&self, mig_id: u64) {
        let gone = take_first(&mut self.state.lock().lazy_in, |l| l.mig == mig_id);
        drop(gone);
        // A move or fork waiting for the pages goes on.
        self.lazy_cv.notify_all();
    }

    /// Waits (interrupted by a signal) until process `pid` has all its
    /// pages, at most `ms`; whether it has.
    pub(super) fn lazy_wait(&self, pid: u32, ms: u64) -> bool {
        let start = now_ns();
        let mut s = self.state.lock();
        while s.lazy_in.iter().any(|l| l.pid == pid && l.armed) {
            if sm::signal_pending() || now_ns() - start > ms * NS_MS {
                return false;
            }
            s = self.lazy_pause(s);
        }
        true
    }

    /// `LazyData` (the receiver's context): kept for the helper.
    pub(super) fn on_lazy_data(
        &self,
        from: u8,
        pid: u32,
        body: &[u8],
    ) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(body);
        let d = mig::read_data_hdr(&mut r)?;
        for _ in 0..d.runs {
            mig::read_run(&mut r)?;
        }
        r.end()?;
        let mut s = self.state.lock();
        let Some(l) = s
            .lazy_in
            .iter_mut()
            .find(|l| l.mig == d.mig && l.from == from)
        else {
            // Over here (every page in, or the process ended or lost
            // while this node was cut off, its LazyDone lost): the
            // source may let the memory go.
            drop(s);
            let _ = self.send(from, Kind::LazyDone, pid, 8, |w| w.u64(d.mig));
            return Ok(());
        };
        let mut v = KVec::new();
        if v.extend_from_slice(body, GFP_ATOMIC).is_ok() && l.frames.push(v, GFP_ATOMIC).is_ok() {
            l.kick.store(1, Ordering::Release);
            if let Some(w) = &l.waker {
                w.wake();
            }
        }
        Ok(())
    }

    /// The helper's write to admin/lazy: serves migration `mig_id`'s
    /// missing pages until every one is in (or the process is gone).
    pub(crate) fn lazy_serve(&self, mig_id: u64) -> Result {
        // Started with the restorer, it waits for the move's Commit: with
        // pages left (armed), or without (its userfaultfd forgotten: done).
        let mut first = true;
        let mut s = self.state.lock();
        loop {
            {
                let arriving = s.incoming.iter().any(|i| i.mig == mig_id);
                match s.lazy_in.iter().find(|l| l.mig == mig_id) {
                    Some(l) if l.attached => return Err(EBUSY),
                    Some(l) if l.armed => break,
                    // The move ended without Commit's pages (failed, or
                    // refused by its restorer): nothing to serve.
                    Some(_) if !arriving => {
                        drop(s);
                        self.lazy_drop(mig_id);
                        return Ok(());
                    }
                    // Not armed yet, or its userfaultfd not yet given (a
                    // moment after this helper started): the move goes on.
                    Some(_) => {}
                    None if !arriving => {
                        if first {
                            pr_info!("admin/lazy: no migration {:x} is arriving\n", mig_id);
                        }
                        return Ok(());
                    }
                    None => {}
                }
            }
            if sm::signal_pending() || self.unloading.load(Ordering::Acquire) {
                return Err(EINTR);
            }
            first = false;
            s = self.lazy_pause(s);
        }
        let (uffd, kick, pid, from, mut sv) = {
            let l = s
                .lazy_in
                .iter_mut()
                .find(|l| l.mig == mig_id && l.armed && !l.attached)
                .ok_or(ENOENT)?;
            let uffd = l.uffd.clone().ok_or(ENOENT)?;
            let mut missing = KVec::new();
            let mut left = 0u64;
            for r in mig::lazy_runs(&l.runs) {
                let mut bits = KVec::new();
                bits.resize((r.pages as usize).div_ceil(64), !0u64, GFP_KERNEL)?;
                if r.pages % 64 != 0 {
                    let last = bits.len() - 1;
                    bits[last] = (1u64 << (r.pages % 64)) - 1;
                }
                left += u64::from(r.pages);
                missing.push(Missing { run: r, bits }, GFP_KERNEL)?;
            }
            l.waker = Some(sm::Waker::current()?);
            l.attached = true;
            (
                uffd,
                l.kick.clone(),
                l.pid,
                l.from,
                Serving {
                    missing,
                    left,
                    remaps: KVec::new(),
                    asked: KVec::new(),
                },
            )
        };
        drop(s);
        // The process, at Commit, waits for this.
        self.lazy_cv.notify_all();
        let r = self.lazy_loop(mig_id, pid, from, &uffd, &kick, &mut sv);
        // The userfaultfd goes last: a thread still waiting on it would
        // find zeros.
        self.lazy_drop(mig_id);
        let _ = self.send(from, Kind::LazyDone, pid, 8, |w| w.u64(mig_id));
        match &r {
            Ok(()) => {}
            Err(e) => pr_info!(
                "migrate: pid {}: post-copy from node {} ended: {} pages missing (error {})\n",
                pid,
                from,
                sv.left,
                e.to_errno()
            ),
        }
        r
    }

    fn lazy_loop(
        &self,
        mig_id: u64,
        pid: u32,
        from: u8,
        uffd: &sm::Uffd,
        kick: &AtomicI32,
        sv: &mut Serving,
    ) -> Result {
        let scratch = sm::Scratch::new(CHUNK as usize * mig::PAGE)?;
        let mut batch = KVec::new();
        batch.resize(CHUNK as usize * mig::PAGE, 0u8, GFP_KERNEL)?;
        let started = now_ns();
        let mut last_data = now_ns();
        let mut down_since = 0u64;
        let mut pending: KVec<KVec<u8>> = KVec::new();
        let p = mig::PAGE as u64;
        loop {
            // Events first: a change of the layout holds the copies back.
            while let Some(ev) = uffd.read()? {
                match ev {
                    sm::UffdEvent::Fault(a) => {
                        let src = mig::unremapped(&sv.remaps, a);
                        if sv.is_missing(src) {
                            if !sv.asked.iter().any(|x| x.0 == src) {
                                self.lazy_ask(from, pid, mig_id, src, 1)?;
                                let _ = sv.asked.push((src, now_ns()), GFP_KERNEL);
                            }
                        } else {
                            // A page it never had, or dropped since.
                            let _ = uffd.zero(&scratch, a, p);
                        }
                    }
                    sm::UffdEvent::Remap(f, t, n) => sv.remaps.push((f, t, n), GFP_KERNEL)?,
                    sm::UffdEvent::Gone(s, e) => sv.gone(s, e),
                    sm::UffdEvent::Other => {}
                }
            }
            // Then the pages that came.
            kick.store(0, Ordering::Release);
            let came = {
                let mut s = self.state.lock();
                match s.lazy_in.iter_mut().find(|l| l.mig == mig_id) {
                    Some(l) => core::mem::take(&mut l.frames),
                    None => KVec::new(),
                }
            };
            for f in came.into_iter() {
                pending.push(f, GFP_KERNEL)?;
            }
            let mut retry = false;
            let mut done = 0usize;
            for f in pending.iter() {
                last_data = now_ns();
                match self.lazy_put(uffd, &scratch, sv, f, &mut batch) {
                    Ok(()) => done += 1,
                    Err(e) if e == EAGAIN => {
                        retry = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if done > 0 {
                let mut rest = KVec::new();
                for (i, f) in core::mem::take(&mut pending).into_iter().enumerate() {
                    if i >= done {
                        rest.push(f, GFP_KERNEL)?;
                    }
                }
                pending = rest;
            }
            if sv.left == 0 {
                let ms = (now_ns() - started) / NS_MS;
                pr_info!(
                    "migrate: pid {}: post-copy from node {} done in {} ms\n",
                    pid,
                    from,
                    ms
                );
                return Ok(());
            }
            if !sm::pid_alive(pid) {
                return Err(ESRCH);
            }
            if sm::signal_pending() || self.unloading.load(Ordering::Acquire) {
                // The helper killed, or the module leaving: the pages
                // cannot come in any more.
                return self.lazy_lost(pid, ECANCELED);
            }
            let now = now_ns();
            if self.transport.is_up(from) {
                down_since = 0;
            } else if down_since == 0 {
                down_since = now;
            } else if now - down_since > IN_DOWN_MS * NS_MS {
                pr_warn!(
                    "migrate: pid {}: node {}, which kept its memory, is gone: it cannot run on\n",
                    pid,
                    from
                );
                return self.lazy_lost(pid, EHOSTUNREACH);
            }
            // Asked for and not come in a second: again. Nothing at all
            // for two seconds: every missing page, a range at a time.
            let asked = core::mem::take(&mut sv.asked);
            for x in asked.into_iter() {
                if sv.is_missing(x.0) {
                    sv.asked.push(x, GFP_KERNEL)?;
                }
            }
            for x in sv.asked.iter_mut() {
                if now - x.1 > 1000 * NS_MS {
                    x.1 = now;
                    let _ = self.lazy_ask(from, pid, mig_id, x.0, 1);
                }
            }
            if now - last_data > 2000 * NS_MS {
                last_data = now;
                self.lazy_ask_all(from, pid, mig_id, sv);
            }
            if pending.is_empty() && kick.load(Ordering::Acquire) == 0 {
                uffd.wait(kick, if retry { 1 } else { 100 });
            }
        }
    }

    /// The pages of one `LazyData` body that are still missing go in.
    /// EAGAIN: the process is changing its layout; again after its events.
    fn lazy_put(
        &self,
        uffd: &sm::Uffd,
        scratch: &sm::Scratch,
        sv: &mut Serving,
        f: &[u8],
        batch: &mut KVec<u8>,
    ) -> Result {
        let p = mig::PAGE;
        let mut r = Reader::new(f);
        let d = mig::read_data_hdr(&mut r).map_err(|_| EPROTO)?;
        for _ in 0..d.runs {
            let run = mig::read_run(&mut r).map_err(|_| EPROTO)?;
            // Consecutive missing pages go in with one UFFDIO_COPY.
            let (mut src0, mut dst0, mut k) = (0u64, 0u64, 0usize);
            for (src, page) in mig::run_pages(&run) {
                let dst = mig::remapped(&sv.remaps, src);
                let follows = k > 0 && src == src0 + (k * p) as u64 && dst == dst0 + (k * p) as u64;
                if k > 0 && (!follows || !sv.is_missing(src) || k == CHUNK as usize) {
                    self.lazy_flush(uffd, scratch, sv, src0, dst0, &batch[..k * p])?;
                    k = 0;
                }
                if !sv.is_missing(src) {
                    continue;
                }
                if k == 0 {
                    src0 = src;
                    dst0 = dst;
                }
                batch[k * p..(k + 1) * p].copy_from_slice(page);
                k += 1;
            }
            if k > 0 {
                self.lazy_flush(uffd, scratch, sv, src0, dst0, &batch[..k * p])?;
            }
        }
        Ok(())
    }

    /// Puts `data` (pages from source address `src`) in at `dst`.
    fn lazy_flush(
        &self,
        uffd: &sm::Uffd,
        scratch: &sm::Scratch,
        sv: &mut Serving,
        src: u64,
        dst: u64,
        data: &[u8],
    ) -> Result {
        let p = mig::PAGE;
        let n = data.len() / p;
        match uffd.copy(scratch, dst, data) {
            Ok(done) => {
                for i in 0..done / p {
                    sv.got(src + (i * p) as u64);
                }
                // Part of it: the layout is changing.
                if done < data.len() {
                    return Err(EAGAIN);
                }
            }
            Err(e) if e == EAGAIN || e == ESRCH => return Err(e),
            // One of them there already, or not in an area any more:
            // each alone.
            Err(e) if n > 1 && (e == EEXIST || e == ENOENT) => {
                for i in 0..n {
                    let at = src + (i * p) as u64;
                    self.lazy_flush(
                        uffd,
                        scratch,
                        sv,
                        at,
                        dst + (i * p) as u64,
                        &data[i * p..(i + 1) * p],
                    )?;
                }
            }
            Err(e) => {
                if e != EEXIST && e != ENOENT {
                    pr_info_ratelimited!(
                        "migrate: post-copy: page {:#x} not put in (error {})\n",
                        dst,
                        e.to_errno()
                    );
                }
                for i in 0..n {
                    sv.got(src + (i * p) as u64);
                }
            }
        }
        Ok(())
    }

    fn lazy_ask(&self, from: u8, pid: u32, mig_id: u64, addr: u64, pages: u32) -> Result {
        self.send(from, Kind::LazyReq, pid, mig::LAZY_REQ_LEN, |w| {
            mig::write_lazy_req(
                w,
                &LazyReq {
                    mig: mig_id,
                    addr,
                    pages,
                },
            )
        })
    }

    fn lazy_ask_all(&self, from: u8, pid: u32, mig_id: u64, sv: &Serving) {
        let p = mig::PAGE as u64;
        let mut asks = 0;
        for m in sv.missing.iter() {
            let mut i = 0usize;
            while i < m.run.pages as usize {
                if !m.get(i) {
                    i += 1;
                    continue;
                }
                let mut n = 1u32;
                while (i + n as usize) < m.run.pages as usize
                    && n < mig::LAZY_REQ_MAX_PAGES
                    && m.get(i + n as usize)
                {
                    n += 1;
                }
                let _ = self.lazy_ask(from, pid, mig_id, m.run.start + i as u64 * p, n);
                asks += 1;
                if asks >= 256 {
                    return;
                }
                i += n as usize;
            }
        }
    }

    /// Its memory cannot come in: the process is killed (after which its
    /// waiting threads find no page, and end), and the helper waits for
    /// its end before letting the userfaultfd go.
    fn lazy_lost(&self, pid: u32, e: Error) -> Result {
        sm::kill9(pid);
        for _ in 0..500 {
            if !sm::pid_alive(pid) {
                break;
            }
            crate::sys::time::msleep(10);
        }
        Err(e)
    }
}

/// The `vproc-lazy` thread: a source's post-copies.
pub(crate) struct LazyPusher(pub(crate) Arc<Migrator>);

impl crate::sys::thread::ThreadFn for LazyPusher {
    fn run(&self) {
        let mut buf = KVec::new();
        let mut rbuf = KVec::new();
        if rbuf
            .resize(CHUNK as usize * mig::PAGE, 0, GFP_KERNEL)
            .is_err()
        {
            return;
        }
        while !crate::sys::thread::should_stop() {
            self.0.lazy_step(&mut buf, &mut rbuf);
        }
        // Unload: what was kept goes.
        let gone = core::mem::take(&mut self.0.state.lock().lazy_out);
        drop(gone);
    }
}
