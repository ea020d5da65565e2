// SPDX-License-Identifier: GPL-2.0

//! Clocks.

use super::shim;

/// Monotonic nanoseconds since boot.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_now_ns() }
}

/// CLOCK_BOOTTIME nanoseconds (suspended time included).
pub(crate) fn boot_ns() -> u64 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_boot_ns() }
}

/// Wall-clock seconds and milliseconds since the epoch.
pub(crate) fn wall() -> (i64, u32) {
    let (mut s, mut ms) = (0i64, 0u32);
    // SAFETY: both pointers are valid for writes.
    unsafe { shim::vproc_shim_wall_time(&mut s, &mut ms) };
    (s, ms)
}

/// Sleeps `ms` milliseconds whatever signals arrive.
pub(crate) fn msleep(ms: u32) {
    // SAFETY: no preconditions; process context.
    unsafe { shim::vproc_shim_msleep(ms) }
}

/// Waits out a wakeup caused by a signal: fails with EINTR if it is
/// fatal, else sleeps a tick so that a caller looping on an interruptible
/// wait with a signal pending does not spin. Waits in vproc are killable:
/// only a fatal signal ends them early (as NFS does).
pub(crate) fn killable_pause() -> kernel::error::Result {
    if super::migrate::fatal_pending() {
        return Err(kernel::error::code::EINTR);
    }
    if super::migrate::signal_pending() {
        msleep(1);
    }
    Ok(())
}
