// SPDX-License-Identifier: GPL-2.0

//! Migration policy: which memory areas may move and how they travel
//! ([`classify_vma`]), what each open file is ([`classify_fd`]), why a
//! process cannot move now ([`refusal`]), and which task images from a peer
//! are acceptable ([`validate_task_image`]).
//!
//! The C side (`rust/task.c`, `mm.c`, `fds.c`) gathers raw facts from the
//! kernel (flags, counts, booleans, a path) into plain structs; the
//! decisions are made here, where the host crate tests them. The C side keeps only the checks
//! the kernel API needs to be safe (duplicated defence); this file is the
//! decision of record. It owns no state and must not touch the wire format
//! (that is `logic::mig`), only use its constants.

use super::mig::{vma_flags, MAX_GROUPS, TASK_SIZE};

/// What the kernel says about one memory area (a `vm_area_struct`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VmaFacts<'a> {
    /// `VM_READ`.
    pub read: bool,
    /// `VM_WRITE`.
    pub write: bool,
    /// `VM_EXEC`.
    pub exec: bool,
    /// `VM_SHARED`.
    pub shared: bool,
    /// `VM_GROWSDOWN`.
    pub growsdown: bool,
    /// No file but its own operations: the vdso and vvar areas.
    pub special: bool,
    /// `VM_IO`, `VM_PFNMAP`, `VM_MIXEDMAP` or `VM_HUGETLB`: memory that is
    /// not plain pages.
    pub raw_memory: bool,
    /// It maps a file.
    pub file: bool,
    /// It has an `anon_vma` (private, copied-on-write pages).
    pub anon_vma: bool,
    /// The mapped file is a regular file.
    pub regular: bool,
    /// The file's path (`d_path`), empty when unknown or too long.
    pub path: &'a [u8],
    /// `VM_LOCKED`.
    pub locked: bool,
    /// `VM_DONTCOPY` (`MADV_DONTFORK`).
    pub dontcopy: bool,
    /// `VM_DONTDUMP` (`MADV_DONTDUMP`).
    pub dontdump: bool,
    /// `VM_WIPEONFORK`.
    pub wipeonfork: bool,
    /// `VM_SEQ_READ` (`MADV_SEQUENTIAL`).
    pub seq_read: bool,
    /// `VM_RAND_READ` (`MADV_RANDOM`).
    pub rand_read: bool,
    /// Shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`, or a shared
    /// mapping of /dev/zero: its file is the kernel's "/dev/zero
    /// (deleted)") that no other process maps and that no other area of
    /// this one maps again: its pages are this process's alone, so it
    /// moves as a new shared anonymous area with them (a child it forks
    /// there shares it as here). zdtm's test harness keeps such a page
    /// after its parent exits.
    pub anon_shared_sole: bool,
    /// The mapped file is open for writing, by this process or another
    /// (`i_writecount > 0`).
    pub written: bool,
}

/// The `vma_flags` of an area: its protection, how it travels (file,
/// anonymous pages, recreated) and whether it cannot (`UNSUPPORTED`:
/// device and huge page memory, shared anonymous memory another process
/// maps too, shared files that are writable, deleted, SysV shm, memfd or
/// not regular files, private mappings of files open for writing).
pub fn classify_vma(f: &VmaFacts<'_>) -> u32 {
    let mut flags = 0;
    for (set, bit) in [
        (f.read, vma_flags::READ),
        (f.write, vma_flags::WRITE),
        (f.exec, vma_flags::EXEC),
        (f.shared, vma_flags::SHARED),
        (f.growsdown, vma_flags::GROWSDOWN),
        (f.locked, vma_flags::LOCKED),
        (f.dontcopy, vma_flags::DONTCOPY),
        (f.dontdump, vma_flags::DONTDUMP),
        (f.wipeonfork, vma_flags::WIPEONFORK),
        (f.seq_read, vma_flags::SEQ_READ),
        (f.rand_read, vma_flags::RAND_READ),
    ] {
        if set {
            flags |= bit;
        }
    }
    if f.special {
        // Recreated as the node has it (its own advice included).
        flags = (flags & !vma_flags::ADVICE) | vma_flags::SPECIAL;
    } else if f.raw_memory {
        flags |= vma_flags::UNSUPPORTED;
    } else if f.file && f.shared && f.anon_shared_sole {
        flags |= vma_flags::ANON_PAGES;
    } else if f.file {
        flags |= vma_flags::FILE;
        if f.anon_vma {
            flags |= vma_flags::ANON_PAGES;
        }
        if f.shared && (f.write || !shareable_file(f.path) || !f.regular) {
            flags |= vma_flags::UNSUPPORTED;
        }
        // A private mapping shows what is written to its file later, in
        // the pages it has not copied; away from its file (another
        // node's, or a deleted one: private memory there) it would not.
        if !f.shared && f.written {
            flags |= vma_flags::UNSUPPORTED;
        }
    } else {
        flags |= vma_flags::ANON_PAGES;
        if f.shared {
            flags |= vma_flags::UNSUPPORTED;
        }
    }
    flags
}

