// SPDX-License-Identifier: GPL-2.0

//! A fixed-capacity text buffer implementing `core::fmt::Write`, for
//! formatting without allocation (e.g. under a spinlock). Output that does
//! not fit is cut off, never an error.

use core::fmt;

/// `N` bytes of formatted text.
#[derive(Clone, Copy)]
pub struct FmtBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for FmtBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FmtBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// The text so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether output was cut off (the buffer is full).
    pub fn is_full(&self) -> bool {
        self.len == N
    }
}

impl<const N: usize> fmt::Write for FmtBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
