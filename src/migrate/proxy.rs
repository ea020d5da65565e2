// SPDX-License-Identifier: GPL-2.0

//! The running side of a moved process's files and signals: its fds are
//! proxies whose operations travel to its deputy at home; signals from
//! home are delivered here.

use super::{Inbound, Migrator, WireResult};
use crate::logic::errno::Errno;
use crate::logic::mig::{self, io_op, Io, Kind, Reader};
use crate::sys::migrate::{self as sm};
use kernel::prelude::*;

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
            fd: f.home_fd,
            op: io_op::IOCTL,
            len: cmd,
            arg: if sh.by_value { arg } else { 0 },
            data: input,
        };
        let r = self.request(home, Kind::Io, pid, 60_000, 32 + input.len(), |w| {
            mig::write_io(w, &io)
        });
        let (v, d) = match r {
            Ok(x) => x,
            Err(e) if e == EINTR => return Errno::EINTR.to_result(),
            Err(_) => return Errno::EIO.to_result(),
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

    /// A `Signal` from the home node of a process running here.
    pub(super) fn on_signal(&self, m: Inbound<'_>) -> WireResult {
        let Inbound { from, h, body } = m;
        let mut r = Reader::new(body);
        let sg = mig::read_signal(&mut r)?;
        if self.body(h.pid).is_some_and(|b| b.home == from) {
            let _ = sm::signal(h.pid, sg.sig, sg.code, sg.from_pid, sg.from_uid);
        }
        Ok(())
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
        if op == io_op::CLOSE {
            // Only the process's own close; not a copy that moved on.
            if self.body(pid).is_some_and(|b| !b.retiring) {
                let io = Io {
                    deputy,
                    fd: home_fd,
                    op,
                    len: 0,
                    arg: 0,
                    data: &[],
                };
                let _ = self.send(home, Kind::Io, pid, 32, |w| mig::write_io(w, &io));
            }
            return 0;
        }
        if op == io_op::IOCTL {
            return self.proxy_ioctl(&f, whence, arg);
        }
        let (len, data): (u32, &[u8]) = match op {
            io_op::READ => (buf.len().min(mig::IO_MAX) as u32, &[]),
            io_op::WRITE => (
                buf.len().min(mig::IO_MAX) as u32,
                &buf[..buf.len().min(mig::IO_MAX)],
            ),
            io_op::LSEEK => (whence, &[]),
            _ => return Errno::EINVAL.to_result(),
        };
        let io = Io {
            deputy,
            fd: home_fd,
            op,
            len,
            arg,
            data,
        };
        // A read of a terminal may wait for a person: no time limit.
        let timeout = if op == io_op::READ { u32::MAX } else { 60_000 };
        let r = self.request(home, Kind::Io, pid, timeout, 32 + data.len(), |w| {
            mig::write_io(w, &io)
        });
        let (v, d) = match r {
            Ok(x) => x,
            Err(e) if e == EINTR => return Errno::EINTR.to_result(),
            Err(_) => return Errno::EIO.to_result(),
        };
        if op == io_op::READ && v > 0 {
            if v as usize != d.len() || d.len() > buf.len() {
                return Errno::EIO.to_result();
            }
            buf[..d.len()].copy_from_slice(&d);
        }
        if v == Errno::ERESTARTSYS.to_result() && !sm::signal_pending() {
            return Errno::EINTR.to_result();
        }
        v
    }
}
