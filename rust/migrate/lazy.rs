// SPDX-License-Identifier: GPL-2.0

//! Post-copy's kernel side (rust/lazy.c): the destination's userfaultfd,
//! the pages dropped at Commit, and the helper's scratch memory.

use super::shim;
use core::ffi::c_int;
use core::ptr::NonNull;
use core::sync::atomic::AtomicI32;
use kernel::error::to_result;
use kernel::prelude::*;

/// A userfaultfd file the module holds (the restorer made it for the
/// process it became; its mm is the process's).
pub(crate) struct Uffd(NonNull<shim::file>);

// SAFETY: a file reference may be used and dropped from any task.
unsafe impl Send for Uffd {}
// SAFETY: the file's operations lock for themselves.
unsafe impl Sync for Uffd {}

impl Drop for Uffd {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `take`, dropped once.
        unsafe { shim::vproc_shim_uffd_put(self.0.as_ptr()) }
    }
}

/// A userfaultfd event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum UffdEvent {
    /// A thread waits for the page at this address.
    Fault(u64),
    /// Pages moved: from, to, length.
    Remap(u64, u64, u64),
    /// Pages dropped or unmapped: [start, end).
    Gone(u64, u64),
    /// Anything else (fork: not asked for).
    Other,
}

const UFFD_EVENT_PAGEFAULT: u32 = 0x12;
const UFFD_EVENT_REMAP: u32 = 0x14;
const UFFD_EVENT_REMOVE: u32 = 0x15;
const UFFD_EVENT_UNMAP: u32 = 0x16;

impl Uffd {
    /// The userfaultfd at descriptor `fd` of the calling task.
    pub(crate) fn take(fd: i32) -> Result<Self> {
        // SAFETY: no preconditions.
        let f = unsafe { shim::vproc_shim_uffd_take(fd as c_int) };
        NonNull::new(f).map(Self).ok_or(EBADF)
    }

    /// Registers `ranges` (start, length) for missing pages. The calling
    /// task's memory holds the ioctl's argument for a moment.
    pub(crate) fn register(&self, ranges: &[u64]) -> Result {
        if ranges.len() % 2 != 0 {
            return Err(EINVAL);
        }
        // SAFETY: `ranges` holds len/2 pairs of u64 (unsigned long here).
        to_result(unsafe {
            shim::vproc_shim_uffd_register(
                self.0.as_ptr(),
                ranges.as_ptr().cast(),
                (ranges.len() / 2) as u32,
            )
        })
    }

    /// UFFDIO_COPY of `data` to `dst` (through `scratch`, made by
    /// [`Scratch::new`] with room for it): bytes copied or the errno.
    pub(crate) fn copy(&self, scratch: &Scratch, dst: u64, data: &[u8]) -> Result<usize> {
        if data.len() > scratch.len {
            return Err(EINVAL);
        }
        // SAFETY: `data` is readable for its length; the scratch is ours.
        let r = unsafe {
            shim::vproc_shim_uffd_copy(
                self.0.as_ptr(),
                scratch.addr,
                dst as usize,
                data.as_ptr().cast(),
                data.len(),
            )
        };
        if r < 0 {
            Err(Error::from_errno(r as i32))
        } else {
            Ok(r as usize)
        }
    }

    /// UFFDIO_ZEROPAGE of `len` bytes at `dst`.
    pub(crate) fn zero(&self, scratch: &Scratch, dst: u64, len: u64) -> Result {
        // SAFETY: the scratch is ours.
        let r = unsafe {
            shim::vproc_shim_uffd_zero(self.0.as_ptr(), scratch.addr, dst as usize, len as usize)
        };
        if r < 0 {
            Err(Error::from_errno(r as i32))
        } else {
            Ok(())
        }
    }

    /// The next event, if one is there.
    pub(crate) fn read(&self) -> Result<Option<UffdEvent>> {
        let mut ev = shim::vproc_uffd_ev {
            event: 0,
            a: 0,
            b: 0,
            c: 0,
        };
        // SAFETY: `ev` is ours.
        let r = unsafe { shim::vproc_shim_uffd_read(self.0.as_ptr(), &mut ev) };
        if r == -(bindings_eagain()) {
            return Ok(None);
        }
        to_result(r)?;
        Ok(Some(match ev.event {
            UFFD_EVENT_PAGEFAULT => UffdEvent::Fault(ev.a & !0xfff),
            UFFD_EVENT_REMAP => UffdEvent::Remap(ev.a, ev.b, ev.c),
            UFFD_EVENT_REMOVE | UFFD_EVENT_UNMAP => UffdEvent::Gone(ev.a, ev.b),
            _ => UffdEvent::Other,
        }))
    }

    /// Waits up to `ms` for an event, or until `kick` is set and the
    /// caller woken ([`Waker::wake`]).
    pub(crate) fn wait(&self, kick: &AtomicI32, ms: u32) {
        // SAFETY: AtomicI32 has the layout of an int; the shim reads it.
        unsafe { shim::vproc_shim_uffd_wait(self.0.as_ptr(), kick.as_ptr(), ms) };
    }
}

fn bindings_eagain() -> c_int {
    EAGAIN.to_errno().abs()
}

/// A scratch mapping of the calling task's (the helper's), unmapped on
/// drop: room for the ioctls' arguments and `len` bytes of pages.
pub(crate) struct Scratch {
    addr: usize,
    len: usize,
}

impl Scratch {
    /// Maps one in the calling task.
    pub(crate) fn new(len: usize) -> Result<Self> {
        // SAFETY: no preconditions (a task with memory).
        let addr = unsafe { shim::vproc_shim_lazy_scratch(len) };
        if addr == 0 {
            return Err(ENOMEM);
        }
        Ok(Self { addr, len })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: mapped by `new` in this task (dropped in the same call).
        unsafe { shim::vproc_shim_lazy_unscratch(self.addr, self.len) }
    }
}

/// Drops the calling task's pages of [addr, addr + len) (private
/// anonymous memory only).
pub(crate) fn lazy_zap(addr: u64, len: u64) -> Result {
    // SAFETY: no preconditions.
    to_result(unsafe { shim::vproc_shim_lazy_zap(addr as usize, len as usize) })
}

/// A task to wake (the helper waiting in [`Uffd::wait`]).
pub(crate) struct Waker(NonNull<shim::task_struct>);

// SAFETY: a task reference may be used and dropped from any task.
unsafe impl Send for Waker {}
// SAFETY: waking is safe from any task.
unsafe impl Sync for Waker {}

impl Waker {
    /// The calling task.
    pub(crate) fn current() -> Result<Self> {
        // SAFETY: no preconditions.
        let t = unsafe { shim::vproc_shim_current_get() };
        NonNull::new(t).map(Self).ok_or(ESRCH)
    }

    /// Wakes it.
    pub(crate) fn wake(&self) {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_wake(self.0.as_ptr()) }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `current`, dropped once.
        unsafe { shim::vproc_shim_task_put(self.0.as_ptr()) }
    }
}

/// SIGKILL to process `pid` of this node.
pub(crate) fn kill9(pid: u32) {
    // SAFETY: no preconditions.
    let _ = unsafe { shim::vproc_shim_kill9(pid as c_int) };
}

/// Whether process `pid` lives here with its memory.
pub(crate) fn pid_alive(pid: u32) -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_pid_alive(pid as c_int) != 0 }
}

/// Whether PID `nr` is taken on this node (any task, a zombie or one
/// still being released too).
pub(crate) fn pid_taken(nr: u32) -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_pid_taken(nr as c_int) != 0 }
}
