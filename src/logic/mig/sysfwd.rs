// SPDX-License-Identifier: GPL-2.0

//! The system calls a moved process makes at home (MOSIX's rule): the
//! calls whose answer depends on where a process runs (a path it names,
//! its cwd, its parent, process group and session, a file it left at home)
//! are done by its deputy, the process's own task at home, in the
//! process's context. This file says which calls travel (x86-64 numbers),
//! how their arguments do (values, descriptors, paths and buffers), and
//! encodes them for the `Io` request (`io_op::SYSCALL`).
//!
//! Both sides use the same table: the node the process runs on decides
//! with [`route`] whether a call travels, and the deputy does only calls
//! of the table, with buffers exactly as [`decode_call`] checked them.

use super::{Reader, WireError, Writer, IO_MAX};

/// Longest path a call may name (with its NUL), as the kernel's PATH_MAX.
pub const PATH_MAX: u32 = 4096;
/// A directory descriptor that means the cwd.
pub const AT_FDCWD: i32 = -100;
/// Most bytes one buffer of a forwarded call moves (a longer count is
/// cut to it: a directory listing, a pread, a readlink come back shorter,
/// as they may).
pub const BUF_MAX: u32 = 32 * 1024;
/// Most bytes of a socket address or option value a forwarded call moves.
pub const SOCK_BUF: u32 = 256;
const O_NONBLOCK: u64 = 0o4000;
const O_RDWR: u64 = 0o2;
const O_CLOEXEC: u64 = 0o2_000_000;
const O_WRONLY_CREAT_TRUNC: u64 = 0o1 | 0o100 | 0o1000;

/// How one argument of a forwarded call travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A plain value.
    Val,
    /// An open file: a proxy's number at home; the call runs where it is
    /// called when it is a file of this node.
    Fd,
    /// The directory of the path argument that follows it (`AT_FDCWD`:
    /// the cwd, which is home's).
    DirFd,
    /// A path (NUL-terminated, at most [`PATH_MAX`]).
    Path,
    /// A path or NULL.
    PathOrNull,
    /// A structure of so many bytes read by the call, or NULL.
    In(u32),
    /// A structure of so many bytes read and written by the call.
    InOut(u32),
    /// A structure of so many bytes the call writes (when it succeeds).
    Out(u32),
    /// A structure of so many bytes, or NULL, the call writes when it
    /// succeeds (waitid's siginfo and rusage).
    OutOpt(u32),
    /// A structure of so many bytes, or NULL, the call writes when its
    /// result is positive (wait4's status and rusage: a WNOHANG that
    /// found nothing leaves them as they were).
    OutPos(u32),
    /// Bytes the call reads, as many as argument `i` says (at most
    /// [`BUF_MAX`]).
    InLen(u8),
    /// Bytes the call writes, at most as many as argument `i` says (cut
    /// to [`BUF_MAX`]); its result says how many it wrote.
    OutLen(u8),
    /// An array the call reads: argument `i` elements of `n` bytes (at
    /// most [`BUF_MAX`] bytes: more fails with E2BIG).
    InArr(u8, u16),
    /// A socket address (or option value) the call reads, as many bytes
    /// as argument `i` says (at most [`SOCK_BUF`]: more fails with
    /// EINVAL, as the kernel's own limit, 128, does), or NULL.
    AddrIn(u8),
    /// A structure of so many bytes read and written by the call, or NULL
    /// (an address's length).
    InOutOpt(u32),
    /// A socket address (or option value) the call writes, or NULL: at
    /// most as many bytes as the length argument `i` points to (an
    /// `InOut(4)` or `InOutOpt(4)`), cut to [`SOCK_BUF`]; that length
    /// comes back as the call set it.
    OutByLen(u8),
    /// An array the call writes: at most argument `i` elements of `n`
    /// bytes (cut to [`BUF_MAX`] bytes); its result says how many.
    OutArr(u8, u16),
    /// A SysV message the call reads: its type (8 bytes), then as many
    /// bytes as argument `i` says (at most [`BUF_MAX`] - 8: more fails
    /// with E2BIG).
    MsgIn(u8),
    /// A SysV message the call writes: its type, then at most as many
    /// bytes as argument `i` says (cut to [`BUF_MAX`] - 8); its result
    /// says how many.
    MsgOut(u8),
}

/// What the result of a forwarded call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// A value, as it is.
    Value,
    /// A new descriptor at home: the process gets a proxy of it. Its
    /// open flags are argument `i` (`None`: creat's).
    NewFd(Option<u8>),
    /// A new socket or event file at home (`socket`, an accepted
    /// connection, `eventfd`, `epoll_create`, `timerfd_create`,
    /// `inotify_init`): the process gets a proxy of it, read-write; its
    /// `O_NONBLOCK` and `O_CLOEXEC` (`SOCK_*`, `EFD_*`, `TFD_*`, `IN_*`,
    /// `EPOLL_CLOEXEC` alike) are argument `i` (`None`: neither).
    NewSock(Option<u8>),
    /// Two new descriptors at home, written as `int[2]` to argument `at`
    /// (a pipe: read end, write end; a socket pair: both read-write): the
    /// process gets a proxy of each, and their numbers here. Their
    /// `O_NONBLOCK` and `O_CLOEXEC` (`SOCK_*` alike) are argument `flags`
    /// (`None`: neither).
    NewPair {
        /// The `int[2]` argument.
        at: u8,
        /// The flags argument.
        flags: Option<u8>,
        /// A socket pair (else a pipe).
        sock: bool,
    },
}

/// A forwarded system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Its x86-64 number.
    pub nr: u32,
    /// Its name.
    pub name: &'static str,
    /// Its arguments.
    pub args: &'static [Arg],
    /// Its result.
    pub ret: Ret,
}

use Arg::*;

const fn s(nr: u32, name: &'static str, args: &'static [Arg]) -> Shape {
    Shape {
        nr,
        name,
        args,
        ret: Ret::Value,
    }
}

/// A call that makes a socket or an event file from nothing (no
/// descriptor argument): [`Ret::NewSock`] with its flags argument.
const fn made(nr: u32, name: &'static str, args: &'static [Arg], flags: Option<u8>) -> Shape {
    Shape {
        nr,
        name,
        args,
        ret: Ret::NewSock(flags),
    }
}
const STAT: u32 = 144;
const STATFS: u32 = 120;
const STATX: u32 = 256;
const TIMESPEC2: u32 = 32;
const UTIMBUF: u32 = 16;
const FLOCK: u32 = 32;
const TIMESPEC: u32 = 16;
const SEMBUF: u16 = 6;
const WSTATUS: u32 = 4;
const RUSAGE: u32 = 144;
const SIGINFO: u32 = 128;
const EPOLL_EVENT: u16 = 12;
const SIGSET: u32 = 8;
const ITIMERSPEC: u32 = 32;
const SEMID_DS: u32 = 104;
const SEMINFO: u32 = 40;
const UTSNAME: u32 = 390;

