// SPDX-License-Identifier: GPL-2.0

//! The task image (rust/task.c): whether the calling process can move
//! (`logic::mig_policy` decides over the facts C gathers), reading its
//! image and applying one.

use super::{mig, policy, shim, to_result, Ident, ImageFacts, TaskFacts};
use kernel::prelude::*;

/// A process's task image (credentials, limits, signal handlers, mm
/// layout, cwd...): a plain C struct, shipped as bytes.
pub(crate) struct TaskImage(KBox<shim::vproc_mig_task>);

/// Size of a task image on the wire.
pub(crate) const TASK_LEN: usize = core::mem::size_of::<shim::vproc_mig_task>();

impl TaskImage {
    fn zeroed() -> Result<Self> {
        // SAFETY: the struct is integers and byte arrays: all zeros is valid.
        let z: shim::vproc_mig_task = unsafe { core::mem::zeroed() };
        Ok(Self(KBox::new(z, GFP_KERNEL)?))
    }

    /// Its file system identity (what [`peek`] reads of a running task;
    /// `own_userns`: it is in a user namespace of its own, whose
    /// capabilities are none here).
    pub(crate) fn ident(&self, own_userns: bool) -> Ident {
        let t = &*self.0;
        let n = (t.ngroups as usize).min(t.groups.len());
        let mut id = Ident {
            fsuid: t.fsuid,
            fsgid: t.fsgid,
            ngroups: n as u32,
            cap_fs: if own_userns {
                0
            } else {
                t.cap_effective & crate::logic::mig::CAP_FS_MASK
            },
            ..Ident::default()
        };
        id.groups[..n].copy_from_slice(&t.groups[..n]);
        id
    }

    /// The calling task's image.
    pub(crate) fn capture() -> Result<Self> {
        let mut t = Self::zeroed()?;
        // SAFETY: `t.0` is a valid, writable struct.
        to_result(unsafe { shim::vproc_shim_mig_get_task(&mut *t.0) })?;
        Ok(t)
    }

    /// The C struct.
    pub(super) fn raw(&self) -> &shim::vproc_mig_task {
        &self.0
    }

    /// Records `nice` as the process's own (captured while a [`Boost`]
    /// ran it at another).
    pub(crate) fn set_nice(&mut self, nice: i32) {
        self.0.nice = nice;
    }

