// SPDX-License-Identifier: GPL-2.0

//! The threads of a moving process (issue 17, item 1).
//!
//! **At the source** the freeze runs in the leader. It stops every other
//! thread with a task work of its own ([`ThreadPark`]): wherever the
//! thread was (a futex wait, a sleep, a proxied call: set up to run
//! again, as for the leader), it takes its own image (registers, FPU, its
//! task image: credentials, mask, alternate stack, rseq, robust list,
//! clear_child_tid, name, nice) and the signals sent to it by TID, and
//! waits. The leader sends each as a `Thread` message before `Commit`,
//! then tells them the outcome: resume (the move failed), become the
//! thread's deputy (at home), or end (a copy that moved on).
//!
//! **At the destination** the restorer made the threads with their TIDs
//! (clone3 set_tid: only user space can make a task). Each attaches
//! (`MIG thread` to admin/restore) and waits in a task work
//! ([`ThreadRestore`]); at `Commit` the leader's restore hands each its
//! image, they apply it, and they run at `Go` with the leader. A deputy
//! coming home does the same with its thread deputies.
//!
//! **At home** every thread leaves a thread deputy: its task keeps the
//! TID (no other process can get it meanwhile) and serves that thread's
//! calls at home (`Migrator::io_route`), so that one thread's call that
//! waits never holds up another's.

use super::freeze::{requeue, sig_bytes, take_signals};
use super::{
    errno_of, Migrator, State, StateGuard, ThreadDeputy, ThreadPhase, ThreadSlot,
    COMMIT_TIMEOUT_MS, NSEC_PER_MSEC, SIGKILL,
};
use crate::logic::mig::{self, Kind, Reader, ThreadImg, Writer};
use crate::sys::migrate::{self as sm, TaskImage, TASK_LEN};
use crate::sys::time::now_ns;
use kernel::{prelude::*, sync::Arc, time::msecs_to_jiffies};

/// How long the leader waits for its threads to stop.
const PARK_TIMEOUT_NS: u64 = 5_000 * NSEC_PER_MSEC;
/// How long an arriving leader waits for its threads to attach and apply.
const ARRIVE_TIMEOUT_NS: u64 = 10_000 * NSEC_PER_MSEC;
/// `Thread` messages sent between two the source waits for (with the
/// Data window's, at most 2 * `DATA_WINDOW` messages queued there).
const THREAD_WINDOW: usize = 32;
/// The most bytes of thread images in one `Thread` message (an image is
/// about 3 KiB: registers, FPU state, task image): one frame.
const THREAD_BATCH: usize = 48 * 1024;

/// The threads stopped for a freeze: resumed when dropped, unless told
/// another outcome. `park`: the freeze's id (its first migration id),
/// which the stop works carry; `mig`: the migration it is now.
pub(super) struct Parked<'a> {
    m: &'a Migrator,
    park: u64,
    mig: u64,
    decided: bool,
}

impl Parked<'_> {
    /// Tells every stopped thread the outcome.
    pub(super) fn decide(mut self, p: ThreadPhase) {
        self.m.tell_threads(self.mig, p);
        self.decided = true;
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        // A stop that comes later (a thread slow to stop) runs on.
        self.m.state.lock().parking.retain(|p| p.0 != self.park);
        if !self.decided {
            self.m.tell_threads(self.mig, ThreadPhase::Resume);
        }
    }
}

/// A thread of a moving process stopped for its freeze (`park`: the
/// freeze's id).
struct ThreadPark {
    m: Arc<Migrator>,
    park: u64,
    pid: u32,
}

