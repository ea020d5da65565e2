// SPDX-License-Identifier: GPL-2.0

//! Live migration: `echo N > /proc/<pid>/goto` moves a running process to
//! node N, and the home-node model keeps it working there.
//!
//! Roles, per process:
//! - **source**: the node the process runs on. A task work runs in the
//!   process's own context (`freeze::GotoReq`): it captures the task image,
//!   memory areas, registers, open files and pending signals, streams the
//!   pages (`Data`, flow-controlled), and commits. Until the destination
//!   has committed, nothing changed here: any failure resumes the process
//!   where it was and the `goto` write fails with the errno.
//! - **destination**: a fresh process with the same PID (the restorer stub
//!   `vproc-restore`, started as a user-mode helper, clone3()s it with
//!   `set_tid` and places the vdso where the process had it; then it writes
//!   to `/proc/cluster/admin/restore` and the module rebuilds the process in
//!   that task's own context (`restore::Restore`). When the process comes back
//!   home, its deputy is the destination and rebuilds itself.
//! - **home** (the node the process was born on): once the process left,
//!   the original task stays as its **deputy** ([`Migrator::deputy_loop`]):
//!   it keeps the PID, the parent relation and the open files; it forwards
//!   every signal it gets to the process, serves the process's file
//!   operations (its fds became proxies), and ends with the process's exit
//!   code so that the parent's wait() sees it.
//!
//! Must not touch: sockets (the transport carries everything), /proc
//! (procfs and the vproc table ask).
//!
//! Files, one per role: [`source`] (goto, Begin, pre-copy), [`rounds`]
//! (pre-copy rounds that send again what the process wrote), [`freeze`]
//! (the freeze in the process's context: layout, changed pages, Commit,
//! Go), [`restore`] (the destination: Begin, the restorer, rebuilding the
//! process), [`deputy`] (the home side of a process that runs elsewhere),
//! [`leave`] (a node handing back what depends on it before unload),
//! [`proxy`] (the running side of its files and signals), [`control`]
//! (goto and switches asked from another node, checked there), and
//! [`reporter`] (the thread that reports exits home and runs forwarded
//! requests). This file holds the state they share and the plumbing:
//! messages, requests, responses, and dispatch; submodules name what they
//! use of it (no glob imports). `goto -1` asks [`crate::view`], not the
//! leveller: the leveller uses this layer, never the other way round.

mod control;
mod custody;
mod deputy;
mod freeze;
mod lazy;
mod leave;
mod nowait;
mod proxy;
mod reporter;
mod restore;
mod rounds;
mod sigwatch;
mod source;
mod sysfwd;
mod threads;

pub(crate) use lazy::LazyPusher;
pub(crate) use reporter::{Controller, Mover, Reporter};
pub(crate) use source::Asker;

use crate::events::Events;
use crate::logic::arrival::{self, Action, Event, Phase};
use crate::logic::custody::{Body as BodyCustody, Deputy as DeputyCustody, ExitReport};
use crate::logic::errno::Errno;
use crate::logic::mig::{self, Kind, MigHeader, Reader, Writer};
use crate::logic::wire::{MsgType, WireError};
use crate::sys::migrate::{self as sm};
use crate::transport::{MigService, Transport};
use crate::vproc::VprocTable;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::{
    new_condvar, new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, CondVar, Mutex, SpinLock},
    time::msecs_to_jiffies,
};

/// The nice value a move's kernel work runs at (pre-copy in the mover,
/// the freeze in the process; see `sm::Boost`): a node that sheds load is
/// busy, and the move is what relieves it. Only for the moves of the
/// leveller and of the node itself (leaving), and for a caller with
/// CAP_SYS_NICE: a plain user's move runs at the nice values it has.
const MIGRATE_NICE: i32 = -10;
/// The restorer stub (tools/src/bin/vproc-restore.rs).
const RESTORER: &CStr = c"/usr/bin/vproc-restore";
/// How long the source waits for the destination to be ready for pages.
const BEGIN_TIMEOUT_MS: u32 = 20_000;
/// How long the source waits for the destination to commit.
const COMMIT_TIMEOUT_MS: u32 = 30_000;
/// How long a home node waits for a process's node to move it on.
const GOTO_TIMEOUT_MS: u32 = 300_000;
/// How long setting a switch of a process on another node may take.
const SWITCH_TIMEOUT_MS: u32 = 10_000;
/// Silence after which a destination gives a migration up.
const IDLE_TIMEOUT_NS: u64 = 30_000_000_000;
/// Every this many `Data` messages, the source waits until the destination
/// has consumed them (bounds what the destination queues).
const DATA_WINDOW: u32 = 256;
/// The most exit reports waiting for home's acknowledgement, moves
/// remembered (for `Check`), and migrations remembered as started (for a
/// repeated Go): each a bounded list; what does not fit is counted.
const MAX_PENDING_EXITS: usize = 1024;
const MAX_MOVED: usize = 256;
const MAX_STARTED: usize = 256;
/// The most signals a deputy holds for its process while they cannot be
/// forwarded (one per number is enough: a signal is pending or not).
const MAX_SIGS_PENDING: usize = 64;
/// The most control requests waiting for the control worker.
const MAX_CONTROLS: usize = 64;
/// The most forwarded moves waiting for the mover (one process moves at a
/// time, a node rarely has more than a few asked at once).
const MAX_MOVES: usize = 16;
/// The most file operations queued for one deputy (one process has one
/// at a time; repeats after a broken link add a few).
const MAX_IOS: usize = 16;
/// The most migrations arriving at once.
const MAX_INCOMING: usize = 32;
const NSEC_PER_MSEC: u64 = 1_000_000;
const SIGKILL: u32 = 9;

