// SPDX-License-Identifier: GPL-2.0

//! Pure logic shared by the kernel module and the host crate.
//!
//! Everything below `logic/` is plain `no_std` Rust with no allocation and no
//! kernel dependency: the host crate (`host/`) compiles the very same files,
//! so `cargo test` and the fuzzers exercise exactly the code the kernel runs.
//! Nothing here may touch `kernel::`, raw pointers, or panic on input.
//!
//! The items are `pub` for the host crate, which is their public API; inside
//! the module they are crate-internal, hence the `unreachable_pub` allowance.
//! Some (test helpers such as `PeerTable::remove`) only the host uses yet.

#[allow(unreachable_pub, dead_code)]
pub(crate) mod arrival;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod balance;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod custody;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod errno;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod fmtbuf;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod hkdf;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod key;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod mig;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod mig_policy;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod peers;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod pid;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod poly1305;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod procinfo;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod ratelimit;
#[allow(unreachable_pub, dead_code)]
pub(crate) mod wire;
