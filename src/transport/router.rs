// SPDX-License-Identifier: GPL-2.0

//! The router: what an established connection does with each incoming
//! message (load vectors and leaves to membership, migration messages to
//! the [`MigService`], kill and process-list requests to the [`Service`],
//! echoes and bench data answered here), and request/response matching
//! ([`Transport::request`] and the responses filed for it).
//!
//! Must not touch: the handshake, framing and the send queue (`conn`), or
//! the node table beyond recording what a message says.

use super::conn::{Conn, Receiver, RxError, RxFrame};
use super::handshake::Session;
use super::stats::bump;
use super::{log_peer_error, Transport, NSEC_PER_MSEC};
use crate::logic::peers::pending_admit;
use crate::logic::procinfo::ProcInfo;
use crate::logic::wire::{
    self, KillReq, KillResp, Leave, Load, Message, MsgType, WireError, MAX_PAYLOAD,
    PROCS_CHUNK_HEADER,
};
use crate::sys::net::Socket;
use crate::sys::thread;
use crate::sys::time::now_ns;
use core::sync::atomic::Ordering;
use kernel::{prelude::*, time::msecs_to_jiffies};

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

pub(super) struct Pending {
    id: u64,
    /// The response's frames so far.
    frames: KVec<KVec<u8>>,
    /// The last frame arrived.
    done: bool,
}

impl Transport {
    /// Queues message `ty` with `payload` for `node`, waiting for queue
    /// space (bulk data is throttled to the network's pace). Fails with
    /// EHOSTUNREACH when the node is not up.
    pub(crate) fn send_wait(&self, node: u8, ty: MsgType, payload: KVec<u8>) -> Result {
        self.active_conn(node)?.enqueue(ty, payload, true)
    }

    /// Sends message `ty` of bulk data from the caller's buffer, written by
    /// the caller itself once the connection to `node` is idle (see
    /// `Conn::send_direct`): for senders of many frames in a row, never a
    /// connection's receiver. EHOSTUNREACH when the node is not up.
    pub(crate) fn send_direct(&self, node: u8, ty: MsgType, payload: &[u8]) -> Result {
        self.active_conn(node)?.send_direct(ty, payload)
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
        self.request_notify(node, ty, timeout_ms, build, &|| {})
    }

    /// [`request`](Self::request), calling `on_signal` once if a signal
    /// (not a fatal one) becomes pending while it waits: the caller tells
    /// the other side, and keeps waiting for the answer.
    pub(crate) fn request_notify(
        &self,
        node: u8,
        ty: MsgType,
        timeout_ms: u32,
        build: impl FnOnce(u64) -> Result<KVec<u8>>,
        on_signal: &dyn Fn(),
    ) -> Result<KVec<KVec<u8>>> {
        let conn = self.active_conn(node)?;
        let id = self.next_req_id.fetch_add(1, Ordering::Relaxed);
        let payload = build(id)?;
        {
            let mut r = conn.reqs.lock();
            if !pending_admit(r.len()) {
                drop(r);
                bump(&self.stats.pending_refused);
                return Err(EAGAIN);
            }
            r.push(
                Pending {
                    id,
                    frames: KVec::new(),
                    done: false,
                },
                GFP_KERNEL,
            )?;
        }
        let res = conn
            .enqueue_request(ty, id, payload)
            .and_then(|()| conn.wait_reply(id, timeout_ms, on_signal));
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
}

impl Conn {
    /// Queues request `id`: one frame, or (a migration request longer
    /// than a frame, up to [`wire::MAX_JOINED`]) `MigPart` frames the
    /// receiver joins. Their order on this connection is kept; other
    /// frames may come between them.
    fn enqueue_request(&self, ty: MsgType, id: u64, payload: KVec<u8>) -> Result {
        if payload.len() <= MAX_PAYLOAD {
            return self.enqueue(ty, payload, true);
        }
        if ty != MsgType::Mig || payload.len() > wire::MAX_JOINED {
            return Err(EMSGSIZE);
        }
        for (off, n, last) in wire::parts(payload.len()) {
            let mut part = KVec::with_capacity(wire::PART_HEADER + n, GFP_KERNEL)?;
            let mut h = [0u8; wire::PART_HEADER];
            wire::write_part_header(id, last, &mut h);
            part.extend_from_slice(&h, GFP_KERNEL)?;
            part.extend_from_slice(&payload[off..off + n], GFP_KERNEL)?;
            self.enqueue(MsgType::MigPart, part, true)?;
        }
        Ok(())
    }

