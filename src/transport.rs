// SPDX-License-Identifier: GPL-2.0

//! The in-kernel transport: authenticated TCP between the cluster's nodes,
//! and the membership it maintains.
//!
//! Owns the listening socket, every connection, the node table (who is
//! known, up, down, their load) and the threads that run them:
//!
//! - `vproc-listen`: accepts connections and hands each to its own thread;
//! - `vproc-mgr`: every 100 ms sends heartbeats (the load vector), marks
//!   silent nodes down, starts connection attempts with backoff, and reaps
//!   finished connections;
//! - per connection, a receiver (connect, handshake, then read frames) and a
//!   sender draining the connection's queue, so no caller ever blocks on a
//!   socket: [`Transport::send`] only queues.
//!
//! One connection per node pair: when both sides dial at once the one
//! dialled by the lower node number wins (the higher node refuses nothing,
//! the lower refuses the other's attempt while its own is in flight); a
//! connection from a node that is already up is refused. Peers prove they
//! hold the cluster key in the handshake and MAC every frame (see
//! `logic::wire`). Nothing here trusts a byte from the network: frames are
//! bounded before anything is allocated or read, and any violation closes
//! that connection with a rate-limited log line.
//!
//! Must not touch: processes, /proc (procfs only asks [`Transport::nodes`]).

use crate::events::{EventKind, Events};
use crate::logic::key::{parse_key, wipe, ClusterKey};
use crate::logic::peers::{Peer, PeerTable, MAX_NODE};
use crate::logic::procinfo::ProcInfo;
use crate::logic::wire::{
    self, Auth, Header, Hello, HelloAck, KillReq, KillResp, Leave, Load, Message, MsgType, Refuse,
    RefuseReason, Transcript, Welcome, WireError, HEADER_LEN, MAC_LEN, MAX_PAYLOAD, NONCE_LEN,
    PROCS_CHUNK_HEADER,
};
use crate::sys::crypto::{self, KernelHmac};
use crate::sys::net::Socket;
use crate::sys::thread::{self, KThread, ThreadFn};
use crate::sys::time::now_ns;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use kernel::{
    new_condvar, new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, CondVar, Mutex, SpinLock},
    time::msecs_to_jiffies,
};

/// The port a node listens on when `peers=` does not say.
pub(crate) const DEFAULT_PORT: u16 = 7300;
/// Connect timeout.
const CONNECT_MS: u32 = 1000;
/// Each handshake step must arrive within this.
const HANDSHAKE_MS: u32 = 2000;
/// A send that makes no progress this long kills the connection.
const SEND_TIMEOUT_MS: u32 = 5000;
/// Queued bytes per connection before senders must wait.
const TXQ_MAX_BYTES: usize = 4 << 20;
/// Reconnect backoff bounds.
const BACKOFF_MIN_MS: u32 = 250;
const BACKOFF_MAX_MS: u32 = 4000;
/// Manager period.
const TICK_MS: u32 = 100;
/// Most connections (established or handshaking) at once: each costs two
/// threads and a 64 KiB buffer, so a flood of connects must not add more.
const MAX_CONNS: usize = 2 * MAX_NODE as usize + 16;
const NSEC_PER_MSEC: u64 = 1_000_000;

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

/// What this node answers to requests from other nodes (the vproc layer).
/// Called from a connection's receiver thread: process context, may sleep.
pub(crate) trait Service: Send + Sync {
    /// Calls `emit` for every local process that other nodes should see.
    fn procs(&self, emit: &mut dyn FnMut(&ProcInfo) -> Result) -> Result;
    /// Delivers a signal on behalf of a sender on node `from`; returns 0 or
    /// the positive errno.
    fn kill(&self, from: u8, req: &KillReq) -> u32;
}

/// Handles the migration protocol's messages (`MsgType::Mig`, see
/// `logic::mig`). Called from a connection's receiver thread: it must
/// not block for long (hand work to the process concerned), and answers
/// requests later with [`Transport::send`] of a `MsgType::MigResp`.
pub(crate) trait MigService: Send + Sync {
    /// One message from node `from`; an error drops the connection.
    fn mig(&self, from: u8, p: &[u8]) -> core::result::Result<(), WireError>;
}

/// Most frames one response may have (a process list of 4 MiB).
const MAX_RESPONSE_FRAMES: usize = 64;

/// Tunables, in `/proc/cluster/admin/`.
pub(crate) struct Tunables {
    /// Load vector (heartbeat) period.
    pub(crate) heartbeat_ms: AtomicU32,
    /// Silence after which a node is marked down.
    pub(crate) timeout_ms: AtomicU32,
}

/// A simple rate limiter for log lines about peers: `burst` lines per
/// `period_ms`, then silence until the period is over.
struct RateLimit {
    start_ns: AtomicU64,
    count: AtomicU32,
}

impl RateLimit {
    const fn new() -> Self {
        Self {
            start_ns: AtomicU64::new(0),
            count: AtomicU32::new(0),
        }
    }

    fn allow(&self) -> bool {
        const PERIOD_NS: u64 = 5_000 * NSEC_PER_MSEC;
        const BURST: u32 = 10;
        let now = now_ns();
        let start = self.start_ns.load(Ordering::Relaxed);
        if now.wrapping_sub(start) > PERIOD_NS {
            self.start_ns.store(now, Ordering::Relaxed);
            self.count.store(0, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed) < BURST
    }
}

/// A peer's protocol violation: log (rate-limited) and give the reason.
static PEER_LOG: RateLimit = RateLimit::new();

fn log_peer_error(what: &str, node: u8, addr: u32, e: &WireError) {
    if PEER_LOG.allow() {
        pr_warn!(
            "dropping connection (node {}, {}): {}: {}\n",
            node,
            Ip(addr),
            what,
            e.as_str()
        );
    }
}

/// Dotted IPv4 for log lines.
pub(crate) struct Ip(pub(crate) u32);

impl core::fmt::Display for Ip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = self.0.to_be_bytes();
        write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3])
    }
}

impl kernel::fmt::Display for Ip {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        let b = self.0.to_be_bytes();
        write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3])
    }
}

/// One slot of the node table.
struct Slot {
    known: bool,
    /// Root removed the node: its connections are refused until re-added.
    removed: bool,
    addr: u32,
    port: u16,
    state: NodeState,
    ever_up: bool,
    active: Option<Arc<Conn>>,
    /// An outgoing attempt is in flight.
    connecting: bool,
    next_attempt_ns: u64,
    backoff_ms: u32,
    load: Option<Load>,
    /// Last time anything arrived from the node (kept after it went down).
    last_heard_ns: Option<u64>,
}

