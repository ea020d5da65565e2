//! The cluster API proper: this file owns the record types ([`ProcInfo`],
//! [`NodeInfo`], [`Event`]), their decoding from (and encoding to) the
//! family's attributes, the commands as [`Client`] methods and free
//! functions, and the [`EventListener`].

use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use netlink_packet_core::NetlinkPayload;
use netlink_sys::Socket;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::nl::{
    attrs, decode_datagram, recv_datagram, Attrs, Client, Error, CTRL_ATTR_FAMILY_ID,
    CTRL_CMD_DELFAMILY, GENL_ID_CTRL,
};
use crate::spec::{attr_event, attr_node, attr_proc, cmd, mcgrp, migrate_to};

/// A process of the cluster (the WHERE reply, one entry of PROCS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcInfo {
    /// Cluster-wide PID.
    pub pid: u32,
    /// The node it runs on.
    pub node: u32,
    /// Its home node.
    pub home: u32,
    /// The load leveller may move it.
    pub loadlevel: bool,
    /// It is pinned to its node.
    pub lock: bool,
    /// Times it migrated.
    pub nmigs: u32,
    /// Effective uid.
    pub uid: u32,
    /// State letter (R, S, D, T, Z, ...; `?` if the kernel sent none).
    pub state: char,
    /// Parent's PID.
    pub ppid: u32,
    /// User plus system CPU time, ms.
    pub cpu_ms: u64,
    /// Resident memory, KiB.
    pub rss_kib: u64,
    /// Command name.
    pub comm: String,
}

impl ProcInfo {
    /// Decodes proc attributes; the PID is required, unknown and pad
    /// attributes are skipped, badly sized ones are an error.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut p = ProcInfo {
            state: '?',
            ..Default::default()
        };
        let mut have_pid = false;
        for a in attrs(buf) {
            let a = a?;
            match a.kind {
                attr_proc::PID => {
                    p.pid = a.as_u32()?;
                    have_pid = true;
                }
                attr_proc::NODE => p.node = a.as_u32()?,
                attr_proc::HOME => p.home = a.as_u32()?,
                attr_proc::LOADLEVEL => p.loadlevel = a.as_bool()?,
                attr_proc::LOCK => p.lock = a.as_bool()?,
                attr_proc::NMIGS => p.nmigs = a.as_u32()?,
                attr_proc::UID => p.uid = a.as_u32()?,
                attr_proc::STATE => p.state = char::from(a.as_u8()?),
                attr_proc::PPID => p.ppid = a.as_u32()?,
                attr_proc::CPU_MS => p.cpu_ms = a.as_u64()?,
                attr_proc::RSS_KIB => p.rss_kib = a.as_u64()?,
                attr_proc::COMM => p.comm = a.as_str(),
                _ => {}
            }
        }
        if !have_pid {
            return Err(Error::Malformed("process without a pid".into()));
        }
        Ok(p)
    }

    /// Encodes it as the kernel's reply does (for tests and fakes).
    pub fn encode(&self) -> Attrs {
        Attrs::new()
            .u32(attr_proc::PID, self.pid)
            .u32(attr_proc::NODE, self.node)
            .u32(attr_proc::HOME, self.home)
            .u8(attr_proc::LOADLEVEL, self.loadlevel.into())
            .u8(attr_proc::LOCK, self.lock.into())
            .u32(attr_proc::NMIGS, self.nmigs)
            .u32(attr_proc::UID, self.uid)
            .u8(attr_proc::STATE, u8::try_from(self.state).unwrap_or(b'?'))
            .u32(attr_proc::PPID, self.ppid)
            .u64(attr_proc::CPU_MS, self.cpu_ms)
            .u64(attr_proc::RSS_KIB, self.rss_kib)
            .string(attr_proc::COMM, &self.comm)
    }
}

/// A node of the cluster as this node sees it (one entry of NODES). The
/// load figures are `None` when the kernel did not send them (node down).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node number.
    pub id: u32,
    /// This is the node that answered.
    pub is_self: bool,
    /// up, down, joining, ...
    pub state: String,
    /// 1-minute load average times 100.
    pub loadavg: Option<u32>,
    /// Runnable tasks.
    pub runnable: Option<u32>,
    /// CPU-bound cluster processes.
    pub busy: Option<u32>,
    /// CPUs.
    pub cpus: Option<u32>,
    /// Relative CPU speed.
    pub speed: Option<u32>,
    /// Cluster processes running there.
    pub vprocs: Option<u32>,
    /// Free memory, KiB.
    pub free_kib: Option<u64>,
    /// Total memory, KiB.
    pub total_kib: Option<u64>,
    /// It takes part in load leveling.
    pub loadlevel: Option<bool>,
    /// Milliseconds since it was last heard from.
    pub heard_ms: Option<u32>,
}

