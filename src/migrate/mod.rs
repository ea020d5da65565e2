// SPDX-License-Identifier: GPL-2.0

//! Live migration: `echo N > /proc/<pid>/goto` moves a running process to
//! node N, and the home-node model keeps it working there.
//!
//! Roles, per process:
//! - **source**: the node the process runs on. A task work runs in the
//!   process's own context ([`Emigrate`]): it captures the task image,
//!   memory areas, registers, open files and pending signals, streams the
//!   pages (`Data`, flow-controlled), and commits. Until the destination
//!   has committed, nothing changed here: any failure resumes the process
//!   where it was and the `goto` write fails with the errno.
//! - **destination**: a fresh process with the same PID (the restorer stub
//!   `vproc-restore`, started as a user-mode helper, clone3()s it with
//!   `set_tid` and places the vdso where the process had it; then it writes
//!   to `/proc/cluster/admin/restore` and the module rebuilds the process in
//!   that task's own context ([`Restore`]). When the process comes back
//!   home, its deputy is the destination and rebuilds itself.
//! - **home** (the node the process was born on): once the process left,
//!   the original task stays as its **deputy** ([`Migrator::deputy_loop`]):
//!   it keeps the PID, the parent relation and the open files; it forwards
//!   every signal it gets to the process, serves the process's file
//!   operations (its fds became proxies), and ends with the process's exit
//!   code so that the parent's wait() sees it.
//!
//! Must not touch: sockets (the transport carries everything), /proc
//! (procfs and the vproc table ask).

mod source;

pub(crate) use source::Asker;

use crate::events::{EventKind, Events};
use crate::logic::mig::{
    self, io_op, vma_flags, Begin, Commit, DataHdr, Fd, Io, Kind, MigHeader, Reader, Signal, Vma,
    Writer,
};
use crate::logic::wire::{MsgType, WireError, MAX_PAYLOAD};
use crate::sys::migrate::{self as sm, FdKind, TaskImage, TASK_LEN};
use crate::sys::proc::{ProcFileOps, Seq};
use crate::sys::process::{PidFiles, TaskEvents, TaskFacts};
use crate::sys::thread::{self, ThreadFn};
use crate::sys::time::now_ns;
use crate::transport::{MigService, Transport};
use crate::vproc::VprocTable;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    new_condvar, new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, CondVar, Mutex, SpinLock},
    time::msecs_to_jiffies,
};

/// The restorer stub (tools/src/bin/vproc-restore.rs).
const RESTORER: &CStr = c"/usr/bin/vproc-restore";
/// How long the source waits for the destination to be ready for pages.
const BEGIN_TIMEOUT_MS: u32 = 20_000;
/// How long the source waits for the destination to commit.
const COMMIT_TIMEOUT_MS: u32 = 30_000;
/// How long a home node waits for a process's node to move it on.
const GOTO_TIMEOUT_MS: u32 = 300_000;
/// How long setting a switch of a process on another node may take.
const SWITCH_TIMEOUT_MS: u32 = 10_000;
/// Silence after which a destination gives a migration up.
const IDLE_TIMEOUT_NS: u64 = 30_000_000_000;
/// Every this many `Data` messages, the source waits until the destination
/// has consumed them (bounds what the destination queues).
const DATA_WINDOW: u32 = 256;
/// How long a deputy keeps waiting for a node that is down.
const DEPUTY_DOWN_NS: u64 = 10_000_000_000;
const NSEC_PER_MSEC: u64 = 1_000_000;
const SIGKILL: u32 = 9;
const ERESTARTSYS: i64 = 512;

/// A message of the migration protocol, queued for the task it concerns.
struct Msg {
    from: u8,
    req: u64,
    kind: Kind,
    body: KVec<u8>,
}

/// A migration arriving here.
struct Incoming {
    mig: u64,
    from: u8,
    pid: u32,
    /// The `Begin` request, answered once the destination mapped memory.
    begin_req: u64,
    /// The `Begin` body (task image and areas); taken by the restorer.
    begin: KVec<u8>,
    msgs: KVec<Msg>,
    go: bool,
    abort: bool,
    attached: bool,
    /// Sent by the load leveller.
    auto: bool,
    last_ns: u64,
}

/// A process of this node that runs elsewhere now.
struct Deputy {
    pid: u32,
    /// Its id (random): requests of proxies of another deputy of the same
    /// PID, an earlier or a later one, get EBADF.
    id: u64,
    ios: KVec<Msg>,
    exit: Option<i32>,
    /// A migration bringing the process back home.
    home_mig: Option<u64>,
    down_since_ns: u64,
}

type StateGuard<'a> = kernel::sync::lock::Guard<'a, State, kernel::sync::lock::mutex::MutexBackend>;

struct State {
    incoming: KVec<Incoming>,
    deputies: KVec<Deputy>,
    /// Processes being sent away from here.
    busy: KVec<u32>,
}

/// A migrated process running here (not at home).
#[derive(Clone, Copy)]
struct BodyRec {
    pid: u32,
    home: u8,
    /// Its deputy's id (its proxies carry it).
    deputy: u64,
    /// Moving on: its exit and its files' closing are not the process's.
    retiring: bool,
}

