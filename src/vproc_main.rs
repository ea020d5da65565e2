// SPDX-License-Identifier: GPL-2.0

//! vproc: single-system-image clustering for Linux.
//!
//! The crate root: the `module!` declaration, parameter validation, and the
//! wiring and teardown order of the layers. It owns no logic of its own:
//! pure logic lives in [`logic`] (shared with the host crate), raw C in
//! `rust/` ([`sys`]), the /proc interface in [`procfs`].
//!
//! Layers, bottom up: [`sys`] (raw C), [`logic`] (pure), [`events`] (the
//! event log), [`transport`] (authenticated TCP and membership), [`vproc`]
//! (the per-process table, PID range, the other nodes' processes),
//! [`migrate`], [`balance`], [`procfs`] (/proc/cluster and the
//! /proc/<pid>/ files: every user write parsed and checked there) and
//! [`api`] (the generic netlink family). Teardown runs top down: the /proc
//! interface goes first, so no new request can arrive while the transport
//! is being stopped.

use kernel::prelude::*;
use kernel::sync::Arc;

/// `pr_info!` for a line a user can cause (a refused request, a move that
/// fails for a reason the process's owner chose): each call site logs a
/// burst of 10 lines, then one per 5 s ([`logic::ratelimit`]), and says
/// how many it dropped, as `printk_ratelimited()` does. Defined before the
/// modules so that every one of them can use it.
macro_rules! pr_info_ratelimited {
    ($($arg:tt)*) => {{
        static LIMIT: $crate::logic::ratelimit::RateLimit =
            $crate::logic::ratelimit::RateLimit::new();
        if let Some(missed) = LIMIT.check($crate::sys::time::now_ns() / 1_000_000) {
            if missed > 0 {
                ::kernel::pr_info!("{} similar messages suppressed\n", missed);
            }
            ::kernel::pr_info!($($arg)*);
        }
    }};
}

mod api;
mod balance;
mod events;
mod logic;
mod migrate;
mod procfs;
#[path = "../rust/sys.rs"]
mod sys;
mod transport;
mod view;
mod vproc;

use logic::key::{cluster_name, parse_key, ClusterKey};
use logic::peers::{parse_peers, PeerTable, MAX_NODE};

module! {
    type: Vproc,
    name: "vproc",
    authors: ["vproc developers"],
    description: "vproc: single-system-image clustering (cluster-wide processes and migration)",
    license: "GPL",
    params: {
        node: u32 {
            default: 0,
            description: "this node's number in the cluster, 1..63 (required)",
        },
    },
}

/// The configuration this node was loaded with, validated.
pub(crate) struct Config {
    /// This node's number, `1..=MAX_NODE`.
    pub(crate) node: u8,
    /// The cluster's nodes as given by `peers=`.
    pub(crate) peers: PeerTable,
}

/// Checks `cluster=` and derives the cluster key from `key=` (`None`: no
/// key given). The key's text is wiped whatever happens, and no log line
/// shows any of it.
fn take_cluster_key() -> Result<(&'static [u8], Option<ClusterKey>)> {
    sys::param::take_key(|text| {
        let name = cluster_name(sys::param::cluster()).map_err(|e| {
            pr_err!("invalid parameter cluster: {}\n", format_args!("{e}"));
            EINVAL
        })?;
        if text.is_empty() {
            return Ok((name, None));
        }
        let secret = parse_key(text).map_err(|e| {
            pr_err!("invalid parameter key: {}\n", format_args!("{e}"));
            EINVAL
        })?;
        Ok((
            name,
            Some(ClusterKey::derive(&sys::crypto::KernelHmac, name, &secret)),
        ))
    })
}

impl Config {
    /// Validates the module parameters; logs the offending parameter.
    fn from_params() -> Result<Self> {
        let node = module_parameters::node.value();
        let node = u8::try_from(node)
            .ok()
            .filter(|n| (1..=MAX_NODE).contains(n))
            .ok_or_else(|| {
                pr_err!("invalid parameter node={}: must be 1..{}\n", node, MAX_NODE);
                EINVAL
            })?;
        let peers = parse_peers(sys::param::peers()).map_err(|e| {
            pr_err!(
                "invalid parameter peers: {} at offset {}\n",
                e.kind.as_str(),
                e.offset
            );
            EINVAL
        })?;
        Ok(Self { node, peers })
    }
}

/// The loaded module. Fields drop in declaration order: see the crate docs.
struct Vproc {
    genl: Option<sys::genl::GenlReg>,
    remote_procs: Option<sys::process::RemoteProcsReg>,
    proxies: Option<sys::migrate::ProxyReg>,
    /// Home's watches of files a moved thread waits on (rust/watch.c).
    watches: Option<sys::migrate::WatchReg>,
    /// The guests' system calls done at home (kernel patch 0007).
    syscalls: Option<sys::migrate::SysReg<migrate::Migrator>>,
    reporter: Option<sys::thread::KThread>,
    /// Runs control requests from other nodes (never on the reporter).
    controller: Option<sys::thread::KThread>,
    mover: Option<sys::thread::KThread>,
    /// Post-copies from here (`vproc-lazy`).
    lazy: Option<sys::thread::KThread>,
    balancer_thread: Option<sys::thread::KThread>,
    pid_files: Option<sys::process::PidFilesReg>,
    task_events: Option<sys::process::TaskEventsReg>,
    proc: Option<procfs::ClusterProc>,
    table: Arc<vproc::VprocTable>,
    remote: Arc<vproc::RemoteView>,
    migrator: Arc<migrate::Migrator>,
    transport: Arc<transport::Transport>,
    config: Arc<Config>,
}

