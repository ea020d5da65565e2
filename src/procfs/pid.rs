// SPDX-License-Identifier: GPL-2.0

//! The files of a local process: /proc/<pid>/{where,goto,loadlevel,lock,
//! nmigs}. Parses what users write to them and checks the caller against
//! the process (ptrace's rule, as the kernel evaluated it for the write),
//! then hands typed requests to the migration layer, which moves the
//! process or sets the switch where it runs. Shows what the vproc table
//! holds.

use crate::logic::pid::{self, InputError};
use crate::migrate::Migrator;
use crate::sys::proc::Seq;
use crate::sys::process::{self, TaskFacts};
use crate::vproc::{Switch, VprocTable};
use core::fmt::Write;
use kernel::{prelude::*, sync::Arc};

/// What the kernel's /proc/<pid>/ hooks call (registered at load).
pub(crate) struct PidFiles {
    me: u8,
    table: Arc<VprocTable>,
    /// An `Arc`: goto hands one to the process.
    migrator: Arc<Migrator>,
}

impl PidFiles {
    /// The files of node `me`'s processes.
    pub(crate) fn new(me: u8, table: Arc<VprocTable>, migrator: Arc<Migrator>) -> Self {
        Self {
            me,
            table,
            migrator,
        }
    }
}

/// Logs what is wrong with a write to /proc/<pid>/`file`.
fn input_error(file: &str, e: InputError) -> Error {
    pr_info_ratelimited!(
        "/proc/<pid>/{}: {}\n",
        file,
        match e {
            InputError::NotANumber => "not a number",
            InputError::OutOfRange => "out of range",
        }
    );
    EINVAL
}

/// The caller may change `what` of process `t` only by ptrace's rule
/// (same real uid and gid as its uids and gids, and it dumpable; or
/// CAP_SYS_PTRACE); a refusal is logged.
fn may_control(what: &str, t: &TaskFacts) -> Result {
    if t.may_control {
        Ok(())
    } else {
        crate::vproc::refused(what, t);
        Err(EPERM)
    }
}

impl process::PidFiles for PidFiles {
    fn show(&self, m: &mut Seq<'_>, t: &TaskFacts, name: &[u8]) -> Result {
        let e = self.table.entry(t.tgid);
        match name {
            b"where" | b"goto" => {
                let _ = writeln!(m, "{}", self.table.away(t.tgid).unwrap_or(self.me));
            }
            b"loadlevel" => {
                let _ = writeln!(m, "{}", u8::from(e.loadlevel));
            }
            b"lock" => {
                let _ = writeln!(m, "{}", u8::from(e.lock));
            }
            b"nmigs" => {
                let _ = writeln!(m, "{}", e.nmigs);
            }
            _ => return Err(ENOENT),
        }
        Ok(())
    }

    fn write(&self, t: &TaskFacts, name: &[u8], buf: &[u8]) -> Result {
        match name {
            b"goto" => {
                let to = pid::parse_goto(buf).map_err(|e| input_error("goto", e))?;
                may_control("goto", t)?;
                self.migrator.goto(t, to)
            }
            b"loadlevel" | b"lock" => {
                let sw = if name == b"lock" {
                    Switch::Lock
                } else {
                    Switch::Loadlevel
                };
                let v = pid::parse_switch(buf).map_err(|e| input_error(sw.name(), e))?;
                may_control(sw.name(), t)?;
                self.migrator.set_switch(t, sw, v)
            }
            _ => Err(EINVAL),
        }
    }
}