    /// An image received from a peer (`TASK_LEN` bytes).
    pub(crate) fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() != TASK_LEN {
            return Err(EINVAL);
        }
        let mut t = Self::zeroed()?;
        // SAFETY: `b` has exactly the struct's size; every bit pattern is a
        // valid value of it (integers and byte arrays).
        unsafe {
            core::ptr::copy_nonoverlapping(
                b.as_ptr(),
                core::ptr::from_mut::<shim::vproc_mig_task>(&mut *t.0).cast::<u8>(),
                TASK_LEN,
            )
        };
        Ok(t)
    }

    /// Its bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        // SAFETY: the struct was zeroed before being filled, so padding is
        // initialised; it lives as long as `self`.
        unsafe {
            core::slice::from_raw_parts(
                core::ptr::from_ref::<shim::vproc_mig_task>(&*self.0).cast::<u8>(),
                TASK_LEN,
            )
        }
    }

    /// Whether it may be applied ([`policy::validate_task_image`]).
    pub(super) fn validate(&self) -> Result {
        let t = &*self.0;
        let facts = ImageFacts {
            code: (t.start_code, t.end_code),
            data: (t.start_data, t.end_data),
            brk: (t.start_brk, t.brk),
            args: (t.arg_start, t.arg_end),
            env: (t.env_start, t.env_end),
            start_stack: t.start_stack,
            nice: t.nice,
            umask: t.umask,
            ss_sp: t.ss_sp,
            ss_size: t.ss_size,
            sa_handler: &t.sa_handler,
            sa_restorer: &t.sa_restorer,
            dumpable: t.dumpable,
            ngroups: t.ngroups,
            rseq_len: t.rseq_len,
            rseq_version: t.rseq_version,
        };
        policy::validate_task_image(&facts).map_err(|_| EINVAL)
    }

    /// Applies it to the calling task, once validated here (the C side
    /// checks again what the kernel needs to be safe).
    /// `ns`: the user namespace made for it here (None: the calling
    /// task's own).
    pub(crate) fn apply(&self, ns: Option<&UserNs>) -> Result {
        self.validate()?;
        let ns = ns.map_or(core::ptr::null_mut(), UserNs::as_ptr);
        // SAFETY: a valid struct; `ns` null or a live reference.
        to_result(unsafe { shim::vproc_shim_mig_set_task(&*self.0, ns) })
    }

    /// Sets the calling task's clocks going on from the image's (see
    /// `vproc_shim_mig_resume_time`): `gregs`, the registers it resumes
    /// with, may change (an interrupted sleep that ended meanwhile
    /// returns 0).
    pub(crate) fn resume_time(&self, gregs: &mut [u8]) -> Result {
        if gregs.len() != shim::VPROC_MIG_GREGS_LEN as usize {
            return Err(EINVAL);
        }
        // SAFETY: a valid struct; `gregs` has the size the shim writes.
        to_result(unsafe { shim::vproc_shim_mig_resume_time(&*self.0, gregs.as_mut_ptr().cast()) })
    }

    /// Its name.
    pub(crate) fn comm(&self) -> &[u8] {
        let c = &self.0.comm;
        // SAFETY: c_char and u8 have the same layout.
        let b = unsafe { core::slice::from_raw_parts(c.as_ptr().cast::<u8>(), c.len()) };
        let n = b.iter().position(|&x| x == 0).unwrap_or(b.len());
        &b[..n]
    }
}

/// Disarms the calling task's interval timers and deletes its POSIX timers
/// (a deputy's: its process carries them).
pub(crate) fn timers_clear() {
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_mig_timers_clear() }
}

/// Why the calling process cannot move now, if it cannot
/// ([`policy::refusal`] over what the kernel says of it).
pub(crate) fn refusal(at_home: bool) -> Option<&'static str> {
    let mut f = shim::vproc_mig_task_facts::default();
    // SAFETY: `f` is a valid, writable struct.
    unsafe { shim::vproc_shim_mig_task_facts(&mut f) };
    let facts = TaskFacts {
        exiting: f.exiting != 0,
        threads: f.threads,
        ptraced: f.ptraced != 0,
        vfork: f.vfork != 0,
        has_mm: f.has_mm != 0,
        mm_users: f.mm_users,
        posix_timers: f.posix_timers,
        children: f.children != 0,
        at_home,
        tracer: f.tracer != 0,
        init_namespaces: f.init_namespaces != 0,
        own_home_ns: f.own_home_ns != 0,
    };
    policy::refusal(&facts).map(policy::Refusal::reason)
}

/// Whether the calling task's UTS namespace is another than the node's
/// initial one (it made one where it runs).
pub(crate) fn own_uts() -> bool {
    // SAFETY: reads current's namespaces only.
    unsafe { shim::vproc_shim_own_uts() != 0 }
}

/// Task `t`'s PID namespace for a move, with its threads `tids` (cluster
/// TIDs): empty for the node's initial one, else for it and each above
/// it below the initial one, outermost first, its key (its inode number
/// here), its owner (its user namespace's depth) and its PIDs in it, the
/// leader's first, 4 bytes (LE) each, as `mig::BeginText::pidns` carries
/// them. EOPNOTSUPP: one a move does not carry; ESRCH: a thread ended
/// meanwhile.
pub(crate) fn pidns_ids(t: &super::Task, tids: &[u32]) -> Result<KVec<u8>> {
    // SAFETY: `t` holds a reference on the task.
    let levels = unsafe { shim::vproc_shim_pidns_level(t.0.as_ptr()) };
    to_result(levels)?;
    let levels = usize::try_from(levels).map_err(|_| EINVAL)?;
    let mut b = KVec::new();
    if levels == 0 {
        return Ok(b);
    }
    let mut out = KVec::new();
    out.resize(levels * (tids.len() + 3), 0u32, GFP_KERNEL)?;
    // SAFETY: `t` holds a reference on the task; `tids` has `len`
    // entries, `out` room for `levels` levels of three more each.
    to_result(unsafe {
        shim::vproc_shim_pidns_ids(
            t.0.as_ptr(),
            tids.as_ptr(),
            tids.len() as u32,
            levels as u32,
            out.as_mut_ptr(),
        )
    })?;
    for v in out.iter() {
        b.extend_from_slice(&v.to_le_bytes(), GFP_KERNEL)?;
    }
    Ok(b)
}

