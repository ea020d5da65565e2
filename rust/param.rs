// SPDX-License-Identifier: GPL-2.0

//! String module parameters, which only C can declare (see `rust/shim.c`).

use super::shim;
use kernel::prelude::*;

/// The raw bytes of the `peers=` module parameter (empty when not given).
pub(crate) fn peers() -> &'static [u8] {
    // SAFETY: `vproc_shim_peers_param` returns the module parameter's
    // NUL-terminated string, never NULL. The parameter is read-only (0444)
    // after load, so the string outlives the module's use of it.
    unsafe { CStr::from_char_ptr(shim::vproc_shim_peers_param()) }.to_bytes()
}
