// SPDX-License-Identifier: GPL-2.0

//! Which pages a process wrote since pre-copy read them, from soft-dirty
//! bits (as CRIU's pre-dump): the source clears the process's soft-dirty
//! bits before pre-copy, remembers each page's pagemap entry (taken just
//! before reading the page) as a [`clean_key`], and at the freeze reads
//! only the pages that are not [`unchanged`]; the others were sent and
//! are what the destination has.
//!
//! A page is unchanged only when all of these hold, so that no write is
//! missed:
//! - its soft-dirty bit is still clear: no write fault since the clear
//!   (any write to a page after the clear faults and sets it, and an area
//!   mapped, moved or grown since reports every page soft-dirty);
//! - the same physical page is mapped: a page dropped and faulted in
//!   again (`MADV_DONTNEED`, then a read that maps the zero page), swapped
//!   out and in, migrated or merged has another frame, and is read again;
//! - it is anonymous memory of the process: a file page (or shared
//!   memory) can be written through another mapping without a fault here;
//! - it was present (not swapped) both times.
//!
//! Not covered, as with CRIU: a process that clears its own soft-dirty
//! bits (writing 4 to `/proc/self/clear_refs`) while it moves.

/// Pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
pub const PM_PRESENT: u64 = 1 << 63;
/// The page is swapped out.
pub const PM_SWAP: u64 = 1 << 62;
/// A file page or shared anonymous memory.
pub const PM_FILE: u64 = 1 << 61;
/// Written since the soft-dirty bits were cleared.
pub const PM_SOFT_DIRTY: u64 = 1 << 55;
/// The page frame number (present pages).
pub const PM_PFN_MASK: u64 = (1 << 55) - 1;

/// What pre-copy remembers of a page from its pagemap entry `pme`, taken
/// before reading it: its frame (with [`PM_PRESENT`]), or 0 when the
/// entry cannot vouch for the page later (absent, swapped, a file page).
pub fn clean_key(pme: u64) -> u64 {
    if pme & PM_PRESENT != 0 && pme & (PM_SWAP | PM_FILE) == 0 && pme & PM_PFN_MASK != 0 {
        PM_PRESENT | (pme & PM_PFN_MASK)
    } else {
        0
    }
}

/// Whether a page whose pre-copy [`clean_key`] is `key` has, by its
/// pagemap entry `pme` now, the content pre-copy read.
pub fn unchanged(key: u64, pme: u64) -> bool {
    key != 0 && pme & PM_SOFT_DIRTY == 0 && clean_key(pme) == key
}
