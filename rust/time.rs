// SPDX-License-Identifier: GPL-2.0

//! Clocks.

use super::shim;

/// Monotonic nanoseconds since boot.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_now_ns() }
}

/// Wall-clock seconds and milliseconds since the epoch.
pub(crate) fn wall() -> (i64, u32) {
    let (mut s, mut ms) = (0i64, 0u32);
    // SAFETY: both pointers are valid for writes.
    unsafe { shim::vproc_shim_wall_time(&mut s, &mut ms) };
    (s, ms)
}
