// SPDX-License-Identifier: GPL-2.0

//! Process state, read from and written to the calling task: the safe side
//! of the migration C files (`rust/migrate.h`; see `rust/shim.h`, "migration").
//!
//! Everything here acts on `current` unless it says otherwise, and must be
//! called in that task's own context (a task work or a syscall of it).

use super::shim;
use crate::logic::mig::{self, vma_flags, Ident};
use crate::logic::mig_policy::{self as policy, FdFacts, ImageFacts, TaskFacts, VmaFacts};
use core::ffi::c_void;
use kernel::{prelude::*, sync::Arc};

pub(crate) use policy::FdKind;

// The constants C and Rust share: `rust/shim.h` defines them for the C side
// (which checks them against the kernel's structs), `logic` for the Rust
// side; they must agree.
const _: () = assert!(shim::VPROC_MIG_GREGS_LEN as usize == mig::GREGS_LEN);
const _: () = assert!(shim::VPROC_SIGINFO_LEN as usize == mig::SIGINFO_LEN);
const _: () = assert!(shim::VPROC_VMA_READ == vma_flags::READ);
const _: () = assert!(shim::VPROC_VMA_WRITE == vma_flags::WRITE);
const _: () = assert!(shim::VPROC_VMA_EXEC == vma_flags::EXEC);
const _: () = assert!(shim::VPROC_VMA_SHARED == vma_flags::SHARED);
const _: () = assert!(shim::VPROC_VMA_GROWSDOWN == vma_flags::GROWSDOWN);
const _: () = assert!(shim::VPROC_VMA_FILE == vma_flags::FILE);
const _: () = assert!(shim::VPROC_VMA_ANON_PAGES == vma_flags::ANON_PAGES);
const _: () = assert!(shim::VPROC_VMA_SPECIAL == vma_flags::SPECIAL);
const _: () = assert!(shim::VPROC_VMA_UNSUPPORTED == vma_flags::UNSUPPORTED);
const _: () = assert!(shim::VPROC_IO_READ == mig::io_op::READ);
const _: () = assert!(shim::VPROC_IO_WRITE == mig::io_op::WRITE);
const _: () = assert!(shim::VPROC_IO_LSEEK == mig::io_op::LSEEK);
const _: () = assert!(shim::VPROC_IO_CLOSE == mig::io_op::CLOSE);
const _: () = assert!(shim::VPROC_IO_IOCTL == mig::io_op::IOCTL);
const _: () = assert!(shim::VPROC_IO_MAX as usize == mig::IO_MAX);

/// A process's task image (credentials, limits, signal handlers, mm
/// layout, cwd...): a plain C struct, shipped as bytes.
pub(crate) struct TaskImage(KBox<shim::vproc_mig_task>);

/// Size of a task image on the wire.
pub(crate) const TASK_LEN: usize = core::mem::size_of::<shim::vproc_mig_task>();

impl TaskImage {
    fn zeroed() -> Result<Self> {
        // SAFETY: the struct is integers and byte arrays: all zeros is valid.
        let z: shim::vproc_mig_task = unsafe { core::mem::zeroed() };
        Ok(Self(KBox::new(z, GFP_KERNEL)?))
    }

    /// Its file system identity (what [`peek`] reads of a running task).
    pub(crate) fn ident(&self) -> Ident {
        let t = &*self.0;
        let n = (t.ngroups as usize).min(t.groups.len());
        let mut id = Ident {
            fsuid: t.fsuid,
            fsgid: t.fsgid,
            ngroups: n as u32,
            cap_fs: t.cap_effective & crate::logic::mig::CAP_FS_MASK,
            ..Ident::default()
        };
        id.groups[..n].copy_from_slice(&t.groups[..n]);
        id
    }

    /// The calling task's image.
    pub(crate) fn capture() -> Result<Self> {
        let mut t = Self::zeroed()?;
        // SAFETY: `t.0` is a valid, writable struct.
        to_result(unsafe { shim::vproc_shim_mig_get_task(&mut *t.0) })?;
        Ok(t)
    }