/// A message of the migration protocol, queued for the task it concerns.
struct Msg {
    from: u8,
    req: u64,
    kind: Kind,
    body: KVVec<u8>,
    /// When it arrived (`now_ns`).
    at_ns: u64,
}

/// A migration arriving here.
struct Incoming {
    mig: u64,
    from: u8,
    pid: u32,
    /// The `Begin` request, answered once the destination mapped memory.
    begin_req: u64,
    /// The `Begin` body (task image and areas); taken by the restorer.
    begin: KVVec<u8>,
    msgs: KVec<Msg>,
    /// Where it is (`logic::arrival`: every decision is `arrival::step`).
    phase: Phase,
    /// Sent by the load leveller.
    auto: bool,
    last_ns: u64,
    /// The source's connection when Begin came (`Transport::link`): once
    /// it is down or replaced, an Abort may have been lost with it.
    link: Option<u64>,
    /// The process's deputy's id (from Begin).
    deputy: u64,
    /// Its threads but the leader (from Begin): the restorer makes them.
    tids: KVec<u32>,
    /// Its home node (from Begin).
    home: u8,
    /// Its user namespace (from Begin; None: the initial one): the
    /// restorer makes one like it here ...
    userns_want: Option<KVVec<u8>>,
    /// ... in namespaces made here before for processes of the same ones
    /// at home (the address of the deepest it shares, and its level): the
    /// restorer was told so, and what it made is checked against it ...
    userns_base: Option<(u64, usize)>,
    /// ... and hands it over ("MIG userns FD"); the process and its
    /// threads are restored in it.
    userns: Option<sm::UserNs>,
}

impl Incoming {
    /// Feeds `e` to its state machine; what to do.
    fn step(&mut self, e: Event) -> Action {
        let (p, a) = arrival::step(self.phase, e);
        self.phase = p;
        a
    }
}

/// The proxied calls one deputy task serves (a process's deputy, or
/// one of its thread deputies).
struct IoSlot {
    ios: KVec<Msg>,
    /// The reply to the last call it served (a repeat of it after a lost
    /// reply gets this, and is not done twice).
    last_io: Option<IoReply>,
    /// It is inside a call (which may block: a terminal read waits for a
    /// person), its request's sequence number (0: one that is not
    /// repeated). Its end interrupts it; so does a signal that reaches
    /// the process meanwhile (`io_op::INTR`).
    serving: Option<u32>,
}

impl IoSlot {
    const fn new() -> Self {
        Self {
            ios: KVec::new(),
            last_io: None,
            serving: None,
        }
    }

    /// The oldest call queued, taken.
    fn take_next(&mut self) -> Option<Msg> {
        if self.ios.is_empty() {
            None
        } else {
            self.ios.remove(0).ok()
        }
    }
}

/// A thread of a process of this node that runs elsewhere now: its task
/// here keeps the TID and serves the calls that thread makes at home, so
/// that one thread's call that waits (a read of a pipe) never holds up
/// another's (src/migrate/threads.rs).
struct ThreadDeputy {
    tid: u32,
    /// Its process (the PID of the process's deputy).
    pid: u32,
    /// The process's deputy's id.
    id: u64,
    io: IoSlot,
    /// The process ended, or its deputy did: this task ends.
    end: bool,
    /// The wait(2) status it ends with: the process's, when the process
    /// ended (the last thread of a group to exit gives the group its
    /// status, and a thread deputy may end after the process's deputy).
    code: i32,
}

