// SPDX-License-Identifier: GPL-2.0

//! The /proc/cluster/ interface.
//!
//! Owns the directory tree and renders the files from state owned elsewhere
//! (the configuration, the transport's node table, the event log): procfs
//! only asks, it never keeps a copy of its own. Writes are parsed and
//! checked here (root only for `admin/`), then handed to their owner.
//!
//! ```text
//! /proc/cluster/this_node        this node's number
//! /proc/cluster/peers            the configured nodes, NODE ADDR:PORT
//! /proc/cluster/nodes            every known node: state, load, last heard
//! /proc/cluster/node<n>/load     node n's last load vector
//! /proc/cluster/node<n>/loadlevel  1/0: node n takes part in load leveling
//!                                (writable by root for this node only)
//! /proc/cluster/loadlevellist    programs that get loadlevel 1 at exec;
//!                                root writes NAME to add, -NAME to remove
//! /proc/cluster/events           the event log, a stream (see events.rs)
//! /proc/cluster/transport        the transport's limits and what they
//!                                refused (see transport/stats.rs)
//! /proc/cluster/admin/           root only:
//!     key                        write the cluster key (never readable)
//!     add, remove                add "N@A.B.C.D:PORT" / remove "N" a peer
//!     heartbeat_ms, timeout_ms   membership tunables
//!     bench                      write "N BYTES": stream to node N; or
//!                                "crypto": the MACs and AEADs this kernel
//!                                offers at the frame size; read the result
//!                                of the last run
//!     leave                      write 1: hand back what depends on this
//!                                node (before rmmod); reads 1 while leaving
//! ```

use crate::logic::fmtbuf::FmtBuf;
use crate::logic::key::parse_key;
use crate::logic::peers::{parse_peer, MAX_NODE};
use crate::logic::wire::LOAD_FLAG_LOADLEVEL;
use crate::sys::crypto::capable_admin;
use crate::sys::proc::{ProcDir, ProcFileOps, Seq};
use crate::transport::{Ip, NodeObserver, Transport};
use crate::vproc::VprocTable;
use crate::Config;
use core::fmt::Write;
use core::sync::atomic::Ordering;
use kernel::{new_mutex, prelude::*, sync::Arc, sync::Mutex};

/// Parses a decimal number (surrounding whitespace allowed) within `lo..=hi`.
/// Logs and refuses anything else, naming `file`.
fn parse_num(file: &str, buf: &[u8], lo: u64, hi: u64) -> Result<u64> {
    let v = core::str::from_utf8(buf)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|v| (lo..=hi).contains(v));
    v.ok_or_else(|| {
        pr_info!("{}: expected a number {}..{}\n", file, lo, hi);
        EINVAL
    })
}

/// Admin writes need CAP_SYS_ADMIN, whatever the file mode says.
fn admin_only() -> Result {
    if capable_admin() {
        Ok(())
    } else {
        pr_info!("/proc/cluster: write refused, CAP_SYS_ADMIN needed\n");
        Err(EPERM)
    }
}

/// `this_node`.
struct ThisNode(Arc<Config>);

impl ProcFileOps for ThisNode {
    fn show(&self, m: &mut Seq<'_>) -> Result {
        let _ = writeln!(m, "{}", self.0.node);
        Ok(())
    }
}

/// `peers`.
struct Peers(Arc<Config>);

impl ProcFileOps for Peers {
    fn show(&self, m: &mut Seq<'_>) -> Result {
        for p in self.0.peers.iter() {
            let [a, b, c, d] = p.addr;
            let _ = writeln!(m, "{} {}.{}.{}.{}:{}", p.node, a, b, c, d, p.port);
        }
        Ok(())
    }
}

/// `nodes`.
struct Nodes(Arc<Transport>);