/// Whether a file mapped shared read-only can be mapped again by path on
/// another node: not without a path, not deleted, not SysV shm or memfd
/// (their "paths" name nothing there).
fn shareable_file(path: &[u8]) -> bool {
    const DELETED: &[u8] = b" (deleted)";
    !path.is_empty()
        && !path.windows(DELETED.len()).any(|w| w == DELETED)
        && !path.starts_with(b"/SYSV")
        && !path.starts_with(b"/memfd:")
}

/// Kinds of open files.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FdKind {
    /// Regular file.
    Reg,
    /// Character device (terminal, /dev/null...).
    Chr,
    /// Pipe or FIFO.
    Fifo,
    /// A socket: served at home, as MOSIX served them (its reads, writes,
    /// readiness and the socket calls of `mig::sysfwd` are its deputy's).
    Sock,
    /// An eventfd, epoll, timerfd or inotify file: served at home (its
    /// reads, writes, readiness, and `epoll_ctl`/`epoll_wait`,
    /// `timerfd_settime`/`gettime`, `inotify_add_watch`/`rm_watch` on it):
    /// what it counts or watches is home's, and shared with whoever at
    /// home holds it too (its children).
    Event,
    /// A directory: its listing, `fchdir` and the `*at` calls relative to
    /// it are done at home (`mig::sysfwd`).
    Dir,
    /// A proxy of a file at the home node.
    Proxy,
    /// A device every node has the same ([`node_device`]): opened again
    /// where the process runs, never served from home.
    NodeDev(u32),
    /// A signalfd: it reads the signals of the task that reads it (those
    /// its deputy forwards arrive where the process runs), so it is made
    /// again with its mask wherever the process runs.
    SignalFd,
    /// Opened with `O_PATH` (of a file, a directory, a device...): served
    /// at home as its proxy.
    Path,
    /// An epoll file at home that watches a file it cannot tell from a
    /// signalfd or userfaultfd (closed since it was added), or more of
    /// them than a proxy keeps. Those are made again where the process
    /// arrives (a signalfd reads the signals of the task that reads it, a
    /// userfaultfd the faults of the memory that moves), and home's
    /// epoll, which stays, would never see theirs: the signalfds and
    /// userfaultfds an epoll watches are kept by its proxy where the
    /// process runs (`mig::EPOLL_WATCH`), which it cannot do for these.
    /// Cannot move.
    EpollSignalFd,
    /// A userfaultfd of the process's own memory that no other process
    /// holds: its context is the process's memory, which moves, so it is
    /// made again where the process arrives (its features, then its
    /// areas registered again: `mig::UFFD_AREA`), as CRIU restores one.
    Userfaultfd,
    /// Anything else (another process's userfaultfd, a namespace,
    /// memfd_secret...): cannot move. (A memfd is a regular file: served
    /// at home.)
    Other,
}

/// File type bits of `i_mode` (`S_IFMT`), and the types that can move.
pub const S_IFMT: u32 = 0o170000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// FIFO (and pipe).
pub const S_IFIFO: u32 = 0o010000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;

