// SPDX-License-Identifier: GPL-2.0

//! The migration protocol's last step: the `Commit` message (registers,
//! FPU, pending signals, open files, task image, POSIX timers) and a
//! `Signal` forwarded to a moved process.

use super::{
    check_lazy, Reader, WireError, Writer, GREGS_LEN, LAZY_RUN_LEN, MAX_FDS, MAX_LAZY_RUNS,
    MAX_SIGS, PID_LIMIT, SIGINFO_LEN, XSTATE_MAX,
};

/// An open file as it travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd {
    /// Its number in the process.
    pub fd: i32,
    /// O_ACCMODE | O_APPEND | O_NONBLOCK.
    pub f_flags: u32,
    /// Close-on-exec.
    pub cloexec: bool,
    /// Its number at the home node.
    pub home_fd: i32,
    /// A node device (`mig_policy::node_device`'s minor number), opened
    /// again where it arrives; [`SIGNALFD`]: a signalfd of `sigmask`, made
    /// again where it arrives; 0: a file at home (`home_fd`);
    /// [`EPOLL_WATCH`]: no file but a watch (see [`Fd::epoll_watch`]).
    pub node_dev: u32,
    /// A signalfd's mask (bit n-1: signal n); 0 for other files.
    pub sigmask: u64,
}

/// `Fd::node_dev` of a signalfd: it reads the signals of the task that
/// reads it, so it is made again wherever the process runs.
pub const SIGNALFD: u32 = u32::MAX;

/// `Fd::node_dev` of a record that is no file but a signalfd an epoll
/// watches ([`Fd::epoll_watch`]): the signalfd is made again where the
/// process arrives, so the watch is kept there (by the epoll's proxy, or
/// added again to the epoll when it comes home). After the files.
pub const EPOLL_WATCH: u32 = u32::MAX - 1;

/// `Fd::node_dev` of a userfaultfd of the process's own memory: made
/// again where it arrives; `sigmask` is its description ([`UFFD_FEATURES`],
/// [`UFFD_USER_MODE_ONLY`], [`UFFD_API_DONE`]).
pub const USERFAULTFD: u32 = u32::MAX - 2;

/// `Fd::node_dev` of a record that is no file but an area registered
/// with a [`USERFAULTFD`] ([`Fd::uffd_area`]; `home_fd` its modes,
/// [`UFFD_MODE_MISSING`] and [`UFFD_MODE_WP`]): after the files, with
/// the watches.
pub const UFFD_AREA: u32 = u32::MAX - 3;

/// `Fd::node_dev` of a record that is no file but a run of pages a
/// [`USERFAULTFD`] write-protected ([`Fd::uffd_wp`]), in an area
/// registered for it: protected again where the process arrives, after
/// the areas are registered.
pub const UFFD_WP: u32 = u32::MAX - 4;

/// An area registered for missing-page faults.
pub const UFFD_MODE_MISSING: u32 = 1;
/// An area registered for write-protect faults.
pub const UFFD_MODE_WP: u32 = 2;

/// A [`USERFAULTFD`]'s features (UFFDIO_API's), in its `sigmask`.
pub const UFFD_FEATURES: u64 = 0xffff_ffff;
/// It was made with `UFFD_USER_MODE_ONLY`.
pub const UFFD_USER_MODE_ONLY: u64 = 1 << 32;
/// Its UFFDIO_API was made (it takes ioctls).
pub const UFFD_API_DONE: u64 = 1 << 33;

/// Highest user address of an area ([`UffdArea`]): x86-64's 47 bits.
pub const USER_ADDR_END: u64 = 1 << 47;

/// An area registered with a userfaultfd, as [`UFFD_AREA`] records
/// carry it, or a run of pages it write-protected ([`UFFD_WP`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UffdArea {
    /// The userfaultfd's number in the process.
    pub fd: i32,
    /// Its first address (page-aligned).
    pub start: u64,
    /// Its pages (at least 1).
    pub pages: u32,
    /// An area's modes ([`UFFD_MODE_MISSING`], [`UFFD_MODE_WP`], at least
    /// one); 0 for a run.
    pub mode: u32,
}

/// A pagemap entry's bit for a page its userfaultfd write-protected
/// (`PM_UFFD_WP`).
pub const PM_UFFD_WP: u64 = 1 << 57;

