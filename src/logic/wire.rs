// SPDX-License-Identifier: GPL-2.0

//! The transport's wire format: frames, messages, and the handshake proofs.
//!
//! A connection starts with a handshake, all frames MACed with the frame key
//! derived from the cluster key (`logic::key`'s `ClusterKey::frame_key`):
//! Hello (i->a, seq 0), HelloAck (a->i, seq 0), Auth (i->a, seq 1), Welcome
//! (a->i, seq 1), or Refuse from either side instead. From seq 2 on, each direction
//! uses its session key ([`Transcript::session_keys`]). Proofs and session
//! keys are HKDF-SHA256 outputs over the secret, the cluster's salt and
//! both nonces: `logic::key` has the derivation.
//!
//! Every frame on a vproc connection is
//!
//! ```text
//!   0   u8   version (VERSION)
//!   1   u8   message type (MsgType)
//!   2   u16  flags (0 for now)
//!   4   u32  payload length, <= MAX_PAYLOAD
//!   8   u64  sequence number: 0, 1, 2, ... per direction and connection
//!  16   ...  payload
//!   +   [u8; 16] MAC over header || payload (see below)
//! ```
//!
//! (little-endian integers). Handshake frames (sequence 0 and 1) are MACed
//! with the frame key, all later ones with a per-direction session key
//! derived from both nonces, so a frame cannot be forged without the key,
//! replayed (sequence), or reflected back to its sender (direction).
//!
//! The MAC ([`frame_mac`]): a handshake frame carries HMAC-SHA256 under the
//! frame key, truncated to 16 bytes (every connection shares that key, so a
//! one-time MAC would repeat its key there). A session frame carries
//! Poly1305 (`logic::poly1305`) under a one-time key
//! HMAC-SHA256(session key, "vproc frame key" || sequence): the session key
//! is this connection's and direction's alone and the sequence never
//! repeats on it, so no Poly1305 key ever authenticates two messages, which
//! is what Poly1305 needs (the same construction as ChaCha20-Poly1305's,
//! with HMAC-SHA256 as the function that makes the one-time keys). It costs
//! one short HMAC per frame plus Poly1305 over the frame, several times
//! cheaper than HMAC over the frame for the transport's 64 KiB frames. The codec never allocates: it
//! decodes from and encodes into caller buffers, and every length it reads is
//! checked against a fixed bound before use. HMAC itself is supplied by the
//! caller ([`Hmac`]): the kernel's library in the module, a crate on the host.
//!
//! The handshake's messages live in `wire/handshake.rs`, a remote kill's in
//! `wire/kill.rs`; both are re-exported here.

#[path = "wire/handshake.rs"]
mod handshake;
#[path = "wire/kill.rs"]
mod kill;

// The re-exports are the API of the host crate too; the kernel does not
// name every one, hence the allowance.
#[allow(unused_imports)]
pub use handshake::{Auth, Hello, HelloAck, Refuse, RefuseReason, Transcript};
#[allow(unused_imports)]
pub use kill::{KillReq, KillResp, Sender};

/// Protocol version; a frame with another version ends the connection.
/// 2: 16-byte MACs, Poly1305 on session frames. 3: a `Begin`'s user
/// namespace text has a 32-bit length (any chain the kernel makes). 4: a
/// `Begin` carries the process's PID namespace. 5: and those above it
/// (nested), each level's owner a user namespace's depth.
pub const VERSION: u8 = 5;
/// Size of the fixed frame header.
pub const HEADER_LEN: usize = 16;
/// Size of the MAC that trails every frame.
pub const MAC_LEN: usize = 16;
/// The first sequence number of a session: frames before it are the
/// handshake's, under the frame key.
pub const FIRST_SESSION_SEQ: u64 = 2;
/// Largest payload of one frame. Bulk data is cut into frames of this size,
/// so a receiver's buffer is bounded no matter what a peer claims.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Size of a handshake nonce.
pub const NONCE_LEN: usize = 16;

/// Why bytes from a peer were rejected. Any of these ends the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Unknown protocol version.
    BadVersion(u8),
    /// Unknown message type.
    UnknownType(u8),
    /// Payload length over [`MAX_PAYLOAD`].
    Oversize(u32),
    /// Payload shorter or longer than its message needs.
    BadLength,
    /// A field holds a value outside its range.
    BadField,
    /// The MAC does not match.
    BadMac,
    /// The sequence number is not the next one expected.
    BadSequence,
    /// The flags word holds bits this version does not know.
    BadFlags,
}