/// Whether the calling (restored) process and its threads `tids` are in
/// PID namespaces like `ids` describes (`mig::BeginText::pidns`'s words;
/// empty: the initial one): as deep, each owned by its user namespace
/// of that depth, with those PIDs in each.
pub(crate) fn pidns_check(tids: &[u32], ids: &[u32]) -> Result {
    // SAFETY: both slices are valid for their lengths.
    to_result(unsafe {
        shim::vproc_shim_pidns_check(
            tids.as_ptr(),
            tids.len() as u32,
            ids.as_ptr(),
            ids.len() as u32,
        )
    })
}

/// Whether the calling task is in a PID namespace other than the node's
/// initial one (a moved process in the one made for its home's).
pub(crate) fn in_pidns() -> bool {
    // SAFETY: reads current's PID only.
    unsafe { shim::vproc_shim_in_pidns() != 0 }
}

/// Whether `target` (a PID as the calling task's namespace numbers it)
/// names another process than the caller's in a PID namespace other than
/// the initial one (`thread`: a TID, any of its own threads' counts as
/// its own).
pub(crate) fn pidns_other(target: i32, thread: bool) -> bool {
    // SAFETY: looks PIDs up under RCU.
    unsafe { shim::vproc_shim_pidns_other(target, i32::from(thread)) != 0 }
}

/// Which of task `t`'s mount and IPC namespaces are not the node's
/// initial ones (`mig::home_ns` bits).
pub(crate) fn home_ns(t: &super::Task) -> u8 {
    // SAFETY: `t` holds a reference on the task; the shim takes its lock.
    let bits = unsafe { shim::vproc_shim_task_home_ns(t.0.as_ptr()) };
    (bits as u8) & mig::home_ns::ALL
}

/// Whether the calling task's net namespace is another than the node's
/// initial one (it made one where it runs).
pub(crate) fn own_net() -> bool {
    // SAFETY: reads current's namespaces only.
    unsafe { shim::vproc_shim_own_net() != 0 }
}

/// Runs the calling task at a nice value of at most `nice` until dropped,
/// then at its own again. For the kernel work of a move (pre-copy, the
/// freeze): on a node busy enough to shed load, that work otherwise gets
/// one runnable task's share of the CPU, and a move meant to relieve the
/// node takes many times longer than the program's own run (measured: a
/// cc1 among six, 9-10 s from decision to arrival, 1.7-3.3 s frozen).
/// Only kernel code runs while it is held; the process's own nice is what
/// travels ([`Boost::own`]). `None`: no boost (a caller that may not
/// raise priorities), only the own nice value kept.
pub(crate) struct Boost {
    own: i32,
    boosted: bool,
}

impl Boost {
    pub(crate) fn new(nice: Option<i32>) -> Self {
        // SAFETY: acts on current only.
        let own = unsafe { shim::vproc_shim_nice() };
        let boosted = nice.is_some_and(|n| n < own);
        let nice = nice.unwrap_or(own);
        if boosted {
            // SAFETY: as above.
            unsafe { shim::vproc_shim_set_nice(nice) };
        }
        Self { own, boosted }
    }

    /// The task's nice value before the boost.
    pub(crate) fn own(&self) -> i32 {
        self.own
    }
}

impl Drop for Boost {
    fn drop(&mut self) {
        if self.boosted {
            // SAFETY: acts on current only.
            unsafe { shim::vproc_shim_set_nice(self.own) };
        }
    }
}

