// SPDX-License-Identifier: GPL-2.0

//! The transport bench and the CPU speed figure: round trips and bulk
//! streams to a peer (`/proc/cluster/admin/bench`), and the speed this node
//! advertises in its load vector, measured once at start.
//!
//! Must not touch: connections' internals beyond queueing frames, or any
//! state: a bench only measures.

use super::{Transport, NSEC_PER_MSEC};
use crate::logic::wire::{MsgType, MAX_PAYLOAD};
use crate::sys::time::now_ns;
use kernel::prelude::*;

/// Measures a CPU speed figure: iterations of a fixed integer loop per ms.
pub(super) fn measure_speed() -> u32 {
    let start = now_ns();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut iters: u64 = 0;
    while now_ns().wrapping_sub(start) < 10 * NSEC_PER_MSEC {
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        iters += 1000;
        core::hint::black_box(x);
    }
    let ms = (now_ns().wrapping_sub(start) / NSEC_PER_MSEC).max(1);
    u32::try_from(iters / ms).unwrap_or(u32::MAX)
}

impl Transport {
    /// Round trip to `node` with `len` payload bytes: the RTT in ns and the
    /// number of `Data` bytes the node has received on this connection
    /// (the echo travels behind all data sent before it).
    pub(crate) fn ping(&self, node: u8, len: usize, timeout_ms: u32) -> Result<(u64, u64)> {
        let len = len.clamp(8, MAX_PAYLOAD);
        let start = now_ns();
        let frames = self.request(node, MsgType::Echo, timeout_ms, |id| {
            let mut p = KVec::with_capacity(len, GFP_KERNEL)?;
            p.extend_from_slice(&id.to_le_bytes(), GFP_KERNEL)?;
            p.resize(len, 0, GFP_KERNEL)?;
            Ok(p)
        })?;
        let rtt = now_ns().wrapping_sub(start);
        let r = frames.first().filter(|f| f.len() == 16).ok_or(EPROTO)?;
        let rx = u64::from_le_bytes(r[8..16].try_into().map_err(|_| EPROTO)?);
        Ok((rtt, rx))
    }

    /// Streams `bytes` of data to `node` in `MAX_PAYLOAD` frames sent
    /// from one buffer, as a bulk sender does (`send_direct`; the userspace
    /// bench writes one buffer again too), then pings behind it. Returns
    /// (ns until the node confirmed it all, bytes it confirmed on this
    /// connection).
    pub(crate) fn stream(&self, node: u8, bytes: u64) -> Result<(u64, u64)> {
        let conn = self.active_conn(node)?;
        let mut buf = KVec::with_capacity(MAX_PAYLOAD, GFP_KERNEL)?;
        buf.resize(MAX_PAYLOAD, 0x5a, GFP_KERNEL)?;
        let start = now_ns();
        let mut left = bytes;
        while left > 0 {
            let n = left.min(MAX_PAYLOAD as u64) as usize;
            conn.send_direct(MsgType::Data, &buf[..n])?;
            left -= n as u64;
        }
        let (_, rx) = self.ping(node, 8, 30_000)?;
        Ok((now_ns().wrapping_sub(start), rx))
    }
}
