// SPDX-License-Identifier: GPL-2.0

//! Proxy files (rust/proxy.c): the server of this node's proxies, and a
//! deputy's I/O on its own files and user memory for its moved process.

use super::{shim, to_result};
use kernel::prelude::*;
use kernel::sync::Arc;

/// The file a proxy stands for: `home_fd` of process `pid` at node `home`.
#[derive(Clone, Copy)]
pub(crate) struct ProxyFile {
    pub(crate) home: u8,
    pub(crate) pid: u32,
    pub(crate) home_fd: i32,
    pub(crate) deputy: u64,
}

/// Serves the proxies of this node.
pub(crate) trait ProxyIo: Send + Sync + 'static {
    /// One operation `op` on a proxy of `f`, in the calling task's context:
    /// READ fills `buf`, WRITE sends it, LSEEK moves to `arg` from
    /// `whence`. Returns bytes, the new offset, or -errno.
    fn io(&self, f: ProxyFile, op: u32, buf: &mut [u8], whence: u32, arg: i64) -> i64;
}

/// # Safety
///
/// `data` is the `T` of a live [`ProxyReg`]; `buf` is null or `len`
/// writable bytes.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn proxy_tramp<T: ProxyIo>(
    data: *mut c_void,
    home: u32,
    pid: c_int,
    home_fd: c_int,
    deputy: u64,
    op: c_int,
    buf: *mut c_char,
    len: usize,
    arg: i64,
) -> i64 {
    // SAFETY: `data` is the `T` registered (kept alive until unregistered).
    let me = unsafe { &*data.cast::<T>() };
    let mut empty = [0u8; 0];
    let (b, whence): (&mut [u8], u32) = if buf.is_null() {
        // No buffer: `len` is LSEEK's whence or IOCTL's command.
        (&mut empty, len as u32)
    } else {
        // SAFETY: `buf` is `len` bytes of kernel memory for the call.
        (
            unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) },
            0,
        )
    };
    let f = ProxyFile {
        home: home as u8,
        pid: pid.max(0) as u32,
        home_fd,
        deputy,
    };
    me.io(f, op as u32, b, whence, arg)
}

/// Registration of the proxies' server; unregisters on drop.
pub(crate) struct ProxyReg {
    _data: Arc<dyn ProxyIo>,
}

impl ProxyReg {
    /// Registers `t`.
    pub(crate) fn new<T: ProxyIo>(t: Arc<T>) -> Self {
        let raw: *const T = &*t;
        // SAFETY: the trampoline matches `T`; `t` is kept until drop.
        unsafe { shim::vproc_shim_proxy_register(Some(proxy_tramp::<T>), raw.cast_mut().cast()) };
        Self { _data: t }
    }
}

impl Drop for ProxyReg {
    fn drop(&mut self) {
        // Proxies still open then fail with EIO; each open proxy pins the
        // module (its file operations are ours).
        // SAFETY: clearing the callback.
        unsafe { shim::vproc_shim_proxy_register(None, core::ptr::null_mut()) };
    }
}

/// Does `op` on the calling task's fd `fd` (a deputy serving its body):
/// READ into `buf`, WRITE from it, LSEEK to `arg` from `whence`.
pub(crate) fn fd_io(fd: i32, op: u32, buf: &mut [u8], whence: u32, arg: i64) -> i64 {
    let len = if op == shim::VPROC_IO_LSEEK {
        whence as usize
    } else {
        buf.len()
    };
    // SAFETY: `buf` is valid for its length (LSEEK: not used).
    unsafe { shim::vproc_shim_fd_io(fd, op as c_int, buf.as_mut_ptr().cast(), len, arg) }
}

/// A read of `len` bytes on the calling task's fd `fd` (a deputy serving
/// its process; `arg` as for [`fd_io`]) into `buf`'s spare room, not
/// zeroed first: `buf` holds what was read. Returns as [`fd_io`].
pub(crate) fn fd_read_into(fd: i32, buf: &mut KVVec<u8>, len: usize, arg: i64) -> i64 {
    buf.clear();
    if buf.reserve(len, GFP_KERNEL).is_err() {
        return -i64::from(ENOMEM.to_errno().abs());
    }
    let room = buf.spare_capacity_mut();
    let len = len.min(room.len());
    // SAFETY: `room` is valid for `len` writable bytes; the shim writes at
    // most `len` and returns how many.
    let r = unsafe {
        shim::vproc_shim_fd_io(
            fd,
            shim::VPROC_IO_READ as c_int,
            room.as_mut_ptr().cast(),
            len,
            arg,
        )
    };
    if r > 0 {
        // SAFETY: the read initialized the first `r` (<= `len`) bytes.
        unsafe { buf.inc_len((r as usize).min(len)) };
    }
    r
}

/// Runs terminal ioctl `cmd` on the calling task's fd `fd` (a deputy
/// serving its process): `input` in, `output` filled, or the argument
/// `value` (`by_value`).
pub(crate) fn fd_ioctl(
    fd: i32,
    cmd: u32,
    input: &[u8],
    output: &mut [u8],
    value: i64,
    by_value: bool,
) -> i64 {
    // SAFETY: both buffers are valid for their lengths.
    unsafe {
        shim::vproc_shim_fd_ioctl(
            fd,
            cmd,
            input.as_ptr().cast(),
            input.len(),
            output.as_mut_ptr().cast(),
            output.len(),
            value,
            c_int::from(by_value),
        )
    }
}

/// Reads `out.len()` bytes at user address `uaddr` of the calling task.
pub(crate) fn user_read(uaddr: u64, out: &mut [u8]) -> Result {
    // SAFETY: `out` is valid for its length; the shim checks the user side.
    to_result(unsafe {
        shim::vproc_shim_copy_from_user(out.as_mut_ptr().cast(), uaddr as usize, out.len())
    })
}

/// Writes `data` at user address `uaddr` of the calling task.
pub(crate) fn user_write(uaddr: u64, data: &[u8]) -> Result {
    // SAFETY: `data` is valid for its length; the shim checks the user side.
    to_result(unsafe {
        shim::vproc_shim_copy_to_user(uaddr as usize, data.as_ptr().cast(), data.len())
    })
}
