// SPDX-License-Identifier: GPL-2.0

//! The migration protocol: payloads of `MsgType::Mig` (requests and
//! one-way messages) and `MsgType::MigResp` (responses).
//!
//! Every payload starts with a 16-byte header: the request id (0 for a
//! one-way message; a response carries its request's), the kind, and the
//! PID the message is about. What follows depends on the kind:
//!
//! | kind   | direction            | body                                         |
//! |--------|----------------------|----------------------------------------------|
//! | Begin  | source -> dest (req) | mig id, home, switches, nmigs, vdso, cwd, deputy id, fs identity, cgroup, areas |
//! | Resp   | any (response)       | value (errno < 0 or a result), data          |
//! | Data   | source -> dest       | mig id, sequence, page runs                  |
//! | Layout | source -> dest (req) | mig id, the areas when the process stopped   |
//! | Commit | source -> dest (req) | mig id, checksum, registers, FPU, signals, fds, task image |
//! | Thread | source -> dest (req) | mig id, TID, registers, FPU, its own signals, its task image |
//! | LazyData, LazyReq, LazyDone | post-copy, after Go | see `mig/lazy.rs` |
//! | Go     | source -> dest (req) | mig id: resume (answered: it runs / never will) |
//! | Abort  | source -> dest       | mig id: give up, the source keeps running    |
//! | Moved  | -> home              | the process now runs on `node`               |
//! | Exit   | body -> home (req)   | exit code as wait(2) reports it, deputy id (answered: acknowledged) |
//! | Signal | home -> body         | signal, si_code, sender's pid and uid        |
//! | Io     | body -> home (req)   | deputy id, fd, operation, length, argument, data |
//! | Goto   | home -> body (req)   | node, caller: move on (answered when done)   |
//! | Control| any -> home, home -> body (req) | goto or a switch, with its caller |
//! | Check  | home <-> body (req)  | deputy id, who asks: is it still yours? (answer: `custody::Answer`) |
//!
//! Decoding validates every field a receiver acts on (addresses, lengths,
//! counts, flags) and never panics; encoding writes into a caller's buffer
//! and fails cleanly when it is too small. No allocation.
//!
//! This file holds the header, the kinds, the bounds-checked reader and
//! writer and the response body; the bodies live in `mig/`: areas and
//! identity (`Begin`), pages (`Data`), the commit (`Commit`, `Signal`),
//! proxy I/O (`Io`) and the system calls done at home (`sysfwd`), and requests from other nodes (`Control`, `Goto`).
//! Everything is re-exported here, so `mig::X` names any of them.

use super::wire::{le_u32, le_u64, WireError};

#[path = "mig/areas.rs"]
mod areas;
#[path = "mig/commit.rs"]
mod commit;
#[path = "mig/control.rs"]
mod control;
#[path = "mig/dirty.rs"]
mod dirty;
#[path = "mig/io.rs"]
mod io;
#[path = "mig/lazy.rs"]
mod lazy;
#[path = "mig/pages.rs"]
mod pages;
#[path = "mig/rights.rs"]
pub mod rights;
#[path = "mig/seccomp.rs"]
mod seccomp;
#[path = "mig/sysfwd.rs"]
pub mod sysfwd;
#[path = "mig/userns.rs"]
mod userns;