/// A thread in a move (src/migrate/threads.rs): at the source, stopped
/// with its image taken, waiting for the outcome; at the destination,
/// its task (made by the restorer, or a thread deputy coming home) and
/// the image it is to become.
struct ThreadSlot {
    mig: u64,
    tid: u32,
    /// Its `Thread` body (mig::write_thread).
    img: Option<KVec<u8>>,
    phase: ThreadPhase,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ThreadPhase {
    /// Source: stopped, its image taken (or its capture failed).
    Parked,
    CaptureFailed(i32),
    /// Source: the outcome: run on here, be the thread's deputy here, or
    /// end (the process runs elsewhere, and this is not its home).
    Resume,
    BeDeputy,
    End,
    /// Destination: its image came, its task has not attached yet.
    Unattached,
    /// Destination: its task waits for its image.
    Attached,
    /// Destination: the image is there to be applied, applied, or
    /// could not be (an errno).
    Apply,
    Applied,
    ApplyFailed(i32),
    /// Destination: Go came: it runs; or the move failed: it ends.
    Run,
    Abort,
}

/// A process of this node that runs elsewhere now.
struct Deputy {
    pid: u32,
    /// Its id (random): requests of proxies of another deputy of the same
    /// PID, an earlier or a later one, get EBADF.
    id: u64,
    io: IoSlot,
    exit: Option<i32>,
    /// A migration bringing the process back home.
    home_mig: Option<u64>,
    /// When it ends, and where the process runs (`logic::custody`).
    custody: DeputyCustody,
    /// Signals to forward, in order, each until acknowledged (bounded).
    sigs: KVec<mig::Signal>,
    /// The last signal number given.
    next_sig: u32,
    /// Killed at home: the number of the SIGKILL the reporter delivers.
    killing: Option<u32>,
    /// That SIGKILL was acknowledged where the process runs.
    kill_delivered: bool,
    /// Made by this process's deputy for a fork where it runs (its
    /// parent's PID), until the child runs there: it may be undone.
    fork_of: u32,
    /// Its thread deputies inside a call (each call's buffers are mapped
    /// in the memory they share with it: see `Migrator::mm_close`).
    mm_users: u32,
    /// Its memory is being remapped for its process coming home: its
    /// thread deputies start no call.
    mm_closed: bool,
}

/// A deputy's reply to a file operation, kept for a repeat.
struct IoReply {
    seq: u32,
    value: i64,
    data: KVVec<u8>,
    /// When it was kept (`now_ns`): a read's data (up to READ_MAX) is let
    /// go once no repeat can come any more (see `REPLY_KEEP_NS`).
    at_ns: u64,
}

/// An exit of a moved process that home has not acknowledged yet.
struct PendingExit {
    pid: u32,
    home: u8,
    deputy: u64,
    code: i32,
    report: ExitReport,
}

/// A moved process that left this node for `dest` (for `Check`).
#[derive(Clone, Copy)]
struct MovedRec {
    pid: u32,
    deputy: u64,
    dest: u8,
    at_ns: u64,
}

/// A migration whose copy started running here (a repeated Go is
/// answered "runs" after the restore is forgotten).
#[derive(Clone, Copy)]
struct Started {
    mig: u64,
    from: u8,
    at_ns: u64,
}

type StateGuard<'a> = kernel::sync::lock::Guard<'a, State, kernel::sync::lock::mutex::MutexBackend>;

struct State {
    incoming: KVec<Incoming>,
    deputies: KVec<Deputy>,
    /// Processes being sent away from here.
    busy: KVec<u32>,
    /// Exits waiting for home's acknowledgement (bounded).
    exits: KVec<PendingExit>,
    /// Migrations started here lately (bounded).
    started: KVec<Started>,
    /// Threads of processes in a move (bounded by the moves' threads).
    tslots: KVec<ThreadSlot>,
    /// Freezes stopping threads now: (its first migration id, the
    /// migration it is now). A thread whose stop comes after its freeze
    /// gave up runs on (src/migrate/threads.rs).
    parking: KVec<(u64, u64)>,
    /// Thread deputies.
    tdeps: KVec<ThreadDeputy>,
    /// Post-copies from here (src/migrate/lazy.rs), after Go.
    lazy_out: KVec<lazy::LazyOut>,
    /// Post-copies to here: the restorer's userfaultfd, then the pages.
    lazy_in: KVec<lazy::LazyIn>,
    /// User namespaces made here for processes that moved here, one per
    /// namespace they came from (`Migrator::restore_userns`).
    made_userns: KVec<MadeUserNs>,
}

/// A user namespace made here for processes of namespace `origin` of
/// node `home`, like `chain`: every process of it that moves here is
/// restored in this one, as they shared theirs, and one of a namespace
/// below it at home is made below it (or one of those above it).
struct MadeUserNs {
    home: u8,
    /// Where it comes from (an origin whose processes all ended here may
    /// name another namespace at home later: it is then made anew) ...
    origin: u64,
    /// ... and what it is (the checked `mig::UserNsChain` text Begin
    /// brought, with every level's origin: sent on with its processes).
    chain: KVVec<u8>,
    ns: sm::UserNs,
}

impl State {
    /// The calls served by deputy task `key` (a process's PID or a
    /// thread deputy's TID).
    fn io_slot(&mut self, key: u32) -> Option<&mut IoSlot> {
        if let Some(d) = self.deputies.iter_mut().find(|d| d.pid == key) {
            return Some(&mut d.io);
        }
        self.tdeps
            .iter_mut()
            .find(|t| t.tid == key)
            .map(|t| &mut t.io)
    }
}

/// A migrated process running here (not at home).
#[derive(Clone, Copy)]
struct BodyRec {
    pid: u32,
    home: u8,
    /// Its deputy's id (its proxies carry it).
    deputy: u64,
    /// Moving on: its exit and its files' closing are not the process's.
    retiring: bool,
    /// Where it is moving to (while `retiring`).
    dest: u8,
    /// Go arrived: it runs here. Before that (filed at Commit, so that an
    /// exit is never missed) custody leaves it alone: home may not have
    /// made its deputy yet (a move from home makes it after the Commit
    /// answer), and a check then would be answered Unknown and fence a
    /// process that never ran here.
    running: bool,
    /// Whether it may run on (`logic::custody`).
    custody: BodyCustody,
    /// The last request number its proxies used.
    io_seq: u32,
    /// The last signal number from its deputy delivered here.
    sig_seq: u32,
    /// The answer to that signal (the stop signal it stopped the process
    /// with, or 0), for a repeat of it.
    sig_answer: i64,
    /// What its deputy last heard of its job state: stopped (by this
    /// signal) or running (0). A stop or continue met here that home has
    /// not heard of is reported ([`Migrator::job_round`]).
    job_told: u32,
    /// The name its deputy last heard of (`io_op::COMM`): an exec here, or
    /// `prctl(PR_SET_NAME)`, changes it, and home's `ps` shows the deputy.
    comm_told: [u8; mig::COMM_LEN],
    /// The programs it had executed (`self_exec_id`) plus one when its
    /// deputy last heard of its command line (`io_op::CMDLINE`; 0:
    /// never), and that line's `mig::cmdline_sum` (0: not looked at
    /// here yet): an exec here, or a title it sets, changes them, and
    /// home's `ps aux` shows the deputy's.
    cmd_told: (u64, u64),
    /// Its switches as its deputy last heard of them
    /// (`io_op::SWITCHES`' bits; those it arrived with at first).
    switches_told: i64,
    /// A call that must run at home sent it home (an execve() of a
    /// program this node does not have the same of, a fork): the call
    /// runs again there. Met again here, that move failed: the call runs
    /// here.
    exec_home: bool,
    /// Its namespaces at home that decide calls made here
    /// (`Begin::home_ns`): with its mount namespace its `execve` runs at
    /// home, never here; with its IPC namespace its SysV shared memory
    /// and POSIX message queue calls do.
    home_ns: u8,
    /// How many `READY` notices its deputy sent: a thread that found a
    /// file at home not ready waits here for this to pass what it was
    /// before its request ([`Migrator::wait_ready`]).
    ready_gen: u32,
    /// The address of the user namespace made here for it (0: none, it
    /// is in the initial one): its calls at home carry the credentials of
    /// that one alone (`sm::current_creds`), never of one it made here.
    /// Only compared: the process's credentials keep it alive, as does
    /// any namespace below it the process could be in.
    userns: u64,
    /// Its PID namespace's keys (`mig::BeginText::pidns`), a level each,
    /// outermost first, 0 after the last (all 0: the initial one): it
    /// runs in the namespaces made here for those keys, and its calls
    /// that name other processes, its forks and new threads are made at
    /// home.
    pidns: [u32; mig::PIDNS_LEVELS],
}

impl BodyRec {
    /// Process `pid` of `home` (its deputy `deputy`) filed here, not yet
    /// running, its requests numbered from `io_seq`.
    fn new(pid: u32, home: u8, deputy: u64, io_seq: u32) -> Self {
        Self {
            pid,
            home,
            deputy,
            retiring: false,
            dest: 0,
            running: false,
            custody: BodyCustody::new(),
            io_seq,
            sig_seq: 0,
            sig_answer: 0,
            job_told: 0,
            comm_told: [0; mig::COMM_LEN],
            cmd_told: (0, 0),
            switches_told: 0,
            ready_gen: 0,
            exec_home: false,
            home_ns: 0,
            userns: 0,
            pidns: [0; mig::PIDNS_LEVELS],
        }
    }
}

/// Exits of bodies (pid, home, deputy id, status), for the home nodes
/// (filled in atomic context).
struct Exits {
    list: KVec<(u32, u8, u64, i32)>,
    /// Processes that moved on from here lately (bounded, for `Check`).
    moved: KVec<MovedRec>,
}

/// Requests of other nodes waiting for a worker thread, oldest first:
/// the control worker's (`Controls`, bounded by [`MAX_CONTROLS`]) and the
/// mover's (`Moves`, [`MAX_MOVES`]).
struct Queue<T> {
    list: KVec<T>,
}

/// Control requests, (from, req, pid, what).
type Controls = Queue<(u8, u64, u32, mig::Control)>;

/// Moves of local processes asked by their home nodes, (from, req, pid,
/// what), checked and run by the mover.
type Moves = Queue<(u8, u64, u32, mig::GotoReq)>;

/// A count shown in /proc/cluster/stats.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Its value.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What went wrong, counted (custody and the bounded lists); and how
/// often readiness was asked of home and waited for where processes run.
#[derive(Default)]
pub(crate) struct Counters {
    /// Go sent again (no answer).
    pub(crate) go_retries: Counter,
    /// Moves whose Go was never answered (custody decides).
    pub(crate) go_unknown: Counter,
    /// Exit reports dropped (list full, or home silent for two minutes).
    pub(crate) exits_dropped: Counter,
    /// Processes killed here because their home gave them up.
    pub(crate) fenced: Counter,
    /// Deputies that ended as killed: their process was lost.
    pub(crate) lost: Counter,
    /// Started migrations forgotten early because the list was full.
    pub(crate) started_full: Counter,
    /// Proxied file operations sent again after the link broke.
    pub(crate) io_retries: Counter,
    /// Signals forwarded again (no acknowledgement yet).
    pub(crate) signal_retries: Counter,
    /// Signals not forwarded (the deputy's list was full).
    pub(crate) signals_dropped: Counter,
    /// Control requests refused (EBUSY: the worker's list was full).
    pub(crate) controls_refused: Counter,
    /// Forwarded moves refused (EBUSY: the mover's list was full).
    pub(crate) moves_refused: Counter,
    /// File operations refused (EBUSY: the deputy's list was full).
    pub(crate) ios_refused: Counter,
    /// Arriving migrations refused (EBUSY: too many at once).
    pub(crate) incoming_refused: Counter,
    /// Home: requests of moved processes' proxies and calls served (each
    /// a round trip: a read, a write, a call made at home...).
    pub(crate) io_served: Counter,
    /// Home: readiness requests of proxies served (poll, select, epoll
    /// where the process runs).
    pub(crate) polls_served: Counter,
    /// Home: `READY` notices sent (a watched file may be ready).
    pub(crate) ready_sent: Counter,
    /// Where processes run: waits made here because a file at home was
    /// not ready (src/migrate/nowait.rs).
    pub(crate) waits_here: Counter,
    /// Where processes run: children moved processes forked here (their
    /// deputies at home).
    pub(crate) forks_here: Counter,
}

/// What `/proc/cluster/custody` shows: the counters and the lists now.
pub(crate) struct CustodyStats<'a> {
    /// The counters.
    pub(crate) counters: &'a Counters,
    /// Processes that run here and belong elsewhere.
    pub(crate) bodies: usize,
    /// Deputies here of processes that run elsewhere.
    pub(crate) deputies: usize,
    /// Exit reports not yet acknowledged.
    pub(crate) exits_pending: usize,
    /// Moves on from here remembered.
    pub(crate) moved: usize,
    /// Migrations started here remembered.
    pub(crate) started: usize,
    /// Thread deputies here.
    pub(crate) thread_deputies: usize,
    /// Threads in a move here (stopped, or arriving).
    pub(crate) threads_moving: usize,
    /// Migrations arriving here (Begin seen, not yet running or given up).
    pub(crate) arriving: usize,
    /// Processes of this node moving away now.
    pub(crate) moving: usize,
    /// Home's watches of files its moved threads wait on, armed now.
    pub(crate) watches: u32,
}

