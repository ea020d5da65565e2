// SPDX-License-Identifier: GPL-2.0

//! Owning wrappers for vproc's /proc entries.
//!
//! A [`ProcDir`] owns its directory entry and everything vproc created in
//! it; dropping it removes the children first, then the directory. A file
//! is served by a [`ProcFileOps`] value that the entry keeps alive (an
//! [`Arc`]) until the entry is removed: removal waits for readers and
//! writers still inside a callback, so the data is never freed under them.

use super::shim;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{
    new_spinlock,
    prelude::*,
    sync::{Arc, SpinLock},
};

/// Output of a [`ProcFileOps::show`].
pub(crate) struct Seq<'a> {
    m: NonNull<shim::seq_file>,
    _life: PhantomData<&'a mut ()>,
}

impl Seq<'_> {
    /// Wraps the seq_file of a show call in progress.
    ///
    /// # Safety
    ///
    /// `m` is a live seq_file used by this thread only, for the lifetime
    /// of the returned value.
    pub(super) unsafe fn from_raw<'a>(m: NonNull<shim::seq_file>) -> Seq<'a> {
        Seq {
            m,
            _life: PhantomData,
        }
    }

    /// Appends bytes to the file's contents.
    pub(crate) fn write(&mut self, b: &[u8]) {
        // SAFETY: `m` is the live seq_file of the current show call.
        unsafe { shim::vproc_shim_seq_write(self.m.as_ptr(), b.as_ptr(), b.len()) };
    }
}

impl core::fmt::Write for Seq<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}

/// What a vproc /proc file does. Every method has a default: a file
/// implements what it offers (text, writes, or an event stream).
pub(crate) trait ProcFileOps: Send + Sync + 'static {
    /// Whether the file can be read at all (a write-only file refuses
    /// opens for reading with EACCES, even by root).
    const READABLE: bool = true;
    /// Whether the file takes writes.
    const WRITABLE: bool = false;

    /// Renders the whole file.
    fn show(&self, _m: &mut Seq<'_>) -> Result {
        Ok(())
    }
    /// Handles one write(2) of `buf` (at most 4095 bytes).
    fn write(&self, _buf: &[u8]) -> Result {
        Err(EINVAL)
    }
    /// Stream files only: fills `buf` from record `*pos`, of which `*skip`
    /// bytes were read already, advancing both; returns the byte count (0:
    /// caught up). A record longer than `buf` is returned in pieces.
    fn stream_read(&self, _pos: &mut u64, _skip: &mut u32, _buf: &mut [u8]) -> usize {
        0
    }
    /// Stream files only: whether there is more after `pos`.
    fn stream_ready(&self, _pos: u64) -> bool {
        false
    }
}

