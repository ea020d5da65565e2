//! Tests of custody (`logic::custody`): each machine's every state x
//! event, and a bounded model check of a move's handover between a home
//! node H (the source, which becomes the deputy) and a destination D,
//! driven by the very step functions the kernel runs (`arrival::step`,
//! `custody::{Handover, Deputy, Body, ExitReport}`).
//!
//! The model explores, exhaustively on a 1 s grid: a cut of the link
//! starting at any time in the first 20 s (or none) and healing after any
//! length up to 25 s (or never), the process exiting at any time in the
//! first 30 s (or never), each node noticing the cut late by 0 or 2.5 s
//! (membership timeout; one side may notice before the other), and both
//! noticing the heal late by 0 or 4 s (reconnect backoff: one connection,
//! so both sides see it come back at once).
//! Messages sent while the link is down are lost; repeats are duplicates.
//! It proves, for every run:
//! - at most one copy runs user code at any instant;
//! - when the deputy ends (the PID is free), no copy runs;
//! - the deputy ends (the parent's wait() returns) within a bound of the
//!   exit or the heal, or of the cut when it never heals;
//! - the status is the real exit status whenever the process exited
//!   while home could still hear of it, and otherwise killed by SIGKILL.

use vproc_logic::arrival::{self, Event, Phase};
use vproc_logic::custody::*;

const S: u64 = 1_000_000_000;
const DT: u64 = S / 2;

#[test]
fn answers_round_trip_and_reject_garbage() {
    for a in [
        Answer::Here,
        Answer::Moved(7),
        Answer::Exited(9),
        Answer::Exited(256 * 3),
        Answer::Unknown,
    ] {
        assert_eq!(Answer::decode(&a.encode()), Some(a));
    }
    assert_eq!(Answer::decode(&[0, 1, 0, 0, 0]), None);
    assert_eq!(Answer::decode(&[1, 0, 1, 0, 0]), None);
    assert_eq!(Answer::decode(&[4, 0, 0, 0, 0]), None);
    assert_eq!(Answer::decode(&[0, 0, 0, 0]), None);
    for t in 0..=255u8 {
        let _ = Answer::decode(&[t, 255, 255, 255, 255]);
    }
}

#[test]
fn handover_decides_every_answer() {
    let mut h = Handover::new(5 * S);
    assert_eq!(h.step(GoEvent::Running), GoAction::Moved);
    assert_eq!(h.step(GoEvent::Refused), GoAction::Resume);
    for up in [false, true] {
        let bound = if up { GO_GIVE_UP_UP_NS } else { GO_GIVE_UP_NS };
        assert_eq!(
            h.step(GoEvent::NoAnswer { now: 5 * S, up }),
            GoAction::Retry
        );
        assert_eq!(
            h.step(GoEvent::NoAnswer {
                now: 5 * S + bound - 1,
                up
            }),
            GoAction::Retry
        );
        assert_eq!(
            h.step(GoEvent::NoAnswer {
                now: 5 * S + bound,
                up
            }),
            GoAction::GiveUp
        );
        // A clock that went back never gives up early.
        assert_eq!(h.step(GoEvent::NoAnswer { now: 0, up }), GoAction::Retry);
    }
}

#[test]
fn go_is_answered_yes_only_where_it_runs() {
    for p in arrival::PHASES {
        for started in [false, true] {
            assert_eq!(go_answer(Some(p), started), p == Phase::Running);
        }
    }
    assert!(go_answer(None, true));
    assert!(!go_answer(None, false));
}