/// Where this load's migration numbers start: random (48 bits), so that
/// a node whose module was loaded again never reuses a number its peers
/// still remember from the last load (an arrival, or a Go answered
/// "started" for 60 s): its new move would be taken for the old one.
fn first_mig() -> u64 {
    let mut b = [0u8; 8];
    crate::sys::crypto::random(&mut b);
    (u64::from_le_bytes(b) & ((1 << 48) - 1)).max(1)
}

/// The migration layer of one node.
#[pin_data]
pub(crate) struct Migrator {
    me: u8,
    transport: Arc<Transport>,
    table: Arc<VprocTable>,
    events: Arc<Events>,
    next_mig: AtomicU64,
    /// This node is leaving the cluster (`admin/leave`): nothing new
    /// moves here, nothing of its own moves away ([`leave`]).
    leaving: AtomicBool,
    /// The module is being unloaded: post-copies being served here end
    /// (their processes cannot get their pages any more).
    unloading: AtomicBool,
    /// What went wrong, counted.
    pub(crate) counters: Counters,
    #[pin]
    state: Mutex<State>,
    #[pin]
    cv: CondVar,
    /// Signalled (with `state`) when a post-copy is armed, its helper
    /// attaches, or an arrival's userfaultfd or pages go: what the helper,
    /// the process at Commit and a move waiting for pages wait for, apart
    /// from `cv`'s every arriving message.
    #[pin]
    lazy_cv: CondVar,
    #[pin]
    bodies: SpinLock<KVec<BodyRec>>,
    #[pin]
    exits: SpinLock<Exits>,
    #[pin]
    exits_cv: CondVar,
    /// Signalled when a body's `ready_gen` moves (or it goes).
    #[pin]
    ready_cv: CondVar,
    #[pin]
    controls: SpinLock<Controls>,
    #[pin]
    controls_cv: CondVar,
    #[pin]
    moves: SpinLock<Moves>,
    #[pin]
    moves_cv: CondVar,
    /// This migrator itself (set after creation, cleared at unload), for
    /// work started by the receiver threads.
    #[pin]
    this: SpinLock<Option<Arc<Migrator>>>,
}

