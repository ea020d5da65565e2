// SPDX-License-Identifier: GPL-2.0

//! Everything users read and write under /proc that is the module's:
//! all parsing of text written by users and all permission checks of these
//! files happen here; the layers below (vproc, migrate, balance, transport)
//! take typed requests only.
//!
//! - [`cluster`]: /proc/cluster/ (nodes, tunables, admin/);
//! - [`pid`]: /proc/<pid>/{where,goto,loadlevel,lock,nmigs} of a local
//!   process;
//! - [`remote`]: the /proc/<pid>/ directories of other nodes' processes.

#[path = "procfs/cluster.rs"]
mod cluster;
#[path = "procfs/pid.rs"]
mod pid;
#[path = "procfs/remote.rs"]
mod remote;

pub(crate) use cluster::ClusterProc;
pub(crate) use pid::PidFiles;
pub(crate) use remote::RemoteFiles;