/// The calling process's POSIX timers, read in its leader, every thread
/// stopped (none makes one); with `times`, their times too (see
/// `vproc_shim_mig_ptimers_get` for what is refused).
fn ptimers_read(times: bool) -> Result<KVec<shim::vproc_mig_ptimer>> {
    // SAFETY: NULL asks for the count only.
    let count = unsafe { shim::vproc_shim_mig_ptimers_get(core::ptr::null_mut(), 0, 0) };
    to_result(count)?;
    let max = u32::try_from(count).map_err(|_| EINVAL)?;
    if max > shim::VPROC_MIG_PTIMERS {
        return Err(EOPNOTSUPP);
    }
    let mut v = KVec::<shim::vproc_mig_ptimer>::with_capacity(max as usize, GFP_KERNEL)?;
    // SAFETY: `v` has room for `max` structs, which the shim writes.
    let n = unsafe { shim::vproc_shim_mig_ptimers_get(v.as_mut_ptr(), max, times.into()) };
    to_result(n)?;
    let n = usize::try_from(n).map_err(|_| EINVAL)?;
    if n > max as usize {
        return Err(EINVAL);
    }
    // SAFETY: the shim wrote the first `n` (<= capacity) structs.
    unsafe { v.inc_len(n) };
    Ok(v)
}

/// The process's POSIX timers as they were before the freeze took its
/// pending signals: `timer_getoverrun()`'s count then (taking a timer's
/// signal changes it).
pub(crate) struct PtimerMarks(KVec<shim::vproc_mig_ptimer>);

/// Reads [`PtimerMarks`]: just before the process's signals are taken.
pub(crate) fn ptimers_mark() -> Result<PtimerMarks> {
    Ok(PtimerMarks(ptimers_read(false)?))
}

/// The calling process's POSIX timers as they travel in `Commit`, read
/// after its pending signals were taken into `sigs`. The signals taken
/// there of a timer (`SI_TIMER` ones of its id, signal and value) go back
/// to it: the timer travels as fired, with the expiries and overruns they
/// stand for (and those since, if it fired again meanwhile) and
/// `timer_getoverrun()` as `marks` read it (taking a signal changes it),
/// and they are marked in `drop` (not to travel; queued here again if the
/// move fails).
/// Where it arrives the timer queues it again itself: one signal, as
/// here, which `timer_settime()`/`timer_delete()` cancel as theirs.
pub(crate) fn ptimers_capture(
    marks: &PtimerMarks,
    sigs: &[[u8; mig::SIGINFO_LEN]],
    drop: &mut KVec<bool>,
) -> Result<KVec<u8>> {
    const LEN: usize = core::mem::size_of::<shim::vproc_mig_ptimer>();
    let mut v = ptimers_read(true)?;
    drop.clear();
    for _ in sigs {
        drop.push(false, GFP_KERNEL)?;
    }
    for (i, t) in v.iter_mut().enumerate() {
        // Both reads walk one list nobody changed: same order.
        let Some(m) = marks.0.get(i).filter(|m| m.id == t.id) else {
            continue;
        };
        // Every one taken: a short interval fires again while the signals
        // are taken (each taken one re-arms it), and a signal taken there
        // is one expiry more besides its overruns. (One queued by hand
        // with its code, id and value would count as one expiry too: a
        // process may fool its own timer, no more.)
        let mut pending: i64 = -1;
        for (sg, d) in sigs.iter().zip(drop.iter_mut()) {
            let Some(ts) = mig::timer_sig(sg) else {
                continue;
            };
            if *d || ts.timer != t.id || ts.signo != t.signo || ts.value != t.value {
                continue;
            }
            *d = true;
            pending = pending
                .saturating_add(1)
                .saturating_add(i64::from(ts.overrun.max(0)));
        }
        if pending < 0 {
            continue;
        }
        // Queued again since (it fired once more, with the overruns read
        // since): one signal for all of them there.
        if t.fired != 0 {
            pending = pending.saturating_add(1).saturating_add(t.pending.max(0));
        }
        t.fired = 1;
        t.overrun_last = m.overrun_last;
        t.pending = pending;
    }
    let mut bytes = KVec::with_capacity(v.len() * LEN, GFP_KERNEL)?;
    for t in v.iter() {
        // SAFETY: a struct of integers without padding (its size is
        // `PTIMER_LEN`, asserted in migrate.rs): every byte initialised.
        let b = unsafe { core::slice::from_raw_parts(core::ptr::from_ref(t).cast::<u8>(), LEN) };
        bytes.extend_from_slice(b, GFP_KERNEL)?;
    }
    Ok(bytes)
}

