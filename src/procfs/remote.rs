// SPDX-License-Identifier: GPL-2.0

//! The remote /proc/<pid> directories: the files of another node's
//! process, rendered from what its node last listed (`vproc::RemoteView`),
//! and the readdir and ownership the kernel asks of them. kill(2) of a
//! remote PID arrives through the same registration and is passed on.

use crate::logic::fmtbuf::FmtBuf;
use crate::logic::procinfo;
use crate::logic::wire::Sender;
use crate::sys::proc::Seq;
use crate::sys::process;
use crate::vproc::RemoteView;
use core::fmt::Write;
use kernel::{prelude::*, sync::Arc};

/// What the kernel's remote /proc hooks call (registered at load).
pub(crate) struct RemoteFiles(pub(crate) Arc<RemoteView>);

impl process::RemoteProcs for RemoteFiles {
    fn next(&self, from: u32) -> Option<u32> {
        let mut next = None;
        self.0.each_from(from, &mut |p| {
            next = Some(p.pid);
            false
        });
        next
    }

    fn owner_of(&self, tgid: u32) -> Option<(u32, u32)> {
        // A process that arrived here is this node's now: its remote entry
        // (cached by an earlier lookup, and the listing may be older than
        // the move) must go, or /proc/<pid>/maps of the restorer and every
        // file /proc has of a local process would not be found.
        if process::task_of_pid(tgid).is_ok() {
            return None;
        }
        self.0.listed(tgid).map(|p| (p.euid, p.egid))
    }

    fn show(&self, m: &mut Seq<'_>, tgid: u32, name: &[u8]) -> Result {
        // What ps reads for every process may be as old as the listing;
        // the vproc files are read one at a time, by people: fresher.
        let p = match name {
            b"where" | b"loadlevel" | b"lock" | b"nmigs" => self.0.lookup(tgid),
            _ => self.0.listed(tgid),
        }
        .ok_or(ESRCH)?;
        let mut out = FmtBuf::<512>::new();
        match name {
            b"stat" => procinfo::render_stat(&p, process::boot_wall_ms(), 100, &mut out),
            b"statm" => procinfo::render_statm(&p, 4096, &mut out),
            b"status" => procinfo::render_status(&p, 4096, &mut out),
            b"cmdline" => {
                m.write(p.cmdline());
                return Ok(());
            }
            b"comm" => {
                m.write(p.comm());
                m.write(b"\n");
                return Ok(());
            }
            b"where" => {
                let _ = writeln!(out, "{}", p.node);
            }
            b"loadlevel" => {
                let _ = writeln!(out, "{}", u8::from(p.loadlevel));
            }
            b"lock" => {
                let _ = writeln!(out, "{}", u8::from(p.lock));
            }
            b"nmigs" => {
                let _ = writeln!(out, "{}", p.nmigs);
            }
            _ => return Err(ENOENT),
        }
        m.write(out.as_bytes());
        Ok(())
    }

    fn kill(&self, pid: u32, sig: u32, from: &Sender) -> Result {
        self.0.kill_remote(pid, sig, from)
    }
}
