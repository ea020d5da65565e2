// SPDX-License-Identifier: GPL-2.0

//! System calls a moved process makes at home (rust/sysfwd.c): the entry
//! hook on the node it runs on, and the deputy's side.

use super::{shim, to_result};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

/// Decides, at the entry of a guest's system call, whether it runs at home.
pub(crate) trait SysHook: Send + Sync + 'static {
    /// Call `nr` with `args` of the calling task: `Some(result)` when it
    /// was done at home, `None` when it runs here.
    fn enter(this: ArcBorrow<'_, Self>, nr: u32, args: &[u64; 6]) -> Option<i64>;
}

/// # Safety
///
/// `data` is the `T` of a live [`SysReg`]; `args` six values, `ret` one.
unsafe extern "C" fn sys_tramp<T: SysHook>(
    data: *mut c_void,
    nr: c_uint,
    args: *mut u64,
    ret: *mut i64,
) -> c_int {
    // SAFETY: `data` is `Arc::as_ptr` of the `T` registered, kept alive
    // until unregistered (which waits for calls in the hook to leave).
    let me = unsafe { ArcBorrow::<T>::from_raw(data.cast::<T>()) };
    // SAFETY: the shim passes an array of six arguments.
    let a = unsafe { &*args.cast::<[u64; 6]>() };
    match T::enter(me, nr, a) {
        Some(v) => {
            // SAFETY: `ret` is valid for a write.
            unsafe { *ret = v };
            1
        }
        None => 0,
    }
}

/// Registration of the guests' system call hook; unregisters on drop.
pub(crate) struct SysReg<T: SysHook> {
    _data: Arc<T>,
}

impl<T: SysHook> SysReg<T> {
    /// Registers `t` (EBUSY if another module holds the hook).
    pub(crate) fn new(t: Arc<T>) -> Result<Self> {
        let raw: *const T = Arc::as_ptr(&t);
        // SAFETY: the trampoline matches `T`; `t` is kept until drop.
        to_result(unsafe {
            shim::vproc_shim_sys_register(Some(sys_tramp::<T>), raw.cast_mut().cast())
        })?;
        Ok(Self { _data: t })
    }
}

impl<T: SysHook> Drop for SysReg<T> {
    fn drop(&mut self) {
        // SAFETY: clearing the hook (waits for calls in it to leave).
        unsafe { shim::vproc_shim_sys_register(None, core::ptr::null_mut()) };
    }
}

/// Marks the calling task a guest (its system calls reach the hook) or not.
pub(crate) fn set_guest(on: bool) {
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_sys_guest(c_int::from(on)) }
}

/// What the calling task's `fd` is a proxy of: (home, pid, home fd,
/// deputy), or `None` (a file of this node, or none).
pub(crate) fn fd_proxy(fd: i32) -> Option<(u8, u32, i32, u64)> {
    let (mut home, mut pid, mut hfd, mut dep) = (0u32, 0i32, 0i32, 0u64);
    // SAFETY: the four outputs are valid for writes.
    let r = unsafe { shim::vproc_shim_sys_fd(fd, &mut home, &mut pid, &mut hfd, &mut dep) };
    (r == 1).then_some((home as u8, pid.max(0) as u32, hfd, dep))
}

/// recv(2) of `len` bytes into user address `ubuf` on the calling task's
/// `fd` (no flags but MSG_DONTWAIT, `dontwait`, and MSG_PEEK, `peek`)
/// when `fd` is a proxy: the proxy's read, which its read-ahead serves;
/// a peek of what its read-ahead holds. Bytes or -errno; `None` when
/// `fd` is no proxy, or a peek finds nothing held.
pub(crate) fn proxy_recv(fd: i32, ubuf: u64, len: u64, dontwait: bool, peek: bool) -> Option<i64> {
    // SAFETY: plain values; the shim checks the user range it writes.
    let r = unsafe {
        shim::vproc_shim_proxy_recv(fd, ubuf, len, c_int::from(dontwait), c_int::from(peek))
    };
    (r != shim::VPROC_NOT_PROXY).then_some(r)
}

