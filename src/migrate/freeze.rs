// SPDX-License-Identifier: GPL-2.0

//! The freeze of a move, in the process's own context (a task work): the
//! refusals only the process itself can tell, the layout as it is now,
//! the pages that changed since pre-copy, then the task image, registers,
//! open files and pending signals (`Commit`), and `Go` (a request,
//! repeated until answered: `custody::Handover`). Until the destination
//! committed nothing changed here: any failure resumes the process where
//! it was, and so does a Go the destination refuses (it never ran it).
//! Afterwards this task becomes the deputy (at home) or ends (a copy that
//! moved on).

use super::source::{as_vma, bit, changing_is_eagain, check_areas, Asker, Outgoing, PageMap, SENT};
use super::{errno_of, Migrator, ThreadPhase, COMMIT_TIMEOUT_MS};
use crate::events::EventKind;
use crate::logic::custody::{GoAction, GoEvent, Handover};
use crate::logic::mig::sysfwd as sf;
use crate::logic::mig::{self, vma_flags, Commit, Fd, Kind, Vma};
use crate::logic::mig_policy::Refusal;
use crate::sys::migrate::{self as sm, FdKind, TaskImage, TASK_LEN};
use crate::sys::time::now_ns;
use kernel::{
    prelude::*,
    sync::{Arc, CondVar, Mutex},
};

/// Areas whose pages are never left lazy: what a userfaultfd cannot
/// fill (files, shared memory) or should not (locked memory).
const LAZY_NOT: u32 = vma_flags::FILE
    | vma_flags::SPECIAL
    | vma_flags::SHARED
    | vma_flags::UNSUPPORTED
    | vma_flags::LOCKED;

/// How long one Go waits for its answer, and the pause before the next.
const GO_TIMEOUT_MS: u32 = 2000;
const GO_RETRY_MS: u32 = 500;

/// How a handover ended.
enum Handed {
    /// The copy there runs (or may: custody decides from here).
    Runs(Handover),
    /// The destination never ran it.
    Refused,
}

/// How many times (100 ms apart) a move that must begin again (the
/// process exec'd) asks a destination still busy with the first Begin.
const REBEGIN_TRIES: u32 = 50;

impl Migrator {
    /// In the process's own context: moves it to `dest` (`out`: begun and
    /// pre-copied by the writer). `done` is told the outcome before the
    /// process turns into a deputy or ends here.
    /// Moves the calling process to `dest`; returns the status this task
    /// exits with (`None`: it runs on here).
    pub(super) fn emigrate(
        self: &Arc<Self>,
        dest: u8,
        out: Option<Outgoing>,
        boost: bool,
        done: &dyn Fn(Result),
    ) -> Option<i32> {
        let pid = sm::current_tgid();
        let boost = sm::Boost::new(boost.then_some(super::MIGRATE_NICE));
        let r = self.freeze(pid, dest, out, boost.own());
        drop(boost);
        self.unbusy(pid);
        match r {
            Ok(true) => {
                done(Ok(()));
                epolls_unwatch(pid);
                self.deputy_loop(pid)
            }
            Ok(false) => {
                done(Ok(()));
                // Moved on from here: this copy ends quietly.
                Some(0)
            }
            Err(e) => {
                self.failed(pid, dest, e);
                // Interrupted here, in the process's own context, is a
                // fatal signal: the process is being killed, the asker
                // hears ESRCH. Relayed by the destination (its restorer
                // was interrupted; at home: the deputy killed, whose
                // SIGKILL may not be here yet), it gave the move up and
                // the process runs on here for now: ECANCELED.
                let e = match e {
                    e if e == EINTR && sm::fatal_pending() => ESRCH,
                    e if e == EINTR => ECANCELED,
                    e => e,
                };
                done(Err(e));
                None
            }
        }
    }

    /// Gives up move `old` (the destination forgets it) and begins it
    /// again from here: Begin and the pages, while the process is
    /// stopped. The destination refuses (EBUSY, or EEXIST: the aborted
    /// restorer still holds the PID or a TID there) until the aborted
    /// arrival is gone there.
    fn rebegin(&self, pid: u32, dest: u8, old: Outgoing) -> Result<Outgoing> {
        self.abort(pid, &old);
        drop(old);
        let task = sm::Task::of(pid)?;
        let mut tries = 0;
        loop {
            match self.begin(&task, pid, dest, Asker::Goto) {
                Err(e) if (e == EBUSY || e == EEXIST) && tries < REBEGIN_TRIES => {
                    tries += 1;
                    crate::sys::time::msleep(100);
                }
                r => return r.map_err(changing_is_eagain),
            }
        }
    }

