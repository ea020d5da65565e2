// SPDX-License-Identifier: GPL-2.0

//! Signals (rust/signal.c): the calling task's pending signals taken and
//! queued again, signals to a local process, a deputy's signal routing.

use super::{shim, to_result};
use crate::logic::mig::SIGINFO_LEN;
use kernel::prelude::*;

/// Makes deputy `pid`'s interruptible wait return, as a signal would
/// (without one): a blocked read it does for its process ends with
/// ERESTARTSYS, or with what it read.
pub(crate) fn kick(pid: u32) {
    // SAFETY: no preconditions; a missing task is ESRCH.
    let _ = unsafe { shim::vproc_shim_deputy_kick(pid as i32) };
}

/// The calling deputy forgets a [`kick`] that came after its call.
pub(crate) fn unkick() {
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_deputy_unkick() }
}

/// One siginfo taken by `f` (a shim that fills 48 bytes, the size of
/// kernel_siginfo, checked in C, and returns the signal or 0).
fn take(f: unsafe extern "C" fn(*mut c_void) -> c_int) -> Option<[u8; SIGINFO_LEN]> {
    let mut info = [0u8; SIGINFO_LEN];
    // SAFETY: `info` has the 48 bytes `f` writes.
    let sig = unsafe { f(info.as_mut_ptr().cast()) };
    (sig > 0).then_some(info)
}

/// Takes one pending signal of the calling task (raw siginfo).
pub(crate) fn dequeue_signal() -> Option<[u8; SIGINFO_LEN]> {
    take(shim::vproc_shim_mig_dequeue_signal)
}

/// Takes one signal pending for the calling thread itself (not its
/// process's).
pub(crate) fn dequeue_private() -> Option<[u8; SIGINFO_LEN]> {
    take(shim::vproc_shim_mig_dequeue_private)
}

/// Queues a siginfo from [`dequeue_signal`] (or a peer) to the calling
/// task again.
pub(crate) fn queue_signal(info: &[u8]) -> Result {
    if info.len() != 48 {
        return Err(EINVAL);
    }
    // SAFETY: 48 bytes.
    to_result(unsafe { shim::vproc_shim_mig_queue_signal(info.as_ptr().cast()) })
}

/// Sends `sig` to local process `pid` with si_code `code` and sender
/// `from_pid`/`from_uid`.
pub(crate) fn signal(pid: u32, sig: u32, code: i32, from_pid: u32, from_uid: u32) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe {
        shim::vproc_shim_mig_signal(
            pid as c_int,
            sig as c_int,
            code,
            from_pid as c_int,
            from_uid,
        )
    })
}

/// Makes every signal queue for (and wake) the calling deputy.
pub(crate) fn deputy_signals() {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_mig_deputy_signals() }
}

/// Whether a fatal signal is pending for the calling task.
pub(crate) fn fatal_pending() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_fatal_pending() != 0 }
}

/// Whether any signal is pending for the calling task.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_signal_pending() != 0 }
}

/// Makes `mask` (a `sigset_t`'s bits) the calling task's blocked signals
/// (never SIGKILL or SIGSTOP), for an epoll wait's mask; the set it
/// replaces, for [`sigmask_leave`].
pub(crate) fn sigmask_enter(mask: u64) -> u64 {
    let mut old = 0u64;
    // SAFETY: `old` is a valid u64 to write.
    unsafe { shim::vproc_shim_sigmask_enter(mask, &mut old) };
    old
}

/// Puts back the blocked set `old` [`sigmask_enter`] replaced: at once,
/// or, when a signal `interrupted` the wait, after its handler ran.
pub(crate) fn sigmask_leave(old: u64, interrupted: bool) {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_sigmask_leave(old, i32::from(interrupted)) }
}

/// Whether the calling task has a child (living or not reaped) of TGID
/// `pid`, or any child when `pid` is 0.
pub(crate) fn has_child(pid: i32) -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_has_child(pid) != 0 }
}

