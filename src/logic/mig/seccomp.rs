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
//!
//! Those two say the state of every thread of the process. Threads whose
//! states differ (a filter installed by one thread without
//! `SECCOMP_FILTER_FLAG_TSYNC`, strict mode, which is per thread, with
//! threads) are `[SECCOMP_THREADS, n]`, a table of `n` filters (0 to
//! [`MAX_SECCOMP_FILTERS`], as above, each once), then `count: u16` LE
//! (2 to [`MAX_THREADS`](super::MAX_THREADS)) and one entry per thread
//! (the process first, then its other threads in `Begin`'s order): `mode:
//! u8` (0, [`SECCOMP_STRICT`], [`SECCOMP_FILTER`]), `k: u8` (1 to
//! [`MAX_SECCOMP_FILTERS`] in filter mode, else 0) and `k` indices into
//! the table, its chain, oldest first.

use super::{WireError, Writer};

/// Strict mode (`SECCOMP_MODE_STRICT`).
pub const SECCOMP_STRICT: u8 = 1;
/// Filter mode (`SECCOMP_MODE_FILTER`).
pub const SECCOMP_FILTER: u8 = 2;
/// Threads with states of their own (see the module's text).
pub const SECCOMP_THREADS: u8 = 3;
/// Most filters a move carries (all threads together), and most in one
/// thread's chain.
pub const MAX_SECCOMP_FILTERS: usize = 16;
/// Most instructions, all filters together, a move carries (the kernel's
/// own limit per filter is 4096; `Begin` is one frame).
pub const MAX_SECCOMP_INSNS: usize = 2048;
/// Bytes of one instruction.
pub const SOCK_FILTER_LEN: usize = 8;
/// Filter flag: installed with `SECCOMP_FILTER_FLAG_LOG`.
pub const SECCOMP_LOG: u8 = 1;
/// Longest seccomp part of a `Begin`: the filters, and a chain for each
/// thread.
pub const SECCOMP_MAX_LEN: usize = 2
    + MAX_SECCOMP_FILTERS * 3
    + MAX_SECCOMP_INSNS * SOCK_FILTER_LEN
    + 2
    + super::MAX_THREADS as usize * (2 + MAX_SECCOMP_FILTERS);

/// One filter of a seccomp part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeccompFilter<'a> {
    /// `SECCOMP_LOG` or 0.
    pub flags: u8,
    /// Its instructions, [`SOCK_FILTER_LEN`] bytes each.
    pub prog: &'a [u8],
}

/// One thread's state in a [`SECCOMP_THREADS`] part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeccompChain<'a> {
    /// 0, [`SECCOMP_STRICT`] or [`SECCOMP_FILTER`].
    pub mode: u8,
    /// In filter mode, its filters' indices in the part's table, oldest
    /// first (empty otherwise).
    pub filters: &'a [u8],
}

/// Reads `n` filters (each checked) from `rest`, calling `each`; returns
/// what follows them.
fn filter_table<'a>(
    n: usize,
    mut rest: &'a [u8],
    each: &mut dyn FnMut(SeccompFilter<'a>),
) -> Result<&'a [u8], WireError> {
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
    Ok(rest)
}

/// The first of a list of thread entries (`mode`, `k`, `k` indices), and
/// what follows it.
fn entry(rest: &[u8]) -> Result<(SeccompChain<'_>, &[u8]), WireError> {
    let [mode, k, tail @ ..] = rest else {
        return Err(WireError::BadLength);
    };
    let (filters, tail) = tail
        .split_at_checked(usize::from(*k))
        .ok_or(WireError::BadLength)?;
    Ok((
        SeccompChain {
            mode: *mode,
            filters,
        },
        tail,
    ))
}

/// Reads the threads' chains of a [`SECCOMP_THREADS`] part whose table
/// has `n` filters (each checked), calling `each`; returns how many.
fn chain_list<'a>(
    n: usize,
    rest: &'a [u8],
    each: &mut dyn FnMut(SeccompChain<'a>),
) -> Result<usize, WireError> {
    let [c0, c1, tail @ ..] = rest else {
        return Err(WireError::BadLength);
    };
    let mut rest = tail;
    let count = usize::from(u16::from_le_bytes([*c0, *c1]));
    if !(2..=super::MAX_THREADS as usize).contains(&count) {
        return Err(WireError::BadLength);
    }
    for _ in 0..count {
        let (c, tail) = entry(rest)?;
        let k = c.filters.len();
        let ok = match c.mode {
            0 | SECCOMP_STRICT => k == 0,
            SECCOMP_FILTER => (1..=MAX_SECCOMP_FILTERS).contains(&k),
            _ => return Err(WireError::BadField),
        };
        if !ok {
            return Err(WireError::BadLength);
        }
        if c.filters.iter().any(|&i| usize::from(i) >= n) {
            return Err(WireError::BadField);
        }
        each(c);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(WireError::BadLength);
    }
    Ok(count)
}

