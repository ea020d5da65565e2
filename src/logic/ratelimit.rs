// SPDX-License-Identifier: GPL-2.0

//! Rate limits for the log lines a user can cause (a refused write to
//! /proc/<pid>/goto, a refused netlink command or kill, a move that fails
//! for a reason the process's owner chose): a burst of [`BURST`] lines,
//! then one per [`INTERVAL_MS`], as `printk_ratelimited()` limits a line,
//! so that no user can flood the kernel log.
//!
//! [`admit`] is the decision (the generic cell rate algorithm over a
//! millisecond clock the caller reads); [`RateLimit`] keeps its state in
//! one atomic word, so a limited line can be logged from any context,
//! atomic ones included, without a lock.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Lines logged at once before the limit applies.
pub const BURST: u64 = 10;
/// Then one line per this many milliseconds.
pub const INTERVAL_MS: u64 = 5000;

/// Whether a line at `now` (ms) passes when the next line was due at
/// `tat` (its "theoretical arrival time"): `Some(new tat)` if it does.
/// A line passes while it is at most `burst - 1` intervals early; every
/// line that passes pushes the due time one interval further.
pub fn admit(tat: u64, now: u64, interval: u64, burst: u64) -> Option<u64> {
    let tat = tat.max(now);
    let tolerance = interval.saturating_mul(burst.saturating_sub(1));
    if tat - now > tolerance {
        None
    } else {
        Some(tat.saturating_add(interval))
    }
}

/// The state of one rate-limited log line (a `static` per call site).
pub struct RateLimit {
    /// When the next line is due (ms), as [`admit`] keeps it.
    tat: AtomicU64,
    /// Lines dropped since the last one that passed.
    missed: AtomicU32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimit {
    /// A limit that lets the first [`BURST`] lines pass.
    pub const fn new() -> Self {
        Self {
            tat: AtomicU64::new(0),
            missed: AtomicU32::new(0),
        }
    }

    /// Whether a line may be logged at `now_ms`: `Some(n)` with the number
    /// of lines dropped before it (to say so), `None` to drop this one.
    pub fn check(&self, now_ms: u64) -> Option<u32> {
        let mut cur = self.tat.load(Ordering::Relaxed);
        loop {
            let Some(next) = admit(cur, now_ms, INTERVAL_MS, BURST) else {
                // Saturates rather than wrapping back to "nothing dropped".
                let _ = self
                    .missed
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| {
                        Some(m.saturating_add(1))
                    });
                return None;
            };
            match self
                .tat
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(self.missed.swap(0, Ordering::Relaxed)),
                Err(now_there) => cur = now_there,
            }
        }
    }
}
