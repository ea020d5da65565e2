// SPDX-License-Identifier: GPL-2.0

//! The signalfds and userfaultfds an epoll at home watches, kept where
//! the process runs.
//!
//! A signalfd reads the signals of the task that reads it, and a
//! userfaultfd the faults of the memory it was made for, so a moved
//! process's signalfds and userfaultfds are made again where it runs. An
//! epoll at home that watches one would never see its signals or faults:
//! its proxy here keeps the watch instead (rust/proxy.c: what
//! `epoll_ctl(2)` said of the file, carried by the move as
//! `mig::EPOLL_WATCH` records and added to home's epoll again when the
//! process comes back), as CRIU moves the epoll with the files it
//! watches. An epoll wait on that proxy reports the watched files that are
//! ready here and what home's epoll has; with neither, it waits here for
//! both: home's `READY` (its epoll became ready, src/migrate/nowait.rs),
//! a signal queued for the process (the signalfds' own wait queue) or a
//! fault queued to a watched userfaultfd (its wait queue), as the call's
//! own timeout and signal mask say.

use super::nowait::FALLBACK_MS;
use super::Migrator;
use crate::logic::errno::Errno;
use crate::logic::mig::sysfwd::{self as sf, EPOLL_EVENT_LEN};
use crate::logic::mig::{self, EpollWatch};
use crate::sys::migrate as sm;
use crate::sys::time::now_ns;
use kernel::prelude::*;

impl Migrator {
    /// `epoll_ctl(2)` of a signalfd or userfaultfd on the proxy of an
    /// epoll at home: the watch its proxy keeps here. `None`: another call
    /// (made as any).
    pub(super) fn epoll_ctl_watch(&self, args: &[u64; 6]) -> Option<i64> {
        let (epfd, op, tfd) = (args[0] as i32, args[1] as u32, args[2] as i32);
        self.own_proxy(epfd)?;
        if !sm::watched_here(tfd) {
            return None;
        }
        let (events, data) = if op == sf::EPOLL_CTL_DEL {
            (0, 0)
        } else {
            let mut ev = [0u8; EPOLL_EVENT_LEN];
            if sm::user_read(args[3], &mut ev).is_err() {
                return Some(Errno::EFAULT.to_result());
            }
            sf::epoll_event(&ev)
        };
        let w = EpollWatch {
            epfd,
            tfd,
            events,
            data,
        };
        Some(match sm::proxy_watch(op, &w) {
            Ok(()) => 0,
            Err(e) => i64::from(e.to_errno()),
        })
    }

    /// An epoll wait on the proxy of an epoll at home that keeps signalfd
    /// or userfaultfd watches here. `None`: another (made as any).
    pub(super) fn epoll_wait_watched(&self, nr: u32, args: &[u64; 6]) -> Option<i64> {
        let epfd = args[0] as i32;
        if sm::proxy_watches(epfd) == 0 {
            return None;
        }
        let (home, pid, hfd, deputy) = self.own_proxy(epfd)?;
        let (timeout, mask_at) = sf::epoll_wait_args(nr, args)?;
        // (A wrong count: its EINVAL from home.)
        let max = args[2] as i32;
        if max <= 0 {
            return None;
        }
        let timeout = match timeout {
            Ok(ms) => ms,
            Err(0) => -1,
            Err(at) => {
                let mut ts = [0u8; 16];
                if sm::user_read(at, &mut ts).is_err() {
                    return Some(Errno::EFAULT.to_result());
                }
                // (Not a timespec: its EINVAL from home.)
                sf::timespec_ms(Some(&ts))?
            }
        };
        let mask = if mask_at != 0 {
            let mut m = [0u8; 8];
            if sm::user_read(mask_at, &mut m).is_err() {
                return Some(Errno::EFAULT.to_result());
            }
            Some(sm::sigmask_enter(u64::from_le_bytes(m)))
        } else {
            None
        };
        let interrupted = sf::interrupted(nr);
        let r = self.epoll_wait_here(nr, args, (home, pid, hfd, deputy), max as usize, timeout);
        if let Some(old) = mask {
            sm::sigmask_leave(old, r == interrupted);
        }
        Some(r)
    }

