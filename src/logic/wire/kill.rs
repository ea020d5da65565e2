// SPDX-License-Identifier: GPL-2.0

//! A signal sent to a process of another node: who sends it (`Sender`),
//! the request and its answer.

use super::{check_len, le_u32, le_u64, valid_id, Message, MsgType, WireError};

/// Who sends a signal to a process of another node: what kill(2)'s
/// permission rule reads of the sender, as it travels. The receiving node
/// sends the signal with these ids and capability in a credential of their
/// own (rust/process.c), so the rule and the LSM hook apply as to a local
/// kill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sender {
    /// The sender's PID (the target's siginfo says it sent the signal).
    pub pid: u32,
    /// Real uid (initial user namespace).
    pub uid: u32,
    /// Effective uid.
    pub euid: u32,
    /// Real gid.
    pub gid: u32,
    /// Effective gid.
    pub egid: u32,
    /// It had CAP_KILL in the initial user namespace.
    pub cap_kill: bool,
    /// It had CAP_KILL in its own user namespace, another than the
    /// initial one (a container's root). A process that moved runs in a
    /// namespace made like its own: its home applies this in its
    /// deputy's, the namespace it left, and nowhere else.
    pub cap_kill_ns: bool,
}

/// Flag bit of [`KillReq`]: the sender had CAP_KILL.
const KILL_FLAG_CAP_KILL: u32 = 1;
/// Flag bit of [`KillReq`]: the sender had CAP_KILL in its own user
/// namespace.
const KILL_FLAG_CAP_KILL_NS: u32 = 2;

/// [`MsgType::KillReq`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KillReq {
    /// Request id.
    pub id: u64,
    /// Target PID.
    pub pid: u32,
    /// Signal number (0: only check).
    pub sig: u32,
    /// Who sends it.
    pub from: Sender,
}

impl Message for KillReq {
    const TYPE: MsgType = MsgType::KillReq;
    const LEN: usize = 40;
    fn encode(&self, out: &mut [u8]) {
        let f = &self.from;
        let flags = if f.cap_kill { KILL_FLAG_CAP_KILL } else { 0 }
            | if f.cap_kill_ns {
                KILL_FLAG_CAP_KILL_NS
            } else {
                0
            };
        out[0..8].copy_from_slice(&self.id.to_le_bytes());
        for (i, v) in [
            self.pid, self.sig, f.uid, f.euid, f.gid, f.egid, f.pid, flags,
        ]
        .into_iter()
        .enumerate()
        {
            out[8 + 4 * i..12 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        let flags = le_u32(p, 36);
        let k = Self {
            id: le_u64(p, 0),
            pid: le_u32(p, 8),
            sig: le_u32(p, 12),
            from: Sender {
                uid: le_u32(p, 16),
                euid: le_u32(p, 20),
                gid: le_u32(p, 24),
                egid: le_u32(p, 28),
                pid: le_u32(p, 32),
                cap_kill: flags & KILL_FLAG_CAP_KILL != 0,
                cap_kill_ns: flags & KILL_FLAG_CAP_KILL_NS != 0,
            },
        };
        let f = &k.from;
        let pid_ok = |p: u32| (1..=4_194_304).contains(&p);
        if k.sig > 64
            || !pid_ok(k.pid)
            || !pid_ok(f.pid)
            || flags & !(KILL_FLAG_CAP_KILL | KILL_FLAG_CAP_KILL_NS) != 0
            || ![f.uid, f.euid, f.gid, f.egid].into_iter().all(valid_id)
        {
            return Err(WireError::BadField);
        }
        Ok(k)
    }
}

/// [`MsgType::KillResp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KillResp {
    /// Request id.
    pub id: u64,
    /// 0, or the positive errno kill(2) would have returned.
    pub errno: u32,
}

impl Message for KillResp {
    const TYPE: MsgType = MsgType::KillResp;
    const LEN: usize = 12;
    fn encode(&self, out: &mut [u8]) {
        out[0..8].copy_from_slice(&self.id.to_le_bytes());
        out[8..12].copy_from_slice(&self.errno.to_le_bytes());
    }
    fn decode(p: &[u8]) -> Result<Self, WireError> {
        check_len(p, Self::LEN)?;
        let r = Self {
            id: le_u64(p, 0),
            errno: le_u32(p, 8),
        };
        if r.errno > 4095 {
            return Err(WireError::BadField);
        }
        Ok(r)
    }
}
