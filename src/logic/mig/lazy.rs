// SPDX-License-Identifier: GPL-2.0

//! Post-copy (issue 18): what a freeze leaves for after Go.
//!
//! A process that rewrites its memory faster than the link carries it
//! cannot be pre-copied to a small remainder: rounds stop converging and
//! the freeze would send all it wrote. Such a freeze sends only the
//! layout, the task and the pages that are cheap (none at all of those
//! written since pre-copy read them); the others are named in `Commit`
//! as **lazy runs** (start address, page count), and the destination
//! drops its stale copies of them before the process runs. After Go the
//! source sends them (`LazyData`, the `Data` format), and the destination
//! asks first for those the process touches (`LazyReq`); a userfaultfd
//! holds each touching thread until its page is in. The source keeps the
//! process's memory until the destination says it has every page
//! (`LazyDone`), or is gone.
//!
//! | kind     | direction     | body                          |
//! |----------|---------------|-------------------------------|
//! | LazyData | source -> dest | as `Data` (mig id, seq, runs) |
//! | LazyReq  | dest -> source | mig id, address, pages        |
//! | LazyDone | dest -> source | mig id                        |
//!
//! Only private anonymous memory is left lazy (what a userfaultfd can
//! fill); the rest is sent at the freeze as before.

use super::{Reader, WireError, Writer, PAGE, TASK_SIZE};

/// Bytes of one lazy run in `Commit`: start (u64), pages (u32).
pub const LAZY_RUN_LEN: usize = 12;
/// Most lazy runs one `Commit` names (a process with more scattered
/// pages to send is frozen as before). 384 KiB of runs; the largest
/// `Commit` stays under one joined request (`commit.rs` checks).
pub const MAX_LAZY_RUNS: u32 = 32768;
/// The fewest pages worth leaving lazy: below this (4 MiB, about 0.1 s
/// of the link in the TCG guests) the freeze sends them itself.
pub const LAZY_MIN_PAGES: u64 = 1024;
/// Most pages one `LazyReq` asks for.
pub const LAZY_REQ_MAX_PAGES: u32 = 256;
/// Bytes of a `LazyReq` body.
pub const LAZY_REQ_LEN: usize = 20;

/// Whether a freeze that would read `pages` pages again (written since
/// pre-copy sent them, or new) leaves them lazy: post-copy on
/// (`enabled`), the destination not the process's deputy (a move home is
/// rebuilt inside its deputy, with no restorer to fault pages in), and
/// enough of them to be worth a freeze that does not send them.
pub fn lazy_worth(enabled: bool, to_deputy: bool, pages: u64) -> bool {
    enabled && !to_deputy && pages >= LAZY_MIN_PAGES
}

/// One run of lazy pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LazyRun {
    /// First page's address.
    pub start: u64,
    /// Pages.
    pub pages: u32,
}

impl LazyRun {
    /// One past its last byte.
    pub fn end(&self) -> u64 {
        self.start + u64::from(self.pages) * PAGE as u64
    }
}

/// Appends page `addr` to `runs` (encoded, [`LAZY_RUN_LEN`] each): it
/// extends the last run when it follows it. Pages must come in rising
/// order. `Ok(false)`: a new run would be over [`MAX_LAZY_RUNS`].
pub fn lazy_push(runs: &mut [u8], used: &mut usize, addr: u64) -> Result<bool, WireError> {
    if !addr.is_multiple_of(PAGE as u64) || addr >= TASK_SIZE {
        return Err(WireError::BadField);
    }
    if *used >= LAZY_RUN_LEN {
        let last = *used - LAZY_RUN_LEN;
        let r = read_run_at(&runs[last..*used])?;
        if addr == r.end() && r.pages < u32::MAX {
            runs[last + 8..last + 12].copy_from_slice(&(r.pages + 1).to_le_bytes());
            return Ok(true);
        }
        if addr < r.end() {
            return Err(WireError::BadField);
        }
    }
    if *used + LAZY_RUN_LEN > runs.len() || *used / LAZY_RUN_LEN >= MAX_LAZY_RUNS as usize {
        return Ok(false);
    }
    runs[*used..*used + 8].copy_from_slice(&addr.to_le_bytes());
    runs[*used + 8..*used + 12].copy_from_slice(&1u32.to_le_bytes());
    *used += LAZY_RUN_LEN;
    Ok(true)
}