/// The runs of write-protected pages of an area, from its pagemap entries
/// read in chunks (a run may span chunks).
#[derive(Clone, Copy, Debug, Default)]
pub struct WpRuns {
    run: Option<(u64, u32)>,
}

impl WpRuns {
    /// Takes the entries of the pages from `at` (page-aligned); `emit`
    /// gets each run (start, pages) that ended in them.
    pub fn feed<E>(
        &mut self,
        at: u64,
        entries: &[u64],
        mut emit: impl FnMut(u64, u32) -> Result<(), E>,
    ) -> Result<(), E> {
        for (k, e) in entries.iter().enumerate() {
            let page = at + (k * super::PAGE) as u64;
            match (self.run.as_mut(), e & PM_UFFD_WP != 0) {
                // (A run never reaches 2^32 pages: an area carried has
                // fewer.)
                (Some((_, len)), true) => *len = len.saturating_add(1),
                (None, true) => self.run = Some((page, 1)),
                (Some(&mut (s, len)), false) => {
                    self.run = None;
                    emit(s, len)?;
                }
                (None, false) => {}
            }
        }
        Ok(())
    }

    /// The run still open at the area's end, if any.
    pub fn finish(self) -> Option<(u64, u32)> {
        self.run
    }
}

/// A signalfd an epoll watches, as [`EPOLL_WATCH`] records carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpollWatch {
    /// The epoll's number in the process.
    pub epfd: i32,
    /// The signalfd's number in the process (epoll's "tfd").
    pub tfd: i32,
    /// The events `epoll_ctl(2)` asked.
    pub events: u32,
    /// The data `epoll_ctl(2)` gave.
    pub data: u64,
}

impl Fd {
    /// The record of watch `w`: `fd` the epoll, `home_fd` the signalfd,
    /// `f_flags` the events, `sigmask` the data.
    pub fn of_watch(w: &EpollWatch) -> Fd {
        Fd {
            fd: w.epfd,
            f_flags: w.events,
            cloexec: false,
            home_fd: w.tfd,
            node_dev: EPOLL_WATCH,
            sigmask: w.data,
        }
    }

    /// The record of area `a` (a run, [`UFFD_WP`], when its `mode` is 0):
    /// `fd` the userfaultfd, `home_fd` the modes, `sigmask` the start,
    /// `f_flags` the pages.
    pub fn of_uffd_area(a: &UffdArea) -> Fd {
        Fd {
            fd: a.fd,
            f_flags: a.pages,
            cloexec: false,
            home_fd: a.mode as i32,
            node_dev: if a.mode == 0 { UFFD_WP } else { UFFD_AREA },
            sigmask: a.start,
        }
    }

    fn uffd_record(&self) -> UffdArea {
        UffdArea {
            fd: self.fd,
            start: self.sigmask,
            pages: self.f_flags,
            mode: self.home_fd as u32,
        }
    }

    /// The area this record is, if it is one.
    pub fn uffd_area(&self) -> Option<UffdArea> {
        (self.node_dev == UFFD_AREA).then(|| self.uffd_record())
    }

    /// The run of write-protected pages this record is, if it is one.
    pub fn uffd_wp(&self) -> Option<UffdArea> {
        (self.node_dev == UFFD_WP).then(|| self.uffd_record())
    }

    /// Whether it is a record after the files (a watch, an area, a run),
    /// not a file.
    pub fn is_extra(&self) -> bool {
        matches!(self.node_dev, EPOLL_WATCH | UFFD_AREA | UFFD_WP)
    }

    /// The watch this record is, if it is one.
    pub fn epoll_watch(&self) -> Option<EpollWatch> {
        (self.node_dev == EPOLL_WATCH).then_some(EpollWatch {
            epfd: self.fd,
            tfd: self.home_fd,
            events: self.f_flags,
            data: self.sigmask,
        })
    }
}

/// Bytes of one [`Fd`].
pub const FD_LEN: usize = 28;
const FD_FLAGS_OK: u32 = 0o3 | 0o2000 | 0o4000;

