// SPDX-License-Identifier: GPL-2.0

//! The vproc table: what the cluster layer knows of each local process.
//!
//! Owns, per process (keyed by its PID): whether the load leveller may move
//! it (`loadlevel`), whether it is pinned (`lock`), how often it migrated
//! (`nmigs`). Only processes that differ from the defaults (0, 0, 0) have
//! an entry; children inherit `loadlevel` and `lock` at fork, a program
//! named in `loadlevellist` gets `loadlevel` 1 at exec, and the entry goes
//! with the process. The fork/exit/exec hooks run in atomic context: they
//! allocate with GFP_ATOMIC and only take spinlocks.
//!
//! Serves /proc/<pid>/{where,goto,loadlevel,lock,nmigs} (see the README's
//! table for every errno) and owns this node's share of the PID space:
//! PIDs `[node << 16, (node + 1) << 16)`, set on load and released on unload.
//!
//! [`RemoteView`] is the other half of the single system image: the other
//! nodes' processes, fetched over the transport (once per `ps`), behind
//! the remote /proc/<pid> directories and kill(2) of remote PIDs; and this
//! node's answers to the same questions from the others.
//!
//! Must not touch: sockets (it asks the transport), /proc/cluster (procfs
//! asks it).

use crate::logic::fmtbuf::FmtBuf;
use crate::logic::pid::{self, Goto, InputError};
use crate::logic::procinfo::{self, ProcInfo};
use crate::logic::wire::{self, KillReq, KillResp, Message, MsgType, Sender};
use crate::sys::proc::Seq;
use crate::sys::process::{self, PidFiles, TaskEvents, TaskFacts};
use crate::transport::{Service, Transport};
use core::fmt::Write;
use kernel::{
    new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, Mutex, SpinLock},
    xarray::{AllocKind, XArray},
};

/// Most program names in `loadlevellist`.
pub(crate) const LOADLEVELLIST_MAX: usize = 64;

/// Per-process settings that differ from the defaults.
#[derive(Clone, Copy, Default)]
pub(crate) struct Entry {
    pub(crate) loadlevel: bool,
    pub(crate) lock: bool,
    pub(crate) nmigs: u32,
    /// When it last arrived on this node (ms of the monotonic clock; 0:
    /// never moved).
    pub(crate) arrived_ms: u64,
}

/// A program name as the kernel keeps it (`comm`, at most 15 bytes).
type Comm = FmtBuf<16>;

/// The vproc table of this node.
#[pin_data]
pub(crate) struct VprocTable {
    me: u8,
    transport: Arc<Transport>,
    #[pin]
    entries: XArray<KBox<Entry>>,
    /// INVARIANT: capacity `LOADLEVELLIST_MAX` reserved at creation, so
    /// adding a name never allocates (it is read in atomic context).
    #[pin]
    loadlevellist: SpinLock<KVec<Comm>>,
    /// Processes of this node that run elsewhere now (their deputies are
    /// here), with the node they run on. Kept by the migration layer.
    #[pin]
    away: SpinLock<KVec<(u32, u8)>>,
}

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

impl VprocTable {
    /// The table of node `me`; takes this node's share of the PID space.
    pub(crate) fn new(me: u8, transport: Arc<Transport>) -> Result<Arc<Self>> {
        let mut list = KVec::new();
        list.reserve(LOADLEVELLIST_MAX, GFP_KERNEL)?;
        let t = Arc::pin_init(
            try_pin_init!(Self {
                me,
                transport,
                entries <- XArray::new(AllocKind::Alloc),
                loadlevellist <- new_spinlock!(list, "VprocTable::loadlevellist"),
                away <- new_spinlock!(KVec::new(), "VprocTable::away"),
            }),
            GFP_KERNEL,
        )?;
        let (lo, hi) = pid::range(me).ok_or(EINVAL)?;
        process::set_pid_range(lo, hi).inspect_err(|e| {
            pr_err!("cannot set the PID range (error {})\n", e.to_errno());
        })?;
        pr_info!("node {} allocates PIDs {}..{}\n", me, lo, hi - 1);
        Ok(t)
    }

    /// Gives the PID space back (module unload).
    pub(crate) fn release_pid_range(&self) {
        let _ = process::set_pid_range(0, 0);
    }

    /// The settings of `tgid`.
    pub(crate) fn entry(&self, tgid: u32) -> Entry {
        self.get(tgid)
    }

