// SPDX-License-Identifier: GPL-2.0

//! The running side of a moved process's files and signals: its fds are
//! proxies whose operations travel to its deputy at home; signals from
//! home are delivered here.

use super::{Inbound, Migrator, WireResult};
use crate::logic::errno::Errno;
use crate::logic::mig::{self, io_op, Io, Kind, Reader};
use crate::sys::migrate::{self as sm};
use crate::sys::time::now_ns;
use kernel::prelude::*;

/// How long a proxied request is repeated across a broken link (past the
/// fencing bound: by then the process is killed if home stays away).
const IO_RETRY_NS: u64 = 30_000_000_000;

impl Migrator {
    /// An ioctl on a proxy (the body's side): terminal commands travel to
    /// the deputy with their argument bytes; others fail with ENOTTY.
    pub(super) fn proxy_ioctl(&self, f: &sm::ProxyFile, cmd: u32, arg: i64) -> i64 {
        let (home, pid) = (f.home, f.pid);
        let Some(sh) = mig::ioctl_shape(cmd) else {
            return Errno::ENOTTY.to_result();
        };
        let mut input = [0u8; 64];
        let input = &mut input[..sh.input as usize];
        if !sh.by_value && sm::user_read(arg as u64, input).is_err() {
            return Errno::EFAULT.to_result();
        }
        let io = Io {
            deputy: f.deputy,
            seq: self.next_io_seq(pid),
            fd: f.home_fd,
            op: io_op::IOCTL,
            len: cmd,
            arg: if sh.by_value { arg } else { 0 },
            data: input,
            nowait: false,
        };
        let (v, d) = match self.proxy_request(home, pid, &io, 60_000) {
            Ok(x) => x,
            Err(e) => return e,
        };
        if v >= 0 && sh.output > 0 {
            if d.len() != sh.output as usize {
                return Errno::EIO.to_result();
            }
            if sm::user_write(arg as u64, &d).is_err() {
                return Errno::EFAULT.to_result();
            }
        }
        v
    }

    /// The next request number of process `pid`'s proxies.
    pub(super) fn next_io_seq(&self, pid: u32) -> u32 {
        let mut b = self.bodies.lock();
        match b.iter_mut().find(|b| b.pid == pid) {
            Some(b) => {
                b.io_seq = b.io_seq.wrapping_add(1).max(1);
                b.io_seq
            }
            None => 0,
        }
    }

    /// An `Io` request to the deputy, repeated with the same number when
    /// the link breaks (the deputy answers a repeat with its first reply:
    /// a write is done once), until it is back, the process is killed
    /// (fenced when home stays away) or [`IO_RETRY_NS`] passed. The error
    /// is the result to return.
    pub(super) fn proxy_request(
        &self,
        home: u8,
        pid: u32,
        io: &Io<'_>,
        timeout_ms: u32,
    ) -> core::result::Result<(i64, KVVec<u8>), i64> {
        self.proxy_retry(home, pid, io, timeout_ms, &mut |f| super::resp_join(f))
    }

    /// [`proxy_request`](Self::proxy_request) of a read: what home read
    /// goes straight into `out`; returns the value and the bytes written.
    pub(super) fn proxy_read_into(
        &self,
        home: u8,
        pid: u32,
        io: &Io<'_>,
        timeout_ms: u32,
        out: &mut [u8],
    ) -> core::result::Result<(i64, usize), i64> {
        self.proxy_retry(home, pid, io, timeout_ms, &mut |f| super::resp_into(f, out))
    }

