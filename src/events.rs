// SPDX-License-Identifier: GPL-2.0

//! The cluster event log behind `/proc/cluster/events`.
//!
//! Owns a fixed ring of the last [`CAPACITY`] events (join, leave, down, up,
//! refused, ...), each with a sequence number and wall-clock time. Adding an
//! event never allocates and never sleeps, so it may be called from any
//! context; it also prints the event to the kernel log. Readers of the
//! /proc file keep a position (the next sequence number they want) and are
//! woken through the stream's waker when an event arrives.

use crate::logic::fmtbuf::FmtBuf;
use crate::sys::genl::{self, EventRecord};
use crate::sys::proc::{ProcFileOps, StreamWaker};
use crate::sys::time;
use core::fmt::Write;
use kernel::{new_spinlock, prelude::*, sync::Arc, sync::SpinLock};

/// Events kept for readers that come late.
pub(crate) const CAPACITY: usize = 256;

/// What happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EventKind {
    /// A node was seen up for the first time.
    Join,
    /// A node that had been down is up again.
    Up,
    /// A node stopped answering, or its connection broke.
    Down,
    /// A node left cleanly (module unload).
    Leave,
    /// A connection was refused (wrong key, node already up, ...).
    Refused,
    /// A peer was added at run time.
    Added,
    /// A peer was removed at run time.
    Removed,
    /// The cluster key was changed.
    Key,
    /// A process moved (or arrived).
    Migrate,
    /// A move failed; the process stayed where it was.
    MigrateFailed,
    /// The load leveller decided a move (and why).
    Balance,
    /// A second node claimed a node number that is up (or ours): refused.
    Duplicate,
    /// This node leaves the cluster (`admin/leave`), and how it went.
    Leaving,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Join => "join",
            EventKind::Up => "up",
            EventKind::Down => "down",
            EventKind::Leave => "leave",
            EventKind::Refused => "refused",
            EventKind::Added => "added",
            EventKind::Removed => "removed",
            EventKind::Key => "key",
            EventKind::Migrate => "migrate",
            EventKind::MigrateFailed => "migrate-failed",
            EventKind::Balance => "balance",
            EventKind::Duplicate => "duplicate",
            EventKind::Leaving => "leaving",
        }
    }
}

/// Detail text of one event.
pub(crate) type Detail = FmtBuf<120>;

#[derive(Clone, Copy)]
struct Event {
    seq: u64,
    sec: i64,
    ms: u32,
    kind: EventKind,
    node: u8,
    detail: Detail,
}

struct Ring {
    /// INVARIANT: capacity `CAPACITY` reserved at creation, so pushing
    /// never allocates; event `seq` lives at index `seq % CAPACITY`.
    events: KVec<Event>,
    next_seq: u64,
}

/// The event log.
#[pin_data]
pub(crate) struct Events {
    #[pin]
    ring: SpinLock<Ring>,
    /// Wakes the /proc stream's pollers while the file exists.
    waker: Arc<StreamWaker>,
}

impl Events {
    /// An empty log.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let mut events = KVec::new();
        events.reserve(CAPACITY, GFP_KERNEL)?;
        let waker = StreamWaker::new()?;
        Arc::pin_init(
            pin_init!(Self {
                ring <- new_spinlock!(Ring { events, next_seq: 0 }, "Events::ring"),
                waker,
            }),
            GFP_KERNEL,
        )
    }

    /// What wakes the /proc stream's pollers (handed to the file).
    pub(crate) fn waker(&self) -> Arc<StreamWaker> {
        self.waker.clone()
    }

    /// Records an event about `node` (0: no node) and logs it.
    pub(crate) fn add(&self, kind: EventKind, node: u8, detail: core::fmt::Arguments<'_>) {
        let mut d = Detail::new();
        let _ = d.write_fmt(detail);
        let (sec, ms) = time::wall();
        let text = core::str::from_utf8(d.as_bytes()).unwrap_or("?");
        pr_info!("event: {} node={} {}\n", kind.as_str(), node, text);
        let mut ring = self.ring.lock();
        let ev = Event {
            seq: ring.next_seq,
            sec,
            ms,
            kind,
            node,
            detail: d,
        };
        let slot = (ev.seq % CAPACITY as u64) as usize;
        if ring.events.len() < CAPACITY {
            // Cannot fail: capacity was reserved (type invariant).
            let _ = ring.events.push(ev, GFP_ATOMIC);
        } else {
            ring.events[slot] = ev;
        }
        ring.next_seq += 1;
        self.waker.wake();
        drop(ring);
        genl::event(&record(&ev));
    }

    /// Copies the kept events with sequence numbers >= `from` into `out`
    /// (oldest first); returns how many.
    pub(crate) fn read_from(&self, from: u64, out: &mut [EventRecord]) -> usize {
        let ring = self.ring.lock();
        let oldest = ring.next_seq.saturating_sub(ring.events.len() as u64);
        let mut seq = from.max(oldest);
        let mut n = 0;
        while seq < ring.next_seq && n < out.len() {
            out[n] = record(&ring.events[(seq % CAPACITY as u64) as usize]);
            n += 1;
            seq += 1;
        }
        n
    }
}

/// An event as the netlink API carries it.
fn record(ev: &Event) -> EventRecord {
    let mut r = EventRecord {
        seq: ev.seq,
        time_ms: (ev.sec.max(0) as u64) * 1000 + u64::from(ev.ms),
        node: u32::from(ev.node),
        ..Default::default()
    };
    genl::set_str(&mut r.kind, ev.kind.as_str().as_bytes());
    genl::set_str(&mut r.detail, ev.detail.as_bytes());
    r
}

fn render(ev: &Event, out: &mut FmtBuf<192>) {
    let _ = write!(
        out,
        "{} {}.{:03} {} node={}",
        ev.seq,
        ev.sec,
        ev.ms,
        ev.kind.as_str(),
        ev.node
    );
    if !ev.detail.as_bytes().is_empty() {
        let _ = out.write_str(" ");
        let _ = out.write_str(core::str::from_utf8(ev.detail.as_bytes()).unwrap_or("?"));
    }
    let _ = out.write_str("\n");
}

impl ProcFileOps for Events {
    fn stream_read(&self, pos: &mut u64, skip: &mut u32, buf: &mut [u8]) -> usize {
        let mut done = 0;
        let ring = self.ring.lock();
        let oldest = ring.next_seq.saturating_sub(ring.events.len() as u64);
        if *pos < oldest {
            // Those were overwritten: continue with the oldest kept.
            *pos = oldest;
            *skip = 0;
        }
        while *pos < ring.next_seq && done < buf.len() {
            let ev = &ring.events[(*pos % CAPACITY as u64) as usize];
            let mut line = FmtBuf::<192>::new();
            render(ev, &mut line);
            let rest = line.as_bytes().get(*skip as usize..).unwrap_or(&[]);
            let n = rest.len().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&rest[..n]);
            done += n;
            if n == rest.len() {
                *pos += 1;
                *skip = 0;
            } else {
                // The reader's buffer is full mid-line: go on from here.
                *skip += n as u32;
            }
        }
        done
    }

    fn stream_ready(&self, pos: u64) -> bool {
        pos < self.ring.lock().next_seq
    }
}