    /// `p` (a local process as the task list describes it) with its
    /// switches and move count from this table.
    pub(crate) fn with_switches(&self, p: &ProcInfo) -> ProcInfo {
        let e = self.get(p.pid);
        let mut p = *p;
        p.loadlevel = e.loadlevel;
        p.lock = e.lock;
        p.nmigs = e.nmigs;
        p
    }

    /// Where local process `tgid` runs, if not here.
    pub(crate) fn away(&self, tgid: u32) -> Option<u8> {
        self.away
            .lock()
            .iter()
            .find(|(p, _)| *p == tgid)
            .map(|&(_, n)| n)
    }

    /// Records that `tgid` runs on `node` (`None`: here again).
    pub(crate) fn set_away(&self, tgid: u32, node: Option<u8>) -> Result {
        let mut a = self.away.lock();
        a.retain(|(p, _)| *p != tgid);
        match node {
            Some(n) => a.push((tgid, n), GFP_ATOMIC).map_err(|_| ENOMEM),
            None => Ok(()),
        }
    }

    /// Sets how often `tgid` migrated.
    pub(crate) fn set_nmigs(&self, tgid: u32, nmigs: u32) -> Result {
        self.update(tgid, GFP_KERNEL, |e| e.nmigs = nmigs)
    }

    /// Sets the settings a process brought along.
    pub(crate) fn set_switches(
        &self,
        tgid: u32,
        loadlevel: bool,
        lock: bool,
        nmigs: u32,
    ) -> Result {
        self.update(tgid, GFP_KERNEL, |e| {
            e.loadlevel = loadlevel;
            e.lock = lock;
            e.nmigs = nmigs;
        })
    }

    fn get(&self, tgid: u32) -> Entry {
        let xa = self.entries.lock();
        xa.get(tgid as usize).copied().unwrap_or_default()
    }

    /// Applies `f` to the entry of `tgid`, creating it with `gfp` if needed;
    /// drops entries that are back to the defaults.
    fn update(&self, tgid: u32, gfp: kernel::alloc::Flags, f: impl FnOnce(&mut Entry)) -> Result {
        let mut e = self.get(tgid);
        f(&mut e);
        let is_default = !e.loadlevel && !e.lock && e.nmigs == 0;
        if is_default {
            let old = self.entries.lock().remove(tgid as usize);
            drop(old);
            return Ok(());
        }
        let b = KBox::new(e, gfp)?;
        let old = self
            .entries
            .lock()
            .store(tgid as usize, b, gfp)
            .map_err(|e| e.error)?;
        drop(old);
        Ok(())
    }

    /// Renders `loadlevellist`.
    pub(crate) fn show_loadlevellist(&self, m: &mut Seq<'_>) {
        let list = self.loadlevellist.lock();
        for c in list.iter() {
            m.write(c.as_bytes());
            m.write(b"\n");
        }
    }

