// SPDX-License-Identifier: GPL-2.0

//! The kernel side of the handshake: a connection's receiver dials or
//! takes an accepted socket, runs Hello/HelloAck/Auth/Welcome (or Refuse)
//! with the frame key, checks the key proofs, registers the connection with
//! membership and hands over to the receive loop with the session keys.
//! The codec, proofs and key derivation are pure logic in `logic::wire`
//! and `logic::key`.
//!
//! Must not touch: messages after the handshake (`router`) or the node
//! table beyond asking membership (precheck, register, refused).

use super::conn::{KeyBytes, Receiver, RxError, RxFrame, Sender};
use super::{log_peer_error, Ip, PEER_LOG};
use crate::logic::key::ClusterKey;
use crate::logic::wire::{
    self, Auth, Hello, HelloAck, Message, MsgType, Refuse, RefuseReason, Transcript, Welcome,
    WireError, HEADER_LEN, MAC_LEN, NONCE_LEN,
};
use crate::sys::crypto::{self, KernelHmac};
use crate::sys::net::Socket;
use crate::sys::thread::KThread;
use crate::sys::time::now_ns;
use core::sync::atomic::Ordering;
use kernel::{prelude::*, sync::Arc};

/// Connect timeout.
const CONNECT_MS: u32 = 1000;
/// Each handshake step must arrive within this.
const HANDSHAKE_MS: u32 = 2000;
/// A send that makes no progress this long kills the connection.
const SEND_TIMEOUT_MS: u32 = 5000;

impl RxFrame {
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

/// Sends one handshake message MACed with `key` (before the sender runs).
fn send_msg<M: Message>(sock: &Socket, key: &[u8; 32], seq: u64, m: &M) -> Result {
    let mut buf = [0u8; HEADER_LEN + 64 + MAC_LEN];
    let n = wire::encode_frame(&KernelHmac, key, seq, m, &mut buf).map_err(|_| EINVAL)?;
    sock.send_parts(&[&buf[..n]])
}

pub(super) fn refuse(sock: &Socket, key: &[u8; 32], seq: u64, reason: RefuseReason) {
    let _ = send_msg(sock, key, seq, &Refuse { reason });
}

/// The outcome of a handshake: peer, its address, session keys.
pub(super) struct Session {
    pub(super) peer: u8,
    pub(super) addr: u32,
    pub(super) port: u16,
    tx_key: KeyBytes,
    pub(super) rx_key: KeyBytes,
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
        if let Err(r) = t.precheck(hello.node, addr) {
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

    pub(super) fn session(&self) -> core::result::Result<(), &'static CStr> {
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
            q.seq = wire::FIRST_SESSION_SEQ;
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
}