impl kernel::Module for Vproc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // The key first, so that its text is wiped even when another
        // parameter is wrong. The HMAC self-test runs before the key is
        // derived with it; a failure is reported once the key is wiped.
        let self_test = sys::crypto::self_test();
        let (cluster, key) = take_cluster_key()?;
        self_test?;
        let config = Arc::new(Config::from_params()?, GFP_KERNEL)?;
        let events = events::Events::new()?;
        let transport =
            transport::Transport::new(config.node, &config.peers, cluster, key, events)?;
        let table = match vproc::VprocTable::new(config.node, transport.clone()) {
            Ok(t) => t,
            Err(e) => {
                transport.shutdown();
                return Err(e);
            }
        };
        let remote = match vproc::RemoteView::new(config.node, transport.clone(), table.clone()) {
            Ok(r) => r,
            Err(e) => {
                transport.shutdown();
                table.release_pid_range();
                return Err(e);
            }
        };
        let migrator = match migrate::Migrator::new(
            config.node,
            transport.clone(),
            table.clone(),
            transport.events.clone(),
        ) {
            Ok(m) => m,
            Err(e) => {
                transport.shutdown();
                table.release_pid_range();
                return Err(e);
            }
        };
        // From here on, dropping `this` undoes whatever was set up.
        let mut this = Self {
            genl: None,
            remote_procs: None,
            proxies: None,
            watches: None,
            syscalls: None,
            reporter: None,
            controller: None,
            mover: None,
            lazy: None,
            balancer_thread: None,
            pid_files: None,
            task_events: None,
            proc: None,
            table,
            remote,
            migrator,
            transport,
            config,
        };
        this.proxies = Some(sys::migrate::ProxyReg::new(this.migrator.clone()));
        this.watches = Some(sys::migrate::WatchReg::new(this.migrator.clone())?);
        this.syscalls = Some(sys::migrate::SysReg::new(this.migrator.clone())?);
        this.reporter = Some(sys::thread::KThread::spawn(
            c"vproc-migd",
            Arc::new(migrate::Reporter(this.migrator.clone()), GFP_KERNEL)?,
        )?);
        this.controller = Some(sys::thread::KThread::spawn(
            c"vproc-ctl",
            Arc::new(migrate::Controller(this.migrator.clone()), GFP_KERNEL)?,
        )?);
        this.mover = Some(sys::thread::KThread::spawn(
            c"vproc-mover",
            Arc::new(migrate::Mover(this.migrator.clone()), GFP_KERNEL)?,
        )?);
        this.lazy = Some(sys::thread::KThread::spawn(
            c"vproc-lazy",
            Arc::new(migrate::LazyPusher(this.migrator.clone()), GFP_KERNEL)?,
        )?);
        let balancer = balance::Balancer::new(
            this.config.node,
            this.transport.clone(),
            this.table.clone(),
            this.migrator.clone(),
            this.transport.events.clone(),
        )?;
        this.task_events = Some(sys::process::TaskEventsReg::new(this.migrator.clone())?);
        this.proc = Some(procfs::ClusterProc::new(
            this.config.clone(),
            &this.transport,
            &this.table,
            &this.migrator,
            &balancer,
        )?);
        this.pid_files = Some(sys::process::PidFilesReg::new(Arc::new(
            procfs::PidFiles::new(this.config.node, this.table.clone(), this.migrator.clone()),
            GFP_KERNEL,
        )?)?);
        this.remote_procs = Some(sys::process::RemoteProcsReg::new(Arc::new(
            procfs::RemoteFiles(this.remote.clone()),
            GFP_KERNEL,
        )?)?);
        this.genl = Some(sys::genl::GenlReg::new(Arc::new(
            api::Api {
                me: this.config.node,
                transport: this.transport.clone(),
                table: this.table.clone(),
                remote: this.remote.clone(),
                migrator: this.migrator.clone(),
                events: this.transport.events.clone(),
            },
            GFP_KERNEL,
        )?)?);
        // Every layer is here: the transport starts, with them.
        let observer = this.proc.as_ref().map(|p| p.observer());
        this.transport.run(transport::Services {
            service: Some(this.remote.clone()),
            mig: Some(this.migrator.clone()),
            observer,
        })?;
        this.balancer_thread = Some(sys::thread::KThread::spawn(
            c"vproc-balance",
            Arc::new(balance::BalanceThread(balancer), GFP_KERNEL)?,
        )?);
        pr_info!(
            "node {} up, {} peer(s) configured\n",
            this.config.node,
            this.config.peers.len()
        );
        Ok(this)
    }
}

impl Drop for Vproc {
    fn drop(&mut self) {
        // Top down: stop serving /proc (per-process files, then
        // /proc/cluster), stop following processes, stop the transport (it
        // tells the peers we leave, stops its threads, closes every
        // socket), and give the PID space back. The netlink family goes
        // first: its commands reach every layer.
        self.migrator.unloading();
        drop(self.genl.take());
        drop(self.balancer_thread.take());
        drop(self.remote_procs.take());
        drop(self.pid_files.take());
        drop(self.task_events.take());
        drop(self.proc.take());
        self.migrator.wake();
        // The transport before the threads that may wait on it: a
        // forwarded move waits minutes for an answer; with every
        // connection closed each wait ends at once, so unloading never
        // hangs behind one.
        self.transport.shutdown();
        drop(self.reporter.take());
        drop(self.controller.take());
        drop(self.mover.take());
        drop(self.lazy.take());
        drop(self.syscalls.take());
        drop(self.proxies.take());
        drop(self.watches.take());
        self.table.release_pid_range();
        pr_info!("node {} unloaded\n", self.config.node);
    }
}
