//! Tests of cluster-wide PID arithmetic and per-process file input.

use vproc_logic::pid::*;

#[test]
fn ranges_tile_the_pid_space() {
    assert_eq!(range(0), None);
    assert_eq!(range(64), None);
    assert_eq!(range(1), Some((65536, 131072)));
    assert_eq!(range(2), Some((131072, 196608)));
    assert_eq!(range(63), Some((63 << 16, 4_194_304)));
    for n in 1..=63u8 {
        let (lo, hi) = range(n).unwrap();
        assert_eq!(origin(lo), Some(n));
        assert_eq!(origin(hi - 1), Some(n));
        if n < 63 {
            assert_eq!(range(n + 1).unwrap().0, hi, "shares are contiguous");
        }
    }
}

#[test]
fn local_pids_have_no_origin() {
    assert_eq!(origin(1), None);
    assert_eq!(origin(65535), None);
    assert!(!is_cluster_pid(300));
    assert!(is_cluster_pid(65536));
    assert_eq!(origin(4_194_304), None, "PID_MAX_LIMIT itself is no PID");
    assert_eq!(origin(u32::MAX), None);
}

#[test]
fn switches() {
    assert_eq!(parse_switch(b"0"), Ok(false));
    assert_eq!(parse_switch(b"1\n"), Ok(true));
    assert_eq!(parse_switch(b" 1 "), Ok(true));
    assert_eq!(parse_switch(b"2"), Err(InputError::OutOfRange));
    assert_eq!(parse_switch(b"-1"), Err(InputError::OutOfRange));
    assert_eq!(parse_switch(b""), Err(InputError::NotANumber));
    assert_eq!(parse_switch(b"\n"), Err(InputError::NotANumber));
    assert_eq!(parse_switch(b"yes"), Err(InputError::NotANumber));
    assert_eq!(parse_switch(b"1 1"), Err(InputError::NotANumber));
    assert_eq!(parse_switch(b"0x1"), Err(InputError::NotANumber));
}

#[test]
fn goto() {
    assert_eq!(parse_goto(b"2\n"), Ok(Goto::Node(2)));
    assert_eq!(parse_goto(b"63"), Ok(Goto::Node(63)));
    assert_eq!(parse_goto(b"-1"), Ok(Goto::Balance));
    assert_eq!(parse_goto(b"0"), Err(InputError::OutOfRange));
    assert_eq!(parse_goto(b"64"), Err(InputError::OutOfRange));
    assert_eq!(parse_goto(b"-2"), Err(InputError::OutOfRange));
    assert_eq!(parse_goto(b"99999999999"), Err(InputError::NotANumber));
    assert_eq!(parse_goto(b"two"), Err(InputError::NotANumber));
    assert_eq!(parse_goto(b"-"), Err(InputError::NotANumber));
    assert_eq!(parse_goto(b""), Err(InputError::NotANumber));
}