/// Checks a seccomp part; returns its mode (0, [`SECCOMP_STRICT`],
/// [`SECCOMP_FILTER`], [`SECCOMP_THREADS`]) and calls `each` on every
/// filter, oldest first (of a [`SECCOMP_THREADS`] part: its table's).
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
            if !filter_table(n, rest, each)?.is_empty() {
                return Err(WireError::BadLength);
            }
            Ok(SECCOMP_FILTER)
        }
        [SECCOMP_THREADS, n, rest @ ..] => {
            let n = usize::from(*n);
            if n > MAX_SECCOMP_FILTERS {
                return Err(WireError::BadLength);
            }
            let rest = filter_table(n, rest, each)?;
            chain_list(n, rest, &mut |_| {})?;
            Ok(SECCOMP_THREADS)
        }
        _ => Err(WireError::BadField),
    }
}

/// The threads' chains of a seccomp part (checked as
/// [`seccomp_filters`] checks it), the process's first, each to `each`;
/// returns how many (0: not a [`SECCOMP_THREADS`] part, whose one state
/// is every thread's).
pub fn seccomp_chains<'a>(
    b: &'a [u8],
    each: &mut dyn FnMut(SeccompChain<'a>),
) -> Result<usize, WireError> {
    match seccomp_filters(b, &mut |_| {})? {
        SECCOMP_THREADS => {
            let n = usize::from(b[1]);
            let rest = filter_table(n, &b[2..], &mut |_| {})?;
            chain_list(n, rest, each)
        }
        _ => Ok(0),
    }
}

/// Filter `i` of a seccomp part's filters (a [`SECCOMP_FILTER`] part's,
/// or a [`SECCOMP_THREADS`] part's table).
pub fn seccomp_nth(b: &[u8], i: usize) -> Option<SeccompFilter<'_>> {
    let mut at = 0usize;
    let mut found = None;
    seccomp_filters(b, &mut |f| {
        if at == i {
            found = Some(f);
        }
        at += 1;
    })
    .ok()?;
    found
}

/// Where filter `f` is among the filters of `table` (a
/// [`SECCOMP_FILTER`] part; empty: none yet), if it is.
pub fn seccomp_find(table: &[u8], f: SeccompFilter<'_>) -> Option<u8> {
    let mut at = 0u8;
    let mut found = None;
    seccomp_filters(table, &mut |g| {
        if found.is_none() && g == f {
            found = Some(at);
        }
        at = at.wrapping_add(1);
    })
    .ok()?;
    found
}

/// Writes into `out` the seccomp part of a process whose threads' states
/// are `chains` (each `mode, k` and `k` indices into `table`, the
/// process's first, as a [`SECCOMP_THREADS`] part's entries) and whose
/// filters are `table` (a [`SECCOMP_FILTER`] part, each filter once;
/// empty when no thread has one). One state for every thread is written
/// as [`SECCOMP_FILTER`] (its chain in order) or [`SECCOMP_STRICT`] (with
/// no other thread: strict mode is per thread), or not at all (none);
/// any other as [`SECCOMP_THREADS`]. Returns the length; `Err` when a
/// move does not carry it.
pub fn seccomp_assemble(table: &[u8], chains: &[u8], out: &mut [u8]) -> Result<usize, WireError> {
    let n = match table {
        [] => 0,
        [SECCOMP_FILTER, n, ..] => usize::from(*n),
        _ => return Err(WireError::BadField),
    };
    let (first, mut rest) = entry(chains)?;
    let mut uniform = true;
    let mut threads = 1usize;
    while !rest.is_empty() {
        let (c, tail) = entry(rest)?;
        uniform &= c == first;
        threads += 1;
        rest = tail;
    }
    if threads > super::MAX_THREADS as usize {
        return Err(WireError::BadLength);
    }
    if uniform && (first.mode != SECCOMP_STRICT || threads == 1) {
        let mut used = 0;
        match first.mode {
            0 if first.filters.is_empty() => {}
            SECCOMP_STRICT if first.filters.is_empty() => {
                *out.first_mut().ok_or(WireError::BadLength)? = SECCOMP_STRICT;
                used = 1;
            }
            SECCOMP_FILTER if !first.filters.is_empty() && out.len() >= 2 => {
                out[0] = SECCOMP_FILTER;
                out[1] = 0;
                used = 2;
                for &i in first.filters {
                    let f = seccomp_nth(table, usize::from(i)).ok_or(WireError::BadField)?;
                    used = seccomp_push(out, used, f)?;
                }
            }
            _ => return Err(WireError::BadField),
        }
        return Ok(used);
    }
    let body = table.get(2..).unwrap_or(&[]);
    let end = 2 + body.len() + 2 + chains.len();
    if end > out.len() || end > SECCOMP_MAX_LEN {
        return Err(WireError::BadLength);
    }
    out[0] = SECCOMP_THREADS;
    out[1] = n as u8;
    out[2..2 + body.len()].copy_from_slice(body);
    // The entries, checked below as a reader checks them: a count in front.
    out[2 + body.len()..4 + body.len()].copy_from_slice(&(threads as u16).to_le_bytes());
    out[4 + body.len()..end].copy_from_slice(chains);
    // The whole, checked as a reader would.
    seccomp_filters(&out[..end], &mut |_| {})?;
    Ok(end)
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