#[test]
fn deputy_ends_on_exit_loss_or_two_unknowns() {
    let mut d = Deputy::new(2, 0);
    assert_eq!(
        d.step(DeputyEvent::Tick { now: S, up: true }),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Tick {
            now: CHECK_NS,
            up: true
        }),
        DeputyAction::Check(2)
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Here)),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Unknown)),
        DeputyAction::Wait
    );
    // The second unknown in a row asks again first: at the next tick.
    assert_eq!(
        d.step(DeputyEvent::Tick {
            now: CHECK_NS + 1,
            up: true
        }),
        DeputyAction::Check(2)
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Unknown)),
        DeputyAction::End(LOST_STATUS)
    );

    let mut d = Deputy::new(2, 0);
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Unknown)),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Here)),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Unknown)),
        DeputyAction::Wait
    );
    assert_eq!(d.step(DeputyEvent::Exit(3 << 8)), DeputyAction::End(3 << 8));

    // Any definite answer breaks a run of unknowns, also one naming the
    // node already known (found by the fuzzer: it used to count on).
    let mut d = Deputy::new(2, 0);
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Unknown)),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Moved(2))),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Unknown)),
        DeputyAction::Wait
    );

    let mut d = Deputy::new(2, 0);
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Moved(3))),
        DeputyAction::Wait
    );
    assert_eq!(d.at, 3);
    assert_eq!(
        d.step(DeputyEvent::Tick { now: S, up: true }),
        DeputyAction::Check(3)
    );
    assert_eq!(
        d.step(DeputyEvent::Checked(Answer::Exited(0))),
        DeputyAction::End(0)
    );

    let mut d = Deputy::new(2, 0);
    assert_eq!(
        d.step(DeputyEvent::Tick { now: S, up: false }),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Tick {
            now: S + DEPUTY_DOWN_NS - 1,
            up: false
        }),
        DeputyAction::Wait
    );
    assert_eq!(
        d.step(DeputyEvent::Tick {
            now: S + DEPUTY_DOWN_NS,
            up: false
        }),
        DeputyAction::End(LOST_STATUS)
    );
    // Up again in between restarts the count.
    let mut d = Deputy::new(2, 0);
    d.step(DeputyEvent::Tick { now: S, up: false });
    d.step(DeputyEvent::Tick {
        now: 2 * S,
        up: true,
    });
    assert_eq!(
        d.step(DeputyEvent::Tick {
            now: S + DEPUTY_DOWN_NS,
            up: false
        }),
        DeputyAction::Wait
    );
}

#[test]
fn body_fences_when_home_is_gone() {
    let mut b = Body::new();
    // It checks in at once (home learns where it runs), then every CHECK_NS.
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: 0,
            home_up: true
        }),
        BodyAction::Check
    );
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: S,
            home_up: true
        }),
        BodyAction::Run
    );
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: CHECK_NS,
            home_up: true
        }),
        BodyAction::Check
    );
    assert_eq!(
        b.step(BodyEvent::Checked { deputy_alive: true }),
        BodyAction::Run
    );
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: 4 * S,
            home_up: false
        }),
        BodyAction::Run
    );
    // Back within the bound: it asks at once.
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: 5 * S,
            home_up: true
        }),
        BodyAction::Check
    );
    assert_eq!(
        b.step(BodyEvent::Checked {
            deputy_alive: false
        }),
        BodyAction::Fence
    );
    let mut b = Body::new();
    b.step(BodyEvent::Tick {
        now: S,
        home_up: false,
    });
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: S + FENCE_NS,
            home_up: false
        }),
        BodyAction::Fence
    );
}

/// A fenced body lingers until its exit is seen; the ticks before that
/// must not kill, count and log it again (CI once counted "fenced 2" for
/// one process).
#[test]
fn body_fences_once() {
    let mut b = Body::new();
    b.step(BodyEvent::Tick {
        now: S,
        home_up: false,
    });
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: S + FENCE_NS,
            home_up: false
        }),
        BodyAction::Fence
    );
    for k in 1..20 {
        for home_up in [false, true] {
            assert_eq!(
                b.step(BodyEvent::Tick {
                    now: S + FENCE_NS + k * CHECK_NS,
                    home_up
                }),
                BodyAction::Run
            );
        }
    }
    assert_eq!(
        b.step(BodyEvent::Checked {
            deputy_alive: false
        }),
        BodyAction::Run
    );
    // Fenced by the check: the same.
    let mut b = Body::new();
    b.step(BodyEvent::Tick {
        now: 0,
        home_up: true,
    });
    assert_eq!(
        b.step(BodyEvent::Checked {
            deputy_alive: false
        }),
        BodyAction::Fence
    );
    assert_eq!(
        b.step(BodyEvent::Tick {
            now: FENCE_NS * 2,
            home_up: false
        }),
        BodyAction::Run
    );
}