impl Slot {
    const fn empty() -> Self {
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
        }
    }
}

struct Nodes {
    /// INVARIANT: `MAX_NODE + 1` entries, indexed by node number.
    slots: KVec<Slot>,
    /// Every connection whose threads may still run (reaped by the manager
    /// once dead, or at shutdown).
    conns: KVec<Arc<Conn>>,
    next_heartbeat_ns: u64,
}

struct Threads {
    listener: Option<KThread>,
    manager: Option<KThread>,
}

/// The transport and membership of this node.
#[pin_data]
pub(crate) struct Transport {
    me: u8,
    port: u16,
    speed: u32,
    /// Cluster events (shared with procfs).
    pub(crate) events: Arc<Events>,
    /// Heartbeat and timeout periods.
    pub(crate) tun: Tunables,
    stopping: AtomicBool,
    /// This node takes part in load leveling (sent in the load vector).
    pub(crate) loadlevel: AtomicBool,
    /// CPU-bound processes here, as the load leveller last counted them.
    pub(crate) busy: AtomicU32,
    next_req_id: AtomicU64,
    listener: Socket,
    /// The cluster's name (`cluster=`), the salt of every key derived.
    cluster: &'static [u8],
    /// The cluster key (HKDF's PRK); `None` until one is set. A replaced
    /// key is wiped when dropped.
    #[pin]
    key: SpinLock<Option<ClusterKey>>,
    #[pin]
    observer: Mutex<Option<Arc<dyn NodeObserver>>>,
    #[pin]
    service: Mutex<Option<Arc<dyn Service>>>,
    #[pin]
    mig: Mutex<Option<Arc<dyn MigService>>>,
    #[pin]
    nodes: Mutex<Nodes>,
    #[pin]
    threads: Mutex<Threads>,
}

/// Measures a CPU speed figure: iterations of a fixed integer loop per ms.
fn measure_speed() -> u32 {
    let start = now_ns();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut iters: u64 = 0;
    while now_ns().wrapping_sub(start) < 10 * NSEC_PER_MSEC {
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        iters += 1000;
        core::hint::black_box(x);
    }
    let ms = (now_ns().wrapping_sub(start) / NSEC_PER_MSEC).max(1);
    u32::try_from(iters / ms).unwrap_or(u32::MAX)
}

impl Transport {
    /// Starts the transport of node `me` of cluster `cluster` with the
    /// configured `peers` and the key derived from `key=` (may be `None`:
    /// no peer is accepted until root writes `/proc/cluster/admin/key`).
    pub(crate) fn start(
        me: u8,
        peers: &PeerTable,
        cluster: &'static [u8],
        key: Option<ClusterKey>,
        events: Arc<Events>,
    ) -> Result<Arc<Self>> {
        let port = peers.get(me).map_or(DEFAULT_PORT, |p| p.port);
        let listener = Socket::listen(port).inspect_err(|e| {
            pr_err!("cannot listen on port {}: error {}\n", port, e.to_errno());
        })?;
        let mut slots = KVec::with_capacity(usize::from(MAX_NODE) + 1, GFP_KERNEL)?;
        for _ in 0..=MAX_NODE {
            slots.push(Slot::empty(), GFP_KERNEL)?;
        }
        for p in peers.iter() {
            if p.node != me {
                let s = &mut slots[usize::from(p.node)];
                s.known = true;
                s.addr = u32::from_be_bytes(p.addr);
                s.port = p.port;
            }
        }
        if key.is_none() {
            pr_warn!("no key= given: no peer is accepted until /proc/cluster/admin/key is set\n");
        }
        let t = Arc::pin_init(
            try_pin_init!(Self {
                me,
                port,
                speed: measure_speed(),
                events,
                tun: Tunables {
                    heartbeat_ms: AtomicU32::new(1000),
                    timeout_ms: AtomicU32::new(2500),
                },
                stopping: AtomicBool::new(false),
                loadlevel: AtomicBool::new(true),
                busy: AtomicU32::new(0),
                next_req_id: AtomicU64::new(1),
                listener,
                cluster,
                key <- new_spinlock!(key, "Transport::key"),
                observer <- new_mutex!(None, "Transport::observer"),
                service <- new_mutex!(None, "Transport::service"),
                mig <- new_mutex!(None, "Transport::mig"),
                nodes <- new_mutex!(Nodes { slots, conns: KVec::new(), next_heartbeat_ns: 0 }, "Transport::nodes"),
                threads <- new_mutex!(Threads { listener: None, manager: None }, "Transport::threads"),
            }),
            GFP_KERNEL,
        )?;
        let listener = KThread::spawn(c"vproc-listen", Arc::new(Listener(t.clone()), GFP_KERNEL)?)?;
        t.threads.lock().listener = Some(listener);
        let manager = KThread::spawn(c"vproc-mgr", Arc::new(Manager(t.clone()), GFP_KERNEL)?);
        match manager {
            Ok(m) => t.threads.lock().manager = Some(m),
            Err(e) => {
                t.shutdown();
                return Err(e);
            }
        }
        pr_info!("transport listening on port {} (speed {})\n", port, t.speed);
        Ok(t)
    }

    /// This node's number.
    pub(crate) fn me(&self) -> u8 {
        self.me
    }

    /// Sets (or clears) who answers requests from other nodes.
    pub(crate) fn set_service(&self, s: Option<Arc<dyn Service>>) {
        *self.service.lock() = s;
    }

    /// Sets (or clears) who handles the migration protocol.
    pub(crate) fn set_mig_service(&self, s: Option<Arc<dyn MigService>>) {
        *self.mig.lock() = s;
    }

    /// Sets (or clears) who hears of new nodes.
    pub(crate) fn set_observer(&self, o: Option<Arc<dyn NodeObserver>>) {
        *self.observer.lock() = o;
    }

    /// A copy of the cluster key for one handshake (wiped when dropped).
    fn key(&self) -> Option<ClusterKey> {
        self.key.lock().clone()
    }

