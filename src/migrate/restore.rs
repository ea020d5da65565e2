// SPDX-License-Identifier: GPL-2.0

//! The destination of a move: Begin (the areas mapped, the restorer
//! started), the pages, the layout at the freeze and Commit, applied in
//! the restorer's own context; what the restorer reports through
//! `/proc/cluster/admin/restore` (procfs parses it). Must not touch a
//! deputy's or a source's state.

use super::{
    error_of, BodyRec, Incoming, MadeUserNs, Migrator, Msg, Started, StateGuard, DATA_WINDOW,
    IDLE_TIMEOUT_NS, MAX_INCOMING, MAX_STARTED, NSEC_PER_MSEC, RESTORER, SIGKILL,
};
use crate::events::EventKind;
use crate::logic::arrival::{Action, Event, Phase};
use crate::logic::custody;
use crate::logic::errno::Errno;
use crate::logic::mig::sysfwd as sf;
use crate::logic::mig::{self, vma_flags, Begin, Kind, MigHeader, Reader, Vma};
use crate::logic::wire::WireError;
use crate::sys::migrate::{self as sm, TaskImage};
use crate::sys::time::now_ns;
use core::fmt::Write as _;
use core::sync::atomic::Ordering;
use kernel::{prelude::*, sync::Arc};