/// Writes a message header plus `body` into a new payload.
/// The data bytes of a response's frames (parts and the last, see
/// `respond`), checked against what any answer may carry.
fn resp_total(frames: &[KVec<u8>]) -> Result<usize> {
    let mut total = 0usize;
    for f in frames.iter() {
        let mut r = Reader::new(f);
        let h = mig::read_header(&mut r).map_err(|_| EPROTO)?;
        if h.kind != Kind::Resp {
            return Err(EPROTO);
        }
        total += mig::read_resp(&mut r).map_err(|_| EPROTO)?.1.len();
    }
    if frames.is_empty() || total > mig::READ_MAX + mig::RESP_CHUNK {
        return Err(EPROTO);
    }
    Ok(total)
}

/// Gives each frame's data to `sink`, in order; returns the last frame's
/// value (the answer's).
fn resp_each(frames: &[KVec<u8>], sink: &mut dyn FnMut(&[u8]) -> Result) -> Result<i64> {
    let mut v = 0;
    for f in frames.iter() {
        let mut r = Reader::new(f);
        mig::read_header(&mut r).map_err(|_| EPROTO)?;
        let (value, data) = mig::read_resp(&mut r).map_err(|_| EPROTO)?;
        sink(data)?;
        v = value;
    }
    Ok(v)
}