    /// `NAME` adds a program to `loadlevellist`, `-NAME` removes it.
    pub(crate) fn edit_loadlevellist(&self, buf: &[u8]) -> Result {
        let s = buf.trim_ascii();
        let (remove, name) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            _ => (false, s),
        };
        if name.is_empty() || name.len() > 15 || name.iter().any(|c| c.is_ascii_whitespace()) {
            pr_info!("loadlevellist: a program name is 1..15 bytes, no spaces\n");
            return Err(EINVAL);
        }
        let mut c = Comm::new();
        // The name is at most 15 bytes: it fits.
        let _ = c.write_str(core::str::from_utf8(name).map_err(|_| EINVAL)?);
        let mut list = self.loadlevellist.lock();
        let at = list.iter().position(|x| x.as_bytes() == c.as_bytes());
        match (remove, at) {
            (true, Some(i)) => {
                let _ = list.remove(i);
                Ok(())
            }
            (true, None) => Err(ENOENT),
            (false, Some(_)) => Ok(()),
            (false, None) if list.len() >= LOADLEVELLIST_MAX => Err(ENOSPC),
            // Cannot allocate: the capacity was reserved (invariant).
            (false, None) => list.push(c, GFP_ATOMIC).map_err(|_| ENOSPC),
        }
    }

    /// Checks a `goto` request; the move itself is the migration layer's.
    /// Returns the node to move to (0: the leveller's choice, `goto -1`),
    /// `None` when the process is there.
    pub(crate) fn check_goto(&self, t: &TaskFacts, buf: &[u8]) -> Result<Option<u8>> {
        let target = pid::parse_goto(buf).map_err(|e| input_error("goto", e))?;
        if !t.may_control {
            refused("goto", t);
            return Err(EPERM);
        }
        if t.kthread || t.tgid == 1 {
            pr_info_ratelimited!(
                "goto: pid {} is a kernel thread or init: it cannot move\n",
                t.tgid
            );
            return Err(EINVAL);
        }
        if !pid::is_cluster_pid(t.tgid) {
            pr_info_ratelimited!(
                "goto: pid {} predates the cluster (node-local PID): it cannot move\n",
                t.tgid
            );
            return Err(EINVAL);
        }
        let node = match target {
            Goto::Node(n) => n,
            // Node 0: let the load leveller choose.
            Goto::Balance => 0,
        };
        if node != 0 && !self.transport.is_up(node) {
            pr_info_ratelimited!("goto: node {} is not up\n", node);
            return Err(EHOSTUNREACH);
        }
        if self.get(t.tgid).lock {
            pr_info_ratelimited!("goto: pid {} is locked to this node\n", t.tgid);
            return Err(EBUSY);
        }
        if node == self.me && self.away(t.tgid).is_none() {
            return Ok(None);
        }
        if t.threads > 1 {
            pr_info_ratelimited!("goto: pid {} is multi-threaded: not movable yet\n", t.tgid);
            return Err(EOPNOTSUPP);
        }
        Ok(Some(node))
    }

    /// Parses a write to /proc/<pid>/`file` (loadlevel or lock), logging
    /// what is wrong with it.
    pub(crate) fn parse_switch(file: &str, buf: &[u8]) -> Result<bool> {
        pid::parse_switch(buf).map_err(|e| input_error(file, e))
    }

    /// Sets `lock` (or `loadlevel`) of local process `t` to `v`. Where a
    /// process that moved runs is the migration layer's business: it
    /// calls this only for processes that run here.
    pub(crate) fn set_switch(&self, t: &TaskFacts, lock: bool, v: bool) -> Result {
        let name = if lock { "lock" } else { "loadlevel" };
        if !t.may_control {
            refused(name, t);
            return Err(EPERM);
        }
        if t.kthread {
            pr_info_ratelimited!("{}: pid {} is a kernel thread\n", name, t.tgid);
            return Err(EINVAL);
        }
        self.update(t.tgid, GFP_KERNEL, |e| {
            if lock {
                e.lock = v;
            } else {
                e.loadlevel = v;
            }
        })
    }
}

/// Logs that the caller may not change `what` of process `t` (ptrace's
/// rule: same real uid and gid as its uids and gids, and it dumpable; or
/// CAP_SYS_PTRACE).
pub(crate) fn refused(what: &str, t: &TaskFacts) {
    pr_info_ratelimited!(
        "{}: pid {}: not your process (uid {} may not ptrace it), refused\n",
        what,
        t.tgid,
        t.caller.uid
    );
}

