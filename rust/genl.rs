// SPDX-License-Identifier: GPL-2.0

//! The generic netlink family `vproc` (rust/genl.c): the safe side.
//!
//! [`NetlinkApi`] is what the family's commands ask; [`GenlReg`] keeps an
//! implementation registered (the family exists while it lives). Records
//! cross as the plain C structs of shim.h, built with [`proc_record`] and
//! friends. [`event`] multicasts one event to the `events` group.

use super::shim;
use core::ffi::CStr;
use kernel::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void};
use kernel::{prelude::*, sync::Arc};

/// An error for the caller: an errno and, if useful, a message for the
/// extended ack (static: netlink keeps the pointer).
pub(crate) struct ApiError {
    pub(crate) err: Error,
    pub(crate) msg: Option<&'static CStr>,
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self { err, msg: None }
    }
}

/// `err` with extended-ack message `msg`.
pub(crate) fn fail(err: Error, msg: &'static CStr) -> ApiError {
    ApiError {
        err,
        msg: Some(msg),
    }
}

/// Result of a command.
pub(crate) type ApiResult<T = ()> = core::result::Result<T, ApiError>;

/// A process record (`proc` attribute set).
pub(crate) type ProcRecord = shim::vproc_nl_proc;
/// A node record (`node` attribute set).
pub(crate) type NodeRecord = shim::vproc_nl_node;
/// An event record (`event` attribute set).
pub(crate) type EventRecord = shim::vproc_nl_event;

/// Where `migrate` sends a process (`enum vproc_migrate_to`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MigrateTo {
    /// This node.
    Node(u8),
    /// Its home node.
    Home,
    /// The load leveller's choice.
    Balance,
}

/// The commands of the family. Each runs in the calling process's context
/// and may sleep; the policies of netlink/vproc.yaml were checked.
pub(crate) trait NetlinkApi: Send + Sync + 'static {
    /// `where`.
    fn where_pid(&self, pid: u32) -> ApiResult<ProcRecord>;
    /// `migrate`: returns once the process runs there.
    fn migrate(&self, pid: u32, to: MigrateTo) -> ApiResult;
    /// `set-loadlevel` (`lock` false) and `set-lock` (`lock` true).
    fn set_switch(&self, pid: u32, lock: bool, value: bool) -> ApiResult;
    /// `set-node-loadlevel`.
    fn set_node_loadlevel(&self, value: bool) -> ApiResult;
    /// `procs` dump: records with PID >= `from`, ascending, at most
    /// `out.len()`; returns how many.
    fn procs(&self, from: u32, out: &mut [ProcRecord]) -> Result<usize>;
    /// `nodes` dump, as `procs` (key: node number).
    fn nodes(&self, from: u32, out: &mut [NodeRecord]) -> Result<usize>;
    /// `events` dump, as `procs` (key: sequence number).
    fn events(&self, from: u64, out: &mut [EventRecord]) -> Result<usize>;
}

/// Copies `s` into a fixed C char array, cut to fit, NUL-padded.
pub(crate) fn set_str<const N: usize>(dst: &mut [c_char; N], s: &[u8]) {
    *dst = [0; N];
    for (d, &b) in dst.iter_mut().zip(s.iter().take(N.saturating_sub(1))) {
        *d = b;
    }
}

fn result_code(r: ApiResult, msg: *mut *const c_char) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            if let Some(m) = e.msg {
                // SAFETY: `msg` is valid for writes (the shim's contract).
                unsafe { *msg = m.as_char_ptr() };
            }
            answered(e.err).to_errno()
        }
    }
}

/// The errno a command returns so that its caller gets an answer:
/// netlink_rcv_skb() sends none for -EINTR (its "a dump started" code),
/// and the caller would wait in recv() for ever. An interrupted wait (or
/// an EINTR relayed from another node) becomes ECANCELED, and
/// -ERESTARTSYS, never meant for user space, too.
fn answered(e: Error) -> Error {
    if e == EINTR || e == ERESTARTSYS {
        pr_info_ratelimited!(
            "netlink: a command was interrupted (error {}): answered ECANCELED\n",
            e.to_errno()
        );
        ECANCELED
    } else {
        e
    }
}

/// # Safety
///
/// The shim calls these with the data of a live [`GenlReg`] of `T` and
/// valid out pointers.
unsafe extern "C" fn where_tramp<T: NetlinkApi>(
    data: *mut c_void,
    pid: c_uint,
    out: *mut ProcRecord,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    let r = me.where_pid(pid).map(|p| {
        // SAFETY: per this function's contract.
        unsafe { *out = p };
    });
    result_code(r, msg)
}