    /// An image received from a peer (`TASK_LEN` bytes).
    pub(crate) fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() != TASK_LEN {
            return Err(EINVAL);
        }
        let mut t = Self::zeroed()?;
        // SAFETY: `b` has exactly the struct's size; every bit pattern is a
        // valid value of it (integers and byte arrays).
        unsafe {
            core::ptr::copy_nonoverlapping(
                b.as_ptr(),
                core::ptr::from_mut::<shim::vproc_mig_task>(&mut *t.0).cast::<u8>(),
                TASK_LEN,
            )
        };
        Ok(t)
    }

    /// Its bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        // SAFETY: the struct was zeroed before being filled, so padding is
        // initialised; it lives as long as `self`.
        unsafe {
            core::slice::from_raw_parts(
                core::ptr::from_ref::<shim::vproc_mig_task>(&*self.0).cast::<u8>(),
                TASK_LEN,
            )
        }
    }

    /// Whether it may be applied ([`policy::validate_task_image`]).
    fn validate(&self) -> Result {
        let t = &*self.0;
        let facts = ImageFacts {
            code: (t.start_code, t.end_code),
            data: (t.start_data, t.end_data),
            brk: (t.start_brk, t.brk),
            args: (t.arg_start, t.arg_end),
            env: (t.env_start, t.env_end),
            start_stack: t.start_stack,
            nice: t.nice,
            umask: t.umask,
            ss_sp: t.ss_sp,
            ss_size: t.ss_size,
            sa_handler: &t.sa_handler,
            sa_restorer: &t.sa_restorer,
            dumpable: t.dumpable,
            ngroups: t.ngroups,
            rseq_len: t.rseq_len,
            rseq_version: t.rseq_version,
        };
        policy::validate_task_image(&facts).map_err(|_| EINVAL)
    }

    /// Applies it to the calling task, once validated here (the C side
    /// checks again what the kernel needs to be safe).
    pub(crate) fn apply(&self) -> Result {
        self.validate()?;
        // SAFETY: a valid struct.
        to_result(unsafe { shim::vproc_shim_mig_set_task(&*self.0) })
    }

    /// Its name.
    pub(crate) fn comm(&self) -> &[u8] {
        let c = &self.0.comm;
        // SAFETY: c_char and u8 have the same layout.
        let b = unsafe { core::slice::from_raw_parts(c.as_ptr().cast::<u8>(), c.len()) };
        let n = b.iter().position(|&x| x == 0).unwrap_or(b.len());
        &b[..n]
    }
}

fn to_result(r: c_int) -> Result {
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(())
    }
}

/// Why the calling process cannot move now, if it cannot
/// ([`policy::refusal`] over what the kernel says of it).
pub(crate) fn refusal() -> Option<&'static str> {
    let mut f = shim::vproc_mig_task_facts::default();
    // SAFETY: `f` is a valid, writable struct.
    unsafe { shim::vproc_shim_mig_task_facts(&mut f) };
    let facts = TaskFacts {
        exiting: f.exiting != 0,
        threads: f.threads,
        ptraced: f.ptraced != 0,
        vfork: f.vfork != 0,
        has_mm: f.has_mm != 0,
        mm_users: f.mm_users,
        posix_timers: f.posix_timers != 0,
        real_timer: f.real_timer != 0,
        children: f.children != 0,
        init_namespaces: f.init_namespaces != 0,
        seccomp_mode: f.seccomp_mode,
    };
    policy::refusal(&facts).map(policy::Refusal::reason)
}

/// The calling task's registers: general (`GREGS_LEN` bytes) and FPU
/// (image, kind). A syscall the capture interrupted is set up to rerun.
pub(crate) fn capture_regs(gregs: &mut [u8; 216]) -> Result<(KVec<u8>, u32)> {
    // SAFETY: no preconditions.
    let xsize = unsafe { shim::vproc_shim_mig_xstate_size() }.max(512);
    let mut x = KVec::new();
    x.resize(xsize, 0, GFP_KERNEL)?;
    let mut xlen = 0usize;
    let mut kind = 0u32;
    // SAFETY: buffers of the sizes given.
    to_result(unsafe {
        shim::vproc_shim_mig_get_regs(
            gregs.as_mut_ptr().cast(),
            x.as_mut_ptr().cast(),
            x.len(),
            &mut xlen,
            &mut kind,
        )
    })?;
    x.truncate(xlen);
    Ok((x, kind))
}