    /// [`Self::epoll_wait_watched`]'s wait: at most `max` events, for
    /// `timeout` ms (negative: for ever).
    fn epoll_wait_here(
        &self,
        nr: u32,
        args: &[u64; 6],
        (home, pid, hfd, deputy): (u8, u32, i32, u64),
        max: usize,
        timeout: i64,
    ) -> i64 {
        let epfd = args[0] as i32;
        // (Home answers at most BUF_MAX bytes of events a call.)
        let room = max.min(sf::BUF_MAX as usize / EPOLL_EVENT_LEN);
        let mut here = KVec::new();
        if here
            .resize(room * EPOLL_EVENT_LEN, 0u8, GFP_KERNEL)
            .is_err()
        {
            return Errno::ENOMEM.to_result();
        }
        let start = now_ns();
        loop {
            let ticket = sm::proxy_gen(epfd);
            let k = sm::proxy_watches_ready(epfd, &mut here);
            let mut n = 0i64;
            if k < room {
                // Home's epoll, without waiting there: what it has now;
                // with nothing here and none there, a watch there whose
                // READY wakes the wait below.
                let wait = k == 0 && timeout != 0;
                let a = [
                    hfd as u64,
                    args[1],
                    (room - k) as u64,
                    if wait { u64::MAX } else { 0 },
                    0,
                    0,
                ];
                let (v, d) = match self.home_call_once(
                    home,
                    pid,
                    deputy,
                    sf::NR_EPOLL_WAIT,
                    &a,
                    &[None; 6],
                    wait,
                ) {
                    Ok(x) => x,
                    Err(e) => return e,
                };
                if v != mig::WOULD_WAIT {
                    if v < 0 {
                        return v;
                    }
                    let Some(sh) = sf::shape(sf::NR_EPOLL_WAIT, &a) else {
                        return Errno::EINVAL.to_result();
                    };
                    let Ok(outs) = sf::split_reply(sh, &a, v, &d) else {
                        return Errno::EIO.to_result();
                    };
                    if sm::user_write(args[1], outs[1]).is_err() {
                        return Errno::EFAULT.to_result();
                    }
                    n = v;
                }
            }
            if k > 0 {
                let at = args[1].wrapping_add(n as u64 * EPOLL_EVENT_LEN as u64);
                let Some(ours) = here.get(..k * EPOLL_EVENT_LEN) else {
                    return Errno::EINVAL.to_result();
                };
                if sm::user_write(at, ours).is_err() {
                    return Errno::EFAULT.to_result();
                }
                return n + k as i64;
            }
            if n > 0 {
                return n;
            }
            let spent = (now_ns().saturating_sub(start) / 1_000_000) as i64;
            let mut ms = i64::from(FALLBACK_MS);
            if timeout >= 0 {
                if spent >= timeout {
                    return 0;
                }
                ms = ms.min(timeout - spent);
            }
            if sm::proxy_watch_wait(epfd, ticket, ms as u32).is_err() {
                return sf::interrupted(nr);
            }
        }
    }
}

/// At home, in the deputy of `pid`: home's epolls watch (`op`
/// `EPOLL_CTL_ADD`: coming home) or stop watching (`EPOLL_CTL_DEL`:
/// once it left) its signalfds and userfaultfds. A failure is said, not fatal (the
/// process's files are home's either way).
pub(super) fn home_epolls(pid: u32, op: u32, watches: &[EpollWatch]) {
    let what = if op == sf::EPOLL_CTL_ADD {
        "watching"
    } else {
        "unwatching"
    };
    for w in watches {
        if let Err(e) = sm::epoll_ctl(op, w) {
            pr_info_ratelimited!(
                "migrate: pid {}: its epoll {} at home: {} fd {} failed (error {})\n",
                pid,
                w.epfd,
                what,
                w.tfd,
                e.to_errno()
            );
        }
    }
}
