//! The three-node model check of custody (`logic::custody`, with
//! `arrival::step`): a process of home H (node 1) runs on S (node 2) and
//! moves on to D (node 3) at t = 0, the moment S commits. One node (H, S
//! or D) is cut off from both others for a while (or for ever), each node
//! notices late (0 or 2.5 s) and all notice the heal late by 0 or 4 s;
//! the process exits at any moment (or never). `Moved` from S is one-way
//! and lost in a cut; the deputy learns where the process runs from S's
//! `Check` answers or the body's own check-in. Proven for every run, on a
//! grid: at most one copy runs; no PID free (deputy ended) while a copy
//! runs; the deputy ends within a bound once the process ended or the cut
//! is long; a status other than 137 is the real one.

use vproc_logic::arrival::{self, Event, Phase};
use vproc_logic::custody::*;

const S: u64 = 1_000_000_000;
const DT: u64 = S / 2;
const NEVER: u64 = u64::MAX;
const HORIZON: u64 = 100 * S;
const STATUS: i32 = 3 << 8;
const H: usize = 0;
const SRC: usize = 1;
const D: usize = 2;

#[derive(Clone, Copy, Debug)]
struct Run {
    iso: usize,
    cut: u64,
    heal: u64,
    exit_at: u64,
    down_lag: [u64; 3],
    up_lag: u64,
}