    /// The freeze: returns whether this node is the process's home (it
    /// becomes the deputy) or not (this copy ends).
    /// `nice`: the process's own nice value (it runs boosted meanwhile).
    fn freeze(&self, pid: u32, dest: u8, out: Option<Outgoing>, nice: i32) -> Result<bool> {
        // The process is stopped from here until it resumes there.
        let start = now_ns();
        let refuse = |why: &str| {
            pr_info_ratelimited!("migrate: pid {} cannot move: {}\n", pid, why);
            Err(if why == "exiting" { ESRCH } else { EOPNOTSUPP })
        };
        if sm::in_vdso() {
            // Still in its vdso after LATER_MAX ticks (see GotoReq::later).
            if let Some(o) = &out {
                self.abort(pid, o);
            }
            pr_info_ratelimited!("migrate: pid {} stays in its vdso: try again\n", pid);
            return Err(EAGAIN);
        }
        // A process that did not move here is at its home.
        let at_home = self.body(pid).is_none();
        let why = sm::refusal(at_home);
        // A thread being made holds the memory before it counts as a
        // thread (glibc's SIGEV_THREAD timers start one per expiry): the
        // memory's users are counted again once every thread is stopped.
        let shared = why == Some(Refusal::SharedMm.reason());
        if let Some(why) = why.filter(|_| !shared) {
            if let Some(o) = &out {
                self.abort(pid, o);
            }
            return refuse(why);
        }
        // A program that exec'd since Begin (a goto written between
        // fork and exec): its pre-copied image and identity are the old
        // program's. Begin again, from here, with the new one.
        let mut out = match out {
            Some(o) if o.exec_id != sm::current_exec_id() => {
                pr_info_ratelimited!("migrate: pid {} exec'd while moving: begins again\n", pid);
                self.rebegin(pid, dest, o)?
            }
            Some(o) => o,
            None => {
                let task = sm::Task::of(pid)?;
                let mut tries = 0;
                loop {
                    match self.begin(&task, pid, dest, Asker::Goto) {
                        // The copy it left `dest` as still ending there.
                        Err(e) if e == EEXIST && tries < super::source::TAKEN_TRIES => {
                            tries += 1;
                            crate::sys::time::msleep(100);
                        }
                        r => break r.map_err(changing_is_eagain)?,
                    }
                }
            }
        };
        // Its other threads stop where they are (each in a task work).
        let (mut parked, tids) = match self.park_threads(pid, out.mig) {
            Ok(p) => p,
            Err(e) => {
                self.abort(pid, &out);
                return Err(e);
            }
        };
        if shared {
            if let Some(why) = sm::refusal(at_home) {
                self.abort(pid, &out);
                // (`parked` resumes them.)
                return refuse(why);
            }
        }
        let seccomp_changed = !sm::Task::of(pid)
            .and_then(|t| t.seccomp_cookies(&out.tids))
            .is_ok_and(|c| c[..] == out.seccomp_cookies[..]);
        if tids != out.tids || seccomp_changed {
            // A thread came or went since Begin (a program that starts a
            // thread per task, glibc's SIGEV_THREAD timers): the
            // destination made the others. Begin again, from here, with
            // every thread stopped (so the threads stay those).
            pr_info_ratelimited!(
                "migrate: pid {}: its {} changed during the move: begins again\n",
                pid,
                if seccomp_changed {
                    "seccomp filters"
                } else {
                    "threads"
                }
            );
            out = self.rebegin(pid, dest, out)?;
            if tids != out.tids {
                return Err(EAGAIN);
            }
            self.rekey_threads(&mut parked, out.mig);
        }
        let mut sigs = KVec::new();
        match self.commit(pid, &mut out, &mut sigs, nice) {
            Ok(()) => {}
            Err(e) => {
                self.abort(pid, &out);
                requeue(&sigs);
                return Err(e);
            }
        }
        let at_home = out.home == self.me;
        // Fault injection (tests): the window in which the destination
        // has the process filed but not yet running.
        let delay = crate::sys::param::fault_go_delay_ms();
        if delay > 0 {
            crate::sys::time::msleep(delay);
        }
        if at_home {
            self.make_deputy(pid, dest, out.nmigs, out.deputy, 0)?;
            if let Err(e) = self.make_thread_deputies(pid, out.deputy, &out.tids) {
                self.drop_thread_deputies(pid);
                self.drop_deputy(pid);
                self.abort(pid, &out);
                requeue(&sigs);
                return Err(e);
            }
        } else if let Some(b) = self.bodies.lock().iter_mut().find(|b| b.pid == pid) {
            b.retiring = true;
            b.dest = dest;
        }
        match self.hand_over(pid, dest, out.mig) {
            Handed::Runs(h) => {
                self.lazy_go(out.mig);
                // Its threads: deputies here at home, else they end.
                parked.decide(if at_home {
                    ThreadPhase::BeDeputy
                } else {
                    ThreadPhase::End
                });
                if at_home {
                    // Its interval and POSIX timers went with it (the task image):
                    // the deputy's would fire a second time.
                    sm::timers_clear();
                    let now = now_ns();
                    let mut s = self.state.lock();
                    if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) {
                        d.custody = h.deputy(dest, now);
                    }
                }
            }
            Handed::Refused => {
                // The destination never ran it and never will: resume here.
                self.lazy_cancel(out.mig);
                if at_home {
                    self.drop_thread_deputies(pid);
                    self.drop_deputy(pid);
                } else if let Some(b) = self.bodies.lock().iter_mut().find(|b| b.pid == pid) {
                    b.retiring = false;
                }
                requeue(&sigs);
                return Err(ECANCELED);
            }
        }
        if !at_home && dest != out.home {
            let _ = self.send(out.home, Kind::Moved, pid, 8, |w| {
                w.u32(u32::from(dest))?;
                w.u32(out.nmigs)
            });
        }
        let us = now_ns().saturating_sub(start) / 1000;
        self.events.add(
            EventKind::Migrate,
            self.me,
            format_args!(
                "pid {} node {} -> node {}: {} pages, frozen {}.{:03} ms, {} not read again, {} rounds, {} after",
                pid,
                self.me,
                dest,
                out.stream.pages,
                us / 1000,
                us % 1000,
                out.unchanged,
                out.rounds,
                out.lazy
            ),
        );
        Ok(at_home)
    }

    /// Go, as a request: repeated (over any new connection) until the
    /// destination answers, every decision taken by `custody::Handover`.
    /// The process stays frozen meanwhile; it never resumes on a guess.
    fn hand_over(&self, pid: u32, dest: u8, mig: u64) -> Handed {
        let mut h = Handover::new(now_ns());
        loop {
            let ev = match self.request(dest, Kind::Go, pid, GO_TIMEOUT_MS, 8, |w| w.u64(mig)) {
                Ok((v, _)) if v >= 0 => GoEvent::Running,
                Ok(_) => GoEvent::Refused,
                Err(_) => GoEvent::NoAnswer {
                    now: now_ns(),
                    up: self.transport.is_up(dest),
                },
            };
            match h.step(ev) {
                GoAction::Moved => return Handed::Runs(h),
                GoAction::Resume => return Handed::Refused,
                GoAction::GiveUp => {
                    self.counters.go_unknown.inc();
                    pr_warn!(
                        "migrate: pid {}: node {} never answered Go: it may run there, custody decides\n",
                        pid,
                        dest
                    );
                    return Handed::Runs(h);
                }
                GoAction::Retry => {
                    self.counters.go_retries.inc();
                    crate::sys::time::msleep(GO_RETRY_MS);
                }
            }
        }
    }

    /// Layout, the pages that changed, and Commit. Pending signals go with
    /// the process (and come back in `sigs` on failure); `nice` is its own.
    fn commit(&self, pid: u32, out: &mut Outgoing, sigs: &mut KVec<[u8; 48]>, nice: i32) -> Result {
        let home = out.home;
        let dest = out.dest;
        let mut task = TaskImage::capture()?;
        task.set_nice(nice);
        if sm::userns_id() != out.userns.0 || task.ident(out.userns.1) != out.ident {
            pr_info!(
                "migrate: pid {}: its credentials changed during the move: try again\n",
                pid
            );
            return Err(EAGAIN);
        }
        let mut vmas = sm::vmas(None, false)?;
        check_areas(pid, &vmas)?;
        // Content hashes: those of Begin for the areas it had (not read
        // again while the process is stopped), the new ones read now.
        for v in vmas.iter_mut().filter(|v| v.flags & vma_flags::FILE != 0) {
            let known = area_at(&out.areas, v.start).filter(|a| {
                as_vma(&a.v).same_area(&Vma {
                    sha256: a.v.sha256,
                    ..as_vma(v)
                })
            });
            v.sha256 = match known {
                Some(a) => a.v.sha256,
                None => sm::hash_area(v.start)?,
            };
        }
        // What its proxies read ahead goes back home with it.
        sm::proxies_giveback()?;
        let fds = sm::fds()?;
        for f in fds.iter() {
            // (Descriptors in flight to one of its unix sockets stay in
            // it at home: its recvmsg with room for them, made there,
            // gets them: `io_op::MSG`.)
            let ok = match f.kind {
                FdKind::Reg
                | FdKind::Dir
                | FdKind::Chr
                | FdKind::Fifo
                | FdKind::Sock
                | FdKind::Event
                | FdKind::Path => home == self.me,
                // Opened (made) again wherever it goes (and comes back).
                FdKind::NodeDev(_) | FdKind::SignalFd | FdKind::Userfaultfd => true,
                // Only its own deputy's proxies (never one it inherited).
                FdKind::Proxy => home != self.me && f.deputy == out.deputy,
                FdKind::Other | FdKind::EpollSignalFd => false,
            };
            if !ok {
                let what = match f.kind {
                    FdKind::Other => "a special file (userfaultfd, a namespace...)",
                    FdKind::EpollSignalFd => {
                        "an epoll watching a closed file that may be a signalfd or userfaultfd, or more than 64 of them"
                    }
                    _ => "a file opened away from home",
                };
                pr_info_ratelimited!(
                    "migrate: pid {} cannot move: fd {} is {}\n",
                    pid,
                    f.fd,
                    what
                );
                return Err(EOPNOTSUPP);
            }
        }
        // The areas its userfaultfds have registered, for missing pages
        // (those it never had stay missing where it goes, and their
        // faults come to its userfaultfd there) or write-protect faults
        // (the pages it protected, read from the pagemap, protected
        // again there). Minor-fault areas (shared memory's) are not
        // carried.
        let mut uffd_areas = KVec::new();
        for f in fds.iter().filter(|f| f.kind == FdKind::Userfaultfd) {
            for (start, end, mode) in sm::uffd_areas(f.fd)
                .inspect_err(|e| {
                    pr_info_ratelimited!(
                        "migrate: pid {} cannot move: its userfaultfd {} has areas it cannot list (error {})\n",
                        pid,
                        f.fd,
                        e.to_errno()
                    );
                })
                .map_err(|_| EOPNOTSUPP)?
                .iter()
                .copied()
            {
                let pages = u32::try_from(end.saturating_sub(start) / mig::PAGE as u64)
                    .map_err(|_| EOPNOTSUPP)?;
                let known = sm::UFFD_MODE_MISSING | sm::UFFD_MODE_WP;
                if mode == 0 || mode & !known != 0 || pages == 0 {
                    pr_info_ratelimited!(
                        "migrate: pid {} cannot move: its userfaultfd {} has an area registered for minor faults\n",
                        pid,
                        f.fd
                    );
                    return Err(EOPNOTSUPP);
                }
                let mut m = 0;
                if mode & sm::UFFD_MODE_MISSING != 0 {
                    m |= mig::UFFD_MODE_MISSING;
                }
                if mode & sm::UFFD_MODE_WP != 0 {
                    m |= mig::UFFD_MODE_WP;
                }
                let area = mig::UffdArea {
                    fd: f.fd,
                    start,
                    pages,
                    mode: m,
                };
                uffd_areas.push(Fd::of_uffd_area(&area), GFP_KERNEL)?;
                if m & mig::UFFD_MODE_WP != 0 {
                    uffd_wp_runs(&area, &mut uffd_areas)?;
                }
            }
        }
        let mut gregs = [0u8; mig::GREGS_LEN];
        let (xstate, xkind) = sm::capture_regs(&mut gregs)?;
        // The layout now: the destination remaps what changed.
        let vlen: usize = vmas.iter().map(|v| as_vma(v).encoded_len()).sum();
        super::source::fits_request(pid, vmas.len(), vlen, 0)?;
        let (v, need) =
            self.request(dest, Kind::Layout, pid, COMMIT_TIMEOUT_MS, 16 + vlen, |w| {
                w.u64(out.mig)?;
                let mut it = vmas.iter().map(as_vma);
                mig::write_areas(w, &mut it, vmas.len() as u32)
            })?;
        if v < 0 {
            return Err(errno_of(v));
        }
        let mut rbuf = KVec::new();
        rbuf.resize(mig::RUN_MAX_PAGES as usize * mig::PAGE, 0, GFP_KERNEL)?;
        let mut pm = PageMap::new()?;
        // Post-copy (src/migrate/lazy.rs): pages written since pre-copy
        // sent them (or new) in private anonymous memory are named, not
        // read; below LAZY_MIN_PAGES of them they are sent after all.
        // (Not for a process with a userfaultfd: its areas could not be
        // registered with post-copy's too.)
        let lazy_on = crate::sys::param::postcopy()
            && dest != home
            && !fds.iter().any(|f| f.kind == FdKind::Userfaultfd);
        let mut lazy = KVVec::new();
        if lazy_on {
            lazy.resize(
                mig::MAX_LAZY_RUNS as usize * mig::LAZY_RUN_LEN,
                0u8,
                GFP_KERNEL,
            )?;
        }
        let mut lazy_used = 0usize;
        let mut lazy_full = !lazy_on;
        let Outgoing {
            areas,
            stream,
            unchanged,
            ..
        } = out;
        for (j, v) in vmas.iter().enumerate() {
            if v.flags & vma_flags::SPECIAL != 0 {
                continue;
            }
            let old = area_at(areas, v.start)
                .filter(|a| as_vma(&a.v).same_area(&as_vma(v)))
                .filter(|_| !bit(&need, j));
            let all = bit(&need, j);
            if old.is_none() && !all {
                // A file mapping the destination has from the file.
                continue;
            }
            if let Some(a) = old {
                if a.sent.is_empty() {
                    continue;
                }
            }
            let mut addr = v.start;
            let mut idx = 0usize;
            while addr < v.end {
                let n =
                    ((v.end - addr) / mig::PAGE as u64).min(u64::from(mig::RUN_MAX_PAGES)) as u32;
                // Pages sent whose soft-dirty bit and frame say they were
                // not written since (logic::mig::dirty) are not read again.
                if let Some(a) = old {
                    let pme = pm.get(None, addr, n as usize, v.end)?;
                    let same = (0..n as usize)
                        .all(|i| a.sent[idx + i] != 0 && mig::unchanged(a.keys[idx + i], pme[i]));
                    if same {
                        *unchanged += u64::from(n);
                        addr += u64::from(n) * mig::PAGE as u64;
                        idx += n as usize;
                        continue;
                    }
                }
                if !lazy_full && v.flags & LAZY_NOT == 0 {
                    let pme = pm.get(None, addr, n as usize, v.end)?;
                    let (mut lz, mut zero) = (0u32, 0u32);
                    for (i, &e) in pme.iter().enumerate() {
                        let was = old.map_or(0, |a| a.sent[idx + i]);
                        if let Some(a) = old {
                            if was != 0 && mig::unchanged(a.keys[idx + i], e) {
                                continue;
                            }
                        }
                        if e & (mig::PM_PRESENT | mig::PM_SWAP) != 0 {
                            lz |= 1 << i;
                        } else if was != 0 {
                            zero |= 1 << i;
                        }
                    }
                    let room = lazy.len() - lazy_used;
                    if room >= lz.count_ones() as usize * mig::LAZY_RUN_LEN {
                        for i in 0..n as usize {
                            if lz & (1 << i) != 0 {
                                let at = addr + (i * mig::PAGE) as u64;
                                if !mig::lazy_push(&mut lazy, &mut lazy_used, at)
                                    .map_err(|_| EINVAL)?
                                {
                                    return Err(EINVAL);
                                }
                            }
                        }
                        // Sent, gone since: zeros there, now.
                        let mut hsum = 0u64;
                        for (w, i) in (0..n as usize).filter(|i| zero & (1 << i) != 0).enumerate() {
                            let at = addr + (i * mig::PAGE) as u64;
                            let b = &mut stream.buf[w * mig::PAGE..(w + 1) * mig::PAGE];
                            b.fill(0);
                            hsum = hsum.wrapping_add(mig::page_hash(at, b));
                        }
                        stream.add(self, addr, zero, hsum)?;
                        addr += u64::from(n) * mig::PAGE as u64;
                        idx += n as usize;
                        continue;
                    }
                    lazy_full = true;
                }
                let present = sm::read_pages(None, addr, n, &mut rbuf)?;
                let mut keep = 0u32;
                let (mut k, mut w, mut hsum) = (0usize, 0usize, 0u64);
                for i in 0..n as usize {
                    let was = old.map_or(0, |a| a.sent[idx + i]);
                    let at = addr + (i * mig::PAGE) as u64;
                    if present & (1 << i) != 0 {
                        let page = &rbuf[k * mig::PAGE..(k + 1) * mig::PAGE];
                        k += 1;
                        let h = mig::page_hash(at, page);
                        if all || SENT | h != was {
                            stream.buf[w..w + mig::PAGE].copy_from_slice(page);
                            w += mig::PAGE;
                            keep |= 1 << i;
                            hsum = hsum.wrapping_add(h);
                        }
                    } else if was != 0 {
                        // Sent, gone since (MADV_DONTNEED...): zero it there.
                        stream.buf[w..w + mig::PAGE].fill(0);
                        hsum = hsum.wrapping_add(mig::page_hash(at, &stream.buf[w..w + mig::PAGE]));
                        w += mig::PAGE;
                        keep |= 1 << i;
                    }
                }
                stream.add(self, addr, keep, hsum)?;
                addr += u64::from(n) * mig::PAGE as u64;
                idx += n as usize;
            }
        }
        // Too few to leave: read now, and sent but for the pages whose
        // bytes are those pre-copy sent (written with the same bytes).
        let lazy_pages = mig::check_lazy(&lazy[..lazy_used]).map_err(|_| EINVAL)?;
        if lazy_used > 0 && !mig::lazy_worth(lazy_on, false, lazy_pages) {
            let mut full = KVec::new();
            full.resize(mig::RUN_MAX_PAGES as usize * mig::PAGE, 0, GFP_KERNEL)?;
            // The area a page is in, and pre-copy's record of it if the
            // area is the one pre-copy read.
            let sent_of = |at: u64| -> u64 {
                // (The areas are in address order.)
                let Some(j) = vmas.partition_point(|v| v.start <= at).checked_sub(1) else {
                    return 0;
                };
                let v = &vmas[j];
                if at >= v.end {
                    return 0;
                }
                area_at(areas, v.start)
                    .filter(|a| as_vma(&a.v).same_area(&as_vma(v)))
                    .filter(|_| !bit(&need, j))
                    .and_then(|a| a.sent.get(((at - a.v.start) / mig::PAGE as u64) as usize))
                    .copied()
                    .unwrap_or(0)
            };
            for r in mig::lazy_runs(&lazy[..lazy_used]) {
                let mut a = r.start;
                while a < r.end() {
                    let n = ((r.end() - a) / mig::PAGE as u64).min(u64::from(mig::RUN_MAX_PAGES))
                        as u32;
                    // Every page: one that reads as none is zeros there.
                    sm::read_pages_full(None, a, n, &mut rbuf, &mut full)?;
                    let (mut keep, mut w, mut hsum) = (0u32, 0usize, 0u64);
                    for i in 0..n as usize {
                        let at = a + (i * mig::PAGE) as u64;
                        let b = &full[i * mig::PAGE..(i + 1) * mig::PAGE];
                        let h = mig::page_hash(at, b);
                        if SENT | h != sent_of(at) {
                            stream.buf[w..w + mig::PAGE].copy_from_slice(b);
                            w += mig::PAGE;
                            keep |= 1 << i;
                            hsum = hsum.wrapping_add(h);
                        }
                    }
                    stream.add(self, a, keep, hsum)?;
                    a += u64::from(n) * mig::PAGE as u64;
                }
            }
            lazy_used = 0;
        }
        stream.flush(self, false)?;
        // Its other threads, stopped since the freeze began.
        self.send_threads(pid, dest, out.mig)?;
        // Pending signals travel with the process. Then its POSIX timers,
        // read last: one whose signal was queued (taken here, or still
        // queued to a thread, or ignored) fires at once there with the
        // overruns that signal gathered, and that signal does not travel
        // (one still queued here is dropped with the timer the deputy
        // deletes).
        let marks = sm::ptimers_mark()?;
        take_signals(sigs, sm::dequeue_signal)?;
        let mut rebound = KVec::new();
        let ptimers = sm::ptimers_capture(&marks, sigs, &mut rebound)?;
        let sigbytes = sig_bytes(sigs, &rebound)?;
        // The signalfds and userfaultfds its epolls watch (home's, or
        // kept by their proxies): those are made again where it goes, and
        // the watches kept there, after its files.
        let mut watches = KVec::new();
        for f in fds
            .iter()
            .filter(|f| matches!(f.kind, FdKind::Event | FdKind::Proxy))
        {
            // (One whose file it closed since, a proxy's, is gone.)
            for w in sm::epoll_watches(f.fd)?
                .iter()
                .filter(|w| sm::watched_here(w.tfd))
            {
                watches.push(Fd::of_watch(w), GFP_KERNEL)?;
            }
        }
        watches.extend_from_slice(&uffd_areas, GFP_KERNEL)?;
        if fds.len() + watches.len() > mig::MAX_FDS as usize {
            pr_info_ratelimited!(
                "migrate: pid {} cannot move: more than {} files, epoll watches and userfaultfd areas\n",
                pid,
                mig::MAX_FDS
            );
            return Err(EOPNOTSUPP);
        }
        let mut fdbytes = KVec::new();
        fdbytes.resize((fds.len() + watches.len()) * mig::FD_LEN, 0, GFP_KERNEL)?;
        for (k, w) in watches.iter().enumerate() {
            let at = (fds.len() + k) * mig::FD_LEN;
            let o = fdbytes.get_mut(at..at + mig::FD_LEN).ok_or(EINVAL)?;
            mig::write_fd(w, o).map_err(|_| EINVAL)?;
        }
        for (k, f) in fds.iter().enumerate() {
            let o = fdbytes
                .get_mut(k * mig::FD_LEN..(k + 1) * mig::FD_LEN)
                .ok_or(EINVAL)?;
            let fd = Fd {
                fd: f.fd,
                f_flags: f.f_flags,
                cloexec: f.cloexec,
                home_fd: f.home_fd,
                node_dev: match f.kind {
                    FdKind::NodeDev(minor) => minor,
                    FdKind::SignalFd => mig::SIGNALFD,
                    FdKind::Userfaultfd => mig::USERFAULTFD,
                    _ => 0,
                },
                sigmask: f.sigmask,
            };
            mig::write_fd(&fd, o).map_err(|_| EINVAL)?;
        }
        let c = Commit {
            mig: out.mig,
            sum: out.stream.sum,
            pages: out.stream.pages,
            msgs: out.stream.seq,
            gregs: &gregs,
            xkind,
            xstate: &xstate,
            sigs: &sigbytes,
            fds: &fdbytes,
            task: task.as_bytes(),
            ptimers: &ptimers,
            lazy: &lazy[..lazy_used],
        };
        let extra = 80
            + lazy_used
            + gregs.len()
            + xstate.len()
            + sigbytes.len()
            + fdbytes.len()
            + TASK_LEN
            + ptimers.len();
        // Its memory is kept from now on for the pages left (the source's
        // post-copy, pushing once Go is answered).
        if lazy_used > 0 {
            let mm = sm::Mm::of(&sm::Task::of(pid)?)?;
            self.lazy_start(out.mig, pid, dest, mm, &lazy[..lazy_used])?;
            out.lazy = lazy_pages;
        }
        let (v, _) = self
            .request(dest, Kind::Commit, pid, COMMIT_TIMEOUT_MS, extra, |w| {
                mig::write_commit(w, &c)
            })
            .inspect_err(|_| self.lazy_cancel(out.mig))?;
        if v < 0 {
            self.lazy_cancel(out.mig);
            pr_info_ratelimited!(
                "migrate: pid {}: node {} could not restore it (error {})\n",
                pid,
                dest,
                v
            );
            return Err(errno_of(v));
        }
        Ok(())
    }
}

