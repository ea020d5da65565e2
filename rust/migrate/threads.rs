// SPDX-License-Identifier: GPL-2.0

//! The threads of a moving process (rust/threads.c): who they are, and
//! what each carries of its own. A thread's image is a task image
//! captured in the thread; on arrival only its per-thread parts apply
//! (the leader's image brought the process's).

use super::{shim, to_result, Task, TaskImage};
use crate::logic::mig::MAX_THREADS;
use core::ffi::c_int;
use kernel::prelude::*;

impl Task {
    /// Thread `tid` of this node (any thread, not only a leader).
    pub(crate) fn thread(tid: u32) -> Result<Self> {
        // SAFETY: no preconditions.
        let p = unsafe { shim::vproc_shim_thread_get(tid as c_int) };
        core::ptr::NonNull::new(p).map(Self).ok_or(ESRCH)
    }

    /// The TIDs of its threads but the leader, ascending (E2BIG past
    /// [`MAX_THREADS`]).
    pub(crate) fn thread_tids(&self) -> Result<KVec<u32>> {
        let mut v = KVec::new();
        v.resize(MAX_THREADS as usize, 0u32, GFP_KERNEL)?;
        // SAFETY: `self` holds a task reference; `v` has room for `len`.
        let n = unsafe {
            shim::vproc_shim_thread_tids(self.0.as_ptr(), v.as_mut_ptr(), v.len() as u32)
        };
        to_result(n)?;
        v.truncate(n as usize);
        Ok(v)
    }

    /// Users of its address space beyond its threads (the caller's own
    /// `Mm` references included): another process sharing it, or a
    /// reader that holds it for a moment.
    pub(crate) fn mm_other_users(&self) -> u32 {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_mm_other_users(self.0.as_ptr()) }.max(0) as u32
    }

    /// How many of its threads but the leader are exiting.
    pub(crate) fn threads_exiting(&self) -> u32 {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_threads_exiting(self.0.as_ptr()) }.max(0) as u32
    }
}

/// The calling thread's TID.
pub(crate) fn current_tid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_current_tid() as u32 }
}

/// Whether the calling thread is exiting.
pub(crate) fn current_exiting() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_current_exiting() != 0 }
}

/// A thread deputy blocks every signal but SIGKILL and SIGSTOP.
pub(crate) fn block_signals() {
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_block_signals() }
}

impl TaskImage {
    /// Applies a thread's own parts of this image to the calling thread.
    pub(crate) fn apply_thread(&self, ns: Option<&super::task::UserNs>) -> Result {
        self.validate()?;
        let ns = ns.map_or(core::ptr::null_mut(), super::task::UserNs::as_ptr);
        // SAFETY: a valid struct; `ns` null or a live reference.
        to_result(unsafe { shim::vproc_shim_mig_set_thread(self.raw(), ns) })
    }

    /// The TID it was captured in.
    pub(crate) fn tid(&self) -> u32 {
        self.raw().tid
    }
}

impl Task {
    /// Its seccomp mode (0, 1: strict, 2: filter) and a cookie that
    /// changes when a filter is added (its newest filter's address).
    pub(crate) fn seccomp_state(&self) -> (u32, u64) {
        let mut cookie = 0u64;
        // SAFETY: `self` holds a task reference; `cookie` is writable.
        let mode = unsafe { shim::vproc_shim_seccomp_state(self.0.as_ptr(), &mut cookie) };
        (mode, cookie)
    }

    /// The tasks whose seccomp states stand for this process's threads:
    /// the process's first, then each of `tids`, or `None` for one not
    /// among its threads now, which counts as having the process's state
    /// (at home, a thread made away from home, which the process makes
    /// there when it comes back; one that ended since: its list changed,
    /// which the freeze finds).
    fn seccomp_threads(&self, tids: &[u32]) -> Result<KVec<Option<Task>>> {
        let now = self.thread_tids()?;
        let mut v = KVec::with_capacity(1 + tids.len(), GFP_KERNEL)?;
        v.push(None, GFP_KERNEL)?;
        for tid in tids {
            let t = now.contains(tid).then(|| Task::thread(*tid).ok()).flatten();
            v.push(t, GFP_KERNEL)?;
        }
        Ok(v)
    }

    /// A word for each thread's seccomp state, the process's first, then
    /// `tids`' (as [`Self::seccomp_threads`] finds them): a filter added
    /// or a mode set changes it.
    pub(crate) fn seccomp_cookies(&self, tids: &[u32]) -> Result<KVec<u64>> {
        let mut v = KVec::with_capacity(1 + tids.len(), GFP_KERNEL)?;
        for t in self.seccomp_threads(tids)?.iter() {
            // The newest filter's address (8-aligned) and the mode (0 to 2).
            let (mode, newest) = t.as_ref().unwrap_or(self).seccomp_state();
            v.push(newest | u64::from(mode), GFP_KERNEL)?;
        }
        Ok(v)
    }

