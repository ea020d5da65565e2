//! The kernel module's pure logic (`src/logic/` of the repository), compiled
//! for the host. The files are included by path, not copied: what is tested
//! here is byte for byte what `vproc.ko` runs.

#![no_std]

#[path = "../../src/logic/arrival.rs"]
pub mod arrival;

#[path = "../../src/logic/balance.rs"]
pub mod balance;

#[path = "../../src/logic/custody.rs"]
pub mod custody;

#[path = "../../src/logic/errno.rs"]
pub mod errno;

#[path = "../../src/logic/fmtbuf.rs"]
pub mod fmtbuf;

#[path = "../../src/logic/hkdf.rs"]
pub mod hkdf;

#[path = "../../src/logic/key.rs"]
pub mod key;

#[path = "../../src/logic/mig.rs"]
pub mod mig;

#[path = "../../src/logic/mig_policy.rs"]
pub mod mig_policy;

#[path = "../../src/logic/peers.rs"]
pub mod peers;

#[path = "../../src/logic/pid.rs"]
pub mod pid;

#[path = "../../src/logic/poly1305.rs"]
pub mod poly1305;

#[path = "../../src/logic/procinfo.rs"]
pub mod procinfo;

#[path = "../../src/logic/ratelimit.rs"]
pub mod ratelimit;

#[path = "../../src/logic/wire.rs"]
pub mod wire;

pub mod sim;
