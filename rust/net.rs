// SPDX-License-Identifier: GPL-2.0

//! Kernel TCP sockets (IPv4).
//!
//! A [`Socket`] owns a `struct socket` and releases it on drop. Shutting it
//! down ([`Socket::shutdown`]) is allowed from any thread at any time and
//! wakes every thread blocked in it, which is how vproc stops its threads.

use super::shim;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Converts a shim return value (>= 0 or -errno) into a `Result`.
fn check(ret: c_long) -> Result<usize> {
    if ret < 0 {
        Err(Error::from_errno(ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// An owned kernel socket.
pub(crate) struct Socket {
    /// INVARIANT: a live socket from the shim, released only in `drop`.
    sock: NonNull<shim::socket>,
}

// SAFETY: kernel sockets may be used from any thread; the socket layer
// serialises concurrent senders and receivers internally.
unsafe impl Send for Socket {}
// SAFETY: as above: every method takes `&self` and is safe to call
// concurrently (one receiver thread, senders serialised by the caller).
unsafe impl Sync for Socket {}

impl Socket {
    fn from_out(ret: c_int, out: *mut shim::socket) -> Result<Self> {
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(Self {
            sock: NonNull::new(out).ok_or(EINVAL)?,
        })
    }

    /// A socket listening on 0.0.0.0:`port`.
    pub(crate) fn listen(port: u16) -> Result<Self> {
        let mut out = core::ptr::null_mut();
        // SAFETY: `out` is valid for writes.
        let ret = unsafe { shim::vproc_shim_tcp_listen(port, &mut out) };
        Self::from_out(ret, out)
    }

    /// Waits for and returns the next connection.
    pub(crate) fn accept(&self) -> Result<Self> {
        let mut out = core::ptr::null_mut();
        // SAFETY: `self.sock` is live (invariant); `out` is valid for writes.
        let ret = unsafe { shim::vproc_shim_tcp_accept(self.sock.as_ptr(), &mut out) };
        let s = Self::from_out(ret, out)?;
        // SAFETY: `s.sock` is live.
        unsafe { shim::vproc_shim_tcp_tune(s.sock.as_ptr()) };
        Ok(s)
    }

    /// Connects to `addr:port` (host order) within `timeout_ms`.
    pub(crate) fn connect(addr: u32, port: u16, timeout_ms: u32) -> Result<Self> {
        let mut out = core::ptr::null_mut();
        // SAFETY: `out` is valid for writes.
        let ret = unsafe { shim::vproc_shim_tcp_connect(addr, port, timeout_ms, &mut out) };
        Self::from_out(ret, out)
    }

    /// Receive and send timeouts in ms; 0 blocks forever.
    pub(crate) fn set_timeouts(&self, rcv_ms: u32, snd_ms: u32) {
        // SAFETY: `self.sock` is live.
        unsafe { shim::vproc_shim_sock_set_timeouts(self.sock.as_ptr(), rcv_ms, snd_ms) };
    }

    /// Calls a shim send function on `parts` (at most 4 slices).
    fn send_with(
        &self,
        parts: &[&[u8]],
        f: unsafe extern "C" fn(
            *mut shim::socket,
            *const *const c_void,
            *const usize,
            c_uint,
        ) -> c_long,
    ) -> Result<usize> {
        let mut ptrs = [core::ptr::null::<c_void>(); 4];
        let mut lens = [0usize; 4];
        if parts.len() > ptrs.len() {
            return Err(EINVAL);
        }
        for (i, p) in parts.iter().enumerate() {
            ptrs[i] = p.as_ptr().cast();
            lens[i] = p.len();
        }
        // SAFETY: `self.sock` is live; the arrays describe `parts.len()`
        // live slices.
        check(unsafe {
            f(
                self.sock.as_ptr(),
                ptrs.as_ptr(),
                lens.as_ptr(),
                parts.len() as u32,
            )
        })
    }

    /// Sends all of `parts`, in order, as one stream write.
    pub(crate) fn send_parts(&self, parts: &[&[u8]]) -> Result {
        self.send_with(parts, shim::vproc_shim_sock_sendv)
            .map(|_| ())
    }

    /// Sends as much of `parts` as fits without waiting; returns the byte
    /// count sent (0 when the socket buffer is full).
    pub(crate) fn send_parts_nowait(&self, parts: &[&[u8]]) -> Result<usize> {
        self.send_with(parts, shim::vproc_shim_sock_sendv_nowait)
    }

    /// Sends `parts`, in order, waiting for buffer space, from a caller a
    /// signal may interrupt: the bytes sent, fewer than all (even none)
    /// when a signal stopped it, or when the send timeout or an error did
    /// after some were sent; that error when none was.
    pub(crate) fn send_parts_some(&self, parts: &[&[u8]]) -> Result<usize> {
        self.send_with(parts, shim::vproc_shim_sock_sendv_some)
    }

    /// Fills `buf` completely; `EPIPE` if the peer closed first.
    pub(crate) fn recv_exact(&self, buf: &mut [u8]) -> Result {
        if buf.is_empty() {
            return Ok(());
        }
        // SAFETY: `self.sock` is live; `buf` is valid for `buf.len()` writes.
        let ret = unsafe {
            shim::vproc_shim_sock_recv(self.sock.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        if check(ret)? == buf.len() {
            Ok(())
        } else {
            Err(EPIPE)
        }
    }

    /// The peer's IPv4 address (host order) and port.
    pub(crate) fn peer(&self) -> Result<(u32, u16)> {
        let (mut addr, mut port) = (0u32, 0u16);
        // SAFETY: `self.sock` is live; both out-pointers are valid.
        let ret = unsafe { shim::vproc_shim_sock_peer(self.sock.as_ptr(), &mut addr, &mut port) };
        check(ret as c_long).map(|_| (addr, port))
    }

    /// Shuts both directions down, waking any blocked thread.
    pub(crate) fn shutdown(&self) {
        // SAFETY: `self.sock` is live.
        unsafe { shim::vproc_shim_sock_shutdown(self.sock.as_ptr()) };
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, released only here.
        unsafe { shim::vproc_shim_sock_release(self.sock.as_ptr()) };
    }
}
