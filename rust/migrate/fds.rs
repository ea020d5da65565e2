// SPDX-License-Identifier: GPL-2.0

//! Open files (rust/fds.c): the calling task's files listed, closed, and
//! installed (proxies of files at home, or its own files again).

use super::{policy, shim, to_result, FdFacts, FdKind};
use crate::logic::mig::EpollWatch;
use kernel::prelude::*;

/// One open file of the calling task.
pub(crate) struct FdInfo {
    pub(crate) fd: i32,
    pub(crate) kind: FdKind,
    pub(crate) f_flags: u32,
    pub(crate) cloexec: bool,
    pub(crate) home_fd: i32,
    /// A proxy's deputy id (0 for other files).
    pub(crate) deputy: u64,
    /// A signalfd's mask, a userfaultfd's description (`mig::USERFAULTFD`;
    /// 0 for other files).
    pub(crate) sigmask: u64,
}

/// # Safety
///
/// `data` is the `KVec<FdInfo>` given by [`fds`]; `f` is valid.
unsafe extern "C" fn fd_cb(data: *mut c_void, f: *const shim::vproc_mig_fd) -> c_int {
    // SAFETY: `data` is the `KVec` passed by `fds`; `f` is valid for the call.
    let (out, f) = unsafe { (&mut *data.cast::<KVec<FdInfo>>(), &*f) };
    let kind = policy::classify_fd(&FdFacts {
        proxy: f.proxy != 0,
        o_path: f.o_path != 0,
        mode: f.mode,
        rdev: (f.rdev_major, f.rdev_minor),
        pseudo: f.pseudo != 0,
        anon: f.anon,
        epoll_signalfd: f.epoll_signalfd != 0,
    });
    let info = FdInfo {
        fd: f.fd,
        kind,
        f_flags: f.f_flags,
        cloexec: f.cloexec != 0,
        home_fd: f.home_fd,
        deputy: f.deputy,
        sigmask: if kind == FdKind::SignalFd || kind == FdKind::Userfaultfd {
            f.sigmask
        } else {
            0
        },
    };
    match out.push(info, GFP_KERNEL) {
        Ok(()) => 0,
        Err(_) => ENOMEM.to_errno(),
    }
}

/// The calling task's open files.
/// Gives home back what the calling task's proxies read ahead and it did
/// not take: home's offsets are the process's again (before it moves).
pub(crate) fn proxies_giveback() -> Result {
    // SAFETY: acts on current only.
    to_result(unsafe { shim::vproc_shim_proxies_giveback() })
}

pub(crate) fn fds() -> Result<KVec<FdInfo>> {
    let mut out: KVec<FdInfo> = KVec::new();
    // SAFETY: the callback matches; `out` outlives the call.
    to_result(unsafe {
        shim::vproc_shim_mig_fds(
            Some(fd_cb),
            core::ptr::from_mut::<KVec<FdInfo>>(&mut out).cast(),
        )
    })?;
    Ok(out)
}

/// Closes every file of the calling task.
pub(crate) fn close_all() {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_mig_close_all() }
}

/// Installs at `fd` a proxy of file `home_fd` of process `pid` at node
/// `home`.
pub(crate) fn install_proxy(
    fd: i32,
    f_flags: u32,
    cloexec: bool,
    home: u8,
    pid: u32,
    home_fd: i32,
    deputy: u64,
) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe {
        shim::vproc_shim_mig_install_proxy(
            fd,
            f_flags,
            u32::from(cloexec),
            u32::from(home),
            pid as c_int,
            home_fd,
            deputy,
        )
    })
}

/// Opens node device `minor` (`policy::node_device`) here and installs
/// it at `fd`.
pub(crate) fn open_node_dev(fd: i32, minor: u32, f_flags: u32, cloexec: bool) -> Result {
    let name = policy::node_device(minor).ok_or(EINVAL)?;
    let mut path = [0u8; 16];
    let n = name.len().min(path.len() - 1);
    path[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: `path` is NUL-terminated and outlives the call.
    to_result(unsafe {
        shim::vproc_shim_mig_open_node_dev(
            fd,
            path.as_ptr().cast(),
            minor,
            f_flags,
            u32::from(cloexec),
        )
    })
}

/// Makes a signalfd of `mask` at `fd` of the calling task.
pub(crate) fn open_signalfd(fd: i32, mask: u64, f_flags: u32, cloexec: bool) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe { shim::vproc_shim_mig_open_signalfd(fd, mask, f_flags, u32::from(cloexec)) })
}

