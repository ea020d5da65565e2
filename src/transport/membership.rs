// SPDX-License-Identifier: GPL-2.0

//! Membership: the node table (who is known, up, down, left, removed, and
//! its last load vector), this node's own load vector, the rules that let a
//! connection become a node's one connection (precheck, register) or end it
//! (closed, left), the limits on unauthenticated connections (track, the
//! handshake deadline), duplicate node numbers, and the manager thread
//! (heartbeats, timeouts, handshake deadlines, dialling with backoff,
//! reaping dead connections). The decisions are `logic::peers`'.
//!
//! Must not touch: sockets and frames (a connection's business, `conn`),
//! the handshake, or what a message means to the layers above (`router`).

use super::conn::Conn;
use super::stats::bump;
use super::{Ip, Transport, NSEC_PER_MSEC};
use crate::events::EventKind;
use crate::logic::peers::{
    admit_conn, handshake_expired, judge_claim, AdmitError, Claim, ConnDir, Peer, MAX_NODE,
};
use crate::logic::ratelimit::RateLimit;
use crate::logic::wire::{self, Load, Message, MsgType, RefuseReason};
use crate::sys::crypto;
use crate::sys::thread::{self, ThreadFn};
use crate::sys::time::now_ns;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{prelude::*, sync::Arc};

/// Reconnect backoff bounds.
pub(super) const BACKOFF_MIN_MS: u32 = 250;
const BACKOFF_MAX_MS: u32 = 4000;
/// Manager period.
const TICK_MS: u32 = 100;

/// Every connection that became a node's connection, numbered (never
/// reused): what was in flight on a replaced connection is lost, so a
/// conversation that began on one (a migration) is over when it changes.
static LINKS: AtomicU64 = AtomicU64::new(1);

/// Log lines (and events) about duplicate node numbers and about
/// connections refused by the limits: a peer must not flood the log.
static DUP_LOG: RateLimit = RateLimit::new();
static ADMIT_LOG: RateLimit = RateLimit::new();

fn now_ms() -> u64 {
    now_ns() / NSEC_PER_MSEC
}

/// A node's state as this node sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NodeState {
    /// Known, never reached yet.
    Joining,
    /// Connected and heard from recently.
    Up,
    /// Was up, stopped answering (or its connection broke).
    Down,
    /// Left cleanly.
    Left,
}

impl NodeState {
    /// The word shown in /proc/cluster/nodes.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NodeState::Joining => "joining",
            NodeState::Up => "up",
            NodeState::Down => "down",
            NodeState::Left => "left",
        }
    }
}

/// What procfs shows of one node.
pub(crate) struct NodeInfo {
    /// Node number.
    pub(crate) node: u8,
    /// Address and port (host order).
    pub(crate) addr: u32,
    /// Port.
    pub(crate) port: u16,
    /// State.
    pub(crate) state: NodeState,
    /// Last load vector (this node's own: sampled now).
    pub(crate) load: Option<Load>,
    /// Milliseconds since last heard (`None`: never).
    pub(crate) silent_ms: Option<u64>,
    /// Whether this is the local node.
    pub(crate) is_self: bool,
}

/// Told when a node becomes known (procfs creates its `node<n>/`).
pub(crate) trait NodeObserver: Send + Sync {
    /// `node` is now in the node table. Process context, no lock held.
    fn node_known(&self, node: u8);
}

/// One slot of the node table.
pub(super) struct Slot {
    pub(super) known: bool,
    /// Root removed the node: its connections are refused until re-added.
    removed: bool,
    pub(super) addr: u32,
    pub(super) port: u16,
    pub(super) state: NodeState,
    ever_up: bool,
    pub(super) active: Option<Arc<Conn>>,
    /// An outgoing attempt is in flight.
    connecting: bool,
    pub(super) next_attempt_ns: u64,
    pub(super) backoff_ms: u32,
    pub(super) load: Option<Load>,
    /// Last time anything arrived from the node (kept after it went down).
    last_heard_ns: Option<u64>,
    /// The number of its connection (`LINKS`), while it is up.
    link: u64,
}

