// SPDX-License-Identifier: GPL-2.0

//! Custody of a moved process: who may run it, who ends it, and when,
//! decided here as three small state machines that the kernel drives and
//! the host model-checks (host/tests/custody.rs):
//!
//! - [`Handover`]: the source after Commit. `Go` is a request: the
//!   destination answers once it runs the copy (again for a repeated Go:
//!   it remembers the migrations it started). An errno means it never ran
//!   it and never will: the source resumes. No answer: Go is repeated over
//!   any new connection until [`GO_GIVE_UP_NS`] (longer while the link is
//!   up: an answer is due); then the outcome is unknown and custody
//!   decides (the source never resumes on a guess).
//! - [`Deputy`]: the home node's side. It ends with the process's exit
//!   code (an acknowledged, repeated `Exit`), or as killed by SIGKILL
//!   ([`LOST_STATUS`]) when the process's node has been down for
//!   [`DEPUTY_DOWN_NS`], or when that node twice says it has no such
//!   process (`Check`): then the PID is free again.
//! - [`Body`]: the side where the process runs. It kills the process
//!   (fencing) when home has been down for [`FENCE_NS`], or when home says
//!   the deputy is gone. Its checks also tell home where it runs (the
//!   deputy follows: a lost `Moved` costs nothing).
//!
//! The rule that makes one copy at most, and no PID reused while a copy
//! runs: `FENCE_NS + DETECT_MAX_NS < DEPUTY_DOWN_NS`. Each side measures
//! "down" as it sees it (its own membership verdict), which lags the real
//! cut by at most the membership timeout (`DETECT_MAX_NS` when the
//! timeout is at its default); so the body is dead before its deputy
//! gives up. A node that was frozen longer than that meets `Check` as
//! soon as it is back: home says the deputy is gone, and it fences.
//!
//! Times are nanoseconds of a monotonic clock; nothing here sleeps.

/// How long a deputy waits for a node that is down before it gives the
/// process up (the parent then sees [`LOST_STATUS`]).
pub const DEPUTY_DOWN_NS: u64 = 10_000_000_000;
/// How long a moved process runs on while its home node is down.
pub const FENCE_NS: u64 = 6_000_000_000;
/// The membership timeout by default, the most either side's view of a
/// cut lags behind the cut.
pub const DETECT_MAX_NS: u64 = 2_500_000_000;
/// How often each side asks the other whether the process is still
/// theirs (while the link is up).
pub const CHECK_NS: u64 = 3_000_000_000;
/// How often an unacknowledged exit report is sent again.
pub const EXIT_RETRY_NS: u64 = 1_000_000_000;
/// How long an exit report is kept for a home that does not answer (its
/// deputy has long given up by then).
pub const EXIT_KEEP_NS: u64 = 120_000_000_000;
/// How long the source repeats Go without an answer.
pub const GO_GIVE_UP_NS: u64 = DEPUTY_DOWN_NS;
/// How long the source repeats Go without an answer while the link is up.
pub const GO_GIVE_UP_UP_NS: u64 = 2 * GO_GIVE_UP_NS;
/// How long a destination remembers that it started a migration (a Go
/// repeated after that would be answered "never ran"): well past
/// [`GO_GIVE_UP_NS`].
pub const STARTED_KEEP_NS: u64 = 60_000_000_000;
/// How many `Unknown` answers in a row end a deputy (one could race with
/// a move in flight).
pub const UNKNOWN_LIMIT: u8 = 2;
/// How long a deputy killed at home waits at most for its process's
/// kill to be acknowledged. A copy that still runs either checks in with
/// home every [`CHECK_NS`] (home then knows where it is and the kill
/// reaches it) or, cut off from home, fences itself within
/// `FENCE_NS + DETECT_MAX_NS`; past this bound no copy can be running.
pub const KILL_WAIT_NS: u64 = DEPUTY_DOWN_NS + CHECK_NS;
/// The wait(2) status of a process that was lost: killed by SIGKILL.
pub const LOST_STATUS: i32 = 9;

const _: () = assert!(FENCE_NS + DETECT_MAX_NS < DEPUTY_DOWN_NS);
const _: () = assert!(GO_GIVE_UP_UP_NS < STARTED_KEEP_NS);
const _: () = assert!(FENCE_NS + DETECT_MAX_NS < KILL_WAIT_NS);

/// What a node knows of a moved process (a PID and its deputy's id), as
/// `Check` answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// It is here (running, frozen, or arriving), or, asked at home: its
    /// deputy is alive.
    Here,
    /// It moved on from here to this node.
    Moved(u8),
    /// It exited here with this wait(2) status (the report is on its way).
    Exited(i32),
    /// Nothing here of it.
    Unknown,
}

