// SPDX-License-Identifier: GPL-2.0

//! Kernel threads.
//!
//! A [`KThread`] runs `T::run(&data)` in a kthread and owns a reference on
//! it plus the `Arc<T>` it runs on: dropping it stops the thread
//! (`kthread_stop`, which waits for `run` to return) and only then releases
//! the data. `run` must return soon after [`should_stop`] turns true, and
//! must not block forever on anything `should_stop` does not interrupt
//! (sockets: shut them down before dropping the thread).

use super::shim;
use core::ptr::NonNull;
use kernel::{prelude::*, sync::Arc};

/// The body of a kernel thread.
pub(crate) trait ThreadFn: Send + Sync + 'static {
    /// Runs until done or told to stop.
    fn run(&self);
}

/// # Safety
///
/// `data` is the pointer of an `Arc<T>` that outlives the thread (its
/// [`KThread`] keeps it until `kthread_stop` has returned).
unsafe extern "C" fn trampoline<T: ThreadFn>(data: *mut c_void) -> c_int {
    // SAFETY: by this function's contract.
    let t = unsafe { &*data.cast::<T>() };
    t.run();
    0
}

/// A running kernel thread; stopped on drop.
pub(crate) struct KThread {
    /// INVARIANT: a task reference from `vproc_shim_kthread_run`, released
    /// exactly once by `vproc_shim_kthread_stop` in `drop`.
    task: NonNull<shim::task_struct>,
    _data: Arc<dyn ThreadFn>,
}

// SAFETY: the task pointer is only used by `drop`, from any thread.
unsafe impl Send for KThread {}
// SAFETY: `&KThread` exposes nothing.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts `data.run()` in a kthread called `name`.
    pub(crate) fn spawn<T: ThreadFn>(name: &CStr, data: Arc<T>) -> Result<Self> {
        let raw: *const T = &*data;
        // SAFETY: the trampoline matches `T`; `data` is kept in the returned
        // `KThread` until the thread has been stopped.
        let task = unsafe {
            shim::vproc_shim_kthread_run(
                Some(trampoline::<T>),
                raw.cast_mut().cast(),
                name.as_char_ptr(),
            )
        };
        let task = NonNull::new(task).ok_or(ENOMEM)?;
        Ok(Self { task, _data: data })
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; waits for `run` to return (or
        // returns at once if it has), then drops our task reference.
        unsafe { shim::vproc_shim_kthread_stop(self.task.as_ptr()) };
    }
}

/// Whether the calling kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: no preconditions (false outside kthreads).
    unsafe { shim::vproc_shim_kthread_should_stop() != 0 }
}

/// Sleeps up to `ms` milliseconds; returns early if asked to stop.
pub(crate) fn sleep_ms(ms: u32) {
    // SAFETY: process context.
    unsafe { shim::vproc_shim_sleep_ms(ms) };
}
