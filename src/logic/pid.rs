// SPDX-License-Identifier: GPL-2.0

//! Cluster-wide PID arithmetic and the syntax of the per-process files.
//!
//! Node `n` (1..=63) allocates PIDs from `[n << 16, (n + 1) << 16)`; with
//! PID_MAX_LIMIT = 4,194,304 = 64 << 16 that is the whole PID space above
//! 65535. PIDs below 65536 are node-local: processes born before the node
//! joined the cluster (init, kernel threads, early daemons). They are shown
//! only on their own node and never migrate, so every node may have its
//! own PID 1.

use super::peers::MAX_NODE;

/// Bits of a PID below the node number.
pub const NODE_SHIFT: u32 = 16;

/// The first PID of node `node`'s share, and one past its last.
pub fn range(node: u8) -> Option<(u32, u32)> {
    if node == 0 || node > MAX_NODE {
        return None;
    }
    let lo = u32::from(node) << NODE_SHIFT;
    Some((lo, lo + (1 << NODE_SHIFT)))
}

/// The node whose share `pid` belongs to: where the process was born.
/// `None` for node-local PIDs (below 65536) and out-of-range values.
pub fn origin(pid: u32) -> Option<u8> {
    let n = pid >> NODE_SHIFT;
    if n == 0 || n > u32::from(MAX_NODE) {
        None
    } else {
        Some(n as u8)
    }
}

/// Whether `pid` is a cluster-wide PID (it names one process in the cluster).
pub fn is_cluster_pid(pid: u32) -> bool {
    origin(pid).is_some()
}

/// Why a write to a per-process file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError {
    /// Empty, not a number, or trailing garbage.
    NotANumber,
    /// A number outside what the file accepts.
    OutOfRange,
}

/// Parses an optionally signed decimal integer, allowing surrounding ASCII
/// whitespace (a trailing newline from `echo`).
fn parse_int(buf: &[u8]) -> Result<i64, InputError> {
    let s = buf.trim_ascii();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 9 {
        return Err(InputError::NotANumber);
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(InputError::NotANumber);
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Ok(if neg { -v } else { v })
}

/// Parses a 0/1 switch (`loadlevel`, `lock`).
pub fn parse_switch(buf: &[u8]) -> Result<bool, InputError> {
    match parse_int(buf)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(InputError::OutOfRange),
    }
}

/// Where a `goto` write asks a process to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goto {
    /// To this node.
    Node(u8),
    /// Wherever the load balancer finds best (`-1`).
    Balance,
}

/// Parses a `goto` write: a node number 1..=63, or -1.
pub fn parse_goto(buf: &[u8]) -> Result<Goto, InputError> {
    match parse_int(buf)? {
        -1 => Ok(Goto::Balance),
        n if n >= 1 && n <= i64::from(MAX_NODE) => Ok(Goto::Node(n as u8)),
        _ => Err(InputError::OutOfRange),
    }
}
