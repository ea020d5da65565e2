// SPDX-License-Identifier: GPL-2.0

//! The cluster key: its text format, the per-cluster salt, and the HKDF
//! derivation of every key the transport uses from it.
//!
//! **Format.** A key is 32 to 128 hex digits (upper or lower case), an even
//! count: 128 to 512 bits. Fewer than 32 digits is refused, so no cluster
//! runs on a guessable password; `cluster key new` prints 64 digits from
//! the system's random source. The digits are decoded to bytes, the secret.
//!
//! **Salt.** HKDF's salt is public and should be the same on every node of
//! one cluster and differ between clusters. The only thing besides the key
//! that every node of one cluster is given is its configuration, so the
//! salt comes from the `cluster=` module parameter, a name (default
//! [`DEFAULT_CLUSTER`]): `salt = HMAC-SHA256("vproc-v1 cluster salt", name)`.
//! Two clusters that reuse a key (a test cluster loaded with production's
//! key file, say) but carry different names derive unrelated keys: their
//! nodes cannot join each other, and nothing recorded in one is worth
//! anything in the other. The peer list would not do: it differs between
//! nodes while one is hot-added.
//!
//! **Derivation** (RFC 5869, see `logic::hkdf`):
//!
//! ```text
//!   PRK         = HKDF-Extract(salt, secret)          the cluster key kept
//!   frame key   = HKDF-Expand(PRK, "vproc-v1 handshake frames", 32)
//!   proofs, session keys
//!               = HKDF-Expand(PRK, label || initiator || acceptor
//!                                  || nonce_i || nonce_a, 32)
//! ```
//!
//! with one label per use ([`LABEL_ACCEPTOR_PROOF`], [`LABEL_INITIATOR_PROOF`],
//! [`LABEL_I2A`], [`LABEL_A2I`]). Labels of one length differ in their
//! bytes, and the frame key's info is shorter than any other, so no two uses
//! share an `info`. The secret itself only ever enters HKDF-Extract; a proof
//! or a MAC is never an HMAC keyed by the secret.
//!
//! Secrets are wiped when dropped ([`Secret`], [`ClusterKey`]) with
//! [`wipe`]: this file may not use `unsafe`, so the stores are kept by
//! handing the buffer to `black_box` and a compiler fence rather than by
//! volatile writes; the module wipes what C holds with memzero_explicit.

use super::hkdf;
use super::wire::Hmac;
use core::fmt;

/// Fewest hex digits a key may have (128 bits).
pub const MIN_KEY_DIGITS: usize = 32;
/// Most hex digits a key may have (512 bits).
pub const MAX_KEY_DIGITS: usize = 128;
/// Most bytes a decoded key has.
pub const MAX_KEY_BYTES: usize = MAX_KEY_DIGITS / 2;
/// The cluster name when `cluster=` is not given.
pub const DEFAULT_CLUSTER: &[u8] = b"vproc";
/// Longest cluster name.
pub const MAX_CLUSTER_NAME: usize = 32;

/// HMAC key of the salt derivation (zero-padded to 32 bytes, the same HMAC
/// key as the label itself).
pub const LABEL_SALT: &[u8] = b"vproc-v1 cluster salt";
/// `info` of the key that MACs the handshake frames.
pub const LABEL_FRAMES: &[u8] = b"vproc-v1 handshake frames";
/// `info` label of the acceptor's proof (HelloAck).
pub const LABEL_ACCEPTOR_PROOF: &[u8] = b"vproc-v1 acceptor proof";
/// `info` label of the initiator's proof (Auth).
pub const LABEL_INITIATOR_PROOF: &[u8] = b"vproc-v1 initiator proof";
/// `info` label of the initiator -> acceptor session key.
pub const LABEL_I2A: &[u8] = b"vproc-v1 session key i2a";
/// `info` label of the acceptor -> initiator session key.
pub const LABEL_A2I: &[u8] = b"vproc-v1 session key a2i";

/// Overwrites `buf` with zeros in a way the compiler may not drop as a
/// dead store (the buffer escapes to `black_box` afterwards).
pub fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    core::hint::black_box(&mut *buf);
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// Why a key was refused. The messages never contain the key's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No digits at all.
    Empty,
    /// Fewer than [`MIN_KEY_DIGITS`] digits (how many there were).
    TooShort(usize),
    /// More than [`MAX_KEY_DIGITS`] digits (how many there were).
    TooLong(usize),
    /// An odd number of digits.
    OddLength(usize),
    /// Not a hex digit at this offset.
    NotHex(usize),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KeyError::Empty => write!(f, "empty"),
            KeyError::TooShort(n) => write!(
                f,
                "too short: {n} hex digits, at least {MIN_KEY_DIGITS} (128 bits) needed"
            ),
            KeyError::TooLong(n) => {
                write!(f, "too long: {n} hex digits, at most {MAX_KEY_DIGITS}")
            }
            KeyError::OddLength(n) => write!(f, "odd number of hex digits ({n})"),
            KeyError::NotHex(at) => write!(f, "not a hex digit at offset {at}"),
        }
    }
}