impl Migrator {
    /// A `Begin` from node `from`.
    pub(super) fn on_begin(
        &self,
        from: u8,
        req: u64,
        pid: u32,
        body: &[u8],
    ) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(body);
        let (b, text, nvma) = mig::read_begin(&mut r)?;
        for _ in 0..nvma {
            Vma::read(&mut r)?;
        }
        r.end()?;
        let refuse = |e: Error| self.respond(from, req, pid, i64::from(e.to_errno()), &[]);
        let mut copy = KVVec::new();
        let mut tids = KVec::new();
        let copied = copy.extend_from_slice(body, GFP_KERNEL).is_ok()
            && mig::begin_tids(&text).all(|t| tids.push(t, GFP_KERNEL).is_ok());
        if !copied {
            refuse(ENOMEM);
            return Ok(());
        }
        if tids.contains(&pid) {
            return Err(WireError::BadField);
        }
        // (Checked by read_begin.)
        let mut userns_want = None;
        if !text.userns.is_empty() {
            let mut u = KVVec::new();
            if u.extend_from_slice(text.userns, GFP_KERNEL).is_err() {
                refuse(ENOMEM);
                return Ok(());
            }
            userns_want = Some(u);
        }
        let inc = Incoming {
            mig: b.mig,
            from,
            pid,
            begin_req: req,
            begin: copy,
            msgs: KVec::new(),
            phase: Phase::Waiting,
            auto: b.auto,
            last_ns: now_ns(),
            link: self.transport.link(from),
            deputy: b.deputy,
            tids,
            home: b.home,
            userns_want,
            userns_base: None,
            userns: None,
        };
        let s = self.state.lock();
        if s.incoming.iter().any(|i| i.pid == pid || i.mig == b.mig) {
            drop(s);
            pr_info_ratelimited!(
                "migrate: pid {} from node {} refused: it is arriving already\n",
                pid,
                from
            );
            refuse(EBUSY);
            return Ok(());
        }
        if s.incoming.len() >= MAX_INCOMING {
            drop(s);
            self.counters.incoming_refused.inc();
            pr_info_ratelimited!(
                "migrate: pid {} from node {}: too many moves arriving\n",
                pid,
                from
            );
            refuse(EBUSY);
            return Ok(());
        }
        // The leveller's moves: not to a node that does not take part, and
        // one at a time (two busy nodes must not both fill this one).
        if b.auto
            && (!self.transport.loadlevel.load(Ordering::Relaxed)
                || s.incoming.iter().any(|i| i.auto))
        {
            drop(s);
            refuse(EAGAIN);
            return Ok(());
        }
        drop(s);
        if self.home_unreachable(b.home) {
            pr_info_ratelimited!(
                "migrate: pid {} from node {} refused: its home node {} is not up\n",
                pid,
                from,
                b.home
            );
            refuse(EHOSTUNREACH);
            return Ok(());
        }
        // ... nor to one that would end up busier than the sender (its
        // view of this node may be a heartbeat old).
        if b.auto {
            let l = self.transport.local_load();
            let after = (l.busy + 1).saturating_mul(1000) / u32::from(l.cpus.max(1));
            if after > b.load_after {
                refuse(EAGAIN);
                return Ok(());
            }
        }
        // Coming home: whether the deputy has the seccomp state and the
        // user namespace the process comes with (the deputy's own, which
        // it keeps: one made away from home is that node's, and its
        // capabilities there would become the deputy's here; a deputy's
        // filters are installed by itself, in user space: it cannot take
        // more). Read before the lock: a long user namespace chain takes
        // milliseconds to read and compare.
        let (seccomp_same, userns_same) = match b.home == self.me {
            true => sm::Task::of(pid).map_or((false, false), |t| {
                let seccomp = t
                    .seccomp_image(pid, &inc.tids)
                    .is_ok_and(|mine| mine[..] == *text.seccomp);
                let userns = sm::userns_of(&t).is_ok_and(|(_, mine)| {
                    mig::userns_same(
                        mine.as_deref().unwrap_or_default(),
                        inc.userns_want.as_deref().unwrap_or_default(),
                    )
                });
                (seccomp, userns)
            }),
            false => (false, false),
        };
        let mut s = self.state.lock();
        let deputy = s.deputies.iter().position(|d| d.pid == pid);
        if deputy.is_none() && self.is_leaving() {
            // Leaving: only its own processes come back.
            drop(s);
            pr_info_ratelimited!(
                "migrate: pid {} from node {} refused: this node is leaving\n",
                pid,
                from
            );
            refuse(EHOSTUNREACH);
            return Ok(());
        }
        if let Some(d) = deputy {
            // Killed at home: its deputy ends, and restores nothing.
            if s.deputies[d].killing.is_some() {
                drop(s);
                pr_info_ratelimited!(
                    "migrate: pid {} from node {} refused: it was killed at home\n",
                    pid,
                    from
                );
                refuse(ESRCH);
                return Ok(());
            }
            // Coming home: the deputy rebuilds itself.
            match self.table.away(pid) {
                Some(at) if at == from => {}
                // Its deputy is ending (killed at home while the process
                // came back): nothing to come home to.
                None => {
                    drop(s);
                    pr_info_ratelimited!(
                        "migrate: pid {} from node {} refused: it exited at home\n",
                        pid,
                        from
                    );
                    refuse(ESRCH);
                    return Ok(());
                }
                Some(at) => {
                    drop(s);
                    pr_info_ratelimited!(
                        "migrate: pid {} from node {} refused: home has it on node {}\n",
                        pid,
                        from,
                        at
                    );
                    refuse(EBUSY);
                    return Ok(());
                }
            }
            // Its threads come back into their thread deputies; one made
            // away from home has none (no task here has its TID): the
            // deputy makes it a task when it restores itself
            // (`restore_inner`).
            if !seccomp_same {
                drop(s);
                pr_info_ratelimited!(
                    "migrate: pid {} cannot come home: its seccomp state changed away from home\n",
                    pid
                );
                refuse(EOPNOTSUPP);
                return Ok(());
            }
            if !userns_same {
                drop(s);
                pr_info_ratelimited!(
                    "migrate: pid {} cannot come home: it is in a user namespace other than its deputy's\n",
                    pid
                );
                refuse(EOPNOTSUPP);
                return Ok(());
            }
            s.deputies[d].home_mig = Some(b.mig);
        } else if sm::pid_taken(pid) || mig::begin_tids(&text).any(sm::pid_taken) {
            // Its PID or a TID is still taken here: the copy it left this
            // node as has not ended yet (a process that went home to
            // vfork, sent back at once). The restorer would fail; the
            // source begins again in a moment.
            drop(s);
            pr_info_ratelimited!(
                "migrate: pid {} from node {}: its PID is still taken here: not yet\n",
                pid,
                from
            );
            refuse(EEXIST);
            return Ok(());
        }
        if s.incoming
            .push(
                Incoming {
                    // Coming home: the deputy restores itself.
                    phase: if deputy.is_some() {
                        Phase::Restoring
                    } else {
                        Phase::Waiting
                    },
                    ..inc
                },
                GFP_KERNEL,
            )
            .is_err()
        {
            drop(s);
            refuse(ENOMEM);
            return Ok(());
        }
        drop(s);
        self.cv.notify_all();
        if deputy.is_some() {
            return Ok(());
        }
        if let Err(e) = self.spawn_restorer(b.mig, pid, &b, &text) {
            pr_warn!(
                "migrate: cannot start {:?} (error {})\n",
                RESTORER,
                e.to_errno()
            );
            self.forget(b.mig);
            refuse(e);
        }
        Ok(())
    }

    pub(super) fn spawn_restorer(
        &self,
        mig_id: u64,
        pid: u32,
        b: &Begin,
        t: &mig::BeginText<'_>,
    ) -> Result {
        let wd = t.cwd;
        let (lo, text) = (b.vdso_lo, b.vdso);
        let mut a1 = crate::logic::fmtbuf::FmtBuf::<24>::new();
        let mut a2 = crate::logic::fmtbuf::FmtBuf::<16>::new();
        let mut a3 = crate::logic::fmtbuf::FmtBuf::<24>::new();
        let mut a4 = crate::logic::fmtbuf::FmtBuf::<24>::new();
        let _ = write!(a1, "{:x}\0", mig_id);
        let _ = write!(a2, "{}\0", pid);
        let _ = write!(a3, "{:x}\0", lo);
        let _ = write!(a4, "{:x}\0", text);
        let mut cwd = KVec::new();
        cwd.extend_from_slice(if wd.is_empty() { b"/" } else { wd }, GFP_KERNEL)?;
        cwd.push(0, GFP_KERNEL)?;
        let mut cg = KVec::new();
        cg.extend_from_slice(t.cgroup, GFP_KERNEL)?;
        cg.push(0, GFP_KERNEL)?;
        // "FSUID:FSGID:G1,G2,...": the restorer enters the working
        // directory as the process would, not as root.
        let id = &b.ident;
        let mut a7 = crate::logic::fmtbuf::FmtBuf::<{ 24 + 11 * mig::MAX_GROUPS }>::new();
        let _ = write!(a7, "{}:{}:", id.fsuid, id.fsgid);
        for (i, g) in id.groups[..id.ngroups as usize].iter().enumerate() {
            let _ = write!(a7, "{}{}", if i > 0 { "," } else { "" }, g);
        }
        let _ = write!(a7, "\0");
        // The offsets of the time namespace it is started in: its
        // CLOCK_MONOTONIC and CLOCK_BOOTTIME go on from what it saw when
        // Begin was written (late by Begin's transit time; the restore
        // waits out any difference the other way).
        let off = |seen: u64, here: u64| (seen as i64).wrapping_sub(here as i64);
        let mut a8 = crate::logic::fmtbuf::FmtBuf::<48>::new();
        let _ = write!(
            a8,
            "{}:{}\0",
            off(b.mono_ns, now_ns()),
            off(b.boot_ns, crate::sys::time::boot_ns())
        );
        // The TIDs of its other threads, "-" for none.
        let mut a9 = KVec::new();
        for (i, tid) in mig::begin_tids(t).enumerate() {
            let mut f = crate::logic::fmtbuf::FmtBuf::<12>::new();
            let _ = write!(f, "{}{}", if i > 0 { "," } else { "" }, tid);
            a9.extend_from_slice(f.as_bytes(), GFP_KERNEL)?;
        }
        if a9.is_empty() {
            a9.push(b'-', GFP_KERNEL)?;
        }
        a9.push(0, GFP_KERNEL)?;
        // Its PID namespace ("-": the initial one): "HOME" then, for each
        // level, outermost first, "/KEY:O:PID,TID...": the namespace made
        // here for HOME's KEY (the restorer makes it the first time,
        // below the one made for the level above), its owner (O: the
        // depth of its user namespace, 0 the initial one) and its numbers
        // in it, the leader's first.
        let mut a9b = KVec::new();
        if t.pidns.is_empty() {
            a9b.push(b'-', GFP_KERNEL)?;
        } else {
            let mut f = crate::logic::fmtbuf::FmtBuf::<4>::new();
            let _ = write!(f, "{}", b.home);
            a9b.extend_from_slice(f.as_bytes(), GFP_KERNEL)?;
        }
        for l in mig::begin_pidns_levels(t) {
            let mut f = crate::logic::fmtbuf::FmtBuf::<24>::new();
            let _ = write!(f, "/{}:{}:", l.key, l.owner);
            a9b.extend_from_slice(f.as_bytes(), GFP_KERNEL)?;
            for (i, id) in l.ids().enumerate() {
                let mut f = crate::logic::fmtbuf::FmtBuf::<12>::new();
                let _ = write!(f, "{}{}", if i > 0 { "," } else { "" }, id);
                a9b.extend_from_slice(f.as_bytes(), GFP_KERNEL)?;
            }
        }
        a9b.push(0, GFP_KERNEL)?;
        // Its seccomp state, hex ("-": none): the restorer installs it.
        // (One argument: at most 42 KiB of hex.)
        let a10 = hex_args(t.seccomp, usize::MAX)?;
        // Its user namespace, hex ("-": the initial one), in as many
        // arguments as it takes (up to 264 KiB: 528 KiB of hex, where an
        // exec takes no argument over 128 KiB): the restorer makes one
        // like it and hands it over.
        let a11 = hex_args(t.userns, ARG_PIECE)?;
        // Where it makes them ("-": from the initial namespace).
        let mut a12 = crate::logic::fmtbuf::FmtBuf::<40>::new();
        match self.userns_base(mig_id, t.userns) {
            Some((pid, up, k)) => {
                let _ = write!(a12, "{},{},{}\0", pid, up, k);
            }
            None => {
                let _ = write!(a12, "-\0");
            }
        }
        fn c(b: &[u8]) -> Result<&CStr> {
            CStr::from_bytes_with_nul(b).map_err(|_| EINVAL)
        }
        let mut argv = KVec::with_capacity(16, GFP_KERNEL)?;
        for a in [
            RESTORER,
            c(a1.as_bytes())?,
            c(a2.as_bytes())?,
            c(a3.as_bytes())?,
            c(a4.as_bytes())?,
            c(&cwd)?,
            c(&cg)?,
            c(a7.as_bytes())?,
            c(a8.as_bytes())?,
            c(&a9)?,
            c(&a9b)?,
            c(&a10)?,
        ] {
            argv.push(a, GFP_KERNEL)?;
        }
        let mut rest: &[u8] = &a11;
        while !rest.is_empty() {
            let piece = CStr::from_bytes_until_nul(rest).map_err(|_| EINVAL)?;
            rest = &rest[piece.to_bytes_with_nul().len()..];
            argv.push(piece, GFP_KERNEL)?;
        }
        argv.push(c(a12.as_bytes())?, GFP_KERNEL)?;
        sm::spawn(RESTORER, &argv)
    }

    /// "MIG userns FD" from the restorer's child (in its context): the
    /// user namespace it made for the process, as Begin said.
    pub(crate) fn restore_userns(&self, mig_id: u64, fd: i32) -> Result {
        // What it is, read before the lock (the longest chain takes
        // milliseconds to read and check).
        let made = sm::UserNs::of_fd(fd).and_then(|ns| match ns.text()? {
            Some(have) => Ok((ns, have)),
            None => Err(EINVAL),
        });
        let mut s = self.state.lock();
        let inc = restorer_incoming(&mut s.incoming, mig_id)?;
        let Some(want) = inc.userns_want.as_deref() else {
            pr_info!(
                "admin/restore: migration {:x} has no user namespace\n",
                mig_id
            );
            return Err(EINVAL);
        };
        if inc.userns.is_some() {
            return Err(EEXIST);
        }
        let (home, base) = (inc.home, inc.userns_base);
        let ns = made
            .and_then(|(ns, have)| {
                // It and those above it are exactly what Begin described
                // (same levels, owners, setgroups and maps) ...
                if !mig::userns_same(&have, want) {
                    return Err(EINVAL);
                }
                // ... made in those the restorer was told to use.
                if let Some((addr, k)) = base {
                    if ns.ancestor(k)?.addr() != addr {
                        return Err(ESTALE);
                    }
                }
                Ok(ns)
            })
            .inspect_err(|e| {
                pr_info!(
                    "admin/restore: fd {} is not the user namespace migration {:x} needs (error {})\n",
                    fd,
                    mig_id,
                    e.to_errno()
                );
            })?;
        let mut chain = KVVec::new();
        chain.extend_from_slice(want, GFP_KERNEL)?;
        let origin = mig::userns_origin(&chain).ok_or(EINVAL)?;
        let n = mig::userns_depth(&chain);
        let s = &mut *s;
        // The same namespace at home made here before, for a process of
        // it or of one below it: this one is restored in it too (the one
        // just made goes). Origins name namespaces while any process of
        // them lives (their deputies hold them at home); one whose
        // processes all ended may name another later, so what each level
        // is must match as well (maps are written once).
        let before = s
            .made_userns
            .iter()
            .filter(|m| m.home == home && mig::userns_common(&m.chain, &chain) == n)
            .map(|m| {
                let d = mig::userns_depth(&m.chain);
                if d == n {
                    Ok(m.ns.clone())
                } else {
                    m.ns.ancestor(n)
                }
            })
            .next()
            .transpose()?;
        let ns = before.unwrap_or(ns);
        if !s.made_userns.iter().any(|m| m.ns.addr() == ns.addr()) {
            // Those no process here is in any more go first, and one of
            // the same origin that is another namespace now.
            let bodies = self.bodies.lock();
            let incoming = &s.incoming;
            s.made_userns.retain(|m| {
                let a = m.ns.addr();
                !(m.home == home && m.origin == origin)
                    && (bodies.iter().any(|b| b.userns == a)
                        || incoming
                            .iter()
                            .any(|i| i.userns.as_ref().is_some_and(|u| u.addr() == a)))
            });
            drop(bodies);
            s.made_userns.push(
                MadeUserNs {
                    home,
                    origin,
                    chain,
                    ns: ns.clone(),
                },
                GFP_KERNEL,
            )?;
        }
        let inc = restorer_incoming(&mut s.incoming, mig_id)?;
        inc.userns = Some(ns);
        Ok(())
    }

    /// The `userns` text Begin brought for the user namespace made here at
    /// `addr` (every level's origin at home), to send on with a process
    /// in it; None when none is kept.
    pub(super) fn made_userns_text(&self, addr: u64) -> Result<Option<KVVec<u8>>> {
        let s = self.state.lock();
        let Some(m) = s.made_userns.iter().find(|m| m.ns.addr() == addr) else {
            return Ok(None);
        };
        let mut t = KVVec::new();
        t.extend_from_slice(&m.chain, GFP_KERNEL)?;
        Ok(Some(t))
    }

    /// Where the restorer of migration `mig_id` makes the user namespaces
    /// Begin described (`want`): in those made here before for processes
    /// of the same namespaces at home, below the deepest of them it shares
    /// (at most all but its innermost), found above the namespace of a
    /// process here; None: from the node's initial one. The restorer's
    /// BASE (process, levels up, levels shared), remembered to check what
    /// it made.
    fn userns_base(&self, mig_id: u64, want: &[u8]) -> Option<(u32, usize, usize)> {
        let n = mig::userns_depth(want);
        if n == 0 {
            return None;
        }
        let mut s = self.state.lock();
        let home = s.incoming.iter().find(|i| i.mig == mig_id)?.home;
        let mut best: Option<(u32, usize, usize, u64)> = None;
        {
            // (A spinlock: nothing allocated under it.)
            let bodies = self.bodies.lock();
            for m in s.made_userns.iter().filter(|m| m.home == home) {
                let k = mig::userns_common(&m.chain, want).min(n - 1);
                if k == 0 || best.is_some_and(|b| b.2 >= k) {
                    continue;
                }
                let addr = m.ns.addr();
                let Some(b) = bodies.iter().find(|b| b.userns == addr) else {
                    continue;
                };
                let d = mig::userns_depth(&m.chain);
                let Ok(a) = m.ns.ancestor(k) else { continue };
                best = Some((b.pid, d - k, k, a.addr()));
            }
        }
        let (pid, up, k, addr) = best?;
        let inc = s.incoming.iter_mut().find(|i| i.mig == mig_id)?;
        inc.userns_base = Some((addr, k));
        Some((pid, up, k))
    }

    /// The user namespace made for migration `mig_id` (None: it is in the
    /// initial one); EPROTO when Begin had one and none was made.
    pub(super) fn userns_take(&self, mig_id: u64) -> Result<Option<sm::UserNs>> {
        let s = self.state.lock();
        let inc = s
            .incoming
            .iter()
            .find(|i| i.mig == mig_id)
            .ok_or(ECANCELED)?;
        match (&inc.userns_want, &inc.userns) {
            (None, _) => Ok(None),
            (Some(_), Some(ns)) => Ok(Some(ns.clone())),
            (Some(_), None) => {
                drop(s);
                pr_warn!(
                    "migrate: migration {:x}: the restorer made no user namespace\n",
                    mig_id
                );
                Err(EPROTO)
            }
        }
    }

    pub(super) fn forget(&self, mig_id: u64) {
        let mut asks = KVec::new();
        {
            let mut s = self.state.lock();
            if let Some(i) = s.incoming.iter().position(|i| i.mig == mig_id) {
                if let Ok(inc) = s.incoming.remove(i) {
                    for m in inc.msgs.iter().filter(|m| m.req != 0) {
                        let _ = asks.push((m.from, m.req, inc.pid), GFP_ATOMIC);
                    }
                }
            }
        }
        self.lazy_forget(mig_id);
        // Requests it had queued and not taken yet (a Data window's, a
        // Layout, a Commit sent before the restore ended): their source
        // waits for them, up to its 30 s bound, not knowing the restore
        // ended (f11 saw a forwarded move home answered only then).
        for &(from, req, pid) in asks.iter() {
            self.respond(from, req, pid, Errno::ECANCELED.to_result(), &[]);
        }
    }

    /// The restorer stub reports on migration `mig_id`: from the new
    /// process (`fail` None), or that it could not start it (`fail`: its
    /// errno, 1..=4095). Its write to `/proc/cluster/admin/restore`.
    pub(crate) fn attach(self: &Arc<Self>, mig_id: u64, fail: Option<i32>) -> Result {
        let me = sm::current_tgid();
        let mut st = self.state.lock();
        let i = st
            .incoming
            .iter()
            .position(|i| i.mig == mig_id)
            .ok_or_else(|| {
                pr_info!("admin/restore: no migration {:x} is arriving\n", mig_id);
                ENOENT
            })?;
        if let Some(e) = fail {
            let inc = st.incoming.remove(i).map_err(|_| EINVAL)?;
            drop(st);
            self.lazy_forget(mig_id);
            pr_info_ratelimited!(
                "migrate: pid {}: the restorer failed (error {})\n",
                inc.pid,
                e
            );
            self.respond(inc.from, inc.begin_req, inc.pid, -i64::from(e), &[]);
            return Ok(());
        }
        let inc = &mut st.incoming[i];
        own_restorer(inc)?;
        // Its other threads attached first (each is then in the kernel,
        // and leaves it only as the thread it becomes): the restore
        // replaces the memory their user-mode code runs in.
        let tids_n = inc.tids.len();
        let start = now_ns();
        while st
            .tslots
            .iter()
            .filter(|t| t.mig == mig_id && t.phase == super::ThreadPhase::Attached)
            .count()
            < tids_n
        {
            if now_ns().saturating_sub(start) > 5_000 * NSEC_PER_MSEC {
                drop(st);
                pr_info!(
                    "admin/restore: migration {:x}: its threads did not attach\n",
                    mig_id
                );
                return Err(ETIMEDOUT);
            }
            st = self.killable_wait(st, 20)?;
        }
        let Some(inc) = st.incoming.iter_mut().find(|i| i.mig == mig_id) else {
            return Err(ENOENT);
        };
        if let Action::Refuse(e) = inc.step(Event::Attached) {
            pr_info!(
                "admin/restore: migration {:x} is not waiting for its restorer\n",
                mig_id
            );
            return Err(error_of(e));
        }
        drop(st);
        let w = Arc::new(
            Restore {
                m: self.clone(),
                mig: mig_id,
            },
            GFP_KERNEL,
        )?;
        sm::task_work(&sm::Task::of(me)?, false, w)
    }

    /// Waits for the next message of migration `mig_id` from `from`. A deputy
    /// restoring its process (`deputy`) serves the process's proxied I/O
    /// meanwhile: until it stops, the process may be inside a proxied call
    /// (a write to its home terminal or file), and its freeze, the next
    /// message, waits for that call's reply.
    pub(super) fn next_msg(
        self: &Arc<Self>,
        mig_id: u64,
        from: u8,
        deputy: Option<u32>,
    ) -> Result<Msg> {
        let mut s = self.state.lock();
        loop {
            let i = s
                .incoming
                .iter()
                .position(|i| i.mig == mig_id)
                .ok_or(ECANCELED)?;
            let inc = &mut s.incoming[i];
            if inc.phase == Phase::Aborted {
                return Err(ECANCELED);
            }
            if !inc.msgs.is_empty() {
                inc.last_ns = now_ns();
                return inc.msgs.remove(0).map_err(|_| EINVAL);
            }
            let io =
                deputy.and_then(|pid| s.deputies.iter_mut().find(|d| d.pid == pid)?.io.take_next());
            if let (Some(pid), Some(msg)) = (deputy, io) {
                drop(s);
                self.serve_io(pid, from, msg, false);
                s = self.state.lock();
                // The process talks: its node is alive.
                if let Some(inc) = s.incoming.iter_mut().find(|i| i.mig == mig_id) {
                    inc.last_ns = now_ns();
                }
                continue;
            }
            let inc = &mut s.incoming[i];
            let fault = if now_ns().saturating_sub(inc.last_ns) > IDLE_TIMEOUT_NS {
                Some(Event::Idle)
            } else if self.link_lost(inc) {
                Some(Event::LinkDown)
            } else {
                None
            };
            if let Some(e) = fault {
                return Err(match inc.step(e) {
                    Action::Stop(e) | Action::Refuse(e) => error_of(e),
                    Action::Proceed | Action::Ignore => ECANCELED,
                });
            }
            s = self.killable_wait(s, 200)?;
        }
    }

    /// Feeds `e` to migration `mig_id`'s state machine: the error to end
    /// the restore with, if it must end (a migration no longer here ends).
    pub(super) fn arrival_step(&self, mig_id: u64, e: Event) -> Option<Error> {
        let mut s = self.state.lock();
        let Some(inc) = s.incoming.iter_mut().find(|i| i.mig == mig_id) else {
            return Some(ECANCELED);
        };
        match inc.step(e) {
            Action::Proceed | Action::Ignore => None,
            Action::Stop(e) | Action::Refuse(e) => Some(error_of(e)),
        }
    }

    /// Whether the connection migration `inc` began on is down or was
    /// replaced: what its source sent since (an Abort) may be lost.
    pub(super) fn link_lost(&self, inc: &Incoming) -> bool {
        inc.link.is_none() || self.transport.link(inc.from) != inc.link
    }

    pub(super) fn wait_go(&self, mig_id: u64, from: u8) -> Result {
        let deadline = now_ns() + 10_000 * NSEC_PER_MSEC;
        let mut s = self.state.lock();
        loop {
            let inc = s
                .incoming
                .iter_mut()
                .find(|i| i.mig == mig_id && i.from == from)
                .ok_or(ECANCELED)?;
            match inc.phase {
                Phase::Running => return Ok(()),
                Phase::Aborted => return Err(ECANCELED),
                _ => {}
            }
            if now_ns() > deadline || self.link_lost(inc) {
                inc.step(Event::GoTimeout);
                return Err(ETIMEDOUT);
            }
            s = self.killable_wait(s, 100)?;
        }
    }

    /// Rebuilds the process of migration `mig_id` in the calling task (a
    /// new process from the restorer, or the deputy at home).
    pub(super) fn restore(self: &Arc<Self>, mig_id: u64, deputy: bool) -> Result {
        let (from, pid, begin_req, begin) = {
            let mut s = self.state.lock();
            let inc = s
                .incoming
                .iter_mut()
                .find(|i| i.mig == mig_id)
                .ok_or(ECANCELED)?;
            (
                inc.from,
                inc.pid,
                inc.begin_req,
                core::mem::take(&mut inc.begin),
            )
        };
        let mut pending = begin_req;
        let r = self.restore_inner(mig_id, deputy, from, pid, &begin, &mut pending);
        if r.is_err() {
            // From now a Go is refused (a kill that ended the restore in
            // `wait_go` left it Committed: a Go then would have been
            // answered as running here).
            let _ = self.arrival_step(mig_id, Event::Abort);
            // Its threads end too (at home: they stay thread deputies).
            self.threads_done(mig_id, false);
        }
        self.forget(mig_id);
        if let Err(e) = r {
            self.respond(from, pending, pid, i64::from(e.to_errno()), &[]);
            pr_info_ratelimited!(
                "migrate: pid {} from node {} not restored here (error {})\n",
                pid,
                from,
                e.to_errno()
            );
        }
        r
    }

    pub(super) fn restore_inner(
        self: &Arc<Self>,
        mig_id: u64,
        deputy: bool,
        from: u8,
        pid: u32,
        begin: &[u8],
        pending: &mut u64,
    ) -> Result {
        let mut r = Reader::new(begin);
        let (b, text, nvma) = mig::read_begin(&mut r).map_err(|_| EPROTO)?;
        let mut tids = KVec::new();
        for t in mig::begin_tids(&text) {
            tids.push(t, GFP_KERNEL)?;
        }
        if deputy {
            self.make_home_threads(mig_id, pid, &tids)?;
        }
        let id = &b.ident;
        let mut vmas = KVVec::with_capacity(nvma as usize, GFP_KERNEL)?;
        for _ in 0..nvma {
            vmas.push(Vma::read(&mut r).map_err(|_| EPROTO)?, GFP_KERNEL)?;
        }
        if !in_order(&vmas) {
            return Err(EPROTO);
        }
        // At home its thread deputies serve calls meanwhile, in this
        // memory: none while it is remapped.
        let closed = deputy.then(|| self.mm_close(pid, mig_id)).transpose()?;
        sm::wipe_mm()?;
        if deputy {
            // The deputy kept the vdso the process left with; one that
            // exec'd away has its program's elsewhere, where that
            // program's C library calls it.
            if let Err(e) = sm::place_vdso(b.vdso_lo, b.vdso) {
                pr_warn!(
                    "migrate: pid {}: its vdso cannot go to {:#x} here (error {})\n",
                    pid,
                    b.vdso,
                    e.to_errno()
                );
                return Err(e);
            }
        }
        let mut need = KVec::new();
        need.resize(vmas.len().div_ceil(8), 0u8, GFP_KERNEL)?;
        for (i, v) in vmas.iter().enumerate() {
            if v.flags & (vma_flags::SPECIAL | vma_flags::UNSUPPORTED) != 0 {
                continue;
            }
            if map_area(pid, v, id)? {
                need[i / 8] |= 1 << (i % 8);
            }
        }
        drop(closed);
        self.respond(from, *pending, pid, 0, &need);
        *pending = 0;
        let mut sum = 0u64;
        let mut npages = 0u64;
        let mut seq = 0u32;
        let mut comm = crate::logic::fmtbuf::FmtBuf::<16>::new();
        loop {
            let msg = self.next_msg(mig_id, from, deputy.then_some(pid))?;
            *pending = msg.req;
            let mut r = Reader::new(&msg.body);
            match msg.kind {
                Kind::Data => {
                    let d = mig::read_data_hdr(&mut r).map_err(|_| EPROTO)?;
                    if d.seq != seq {
                        return Err(EPROTO);
                    }
                    seq += 1;
                    for _ in 0..d.runs {
                        let run = mig::read_run(&mut r).map_err(|_| EPROTO)?;
                        for (addr, page) in mig::run_pages(&run) {
                            sum = sum.wrapping_add(mig::page_hash(addr, page));
                            sm::write_mem(addr, page)?;
                            npages += 1;
                        }
                    }
                    r.end().map_err(|_| EPROTO)?;
                    self.respond(from, msg.req, pid, 0, &[]);
                    *pending = 0;
                }
                Kind::Layout => {
                    // The layout when the process stopped: remap what
                    // changed since Begin.
                    r.u64().map_err(|_| EPROTO)?;
                    let n = mig::read_area_count(&mut r).map_err(|_| EPROTO)?;
                    let mut now = KVVec::with_capacity(n as usize, GFP_KERNEL)?;
                    for _ in 0..n {
                        now.push(Vma::read(&mut r).map_err(|_| EPROTO)?, GFP_KERNEL)?;
                    }
                    r.end().map_err(|_| EPROTO)?;
                    let closed = deputy.then(|| self.mm_close(pid, mig_id)).transpose()?;
                    let need = relayout(pid, &vmas, &now, id)?;
                    drop(closed);
                    self.respond(from, msg.req, pid, 0, &need);
                    *pending = 0;
                }
                Kind::Thread => {
                    self.file_thread(mig_id, &tids, &msg.body)?;
                    self.respond(from, msg.req, pid, 0, &[]);
                    *pending = 0;
                }
                Kind::Commit => {
                    let c = mig::read_commit(&mut r).map_err(|_| EPROTO)?;
                    let task = TaskImage::from_bytes(c.task)?;
                    let _ = comm.write_str(core::str::from_utf8(task.comm()).unwrap_or("?"));
                    if c.sum != sum || c.pages != npages || c.msgs != seq {
                        pr_warn!(
                            "migrate: pid {}: checksum mismatch ({} pages, sum {:#x}; sent {} pages, sum {:#x})\n",
                            pid, npages, sum, c.pages, c.sum
                        );
                        return Err(EIO);
                    }
                    // Away from home, in the user namespace the restorer
                    // made like its own (never without it: its capabilities
                    // would be the initial namespace's).
                    let ns = match deputy {
                        true => None,
                        false => self.userns_take(mig_id)?,
                    };
                    task.apply(ns.as_ref())?;
                    // Its PIDs in its PID namespace (the one made here for
                    // its home's, or the deputy's own), as it had them,
                    // owned as it was.
                    let mut ids = KVec::new();
                    for l in mig::begin_pidns_levels(&text) {
                        for w in Iterator::chain([l.key, l.owner].into_iter(), l.ids()) {
                            ids.push(w, GFP_KERNEL)?;
                        }
                    }
                    if let Err(e) = sm::pidns_check(&tids, &ids) {
                        pr_warn!(
                            "migrate: pid {}: not restored with its PIDs in its PID namespace\n",
                            pid
                        );
                        return Err(e);
                    }
                    sm::ptimers_apply(c.ptimers)?;
                    self.install_files(deputy, b.home, pid, b.deputy, c.fds)?;
                    for s in c.sigs.chunks_exact(mig::SIGINFO_LEN) {
                        let _ = sm::queue_signal(s);
                    }
                    let mut gregs = [0u8; mig::GREGS_LEN];
                    if c.gregs.len() != gregs.len() {
                        return Err(EPROTO);
                    }
                    gregs.copy_from_slice(c.gregs);
                    task.resume_time(&mut gregs)?;
                    sm::restore_regs(&gregs, c.xstate, c.xkind)?;
                    // Its other threads take their images now.
                    self.threads_apply(pid, mig_id, &tids)?;
                    // Pages left for after Go (post-copy): its stale
                    // copies go, and a helper will put them in as they
                    // come (src/migrate/lazy.rs).
                    if c.lazy.is_empty() {
                        self.lazy_forget(mig_id);
                    } else {
                        self.lazy_arm(mig_id, c.lazy)?;
                    }
                    if !deputy {
                        // Known before Go so that its exit is reported
                        // (a spinlock: the exit hook reads it atomically).
                        // Its requests here are numbered apart from
                        // those it made where it ran before (the deputy
                        // keeps its last reply for a repeat of the same
                        // number).
                        let io_seq = (b.nmigs & 0xfff) << 20;
                        // Its deputy shows the command line it left with.
                        let cmd_told = (
                            sm::Task::of(pid).map_or(0, |t| t.exec_id().wrapping_add(1)),
                            0,
                        );
                        self.bodies.lock().push(
                            BodyRec {
                                home_ns: b.home_ns,
                                userns: if ns.is_some() { sm::userns_id() } else { 0 },
                                pidns: pidns_keys(&text),
                                cmd_told,
                                switches_told: mig::switch_bits(b.lock, b.loadlevel),
                                ..BodyRec::new(pid, b.home, b.deputy, io_seq)
                            },
                            GFP_ATOMIC,
                        )?;
                    }
                    // Applied: from now on only Go lets it run.
                    if let Some(e) = self.arrival_step(mig_id, Event::Commit) {
                        self.bodies.lock().retain(|x| x.pid != pid);
                        return Err(e);
                    }
                    self.respond(from, msg.req, pid, 0, &[]);
                    *pending = 0;
                    if let Err(e) = self.wait_go(mig_id, from) {
                        self.bodies.lock().retain(|x| x.pid != pid);
                        return Err(e);
                    }
                    if let Some(b) = self.bodies.lock().iter_mut().find(|b| b.pid == pid) {
                        b.running = true;
                    }
                    // Home hears where it runs now from here too, before
                    // it runs: its proxied calls from here (a read that
                    // the move interrupted runs again at once) follow on
                    // this connection, so home knows them for its own.
                    // The source's report may come later (or be lost).
                    if !deputy && from != b.home {
                        let me = u32::from(self.me);
                        let _ = self.send(b.home, Kind::Moved, pid, 8, |w| {
                            w.u32(me)?;
                            w.u32(b.nmigs)
                        });
                    }
                    // Away from home its path and identity calls are done
                    // there (`sysfwd`); back home, here.
                    sm::set_guest(!deputy);
                    // Its other threads run now, after the Moved above:
                    // their calls at home come after it.
                    self.threads_done(mig_id, true);
                    break;
                }
                _ => return Err(EPROTO),
            }
        }
        if deputy {
            self.drop_deputy(pid);
            // Those whose thread did not come back (the process lives).
            self.end_thread_deputies(pid, 0);
        }
        let _ = self.table.set_switches(pid, b.loadlevel, b.lock, b.nmigs);
        self.events.add(
            EventKind::Migrate,
            self.me,
            format_args!(
                "pid {} ({}) arrived from node {} ({} pages)",
                pid,
                core::str::from_utf8(comm.as_bytes()).unwrap_or("?"),
                from,
                npages
            ),
        );
        Ok(())
    }

    pub(super) fn install_files(
        &self,
        deputy: bool,
        home: u8,
        pid: u32,
        dep: u64,
        fds: &[u8],
    ) -> Result {
        let mut list = KVec::new();
        let mut watches = KVec::new();
        let mut areas = KVec::new();
        for f in fds.chunks_exact(mig::FD_LEN) {
            let f = mig::read_fd(f).map_err(|_| EPROTO)?;
            if let Some(w) = f.epoll_watch() {
                watches.push(w, GFP_KERNEL)?;
            } else if let Some(a) = f.uffd_area().or_else(|| f.uffd_wp()) {
                areas.push(a, GFP_KERNEL)?;
            } else if !watches.is_empty() || !areas.is_empty() {
                // (The files first, then the watches and areas.)
                return Err(EPROTO);
            } else {
                list.push(f, GFP_KERNEL)?;
            }
        }
        // Each area's userfaultfd is one of its files, made here.
        if areas.iter().any(|a| {
            !list
                .iter()
                .any(|f| f.fd == a.fd && f.node_dev == mig::USERFAULTFD)
        }) {
            return Err(EPROTO);
        }
        // Node devices (/dev/null...) are opened again wherever the
        // process arrives; every other file is home's.
        if deputy {
            let mut from = KVec::new();
            let mut to = KVec::new();
            for f in list.iter().filter(|f| f.node_dev == 0) {
                from.push(f.home_fd, GFP_KERNEL)?;
                to.push((f.fd, f.cloexec), GFP_KERNEL)?;
            }
            sm::reinstall_files(&from, &to)?;
            for f in list.iter().filter(|f| f.node_dev != 0) {
                open_here(f)?;
            }
            // Home's epolls watch its signalfds and userfaultfds, made
            // again, again.
            super::sigwatch::home_epolls(pid, sf::EPOLL_CTL_ADD, &watches);
            return register_uffd_areas(pid, &areas);
        }
        // In ascending order (as captured): each lands at its number.
        if list.windows(2).any(|w| w[0].fd >= w[1].fd) {
            return Err(EPROTO);
        }
        sm::close_all();
        for f in list.iter() {
            if f.node_dev != 0 {
                open_here(f)?;
            } else {
                sm::install_proxy(f.fd, f.f_flags, f.cloexec, home, pid, f.home_fd, dep)?;
            }
        }
        // The proxies of its epolls keep the signalfds and userfaultfds
        // they watch (made here).
        for w in watches.iter() {
            sm::proxy_watch(sf::EPOLL_CTL_ADD, w).map_err(|_| EPROTO)?;
        }
        register_uffd_areas(pid, &areas)
    }

    /// A `Go` (a request, perhaps repeated): the copy runs here from now
    /// on, answered 0; or it never will (aborted, unknown), answered
    /// ECANCELED and the source resumes. Started migrations are remembered
    /// so that a repeated Go is answered the same after the restore ended.
    fn on_go(
        &self,
        mut s: StateGuard<'_>,
        from: u8,
        h: &MigHeader,
        mig_id: u64,
    ) -> core::result::Result<(), WireError> {
        let inc = s
            .incoming
            .iter_mut()
            .find(|i| i.mig == mig_id && i.from == from && i.pid == h.pid);
        let phase = inc.map(|i| {
            i.step(Event::Go);
            i.phase
        });
        let started = s.started.iter().any(|x| x.mig == mig_id && x.from == from);
        let runs = custody::go_answer(phase, started);
        if runs && !started {
            // Bounded: the oldest goes (older than any source still asks).
            if s.started.len() >= MAX_STARTED {
                let _ = s.started.remove(0);
                self.counters.started_full.inc();
            }
            let _ = s.started.push(
                Started {
                    mig: mig_id,
                    from,
                    at_ns: now_ns(),
                },
                GFP_KERNEL,
            );
        }
        drop(s);
        self.cv.notify_all();
        let v = if runs {
            0
        } else {
            Errno::ECANCELED.to_result()
        };
        self.respond(from, h.req, h.pid, v, &[]);
        Ok(())
    }

    pub(super) fn queue(
        &self,
        from: u8,
        h: &MigHeader,
        body: &[u8],
    ) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(body);
        let mig_id = r.u64()?;
        let mut copy = KVVec::new();
        if matches!(
            h.kind,
            Kind::Data | Kind::Layout | Kind::Commit | Kind::Thread
        ) && copy.extend_from_slice(body, GFP_KERNEL).is_err()
        {
            self.respond(from, h.req, h.pid, Errno::ENOMEM.to_result(), &[]);
            return Ok(());
        }
        let mut s = self.state.lock();
        if h.kind == Kind::Go {
            return self.on_go(s, from, h, mig_id);
        }
        let Some(inc) = s
            .incoming
            .iter_mut()
            .find(|i| i.mig == mig_id && i.from == from && i.pid == h.pid)
        else {
            drop(s);
            self.respond(from, h.req, h.pid, i64::from(ECANCELED.to_errno()), &[]);
            return Ok(());
        };
        match h.kind {
            // Answered by `on_go`, above.
            Kind::Go => {}
            Kind::Abort => {
                inc.step(Event::Abort);
            }
            _ => {
                if inc.msgs.len() > 2 * DATA_WINDOW as usize {
                    // The source ignores the flow control.
                    return Err(WireError::BadLength);
                }
                let m = Msg {
                    from,
                    req: h.req,
                    kind: h.kind,
                    body: copy,
                    at_ns: now_ns(),
                };
                if inc.msgs.push(m, GFP_KERNEL).is_err() {
                    inc.step(Event::Overflow);
                }
            }
        }
        drop(s);
        self.cv.notify_all();
        Ok(())
    }
}

