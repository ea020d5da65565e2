//! The generic netlink client: this file owns the socket, the message
//! framing and the attribute encoding/decoding of the `vproc` family.
//!
//! [`Client`] is a plain `NETLINK_GENERIC` socket (netlink-sys) that
//! resolves the family through nlctrl and sends one command at a time
//! ([`Client::request`]): a *do* (acked, replies collected until the ack)
//! or a *dump* (replies collected until `NLMSG_DONE`). [`Attrs`] builds a
//! request's attributes, [`attrs`] walks a reply's. Kernel errors come back
//! as [`Error::Kernel`] with the errno and the extended-ack message.

use std::fmt;
use std::io;

use netlink_packet_core::{
    DefaultNla, DoneMessage, Emitable, ErrorMessage, NetlinkBuffer, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NlaBuffer, NlasIterator, ParseableParametrized, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::{nlas::GenlCtrlAttrs, GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::spec;

/// `NLM_F_CAPPED` in an ack/error: only the request's header is echoed.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS` in an ack/error: extended-ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG`: the extended ack's error string.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Size of a `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;

// nlctrl's family id, command and attributes used (linux/genetlink.h).
pub(crate) const GENL_ID_CTRL: u16 = 0x10;
pub(crate) const CTRL_CMD_DELFAMILY: u8 = 2;
pub(crate) const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;

/// What went wrong talking to the module.
#[derive(Debug)]
pub enum Error {
    /// The generic netlink family `vproc` does not exist: the module is
    /// not loaded.
    NotLoaded,
    /// The kernel refused the request: a positive errno and the extended
    /// ack's message, if it sent one.
    Kernel {
        /// Positive errno (`libc::ESRCH`, ...).
        errno: i32,
        /// `NLMSGERR_ATTR_MSG` of the extended ack.
        extack: Option<String>,
    },
    /// The socket failed (socket(2), send(2), recv(2), ...).
    Io(io::Error),
    /// A reply the library could not decode.
    Malformed(String),
}

impl Error {
    /// The errno this error stands for (`ENOENT` when the module is
    /// missing, `EPROTO` for a malformed reply).
    pub fn errno(&self) -> i32 {
        match self {
            Error::NotLoaded => libc::ENOENT,
            Error::Kernel { errno, .. } => *errno,
            Error::Io(e) => e.raw_os_error().unwrap_or(libc::EIO),
            Error::Malformed(_) => libc::EPROTO,
        }
    }

    /// The kernel's extended-ack message, if any.
    pub fn extack(&self) -> Option<&str> {
        match self {
            Error::Kernel { extack, .. } => extack.as_deref(),
            _ => None,
        }
    }

    /// The exit code a tool leaves with: 3 if the module is not loaded,
    /// else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NotLoaded => 3,
            _ => 1,
        }
    }

    fn malformed(msg: impl Into<String>) -> Self {
        Error::Malformed(msg.into())
    }
}