impl NodeInfo {
    /// Decodes node attributes; the id is required.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut n = NodeInfo::default();
        let mut have_id = false;
        for a in attrs(buf) {
            let a = a?;
            match a.kind {
                attr_node::ID => {
                    n.id = a.as_u32()?;
                    have_id = true;
                }
                attr_node::SELF => n.is_self = a.as_bool()?,
                attr_node::STATE => n.state = a.as_str(),
                attr_node::LOADAVG => n.loadavg = Some(a.as_u32()?),
                attr_node::RUNNABLE => n.runnable = Some(a.as_u32()?),
                attr_node::BUSY => n.busy = Some(a.as_u32()?),
                attr_node::CPUS => n.cpus = Some(a.as_u32()?),
                attr_node::SPEED => n.speed = Some(a.as_u32()?),
                attr_node::VPROCS => n.vprocs = Some(a.as_u32()?),
                attr_node::FREE_KIB => n.free_kib = Some(a.as_u64()?),
                attr_node::TOTAL_KIB => n.total_kib = Some(a.as_u64()?),
                attr_node::LOADLEVEL => n.loadlevel = Some(a.as_bool()?),
                attr_node::HEARD_MS => n.heard_ms = Some(a.as_u32()?),
                _ => {}
            }
        }
        if !have_id {
            return Err(Error::Malformed("node without an id".into()));
        }
        Ok(n)
    }
}

/// One entry of the cluster event log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// Sequence number in this node's log.
    pub seq: u64,
    /// Wall-clock time, ms since the epoch.
    pub time_ms: u64,
    /// join, up, down, leave, refused, added, removed, key, migrate,
    /// migrate-failed, balance.
    pub kind: String,
    /// The node it is about (0 for none).
    pub node: u32,
    /// Free text.
    pub detail: String,
}

impl Event {
    /// Decodes event attributes; the sequence number is required.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut e = Event::default();
        let mut have_seq = false;
        for a in attrs(buf) {
            let a = a?;
            match a.kind {
                attr_event::SEQ => {
                    e.seq = a.as_u64()?;
                    have_seq = true;
                }
                attr_event::TIME_MS => e.time_ms = a.as_u64()?,
                attr_event::KIND => e.kind = a.as_str(),
                attr_event::NODE => e.node = a.as_u32()?,
                attr_event::DETAIL => e.detail = a.as_str(),
                _ => {}
            }
        }
        if !have_seq {
            return Err(Error::Malformed("event without a seq".into()));
        }
        Ok(e)
    }

    /// Encodes it as the kernel does (for tests and fakes).
    pub fn encode(&self) -> Attrs {
        Attrs::new()
            .u64(attr_event::SEQ, self.seq)
            .u64(attr_event::TIME_MS, self.time_ms)
            .string(attr_event::KIND, &self.kind)
            .u32(attr_event::NODE, self.node)
            .string(attr_event::DETAIL, &self.detail)
    }

    /// The time as `sec.ms`, as /proc/cluster/events shows it.
    pub fn time_str(&self) -> String {
        format!("{}.{:03}", self.time_ms / 1000, self.time_ms % 1000)
    }
}

/// Where [`migrate`] sends a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// That node (1..=[`crate::spec::MAX_NODE`]).
    Node(u32),
    /// Its home node.
    Home,
    /// Wherever the load leveller finds best.
    Balance,
}

impl Client {
    /// Where process `pid` runs, and its switches (`ESRCH` if unknown).
    pub fn where_pid(&mut self, pid: u32) -> Result<ProcInfo, Error> {
        let r = self.request(cmd::WHERE, &Attrs::new().u32(attr_proc::PID, pid), false)?;
        let first = r
            .first()
            .ok_or_else(|| Error::Malformed("no reply to where".into()))?;
        ProcInfo::parse(&first.attrs)
    }

    /// Moves process `pid`; returns once it runs at `to`.
    pub fn migrate(&mut self, pid: u32, to: Target) -> Result<(), Error> {
        let a = Attrs::new().u32(attr_proc::PID, pid);
        let a = match to {
            Target::Node(n) => a
                .u32(attr_proc::TO, migrate_to::NODE)
                .u32(attr_proc::NODE, n),
            Target::Home => a.u32(attr_proc::TO, migrate_to::HOME),
            Target::Balance => a.u32(attr_proc::TO, migrate_to::BALANCE),
        };
        self.request(cmd::MIGRATE, &a, false).map(drop)
    }

