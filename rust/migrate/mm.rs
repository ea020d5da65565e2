// SPDX-License-Identifier: GPL-2.0

//! Memory (rust/mm.c): references on a task and its address space, what
//! the destination needs before the process stops (`peek`), the areas
//! (classified by `logic::mig_policy`), reading pages, and rebuilding the
//! calling task's memory.

use super::{c_text, policy, shim, to_result, Ident, VmaFacts};
use kernel::prelude::*;

/// One memory area, owned.
pub(crate) struct VmaInfo {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) pgoff: u64,
    pub(crate) flags: u32,
    pub(crate) file_size: u64,
    pub(crate) mtime_sec: i64,
    pub(crate) mtime_nsec: u32,
    pub(crate) path: KVec<u8>,
    pub(crate) sha256: [u8; 32],
}

/// The flags of an area ([`policy::classify_vma`]); called by the C side
/// under the mmap lock (allocates nothing, never sleeps).
///
/// # Safety
///
/// `f` is valid for the call; `f.path` points to `f.path_len` bytes.
unsafe extern "C" fn vma_classify_cb(f: *const shim::vproc_vma_facts) -> c_uint {
    // SAFETY: `f` is valid for the call.
    let f = unsafe { &*f };
    let path = if f.path.is_null() || f.path_len == 0 {
        &[][..]
    } else {
        // SAFETY: `path` points to `path_len` bytes (see above); c_char
        // and u8 have the same layout.
        unsafe { core::slice::from_raw_parts(f.path.cast::<u8>(), f.path_len as usize) }
    };
    policy::classify_vma(&VmaFacts {
        read: f.read != 0,
        write: f.write != 0,
        exec: f.exec != 0,
        shared: f.shared != 0,
        growsdown: f.growsdown != 0,
        special: f.special != 0,
        raw_memory: f.raw_memory != 0,
        file: f.file != 0,
        anon_vma: f.anon_vma != 0,
        regular: f.regular != 0,
        path,
        locked: f.locked != 0,
        dontcopy: f.dontcopy != 0,
        dontdump: f.dontdump != 0,
        wipeonfork: f.wipeonfork != 0,
        seq_read: f.seq_read != 0,
        rand_read: f.rand_read != 0,
        anon_shared_sole: f.anon_shared_sole != 0,
        written: f.written != 0,
    })
}

/// # Safety
///
/// `data` is the `KVec<VmaInfo>` given by [`vmas`]; `v` is valid.
unsafe extern "C" fn vma_cb(data: *mut c_void, v: *const shim::vproc_mig_vma) -> c_int {
    // SAFETY: `data` is the `KVec` passed by `vmas`; `v` is valid for the call.
    let (out, v) = unsafe { (&mut *data.cast::<KVec<VmaInfo>>(), &*v) };
    let plen = (v.path_len as usize).min(v.path.len());
    // SAFETY: c_char and u8 have the same layout.
    let p = unsafe { core::slice::from_raw_parts(v.path.as_ptr().cast::<u8>(), plen) };
    let mut path = KVec::new();
    if path.extend_from_slice(p, GFP_KERNEL).is_err() {
        return ENOMEM.to_errno();
    }
    let info = VmaInfo {
        start: v.start,
        end: v.end,
        pgoff: v.pgoff,
        flags: v.flags,
        file_size: v.file_size,
        mtime_sec: v.mtime_sec,
        mtime_nsec: v.mtime_nsec,
        path,
        sha256: v.sha256,
    };
    match out.push(info, GFP_KERNEL) {
        Ok(()) => 0,
        Err(_) => ENOMEM.to_errno(),
    }
}

/// A reference on a process's address space (to read it while the process
/// runs, before it stops for good).
pub(crate) struct Mm(pub(super) core::ptr::NonNull<shim::mm_struct>);

// SAFETY: an mm reference may be used and dropped from any task.
unsafe impl Send for Mm {}
// SAFETY: the shim only reads through it, under the mm's own lock.
unsafe impl Sync for Mm {}

