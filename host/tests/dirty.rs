//! Soft-dirty tracking at the freeze (logic::mig::dirty): a model of one
//! anonymous page under the events the kernel has for it, checking that a
//! page whose content changed since pre-copy read it is never taken as
//! unchanged.

use vproc_logic::mig::{
    another_round, busy_key, clean_key, unchanged, DIRTY, MAX_ROUNDS, PM_FILE, PM_PRESENT,
    PM_SOFT_DIRTY, PM_SWAP, ROUND_ENOUGH_PAGES,
};

/// One virtual page as the kernel keeps it.
#[derive(Clone, Copy, Debug)]
struct Page {
    /// 0: nothing mapped; else the frame.
    pfn: u64,
    swapped: bool,
    soft_dirty: bool,
    file: bool,
    content: u64,
    /// An I/O holds a reference to the mapped frame and will write it
    /// (a 9p or O_DIRECT read in flight).
    pinned: bool,
}

const ZERO_PFN: u64 = 7;

impl Page {
    fn pme(&self) -> u64 {
        let mut e = 0;
        if self.swapped {
            e |= PM_SWAP | 0x1234;
        } else if self.pfn != 0 {
            e |= PM_PRESENT | self.pfn;
        }
        if self.soft_dirty {
            e |= PM_SOFT_DIRTY;
        }
        if self.file {
            e |= PM_FILE;
        }
        e
    }
}

/// What can happen to the page (the kernel's side of each).
#[derive(Clone, Copy, Debug)]
enum Ev {
    /// A write: a fault on a clean page sets soft-dirty (a COW gives a new frame).
    Write(bool),
    /// MADV_DONTNEED: unmapped, content zero.
    DontNeed,
    /// A read fault on an unmapped page: the zero page (not soft-dirty).
    ReadFault,
    /// Swapped out (the swap entry keeps soft-dirty), then in (new frame).
    SwapOut,
    SwapIn,
    /// Compaction or NUMA: another frame, same content and bits.
    Migrate,
    /// KSM merge: another frame, same content, write-protected.
    Merge,
    /// A read: nothing changes.
    Read,
    /// An I/O takes a reference to the page to write it later (GUP for
    /// writing: a fault that sets soft-dirty, as a write's).
    Pin,
    /// That I/O writes the frame: no fault, no soft-dirty, same frame.
    PinnedWrite,
}

const EVENTS: [Ev; 11] = [
    Ev::Write(false),
    Ev::Write(true),
    Ev::DontNeed,
    Ev::ReadFault,
    Ev::SwapOut,
    Ev::SwapIn,
    Ev::Migrate,
    Ev::Merge,
    Ev::Read,
    Ev::Pin,
    Ev::PinnedWrite,
];

fn apply(p: &mut Page, e: Ev, next_pfn: &mut u64, next_content: &mut u64) {
    let mut fresh = || {
        *next_pfn += 1;
        *next_pfn
    };
    match e {
        Ev::Write(cow) => {
            if p.swapped {
                p.swapped = false;
                p.pfn = fresh();
            }
            if p.pfn == 0 || p.pfn == ZERO_PFN || cow {
                p.pfn = fresh();
                // The I/O writes the old frame, no longer mapped.
                p.pinned = false;
            }
            *next_content += 1;
            p.content = *next_content;
            p.soft_dirty = true;
        }
        Ev::DontNeed => {
            p.pfn = 0;
            p.swapped = false;
            p.content = 0;
            p.pinned = false;
        }
        Ev::ReadFault => {
            if p.pfn == 0 && !p.swapped {
                p.pfn = ZERO_PFN;
            }
        }
        // (A page with an extra reference is neither swapped out, nor
        // migrated, nor merged.)
        Ev::SwapOut => {
            if p.pfn != 0 && p.pfn != ZERO_PFN && !p.pinned {
                p.pfn = 0;
                p.swapped = true;
            }
        }
        Ev::SwapIn => {
            if p.swapped {
                p.swapped = false;
                p.pfn = fresh();
            }
        }
        Ev::Migrate | Ev::Merge => {
            if p.pfn != 0 && p.pfn != ZERO_PFN && !p.pinned {
                p.pfn = fresh();
            }
        }
        Ev::Read => {}
        Ev::Pin => {
            if p.swapped {
                p.swapped = false;
                p.pfn = fresh();
            }
            if p.pfn == 0 || p.pfn == ZERO_PFN {
                p.pfn = fresh();
            }
            p.soft_dirty = true;
            p.pinned = true;
        }
        Ev::PinnedWrite => {
            if p.pinned {
                *next_content += 1;
                p.content = *next_content;
                p.pinned = false;
            }
        }
    }
}

