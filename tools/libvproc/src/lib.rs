//! `vproc`: the library API of a vproc cluster, for programs (as OpenSSI's
//! libcluster) and for the vproc tools.
//!
//! - [`nl`]: the generic netlink client ([`Client`], [`Attrs`], [`Error`])
//!   and its low-level call, [`Client::request`];
//! - the cluster calls, re-exported here: [`where_pid`], [`migrate`],
//!   [`set_loadlevel`], [`set_lock`], [`procs`], [`nodes`],
//!   [`set_node_loadlevel`], [`events`], [`EventListener`];
//! - [`rexec`]: starting a program on another node;
//! - [`json`]: the JSON form of the records, as the tools print it;
//! - [`spec`]: the family's numbers (generated from `netlink/vproc.yaml`);
//! - this file: the `/proc/cluster` readers ([`this_node`], [`peers`]) and
//!   [`ToolError`], the tools' error-to-exit-code type.

mod api;
pub mod json;
pub mod nl;
mod rexec;
pub mod spec;

pub use api::{
    events, migrate, nodes, procs, set_loadlevel, set_lock, set_node_loadlevel, where_pid, Event,
    EventListener, NodeInfo, ProcInfo, Target,
};
pub use nl::{Attrs, Client, Error};
pub use rexec::rexec;

use std::fs;
use std::io;
use std::path::Path;

/// Where the module shows the cluster.
pub const PROC_CLUSTER: &str = "/proc/cluster";

/// A configured cluster node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddr {
    /// Node number, 1..63.
    pub node: u8,
    /// `A.B.C.D:PORT`.
    pub addr: String,
}

/// An error for the user: one line, and the exit code to leave with.
#[derive(Debug)]
pub struct ToolError {
    /// What went wrong, for stderr.
    pub msg: String,
    /// Process exit code (see README: 1 failure, 2 usage, 3 module missing).
    pub code: i32,
}

impl ToolError {
    /// An error with exit code 1.
    pub fn failed(msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            code: 1,
        }
    }
}

impl From<Error> for ToolError {
    /// The error's text, exit code 3 if the module is not loaded, else 1.
    fn from(e: Error) -> Self {
        Self {
            msg: e.to_string(),
            code: e.exit_code(),
        }
    }
}

fn read(file: &str) -> Result<String, ToolError> {
    let path = Path::new(PROC_CLUSTER).join(file);
    fs::read_to_string(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound && !Path::new(PROC_CLUSTER).exists() {
            ToolError {
                msg: "vproc module not loaded (no /proc/cluster)".into(),
                code: 3,
            }
        } else {
            ToolError::failed(format!("{}: {e}", path.display()))
        }
    })
}

/// This node's number.
pub fn this_node() -> Result<u8, ToolError> {
    let s = read("this_node")?;
    s.trim()
        .parse()
        .map_err(|_| ToolError::failed(format!("unexpected this_node contents {s:?}")))
}

/// The configured nodes.
pub fn peers() -> Result<Vec<NodeAddr>, ToolError> {
    parse_peers_file(&read("peers")?)
}

/// Parses the contents of `/proc/cluster/peers`.
pub fn parse_peers_file(s: &str) -> Result<Vec<NodeAddr>, ToolError> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            let node = it.next().and_then(|n| n.parse().ok());
            let addr = it.next();
            match (node, addr) {
                (Some(node), Some(addr)) => Ok(NodeAddr {
                    node,
                    addr: addr.to_string(),
                }),
                _ => Err(ToolError::failed(format!("unexpected peers line {l:?}"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_file() {
        let v = parse_peers_file("1 10.77.0.1:7300\n2 10.77.0.2:7300\n").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[1],
            NodeAddr {
                node: 2,
                addr: "10.77.0.2:7300".into()
            }
        );
        assert!(parse_peers_file("x y\n").is_err());
        assert!(parse_peers_file("").unwrap().is_empty());
    }
}
