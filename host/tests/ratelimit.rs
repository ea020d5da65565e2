//! Tests of the log rate limit (`logic::ratelimit`): a burst, then one
//! line per interval, however many a user provokes.

use vproc_logic::ratelimit::*;

#[test]
fn a_burst_then_one_per_interval() {
    let rl = RateLimit::new();
    let t0 = 1_000_000;
    for i in 0..BURST {
        assert_eq!(rl.check(t0), Some(0), "line {i} of the burst");
    }
    for _ in 0..990 {
        assert_eq!(rl.check(t0), None);
    }
    assert_eq!(rl.check(t0 + INTERVAL_MS - 1), None);
    // One interval later one line passes, saying how many were dropped.
    assert_eq!(rl.check(t0 + INTERVAL_MS), Some(991));
    assert_eq!(rl.check(t0 + INTERVAL_MS), None);
    assert_eq!(rl.check(t0 + 2 * INTERVAL_MS), Some(1));
    // A quiet spell refills the whole burst, no more.
    let later = t0 + 100 * INTERVAL_MS;
    let passed = (0..1000).filter(|_| rl.check(later).is_some()).count();
    assert_eq!(passed as u64, BURST);
}

#[test]
fn a_thousand_lines_over_a_minute_stay_few() {
    // 1000 refusals spread over 60 s: the burst, then one per 5 s.
    let rl = RateLimit::new();
    let t0 = 5_000;
    let passed = (0..1000u64)
        .filter(|i| rl.check(t0 + i * 60).is_some())
        .count() as u64;
    assert!(passed <= BURST + 60_000 / INTERVAL_MS, "{passed} lines");
    assert!(passed > BURST);
}

#[test]
fn admit_is_the_generic_cell_rate_algorithm() {
    // First line at time 0 passes (the state starts at 0).
    assert_eq!(admit(0, 0, 10, 3), Some(10));
    assert_eq!(admit(10, 0, 10, 3), Some(20));
    assert_eq!(admit(20, 0, 10, 3), Some(30));
    assert_eq!(admit(30, 0, 10, 3), None);
    assert_eq!(admit(30, 10, 10, 3), Some(40));
    // No overflow at the end of time.
    assert_eq!(admit(u64::MAX, u64::MAX, 10, 3), Some(u64::MAX));
    assert_eq!(admit(0, u64::MAX, u64::MAX, u64::MAX), Some(u64::MAX));
    // A burst of 0 or 1 lets one line through per interval.
    assert_eq!(admit(0, 5, 10, 0), Some(15));
    assert_eq!(admit(15, 5, 10, 0), None);
}
