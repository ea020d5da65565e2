// SPDX-License-Identifier: GPL-2.0

//! The handshake's messages (Hello, HelloAck, Auth, Refuse) and the
//! transcript both sides derive the proofs and session keys from.

use super::super::key::{
    ClusterKey, LABEL_A2I, LABEL_ACCEPTOR_PROOF, LABEL_I2A, LABEL_INITIATOR_PROOF,
};
use super::{array, check_len, le_u16, node_field, Hmac, Message, MsgType, WireError, NONCE_LEN};

/// The handshake facts both sides agree on once HelloAck has been seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transcript {
    /// The initiator's node number.
    pub initiator: u8,
    /// The acceptor's node number.
    pub acceptor: u8,
    /// The initiator's nonce.
    pub nonce_i: [u8; NONCE_LEN],
    /// The acceptor's nonce.
    pub nonce_a: [u8; NONCE_LEN],
}

impl Transcript {
    /// HKDF-Expand of the cluster key with `label` and this transcript as
    /// `info` (see `logic::key`).
    fn derive(&self, h: &impl Hmac, key: &ClusterKey, label: &[u8]) -> [u8; 32] {
        key.expand_for(
            h,
            label,
            &[self.initiator, self.acceptor],
            &self.nonce_i,
            &self.nonce_a,
        )
    }

    /// What the acceptor sends to prove it holds the cluster key.
    pub fn acceptor_proof(&self, h: &impl Hmac, key: &ClusterKey) -> [u8; 32] {
        self.derive(h, key, LABEL_ACCEPTOR_PROOF)
    }

    /// What the initiator sends to prove it holds the cluster key.
    pub fn initiator_proof(&self, h: &impl Hmac, key: &ClusterKey) -> [u8; 32] {
        self.derive(h, key, LABEL_INITIATOR_PROOF)
    }

    /// The session keys `(initiator -> acceptor, acceptor -> initiator)`.
    pub fn session_keys(&self, h: &impl Hmac, key: &ClusterKey) -> ([u8; 32], [u8; 32]) {
        (
            self.derive(h, key, LABEL_I2A),
            self.derive(h, key, LABEL_A2I),
        )
    }
}

/// [`MsgType::Hello`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The initiator's node number.
    pub node: u8,
    /// The node it wants to reach.
    pub to: u8,
    /// The TCP port the initiator listens on (so a node it was not
    /// configured with can reach it back).
    pub listen_port: u16,
    /// The initiator's nonce.
    pub nonce: [u8; NONCE_LEN],
}

impl Message for Hello {
    const TYPE: MsgType = MsgType::Hello;
    const LEN: usize = 4 + NONCE_LEN;
    fn encode(&self, out: &mut [u8]) {
        out[0] = self.node;
        out[1] = self.to;
        out[2..4].copy_from_slice(&self.listen_port.to_le_bytes());
        out[4..4 + NONCE_LEN].copy_from_slice(&self.nonce);
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        let listen_port = le_u16(p, 2);
        if listen_port == 0 {
            return Err(WireError::BadField);
        }
        Ok(Self {
            node: node_field(p[0])?,
            to: node_field(p[1])?,
            listen_port,
            nonce: array(p, 4),
        })
    }
}

/// [`MsgType::HelloAck`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelloAck {
    /// The acceptor's node number.
    pub node: u8,
    /// The acceptor's nonce.
    pub nonce: [u8; NONCE_LEN],
    /// [`Transcript::acceptor_proof`].
    pub proof: [u8; 32],
}

impl Message for HelloAck {
    const TYPE: MsgType = MsgType::HelloAck;
    const LEN: usize = 1 + NONCE_LEN + 32;
    fn encode(&self, out: &mut [u8]) {
        out[0] = self.node;
        out[1..1 + NONCE_LEN].copy_from_slice(&self.nonce);
        out[1 + NONCE_LEN..Self::LEN].copy_from_slice(&self.proof);
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        Ok(Self {
            node: node_field(p[0])?,
            nonce: array(p, 1),
            proof: array(p, 1 + NONCE_LEN),
        })
    }
}

/// [`MsgType::Auth`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth {
    /// [`Transcript::initiator_proof`].
    pub proof: [u8; 32],
}

impl Message for Auth {
    const TYPE: MsgType = MsgType::Auth;
    const LEN: usize = 32;
    fn encode(&self, out: &mut [u8]) {
        out[..32].copy_from_slice(&self.proof);
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        Ok(Self { proof: array(p, 0) })
    }
}

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RefuseReason {
    /// The Hello named another node than the acceptor.
    WrongNode = 1,
    /// A connection from that node number is already up.
    AlreadyUp = 2,
    /// The key proof did not verify.
    BadProof = 3,
    /// Both sides connected at once; the other connection wins.
    Duplicate = 4,
    /// The node is leaving or not accepting.
    ShuttingDown = 5,
    /// The initiator claimed this node's own number.
    SameNode = 6,
    /// Root removed that node from this node's cluster.
    NotMember = 7,
}

impl RefuseReason {
    /// A short description for log lines.
    pub fn as_str(&self) -> &'static str {
        match self {
            RefuseReason::WrongNode => "wrong node",
            RefuseReason::AlreadyUp => "node already up",
            RefuseReason::BadProof => "bad key proof",
            RefuseReason::Duplicate => "duplicate connection",
            RefuseReason::ShuttingDown => "shutting down",
            RefuseReason::SameNode => "claims our own node number",
            RefuseReason::NotMember => "node removed from the cluster",
        }
    }
}

/// [`MsgType::Refuse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refuse {
    /// Why.
    pub reason: RefuseReason,
}

impl Message for Refuse {
    const TYPE: MsgType = MsgType::Refuse;
    const LEN: usize = 1;
    fn encode(&self, out: &mut [u8]) {
        out[0] = self.reason as u8;
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        let reason = match p[0] {
            1 => RefuseReason::WrongNode,
            2 => RefuseReason::AlreadyUp,
            3 => RefuseReason::BadProof,
            4 => RefuseReason::Duplicate,
            5 => RefuseReason::ShuttingDown,
            6 => RefuseReason::SameNode,
            7 => RefuseReason::NotMember,
            _ => return Err(WireError::BadField),
        };
        Ok(Self { reason })
    }
}