/// At home, once process `pid` left (the calling task its deputy): its
/// epolls here stop watching its signalfds and userfaultfds. Those are
/// made again where it runs, and their watches kept there by the epolls'
/// proxies
/// (src/migrate/sigwatch.rs); here a signal the deputy holds before it
/// forwards it would make them ready, an event twice. An epoll another
/// process shares (a child's inherited one) keeps them: that process
/// reads its own signals through them.
fn epolls_unwatch(pid: u32) {
    let Ok(fds) = sm::fds() else { return };
    for f in fds
        .iter()
        .filter(|f| f.kind == FdKind::Event && sm::file_private(f.fd))
    {
        if let Ok(ws) = sm::epoll_watches(f.fd) {
            super::sigwatch::home_epolls(pid, sf::EPOLL_CTL_DEL, &ws);
        }
    }
}

/// Takes pending signals with `take` (the process's, or a thread's own)
/// into `sigs`, at most `MAX_SIGS` in all (queued again with [`requeue`]
/// if the move fails).
pub(super) fn take_signals(
    sigs: &mut KVec<[u8; mig::SIGINFO_LEN]>,
    take: fn() -> Option<[u8; mig::SIGINFO_LEN]>,
) -> Result {
    while sigs.len() < mig::MAX_SIGS as usize {
        match take() {
            Some(s) => sigs.push(s, GFP_KERNEL)?,
            None => break,
        }
    }
    Ok(())
}