impl WireError {
    /// A short description for log lines.
    pub fn as_str(&self) -> &'static str {
        match self {
            WireError::BadVersion(_) => "unknown protocol version",
            WireError::UnknownType(_) => "unknown message type",
            WireError::Oversize(_) => "oversized frame",
            WireError::BadLength => "truncated or overlong message",
            WireError::BadField => "field out of range",
            WireError::BadMac => "bad MAC",
            WireError::BadSequence => "out-of-sequence frame",
            WireError::BadFlags => "unknown flags",
        }
    }
}

macro_rules! msg_types {
    ($($(#[$m:meta])* $name:ident = $v:expr,)*) => {
        /// The message types.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum MsgType {
            $($(#[$m])* $name = $v,)*
        }

        impl TryFrom<u8> for MsgType {
            type Error = WireError;
            fn try_from(v: u8) -> Result<Self, WireError> {
                match v {
                    $($v => Ok(MsgType::$name),)*
                    other => Err(WireError::UnknownType(other)),
                }
            }
        }
    };
}

msg_types! {
    /// Initiator -> acceptor: who I am, whom I want, my nonce.
    Hello = 1,
    /// Acceptor -> initiator: who I am, my nonce, proof I hold the key.
    HelloAck = 2,
    /// Initiator -> acceptor: proof I hold the key. The connection is up.
    Auth = 3,
    /// Either side, then close: why the connection is refused.
    Refuse = 4,
    /// Periodic load vector; also the heartbeat.
    Load = 5,
    /// Clean leave (module unload): mark me down now, do not wait.
    Leave = 6,
    /// Request: echo the payload back (liveness, RTT).
    Echo = 7,
    /// Response to [`MsgType::Echo`].
    EchoReply = 8,
    /// Bulk data of a stream (payload is opaque bytes).
    Data = 9,
    /// Acceptor -> initiator, after a good Auth: the connection is up.
    Welcome = 10,
    /// Request: the node's processes (payload: request id).
    ProcsReq = 11,
    /// Response: request id, last-chunk flag, record count, records.
    ProcsChunk = 12,
    /// Request: request id, PID, signal, sender's uid and euid.
    KillReq = 13,
    /// Response: request id, errno (0: delivered).
    KillResp = 14,
    /// Migration protocol (request or one-way; see `logic::mig`).
    Mig = 15,
    /// Response to a [`MsgType::Mig`] request (see `logic::mig`).
    MigResp = 16,
    /// A part of a [`MsgType::MigResp`] too long for one frame: the same
    /// header and layout, more frames follow (the last is the `MigResp`).
    MigRespPart = 17,
    /// A part of a [`MsgType::Mig`] request too long for one frame (a
    /// `Begin` or `Layout` of a process with many areas): the request's id,
    /// whether it is the last part, then its bytes. The receiver joins
    /// the parts (see [`read_part`], [`part_admit`]) and handles the whole
    /// as one `Mig`.
    MigPart = 18,
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The message type.
    pub ty: MsgType,
    /// Payload length, `<= MAX_PAYLOAD`.
    pub len: u32,
    /// Sequence number.
    pub seq: u64,
}

impl Header {
    /// A header for `ty` with `len` payload bytes.
    pub fn new(ty: MsgType, len: usize, seq: u64) -> Result<Self, WireError> {
        if len > MAX_PAYLOAD {
            return Err(WireError::Oversize(u32::try_from(len).unwrap_or(u32::MAX)));
        }
        Ok(Self {
            ty,
            len: len as u32,
            seq,
        })
    }

    /// The 16 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = VERSION;
        b[1] = self.ty as u8;
        b[4..8].copy_from_slice(&self.len.to_le_bytes());
        b[8..16].copy_from_slice(&self.seq.to_le_bytes());
        b
    }

    /// Decodes and validates a header: version, flags, type, length bound.
    /// After this, reading `len` payload bytes into a `MAX_PAYLOAD` buffer is safe.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Result<Self, WireError> {
        if b[0] != VERSION {
            return Err(WireError::BadVersion(b[0]));
        }
        if b[2] != 0 || b[3] != 0 {
            return Err(WireError::BadFlags);
        }
        let ty = MsgType::try_from(b[1])?;
        let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        if len as usize > MAX_PAYLOAD {
            return Err(WireError::Oversize(len));
        }
        let seq = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
        Ok(Self { ty, len, seq })
    }
}

/// HMAC-SHA256 over the concatenation of `parts`, keyed by `key`. Callers
/// pass at most 8 parts (the kernel's adapter takes no more).
pub trait Hmac {
    /// Computes the MAC.
    fn hmac(&self, key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32];
}

/// Compares two MACs or proofs in time independent of where they differ.
pub fn mac_eq<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    diff == 0
}

