// SPDX-License-Identifier: GPL-2.0

//! Descriptors passed over a socket served at home (`SCM_RIGHTS`).
//!
//! A moved process's `sendmsg` with `SCM_RIGHTS` on a socket served at
//! home names its proxies: home sends the files they stand for (a file
//! of the node the process runs on cannot go through home's socket:
//! EOPNOTSUPP). Its `recvmsg` with room for control data gets the
//! descriptors home received, each a new proxy where it runs. Both are
//! made at home as the real call (`io_op::MSG`), since the kernel gives
//! received descriptors only to a user buffer.
//!
//! The request (after the caller's `Creds`): `send` (u8: 1 sendmsg, 0
//! recvmsg), `flags` (u32), the socket's fd at home (i32), the name
//! (u32 length, bytes: sendmsg's address; recvmsg: its length is the
//! room for one), the descriptors (u32 count; sendmsg: that many home
//! fds; recvmsg: the room for them), the data (u32 length; sendmsg: the
//! bytes; recvmsg: the room for them).
//!
//! A recvmsg's answer: `msg_flags` (u32), the name (u32 length, bytes),
//! the descriptors received (u32 count, each its fd at home and its file
//! flags), then the data.

use super::{Reader, WireError, Writer};

/// The kernel's most descriptors in one message (`SCM_MAX_FD`).
pub const SCM_MAX_FD: usize = 253;
/// Bytes of a `struct cmsghdr` (x86-64): length (8), level, type.
pub const CMSG_HDR: usize = 16;
/// `SOL_SOCKET`.
pub const SOL_SOCKET: i32 = 1;
/// `SCM_RIGHTS`.
pub const SCM_RIGHTS: i32 = 1;
/// Most control bytes taken from a caller's `sendmsg` (its descriptors
/// in one or more `SCM_RIGHTS` messages).
pub const CONTROL_MAX: usize = 4096;
/// Most bytes of a name (a socket address).
pub const NAME_MAX: u32 = 128;
/// Most data bytes one request moves.
pub const DATA_MAX: u32 = 32 * 1024;

const EINVAL: i32 = 22;
const EOPNOTSUPP: i32 = 95;

/// `CMSG_ALIGN`.
pub const fn cmsg_align(n: usize) -> usize {
    (n + 7) & !7
}

/// `CMSG_LEN` of `n` descriptors.
pub const fn cmsg_len(n: usize) -> usize {
    CMSG_HDR + 4 * n
}

/// `CMSG_SPACE` of `n` descriptors.
pub const fn cmsg_space(n: usize) -> usize {
    CMSG_HDR + cmsg_align(4 * n)
}

/// How many descriptors a `recvmsg` control buffer of `len` bytes takes
/// (as the kernel's `scm_detach_fds` counts them).
pub fn fds_room(len: u64) -> usize {
    if len <= CMSG_HDR as u64 {
        return 0;
    }
    (((len - CMSG_HDR as u64) / 4) as usize).min(SCM_MAX_FD)
}

/// The descriptors of the `SCM_RIGHTS` messages of a `sendmsg`'s control
/// data `ctl`, in order, into `out`: how many. `Err(errno)`: EINVAL for
/// control data the kernel would refuse (a header that does not fit,
/// more than [`SCM_MAX_FD`] descriptors), EOPNOTSUPP for a control
/// message of another kind (credentials cannot be vouched for at home).
pub fn rights_in(ctl: &[u8], out: &mut [i32; SCM_MAX_FD]) -> Result<usize, i32> {
    let mut n = 0usize;
    let mut at = 0usize;
    // As the kernel's for_each_cmsghdr: a header whole in what is left.
    while ctl.len().saturating_sub(at) >= CMSG_HDR {
        let h = &ctl[at..at + CMSG_HDR];
        let len = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        let level = i32::from_le_bytes([h[8], h[9], h[10], h[11]]);
        let kind = i32::from_le_bytes([h[12], h[13], h[14], h[15]]);
        if len < CMSG_HDR as u64 || len > (ctl.len() - at) as u64 {
            return Err(EINVAL);
        }
        if level != SOL_SOCKET || kind != SCM_RIGHTS {
            return Err(EOPNOTSUPP);
        }
        let data = &ctl[at + CMSG_HDR..at + len as usize];
        for c in data.chunks_exact(4) {
            if n == SCM_MAX_FD {
                return Err(EINVAL);
            }
            out[n] = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            n += 1;
        }
        at += cmsg_align(len as usize);
    }
    Ok(n)
}

/// Writes one `SCM_RIGHTS` message of `fds` into `out` (a `recvmsg`'s
/// control buffer, `out.len()` its room): the `msg_controllen` the call
/// returns (as the kernel's `scm_detach_fds`: the space, cut to the
/// room). `None` when not even the header fits (no descriptor then).
pub fn rights_out(fds: &[i32], out: &mut [u8]) -> Option<usize> {
    let n = fds.len();
    let len = cmsg_len(n);
    if n == 0 || out.len() < len {
        return None;
    }
    out[..8].copy_from_slice(&(len as u64).to_le_bytes());
    out[8..12].copy_from_slice(&SOL_SOCKET.to_le_bytes());
    out[12..16].copy_from_slice(&SCM_RIGHTS.to_le_bytes());
    for (i, fd) in fds.iter().enumerate() {
        let o = CMSG_HDR + 4 * i;
        out[o..o + 4].copy_from_slice(&fd.to_le_bytes());
    }
    Some(cmsg_space(n).min(out.len()))
}

