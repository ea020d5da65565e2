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
//!   (any write through this mm's mappings after the clear faults and sets it, and an area
//!   mapped, moved or grown since reports every page soft-dirty);
//! - the same physical page is mapped: a page dropped and faulted in
//!   again (`MADV_DONTNEED`, then a read that maps the zero page), swapped
//!   out and in, migrated or merged has another frame, and is read again;
//! - it is anonymous memory of the process: a file page (or shared
//!   memory) can be written through another mapping without a fault here;
//! - it was present (not swapped) both times;
//! - nothing else held a reference to it when pre-copy read it
//!   ([`busy_key`]): a write through a reference taken before the clear
//!   (an I/O in flight into the page: 9p's zero-copy reads, `O_DIRECT`)
//!   lands without a fault.
//!
//! Not covered, as with CRIU: a process that clears its own soft-dirty
//! bits (writing 4 to `/proc/self/clear_refs`) while it moves.
//!
//! **Rounds** (iterative pre-copy): after the first pass, the source may
//! look again while the process runs on. A round's look reads every
//! page's entry and clears the soft-dirty bits *with every thread of the
//! process stopped* (a write between the read and the clear would be
//! lost), marks each page that is not [`unchanged`] with [`DIRTY`], and
//! then sends the marked pages again (each with a new [`clean_key`] taken
//! before it is read). A page not marked keeps its key: it was not
//! written since the previous clear, and any write after this clear sets
//! its bit again. [`another_round`] says when rounds stop.

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

/// The key of a page a round found written since it was sent: never
/// [`unchanged`] (a [`clean_key`] is 0 or has [`PM_PRESENT`]), so it is
/// sent again, by the round or at the freeze.
pub const DIRTY: u64 = 1;

/// At most this many rounds after the first pass (the `precopy_rounds`
/// module parameter is clamped to it).
pub const MAX_ROUNDS: u32 = 16;

/// Left for the freeze without another round: 1 MiB, about 25-30 ms at
/// the transport's speed in the TCG guests.
pub const ROUND_ENOUGH_PAGES: u64 = 256;

/// Whether to send the `dirty` pages a round found in another round
/// (`true`) or leave them to the freeze: round `round` (1 for the first
/// look after the first pass) of at most `max`, the round before having
/// sent `prev` pages. Rounds go on while what is left is more than
/// [`ROUND_ENOUGH_PAGES`] and shrinks to at most three quarters of what
/// the round before sent: a process that writes faster than the link
/// (all it wrote again, or more) goes to the freeze at once. So the pages
/// sent in rounds are at most 3x the first pass.
pub fn another_round(round: u32, max: u32, dirty: u64, prev: u64) -> bool {
    round <= max.min(MAX_ROUNDS)
        && dirty > ROUND_ENOUGH_PAGES
        && u128::from(dirty) * 4 <= u128::from(prev) * 3
}

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

/// The key pre-copy keeps of a page it read with pagemap entry `pme`:
/// its [`clean_key`], or 0 (read it again at the freeze) when the page
/// was `busy`: it had a reference besides its mappings and the read (an
/// I/O in flight into it, as a 9p or `O_DIRECT` read's, holds one). Such
/// a write lands through that reference without a fault, so soft-dirty
/// bits cleared while it was pending never see it.
pub fn busy_key(pme: u64, busy: bool) -> u64 {
    if busy {
        0
    } else {
        clean_key(pme)
    }
}

/// Whether a page whose pre-copy [`clean_key`] is `key` has, by its
/// pagemap entry `pme` now, the content pre-copy read.
pub fn unchanged(key: u64, pme: u64) -> bool {
    key != 0 && pme & PM_SOFT_DIRTY == 0 && clean_key(pme) == key
}