    /// The request and repeats of [`proxy_request`](Self::proxy_request):
    /// `answer` reads the answer's frames (an answer it cannot read is
    /// asked again, as a lost one is).
    fn proxy_retry<T>(
        &self,
        home: u8,
        pid: u32,
        io: &Io<'_>,
        timeout_ms: u32,
        answer: &mut dyn FnMut(&[KVec<u8>]) -> Result<T>,
    ) -> core::result::Result<T, i64> {
        let start = now_ns();
        // The header names the calling thread: a thread with a deputy of
        // its own at home is served by it (see `Migrator::io_route`). A
        // fork and its undo are the process's deputy's (the leader's),
        // whichever thread forks: it forks itself at home.
        let fork = io.op == io_op::FORK || io.op == io_op::FORK_UNDO;
        let to = if sm::current_tgid() == pid && !fork {
            sm::current_tid()
        } else {
            pid
        };
        // A signal here interrupts the call at home as it would a local
        // one (a read of an empty pipe or a terminal, a lock, a FIFO's
        // open): its answer then says what the call did.
        let interrupt = || {
            if io.seq == 0 {
                return;
            }
            let intr = Io {
                seq: 0,
                op: io_op::INTR,
                len: 0,
                arg: i64::from(io.seq),
                data: &[],
                nowait: false,
                ..*io
            };
            let _ = self.send(home, Kind::Io, to, 36, |w| mig::write_io(w, &intr));
        };
        loop {
            let r = self
                .request_frames(
                    home,
                    Kind::Io,
                    to,
                    timeout_ms,
                    36 + io.data.len(),
                    |w| mig::write_io(w, io),
                    &interrupt,
                )
                .and_then(|f| answer(&f));
            match r {
                Ok(x) => return Ok(x),
                Err(e) if e == EINTR => return Err(Errno::EINTR.to_result()),
                Err(_) => {
                    if io.seq == 0
                        || sm::fatal_pending()
                        || self.body(pid).is_none()
                        || now_ns().saturating_sub(start) > IO_RETRY_NS
                    {
                        return Err(Errno::EIO.to_result());
                    }
                    self.counters.io_retries.inc();
                    crate::sys::time::msleep(250);
                }
            }
        }
    }

    /// A `Signal` from the home node of a process running here (a
    /// request): delivered once, whatever the repeats; ESRCH when the
    /// process is not (or no more) here, so that its deputy keeps it for
    /// where it is now. The answer says whether the process stops with
    /// it (the stop signal), so that its deputy stops too (job control).
    pub(super) fn on_signal(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let mut r = Reader::new(body);
        let sg = mig::read_signal(&mut r)?;
        let verdict = {
            let mut b = self.bodies.lock();
            match b
                .iter_mut()
                .find(|b| b.pid == h.pid && b.home == from && b.deputy == sg.deputy && !b.retiring)
            {
                None => Err(Errno::ESRCH),
                Some(b) if sg.seq != 0 && sg.seq == b.sig_seq => Ok(Some(b.sig_answer)),
                Some(b) if sg.seq != 0 && sg.seq < b.sig_seq => Ok(Some(0)),
                Some(b) => {
                    b.sig_seq = b.sig_seq.max(sg.seq);
                    b.sig_answer = 0;
                    Ok(None)
                }
            }
        };
        let v = match verdict {
            Ok(None) => {
                let job = sg.flags & mig::sig_flags::JOB_STOP != 0;
                let stops = sm::signal_job(h.pid, sg.sig, sg.code, sg.from_pid, sg.from_uid, job)
                    .map_or(0, i64::from);
                let mut b = self.bodies.lock();
                if let Some(b) = b
                    .iter_mut()
                    .find(|b| b.pid == h.pid && b.deputy == sg.deputy)
                {
                    if stops != 0 && b.sig_seq == sg.seq {
                        b.sig_answer = stops;
                    }
                    // The deputy learns the job state from this answer.
                    if stops != 0 {
                        b.job_told = stops as u32;
                    } else if sg.sig == super::deputy::SIGCONT {
                        b.job_told = 0;
                    }
                }
                stops
            }
            Ok(Some(v)) => v,
            Err(e) => e.to_result(),
        };
        self.respond(from, h.req, h.pid, v, &[]);
        Ok(())
    }