/// The calls a moved process makes at home, by number. `fcntl` travels
/// for the commands of [`fcntl_shape`] only, `kill` for a process group
/// (a PID of 0 or less) or a stop signal, `tkill` and `tgkill` for a stop
/// signal (see [`JOB_STOP_SIGNALS`]), `openat2` is refused (ENOSYS: C
/// libraries fall back to `openat`).
pub const SHAPES: &[Shape] = &[
    Shape {
        nr: 2,
        name: "open",
        args: &[Path, Val, Val],
        ret: Ret::NewFd(Some(1)),
    },
    s(4, "stat", &[Path, Out(STAT)]),
    s(5, "fstat", &[Fd, Out(STAT)]),
    s(6, "lstat", &[Path, Out(STAT)]),
    s(17, "pread64", &[Fd, OutLen(2), Val, Val]),
    s(18, "pwrite64", &[Fd, InLen(2), Val, Val]),
    s(21, "access", &[Path, Val]),
    Shape {
        nr: 22,
        name: "pipe",
        args: &[Out(8)],
        ret: Ret::NewPair {
            at: 0,
            flags: None,
            sock: false,
        },
    },
    made(41, "socket", &[Val, Val, Val], Some(1)),
    s(42, "connect", &[Fd, AddrIn(2), Val]),
    Shape {
        nr: 43,
        name: "accept",
        args: &[Fd, OutByLen(2), InOutOpt(4)],
        ret: Ret::NewSock(None),
    },
    s(44, "sendto", &[Fd, InLen(2), Val, Val, AddrIn(5), Val]),
    s(
        45,
        "recvfrom",
        &[Fd, OutLen(2), Val, Val, OutByLen(5), InOutOpt(4)],
    ),
    s(48, "shutdown", &[Fd, Val]),
    s(49, "bind", &[Fd, AddrIn(2), Val]),
    s(50, "listen", &[Fd, Val]),
    s(51, "getsockname", &[Fd, OutByLen(2), InOut(4)]),
    s(52, "getpeername", &[Fd, OutByLen(2), InOut(4)]),
    Shape {
        nr: 53,
        name: "socketpair",
        args: &[Val, Val, Val, Out(8)],
        ret: Ret::NewPair {
            at: 3,
            flags: Some(1),
            sock: true,
        },
    },
    s(54, "setsockopt", &[Fd, Val, Val, AddrIn(4), Val]),
    s(55, "getsockopt", &[Fd, Val, Val, OutByLen(4), InOut(4)]),
    s(61, "wait4", &[Val, OutPos(WSTATUS), Val, OutPos(RUSAGE)]),
    s(62, "kill", &[Val, Val]),
    // The host and domain names are home's (its UTS namespace, the
    // deputy's): see `uts_call`.
    s(63, "uname", &[Out(UTSNAME)]),
    s(64, "semget", &[Val, Val, Val]),
    s(65, "semop", &[Val, InArr(2, SEMBUF), Val]),
    s(66, "semctl", &[Val, Val, Val, Val]),
    s(68, "msgget", &[Val, Val]),
    s(69, "msgsnd", &[Val, MsgIn(2), Val, Val]),
    s(70, "msgrcv", &[Val, MsgOut(2), Val, Val, Val]),
    s(71, "msgctl", &[Val, Val, Val]),
    s(72, "fcntl", &[Fd, Val, Val]),
    s(73, "flock", &[Fd, Val]),
    s(74, "fsync", &[Fd]),
    s(75, "fdatasync", &[Fd]),
    s(76, "truncate", &[Path, Val]),
    s(77, "ftruncate", &[Fd, Val]),
    s(78, "getdents", &[Fd, OutLen(2), Val]),
    s(79, "getcwd", &[OutLen(1), Val]),
    s(80, "chdir", &[Path]),
    s(81, "fchdir", &[Fd]),
    s(82, "rename", &[Path, Path]),
    s(83, "mkdir", &[Path, Val]),
    s(84, "rmdir", &[Path]),
    Shape {
        nr: 85,
        name: "creat",
        args: &[Path, Val],
        ret: Ret::NewFd(None),
    },
    s(86, "link", &[Path, Path]),
    s(87, "unlink", &[Path]),
    s(88, "symlink", &[Path, Path]),
    s(89, "readlink", &[Path, OutLen(2), Val]),
    s(90, "chmod", &[Path, Val]),
    s(91, "fchmod", &[Fd, Val]),
    s(92, "chown", &[Path, Val, Val]),
    s(93, "fchown", &[Fd, Val, Val]),
    s(94, "lchown", &[Path, Val, Val]),
    s(95, "umask", &[Val]),
    s(109, "setpgid", &[Val, Val]),
    s(110, "getppid", &[]),
    s(111, "getpgrp", &[]),
    s(112, "setsid", &[]),
    s(121, "getpgid", &[Val]),
    s(124, "getsid", &[Val]),
    s(132, "utime", &[Path, In(UTIMBUF)]),
    s(133, "mknod", &[Path, Val, Val]),
    s(137, "statfs", &[Path, Out(STATFS)]),
    s(138, "fstatfs", &[Fd, Out(STATFS)]),
    // Mounts are the process's file system's, home's (in its mount
    // namespace there): made here they would change this node's.
    s(155, "pivot_root", &[Path, Path]),
    // The root its paths are looked up from is home's, as its cwd is: a
    // chroot made here must confine its calls at home.
    s(160, "setrlimit", &[Val, In(RLIMIT)]),
    s(161, "chroot", &[Path]),
    // (source: a path, or a name such as "tmpfs"; options: a string.)
    s(
        165,
        "mount",
        &[PathOrNull, Path, PathOrNull, Val, PathOrNull],
    ),
    s(166, "umount2", &[Path, Val]),
    s(170, "sethostname", &[InLen(1), Val]),
    s(171, "setdomainname", &[InLen(1), Val]),
    s(188, "setxattr", &[Path, Path, InLen(3), Val, Val]),
    s(189, "lsetxattr", &[Path, Path, InLen(3), Val, Val]),
    s(190, "fsetxattr", &[Fd, Path, InLen(3), Val, Val]),
    s(191, "getxattr", &[Path, Path, OutLen(3), Val]),
    s(192, "lgetxattr", &[Path, Path, OutLen(3), Val]),
    s(193, "fgetxattr", &[Fd, Path, OutLen(3), Val]),
    s(194, "listxattr", &[Path, OutLen(2), Val]),
    s(195, "llistxattr", &[Path, OutLen(2), Val]),
    s(196, "flistxattr", &[Fd, OutLen(2), Val]),
    s(197, "removexattr", &[Path, Path]),
    s(198, "lremovexattr", &[Path, Path]),
    s(199, "fremovexattr", &[Fd, Path]),
    s(200, "tkill", &[Val, Val]),
    made(213, "epoll_create", &[Val], None),
    s(217, "getdents64", &[Fd, OutLen(2), Val]),
    s(
        220,
        "semtimedop",
        &[Val, InArr(2, SEMBUF), Val, In(TIMESPEC)],
    ),
    s(221, "fadvise64", &[Fd, Val, Val, Val]),
    s(232, "epoll_wait", &[Fd, OutArr(2, EPOLL_EVENT), Val, Val]),
    s(233, "epoll_ctl", &[Fd, Val, Fd, In(EPOLL_EVENT as u32)]),
    s(234, "tgkill", &[Val, Val, Val]),
    s(235, "utimes", &[Path, In(TIMESPEC2)]),
    s(
        247,
        "waitid",
        &[Val, Val, OutOpt(SIGINFO), Val, OutOpt(RUSAGE)],
    ),
    made(253, "inotify_init", &[], None),
    s(254, "inotify_add_watch", &[Fd, Path, Val]),
    s(255, "inotify_rm_watch", &[Fd, Val]),
    Shape {
        nr: 257,
        name: "openat",
        args: &[DirFd, Path, Val, Val],
        ret: Ret::NewFd(Some(2)),
    },
    s(258, "mkdirat", &[DirFd, Path, Val]),
    s(259, "mknodat", &[DirFd, Path, Val, Val]),
    s(260, "fchownat", &[DirFd, Path, Val, Val, Val]),
    s(261, "futimesat", &[DirFd, PathOrNull, In(TIMESPEC2)]),
    s(262, "newfstatat", &[DirFd, Path, Out(STAT), Val]),
    s(263, "unlinkat", &[DirFd, Path, Val]),
    s(264, "renameat", &[DirFd, Path, DirFd, Path]),
    s(265, "linkat", &[DirFd, Path, DirFd, Path, Val]),
    s(266, "symlinkat", &[Path, DirFd, Path]),
    s(267, "readlinkat", &[DirFd, Path, OutLen(3), Val]),
    s(268, "fchmodat", &[DirFd, Path, Val]),
    s(269, "faccessat", &[DirFd, Path, Val]),
    s(280, "utimensat", &[DirFd, PathOrNull, In(TIMESPEC2), Val]),
    s(
        281,
        "epoll_pwait",
        &[Fd, OutArr(2, EPOLL_EVENT), Val, Val, In(SIGSET), Val],
    ),
    made(283, "timerfd_create", &[Val, Val], Some(1)),
    made(284, "eventfd", &[Val], None),
    s(285, "fallocate", &[Fd, Val, Val, Val]),
    s(
        286,
        "timerfd_settime",
        &[Fd, Val, In(ITIMERSPEC), OutOpt(ITIMERSPEC)],
    ),
    s(287, "timerfd_gettime", &[Fd, Out(ITIMERSPEC)]),
    Shape {
        nr: 288,
        name: "accept4",
        args: &[Fd, OutByLen(2), InOutOpt(4), Val],
        ret: Ret::NewSock(Some(3)),
    },
    made(290, "eventfd2", &[Val, Val], Some(1)),
    made(291, "epoll_create1", &[Val], Some(0)),
    Shape {
        nr: 293,
        name: "pipe2",
        args: &[Out(8), Val],
        ret: Ret::NewPair {
            at: 0,
            flags: Some(1),
            sock: false,
        },
    },
    made(294, "inotify_init1", &[Val], Some(0)),
    s(302, "prlimit64", &[Val, Val, In(RLIMIT), OutOpt(RLIMIT)]),
    s(316, "renameat2", &[DirFd, Path, DirFd, Path, Val]),
    s(332, "statx", &[DirFd, Path, Val, Val, Out(STATX)]),
    s(424, "pidfd_send_signal", &[Fd, Val, In(SIGINFO), Val]),
    // The mount API (util-linux's mount uses it): its files (a file
    // system's context, a detached mount) are made and used at home.
    made(428, "open_tree", &[DirFd, Path, Val], Some(2)),
    s(429, "move_mount", &[DirFd, Path, DirFd, Path, Val]),
    made(430, "fsopen", &[Path, Val], Some(1)),
    Shape {
        nr: NR_FSMOUNT,
        name: "fsmount",
        args: &[Fd, Val, Val],
        ret: Ret::NewSock(Some(1)),
    },
    made(433, "fspick", &[DirFd, Path, Val], Some(2)),
    made(434, "pidfd_open", &[Val, Val], Some(1)),
    // A duplicate of a file of the process a pidfd of home's names: a
    // file at home, so a proxy here (close-on-exec, as the kernel makes
    // it; its flags argument must be 0).
    Shape {
        nr: NR_PIDFD_GETFD,
        name: "pidfd_getfd",
        args: &[Fd, Val, Val],
        ret: Ret::NewSock(Some(2)),
    },
    s(439, "faccessat2", &[DirFd, Path, Val, Val]),
    // Advice on the memory of the process a pidfd of home's names: made
    // there, the iovecs (its addresses) read with the call.
    s(
        440,
        "process_madvise",
        &[Fd, InArr(2, IOVEC as u16), Val, Val, Val],
    ),
    s(
        441,
        "epoll_pwait2",
        &[
            Fd,
            OutArr(2, EPOLL_EVENT),
            Val,
            In(TIMESPEC),
            In(SIGSET),
            Val,
        ],
    ),
    s(442, "mount_setattr", &[DirFd, Path, Val, InLen(4), Val]),
    s(452, "fchmodat2", &[DirFd, Path, Val, Val]),
];

/// fsconfig(2)'s number.
pub const NR_FSCONFIG: u32 = 431;
/// fsmount(2)'s number.
pub const NR_FSMOUNT: u32 = 432;
/// fsopen(2)'s number.
const NR_FSOPEN: u32 = 430;
/// fspick(2)'s number.
const NR_FSPICK: u32 = 433;
/// unshare(2)'s number.
pub const NR_UNSHARE: u32 = 272;
/// The namespaces (and `CLONE_FS`) an unshare(2) of a moved process makes
/// at home, by its deputy: those whose calls are home's (paths, mounts,
/// host names, sockets, cgroup files, SysV IPC). Made where it runs, they
/// would be that node's, and its calls there would not see them.
pub const UNSHARE_AT_HOME: u64 = 0x200 // CLONE_FS
    | 0x0002_0000 // CLONE_NEWNS
    | 0x0200_0000 // CLONE_NEWCGROUP
    | 0x0400_0000 // CLONE_NEWUTS
    | 0x0800_0000 // CLONE_NEWIPC
    | 0x4000_0000; // CLONE_NEWNET