    /// Lets the load leveller move `pid` or not.
    pub fn set_loadlevel(&mut self, pid: u32, on: bool) -> Result<(), Error> {
        let a = Attrs::new()
            .u32(attr_proc::PID, pid)
            .u8(attr_proc::LOADLEVEL, on.into());
        self.request(cmd::SET_LOADLEVEL, &a, false).map(drop)
    }

    /// Pins `pid` to its node or frees it.
    pub fn set_lock(&mut self, pid: u32, on: bool) -> Result<(), Error> {
        let a = Attrs::new()
            .u32(attr_proc::PID, pid)
            .u8(attr_proc::LOCK, on.into());
        self.request(cmd::SET_LOCK, &a, false).map(drop)
    }

    /// Every process of the cluster.
    pub fn procs(&mut self) -> Result<Vec<ProcInfo>, Error> {
        self.request(cmd::PROCS, &Attrs::new(), true)?
            .iter()
            .map(|r| ProcInfo::parse(&r.attrs))
            .collect()
    }

    /// Every configured node.
    pub fn nodes(&mut self) -> Result<Vec<NodeInfo>, Error> {
        self.request(cmd::NODES, &Attrs::new(), true)?
            .iter()
            .map(|r| NodeInfo::parse(&r.attrs))
            .collect()
    }

    /// Lets this node take part in load leveling or not (CAP_SYS_ADMIN).
    pub fn set_node_loadlevel(&mut self, on: bool) -> Result<(), Error> {
        let a = Attrs::new().u8(attr_node::LOADLEVEL, on.into());
        self.request(cmd::SET_NODE_LOADLEVEL, &a, false).map(drop)
    }

    /// The event log kept on this node.
    pub fn events(&mut self) -> Result<Vec<Event>, Error> {
        self.request(cmd::EVENTS, &Attrs::new(), true)?
            .iter()
            .map(|r| Event::parse(&r.attrs))
            .collect()
    }
}

/// Where process `pid` runs, and its switches.
pub fn where_pid(pid: u32) -> Result<ProcInfo, Error> {
    Client::connect()?.where_pid(pid)
}

/// Moves process `pid` to `to`; blocks until it runs there.
pub fn migrate(pid: u32, to: Target) -> Result<(), Error> {
    Client::connect()?.migrate(pid, to)
}

/// Lets the load leveller move `pid` (true) or not.
pub fn set_loadlevel(pid: u32, on: bool) -> Result<(), Error> {
    Client::connect()?.set_loadlevel(pid, on)
}

/// Pins `pid` to its node (true) or frees it.
pub fn set_lock(pid: u32, on: bool) -> Result<(), Error> {
    Client::connect()?.set_lock(pid, on)
}

/// Every process of the cluster.
pub fn procs() -> Result<Vec<ProcInfo>, Error> {
    Client::connect()?.procs()
}

/// Every configured node, its state and load.
pub fn nodes() -> Result<Vec<NodeInfo>, Error> {
    Client::connect()?.nodes()
}

/// Lets this node take part in load leveling (true) or not.
pub fn set_node_loadlevel(on: bool) -> Result<(), Error> {
    Client::connect()?.set_node_loadlevel(on)
}

/// The event log kept on this node (its last 256 events).
pub fn events() -> Result<Vec<Event>, Error> {
    Client::connect()?.events()
}

/// A subscription to the `events` multicast group.
///
/// Subscribe first, then dump the history with [`events`], then read the
/// listener, dropping events whose `seq` was already seen: nothing is
/// missed. It has its own socket (never used for requests).
#[derive(Debug)]
pub struct EventListener {
    sock: Socket,
    family: u16,
    pending: VecDeque<Event>,
}

impl EventListener {
    /// Joins the `events` group, and nlctrl's `notify` group to learn when
    /// the module goes away (then the listener ends with
    /// [`Error::NotLoaded`] instead of waiting for ever).
    pub fn subscribe() -> Result<Self, Error> {
        let c = Client::connect()?;
        let group = c
            .group_id(mcgrp::EVENTS)
            .ok_or_else(|| Error::Malformed("family has no events group".into()))?;
        c.join(group)?;
        if let Some(notify) = Client::connect_to("nlctrl")?.group_id("notify") {
            c.join(notify)?;
        }
        Ok(EventListener {
            family: c.family_id(),
            sock: c.into_socket(),
            pending: VecDeque::new(),
        })
    }

