// SPDX-License-Identifier: GPL-2.0

//! Processes: the vproc hooks of the kernel patch series, wrapped.
//!
//! - [`PidFilesReg`]: serves /proc/<pid>/{where,goto,loadlevel,lock,nmigs}
//!   through a [`PidFiles`] implementation while registered;
//! - [`TaskEventsReg`]: tells a [`TaskEvents`] implementation about every
//!   new and every finished process (sched_process_fork/exit);
//! - [`set_pid_range`]: this node's share of the PID space.
//!
//! Each registration holds the `Arc` of its implementation and unregisters
//! on drop, waiting until no callback runs any more, before releasing it.
//! The shim keeps one registration of each kind at a time.

use super::proc::Seq;
use super::shim;
use crate::logic::mig::Caller;
use crate::logic::wire::Sender;
use core::ptr::NonNull;
use kernel::{prelude::*, sync::Arc};

/// What the kernel told us about a task, for a /proc/<pid>/ call.
pub(crate) struct TaskFacts {
    /// Its process (thread group) id.
    pub(crate) tgid: u32,
    /// A kernel thread.
    pub(crate) kthread: bool,
    /// Threads in the process.
    pub(crate) threads: u32,
    /// The caller may move, lock or loadlevel it: ptrace's rule,
    /// `ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS)`, for the
    /// caller (false for a read, which asks nothing).
    pub(crate) may_control: bool,
    /// The caller, as a request about this process carries it to the node
    /// where the process runs (uid -1, refused there, for a read).
    pub(crate) caller: Caller,
}

fn caller_from_raw(c: &shim::vproc_caller) -> Caller {
    Caller {
        uid: c.uid,
        gid: c.gid,
        cap_sys_ptrace: c.cap_sys_ptrace != 0,
        cap_sys_nice: c.cap_sys_nice != 0,
    }
}

impl TaskFacts {
    fn from_raw(t: &shim::vproc_task) -> Self {
        Self {
            tgid: t.tgid.max(0) as u32,
            kthread: t.kthread != 0,
            threads: t.threads.max(0) as u32,
            may_control: t.may_control != 0,
            caller: caller_from_raw(&t.caller),
        }
    }
}

/// The calling task as the caller of a request that goes to another node.
pub(crate) fn current_caller() -> Caller {
    let mut c = shim::vproc_caller::default();
    // SAFETY: `c` is valid for writes; process context.
    unsafe { shim::vproc_shim_current_caller(&mut c) };
    caller_from_raw(&c)
}

/// Facts about local process `pid` for the calling task (`ESRCH`: none).
pub(crate) fn task_of_pid(pid: u32) -> Result<TaskFacts> {
    task_of_pid_for(pid, None)
}

/// Facts about local process `pid` for `caller`, a caller of another node:
/// `may_control` is ptrace's rule evaluated with the caller's ids here.
pub(crate) fn task_of_pid_as(pid: u32, caller: &Caller) -> Result<TaskFacts> {
    task_of_pid_for(pid, Some(caller))
}

fn task_of_pid_for(pid: u32, caller: Option<&Caller>) -> Result<TaskFacts> {
    let pid = i32::try_from(pid).map_err(|_| ESRCH)?;
    let raw = caller.map(|c| shim::vproc_caller {
        uid: c.uid,
        gid: c.gid,
        cap_sys_ptrace: c_int::from(c.cap_sys_ptrace),
        cap_sys_nice: c_int::from(c.cap_sys_nice),
    });
    let as_ptr = raw.as_ref().map_or(core::ptr::null(), core::ptr::from_ref);
    let mut t = shim::vproc_task::default();
    // SAFETY: `t` is valid for writes, `as_ptr` null or valid for reads
    // for the call; process context.
    let ret = unsafe { shim::vproc_shim_task_of_pid(pid, as_ptr, &mut t) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(TaskFacts::from_raw(&t))
}

/// Serves the per-process files.
pub(crate) trait PidFiles: Send + Sync + 'static {
    /// Renders file `name` of process `t`.
    fn show(&self, m: &mut Seq<'_>, t: &TaskFacts, name: &[u8]) -> Result;
    /// Handles a write of `buf` to file `name` of process `t`.
    fn write(&self, t: &TaskFacts, name: &[u8], buf: &[u8]) -> Result;
}

/// Told about the process life cycle. Atomic context: no sleeping, no
/// GFP_KERNEL allocation, no mutex.
pub(crate) trait TaskEvents: Send + Sync + 'static {
    /// `parent` forked the new process `child`.
    fn forked(&self, parent: u32, child: u32);
    /// Process `tgid` is gone; `exit_code` is what wait(2) reports.
    fn exited(&self, tgid: u32, exit_code: i32);
    /// Process `tgid` now runs the program called `comm`.
    fn exec(&self, tgid: u32, comm: &[u8]);
}