/// setns(2)'s number.
pub const NR_SETNS: u32 = 308;
/// A setns into namespaces of these kinds is made at home (its
/// descriptor a proxy of a namespace file or pidfd of home's): those of
/// [`UNSHARE_AT_HOME`] (named: 0, any kind, is not carried).
const SETNS_AT_HOME: u64 = UNSHARE_AT_HOME & !0x200;
/// An unshare made at home.
static UNSHARE: Shape = s(NR_UNSHARE, "unshare", &[Val]);
/// A setns made at home.
static SETNS: Shape = s(NR_SETNS, "setns", &[Fd, Val]);

/// `CLONE_NEWUSER`.
const CLONE_NEWUSER: u64 = 0x1000_0000;

/// Whether call `nr` makes a user namespace (an unshare with
/// `CLONE_NEWUSER`) or may enter one (a setns of that kind, or of any
/// kind: 0): a moved process makes it at home, where it goes first, its
/// descriptor for a setns being home's. Made where it runs, the namespace
/// would be that node's: its capabilities in it would be the deputy's at
/// home, where its calls are made (refused), and it could not move on.
pub fn userns_at_home(nr: u32, args: &[u64; 6]) -> bool {
    match nr {
        NR_UNSHARE => args[0] & CLONE_NEWUSER != 0,
        NR_SETNS => args[1] == 0 || args[1] & CLONE_NEWUSER != 0,
        _ => false,
    }
}

/// `CLONE_NEWPID`.
const CLONE_NEWPID: u64 = 0x2000_0000;

/// Whether call `nr` is an `unshare` of the PID namespace its children
/// are born in. A moved process in a PID namespace of its home's makes
/// it at home, where its children are born (it goes home first): one
/// made where it runs would be that node's, below the namespace made
/// there for home's.
pub fn unshares_pidns(nr: u32, args: &[u64; 6]) -> bool {
    nr == NR_UNSHARE && args[0] & CLONE_NEWPID != 0
}

/// The namespaces (`CLONE_NEW*`) call `nr` makes or enters at home when
/// it travels and succeeds: an unshare's or a setns's kinds, else 0.
pub fn ns_made_at_home(nr: u32, args: &[u64; 6]) -> u64 {
    match nr {
        NR_UNSHARE if shape(nr, args).is_some() => args[0] & SETNS_AT_HOME,
        NR_SETNS if shape(nr, args).is_some() => args[1],
        _ => 0,
    }
}
/// An fsconfig(2) whose value is nothing or a string (a flag, a string
/// option, create, reconfigure); a path, a blob or a descriptor is not
/// carried (it fails here: its file is home's).
static FSCONFIG: Shape = s(
    NR_FSCONFIG,
    "fsconfig",
    &[Fd, Val, PathOrNull, PathOrNull, Val],
);

/// `struct rlimit`.
const RLIMIT: u32 = 16;
/// setrlimit(2)'s number.
pub const NR_SETRLIMIT: u32 = 160;
/// prlimit64(2)'s number.
pub const NR_PRLIMIT64: u32 = 302;
/// The limits its deputy's calls at home are held to: RLIMIT_FSIZE (a
/// write to a home file), RLIMIT_NOFILE (a file it opens there is a
/// descriptor of the deputy's), RLIMIT_LOCKS.
const HOME_RLIMITS: [u64; 3] = [1, 7, 10];

/// Whether call `nr` (`args`) of process `pid` sets one of its own
/// limits that its calls at home are held to: then it is made at home
/// too (first: it fails there as here, and a limit it lowered is never
/// one its calls at home escape), then here. Every other limit, and
/// another process's, is this node's alone: its deputy's CPU time, say,
/// is not the process's.
pub fn rlimit_at_home(nr: u32, args: &[u64; 6], pid: u32) -> bool {
    match nr {
        NR_SETRLIMIT => HOME_RLIMITS.contains(&args[0]) && args[1] != 0,
        NR_PRLIMIT64 => {
            (args[0] == 0 || args[0] == u64::from(pid))
                && HOME_RLIMITS.contains(&args[1])
                && args[2] != 0
        }
        _ => false,
    }
}

/// `semctl` with a structure: IPC_STAT, SEM_STAT, SEM_STAT_ANY (out),
/// IPC_INFO, SEM_INFO (out), IPC_SET (in).
const SEMCTL_STAT: Shape = s(66, "semctl", &[Val, Val, Val, Out(SEMID_DS)]);
const SEMCTL_INFO: Shape = s(66, "semctl", &[Val, Val, Val, Out(SEMINFO)]);
const SEMCTL_SET: Shape = s(66, "semctl", &[Val, Val, Val, In(SEMID_DS)]);
const NR_SEMCTL: u32 = 66;
const NR_MSGCTL: u32 = 71;
const MSQID_DS: u32 = 120;
const MSGINFO: u32 = 32;
const MSG_MAX: u64 = BUF_MAX as u64 - 8;
const MSGCTL_STAT: Shape = s(71, "msgctl", &[Val, Val, Out(MSQID_DS)]);
const MSGCTL_INFO: Shape = s(71, "msgctl", &[Val, Val, Out(MSGINFO)]);
const MSGCTL_SET: Shape = s(71, "msgctl", &[Val, Val, In(MSQID_DS)]);

/// The shape of `msgctl(id, cmd, buf)` when it travels (the queues are
/// home's): IPC_RMID; IPC_STAT, MSG_STAT, MSG_STAT_ANY; IPC_INFO,
/// MSG_INFO; IPC_SET.
pub fn msgctl_shape(cmd: u64) -> Option<&'static Shape> {
    match cmd & !0x100 {
        0 => SHAPES.iter().find(|s| s.nr == NR_MSGCTL),
        2 | 11 | 13 => Some(&MSGCTL_STAT),
        3 | 12 => Some(&MSGCTL_INFO),
        1 => Some(&MSGCTL_SET),
        _ => None,
    }
}

/// The shape of `semctl(id, num, cmd, arg)` when it travels: the
/// semaphores are home's (SysV IPC lives in home's IPC namespace).
/// GETALL and SETALL (an array as long as the set) do not travel: they
/// fail with EOPNOTSUPP.
pub fn semctl_shape(cmd: u64) -> Option<&'static Shape> {
    // IPC_64 (0x100) only says which structure layout: always the 64 one.
    match cmd & !0x100 {
        // IPC_RMID, GETPID, GETVAL, GETNCNT, GETZCNT, SETVAL
        0 | 11 | 12 | 14 | 15 | 16 => SHAPES.iter().find(|s| s.nr == NR_SEMCTL),
        // IPC_STAT, SEM_STAT, SEM_STAT_ANY
        2 | 18 | 20 => Some(&SEMCTL_STAT),
        // IPC_INFO, SEM_INFO
        3 | 19 => Some(&SEMCTL_INFO),
        // IPC_SET
        1 => Some(&SEMCTL_SET),
        _ => None,
    }
}

/// `openat2`: refused for a moved process (its `open_how` may ask for
/// resolution rules a proxy cannot keep; C libraries fall back to openat).
pub const NR_OPENAT2: u32 = 437;
const NR_KILL: u32 = 62;
const NR_FCNTL: u32 = 72;
const NR_TKILL: u32 = 200;
const NR_TGKILL: u32 = 234;
/// clone(2)'s number.
pub const NR_CLONE: u32 = 56;
/// fork(2)'s number.
pub const NR_FORK: u32 = 57;
/// vfork(2)'s number.
pub const NR_VFORK: u32 = 58;
/// clone3(2)'s number.
pub const NR_CLONE3: u32 = 435;
const CLONE_THREAD: u64 = 0x10000;

/// Whether call `nr` may make a new process (`fork`, `vfork`, `clone`,
/// `clone3`): a moved process makes its children at home. `flags` is
/// `clone`'s first argument or `clone3`'s `flags` field, `None` when it
/// could not be read (the call then fails as it would).
pub fn makes_process(nr: u32, flags: Option<u64>) -> bool {
    match nr {
        NR_FORK | NR_VFORK => true,
        NR_CLONE | NR_CLONE3 => flags.is_some_and(|f| f & CLONE_THREAD == 0),
        _ => false,
    }
}

/// Whether call `nr` makes or uses a SysV shared memory segment or a
/// POSIX message queue by its key or name (`shmget`, `shmat`, `shmctl`,
/// `mq_open`, `mq_unlink`): those are home's (its IPC namespace's), and
/// what it attaches or opens is memory or a file of the node it is made
/// on, so a moved process makes them at home.
pub fn ipc_at_home(nr: u32) -> bool {
    matches!(nr, 29..=31 | 240 | 241)
}

/// Whether fork call `nr` (`flags` as for [`makes_process`]) is a vfork:
/// its child runs in the parent's memory until it executes a program.
pub fn is_vfork(nr: u32, flags: Option<u64>) -> bool {
    match nr {
        NR_VFORK => true,
        NR_CLONE | NR_CLONE3 => flags.is_some_and(|f| f & CLONE_VFORK != 0),
        _ => false,
    }
}