/// An answer's value and every frame's data in order (up to READ_MAX for
/// a read: a vmalloc'd buffer, sized once).
fn resp_join(frames: &[KVec<u8>]) -> Result<(i64, KVVec<u8>)> {
    let mut d = KVVec::with_capacity(resp_total(frames)?, GFP_KERNEL)?;
    let v = resp_each(frames, &mut |data| {
        Ok(d.extend_from_slice(data, GFP_KERNEL)?)
    })?;
    Ok((v, d))
}

/// An answer's value, its data written straight into `out` (a proxied
/// read's room: no buffer between), and how many bytes that was; EIO as
/// the value when more came than `out` holds.
fn resp_into(frames: &[KVec<u8>], out: &mut [u8]) -> Result<(i64, usize)> {
    // More than asked: the answer is wrong (not a lost link: no repeat).
    if resp_total(frames)? > out.len() {
        return Ok((Errno::EIO.to_result(), 0));
    }
    let mut n = 0usize;
    let v = resp_each(frames, &mut |data| {
        let end = n + data.len();
        out.get_mut(n..end).ok_or(EPROTO)?.copy_from_slice(data);
        n = end;
        Ok(())
    })?;
    Ok((v, n))
}

fn payload(
    req: u64,
    kind: Kind,
    pid: u32,
    extra: usize,
    body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
) -> Result<KVec<u8>> {
    let mut p = KVec::new();
    p.resize(mig::HEADER_LEN + extra, 0, GFP_KERNEL)?;
    let n = {
        let mut w = Writer::new(&mut p);
        mig::write_header(&mut w, &MigHeader { req, kind, pid }).map_err(|_| EINVAL)?;
        body(&mut w).map_err(|_| EINVAL)?;
        w.len()
    };
    p.truncate(n);
    Ok(p)
}

/// The kernel error of a peer's failed result `v` (EIO when `v` is no
/// errno: never an unchecked negation).
/// A message of the migration protocol as it arrived: from which node,
/// its header, its body (what each per-kind handler takes).
#[derive(Clone, Copy)]
struct Inbound<'a> {
    from: u8,
    h: &'a MigHeader,
    body: &'a [u8],
}