/// Makes the process's POSIX timers `bytes` (`Commit`'s, whole
/// `vproc_mig_ptimer`s) in the calling task, their times less those that
/// ran on since they were read.
pub(crate) fn ptimers_apply(bytes: &[u8]) -> Result {
    const LEN: usize = core::mem::size_of::<shim::vproc_mig_ptimer>();
    let n = bytes.len() / LEN;
    if bytes.len() % LEN != 0 || n > shim::VPROC_MIG_PTIMERS as usize {
        return Err(EINVAL);
    }
    let mut v = KVec::<shim::vproc_mig_ptimer>::with_capacity(n, GFP_KERNEL)?;
    for b in bytes.chunks_exact(LEN) {
        // SAFETY: `b` has the struct's size; it is integers only, any bits
        // are a value of it; read unaligned from the message.
        let t = unsafe { core::ptr::read_unaligned(b.as_ptr().cast::<shim::vproc_mig_ptimer>()) };
        v.push(t, GFP_KERNEL)?;
    }
    // SAFETY: `v` holds `n` valid structs.
    to_result(unsafe { shim::vproc_shim_mig_ptimers_set(v.as_ptr(), n as u32) })
}

/// A reference to a user namespace: a task's, read for its move, or one
/// made on this node for a process that moved here (from the restorer's
/// `/proc/PID/ns/user`): the credentials the process is restored with
/// are in it, and its calls at home are accepted from it alone.
pub(crate) struct UserNs(core::ptr::NonNull<shim::user_namespace>);

// SAFETY: a counted reference, taken and dropped from any task.
unsafe impl Send for UserNs {}
// SAFETY: only compared, read and handed to C, which takes its own
// references.
unsafe impl Sync for UserNs {}

impl UserNs {
    /// The user namespace of task `t`.
    pub(crate) fn of_task(t: &super::Task) -> Result<Self> {
        // SAFETY: a live task reference; a reference to its namespace
        // is returned.
        let p = unsafe { shim::vproc_shim_userns_of(t.0.as_ptr()) };
        core::ptr::NonNull::new(p).map(Self).ok_or(EINVAL)
    }

    /// The namespace of the calling task's descriptor `fd`: EBADF,
    /// EINVAL when it is not a user namespace's.
    pub(crate) fn of_fd(fd: i32) -> Result<Self> {
        // SAFETY: the shim checks the descriptor.
        let p = kernel::error::from_err_ptr(unsafe { shim::vproc_shim_userns_from_fd(fd) })?;
        core::ptr::NonNull::new(p).map(Self).ok_or(EINVAL)
    }

    pub(crate) fn as_ptr(&self) -> *mut shim::user_namespace {
        self.0.as_ptr()
    }

    /// Its address (compared only, as [`userns_id`]'s).
    pub(crate) fn addr(&self) -> u64 {
        self.0.as_ptr() as u64
    }

    /// How many levels it is below the node's initial one.
    pub(crate) fn depth(&self) -> usize {
        // SAFETY: we hold a reference.
        unsafe { shim::vproc_shim_userns_depth(self.0.as_ptr()) as usize }
    }