/// A fork a moved process makes where it runs (as MOSIX and OpenSSI did):
/// what of its call the child made there keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkHere {
    /// `CLONE_CHILD_SETTID`, `CLONE_CHILD_CLEARTID`, `CLONE_PARENT_SETTID`
    /// as asked, and `CLONE_VM | CLONE_VFORK` for a vfork.
    pub flags: u64,
    /// The signal its exit sends its parent (0..=64).
    pub exit_signal: u32,
    /// `clone`'s and `clone3`'s child TID word.
    pub child_tid: u64,
    /// Their parent TID word.
    pub parent_tid: u64,
    /// A vfork child's own stack (its top; `posix_spawn`'s), or 0: the
    /// parent's.
    pub stack: u64,
}

const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
/// A vfork's flags: both or neither.
pub const FORK_VFORK: u64 = CLONE_VM | CLONE_VFORK;
const FORK_FLAGS: u64 =
    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | FORK_VFORK;
const SIGCHLD: u32 = 17;
/// `struct clone_args` up to `cgroup` (CLONE_ARGS_SIZE_VER2).
pub const CLONE3_MAX: usize = 88;
const CLONE3_MIN: usize = 64;

/// Whether fork call `nr` (`args`; `clone3`'s `struct clone_args`, as
/// long as its size says, in `clone3`) is a fork or vfork the process can
/// make where it runs: `fork`, `vfork`, and `clone`/`clone3` asking
/// nothing but an exit signal, the TID words, and for a vfork
/// (`CLONE_VM | CLONE_VFORK`, both) a stack of its own (glibc's `fork()`:
/// `clone` with `CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD`;
/// its `posix_spawn`: `clone3` with `CLONE_VM | CLONE_VFORK`, a stack and
/// SIGCHLD). `None` for anything else (shared memory without vfork's
/// wait, shared files or signal handlers, namespaces, a pidfd, chosen
/// PIDs or cgroup, a stack for a fork): that fork is made at home.
pub fn fork_here(nr: u32, args: &[u64; 6], clone3: Option<&[u8]>) -> Option<ForkHere> {
    let checked = |f: ForkHere| {
        let vfork = f.flags & FORK_VFORK;
        (f.exit_signal <= 64 && (vfork == 0 || vfork == FORK_VFORK) && (vfork != 0 || f.stack == 0))
            .then_some(f)
    };
    match nr {
        NR_FORK | NR_VFORK => Some(ForkHere {
            flags: if nr == NR_VFORK { FORK_VFORK } else { 0 },
            exit_signal: SIGCHLD,
            child_tid: 0,
            parent_tid: 0,
            stack: 0,
        }),
        NR_CLONE => {
            // clone(flags, newsp, parent_tid, child_tid, tls) on x86-64.
            let flags = args[0];
            if flags & !(FORK_FLAGS | 0xff) != 0 {
                return None;
            }
            checked(ForkHere {
                flags: flags & FORK_FLAGS,
                exit_signal: (flags & 0xff) as u32,
                child_tid: args[3],
                parent_tid: args[2],
                stack: args[1],
            })
        }
        NR_CLONE3 => {
            let b = clone3?;
            if b.len() < CLONE3_MIN || b.len() > CLONE3_MAX || b.len() % 8 != 0 {
                return None;
            }
            let word = |i: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[i * 8..i * 8 + 8]);
                u64::from_le_bytes(w)
            };
            // flags, pidfd, child_tid, parent_tid, exit_signal, stack,
            // stack_size, tls, set_tid, set_tid_size, cgroup.
            let (flags, exit_signal, stack, size) = (word(0), word(4), word(5), word(6));
            let extra_zero = (8..b.len() / 8).all(|i| word(i) == 0);
            if flags & !FORK_FLAGS != 0
                || exit_signal > 64
                || (stack == 0) != (size == 0)
                || !extra_zero
            {
                return None;
            }
            checked(ForkHere {
                flags,
                exit_signal: exit_signal as u32,
                child_tid: word(2),
                parent_tid: word(3),
                // The kernel's stack pointer: its top (the stack grows down).
                stack: stack.checked_add(size)?,
            })
        }
        _ => None,
    }
}

/// The calls that read or set the host and domain names (`uname`,
/// `sethostname`, `setdomainname`): made at home, in its UTS namespace
/// (the deputy's: `hostname` says home's name wherever the process runs,
/// and a process in a UTS namespace of its own at home keeps it), unless
/// the process made one of its own where it runs (then that one's, here).
pub fn uts_call(nr: u32) -> bool {
    matches!(nr, 63 | 170 | 171)
}

/// socket(2)'s number.
pub const NR_SOCKET: u32 = 41;
/// sendto(2)'s number.
pub const NR_SENDTO: u32 = 44;
/// recvfrom(2)'s number.
pub const NR_RECVFROM: u32 = 45;
/// sendmsg(2)'s number.
pub const NR_SENDMSG: u32 = 46;
/// recvmsg(2)'s number.
pub const NR_RECVMSG: u32 = 47;
/// recvmmsg(2)'s number.
pub const NR_RECVMMSG: u32 = 299;
/// sendmmsg(2)'s number.
pub const NR_SENDMMSG: u32 = 307;
/// Bytes of an x86-64 `struct mmsghdr`: a `msghdr`, then its `msg_len`
/// (4 bytes, at [`MMSGHDR_LEN`]) and padding.
pub const MMSGHDR: u64 = 64;
/// Where a `struct mmsghdr`'s `msg_len` is.
pub const MMSGHDR_LEN: u64 = 56;
const MSG_DONTWAIT: u64 = 0x40;
const MSG_WAITFORONE: u64 = 0x10000;

/// `sendmmsg`/`recvmmsg` on a socket served at home are made as one
/// `sendmsg`/`recvmsg` per message, in order, stopping at the first that
/// fails: how many messages (at most `UIO_MAXIOV`, as the kernel cuts
/// `vlen`).
pub fn mmsg_count(vlen: u64) -> u64 {
    vlen.min(IOV_MAX)
}

/// The flags of message `i` of a `recvmmsg` with `flags`: after the
/// first, `MSG_WAITFORONE` makes the others not wait (`MSG_DONTWAIT`);
/// `MSG_WAITFORONE` itself is `recvmmsg`'s alone.
pub fn mmsg_recv_flags(flags: u64, i: u64) -> u64 {
    let f = flags & !MSG_WAITFORONE;
    if i > 0 && flags & MSG_WAITFORONE != 0 {
        f | MSG_DONTWAIT
    } else {
        f
    }
}
/// Bytes of an x86-64 `struct msghdr`.
pub const MSGHDR: usize = 56;
/// Bytes of a `struct iovec`.
pub const IOVEC: usize = 16;
/// Most iovecs a call takes (the kernel's `UIO_MAXIOV`).
pub const IOV_MAX: u64 = 1024;

/// The fields of a `struct msghdr` (`sendmsg`, `recvmsg`): on a socket
/// served at home they travel as `sendto`/`recvfrom` (its iovecs gathered
/// or scattered where the process runs); ancillary data does not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsgHdr {
    /// `msg_name` (a pointer, 0 for none).
    pub name: u64,
    /// `msg_namelen`.
    pub namelen: u32,
    /// `msg_iov`.
    pub iov: u64,
    /// `msg_iovlen`.
    pub iovlen: u64,
    /// `msg_control`.
    pub control: u64,
    /// `msg_controllen`.
    pub controllen: u64,
}

impl MsgHdr {
    /// Reads one from its bytes.
    pub fn parse(b: &[u8; MSGHDR]) -> Self {
        let q = |o: usize| {
            u64::from_le_bytes([
                b[o],
                b[o + 1],
                b[o + 2],
                b[o + 3],
                b[o + 4],
                b[o + 5],
                b[o + 6],
                b[o + 7],
            ])
        };
        Self {
            name: q(0),
            namelen: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            iov: q(16),
            iovlen: q(24),
            control: q(32),
            controllen: q(40),
        }
    }
}

/// Offsets in a `struct msghdr` a `recvmsg` writes back.
pub const MSGHDR_NAMELEN: usize = 8;
/// See [`MSGHDR_NAMELEN`].
pub const MSGHDR_CONTROLLEN: usize = 40;
/// See [`MSGHDR_NAMELEN`].
pub const MSGHDR_FLAGS: usize = 48;

/// The (base, length) of iovec `i` of an array's bytes.
pub fn iovec(b: &[u8], i: usize) -> Option<(u64, u64)> {
    let e = b.get(i * IOVEC..(i + 1) * IOVEC)?;
    let q = |o: usize| u64::from_le_bytes(e[o..o + 8].try_into().unwrap_or([0; 8]));
    Some((q(0), q(8)))
}

/// What a call made at home would wait on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOn {
    /// A descriptor's readiness: the argument that names it.
    Fd(u8),
    /// A change of one of the deputy's children (ended, stopped,
    /// continued): a wait for a child left at home.
    Children,
    /// Nothing a watch can hold (a file lock, a SysV message queue or
    /// semaphore set): asked again after a while, a little longer each
    /// time.
    Retry,
}

/// How a call that may wait at home on a descriptor or a child is made
/// there without waiting ([`no_wait`]): a thread of a multi-threaded
/// process waits where it runs instead, so that the deputy its threads
/// share is free for the others' calls meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoWait {
    /// What it waits on.
    pub on: WaitOn,
    /// The readiness it waits for (`POLL_IN`, `POLL_OUT`; 0 for children).
    pub events: u32,
    /// Its arguments made not to wait (`MSG_DONTWAIT`, a zero timeout).
    pub args: [u64; 6],
    /// The call's own timeout (ms; negative: none), else `None`: an
    /// epoll wait's; where the call's is a `timespec` ([`Self::timespec_at`]),
    /// where the process runs reads it ([`timespec_ms`]).
    pub timeout_ms: Option<i64>,
    /// The argument whose `timespec` is the call's own timeout, if any.
    pub timespec_at: Option<u8>,
    /// What the call returns when its own timeout passed: 0 (no event),
    /// EAGAIN (a `semtimedop`).
    pub timed_out: i64,
    /// What changes in the bytes an argument carries, not in an argument.
    pub patch: Patch,
    /// The argument whose bytes are the signal mask the call waits under
    /// (an `epoll_pwait`'s), if any: where the process runs, its wait is
    /// made under it.
    pub mask_at: Option<u8>,
}

