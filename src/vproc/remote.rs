// SPDX-License-Identifier: GPL-2.0

//! The other half of the single system image: the other nodes' processes,
//! fetched over the transport (once per `ps`), behind the remote
//! /proc/<pid> directories (rendered by `procfs::remote`) and kill(2) of
//! remote PIDs; and this node's answers to the same questions from the
//! others ([`Service`]).
//!
//! Must not touch: /proc (procfs asks it), sockets (it asks the transport).

use super::VprocTable;
use crate::logic::pid;
use crate::logic::procinfo::ProcInfo;
use crate::logic::wire::{self, KillReq, KillResp, Message, MsgType, Sender};
use crate::sys::process;
use crate::transport::{Service, Transport};
use kernel::{new_mutex, prelude::*, sync::Arc, sync::Mutex};

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
                // Only what that node may run: cluster PIDs of other
                // nodes, and of ours only those that moved there (this
                // node lists their deputies nowhere: without this, the
                // home node's `cluster ps` missed its moved processes).
                let ours_there = || self.table.away(p.pid) == Some(node);
                if pid::is_cluster_pid(p.pid)
                    && (pid::origin(p.pid) != Some(self.me) || ours_there())
                {
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

    /// Remote process `pid` as the current listing describes it (as old
    /// as one `ps` may see).
    pub(crate) fn listed(&self, pid: u32) -> Option<ProcInfo> {
        let c = self.fresh(REMOTE_MAX_AGE_NS);
        Self::find(&c, pid).copied()
    }

    /// Sends `sig` to remote process `pid` for the calling task, described
    /// by `from` (kill(2) of a remote PID): its node checks kill(2)'s rule.
    pub(crate) fn kill_remote(&self, pid: u32, sig: u32, from: &Sender) -> Result {
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

    fn find(c: &RemoteCache, pid: u32) -> Option<&ProcInfo> {
        c.procs
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &c.procs[i])
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
        // A sender that moved from here, running on the node the request
        // came from: its capabilities in its own user namespace count in
        // its deputy's, the namespace it left (the one it runs in there
        // was made like it).
        let ns_of = if req.from.cap_kill_ns && self.table.away(req.from.pid) == Some(from) {
            req.from.pid
        } else {
            0
        };
        let r = if pid::is_cluster_pid(req.pid) {
            process::kill_local(req.pid, req.sig, &req.from, ns_of)
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