/// Copies the path at user address `uaddr` of the calling task into `buf`;
/// its length with the NUL, or -errno (EFAULT, ENAMETOOLONG).
pub(crate) fn user_path(uaddr: u64, buf: &mut [u8]) -> core::result::Result<usize, i64> {
    // SAFETY: `buf` is valid for its length.
    let n =
        unsafe { shim::vproc_shim_sys_path(uaddr as usize, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(i64::from(n as i32))
    } else {
        Ok(n as usize)
    }
}

/// Installs a proxy of `home_fd` of process `pid` (home `home`, deputy
/// `deputy`) at the calling task's lowest free fd: the fd or -errno.
/// Closes descriptor `fd` of the calling task.
pub(crate) fn close_fd(fd: i32) {
    // SAFETY: acts on current's table only.
    let _ = unsafe { shim::vproc_shim_close_fd(fd) };
}

pub(crate) fn install_new_proxy(
    f_flags: u32,
    cloexec: bool,
    home: u8,
    pid: u32,
    home_fd: i32,
    deputy: u64,
) -> i64 {
    // SAFETY: plain values.
    i64::from(unsafe {
        shim::vproc_shim_sys_install_proxy(
            f_flags,
            c_uint::from(cloexec),
            u32::from(home),
            pid as c_int,
            home_fd,
            deputy,
        )
    })
}

/// One pointer argument of a call the deputy performs.
pub(crate) struct SysBuf<'a> {
    /// Which argument.
    pub(crate) arg: u32,
    /// Bytes in (copied to the scratch memory first), if any.
    pub(crate) input: Option<&'a [u8]>,
    /// Bytes back out (its length is the scratch's, if longer than the
    /// input), if any.
    pub(crate) output: Option<&'a mut [u8]>,
    /// The argument is NULL.
    pub(crate) null: bool,
}

