// SPDX-License-Identifier: GPL-2.0

//! HMAC-SHA256 (the kernel's lib/crypto) and randomness, and a system-load
//! sampler and capability check that live with them in the shim.

use super::shim;
use crate::logic::wire::Hmac;
use kernel::prelude::*;

// Shared with the C side (rust/shim.h), which counts cluster processes.
const _: () = assert!(shim::VPROC_PID_NODE_SHIFT == crate::logic::pid::NODE_SHIFT);

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

/// RFC 5869 test case 1 (HKDF-SHA256) through the kernel's HMAC: the host
/// crate's `rfc5869_case_1` runs the same code over RustCrypto's HMAC. It
/// also shows that the kernel pads a salt shorter than 32 bytes as HMAC
/// must (the case's salt is 13 bytes).
fn hkdf_self_test() -> bool {
    use crate::logic::hkdf;
    const SALT: [u8; 13] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const INFO: [u8; 10] = [0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9];
    const WANT: [u8; 42] = [
        0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36, 0x2f,
        0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4,
        0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65,
    ];
    let mut okm = [0u8; 42];
    hkdf::extract(&KernelHmac, &SALT, &[0x0b; 22])
        .and_then(|prk| hkdf::expand(&KernelHmac, &prk, &[&INFO], &mut okm))
        .is_ok()
        && okm == WANT
}

/// RFC 8439's Poly1305 example, through the module's build of
/// `logic::poly1305` (the host crate checks the same code against OpenSSL).
fn poly1305_self_test() -> bool {
    const KEY: [u8; 32] = [
        0x85, 0xd6, 0xbe, 0x78, 0x57, 0x55, 0x6d, 0x33, 0x7f, 0x44, 0x52, 0xfe, 0x42, 0xd5, 0x06,
        0xa8, 0x01, 0x03, 0x80, 0x8a, 0xfb, 0x0d, 0xb2, 0xfd, 0x4a, 0xbf, 0xf6, 0xaf, 0x41, 0x49,
        0xf5, 0x1b,
    ];
    const WANT: [u8; 16] = [
        0xa8, 0x06, 0x1d, 0xc1, 0x30, 0x51, 0x36, 0xc6, 0xc2, 0x2b, 0x8b, 0xaf, 0x0c, 0x01, 0x27,
        0xa9,
    ];
    crate::logic::poly1305::tag(&KEY, &[b"Cryptographic ", b"Forum Research Group"]) == WANT
}

/// Checks the kernel HMAC against a known answer (the host crate's
/// `hmac_known_answer` test computes the same with an independent
/// implementation), and HKDF over it.
pub(crate) fn self_test() -> Result {
    if !hkdf_self_test() {
        pr_err!("HKDF-SHA256 self-test (RFC 5869 case 1) failed\n");
        return Err(EIO);
    }
    const WANT: [u8; 32] = [
        0x19, 0x8a, 0x60, 0x7e, 0xb4, 0x4b, 0xfb, 0xc6, 0x99, 0x03, 0xa0, 0xf1, 0xcf, 0x2b, 0xbd,
        0xc5, 0xba, 0x0a, 0xa3, 0xf3, 0xd9, 0xae, 0x3c, 0x1c, 0x7a, 0x3b, 0x16, 0x96, 0xa0, 0xb6,
        0x8c, 0xf7,
    ];
    if !poly1305_self_test() {
        pr_err!("Poly1305 self-test (RFC 8439 section 2.5.2) failed\n");
        return Err(EIO);
    }
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
            "HMAC-SHA256 and Poly1305 self-tests ok: HMAC {} MB/s, the transport's MAC {} MB/s\n",
            (16u64 << 16) * 1000 / ns,
            frame_mac_mb_s(16, &buf)?
        );
        Ok(())
    } else {
        pr_err!("HMAC-SHA256 self-test failed\n");
        Err(EIO)
    }
}

/// MB/s of MACing `frames` session frames of payload `payload` as the
/// transport does (`wire::frame_mac`: a one-time key by HMAC-SHA256 over the
/// sequence, then Poly1305 over header and payload). The division stays
/// here, beside the `max(1)` that keeps it from dividing by zero: divided
/// in a caller, the compiler kept a div-by-zero panic whose name objtool
/// does not know as noreturn ("falls through to next function").
fn frame_mac_mb_s(frames: u32, payload: &[u8]) -> Result<u64> {
    use crate::logic::wire::{frame_mac, Header, MsgType, FIRST_SESSION_SEQ};
    let start = super::time::now_ns();
    for i in 0..u64::from(frames) {
        let hdr = Header::new(MsgType::Data, payload.len(), FIRST_SESSION_SEQ + i)
            .map_err(|_| EINVAL)?
            .encode();
        core::hint::black_box(frame_mac(&KernelHmac, &[1; 32], &hdr, payload));
    }
    let ns = super::time::now_ns().wrapping_sub(start).max(1);
    let bytes = u64::from(frames).saturating_mul(payload.len() as u64);
    Ok(bytes.saturating_mul(1000) / ns)
}

/// Issue 18's crypto figures: each authenticated construction the kernel
/// offers, over `frames` frames of the transport's size (64 KiB), in MB/s;
/// `emit(name, Ok(mb_s))`, or `Err(errno)` when this kernel lacks it.
pub(crate) fn bench(
    frames: u32,
    emit: &mut dyn FnMut(&str, core::result::Result<u64, i32>),
) -> Result {
    const LEN: usize = 64 * 1024;
    // Room for an AEAD's tag after the frame; kmalloc'ed (a scatterlist).
    let mut buf = KVec::new();
    buf.resize(LEN + 16, 0x5a, GFP_KERNEL)?;
    emit(
        "poly1305, key by hmac-sha256 each frame (the transport's MAC)",
        Ok(frame_mac_mb_s(frames, &buf[..LEN])?),
    );
    for which in 0..shim::VPROC_CRYPTO_N {
        let mut name: *const u8 = core::ptr::null();
        // SAFETY: `buf` holds LEN + 16 writable bytes of kmalloc'ed memory;
        // `name` is written with a pointer to a static C string.
        let ns = unsafe {
            shim::vproc_shim_crypto_bench(which, buf.as_mut_ptr(), LEN, frames, &mut name)
        };
        let name = if name.is_null() {
            "?"
        } else {
            // SAFETY: the shim's names are static NUL-terminated strings.
            unsafe { CStr::from_char_ptr(name) }.to_str().unwrap_or("?")
        };
        let r = if ns < 0 {
            Err(i32::try_from(ns).unwrap_or(-22))
        } else {
            Ok((u64::from(frames) * LEN as u64 * 1000) / (ns as u64).max(1))
        };
        emit(name, r);
    }
    Ok(())
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