    /// Level `k` (1 to [`Self::depth`]) of it and those above it.
    pub(crate) fn ancestor(&self, k: usize) -> Result<Self> {
        let k = u32::try_from(k).map_err(|_| EINVAL)?;
        // SAFETY: we hold a reference; a reference is returned.
        let p = unsafe { shim::vproc_shim_userns_ancestor(self.0.as_ptr(), k) };
        core::ptr::NonNull::new(p).map(Self).ok_or(EINVAL)
    }

    /// It and those above it as a move from here carries them (a checked
    /// `mig::UserNsChain` text, each level's origin its address here);
    /// None for the initial one. EOPNOTSUPP: deeper than
    /// [`mig::MAX_LEVELS`]; ENODATA: a map not written yet; E2BIG: longer
    /// than [`mig::USERNS_MAX_LEN`] bytes.
    pub(crate) fn text(&self) -> Result<Option<KVVec<u8>>> {
        let n = self.depth();
        if n == 0 {
            return Ok(None);
        }
        if n > mig::MAX_LEVELS {
            return Err(EOPNOTSUPP);
        }
        let room = shim::VPROC_USERNS_EXTENTS as usize;
        let mut raw = KVec::new();
        raw.resize(2 * room, [0u32; 3], GFP_KERNEL)?;
        let mut ext = KVec::with_capacity(2 * room, GFP_KERNEL)?;
        let mut out = KVVec::new();
        out.resize(mig::userns_max_len(n), 0u8, GFP_KERNEL)?;
        let mut w = mig::Writer::new(&mut out);
        mig::write_chain_header(&mut w, n, self.addr()).map_err(|_| E2BIG)?;
        for k in 1..=n {
            let mut l = shim::vproc_userns::default();
            let (uid, gid) = raw.split_at_mut(room);
            // SAFETY: we hold a reference; room for
            // VPROC_USERNS_EXTENTS extents in each array.
            to_result(unsafe {
                shim::vproc_shim_userns_level(
                    self.0.as_ptr(),
                    k as u32,
                    &mut l,
                    uid.as_mut_ptr(),
                    gid.as_mut_ptr(),
                )
            })?;
            let (nu, ng) = (l.nuid as usize, l.ngid as usize);
            if nu > room || ng > room {
                return Err(E2BIG);
            }
            ext.clear();
            for r in Iterator::chain(uid[..nu].iter(), gid[..ng].iter()) {
                ext.push(
                    mig::Extent {
                        first: r[0],
                        lower: r[1],
                        count: r[2],
                    },
                    GFP_KERNEL,
                )?;
            }
            let (u, g) = ext.split_at(nu);
            mig::Level {
                origin: l.addr,
                owner: l.owner,
                group: l.group,
                flags: if l.setgroups != 0 { mig::SETGROUPS } else { 0 },
                uid: u,
                gid: g,
            }
            .write(&mut w)
            .map_err(|_| E2BIG)?;
        }
        let len = w.len();
        out.truncate(len);
        // What the kernel made is what a destination takes (checked, as
        // the destination checks it).
        mig::UserNsChain::parse(&out).map_err(|_| EINVAL)?;
        Ok(Some(out))
    }
}

impl Clone for UserNs {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference: another is taken.
        unsafe { shim::vproc_shim_userns_get(self.0.as_ptr()) };
        Self(self.0)
    }
}

impl Drop for UserNs {
    fn drop(&mut self) {
        // SAFETY: the reference this value holds (put_user_ns may run in
        // atomic context: the last one frees it from a work item).
        unsafe { shim::vproc_shim_userns_put(self.0.as_ptr()) };
    }
}

/// The user namespace of task `t`, as a move from here carries it: its
/// address (compared only) and, but for the initial one, the text of what
/// the destination makes again (it and those above it; see
/// [`UserNs::text`]).
pub(crate) fn userns_of(t: &super::Task) -> Result<(u64, Option<KVVec<u8>>)> {
    let ns = UserNs::of_task(t)?;
    Ok((ns.addr(), ns.text()?))
}

/// The calling task's user namespace's address (compared only).
pub(crate) fn userns_id() -> u64 {
    // SAFETY: reads current's credentials.
    unsafe { shim::vproc_shim_userns_id() }
}
