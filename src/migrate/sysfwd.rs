// SPDX-License-Identifier: GPL-2.0

//! The system calls a moved process makes at home (MOSIX's home-node
//! rule, `logic::mig::sysfwd` says which): on the node it runs on, the
//! entry hook sends them to its deputy as an `Io` request; the deputy,
//! the process's own task at home, performs them in its context (its
//! cwd, root, credentials, umask, process group and files are the
//! process's) and answers with the result and the bytes the call wrote.

use super::nowait::{ERESTARTNOINTR, ERESTARTSYS};
use super::Migrator;
use crate::logic::errno::Errno;
use crate::logic::fmtbuf::FmtBuf;
use crate::logic::mig::sysfwd::{self as sf, Arg, FdIs, Route};
use crate::logic::mig::{self, home_ns, io_op, rights, Io, Kind, Writer};
use crate::logic::wire::WireError;
use crate::sys::migrate::{self as sm, SysBuf};
use core::fmt::Write as _;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

/// A result a task may never see (the kernel's restart codes, 512-516):
/// with a signal pending here, the signal decides (it restarts the call
/// or makes it fail with EINTR, as its handler says). With none, what
/// interrupted the call at home was a signal this node's process does not
/// take (one it ignores, as SIGCHLD by default, or a kick from home): the
/// call runs again, as the kernel restarts a call no signal interrupted.
/// `nr`: the call (an epoll wait says EINTR itself, not a restart code).
fn visible(nr: u32, v: i64) -> i64 {
    let interrupted =
        (-516..=-512).contains(&v) || (v == Errno::EINTR.to_result() && sf::waits_for_events(nr));
    if interrupted && !sm::signal_pending() {
        sm::notify_signal();
        -513 // ERESTARTNOINTR
    } else {
        v
    }
}

/// `MSG_DONTWAIT`.
const MSG_DONTWAIT: u32 = 0x40;
/// `MSG_PEEK`.
const MSG_PEEK: u32 = 0x2;
/// `MSG_CTRUNC`: not every descriptor that came could be given.
const MSG_CTRUNC: u32 = 0x8;
/// `MSG_CMSG_CLOEXEC`.
const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
/// The file flags a proxy takes (O_ACCMODE, O_APPEND, O_NONBLOCK).
const FD_FLAGS: u32 = 0o3 | 0o2000 | 0o4000;

/// The bytes of the caller's iovecs `vecs` (base, length), gathered in
/// order, at most `max`.
fn gather(
    vecs: impl Iterator<Item = (u64, u64)>,
    max: usize,
) -> core::result::Result<KVec<u8>, i64> {
    let mut data = KVec::new();
    for (base, len) in vecs {
        let n = (len as usize).min(max - data.len());
        if n == 0 {
            continue;
        }
        let at = data.len();
        data.resize(at + n, 0u8, GFP_KERNEL)
            .map_err(|_| Errno::ENOMEM.to_result())?;
        sm::user_read(base, &mut data[at..]).map_err(|_| Errno::EFAULT.to_result())?;
    }
    Ok(data)
}

/// `data` scattered over the caller's iovecs `vecs`, in order.
fn scatter(vecs: impl Iterator<Item = (u64, u64)>, data: &[u8]) -> core::result::Result<(), i64> {
    let mut rest = data;
    for (base, len) in vecs {
        if rest.is_empty() {
            break;
        }
        let n = (len as usize).min(rest.len());
        sm::user_write(base, &rest[..n]).map_err(|_| Errno::EFAULT.to_result())?;
        rest = &rest[n..];
    }
    Ok(())
}

impl sm::SysHook for Migrator {
    fn enter(this: ArcBorrow<'_, Self>, nr: u32, args: &[u64; 6]) -> Option<i64> {
        if nr == sf::NR_EXECVE {
            return Arc::<Self>::from(this).exec(args);
        }
        if sf::ipc_at_home(nr) {
            return Arc::<Self>::from(this).ipc_home();
        }
        if sf::userns_at_home(nr, args) {
            return Arc::<Self>::from(this).userns_home(nr, args);
        }
        if sf::unshares_pidns(nr, args) && sm::in_pidns() {
            return Arc::<Self>::from(this).fork_at_home(
                sm::current_tgid(),
                "its PID namespace is home's: it goes home to make one below it there",
            );
        }
        if matches!(
            nr,
            sf::NR_FORK | sf::NR_VFORK | sf::NR_CLONE | sf::NR_CLONE3
        ) {
            return Arc::<Self>::from(this).fork(nr, args);
        }
        this.enter_call(nr, args)
    }
}

impl Migrator {
    /// [`sm::SysHook::enter`] for every call but execve.
    fn enter_call(&self, nr: u32, args: &[u64; 6]) -> Option<i64> {
        // A plain recv of a file served at home (no flags but
        // MSG_DONTWAIT, no address asked) is the proxy's read(2): a TCP
        // stream's read-ahead serves it, a round trip per READ_MAX bytes;
        // a MSG_PEEK sees what that read-ahead holds.
        let flags = args[3] as u32;
        if nr == sf::NR_RECVFROM && args[4] == 0 && flags & !(MSG_DONTWAIT | MSG_PEEK) == 0 {
            let (dontwait, peek) = (flags & MSG_DONTWAIT != 0, flags & MSG_PEEK != 0);
            if let Some(v) = sm::proxy_recv(args[0] as i32, args[1], args[2], dontwait, peek) {
                return Some(visible(nr, v));
            }
        }
        if nr == sf::NR_MMAP {
            let (h, p, hfd, d) = self.own_proxy(sf::mmap_fd(args)?)?;
            return Some(self.mmap_proxy(h, p, d, hfd, args));
        }
        if nr == sf::NR_SENDMSG || nr == sf::NR_RECVMSG {
            let (h, p, hfd, d) = self.own_proxy(args[0] as i32)?;
            return Some(match self.msg_call(nr, args, h, p, d, hfd) {
                Ok(v) => v,
                Err(e) => e,
            });
        }
        if nr == sf::NR_SENDMMSG || nr == sf::NR_RECVMMSG {
            let (h, p, hfd, d) = self.own_proxy(args[0] as i32)?;
            return Some(self.mmsg_call(nr, args, h, p, d, hfd));
        }
        // Signalfds an epoll at home watches: kept by its proxy here.
        if nr == sf::NR_EPOLL_CTL {
            if let Some(v) = self.epoll_ctl_watch(args) {
                return Some(v);
            }
        }
        if sf::waits_for_events(nr) {
            if let Some(v) = self.epoll_wait_watched(nr, args) {
                return Some(v);
            }
        }
        // A signal to another process than its own, by a process in the
        // PID namespace made here for its home's: sent from home, where
        // that namespace's processes are (here only those that moved
        // here are in it, and its PIDs mean nothing to other nodes).
        let sh = sf::shape(nr, args).or_else(|| {
            sf::signal_target(nr, args)
                .filter(|&(t, th)| sm::pidns_other(t, th))
                .and_then(|_| sf::signal_shape(nr))
        });
        if nr != sf::NR_OPENAT2 && sh.is_none() {
            return None;
        }
        let pid = sm::current_tgid();
        let Some(b) = self.body(pid) else {
            // Not a process that moved here (a child that inherited the
            // mark): its calls are its own.
            sm::set_guest(false);
            return None;
        };
        if b.retiring || !b.running {
            return None;
        }
        // Host names are home's, but in a UTS namespace it made here;
        // sockets likewise, but in a net namespace it made here.
        if (sf::uts_call(nr) && sm::own_uts()) || (nr == sf::NR_SOCKET && sm::own_net()) {
            return None;
        }
        // A wait for children it forked here is this node's; one for the
        // children it left at home (their parent there is its deputy) or
        // for none is home's (ECHILD there, as here).
        if sf::wait_target(nr, args).is_some_and(sm::has_child) {
            return None;
        }
        // Its own limits that hold at home are set there, then here.
        if nr == sf::NR_SETRLIMIT || nr == sf::NR_PRLIMIT64 {
            if !sf::rlimit_at_home(nr, args, pid) {
                return None;
            }
            // (No old value asked at home: here gives it.)
            let mut home_args = *args;
            if nr == sf::NR_PRLIMIT64 {
                home_args[0] = 0;
                home_args[3] = 0;
            }
            return match self.forward_call(nr, &home_args, sh, b.home, pid, b.deputy) {
                Ok(Some(v)) if v >= 0 => None,
                Ok(Some(v)) => Some(v),
                Ok(None) => None,
                Err(e) => Some(e),
            };
        }
        let r = self.forward_call(nr, args, sh, b.home, pid, b.deputy);
        let made = sf::ns_made_at_home(nr, args);
        if made != 0 && r == Ok(Some(0)) {
            // Namespaces it made or entered at home: its next moves know
            // them (an execve goes home; SysV shm and POSIX mq are home's).
            if let Some(r) = self
                .bodies
                .lock()
                .iter_mut()
                .find(|r| r.pid == pid && r.deputy == b.deputy)
            {
                r.home_ns |= home_ns::of_clone(made);
            }
        }
        match r {
            Ok(v) => v,
            Err(e) => Some(e),
        }
    }
}