impl sm::TaskWork for ThreadPark {
    fn run(self: Arc<Self>) -> Option<i32> {
        // A TID reused meanwhile by another process is not stopped, nor
        // is a thread that is exiting (it ends here; it is not listed).
        if sm::current_tgid() != self.pid || sm::current_exiting() {
            return None;
        }
        let tid = sm::current_tid();
        // The freeze that asked, if it still waits (it may have given up:
        // this thread was slow to stop); under its current migration id.
        let mig = self.m.parking_mig(self.park)?;
        let mut sigs = KVec::new();
        let img = capture_thread(mig, tid, &mut sigs);
        let phase = match &img {
            Ok(_) => ThreadPhase::Parked,
            Err(e) => ThreadPhase::CaptureFailed(e.to_errno()),
        };
        let slot = ThreadSlot {
            mig,
            tid,
            img: img.ok(),
            phase,
        };
        {
            let mut s = self.m.state.lock();
            // Checked again under the lock that files it: a freeze that
            // gave up meanwhile must find no slot of it left to resume.
            let wanted = s.parking.iter().any(|&(p, m)| p == self.park && m == mig);
            if !wanted || s.tslots.push(slot, GFP_KERNEL).is_err() {
                drop(s);
                requeue(&sigs);
                return None;
            }
        }
        self.m.cv.notify_all();
        let outcome = self.m.wait_outcome(tid);
        match outcome {
            ThreadPhase::BeDeputy => self.m.thread_deputy_loop(self.pid, tid),
            ThreadPhase::End => Some(0),
            ThreadPhase::Abort => Some(SIGKILL as i32),
            _ => {
                requeue(&sigs);
                None
            }
        }
    }

    /// Stopped inside its vdso: a tick later (see `GotoReq::later`).
    fn later(&self) -> bool {
        sm::in_vdso()
    }
}

/// Queues `work()` (interrupting) on each thread of `now` not in `asked`
/// yet, and adds it there; a thread gone meanwhile is skipped (the next
/// listing says).
pub(super) fn ask_threads<T: sm::TaskWork>(
    now: &[u32],
    asked: &mut KVec<u32>,
    work: impl Fn() -> T,
) -> Result {
    for &tid in now.iter() {
        if asked.contains(&tid) {
            continue;
        }
        asked.push(tid, GFP_KERNEL)?;
        let Ok(t) = sm::Task::thread(tid) else {
            continue;
        };
        let _ = sm::task_work(&t, true, Arc::new(work(), GFP_KERNEL)?);
    }
    Ok(())
}

/// The calling thread's `Thread` body; its own pending signals go into
/// `sigs` (queued again if the move fails).
fn capture_thread(mig: u64, tid: u32, sigs: &mut KVec<[u8; mig::SIGINFO_LEN]>) -> Result<KVec<u8>> {
    let task = TaskImage::capture()?;
    let mut gregs = [0u8; mig::GREGS_LEN];
    let (xstate, xkind) = sm::capture_regs(&mut gregs)?;
    take_signals(sigs, sm::dequeue_private)?;
    let sigbytes = sig_bytes(sigs, &[])?;
    let t = ThreadImg {
        mig,
        tid,
        gregs: &gregs,
        xkind,
        xstate: &xstate,
        sigs: &sigbytes,
        task: task.as_bytes(),
    };
    let mut body = KVec::new();
    body.resize(
        40 + mig::GREGS_LEN + xstate.len() + sigbytes.len() + TASK_LEN,
        0,
        GFP_KERNEL,
    )?;
    let n = {
        let mut w = Writer::new(&mut body);
        mig::write_thread(&mut w, &t).map_err(|_| EINVAL)?;
        w.len()
    };
    body.truncate(n);
    Ok(body)
}

impl Migrator {
    /// Sets the phase of every thread of migration `mig`.
    fn tell_threads(&self, mig: u64, p: ThreadPhase) {
        let mut s = self.state.lock();
        for t in s.tslots.iter_mut().filter(|t| t.mig == mig) {
            t.phase = p;
        }
        drop(s);
        self.cv.notify_all();
    }

    /// A stopped or arriving thread's wait (up to 200 ms) for its next
    /// phase: every signal but a fatal one waits (the thread is frozen;
    /// its caller sees a fatal one).
    fn frozen_wait<'a>(&'a self, s: StateGuard<'a>) -> StateGuard<'a> {
        self.state_wait(s, 200)
    }