/// What the kernel says about one open file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FdFacts {
    /// It is one of this module's proxy files.
    pub proxy: bool,
    /// Opened with `O_PATH` (`FMODE_PATH`).
    pub o_path: bool,
    /// Its inode's `i_mode`.
    pub mode: u32,
    /// A character device's major and minor numbers (`i_rdev`).
    pub rdev: (u32, u32),
    /// Its inode is the kernel's own, in a pseudo file system whose files
    /// are handles on kernel objects of this node: a pidfd (pidfs), a
    /// namespace (nsfs), an anonymous inode (eventfd, epoll, timerfd...).
    /// Whatever its mode says (a pidfd's reads as a regular file), it
    /// cannot move, but for the event files and pidfds of `anon`.
    pub pseudo: bool,
    /// Which anonymous inode it is, when it is an event file a deputy
    /// serves at home ([`ANON_EVENTFD`], [`ANON_EPOLL`], [`ANON_TIMERFD`],
    /// [`ANON_INOTIFY`]), a signalfd ([`ANON_SIGNALFD`]), a pidfd
    /// ([`ANON_PIDFD`]) or a userfaultfd of its own ([`ANON_USERFAULTFD`]);
    /// 0 otherwise.
    pub anon: u32,
    /// An epoll file that watches a file it cannot tell from a signalfd,
    /// or more signalfds than a proxy keeps.
    pub epoll_signalfd: bool,
}

/// An eventfd.
pub const ANON_EVENTFD: u32 = 1;
/// An epoll file.
pub const ANON_EPOLL: u32 = 2;
/// A timerfd.
pub const ANON_TIMERFD: u32 = 3;
/// An inotify file.
pub const ANON_INOTIFY: u32 = 4;
/// A signalfd (its mask read from its fdinfo).
pub const ANON_SIGNALFD: u32 = 5;
/// A pidfd (pidfs): a process of its node, home's for a moved process,
/// served there as its event files are (poll, `pidfd_send_signal`,
/// `waitid(P_PIDFD)`).
pub const ANON_PIDFD: u32 = 6;
/// A userfaultfd of the process's own memory, held by no other process.
pub const ANON_USERFAULTFD: u32 = 7;

/// The memory devices (major 1) every Linux node has and that keep no
/// state a process could tell apart: null, zero, full, random, urandom,
/// by minor number.
pub const NODE_DEVICES: [(u32, &str); 5] = [
    (3, "null"),
    (5, "zero"),
    (7, "full"),
    (8, "random"),
    (9, "urandom"),
];

/// The permissions every node's /dev gives the [`NODE_DEVICES`].
pub const NODE_DEVICE_PERM: u32 = 0o666;

/// The name (under /dev) of the node device with minor `minor`, if it is
/// one.
pub fn node_device(minor: u32) -> Option<&'static str> {
    NODE_DEVICES.iter().find(|d| d.0 == minor).map(|d| d.1)
}

/// What an open file is, for a move.
pub fn classify_fd(f: &FdFacts) -> FdKind {
    if f.proxy {
        return FdKind::Proxy;
    }
    if f.o_path {
        // A handle on a path: it reads and writes nothing, and what can
        // be done with it (fstat, fchdir, the *at calls relative to it,
        // /proc/self/fd/N, close) is done at home. One of a pseudo file
        // system (a namespace) names a node's object; and never a node
        // device, which would be opened again where it goes, readable.
        return if f.pseudo {
            FdKind::Other
        } else {
            FdKind::Path
        };
    }
    if f.pseudo {
        return match f.anon {
            ANON_EPOLL if f.epoll_signalfd => FdKind::EpollSignalFd,
            ANON_EVENTFD | ANON_EPOLL | ANON_TIMERFD | ANON_INOTIFY | ANON_PIDFD => FdKind::Event,
            ANON_SIGNALFD => FdKind::SignalFd,
            ANON_USERFAULTFD => FdKind::Userfaultfd,
            _ => FdKind::Other,
        };
    }
    match f.mode & S_IFMT {
        S_IFREG => FdKind::Reg,
        S_IFDIR => FdKind::Dir,
        // With the mode /dev gives them: another node of those numbers
        // (mknod'ed with other permissions, CRIU's deleted_dev) would
        // fstat differently from the node's own; it is home's.
        S_IFCHR
            if f.rdev.0 == 1
                && f.mode & 0o7777 == NODE_DEVICE_PERM
                && node_device(f.rdev.1).is_some() =>
        {
            FdKind::NodeDev(f.rdev.1)
        }
        S_IFCHR => FdKind::Chr,
        S_IFIFO => FdKind::Fifo,
        S_IFSOCK => FdKind::Sock,
        _ => FdKind::Other,
    }
}