impl NoWait {
    const fn new(on: WaitOn, events: u32, args: [u64; 6], patch: Patch) -> Self {
        Self {
            on,
            events,
            args,
            timeout_ms: None,
            timespec_at: None,
            timed_out: 0,
            patch,
            mask_at: None,
        }
    }
}

/// A change [`NoWait`] makes to the bytes a call carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patch {
    /// None.
    None,
    /// A `semop`: `IPC_NOWAIT` into each operation of the array argument
    /// 1 carries ([`sembufs_nowait`]).
    Sembufs,
    /// An `epoll_pwait2`: a zero timeout in argument 3 (a `timespec`,
    /// given even where the caller's was NULL).
    ZeroTimeout,
    /// A `waitid` without a `siginfo`: home gives it one of its own in
    /// argument 2 ([`SIGINFO_LEN`] bytes), to learn from its `si_pid`
    /// whether a child changed; it is not sent back.
    Siginfo,
    /// A `connect`: home makes it as on a non-blocking socket (the
    /// socket's own flags untouched), then again once the socket is
    /// writable: `EINPROGRESS` the first time and `EALREADY` after say
    /// the connection is on its way; 0 or its error end it, as a blocking
    /// `connect` would.
    Connect,
}

/// The size of a `siginfo` (what [`Patch::Siginfo`] gives a `waitid`).
pub const SIGINFO_LEN: usize = SIGINFO as usize;

/// [`NoWait`] of call `nr` with `args`; `None` when it does not wait on a
/// descriptor's readiness, a child, a lock or a queue (or is asked not to
/// wait already). `accept` waits only when home's poll said no
/// connection was there. `epoll_pwait` and `epoll_pwait2` wait where the
/// process runs under their signal mask (`mask_at`). A `waitid` says
/// "nothing yet" in its `siginfo`: one without is given one at home
/// ([`Patch::Siginfo`]); one on a pidfd (of a child of home's: the call
/// went home with it) waits as one on its PID.
/// `wait4` and `waitid` are made with `WNOHANG`, `flock` with `LOCK_NB`,
/// `fcntl`'s `F_SETLKW` as `F_SETLK`
/// (and the OFD one), `msgsnd`/`msgrcv` with `IPC_NOWAIT`,
/// `semop`/`semtimedop` with `IPC_NOWAIT` in each operation (one that has
/// it already in one: at home, as asked; [`sembufs_nowait`]), `connect`
/// as on a non-blocking socket ([`Patch::Connect`]) until it is writable.
pub fn no_wait(nr: u32, args: &[u64; 6]) -> Option<NoWait> {
    let mut a = *args;
    // (A call with its own "do not wait" flag set does not wait.)
    let mut flagged = |i: usize, flag: u64, on: WaitOn| {
        if args[i] & flag != 0 {
            return None;
        }
        a[i] |= flag;
        Some(NoWait::new(on, 0, a, Patch::None))
    };
    match nr {
        NR_WAIT4 => return flagged(2, WNOHANG, WaitOn::Children),
        NR_WAITID => {
            let nw = flagged(3, WNOHANG, WaitOn::Children)?;
            return Some(match args[2] {
                0 => NoWait {
                    patch: Patch::Siginfo,
                    ..nw
                },
                _ => nw,
            });
        }
        NR_FLOCK if args[1] & LOCK_UN != 0 => return None,
        NR_FLOCK => return flagged(1, LOCK_NB, WaitOn::Retry),
        NR_MSGSND => return flagged(3, IPC_NOWAIT, WaitOn::Retry),
        NR_MSGRCV => return flagged(4, IPC_NOWAIT, WaitOn::Retry),
        NR_FCNTL if matches!(args[1], F_SETLKW | F_OFD_SETLKW) => {
            // (F_SETLK and F_OFD_SETLK are one less.)
            a[1] -= 1;
            return Some(NoWait::new(WaitOn::Retry, 0, a, Patch::None));
        }
        NR_SEMOP => return Some(NoWait::new(WaitOn::Retry, 0, a, Patch::Sembufs)),
        NR_CONNECT => {
            return Some(NoWait::new(
                WaitOn::Fd(0),
                super::POLL_OUT,
                a,
                Patch::Connect,
            ))
        }
        // (Its timeout, a timespec, is where the process runs: at home,
        // with IPC_NOWAIT in each operation, it does not wait.)
        NR_SEMTIMEDOP => {
            return Some(NoWait {
                timespec_at: Some(3),
                timed_out: -11,
                ..NoWait::new(WaitOn::Retry, 0, a, Patch::Sembufs)
            })
        }
        // (A mask of another size: its EINVAL comes from home.)
        NR_EPOLL_PWAIT2 if args[4] == 0 || args[5] == SIGSET_LEN => {
            return Some(NoWait {
                timespec_at: Some(3),
                mask_at: (args[4] != 0).then_some(4),
                ..NoWait::new(WaitOn::Fd(0), super::POLL_IN, a, Patch::ZeroTimeout)
            })
        }
        _ => {}
    }
    let (events, timeout_ms) = match nr {
        43 | 288 => (super::POLL_IN, None),
        44 | 45 => {
            if args[3] & MSG_DONTWAIT != 0 {
                return None;
            }
            a[3] |= MSG_DONTWAIT;
            let ev = if nr == 44 {
                super::POLL_OUT
            } else {
                super::POLL_IN
            };
            (ev, None)
        }
        232 | 281 => {
            let t = args[3] as i32;
            if t == 0 || (nr == 281 && args[4] != 0 && args[5] != SIGSET_LEN) {
                return None;
            }
            a[3] = 0;
            (super::POLL_IN, Some(i64::from(t.max(-1))))
        }
        _ => return None,
    };
    Some(NoWait {
        timeout_ms,
        mask_at: (nr == 281 && args[4] != 0).then_some(4),
        ..NoWait::new(WaitOn::Fd(0), events, a, Patch::None)
    })
}

/// Whether result `v` of call `nr` made as [`no_wait`] says means it
/// would have waited: nothing was ready (an epoll wait found no event; a
/// `wait4` no child that changed; a lock held, a queue full, a semaphore
/// short: EAGAIN; no message: ENOMSG; a receive, send or accept got
/// EAGAIN, a connect EINPROGRESS or EALREADY, on a file that is not
/// non-blocking at home, `nonblock`).
pub fn no_wait_empty(nr: u32, v: i64, nonblock: bool) -> bool {
    match nr {
        232 | 281 | NR_EPOLL_PWAIT2 | NR_WAIT4 => v == 0,
        NR_FLOCK | NR_MSGSND | NR_FCNTL | NR_SEMOP | NR_SEMTIMEDOP => v == -11,
        NR_MSGRCV => v == -42,
        // (EINPROGRESS, EALREADY.)
        NR_CONNECT => (v == -115 || v == -114) && !nonblock,
        _ => v == -11 && !nonblock,
    }
}

/// Whether a `waitid` made with `WNOHANG` (result `v`, the `siginfo` it
/// wrote `info`) found no child that changed: it returns 0 either way,
/// and says "none" with a zero `si_pid`.
pub fn waitid_empty(v: i64, info: Option<&[u8]>) -> bool {
    v == 0 && info.and_then(|i| i.get(SI_PID..SI_PID + 4)) == Some(&[0; 4])
}

/// Where `si_pid` sits in a `siginfo` (after three ints and the union's
/// alignment).
const SI_PID: usize = 16;

/// epoll_pwait2(2)'s number.
pub const NR_EPOLL_PWAIT2: u32 = 441;
/// The size of the kernel's `sigset_t` (an epoll wait's `sigsetsize`).
const SIGSET_LEN: u64 = SIGSET as u64;

