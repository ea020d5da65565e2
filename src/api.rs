// SPDX-License-Identifier: GPL-2.0

//! The generic netlink API (`vproc` family, netlink/vproc.yaml): what the
//! tools and the library in tools/ talk to.
//!
//! Owns no state: each command is answered from the layers that own it —
//! the vproc table (switches), the migrator (moves, through the same path
//! as a write to /proc/<pid>/goto), the remote view (processes of other
//! nodes), the transport (nodes) and the event log. Permissions are those
//! of the /proc files: anyone reads; who may move a process or change its
//! switches is ptrace's rule (`ptrace_may_access(task,
//! PTRACE_MODE_ATTACH_REALCREDS)`: the same real uid and gid as the
//! process's uids and gids and the process dumpable, or CAP_SYS_PTRACE);
//! CAP_SYS_ADMIN changes this node's loadlevel. Attributes were validated
//! by the policies (rust/genl.c); errors carry an extended-ack message.
//!
//! Moving a process or changing its switches is done where the process
//! has a task (its home, where its deputy is, or the node it runs on); on
//! any other node the request goes to its home node (`Control`), with the
//! caller's real uid, gid and CAP_SYS_PTRACE, and home checks the rule
//! there for that caller (and so does the node the process runs on, if
//! home passes it on).

use crate::events::Events;
use crate::logic::mig::{Control, ControlOp};
use crate::logic::pid::{self, Goto};
use crate::logic::procinfo::ProcInfo;
use crate::logic::wire::LOAD_FLAG_LOADLEVEL;
use crate::migrate::Migrator;
use crate::sys::crypto::capable_admin;
use crate::sys::genl::{
    fail, set_str, ApiResult, EventRecord, MigrateTo, NetlinkApi, NodeRecord, ProcRecord,
};
use crate::sys::process::{self, TaskFacts};
use crate::transport::Transport;
use crate::vproc::{RemoteView, Switch, VprocTable};
use core::sync::atomic::Ordering;
use kernel::{prelude::*, sync::Arc};

/// The API of this node.
pub(crate) struct Api {
    pub(crate) me: u8,
    pub(crate) transport: Arc<Transport>,
    pub(crate) table: Arc<VprocTable>,
    pub(crate) remote: Arc<RemoteView>,
    pub(crate) migrator: Arc<Migrator>,
    pub(crate) events: Arc<Events>,
}

/// Clock ticks (USER_HZ) to ms.
const MS_PER_TICK: u64 = 10;

fn record(p: &ProcInfo, home: u8) -> ProcRecord {
    let mut r = ProcRecord {
        pid: p.pid,
        ppid: p.ppid,
        node: u32::from(p.node),
        home: u32::from(home),
        uid: p.euid,
        nmigs: p.nmigs,
        cpu_ms: p.utime.saturating_add(p.stime).saturating_mul(MS_PER_TICK),
        rss_kib: p.rss.saturating_mul(4),
        loadlevel: u8::from(p.loadlevel),
        lock: u8::from(p.lock),
        state: p.state,
        ..Default::default()
    };
    set_str(&mut r.comm, p.comm());
    r
}

impl Api {
    /// Local process `pid` as `ps` here describes it (with its switches).
    fn local(&self, pid: u32) -> Option<ProcInfo> {
        let mut found = None;
        let _ = process::for_each_proc(pid, self.me, &mut |p: &ProcInfo| {
            if p.pid == pid {
                found = Some(*p);
            }
            // Stop after the first: it is `pid` or `pid` is gone.
            Err(EAGAIN)
        });
        found.map(|p| self.table.with_switches(&p))
    }

    /// The node `pid` was born on (`fallback` for a node-local PID).
    fn home_of(&self, pid: u32, fallback: u8) -> u8 {
        pid::origin(pid).unwrap_or(fallback)
    }