/// The parts of `Commit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit<'a> {
    /// Migration id.
    pub mig: u64,
    /// Sum of [`page_hash`] of every page sent.
    pub sum: u64,
    /// Pages sent.
    pub pages: u64,
    /// Data messages sent.
    pub msgs: u32,
    /// General registers.
    pub gregs: &'a [u8],
    /// FPU image kind (1: XSAVE, 2: FXSAVE).
    pub xkind: u32,
    /// FPU image.
    pub xstate: &'a [u8],
    /// Pending signals, `SIGINFO_LEN` each.
    pub sigs: &'a [u8],
    /// Open files, `FD_LEN` each.
    pub fds: &'a [u8],
    /// The task image (credentials, limits, handlers, mm layout...).
    pub task: &'a [u8],
    /// The process's POSIX timers, [`PTIMER_LEN`] each (`struct
    /// vproc_mig_ptimer`: id, clock, notify, signal, value, times, the
    /// thread it notifies, whether it fired, when it was read, the
    /// overruns of its last signal taken and of the one still to take;
    /// the destination checks them as `timer_create` does).
    pub ptimers: &'a [u8],
    /// Pages left for after Go (post-copy), [`LAZY_RUN_LEN`] each (see
    /// `lazy.rs`); empty for a move that sent every page.
    pub lazy: &'a [u8],
}

/// Most bytes of a task image.
pub const TASK_MAX: usize = 8192;
/// Bytes of one POSIX timer in `Commit`.
pub const PTIMER_LEN: usize = 88;
/// Most POSIX timers a `Commit` carries (`mig_policy::MAX_POSIX_TIMERS`).
pub const MAX_PTIMERS: u32 = 4096;

/// `si_code` of a POSIX timer's signal (`SI_TIMER`).
pub const SI_TIMER: i32 = -2;

/// What a pending signal says of the POSIX timer that sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerSig {
    /// Its signal number.
    pub signo: i32,
    /// The timer's id (`si_timerid`).
    pub timer: i32,
    /// Expiries it gathered while queued (`si_overrun`).
    pub overrun: i32,
    /// `si_value`, as the timer's sigevent gave it.
    pub value: u64,
}

/// The timer a raw siginfo (x86-64's `kernel_siginfo`, [`SIGINFO_LEN`]
/// bytes) names, if its `si_code` is `SI_TIMER`. Anyone may queue such a
/// siginfo to a process it may signal (`rt_sigqueueinfo` allows a
/// negative code), so the caller matches it with a timer of the process
/// that had a signal queued before trusting it.
pub fn timer_sig(info: &[u8]) -> Option<TimerSig> {
    let i32_at = |o: usize| -> Option<i32> {
        Some(i32::from_ne_bytes(info.get(o..o + 4)?.try_into().ok()?))
    };
    if info.len() != SIGINFO_LEN || i32_at(8)? != SI_TIMER {
        return None;
    }
    Some(TimerSig {
        signo: i32_at(0)?,
        timer: i32_at(16)?,
        overrun: i32_at(20)?,
        value: u64::from_ne_bytes(info.get(24..32)?.try_into().ok()?),
    })
}

// The largest `Commit` (header, fixed part, every bound reached) is one
// request the transport carries (in `MigPart` frames past one frame).
const _: () = assert!(
    super::HEADER_LEN
        + 76
        + GREGS_LEN
        + XSTATE_MAX
        + MAX_SIGS as usize * SIGINFO_LEN
        + MAX_FDS as usize * FD_LEN
        + TASK_MAX
        + MAX_PTIMERS as usize * PTIMER_LEN
        + 4
        + MAX_LAZY_RUNS as usize * LAZY_RUN_LEN
        <= super::super::wire::MAX_JOINED
);

// The parts `Commit` and `Thread` share, in this order: the registers and
// FPU image, the pending signals, the task image. The writers check the
// lengths first; the readers validate what a peer sent.

fn write_regs(
    w: &mut Writer<'_>,
    gregs: &[u8],
    xkind: u32,
    xstate: &[u8],
) -> Result<(), WireError> {
    w.bytes(gregs)?;
    w.u32(xkind)?;
    w.u32(xstate.len() as u32)?;
    w.bytes(xstate)
}