impl ProcFileOps for Nodes {
    fn show(&self, m: &mut Seq<'_>) -> Result {
        let _ = writeln!(
            m,
            "node address               state    load  run cpus    speed  free_mb  total_mb  heard_s"
        );
        for n in self.0.nodes()?.iter() {
            let mut addr = FmtBuf::<24>::new();
            if n.is_self {
                let _ = write!(addr, "self:{}", n.port);
            } else {
                let _ = write!(addr, "{}:{}", Ip(n.addr), n.port);
            }
            let addr = core::str::from_utf8(addr.as_bytes()).unwrap_or("?");
            let _ = write!(m, "{:>4} {:<20} {:<7}", n.node, addr, n.state.as_str());
            match n.load {
                Some(l) => {
                    let _ = write!(
                        m,
                        " {:>3}.{:02} {:>4} {:>4} {:>8} {:>8} {:>9}",
                        l.loadavg / 100,
                        l.loadavg % 100,
                        l.runnable,
                        l.cpus,
                        l.speed,
                        l.free_kib / 1024,
                        l.total_kib / 1024
                    );
                }
                None => {
                    let _ = write!(
                        m,
                        " {:>6} {:>4} {:>4} {:>8} {:>8} {:>9}",
                        "-", "-", "-", "-", "-", "-"
                    );
                }
            }
            match n.silent_ms {
                Some(ms) => {
                    let _ = writeln!(m, " {:>5}.{}", ms / 1000, (ms % 1000) / 100);
                }
                None => {
                    let _ = writeln!(m, " {:>7}", "never");
                }
            }
        }
        Ok(())
    }
}

/// `/proc/cluster/custody`: moved processes held here, and what went
/// wrong with them, counted (`name value` lines).
struct Custody(Arc<crate::migrate::Migrator>);

impl ProcFileOps for Custody {
    fn show(&self, m: &mut Seq<'_>) -> Result {
        let st = self.0.custody_stats();
        let c = st.counters;
        for (name, v) in [
            ("bodies", st.bodies as u64),
            ("deputies", st.deputies as u64),
            ("exits_pending", st.exits_pending as u64),
            ("moved_remembered", st.moved as u64),
            ("started_remembered", st.started as u64),
            ("thread_deputies", st.thread_deputies as u64),
            ("threads_moving", st.threads_moving as u64),
            ("arriving", st.arriving as u64),
            ("moving", st.moving as u64),
            ("go_retries", c.go_retries.get()),
            ("go_unknown", c.go_unknown.get()),
            ("exits_dropped", c.exits_dropped.get()),
            ("fenced", c.fenced.get()),
            ("lost", c.lost.get()),
            ("started_full", c.started_full.get()),
            ("io_retries", c.io_retries.get()),
            ("signal_retries", c.signal_retries.get()),
            ("signals_dropped", c.signals_dropped.get()),
            ("controls_refused", c.controls_refused.get()),
            ("moves_refused", c.moves_refused.get()),
            ("ios_refused", c.ios_refused.get()),
            ("incoming_refused", c.incoming_refused.get()),
            ("io_served", c.io_served.get()),
            ("polls_served", c.polls_served.get()),
            ("ready_sent", c.ready_sent.get()),
            ("waits_here", c.waits_here.get()),
            ("forks_here", c.forks_here.get()),
            ("watches", u64::from(st.watches)),
        ] {
            let _ = writeln!(m, "{} {}", name, v);
        }
        Ok(())
    }
}

/// `node<n>/load`.
struct NodeLoad {
    t: Arc<Transport>,
    node: u8,
}

impl ProcFileOps for NodeLoad {
    fn show(&self, m: &mut Seq<'_>) -> Result {
        let nodes = self.t.nodes()?;
        let n = nodes.iter().find(|n| n.node == self.node).ok_or(ENOENT)?;
        let _ = writeln!(m, "state: {}", n.state.as_str());
        if let Some(l) = n.load {
            let _ = writeln!(m, "runnable: {}", l.runnable);
            let _ = writeln!(m, "loadavg: {}.{:02}", l.loadavg / 100, l.loadavg % 100);
            let _ = writeln!(m, "cpus: {}", l.cpus);
            let _ = writeln!(m, "speed: {}", l.speed);
            let _ = writeln!(m, "free_kib: {}", l.free_kib);
            let _ = writeln!(m, "total_kib: {}", l.total_kib);
            let _ = writeln!(m, "vprocs: {}", l.vprocs);
            let _ = writeln!(m, "busy: {}", l.busy);
        }
        if let Some(ms) = n.silent_ms {
            let _ = writeln!(m, "heard_ms_ago: {}", ms);
        }
        Ok(())
    }
}

/// `node<n>/loadlevel`.
struct NodeLoadlevel {
    t: Arc<Transport>,
    node: u8,
}

impl ProcFileOps for NodeLoadlevel {
    const WRITABLE: bool = true;

