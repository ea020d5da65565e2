// SPDX-License-Identifier: GPL-2.0

//! The `peers=` module parameter: `NODE@A.B.C.D:PORT[,NODE@A.B.C.D:PORT...]`,
//! and the transport's rules about who may talk to this node.
//!
//! Owns the syntax and the rules of the cluster's static membership list:
//! node numbers are `1..=MAX_NODE`, each appears at most once, addresses are
//! dotted IPv4, ports `1..=65535`. Parsing never allocates and never panics;
//! every rejection says where and why, so the module can log it.
//!
//! Also owns the transport's limits against a hostile network, as pure
//! decisions the kernel applies: which accepted connections may start a
//! handshake ([`admit_conn`]: a small cap on unauthenticated connections
//! and one per source address; dials never count against it), the total
//! handshake deadline ([`handshake_expired`]), whether a node number
//! claimed in a handshake is taken by another node ([`judge_claim`]), and
//! the bounds of the per-connection queues ([`txq_admit`],
//! [`pending_admit`]).

use core::fmt;

/// The highest node number. PIDs carry the node in their upper bits and
/// `pid_max` is 4,194,304 = 64 * 65536, so nodes are `1..=63`.
pub const MAX_NODE: u8 = 63;

/// The longest `peers=` string accepted (63 entries of `NN@AAA.BBB.CCC.DDD:PPPPP,`).
pub const MAX_PEERS_LEN: usize = 63 * 25;

/// One cluster node's transport address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The node number, `1..=MAX_NODE`.
    pub node: u8,
    /// IPv4 address, network order of the dotted form (`[a, b, c, d]`).
    pub addr: [u8; 4],
    /// TCP port, never 0.
    pub port: u16,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.addr;
        write!(f, "{}@{}.{}.{}.{}:{}", self.node, a, b, c, d, self.port)
    }
}

/// Why a `peers=` string was rejected, and at which byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeersError {
    /// Byte offset into the string where the problem starts.
    pub offset: usize,
    /// What is wrong there.
    pub kind: PeersErrorKind,
}

/// The kinds of `peers=` errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeersErrorKind {
    /// The string is longer than [`MAX_PEERS_LEN`].
    TooLong,
    /// An entry is empty (`,,` or a trailing comma).
    EmptyEntry,
    /// The node number is missing, not a number, or outside `1..=MAX_NODE`.
    BadNode,
    /// The `@` between node and address is missing.
    MissingAt,
    /// The address is not four dotted decimal octets `0..=255`.
    BadAddress,
    /// The `:` between address and port is missing.
    MissingPort,
    /// The port is not a number in `1..=65535`.
    BadPort,
    /// The same node number appears twice.
    DuplicateNode,
}

impl PeersErrorKind {
    /// What is wrong, for a log line.
    pub fn as_str(&self) -> &'static str {
        match self {
            PeersErrorKind::TooLong => "string too long",
            PeersErrorKind::EmptyEntry => "empty entry",
            PeersErrorKind::BadNode => "node number must be 1..63",
            PeersErrorKind::MissingAt => "expected NODE@ADDR:PORT",
            PeersErrorKind::BadAddress => "address must be dotted IPv4",
            PeersErrorKind::MissingPort => "expected :PORT after the address",
            PeersErrorKind::BadPort => "port must be 1..65535",
            PeersErrorKind::DuplicateNode => "node listed twice",
        }
    }
}

impl fmt::Display for PeersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind.as_str(), self.offset)
    }
}

/// The parsed peer list, indexed by node number. Fixed size: no allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerTable {
    /// INVARIANT: `slots[n]` is either `None` or a peer whose `node == n`;
    /// `slots[0]` is always `None`.
    slots: [Option<Peer>; MAX_NODE as usize + 1],
}