/// What the one-time Poly1305 key of a session frame is derived with.
const FRAME_KEY_LABEL: &[u8] = b"vproc frame key";

/// The MAC of a frame, over its header bytes and payload: HMAC-SHA256
/// truncated for a handshake frame (sequence below [`FIRST_SESSION_SEQ`]),
/// Poly1305 under a one-time key derived from `key` and the sequence for a
/// session frame (the module doc says why).
pub fn frame_mac(
    h: &impl Hmac,
    key: &[u8; 32],
    header: &[u8; HEADER_LEN],
    payload: &[u8],
) -> [u8; MAC_LEN] {
    if le_u64(header, 8) < FIRST_SESSION_SEQ {
        let full = h.hmac(key, &[header, payload]);
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&full[..MAC_LEN]);
        return mac;
    }
    let mut otk = h.hmac(key, &[FRAME_KEY_LABEL, &header[8..16]]);
    let mac = super::poly1305::tag(&otk, &[header, payload]);
    super::key::wipe(&mut otk);
    mac
}

/// A message that knows its type and its payload encoding.
pub trait Message: Sized {
    /// Its type.
    const TYPE: MsgType;
    /// Exact payload size (all fixed-size messages).
    const LEN: usize;
    /// Writes the payload into `out[..LEN]`.
    fn encode(&self, out: &mut [u8]);
    /// Reads a payload, which must be exactly `LEN` bytes.
    fn decode(p: &[u8]) -> Result<Self, WireError>;
}

fn check_len(p: &[u8], n: usize) -> Result<(), WireError> {
    if p.len() == n {
        Ok(())
    } else {
        Err(WireError::BadLength)
    }
}

fn node_field(v: u8) -> Result<u8, WireError> {
    if (1..=super::peers::MAX_NODE).contains(&v) {
        Ok(v)
    } else {
        Err(WireError::BadField)
    }
}

/// Little-endian u16 at `at` (the caller has checked the length).
pub(crate) fn le_u16(p: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([p[at], p[at + 1]])
}
/// Little-endian u32 at `at` (the caller has checked the length).
pub(crate) fn le_u32(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}
/// Little-endian u64 at `at` (the caller has checked the length).
pub(crate) fn le_u64(p: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[at..at + 8]);
    u64::from_le_bytes(b)
}
fn array<const N: usize>(p: &[u8], at: usize) -> [u8; N] {
    let mut b = [0u8; N];
    b.copy_from_slice(&p[at..at + N]);
    b
}

/// [`MsgType::Load`]: a node's load vector, MOSIX style.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    /// Runnable tasks right now.
    pub runnable: u32,
    /// 1-minute load average times 100.
    pub loadavg: u32,
    /// Online CPUs.
    pub cpus: u16,
    /// CPU speed figure measured at module load (loop iterations per ms).
    pub speed: u32,
    /// Free memory in KiB.
    pub free_kib: u64,
    /// Total memory in KiB.
    pub total_kib: u64,
    /// Processes managed by vproc on this node.
    pub vprocs: u32,
    /// [`LOAD_FLAG_LOADLEVEL`] and future flags.
    pub flags: u16,
    /// CPU-bound processes (cluster PIDs using at least half their share
    /// of the CPUs), as the load leveller last counted them: a steadier
    /// figure than the runnable tasks of one instant.
    pub busy: u32,
}

/// [`Load::flags`]: the node takes part in load leveling.
pub const LOAD_FLAG_LOADLEVEL: u16 = 1;

