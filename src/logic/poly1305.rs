// SPDX-License-Identifier: GPL-2.0

//! Poly1305 (RFC 8439, section 2.5): the one-time authenticator the
//! transport puts on every session frame (`wire::frame_mac`).
//!
//! Poly1305 is secure only when each 32-byte key authenticates one message:
//! the transport derives a fresh key for every frame from the connection's
//! per-direction session key and the frame's sequence number, which never
//! repeats on a connection. Under QEMU's TCG it runs several times faster
//! than HMAC-SHA256 (a handful of 64x64-bit multiplies per 16 bytes), which
//! is why the transport uses it for bulk data.
//!
//! The arithmetic is the base 2^64 form of OpenSSL's and the kernel's
//! scalar x86-64 code: the 130-bit accumulator in two 64-bit words and a
//! small third, four 64x64->128-bit and two 64-bit multiplies per block
//! (the clamp keeps r1's low 2 bits clear, so 5/4 r1 is exact). Every step
//! is wrapping or bounded, so no input panics; the final reduction is
//! constant-time (no branch on secret data).

/// Size of a Poly1305 key (r || s).
pub const KEY_LEN: usize = 32;
/// Size of a Poly1305 tag.
pub const TAG_LEN: usize = 16;

/// A Poly1305 computation in progress: feed it with [`Poly1305::update`],
/// then take the tag with [`Poly1305::finish`].
pub struct Poly1305 {
    r0: u64,
    r1: u64,
    /// r1 + r1 / 4: multiplies what wraps around 2^130 (= 5 mod p).
    s1: u64,
    h0: u64,
    h1: u64,
    h2: u64,
    pad: [u64; 2],
    buf: [u8; 16],
    buf_len: usize,
}

use super::wire::le_u64;

impl Poly1305 {
    /// Starts with a one-time `key`: r (clamped as the RFC says) || s.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let r0 = le_u64(key, 0) & 0x0fff_fffc_0fff_ffff;
        let r1 = le_u64(key, 8) & 0x0fff_fffc_0fff_fffc;
        Self {
            r0,
            r1,
            s1: r1 + (r1 >> 2),
            h0: 0,
            h1: 0,
            h2: 0,
            pad: [le_u64(key, 16), le_u64(key, 24)],
            buf: [0; 16],
            buf_len: 0,
        }
    }

    /// Absorbs whole 16-byte blocks (`data.len()` a multiple of 16; a
    /// shorter tail is ignored); `padbit` is 1 (2^128) for full blocks, 0
    /// for the padded last one. The accumulator stays in locals for the
    /// whole run: this loop is the transport's cost per byte. (Unrolled
    /// four times it ran 25 % slower under TCG: measured, reverted.)
    fn blocks(&mut self, data: &[u8], padbit: u64) {
        let k = (self.r0, self.r1, self.s1);
        let mut h = (self.h0, self.h1, self.h2);
        for b in data.chunks_exact(16) {
            block(&mut h, b, padbit, k);
        }
        (self.h0, self.h1, self.h2) = h;
    }

    /// Absorbs `data` (any length, in as many calls as wanted).
    pub fn update(&mut self, mut data: &[u8]) {
        if self.buf_len > 0 {
            let take = (16 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 16 {
                return;
            }
            let b = self.buf;
            self.blocks(&b, 1);
            self.buf_len = 0;
        }
        let whole = data.len() & !15;
        self.blocks(&data[..whole], 1);
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// The tag: (h mod p) + s, mod 2^128.
    pub fn finish(mut self) -> [u8; TAG_LEN] {
        if self.buf_len > 0 {
            let mut b = [0u8; 16];
            b[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
            b[self.buf_len] = 1;
            self.blocks(&b, 0);
        }
        let (h0, h1, h2) = (self.h0, self.h1, self.h2);
        // g = h + 5: if it reaches 2^130, h >= p and h - p = g - 2^130.
        let t = u128::from(h0) + 5;
        let g0 = t as u64;
        let t = u128::from(h1) + (t >> 64);
        let g1 = t as u64;
        let g2 = h2.wrapping_add((t >> 64) as u64);
        let take_g = 0u64.wrapping_sub(g2 >> 2);
        let h0 = (h0 & !take_g) | (g0 & take_g);
        let h1 = (h1 & !take_g) | (g1 & take_g);
        // + s, mod 2^128.
        let t = u128::from(h0) + u128::from(self.pad[0]);
        let lo = t as u64;
        let hi = h1.wrapping_add((t >> 64) as u64).wrapping_add(self.pad[1]);
        let mut out = [0u8; TAG_LEN];
        out[..8].copy_from_slice(&lo.to_le_bytes());
        out[8..].copy_from_slice(&hi.to_le_bytes());
        out
    }
}

/// One block `b` (16 bytes) into the accumulator `h`: h = (h + b) * r,
/// partly reduced (h2 stays small); `k` is (r0, r1, s1).
#[inline(always)]
fn block(h: &mut (u64, u64, u64), b: &[u8], padbit: u64, k: (u64, u64, u64)) {
    let (r0, r1, s1) = k;
    let (mut h0, mut h1, mut h2) = *h;
    let m = |a: u64, b: u64| u128::from(a) * u128::from(b);
    // Indexed, not `le_u64`'s slice copy: this is the per-byte loop.
    let t0 = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let t1 = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
    // h += b
    let d0 = u128::from(h0) + u128::from(t0);
    h0 = d0 as u64;
    let d1 = u128::from(h1) + (d0 >> 64) + u128::from(t1);
    h1 = d1 as u64;
    h2 = h2.wrapping_add((d1 >> 64) as u64).wrapping_add(padbit);
    // h *= r
    let d0 = m(h0, r0).wrapping_add(m(h1, s1));
    let d1 = m(h0, r1)
        .wrapping_add(m(h1, r0))
        .wrapping_add(u128::from(h2.wrapping_mul(s1)));
    h2 = h2.wrapping_mul(r0);
    h0 = d0 as u64;
    let d1 = d1.wrapping_add(d0 >> 64);
    h1 = d1 as u64;
    h2 = h2.wrapping_add((d1 >> 64) as u64);
    // Fold what is above 2^130 back in, times 5.
    let c = (h2 >> 2).wrapping_add(h2 & !3);
    h2 &= 3;
    let (n0, c0) = h0.overflowing_add(c);
    let (n1, c1) = h1.overflowing_add(u64::from(c0));
    *h = (n0, n1, h2.wrapping_add(u64::from(c1)));
}

/// The tag of the concatenation of `parts` under the one-time `key`.
pub fn tag(key: &[u8; KEY_LEN], parts: &[&[u8]]) -> [u8; TAG_LEN] {
    let mut p = Poly1305::new(key);
    for part in parts {
        p.update(part);
    }
    p.finish()
}