// The re-exports are the API of the host crate too; the kernel does not
// name every one (a test helper, a length), hence the allowance.
#[allow(unused_imports)]
pub use areas::{
    begin_pidns_key, begin_pidns_levels, begin_tids, check_begin, check_begin_body, home_ns,
    read_area_count, read_begin, vma_flags, write_areas, write_begin, Begin, BeginText, Ident,
    PidNsLevel, Vma, CAP_FS_MASK, CGROUP_MAX, CLOCK_MAX_NS, CWD_MAX, MAX_GROUPS, PIDNS_LEVELS,
};
#[allow(unused_imports)]
pub use commit::{
    read_commit, read_fd, read_signal, read_thread, sig_flags, thread_recs, timer_sig,
    write_commit, write_fd, write_signal, write_thread, Commit, EpollWatch, Fd, Signal, ThreadImg,
    TimerSig, UffdArea, WpRuns, EPOLL_WATCH, FD_LEN, MAX_PTIMERS, PM_UFFD_WP, PTIMER_LEN, SIGNALFD,
    SIGNAL_LEN, SI_TIMER, TASK_MAX, UFFD_API_DONE, UFFD_AREA, UFFD_FEATURES, UFFD_MODE_MISSING,
    UFFD_MODE_WP, UFFD_USER_MODE_ONLY, UFFD_WP, USERFAULTFD, USER_ADDR_END,
};
#[allow(unused_imports)]
pub use control::{
    read_caller, read_control, read_goto, write_caller, write_control, write_goto, Caller, Control,
    ControlOp, GotoReq, CALLER_LEN, CONTROL_LEN, GOTO_LEN,
};
#[allow(unused_imports)]
pub use dirty::{
    another_round, busy_key, clean_key, unchanged, DIRTY, MAX_ROUNDS, PM_FILE, PM_PFN_MASK,
    PM_PRESENT, PM_SOFT_DIRTY, PM_SWAP, ROUND_ENOUGH_PAGES,
};
#[allow(unused_imports)]
pub use io::{
    cmdline_sum, io_op, ioctl_shape, read_arg, read_arg_parts, read_count, read_io, switch_bits,
    syscall_parts, write_io, Creds, Io, IoctlShape, CAPS_VALID, CMDLINE_MAX, COMM_LEN, CREDS_LEN,
    POLL_IN, POLL_OUT, POLL_WATCHED, READ_CAN_PEEK, READ_PEEKED, READ_SOCK, WOULD_WAIT,
};
#[allow(unused_imports)]
pub use lazy::{
    check_lazy, lazy_push, lazy_runs, lazy_worth, placed, read_lazy_req, remapped, unremapped,
    write_lazy_req, LazyReq, LazyRun, LAZY_MIN_PAGES, LAZY_REQ_LEN, LAZY_REQ_MAX_PAGES,
    LAZY_RUN_LEN, MAX_LAZY_RUNS,
};
#[allow(unused_imports)]
pub use pages::{
    page_hash, read_data_hdr, read_run, run_len, run_pages, write_data_hdr, write_run, DataHdr,
    Run, DATA_HDR_LEN,
};
#[allow(unused_imports)]
pub use seccomp::{
    seccomp_assemble, seccomp_chains, seccomp_filters, seccomp_find, seccomp_nth, seccomp_push,
    SeccompChain, SeccompFilter, MAX_SECCOMP_FILTERS, MAX_SECCOMP_INSNS, SECCOMP_FILTER,
    SECCOMP_LOG, SECCOMP_MAX_LEN, SECCOMP_STRICT, SECCOMP_THREADS, SOCK_FILTER_LEN,
};
#[allow(unused_imports)]
pub use userns::{
    userns_common, userns_depth, userns_max_len, userns_origin, userns_same, write_chain_header,
    Extent, Level, Map, UserNs, UserNsChain, MAX_EXTENTS, MAX_LEVELS, SETGROUPS, USERNS_MAX_LEN,
};

/// Bytes of the common header.
pub const HEADER_LEN: usize = 16;
/// A page.
pub const PAGE: usize = 4096;
/// Highest user address + 1 (x86-64, 4-level paging).
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// Most pages in one run of a `Data` message.
pub const RUN_MAX_PAGES: u32 = 15;
/// Most bytes of one `Io` transfer.
pub const IO_MAX: usize = 56 * 1024;
/// Most bytes one proxied read asks for (its answer takes several frames:
/// a read-ahead, or a large read of the process).
pub const READ_MAX: usize = 2 * 1024 * 1024;
/// Most data bytes one frame of a response carries (the rest of
/// `MAX_PAYLOAD` is the header and the value).
pub const RESP_CHUNK: usize = 60 * 1024;
/// Most memory areas a process may have to move (its `Begin` and
/// `Layout` then travel in parts: `wire::MAX_JOINED` bounds their bytes).
pub const MAX_VMAS: u32 = 4096;
/// Length of the general registers image.
pub const GREGS_LEN: usize = 216;
/// Length of one pending signal's siginfo.
pub const SIGINFO_LEN: usize = 48;
/// Most FPU image bytes.
pub const XSTATE_MAX: usize = 16384;
/// Most pending signals carried (the process's in `Commit`, each
/// thread's in its `Thread`): a signal queued with its siginfo keeps it
/// only if it travels (one its deputy forwards later keeps its number,
/// code class and sender).
pub const MAX_SIGS: u32 = 128;
/// Most open files carried.
pub const MAX_FDS: u32 = 1024;
/// Longest file path of a mapping.
pub const PATH_MAX: usize = 255;
/// Most threads of a process that moves (its leader included).
pub const MAX_THREADS: u32 = 256;
/// One past the highest PID (PID_MAX_LIMIT): TIDs are below.
pub const PID_LIMIT: u32 = 4 * 1024 * 1024;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Start a migration.
    Begin = 1,
    /// A response.
    Resp = 2,
    /// Memory pages.
    Data = 3,
    /// Everything else; the destination is ready when it answers.
    Commit = 4,
    /// Resume on the destination.
    Go = 5,
    /// Give up.
    Abort = 6,
    /// The process moved.
    Moved = 7,
    /// The process ended.
    Exit = 8,
    /// A signal for the process.
    Signal = 9,
    /// A file operation at home.
    Io = 10,
    /// Move the process on (asked by its home node).
    Goto = 11,
    /// The memory areas at the moment the process stopped.
    Layout = 12,
    /// Move a process or set a switch, asked on a node that is neither
    /// its home nor where it runs (the netlink API).
    Control = 13,
    /// Is this process (a PID and its deputy's id) still yours?
    /// (`logic::custody`.)
    Check = 14,
    /// One thread of the process (registers, FPU, its own signals and
    /// state), before `Commit`.
    Thread = 15,
    /// Post-copy: pages the freeze left, after Go (as `Data`).
    LazyData = 16,
    /// Post-copy: pages the destination wants now.
    LazyReq = 17,
    /// Post-copy: the destination has every page (or the process ended).
    LazyDone = 18,
}

