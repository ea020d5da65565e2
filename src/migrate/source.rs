// SPDX-License-Identifier: GPL-2.0

//! The source side of a migration: `goto`, pre-copy, freeze, commit.
//!
//! 1. **Begin** (the `goto` writer's context, the process still running):
//!    the destination is told the memory layout, the vdso's place and the
//!    working directory; it starts the restorer and maps the areas.
//! 2. **Pre-copy** (same context): every page is read from the running
//!    process (get_user_pages on its mm) and sent, remembering a checksum
//!    per page.
//! 3. **Freeze** (a task work in the process's own context): the layout
//!    as it is now goes to the destination (`Layout`), which remaps what
//!    changed; only pages that changed since they were sent (or that are
//!    new) are sent again; then the task image, registers, open files and
//!    pending signals (`Commit`). The process is stopped only for this.
//! 4. **Go**: the destination resumes it; here it becomes the deputy (at
//!    home) or ends (a copy that moved on).
//!
//! A `goto` a process writes for itself, or one asked by the home node,
//! skips the pre-copy (Begin runs in the freeze).

use super::freeze::GotoReq;
use super::{
    errno_of, Migrator, BEGIN_TIMEOUT_MS, COMMIT_TIMEOUT_MS, DATA_WINDOW, GOTO_TIMEOUT_MS,
};
use crate::events::EventKind;
use crate::logic::mig::{self, vma_flags, Begin, DataHdr, Kind, MigHeader, Reader, Vma, Writer};
use crate::logic::pid::Goto;
use crate::logic::wire::{MsgType, MAX_PAYLOAD};
use crate::sys::migrate as sm;
use crate::sys::process::TaskFacts;
use crate::sys::time::now_ns;
use core::sync::atomic::Ordering;
use kernel::{new_condvar, new_mutex, prelude::*, sync::Arc, time::msecs_to_jiffies};

/// What `begin` says of a process caught in the middle of an execve()
/// (its image half old, half new): asked again after a moment; EAGAIN
/// for the caller in the end.
pub(super) const CHANGING: Error = EINPROGRESS;

/// `CHANGING` as a caller that cannot wait sees it: EAGAIN.
pub(super) fn changing_is_eagain(e: Error) -> Error {
    if e == CHANGING {
        EAGAIN
    } else {
        e
    }
}
/// How many times (50 ms apart) a Begin is tried on a changing process.
const CHANGING_TRIES: u32 = 20;
/// How many times (100 ms apart) a move begins again while the
/// destination still has the PID taken (EEXIST): the copy the process
/// left that node as, still ending.
pub(super) const TAKEN_TRIES: u32 = 30;

/// Marks a page as sent in [`Area::sent`] (its hash with this bit set).
pub(super) const SENT: u64 = 1;

/// Who asked for a move.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asker {
    /// A person or program (`goto`): the destination takes it if it can.
    Goto,
    /// The load leveller, for load: the destination may refuse it, also
    /// when it would end up busier than this node.
    Load,
    /// The load leveller, for memory: the destination may refuse it.
    Memory,
}

/// A move as asked: by whom, who hears of its outcome, at what priority.
#[derive(Clone, Copy)]
pub(crate) struct Ask {
    pub(crate) asker: Asker,
    /// A node's request to answer with the outcome (`None`: the caller
    /// waits for it).
    pub(crate) reply: Option<(u8, u64)>,
    /// Its kernel work runs at `MIGRATE_NICE`: the leveller's moves, a
    /// leaving node's, and those of a caller with CAP_SYS_NICE.
    pub(crate) boost: bool,
    /// Its memory is copied while it runs, before the freeze: the caller
    /// may wait for that (a writer of `goto`, the leveller, the mover);
    /// not a receiver thread, nor the loop of a leaving node.
    pub(crate) precopy: bool,
}

/// One memory area as the destination has it, with what was sent of it.
pub(super) struct Area {
    pub(super) v: sm::VmaInfo,
    /// Per page: 0 (not sent) or `SENT | page_hash`; empty when the area's
    /// pages do not travel (a file mapping the destination has).
    pub(super) sent: KVVec<u64>,
    /// Per page sent: its [`mig::clean_key`] (0: read it again at the
    /// freeze); as long as `sent`.
    pub(super) keys: KVVec<u64>,
}