/// The `show` callback for files of type `T`.
///
/// # Safety
///
/// Called by the shim only, for a file created by [`ProcDir::add`] with
/// `T`: `data` is the `Arc<T>` pointer kept alive by that file's entry,
/// `m` the seq_file of the current read.
unsafe extern "C" fn show_tramp<T: ProcFileOps>(
    m: *mut shim::seq_file,
    data: *mut c_void,
) -> c_int {
    // SAFETY: see above.
    let t = unsafe { &*data.cast::<T>() };
    let Some(m) = NonNull::new(m) else {
        return EINVAL.to_errno();
    };
    let mut seq = Seq {
        m,
        _life: PhantomData,
    };
    match t.show(&mut seq) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The `write` callback for files of type `T`.
///
/// # Safety
///
/// As for [`show_tramp`]; `buf` is a kernel copy of `len` bytes.
unsafe extern "C" fn write_tramp<T: ProcFileOps>(
    data: *mut c_void,
    buf: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: see above; the shim passes a kernel copy of `len` bytes.
    let (t, buf) = unsafe { (&*data.cast::<T>(), core::slice::from_raw_parts(buf, len)) };
    match t.write(buf) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The `stream_read` callback for stream files of type `T`.
///
/// # Safety
///
/// As for [`show_tramp`]; `pos` and `skip` are the open file's position
/// and `buf` a kernel buffer of `len` bytes, all exclusive to this call.
unsafe extern "C" fn stream_read_tramp<T: ProcFileOps>(
    data: *mut c_void,
    pos: *mut u64,
    skip: *mut c_uint,
    buf: *mut c_char,
    len: usize,
) -> c_long {
    // SAFETY: see above; `pos` is the open file's position and `buf` a
    // kernel buffer of `len` bytes, both exclusive to this call.
    let (t, pos, skip, buf) = unsafe {
        (
            &*data.cast::<T>(),
            &mut *pos,
            &mut *skip,
            core::slice::from_raw_parts_mut(buf, len),
        )
    };
    t.stream_read(pos, skip, buf) as c_long
}

/// The `stream_ready` callback for stream files of type `T`.
///
/// # Safety
///
/// As for [`show_tramp`].
unsafe extern "C" fn stream_ready_tramp<T: ProcFileOps>(data: *mut c_void, pos: u64) -> c_int {
    // SAFETY: see above.
    let t = unsafe { &*data.cast::<T>() };
    c_int::from(t.stream_ready(pos))
}

/// The callback tables, one per file type and kind.
struct Tables<T>(PhantomData<T>);

impl<T: ProcFileOps> Tables<T> {
    const WRITE: shim::vproc_write_fn = if T::WRITABLE {
        Some(write_tramp::<T>)
    } else {
        None
    };
    const FILE: shim::vproc_file_cbs = shim::vproc_file_cbs {
        show: if T::READABLE {
            Some(show_tramp::<T>)
        } else {
            None
        },
        write: Self::WRITE,
        stream_read: None,
        stream_ready: None,
    };
    const STREAM: shim::vproc_file_cbs = shim::vproc_file_cbs {
        show: None,
        write: Self::WRITE,
        stream_read: Some(stream_read_tramp::<T>),
        stream_ready: Some(stream_ready_tramp::<T>),
    };
}

/// Anything an entry keeps alive (type-erased: only dropped, never called).
trait Keep: Send + Sync {}
impl<T: Send + Sync> Keep for T {}

/// A file created in a [`ProcDir`].
struct ProcFile {
    /// INVARIANT: a live file from `vproc_shim_file_create` whose data
    /// points into `_data`; removed only in `drop`.
    file: NonNull<shim::vproc_file>,
    _data: Arc<dyn Keep>,
    /// A stream file's waker, emptied before the file is removed.
    waker: Option<Arc<StreamWaker>>,
}

impl Drop for ProcFile {
    fn drop(&mut self) {
        if let Some(w) = &self.waker {
            *w.file.lock() = StreamFile(None);
        }
        // SAFETY: by the type invariant; waits for callbacks to leave.
        // `_data` is dropped after this body.
        unsafe { shim::vproc_shim_file_remove(self.file.as_ptr()) };
    }
}

/// A live stream file's pointer, or nothing.
struct StreamFile(Option<NonNull<shim::vproc_file>>);

// SAFETY: waking a wait queue is safe from any thread and context; the
// pointer is only used for that, under the waker's lock.
unsafe impl Send for StreamFile {}

/// Wakes poll(2)ers of a stream file, if there is one: the owner of the
/// data keeps it, [`ProcDir::add_stream`] points it at the file, and the
/// file's removal empties it first, so a wake never reaches a removed file.
#[pin_data]
pub(crate) struct StreamWaker {
    /// INVARIANT: `Some` only while the file is live (see `ProcFile`).
    #[pin]
    file: SpinLock<StreamFile>,
}

impl StreamWaker {
    /// A waker with no file yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                file <- new_spinlock!(StreamFile(None), "StreamWaker::file"),
            }),
            GFP_KERNEL,
        )
    }

    /// Wakes the stream's pollers (nothing without a file). Atomic
    /// context is fine.
    pub(crate) fn wake(&self) {
        let f = self.file.lock();
        if let Some(p) = f.0 {
            // SAFETY: `Some` only while the file is live (type invariant);
            // the removal empties it under this lock first.
            unsafe { shim::vproc_shim_file_wake(p.as_ptr()) };
        }
    }
}

/// A /proc directory and the entries vproc created in it.
pub(crate) struct ProcDir {
    /// INVARIANT: a live entry created by `vproc_shim_proc_mkdir`.
    pde: NonNull<shim::proc_dir_entry>,
    files: KVec<ProcFile>,
    dirs: KVec<(u32, ProcDir)>,
}

// SAFETY: the entry pointers are only used to create and remove children,
// which procfs serialises internally; file data is `Send + Sync`.
unsafe impl Send for ProcDir {}
// SAFETY: `&ProcDir` offers no method that touches the entries.
unsafe impl Sync for ProcDir {}

