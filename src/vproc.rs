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
//! Holds what /proc/<pid>/{where,goto,loadlevel,lock,nmigs} show and
//! checks a move or a switch against the process (see the README's table
//! for every errno); procfs parses the writes and checks the caller. Owns
//! this node's share of the PID space: PIDs `[node << 16, (node + 1) <<
//! 16)`, set on load and released on unload.
//!
//! [`RemoteView`] (`vproc/remote.rs`) is the other half of the single
//! system image: the other nodes' processes.
//!
//! Must not touch: sockets (it asks the transport), /proc (procfs asks it).

use crate::logic::fmtbuf::FmtBuf;
use crate::logic::peers::MAX_NODE;
use crate::logic::pid::{self, Goto};
use crate::logic::procinfo::ProcInfo;
use crate::sys::process::{self, TaskEvents, TaskFacts};
use crate::transport::Transport;
use core::fmt::Write;
use kernel::{
    new_spinlock,
    prelude::*,
    sync::{Arc, SpinLock},
    xarray::{AllocKind, XArray},
};

#[path = "vproc/remote.rs"]
mod remote;

pub(crate) use remote::RemoteView;

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

/// A per-process switch.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    /// The load leveller may move it.
    Loadlevel,
    /// It stays on its node.
    Lock,
}

impl Switch {
    /// Its /proc/<pid>/ file name, for the log.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Switch::Loadlevel => "loadlevel",
            Switch::Lock => "lock",
        }
    }
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

    /// Sets the switches of `tgid` as where it runs has them (home's
    /// entry of a process that moved: its files show them).
    pub(crate) fn mirror_switches(&self, tgid: u32, loadlevel: bool, lock: bool) -> Result {
        self.update(tgid, GFP_KERNEL, |e| {
            e.loadlevel = loadlevel;
            e.lock = lock;
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

    /// Calls `f` with each program name of `loadlevellist`, in order.
    pub(crate) fn each_loadlevel_program(&self, f: &mut dyn FnMut(&[u8])) {
        let list = self.loadlevellist.lock();
        for c in list.iter() {
            f(c.as_bytes());
        }
    }

    /// Adds program `name` (1..=15 bytes of UTF-8, as procfs checked) to
    /// `loadlevellist`, or removes it (`remove`).
    pub(crate) fn edit_loadlevellist(&self, name: &str, remove: bool) -> Result {
        if name.is_empty() || name.len() > 15 {
            return Err(EINVAL);
        }
        let mut c = Comm::new();
        // The name is at most 15 bytes: it fits.
        let _ = c.write_str(name);
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

    /// Checks a `goto` request against process `t` (the caller was
    /// checked by whoever asks: procfs, the netlink API, or the node that
    /// forwarded it); the move itself is the migration layer's. Returns
    /// the node to move to (0: the leveller's choice, `goto -1`), `None`
    /// when the process is there.
    pub(crate) fn check_goto(&self, t: &TaskFacts, target: Goto) -> Result<Option<u8>> {
        if let Goto::Node(n) = target {
            if n == 0 || n > MAX_NODE {
                pr_info_ratelimited!("goto: node {} is out of range\n", n);
                return Err(EINVAL);
            }
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
        // One that moved away is locked or not where it runs: that node
        // decides (this entry may be older than a switch set there).
        if self.get(t.tgid).lock && self.away(t.tgid).is_none() {
            pr_info_ratelimited!("goto: pid {} is locked to this node\n", t.tgid);
            return Err(EBUSY);
        }
        if node == self.me && self.away(t.tgid).is_none() {
            return Ok(None);
        }
        if t.threads > crate::logic::mig::MAX_THREADS {
            pr_info_ratelimited!("goto: pid {} has more than 256 threads\n", t.tgid);
            return Err(EOPNOTSUPP);
        }
        Ok(Some(node))
    }

    /// Sets switch `sw` of local process `t` to `v` (the caller was
    /// checked by whoever asks). Where a process that moved runs is the
    /// migration layer's business: it calls this only for processes that
    /// run here.
    pub(crate) fn set_switch(&self, t: &TaskFacts, sw: Switch, v: bool) -> Result {
        if t.kthread {
            pr_info_ratelimited!("{}: pid {} is a kernel thread\n", sw.name(), t.tgid);
            return Err(EINVAL);
        }
        self.update(t.tgid, GFP_KERNEL, |e| match sw {
            Switch::Lock => e.lock = v,
            Switch::Loadlevel => e.loadlevel = v,
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
