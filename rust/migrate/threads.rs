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
