// SPDX-License-Identifier: GPL-2.0

//! What one node tells the others about its processes, and how a remote
//! process is rendered into the /proc files `ps` reads.
//!
//! A [`ProcInfo`] travels as a fixed 96-byte record followed by its command
//! line (at most [`CMDLINE_MAX`] bytes). Decoding checks every length
//! against the bytes present and the bounds. Rendering produces the same
//! layout as fs/proc/array.c (stat, statm, status) so that unmodified procps
//! and busybox parse it; fields a remote node does not send are 0.

use super::fmtbuf::FmtBuf;
use super::wire::{le_u32, le_u64};
use core::fmt::Write;

/// Longest command line carried (longer ones are cut).
pub const CMDLINE_MAX: usize = 256;
/// Size of the fixed part of a record.
pub const RECORD_LEN: usize = 96;

/// A process as its node describes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProcInfo {
    /// Its PID (cluster-wide).
    pub pid: u32,
    /// Its parent's PID.
    pub ppid: u32,
    /// Real and effective uid and gid.
    pub uid: u32,
    /// Effective uid.
    pub euid: u32,
    /// Real gid.
    pub gid: u32,
    /// Effective gid.
    pub egid: u32,
    /// State letter as in /proc/<pid>/stat (`R`, `S`, `D`, `T`, `Z`, ...).
    pub state: u8,
    /// Nice value.
    pub nice: i8,
    /// Threads.
    pub threads: u16,
    /// The node it runs on.
    pub node: u8,
    /// User and system CPU time, in clock ticks (USER_HZ).
    pub utime: u64,
    /// System CPU time, ticks.
    pub stime: u64,
    /// When it started, ms since the epoch (boot times differ per node).
    pub start_ms: u64,
    /// Virtual memory size, bytes.
    pub vsize: u64,
    /// Resident set, pages.
    pub rss: u64,
    /// May the load leveller move it (`/proc/<pid>/loadlevel`).
    pub loadlevel: bool,
    /// Pinned to its node (`/proc/<pid>/lock`).
    pub lock: bool,
    /// Times it migrated.
    pub nmigs: u32,
    /// Command name (NUL-padded).
    pub comm: [u8; 16],
    /// Command line, NUL-separated arguments.
    pub cmdline: [u8; CMDLINE_MAX],
    /// Bytes of `cmdline` in use.
    pub cmdline_len: u16,
}

impl Default for ProcInfo {
    fn default() -> Self {
        Self {
            pid: 0,
            ppid: 0,
            uid: 0,
            euid: 0,
            gid: 0,
            egid: 0,
            state: b'S',
            nice: 0,
            threads: 1,
            node: 0,
            utime: 0,
            stime: 0,
            start_ms: 0,
            vsize: 0,
            rss: 0,
            loadlevel: false,
            lock: false,
            nmigs: 0,
            comm: [0; 16],
            cmdline: [0; CMDLINE_MAX],
            cmdline_len: 0,
        }
    }
}

/// Why a record was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcInfoError {
    /// Fewer bytes than the record says.
    Truncated,
    /// A field out of range (cmdline length, state letter).
    BadField,
}

impl ProcInfo {
    /// The command name without padding.
    pub fn comm(&self) -> &[u8] {
        let n = self.comm.iter().position(|&c| c == 0).unwrap_or(16);
        &self.comm[..n]
    }

    /// The command line bytes.
    pub fn cmdline(&self) -> &[u8] {
        &self.cmdline[..usize::from(self.cmdline_len).min(CMDLINE_MAX)]
    }

    /// Bytes this record takes on the wire.
    pub fn encoded_len(&self) -> usize {
        RECORD_LEN + self.cmdline().len()
    }

    /// Writes the record into `out` (at least `encoded_len()` bytes);
    /// returns the length written.
    pub fn encode(&self, out: &mut [u8]) -> usize {
        let n = self.encoded_len();
        let o = &mut out[..n];
        o[0..4].copy_from_slice(&self.pid.to_le_bytes());
        o[4..8].copy_from_slice(&self.ppid.to_le_bytes());
        o[8..12].copy_from_slice(&self.uid.to_le_bytes());
        o[12..16].copy_from_slice(&self.euid.to_le_bytes());
        o[16..20].copy_from_slice(&self.gid.to_le_bytes());
        o[20..24].copy_from_slice(&self.egid.to_le_bytes());
        o[24] = self.state;
        o[25] = self.nice as u8;
        o[26..28].copy_from_slice(&self.threads.to_le_bytes());
        o[28] = self.node;
        o[29] = 0;
        o[30..32].copy_from_slice(&(self.cmdline().len() as u16).to_le_bytes());
        o[32..40].copy_from_slice(&self.utime.to_le_bytes());
        o[40..48].copy_from_slice(&self.stime.to_le_bytes());
        o[48..56].copy_from_slice(&self.start_ms.to_le_bytes());
        o[56..64].copy_from_slice(&self.vsize.to_le_bytes());
        o[64..72].copy_from_slice(&self.rss.to_le_bytes());
        o[72..88].copy_from_slice(&self.comm);
        o[88] = u8::from(self.loadlevel);
        o[89] = u8::from(self.lock);
        o[90..94].copy_from_slice(&self.nmigs.to_le_bytes());
        o[94..96].fill(0);
        o[96..n].copy_from_slice(self.cmdline());
        n
    }