    /// A wait of up to `ms` on the migrator's condition variable with its
    /// state lock `s`: a signal other than a fatal one (which ends each
    /// wait at once) sleeps a while instead of spinning.
    fn state_wait<'a>(&'a self, mut s: StateGuard<'a>, ms: u32) -> StateGuard<'a> {
        let _ = self
            .cv
            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(ms));
        if sm::signal_pending() && !sm::fatal_pending() {
            drop(s);
            crate::sys::time::msleep(ms.min(20));
            s = self.state.lock();
        }
        s
    }

    /// The migration a freeze (`park`) stops threads for now, if it
    /// still does.
    fn parking_mig(&self, park: u64) -> Option<u64> {
        let s = self.state.lock();
        s.parking.iter().find(|&&(p, _)| p == park).map(|&(_, m)| m)
    }

    /// A stopped thread's wait for the outcome of its freeze (its slot
    /// gone: resume). Its slot goes. Found by its TID alone: the move
    /// may have begun again under another id (`rekey_threads`).
    fn wait_outcome(&self, tid: u32) -> ThreadPhase {
        let mut s = self.state.lock();
        loop {
            let Some(i) = s.tslots.iter().position(|t| t.tid == tid) else {
                return ThreadPhase::Resume;
            };
            let Some(p) = s.tslots.get(i).map(|t| t.phase) else {
                return ThreadPhase::Resume;
            };
            if matches!(
                p,
                ThreadPhase::Resume | ThreadPhase::BeDeputy | ThreadPhase::End
            ) {
                let _ = s.tslots.remove(i);
                return p;
            }
            if sm::fatal_pending() {
                let _ = s.tslots.remove(i);
                return ThreadPhase::Abort;
            }
            s = self.frozen_wait(s);
        }
    }

    /// In the leader's freeze: stops every other thread of `pid` (one
    /// made meanwhile too, until none is left running) and takes their
    /// images, filed under migration `mig`. Returns them and their TIDs.
    /// EAGAIN when one does not stop within [`PARK_TIMEOUT_NS`].
    pub(super) fn park_threads(&self, pid: u32, mig: u64) -> Result<(Parked<'_>, KVec<u32>)> {
        self.state.lock().parking.push((mig, mig), GFP_KERNEL)?;
        let parked = Parked {
            m: self,
            park: mig,
            mig,
            decided: false,
        };
        let task = sm::Task::of(pid)?;
        let me = self.this.lock().clone().ok_or(ESRCH)?;
        let mut asked: KVec<u32> = KVec::new();
        let start = now_ns();
        loop {
            let now = task.thread_tids()?;
            ask_threads(&now, &mut asked, || ThreadPark {
                m: me.clone(),
                park: mig,
                pid,
            })?;
            let s = self.state.lock();
            let mut all = true;
            for &tid in now.iter() {
                match s.tslots.iter().find(|t| t.mig == mig && t.tid == tid) {
                    Some(t) => {
                        if let ThreadPhase::CaptureFailed(e) = t.phase {
                            drop(s);
                            pr_info_ratelimited!(
                                "migrate: pid {}: thread {} could not be read (error {})\n",
                                pid,
                                tid,
                                e
                            );
                            return Err(Error::from_errno(e));
                        }
                    }
                    None => all = false,
                }
            }
            // Every thread there is stopped: none can make another now
            // (a listing that is the same again says none was made). One
            // that is exiting is not carried, but is waited for: its exit
            // still writes (clear_child_tid) to the memory that moves.
            if all && task.thread_tids()? == now && task.threads_exiting() == 0 {
                drop(s);
                return Ok((parked, now));
            }
            if now_ns().saturating_sub(start) > PARK_TIMEOUT_NS {
                drop(s);
                pr_info_ratelimited!("migrate: pid {}: a thread did not stop: try again\n", pid);
                return Err(EAGAIN);
            }
            drop(self.killable_wait(s, 20)?);
        }
    }

    /// The stopped threads of migration `old` belong to migration `new`
    /// now (the move began again, from the freeze).
    pub(super) fn rekey_threads(&self, parked: &mut Parked<'_>, new: u64) {
        let old = parked.mig;
        let mut s = self.state.lock();
        for p in s.parking.iter_mut().filter(|p| p.0 == parked.park) {
            p.1 = new;
        }
        for t in s.tslots.iter_mut().filter(|t| t.mig == old) {
            t.mig = new;
            if let Some(b) = t.img.as_mut() {
                // A `Thread` body begins with its migration id.
                if let Some(m) = b.get_mut(0..8) {
                    m.copy_from_slice(&new.to_le_bytes());
                }
            }
        }
        parked.mig = new;
    }

    /// Sends the stopped threads' images to `dest` (before `Commit`), as
    /// many in one `Thread` message as fit in `THREAD_BATCH` bytes.
    pub(super) fn send_threads(&self, pid: u32, dest: u8, mig: u64) -> Result {
        let mut bodies = KVec::new();
        {
            let mut s = self.state.lock();
            for t in s.tslots.iter_mut().filter(|t| t.mig == mig) {
                bodies.push(t.img.take().ok_or(EINVAL)?, GFP_KERNEL)?;
            }
        }
        let mut batches: KVec<KVec<u8>> = KVec::new();
        for b in bodies.iter() {
            let fits = batches
                .last()
                .is_some_and(|l| l.len() + b.len() <= THREAD_BATCH);
            if !fits {
                batches.push(KVec::new(), GFP_KERNEL)?;
            }
            if let Some(l) = batches.last_mut() {
                l.extend_from_slice(b, GFP_KERNEL)?;
            }
        }
        // One way, but every `THREAD_WINDOW`th and the last as a request:
        // the destination files them in order, so its answer says every
        // one before was filed (one it refused ended the migration there,
        // and the answer is an error). The window bounds its queue.
        for (k, b) in batches.iter().enumerate() {
            if k + 1 < batches.len() && (k + 1) % THREAD_WINDOW != 0 {
                self.send(dest, Kind::Thread, pid, b.len(), |w| w.bytes(b))?;
                continue;
            }
            let (v, _) =
                self.request(dest, Kind::Thread, pid, COMMIT_TIMEOUT_MS, b.len(), |w| {
                    w.bytes(b)
                })?;
            if v < 0 {
                return Err(errno_of(v));
            }
        }
        Ok(())
    }

    /// At home, before Go: a thread deputy per thread of `pid` (deputy id
    /// `id`), so that the threads' first calls find theirs.
    pub(super) fn make_thread_deputies(&self, pid: u32, id: u64, tids: &[u32]) -> Result {
        let mut s = self.state.lock();
        for &tid in tids {
            s.tdeps.push(
                ThreadDeputy {
                    tid,
                    pid,
                    id,
                    io: super::IoSlot::new(),
                    end: false,
                    code: 0,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(())
    }

    /// The thread deputies of `pid` end (the process ended, or its
    /// deputy did, or it is back). One inside a call is interrupted.
    pub(super) fn end_thread_deputies(&self, pid: u32, code: i32) {
        let mut s = self.state.lock();
        for t in s.tdeps.iter_mut().filter(|t| t.pid == pid) {
            t.end = true;
            t.code = code;
            if t.io.serving.is_some() {
                sm::kick(t.tid);
            }
        }
        drop(s);
        self.cv.notify_all();
    }

    /// Forgets the thread deputies of `pid` that never ran (a move whose
    /// Go was refused).
    pub(super) fn drop_thread_deputies(&self, pid: u32) {
        self.state.lock().tdeps.retain(|t| t.pid != pid);
    }

    /// A thread deputy, in its own context: serves its thread's calls
    /// until the process ends (it exits) or comes home (its thread is
    /// rebuilt in it: `None`, it runs on).
    pub(super) fn thread_deputy_loop(self: &Arc<Self>, pid: u32, tid: u32) -> Option<i32> {
        sm::block_signals();
        let mut tried = 0u64;
        loop {
            if sm::fatal_pending() {
                self.state.lock().tdeps.retain(|t| t.tid != tid);
                return Some(SIGKILL as i32);
            }
            enum Work {
                End(i32),
                Io(super::Msg),
                Home(u64),
                Idle,
            }
            let work = {
                let mut s = self.state.lock();
                let home = s
                    .deputies
                    .iter()
                    .find(|d| d.pid == pid)
                    .and_then(|d| d.home_mig)
                    .filter(|&m| m != tried);
                match s
                    .tdeps
                    .iter()
                    .find(|t| t.tid == tid)
                    .map(|t| (t.end, t.code))
                {
                    None => Work::End(0),
                    Some((true, code)) => Work::End(code),
                    Some(_) => match next_call(&mut s, pid, tid) {
                        Some(m) => Work::Io(m),
                        None => home.map_or(Work::Idle, Work::Home),
                    },
                }
            };
            match work {
                Work::End(code) => {
                    self.state.lock().tdeps.retain(|t| t.tid != tid);
                    return Some(code);
                }
                Work::Io(msg) => self.serve_call(pid, tid, msg),
                Work::Home(m) => {
                    tried = m;
                    match self.thread_home(m, pid, tid) {
                        Ok(true) => {
                            self.state.lock().tdeps.retain(|t| t.tid != tid);
                            return None;
                        }
                        Ok(false) => {
                            // Its thread ended away from home.
                            self.state.lock().tdeps.retain(|t| t.tid != tid);
                            return Some(0);
                        }
                        Err(_) => sm::block_signals(),
                    }
                }
                Work::Idle => {
                    let mut s = self.state.lock();
                    let open = !mm_closed(&s, pid);
                    let busy = s
                        .tdeps
                        .iter()
                        .find(|t| t.tid == tid)
                        .is_none_or(|t| t.end || (open && !t.io.ios.is_empty()));
                    if !busy {
                        let _ = self
                            .cv
                            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(500));
                    }
                }
            }
        }
    }

    /// Deputy `pid` (the caller), restoring its process coming home
    /// (migration `mig`), is about to map or unmap areas of its memory:
    /// its thread deputies, which serve their threads' calls meanwhile
    /// with each call's buffers mapped in that memory, start no call
    /// until the guard returned drops, and those inside one end it first.
    /// Otherwise a buffer mapped where an area comes is replaced by it,
    /// and unmapping the buffer then takes that piece of the process's
    /// memory with it (the process came home with a hole: a page of it
    /// could not be written, EFAULT, or later a fault). A call that does
    /// not end in `MM_CLOSE_NS` fails the move (EAGAIN): the process runs
    /// on where it is.
    pub(super) fn mm_close(&self, pid: u32, mig: u64) -> Result<MmClosed<'_>> {
        let start = now_ns();
        let mut s = self.state.lock();
        loop {
            let users = match s.deputies.iter_mut().find(|d| d.pid == pid) {
                Some(d) => {
                    d.mm_closed = true;
                    d.mm_users
                }
                None => 0,
            };
            if users == 0 {
                return Ok(MmClosed { m: self, pid });
            }
            let gone = !s.incoming.iter().any(|x| x.mig == mig);
            if gone || sm::fatal_pending() || now_ns().saturating_sub(start) > MM_CLOSE_NS {
                drop(s);
                self.mm_open(pid);
                pr_info_ratelimited!(
                    "migrate: pid {}: {} call(s) of its threads at home did not end: it does not come home now\n",
                    pid,
                    users
                );
                return Err(if gone { ECANCELED } else { EAGAIN });
            }
            s = self.state_wait(s, 10);
        }
    }

    fn mm_open(&self, pid: u32) {
        if let Some(d) = self.state.lock().deputies.iter_mut().find(|d| d.pid == pid) {
            d.mm_closed = false;
        }
        self.cv.notify_all();
    }

    /// Thread deputy `tid` of `pid` serves `msg` (its call that
    /// [`next_call`] counted in), then counts it out.
    fn serve_call(self: &Arc<Self>, pid: u32, tid: u32, msg: super::Msg) {
        let at = self.table.away(pid).unwrap_or(self.me);
        self.serve_io(tid, at, msg, false);
        mm_count(&mut self.state.lock(), pid, false);
        self.cv.notify_all();
    }

    /// A thread deputy's part in its process coming home (migration
    /// `mig`): whether its thread is in it (then rebuilt here: Ok(true)).
    fn thread_home(self: &Arc<Self>, mig: u64, pid: u32, tid: u32) -> Result<bool> {
        {
            let s = self.state.lock();
            let Some(inc) = s.incoming.iter().find(|i| i.mig == mig) else {
                return Err(ECANCELED);
            };
            if !inc.tids.contains(&tid) {
                return Ok(false);
            }
        }
        self.attach_slot(mig, tid)?;
        self.thread_arrive(mig, tid, false, Some(pid))
            .map(|()| true)
    }

    /// At home, the deputy restoring itself (the caller): a task for each
    /// thread of migration `mig` that has no thread deputy here (one the
    /// process made away from home), made with its TID; it takes its
    /// image as a thread deputy does (`ThreadMade`). A TID taken here
    /// (EEXIST) or any other failure ends the move home (the process runs
    /// on where it is; the threads made so far end with the migration).
    pub(super) fn make_home_threads(self: &Arc<Self>, mig: u64, pid: u32, tids: &[u32]) -> Result {
        let mut made = 0;
        for &tid in tids {
            let has_deputy = self
                .state
                .lock()
                .tdeps
                .iter()
                .any(|x| x.tid == tid && x.pid == pid && !x.end);
            if has_deputy {
                continue;
            }
            let w = Arc::new(
                ThreadMade {
                    m: self.clone(),
                    mig,
                },
                GFP_KERNEL,
            )?;
            if let Err(e) = sm::make_thread(tid, w) {
                pr_info_ratelimited!(
                    "migrate: pid {}: its thread {}, made away from home, cannot be made here (error {})\n",
                    pid,
                    tid,
                    e.to_errno()
                );
                return Err(e);
            }
            made += 1;
        }
        if made > 0 {
            pr_info_ratelimited!(
                "migrate: pid {}: {} thread(s) it made away from home made here\n",
                pid,
                made
            );
        }
        Ok(())
    }

    /// Files the calling thread `tid` as attached to migration `mig`.
    fn attach_slot(&self, mig: u64, tid: u32) -> Result {
        let mut s = self.state.lock();
        if let Some(t) = s.tslots.iter_mut().find(|t| t.mig == mig && t.tid == tid) {
            if t.phase != ThreadPhase::Unattached {
                return Err(EBUSY);
            }
            t.phase = ThreadPhase::Attached;
        } else {
            s.tslots.push(
                ThreadSlot {
                    mig,
                    tid,
                    img: None,
                    phase: ThreadPhase::Attached,
                },
                GFP_KERNEL,
            )?;
        }
        drop(s);
        self.cv.notify_all();
        Ok(())
    }

    /// A restorer's thread reports (its write to admin/restore,
    /// "MIG thread"): it becomes thread `tid` of migration `mig_id`.
    pub(crate) fn attach_thread(self: &Arc<Self>, mig_id: u64) -> Result {
        let (pid, tid) = (sm::current_tgid(), sm::current_tid());
        {
            let s = self.state.lock();
            let inc = s.incoming.iter().find(|i| i.mig == mig_id).ok_or_else(|| {
                pr_info!("admin/restore: no migration {:x} is arriving\n", mig_id);
                ENOENT
            })?;
            if inc.pid != pid || pid == tid || !inc.tids.contains(&tid) {
                pr_info!(
                    "admin/restore: thread {} of {} is not one of migration {:x}\n",
                    tid,
                    pid,
                    mig_id
                );
                return Err(EPERM);
            }
        }
        self.attach_slot(mig_id, tid)?;
        let w = Arc::new(
            ThreadRestore {
                m: self.clone(),
                mig: mig_id,
            },
            GFP_KERNEL,
        )?;
        sm::task_work(&sm::Task::thread(tid)?, false, w)
    }

    /// In the calling thread (`tid`, attached to migration `mig`): waits
    /// for its image, applies it, and waits for Go. An error: the move
    /// failed (the thread is not the process's). `guest`: away from home
    /// (its path and identity calls are then made at home, as the
    /// leader's: `sysfwd`).
    fn thread_arrive(
        self: &Arc<Self>,
        mig: u64,
        tid: u32,
        guest: bool,
        serve: Option<u32>,
    ) -> Result {
        let mut s = self.state.lock();
        loop {
            let Some(i) = s.tslots.iter().position(|t| t.mig == mig && t.tid == tid) else {
                return Err(ECANCELED);
            };
            let Some(slot) = s.tslots.get_mut(i) else {
                return Err(ECANCELED);
            };
            match slot.phase {
                ThreadPhase::Apply => {
                    let img = slot.img.take();
                    // The user namespace made for the process (its
                    // leader's, checked there).
                    let ns = s
                        .incoming
                        .iter()
                        .find(|x| x.mig == mig)
                        .and_then(|x| x.userns.clone());
                    drop(s);
                    let r = img
                        .ok_or(EINVAL)
                        .and_then(|b| apply_thread(tid, &b, guest, ns.as_ref()));
                    drop(ns);
                    s = self.state.lock();
                    if let Some(t) = s.tslots.iter_mut().find(|t| t.mig == mig && t.tid == tid) {
                        t.phase = match r {
                            Ok(()) => ThreadPhase::Applied,
                            Err(e) => ThreadPhase::ApplyFailed(e.to_errno()),
                        };
                    }
                    self.cv.notify_all();
                    continue;
                }
                ThreadPhase::Run => {
                    let _ = s.tslots.remove(i);
                    return Ok(());
                }
                ThreadPhase::Abort => {
                    let _ = s.tslots.remove(i);
                    return Err(ECANCELED);
                }
                _ => {}
            }
            // The move ended without Go (its restore is forgotten).
            if sm::fatal_pending() || !s.incoming.iter().any(|x| x.mig == mig) {
                let _ = s.tslots.remove(i);
                return Err(ECANCELED);
            }
            // A thread deputy (of process `serve`) serves its thread's
            // calls until the thread stops: one inside a call made here
            // stops only once it has the reply (as the process's deputy
            // does while it restores itself, `next_msg`). Without that, a
            // thread calling home in a loop never stopped, and the move
            // home failed with EAGAIN after 5 s.
            if let Some(pid) = serve {
                if let Some(msg) = next_call(&mut s, pid, tid) {
                    drop(s);
                    self.serve_call(pid, tid, msg);
                    s = self.state.lock();
                    continue;
                }
            }
            s = self.frozen_wait(s);
        }
    }

    /// The arriving leader's `Thread` message: thread `tid`'s image,
    /// filed for it (`tids`: Begin's).
    pub(super) fn file_thread(&self, mig: u64, tids: &[u32], body: &[u8]) -> Result {
        for rec in mig::thread_recs(body) {
            let (t, bytes) = rec.map_err(|_| EPROTO)?;
            if t.mig != mig || !tids.contains(&t.tid) {
                return Err(EPROTO);
            }
            let mut img = KVec::new();
            img.extend_from_slice(bytes, GFP_KERNEL)?;
            let mut s = self.state.lock();
            if let Some(x) = s.tslots.iter_mut().find(|x| x.mig == mig && x.tid == t.tid) {
                if x.img.is_some() || !matches!(x.phase, ThreadPhase::Attached) {
                    return Err(EPROTO);
                }
                x.img = Some(img);
            } else {
                s.tslots.push(
                    ThreadSlot {
                        mig,
                        tid: t.tid,
                        img: Some(img),
                        phase: ThreadPhase::Unattached,
                    },
                    GFP_KERNEL,
                )?;
            }
        }
        Ok(())
    }

    /// At the arriving leader's `Commit`: every thread of Begin attached
    /// with its image; they apply them. Returns once all did.
    pub(super) fn threads_apply(&self, pid: u32, mig: u64, tids: &[u32]) -> Result {
        if tids.is_empty() {
            return Ok(());
        }
        let start = now_ns();
        let mut s = self.state.lock();
        let mut told = false;
        loop {
            let mut ready = 0;
            let mut applied = 0;
            for t in s.tslots.iter().filter(|t| t.mig == mig) {
                match t.phase {
                    ThreadPhase::Attached if t.img.is_some() => ready += 1,
                    ThreadPhase::Applied => applied += 1,
                    ThreadPhase::ApplyFailed(e) => {
                        let tid = t.tid;
                        drop(s);
                        pr_info_ratelimited!(
                            "migrate: pid {}: thread {} could not be restored (error {})\n",
                            pid,
                            tid,
                            e
                        );
                        return Err(Error::from_errno(e));
                    }
                    _ => {}
                }
            }
            if applied == tids.len() {
                return Ok(());
            }
            if !told && ready == tids.len() {
                for t in s.tslots.iter_mut().filter(|t| t.mig == mig) {
                    t.phase = ThreadPhase::Apply;
                }
                told = true;
                self.cv.notify_all();
                continue;
            }
            if now_ns().saturating_sub(start) > ARRIVE_TIMEOUT_NS {
                drop(s);
                pr_info_ratelimited!(
                    "migrate: pid {}: its threads did not all arrive ({} of {})\n",
                    pid,
                    if told { applied } else { ready },
                    tids.len()
                );
                return Err(ETIMEDOUT);
            }
            s = self.killable_wait(s, 50)?;
        }
    }

    /// The arriving threads of migration `mig` run (Go came) or end.
    pub(super) fn threads_done(&self, mig: u64, ok: bool) {
        self.tell_threads(
            mig,
            if ok {
                ThreadPhase::Run
            } else {
                ThreadPhase::Abort
            },
        );
        // Slots no task waits on (never attached) go now.
        let mut s = self.state.lock();
        s.tslots
            .retain(|t| t.mig != mig || t.phase != ThreadPhase::Unattached);
    }
}