/// Pagemap entries, read a chunk ahead (one walk of the page tables per
/// [`PM_CHUNK`] pages, not per run).
pub(super) struct PageMap {
    buf: KVec<u64>,
    start: u64,
    len: usize,
}

const PM_CHUNK: usize = 512;

impl PageMap {
    pub(super) fn new() -> Result<Self> {
        let mut buf = KVec::new();
        buf.resize(PM_CHUNK, 0, GFP_KERNEL)?;
        Ok(Self {
            buf,
            start: 0,
            len: 0,
        })
    }

    /// The entries of the `n` pages at `addr` of `mm` (`None`: the calling
    /// task's), in an area that ends at `end`. A read that fails or stops
    /// short leaves zeros: pages no key vouches for.
    pub(super) fn get(
        &mut self,
        mm: Option<&sm::Mm>,
        addr: u64,
        n: usize,
        end: u64,
    ) -> Result<&[u64]> {
        let page = mig::PAGE as u64;
        let have =
            addr >= self.start && addr + n as u64 * page <= self.start + self.len as u64 * page;
        if !have {
            let want = ((end.saturating_sub(addr) / page) as usize).clamp(n, PM_CHUNK);
            let got = sm::pagemap(mm, addr, &mut self.buf[..want]).unwrap_or(0);
            self.buf[got..want].fill(0);
            self.start = addr;
            self.len = want;
        }
        let off = ((addr - self.start) / page) as usize;
        self.buf.get(off..off + n).ok_or(EINVAL)
    }
}

/// A migration in progress, from Begin to Commit.
pub(super) struct Outgoing {
    pub(super) mig: u64,
    pub(super) dest: u8,
    pub(super) home: u8,
    pub(super) nmigs: u32,
    /// The deputy's id: its proxies carry it.
    pub(super) deputy: u64,
    /// The file system identity the destination opened its files with.
    pub(super) ident: mig::Ident,
    /// Its user namespace's address at Begin (`sm::UserNs::of_task`), and
    /// whether that is one of its own: the one the destination made is
    /// like it, so the freeze checks it is still in it.
    pub(super) userns: (u64, bool),
    /// The process's execve() count at Begin (see `sm::current_exec_id`).
    pub(super) exec_id: u64,
    pub(super) areas: KVec<Area>,
    pub(super) stream: Stream,
    /// Its threads but the leader at Begin (the destination made them).
    pub(super) tids: KVec<u32>,
    /// Its threads' seccomp states when Begin was written
    /// (`Task::seccomp_cookies`): a filter added since makes the freeze
    /// begin again.
    pub(super) seccomp_cookies: KVec<u64>,
    /// Pages the freeze did not read again: soft-dirty said unchanged.
    pub(super) unchanged: u64,
    /// Pre-copy rounds after the first pass that sent pages again
    /// (`rounds`).
    pub(super) rounds: u32,
    /// Pages the freeze left for after Go (post-copy).
    pub(super) lazy: u64,
}

/// The page stream: `Data` messages of runs, flow-controlled.
pub(super) struct Stream {
    pub(super) pid: u32,
    pub(super) dest: u8,
    pub(super) mig: u64,
    pub(super) frame: KVec<u8>,
    pub(super) runs: u32,
    pub(super) seq: u32,
    pub(super) sum: u64,
    pub(super) pages: u64,
    pub(super) buf: KVec<u8>,
}

const DATA_HDR: usize = mig::HEADER_LEN + mig::DATA_HDR_LEN;

impl Stream {
    fn new(pid: u32, dest: u8, mig_id: u64) -> Result<Self> {
        let mut frame = KVec::with_capacity(MAX_PAYLOAD, GFP_KERNEL)?;
        frame.resize(DATA_HDR, 0, GFP_KERNEL)?;
        let mut buf = KVec::new();
        buf.resize(mig::RUN_MAX_PAGES as usize * mig::PAGE, 0, GFP_KERNEL)?;
        Ok(Self {
            pid,
            dest,
            mig: mig_id,
            frame,
            runs: 0,
            seq: 0,
            sum: 0,
            pages: 0,
            buf,
        })
    }