/// The text of an errno, without the "(os error N)" suffix.
pub fn strerror(errno: i32) -> &'static str {
    nix::errno::Errno::from_raw(errno).desc()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotLoaded => write!(
                f,
                "vproc module not loaded (no generic netlink family \"{}\")",
                spec::FAMILY_NAME
            ),
            Error::Kernel { errno, extack } => {
                f.write_str(strerror(*errno))?;
                match extack {
                    Some(m) if !m.is_empty() => write!(f, " ({m})"),
                    _ => Ok(()),
                }
            }
            Error::Io(e) => write!(f, "netlink: {e}"),
            Error::Malformed(m) => write!(f, "malformed netlink reply: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// Attributes of a request, encoded as the kernel reads them (native
/// endian, strings NUL-terminated, each padded to 4 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs(Vec<u8>);

impl Attrs {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an attribute with a raw value (any length: use it to build
    /// malformed requests too).
    pub fn raw(mut self, kind: u16, value: &[u8]) -> Self {
        let nla = DefaultNla::new(kind, value.to_vec());
        let start = self.0.len();
        self.0.resize(start + nla.buffer_len(), 0);
        nla.emit(&mut self.0[start..]);
        self
    }

    /// Appends a u8 attribute.
    pub fn u8(self, kind: u16, v: u8) -> Self {
        self.raw(kind, &[v])
    }

    /// Appends a u32 attribute.
    pub fn u32(self, kind: u16, v: u32) -> Self {
        self.raw(kind, &v.to_ne_bytes())
    }

    /// Appends a u64 attribute.
    pub fn u64(self, kind: u16, v: u64) -> Self {
        self.raw(kind, &v.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub fn string(self, kind: u16, s: &str) -> Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.raw(kind, &v)
    }

    /// The encoded attributes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// One attribute of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// Attribute type (flags masked out).
    pub kind: u16,
    /// Its payload, without padding.
    pub value: &'a [u8],
}

impl<'a> Attr<'a> {
    fn fixed<const N: usize>(&self) -> Result<[u8; N], Error> {
        self.value.try_into().map_err(|_| {
            Error::malformed(format!(
                "attribute {} has {} bytes, expected {N}",
                self.kind,
                self.value.len()
            ))
        })
    }

    /// The value as a u8.
    pub fn as_u8(&self) -> Result<u8, Error> {
        Ok(self.fixed::<1>()?[0])
    }

    /// The value as a native-endian u16.
    pub fn as_u16(&self) -> Result<u16, Error> {
        Ok(u16::from_ne_bytes(self.fixed()?))
    }

    /// The value as a native-endian u32.
    pub fn as_u32(&self) -> Result<u32, Error> {
        Ok(u32::from_ne_bytes(self.fixed()?))
    }

    /// The value as a native-endian u64.
    pub fn as_u64(&self) -> Result<u64, Error> {
        Ok(u64::from_ne_bytes(self.fixed()?))
    }

    /// The value as a 0/1 flag carried in a u8.
    pub fn as_bool(&self) -> Result<bool, Error> {
        Ok(self.as_u8()? != 0)
    }

    /// The value as a string (up to the first NUL; invalid UTF-8 replaced).
    pub fn as_str(&self) -> String {
        let end = self
            .value
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.value.len());
        String::from_utf8_lossy(&self.value[..end]).into_owned()
    }
}

/// Walks the attributes in `buf`; a truncated or inconsistent attribute
/// yields one error and ends the walk.
pub fn attrs(buf: &[u8]) -> impl Iterator<Item = Result<Attr<'_>, Error>> {
    NlasIterator::new(buf).map(|r| {
        r.map(|nla: NlaBuffer<&[u8]>| {
            // new_checked guarantees 4 <= length <= buffer length.
            let (kind, len) = (nla.kind(), usize::from(nla.length()));
            Attr {
                kind,
                value: &nla.into_inner()[4..len],
            }
        })
        .map_err(|e| Error::malformed(e.to_string()))
    })
}

/// The extended-ack message of an `NLMSG_ERROR`: `flags` are the error
/// message's header flags, `payload` what follows its error code (the
/// echoed request, whole or capped to its header, then the TLVs).
pub fn parse_extack(flags: u16, payload: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 || payload.len() < NLMSG_HDRLEN {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(payload[..4].try_into().ok()?) as usize;
        len.max(NLMSG_HDRLEN).checked_add(3)? & !3
    };
    parse_extack_tlvs(payload.get(echoed..)?)
}

/// The `NLMSGERR_ATTR_MSG` among extended-ack TLVs (as in a dump's
/// `NLMSG_DONE`).
pub fn parse_extack_tlvs(tlvs: &[u8]) -> Option<String> {
    attrs(tlvs)
        .map_while(Result::ok)
        .find(|a| a.kind == NLMSGERR_ATTR_MSG)
        .map(|a| a.as_str())
}

/// A generic netlink message of the vproc family (or nlctrl's replies):
/// the command and the raw attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Generic netlink command.
    pub cmd: u8,
    /// Encoded attributes (walk them with [`attrs`]).
    pub attrs: Vec<u8>,
}

impl GenlFamily for Reply {
    fn family_name() -> &'static str {
        spec::FAMILY_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        spec::FAMILY_VERSION
    }
}

