// SPDX-License-Identifier: GPL-2.0

//! The one place vproc touches raw C.
//!
//! `shim` is bindgen's rendering of `rust/shim.h` (the C shim's interface);
//! the submodules wrap it in owning, safe types. Code outside `rust/` never
//! sees a raw pointer from here: it uses [`proc::ProcDir`], [`net::Socket`],
//! [`thread::KThread`] and friends.

/// bindgen output for `rust/shim.h`, generated at build time by Kbuild.
#[allow(
    dead_code,
    non_camel_case_types,
    non_upper_case_globals,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]
mod shim {
    include!("shim_generated.rs");
}

#[path = "crypto.rs"]
pub(crate) mod crypto;
#[path = "genl.rs"]
pub(crate) mod genl;
#[path = "migrate.rs"]
pub(crate) mod migrate;
#[path = "net.rs"]
pub(crate) mod net;
#[path = "param.rs"]
pub(crate) mod param;
#[path = "proc.rs"]
pub(crate) mod proc;
#[path = "process.rs"]
pub(crate) mod process;
#[path = "thread.rs"]
pub(crate) mod thread;
#[path = "time.rs"]
pub(crate) mod time;