    fn wait_reply(&self, id: u64, timeout_ms: u32, on_signal: &dyn Fn()) -> Result {
        let deadline = now_ns() + u64::from(timeout_ms) * NSEC_PER_MSEC;
        let mut told = false;
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
                if !told {
                    told = true;
                    on_signal();
                }
                r = self.reqs.lock();
            }
        }
    }
}

impl Receiver {
    /// The receive loop of an established connection.
    pub(super) fn receive(
        &self,
        sock: &Socket,
        s: &Session,
        rx: &mut RxFrame,
    ) -> core::result::Result<(), &'static CStr> {
        let c = &self.0;
        let mut seq = wire::FIRST_SESSION_SEQ;
        // Requests arriving in parts, joined here (this connection's).
        let mut joining: KVec<(u64, KVVec<u8>)> = KVec::new();
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
            let r = if h.ty == MsgType::MigPart {
                self.join(s, &mut joining, &rx.payload)
            } else {
                self.dispatch(s, h.ty, &rx.payload)
            };
            if let Err(w) = r {
                log_peer_error("message", s.peer, s.addr, &w);
                return Err(c"protocol violation");
            }
        }
        Err(c"connection closed")
    }

    /// A `MigPart`: joined to its request's earlier parts; the last
    /// one hands the whole request on, as one `Mig`.
    fn join(
        &self,
        s: &Session,
        joining: &mut KVec<(u64, KVVec<u8>)>,
        p: &[u8],
    ) -> core::result::Result<(), WireError> {
        let part = wire::read_part(p)?;
        let at = joining.iter().position(|(id, _)| *id == part.id);
        let have = at.and_then(|i| joining.get(i)).map(|(_, b)| b.len());
        // Only a first part drops the oldest: `at` stays right.
        if wire::part_admit(joining.len(), have, part.data.len())? {
            let _ = joining.remove(0);
        }
        let i = match at {
            Some(i) => i,
            None => {
                if joining.push((part.id, KVVec::new()), GFP_KERNEL).is_err() {
                    // Out of memory: the request is dropped (its asker
                    // times out), as a lost frame would be.
                    return Ok(());
                }
                joining.len() - 1
            }
        };
        let Some((_, buf)) = joining.get_mut(i) else {
            return Ok(());
        };
        if buf.extend_from_slice(part.data, GFP_KERNEL).is_err() {
            let _ = joining.remove(i);
            return Ok(());
        }
        if !part.last {
            return Ok(());
        }
        let Ok((_, whole)) = joining.remove(i) else {
            return Ok(());
        };
        self.dispatch(s, MsgType::Mig, &whole)
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
                let h = t.mig_service();
                match h {
                    Some(h) => h.mig(s.peer, p)?,
                    None => return Err(WireError::UnknownType(ty as u8)),
                }
            }
            // Joined by `join` before this.
            MsgType::MigPart => return Err(WireError::UnknownType(ty as u8)),
            MsgType::EchoReply
            | MsgType::KillResp
            | MsgType::ProcsChunk
            | MsgType::MigResp
            | MsgType::MigRespPart => {
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
                let service = t.service();
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
        let copied = copy.extend_from_slice(p, GFP_KERNEL).is_ok();
        let mut r = c.reqs.lock();
        if let Some(pnd) = r.iter_mut().find(|q| q.id == id && !q.done) {
            if !copied
                || pnd.frames.len() >= MAX_RESPONSE_FRAMES
                || pnd.frames.push(copy, GFP_KERNEL).is_err()
            {
                // Too big or out of memory: end it; the asker sees less.
                pnd.done = true;
                bump(&c.t.stats.response_truncated);
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
        let service = c.t.service();
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