fn name_of<'a>(name: *const c_char) -> &'a [u8] {
    // SAFETY: the kernel passes a NUL-terminated dentry name that lives
    // for the duration of the call.
    unsafe { CStr::from_char_ptr(name) }.to_bytes()
}

/// # Safety
///
/// Called by the shim only, with the `data` pointer of a live
/// [`PidFilesReg<T>`], a live seq_file and task facts.
unsafe extern "C" fn pid_show_tramp<T: PidFiles>(
    data: *mut c_void,
    m: *mut shim::seq_file,
    t: *const shim::vproc_task,
    name: *const c_char,
) -> c_int {
    let Some(m) = NonNull::new(m) else {
        return EINVAL.to_errno();
    };
    // SAFETY: per this function's contract.
    let (me, t) = unsafe { (&*data.cast::<T>(), TaskFacts::from_raw(&*t)) };
    // SAFETY: the seq_file is the current show call's.
    let mut seq = unsafe { Seq::from_raw(m) };
    match me.show(&mut seq, &t, name_of(name)) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// As [`pid_show_tramp`]; `buf` holds `len` bytes.
unsafe extern "C" fn pid_write_tramp<T: PidFiles>(
    data: *mut c_void,
    t: *const shim::vproc_task,
    name: *const c_char,
    buf: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: per this function's contract.
    let (me, t, buf) = unsafe {
        (
            &*data.cast::<T>(),
            TaskFacts::from_raw(&*t),
            core::slice::from_raw_parts(buf, len),
        )
    };
    match me.write(&t, name_of(name), buf) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The per-process files, served while this lives.
pub(crate) struct PidFilesReg {
    _data: Arc<dyn Send + Sync>,
}

impl PidFilesReg {
    /// Registers `data` as the server of the per-process files.
    pub(crate) fn new<T: PidFiles>(data: Arc<T>) -> Result<Self> {
        let raw: *const T = &*data;
        // SAFETY: the trampolines match `T`; `data` lives in the returned
        // value until unregistered.
        let ret = unsafe {
            shim::vproc_shim_pid_hooks_register(
                Some(pid_show_tramp::<T>),
                Some(pid_write_tramp::<T>),
                raw.cast_mut().cast(),
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(Self { _data: data })
    }
}

impl Drop for PidFilesReg {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; waits for callers to leave.
        unsafe { shim::vproc_shim_pid_hooks_unregister() };
    }
}

/// # Safety
///
/// Called by the shim's tracepoint probe with the data of a live
/// [`TaskEventsReg<T>`].
unsafe extern "C" fn fork_tramp<T: TaskEvents>(data: *mut c_void, parent: c_int, child: c_int) {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    me.forked(parent.max(0) as u32, child.max(0) as u32);
}

/// # Safety
///
/// As [`fork_tramp`].
unsafe extern "C" fn exit_tramp<T: TaskEvents>(data: *mut c_void, tgid: c_int, code: c_int) {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    me.exited(tgid.max(0) as u32, code);
}

/// # Safety
///
/// As [`fork_tramp`]; `comm` points to 16 bytes.
unsafe extern "C" fn exec_tramp<T: TaskEvents>(
    data: *mut c_void,
    tgid: c_int,
    comm: *const c_char,
) {
    // SAFETY: per this function's contract.
    let (me, comm) = unsafe { (&*data.cast::<T>(), core::slice::from_raw_parts(comm, 16)) };
    let n = comm.iter().position(|&c| c == 0).unwrap_or(16);
    me.exec(tgid.max(0) as u32, &comm[..n]);
}

/// Process life-cycle events, delivered while this lives.
pub(crate) struct TaskEventsReg {
    _data: Arc<dyn Send + Sync>,
}

impl TaskEventsReg {
    /// Registers `data` for fork and exit events.
    pub(crate) fn new<T: TaskEvents>(data: Arc<T>) -> Result<Self> {
        let raw: *const T = &*data;
        // SAFETY: the trampolines match `T`; `data` outlives the probes
        // (unregistering waits for running probes).
        let ret = unsafe {
            shim::vproc_shim_task_hooks_register(
                Some(fork_tramp::<T>),
                Some(exit_tramp::<T>),
                Some(exec_tramp::<T>),
                raw.cast_mut().cast(),
            )
        };
        if ret < 0 {
            pr_err!("cannot hook process fork/exit (error {})\n", ret);
            return Err(Error::from_errno(ret));
        }
        Ok(Self { _data: data })
    }
}

impl Drop for TaskEventsReg {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; waits until no probe runs.
        unsafe { shim::vproc_shim_task_hooks_unregister() };
    }
}

/// New PIDs of this node come from `[min, max)`; `(0, 0)`: anywhere.
pub(crate) fn set_pid_range(min: u32, max: u32) -> Result {
    let (min, max) = (
        i32::try_from(min).map_err(|_| EINVAL)?,
        i32::try_from(max).map_err(|_| EINVAL)?,
    );
    // SAFETY: no preconditions.
    let ret = unsafe { shim::vproc_shim_set_pid_range(min, max) };
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// Serves /proc/<pid> of processes on other nodes (patch 0003).
pub(crate) trait RemoteProcs: Send + Sync + 'static {
    /// The smallest remote PID >= `from`.
    fn next(&self, from: u32) -> Option<u32>;
    /// The owner (uid, gid) of remote process `tgid`, if it is one.
    fn owner_of(&self, tgid: u32) -> Option<(u32, u32)>;
    /// Renders file `name` of remote process `tgid`.
    fn show(&self, m: &mut Seq<'_>, tgid: u32, name: &[u8]) -> Result;
    /// Delivers `sig` to remote process `pid` for the calling task,
    /// described by `from`.
    fn kill(&self, pid: u32, sig: u32, from: &Sender) -> Result;
}

/// # Safety
///
/// Called by the shim only, with the data of a live [`RemoteProcsReg<T>`].
unsafe extern "C" fn next_tramp<T: RemoteProcs>(data: *mut c_void, from: c_uint) -> c_uint {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    me.next(from).unwrap_or(0)
}

/// # Safety
///
/// As [`next_tramp`]; `uid` and `gid` are valid for writes.
unsafe extern "C" fn owner_tramp<T: RemoteProcs>(
    data: *mut c_void,
    tgid: c_uint,
    uid: *mut c_uint,
    gid: *mut c_uint,
) -> c_int {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    match me.owner_of(tgid) {
        Some((u, g)) => {
            // SAFETY: per this function's contract.
            unsafe {
                *uid = u;
                *gid = g;
            }
            0
        }
        None => ENOENT.to_errno(),
    }
}

/// # Safety
///
/// As [`next_tramp`]; `m` is the seq_file of the current read and `name`
/// a NUL-terminated file name.
unsafe extern "C" fn remote_show_tramp<T: RemoteProcs>(
    data: *mut c_void,
    m: *mut shim::seq_file,
    tgid: c_uint,
    name: *const c_char,
) -> c_int {
    let Some(m) = NonNull::new(m) else {
        return EINVAL.to_errno();
    };
    // SAFETY: per this function's contract.
    let (me, mut seq) = unsafe { (&*data.cast::<T>(), Seq::from_raw(m)) };
    match me.show(&mut seq, tgid, name_of(name)) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// As [`next_tramp`]; `from` is valid for reads.
unsafe extern "C" fn kill_tramp<T: RemoteProcs>(
    data: *mut c_void,
    pid: c_int,
    sig: c_int,
    from: *const shim::vproc_sender,
) -> c_int {
    // SAFETY: per this function's contract.
    let (me, f) = unsafe { (&*data.cast::<T>(), &*from) };
    let (Ok(pid), Ok(sig), Ok(from_pid)) =
        (u32::try_from(pid), u32::try_from(sig), u32::try_from(f.pid))
    else {
        return EINVAL.to_errno();
    };
    let from = Sender {
        pid: from_pid,
        uid: f.uid,
        euid: f.euid,
        gid: f.gid,
        egid: f.egid,
        cap_kill: f.cap_kill != 0,
        cap_kill_ns: f.cap_kill_ns != 0,
    };
    match me.kill(pid, sig, &from) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Remote /proc/<pid> and kill(2), served while this lives.
pub(crate) struct RemoteProcsReg {
    _data: Arc<dyn Send + Sync>,
}

impl RemoteProcsReg {
    /// Registers `data` for both hooks.
    pub(crate) fn new<T: RemoteProcs>(data: Arc<T>) -> Result<Self> {
        let raw: *mut c_void = core::ptr::from_ref::<T>(&data).cast_mut().cast();
        // SAFETY: the trampolines match `T`; `data` lives in the returned
        // value until both are unregistered.
        let ret = unsafe {
            shim::vproc_shim_root_hooks_register(
                Some(next_tramp::<T>),
                Some(owner_tramp::<T>),
                Some(remote_show_tramp::<T>),
                raw,
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // SAFETY: as above.
        let ret = unsafe { shim::vproc_shim_signal_hooks_register(Some(kill_tramp::<T>), raw) };
        if ret < 0 {
            // SAFETY: registered just above.
            unsafe { shim::vproc_shim_root_hooks_unregister() };
            return Err(Error::from_errno(ret));
        }
        Ok(Self { _data: data })
    }
}

impl Drop for RemoteProcsReg {
    fn drop(&mut self) {
        // SAFETY: both registered in `new`; each waits for callers to leave.
        unsafe {
            shim::vproc_shim_signal_hooks_unregister();
            shim::vproc_shim_root_hooks_unregister();
        }
    }
}

/// Converts the shim's process record.
fn procinfo(raw: &shim::vproc_procinfo, node: u8) -> crate::logic::procinfo::ProcInfo {
    use crate::logic::procinfo::{ProcInfo, CMDLINE_MAX};
    // USER_HZ is 100 on x86: a tick is 10 ms.
    const NS_PER_TICK: u64 = 10_000_000;
    let mut p = ProcInfo {
        pid: raw.pid.max(0) as u32,
        ppid: raw.ppid.max(0) as u32,
        uid: raw.uid,
        euid: raw.euid,
        gid: raw.gid,
        egid: raw.egid,
        state: if raw.state.is_ascii_alphabetic() {
            raw.state
        } else {
            b'S'
        },
        nice: raw.nice.clamp(-20, 19) as i8,
        threads: u16::try_from(raw.threads.max(1)).unwrap_or(u16::MAX),
        node,
        utime: raw.utime_ns / NS_PER_TICK,
        stime: raw.stime_ns / NS_PER_TICK,
        start_ms: raw.start_ms,
        vsize: raw.vsize,
        rss: raw.rss,
        ..Default::default()
    };
    p.comm = raw.comm;
    p.comm[15] = 0;
    let n = (raw.cmdline_len as usize).min(CMDLINE_MAX);
    p.cmdline[..n].copy_from_slice(&raw.cmdline[..n]);
    p.cmdline_len = n as u16;
    p
}

/// # Safety
///
/// Called by the shim with `data` pointing to the closure of
/// [`for_each_proc`] and a valid record.
unsafe extern "C" fn proc_tramp(data: *mut c_void, p: *const shim::vproc_procinfo) -> c_int {
    // SAFETY: per this function's contract.
    let (f, p) = unsafe {
        (
            &mut *data.cast::<&mut dyn FnMut(&shim::vproc_procinfo) -> Result>(),
            &*p,
        )
    };
    match f(p) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Calls `f` for every local user process with a PID >= `min_pid`, in PID
/// order, describing it as running on `node`.
pub(crate) fn for_each_proc(
    min_pid: u32,
    node: u8,
    f: &mut dyn FnMut(&crate::logic::procinfo::ProcInfo) -> Result,
) -> Result {
    let mut adapt = |raw: &shim::vproc_procinfo| f(&procinfo(raw, node));
    let mut dynf: &mut dyn FnMut(&shim::vproc_procinfo) -> Result = &mut adapt;
    // SAFETY: `dynf` outlives the call; the trampoline matches its type.
    let ret = unsafe {
        shim::vproc_shim_for_each_proc(
            i32::try_from(min_pid).map_err(|_| EINVAL)?,
            Some(proc_tramp),
            core::ptr::from_mut::<&mut dyn FnMut(&shim::vproc_procinfo) -> Result>(&mut dynf)
                .cast(),
        )
    };
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// Sends `sig` to local process `pid` for `from`, a sender of another
/// node: kill(2)'s permission rule and LSM hook apply with the sender's
/// ids and CAP_KILL, as to a local kill (`EPERM`, `ESRCH`...). `ns_of`:
/// a local task (the sender's deputy) in whose user namespace the
/// sender's `cap_kill_ns` counts (0: it counts nowhere).
pub(crate) fn kill_local(pid: u32, sig: u32, from: &Sender, ns_of: u32) -> Result {
    let (pid, sig, from_pid) = (
        i32::try_from(pid).map_err(|_| EINVAL)?,
        i32::try_from(sig).map_err(|_| EINVAL)?,
        i32::try_from(from.pid).map_err(|_| EINVAL)?,
    );
    let raw = shim::vproc_sender {
        pid: from_pid,
        uid: from.uid,
        euid: from.euid,
        gid: from.gid,
        egid: from.egid,
        cap_kill: c_int::from(from.cap_kill),
        cap_kill_ns: c_int::from(from.cap_kill_ns),
        ns_of: if from.cap_kill_ns {
            i32::try_from(ns_of).unwrap_or(0)
        } else {
            0
        },
    };
    // SAFETY: `raw` is valid for reads for the call; process context.
    let ret = unsafe { shim::vproc_shim_kill_local(pid, sig, &raw) };
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// This node's boot time, ms since the epoch.
pub(crate) fn boot_wall_ms() -> u64 {
    // SAFETY: no preconditions.
    unsafe { shim::vproc_shim_boot_wall_ms() }
}

/// A cheap sample of one process (for the load leveller).
pub(crate) struct Sample {
    pub(crate) pid: u32,
    pub(crate) threads: u32,
    pub(crate) cpu_ns: u64,
    pub(crate) rss_kib: u64,
}

/// # Safety
///
/// `data` is the `&mut dyn FnMut` given by [`for_each_sample`]; `s` is valid.
unsafe extern "C" fn sample_tramp(data: *mut c_void, s: *const shim::vproc_sample) -> c_int {
    // SAFETY: per this function's contract.
    let (f, s) = unsafe { (&mut *data.cast::<&mut dyn FnMut(&Sample) -> Result>(), &*s) };
    let smp = Sample {
        pid: s.pid.max(0) as u32,
        threads: s.threads.max(0) as u32,
        cpu_ns: s.cpu_ns,
        rss_kib: s.rss_kib,
    };
    match f(&smp) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Calls `f` for every user process with a PID >= `min_pid`.
pub(crate) fn for_each_sample(min_pid: u32, f: &mut dyn FnMut(&Sample) -> Result) -> Result {
    let mut dynf: &mut dyn FnMut(&Sample) -> Result = f;
    // SAFETY: `dynf` outlives the call; the trampoline matches its type.
    let ret = unsafe {
        shim::vproc_shim_for_each_sample(
            i32::try_from(min_pid).map_err(|_| EINVAL)?,
            Some(sample_tramp),
            core::ptr::from_mut(&mut dynf).cast(),
        )
    };
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}
