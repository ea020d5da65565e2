// SPDX-License-Identifier: GPL-2.0

//! The cluster's load as this node sees it: one [`NodeView`] per node with
//! a load vector, built from what the transport spreads. Both the load
//! leveller and `goto -1` (the migration layer) decide on it; it depends
//! on neither, so neither depends on the other for it.

use crate::logic::balance::NodeView;
use crate::logic::wire::LOAD_FLAG_LOADLEVEL;
use crate::sys::time::now_ns;
use crate::transport::{NodeState, Transport};
use kernel::prelude::*;

/// This node's view of the cluster for the leveller (`pending`: moves not
/// yet in the receivers' load vectors; `speed`: weigh by CPU speed). A
/// node's load is its CPU-bound processes, as its leveller counted them.
pub(crate) fn cluster_view(
    t: &Transport,
    pending: Option<&[u64; 64]>,
    speed: bool,
) -> Result<KVec<NodeView>> {
    let now = now_ns();
    let mut out = KVec::new();
    for n in t.nodes()?.iter() {
        let Some(l) = n.load else { continue };
        let p = pending.map_or(0, |p| u32::from(p[usize::from(n.node) % 64] > now));
        out.push(
            NodeView {
                node: n.node,
                up: n.is_self || n.state == NodeState::Up,
                accepts: l.flags & LOAD_FLAG_LOADLEVEL != 0,
                runnable: l.busy,
                cpus: u32::from(l.cpus),
                speed: if speed { l.speed } else { 1000 },
                free_kib: l.free_kib,
                total_kib: l.total_kib,
                pending: p,
            },
            GFP_KERNEL,
        )?;
    }
    Ok(out)
}