impl Mm {
    /// The address space of process `t`.
    pub(crate) fn of(t: &Task) -> Result<Self> {
        // SAFETY: `t` holds a task reference.
        let p = unsafe { shim::vproc_shim_mm_of(t.0.as_ptr()) };
        core::ptr::NonNull::new(p).map(Self).ok_or(ESRCH)
    }
}

/// A reference on a process's task: what a move acts on from its check to
/// its end, so a PID reused meanwhile is never the process moved.
pub(crate) struct Task(pub(super) core::ptr::NonNull<shim::task_struct>);

// SAFETY: a task reference may be used and dropped from any task.
unsafe impl Send for Task {}
// SAFETY: the shim only reads through it or queues work on it.
unsafe impl Sync for Task {}

impl Task {
    /// Process `pid` of this node (ESRCH if none).
    pub(crate) fn of(pid: u32) -> Result<Self> {
        // SAFETY: no preconditions.
        let p = unsafe { shim::vproc_shim_task_get(pid as c_int) };
        core::ptr::NonNull::new(p).map(Self).ok_or(ESRCH)
    }

    /// How many execve()s it made: a move that began before one is stale.
    pub(crate) fn exec_id(&self) -> u64 {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_task_exec_id(self.0.as_ptr()) }
    }

    /// Whether it is inside an execve(): its memory may be half-built
    /// (new, without its program or vdso yet) while `exec_id` still
    /// reads the old count.
    pub(crate) fn in_execve(&self) -> bool {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_task_in_execve(self.0.as_ptr()) != 0 }
    }

    /// Whether it is stopped (SIGSTOP and the like, or by a tracer).
    pub(crate) fn stopped(&self) -> bool {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_task_stopped(self.0.as_ptr()) != 0 }
    }
}

/// How many execve()s the calling task made.
pub(crate) fn current_exec_id() -> u64 {
    // SAFETY: NULL asks for current.
    unsafe { shim::vproc_shim_task_exec_id(core::ptr::null_mut()) }
}

impl Drop for Task {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `of`, dropped once.
        unsafe { shim::vproc_shim_task_put(self.0.as_ptr()) }
    }
}

impl Drop for Mm {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `of`, dropped once.
        unsafe { shim::vproc_shim_mm_put(self.0.as_ptr()) }
    }
}

pub(super) fn mm_ptr(mm: Option<&Mm>) -> *mut shim::mm_struct {
    mm.map_or(core::ptr::null_mut(), |m| m.0.as_ptr())
}

/// What the destination needs of a process before it stops.
pub(crate) struct Peek {
    /// Start of the vdso/vvar area.
    pub(crate) vdso_lo: u64,
    /// Start of the vdso text.
    pub(crate) vdso: u64,
    /// Working directory ("" when unknown).
    pub(crate) cwd: KVec<u8>,
    /// cgroup v2 path.
    pub(crate) cgroup: KVec<u8>,
    /// File system identity.
    pub(crate) ident: Ident,
}

/// Task `t`'s CLOCK_MONOTONIC and CLOCK_BOOTTIME now, as it sees them
/// (its time namespace's offsets added), in ns.
pub(crate) fn clocks(t: &Task) -> Result<(u64, u64)> {
    let (mut m, mut b) = (0u64, 0u64);
    // SAFETY: a task reference held by `t`; valid pointers.
    to_result(unsafe { shim::vproc_shim_task_clocks(t.0.as_ptr(), &mut m, &mut b) })?;
    Ok((m, b))
}