/// `sigs` as they travel, but those `drop` marks (signals their POSIX
/// timer queues again where the process arrives).
pub(super) fn sig_bytes(sigs: &[[u8; mig::SIGINFO_LEN]], drop: &[bool]) -> Result<KVec<u8>> {
    let mut bytes = KVec::new();
    for (k, s) in sigs.iter().enumerate() {
        if !drop.get(k).copied().unwrap_or(false) {
            bytes.extend_from_slice(s, GFP_KERNEL)?;
        }
    }
    Ok(bytes)
}

/// The area of Begin that started at `start` (Begin's areas are in
/// address order: looked up in log time, thousands of them at the freeze).
fn area_at(areas: &[super::source::Area], start: u64) -> Option<&super::source::Area> {
    areas
        .binary_search_by_key(&start, |a| a.v.start)
        .ok()
        .and_then(|i| areas.get(i))
}

/// Queues signals [`take_signals`] took again (a move that failed).
pub(super) fn requeue(sigs: &[[u8; mig::SIGINFO_LEN]]) {
    for s in sigs.iter() {
        let _ = sm::queue_signal(s);
    }
}

/// `GotoReq` result plumbing for a `goto` write.
#[pin_data]
pub(super) struct GotoReq {
    /// The process.
    pub(super) pid: u32,
    pub(super) dest: u8,
    /// A node's request to answer with the outcome (a `Goto` from home).
    pub(super) reply: Option<(u8, u64)>,
    /// Its freeze runs boosted (`MIGRATE_NICE`).
    pub(super) boost: bool,
    pub(super) m: Arc<Migrator>,
    /// Begun and pre-copied by the writer, if it did.
    #[pin]
    pub(super) out: Mutex<Option<Outgoing>>,
    #[pin]
    pub(super) result: Mutex<Option<Result>>,
    #[pin]
    pub(super) cv: CondVar,
}