/// open(2)'s access mode bits, and read-write.
pub const O_ACCMODE: u32 = 0o3;
/// Read-write.
pub const O_RDWR: u32 = 0o2;

/// What the kernel says about a process (read in its own context), as far
/// as whether it can move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskFacts {
    /// `PF_EXITING`.
    pub exiting: bool,
    /// Threads in its group.
    pub threads: u32,
    /// Being traced.
    pub ptraced: bool,
    /// A vfork child whose parent waits.
    pub vfork: bool,
    /// It has an address space.
    pub has_mm: bool,
    /// Users of that address space (`mm_users`).
    pub mm_users: u32,
    /// Its POSIX timers (timer_create): up to [`MAX_POSIX_TIMERS`] move.
    pub posix_timers: u32,
    /// It has children (zombies too).
    pub children: bool,
    /// It runs at its home node (a move leaves its deputy there, the
    /// parent its children keep).
    pub at_home: bool,
    /// It traces another process (ptrace).
    pub tracer: bool,
    /// Its user, PID and time namespaces are ones a move carries: a user
    /// namespace the kernel makes, a PID namespace the kernel makes owned by
    /// its user namespace or one above it (not as its init), no time
    /// namespace of its own.
    pub init_namespaces: bool,
    /// Its UTS, net or cgroup namespace is not the node's initial one. At
    /// home those are its deputy's, which keeps them: its host name is
    /// read and set there after a move (`uname`, `sethostname`,
    /// `setdomainname` travel), its sockets are made and served there, and
    /// the files that show them (`/proc/net`, `/proc/self/cgroup`) are
    /// home's. One made away from home (`unshare(CLONE_NEWUTS)` there) is
    /// that node's.
    pub own_home_ns: bool,
}

pub use super::mig::MAX_THREADS;

/// Most POSIX timers a process may have to move (`VPROC_MIG_PTIMERS`):
/// each is made again on the destination with its id, clock, signal and
/// remaining time and interval; they travel in `Commit`
/// ([`super::mig::MAX_PTIMERS`]).
pub const MAX_POSIX_TIMERS: u32 = super::mig::MAX_PTIMERS;

/// Why a process cannot move.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refusal {
    /// It is exiting.
    Exiting,
    /// It has more than [`MAX_THREADS`] threads.
    Threads,
    /// It is being traced.
    Ptraced,
    /// It is a vfork child.
    Vfork,
    /// Its memory is shared with another process (or it has none).
    SharedMm,
    /// It has more POSIX timers than a move carries.
    Timers,
    /// It has children on a node that is not its home.
    Children,
    /// It traces another process.
    Tracer,
    /// It is not in the node's initial namespaces.
    Namespaces,
}

impl Refusal {
    /// The reason, as logged after "cannot move: ".
    pub fn reason(self) -> &'static str {
        match self {
            Self::Threads => "has more than 256 threads",
            Self::Ptraced => "being traced",
            Self::SharedMm => "shares its memory with another process",
            Self::Vfork => "a vfork child",
            Self::Exiting => "exiting",
            Self::Timers => "has more than 4096 POSIX timers (timer_create)",
            Self::Children => "has child processes here, away from its home (they would stay on a node it left)",
            Self::Tracer => "traces another process (a ptrace relation stays on its node)",
            Self::Namespaces => "namespaces (a PID namespace owned by a user namespace other than its own or one above it, or it is that namespace's init; a time namespace of its own; or a UTS, net or cgroup namespace it made away from home)",
        }
    }
}

/// Why the process described by `t` cannot move now, if it cannot: the
/// first reason, in this order.
pub fn refusal(t: &TaskFacts) -> Option<Refusal> {
    if t.exiting {
        Some(Refusal::Exiting)
    } else if t.threads > MAX_THREADS {
        Some(Refusal::Threads)
    } else if t.ptraced {
        Some(Refusal::Ptraced)
    } else if t.vfork {
        Some(Refusal::Vfork)
    } else if !t.has_mm || t.mm_users > t.threads.max(1) {
        // Its threads share it; anyone else (a vfork parent, a
        // CLONE_VM child) is another process.
        Some(Refusal::SharedMm)
    } else if t.posix_timers > MAX_POSIX_TIMERS {
        Some(Refusal::Timers)
    } else if t.tracer {
        Some(Refusal::Tracer)
    } else if t.children && !t.at_home {
        // Children (zombies too) stay where they run. At home their parent
        // is the deputy the move leaves there, which waits for them when
        // the process does; on another node they would have none.
        Some(Refusal::Children)
    } else if !t.init_namespaces || (t.own_home_ns && !t.at_home) {
        Some(Refusal::Namespaces)
    } else {
        None
    }
}

