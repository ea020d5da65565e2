// SPDX-License-Identifier: GPL-2.0

//! Process state, read from and written to the calling task: the safe side
//! of the migration C files (`rust/migrate.h`; see `rust/shim.h`, "migration").
//!
//! Everything here acts on `current` unless it says otherwise, and must be
//! called in that task's own context (a task work or a syscall of it).
//!
//! One file per C file: `migrate/task.rs` (task.c), `regs.rs`, `mm.rs`,
//! `signal.rs`, `fds.rs`, `proxy.rs`, `sysfwd.rs`, `twork.rs`; everything is
//! re-exported here, so `sys::migrate::X` names any of them.

use super::shim;
use crate::logic::mig::{self, vma_flags, Ident};
use crate::logic::mig_policy::{self as policy, FdFacts, ImageFacts, TaskFacts, VmaFacts};
use kernel::prelude::*;

pub(crate) use policy::FdKind;

#[path = "migrate/fds.rs"]
mod fds;
#[path = "migrate/lazy.rs"]
mod lazy;
#[path = "migrate/mm.rs"]
mod mm;
#[path = "migrate/proxy.rs"]
mod proxy;
#[path = "migrate/regs.rs"]
mod regs;
#[path = "migrate/signal.rs"]
mod signal;
#[path = "migrate/sysfwd.rs"]
mod sysfwd;
#[path = "migrate/task.rs"]
mod task;
#[path = "migrate/threads.rs"]
mod threads;
#[path = "migrate/twork.rs"]
mod twork;

pub(crate) use fds::{
    close_all, epoll_ctl, epoll_watches, fds, file_private, install_proxy, open_node_dev,
    open_signalfd, open_uffd, proxies_giveback, proxy_gen, proxy_watch, proxy_watch_wait,
    proxy_watches, proxy_watches_ready, reinstall_files, uffd_areas, uffd_register, uffd_wp,
    watched_here, UFFD_MODE_MISSING, UFFD_MODE_WP,
};
pub(crate) use lazy::{kill9, lazy_zap, pid_alive, pid_taken, Scratch, Uffd, UffdEvent, Waker};
pub(crate) use mm::{
    clocks, current_exec_id, hash_area, map, pagemap, peek, place_vdso, read_pages,
    read_pages_busy, read_pages_full, soft_dirty_clear, unmap, vmas, wipe_mm, write_mem, Mm, Task,
    VmaInfo,
};
pub(crate) use proxy::{
    child_watch, child_watch_cancel, connect_nonblock, current_multithreaded, fd_io, fd_ioctl,
    fd_nonblock, fd_read_into, fd_watch, proxies_ready, user_read, user_write, watch_cancel,
    watch_cancel_fd, watch_count, ProxyFile, ProxyIo, ProxyReg, Watch, WatchFired, WatchReg,
    IO_NOWAIT, IO_POLL_WATCHED, IO_TICKET, IO_WAIT, IO_WOULD_WAIT,
};
pub(crate) use regs::{capture_regs, restore_regs};
pub(crate) use signal::{
    cmdline, comm_of, deputy_job, deputy_job_of, deputy_signals, dequeue_private, dequeue_signal,
    fatal_pending, has_child, job_state, kick, pgrp_orphaned, queue_signal, set_cmdline,
    set_comm_of, sigmask_enter, sigmask_leave, signal, signal_job, signal_pending, unkick,
};
pub(crate) use sysfwd::{
    chdir_here, close_fd, creds_sync, current_creds, fd_proxy, install_new_proxy, mmap_same,
    msg_call, notify_signal, path_identity, proxy_recv, set_guest, sys_call, user_path, SysBuf,
    SysHook, SysReg,
};
pub(crate) use task::{
    home_ns, in_pidns, own_net, own_uts, pidns_check, pidns_ids, pidns_other, ptimers_apply,
    ptimers_capture, ptimers_mark, refusal, timers_clear, userns_id, userns_of, Boost, TaskImage,
    UserNs, TASK_LEN,
};
pub(crate) use threads::{block_signals, current_exiting, current_tid};
pub(crate) use twork::{
    current_tgid, exec_via, fork_deputy, fork_make, in_vdso, in_vfork, make_thread, module_refs,
    spawn, task_work, TaskWork,
};

// The constants C and Rust share: `rust/shim.h` defines them for the C side
// (which checks them against the kernel's structs), `logic` for the Rust
// side; they must agree.
const _: () = assert!(shim::VPROC_MIG_GREGS_LEN as usize == mig::GREGS_LEN);
const _: () = assert!(shim::VPROC_MIG_PTIMERS == mig::MAX_PTIMERS);
const _: () = assert!(shim::VPROC_HOME_NS_MNT as u8 == mig::home_ns::MNT);
const _: () = assert!(shim::VPROC_HOME_NS_IPC as u8 == mig::home_ns::IPC);
const _: () = assert!(core::mem::size_of::<shim::vproc_mig_ptimer>() == mig::PTIMER_LEN);
const _: () = assert!(shim::VPROC_SIGINFO_LEN as usize == mig::SIGINFO_LEN);
const _: () = assert!(shim::VPROC_VMA_READ == vma_flags::READ);
const _: () = assert!(shim::VPROC_ANON_EVENTFD == policy::ANON_EVENTFD);
const _: () = assert!(shim::VPROC_ANON_EPOLL == policy::ANON_EPOLL);
const _: () = assert!(shim::VPROC_ANON_TIMERFD == policy::ANON_TIMERFD);
const _: () = assert!(shim::VPROC_ANON_INOTIFY == policy::ANON_INOTIFY);
const _: () = assert!(shim::VPROC_ANON_SIGNALFD == policy::ANON_SIGNALFD);
const _: () = assert!(shim::VPROC_ANON_PIDFD == policy::ANON_PIDFD);
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
const _: () = assert!(shim::VPROC_IO_POLL == mig::io_op::POLL);
const _: () = assert!(shim::VPROC_IO_MAX as usize == mig::IO_MAX);
const _: () = assert!(shim::VPROC_READ_MAX as usize == mig::READ_MAX);
const _: () = assert!(shim::VPROC_IO_PEEKED as i64 == mig::READ_PEEKED);
const _: () = assert!(shim::VPROC_IO_CAN_PEEK as i64 == mig::READ_CAN_PEEK);
const _: () = assert!(shim::VPROC_IO_READ_SOCK as i64 == mig::READ_SOCK);

pub(super) fn to_result(r: c_int) -> Result {
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(())
    }
}

pub(super) fn c_text(b: &[c_char]) -> Result<KVec<u8>> {
    // SAFETY: c_char and u8 have the same layout.
    let b = unsafe { core::slice::from_raw_parts(b.as_ptr().cast::<u8>(), b.len()) };
    let mut out = KVec::new();
    out.extend_from_slice(
        &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())],
        GFP_KERNEL,
    )?;
    Ok(out)
}