/// Registers again with the process's userfaultfds (made here) the areas
/// they had (a page it never had faults to its userfaultfd here, as it
/// would have there), then write-protects again the runs of pages they
/// had protected (runs, `mode` 0, come after their areas).
fn register_uffd_areas(pid: u32, areas: &[mig::UffdArea]) -> Result {
    for a in areas.iter().filter(|a| a.mode != 0) {
        let len = u64::from(a.pages) * mig::PAGE as u64;
        let mut mode = 0;
        if a.mode & mig::UFFD_MODE_MISSING != 0 {
            mode |= sm::UFFD_MODE_MISSING;
        }
        if a.mode & mig::UFFD_MODE_WP != 0 {
            mode |= sm::UFFD_MODE_WP;
        }
        sm::uffd_register(a.fd, a.start, len, mode).inspect_err(|e| {
            pr_info_ratelimited!(
                "migrate: pid {}: cannot register {:#x}-{:#x} with its userfaultfd {} (error {})\n",
                pid,
                a.start,
                a.start + len,
                a.fd,
                e.to_errno()
            );
        })?;
    }
    for r in areas.iter().filter(|a| a.mode == 0) {
        let len = u64::from(r.pages) * mig::PAGE as u64;
        sm::uffd_wp(r.fd, r.start, len).inspect_err(|e| {
            pr_info_ratelimited!(
                "migrate: pid {}: cannot write-protect {:#x}-{:#x} through its userfaultfd {} (error {})\n",
                pid,
                r.start,
                r.start + len,
                r.fd,
                e.to_errno()
            );
        })?;
    }
    Ok(())
}