impl GotoReq {
    /// Tells the asker (a waiting writer, or the node that asked) how the
    /// move of `pid` ended.
    fn finish(&self, pid: u32, r: Result) {
        if let Some((node, req)) = self.reply {
            let v = match r {
                Ok(()) => 0,
                Err(e) => i64::from(e.to_errno()),
            };
            self.m.respond(node, req, pid, v, &[]);
        }
        *self.result.lock() = Some(r);
        self.cv.notify_all();
    }
}

impl sm::TaskWork for GotoReq {
    fn run(self: Arc<Self>) -> Option<i32> {
        let pid = sm::current_tgid();
        let done = |r: Result| self.finish(pid, r);
        let out = self.out.lock().take();
        self.m.emigrate(self.dest, out, self.boost, &done)
    }

    /// Stopped inside its vdso, the process is in the middle of a clock
    /// read whose data pages are this node's: resumed elsewhere, it would
    /// mix two nodes' clocks (and time namespace layouts). A vfork child
    /// runs in its parent's memory, which stays here, until it execs
    /// (`posix_spawn`, a shell's or Python's subprocess): the new program
    /// moves then (its pre-copy was of the parent's memory: it begins
    /// again from the freeze). Either runs on for a tick, and is asked
    /// again (refused, once `LATER_MAX` ticks, about 2 s, passed, as
    /// a vfork child still).
    fn later(&self) -> bool {
        sm::in_vdso() || sm::in_vfork()
    }