/// Makes a userfaultfd of the calling task's memory at `fd`, as `desc`
/// (`mig::USERFAULTFD`'s description) says.
pub(crate) fn open_uffd(fd: i32, desc: u64, f_flags: u32, cloexec: bool) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe { shim::vproc_shim_mig_open_uffd(fd, desc, f_flags, u32::from(cloexec)) })
}

/// An area registered for missing pages (`uffd_areas`' mode bits).
pub(crate) const UFFD_MODE_MISSING: u32 = shim::VPROC_UFFD_MODE_MISSING;
/// An area registered for write-protect faults.
pub(crate) const UFFD_MODE_WP: u32 = shim::VPROC_UFFD_MODE_WP;

/// Most areas registered with one userfaultfd that a move carries.
pub(crate) const UFFD_AREAS_MAX: usize = 256;

/// The areas of the calling task's memory registered with its
/// userfaultfd `fd`: (start, end, `VPROC_UFFD_MODE_*` bits).
pub(crate) fn uffd_areas(fd: i32) -> Result<KVec<(u64, u64, u32)>> {
    let mut raw: KVec<usize> = KVec::new();
    raw.resize(3 * UFFD_AREAS_MAX, 0, GFP_KERNEL)?;
    // SAFETY: `raw` holds 3 * UFFD_AREAS_MAX words.
    let n = unsafe { shim::vproc_shim_uffd_areas(fd, raw.as_mut_ptr(), UFFD_AREAS_MAX as u32) };
    to_result(n)?;
    let mut out = KVec::new();
    for c in raw.chunks_exact(3).take(n as usize) {
        out.push((c[0] as u64, c[1] as u64, c[2] as u32), GFP_KERNEL)?;
    }
    Ok(out)
}

/// Registers `start..start + len` of the calling task's memory with its
/// userfaultfd `fd` for `mode` (`UFFD_MODE_MISSING`, `UFFD_MODE_WP`).
pub(crate) fn uffd_register(fd: i32, start: u64, len: u64, mode: u32) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe { shim::vproc_shim_uffd_register_at(fd, start as usize, len as usize, mode) })
}

/// Write-protects `start..start + len` of the calling task's memory
/// through its userfaultfd `fd`.
pub(crate) fn uffd_wp(fd: i32, start: u64, len: u64) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe { shim::vproc_shim_uffd_wp_at(fd, start as usize, len as usize) })
}

fn raw(w: &EpollWatch) -> shim::vproc_epoll_watch {
    shim::vproc_epoll_watch {
        tfd: w.tfd,
        events: w.events,
        data: w.data,
    }
}

/// The signalfds epoll file `fd` of the calling task watches (home's
/// epoll by its fdinfo, a proxy's those it keeps; none for another file).
/// EOPNOTSUPP: a file it cannot tell from a signalfd, or too many.
pub(crate) fn epoll_watches(fd: i32) -> Result<KVec<EpollWatch>> {
    let mut raw = KVec::new();
    raw.resize(
        shim::VPROC_EPOLL_WATCHES as usize,
        shim::vproc_epoll_watch::default(),
        GFP_KERNEL,
    )?;
    // SAFETY: `raw` has room for VPROC_EPOLL_WATCHES entries.
    let n = unsafe { shim::vproc_shim_epoll_watches(fd, raw.as_mut_ptr()) };
    let n = usize::try_from(to_result(n).map(|()| n)?).map_err(|_| EINVAL)?;
    let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
    for w in raw.iter().take(n) {
        out.push(
            EpollWatch {
                epfd: fd,
                tfd: w.tfd,
                events: w.events,
                data: w.data,
            },
            GFP_KERNEL,
        )?;
    }
    Ok(out)
}

