// SPDX-License-Identifier: GPL-2.0

//! Running code in a task (rust/twork.c): task work, the calling task's
//! PID, starting a program.

use super::{shim, to_result, Task};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Work to run in a task's own context.
pub(crate) trait TaskWork: Send + Sync + 'static {
    /// Runs in the task; `Some(status)`: the task then exits with that
    /// wait(2) status (after this returned: every value it held dropped).
    fn run(self: Arc<Self>) -> Option<i32>;

    /// Whether to run a little later rather than now (asked before
    /// [`run`](Self::run), in the task, at most [`LATER_MAX`] times).
    fn later(&self) -> bool {
        false
    }

    /// The task exited before it could run again after [`later`](Self::later):
    /// called from a kernel worker instead of `run`.
    fn cancel(self: Arc<Self>) {}
}

/// How many times a task work may put itself off (a tick each: about 2 s).
pub(crate) const LATER_MAX: i32 = 2000;

/// # Safety
///
/// `data` comes from `Arc::<T>::into_raw` in [`task_work`], used once.
unsafe extern "C" fn twork_tramp<T: TaskWork>(data: *mut c_void, tries: c_int) -> c_int {
    // SAFETY: `data` came from `Arc::into_raw` in `task_work` (or below)
    // and is consumed exactly once per call, here.
    let a = unsafe { Arc::from_raw(data.cast::<T>()) };
    if tries < 0 {
        a.cancel();
        return shim::VPROC_TWORK_RETURN;
    }
    if tries < LATER_MAX && a.later() {
        // Kept for the next call.
        let _ = Arc::into_raw(a);
        return shim::VPROC_TWORK_LATER;
    }
    match a.run() {
        Some(status) => status.max(0),
        None => shim::VPROC_TWORK_RETURN,
    }
}

/// Hands `w` to C: `give` gets the trampoline for `T` and the pointer it
/// consumes once the work runs, and returns a negative errno when nothing
/// took it (then the reference is taken back here), else its value.
fn hand_over<T: TaskWork>(
    w: Arc<T>,
    give: impl FnOnce(shim::vproc_twork_fn, *mut c_void) -> c_int,
) -> Result<c_int> {
    let raw = Arc::into_raw(w);
    let r = give(Some(twork_tramp::<T>), raw.cast_mut().cast());
    if r < 0 {
        // SAFETY: `give` failed, so nothing took the pointer, which came
        // from `Arc::into_raw` above: the reference is ours again.
        drop(unsafe { Arc::from_raw(raw) });
        return Err(Error::from_errno(r));
    }
    Ok(r)
}

/// Runs `w.run()` in process `t` at its next return to user mode
/// (`interrupt`: interrupting a blocking syscall).
pub(crate) fn task_work<T: TaskWork>(t: &Task, interrupt: bool, w: Arc<T>) -> Result {
    hand_over(w, |f, data| {
        // SAFETY: the trampoline matches `T` and consumes the pointer;
        // `t` holds a task reference.
        unsafe { shim::vproc_shim_task_work(t.0.as_ptr(), c_int::from(interrupt), f, data) }
    })
    .map(|_| ())
}

/// Makes a thread of the calling process with TID `tid` that runs
/// `w.run()` before any user code, with the kernel's credentials until
/// then (kernel patch 0012): `w` gives it the thread's own (its image) or
/// ends it. EEXIST when `tid` is taken here.
pub(crate) fn make_thread<T: TaskWork>(tid: u32, w: Arc<T>) -> Result {
    let tid = c_int::try_from(tid).map_err(|_| EINVAL)?;
    hand_over(w, |f, data| {
        // SAFETY: the trampoline matches `T` and consumes the pointer
        // once the thread exists; on failure nothing took it.
        unsafe { shim::vproc_shim_thread_make(tid, f, data) }
    })
    .map(|_| ())
}

/// A moved process's fork where it runs: its child, with PID `pid` (home's
/// deputy of it took that PID), a copy of the caller whose proxies of
/// (caller, `parent_deputy`) are (`pid`, `deputy`)'s; a vfork (`flags`
/// CLONE_VM | CLONE_VFORK) returns once the child exec'd or exited (see
/// `vproc_shim_fork_make`). EOPNOTSUPP when this process cannot fork so
/// (then it forks at home).
pub(crate) fn fork_make(
    pid: u32,
    flags: u64,
    child_tid: u64,
    parent_tid: u64,
    stack: u64,
    parent_deputy: u64,
    deputy: u64,
) -> Result {
    let pid = c_int::try_from(pid).map_err(|_| EINVAL)?;
    // SAFETY: no pointers (the TID words and stack are the caller's user
    // addresses).
    let r = unsafe {
        shim::vproc_shim_fork_make(
            pid,
            flags,
            child_tid,
            parent_tid,
            stack,
            parent_deputy,
            deputy,
        )
    };
    if r < 0 {
        return Err(Error::from_errno(r));
    }
    Ok(())
}

/// Home's side of that fork, in the deputy's context: a fork of the
/// deputy that runs `w.run()` before any user code; its PID.
pub(crate) fn fork_deputy<T: TaskWork>(exit_signal: u32, w: Arc<T>) -> Result<u32> {
    let sig = c_int::try_from(exit_signal).map_err(|_| EINVAL)?;
    let pid = hand_over(w, |f, data| {
        // SAFETY: the trampoline matches `T` and consumes the pointer
        // once the child exists; on failure nothing took it.
        unsafe { shim::vproc_shim_fork_deputy(sig, f, data) }
    })?;
    Ok(pid as u32)
}

/// Whether the calling task is a vfork child (in its parent's memory
/// until it execs or exits).
pub(crate) fn in_vfork() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_in_vfork() != 0 }
}

/// The calling task, entering `execve`: makes the call execute `helper`
/// with `exec`, the path it named and its own arguments after it (its
/// environment unchanged).
pub(crate) fn exec_via(helper: &CStr) -> Result {
    // SAFETY: a NUL-terminated string; the shim reads only it.
    to_result(unsafe { shim::vproc_shim_exec_via(helper.as_char_ptr()) })
}

/// Whether the calling task stopped inside its vdso (a clock read half
/// done).
pub(crate) fn in_vdso() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_ip_in_vdso() != 0 }
}

/// The calling task's process id.
pub(crate) fn current_tgid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_current_tgid() }.max(0) as u32
}

/// This module's reference count: task works not run yet, proxy files
/// open (rmmod is refused while it is not 0).
pub(crate) fn module_refs() -> u32 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_module_refs() }.max(0) as u32
}

/// Starts program `path` with `argv` (NUL-terminated strings) as root.
pub(crate) fn spawn(path: &CStr, argv: &[&CStr]) -> Result {
    let mut v: KVec<*const c_char> = KVec::new();
    for a in argv {
        v.push(a.as_char_ptr(), GFP_KERNEL)?;
    }
    v.push(core::ptr::null(), GFP_KERNEL)?;
    // SAFETY: NUL-terminated strings and a NULL-terminated vector, alive
    // until the program was started (UMH_WAIT_EXEC).
    to_result(unsafe { shim::vproc_shim_spawn(path.as_char_ptr(), v.as_ptr()) })
}