impl Emitable for Reply {
    fn buffer_len(&self) -> usize {
        self.attrs.len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.attrs.len()].copy_from_slice(&self.attrs);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for Reply {
    fn parse_with_param(
        buf: &[u8],
        header: GenlHeader,
    ) -> Result<Self, netlink_packet_core::DecodeError> {
        Ok(Reply {
            cmd: header.cmd,
            attrs: buf.to_vec(),
        })
    }
}

/// What one received message meant to the request waiting for it.
enum Step {
    Reply(Reply),
    Ack,
    Done,
    Skip,
}

/// Decodes every netlink message of one datagram.
pub(crate) fn decode_datagram(
    buf: &[u8],
) -> Result<Vec<NetlinkMessage<GenlMessage<Reply>>>, Error> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < buf.len() {
        let rest = &buf[off..];
        let len = NetlinkBuffer::new_checked(rest)
            .map_err(|e| Error::malformed(e.to_string()))?
            .length() as usize;
        let msg = NetlinkMessage::<GenlMessage<Reply>>::deserialize(&rest[..len])
            .map_err(|e| Error::malformed(e.to_string()))?;
        out.push(msg);
        off += (len + 3) & !3;
    }
    Ok(out)
}

/// Turns an `NLMSG_ERROR` into an ack or an error.
fn nack(header: &NetlinkHeader, e: &ErrorMessage) -> Result<Step, Error> {
    match e.code {
        None => Ok(Step::Ack),
        Some(code) => Err(Error::Kernel {
            errno: code.get().saturating_abs(),
            extack: parse_extack(header.flags, &e.header),
        }),
    }
}

/// Turns an `NLMSG_DONE` into the end of a dump or its error.
fn done(d: &DoneMessage) -> Result<Step, Error> {
    if d.code < 0 {
        Err(Error::Kernel {
            errno: d.code.saturating_abs(),
            extack: parse_extack_tlvs(&d.extended_ack),
        })
    } else {
        Ok(Step::Done)
    }
}

/// Receives one datagram, retrying on EINTR.
pub(crate) fn recv_datagram(sock: &Socket) -> Result<Vec<u8>, Error> {
    loop {
        match sock.recv_from_full() {
            Ok((buf, _)) => return Ok(buf),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A generic netlink socket talking to the `vproc` family.
///
/// Requests are sent one at a time and wait for their answer; a MIGRATE
/// can block for as long as the migration takes (there is no timeout).
#[derive(Debug)]
pub struct Client {
    sock: Socket,
    family: u16,
    groups: Vec<(String, u32)>,
    seq: u32,
}

impl Client {
    /// Opens a socket and resolves the `vproc` family; fails with
    /// [`Error::NotLoaded`] if the module is not loaded.
    pub fn connect() -> Result<Self, Error> {
        Self::connect_to(spec::FAMILY_NAME)
    }

    /// Opens a socket to generic netlink family `name` (nlctrl for the
    /// listener's unload notice and the tests).
    pub(crate) fn connect_to(name: &str) -> Result<Self, Error> {
        let mut sock = Socket::new(NETLINK_GENERIC)?;
        // Best effort: older kernels lack them, errors then have no text.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        let mut c = Client {
            sock,
            family: 0,
            groups: Vec::new(),
            seq: 0,
        };
        c.resolve(name)?;
        Ok(c)
    }

    /// Asks nlctrl for the family's id and multicast groups.
    fn resolve(&mut self, name: &str) -> Result<(), Error> {
        let ctrl = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(name.into())],
        };
        let msg = GenlMessage::from_payload(ctrl);
        let replies = match self.exchange(msg, NLM_F_REQUEST | NLM_F_ACK) {
            Err(Error::Kernel { errno, .. }) if errno == libc::ENOENT => {
                return Err(Error::NotLoaded)
            }
            r => r?,
        };
        let reply = replies
            .first()
            .ok_or_else(|| Error::malformed("no nlctrl reply"))?;
        for a in attrs(&reply.attrs) {
            let a = a?;
            match a.kind {
                CTRL_ATTR_FAMILY_ID => self.family = a.as_u16()?,
                CTRL_ATTR_MCAST_GROUPS => self.groups = parse_mcast_groups(a.value)?,
                _ => {}
            }
        }
        if self.family == 0 {
            return Err(Error::malformed("nlctrl reply without a family id"));
        }
        Ok(())
    }

    /// The family's id.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// The id of multicast group `name` of the family, if it has one.
    pub fn group_id(&self, name: &str) -> Option<u32> {
        self.groups.iter().find(|(n, _)| n == name).map(|g| g.1)
    }

    /// Sends command `cmd` with `attrs` and collects the replies.
    ///
    /// A *do* (`dump == false`) is sent with `NLM_F_ACK` and returns the
    /// replies received before the ack; a *dump* returns every message up
    /// to `NLMSG_DONE`. A kernel error ends either with [`Error::Kernel`].
    pub fn request(&mut self, cmd: u8, attrs: &Attrs, dump: bool) -> Result<Vec<Reply>, Error> {
        let mut msg = GenlMessage::from_payload(Reply {
            cmd,
            attrs: attrs.0.clone(),
        });
        msg.set_resolved_family_id(self.family);
        let flags = if dump {
            NLM_F_REQUEST | NLM_F_DUMP
        } else {
            NLM_F_REQUEST | NLM_F_ACK
        };
        self.exchange(msg, flags)
    }

    /// Sends one message and receives until its ack, error or end of dump.
    fn exchange<F>(&mut self, payload: GenlMessage<F>, flags: u16) -> Result<Vec<Reply>, Error>
    where
        F: GenlFamily + Emitable + fmt::Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut msg = NetlinkMessage::from(payload);
        msg.header.flags = flags;
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut buf = vec![0; msg.buffer_len()];
        msg.serialize(&mut buf);
        loop {
            match self.sock.send(&buf, 0) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }

        let mut replies = Vec::new();
        loop {
            let dgram = recv_datagram(&self.sock)?;
            for m in decode_datagram(&dgram)? {
                if m.header.sequence_number != seq {
                    continue;
                }
                let step = match &m.payload {
                    NetlinkPayload::Error(e) => nack(&m.header, e)?,
                    NetlinkPayload::Done(d) => done(d)?,
                    NetlinkPayload::InnerMessage(g) => Step::Reply(g.payload.clone()),
                    _ => Step::Skip,
                };
                match step {
                    Step::Reply(r) => replies.push(r),
                    Step::Ack | Step::Done => return Ok(replies),
                    Step::Skip => {}
                }
            }
        }
    }

    /// Joins multicast group `group` (an id from [`Client::group_id`]).
    pub fn join(&self, group: u32) -> Result<(), Error> {
        Ok(self.sock.add_membership(group)?)
    }

    /// The socket, e.g. to poll it.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Gives up the client, keeping its socket (e.g. for a listener).
    pub fn into_socket(self) -> Socket {
        self.sock
    }
}

