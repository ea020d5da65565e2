// SPDX-License-Identifier: GPL-2.0

//! HMAC-SHA256 (the kernel's lib/crypto) and randomness, and a system-load
//! sampler and capability check that live with them in the shim.

use super::shim;
use crate::logic::wire::Hmac;
use kernel::prelude::*;

/// The kernel's HMAC-SHA256, for the wire codec.
pub(crate) struct KernelHmac;

/// Most parts one MAC covers (the codec uses at most 4).
const MAX_PARTS: usize = 8;

impl Hmac for KernelHmac {
    fn hmac(&self, key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
        let mut ptrs = [core::ptr::null::<u8>(); MAX_PARTS];
        let mut lens = [0usize; MAX_PARTS];
        let n = parts.len().min(MAX_PARTS);
        for (i, p) in parts.iter().take(n).enumerate() {
            ptrs[i] = p.as_ptr();
            lens[i] = p.len();
        }
        let mut out = [0u8; 32];
        // SAFETY: `key` is 32 bytes; `ptrs[..n]`/`lens[..n]` describe live
        // slices; `out` is 32 writable bytes.
        unsafe {
            shim::vproc_shim_hmac_sha256(
                key.as_ptr(),
                ptrs.as_ptr(),
                lens.as_ptr(),
                n as u32,
                out.as_mut_ptr(),
            )
        };
        out
    }
}

/// Checks the kernel HMAC against a known answer (the host crate's
/// `hmac_known_answer` test computes the same with an independent
/// implementation).
pub(crate) fn self_test() -> Result {
    const WANT: [u8; 32] = [
        0x19, 0x8a, 0x60, 0x7e, 0xb4, 0x4b, 0xfb, 0xc6, 0x99, 0x03, 0xa0, 0xf1, 0xcf, 0x2b, 0xbd,
        0xc5, 0xba, 0x0a, 0xa3, 0xf3, 0xd9, 0xae, 0x3c, 0x1c, 0x7a, 0x3b, 0x16, 0x96, 0xa0, 0xb6,
        0x8c, 0xf7,
    ];
    if KernelHmac.hmac(&[0x0b; 32], &[b"Hi ", b"There"]) == WANT {
        // How fast MACs are here bounds the transport's throughput: log it.
        let mut buf = KVec::new();
        buf.resize(64 * 1024, 0x5a, GFP_KERNEL)?;
        let start = super::time::now_ns();
        for _ in 0..16 {
            core::hint::black_box(KernelHmac.hmac(&[1; 32], &[&buf]));
        }
        let ns = super::time::now_ns().wrapping_sub(start).max(1);
        pr_info!(
            "HMAC-SHA256 self-test ok, {} MB/s\n",
            (16u64 << 16) * 1000 / ns
        );
        Ok(())
    } else {
        pr_err!("HMAC-SHA256 self-test failed\n");
        Err(EIO)
    }
}

/// Fills `buf` with random bytes.
pub(crate) fn random(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for `buf.len()` writable bytes.
    unsafe { shim::vproc_shim_random(buf.as_mut_ptr().cast(), buf.len()) };
}

/// Whether the calling task has CAP_SYS_ADMIN.
pub(crate) fn capable_admin() -> bool {
    // SAFETY: no preconditions; process context.
    unsafe { shim::vproc_shim_capable_admin() != 0 }
}

/// This node's load, as the kernel sees it now.
pub(crate) struct SysLoad {
    /// Running tasks (without the sampler).
    pub(crate) runnable: u32,
    /// 1-minute load average x 100.
    pub(crate) loadavg: u32,
    /// Online CPUs.
    pub(crate) cpus: u32,
    /// Free memory, KiB.
    pub(crate) free_kib: u64,
    /// Total memory, KiB.
    pub(crate) total_kib: u64,
    /// User processes with cluster-wide PIDs.
    pub(crate) vprocs: u32,
}

/// Samples the load (walks the task list under RCU).
pub(crate) fn sysload() -> SysLoad {
    let mut raw = shim::vproc_sysload {
        runnable: 0,
        loadavg: 0,
        cpus: 0,
        free_kib: 0,
        total_kib: 0,
        vprocs: 0,
    };
    // SAFETY: `raw` is valid for writes; process context.
    unsafe { shim::vproc_shim_sysload(&mut raw) };
    SysLoad {
        runnable: raw.runnable,
        loadavg: raw.loadavg,
        cpus: raw.cpus,
        free_kib: raw.free_kib,
        total_kib: raw.total_kib,
        vprocs: raw.vprocs,
    }
}