impl Migrator {
    /// Call `nr` of process `pid` (running here, home `home`), of shape
    /// `sh` (as `enter_call` chose it; None: it runs here): `Ok(None)`
    /// when it runs here, `Ok(Some(result))` when done at home; `Err` is
    /// the result of a call that failed on the way.
    fn forward_call(
        &self,
        nr: u32,
        args: &[u64; 6],
        sh: Option<&'static sf::Shape>,
        home: u8,
        pid: u32,
        deputy: u64,
    ) -> core::result::Result<Option<i64>, i64> {
        let nomem = Errno::ENOMEM.to_result();
        let efault = Errno::EFAULT.to_result();
        // The bytes each argument carries in; paths first (the route
        // needs to know which are absolute).
        let mut ins: [KVec<u8>; 6] = Default::default();
        let mut null = [false; 6];
        if let Some(sh) = sh {
            for (i, a) in sh.args.iter().enumerate() {
                if let Arg::Path | Arg::PathOrNull = a {
                    if args[i] == 0 && *a == Arg::PathOrNull {
                        null[i] = true;
                        continue;
                    }
                    ins[i]
                        .resize(sf::PATH_MAX as usize, 0, GFP_KERNEL)
                        .map_err(|_| nomem)?;
                    let n = sm::user_path(args[i], &mut ins[i])?;
                    ins[i].truncate(n);
                }
            }
        }
        // A descriptor named through /proc (/proc/self/fd/N, /dev/fd/N):
        // home's /proc numbers it as home does; a file of this node is
        // this node's /proc's.
        for p in ins.iter_mut() {
            let Some((s, e, n)) = sf::fd_in_path(p, pid) else {
                continue;
            };
            match sm::fd_proxy(n) {
                Some((h, pp, hfd, d)) if h == home && pp == pid && d == deputy => {
                    let mut num = FmtBuf::<16>::new();
                    let _ = write!(num, "{}", hfd);
                    let mut q = KVec::new();
                    let (Some(a), Some(b)) = (p.get(..s), p.get(e..)) else {
                        return Ok(None);
                    };
                    q.extend_from_slice(a, GFP_KERNEL).map_err(|_| nomem)?;
                    q.extend_from_slice(num.as_bytes(), GFP_KERNEL)
                        .map_err(|_| nomem)?;
                    q.extend_from_slice(b, GFP_KERNEL).map_err(|_| nomem)?;
                    if q.len() > sf::PATH_MAX as usize {
                        return Err(-36); // ENAMETOOLONG
                    }
                    *p = q;
                }
                _ => return Ok(None),
            }
        }
        let fd_is = |fd: i32| match sm::fd_proxy(fd) {
            Some((h, p, hfd, d)) if h == home && p == pid && d == deputy => FdIs::Proxy(hfd),
            _ => FdIs::Local,
        };
        let a = match sf::route_shape(sh, nr, args, fd_is, |i| ins[i].first() == Some(&b'/')) {
            Route::Local => return Ok(None),
            Route::Fail(e) => return Ok(Some(-i64::from(e))),
            Route::Home(a) => a,
        };
        let Some(sh) = sh else { return Ok(None) };
        for (i, arg) in sh.args.iter().enumerate() {
            let n = match *arg {
                Arg::In(_) | Arg::InOutOpt(_) | Arg::AddrIn(_) if args[i] == 0 => {
                    null[i] = true;
                    continue;
                }
                Arg::In(n) | Arg::InOut(n) | Arg::InOutOpt(n) => n as usize,
                Arg::InLen(j) | Arg::AddrIn(j) => a[j as usize] as usize,
                Arg::InArr(j, n) => a[j as usize] as usize * usize::from(n),
                Arg::MsgIn(j) => 8 + a[j as usize] as usize,
                _ => continue,
            };
            ins[i].resize(n, 0, GFP_KERNEL).map_err(|_| nomem)?;
            sm::user_read(args[i], &mut ins[i]).map_err(|_| efault)?;
        }
        // A buffer written by the length it points to: the user's length
        // (what may be written here), that length cut to the room the
        // deputy has (what may be written there).
        // (SO_GET_FILTER's length counts 8-byte instructions.)
        let unit = sf::len_unit(nr, &a);
        let mut by_len = [0usize; 6];
        for (i, arg) in sh.args.iter().enumerate() {
            if let (Arg::OutByLen(j), false) = (*arg, args[i] == 0) {
                let Some(l) = ins.get_mut(j as usize).and_then(|b| b.get_mut(..4)) else {
                    return Ok(Some(efault));
                };
                let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]);
                by_len[i] = (n as usize).saturating_mul(unit as usize);
                l.copy_from_slice(&n.min(sf::SOCK_BUF / unit).to_le_bytes());
            }
        }
        let mut refs: [Option<&[u8]>; 6] = [None; 6];
        for (i, arg) in sh.args.iter().enumerate() {
            if sf::carries_in(*arg) && !null[i] {
                refs[i] = Some(&ins[i]);
            }
        }
        let (v, d) = if nr == sf::NR_SENDTO {
            let v = self.send_all(home, pid, deputy, args, &a, &refs)?;
            (v, KVVec::new())
        } else {
            self.home_call(home, pid, deputy, nr, &a, &refs)?
        };
        let outs = sf::split_reply(sh, &a, v, &d).map_err(|_| Errno::EIO.to_result())?;
        if let (sf::Ret::NewPair { at, .. }, true) = (sh.ret, v >= 0) {
            return Ok(Some(self.install_pair(
                sh,
                args,
                outs[at as usize],
                at,
                home,
                pid,
                deputy,
            )));
        }
        for (i, o) in outs.iter().enumerate() {
            let o = match sh.args.get(i) {
                // What the call wrote: the length it set, within the
                // caller's buffer.
                Some(Arg::OutByLen(j)) => {
                    let set = outs
                        .get(*j as usize)
                        .and_then(|b| b.get(..4))
                        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                        .saturating_mul(unit as usize);
                    o.get(..by_len[i].min(set).min(o.len())).unwrap_or(&[])
                }
                _ => o,
            };
            if !o.is_empty() {
                sm::user_write(args[i], o).map_err(|_| efault)?;
            }
        }
        if v >= 0 {
            if let Some((cloexec, flags)) = sf::new_fd_flags(sh, args) {
                let fd = sm::install_new_proxy(flags, cloexec, home, pid, v as i32, deputy);
                if fd < 0 {
                    self.close_home_fd(home, pid, deputy, v as i32);
                }
                return Ok(Some(fd));
            }
        }
        Ok(Some(visible(nr, v)))
    }

    /// A `sendto` (`send`) of process `pid`: `args` the caller's, `a` and
    /// `refs` the first [`sf::BUF_MAX`] bytes' request. On a stream socket
    /// the rest follows, a request at a time, as a blocking send sends it
    /// all: until all is sent, or a request sends nothing (an error, a
    /// signal, EAGAIN of a non-blocking socket: what was sent counts). A
    /// datagram longer than one request fails with EMSGSIZE, not cut.
    /// (A send that did not wait at home, a thread's, may also be short.)
    fn send_all(
        &self,
        home: u8,
        pid: u32,
        deputy: u64,
        args: &[u64; 6],
        a: &[u64; 6],
        refs: &[Option<&[u8]>; 6],
    ) -> core::result::Result<i64, i64> {
        let total = args[2];
        if total > a[2] && !self.home_stream(home, pid, deputy, a[0])? {
            return Ok(Errno::EMSGSIZE.to_result());
        }
        let (v, _) = self.home_call(home, pid, deputy, sf::NR_SENDTO, a, refs)?;
        if v <= 0 || v as u64 >= total || args[3] & u64::from(MSG_DONTWAIT) != 0 {
            return Ok(v);
        }
        let mut done = v as u64;
        let mut chunk = KVec::new();
        while done < total {
            let n = (total - done).min(u64::from(sf::BUF_MAX));
            chunk.clear();
            if chunk.resize(n as usize, 0u8, GFP_KERNEL).is_err()
                || sm::user_read(args[1] + done, &mut chunk).is_err()
            {
                break;
            }
            let mut a2 = *a;
            a2[2] = n;
            let mut r2 = *refs;
            r2[1] = Some(&chunk);
            match self.home_call(home, pid, deputy, sf::NR_SENDTO, &a2, &r2) {
                Ok((v, _)) if v > 0 => done += v as u64,
                _ => break,
            }
        }
        Ok(done as i64)
    }

    /// Whether home's socket `hfd` of process `pid` is a stream socket
    /// (`SO_TYPE`).
    fn home_stream(
        &self,
        home: u8,
        pid: u32,
        deputy: u64,
        hfd: u64,
    ) -> core::result::Result<bool, i64> {
        const SOL_SOCKET: u64 = 1;
        const SO_TYPE: u64 = 3;
        const SOCK_STREAM: u32 = 1;
        let a = [hfd, SOL_SOCKET, SO_TYPE, 1, 1, 0];
        let len = 4u32.to_le_bytes();
        let mut ins: [Option<&[u8]>; 6] = [None; 6];
        ins[4] = Some(&len);
        let (v, d) = self.home_call(home, pid, deputy, sf::NR_GETSOCKOPT, &a, &ins)?;
        if v < 0 {
            return Err(v);
        }
        let sh = sf::shape(sf::NR_GETSOCKOPT, &a).ok_or(Errno::EINVAL.to_result())?;
        let outs = sf::split_reply(sh, &a, v, &d).map_err(|_| Errno::EIO.to_result())?;
        let t = outs[3]
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        Ok(t == SOCK_STREAM)
    }

    /// `sendmsg`/`recvmsg` (`nr`) of process `pid` on a socket served at
    /// home (its number there `hfd`): made there as `sendto`/`recvfrom`,
    /// the iovecs gathered (at most `BUF_MAX` bytes: a stream socket's
    /// send is then short, as it may be) or scattered here. Ancillary data
    /// cannot travel: a `sendmsg` with some fails with EOPNOTSUPP, a
    /// `recvmsg` gets none (`msg_controllen` 0).
    fn msg_call(
        &self,
        nr: u32,
        args: &[u64; 6],
        home: u8,
        pid: u32,
        deputy: u64,
        hfd: i32,
    ) -> core::result::Result<i64, i64> {
        let efault = Errno::EFAULT.to_result();
        let nomem = Errno::ENOMEM.to_result();
        let mut hb = [0u8; sf::MSGHDR];
        sm::user_read(args[1], &mut hb).map_err(|_| efault)?;
        let m = sf::MsgHdr::parse(&hb);
        if m.iovlen > sf::IOV_MAX {
            return Ok(Errno::EMSGSIZE.to_result());
        }
        let mut iov = KVec::new();
        iov.resize(m.iovlen as usize * sf::IOVEC, 0u8, GFP_KERNEL)
            .map_err(|_| nomem)?;
        sm::user_read(m.iov, &mut iov).map_err(|_| efault)?;
        let vecs = (0..m.iovlen as usize).filter_map(|i| sf::iovec(&iov, i));
        let has_name = m.name != 0 && m.namelen > 0;
        let mut ins: [Option<&[u8]>; 6] = [None; 6];
        // Descriptors to send, or room for some to come (SCM_RIGHTS):
        // the real call at home.
        let rights = if nr == sf::NR_SENDMSG {
            m.controllen != 0
        } else {
            m.control != 0 && rights::fds_room(m.controllen) > 0
        };
        if rights {
            return self.msg_rights(nr, args, &m, &iov, home, pid, deputy, hfd);
        }
        if nr == sf::NR_SENDMSG {
            if has_name && m.namelen > sf::SOCK_BUF {
                return Ok(Errno::EINVAL.to_result());
            }
            let data = gather(vecs, sf::BUF_MAX as usize)?;
            let mut name = KVec::new();
            if has_name {
                name.resize(m.namelen as usize, 0u8, GFP_KERNEL)
                    .map_err(|_| nomem)?;
                sm::user_read(m.name, &mut name).map_err(|_| efault)?;
            }
            let a = [
                hfd as u64,
                1,
                data.len() as u64,
                args[2],
                u64::from(has_name),
                if has_name { u64::from(m.namelen) } else { 0 },
            ];
            ins[1] = Some(&data);
            ins[4] = has_name.then_some(&name[..]);
            let (v, _) = self.home_call(home, pid, deputy, sf::NR_SENDTO, &a, &ins)?;
            return Ok(visible(sf::NR_SENDTO, v));
        }
        let cap = vecs
            .clone()
            .fold(0u64, |t, (_, l)| t.saturating_add(l))
            .min(u64::from(sf::BUF_MAX));
        let namecap = if m.name != 0 {
            m.namelen.min(sf::SOCK_BUF)
        } else {
            0
        };
        let lenb = namecap.to_le_bytes();
        let named = u64::from(m.name != 0);
        let a = [hfd as u64, 1, cap, args[2], named, named];
        if m.name != 0 {
            ins[5] = Some(&lenb);
        }
        let (v, d) = self.home_call(home, pid, deputy, sf::NR_RECVFROM, &a, &ins)?;
        let sh = sf::shape(sf::NR_RECVFROM, &a).ok_or(Errno::EINVAL.to_result())?;
        let outs = sf::split_reply(sh, &a, v, &d).map_err(|_| Errno::EIO.to_result())?;
        if v >= 0 {
            scatter(vecs, outs[1])?;
            if m.name != 0 {
                let got = outs[5]
                    .get(..4)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                let n = (got.min(namecap) as usize).min(outs[4].len());
                sm::user_write(m.name, &outs[4][..n]).map_err(|_| efault)?;
                sm::user_write(args[1] + sf::MSGHDR_NAMELEN as u64, &got.to_le_bytes())
                    .map_err(|_| efault)?;
            }
            sm::user_write(args[1] + sf::MSGHDR_CONTROLLEN as u64, &0u64.to_le_bytes())
                .map_err(|_| efault)?;
            sm::user_write(args[1] + sf::MSGHDR_FLAGS as u64, &0u32.to_le_bytes())
                .map_err(|_| efault)?;
        }
        Ok(visible(sf::NR_RECVFROM, v))
    }

    /// [`Self::msg_call`] with descriptors (`SCM_RIGHTS`): a sendmsg of
    /// this process's proxies sends the files they stand for at home; a
    /// recvmsg with room for descriptors gets those home received, each
    /// a new proxy here (`MSG_CMSG_CLOEXEC` honoured). Other control
    /// messages fail with EOPNOTSUPP (sendmsg) or do not come (recvmsg);
    /// a file of this node cannot be sent (EOPNOTSUPP). At most
    /// `rights::DATA_MAX` bytes travel (a stream socket's send is then
    /// short, as it may be).
    #[allow(clippy::too_many_arguments)]
    fn msg_rights(
        &self,
        nr: u32,
        args: &[u64; 6],
        m: &sf::MsgHdr,
        iov: &[u8],
        home: u8,
        pid: u32,
        deputy: u64,
        hfd: i32,
    ) -> core::result::Result<i64, i64> {
        let efault = Errno::EFAULT.to_result();
        let nomem = Errno::ENOMEM.to_result();
        let send = nr == sf::NR_SENDMSG;
        let vecs = (0..m.iovlen as usize).filter_map(|i| sf::iovec(iov, i));
        let flags = args[2] as u32;
        let mut c = rights::MsgCall {
            send,
            flags: flags & !MSG_CMSG_CLOEXEC,
            fd: hfd,
            name: &[],
            name_room: 0,
            fds: &[],
            fds_room: 0,
            data: &[],
            data_room: 0,
        };
        let data;
        let (mut name, mut fdb) = (KVec::new(), KVec::new());
        if send {
            let n = m.controllen as usize;
            if n > rights::CONTROL_MAX || (m.name != 0 && m.namelen > rights::NAME_MAX) {
                return Ok(Errno::EINVAL.to_result());
            }
            let mut ctl = KVec::new();
            ctl.resize(n, 0u8, GFP_KERNEL).map_err(|_| nomem)?;
            sm::user_read(m.control, &mut ctl).map_err(|_| efault)?;
            let mut fds = [0i32; rights::SCM_MAX_FD];
            let k = match rights::rights_in(&ctl, &mut fds) {
                Ok(k) => k,
                Err(e) => {
                    pr_info_ratelimited!(
                        "pid {}: sendmsg() with control data home cannot send: error {}\n",
                        pid,
                        e
                    );
                    return Ok(-i64::from(e));
                }
            };
            for &fd in &fds[..k] {
                match sm::fd_proxy(fd) {
                    Some((h, p, f, d)) if h == home && p == pid && d == deputy => {
                        fdb.extend_from_slice(&f.to_le_bytes(), GFP_KERNEL)
                            .map_err(|_| nomem)?;
                    }
                    _ => {
                        pr_info_ratelimited!(
                            "pid {}: fd {} is a file of this node: it cannot be sent through home's socket (EOPNOTSUPP)\n",
                            pid,
                            fd
                        );
                        return Ok(Errno::EOPNOTSUPP.to_result());
                    }
                }
            }
            data = gather(vecs.clone(), rights::DATA_MAX as usize)?;
            if m.name != 0 && m.namelen > 0 {
                name.resize(m.namelen as usize, 0u8, GFP_KERNEL)
                    .map_err(|_| nomem)?;
                sm::user_read(m.name, &mut name).map_err(|_| efault)?;
            }
            c.name = &name;
            c.fds = &fdb;
            c.data = &data;
        } else {
            c.name_room = if m.name != 0 {
                m.namelen.min(rights::NAME_MAX)
            } else {
                0
            };
            c.fds_room = rights::fds_room(m.controllen) as u32;
            c.data_room = vecs
                .clone()
                .fold(0u64, |t, (_, l)| t.saturating_add(l))
                .min(u64::from(rights::DATA_MAX)) as u32;
        }
        let (v, d) = self.home_msg(home, pid, deputy, &c)?;
        if send || v < 0 {
            return Ok(visible(sf::NR_SENDTO, v));
        }
        let r = rights::read_msg_reply(&mut mig::Reader::new(&d), &c, v)
            .map_err(|_| Errno::EIO.to_result())?;
        // Each descriptor that came: a proxy here (those that cannot be
        // are closed at home, and the message is cut: MSG_CTRUNC).
        let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
        let mut here = [0i32; rights::SCM_MAX_FD];
        let mut got = 0;
        let mut msg_flags = r.flags;
        for i in 0..r.nfds() {
            let Some((f, fl)) = r.fd(i) else { break };
            let fd = if msg_flags & MSG_CTRUNC == 0 {
                sm::install_new_proxy(fl & FD_FLAGS, cloexec, home, pid, f, deputy)
            } else {
                -1
            };
            if fd < 0 {
                self.close_home_fd(home, pid, deputy, f);
                msg_flags |= MSG_CTRUNC;
            } else {
                here[got] = fd as i32;
                got += 1;
            }
        }
        scatter(vecs, r.data)?;
        if m.name != 0 {
            sm::user_write(m.name, r.name).map_err(|_| efault)?;
            sm::user_write(
                args[1] + sf::MSGHDR_NAMELEN as u64,
                &(r.name.len() as u32).to_le_bytes(),
            )
            .map_err(|_| efault)?;
        }
        let mut ctl = KVec::new();
        ctl.resize(
            (m.controllen as usize).min(rights::CONTROL_MAX),
            0u8,
            GFP_KERNEL,
        )
        .map_err(|_| nomem)?;
        let used = rights::rights_out(&here[..got], &mut ctl).unwrap_or(0);
        if used > 0 {
            sm::user_write(m.control, &ctl[..used]).map_err(|_| efault)?;
        }
        sm::user_write(
            args[1] + sf::MSGHDR_CONTROLLEN as u64,
            &(used as u64).to_le_bytes(),
        )
        .map_err(|_| efault)?;
        sm::user_write(args[1] + sf::MSGHDR_FLAGS as u64, &msg_flags.to_le_bytes())
            .map_err(|_| efault)?;
        Ok(v)
    }

    /// Sends `io_op::MSG` request `c` of process `pid` to its deputy: the
    /// result and a recvmsg's answer. It waits here, not at home, as
    /// [`Self::home_call`]'s calls do.
    fn home_msg(
        &self,
        home: u8,
        pid: u32,
        deputy: u64,
        c: &rights::MsgCall<'_>,
    ) -> core::result::Result<(i64, KVVec<u8>), i64> {
        let len = 32 + c.name.len() + c.fds.len() + c.data.len();
        let body = self.with_creds(pid, len, |w| rights::write_msg_call(w, c))?;
        let once =
            |nowait: bool| self.request_home(home, pid, deputy, io_op::MSG, 0, &body, nowait);
        if c.flags & MSG_DONTWAIT == 0 {
            self.wait_here(pid, None, false, ERESTARTSYS, once, KVVec::new)
        } else {
            once(false)
        }
    }

    /// `sendmmsg`/`recvmmsg` (`nr`) of process `pid` on a socket served
    /// at home (its number there `hfd`): one [`Self::msg_call`] per
    /// message, each `msg_len` set, until one fails. The result is the
    /// number of messages done, or the first one's error. (glibc's
    /// resolver sends its two DNS queries with one `sendmmsg`.) A
    /// `recvmmsg` timeout is not applied: it waits as the flags say.
    #[allow(clippy::too_many_arguments)]
    fn mmsg_call(
        &self,
        nr: u32,
        args: &[u64; 6],
        home: u8,
        pid: u32,
        deputy: u64,
        hfd: i32,
    ) -> i64 {
        let one = if nr == sf::NR_SENDMMSG {
            sf::NR_SENDMSG
        } else {
            sf::NR_RECVMSG
        };
        let count = sf::mmsg_count(args[2]);
        for done in 0..count {
            let at = args[1].wrapping_add(done.wrapping_mul(sf::MMSGHDR));
            let flags = if one == sf::NR_RECVMSG {
                sf::mmsg_recv_flags(args[3], done)
            } else {
                args[3]
            };
            let a = [args[0], at, flags, 0, 0, 0];
            let v = self
                .msg_call(one, &a, home, pid, deputy, hfd)
                .unwrap_or_else(|e| e);
            let set = if v < 0 {
                Err(v)
            } else {
                sm::user_write(at.wrapping_add(sf::MMSGHDR_LEN), &(v as u32).to_le_bytes())
                    .map_err(|_| Errno::EFAULT.to_result())
            };
            // The first message's error is the call's; after it, the count.
            if let Err(e) = set {
                return if done == 0 { e } else { done as i64 };
            }
        }
        count as i64
    }

    /// The two files a call made at home (a pipe, a socket pair; `out`:
    /// their numbers there): a proxy of each, their numbers here written
    /// to argument `at`. On a failure none is left, here or at home.
    #[allow(clippy::too_many_arguments)]
    fn install_pair(
        &self,
        sh: &sf::Shape,
        args: &[u64; 6],
        out: &[u8],
        at: u8,
        home: u8,
        pid: u32,
        deputy: u64,
    ) -> i64 {
        let Some(pair) = sf::new_pair(sh, args, out) else {
            return Errno::EIO.to_result();
        };
        let mut here = [-1i64; 2];
        for (k, &(hfd, cloexec, flags)) in pair.iter().enumerate() {
            here[k] = sm::install_new_proxy(flags, cloexec, home, pid, hfd, deputy);
        }
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&(here[0] as i32).to_le_bytes());
        bytes[4..].copy_from_slice(&(here[1] as i32).to_le_bytes());
        let failed = here.iter().find(|&&f| f < 0).copied().or_else(|| {
            sm::user_write(args[at as usize], &bytes)
                .err()
                .map(|_| Errno::EFAULT.to_result())
        });
        let Some(e) = failed else { return 0 };
        for (k, &(hfd, ..)) in pair.iter().enumerate() {
            if here[k] >= 0 {
                // Its proxy's close closes it at home.
                sm::close_fd(here[k] as i32);
            } else {
                self.close_home_fd(home, pid, deputy, hfd);
            }
        }
        e
    }

    /// Sends call `nr` (arguments `a`, the bytes each carries in `ins`)
    /// to the deputy of `pid` and waits for its result and the bytes it
    /// wrote back. A call that waits on a file's readiness, made by a
    /// thread of a multi-threaded process, waits here, not at home
    /// (src/migrate/nowait.rs).
    fn home_call(
        &self,
        home: u8,
        pid: u32,
        deputy: u64,
        nr: u32,
        a: &[u64; 6],
        ins: &[Option<&[u8]>; 6],
    ) -> core::result::Result<(i64, KVVec<u8>), i64> {
        // (A semop that asks IPC_NOWAIT itself somewhere: as asked. An
        // epoll_pwait2 or semtimedop waits as its timespec says; zero:
        // not at all.)
        let nw = sf::no_wait(nr, a).and_then(|mut nw| {
            if nw.patch == sf::Patch::Sembufs && ins[1].is_some_and(sf::sembufs_any_nowait) {
                return None;
            }
            if let Some(at) = nw.timespec_at {
                let ts = *ins.get(usize::from(at))?;
                nw.timeout_ms = Some(sf::timespec_ms(ts).filter(|&ms| ms != 0)?);
            }
            Some(nw)
        });
        let Some(nw) = nw else {
            return self.home_call_once(home, pid, deputy, nr, a, ins, false);
        };
        // An epoll wait's signal mask: its wait here is made under it.
        let mask = match nw.mask_at {
            Some(at) => {
                let b = ins.get(usize::from(at)).copied().flatten();
                let Some(m) = b.and_then(|b| b.get(..8)?.try_into().ok()) else {
                    return self.home_call_once(home, pid, deputy, nr, a, ins, false);
                };
                Some(sm::sigmask_enter(u64::from_le_bytes(m)))
            }
            None => None,
        };
        let interrupted = sf::interrupted(nr);
        let r = self.wait_here(
            pid,
            nw.timeout_ms.map(|ms| (ms, nw.timed_out)),
            nw.on == sf::WaitOn::Retry,
            interrupted,
            |quick| self.home_call_once(home, pid, deputy, nr, a, ins, quick),
            KVVec::new,
        );
        if let Some(old) = mask {
            sm::sigmask_leave(old, matches!(r, Err(e) if e == interrupted));
        }
        r
    }

    /// One request of [`Self::home_call`] (`nowait`: it must not wait at
    /// home).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn home_call_once(
        &self,
        home: u8,
        pid: u32,
        deputy: u64,
        nr: u32,
        a: &[u64; 6],
        ins: &[Option<&[u8]>; 6],
        nowait: bool,
    ) -> core::result::Result<(i64, KVVec<u8>), i64> {
        let sh = sf::wire_shape(nr, a).ok_or(Errno::EINVAL.to_result())?;
        let body = self.with_creds(pid, sf::call_len(sh, a), |w| sf::write_call(w, nr, a, ins))?;
        self.request_home(home, pid, deputy, io_op::SYSCALL, nr, &body, nowait)
    }

    /// The body of a request made at home for the calling thread: its
    /// credentials (the deputy takes them first: the process may have
    /// changed its own here), then what `write` writes (at most `len`
    /// bytes).
    fn with_creds(
        &self,
        pid: u32,
        len: usize,
        write: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
    ) -> core::result::Result<KVec<u8>, i64> {
        let ns = self.body(pid).map_or(0, |b| b.userns);
        let creds = sm::current_creds(ns).map_err(|e| {
            let why = if e == EPERM {
                "it is in a user namespace it made away from home"
            } else {
                "more groups than a call carries"
            };
            pr_info_ratelimited!("migrate: pid {}: a call at home refused: {}\n", pid, why);
            i64::from(e.to_errno())
        })?;
        let mut body = KVec::new();
        body.resize(mig::CREDS_LEN + len, 0, GFP_KERNEL)
            .map_err(|_| Errno::ENOMEM.to_result())?;
        let mut w = Writer::new(&mut body);
        creds.write(&mut w).map_err(|_| Errno::EINVAL.to_result())?;
        write(&mut w).map_err(|_| Errno::EINVAL.to_result())?;
        let n = w.len();
        body.truncate(n);
        Ok(body)
    }

    /// One `op` request (`SYSCALL`: `len` its number; `MSG`) with `body`
    /// to the deputy of `pid`, without a time limit.
    #[allow(clippy::too_many_arguments)]
    fn request_home(
        &self,
        home: u8,
        pid: u32,
        deputy: u64,
        op: u32,
        len: u32,
        body: &[u8],
        nowait: bool,
    ) -> core::result::Result<(i64, KVVec<u8>), i64> {
        let io = Io {
            deputy,
            seq: self.next_io_seq(pid),
            fd: 0,
            op,
            len,
            arg: 0,
            data: body,
            nowait,
        };
        // A call may wait as long as a read (an open of a FIFO, a lock).
        match self.proxy_request(home, pid, &io, u32::MAX) {
            Ok(x) => Ok(x),
            // Interrupted by a move (a task work, no signal): the call
            // runs again where the process resumes.
            Err(e) if e == Errno::EINTR.to_result() && !sm::signal_pending() => {
                Err(-513) // ERESTARTNOINTR
            }
            Err(e) => Err(e),
        }
    }

    /// `execve` of a moved process: home's program runs. Where this node
    /// has the very file (an absolute path, the identity home's stat
    /// gives) it runs here; otherwise the process goes home first and the
    /// call runs again there. A move home that fails leaves it to run
    /// this node's program, as before; a program home does not have fails
    /// as it would there.
    fn exec(self: &Arc<Self>, args: &[u64; 6]) -> Option<i64> {
        let pid = sm::current_tgid();
        if let Some(again) = self.home_pending(pid) {
            return Some(again);
        }
        if self
            .body(pid)
            .is_some_and(|b| b.home_ns & home_ns::MNT != 0 && b.running && !b.retiring)
        {
            return self.exec_home_mnt(pid);
        }
        let b = self.may_go_home(pid)?;
        let mut path = KVec::new();
        if path.resize(sf::PATH_MAX as usize, 0u8, GFP_KERNEL).is_err() {
            return Some(Errno::ENOMEM.to_result());
        }
        let n = match sm::user_path(args[0], &mut path) {
            Ok(n) => n,
            Err(e) => return Some(e),
        };
        path.truncate(n);
        let a = [0, 0, 0, 0, 0, 0];
        let ins = [Some(&path[..]), None, None, None, None, None];
        let home_id = match self.home_call(b.home, pid, b.deputy, sf::NR_STAT, &a, &ins) {
            Ok((0, d)) => sf::stat_identity(&d),
            // Not there (or not to be seen): execve at home would fail so.
            Ok((v, _)) => return Some(visible(sf::NR_STAT, v)),
            Err(e) => return Some(e),
        };
        if path.first() == Some(&b'/') && home_id.is_some() && sm::path_identity(&path) == home_id {
            return None;
        }
        // A relative path is in home's working directory: where this node
        // has that directory (by its path at home) with the very file in
        // it, it becomes the working directory here and the program runs
        // here, as an absolute path's would (a vfork child, which cannot
        // go home, too: Python's subprocess, posix_spawn).
        if path.first() != Some(&b'/')
            && home_id.is_some()
            && self.cwd_here(&b, pid, &path, home_id)
        {
            return None;
        }
        if sm::in_vfork() {
            // The path named a file home has (its stat answered), so the
            // restorer's execve differs from this one only in where it
            // runs; failing that, this node's program runs.
            if let Err(e) = Self::vfork_exec_home(pid) {
                pr_info_ratelimited!(
                    "migrate: pid {}: a vfork child, it executes this node's program (home's differs; error {})\n",
                    pid,
                    e.to_errno()
                );
            }
            return None;
        }
        self.call_at_home(
            pid,
            b.home,
            "its program differs here: it goes home to execute it",
        )
    }

    /// Whether home's working directory of moved process `pid` (`b`) is a
    /// directory of this node too (its path at home) holding the file
    /// `rel` (a relative path, NUL-terminated) of identity `id`, home's:
    /// then it is made the working directory here.
    fn cwd_here(&self, b: &super::BodyRec, pid: u32, rel: &[u8], id: Option<[u64; 8]>) -> bool {
        let mut a = [0u64; 6];
        a[1] = u64::from(sf::PATH_MAX);
        let ins = [None; 6];
        let Ok((v, d)) = self.home_call(b.home, pid, b.deputy, sf::NR_GETCWD, &a, &ins) else {
            return false;
        };
        // getcwd's count has its NUL; "(unreachable)/..." is no path here.
        let Some(dir) = usize::try_from(v)
            .ok()
            .and_then(|n| d.get(..n.checked_sub(1)?))
            .filter(|d| d.first() == Some(&b'/'))
        else {
            return false;
        };
        let mut at = KVec::new();
        let joined = (|| -> Result<()> {
            at.extend_from_slice(dir, GFP_KERNEL)?;
            if dir != b"/" {
                at.push(b'/', GFP_KERNEL)?;
            }
            Ok(at.extend_from_slice(rel, GFP_KERNEL)?)
        })();
        if joined.is_err() || at.len() > sf::PATH_MAX as usize || sm::path_identity(&at) != id {
            return false;
        }
        // Only the directory: the file's name is `rel` again there.
        at.truncate(dir.len());
        at.push(0, GFP_KERNEL).is_ok() && sm::chdir_here(&at).is_ok()
    }

    /// `execve` of moved process `pid` (running) whose mount namespace at home
    /// is its own: the paths it names, and those of its interpreters
    /// (`#!`, the ELF one), are home's view, which this node's files need
    /// not match (a file the namespace hides, a setuid program among
    /// them). It goes home and the call runs again there (a vfork child,
    /// in its parent's memory, through the restorer); where it cannot (a
    /// move home that failed) the call fails with EXDEV, logged: this
    /// node's program never runs.
    fn exec_home_mnt(self: &Arc<Self>, pid: u32) -> Option<i64> {
        let exdev = Errno::EXDEV.to_result();
        let refuse = |why: &str| {
            pr_info_ratelimited!(
                "pid {}: its mount namespace is home's, and {}: execve fails (EXDEV)\n",
                pid,
                why
            );
            exdev
        };
        // None here: sent home for this call, and still here (that move
        // failed).
        let Some(b) = self.may_go_home(pid) else {
            return Some(refuse("it could not go home"));
        };
        if sm::in_vfork() {
            return Self::vfork_exec_home(pid)
                .err()
                .map(|_| refuse("a vfork child cannot go home"));
        }
        Some(
            self.call_at_home(
                pid,
                b.home,
                "its mount namespace is home's: it goes home to execute",
            )
            .unwrap_or_else(|| refuse("it cannot go home now")),
        )
    }

    /// The `execve` vfork child `pid` is entering, of a program it must
    /// run at home: in its parent's memory it cannot move (a move would
    /// wait for this very exec). The call executes the restorer here
    /// instead (`sm::exec_via`), which has a memory of its own (its
    /// parent goes on, as after any exec) and executes the program again:
    /// that call goes home, as any moved process's. On an error nothing
    /// changed.
    fn vfork_exec_home(pid: u32) -> Result {
        sm::exec_via(super::RESTORER)?;
        pr_info_ratelimited!(
            "migrate: pid {}: a vfork child, home's program differs: it executes it through the restorer, which goes home\n",
            pid
        );
        Ok(())
    }

    /// A SysV shared memory or POSIX message queue call
    /// ([`sf::ipc_at_home`]) of a moved process: the process goes home and
    /// the call runs again there (a segment it attaches keeps it there:
    /// shared memory does not move). Where it cannot go, the call fails
    /// with EXDEV (logged) for a process whose IPC namespace at home is
    /// its own (this node's objects are outside it), and runs here, on
    /// this node's objects, for the others (as before 2026-12-06).
    fn ipc_home(self: &Arc<Self>) -> Option<i64> {
        let pid = sm::current_tgid();
        if let Some(again) = self.home_pending(pid) {
            return Some(again);
        }
        let body = self.body(pid).filter(|b| b.running && !b.retiring)?;
        let failed = || {
            (body.home_ns & home_ns::IPC != 0).then(|| {
                pr_info_ratelimited!(
                    "pid {}: its IPC namespace is home's, and it could not go home: EXDEV\n",
                    pid
                );
                Errno::EXDEV.to_result()
            })
        };
        // None here: it was sent home for this call and is still here.
        let Some(b) = self.may_go_home(pid) else {
            return failed();
        };
        self.call_at_home(
            pid,
            b.home,
            "its SysV shared memory and POSIX message queues are home's: it goes home",
        )
        .or_else(failed)
    }

    /// An unshare making a user namespace, or a setns that may enter one
    /// by a descriptor of home's (`sf::userns_at_home`), of a moved
    /// process: it goes home and makes the call there, natively (its maps
    /// are written there, and it moves on with them, its namespace made
    /// again where it arrives). The call runs here when it cannot go (a
    /// locked process, home down, or a move home that failed): the
    /// namespace is then this node's. A process of several threads stays
    /// (the call fails, EINVAL, as at home).
    fn userns_home(self: &Arc<Self>, nr: u32, args: &[u64; 6]) -> Option<i64> {
        let pid = sm::current_tgid();
        if let Some(again) = self.home_pending(pid) {
            return Some(again);
        }
        if sm::current_multithreaded()
            || (nr == sf::NR_SETNS && self.own_proxy(args[0] as i32).is_none())
        {
            return None;
        }
        let b = self.may_go_home(pid)?;
        if self.locked(pid) {
            return None;
        }
        self.call_at_home(
            pid,
            b.home,
            "it makes or enters a user namespace: it goes home to do it there",
        )
    }

    /// A fork (`fork`, `vfork`, a `clone` or `clone3` of a new process)
    /// of a moved process: the child is born here with its deputy at
    /// home ([`Self::fork_away`]), so that its children are home's (their
    /// parent there, its deputy, waits for them when it does, and they
    /// see home's files), as a process forked before the move; a locked
    /// one too (it stays here, its children may move). Where home
    /// cannot make that deputy, it goes home first and forks there (a
    /// locked one too, as for an execve); where that move fails too, the
    /// fork fails (EAGAIN, as over a limit): a child forked here natively
    /// would be this node's, its parent held here by it and its wait
    /// this node's. A new thread stays.
    fn fork(self: &Arc<Self>, nr: u32, args: &[u64; 6]) -> Option<i64> {
        let flags = if nr == sf::NR_CLONE3 {
            let mut f = [0u8; 8];
            // clone3(args, size): a size too small for flags fails as it
            // would (EINVAL), here.
            (args[1] >= 8 && sm::user_read(args[0], &mut f).is_ok()).then(|| u64::from_le_bytes(f))
        } else {
            Some(args[0])
        };
        let pid = sm::current_tgid();
        // In the PID namespace made here for its home's: a child or a
        // thread needs numbers in home's namespace, which only home
        // gives; it goes home to fork or start it there.
        if sm::in_pidns() {
            return self.fork_at_home(
                pid,
                "its PID namespace is home's: it goes home to fork or start a thread there",
            );
        }
        if !sf::makes_process(nr, flags) {
            return None;
        }
        if let Some(again) = self.home_pending(pid) {
            return Some(again);
        }
        // A child copies its memory: all of it must be here (post-copy).
        self.lazy_wait(pid, super::lazy::LAZY_WAIT_MS);
        // Running the program it moved with or one it exec'd here, its
        // children are born here with their deputies at home, as MOSIX
        // made them, locked here or not. Sent home for this fork and
        // still here, that move failed: the child is made here as any
        // (a vfork of a process whose mount namespace is home's, which
        // went home first), or not at all.
        let b = self.body(pid).filter(|b| b.running && !b.retiring)?;
        // Running and not leaving, `may_go_home` says None only then (and
        // clears the mark).
        let sent_home = self.may_go_home(pid).is_none();
        // A vfork child executes a program at once, in its parent's
        // memory, where it cannot move: with the paths of home's mount
        // namespace (see `exec_home_mnt`) that must be at home, so the
        // parent goes there first (posix_spawn, Python's subprocess).
        if !sent_home && b.home_ns & home_ns::MNT != 0 && sf::is_vfork(nr, flags) {
            if let Some(again) = self.call_at_home(
                pid,
                b.home,
                "its mount namespace is home's: it goes home to vfork",
            ) {
                return Some(again);
            }
        }
        if let Some(child) = self.fork_away(pid, &b, nr, args) {
            return Some(child);
        }
        if sent_home {
            return Some(Self::fork_refused(pid, "its move home to fork failed"));
        }
        self.call_at_home(pid, b.home, "it forks: it goes home to fork there")
            .or_else(|| Some(Self::fork_refused(pid, "it cannot go home to fork")))
    }

    /// A fork or a new thread (or an `unshare(CLONE_NEWPID)`: `why`
    /// says) of moved process `pid`, in the PID namespace made here for
    /// its home's: made at home, where the process goes first; where it
    /// cannot go (or went and is still here), EAGAIN, as over a limit (a
    /// child or thread numbered here would have numbers home's namespace
    /// may give another).
    fn fork_at_home(self: &Arc<Self>, pid: u32, why: &str) -> Option<i64> {
        if let Some(again) = self.home_pending(pid) {
            return Some(again);
        }
        self.body(pid).filter(|b| b.running && !b.retiring)?;
        let Some(b) = self.may_go_home(pid) else {
            return Some(Self::fork_refused(
                pid,
                "its move home to fork in its PID namespace failed",
            ));
        };
        self.call_at_home(pid, b.home, why).or_else(|| {
            Some(Self::fork_refused(
                pid,
                "it cannot go home to fork in its PID namespace",
            ))
        })
    }

    /// A fork of moved process `pid` that neither home nor this node may
    /// make (`why`): EAGAIN, as fork(2) fails over a limit, logged.
    fn fork_refused(pid: u32, why: &str) -> i64 {
        pr_info_ratelimited!(
            "migrate: pid {}: its fork fails (EAGAIN): {}; a child of this node's would keep it here\n",
            pid,
            why
        );
        Errno::EAGAIN.to_result()
    }

    /// A plain fork (`sf::fork_here`) of moved process `pid` (`b`, by any
    /// of its threads) made where it runs, as MOSIX and OpenSSI made
    /// them: its deputy (the leader's) forks at home first (`FORK`),
    /// which makes the child's deputy and takes its PID from home's
    /// share; the child then starts here
    /// under that PID, a copy of the process whose proxies are its own
    /// deputy's. As if it had been forked at home and moved here: home
    /// is its home, its parent there (the deputy) waits for it, `ps` shows
    /// it once. `None`: not such a fork, or home could not make it (it is
    /// made at home then, as before).
    fn fork_away(
        self: &Arc<Self>,
        pid: u32,
        b: &super::BodyRec,
        nr: u32,
        args: &[u64; 6],
    ) -> Option<i64> {
        let mut c3 = [0u8; sf::CLONE3_MAX];
        let c3 = if nr == sf::NR_CLONE3 {
            let n = usize::try_from(args[1])
                .ok()
                .filter(|&n| n <= sf::CLONE3_MAX)?;
            sm::user_read(args[0], &mut c3[..n]).ok()?;
            Some(&c3[..n])
        } else {
            None
        };
        let fh = sf::fork_here(nr, args, c3)?;
        // What its proxies read ahead goes back first: the child shares
        // the files' offsets at home.
        if let Err(e) = sm::proxies_giveback() {
            pr_info_ratelimited!(
                "migrate: pid {}: its read-ahead cannot go back (error {}): it forks at home\n",
                pid,
                e.to_errno()
            );
            return None;
        }
        let io = Io {
            deputy: b.deputy,
            seq: self.next_io_seq(pid),
            fd: 0,
            op: io_op::FORK,
            len: 0,
            arg: i64::from(fh.exit_signal),
            data: &[],
            nowait: false,
        };
        let (child, dep) = match self.proxy_request(b.home, pid, &io, super::COMMIT_TIMEOUT_MS) {
            Ok((v, d)) if v > 0 && d.len() == 8 => {
                let mut w = [0u8; 8];
                w.copy_from_slice(&d);
                (u32::try_from(v).ok()?, u64::from_le_bytes(w))
            }
            Ok((v, _)) => {
                pr_info_ratelimited!(
                    "migrate: pid {}: home cannot fork it (error {}): it forks at home\n",
                    pid,
                    v
                );
                return None;
            }
            Err(e) if e == Errno::EINTR.to_result() => return Some(e),
            Err(e) => {
                pr_info_ratelimited!(
                    "migrate: pid {}: no answer from home to its fork (error {}): it forks at home\n",
                    pid,
                    e
                );
                return None;
            }
        };
        // Another thread may have read ahead meanwhile, before home shared
        // the files with the child's deputy (from then on home reads no
        // more ahead for them): given back too, as fork copies the offsets
        // as they are.
        let made = (|| -> Result {
            if sm::current_multithreaded() {
                sm::proxies_giveback().map_err(|_| EIO)?;
            }
            // Filed before it runs: its first call finds it.
            // The child's deputy, a fork of this one's, shows this
            // process's command line, which the child starts with (and
            // its exec count).
            let cmd_told = (
                sm::Task::of(pid).map_or(0, |t| t.exec_id().wrapping_add(1)),
                0,
            );
            let rec = super::BodyRec {
                running: true,
                home_ns: b.home_ns,
                userns: b.userns,
                cmd_told,
                ..super::BodyRec::new(child, b.home, dep, 0)
            };
            // (A spinlock: no sleeping allocation under it.)
            self.bodies
                .lock()
                .push(rec, GFP_ATOMIC)
                .map_err(|_| ENOMEM)?;
            sm::fork_make(
                child,
                fh.flags,
                fh.child_tid,
                fh.parent_tid,
                fh.stack,
                b.deputy,
                dep,
            )
        })();
        match made {
            Ok(()) => {
                self.counters.forks_here.inc();
                Some(i64::from(child))
            }
            Err(e) => {
                self.bodies.lock().retain(|x| x.pid != child);
                pr_info_ratelimited!(
                    "migrate: pid {}: its child {} cannot start here (error {}): it forks at home\n",
                    pid,
                    child,
                    e.to_errno()
                );
                let undo = Io {
                    seq: self.next_io_seq(pid),
                    op: io_op::FORK_UNDO,
                    arg: i64::from(child),
                    ..io
                };
                let _ = self.proxy_request(b.home, pid, &undo, super::COMMIT_TIMEOUT_MS);
                None
            }
        }
    }

    /// A call made again after [`Self::call_at_home`] sent the process
    /// home for it, while that move is still on its way: the freeze
    /// stops every thread, but a thread of several may come back before
    /// the freeze reaches it, and must not take the call for one whose
    /// move failed (it would run here: a fork here would make a child of
    /// this node's, which then keeps the process from going home). It
    /// waits a tick and makes the call again (ERESTARTNOINTR), stopped on
    /// its way out once the freeze comes; `None` once the move has ended.
    fn home_pending(&self, pid: u32) -> Option<i64> {
        let b = self.body(pid)?;
        if !b.exec_home || !self.state.lock().busy.contains(&pid) {
            return None;
        }
        crate::sys::time::msleep(20);
        sm::notify_signal();
        Some(ERESTARTNOINTR)
    }

    /// The calling process `pid`, moved here, running, when a call of its
    /// may send it home ([`Self::call_at_home`]); `None` when the call
    /// runs here: it is not running as a moved process, or it was sent
    /// home for a call and is still here (that move failed: the call it
    /// is making again runs here).
    fn may_go_home(&self, pid: u32) -> Option<super::BodyRec> {
        let b = self.body(pid)?;
        if b.retiring || !b.running {
            return None;
        }
        if b.exec_home {
            if let Some(x) = self.bodies.lock().iter_mut().find(|x| x.pid == pid) {
                x.exec_home = false;
            }
            return None;
        }
        Some(b)
    }

    /// Whether moved process `pid` is pinned where it runs (`lock`): a
    /// user namespace it makes is this node's (it does not go home).
    fn locked(&self, pid: u32) -> bool {
        self.table.entry(pid).lock
    }

    /// Descriptor `fd` when it is a proxy of the calling process's own
    /// deputy and the process runs here: (home, pid, fd at home, deputy).
    pub(super) fn own_proxy(&self, fd: i32) -> Option<(u8, u32, i32, u64)> {
        let (h, p, hfd, d) = sm::fd_proxy(fd)?;
        let b = self.body(p)?;
        if p != sm::current_tgid() || h != b.home || d != b.deputy || !b.running {
            return None;
        }
        Some((h, p, hfd, d))
    }

    /// Sends process `pid` (running here, the caller) home to make the
    /// call it is entering there (logged: `why`): the call is restarted
    /// after its move. `None` (the call runs here) when it cannot go.
    fn call_at_home(self: &Arc<Self>, pid: u32, home: u8, why: &str) -> Option<i64> {
        // Its memory must all be here before it can go (post-copy).
        self.lazy_wait(pid, super::lazy::LAZY_WAIT_MS);
        let ask = super::source::Ask {
            asker: super::source::Asker::Goto,
            reply: None,
            boost: false,
            // Itself: nothing runs meanwhile to copy beside.
            precopy: false,
        };
        match self.start_goto(pid, home, ask) {
            Ok(()) => {
                if let Some(x) = self.bodies.lock().iter_mut().find(|x| x.pid == pid) {
                    x.exec_home = true;
                }
                pr_info_ratelimited!("pid {}: {}\n", pid, why);
                sm::notify_signal();
                Some(ERESTARTNOINTR) // again, at home
            }
            // Cannot go home now: this node's program, as before.
            Err(_) => None,
        }
    }

    /// `mmap` of a proxy (home fd `hfd`): a proxy cannot be mapped, but
    /// the same file of this node can, when it provably is the same (the
    /// identity home's fstat gives, to the ctime's nanosecond): a
    /// program's `dlopen()` after a move maps the libraries of the one OS
    /// image. Otherwise ENODEV, as for any file without `mmap`.
    fn mmap_proxy(&self, home: u8, pid: u32, deputy: u64, hfd: i32, args: &[u64; 6]) -> i64 {
        let enodev = Errno::ENODEV.to_result();
        if sf::mmap_writes_file(args) {
            return enodev;
        }
        // Its path at home, and its identity there.
        let mut link = FmtBuf::<32>::new();
        if write!(link, "/proc/self/fd/{}\0", hfd).is_err() || link.is_full() {
            return enodev;
        }
        let link = link.as_bytes();
        let a = [0, 0, u64::from(sf::PATH_MAX) - 1, 0, 0, 0];
        let ins = [Some(link), None, None, None, None, None];
        let path = match self.home_call(home, pid, deputy, sf::NR_READLINK, &a, &ins) {
            Ok((v, d)) if v > 0 && v as usize == d.len() && d.first() == Some(&b'/') => d,
            Ok(_) => return enodev,
            Err(e) => return e,
        };
        let a = [hfd as u64, 0, 0, sf::AT_EMPTY_PATH, 0, 0];
        let ins = [None, Some(&b"\0"[..]), None, None, None, None];
        let id = match self.home_call(home, pid, deputy, sf::NR_NEWFSTATAT, &a, &ins) {
            Ok((0, d)) => match sf::stat_identity(&d) {
                Some(id) => id,
                None => return enodev,
            },
            Ok(_) => return enodev,
            Err(e) => return e,
        };
        let mut cpath = KVec::new();
        if cpath.extend_from_slice(&path, GFP_KERNEL).is_err() || cpath.push(0, GFP_KERNEL).is_err()
        {
            return Errno::ENOMEM.to_result();
        }
        sm::mmap_same(&cpath, &id, args)
    }

    /// The deputy's side of `io_op::MSG`: the sendmsg or recvmsg with
    /// descriptors in `data` (checked by `read_io`), made in this task's
    /// context as the real call. Its result, and a recvmsg's
    /// [`mig::rights::MsgReply`]. `nowait`: as [`Self::do_call`]'s.
    pub(super) fn do_msg(&self, data: &[u8], nowait: Option<(u64, u8, u32)>) -> (i64, KVVec<u8>) {
        let mut reply = KVVec::new();
        let einval = (Errno::EINVAL.to_result(), KVVec::new());
        let Ok((creds, call)) = mig::syscall_parts(data) else {
            return einval;
        };
        let Ok(c) = rights::read_msg_call(&mut mig::Reader::new(call)) else {
            return einval;
        };
        if let Err(e) = sm::creds_sync(&creds) {
            return (i64::from(e.to_errno()), reply);
        }
        let mut fds = [0i32; rights::SCM_MAX_FD];
        let mut fd_flags = [0u32; rights::SCM_MAX_FD];
        let mut name = [0u8; rights::NAME_MAX as usize];
        let mut buf = KVVec::new();
        let (nfds, namelen, dlen) = if c.send {
            for (i, b) in c.fds.chunks_exact(4).enumerate() {
                fds[i] = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            name[..c.name.len()].copy_from_slice(c.name);
            if buf.extend_from_slice(c.data, GFP_KERNEL).is_err() {
                return (Errno::ENOMEM.to_result(), reply);
            }
            (c.fds.len() / 4, c.name.len(), c.data.len())
        } else {
            if buf.resize(c.data_room as usize, 0, GFP_KERNEL).is_err() {
                return (Errno::ENOMEM.to_result(), reply);
            }
            (
                c.fds_room as usize,
                c.name_room as usize,
                c.data_room as usize,
            )
        };
        let mut got = None;
        let mut call = |quick: bool| {
            let flags = if quick {
                c.flags | MSG_DONTWAIT
            } else {
                c.flags
            };
            let (v, g) = sm::msg_call(
                c.send,
                flags,
                c.fd,
                &mut name[..namelen],
                &mut fds[..nfds],
                &mut fd_flags[..nfds],
                &mut buf[..dlen],
            );
            got = Some(g);
            if quick && v == Errno::EAGAIN.to_result() && !sm::fd_nonblock(c.fd) {
                mig::WOULD_WAIT
            } else {
                v
            }
        };
        let ev = if c.send { mig::POLL_OUT } else { mig::POLL_IN };
        let v = match nowait {
            Some(w) if c.flags & MSG_DONTWAIT == 0 => self.without_waiting(c.fd, ev, w, &mut call),
            _ => call(false),
        };
        let Some(g) = got.filter(|_| !c.send && v >= 0) else {
            return (v, reply);
        };
        let mut fdb = KVec::new();
        if fdb.resize(8 * g.nfds, 0u8, GFP_KERNEL).is_err() {
            for &fd in &fds[..g.nfds] {
                sm::fd_io(fd, io_op::CLOSE, &mut [], 0, 0);
            }
            return (Errno::ENOMEM.to_result(), KVVec::new());
        }
        for i in 0..g.nfds {
            fdb[8 * i..8 * i + 4].copy_from_slice(&fds[i].to_le_bytes());
            fdb[8 * i + 4..8 * i + 8].copy_from_slice(&fd_flags[i].to_le_bytes());
        }
        let n = (v as usize).min(dlen);
        let m = rights::MsgReply {
            flags: g.flags,
            name: &name[..g.namelen as usize],
            fds: &fdb[..8 * g.nfds],
            data: &buf[..n],
        };
        if reply
            .resize(rights::MSG_REPLY_HEAD + n, 0, GFP_KERNEL)
            .is_err()
        {
            for &fd in &fds[..g.nfds] {
                sm::fd_io(fd, io_op::CLOSE, &mut [], 0, 0);
            }
            return (Errno::ENOMEM.to_result(), KVVec::new());
        }
        let mut w = mig::Writer::new(&mut reply);
        if rights::write_msg_reply(&mut w, &m).is_err() {
            return (Errno::EIO.to_result(), KVVec::new());
        }
        let len = w.len();
        reply.truncate(len);
        (v, reply)
    }

    /// Closes `fd` of process `pid`'s deputy (a file opened for it that it
    /// could not get).
    fn close_home_fd(&self, home: u8, pid: u32, deputy: u64, fd: i32) {
        let io = Io {
            deputy,
            seq: 0,
            fd,
            op: io_op::CLOSE,
            len: 0,
            arg: 0,
            data: &[],
            nowait: false,
        };
        let _ = self.send(home, Kind::Io, pid, 36, |w| mig::write_io(w, &io));
    }

    /// The deputy's side: performs the call in `data` (checked by
    /// `read_io`) in this task's context. Its result and the bytes it
    /// wrote back, in argument order.
    /// `nowait`: (deputy id, node, PID) of a thread that waits where it
    /// runs: a call that waits on a file is made without waiting
    /// ([`Migrator::without_waiting`]).
    pub(super) fn do_call(&self, data: &[u8], nowait: Option<(u64, u8, u32)>) -> (i64, KVec<u8>) {
        let mut reply = KVec::new();
        let Ok((creds, call)) = mig::syscall_parts(data) else {
            return (Errno::EINVAL.to_result(), reply);
        };
        let Ok(c) = sf::decode_call(call) else {
            return (Errno::EINVAL.to_result(), reply);
        };
        // As the thread that makes it is now: never with credentials it
        // gave up where it runs.
        if let Err(e) = sm::creds_sync(&creds) {
            pr_info_ratelimited!(
                "migrate: a deputy cannot take its process's credentials (error {})\n",
                e.to_errno()
            );
            return (i64::from(e.to_errno()), reply);
        }
        let sh = c.shape;
        // The room for what the call writes, one buffer cut in pieces.
        let room_of = |i: usize, a: Arg| sf::out_room(a, i, &c.args);
        let room_len: usize = sh
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| room_of(i, *a))
            .sum();
        let mut room = KVec::new();
        if room.resize(room_len, 0u8, GFP_KERNEL).is_err() {
            return (Errno::ENOMEM.to_result(), reply);
        }
        // A semop that must not wait: IPC_NOWAIT in each operation; an
        // epoll_pwait2: a zero timeout.
        let no_wait = nowait.and(sf::no_wait(sh.nr, &c.args));
        let mut ins = c.ins;
        let mut sembufs = KVec::new();
        match (no_wait.map(|nw| nw.patch), c.ins[1]) {
            (Some(sf::Patch::Sembufs), Some(ops)) => {
                if sembufs.extend_from_slice(ops, GFP_KERNEL).is_err() {
                    return (Errno::ENOMEM.to_result(), reply);
                }
                sf::sembufs_nowait(&mut sembufs);
                ins[1] = Some(&sembufs);
            }
            (Some(sf::Patch::ZeroTimeout), _) => ins[3] = Some(&sf::ZERO_TIMESPEC),
            _ => {}
        }
        // A waitid without a siginfo: one of home's, never sent back.
        let mut own_info = [0u8; sf::SIGINFO_LEN];
        let mut bufs: KVec<SysBuf<'_>> = KVec::new();
        if no_wait.is_some_and(|nw| nw.patch == sf::Patch::Siginfo) && c.args[2] == 0 {
            let b = SysBuf {
                arg: 2,
                input: None,
                output: Some(&mut own_info),
                null: false,
            };
            if bufs.push(b, GFP_KERNEL).is_err() {
                return (Errno::ENOMEM.to_result(), reply);
            }
        }
        let mut rest: &mut [u8] = &mut room;
        for (i, a) in sh.args.iter().enumerate() {
            let out_n = room_of(i, *a);
            let carries_in = sf::carries_in(*a);
            if out_n == 0 && !carries_in && !matches!(a, Arg::OutLen(_) | Arg::OutArr(..)) {
                continue;
            }
            let Some((out, tail)) = core::mem::take(&mut rest).split_at_mut_checked(out_n) else {
                return (Errno::EINVAL.to_result(), reply);
            };
            rest = tail;
            let b = SysBuf {
                arg: i as u32,
                input: ins[i],
                output: (out_n > 0).then_some(out),
                null: carries_in && ins[i].is_none(),
            };
            if bufs.push(b, GFP_KERNEL).is_err() {
                return (Errno::ENOMEM.to_result(), reply);
            }
        }
        let v = match (nowait, no_wait) {
            // (No watch: where it runs, it asks again after a while.)
            (Some(_), Some(nw)) if nw.on == sf::WaitOn::Retry => {
                let v = sm::sys_call(sh.nr, &nw.args, &mut bufs);
                if sf::no_wait_empty(sh.nr, v, false) {
                    mig::WOULD_WAIT
                } else {
                    v
                }
            }
            (Some(w), Some(nw)) if nw.on == sf::WaitOn::Children => {
                self.children_without_waiting(w, |quick| {
                    let v = sm::sys_call(sh.nr, if quick { &nw.args } else { &c.args }, &mut bufs);
                    // (waitid says "none" in the siginfo, its argument 2.)
                    let info = || {
                        bufs.iter()
                            .find(|b| b.arg == 2)
                            .and_then(|b| b.output.as_deref())
                    };
                    let empty = match sh.nr {
                        sf::NR_WAITID => sf::waitid_empty(v, info()),
                        _ => sf::no_wait_empty(sh.nr, v, false),
                    };
                    if quick && empty {
                        mig::WOULD_WAIT
                    } else {
                        v
                    }
                })
            }
            (Some(w), Some(nw)) => {
                let sf::WaitOn::Fd(arg) = nw.on else {
                    return (Errno::EINVAL.to_result(), reply);
                };
                let fd = c.args[usize::from(arg)] as i32;
                self.without_waiting(fd, nw.events, w, |quick| {
                    // (An epoll_pwait2 carries a zero timeout here either
                    // way: where it runs, it waits out its own.)
                    if !quick && nw.patch != sf::Patch::ZeroTimeout {
                        return sm::sys_call(sh.nr, &c.args, &mut bufs);
                    }
                    let v = match (nw.patch, c.ins[1]) {
                        (sf::Patch::Connect, Some(addr)) => {
                            let v = sm::connect_nonblock(fd, addr);
                            // (A send timeout, or a full Unix listener
                            // that no watch says has room: as asked.)
                            if v == 1 {
                                return sm::sys_call(sh.nr, &c.args, &mut bufs);
                            }
                            v
                        }
                        _ => sm::sys_call(sh.nr, &nw.args, &mut bufs),
                    };
                    if sf::no_wait_empty(sh.nr, v, sm::fd_nonblock(fd)) {
                        mig::WOULD_WAIT
                    } else {
                        v
                    }
                })
            }
            _ => sm::sys_call(sh.nr, &c.args, &mut bufs),
        };
        drop(bufs);
        let mut off = 0usize;
        for (i, a) in sh.args.iter().enumerate() {
            let room_n = room_of(i, *a);
            let n = sf::out_len(*a, i, &c.args, v).min(room_n);
            if let Some(part) = room.get(off..off + n) {
                if reply.extend_from_slice(part, GFP_KERNEL).is_err() {
                    return (Errno::ENOMEM.to_result(), KVec::new());
                }
            }
            off += room_n;
        }
        // A new fd stays the deputy's: the proxy the process gets stands
        // for it, and closing that closes it.
        (v, reply)
    }
}