    /// The reporter's round of notices to deputies, one pass over the
    /// processes running here:
    /// - job control: one that stopped or continued by a signal sent here
    ///   (`kill -STOP` on this node), unknown to its deputy, is reported
    ///   home (`io_op::JOB`), so that home's shell sees it stopped
    ///   (wait(WUNTRACED), `jobs`) or continued, as it would had the
    ///   process stayed;
    /// - its name: one whose name changed (it exec'd a program here, or
    ///   set its name) tells its deputy (`io_op::COMM`), which takes the
    ///   name at home, where `ps`, `pgrep` and `killall` see the deputy;
    /// - its switches: `lock` or `loadlevel` set here (`io_op::SWITCHES`),
    ///   for home's files to show them;
    /// - its command line: once per program it executed here, and when
    ///   a look (`look`: every few rounds) finds it changed, a title set
    ///   by writing over its arguments (`setproctitle()`: postgres, sshd,
    ///   nginx workers) (`io_op::CMDLINE`), which home writes over the
    ///   deputy's (`ps aux`, `pgrep -f`). The first look after it
    ///   arrived sends it once (home keeps what it has if it is the
    ///   same): a title set where it ran before may not have been sent.
    ///
    /// Whether any body runs here (the reporter then polls more often).
    pub(super) fn job_round(&self, look: bool) -> bool {
        let mut seen = KVec::new();
        for b in self.bodies.lock().iter() {
            if b.running && !b.retiring {
                let _ = seen.push(*b, GFP_ATOMIC);
            }
        }
        for b in seen.iter() {
            let (pid, home, deputy) = (b.pid, b.home, b.deputy);
            let job = sm::job_state(pid);
            if (job != 0) != (b.job_told != 0)
                && self.notice(home, pid, deputy, io_op::JOB, i64::from(job), &[])
            {
                self.told(b, |r| &mut r.job_told, job);
            }
            let mut comm = [0u8; mig::COMM_LEN];
            if let Ok(n @ 1..) = sm::comm_of(pid, &mut comm) {
                if comm != b.comm_told && self.notice(home, pid, deputy, io_op::COMM, 0, &comm[..n])
                {
                    self.told(b, |r| &mut r.comm_told, comm);
                }
            }
            // Its lock or loadlevel switch set here.
            let e = self.table.entry(pid);
            let sw = mig::switch_bits(e.lock, e.loadlevel);
            if sw != b.switches_told && self.notice(home, pid, deputy, io_op::SWITCHES, sw, &[]) {
                self.told(b, |r| &mut r.switches_told, sw);
            }
            // A program executed here: its command line, once per exec
            // (once the exec is over: its count goes up before the new
            // program's arguments are in place); a title it set.
            if let Ok(t) = sm::Task::of(pid) {
                let exec = t.exec_id().wrapping_add(1);
                if (exec != b.cmd_told.0 || look) && !t.in_execve() {
                    if let Some(sum) = self.cmdline_notice(&t, b, exec) {
                        self.told(b, |r| &mut r.cmd_told, (exec, sum));
                    }
                }
            }
        }
        !seen.is_empty()
    }

    /// Sends body `b`'s deputy its command line (of its task `t`, whose
    /// exec count plus one is `exec`; an `io_op::CMDLINE` notice) unless
    /// the deputy has heard of this one: the line's sum when it went out.
    /// None yet (an exec between its count and its arguments) is tried
    /// again next round.
    fn cmdline_notice(&self, t: &sm::Task, b: &super::BodyRec, exec: u64) -> Option<u64> {
        let mut line = KVec::new();
        line.resize(mig::CMDLINE_MAX, 0u8, GFP_KERNEL).ok()?;
        let n = sm::cmdline(t, &mut line);
        let line = line.get(..n).filter(|l| !l.is_empty())?;
        let sum = mig::cmdline_sum(line);
        if (exec, sum) == b.cmd_told {
            return None;
        }
        self.notice(b.home, b.pid, b.deputy, io_op::CMDLINE, 0, line)
            .then_some(sum)
    }

    /// Sends process `pid`'s deputy at `home` an unanswered notice `op`
    /// (`arg`, `data`): whether it went out.
    fn notice(&self, home: u8, pid: u32, deputy: u64, op: u32, arg: i64, data: &[u8]) -> bool {
        let io = Io {
            deputy,
            seq: 0,
            fd: 0,
            op,
            len: if op == io_op::COMM || op == io_op::CMDLINE {
                data.len() as u32
            } else {
                0
            },
            arg,
            data,
            nowait: false,
        };
        self.send(home, Kind::Io, pid, 36 + data.len(), |w| {
            mig::write_io(w, &io)
        })
        .is_ok()
    }

