// SPDX-License-Identifier: GPL-2.0
//! Post-copy's pure parts: lazy runs in `Commit`, `LazyReq`, remaps.

use vproc_logic::mig::*;

fn runs_of(addrs: &[u64], cap: usize) -> (Vec<u8>, usize, bool) {
    let mut b = vec![0u8; cap];
    let mut used = 0;
    for &a in addrs {
        if !lazy_push(&mut b, &mut used, a).unwrap() {
            return (b, used, false);
        }
    }
    (b, used, true)
}

#[test]
fn pages_gather_into_runs() {
    let (b, used, ok) = runs_of(&[0x1000, 0x2000, 0x3000, 0x8000, 0x9000], 1024);
    assert!(ok);
    assert_eq!(used, 2 * LAZY_RUN_LEN);
    let runs: Vec<_> = lazy_runs(&b[..used]).collect();
    assert_eq!(
        runs,
        vec![
            LazyRun {
                start: 0x1000,
                pages: 3
            },
            LazyRun {
                start: 0x8000,
                pages: 2
            }
        ]
    );
    assert_eq!(runs[0].end(), 0x4000);
    assert_eq!(check_lazy(&b[..used]).unwrap(), 5);
    // Out of order, unaligned, or out of user space: refused.
    let mut used2 = used;
    assert!(lazy_push(&mut b.clone(), &mut used2, 0x2000).is_err());
    assert!(lazy_push(&mut b.clone(), &mut used2, 0xa001).is_err());
    assert!(lazy_push(&mut b.clone(), &mut used2, TASK_SIZE).is_err());
    // No room for another run: Ok(false), nothing written.
    let (_, used, ok) = runs_of(&[0x1000, 0x3000], LAZY_RUN_LEN);
    assert!(!ok);
    assert_eq!(used, LAZY_RUN_LEN);
}

#[test]
fn bad_runs_from_a_peer_are_refused() {
    let run = |start: u64, pages: u32| {
        let mut v = start.to_le_bytes().to_vec();
        v.extend_from_slice(&pages.to_le_bytes());
        v
    };
    assert!(check_lazy(&run(0x1000, 0)).is_err());
    assert!(check_lazy(&run(0x1001, 1)).is_err());
    assert!(check_lazy(&run(TASK_SIZE - 0x1000, 2)).is_err());
    assert!(check_lazy(&run(0x1000, u32::MAX)).is_ok());
    assert!(check_lazy(&run(!0xfffu64, 1)).is_err());
    let mut two = run(0x5000, 2);
    two.extend(run(0x6000, 1)); // overlaps the first
    assert!(check_lazy(&two).is_err());
    let mut two = run(0x5000, 2);
    two.extend(run(0x7000, 1));
    assert_eq!(check_lazy(&two).unwrap(), 3);
    assert!(check_lazy(&two[..13]).is_err());
    let many = vec![0u8; (MAX_LAZY_RUNS as usize + 1) * LAZY_RUN_LEN];
    assert!(check_lazy(&many).is_err());
}

#[test]
fn lazy_only_when_worth_it() {
    assert!(lazy_worth(true, false, LAZY_MIN_PAGES));
    assert!(!lazy_worth(true, false, LAZY_MIN_PAGES - 1));
    assert!(!lazy_worth(false, false, 1 << 20));
    assert!(!lazy_worth(true, true, 1 << 20));
}

#[test]
fn lazy_req_round_trip_and_bounds() {
    let q = LazyReq {
        mig: 7,
        addr: 0x7000,
        pages: 3,
    };
    let mut b = [0u8; LAZY_REQ_LEN];
    write_lazy_req(&mut Writer::new(&mut b), &q).unwrap();
    assert_eq!(read_lazy_req(&mut Reader::new(&b)).unwrap(), q);
    for bad in [
        LazyReq { pages: 0, ..q },
        LazyReq {
            pages: LAZY_REQ_MAX_PAGES + 1,
            ..q
        },
        LazyReq { addr: 0x7001, ..q },
        LazyReq {
            addr: TASK_SIZE - 0x1000,
            ..q
        },
        // An address whose end would overflow: refused, no panic.
        LazyReq {
            addr: !0xfffu64,
            ..q
        },
    ] {
        let mut b = [0u8; LAZY_REQ_LEN];
        write_lazy_req(&mut Writer::new(&mut b), &bad).unwrap();
        assert!(read_lazy_req(&mut Reader::new(&b)).is_err());
    }
    assert!(read_lazy_req(&mut Reader::new(&b[..LAZY_REQ_LEN - 1])).is_err());
}

#[test]
fn remaps_translate_both_ways() {
    // 0x10000..0x20000 moved to 0x50000; then 0x50000..0x58000 to 0x90000.
    let r = [(0x10000, 0x50000, 0x10000), (0x50000, 0x90000, 0x8000)];
    assert_eq!(remapped(&r, 0x11000), 0x91000);
    assert_eq!(remapped(&r, 0x19000), 0x59000);
    assert_eq!(remapped(&r, 0x30000), 0x30000);
    for a in [0x11000u64, 0x19000, 0x30000] {
        assert_eq!(unremapped(&r, remapped(&r, a)), a);
    }
    // A page that was at 0x50000 before the first remap (not lazy's) is
    // not confused with it: its source address is another.
    assert_eq!(unremapped(&r, 0x91000), 0x11000);
}

#[test]
fn runs_are_placed_whole_or_not_at_all() {
    let r = [(0x10000, 0x50000, 0x10000), (0x50000, 0x90000, 0x8000)];
    // Inside the first remap, then inside the second: moved twice.
    assert_eq!(placed(&r, 0x11000, 0x2000), Some(0x91000));
    // Inside the first, then across the second's end: in pieces.
    assert_eq!(placed(&r, 0x17000, 0x2000), None);
    // Untouched.
    assert_eq!(placed(&r, 0x30000, 0x4000), Some(0x30000));
    // Across the first remap's start: in pieces.
    assert_eq!(placed(&r, 0xf000, 0x2000), None);
    // Every page of a whole run agrees with remapped().
    for a in (0x11000u64..0x13000).step_by(0x1000) {
        assert_eq!(remapped(&r, a), 0x91000 + (a - 0x11000));
    }
    assert_eq!(placed(&[], 0x1000, 0x1000), Some(0x1000));
}