    /// The seccomp state `Begin` carries (see `logic::mig::seccomp_filters`)
    /// of this process, whose other threads are `tids` (as
    /// [`Self::seccomp_threads`] finds them): empty, strict, its filters
    /// oldest first, or a chain for each thread when they differ. EOPNOTSUPP (logged) for what
    /// cannot be carried: a filter with a user notification listener,
    /// more than a move carries.
    pub(crate) fn seccomp_image(&self, pid: u32, tids: &[u32]) -> Result<KVec<u8>> {
        use crate::logic::mig::{
            seccomp_assemble, seccomp_find, seccomp_push, SeccompFilter, MAX_SECCOMP_FILTERS,
            MAX_SECCOMP_INSNS, SECCOMP_FILTER, SECCOMP_MAX_LEN, SOCK_FILTER_LEN,
        };
        let cannot = |why: &str| {
            pr_info_ratelimited!("migrate: pid {} cannot move: seccomp: {}\n", pid, why);
            EOPNOTSUPP
        };
        // The filters of all threads, each once (a SECCOMP_FILTER part),
        // and each thread's entry: mode, count, indices.
        let mut table = KVec::new();
        table.resize(SECCOMP_MAX_LEN, 0u8, GFP_KERNEL)?;
        let mut used = 0usize;
        let mut chains = KVec::with_capacity(2 + MAX_SECCOMP_FILTERS, GFP_KERNEL)?;
        let mut prog = KVec::new();
        prog.resize(MAX_SECCOMP_INSNS * SOCK_FILTER_LEN, 0u8, GFP_KERNEL)?;
        for t in self.seccomp_threads(tids)?.iter() {
            let t = t.as_ref().unwrap_or(self);
            let mode = t.seccomp_state().0;
            chains.push(mode as u8, GFP_KERNEL)?;
            let count_at = chains.len();
            chains.push(0, GFP_KERNEL)?;
            if mode == u32::from(SECCOMP_FILTER) {
                let mut n = 0u32;
                loop {
                    let mut log = 0u32;
                    // SAFETY: `t` holds a task reference; `prog` has room
                    // for MAX_SECCOMP_INSNS instructions of 8 bytes.
                    let len = unsafe {
                        shim::vproc_shim_seccomp_filter(
                            t.0.as_ptr(),
                            n,
                            prog.as_mut_ptr().cast(),
                            MAX_SECCOMP_INSNS as u32,
                            &mut log,
                        )
                    };
                    if len == ENOENT.to_errno() as kernel::ffi::c_long && n > 0 {
                        break;
                    }
                    if len == EBUSY.to_errno() as kernel::ffi::c_long {
                        return Err(cannot("a filter has a user notification listener"));
                    }
                    if len <= 0 {
                        // No longer in filter mode (it cannot leave it),
                        // or gone.
                        return Err(if len == 0 {
                            EINVAL
                        } else {
                            Error::from_errno(len as i32)
                        });
                    }
                    let len = len as usize;
                    if len > MAX_SECCOMP_INSNS {
                        return Err(cannot(
                            "its filters are larger than a move carries (2048 instructions)",
                        ));
                    }
                    let f = SeccompFilter {
                        flags: if log != 0 {
                            crate::logic::mig::SECCOMP_LOG
                        } else {
                            0
                        },
                        prog: prog.get(..len * SOCK_FILTER_LEN).ok_or(EINVAL)?,
                    };
                    let many = || {
                        cannot("its filters are more than a move carries (16 filters, 2048 instructions)")
                    };
                    let at = match seccomp_find(table.get(..used).ok_or(EINVAL)?, f) {
                        Some(at) => at,
                        None => {
                            if used == 0 {
                                table[0] = SECCOMP_FILTER;
                                table[1] = 0;
                                used = 2;
                            }
                            let at = table[1];
                            used = seccomp_push(&mut table, used, f).map_err(|_| many())?;
                            at
                        }
                    };
                    n += 1;
                    if n as usize > MAX_SECCOMP_FILTERS {
                        return Err(many());
                    }
                    chains.push(at, GFP_KERNEL)?;
                    chains[count_at] = n as u8;
                }
            }
        }
        let mut out = KVec::new();
        out.resize(SECCOMP_MAX_LEN, 0u8, GFP_KERNEL)?;
        let n = seccomp_assemble(table.get(..used).ok_or(EINVAL)?, &chains, &mut out)
            .map_err(|_| cannot("its threads' filters are more than a move carries"))?;
        out.truncate(n);
        Ok(out)
    }
}