    /// Appends a run of the pages in `self.buf` (`present`), whose
    /// [`mig::page_hash`]es sum to `hsum`.
    pub(super) fn add(&mut self, m: &Migrator, addr: u64, present: u32, hsum: u64) -> Result {
        let k = present.count_ones() as usize;
        if k == 0 {
            return Ok(());
        }
        if self.frame.len() + mig::run_len(present) > MAX_PAYLOAD {
            self.flush(m, false)?;
        }
        let data = &self.buf[..k * mig::PAGE];
        self.sum = self.sum.wrapping_add(hsum);
        self.pages += k as u64;
        let at = self.frame.len();
        self.frame
            .resize(at + mig::run_len(present), 0, GFP_KERNEL)?;
        let mut w = Writer::new(&mut self.frame[at..]);
        mig::write_run(&mut w, addr, present, data).map_err(|_| EINVAL)?;
        self.runs += 1;
        Ok(())
    }

    /// Sends what is queued. Every `DATA_WINDOW`th message waits until the
    /// destination consumed it; with `sync`, this one does (even empty).
    pub(super) fn flush(&mut self, m: &Migrator, sync: bool) -> Result {
        if self.runs == 0 && !sync {
            return Ok(());
        }
        let wait = sync || (self.seq + 1) % DATA_WINDOW == 0;
        {
            let mut w = Writer::new(&mut self.frame[..DATA_HDR]);
            let h = MigHeader {
                req: 0,
                kind: Kind::Data,
                pid: self.pid,
            };
            mig::write_header(&mut w, &h).map_err(|_| EINVAL)?;
            let d = DataHdr {
                mig: self.mig,
                seq: self.seq,
                runs: self.runs,
            };
            mig::write_data_hdr(&mut w, &d).map_err(|_| EINVAL)?;
        }
        if wait {
            let mut next = KVec::with_capacity(MAX_PAYLOAD, GFP_KERNEL)?;
            next.resize(DATA_HDR, 0, GFP_KERNEL)?;
            let full = core::mem::replace(&mut self.frame, next);
            let frames = m
                .transport
                .request(self.dest, MsgType::Mig, COMMIT_TIMEOUT_MS, |id| {
                    let mut f = full;
                    f[..8].copy_from_slice(&id.to_le_bytes());
                    Ok(f)
                })?;
            let f = frames.first().ok_or(EPROTO)?;
            let mut r = Reader::new(f);
            mig::read_header(&mut r).map_err(|_| EPROTO)?;
            let (v, _) = mig::read_resp(&mut r).map_err(|_| EPROTO)?;
            if v < 0 {
                return Err(errno_of(v));
            }
        } else {
            // The frame's buffer is written as is and filled again.
            m.transport
                .send_direct(self.dest, MsgType::Mig, &self.frame)?;
            self.frame.truncate(DATA_HDR);
        }
        self.seq += 1;
        self.runs = 0;
        Ok(())
    }
}

pub(super) fn as_vma(v: &sm::VmaInfo) -> Vma<'_> {
    Vma {
        start: v.start,
        end: v.end,
        pgoff: v.pgoff,
        flags: v.flags,
        file_size: v.file_size,
        mtime_sec: v.mtime_sec,
        mtime_nsec: v.mtime_nsec,
        path: &v.path,
        sha256: v.sha256,
    }
}

/// A fresh deputy id (random, never 0).
pub(super) fn new_deputy_id() -> u64 {
    let mut b = [0u8; 8];
    crate::sys::crypto::random(&mut b);
    u64::from_le_bytes(b).max(1)
}

/// The runs of at most [`mig::RUN_MAX_PAGES`] pages an area `start..end`
/// is read and sent in: `(address, index of its first page, pages)`.
pub(super) fn runs(start: u64, end: u64) -> impl Iterator<Item = (u64, usize, usize)> {
    let run = u64::from(mig::RUN_MAX_PAGES) * mig::PAGE as u64;
    (start..end).step_by(run as usize).map(move |addr| {
        let n = ((end - addr) / mig::PAGE as u64).min(u64::from(mig::RUN_MAX_PAGES)) as usize;
        (addr, ((addr - start) / mig::PAGE as u64) as usize, n)
    })
}