/// Sets the calling task's registers (effective on its return to user
/// mode). Validated as PTRACE_SETREGS would.
pub(crate) fn restore_regs(gregs: &[u8], xstate: &[u8], xkind: u32) -> Result {
    if gregs.len() != shim::VPROC_MIG_GREGS_LEN as usize {
        return Err(EINVAL);
    }
    // SAFETY: buffers of the sizes given, read only.
    to_result(unsafe {
        shim::vproc_shim_mig_set_regs(
            gregs.as_ptr().cast(),
            xstate.as_ptr().cast(),
            xstate.len(),
            xkind,
        )
    })
}

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
pub(crate) struct Mm(core::ptr::NonNull<shim::mm_struct>);

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
pub(crate) struct Task(core::ptr::NonNull<shim::task_struct>);

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

    /// Whether it is stopped (SIGSTOP and the like, or by a tracer).
    pub(crate) fn stopped(&self) -> bool {
        // SAFETY: `self` holds a task reference.
        unsafe { shim::vproc_shim_task_stopped(self.0.as_ptr()) != 0 }
    }
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

fn mm_ptr(mm: Option<&Mm>) -> *mut shim::mm_struct {
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

fn c_text(b: &[c_char]) -> Result<KVec<u8>> {
    // SAFETY: c_char and u8 have the same layout.
    let b = unsafe { core::slice::from_raw_parts(b.as_ptr().cast::<u8>(), b.len()) };
    let mut out = KVec::new();
    out.extend_from_slice(
        &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())],
        GFP_KERNEL,
    )?;
    Ok(out)
}

/// Where process `pid`'s vdso area and text are, its working directory,
/// cgroup and file system identity.
pub(crate) fn peek(t: &Task) -> Result<Peek> {
    let (mut lo, mut text) = (0u64, 0u64);
    let mut cwd = [0 as c_char; 256];
    let mut cg = [0 as c_char; 256];
    // SAFETY: all zeros is a valid value of the struct.
    let mut id: shim::vproc_mig_ident = unsafe { core::mem::zeroed() };
    // SAFETY: valid pointers; `cwd` and `cg` have the 256 bytes the shim
    // writes.
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
    if n > 32 || buf.len() < n as usize * 4096 {
        return Err(EINVAL);
    }
    let mut present = 0u32;
    // SAFETY: `buf` holds `n` pages.
    to_result(unsafe {
        shim::vproc_shim_mig_read_pages(
            mm_ptr(mm),
            addr as usize,
            n,
            buf.as_mut_ptr().cast(),
            &mut present,
        )
    })?;
    Ok(present)
}

/// Unmaps everything of the calling task but the vdso/vvar.
pub(crate) fn wipe_mm() -> Result {
    // SAFETY: no preconditions.
    to_result(unsafe { shim::vproc_shim_mig_wipe_mm() })
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

/// Takes one pending signal of the calling task (raw siginfo).
pub(crate) fn dequeue_signal() -> Option<[u8; 48]> {
    let mut info = [0u8; 48];
    // SAFETY: 48 bytes, the size of kernel_siginfo (checked in C).
    let sig = unsafe { shim::vproc_shim_mig_dequeue_signal(info.as_mut_ptr().cast()) };
    (sig > 0).then_some(info)
}

/// Queues a siginfo from [`dequeue_signal`] (or a peer) to the calling
/// task again.
pub(crate) fn queue_signal(info: &[u8]) -> Result {
    if info.len() != 48 {
        return Err(EINVAL);
    }
    // SAFETY: 48 bytes.
    to_result(unsafe { shim::vproc_shim_mig_queue_signal(info.as_ptr().cast()) })
}

/// Sends `sig` to local process `pid` with si_code `code` and sender
/// `from_pid`/`from_uid`.
pub(crate) fn signal(pid: u32, sig: u32, code: i32, from_pid: u32, from_uid: u32) -> Result {
    // SAFETY: no pointers.
    to_result(unsafe {
        shim::vproc_shim_mig_signal(
            pid as c_int,
            sig as c_int,
            code,
            from_pid as c_int,
            from_uid,
        )
    })
}

/// Makes every signal queue for (and wake) the calling deputy.
pub(crate) fn deputy_signals() {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_mig_deputy_signals() }
}