    /// Records on body `seen` (as the round read it) that its deputy was
    /// told `now` of `field`, unless the field changed meanwhile (another
    /// record, which the next round compares with).
    fn told<T: Copy + PartialEq>(
        &self,
        seen: &super::BodyRec,
        field: impl Fn(&mut super::BodyRec) -> &mut T,
        now: T,
    ) {
        let mut copy = *seen;
        let was = *field(&mut copy);
        let mut b = self.bodies.lock();
        if let Some(b) = b
            .iter_mut()
            .find(|b| b.pid == seen.pid && b.deputy == seen.deputy)
        {
            let f = field(b);
            if *f == was {
                *f = now;
            }
        }
    }
}

impl sm::ProxyIo for Migrator {
    fn io(&self, f: sm::ProxyFile, op: u32, buf: &mut [u8], whence: u32, arg: i64) -> i64 {
        let sm::ProxyFile {
            home,
            pid,
            home_fd,
            deputy,
        } = f;
        // A blocking proxy of a multi-threaded process: its ticket, and
        // its wait here when home found the file not ready (nowait.rs).
        if op == sm::IO_TICKET {
            return self.ticket(pid).map_or(-1, i64::from);
        }
        if op == sm::IO_WAIT {
            return match self.wait_ready(pid, arg as u32, super::nowait::FALLBACK_MS) {
                Ok(()) => 0,
                Err(e) => e,
            };
        }
        let nowait = op & sm::IO_NOWAIT != 0;
        let op = op & !sm::IO_NOWAIT;
        // Only the process's own close; not a copy that moved on.
        if op == io_op::CLOSE && self.body(pid).is_none_or(|b| b.retiring) {
            return 0;
        }
        if op == io_op::IOCTL {
            return self.proxy_ioctl(&f, whence, arg);
        }
        // A read of a terminal may wait for a person: no time limit. A
        // poll asks without waiting: quickly, or the file is in error.
        let timeout = match op {
            io_op::READ => u32::MAX,
            io_op::POLL => 5_000,
            _ => 60_000,
        };
        let seq = self.next_io_seq(pid);
        let v = if op == io_op::READ {
            // Its answer goes straight into the caller's room.
            let len = buf.len().min(mig::READ_MAX);
            let io = Io {
                deputy,
                seq,
                fd: home_fd,
                op,
                len: len as u32,
                arg,
                data: &[],
                nowait,
            };
            match self.proxy_read_into(home, pid, &io, timeout, &mut buf[..len]) {
                Ok((v, n)) if v > 0 && mig::read_count(v) as usize != n => {
                    return Errno::EIO.to_result()
                }
                Ok((v, _)) => v,
                Err(e) => return e,
            }
        } else {
            let (len, data): (u32, &[u8]) = match op {
                io_op::WRITE => (
                    buf.len().min(mig::IO_MAX) as u32,
                    &buf[..buf.len().min(mig::IO_MAX)],
                ),
                io_op::LSEEK => (whence, &[]),
                // Answered like the others: close(2) returns once home
                // closed the file, so what closing does there has happened,
                // as it would have here: a terminal's hang-up and its SIGHUP
                // (which the deputy forwards before it answers) reach the
                // process before close() returns; a lock on the file is
                // released.
                io_op::POLL | io_op::CLOSE => (0, &[]),
                _ => return Errno::EINVAL.to_result(),
            };
            let io = Io {
                deputy,
                seq,
                fd: home_fd,
                op,
                len,
                arg,
                data,
                nowait: nowait && op == io_op::WRITE,
            };
            match self.proxy_request(home, pid, &io, timeout) {
                Ok((v, _)) => v,
                Err(e) => return e,
            }
        };
        if v == Errno::ERESTARTSYS.to_result() && !sm::signal_pending() {
            return Errno::EINTR.to_result();
        }
        v
    }
}