/// The wait in ms (rounded up) the bytes of a `timespec` ask; -1 (for
/// ever) for none (`b` `None`: a NULL pointer); `None` when they are not
/// one (a negative part, 10^9 ns or more): the call's own EINVAL then
/// comes from home.
pub fn timespec_ms(b: Option<&[u8]>) -> Option<i64> {
    let Some(b) = b else {
        return Some(-1);
    };
    let q = |o: usize| Some(i64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    let (sec, nsec) = (q(0)?, q(8)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return None;
    }
    Some(
        sec.saturating_mul(1000)
            .saturating_add((nsec + 999_999) / 1_000_000),
    )
}

/// A zero `timespec`, for [`Patch::ZeroTimeout`].
pub const ZERO_TIMESPEC: [u8; 16] = [0; 16];

/// What call `nr` returns when a signal ends its wait: an epoll wait
/// fails with EINTR; SysV IPC calls are never restarted after a handler
/// (ERESTARTNOHAND); the others restart as the handler says
/// (ERESTARTSYS).
pub fn interrupted(nr: u32) -> i64 {
    match nr {
        232 | 281 | 441 => -4,
        NR_MSGSND | NR_MSGRCV | NR_SEMOP | NR_SEMTIMEDOP => -514,
        _ => -512,
    }
}

/// epoll_wait(2)'s number.
pub const NR_EPOLL_WAIT: u32 = 232;
/// epoll_ctl(2)'s number.
pub const NR_EPOLL_CTL: u32 = 233;
/// `EPOLL_CTL_ADD`.
pub const EPOLL_CTL_ADD: u32 = 1;
/// `EPOLL_CTL_DEL`: the one op without an event.
pub const EPOLL_CTL_DEL: u32 = 2;
/// Bytes of an x86-64 `struct epoll_event` (packed: events, data).
pub const EPOLL_EVENT_LEN: usize = EPOLL_EVENT as usize;

/// An `epoll_event`'s events and data.
pub fn epoll_event(b: &[u8; EPOLL_EVENT_LEN]) -> (u32, u64) {
    let mut ev = [0u8; 4];
    let mut data = [0u8; 8];
    ev.copy_from_slice(&b[..4]);
    data.copy_from_slice(&b[4..]);
    (u32::from_le_bytes(ev), u64::from_le_bytes(data))
}

/// An epoll wait's own wait, from its arguments: its timeout's argument
/// (3) is milliseconds (`Ok(ms)`, negative: for ever), or for
/// `epoll_pwait2` a `timespec`'s address (`Err(address)`, 0: for ever);
/// and the address of its signal mask (argument 4 of `epoll_pwait` and
/// `epoll_pwait2`; 0: none). `None`: not an epoll wait, or a mask of
/// another size (its EINVAL comes from home).
pub fn epoll_wait_args(nr: u32, args: &[u64; 6]) -> Option<(Result<i64, u64>, u64)> {
    let mask = match nr {
        NR_EPOLL_WAIT => 0,
        281 | NR_EPOLL_PWAIT2 if args[4] != 0 && args[5] != SIGSET_LEN => return None,
        281 | NR_EPOLL_PWAIT2 => args[4],
        _ => return None,
    };
    let timeout = match nr {
        NR_EPOLL_PWAIT2 => Err(args[3]),
        _ => Ok(i64::from(args[3] as i32)),
    };
    Some((timeout, mask))
}

/// Whether call `nr` is an epoll wait: it fails with EINTR itself when a
/// signal interrupts it (the kernel's restart codes tell the others).
pub fn waits_for_events(nr: u32) -> bool {
    matches!(nr, 232 | 281 | 441)
}

/// connect(2)'s number.
pub const NR_CONNECT: u32 = 42;

/// wait4(2)'s number.
pub const NR_WAIT4: u32 = 61;
/// waitid(2)'s number.
pub const NR_WAITID: u32 = 247;
/// wait4's and waitid's "do not wait" option.
pub const WNOHANG: u64 = 1;
/// flock(2)'s number, its "do not wait" and "unlock" operations.
pub const NR_FLOCK: u32 = 73;
const LOCK_NB: u64 = 4;
const LOCK_UN: u64 = 8;
/// msgsnd(2)'s and msgrcv(2)'s numbers, and their "do not wait" flag.
pub const NR_MSGSND: u32 = 69;
/// See [`NR_MSGSND`].
pub const NR_MSGRCV: u32 = 70;
const IPC_NOWAIT: u64 = 0o4000;
/// semop(2)'s and semtimedop(2)'s numbers.
pub const NR_SEMOP: u32 = 65;
/// See [`NR_SEMOP`].
pub const NR_SEMTIMEDOP: u32 = 220;
/// fcntl(2)'s waiting lock commands.
const F_SETLKW: u64 = 7;
const F_OFD_SETLKW: u64 = 38;

/// Whether any operation of a `semop` array (`struct sembuf`: number,
/// op, flags, each 16 bits) asks `IPC_NOWAIT` itself: such a call is
/// made at home as asked (its EAGAIN is its own).
pub fn sembufs_any_nowait(b: &[u8]) -> bool {
    b.chunks_exact(usize::from(SEMBUF))
        .any(|e| u64::from(u16::from_le_bytes([e[4], e[5]])) & IPC_NOWAIT != 0)
}

/// Puts `IPC_NOWAIT` into each operation of a `semop` array: at home,
/// the call of a thread that waits where it runs.
pub fn sembufs_nowait(b: &mut [u8]) {
    for e in b.chunks_exact_mut(usize::from(SEMBUF)) {
        let f = u16::from_le_bytes([e[4], e[5]]) | IPC_NOWAIT as u16;
        e[4..6].copy_from_slice(&f.to_le_bytes());
    }
}
/// `waitid(P_PIDFD, fd, ...)`: its second argument is a descriptor.
const WAITID_PIDFD: Shape = s(
    247,
    "waitid",
    &[Val, Fd, OutOpt(SIGINFO), Val, OutOpt(RUSAGE)],
);
/// pidfd_open(2)'s number: its descriptor is always close-on-exec.
pub const NR_PIDFD_OPEN: u32 = 434;
/// pidfd_getfd(2)'s number: its descriptor is always close-on-exec too.
pub const NR_PIDFD_GETFD: u32 = 438;
const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PIDFD: u64 = 3;

/// Which child a wait call (`wait4`, `waitid`) waits for: `Some(pid)` one
/// child, `Some(0)` any (or a process group's), `None`: not a wait call.
/// A moved process waits here for the children it forked here, and at
/// home (its deputy, their parent there) for those it left there.
pub fn wait_target(nr: u32, args: &[u64; 6]) -> Option<i32> {
    match nr {
        NR_WAIT4 => Some((args[0] as i32).max(0)),
        NR_WAITID if args[0] == P_PID => Some((args[1] as i32).max(0)),
        NR_WAITID if args[0] == P_ALL => Some(0),
        NR_WAITID if args[0] == P_PIDFD => None,
        NR_WAITID => Some(0),
        _ => None,
    }
}

/// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: a process that sends one of them
/// (to itself, as `raise()` and `less` do, or to another) sends it from
/// home, where its process group and the shell are: where it runs, its
/// process group is orphaned and would discard the last three; and home's
/// shell learns of the stop only from the deputy, which forwards them.
pub const JOB_STOP_SIGNALS: [u64; 4] = [19, 20, 21, 22];

/// `fcntl` with a lock structure (F_GETLK, F_SETLK, F_SETLKW and the OFD
/// ones).
const FCNTL_LOCK: Shape = s(72, "fcntl", &[Fd, Val, InOut(FLOCK)]);

/// The shape of `fcntl(fd, cmd, ...)` when it travels: the file status
/// flags, locks, leases, pipe sizes and seals are the file's, at home;
/// descriptor flags and duplicates stay with the descriptor, here.
pub fn fcntl_shape(cmd: u64) -> Option<&'static Shape> {
    match cmd {
        // F_GETFL, F_SETFL, F_SETLEASE, F_GETLEASE, F_SETPIPE_SZ,
        // F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS
        3 | 4 | 1024 | 1025 | 1031..=1034 => SHAPES.iter().find(|s| s.nr == NR_FCNTL),
        // F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW
        5..=7 | 36..=38 => Some(&FCNTL_LOCK),
        _ => None,
    }
}

/// rt_sigqueueinfo(2)'s number.
const NR_RT_SIGQUEUEINFO: u32 = 129;
/// rt_tgsigqueueinfo(2)'s number.
const NR_RT_TGSIGQUEUEINFO: u32 = 297;
const RT_SIGQUEUEINFO: Shape = s(
    NR_RT_SIGQUEUEINFO,
    "rt_sigqueueinfo",
    &[Val, Val, In(SIGINFO)],
);
const RT_TGSIGQUEUEINFO: Shape = s(
    NR_RT_TGSIGQUEUEINFO,
    "rt_tgsigqueueinfo",
    &[Val, Val, Val, In(SIGINFO)],
);

/// The process a call that sends a signal names, as the caller's PID
/// namespace numbers it, and whether by a thread's TID (`tkill`) rather
/// than a process's PID: `kill` (a PID above 0: 0 and below name groups,
/// which travel anyway), `tkill`, `tgkill`, `rt_sigqueueinfo` and
/// `rt_tgsigqueueinfo`. A moved process in a PID namespace of its home's
/// sends one to another process from home, where that namespace is (see
/// [`signal_shape`]); one to itself is sent here.
pub fn signal_target(nr: u32, args: &[u64; 6]) -> Option<(i32, bool)> {
    let first = args[0] as i32;
    match nr {
        NR_KILL | NR_TGKILL | NR_RT_SIGQUEUEINFO | NR_RT_TGSIGQUEUEINFO if first > 0 => {
            Some((first, false))
        }
        NR_TKILL if first > 0 => Some((first, true)),
        _ => None,
    }
}

/// The shape a call that sends a signal travels with when the caller's
/// PID namespace is home's ([`signal_target`]): any signal, any target.
pub fn signal_shape(nr: u32) -> Option<&'static Shape> {
    match nr {
        NR_RT_SIGQUEUEINFO => Some(&RT_SIGQUEUEINFO),
        NR_RT_TGSIGQUEUEINFO => Some(&RT_TGSIGQUEUEINFO),
        NR_KILL | NR_TKILL | NR_TGKILL => SHAPES
            .binary_search_by_key(&nr, |s| s.nr)
            .ok()
            .map(|i| &SHAPES[i]),
        _ => None,
    }
}

/// The shape call `nr` travels with on the wire, either way it travels
/// ([`shape`], or [`signal_shape`] for a caller in home's PID namespace).
pub fn wire_shape(nr: u32, args: &[u64; 6]) -> Option<&'static Shape> {
    shape(nr, args).or_else(|| signal_shape(nr))
}

/// The shape call `nr` with arguments `args` travels with, if it does.
pub fn shape(nr: u32, args: &[u64; 6]) -> Option<&'static Shape> {
    match nr {
        NR_FCNTL => fcntl_shape(args[1]),
        NR_SEMCTL => semctl_shape(args[2]),
        NR_MSGCTL => msgctl_shape(args[1]),
        NR_KILL if args[0] as i32 > 0 && !JOB_STOP_SIGNALS.contains(&args[1]) => None,
        NR_TKILL if !JOB_STOP_SIGNALS.contains(&args[1]) => None,
        NR_TGKILL if !JOB_STOP_SIGNALS.contains(&args[2]) => None,
        // A pidfd names a process of home's (a proxy), or of this node.
        NR_WAITID if args[0] == P_PIDFD => Some(&WAITID_PIDFD),
        NR_UNSHARE if args[0] != 0 && args[0] & !UNSHARE_AT_HOME == 0 => Some(&UNSHARE),
        NR_SETNS if args[1] != 0 && args[1] & !SETNS_AT_HOME == 0 => Some(&SETNS),
        // FSCONFIG_SET_FLAG, _SET_STRING, _CMD_CREATE, _CMD_RECONFIGURE,
        // _CMD_CREATE_EXCL.
        NR_FSCONFIG if matches!(args[1], 0 | 1 | 6 | 7 | 8) => Some(&FSCONFIG),
        _ => SHAPES
            .binary_search_by_key(&nr, |s| s.nr)
            .ok()
            .map(|i| &SHAPES[i]),
    }
}