impl Default for PeerTable {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for PeerTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PeerTable {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            slots: [None; MAX_NODE as usize + 1],
        }
    }

    /// The peer with node number `node`, if listed.
    pub fn get(&self, node: u8) -> Option<&Peer> {
        self.slots.get(usize::from(node)).and_then(Option::as_ref)
    }

    /// Adds `peer`; fails if its node number is out of range or taken.
    pub fn insert(&mut self, peer: Peer) -> Result<(), PeersErrorKind> {
        if peer.node == 0 || peer.node > MAX_NODE {
            return Err(PeersErrorKind::BadNode);
        }
        let slot = &mut self.slots[usize::from(peer.node)];
        if slot.is_some() {
            return Err(PeersErrorKind::DuplicateNode);
        }
        *slot = Some(peer);
        Ok(())
    }

    /// Removes node `node`, returning its entry.
    pub fn remove(&mut self, node: u8) -> Option<Peer> {
        self.slots.get_mut(usize::from(node)).and_then(Option::take)
    }

    /// The listed peers in node order.
    pub fn iter(&self) -> impl Iterator<Item = &Peer> {
        self.slots.iter().filter_map(Option::as_ref)
    }

    /// How many peers are listed.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether no peer is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Parses a decimal number of at most `max_digits` digits that is `<= max`.
fn parse_dec(s: &[u8], max_digits: usize, max: u32) -> Option<u32> {
    if s.is_empty() || s.len() > max_digits {
        return None;
    }
    let mut v: u32 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    (v <= max).then_some(v)
}

/// Parses dotted IPv4 `a.b.c.d`.
pub fn parse_ipv4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split(|&c| c == b'.');
    for o in out.iter_mut() {
        *o = u8::try_from(parse_dec(parts.next()?, 3, 255)?).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Parses one `NODE@A.B.C.D:PORT` entry starting at byte `base` of the whole string.
pub fn parse_peer(s: &[u8], base: usize) -> Result<Peer, PeersError> {
    let err = |offset: usize, kind| PeersError {
        offset: base + offset,
        kind,
    };
    let at = s
        .iter()
        .position(|&c| c == b'@')
        .ok_or(err(0, PeersErrorKind::MissingAt))?;
    let node = parse_dec(&s[..at], 2, u32::from(MAX_NODE))
        .filter(|&n| n >= 1)
        .ok_or(err(0, PeersErrorKind::BadNode))?;
    let rest = &s[at + 1..];
    let colon = rest
        .iter()
        .rposition(|&c| c == b':')
        .ok_or(err(at + 1, PeersErrorKind::MissingPort))?;
    let addr = parse_ipv4(&rest[..colon]).ok_or(err(at + 1, PeersErrorKind::BadAddress))?;
    let port = parse_dec(&rest[colon + 1..], 5, 65535)
        .filter(|&p| p >= 1)
        .ok_or(err(at + 2 + colon, PeersErrorKind::BadPort))?;
    Ok(Peer {
        // Both conversions are bounded by the checks above.
        node: node as u8,
        addr,
        port: port as u16,
    })
}

/// Parses a whole `peers=` string. The empty string is a valid, empty list
/// (a one-node cluster). Surrounding ASCII whitespace (a trailing newline
/// from a `/proc` write) is ignored.
pub fn parse_peers(s: &[u8]) -> Result<PeerTable, PeersError> {
    if s.len() > MAX_PEERS_LEN {
        return Err(PeersError {
            offset: MAX_PEERS_LEN,
            kind: PeersErrorKind::TooLong,
        });
    }
    let trimmed = s.trim_ascii();
    let mut table = PeerTable::new();
    if trimmed.is_empty() {
        return Ok(table);
    }
    // Offsets in errors are into the string as given.
    let mut pos = s.len() - s.trim_ascii_start().len();
    for entry in trimmed.split(|&c| c == b',') {
        if entry.is_empty() {
            return Err(PeersError {
                offset: pos,
                kind: PeersErrorKind::EmptyEntry,
            });
        }
        let peer = parse_peer(entry, pos)?;
        table
            .insert(peer)
            .map_err(|kind| PeersError { offset: pos, kind })?;
        pos += entry.len() + 1;
    }
    Ok(table)
}

/// A connection that has not completed the handshake this long after it
/// was accepted or dialled is closed, however it trickles bytes in.
pub const HANDSHAKE_DEADLINE_MS: u64 = 5000;

/// Accepted connections that have not authenticated yet, at most. Each
/// costs a thread and a receive buffer; dials to peers are not counted.
pub const MAX_UNAUTH: usize = 32;

/// Of those, at most this many from one source address, so that one host
/// cannot take the whole [`MAX_UNAUTH`] (a real peer needs one at a time).
pub const MAX_UNAUTH_PER_SOURCE: usize = 4;

/// Bytes queued to send on one connection before senders wait (or a
/// non-waiting send is refused).
pub const TXQ_MAX_BYTES: usize = 4 << 20;

/// Messages queued to send on one connection, at most (bounds the queue of
/// small messages that the byte limit would let pile up).
pub const TXQ_MAX_ITEMS: usize = 4096;

/// Requests waiting for a response on one connection, at most.
pub const MAX_PENDING: usize = 256;

/// Which way a connection was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnDir {
    /// This node dialled a peer (at most one attempt per node at a time).
    Dialled,
    /// A connection someone made to this node's port.
    Accepted,
}

