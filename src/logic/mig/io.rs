// SPDX-License-Identifier: GPL-2.0

//! The migration protocol's proxy I/O: `Io` requests a moved process
//! makes on the files it left at home, and the ioctls that may travel.

use super::{Reader, WireError, Writer, IO_MAX, MAX_GROUPS, READ_MAX};

/// File operations of `Io` (rust/shim.h's VPROC_IO_*).
pub mod io_op {
    /// read(2).
    pub const READ: u32 = 1;
    /// write(2).
    pub const WRITE: u32 = 2;
    /// lseek(2).
    pub const LSEEK: u32 = 3;
    /// close(2).
    pub const CLOSE: u32 = 4;
    /// ioctl(2) of a terminal (the commands of [`super::ioctl_shape`]).
    pub const IOCTL: u32 = 5;
    /// A system call done at home (`len`: its number, `data`: the
    /// calling thread's [`super::Creds`], then the call as
    /// [`super::sysfwd::write_call`] wrote it). The deputy takes those
    /// credentials before it makes the call: a process that changed its
    /// own where it runs (setuid, setgroups, capset, a setuid execve)
    /// never acts at home with those it had.
    pub const SYSCALL: u32 = 6;
    /// The file's readiness (poll mask), asked without waiting. `arg`:
    /// the poll bits someone waits for where the process runs (0: none):
    /// when none is there, home leaves a watch and sends `READY` when
    /// one may be (the answer then has [`super::POLL_WATCHED`]).
    pub const POLL: u32 = 7;
    /// A signal reached the process while request `arg` (its sequence
    /// number) waits at home: interrupt that request as the signal would
    /// interrupt a local call. Not answered; `seq` 0.
    pub const INTR: u32 = 8;
    /// The process stopped (`arg`: the signal that stopped it, 1..=64)
    /// or continued (`arg` 0) where it runs, by a signal sent there (a
    /// `kill -STOP` on that node): its deputy shows it to home's parent
    /// (wait(WUNTRACED), SIGCHLD). Not answered; `seq`, `fd`, `len` 0.
    pub const JOB: u32 = 9;
    /// Home to where the process runs: a file one of its requests found
    /// not ready ([`super::WOULD_WAIT`]) may be ready now: its waiting
    /// threads ask again. Not answered; `seq`, `fd`, `len`, `arg` 0.
    pub const READY: u32 = 10;
    /// A `sendmsg` or `recvmsg` with descriptors (`SCM_RIGHTS`) on a
    /// socket served at home (`data`: the calling thread's
    /// [`super::Creds`], then a [`super::rights::MsgCall`]); made there
    /// as the real call. A recvmsg's answer is a
    /// [`super::rights::MsgReply`].
    pub const MSG: u32 = 11;
    /// A fork the process makes where it runs (`arg`: the child's exit
    /// signal): its deputy forks itself at home, making the child's
    /// deputy, and answers the child's PID (home's) with the new
    /// deputy's id (8 bytes) as data. The child then starts where the
    /// process runs, under that PID.
    pub const FORK: u32 = 12;
    /// That child could not start where the process runs (`arg`: its
    /// PID): its deputy made by `FORK` ends and is reaped at home,
    /// unseen. Answered 0, or ESRCH when there is no such deputy.
    pub const FORK_UNDO: u32 = 13;
    /// The process's name changed where it runs (an exec there, or
    /// `prctl(PR_SET_NAME)`): `data` its new name (at most
    /// [`COMM_LEN`] bytes, no NUL needed), for its deputy to show
    /// at home (`ps`, `pgrep`, `killall`). Not answered; `seq`, `fd`,
    /// `arg` 0.
    pub const COMM: u32 = 14;
    /// The process executed a program where it runs: `data` its command
    /// line (its argument strings, NULs between, at most
    /// [`CMDLINE_MAX`] bytes), for its deputy to show at home
    /// (`/proc/PID/cmdline`: `ps aux`, `pgrep -f`). Not answered; `seq`,
    /// `fd`, `arg` 0.
    pub const CMDLINE: u32 = 15;
    /// Its switches changed where it runs (`lock` or `loadlevel` set
    /// there): `arg` has [`SWITCH_LOCK`] and [`SWITCH_LOADLEVEL`] as they
    /// are now, for home's `/proc/PID/lock` and `loadlevel` to show. Not
    /// answered; `seq`, `fd`, `len` 0, no data.
    pub const SWITCHES: u32 = 16;
    /// [`SWITCHES`]'s bit for `lock`.
    pub const SWITCH_LOCK: i64 = 1;
    /// [`SWITCHES`]'s bit for `loadlevel`.
    pub const SWITCH_LOADLEVEL: i64 = 2;
    /// A flag on READ, WRITE, SYSCALL and MSG (on the wire only: `Io::nowait`):
    /// the caller waits where it runs, so the call must not wait at home.
    pub const NOWAIT: u32 = 1 << 16;
}