impl PidFiles for VprocTable {
    fn show(&self, m: &mut Seq<'_>, t: &TaskFacts, name: &[u8]) -> Result {
        let e = self.get(t.tgid);
        match name {
            // Local processes run here (the migration layer will say more).
            b"where" | b"goto" => {
                let _ = writeln!(m, "{}", self.me);
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

    fn write(&self, _t: &TaskFacts, _name: &[u8], _buf: &[u8]) -> Result {
        // Every write goes through the migration layer (goto, and the
        // switches, which it sets where the process runs).
        Err(EINVAL)
    }
}

impl TaskEvents for VprocTable {
    fn forked(&self, parent: u32, child: u32) {
        let p = self.get(parent);
        if p.loadlevel || p.lock {
            let inherited = Entry {
                loadlevel: p.loadlevel,
                lock: p.lock,
                nmigs: 0,
                arrived_ms: 0,
            };
            // Atomic context. On failure the child starts with defaults.
            if self.update(child, GFP_ATOMIC, |e| *e = inherited).is_err() {
                pr_warn!(
                    "pid {}: out of memory, loadlevel/lock not inherited\n",
                    child
                );
            }
        }
    }

    fn exited(&self, tgid: u32, _exit_code: i32) {
        // Dropped after the XArray lock is released.
        let old = self.entries.lock().remove(tgid as usize);
        drop(old);
    }

    fn exec(&self, tgid: u32, comm: &[u8]) {
        let listed = self
            .loadlevellist
            .lock()
            .iter()
            .any(|c| c.as_bytes() == comm);
        if listed
            && self
                .update(tgid, GFP_ATOMIC, |e| e.loadlevel = true)
                .is_err()
        {
            pr_warn!("pid {}: out of memory, loadlevellist not applied\n", tgid);
        }
    }
}

/// A new listing of /proc (readdir from the start, as every `ps` does)
/// refetches the other nodes' processes when the view is older than this.
const REMOTE_SCAN_AGE_NS: u64 = 200_000_000;
/// Anything else (the rest of the listing, reading a remote process's
/// files) reuses the view unless it is older than this, so that one `ps`
/// costs one fetch however long it runs.
const REMOTE_MAX_AGE_NS: u64 = 5_000_000_000;
/// How long to wait for one node's process list or kill answer.
const REMOTE_TIMEOUT_MS: u32 = 3000;

struct RemoteCache {
    fetched_ns: u64,
    /// INVARIANT: sorted by PID, no duplicates.
    procs: KVVec<ProcInfo>,
}

/// The other nodes' processes as this node sees them: behind the remote
/// /proc/<pid> directories and kill(2) of remote PIDs. Also answers the
/// other nodes' requests for this node's processes ([`Service`]).
#[pin_data]
pub(crate) struct RemoteView {
    me: u8,
    transport: Arc<Transport>,
    table: Arc<VprocTable>,
    #[pin]
    cache: Mutex<RemoteCache>,
}

impl RemoteView {
    /// The view of node `me`, whose own processes are in `table`.
    pub(crate) fn new(
        me: u8,
        transport: Arc<Transport>,
        table: Arc<VprocTable>,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                me,
                transport,
                table,
                cache <- new_mutex!(RemoteCache { fetched_ns: 0, procs: KVVec::new() }, "RemoteView::cache"),
            }),
            GFP_KERNEL,
        )
    }

    /// Fetches node `node`'s process list.
    fn fetch(&self, node: u8, out: &mut KVVec<ProcInfo>) -> Result {
        let frames = self
            .transport
            .request(node, MsgType::ProcsReq, REMOTE_TIMEOUT_MS, |id| {
                let mut p = KVec::new();
                p.extend_from_slice(&id.to_le_bytes(), GFP_KERNEL)?;
                Ok(p)
            })?;
        for f in frames.iter() {
            let (count, mut recs) = wire::procs_chunk_records(f).map_err(|_| EPROTO)?;
            for _ in 0..count {
                let (p, n) = ProcInfo::decode(recs).map_err(|_| {
                    pr_warn!("node {}: malformed process record, list dropped\n", node);
                    EPROTO
                })?;
                recs = &recs[n..];
                // Only what that node may own: its cluster PIDs (or
                // processes that moved there, later).
                if pid::is_cluster_pid(p.pid) && pid::origin(p.pid) != Some(self.me) {
                    out.push(p, GFP_KERNEL)?;
                }
            }
        }
        Ok(())
    }

    /// The cache, refetched if older than `max_age_ns`.
    fn fresh(
        &self,
        max_age_ns: u64,
    ) -> kernel::sync::lock::Guard<'_, RemoteCache, kernel::sync::lock::mutex::MutexBackend> {
        let mut c = self.cache.lock();
        let now = crate::sys::time::now_ns();
        if c.fetched_ns == 0 || now.saturating_sub(c.fetched_ns) > max_age_ns {
            let mut procs = KVVec::new();
            if let Ok(nodes) = self.transport.up_nodes() {
                for &node in nodes.iter() {
                    let before = procs.len();
                    if self.fetch(node, &mut procs).is_err() {
                        // That node's processes are missing this time.
                        procs.truncate(before);
                    }
                }
            }
            procs.sort_unstable_by_key(|p| p.pid);
            // PIDs come from disjoint shares; a node that lists another's
            // process twice (or lies) must not make ps show it twice.
            let mut k = 1;
            while k < procs.len() {
                if procs[k].pid == procs[k - 1].pid {
                    let _ = procs.remove(k);
                } else {
                    k += 1;
                }
            }
            c.procs = procs;
            c.fetched_ns = now;
        }
        c
    }

    /// Remote process `pid` as its node last described it (fresh enough
    /// for a person asking about one process).
    pub(crate) fn lookup(&self, pid: u32) -> Option<ProcInfo> {
        let c = self.fresh(REMOTE_SCAN_AGE_NS);
        Self::find(&c, pid).copied()
    }

    /// Calls `f` for remote processes with PID >= `from`, in PID order,
    /// until it returns false. A listing that starts below the cluster
    /// PIDs is a new one: it gets a fresh list, as `ps` does.
    pub(crate) fn each_from(&self, from: u32, f: &mut dyn FnMut(&ProcInfo) -> bool) {
        let age = if pid::is_cluster_pid(from) {
            REMOTE_MAX_AGE_NS
        } else {
            REMOTE_SCAN_AGE_NS
        };
        let c = self.fresh(age);
        let i = c.procs.partition_point(|p| p.pid < from);
        for p in c.procs[i..].iter() {
            if !f(p) {
                break;
            }
        }
    }

    fn find(c: &RemoteCache, pid: u32) -> Option<&ProcInfo> {
        c.procs
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &c.procs[i])
    }
}

