// SPDX-License-Identifier: GPL-2.0

//! A process's seccomp state as `Begin` carries it: strict mode, or its
//! filters (classic BPF programs, oldest first), which the destination's
//! restorer installs again in that order before the process is handed
//! over (as CRIU's restorer does), so that it arrives with exactly the
//! rules it had: never fewer.
//!
//! The bytes (empty: no seccomp):
//! - `[SECCOMP_STRICT]`;
//! - `[SECCOMP_FILTER, n]` then `n` filters, each `flags: u8` (bit 0:
//!   `SECCOMP_FILTER_FLAG_LOG`), `len: u16` LE (instructions), and `len`
//!   instructions of 8 bytes (`struct sock_filter`: code u16, jt u8, jf
//!   u8, k u32; little-endian, as the kernel holds them on x86-64).

use super::{WireError, Writer};

/// Strict mode (`SECCOMP_MODE_STRICT`).
pub const SECCOMP_STRICT: u8 = 1;
/// Filter mode (`SECCOMP_MODE_FILTER`).
pub const SECCOMP_FILTER: u8 = 2;
/// Most filters a move carries.
pub const MAX_SECCOMP_FILTERS: usize = 16;
/// Most instructions, all filters together, a move carries (the kernel's
/// own limit per filter is 4096; `Begin` is one frame).
pub const MAX_SECCOMP_INSNS: usize = 2048;
/// Bytes of one instruction.
pub const SOCK_FILTER_LEN: usize = 8;
/// Filter flag: installed with `SECCOMP_FILTER_FLAG_LOG`.
pub const SECCOMP_LOG: u8 = 1;
/// Longest seccomp part of a `Begin`.
pub const SECCOMP_MAX_LEN: usize =
    2 + MAX_SECCOMP_FILTERS * 3 + MAX_SECCOMP_INSNS * SOCK_FILTER_LEN;

/// One filter of a seccomp part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeccompFilter<'a> {
    /// `SECCOMP_LOG` or 0.
    pub flags: u8,
    /// Its instructions, [`SOCK_FILTER_LEN`] bytes each.
    pub prog: &'a [u8],
}

/// Checks a seccomp part; returns its mode (0, [`SECCOMP_STRICT`],
/// [`SECCOMP_FILTER`]) and calls `each` on every filter, oldest first.
pub fn seccomp_filters<'a>(
    b: &'a [u8],
    each: &mut dyn FnMut(SeccompFilter<'a>),
) -> Result<u8, WireError> {
    match b {
        [] => Ok(0),
        [SECCOMP_STRICT] => Ok(SECCOMP_STRICT),
        [SECCOMP_FILTER, n, rest @ ..] => {
            let n = usize::from(*n);
            if n == 0 || n > MAX_SECCOMP_FILTERS {
                return Err(WireError::BadLength);
            }
            let mut rest = rest;
            let mut insns = 0usize;
            for _ in 0..n {
                let [flags, l0, l1, tail @ ..] = rest else {
                    return Err(WireError::BadLength);
                };
                let len = usize::from(u16::from_le_bytes([*l0, *l1]));
                insns += len;
                if len == 0 || insns > MAX_SECCOMP_INSNS {
                    return Err(WireError::BadLength);
                }
                if flags & !SECCOMP_LOG != 0 {
                    return Err(WireError::BadField);
                }
                let bytes = len * SOCK_FILTER_LEN;
                if tail.len() < bytes {
                    return Err(WireError::BadLength);
                }
                let (prog, tail) = tail.split_at(bytes);
                each(SeccompFilter {
                    flags: *flags,
                    prog,
                });
                rest = tail;
            }
            if !rest.is_empty() {
                return Err(WireError::BadLength);
            }
            Ok(SECCOMP_FILTER)
        }
        _ => Err(WireError::BadField),
    }
}

/// Appends filter `f` to a seccomp part being built in `out` (whose
/// first `used` bytes are `[SECCOMP_FILTER, n]` and `n` filters): what
/// [`seccomp_filters`] reads. Returns the new length; `Err` when the
/// filters would exceed what a move carries.
pub fn seccomp_push(out: &mut [u8], used: usize, f: SeccompFilter<'_>) -> Result<usize, WireError> {
    let len = f.prog.len() / SOCK_FILTER_LEN;
    let (Some(&SECCOMP_FILTER), Some(&n)) = (out.first(), out.get(1)) else {
        return Err(WireError::BadField);
    };
    if used < 2
        || f.prog.is_empty()
        || !f.prog.len().is_multiple_of(SOCK_FILTER_LEN)
        || f.flags & !SECCOMP_LOG != 0
    {
        return Err(WireError::BadField);
    }
    if usize::from(n) >= MAX_SECCOMP_FILTERS || len > MAX_SECCOMP_INSNS {
        return Err(WireError::BadLength);
    }
    let tail = out.get_mut(used..).ok_or(WireError::BadLength)?;
    let mut w = Writer::new(tail);
    w.u8(f.flags)?;
    w.u16(len as u16)?;
    w.bytes(f.prog)?;
    let end = used + w.len();
    if let Some(c) = out.get_mut(1) {
        *c = n + 1;
    }
    // The total, checked as a reader would.
    let whole = out.get(..end).ok_or(WireError::BadLength)?;
    seccomp_filters(whole, &mut |_| {})?;
    Ok(end)
}