/// What a handler of a peer's message returns: a malformed message drops
/// the connection.
type WireResult = core::result::Result<(), WireError>;

/// The kernel error of an errno.
fn error_of(e: Errno) -> Error {
    Error::from_errno(-i32::from(e.get()))
}

fn errno_of(v: i64) -> Error {
    error_of(Errno::of_failure(v))
}

impl Migrator {
    /// The migration layer of node `me`.
    pub(crate) fn new(
        me: u8,
        transport: Arc<Transport>,
        table: Arc<VprocTable>,
        events: Arc<Events>,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                me,
                transport,
                table,
                events,
                next_mig: AtomicU64::new(first_mig()),
                leaving: AtomicBool::new(false),
                unloading: AtomicBool::new(false),
                counters: Counters::default(),
                state <- new_mutex!(State {
                    incoming: KVec::new(),
                    deputies: KVec::new(),
                    busy: KVec::new(),
                    exits: KVec::new(),
                    started: KVec::new(),
                    tslots: KVec::new(),
                    parking: KVec::new(),
                    tdeps: KVec::new(),
                    lazy_out: KVec::new(),
                    lazy_in: KVec::new(),
                    made_userns: KVec::new(),
                }, "Migrator::state"),
                cv <- new_condvar!("Migrator::cv"),
                lazy_cv <- new_condvar!("Migrator::lazy_cv"),
                bodies <- new_spinlock!(KVec::new(), "Migrator::bodies"),
                exits <- new_spinlock!(
                    Exits { list: KVec::new(), moved: KVec::new() },
                    "Migrator::exits"
                ),
                exits_cv <- new_condvar!("Migrator::exits_cv"),
                ready_cv <- new_condvar!("Migrator::ready_cv"),
                controls <- new_spinlock!(Queue { list: KVec::new() }, "Migrator::controls"),
                controls_cv <- new_condvar!("Migrator::controls_cv"),
                moves <- new_spinlock!(Queue { list: KVec::new() }, "Migrator::moves"),
                moves_cv <- new_condvar!("Migrator::moves_cv"),
                this <- new_spinlock!(None, "Migrator::this"),
            }),
            GFP_KERNEL,
        )
        .inspect(|m| *m.this.lock() = Some(m.clone()))
    }

    /// Custody's counters and list sizes, for procfs.
    pub(crate) fn custody_stats(&self) -> CustodyStats<'_> {
        let s = self.state.lock();
        let bodies = self.bodies.lock().len();
        let (pending, moved) = {
            let e = self.exits.lock();
            (e.list.len(), e.moved.len())
        };
        CustodyStats {
            counters: &self.counters,
            bodies,
            deputies: s.deputies.len(),
            exits_pending: s.exits.len() + pending,
            moved,
            started: s.started.len(),
            thread_deputies: s.tdeps.len(),
            threads_moving: s.tslots.len(),
            arriving: s.incoming.len(),
            moving: s.busy.len(),
            watches: sm::watch_count(),
        }
    }

    fn body(&self, pid: u32) -> Option<BodyRec> {
        self.bodies.lock().iter().find(|b| b.pid == pid).copied()
    }

    /// The home of guest `pid` if this node's copy of it is an old one
    /// that moved on (retiring, or ended after its move and not yet
    /// reaped): a request about it goes home, which knows where it runs.
    pub(crate) fn moved_on(&self, pid: u32) -> Option<u8> {
        match self.body(pid) {
            Some(b) if b.retiring => return Some(b.home),
            Some(_) => return None,
            None => {}
        }
        let home = crate::logic::pid::origin(pid)?;
        let e = self.exits.lock();
        (home != self.me && e.moved.iter().any(|m| m.pid == pid)).then_some(home)
    }

    /// Whether a guest of `home` must stay where it runs: its home is
    /// another node, not up, and may already have declared it lost (its
    /// parent told 137) while the node it runs on fences it; a move would
    /// carry it out of that fence.
    fn home_unreachable(&self, home: u8) -> bool {
        home != self.me && !self.transport.is_up(home)
    }

    /// Sends a response to request `req` of node `to`.
    fn respond(&self, to: u8, req: u64, pid: u32, value: i64, data: &[u8]) {
        if req == 0 {
            return;
        }
        // Longer than a frame (a large proxied read): parts first, each
        // laid out as a response with value 0, then the response itself
        // with the rest; the asker joins their data.
        let mut rest = data;
        while rest.len() > mig::RESP_CHUNK {
            let (part, tail) = rest.split_at(mig::RESP_CHUNK);
            let p = payload(req, Kind::Resp, pid, 8 + part.len(), |w| {
                mig::write_resp(w, 0, part)
            });
            // A part that cannot go: the asker's request then fails (or
            // times out), as with a lost response.
            let sent = p.and_then(|p| self.transport.send_wait(to, MsgType::MigRespPart, p));
            if sent.is_err() {
                return;
            }
            rest = tail;
        }
        let p = payload(req, Kind::Resp, pid, 8 + rest.len(), |w| {
            mig::write_resp(w, value, rest)
        });
        if let Ok(p) = p {
            let _ = self.transport.send_wait(to, MsgType::MigResp, p);
        }
    }

    /// Sends a one-way message.
    fn send(
        &self,
        to: u8,
        kind: Kind,
        pid: u32,
        extra: usize,
        body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
    ) -> Result {
        let p = payload(0, kind, pid, extra, body)?;
        self.transport.send_wait(to, MsgType::Mig, p)
    }

    /// A request; returns the response's value (>= 0) and data.
    fn request(
        &self,
        to: u8,
        kind: Kind,
        pid: u32,
        timeout_ms: u32,
        extra: usize,
        body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
    ) -> Result<(i64, KVVec<u8>)> {
        self.request_notify(to, kind, pid, timeout_ms, extra, body, &|| {})
    }

    /// [`request`](Self::request), calling `on_signal` once if a signal
    /// reaches the caller while it waits for the answer.
    #[allow(clippy::too_many_arguments)]
    fn request_notify(
        &self,
        to: u8,
        kind: Kind,
        pid: u32,
        timeout_ms: u32,
        extra: usize,
        body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
        on_signal: &dyn Fn(),
    ) -> Result<(i64, KVVec<u8>)> {
        let frames = self.request_frames(to, kind, pid, timeout_ms, extra, body, on_signal)?;
        resp_join(&frames)
    }

    /// [`request_notify`](Self::request_notify)'s request: the answer's
    /// frames as they came (see `respond`).
    #[allow(clippy::too_many_arguments)]
    fn request_frames(
        &self,
        to: u8,
        kind: Kind,
        pid: u32,
        timeout_ms: u32,
        extra: usize,
        body: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), WireError>,
        on_signal: &dyn Fn(),
    ) -> Result<KVec<KVec<u8>>> {
        self.transport.request_notify(
            to,
            MsgType::Mig,
            timeout_ms,
            |id| payload(id, kind, pid, extra, body),
            on_signal,
        )
    }

    /// Sleeps up to `ms` on the state's condition (the lock released), and
    /// locks it again. Only a fatal signal ends a wait early (EINTR).
    fn killable_wait<'a>(&'a self, mut s: StateGuard<'a>, ms: u32) -> Result<StateGuard<'a>> {
        let _ = self
            .cv
            .wait_interruptible_timeout(&mut s, msecs_to_jiffies(ms));
        if sm::signal_pending() {
            drop(s);
            crate::sys::time::killable_pause()?;
            return Ok(self.state.lock());
        }
        Ok(s)
    }
}