/// General registers, FPU image kind (1: XSAVE, 2: FXSAVE) and image.
fn read_regs<'a>(r: &mut Reader<'a>) -> Result<(&'a [u8], u32, &'a [u8]), WireError> {
    let gregs = r.bytes(GREGS_LEN)?;
    let xkind = r.u32()?;
    let xlen = r.u32()? as usize;
    if !(1..=2).contains(&xkind) || xlen > XSTATE_MAX {
        return Err(WireError::BadField);
    }
    Ok((gregs, xkind, r.bytes(xlen)?))
}

fn write_sigs(w: &mut Writer<'_>, sigs: &[u8]) -> Result<(), WireError> {
    w.u32((sigs.len() / SIGINFO_LEN) as u32)?;
    w.bytes(sigs)
}

/// At most `MAX_SIGS` siginfos.
fn read_sigs<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
    let nsig = r.u32()?;
    if nsig > MAX_SIGS {
        return Err(WireError::BadLength);
    }
    r.bytes(nsig as usize * SIGINFO_LEN)
}

fn write_task(w: &mut Writer<'_>, task: &[u8]) -> Result<(), WireError> {
    w.u32(task.len() as u32)?;
    w.bytes(task)
}

/// A task image of at most `TASK_MAX` bytes.
fn read_task<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
    let tl = r.u32()? as usize;
    if tl > TASK_MAX {
        return Err(WireError::BadLength);
    }
    r.bytes(tl)
}

/// Writes a `Commit` body.
pub fn write_commit(w: &mut Writer<'_>, c: &Commit<'_>) -> Result<(), WireError> {
    if c.gregs.len() != GREGS_LEN
        || c.xstate.len() > XSTATE_MAX
        || !c.sigs.len().is_multiple_of(SIGINFO_LEN)
        || !c.fds.len().is_multiple_of(FD_LEN)
        || c.fds.len() > MAX_FDS as usize * FD_LEN
        || c.task.len() > TASK_MAX
        || !c.ptimers.len().is_multiple_of(PTIMER_LEN)
        || c.ptimers.len() > MAX_PTIMERS as usize * PTIMER_LEN
        || check_lazy(c.lazy).is_err()
    {
        return Err(WireError::BadLength);
    }
    w.u64(c.mig)?;
    w.u64(c.sum)?;
    w.u64(c.pages)?;
    w.u32(c.msgs)?;
    write_regs(w, c.gregs, c.xkind, c.xstate)?;
    write_sigs(w, c.sigs)?;
    w.u32((c.fds.len() / FD_LEN) as u32)?;
    w.bytes(c.fds)?;
    write_task(w, c.task)?;
    w.u32((c.ptimers.len() / PTIMER_LEN) as u32)?;
    w.bytes(c.ptimers)?;
    w.u32((c.lazy.len() / LAZY_RUN_LEN) as u32)?;
    w.bytes(c.lazy)
}

/// Reads and validates a `Commit` body.
pub fn read_commit<'a>(r: &mut Reader<'a>) -> Result<Commit<'a>, WireError> {
    let mig = r.u64()?;
    let sum = r.u64()?;
    let pages = r.u64()?;
    let msgs = r.u32()?;
    let (gregs, xkind, xstate) = read_regs(r)?;
    let sigs = read_sigs(r)?;
    let nfd = r.u32()?;
    if nfd > MAX_FDS {
        return Err(WireError::BadLength);
    }
    let fds = r.bytes(nfd as usize * FD_LEN)?;
    let task = read_task(r)?;
    let nt = r.u32()?;
    if nt > MAX_PTIMERS {
        return Err(WireError::BadLength);
    }
    let ptimers = r.bytes(nt as usize * PTIMER_LEN)?;
    let nl = r.u32()?;
    if nl > MAX_LAZY_RUNS {
        return Err(WireError::BadLength);
    }
    let lazy = r.bytes(nl as usize * LAZY_RUN_LEN)?;
    check_lazy(lazy)?;
    r.end()?;
    for f in fds.chunks_exact(FD_LEN) {
        read_fd(f)?;
    }
    Ok(Commit {
        mig,
        sum,
        pages,
        msgs,
        gregs,
        xkind,
        xstate,
        sigs,
        fds,
        task,
        ptimers,
        lazy,
    })
}