/// A decoded key: the secret HKDF extracts from. Wiped when dropped.
pub struct Secret {
    bytes: [u8; MAX_KEY_BYTES],
    len: usize,
}

impl Secret {
    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses a key in the format above. Lengths are checked before the digits,
/// so a short key is reported as short whatever it holds.
pub fn parse_key(text: &[u8]) -> Result<Secret, KeyError> {
    let n = text.len();
    if n == 0 {
        return Err(KeyError::Empty);
    }
    if n < MIN_KEY_DIGITS {
        return Err(KeyError::TooShort(n));
    }
    if n > MAX_KEY_DIGITS {
        return Err(KeyError::TooLong(n));
    }
    if !n.is_multiple_of(2) {
        return Err(KeyError::OddLength(n));
    }
    let mut s = Secret {
        bytes: [0; MAX_KEY_BYTES],
        len: n / 2,
    };
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or(KeyError::NotHex(2 * i))?;
        let lo = hex_value(pair[1]).ok_or(KeyError::NotHex(2 * i + 1))?;
        s.bytes[i] = (hi << 4) | lo;
    }
    Ok(s)
}

/// Why a cluster name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Longer than [`MAX_CLUSTER_NAME`] bytes.
    TooLong(usize),
    /// A byte other than `A-Z a-z 0-9 . _ -` at this offset.
    BadChar(usize),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NameError::TooLong(n) => {
                write!(f, "{n} bytes long, at most {MAX_CLUSTER_NAME}")
            }
            NameError::BadChar(at) => write!(
                f,
                "character at offset {at} is not a letter, digit, '.', '_' or '-'"
            ),
        }
    }
}

/// The cluster name `cluster=` gives: [`DEFAULT_CLUSTER`] when empty.
pub fn cluster_name(param: &[u8]) -> Result<&[u8], NameError> {
    if param.is_empty() {
        return Ok(DEFAULT_CLUSTER);
    }
    if param.len() > MAX_CLUSTER_NAME {
        return Err(NameError::TooLong(param.len()));
    }
    match param
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')))
    {
        Some(at) => Err(NameError::BadChar(at)),
        None => Ok(param),
    }
}

/// The HKDF salt of the cluster called `name`.
pub fn cluster_salt(h: &impl Hmac, name: &[u8]) -> [u8; hkdf::HASH_LEN] {
    let mut label = [0u8; hkdf::HASH_LEN];
    label[..LABEL_SALT.len()].copy_from_slice(LABEL_SALT);
    h.hmac(&label, &[name])
}

/// The cluster key as kept in memory: HKDF's pseudorandom key. Wiped when
/// dropped; cloned only into short-lived handshake state.
#[derive(Clone)]
pub struct ClusterKey {
    prk: [u8; hkdf::HASH_LEN],
}

impl ClusterKey {
    /// Derives the key of cluster `name` from `secret`.
    pub fn derive(h: &impl Hmac, name: &[u8], secret: &Secret) -> Self {
        let mut salt = cluster_salt(h, name);
        let prk = hkdf::extract32(h, &salt, secret.as_bytes());
        wipe(&mut salt);
        Self { prk }
    }

    /// The key that MACs the handshake frames (Hello to Welcome, Refuse).
    pub fn frame_key(&self, h: &impl Hmac) -> [u8; hkdf::HASH_LEN] {
        hkdf::expand_key(h, &self.prk, &[LABEL_FRAMES])
    }

    /// HKDF-Expand with `label` followed by the handshake's facts.
    pub fn expand_for(
        &self,
        h: &impl Hmac,
        label: &[u8],
        nodes: &[u8; 2],
        nonce_i: &[u8],
        nonce_a: &[u8],
    ) -> [u8; hkdf::HASH_LEN] {
        hkdf::expand_key(h, &self.prk, &[label, nodes, nonce_i, nonce_a])
    }
}

impl Drop for ClusterKey {
    fn drop(&mut self) {
        wipe(&mut self.prk);
    }
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}
