//! Running a program on another node (OpenSSI's `rexec`, what `runon`
//! does): this file owns the fork / migrate / release handshake.
//!
//! The process is created here and moved before it execs: a process
//! holding a socket cannot migrate, and it must be single-threaded, so the
//! child is forked *before* any netlink socket is opened and waits,
//! single-threaded and socketless, for SIGUSR1. The parent then migrates
//! it and releases it with SIGUSR1, which reaches it on the other node.

use std::ffi::CString;
use std::io;
use std::os::raw::c_char;
use std::ptr;

use nix::errno::Errno;
use nix::sys::signal::{kill, pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};

use crate::api::Target;
use crate::nl::{Client, Error};

/// Starts `argv` (looked up in `PATH`, as execvp(3) does) on `node` and
/// returns its PID, which the caller must reap (waitpid works as usual:
/// the process stays the caller's child).
///
/// The caller must hold no socket that the child would inherit (the
/// migration refuses processes with sockets); its standard fds stay
/// usable on the other node (the kernel proxies them). If the migration
/// fails the child is killed and reaped and the error returned. If exec
/// fails on the other node, the child prints `runon: CMD: error` and
/// exits with status 127. The program starts with the caller's signal
/// mask and SIGINT/SIGQUIT dispositions, and SIGPIPE at its default (as
/// with `std::process::Command`).
pub fn rexec(node: u32, argv: &[CString]) -> Result<u32, Error> {
    if argv.is_empty() {
        return Err(Error::Io(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    // All the child needs, built now: after fork it only makes
    // async-signal-safe calls.
    let mut ptrs: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(ptr::null());
    let prefix = format!("runon: {}: ", argv[0].to_string_lossy()).into_bytes();

    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    let mut old_mask = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&usr1), Some(&mut old_mask)).map_err(io_err)?;
    // SAFETY: zeroed sigaction structs are valid; sigaction only reads
    // the current dispositions here.
    let (mut old_int, mut old_quit): (libc::sigaction, libc::sigaction) =
        unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    unsafe {
        libc::sigaction(libc::SIGINT, ptr::null(), &mut old_int);
        libc::sigaction(libc::SIGQUIT, ptr::null(), &mut old_quit);
    }

    // SAFETY: the child only makes async-signal-safe calls until it execs
    // or exits (see child()).
    let forked = unsafe { fork() };
    let child = match forked {
        Ok(ForkResult::Child) => unsafe {
            wait_and_exec(&usr1, &old_mask, &old_int, &old_quit, &ptrs, &prefix)
        },
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
            return Err(io_err(e));
        }
    };
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
    let pid = child.as_raw() as u32;

    // Only now open the socket, so that the child never has it.
    let moved = Client::connect().and_then(|mut c| c.migrate(pid, Target::Node(node)));
    if let Err(e) = moved {
        let _ = kill(child, Signal::SIGKILL);
        reap(child);
        return Err(e);
    }
    if let Err(e) = kill(child, Signal::SIGUSR1) {
        let _ = kill(child, Signal::SIGKILL);
        reap(child);
        return Err(io_err(e));
    }
    Ok(pid)
}

fn io_err(e: Errno) -> Error {
    Error::Io(e.into())
}

/// Waits for `child` to end, retrying on EINTR.
fn reap(child: Pid) {
    while let Err(Errno::EINTR) = waitpid(child, None) {}
}

/// The child: waits for SIGUSR1, restores the parent's signal state and
/// execs; never returns.
///
/// # Safety
/// Called only in the child of a fork; uses async-signal-safe calls only.
unsafe fn wait_and_exec(
    usr1: &SigSet,
    old_mask: &SigSet,
    old_int: &libc::sigaction,
    old_quit: &libc::sigaction,
    argv: &[*const c_char],
    prefix: &[u8],
) -> ! {
    loop {
        if libc::sigtimedwait(usr1.as_ref(), ptr::null_mut(), ptr::null()) == libc::SIGUSR1 {
            break;
        }
        // The migration interrupts the wait (EINTR): wait again.
        match Errno::last() {
            Errno::EINTR | Errno::EAGAIN => {}
            _ => libc::_exit(127),
        }
    }
    libc::sigaction(libc::SIGINT, old_int, ptr::null_mut());
    libc::sigaction(libc::SIGQUIT, old_quit, ptr::null_mut());
    // As std::process::Command does: Rust programs ignore SIGPIPE, the
    // program must not inherit that.
    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    libc::pthread_sigmask(libc::SIG_SETMASK, old_mask.as_ref(), ptr::null_mut());
    libc::execvp(argv[0], argv.as_ptr());
    let why = Errno::last().desc();
    for part in [prefix, why.as_bytes(), b"\n"] {
        libc::write(2, part.as_ptr().cast(), part.len());
    }
    libc::_exit(127)
}