/// What a descriptor argument is on the node the process runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdIs {
    /// A proxy of this process's file number `n` at home.
    Proxy(i32),
    /// A file of this node (or no file).
    Local,
}

/// Where a call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// It runs here as usual.
    Local,
    /// It travels, with these arguments (descriptors as home's numbers,
    /// counts cut to [`BUF_MAX`]).
    Home([u64; 6]),
    /// It fails with this errno.
    Fail(i32),
}

/// Decides where call `nr` goes. `fd` says what a descriptor is here;
/// `absolute(i)` whether path argument `i` starts with '/' (a path may
/// be read from the caller only when its directory argument matters).
pub fn route(
    nr: u32,
    args: &[u64; 6],
    fd: impl FnMut(i32) -> FdIs,
    absolute: impl FnMut(usize) -> bool,
) -> Route {
    route_shape(shape(nr, args), nr, args, fd, absolute)
}

/// [`route`] for a call whose shape `sh` the caller chose (a signal sent
/// from home: [`signal_shape`]); None: it runs here.
pub fn route_shape(
    sh: Option<&'static Shape>,
    nr: u32,
    args: &[u64; 6],
    mut fd: impl FnMut(i32) -> FdIs,
    mut absolute: impl FnMut(usize) -> bool,
) -> Route {
    if nr == NR_OPENAT2 {
        return Route::Fail(38); // ENOSYS
    }
    if nr == NR_SEMCTL && shape(nr, args).is_none() {
        return Route::Fail(95); // EOPNOTSUPP: GETALL, SETALL
    }
    let Some(sh) = sh else {
        return Route::Local;
    };
    let mut out = *args;
    for (i, a) in sh.args.iter().enumerate() {
        match *a {
            Fd => match fd(args[i] as i32) {
                FdIs::Proxy(n) => out[i] = n as u64,
                FdIs::Local => return Route::Local,
            },
            DirFd => {
                let d = args[i] as i32;
                if absolute(i + 1) {
                    out[i] = AT_FDCWD as u64;
                } else if d != AT_FDCWD {
                    match fd(d) {
                        FdIs::Proxy(n) => out[i] = n as u64,
                        FdIs::Local => return Route::Local,
                    }
                }
            }
            InLen(j) | OutLen(j) => {
                let j = j as usize;
                out[j] = out[j].min(u64::from(BUF_MAX));
            }
            AddrIn(j) if args[i] != 0 && args[j as usize] > u64::from(SOCK_BUF) => {
                return Route::Fail(22); // EINVAL
            }
            InArr(j, n) if args[j as usize] > u64::from(BUF_MAX / u32::from(n.max(1))) => {
                return Route::Fail(7); // E2BIG
            }
            OutArr(j, n) => {
                let j = j as usize;
                out[j] = out[j].min(u64::from(BUF_MAX / u32::from(n.max(1))));
            }
            MsgIn(j) if args[j as usize] > MSG_MAX => return Route::Fail(7),
            MsgOut(j) => {
                let j = j as usize;
                out[j] = out[j].min(MSG_MAX);
            }
            _ => {}
        }
    }
    Route::Home(out)
}

/// The cloexec flag and the file flags of a new descriptor a call made at
/// home, from its (original) arguments.
pub fn new_fd_flags(sh: &Shape, args: &[u64; 6]) -> Option<(bool, u32)> {
    match sh.ret {
        Ret::Value => None,
        Ret::NewFd(Some(i)) => {
            let f = args[i as usize];
            Some((f & O_CLOEXEC != 0, f as u32))
        }
        Ret::NewFd(None) => Some((false, O_WRONLY_CREAT_TRUNC as u32)),
        Ret::NewSock(Some(i)) if matches!(sh.nr, NR_FSOPEN | NR_FSMOUNT | NR_FSPICK) => {
            // FSOPEN_CLOEXEC, FSMOUNT_CLOEXEC, FSPICK_CLOEXEC: bit 0.
            Some((args[i as usize] & 1 != 0, O_RDWR as u32))
        }
        Ret::NewSock(Some(i)) => {
            let f = args[i as usize];
            let cloexec = f & O_CLOEXEC != 0 || matches!(sh.nr, NR_PIDFD_OPEN | NR_PIDFD_GETFD);
            Some((cloexec, (O_RDWR | (f & O_NONBLOCK)) as u32))
        }
        Ret::NewSock(None) => Some((false, O_RDWR as u32)),
        Ret::NewPair { .. } => None,
    }
}

/// The two descriptors a call of `sh` made at home (`out`: the `int[2]`
/// it wrote), each with the cloexec flag and file flags its proxy gets.
pub fn new_pair(sh: &Shape, args: &[u64; 6], out: &[u8]) -> Option<[(i32, bool, u32); 2]> {
    let Ret::NewPair { flags, sock, .. } = sh.ret else {
        return None;
    };
    let f = flags.map_or(0, |i| args[i as usize]);
    let fd = |o: usize| Some(i32::from_le_bytes(out.get(o..o + 4)?.try_into().ok()?));
    let (a, b) = (fd(0)?, fd(4)?);
    let nb = (f & O_NONBLOCK) as u32;
    let ce = f & O_CLOEXEC != 0;
    let (ma, mb) = if sock { (O_RDWR, O_RDWR) } else { (0, 1) };
    Some([(a, ce, ma as u32 | nb), (b, ce, mb as u32 | nb)])
}

/// Whether argument `a` is a pointer whose bytes the call reads (they
/// travel with the request; NULL is allowed for some).
pub fn carries_in(a: Arg) -> bool {
    matches!(
        a,
        Path | PathOrNull
            | In(_)
            | InOut(_)
            | InOutOpt(_)
            | InLen(_)
            | AddrIn(_)
            | InArr(..)
            | MsgIn(_)
    )
}

/// How many bytes argument `i` of `sh` carries in (`None`: none, or NULL
/// is allowed and it is not a pointer that carries in).
fn in_len(a: Arg, args: &[u64; 6]) -> Option<u32> {
    match a {
        Path | PathOrNull => Some(PATH_MAX),
        In(n) | InOut(n) | InOutOpt(n) => Some(n),
        InLen(j) => Some(args[j as usize].min(u64::from(BUF_MAX)) as u32),
        AddrIn(j) => Some(args[j as usize].min(u64::from(SOCK_BUF)) as u32),
        InArr(j, n) => {
            let n = u64::from(n.max(1));
            Some((args[j as usize].min(u64::from(BUF_MAX) / n) * n) as u32)
        }
        MsgIn(j) => Some(8 + args[j as usize].min(MSG_MAX) as u32),
        _ => None,
    }
}

/// The bytes the deputy sets aside for argument `i` (`a`) of a call with
/// arguments `args` to write (0: none, or a NULL optional structure).
pub fn out_room(a: Arg, i: usize, args: &[u64; 6]) -> usize {
    match a {
        Out(n) | InOut(n) => n as usize,
        OutOpt(n) | OutPos(n) | InOutOpt(n) if args[i] != 0 => n as usize,
        OutByLen(_) if args[i] != 0 => SOCK_BUF as usize,
        OutLen(j) => args[j as usize] as usize,
        OutArr(j, n) => args[j as usize] as usize * usize::from(n),
        MsgOut(j) => 8 + args[j as usize] as usize,
        _ => 0,
    }
}

/// The bytes argument `i` (`a`) brings back when the call returned `ret`.
pub fn out_len(a: Arg, i: usize, args: &[u64; 6], ret: i64) -> usize {
    match a {
        Out(n) | InOut(n) if ret >= 0 => n as usize,
        OutOpt(n) if ret >= 0 && args[i] != 0 => n as usize,
        OutPos(n) if ret > 0 && args[i] != 0 => n as usize,
        InOutOpt(n) if ret >= 0 && args[i] != 0 => n as usize,
        OutByLen(_) if ret >= 0 && args[i] != 0 => SOCK_BUF as usize,
        OutArr(j, n) if ret > 0 => {
            let max = args[j as usize].min(u64::from(BUF_MAX / u32::from(n.max(1))));
            ((ret as u64).min(max) * u64::from(n)) as usize
        }
        OutLen(j) if ret > 0 => (ret as u64).min(args[j as usize].min(u64::from(BUF_MAX))) as usize,
        MsgOut(j) if ret >= 0 => 8 + (ret as u64).min(args[j as usize].min(MSG_MAX)) as usize,
        _ => 0,
    }
}

/// Bytes a request for `sh` needs at most.
pub fn call_len(sh: &Shape, args: &[u64; 6]) -> usize {
    4 + 48
        + sh.args
            .iter()
            .map(|a| in_len(*a, args).map_or(0, |n| 4 + n as usize))
            .sum::<usize>()
}

/// A decoded forwarded call: its shape, arguments, and the bytes of each
/// argument that carries some in (`None`: NULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    /// What it is.
    pub shape: &'static Shape,
    /// Its arguments (descriptors are home's).
    pub args: [u64; 6],
    /// The bytes of its pointer arguments that carry in.
    pub ins: [Option<&'a [u8]>; 6],
}