    /// Who acts on process `pid`: this node (its home or where it runs:
    /// the task, checked that the caller may control it) or its home
    /// node (`Err(home)`: neither here).
    fn control(&self, pid: u32) -> ApiResult<core::result::Result<TaskFacts, u8>> {
        let t = match process::task_of_pid(pid) {
            Ok(t) => t,
            Err(_) => {
                return match pid::origin(pid) {
                    Some(home) if home != self.me && self.transport.is_up(home) => Ok(Err(home)),
                    _ => Err(fail(
                        ESRCH,
                        c"no such process in the cluster (or its home node is not up)",
                    )),
                }
            }
        };
        // The old copy of a process that just moved on from here (still
        // exiting): the process itself is elsewhere.
        if let Some(home) = self.migrator.moved_on(pid) {
            if self.transport.is_up(home) {
                return Ok(Err(home));
            }
        }
        if !t.may_control {
            crate::vproc::refused("netlink", &t);
            return Err(fail(EPERM, NOT_YOURS));
        }
        Ok(Ok(t))
    }

    /// Has `home` do `op` with `value` on its process `pid`, for the
    /// caller (its identity goes along; home checks it).
    fn forward(&self, home: u8, pid: u32, op: ControlOp, value: u32) -> ApiResult {
        let c = Control {
            op,
            value,
            caller: process::current_caller(),
        };
        self.migrator.control(home, pid, &c).map_err(|e| {
            if e == EPERM {
                pr_info_ratelimited!(
                    "netlink: pid {}: node {} refused it: not your process\n",
                    pid,
                    home
                );
            }
            migrate_error(e)
        })
    }
}

/// The extended ack of a refusal by ptrace's rule.
const NOT_YOURS: &core::ffi::CStr =
    c"not your process (ptrace's rule: same uid and gid, dumpable, or CAP_SYS_PTRACE)";

fn migrate_error(e: Error) -> crate::sys::genl::ApiError {
    let msg = if e == EHOSTUNREACH {
        c"the target node is not up (or the connection broke): the process stays"
    } else if e == EBUSY {
        c"the process is locked to its node (lock), already moving, or its destination is busy with it: the kernel log says which"
    } else if e == EOPNOTSUPP {
        c"the process cannot move (what it holds cannot be carried: the kernel log says why)"
    } else if e == EINVAL {
        c"the process cannot move (kernel thread, init, or a PID from before the cluster)"
    } else if e == ESRCH {
        c"the process exited"
    } else if e == EPERM {
        NOT_YOURS
    } else {
        return e.into();
    };
    fail(e, msg)
}

impl NetlinkApi for Api {
    fn where_pid(&self, pid: u32) -> ApiResult<ProcRecord> {
        // A process that moved away: its node describes it best.
        if let Some(at) = self.table.away(pid) {
            let p = match self.remote.lookup(pid) {
                Some(p) => p,
                None => {
                    let mut p = self.local(pid).ok_or(ESRCH)?;
                    p.node = at;
                    p
                }
            };
            return Ok(record(&p, self.me));
        }
        // The old copy of a process that just moved on from here: where
        // it runs now describes it, if that node already lists it.
        if self.migrator.moved_on(pid).is_some() {
            if let Some(p) = self.remote.lookup(pid) {
                return Ok(record(&p, self.home_of(pid, p.node)));
            }
        }
        if let Some(p) = self.local(pid) {
            return Ok(record(&p, self.home_of(pid, self.me)));
        }
        match self.remote.lookup(pid) {
            Some(p) => Ok(record(&p, self.home_of(pid, p.node))),
            None => Err(fail(ESRCH, c"no such process in the cluster")),
        }
    }

    fn migrate(&self, pid: u32, to: MigrateTo) -> ApiResult {
        let home = self.home_of(pid, self.me);
        let t = match self.control(pid)? {
            Ok(t) => t,
            Err(home) => {
                let value = match to {
                    MigrateTo::Node(n) => u32::from(n),
                    MigrateTo::Home => u32::from(home),
                    MigrateTo::Balance => 0,
                };
                return self.forward(home, pid, ControlOp::Goto, value);
            }
        };
        let to = match to {
            MigrateTo::Node(n) => Goto::Node(n),
            MigrateTo::Home => Goto::Node(home),
            MigrateTo::Balance => Goto::Balance,
        };
        self.migrator.goto(&t, to).map_err(migrate_error)
    }