#[test]
fn exit_reports_repeat_until_dropped() {
    let mut r = ExitReport::new(0);
    assert_eq!(r.tick(0, false), ExitAction::Wait);
    assert_eq!(r.tick(1, true), ExitAction::Send);
    assert_eq!(r.tick(2, true), ExitAction::Wait);
    assert_eq!(r.tick(1 + EXIT_RETRY_NS, true), ExitAction::Send);
    assert_eq!(r.tick(EXIT_KEEP_NS, true), ExitAction::Drop);
    assert_eq!(r.tick(EXIT_KEEP_NS, false), ExitAction::Drop);
}

// ---- the model -----------------------------------------------------------

/// One run's choices.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// The cut: [cut, heal) in ns; `cut == NEVER`: no cut.
    cut: u64,
    heal: u64,
    /// When the process calls exit (if it runs then), with status 7 << 8.
    exit_at: u64,
    /// How late each node sees the cut and the heal.
    h_down_lag: u64,
    d_down_lag: u64,
    h_up_lag: u64,
    d_up_lag: u64,
}

const NEVER: u64 = u64::MAX;
const HORIZON: u64 = 90 * S;
const STATUS: i32 = 7 << 8;

impl Run {
    fn link(&self, t: u64) -> bool {
        !(t >= self.cut && t < self.heal)
    }
    fn view(&self, t: u64, down_lag: u64, up_lag: u64) -> bool {
        if self.cut == NEVER {
            return true;
        }
        let down_from = self.cut.saturating_add(down_lag);
        let up_from = self.heal.saturating_add(up_lag).max(down_from);
        !(t >= down_from && t < up_from)
    }
    fn h_up(&self, t: u64) -> bool {
        self.view(t, self.h_down_lag, self.h_up_lag)
    }
    fn d_up(&self, t: u64) -> bool {
        self.view(t, self.d_down_lag, self.d_up_lag)
    }
    /// A message sent at `t` arrives at `t + DT` if the link is up at both.
    fn carries(&self, t: u64) -> bool {
        self.link(t) && self.link(t + DT)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Msg {
    Go,
    GoAnswer(bool),
    Check,
    CheckAnswer(Answer),
    BodyCheck,
    BodyCheckAnswer(bool),
    Exit(i32),
    ExitAck,
}

#[derive(Debug)]
enum Home {
    /// Go sent; the deputy's record exists already (an Exit that comes
    /// before Go's answer is kept in it).
    Handing(Handover, Option<i32>),
    Resumed,
    Deputy(Deputy),
    Ended(i32, u64),
}

#[derive(Debug)]
enum Dest {
    Arriving(Phase),
    Running(Body),
    Exited(ExitReport, i32),
    Gone,
}

struct Outcome {
    status: Option<i32>,
    ended_at: u64,
    resumed: bool,
    exited_really: bool,
}

fn simulate(run: &Run) -> Outcome {
    let commit_at = 0;
    let mut home = Home::Handing(Handover::new(commit_at), None);
    let mut dest = Dest::Arriving(Phase::Committed);
    let mut to_d: Vec<Msg> = Vec::new();
    let mut to_h: Vec<Msg> = Vec::new();
    let mut exited_really = false;
    let mut last_go: Option<u64> = None;
    let mut body_check_pending = false;
    let mut t = 0;
    while t <= HORIZON {
        // Deliver what was sent last step (if the link carried it).
        let (in_d, in_h) = (core::mem::take(&mut to_d), core::mem::take(&mut to_h));
        let carried = t >= DT && run.carries(t - DT);
        let (in_d, in_h) = if carried {
            (in_d, in_h)
        } else {
            (vec![], vec![])
        };
        if !carried {
            // A lost request's answer never comes: the asker may ask again.
            body_check_pending = false;
        }
        let mut out_d = Vec::new();
        let mut out_h = Vec::new();

        // ---- destination
        for m in in_d {
            match m {
                Msg::Go => {
                    let phase = match &dest {
                        Dest::Arriving(p) => Some(*p),
                        _ => None,
                    };
                    if let Dest::Arriving(p) = dest {
                        let (n, _) = arrival::step(p, Event::Go);
                        dest = if arrival::may_run(n) {
                            Dest::Running(Body::new())
                        } else {
                            Dest::Arriving(n)
                        };
                    }
                    let started = !matches!(dest, Dest::Arriving(_));
                    let ran = go_answer(phase.map(|p| arrival::step(p, Event::Go).0), started);
                    out_h.push(Msg::GoAnswer(ran));
                }
                Msg::Check => {
                    let a = match &dest {
                        Dest::Arriving(Phase::Aborted) | Dest::Gone => Answer::Unknown,
                        Dest::Arriving(_) | Dest::Running(_) => Answer::Here,
                        Dest::Exited(_, c) => Answer::Exited(*c),
                    };
                    out_h.push(Msg::CheckAnswer(a));
                }
                Msg::BodyCheckAnswer(alive) => {
                    body_check_pending = false;
                    if let Dest::Running(b) = &mut dest {
                        if b.step(BodyEvent::Checked {
                            deputy_alive: alive,
                        }) == BodyAction::Fence
                        {
                            dest = Dest::Exited(ExitReport::new(t), LOST_STATUS);
                        }
                    }
                }
                Msg::ExitAck => {
                    if let Dest::Exited(..) = dest {
                        dest = Dest::Gone;
                    }
                }
                _ => unreachable!(),
            }
        }
        let d_up = run.d_up(t);
        match &mut dest {
            // The restore's wait for Go: link down, or 10 s after Commit.
            Dest::Arriving(p) if *p == Phase::Committed && (!d_up || t >= commit_at + 10 * S) => {
                let (n, _) = arrival::step(*p, Event::GoTimeout);
                *p = n;
            }
            Dest::Running(b) => {
                if t >= run.exit_at {
                    exited_really = true;
                    dest = Dest::Exited(ExitReport::new(t), STATUS);
                } else {
                    match b.step(BodyEvent::Tick {
                        now: t,
                        home_up: d_up,
                    }) {
                        BodyAction::Run => {}
                        BodyAction::Check => {
                            if !body_check_pending {
                                body_check_pending = true;
                                out_h.push(Msg::BodyCheck);
                            }
                        }
                        BodyAction::Fence => {
                            dest = Dest::Exited(ExitReport::new(t), LOST_STATUS);
                        }
                    }
                }
            }
            _ => {}
        }
        if let Dest::Exited(r, c) = &mut dest {
            match r.tick(t, d_up) {
                ExitAction::Send => out_h.push(Msg::Exit(*c)),
                ExitAction::Wait => {}
                ExitAction::Drop => dest = Dest::Gone,
            }
        }

        // ---- home
        let h_up = run.h_up(t);
        for m in in_h {
            match m {
                Msg::GoAnswer(ran) => {
                    if let Home::Handing(h, early) = &mut home {
                        home = match h.step(if ran {
                            GoEvent::Running
                        } else {
                            GoEvent::Refused
                        }) {
                            GoAction::Moved => match early {
                                Some(c) => Home::Ended(*c, t),
                                None => Home::Deputy(h.deputy(2, t)),
                            },
                            GoAction::Resume => Home::Resumed,
                            a => unreachable!("{:?}", a),
                        };
                    }
                }
                Msg::CheckAnswer(a) => {
                    if let Home::Deputy(d) = &mut home {
                        if let DeputyAction::End(c) = d.step(DeputyEvent::Checked(a)) {
                            home = Home::Ended(c, t);
                        }
                    }
                }
                Msg::Exit(c) => {
                    if let Home::Handing(_, early) = &mut home {
                        *early = Some(c);
                    }
                    if let Home::Deputy(d) = &mut home {
                        if let DeputyAction::End(c) = d.step(DeputyEvent::Exit(c)) {
                            home = Home::Ended(c, t);
                        }
                    }
                    // Acknowledged whatever became of the deputy.
                    out_d.push(Msg::ExitAck);
                }
                Msg::BodyCheck => {
                    let alive = matches!(home, Home::Handing(..) | Home::Deputy(_));
                    out_d.push(Msg::BodyCheckAnswer(alive));
                }
                _ => unreachable!(),
            }
        }
        match &mut home {
            Home::Handing(h, early) => {
                if h_up && last_go.is_none_or(|g| t >= g + S) {
                    last_go = Some(t);
                    out_d.push(Msg::Go);
                }
                if let GoAction::GiveUp = h.step(GoEvent::NoAnswer { now: t, up: h_up }) {
                    home = match early {
                        Some(c) => Home::Ended(*c, t),
                        None => Home::Deputy(h.deputy(2, t)),
                    };
                }
            }
            Home::Deputy(d) => match d.step(DeputyEvent::Tick { now: t, up: h_up }) {
                DeputyAction::Wait => {}
                DeputyAction::Check(n) => {
                    assert_eq!(n, 2);
                    out_d.push(Msg::Check);
                }
                DeputyAction::End(c) => home = Home::Ended(c, t),
            },
            _ => {}
        }

        // ---- the invariants, at every instant
        let body_runs = matches!(dest, Dest::Running(_));
        let home_runs = matches!(home, Home::Resumed);
        assert!(
            !(body_runs && home_runs),
            "two copies run at {} s: {:?}",
            t / S,
            run
        );
        if let Home::Ended(_, _) = home {
            assert!(
                !body_runs,
                "the PID is free while a copy runs, at {} s: {:?}",
                t / S,
                run
            );
        }

        // Sends fail when the sender sees the link down.
        if h_up {
            to_d = out_d;
        }
        if d_up {
            to_h = out_h;
        }
        t += DT;
    }
    match home {
        Home::Ended(c, at) => Outcome {
            status: Some(c),
            ended_at: at,
            resumed: false,
            exited_really,
        },
        Home::Resumed => Outcome {
            status: None,
            ended_at: 0,
            resumed: true,
            exited_really,
        },
        _ => Outcome {
            status: None,
            ended_at: NEVER,
            resumed: false,
            exited_really,
        },
    }
}

#[test]
fn model_one_copy_no_reuse_bounded_wait_true_status() {
    let mut runs = 0u64;
    let mut lost = 0u64;
    let mut resumed = 0u64;
    let cuts = (0..=20).map(|s| s * S).chain([NEVER]);
    for cut in cuts {
        let heals: Vec<u64> = if cut == NEVER {
            vec![NEVER]
        } else {
            (1..=25).map(|l| cut + l * S).chain([NEVER]).collect()
        };
        for &heal in &heals {
            for exit_at in (1..=30).map(|s| s * S).chain([NEVER]) {
                for (h_down_lag, d_down_lag) in [(0, 0), (0, DETECT_MAX_NS), (DETECT_MAX_NS, 0)] {
                    for (h_up_lag, d_up_lag) in [(0, 0), (4 * S, 4 * S)] {
                        let run = Run {
                            cut,
                            heal,
                            exit_at,
                            h_down_lag,
                            d_down_lag,
                            h_up_lag,
                            d_up_lag,
                        };
                        let o = simulate(&run);
                        runs += 1;
                        if o.resumed {
                            // Resumed at home: the copy there never ran.
                            assert!(!o.exited_really, "{:?}", run);
                            resumed += 1;
                            continue;
                        }
                        // The parent's wait() returns, within a bound:
                        // soon after an exit home can hear of, or after the
                        // deputy's bound on a cut.
                        if exit_at != NEVER || (heal == NEVER && cut != NEVER) {
                            let bound = if exit_at < cut {
                                exit_at + 2 * S
                            } else {
                                let give_up = cut + DETECT_MAX_NS + DEPUTY_DOWN_NS + S;
                                let heard =
                                    heal.max(exit_at).saturating_add(4 * S + CHECK_NS + 2 * S);
                                if heal == NEVER {
                                    give_up
                                } else {
                                    give_up.max(heard)
                                }
                            };
                            assert!(
                                o.ended_at <= bound,
                                "the deputy ended at {} (bound {}): {:?}",
                                o.ended_at,
                                bound,
                                run
                            );
                        }
                        match o.status {
                            Some(LOST_STATUS) => lost += 1,
                            Some(c) => {
                                assert_eq!(c, STATUS, "{:?}", run);
                                assert!(o.exited_really, "{:?}", run);
                            }
                            None => {
                                // Still running at the horizon: only when
                                // it never exits and the link is fine.
                                assert!(
                                    exit_at == NEVER && (heal != NEVER || cut == NEVER),
                                    "{:?}",
                                    run
                                );
                            }
                        }
                        // No cut, or a heal before either side gave up:
                        // the real status.
                        if exit_at != NEVER && (cut == NEVER || exit_at + 2 * S < cut) {
                            assert_eq!(o.status, Some(STATUS), "{:?}", run);
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "model: {} runs, {} lost (SIGKILL), {} resumed at home",
        runs, lost, resumed
    );
    assert!(runs > 100_000);
}

#[test]
fn leave_moves_then_kills_then_gives_up_in_time() {
    assert_eq!(leave_step(0), LeaveStep::Move);
    assert_eq!(leave_step(LEAVE_MOVE_NS - 1), LeaveStep::Move);
    assert_eq!(leave_step(LEAVE_MOVE_NS), LeaveStep::Kill);
    // A deputy killed at the first kill step ends within KILL_WAIT_NS:
    // still inside the leave.
    assert_eq!(leave_step(LEAVE_MOVE_NS + KILL_WAIT_NS), LeaveStep::Kill);
    assert_eq!(leave_step(LEAVE_NS), LeaveStep::GiveUp);
    assert_eq!(leave_step(u64::MAX), LeaveStep::GiveUp);
    const { assert!(LEAVE_NS <= 30 * S) };
}

#[test]
fn a_leaving_node_sends_a_guest_home_then_elsewhere() {
    let others = [1u8, 3, 4];
    // Home first, for LEAVE_HOME_ASKS asks.
    for ask in 0..LEAVE_HOME_ASKS {
        assert_eq!(leave_target(1, true, ask, &others), Some(1));
    }
    // Then the other nodes up, in turn, its home skipped.
    assert_eq!(leave_target(1, true, LEAVE_HOME_ASKS, &others), Some(3));
    assert_eq!(leave_target(1, true, LEAVE_HOME_ASKS + 1, &others), Some(4));
    assert_eq!(leave_target(1, true, LEAVE_HOME_ASKS + 2, &others), Some(3));
    // No other node: home again.
    assert_eq!(leave_target(1, true, LEAVE_HOME_ASKS + 5, &[1]), Some(1));
    assert_eq!(leave_target(1, true, u32::MAX, &[]), Some(1));
    // Home out of reach: nowhere (only home lets it move).
    for ask in [0, LEAVE_HOME_ASKS, u32::MAX] {
        assert_eq!(leave_target(1, false, ask, &others), None);
    }
    // Both asks to go elsewhere fit in the move window.
    const { assert!((LEAVE_HOME_ASKS as u64 + 2) * CHECK_NS <= LEAVE_MOVE_NS) };
}