/// Applies thread image `body` (a `Thread` message) to the calling
/// thread `tid`.
fn apply_thread(tid: u32, body: &[u8], guest: bool, ns: Option<&sm::UserNs>) -> Result {
    let t = mig::read_thread(&mut Reader::new(body)).map_err(|_| EPROTO)?;
    let task = TaskImage::from_bytes(t.task)?;
    if t.tid != tid || task.tid() != tid {
        return Err(EPROTO);
    }
    task.apply_thread(ns)?;
    for s in t.sigs.chunks_exact(mig::SIGINFO_LEN) {
        let _ = sm::queue_signal(s);
    }
    let mut gregs: [u8; mig::GREGS_LEN] = t.gregs.try_into().map_err(|_| EPROTO)?;
    task.resume_time(&mut gregs)?;
    sm::restore_regs(&gregs, t.xstate, t.xkind)?;
    sm::set_guest(guest);
    Ok(())
}

/// A thread the deputy made at home for one its process made away
/// (`make_home_threads`): in its task work, before any user code, it
/// becomes that thread as a thread deputy's task does when its thread
/// comes home, or ends without having run.
struct ThreadMade {
    m: Arc<Migrator>,
    mig: u64,
}

impl sm::TaskWork for ThreadMade {
    fn run(self: Arc<Self>) -> Option<i32> {
        let tid = sm::current_tid();
        self.m
            .attach_slot(self.mig, tid)
            .and_then(|()| self.m.thread_arrive(self.mig, tid, false, None))
            .err()
            .map(|_| SIGKILL as i32)
    }
}

