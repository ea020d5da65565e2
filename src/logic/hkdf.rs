// SPDX-License-Identifier: GPL-2.0

//! HKDF-SHA256 (RFC 5869): extract and expand, over the [`Hmac`] the caller
//! supplies (the kernel's lib/crypto in the module, RustCrypto on the host),
//! so the host crate tests exactly the code the kernel runs.
//!
//! Two limits come from [`Hmac`], which takes 32-byte keys and at most 8
//! message parts (the kernel's adapter): a salt is at most 32 bytes, and
//! `info` is at most [`MAX_INFO_PARTS`] slices. A salt shorter than 32 bytes
//! is zero-padded, which is exact: HMAC pads every key shorter than its
//! 64-byte block with zeros, so the padded key is the same HMAC key (RFC
//! 5869's empty salt, "a string of HashLen zeros", is the all-zero key).
//! Its own intermediate blocks are wiped; the caller owns (and wipes) the
//! keys it passes and gets (see `logic::key`).

use super::wire::Hmac;

/// SHA-256's output length, HKDF's HashLen.
pub const HASH_LEN: usize = 32;
/// Most output one expand produces (RFC 5869: 255 * HashLen).
pub const MAX_OKM: usize = 255 * HASH_LEN;
/// Most slices `info` may be given as (with the previous block and the
/// counter they make the 8 parts an [`Hmac`] takes).
pub const MAX_INFO_PARTS: usize = 6;

/// Why HKDF refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HkdfError {
    /// The salt is longer than 32 bytes.
    SaltTooLong,
    /// More than [`MAX_OKM`] bytes were asked for.
    OutputTooLong,
    /// `info` has more than [`MAX_INFO_PARTS`] slices.
    TooManyInfoParts,
}

/// HKDF-Extract(salt, IKM): the pseudorandom key.
pub fn extract(h: &impl Hmac, salt: &[u8], ikm: &[u8]) -> Result<[u8; HASH_LEN], HkdfError> {
    let mut key = [0u8; HASH_LEN];
    key.get_mut(..salt.len())
        .ok_or(HkdfError::SaltTooLong)?
        .copy_from_slice(salt);
    Ok(extract32(h, &key, ikm))
}

/// HKDF-Extract with a salt of exactly HashLen bytes (cannot fail).
pub fn extract32(h: &impl Hmac, salt: &[u8; HASH_LEN], ikm: &[u8]) -> [u8; HASH_LEN] {
    h.hmac(salt, &[ikm])
}

/// HKDF-Expand(PRK, info, L) into `out` (L = `out.len()`); `info` is the
/// concatenation of its slices.
pub fn expand(
    h: &impl Hmac,
    prk: &[u8; HASH_LEN],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<(), HkdfError> {
    if out.len() > MAX_OKM {
        return Err(HkdfError::OutputTooLong);
    }
    if info.len() > MAX_INFO_PARTS {
        return Err(HkdfError::TooManyInfoParts);
    }
    // T(0) is empty; T(i) = HMAC(PRK, T(i-1) || info || i).
    let mut t = [0u8; HASH_LEN];
    for (i, chunk) in out.chunks_mut(HASH_LEN).enumerate() {
        // At most 255 chunks (checked above): the counter fits in a byte.
        let counter = [(i + 1) as u8];
        let mut parts: [&[u8]; MAX_INFO_PARTS + 2] = [&[]; MAX_INFO_PARTS + 2];
        let mut n = 0;
        if i > 0 {
            parts[0] = &t;
            n = 1;
        }
        parts[n..n + info.len()].copy_from_slice(info);
        n += info.len();
        parts[n] = &counter;
        let next = h.hmac(prk, &parts[..n + 1]);
        t = next;
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
    super::key::wipe(&mut t);
    Ok(())
}

/// HKDF-Expand to exactly one 32-byte key (one HMAC).
pub fn expand_key(h: &impl Hmac, prk: &[u8; HASH_LEN], info: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut parts: [&[u8]; MAX_INFO_PARTS + 1] = [&[]; MAX_INFO_PARTS + 1];
    // Callers in this crate pass fixed, short `info`; anything longer is
    // cut rather than allowed to panic (and would show in the host tests).
    let n = info.len().min(MAX_INFO_PARTS);
    parts[..n].copy_from_slice(&info[..n]);
    parts[n] = &[1];
    h.hmac(prk, &parts[..n + 1])
}