/// Lowest nice value.
pub const MIN_NICE: i32 = -20;
/// Highest nice value.
pub const MAX_NICE: i32 = 19;
/// Highest dumpable mode (`TASK_DUMPABLE_ROOT`, `SUID_DUMP_ROOT`).
pub const DUMPABLE_MAX: u32 = 2;
/// The original (smallest) size of `struct rseq`.
pub const RSEQ_MIN_LEN: u32 = 32;
/// The largest rseq area accepted (a page).
pub const RSEQ_MAX_LEN: u32 = 4096;
/// rseq versions (`has_rseq`) the kernel knows.
pub const RSEQ_VERSIONS: core::ops::RangeInclusive<u32> = 1..=2;

/// The fields of a task image received from a peer that are validated
/// before any of it is applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageFacts<'a> {
    /// mm layout: code, data, heap, argv and environment ranges.
    pub code: (u64, u64),
    /// Data segment.
    pub data: (u64, u64),
    /// Heap (`start_brk`, `brk`).
    pub brk: (u64, u64),
    /// argv strings.
    pub args: (u64, u64),
    /// Environment strings.
    pub env: (u64, u64),
    /// `start_stack`.
    pub start_stack: u64,
    /// Nice value.
    pub nice: i32,
    /// umask.
    pub umask: u32,
    /// Alternate signal stack.
    pub ss_sp: u64,
    /// Its size.
    pub ss_size: u64,
    /// Signal handlers.
    pub sa_handler: &'a [u64],
    /// Signal restorers.
    pub sa_restorer: &'a [u64],
    /// Dumpable mode.
    pub dumpable: u32,
    /// Supplementary groups.
    pub ngroups: u32,
    /// rseq area length (0: none).
    pub rseq_len: u32,
    /// rseq version.
    pub rseq_version: u32,
}

/// Which part of a task image is out of range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BadImage {
    /// An mm range is reversed or not in user space.
    Layout,
    /// Nice out of [`MIN_NICE`], [`MAX_NICE`].
    Nice,
    /// umask above 0777.
    Umask,
    /// Alternate signal stack not in user space.
    AltStack,
    /// A signal handler or restorer not in user space.
    Handler,
    /// Dumpable above [`DUMPABLE_MAX`].
    Dumpable,
    /// More than [`MAX_GROUPS`] groups.
    Groups,
    /// rseq length or version not one the kernel takes.
    Rseq,
}

fn user_range_ok((a, b): (u64, u64)) -> bool {
    a <= b && b <= TASK_SIZE
}

/// Whether a task image from a peer may be applied: every address in user
/// space, values in the ranges the kernel's own setters take.
pub fn validate_task_image(t: &ImageFacts<'_>) -> Result<(), BadImage> {
    if ![t.code, t.data, t.brk, t.args, t.env]
        .into_iter()
        .all(user_range_ok)
        || t.start_stack >= TASK_SIZE
    {
        return Err(BadImage::Layout);
    }
    if !(MIN_NICE..=MAX_NICE).contains(&t.nice) {
        return Err(BadImage::Nice);
    }
    if t.umask > 0o777 {
        return Err(BadImage::Umask);
    }
    if t.ss_sp >= TASK_SIZE || t.ss_size > TASK_SIZE {
        return Err(BadImage::AltStack);
    }
    if t.sa_handler
        .iter()
        .chain(t.sa_restorer)
        .any(|&a| a >= TASK_SIZE)
    {
        return Err(BadImage::Handler);
    }
    if t.dumpable > DUMPABLE_MAX {
        return Err(BadImage::Dumpable);
    }
    if t.ngroups as usize > MAX_GROUPS {
        return Err(BadImage::Groups);
    }
    if t.rseq_len != 0
        && (!(RSEQ_MIN_LEN..=RSEQ_MAX_LEN).contains(&t.rseq_len)
            || !RSEQ_VERSIONS.contains(&t.rseq_version))
    {
        return Err(BadImage::Rseq);
    }
    Ok(())
}
