//! Tests of the typed errno (`logic::errno`): a peer's result value is an
//! errno only in -4095..=-1, and decoding never overflows.

use vproc_logic::errno::*;

#[test]
fn results_in_range_are_errnos() {
    assert_eq!(Errno::from_result(-1), Some(Errno::EPERM));
    assert_eq!(Errno::from_result(-9), Some(Errno::EBADF));
    assert_eq!(Errno::from_result(-4095).map(Errno::get), Some(4095));
    assert_eq!(Errno::EBADF.to_result(), -9);
    for e in 1..=MAX_ERRNO {
        let x = Errno::new(e).unwrap();
        assert_eq!(Errno::from_result(x.to_result()), Some(x));
    }
}

#[test]
fn other_values_are_not() {
    for v in [0, 1, 4096, -4096, i64::MIN, i64::MIN + 1, i64::MAX, -65536] {
        assert_eq!(Errno::from_result(v), None, "{}", v);
    }
    assert_eq!(Errno::of_failure(i64::MIN), Errno::EIO);
    assert_eq!(Errno::of_failure(7), Errno::EIO);
    assert_eq!(Errno::of_failure(-16), Errno::EBUSY);
    assert_eq!(Errno::new(0), None);
    assert_eq!(Errno::new(4096), None);
}