impl Slot {
    pub(super) const fn empty() -> Self {
        Self {
            known: false,
            removed: false,
            addr: 0,
            port: 0,
            state: NodeState::Joining,
            ever_up: false,
            active: None,
            connecting: false,
            next_attempt_ns: 0,
            backoff_ms: BACKOFF_MIN_MS,
            load: None,
            last_heard_ns: None,
            link: 0,
        }
    }
}

pub(super) struct Nodes {
    /// INVARIANT: `MAX_NODE + 1` entries, indexed by node number.
    pub(super) slots: KVec<Slot>,
    /// Every connection whose threads may still run (reaped by the manager
    /// once dead, or at shutdown).
    pub(super) conns: KVec<Arc<Conn>>,
    pub(super) next_heartbeat_ns: u64,
}

impl Transport {
    /// This node's load vector now.
    pub(crate) fn local_load(&self) -> Load {
        let s = crypto::sysload();
        Load {
            runnable: s.runnable,
            loadavg: s.loadavg,
            cpus: u16::try_from(s.cpus).unwrap_or(u16::MAX).max(1),
            speed: self.speed,
            free_kib: s.free_kib,
            total_kib: s.total_kib,
            vprocs: s.vprocs,
            flags: if self.loadlevel.load(Ordering::Relaxed) {
                wire::LOAD_FLAG_LOADLEVEL
            } else {
                0
            },
            busy: self.busy.load(Ordering::Relaxed),
        }
    }

    /// Adds a peer at run time (`/proc/cluster/admin/add`).
    pub(crate) fn add_peer(&self, p: &Peer) -> Result {
        if p.node == self.me {
            return Err(EINVAL);
        }
        {
            let mut n = self.nodes.lock();
            let s = &mut n.slots[usize::from(p.node)];
            if s.known {
                return Err(EEXIST);
            }
            s.known = true;
            s.removed = false;
            s.addr = u32::from_be_bytes(p.addr);
            s.port = p.port;
            s.state = NodeState::Joining;
            s.next_attempt_ns = 0;
            s.backoff_ms = BACKOFF_MIN_MS;
        }
        self.events
            .add(EventKind::Added, p.node, format_args!("{}", p));
        Ok(())
    }

    /// Forgets a peer at run time (`/proc/cluster/admin/remove`).
    pub(crate) fn remove_peer(&self, node: u8) -> Result {
        if node == 0 || node > MAX_NODE || node == self.me {
            return Err(EINVAL);
        }
        let conn = {
            let mut n = self.nodes.lock();
            let s = &mut n.slots[usize::from(node)];
            if !s.known && s.active.is_none() {
                return Err(ENOENT);
            }
            let conn = s.active.take();
            *s = Slot::empty();
            s.removed = true;
            conn
        };
        if let Some(c) = conn {
            c.kill();
        }
        self.events.add(EventKind::Removed, node, format_args!(""));
        Ok(())
    }

    /// The other nodes that are up now, in node order (no load sampling:
    /// cheap enough for every `ps`).
    pub(crate) fn up_nodes(&self) -> Result<KVec<u8>> {
        let mut out = KVec::with_capacity(usize::from(MAX_NODE), GFP_KERNEL)?;
        let n = self.nodes.lock();
        for (i, s) in n.slots.iter().enumerate() {
            if s.active.is_some() && s.state == NodeState::Up {
                // Cannot allocate: the capacity covers every node.
                out.push(i as u8, GFP_KERNEL)?;
            }
        }
        Ok(out)
    }