/// Parses nlctrl's `CTRL_ATTR_MCAST_GROUPS` (nested, one nest per group).
fn parse_mcast_groups(buf: &[u8]) -> Result<Vec<(String, u32)>, Error> {
    let mut out = Vec::new();
    for g in attrs(buf) {
        let (mut name, mut id) = (None, None);
        for a in attrs(g?.value) {
            let a = a?;
            match a.kind {
                CTRL_ATTR_MCAST_GRP_NAME => name = Some(a.as_str()),
                CTRL_ATTR_MCAST_GRP_ID => id = Some(a.as_u32()?),
                _ => {}
            }
        }
        if let (Some(n), Some(i)) = (name, id) {
            out.push((n, i));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_pad_and_parse() {
        let a = Attrs::new()
            .u8(1, 7)
            .u32(2, 42)
            .u64(3, 1 << 40)
            .string(4, "ab");
        let v: Vec<_> = attrs(a.as_bytes()).collect::<Result<_, _>>().unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].as_u8().unwrap(), 7);
        assert_eq!(v[1].as_u32().unwrap(), 42);
        assert_eq!(v[2].as_u64().unwrap(), 1 << 40);
        assert_eq!(v[3].as_str(), "ab");
        assert_eq!(a.as_bytes().len() % 4, 0);
        // Wrong sizes are errors, not panics.
        assert!(v[0].as_u32().is_err());
        assert!(v[1].as_u64().is_err());
        assert!(v[3].as_u16().is_err());
    }

    #[test]
    fn truncated_attrs_rejected() {
        let a = Attrs::new().u32(2, 42);
        let b = a.as_bytes();
        for cut in 1..b.len() {
            let r: Result<Vec<_>, _> = attrs(&b[..cut]).collect();
            assert!(r.is_err(), "cut at {cut}");
        }
        // A length field below the header size.
        let bad = [2u8, 0, 2, 0, 0, 0, 0, 0];
        assert!(attrs(&bad).any(|r| r.is_err()));
        assert_eq!(attrs(&[]).count(), 0);
    }

    fn nlmsghdr(len: u32) -> Vec<u8> {
        let mut h = len.to_ne_bytes().to_vec();
        h.extend_from_slice(&[0; 12]);
        h
    }

    #[test]
    fn extack_capped_and_full() {
        let tlvs = Attrs::new()
            .u32(2, 4) // NLMSGERR_ATTR_OFFS
            .string(NLMSGERR_ATTR_MSG, "node out of range");
        // Capped: only the header is echoed.
        let mut p = nlmsghdr(40);
        p.extend_from_slice(tlvs.as_bytes());
        assert_eq!(
            parse_extack(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p).as_deref(),
            Some("node out of range")
        );
        // Whole request echoed (22 bytes, padded to 24).
        let mut p = nlmsghdr(22);
        p.extend_from_slice(&[9; 8]);
        p.extend_from_slice(tlvs.as_bytes());
        assert_eq!(
            parse_extack(NLM_F_ACK_TLVS, &p).as_deref(),
            Some("node out of range")
        );
        // No TLVs flag, garbage, short and lying lengths.
        assert_eq!(parse_extack(0, &p), None);
        assert_eq!(parse_extack(NLM_F_ACK_TLVS, &[1, 2, 3]), None);
        assert_eq!(parse_extack(NLM_F_ACK_TLVS, &nlmsghdr(u32::MAX)), None);
        assert_eq!(parse_extack(NLM_F_ACK_TLVS, &nlmsghdr(1000)), None);
        assert_eq!(
            parse_extack_tlvs(tlvs.as_bytes()).as_deref(),
            Some("node out of range")
        );
    }

    #[test]
    fn error_message_decoded() {
        // An NLMSG_ERROR datagram: ESRCH, capped, with an extack.
        let tlvs = Attrs::new().string(NLMSGERR_ATTR_MSG, "no such pid");
        let mut payload = (-libc::ESRCH).to_ne_bytes().to_vec();
        payload.extend(nlmsghdr(24));
        payload.extend_from_slice(tlvs.as_bytes());
        let mut dgram = ((16 + payload.len()) as u32).to_ne_bytes().to_vec();
        dgram.extend_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
        dgram.extend_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        dgram.extend_from_slice(&5u32.to_ne_bytes());
        dgram.extend_from_slice(&0u32.to_ne_bytes());
        dgram.extend_from_slice(&payload);
        let msgs = decode_datagram(&dgram).unwrap();
        assert_eq!(msgs.len(), 1);
        let NetlinkPayload::Error(e) = &msgs[0].payload else {
            panic!("not an error")
        };
        match nack(&msgs[0].header, e) {
            Err(err @ Error::Kernel { .. }) => {
                assert_eq!(err.errno(), libc::ESRCH);
                assert_eq!(err.extack(), Some("no such pid"));
                assert_eq!(err.to_string(), "No such process (no such pid)");
            }
            _ => panic!("not a kernel error"),
        }
        // Truncated datagrams are errors, not panics.
        for cut in 1..dgram.len() {
            let _ = decode_datagram(&dgram[..cut]);
        }
    }

    /// Talks to the host kernel's nlctrl family (skipped without netlink).
    #[test]
    fn live_nlctrl() {
        let mut c = match Client::connect_to("nlctrl") {
            Ok(c) => c,
            Err(Error::Io(_)) => return,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.family_id(), 0x10);
        assert!(c.group_id("notify").is_some());
        // A dump of every family (CTRL_CMD_GETFAMILY).
        let all = c.request(3, &Attrs::new(), true).unwrap();
        assert!(!all.is_empty());
        // A do: unknown family → ENOENT.
        let r = c.request(3, &Attrs::new().string(2, "no-such-fam"), false);
        // (names are at most 15 bytes: a longer one is EINVAL)
        assert_eq!(r.unwrap_err().errno(), libc::ENOENT);
        // A policy violation (the u16 family id as 1 byte) has an extack.
        let r = c.request(3, &Attrs::new().raw(1, &[1]), false);
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Kernel { .. }), "{e}");
        assert!(e.extack().is_some_and(|m| !m.is_empty()), "{e}");
        // The family missing entirely.
        assert!(matches!(Client::connect(), Err(Error::NotLoaded) | Ok(_)));
    }

    #[test]
    fn mcast_groups() {
        let g = Attrs::new()
            .string(CTRL_ATTR_MCAST_GRP_NAME, "events")
            .u32(CTRL_ATTR_MCAST_GRP_ID, 12);
        let nest = Attrs::new().raw(1, g.as_bytes());
        assert_eq!(
            parse_mcast_groups(nest.as_bytes()).unwrap(),
            vec![("events".to_string(), 12)]
        );
    }
}