    fn show(&self, m: &mut Seq<'_>) -> Result {
        if self.node == self.t.me() {
            let _ = writeln!(m, "{}", u8::from(self.t.loadlevel.load(Ordering::Relaxed)));
            return Ok(());
        }
        let nodes = self.t.nodes()?;
        match nodes
            .iter()
            .find(|n| n.node == self.node)
            .and_then(|n| n.load)
        {
            Some(l) => {
                let _ = writeln!(m, "{}", u8::from(l.flags & LOAD_FLAG_LOADLEVEL != 0));
            }
            None => {
                let _ = writeln!(m, "-");
            }
        }
        Ok(())
    }

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        if self.node != self.t.me() {
            pr_info!(
                "node{}/loadlevel: set it on node {} itself\n",
                self.node,
                self.node
            );
            return Err(EINVAL);
        }
        let v = parse_num("node<n>/loadlevel", buf, 0, 1)?;
        self.t.loadlevel.store(v == 1, Ordering::Relaxed);
        Ok(())
    }
}

/// `loadlevellist`.
struct Loadlevellist(Arc<VprocTable>);

impl ProcFileOps for Loadlevellist {
    const WRITABLE: bool = true;

    fn show(&self, m: &mut Seq<'_>) -> Result {
        self.0.each_loadlevel_program(&mut |name| {
            m.write(name);
            m.write(b"\n");
        });
        Ok(())
    }

    /// `NAME` adds a program, `-NAME` removes it.
    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        let s = buf.trim_ascii();
        let (remove, name) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            _ => (false, s),
        };
        if name.is_empty() || name.len() > 15 || name.iter().any(|c| c.is_ascii_whitespace()) {
            pr_info!("loadlevellist: a program name is 1..15 bytes, no spaces\n");
            return Err(EINVAL);
        }
        let name = core::str::from_utf8(name).map_err(|_| EINVAL)?;
        self.0.edit_loadlevellist(name, remove)
    }
}

/// `admin/key`: write-only.
struct Key(Arc<Transport>);

impl ProcFileOps for Key {
    const READABLE: bool = false;
    const WRITABLE: bool = true;

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        // A trailing newline from `echo` is not part of the key. The
        // format is `logic::key`'s (EINVAL and a log line that does not
        // show it otherwise); the C side wipes the buffer after this
        // returns, and the secret wipes itself when dropped.
        let key = buf.strip_suffix(b"\n").unwrap_or(buf);
        let secret = parse_key(key).map_err(|e| {
            pr_warn!("admin/key: invalid key: {}\n", format_args!("{e}"));
            EINVAL
        })?;
        self.0.set_key(secret)
    }
}

/// `admin/add`, `admin/remove`.
struct AddRemove {
    t: Arc<Transport>,
    proc: Arc<ClusterDirs>,
    add: bool,
}

impl ProcFileOps for AddRemove {
    const READABLE: bool = false;
    const WRITABLE: bool = true;

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        let s = core::str::from_utf8(buf).map_err(|_| EINVAL)?.trim();
        if self.add {
            let p = parse_peer(s.as_bytes(), 0).map_err(|e| {
                pr_warn!("admin/add: {} at offset {}\n", e.kind.as_str(), e.offset);
                EINVAL
            })?;
            self.t.add_peer(&p)?;
            self.proc.ensure_node(&self.t, p.node)
        } else {
            let n = parse_num("admin/remove", s.as_bytes(), 1, u64::from(MAX_NODE))?;
            self.t.remove_peer(n as u8)?;
            self.proc.remove_node(n as u8);
            Ok(())
        }
    }
}

/// `admin/heartbeat_ms`, `admin/timeout_ms`.
struct Tunable {
    t: Arc<Transport>,
    timeout: bool,
}

impl ProcFileOps for Tunable {
    const WRITABLE: bool = true;