/// The answer to a `NOWAIT` request that would have waited at home: it
/// did nothing, and home sends `READY` when the file may be ready (or
/// the caller asks again after a while). No call returns this value.
pub const WOULD_WAIT: i64 = -(1 << 40);

/// Set in a `POLL` answer (beside the mask) when home left a watch.
pub const POLL_WATCHED: i64 = 1 << 33;

/// Set in a `READ` answer (beside the count) when home read ahead of a
/// TCP socket: the bytes past what the process asked were peeked
/// (`MSG_PEEK`), not taken. They stay in home's socket until the process
/// takes them where it runs and a `READ` with a discard ([`read_arg`])
/// takes them at home too: a move or a fork meanwhile loses none.
pub const READ_PEEKED: i64 = 1 << 49;

/// Set in a `READ` answer (beside the count) of a TCP socket home may
/// read ahead of (nobody else reads it) when it did not: where the
/// process runs, a read that filled what it asked asks a read ahead next.
pub const READ_CAN_PEEK: i64 = 1 << 50;

/// The count of a `READ` answer `v` (its flags off; an error as it is).
pub fn read_count(v: i64) -> i64 {
    if v > 0 {
        v & !(READ_PEEKED | READ_CAN_PEEK)
    } else {
        v
    }
}

/// Set in a `READ`'s `arg`: the read is the process's `recv(2)`, so the
/// file must be a socket (else ENOTSOCK, as `recv` of another file).
pub const READ_SOCK: i64 = 1 << 31;

/// A `READ`'s `arg`: `want` (0, or what the process asked when `len`
/// is more: a read ahead) in the low half, with [`READ_SOCK`] when
/// `sock`; `discard` in the high half: bytes of a TCP socket home peeked
/// ahead that the process has taken where it runs, for home to take
/// (then `len` and `want` are 0, `sock` false).
pub fn read_arg(want: u32, discard: u32, sock: bool) -> i64 {
    i64::from(want & 0x7fff_ffff) | (i64::from(discard) << 32) | if sock { READ_SOCK } else { 0 }
}

/// The parts of a `READ`'s `arg` (see [`read_arg`]) for a read of `len`
/// bytes: `(want, discard, sock)`, or `None` when they are out of bounds.
pub fn read_arg_parts(arg: i64, len: u32) -> Option<(u32, u32, bool)> {
    if arg < 0 {
        return None;
    }
    let want = (arg & 0x7fff_ffff) as u32;
    let sock = arg & READ_SOCK != 0;
    let discard = (arg >> 32) as u64;
    let ok = if discard == 0 {
        want <= len
    } else {
        len == 0 && want == 0 && !sock && discard <= READ_MAX as u64
    };
    ok.then_some((want, discard as u32, sock))
}

/// The readiness a `NOWAIT` read or write waits for at home (poll bits:
/// EPOLLIN, EPOLLOUT).
pub const POLL_IN: u32 = 0x1;
/// See [`POLL_IN`].
pub const POLL_OUT: u32 = 0x4;

/// How an ioctl that travels moves its argument: bytes copied in from the
/// caller, bytes copied back out, or the argument itself as a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoctlShape {
    /// Bytes read from the caller's argument.
    pub input: u32,
    /// Bytes written back to it.
    pub output: u32,
    /// The argument is a plain value, not a pointer.
    pub by_value: bool,
}

/// The terminal (and socket queue and interface query) ioctls a migrated
/// process may still make on a terminal or socket at home (x86-64 numbers), with
/// their argument shapes; every
/// other command fails with ENOTTY. `struct termios` is 36 bytes,
/// `struct winsize` 8, a pid or count 4.
pub fn ioctl_shape(cmd: u32) -> Option<IoctlShape> {
    const IFREQ: u32 = 40;
    let (input, output, by_value) = match cmd {
        0x5401 => (0, 36, false),          // TCGETS
        0x5402..=0x5404 => (36, 0, false), // TCSETS, TCSETSW, TCSETSF
        0x5409..=0x540b => (0, 0, true),   // TCSBRK, TCXONC, TCFLSH
        0x540f => (0, 4, false),           // TIOCGPGRP
        0x5410 => (4, 0, false),           // TIOCSPGRP
        0x5413 => (0, 8, false),           // TIOCGWINSZ
        0x5414 => (8, 0, false),           // TIOCSWINSZ
        0x5411 => (0, 4, false),           // TIOCOUTQ, SIOCOUTQ
        0x541b => (0, 4, false),           // FIONREAD, SIOCINQ
        0x8905 => (0, 4, false),           // SIOCATMARK
        // The interface queries (a `struct ifreq`, 40 bytes, in and out):
        // home's interfaces, as a socket's address is home's. glibc's
        // if_nametoindex() asks SIOCGIFINDEX on a socket it makes.
        0x8910 | 0x8913 | 0x8915 | 0x8917 | 0x8919 | 0x891b | 0x891d | 0x8921 | 0x8927 | 0x8933
        | 0x8942 => (IFREQ, IFREQ, false),
        _ => return None,
    };
    Some(IoctlShape {
        input,
        output,
        by_value,
    })
}

