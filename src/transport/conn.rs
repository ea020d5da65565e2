// SPDX-License-Identifier: GPL-2.0

//! One TCP connection to a peer, dialled or accepted: its socket, its send
//! queue (and the fast path that writes small frames from the caller), its
//! receiver and sender threads, reading and verifying frames, and ending
//! it. The receiver runs the handshake (`handshake`), then the receive loop
//! (`router`).
//!
//! Must not touch: the node table (membership decides whether a connection
//! becomes a node's one connection) or what a message means.

use super::router::Pending;
use super::stats::bump;
use super::{Transport, NSEC_PER_MSEC};
use crate::logic::key::wipe;
use crate::logic::peers::{txq_admit, ConnDir};
use crate::logic::wire::RefuseReason;
use crate::logic::wire::{self, Header, MsgType, WireError, HEADER_LEN, MAC_LEN, MAX_PAYLOAD};
use crate::sys::crypto::KernelHmac;
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

pub(super) struct TxQueue {
    items: KVec<TxItem>,
    bytes: usize,
    /// Session key and next sequence number of our direction.
    pub(super) key: KeyBytes,
    pub(super) seq: u64,
    /// The session is established (key and seq set).
    pub(super) ready: bool,
    /// The sender thread is writing a frame outside the lock: nobody else
    /// may write to the socket until it clears this.
    busy: bool,
    /// A caller is writing a frame of its own outside the lock
    /// ([`Conn::send_direct`]): the sender thread and the fast path wait.
    direct: bool,
}

/// Messages up to this size are sent by the caller itself when the
/// connection is idle (no queue, sender not writing): one thread hop less
/// per message, which is most of a round trip's cost.
const FAST_PATH_MAX: usize = 4096;

pub(super) struct ConnThreads {
    recv: Option<KThread>,
    pub(super) send: Option<KThread>,
}

/// One TCP connection to a peer (dialled or accepted).
#[pin_data]
pub(super) struct Conn {
    pub(super) t: Arc<Transport>,
    /// The node dialled (0: accepted connection).
    pub(super) outgoing_to: u8,
    /// The peer's node number once its Hello/HelloAck verified (0 before).
    pub(super) peer: AtomicU8,
    /// The source address of an accepted connection (0 for a dial).
    pub(super) from: u32,
    /// The peer's address once registered (what a claim is judged by).
    pub(super) peer_addr: AtomicU32,
    /// When the connection was accepted or dialled: the handshake
    /// deadline counts from here.
    pub(super) started_ns: u64,
    /// Registered as the node's active connection.
    pub(super) up: AtomicBool,
    /// Finished: no more sends; the manager reaps it.
    pub(super) dead: AtomicBool,
    pub(super) last_heard_ns: AtomicU64,
    pub(super) rx_data: AtomicU64,
    #[pin]
    why: SpinLock<&'static CStr>,
    #[pin]
    pub(super) sock: SpinLock<Option<Arc<Socket>>>,
    #[pin]
    pub(super) tx: Mutex<TxQueue>,
    #[pin]
    tx_cv: CondVar,
    #[pin]
    pub(super) reqs: Mutex<KVec<Pending>>,
    #[pin]
    pub(super) req_cv: CondVar,
    #[pin]
    pub(super) threads: Mutex<ConnThreads>,
}

/// A connection's receiver thread.
pub(super) struct Receiver(pub(super) Arc<Conn>);
/// A connection's sender thread.
pub(super) struct Sender(pub(super) Arc<Conn>);