    /// Replaces the cluster key with one derived from `text` (from
    /// `/proc/cluster/admin/key`; the format of `logic::key`, EINVAL and a
    /// log line that does not show it otherwise). Existing connections keep
    /// their session keys; new ones need the new key.
    pub(crate) fn set_key(&self, text: &[u8]) -> Result {
        let secret = parse_key(text).map_err(|e| {
            pr_warn!("admin/key: invalid key: {}\n", format_args!("{e}"));
            EINVAL
        })?;
        let k = ClusterKey::derive(&KernelHmac, self.cluster, &secret);
        drop(secret);
        // The old key is wiped when dropped, outside the lock.
        let old = self.key.lock().replace(k);
        drop(old);
        // Retry everything now rather than after the backoff.
        for s in self.nodes.lock().slots.iter_mut() {
            s.next_attempt_ns = 0;
            s.backoff_ms = BACKOFF_MIN_MS;
        }
        self.events
            .add(EventKind::Key, self.me, format_args!("cluster key changed"));
        Ok(())
    }

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
        if node == self.me {
            return true;
        }
        self.active_conn(node).is_ok()
    }

    fn active_conn(&self, node: u8) -> Result<Arc<Conn>> {
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

    /// Queues message `ty` with `payload` for `node`, waiting for queue
    /// space (bulk data is throttled to the network's pace). Fails with
    /// EHOSTUNREACH when the node is not up.
    pub(crate) fn send_wait(&self, node: u8, ty: MsgType, payload: KVec<u8>) -> Result {
        self.active_conn(node)?.enqueue(ty, payload, true)
    }

    /// Sends a request built by `build(id)` to `node` and waits up to
    /// `timeout_ms` for the whole response: its frames' payloads, in order.
    pub(crate) fn request(
        &self,
        node: u8,
        ty: MsgType,
        timeout_ms: u32,
        build: impl FnOnce(u64) -> Result<KVec<u8>>,
    ) -> Result<KVec<KVec<u8>>> {
        let conn = self.active_conn(node)?;
        let id = self.next_req_id.fetch_add(1, Ordering::Relaxed);
        let payload = build(id)?;
        conn.reqs.lock().push(
            Pending {
                id,
                frames: KVec::new(),
                done: false,
            },
            GFP_KERNEL,
        )?;
        let res = conn
            .enqueue(ty, payload, true)
            .and_then(|()| conn.wait_reply(id, timeout_ms));
        let mut r = conn.reqs.lock();
        let frames = r
            .iter()
            .position(|p| p.id == id)
            .and_then(|i| r.remove(i).ok())
            .map(|p| p.frames);
        drop(r);
        res?;
        frames.ok_or(EIO)
    }

    /// Round trip to `node` with `len` payload bytes: the RTT in ns and the
    /// number of `Data` bytes the node has received on this connection
    /// (the echo travels behind all data sent before it).
    pub(crate) fn ping(&self, node: u8, len: usize, timeout_ms: u32) -> Result<(u64, u64)> {
        let len = len.clamp(8, MAX_PAYLOAD);
        let start = now_ns();
        let frames = self.request(node, MsgType::Echo, timeout_ms, |id| {
            let mut p = KVec::with_capacity(len, GFP_KERNEL)?;
            p.extend_from_slice(&id.to_le_bytes(), GFP_KERNEL)?;
            p.resize(len, 0, GFP_KERNEL)?;
            Ok(p)
        })?;
        let rtt = now_ns().wrapping_sub(start);
        let r = frames.first().filter(|f| f.len() == 16).ok_or(EPROTO)?;
        let rx = u64::from_le_bytes(r[8..16].try_into().map_err(|_| EPROTO)?);
        Ok((rtt, rx))
    }

    /// Streams `bytes` of data to `node` in `MAX_PAYLOAD` frames (waiting
    /// for queue space, never copying more than one frame at a time), then
    /// pings behind it. Returns (ns until the node confirmed it all, bytes
    /// it confirmed on this connection).
    pub(crate) fn stream(&self, node: u8, bytes: u64) -> Result<(u64, u64)> {
        let conn = self.active_conn(node)?;
        let start = now_ns();
        let mut left = bytes;
        while left > 0 {
            let n = left.min(MAX_PAYLOAD as u64) as usize;
            let mut p = KVec::with_capacity(n, GFP_KERNEL)?;
            p.resize(n, 0x5a, GFP_KERNEL)?;
            conn.enqueue(MsgType::Data, p, true)?;
            left -= n as u64;
        }
        let (_, rx) = self.ping(node, 8, 30_000)?;
        Ok((now_ns().wrapping_sub(start), rx))
    }

    /// Stops everything: tells up peers we leave, stops the threads,
    /// closes every connection. Idempotent.
    pub(crate) fn shutdown(&self) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        // A clean leave to everyone up, with a moment to get it out.
        let mut ups = KVec::new();
        {
            let n = self.nodes.lock();
            for s in n.slots.iter() {
                if let (Some(c), NodeState::Up) = (&s.active, s.state) {
                    let _ = ups.push(c.clone(), GFP_KERNEL);
                }
            }
        }
        for c in ups.iter() {
            let mut p = KVec::new();
            if p.resize(Leave::LEN, 0, GFP_KERNEL).is_ok() {
                let _ = c.enqueue(MsgType::Leave, p, false);
            }
        }
        for c in ups.iter() {
            c.drain(200);
        }
        drop(ups);
        // Stop accepting and managing.
        self.listener.shutdown();
        let (l, m) = {
            let mut th = self.threads.lock();
            (th.listener.take(), th.manager.take())
        };
        drop(l);
        drop(m);
        // Close and reap every connection.
        let conns = {
            let mut n = self.nodes.lock();
            for s in n.slots.iter_mut() {
                s.active = None;
            }
            core::mem::take(&mut n.conns)
        };
        for c in conns.iter() {
            c.kill();
        }
        for c in conns.iter() {
            c.stop_threads();
        }
    }

    /// Registers a new connection for reaping; fails once stopping or at
    /// [`MAX_CONNS`].
    fn track(&self, c: &Arc<Conn>) -> Result {
        if self.stopping.load(Ordering::Acquire) {
            return Err(ESHUTDOWN);
        }
        let mut n = self.nodes.lock();
        if n.conns.len() >= MAX_CONNS {
            return Err(EMFILE);
        }
        n.conns.push(c.clone(), GFP_KERNEL)?;
        Ok(())
    }

    /// Hello from `node` arrived on an accepted connection: may it go on?
    fn precheck(&self, node: u8) -> core::result::Result<(), RefuseReason> {
        if self.stopping.load(Ordering::Acquire) {
            return Err(RefuseReason::ShuttingDown);
        }
        if node == self.me {
            return Err(RefuseReason::SameNode);
        }
        let n = self.nodes.lock();
        let s = &n.slots[usize::from(node)];
        if s.removed {
            return Err(RefuseReason::NotMember);
        }
        if s.state == NodeState::Up && s.active.is_some() {
            return Err(RefuseReason::AlreadyUp);
        }
        // Both dialled at once: the lower node's own attempt wins.
        if s.connecting && self.me < node {
            return Err(RefuseReason::Duplicate);
        }
        Ok(())
    }

    /// The handshake on `conn` with `node` completed: make it the node's
    /// connection, or refuse it.
    fn register(
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
            if s.removed {
                return Err(RefuseReason::NotMember);
            }
            if s.active.is_some() {
                return Err(RefuseReason::AlreadyUp);
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
            s.active = Some(conn.clone());
            s.state = NodeState::Up;
            s.backoff_ms = BACKOFF_MIN_MS;
            s.last_heard_ns = Some(now_ns());
            let first = !s.ever_up;
            s.ever_up = true;
            (first, learned)
        };
        conn.up.store(true, Ordering::Release);
        if learned {
            let o = self.observer.lock().clone();
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
    fn closed(&self, conn: &Arc<Conn>, why: &str) {
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
    fn left(&self, conn: &Arc<Conn>, node: u8) {
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

    fn refused(&self, node: u8, addr: u32, why: &str) {
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
            let mut k = 0;
            while k < n.conns.len() {
                if n.conns[k].dead.load(Ordering::Acquire) {
                    let Ok(c) = n.conns.remove(k) else { break };
                    if dead.push(c, GFP_KERNEL).is_err() {
                        break;
                    }
                } else {
                    k += 1;
                }
            }
        }
        for c in silent.iter() {
            c.set_why(c"no heartbeat within the timeout");
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

/// The listener thread.
struct Listener(Arc<Transport>);

impl ThreadFn for Listener {
    fn run(&self) {
        let t = &self.0;
        while !thread::should_stop() && !t.stopping.load(Ordering::Acquire) {
            match t.listener.accept() {
                Ok(sock) => {
                    // On failure the socket is closed at once.
                    if let Err(e) = Conn::accepted(t, sock) {
                        if PEER_LOG.allow() {
                            pr_warn!(
                                "incoming connection dropped (error {}: too many connections?)\n",
                                e.to_errno()
                            );
                        }
                    }
                }
                Err(_) => {
                    if t.stopping.load(Ordering::Acquire) {
                        break;
                    }
                    thread::sleep_ms(50);
                }
            }
        }
    }
}

/// The manager thread.
struct Manager(Arc<Transport>);

impl ThreadFn for Manager {
    fn run(&self) {
        while !thread::should_stop() {
            self.0.tick();
            thread::sleep_ms(TICK_MS);
        }
    }
}

enum TxItem {
    /// A message to frame (sequence number and MAC added when sent).
    Msg { ty: MsgType, payload: KVec<u8> },
    /// The unsent rest of a frame the fast path started: goes out first,
    /// as is.
    Rest(KVec<u8>),
}

impl TxItem {
    fn len(&self) -> usize {
        match self {
            TxItem::Msg { payload, .. } => payload.len(),
            TxItem::Rest(b) => b.len(),
        }
    }
}

struct TxQueue {
    items: KVec<TxItem>,
    bytes: usize,
    /// Session key and next sequence number of our direction.
    key: KeyBytes,
    seq: u64,
    /// The session is established (key and seq set).
    ready: bool,
    /// The sender thread is writing a frame outside the lock: nobody else
    /// may write to the socket until it clears this.
    busy: bool,
}

/// Messages up to this size are sent by the caller itself when the
/// connection is idle (no queue, sender not writing): one thread hop less
/// per message, which is most of a round trip's cost.
const FAST_PATH_MAX: usize = 4096;

struct Pending {
    id: u64,
    /// The response's frames so far.
    frames: KVec<KVec<u8>>,
    /// The last frame arrived.
    done: bool,
}

struct ConnThreads {
    recv: Option<KThread>,
    send: Option<KThread>,
}

/// One TCP connection to a peer (dialled or accepted).
#[pin_data]
pub(crate) struct Conn {
    t: Arc<Transport>,
    /// The node dialled (0: accepted connection).
    outgoing_to: u8,
    /// The peer's node number once its Hello/HelloAck verified (0 before).
    peer: AtomicU8,
    /// Registered as the node's active connection.
    up: AtomicBool,
    /// Finished: no more sends; the manager reaps it.
    dead: AtomicBool,
    last_heard_ns: AtomicU64,
    rx_data: AtomicU64,
    #[pin]
    why: SpinLock<&'static CStr>,
    #[pin]
    sock: SpinLock<Option<Arc<Socket>>>,
    #[pin]
    tx: Mutex<TxQueue>,
    #[pin]
    tx_cv: CondVar,
    #[pin]
    reqs: Mutex<KVec<Pending>>,
    #[pin]
    req_cv: CondVar,
    #[pin]
    threads: Mutex<ConnThreads>,
}

/// A connection's receiver thread.
struct Receiver(Arc<Conn>);
/// A connection's sender thread.
struct Sender(Arc<Conn>);

impl Conn {
    fn new(t: &Arc<Transport>, outgoing_to: u8, sock: Option<Socket>) -> Result<Arc<Self>> {
        let sock = match sock {
            Some(s) => Some(Arc::new(s, GFP_KERNEL)?),
            None => None,
        };
        Arc::pin_init(
            try_pin_init!(Self {
                t: t.clone(),
                outgoing_to,
                peer: AtomicU8::new(0),
                up: AtomicBool::new(false),
                dead: AtomicBool::new(false),
                last_heard_ns: AtomicU64::new(now_ns()),
                rx_data: AtomicU64::new(0),
                why <- new_spinlock!(c"connection closed", "Conn::why"),
                sock <- new_spinlock!(sock, "Conn::sock"),
                tx <- new_mutex!(TxQueue {
                    items: KVec::new(),
                    bytes: 0,
                    key: KeyBytes([0; 32]),
                    seq: 0,
                    ready: false,
                    busy: false,
                }, "Conn::tx"),
                tx_cv <- new_condvar!("Conn::tx_cv"),
                reqs <- new_mutex!(KVec::new(), "Conn::reqs"),
                req_cv <- new_condvar!("Conn::req_cv"),
                threads <- new_mutex!(ConnThreads { recv: None, send: None }, "Conn::threads"),
            }),
            GFP_KERNEL,
        )
    }

    /// Starts an outgoing connection attempt to `node` at `addr:port`.
    fn dial(t: &Arc<Transport>, node: u8) -> Result {
        let c = Self::new(t, node, None)?;
        t.track(&c)?;
        c.start_receiver()
    }

    /// Takes over an accepted socket.
    fn accepted(t: &Arc<Transport>, sock: Socket) -> Result {
        let c = Self::new(t, 0, Some(sock))?;
        t.track(&c)?;
        c.start_receiver()
    }

    fn start_receiver(self: &Arc<Self>) -> Result {
        let r = KThread::spawn(c"vproc-conn", Arc::new(Receiver(self.clone()), GFP_KERNEL)?);
        match r {
            Ok(th) => {
                self.threads.lock().recv = Some(th);
                Ok(())
            }
            Err(e) => {
                self.dead.store(true, Ordering::Release);
                Err(e)
            }
        }
    }

    fn dir(&self) -> &'static str {
        if self.outgoing_to != 0 {
            "dialled"
        } else {
            "accepted"
        }
    }

    fn socket(&self) -> Option<Arc<Socket>> {
        self.sock.lock().clone()
    }

    fn set_why(&self, why: &'static CStr) {
        *self.why.lock() = why;
    }

    /// Ends the connection: no more sends, and every thread blocked on its
    /// socket wakes up. The receiver then reports it closed.
    fn kill(&self) {
        self.dead.store(true, Ordering::Release);
        if let Some(s) = self.socket() {
            s.shutdown();
        }
        self.tx_cv.notify_all();
        self.req_cv.notify_all();
    }

    /// Stops and joins both threads (after `kill`). Never called by them.
    fn stop_threads(&self) {
        let (r, s) = {
            let mut th = self.threads.lock();
            (th.recv.take(), th.send.take())
        };
        drop(s);
        drop(r);
    }

    /// Queues a frame. With `wait`, waits for queue space (not for the
    /// network); without, fails with EAGAIN when the queue is full.
    fn enqueue(&self, ty: MsgType, payload: KVec<u8>, wait: bool) -> Result {
        if payload.len() > MAX_PAYLOAD {
            return Err(EMSGSIZE);
        }
        let mut q = self.tx.lock();
        loop {
            if self.dead.load(Ordering::Acquire) {
                return Err(EHOSTUNREACH);
            }
            if q.bytes + payload.len() <= TXQ_MAX_BYTES || q.items.is_empty() {
                break;
            }
            if !wait {
                return Err(EAGAIN);
            }
            let _ = self
                .tx_cv
                .wait_interruptible_timeout(&mut q, msecs_to_jiffies(100));
            if kernel::current!().signal_pending() {
                drop(q);
                crate::sys::time::killable_pause()?;
                q = self.tx.lock();
            }
        }
        if q.ready && !q.busy && q.items.is_empty() && payload.len() <= FAST_PATH_MAX {
            return self.send_now(&mut q, ty, &payload);
        }
        q.bytes += payload.len();
        q.items.push(TxItem::Msg { ty, payload }, GFP_KERNEL)?;
        drop(q);
        self.tx_cv.notify_all();
        Ok(())
    }

    /// The fast path: frames and writes a message from the caller, never
    /// waiting for socket space. Whatever does not fit goes to the front of
    /// the queue for the sender thread. Called with the queue locked, idle.
    fn send_now(&self, q: &mut TxQueue, ty: MsgType, payload: &[u8]) -> Result {
        let Some(sock) = self.socket() else {
            return Err(EHOSTUNREACH);
        };
        let hdr = Header::new(ty, payload.len(), q.seq)
            .map_err(|_| EMSGSIZE)?
            .encode();
        let mac = wire::frame_mac(&KernelHmac, &q.key.0, &hdr, payload);
        q.seq += 1;
        let sent = match sock.send_parts_nowait(&[&hdr, payload, &mac]) {
            Ok(n) => n,
            Err(e) => {
                self.set_why(c"send failed");
                self.kill();
                return Err(e);
            }
        };
        let total = HEADER_LEN + payload.len() + MAC_LEN;
        if sent == total {
            return Ok(());
        }
        // Keep the unsent tail, in order, ahead of everything else.
        let mut rest = KVec::with_capacity(total - sent, GFP_KERNEL)?;
        for part in [&hdr[..], payload, &mac[..]].iter().scan(0usize, |off, p| {
            let start = *off;
            *off += p.len();
            Some((start, *p))
        }) {
            let (start, p) = part;
            if start + p.len() > sent {
                let from = sent.saturating_sub(start);
                rest.extend_from_slice(&p[from..], GFP_KERNEL)?;
            }
        }
        q.bytes += rest.len();
        q.items.push(TxItem::Rest(rest), GFP_KERNEL)?;
        self.tx_cv.notify_all();
        Ok(())
    }

    /// Waits until queued frames are sent or `ms` passed.
    fn drain(&self, ms: u32) {
        let deadline = now_ns() + u64::from(ms) * NSEC_PER_MSEC;
        let mut q = self.tx.lock();
        while !q.items.is_empty() && !self.dead.load(Ordering::Acquire) && now_ns() < deadline {
            let _ = self
                .tx_cv
                .wait_interruptible_timeout(&mut q, msecs_to_jiffies(10));
        }
    }

    fn wait_reply(&self, id: u64, timeout_ms: u32) -> Result {
        let deadline = now_ns() + u64::from(timeout_ms) * NSEC_PER_MSEC;
        let mut r = self.reqs.lock();
        loop {
            match r.iter().find(|p| p.id == id) {
                Some(p) if p.done => return Ok(()),
                Some(_) => {}
                None => return Err(EIO),
            }
            if self.dead.load(Ordering::Acquire) {
                return Err(EHOSTUNREACH);
            }
            if now_ns() >= deadline {
                return Err(ETIMEDOUT);
            }
            let _ = self
                .req_cv
                .wait_interruptible_timeout(&mut r, msecs_to_jiffies(50));
            if kernel::current!().signal_pending() {
                drop(r);
                crate::sys::time::killable_pause()?;
                r = self.reqs.lock();
            }
        }
    }
}

/// A frame in flight on the receiving side.
struct RxFrame {
    hdr: [u8; HEADER_LEN],
    mac: [u8; MAC_LEN],
    /// INVARIANT: capacity `MAX_PAYLOAD + MAC_LEN`, allocated once per
    /// connection: a frame's payload and MAC are read into it with one
    /// receive call, then the MAC is moved out.
    payload: KVec<u8>,
}

impl RxFrame {
    fn new() -> Result<Self> {
        Ok(Self {
            hdr: [0; HEADER_LEN],
            mac: [0; MAC_LEN],
            payload: KVec::with_capacity(MAX_PAYLOAD + MAC_LEN, GFP_KERNEL)?,
        })
    }

    /// Reads one frame and verifies it with `key` at sequence `seq`.
    fn read(
        &mut self,
        sock: &Socket,
        key: &[u8; 32],
        seq: u64,
    ) -> core::result::Result<Header, RxError> {
        sock.recv_exact(&mut self.hdr).map_err(RxError::Io)?;
        let h = Header::decode(&self.hdr).map_err(RxError::Wire)?;
        // Bounded by the decode above: len + MAC_LEN <= capacity, so this
        // never allocates; only growth is zero-filled.
        let len = h.len as usize;
        let want = len + MAC_LEN;
        if self.payload.len() > want {
            self.payload.truncate(want);
        } else {
            self.payload
                .resize(want, 0, GFP_KERNEL)
                .map_err(|_| RxError::Io(ENOMEM))?;
        }
        sock.recv_exact(&mut self.payload).map_err(RxError::Io)?;
        // `payload` holds exactly `len + MAC_LEN` bytes here; written
        // without a panicking path (objtool must see every function end).
        self.mac = self
            .payload
            .get(len..)
            .and_then(|m| <[u8; MAC_LEN]>::try_from(m).ok())
            .ok_or(RxError::Wire(WireError::BadLength))?;
        self.payload.truncate(len);
        wire::verify_frame(&KernelHmac, key, &self.hdr, &self.payload, &self.mac, seq)
            .map_err(RxError::Wire)
    }

    /// Reads a handshake frame of type `M` (or a Refuse) at `seq`.
    fn read_msg<M: Message>(
        &mut self,
        sock: &Socket,
        key: &[u8; 32],
        seq: u64,
    ) -> core::result::Result<M, RxError> {
        let h = self.read(sock, key, seq)?;
        if h.ty == MsgType::Refuse {
            let r = Refuse::decode(&self.payload).map_err(RxError::Wire)?;
            return Err(RxError::Refused(r.reason));
        }
        if h.ty != M::TYPE {
            return Err(RxError::Wire(WireError::UnknownType(h.ty as u8)));
        }
        M::decode(&self.payload).map_err(RxError::Wire)
    }
}

enum RxError {
    Io(Error),
    Wire(WireError),
    Refused(RefuseReason),
}

/// Sends one handshake message MACed with `key` (before the sender runs).
fn send_msg<M: Message>(sock: &Socket, key: &[u8; 32], seq: u64, m: &M) -> Result {
    let mut buf = [0u8; HEADER_LEN + 64 + MAC_LEN];
    let n = wire::encode_frame(&KernelHmac, key, seq, m, &mut buf).map_err(|_| EINVAL)?;
    sock.send_parts(&[&buf[..n]])
}

fn refuse(sock: &Socket, key: &[u8; 32], seq: u64, reason: RefuseReason) {
    let _ = send_msg(sock, key, seq, &Refuse { reason });
}

/// 32 bytes of key material, wiped when dropped (a connection's session
/// key, a handshake's frame key).
struct KeyBytes([u8; 32]);

impl Drop for KeyBytes {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// The outcome of a handshake: peer, its address, session keys.
struct Session {
    peer: u8,
    addr: u32,
    port: u16,
    tx_key: KeyBytes,
    rx_key: KeyBytes,
}

impl Receiver {
    /// The dialling side's handshake: frames MACed with `key`, the frame
    /// key of `ck`; proofs and session keys derived from `ck`.
    fn initiator(
        &self,
        sock: &Socket,
        ck: &ClusterKey,
        key: &[u8; 32],
        rx: &mut RxFrame,
    ) -> Result<Session> {
        let c = &self.0;
        let t = &c.t;
        let to = c.outgoing_to;
        let mut nonce_i = [0u8; NONCE_LEN];
        crypto::random(&mut nonce_i);
        send_msg(
            sock,
            key,
            0,
            &Hello {
                node: t.me,
                to,
                listen_port: t.port,
                nonce: nonce_i,
            },
        )?;
        let (addr, _) = sock.peer().unwrap_or((0, 0));
        let ack: HelloAck = match rx.read_msg(sock, key, 0) {
            Ok(a) => a,
            Err(e) => return Err(self.hs_fail(to, addr, e)),
        };
        let tr = Transcript {
            initiator: t.me,
            acceptor: ack.node,
            nonce_i,
            nonce_a: ack.nonce,
        };
        if ack.node != to || !wire::mac_eq(&tr.acceptor_proof(&KernelHmac, ck), &ack.proof) {
            t.refused(to, addr, "bad key proof or wrong node in the answer");
            return Err(EACCES);
        }
        c.peer.store(to, Ordering::Release);
        send_msg(
            sock,
            key,
            1,
            &Auth {
                proof: tr.initiator_proof(&KernelHmac, ck),
            },
        )?;
        if let Err(e) = rx.read_msg::<Welcome>(sock, key, 1) {
            return Err(self.hs_fail(to, addr, e));
        }
        let (i2a, a2i) = tr.session_keys(&KernelHmac, ck);
        let port = t.nodes.lock().slots[usize::from(to)].port;
        Ok(Session {
            peer: to,
            addr,
            port,
            tx_key: KeyBytes(i2a),
            rx_key: KeyBytes(a2i),
        })
    }

    /// The accepting side's handshake (keys as for [`Self::initiator`]).
    fn acceptor(
        &self,
        sock: &Socket,
        ck: &ClusterKey,
        key: &[u8; 32],
        rx: &mut RxFrame,
    ) -> Result<Session> {
        let c = &self.0;
        let t = &c.t;
        let (addr, _) = sock.peer()?;
        let hello: Hello = match rx.read_msg(sock, key, 0) {
            Ok(h) => h,
            Err(e) => return Err(self.hs_fail(0, addr, e)),
        };
        if hello.to != t.me {
            refuse(sock, key, 0, RefuseReason::WrongNode);
            t.refused(hello.node, addr, "hello for another node");
            return Err(EINVAL);
        }
        if let Err(r) = t.precheck(hello.node) {
            refuse(sock, key, 0, r);
            if r != RefuseReason::Duplicate {
                t.refused(hello.node, addr, r.as_str());
            }
            return Err(EEXIST);
        }
        let mut nonce_a = [0u8; NONCE_LEN];
        crypto::random(&mut nonce_a);
        let tr = Transcript {
            initiator: hello.node,
            acceptor: t.me,
            nonce_i: hello.nonce,
            nonce_a,
        };
        send_msg(
            sock,
            key,
            0,
            &HelloAck {
                node: t.me,
                nonce: nonce_a,
                proof: tr.acceptor_proof(&KernelHmac, ck),
            },
        )?;
        let auth: Auth = match rx.read_msg(sock, key, 1) {
            Ok(a) => a,
            Err(e) => return Err(self.hs_fail(hello.node, addr, e)),
        };
        if !wire::mac_eq(&tr.initiator_proof(&KernelHmac, ck), &auth.proof) {
            refuse(sock, key, 1, RefuseReason::BadProof);
            t.refused(hello.node, addr, "bad key proof");
            return Err(EACCES);
        }
        c.peer.store(hello.node, Ordering::Release);
        let (i2a, a2i) = tr.session_keys(&KernelHmac, ck);
        Ok(Session {
            peer: hello.node,
            addr,
            port: hello.listen_port,
            tx_key: KeyBytes(a2i),
            rx_key: KeyBytes(i2a),
        })
    }

    /// Logs and records a failed handshake step; returns the error to end with.
    fn hs_fail(&self, node: u8, addr: u32, e: RxError) -> Error {
        let t = &self.0.t;
        match e {
            RxError::Io(e) => e,
            RxError::Refused(r) => {
                if r != RefuseReason::Duplicate && PEER_LOG.allow() {
                    pr_info!("node {} ({}) refused us: {}\n", node, Ip(addr), r.as_str());
                }
                ECONNREFUSED
            }
            RxError::Wire(WireError::BadMac) => {
                // The peer does not hold our key (or is not vproc).
                t.refused(node, addr, "bad MAC in handshake (wrong cluster key?)");
                log_peer_error("handshake", node, addr, &WireError::BadMac);
                EACCES
            }
            RxError::Wire(w) => {
                t.refused(node, addr, w.as_str());
                log_peer_error("handshake", node, addr, &w);
                EPROTO
            }
        }
    }

    fn session(&self) -> core::result::Result<(), &'static CStr> {
        let c = &self.0;
        let t = &c.t;
        let sock = match c.socket() {
            Some(s) => s,
            None => {
                let to = usize::from(c.outgoing_to);
                let (addr, port) = {
                    let n = t.nodes.lock();
                    (n.slots[to].addr, n.slots[to].port)
                };
                let s = Socket::connect(addr, port, CONNECT_MS)
                    .and_then(|s| Ok(Arc::new(s, GFP_KERNEL)?))
                    .map_err(|_| c"connect failed")?;
                *c.sock.lock() = Some(s.clone());
                if c.dead.load(Ordering::Acquire) {
                    s.shutdown();
                }
                s
            }
        };
        let ck = t.key().ok_or(c"no cluster key")?;
        let frame_key = KeyBytes(ck.frame_key(&KernelHmac));
        let key = &frame_key.0;
        let mut rx = RxFrame::new().map_err(|_| c"out of memory")?;
        sock.set_timeouts(HANDSHAKE_MS, SEND_TIMEOUT_MS);
        let s = if c.outgoing_to != 0 {
            self.initiator(&sock, &ck, key, &mut rx)
        } else {
            self.acceptor(&sock, &ck, key, &mut rx)
        }
        .map_err(|_| c"handshake failed")?;
        drop(ck);
        if let Err(r) = t.register(c, s.peer, s.addr, s.port) {
            refuse(&sock, key, 1, r);
            t.refused(s.peer, s.addr, r.as_str());
            return Err(c"refused");
        }
        if c.outgoing_to == 0 {
            // The acceptor confirms last, once registered.
            if send_msg(&sock, key, 1, &Welcome).is_err() {
                return Err(c"send failed");
            }
        }
        drop(frame_key);
        {
            let mut q = c.tx.lock();
            q.key = KeyBytes(s.tx_key.0);
            q.seq = 2;
            q.ready = true;
        }
        let sender = Arc::new(Sender(c.clone()), GFP_KERNEL)
            .map_err(Error::from)
            .and_then(|sd| KThread::spawn(c"vproc-send", sd))
            .map_err(|_| c"cannot start the sender")?;
        c.threads.lock().send = Some(sender);
        sock.set_timeouts(0, SEND_TIMEOUT_MS);
        c.last_heard_ns.store(now_ns(), Ordering::Relaxed);
        self.receive(&sock, &s, &mut rx)
    }

    /// The receive loop of an established connection.
    fn receive(
        &self,
        sock: &Socket,
        s: &Session,
        rx: &mut RxFrame,
    ) -> core::result::Result<(), &'static CStr> {
        let c = &self.0;
        let mut seq = 2u64;
        while !thread::should_stop() && !c.dead.load(Ordering::Acquire) {
            let h = match rx.read(sock, &s.rx_key.0, seq) {
                Ok(h) => h,
                Err(RxError::Io(_)) => return Err(c"connection closed"),
                Err(RxError::Wire(w)) => {
                    log_peer_error("frame", s.peer, s.addr, &w);
                    return Err(c"protocol violation");
                }
                Err(RxError::Refused(_)) => return Err(c"protocol violation"),
            };
            seq += 1;
            c.last_heard_ns.store(now_ns(), Ordering::Relaxed);
            if let Err(w) = self.dispatch(s, h.ty, &rx.payload) {
                log_peer_error("message", s.peer, s.addr, &w);
                return Err(c"protocol violation");
            }
        }
        Err(c"connection closed")
    }

    fn dispatch(&self, s: &Session, ty: MsgType, p: &[u8]) -> core::result::Result<(), WireError> {
        let c = &self.0;
        let t = &c.t;
        match ty {
            MsgType::Load => {
                let l = Load::decode(p)?;
                t.nodes.lock().slots[usize::from(s.peer)].load = Some(l);
            }
            MsgType::Leave => {
                Leave::decode(p)?;
                t.left(c, s.peer);
                c.set_why(c"left");
                c.kill();
            }
            MsgType::Echo => {
                if p.len() < 8 {
                    return Err(WireError::BadLength);
                }
                let mut r = KVec::new();
                let rx = c.rx_data.load(Ordering::Relaxed);
                let ok = r.extend_from_slice(&p[..8], GFP_KERNEL).is_ok()
                    && r.extend_from_slice(&rx.to_le_bytes(), GFP_KERNEL).is_ok();
                if ok {
                    // Dropped when the queue is full: the asker times out.
                    let _ = c.enqueue(MsgType::EchoReply, r, false);
                }
            }
            MsgType::Mig => {
                let h = t.mig.lock().clone();
                match h {
                    Some(h) => h.mig(s.peer, p)?,
                    None => return Err(WireError::UnknownType(ty as u8)),
                }
            }
            MsgType::EchoReply | MsgType::KillResp | MsgType::ProcsChunk | MsgType::MigResp => {
                if let Some((id, last)) = wire::response_id(ty, p)? {
                    self.response(id, last, p);
                }
            }
            MsgType::ProcsReq => {
                if p.len() != 8 {
                    return Err(WireError::BadLength);
                }
                let id = u64::from_le_bytes(p.try_into().map_err(|_| WireError::BadLength)?);
                self.serve_procs(id);
            }
            MsgType::KillReq => {
                let k = KillReq::decode(p)?;
                let service = t.service.lock().clone();
                let errno = match service {
                    Some(sv) => sv.kill(s.peer, &k),
                    None => ESRCH.to_errno().unsigned_abs(),
                };
                let mut r = KVec::new();
                if r.resize(KillResp::LEN, 0, GFP_KERNEL).is_ok() {
                    KillResp { id: k.id, errno }.encode(&mut r);
                    let _ = c.enqueue(MsgType::KillResp, r, true);
                }
            }
            MsgType::Data => {
                c.rx_data.fetch_add(p.len() as u64, Ordering::Relaxed);
            }
            // Handshake messages after the handshake are a violation.
            MsgType::Hello
            | MsgType::HelloAck
            | MsgType::Auth
            | MsgType::Welcome
            | MsgType::Refuse => return Err(WireError::UnknownType(ty as u8)),
        }
        Ok(())
    }

    /// Files a response frame with its request (unknown ids: the asker
    /// gave up; the frame is dropped).
    fn response(&self, id: u64, last: bool, p: &[u8]) {
        let c = &self.0;
        let mut copy = KVec::new();
        if copy.extend_from_slice(p, GFP_KERNEL).is_err() {
            return;
        }
        let mut r = c.reqs.lock();
        if let Some(pnd) = r.iter_mut().find(|q| q.id == id && !q.done) {
            if pnd.frames.len() >= MAX_RESPONSE_FRAMES || pnd.frames.push(copy, GFP_KERNEL).is_err()
            {
                // Too big or out of memory: end it; the asker sees less.
                pnd.done = true;
            } else if last {
                pnd.done = true;
            }
        }
        drop(r);
        c.req_cv.notify_all();
    }

    /// Answers a `ProcsReq`: this node's processes in `ProcsChunk`s.
    fn serve_procs(&self, id: u64) {
        let c = &self.0;
        let service = c.t.service.lock().clone();
        let mut chunk = KVec::new();
        let mut count: u16 = 0;
        let start = |chunk: &mut KVec<u8>| -> Result {
            chunk.clear();
            chunk.resize(PROCS_CHUNK_HEADER, 0, GFP_KERNEL)?;
            Ok(())
        };
        if start(&mut chunk).is_err() {
            return;
        }
        let flush = |chunk: &mut KVec<u8>, count: u16, last: bool| -> Result {
            wire::procs_chunk_header(id, last, count, &mut chunk[..PROCS_CHUNK_HEADER]);
            let full = core::mem::take(chunk);
            c.enqueue(MsgType::ProcsChunk, full, true)
        };
        if let Some(sv) = service {
            let _ = sv.procs(&mut |p: &ProcInfo| {
                let n = p.encoded_len();
                if chunk.len() + n > MAX_PAYLOAD || count == u16::MAX {
                    flush(&mut chunk, count, false)?;
                    start(&mut chunk)?;
                    count = 0;
                }
                let at = chunk.len();
                chunk.resize(at + n, 0, GFP_KERNEL)?;
                p.encode(&mut chunk[at..]);
                count += 1;
                Ok(())
            });
        }
        // The last chunk (possibly empty) ends the response.
        let _ = flush(&mut chunk, count, true);
    }
}

impl ThreadFn for Receiver {
    fn run(&self) {
        let c = &self.0;
        let why = match self.session() {
            Ok(()) => c"connection closed",
            Err(w) => w,
        };
        {
            let mut cur = c.why.lock();
            if *cur == c"connection closed" {
                *cur = why;
            }
        }
        let why = *c.why.lock();
        c.kill();
        c.t.closed(c, why.to_str().unwrap_or("closed"));
    }
}

impl ThreadFn for Sender {
    fn run(&self) {
        let c = &self.0;
        let Some(sock) = c.socket() else { return };
        loop {
            let (item, key, seq) = {
                let mut q = c.tx.lock();
                q.busy = false;
                while q.items.is_empty()
                    && !c.dead.load(Ordering::Acquire)
                    && !thread::should_stop()
                {
                    let _ = c
                        .tx_cv
                        .wait_interruptible_timeout(&mut q, msecs_to_jiffies(200));
                }
                if c.dead.load(Ordering::Acquire) || thread::should_stop() {
                    return;
                }
                let Ok(item) = q.items.remove(0) else { return };
                q.bytes -= item.len();
                // Nobody else writes to the socket until this frame is out.
                q.busy = true;
                let seq = q.seq;
                if matches!(item, TxItem::Msg { .. }) {
                    q.seq += 1;
                }
                (item, KeyBytes(q.key.0), seq)
            };
            c.tx_cv.notify_all();
            let sent = match &item {
                TxItem::Rest(b) => sock.send_parts(&[b]),
                TxItem::Msg { ty, payload } => match Header::new(*ty, payload.len(), seq) {
                    Ok(hdr) => {
                        let hdr = hdr.encode();
                        let mac = wire::frame_mac(&KernelHmac, &key.0, &hdr, payload);
                        sock.send_parts(&[&hdr, payload, &mac])
                    }
                    Err(_) => Err(EMSGSIZE),
                },
            };
            if sent.is_err() {
                c.set_why(c"send failed");
                c.kill();
                return;
            }
        }
    }
}