    /// Reads one record from the front of `b`; returns it and its length.
    pub fn decode(b: &[u8]) -> Result<(Self, usize), ProcInfoError> {
        if b.len() < RECORD_LEN {
            return Err(ProcInfoError::Truncated);
        }
        let clen = usize::from(u16::from_le_bytes([b[30], b[31]]));
        if clen > CMDLINE_MAX {
            return Err(ProcInfoError::BadField);
        }
        if b.len() < RECORD_LEN + clen {
            return Err(ProcInfoError::Truncated);
        }
        let state = b[24];
        if !state.is_ascii_uppercase() && state != b't' {
            return Err(ProcInfoError::BadField);
        }
        if b[88] > 1 || b[89] > 1 {
            return Err(ProcInfoError::BadField);
        }
        let mut p = ProcInfo {
            pid: le_u32(b, 0),
            ppid: le_u32(b, 4),
            uid: le_u32(b, 8),
            euid: le_u32(b, 12),
            gid: le_u32(b, 16),
            egid: le_u32(b, 20),
            state,
            nice: b[25] as i8,
            threads: u16::from_le_bytes([b[26], b[27]]),
            node: b[28],
            utime: le_u64(b, 32),
            stime: le_u64(b, 40),
            start_ms: le_u64(b, 48),
            vsize: le_u64(b, 56),
            rss: le_u64(b, 64),
            loadlevel: b[88] == 1,
            lock: b[89] == 1,
            nmigs: le_u32(b, 90),
            comm: [0; 16],
            cmdline: [0; CMDLINE_MAX],
            cmdline_len: clen as u16,
        };
        p.comm.copy_from_slice(&b[72..88]);
        // The name is shown between parentheses: no NUL inside it counts.
        p.comm[15] = 0;
        p.cmdline[..clen].copy_from_slice(&b[RECORD_LEN..RECORD_LEN + clen]);
        Ok((p, RECORD_LEN + clen))
    }
}

/// The state's long name, as in /proc/<pid>/status.
fn state_name(s: u8) -> &'static str {
    match s {
        b'R' => "R (running)",
        b'S' => "S (sleeping)",
        b'D' => "D (disk sleep)",
        b'T' => "T (stopped)",
        b't' => "t (tracing stop)",
        b'X' => "X (dead)",
        b'Z' => "Z (zombie)",
        b'P' => "P (parked)",
        b'I' => "I (idle)",
        _ => "S (sleeping)",
    }
}

fn comm_str(p: &ProcInfo) -> &str {
    core::str::from_utf8(p.comm()).unwrap_or("?")
}

/// Start time in clock ticks since *this* node's boot (`boot_ms`: this
/// node's boot, ms since the epoch), as stat's field 22 wants it.
pub fn start_ticks(p: &ProcInfo, boot_ms: u64, hz: u64) -> u64 {
    p.start_ms.saturating_sub(boot_ms) * hz / 1000
}

/// /proc/<pid>/stat of a remote process.
pub fn render_stat(p: &ProcInfo, boot_ms: u64, hz: u64, out: &mut FmtBuf<512>) {
    let _ = write!(
        out,
        "{} ({}) {} {} {} {} 0 -1 4194560 0 0 0 0 {} {} 0 0 {} {} {} 0 {} {} {} 18446744073709551615",
        p.pid,
        comm_str(p),
        p.state as char,
        p.ppid,
        p.pid,
        p.pid,
        p.utime,
        p.stime,
        20 + i32::from(p.nice),
        p.nice,
        p.threads,
        start_ticks(p, boot_ms, hz),
        p.vsize,
        p.rss
    );
    // startcode .. exit_code: 27 more fields, none known remotely.
    for _ in 0..27 {
        let _ = out.write_str(" 0");
    }
    let _ = out.write_str("\n");
}

/// /proc/<pid>/statm of a remote process (pages).
pub fn render_statm(p: &ProcInfo, page_size: u64, out: &mut FmtBuf<512>) {
    let _ = writeln!(out, "{} {} 0 0 0 0 0", p.vsize / page_size.max(1), p.rss);
}

/// /proc/<pid>/status of a remote process.
pub fn render_status(p: &ProcInfo, page_size: u64, out: &mut FmtBuf<512>) {
    let _ = writeln!(out, "Name:\t{}", comm_str(p));
    let _ = writeln!(out, "State:\t{}", state_name(p.state));
    let _ = writeln!(out, "Tgid:\t{}", p.pid);
    let _ = writeln!(out, "Pid:\t{}", p.pid);
    let _ = writeln!(out, "PPid:\t{}", p.ppid);
    let _ = writeln!(out, "Uid:\t{}\t{}\t{}\t{}", p.uid, p.euid, p.euid, p.euid);
    let _ = writeln!(out, "Gid:\t{}\t{}\t{}\t{}", p.gid, p.egid, p.egid, p.egid);
    let _ = writeln!(out, "VmSize:\t{} kB", p.vsize / 1024);
    let _ = writeln!(out, "VmRSS:\t{} kB", p.rss * page_size / 1024);
    let _ = writeln!(out, "Threads:\t{}", p.threads);
    let _ = writeln!(out, "Node:\t{}", p.node);
}