/// Why an accepted connection is closed before its handshake starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdmitError {
    /// [`MAX_UNAUTH`] accepted connections are handshaking already.
    TooManyUnauth,
    /// [`MAX_UNAUTH_PER_SOURCE`] of them come from that address already.
    TooManyFromSource,
}

impl AdmitError {
    /// A short description for log lines and counters.
    pub fn as_str(&self) -> &'static str {
        match self {
            AdmitError::TooManyUnauth => "too many unauthenticated connections",
            AdmitError::TooManyFromSource => {
                "too many unauthenticated connections from one address"
            }
        }
    }
}

/// Whether a new connection may start its handshake, given `unauth`
/// accepted connections not yet authenticated, `from_source` of them from
/// the new connection's address. Dials always may: they are bounded by one
/// attempt per node, and a flood of accepted connections must never keep
/// this node from reaching its peers.
pub fn admit_conn(dir: ConnDir, unauth: usize, from_source: usize) -> Result<(), AdmitError> {
    if dir == ConnDir::Dialled {
        return Ok(());
    }
    if unauth >= MAX_UNAUTH {
        return Err(AdmitError::TooManyUnauth);
    }
    if from_source >= MAX_UNAUTH_PER_SOURCE {
        return Err(AdmitError::TooManyFromSource);
    }
    Ok(())
}

/// Whether a connection started at `started_ms` and still not
/// authenticated at `now_ms` has run out of [`HANDSHAKE_DEADLINE_MS`]. A
/// clock that went backwards never expires anything.
pub fn handshake_expired(started_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(started_ms) >= HANDSHAKE_DEADLINE_MS
}

/// What to do with a node number claimed in a handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Go on (before the proof), or make it the node's connection (after).
    Accept,
    /// The node is up from the same address: a restart not noticed yet,
    /// or both ends dialling; refuse quietly, it retries.
    AlreadyUp,
    /// Another node holding the key claims a number that is up from a
    /// different address, or this node's own number: two nodes configured
    /// with one number. Refuse and report it.
    Duplicate,
}

/// Judges a claim of node number `claimed` by a peer at address `from`
/// (host order), on node `me`, where `up_from` is the address of the
/// claimed node's live connection if it is up. Before the peer proved it
/// holds the key (`proved == false`) only what needs no proof is decided:
/// a claim that would be a duplicate goes on to the proof, so that only
/// key holders can cause a duplicate report.
pub fn judge_claim(me: u8, claimed: u8, from: u32, up_from: Option<u32>, proved: bool) -> Claim {
    let verdict = if claimed == me {
        Claim::Duplicate
    } else {
        match up_from {
            None => Claim::Accept,
            Some(a) if a == from => Claim::AlreadyUp,
            Some(_) => Claim::Duplicate,
        }
    };
    if verdict == Claim::Duplicate && !proved {
        Claim::Accept
    } else {
        verdict
    }
}

/// Whether a message of `len` bytes may join a send queue holding
/// `items` messages of `bytes` bytes. An empty queue takes any one message
/// (it is bounded by the frame size), so a large message is never stuck.
pub fn txq_admit(bytes: usize, items: usize, len: usize) -> bool {
    if items == 0 {
        return true;
    }
    items < TXQ_MAX_ITEMS && bytes.saturating_add(len) <= TXQ_MAX_BYTES
}

/// Whether one more request may wait for a response on a connection with
/// `pending` waiting already.
pub fn pending_admit(pending: usize) -> bool {
    pending < MAX_PENDING
}