    fn show(&self, m: &mut Seq<'_>) -> Result {
        let tun = &self.t.tun;
        let v = if self.timeout {
            tun.timeout_ms.load(Ordering::Relaxed)
        } else {
            tun.heartbeat_ms.load(Ordering::Relaxed)
        };
        let _ = writeln!(m, "{}", v);
        Ok(())
    }

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        let tun = &self.t.tun;
        let file = if self.timeout {
            "admin/timeout_ms"
        } else {
            "admin/heartbeat_ms"
        };
        let v = parse_num(file, buf, 100, 60_000)? as u32;
        // The timeout must leave room for at least two heartbeats.
        if self.timeout {
            if v < 2 * tun.heartbeat_ms.load(Ordering::Relaxed) {
                pr_info!("{}: must be at least twice heartbeat_ms\n", file);
                return Err(EINVAL);
            }
            tun.timeout_ms.store(v, Ordering::Relaxed);
        } else {
            if 2 * v > tun.timeout_ms.load(Ordering::Relaxed) {
                pr_info!("{}: must be at most half of timeout_ms\n", file);
                return Err(EINVAL);
            }
            tun.heartbeat_ms.store(v, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// `admin/balance_*`: the load leveller's tunables.
struct BalanceTunable {
    b: Arc<crate::balance::Balancer>,
    i: usize,
}

impl ProcFileOps for BalanceTunable {
    const WRITABLE: bool = true;

    fn show(&self, m: &mut Seq<'_>) -> Result {
        let v = self.b.tun.get(self.i).ok_or(EINVAL)?;
        let _ = writeln!(m, "{}", v.load(Ordering::Relaxed));
        Ok(())
    }

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        let (name, lo, hi) = crate::balance::TUNABLES[self.i];
        let name = name.to_str().unwrap_or("admin/balance_*");
        let v = parse_num(name, buf, u64::from(lo), u64::from(hi))? as u32;
        self.b
            .tun
            .get(self.i)
            .ok_or(EINVAL)?
            .store(v, Ordering::Relaxed);
        Ok(())
    }
}

/// `admin/bench`.
#[pin_data]
struct Bench {
    t: Arc<Transport>,
    #[pin]
    last: Mutex<FmtBuf<1024>>,
}

impl ProcFileOps for Bench {
    const WRITABLE: bool = true;

    fn show(&self, m: &mut Seq<'_>) -> Result {
        m.write(self.last.lock().as_bytes());
        Ok(())
    }

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        let s = core::str::from_utf8(buf).map_err(|_| EINVAL)?;
        if s.trim() == "crypto" {
            // The MACs and AEADs this kernel offers, at the frame size.
            let mut out = FmtBuf::<1024>::new();
            crate::sys::crypto::bench(64, &mut |name, r| {
                let _ = match r {
                    Ok(mb) => writeln!(out, "crypto {} MB/s {}", mb, name),
                    Err(e) => writeln!(out, "crypto - error {} {}", e, name),
                };
            })?;
            *self.last.lock() = out;
            return Ok(());
        }
        let mut it = s.split_whitespace();
        let (Some(node), Some(bytes), None) = (it.next(), it.next(), it.next()) else {
            pr_info!("admin/bench: write \"NODE BYTES\" or \"crypto\"\n");
            return Err(EINVAL);
        };
        let node = parse_num("admin/bench", node.as_bytes(), 1, u64::from(MAX_NODE))? as u8;
        let bytes = parse_num("admin/bench", bytes.as_bytes(), 0, 1 << 34)?;
        // RTT: the best of 20 small round trips.
        let mut rtt = u64::MAX;
        for _ in 0..20 {
            let (ns, _) = self.t.ping(node, 64, 5000)?;
            rtt = rtt.min(ns);
        }
        let before = self.t.ping(node, 8, 5000)?.1;
        let (ns, after) = self.t.stream(node, bytes)?;
        let got = after.saturating_sub(before);
        if got != bytes {
            pr_warn!(
                "bench: node {} confirmed {} of {} bytes\n",
                node,
                got,
                bytes
            );
            return Err(EIO);
        }
        let mut out = FmtBuf::<1024>::new();
        let _ = writeln!(
            out,
            "node {} bytes {} ns {} rtt_ns {}",
            node, bytes, ns, rtt
        );
        *self.last.lock() = out;
        Ok(())
    }
}

/// `admin/leave`: write 1 to leave the cluster before `rmmod` (see
/// `migrate::leave`); reads 1 while leaving.
struct LeaveFile(Arc<crate::migrate::Migrator>);

impl ProcFileOps for LeaveFile {
    const WRITABLE: bool = true;

    fn show(&self, m: &mut Seq<'_>) -> Result {
        m.write(if self.0.is_leaving() { b"1\n" } else { b"0\n" });
        Ok(())
    }

