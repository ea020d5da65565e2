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
/// `nowait`: without waiting (`IO_WOULD_WAIT` when it would have).
pub(crate) fn fd_read_into(
    fd: i32,
    buf: &mut KVVec<u8>,
    len: usize,
    arg: i64,
    nowait: bool,
) -> i64 {
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
            (shim::VPROC_IO_READ | if nowait { shim::VPROC_IO_NOWAIT } else { 0 }) as c_int,
            room.as_mut_ptr().cast(),
            len,
            arg,
        )
    };
    // (A count, past any flag: a read ahead's READ_PEEKED.)
    let n = crate::logic::mig::read_count(r);
    if n > 0 {
        // SAFETY: the read initialized the first `n` (<= `len`) bytes.
        unsafe { buf.inc_len((n as usize).min(len)) };
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

/// What home's poll says of a file a call would wait on
/// ([`fd_watch`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Watch {
    /// Ready (or in error, hung up, or not pollable): make the call.
    Ready,
    /// Not ready: a watch waits for it (its callback comes once).
    Armed,
    /// It cannot be watched (too many watches, no memory, a file that
    /// polls on more queues than a watch holds): the call waits here.
    No,
}

/// Whether the calling task's fd `fd` is ready for poll bits `events`;
/// when not, a watch is left on it whose callback gets (`owner`, `at`,
/// `pid`) once it may be (rust/watch.c).
pub(crate) fn fd_watch(fd: i32, events: u32, owner: u64, at: u8, pid: u32) -> Watch {
    // SAFETY: no pointers.
    match unsafe { shim::vproc_shim_fd_watch(fd, events, owner, u32::from(at), pid as c_int) } {
        0 => Watch::Armed,
        r if r > 0 => Watch::Ready,
        _ => Watch::No,
    }
}

/// Leaves a watch of the calling task's children (one ended, stopped or
/// continued) whose callback gets (`owner`, `at`, `pid`) once: `Armed`
/// (or one was already), or `No` when none can be left.
pub(crate) fn child_watch(owner: u64, at: u8, pid: u32) -> Watch {
    // SAFETY: no pointers.
    match unsafe { shim::vproc_shim_child_watch(owner, u32::from(at), pid as c_int) } {
        0 => Watch::Armed,
        _ => Watch::No,
    }
}

/// Ends deputy `owner`'s child watch if it has not fired.
pub(crate) fn child_watch_cancel(owner: u64) {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_child_watch_cancel(owner) }
}

/// Ends the watches of deputy `owner` that have not fired.
pub(crate) fn watch_cancel(owner: u64) {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_watch_cancel(owner, 0) }
}

/// Where a process runs: home said a file of process `pid` (deputy
/// `deputy`) may be ready: its proxies' poll waiters ask again.
pub(crate) fn proxies_ready(pid: u32, deputy: u64) {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_proxies_ready(pid as c_int, deputy) }
}

/// Watches now armed (neither fired nor cancelled), of every deputy.
pub(crate) fn watch_count() -> u32 {
    // SAFETY: takes the watch list's lock; no argument.
    unsafe { shim::vproc_shim_watch_count() }
}

/// Ends the watches of deputy `owner` on the calling task's fd `fd`
/// (before it closes it: a watch holds the file open).
pub(crate) fn watch_cancel_fd(owner: u64, fd: i32) {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_watch_cancel_fd(owner, fd) }
}

/// Whether the calling task's fd `fd` is non-blocking.
pub(crate) fn fd_nonblock(fd: i32) -> bool {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_fd_nonblock(fd) > 0 }
}

/// connect(2) of the calling task's fd `fd` to `addr`, made as on a
/// non-blocking socket (the file's flags untouched): 0 or -errno
/// (-EINPROGRESS, -EALREADY: on its way); 1: it cannot be made so (a
/// send timeout, a full Unix listener), make it as asked.
pub(crate) fn connect_nonblock(fd: i32, addr: &[u8]) -> i64 {
    let Ok(len) = i32::try_from(addr.len()) else {
        return i64::from(EINVAL.to_errno());
    };
    // SAFETY: `addr` holds `len` bytes, read only.
    i64::from(unsafe { shim::vproc_shim_connect_nonblock(fd, addr.as_ptr().cast(), len) })
}

/// Whether the calling task's process has more than one thread.
pub(crate) fn current_multithreaded() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_current_threads() > 1 }
}

/// Told when a watch fires: (deputy id, node, PID) of the call it was
/// left by.
pub(crate) trait WatchFired: Send + Sync + 'static {
    fn fired(&self, owner: u64, at: u8, pid: u32);
}

/// # Safety
///
/// `data` is the `T` of a live [`WatchReg`].
unsafe extern "C" fn watch_tramp<T: WatchFired>(
    data: *mut c_void,
    owner: u64,
    at: u32,
    pid: c_int,
) {
    // SAFETY: `data` is the `T` registered (kept alive until unregistered,
    // which waits for the works that may call this).
    let me = unsafe { &*data.cast::<T>() };
    me.fired(owner, at as u8, pid.max(0) as u32);
}

/// Registration of the watches' callback; unregistering (on drop) ends
/// every watch and waits for the callbacks under way.
pub(crate) struct WatchReg {
    _data: Arc<dyn WatchFired>,
}

impl WatchReg {
    /// Registers `t`.
    pub(crate) fn new<T: WatchFired>(t: Arc<T>) -> Result<Self> {
        let raw: *const T = &*t;
        // SAFETY: the trampoline matches `T`; `t` is kept until drop.
        let r = unsafe {
            shim::vproc_shim_watch_register(Some(watch_tramp::<T>), raw.cast_mut().cast())
        };
        to_result(r)?;
        Ok(Self { _data: t })
    }
}

impl Drop for WatchReg {
    fn drop(&mut self) {
        // SAFETY: clearing the callback; this waits for running ones.
        unsafe { shim::vproc_shim_watch_register(None, core::ptr::null_mut()) };
    }
}

/// Local proxy operations (never sent): the process's ticket before a
/// request that must not wait at home, and the wait for its `READY`.
pub(crate) const IO_TICKET: u32 = shim::VPROC_IO_TICKET;
/// See [`IO_TICKET`].
pub(crate) const IO_WAIT: u32 = shim::VPROC_IO_WAIT;
/// The flag C's proxies and the deputy's file calls take for a request
/// that must not wait (the wire's `io_op::NOWAIT`).
pub(crate) const IO_NOWAIT: u32 = shim::VPROC_IO_NOWAIT;
/// Set in a POLL answer when home left a watch (the wire's
/// `POLL_WATCHED`).
pub(crate) const IO_POLL_WATCHED: i64 = shim::VPROC_IO_POLL_WATCHED as i64;
/// Their answer when it would have waited (the wire's `WOULD_WAIT`).
pub(crate) const IO_WOULD_WAIT: i64 = shim::VPROC_IO_WOULD_WAIT;