/// Performs system call `nr` with `args` in the calling task's context
/// (a deputy), pointer arguments per `bufs`. Returns its result.
pub(crate) fn sys_call(nr: u32, args: &[u64; 6], bufs: &mut [SysBuf<'_>]) -> i64 {
    let mut raw: [shim::vproc_sys_buf; 6] = Default::default();
    let n = bufs.len().min(6);
    for (r, b) in raw.iter_mut().zip(bufs.iter_mut()) {
        let ilen = b.input.map_or(0, |i| i.len());
        let olen = b.output.as_ref().map_or(0, |o| o.len());
        r.arg = b.arg;
        r.len = ilen.max(olen) as u32;
        r.in_ = b.input.map_or(core::ptr::null(), |i| i.as_ptr().cast());
        r.out = b
            .output
            .as_mut()
            .map_or(core::ptr::null_mut(), |o| o.as_mut_ptr().cast());
        r.null = c_uint::from(b.null);
    }
    // SAFETY: each buffer is valid for its length, for the call.
    unsafe { shim::vproc_shim_served_call(nr, args.as_ptr(), raw.as_ptr(), n as c_uint) }
}

/// `mmap` with `args` of the file at `path` (NUL-terminated) of this node
/// instead of a proxy, when it is provably home's file (identity `id`):
/// the address, -ENODEV, or the mapping's error.
pub(crate) fn mmap_same(path: &[u8], id: &[u64; 8], args: &[u64; 6]) -> i64 {
    if path.last() != Some(&0) {
        return -19; // ENODEV
    }
    // SAFETY: `path` is NUL-terminated; `id` has eight values.
    (unsafe {
        shim::vproc_shim_mmap_same(
            path.as_ptr().cast(),
            id.as_ptr(),
            args[0] as usize,
            args[1] as usize,
            args[2] as usize,
            args[3] as usize,
            args[5] as usize,
        )
    } as i64)
}

/// The identity of the file `path` (NUL-terminated) names on this node.
pub(crate) fn path_identity(path: &[u8]) -> Option<[u64; 8]> {
    if path.last() != Some(&0) {
        return None;
    }
    let mut id = [0u64; 8];
    // SAFETY: `path` is NUL-terminated; `id` has room for eight values.
    let r = unsafe { shim::vproc_shim_path_identity(path.as_ptr().cast(), id.as_mut_ptr()) };
    (r == 0).then_some(id)
}

/// Makes `path` (NUL-terminated) the calling task's working directory on
/// this node (chdir(2) with its own credentials, made directly: not sent
/// home as a moved process's chdir is).
pub(crate) fn chdir_here(path: &[u8]) -> Result {
    if path.last() != Some(&0) {
        return Err(EINVAL);
    }
    // SAFETY: `path` is NUL-terminated.
    to_result(unsafe { shim::vproc_shim_chdir_here(path.as_ptr().cast()) })
}

/// Has the calling task take the signal path back to user mode: a call
/// that returned ERESTARTNOINTR runs again after its task works.
pub(crate) fn notify_signal() {
    // SAFETY: acts on current only.
    unsafe { shim::vproc_shim_notify_signal() }
}

/// The calling task's credentials, as a call made at home carries them
/// (EPERM: it is in a user namespace of its own, whose capabilities mean
/// nothing at home, but `ns`, the one made for its move; E2BIG: more
/// supplementary groups than a call carries).
/// `ns` is that namespace's address ([`super::userns_id`] in it; 0: none).
pub(crate) fn current_creds(ns: u64) -> Result<crate::logic::mig::Creds> {
    let mut c = shim::vproc_creds::default();
    // SAFETY: `c` is a valid, writable struct; `ns` is only compared.
    to_result(unsafe { shim::vproc_shim_creds_get(&mut c, ns) })?;
    if c.ngroups as usize > c.groups.len() {
        return Err(E2BIG);
    }
    Ok(crate::logic::mig::Creds {
        ids: c.ids,
        caps: c.caps,
        securebits: c.securebits,
        dumpable: c.dumpable,
        ngroups: c.ngroups,
        groups: c.groups,
    })
}

/// Makes the calling task's credentials `c` (a deputy, before a call its
/// process makes at home), as the set*id(2) calls would.
pub(crate) fn creds_sync(c: &crate::logic::mig::Creds) -> Result {
    let raw = shim::vproc_creds {
        ids: c.ids,
        caps: c.caps,
        securebits: c.securebits,
        dumpable: c.dumpable,
        ngroups: c.ngroups,
        groups: c.groups,
    };
    // SAFETY: `raw` is a valid struct.
    to_result(unsafe { shim::vproc_shim_creds_sync(&raw) })
}

/// What a recvmsg with descriptors brought ([`msg_call`]).
pub(crate) struct MsgGot {
    /// The address's length.
    pub(crate) namelen: u32,
    /// How many descriptors came (the calling task's new fds).
    pub(crate) nfds: usize,
    /// The call's `msg_flags`.
    pub(crate) flags: u32,
}

/// A sendmsg (`send`) or recvmsg with descriptors on the calling task's
/// (a deputy's) socket `fd`: sendmsg sends `name`, the fds `fds` and
/// `data`; recvmsg fills them (their lengths are the rooms) and
/// `fd_flags`. Returns the call's result, and for a recvmsg what came.
#[allow(clippy::too_many_arguments)]
pub(crate) fn msg_call(
    send: bool,
    flags: u32,
    fd: i32,
    name: &mut [u8],
    fds: &mut [i32],
    fd_flags: &mut [u32],
    data: &mut [u8],
) -> (i64, MsgGot) {
    let mut m = shim::vproc_msg_io {
        send: c_int::from(send),
        flags,
        fd,
        name: name.as_mut_ptr().cast(),
        namelen: name.len() as c_uint,
        fds: fds.as_mut_ptr(),
        fd_flags: fd_flags.as_mut_ptr(),
        nfds: fds.len().min(fd_flags.len()) as c_uint,
        data: data.as_mut_ptr().cast(),
        len: data.len() as c_uint,
        msg_flags: 0,
    };
    // SAFETY: every buffer is valid for the length given, for the call;
    // the shim writes within them.
    let r = unsafe { shim::vproc_shim_msg_call(&mut m) };
    let got = MsgGot {
        namelen: m.namelen.min(name.len() as c_uint),
        nfds: (m.nfds as usize).min(fds.len()),
        flags: m.msg_flags,
    };
    (r, got)
}