/// One thread of a moving process but its leader (`Thread`, before
/// `Commit`): what is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadImg<'a> {
    /// Migration id.
    pub mig: u64,
    /// Its TID.
    pub tid: u32,
    /// General registers.
    pub gregs: &'a [u8],
    /// FPU image kind (1: XSAVE, 2: FXSAVE).
    pub xkind: u32,
    /// FPU image.
    pub xstate: &'a [u8],
    /// Signals pending for this thread, `SIGINFO_LEN` each.
    pub sigs: &'a [u8],
    /// Its task image (its credentials, mask, alternate stack, rseq,
    /// robust list, clear_child_tid, name, nice).
    pub task: &'a [u8],
}

/// Writes a `Thread` body.
pub fn write_thread(w: &mut Writer<'_>, t: &ThreadImg<'_>) -> Result<(), WireError> {
    if t.gregs.len() != GREGS_LEN
        || t.xstate.len() > XSTATE_MAX
        || !t.sigs.len().is_multiple_of(SIGINFO_LEN)
        || t.sigs.len() / SIGINFO_LEN > MAX_SIGS as usize
        || t.task.len() > TASK_MAX
        || t.tid == 0
        || t.tid >= PID_LIMIT
    {
        return Err(WireError::BadLength);
    }
    w.u64(t.mig)?;
    w.u32(t.tid)?;
    write_regs(w, t.gregs, t.xkind, t.xstate)?;
    write_sigs(w, t.sigs)?;
    write_task(w, t.task)
}

/// Reads and validates a body of one thread record (a stored image).
pub fn read_thread<'a>(r: &mut Reader<'a>) -> Result<ThreadImg<'a>, WireError> {
    let t = read_thread_rec(r)?;
    r.end()?;
    Ok(t)
}

/// The records of a `Thread` body, each one thread's, back to back (a
/// source packs as many as fit in a frame): each read and validated, with
/// its bytes (what `read_thread` reads again). An empty body, or one that
/// does not end with a whole record, yields an error (and nothing after).
pub fn thread_recs(body: &[u8]) -> ThreadRecs<'_> {
    ThreadRecs {
        body,
        at: 0,
        done: false,
    }
}

/// See [`thread_recs`].
pub struct ThreadRecs<'a> {
    body: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Iterator for ThreadRecs<'a> {
    type Item = Result<(ThreadImg<'a>, &'a [u8]), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || (self.at > 0 && self.at == self.body.len()) {
            return None;
        }
        let rest = self.body.get(self.at..).unwrap_or(&[]);
        let mut r = Reader::new(rest);
        match read_thread_rec(&mut r) {
            Ok(t) => {
                let n = rest.len() - r.left();
                self.at += n;
                Some(Ok((t, &rest[..n])))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// One thread record, not necessarily the last of what `r` holds.
fn read_thread_rec<'a>(r: &mut Reader<'a>) -> Result<ThreadImg<'a>, WireError> {
    let mig = r.u64()?;
    let tid = r.u32()?;
    if tid == 0 || tid >= PID_LIMIT {
        return Err(WireError::BadField);
    }
    let (gregs, xkind, xstate) = read_regs(r)?;
    let sigs = read_sigs(r)?;
    let task = read_task(r)?;
    Ok(ThreadImg {
        mig,
        tid,
        gregs,
        xkind,
        xstate,
        sigs,
        task,
    })
}

/// Encodes one open file into `out` (`FD_LEN` bytes).
pub fn write_fd(f: &Fd, out: &mut [u8]) -> Result<(), WireError> {
    let mut w = Writer::new(out);
    w.i32(f.fd)?;
    w.u32(f.f_flags)?;
    w.u32(u32::from(f.cloexec))?;
    w.i32(f.home_fd)?;
    w.u32(f.node_dev)?;
    w.u64(f.sigmask)
}