impl Answer {
    /// The 5-byte wire form: a tag and a little-endian value.
    pub fn encode(self) -> [u8; 5] {
        let (t, v) = match self {
            Answer::Here => (0u8, 0u32),
            Answer::Moved(n) => (1, u32::from(n)),
            Answer::Exited(c) => (2, c as u32),
            Answer::Unknown => (3, 0),
        };
        let v = v.to_le_bytes();
        [t, v[0], v[1], v[2], v[3]]
    }

    /// Decodes the wire form; `None` for anything else.
    pub fn decode(b: &[u8]) -> Option<Answer> {
        let [t, a, b2, c, d] = *b else { return None };
        let v = u32::from_le_bytes([a, b2, c, d]);
        match t {
            0 if v == 0 => Some(Answer::Here),
            1 => u8::try_from(v).ok().map(Answer::Moved),
            2 => Some(Answer::Exited(v as i32)),
            3 if v == 0 => Some(Answer::Unknown),
            _ => None,
        }
    }
}

/// The source's view of Go, from its first sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handover {
    first_ns: u64,
    /// Since when the destination's node has been down without a break.
    down_since: Option<u64>,
}

/// What the source hears of Go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoEvent {
    /// The destination runs it.
    Running,
    /// The destination refused: it never ran it and never will.
    Refused,
    /// No answer (link down, timeout) at `now`; `up`: the destination's
    /// node is up as this node sees it.
    NoAnswer { now: u64, up: bool },
}

/// What the source does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoAction {
    /// Done: it runs there (home becomes the deputy, another node ends
    /// its copy quietly).
    Moved,
    /// It stays: resume here.
    Resume,
    /// Send Go again (on the next connection).
    Retry,
    /// Unknown outcome: act as if it moved, and let custody decide (a
    /// check asks the destination; the process is lost at worst, never
    /// doubled).
    GiveUp,
}

impl Handover {
    /// Go was first sent at `now`.
    pub fn new(now: u64) -> Self {
        Self {
            first_ns: now,
            down_since: None,
        }
    }

    /// The deputy that takes over at `now` (after `Moved` or `GiveUp`):
    /// a cut that is on already counts towards its bound (the body's
    /// fencing clock runs since then too).
    pub fn deputy(&self, at: u8, now: u64) -> Deputy {
        let mut d = Deputy::new(at, now);
        d.down_since = self.down_since;
        d
    }

    /// What to do on `e`.
    pub fn step(&mut self, e: GoEvent) -> GoAction {
        match e {
            GoEvent::Running => GoAction::Moved,
            GoEvent::Refused => GoAction::Resume,
            GoEvent::NoAnswer { now, up } => {
                if up {
                    self.down_since = None;
                } else {
                    self.down_since.get_or_insert(now);
                }
                // While the link is up an answer is due soon (it tells
                // "never ran" apart from "runs": better than a guess).
                let bound = if up { GO_GIVE_UP_UP_NS } else { GO_GIVE_UP_NS };
                if now.saturating_sub(self.first_ns) >= bound {
                    GoAction::GiveUp
                } else {
                    GoAction::Retry
                }
            }
        }
    }
}

/// The destination's answer to a Go: `true` (it runs here) or `false`
/// (never ran here, never will). `phase` is the migration's arrival phase
/// if it is still known, `started` whether it is among the migrations
/// started here lately (a repeated Go after the restore ended).
pub fn go_answer(phase: Option<super::arrival::Phase>, started: bool) -> bool {
    use super::arrival::Phase;
    match phase {
        Some(Phase::Running) => true,
        Some(_) => false,
        None => started,
    }
}

/// A deputy's custody of its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deputy {
    /// Where the process runs, as far as home knows.
    pub at: u8,
    down_since: Option<u64>,
    last_check: Option<u64>,
    unknowns: u8,
}

/// What happens to a deputy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeputyEvent {
    /// Time passes; `up`: the process's node is up as this node sees it.
    Tick { now: u64, up: bool },
    /// The process's node answered a `Check`.
    Checked(Answer),
    /// The process exited with this status (an `Exit` report).
    Exit(i32),
    /// The process moved on to this node (a `Moved` report).
    Moved(u8),
}

/// What the deputy does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeputyAction {
    /// Nothing now.
    Wait,
    /// Ask node `.0` about the process.
    Check(u8),
    /// End with this wait(2) status: the PID is free after this.
    End(i32),
}

impl Deputy {
    /// A deputy whose process runs on `at` from `now`.
    pub fn new(at: u8, now: u64) -> Self {
        Self {
            at,
            down_since: None,
            last_check: Some(now),
            unknowns: 0,
        }
    }