/// Where process `pid`'s vdso area and text are, its working directory,
/// cgroup and file system identity.
pub(crate) fn peek(t: &Task) -> Result<Peek> {
    let (mut lo, mut text) = (0u64, 0u64);
    let mut cwd = [0 as c_char; shim::VPROC_MIG_PEEK_TEXT as usize];
    let mut cg = [0 as c_char; shim::VPROC_MIG_PEEK_TEXT as usize];
    // SAFETY: all zeros is a valid value of the struct.
    let mut id: shim::vproc_mig_ident = unsafe { core::mem::zeroed() };
    // SAFETY: valid pointers; `cwd` and `cg` have the
    // VPROC_MIG_PEEK_TEXT bytes the shim writes.
    to_result(unsafe {
        shim::vproc_shim_mig_peek(
            t.0.as_ptr(),
            &mut lo,
            &mut text,
            cwd.as_mut_ptr(),
            &mut id,
            cg.as_mut_ptr(),
        )
    })?;
    let n = (id.ngroups as usize).min(id.groups.len());
    let mut ident = Ident {
        fsuid: id.fsuid,
        fsgid: id.fsgid,
        ngroups: n as u32,
        cap_fs: id.cap_fs,
        ..Ident::default()
    };
    ident.groups[..n].copy_from_slice(&id.groups[..n]);
    Ok(Peek {
        vdso_lo: lo,
        vdso: text,
        cwd: c_text(&cwd)?,
        cgroup: c_text(&cg)?,
        ident,
    })
}

/// The content hash of the file mapping at `start` of the calling task.
pub(crate) fn hash_area(start: u64) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    // SAFETY: `out` is 32 writable bytes.
    to_result(unsafe { shim::vproc_shim_mig_hash_area(start, out.as_mut_ptr()) })?;
    Ok(out)
}

/// The memory areas of `mm` (`None`: the calling task's), in address
/// order; with `hash`, file mappings get their content hash.
pub(crate) fn vmas(mm: Option<&Mm>, hash: bool) -> Result<KVec<VmaInfo>> {
    let mut out: KVec<VmaInfo> = KVec::new();
    // SAFETY: the callback matches; `out` outlives the call.
    to_result(unsafe {
        shim::vproc_shim_mig_vmas(
            mm_ptr(mm),
            c_int::from(hash),
            Some(vma_classify_cb),
            Some(vma_cb),
            core::ptr::from_mut::<KVec<VmaInfo>>(&mut out).cast(),
        )
    })?;
    Ok(out)
}

/// Copies the existing pages of `n` (<= 32) pages at `addr` of `mm`
/// (`None`: the calling task's) into `buf` (packed); returns the bitmap of
/// which were copied.
pub(crate) fn read_pages(mm: Option<&Mm>, addr: u64, n: u32, buf: &mut [u8]) -> Result<u32> {
    read_pages_busy(mm, addr, n, buf).map(|(present, _)| present)
}

/// [`read_pages`], and which of them had a reference besides their
/// mappings and this read (bit i: page i), such as an I/O in flight into
/// it: a write that lands without a fault, which soft-dirty bits cleared
/// before it do not see.
pub(crate) fn read_pages_busy(
    mm: Option<&Mm>,
    addr: u64,
    n: u32,
    buf: &mut [u8],
) -> Result<(u32, u32)> {
    if n > 32 || buf.len() < n as usize * 4096 {
        return Err(EINVAL);
    }
    let (mut present, mut busy) = (0u32, 0u32);
    // SAFETY: `buf` holds `n` pages.
    to_result(unsafe {
        shim::vproc_shim_mig_read_pages(
            mm_ptr(mm),
            addr as usize,
            n,
            buf.as_mut_ptr().cast(),
            &mut present,
            &mut busy,
        )
    })?;
    Ok((present, busy))
}

/// The `n` pages at `addr` of `mm` (`None`: the calling task's) into
/// `out`, each at its place, a page that reads as none (a hole, or the
/// zero page after MADV_DONTNEED and a read) as zeros; `tmp` holds `n`
/// pages for [`read_pages`].
pub(crate) fn read_pages_full(
    mm: Option<&Mm>,
    addr: u64,
    n: u32,
    tmp: &mut [u8],
    out: &mut [u8],
) -> Result {
    let p = 4096;
    if out.len() < n as usize * p {
        return Err(EINVAL);
    }
    let present = read_pages(mm, addr, n, tmp)?;
    let mut k = 0;
    for i in 0..n as usize {
        let b = &mut out[i * p..(i + 1) * p];
        if present & (1 << i) != 0 {
            b.copy_from_slice(&tmp[k * p..(k + 1) * p]);
            k += 1;
        } else {
            b.fill(0);
        }
    }
    Ok(())
}