/// Decodes one open file.
pub fn read_fd(p: &[u8]) -> Result<Fd, WireError> {
    let mut r = Reader::new(p);
    let fd = r.i32()?;
    let f_flags = r.u32()?;
    let cloexec = r.u32()?;
    let home_fd = r.i32()?;
    let node_dev = r.u32()?;
    let sigmask = r.u64()?;
    r.end()?;
    // (A watch's events and data are any epoll_ctl(2) took.)
    let watch = node_dev == EPOLL_WATCH;
    let area = node_dev == UFFD_AREA || node_dev == UFFD_WP;
    let modes = UFFD_MODE_MISSING | UFFD_MODE_WP;
    let mode_ok = if node_dev == UFFD_AREA {
        home_fd > 0 && home_fd as u32 & !modes == 0
    } else {
        home_fd == 0
    };
    let made = node_dev == SIGNALFD || node_dev == USERFAULTFD;
    let end = sigmask.checked_add(u64::from(f_flags) * super::PAGE as u64);
    if !(0..65536).contains(&fd)
        || !(0..65536).contains(&home_fd)
        || (!watch && !area && f_flags & !FD_FLAGS_OK != 0)
        || cloexec > u32::from(!watch && !area)
        || (node_dev != 0
            && !made
            && !watch
            && !area
            && super::super::mig_policy::node_device(node_dev).is_none())
        || (!made && !watch && !area && sigmask != 0)
        || (node_dev == USERFAULTFD
            && sigmask & !(UFFD_FEATURES | UFFD_USER_MODE_ONLY | UFFD_API_DONE) != 0)
        || (area
            && (!mode_ok
                || f_flags == 0
                || sigmask % super::PAGE as u64 != 0
                || end.is_none_or(|e| e > USER_ADDR_END)))
    {
        return Err(WireError::BadField);
    }
    Ok(Fd {
        fd,
        f_flags,
        cloexec: cloexec == 1,
        home_fd,
        node_dev,
        sigmask,
    })
}

/// A `Signal` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    /// Signal number, 1..=64.
    pub sig: u32,
    /// si_code (SI_USER 0, or SI_KERNEL).
    pub code: i32,
    /// Sender's pid.
    pub from_pid: u32,
    /// Sender's uid.
    pub from_uid: u32,
    /// The deputy that forwards it.
    pub deputy: u64,
    /// Its number from that deputy (from 1): a repeated one is delivered once.
    pub seq: u32,
    /// [`sig_flags`].
    pub flags: u32,
}

/// Flags of a forwarded `Signal`.
pub mod sig_flags {
    /// Job control applies: home's process group of the process is not
    /// orphaned, so a stop signal whose action is the default stops it
    /// (SIGTSTP, SIGTTIN, SIGTTOU are discarded in an orphaned group, as
    /// the process's group where it runs, never the shell's, would be).
    pub const JOB_STOP: u32 = 1;
    /// Every flag.
    pub const ALL: u32 = JOB_STOP;
    /// SIGSTOP: it stops whatever the process group.
    const SIGSTOP: u32 = 19;

    /// The flags signal `sig` is forwarded with: [`JOB_STOP`] for SIGSTOP,
    /// and for SIGTSTP, SIGTTIN and SIGTTOU unless home's process group
    /// is `orphaned` (asked only for those).
    pub fn for_signal(sig: u32, orphaned: impl FnOnce() -> bool) -> u32 {
        let stop = super::super::sysfwd::JOB_STOP_SIGNALS.contains(&u64::from(sig));
        if stop && (sig == SIGSTOP || !orphaned()) {
            JOB_STOP
        } else {
            0
        }
    }
}

/// The length of a `Signal` body.
pub const SIGNAL_LEN: usize = 32;

/// Writes a `Signal` body.
pub fn write_signal(w: &mut Writer<'_>, s: &Signal) -> Result<(), WireError> {
    w.u32(s.sig)?;
    w.i32(s.code)?;
    w.u32(s.from_pid)?;
    w.u32(s.from_uid)?;
    w.u64(s.deputy)?;
    w.u32(s.seq)?;
    w.u32(s.flags)
}

/// Reads a `Signal` body.
pub fn read_signal(r: &mut Reader<'_>) -> Result<Signal, WireError> {
    let s = Signal {
        sig: r.u32()?,
        code: r.i32()?,
        from_pid: r.u32()?,
        from_uid: r.u32()?,
        deputy: r.u64()?,
        seq: r.u32()?,
        flags: r.u32()?,
    };
    r.end()?;
    if !(1..=64).contains(&s.sig) || s.flags & !sig_flags::ALL != 0 {
        return Err(WireError::BadField);
    }
    Ok(s)
}
