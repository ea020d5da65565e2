//! Tests of the destination's state machine (`logic::arrival`): every
//! phase x every event, and the properties the faults work builds on.

use vproc_logic::arrival::*;
use vproc_logic::errno::Errno;

#[test]
fn the_happy_path() {
    let mut p = Phase::Waiting;
    for (e, want) in [
        (Event::Attached, Phase::Restoring),
        (Event::Commit, Phase::Committed),
        (Event::Go, Phase::Running),
    ] {
        let (n, a) = step(p, e);
        assert_eq!((n, a), (want, Action::Proceed), "{:?} in {:?}", e, p);
        p = n;
    }
    assert!(may_run(p));
}

#[test]
fn every_phase_and_event_is_decided() {
    for p in PHASES {
        for e in EVENTS {
            let (n, a) = step(p, e);
            // Only Go after Commit makes a copy runnable.
            if may_run(n) {
                assert!(p == Phase::Running || (p == Phase::Committed && e == Event::Go));
            }
            // Nothing leaves the end states.
            if p == Phase::Running {
                assert_eq!((n, a), (Phase::Running, Action::Ignore));
            }
            if p == Phase::Aborted {
                assert_eq!(n, Phase::Aborted);
                assert!(matches!(a, Action::Ignore | Action::Refuse(_)));
            }
            // A stop always ends in Aborted, with an errno.
            if let Action::Stop(_) = a {
                assert_eq!(n, Phase::Aborted, "{:?} in {:?}", e, p);
            }
            // A refusal changes nothing.
            if let Action::Refuse(_) = a {
                assert_eq!(n, p);
            }
        }
    }
}

#[test]
fn faults_before_go_abort_the_copy() {
    for p in [Phase::Waiting, Phase::Restoring, Phase::Committed] {
        for (e, errno) in [
            (Event::Abort, Errno::ECANCELED),
            (Event::Overflow, Errno::ECANCELED),
            (Event::Idle, Errno::ETIMEDOUT),
            (Event::LinkDown, Errno::EHOSTUNREACH),
        ] {
            assert_eq!(
                step(p, e),
                (Phase::Aborted, Action::Stop(errno)),
                "{:?} {:?}",
                p,
                e
            );
        }
    }
    assert_eq!(
        step(Phase::Committed, Event::GoTimeout),
        (Phase::Aborted, Action::Stop(Errno::ETIMEDOUT))
    );
}

#[test]
fn out_of_order_messages_never_run_a_half_restored_copy() {
    assert_eq!(
        step(Phase::Restoring, Event::Go),
        (Phase::Aborted, Action::Stop(Errno::EPROTO))
    );
    assert_eq!(
        step(Phase::Waiting, Event::Go),
        (Phase::Aborted, Action::Stop(Errno::EPROTO))
    );
    assert_eq!(
        step(Phase::Committed, Event::Commit),
        (Phase::Aborted, Action::Stop(Errno::EPROTO))
    );
    // A second restorer is refused; the first goes on.
    assert_eq!(
        step(Phase::Restoring, Event::Attached),
        (Phase::Restoring, Action::Refuse(Errno::EPERM))
    );
}

/// Every sequence of up to 5 events from Waiting: the copy runs only if
/// Attached, Commit and Go came in that order, before anything fatal.
#[test]
fn exhaustive_sequences() {
    fn walk(p: Phase, seen: &mut Vec<Event>, depth: usize) {
        if may_run(p) {
            let a = seen.iter().position(|e| *e == Event::Attached).unwrap();
            let c = seen.iter().position(|e| *e == Event::Commit).unwrap();
            let g = seen.iter().position(|e| *e == Event::Go).unwrap();
            assert!(a < c && c < g, "{:?}", seen);
            let fatal = seen[..g].iter().any(|e| {
                matches!(
                    e,
                    Event::Abort | Event::Overflow | Event::Idle | Event::LinkDown
                )
            });
            assert!(!fatal, "ran after a fatal event: {:?}", seen);
        }
        if depth == 0 {
            return;
        }
        for e in EVENTS {
            seen.push(e);
            walk(step(p, e).0, seen, depth - 1);
            seen.pop();
        }
    }
    walk(Phase::Waiting, &mut Vec::new(), 5);
}