impl Message for Load {
    const TYPE: MsgType = MsgType::Load;
    const LEN: usize = 4 + 4 + 2 + 4 + 8 + 8 + 4 + 2 + 4;
    fn encode(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.runnable.to_le_bytes());
        out[4..8].copy_from_slice(&self.loadavg.to_le_bytes());
        out[8..10].copy_from_slice(&self.cpus.to_le_bytes());
        out[10..14].copy_from_slice(&self.speed.to_le_bytes());
        out[14..22].copy_from_slice(&self.free_kib.to_le_bytes());
        out[22..30].copy_from_slice(&self.total_kib.to_le_bytes());
        out[30..34].copy_from_slice(&self.vprocs.to_le_bytes());
        out[34..36].copy_from_slice(&self.flags.to_le_bytes());
        out[36..40].copy_from_slice(&self.busy.to_le_bytes());
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        let l = Self {
            runnable: le_u32(p, 0),
            loadavg: le_u32(p, 4),
            cpus: le_u16(p, 8),
            speed: le_u32(p, 10),
            free_kib: le_u64(p, 14),
            total_kib: le_u64(p, 22),
            vprocs: le_u32(p, 30),
            flags: le_u16(p, 34),
            busy: le_u32(p, 36),
        };
        if l.cpus == 0 || l.free_kib > l.total_kib || l.flags & !LOAD_FLAG_LOADLEVEL != 0 {
            return Err(WireError::BadField);
        }
        Ok(l)
    }
}

/// [`MsgType::Leave`] (empty payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leave;

impl Message for Leave {
    const TYPE: MsgType = MsgType::Leave;
    const LEN: usize = 0;
    fn encode(&self, _out: &mut [u8]) {}
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, 0)?;
        Ok(Leave)
    }
}

/// [`MsgType::Welcome`] (empty payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Welcome;

impl Message for Welcome {
    const TYPE: MsgType = MsgType::Welcome;
    const LEN: usize = 0;
    fn encode(&self, _out: &mut [u8]) {}
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, 0)?;
        Ok(Welcome)
    }
}

/// Every response starts with the id of its request; `true` when the
/// frame of type `ty` ends the response (always, but for a `ProcsChunk`
/// whose last-chunk flag is 0).
pub fn response_id(ty: MsgType, p: &[u8]) -> Result<Option<(u64, bool)>, WireError> {
    let last = match ty {
        MsgType::EchoReply | MsgType::KillResp | MsgType::MigResp => true,
        MsgType::MigRespPart => false,
        MsgType::ProcsChunk => match p.get(8) {
            Some(0) => false,
            Some(1) => true,
            Some(_) => return Err(WireError::BadField),
            None => return Err(WireError::BadLength),
        },
        _ => return Ok(None),
    };
    if p.len() < 8 {
        return Err(WireError::BadLength);
    }
    let id = u64::from_le_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]]);
    Ok(Some((id, last)))
}

/// Length of a [`MsgType::MigPart`] frame's own header: the request id
/// (u64, never 0) and the last-part flag (u8, 0 or 1).
pub const PART_HEADER: usize = 9;
/// Bytes of a request each `MigPart` frame carries (the last: 1 to this).
pub const PART_CHUNK: usize = MAX_PAYLOAD - PART_HEADER;
/// Longest request joined from parts: a receiver never holds more for one.
pub const MAX_JOINED: usize = 1024 * 1024;
/// Most requests a connection's receiver joins at once.
pub const MAX_JOINING: usize = 4;

/// One [`MsgType::MigPart`] frame, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part<'a> {
    /// The request it is part of.
    pub id: u64,
    /// The last part: the request is whole.
    pub last: bool,
    /// Its bytes (never empty).
    pub data: &'a [u8],
}

/// Reads a `MigPart` payload.
pub fn read_part(p: &[u8]) -> Result<Part<'_>, WireError> {
    if p.len() <= PART_HEADER {
        return Err(WireError::BadLength);
    }
    let id = u64::from_le_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]]);
    let last = match p[8] {
        0 => false,
        1 => true,
        _ => return Err(WireError::BadField),
    };
    if id == 0 {
        return Err(WireError::BadField);
    }
    Ok(Part {
        id,
        last,
        data: &p[PART_HEADER..],
    })
}

/// Writes a `MigPart` header into `out`.
pub fn write_part_header(id: u64, last: bool, out: &mut [u8; PART_HEADER]) {
    out[..8].copy_from_slice(&id.to_le_bytes());
    out[8] = u8::from(last);
}

