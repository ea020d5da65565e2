// SPDX-License-Identifier: GPL-2.0

//! goto and switches asked on another node (`Control`, and `Goto` from
//! home to where the process runs), checked where the task is with the
//! requester's identity (ptrace's rule).

use super::{
    errno_of, Inbound, Migrator, WireResult, GOTO_TIMEOUT_MS, MAX_CONTROLS, MAX_MOVES,
    SWITCH_TIMEOUT_MS,
};
use crate::logic::mig::{self, Kind, Reader};
use crate::logic::pid::Goto;
use crate::sys::process::TaskFacts;
use crate::vproc::Switch;
use kernel::{prelude::*, sync::Arc};

impl Migrator {
    /// Moves process `pid` or sets one of its switches for a caller on
    /// node `from` (`Control`), checked against the caller's identity as
    /// a local caller would be.
    pub(super) fn control_here(self: &Arc<Self>, from: u8, pid: u32, c: &mig::Control) -> Result {
        // ptrace's rule for that caller, here.
        let t = crate::sys::process::task_of_pid_as(pid, &c.caller)?;
        let what = match c.op {
            mig::ControlOp::Goto => "goto",
            mig::ControlOp::Loadlevel => Switch::Loadlevel.name(),
            mig::ControlOp::Lock => Switch::Lock.name(),
        };
        if !t.may_control {
            crate::vproc::refused(what, &t);
            return Err(EPERM);
        }
        match c.op {
            mig::ControlOp::Goto if c.value == 0 => self.goto(&t, Goto::Balance),
            mig::ControlOp::Goto => {
                // read_control bounds it by the highest node number.
                self.goto(&t, Goto::Node(u8::try_from(c.value).map_err(|_| EINVAL)?))
            }
            mig::ControlOp::Loadlevel | mig::ControlOp::Lock => {
                let sw = if c.op == mig::ControlOp::Lock {
                    Switch::Lock
                } else {
                    Switch::Loadlevel
                };
                self.set_switch(&t, sw, c.value == 1)?;
                // Asked by its home, which shows it itself: no notice
                // for it (`io_op::SWITCHES` tells home of those set here).
                let e = self.table.entry(pid);
                if let Some(b) = self
                    .bodies
                    .lock()
                    .iter_mut()
                    .find(|b| b.pid == pid && b.home == from)
                {
                    b.switches_told = mig::switch_bits(e.lock, e.loadlevel);
                }
                Ok(())
            }
        }
    }

    /// Sets switch `sw` of process `t` where it runs: there the leveller
    /// reads it, and it travels with the process. The caller was checked
    /// against the process here by whoever asks (procfs, the netlink API,
    /// `control_here`).
    pub(crate) fn set_switch(&self, t: &TaskFacts, sw: Switch, value: bool) -> Result {
        let Some(at) = self.table.away(t.tgid) else {
            return self.table.set_switch(t, sw, value);
        };
        // Checked again where it runs, against the process as it is now,
        // for the same caller.
        let c = mig::Control {
            op: match sw {
                Switch::Lock => mig::ControlOp::Lock,
                Switch::Loadlevel => mig::ControlOp::Loadlevel,
            },
            value: u32::from(value),
            caller: t.caller,
        };
        self.control(at, t.tgid, &c)?;
        // Home's /proc/<pid>/ files say it too (its deputy's entry); where
        // it runs, the switch is the one that counts.
        self.table.set_switch(t, sw, value)
    }

    /// Whether `caller`, of another node, may do `what` to local process
    /// `pid` (ptrace's rule, evaluated here); logs a refusal.
    pub(super) fn may_control(&self, pid: u32, what: &str, caller: &mig::Caller) -> bool {
        match crate::sys::process::task_of_pid_as(pid, caller) {
            Ok(t) if t.may_control => true,
            Ok(t) => {
                crate::vproc::refused(what, &t);
                false
            }
            Err(_) => false,
        }
    }

    /// Asks `home` to do `c` on its process `pid` (a caller here that is
    /// neither its home nor where it runs).
    pub(crate) fn control(&self, home: u8, pid: u32, c: &mig::Control) -> Result {
        let timeout = match c.op {
            mig::ControlOp::Goto => GOTO_TIMEOUT_MS,
            _ => SWITCH_TIMEOUT_MS,
        };
        let (v, _) = self.request(home, Kind::Control, pid, timeout, mig::CONTROL_LEN, |w| {
            mig::write_control(w, c)
        })?;
        if v < 0 {
            Err(errno_of(v))
        } else {
            Ok(())
        }
    }

    /// A `Goto` from the home node of a process running here: moved on
    /// by the mover, which checks it and answers when done. Bounded:
    /// EBUSY when the mover's list is full.
    pub(super) fn on_goto(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let g = mig::read_goto(&mut Reader::new(body))?;
        let n = &self.counters.moves_refused;
        self.queue_request(&self.moves, &self.moves_cv, from, h, g, MAX_MOVES, n);
        Ok(())
    }

    /// Runs `g`, home `from`'s move of process `pid` (its request `req`),
    /// in the mover, checked there and then: the process may have changed, or
    /// ended and its PID been reused, while the request waited. Ok(true):
    /// moving, its task work answers; Ok(false): it stays (best where it
    /// is).
    pub(super) fn goto_here(
        self: &Arc<Self>,
        from: u8,
        req: u64,
        pid: u32,
        g: &mig::GotoReq,
    ) -> Result<bool> {
        // Home checked its deputy; this is the process now.
        match self.body(pid) {
            Some(b) if b.home == from && !b.retiring => {}
            _ => return Err(ESRCH),
        }
        if !self.may_control(pid, "goto", &g.caller) {
            return Err(EPERM);
        }
        // Locked where it runs: it stays, as a locked process at home
        // does (EBUSY); only its home may still call it back (a leaving
        // home takes its processes back).
        if self.table.entry(pid).lock && g.node != from {
            pr_info_ratelimited!("goto: pid {} is locked to this node\n", pid);
            return Err(EBUSY);
        }
        // 0: this node's leveller chooses (`goto -1`).
        let node = match g.node {
            0 => self.best_node().ok().flatten().unwrap_or(self.me),
            n => n,
        };
        if node == self.me {
            return Ok(false);
        }
        if !self.transport.is_up(node) {
            return Err(EHOSTUNREACH);
        }
        let ask = super::source::Ask {
            asker: super::source::Asker::Goto,
            reply: Some((from, req)),
            boost: g.caller.cap_sys_nice,
            precopy: true,
        };
        self.start_goto(pid, node, ask).map(|()| true)
    }

    /// A `Control` from another node: done by the control worker (a move
    /// may take seconds, and this connection's receiver must go on; never
    /// by the reporter, whose exits must not wait behind it). Bounded:
    /// EBUSY when the worker's list is full.
    pub(super) fn on_control(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let c = mig::read_control(&mut Reader::new(body))?;
        let n = &self.counters.controls_refused;
        self.queue_request(
            &self.controls,
            &self.controls_cv,
            from,
            h,
            c,
            MAX_CONTROLS,
            n,
        );
        Ok(())
    }
}