    fn set_switch(&self, pid: u32, lock: bool, value: bool) -> ApiResult {
        let t = match self.control(pid)? {
            Ok(t) => t,
            Err(home) => {
                let op = if lock {
                    ControlOp::Lock
                } else {
                    ControlOp::Loadlevel
                };
                return self.forward(home, pid, op, u32::from(value));
            }
        };
        let sw = if lock {
            Switch::Lock
        } else {
            Switch::Loadlevel
        };
        self.migrator.set_switch(&t, sw, value).map_err(|e| {
            if e == EINVAL {
                fail(e, c"a kernel thread has no such switch")
            } else {
                migrate_error(e)
            }
        })
    }

    fn set_node_loadlevel(&self, value: bool) -> ApiResult {
        if !capable_admin() {
            pr_info_ratelimited!("netlink: set-node-loadlevel: CAP_SYS_ADMIN needed, refused\n");
            return Err(fail(EPERM, c"CAP_SYS_ADMIN needed"));
        }
        self.transport.loadlevel.store(value, Ordering::Relaxed);
        Ok(())
    }

    fn procs(&self, from: u32, out: &mut [ProcRecord]) -> Result<usize> {
        // Local processes (not the deputies of those that moved: their
        // node lists them) merged with the other nodes', in PID order.
        let mut local = KVec::with_capacity(out.len(), GFP_KERNEL)?;
        let r = process::for_each_proc(from, self.me, &mut |p: &ProcInfo| {
            if local.len() >= out.len() {
                return Err(EAGAIN);
            }
            if self.table.away(p.pid).is_some() {
                return Ok(());
            }
            let p = self.table.with_switches(p);
            local
                .push(record(&p, self.home_of(p.pid, self.me)), GFP_KERNEL)
                .map_err(|_| ENOMEM)
        });
        if let Err(e) = r {
            if e != EAGAIN {
                return Err(e);
            }
        }
        let mut remote = KVec::with_capacity(out.len(), GFP_KERNEL)?;
        self.remote.each_from(from, &mut |p| {
            remote.len() < out.len()
                && remote
                    .push(record(p, self.home_of(p.pid, p.node)), GFP_KERNEL)
                    .is_ok()
        });
        let (mut i, mut j, mut n) = (0, 0, 0);
        while n < out.len() && (i < local.len() || j < remote.len()) {
            let take_local = match (local.get(i), remote.get(j)) {
                (Some(a), Some(b)) => a.pid <= b.pid,
                (Some(_), None) => true,
                _ => false,
            };
            if take_local {
                out[n] = local[i];
                i += 1;
            } else {
                out[n] = remote[j];
                j += 1;
            }
            // The same PID twice (a move in between): keep one.
            if n > 0 && out[n - 1].pid == out[n].pid {
                continue;
            }
            n += 1;
        }
        Ok(n)
    }

    fn nodes(&self, from: u32, out: &mut [NodeRecord]) -> Result<usize> {
        let mut n = 0;
        for v in self.transport.nodes()?.iter() {
            if u32::from(v.node) < from || n >= out.len() {
                continue;
            }
            let mut r = NodeRecord {
                id: u32::from(v.node),
                is_self: u8::from(v.is_self),
                ..Default::default()
            };
            set_str(&mut r.state, v.state.as_str().as_bytes());
            if let Some(ms) = v.silent_ms {
                r.heard = 1;
                r.heard_ms = u32::try_from(ms).unwrap_or(u32::MAX);
            }
            if let Some(l) = v.load {
                r.has_load = 1;
                r.loadavg = l.loadavg;
                r.runnable = l.runnable;
                r.busy = l.busy;
                r.cpus = u32::from(l.cpus);
                r.speed = l.speed;
                r.vprocs = l.vprocs;
                r.free_kib = l.free_kib;
                r.total_kib = l.total_kib;
                r.loadlevel = u8::from(l.flags & LOAD_FLAG_LOADLEVEL != 0);
            }
            if v.is_self {
                r.loadlevel = u8::from(self.transport.loadlevel.load(Ordering::Relaxed));
            }
            out[n] = r;
            n += 1;
        }
        Ok(n)
    }

    fn events(&self, from: u64, out: &mut [EventRecord]) -> Result<usize> {
        Ok(self.events.read_from(from, out))
    }
}
