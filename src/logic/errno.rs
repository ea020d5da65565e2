// SPDX-License-Identifier: GPL-2.0

//! A typed errno: what a peer's response or a proxied operation may carry
//! as a failure. Values on the wire are `i64`s (a result >= 0, or -errno);
//! decoding one never trusts its range: [`Errno::from_result`] accepts
//! only -1..=-4095 (the kernel's MAX_ERRNO) and never negates an unchecked
//! value (`-i64::MIN` overflows).

/// An errno, 1..=4095.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(u16);

/// The kernel's largest errno.
pub const MAX_ERRNO: u16 = 4095;

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(2);
    /// No such process.
    pub const ESRCH: Errno = Errno(3);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(4);
    /// I/O error.
    pub const EIO: Errno = Errno(5);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(9);
    /// Try again.
    pub const EAGAIN: Errno = Errno(11);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Bad address.
    pub const EFAULT: Errno = Errno(14);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(16);
    /// Cross-device link (a call that cannot be made on this node).
    pub const EXDEV: Errno = Errno(18);
    /// No such device.
    pub const ENODEV: Errno = Errno(19);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// Not a terminal.
    pub const ENOTTY: Errno = Errno(25);
    /// Protocol error.
    pub const EPROTO: Errno = Errno(71);
    /// Message too long.
    pub const EMSGSIZE: Errno = Errno(90);
    /// Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(95);
    /// Timed out.
    pub const ETIMEDOUT: Errno = Errno(110);
    /// No route to host.
    pub const EHOSTUNREACH: Errno = Errno(113);
    /// Operation canceled.
    pub const ECANCELED: Errno = Errno(125);
    /// Kernel-internal: restart the system call (a signal interrupted it).
    pub const ERESTARTSYS: Errno = Errno(512);

    /// `n` (1..=4095) as an errno.
    pub const fn new(n: u16) -> Option<Errno> {
        if n >= 1 && n <= MAX_ERRNO {
            Some(Errno(n))
        } else {
            None
        }
    }

    /// The errno of a result value `v` (-errno on failure): `None` for a
    /// success (`v >= 0`) and for a value out of the errno range, which a
    /// caller treats as a protocol error.
    pub fn from_result(v: i64) -> Option<Errno> {
        if (-i64::from(MAX_ERRNO)..0).contains(&v) {
            // In range: the negation cannot overflow, the value fits u16.
            Some(Errno((-v) as u16))
        } else {
            None
        }
    }

    /// The errno of a failed result `v`, `EIO` when `v` is not one (a peer
    /// that sent a success or garbage where a failure was due).
    pub fn of_failure(v: i64) -> Errno {
        Errno::from_result(v).unwrap_or(Errno::EIO)
    }

    /// Its number.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// As a result value (-errno).
    pub const fn to_result(self) -> i64 {
        -(self.0 as i64)
    }
}
