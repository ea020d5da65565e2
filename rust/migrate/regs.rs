// SPDX-License-Identifier: GPL-2.0

//! Registers (rust/regs.c): the calling task's general and FPU registers,
//! captured and restored.

use super::{shim, to_result};
use crate::logic::mig::GREGS_LEN;
use kernel::prelude::*;

/// The calling task's registers: general (`GREGS_LEN` bytes) and FPU
/// (image, kind). A syscall the capture interrupted is set up to rerun.
pub(crate) fn capture_regs(gregs: &mut [u8; GREGS_LEN]) -> Result<(KVec<u8>, u32)> {
    // SAFETY: no preconditions.
    let xsize = unsafe { shim::vproc_shim_mig_xstate_size() }.max(512);
    let mut x = KVec::new();
    x.resize(xsize, 0, GFP_KERNEL)?;
    let mut xlen = 0usize;
    let mut kind = 0u32;
    // SAFETY: buffers of the sizes given.
    to_result(unsafe {
        shim::vproc_shim_mig_get_regs(
            gregs.as_mut_ptr().cast(),
            x.as_mut_ptr().cast(),
            x.len(),
            &mut xlen,
            &mut kind,
        )
    })?;
    x.truncate(xlen);
    Ok((x, kind))
}

/// Sets the calling task's registers (effective on its return to user
/// mode). Validated as PTRACE_SETREGS would.
pub(crate) fn restore_regs(gregs: &[u8], xstate: &[u8], xkind: u32) -> Result {
    if gregs.len() != shim::VPROC_MIG_GREGS_LEN as usize {
        return Err(EINVAL);
    }
    // SAFETY: buffers of the sizes given, read only.
    to_result(unsafe {
        shim::vproc_shim_mig_set_regs(
            gregs.as_ptr().cast(),
            xstate.as_ptr().cast(),
            xstate.len(),
            xkind,
        )
    })
}