/// Every sequence of up to 4 events before the key (pre-copy's read) and
/// up to 4 after: `unchanged` only when the content is the one read.
#[test]
fn unchanged_means_unchanged() {
    let n = EVENTS.len();
    let mut checked = 0u64;
    let mut trusted = 0u64;
    // Without busy_key (the frame's key alone): cases that would be wrong.
    let mut missed = 0u64;
    for file in [false, true] {
        for before in 0..n.pow(3) {
            for after in 0..n.pow(4) {
                let mut p = Page {
                    pfn: 0,
                    swapped: false,
                    soft_dirty: true,
                    file,
                    content: 0,
                    pinned: false,
                };
                let (mut next_pfn, mut next_content) = (100u64, 0u64);
                let mut b = before;
                for _ in 0..3 {
                    apply(&mut p, EVENTS[b % n], &mut next_pfn, &mut next_content);
                    b /= n;
                }
                // The move: clear soft-dirty, then key, then read (which
                // sees whether another reference is held).
                p.soft_dirty = false;
                let key = busy_key(p.pme(), p.pinned);
                let bare = clean_key(p.pme());
                let read = p.content;
                let mut a = after;
                for _ in 0..4 {
                    apply(&mut p, EVENTS[a % n], &mut next_pfn, &mut next_content);
                    a /= n;
                }
                checked += 1;
                if unchanged(key, p.pme()) {
                    trusted += 1;
                    assert_eq!(p.content, read, "{p:?} before {before} after {after}");
                }
                if unchanged(bare, p.pme()) && p.content != read {
                    missed += 1;
                }
            }
        }
    }
    // The shortcut is taken (else it gains nothing): a present page that
    // is only read after the key (9^3 pasts, most of which leave it
    // present) is trusted.
    assert!(trusted >= 1000, "{trusted} of {checked}");
    // The model can fail: a page pinned before the clear and written
    // through the pin after the read would be trusted by its frame alone.
    assert!(missed > 0, "the pinned write is not modelled");
    println!("trusted {trusted} of {checked}; the frame alone would miss {missed}");
}

#[test]
fn keys() {
    assert_eq!(clean_key(0), 0);
    assert_eq!(clean_key(PM_PRESENT), 0, "no frame shown");
    assert_eq!(clean_key(PM_PRESENT | 5), PM_PRESENT | 5);
    assert_eq!(clean_key(PM_PRESENT | PM_SOFT_DIRTY | 5), PM_PRESENT | 5);
    assert_eq!(clean_key(PM_PRESENT | PM_FILE | 5), 0);
    assert_eq!(clean_key(PM_SWAP | 5), 0);
    assert!(unchanged(PM_PRESENT | 5, PM_PRESENT | 5));
    assert!(!unchanged(PM_PRESENT | 5, PM_PRESENT | PM_SOFT_DIRTY | 5));
    assert!(!unchanged(PM_PRESENT | 5, PM_PRESENT | 6));
    assert!(!unchanged(0, 0));
    assert!(!unchanged(0, PM_PRESENT | 5));
}

/// Rounds (iterative pre-copy): the first pass (clear, key, read), events,
/// a round's look with the process stopped (not unchanged: marked DIRTY;
/// then the bits cleared), events, the round's resend of a marked page
/// (key, then read), events, a second round, events, and the freeze:
/// every page the freeze trusts has the content last sent of it. `next`
/// gives the event index for each of the 5 gaps' `per_gap` events.
fn rounds_case(file: bool, per_gap: usize, next: &mut dyn FnMut() -> usize) -> (bool, bool) {
    let mut p = Page {
        pfn: 0,
        swapped: false,
        soft_dirty: true,
        file,
        content: 0,
        pinned: false,
    };
    let (mut np, mut nc) = (100u64, 0u64);
    apply(&mut p, Ev::Write(false), &mut np, &mut nc);
    let mut events = |p: &mut Page, np: &mut u64, nc: &mut u64| {
        for _ in 0..per_gap {
            apply(p, EVENTS[next()], np, nc);
        }
    };
    p.soft_dirty = false;
    let mut key = busy_key(p.pme(), p.pinned);
    let mut sent = p.content;
    for _ in 0..2 {
        events(&mut p, &mut np, &mut nc);
        // The look, every thread stopped: nothing between these.
        if !unchanged(key, p.pme()) {
            key = DIRTY;
        }
        p.soft_dirty = false;
        events(&mut p, &mut np, &mut nc);
        if key == DIRTY && p.pfn != 0 && !p.swapped {
            key = busy_key(p.pme(), p.pinned);
            sent = p.content;
        }
    }
    events(&mut p, &mut np, &mut nc);
    let trusted = unchanged(key, p.pme());
    (trusted, !trusted || p.content == sent)
}