/// Exit codes of bodies, for the home nodes (filled in atomic context).
struct Exits {
    list: KVec<(u32, u8, i32)>,
    /// Control requests from other nodes: (from, req, pid, what).
    controls: KVec<(u8, u64, u32, mig::Control)>,
}

/// The migration layer of one node.
#[pin_data]
pub(crate) struct Migrator {
    me: u8,
    transport: Arc<Transport>,
    table: Arc<VprocTable>,
    events: Arc<Events>,
    next_mig: AtomicU64,
    #[pin]
    state: Mutex<State>,
    #[pin]
    cv: CondVar,
    #[pin]
    bodies: SpinLock<KVec<BodyRec>>,
    #[pin]
    exits: SpinLock<Exits>,
    #[pin]
    exits_cv: CondVar,
    /// This migrator itself (set after creation, cleared at unload), for
    /// work started by the receiver threads.
    #[pin]
    this: SpinLock<Option<Arc<Migrator>>>,
}

/// Writes a message header plus `body` into a new payload.
fn payload(
    req: u64,
    kind: Kind,
    pid: u32,
    extra: usize,
    body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
) -> Result<KVec<u8>> {
    let mut p = KVec::new();
    p.resize(mig::HEADER_LEN + extra, 0, GFP_KERNEL)?;
    let n = {
        let mut w = Writer::new(&mut p);
        mig::write_header(&mut w, &MigHeader { req, kind, pid }).map_err(|_| EINVAL)?;
        body(&mut w).map_err(|_| EINVAL)?;
        w.len()
    };
    p.truncate(n);
    Ok(p)
}

fn errno_of(v: i64) -> Error {
    let e = (-v).clamp(1, 4095) as i32;
    Error::from_errno(-e)
}

