//! Fuzzes custody (`logic::custody`): the peer-sent `Check` body and
//! answer decode without panic and round-trip; random event sequences
//! drive the deputy, body, handover and exit-report machines without
//! panic, and keep their promises: a deputy ends only on an exit, two
//! unknowns in a row or its down bound; a body fences only after its bound
//! or when home says its deputy is gone; time never runs the other way
//! into an early decision.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vproc_logic::custody::*;
use vproc_logic::mig::{Reader, Writer};

fuzz_target!(|data: &[u8]| {
    if let Some(a) = Answer::decode(data.get(..5).unwrap_or(data)) {
        assert_eq!(Answer::decode(&a.encode()), Some(a));
    }
    if let Ok(c) = read_check(&mut Reader::new(data)) {
        let mut b = [0u8; CHECK_LEN];
        write_check(&mut Writer::new(&mut b), &c).expect("fits");
        assert_eq!(read_check(&mut Reader::new(&b)).expect("round trip"), c);
    }
    // Events: each 9-byte chunk is a kind and a time step in ms.
    let mut now = 0u64;
    let mut d = Deputy::new(2, 0);
    let mut body = Body::new();
    let mut h = Handover::new(0);
    let mut r = ExitReport::new(0);
    let mut down_since: Option<u64> = None;
    let mut body_down_since: Option<u64> = None;
    let mut unknowns = 0u8;
    for ch in data.chunks_exact(9) {
        let step = u64::from(u32::from_le_bytes([ch[1], ch[2], ch[3], ch[4]]) % 30_000) * 1_000_000;
        now = now.saturating_add(step);
        let up = ch[5] & 1 == 1;
        match ch[0] % 8 {
            0 => {
                if up {
                    down_since = None;
                } else {
                    down_since.get_or_insert(now);
                }
                match d.step(DeputyEvent::Tick { now, up }) {
                    DeputyAction::End(c) => {
                        assert_eq!(c, LOST_STATUS);
                        let since = down_since.expect("ends only while down");
                        assert!(now - since >= DEPUTY_DOWN_NS);
                        return;
                    }
                    DeputyAction::Check(n) => assert_eq!(n, d.at),
                    DeputyAction::Wait => {}
                }
            }
            1 => {
                let a = Answer::decode(&ch[4..9]).unwrap_or(Answer::Here);
                match a {
                    Answer::Unknown => unknowns = unknowns.saturating_add(1),
                    Answer::Here | Answer::Moved(_) => unknowns = 0,
                    Answer::Exited(_) => {}
                }
                match d.step(DeputyEvent::Checked(a)) {
                    DeputyAction::End(c) => {
                        match a {
                            Answer::Exited(s) => assert_eq!(c, s),
                            Answer::Unknown => assert!(unknowns >= UNKNOWN_LIMIT),
                            _ => panic!("ended on {a:?}"),
                        }
                        return;
                    }
                    _ => {}
                }
            }
            2 => {
                if up {
                    body_down_since = None;
                } else {
                    body_down_since.get_or_insert(now);
                }
                if body.step(BodyEvent::Tick { now, home_up: up }) == BodyAction::Fence {
                    let since = body_down_since.expect("fences only while home is down");
                    assert!(now - since >= FENCE_NS);
                    body = Body::new();
                    body_down_since = None;
                }
            }
            3 => {
                let a = body.step(BodyEvent::Checked { deputy_alive: up });
                assert_eq!(a == BodyAction::Fence, !up);
                if a == BodyAction::Fence {
                    // Fenced once: a new process takes its place.
                    body = Body::new();
                    body_down_since = None;
                }
            }
            4 => match h.step(GoEvent::NoAnswer { now, up }) {
                GoAction::GiveUp => assert!(now >= GO_GIVE_UP_NS),
                GoAction::Retry => {}
                a => panic!("{a:?} without an answer"),
            },
            5 => {
                let _ = h.deputy(2, now);
            }
            6 => {
                if r.tick(now, up) == ExitAction::Drop {
                    assert!(now >= EXIT_KEEP_NS);
                    r = ExitReport::new(now);
                }
            }
            _ => {
                let _ = d.step(DeputyEvent::Moved(ch[8] % 64));
            }
        }
    }
});