/// Writes a call: its arguments, then for each argument that carries in,
/// its length (u32::MAX for NULL) and bytes (`ins[i]`).
pub fn write_call(
    w: &mut Writer<'_>,
    nr: u32,
    args: &[u64; 6],
    ins: &[Option<&[u8]>; 6],
) -> Result<(), WireError> {
    let sh = wire_shape(nr, args).ok_or(WireError::BadField)?;
    w.u32(nr)?;
    for a in args {
        w.u64(*a)?;
    }
    for (i, a) in sh.args.iter().enumerate() {
        if in_len(*a, args).is_none() {
            continue;
        }
        match ins[i] {
            None => w.u32(u32::MAX)?,
            Some(b) => {
                w.u32(b.len() as u32)?;
                w.bytes(b)?;
            }
        }
    }
    Ok(())
}

/// Whether `b` is a path as the kernel reads one: NUL-terminated, no NUL
/// before, at most [`PATH_MAX`] bytes with it.
fn is_path(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() <= PATH_MAX as usize
        && b[b.len() - 1] == 0
        && !b[..b.len() - 1].contains(&0)
}

/// Reads a call (the deputy's side): only a call of the table, each
/// buffer exactly as its shape allows.
pub fn decode_call(data: &[u8]) -> Result<Call<'_>, WireError> {
    let mut r = Reader::new(data);
    let nr = r.u32()?;
    let mut args = [0u64; 6];
    for a in args.iter_mut() {
        *a = r.u64()?;
    }
    let shape = wire_shape(nr, &args).ok_or(WireError::BadField)?;
    let mut ins = [None; 6];
    for (i, a) in shape.args.iter().enumerate() {
        match *a {
            InLen(j) | OutLen(j) if args[j as usize] > u64::from(BUF_MAX) => {
                return Err(WireError::BadField)
            }
            InArr(j, n) | OutArr(j, n)
                if args[j as usize] > u64::from(BUF_MAX / u32::from(n.max(1))) =>
            {
                return Err(WireError::BadField)
            }
            MsgIn(j) | MsgOut(j) if args[j as usize] > MSG_MAX => return Err(WireError::BadField),
            AddrIn(j) if args[j as usize] > u64::from(SOCK_BUF) => return Err(WireError::BadField),
            Fd if !(0..65536).contains(&(args[i] as i64)) => return Err(WireError::BadField),
            DirFd if args[i] as i32 != AT_FDCWD && !(0..65536).contains(&(args[i] as i64)) => {
                return Err(WireError::BadField)
            }
            _ => {}
        }
        if in_len(*a, &args).is_none() {
            continue;
        }
        let n = r.u32()?;
        if n == u32::MAX {
            if matches!(*a, Path | InOut(_) | InLen(_) | InArr(..) | MsgIn(_)) {
                return Err(WireError::BadField);
            }
            continue;
        }
        let b = r.bytes(n as usize)?;
        let ok = match *a {
            Path | PathOrNull => is_path(b),
            In(m) | InOut(m) | InOutOpt(m) => b.len() == m as usize,
            InLen(j) | AddrIn(j) => b.len() as u64 == args[j as usize],
            InArr(j, n) => b.len() as u64 == args[j as usize] * u64::from(n),
            MsgIn(j) => b.len() as u64 == 8 + args[j as usize],
            _ => false,
        };
        if !ok {
            return Err(WireError::BadField);
        }
        ins[i] = Some(b);
    }
    r.end()?;
    if call_len(shape, &args) > IO_MAX {
        return Err(WireError::BadField);
    }
    // What a call writes by a length it reads: that length, within the
    // room the deputy gives it.
    for (i, a) in shape.args.iter().enumerate() {
        if let OutByLen(j) = *a {
            if args[i] != 0 && by_len(&ins, j).is_none_or(|n| n > SOCK_BUF) {
                return Err(WireError::BadField);
            }
        }
    }
    Ok(Call { shape, args, ins })
}

/// getsockopt(2)'s number.
pub const NR_GETSOCKOPT: u32 = 55;
/// `SOL_SOCKET`.
const SOL_SOCKET: u64 = 1;
/// `SO_GET_FILTER` (`SO_ATTACH_FILTER`): its length counts instructions.
const SO_GET_FILTER: u64 = 26;
/// Bytes of a classic BPF instruction.
const SOCK_FILTER_LEN: u32 = 8;

/// Bytes per unit of the length an `OutByLen` argument of call `nr` with
/// `args` reads and writes back: 8 for `getsockopt(SOL_SOCKET,
/// SO_GET_FILTER)`, whose length counts BPF instructions (so at most
/// `SOCK_BUF / 8` of them travel: a longer filter reads EINVAL, as a
/// buffer too short for it does), 1 (bytes) for everything else.
pub fn len_unit(nr: u32, args: &[u64; 6]) -> u32 {
    if nr == NR_GETSOCKOPT && args[1] == SOL_SOCKET && args[2] == SO_GET_FILTER {
        SOCK_FILTER_LEN
    } else {
        1
    }
}

/// The length an `OutByLen(j)` argument may write: the `u32` argument `j`
/// carries in.
pub fn by_len(ins: &[Option<&[u8]>; 6], j: u8) -> Option<u32> {
    let b = ins.get(j as usize).copied().flatten()?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Splits a reply's data into the bytes of each argument that brings some
/// back (`outs[i]`), checking that it has exactly what `ret` says.
pub fn split_reply<'a>(
    sh: &Shape,
    args: &[u64; 6],
    ret: i64,
    data: &'a [u8],
) -> Result<[&'a [u8]; 6], WireError> {
    let mut outs: [&[u8]; 6] = [&[]; 6];
    let mut r = Reader::new(data);
    for (i, a) in sh.args.iter().enumerate() {
        let n = out_len(*a, i, args, ret);
        if n > 0 {
            outs[i] = r.bytes(n)?;
        }
    }
    r.end()?;
    Ok(outs)
}

/// mmap(2)'s number.
pub const NR_MMAP: u32 = 9;
/// stat(2)'s number.
pub const NR_STAT: u32 = 4;
/// getcwd(2)'s number.
pub const NR_GETCWD: u32 = 79;
/// execve(2)'s number.
pub const NR_EXECVE: u32 = 59;
/// readlink(2)'s number.
pub const NR_READLINK: u32 = 89;
/// newfstatat(2)'s number.
pub const NR_NEWFSTATAT: u32 = 262;
/// `AT_EMPTY_PATH`: the directory descriptor is the file.
pub const AT_EMPTY_PATH: u64 = 0x1000;
const MAP_SHARED: u64 = 0x01;
const MAP_ANONYMOUS: u64 = 0x20;
const PROT_WRITE: u64 = 0x2;

/// The descriptor an `mmap` maps, when it maps a file (`None`: anonymous
/// memory). A proxy cannot be mapped; the same file of this node can.
pub fn mmap_fd(args: &[u64; 6]) -> Option<i32> {
    (args[3] & MAP_ANONYMOUS == 0).then_some(args[4] as i32)
}

/// Whether an `mmap` writes through to its file (the file of this node
/// must then not stand for home's).
pub fn mmap_writes_file(args: &[u64; 6]) -> bool {
    args[3] & MAP_SHARED != 0 && args[2] & PROT_WRITE != 0
}

/// The fields of an x86-64 `struct stat` (144 bytes) that identify a file
/// and its content: device, inode, mode, size, mtime and ctime.
pub fn stat_identity(st: &[u8]) -> Option<[u64; 8]> {
    if st.len() < STAT as usize {
        return None;
    }
    let q =
        |o: usize| -> Option<u64> { Some(u64::from_le_bytes(st.get(o..o + 8)?.try_into().ok()?)) };
    let mode = u64::from(u32::from_le_bytes(st.get(24..28)?.try_into().ok()?));
    Some([q(0)?, q(8)?, mode, q(48)?, q(88)?, q(96)?, q(104)?, q(112)?])
}

/// A path naming one of the caller's descriptors through /proc (a moved
/// process's /proc/self is home's, where its descriptors have home's
/// numbers): `/proc/self/fd/N`, `/proc/self/fdinfo/N`,
/// `/proc/thread-self/fd/N`, `/dev/fd/N`, or `/proc/PID/fd/N` of its own
/// `pid`. Returns where the number starts and ends in `path`, and the
/// number.
pub fn fd_in_path(path: &[u8], pid: u32) -> Option<(usize, usize, i32)> {
    let p = path.strip_suffix(&[0]).unwrap_or(path);
    let mut own = FmtPid::new(pid);
    let prefixes: [&[u8]; 5] = [
        b"/proc/self/fd/",
        b"/proc/self/fdinfo/",
        b"/proc/thread-self/fd/",
        b"/dev/fd/",
        own.fd_prefix(),
    ];
    let start = prefixes
        .iter()
        .filter(|x| !x.is_empty())
        .find(|x| p.starts_with(x))?
        .len();
    let digits = p[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let end = start + digits;
    if end < p.len() && p[end] != b'/' {
        return None;
    }
    let mut n: i32 = 0;
    for c in &p[start..end] {
        n = n * 10 + i32::from(c - b'0');
    }
    Some((start, end, n))
}

/// `/proc/PID/fd/` of a PID, without allocating.
struct FmtPid {
    buf: [u8; 32],
    len: usize,
}

impl FmtPid {
    fn new(pid: u32) -> Self {
        let mut s = Self {
            buf: [0; 32],
            len: 0,
        };
        let mut digits = [0u8; 10];
        let mut n = 0;
        let mut v = pid;
        loop {
            if let Some(d) = digits.get_mut(n) {
                *d = b'0' + (v % 10) as u8;
            }
            n += 1;
            v /= 10;
            if v == 0 || n >= digits.len() {
                break;
            }
        }
        s.push(b"/proc/");
        while n > 0 {
            n -= 1;
            let d = digits[n];
            s.push(&[d]);
        }
        s.push(b"/fd/");
        s
    }

    fn push(&mut self, b: &[u8]) {
        for &c in b {
            if let Some(x) = self.buf.get_mut(self.len) {
                *x = c;
                self.len += 1;
            }
        }
    }

    fn fd_prefix(&mut self) -> &[u8] {
        &self.buf[..self.len]
    }
}