impl TryFrom<u8> for Kind {
    type Error = WireError;
    fn try_from(v: u8) -> Result<Self, WireError> {
        Ok(match v {
            1 => Kind::Begin,
            2 => Kind::Resp,
            3 => Kind::Data,
            4 => Kind::Commit,
            5 => Kind::Go,
            6 => Kind::Abort,
            7 => Kind::Moved,
            8 => Kind::Exit,
            9 => Kind::Signal,
            10 => Kind::Io,
            11 => Kind::Goto,
            12 => Kind::Layout,
            13 => Kind::Control,
            14 => Kind::Check,
            15 => Kind::Thread,
            16 => Kind::LazyData,
            17 => Kind::LazyReq,
            18 => Kind::LazyDone,
            _ => return Err(WireError::BadField),
        })
    }
}

/// The common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigHeader {
    /// Request id (0: one-way).
    pub req: u64,
    /// Kind.
    pub kind: Kind,
    /// The process.
    pub pid: u32,
}

/// A bounds-checked reader.
pub struct Reader<'a> {
    p: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Reads `p` from its start.
    pub fn new(p: &'a [u8]) -> Self {
        Self { p, at: 0 }
    }
    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::BadLength)?;
        let s = self.p.get(self.at..end).ok_or(WireError::BadLength)?;
        self.at = end;
        Ok(s)
    }
    /// A u8.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }
    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(le_u32(self.bytes(4)?, 0))
    }
    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(le_u64(self.bytes(8)?, 0))
    }
    /// A little-endian i32.
    pub fn i32(&mut self) -> Result<i32, WireError> {
        Ok(self.u32()? as i32)
    }
    /// A little-endian i64.
    pub fn i64(&mut self) -> Result<i64, WireError> {
        Ok(self.u64()? as i64)
    }
    /// What is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.p[self.at..];
        self.at = self.p.len();
        s
    }
    /// Bytes left.
    pub fn left(&self) -> usize {
        self.p.len() - self.at
    }
    /// Fails unless everything was read.
    pub fn end(&self) -> Result<(), WireError> {
        if self.left() == 0 {
            Ok(())
        } else {
            Err(WireError::BadLength)
        }
    }
}

/// A bounds-checked writer into a caller's buffer.
pub struct Writer<'a> {
    p: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    /// Writes into `p` from its start.
    pub fn new(p: &'a mut [u8]) -> Self {
        Self { p, at: 0 }
    }
    /// Appends `b`.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), WireError> {
        let end = self.at.checked_add(b.len()).ok_or(WireError::BadLength)?;
        self.p
            .get_mut(self.at..end)
            .ok_or(WireError::BadLength)?
            .copy_from_slice(b);
        self.at = end;
        Ok(())
    }
    /// Appends a u8.
    pub fn u8(&mut self, v: u8) -> Result<(), WireError> {
        self.bytes(&[v])
    }
    /// Appends a u16.
    pub fn u16(&mut self, v: u16) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a u32.
    pub fn u32(&mut self, v: u32) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a u64.
    pub fn u64(&mut self, v: u64) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends an i32.
    pub fn i32(&mut self, v: i32) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends an i64.
    pub fn i64(&mut self, v: i64) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Bytes written.
    pub fn len(&self) -> usize {
        self.at
    }
    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.at == 0
    }
}

/// Writes the header.
pub fn write_header(w: &mut Writer<'_>, h: &MigHeader) -> Result<(), WireError> {
    w.u64(h.req)?;
    w.u8(h.kind as u8)?;
    w.bytes(&[0; 3])?;
    w.u32(h.pid)
}

/// Reads the header; the reader is left at the body.
pub fn read_header(r: &mut Reader<'_>) -> Result<MigHeader, WireError> {
    let req = r.u64()?;
    let kind = Kind::try_from(r.u8()?)?;
    r.bytes(3)?;
    let pid = r.u32()?;
    if pid == 0 || pid > 4_194_304 {
        return Err(WireError::BadField);
    }
    Ok(MigHeader { req, kind, pid })
}

/// Writes a response body: `value` then `data`.
pub fn write_resp(w: &mut Writer<'_>, value: i64, data: &[u8]) -> Result<(), WireError> {
    w.i64(value)?;
    w.bytes(data)
}

/// Reads a response body.
pub fn read_resp<'a>(r: &mut Reader<'a>) -> Result<(i64, &'a [u8]), WireError> {
    let v = r.i64()?;
    Ok((v, r.rest()))
}