    /// A snapshot of every known node, this one included, in node order.
    /// Samples this node's load (a walk of the task list).
    pub(crate) fn nodes(&self) -> Result<KVec<NodeInfo>> {
        let mut out = KVec::with_capacity(usize::from(MAX_NODE), GFP_KERNEL)?;
        let me_load = self.local_load();
        let now = now_ns();
        let n = self.nodes.lock();
        for (i, s) in n.slots.iter().enumerate() {
            let node = i as u8;
            if node == self.me {
                out.push(
                    NodeInfo {
                        node,
                        addr: 0,
                        port: self.port,
                        state: NodeState::Up,
                        load: Some(me_load),
                        silent_ms: Some(0),
                        is_self: true,
                    },
                    GFP_KERNEL,
                )?;
                continue;
            }
            if !s.known {
                continue;
            }
            let heard = match &s.active {
                Some(c) => Some(c.last_heard_ns.load(Ordering::Relaxed)),
                None => s.last_heard_ns,
            };
            out.push(
                NodeInfo {
                    node,
                    addr: s.addr,
                    port: s.port,
                    state: s.state,
                    load: s.load,
                    silent_ms: heard.map(|h| now.saturating_sub(h) / NSEC_PER_MSEC),
                    is_self: false,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(out)
    }

    /// Whether `node` is this node or up.
    pub(crate) fn is_up(&self, node: u8) -> bool {
        self.link(node).is_some()
    }

    /// The number of `node`'s connection while it is up (0 for this node):
    /// a different number later means messages sent in between may be lost.
    pub(crate) fn link(&self, node: u8) -> Option<u64> {
        if node == self.me {
            return Some(0);
        }
        let n = self.nodes.lock();
        let s = n.slots.get(usize::from(node))?;
        match (&s.active, s.state) {
            (Some(_), NodeState::Up) => Some(s.link),
            _ => None,
        }
    }

    pub(super) fn active_conn(&self, node: u8) -> Result<Arc<Conn>> {
        if node == 0 || node > MAX_NODE {
            return Err(EINVAL);
        }
        let n = self.nodes.lock();
        let s = &n.slots[usize::from(node)];
        match (&s.active, s.state) {
            (Some(c), NodeState::Up) => Ok(c.clone()),
            _ => Err(EHOSTUNREACH),
        }
    }

    /// Whether `c` is an accepted connection still handshaking.
    fn unauth(c: &Conn) -> bool {
        c.outgoing_to == 0 && !c.up.load(Ordering::Acquire) && !c.dead.load(Ordering::Acquire)
    }

    /// Connections tracked now, how many of them are accepted ones not
    /// yet authenticated, and the age of the oldest of those (ms).
    pub(super) fn conn_counts(&self) -> (usize, usize, u64) {
        let now = now_ns();
        let n = self.nodes.lock();
        let (mut unauth, mut oldest) = (0, 0);
        for c in n.conns.iter().filter(|c| Self::unauth(c)) {
            unauth += 1;
            oldest = oldest.max(now.saturating_sub(c.started_ns) / NSEC_PER_MSEC);
        }
        (n.conns.len(), unauth, oldest)
    }

    /// Registers a new connection for reaping; fails once stopping, or for
    /// an accepted connection that the limits on unauthenticated ones
    /// refuse (EMFILE, counted and logged). Dials are bounded by one
    /// attempt per node and never wait behind accepted connections.
    pub(super) fn track(&self, c: &Arc<Conn>, dir: ConnDir) -> Result {
        if self.stopping.load(Ordering::Acquire) {
            return Err(ESHUTDOWN);
        }
        let mut n = self.nodes.lock();
        let (mut unauth, mut same) = (0, 0);
        for k in n.conns.iter().filter(|k| Self::unauth(k)) {
            unauth += 1;
            if k.from == c.from {
                same += 1;
            }
        }
        if let Err(e) = admit_conn(dir, unauth, same) {
            drop(n);
            bump(match e {
                AdmitError::TooManyUnauth => &self.stats.accept_refused_cap,
                AdmitError::TooManyFromSource => &self.stats.accept_refused_source,
            });
            if let Some(missed) = ADMIT_LOG.check(now_ms()) {
                pr_warn!(
                    "connection from {} closed: {} ({} such lines not shown)\n",
                    Ip(c.from),
                    e.as_str(),
                    missed
                );
            }
            return Err(EMFILE);
        }
        n.conns.push(c.clone(), GFP_KERNEL)?;
        Ok(())
    }

    /// The address of `node`'s live connection, if it has one.
    fn up_from(s: &Slot) -> Option<u32> {
        s.active
            .as_ref()
            .map(|a| a.peer_addr.load(Ordering::Acquire))
    }

    /// Both dialled at once: the lower node's own dial wins, so an accepted
    /// connection from a higher `node` loses while our dial to it is in
    /// flight (the flag stays set while our dial is the node's connection,
    /// so it only matters while the node is not up). Asked when the Hello
    /// arrives and again at registration: our dial may have begun after
    /// the Hello let theirs through, and keeping theirs then would leave
    /// each side using the connection the other refuses (a bad MAC, both
    /// down, both dial again).
    fn their_dial_loses(&self, s: &Slot, node: u8) -> bool {
        Self::up_from(s).is_none() && s.connecting && self.me < node
    }

    /// Hello from `node` arrived from `from` on an accepted connection: may
    /// it go on to the key proof?
    pub(super) fn precheck(&self, node: u8, from: u32) -> core::result::Result<(), RefuseReason> {
        if self.stopping.load(Ordering::Acquire) {
            return Err(RefuseReason::ShuttingDown);
        }
        let n = self.nodes.lock();
        let s = &n.slots[usize::from(node)];
        if s.removed {
            return Err(RefuseReason::NotMember);
        }
        // A claim that may be a duplicate goes on to the proof.
        let up_from = Self::up_from(s);
        if judge_claim(self.me, node, from, up_from, false) == Claim::AlreadyUp {
            return Err(RefuseReason::AlreadyUp);
        }
        if self.their_dial_loses(s, node) {
            return Err(RefuseReason::Duplicate);
        }
        Ok(())
    }

    /// The handshake on `conn` with `node` completed: make it the node's
    /// connection, or refuse it.
    pub(super) fn register(
        &self,
        conn: &Arc<Conn>,
        node: u8,
        addr: u32,
        port: u16,
    ) -> core::result::Result<(), RefuseReason> {
        if self.stopping.load(Ordering::Acquire) {
            return Err(RefuseReason::ShuttingDown);
        }
        let (first, learned) = {
            let mut n = self.nodes.lock();
            let s = &mut n.slots[usize::from(node)];
            let up_from = Self::up_from(s);
            match judge_claim(self.me, node, addr, up_from, true) {
                Claim::Accept => {}
                Claim::AlreadyUp => return Err(RefuseReason::AlreadyUp),
                Claim::Duplicate => {
                    drop(n);
                    return Err(self.duplicate(node, addr, up_from));
                }
            }
            if s.removed {
                return Err(RefuseReason::NotMember);
            }
            if conn.outgoing_to == 0 && self.their_dial_loses(s, node) {
                return Err(RefuseReason::Duplicate);
            }
            let learned = !s.known;
            if !s.known {
                // A node we were not configured with (hot add): reach it
                // back at the address it connected from and the port it
                // listens on.
                s.known = true;
                s.addr = addr;
                s.port = port;
            }
            conn.peer_addr.store(addr, Ordering::Release);
            s.active = Some(conn.clone());
            s.state = NodeState::Up;
            s.link = LINKS.fetch_add(1, Ordering::Relaxed);
            s.backoff_ms = BACKOFF_MIN_MS;
            s.last_heard_ns = Some(now_ns());
            let first = !s.ever_up;
            s.ever_up = true;
            (first, learned)
        };
        conn.up.store(true, Ordering::Release);
        if learned {
            let o = self.observer();
            if let Some(o) = o {
                o.node_known(node);
            }
        }
        let (kind, what) = if first {
            (EventKind::Join, "joined")
        } else {
            (EventKind::Up, "up again")
        };
        self.events.add(
            kind,
            node,
            format_args!("{} ({}:{}, {})", what, Ip(addr), port, conn.dir()),
        );
        Ok(())
    }

    /// `conn` has finished (its receiver is exiting) because of `why`.
    pub(super) fn closed(&self, conn: &Arc<Conn>, why: &str) {
        let node = conn.peer.load(Ordering::Acquire);
        let mut down = false;
        {
            let mut n = self.nodes.lock();
            let now = now_ns();
            if conn.outgoing_to != 0 {
                let s = &mut n.slots[usize::from(conn.outgoing_to)];
                s.connecting = false;
                if s.active.is_none() {
                    s.next_attempt_ns = now + u64::from(s.backoff_ms) * NSEC_PER_MSEC;
                    s.backoff_ms = (s.backoff_ms * 2).min(BACKOFF_MAX_MS);
                }
            }
            if node != 0 {
                let s = &mut n.slots[usize::from(node)];
                if s.active.as_ref().is_some_and(|a| Arc::ptr_eq(a, conn)) {
                    s.active = None;
                    s.last_heard_ns = Some(conn.last_heard_ns.load(Ordering::Relaxed));
                    if s.state == NodeState::Up {
                        s.state = NodeState::Down;
                        down = true;
                    }
                    // Retry soon: a peer that restarted comes back quickly.
                    s.next_attempt_ns = now + u64::from(BACKOFF_MIN_MS) * NSEC_PER_MSEC;
                }
            }
        }
        if down && !self.stopping.load(Ordering::Acquire) {
            self.events
                .add(EventKind::Down, node, format_args!("{}", why));
        }
    }

    /// A clean leave from `node` on `conn`.
    pub(super) fn left(&self, conn: &Arc<Conn>, node: u8) {
        let mut was_up = false;
        {
            let mut n = self.nodes.lock();
            let s = &mut n.slots[usize::from(node)];
            if s.active.as_ref().is_some_and(|a| Arc::ptr_eq(a, conn)) {
                s.active = None;
                was_up = s.state == NodeState::Up;
                s.state = NodeState::Left;
                s.last_heard_ns = Some(now_ns());
            }
        }
        if was_up {
            self.events
                .add(EventKind::Leave, node, format_args!("left the cluster"));
        }
    }

    /// A peer holding the key at `addr` claimed `node`, which is up from
    /// `up_from` (or is this node): count it, report it (event and log
    /// line, rate-limited), and say how to refuse it.
    fn duplicate(&self, node: u8, addr: u32, up_from: Option<u32>) -> RefuseReason {
        bump(&self.stats.duplicate);
        if DUP_LOG.check(now_ms()).is_some() {
            match up_from {
                Some(a) if node != self.me => {
                    pr_warn!(
                        "node {} claimed from {} while up from {}: refused (two nodes with one number?)\n",
                        node,
                        Ip(addr),
                        Ip(a)
                    );
                    self.events.add(
                        EventKind::Duplicate,
                        node,
                        format_args!("claimed from {} while up from {}", Ip(addr), Ip(a)),
                    );
                }
                _ => {
                    pr_warn!(
                        "a node at {} claims this node's number {}: refused\n",
                        Ip(addr),
                        node
                    );
                    self.events.add(
                        EventKind::Duplicate,
                        node,
                        format_args!("our own number claimed from {}", Ip(addr)),
                    );
                }
            }
        }
        if node == self.me {
            RefuseReason::SameNode
        } else {
            RefuseReason::AlreadyUp
        }
    }

    pub(super) fn refused(&self, node: u8, addr: u32, why: &str) {
        self.events.add(
            EventKind::Refused,
            node,
            format_args!("{} from {}", why, Ip(addr)),
        );
    }

    /// One manager tick.
    fn tick(self: &Arc<Self>) {
        let now = now_ns();
        let timeout_ns = u64::from(self.tun.timeout_ms.load(Ordering::Relaxed)) * NSEC_PER_MSEC;
        let hb_ns = u64::from(self.tun.heartbeat_ms.load(Ordering::Relaxed)) * NSEC_PER_MSEC;
        let have_key = self.key().is_some();
        let mut silent = KVec::new();
        let mut dial = KVec::new();
        let mut beat = KVec::new();
        let mut dead = KVec::new();
        let mut late = KVec::new();
        {
            let mut n = self.nodes.lock();
            let heartbeat = now >= n.next_heartbeat_ns;
            if heartbeat {
                n.next_heartbeat_ns = now + hb_ns;
            }
            for (i, s) in n.slots.iter_mut().enumerate() {
                if i == usize::from(self.me) || !s.known {
                    continue;
                }
                if let Some(c) = &s.active {
                    let heard = c.last_heard_ns.load(Ordering::Relaxed);
                    if now.saturating_sub(heard) > timeout_ns {
                        let _ = silent.push(c.clone(), GFP_KERNEL);
                    } else if heartbeat {
                        let _ = beat.push(c.clone(), GFP_KERNEL);
                    }
                } else if have_key && !s.connecting && now >= s.next_attempt_ns {
                    if dial.push(i as u8, GFP_KERNEL).is_ok() {
                        s.connecting = true;
                    }
                }
            }
            let now_ms = now / NSEC_PER_MSEC;
            for c in n.conns.iter() {
                let authenticated = c.up.load(Ordering::Acquire);
                if !authenticated
                    && !c.dead.load(Ordering::Acquire)
                    && handshake_expired(c.started_ns / NSEC_PER_MSEC, now_ms)
                {
                    let _ = late.push(c.clone(), GFP_KERNEL);
                }
            }
            let mut k = 0;
            while k < n.conns.len() {
                if n.conns[k].dead.load(Ordering::Acquire) {
                    // Into `dead` first, then out of `conns`: a Conn and
                    // its receiver hold each other until stop_threads(),
                    // so one dropped here (a failed push) would leak.
                    if dead.push(n.conns[k].clone(), GFP_KERNEL).is_err() {
                        break;
                    }
                    let _ = n.conns.remove(k);
                } else {
                    k += 1;
                }
            }
        }
        for c in silent.iter() {
            c.set_why(c"no heartbeat within the timeout");
            c.kill();
        }
        // However slowly it trickles in, a handshake ends at its deadline.
        for c in late.iter() {
            bump(&self.stats.handshake_deadline);
            c.set_why(c"handshake deadline");
            c.kill();
        }
        if !beat.is_empty() {
            let load = self.local_load();
            for c in beat.iter() {
                let mut p = KVec::new();
                if p.resize(Load::LEN, 0, GFP_KERNEL).is_ok() {
                    load.encode(&mut p);
                    // A full queue means the peer is not reading: the
                    // timeout will tell.
                    let _ = c.enqueue(MsgType::Load, p, false);
                }
            }
        }
        for node in dial {
            if Conn::dial(self, node).is_err() {
                let mut n = self.nodes.lock();
                let s = &mut n.slots[usize::from(node)];
                s.connecting = false;
                s.next_attempt_ns = now + u64::from(BACKOFF_MAX_MS) * NSEC_PER_MSEC;
            }
        }
        for c in dead.iter() {
            c.stop_threads();
        }
    }
}

/// The manager thread.
pub(super) struct Manager(pub(super) Arc<Transport>);

impl ThreadFn for Manager {
    fn run(&self) {
        while !thread::should_stop() {
            self.0.tick();
            thread::sleep_ms(TICK_MS);
        }
    }
}
