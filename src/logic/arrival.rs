// SPDX-License-Identifier: GPL-2.0

//! The destination side of one migration as a state machine: what an
//! arriving process may do next, decided here for every event and tested
//! on the host (every phase x every event), instead of in flag fields of
//! the kernel code. The kernel feeds the events and acts on the answer.
//!
//! ```text
//!  Waiting --Attached--> Restoring --Commit--> Committed --Go--> Running
//!     |                     |                      |
//!     +---- Abort, Overflow, Idle, LinkDown, GoTimeout, early Go ----> Aborted
//! ```
//!
//! `Waiting`: Begin was accepted, the restorer has not attached yet (a
//! deputy coming home restores itself: it starts in `Restoring`).
//! `Restoring`: the process is being rebuilt from the source's messages.
//! `Committed`: everything is applied here and Commit answered; the copy
//! must not run before the source's Go (the source may still give up).
//! `Running`: Go came; the source has become the deputy or ended.
//! `Aborted`: this copy must never run; the restore ends with the errno.

use super::errno::Errno;

/// Where an arriving migration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Begin accepted, no restorer yet.
    Waiting,
    /// Being rebuilt.
    Restoring,
    /// Applied and answered; waiting for Go.
    Committed,
    /// Go received: it runs here.
    Running,
    /// Given up: it must not run here.
    Aborted,
}

/// What happened to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The restorer attached (`/proc/cluster/admin/restore`).
    Attached,
    /// Commit applied here (about to be answered).
    Commit,
    /// The source's Go.
    Go,
    /// The source's Abort.
    Abort,
    /// The source sent more than the flow control allows, or it could not
    /// be queued.
    Overflow,
    /// Nothing from the source for the idle bound.
    Idle,
    /// The source's node went down.
    LinkDown,
    /// No Go within its bound after Commit.
    GoTimeout,
}

/// What the kernel does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Go on (the event is what the phase expects).
    Proceed,
    /// Refuse this request with the errno; the migration is unaffected.
    Refuse(Errno),
    /// The migration is over here: end the restore with the errno (the
    /// copy never runs).
    Stop(Errno),
    /// Nothing to do (an event after the end).
    Ignore,
}

/// Every phase, for exhaustive tests.
pub const PHASES: [Phase; 5] = [
    Phase::Waiting,
    Phase::Restoring,
    Phase::Committed,
    Phase::Running,
    Phase::Aborted,
];

/// Every event, for exhaustive tests.
pub const EVENTS: [Event; 8] = [
    Event::Attached,
    Event::Commit,
    Event::Go,
    Event::Abort,
    Event::Overflow,
    Event::Idle,
    Event::LinkDown,
    Event::GoTimeout,
];

/// The phase after `e` in `p`, and what to do.
pub fn step(p: Phase, e: Event) -> (Phase, Action) {
    use Action::*;
    use Event::*;
    use Phase::*;
    match (p, e) {
        // Once it runs here, the migration is done: nothing undoes it.
        (Running, _) => (Running, Ignore),
        (Aborted, Attached) => (Aborted, Refuse(Errno::ECANCELED)),
        (Aborted, _) => (Aborted, Ignore),
        (Waiting, Attached) => (Restoring, Proceed),
        (_, Attached) => (p, Refuse(Errno::EPERM)),
        (Restoring, Commit) => (Committed, Proceed),
        (Committed, Go) => (Running, Proceed),
        // Go before Commit was answered: a source that does not follow the
        // protocol; never run a half-restored copy.
        (Waiting | Restoring, Go) => (Aborted, Stop(Errno::EPROTO)),
        (Waiting | Committed, Commit) => (Aborted, Stop(Errno::EPROTO)),
        (_, Abort) | (_, Overflow) => (Aborted, Stop(Errno::ECANCELED)),
        (_, Idle) => (Aborted, Stop(Errno::ETIMEDOUT)),
        (_, LinkDown) => (Aborted, Stop(Errno::EHOSTUNREACH)),
        (Committed, GoTimeout) => (Aborted, Stop(Errno::ETIMEDOUT)),
        (Waiting | Restoring, GoTimeout) => (p, Ignore),
    }
}

/// Whether a copy in phase `p` may run user code here.
pub fn may_run(p: Phase) -> bool {
    p == Phase::Running
}