/// Whether a fatal signal is pending for the calling task.
pub(crate) fn fatal_pending() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_fatal_pending() != 0 }
}

/// Whether any signal is pending for the calling task.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_signal_pending() != 0 }
}

/// One open file of the calling task.
pub(crate) struct FdInfo {
    pub(crate) fd: i32,
    pub(crate) kind: FdKind,
    pub(crate) f_flags: u32,
    pub(crate) cloexec: bool,
    pub(crate) home_fd: i32,
    /// A proxy's deputy id (0 for other files).
    pub(crate) deputy: u64,
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
    });
    let info = FdInfo {
        fd: f.fd,
        kind,
        f_flags: f.f_flags,
        cloexec: f.cloexec != 0,
        home_fd: f.home_fd,
        deputy: f.deputy,
    };
    match out.push(info, GFP_KERNEL) {
        Ok(()) => 0,
        Err(_) => ENOMEM.to_errno(),
    }
}

/// The calling task's open files.
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

/// Work to run in a task's own context.
pub(crate) trait TaskWork: Send + Sync + 'static {
    /// Runs in the task; `Some(status)`: the task then exits with that
    /// wait(2) status (after this returned: every value it held dropped).
    fn run(self: Arc<Self>) -> Option<i32>;
}

/// # Safety
///
/// `data` comes from `Arc::<T>::into_raw` in [`task_work`], used once.
unsafe extern "C" fn twork_tramp<T: TaskWork>(data: *mut c_void) -> c_int {
    // SAFETY: `data` came from `Arc::into_raw` in `task_work` and is
    // consumed exactly once, here.
    let a = unsafe { Arc::from_raw(data.cast::<T>()) };
    match a.run() {
        Some(status) => status.max(0),
        None => shim::VPROC_TWORK_RETURN,
    }
}

/// Runs `w.run()` in process `t` at its next return to user mode
/// (`interrupt`: interrupting a blocking syscall).
pub(crate) fn task_work<T: TaskWork>(t: &Task, interrupt: bool, w: Arc<T>) -> Result {
    let raw = Arc::into_raw(w);
    // SAFETY: the trampoline matches `T` and consumes the pointer; `t`
    // holds a task reference.
    let r = unsafe {
        shim::vproc_shim_task_work(
            t.0.as_ptr(),
            c_int::from(interrupt),
            Some(twork_tramp::<T>),
            raw.cast_mut().cast(),
        )
    };
    if r < 0 {
        // SAFETY: not queued: take the reference back.
        drop(unsafe { Arc::from_raw(raw) });
        return Err(Error::from_errno(r));
    }
    Ok(())
}

/// The calling task's process id.
pub(crate) fn current_tgid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_current_tgid() }.max(0) as u32
}

/// Starts program `path` with `argv` (NUL-terminated strings) as root.
pub(crate) fn spawn(path: &CStr, argv: &[&CStr]) -> Result {
    let mut v: KVec<*const c_char> = KVec::new();
    for a in argv {
        v.push(a.as_char_ptr(), GFP_KERNEL)?;
    }
    v.push(core::ptr::null(), GFP_KERNEL)?;
    // SAFETY: NUL-terminated strings and a NULL-terminated vector, alive
    // until the program was started (UMH_WAIT_EXEC).
    to_result(unsafe { shim::vproc_shim_spawn(path.as_char_ptr(), v.as_ptr()) })
}