/// Whether a part of `add` bytes may join: `have` bytes of its request
/// are held already (`None`: its first part, with `joining` requests
/// held). `Ok(true)`: the oldest request held is dropped first (its
/// sender gave up halfway, a fatal signal: its asker's wait ends alone).
/// A request longer than [`MAX_JOINED`] breaks the protocol.
pub fn part_admit(joining: usize, have: Option<usize>, add: usize) -> Result<bool, WireError> {
    if have.unwrap_or(0).saturating_add(add) > MAX_JOINED {
        return Err(WireError::BadLength);
    }
    Ok(have.is_none() && joining >= MAX_JOINING)
}

/// How a request of `len` bytes is cut into `MigPart` frames: the
/// `(offset, length, last)` of each.
pub fn parts(len: usize) -> impl Iterator<Item = (usize, usize, bool)> {
    (0..len.div_ceil(PART_CHUNK)).map(move |i| {
        let off = i * PART_CHUNK;
        let n = PART_CHUNK.min(len - off);
        (off, n, off + n == len)
    })
}

/// Whether `id` (a uid or gid in the initial user namespace) names
/// someone: `(uid_t)-1` is the kernel's invalid id.
pub fn valid_id(id: u32) -> bool {
    id != u32::MAX
}

/// Size of a `ProcsChunk` header: id, last flag, record count.
pub const PROCS_CHUNK_HEADER: usize = 11;

/// Writes a `ProcsChunk` header into `out[..PROCS_CHUNK_HEADER]`.
pub fn procs_chunk_header(id: u64, last: bool, count: u16, out: &mut [u8]) {
    out[0..8].copy_from_slice(&id.to_le_bytes());
    out[8] = u8::from(last);
    out[9..11].copy_from_slice(&count.to_le_bytes());
}

/// Splits a `ProcsChunk` payload into its record count and records.
pub fn procs_chunk_records(p: &[u8]) -> Result<(u16, &[u8]), WireError> {
    if p.len() < PROCS_CHUNK_HEADER {
        return Err(WireError::BadLength);
    }
    Ok((u16::from_le_bytes([p[9], p[10]]), &p[PROCS_CHUNK_HEADER..]))
}

/// Encodes a whole frame of message `m` into `out`: header, payload, MAC.
/// Returns the frame length. `out` must hold `HEADER_LEN + M::LEN + MAC_LEN`.
pub fn encode_frame<M: Message>(
    h: &impl Hmac,
    key: &[u8; 32],
    seq: u64,
    m: &M,
    out: &mut [u8],
) -> Result<usize, WireError> {
    encode_raw_frame(h, key, seq, M::TYPE, M::LEN, out, |p| m.encode(p))
}

/// Encodes a frame whose payload `fill` writes into a `len`-byte slice.
pub fn encode_raw_frame(
    h: &impl Hmac,
    key: &[u8; 32],
    seq: u64,
    ty: MsgType,
    len: usize,
    out: &mut [u8],
    fill: impl FnOnce(&mut [u8]),
) -> Result<usize, WireError> {
    let total = HEADER_LEN + len + MAC_LEN;
    if out.len() < total {
        return Err(WireError::BadLength);
    }
    let hdr = Header::new(ty, len, seq)?.encode();
    out[..HEADER_LEN].copy_from_slice(&hdr);
    fill(&mut out[HEADER_LEN..HEADER_LEN + len]);
    let mac = frame_mac(h, key, &hdr, &out[HEADER_LEN..HEADER_LEN + len]);
    out[HEADER_LEN + len..total].copy_from_slice(&mac);
    Ok(total)
}

/// Checks a received frame: MAC over header and payload, then the sequence.
pub fn verify_frame(
    h: &impl Hmac,
    key: &[u8; 32],
    header: &[u8; HEADER_LEN],
    payload: &[u8],
    mac: &[u8; MAC_LEN],
    expected_seq: u64,
) -> Result<Header, WireError> {
    let hdr = Header::decode(header)?;
    if hdr.len as usize != payload.len() {
        return Err(WireError::BadLength);
    }
    if !mac_eq(&frame_mac(h, key, header, payload), mac) {
        return Err(WireError::BadMac);
    }
    if hdr.seq != expected_seq {
        return Err(WireError::BadSequence);
    }
    Ok(hdr)
}
