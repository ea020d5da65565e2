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
    pub(crate) fn apply_thread(&self) -> Result {
        self.validate()?;
        // SAFETY: a valid struct.
        to_result(unsafe { shim::vproc_shim_mig_set_thread(self.raw()) })
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

    /// Its seccomp state as `Begin` carries it (see
    /// `logic::mig::seccomp_filters`): empty, strict, or its filters,
    /// oldest first. EOPNOTSUPP (logged) for what cannot be carried: a
    /// filter with a user notification listener, more than a move
    /// carries.
    pub(crate) fn seccomp_image(&self, pid: u32) -> Result<KVec<u8>> {
        use crate::logic::mig::{
            seccomp_push, SeccompFilter, MAX_SECCOMP_INSNS, SECCOMP_FILTER, SECCOMP_MAX_LEN,
            SECCOMP_STRICT, SOCK_FILTER_LEN,
        };
        let mut out = KVec::new();
        match self.seccomp_state().0 {
            0 => return Ok(out),
            1 => {
                out.push(SECCOMP_STRICT, GFP_KERNEL)?;
                return Ok(out);
            }
            _ => {}
        }
        let cannot = |why: &str| {
            pr_info_ratelimited!("migrate: pid {} cannot move: seccomp: {}\n", pid, why);
            EOPNOTSUPP
        };
        out.resize(SECCOMP_MAX_LEN, 0u8, GFP_KERNEL)?;
        if let Some(b) = out.first_mut() {
            *b = SECCOMP_FILTER;
        }
        let mut prog = KVec::new();
        prog.resize(MAX_SECCOMP_INSNS * SOCK_FILTER_LEN, 0u8, GFP_KERNEL)?;
        let mut used = 2;
        let mut n = 0u32;
        loop {
            let mut log = 0u32;
            // SAFETY: `self` holds a task reference; `prog` has room for
            // MAX_SECCOMP_INSNS instructions of 8 bytes.
            let len = unsafe {
                shim::vproc_shim_seccomp_filter(
                    self.0.as_ptr(),
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
                // No longer in filter mode (it cannot leave it), or gone.
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
            used = seccomp_push(&mut out, used, f).map_err(|_| {
                cannot("its filters are more than a move carries (16 filters, 2048 instructions)")
            })?;
            n += 1;
        }
        out.truncate(used);
        Ok(out)
    }
}