/// Sends `sig` to local process `pid` as [`signal`]; with `job` (home's
/// process group is not orphaned), a stop signal whose action is the
/// default stops it (as SIGSTOP: its process group here is not the
/// shell's). Returns the stop signal if it stops, else 0.
pub(crate) fn signal_job(
    pid: u32,
    sig: u32,
    code: i32,
    from_pid: u32,
    from_uid: u32,
    job: bool,
) -> Result<i32> {
    // SAFETY: no pointers.
    let r = unsafe {
        shim::vproc_shim_mig_signal_job(
            pid as c_int,
            sig as c_int,
            code,
            from_pid as c_int,
            from_uid,
            c_int::from(job),
        )
    };
    to_result(r.min(0))?;
    Ok(r)
}

/// Whether the calling task's process group is orphaned (job control's
/// stop signals other than SIGSTOP do not stop it).
pub(crate) fn pgrp_orphaned() -> bool {
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_pgrp_orphaned() != 0 }
}

/// The calling deputy reports its process's job state to its parent, as
/// if it were the process: `Some(sig)` stopped by `sig` (its parent's
/// wait(WUNTRACED) sees it, SIGCHLD with CLD_STOPPED), `None` continued
/// (after a SIGCONT: CLD_CONTINUED, if it was stopped).
pub(crate) fn deputy_job(stopped: Option<u32>) {
    let sig = stopped.map_or(0, |s| s as c_int);
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_deputy_job(sig) }
}

/// As [`deputy_job`] for deputy `pid`, from another task: the process
/// stopped (`Some(sig)`) or continued (`None`) where it runs, by a signal
/// sent there.
pub(crate) fn deputy_job_of(pid: u32, stopped: Option<u32>) -> Result {
    let sig = stopped.map_or(0, |s| s as c_int);
    // SAFETY: no pointers; the task is looked up and held in C.
    to_result(unsafe { shim::vproc_shim_deputy_job_of(pid as c_int, sig) })
}

/// The name of local process `pid` into `buf`, NUL-padded: its length.
pub(crate) fn comm_of(pid: u32, buf: &mut [u8; 16]) -> Result<usize> {
    // SAFETY: `buf` has the 16 bytes the shim writes.
    let r = unsafe { shim::vproc_shim_comm_of(pid as c_int, buf.as_mut_ptr().cast()) };
    to_result(r)?;
    Ok(buf.iter().position(|&c| c == 0).unwrap_or(buf.len()))
}

/// Names local process `pid` (its leader) `name` (at most 15 bytes are
/// taken, a NUL ends it earlier).
pub(crate) fn set_comm_of(pid: u32, name: &[u8]) -> Result {
    let len = c_uint::try_from(name.len()).map_err(|_| EINVAL)?;
    // SAFETY: the shim reads `len` bytes of `name`.
    to_result(unsafe { shim::vproc_shim_set_comm_of(pid as c_int, name.as_ptr().cast(), len) })
}

/// Task `t`'s command line (its argument strings, NULs between) into
/// `buf`: how many bytes (0: none, or it has no memory).
pub(crate) fn cmdline(t: &super::Task, buf: &mut [u8]) -> usize {
    let len = c_uint::try_from(buf.len()).unwrap_or(c_uint::MAX);
    // SAFETY: `t` holds a reference on the task; the shim writes at most
    // `len` bytes into `buf`.
    let r = unsafe { shim::vproc_shim_task_cmdline(t.0.as_ptr(), buf.as_mut_ptr().cast(), len) };
    usize::try_from(r).unwrap_or(0).min(buf.len())
}

/// Shows `line` as task `t`'s command line (a deputy's: what its process
/// runs where it is), cut to the room its own had. A task that ended has
/// no memory to show it in (ESRCH).
pub(crate) fn set_cmdline(t: &super::Task, line: &[u8]) -> Result {
    let len = c_uint::try_from(line.len()).map_err(|_| EINVAL)?;
    // SAFETY: `t` holds a reference on the task; the shim reads `len`
    // bytes of `line`.
    to_result(unsafe { shim::vproc_shim_set_cmdline(t.0.as_ptr(), line.as_ptr().cast(), len) })
}

/// The signal that stopped local process `pid` while it is stopped, else
/// 0 (running, or gone).
pub(crate) fn job_state(pid: u32) -> u32 {
    // SAFETY: no pointers; the task is looked up and held in C.
    let r = unsafe { shim::vproc_shim_job_state(pid as c_int) };
    u32::try_from(r).unwrap_or(0)
}
