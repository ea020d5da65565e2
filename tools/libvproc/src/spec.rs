// SPDX-License-Identifier: GPL-2.0
// Do not edit: generated from netlink/vproc.yaml by netlink/gen_rust.py (make spec).

//! Numbers of the `vproc` generic netlink family.

/// Family name (resolved to an id through nlctrl).
pub const FAMILY_NAME: &str = "vproc";
/// Family version.
pub const FAMILY_VERSION: u8 = 1;
/// Highest node number.
pub const MAX_NODE: u32 = 63;

/// Where migrate sends a process.
pub mod migrate_to {
    /// The node in the node attribute.
    pub const NODE: u32 = 0;
    /// Its home node (where its PID was allocated).
    pub const HOME: u32 = 1;
    /// Wherever the load leveller finds best (goto -1).
    pub const BALANCE: u32 = 2;
}

/// Attributes of set `proc`: A process of the cluster.
pub mod attr_proc {
    pub const PAD: u16 = 1;
    /// Its cluster-wide PID.
    pub const PID: u16 = 2;
    /// The node it runs on; in migrate, the target when to is node.
    pub const NODE: u16 = 3;
    /// Its home node (its deputy lives there once it moved).
    pub const HOME: u16 = 4;
    /// Where migrate sends it.
    pub const TO: u16 = 5;
    /// 1 if the load leveller may move it.
    pub const LOADLEVEL: u16 = 6;
    /// 1 if it is pinned to its node.
    pub const LOCK: u16 = 7;
    /// Times it migrated.
    pub const NMIGS: u16 = 8;
    /// Its effective uid.
    pub const UID: u16 = 9;
    /// State letter as in /proc/\<pid>/stat (R, S, D, T, Z, ...).
    pub const STATE: u16 = 10;
    /// Its parent's PID.
    pub const PPID: u16 = 11;
    /// User plus system CPU time, ms.
    pub const CPU_MS: u16 = 12;
    /// Resident memory, KiB.
    pub const RSS_KIB: u16 = 13;
    /// Its command name.
    pub const COMM: u16 = 14;
}

/// Attributes of set `node`: A node of the cluster, as this node sees it.
pub mod attr_node {
    pub const PAD: u16 = 1;
    /// Node number.
    pub const ID: u16 = 2;
    /// 1 for the node answering.
    pub const SELF: u16 = 3;
    /// up, down, joining, ... as in /proc/cluster/nodes.
    pub const STATE: u16 = 4;
    /// 1-minute load average times 100.
    pub const LOADAVG: u16 = 5;
    pub const RUNNABLE: u16 = 6;
    /// CPU-bound cluster processes (what the leveller balances).
    pub const BUSY: u16 = 7;
    pub const CPUS: u16 = 8;
    /// Relative CPU speed.
    pub const SPEED: u16 = 9;
    /// Cluster processes running there.
    pub const VPROCS: u16 = 10;
    pub const FREE_KIB: u16 = 11;
    pub const TOTAL_KIB: u16 = 12;
    /// 1 if that node takes part in load leveling.
    pub const LOADLEVEL: u16 = 13;
    /// Milliseconds since that node was last heard from.
    pub const HEARD_MS: u16 = 14;
}

/// Attributes of set `event`: One entry of the cluster event log.
pub mod attr_event {
    pub const PAD: u16 = 1;
    pub const SEQ: u16 = 2;
    /// Wall-clock time, ms since the epoch.
    pub const TIME_MS: u16 = 3;
    /// join, up, down, leave, refused, added, removed, key, migrate, migrate-failed, balance, duplicate, leaving.
    pub const KIND: u16 = 4;
    /// The node it is about (0 for none).
    pub const NODE: u16 = 5;
    pub const DETAIL: u16 = 6;
}

/// Commands.
pub mod cmd {
    /// Where a process runs, its home and its switches.
    pub const WHERE: u8 = 1;
    /// Moves a process (as a write to /proc/\<pid>/goto); returns once it runs there, or with an error and the process untouched.
    pub const MIGRATE: u8 = 2;
    /// Lets the load leveller move a process (1) or not (0).
    pub const SET_LOADLEVEL: u8 = 3;
    /// Pins a process to its node (1) or frees it (0).
    pub const SET_LOCK: u8 = 4;
    /// Every process of the cluster (as ps on this node lists them).
    pub const PROCS: u8 = 5;
    /// Every configured node, its state and load.
    pub const NODES: u8 = 6;
    /// Lets this node take part in load leveling (1) or not (0).
    pub const SET_NODE_LOADLEVEL: u8 = 7;
    /// The event log kept on this node (the last 256 events).
    pub const EVENTS: u8 = 8;
    /// An event as it happens, sent to the events group.
    pub const EVENT: u8 = 9;
}

/// Multicast group names.
pub mod mcgrp {
    pub const EVENTS: &str = "events";
}