impl Migrator {
    /// The migration layer of node `me`.
    pub(crate) fn new(
        me: u8,
        transport: Arc<Transport>,
        table: Arc<VprocTable>,
        events: Arc<Events>,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                me,
                transport,
                table,
                events,
                next_mig: AtomicU64::new(1),
                state <- new_mutex!(State { incoming: KVec::new(), deputies: KVec::new(), busy: KVec::new() }, "Migrator::state"),
                cv <- new_condvar!("Migrator::cv"),
                bodies <- new_spinlock!(KVec::new(), "Migrator::bodies"),
                exits <- new_spinlock!(
                    Exits { list: KVec::new(), controls: KVec::new() },
                    "Migrator::exits"
                ),
                exits_cv <- new_condvar!("Migrator::exits_cv"),
                this <- new_spinlock!(None, "Migrator::this"),
            }),
            GFP_KERNEL,
        )
        .inspect(|m| *m.this.lock() = Some(m.clone()))
    }

    fn body(&self, pid: u32) -> Option<BodyRec> {
        self.bodies.lock().iter().find(|b| b.pid == pid).copied()
    }

    /// Sends a response to request `req` of node `to`.
    fn respond(&self, to: u8, req: u64, pid: u32, value: i64, data: &[u8]) {
        if req == 0 {
            return;
        }
        let p = payload(req, Kind::Resp, pid, 8 + data.len(), |w| {
            mig::write_resp(w, value, data)
        });
        if let Ok(p) = p {
            let _ = self.transport.send_wait(to, MsgType::MigResp, p);
        }
    }

    /// Sends a one-way message.
    fn send(
        &self,
        to: u8,
        kind: Kind,
        pid: u32,
        extra: usize,
        body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
    ) -> Result {
        let p = payload(0, kind, pid, extra, body)?;
        self.transport.send_wait(to, MsgType::Mig, p)
    }

    /// A request; returns the response's value (>= 0) and data.
    fn request(
        &self,
        to: u8,
        kind: Kind,
        pid: u32,
        timeout_ms: u32,
        extra: usize,
        body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
    ) -> Result<(i64, KVec<u8>)> {
        let frames = self.transport.request(to, MsgType::Mig, timeout_ms, |id| {
            payload(id, kind, pid, extra, body)
        })?;
        let f = frames.first().ok_or(EPROTO)?;
        let mut r = Reader::new(f);
        let h = mig::read_header(&mut r).map_err(|_| EPROTO)?;
        if h.kind != Kind::Resp {
            return Err(EPROTO);
        }
        let (v, data) = mig::read_resp(&mut r).map_err(|_| EPROTO)?;
        let mut d = KVec::new();
        d.extend_from_slice(data, GFP_KERNEL)?;
        Ok((v, d))
    }

    // ---- the home side: deputies ----

    fn make_deputy(&self, pid: u32, at: u8, nmigs: u32, id: u64) -> Result {
        let mut s = self.state.lock();
        s.deputies.push(
            Deputy {
                pid,
                id,
                ios: KVec::new(),
                exit: None,
                home_mig: None,
                down_since_ns: 0,
            },
            GFP_KERNEL,
        )?;
        drop(s);
        self.table.set_away(pid, Some(at))?;
        let _ = self.table.set_nmigs(pid, nmigs);
        Ok(())
    }

    fn drop_deputy(&self, pid: u32) {
        let mut s = self.state.lock();
        s.deputies.retain(|d| d.pid != pid);
        drop(s);
        let _ = self.table.set_away(pid, None);
    }

    /// The deputy of `pid`, in its own context: until the process ends
    /// (this task then exits with its code) or comes back (returns: the
    /// task resumes as the process).
    /// Returns the status the deputy exits with, `None` when the process
    /// is back in it (it runs on).
    fn deputy_loop(&self, pid: u32) -> Option<i32> {
        sm::deputy_signals();
        loop {
            let at = self.table.away(pid).unwrap_or(self.me);
            if sm::fatal_pending() {
                let _ = self.forward_signal(pid, at, SIGKILL, 0x80, 0, 0);
                self.drop_deputy(pid);
                return None;
            }
            self.forward_signals(pid, at);
            enum Work {
                Exit(i32),
                Home(u64),
                Io(Msg),
                Lost,
                Idle,
            }
            let work = {
                let mut s = self.state.lock();
                let up = self.transport.is_up(at);
                match s.deputies.iter_mut().find(|d| d.pid == pid) {
                    None => Work::Lost,
                    Some(d) => {
                        if let Some(c) = d.exit {
                            Work::Exit(c)
                        } else if let Some(m) = d.home_mig {
                            Work::Home(m)
                        } else if !d.ios.is_empty() {
                            match d.ios.remove(0) {
                                Ok(m) => Work::Io(m),
                                Err(_) => Work::Idle,
                            }
                        } else if !up {
                            let now = now_ns();
                            if d.down_since_ns == 0 {
                                d.down_since_ns = now;
                            }
                            if now - d.down_since_ns > DEPUTY_DOWN_NS {
                                Work::Lost
                            } else {
                                Work::Idle
                            }
                        } else {
                            d.down_since_ns = 0;
                            Work::Idle
                        }
                    }
                }
            };
            match work {
                Work::Exit(code) => {
                    self.drop_deputy(pid);
                    return Some(code);
                }
                Work::Lost => {
                    pr_warn!(
                        "pid {}: node {} is gone, and the process with it\n",
                        pid,
                        at
                    );
                    self.drop_deputy(pid);
                    return Some(SIGKILL as i32);
                }
                Work::Home(m) => match self.restore(m, true) {
                    Ok(()) => return None,
                    Err(e) => {
                        pr_info_ratelimited!(
                            "pid {}: coming home failed (error {}), it stays on node {}\n",
                            pid,
                            e.to_errno(),
                            at
                        );
                        sm::deputy_signals();
                        let mut s = self.state.lock();
                        if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == pid) {
                            d.home_mig = None;
                        }
                    }
                },
                Work::Io(msg) => self.serve_io(pid, at, msg),
                Work::Idle => {
                    let mut s = self.state.lock();
                    let pending = s.deputies.iter().find(|d| d.pid == pid).is_some_and(|d| {
                        d.exit.is_some() || d.home_mig.is_some() || !d.ios.is_empty()
                    });
                    if !pending {
                        let _ = self
                            .cv
                            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(500));
                    }
                }
            }
        }
    }

    fn forward_signal(
        &self,
        pid: u32,
        at: u8,
        sig: u32,
        code: i32,
        from_pid: u32,
        from_uid: u32,
    ) -> Result {
        let s = Signal {
            sig,
            code,
            from_pid,
            from_uid,
        };
        self.send(at, Kind::Signal, pid, 16, |w| mig::write_signal(w, &s))
    }

    /// Forwards every signal pending for the deputy to the process.
    fn forward_signals(&self, pid: u32, at: u8) {
        while let Some(info) = sm::dequeue_signal() {
            let le =
                |o: usize| u32::from_le_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
            let (sig, code, from_pid, from_uid) = (le(0), le(8) as i32, le(16), le(20));
            if sig == 0 || sig > 64 {
                continue;
            }
            if self
                .forward_signal(pid, at, sig, code, from_pid, from_uid)
                .is_err()
            {
                pr_warn!("pid {}: signal {} not forwarded to node {}\n", pid, sig, at);
            }
        }
    }

    /// Serves one file operation of the process, on the deputy's files.
    fn serve_io(&self, pid: u32, at: u8, msg: Msg) {
        let mut r = Reader::new(&msg.body);
        let Ok(io) = mig::read_io(&mut r) else {
            self.respond(
                msg.from,
                msg.req,
                pid,
                -i64::from(EINVAL.to_errno().abs()),
                &[],
            );
            return;
        };
        if io.op == io_op::IOCTL {
            let mut out = [0u8; 64];
            let ret = match mig::ioctl_shape(io.len) {
                Some(sh) => {
                    let n = (sh.output as usize).min(out.len());
                    sm::fd_ioctl(io.fd, io.len, io.data, &mut out[..n], io.arg, sh.by_value)
                }
                None => -25,
            };
            self.forward_signals(pid, at);
            let n = mig::ioctl_shape(io.len).map_or(0, |s| s.output as usize);
            let data: &[u8] = if ret >= 0 { &out[..n.min(64)] } else { &[] };
            self.respond(msg.from, msg.req, pid, ret, data);
            return;
        }
        let mut buf = KVec::new();
        let n = match io.op {
            io_op::READ => io.len as usize,
            io_op::WRITE => io.data.len(),
            _ => 0,
        };
        if buf.resize(n, 0, GFP_KERNEL).is_err() {
            self.respond(msg.from, msg.req, pid, -12, &[]);
            return;
        }
        if io.op == io_op::WRITE {
            buf.copy_from_slice(io.data);
        }
        let ret = sm::fd_io(io.fd, io.op, &mut buf, io.len, io.arg);
        // A signal that interrupted it reaches the process first.
        self.forward_signals(pid, at);
        let data: &[u8] = if io.op == io_op::READ && ret > 0 {
            &buf[..(ret as usize).min(buf.len())]
        } else {
            &[]
        };
        self.respond(msg.from, msg.req, pid, ret, data);
    }

    // ---- the destination side ----

    /// A `Begin` from node `from`.
    fn on_begin(
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
        let mut copy = KVec::new();
        if copy.extend_from_slice(body, GFP_KERNEL).is_err() {
            refuse(ENOMEM);
            return Ok(());
        }
        let inc = Incoming {
            mig: b.mig,
            from,
            pid,
            begin_req: req,
            begin: copy,
            msgs: KVec::new(),
            go: false,
            abort: false,
            attached: false,
            auto: b.auto,
            last_ns: now_ns(),
        };
        let s = self.state.lock();
        if s.incoming.iter().any(|i| i.pid == pid || i.mig == b.mig) {
            drop(s);
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
        let mut s = self.state.lock();
        let deputy = s.deputies.iter().position(|d| d.pid == pid);
        if let Some(d) = deputy {
            // Coming home: the deputy rebuilds itself.
            if self.table.away(pid) != Some(from) {
                drop(s);
                refuse(EBUSY);
                return Ok(());
            }
            s.deputies[d].home_mig = Some(b.mig);
        }
        if s.incoming
            .push(
                Incoming {
                    attached: deputy.is_some(),
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

    fn spawn_restorer(&self, mig_id: u64, pid: u32, b: &Begin, t: &mig::BeginText<'_>) -> Result {
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
        fn c(b: &[u8]) -> Result<&CStr> {
            CStr::from_bytes_with_nul(b).map_err(|_| EINVAL)
        }
        sm::spawn(
            RESTORER,
            &[
                RESTORER,
                c(a1.as_bytes())?,
                c(a2.as_bytes())?,
                c(a3.as_bytes())?,
                c(a4.as_bytes())?,
                c(&cwd)?,
                c(&cg)?,
                c(a7.as_bytes())?,
            ],
        )
    }

    fn forget(&self, mig_id: u64) {
        let mut s = self.state.lock();
        s.incoming.retain(|i| i.mig != mig_id);
    }

    /// A write to `/proc/cluster/admin/restore` by the restorer stub:
    /// "MIG" from the new process, or "MIG fail ERRNO".
    fn attach(self: &Arc<Self>, buf: &[u8]) -> Result {
        let bad = || {
            pr_info!("admin/restore: write \"MIG\" or \"MIG fail ERRNO\" (MIG in hex)\n");
            EINVAL
        };
        let s = core::str::from_utf8(buf).map_err(|_| bad())?;
        let mut it = s.split_whitespace();
        let mig_id = it
            .next()
            .and_then(|m| u64::from_str_radix(m, 16).ok())
            .ok_or_else(bad)?;
        let fail = match (it.next(), it.next(), it.next()) {
            (None, _, _) => None,
            (Some("fail"), Some(e), None) => {
                Some(e.parse::<i32>().map_err(|_| bad())?.clamp(1, 4095))
            }
            _ => return Err(bad()),
        };
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
            pr_info_ratelimited!(
                "migrate: pid {}: the restorer failed (error {})\n",
                inc.pid,
                e
            );
            self.respond(inc.from, inc.begin_req, inc.pid, -i64::from(e), &[]);
            return Ok(());
        }
        let inc = &mut st.incoming[i];
        if inc.attached || inc.pid != me {
            pr_info!(
                "admin/restore: pid {} is not the restorer of migration {:x}\n",
                me,
                mig_id
            );
            return Err(EPERM);
        }
        inc.attached = true;
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

    /// Waits for the next message of migration `mig_id`.
    fn next_msg(&self, mig_id: u64, from: u8) -> Result<Msg> {
        let mut s = self.state.lock();
        loop {
            let i = s
                .incoming
                .iter()
                .position(|i| i.mig == mig_id)
                .ok_or(ECANCELED)?;
            let inc = &mut s.incoming[i];
            if inc.abort {
                return Err(ECANCELED);
            }
            if !inc.msgs.is_empty() {
                inc.last_ns = now_ns();
                return inc.msgs.remove(0).map_err(|_| EINVAL);
            }
            if now_ns().saturating_sub(inc.last_ns) > IDLE_TIMEOUT_NS {
                return Err(ETIMEDOUT);
            }
            if !self.transport.is_up(from) {
                return Err(EHOSTUNREACH);
            }
            s = self.killable_wait(s, 200)?;
        }
    }

    /// Sleeps up to `ms` on the state's condition (the lock released), and
    /// locks it again. Only a fatal signal ends a wait early (EINTR).
    fn killable_wait<'a>(&'a self, mut s: StateGuard<'a>, ms: u32) -> Result<StateGuard<'a>> {
        let _ = self
            .cv
            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(ms));
        if sm::signal_pending() {
            drop(s);
            crate::sys::time::killable_pause()?;
            return Ok(self.state.lock());
        }
        Ok(s)
    }

    fn wait_go(&self, mig_id: u64, from: u8) -> Result {
        let deadline = now_ns() + 10_000 * NSEC_PER_MSEC;
        let mut s = self.state.lock();
        loop {
            let inc = s
                .incoming
                .iter()
                .find(|i| i.mig == mig_id)
                .ok_or(ECANCELED)?;
            if inc.abort {
                return Err(ECANCELED);
            }
            if inc.go {
                return Ok(());
            }
            if now_ns() > deadline || !self.transport.is_up(from) {
                return Err(ETIMEDOUT);
            }
            s = self.killable_wait(s, 100)?;
        }
    }

    /// Rebuilds the process of migration `mig_id` in the calling task (a
    /// new process from the restorer, or the deputy at home).
    fn restore(&self, mig_id: u64, deputy: bool) -> Result {
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

    fn restore_inner(
        &self,
        mig_id: u64,
        deputy: bool,
        from: u8,
        pid: u32,
        begin: &[u8],
        pending: &mut u64,
    ) -> Result {
        let mut r = Reader::new(begin);
        let (b, _, nvma) = mig::read_begin(&mut r).map_err(|_| EPROTO)?;
        let id = &b.ident;
        let mut vmas = KVec::with_capacity(nvma as usize, GFP_KERNEL)?;
        for _ in 0..nvma {
            vmas.push(Vma::read(&mut r).map_err(|_| EPROTO)?, GFP_KERNEL)?;
        }
        sm::wipe_mm()?;
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
        self.respond(from, *pending, pid, 0, &need);
        *pending = 0;
        let mut sum = 0u64;
        let mut npages = 0u64;
        let mut seq = 0u32;
        let mut comm = crate::logic::fmtbuf::FmtBuf::<16>::new();
        loop {
            let msg = self.next_msg(mig_id, from)?;
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
                    let mut now = KVec::with_capacity(n as usize, GFP_KERNEL)?;
                    for _ in 0..n {
                        now.push(Vma::read(&mut r).map_err(|_| EPROTO)?, GFP_KERNEL)?;
                    }
                    r.end().map_err(|_| EPROTO)?;
                    let need = relayout(pid, &vmas, &now, id)?;
                    self.respond(from, msg.req, pid, 0, &need);
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
                    task.apply()?;
                    self.install_files(deputy, b.home, pid, b.deputy, c.fds)?;
                    for s in c.sigs.chunks_exact(mig::SIGINFO_LEN) {
                        let _ = sm::queue_signal(s);
                    }
                    sm::restore_regs(c.gregs, c.xstate, c.xkind)?;
                    if !deputy {
                        // Known before Go so that its exit is reported
                        // (a spinlock: the exit hook reads it atomically).
                        self.bodies.lock().push(
                            BodyRec {
                                pid,
                                home: b.home,
                                deputy: b.deputy,
                                retiring: false,
                            },
                            GFP_ATOMIC,
                        )?;
                    }
                    self.respond(from, msg.req, pid, 0, &[]);
                    *pending = 0;
                    if let Err(e) = self.wait_go(mig_id, from) {
                        self.bodies.lock().retain(|x| x.pid != pid);
                        return Err(e);
                    }
                    break;
                }
                _ => return Err(EPROTO),
            }
        }
        if deputy {
            self.drop_deputy(pid);
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

    fn install_files(&self, deputy: bool, home: u8, pid: u32, dep: u64, fds: &[u8]) -> Result {
        let mut list = KVec::new();
        for f in fds.chunks_exact(mig::FD_LEN) {
            list.push(mig::read_fd(f).map_err(|_| EPROTO)?, GFP_KERNEL)?;
        }
        if deputy {
            let mut from = KVec::new();
            let mut to = KVec::new();
            for f in list.iter() {
                from.push(f.home_fd, GFP_KERNEL)?;
                to.push((f.fd, f.cloexec), GFP_KERNEL)?;
            }
            return sm::reinstall_files(&from, &to);
        }
        // In ascending order (as captured): each lands at its number.
        if list.windows(2).any(|w| w[0].fd >= w[1].fd) {
            return Err(EPROTO);
        }
        sm::close_all();
        for f in list.iter() {
            sm::install_proxy(f.fd, f.f_flags, f.cloexec, home, pid, f.home_fd, dep)?;
        }
        Ok(())
    }

    /// An ioctl on a proxy (the body's side): terminal commands travel to
    /// the deputy with their argument bytes; others fail with ENOTTY.
    fn proxy_ioctl(&self, f: &sm::ProxyFile, cmd: u32, arg: i64) -> i64 {
        let (home, pid) = (f.home, f.pid);
        let Some(sh) = mig::ioctl_shape(cmd) else {
            return -25;
        };
        let mut input = [0u8; 64];
        let input = &mut input[..sh.input as usize];
        if !sh.by_value && sm::user_read(arg as u64, input).is_err() {
            return -14;
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
            Err(e) if e == EINTR => return -4,
            Err(_) => return -5,
        };
        if v >= 0 && sh.output > 0 {
            if d.len() != sh.output as usize {
                return -5;
            }
            if sm::user_write(arg as u64, &d).is_err() {
                return -14;
            }
        }
        v
    }

    // ---- messages from the network ----

    fn queue(&self, from: u8, h: &MigHeader, body: &[u8]) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(body);
        let mig_id = r.u64()?;
        let mut copy = KVec::new();
        if matches!(h.kind, Kind::Data | Kind::Layout | Kind::Commit)
            && copy.extend_from_slice(body, GFP_KERNEL).is_err()
        {
            self.respond(from, h.req, h.pid, -12, &[]);
            return Ok(());
        }
        let mut s = self.state.lock();
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
            Kind::Go => inc.go = true,
            Kind::Abort => inc.abort = true,
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
                };
                if inc.msgs.push(m, GFP_KERNEL).is_err() {
                    inc.abort = true;
                }
            }
        }
        drop(s);
        self.cv.notify_all();
        Ok(())
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

/// Brings the calling task's memory from layout `was` (mapped at Begin)
/// to `now` (when the process stopped): areas that are not the same are
/// mapped afresh, what is in no area any more is unmapped. Returns the
/// bitmap (over `now`) of the areas whose every page must be sent.
fn relayout(pid: u32, was: &[Vma<'_>], now: &[Vma<'_>], id: &mig::Ident) -> Result<KVec<u8>> {
    let mut need = KVec::new();
    need.resize(now.len().div_ceil(8), 0u8, GFP_KERNEL)?;
    if now.windows(2).any(|w| w[0].end > w[1].start) {
        return Err(EPROTO);
    }
    let skip = vma_flags::SPECIAL | vma_flags::UNSUPPORTED;
    for (j, v) in now.iter().enumerate() {
        if v.flags & skip != 0 || was.iter().any(|o| o.same_area(v)) {
            continue;
        }
        if map_area(pid, v, id)? || v.flags & vma_flags::ANON_PAGES != 0 {
            need[j / 8] |= 1 << (j % 8);
        }
    }
    for o in was.iter().filter(|o| o.flags & skip == 0) {
        let mut cur = o.start;
        for v in now.iter().filter(|v| v.end > o.start && v.start < o.end) {
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

/// `GotoReq` result plumbing for a `goto` write.
#[pin_data]
struct GotoReq {
    dest: u8,
    /// A node's request to answer with the outcome (a `Goto` from home).
    reply: Option<(u8, u64)>,
    m: Arc<Migrator>,
    /// Begun and pre-copied by the writer, if it did.
    #[pin]
    out: Mutex<Option<source::Outgoing>>,
    #[pin]
    result: Mutex<Option<Result>>,
    #[pin]
    cv: CondVar,
}

impl sm::TaskWork for GotoReq {
    fn run(self: Arc<Self>) -> Option<i32> {
        let pid = sm::current_tgid();
        let done = |r: Result| {
            if let Some((node, req)) = self.reply {
                let v = match r {
                    Ok(()) => 0,
                    Err(e) => i64::from(e.to_errno()),
                };
                self.m.respond(node, req, pid, v, &[]);
            }
            *self.result.lock() = Some(r);
            self.cv.notify_all();
        };
        let out = self.out.lock().take();
        self.m.emigrate(self.dest, out, &done)
    }
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

impl MigService for Migrator {
    fn mig(&self, from: u8, p: &[u8]) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(p);
        let h = mig::read_header(&mut r)?;
        let body = r.rest();
        match h.kind {
            Kind::Begin => self.on_begin(from, h.req, h.pid, body),
            Kind::Data | Kind::Layout | Kind::Commit | Kind::Go | Kind::Abort => {
                self.queue(from, &h, body)
            }
            Kind::Moved => {
                let mut r = Reader::new(body);
                let node = r.u32()?;
                let nmigs = r.u32()?;
                r.end()?;
                let node = u8::try_from(node).map_err(|_| WireError::BadField)?;
                if self.table.away(h.pid).is_some() {
                    let _ = self.table.set_away(h.pid, Some(node));
                    let _ = self.table.set_nmigs(h.pid, nmigs);
                    self.cv.notify_all();
                }
                Ok(())
            }
            Kind::Exit => {
                let mut r = Reader::new(body);
                let code = r.i32()?;
                r.end()?;
                let mut s = self.state.lock();
                if self.table.away(h.pid) == Some(from) {
                    if let Some(d) = s.deputies.iter_mut().find(|d| d.pid == h.pid) {
                        d.exit = Some(code);
                    }
                }
                drop(s);
                self.cv.notify_all();
                Ok(())
            }
            Kind::Signal => {
                let mut r = Reader::new(body);
                let sg = mig::read_signal(&mut r)?;
                if self.body(h.pid).is_some_and(|b| b.home == from) {
                    let _ = sm::signal(h.pid, sg.sig, sg.code, sg.from_pid, sg.from_uid);
                }
                Ok(())
            }
            Kind::Io => {
                let mut r = Reader::new(body);
                let io = mig::read_io(&mut r)?;
                let mut copy = KVec::new();
                let mut s = self.state.lock();
                let ok = self.table.away(h.pid) == Some(from)
                    && copy.extend_from_slice(body, GFP_KERNEL).is_ok();
                // Only the proxies of this deputy: never another process's
                // files after the PID was reused.
                let d = s
                    .deputies
                    .iter_mut()
                    .find(|d| d.pid == h.pid && d.id == io.deputy);
                match (ok, d) {
                    (true, Some(d)) => {
                        let m = Msg {
                            from,
                            req: h.req,
                            kind: Kind::Io,
                            body: copy,
                        };
                        if d.ios.push(m, GFP_KERNEL).is_err() {
                            drop(s);
                            self.respond(from, h.req, h.pid, -12, &[]);
                            return Ok(());
                        }
                    }
                    _ => {
                        drop(s);
                        self.respond(from, h.req, h.pid, -9, &[]);
                        return Ok(());
                    }
                }
                drop(s);
                self.cv.notify_all();
                Ok(())
            }
            Kind::Goto => {
                let g = mig::read_goto(&mut Reader::new(body))?;
                let node = g.node;
                let me = self.this.lock().clone();
                // Ok(true): moving, its task work answers; Ok(false): it
                // stays (best where it is).
                let res = match (self.body(h.pid), me) {
                    // Home checked its deputy; this is the process now.
                    (Some(b), Some(_))
                        if b.home == from
                            && !b.retiring
                            && !self.may_control(h.pid, "goto", &g.caller) =>
                    {
                        Err(EPERM)
                    }
                    (Some(b), Some(me)) if b.home == from && !b.retiring => {
                        // 0: this node's leveller chooses (`goto -1`).
                        let node = match node {
                            0 => self.best_node().ok().flatten().unwrap_or(self.me),
                            n => n,
                        };
                        if node == self.me {
                            Ok(false)
                        } else if !self.transport.is_up(node) {
                            Err(EHOSTUNREACH)
                        } else {
                            me.start_goto(h.pid, node, Some((from, h.req)), source::Asker::Goto)
                                .map(|()| true)
                        }
                    }
                    _ => Err(ESRCH),
                };
                match res {
                    Ok(true) => {}
                    Ok(false) => self.respond(from, h.req, h.pid, 0, &[]),
                    Err(e) => self.respond(from, h.req, h.pid, i64::from(e.to_errno()), &[]),
                }
                Ok(())
            }
            Kind::Control => {
                let c = mig::read_control(&mut Reader::new(body))?;
                // Done by the reporter thread: a move may take seconds,
                // and this connection's receiver must go on.
                let queued = self
                    .exits
                    .lock()
                    .controls
                    .push((from, h.req, h.pid, c), GFP_ATOMIC)
                    .is_ok();
                if queued {
                    self.exits_cv.notify_all();
                } else {
                    self.respond(from, h.req, h.pid, i64::from(ENOMEM.to_errno()), &[]);
                }
                Ok(())
            }
            Kind::Resp => Err(WireError::BadField),
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
            _ => return -22,
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
            Err(e) if e == EINTR => return -4,
            Err(_) => return -5,
        };
        if op == io_op::READ && v > 0 {
            if v as usize != d.len() || d.len() > buf.len() {
                return -5;
            }
            buf[..d.len()].copy_from_slice(&d);
        }
        if v == -ERESTARTSYS && !sm::signal_pending() {
            return -4;
        }
        v
    }
}

impl TaskEvents for Migrator {
    fn forked(&self, parent: u32, child: u32) {
        self.table.forked(parent, child);
    }

    fn exited(&self, tgid: u32, exit_code: i32) {
        self.table.exited(tgid, exit_code);
        let mut b = self.bodies.lock();
        let Some(i) = b.iter().position(|x| x.pid == tgid) else {
            return;
        };
        let rec = b[i];
        let _ = b.remove(i);
        drop(b);
        if rec.retiring {
            return;
        }
        // Atomic context: the worker sends it.
        let mut e = self.exits.lock();
        if e.list
            .push((tgid, rec.home, exit_code), GFP_ATOMIC)
            .is_err()
        {
            pr_warn!(
                "pid {}: out of memory, its exit is not reported home\n",
                tgid
            );
        }
        drop(e);
        self.exits_cv.notify_all();
    }

    fn exec(&self, tgid: u32, comm: &[u8]) {
        self.table.exec(tgid, comm);
    }
}

impl PidFiles for Migrator {
    fn show(&self, m: &mut Seq<'_>, t: &TaskFacts, name: &[u8]) -> Result {
        match name {
            b"where" | b"goto" => {
                let at = self.table.away(t.tgid).unwrap_or(self.me);
                let mut out = crate::logic::fmtbuf::FmtBuf::<8>::new();
                let _ = writeln!(out, "{}", at);
                m.write(out.as_bytes());
                Ok(())
            }
            _ => self.table.show(m, t, name),
        }
    }

    fn write(&self, _t: &TaskFacts, _name: &[u8], _buf: &[u8]) -> Result {
        Err(EINVAL)
    }
}

/// The `PidFiles` registered with the kernel: [`Migrator`] behind an `Arc`
/// (goto needs one to hand to the process).
pub(crate) struct PidFilesImpl(pub(crate) Arc<Migrator>);

impl PidFiles for PidFilesImpl {
    fn show(&self, m: &mut Seq<'_>, t: &TaskFacts, name: &[u8]) -> Result {
        self.0.show(m, t, name)
    }

    fn write(&self, t: &TaskFacts, name: &[u8], buf: &[u8]) -> Result {
        match name {
            b"goto" => self.0.goto(t, buf),
            b"loadlevel" => {
                self.0
                    .set_switch(t, false, VprocTable::parse_switch("loadlevel", buf)?)
            }
            b"lock" => self
                .0
                .set_switch(t, true, VprocTable::parse_switch("lock", buf)?),
            _ => Err(EINVAL),
        }
    }
}

/// The thread that reports the exits of migrated processes home.
pub(crate) struct Reporter(pub(crate) Arc<Migrator>);

impl ThreadFn for Reporter {
    fn run(&self) {
        let m = &self.0;
        while !thread::should_stop() {
            let (list, controls) = {
                let mut e = m.exits.lock();
                if e.list.is_empty() && e.controls.is_empty() {
                    let _ = m
                        .exits_cv
                        .wait_interruptible_timeout(&mut e, msecs_to_jiffies(1000));
                }
                (
                    core::mem::take(&mut e.list),
                    core::mem::take(&mut e.controls),
                )
            };
            for &(from, req, pid, c) in controls.iter() {
                let v = match m.control_here(pid, &c) {
                    Ok(()) => 0,
                    Err(e) => i64::from(e.to_errno()),
                };
                m.respond(from, req, pid, v, &[]);
            }
            for &(pid, home, code) in list.iter() {
                if m.send(home, Kind::Exit, pid, 4, |w| w.i32(code)).is_err() {
                    pr_warn!("pid {}: exit not reported to node {}\n", pid, home);
                }
            }
            // Restorers that never came: give their migrations up.
            let mut gone = KVec::new();
            {
                let mut s = m.state.lock();
                let now = now_ns();
                s.incoming.retain(|i| {
                    let stale = !i.attached && now.saturating_sub(i.last_ns) > IDLE_TIMEOUT_NS;
                    if stale {
                        let _ = gone.push((i.from, i.begin_req, i.pid), GFP_KERNEL);
                    }
                    !stale
                });
            }
            for &(from, req, pid) in gone.iter() {
                m.respond(from, req, pid, i64::from(ETIMEDOUT.to_errno()), &[]);
            }
        }
    }
}

impl Migrator {
    /// Moves process `pid` or sets one of its switches for a caller on
    /// another node (`Control`), checked against the caller's identity
    /// as a local caller would be.
    fn control_here(self: &Arc<Self>, pid: u32, c: &mig::Control) -> Result {
        // ptrace's rule for that caller, here: check_goto and set_switch
        // refuse (and log) if it says no.
        let t = crate::sys::process::task_of_pid_as(pid, &c.caller)?;
        let mut buf = crate::logic::fmtbuf::FmtBuf::<8>::new();
        match c.op {
            mig::ControlOp::Goto if c.value == 0 => {
                let _ = buf.write_str("-1");
                self.goto(&t, buf.as_bytes())
            }
            mig::ControlOp::Goto => {
                let _ = write!(buf, "{}", c.value);
                self.goto(&t, buf.as_bytes())
            }
            mig::ControlOp::Loadlevel | mig::ControlOp::Lock => {
                self.set_switch(&t, c.op == mig::ControlOp::Lock, c.value == 1)
            }
        }
    }

    /// Sets `loadlevel` (`lock` false) or `lock` of process `t` where it
    /// runs: there the leveller reads it, and it travels with the process.
    pub(crate) fn set_switch(&self, t: &TaskFacts, lock: bool, value: bool) -> Result {
        let Some(at) = self.table.away(t.tgid) else {
            return self.table.set_switch(t, lock, value);
        };
        if !t.may_control {
            crate::vproc::refused(if lock { "lock" } else { "loadlevel" }, t);
            return Err(EPERM);
        }
        // Checked here against the deputy, and again where it runs,
        // against the process as it is now, for the same caller.
        let c = mig::Control {
            op: if lock {
                mig::ControlOp::Lock
            } else {
                mig::ControlOp::Loadlevel
            },
            value: u32::from(value),
            caller: t.caller,
        };
        self.control(at, t.tgid, &c)
    }

    /// Whether `caller`, of another node, may do `what` to local process
    /// `pid` (ptrace's rule, evaluated here); logs a refusal.
    fn may_control(&self, pid: u32, what: &str, caller: &mig::Caller) -> bool {
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
}

/// Wakes the reporter so that it stops promptly.
impl Migrator {
    pub(crate) fn wake(&self) {
        // Breaks the reference cycle (module unload).
        let me = self.this.lock().take();
        drop(me);
        self.exits_cv.notify_all();
        self.cv.notify_all();
    }
}

/// `/proc/cluster/admin/restore`: the restorer stub's door.
pub(crate) struct RestoreFile(pub(crate) Arc<Migrator>);

impl ProcFileOps for RestoreFile {
    const READABLE: bool = false;
    const WRITABLE: bool = true;

    fn write(&self, buf: &[u8]) -> Result {
        if !crate::sys::crypto::capable_admin() {
            return Err(EPERM);
        }
        self.0.attach(buf)
    }
}