    fn write(&self, buf: &[u8]) -> Result {
        admin_only()?;
        parse_num("admin/leave", buf, 1, 1)?;
        self.0.leave()
    }
}

/// `admin/restore`: the restorer stub's door (root only). It writes "MIG"
/// (hex) from the new process, "MIG thread" from each of its other
/// threads, or "MIG fail ERRNO".
/// `admin/lazy`: the post-copy helper (`vproc-restore lazy MIG`) writes
/// "MIG" (hex); the write serves that migration's missing pages in the
/// helper's context and returns when every one is in.
struct LazyFile(Arc<crate::migrate::Migrator>);

impl ProcFileOps for LazyFile {
    const READABLE: bool = false;
    const WRITABLE: bool = true;

    fn write(&self, buf: &[u8]) -> Result {
        if !capable_admin() {
            return Err(EPERM);
        }
        let mig_id = core::str::from_utf8(buf)
            .ok()
            .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(|| {
                pr_info!("admin/lazy: write \"MIG\" (hex)\n");
                EINVAL
            })?;
        self.0.lazy_serve(mig_id)
    }
}

struct RestoreFile(Arc<crate::migrate::Migrator>);

impl ProcFileOps for RestoreFile {
    const READABLE: bool = false;
    const WRITABLE: bool = true;

    fn write(&self, buf: &[u8]) -> Result {
        if !capable_admin() {
            return Err(EPERM);
        }
        let bad = || {
            pr_info!(
                "admin/restore: write \"MIG\", \"MIG thread\", \"MIG uffd FD\", \"MIG userns FD\" or \"MIG fail ERRNO\" (MIG in hex)\n"
            );
            EINVAL
        };
        let s = core::str::from_utf8(buf).map_err(|_| bad())?;
        let mut it = s.split_whitespace();
        let mig_id = it
            .next()
            .and_then(|m| u64::from_str_radix(m, 16).ok())
            .ok_or_else(bad)?;
        let fail = match (it.next(), it.next(), it.next()) {
            (None, _, _) => None,
            // One of the process's other threads, made by the restorer.
            (Some("thread"), None, _) => return self.0.attach_thread(mig_id),
            // The userfaultfd it made for post-copy, at that descriptor.
            (Some("uffd"), Some(fd), None) => {
                return self
                    .0
                    .lazy_uffd(mig_id, fd.parse::<i32>().map_err(|_| bad())?)
            }
            // The user namespace it made for the process, at that
            // descriptor (its /proc/PID/ns/user).
            (Some("userns"), Some(fd), None) => {
                return self
                    .0
                    .restore_userns(mig_id, fd.parse::<i32>().map_err(|_| bad())?)
            }
            (Some("fail"), Some(e), None) => {
                Some(e.parse::<i32>().map_err(|_| bad())?.clamp(1, 4095))
            }
            _ => return Err(bad()),
        };
        self.0.attach(mig_id, fail)
    }
}

/// The mutable part of the tree (node directories come and go).
#[pin_data]
struct ClusterDirs {
    t: Arc<Transport>,
    #[pin]
    root: Mutex<Option<ProcDir>>,
}

impl NodeObserver for ClusterDirs {
    fn node_known(&self, node: u8) {
        let _ = self.ensure_node(&self.t, node);
    }
}

impl ClusterDirs {
    /// Creates `node<n>/` with its files unless it exists.
    fn ensure_node(&self, t: &Arc<Transport>, node: u8) -> Result {
        let mut guard = self.root.lock();
        let Some(root) = &mut *guard else {
            return Ok(());
        };
        if root.dir_mut(u32::from(node)).is_some() {
            return Ok(());
        }
        let mut name = FmtBuf::<16>::new();
        let _ = write!(name, "node{}\0", node);
        let name = CStr::from_bytes_with_nul(name.as_bytes()).map_err(|_| EINVAL)?;
        let d = root.add_dir(u32::from(node), name, 0o555)?;
        d.add(
            c"load",
            0o444,
            Arc::new(NodeLoad { t: t.clone(), node }, GFP_KERNEL)?,
        )?;
        // Root switches load leveling on node n at node n itself.
        let mode = if node == t.me() { 0o644 } else { 0o444 };
        d.add(
            c"loadlevel",
            mode,
            Arc::new(NodeLoadlevel { t: t.clone(), node }, GFP_KERNEL)?,
        )
    }

