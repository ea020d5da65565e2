// SPDX-License-Identifier: GPL-2.0

//! The transport's counters and `/proc/cluster/transport`: the limits in
//! force (handshake deadline, caps, queue bounds, all from `logic::peers`),
//! how many connections there are and how many are unauthenticated, what
//! each limit refused or dropped since the module was loaded, and each up
//! node's queues now.
//!
//! Must not touch: any decision. The counters are bumped where the
//! decision is applied (`conn`, `membership`, `router`); this file only
//! keeps and shows them.

use super::Transport;
use crate::logic::peers::{
    HANDSHAKE_DEADLINE_MS, MAX_PENDING, MAX_UNAUTH, MAX_UNAUTH_PER_SOURCE, TXQ_MAX_BYTES,
    TXQ_MAX_ITEMS,
};
use crate::sys::proc::{ProcFileOps, Seq};
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{prelude::*, sync::Arc};

/// Counters of what the transport's limits refused or dropped.
pub(crate) struct Stats {
    /// Accepted connections closed at once: [`MAX_UNAUTH`] reached.
    pub(super) accept_refused_cap: AtomicU64,
    /// Accepted connections closed at once: the per-source limit reached.
    pub(super) accept_refused_source: AtomicU64,
    /// Connections closed by the total handshake deadline.
    pub(super) handshake_deadline: AtomicU64,
    /// Authenticated claims of a node number that is up elsewhere (or ours).
    pub(super) duplicate: AtomicU64,
    /// Sends that do not wait refused because the send queue was full
    /// (heartbeats, echo replies: the peer is not reading).
    pub(super) txq_full: AtomicU64,
    /// Sends that had to wait for room in the send queue.
    pub(super) txq_waited: AtomicU64,
    /// Requests refused because [`MAX_PENDING`] were waiting already.
    pub(super) pending_refused: AtomicU64,
    /// Responses cut short (too many frames, or out of memory).
    pub(super) response_truncated: AtomicU64,
    /// Frames a caller's direct send left partly unsent (a signal came):
    /// their rest went to the sender thread.
    pub(super) direct_cut: AtomicU64,
}

impl Stats {
    pub(super) const fn new() -> Self {
        Self {
            accept_refused_cap: AtomicU64::new(0),
            accept_refused_source: AtomicU64::new(0),
            handshake_deadline: AtomicU64::new(0),
            duplicate: AtomicU64::new(0),
            txq_full: AtomicU64::new(0),
            txq_waited: AtomicU64::new(0),
            pending_refused: AtomicU64::new(0),
            response_truncated: AtomicU64::new(0),
            direct_cut: AtomicU64::new(0),
        }
    }
}

/// Adds one to a counter.
pub(super) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// `/proc/cluster/transport`: one `name value` per line, then one line per
/// up node (`node N txq_bytes B txq_items I pending P`).
pub(crate) struct TransportFile(pub(crate) Arc<Transport>);

impl ProcFileOps for TransportFile {
    fn show(&self, m: &mut Seq<'_>) -> Result {
        let t = &self.0;
        let s = &t.stats;
        let limits: [(&str, u64); 6] = [
            ("handshake_deadline_ms", HANDSHAKE_DEADLINE_MS),
            ("unauth_max", MAX_UNAUTH as u64),
            ("unauth_per_source_max", MAX_UNAUTH_PER_SOURCE as u64),
            ("txq_max_bytes", TXQ_MAX_BYTES as u64),
            ("txq_max_items", TXQ_MAX_ITEMS as u64),
            ("pending_max", MAX_PENDING as u64),
        ];
        for (name, v) in limits {
            let _ = writeln!(m, "{} {}", name, v);
        }
        let (conns, unauth, oldest) = t.conn_counts();
        let _ = writeln!(m, "conns {}", conns);
        let _ = writeln!(m, "unauth {}", unauth);
        let _ = writeln!(m, "unauth_oldest_ms {}", oldest);
        let counters: [(&str, &AtomicU64); 9] = [
            ("accept_refused_cap", &s.accept_refused_cap),
            ("accept_refused_source", &s.accept_refused_source),
            ("handshake_deadline_closed", &s.handshake_deadline),
            ("duplicate_refused", &s.duplicate),
            ("txq_full", &s.txq_full),
            ("txq_waited", &s.txq_waited),
            ("pending_refused", &s.pending_refused),
            ("response_truncated", &s.response_truncated),
            ("direct_cut", &s.direct_cut),
        ];
        for (name, c) in counters {
            let _ = writeln!(m, "{} {}", name, c.load(Ordering::Relaxed));
        }
        for node in t.up_nodes()?.iter() {
            if let Ok(c) = t.active_conn(*node) {
                let (bytes, items) = c.queued();
                let pending = c.reqs.lock().len();
                let _ = writeln!(
                    m,
                    "node {} txq_bytes {} txq_items {} pending {}",
                    node, bytes, items, pending
                );
            }
        }
        Ok(())
    }
}
