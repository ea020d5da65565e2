// SPDX-License-Identifier: GPL-2.0

//! Owning wrappers for procfs entries.
//!
//! A [`ProcDir`] owns its directory entry and every file created in it;
//! dropping it removes the files first, then the directory. A file's
//! contents come from a [`ProcShow`] value that the file keeps alive (an
//! [`Arc`]) for as long as the entry exists: `proc_remove()` waits for
//! readers still inside `show`, so the data is never freed under them.

use super::shim;
use core::ptr::NonNull;
use kernel::{prelude::*, seq_file::SeqFile, sync::Arc};

/// Something that renders a read-only /proc file.
pub(crate) trait ProcShow: Send + Sync {
    /// Writes the file's whole contents into `m`.
    fn show(&self, m: &SeqFile) -> Result;
}

/// The seq_file `show` callback for data of type `T`.
///
/// # Safety
///
/// Called by procfs only, for an entry created by [`ProcDir::add_file`] with
/// `T`: `m` is a live seq_file whose private data is an `Arc<T>` pointer kept
/// alive by that entry's [`ProcFile`].
unsafe extern "C" fn show_trampoline<T: ProcShow>(
    m: *mut shim::seq_file,
    _v: *mut c_void,
) -> c_int {
    // SAFETY: per this function's contract, the private pointer is the
    // `Arc<T>` data of an entry that is not removed while it is being read.
    let data = unsafe { &*shim::vproc_shim_seq_private(m).cast::<T>() };
    // SAFETY: procfs hands `show` a valid seq_file used by this thread only
    // for the duration of the call.
    let seq = unsafe { SeqFile::from_raw(m.cast()) };
    match data.show(seq) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// A file in a [`ProcDir`].
struct ProcFile {
    /// INVARIANT: a live entry created by `vproc_shim_proc_create_single`
    /// whose private data points into `_data`.
    pde: NonNull<shim::proc_dir_entry>,
    /// Rendered by the entry; freed only after the entry is removed.
    _data: Arc<dyn ProcShow>,
}

impl Drop for ProcFile {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `pde` is live and removed only here.
        // `proc_remove` waits for readers to leave `show`; `_data` is dropped
        // after this body returns.
        unsafe { shim::vproc_shim_proc_remove(self.pde.as_ptr()) };
    }
}

/// A /proc directory and the files vproc created in it.
pub(crate) struct ProcDir {
    /// INVARIANT: a live entry created by `vproc_shim_proc_mkdir`.
    pde: NonNull<shim::proc_dir_entry>,
    files: KVec<ProcFile>,
}

// SAFETY: the entry pointers are only used to create children and to remove
// entries, which procfs serialises internally; `ProcShow` data is `Send + Sync`.
unsafe impl Send for ProcDir {}
// SAFETY: as above; `&ProcDir` offers no method that touches the entries.
unsafe impl Sync for ProcDir {}

impl ProcDir {
    /// Creates `/proc/<name>` (with `parent == None`) or `<parent>/<name>`.
    pub(crate) fn new(name: &CStr, parent: Option<&ProcDir>) -> Result<Self> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.pde.as_ptr());
        // SAFETY: `name` is NUL-terminated and copied by procfs; `parent` is
        // NULL or a live directory (type invariant of `ProcDir`).
        let pde = unsafe { shim::vproc_shim_proc_mkdir(name.as_char_ptr(), parent) };
        let pde = NonNull::new(pde).ok_or_else(|| {
            pr_err!(
                "cannot create /proc entry {:?} (does it exist already?)\n",
                name
            );
            EEXIST
        })?;
        Ok(Self {
            pde,
            files: KVec::new(),
        })
    }

    /// Adds a read-only file `name` (mode 0444) rendered by `data`.
    pub(crate) fn add_file<T: ProcShow + 'static>(&mut self, name: &CStr, data: Arc<T>) -> Result {
        self.files.reserve(1, GFP_KERNEL)?;
        let raw: *const T = &*data;
        // SAFETY: `name` is NUL-terminated; `self.pde` is live; the trampoline
        // matches `T`, and `data` stays alive in the `ProcFile` until after
        // the entry is removed.
        let pde = unsafe {
            shim::vproc_shim_proc_create_single(
                name.as_char_ptr(),
                0o444,
                self.pde.as_ptr(),
                Some(show_trampoline::<T>),
                raw.cast_mut().cast(),
            )
        };
        let pde = NonNull::new(pde).ok_or_else(|| {
            pr_err!("cannot create /proc entry {:?}\n", name);
            ENOMEM
        })?;
        let data: Arc<dyn ProcShow> = data;
        // Cannot fail: one slot was reserved above.
        self.files.push(ProcFile { pde, _data: data }, GFP_KERNEL)?;
        Ok(())
    }
}

impl Drop for ProcDir {
    fn drop(&mut self) {
        // Files first, each removed while its data is still alive.
        self.files.clear();
        // SAFETY: by the type invariant `pde` is live; nothing below it is
        // left, and it is removed only here.
        unsafe { shim::vproc_shim_proc_remove(self.pde.as_ptr()) };
    }
}