/// A restorer's thread waiting to become a thread of the arriving process.
struct ThreadRestore {
    m: Arc<Migrator>,
    mig: u64,
}

impl sm::TaskWork for ThreadRestore {
    fn run(self: Arc<Self>) -> Option<i32> {
        // Not the process's: it must not run.
        self.m
            .thread_arrive(self.mig, sm::current_tid(), true, None)
            .err()
            .map(|_| SIGKILL as i32)
    }
}

/// How long a deputy remapping its memory waits for its thread deputies'
/// calls to end (`Migrator::mm_close`).
const MM_CLOSE_NS: u64 = 5_000_000_000;

/// Deputy `m`'s memory is being remapped (`Migrator::mm_close`) until
/// this drops.
pub(super) struct MmClosed<'a> {
    m: &'a Migrator,
    pid: u32,
}

impl Drop for MmClosed<'_> {
    fn drop(&mut self) {
        self.m.mm_open(self.pid);
    }
}

/// Whether deputy `pid`'s memory is being remapped (no call starts).
fn mm_closed(s: &State, pid: u32) -> bool {
    s.deputies.iter().any(|d| d.pid == pid && d.mm_closed)
}

/// The next call thread deputy `tid` of `pid` is to serve, counted in
/// (see [`Migrator::serve_call`]); none while its deputy remaps their
/// memory (`Migrator::mm_close`).
fn next_call(s: &mut State, pid: u32, tid: u32) -> Option<super::Msg> {
    if mm_closed(s, pid) {
        return None;
    }
    let msg = s
        .tdeps
        .iter_mut()
        .find(|t| t.tid == tid && t.pid == pid)?
        .io
        .take_next()?;
    mm_count(s, pid, true);
    Some(msg)
}

/// A thread deputy of `pid` starts (`true`) or ends a call.
fn mm_count(s: &mut State, pid: u32, start: bool) {
    if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) {
        d.mm_users = match start {
            true => d.mm_users.saturating_add(1),
            false => d.mm_users.saturating_sub(1),
        };
    }
}