/// # Safety
///
/// As [`where_tramp`].
unsafe extern "C" fn migrate_tramp<T: NetlinkApi>(
    data: *mut c_void,
    pid: c_uint,
    to: c_uint,
    node: c_uint,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    let to = match to {
        shim::vproc_migrate_to_VPROC_MIGRATE_TO_NODE => match u8::try_from(node) {
            Ok(n) => MigrateTo::Node(n),
            Err(_) => return EINVAL.to_errno(),
        },
        shim::vproc_migrate_to_VPROC_MIGRATE_TO_HOME => MigrateTo::Home,
        shim::vproc_migrate_to_VPROC_MIGRATE_TO_BALANCE => MigrateTo::Balance,
        // The policy allows no other value.
        _ => return EINVAL.to_errno(),
    };
    result_code(me.migrate(pid, to), msg)
}

/// # Safety
///
/// As [`where_tramp`].
unsafe extern "C" fn switch_tramp<T: NetlinkApi>(
    data: *mut c_void,
    pid: c_uint,
    lock: c_int,
    value: c_int,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    result_code(me.set_switch(pid, lock != 0, value != 0), msg)
}

/// # Safety
///
/// As [`where_tramp`].
unsafe extern "C" fn node_ll_tramp<T: NetlinkApi>(
    data: *mut c_void,
    value: c_int,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: per this function's contract.
    let me = unsafe { &*data.cast::<T>() };
    result_code(me.set_node_loadlevel(value != 0), msg)
}

fn count(r: Result<usize>) -> c_int {
    match r {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// As [`where_tramp`]; `out` holds `max` records.
unsafe extern "C" fn procs_tramp<T: NetlinkApi>(
    data: *mut c_void,
    from: c_uint,
    out: *mut ProcRecord,
    max: c_uint,
) -> c_int {
    // SAFETY: per this function's contract.
    let (me, out) = unsafe {
        (
            &*data.cast::<T>(),
            core::slice::from_raw_parts_mut(out, max as usize),
        )
    };
    count(me.procs(from, out))
}

/// # Safety
///
/// As [`procs_tramp`].
unsafe extern "C" fn nodes_tramp<T: NetlinkApi>(
    data: *mut c_void,
    from: c_uint,
    out: *mut NodeRecord,
    max: c_uint,
) -> c_int {
    // SAFETY: per this function's contract.
    let (me, out) = unsafe {
        (
            &*data.cast::<T>(),
            core::slice::from_raw_parts_mut(out, max as usize),
        )
    };
    count(me.nodes(from, out))
}

/// # Safety
///
/// As [`procs_tramp`].
unsafe extern "C" fn events_tramp<T: NetlinkApi>(
    data: *mut c_void,
    from: c_ulonglong,
    out: *mut EventRecord,
    max: c_uint,
) -> c_int {
    // SAFETY: per this function's contract.
    let (me, out) = unsafe {
        (
            &*data.cast::<T>(),
            core::slice::from_raw_parts_mut(out, max as usize),
        )
    };
    count(me.events(from, out))
}

/// The family, registered while this lives.
pub(crate) struct GenlReg {
    _ops: KBox<shim::vproc_nl_ops>,
    _data: Arc<dyn Send + Sync>,
}

impl GenlReg {
    /// Registers the family, served by `data`.
    pub(crate) fn new<T: NetlinkApi>(data: Arc<T>) -> Result<Self> {
        let ops = KBox::new(
            shim::vproc_nl_ops {
                where_: Some(where_tramp::<T>),
                migrate: Some(migrate_tramp::<T>),
                set_switch: Some(switch_tramp::<T>),
                set_node_loadlevel: Some(node_ll_tramp::<T>),
                procs: Some(procs_tramp::<T>),
                nodes: Some(nodes_tramp::<T>),
                events: Some(events_tramp::<T>),
            },
            GFP_KERNEL,
        )?;
        let raw: *const T = &*data;
        // SAFETY: `ops` and `data` live in the returned value until
        // unregistered; the trampolines match `T`.
        let ret = unsafe { shim::vproc_shim_genl_register(&*ops, raw.cast_mut().cast()) };
        if ret < 0 {
            pr_err!(
                "cannot register the generic netlink family (error {})\n",
                ret
            );
            return Err(Error::from_errno(ret));
        }
        Ok(Self {
            _ops: ops,
            _data: data,
        })
    }
}

impl Drop for GenlReg {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; waits for running commands.
        unsafe { shim::vproc_shim_genl_unregister() };
    }
}

/// Multicasts an event to the `events` group (if the family is registered
/// and someone listens). Any context; never sleeps.
pub(crate) fn event(e: &EventRecord) {
    // SAFETY: `e` is valid; the shim checks registration under RCU.
    unsafe { shim::vproc_shim_genl_event(e) };
}