impl process::RemoteProcs for RemoteView {
    fn next(&self, from: u32) -> Option<u32> {
        let mut next = None;
        self.each_from(from, &mut |p| {
            next = Some(p.pid);
            false
        });
        next
    }

    fn owner_of(&self, tgid: u32) -> Option<(u32, u32)> {
        let c = self.fresh(REMOTE_MAX_AGE_NS);
        Self::find(&c, tgid).map(|p| (p.euid, p.egid))
    }

    fn show(&self, m: &mut Seq<'_>, tgid: u32, name: &[u8]) -> Result {
        // What ps reads for every process may be as old as the listing;
        // the vproc files are read one at a time, by people: fresher.
        let age = match name {
            b"where" | b"loadlevel" | b"lock" | b"nmigs" => REMOTE_SCAN_AGE_NS,
            _ => REMOTE_MAX_AGE_NS,
        };
        let c = self.fresh(age);
        let p = *Self::find(&c, tgid).ok_or(ESRCH)?;
        drop(c);
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
        // Until processes migrate, a process runs on the node it was born on.
        let node = match pid::origin(pid) {
            Some(n) if n != self.me => n,
            _ => return Err(ESRCH),
        };
        let frames = self
            .transport
            .request(node, MsgType::KillReq, REMOTE_TIMEOUT_MS, |id| {
                let mut p = KVec::new();
                p.resize(KillReq::LEN, 0, GFP_KERNEL)?;
                KillReq {
                    id,
                    pid,
                    sig,
                    from: *from,
                }
                .encode(&mut p);
                Ok(p)
            })
            .map_err(|_| ESRCH)?;
        let r = frames
            .first()
            .and_then(|f| KillResp::decode(f).ok())
            .ok_or(EPROTO)?;
        match r.errno {
            0 => Ok(()),
            e => Err(Error::from_errno(-(e as i32))),
        }
    }
}

impl Service for RemoteView {
    fn procs(&self, emit: &mut dyn FnMut(&ProcInfo) -> Result) -> Result {
        process::for_each_proc(1 << pid::NODE_SHIFT, self.me, &mut |p: &ProcInfo| {
            // A process that moved away is listed by the node it runs on.
            if self.table.away(p.pid).is_some() {
                return Ok(());
            }
            emit(&self.table.with_switches(p))
        })
    }

    fn kill(&self, from: u8, req: &KillReq) -> u32 {
        let r = if pid::is_cluster_pid(req.pid) {
            process::kill_local(req.pid, req.sig, &req.from)
        } else {
            Err(ESRCH)
        };
        match r {
            Ok(()) => {
                if req.sig != 0 {
                    pr_info_ratelimited!(
                        "signal {} to pid {} from node {} (pid {}, uid {})\n",
                        req.sig,
                        req.pid,
                        from,
                        req.from.pid,
                        req.from.uid
                    );
                }
                0
            }
            Err(e) => {
                if e == EPERM {
                    pr_info_ratelimited!(
                        "signal {} to pid {} from node {} (pid {}, uid {}, euid {}): not permitted\n",
                        req.sig,
                        req.pid,
                        from,
                        req.from.pid,
                        req.from.uid,
                        req.from.euid
                    );
                }
                e.to_errno().unsigned_abs()
            }
        }
    }
}