/// Clears the soft-dirty bits of `mm` (`None`: the calling task's): the
/// next write to each page sets its bit again.
pub(crate) fn soft_dirty_clear(mm: Option<&Mm>) -> Result {
    // SAFETY: `mm_ptr` is a live mm or NULL.
    to_result(unsafe { shim::vproc_shim_mig_soft_dirty_clear(mm_ptr(mm)) })
}

/// The pagemap entries of the `buf.len()` pages from `addr` of `mm`
/// (`None`: the calling task's), PFNs shown: how many were written.
pub(crate) fn pagemap(mm: Option<&Mm>, addr: u64, buf: &mut [u64]) -> Result<usize> {
    // SAFETY: `buf` has room for `buf.len()` entries.
    let r = unsafe {
        shim::vproc_shim_mig_pagemap(mm_ptr(mm), addr as usize, buf.len(), buf.as_mut_ptr())
    };
    if r < 0 {
        return Err(Error::from_errno(r as i32));
    }
    usize::try_from(r)
        .ok()
        .filter(|&n| n <= buf.len())
        .ok_or(EINVAL)
}

/// Unmaps everything of the calling task but the vdso/vvar.
pub(crate) fn wipe_mm() -> Result {
    // SAFETY: no preconditions.
    to_result(unsafe { shim::vproc_shim_mig_wipe_mm() })
}

/// Moves the calling task's vdso/vvar area to `lo` (its text to `text`),
/// where the process being restored into it had it. After [`wipe_mm`].
pub(crate) fn place_vdso(lo: u64, text: u64) -> Result {
    // SAFETY: no preconditions (the shim checks the addresses).
    to_result(unsafe { shim::vproc_shim_mig_place_vdso(lo, text) })
}

/// Maps an area at its address: its file, opened with `id`, when it has
/// the content the source mapped; else anonymous memory with
/// `anon_instead` (`ESTALE` otherwise).
pub(crate) fn map(v: &crate::logic::mig::Vma<'_>, anon_instead: bool, id: &Ident) -> Result {
    // SAFETY: all zeros is a valid value of the struct.
    let mut c: shim::vproc_mig_vma = unsafe { core::mem::zeroed() };
    c.start = v.start;
    c.end = v.end;
    c.pgoff = v.pgoff;
    c.flags = v.flags;
    c.file_size = v.file_size;
    c.mtime_sec = v.mtime_sec;
    c.mtime_nsec = v.mtime_nsec;
    if v.path.len() >= c.path.len() {
        return Err(EINVAL);
    }
    for (d, s) in c.path.iter_mut().zip(v.path.iter()) {
        *d = *s as c_char;
    }
    c.path_len = v.path.len() as u32;
    c.sha256 = v.sha256;
    // SAFETY: all zeros is a valid value of the struct.
    let mut ci: shim::vproc_mig_ident = unsafe { core::mem::zeroed() };
    let n = (id.ngroups as usize).min(ci.groups.len());
    ci.fsuid = id.fsuid;
    ci.fsgid = id.fsgid;
    ci.ngroups = n as u32;
    ci.groups[..n].copy_from_slice(&id.groups[..n]);
    ci.cap_fs = id.cap_fs;
    // SAFETY: valid structs (the shim validates their values).
    to_result(unsafe { shim::vproc_shim_mig_map(&c, c_int::from(anon_instead), &ci) })
}

/// Unmaps `len` bytes at `addr` of the calling task (not its vdso).
pub(crate) fn unmap(addr: u64, len: u64) -> Result {
    // SAFETY: no pointers; the shim checks the range.
    to_result(unsafe { shim::vproc_shim_mig_unmap(addr as usize, len as usize) })
}

/// Writes `data` at `addr` of the calling task (even read-only memory).
pub(crate) fn write_mem(addr: u64, data: &[u8]) -> Result {
    // SAFETY: `data` is valid for its length.
    to_result(unsafe {
        shim::vproc_shim_mig_write(addr as usize, data.as_ptr().cast(), data.len())
    })
}
