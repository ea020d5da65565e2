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
//!
//! This file holds the [`Transport`] itself (its state, start, key and
//! shutdown) and the listener thread; the rest is split by concern:
//! `membership` (the node table, up/down, load vectors, the manager
//! thread), `conn` (one connection, its queue and its threads), `handshake`
//! (Hello/HelloAck/Auth/Welcome over the codec of `logic::wire` and
//! `logic::key`), `router` (incoming messages to the layers above,
//! request/response matching, process-list serving), `bench` (the
//! transport bench and the CPU speed figure) and `stats` (the counters of
//! what the limits refused, `/proc/cluster/transport`).
//!
//! Under attack: an accepted connection must authenticate within
//! `logic::peers::HANDSHAKE_DEADLINE_MS` in total (the manager closes it
//! otherwise); accepted connections not yet authenticated have their own
//! small cap and a per-source limit, which dials never count against; an
//! authenticated claim of a node number that is up from another address
//! (or of ours) is refused and reported as a duplicate.

mod bench;
mod conn;
mod handshake;
mod membership;
mod router;
mod stats;

pub(crate) use membership::{NodeObserver, NodeState};
pub(crate) use router::{MigService, Service};
pub(crate) use stats::TransportFile;

use crate::events::{EventKind, Events};
use crate::logic::key::{ClusterKey, Secret};
use crate::logic::peers::{PeerTable, MAX_NODE};
use crate::logic::wire::{Leave, Message, MsgType, WireError};
use crate::sys::crypto::KernelHmac;
use crate::sys::net::Socket;
use crate::sys::thread::{self, KThread, ThreadFn};
use crate::sys::time::now_ns;
use bench::measure_speed;
use conn::Conn;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::{
    new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, Mutex, SpinLock},
};
use membership::{Manager, Nodes, Slot, BACKOFF_MIN_MS};
use stats::Stats;

/// The port a node listens on when `peers=` does not say.
pub(crate) const DEFAULT_PORT: u16 = 7300;
const NSEC_PER_MSEC: u64 = 1_000_000;

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

struct Threads {
    listener: Option<KThread>,
    manager: Option<KThread>,
}

/// The layers the transport calls: who answers requests from other nodes,
/// who handles the migration protocol, who hears of new nodes.
pub(crate) struct Services {
    /// Requests from other nodes (process lists, remote /proc, kill).
    pub(crate) service: Option<Arc<dyn Service>>,
    /// The migration protocol.
    pub(crate) mig: Option<Arc<dyn MigService>>,
    /// Told of every node that becomes known (procfs's node<n>/).
    pub(crate) observer: Option<Arc<dyn NodeObserver>>,
}

impl Services {
    const fn none() -> Self {
        Self {
            service: None,
            mig: None,
            observer: None,
        }
    }
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
    /// What the limits refused or dropped (`/proc/cluster/transport`).
    stats: Stats,
    listener: Socket,
    /// The cluster's name (`cluster=`), the salt of every key derived.
    cluster: &'static [u8],
    /// The cluster key (HKDF's PRK); `None` until one is set. A replaced
    /// key is wiped when dropped.
    #[pin]
    key: SpinLock<Option<ClusterKey>>,
    /// The layers above, handed in by [`Transport::run`] (nothing arrives
    /// before), cleared at shutdown; one lock, they change together.
    #[pin]
    services: Mutex<Services>,
    #[pin]
    nodes: Mutex<Nodes>,
    #[pin]
    threads: Mutex<Threads>,
}

impl Transport {
    /// The transport of node `me` of cluster `cluster` with the
    /// configured `peers` and the key derived from `key=` (may be `None`:
    /// no peer is accepted until root writes `/proc/cluster/admin/key`),
    /// listening but not yet running: [`Transport::run`] hands in the
    /// layers above and starts it.
    pub(crate) fn new(
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
                stats: Stats::new(),
                listener,
                cluster,
                key <- new_spinlock!(key, "Transport::key"),
                services <- new_mutex!(Services::none(), "Transport::services"),
                nodes <- new_mutex!(Nodes { slots, conns: KVec::new(), next_heartbeat_ns: 0 }, "Transport::nodes"),
                threads <- new_mutex!(Threads { listener: None, manager: None }, "Transport::threads"),
            }),
            GFP_KERNEL,
        )?;
        Ok(t)
    }

    /// Hands in the layers above and starts accepting, dialling and
    /// managing: no message is dispatched before they are here.
    pub(crate) fn run(self: &Arc<Self>, services: Services) -> Result {
        *self.services.lock() = services;
        let listener = KThread::spawn(
            c"vproc-listen",
            Arc::new(Listener(self.clone()), GFP_KERNEL)?,
        )?;
        self.threads.lock().listener = Some(listener);
        let manager = KThread::spawn(c"vproc-mgr", Arc::new(Manager(self.clone()), GFP_KERNEL)?)?;
        self.threads.lock().manager = Some(manager);
        pr_info!(
            "transport listening on port {} (speed {})\n",
            self.port,
            self.speed
        );
        Ok(())
    }

    /// Who handles the migration protocol now (`None` before `run` and
    /// after shutdown).
    pub(super) fn mig_service(&self) -> Option<Arc<dyn MigService>> {
        self.services.lock().mig.clone()
    }

    /// Who answers requests from other nodes now.
    pub(super) fn service(&self) -> Option<Arc<dyn Service>> {
        self.services.lock().service.clone()
    }

    /// Who hears of new nodes now.
    pub(super) fn observer(&self) -> Option<Arc<dyn NodeObserver>> {
        self.services.lock().observer.clone()
    }

    /// procfs goes: no more news of nodes (before its directories go).
    pub(crate) fn stop_observer(&self) {
        let o = self.services.lock().observer.take();
        drop(o);
    }

    /// This node's number.
    pub(crate) fn me(&self) -> u8 {
        self.me
    }

    /// A copy of the cluster key for one handshake (wiped when dropped).
    fn key(&self) -> Option<ClusterKey> {
        self.key.lock().clone()
    }

    /// Replaces the cluster key with one derived from `secret` (from
    /// `/proc/cluster/admin/key`, parsed by procfs). Existing connections
    /// keep their session keys; new ones need the new key.
    pub(crate) fn set_key(&self, secret: Secret) -> Result {
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
        // The layers above hold this transport: break the cycles.
        let gone = core::mem::replace(&mut *self.services.lock(), Services::none());
        drop(gone);
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
                    // On failure the socket is closed at once (a refusal
                    // by the limits is counted and logged by `track`).
                    if let Err(e) = Conn::accepted(t, sock) {
                        if e != EMFILE && PEER_LOG.allow() {
                            pr_warn!("incoming connection dropped (error {})\n", e.to_errno());
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