/// A `sendmsg` or `recvmsg` made at home with descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgCall<'a> {
    /// sendmsg (else recvmsg).
    pub send: bool,
    /// The call's flags.
    pub flags: u32,
    /// The socket's fd at home.
    pub fd: i32,
    /// sendmsg: the address; recvmsg: empty.
    pub name: &'a [u8],
    /// recvmsg: the room for an address.
    pub name_room: u32,
    /// sendmsg: the home fds (4 bytes each); recvmsg: empty.
    pub fds: &'a [u8],
    /// recvmsg: the room for descriptors.
    pub fds_room: u32,
    /// sendmsg: the data; recvmsg: empty.
    pub data: &'a [u8],
    /// recvmsg: the room for data.
    pub data_room: u32,
}

/// Writes a [`MsgCall`].
pub fn write_msg_call(w: &mut Writer<'_>, c: &MsgCall<'_>) -> Result<(), WireError> {
    w.u8(u8::from(c.send))?;
    w.u32(c.flags)?;
    w.i32(c.fd)?;
    if c.send {
        w.u32(c.name.len() as u32)?;
        w.bytes(c.name)?;
        w.u32((c.fds.len() / 4) as u32)?;
        w.bytes(c.fds)?;
        w.u32(c.data.len() as u32)?;
        w.bytes(c.data)
    } else {
        w.u32(c.name_room)?;
        w.u32(c.fds_room)?;
        w.u32(c.data_room)
    }
}

/// Reads and checks a [`MsgCall`] (the whole of `r`).
pub fn read_msg_call<'a>(r: &mut Reader<'a>) -> Result<MsgCall<'a>, WireError> {
    let send = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(WireError::BadField),
    };
    let flags = r.u32()?;
    let fd = r.i32()?;
    let mut c = MsgCall {
        send,
        flags,
        fd,
        name: &[],
        name_room: 0,
        fds: &[],
        fds_room: 0,
        data: &[],
        data_room: 0,
    };
    let name = r.u32()?;
    if !(0..65536).contains(&fd) || name > NAME_MAX {
        return Err(WireError::BadField);
    }
    if send {
        c.name = r.bytes(name as usize)?;
        let n = r.u32()? as usize;
        if n > SCM_MAX_FD {
            return Err(WireError::BadField);
        }
        c.fds = r.bytes(4 * n)?;
        let d = r.u32()?;
        if d > DATA_MAX {
            return Err(WireError::BadField);
        }
        c.data = r.bytes(d as usize)?;
    } else {
        c.name_room = name;
        c.fds_room = r.u32()?;
        c.data_room = r.u32()?;
        if c.fds_room as usize > SCM_MAX_FD || c.data_room > DATA_MAX {
            return Err(WireError::BadField);
        }
    }
    r.end()?;
    Ok(c)
}

/// A recvmsg's answer (`value` bytes of data were received).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgReply<'a> {
    /// `msg_flags`.
    pub flags: u32,
    /// The sender's address.
    pub name: &'a [u8],
    /// The descriptors received: (fd at home, file flags), 8 bytes each.
    pub fds: &'a [u8],
    /// The data.
    pub data: &'a [u8],
}

impl MsgReply<'_> {
    /// Descriptor `i`: (its fd at home, its file flags).
    pub fn fd(&self, i: usize) -> Option<(i32, u32)> {
        let b = self.fds.get(8 * i..8 * i + 8)?;
        Some((
            i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        ))
    }

    /// How many descriptors.
    pub fn nfds(&self) -> usize {
        self.fds.len() / 8
    }
}

/// Bytes of a [`MsgReply`] before its data, at most.
pub const MSG_REPLY_HEAD: usize = 12 + NAME_MAX as usize + 8 * SCM_MAX_FD;

/// Writes a [`MsgReply`].
pub fn write_msg_reply(w: &mut Writer<'_>, m: &MsgReply<'_>) -> Result<(), WireError> {
    w.u32(m.flags)?;
    w.u32(m.name.len() as u32)?;
    w.bytes(m.name)?;
    w.u32((m.fds.len() / 8) as u32)?;
    w.bytes(m.fds)?;
    w.bytes(m.data)
}

/// Reads and checks a recvmsg's answer to request `c` whose value was
/// `v` (the bytes of data received).
pub fn read_msg_reply<'a>(
    r: &mut Reader<'a>,
    c: &MsgCall<'_>,
    v: i64,
) -> Result<MsgReply<'a>, WireError> {
    let flags = r.u32()?;
    let n = r.u32()?;
    if n > c.name_room {
        return Err(WireError::BadField);
    }
    let name = r.bytes(n as usize)?;
    let k = r.u32()?;
    if k > c.fds_room {
        return Err(WireError::BadField);
    }
    let fds = r.bytes(8 * k as usize)?;
    let data = r.rest();
    if v < 0 || data.len() as i64 != v.min(i64::from(c.data_room)) {
        return Err(WireError::BadField);
    }
    Ok(MsgReply {
        flags,
        name,
        fds,
        data,
    })
}