    /// The next event, waiting at most `timeout` (`None`: forever);
    /// `Ok(None)` when the time ran out. If the kernel had to drop events
    /// (socket buffer full) this returns the `ENOBUFS` error once; the
    /// listener remains usable.
    pub fn next_timeout(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            let t = match timeout {
                None => PollTimeout::NONE,
                Some(d) => PollTimeout::try_from(d).unwrap_or(PollTimeout::MAX),
            };
            let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, t) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                // A signal: let a caller with a timeout look at its flags.
                Err(nix::errno::Errno::EINTR) if timeout.is_some() => return Ok(None),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::Io(e.into())),
            }
            let dgram = recv_datagram(&self.sock)?;
            for m in decode_datagram(&dgram)? {
                if let NetlinkPayload::InnerMessage(g) = &m.payload {
                    if m.header.message_type == GENL_ID_CTRL {
                        if g.payload.cmd == CTRL_CMD_DELFAMILY && self.names_us(&g.payload.attrs) {
                            return Err(Error::NotLoaded);
                        }
                        continue;
                    }
                    if g.payload.cmd == cmd::EVENT {
                        self.pending.push_back(Event::parse(&g.payload.attrs)?);
                    }
                }
            }
        }
    }
}

impl EventListener {
    /// Whether nlctrl attributes `buf` name our family.
    fn names_us(&self, buf: &[u8]) -> bool {
        attrs(buf)
            .filter_map(Result::ok)
            .any(|a| a.kind == CTRL_ATTR_FAMILY_ID && a.as_u16().ok() == Some(self.family))
    }
}

impl Iterator for EventListener {
    type Item = Result<Event, Error>;

    /// Blocks for the next event.
    fn next(&mut self) -> Option<Self::Item> {
        self.next_timeout(None).transpose()
    }
}

impl AsFd for EventListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for EventListener {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProcInfo {
        ProcInfo {
            pid: 131074,
            node: 2,
            home: 1,
            loadlevel: true,
            lock: false,
            nmigs: 3,
            uid: 1000,
            state: 'R',
            ppid: 1,
            cpu_ms: 12345,
            rss_kib: 4096,
            comm: "burn".into(),
        }
    }

    #[test]
    fn where_reply_round_trip() {
        let p = sample();
        assert_eq!(ProcInfo::parse(p.encode().as_bytes()).unwrap(), p);
    }

    #[test]
    fn pad_and_unknown_skipped() {
        // As the kernel sends u64s: a pad attr before each; plus an
        // attribute from a newer kernel.
        let a = Attrs::new()
            .u32(attr_proc::PID, 7)
            .raw(attr_proc::PAD, &[])
            .u64(attr_proc::CPU_MS, 99)
            .raw(200, &[1, 2, 3])
            .string(attr_proc::COMM, "sh");
        let p = ProcInfo::parse(a.as_bytes()).unwrap();
        assert_eq!(
            (p.pid, p.cpu_ms, p.comm.as_str(), p.state),
            (7, 99, "sh", '?')
        );
    }

    #[test]
    fn malformed_proc_rejected() {
        let short = Attrs::new().raw(attr_proc::PID, &[1, 0]);
        assert!(ProcInfo::parse(short.as_bytes()).is_err());
        let long_u8 = Attrs::new().u32(attr_proc::PID, 1).u32(attr_proc::LOCK, 1);
        assert!(ProcInfo::parse(long_u8.as_bytes()).is_err());
        let no_pid = Attrs::new().u32(attr_proc::NODE, 1);
        assert!(ProcInfo::parse(no_pid.as_bytes()).is_err());
        let b = sample().encode();
        for cut in 0..b.as_bytes().len() {
            let _ = ProcInfo::parse(&b.as_bytes()[..cut]);
        }
        // Cut inside the last attribute (not just its padding).
        assert!(ProcInfo::parse(&b.as_bytes()[..b.as_bytes().len() - 4]).is_err());
    }

    #[test]
    fn event_round_trip() {
        let e = Event {
            seq: 1 << 33,
            time_ms: 1_712_345_678_042,
            kind: "migrate".into(),
            node: 3,
            detail: "pid 131074 1->3".into(),
        };
        let a = e.encode();
        assert_eq!(Event::parse(a.as_bytes()).unwrap(), e);
        assert_eq!(e.time_str(), "1712345678.042");
        assert!(Event::parse(Attrs::new().u32(attr_event::SEQ, 1).as_bytes()).is_err());
    }

    #[test]
    fn node_down_lacks_load() {
        let a = Attrs::new()
            .u32(attr_node::ID, 4)
            .string(attr_node::STATE, "down")
            .u8(attr_node::SELF, 0);
        let n = NodeInfo::parse(a.as_bytes()).unwrap();
        assert_eq!(
            (n.id, n.state.as_str(), n.loadavg, n.is_self),
            (4, "down", None, false)
        );
    }
}