    /// It exited while it ran on: nothing moves.
    fn cancel(self: Arc<Self>) {
        if let Some(out) = self.out.lock().take() {
            self.m.abort(self.pid, &out);
        }
        self.m.unbusy(self.pid);
        self.finish(self.pid, Err(ESRCH));
    }
}

/// The runs of pages of area `a` (of the calling task) that its
/// userfaultfd write-protected, read from the pagemap, as `UFFD_WP`
/// records into `out`.
fn uffd_wp_runs(a: &mig::UffdArea, out: &mut KVec<Fd>) -> Result {
    const CHUNK: usize = 512;
    let mut buf = KVec::new();
    buf.resize(CHUNK, 0u64, GFP_KERNEL)?;
    let total = a.pages as usize;
    let mut runs = mig::WpRuns::default();
    let mut done = 0usize;
    let mut push = |start, pages| out.push(wp_record(a, start, pages), GFP_KERNEL);
    while done < total {
        let want = (total - done).min(CHUNK);
        let at = a.start + (done * mig::PAGE) as u64;
        let n = sm::pagemap(None, at, &mut buf[..want])?;
        if n == 0 {
            return Err(EIO);
        }
        runs.feed(at, &buf[..n], &mut push)?;
        done += n;
    }
    if let Some((s, len)) = runs.finish() {
        push(s, len)?;
    }
    Ok(())
}

fn wp_record(a: &mig::UffdArea, start: u64, pages: u32) -> Fd {
    Fd::of_uffd_area(&mig::UffdArea {
        fd: a.fd,
        start,
        pages,
        mode: 0,
    })
}