impl ProcDir {
    fn mkdir(name: &CStr, mode: u16, parent: *mut shim::proc_dir_entry) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated and copied by procfs; `parent` is
        // NULL or a live directory.
        let pde = unsafe { shim::vproc_shim_proc_mkdir(name.as_char_ptr(), mode, parent) };
        let pde = NonNull::new(pde).ok_or_else(|| {
            pr_err!(
                "cannot create /proc directory {:?} (does it exist already?)\n",
                name
            );
            EEXIST
        })?;
        Ok(Self {
            pde,
            files: KVec::new(),
            dirs: KVec::new(),
        })
    }

    /// Creates `/proc/<name>` with `mode` (e.g. 0o555).
    pub(crate) fn new_root(name: &CStr, mode: u16) -> Result<Self> {
        Self::mkdir(name, mode, core::ptr::null_mut())
    }

    /// Creates the subdirectory `name`, tagged `tag` (see [`Self::dir_mut`]).
    pub(crate) fn add_dir(&mut self, tag: u32, name: &CStr, mode: u16) -> Result<&mut ProcDir> {
        self.dirs.reserve(1, GFP_KERNEL)?;
        let d = Self::mkdir(name, mode, self.pde.as_ptr())?;
        self.dirs.push((tag, d), GFP_KERNEL)?;
        let last = self.dirs.len() - 1;
        Ok(&mut self.dirs[last].1)
    }

    /// The subdirectory tagged `tag`.
    pub(crate) fn dir_mut(&mut self, tag: u32) -> Option<&mut ProcDir> {
        self.dirs
            .iter_mut()
            .find(|(t, _)| *t == tag)
            .map(|(_, d)| d)
    }

    /// Removes the subdirectory tagged `tag` (and all in it).
    pub(crate) fn remove_dir(&mut self, tag: u32) {
        if let Some(i) = self.dirs.iter().position(|(t, _)| *t == tag) {
            drop(self.dirs.remove(i));
        }
    }

    fn create<T: ProcFileOps>(
        &mut self,
        name: &CStr,
        mode: u16,
        data: Arc<T>,
        cbs: &'static shim::vproc_file_cbs,
        waker: Option<Arc<StreamWaker>>,
    ) -> Result {
        self.files.reserve(1, GFP_KERNEL)?;
        let raw: *const T = &*data;
        // SAFETY: `name` is NUL-terminated; `self.pde` is live; `cbs` is a
        // static table whose trampolines match `T`; `data` stays alive in
        // the `ProcFile` until the file has been removed.
        let file = unsafe {
            shim::vproc_shim_file_create(
                name.as_char_ptr(),
                mode,
                self.pde.as_ptr(),
                cbs,
                raw.cast_mut().cast(),
            )
        };
        let file = NonNull::new(file).ok_or_else(|| {
            pr_err!("cannot create /proc file {:?}\n", name);
            ENOMEM
        })?;
        if let Some(w) = &waker {
            *w.file.lock() = StreamFile(Some(file));
        }
        let data: Arc<dyn Keep> = data;
        // Cannot fail: one slot was reserved above.
        self.files.push(
            ProcFile {
                file,
                _data: data,
                waker,
            },
            GFP_KERNEL,
        )?;
        Ok(())
    }

    /// Adds a file `name` with `mode` served by `data` (show and write).
    pub(crate) fn add<T: ProcFileOps>(&mut self, name: &CStr, mode: u16, data: Arc<T>) -> Result {
        self.create(name, mode, data, &Tables::<T>::FILE, None)
    }

    /// Adds an event-stream file (see [`ProcFileOps::stream_read`]) that
    /// `waker` wakes until the file is removed.
    pub(crate) fn add_stream<T: ProcFileOps>(
        &mut self,
        name: &CStr,
        mode: u16,
        data: Arc<T>,
        waker: Arc<StreamWaker>,
    ) -> Result {
        self.create(name, mode, data, &Tables::<T>::STREAM, Some(waker))
    }
}

impl Drop for ProcDir {
    fn drop(&mut self) {
        // Children first, each removed while its data is still alive.
        self.dirs.clear();
        self.files.clear();
        // SAFETY: by the type invariant `pde` is live; nothing vproc made
        // below it is left, and it is removed only here.
        unsafe { shim::vproc_shim_proc_remove(self.pde.as_ptr()) };
    }
}