/// The keys of a `Begin`'s PID namespace levels, outermost first, 0 after
/// the last (`BodyRec::pidns`).
fn pidns_keys(t: &mig::BeginText<'_>) -> [u32; mig::PIDNS_LEVELS] {
    let mut keys = [0; mig::PIDNS_LEVELS];
    for (k, l) in keys.iter_mut().zip(mig::begin_pidns_levels(t)) {
        *k = l.key;
    }
    keys
}

/// Opens again where the process arrives a file it had that every node
/// has (a node device), or makes it again (a signalfd, a userfaultfd).
fn open_here(f: &mig::Fd) -> Result {
    if f.node_dev == mig::SIGNALFD {
        sm::open_signalfd(f.fd, f.sigmask, f.f_flags, f.cloexec)
    } else if f.node_dev == mig::USERFAULTFD {
        sm::open_uffd(f.fd, f.sigmask, f.f_flags, f.cloexec)
    } else {
        sm::open_node_dev(f.fd, f.node_dev, f.f_flags, f.cloexec)
    }
}

/// Maps area `v` of process `pid` into the calling task: from its file,
/// or as anonymous memory when the file here is not the one it had
/// (ESTALE). Returns whether it became anonymous (its pages must come).
fn map_area(pid: u32, v: &Vma<'_>, id: &mig::Ident) -> Result<bool> {
    match sm::map(v, false, id) {
        Ok(()) => Ok(false),
        Err(e) if e == ESTALE => sm::map(v, true, id).map(|()| true),
        Err(e) => {
            pr_info_ratelimited!(
                "migrate: pid {}: cannot map {:#x}-{:#x} (error {})\n",
                pid,
                v.start,
                v.end,
                e.to_errno()
            );
            Err(e)
        }
    }
}