/// An `Io` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Io<'a> {
    /// The deputy the proxy belongs to (a later deputy of the same PID,
    /// or none, answers EBADF).
    pub deputy: u64,
    /// The process's request number (from 1): a request repeated after a
    /// lost reply carries the same one and gets the first one's reply.
    pub seq: u32,
    /// The fd at home.
    pub fd: i32,
    /// `io_op`.
    pub op: u32,
    /// Bytes to read (READ), whence (LSEEK), the command (IOCTL).
    pub len: u32,
    /// Offset (LSEEK), the value argument (IOCTL by value).
    pub arg: i64,
    /// Bytes to write (WRITE), the argument's input bytes (IOCTL).
    pub data: &'a [u8],
    /// READ, WRITE, SYSCALL: the caller waits where it runs (a thread of
    /// a process whose other threads' calls the same deputy serves): a
    /// call that would wait answers [`WOULD_WAIT`] instead.
    pub nowait: bool,
}

/// Bytes of a task's name (`TASK_COMM_LEN`), NUL included: an
/// [`io_op::COMM`] carries at most this many.
pub const COMM_LEN: usize = 16;
/// An [`io_op::SWITCHES`] notice's `arg` for these switches.
pub fn switch_bits(lock: bool, loadlevel: bool) -> i64 {
    (if lock { io_op::SWITCH_LOCK } else { 0 })
        | (if loadlevel {
            io_op::SWITCH_LOADLEVEL
        } else {
            0
        })
}

/// Most bytes of a command line an [`io_op::CMDLINE`] carries (longer
/// ones are cut, as home's room for them is anyway).
pub const CMDLINE_MAX: usize = 4096;

/// A command line's sum (FNV-1a, 64 bits; never 0, which stands for "not
/// looked at"): a title a process sets (written over its arguments, as
/// `setproctitle()` does) changes it without an exec.
pub fn cmdline_sum(line: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in line {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h | 1
}

/// Writes an `Io` body.
pub fn write_io(w: &mut Writer<'_>, io: &Io<'_>) -> Result<(), WireError> {
    w.u64(io.deputy)?;
    w.u32(io.seq)?;
    w.i32(io.fd)?;
    w.u32(if io.nowait {
        io.op | io_op::NOWAIT
    } else {
        io.op
    })?;
    w.u32(io.len)?;
    w.i64(io.arg)?;
    w.bytes(io.data)
}

/// Reads and validates an `Io` body.
pub fn read_io<'a>(r: &mut Reader<'a>) -> Result<Io<'a>, WireError> {
    let deputy = r.u64()?;
    let seq = r.u32()?;
    let fd = r.i32()?;
    let op = r.u32()?;
    let len = r.u32()?;
    let arg = r.i64()?;
    let data = r.rest();
    let nowait = op & io_op::NOWAIT != 0;
    let op = op & !io_op::NOWAIT;
    let ok = (0..65536).contains(&fd)
        && (!nowait || matches!(op, io_op::READ | io_op::WRITE | io_op::SYSCALL | io_op::MSG))
        && match op {
            // `arg`: a read ahead, or a discard (`read_arg`).
            io_op::READ => {
                len as usize <= READ_MAX && data.is_empty() && read_arg_parts(arg, len).is_some()
            }
            io_op::WRITE => data.len() <= IO_MAX && len as usize == data.len(),
            io_op::LSEEK => len <= 4 && data.is_empty(),
            io_op::CLOSE => data.is_empty(),
            io_op::POLL => data.is_empty() && (0..=0xffff).contains(&arg),
            io_op::INTR => {
                seq == 0 && len == 0 && data.is_empty() && (1..=i64::from(u32::MAX)).contains(&arg)
            }
            io_op::JOB => {
                seq == 0 && fd == 0 && len == 0 && data.is_empty() && (0..=64).contains(&arg)
            }
            io_op::READY => seq == 0 && fd == 0 && len == 0 && arg == 0 && data.is_empty(),
            io_op::SWITCHES => {
                seq == 0 && fd == 0 && len == 0 && data.is_empty() && (0..=3).contains(&arg)
            }
            io_op::COMM | io_op::CMDLINE => {
                let max = if op == io_op::COMM {
                    COMM_LEN
                } else {
                    CMDLINE_MAX
                };
                seq == 0
                    && fd == 0
                    && arg == 0
                    && len as usize == data.len()
                    && (1..=max).contains(&data.len())
            }
            io_op::FORK => {
                seq != 0 && fd == 0 && len == 0 && data.is_empty() && (0..=64).contains(&arg)
            }
            io_op::FORK_UNDO => {
                seq != 0
                    && fd == 0
                    && len == 0
                    && data.is_empty()
                    && (1..=i64::from(i32::MAX)).contains(&arg)
            }
            io_op::MSG => {
                fd == 0
                    && len == 0
                    && arg == 0
                    && syscall_parts(data).is_ok_and(|(_, m)| {
                        super::rights::read_msg_call(&mut Reader::new(m)).is_ok()
                    })
            }
            // `len` is the command; `data` its input.
            io_op::IOCTL => ioctl_shape(len).is_some_and(|s| s.input as usize == data.len()),
            io_op::SYSCALL => syscall_parts(data)
                .and_then(|(_, call)| super::sysfwd::decode_call(call))
                .is_ok_and(|c| c.shape.nr == len),
            _ => false,
        };
    if !ok {
        return Err(WireError::BadField);
    }
    Ok(Io {
        deputy,
        seq,
        fd,
        op,
        len,
        arg,
        data,
        nowait,
    })
}