impl MigService for Migrator {
    fn mig(&self, from: u8, p: &[u8]) -> core::result::Result<(), WireError> {
        let mut r = Reader::new(p);
        let h = mig::read_header(&mut r)?;
        let body = r.rest();
        let res = self.dispatch(from, &h, body);
        if let Err(e) = res {
            pr_warn!(
                "migrate: node {} sent a malformed {:?} for pid {} ({}): dropping its connection\n",
                from,
                h.kind,
                h.pid,
                e.as_str()
            );
        }
        res
    }
}

impl Migrator {
    fn dispatch(
        &self,
        from: u8,
        h: &MigHeader,
        body: &[u8],
    ) -> core::result::Result<(), WireError> {
        let h = *h;
        match h.kind {
            Kind::Begin => self.on_begin(from, h.req, h.pid, body),
            Kind::Data | Kind::Layout | Kind::Commit | Kind::Thread | Kind::Go | Kind::Abort => {
                self.queue(from, &h, body)
            }
            Kind::Moved => self.on_moved(Inbound { from, h: &h, body }),
            Kind::Exit => self.on_exit(Inbound { from, h: &h, body }),
            Kind::Signal => self.on_signal(Inbound { from, h: &h, body }),
            Kind::Io => self.on_io(Inbound { from, h: &h, body }),
            Kind::Goto => self.on_goto(Inbound { from, h: &h, body }),
            Kind::Control => self.on_control(Inbound { from, h: &h, body }),
            Kind::Check => self.on_check(Inbound { from, h: &h, body }),
            Kind::LazyData => self.on_lazy_data(from, h.pid, body),
            Kind::LazyReq => self.on_lazy_req(from, body),
            Kind::LazyDone => self.on_lazy_done(from, body),
            Kind::Resp => Err(WireError::BadField),
        }
    }
}