    /// The process runs on `n` now (a report or an answer).
    fn moved(&mut self, n: u8) {
        if n != self.at {
            self.at = n;
            self.unknowns = 0;
            // Ask the new node at the next tick.
            self.last_check = None;
        }
    }

    /// What to do on `e`.
    pub fn step(&mut self, e: DeputyEvent) -> DeputyAction {
        match e {
            DeputyEvent::Tick { now, up: false } => {
                let since = *self.down_since.get_or_insert(now);
                if now.saturating_sub(since) >= DEPUTY_DOWN_NS {
                    DeputyAction::End(LOST_STATUS)
                } else {
                    DeputyAction::Wait
                }
            }
            DeputyEvent::Tick { now, up: true } => {
                self.down_since = None;
                match self.last_check {
                    Some(t) if now.saturating_sub(t) < CHECK_NS => DeputyAction::Wait,
                    _ => {
                        self.last_check = Some(now);
                        DeputyAction::Check(self.at)
                    }
                }
            }
            DeputyEvent::Checked(Answer::Here) => {
                self.unknowns = 0;
                DeputyAction::Wait
            }
            DeputyEvent::Checked(Answer::Moved(n)) => {
                // A definite answer ends a run of unknowns, whatever it
                // names (only two unknowns in a row may end a deputy).
                self.unknowns = 0;
                self.moved(n);
                DeputyAction::Wait
            }
            DeputyEvent::Moved(n) => {
                self.moved(n);
                DeputyAction::Wait
            }
            DeputyEvent::Checked(Answer::Exited(c)) | DeputyEvent::Exit(c) => DeputyAction::End(c),
            DeputyEvent::Checked(Answer::Unknown) => {
                self.unknowns = self.unknowns.saturating_add(1);
                if self.unknowns >= UNKNOWN_LIMIT {
                    DeputyAction::End(LOST_STATUS)
                } else {
                    // Ask again at the next tick.
                    self.last_check = None;
                    DeputyAction::Wait
                }
            }
        }
    }
}

/// The running side's custody of a moved process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Body {
    home_down_since: Option<u64>,
    last_check: Option<u64>,
    /// Fence was said: the kill is sent once, counted once.
    fenced: bool,
}

/// What happens to a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEvent {
    /// Time passes; `home_up`: its home node is up as this node sees it.
    Tick { now: u64, home_up: bool },
    /// Home answered a `Check`: whether its deputy is alive.
    Checked { deputy_alive: bool },
}

/// What the body's node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyAction {
    /// Run on.
    Run,
    /// Ask home whether the deputy is alive.
    Check,
    /// Kill the process: its deputy is gone or about to give it up.
    Fence,
}

impl Body {
    /// A body that just started running. It checks in with home at its
    /// first tick: home learns from that where it runs (a `Moved` from
    /// the node it left may be lost).
    pub fn new() -> Self {
        Self {
            home_down_since: None,
            last_check: None,
            fenced: false,
        }
    }

    /// What to do on `e`. `Fence` is said once: a SIGKILL cannot be
    /// blocked, and the body lingers only until the exit is seen (a tick
    /// may come first: it must not kill, count and log it again).
    pub fn step(&mut self, e: BodyEvent) -> BodyAction {
        if self.fenced {
            return BodyAction::Run;
        }
        let a = self.decide(e);
        if a == BodyAction::Fence {
            self.fenced = true;
        }
        a
    }

    fn decide(&mut self, e: BodyEvent) -> BodyAction {
        match e {
            BodyEvent::Tick {
                now,
                home_up: false,
            } => {
                let since = *self.home_down_since.get_or_insert(now);
                if now.saturating_sub(since) >= FENCE_NS {
                    BodyAction::Fence
                } else {
                    BodyAction::Run
                }
            }
            BodyEvent::Tick { now, home_up: true } => {
                // Back from a cut: ask at once (the deputy may have given up).
                let was_down = self.home_down_since.take().is_some();
                match self.last_check {
                    Some(t) if !was_down && now.saturating_sub(t) < CHECK_NS => BodyAction::Run,
                    _ => {
                        self.last_check = Some(now);
                        BodyAction::Check
                    }
                }
            }
            BodyEvent::Checked { deputy_alive: true } => BodyAction::Run,
            BodyEvent::Checked {
                deputy_alive: false,
            } => BodyAction::Fence,
        }
    }
}

/// An exit report waiting for home's acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitReport {
    since: u64,
    last_sent: Option<u64>,
}