/// Bytes of [`Creds`] on the wire.
pub const CREDS_LEN: usize = 8 * 4 + 5 * 8 + 3 * 4 + MAX_GROUPS * 4;
/// The capability bits a [`Creds`] may hold (CAP_LAST_CAP is 40).
pub const CAPS_VALID: u64 = (1 << 41) - 1;

/// The credentials of the thread that makes a call at home (an `Io`
/// SYSCALL's first [`CREDS_LEN`] bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Creds {
    /// uid, euid, suid, fsuid, gid, egid, sgid, fsgid.
    pub ids: [u32; 8],
    /// Inheritable, permitted, effective, bounding, ambient.
    pub caps: [u64; 5],
    /// securebits.
    pub securebits: u32,
    /// The dumpable mode (0..=2).
    pub dumpable: u32,
    /// Supplementary groups (`groups[..ngroups]`, sorted).
    pub ngroups: u32,
    /// See `ngroups`.
    pub groups: [u32; MAX_GROUPS],
}

impl Creds {
    /// Appends it.
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        self.check()?;
        for v in self.ids {
            w.u32(v)?;
        }
        for v in self.caps {
            w.u64(v)?;
        }
        w.u32(self.securebits)?;
        w.u32(self.dumpable)?;
        w.u32(self.ngroups)?;
        for v in self.groups {
            w.u32(v)?;
        }
        Ok(())
    }

    /// Reads and checks one.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut c = Creds::default();
        for v in c.ids.iter_mut() {
            *v = r.u32()?;
        }
        for v in c.caps.iter_mut() {
            *v = r.u64()?;
        }
        c.securebits = r.u32()?;
        c.dumpable = r.u32()?;
        c.ngroups = r.u32()?;
        for v in c.groups.iter_mut() {
            *v = r.u32()?;
        }
        c.check()?;
        Ok(c)
    }

    /// (uid_t)-1 is no id; no unknown capability, securebit or dumpable
    /// mode; at most [`MAX_GROUPS`] groups, the unused ones 0.
    fn check(&self) -> Result<(), WireError> {
        let n = self.ngroups as usize;
        if n > MAX_GROUPS {
            return Err(WireError::BadLength);
        }
        let (used, unused) = self.groups.split_at(n);
        if self.ids.contains(&u32::MAX)
            || used.contains(&u32::MAX)
            || unused.iter().any(|&g| g != 0)
            || self.caps.iter().any(|&c| c & !CAPS_VALID != 0)
            || self.securebits > 0xffff
            || self.dumpable > 2
        {
            return Err(WireError::BadField);
        }
        Ok(())
    }
}

/// An `Io` SYSCALL's data: the caller's credentials and the call.
pub fn syscall_parts(data: &[u8]) -> Result<(Creds, &[u8]), WireError> {
    let mut r = Reader::new(data);
    let c = Creds::read(&mut r)?;
    Ok((c, r.rest()))
}