/// Whether areas from a peer are in address order and apart, as a
/// process's are (what the lookups by binary search rely on).
fn in_order(areas: &[Vma<'_>]) -> bool {
    areas.windows(2).all(|w| w[0].end <= w[1].start)
}

/// Brings the calling task's memory from layout `was` (mapped at Begin)
/// to `now` (when the process stopped): areas that are not the same are
/// mapped afresh, what is in no area any more is unmapped. Returns the
/// bitmap (over `now`) of the areas whose every page must be sent.
fn relayout(pid: u32, was: &[Vma<'_>], now: &[Vma<'_>], id: &mig::Ident) -> Result<KVec<u8>> {
    let mut need = KVec::new();
    need.resize(now.len().div_ceil(8), 0u8, GFP_KERNEL)?;
    if !in_order(now) {
        return Err(EPROTO);
    }
    let skip = vma_flags::SPECIAL | vma_flags::UNSUPPORTED;
    // Both in address order (checked): thousands of areas are looked up
    // in log time, not each against all.
    for (j, v) in now.iter().enumerate() {
        let kept = was
            .binary_search_by_key(&v.start, |o| o.start)
            .is_ok_and(|i| was[i].same_area(v));
        if v.flags & skip != 0 || kept {
            continue;
        }
        if map_area(pid, v, id)? || v.flags & vma_flags::ANON_PAGES != 0 {
            need[j / 8] |= 1 << (j % 8);
        }
    }
    for o in was.iter().filter(|o| o.flags & skip == 0) {
        let mut cur = o.start;
        let first = now.partition_point(|v| v.end <= o.start);
        for v in now[first..].iter().take_while(|v| v.start < o.end) {
            if v.start > cur {
                sm::unmap(cur, v.start - cur)?;
            }
            cur = cur.max(v.end);
        }
        if cur < o.end {
            sm::unmap(cur, o.end - cur)?;
        }
    }
    Ok(need)
}

/// The restore of an arriving process, in its own context.
struct Restore {
    m: Arc<Migrator>,
    mig: u64,
}

impl sm::TaskWork for Restore {
    fn run(self: Arc<Self>) -> Option<i32> {
        // A half-built process must not run: the source keeps it.
        self.m
            .restore(self.mig, false)
            .err()
            .map(|_| SIGKILL as i32)
    }
}

/// Characters of hex in one argument of [`hex_args`] (an exec takes no
/// argument string over 128 KiB).
const ARG_PIECE: usize = 64 * 1024;
// The restorer takes up to 9 USERNS arguments: the longest chain's.
const _: () = assert!((mig::USERNS_MAX_LEN * 2).div_ceil(ARG_PIECE) <= 9);

/// `bytes` in hex for the restorer's arguments, in arguments of at most
/// `piece` characters, each NUL-terminated, one after another ("-" for
/// none). Up to 528 KiB: not one physically contiguous run of pages.
fn hex_args(bytes: &[u8], piece: usize) -> Result<KVVec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = bytes.len() * 2;
    let mut a = KVVec::with_capacity(n + n / piece + 2, GFP_KERNEL)?;
    for (i, &x) in bytes.iter().enumerate() {
        if i > 0 && (2 * i).is_multiple_of(piece) {
            a.push(0, GFP_KERNEL)?;
        }
        a.push(HEX[usize::from(x >> 4)], GFP_KERNEL)?;
        a.push(HEX[usize::from(x & 15)], GFP_KERNEL)?;
    }
    if a.is_empty() {
        a.push(b'-', GFP_KERNEL)?;
    }
    a.push(0, GFP_KERNEL)?;
    Ok(a)
}

/// Whether the calling task is the restorer of `inc` (the child it made
/// with the process's PID): EPERM, logged, when not.
fn own_restorer(inc: &Incoming) -> Result {
    let me = sm::current_tgid();
    if inc.pid != me {
        pr_info!(
            "admin/restore: pid {} is not the restorer of migration {:x}\n",
            me,
            inc.mig
        );
        return Err(EPERM);
    }
    Ok(())
}

/// Migration `mig_id` arriving here, asked about by its restorer (a
/// write of "MIG uffd FD" or "MIG userns FD"): ENOENT when none is, EPERM
/// when the caller is not its restorer, each logged.
pub(super) fn restorer_incoming(incoming: &mut [Incoming], mig_id: u64) -> Result<&mut Incoming> {
    let Some(inc) = incoming.iter_mut().find(|i| i.mig == mig_id) else {
        pr_info!("admin/restore: no migration {:x} is arriving\n", mig_id);
        return Err(ENOENT);
    };
    own_restorer(inc)?;
    Ok(inc)
}