pub(super) fn bit(bits: &[u8], i: usize) -> bool {
    bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// The refusals that can be told from the memory layout alone.
pub(super) fn check_areas(pid: u32, vmas: &[sm::VmaInfo]) -> Result {
    if vmas.len() > mig::MAX_VMAS as usize {
        pr_info_ratelimited!(
            "migrate: pid {} cannot move: too many memory areas ({}, at most {})\n",
            pid,
            vmas.len(),
            mig::MAX_VMAS
        );
        return Err(EOPNOTSUPP);
    }
    for v in vmas.iter() {
        if v.flags & vma_flags::UNSUPPORTED != 0 {
            // (a private file mapping is refused for that reason only)
            let what = if v.flags & (vma_flags::FILE | vma_flags::SHARED) == vma_flags::FILE {
                "a private mapping of a file open for writing"
            } else {
                "shared writable, SysV shm or a device mapping"
            };
            pr_info_ratelimited!(
                "migrate: pid {} cannot move: memory {:#x}-{:#x} is {}\n",
                pid,
                v.start,
                v.end,
                what
            );
            return Err(EOPNOTSUPP);
        }
    }
    Ok(())
}

/// Whether a request describing `n` areas in `bytes` bytes (`Begin`, or
/// `Layout` at the freeze) can travel: up to [`wire::MAX_JOINED`] in all,
/// in parts. Else the move is refused, EOPNOTSUPP, logged.
pub(super) fn fits_request(pid: u32, n: usize, bytes: usize, userns: usize) -> Result {
    // Room for Begin's other fields (identity, cwd, cgroup, TIDs and
    // seccomp filters are bounded, well under this); its user namespace
    // text (at most `mig::USERNS_MAX_LEN`, 264 KiB) is counted apart.
    const OTHER: usize = 64 * 1024;
    let room = (crate::logic::wire::MAX_JOINED - OTHER).saturating_sub(userns);
    if bytes > room {
        pr_info_ratelimited!(
            "migrate: pid {} cannot move: its {} memory areas take {} bytes to describe (at most {})\n",
            pid,
            n,
            bytes,
            room
        );
        return Err(EOPNOTSUPP);
    }
    Ok(())
}

impl Migrator {
    /// `goto` of local process `t` to `node` (validated by the vproc
    /// table). Blocks until the process moved or the move failed.
    pub(crate) fn goto(self: &Arc<Self>, t: &TaskFacts, to: Goto) -> Result {
        let Some(node) = self.table.check_goto(t, to)? else {
            return Ok(());
        };
        // Leaving: its own processes stay (or come back); guests go.
        if self.is_leaving() && node != self.me && self.body(t.tgid).is_none() {
            pr_info_ratelimited!("goto: pid {}: this node is leaving the cluster\n", t.tgid);
            return Err(EBUSY);
        }
        if let Some(at) = self.table.away(t.tgid) {
            if at == node {
                return Ok(());
            }
            // Its node moves it (home included: then it comes back; 0:
            // that node's leveller chooses).
            // For the same caller: that node checks it against the
            // process as it is there.
            let g = mig::GotoReq {
                node,
                caller: t.caller,
            };
            let (v, _) = self.request(
                at,
                Kind::Goto,
                t.tgid,
                GOTO_TIMEOUT_MS,
                mig::GOTO_LEN,
                |w| mig::write_goto(w, &g),
            )?;
            return if v < 0 { Err(errno_of(v)) } else { Ok(()) };
        }
        let node = match node {
            0 => match self.best_node()? {
                Some(n) => n,
                None => {
                    pr_info_ratelimited!("goto -1: pid {} is best where it is\n", t.tgid);
                    return Ok(());
                }
            },
            n => n,
        };
        let ask = Ask {
            asker: Asker::Goto,
            reply: None,
            boost: t.caller.cap_sys_nice,
            precopy: true,
        };
        self.start_goto(t.tgid, node, ask)
    }

    /// The node the leveller would send one more process of this node to
    /// (`goto -1`), `None` if none is better than here.
    pub(super) fn best_node(&self) -> Result<Option<u8>> {
        let view = crate::view::cluster_view(&self.transport, None, false)?;
        Ok(crate::logic::balance::best_node(self.me, &view))
    }

    /// A move decided by the load leveller (`why`: Load or Memory): like
    /// `goto` (pre-copy included), but the destination may refuse it
    /// (EAGAIN) when it does not take part, is receiving another one, or
    /// (for load) would end up busier than this node.
    pub(crate) fn move_auto(self: &Arc<Self>, pid: u32, node: u8, why: Asker) -> Result {
        if self.is_leaving() && self.body(pid).is_none() {
            return Err(EAGAIN);
        }
        let ask = Ask {
            asker: why,
            reply: None,
            boost: true,
            precopy: true,
        };
        self.start_goto(pid, node, ask)
    }

    /// Milliseconds since local process `pid` arrived here (`u64::MAX` if
    /// it never moved).
    pub(crate) fn since_arrival_ms(&self, pid: u32) -> u64 {
        match self.table.entry(pid).arrived_ms {
            0 => u64::MAX,
            t => (now_ns() / 1_000_000).saturating_sub(t),
        }
    }

    /// Starts moving local process `pid` to `node`; waits for the outcome
    /// (`ask.reply`: answers that request of another node instead).
    pub(super) fn start_goto(self: &Arc<Self>, pid: u32, node: u8, ask: Ask) -> Result {
        if let Some(b) = self.body(pid).filter(|b| self.home_unreachable(b.home)) {
            pr_info_ratelimited!(
                "goto: pid {}: its home node {} is not up: it stays\n",
                pid,
                b.home
            );
            return Err(EHOSTUNREACH);
        }
        {
            let mut s = self.state.lock();
            if s.busy.contains(&pid) {
                pr_info_ratelimited!("goto: pid {} is already moving\n", pid);
                return Err(EBUSY);
            }
            s.busy.push(pid, GFP_KERNEL)?;
        }
        let own = sm::current_tgid() == pid;
        // Pinned from here to the end of the move: a PID reused meanwhile
        // is never the process acted on.
        let r = sm::Task::of(pid).and_then(|task| {
            // A stopped process would hold the mover (and a forwarded
            // request, the thread that reports exits) until it continues.
            if task.stopped() {
                pr_info_ratelimited!("goto: pid {} is stopped: try again when it runs\n", pid);
                return Err(EAGAIN);
            }
            self.start_goto_busy(&task, pid, node, own, ask)
        });
        if r.is_err() {
            self.unbusy(pid);
        }
        r
    }

    fn start_goto_busy(
        self: &Arc<Self>,
        task: &sm::Task,
        pid: u32,
        node: u8,
        own: bool,
        ask: Ask,
    ) -> Result {
        let Ask {
            asker,
            reply,
            boost,
            precopy,
        } = ask;
        // A caller that may wait pre-copies the memory while the process
        // runs; a process moving itself does not (it is in this write, its
        // memory still: the freeze sends it at once).
        let out = if own || !precopy {
            None
        } else {
            // Kernel work only, from here to the end of the pre-copy.
            let _boost = sm::Boost::new(boost.then_some(super::MIGRATE_NICE));
            let mut tries = 0;
            let mut out = loop {
                match self.begin(task, pid, node, asker) {
                    // An execve() under way (a goto written between fork
                    // and exec): it is done in moments.
                    Err(e) if e == CHANGING && tries < CHANGING_TRIES => {
                        tries += 1;
                        crate::sys::time::msleep(50);
                    }
                    Err(e) if e == CHANGING => {
                        pr_info_ratelimited!(
                            "migrate: pid {} is executing a program: try again\n",
                            pid
                        );
                        return Err(EAGAIN);
                    }
                    // Its PID still taken there by the copy that left
                    // it moments ago (that copy's end is not waited for).
                    Err(e) if e == EEXIST && tries < TAKEN_TRIES => {
                        tries += 1;
                        crate::sys::time::msleep(100);
                    }
                    r => break r?,
                }
            };
            if let Err(e) = self.precopy(task, &mut out) {
                self.abort(pid, &out);
                self.failed(pid, node, e);
                return Err(e);
            }
            Some(out)
        };
        let req = Arc::pin_init(
            try_pin_init!(GotoReq {
                pid,
                dest: node,
                reply,
                boost,
                m: self.clone(),
                out <- new_mutex!(out, "GotoReq::out"),
                result <- new_mutex!(None, "GotoReq::result"),
                cv <- new_condvar!("GotoReq::cv"),
            }),
            GFP_KERNEL,
        )?;
        // Another process: interrupt it wherever it is. Itself (a shell's
        // `echo N > /proc/$$/goto`): it moves on return from this write.
        sm::task_work(task, !own, req.clone()).inspect_err(|_| {
            if let Some(out) = req.out.lock().take() {
                self.abort(pid, &out);
            }
        })?;
        if own || reply.is_some() {
            return Ok(());
        }
        let mut r = req.result.lock();
        loop {
            if let Some(res) = *r {
                return res;
            }
            let _ = req
                .cv
                .wait_interruptible_timeout(&mut r, msecs_to_jiffies(200));
            if sm::signal_pending() {
                drop(r);
                // A fatal signal: the move goes on, the writer stops waiting.
                crate::sys::time::killable_pause()?;
                r = req.result.lock();
            }
        }
    }

    pub(super) fn unbusy(&self, pid: u32) {
        let mut s = self.state.lock();
        s.busy.retain(|p| *p != pid);
    }

    pub(super) fn failed(&self, pid: u32, dest: u8, e: Error) {
        pr_info_ratelimited!(
            "migrate: pid {} to node {} failed (error {}): it stays here\n",
            pid,
            dest,
            e.to_errno()
        );
        self.events.add(
            EventKind::MigrateFailed,
            self.me,
            format_args!("pid {} to node {}: error {}", pid, dest, e.to_errno()),
        );
    }

    pub(super) fn abort(&self, pid: u32, out: &Outgoing) {
        self.lazy_cancel(out.mig);
        let _ = self.send(out.dest, Kind::Abort, pid, 8, |w| w.u64(out.mig));
    }

    /// Begin: tells `dest` the layout of process `pid` (running or the
    /// caller) and waits until it is ready for pages.
    pub(super) fn begin(
        &self,
        task: &sm::Task,
        pid: u32,
        dest: u8,
        asker: Asker,
    ) -> Result<Outgoing> {
        // First: an execve() from here on makes this Begin stale; one
        // under way (half-built memory) makes it unusable.
        if task.in_execve() {
            return Err(CHANGING);
        }
        // Its pages still coming in (post-copy): not yet all here to send.
        // The move waits for them (a few seconds; EAGAIN after two
        // minutes or a signal).
        if !self.lazy_wait(pid, super::lazy::LAZY_WAIT_MS) {
            pr_info_ratelimited!(
                "migrate: pid {}: its memory is still arriving: try again\n",
                pid
            );
            return Err(EAGAIN);
        }
        let exec_id = task.exec_id();
        let mm = sm::Mm::of(task)?;
        let vmas = sm::vmas(Some(&mm), true)?;
        check_areas(pid, &vmas)?;
        let peek = sm::peek(task)?;
        let (mono_ns, boot_ns) = sm::clocks(task)?;
        let body = self.body(pid);
        let home = body.map_or(self.me, |b| b.home);
        // A new deputy (leaving home) gets an id no earlier one of this
        // PID had: a stale proxy then reaches nothing.
        let deputy = match body {
            Some(b) => b.deputy,
            None => new_deputy_id(),
        };
        let e = self.table.entry(pid);
        let nmigs = e.nmigs.saturating_add(1);
        let mig_id = (u64::from(self.me) << 56) | self.next_mig.fetch_add(1, Ordering::Relaxed);
        let b = Begin {
            mig: mig_id,
            home,
            loadlevel: e.loadlevel,
            lock: e.lock,
            auto: asker != Asker::Goto,
            // Its own mount or IPC namespace at home (known at home;
            // carried by the nodes it moves on from).
            home_ns: body.map_or_else(|| sm::home_ns(task), |b| b.home_ns),
            load_after: match asker {
                Asker::Load => {
                    let l = self.transport.local_load();
                    l.busy.saturating_sub(1).saturating_mul(1000) / u32::from(l.cpus.max(1))
                }
                Asker::Memory => u32::MAX,
                Asker::Goto => 0,
            },
            nmigs,
            vdso_lo: peek.vdso_lo,
            vdso: peek.vdso,
            deputy,
            ident: peek.ident,
            mono_ns,
            boot_ns,
        };
        let tids = task.thread_tids().map_err(|e| {
            if e == E2BIG {
                pr_info!(
                    "migrate: pid {} cannot move: has more than 256 threads\n",
                    pid
                );
                EOPNOTSUPP
            } else {
                e
            }
        })?;
        // Its threads' seccomp filters (or strict mode), installed again
        // there; a filter added after this (a cookie changes) begins it
        // again.
        let seccomp_cookies = task.seccomp_cookies(&tids)?;
        let seccomp = task.seccomp_image(pid, &tids)?;
        if task.seccomp_cookies(&tids)?[..] != seccomp_cookies[..] {
            return Err(CHANGING);
        }
        // Its user namespace, made again there with those above it. Away
        // from home, only the one made for it where it runs: one it made
        // here is this node's (its capabilities would become its
        // deputy's at home).
        let ns = sm::UserNs::of_task(task)?;
        let userns_id = ns.addr();
        if let Some(b) = body {
            if ns.depth() > 0 && userns_id != b.userns {
                pr_info!(
                    "migrate: pid {} cannot move on: it made its user namespace here\n",
                    pid
                );
                return Err(EOPNOTSUPP);
            }
        }
        // Which namespaces of its home it and those above it are (the
        // origins): the same for every process in them, so that a
        // destination makes one for them all. Away from home, the text
        // Begin brought, kept with the namespace made for it here.
        let brought = match body {
            Some(_) if ns.depth() > 0 => self.made_userns_text(userns_id)?,
            _ => None,
        };
        let userns_bytes = match brought {
            Some(t) => Ok(Some(t)),
            None => ns.text(),
        }
        .map_err(|e| {
            let why = if e == ENODATA {
                "its user namespace has no uid or gid map yet"
            } else if e == E2BIG {
                "its user namespaces' maps are longer than a move carries"
            } else if e == EOPNOTSUPP {
                "its user namespace is deeper than the kernel makes"
            } else {
                "namespaces"
            };
            pr_info!("migrate: pid {} cannot move: {}\n", pid, why);
            EOPNOTSUPP
        })?
        .unwrap_or_default();
        // Its PID namespace: its key is home's. Away from home it is in
        // the one made for that key where it runs (only a process that
        // arrived in it is: it forks and starts threads at home).
        let mut pidns_bytes = sm::pidns_ids(task, &tids).inspect_err(|&e| {
            if e == EOPNOTSUPP {
                pr_info!(
                    "migrate: pid {} cannot move: its PID namespace is not one a move carries\n",
                    pid
                );
            }
        })?;
        if let (Some(b), false) = (body, pidns_bytes.is_empty()) {
            let level = 12 + 4 * tids.len();
            let n = pidns_bytes.len() / level;
            let keys = b.pidns.get(..n).filter(|k| !k.contains(&0));
            let (Some(keys), 0) = (keys, b.pidns.get(n).copied().unwrap_or(0)) else {
                pr_info!(
                    "migrate: pid {} cannot move on: its PID namespace is this node's\n",
                    pid
                );
                return Err(EOPNOTSUPP);
            };
            // (Indexed: a zip over chunks_exact_mut() here is a
            // function objtool finds falling through in the debug build.)
            for (j, k) in keys.iter().enumerate() {
                if let Some(l) = pidns_bytes.get_mut(j * level..j * level + 4) {
                    l.copy_from_slice(&k.to_le_bytes());
                }
            }
        }
        let mut tid_bytes = KVec::with_capacity(tids.len() * 4, GFP_KERNEL)?;
        for t in tids.iter() {
            tid_bytes.extend_from_slice(&t.to_le_bytes(), GFP_KERNEL)?;
        }
        let text = mig::BeginText {
            cwd: if peek.cwd.len() > mig::CWD_MAX {
                b""
            } else {
                &peek.cwd
            },
            cgroup: &peek.cgroup,
            tids: &tid_bytes,
            seccomp: &seccomp,
            userns: &userns_bytes,
            pidns: &pidns_bytes,
        };
        if text.cgroup.len() > mig::CGROUP_MAX || text.cgroup.first() != Some(&b'/') {
            pr_info!(
                "migrate: pid {} cannot move: its cgroup path is too long\n",
                pid
            );
            return Err(EOPNOTSUPP);
        }
        if task.exec_id() != exec_id || task.in_execve() {
            // An execve() happened, or began, while it was read.
            return Err(CHANGING);
        }
        let vlen: usize = vmas.iter().map(|v| as_vma(v).encoded_len()).sum();
        fits_request(pid, vmas.len(), vlen, text.userns.len())?;
        let mut body = KVVec::new();
        body.resize(
            256 + text.cwd.len()
                + text.cgroup.len()
                + text.tids.len()
                + text.seccomp.len()
                + text.userns.len()
                + text.pidns.len()
                + vlen,
            0,
            GFP_KERNEL,
        )?;
        let written = {
            let mut w = Writer::new(&mut body);
            let mut it = vmas.iter().map(as_vma);
            mig::write_begin(&mut w, &b, &text, &mut it, vmas.len() as u32).map(|()| w.len())
        };
        let checked = written.and_then(|n| {
            body.truncate(n);
            mig::check_begin_body(&body)
        });
        if let Err(e) = checked {
            // What the destination would drop the connection for: a
            // process caught changing (an execve() half done).
            pr_info_ratelimited!(
                "migrate: pid {}: its image is inconsistent ({}): an execve() half done?\n",
                pid,
                e.as_str()
            );
            return Err(CHANGING);
        }
        let (v, need) = self
            .request(dest, Kind::Begin, pid, BEGIN_TIMEOUT_MS, body.len(), |w| {
                w.bytes(&body)
            })
            .inspect_err(|e| {
                pr_info_ratelimited!(
                    "migrate: pid {}: node {} did not start it (error {})\n",
                    pid,
                    dest,
                    e.to_errno()
                );
            })?;
        if v < 0 {
            pr_info_ratelimited!(
                "migrate: pid {}: node {} refused it (error {})\n",
                pid,
                dest,
                v
            );
            return Err(errno_of(v));
        }
        let mut out = Outgoing {
            mig: mig_id,
            dest,
            home,
            nmigs,
            deputy,
            ident: peek.ident,
            userns: (userns_id, !userns_bytes.is_empty()),
            exec_id,
            areas: KVec::with_capacity(vmas.len(), GFP_KERNEL)?,
            stream: Stream::new(pid, dest, mig_id)?,
            tids,
            seccomp_cookies,
            unchanged: 0,
            rounds: 0,
            lazy: 0,
        };
        for (i, v) in vmas.into_iter().enumerate() {
            let ships = v.flags & vma_flags::SPECIAL == 0
                && (v.flags & vma_flags::ANON_PAGES != 0 || bit(&need, i));
            let (mut sent, mut keys) = (KVVec::new(), KVVec::new());
            if ships {
                let n = ((v.end - v.start) / mig::PAGE as u64) as usize;
                sent.resize(n, 0u64, GFP_KERNEL)?;
                keys.resize(n, 0u64, GFP_KERNEL)?;
            }
            out.areas.push(Area { v, sent, keys }, GFP_KERNEL)?;
        }
        Ok(out)
    }

    /// Pre-copy: sends every page of process `pid` while it runs.
    fn precopy(&self, task: &sm::Task, out: &mut Outgoing) -> Result {
        let mm = sm::Mm::of(task)?;
        // Soft-dirty tracking from here (logic::mig::dirty): the freeze
        // reads again only the pages written since. Without it every key
        // stays 0 and the freeze reads every page, as it did before.
        let tracking = match sm::soft_dirty_clear(Some(&mm)) {
            Ok(()) => true,
            Err(e) => {
                pr_info_ratelimited!(
                    "migrate: pid {}: no soft-dirty tracking (error {}): the freeze reads every page\n",
                    out.stream.pid,
                    e.to_errno()
                );
                false
            }
        };
        let mut pm = PageMap::new()?;
        let Outgoing { areas, stream, .. } = out;
        for a in areas.iter_mut() {
            if a.sent.is_empty() {
                continue;
            }
            for (addr, idx, n) in runs(a.v.start, a.v.end) {
                // Each page's entry is taken before the page is read.
                let mut pme = [0u64; mig::RUN_MAX_PAGES as usize];
                if tracking {
                    pme[..n].copy_from_slice(pm.get(Some(&mm), addr, n, a.v.end)?);
                }
                let (present, busy) =
                    sm::read_pages_busy(Some(&mm), addr, n as u32, &mut stream.buf)?;
                let (mut k, mut hsum) = (0, 0u64);
                for (i, &e) in pme.iter().enumerate().take(n) {
                    a.keys[idx + i] = 0;
                    if present & (1 << i) != 0 {
                        let page = &stream.buf[k * mig::PAGE..(k + 1) * mig::PAGE];
                        let h = mig::page_hash(addr + (i * mig::PAGE) as u64, page);
                        a.sent[idx + i] = SENT | h;
                        // (A page an I/O may still write: the freeze reads it.)
                        a.keys[idx + i] = mig::busy_key(e, busy & (1 << i) != 0);
                        hsum = hsum.wrapping_add(h);
                        k += 1;
                    }
                }
                stream.add(self, addr, present, hsum)?;
                if sm::fatal_pending() {
                    return Err(EINTR);
                }
            }
        }
        // Rounds that send again what it wrote meanwhile (with tracking).
        if tracking {
            self.rounds(task, &mm, out)?;
        }
        // The destination has written everything before the process stops.
        out.stream.flush(self, true)
    }
}