impl Conn {
    fn new(
        t: &Arc<Transport>,
        outgoing_to: u8,
        sock: Option<Socket>,
        from: u32,
    ) -> Result<Arc<Self>> {
        let sock = match sock {
            Some(s) => Some(Arc::new(s, GFP_KERNEL)?),
            None => None,
        };
        Arc::pin_init(
            try_pin_init!(Self {
                t: t.clone(),
                outgoing_to,
                peer: AtomicU8::new(0),
                from,
                peer_addr: AtomicU32::new(0),
                started_ns: now_ns(),
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
                    direct: false,
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
    pub(super) fn dial(t: &Arc<Transport>, node: u8) -> Result {
        let c = Self::new(t, node, None, 0)?;
        t.track(&c, ConnDir::Dialled)?;
        c.start_receiver()
    }

    /// Takes over an accepted socket, if the limits on unauthenticated
    /// connections let it in (EMFILE, counted, if not).
    pub(super) fn accepted(t: &Arc<Transport>, sock: Socket) -> Result {
        let (from, _) = sock.peer()?;
        let c = Self::new(t, 0, Some(sock), from)?;
        t.track(&c, ConnDir::Accepted)?;
        c.start_receiver()
    }

    /// Starts the receiver. The connection is tracked already, so the
    /// manager may reap it as soon as the receiver ends: the handle is
    /// stored under the lock `stop_threads()` takes, never after it looked.
    fn start_receiver(self: &Arc<Self>) -> Result {
        let data = Arc::new(Receiver(self.clone()), GFP_KERNEL)?;
        let mut th = self.threads.lock();
        match KThread::spawn(c"vproc-conn", data) {
            Ok(r) => {
                th.recv = Some(r);
                Ok(())
            }
            Err(e) => {
                self.dead.store(true, Ordering::Release);
                Err(e)
            }
        }
    }

    pub(super) fn dir(&self) -> &'static str {
        if self.outgoing_to != 0 {
            "dialled"
        } else {
            "accepted"
        }
    }

    pub(super) fn socket(&self) -> Option<Arc<Socket>> {
        self.sock.lock().clone()
    }

    pub(super) fn set_why(&self, why: &'static CStr) {
        *self.why.lock() = why;
    }

    /// Ends the connection: no more sends, and every thread blocked on its
    /// socket wakes up. The receiver then reports it closed.
    pub(super) fn kill(&self) {
        self.dead.store(true, Ordering::Release);
        if let Some(s) = self.socket() {
            s.shutdown();
        }
        self.tx_cv.notify_all();
        self.req_cv.notify_all();
    }

    /// Stops and joins both threads (after `kill`). Never called by them.
    /// The receiver is joined first: it starts the sender, so only once it
    /// has returned is the sender's handle (if any) surely stored. Taking
    /// both at once left a sender started meanwhile in `threads`, where it
    /// and its `Arc<Conn>` held each other for ever (kmemleak: the Conn
    /// and its socket).
    pub(super) fn stop_threads(&self) {
        let r = self.threads.lock().recv.take();
        drop(r);
        let s = self.threads.lock().send.take();
        drop(s);
    }

    /// Queues a frame. With `wait`, waits for queue space (not for the
    /// network); without, fails with EAGAIN when the queue is full.
    pub(super) fn enqueue(&self, ty: MsgType, payload: KVec<u8>, wait: bool) -> Result {
        if payload.len() > MAX_PAYLOAD {
            return Err(EMSGSIZE);
        }
        let len = payload.len();
        let mut q = self.wait_tx(wait, |q| txq_admit(q.bytes, q.items.len(), len))?;
        if q.ready && !q.busy && !q.direct && q.items.is_empty() && len <= FAST_PATH_MAX {
            return self.send_now(&mut q, ty, &payload);
        }
        q.bytes += payload.len();
        q.items.push(TxItem::Msg { ty, payload }, GFP_KERNEL)?;
        drop(q);
        self.tx_cv.notify_all();
        Ok(())
    }

    /// Locks the send queue once `ok` holds for it. With `wait`, waits for
    /// that (a signal only pauses the wait; a fatal one ends it); without,
    /// fails with EAGAIN. EHOSTUNREACH once the connection is dead.
    fn wait_tx(
        &self,
        wait: bool,
        ok: impl Fn(&TxQueue) -> bool,
    ) -> Result<kernel::sync::MutexGuard<'_, TxQueue>> {
        let mut q = self.tx.lock();
        let mut waited = false;
        loop {
            if self.dead.load(Ordering::Acquire) {
                return Err(EHOSTUNREACH);
            }
            if ok(&q) {
                return Ok(q);
            }
            if !wait {
                bump(&self.t.stats.txq_full);
                return Err(EAGAIN);
            }
            if !waited {
                waited = true;
                bump(&self.t.stats.txq_waited);
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
    }

    /// Sends one frame of bulk data from the caller's own buffer, in the
    /// caller's context, once the connection is idle (nothing queued, no
    /// frame being written): no copy into a queued message, no hop to the
    /// sender thread, and the MAC computed outside the lock. Waits for the
    /// socket like a write(2) does. Never called from a receiver thread
    /// (two receivers each waiting for the other's socket to drain would
    /// never read). What a signal left unsent goes first in the queue, for
    /// the sender thread.
    pub(super) fn send_direct(&self, ty: MsgType, payload: &[u8]) -> Result {
        if payload.len() > MAX_PAYLOAD {
            return Err(EMSGSIZE);
        }
        let sock = self.socket().ok_or(EHOSTUNREACH)?;
        let mut q = self.wait_tx(true, |q| {
            q.ready && !q.busy && !q.direct && q.items.is_empty()
        })?;
        let hdr = Header::new(ty, payload.len(), q.seq)
            .map_err(|_| EMSGSIZE)?
            .encode();
        let key = KeyBytes(q.key.0);
        q.seq += 1;
        q.direct = true;
        drop(q);
        let mac = wire::frame_mac(&KernelHmac, &key.0, &hdr, payload);
        let parts = [&hdr[..], payload, &mac[..]];
        let total = HEADER_LEN + payload.len() + MAC_LEN;
        let sent = sock.send_parts_some(&parts);
        let mut q = self.tx.lock();
        q.direct = false;
        let res = match sent {
            Ok(sent) if sent == total => Ok(()),
            Ok(sent) => {
                bump(&self.t.stats.direct_cut);
                self.keep_rest(&mut q, &parts, sent)
            }
            Err(e) => {
                self.set_why(c"send failed");
                self.kill();
                Err(e)
            }
        };
        drop(q);
        self.tx_cv.notify_all();
        res
    }

    /// Keeps what the socket did not take of a frame (`parts` laid end to
    /// end, `sent` bytes of them out) first in the queue, for the sender
    /// thread. Half a frame on the wire whose rest cannot be kept ends the
    /// stream: the connection is killed.
    fn keep_rest(&self, q: &mut TxQueue, parts: &[&[u8]], sent: usize) -> Result {
        let kept = tail_of(parts, sent).and_then(|rest| {
            q.items.reserve(1, GFP_KERNEL)?;
            q.bytes += rest.len();
            q.items
                .insert_within_capacity(0, TxItem::Rest(rest))
                .map_err(|_| ENOMEM)
        });
        if kept.is_err() {
            self.set_why(c"send failed");
            self.kill();
        }
        kept
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
        self.keep_rest(q, &[&hdr[..], payload, &mac[..]], sent)?;
        self.tx_cv.notify_all();
        Ok(())
    }

    /// Bytes and messages in the send queue now.
    pub(super) fn queued(&self) -> (usize, usize) {
        let q = self.tx.lock();
        (q.bytes, q.items.len())
    }

    /// Waits until queued frames are sent or `ms` passed.
    pub(super) fn drain(&self, ms: u32) {
        let deadline = now_ns() + u64::from(ms) * NSEC_PER_MSEC;
        let mut q = self.tx.lock();
        while !q.items.is_empty() && !self.dead.load(Ordering::Acquire) && now_ns() < deadline {
            let _ = self
                .tx_cv
                .wait_interruptible_timeout(&mut q, msecs_to_jiffies(10));
        }
    }
}

/// What follows the first `sent` bytes of `parts` (laid end to end).
fn tail_of(parts: &[&[u8]], sent: usize) -> Result<KVec<u8>> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut rest = KVec::with_capacity(total.saturating_sub(sent), GFP_KERNEL)?;
    let mut start = 0;
    for p in parts {
        if start + p.len() > sent {
            rest.extend_from_slice(&p[sent.saturating_sub(start)..], GFP_KERNEL)?;
        }
        start += p.len();
    }
    Ok(rest)
}

/// A frame in flight on the receiving side.
pub(super) struct RxFrame {
    hdr: [u8; HEADER_LEN],
    mac: [u8; MAC_LEN],
    /// INVARIANT: capacity `MAX_PAYLOAD + MAC_LEN`, allocated once per
    /// connection: a frame's payload and MAC are read into it with one
    /// receive call, then the MAC is moved out.
    pub(super) payload: KVec<u8>,
}

impl RxFrame {
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            hdr: [0; HEADER_LEN],
            mac: [0; MAC_LEN],
            payload: KVec::with_capacity(MAX_PAYLOAD + MAC_LEN, GFP_KERNEL)?,
        })
    }

    /// Reads one frame and verifies it with `key` at sequence `seq`.
    pub(super) fn read(
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
}

pub(super) enum RxError {
    Io(Error),
    Wire(WireError),
    Refused(RefuseReason),
}

/// 32 bytes of key material, wiped when dropped (a connection's session
/// key, a handshake's frame key).
pub(super) struct KeyBytes(pub(super) [u8; 32]);

impl Drop for KeyBytes {
    fn drop(&mut self) {
        wipe(&mut self.0);
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
                if q.busy {
                    q.busy = false;
                    // A direct sender may be waiting for the socket.
                    c.tx_cv.notify_all();
                }
                while (q.items.is_empty() || q.direct)
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