/// What to do with an exit report at a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitAction {
    /// Send it (again).
    Send,
    /// Not yet.
    Wait,
    /// Drop it: home has not answered for [`EXIT_KEEP_NS`].
    Drop,
}

impl ExitReport {
    /// The process exited at `now`.
    pub fn new(now: u64) -> Self {
        Self {
            since: now,
            last_sent: None,
        }
    }

    /// At `now`, with home `up` or not: what to do.
    pub fn tick(&mut self, now: u64, up: bool) -> ExitAction {
        if now.saturating_sub(self.since) >= EXIT_KEEP_NS {
            return ExitAction::Drop;
        }
        if !up {
            return ExitAction::Wait;
        }
        match self.last_sent {
            Some(t) if now.saturating_sub(t) < EXIT_RETRY_NS => ExitAction::Wait,
            _ => {
                self.last_sent = Some(now);
                ExitAction::Send
            }
        }
    }
}

/// Who asks a `Check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asker {
    /// The deputy, at home: is the process still running on your node?
    Deputy,
    /// The node the process runs on: is its deputy still alive?
    Body,
}

/// A `Check` body: the deputy's id and who asks (9 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    /// The deputy's id (with the header's PID: the process).
    pub deputy: u64,
    /// Who asks.
    pub asker: Asker,
}

/// The length of a `Check` body.
pub const CHECK_LEN: usize = 9;

/// Writes a `Check` body.
pub fn write_check(
    w: &mut super::mig::Writer<'_>,
    c: &Check,
) -> Result<(), super::wire::WireError> {
    w.u64(c.deputy)?;
    w.u8(match c.asker {
        Asker::Deputy => 0,
        Asker::Body => 1,
    })
}

/// Reads a `Check` body (all of it).
pub fn read_check(r: &mut super::mig::Reader<'_>) -> Result<Check, super::wire::WireError> {
    let deputy = r.u64()?;
    let asker = match r.u8()? {
        0 => Asker::Deputy,
        1 => Asker::Body,
        _ => return Err(super::wire::WireError::BadField),
    };
    r.end()?;
    Ok(Check { deputy, asker })
}

/// How long a node that leaves (`admin/leave`) tries to move what depends
/// on it home: its guests to their homes, its own moved processes back.
pub const LEAVE_MOVE_NS: u64 = 12_000_000_000;
/// How long a leave takes at most: what has not moved by
/// [`LEAVE_MOVE_NS`] is killed (a guest here: its exit goes home; a
/// deputy here: its process is killed where it runs, which takes at most
/// [`KILL_WAIT_NS`]), and some room for the last exit reports.
pub const LEAVE_NS: u64 = 28_000_000_000;

const _: () = assert!(LEAVE_MOVE_NS + KILL_WAIT_NS < LEAVE_NS);
// rmmod after a leave completes within 30 s of the leave.
const _: () = assert!(LEAVE_NS <= 30_000_000_000);

/// What a leaving node does, `elapsed` ns after the leave began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveStep {
    /// Move: guests home, own processes back (asked again every
    /// [`CHECK_NS`] while they stay).
    Move,
    /// Kill what is still here.
    Kill,
    /// Stop waiting: what is left is reported (EBUSY).
    GiveUp,
}

/// How many times a leaving node asks a guest to go home before it asks
/// it to go to another node instead (asked every [`CHECK_NS`]: two asks
/// leave a big process 3 s to get home, then two more go elsewhere
/// within [`LEAVE_MOVE_NS`]).
pub const LEAVE_HOME_ASKS: u32 = 2;

/// Where a leaving node sends a guest of home `home` at its `ask`-th ask
/// (0 the first): home, then, while it stays (home refused it: a seccomp
/// filter it installed away from home is not its deputy's), in turn
/// one of `others`, the nodes up but this one (its home skipped). With
/// its home out of reach it goes nowhere: only home may let it move (see
/// the custody rules), and the leave kills it, its exit reported home.
pub fn leave_target(home: u8, home_up: bool, ask: u32, others: &[u8]) -> Option<u8> {
    if !home_up {
        return None;
    }
    if ask < LEAVE_HOME_ASKS {
        return Some(home);
    }
    let n = others.iter().filter(|&&o| o != home).count();
    if n == 0 {
        return Some(home);
    }
    let k = (ask - LEAVE_HOME_ASKS) as usize % n;
    others.iter().copied().filter(|&o| o != home).nth(k)
}

/// The leave's schedule.
pub fn leave_step(elapsed: u64) -> LeaveStep {
    if elapsed < LEAVE_MOVE_NS {
        LeaveStep::Move
    } else if elapsed < LEAVE_NS {
        LeaveStep::Kill
    } else {
        LeaveStep::GiveUp
    }
}