/// Every sequence of one event per gap, and 300,000 random sequences of
/// three per gap.
#[test]
fn rounds_never_trust_a_written_page() {
    let n = EVENTS.len();
    let (mut checked, mut trusted) = (0u64, 0u64);
    for file in [false, true] {
        for seq in 0..n.pow(5) {
            let mut s = seq;
            let mut next = || {
                let e = s % n;
                s /= n;
                e
            };
            let (t, ok) = rounds_case(file, 1, &mut next);
            assert!(ok, "file {file} events {seq}");
            checked += 1;
            trusted += u64::from(t);
        }
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..300_000u64 {
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let (t, ok) = rounds_case(i % 2 == 1, 3, &mut next);
        assert!(ok, "random case {i}");
        checked += 1;
        trusted += u64::from(t);
    }
    assert!(trusted >= 10_000, "{trusted} of {checked}");
    println!("trusted {trusted} of {checked}");
}

/// A look that is not atomic (a write between reading the bits and
/// clearing them) would trust a written page: why a round stops the
/// process.
#[test]
fn a_look_without_the_stop_loses_a_write() {
    let (mut next_pfn, mut next_content) = (100u64, 0u64);
    let mut p = Page {
        pfn: 0,
        swapped: false,
        soft_dirty: true,
        file: false,
        content: 0,
        pinned: false,
    };
    apply(&mut p, Ev::Write(false), &mut next_pfn, &mut next_content);
    p.soft_dirty = false;
    let key = clean_key(p.pme());
    let sent = p.content;
    // The look reads the entry: clean.
    assert!(unchanged(key, p.pme()));
    // The process writes before the clear...
    apply(&mut p, Ev::Write(false), &mut next_pfn, &mut next_content);
    p.soft_dirty = false;
    // ...and the freeze would trust it.
    assert!(unchanged(key, p.pme()));
    assert_ne!(p.content, sent);
}

#[test]
fn dirty_is_never_unchanged() {
    for pme in [
        0,
        DIRTY,
        PM_PRESENT | DIRTY,
        PM_PRESENT | 5,
        PM_SWAP | 1,
        u64::MAX,
    ] {
        assert!(!unchanged(DIRTY, pme), "{pme:#x}");
        assert_ne!(clean_key(pme), DIRTY, "{pme:#x}");
    }
}

#[test]
fn rounds_stop() {
    let e = ROUND_ENOUGH_PAGES;
    // Shrinking to at most 3/4 and more than enough: another round.
    assert!(another_round(1, 8, 3000, 16384));
    assert!(another_round(1, 8, 12288, 16384));
    assert!(!another_round(1, 8, 12289, 16384), "not shrinking enough");
    // Written as fast as it was sent (a continuous writer): the freeze.
    assert!(!another_round(1, 8, 16384, 16384));
    assert!(!another_round(1, 8, 20000, 16384));
    // Little left: the freeze.
    assert!(!another_round(1, 8, e, 16384));
    assert!(another_round(1, 8, e + 1, 16384));
    // Out of rounds; 0 rounds: the first pass only, as before.
    assert!(another_round(8, 8, 3000, 16384));
    assert!(!another_round(9, 8, 3000, 16384));
    assert!(!another_round(1, 0, 3000, 16384));
    assert!(!another_round(MAX_ROUNDS + 1, u32::MAX, 3000, 16384));
    // No overflow at the extremes.
    assert!(!another_round(1, 8, u64::MAX, u64::MAX));
    assert!(another_round(1, 8, u64::MAX / 2, u64::MAX));
}

/// Pages sent by rounds stay within 3x the first pass, whatever the
/// process writes.
#[test]
fn rounds_send_at_most_three_times_the_first_pass() {
    for first in [300u64, 1000, 16384, 65536, 1 << 20] {
        for pct in [0u64, 10, 50, 74, 75, 76, 100] {
            let (mut prev, mut total, mut round) = (first, 0u64, 1u32);
            loop {
                let dirty = prev * pct / 100;
                if !another_round(round, MAX_ROUNDS, dirty, prev) {
                    break;
                }
                total += dirty;
                prev = dirty;
                round += 1;
            }
            assert!(total <= 3 * first, "{first} {pct}%: {total}");
            assert!(round <= MAX_ROUNDS + 1);
        }
    }
}