fn read_run_at(b: &[u8]) -> Result<LazyRun, WireError> {
    let mut r = Reader::new(b);
    Ok(LazyRun {
        start: r.u64()?,
        pages: r.u32()?,
    })
}

/// Validates encoded lazy runs as a peer sent them: each page-aligned,
/// of at least one page, inside user space, in rising order without
/// overlap, at most [`MAX_LAZY_RUNS`]. Returns their pages.
pub fn check_lazy(runs: &[u8]) -> Result<u64, WireError> {
    if !runs.len().is_multiple_of(LAZY_RUN_LEN)
        || runs.len() / LAZY_RUN_LEN > MAX_LAZY_RUNS as usize
    {
        return Err(WireError::BadLength);
    }
    let mut prev_end = 0u64;
    let mut total = 0u64;
    for c in runs.chunks_exact(LAZY_RUN_LEN) {
        let r = read_run_at(c)?;
        let len = u64::from(r.pages)
            .checked_mul(PAGE as u64)
            .ok_or(WireError::BadField)?;
        if r.pages == 0
            || !r.start.is_multiple_of(PAGE as u64)
            || r.start < prev_end
            || r.start.checked_add(len).is_none_or(|e| e > TASK_SIZE)
        {
            return Err(WireError::BadField);
        }
        prev_end = r.start + len;
        total += u64::from(r.pages);
    }
    Ok(total)
}

/// The runs of checked bytes ([`check_lazy`] first).
pub fn lazy_runs(runs: &[u8]) -> impl Iterator<Item = LazyRun> + '_ {
    runs.chunks_exact(LAZY_RUN_LEN)
        .filter_map(|c| read_run_at(c).ok())
}

/// A `LazyReq`: pages `pages` from `addr` of migration `mig`, wanted now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LazyReq {
    /// Migration id.
    pub mig: u64,
    /// First page's address.
    pub addr: u64,
    /// Pages, 1..=[`LAZY_REQ_MAX_PAGES`].
    pub pages: u32,
}

/// Writes a `LazyReq` body.
pub fn write_lazy_req(w: &mut Writer<'_>, q: &LazyReq) -> Result<(), WireError> {
    w.u64(q.mig)?;
    w.u64(q.addr)?;
    w.u32(q.pages)
}

/// Reads and validates a `LazyReq` body.
pub fn read_lazy_req(r: &mut Reader<'_>) -> Result<LazyReq, WireError> {
    let q = LazyReq {
        mig: r.u64()?,
        addr: r.u64()?,
        pages: r.u32()?,
    };
    r.end()?;
    if q.pages == 0
        || q.pages > LAZY_REQ_MAX_PAGES
        || !q.addr.is_multiple_of(PAGE as u64)
        || q.addr
            .checked_add(u64::from(q.pages) * PAGE as u64)
            .is_none_or(|e| e > TASK_SIZE)
    {
        return Err(WireError::BadField);
    }
    Ok(q)
}

/// Where source address `a` of a lazy page is now, after the process's
/// `mremap()`s `remaps` (from, to, length; in the order they were made).
pub fn remapped(remaps: &[(u64, u64, u64)], mut a: u64) -> u64 {
    for &(from, to, len) in remaps {
        if a >= from && a - from < len {
            a = to + (a - from);
        }
    }
    a
}

/// Which source address the page now at `a` came from (the inverse of
/// [`remapped`]: the remaps undone newest first).
pub fn unremapped(remaps: &[(u64, u64, u64)], mut a: u64) -> u64 {
    for &(from, to, len) in remaps.iter().rev() {
        if a >= to && a - to < len {
            a = from + (a - to);
        }
    }
    a
}

/// Where the `len` bytes at source address `start` are now, after
/// `remaps`, if they moved (or stayed) in one piece; `None` when a remap
/// took part of them only (then [`remapped`] page by page).
pub fn placed(remaps: &[(u64, u64, u64)], start: u64, len: u64) -> Option<u64> {
    let mut a = start;
    for &(from, to, l) in remaps {
        let (f_end, a_end) = (from.saturating_add(l), a.saturating_add(len));
        if a_end <= from || a >= f_end {
            continue;
        }
        if a >= from && a_end <= f_end {
            a = to + (a - from);
        } else {
            return None;
        }
    }
    Some(a)
}
