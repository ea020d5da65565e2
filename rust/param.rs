// SPDX-License-Identifier: GPL-2.0

//! String module parameters, which only C can declare (see `rust/param.c`).

use super::shim;
use kernel::prelude::*;

/// The raw bytes of the `peers=` module parameter (empty when not given).
pub(crate) fn peers() -> &'static [u8] {
    // SAFETY: `vproc_shim_peers_param` returns the module parameter's
    // NUL-terminated string, never NULL. The parameter is read-only (0444)
    // after load, so the string outlives the module's use of it.
    unsafe { CStr::from_char_ptr(shim::vproc_shim_peers_param()) }.to_bytes()
}

/// The raw bytes of the `cluster=` module parameter (empty when not given).
pub(crate) fn cluster() -> &'static [u8] {
    // SAFETY: `vproc_shim_cluster_param` returns the module parameter's
    // NUL-terminated string, never NULL; read-only (0444) after load, as
    // `peers`.
    unsafe { CStr::from_char_ptr(shim::vproc_shim_cluster_param()) }.to_bytes()
}

/// The `fault_go_delay_ms` parameter (tests only): how long a move pauses
/// between the Commit answer and Go (0: not at all; at most 5000).
pub(crate) fn fault_go_delay_ms() -> u32 {
    // SAFETY: reads an integer parameter (READ_ONCE in the shim).
    unsafe { shim::vproc_shim_fault_go_delay_ms() }
}

/// The `postcopy` parameter: a freeze may leave pages for after Go.
pub(crate) fn postcopy() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_postcopy() != 0 }
}

/// The `precopy_rounds` parameter: pre-copy rounds after the first pass
/// (0..=16; `logic::mig::another_round`).
pub(crate) fn precopy_rounds() -> u32 {
    // SAFETY: reads an integer parameter (READ_ONCE in the shim).
    unsafe { shim::vproc_shim_precopy_rounds() }
}

/// Runs `f` on the bytes of the `key=` parameter, then wipes them from
/// memory (memzero_explicit), whatever `f` returns, so the secret stays
/// only in its derived form. The string is empty afterwards.
pub(crate) fn take_key<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    // SAFETY: as for `peers`; the parameter has permission 0, so nothing
    // else reads or writes it after load.
    let key = unsafe { CStr::from_char_ptr(shim::vproc_shim_key_param()) }.to_bytes();
    let r = f(key);
    // SAFETY: `key` is no longer used; the shim zeroes the string in place.
    unsafe { shim::vproc_shim_wipe_key_param() };
    r
}
