// SPDX-License-Identifier: GPL-2.0

//! The /proc/cluster/ interface.
//!
//! Owns the directory and renders the files from state owned elsewhere (the
//! configuration, later the membership and vproc tables): procfs only asks,
//! it never keeps a copy of its own.
//!
//! Files so far:
//! - `this_node`: this node's number.
//! - `peers`: the configured cluster nodes, one `NODE ADDR:PORT` per line.

use crate::sys::proc::{ProcDir, ProcShow};
use crate::Config;
use kernel::{prelude::*, seq_file::SeqFile, seq_print, sync::Arc};

/// `/proc/cluster/this_node`.
struct ThisNode(Arc<Config>);

impl ProcShow for ThisNode {
    fn show(&self, m: &SeqFile) -> Result {
        seq_print!(m, "{}\n", self.0.node);
        Ok(())
    }
}

/// `/proc/cluster/peers`.
struct Peers(Arc<Config>);

impl ProcShow for Peers {
    fn show(&self, m: &SeqFile) -> Result {
        for p in self.0.peers.iter() {
            let [a, b, c, d] = p.addr;
            seq_print!(m, "{} {}.{}.{}.{}:{}\n", p.node, a, b, c, d, p.port);
        }
        Ok(())
    }
}

/// `/proc/cluster/` and everything vproc shows in it; removed on drop.
pub(crate) struct ClusterProc {
    _dir: ProcDir,
}

impl ClusterProc {
    /// Creates `/proc/cluster/` and its files.
    pub(crate) fn new(config: Arc<Config>) -> Result<Self> {
        let mut dir = ProcDir::new(c"cluster", None)?;
        dir.add_file(
            c"this_node",
            Arc::new(ThisNode(config.clone()), GFP_KERNEL)?,
        )?;
        dir.add_file(c"peers", Arc::new(Peers(config), GFP_KERNEL)?)?;
        Ok(Self { _dir: dir })
    }
}