/// `epoll_ctl(2)` `op` of signalfd `w.tfd` on the proxy of an epoll at
/// `w.epfd`: the watch it keeps where the process runs.
pub(crate) fn proxy_watch(op: u32, w: &EpollWatch) -> Result {
    let (epfd, raw) = (w.epfd, raw(w));
    // SAFETY: `raw` is valid for the call.
    to_result(unsafe { shim::vproc_shim_proxy_watch(epfd, op as c_int, &raw) })
}

/// How many signalfd watches the proxy at `epfd` keeps.
pub(crate) fn proxy_watches(epfd: i32) -> u32 {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_proxy_watches(epfd) }.max(0) as u32
}

/// The ready watches of the proxy at `epfd` as `struct epoll_event`s
/// (12 bytes) in `out`; their count. One-shot ones are disabled.
pub(crate) fn proxy_watches_ready(epfd: i32, out: &mut [u8]) -> usize {
    let max = i32::try_from(out.len() / 12).unwrap_or(i32::MAX);
    // SAFETY: `out` has room for `max` events.
    let n = unsafe { shim::vproc_shim_proxy_watches_ready(epfd, out.as_mut_ptr(), max) };
    (n.max(0) as usize).min(max as usize)
}

/// The count of home's `READY`s the proxy at `epfd` saw.
pub(crate) fn proxy_gen(epfd: i32) -> u32 {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_proxy_gen(epfd) }
}

/// Waits at most `ms` for a `READY` after `ticket`, a ready watch of the
/// proxy at `epfd`, or a signal (`Err`).
pub(crate) fn proxy_watch_wait(epfd: i32, ticket: u32, ms: u32) -> core::result::Result<(), ()> {
    // SAFETY: no pointers.
    match unsafe { shim::vproc_shim_proxy_watch_wait(epfd, ticket, ms) } {
        0 => Ok(()),
        _ => Err(()),
    }
}

/// Whether `fd` of the calling task is a file made again where the
/// process runs whose watch by an epoll at home the epoll's proxy keeps
/// there: a signalfd or a userfaultfd.
pub(crate) fn watched_here(fd: i32) -> bool {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_file_made_here(fd) != 0 }
}

/// Whether the file at `fd` of the calling task is held only by its own
/// descriptors (no other process shares it).
pub(crate) fn file_private(fd: i32) -> bool {
    // SAFETY: no pointers.
    unsafe { shim::vproc_shim_file_private(fd) != 0 }
}

/// At home: `epoll_ctl(2)` `op` of watch `w` on its epoll (the deputy's:
/// `EPOLL_CTL_DEL` once its process left, `_ADD` when it comes back).
pub(crate) fn epoll_ctl(op: u32, w: &EpollWatch) -> Result {
    let (epfd, raw) = (w.epfd, raw(w));
    // SAFETY: `raw` is valid for the call.
    to_result(unsafe { shim::vproc_shim_epoll_ctl(epfd, op as c_int, &raw) })
}

/// Installs the calling task's own files `from[i]` at `to[i]`, closing
/// every other file (a process coming home to its deputy).
pub(crate) fn reinstall_files(from: &[i32], to: &[(i32, bool)]) -> Result {
    if from.len() != to.len() {
        return Err(EINVAL);
    }
    let mut files: KVec<*mut c_void> = KVec::new();
    files.resize(from.len(), core::ptr::null_mut(), GFP_KERNEL)?;
    // SAFETY: `files` has room for `from.len()` pointers.
    unsafe { shim::vproc_shim_mig_get_files(from.as_ptr(), from.len() as u32, files.as_mut_ptr()) };
    close_all();
    let mut res = Ok(());
    for (f, &(fd, cloexec)) in files.iter().zip(to.iter()) {
        // SAFETY: each non-null entry is a file reference from get_files,
        // consumed here exactly once.
        let r = unsafe { shim::vproc_shim_mig_install_file(fd, *f, u32::from(cloexec)) };
        if r < 0 && res.is_ok() {
            res = Err(Error::from_errno(r));
        }
    }
    res
}
