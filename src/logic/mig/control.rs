// SPDX-License-Identifier: GPL-2.0

//! The migration protocol's requests on a process from another node:
//! who asks (`Caller`), `Control` and `Goto`.

use super::super::{peers, wire};
use super::{Reader, WireError, Writer};

/// Who asks for an operation on a process from another node: what
/// ptrace's rule (`PTRACE_MODE_ATTACH_REALCREDS`) reads of the caller, as
/// it travels. The node that has the task checks it there, with these ids
/// and capability in a credential of their own (rust/process.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The caller's real uid (initial user namespace).
    pub uid: u32,
    /// The caller's real gid (initial user namespace).
    pub gid: u32,
    /// The caller had CAP_SYS_PTRACE in the initial user namespace.
    pub cap_sys_ptrace: bool,
    /// The caller had CAP_SYS_NICE in the initial user namespace: a move
    /// it asks for may run boosted (as the leveller's do).
    pub cap_sys_nice: bool,
}

/// Bits of a [`Caller`]'s flags byte.
const CALLER_PTRACE: u8 = 1;
const CALLER_NICE: u8 = 2;

/// Bytes of a [`Caller`] on the wire.
pub const CALLER_LEN: usize = 9;

/// Writes a [`Caller`].
pub fn write_caller(w: &mut Writer<'_>, c: &Caller) -> Result<(), WireError> {
    w.u32(c.uid)?;
    w.u32(c.gid)?;
    let mut flags = 0;
    if c.cap_sys_ptrace {
        flags |= CALLER_PTRACE;
    }
    if c.cap_sys_nice {
        flags |= CALLER_NICE;
    }
    w.u8(flags)
}

/// Reads a [`Caller`]: ids that name nobody (`(uid_t)-1`) and unknown
/// flag bits are refused.
pub fn read_caller(r: &mut Reader<'_>) -> Result<Caller, WireError> {
    let uid = r.u32()?;
    let gid = r.u32()?;
    let flags = r.u8()?;
    if flags & !(CALLER_PTRACE | CALLER_NICE) != 0 {
        return Err(WireError::BadField);
    }
    if !wire::valid_id(uid) || !wire::valid_id(gid) {
        return Err(WireError::BadField);
    }
    Ok(Caller {
        uid,
        gid,
        cap_sys_ptrace: flags & CALLER_PTRACE != 0,
        cap_sys_nice: flags & CALLER_NICE != 0,
    })
}

/// What a [`Control`] asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlOp {
    /// Move it to node `value` (0: the leveller's choice).
    Goto,
    /// Set its `loadlevel` to `value` (0 or 1).
    Loadlevel,
    /// Set its `lock` to `value` (0 or 1).
    Lock,
}

/// A `Control` body: an operation on a process for a caller on another
/// node, checked where the process has its task against the caller's
/// identity, as a local caller would be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// The operation.
    pub op: ControlOp,
    /// Its argument.
    pub value: u32,
    /// Who asks.
    pub caller: Caller,
}

/// Bytes of a `Control` body.
pub const CONTROL_LEN: usize = 8 + CALLER_LEN;

/// Writes a `Control` body.
pub fn write_control(w: &mut Writer<'_>, c: &Control) -> Result<(), WireError> {
    w.u32(match c.op {
        ControlOp::Goto => 1,
        ControlOp::Loadlevel => 2,
        ControlOp::Lock => 3,
    })?;
    w.u32(c.value)?;
    write_caller(w, &c.caller)
}

/// Reads a `Control` body (the whole rest of the payload).
pub fn read_control(r: &mut Reader<'_>) -> Result<Control, WireError> {
    let op = match r.u32()? {
        1 => ControlOp::Goto,
        2 => ControlOp::Loadlevel,
        3 => ControlOp::Lock,
        _ => return Err(WireError::BadField),
    };
    let value = r.u32()?;
    let caller = read_caller(r)?;
    r.end()?;
    let limit = match op {
        ControlOp::Goto => u32::from(peers::MAX_NODE),
        ControlOp::Loadlevel | ControlOp::Lock => 1,
    };
    if value > limit {
        return Err(WireError::BadField);
    }
    Ok(Control { op, value, caller })
}

/// A `Goto` body: the home node asks the node a process runs on to move
/// it on, for `caller` (who wrote its `goto` at home, or asked home with
/// a [`Control`]); that node checks the caller against the process as it
/// is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GotoReq {
    /// The node to move to (0: that node's leveller chooses).
    pub node: u8,
    /// Who asks.
    pub caller: Caller,
}

/// Bytes of a `Goto` body.
pub const GOTO_LEN: usize = 4 + CALLER_LEN;

/// Writes a `Goto` body.
pub fn write_goto(w: &mut Writer<'_>, g: &GotoReq) -> Result<(), WireError> {
    w.u32(u32::from(g.node))?;
    write_caller(w, &g.caller)
}

/// Reads a `Goto` body (the whole rest of the payload).
pub fn read_goto(r: &mut Reader<'_>) -> Result<GotoReq, WireError> {
    let node = r.u32()?;
    let caller = read_caller(r)?;
    r.end()?;
    let node = u8::try_from(node)
        .ok()
        .filter(|&n| n <= peers::MAX_NODE)
        .ok_or(WireError::BadField)?;
    Ok(GotoReq { node, caller })
}