impl Run {
    fn cut_between(&self, a: usize, b: usize, t: u64) -> bool {
        (a == self.iso || b == self.iso) && t >= self.cut && t < self.heal
    }
    /// Node `a`'s view of its link to `b` at `t`.
    fn view(&self, a: usize, b: usize, t: u64) -> bool {
        if self.cut == NEVER || !(a == self.iso || b == self.iso) {
            return true;
        }
        let from = self.cut.saturating_add(self.down_lag[a]);
        let to = self.heal.saturating_add(self.up_lag).max(from);
        !(t >= from && t < to)
    }
    fn carries(&self, a: usize, b: usize, t: u64) -> bool {
        !self.cut_between(a, b, t) && !self.cut_between(a, b, t + DT)
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
    Moved(u8),
}

/// A copy of the process where it may run (S after resuming, or D).
#[derive(Debug)]
enum Copy {
    Runs(Body),
    Exited(ExitReport, i32),
    Gone,
}

#[derive(Debug)]
enum Src {
    /// Frozen, handing over to D (still answers Here).
    Retiring(Handover),
    /// Moved on: remembers where.
    Left,
    /// D refused: it runs here again.
    Resumed(Copy),
}

#[derive(Debug)]
enum Dst {
    Arriving(Phase),
    Copy(Copy),
}

struct Net {
    // queue[from][to]: sent this step, delivered next step if carried.
    q: [[Vec<Msg>; 3]; 3],
}

impl Net {
    fn send(&mut self, run: &Run, t: u64, from: usize, to: usize, m: Msg) {
        if run.view(from, to, t) {
            self.q[from][to].push(m);
        }
    }
}

fn copy_answer(c: &Copy) -> Answer {
    match c {
        Copy::Runs(_) => Answer::Here,
        Copy::Exited(_, s) => Answer::Exited(*s),
        Copy::Gone => Answer::Unknown,
    }
}

/// One copy's tick: exit, fencing, checks, exit reports (to H).
fn tick_copy(c: &mut Copy, run: &Run, t: u64, me: usize, net: &mut Net, really: &mut bool) {
    let up = run.view(me, H, t);
    if let Copy::Runs(b) = c {
        if t >= run.exit_at {
            *really = true;
            *c = Copy::Exited(ExitReport::new(t), STATUS);
        } else {
            match b.step(BodyEvent::Tick {
                now: t,
                home_up: up,
            }) {
                BodyAction::Run => {}
                BodyAction::Check => net.send(run, t, me, H, Msg::BodyCheck),
                BodyAction::Fence => *c = Copy::Exited(ExitReport::new(t), LOST_STATUS),
            }
        }
    }
    if let Copy::Exited(r, s) = c {
        match r.tick(t, up) {
            ExitAction::Send => net.send(run, t, me, H, Msg::Exit(*s)),
            ExitAction::Wait => {}
            ExitAction::Drop => *c = Copy::Gone,
        }
    }
}

fn copy_msg(c: &mut Copy, m: Msg, t: u64) {
    match (c, m) {
        (c @ Copy::Runs(_), Msg::BodyCheckAnswer(alive)) => {
            if let Copy::Runs(b) = c {
                if b.step(BodyEvent::Checked {
                    deputy_alive: alive,
                }) == BodyAction::Fence
                {
                    *c = Copy::Exited(ExitReport::new(t), LOST_STATUS);
                }
            }
        }
        (c @ Copy::Exited(..), Msg::ExitAck) => *c = Copy::Gone,
        _ => {}
    }
}

/// The deputy's end: status and time; `None`: running at the horizon.
fn simulate(run: &Run) -> (Option<(i32, u64)>, bool, bool) {
    let mut dep = Some(Deputy::new(2, 0));
    let mut ended: Option<(i32, u64)> = None;
    let mut src = Src::Retiring(Handover::new(0));
    let mut dst = Dst::Arriving(Phase::Committed);
    let mut net = Net {
        q: Default::default(),
    };
    let mut really = false;
    let mut last_go: Option<u64> = None;
    let mut t = 0;
    while t <= HORIZON {
        let mut inbox: [Vec<(usize, Msg)>; 3] = Default::default();
        for (from, row) in net.q.iter_mut().enumerate() {
            for (to, q) in row.iter_mut().enumerate() {
                for m in q.drain(..) {
                    if t >= DT && run.carries(from, to, t - DT) {
                        inbox[to].push((from, m));
                    }
                }
            }
        }
        // ---- D
        for &(from, m) in &inbox[D] {
            match m {
                Msg::Go => {
                    if let Dst::Arriving(p) = dst {
                        let (n, _) = arrival::step(p, Event::Go);
                        dst = if arrival::may_run(n) {
                            Dst::Copy(Copy::Runs(Body::new()))
                        } else {
                            Dst::Arriving(n)
                        };
                    }
                    let phase = match &dst {
                        Dst::Arriving(p) => Some(*p),
                        Dst::Copy(_) => Some(Phase::Running),
                    };
                    net.send(run, t, D, from, Msg::GoAnswer(go_answer(phase, true)));
                }
                Msg::Check => {
                    let a = match &dst {
                        Dst::Arriving(Phase::Aborted) => Answer::Unknown,
                        Dst::Arriving(_) => Answer::Here,
                        Dst::Copy(c) => copy_answer(c),
                    };
                    net.send(run, t, D, from, Msg::CheckAnswer(a));
                }
                m => {
                    if let Dst::Copy(c) = &mut dst {
                        copy_msg(c, m, t);
                    }
                }
            }
        }
        match &mut dst {
            Dst::Arriving(p) => {
                if *p == Phase::Committed && (!run.view(D, SRC, t) || t >= 10 * S) {
                    *p = arrival::step(*p, Event::GoTimeout).0;
                }
            }
            Dst::Copy(c) => tick_copy(c, run, t, D, &mut net, &mut really),
        }
        // ---- S
        for &(from, m) in &inbox[SRC] {
            match m {
                Msg::GoAnswer(ran) => {
                    if let Src::Retiring(h) = &mut src {
                        match h.step(if ran {
                            GoEvent::Running
                        } else {
                            GoEvent::Refused
                        }) {
                            GoAction::Moved => {
                                src = Src::Left;
                                net.send(run, t, SRC, H, Msg::Moved(3));
                            }
                            GoAction::Resume => src = Src::Resumed(Copy::Runs(Body::new())),
                            a => unreachable!("{a:?}"),
                        }
                    }
                }
                Msg::Check => {
                    let a = match &src {
                        Src::Retiring(_) => Answer::Here,
                        Src::Left => Answer::Moved(3),
                        Src::Resumed(c) => copy_answer(c),
                    };
                    net.send(run, t, SRC, from, Msg::CheckAnswer(a));
                }
                m => {
                    if let Src::Resumed(c) = &mut src {
                        copy_msg(c, m, t);
                    }
                }
            }
        }
        match &mut src {
            Src::Retiring(h) => {
                let up = run.view(SRC, D, t);
                if up && last_go.is_none_or(|g| t >= g + S) {
                    last_go = Some(t);
                    net.send(run, t, SRC, D, Msg::Go);
                }
                if h.step(GoEvent::NoAnswer { now: t, up }) == GoAction::GiveUp {
                    src = Src::Left;
                }
            }
            Src::Resumed(c) => tick_copy(c, run, t, SRC, &mut net, &mut really),
            Src::Left => {}
        }
        // ---- H
        for &(from, m) in &inbox[H] {
            match m {
                Msg::CheckAnswer(a) => {
                    if let Some(d) = &mut dep {
                        if let DeputyAction::End(c) = d.step(DeputyEvent::Checked(a)) {
                            ended = Some((c, t));
                            dep = None;
                        }
                    }
                }
                Msg::Exit(c) => {
                    if let Some(d) = &mut dep {
                        if let DeputyAction::End(c) = d.step(DeputyEvent::Exit(c)) {
                            ended = Some((c, t));
                            dep = None;
                        }
                    }
                    net.send(run, t, H, from, Msg::ExitAck);
                }
                Msg::Moved(n) => {
                    if let Some(d) = &mut dep {
                        d.step(DeputyEvent::Moved(n));
                    }
                }
                Msg::BodyCheck => {
                    // A body checking in runs where it checks in from.
                    if let Some(d) = &mut dep {
                        d.step(DeputyEvent::Moved(from as u8 + 1));
                    }
                    net.send(run, t, H, from, Msg::BodyCheckAnswer(dep.is_some()));
                }
                _ => unreachable!(),
            }
        }
        if let Some(d) = &mut dep {
            let at = usize::from(d.at) - 1;
            match d.step(DeputyEvent::Tick {
                now: t,
                up: run.view(H, at, t),
            }) {
                DeputyAction::Wait => {}
                DeputyAction::Check(n) => net.send(run, t, H, usize::from(n) - 1, Msg::Check),
                DeputyAction::End(c) => {
                    ended = Some((c, t));
                    dep = None;
                }
            }
        }
        // ---- invariants
        let s_runs = matches!(src, Src::Resumed(Copy::Runs(_)));
        let d_runs = matches!(dst, Dst::Copy(Copy::Runs(_)));
        assert!(!(s_runs && d_runs), "two copies at {} s: {:?}", t / S, run);
        if ended.is_some() {
            assert!(
                !s_runs && !d_runs,
                "PID free while a copy runs at {} s: {:?}",
                t / S,
                run
            );
        }
        t += DT;
    }
    let runs_now =
        matches!(src, Src::Resumed(Copy::Runs(_))) || matches!(dst, Dst::Copy(Copy::Runs(_)));
    (ended, really, runs_now)
}

#[test]
fn model_three_nodes_move_on() {
    let mut runs = 0u64;
    let mut lost = 0u64;
    let cuts: Vec<u64> = (0..=20).step_by(2).map(|s| s * S).chain([NEVER]).collect();
    let lengths = [1u64, 2, 3, 5, 7, 9, 11, 13, 16, 20, 25];
    for iso in [H, SRC, D] {
        for &cut in &cuts {
            let heals: Vec<u64> = if cut == NEVER {
                vec![NEVER]
            } else {
                lengths.iter().map(|l| cut + l * S).chain([NEVER]).collect()
            };
            for &heal in &heals {
                for exit_at in (1..=29).step_by(2).map(|s| s * S).chain([NEVER]) {
                    for down_lag in [
                        [0, 0, 0],
                        [DETECT_MAX_NS, 0, 0],
                        [0, DETECT_MAX_NS, 0],
                        [0, 0, DETECT_MAX_NS],
                    ] {
                        for up_lag in [0, 4 * S] {
                            let run = Run {
                                iso,
                                cut,
                                heal,
                                exit_at,
                                down_lag,
                                up_lag,
                            };
                            let (ended, really, runs_now) = simulate(&run);
                            runs += 1;
                            match ended {
                                Some((LOST_STATUS, at)) => {
                                    lost += 1;
                                    let _ = at;
                                }
                                Some((c, _)) => {
                                    assert_eq!(c, STATUS, "{run:?}");
                                    assert!(really, "{run:?}");
                                }
                                None => {
                                    // Still running at the horizon: only
                                    // when it never exits, and a copy
                                    // does run (its deputy is not left
                                    // waiting for nothing).
                                    assert!(exit_at == NEVER && runs_now, "{run:?}");
                                }
                            }
                            if let Some((_, at)) = ended {
                                // The exit heard (once the cut healed, or
                                // at once when the cut does not matter),
                                // or the deputy's bound on a cut.
                                // A cut of D during the handover: S gives
                                // Go up, then the deputy learns where it
                                // went, then waits out its bound.
                                let give_up = cut.saturating_add(
                                    DETECT_MAX_NS
                                        + GO_GIVE_UP_NS
                                        + 2 * CHECK_NS
                                        + DEPUTY_DOWN_NS
                                        + 2 * S,
                                );
                                let slack = 4 * S + 3 * CHECK_NS + 2 * S;
                                let heard = match (exit_at, heal) {
                                    (NEVER, NEVER) => 0,
                                    (NEVER, h) => h.saturating_add(slack),
                                    (e, NEVER) => e.saturating_add(slack),
                                    (e, h) => e.max(h).saturating_add(slack),
                                };
                                let bound = if exit_at < cut {
                                    exit_at + slack
                                } else {
                                    give_up.max(heard)
                                };
                                assert!(
                                    at <= bound,
                                    "ended at {} s, bound {} s: {run:?}",
                                    at / S,
                                    bound / S
                                );
                            }
                            if exit_at != NEVER && cut == NEVER {
                                assert_eq!(ended.map(|e| e.0), Some(STATUS), "{run:?}");
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!("model (3 nodes): {runs} runs, {lost} lost (SIGKILL)");
    assert!(runs > 40_000);
}