    fn remove_node(&self, node: u8) {
        let mut guard = self.root.lock();
        if let Some(root) = &mut *guard {
            root.remove_dir(u32::from(node));
        }
    }
}

/// `/proc/cluster/` and everything vproc shows in it; removed on drop.
pub(crate) struct ClusterProc {
    dirs: Arc<ClusterDirs>,
}

/// Tag of the `admin/` subdirectory (node directories use 1..=63).
const ADMIN_TAG: u32 = 1000;

impl ClusterProc {
    /// Creates `/proc/cluster/` and its files.
    pub(crate) fn new(
        config: Arc<Config>,
        t: &Arc<Transport>,
        table: &Arc<VprocTable>,
        migrator: &Arc<crate::migrate::Migrator>,
        balancer: &Arc<crate::balance::Balancer>,
    ) -> Result<Self> {
        let mut root = ProcDir::new_root(c"cluster", 0o555)?;
        root.add(
            c"loadlevellist",
            0o644,
            Arc::new(Loadlevellist(table.clone()), GFP_KERNEL)?,
        )?;
        root.add(
            c"this_node",
            0o444,
            Arc::new(ThisNode(config.clone()), GFP_KERNEL)?,
        )?;
        root.add(c"peers", 0o444, Arc::new(Peers(config), GFP_KERNEL)?)?;
        root.add(c"nodes", 0o444, Arc::new(Nodes(t.clone()), GFP_KERNEL)?)?;
        root.add(
            c"custody",
            0o444,
            Arc::new(Custody(migrator.clone()), GFP_KERNEL)?,
        )?;
        root.add(
            c"transport",
            0o444,
            Arc::new(crate::transport::TransportFile(t.clone()), GFP_KERNEL)?,
        )?;
        root.add_stream(c"events", 0o444, t.events.clone(), t.events.waker())?;
        let dirs = Arc::pin_init(
            pin_init!(ClusterDirs {
                t: t.clone(),
                root <- new_mutex!(None, "ClusterDirs::root"),
            }),
            GFP_KERNEL,
        )?;
        let admin = root.add_dir(ADMIN_TAG, c"admin", 0o500)?;
        admin.add(c"key", 0o200, Arc::new(Key(t.clone()), GFP_KERNEL)?)?;
        for (i, &(name, _, _)) in crate::balance::TUNABLES.iter().enumerate() {
            admin.add(
                name,
                0o600,
                Arc::new(
                    BalanceTunable {
                        b: balancer.clone(),
                        i,
                    },
                    GFP_KERNEL,
                )?,
            )?;
        }
        admin.add(
            c"leave",
            0o600,
            Arc::new(LeaveFile(migrator.clone()), GFP_KERNEL)?,
        )?;
        admin.add(
            c"restore",
            0o200,
            Arc::new(RestoreFile(migrator.clone()), GFP_KERNEL)?,
        )?;
        admin.add(
            c"lazy",
            0o200,
            Arc::new(LazyFile(migrator.clone()), GFP_KERNEL)?,
        )?;
        for (name, add) in [(c"add", true), (c"remove", false)] {
            admin.add(
                name,
                0o200,
                Arc::new(
                    AddRemove {
                        t: t.clone(),
                        proc: dirs.clone(),
                        add,
                    },
                    GFP_KERNEL,
                )?,
            )?;
        }
        for (name, timeout) in [(c"heartbeat_ms", false), (c"timeout_ms", true)] {
            admin.add(
                name,
                0o600,
                Arc::new(
                    Tunable {
                        t: t.clone(),
                        timeout,
                    },
                    GFP_KERNEL,
                )?,
            )?;
        }
        admin.add(
            c"bench",
            0o600,
            Arc::pin_init(
                pin_init!(Bench {
                    t: t.clone(),
                    last <- new_mutex!(FmtBuf::new(), "Bench::last"),
                }),
                GFP_KERNEL,
            )?,
        )?;
        *dirs.root.lock() = Some(root);
        let this = Self { dirs };
        for n in t.nodes()?.iter() {
            this.dirs.ensure_node(t, n.node)?;
        }
        Ok(this)
    }
}

impl ClusterProc {
    /// Who the transport tells of new nodes (handed in at its start).
    pub(crate) fn observer(&self) -> Arc<dyn NodeObserver> {
        self.dirs.clone()
    }
}

impl Drop for ClusterProc {
    fn drop(&mut self) {
        // The transport must stop telling us about nodes. (The event log's
        // waker is emptied when the stream file goes.)
        self.dirs.t.stop_observer();
        // The AddRemove files hold `dirs`: break the cycle by removing the
        // tree explicitly.
        let root = self.dirs.root.lock().take();
        drop(root);
    }
}
